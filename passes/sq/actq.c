/* passes/sq/actq.c: activation quantizer with a learnable step (LSQ, Esser et al. 2020)
 * and UniQ's initialization (Baskin et al.), SQ-METHOD.md "Activations". The canonical
 * integer semantics the backend reproduces are documented at SqAct in quant.h. */
#include "passes/sq/quant.h"
#include "runtime/grad.h"
#include "runtime/rt.h"

#include <assert.h>
#include <math.h>
#include <string.h>


#define SQ_ACT_S_MIN 1e-8f

/* UniQ init constants, indexed by bits (1..8).
 * Dplus[k]: the MSE-optimal step of the unsigned k-bit uniform quantizer (levels
 *   0..2^k-1, round to nearest, clip at the top) for ReLU(N(0, sigma^2)) inputs, in units
 *   of sigma = sqrt(2 mean x^2). Values for k = 1, 2, 3, 4, 8 are the spec's; we
 *   recomputed that minimization (closed-form Gaussian integrals, ternary search), which
 *   reproduces them to 5 digits, and took k = 5, 6, 7 from it.
 * Dpm[k] (ours; the spec gives only Dplus): the same minimization for SIGNED inputs,
 *   N(0, sigma^2) with levels -2^(k-1)..2^(k-1)-1, in units of sigma = sqrt(mean x^2).
 *   Using Dplus with sqrt(2 mean x^2) there would start 14-32 % below that optimum. */
static const double Dplus[9] = {
	0, 1.22399, 0.65077, 0.35341, 0.19325, 0.10549, 0.05726, 0.03087, 0.01653,
};
static const double Dpm[9] = {
	0, 0 /* 1-bit signed is rejected */, 1.04839, 0.60182, 0.33861, 0.18879, 0.10418,
	0.05689, 0.03077,
};

int sq_act_init(SqAct *q, int bits, int is_signed)
{
	memset(q, 0, sizeof *q);
	if (bits != 32 && (bits < 1 || bits > 8))
		return -1;
	if (is_signed && bits < 2)
		return -1;
	q->bits = bits;
	q->is_signed = is_signed ? 1 : 0;
	if (bits == 32)
		return 0;
	if (is_signed) {
		q->qn = 1 << (bits - 1);
		q->qp = (1 << (bits - 1)) - 1;
	} else {
		q->qn = 0;
		q->qp = (1 << bits) - 1;
	}
	return 0;
}

void sq_act_init_calibrate(SqAct *q, const float *x, int64_t n)
{
	if (q->bits == 32 || n <= 0)
		return;
	double m2 = 0;
	for (int64_t i = 0; i < n; i++)
		m2 += (double)x[i] * x[i];
	m2 /= (double)n;
	double est = q->is_signed ? sqrt(m2) * Dpm[q->bits] : sqrt(2.0 * m2) * Dplus[q->bits];
	/* max over calibration batches (UniQ), never 0 */
	if (est > q->s)
		q->s = (float)est;
	if (!(q->s >= SQ_ACT_S_MIN))
		q->s = SQ_ACT_S_MIN;
	q->ncalib++;
}

float sq_act_inv_step(const SqAct *q)
{
	return q->s > 0 ? 1.0f / q->s : 0.0f;
}

/* Round half to even of v with |v| <= 2^22: adding and subtracting 1.5 * 2^23 leaves the
 * integer nearest to v in the default rounding mode, exactly like rintf (and like the
 * SIMD conversions the backend uses), but inline and vectorizable. We never build with
 * -ffast-math, which could fold it. */
static inline float rne(float v)
{
	const float magic = 12582912.0f; /* 1.5 * 2^23 */
	return (v + magic) - magic;
}

/* The canonical code of one element: rint(clamp(x * inv_s, -Q_N, Q_P)); NaN -> -Q_N
 * (fmaxf returns the non-NaN operand). Clamping before rounding equals rounding before
 * clamping because the bounds are integers. */
static inline float code_of(float x, float inv, float lo, float hi)
{
	float v = fminf(fmaxf(x * inv, lo), hi);
	return rne(v);
}

void sq_act_forward(const SqAct *q, const float *x, float *y, int64_t n)
{
	if (q->bits == 32) {
		if (y != x)
			memmove(y, x, sizeof(float) * (size_t)n);
		return;
	}
	assert(q->s > 0 && "sq_act_forward before calibration");
	/* x_q = s clip(round(x/s), -Q_N, Q_P): the runtime's kernel, so that training, the
	 * interpreter and the backend share one definition */
	rt_act_quant_fast(x, y, n, q->qn, q->qp, q->s); /* rt_act_quant_ref bit for bit */
}

void sq_act_backward(SqAct *q, const float *x, const float *dy, float *dx, int64_t n)
{
	if (q->bits == 32) {
		if (dx != dy)
			memmove(dx, dy, sizeof(float) * (size_t)n);
		return;
	}
	assert(q->s > 0 && "sq_act_backward before calibration");
	/* per element: dx = dy inside the range, else 0; ds_i = round(v) - v inside (round's
	 * STE), -Q_N at or below the range (NaN too, like the forward), Q_P at or above it;
	 * summed in fixed parts (rt_act_quant_backward_fast) */
	sq_act_add_ds(q, rt_act_quant_backward_fast(x, dy, dx, n, q->qn, q->qp, q->s), n);
}

void sq_act_add_ds(SqAct *q, double ds, int64_t n)
{
	assert(q->bits != 32 && q->s > 0);
	/* LSQ gradient scale g = 1 / sqrt(N Q_P), N = elements of this tensor (spec). */
	if (n > 0)
		q->grad += (float)(ds / sqrt((double)n * q->qp));
}

int sq_act_codes(const SqAct *q, const float *x, uint8_t *u, int64_t n)
{
	if (q->bits == 32 || q->is_signed)
		return -1;
	const float inv = 1.0f / q->s, hi = (float)q->qp;
	for (int64_t i = 0; i < n; i++)
		u[i] = (uint8_t)(int)code_of(x[i], inv, 0.0f, hi);
	return 0;
}

int sq_act_codes_signed(const SqAct *q, const float *x, int8_t *u, int64_t n)
{
	if (q->bits == 32 || !q->is_signed)
		return -1;
	const float inv = 1.0f / q->s, lo = (float)-q->qn, hi = (float)q->qp;
	for (int64_t i = 0; i < n; i++)
		u[i] = (int8_t)(int)code_of(x[i], inv, lo, hi);
	return 0;
}

void sq_act_project(SqAct *q)
{
	if (q->bits != 32 && !(q->s >= SQ_ACT_S_MIN))
		q->s = SQ_ACT_S_MIN;
}
