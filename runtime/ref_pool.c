/* runtime/ref_pool.c: reference MaxPool, AveragePool and the global pools.
 *
 * Like ref_conv.c, every pool runs as a 3-D one: missing trailing spatial dims get size 1,
 * kernel 1, stride 1, dilation 1 and no padding.
 */
#include "rt.h"
#include "ref_internal.h"

#include <assert.h>
#include <float.h>

/* MaxPool. Ties keep the first tap in row-major window order; a window with no tap inside
 * the input (possible only with dilation) yields -FLT_MAX and index -1, as onnxruntime.
 * Indices: offset of the (n, c) plane in row-major order plus the spatial position in
 * row-major (storage_order 0) or column-major (1, first spatial dim fastest) order, which is
 * what the ONNX reference and onnxruntime compute. */
void rt_maxpool_ref(const RtPool *p, const float *x, float *y, int64_t *indices)
{
	RtPoolGeom3 g = rt_pool_geom3(p);
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];

	for (int64_t nc = 0; nc < p->n * p->c; nc++) {
		const float *xp = x + nc * invol;
		for (int64_t o0 = 0; o0 < g.out[0]; o0++)
		for (int64_t o1 = 0; o1 < g.out[1]; o1++)
		for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
			float best = -FLT_MAX;
			int64_t b0 = -1, b1 = -1, b2 = -1;
			int64_t a0, e0, a1, e1, a2, e2; /* the taps inside the input */
			rt_pool_trange(&g, 0, o0, 0, g.in[0], &a0, &e0);
			rt_pool_trange(&g, 1, o1, 0, g.in[1], &a1, &e1);
			rt_pool_trange(&g, 2, o2, 0, g.in[2], &a2, &e2);
			for (int64_t k0 = a0; k0 < e0; k0++) {
				int64_t i0 = rt_pool_tap(&g, 0, o0, k0);
				for (int64_t k1 = a1; k1 < e1; k1++) {
					int64_t i1 = rt_pool_tap(&g, 1, o1, k1);
					for (int64_t k2 = a2; k2 < e2; k2++) {
						int64_t i2 = rt_pool_tap(&g, 2, o2, k2);
						float v = xp[(i0 * g.in[1] + i1) * g.in[2] + i2];
						if (b0 < 0 || v > best) {
							best = v;
							b0 = i0;
							b1 = i1;
							b2 = i2;
						}
					}
				}
			}
			int64_t oi = nc * outvol + (o0 * g.out[1] + o1) * g.out[2] + o2;
			y[oi] = best;
			if (!indices)
				continue;
			if (b0 < 0)
				indices[oi] = -1;
			else if (p->storage_order == 0)
				indices[oi] = nc * invol + (b0 * g.in[1] + b1) * g.in[2] + b2;
			else
				indices[oi] = nc * invol + b0 + b1 * g.in[0] + b2 * g.in[0] * g.in[1];
		}
	}
}

/* AveragePool. The sum runs over the taps inside the input. The divisor counts the taps
 * inside the input (count_include_pad 0) or inside the padded extent [-pad_begin,
 * in + pad_end) (count_include_pad 1): with ceil_mode a last window may reach past the
 * padded extent, and those taps are not counted. A window with no tap counted yields 0. */
void rt_avgpool_ref(const RtPool *p, const float *x, float *y)
{
	RtPoolGeom3 g = rt_pool_geom3(p);
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];

	for (int64_t nc = 0; nc < p->n * p->c; nc++) {
		const float *xp = x + nc * invol;
		for (int64_t o0 = 0; o0 < g.out[0]; o0++)
		for (int64_t o1 = 0; o1 < g.out[1]; o1++)
		for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
			int64_t o[3] = {o0, o1, o2};
			float sum = 0.0f;
			int64_t a0, e0, a1, e1, a2, e2; /* the taps inside the input */
			rt_pool_trange(&g, 0, o0, 0, g.in[0], &a0, &e0);
			rt_pool_trange(&g, 1, o1, 0, g.in[1], &a1, &e1);
			rt_pool_trange(&g, 2, o2, 0, g.in[2], &a2, &e2);
			for (int64_t k0 = a0; k0 < e0; k0++) {
				int64_t i0 = rt_pool_tap(&g, 0, o0, k0);
				for (int64_t k1 = a1; k1 < e1; k1++) {
					int64_t i1 = rt_pool_tap(&g, 1, o1, k1);
					for (int64_t k2 = a2; k2 < e2; k2++) {
						int64_t i2 = rt_pool_tap(&g, 2, o2, k2);
						sum += xp[(i0 * g.in[1] + i1) * g.in[2] + i2];
					}
				}
			}
			/* The window is a box, so its tap count is a product over dims. */
			int64_t cnt = 1;
			for (int d = 0; d < 3; d++) {
				if (p->count_include_pad)
					cnt *= rt_pool_taps_in(&g, d, o[d], -g.pb[d], g.in[d] + g.pe[d]);
				else
					cnt *= rt_pool_taps_in(&g, d, o[d], 0, g.in[d]);
			}
			y[nc * outvol + (o0 * g.out[1] + o1) * g.out[2] + o2] =
				cnt > 0 ? sum / (float)cnt : 0.0f;
		}
	}
}

void rt_global_pool_ref(int is_max, int64_t n, int64_t c, int64_t spatial, const float *x,
                        float *y)
{
	for (int64_t nc = 0; nc < n * c; nc++) {
		const float *xp = x + nc * spatial;
		if (is_max) {
			float best = -FLT_MAX;
			for (int64_t s = 0; s < spatial; s++)
				if (s == 0 || xp[s] > best)
					best = xp[s];
			y[nc] = best;
		} else {
			double sum = 0;
			for (int64_t s = 0; s < spatial; s++)
				sum += xp[s];
			y[nc] = spatial > 0 ? (float)(sum / (double)spatial) : 0.0f;
		}
	}
}
