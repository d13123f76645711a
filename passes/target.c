/* passes/target.c: what the passes know about each native target, one record per target
 * (as QBE's Target and ggml's type traits): today pack's kernel cost rule. The backend's
 * record of the same target (LLVM target, kernel bitcode, CPUs) is backend/<target>/. */
#include "passes.h"

#include <string.h>

/* The rules come from timing both kernels on one thread (bench/kernels_speed.sh,
 * bench/README.md; AArch64 from llvm-mca -mcpu=neoverse-n1). The int8 kernel unpacks the
 * weights on every call, which costs more than it saves for Gemm-like layers (np <= 4:
 * bit-serial is 3-30x faster than float there). */

/* x86-64: rtk_bconv's time grows with the activation planes, by about 1.25 for ternary
 * weights (select) and with the unused bits of part-filled 64-channel words; int8's time
 * does not depend on the widths. bench/kernels_speed.sh 3 on the VGG 3x3 layers (64 and 128
 * channels): bit-serial W1A1..A3 and W2A2 beat int8 (W1A2 1.5-2.8x, W2A2 1.2-2x), W1A4
 * and W2A3 tie or lose; at 32 channels W1A2 still wins and W2A2 ties; at 6 channels (LeNet
 * c2) int8 wins even W1A1. 1x1 convolutions (short rows): bit-serial wins up to W2A4. */
static SqcKernel qkernel_x86_64(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	double fill = cg > 0 ? 64.0 * (double)((cg + 63) / 64) / (double)cg : 64.0;
	double units = abits * (wbits == 1 ? 1.0 : 1.25) * (1.0 + 0.25 * (fill - 1.0));
	return units <= (k == cg ? 6.0 : 3.2) ? SQK_BITSERIAL : SQK_INT8;
}

/* x86-64 with AVX-512 VPOPCNTDQ and VNNI (the avx512 level): rtk_bconv counts 8 channels'
 * words per vpopcntq (ternary: one vpternlogq more), so its time per plane is a fraction
 * of x86-64-v3's while the int8 kernel (vpdpbusd) gains less. LEVEL=avx512
 * bench/kernels_speed.sh 3: on the VGG 3x3 layers of 64 and 128 channels bit-serial beats
 * int8 even at W2A8 (1.5-2.6x) and W1A8; at 32 channels W2A8 ties; at 6 channels (LeNet c2)
 * W1A1 wins (2.3x) and W2A2 loses a little; at 3 channels int8 wins even W1A1 (the packing
 * of 3-channel pixels costs more than the counting). 1x1 64 channels: bit-serial 2.4x at
 * W2A8. */
static SqcKernel qkernel_x86_64_avx512(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	double fill = cg > 0 ? 64.0 * (double)((cg + 63) / 64) / (double)cg : 64.0;
	double units = abits * (wbits == 1 ? 1.0 : 1.15) * (1.0 + 0.75 * (fill - 1.0));
	return units <= (k == cg ? 20.0 : 12.0) ? SQK_BITSERIAL : SQK_INT8;
}

/* AArch64: plain armv8-a NEON (no SDOT) does 8 byte MACs per cycle, so bit-serial wins
 * except for 2-bit weights with 5..8-bit activations. (Not re-measured for rtk_bconv,
 * which replaced the bit-serial kernel: llvm-mca only, no AArch64 machine here.) */
static SqcKernel qkernel_aarch64(int wbits, int abits, int64_t k, int64_t cg, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	return wbits == 2 && abits >= 5 ? SQK_INT8 : SQK_BITSERIAL;
}

/* One record per target and kernel level (backend/<target>/target.c), the default level
 * first. */
static const PassTarget targets[] = {
	{"x86_64-linux-gnu", "x86-64-v3", qkernel_x86_64},
	{"x86_64-linux-gnu", "avx512", qkernel_x86_64_avx512},
	{"aarch64-linux-gnu", "armv8-a", qkernel_aarch64},
	{"aarch64-linux-gnu", "armv8.2-a+dotprod", qkernel_aarch64},
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
