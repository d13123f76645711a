/* tests/qemu/test_kernels_neon.c: the NEON paths of runtime/kernels/ on AArch64 (under
 * qemu), without cmocka or sqccore: the AND-popcount and the bit-serial rtk_qconv against
 * their scalar twins bit for bit and against a plain integer loop (its own oracle, below),
 * rtk_bconv and rtk_iconv (SIMD and scalar) bit for bit against rtk_qconv (rtk_iconv also
 * against the integer loop), the float-activation path, the float convolution and the
 * float Gemm against double-precision loops, and exp/log against libm.
 * Prints one line per failure and a summary; exit status 0 only if nothing failed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/kernels/kernels.h"

#if !defined(__aarch64__) || !defined(__ARM_NEON)
#error "this test checks the AArch64 NEON paths"
#endif

static int failures, checks;

#define CHECK(cond, ...)                                       \
	do {                                                   \
		checks++;                                      \
		if (!(cond)) {                                 \
			if (failures++ < 20) {                 \
				printf("FAIL %s:%d: ", __FILE__, __LINE__); \
				printf(__VA_ARGS__);           \
				printf("\n");                  \
			}                                      \
		}                                              \
	} while (0)

/* xorshift64* as tests/unit/testutil.h. */
static uint64_t rng_s = 0x5eed1234u;
static uint64_t rnd(void)
{
	rng_s ^= rng_s >> 12;
	rng_s ^= rng_s << 25;
	rng_s ^= rng_s >> 27;
	return rng_s * 0x2545F4914F6CDD1DULL;
}
static int rint_in(int lo, int hi)
{
	return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}
static float rfloat(void) /* [-1, 1) */
{
	return (float)((double)(rnd() >> 11) / (double)(1ULL << 53) * 2.0 - 1.0);
}

static void *alloc64(size_t n)
{
	n = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, n ? n : 64);
	if (!p) {
		printf("out of memory\n");
		exit(1);
	}
	memset(p, 0, n ? n : 64);
	return p;
}

static int same_bits(float a, float b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* ---- the oracle ------------------------------------------------------------------------ */

/* rt_act_quant_ref's integer: rint(clamp(x / s, -qn, qp)), half to even, NaN -> -qn. */
static int32_t quant_u(float x, float step, int32_t qn, int32_t qp)
{
	float v = fminf(fmaxf(x * (1.0f / step), (float)-qn), (float)qp);
	return (int32_t)nearbyintf(v); /* default rounding mode: half to even */
}

/* S[m][o] = sum over the window of t * u (padding u = 0). */
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
			int iy = oy * g->sh - g->pt + r * g->dh, ix = ox * g->sw - g->pl + c * g->dw;
			if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
				continue;
			int ch = (m / mg) * cg + ci;
			acc += (int64_t)t[m * k + (ci * g->kh + r) * g->kw + c] *
			       u[(ch * g->h + iy) * g->w + ix];
		}
		s[(m * g->oh + oy) * g->ow + ox] = acc;
	}
}

/* The same sum over float x in double, and sum |terms|. */
static void f64_conv(const RtkConv *g, const float *x, const int8_t *t, double *s, double *a)
{
	int cg = g->c / g->group, mg = g->m / g->group, k = cg * g->kh * g->kw;
	for (int m = 0; m < g->m; m++)
	for (int oy = 0; oy < g->oh; oy++)
	for (int ox = 0; ox < g->ow; ox++) {
		double acc = 0, abs = 0;
		for (int ci = 0; ci < cg; ci++)
		for (int r = 0; r < g->kh; r++)
		for (int c = 0; c < g->kw; c++) {
			int iy = oy * g->sh - g->pt + r * g->dh, ix = ox * g->sw - g->pl + c * g->dw;
			if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
				continue;
			int ch = (m / mg) * cg + ci;
			double v = (double)t[m * k + (ci * g->kh + r) * g->kw + c] *
			           x[(ch * g->h + iy) * g->w + ix];
			acc += v;
			abs += fabs(v);
		}
		s[(m * g->oh + oy) * g->ow + ox] = acc;
		a[(m * g->oh + oy) * g->ow + ox] = abs;
	}
}

/* ---- cases -------------------------------------------------------------------------- */

static RtkConv rand_conv(int cg, int kh, int kw, int group, int mg)
{
	RtkConv g = {.kh = kh, .kw = kw, .sh = rint_in(1, 2), .sw = rint_in(1, 2),
	             .dh = rint_in(1, 2), .dw = rint_in(1, 2), .pt = rint_in(0, 2),
	             .pl = rint_in(0, 2), .group = group};
	int pb = rint_in(0, 2), pr = rint_in(0, 2);
	g.h = rint_in(1, 7);
	g.w = rint_in(1, 7);
	while (g.h + g.pt + pb < g.dh * (kh - 1) + 1)
		g.h++;
	while (g.w + g.pl + pr < g.dw * (kw - 1) + 1)
		g.w++;
	g.c = cg * group;
	g.m = mg * group;
	g.oh = (g.h + g.pt + pb - g.dh * (kh - 1) - 1) / g.sh + 1;
	g.ow = (g.w + g.pl + pr - g.dw * (kw - 1) - 1) / g.sw + 1;
	return g;
}

/* One case: random weights and inputs; SIMD == scalar; with scale = step = 1 and no bias
 * y == S exactly; with a random step, y within 1e-5 * sum|terms| of the double sum. */
static void run_case(RtkConv g, int binary, int bits, int sgn, int iter)
{
	RtkQConv q = {.g = g, .binary = binary, .bits = bits, .step = 1.0f};
	q.k = g.c / g.group * g.kh * g.kw;
	q.kwords = 4 * ((q.k + 255) / 256);
	if (bits < 32) {
		q.qn = sgn ? 1 << (bits - 1) : 0;
		q.qp = sgn ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
	}
	int nx = g.c * g.h * g.w, ny = g.m * g.oh * g.ow, nw = g.m * q.k;
	int8_t *t = alloc64((size_t)nw);
	uint64_t *w = alloc64((size_t)g.m * (binary ? 1 : 2) * q.kwords * 8);
	for (int i = 0; i < nw; i++) {
		int m = i / q.k, j = i % q.k;
		t[i] = binary ? (rnd() & 1 ? 1 : -1) : (int8_t)rint_in(-1, 1);
		uint64_t bit = 1ull << (j % 64);
		if (binary && t[i] == 1)
			w[m * q.kwords + j / 64] |= bit;
		if (!binary && t[i] == 1)
			w[2 * m * q.kwords + j / 64] |= bit;
		if (!binary && t[i] == -1)
			w[(2 * m + 1) * q.kwords + j / 64] |= bit;
	}
	float *x = alloc64((size_t)nx * 4), *y = alloc64((size_t)ny * 4), *ys = alloc64((size_t)ny * 4);
	float *scale = alloc64((size_t)g.m * 4), *bias = alloc64((size_t)g.m * 4);
	int32_t *u = alloc64((size_t)nx * 4);
	int64_t *s = alloc64((size_t)ny * 8);
	double *sd = alloc64((size_t)ny * 8), *sa = alloc64((size_t)ny * 8);
	size_t ss = rtk_qconv_scratch(&q);
	void *scr = alloc64(ss), *scr2 = alloc64(ss);
	/* rtk_iconv: weights repacked as the backend does, scratch starting dirty */
	int32_t *wi = alloc64(bits < 32 ? (size_t)rtk_iconv_words(&q) * 4 : 64);
	if (bits < 32)
		rtk_iconv_repack(&q, w, wi);
	size_t s8 = bits < 32 ? rtk_iconv_scratch(&q) : 64;
	void *s8a = alloc64(s8), *s8b = alloc64(s8);
	memset(s8a, 0xa5, s8);
	memset(s8b, 0x5a, s8);
	float *yi = alloc64((size_t)ny * 4);

	for (int m = 0; m < g.m; m++)
		scale[m] = 1.0f;
	if (bits < 32) {
		for (int i = 0; i < nx; i++) {
			if (rint_in(0, 7) == 0) /* halves: ties for round half to even */
				x[i] = (float)rint_in(-2 * q.qn - 3, 2 * q.qp + 3) * 0.5f;
			else
				x[i] = rfloat() * (float)(q.qn + q.qp + 2) * 0.6f +
				       (float)(q.qp - q.qn) * 0.5f;
		}
		if (nx > 2) {
			x[rint_in(0, nx - 1)] = NAN;
			x[rint_in(0, nx - 1)] = INFINITY;
		}
		for (int i = 0; i < nx; i++)
			u[i] = quant_u(x[i], 1.0f, q.qn, q.qp);
		int_conv(&g, u, t, s);
		rtk_qconv(&q, x, w, scale, NULL, y, scr);
		rtk_qconv_scalar(&q, x, w, scale, NULL, ys, scr2);
		for (int i = 0; i < ny; i++)
			CHECK(y[i] == (float)s[i] && ys[i] == (float)s[i],
			      "case %d bits %d binary %d: [%d] simd %.9g scalar %.9g want %lld", iter,
			      bits, binary, i, (double)y[i], (double)ys[i], (long long)s[i]);
		rtk_iconv(&q, x, wi, scale, NULL, y, s8a);
		rtk_iconv_scalar(&q, x, wi, scale, NULL, ys, s8b);
		for (int i = 0; i < ny; i++)
			CHECK(y[i] == (float)s[i] && ys[i] == (float)s[i],
			      "iconv case %d bits %d binary %d: [%d] simd %.9g scalar %.9g want %lld",
			      iter, bits, binary, i, (double)y[i], (double)ys[i], (long long)s[i]);
		q.step = 0.05f + 0.5f * fabsf(rfloat());
	}
	for (int m = 0; m < g.m; m++) {
		scale[m] = 0.25f + fabsf(rfloat());
		bias[m] = rfloat();
	}
	q.g.relu = rint_in(0, 1);
	for (int i = 0; i < nx; i++)
		x[i] = rfloat() * 3.0f * (bits < 32 ? q.step * (float)(q.qp + 1) : 1.0f);
	float *xd = alloc64((size_t)nx * 4); /* dequantized (or float) activations */
	for (int i = 0; i < nx; i++)
		xd[i] = bits < 32 ? q.step * (float)quant_u(x[i], q.step, q.qn, q.qp) : x[i];
	f64_conv(&g, xd, t, sd, sa);
	rtk_qconv(&q, x, w, scale, bias, y, scr);
	rtk_qconv_scalar(&q, x, w, scale, bias, ys, scr2);
	if (bits < 32) { /* rtk_bconv and rtk_iconv: bit-identical to rtk_qconv */
		/* rtk_bconv in both weight layouts (NEON reads nib = 0), SIMD and scalar */
		for (int nib = 0; nib <= 1; nib++) {
			RtkQConv qb = q;
			qb.nib = nib;
			uint64_t *wr = alloc64((size_t)rtk_bconv_words(&qb) * 8);
			rtk_bconv_repack(&qb, w, wr);
			size_t sb = rtk_bconv_scratch(&qb);
			void *sba = alloc64(sb);
			memset(sba, 0xa5, sb);
			for (int v = 0; v < 2; v++) {
				if (v == 0)
					rtk_bconv(&qb, x, wr, scale, bias, yi, sba);
				else
					rtk_bconv_scalar(&qb, x, wr, scale, bias, yi, sba);
				for (int i = 0; i < ny; i++)
					CHECK(same_bits(yi[i], y[i]), "bconv nib %d %s case %d bits %d: [%d] "
					      "%.9g != %.9g", nib, v ? "scalar" : "simd", iter, bits, i,
					      (double)yi[i], (double)y[i]);
			}
			free(wr);
			free(sba);
		}
		/* rtk_iconv (SDOT with +dotprod, else SMLAL), SIMD and scalar */
		for (int v = 0; v < 2; v++) {
			if (v == 0)
				rtk_iconv(&q, x, wi, scale, bias, yi, s8a);
			else
				rtk_iconv_scalar(&q, x, wi, scale, bias, yi, s8b);
			for (int i = 0; i < ny; i++)
				CHECK(same_bits(yi[i], y[i]), "iconv %s case %d bits %d: [%d] %.9g != %.9g",
				      v ? "scalar" : "simd", iter, bits, i, (double)yi[i], (double)y[i]);
		}
	}
	for (int i = 0; i < ny; i++) {
		int m = i / (g.oh * g.ow);
		double want = scale[m] * sd[i] + bias[m];
		if (q.g.relu && want < 0)
			want = 0;
		double bound = scale[m] * sa[i] + fabs(bias[m]);
		CHECK(same_bits(y[i], ys[i]), "case %d bits %d: [%d] simd %.9g != scalar %.9g", iter,
		      bits, i, (double)y[i], (double)ys[i]);
		CHECK(fabs(y[i] - want) <= 1e-5 * bound, "case %d bits %d: [%d] got %.9g want %.9g",
		      iter, bits, i, (double)y[i], want);
	}
	free(t); free(w); free(x); free(y); free(ys); free(scale); free(bias); free(u); free(s);
	free(sd); free(sa); free(scr); free(scr2); free(xd); free(wi); free(s8a); free(s8b);
	free(yi);
}

static void test_popcount(void)
{
	uint64_t *a = alloc64(4096 * 8), *b = alloc64(4096 * 8);
	for (int iter = 0; iter < 32; iter++)
		for (int n = 4; n <= 64; n += 4) {
			for (int i = 0; i < n; i++) {
				a[i] = iter % 8 == 1 ? ~0ull : rnd();
				b[i] = iter % 4 == 0 ? ~0ull : rnd();
			}
			int32_t want = 0;
			for (int i = 0; i < n * 64; i++)
				want += (int32_t)((a[i / 64] >> (i % 64)) & (b[i / 64] >> (i % 64)) & 1);
			CHECK(rtk_popcount_and(a, b, n) == want && rtk_popcount_and_scalar(a, b, n) == want,
			      "popcount n=%d: %d %d want %d", n, rtk_popcount_and(a, b, n),
			      rtk_popcount_and_scalar(a, b, n), want);
		}
	memset(a, 0xff, 4096 * 8);
	memset(b, 0xff, 4096 * 8);
	CHECK(rtk_popcount_and(a, b, 4096) == 4096 * 64, "long all-ones row: %d",
	      rtk_popcount_and(a, b, 4096));
	free(a);
	free(b);
}

static void split_k(int k, int *cg, int *kh, int *kw)
{
	int opts[32][2], n = 0;
	for (int a = 1; a <= 5; a++)
		for (int b = 1; b <= 5; b++)
			if (k % (a * b) == 0) {
				opts[n][0] = a;
				opts[n][1] = b;
				n++;
			}
	int i = rint_in(0, n - 1);
	*kh = opts[i][0];
	*kw = opts[i][1];
	*cg = k / (*kh * *kw);
}

static void test_qconv(void)
{
	int iter = 0;
	for (int k = 1; k <= 300; k++, iter++) { /* every k mod 256 */
		int cg, kh, kw;
		split_k(k, &cg, &kh, &kw);
		run_case(rand_conv(cg, kh, kw, rint_in(1, 2), rint_in(1, 4)), (k / 8) % 2, 1 + k % 8,
		         (k / 16) % 2, iter);
	}
	for (int bits = 1; bits <= 8; bits++) /* every width and kind, multi-word rows */
		for (int kind = 0; kind < 4; kind++, iter++)
			run_case(rand_conv(rint_in(20, 90), rint_in(1, 3), rint_in(1, 3), rint_in(1, 2),
			                   rint_in(1, 5)), kind % 2, bits, kind / 2, iter);
	for (int i = 0; i < 24; i++, iter++) /* depthwise */
		run_case(rand_conv(1, rint_in(1, 5), rint_in(1, 5), rint_in(1, 9), rint_in(1, 2)),
		         i % 2, i % 3 == 2 ? 32 : 1 + i % 8, (i / 2) % 2, iter);
	for (int i = 0; i < 8; i++, iter++) /* k past rtk_iconv's 255-step SMLAL runs */
		run_case(rand_conv(rint_in(120, 260), 3, 3, 1, rint_in(1, 5)), i % 2, 8 - i % 3,
		         (i / 2) % 2, iter);
	for (int i = 0; i < 24; i++, iter++) { /* float activations */
		int cg, kh, kw;
		split_k(rint_in(1, 300), &cg, &kh, &kw);
		run_case(rand_conv(cg, kh, kw, rint_in(1, 2), rint_in(1, 6)), i % 2, 32, 0, iter);
	}
	for (int i = 0; i < 27; i++, iter++) { /* float activations, larger: the three paths */
		int path = i % 3, ks = path == 2 ? 1 : 3, st = path == 1 ? 2 : 1;
		RtkConv g = {.c = rint_in(1, 40), .h = path == 2 ? 1 : rint_in(5, 16),
		             .w = path == 2 ? rint_in(1, 3) : rint_in(5, 16), .m = 1 + i % 9,
		             .kh = ks, .kw = ks, .sh = st, .sw = st, .dh = 1, .dw = 1,
		             .pt = ks / 2, .pl = ks / 2, .group = 1};
		g.oh = (g.h + 2 * g.pt - ks) / st + 1;
		g.ow = (g.w + 2 * g.pl - ks) / st + 1;
		run_case(g, i % 2, 32, 0, iter);
	}
	for (int i = 0; i < 4; i++, iter++) { /* fc layers: one position, k = 400 and 1152 */
		RtkConv g = {.c = i < 2 ? 400 : 1152, .h = 1, .w = 1, .m = 7, .oh = 1, .ow = 1,
		             .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 1};
		run_case(g, i % 2, 32, 0, iter);
	}
}

/* ---- float convolution and Gemm against double loops ---------------------------------- */

static void run_conv_f32(RtkConv g, int iter)
{
	int cg = g.c / g.group, mg = g.m / g.group, k = cg * g.kh * g.kw;
	int nx = g.c * g.h * g.w, ny = g.m * g.oh * g.ow, nw = g.m * k;
	float *x = alloc64((size_t)nx * 4), *w = alloc64((size_t)nw * 4);
	float *b = alloc64((size_t)g.m * 4), *y = alloc64((size_t)ny * 4);
	for (int i = 0; i < nx; i++)
		x[i] = rfloat();
	for (int i = 0; i < nw; i++)
		w[i] = rfloat();
	for (int i = 0; i < g.m; i++)
		b[i] = rfloat();
	size_t ss = rtk_conv_f32_scratch(&g);
	void *scr = alloc64(ss);
	memset(scr, 0x7f, ss);
	g.relu = iter % 2;
	rtk_conv_f32(&g, x, w, b, y, scr);
	for (int m = 0; m < g.m; m++)
	for (int oy = 0; oy < g.oh; oy++)
	for (int ox = 0; ox < g.ow; ox++) {
		double acc = b[m], abs = fabs(b[m]);
		for (int ci = 0; ci < cg; ci++)
		for (int r = 0; r < g.kh; r++)
		for (int c = 0; c < g.kw; c++) {
			int iy = oy * g.sh - g.pt + r * g.dh, ix = ox * g.sw - g.pl + c * g.dw;
			if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
				continue;
			double v = (double)w[m * k + (ci * g.kh + r) * g.kw + c] *
			           x[(((m / mg) * cg + ci) * g.h + iy) * g.w + ix];
			acc += v;
			abs += fabs(v);
		}
		if (g.relu && acc < 0)
			acc = 0;
		int i = (m * g.oh + oy) * g.ow + ox;
		CHECK(fabs(y[i] - acc) <= 1e-5 * abs, "conv_f32 case %d: [%d] got %.9g want %.9g",
		      iter, i, (double)y[i], acc);
	}
	free(x); free(w); free(b); free(y); free(scr);
}

static void test_conv_f32(void)
{
	int iter = 0;
	for (int i = 0; i < 60; i++, iter++) /* small random geometries, groups, depthwise */
		run_conv_f32(rand_conv(i % 5 == 0 ? 1 : rint_in(1, 12), rint_in(1, 4), rint_in(1, 4),
		                       rint_in(1, 3), rint_in(1, 9)), iter);
	for (int i = 0; i < 36; i++, iter++) { /* the three paths, every channel remainder */
		int path = i % 3, ks = path == 2 ? 1 : 1 + 2 * (i % 2), st = path == 1 ? 2 : 1;
		RtkConv g = {.c = rint_in(1, 40), .h = path == 2 ? 1 : rint_in(4, 30),
		             .w = path == 2 ? rint_in(1, 7) : rint_in(4, 30), .m = 1 + i % 9,
		             .kh = ks, .kw = ks, .sh = st, .sw = st, .dh = 1 + (i % 4 == 3),
		             .dw = 1 + (i % 4 == 3), .pt = ks / 2, .pl = ks / 2, .group = 1};
		while (g.h + 2 * g.pt < g.dh * (ks - 1) + 1)
			g.h++;
		while (g.w + 2 * g.pl < g.dw * (ks - 1) + 1)
			g.w++;
		g.oh = (g.h + 2 * g.pt - g.dh * (ks - 1) - 1) / st + 1;
		g.ow = (g.w + 2 * g.pl - g.dw * (ks - 1) - 1) / st + 1;
		run_conv_f32(g, iter);
	}
}

static void test_gemm_f32(void)
{
	for (int iter = 0; iter < 120; iter++) {
		RtkGemm p = {iter % 7 == 0 ? 2 : 1, 1 + iter % 9, 1 + (iter * 7) % 70, iter % 2};
		if (iter >= 110)
			p.k = 100 + 131 * (iter - 110);
		float *a = alloc64((size_t)p.rows * p.k * 4), *w = alloc64((size_t)p.n * p.k * 4);
		float *b = alloc64((size_t)p.n * 4), *y = alloc64((size_t)p.rows * p.n * 4);
		for (int i = 0; i < p.rows * p.k; i++)
			a[i] = rfloat();
		for (int i = 0; i < p.n * p.k; i++)
			w[i] = rfloat();
		for (int i = 0; i < p.n; i++)
			b[i] = rfloat();
		rtk_gemm_f32(&p, a, w, b, y);
		for (int r = 0; r < p.rows; r++)
			for (int n = 0; n < p.n; n++) {
				double acc = b[n], abs = fabs(b[n]);
				for (int j = 0; j < p.k; j++) {
					double v = (double)a[r * p.k + j] * w[n * p.k + j];
					acc += v;
					abs += fabs(v);
				}
				if (p.relu && acc < 0)
					acc = 0;
				CHECK(fabs(y[r * p.n + n] - acc) <= 1e-5 * abs,
				      "gemm_f32 case %d: [%d][%d] got %.9g want %.9g", iter, r, n,
				      (double)y[r * p.n + n], acc);
			}
		free(a); free(w); free(b); free(y);
	}
}

static double ulp_at(double v)
{
	v = fabs(v);
	if (v < 0x1p-126)
		return 0x1p-149;
	int e;
	frexp(v, &e);
	return ldexp(1.0, e - 24);
}

static void test_exp_log(void)
{
	for (int i = 0; i < 20000; i++) {
		float x = -104.0f + 193.0f * (float)i / 20000.0f;
		double t = exp((double)x);
		float got = rtk_expf(x);
		if (isinf(expf(x)))
			CHECK(isinf(got), "expf(%.9g) = %.9g", (double)x, (double)got);
		else
			CHECK(fabs(got - t) <= ulp_at(t), "expf(%.9g) = %.9g want %.9g", (double)x,
			      (double)got, t);
		uint32_t bits = (uint32_t)rnd() & 0x7f7fffffu;
		float y;
		memcpy(&y, &bits, 4);
		if (y == 0.0f)
			continue;
		t = log((double)y);
		got = rtk_logf(y);
		CHECK(fabs(got - t) <= ulp_at(t), "logf(%.9g) = %.9g want %.9g", (double)y,
		      (double)got, t);
	}
	CHECK(isnan(rtk_logf(-1.0f)) && rtk_logf(0.0f) == -INFINITY && rtk_expf(-INFINITY) == 0.0f,
	      "specials");
}

int main(void)
{
	test_popcount();
	test_qconv();
	test_conv_f32();
	test_gemm_f32();
	test_exp_log();
	printf("%s: %d checks, %d failed\n", failures ? "FAIL" : "ok", checks, failures);
	return failures ? 1 : 0;
}
