/* runtime/kernels/softmax.c: exp and log without libm, and Softmax / LogSoftmax.
 *
 * Both functions work in double, where a short polynomial is accurate to ~1e-15, so the
 * float results are the correctly rounded values except within ~1e-15 relative of a
 * rounding boundary (error < 1 ulp everywhere). The double versions serve softmax, which
 * (like rt_softmax_ref) sums in double.
 */
#include "rtk_internal.h"

typedef union {
	double d;
	uint64_t u;
} Bits64;

#define RTK_LN2 0.69314718055994530942
#define RTK_LOG2E 1.44269504088896340736

/* e^d. x = n ln2 + r with n = rint(d / ln2) (1.5 * 2^52 rounds to nearest), |r| <= ln2/2;
 * e^r by its Taylor series to degree 11 (truncation < 1e-14 relative), scaled by 2^n built
 * from its exponent bits. NaN stays NaN; d > 709.78 gives inf; d < -708 gives 0 (below
 * the normal doubles, far below any float). */
static inline double exp_d(double d)
{
	if (d != d)
		return d;
	if (d > 709.78)
		return __builtin_inf();
	if (d < -708.0)
		return 0.0;
	const double magic = 6755399441055744.0;
	double nd = (d * RTK_LOG2E + magic) - magic;
	double r = d - nd * RTK_LN2;
	double e = 1.0 / 39916800.0;               /* 1/11! */
	e = e * r + 1.0 / 3628800.0;
	e = e * r + 1.0 / 362880.0;
	e = e * r + 1.0 / 40320.0;
	e = e * r + 1.0 / 5040.0;
	e = e * r + 1.0 / 720.0;
	e = e * r + 1.0 / 120.0;
	e = e * r + 1.0 / 24.0;
	e = e * r + 1.0 / 6.0;
	e = e * r + 0.5;
	e = e * r + 1.0;
	e = e * r + 1.0;
	Bits64 s;
	s.u = (uint64_t)((int64_t)nd + 1023) << 52; /* nd in [-1022, 1024]: 2^nd */
	if (nd > 1023) {                           /* the last sliver below 709.78 */
		s.u = (uint64_t)(1023 + 1023) << 52;
		return e * s.d * 2.0;
	}
	return e * s.d;
}

/* log(d) for d > 0 (NaN and +inf pass through, 0 gives -inf, negative gives NaN).
 * d = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m - 1)/(m + 1),
 * |s| < 0.1716, by its series to s^21 (truncation < 1e-17). Subnormals are scaled by 2^54
 * first. */
static inline double log_d(double d)
{
	if (!(d > 0.0))
		return d == 0.0 ? -__builtin_inf() : __builtin_nan("");
	if (d == __builtin_inf() || d != d)
		return d;
	Bits64 b = {.d = d};
	int32_t e = 0;
	if (b.u >> 52 == 0) { /* subnormal */
		b.d = d * 18014398509481984.0; /* 2^54 */
		e = -54;
	}
	e += (int32_t)(b.u >> 52) - 1023;
	b.u = (b.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
	double m = b.d;
	if (m > 1.41421356237309504880) {
		m *= 0.5;
		e++;
	}
	double s = (m - 1.0) / (m + 1.0), s2 = s * s;
	double t = 1.0 / 21.0;
	t = t * s2 + 1.0 / 19.0;
	t = t * s2 + 1.0 / 17.0;
	t = t * s2 + 1.0 / 15.0;
	t = t * s2 + 1.0 / 13.0;
	t = t * s2 + 1.0 / 11.0;
	t = t * s2 + 1.0 / 9.0;
	t = t * s2 + 1.0 / 7.0;
	t = t * s2 + 1.0 / 5.0;
	t = t * s2 + 1.0 / 3.0;
	t = t * s2 + 1.0;
	return (double)e * RTK_LN2 + 2.0 * s * t;
}

float rtk_expf(float x)
{
	return (float)exp_d((double)x);
}

float rtk_logf(float x)
{
	return (float)log_d((double)x);
}

/* As rt_softmax_ref: max over the row (NaN never wins the comparison), a double sum of
 * e^(x - max), then e^(x - max) / sum or (x - max) - log(sum), rounded once to float. */
void rtk_softmax(int32_t outer, int32_t len, int32_t inner, int32_t log, const float *x,
                 float *y)
{
	for (int32_t o = 0; o < outer; o++)
	for (int32_t in = 0; in < inner; in++) {
		const float *xs = x + (size_t)o * len * inner + in;
		float *ys = y + (size_t)o * len * inner + in;
		float mx = -__builtin_inff();
		for (int32_t l = 0; l < len; l++)
			if (xs[(size_t)l * inner] > mx)
				mx = xs[(size_t)l * inner];
		double sum = 0;
		for (int32_t l = 0; l < len; l++)
			sum += exp_d((double)xs[(size_t)l * inner] - mx);
		if (log) {
			double ls = log_d(sum);
			for (int32_t l = 0; l < len; l++)
				ys[(size_t)l * inner] = (float)(((double)xs[(size_t)l * inner] - mx) - ls);
		} else {
			for (int32_t l = 0; l < len; l++)
				ys[(size_t)l * inner] =
					(float)(exp_d((double)xs[(size_t)l * inner] - mx) / sum);
		}
	}
}
