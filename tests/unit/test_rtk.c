/* tests/unit/test_rtk.c: the kernel library of generated code (runtime/kernels/), built
 * natively with its SIMD paths, against its scalar twins (bit for bit) and against the
 * reference kernels of runtime/rt.h (the oracle).
 *
 * Quantized convolution: every case runs twice, once with random step/scale/bias/relu
 * (SIMD == scalar bit for bit; both within 1e-5 * sum|terms| of rt_conv_ref on the
 * dequantized operands) and once with scale = step = 1 and no bias, where y must equal
 * the integer sum S of a plain integer loop exactly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/kernels.h"
#include "runtime/rt.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------------------- */

/* 64-byte aligned, zeroed, at least 64 bytes. */
static void *alloc64(size_t n)
{
	n = (n + 63) & ~(size_t)63;
	if (n == 0)
		n = 64;
	void *p = aligned_alloc(64, n);
	assert_non_null(p);
	memset(p, 0, n);
	return p;
}

static float *rand_buf(Rng *r, int64_t n)
{
	float *p = alloc64((size_t)n * sizeof *p);
	for (int64_t i = 0; i < n; i++)
		p[i] = rng_float(r);
	return p;
}

static int same_bits(float a, float b)
{
	uint32_t ua, ub;
	memcpy(&ua, &a, 4);
	memcpy(&ub, &b, 4);
	return ua == ub;
}

/* Fails unless got and want are the same floats bit for bit. */
static void check_same(const char *what, int iter, const float *got, const float *want,
                       int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (!same_bits(got[i], want[i]))
			fail_msg("%s (case %d) [%lld]: got %.9g, want %.9g", what, iter, (long long)i,
			         (double)got[i], (double)want[i]);
}

/* Fails unless |got[i] - want[i]| <= tol * bound[i] (bound: the sum of |terms|). */
static void check_bound(const char *what, int iter, const float *got, const float *want,
                        const float *bound, int64_t n, float tol)
{
	for (int64_t i = 0; i < n; i++)
		if (!(fabsf(got[i] - want[i]) <= tol * bound[i]))
			fail_msg("%s (case %d) [%lld]: got %.9g, want %.9g, sum|terms| %.9g", what, iter,
			         (long long)i, (double)got[i], (double)want[i], (double)bound[i]);
}

/* Fails unless |got[i] - want[i]| <= tol * max(1, |want[i]|); equal values (infinities)
 * and NaN against NaN pass. */
static void check_near(const char *what, int iter, const float *got, const float *want,
                       int64_t n, float tol)
{
	for (int64_t i = 0; i < n; i++) {
		if ((isnan(want[i]) && isnan(got[i])) || got[i] == want[i])
			continue;
		float lim = tol * (fabsf(want[i]) > 1 ? fabsf(want[i]) : 1.0f);
		if (!(fabsf(got[i] - want[i]) <= lim))
			fail_msg("%s (case %d) [%lld]: got %.9g, want %.9g", what, iter, (long long)i,
			         (double)got[i], (double)want[i]);
	}
}

/* Conv geometry with the ONNX output size; pb, pr: bottom/right padding. */
/* Random cuts of units [0, n) into 1-4 ranges [c[i], c[i+1]) (some empty when n is
 * small): how NAME_run_parallel's tasks split a kernel's K_part. Returns the count. */
static int split_units(Rng *r, int64_t n, int64_t c[5])
{
	int parts = (int)rng_int(r, 1, 4);
	c[0] = 0;
	c[parts] = n;
	for (int i = 1; i < parts; i++)
		c[i] = rng_int(r, c[i - 1], n);
	return parts;
}

/* Scratch of a split call: the shared part, then each range's private part (dirty). */
static void *split_scratch(size_t shared, size_t priv, int parts)
{
	size_t n = shared + priv * (size_t)parts;
	void *s = alloc64(n ? n : 64);
	memset(s, 0x6b, n);
	return s;
}

#define SPLIT_PRIV(s, shared, priv, i) ((char *)(s) + (shared) + (size_t)(i) * (priv))

static RtkConv mkconv(int c, int h, int w, int m, int kh, int kw, int sh, int sw, int dh,
                      int dw, int pt, int pl, int pb, int pr, int group)
{
	RtkConv g = {.c = c, .h = h, .w = w, .m = m, .kh = kh, .kw = kw, .sh = sh, .sw = sw,
	             .dh = dh, .dw = dw, .pt = pt, .pl = pl, .group = group};
	g.oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
	g.ow = (w + pl + pr - dw * (kw - 1) - 1) / sw + 1;
	return g;
}

static RtConv rtconv(const RtkConv *g)
{
	RtConv p = {.nsp = 2, .n = 1, .c = g->c, .m = g->m, .group = g->group};
	p.in[0] = g->h;
	p.in[1] = g->w;
	p.out[0] = g->oh;
	p.out[1] = g->ow;
	p.k[0] = g->kh;
	p.k[1] = g->kw;
	p.stride[0] = g->sh;
	p.stride[1] = g->sw;
	p.dil[0] = g->dh;
	p.dil[1] = g->dw;
	p.pad_begin[0] = g->pt;
	p.pad_begin[1] = g->pl;
	return p;
}

/* Random geometry: kernel kh x kw, cg channels per group; h, w large enough for one
 * output with the chosen padding and dilation. */
static RtkConv rand_conv(Rng *r, int cg, int kh, int kw, int group, int mg)
{
	int sh = (int)rng_int(r, 1, 2), sw = (int)rng_int(r, 1, 2);
	int dh = (int)rng_int(r, 1, 2), dw = (int)rng_int(r, 1, 2);
	int pt = (int)rng_int(r, 0, 2), pl = (int)rng_int(r, 0, 2);
	int pb = (int)rng_int(r, 0, 2), pr = (int)rng_int(r, 0, 2);
	int h = (int)rng_int(r, 1, 7), w = (int)rng_int(r, 1, 7);
	while (h + pt + pb < dh * (kh - 1) + 1)
		h++;
	while (w + pl + pr < dw * (kw - 1) + 1)
		w++;
	return mkconv(cg * group, h, w, mg * group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, group);
}

/* ---- quantized convolution -------------------------------------------------------------- */

static RtkQConv mkq(RtkConv g, int binary, int bits, int is_signed, float step)
{
	RtkQConv q = {.g = g, .binary = binary, .bits = bits, .step = step};
	q.k = g.c / g.group * g.kh * g.kw;
	q.kwords = 4 * ((q.k + 255) / 256);
	if (bits < 32) {
		q.qn = is_signed ? 1 << (bits - 1) : 0;
		q.qp = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
	}
	return q;
}

/* Packs t [m][k] in {-1, 0, +1} as kernels.h lays the planes out. */
static uint64_t *pack_weights(const RtkQConv *q, const int8_t *t)
{
	int planes = q->binary ? 1 : 2;
	uint64_t *w = alloc64((size_t)q->g.m * planes * q->kwords * sizeof *w);
	for (int m = 0; m < q->g.m; m++)
		for (int j = 0; j < q->k; j++) {
			int8_t v = t[(size_t)m * q->k + j];
			uint64_t bit = 1ull << (j % 64);
			if (q->binary && v == 1)
				w[(size_t)m * q->kwords + j / 64] |= bit;
			else if (!q->binary && v == 1)
				w[(size_t)(2 * m) * q->kwords + j / 64] |= bit;
			else if (!q->binary && v == -1)
				w[(size_t)(2 * m + 1) * q->kwords + j / 64] |= bit;
		}
	return w;
}

/* S[m][o] = sum over the window of t * u by a plain integer loop (padding: u = 0). */
static void int_conv(const RtkConv *g, const int32_t *u, const int8_t *t, int64_t *s)
{
	int cg = g->c / g->group, mg = g->m / g->group, k = cg * g->kh * g->kw;
	for (int m = 0; m < g->m; m++)
		for (int oy = 0; oy < g->oh; oy++)
			for (int ox = 0; ox < g->ow; ox++) {
				int64_t acc = 0;
				for (int ci = 0; ci < cg; ci++)
					for (int r = 0; r < g->kh; r++)
						for (int c = 0; c < g->kw; c++) {
							int iy = oy * g->sh - g->pt + r * g->dh;
							int ix = ox * g->sw - g->pl + c * g->dw;
							if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
								continue;
							int ch = (m / mg) * cg + ci;
							acc += (int64_t)t[(size_t)m * k + (ci * g->kh + r) * g->kw + c] *
							       u[((size_t)ch * g->h + iy) * g->w + ix];
						}
				s[((size_t)m * g->oh + oy) * g->ow + ox] = acc;
			}
}

/* Inputs around the quantization range [-qn, qp] * step: clamped values on both sides,
 * exact ties (odd multiples of step/2, rounding half to even), a NaN and infinities. */
static void quant_inputs(Rng *r, const RtkQConv *q, float *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		int64_t kind = rng_int(r, 0, 15);
		if (kind == 0)
			x[i] = ((float)rng_int(r, -2 * q->qn - 3, 2 * q->qp + 3) + 0.5f) * 0.5f * q->step;
		else
			x[i] = (float)(rng_float(r) * (q->qn + q->qp + 2) * 0.6 + (q->qp - q->qn) * 0.5) *
			       q->step;
	}
	if (n > 2) {
		x[rng_int(r, 0, n - 1)] = NAN;
		x[rng_int(r, 0, n - 1)] = INFINITY;
		x[rng_int(r, 0, n - 1)] = -INFINITY;
	}
}

/* rtk_bconv in both weight layouts (nib 0 and 1), SIMD entry and scalar twin, each with
 * dirty scratch: outputs bit-identical to want (rtk_qconv's). */
static void check_bconv(const char *what, int iter, RtkQConv q, const uint64_t *w,
                        const float *x, const float *scale, const float *bias,
                        const float *want, int64_t ny)
{
	for (int nib = 0; nib <= 1; nib++) {
		q.nib = nib;
		uint64_t *wr = alloc64((size_t)rtk_bconv_words(&q) * sizeof *wr);
		rtk_bconv_repack(&q, w, wr);
		size_t ss = rtk_bconv_scratch(&q);
		void *s1 = alloc64(ss), *s2 = alloc64(ss);
		memset(s1, 0xa5, ss);
		memset(s2, 0x5a, ss);
		float *y1 = alloc64((size_t)ny * 4), *y2 = alloc64((size_t)ny * 4);
		rtk_bconv(&q, x, wr, scale, bias, y1, s1);
		rtk_bconv_scalar(&q, x, wr, scale, bias, y2, s2);
		char name[96];
		snprintf(name, sizeof name, "%s: bconv nib=%d simd vs rtk_qconv", what, nib);
		check_same(name, iter, y1, want, ny);
		snprintf(name, sizeof name, "%s: bconv nib=%d scalar vs rtk_qconv", what, nib);
		check_same(name, iter, y2, want, ny);
		Rng r = {(uint64_t)iter * 7919u + (uint64_t)nib};
		int64_t cut[5];
		int parts = split_units(&r, rtk_bconv_units(&q), cut);
		size_t sh = rtk_bconv_shared(&q), pv = rtk_bconv_priv(&q);
		void *sp = split_scratch(sh, pv, parts);
		memset(y2, 0xff, (size_t)ny * 4);
		rtk_bconv_prep(&q, x, sp);
		for (int i = parts - 1; i >= 0; i--)
			rtk_bconv_part(&q, x, wr, scale, bias, y2, sp, SPLIT_PRIV(sp, sh, pv, i), cut[i],
			               cut[i + 1]);
		snprintf(name, sizeof name, "%s: bconv nib=%d split into units", what, nib);
		check_same(name, iter, y2, want, ny);
		free(wr); free(s1); free(s2); free(y1); free(y2); free(sp);
	}
}

/* rtk_iconv on weights repacked by rtk_iconv_repack, SIMD entry and scalar twin, each with
 * dirty scratch: outputs bit-identical to want (rtk_qconv's). */
static void check_iconv(const char *what, int iter, RtkQConv q, const uint64_t *w,
                        const float *x, const float *scale, const float *bias,
                        const float *want, int64_t ny)
{
	int32_t *wr = alloc64((size_t)rtk_iconv_words(&q) * sizeof *wr);
	rtk_iconv_repack(&q, w, wr);
	size_t ss = rtk_iconv_scratch(&q);
	void *s1 = alloc64(ss), *s2 = alloc64(ss);
	memset(s1, 0xa5, ss);
	memset(s2, 0x5a, ss);
	float *y1 = alloc64((size_t)ny * 4), *y2 = alloc64((size_t)ny * 4);
	rtk_iconv(&q, x, wr, scale, bias, y1, s1);
	rtk_iconv_scalar(&q, x, wr, scale, bias, y2, s2);
	char name[96];
	snprintf(name, sizeof name, "%s: iconv simd vs rtk_qconv", what);
	check_same(name, iter, y1, want, ny);
	snprintf(name, sizeof name, "%s: iconv scalar vs rtk_qconv", what);
	check_same(name, iter, y2, want, ny);
	Rng r = {(uint64_t)iter * 104729u + 1};
	int64_t cut[5];
	int parts = split_units(&r, rtk_iconv_units(&q), cut);
	size_t sh = rtk_iconv_shared(&q), pv = rtk_iconv_priv(&q);
	void *sp = split_scratch(sh, pv, parts);
	memset(y2, 0xff, (size_t)ny * 4);
	rtk_iconv_prep(&q, x, sp);
	for (int i = parts - 1; i >= 0; i--)
		rtk_iconv_part(&q, x, wr, scale, bias, y2, sp, SPLIT_PRIV(sp, sh, pv, i), cut[i],
		               cut[i + 1]);
	snprintf(name, sizeof name, "%s: iconv split into units", what);
	check_same(name, iter, y2, want, ny);
	free(wr); free(s1); free(s2); free(y1); free(y2); free(sp);
}

/* One quantized case (see the file comment); bits == 32 runs only the float comparison. */
static void run_qcase(Rng *r, RtkQConv q, int iter)
{
	const RtkConv *g = &q.g;
	int64_t nx = (int64_t)g->c * g->h * g->w, ny = (int64_t)g->m * g->oh * g->ow;
	int64_t nw = (int64_t)g->m * q.k;
	int8_t *t = alloc64((size_t)nw);
	float *wq = alloc64((size_t)nw * sizeof(float)), *wa = alloc64((size_t)nw * sizeof(float));
	float *scale = rand_buf(r, g->m), *bias = rand_buf(r, g->m), *babs = alloc64((size_t)g->m * 4);
	for (int m = 0; m < g->m; m++) {
		scale[m] = 0.25f + fabsf(scale[m]);
		babs[m] = fabsf(bias[m]);
	}
	for (int64_t i = 0; i < nw; i++) {
		t[i] = q.binary ? (rng_int(r, 0, 1) ? 1 : -1) : (int8_t)rng_int(r, -1, 1);
		wq[i] = scale[i / q.k] * (float)t[i];
		wa[i] = fabsf(wq[i]);
	}
	uint64_t *w = pack_weights(&q, t);
	float *x = alloc64((size_t)nx * sizeof(float)), *xq = alloc64((size_t)nx * sizeof(float));
	float *xa = alloc64((size_t)nx * sizeof(float));
	float *y = alloc64((size_t)ny * 4), *ys = alloc64((size_t)ny * 4);
	float *yr = alloc64((size_t)ny * 4), *yb = alloc64((size_t)ny * 4);
	RtConv rc = rtconv(g);
	q.g.relu = (int)rng_int(r, 0, 1);

	/* Random step, scale, bias, relu: SIMD == scalar, both near the oracle. */
	if (q.bits == 32) {
		for (int64_t i = 0; i < nx; i++)
			xq[i] = x[i] = rng_float(r) * 3.0f;
	} else {
		quant_inputs(r, &q, x, nx);
		rt_act_quant_ref(x, xq, nx, q.qn, q.qp, q.step);
	}
	for (int64_t i = 0; i < nx; i++)
		xa[i] = fabsf(xq[i]);
	size_t ss = rtk_qconv_scratch(&q);
	void *scr = alloc64(ss), *scr2 = alloc64(ss);
	rtk_qconv(&q, x, w, scale, bias, y, scr);
	rtk_qconv_scalar(&q, x, w, scale, bias, ys, scr2);
	check_same("qconv simd vs scalar", iter, y, ys, ny);
	{
		int64_t cut[5];
		int parts = split_units(r, rtk_qconv_units(&q), cut);
		size_t sh = rtk_qconv_shared(&q), pv = rtk_qconv_priv(&q);
		void *sp = split_scratch(sh, pv, parts);
		memset(ys, 0xff, (size_t)ny * 4);
		rtk_qconv_prep(&q, x, sp);
		for (int i = parts - 1; i >= 0; i--)
			rtk_qconv_part(&q, x, w, scale, bias, ys, sp, SPLIT_PRIV(sp, sh, pv, i), cut[i],
			               cut[i + 1]);
		check_same("qconv split into units", iter, ys, y, ny);
		free(sp);
	}
	/* rtk_bconv and rtk_iconv: the same outputs bit for bit (scratch starts dirty) */
	if (q.bits < 32) {
		check_bconv("random", iter, q, w, x, scale, bias, y, ny);
		check_iconv("random", iter, q, w, x, scale, bias, y, ny);
	}
	rt_conv_ref(&rc, xq, wq, bias, yr);
	rt_conv_ref(&rc, xa, wa, babs, yb);
	if (q.g.relu)
		for (int64_t i = 0; i < ny; i++)
			yr[i] = yr[i] < 0 ? 0.0f : yr[i];
	check_bound("qconv vs rt_conv_ref", iter, y, yr, yb, ny, 1e-5f);

	/* scale = step = 1, no bias: y is the integer sum, exactly. */
	if (q.bits < 32) {
		RtkQConv q1 = q;
		q1.step = 1.0f;
		q1.g.relu = 0;
		for (int m = 0; m < g->m; m++)
			scale[m] = 1.0f;
		quant_inputs(r, &q1, x, nx);
		rt_act_quant_ref(x, xq, nx, q1.qn, q1.qp, 1.0f);
		int32_t *u = alloc64((size_t)nx * sizeof(int32_t));
		for (int64_t i = 0; i < nx; i++)
			u[i] = (int32_t)xq[i];
		int64_t *s = alloc64((size_t)ny * sizeof(int64_t));
		int_conv(g, u, t, s);
		rtk_qconv(&q1, x, w, scale, NULL, y, scr);
		rtk_qconv_scalar(&q1, x, w, scale, NULL, ys, scr2);
		for (int64_t i = 0; i < ny; i++)
			if (y[i] != (float)s[i] || ys[i] != (float)s[i])
				fail_msg("qconv integer sum (case %d) [%lld]: simd %.9g, scalar %.9g, want %lld",
				         iter, (long long)i, (double)y[i], (double)ys[i], (long long)s[i]);
		/* y == S above, so these are exact against the integer loop too */
		check_bconv("integer sum", iter, q1, w, x, scale, NULL, y, ny);
		check_iconv("integer sum", iter, q1, w, x, scale, NULL, y, ny);
		free(u);
		free(s);
	}
	free(t); free(wq); free(wa); free(scale); free(bias); free(babs); free(w);
	free(x); free(xq); free(xa); free(y); free(ys); free(yr); free(yb); free(scr); free(scr2);
}

/* A kernel of k taps: kh x kw from k's divisors (at most 5 x 5), the rest in channels. */
static void split_k(Rng *r, int k, int *cg, int *kh, int *kw)
{
	int opts[32][2], n = 0;
	for (int a = 1; a <= 5; a++)
		for (int b = 1; b <= 5; b++)
			if (k % (a * b) == 0)
				opts[n][0] = a, opts[n][1] = b, n++;
	int i = (int)rng_int(r, 0, n - 1);
	*kh = opts[i][0];
	*kw = opts[i][1];
	*cg = k / (*kh * *kw);
}

/* k = 1..300 covers every remainder of k mod 256 (and two row lengths of 256-bit words);
 * bits, binary/ternary and signed/unsigned cycle with k, groups 1 and 2. */
static void test_qconv_sweep_k(void **state)
{
	(void)state;
	Rng r = {0x5eed1234u};
	for (int k = 1; k <= 300; k++) {
		int cg, kh, kw;
		split_k(&r, k, &cg, &kh, &kw);
		int group = (int)rng_int(&r, 1, 2), mg = (int)rng_int(&r, 1, 5);
		RtkConv g = rand_conv(&r, cg, kh, kw, group, mg);
		int bits = 1 + k % 8, binary = (k / 8) % 2, sgn = (k / 16) % 2;
		float step = (float)(0.05 + 0.5 * fabs((double)rng_float(&r)));
		run_qcase(&r, mkq(g, binary, bits, sgn, step), k);
	}
}

/* Every bit width with both weight kinds and both signs, on larger multi-word rows. */
static void test_qconv_bits(void **state)
{
	(void)state;
	Rng r = {0xb175u};
	int iter = 0;
	for (int bits = 1; bits <= 8; bits++)
		for (int binary = 0; binary <= 1; binary++)
			for (int sgn = 0; sgn <= 1; sgn++, iter++) {
				int kh = (int)rng_int(&r, 1, 3), kw = (int)rng_int(&r, 1, 3);
				int cg = (int)rng_int(&r, 20, 90);
				int group = (int)rng_int(&r, 1, 2), mg = (int)rng_int(&r, 1, 6);
				RtkConv g = rand_conv(&r, cg, kh, kw, group, mg);
				/* a step of a power of two makes the ties of quant_inputs exact */
				float step = ldexpf(1.0f, (int)rng_int(&r, -4, 1));
				run_qcase(&r, mkq(g, binary, bits, sgn, step), iter);
			}
}

/* Depthwise (group = c, one channel per group), and channel multipliers. */
static void test_qconv_depthwise(void **state)
{
	(void)state;
	Rng r = {0xdea1u};
	for (int iter = 0; iter < 48; iter++) {
		int kh = (int)rng_int(&r, 1, 5), kw = (int)rng_int(&r, 1, 5);
		int c = (int)rng_int(&r, 1, 12), mg = (int)rng_int(&r, 1, 2);
		RtkConv g = rand_conv(&r, 1, kh, kw, c, mg);
		int bits = iter % 4 == 3 ? 32 : 1 + iter % 8;
		float step = (float)(0.05 + 0.5 * fabs((double)rng_float(&r)));
		run_qcase(&r, mkq(g, iter % 2, bits, (iter / 2) % 2, step), iter);
	}
}

/* Float activations (sign-select), groups 1, 2 and depthwise, k across 256-bit rows. */
static void test_qconv_f32act(void **state)
{
	(void)state;
	Rng r = {0xf32u};
	for (int iter = 0; iter < 60; iter++) {
		int k = (int)rng_int(&r, 1, 300), cg, kh, kw;
		split_k(&r, k, &cg, &kh, &kw);
		int group = (int)rng_int(&r, 1, 2), mg = (int)rng_int(&r, 1, 9);
		RtkConv g = rand_conv(&r, cg, kh, kw, group, mg);
		run_qcase(&r, mkq(g, iter % 2, 32, 0, 0.0f), iter);
	}
	/* the three paths of the float convolution with unpacked weights: stride 1 over the
	 * padded input, stride 2 by im2col, Gemm-like (<= RTK_DOTMAX positions); every
	 * channel-block remainder */
	for (int iter = 60; iter < 96; iter++) {
		int path = iter % 3, mg = 1 + iter % 9, cg = (int)rng_int(&r, 1, 40);
		int ks = path == 2 ? 1 : 3, s = path == 1 ? 2 : 1, pad = ks / 2;
		int h = path == 2 ? (int)rng_int(&r, 1, 2) : (int)rng_int(&r, 5, 16);
		int w = path == 2 ? (int)rng_int(&r, 1, 3) : (int)rng_int(&r, 5, 16);
		int group = iter % 4 == 0 ? 2 : 1;
		RtkConv g = mkconv(cg * group, h, w, mg * group, ks, ks, s, s, 1, 1, pad, pad, pad,
		                   pad, group);
		run_qcase(&r, mkq(g, iter % 2, 32, 0, 0.0f), iter);
	}
	/* fc layers (1x1, one position): k = 400 and 1152 over several 256-bit rows */
	for (int iter = 96; iter < 100; iter++) {
		RtkConv g = mkconv(iter < 98 ? 400 : 1152, 1, 1, 11, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
		run_qcase(&r, mkq(g, iter % 2, 32, 0, 0.0f), iter);
	}
}

/* A larger layer: many positions (several blocks), 64 channels, k = 576 (3 words of 256). */
static void test_qconv_large(void **state)
{
	(void)state;
	Rng r = {0x1a76eu};
	int iter = 0;
	for (int bits = 1; bits <= 8; bits += 3)
		for (int binary = 0; binary <= 1; binary++, iter++) {
			RtkConv g = mkconv(64, 13, 11, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
			run_qcase(&r, mkq(g, binary, bits, iter % 2, 0.125f), iter);
		}
}

/* The largest sums: every activation at qp (or -qn) and every weight +1 (or -1), k = 1017,
 * 2070 and 2700 taps (past rtk_iconv's runs of 16-bit accumulation: AVX2 64 channel quads
 * per tap, NEON SMLAL 255 steps), 8 bits signed and unsigned, binary and ternary: y = S
 * exactly on all four entry points (rtk_qconv, rtk_iconv, SIMD and scalar twin). */
static void test_qconv_extremes(void **state)
{
	(void)state;
	Rng r = {0xe7e7u};
	const int cgs[3] = {113, 230, 300};
	for (int iter = 0; iter < 24; iter++) {
		int cg = cgs[iter % 3], sgn = (iter / 3) % 2, binary = (iter / 6) % 2;
		int neg_w = (iter / 12) % 2;
		RtkConv g = mkconv(cg, 4, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
		RtkQConv q = mkq(g, binary, 8, sgn, 1.0f);
		int64_t nx = (int64_t)g.c * g.h * g.w, ny = (int64_t)g.m * g.oh * g.ow;
		int8_t *t = alloc64((size_t)g.m * q.k);
		for (int64_t i = 0; i < (int64_t)g.m * q.k; i++)
			t[i] = (int8_t)(neg_w ? -1 : 1);
		uint64_t *w = pack_weights(&q, t);
		float *x = alloc64((size_t)nx * 4), *one = alloc64((size_t)g.m * 4);
		int32_t *u = alloc64((size_t)nx * 4);
		int xsign = (int)rng_int(&r, 0, 1) ? 1 : -1;
		for (int64_t i = 0; i < nx; i++) {
			x[i] = 1e6f * (float)xsign;
			u[i] = xsign > 0 ? q.qp : -q.qn;
		}
		for (int m = 0; m < g.m; m++)
			one[m] = 1.0f;
		int64_t *s = alloc64((size_t)ny * sizeof(int64_t));
		int_conv(&g, u, t, s);
		int32_t *wi = alloc64((size_t)rtk_iconv_words(&q) * sizeof *wi);
		rtk_iconv_repack(&q, w, wi);
		float *ys[4];
		for (int v = 0; v < 4; v++) {
			ys[v] = alloc64((size_t)ny * 4);
			size_t ss = v < 2 ? rtk_qconv_scratch(&q) : rtk_iconv_scratch(&q);
			void *scr = alloc64(ss);
			if (v == 0) rtk_qconv(&q, x, w, one, NULL, ys[v], scr);
			if (v == 1) rtk_qconv_scalar(&q, x, w, one, NULL, ys[v], scr);
			if (v == 2) rtk_iconv(&q, x, wi, one, NULL, ys[v], scr);
			if (v == 3) rtk_iconv_scalar(&q, x, wi, one, NULL, ys[v], scr);
			free(scr);
		}
		free(wi);
		check_bconv("extremes", iter, q, w, x, one, NULL, ys[0], ny);
		check_iconv("extremes", iter, q, w, x, one, NULL, ys[0], ny);
		for (int64_t i = 0; i < ny; i++)
			for (int v = 0; v < 4; v++)
				if (ys[v][i] != (float)s[i])
					fail_msg("extremes case %d entry %d [%lld]: got %.9g, want %lld", iter, v,
					         (long long)i, (double)ys[v][i], (long long)s[i]);
		for (int v = 0; v < 4; v++)
			free(ys[v]);
		free(t); free(w); free(x); free(one); free(u); free(s);
	}
}

/* Round half to even, NaN -> -qn, and the clamps, on hand-made values (1x1 kernel,
 * weight +1, so y = u). */
static void test_qconv_rounding(void **state)
{
	(void)state;
	const float x[12] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4999998f, NAN, 1e30f,
	                     -1e30f, -0.0f, 3.5f};
	const float want_s[12] = {0, 2, 2, -0, -2, -2, 2, -8, 7, -8, 0, 4};  /* 4 bits signed */
	const float want_u[12] = {0, 2, 2, 0, 0, 0, 2, 0, 15, 0, 0, 4};     /* 4 bits unsigned */
	for (int sgn = 0; sgn <= 1; sgn++)
		for (int binary = 0; binary <= 1; binary++) {
			RtkConv g = mkconv(1, 3, 4, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
			RtkQConv q = mkq(g, binary, 4, sgn, 1.0f);
			int8_t t[1] = {1};
			uint64_t *w = pack_weights(&q, t);
			const float one = 1.0f;
			float y[12], ys[12];
			void *scr = alloc64(rtk_qconv_scratch(&q));
			rtk_qconv(&q, x, w, &one, NULL, y, scr);
			rtk_qconv_scalar(&q, x, w, &one, NULL, ys, scr);
			float yi[12], yis[12];
			int32_t *wi = alloc64((size_t)rtk_iconv_words(&q) * sizeof *wi);
			rtk_iconv_repack(&q, w, wi);
			void *s8 = alloc64(rtk_iconv_scratch(&q));
			rtk_iconv(&q, x, wi, &one, NULL, yi, s8);
			rtk_iconv_scalar(&q, x, wi, &one, NULL, yis, s8);
			free(s8);
			free(wi);
			for (int i = 0; i < 12; i++) {
				float want = sgn ? want_s[i] : want_u[i];
				if (yi[i] != want || yis[i] != want)
					fail_msg("iconv: x = %g (signed %d, binary %d): simd %g, scalar %g, want %g",
					         (double)x[i], sgn, binary, (double)yi[i], (double)yis[i],
					         (double)want);
				if (y[i] != want || ys[i] != want)
					fail_msg("x = %g (signed %d, binary %d): simd %g, scalar %g, want %g",
					         (double)x[i], sgn, binary, (double)y[i], (double)ys[i],
					         (double)want);
			}
			free(w);
			free(scr);
		}
}

static void test_popcount_and(void **state)
{
	(void)state;
	Rng r = {0x9c9cu};
	uint64_t *a = alloc64(64 * 8), *b = alloc64(64 * 8);
	for (int iter = 0; iter < 64; iter++) {
		for (int n = 4; n <= 64; n += 4) {
			for (int i = 0; i < n; i++) {
				a[i] = rng_next(&r);
				b[i] = iter % 4 == 0 ? ~0ull : rng_next(&r);
				if (iter % 8 == 1)
					a[i] = ~0ull; /* all-ones rows: the largest byte counts */
			}
			int32_t want = 0;
			for (int i = 0; i < n * 64; i++)
				want += (int32_t)((a[i / 64] >> (i % 64)) & (b[i / 64] >> (i % 64)) & 1);
			assert_int_equal(rtk_popcount_and_scalar(a, b, n), want);
			assert_int_equal(rtk_popcount_and(a, b, n), want);
		}
	}
	/* long rows: the 8-bit lane counters are widened before they can overflow */
	uint64_t *la = alloc64(4096 * 8), *lb = alloc64(4096 * 8);
	memset(la, 0xff, 4096 * 8);
	memset(lb, 0xff, 4096 * 8);
	assert_int_equal(rtk_popcount_and(la, lb, 4096), 4096 * 64);
	assert_int_equal(rtk_popcount_and_scalar(la, lb, 4096), 4096 * 64);
	free(a); free(b); free(la); free(lb);
}

/* ---- float kernels ------------------------------------------------------------------ */

/* One float convolution case against rt_conv_ref, within 1e-5 of the sum of |terms|;
 * with_bias 0: bias NULL. The scratch starts dirty (the kernel must not rely on zeros). */
static void run_conv_case(Rng *r, RtkConv g, int with_bias, int iter)
{
	int cg = g.c / g.group;
	int64_t nx = (int64_t)g.c * g.h * g.w, ny = (int64_t)g.m * g.oh * g.ow;
	int64_t nw = (int64_t)g.m * cg * g.kh * g.kw;
	float *x = rand_buf(r, nx), *w = rand_buf(r, nw), *b = rand_buf(r, g.m);
	float *xa = alloc64((size_t)nx * 4), *wa = alloc64((size_t)nw * 4), *ba = alloc64((size_t)g.m * 4);
	for (int64_t i = 0; i < nx; i++)
		xa[i] = fabsf(x[i]);
	for (int64_t i = 0; i < nw; i++)
		wa[i] = fabsf(w[i]);
	for (int i = 0; i < g.m; i++)
		ba[i] = fabsf(b[i]);
	float *y = alloc64((size_t)ny * 4), *yr = alloc64((size_t)ny * 4), *yb = alloc64((size_t)ny * 4);
	size_t ss = rtk_conv_f32_scratch(&g);
	void *scr = alloc64(ss);
	memset(scr, 0x7f, ss); /* NaN-ish garbage */
	const float *bias = with_bias ? b : NULL;
	rtk_conv_f32(&g, x, w, bias, y, scr);
	RtConv rc = rtconv(&g);
	rt_conv_ref(&rc, x, w, bias, yr);
	rt_conv_ref(&rc, xa, wa, bias ? ba : NULL, yb);
	if (g.relu)
		for (int64_t i = 0; i < ny; i++)
			yr[i] = yr[i] < 0 ? 0.0f : yr[i];
	check_bound("conv_f32", iter, y, yr, yb, ny, 1e-5f);
	/* split into unit ranges, computed last range first: the same bits */
	int64_t cut[5];
	int parts = split_units(r, rtk_conv_f32_units(&g), cut);
	size_t sh = rtk_conv_f32_shared(&g), pv = rtk_conv_f32_priv(&g);
	void *sp = split_scratch(sh, pv, parts);
	float *ys = alloc64((size_t)ny * 4);
	memset(ys, 0xff, (size_t)ny * 4); /* NaN: a unit left out shows */
	rtk_conv_f32_prep(&g, x, sp);
	for (int i = parts - 1; i >= 0; i--)
		rtk_conv_f32_part(&g, x, w, bias, ys, sp, SPLIT_PRIV(sp, sh, pv, i), cut[i], cut[i + 1]);
	check_same("conv_f32 split into units", iter, ys, y, ny);
	free(x); free(w); free(b); free(xa); free(wa); free(ba); free(y); free(yr); free(yb);
	free(scr); free(sp); free(ys);
}

static void test_conv_f32(void **state)
{
	(void)state;
	Rng r = {0xc0f32u};
	for (int iter = 0; iter < 80; iter++) {
		int kh = (int)rng_int(&r, 1, 4), kw = (int)rng_int(&r, 1, 4);
		int dw = iter % 5 == 0;
		int cg = dw ? 1 : (int)rng_int(&r, 1, 12);
		int group = dw ? (int)rng_int(&r, 1, 8) : (int)rng_int(&r, 1, 3);
		int mg = (int)rng_int(&r, 1, 7);
		RtkConv g = rand_conv(&r, cg, kh, kw, group, mg);
		if (iter % 7 == 0) { /* a 1-D convolution */
			g = mkconv(cg * group, 1, (int)rng_int(&r, 3, 40), mg * group, 1, kw, 1,
			           (int)rng_int(&r, 1, 3), 1, (int)rng_int(&r, 1, 2), 0,
			           (int)rng_int(&r, 0, 2), 0, (int)rng_int(&r, 0, 2), group);
		}
		g.relu = iter % 3 == 0;
		run_conv_case(&r, g, iter % 4 != 1, iter);
	}
}

/* The register blocks of rtk_conv_f32 (rtk_internal.h): RTK_MR channels x RTK_PB
 * positions. Every channel remainder (mg 1..9), position counts around the block size and
 * the dot-product limit, on the three paths: strides 1 and 2 (padded input, split into
 * stride phases, read directly; 1x1, 3x3, 5x5, pads, dilations), strides 3 and 4
 * (im2col) and at most RTK_DOTMAX positions. */
static void test_conv_f32_blocks(void **state)
{
	(void)state;
	Rng r = {0xb10cu};
	int iter = 1000;
	static const int hw[][2] = {{1, 1}, {1, 7}, {2, 3}, {3, 3}, {5, 5}, {4, 6}, {7, 7},
	                            {1, 25}, {6, 8}, {14, 14}, {9, 11}, {28, 28}, {3, 50}};
	for (size_t si = 0; si < sizeof hw / sizeof hw[0]; si++)
		for (int mg = 1; mg <= 9; mg++) {
			int kk = (int)(si + (size_t)mg) % 3; /* 1x1, 3x3 pad 1, 5x5 pad 2 */
			int ks = 2 * kk + 1, pad = kk;
			int cg = (int)rng_int(&r, 1, 9), s = 1 + (int)((si + (size_t)mg) % 4 == 3);
			int d = 1 + (mg % 5 == 4);
			int h = hw[si][0], w = hw[si][1];
			while (h + 2 * pad < d * (ks - 1) + 1)
				h++;
			while (w + 2 * pad < d * (ks - 1) + 1)
				w++;
			RtkConv g = mkconv(cg, h, w, mg, ks, ks, s, s, d, d, pad, pad, pad, pad, 1);
			g.relu = mg % 2;
			run_conv_case(&r, g, mg != 3, iter++);
		}
	/* groups and depthwise on the direct and im2col paths, uneven pads */
	for (int i = 0; i < 24; i++) {
		int group = (int)rng_int(&r, 2, 6), cg = i % 3 ? (int)rng_int(&r, 1, 5) : 1;
		int mg = i % 3 ? (int)rng_int(&r, 1, 6) : 1, kh = (int)rng_int(&r, 1, 3);
		int kw = (int)rng_int(&r, 1, 5), sh = 1 + (i % 4 == 3), sw = 1 + (i % 5 == 4);
		RtkConv g = mkconv(cg * group, (int)rng_int(&r, 9, 20), (int)rng_int(&r, 9, 20),
		                   mg * group, kh, kw, sh, sw, (int)rng_int(&r, 1, 2),
		                   (int)rng_int(&r, 1, 2), (int)rng_int(&r, 0, 2),
		                   (int)rng_int(&r, 0, 2), (int)rng_int(&r, 0, 2),
		                   (int)rng_int(&r, 0, 2), group);
		g.relu = i % 2;
		run_conv_case(&r, g, 1, iter++);
	}
	/* k across the dot-product path's vector steps (16, 8, masked tail): Gemm-like 1x1 */
	for (int c = 1; c <= 70; c += (c < 40 ? 1 : 7)) {
		RtkConv g = mkconv(c, 1, 1, (int)rng_int(&r, 1, 9), 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1);
		run_conv_case(&r, g, c % 2, iter++);
		RtkConv g2 = mkconv(c, 2, 3, (int)rng_int(&r, 1, 9), 2, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1);
		run_conv_case(&r, g2, 1, iter++);
	}
	/* strides 3 and 4 (im2col), and stride 2 on one axis only, with dilation */
	for (int i = 0; i < 12; i++) {
		int sh = 1 + i % 4, sw = 1 + (i / 4) % 3 + (i == 11), kh = 1 + i % 3, kw = 1 + (i + 1) % 5;
		RtkConv g = mkconv((int)rng_int(&r, 1, 6), (int)rng_int(&r, 9, 30),
		                   (int)rng_int(&r, 9, 30), (int)rng_int(&r, 1, 9), kh, kw, sh, sw,
		                   1 + i % 2, 1 + (i % 3 == 0), (int)rng_int(&r, 0, 2),
		                   (int)rng_int(&r, 0, 2), (int)rng_int(&r, 0, 2), (int)rng_int(&r, 0, 2), 1);
		run_conv_case(&r, g, i % 2, iter++);
	}
	/* VGG-like layers: many blocks, k = 288 and 576 */
	run_conv_case(&r, mkconv(32, 14, 14, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 1, iter++);
	run_conv_case(&r, mkconv(64, 7, 7, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1), 1, iter++);
	run_conv_case(&r, mkconv(64, 9, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1), 1, iter++);
	run_conv_case(&r, mkconv(400, 1, 1, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1), 1, iter++);
}

static void run_gemm_case(Rng *r, RtkGemm p, int with_bias, int iter)
{
	float *a = rand_buf(r, (int64_t)p.rows * p.k), *w = rand_buf(r, (int64_t)p.n * p.k);
	float *b = rand_buf(r, p.n);
	float *aa = alloc64((size_t)p.rows * p.k * 4), *wa = alloc64((size_t)p.n * p.k * 4);
	float *ba = alloc64((size_t)p.n * 4);
	for (int i = 0; i < p.rows * p.k; i++)
		aa[i] = fabsf(a[i]);
	for (int i = 0; i < p.n * p.k; i++)
		wa[i] = fabsf(w[i]);
	for (int i = 0; i < p.n; i++)
		ba[i] = fabsf(b[i]);
	int64_t ny = (int64_t)p.rows * p.n;
	float *y = alloc64((size_t)ny * 4), *yr = alloc64((size_t)ny * 4), *yb = alloc64((size_t)ny * 4);
	const float *bias = with_bias ? b : NULL;
	rtk_gemm_f32(&p, a, w, bias, y);
	RtGemm g = {.m = p.rows, .n = p.n, .k = p.k, .trans_b = 1, .alpha = 1, .beta = 1,
	            .c_rs = 0, .c_cs = bias ? 1 : 0};
	rt_gemm_ref(&g, a, w, bias, yr);
	rt_gemm_ref(&g, aa, wa, bias ? ba : NULL, yb);
	if (p.relu)
		for (int64_t i = 0; i < ny; i++)
			yr[i] = yr[i] < 0 ? 0.0f : yr[i];
	check_bound("gemm_f32", iter, y, yr, yb, ny, 1e-5f);
	int64_t cut[5];
	int parts = split_units(r, rtk_gemm_f32_units(&p), cut);
	float *ys = alloc64((size_t)ny * 4);
	memset(ys, 0xff, (size_t)ny * 4);
	for (int i = parts - 1; i >= 0; i--)
		rtk_gemm_f32_part(&p, a, w, bias, ys, cut[i], cut[i + 1]);
	check_same("gemm_f32 split into units", iter, ys, y, ny);
	free(ys);
	free(a); free(w); free(b); free(aa); free(wa); free(ba); free(y); free(yr); free(yb);
}

static void test_gemm_f32(void **state)
{
	(void)state;
	Rng r = {0x6e66u};
	for (int iter = 0; iter < 60; iter++) {
		RtkGemm p = {(int32_t)rng_int(&r, 1, 5), (int32_t)rng_int(&r, 1, 37),
		             (int32_t)rng_int(&r, 1, 300), iter % 2};
		run_gemm_case(&r, p, iter % 3 != 2, iter);
	}
	/* batch 1 (matrix-vector): every k remainder of the 16- and 8-tap steps, every n
	 * remainder of the 4-row blocks; then fc-sized rows */
	int iter = 100;
	for (int k = 1; k <= 40; k++)
		for (int n = 1; n <= 9; n += (k % 2 ? 1 : 4)) {
			RtkGemm p = {k % 5 == 0 ? 2 : 1, n, k, (k + n) % 2};
			run_gemm_case(&r, p, n % 3 != 0, iter++);
		}
	static const int ks[] = {63, 64, 65, 120, 127, 129, 400, 1152};
	for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
		RtkGemm p = {1, 4 + (int32_t)i, ks[i], 0};
		run_gemm_case(&r, p, 1, iter++);
	}
}

/* Pools against the reference bit for bit (same tap order, same float sums): paddings,
 * dilations, windows reaching past the padded extent (ceil mode), both divisors. */
static void test_pool(void **state)
{
	(void)state;
	Rng r = {0x9001u};
	for (int iter = 0; iter < 200; iter++) {
		RtkPool p = {.c = (int32_t)rng_int(&r, 1, 4), .h = (int32_t)rng_int(&r, 1, 9),
		             .w = (int32_t)rng_int(&r, 1, 9), .kh = (int32_t)rng_int(&r, 1, 4),
		             .kw = (int32_t)rng_int(&r, 1, 4), .sh = (int32_t)rng_int(&r, 1, 3),
		             .sw = (int32_t)rng_int(&r, 1, 3), .dh = (int32_t)rng_int(&r, 1, 2),
		             .dw = (int32_t)rng_int(&r, 1, 2), .is_max = iter % 2,
		             .count_include_pad = (iter / 2) % 2};
		p.pt = (int32_t)rng_int(&r, 0, p.kh - 1);
		p.pb = (int32_t)rng_int(&r, 0, p.kh - 1);
		p.pl = (int32_t)rng_int(&r, 0, p.kw - 1);
		p.pr = (int32_t)rng_int(&r, 0, p.kw - 1);
		while (p.h + p.pt + p.pb < p.dh * (p.kh - 1) + 1)
			p.h++;
		while (p.w + p.pl + p.pr < p.dw * (p.kw - 1) + 1)
			p.w++;
		int ceil_mode = (iter / 4) % 2;
		int32_t eh = p.h + p.pt + p.pb - p.dh * (p.kh - 1) - 1;
		int32_t ew = p.w + p.pl + p.pr - p.dw * (p.kw - 1) - 1;
		p.oh = (eh + (ceil_mode ? p.sh - 1 : 0)) / p.sh + 1;
		p.ow = (ew + (ceil_mode ? p.sw - 1 : 0)) / p.sw + 1;
		/* ONNX: the last window must start inside the input or left padding */
		if (ceil_mode && (p.oh - 1) * p.sh >= p.h + p.pt)
			p.oh--;
		if (ceil_mode && (p.ow - 1) * p.sw >= p.w + p.pl)
			p.ow--;
		RtPool rp = {.nsp = 2, .n = 1, .c = p.c, .count_include_pad = p.count_include_pad};
		rp.in[0] = p.h, rp.in[1] = p.w, rp.out[0] = p.oh, rp.out[1] = p.ow;
		rp.k[0] = p.kh, rp.k[1] = p.kw, rp.stride[0] = p.sh, rp.stride[1] = p.sw;
		rp.dil[0] = p.dh, rp.dil[1] = p.dw, rp.pad_begin[0] = p.pt, rp.pad_begin[1] = p.pl;
		rp.pad_end[0] = p.pb, rp.pad_end[1] = p.pr;
		int64_t nx = (int64_t)p.c * p.h * p.w, ny = (int64_t)p.c * p.oh * p.ow;
		float *x = rand_buf(&r, nx), *y = alloc64((size_t)ny * 4), *yr = alloc64((size_t)ny * 4);
		rtk_pool(&p, x, y);
		if (p.is_max)
			rt_maxpool_ref(&rp, x, yr, NULL);
		else
			rt_avgpool_ref(&rp, x, yr);
		check_same(p.is_max ? "maxpool" : "avgpool", iter, y, yr, ny);
		int64_t cut[5];
		int parts = split_units(&r, rtk_pool_units(&p), cut);
		memset(y, 0xff, (size_t)ny * 4);
		for (int i = parts - 1; i >= 0; i--)
			rtk_pool_part(&p, x, y, cut[i], cut[i + 1]);
		check_same("pool split into units", iter, y, yr, ny);
		free(x); free(y); free(yr);
	}
}

/* A window of 2^20 taps with SAME padding over a 4x4 input: the kernel clips the window
 * to the input in closed form (max 16, mean 8.5; exactly the reference's result). */
/* Windows that never reach the padding (rtk_pool's vectorizable path, and half the cases
 * 2x2 stride 2, its SIMD path): ties, signed zeros and NaN in the taps, windows of 1..9
 * taps, strides and dilations; bit-identical to the reference. */
static void test_pool_inside(void **state)
{
	(void)state;
	Rng r = {0x9002u};
	static const float special[6] = {-1.0f, -0.0f, 0.0f, 1.0f, 3.0f, NAN};
	for (int iter = 0; iter < 200; iter++) {
		RtkPool p = {.c = (int32_t)rng_int(&r, 1, 3), .kh = (int32_t)rng_int(&r, 1, 3),
		             .kw = (int32_t)rng_int(&r, 1, 3), .sh = (int32_t)rng_int(&r, 1, 3),
		             .sw = (int32_t)rng_int(&r, 1, 3), .dh = (int32_t)rng_int(&r, 1, 2),
		             .dw = (int32_t)rng_int(&r, 1, 2), .is_max = iter % 2,
		             .count_include_pad = (iter / 2) % 2};
		if (iter % 4 < 2) /* the 2x2 stride-2 window (rtk_pool's vector path) */
			p.kh = p.kw = p.sh = p.sw = 2, p.dh = p.dw = 1;
		p.h = p.dh * (p.kh - 1) + 1 + (int32_t)rng_int(&r, 0, 20);
		p.w = p.dw * (p.kw - 1) + 1 + (int32_t)rng_int(&r, 0, 40);
		p.oh = (p.h - p.dh * (p.kh - 1) - 1) / p.sh + 1;
		p.ow = (p.w - p.dw * (p.kw - 1) - 1) / p.sw + 1;
		RtPool rp = {.nsp = 2, .n = 1, .c = p.c, .count_include_pad = p.count_include_pad};
		rp.in[0] = p.h, rp.in[1] = p.w, rp.out[0] = p.oh, rp.out[1] = p.ow;
		rp.k[0] = p.kh, rp.k[1] = p.kw, rp.stride[0] = p.sh, rp.stride[1] = p.sw;
		rp.dil[0] = p.dh, rp.dil[1] = p.dw;
		int64_t nx = (int64_t)p.c * p.h * p.w, ny = (int64_t)p.c * p.oh * p.ow;
		float *x = rand_buf(&r, nx), *y = alloc64((size_t)ny * 4), *yr = alloc64((size_t)ny * 4);
		for (int64_t i = 0; i < nx; i++)
			if (rng_int(&r, 0, 2) == 0)
				x[i] = special[rng_int(&r, 0, 5)];
		rtk_pool(&p, x, y);
		if (p.is_max)
			rt_maxpool_ref(&rp, x, yr, NULL);
		else
			rt_avgpool_ref(&rp, x, yr);
		check_same(p.is_max ? "maxpool inside" : "avgpool inside", iter, y, yr, ny);
		free(x); free(y); free(yr);
	}
}

static void test_pool_huge_window(void **state)
{
	(void)state;
	int32_t k = 1 << 20, pb = (k - 1) / 2;
	RtkPool p = {.c = 1, .h = 4, .w = 4, .oh = 4, .ow = 4, .kh = k, .kw = k, .sh = 1, .sw = 1,
	             .dh = 1, .dw = 1, .pt = pb, .pl = pb, .pb = k - 1 - pb, .pr = k - 1 - pb};
	float x[16], y[16];
	for (int i = 0; i < 16; i++)
		x[i] = (float)(i + 1);
	for (int m = 0; m < 2; m++) {
		p.is_max = m;
		rtk_pool(&p, x, y);
		for (int i = 0; i < 16; i++)
			assert_true(y[i] == (m ? 16.0f : 8.5f));
	}
}

static void test_global_pool(void **state)
{
	(void)state;
	Rng r = {0x610bu};
	for (int iter = 0; iter < 20; iter++) {
		int c = (int)rng_int(&r, 1, 9), hw = (int)rng_int(&r, 1, 300);
		float *x = rand_buf(&r, (int64_t)c * hw), y[9], yr[9];
		for (int is_max = 0; is_max <= 1; is_max++) {
			rtk_global_pool(is_max, c, hw, x, y);
			rt_global_pool_ref(is_max, 1, c, hw, x, yr);
			check_same("global_pool", iter, y, yr, c);
		}
		free(x);
	}
}

static void test_elementwise(void **state)
{
	(void)state;
	Rng r = {0xe1e1u};
	enum { N = 257 };
	float x[N], y[N], yr[N];
	for (int i = 0; i < N; i++)
		x[i] = rng_float(&r) * 4.0f;
	x[3] = NAN;
	x[4] = -INFINITY;
	x[5] = -0.0f;
	rtk_relu(x, y, N);
	rt_unary_ref(RT_RELU, 0, 0, x, yr, N);
	check_same("relu", 0, y, yr, N);
	rtk_leaky_relu(x, y, N, 0.1f);
	rt_unary_ref(RT_LEAKYRELU, 0.1f, 0, x, yr, N);
	check_same("leaky_relu", 0, y, yr, N);
	rtk_clip(x, y, N, -1.0f, 2.5f);
	rt_unary_ref(RT_CLIP, -1.0f, 2.5f, x, yr, N);
	check_same("clip", 0, y, yr, N);
	rtk_clip(x, y, N, 1.0f, -1.0f); /* lo > hi: hi wins */
	rt_unary_ref(RT_CLIP, 1.0f, -1.0f, x, yr, N);
	check_same("clip lo > hi", 0, y, yr, N);

	/* channel affine: x * mul + add, two roundings */
	float mul[3] = {0.5f, -2.0f, 3.25f}, add[3] = {1.0f, 0.0f, -0.75f};
	rtk_channel_affine(3, 85, x, mul, add, y);
	for (int i = 0; i < 255; i++) {
		float p = x[i] * mul[i / 85];
		yr[i] = p + add[i / 85];
	}
	check_same("channel_affine", 0, y, yr, 255);

	/* copy_cols: [4][5] into columns 3..7 of [4][9] */
	float big[36];
	for (int i = 0; i < 36; i++)
		big[i] = -1.0f;
	rtk_copy_cols(4, 5, 9, 3, x, big);
	for (int o = 0; o < 4; o++)
		for (int j = 0; j < 9; j++) {
			float want = j >= 3 && j < 8 ? x[o * 5 + j - 3] : -1.0f;
			assert_true(same_bits(big[o * 9 + j], want));
		}
}

/* Element strides of shape s broadcast to the output rank r (0 on broadcast dims). */
static void bstrides(const Shape *s, int r, int32_t *st)
{
	int off = r - s->rank;
	int32_t acc = 1;
	for (int i = r - 1; i >= 0; i--) {
		int64_t d = i >= off ? s->d[i - off] : 1;
		st[i] = d == 1 ? 0 : acc;
		acc *= (int32_t)d;
	}
}

static void test_binary(void **state)
{
	(void)state;
	Rng r = {0xb1a7u};
	for (int iter = 0; iter < 120; iter++) {
		int rank = (int)rng_int(&r, 0, 6);
		Shape sy = {.rank = rank}, sa = {.rank = (int)rng_int(&r, 0, rank)};
		Shape sb = {.rank = (int)rng_int(&r, 0, rank)};
		for (int i = 0; i < rank; i++)
			sy.d[i] = rng_int(&r, 1, rank > 3 ? 3 : 6);
		for (int i = 0; i < sa.rank; i++)
			sa.d[i] = rng_int(&r, 0, 2) ? sy.d[rank - sa.rank + i] : 1;
		for (int i = 0; i < sb.rank; i++)
			sb.d[i] = rng_int(&r, 0, 2) ? sy.d[rank - sb.rank + i] : 1;
		for (int i = 0; i < rank; i++) { /* the output dim is the broadcast of both */
			int64_t da = i >= rank - sa.rank ? sa.d[i - (rank - sa.rank)] : 1;
			int64_t db = i >= rank - sb.rank ? sb.d[i - (rank - sb.rank)] : 1;
			sy.d[i] = da > db ? da : db;
		}
		RtkBinary p = {.op = iter % 4, .rank = rank};
		for (int i = 0; i < rank; i++)
			p.dims[i] = (int32_t)sy.d[i];
		bstrides(&sa, rank, p.sa);
		bstrides(&sb, rank, p.sb);
		float *a = rand_buf(&r, numel(&sa)), *b = rand_buf(&r, numel(&sb));
		float *y = alloc64((size_t)numel(&sy) * 4), *yr = alloc64((size_t)numel(&sy) * 4);
		rtk_binary(&p, a, b, y);
		static const RtBinary ops[4] = {RT_ADD, RT_SUB, RT_MUL, RT_DIV};
		assert_int_equal(rt_binary_ref(ops[p.op], DT_FLOAT, &sa, a, &sb, b, &sy, yr), 0);
		check_same("binary", iter, y, yr, numel(&sy));
		int64_t cut[5];
		int parts = split_units(&r, rtk_binary_units(&p), cut);
		memset(y, 0xff, (size_t)numel(&sy) * 4);
		for (int i = parts - 1; i >= 0; i--)
			rtk_binary_part(&p, a, b, y, cut[i], cut[i + 1]);
		check_same("binary split into units", iter, y, yr, numel(&sy));
		free(a); free(b); free(y); free(yr);
	}
}

/* Spacing of floats at |v| (subnormal spacing below the normals). */
static double ulp_at(double v)
{
	v = fabs(v);
	if (v < FLT_MIN)
		return ldexp(1.0, -149);
	int e;
	frexp(v, &e);
	return ldexp(1.0, e - 24);
}

static float bits_float(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* rtk_expf / rtk_logf against the double-precision libm value: at most 1 ulp off (they
 * are within 0.5 ulp + 1e-15 relative by construction); specials as libm's expf/logf. */
static void test_exp_log(void **state)
{
	(void)state;
	Rng r = {0xe4u};
	double worst_e = 0, worst_l = 0;
	for (int i = 0; i < 400000; i++) {
		float x = i < 200000 ? -110.0f + 200.0f * (float)i / 200000.0f
		                     : bits_float((uint32_t)rng_next(&r));
		float got = rtk_expf(x), want = expf(x);
		if (isnan(x)) {
			assert_true(isnan(got));
			continue;
		}
		if (isinf(want) || want == 0.0f) {
			if (!same_bits(got, want) && !(fabs((double)got - exp((double)x)) <= ulp_at(exp((double)x))))
				fail_msg("expf(%.9g): got %.9g, want %.9g", (double)x, (double)got, (double)want);
			continue;
		}
		double e = fabs((double)got - exp((double)x)) / ulp_at(exp((double)x));
		if (e > worst_e)
			worst_e = e;
		if (!(e <= 1.0))
			fail_msg("expf(%.9g): got %.9g, want %.9g (%.3f ulp)", (double)x, (double)got,
			         (double)want, e);
	}
	for (int i = 0; i < 400000; i++) {
		float x = bits_float((uint32_t)rng_next(&r) & 0x7fffffffu); /* positive, any exponent */
		if (i % 4 == 0)
			x = 1.0f + (float)(i - 200000) * 1e-7f; /* around 1, where log is small */
		if (isnan(x) || isinf(x))
			continue;
		float got = rtk_logf(x);
		if (x == 0.0f) {
			assert_true(isinf(got) && got < 0);
			continue;
		}
		double t = log((double)x);
		double e = fabs((double)got - t) / ulp_at(t);
		if (e > worst_l)
			worst_l = e;
		if (!(e <= 1.0))
			fail_msg("logf(%.9g): got %.9g, want %.9g (%.3f ulp)", (double)x, (double)got,
			         (double)logf(x), e);
	}
	/* specials */
	assert_true(isnan(rtk_expf(NAN)) && isnan(rtk_logf(NAN)) && isnan(rtk_logf(-1.0f)));
	assert_true(isnan(rtk_logf(-INFINITY)));
	assert_true(rtk_expf(INFINITY) == INFINITY && rtk_expf(-INFINITY) == 0.0f);
	assert_true(rtk_expf(89.0f) == INFINITY && rtk_expf(-104.0f) == 0.0f);
	assert_true(rtk_expf(88.72283172607421875f) == expf(88.72283172607421875f));
	assert_true(rtk_expf(0.0f) == 1.0f && rtk_logf(1.0f) == 0.0f);
	assert_true(rtk_logf(INFINITY) == INFINITY);
	assert_true(rtk_logf(-0.0f) == -INFINITY);
	assert_true(rtk_logf(bits_float(1)) == logf(bits_float(1))); /* smallest subnormal */
	assert_true(rtk_expf(-103.0f) == expf(-103.0f));              /* a subnormal result */
	print_message("expf worst %.3f ulp, logf worst %.3f ulp\n", worst_e, worst_l);
}

static void test_softmax(void **state)
{
	(void)state;
	Rng r = {0x50f7u};
	for (int iter = 0; iter < 40; iter++) {
		int outer = (int)rng_int(&r, 1, 3), len = (int)rng_int(&r, 1, 40);
		int inner = (int)rng_int(&r, 1, 3);
		int64_t n = (int64_t)outer * len * inner;
		float *x = rand_buf(&r, n), *y = alloc64((size_t)n * 4), *yr = alloc64((size_t)n * 4);
		for (int64_t i = 0; i < n; i++)
			x[i] *= (float)(iter % 5) * 20.0f; /* up to +-80: large spreads */
		if (iter == 7)
			x[0] = NAN;
		if (iter == 8)
			x[0] = -INFINITY;
		for (int lg = 0; lg <= 1; lg++) {
			rtk_softmax(outer, len, inner, lg, x, y);
			rt_softmax_ref(x, yr, outer, len, inner, lg);
			check_near(lg ? "logsoftmax" : "softmax", iter, y, yr, n, 2.5e-7f);
		}
		free(x); free(y); free(yr);
	}
}

int main(void)
{
#if defined(RTK_TEST_AVX512)
	/* the kernels are built for the avx512 level (tests/CMakeLists.txt) */
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
	    !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl") ||
	    !__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512vpopcntdq")) {
		printf("skip: this CPU has not the avx512 kernel level\n");
		return 77;
	}
#endif
#if defined(RTK_TEST_AVXVNNI)
	/* the kernels are built for the avxvnni level (tests/CMakeLists.txt) */
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("avxvnni")) {
		printf("skip: this CPU has not the avxvnni kernel level\n");
		return 77;
	}
#endif
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_popcount_and),
		cmocka_unit_test(test_qconv_rounding),
		cmocka_unit_test(test_qconv_sweep_k),
		cmocka_unit_test(test_qconv_bits),
		cmocka_unit_test(test_qconv_depthwise),
		cmocka_unit_test(test_qconv_f32act),
		cmocka_unit_test(test_qconv_large),
		cmocka_unit_test(test_qconv_extremes),
		cmocka_unit_test(test_conv_f32),
		cmocka_unit_test(test_conv_f32_blocks),
		cmocka_unit_test(test_gemm_f32),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_global_pool),
		cmocka_unit_test(test_pool_huge_window),
		cmocka_unit_test(test_pool_inside),
		cmocka_unit_test(test_elementwise),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_exp_log),
		cmocka_unit_test(test_softmax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
