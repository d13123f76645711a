/* runtime/kernels/pool.c: MaxPool / AveragePool of one sample, and the global pools.
 *
 * Semantics of rt_maxpool_ref / rt_avgpool_ref: a max takes the first tap inside the input
 * and then any greater one (a window without taps gives -FLT_MAX); an average sums the taps
 * inside the input in row-major window order and divides by the count of taps inside the
 * input, or inside the padded extent with count_include_pad (0 when the count is 0).
 */
#include "rtk_internal.h"

#include <float.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

/* ceil(a / b) for b > 0 and any a. */
static inline int32_t ceil_div(int32_t a, int32_t b)
{
	return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* The taps [*t0, *t1) (t < k) of output o whose coordinate o*s - pb + t*d lies in [lo, hi),
 * in closed form (a window far wider than the input costs nothing per padded tap). The
 * backend checks that every coordinate fits in int32. */
static inline void trange(int32_t o, int32_t k, int32_t s, int32_t d, int32_t pb, int32_t lo,
                          int32_t hi, int32_t *t0, int32_t *t1)
{
	int32_t base = o * s - pb;
	int32_t a = ceil_div(lo - base, d), b = ceil_div(hi - base, d);
	a = a < 0 ? 0 : a;
	b = b > k ? k : b;
	*t0 = a;
	*t1 = b > a ? b : a;
}

static inline int32_t taps_in(int32_t o, int32_t k, int32_t s, int32_t d, int32_t pb,
                              int32_t lo, int32_t hi)
{
	int32_t t0, t1;
	trange(o, k, s, d, pb, lo, hi, &t0, &t1);
	return t1 - t0;
}

#if defined(__AVX2__)
/* The 2x2 stride-2 window inside the input (most CNNs' pooling), eight outputs at a time:
 * the even and odd columns of two input rows, combined in the general loop's tap order
 * (max: _mm256_max_ps(v, acc) is `v > acc ? v : acc`; average: 0 + t00 + t01 + t10 + t11,
 * then / 4). Returns the first output column it did not compute. */
static inline int32_t pool2x2_row(const RtkPool *p, const float *x0, float *yr)
{
	const float *x1 = x0 + p->w;
	int32_t ox = 0;
	for (; ox + 8 <= p->ow; ox += 8) {
		__m256 t[4];
		for (int32_t r = 0; r < 2; r++) {
			const float *xr = (r ? x1 : x0) + 2 * (size_t)ox;
			const __m256 lo = _mm256_loadu_ps(xr), hi = _mm256_loadu_ps(xr + 8);
			t[2 * r] = _mm256_castpd_ps(_mm256_permute4x64_pd(
				_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));
			t[2 * r + 1] = _mm256_castpd_ps(_mm256_permute4x64_pd(
				_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xdd)), 0xd8));
		}
		__m256 acc;
		if (p->is_max) {
			acc = t[0];
			for (int32_t i = 1; i < 4; i++)
				acc = _mm256_max_ps(t[i], acc);
		} else {
			acc = _mm256_add_ps(_mm256_setzero_ps(), t[0]);
			for (int32_t i = 1; i < 4; i++)
				acc = _mm256_add_ps(acc, t[i]);
			acc = _mm256_div_ps(acc, _mm256_set1_ps(4.0f));
		}
		_mm256_storeu_ps(yr + ox, acc);
	}
	return ox;
}
#endif

/* Every window inside the input (no padding reached): the taps of all outputs of a row are
 * then the same strided runs, and the loops below are plain enough for the vectorizer.
 * Same order of taps (row-major, the first tap first) and the same statements as the
 * general loop: max as `v > acc ? v : acc` (maxps keeps acc when v is NaN or equal), the
 * sum from 0 in window order divided by the count. */
static inline int all_inside(const RtkPool *p)
{
	return p->pt == 0 && p->pl == 0 &&
	       (int64_t)(p->oh - 1) * p->sh + (int64_t)(p->kh - 1) * p->dh < p->h &&
	       (int64_t)(p->ow - 1) * p->sw + (int64_t)(p->kw - 1) * p->dw < p->w && p->kh > 0 &&
	       p->kw > 0;
}

static void pool_inside(const RtkPool *p, const float *restrict x, float *restrict y)
{
	const float cnt = (float)(p->kh * p->kw);
	for (int32_t ch = 0; ch < p->c; ch++) {
		const float *xc = x + (size_t)ch * p->h * p->w;
		float *yc = y + (size_t)ch * p->oh * p->ow;
		for (int32_t oy = 0; oy < p->oh; oy++) {
			float *restrict yr = yc + (size_t)oy * p->ow;
			const float *restrict x0 = xc + (size_t)oy * p->sh * p->w;
			int32_t ox0 = 0;
#if defined(__AVX2__)
			if (p->kh == 2 && p->kw == 2 && p->sh == 2 && p->sw == 2 && p->dh == 1 && p->dw == 1)
				ox0 = pool2x2_row(p, x0, yr);
#endif
			for (int32_t ox = ox0; ox < p->ow; ox++) {
				const float *xo = x0 + (size_t)ox * p->sw;
				float acc = p->is_max ? xo[0] : 0.0f + xo[0];
				for (int32_t r = 0; r < p->kh; r++)
					for (int32_t s = r ? 0 : 1; s < p->kw; s++) {
						float v = xo[(size_t)r * p->dh * p->w + (size_t)s * p->dw];
						if (p->is_max)
							acc = v > acc ? v : acc;
						else
							acc += v;
					}
				yr[ox] = p->is_max ? acc : acc / cnt;
			}
		}
	}
}

static inline __attribute__((always_inline)) void pool_all(const RtkPool *p, const float *x,
                                                           float *y)
{
	if (all_inside(p)) {
		pool_inside(p, x, y);
		return;
	}
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
				int32_t r0, r1, s0, s1; /* the taps inside the input */
				trange(oy, p->kh, p->sh, p->dh, p->pt, 0, p->h, &r0, &r1);
				trange(ox, p->kw, p->sw, p->dw, p->pl, 0, p->w, &s0, &s1);
				for (int32_t r = r0; r < r1; r++) {
					int32_t iy = y0 + r * p->dh;
					for (int32_t s = s0; s < s1; s++) {
						int32_t ix = x0 + s * p->dw;
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
/* Work units for threads: channels. */
int64_t rtk_pool_units(const RtkPool *p)
{
	return p->c;
}

void rtk_pool_part(const RtkPool *p, const float *x, float *y, int64_t lo, int64_t hi)
{
	RtkPool q = *p;
	q.c = (int32_t)(hi - lo);
	pool_all(&q, x + (size_t)lo * p->h * p->w, y + (size_t)lo * p->oh * p->ow);
}

void rtk_pool(const RtkPool *p, const float *x, float *y)
{
	pool_all(p, x, y);
}

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
