/* runtime/ref_conv.c: reference convolution (the oracle for rt_conv_fast).
 *
 * Every case runs as a 3-D convolution (RtConvGeom3).
 */
#include "ref_internal.h"

#include <assert.h>
#include <math.h>

void rt_conv_ref(const RtConv *p, const float *x, const float *w, const float *b, float *y)
{
	assert(p->nsp >= 1 && p->nsp <= RT_MAX_SPATIAL);
	RtConvGeom3 g = rt_conv_geom3(p);
	assert(p->group >= 1 && p->c % p->group == 0 && p->m % p->group == 0);
	int64_t cg = p->c / p->group, mg = p->m / p->group;
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];
	int64_t kvol = g.k[0] * g.k[1] * g.k[2];

	for (int64_t n = 0; n < p->n; n++)
	for (int64_t m = 0; m < p->m; m++) {
		int64_t grp = m / mg;
		const float *xg = x + (n * p->c + grp * cg) * invol;
		const float *wm = w + m * cg * kvol;
		float *ym = y + (n * p->m + m) * outvol;
		for (int64_t o0 = 0; o0 < g.out[0]; o0++)
		for (int64_t o1 = 0; o1 < g.out[1]; o1++)
		for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
			float acc = b ? b[m] : 0.0f;
			for (int64_t ci = 0; ci < cg; ci++)
			for (int64_t k0 = 0; k0 < g.k[0]; k0++) {
				int64_t i0 = o0 * g.stride[0] - g.pad[0] + k0 * g.dil[0];
				if (i0 < 0 || i0 >= g.in[0])
					continue;
				for (int64_t k1 = 0; k1 < g.k[1]; k1++) {
					int64_t i1 = o1 * g.stride[1] - g.pad[1] + k1 * g.dil[1];
					if (i1 < 0 || i1 >= g.in[1])
						continue;
					for (int64_t k2 = 0; k2 < g.k[2]; k2++) {
						int64_t i2 = o2 * g.stride[2] - g.pad[2] + k2 * g.dil[2];
						if (i2 < 0 || i2 >= g.in[2])
							continue;
						float xv = xg[ci * invol + (i0 * g.in[1] + i1) * g.in[2] + i2];
						float wv = wm[ci * kvol + (k0 * g.k[1] + k1) * g.k[2] + k2];
						acc += xv * wv;
					}
				}
			}
			ym[(o0 * g.out[1] + o1) * g.out[2] + o2] = acc;
		}
	}
}

/* BatchNormalization in inference mode: per channel y = scale*(x-mean)/sqrt(var+eps)+bias. */
void rt_batchnorm_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                      const float *scale, const float *bias, const float *mean,
                      const float *var, float eps, float *y)
{
	for (int64_t i = 0; i < n; i++)
	for (int64_t ch = 0; ch < c; ch++) {
		float sd = sqrtf(var[ch] + eps);
		const float *xs = x + (i * c + ch) * spatial;
		float *ys = y + (i * c + ch) * spatial;
		for (int64_t s = 0; s < spatial; s++)
			ys[s] = scale[ch] * (xs[s] - mean[ch]) / sd + bias[ch];
	}
}
