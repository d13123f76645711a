/* runtime/kernels/rtk_internal.h: helpers shared by the kernel files (not an API).
 *
 * Freestanding like the kernels: only compiler-provided headers, no libc.
 */
#ifndef SQC_RTK_INTERNAL_H
#define SQC_RTK_INTERNAL_H

#include "kernels.h"

#define RTK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RTK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bytes rounded up to a multiple of 64 (every scratch region starts 64-byte aligned). */
static inline size_t rtk_align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* Output positions per block of the float im2col kernels (rtk_conv_f32 and the float-
 * activation path of rtk_qconv): a block's patches are stored transposed, col[j][p] for
 * tap j < k and position p < RTK_PB, so the micro-kernel's inner loop runs over positions. */
#define RTK_PB 16

/* Fills col [k][RTK_PB] with the patches of the np <= RTK_PB output positions q0.. (row
 * major over oh x ow) of the group whose input channels start at xg; taps outside the
 * input read as 0, and so do the columns p >= np. */
static inline void rtk_im2col_f32(const RtkConv *g, const float *xg, int32_t cg, int32_t q0,
                                  int32_t np, float *col)
{
	int32_t oy[RTK_PB], ox[RTK_PB];
	for (int32_t p = 0; p < RTK_PB; p++) {
		int32_t q = q0 + (p < np ? p : 0);
		oy[p] = (q / g->ow) * g->sh - g->pt;
		ox[p] = (q % g->ow) * g->sw - g->pl;
	}
	int32_t j = 0;
	for (int32_t ci = 0; ci < cg; ci++)
	for (int32_t r = 0; r < g->kh; r++)
	for (int32_t s = 0; s < g->kw; s++, j++) {
		const float *xc = xg + (size_t)ci * g->h * g->w;
		float *cj = col + (size_t)j * RTK_PB;
		for (int32_t p = 0; p < RTK_PB; p++) {
			int32_t iy = oy[p] + r * g->dh, ix = ox[p] + s * g->dw;
			int in = p < np && iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
			cj[p] = in ? xc[iy * g->w + ix] : 0.0f;
		}
	}
}

/* The micro-kernel of the float convolutions: acc[r][p] = sum_j w_r[j] * col[j][p] for the
 * four weight rows w_r (callers repeat a row when fewer remain) and RTK_PB positions; j
 * ascends, one accumulator per (r, p), so every caller gets the same rounding. */
static inline void rtk_mk4(const float *col, int32_t k, const float *w0, const float *w1,
                           const float *w2, const float *w3, float acc[4][RTK_PB])
{
	float a0[RTK_PB], a1[RTK_PB], a2[RTK_PB], a3[RTK_PB];
	for (int32_t p = 0; p < RTK_PB; p++)
		a0[p] = a1[p] = a2[p] = a3[p] = 0.0f;
	for (int32_t j = 0; j < k; j++) {
		const float *cj = col + (size_t)j * RTK_PB;
		float v0 = w0[j], v1 = w1[j], v2 = w2[j], v3 = w3[j];
		for (int32_t p = 0; p < RTK_PB; p++) {
			a0[p] += v0 * cj[p];
			a1[p] += v1 * cj[p];
			a2[p] += v2 * cj[p];
			a3[p] += v3 * cj[p];
		}
	}
	for (int32_t p = 0; p < RTK_PB; p++) {
		acc[0][p] = a0[p];
		acc[1][p] = a1[p];
		acc[2][p] = a2[p];
		acc[3][p] = a3[p];
	}
}

/* Float scratch needed by the im2col kernels: col [k][RTK_PB]. */
static inline size_t rtk_col_bytes(int32_t k)
{
	return rtk_align64((size_t)(k > 0 ? k : 1) * RTK_PB * sizeof(float));
}

#endif
