/* runtime/kernels/gemm.c: float Gemm of a row block against row-major weights [n][k].
 *
 * Each output is a dot product of two contiguous rows: per input row, four weight rows at
 * a time share the loads of the input row, with vector partial sums over k (AVX2: two
 * ymm per weight row, 16 taps per step; NEON: four q registers per row) reduced at the
 * end (rtk_dot in rtk_internal.h). Batch 1 is a matrix-vector product bound by streaming
 * the weights (one load per FMA). Work units for threads: (row, block of 4 outputs).
 */
#include "rtk_internal.h"

int64_t rtk_gemm_f32_units(const RtkGemm *p)
{
	return (int64_t)p->rows * ((p->n + 3) / 4);
}

void rtk_gemm_f32_part(const RtkGemm *p, const float *a, const float *w, const float *bias,
                       float *y, int64_t lo, int64_t hi)
{
	const int32_t nb = (p->n + 3) / 4;
	for (int64_t u = lo; u < hi; u++) {
		const int32_t r = (int32_t)(u / nb), n0 = (int32_t)(u % nb) * 4;
		const float *ar = a + (size_t)r * p->k;
		float *yr = y + (size_t)r * p->n;
		int32_t nn = RTK_MIN(4, p->n - n0);
		float out[4];
		rtk_dot(ar, w + (size_t)n0 * p->k, p->k, p->k, nn, out);
		for (int32_t i = 0; i < nn; i++)
			yr[n0 + i] = rtk_fout(out[i], 0, bias, n0 + i, p->relu, 0.0f);
	}
}

void rtk_gemm_f32(const RtkGemm *p, const float *a, const float *w, const float *bias,
                  float *y)
{
	rtk_gemm_f32_part(p, a, w, bias, y, 0, rtk_gemm_f32_units(p));
}
