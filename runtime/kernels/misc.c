/* runtime/kernels/misc.c: the float graph ops beyond the layers: Sigmoid, Tanh,
 * HardSigmoid, PRelu, and data movement by index maps (Transpose, Pad).
 * Declarations in kernels.h ("misc.c"). */
#include "kernels.h"

void rtk_sigmoid(const float *x, float *y, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		y[i] = 1.0f / (1.0f + rtk_expf(-x[i]));
}

/* tanh |x| = (1 - e) / (1 + e), e = exp(-2|x|); below 0.01 the series x - x^3/3, whose
 * next term is below 1e-9 relative. */
void rtk_tanh(const float *x, float *y, int32_t n)
{
	for (int32_t i = 0; i < n; i++) {
		float a = x[i] < 0 ? -x[i] : x[i], t;
		if (a < 0.01f) {
			t = a - a * a * a * (1.0f / 3.0f);
		} else {
			float e = rtk_expf(-2.0f * a);
			t = (1.0f - e) / (1.0f + e);
		}
		y[i] = x[i] < 0 ? -t : (x[i] != x[i] ? x[i] : t);
	}
}

void rtk_hardsigmoid(const float *x, float *y, int32_t n, float alpha, float beta)
{
	for (int32_t i = 0; i < n; i++) {
		float v = alpha * x[i] + beta;
		v = v > 0.0f ? v : 0.0f;
		y[i] = v < 1.0f ? v : 1.0f;
	}
}

/* PRelu: y = x < 0 ? slope * x : x, slope broadcast with p->sb (p->sa reads x). */
void rtk_prelu(const RtkBinary *p, const float *x, const float *slope, float *y)
{
	int32_t idx[6] = {0}, r = p->rank;
	int64_t n = 1;
	for (int32_t d = 0; d < r; d++)
		n *= p->dims[d];
	for (int64_t i = 0; i < n; i++) {
		int64_t ia = 0, ib = 0;
		for (int32_t d = 0; d < r; d++) {
			ia += (int64_t)idx[d] * p->sa[d];
			ib += (int64_t)idx[d] * p->sb[d];
		}
		float v = x[ia];
		y[i] = v < 0.0f ? slope[ib] * v : v;
		for (int32_t d = r - 1; d >= 0; d--) {
			if (++idx[d] < p->dims[d])
				break;
			idx[d] = 0;
		}
	}
}

void rtk_remap(const RtkRemap *p, const int32_t *maps, const float *x, float *y, float value)
{
	int32_t idx[6] = {0}, r = p->rank;
	int64_t n = 1;
	for (int32_t d = 0; d < r; d++)
		n *= p->dims[d];
	for (int64_t i = 0; i < n; i++) {
		int64_t src = 0;
		int inside = 1;
		for (int32_t d = 0; d < r; d++) {
			int32_t m = maps[p->map_off[d] + idx[d]];
			inside &= m >= 0;
			src += (int64_t)m * p->strides[d];
		}
		y[i] = inside ? x[src] : value;
		for (int32_t d = r - 1; d >= 0; d--) {
			if (++idx[d] < p->dims[d])
				break;
			idx[d] = 0;
		}
	}
}
