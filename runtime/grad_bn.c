/* runtime/grad_bn.c: BatchNormalization for training on the thread pool, channels in
 * parallel: the forward with batch statistics and its backward, each optionally with a
 * Relu and the activation quantizer (forward, or backward) fused in. See grad.h for what
 * each computes.
 */
#include "grad.h"
#include "grad_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	int64_t n, c, sp;
	const float *x, *gamma, *beta, *mean, *invstd, *relu_y, *dy;
	float eps;
	float *y, *omean, *oinvstd, *dx, *dgamma, *dbeta;
	int relu;
	/* the activation quantizer's backward fused in (aq != 0): its input q_in (the
	 * BatchNormalization's output, after the Relu when relu), dy is its output gradient */
	int aq;
	const float *q_in;
	float inv, lo, hi;
	double *dsp; /* [c]: per channel ds sums */
	float *xq;   /* forward: the quantizer's output (aq != 0), step st */
	float st;
	RtSplit split;
} BnJob;

/* GNU C vectors for the BatchNormalization blocks (the auto-vectorizer turned their
 * float -> double lanes into scalar code): a block of BN_L = 8 elements is two halves
 * of 4 floats, each widened to 4 doubles. Lane l of the sums still holds the elements
 * s + l of the blocks, and every operation is the scalar one (no FMA: neither the baseline
 * nor the avx2 target has it), so the results are those of the scalar loops. */
typedef float BnF4 __attribute__((vector_size(16)));
typedef int32_t BnI4 __attribute__((vector_size(16)));
typedef double BnD4 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) BnF4 bn_ld4(const float *p)
{
	BnF4 v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* m ? a : b lane-wise, m from a comparison (all ones or zero) */
static inline __attribute__((always_inline)) BnF4 bn_sel4(BnI4 m, BnF4 a, BnF4 b)
{
	return (BnF4)(((BnI4)a & m) | ((BnI4)b & ~m));
}

/* The masked gradient of 4 elements (see grad_mask_blk) and their ds factors *dv. */
static inline __attribute__((always_inline)) BnF4 grad_mask4(BnF4 m, BnF4 g, int relu, int aq,
                                                           float inv, float lo, float hi,
                                                           BnF4 *dv)
{
	const BnF4 zero = {0, 0, 0, 0};
	if (aq) {
		const BnF4 vinv = {inv, inv, inv, inv}, vlo = {lo, lo, lo, lo}, vhi = {hi, hi, hi, hi};
		const BnF4 mg = {AQ_MAGIC, AQ_MAGIC, AQ_MAGIC, AQ_MAGIC};
		const BnF4 v = m * vinv;
		const BnF4 r = ((v + mg) - mg) - v;
		const BnI4 above = v >= vhi, below_hi = v < vhi, inside_lo = v > vlo;
		const BnF4 a = bn_sel4(above, vhi, r);
		const BnF4 gin = bn_sel4(below_hi, g, zero);
		BnF4 o = bn_sel4(inside_lo, gin, zero);
		*dv = bn_sel4(inside_lo, a, vlo);
		if (relu)
			o = bn_sel4(m > zero, o, zero);
		return o;
	}
	if (relu)
		return bn_sel4(m > zero, g, zero);
	return g;
}

/* (a macro: a 32-byte vector return would change the baseline build's ABI) */
#define bn_wide(v) __builtin_convertvector((v), BnD4)

/* Sums of d = x - x0 and d*d over one run, into the lanes. */
static inline __attribute__((always_inline)) void bn_stat_run(const float *restrict xs, int64_t m, double x0, double *restrict s1,
                        double *restrict s2)
{
	int64_t s = 0;
	BnD4 a1[2], a2[2];
	memcpy(a1, s1, sizeof a1);
	memcpy(a2, s2, sizeof a2);
	const BnD4 v0 = {x0, x0, x0, x0};
	for (; s + BN_L <= m; s += BN_L)
		for (int h = 0; h < 2; h++) {
			const BnD4 d = bn_wide(bn_ld4(xs + s + 4 * h)) - v0;
			a1[h] += d;
			a2[h] += d * d;
		}
	memcpy(s1, a1, sizeof a1);
	memcpy(s2, a2, sizeof a2);
	for (int l = 0; s < m; s++, l++) {
		double d = (double)xs[s] - x0;
		s1[l] += d;
		s2[l] += d * d;
	}
}

static inline __attribute__((always_inline)) BnF4 aq_four(BnF4 v, float inv, float lo, float hi, float st)
{
	const BnF4 vinv = {inv, inv, inv, inv}, vlo = {lo, lo, lo, lo}, vhi = {hi, hi, hi, hi};
	const BnF4 mg = {AQ_MAGIC, AQ_MAGIC, AQ_MAGIC, AQ_MAGIC}, vst = {st, st, st, st};
	BnF4 m = v * vinv;
	m = bn_sel4(m >= vlo, m, vlo);
	m = bn_sel4(m <= vhi, m, vhi);
	return vst * ((m + mg) - mg);
}

/* y = (x*sc + sh) (Relu'd when relu); with qs != NULL also qs = the activation quantizer
 * of y (rt_act_quant_fast's values, bit for bit) */
static inline __attribute__((always_inline)) void bn_apply_run(const float *restrict xs, float *restrict ys, int64_t m, double sc,
                         double sh, int relu, float *restrict qs, float inv, float lo,
                         float hi, float st)
{
	int64_t s = 0;
	const BnD4 vsc = {sc, sc, sc, sc}, vsh = {sh, sh, sh, sh};
	const BnF4 zero = {0, 0, 0, 0};
	for (; s + 4 <= m; s += 4) {
		BnF4 v = __builtin_convertvector(bn_wide(bn_ld4(xs + s)) * vsc + vsh, BnF4);
		if (relu)
			v = bn_sel4(v < zero, zero, v);
		memcpy(ys + s, &v, sizeof v);
		if (qs) {
			const BnF4 q = aq_four(v, inv, lo, hi, st);
			memcpy(qs + s, &q, sizeof q);
		}
	}
	for (; s < m; s++) {
		float v = (float)(xs[s] * sc + sh);
		v = relu && v < 0 ? 0.0f : v;
		ys[s] = v;
		if (qs)
			qs[s] = aq_one(v, inv, lo, hi, st);
	}
}

static inline __attribute__((always_inline)) void bn_fwd_body(void *ctx)
{
	BnJob *J = ctx;
	const int64_t n = J->n, c = J->c, sp = J->sp, count = n * sp;
	int64_t c0, c1;
	while (rt_split_next(&J->split, &c0, &c1))
	for (int64_t ch = c0; ch < c1; ch++) {
		double mu = 0, var = 0;
		if (count > 0) {
			double s1[BN_L] = {0}, s2[BN_L] = {0};
			const double x0 = J->x[ch * sp];
			for (int64_t i = 0; i < n; i++)
				bn_stat_run(J->x + (i * c + ch) * sp, sp, x0, s1, s2);
			double a = lanes_sum(s1), b = lanes_sum(s2);
			mu = x0 + a / (double)count;
			var = (b - a * (a / (double)count)) / (double)count;
			if (var < 0)
				var = 0;
		}
		double is = 1.0 / sqrt(var + (double)J->eps);
		if (J->omean)
			J->omean[ch] = (float)mu;
		if (J->oinvstd)
			J->oinvstd[ch] = (float)is;
		if (!J->y)
			continue;
		double sc = J->gamma[ch] * is, sh = J->beta[ch] - mu * sc;
		for (int64_t i = 0; i < n; i++) {
			const int64_t o = (i * c + ch) * sp;
			if (J->aq)
				bn_apply_run(J->x + o, J->y + o, sp, sc, sh, J->relu, J->xq + o, J->inv,
				             J->lo, J->hi, J->st);
			else
				bn_apply_run(J->x + o, J->y + o, sp, sc, sh, J->relu, NULL, 0, 0, 0, 0);
		}
	}
}
ISA_TASK(bn_fwd_task, bn_fwd_body)

void rt_batchnorm_train_forward_fast(int64_t n, int64_t c, int64_t spatial, const float *x,
                                     const float *gamma, const float *beta, float eps,
                                     float *y, float *mean, float *invstd, int relu)
{
	BnJob J = {.n = n, .c = c, .sp = spatial, .x = x, .gamma = gamma, .beta = beta,
	           .eps = eps, .y = y, .omean = mean, .oinvstd = invstd, .relu = relu};
	if (c <= 0)
		return;
	rt_split_init(&J.split, c, 4, 0);
	rt_parallel(bn_fwd_task_pick(), &J, ew_tasks(n * c * spatial, c));
}

void rt_batchnorm_train_forward_actq_fast(int64_t n, int64_t c, int64_t spatial,
                                          const float *x, const float *gamma,
                                          const float *beta, float eps, float *y, float *mean,
                                          float *invstd, int relu, int qn, int qp, float s,
                                          float *xq)
{
	BnJob J = {.n = n, .c = c, .sp = spatial, .x = x, .gamma = gamma, .beta = beta,
	           .eps = eps, .y = y, .omean = mean, .oinvstd = invstd, .relu = relu, .aq = 1,
	           .xq = xq, .inv = 1.0f / s, .lo = (float)-qn, .hi = (float)qp, .st = s};
	if (c <= 0)
		return;
	rt_split_init(&J.split, c, 4, 0);
	rt_parallel(bn_fwd_task_pick(), &J, ew_tasks(n * c * spatial, c));
}

/* Sums of g and g*(x - mu) over one run, g = dy masked (grad_mask_blk; ms the mask's
 * input, NULL: no mask), and the quantizer's ds terms into s3. */
static inline __attribute__((always_inline)) void bn_gsum_run(const float *restrict xs, const float *restrict gs,
                        const float *restrict ms, int64_t m, double mu, double *restrict s1,
                        double *restrict s2, int relu, int aq, float inv, float lo, float hi,
                        double *restrict s3)
{
	int64_t s = 0;
	BnD4 a1[2], a2[2], a3[2];
	memcpy(a1, s1, sizeof a1);
	memcpy(a2, s2, sizeof a2);
	if (aq)
		memcpy(a3, s3, sizeof a3);
	const BnD4 vmu = {mu, mu, mu, mu};
	for (; s + BN_L <= m; s += BN_L)
		for (int h = 0; h < 2; h++) {
			const int64_t e = s + 4 * h;
			BnF4 g = bn_ld4(gs + e), dv;
			if (ms)
				g = grad_mask4(bn_ld4(ms + e), g, relu, aq, inv, lo, hi, &dv);
			const BnD4 gd = bn_wide(g);
			a1[h] += gd;
			a2[h] += gd * (bn_wide(bn_ld4(xs + e)) - vmu);
			if (ms && aq)
				a3[h] += bn_wide(bn_ld4(gs + e)) * bn_wide(dv);
		}
	memcpy(s1, a1, sizeof a1);
	memcpy(s2, a2, sizeof a2);
	if (aq)
		memcpy(s3, a3, sizeof a3);
	for (int l = 0; s < m; s++, l++) {
		double g = ms ? grad_mask_one(ms[s], gs[s], relu, aq, inv, lo, hi, s3 + l)
		              : (double)gs[s];
		s1[l] += g;
		s2[l] += g * ((double)xs[s] - mu);
	}
}

/* dx = ga*g + xa*x + k0 */
static inline __attribute__((always_inline)) void bn_dx_run(const float *restrict xs, const float *restrict gs,
                      const float *restrict ms, float *restrict ds, int64_t m, double ga,
                      double xa, double k0, int relu, int aq, float inv, float lo, float hi)
{
	int64_t s = 0;
	const BnD4 vga = {ga, ga, ga, ga}, vxa = {xa, xa, xa, xa}, vk0 = {k0, k0, k0, k0};
	for (; s + 4 <= m; s += 4) {
		BnF4 g = bn_ld4(gs + s), dv;
		if (ms)
			g = grad_mask4(bn_ld4(ms + s), g, relu, aq, inv, lo, hi, &dv);
		const BnF4 o = __builtin_convertvector(vga * bn_wide(g) +
		                                       (vxa * bn_wide(bn_ld4(xs + s)) + vk0), BnF4);
		memcpy(ds + s, &o, sizeof o);
	}
	for (; s < m; s++) {
		double g = ms ? grad_mask_one(ms[s], gs[s], relu, aq, inv, lo, hi, NULL)
		              : (double)gs[s];
		ds[s] = (float)(ga * g + (xa * xs[s] + k0));
	}
}

static inline __attribute__((always_inline)) void bn_bwd_body(void *ctx)
{
	BnJob *J = ctx;
	const int64_t n = J->n, c = J->c, sp = J->sp, count = n * sp;
	const int relu = J->relu, aq = J->aq;
	const float inv = J->inv, lo = J->lo, hi = J->hi;
	/* the mask's input: the quantizer's input (then also the Relu's output), or relu_y */
	const float *mk = aq ? J->q_in : relu ? J->relu_y : NULL;
	int64_t c0, c1;
	while (rt_split_next(&J->split, &c0, &c1))
	for (int64_t ch = c0; ch < c1; ch++) {
		const double mu = J->mean[ch], is = J->invstd[ch];
		double s1[BN_L] = {0}, s2[BN_L] = {0}, s3[BN_L] = {0};
		for (int64_t i = 0; i < n; i++) {
			int64_t o = (i * c + ch) * sp;
			if (aq)
				bn_gsum_run(J->x + o, J->dy + o, mk + o, sp, mu, s1, s2, relu, 1, inv, lo,
				            hi, s3);
			else if (relu)
				bn_gsum_run(J->x + o, J->dy + o, mk + o, sp, mu, s1, s2, 1, 0, 0, 0, 0,
				            NULL);
			else
				bn_gsum_run(J->x + o, J->dy + o, NULL, sp, mu, s1, s2, 0, 0, 0, 0, 0,
				            NULL);
		}
		if (aq)
			J->dsp[ch] = lanes_sum(s3);
		double sdy = lanes_sum(s1), sdyx = lanes_sum(s2) * is;
		if (J->dbeta)
			J->dbeta[ch] = (float)sdy;
		if (J->dgamma)
			J->dgamma[ch] = (float)sdyx;
		if (!J->dx)
			continue;
		/* dx = k*(g - mdy - (x - mu)*is*mdyx) = k*g + (-k*is*mdyx)*x + k*(mu*is*mdyx - mdy) */
		double k = J->gamma[ch] * is;
		double mdy = count > 0 ? sdy / (double)count : 0.0;
		double mdyx = count > 0 ? sdyx / (double)count : 0.0;
		double xa = -k * is * mdyx, k0 = k * (mu * is * mdyx - mdy);
		for (int64_t i = 0; i < n; i++) {
			int64_t o = (i * c + ch) * sp;
			if (aq)
				bn_dx_run(J->x + o, J->dy + o, mk + o, J->dx + o, sp, k, xa, k0, relu, 1,
				          inv, lo, hi);
			else if (relu)
				bn_dx_run(J->x + o, J->dy + o, mk + o, J->dx + o, sp, k, xa, k0, 1, 0, 0, 0,
				          0);
			else
				bn_dx_run(J->x + o, J->dy + o, NULL, J->dx + o, sp, k, xa, k0, 0, 0, 0, 0,
				          0);
		}
	}
}
ISA_TASK(bn_bwd_task, bn_bwd_body)

void rt_batchnorm_backward_fast(int64_t n, int64_t c, int64_t spatial, const float *x,
                                const float *gamma, const float *mean, const float *invstd,
                                const float *relu_y, const float *dy, float *dx,
                                float *dgamma, float *dbeta)
{
	BnJob J = {.n = n, .c = c, .sp = spatial, .x = x, .gamma = gamma, .mean = mean,
	           .invstd = invstd, .relu_y = relu_y, .relu = relu_y != NULL, .dy = dy,
	           .dx = dx, .dgamma = dgamma, .dbeta = dbeta};
	if (c <= 0)
		return;
	rt_split_init(&J.split, c, 4, 0);
	rt_parallel(bn_bwd_task_pick(), &J, ew_tasks(n * c * spatial, c));
}

double rt_batchnorm_backward_actq_fast(int64_t n, int64_t c, int64_t spatial, const float *x,
                                       const float *gamma, const float *mean,
                                       const float *invstd, const float *q_in, int relu,
                                       int qn, int qp, float s, const float *dq, float *dx,
                                       float *dgamma, float *dbeta)
{
	if (c <= 0)
		return 0.0;
	double *dsp = malloc(sizeof(double) * (size_t)c);
	if (!dsp)
		abort();
	BnJob J = {.n = n, .c = c, .sp = spatial, .x = x, .gamma = gamma, .mean = mean,
	           .invstd = invstd, .relu = relu != 0, .aq = 1, .q_in = q_in, .dy = dq,
	           .dx = dx, .dgamma = dgamma, .dbeta = dbeta, .inv = 1.0f / s,
	           .lo = (float)-qn, .hi = (float)qp, .dsp = dsp};
	rt_split_init(&J.split, c, 4, 0);
	rt_parallel(bn_bwd_task_pick(), &J, ew_tasks(n * c * spatial, c));
	double ds = 0;
	for (int64_t ch = 0; ch < c; ch++)
		ds += dsp[ch];
	free(dsp);
	return ds;
}
