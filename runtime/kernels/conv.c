/* runtime/kernels/conv.c: float convolution (layers kept in float).
 *
 * Per group and block of RTK_PB output positions: im2col into scratch (col [k][RTK_PB]),
 * then the 4-channel micro-kernel rtk_mk4 against the weight rows, which are already
 * contiguous ([m][k]). Scratch: rtk_col_bytes(k).
 */
#include "rtk_internal.h"

size_t rtk_conv_f32_scratch(const RtkConv *p)
{
	return rtk_col_bytes(p->c / p->group * p->kh * p->kw);
}

void rtk_conv_f32(const RtkConv *p, const float *x, const float *w, const float *bias,
                  float *y, void *scratch)
{
	int32_t cg = p->c / p->group, mg = p->m / p->group;
	int32_t k = cg * p->kh * p->kw, npos = p->oh * p->ow;
	float *col = scratch;
	float acc[4][RTK_PB];

	for (int32_t grp = 0; grp < p->group; grp++) {
		const float *xg = x + (size_t)grp * cg * p->h * p->w;
		for (int32_t q0 = 0; q0 < npos; q0 += RTK_PB) {
			int32_t np = RTK_MIN(RTK_PB, npos - q0);
			rtk_im2col_f32(p, xg, cg, q0, np, col);
			for (int32_t m0 = grp * mg; m0 < (grp + 1) * mg; m0 += 4) {
				int32_t nm = RTK_MIN(4, (grp + 1) * mg - m0);
				const float *wr[4];
				for (int32_t r = 0; r < 4; r++)
					wr[r] = w + (size_t)(m0 + (r < nm ? r : 0)) * k;
				rtk_mk4(col, k, wr[0], wr[1], wr[2], wr[3], acc);
				for (int32_t r = 0; r < nm; r++) {
					float b = bias ? bias[m0 + r] : 0.0f;
					float *ym = y + (size_t)(m0 + r) * npos + q0;
					for (int32_t q = 0; q < np; q++) {
						float v = acc[r][q] + b;
						ym[q] = p->relu && v < 0.0f ? 0.0f : v;
					}
				}
			}
		}
	}
}
