/* passes/target.c: what the passes know about each native target, one record per target
 * (as QBE's Target and ggml's type traits): today pack's kernel cost rule. The backend's
 * record of the same target (LLVM target, kernel bitcode, CPUs) is backend/<target>/. */
#include "passes.h"

#include <string.h>

/* The rules come from timing the kernels on one thread, specialized as generated code
 * (bench/kernels_speed.sh [LEVEL=avx512], bench/README.md; AArch64 from llvm-mca
 * -mcpu=neoverse-n1). rtk_bconv's time grows with the activation planes, by about 1.15-1.25
 * for ternary weights (select) and with the unused bits of part-filled 64-channel words;
 * rtk_iconv's does not depend on the widths. Gemm-like layers (np <= 4) are bit-serial:
 * iconv's lanes are output positions, there are too few of them. */
static double bs_units(int wbits, int abits, int64_t cg, double ternary, double perfill)
{
	double fill = cg > 0 ? 64.0 * (double)((cg + 63) / 64) / (double)cg : 64.0;
	return abits * (wbits == 1 ? 1.0 : ternary) * (1.0 + perfill * (fill - 1.0));
}

/* x86-64-v3 (AVX2): bench/kernels_speed.sh 3 on the VGG 3x3 layers of 64 and 128 channels:
 * bit-serial W1A2 and W2A2 beat iconv (1.0-1.9x), W2A3 and W1A4 lose; at 32 channels
 * iconv beats W1A2; at 6 (LeNet c2) and 3 channels (a first layer) iconv wins everything;
 * 1x1 convolutions of 64 channels: iconv beats W1A2. */
static SqcKernel qkernel_x86_64(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	double units = bs_units(wbits, abits, cg, 1.25, 1.0);
	return units <= (k == cg ? 1.5 : 2.5) ? SQK_BITSERIAL : SQK_INT8;
}

/* x86-64 with AVX-512 VPOPCNTDQ and VNNI (the avx512 level): rtk_bconv counts 8 channels'
 * words per vpopcntq (ternary: one vpternlogq more, about 1.1x), rtk_iconv does 64 multiply-adds per
 * vpdpbusd. LEVEL=avx512 bench/kernels_speed.sh 3: on the VGG 3x3 layers of 64 and 128
 * channels W2A4 ties with iconv (faster at 7x7, slower at 28x28), W2A8 loses 1.5-2x; at
 * 32 channels W2A2 wins (1.5x) and W2A4 loses; at 6 channels W1A1 ties; 1x1 layers of 64
 * channels: iconv beats W2A4. */
static SqcKernel qkernel_x86_64_avx512(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	double units = bs_units(wbits, abits, cg, 1.1, 0.75);
	return units <= (k == cg ? 2.5 : 4.0) ? SQK_BITSERIAL : SQK_INT8;
}

/* AArch64, from llvm-mca-19 on the generated inner loops (bench/mca_kernels.sh, VGG 3x3
 * 64 channels, neoverse-n1 and cortex-a72 agree): rtk_bconv W1A1 79 MAC/cycle, W1A2 39,
 * W2A2 30 (ternary: 1.3x a binary plane); rtk_iconv with SMLAL (armv8-a) 8, with SDOT
 * (armv8.2-a+dotprod) 32. Bit-serial while 79 / units beats that; fill counted as on x86
 * (not measured here). */
static SqcKernel qkernel_aarch64(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	(void)k;
	if (np <= 4)
		return SQK_BITSERIAL;
	return bs_units(wbits, abits, cg, 1.3, 1.0) <= 8.0 ? SQK_BITSERIAL : SQK_INT8;
}

static SqcKernel qkernel_aarch64_dotprod(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	(void)k;
	if (np <= 4)
		return SQK_BITSERIAL;
	return bs_units(wbits, abits, cg, 1.3, 1.0) <= 2.4 ? SQK_BITSERIAL : SQK_INT8;
}

/* One record per target and kernel level (backend/<target>/target.c), the default level
 * first. */
static const PassTarget targets[] = {
	{"x86_64-linux-gnu", "x86-64-v3", qkernel_x86_64},
	/* avxvnni (x86-64-v3 + AVX-VNNI): rtk_bconv as at x86-64-v3, rtk_iconv with vpdpbusd
	 * on ymm; LEVEL=avxvnni bench/kernels_speed.sh 3 on this machine (Zen 5) gives rtk_iconv
	 * about the speed of the x86-64-v3 one, so the rule is x86-64-v3's (not measured on the
	 * Intel cores this level is for) */
	{"x86_64-linux-gnu", "avxvnni", qkernel_x86_64},
	{"x86_64-linux-gnu", "avx512", qkernel_x86_64_avx512},
	{"aarch64-linux-gnu", "armv8-a", qkernel_aarch64},
	{"aarch64-linux-gnu", "armv8.2-a+dotprod", qkernel_aarch64_dotprod},
};

const PassTarget *pass_target_find(const char *triple, const char *level)
{
	if (!triple)
		triple = targets[0].triple;
	for (size_t i = 0; i < countof(targets); i++)
		if (!strcmp(triple, targets[i].triple) && (!level || !strcmp(level, targets[i].level)))
			return &targets[i];
	return NULL;
}
