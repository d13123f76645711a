/* runtime/kernels/gemm.c: float Gemm of a row block against row-major weights [n][k].
 *
 * Each output is a dot product of two contiguous rows; four weight rows share one pass
 * over an input row, eight partial sums per dot (lane l takes the terms j = l mod 8) that
 * are added pairwise at the end, a fixed order whatever the vector width.
 */
#include "rtk_internal.h"

/* out[r] = sum_j a[j] * w_r[j] for the four rows w_r. */
static inline void dot4(const float *a, const float *w0, const float *w1, const float *w2,
                        const float *w3, int32_t k, float out[4])
{
	float s0[8], s1[8], s2[8], s3[8];
	for (int32_t l = 0; l < 8; l++)
		s0[l] = s1[l] = s2[l] = s3[l] = 0.0f;
	int32_t j = 0;
	for (; j + 8 <= k; j += 8)
		for (int32_t l = 0; l < 8; l++) {
			float v = a[j + l];
			s0[l] += v * w0[j + l];
			s1[l] += v * w1[j + l];
			s2[l] += v * w2[j + l];
			s3[l] += v * w3[j + l];
		}
	for (int32_t l = 0; j < k; j++, l++) {
		float v = a[j];
		s0[l] += v * w0[j];
		s1[l] += v * w1[j];
		s2[l] += v * w2[j];
		s3[l] += v * w3[j];
	}
	float *s[4] = {s0, s1, s2, s3};
	for (int32_t r = 0; r < 4; r++)
		out[r] = ((s[r][0] + s[r][4]) + (s[r][1] + s[r][5])) +
		         ((s[r][2] + s[r][6]) + (s[r][3] + s[r][7]));
}

void rtk_gemm_f32(const RtkGemm *p, const float *a, const float *w, const float *bias,
                  float *y)
{
	for (int32_t r = 0; r < p->rows; r++) {
		const float *ar = a + (size_t)r * p->k;
		float *yr = y + (size_t)r * p->n;
		for (int32_t n0 = 0; n0 < p->n; n0 += 4) {
			int32_t nn = RTK_MIN(4, p->n - n0);
			const float *wr[4];
			for (int32_t i = 0; i < 4; i++)
				wr[i] = w + (size_t)(n0 + (i < nn ? i : 0)) * p->k;
			float out[4];
			dot4(ar, wr[0], wr[1], wr[2], wr[3], p->k, out);
			for (int32_t i = 0; i < nn; i++) {
				float v = out[i] + (bias ? bias[n0 + i] : 0.0f);
				yr[n0 + i] = p->relu && v < 0.0f ? 0.0f : v;
			}
		}
	}
}
