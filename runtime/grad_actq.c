/* runtime/grad_actq.c: the activation quantizer (LSQ, passes/sq/actq.c) for training on the
 * thread pool: rt_act_quant_fast and its backward rt_act_quant_backward_fast. Its fusions
 * into the producer's kernel are with that kernel (grad_pool.c, grad_bn.c); the per element
 * arithmetic they share is in grad_internal.h.
 */
#include "grad.h"
#include "grad_internal.h"

#include <string.h>

/* clamp to [lo, hi] as fminf(fmaxf(v, lo), hi) (NaN -> lo); the two can differ only in the
 * sign of a zero, which the rounding that follows turns into +0 either way */
static inline float aq_clamp(float v, float lo, float hi)
{
	float m = v >= lo ? v : lo;
	return m <= hi ? m : hi;
}

static void aq_run(const float *restrict x, float *restrict y, int64_t n, float inv, float lo,
                   float hi, float s)
{
	int64_t i = 0;
	for (; i + EW_BLK <= n; i += EW_BLK)
		for (int l = 0; l < EW_BLK; l++)
			y[i + l] = s * ((aq_clamp(x[i + l] * inv, lo, hi) + AQ_MAGIC) - AQ_MAGIC);
	for (; i < n; i++)
		y[i] = s * ((aq_clamp(x[i] * inv, lo, hi) + AQ_MAGIC) - AQ_MAGIC);
}

static void aq_run_inplace(float *p, int64_t n, float inv, float lo, float hi, float s)
{
	for (int64_t i = 0; i < n; i++)
		p[i] = s * ((aq_clamp(p[i] * inv, lo, hi) + AQ_MAGIC) - AQ_MAGIC);
}

typedef struct {
	const float *x, *dy;
	float *y;
	int64_t n;
	float inv, lo, hi, s;
	double part[RT_ACT_PARTS];
	RtSplit split;
} AqJob;

static void aq_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	AqJob *J = ctx;
	int64_t lo, hi;
	while (rt_split_next(&J->split, &lo, &hi)) {
		if (J->x == J->y)
			aq_run_inplace(J->y + lo, hi - lo, J->inv, J->lo, J->hi, J->s);
		else
			aq_run(J->x + lo, J->y + lo, hi - lo, J->inv, J->lo, J->hi, J->s);
	}
}

void rt_act_quant_fast(const float *x, float *y, int64_t n, int qn, int qp, float s)
{
	if (n <= 0)
		return;
	AqJob J = {.x = x, .y = y, .n = n, .inv = 1.0f / s, .lo = (float)-qn, .hi = (float)qp,
	           .s = s};
	int64_t units = (n + EW_CHUNK - 1) / EW_CHUNK;
	rt_split_init(&J.split, units, 4, 0);
	J.split.chunk *= EW_CHUNK;
	J.split.n = n;
	rt_parallel(aq_task, &J, ew_tasks(n, units));
}

/* One element: dx (*dxo) and the factor d of its ds term dy*d. */
static inline float aqb_elem(float xv, float g, float inv, float lo, float hi, float *dxo)
{
	const float v = xv * inv;
	/* round(v) - v is exact in float (|v| < 2^22, and an integer within 1/2 of v) */
	const float r = ((v + AQ_MAGIC) - AQ_MAGIC) - v;
	const float a = v >= hi ? hi : r;
	const float gin = v < hi ? g : 0.0f;
	*dxo = v > lo ? gin : 0.0f;
	return v > lo ? a : lo; /* !(v > lo): at or below the range, NaN too */
}

static inline __attribute__((always_inline)) double aqb_part(const float *x, const float *dy, float *dx, int64_t n, float inv,
                       float lo, float hi)
{
	double acc[BN_L] = {0};
	int64_t i = 0;
	for (; i + BN_L <= n; i += BN_L) {
		float xs[BN_L], gs[BN_L], ds[BN_L], d[BN_L], vv[BN_L], rr[BN_L];
		memcpy(xs, x + i, sizeof xs); /* dx may alias x or dy: read the block first */
		memcpy(gs, dy + i, sizeof gs);
		/* aqb_elem spelled out for the vectorizer: the arithmetic first, for every lane
		 * (so that the compiler need not keep it under the conditions), then selects */
		for (int l = 0; l < BN_L; l++) {
			vv[l] = xs[l] * inv;
			rr[l] = ((vv[l] + AQ_MAGIC) - AQ_MAGIC) - vv[l];
		}
		for (int l = 0; l < BN_L; l++) {
			const float v = vv[l];
			const float a = v >= hi ? hi : rr[l];
			const float gin = v < hi ? gs[l] : 0.0f;
			ds[l] = v > lo ? gin : 0.0f;
			d[l] = v > lo ? a : lo;
		}
		for (int l = 0; l < BN_L; l++)
			acc[l] += (double)gs[l] * (double)d[l];
		memcpy(dx + i, ds, sizeof ds);
	}
	for (int l = 0; i < n; i++, l++) {
		float g = dy[i], o;
		float d = aqb_elem(x[i], g, inv, lo, hi, &o);
		acc[l] += (double)g * (double)d;
		dx[i] = o;
	}
	return lanes_sum(acc);
}

static inline __attribute__((always_inline)) void aqb_body(void *ctx)
{
	AqJob *J = ctx;
	int64_t k0, k1;
	while (rt_split_next(&J->split, &k0, &k1))
		for (int64_t k = k0; k < k1; k++) {
			int64_t a = J->n * k / RT_ACT_PARTS, b = J->n * (k + 1) / RT_ACT_PARTS;
			J->part[k] = aqb_part(J->x + a, J->dy + a, J->y + a, b - a, J->inv, J->lo, J->hi);
		}
}
ISA_TASK(aqb_task, aqb_body)

double rt_act_quant_backward_fast(const float *x, const float *dy, float *dx, int64_t n,
                                  int qn, int qp, float s)
{
	if (n <= 0)
		return 0.0;
	AqJob J = {.x = x, .dy = dy, .y = dx, .n = n, .inv = 1.0f / s, .lo = (float)-qn,
	           .hi = (float)qp};
	rt_split_init(&J.split, RT_ACT_PARTS, 2, 0);
	rt_parallel(aqb_task_pick(), &J, n < EW_PAR_MIN ? 1 : RT_ACT_PARTS);
	double ds = 0;
	for (int k = 0; k < RT_ACT_PARTS; k++)
		ds += J.part[k];
	return ds;
}
