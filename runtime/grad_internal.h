/* runtime/grad_internal.h: helpers shared by the fast training kernels (runtime/grad_*.c):
 * how the elementwise, pooling, BatchNormalization and quantizer kernels block their loops,
 * split their work and pick their instruction set, and the activation quantizer's per
 * element arithmetic, which grad_actq.c and its fusions into grad_pool.c and grad_bn.c
 * must share to agree bit for bit. Private to runtime/; not part of the grad.h API.
 */
#ifndef SQC_GRAD_INTERNAL_H
#define SQC_GRAD_INTERNAL_H

#include "fast.h"

#include <stdint.h>
#include <string.h>

/* p[0, n) = 0; a NULL p (an output not needed) is skipped. */
static inline void grad_zero(float *p, int64_t n)
{
	if (p && n > 0)
		memset(p, 0, (size_t)n * sizeof *p);
}

/* ---- Blocks, work items and instruction sets ----------------------------------------------
 * Loops run in blocks of EW_BLK elements with a constant-length inner loop (which the
 * compiler vectorizes even at -O2), then a scalar tail. Work goes to the pool in chunks
 * (RtSplit); each output element's arithmetic does not depend on the chunking. */

#define EW_BLK 16

/* A task in two builds of the same C: the baseline ISA, and AVX2 (wider vectors for the
 * same lane structure; no FMA, so the arithmetic and its rounding are the same: the results
 * are bit for bit those of the baseline build), chosen by rt_isa_get(). */
#define ISA_TASK(name, body)                                                            \
	static void name##_generic(void *ctx, int tid, int nth)                         \
	{                                                                               \
		(void)tid;                                                              \
		(void)nth;                                                              \
		body(ctx);                                                              \
	}                                                                               \
	__attribute__((target("avx2"))) static void name##_avx2(void *ctx, int tid,   \
	                                                        int nth)              \
	{                                                                               \
		(void)tid;                                                              \
		(void)nth;                                                              \
		body(ctx);                                                              \
	}                                                                               \
	static RtTaskFn *name##_pick(void)                                              \
	{                                                                               \
		return rt_isa_get() >= RT_ISA_AVX2 ? name##_avx2 : name##_generic;      \
	}
#define EW_CHUNK ((int64_t)1 << 14) /* elements per work item of the flat kernels */
#define EW_PAR_MIN ((int64_t)1 << 15) /* below this many elements: one task */

static inline int ew_tasks(int64_t work, int64_t units)
{
	if (work < EW_PAR_MIN || units <= 1)
		return 1;
	return units < 64 ? (int)units : 64;
}

#define BN_L 8 /* accumulator lanes of the per-channel (plane, part) sums */

/* ---- The activation quantizer's element -------------------------------------------------
 * Its forward and backward arithmetic per element, used by rt_act_quant_fast and
 * rt_act_quant_backward_fast (grad_actq.c) and by their fusions into the producer's kernel
 * (grad_pool.c, grad_bn.c), which must give the same results bit for bit. */

/* 1.5 * 2^23: (v + m) - m rounds |v| <= 2^22 half to even, as rt_act_quant_ref's */
#define AQ_MAGIC 12582912.0f

/* rt_act_quant_fast's element (aq_run): s * rne(clamp(v * inv, lo, hi)), NaN -> lo */
static inline __attribute__((always_inline)) float aq_one(float v, float inv, float lo, float hi, float st)
{
	float m = v * inv;
	m = m >= lo ? m : lo;
	m = m <= hi ? m : hi;
	return st * ((m + AQ_MAGIC) - AQ_MAGIC);
}

/* The effective output gradient of one block of BN_L elements, gm: gs itself, masked by
 * relu (ms > 0) and/or by the activation quantizer's STE (lo < ms*inv < hi, ms its input;
 * NaN: 0); with the quantizer and ds != NULL, also adds gs*d to ds, d the factor of its
 * step-size gradient (rt_act_quant_backward_fast's per element terms). Constant-length
 * loops: vectorized. */
static inline __attribute__((always_inline)) void grad_mask_blk(const float *restrict ms, const float *restrict gs,
                                                              float *restrict gm, int relu, int aq,
                                                              float inv, float lo, float hi,
                                                              double *restrict ds)
{
	if (aq) {
		float vv[BN_L], rr[BN_L], d[BN_L];
		for (int l = 0; l < BN_L; l++) {
			vv[l] = ms[l] * inv;
			rr[l] = ((vv[l] + AQ_MAGIC) - AQ_MAGIC) - vv[l];
		}
		for (int l = 0; l < BN_L; l++) {
			const float v = vv[l];
			const float a = v >= hi ? hi : rr[l];
			const float gin = v < hi ? gs[l] : 0.0f;
			const float g = v > lo ? gin : 0.0f;
			gm[l] = relu ? (ms[l] > 0 ? g : 0.0f) : g;
			d[l] = v > lo ? a : lo;
		}
		if (ds)
			for (int l = 0; l < BN_L; l++)
				ds[l] += (double)gs[l] * (double)d[l];
		return;
	}
	for (int l = 0; l < BN_L; l++) {
		const float g = gs[l]; /* loaded unconditionally: the select vectorizes */
		gm[l] = relu ? (ms[l] > 0 ? g : 0.0f) : g;
	}
}

/* grad_mask_blk for one element (the tails), ds term into *ds */
static inline __attribute__((always_inline)) float grad_mask_one(float m, float g, int relu, int aq, float inv,
                                                               float lo, float hi, double *ds)
{
	if (aq) {
		const float v = m * inv;
		const float r = ((v + AQ_MAGIC) - AQ_MAGIC) - v;
		const float a = v >= hi ? hi : r;
		const float gin = v < hi ? g : 0.0f;
		const float o = v > lo ? gin : 0.0f;
		if (ds)
			*ds += (double)g * (double)(v > lo ? a : lo);
		return relu ? (m > 0 ? o : 0.0f) : o;
	}
	return relu ? (m > 0 ? g : 0.0f) : g;
}

/* The BN_L lanes of a sum, added in order. */
static inline __attribute__((always_inline)) double lanes_sum(const double *a)
{
	double s = 0;
	for (int l = 0; l < BN_L; l++)
		s += a[l];
	return s;
}

#endif
