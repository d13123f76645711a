/* runtime/kernels/elementwise.c: activations, per-channel affine, broadcasting binary ops
 * and column copies. Plain loops: after inlining with constant sizes LLVM vectorizes them.
 * NaN propagates through relu/leaky_relu/clip as in rt_unary_ref (comparisons are false).
 */
#include "rtk_internal.h"

void rtk_relu(const float *x, float *y, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void rtk_leaky_relu(const float *x, float *y, int32_t n, float alpha)
{
	for (int32_t i = 0; i < n; i++)
		y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

/* min(max(x, lo), hi) as numpy.clip: hi wins when lo > hi. */
void rtk_clip(const float *x, float *y, int32_t n, float lo, float hi)
{
	for (int32_t i = 0; i < n; i++) {
		float v = x[i] < lo ? lo : x[i];
		y[i] = v > hi ? hi : v;
	}
}

void rtk_channel_affine(int32_t c, int32_t spatial, const float *x, const float *mul,
                        const float *add, float *y)
{
	for (int32_t ch = 0; ch < c; ch++) {
		const float *xc = x + (size_t)ch * spatial;
		float *yc = y + (size_t)ch * spatial;
		float m = mul[ch], a = add[ch];
		for (int32_t i = 0; i < spatial; i++) {
			float v = xc[i] * m;
			yc[i] = v + a;
		}
	}
}

/* y[i] = a[i*sa] op b[i*sb], i < n; the common stride patterns get their own loops. */
static inline void binary_row(int32_t op, const float *a, int32_t sa, const float *b,
                              int32_t sb, float *y, int32_t n)
{
#define ROW(EXPR)                                                                         \
	do {                                                                              \
		if (sa == 1 && sb == 1)                                                   \
			for (int32_t i = 0; i < n; i++) {                                 \
				float u = a[i], v = b[i];                                 \
				y[i] = EXPR;                                              \
			}                                                                 \
		else if (sa == 1 && sb == 0)                                              \
			for (int32_t i = 0; i < n; i++) {                                 \
				float u = a[i], v = b[0];                                 \
				y[i] = EXPR;                                              \
			}                                                                 \
		else if (sa == 0 && sb == 1)                                              \
			for (int32_t i = 0; i < n; i++) {                                 \
				float u = a[0], v = b[i];                                 \
				y[i] = EXPR;                                              \
			}                                                                 \
		else                                                                      \
			for (int32_t i = 0; i < n; i++) {                                 \
				float u = a[(size_t)i * sa], v = b[(size_t)i * sb];       \
				y[i] = EXPR;                                              \
			}                                                                 \
	} while (0)
	switch (op) {
	case RTK_ADD: ROW(u + v); break;
	case RTK_SUB: ROW(u - v); break;
	case RTK_MUL: ROW(u * v); break;
	case RTK_DIV: ROW(u / v); break;
	default: break;
	}
#undef ROW
}

/* Rows of the last output dim, the leading dims walked as an odometer. */
/* Work units for threads: rows of the last dim. */
int64_t rtk_binary_units(const RtkBinary *p)
{
	int64_t rows = 1;
	for (int32_t i = 0; i < p->rank - 1; i++)
		rows *= p->dims[i];
	return rows;
}

void rtk_binary_part(const RtkBinary *p, const float *a, const float *b, float *y,
                     int64_t lo, int64_t hi)
{
	int32_t r = p->rank;
	if (r == 0) {
		if (lo < hi)
			binary_row(p->op, a, 0, b, 0, y, 1);
		return;
	}
	int32_t inner = p->dims[r - 1];
	if (inner == 0)
		return;
	int32_t idx[6] = {0, 0, 0, 0, 0, 0};
	for (int64_t q = lo, i = r - 2; i >= 0; i--) { /* row lo's index */
		idx[i] = (int32_t)(q % p->dims[i]);
		q /= p->dims[i];
	}
	for (int64_t row = lo; row < hi; row++) {
		size_t ao = 0, bo = 0;
		for (int32_t i = 0; i < r - 1; i++) {
			ao += (size_t)idx[i] * p->sa[i];
			bo += (size_t)idx[i] * p->sb[i];
		}
		binary_row(p->op, a + ao, p->sa[r - 1], b + bo, p->sb[r - 1],
		           y + (size_t)row * inner, inner);
		for (int32_t i = r - 2; i >= 0; i--) {
			if (++idx[i] < p->dims[i])
				break;
			idx[i] = 0;
		}
	}
}

void rtk_binary(const RtkBinary *p, const float *a, const float *b, float *y)
{
	rtk_binary_part(p, a, b, y, 0, rtk_binary_units(p));
}

void rtk_copy_cols(int32_t outer, int32_t inner_x, int32_t inner_y, int32_t offset,
                   const float *x, float *y)
{
	for (int32_t o = 0; o < outer; o++)
		__builtin_memcpy(y + (size_t)o * inner_y + offset, x + (size_t)o * inner_x,
		                 (size_t)inner_x * sizeof(float));
}
