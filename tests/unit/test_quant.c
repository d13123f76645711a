/* tests/unit/test_quant.c: the per-layer math of passes/sq/ (quant.c, actq.c) against
 * hand-computed values and central finite differences (SQ-METHOD.md is the spec).
 *
 * Running example (C = 2 channels, per = 4), used by several tests:
 *   W = [ 0.8, -0.2, 0.4, -1.2 |  0.1, -0.6, 1.0, -0.3 ]
 *   mean 0, sum w^2 = 3.74, sigma = sqrt(3.74 / 8) = 0.683740, Delta = 0.4307 sigma = 0.294487
 *   SQ codes t = [1, 0, 1, -1 | 0, -1, 1, -1]   (0.3 > Delta, 0.2 and 0.1 are not)
 *   SQ initial a = [(0.8+0.4+1.2)/3, (0.6+1.0+0.3)/3] = [0.8, 0.633333]
 *   BWN a = [mean|w| per channel] = [0.65, 0.5]
 *   mean|W| = 0.575: BC scale 0.575; TWN Delta = 0.7 * 0.575 = 0.4025, so 0.4 falls in the
 *   zero bucket: t = [1, 0, 0, -1 | 0, -1, 1, 0], a = (0.8+1.2+0.6+1.0)/4 = 0.9
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/sq/quant.h"
#include "runtime/fast.h"

#define PI 3.14159265358979323846

static const float W8[8] = {0.8f, -0.2f, 0.4f, -1.2f, 0.1f, -0.6f, 1.0f, -0.3f};

#define assert_near(x, y, tol)                                                          \
	do {                                                                               \
		double x_ = (x), y_ = (y);                                                 \
		if (!(fabs(x_ - y_) <= (tol))) {                                           \
			print_error("%s = %.9g, expected %.9g (tol %g)\n", #x, x_, y_,     \
			            (double)(tol));                                        \
			fail();                                                            \
		}                                                                          \
	} while (0)

/* relative-or-absolute closeness for finite-difference checks */
#define assert_close(x, y, rel, abs_)                                                    \
	assert_near(x, y, (abs_) + (rel) * fabs((double)(y)))

/* ---- deterministic random numbers (xorshift64*, Box-Muller) ---- */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static double rng_unif(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) * (1.0 / 9007199254740992.0);
}
static double rng_gauss(void)
{
	double u = rng_unif(), v = rng_unif();
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * PI * v);
}

static SqLayer make(SqMethod m, const float *w, int64_t C, int64_t per, const SqHyper *h)
{
	SqLayer L;
	SqHyper d = sq_hyper_defaults();
	assert_int_equal(sq_layer_init(&L, m, w, C, per, h ? h : &d), 0);
	return L;
}

/* ==== hyper-parameters ==================================================================== */

static void test_hyper_defaults(void **state)
{
	(void)state;
	SqHyper h = sq_hyper_defaults();
	char msg[200];
	assert_near(h.delta_factor, 0.4307, 1e-7);
	assert_int_equal(h.p, 2);
	assert_near(h.beta_min, PI / 4, 1e-7);
	assert_near(h.beta_max, PI / 2 - 1e-3, 1e-7);
	assert_near(h.beta_init, PI / 4, 1e-7);
	assert_near(h.zero_frac_max, 0.01, 1e-9);
	assert_near(h.tan_binary, 20, 0);
	assert_near(h.bc_clip, 1, 0);
	assert_near(h.twn_factor, 0.7, 1e-7);
	assert_near(h.ste_clip, 0, 0);
	assert_true(h.lambda > 0 && h.gamma > 0);
	assert_int_equal(sq_hyper_check(&h, msg, sizeof msg), 0);

	SqHyper b = h;
	b.p = 3;
	assert_int_equal(sq_hyper_check(&b, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "p = 3"));
	b = h;
	b.lambda = -1;
	assert_int_equal(sq_hyper_check(&b, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "lambda"));
	b = h;
	b.gamma = NAN;
	assert_int_equal(sq_hyper_check(&b, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "gamma"));
	b = h;
	b.beta_max = (float)(PI / 2); /* tan would be infinite */
	assert_int_equal(sq_hyper_check(&b, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "beta_max"));
	b = h;
	b.beta_init = 0.5f; /* below beta_min */
	assert_int_equal(sq_hyper_check(&b, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "beta_init"));
	b = h;
	b.zero_frac_max = 1.5f;
	assert_int_equal(sq_hyper_check(&b, msg, sizeof msg), -1);

	assert_string_equal(sq_method_name(SQ_Q_TWN), "twn");
	assert_int_equal(sq_method_parse("sq"), SQ_Q_SQ);
	assert_int_equal(sq_method_parse("none"), SQ_Q_NONE);
	assert_int_equal(sq_method_parse("bwn"), SQ_Q_BWN);
	assert_int_equal(sq_method_parse("xnor"), -1);
}

/* ==== weight quantizers ==================================================================== */

static void test_sq_init_forward(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_SQ, W8, 2, 4, NULL);
	float wq[8];
	int8_t t[8];
	static const int8_t et[8] = {1, 0, 1, -1, 0, -1, 1, -1};
	assert_near(L.sigma, 0.6837397, 1e-6);
	assert_near(L.delta, 0.2944867, 1e-6);
	assert_near(L.a[0], 0.8, 1e-6);
	assert_near(L.a[1], 0.6333333, 1e-6);
	assert_near(sq_beta(&L), PI / 4, 1e-7);
	assert_near(sq_tan_beta(&L), 1.0, 1e-6);
	assert_int_equal(sq_bits(&L), 0);
	assert_int_equal(sq_nparams(&L), 3);
	assert_ptr_equal(L.a, L.param);
	sq_forward(&L, W8, wq, t);
	for (int j = 0; j < 8; j++) {
		assert_int_equal(t[j], et[j]);
		assert_near(wq[j], L.a[j / 4] * et[j], 0);
	}
	/* the zero bucket holds -0.2 and 0.1 */
	assert_near(sq_zero_fraction(&L, W8), 0.25, 0);
	float lo, hi;
	sq_scale_range(&L, &lo, &hi);
	assert_near(lo, 0.6333333, 1e-6);
	assert_near(hi, 0.8, 1e-6);
	/* a moved weight keeps the fixed threshold: 0.29 falls in the zero bucket, 0.3 not */
	float w2[8];
	memcpy(w2, W8, sizeof w2);
	w2[7] = -0.29f;
	w2[4] = 0.0f;
	sq_forward(&L, w2, wq, t);
	assert_int_equal(t[7], 0);
	assert_int_equal(t[4], 0);
	assert_near(L.delta, 0.2944867, 1e-6);
	sq_layer_free(&L);
}

static void test_sq_backward_ste(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_SQ, W8, 2, 4, NULL);
	const float dwq[8] = {0.5f, 2.0f, -1.0f, 0.25f, 3.0f, 1.0f, -2.0f, 0.5f};
	float dw[8];
	sq_backward(&L, W8, dwq, dw);
	for (int j = 0; j < 8; j++)
		assert_near(dw[j], dwq[j], 0); /* identity STE */
	/* dL/da_c = sum dwq t: ch0 0.5*1 + 2*0 + (-1)*1 + 0.25*(-1) = -0.75;
	 * ch1 3*0 + 1*(-1) + (-2)*1 + 0.5*(-1) = -3.5; beta untouched */
	assert_near(L.grad[0], -0.75, 1e-7);
	assert_near(L.grad[1], -3.5, 1e-7);
	assert_near(L.grad[2], 0, 0);
	/* accumulates over calls, in place (dw aliases dwq) */
	float g[8];
	memcpy(g, dwq, sizeof g);
	sq_backward(&L, W8, g, g);
	assert_near(L.grad[0], -1.5, 1e-7);
	assert_near(g[3], 0.25, 0);
	sq_zero_grad(&L);
	assert_near(L.grad[0], 0, 0);
	sq_layer_free(&L);

	/* optional STE clip: |w| <= 1 passes, -1.2 is masked */
	SqHyper h = sq_hyper_defaults();
	h.ste_clip = 1.0f;
	L = make(SQ_Q_SQ, W8, 2, 4, &h);
	sq_backward(&L, W8, dwq, dw);
	assert_near(dw[3], 0, 0);
	assert_near(dw[2], -1.0, 0);
	assert_near(L.grad[0], -0.75, 1e-7); /* the a-gradient is not masked */
	sq_layer_free(&L);
}

static void test_bc(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_BC, W8, 2, 4, NULL);
	float wq[8], w2[8], dw[8];
	int8_t t[8];
	assert_int_equal(sq_bits(&L), 1);
	assert_int_equal(sq_nparams(&L), 0);
	assert_near(L.a[0], 0.575, 1e-6);
	assert_near(L.a[1], 0.575, 1e-6);
	/* the scale stays fixed when the weights change; sign(0) = +1 */
	for (int j = 0; j < 8; j++)
		w2[j] = 2 * W8[j];
	w2[1] = 0.0f;
	sq_forward(&L, w2, wq, t);
	assert_near(L.a[0], 0.575, 1e-6);
	assert_int_equal(t[1], 1);
	assert_near(wq[1], 0.575, 1e-6);
	assert_near(wq[3], -0.575, 1e-6);
	/* clipped STE: w2 = [1.6, 0, 0.8, -2.4 | 0.2, -1.2, 2, -0.6]; only |w| <= 1 pass */
	const float dwq[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	sq_backward(&L, w2, dwq, dw);
	static const float edw[8] = {0, 1, 1, 0, 1, 0, 0, 1};
	for (int j = 0; j < 8; j++)
		assert_near(dw[j], edw[j], 0);
	assert_near(sq_regularize(&L, w2, dw), 0, 0);
	assert_near(dw[1], 1, 0); /* untouched */
	/* BinaryConnect clips the latent weights into [-1, 1] */
	sq_project(&L, w2);
	assert_near(w2[0], 1, 0);
	assert_near(w2[3], -1, 0);
	assert_near(w2[2], 0.8, 1e-7);
	assert_int_equal(sq_decide(&L, w2), 1);
	sq_layer_free(&L);
}

static void test_bwn(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_BWN, W8, 2, 4, NULL);
	float wq[8], w2[8];
	int8_t t[8];
	sq_forward(&L, W8, wq, t);
	assert_near(L.a[0], 0.65, 1e-6);
	assert_near(L.a[1], 0.5, 1e-6);
	static const int8_t et[8] = {1, -1, 1, -1, 1, -1, 1, -1};
	for (int j = 0; j < 8; j++) {
		assert_int_equal(t[j], et[j]);
		assert_near(wq[j], L.a[j / 4] * et[j], 0);
	}
	/* recomputed every step */
	memcpy(w2, W8, sizeof w2);
	w2[0] = 2.0f; /* channel 0: (2 + 0.2 + 0.4 + 1.2) / 4 = 0.95 */
	sq_forward(&L, w2, wq, NULL);
	assert_near(L.a[0], 0.95, 1e-6);
	assert_near(L.a[1], 0.5, 1e-6);
	assert_int_equal(sq_bits(&L), 1);
	sq_layer_free(&L);
}

static void test_twn(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_TWN, W8, 2, 4, NULL);
	float wq[8], w2[8];
	int8_t t[8];
	sq_forward(&L, W8, wq, t);
	assert_near(L.delta, 0.4025, 1e-6);
	assert_near(L.a[0], 0.9, 1e-6);
	assert_near(L.a[1], 0.9, 1e-6);
	static const int8_t et[8] = {1, 0, 0, -1, 0, -1, 1, 0};
	for (int j = 0; j < 8; j++) {
		assert_int_equal(t[j], et[j]);
		assert_near(wq[j], 0.9f * et[j], 1e-6);
	}
	/* recomputed: doubling W doubles Delta and a, same codes */
	for (int j = 0; j < 8; j++)
		w2[j] = 2 * W8[j];
	sq_forward(&L, w2, wq, t);
	assert_near(L.delta, 0.805, 1e-6);
	assert_near(L.a[0], 1.8, 1e-6);
	assert_int_equal(t[2], 0);
	assert_int_equal(sq_bits(&L), 2);
	assert_int_equal(sq_decide(&L, w2), 2);
	sq_layer_free(&L);
}

static void test_none(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_NONE, W8, 2, 4, NULL);
	float wq[8], dw[8];
	const float dwq[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	sq_forward(&L, W8, wq, NULL);
	assert_memory_equal(wq, W8, sizeof wq);
	sq_backward(&L, W8, dwq, dw);
	assert_memory_equal(dw, dwq, sizeof dw);
	assert_near(sq_regularize(&L, W8, dw), 0, 0);
	assert_int_equal(sq_nparams(&L), 0);
	assert_int_equal(sq_bits(&L), 32);
	assert_int_equal(sq_decide(&L, W8), 32);
	assert_near(sq_tan_beta(&L), 0, 0);
	sq_layer_free(&L);
}

static void test_nonfinite_weights(void **state)
{
	(void)state;
	float w[4] = {0.1f, NAN, 0.2f, 0.3f};
	SqLayer L;
	SqHyper h = sq_hyper_defaults();
	assert_int_equal(sq_layer_init(&L, SQ_Q_SQ, w, 1, 4, &h), -1);
	sq_layer_free(&L);
	w[1] = INFINITY;
	assert_int_equal(sq_layer_init(&L, SQ_Q_TWN, w, 2, 2, &h), -1);
	sq_layer_free(&L);
	/* an all-zero layer is legal: scales floor at a_min > 0, every code 0 */
	const float z[4] = {0, 0, 0, 0};
	int8_t t[4];
	float wq[4];
	assert_int_equal(sq_layer_init(&L, SQ_Q_SQ, z, 2, 2, &h), 0);
	assert_true(L.a[0] > 0);
	sq_forward(&L, z, wq, t);
	assert_int_equal(t[0], 0);
	assert_near(wq[3], 0, 0);
	sq_layer_free(&L);
}

/* ==== the regularizer ====================================================================== */

/* Hand-computed: one channel, p = 2, a = 1, beta = pi/4 (tan 1), gamma = 2, lambda = 3 so
 * lambda_l = 1. w = 0.25: A = 0.0625 < B = 0.5625 (branch A); w = -0.75: A = 0.5625,
 * B = 0.0625 (B); w = 1.5: A = 2.25, B = 0.25 (B). R = 0.375, prior = 2 cot(pi/4) = 2.
 * dR/dw = [2 * 0.25, -2 (1 - 0.75)(-1), -2 (1 - 1.5)] = [0.5, 0.5, 1.0]
 * dR/da = 2 (0.25) + 2 (-0.5) = -0.5
 * dJ/dbeta = sec^2(pi/4) 0.0625 - 2 / sin^2(pi/4) = 0.125 - 4 = -3.875 */
static void test_regularizer_hand(void **state)
{
	(void)state;
	SqHyper h = sq_hyper_defaults();
	h.gamma = 2;
	h.lambda = 3;
	const float w[3] = {0.25f, -0.75f, 1.5f};
	SqLayer L = make(SQ_Q_SQ, w, 1, 3, &h);
	L.a[0] = 1.0f;
	float dw[3] = {10, 20, 30}; /* accumulates */
	double pen = sq_regularize(&L, w, dw);
	assert_near(pen, 2.375, 1e-6);
	assert_near(dw[0], 10.5, 1e-5);
	assert_near(dw[1], 20.5, 1e-5);
	assert_near(dw[2], 31.0, 1e-5);
	assert_near(L.grad[0], -0.5, 1e-6);
	assert_near(L.grad[1], -3.875, 1e-5);

	/* p = 1: R = [0.25, 0.25, 0.5] = 1.0; dR/dw = [1, -(+1)(-1), -(-1)] = [1, 1, 1];
	 * dR/da = +1 - 1 = 0; dJ/dbeta = 2 * 0.25 - 4 = -3.5 */
	h.p = 1;
	SqLayer L1 = make(SQ_Q_SQ, w, 1, 3, &h);
	L1.a[0] = 1.0f;
	float d1[3] = {0, 0, 0};
	assert_near(sq_regularize(&L1, w, d1), 3.0, 1e-6);
	assert_near(d1[0], 1, 1e-6);
	assert_near(d1[1], 1, 1e-6);
	assert_near(d1[2], 1, 1e-6);
	assert_near(L1.grad[0], 0, 1e-6);
	assert_near(L1.grad[1], -3.5, 1e-5);
	sq_layer_free(&L1);
	sq_layer_free(&L);
}

/* Branch of one weight: 0 = A (tan(beta)|w|^p is the min), 1 = B. */
static int branch(double w, double a, double T, int p)
{
	double r = fabs(w), A = T * (p == 1 ? r : r * r), B = p == 1 ? fabs(a - r) : (a - r) * (a - r);
	return A < B ? 0 : 1;
}

/* The penalty with L's grads left as they were. */
static double penalty(SqLayer *L, const float *w)
{
	float save[64], dw[256];
	int64_t m = L->C + 1;
	assert_true(m <= 64 && L->n <= 256);
	memcpy(save, L->grad, sizeof(float) * (size_t)m);
	memset(dw, 0, sizeof dw);
	double v = sq_regularize(L, w, dw);
	memcpy(L->grad, save, sizeof(float) * (size_t)m);
	return v;
}

/* The three gradients (w, a, beta) of lambda_l (R_l + gamma cot beta) against central
 * finite differences, for p = 1 and p = 2; weights chosen so that both branches occur,
 * kinks (branch switches, sign of w, |w| = a for p = 1) are skipped. */
static void regularizer_fd(int p, int balance)
{
	enum { C = 3, PER = 24, N = C * PER };
	float w[N];
	rng_seed(7 + (uint64_t)p);
	for (int j = 0; j < N; j++)
		w[j] = (float)(0.1 * rng_gauss());
	SqHyper h = sq_hyper_defaults();
	h.p = p;
	h.gamma = balance == SQ_BALANCE_GRADIENT ? 0.02f : 0.7f;
	h.lambda = 5.0f;
	h.balance = balance;
	SqLayer L = make(SQ_Q_SQ, w, C, PER, &h);
	if (balance == SQ_BALANCE_GRADIENT) { /* a task gradient of RMS 0.3 sets lambda_l */
		float g[N];
		for (int j = 0; j < N; j++)
			g[j] = j % 2 ? 0.3f : -0.3f;
		sq_observe_task_grad(&L, g);
		assert_near(L.grad_rms, 0.3, 1e-7);
	}
	L.param[C] = 1.0f; /* beta = 1 rad, tan = 1.557: between the two shapes */
	const double T = tan(1.0);

	float dw[N];
	memset(dw, 0, sizeof dw);
	sq_zero_grad(&L);
	sq_regularize(&L, w, dw);

	/* d/dw */
	int nA = 0, nB = 0, checked = 0;
	const double hw = 1e-3;
	for (int j = 0; j < N; j++) {
		double a = L.a[j / PER];
		float wp = (float)(w[j] + hw), wm = (float)(w[j] - hw);
		int b = branch(w[j], a, T, p);
		if (branch(wp, a, T, p) != b || branch(wm, a, T, p) != b)
			continue;
		if ((wp > 0) != (wm > 0))
			continue;
		if (p == 1 && b == 1 && ((a - fabs(wp)) > 0) != ((a - fabs(wm)) > 0))
			continue;
		float save = w[j];
		w[j] = wp;
		double fp = penalty(&L, w);
		w[j] = wm;
		double fm = penalty(&L, w);
		w[j] = save;
		double fd = (fp - fm) / ((double)wp - (double)wm);
		assert_close(dw[j], fd, 1e-3, 1e-7);
		nA += b == 0;
		nB += b == 1;
		checked++;
	}
	assert_true(nA >= 5 && nB >= 5);
	assert_true(checked >= N * 3 / 4);

	/* d/da_c (branches must not switch within the step) */
	const double ha = 1e-4;
	for (int c = 0; c < C; c++) {
		float a0 = L.a[c], ap = (float)(a0 + ha), am = (float)(a0 - ha);
		for (int j = c * PER; j < (c + 1) * PER; j++) {
			assert_int_equal(branch(w[j], ap, T, p), branch(w[j], am, T, p));
			if (p == 1)
				assert_int_equal(ap - fabsf(w[j]) > 0, am - fabsf(w[j]) > 0);
		}
		L.a[c] = ap;
		double fp = penalty(&L, w);
		L.a[c] = am;
		double fm = penalty(&L, w);
		L.a[c] = a0;
		double fd = (fp - fm) / ((double)ap - (double)am);
		assert_close(L.grad[c], fd, 1e-3, 1e-7);
		assert_true(fabs(fd) > 1e-6); /* not a vacuous check */
	}

	/* d/dbeta, including the prior */
	const double hb = 1e-4;
	float b0 = L.param[C], bp = (float)(b0 + hb), bm = (float)(b0 - hb);
	for (int j = 0; j < N; j++)
		assert_int_equal(branch(w[j], L.a[j / PER], tan(bp), p),
		                 branch(w[j], L.a[j / PER], tan(bm), p));
	L.param[C] = bp;
	double fp = penalty(&L, w);
	L.param[C] = bm;
	double fm = penalty(&L, w);
	L.param[C] = b0;
	double fd = (fp - fm) / ((double)bp - (double)bm);
	assert_close(L.grad[C], fd, 1e-3, 1e-7);
	sq_layer_free(&L);
}

static void test_regularizer_fd_p2(void **state)
{
	(void)state;
	regularizer_fd(2, SQ_BALANCE_COUNT);
}

static void test_regularizer_fd_p1(void **state)
{
	(void)state;
	regularizer_fd(1, SQ_BALANCE_COUNT);
}

static void test_regularizer_fd_gradient_balance(void **state)
{
	(void)state;
	regularizer_fd(2, SQ_BALANCE_GRADIENT);
	regularizer_fd(1, SQ_BALANCE_GRADIENT);
}

/* Gradient balance, by hand: weights exactly at +-a (R = 0), so the penalty is the
 * prior's alone, lambda_l gamma_l cot(beta) with lambda_l = lambda g / (p sigma^(p-1)) and
 * gamma_l = gamma n sigma^p; the running RMS g: the first observation, then 0.99 / 0.01. */
static void test_gradient_balance(void **state)
{
	(void)state;
	const float w[4] = {0.5f, -0.5f, 0.5f, 0.5f}; /* mean 0.25, sigma = sqrt(0.1875) */
	const double sigma = sqrt(0.1875);
	SqHyper h = sq_hyper_defaults();
	h.gamma = 3.0f;
	h.lambda = 8.0f;
	h.balance = SQ_BALANCE_GRADIENT;
	SqLayer L = make(SQ_Q_SQ, w, 1, 4, &h);
	assert_near(L.sigma, sigma, 1e-7);
	float dw[4] = {0};
	/* nothing observed yet: no regularizer at all */
	assert_true(sq_regularize(&L, w, dw) == 0.0);
	assert_true(L.grad[1] == 0.0f);
	const float g1[4] = {0.2f, -0.2f, 0.2f, -0.2f}, g2[4] = {1, 1, -1, -1};
	sq_observe_task_grad(&L, g1);
	assert_near(L.grad_rms, 0.2, 1e-7);
	sq_observe_task_grad(&L, g2);
	const double g = 0.99 * 0.2 + 0.01 * 1.0;
	assert_near(L.grad_rms, g, 1e-7);
	L.param[1] = 1.0f;
	const double lam = 8.0 * g / (2 * sigma), gam = 3.0 * 4 * sigma * sigma;
	sq_zero_grad(&L);
	double pen = sq_regularize(&L, w, dw);
	assert_near(pen, lam * gam * cos(1.0) / sin(1.0), 1e-6);
	assert_near(L.grad[1], -lam * gam / (sin(1.0) * sin(1.0)), 1e-5);
	for (int j = 0; j < 4; j++)
		assert_true(dw[j] == 0.0f);
	sq_layer_free(&L);

	/* p = 1: lambda_l = lambda g (sigma^0), gamma_l = gamma n sigma */
	h.p = 1;
	L = make(SQ_Q_SQ, w, 1, 4, &h);
	sq_observe_task_grad(&L, g1);
	L.param[1] = 1.0f;
	sq_zero_grad(&L);
	pen = sq_regularize(&L, w, dw);
	assert_near(pen, (8.0 * 0.2) * (3.0 * 4 * sigma) * cos(1.0) / sin(1.0), 1e-6);
	sq_layer_free(&L);
	h.p = 2;

	/* count balance and other methods ignore observations */
	h.balance = SQ_BALANCE_COUNT;
	L = make(SQ_Q_SQ, w, 1, 4, &h);
	sq_observe_task_grad(&L, g2);
	assert_true(L.grad_rms == 0.0);
	sq_layer_free(&L);
	h.balance = SQ_BALANCE_GRADIENT;
	L = make(SQ_Q_TWN, w, 1, 4, &h);
	sq_observe_task_grad(&L, g2);
	assert_true(L.grad_rms == 0.0);
	sq_layer_free(&L);
	/* an out-of-range balance is a hyper-parameter error naming it */
	char msg[160];
	h.balance = 2;
	assert_int_equal(sq_hyper_check(&h, msg, sizeof msg), -1);
	assert_non_null(strstr(msg, "balance"));
}

/* Weights sitting exactly at +-a: R = 0 (branch B, A = tan(beta) a^p > 0), so the beta
 * gradient is the prior's alone: lambda_l * -gamma / sin^2(beta), at several beta. */
static void test_prior_derivative(void **state)
{
	(void)state;
	const float w[4] = {0.5f, -0.5f, 0.5f, 0.5f};
	SqHyper h = sq_hyper_defaults();
	h.gamma = 3.0f;
	h.lambda = 8.0f; /* lambda_l = 2 */
	const float betas[4] = {(float)(PI / 4), 1.0f, 1.3f, 1.55f};
	for (int i = 0; i < 4; i++) {
		SqLayer L = make(SQ_Q_SQ, w, 1, 4, &h);
		assert_near(L.a[0], 0.5, 1e-7);
		L.param[1] = betas[i];
		float dw[4] = {0};
		double pen = sq_regularize(&L, w, dw);
		double b = betas[i];
		assert_near(pen, 2 * 3.0 / tan(b), 1e-5);
		assert_near(L.grad[1], -2 * 3.0 / (sin(b) * sin(b)), 1e-4);
		for (int j = 0; j < 4; j++)
			assert_near(dw[j], 0, 0);
		/* finite difference of the penalty */
		const double hb = 1e-3;
		L.param[1] = (float)(b + hb);
		double fp = penalty(&L, w);
		L.param[1] = (float)(b - hb);
		double fm = penalty(&L, w);
		double fd = (fp - fm) / ((double)(float)(b + hb) - (double)(float)(b - hb));
		assert_close(L.grad[1], fd, 1e-3, 1e-6);
		sq_layer_free(&L);
	}
}

/* ==== trainable scalars: projection ======================================================== */

static void test_project_ranges(void **state)
{
	(void)state;
	SqLayer L = make(SQ_Q_SQ, W8, 2, 4, NULL);
	SqHyper h = sq_hyper_defaults();
	/* an optimizer step far beyond the top */
	L.param[2] += 10.0f;
	sq_project(&L, NULL);
	assert_near(L.param[2], h.beta_max, 0);
	assert_true(tan(L.param[2]) < 1.1e3 && isfinite(tan(L.param[2])));
	/* and below the bottom; negative and NaN scales */
	L.param[2] -= 10.0f;
	L.a[0] = -0.3f;
	L.a[1] = NAN;
	sq_project(&L, NULL);
	assert_near(L.param[2], h.beta_min, 0);
	assert_true(L.a[0] > 0 && L.a[1] > 0);
	assert_near(L.a[0], h.a_min_rel * L.sigma, 1e-9);
	/* in range: untouched */
	L.param[2] = 1.2f;
	L.a[0] = 0.7f;
	sq_project(&L, NULL);
	assert_near(L.param[2], 1.2f, 0);
	assert_near(L.a[0], 0.7f, 0);
	/* repeated gradient steps of any sign keep beta in [pi/4, pi/2 - 1e-3] */
	rng_seed(3);
	for (int it = 0; it < 200; it++) {
		L.param[2] -= (float)(0.5 * rng_gauss());
		sq_project(&L, NULL);
		assert_true(L.param[2] >= h.beta_min && L.param[2] <= h.beta_max);
	}
	sq_layer_free(&L);
}

/* ==== the decision rule ==================================================================== */

static void test_decide(void **state)
{
	(void)state;
	/* (a) empty zero bucket -> 1 bit even with tan(beta) = 1 */
	SqLayer L = make(SQ_Q_SQ, W8, 2, 4, NULL);
	float w2[8];
	for (int j = 0; j < 8; j++)
		w2[j] = W8[j] < 0 ? -0.7f : 0.7f; /* all |w| > Delta = 0.294 */
	assert_near(sq_zero_fraction(&L, w2), 0, 0);
	L.param[2] = 1.2f; /* tan 2.57: the bucket decides, and this beta gets frozen */
	assert_int_equal(sq_decide(&L, w2), 1);
	/* frozen: binary codes sign(w) now, also for weights inside the old bucket */
	int8_t t[8];
	float wq[8];
	sq_forward(&L, W8, wq, t);
	for (int j = 0; j < 8; j++)
		assert_int_equal(t[j], W8[j] < 0 ? -1 : 1);
	assert_near(wq[1], -L.a[0], 0);
	assert_int_equal(sq_decide(&L, W8), 1); /* the first call decided */
	/* beta is frozen: the regularizer leaves its gradient, the projection restores it */
	float dw[8] = {0};
	float b0 = L.param[2];
	sq_zero_grad(&L);
	sq_regularize(&L, W8, dw);
	assert_near(L.grad[2], 0, 0);
	L.param[2] += 0.3f;
	sq_project(&L, NULL);
	assert_near(L.param[2], b0, 0);
	assert_near(b0, 1.2f, 0);
	/* 1-bit regularizer is R_b = |a - |w||^2: -0.2 is pulled toward -a, not to 0 */
	assert_true(dw[1] > 0);
	sq_layer_free(&L);

	/* (b) a quarter of the weights in the bucket, but tan(beta) >= 20 -> 1 bit */
	L = make(SQ_Q_SQ, W8, 2, 4, NULL);
	L.param[2] = (float)atan(20.0) + 1e-6f;
	assert_true(sq_tan_beta(&L) >= 20);
	assert_int_equal(sq_decide(&L, W8), 1);
	sq_layer_free(&L);

	/* (c) otherwise 2 bits: bucket 25 % and tan(beta) = 19 */
	L = make(SQ_Q_SQ, W8, 2, 4, NULL);
	L.param[2] = (float)atan(19.0);
	assert_int_equal(sq_decide(&L, W8), 2);
	sq_forward(&L, W8, wq, t);
	assert_int_equal(t[1], 0); /* ternary codes keep the zero bucket */
	assert_int_equal(sq_bits(&L), 2);
	sq_layer_free(&L);

	/* (d) the zero_frac_max boundary is inclusive: 1 of 100 weights in the bucket */
	float w100[100];
	rng_seed(11);
	for (int j = 0; j < 100; j++)
		w100[j] = (float)(0.1 * rng_gauss());
	L = make(SQ_Q_SQ, w100, 4, 25, NULL);
	for (int j = 0; j < 100; j++)
		w100[j] = w100[j] < 0 ? -0.2f : 0.2f;
	w100[17] = 0.0f;
	assert_near(sq_zero_fraction(&L, w100), 0.01, 1e-12);
	assert_int_equal(sq_decide(&L, w100), 1);
	sq_layer_free(&L);
	L = make(SQ_Q_SQ, w100, 4, 25, NULL); /* sigma of the new weights */
	w100[18] = 0.0f;                       /* 2 % */
	assert_int_equal(sq_decide(&L, w100), 2);
	sq_layer_free(&L);
}

/* SQ-fixed-1 ablation: beta frozen at the top from the start: no beta gradient, and the
 * rule calls it binary through tan(beta) >= 20. */
static void test_fixed_beta(void **state)
{
	(void)state;
	SqHyper h = sq_hyper_defaults();
	h.train_beta = 0;
	h.beta_init = h.beta_max;
	SqLayer L = make(SQ_Q_SQ, W8, 2, 4, &h);
	float dw[8] = {0};
	sq_regularize(&L, W8, dw);
	assert_near(L.grad[2], 0, 0);
	L.param[2] = 0.9f;
	sq_project(&L, NULL);
	assert_near(L.param[2], h.beta_max, 0);
	assert_int_equal(sq_decide(&L, W8), 1);
	sq_layer_free(&L);
}

/* ==== toy optimization: the mechanism ====================================================== */

/* Plain gradient descent on w, a and beta minimizing only lambda_l (R_l + gamma cot beta)
 * for Gaussian weights. A large gamma drives beta to the top and empties the zero bucket
 * (binary); gamma = 0 keeps beta at pi/4 and the zero valley populated (ternary). Step
 * sizes: lambda_l = 1 and lr_w = 5e-4 keep the steepest valley (2 tan(beta) <= 2000)
 * stable. */
static void toy(float gamma, int *bits, double *tanb, double *zf0, double *zf1, double *spread)
{
	enum { C = 4, PER = 256, N = C * PER };
	static float w[N], dw[N];
	rng_seed(42);
	for (int j = 0; j < N; j++)
		w[j] = (float)(0.1 * rng_gauss());
	SqHyper h = sq_hyper_defaults();
	h.lambda = (float)N; /* lambda_l = 1 */
	h.gamma = gamma;
	SqLayer L = make(SQ_Q_SQ, w, C, PER, &h);
	*zf0 = sq_zero_fraction(&L, w);
	for (int it = 0; it < 3000; it++) {
		memset(dw, 0, sizeof dw);
		sq_zero_grad(&L);
		sq_regularize(&L, w, dw);
		for (int j = 0; j < N; j++)
			w[j] -= 5e-4f * dw[j];
		for (int c = 0; c < C; c++)
			L.a[c] -= 1e-3f * L.grad[c];
		L.param[C] -= 1e-3f * L.grad[C];
		sq_project(&L, w);
	}
	*zf1 = sq_zero_fraction(&L, w);
	*tanb = sq_tan_beta(&L);
	/* how far the weights outside the bucket are from their valley +-a_c, relative */
	double s = 0;
	int k = 0;
	for (int j = 0; j < N; j++)
		if (fabsf(w[j]) > L.delta) {
			s += fabs(fabsf(w[j]) - L.a[j / PER]) / L.a[j / PER];
			k++;
		}
	*spread = k ? s / k : 1;
	*bits = sq_decide(&L, w);
	sq_layer_free(&L);
}

static void test_toy_optimization(void **state)
{
	(void)state;
	int bits;
	double tanb, zf0, zf1, spread;
	toy(50.0f, &bits, &tanb, &zf0, &zf1, &spread);
	assert_near(zf0, 1.0 / 3, 0.05); /* Delta = PhiInv(2/3) sigma: a third at the start */
	assert_int_equal(bits, 1);
	assert_true(tanb >= 20);
	assert_true(zf1 < 0.1); /* the zero bucket emptied (what is left sits at 0) */
	assert_true(spread < 0.05);

	toy(0.0f, &bits, &tanb, &zf0, &zf1, &spread);
	assert_int_equal(bits, 2);
	assert_near(tanb, 1.0, 1e-6); /* beta stayed at pi/4 */
	assert_true(zf1 > 0.25);      /* the zero valley kept its weights */
	assert_true(spread < 0.05);
}

/* ==== activations (LSQ / UniQ) ============================================================= */

static void test_act_forward_hand(void **state)
{
	(void)state;
	SqAct q;
	assert_int_equal(sq_act_init(&q, 2, 0), 0);
	assert_int_equal(q.qn, 0);
	assert_int_equal(q.qp, 3);
	q.s = 0.5f;
	/* v = x / s = -0.6 0.2 0.52 1.48 2.4 4.0 -> u = 0 0 1 1 2 3 (clip at Q = 3);
	 * ties round half to even: v = 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 */
	const float x[9] = {-0.3f, 0.1f, 0.26f, 0.74f, 1.2f, 2.0f, 0.25f, 0.75f, 1.25f};
	static const uint8_t eu[9] = {0, 0, 1, 1, 2, 3, 0, 2, 2};
	float y[9];
	uint8_t u[9];
	sq_act_forward(&q, x, y, 9);
	assert_int_equal(sq_act_codes(&q, x, u, 9), 0);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(u[i], eu[i]);
		assert_near(y[i], 0.5 * eu[i], 0);
	}
	int8_t si[9];
	assert_int_equal(sq_act_codes_signed(&q, x, si, 9), -1); /* wrong signedness */

	/* signed 2-bit: Q_N = 2, Q_P = 1 */
	assert_int_equal(sq_act_init(&q, 2, 1), 0);
	assert_int_equal(q.qn, 2);
	assert_int_equal(q.qp, 1);
	q.s = 1.0f;
	const float xs[6] = {-3.0f, -1.4f, -0.6f, 0.4f, 0.6f, 2.0f};
	static const int8_t es[6] = {-2, -1, -1, 0, 1, 1};
	assert_int_equal(sq_act_codes_signed(&q, xs, si, 6), 0);
	sq_act_forward(&q, xs, y, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(si[i], es[i]);
		assert_near(y[i], es[i], 0);
	}
	assert_int_equal(sq_act_codes(&q, xs, u, 6), -1);

	/* NaN and infinities map into the range */
	const float bad[3] = {NAN, INFINITY, -INFINITY};
	assert_int_equal(sq_act_codes_signed(&q, bad, si, 3), 0);
	assert_int_equal(si[0], -2);
	assert_int_equal(si[1], 1);
	assert_int_equal(si[2], -2);

	/* invalid configurations; 32 bits = identity */
	assert_int_equal(sq_act_init(&q, 1, 1), -1);
	assert_int_equal(sq_act_init(&q, 9, 0), -1);
	assert_int_equal(sq_act_init(&q, 0, 0), -1);
	assert_int_equal(sq_act_init(&q, 32, 0), 0);
	sq_act_forward(&q, x, y, 9);
	assert_memory_equal(y, x, sizeof y);
	const float dy[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	float dx[9];
	sq_act_backward(&q, x, dy, dx, 9);
	assert_memory_equal(dx, dy, sizeof dx);
	assert_near(q.grad, 0, 0);
	assert_int_equal(sq_act_codes(&q, x, u, 9), -1);
}

/* LSQ backward, by hand: unsigned 2 bits, s = 0.5, dy = 1:
 * v = -0.6 0.2 0.52 1.48 2.4 4.0 3.0; dx = 0 1 1 1 1 0 0 (v = Q_P exactly is outside);
 * ds terms = 0 (=-Q_N) -0.2 0.48 -0.48 -0.4 3 3 (=Q_P), sum 5.4; g = 1/sqrt(7 * 3). */
static void test_act_backward_hand(void **state)
{
	(void)state;
	SqAct q;
	sq_act_init(&q, 2, 0);
	q.s = 0.5f;
	const float x[7] = {-0.3f, 0.1f, 0.26f, 0.74f, 1.2f, 2.0f, 1.5f};
	const float dy[7] = {1, 1, 1, 1, 1, 1, 1};
	float dx[7];
	sq_act_backward(&q, x, dy, dx, 7);
	static const float edx[7] = {0, 1, 1, 1, 1, 0, 0};
	for (int i = 0; i < 7; i++)
		assert_near(dx[i], edx[i], 0);
	assert_near(q.grad, 5.4 / sqrt(21.0), 1e-6);
	/* accumulates; in place */
	float g[7];
	memcpy(g, dy, sizeof g);
	sq_act_backward(&q, x, g, g, 7);
	assert_near(q.grad, 10.8 / sqrt(21.0), 1e-6);
	assert_near(g[0], 0, 0);
	assert_near(g[1], 1, 0);
	/* projection keeps s > 0 */
	q.s = -1.0f;
	sq_act_project(&q);
	assert_true(q.s > 0);
}

/* Sum_i dy_i y_i(s) for the forward, in double. */
static double act_loss(SqAct *q, const float *x, const float *dy, int n)
{
	float y[64];
	sq_act_forward(q, x, y, n);
	double l = 0;
	for (int i = 0; i < n; i++)
		l += (double)dy[i] * y[i];
	return l;
}

/* Finite differences for ds where they are valid: outside the range the forward is
 * s * (-Q_N or Q_P), so d/ds is exact there; inside the forward's true derivative is
 * round(v) (piecewise constant rounding) and LSQ's is round(v) - v, so
 * LSQ = FD - sum_inside dy v, checked away from rounding ties. */
static void test_act_ds_fd(void **state)
{
	(void)state;
	for (int sg = 0; sg <= 1; sg++) {
		SqAct q;
		sq_act_init(&q, 3, sg);
		q.s = 0.25f;
		const int n = 40;
		float x[40], dy[40];
		rng_seed(100 + (uint64_t)sg);
		/* clipped region only: |v| well beyond the range */
		for (int i = 0; i < n; i++) {
			double m = 2.0 + rng_unif(); /* 2..3 times the range end */
			int hi = sg ? (i & 1) : 1;
			x[i] = (float)(hi ? m * q.qp * q.s : -m * (q.qn ? q.qn : 1) * q.s);
			dy[i] = (float)rng_gauss();
		}
		const double h = 1e-3;
		float s0 = q.s;
		q.s = (float)(s0 + h);
		double fp = act_loss(&q, x, dy, n);
		q.s = (float)(s0 - h);
		double fm = act_loss(&q, x, dy, n);
		q.s = s0;
		double fd = (fp - fm) / ((double)(float)(s0 + h) - (double)(float)(s0 - h));
		q.grad = 0;
		float dx[40];
		sq_act_backward(&q, x, dy, dx, n);
		double gs = 1.0 / sqrt((double)n * q.qp);
		assert_close(q.grad, gs * fd, 1e-4, 1e-6);
		assert_true(fabs(fd) > 1e-3);

		/* mixed: inside values with v at least 0.1 away from a half-integer */
		double inside = 0;
		for (int i = 0; i < n; i++) {
			double v;
			do {
				v = -q.qn - 1 + rng_unif() * (q.qp + q.qn + 2);
			} while (fabs(v - floor(v) - 0.5) < 0.1 || fabs(v + q.qn) < 0.1 ||
			         fabs(v - q.qp) < 0.1);
			x[i] = (float)(v * q.s);
			double vv = (double)(x[i] * (1.0f / q.s));
			if (vv > -q.qn && vv < q.qp)
				inside += dy[i] * vv;
		}
		q.s = (float)(s0 + h);
		fp = act_loss(&q, x, dy, n);
		q.s = (float)(s0 - h);
		fm = act_loss(&q, x, dy, n);
		q.s = s0;
		fd = (fp - fm) / ((double)(float)(s0 + h) - (double)(float)(s0 - h));
		q.grad = 0;
		sq_act_backward(&q, x, dy, dx, n);
		assert_close(q.grad, gs * (fd - inside), 1e-4, 1e-6);
	}
}

/* y == s * u bit for bit, every bit width and both signednesses; rounding = rintf. */
static void test_act_codes_exact(void **state)
{
	(void)state;
	enum { N = 4096 };
	static float x[N], y[N];
	static uint8_t u[N];
	static int8_t v[N];
	static const int widths[] = {1, 2, 3, 4, 5, 6, 7, 8};
	rng_seed(5);
	for (size_t b = 0; b < sizeof widths / sizeof widths[0]; b++)
		for (int sg = 0; sg <= 1; sg++) {
			SqAct q;
			if (sq_act_init(&q, widths[b], sg) != 0) {
				assert_true(sg && widths[b] == 1);
				continue;
			}
			for (int i = 0; i < N; i++)
				x[i] = (float)(sg ? rng_gauss() : fmax(0.0, rng_gauss()));
			sq_act_init_calibrate(&q, x, N);
			assert_true(q.s > 0);
			/* a few exact ties and range ends */
			x[0] = 0.5f * q.s;
			x[1] = 1.5f * q.s;
			x[2] = (float)q.qp * q.s;
			x[3] = 1e30f;
			sq_act_forward(&q, x, y, N);
			float inv = sq_act_inv_step(&q);
			if (sg) {
				assert_int_equal(sq_act_codes_signed(&q, x, v, N), 0);
				for (int i = 0; i < N; i++) {
					assert_true(q.s * (float)v[i] == y[i]);
					float ref = rintf(fminf(fmaxf(x[i] * inv, (float)-q.qn), (float)q.qp));
					assert_true((float)v[i] == ref);
				}
			} else {
				assert_int_equal(sq_act_codes(&q, x, u, N), 0);
				for (int i = 0; i < N; i++) {
					assert_true(q.s * (float)u[i] == y[i]);
					float ref = rintf(fminf(fmaxf(x[i] * inv, 0.0f), (float)q.qp));
					assert_true((float)u[i] == ref);
				}
				assert_int_equal(u[3], q.qp);
			}
		}
}

/* UniQ init: s = max over batches of sqrt(2 mean x^2) Dplus_k (unsigned). */
static void test_act_calibrate(void **state)
{
	(void)state;
	SqAct q;
	sq_act_init(&q, 2, 0);
	const float b1[4] = {1, -1, 1, -1}; /* mean x^2 = 1 -> sqrt(2) * 0.65077 = 0.920331 */
	const float b2[2] = {0.5f, 0.5f};   /* smaller: s stays */
	const float b3[2] = {2, 2};         /* mean 4 -> 2 sqrt(2) 0.65077 = 1.840662 */
	sq_act_init_calibrate(&q, b1, 4);
	assert_near(q.s, sqrt(2.0) * 0.65077, 1e-6);
	sq_act_init_calibrate(&q, b2, 2);
	assert_near(q.s, sqrt(2.0) * 0.65077, 1e-6);
	sq_act_init_calibrate(&q, b3, 2);
	assert_near(q.s, 2 * sqrt(2.0) * 0.65077, 1e-6);
	assert_int_equal(q.ncalib, 3);
	static const double dplus[9] = {0, 1.22399, 0.65077, 0.35341, 0.19325, 0, 0, 0, 0.01653};
	for (int k = 1; k <= 8; k++) {
		if (dplus[k] == 0)
			continue;
		sq_act_init(&q, k, 0);
		sq_act_init_calibrate(&q, b1, 4);
		assert_near(q.s, sqrt(2.0) * dplus[k], 1e-6);
	}
	/* all-zero calibration data still leaves s > 0 */
	const float z[3] = {0, 0, 0};
	sq_act_init(&q, 4, 0);
	sq_act_init_calibrate(&q, z, 3);
	assert_true(q.s > 0);
	/* signed: D+- table, sqrt(mean x^2) = 1 -> s = 0.33861 for 4 bits */
	sq_act_init(&q, 4, 1);
	sq_act_init_calibrate(&q, b1, 4);
	assert_near(q.s, 0.33861, 1e-6);
}

/* ==== compression ========================================================================= */

static void test_compression(void **state)
{
	(void)state;
	/* LeNet-5 (6-16-120-84-10): conv1 6x1x5x5, conv2 16x6x5x5, fc 400x120, 120x84, 84x10;
	 * the paper's SQ result 1-1-2-2-2 gives 32 * 61470 / 120390 = 16.34 (paper: 16.3). */
	const int64_t n[5] = {150, 2400, 48000, 10080, 840};
	const int sq[5] = {1, 1, 2, 2, 2}, b1[5] = {1, 1, 1, 1, 1}, b2[5] = {2, 2, 2, 2, 2};
	double r = sq_compression_ratio(n, sq, 5);
	assert_near(r, 32.0 * 61470 / 120390, 1e-9);
	assert_near(round(r * 10) / 10, 16.3, 1e-9);
	assert_near(sq_compression_ratio(n, b1, 5), 32, 1e-12);
	assert_near(sq_compression_ratio(n, b2, 5), 16, 1e-12);
	/* first and last layers kept in float */
	const int fl[5] = {32, 1, 1, 1, 32};
	assert_near(sq_compression_ratio(n, fl, 5), 32.0 * 61470 / (32 * 990 + 60480), 1e-9);

	/* packed bytes: conv1 1-bit: 6 rows of ceil(25/8) = 4 bytes + 6 scales + 6 biases */
	assert_int_equal(sq_packed_bytes(6, 25, 1, 1), 6 * 4 + 24 + 24);
	/* fc1 ternary, 120 rows of 400 weights: 2 planes x 50 bytes + scales, no bias */
	assert_int_equal(sq_packed_bytes(120, 400, 2, 0), 120 * 100 + 480);
	assert_int_equal(sq_packed_bytes(10, 84, 32, 1), 4 * 840 + 40);
}


/* ==== the per-channel parallel loops ======================================================= */

/* One run of forward, backward, regularizer and the activation quantizer's backward on a
 * layer big enough for the thread pool (C = 64, per = 1153: blocks of 16 plus a remainder),
 * at a given thread count; the outputs in out[] (wq, dw, reg dw, grads, R, act grad). */
typedef struct {
	float *wq, *wq_codes, *dw, *rdw, *grad, *act_dx;
	int8_t *codes;
	double R;
	float act_grad;
} ParRun;

static void par_run(const float *w, const float *g, int64_t C, int64_t per, int p, int bits,
                    int threads, ParRun *o)
{
	int64_t n = C * per;
	rt_set_threads(threads);
	SqHyper h = sq_hyper_defaults();
	h.p = p;
	SqLayer L = make(SQ_Q_SQ, w, C, per, &h);
	if (bits == 1) {
		L.param[C] = (float)(PI / 2 - 1e-3); /* tan(beta) past tan_binary: binary */
		assert_int_equal(sq_decide(&L, w), 1);
	}
	o->wq = malloc(sizeof(float) * (size_t)n);
	o->wq_codes = malloc(sizeof(float) * (size_t)n);
	o->dw = malloc(sizeof(float) * (size_t)n);
	o->rdw = calloc((size_t)n, sizeof(float));
	o->grad = malloc(sizeof(float) * (size_t)(C + 1));
	o->act_dx = malloc(sizeof(float) * (size_t)n);
	o->codes = malloc((size_t)n);
	sq_forward(&L, w, o->wq, NULL);
	sq_forward(&L, w, o->wq_codes, o->codes);
	sq_zero_grad(&L);
	sq_backward(&L, w, g, o->dw);
	o->R = sq_regularize(&L, w, o->rdw);
	memcpy(o->grad, L.grad, sizeof(float) * (size_t)(C + 1));
	SqAct q;
	assert_int_equal(sq_act_init(&q, 4, 0), 0);
	sq_act_init_calibrate(&q, w, n);
	sq_act_backward(&q, w, g, o->act_dx, n);
	o->act_grad = q.grad;
	sq_layer_free(&L);
	rt_set_threads(0);
}

static void par_free(ParRun *o)
{
	free(o->wq), free(o->wq_codes), free(o->dw), free(o->rdw), free(o->grad), free(o->act_dx);
	free(o->codes);
}

static void test_parallel_layer(void **state)
{
	(void)state;
	const int64_t C = 64, per = 1153, n = C * per;
	float *w = malloc(sizeof(float) * (size_t)n), *g = malloc(sizeof(float) * (size_t)n);
	rng_seed(77);
	for (int64_t j = 0; j < n; j++) {
		w[j] = (float)(0.1 * rng_gauss());
		g[j] = (float)(0.01 * rng_gauss());
	}
	for (int64_t j = 0; j < n; j += 97) /* signed zeros */
		w[j] = j % 2 ? -0.0f : 0.0f;
	for (int p = 1; p <= 2; p++)
		for (int bits = 0; bits <= 1; bits += 1) {
			ParRun a, b;
			par_run(w, g, C, per, p, bits, 1, &a);
			/* exactly the threshold (|w| > delta is the test) */
			SqLayer L = make(SQ_Q_SQ, w, C, per, NULL);
			float delta = L.delta;
			sq_layer_free(&L);
			for (int64_t j = 0; j < n; j++) {
				/* the blocked path agrees with the scalar one, codes included */
				assert_true(memcmp(&a.wq[j], &a.wq_codes[j], sizeof(float)) == 0);
				float t = bits == 1 ? (w[j] < 0 ? -1.0f : 1.0f)
				          : fabsf(w[j]) > delta ? (w[j] < 0 ? -1.0f : 1.0f) : 0.0f;
				assert_int_equal(a.codes[j], (int)t);
			}
			par_run(w, g, C, per, p, bits, 2, &b);
			assert_true(memcmp(a.wq, b.wq, sizeof(float) * (size_t)n) == 0);
			assert_true(memcmp(a.dw, b.dw, sizeof(float) * (size_t)n) == 0);
			assert_true(memcmp(a.rdw, b.rdw, sizeof(float) * (size_t)n) == 0);
			assert_true(memcmp(a.grad, b.grad, sizeof(float) * (size_t)(C + 1)) == 0);
			assert_true(memcmp(a.act_dx, b.act_dx, sizeof(float) * (size_t)n) == 0);
			assert_true(memcmp(&a.R, &b.R, sizeof a.R) == 0);
			assert_true(memcmp(&a.act_grad, &b.act_grad, sizeof a.act_grad) == 0);
			par_free(&a);
			par_free(&b);
		}
	free(w);
	free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hyper_defaults),
		cmocka_unit_test(test_sq_init_forward),
		cmocka_unit_test(test_sq_backward_ste),
		cmocka_unit_test(test_bc),
		cmocka_unit_test(test_bwn),
		cmocka_unit_test(test_twn),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_nonfinite_weights),
		cmocka_unit_test(test_regularizer_hand),
		cmocka_unit_test(test_regularizer_fd_p2),
		cmocka_unit_test(test_regularizer_fd_p1),
		cmocka_unit_test(test_regularizer_fd_gradient_balance),
		cmocka_unit_test(test_gradient_balance),
		cmocka_unit_test(test_prior_derivative),
		cmocka_unit_test(test_project_ranges),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_fixed_beta),
		cmocka_unit_test(test_toy_optimization),
		cmocka_unit_test(test_act_forward_hand),
		cmocka_unit_test(test_act_backward_hand),
		cmocka_unit_test(test_act_ds_fd),
		cmocka_unit_test(test_act_codes_exact),
		cmocka_unit_test(test_act_calibrate),
		cmocka_unit_test(test_compression),
		cmocka_unit_test(test_parallel_layer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
