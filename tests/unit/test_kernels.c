/* tests/unit/test_kernels.c: reference kernels against hand-computed values, and the BLAS
 * fast paths against the reference kernels on seeded random sweeps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"

/* ---- helpers -------------------------------------------------------------------------- */

#include "testutil.h"

static float *rand_buf(Rng *r, int64_t n)
{
	float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
	for (int64_t i = 0; i < n; i++)
		p[i] = rng_float(r);
	return p;
}

static float *abs_copy(const float *x, int64_t n)
{
	float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
	for (int64_t i = 0; i < n; i++)
		p[i] = fabsf(x[i]);
	return p;
}

/* Fails unless |got[i] - want[i]| <= tol * max(1, |want[i]|) for every i. */
static void check_near(const char *what, const float *got, const float *want, int64_t n,
                       float tol)
{
	for (int64_t i = 0; i < n; i++) {
		float lim = tol * (fabsf(want[i]) > 1 ? fabsf(want[i]) : 1.0f);
		if (!(fabsf(got[i] - want[i]) <= lim))
			fail_msg("%s[%lld]: got %.9g, want %.9g", what, (long long)i, (double)got[i],
			         (double)want[i]);
	}
}

/* Fails unless |fast[i] - ref[i]| <= 1e-4 * bound[i] + 1e-6, where bound is the sum of
 * the absolute values of the terms (the kernel run on absolute values). */
static void check_bound(const char *what, int iter, const float *fast, const float *ref,
                        const float *bound, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (!(fabsf(fast[i] - ref[i]) <= 1e-4f * bound[i] + 1e-6f))
			fail_msg("%s (case %d) [%lld]: fast %.9g, ref %.9g, sum|terms| %.9g", what, iter,
			         (long long)i, (double)fast[i], (double)ref[i], (double)bound[i]);
}

static void fill_iota(float *x, int64_t n, float start)
{
	for (int64_t i = 0; i < n; i++)
		x[i] = start + (float)i;
}

/* Conv parameters from the attributes; out[] follows the ONNX formula. */
static RtConv conv_params(int nsp, int64_t n, int64_t c, int64_t m, int64_t group,
                          const int64_t *in, const int64_t *k, const int64_t *stride,
                          const int64_t *dil, const int64_t *pb, const int64_t *pe)
{
	RtConv p = {.nsp = nsp, .n = n, .c = c, .m = m, .group = group};
	for (int i = 0; i < nsp; i++) {
		p.in[i] = in[i];
		p.k[i] = k[i];
		p.stride[i] = stride[i];
		p.dil[i] = dil[i];
		p.pad_begin[i] = pb[i];
		p.out[i] = (in[i] + pb[i] + pe[i] - dil[i] * (k[i] - 1) - 1) / stride[i] + 1;
	}
	return p;
}

static int64_t conv_out_numel(const RtConv *p)
{
	int64_t v = p->n * p->m;
	for (int i = 0; i < p->nsp; i++)
		v *= p->out[i];
	return v;
}

/* Runs both conv kernels and checks them against want. */
static void conv_both(const RtConv *p, const float *x, const float *w, const float *b,
                      const float *want)
{
	int64_t ny = conv_out_numel(p);
	float *y = malloc((size_t)ny * sizeof *y);
	rt_conv_ref(p, x, w, b, y);
	check_near("conv_ref", y, want, ny, 1e-6f);
	memset(y, 0, (size_t)ny * sizeof *y);
	rt_conv_fast(p, x, w, b, y);
	check_near("conv_fast", y, want, ny, 1e-6f);
	free(y);
}

/* ---- Conv ----------------------------------------------------------------------------- */

/* The ONNX Conv examples: 5x5 iota input, 3x3 ones kernel, with and without padding,
 * stride 2, and asymmetric padding on a 7x5 input. */
static void test_conv_onnx_examples(void **state)
{
	(void)state;
	float x[35], w[9];
	fill_iota(x, 35, 0);
	for (int i = 0; i < 9; i++)
		w[i] = 1;
	int64_t in[2] = {5, 5}, k[2] = {3, 3}, s1[2] = {1, 1}, s2[2] = {2, 2}, d[2] = {1, 1};
	int64_t p0[2] = {0, 0}, p1[2] = {1, 1};

	RtConv p = conv_params(2, 1, 1, 1, 1, in, k, s1, d, p1, p1);
	const float pad1[25] = {12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
	                        93, 144, 153, 162, 111, 72, 111, 117, 123, 84};
	conv_both(&p, x, w, NULL, pad1);

	p = conv_params(2, 1, 1, 1, 1, in, k, s1, d, p0, p0);
	assert_int_equal(p.out[0], 3);
	const float nopad[9] = {54, 63, 72, 99, 108, 117, 144, 153, 162};
	conv_both(&p, x, w, NULL, nopad);

	p = conv_params(2, 1, 1, 1, 1, in, k, s2, d, p1, p1);
	const float str2[9] = {12, 27, 24, 63, 108, 81, 72, 117, 84};
	conv_both(&p, x, w, NULL, str2);

	/* 7x5 input, stride 2, pads h = 1/1, w = 0/0. */
	int64_t in2[2] = {7, 5}, pb[2] = {1, 0}, pe[2] = {1, 0};
	p = conv_params(2, 1, 1, 1, 1, in2, k, s2, d, pb, pe);
	assert_int_equal(p.out[0], 4);
	assert_int_equal(p.out[1], 2);
	const float asym[8] = {21, 33, 99, 117, 189, 207, 171, 183};
	conv_both(&p, x, w, NULL, asym);
}

/* 1-D, two groups, dilation 2, bias: y0 = x0[i] - x0[i+2] + 1, y1 = .5 x1[i] + 2 x1[i+2] - 1;
 * batch 2 (second image = first * -1 before bias). */
static void test_conv_grouped_dilated_1d(void **state)
{
	(void)state;
	const float x[20] = {1, 2, 3, 4, 5, 10, 20, 30, 40, 50,
	                     -1, -2, -3, -4, -5, -10, -20, -30, -40, -50};
	const float w[4] = {1, -1, 0.5f, 2};
	const float b[2] = {1, -1};
	int64_t in[1] = {5}, k[1] = {2}, s[1] = {1}, d[1] = {2}, p0[1] = {0};
	RtConv p = conv_params(1, 2, 2, 2, 2, in, k, s, d, p0, p0);
	assert_int_equal(p.out[0], 3);
	const float want[12] = {-1, -1, -1, 64, 89, 114, 3, 3, 3, -66, -91, -116};
	conv_both(&p, x, w, b, want);
}

/* 3-D, 2x2x2 iota input (1..8), 2x2x2 ones kernel: no padding sums everything; padding 1
 * with stride 2 makes every window see exactly one input voxel (a corner). */
static void test_conv_3d(void **state)
{
	(void)state;
	float x[8], w[8];
	fill_iota(x, 8, 1);
	for (int i = 0; i < 8; i++)
		w[i] = 1;
	int64_t in[3] = {2, 2, 2}, k[3] = {2, 2, 2}, s1[3] = {1, 1, 1}, s2[3] = {2, 2, 2};
	int64_t d[3] = {1, 1, 1}, p0[3] = {0, 0, 0}, p1[3] = {1, 1, 1};
	RtConv p = conv_params(3, 1, 1, 1, 1, in, k, s1, d, p0, p0);
	const float sum[1] = {36};
	conv_both(&p, x, w, NULL, sum);
	p = conv_params(3, 1, 1, 1, 1, in, k, s2, d, p1, p1);
	assert_int_equal(p.out[2], 2);
	const float corners[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	conv_both(&p, x, w, NULL, corners);
}

/* Depthwise 3x3 on two channels with different kernels, plus a 1x1 pointwise conv mixing
 * the channels (the fast path reads x directly for it). */
static void test_conv_depthwise_pointwise(void **state)
{
	(void)state;
	float x[18];
	fill_iota(x, 18, 0); /* ch0 0..8, ch1 9..17, 3x3 each */
	float w[18] = {0};
	w[4] = 1;     /* ch0: identity (center tap) */
	w[9 + 0] = 1; /* ch1: top-left tap */
	int64_t in[2] = {3, 3}, k[2] = {3, 3}, s[2] = {1, 1}, d[2] = {1, 1}, p1[2] = {1, 1};
	RtConv p = conv_params(2, 1, 2, 2, 2, in, k, s, d, p1, p1);
	float want[18];
	for (int i = 0; i < 9; i++) {
		want[i] = (float)i;
		int r = i / 3, c = i % 3;
		want[9 + i] = r > 0 && c > 0 ? x[9 + (r - 1) * 3 + (c - 1)] : 0;
	}
	conv_both(&p, x, w, NULL, want);

	/* Pointwise: y0 = x0 + 2 x1 + 0.5, y1 = -x0. */
	const float wp[4] = {1, 2, -1, 0};
	const float bp[2] = {0.5f, 0};
	int64_t k1[2] = {1, 1}, p0[2] = {0, 0};
	p = conv_params(2, 1, 2, 2, 1, in, k1, s, d, p0, p0);
	for (int i = 0; i < 9; i++) {
		want[i] = x[i] + 2 * x[9 + i] + 0.5f;
		want[9 + i] = -x[i];
	}
	conv_both(&p, x, wp, bp, want);
}

/* Random configurations: 1-3 spatial dims, odd sizes, strides 1-3, dilations 1-2,
 * asymmetric pads, groups 1/2/3/depthwise, with and without bias, 1x1 pointwise. */
static void test_conv_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x5eed0001};
	for (int it = 0; it < 300; it++) {
		int nsp = 1 + it % 3;
		int64_t n = rng_int(&rng, 1, 2);
		int64_t group, c, m;
		switch (rng_int(&rng, 0, 3)) {
		case 0: group = 1; break;
		case 1: group = 2; break;
		case 2: group = 3; break;
		default: group = rng_int(&rng, 1, 6); break; /* depthwise below */
		}
		c = group * rng_int(&rng, 1, 3);
		m = group * rng_int(&rng, 1, 3);
		if (group > 3) {
			c = group;
			m = group * rng_int(&rng, 1, 2);
		}
		int pointwise = rng_int(&rng, 0, 5) == 0;
		int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
		int64_t kmax = nsp == 3 ? 2 : nsp == 2 ? 3 : 5;
		for (int i = 0; i < nsp; i++) {
			k[i] = pointwise ? 1 : rng_int(&rng, 1, kmax);
			s[i] = pointwise ? 1 : rng_int(&rng, 1, 3);
			d[i] = pointwise ? 1 : rng_int(&rng, 1, 2);
			pb[i] = pointwise ? 0 : rng_int(&rng, 0, k[i] > 1 ? 2 : 0);
			pe[i] = pointwise ? 0 : rng_int(&rng, 0, k[i] > 1 ? 2 : 0);
			int64_t eff = d[i] * (k[i] - 1) + 1 - pb[i] - pe[i];
			int64_t lo = eff > 1 ? eff : 1;
			in[i] = lo + rng_int(&rng, 0, nsp == 3 ? 4 : nsp == 2 ? 8 : 20);
		}
		RtConv p = conv_params(nsp, n, c, m, group, in, k, s, d, pb, pe);
		int64_t nx = n * c, nw = m * (c / group);
		for (int i = 0; i < nsp; i++) {
			nx *= in[i];
			nw *= k[i];
		}
		int64_t ny = conv_out_numel(&p);
		assert_true(ny > 0);
		float *x = rand_buf(&rng, nx), *w = rand_buf(&rng, nw);
		float *b = rng_int(&rng, 0, 1) ? rand_buf(&rng, m) : NULL;
		float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ab = b ? abs_copy(b, m) : NULL;
		float *yr = malloc((size_t)ny * sizeof *yr), *yf = malloc((size_t)ny * sizeof *yf);
		float *bound = malloc((size_t)ny * sizeof *bound);
		for (int64_t i = 0; i < ny; i++)
			yf[i] = NAN; /* every output must be written */
		rt_conv_ref(&p, x, w, b, yr);
		rt_conv_fast(&p, x, w, b, yf);
		rt_conv_ref(&p, ax, aw, ab, bound);
		check_bound("conv", it, yf, yr, bound, ny);
		free(x), free(w), free(b), free(ax), free(aw), free(ab);
		free(yr), free(yf), free(bound);
	}
}

/* An im2col matrix larger than the fast path's buffer cap: done in column chunks. */
static void test_conv_fast_chunked(void **state)
{
	(void)state;
	Rng rng = {0x5eed0005};
	int64_t in[2] = {90, 91}, k[2] = {3, 3}, s[2] = {1, 1}, d[2] = {1, 1}, p1[2] = {1, 1};
	RtConv p = conv_params(2, 1, 64, 2, 1, in, k, s, d, p1, p1);
	int64_t nx = 64 * 90 * 91, nw = 2 * 64 * 9, ny = conv_out_numel(&p);
	assert_true(64 * 9 * ny / 2 > ((int64_t)1 << 22));
	float *x = rand_buf(&rng, nx), *w = rand_buf(&rng, nw), *b = rand_buf(&rng, 2);
	float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ab = abs_copy(b, 2);
	float *yr = malloc((size_t)ny * sizeof *yr), *yf = malloc((size_t)ny * sizeof *yf);
	float *bound = malloc((size_t)ny * sizeof *bound);
	for (int64_t i = 0; i < ny; i++)
		yf[i] = NAN;
	rt_conv_ref(&p, x, w, b, yr);
	rt_conv_fast(&p, x, w, b, yf);
	rt_conv_ref(&p, ax, aw, ab, bound);
	check_bound("conv chunked", 0, yf, yr, bound, ny);
	free(x), free(w), free(b), free(ax), free(aw), free(ab);
	free(yr), free(yf), free(bound);
}

/* ---- Gemm ----------------------------------------------------------------------------- */

/* A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]], AB = [[58,64],[139,154]]. */
static void test_gemm_hand(void **state)
{
	(void)state;
	const float a[6] = {1, 2, 3, 4, 5, 6}, at[6] = {1, 4, 2, 5, 3, 6};
	const float b[6] = {7, 8, 9, 10, 11, 12}, bt[6] = {7, 9, 11, 8, 10, 12};
	const float crow[2] = {1, 2}, ccol[2] = {10, 20}, cs[1] = {100};
	const float cfull[4] = {1, 2, 3, 4};
	float y[4];
	for (int fast = 0; fast < 2; fast++) {
		void (*gemm)(const RtGemm *, const float *, const float *, const float *, float *) =
			fast ? rt_gemm_fast : rt_gemm_ref;
		for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			RtGemm p = {.m = 2, .n = 2, .k = 3, .trans_a = ta, .trans_b = tb,
			            .alpha = 2, .beta = 0.5f, .c_rs = 0, .c_cs = 1};
			gemm(&p, ta ? at : a, tb ? bt : b, crow, y);
			const float w1[4] = {116.5f, 129, 278.5f, 309};
			check_near("gemm row C", y, w1, 4, 1e-6f);
		}
		RtGemm p = {.m = 2, .n = 2, .k = 3, .alpha = 1, .beta = 1, .c_rs = 1, .c_cs = 0};
		gemm(&p, a, b, ccol, y);
		const float w2[4] = {68, 74, 159, 174};
		check_near("gemm column C", y, w2, 4, 1e-6f);
		p.c_rs = p.c_cs = 0;
		p.beta = -1;
		gemm(&p, a, b, cs, y);
		const float w3[4] = {-42, -36, 39, 54};
		check_near("gemm scalar C", y, w3, 4, 1e-6f);
		p.c_rs = 2;
		p.c_cs = 1;
		p.beta = 1;
		gemm(&p, a, b, cfull, y);
		const float w4[4] = {59, 66, 142, 158};
		check_near("gemm full C", y, w4, 4, 1e-6f);
		gemm(&p, a, b, NULL, y);
		const float w5[4] = {58, 64, 139, 154};
		check_near("gemm no C", y, w5, 4, 1e-6f);
		/* k = 0: only beta*C remains. */
		RtGemm p0 = {.m = 2, .n = 2, .k = 0, .alpha = 1, .beta = 2, .c_rs = 2, .c_cs = 1};
		gemm(&p0, a, b, cfull, y);
		const float w6[4] = {2, 4, 6, 8};
		check_near("gemm k=0", y, w6, 4, 1e-6f);
	}
}

/* All transA/transB combos and C kinds (none, scalar, row, column, full). */
static void test_gemm_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x5eed0002};
	for (int it = 0; it < 200; it++) {
		RtGemm p = {.m = rng_int(&rng, 1, 37), .n = rng_int(&rng, 1, 37),
		            .k = it % 50 == 7 ? 0 : rng_int(&rng, 1, 70),
		            .trans_a = it & 1, .trans_b = (it >> 1) & 1,
		            .alpha = rng_float(&rng) * 2, .beta = rng_float(&rng) * 2};
		int ckind = (it >> 2) % 5;
		int64_t nc = 0;
		switch (ckind) {
		case 1: p.c_rs = 0, p.c_cs = 0, nc = 1; break;
		case 2: p.c_rs = 0, p.c_cs = 1, nc = p.n; break;
		case 3: p.c_rs = 1, p.c_cs = 0, nc = p.m; break;
		case 4: p.c_rs = p.n, p.c_cs = 1, nc = p.m * p.n; break;
		}
		int64_t na = p.m * p.k, nb = p.k * p.n, ny = p.m * p.n;
		float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nb);
		float *c = ckind ? rand_buf(&rng, nc) : NULL;
		float *aa = abs_copy(a, na), *ab = abs_copy(b, nb), *ac = c ? abs_copy(c, nc) : NULL;
		float *yr = malloc((size_t)ny * sizeof *yr), *yf = malloc((size_t)ny * sizeof *yf);
		float *bound = malloc((size_t)ny * sizeof *bound);
		for (int64_t i = 0; i < ny; i++)
			yf[i] = NAN;
		rt_gemm_ref(&p, a, b, c, yr);
		rt_gemm_fast(&p, a, b, c, yf);
		RtGemm pa = p;
		pa.alpha = fabsf(p.alpha);
		pa.beta = fabsf(p.beta);
		rt_gemm_ref(&pa, aa, ab, ac, bound);
		check_bound("gemm", it, yf, yr, bound, ny);
		free(a), free(b), free(c), free(aa), free(ab), free(ac);
		free(yr), free(yf), free(bound);
	}
}

/* ---- MatMul --------------------------------------------------------------------------- */

static void matmul_both(Shape sa, const float *a, Shape sb, const float *b, Shape sy,
                        const float *want)
{
	int64_t ny = numel(&sy);
	float y[16];
	assert_true(ny <= 16);
	rt_matmul_ref(&sa, a, &sb, b, &sy, y);
	check_near("matmul_ref", y, want, ny, 1e-6f);
	memset(y, 0, sizeof y);
	rt_matmul_fast(&sa, a, &sb, b, &sy, y);
	check_near("matmul_fast", y, want, ny, 1e-6f);
}

static void test_matmul_hand(void **state)
{
	(void)state;
	const float v3[3] = {1, 2, 3}, u3[3] = {4, 5, 6}, v2[2] = {1, 2};
	const float m23[6] = {1, 2, 3, 4, 5, 6}, c3[3] = {1, 0, -1};
	const float dot[1] = {32};
	matmul_both(SH(3), v3, SH(3), u3, SH0, dot);
	const float vm[3] = {9, 12, 15};
	matmul_both(SH(2), v2, SH(2, 3), m23, SH(3), vm);
	const float mv[2] = {-2, -2};
	matmul_both(SH(2, 3), m23, SH(3), c3, SH(2), mv);
	/* Batched 1-D promotion: [2,2,3] x [3] -> [2,2]. */
	const float bm[12] = {1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0};
	const float bmv[4] = {-2, -2, -1, 1};
	matmul_both(SH(2, 2, 3), bm, SH(3), c3, SH(2, 2), bmv);
	/* Broadcast batch dims [2,1] and [3]: y[i][j] = a_i . b_j. */
	const float a[4] = {1, 2, 3, 4};
	const float b[6] = {1, 0, 0, 1, 1, 1};
	const float want[6] = {1, 2, 3, 3, 4, 7};
	matmul_both(SH(2, 1, 1, 2), a, SH(3, 2, 1), b, SH(2, 3, 1, 1), want);
}

static void test_matmul_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x5eed0003};
	for (int it = 0; it < 200; it++) {
		int64_t m = rng_int(&rng, 1, 9), k = rng_int(&rng, 1, 13), n = rng_int(&rng, 1, 9);
		Shape sa, sb, sy;
		int kind = it % 6;
		if (kind == 0) { /* vector . vector, vector x matrix, matrix x vector */
			int which = (int)rng_int(&rng, 0, 2);
			sa = which == 2 ? SH(m, k) : SH(k);
			sb = which == 1 ? SH(k, n) : SH(k);
			sy = which == 0 ? SH0 : which == 1 ? SH(n) : SH(m);
		} else if (kind == 1) {
			sa = SH(m, k);
			sb = SH(k, n);
			sy = SH(m, n);
		} else {
			/* Batch dims of rank 1-3; each side may drop leading dims or use size 1. */
			int nb = (int)rng_int(&rng, 1, 3);
			int64_t dims[3];
			sy.rank = nb + 2;
			sa.rank = nb + 2;
			sb.rank = nb + 2;
			int dropa = kind == 2 ? 0 : (int)rng_int(&rng, 0, nb);
			int dropb = kind == 3 ? nb : kind == 2 ? (int)rng_int(&rng, 0, nb) : 0;
			for (int i = 0; i < nb; i++) {
				dims[i] = rng_int(&rng, 1, 3);
				sy.d[i] = dims[i];
				sa.d[i] = kind == 4 && rng_int(&rng, 0, 1) ? 1 : dims[i];
				sb.d[i] = kind == 5 && rng_int(&rng, 0, 1) ? 1 : dims[i];
				if (kind == 2)
					sb.d[i] = rng_int(&rng, 0, 1) ? 1 : dims[i];
			}
			/* Dropped leading batch dims: shift the operand's dims left. */
			Shape *ops[2] = {&sa, &sb};
			int drops[2] = {dropa, dropb};
			for (int o = 0; o < 2; o++) {
				Shape t = {.rank = nb - drops[o] + 2};
				for (int i = drops[o]; i < nb; i++)
					t.d[i - drops[o]] = ops[o]->d[i];
				*ops[o] = t;
			}
			sa.d[sa.rank - 2] = m, sa.d[sa.rank - 1] = k;
			sb.d[sb.rank - 2] = k, sb.d[sb.rank - 1] = n;
			/* Output batch dims: where both sides were 1 (or dropped), it is 1. */
			for (int i = 0; i < nb; i++) {
				int ia = i - (nb - (sa.rank - 2)), ib = i - (nb - (sb.rank - 2));
				int64_t da = ia >= 0 ? sa.d[ia] : 1, db = ib >= 0 ? sb.d[ib] : 1;
				sy.d[i] = da > db ? da : db;
			}
			sy.d[nb] = m, sy.d[nb + 1] = n;
		}
		int64_t na = numel(&sa), nbn = numel(&sb), ny = numel(&sy);
		float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nbn);
		float *aa = abs_copy(a, na), *ab = abs_copy(b, nbn);
		float *yr = malloc((size_t)ny * sizeof *yr), *yf = malloc((size_t)ny * sizeof *yf);
		float *bound = malloc((size_t)ny * sizeof *bound);
		for (int64_t i = 0; i < ny; i++)
			yf[i] = NAN;
		rt_matmul_ref(&sa, a, &sb, b, &sy, yr);
		rt_matmul_fast(&sa, a, &sb, b, &sy, yf);
		rt_matmul_ref(&sa, aa, &sb, ab, &sy, bound);
		check_bound("matmul", it, yf, yr, bound, ny);
		free(a), free(b), free(aa), free(ab), free(yr), free(yf), free(bound);
	}
}

/* ---- binary --------------------------------------------------------------------------- */

static void test_binary_broadcast_f32(void **state)
{
	(void)state;
	const float a[6] = {1, 2, 3, 4, 5, 6}, row[3] = {10, 20, 30}, col[2] = {1, -1};
	float y[6];
	Shape s23 = SH(2, 3), s3 = SH(3), s21 = SH(2, 1), s13 = SH(1, 3), s0 = SH0;
	assert_int_equal(rt_binary_ref(RT_ADD, DT_FLOAT, &s23, a, &s3, row, &s23, y), 0);
	const float w1[6] = {11, 22, 33, 14, 25, 36};
	check_near("add row", y, w1, 6, 0);
	/* [2,1] * [1,3] -> [2,3] (both operands broadcast). */
	assert_int_equal(rt_binary_ref(RT_MUL, DT_FLOAT, &s21, col, &s13, row, &s23, y), 0);
	const float w2[6] = {10, 20, 30, -10, -20, -30};
	check_near("mul outer", y, w2, 6, 0);
	/* scalar - tensor. */
	const float two[1] = {2};
	assert_int_equal(rt_binary_ref(RT_SUB, DT_FLOAT, &s0, two, &s23, a, &s23, y), 0);
	const float w3[6] = {1, 0, -1, -2, -3, -4};
	check_near("sub scalar", y, w3, 6, 0);
	assert_int_equal(rt_binary_ref(RT_DIV, DT_FLOAT, &s23, a, &s21, col, &s23, y), 0);
	const float w4[6] = {1, 2, 3, -4, -5, -6};
	check_near("div col", y, w4, 6, 0);
	/* Rank-0 result. */
	const float three[1] = {3};
	assert_int_equal(rt_binary_ref(RT_MUL, DT_FLOAT, &s0, two, &s0, three, &s0, y), 0);
	assert_true(y[0] == 6);
}

static void test_binary_int_and_double(void **state)
{
	(void)state;
	const int32_t a[4] = {-7, 7, INT32_MIN, 9}, b[4] = {2, -2, -1, 3};
	int32_t y[4];
	Shape s4 = SH(4), s1 = SH(1);
	assert_int_equal(rt_binary_ref(RT_DIV, DT_INT32, &s4, a, &s4, b, &s4, y), 0);
	assert_int_equal(y[0], -3); /* truncation toward zero */
	assert_int_equal(y[1], -3);
	assert_int_equal(y[2], INT32_MIN); /* wraps, no trap */
	assert_int_equal(y[3], 3);
	const int32_t zero[1] = {0};
	assert_int_equal(rt_binary_ref(RT_DIV, DT_INT32, &s4, a, &s1, zero, &s4, y), -1);
	assert_int_equal(rt_binary_ref(RT_SUB, DT_INT32, &s4, a, &s1, zero, &s4, y), 0);
	assert_int_equal(y[2], INT32_MIN);

	const int64_t la[2] = {INT64_MAX, -5}, lb[1] = {1};
	int64_t ly[2];
	Shape s2 = SH(2);
	assert_int_equal(rt_binary_ref(RT_ADD, DT_INT64, &s2, la, &s1, lb, &s2, ly), 0);
	assert_true(ly[0] == INT64_MIN); /* wraps */
	assert_true(ly[1] == -4);
	assert_int_equal(rt_binary_ref(RT_MUL, DT_INT64, &s2, la, &s2, la, &s2, ly), 0);
	assert_true(ly[1] == 25);
	const int64_t lz[1] = {0};
	assert_int_equal(rt_binary_ref(RT_DIV, DT_INT64, &s2, la, &s1, lz, &s2, ly), -1);

	const double da[2] = {1.0 / 3, 2}, db[2] = {3, 0.25};
	double dy[2];
	assert_int_equal(rt_binary_ref(RT_MUL, DT_DOUBLE, &s2, da, &s2, db, &s2, dy), 0);
	assert_true(fabs(dy[0] - 1.0) < 1e-15 && dy[1] == 0.5);
	assert_int_equal(rt_binary_ref(RT_DIV, DT_DOUBLE, &s2, da, &s2, db, &s2, dy), 0);
	assert_true(dy[1] == 8);

	/* Unsupported combinations are refused. */
	assert_int_equal(rt_binary_ref(RT_PRELU, DT_INT32, &s4, a, &s4, b, &s4, y), -1);
	assert_int_equal(rt_binary_ref(RT_ADD, DT_UINT8, &s4, a, &s4, b, &s4, y), -1);
}

/* PRelu with a per-channel slope [C,1,1] on [1,C,1,2]. */
static void test_prelu(void **state)
{
	(void)state;
	const float x[6] = {-1, 2, -3, 4, -5, 0};
	const float slope[3] = {0.5f, 2, 0};
	float y[6];
	Shape sx = SH(1, 3, 1, 2), ss = SH(3, 1, 1);
	assert_int_equal(rt_binary_ref(RT_PRELU, DT_FLOAT, &sx, x, &ss, slope, &sx, y), 0);
	const float want[6] = {-0.5f, 2, -6, 4, 0, 0};
	check_near("prelu", y, want, 6, 0);
}

/* Random broadcasting patterns of rank 0-5 against index arithmetic done per element. */
static void test_binary_broadcast_sweep(void **state)
{
	(void)state;
	Rng rng = {0x5eed0004};
	for (int it = 0; it < 300; it++) {
		Shape sy = {.rank = (int)rng_int(&rng, 0, 5)}, sa, sb;
		for (int i = 0; i < sy.rank; i++)
			sy.d[i] = rng_int(&rng, 1, 4);
		Shape *ops[2] = {&sa, &sb};
		for (int o = 0; o < 2; o++) {
			int r = (int)rng_int(&rng, 0, sy.rank);
			ops[o]->rank = r;
			for (int i = 0; i < r; i++)
				ops[o]->d[i] = rng_int(&rng, 0, 2) ? sy.d[sy.rank - r + i] : 1;
		}
		/* The result shape is the broadcast of the two (dims that are 1 on both sides). */
		for (int i = 0; i < sy.rank; i++) {
			int ia = i - (sy.rank - sa.rank), ib = i - (sy.rank - sb.rank);
			int64_t da = ia >= 0 ? sa.d[ia] : 1, db = ib >= 0 ? sb.d[ib] : 1;
			sy.d[i] = da > db ? da : db;
		}
		int64_t na = numel(&sa), nb = numel(&sb), ny = numel(&sy);
		int64_t *a = malloc((size_t)na * sizeof *a), *b = malloc((size_t)nb * sizeof *b);
		int64_t *y = malloc((size_t)ny * sizeof *y);
		for (int64_t i = 0; i < na; i++)
			a[i] = rng_int(&rng, -1000, 1000);
		for (int64_t i = 0; i < nb; i++)
			b[i] = rng_int(&rng, -1000, 1000);
		assert_int_equal(rt_binary_ref(RT_SUB, DT_INT64, &sa, a, &sb, b, &sy, y), 0);
		for (int64_t f = 0; f < ny; f++) {
			/* Coordinates of f, then each operand's flat index (size-1 dims read 0). */
			int64_t coord[IR_MAX_RANK], rem = f, ia = 0, ib = 0;
			for (int i = sy.rank - 1; i >= 0; i--) {
				coord[i] = rem % sy.d[i];
				rem /= sy.d[i];
			}
			for (int i = 0; i < sa.rank; i++)
				ia = ia * sa.d[i] + (sa.d[i] == 1 ? 0 : coord[sy.rank - sa.rank + i]);
			for (int i = 0; i < sb.rank; i++)
				ib = ib * sb.d[i] + (sb.d[i] == 1 ? 0 : coord[sy.rank - sb.rank + i]);
			if (y[f] != a[ia] - b[ib])
				fail_msg("case %d elem %lld: %lld != %lld - %lld", it, (long long)f,
				         (long long)y[f], (long long)a[ia], (long long)b[ib]);
		}
		free(a), free(b), free(y);
	}
}

/* ---- unary, softmax ------------------------------------------------------------------- */

static void test_unary(void **state)
{
	(void)state;
	const float x[5] = {-2, -0.5f, 0, 0.5f, 3};
	float y[5];
	rt_unary_ref(RT_RELU, 0, 0, x, y, 5);
	const float relu[5] = {0, 0, 0, 0.5f, 3};
	check_near("relu", y, relu, 5, 0);
	rt_unary_ref(RT_LEAKYRELU, 0.1f, 0, x, y, 5);
	const float leaky[5] = {-0.2f, -0.05f, 0, 0.5f, 3};
	check_near("leakyrelu", y, leaky, 5, 1e-7f);
	rt_unary_ref(RT_HARDSIGMOID, 0.2f, 0.5f, x, y, 5);
	const float hs[5] = {0.1f, 0.4f, 0.5f, 0.6f, 1};
	check_near("hardsigmoid", y, hs, 5, 1e-6f);
	rt_unary_ref(RT_CLIP, -1, 1, x, y, 5);
	const float clip[5] = {-1, -0.5f, 0, 0.5f, 1};
	check_near("clip", y, clip, 5, 0);
	rt_unary_ref(RT_CLIP, -FLT_MAX, 0.25f, x, y, 5); /* max only */
	const float clipmax[5] = {-2, -0.5f, 0, 0.25f, 0.25f};
	check_near("clip max", y, clipmax, 5, 0);
	rt_unary_ref(RT_TANH, 0, 0, x, y, 5);
	const float th[5] = {-0.96402758f, -0.46211716f, 0, 0.46211716f, 0.99505475f};
	check_near("tanh", y, th, 5, 1e-6f);
	rt_unary_ref(RT_SIGMOID, 0, 0, x, y, 5);
	const float sg[5] = {0.11920292f, 0.37754067f, 0.5f, 0.62245933f, 0.95257413f};
	check_near("sigmoid", y, sg, 5, 1e-6f);
	/* Saturation without overflow or NaN. */
	const float big[2] = {-200, 200};
	rt_unary_ref(RT_SIGMOID, 0, 0, big, y, 2);
	assert_true(y[0] >= 0 && y[0] < 1e-30f && y[1] == 1.0f);
	/* In place. */
	float z[5];
	memcpy(z, x, sizeof z);
	rt_unary_ref(RT_RELU, 0, 0, z, z, 5);
	check_near("relu in place", z, relu, 5, 0);
}

static void test_softmax(void **state)
{
	(void)state;
	/* ONNX softmax_large_number: rows [1,2,3,4] and [10000..10003] give the same result. */
	const float x[8] = {1, 2, 3, 4, 10000, 10001, 10002, 10003};
	const float want[4] = {0.032058604f, 0.087144315f, 0.23688282f, 0.64391426f};
	float y[8];
	rt_softmax_ref(x, y, 2, 4, 1, 0);
	for (int r = 0; r < 2; r++) {
		check_near("softmax", y + 4 * r, want, 4, 1e-6f);
		float s = 0;
		for (int i = 0; i < 4; i++)
			s += y[4 * r + i];
		assert_true(fabsf(s - 1) < 1e-6f);
	}
	rt_softmax_ref(x, y, 2, 4, 1, 1);
	for (int i = 0; i < 8; i++)
		assert_true(fabsf(y[i] - logf(want[i % 4])) < 1e-5f);
	/* Softmax over the middle dim of [1,2,3] (inner = 3): pairs (x[j], x[3+j]). */
	const float m[6] = {0, 1, 2, 0, 3, 2};
	rt_softmax_ref(m, y, 1, 2, 3, 0);
	const float mw[6] = {0.5f, 0.11920292f, 0.5f, 0.5f, 0.88079708f, 0.5f};
	check_near("softmax inner", y, mw, 6, 1e-6f);
	rt_softmax_ref(m, y, 1, 2, 3, 1);
	assert_true(fabsf(y[0] - logf(0.5f)) < 1e-6f && fabsf(y[4] - logf(0.88079708f)) < 1e-6f);
}

/* ---- pooling, batchnorm --------------------------------------------------------------- */

static RtPool pool2d(int64_t h, int64_t w, int64_t k, int64_t s, int64_t d, int64_t pb,
                     int64_t pe, int ceil)
{
	RtPool p = {.nsp = 2, .n = 1, .c = 1};
	for (int i = 0; i < 2; i++) {
		p.in[i] = i ? w : h;
		p.k[i] = k;
		p.stride[i] = s;
		p.dil[i] = d;
		p.pad_begin[i] = pb;
		p.pad_end[i] = pe;
		int64_t num = p.in[i] + pb + pe - d * (k - 1) - 1;
		p.out[i] = (ceil ? (num + s - 1) / s : num / s) + 1;
	}
	return p;
}

/* A window of 2^30 taps with SAME padding over a 4x4 input: every output sees the whole
 * input (max 16, mean 8.5), computed at once, not tap by tap over the padding (which took
 * minutes; issue 12). */
static void test_pool_huge_window(void **state)
{
	(void)state;
	float x[16], y[16];
	fill_iota(x, 16, 1);
	int64_t k = (int64_t)1 << 30, pb = (k - 1) / 2;
	RtPool p = pool2d(4, 4, k, 1, 1, pb, k - 1 - pb, 0);
	assert_int_equal(p.out[0], 4);
	rt_maxpool_ref(&p, x, y, NULL);
	for (int i = 0; i < 16; i++)
		assert_true(y[i] == 16.0f);
	rt_avgpool_ref(&p, x, y);
	for (int i = 0; i < 16; i++)
		assert_true(y[i] == 8.5f);
}

static void test_maxpool(void **state)
{
	(void)state;
	float x[25], y[25];
	int64_t idx[25];
	fill_iota(x, 25, 1);
	/* ONNX maxpool_with_argmax_2d_precomputed_pads: 5x5, kernel 5, pads 2. */
	RtPool p = pool2d(5, 5, 5, 1, 1, 2, 2, 0);
	rt_maxpool_ref(&p, x, y, idx);
	const float wy[25] = {13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25,
	                      23, 24, 25, 25, 25, 23, 24, 25, 25, 25};
	check_near("maxpool pads", y, wy, 25, 0);
	for (int i = 0; i < 25; i++)
		assert_int_equal(idx[i], (int64_t)wy[i] - 1);
	/* ONNX maxpool_with_argmax_2d_precomputed_strides: kernel 2, stride 2, column major. */
	p = pool2d(5, 5, 2, 2, 1, 0, 0, 0);
	p.storage_order = 1;
	rt_maxpool_ref(&p, x, y, idx);
	const float wy2[4] = {7, 9, 17, 19};
	const int64_t wi2[4] = {6, 16, 8, 18};
	check_near("maxpool strides", y, wy2, 4, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(idx[i], wi2[i]);
	/* ONNX maxpool_2d_dilations (4x4, kernel 2, dilation 2) and maxpool_2d_ceil
	 * (4x4, kernel 3, stride 2, ceil_mode) both give [[11,12],[15,16]]. */
	const float w1116[4] = {11, 12, 15, 16};
	p = pool2d(4, 4, 2, 1, 2, 0, 0, 0);
	rt_maxpool_ref(&p, x, y, NULL);
	check_near("maxpool dilations", y, w1116, 4, 0);
	p = pool2d(4, 4, 3, 2, 1, 0, 0, 1);
	assert_int_equal(p.out[0], 2);
	rt_maxpool_ref(&p, x, y, idx);
	check_near("maxpool ceil", y, w1116, 4, 0);
	/* Two images x two channels: indices count the (n, c) planes. */
	float x4[16];
	for (int i = 0; i < 16; i++)
		x4[i] = (float)((i * 7) % 16) - 8; /* 2x2 planes with a unique max each */
	RtPool q = {.nsp = 2, .n = 2, .c = 2, .in = {2, 2}, .out = {1, 1}, .k = {2, 2},
	            .stride = {1, 1}, .dil = {1, 1}, .storage_order = 1};
	rt_maxpool_ref(&q, x4, y, idx);
	for (int pl = 0; pl < 4; pl++) {
		int best = 0;
		for (int i = 1; i < 4; i++)
			if (x4[pl * 4 + i] > x4[pl * 4 + best])
				best = i;
		assert_true(y[pl] == x4[pl * 4 + best]);
		/* Column major inside the plane: (h, w) -> h + 2w. */
		assert_int_equal(idx[pl], pl * 4 + (best / 2) + 2 * (best % 2));
	}
	/* Non-square plane, column major: (h, w) -> h + w*H with H = 3. */
	float x35[15];
	fill_iota(x35, 15, 0);
	p = pool2d(3, 5, 3, 2, 1, 0, 0, 0);
	assert_int_equal(p.out[1], 2);
	p.storage_order = 1;
	rt_maxpool_ref(&p, x35, y, idx);
	assert_true(y[0] == 12 && y[1] == 14);
	assert_int_equal(idx[0], 2 + 2 * 3);
	assert_int_equal(idx[1], 2 + 4 * 3);
	/* 1-D and 3-D. */
	const float x1[5] = {3, -1, 4, 1, -5};
	RtPool r1 = {.nsp = 1, .n = 1, .c = 1, .in = {5}, .out = {3}, .k = {2},
	             .stride = {2}, .dil = {1}, .pad_begin = {1}, .pad_end = {0}};
	rt_maxpool_ref(&r1, x1, y, idx);
	const float w1d[3] = {3, 4, 1};
	check_near("maxpool 1d", y, w1d, 3, 0);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], 3);
	float x3[8];
	fill_iota(x3, 8, 0);
	x3[6] = 100; /* (d, h, w) = (1, 1, 0) */
	RtPool r3 = {.nsp = 3, .n = 1, .c = 1, .in = {2, 2, 2}, .out = {1, 1, 1},
	             .k = {2, 2, 2}, .stride = {1, 1, 1}, .dil = {1, 1, 1}};
	rt_maxpool_ref(&r3, x3, y, idx);
	assert_true(y[0] == 100);
	assert_int_equal(idx[0], 6);
	r3.storage_order = 1;
	rt_maxpool_ref(&r3, x3, y, idx);
	assert_int_equal(idx[0], 1 + 1 * 2 + 0 * 4); /* d + h*D + w*D*H */
}

static void test_avgpool(void **state)
{
	(void)state;
	float x[16], y[16];
	fill_iota(x, 16, 1);
	/* 3x3 input (1..9), kernel 2, pads 1: the corner window holds one real value. */
	RtPool p = pool2d(3, 3, 2, 1, 1, 1, 1, 0);
	assert_int_equal(p.out[0], 4);
	rt_avgpool_ref(&p, x, y);
	assert_true(y[0] == 1 && y[3] == 3 && y[15] == 9);
	assert_true(y[1] == 1.5f);  /* (1 + 2) / 2 */
	assert_true(y[5] == 3);     /* (1 + 2 + 4 + 5) / 4 */
	p.count_include_pad = 1;
	rt_avgpool_ref(&p, x, y);
	assert_true(y[0] == 0.25f && y[3] == 0.75f && y[15] == 2.25f);
	assert_true(y[1] == 0.75f && y[5] == 3);

	/* ONNX averagepool_2d_ceil: 4x4, kernel 3, stride 2, ceil_mode. Without pads the
	 * padded extent is the input, so count_include_pad changes nothing. */
	p = pool2d(4, 4, 3, 2, 1, 0, 0, 1);
	const float wceil[4] = {6, 7.5f, 12, 13.5f};
	for (int cip = 0; cip < 2; cip++) {
		p.count_include_pad = cip;
		rt_avgpool_ref(&p, x, y);
		check_near("avgpool ceil", y, wceil, 4, 0);
	}

	/* 1-D [1,2,3,4], kernel 3, stride 2, pads 1/1, ceil_mode: out 3; the last window
	 * covers {4, pad, beyond the padded extent}. */
	RtPool q = {.nsp = 1, .n = 1, .c = 1, .in = {4}, .out = {3}, .k = {3}, .stride = {2},
	            .dil = {1}, .pad_begin = {1}, .pad_end = {1}};
	rt_avgpool_ref(&q, x, y);
	const float wq0[3] = {1.5f, 3, 4};
	check_near("avgpool 1d ceil cip0", y, wq0, 3, 0);
	q.count_include_pad = 1;
	rt_avgpool_ref(&q, x, y);
	const float wq1[3] = {1, 3, 2};
	check_near("avgpool 1d ceil cip1", y, wq1, 3, 0);

	/* Dilation 2, kernel 2 on [1..5]: windows {1,3}, {2,4}, {3,5}. */
	RtPool d = {.nsp = 1, .n = 1, .c = 1, .in = {5}, .out = {3}, .k = {2}, .stride = {1},
	            .dil = {2}};
	rt_avgpool_ref(&d, x, y);
	const float wd[3] = {2, 3, 4};
	check_near("avgpool dilated", y, wd, 3, 0);

	/* 3-D 2x2x2 kernel over 2x2x2 iota (1..8) with 2 channels. */
	float x3[16];
	fill_iota(x3, 16, 1);
	RtPool r3 = {.nsp = 3, .n = 1, .c = 2, .in = {2, 2, 2}, .out = {1, 1, 1},
	             .k = {2, 2, 2}, .stride = {1, 1, 1}, .dil = {1, 1, 1}};
	rt_avgpool_ref(&r3, x3, y);
	assert_true(y[0] == 4.5f && y[1] == 12.5f);
}

static void test_global_pool_and_batchnorm(void **state)
{
	(void)state;
	const float x[8] = {1, 5, -2, 4, -1, -3, -7, -2}; /* [2 images, 1 channel]... */
	float y[4];
	rt_global_pool_ref(0, 2, 1, 4, x, y);
	assert_true(y[0] == 2 && y[1] == -3.25f);
	rt_global_pool_ref(1, 1, 2, 4, x, y);
	assert_true(y[0] == 5 && y[1] == -1);

	/* x [1,2,1,2]; sd = 2 and 1 (var + eps = 4, 1). */
	const float bx[4] = {1, 3, 2, 4};
	const float scale[2] = {2, 1}, bias[2] = {0.5f, -1}, mean[2] = {2, 3};
	const float var[2] = {3.75f, 0.75f};
	float by[4];
	rt_batchnorm_ref(1, 2, 2, bx, scale, bias, mean, var, 0.25f, by);
	const float want[4] = {-0.5f, 1.5f, -2, 0};
	check_near("batchnorm", by, want, 4, 1e-6f);
}

/* ---- data movement -------------------------------------------------------------------- */

static void test_transpose(void **state)
{
	(void)state;
	float x[24], y[24];
	fill_iota(x, 24, 0);
	Shape sx = SH(2, 3, 4);
	const int64_t perm[3] = {2, 0, 1};
	rt_transpose_ref(sizeof(float), &sx, perm, x, y);
	/* y [4,2,3]: y[i,j,k] = x[j,k,i]. */
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			for (int k = 0; k < 3; k++)
				assert_true(y[(i * 2 + j) * 3 + k] == x[(j * 3 + k) * 4 + i]);
	const int64_t l[6] = {1, 2, 3, 4, 5, 6};
	int64_t ly[6];
	Shape s23 = SH(2, 3);
	const int64_t p10[2] = {1, 0};
	rt_transpose_ref(sizeof(int64_t), &s23, p10, l, ly);
	const int64_t lw[6] = {1, 4, 2, 5, 3, 6};
	for (int i = 0; i < 6; i++)
		assert_true(ly[i] == lw[i]);
	/* Identity permutation of rank 1 copies. */
	Shape s6 = SH(6);
	const int64_t p0[1] = {0};
	rt_transpose_ref(sizeof(int64_t), &s6, p0, l, ly);
	assert_memory_equal(ly, l, sizeof l);
}

static void test_concat(void **state)
{
	(void)state;
	const float a[2] = {1, 2}, b[4] = {3, 4, 5, 6}, e[1] = {0};
	float y[6];
	Shape sa = SH(2, 1), sb = SH(2, 2), se = SH(2, 0);
	const Shape *sh[3] = {&sa, &se, &sb};
	const void *in[3] = {a, e, b};
	rt_concat_ref(sizeof(float), 3, sh, in, 1, y);
	const float w1[6] = {1, 3, 4, 2, 5, 6};
	check_near("concat axis 1", y, w1, 6, 0);
	Shape sc = SH(1, 2), sd = SH(2, 2);
	const Shape *sh0[2] = {&sc, &sd};
	const void *in0[2] = {a, b};
	rt_concat_ref(sizeof(float), 2, sh0, in0, 0, y);
	const float w0[6] = {1, 2, 3, 4, 5, 6};
	check_near("concat axis 0", y, w0, 6, 0);
}

static void pad1d(RtPadMode mode, const float *x, int64_t n, int64_t pb, int64_t pe,
                  const float *want)
{
	float y[32], v = -9;
	Shape sx = SH(n), sy = SH(n + pb + pe);
	const int64_t pads[2] = {pb, pe};
	rt_pad_ref(sizeof(float), mode, &sx, x, pads, &v, &sy, y);
	check_near("pad1d", y, want, sy.d[0], 0);
}

static void test_pad(void **state)
{
	(void)state;
	const float x[4] = {1, 2, 3, 4};
	const float refl[7] = {3, 2, 1, 2, 3, 2, 1};
	pad1d(RT_PAD_REFLECT, x, 3, 2, 2, refl);
	const float edge[7] = {1, 1, 1, 2, 3, 3, 3};
	pad1d(RT_PAD_EDGE, x, 3, 2, 2, edge);
	const float cst[6] = {-9, 1, 2, 3, -9, -9};
	pad1d(RT_PAD_CONSTANT, x, 3, 1, 2, cst);
	/* Reflect further than the input (numpy's periodic reflection). */
	const float far[7] = {1, 2, 3, 2, 1, 2, 3};
	pad1d(RT_PAD_REFLECT, x, 3, 4, 0, far);
	/* Negative pads crop; reflect/edge then work on the kept range. */
	const float crop[5] = {2, 3, 4, 3, 2};
	pad1d(RT_PAD_REFLECT, x, 4, -1, 2, crop);
	const float mid[2] = {2, 3};
	pad1d(RT_PAD_CONSTANT, x, 4, -1, -1, mid);
	pad1d(RT_PAD_EDGE, x, 4, -1, -1, mid);
	const float crope[3] = {1, 1, 2};
	pad1d(RT_PAD_EDGE, x, 4, 1, -2, crope);
	const float cropc[4] = {3, 4, -9, -9};
	pad1d(RT_PAD_CONSTANT, x, 4, -2, 2, cropc);

	/* ONNX reflect_pad / edge_pad style on [3,2] with pads w begin 2. */
	const float m[6] = {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f};
	float y[12];
	Shape sx = SH(3, 2), sy = SH(3, 4);
	const int64_t pads[4] = {0, 2, 0, 0};
	rt_pad_ref(sizeof(float), RT_PAD_REFLECT, &sx, m, pads, NULL, &sy, y);
	const float wr[12] = {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f,
	                      4.5f, 5.7f, 4.5f, 5.7f};
	check_near("pad reflect 2d", y, wr, 12, 0);
	rt_pad_ref(sizeof(float), RT_PAD_EDGE, &sx, m, pads, NULL, &sy, y);
	const float we[12] = {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f,
	                      4.5f, 4.5f, 4.5f, 5.7f};
	check_near("pad edge 2d", y, we, 12, 0);
	/* Constant on both axes, int64 elements. */
	const int64_t l[2] = {7, 8}, lv = 5;
	int64_t ly[12];
	Shape sl = SH(1, 2), sly = SH(3, 4);
	const int64_t lp[4] = {1, 1, 1, 1};
	rt_pad_ref(sizeof(int64_t), RT_PAD_CONSTANT, &sl, l, lp, &lv, &sly, ly);
	const int64_t lw[12] = {5, 5, 5, 5, 5, 7, 8, 5, 5, 5, 5, 5};
	assert_memory_equal(ly, lw, sizeof lw);
}

static void test_gather(void **state)
{
	(void)state;
	const float x[6] = {1, 2, 3, 4, 5, 6}; /* [3,2] */
	float y[8];
	Shape sx = SH(3, 2), si = SH(2, 2);
	const int64_t idx[4] = {0, 1, 1, 2};
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 0, &si, idx, y), 0);
	const float w0[8] = {1, 2, 3, 4, 3, 4, 5, 6};
	check_near("gather axis 0", y, w0, 8, 0);
	const int64_t neg[2] = {-1, -3};
	Shape s2 = SH(2);
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 0, &s2, neg, y), 0);
	const float wn[4] = {5, 6, 1, 2};
	check_near("gather negative", y, wn, 4, 0);
	const int64_t ax1[2] = {1, -2};
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 1, &s2, ax1, y), 0);
	const float w1[6] = {2, 1, 4, 3, 6, 5};
	check_near("gather axis 1", y, w1, 6, 0);
	/* Scalar index removes the axis. */
	const int64_t one[1] = {1};
	Shape s0 = SH0;
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 1, &s0, one, y), 0);
	assert_true(y[0] == 2 && y[1] == 4 && y[2] == 6);
	const int64_t bad[2] = {0, 3}, bad2[2] = {-4, 0};
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 0, &s2, bad, y), -1);
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 0, &s2, bad2, y), -1);
	assert_int_equal(rt_gather_ref(sizeof(float), &sx, x, 1, &s2, neg, y), -1);
}

/* rt_unary_params: each RT_UNARY_OPS row's op, its ONNX defaults, attributes over them,
 * Clip's bounds from its operands, and -1 for ops outside the table. */
static void test_unary_params(void **state)
{
	(void)state;
	Graph *g = ir_graph_new("u");
	Shape s = {1, {4}};
	int x = ir_value_add(g, "x", DT_FLOAT, &s);
	const Op ops[] = {OP_RELU, OP_LEAKYRELU, OP_SIGMOID, OP_TANH, OP_HARDSIGMOID, OP_CLIP,
	                  OP_SOFTMAX};
	const int want[] = {RT_RELU, RT_LEAKYRELU, RT_SIGMOID, RT_TANH, RT_HARDSIGMOID, RT_CLIP, -1};
	int nodes[7];
	for (int i = 0; i < 7; i++) {
		int y = ir_value_add(g, NULL, DT_FLOAT, &s);
		nodes[i] = ir_node_add(g, ops[i], NULL, &x, 1, &y, 1);
	}
	float a, b;
	for (int i = 0; i < 7; i++)
		assert_int_equal(rt_unary_params(&g->nodes[nodes[i]], NULL, NULL, &a, &b), want[i]);
	rt_unary_params(&g->nodes[nodes[1]], NULL, NULL, &a, &b);
	assert_true(a == 0.01f);
	rt_unary_params(&g->nodes[nodes[4]], NULL, NULL, &a, &b);
	assert_true(a == 0.2f && b == 0.5f);
	rt_unary_params(&g->nodes[nodes[5]], NULL, NULL, &a, &b);
	assert_true(isinf(a) && a < 0 && isinf(b) && b > 0);
	float lo = -1.5f, hi = 6.0f;
	rt_unary_params(&g->nodes[nodes[5]], &lo, &hi, &a, &b);
	assert_true(a == -1.5f && b == 6.0f);
	ir_attr_set_f(g, nodes[1], "alpha", 0.3f);
	ir_attr_set_f(g, nodes[4], "beta", 0.25f);
	rt_unary_params(&g->nodes[nodes[1]], NULL, NULL, &a, &b);
	assert_true(a == 0.3f);
	rt_unary_params(&g->nodes[nodes[4]], NULL, NULL, &a, &b);
	assert_true(a == 0.2f && b == 0.25f);
	ir_graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_onnx_examples),
		cmocka_unit_test(test_conv_grouped_dilated_1d),
		cmocka_unit_test(test_conv_3d),
		cmocka_unit_test(test_conv_depthwise_pointwise),
		cmocka_unit_test(test_conv_fast_vs_ref),
		cmocka_unit_test(test_conv_fast_chunked),
		cmocka_unit_test(test_gemm_hand),
		cmocka_unit_test(test_gemm_fast_vs_ref),
		cmocka_unit_test(test_matmul_hand),
		cmocka_unit_test(test_matmul_fast_vs_ref),
		cmocka_unit_test(test_binary_broadcast_f32),
		cmocka_unit_test(test_binary_int_and_double),
		cmocka_unit_test(test_prelu),
		cmocka_unit_test(test_binary_broadcast_sweep),
		cmocka_unit_test(test_unary),
		cmocka_unit_test(test_softmax),
		cmocka_unit_test(test_maxpool),
		cmocka_unit_test(test_avgpool),
		cmocka_unit_test(test_global_pool_and_batchnorm),
		cmocka_unit_test(test_transpose),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_pad),
		cmocka_unit_test(test_gather),
		cmocka_unit_test(test_unary_params),
		cmocka_unit_test(test_pool_huge_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
