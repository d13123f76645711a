/* passes/sq/quant.c: weight quantizers (SQ, BC, BWN, TWN, none), SQ's adaptive
 * regularizer with its prior, the bits decision, and the compression figures.
 * Formulas: SQ-METHOD.md ("spec"); the contract of every function is in quant.h. */
#include "passes/sq/quant.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/fast.h"

#define SQ_PI 3.14159265358979323846

const char *const sq_method_names[SQ_Q_COUNT] = {
	[SQ_Q_SQ] = "sq", [SQ_Q_TWN] = "twn", [SQ_Q_BWN] = "bwn", [SQ_Q_BC] = "bc",
	[SQ_Q_NONE] = "none",
};
#define method_names sq_method_names

const char *sq_method_name(SqMethod m)
{
	return (unsigned)m < SQ_Q_COUNT ? method_names[m] : "?";
}

int sq_method_parse(const char *s)
{
	for (int i = 0; i < SQ_Q_COUNT; i++)
		if (strcmp(s, method_names[i]) == 0)
			return i;
	return -1;
}

/* ---- hyper-parameters ------------------------------------------------------------------ */

SqHyper sq_hyper_defaults(void)
{
	return (SqHyper){
		.delta_factor = 0.4307f,
		.p = 2,
		.lambda = 100.0f,
		.gamma = 1.0f,
		.beta_min = (float)(SQ_PI / 4),
		.beta_max = (float)(SQ_PI / 2 - 1e-3),
		.beta_init = (float)(SQ_PI / 4),
		.train_beta = 1,
		.zero_frac_max = 0.01f,
		.tan_binary = 20.0f,
		.ste_clip = 0.0f,
		.bc_clip = 1.0f,
		.twn_factor = 0.7f,
		.a_min_rel = 1e-3f,
		.balance = SQ_BALANCE_COUNT,
	};
}

/* lo <= x <= hi with NaN failing (open ends when lo_open / hi_open). */
static int in_range(double x, double lo, int lo_open, double hi, int hi_open)
{
	if (isnan(x))
		return 0;
	if (lo_open ? !(x > lo) : !(x >= lo))
		return 0;
	if (hi_open ? !(x < hi) : !(x <= hi))
		return 0;
	return 1;
}

int sq_hyper_check(const SqHyper *h, char *msg, size_t cap)
{
	/* One row per float field: name, value, range and which ends are open. */
	const struct {
		const char *name;
		double v, lo, hi;
		int lo_open, hi_open;
		const char *range;
	} rows[] = {
		{"delta_factor", h->delta_factor, 0, 10, 1, 0, "(0, 10]"},
		{"lambda", h->lambda, 0, INFINITY, 0, 1, "[0, inf)"},
		{"gamma", h->gamma, 0, INFINITY, 0, 1, "[0, inf)"},
		{"beta_min", h->beta_min, 0, SQ_PI / 2, 1, 1, "(0, pi/2)"},
		{"beta_max", h->beta_max, h->beta_min, SQ_PI / 2, 0, 1, "[beta_min, pi/2)"},
		{"beta_init", h->beta_init, h->beta_min, h->beta_max, 0, 0, "[beta_min, beta_max]"},
		{"zero_frac_max", h->zero_frac_max, 0, 1, 0, 0, "[0, 1]"},
		{"tan_binary", h->tan_binary, 0, INFINITY, 1, 1, "(0, inf)"},
		{"ste_clip", h->ste_clip, 0, INFINITY, 0, 1, "[0, inf) (0 = off)"},
		{"bc_clip", h->bc_clip, 0, INFINITY, 1, 1, "(0, inf)"},
		{"twn_factor", h->twn_factor, 0, 10, 1, 0, "(0, 10]"},
		{"a_min_rel", h->a_min_rel, 0, 1, 1, 0, "(0, 1]"},
	};
	if (h->balance != SQ_BALANCE_COUNT && h->balance != SQ_BALANCE_GRADIENT) {
		snprintf(msg, cap, "balance = %d is out of range (count or gradient)", h->balance);
		return -1;
	}
	if (h->p != 1 && h->p != 2) {
		snprintf(msg, cap, "p = %d is out of range (1 or 2)", h->p);
		return -1;
	}
	if (h->train_beta != 0 && h->train_beta != 1) {
		snprintf(msg, cap, "train_beta = %d is out of range (0 or 1)", h->train_beta);
		return -1;
	}
	for (size_t i = 0; i < countof(rows); i++) {
		if (!in_range(rows[i].v, rows[i].lo, rows[i].lo_open, rows[i].hi, rows[i].hi_open)) {
			snprintf(msg, cap, "%s = %g is out of range %s", rows[i].name, rows[i].v,
			         rows[i].range);
			return -1;
		}
	}
	if (cap)
		msg[0] = 0;
	return 0;
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* t(w) for a threshold: sign(w) [|w| > delta], sign(0) = +1 (spec). delta < 0 (binary)
 * makes every weight nonzero, including w = 0. */
static inline int tcode(float w, float delta)
{
	if (!(fabsf(w) > delta))
		return 0;
	return w < 0 ? -1 : 1;
}

/* The threshold the codes of L use right now: -1 means "no zero bucket" (binary). */
static float code_threshold(const SqLayer *L)
{
	switch (L->method) {
	case SQ_Q_BC:
	case SQ_Q_BWN:
		return -1.0f;
	case SQ_Q_TWN:
		return L->delta;
	case SQ_Q_SQ:
		return L->bits == 1 ? -1.0f : L->delta;
	default:
		return -1.0f;
	}
}

static double beta_of(const SqLayer *L)
{
	return L->param[L->C];
}

/* x^p for x >= 0 and p in {1, 2}. */
static inline double powp(double x, int p)
{
	return p == 1 ? x : x * x;
}

static inline double sgn0(double x) /* sign with sign(0) = 0: the subgradient at a kink */
{
	return (x > 0) - (x < 0);
}

/* mean |w| of a range (BC scale, BWN scales, TWN threshold). */
static double mean_abs(const float *w, int64_t n)
{
	double s = 0;
	for (int64_t j = 0; j < n; j++)
		s += fabsf(w[j]);
	return n ? s / (double)n : 0.0;
}

/* mean |w| over |w| > delta, or -1 when no weight is above delta. */
static double mean_abs_above(const float *w, int64_t n, float delta)
{
	double s = 0;
	int64_t k = 0;
	for (int64_t j = 0; j < n; j++)
		if (fabsf(w[j]) > delta) {
			s += fabsf(w[j]);
			k++;
		}
	return k ? s / (double)k : -1.0;
}

/* TWN per step: Delta = twn_factor * mean|W|, a = mean |w| over |w| > Delta (one scale
 * for the layer, as in Li & Liu); all-zero layer: a = a_min. */
static void twn_scales(SqLayer *L, const float *w)
{
	L->delta = (float)(L->h.twn_factor * mean_abs(w, L->n));
	double a = mean_abs_above(w, L->n, L->delta);
	if (!(a > L->a_min))
		a = L->a_min;
	for (int64_t c = 0; c < L->C; c++)
		L->a[c] = (float)a;
}

/* BWN per step: a_c = mean |w| of channel c (floored at a_min for an all-zero channel). */
static void bwn_scales(SqLayer *L, const float *w)
{
	for (int64_t c = 0; c < L->C; c++) {
		double a = mean_abs(w + c * L->per, L->per);
		L->a[c] = (float)(a > L->a_min ? a : L->a_min);
	}
}

/* ---- layer state ------------------------------------------------------------------------- */

int sq_layer_init(SqLayer *L, SqMethod m, const float *w, int64_t C, int64_t per,
                  const SqHyper *h)
{
	char msg[160];
	assert(C >= 1 && per >= 1 && (unsigned)m < SQ_Q_COUNT);
	assert(sq_hyper_check(h, msg, sizeof msg) == 0);
	(void)msg;
	memset(L, 0, sizeof *L);
	int64_t n = C * per;
	/* sigma: population std about the mean, in double (two passes for accuracy). */
	double mean = 0;
	for (int64_t j = 0; j < n; j++) {
		if (!isfinite(w[j]))
			return -1;
		mean += w[j];
	}
	mean /= (double)n;
	double var = 0;
	for (int64_t j = 0; j < n; j++)
		var += ((double)w[j] - mean) * ((double)w[j] - mean);
	var /= (double)n;

	L->method = m;
	L->C = C;
	L->per = per;
	L->n = n;
	L->h = *h;
	L->sigma = (float)sqrt(var);
	L->a_min = fmaxf(h->a_min_rel * L->sigma, 1e-12f);
	L->param = xcalloc((size_t)C + 1, sizeof(float));
	L->grad = xcalloc((size_t)C + 1, sizeof(float));
	L->part = xmalloc(sizeof(double) * 2 * (size_t)C);
	L->a = L->param;
	L->param[C] = h->beta_init;

	switch (m) {
	case SQ_Q_NONE:
		L->bits = 32;
		break;
	case SQ_Q_BC: {
		/* Fixed per-layer scale mean|W0| (spec: fine-tuning from a float model needs a scale). */
		double a = mean_abs(w, n);
		for (int64_t c = 0; c < C; c++)
			L->a[c] = (float)(a > L->a_min ? a : L->a_min);
		L->bits = 1;
		break;
	}
	case SQ_Q_BWN:
		bwn_scales(L, w);
		L->bits = 1;
		break;
	case SQ_Q_TWN:
		twn_scales(L, w);
		L->bits = 2;
		break;
	case SQ_Q_SQ:
		/* Delta_l = 0.4307 sigma_l, fixed for the whole run (spec "Quantizer"). */
		L->delta = h->delta_factor * L->sigma;
		for (int64_t c = 0; c < C; c++) {
			/* Least-squares scale for the initial ternary codes (see quant.h). */
			double a = mean_abs_above(w + c * per, per, L->delta);
			if (a < 0)
				a = mean_abs(w + c * per, per);
			L->a[c] = (float)(a > L->a_min ? a : L->a_min);
		}
		L->bits = 0;
		if (!h->train_beta) {
			L->beta_frozen = 1;
			L->beta_fixed = h->beta_init;
		}
		break;
	default:
		break;
	}
	return 0;
}

void sq_layer_free(SqLayer *L)
{
	free(L->param);
	free(L->grad);
	free(L->part);
	L->param = L->grad = L->a = NULL;
	L->part = NULL;
}

/* ---- forward / backward (STE) --------------------------------------------------------- */

/* The per-layer loops run per output channel on the thread pool (runtime/threads.h): every
 * channel's results come from the same sequence of operations whichever thread computes
 * it; the regularizer's layer-wide sums add per-channel partial sums in channel order. So
 * nothing depends on the thread count. */
typedef struct {
	SqLayer *L;
	const float *w, *dwq;
	float *wq, *dw;
	int8_t *codes;
	float thr, clip;
	RtSplit split;
} QJob;

static void q_run(QJob *J, RtTaskFn *fn)
{
	const SqLayer *L = J->L;
	int tasks = L->n < ((int64_t)1 << 14) ? 1 : L->C < 64 ? (int)L->C : 64;
	rt_split_init(&J->split, L->C, 4, 0);
	rt_parallel(fn, J, tasks);
}

#define Q_BLK 16

/* wq = a t(w), t = sign(w)[|w| > thr] (sign(0) = +1), in blocks the compiler vectorizes */
static void fwd_run(const float *restrict w, float *restrict wq, int64_t m, float a, float thr)
{
	int64_t j = 0;
	for (; j + Q_BLK <= m; j += Q_BLK)
		for (int l = 0; l < Q_BLK; l++) {
			float v = w[j + l];
			float s = v < 0 ? -1.0f : 1.0f;
			wq[j + l] = a * (fabsf(v) > thr ? s : 0.0f);
		}
	for (; j < m; j++)
		wq[j] = a * (float)tcode(w[j], thr);
}

static void fwd_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	QJob *J = ctx;
	const SqLayer *L = J->L;
	int64_t c0, c1;
	while (rt_split_next(&J->split, &c0, &c1))
	for (int64_t c = c0; c < c1; c++) {
		const float a = L->a[c];
		const int64_t o = c * L->per;
		if (!J->codes) {
			fwd_run(J->w + o, J->wq + o, L->per, a, J->thr);
			continue;
		}
		for (int64_t j = o; j < o + L->per; j++) {
			int t = tcode(J->w[j], J->thr);
			J->wq[j] = a * (float)t; /* q(w) = a_c t(w) */
			J->codes[j] = (int8_t)t;
		}
	}
}

void sq_forward(SqLayer *L, const float *w, float *wq, int8_t *codes)
{
	if (L->method == SQ_Q_NONE) {
		if (wq != w)
			memcpy(wq, w, sizeof(float) * (size_t)L->n);
		return;
	}
	if (L->method == SQ_Q_BWN)
		bwn_scales(L, w);
	else if (L->method == SQ_Q_TWN)
		twn_scales(L, w);
	QJob J = {.L = L, .w = w, .wq = wq, .codes = codes, .thr = code_threshold(L)};
	q_run(&J, fwd_task);
}

static void bwd_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	QJob *J = ctx;
	SqLayer *L = J->L;
	const float *w = J->w, *dwq = J->dwq;
	float *dw = J->dw;
	const float clip = J->clip, thr = J->thr;
	int64_t c0, c1;
	while (rt_split_next(&J->split, &c0, &c1))
	for (int64_t c = c0; c < c1; c++) {
		const int64_t o = c * L->per;
		if (L->method != SQ_Q_SQ) {
			for (int64_t j = o; j < o + L->per; j++) {
				float g = dwq[j];
				dw[j] = (clip > 0 && !(fabsf(w[j]) <= clip)) ? 0.0f : g;
			}
			continue;
		}
		double ga = 0; /* dL/da_c = sum_j dL/dq_j t(w_j), in order */
		for (int64_t j = o; j < o + L->per; j++) {
			const float g = dwq[j], v = w[j];
			const float s = v < 0 ? -1.0f : 1.0f;
			const float t = fabsf(v) > thr ? s : 0.0f; /* tcode, as selects */
			ga += (double)g * (double)t;
			dw[j] = (clip > 0 && !(fabsf(v) <= clip)) ? 0.0f : g;
		}
		L->grad[c] += (float)ga;
	}
}

void sq_backward(SqLayer *L, const float *w, const float *dwq, float *dw)
{
	/* STE mask |w| <= clip: BC always (clip bc_clip), others when ste_clip > 0. */
	float clip = L->method == SQ_Q_BC ? L->h.bc_clip
	             : L->method == SQ_Q_NONE ? 0.0f
	                                      : L->h.ste_clip;
	QJob J = {.L = L, .w = w, .dwq = dwq, .dw = dw, .clip = clip,
	          .thr = L->method == SQ_Q_SQ ? code_threshold(L) : 0.0f};
	q_run(&J, bwd_task);
}

/* ---- the adaptive regularizer (eq. 8-10) -------------------------------------------------- */

typedef struct {
	QJob q;
	int p, binary;
	double T, sec2, lam;
} RegJob;

static void reg_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	RegJob *J = ctx;
	SqLayer *L = J->q.L;
	const float *w = J->q.w;
	float *dw = J->q.dw;
	const int p = J->p, binary = J->binary;
	const double T = J->T, sec2 = J->sec2, lam = J->lam;
	int64_t c0, c1;
	while (rt_split_next(&J->q.split, &c0, &c1))
	for (int64_t c = c0; c < c1; c++) {
		const double a = L->a[c];
		const int64_t o = c * L->per;
		double da = 0, R = 0, dbeta = 0;
		for (int64_t j = o; j < o + L->per; j++) {
			const double x = w[j];
			const double r = fabs(x), s = x < 0 ? -1.0 : 1.0; /* sign(0) = +1 */
			const double rp = powp(r, p);
			const double d = a - r, ad = fabs(d);
			const double A = T * rp, B = powp(ad, p);
			if (!binary && A < B) {
				/* branch A: R = tan(beta) r^p                              */
				R += A;
				dw[j] += (float)(lam * p * T * (p == 1 ? 1.0 : r) * s);
				dbeta += sec2 * rp;
			} else {
				/* branch B: R = |a - r|^p; d/dw = -p|a-r|^(p-1) sgn(a-r) s,
				 * d/da = p|a-r|^(p-1) sgn(a-r)  (for p = 2: 2 (a - r))     */
				R += B;
				const double g = p == 1 ? sgn0(d) : 2.0 * d;
				dw[j] += (float)(-lam * g * s);
				da += g;
			}
		}
		L->grad[c] += (float)(lam * da);
		L->part[c] = R;
		L->part[L->C + c] = dbeta;
	}
}

/* lambda_l of eq. 10 under the layer's balance (quant.h). */
static double reg_lambda(const SqLayer *L)
{
	if (L->h.balance == SQ_BALANCE_GRADIENT)
		return !(L->sigma > 0) ? 0.0 /* constant weights: no unit to balance against */
		                       : (double)L->h.lambda * L->grad_rms /
		       ((double)L->h.p * (L->h.p == 1 ? 1.0 : (double)L->sigma)); /* p sigma^(p-1) */
	return (double)L->h.lambda / (double)L->n;
}

void sq_observe_task_grad(SqLayer *L, const float *dw)
{
	if (L->method != SQ_Q_SQ || L->h.balance != SQ_BALANCE_GRADIENT)
		return;
	double ss = 0;
	for (int64_t j = 0; j < L->n; j++)
		ss += (double)dw[j] * (double)dw[j];
	const double rms = sqrt(ss / (double)L->n);
	if (!isfinite(rms)) /* the trainer stops on a non-finite loss; keep the average sane */
		return;
	L->grad_rms = L->grad_rms > 0 ? 0.99 * L->grad_rms + 0.01 * rms : rms;
}

double sq_regularize(SqLayer *L, const float *w, float *dw)
{
	if (L->method != SQ_Q_SQ)
		return 0.0;
	const double beta = beta_of(L);
	RegJob J = {.q = {.L = L, .w = w, .dw = dw}, .p = L->h.p,
	            /* 1-bit decided layers: binary regularizer R_b = |a - |w||^p only (eq. 6). */
	            .binary = L->bits == 1,
	            .T = tan(beta),                       /* slope of the zero valley        */
	            .lam = reg_lambda(L)};
	J.sec2 = 1.0 + J.T * J.T;                         /* d tan / d beta = sec^2(beta)    */
	q_run(&J.q, reg_task);
	double R = 0, dbeta = 0; /* the channels' partial sums, in channel order */
	for (int64_t c = 0; c < L->C; c++) {
		R += L->part[c];
		dbeta += L->part[L->C + c];
	}
	const double lam = J.lam;
	/* prior gamma cot(beta): prefers binary; d/dbeta = -gamma / sin^2(beta). */
	const double sb = sin(beta);
	double gam = L->h.gamma; /* gamma_l */
	if (L->h.balance == SQ_BALANCE_GRADIENT)
		gam *= (double)L->n * powp(L->sigma, L->h.p);
	const double prior = gam * cos(beta) / sb;
	if (!L->beta_frozen)
		L->grad[L->C] += (float)(lam * (dbeta - gam / (sb * sb)));
	return lam * (R + prior);
}

/* ---- trainable scalars ---------------------------------------------------------------------- */

int64_t sq_nparams(const SqLayer *L)
{
	return L->method == SQ_Q_SQ ? L->C + 1 : 0;
}

void sq_zero_grad(SqLayer *L)
{
	memset(L->grad, 0, sizeof(float) * (size_t)(L->C + 1));
}

void sq_project(SqLayer *L, float *w)
{
	if (L->method == SQ_Q_BC && w) {
		const float b = L->h.bc_clip;
		for (int64_t j = 0; j < L->n; j++)
			w[j] = w[j] > b ? b : w[j] < -b ? -b : w[j];
	}
	if (L->method != SQ_Q_SQ)
		return;
	for (int64_t c = 0; c < L->C; c++)
		if (!(L->a[c] >= L->a_min)) /* also catches NaN */
			L->a[c] = L->a_min;
	float *beta = &L->param[L->C];
	if (L->beta_frozen)
		*beta = L->beta_fixed;
	else if (!(*beta >= L->h.beta_min))
		*beta = L->h.beta_min;
	else if (*beta > L->h.beta_max)
		*beta = L->h.beta_max;
}

/* ---- decision and report ------------------------------------------------------------------- */

double sq_zero_fraction(const SqLayer *L, const float *w)
{
	int64_t k = 0;
	for (int64_t j = 0; j < L->n; j++)
		k += fabsf(w[j]) <= L->delta;
	return (double)k / (double)L->n;
}

int sq_decide(SqLayer *L, const float *w)
{
	if (L->method != SQ_Q_SQ || L->bits != 0)
		return L->bits;
	/* zero_frac_max is inclusive; the small slack absorbs its float rounding (0.01f is
	 * 0.0099999998, and 1 weight in 100 must count as 1 %). */
	int binary = sq_zero_fraction(L, w) <= (double)L->h.zero_frac_max * (1 + 1e-6) ||
	             tan(beta_of(L)) >= L->h.tan_binary;
	L->bits = binary ? 1 : 2;
	L->beta_frozen = 1;
	L->beta_fixed = L->param[L->C];
	return L->bits;
}

int sq_bits(const SqLayer *L)
{
	return L->bits;
}

double sq_beta(const SqLayer *L)
{
	return L->method == SQ_Q_SQ ? beta_of(L) : 0.0;
}

double sq_tan_beta(const SqLayer *L)
{
	return L->method == SQ_Q_SQ ? tan(beta_of(L)) : 0.0;
}

void sq_scale_range(const SqLayer *L, float *lo, float *hi)
{
	*lo = *hi = 0;
	if (L->method == SQ_Q_NONE)
		return;
	*lo = *hi = L->a[0];
	for (int64_t c = 1; c < L->C; c++) {
		*lo = fminf(*lo, L->a[c]);
		*hi = fmaxf(*hi, L->a[c]);
	}
}

/* ---- compression ------------------------------------------------------------------------------ */

double sq_compression_ratio(const int64_t *n, const int *bits, int L)
{
	double num = 0, den = 0;
	for (int l = 0; l < L; l++) {
		num += 32.0 * (double)n[l];
		den += (double)bits[l] * (double)n[l];
	}
	return den > 0 ? num / den : 0.0;
}

int64_t sq_packed_bytes(int64_t C, int64_t per, int bits, int has_bias)
{
	assert(C >= 0 && per >= 0 && ((bits >= 1 && bits <= 8) || bits == 32));
	int64_t bias = has_bias ? 4 * C : 0;
	if (bits == 32)
		return 4 * C * per + bias;
	/* `bits` bit planes per row (binary: sign plane; ternary: T+ and T- planes), rows
	 * padded to whole bytes, plus one f32 scale a_c per channel. */
	return C * (int64_t)bits * ((per + 7) / 8) + 4 * C + bias;
}
