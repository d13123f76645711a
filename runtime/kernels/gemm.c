/* runtime/kernels/gemm.c: float Gemm of a row block against row-major weights [n][k].
 *
 * Each output is a dot product of two contiguous rows: per input row, four weight rows at
 * a time share the loads of the input row, with vector partial sums over k (AVX2: two
 * ymm per weight row, 16 taps per step; NEON: four q registers per row) reduced at the
 * end (rtk_dot in rtk_internal.h). Batch 1 is a matrix-vector product bound by streaming
 * the weights (one load per FMA).
 */
#include "rtk_internal.h"

void rtk_gemm_f32(const RtkGemm *p, const float *a, const float *w, const float *bias,
                  float *y)
{
	for (int32_t r = 0; r < p->rows; r++) {
		const float *ar = a + (size_t)r * p->k;
		float *yr = y + (size_t)r * p->n;
		for (int32_t n0 = 0; n0 < p->n; n0 += 4) {
			int32_t nn = RTK_MIN(4, p->n - n0);
			float out[4];
			rtk_dot(ar, w + (size_t)n0 * p->k, p->k, p->k, nn, out);
			for (int32_t i = 0; i < nn; i++)
				yr[n0 + i] = rtk_fout(out[i], 0, bias, n0 + i, p->relu);
		}
	}
}
