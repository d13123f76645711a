/* runtime/kernels/pool.c: MaxPool / AveragePool of one sample, and the global pools.
 *
 * Semantics of rt_maxpool_ref / rt_avgpool_ref: a max takes the first tap inside the input
 * and then any greater one (a window without taps gives -FLT_MAX); an average sums the taps
 * inside the input in row-major window order and divides by the count of taps inside the
 * input, or inside the padded extent with count_include_pad (0 when the count is 0).
 */
#include "rtk_internal.h"

#include <float.h>

/* Taps t < k of output o whose coordinate o*s - pb + t*d lies in [lo, hi). */
static inline int32_t taps_in(int32_t o, int32_t k, int32_t s, int32_t d, int32_t pb,
                              int32_t lo, int32_t hi)
{
	int32_t c = 0;
	for (int32_t t = 0; t < k; t++) {
		int32_t i = o * s - pb + t * d;
		c += i >= lo && i < hi;
	}
	return c;
}

void rtk_pool(const RtkPool *p, const float *x, float *y)
{
	for (int32_t ch = 0; ch < p->c; ch++) {
		const float *xc = x + (size_t)ch * p->h * p->w;
		float *yc = y + (size_t)ch * p->oh * p->ow;
		for (int32_t oy = 0; oy < p->oh; oy++) {
			int32_t y0 = oy * p->sh - p->pt;
			int32_t cy = p->is_max ? 0
			           : p->count_include_pad ? taps_in(oy, p->kh, p->sh, p->dh, p->pt, -p->pt, p->h + p->pb)
			                                  : taps_in(oy, p->kh, p->sh, p->dh, p->pt, 0, p->h);
			for (int32_t ox = 0; ox < p->ow; ox++) {
				int32_t x0 = ox * p->sw - p->pl;
				float acc = p->is_max ? -FLT_MAX : 0.0f;
				int any = 0;
				for (int32_t r = 0; r < p->kh; r++) {
					int32_t iy = y0 + r * p->dh;
					if (iy < 0 || iy >= p->h)
						continue;
					for (int32_t s = 0; s < p->kw; s++) {
						int32_t ix = x0 + s * p->dw;
						if (ix < 0 || ix >= p->w)
							continue;
						float v = xc[iy * p->w + ix];
						if (!p->is_max)
							acc += v;
						else if (!any || v > acc)
							acc = v;
						any = 1;
					}
				}
				if (!p->is_max) {
					int32_t cx = p->count_include_pad
					           ? taps_in(ox, p->kw, p->sw, p->dw, p->pl, -p->pl, p->w + p->pr)
					           : taps_in(ox, p->kw, p->sw, p->dw, p->pl, 0, p->w);
					int32_t cnt = cy * cx;
					acc = cnt > 0 ? acc / (float)cnt : 0.0f;
				}
				yc[oy * p->ow + ox] = acc;
			}
		}
	}
}

/* Average: a double sum (as the reference), one rounding at the end. */
void rtk_global_pool(int32_t is_max, int32_t c, int32_t hw, const float *x, float *y)
{
	for (int32_t ch = 0; ch < c; ch++) {
		const float *xc = x + (size_t)ch * hw;
		if (is_max) {
			float best = -FLT_MAX;
			for (int32_t i = 0; i < hw; i++)
				if (i == 0 || xc[i] > best)
					best = xc[i];
			y[ch] = best;
		} else {
			double s = 0;
			for (int32_t i = 0; i < hw; i++)
				s += xc[i];
			y[ch] = hw > 0 ? (float)(s / (double)hw) : 0.0f;
		}
	}
}
