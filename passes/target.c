/* passes/target.c: what the passes know about each native target, one record per target
 * (as QBE's Target and ggml's type traits): today pack's kernel cost rule. The backend's
 * record of the same target (LLVM target, kernel bitcode, CPUs) is backend/<target>/. */
#include "passes.h"

#include <string.h>

/* The rules come from timing both kernels on one thread (bench/kernels_speed.c,
 * bench/README.md; AArch64 from llvm-mca -mcpu=neoverse-n1). On every target the int8
 * kernel unpacks the codes on every call, which costs more than it saves for Gemm-like
 * layers (np <= 4: bit-serial is 3-15x faster than float there). */

/* x86-64: for convolutions AVX2's vpmaddubsw beats bit-serial at 2..8 activation bits
 * (2.6-3x float vs 1-1.4x); bit-serial keeps 1-bit activations on long rows. */
static SqcKernel qkernel_x86_64(int wbits, int abits, int64_t k, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	if (abits == 1 && k >= 1024 && np <= 64)
		return SQK_BITSERIAL;
	return SQK_INT8;
}

/* AArch64: plain armv8-a NEON (no SDOT) does 8 byte MACs per cycle, so bit-serial wins
 * except for 2-bit weights with 5..8-bit activations. */
static SqcKernel qkernel_aarch64(int wbits, int abits, int64_t k, int64_t np)
{
	if (np <= 4)
		return SQK_BITSERIAL;
	return wbits == 2 && abits >= 5 ? SQK_INT8 : SQK_BITSERIAL;
}

static const PassTarget targets[] = {
	{"x86_64-linux-gnu", qkernel_x86_64},
	{"aarch64-linux-gnu", qkernel_aarch64},
};

const PassTarget *pass_target_find(const char *triple)
{
	if (!triple)
		return &targets[0];
	for (size_t i = 0; i < countof(targets); i++)
		if (!strcmp(triple, targets[i].triple))
			return &targets[i];
	return NULL;
}
