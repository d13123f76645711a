/* runtime/ref_elementwise.c: reference binary (broadcasting), unary and softmax kernels. */
#include "ref_internal.h"

#include <assert.h>
#include <math.h>

/* ---- binary ---------------------------------------------------------------------------
 * The output is walked row by row (a row = the last output dim); each operand has an element
 * stride per output dim, 0 where it is broadcast (missing leading dims or size 1). */

/* One integer op on int64 values; add/sub/mul wrap (computed unsigned: no signed overflow),
 * division truncates toward zero. Returns -1 on division by zero. */
static int int_op(RtBinary op, int64_t u, int64_t v, int64_t *r)
{
	switch (op) {
	case RT_ADD: *r = (int64_t)((uint64_t)u + (uint64_t)v); return 0;
	case RT_SUB: *r = (int64_t)((uint64_t)u - (uint64_t)v); return 0;
	case RT_MUL: *r = (int64_t)((uint64_t)u * (uint64_t)v); return 0;
	case RT_DIV:
		if (v == 0)
			return -1;
		if (v == -1) /* INT64_MIN / -1 overflows: wrap like the other ops */
			*r = (int64_t)(0 - (uint64_t)u);
		else
			*r = u / v;
		return 0;
	default:
		return -1;
	}
}

#define FLOAT_ROW(T)                                                                  \
	do {                                                                          \
		const T *pa = a, *pb = b;                                             \
		T *py = y;                                                            \
		for (int64_t i = 0; i < n; i++) {                                     \
			T u = pa[i * sa], v = pb[i * sb];                             \
			switch (op) {                                                 \
			case RT_ADD: py[i] = u + v; break;                            \
			case RT_SUB: py[i] = u - v; break;                            \
			case RT_MUL: py[i] = u * v; break;                            \
			case RT_DIV: py[i] = u / v; break;                            \
			case RT_PRELU: py[i] = u < 0 ? v * u : u; break;              \
			}                                                             \
		}                                                                     \
	} while (0)

#define INT_ROW(T)                                                                    \
	do {                                                                          \
		const T *pa = a, *pb = b;                                             \
		T *py = y;                                                            \
		for (int64_t i = 0; i < n; i++) {                                     \
			int64_t r;                                                    \
			if (int_op(op, pa[i * sa], pb[i * sb], &r))                   \
				return -1;                                            \
			py[i] = (T)r;                                                 \
		}                                                                     \
	} while (0)

/* y[i] = a[i*sa] op b[i*sb] for i < n. */
static int binary_row(RtBinary op, DType t, const void *a, int64_t sa, const void *b,
                      int64_t sb, void *y, int64_t n)
{
	switch (t) {
	case DT_FLOAT: FLOAT_ROW(float); return 0;
	case DT_DOUBLE: FLOAT_ROW(double); return 0;
	case DT_INT32: INT_ROW(int32_t); return 0;
	case DT_INT64: INT_ROW(int64_t); return 0;
	default: return -1;
	}
}

/* Element strides of an operand of shape s broadcast to rank r (right-aligned). */
static void bcast_strides(const Shape *s, int r, int64_t *st)
{
	int off = r - s->rank;
	int64_t acc = 1;
	for (int i = r - 1; i >= 0; i--) {
		int64_t d = i >= off ? s->d[i - off] : 1;
		st[i] = d == 1 ? 0 : acc;
		acc *= d;
	}
}

int rt_binary_ref(RtBinary op, DType t, const Shape *sa, const void *a, const Shape *sb,
                  const void *b, const Shape *sy, void *y)
{
	if (t != DT_FLOAT && t != DT_DOUBLE && t != DT_INT32 && t != DT_INT64)
		return -1;
	if (op == RT_PRELU && t != DT_FLOAT)
		return -1;
	size_t es = ir_dtype_size(t);
	int r = sy->rank;
	assert(r >= sa->rank && r >= sb->rank);
	int64_t sta[IR_MAX_RANK], stb[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	bcast_strides(sa, r, sta);
	bcast_strides(sb, r, stb);

	int64_t total = rt_numel(sy);
	if (total == 0)
		return 0;
	int64_t inner = r > 0 ? sy->d[r - 1] : 1;
	int64_t ia = r > 0 ? sta[r - 1] : 0, ib = r > 0 ? stb[r - 1] : 0;
	const char *ca = a, *cb = b;
	char *cy = y;
	for (int64_t row = 0; row < total / inner; row++) {
		int64_t ao = 0, bo = 0;
		for (int i = 0; i < r - 1; i++) {
			ao += idx[i] * sta[i];
			bo += idx[i] * stb[i];
		}
		if (binary_row(op, t, ca + ao * es, ia, cb + bo * es, ib,
		               cy + row * inner * es, inner))
			return -1;
		/* Next row: odometer over the output dims but the last. */
		for (int i = r - 2; i >= 0; i--) {
			if (++idx[i] < sy->d[i])
				break;
			idx[i] = 0;
		}
	}
	return 0;
}

/* ---- unary ---------------------------------------------------------------------------- */

/* Logistic function without overflow for large |x|. */
static float sigmoid(float x)
{
	if (x >= 0)
		return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

void rt_unary_ref(RtUnary op, float alpha, float beta, const float *x, float *y, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		float v = x[i];
		switch (op) {
		case RT_RELU: v = v < 0 ? 0.0f : v; break;
		case RT_LEAKYRELU: v = v < 0 ? alpha * v : v; break;
		case RT_SIGMOID: v = sigmoid(v); break;
		case RT_TANH: v = tanhf(v); break;
		case RT_HARDSIGMOID:
			v = alpha * v + beta;
			v = v < 0 ? 0.0f : v > 1 ? 1.0f : v;
			break;
		case RT_CLIP:
			/* min(max(x, lo), hi), as numpy.clip: hi wins when lo > hi; NaN stays. */
			v = v < alpha ? alpha : v;
			v = v > beta ? beta : v;
			break;
		}
		y[i] = v;
	}
}

/* ---- softmax -------------------------------------------------------------------------- */
void rt_softmax_ref(const float *x, float *y, int64_t outer, int64_t len, int64_t inner,
                    int is_log)
{
	for (int64_t o = 0; o < outer; o++)
	for (int64_t in = 0; in < inner; in++) {
		const float *xs = x + o * len * inner + in;
		float *ys = y + o * len * inner + in;
		float mx = -INFINITY;
		for (int64_t l = 0; l < len; l++)
			if (xs[l * inner] > mx)
				mx = xs[l * inner];
		double sum = 0;
		for (int64_t l = 0; l < len; l++)
			sum += exp((double)xs[l * inner] - mx);
		double lsum = log(sum);
		for (int64_t l = 0; l < len; l++) {
			double d = (double)xs[l * inner] - mx;
			ys[l * inner] = is_log ? (float)(d - lsum) : (float)(exp(d) / sum);
		}
	}
}

/* Round half to even by the float-addition trick (valid for |v| < 2^22; v is clamped to at
 * most 255 in magnitude first), independent of libm's rounding-mode handling. */
static inline float rne_small(float v)
{
	const float magic = 12582912.0f; /* 1.5 * 2^23 */
	return (v + magic) - magic;
}

void rt_act_codes_ref(const float *x, float *u, int64_t n, int qn, int qp, float s)
{
	const float inv = 1.0f / s, lo = (float)-qn, hi = (float)qp;
	for (int64_t i = 0; i < n; i++)
		u[i] = rne_small(fminf(fmaxf(x[i] * inv, lo), hi));
}

void rt_act_quant_ref(const float *x, float *y, int64_t n, int qn, int qp, float s)
{
	const float inv = 1.0f / s, lo = (float)-qn, hi = (float)qp;
	for (int64_t i = 0; i < n; i++)
		y[i] = s * rne_small(fminf(fmaxf(x[i] * inv, lo), hi)); /* fmaxf: NaN -> lo */
}
