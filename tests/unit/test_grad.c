/* tests/unit/test_grad.c: the training kernels of runtime/grad.h.
 *
 * Every backward kernel is checked against central finite differences of
 * L = sum(r * forward(inputs)) for a fixed random projection r (so dy = r), with the
 * forward kernels of rt.h; the BLAS versions are also checked against the reference ones
 * on seeded random shape sweeps (tolerance 1e-4 of the sum of |terms|). Linear ops
 * (Conv, Gemm, MatMul, pools, reductions) have no truncation error, so they use a large
 * step and a tight tolerance; the smooth nonlinear ones a small step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/fast.h"
#include "runtime/grad.h"

/* ---- helpers -------------------------------------------------------------------------- */

#include "testutil.h"

static float *alloc_f(int64_t n)
{
	return malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
}

static float *rand_buf(Rng *r, int64_t n)
{
	float *p = alloc_f(n);
	for (int64_t i = 0; i < n; i++)
		p[i] = rng_float(r);
	return p;
}

/* NaN-filled: a kernel must overwrite every element it is responsible for. */
static float *nan_buf(int64_t n)
{
	float *p = alloc_f(n);
	for (int64_t i = 0; i < n; i++)
		p[i] = NAN;
	return p;
}

static float *abs_copy(const float *x, int64_t n)
{
	float *p = alloc_f(n);
	for (int64_t i = 0; i < n; i++)
		p[i] = fabsf(x[i]);
	return p;
}

/* n distinct values spaced by `gap`, in a random order (no ties, no near-ties). */
static float *distinct_buf(Rng *r, int64_t n, float gap)
{
	float *p = alloc_f(n);
	for (int64_t i = 0; i < n; i++)
		p[i] = (float)(i - n / 2) * gap;
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = rng_int(r, 0, i);
		float t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	return p;
}

/* Fails unless |fast[i] - ref[i]| <= 1e-4 * bound[i] + 1e-6, bound = sum of |terms|
 * (the reference kernel run on absolute values). */
static void check_bound(const char *what, int iter, const float *fast, const float *ref,
                        const float *bound, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (!(fabsf(fast[i] - ref[i]) <= 1e-4f * bound[i] + 1e-6f))
			fail_msg("%s (case %d) [%lld]: fast %.9g, ref %.9g, sum|terms| %.9g", what, iter,
			         (long long)i, (double)fast[i], (double)ref[i], (double)bound[i]);
}

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

/* A finite-difference probe: fwd runs the forward op on the current operands into y
 * (ny floats), and the loss is sum(r * y) in double; or, for the loss kernels, `loss`
 * returns the scalar directly. Operands live in in[] and are perturbed in place. */
typedef struct Probe Probe;
struct Probe {
	void (*fwd)(const Probe *pr, float *y);
	double (*loss)(const Probe *pr);
	const void *p;          /* the op's parameter struct */
	float *in[4];           /* operands */
	const Shape *sh[4];     /* operand shapes, where the op takes shapes */
	int64_t n, c, s;        /* sizes for the ops that take plain counts */
	float f[2];             /* scalar parameters (alpha, beta, eps, T) */
	int op;
	const float *r;         /* projection, ny floats */
	int64_t ny;
	float *y;               /* scratch */
};

static double probe_loss(const Probe *pr)
{
	if (pr->loss)
		return pr->loss(pr);
	pr->fwd(pr, pr->y);
	double l = 0;
	for (int64_t i = 0; i < pr->ny; i++)
		l += (double)pr->r[i] * pr->y[i];
	return l;
}

/* Central differences of the probe's loss over every element of param, with step h
 * (the step actually taken, after rounding param +- h to float, is the divisor).
 * Returns a malloc'd array. */
static double *fd_grad(const Probe *pr, float *param, int64_t n, float h)
{
	double *g = malloc((size_t)(n > 0 ? n : 1) * sizeof *g);
	for (int64_t i = 0; i < n; i++) {
		float save = param[i];
		float up = save + h, dn = save - h;
		param[i] = up;
		double lp = probe_loss(pr);
		param[i] = dn;
		double lm = probe_loss(pr);
		param[i] = save;
		g[i] = (lp - lm) / ((double)up - (double)dn);
	}
	return g;
}

/* Fails unless |grad[i] - fd[i]| <= tol * (1 + |fd[i]|) for every i, and unless some
 * fd[i] is clearly nonzero (so that the comparison tests something). */
static void check_fd(const char *what, const double *fd, const float *grad, int64_t n,
                     double tol)
{
	double big = 0;
	for (int64_t i = 0; i < n; i++) {
		if (!(fabs(grad[i] - fd[i]) <= tol * (1 + fabs(fd[i]))))
			fail_msg("%s[%lld]: analytic %.9g, finite difference %.9g", what, (long long)i,
			         (double)grad[i], fd[i]);
		big = fabs(fd[i]) > big ? fabs(fd[i]) : big;
	}
	if (!(big > 1e-3))
		fail_msg("%s: every finite difference is ~0 (largest %g): vacuous check", what, big);
}

/* FD of param against one or two analytic gradients (grad2 may be NULL). */
static void fd_against(const char *what, const Probe *pr, float *param, int64_t n, float h,
                       double tol, const float *grad, const float *grad2)
{
	double *fd = fd_grad(pr, param, n, h);
	check_fd(what, fd, grad, n, tol);
	if (grad2)
		check_fd(what, fd, grad2, n, tol);
	free(fd);
}

/* ---- Conv ----------------------------------------------------------------------------- */

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

/* Element counts of x, w, y. */
static void conv_sizes(const RtConv *p, int64_t *nx, int64_t *nw, int64_t *ny)
{
	*nx = p->n * p->c;
	*nw = p->m * (p->c / p->group);
	*ny = p->n * p->m;
	for (int i = 0; i < p->nsp; i++) {
		*nx *= p->in[i];
		*nw *= p->k[i];
		*ny *= p->out[i];
	}
}

static void conv_fwd(const Probe *pr, float *y)
{
	rt_conv_ref(pr->p, pr->in[0], pr->in[1], pr->in[2], y);
}

/* dx, dw, db of both kernels against finite differences (Conv is linear in each operand:
 * a large step, a tight tolerance). */
static void conv_fd_case(const RtConv *p, uint64_t seed)
{
	Rng rng = {seed};
	int64_t nx, nw, ny;
	conv_sizes(p, &nx, &nw, &ny);
	float *x = rand_buf(&rng, nx), *w = rand_buf(&rng, nw), *b = rand_buf(&rng, p->m);
	float *r = rand_buf(&rng, ny), *y = alloc_f(ny);
	float *dx[2] = {nan_buf(nx), nan_buf(nx)}, *dw[2] = {nan_buf(nw), nan_buf(nw)};
	float *db[2] = {nan_buf(p->m), nan_buf(p->m)};
	rt_conv_backward_ref(p, x, w, r, dx[0], dw[0], db[0]);
	rt_conv_backward_fast(p, x, w, r, dx[1], dw[1], db[1]);
	Probe pr = {.fwd = conv_fwd, .p = p, .in = {x, w, b}, .r = r, .ny = ny, .y = y};
	fd_against("conv dx", &pr, x, nx, 0.5f, 1e-5, dx[0], dx[1]);
	fd_against("conv dw", &pr, w, nw, 0.5f, 1e-5, dw[0], dw[1]);
	fd_against("conv db", &pr, b, p->m, 0.5f, 1e-5, db[0], db[1]);
	for (int i = 0; i < 2; i++)
		free(dx[i]), free(dw[i]), free(db[i]);
	free(x), free(w), free(b), free(r), free(y);
}

static void test_conv_backward_fd(void **state)
{
	(void)state;
	/* 2-D, 2 groups, stride (2,1), dilation (1,2), asymmetric pads */
	int64_t in2[2] = {5, 7}, k2[2] = {3, 2}, s2[2] = {2, 1}, d2[2] = {1, 2};
	int64_t pb2[2] = {1, 0}, pe2[2] = {1, 2};
	RtConv p = conv_params(2, 2, 4, 6, 2, in2, k2, s2, d2, pb2, pe2);
	conv_fd_case(&p, 0x9a0001);
	/* 1-D depthwise, stride 2 (some inputs under no tap), dilation 2 */
	int64_t in1[1] = {10}, k1[1] = {3}, s1[1] = {3}, d1[1] = {2}, pb1[1] = {2}, pe1[1] = {1};
	p = conv_params(1, 2, 3, 3, 3, in1, k1, s1, d1, pb1, pe1);
	conv_fd_case(&p, 0x9a0002);
	/* 3-D, one group */
	int64_t in3[3] = {3, 4, 3}, k3[3] = {2, 2, 2}, s3[3] = {1, 2, 1}, d3[3] = {1, 1, 1};
	int64_t pb3[3] = {1, 0, 1}, pe3[3] = {0, 1, 0};
	p = conv_params(3, 2, 2, 3, 1, in3, k3, s3, d3, pb3, pe3);
	conv_fd_case(&p, 0x9a0003);
	/* 2-D pointwise, one image and two */
	int64_t in4[2] = {3, 5}, k4[2] = {1, 1}, one[2] = {1, 1}, z[2] = {0, 0};
	p = conv_params(2, 1, 3, 4, 1, in4, k4, one, one, z, z);
	conv_fd_case(&p, 0x9a0004);
	p = conv_params(2, 2, 4, 2, 2, in4, k4, one, one, z, z);
	conv_fd_case(&p, 0x9a0005);
}

/* Runs ref (all outputs) and fast (a random subset, with the operands it does not need
 * passed as NULL) on one case and checks fast against ref within 1e-4 sum|terms|. */
static void conv_compare(const RtConv *p, Rng *rng, int it, int mask)
{
	int64_t nx, nw, ny;
	conv_sizes(p, &nx, &nw, &ny);
	float *x = rand_buf(rng, nx), *w = rand_buf(rng, nw), *dy = rand_buf(rng, ny);
	float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ady = abs_copy(dy, ny);
	float *rx = nan_buf(nx), *rw = nan_buf(nw), *rb = nan_buf(p->m);
	float *bx = nan_buf(nx), *bw = nan_buf(nw), *bb = nan_buf(p->m);
	float *fx = nan_buf(nx), *fw = nan_buf(nw), *fb = nan_buf(p->m);
	int wx = mask & 1, ww = mask & 2, wb = mask & 4;
	rt_conv_backward_ref(p, x, w, dy, rx, rw, rb);
	rt_conv_backward_ref(p, ax, aw, ady, bx, bw, bb);
	rt_conv_backward_fast(p, ww ? x : NULL, wx ? w : NULL, dy, wx ? fx : NULL, ww ? fw : NULL,
	                      wb ? fb : NULL);
	if (wx)
		check_bound("conv dx", it, fx, rx, bx, nx);
	if (ww)
		check_bound("conv dw", it, fw, rw, bw, nw);
	if (wb)
		check_bound("conv db", it, fb, rb, bb, p->m);
	/* outputs not asked for are not touched */
	if (!wx && nx > 0)
		assert_true(isnan(fx[0]));
	if (!ww && nw > 0)
		assert_true(isnan(fw[0]));
	free(x), free(w), free(dy), free(ax), free(aw), free(ady);
	free(rx), free(rw), free(rb), free(bx), free(bw), free(bb), free(fx), free(fw), free(fb);
}

/* Random configurations: 1-3 spatial dims, odd sizes, strides 1-3, dilations 1-2,
 * asymmetric pads, groups 1/2/3/depthwise, pointwise, batch 1-3; every output subset. */
static void test_conv_backward_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed01};
	for (int it = 0; it < 200; it++) {
		int nsp = 1 + it % 3;
		int64_t n = rng_int(&rng, 1, 3);
		int64_t group, c, m;
		switch (rng_int(&rng, 0, 3)) {
		case 0: group = 1; break;
		case 1: group = 2; break;
		case 2: group = 3; break;
		default: group = rng_int(&rng, 1, 6); break;
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
		conv_compare(&p, &rng, it, it % 8 ? it % 8 : 7);
	}
}

/* Batches larger than one column chunk of the fast path (2^18/kdim columns, at least
 * 1024): chunks span images (dY gathered) or lie inside one at an offset, and dW
 * accumulates over chunks; im2col/col2im run on two threads. */
static void test_conv_backward_fast_chunked(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed02};
	rt_set_threads(2);
	/* kdim = 16*9 = 144: chunks of 1820 columns over 2 images of 2500 positions */
	int64_t in[2] = {50, 50}, k[2] = {3, 3}, s[2] = {1, 1}, d[2] = {1, 1}, p1[2] = {1, 1};
	RtConv p = conv_params(2, 2, 32, 4, 2, in, k, s, d, p1, p1);
	conv_compare(&p, &rng, 0, 7);
	/* pointwise, 256 output channels: chunks of 1024 columns over 1600 positions, the
	 * second one read in place at an offset */
	int64_t in2[2] = {40, 40}, k1[2] = {1, 1}, p0[2] = {0, 0};
	p = conv_params(2, 1, 2, 256, 1, in2, k1, s, d, p0, p0);
	conv_compare(&p, &rng, 1, 7);
	p = conv_params(2, 1, 2, 256, 1, in2, k1, s, d, p0, p0);
	conv_compare(&p, &rng, 2, 3);
	rt_set_threads(0);
}

/* The fast kernels of runtime/igemm_bwd.c under every supported instruction set, with 1
 * and 2 threads: each against the reference (1e-4 sum|terms|), and the two thread counts
 * bit for bit (the result must not depend on the thread count). */
static void conv_compare_isas(const RtConv *p, Rng *rng, int it)
{
	int64_t nx, nw, ny;
	conv_sizes(p, &nx, &nw, &ny);
	float *x = rand_buf(rng, nx), *w = rand_buf(rng, nw), *dy = rand_buf(rng, ny);
	float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ady = abs_copy(dy, ny);
	float *rx = nan_buf(nx), *rw = nan_buf(nw), *rb = nan_buf(p->m);
	float *bx = nan_buf(nx), *bw = nan_buf(nw), *bb = nan_buf(p->m);
	rt_conv_backward_ref(p, x, w, dy, rx, rw, rb);
	rt_conv_backward_ref(p, ax, aw, ady, bx, bw, bb);
	RtIsa isa0 = rt_isa_get();
	for (int i = 0; i < RT_ISA_COUNT; i++) {
		if (!rt_isa_supported((RtIsa)i))
			continue;
		rt_isa_set((RtIsa)i);
		float *fx[2], *fw[2], *fb[2];
		for (int th = 0; th < 2; th++) {
			fx[th] = nan_buf(nx), fw[th] = nan_buf(nw), fb[th] = nan_buf(p->m);
			rt_set_threads(th + 1);
			rt_conv_backward_fast(p, x, w, dy, fx[th], fw[th], fb[th]);
			check_bound(rt_isa_name((RtIsa)i), it, fx[th], rx, bx, nx);
			check_bound(rt_isa_name((RtIsa)i), it, fw[th], rw, bw, nw);
			check_bound(rt_isa_name((RtIsa)i), it, fb[th], rb, bb, p->m);
		}
		if (memcmp(fx[0], fx[1], sizeof(float) * (size_t)nx) ||
		    memcmp(fw[0], fw[1], sizeof(float) * (size_t)nw) ||
		    memcmp(fb[0], fb[1], sizeof(float) * (size_t)p->m))
			fail_msg("conv backward [%s] (case %d): 1 and 2 threads differ",
			         rt_isa_name((RtIsa)i), it);
		for (int th = 0; th < 2; th++)
			free(fx[th]), free(fw[th]), free(fb[th]);
	}
	rt_isa_set(isa0);
	rt_set_threads(0);
	free(x), free(w), free(dy), free(ax), free(aw), free(ady);
	free(rx), free(rw), free(rb), free(bx), free(bw), free(bb);
}

/* Random configurations as above, every instruction set: strides 1-3 (dX on dY spread out
 * with zeros), dilations 1-2, asymmetric pads up to dil*(k-1)+1 (beyond dil*(k-1), dX
 * takes the BLAS path), groups, batches 1-11 (dW's parts of the batch: up to 8, uneven). */
static void test_conv_backward_igemm_sweep(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed03};
	for (int it = 0; it < 150; it++) {
		int nsp = 1 + it % 3;
		int64_t n = it % 5 == 4 ? rng_int(&rng, 8, 11) : rng_int(&rng, 1, 3);
		int64_t group = rng_int(&rng, 0, 2) ? 1 : rng_int(&rng, 2, 4);
		int64_t c = group * rng_int(&rng, 1, 5), m = group * rng_int(&rng, 1, 12);
		int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
		int64_t kmax = nsp == 3 ? 2 : nsp == 2 ? 3 : 5;
		for (int i = 0; i < nsp; i++) {
			k[i] = rng_int(&rng, 1, kmax);
			s[i] = rng_int(&rng, 1, 3);
			d[i] = rng_int(&rng, 1, 2);
			int64_t reach = d[i] * (k[i] - 1);
			pb[i] = rng_int(&rng, 0, reach + (it % 7 == 6));
			pe[i] = rng_int(&rng, 0, reach + 1);
			int64_t eff = reach + 1 - pb[i] - pe[i];
			int64_t lo = eff > 1 ? eff : 1;
			in[i] = lo + rng_int(&rng, 0, nsp == 3 ? 4 : nsp == 2 ? 7 : 20);
		}
		RtConv p = conv_params(nsp, n, c, m, group, in, k, s, d, pb, pe);
		conv_compare_isas(&p, &rng, it);
	}
}

/* Every remainder of the dW kernels' register blocks (rows = channels x taps: 4, 6 or 8;
 * columns = output channels: 8, 16 or 32) and of the forward kernel's that dX runs on,
 * with one and two groups and with 1x1 and 3x3 kernels. */
static void test_conv_backward_igemm_remainders(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed04};
	int64_t in[2] = {5, 4}, k3[2] = {3, 3}, k1[2] = {1, 1}, one[2] = {1, 1}, p1[2] = {1, 1};
	int64_t p0[2] = {0, 0}, s2[2] = {2, 1};
	int it = 0;
	for (int64_t cg = 1; cg <= 17; cg++)
		for (int64_t grp = 1; grp <= 2; grp++) {
			RtConv p = conv_params(2, 2, cg * grp, 3 * grp, grp, in, k1, one, one, p0, p0);
			conv_compare_isas(&p, &rng, it++);
			p = conv_params(2, 2, cg * grp, 5 * grp, grp, in, k3, one, one, p1, p1);
			conv_compare_isas(&p, &rng, it++);
		}
	for (int64_t mg = 1; mg <= 66; mg++) {
		RtConv p = conv_params(2, 2, 3, mg, 1, in, k3, one, one, p1, p1);
		conv_compare_isas(&p, &rng, it++);
		if (mg % 3 == 0) {
			p = conv_params(2, 1, 4, 2 * mg, 2, in, k3, s2, one, p1, p0);
			conv_compare_isas(&p, &rng, it++);
		}
	}
}

/* The fixtures' layers at a small batch: big enough for the thread pool (2^20
 * multiply-accumulates), so 1 and 2 threads really differ in who computes what. */
static void test_conv_backward_igemm_layers(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed05};
	int64_t i28[2] = {28, 28}, i14[2] = {14, 14}, i7[2] = {7, 7}, k3[2] = {3, 3};
	int64_t k5[2] = {5, 5}, one[2] = {1, 1}, p1[2] = {1, 1}, p2[2] = {2, 2}, p0[2] = {0, 0};
	int64_t s2[2] = {2, 2};
	RtConv cases[] = {
		conv_params(2, 3, 1, 32, 1, i28, k3, one, one, p1, p1),   /* VGG-7-small conv1 */
		conv_params(2, 2, 32, 32, 1, i28, k3, one, one, p1, p1),  /* conv2 */
		conv_params(2, 9, 32, 64, 1, i14, k3, one, one, p1, p1),  /* conv3, 9 images */
		conv_params(2, 3, 128, 128, 1, i7, k3, one, one, p1, p1), /* conv6 */
		conv_params(2, 5, 1, 6, 1, i28, k5, one, one, p2, p2),    /* LeNet-5 conv1 */
		conv_params(2, 9, 6, 16, 1, i14, k5, one, one, p0, p0),   /* conv2 */
		conv_params(2, 4, 32, 48, 2, i14, k3, s2, one, p1, p1),   /* strided, grouped */
	};
	for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++)
		conv_compare_isas(&cases[i], &rng, i);
}

/* ---- Gemm ----------------------------------------------------------------------------- */

/* C's element count for a broadcast kind: 0 none, 1 scalar, 2 row [N], 3 column [M],
 * 4 full [M,N]; sets the strides. */
static int64_t gemm_ckind(RtGemm *p, int kind)
{
	switch (kind) {
	case 1: p->c_rs = 0, p->c_cs = 0; return 1;
	case 2: p->c_rs = 0, p->c_cs = 1; return p->n;
	case 3: p->c_rs = 1, p->c_cs = 0; return p->m;
	case 4: p->c_rs = p->n, p->c_cs = 1; return p->m * p->n;
	default: p->c_rs = p->c_cs = 0; return 0;
	}
}

static void gemm_fwd(const Probe *pr, float *y)
{
	rt_gemm_ref(pr->p, pr->in[0], pr->in[1], pr->in[2], y);
}

/* Every transA/transB and broadcast kind of C, alpha and beta not 1. */
static void test_gemm_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0x9a0010};
	for (int it = 0; it < 16; it++) {
		RtGemm p = {.m = 3, .n = 4, .k = 5, .trans_a = it & 1, .trans_b = (it >> 1) & 1,
		            .alpha = 0.7f, .beta = -1.3f};
		int64_t nc = gemm_ckind(&p, 1 + (it >> 2));
		int64_t na = p.m * p.k, nb = p.k * p.n, ny = p.m * p.n;
		float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nb), *c = rand_buf(&rng, nc);
		float *r = rand_buf(&rng, ny), *y = alloc_f(ny);
		float *da[2] = {nan_buf(na), nan_buf(na)}, *db[2] = {nan_buf(nb), nan_buf(nb)};
		float *dc[2] = {nan_buf(nc), nan_buf(nc)};
		rt_gemm_backward_ref(&p, a, b, r, da[0], db[0], dc[0]);
		rt_gemm_backward_fast(&p, a, b, r, da[1], db[1], dc[1]);
		Probe pr = {.fwd = gemm_fwd, .p = &p, .in = {a, b, c}, .r = r, .ny = ny, .y = y};
		fd_against("gemm da", &pr, a, na, 0.5f, 1e-5, da[0], da[1]);
		fd_against("gemm db", &pr, b, nb, 0.5f, 1e-5, db[0], db[1]);
		fd_against("gemm dc", &pr, c, nc, 0.5f, 1e-5, dc[0], dc[1]);
		for (int i = 0; i < 2; i++)
			free(da[i]), free(db[i]), free(dc[i]);
		free(a), free(b), free(c), free(r), free(y);
	}
}

static void test_gemm_backward_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed10};
	for (int it = 0; it < 200; it++) {
		RtGemm p = {.m = rng_int(&rng, 1, 37), .n = rng_int(&rng, 1, 37),
		            .k = rng_int(&rng, 1, 70), .trans_a = it & 1, .trans_b = (it >> 1) & 1,
		            .alpha = rng_float(&rng) * 2, .beta = rng_float(&rng) * 2};
		int64_t nc = gemm_ckind(&p, 1 + (it >> 2) % 4);
		int64_t na = p.m * p.k, nb = p.k * p.n, ny = p.m * p.n;
		float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nb), *dy = rand_buf(&rng, ny);
		float *aa = abs_copy(a, na), *ab = abs_copy(b, nb), *ady = abs_copy(dy, ny);
		float *ra = nan_buf(na), *rb = nan_buf(nb), *rc = nan_buf(nc);
		float *ba = nan_buf(na), *bb = nan_buf(nb), *bc = nan_buf(nc);
		float *fa = nan_buf(na), *fb = nan_buf(nb), *fc = nan_buf(nc);
		int mask = it % 7 + 1;
		rt_gemm_backward_ref(&p, a, b, dy, ra, rb, rc);
		RtGemm pa = p;
		pa.alpha = fabsf(p.alpha);
		pa.beta = fabsf(p.beta);
		rt_gemm_backward_ref(&pa, aa, ab, ady, ba, bb, bc);
		rt_gemm_backward_fast(&p, a, b, dy, mask & 1 ? fa : NULL, mask & 2 ? fb : NULL,
		                      mask & 4 ? fc : NULL);
		if (mask & 1)
			check_bound("gemm da", it, fa, ra, ba, na);
		else
			assert_true(isnan(fa[0]));
		if (mask & 2)
			check_bound("gemm db", it, fb, rb, bb, nb);
		if (mask & 4)
			check_bound("gemm dc", it, fc, rc, bc, nc);
		free(a), free(b), free(dy), free(aa), free(ab), free(ady);
		free(ra), free(rb), free(rc), free(ba), free(bb), free(bc), free(fa), free(fb), free(fc);
	}
	/* K = 0: Y = beta*C, so da and db are empty and dc is still beta * sum dY */
	RtGemm p = {.m = 2, .n = 3, .k = 0, .alpha = 1, .beta = 2};
	gemm_ckind(&p, 2);
	const float dy[6] = {1, 2, 3, 4, 5, 6};
	float dc[3] = {NAN, NAN, NAN};
	const float want[3] = {10, 14, 18};
	rt_gemm_backward_fast(&p, NULL, NULL, dy, NULL, NULL, dc);
	check_near("gemm k=0 dc fast", dc, want, 3, 1e-6f);
	rt_gemm_backward_ref(&p, NULL, NULL, dy, NULL, NULL, dc);
	check_near("gemm k=0 dc ref", dc, want, 3, 1e-6f);
}

/* ---- MatMul --------------------------------------------------------------------------- */

static void matmul_fwd(const Probe *pr, float *y)
{
	Shape sy = {.rank = 1, .d = {pr->ny}};
	rt_matmul_ref(pr->sh[0], pr->in[0], pr->sh[1], pr->in[1], &sy, y);
}

/* Output element count of a matmul (checked via the plan-independent formula). */
static int64_t matmul_ny(const Shape *sa, const Shape *sb)
{
	int64_t m = sa->rank == 1 ? 1 : sa->d[sa->rank - 2];
	int64_t n = sb->rank == 1 ? 1 : sb->d[sb->rank - 1];
	int nba = sa->rank > 2 ? sa->rank - 2 : 0, nbb = sb->rank > 2 ? sb->rank - 2 : 0;
	int nb = nba > nbb ? nba : nbb;
	int64_t v = m * n;
	for (int i = 0; i < nb; i++) {
		int ia = i - (nb - nba), ib = i - (nb - nbb);
		int64_t da = ia >= 0 ? sa->d[ia] : 1, db = ib >= 0 ? sb->d[ib] : 1;
		v *= da > db ? da : db;
	}
	return v;
}

static void matmul_fd_case(Shape sa, Shape sb, uint64_t seed)
{
	Rng rng = {seed};
	int64_t na = numel(&sa), nb = numel(&sb), ny = matmul_ny(&sa, &sb);
	float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nb);
	float *r = rand_buf(&rng, ny), *y = alloc_f(ny);
	float *da[2] = {nan_buf(na), nan_buf(na)}, *db[2] = {nan_buf(nb), nan_buf(nb)};
	rt_matmul_backward_ref(&sa, a, &sb, b, r, da[0], db[0]);
	rt_matmul_backward_fast(&sa, a, &sb, b, r, da[1], db[1]);
	Probe pr = {.fwd = matmul_fwd, .in = {a, b}, .sh = {&sa, &sb}, .r = r, .ny = ny, .y = y};
	fd_against("matmul da", &pr, a, na, 0.5f, 1e-5, da[0], da[1]);
	fd_against("matmul db", &pr, b, nb, 0.5f, 1e-5, db[0], db[1]);
	for (int i = 0; i < 2; i++)
		free(da[i]), free(db[i]);
	free(a), free(b), free(r), free(y);
}

static void test_matmul_backward_fd(void **state)
{
	(void)state;
	matmul_fd_case(SH(2, 3, 4), SH(4, 5), 0x9a0020);       /* the weight case */
	matmul_fd_case(SH(4), SH(4, 3), 0x9a0021);             /* 1-D A */
	matmul_fd_case(SH(3, 4), SH(4), 0x9a0022);             /* 1-D B */
	matmul_fd_case(SH(2, 1, 3, 4), SH(2, 4, 2), 0x9a0023); /* both broadcast */
	matmul_fd_case(SH(3, 4), SH(2, 4, 3), 0x9a0024);       /* shared A */
}

/* Weight case (2-D B), 1-D operands and broadcast batch dims on either side. */
static void test_matmul_backward_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x9a5eed20};
	for (int it = 0; it < 200; it++) {
		int64_t m = rng_int(&rng, 1, 9), k = rng_int(&rng, 1, 13), n = rng_int(&rng, 1, 9);
		Shape sa, sb;
		int kind = it % 4;
		if (kind == 0) {
			int which = (int)rng_int(&rng, 0, 2);
			sa = which == 2 ? SH(m, k) : SH(k);
			sb = which == 1 ? SH(k, n) : SH(k);
		} else {
			/* output batch dims; A keeps them (the weight case: kind 1, B 2-D) or each side
			 * drops leading ones or has 1s */
			int nbd = (int)rng_int(&rng, 1, 3);
			int64_t dims[3];
			for (int i = 0; i < nbd; i++)
				dims[i] = rng_int(&rng, 1, 3);
			int dropa = kind == 1 ? 0 : (int)rng_int(&rng, 0, nbd);
			int dropb = kind == 1 ? nbd : (int)rng_int(&rng, 0, nbd);
			sa.rank = nbd - dropa + 2;
			sb.rank = nbd - dropb + 2;
			for (int i = dropa; i < nbd; i++)
				sa.d[i - dropa] = kind == 3 && rng_int(&rng, 0, 1) ? 1 : dims[i];
			for (int i = dropb; i < nbd; i++)
				sb.d[i - dropb] = kind == 2 && rng_int(&rng, 0, 1) ? 1 : dims[i];
			sa.d[sa.rank - 2] = m, sa.d[sa.rank - 1] = k;
			sb.d[sb.rank - 2] = k, sb.d[sb.rank - 1] = n;
		}
		int64_t na = numel(&sa), nb = numel(&sb), ny = matmul_ny(&sa, &sb);
		float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nb), *dy = rand_buf(&rng, ny);
		float *aa = abs_copy(a, na), *ab = abs_copy(b, nb), *ady = abs_copy(dy, ny);
		float *ra = nan_buf(na), *rb = nan_buf(nb), *ba = nan_buf(na), *bb = nan_buf(nb);
		float *fa = nan_buf(na), *fb = nan_buf(nb);
		int mask = it % 3 + 1;
		rt_matmul_backward_ref(&sa, a, &sb, b, dy, ra, rb);
		rt_matmul_backward_ref(&sa, aa, &sb, ab, ady, ba, bb);
		rt_matmul_backward_fast(&sa, a, &sb, b, dy, mask & 1 ? fa : NULL, mask & 2 ? fb : NULL);
		if (mask & 1)
			check_bound("matmul da", it, fa, ra, ba, na);
		else
			assert_true(isnan(fa[0]));
		if (mask & 2)
			check_bound("matmul db", it, fb, rb, bb, nb);
		else
			assert_true(isnan(fb[0]));
		free(a), free(b), free(dy), free(aa), free(ab), free(ady);
		free(ra), free(rb), free(ba), free(bb), free(fa), free(fb);
	}
}

/* ---- Elementwise ---------------------------------------------------------------------- */

static void unary_fwd(const Probe *pr, float *y)
{
	rt_unary_ref((RtUnary)pr->op, pr->f[0], pr->f[1], pr->in[0], y, pr->ny);
}

/* Inputs in [-4, 4] kept 0.05 away from the op's kinks (so x +- h never crosses one). */
static void test_unary_backward_fd(void **state)
{
	(void)state;
	static const struct {
		RtUnary op;
		float alpha, beta;
		float kinks[2];
		int nkinks;
		const char *name;
	} ops[] = {
		{RT_RELU, 0, 0, {0}, 1, "relu"},
		{RT_LEAKYRELU, 0.1f, 0, {0}, 1, "leakyrelu"},
		{RT_SIGMOID, 0, 0, {0}, 0, "sigmoid"},
		{RT_TANH, 0, 0, {0}, 0, "tanh"},
		{RT_HARDSIGMOID, 0.2f, 0.5f, {-2.5f, 2.5f}, 2, "hardsigmoid"},
		{RT_CLIP, -0.5f, 1.5f, {-0.5f, 1.5f}, 2, "clip"},
	};
	Rng rng = {0x9a0030};
	enum { N = 96 };
	for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
		float x[N], r[N], y[N], fy[N], dx[N], dx2[N];
		for (int i = 0; i < N; i++) {
			float v;
			int near;
			do {
				v = 4 * rng_float(&rng);
				near = 0;
				for (int j = 0; j < ops[o].nkinks; j++)
					near |= fabsf(v - ops[o].kinks[j]) < 0.05f;
			} while (near);
			x[i] = v;
			r[i] = rng_float(&rng);
		}
		rt_unary_ref(ops[o].op, ops[o].alpha, ops[o].beta, x, fy, N);
		for (int i = 0; i < N; i++)
			dx[i] = dx2[i] = NAN;
		rt_unary_backward_ref(ops[o].op, ops[o].alpha, ops[o].beta, x, fy, r, dx, N);
		rt_unary_backward_ref(ops[o].op, ops[o].alpha, ops[o].beta, x, NULL, r, dx2, N);
		Probe pr = {.fwd = unary_fwd, .in = {x}, .op = ops[o].op,
		            .f = {ops[o].alpha, ops[o].beta}, .r = r, .ny = N, .y = y};
		/* step 1e-2: truncation ~1e-5 for sigmoid/tanh, float rounding of y / 2h ~1e-5 */
		fd_against(ops[o].name, &pr, x, N, 1e-2f, 2e-4, dx, dx2);
	}
}

/* The documented subgradients at the kinks. */
static void test_unary_backward_kinks(void **state)
{
	(void)state;
	const float x0[1] = {0}, g[1] = {2};
	float dx[1];
	rt_unary_backward_ref(RT_RELU, 0, 0, x0, NULL, g, dx, 1);
	assert_true(dx[0] == 0.0f);
	rt_unary_backward_ref(RT_LEAKYRELU, 0.25f, 0, x0, NULL, g, dx, 1);
	assert_true(dx[0] == 0.5f);
	/* clip passes the gradient on the closed interval */
	const float lohi[2] = {-1, 3}, g2[2] = {1, 1};
	float d2[2];
	rt_unary_backward_ref(RT_CLIP, -1, 3, lohi, NULL, g2, d2, 2);
	assert_true(d2[0] == 1.0f && d2[1] == 1.0f);
	/* hardsigmoid only strictly inside (alpha*x+beta in (0,1)) */
	const float hk[2] = {-2.5f, 2.5f};
	rt_unary_backward_ref(RT_HARDSIGMOID, 0.2f, 0.5f, hk, NULL, g2, d2, 2);
	assert_true(d2[0] == 0.0f && d2[1] == 0.0f);
}

static void bcast_fwd(const Probe *pr, float *y)
{
	/* broadcast in[0] (shape sh[0]) to sh[1] by adding zeros */
	int rc = rt_binary_ref(RT_ADD, DT_FLOAT, pr->sh[0], pr->in[0], pr->sh[1], pr->in[1],
	                       pr->sh[1], y);
	assert_int_equal(rc, 0);
}

/* The gradient of numpy broadcasting (the transpose of expanding `to` to `from`). */
static void test_reduce_to_shape(void **state)
{
	(void)state;
	Shape pairs[][2] = {
		{SH(2, 3, 4), SH(3, 1)},    {SH(2, 3, 4), SH(1)},       {SH(2, 3, 4), SH0},
		{SH(2, 3, 4), SH(2, 1, 4)}, {SH(2, 3, 4), SH(2, 3, 4)}, {SH(3, 1, 5, 2), SH(1, 5, 1)},
		{SH(4, 5), SH(5)},          {SH(4, 5), SH(4, 1)},
	};
	Rng rng = {0x9a0040};
	for (size_t t = 0; t < sizeof pairs / sizeof pairs[0]; t++) {
		Shape from = pairs[t][0], to = pairs[t][1];
		int64_t nf = numel(&from), nt = numel(&to);
		float *x = rand_buf(&rng, nt), *zeros = calloc((size_t)nf, sizeof(float));
		float *r = rand_buf(&rng, nf), *y = alloc_f(nf), *dx = nan_buf(nt);
		rt_reduce_to_shape_ref(&from, r, &to, dx);
		Probe pr = {.fwd = bcast_fwd, .in = {x, zeros}, .sh = {&to, &from}, .r = r,
		            .ny = nf, .y = y};
		fd_against("reduce_to_shape", &pr, x, nt, 0.5f, 1e-5, dx, NULL);
		free(x), free(zeros), free(r), free(y), free(dx);
	}
	/* hand case: [2,3] -> [3] sums the rows, -> scalar sums everything */
	const float dy[6] = {1, 2, 3, 10, 20, 30};
	float d3[3], d1[1];
	Shape f = SH(2, 3), t3 = SH(3), t0 = SH0;
	rt_reduce_to_shape_ref(&f, dy, &t3, d3);
	const float want3[3] = {11, 22, 33}, want1[1] = {66};
	check_near("reduce rows", d3, want3, 3, 0);
	rt_reduce_to_shape_ref(&f, dy, &t0, d1);
	check_near("reduce all", d1, want1, 1, 0);
}

/* ---- Pooling -------------------------------------------------------------------------- */

/* Pool parameters; out[] by the ONNX formula with floor or ceil. */
static RtPool pool_params(int nsp, int64_t n, int64_t c, const int64_t *in, const int64_t *k,
                          const int64_t *s, const int64_t *d, const int64_t *pb,
                          const int64_t *pe, int ceil_mode, int count_include_pad)
{
	RtPool p = {.nsp = nsp, .n = n, .c = c, .count_include_pad = count_include_pad};
	for (int i = 0; i < nsp; i++) {
		p.in[i] = in[i];
		p.k[i] = k[i];
		p.stride[i] = s[i];
		p.dil[i] = d[i];
		p.pad_begin[i] = pb[i];
		p.pad_end[i] = pe[i];
		int64_t num = in[i] + pb[i] + pe[i] - d[i] * (k[i] - 1) - 1;
		p.out[i] = (ceil_mode ? (num + s[i] - 1) / s[i] : num / s[i]) + 1;
	}
	return p;
}

static void pool_sizes(const RtPool *p, int64_t *nx, int64_t *ny)
{
	*nx = *ny = p->n * p->c;
	for (int i = 0; i < p->nsp; i++) {
		*nx *= p->in[i];
		*ny *= p->out[i];
	}
}

static void maxpool_fwd(const Probe *pr, float *y)
{
	rt_maxpool_ref(pr->p, pr->in[0], y, NULL);
}

static void avgpool_fwd(const Probe *pr, float *y)
{
	rt_avgpool_ref(pr->p, pr->in[0], y);
}

/* The kernel and the finite differences for one pool (x values distinct, 0.05 apart, so
 * a step of 0.01 never changes a window's maximum). */
static void pool_fd_case(RtPool p, int is_max, uint64_t seed)
{
	Rng rng = {seed};
	int64_t nx, ny;
	pool_sizes(&p, &nx, &ny);
	float *x = distinct_buf(&rng, nx, 0.05f), *r = rand_buf(&rng, ny), *y = alloc_f(ny);
	float *dx = nan_buf(nx);
	int64_t *idx = malloc((size_t)ny * sizeof *idx);
	if (is_max) {
		rt_maxpool_ref(&p, x, y, idx);
		/* a window with no tap in the input outputs -FLT_MAX: keep it out of the loss */
		for (int64_t i = 0; i < ny; i++)
			if (idx[i] < 0)
				r[i] = 0;
		rt_maxpool_backward_ref(&p, idx, r, dx);
	} else {
		rt_avgpool_backward_ref(&p, r, dx);
	}
	Probe pr = {.fwd = is_max ? maxpool_fwd : avgpool_fwd, .p = &p, .in = {x}, .r = r,
	            .ny = ny, .y = y};
	fd_against(is_max ? "maxpool dx" : "avgpool dx", &pr, x, nx, 0.01f, 1e-4, dx, NULL);
	free(x), free(r), free(y), free(dx), free(idx);
}

static void test_maxpool_backward_fd(void **state)
{
	(void)state;
	/* 2-D 3x3 stride 2 pad 1 (overlapping windows), both storage orders */
	int64_t in2[2] = {7, 6}, k2[2] = {3, 3}, s2[2] = {2, 2}, d2[2] = {1, 1}, p2[2] = {1, 1};
	RtPool p = pool_params(2, 2, 3, in2, k2, s2, d2, p2, p2, 0, 0);
	pool_fd_case(p, 1, 0x9a0050);
	p.storage_order = 1;
	pool_fd_case(p, 1, 0x9a0051);
	/* 2-D 2x2 stride 2 with ceil mode (a last window half outside) */
	int64_t in3[2] = {5, 5}, k3[2] = {2, 2}, z[2] = {0, 0};
	p = pool_params(2, 1, 2, in3, k3, s2, d2, z, z, 1, 0);
	assert_int_equal(p.out[0], 3);
	pool_fd_case(p, 1, 0x9a0052);
	/* 1-D dilated: the middle window has no tap inside the input (index -1) */
	int64_t in1[1] = {2}, k1[1] = {2}, s1[1] = {1}, d1[1] = {3}, p1[1] = {2};
	p = pool_params(1, 1, 2, in1, k1, s1, d1, p1, p1, 0, 0);
	assert_int_equal(p.out[0], 3);
	float x1[4] = {1, 2, 3, 4}, y1[6];
	int64_t i1[6];
	rt_maxpool_ref(&p, x1, y1, i1);
	assert_int_equal(i1[1], -1);
	pool_fd_case(p, 1, 0x9a0053);
	/* 3-D */
	int64_t in4[3] = {3, 4, 5}, k4[3] = {2, 2, 3}, s4[3] = {1, 2, 2}, d4[3] = {1, 1, 1};
	int64_t pb4[3] = {0, 1, 1}, pe4[3] = {1, 0, 1};
	p = pool_params(3, 2, 1, in4, k4, s4, d4, pb4, pe4, 0, 0);
	pool_fd_case(p, 1, 0x9a0054);
}

static void test_avgpool_backward_fd(void **state)
{
	(void)state;
	for (int cip = 0; cip < 2; cip++) {
		/* 2-D overlapping, asymmetric pads, ceil mode (windows past pad_end) */
		int64_t in2[2] = {6, 7}, k2[2] = {3, 2}, s2[2] = {2, 2}, d2[2] = {1, 1};
		int64_t pb2[2] = {1, 0}, pe2[2] = {0, 1};
		RtPool p = pool_params(2, 2, 2, in2, k2, s2, d2, pb2, pe2, 1, cip);
		pool_fd_case(p, 0, 0x9a0060 + (uint64_t)cip);
		/* 1-D dilated */
		int64_t in1[1] = {9}, k1[1] = {3}, s1[1] = {2}, d1[1] = {2}, pb1[1] = {2};
		int64_t pe1[1] = {1};
		p = pool_params(1, 1, 3, in1, k1, s1, d1, pb1, pe1, 0, cip);
		pool_fd_case(p, 0, 0x9a0062 + (uint64_t)cip);
		/* 3-D */
		int64_t in3[3] = {3, 3, 4}, k3[3] = {2, 2, 2}, s3[3] = {1, 1, 2}, d3[3] = {1, 1, 1};
		int64_t p3[3] = {1, 0, 1};
		p = pool_params(3, 1, 2, in3, k3, s3, d3, p3, p3, 0, cip);
		pool_fd_case(p, 0, 0x9a0064 + (uint64_t)cip);
	}
	/* count_include_pad: 1-D k=3 pad 1 on [1,2,3]: the edge windows divide by 3 or by 2 */
	int64_t in[1] = {3}, k[1] = {3}, s[1] = {1}, d[1] = {1}, p1[1] = {1};
	const float g[3] = {6, 6, 6};
	float dx[3];
	RtPool p = pool_params(1, 1, 1, in, k, s, d, p1, p1, 0, 1);
	rt_avgpool_backward_ref(&p, g, dx);
	const float want_inc[3] = {4, 6, 4};
	check_near("avgpool count_include_pad", dx, want_inc, 3, 1e-6f);
	p.count_include_pad = 0;
	rt_avgpool_backward_ref(&p, g, dx);
	const float want_exc[3] = {5, 8, 5};
	check_near("avgpool exclude pad", dx, want_exc, 3, 1e-6f);
}

static void gpool_fwd(const Probe *pr, float *y)
{
	rt_global_pool_ref(pr->op, pr->n, pr->c, pr->s, pr->in[0], y);
}

static void test_global_pool_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0x9a0070};
	int64_t n = 2, c = 3, s = 10, nx = n * c * s, ny = n * c;
	for (int is_max = 0; is_max < 2; is_max++) {
		float *x = distinct_buf(&rng, nx, 0.05f), *r = rand_buf(&rng, ny), *y = alloc_f(ny);
		float *fy = alloc_f(ny), *dx = nan_buf(nx), *dx2 = nan_buf(nx);
		rt_global_pool_ref(is_max, n, c, s, x, fy);
		rt_global_pool_backward_ref(is_max, n, c, s, x, fy, r, dx);
		rt_global_pool_backward_ref(is_max, n, c, s, x, NULL, r, dx2);
		Probe pr = {.fwd = gpool_fwd, .in = {x}, .op = is_max, .n = n, .c = c, .s = s,
		            .r = r, .ny = ny, .y = y};
		fd_against(is_max ? "globalmax dx" : "globalavg dx", &pr, x, nx, 0.01f, 1e-4, dx,
		           dx2);
		free(x), free(r), free(y), free(fy), free(dx), free(dx2);
	}
	/* a tie goes to the first maximum only */
	const float xt[4] = {1, 3, 3, 0}, g[1] = {1};
	float d[4];
	rt_global_pool_backward_ref(1, 1, 1, 4, xt, NULL, g, d);
	const float want[4] = {0, 1, 0, 0};
	check_near("globalmax tie", d, want, 4, 0);
}

/* ---- BatchNormalization --------------------------------------------------------------- */

static void bn_train_fwd(const Probe *pr, float *y)
{
	rt_batchnorm_train_forward_ref(pr->n, pr->c, pr->s, pr->in[0], pr->in[1], pr->in[2],
	                               pr->f[0], y, NULL, NULL);
}

static void test_batchnorm_train_fd(void **state)
{
	(void)state;
	Rng rng = {0x9a0080};
	int64_t n = 3, c = 2, s = 5, nx = n * c * s;
	float eps = 1e-3f;
	float *x = rand_buf(&rng, nx), *gamma = rand_buf(&rng, c), *beta = rand_buf(&rng, c);
	float *r = rand_buf(&rng, nx), *y = alloc_f(nx), *yo = nan_buf(nx);
	float mean[2], invstd[2];
	for (int64_t i = 0; i < nx; i++)
		x[i] = 2 * x[i] + 0.5f; /* mean and variance away from 0 and 1 */
	rt_batchnorm_train_forward_ref(n, c, s, x, gamma, beta, eps, yo, mean, invstd);

	/* the statistics and the normalized output, in double */
	for (int64_t ch = 0; ch < c; ch++) {
		double mu = 0, var = 0, ym = 0, yv = 0;
		for (int64_t i = 0; i < n; i++)
			for (int64_t k = 0; k < s; k++)
				mu += x[(i * c + ch) * s + k];
		mu /= (double)(n * s);
		for (int64_t i = 0; i < n; i++)
			for (int64_t k = 0; k < s; k++) {
				double dv = x[(i * c + ch) * s + k] - mu;
				var += dv * dv;
				ym += yo[(i * c + ch) * s + k];
			}
		var /= (double)(n * s); /* biased */
		ym /= (double)(n * s);
		for (int64_t i = 0; i < n; i++)
			for (int64_t k = 0; k < s; k++) {
				double dv = yo[(i * c + ch) * s + k] - ym;
				yv += dv * dv;
			}
		yv /= (double)(n * s);
		assert_true(fabs(mean[ch] - mu) < 1e-6);
		assert_true(fabs(invstd[ch] - 1 / sqrt(var + eps)) < 1e-5 * invstd[ch]);
		assert_true(fabs(ym - beta[ch]) < 1e-5);
		assert_true(fabs(yv - gamma[ch] * gamma[ch] * var / (var + eps)) < 1e-5);
	}

	float *dx = nan_buf(nx), dg[2] = {NAN, NAN}, dbt[2] = {NAN, NAN};
	rt_batchnorm_backward_ref(n, c, s, x, gamma, mean, invstd, r, dx, dg, dbt);
	Probe pr = {.fwd = bn_train_fwd, .in = {x, gamma, beta}, .n = n, .c = c, .s = s,
	            .f = {eps}, .r = r, .ny = nx, .y = y};
	fd_against("bn dx", &pr, x, nx, 1e-2f, 1e-4, dx, NULL);
	fd_against("bn dgamma", &pr, gamma, c, 1e-2f, 1e-4, dg, NULL);
	fd_against("bn dbeta", &pr, beta, c, 1e-2f, 1e-4, dbt, NULL);
	/* NULL outputs are skipped, the others unchanged */
	float dg2[2] = {NAN, NAN};
	rt_batchnorm_backward_ref(n, c, s, x, gamma, mean, invstd, r, NULL, dg2, NULL);
	check_near("bn dgamma alone", dg2, dg, 2, 0);

	/* PyTorch's running update: momentum 0.1, unbiased variance */
	float rm[2] = {0, 1}, rv[2] = {1, 2};
	rt_batchnorm_running_update(c, n * s, mean, invstd, eps, 0.1f, rm, rv);
	for (int64_t ch = 0; ch < c; ch++) {
		double var = 1.0 / ((double)invstd[ch] * invstd[ch]) - eps;
		double unb = var * (double)(n * s) / (double)(n * s - 1);
		assert_true(fabs(rm[ch] - (0.9 * (double)ch + 0.1 * mean[ch])) < 1e-6);
		assert_true(fabs(rv[ch] - (0.9 * (1.0 + (double)ch) + 0.1 * unb)) < 1e-5);
	}
	free(x), free(gamma), free(beta), free(r), free(y), free(yo), free(dx);
}

static void bn_frozen_fwd(const Probe *pr, float *y)
{
	rt_batchnorm_ref(pr->n, pr->c, pr->s, pr->in[0], pr->in[1], pr->in[2], pr->in[3],
	                 pr->in[3] + pr->c, pr->f[0], y);
}

static void test_batchnorm_frozen_fd(void **state)
{
	(void)state;
	Rng rng = {0x9a0090};
	int64_t n = 2, c = 3, s = 4, nx = n * c * s;
	float eps = 1e-5f;
	float *x = rand_buf(&rng, nx), *gamma = rand_buf(&rng, c), *beta = rand_buf(&rng, c);
	float *r = rand_buf(&rng, nx), *y = alloc_f(nx);
	float stats[6]; /* running mean [c], running var [c] */
	for (int64_t ch = 0; ch < c; ch++) {
		stats[ch] = rng_float(&rng);
		stats[c + ch] = 0.5f + fabsf(rng_float(&rng));
	}
	float *dx = nan_buf(nx), dg[3] = {NAN, NAN, NAN}, dbt[3] = {NAN, NAN, NAN};
	rt_batchnorm_frozen_backward_ref(n, c, s, x, gamma, stats, stats + c, eps, r, dx, dg, dbt);
	Probe pr = {.fwd = bn_frozen_fwd, .in = {x, gamma, beta, stats}, .n = n, .c = c, .s = s,
	            .f = {eps}, .r = r, .ny = nx, .y = y};
	/* linear in each of x, gamma, beta */
	fd_against("bn frozen dx", &pr, x, nx, 0.25f, 1e-5, dx, NULL);
	fd_against("bn frozen dgamma", &pr, gamma, c, 0.25f, 1e-5, dg, NULL);
	fd_against("bn frozen dbeta", &pr, beta, c, 0.25f, 1e-5, dbt, NULL);
	free(x), free(gamma), free(beta), free(r), free(y), free(dx);
}

/* ---- Losses --------------------------------------------------------------------------- */

static double xent_loss(const Probe *pr)
{
	return rt_softmax_xent_ref(pr->in[0], pr->p, pr->n, pr->c, NULL, NULL);
}

static void test_softmax_xent(void **state)
{
	(void)state;
	/* row 0 [1,2,3] label 2: log(e+e^2+e^3) - 3; row 1 [0,0,0,...]: uniform, label 0 */
	const float lg[6] = {1, 2, 3, 0, 0, 0};
	const int32_t lab[2] = {2, 0};
	float d[6];
	int64_t hits = -1;
	double l = rt_softmax_xent_ref(lg, lab, 2, 3, d, &hits);
	double l0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3, l1 = log(3.0);
	assert_true(fabs(l - (l0 + l1) / 2) < 1e-12);
	/* row 1's argmax is the first of three ties, class 0: a hit */
	assert_int_equal(hits, 2);
	double z = exp(1.0) + exp(2.0) + exp(3.0);
	const float want[6] = {(float)(exp(1.0) / z / 2), (float)(exp(2.0) / z / 2),
	                       (float)((exp(3.0) / z - 1) / 2), (float)(1.0 / 3 - 1) / 2,
	                       (float)(1.0 / 6), (float)(1.0 / 6)};
	check_near("xent dlogits", d, want, 6, 1e-7f);

	/* argmax hits: rows 0 and 2 hit label 1, row 1 misses */
	const float lh[6] = {0, 1, 1, 0, 2, 3};
	const int32_t l1s[3] = {1, 1, 1};
	rt_softmax_xent_ref(lh, l1s, 3, 2, NULL, &hits);
	assert_int_equal(hits, 2);

	/* large logits stay finite (the max is subtracted) */
	const float big[3] = {1000, 990, -1000};
	const int32_t l2[1] = {1};
	l = rt_softmax_xent_ref(big, l2, 1, 3, d, NULL);
	assert_true(fabs(l - (10 + log1p(exp(-10.0)))) < 1e-9);
	assert_true(isfinite(d[0]) && isfinite(d[1]) && d[2] == 0.0f);

	/* an out-of-range label makes the loss NaN; n == 0 gives 0 */
	const int32_t bad[1] = {3};
	assert_true(isnan(rt_softmax_xent_ref(lg, bad, 1, 3, NULL, NULL)));
	assert_true(rt_softmax_xent_ref(lg, lab, 0, 3, NULL, NULL) == 0.0);

	/* finite differences on a random batch */
	Rng rng = {0x9a00a0};
	int64_t n = 4, c = 7;
	float *x = rand_buf(&rng, n * c), *dx = nan_buf(n * c);
	int32_t labels[4];
	for (int i = 0; i < 4; i++) {
		labels[i] = (int32_t)rng_int(&rng, 0, c - 1);
		for (int64_t j = 0; j < c; j++)
			x[i * c + j] *= 3;
	}
	rt_softmax_xent_ref(x, labels, n, c, dx, NULL);
	Probe pr = {.loss = xent_loss, .p = labels, .in = {x}, .n = n, .c = c};
	fd_against("xent dlogits", &pr, x, n * c, 1e-3f, 1e-5, dx, NULL);
	free(x), free(dx);
}

static double kl_loss(const Probe *pr)
{
	return rt_distill_kl_ref(pr->in[0], pr->in[1], pr->n, pr->c, pr->f[0], NULL);
}

static void test_distill_kl(void **state)
{
	(void)state;
	Rng rng = {0x9a00b0};
	int64_t n = 3, c = 5;
	float *s = rand_buf(&rng, n * c), *t = rand_buf(&rng, n * c), *d = nan_buf(n * c);
	for (int64_t i = 0; i < n * c; i++) {
		s[i] *= 4;
		t[i] *= 4;
	}
	/* student == teacher: zero loss, zero gradient */
	double l = rt_distill_kl_ref(t, t, n, c, 3.0f, d);
	assert_true(fabs(l) < 1e-12);
	for (int64_t i = 0; i < n * c; i++)
		assert_true(fabs(d[i]) < 1e-8);

	/* two classes by hand: T = 2, student [0, 0], teacher [0, 2ln3] -> p = (1/4, 3/4),
	 * q = (1/2, 1/2); T^2 KL = 4 (1/4 ln(1/2) + 3/4 ln(3/2)) */
	const float st[2] = {0, 0}, te[2] = {0, (float)(2 * log(3.0))};
	float d2[2];
	l = rt_distill_kl_ref(st, te, 1, 2, 2.0f, d2);
	assert_true(fabs(l - 4 * (0.25 * log(0.5) + 0.75 * log(1.5))) < 1e-6);
	assert_true(fabs(d2[0] - 2 * (0.5 - 0.25)) < 1e-6 && fabs(d2[1] - 2 * (0.5 - 0.75)) < 1e-6);

	/* finite differences for T = 1 and T = 4 */
	for (int k = 0; k < 2; k++) {
		float T = k ? 4.0f : 1.0f;
		l = rt_distill_kl_ref(s, t, n, c, T, d);
		assert_true(l > 0);
		Probe pr = {.loss = kl_loss, .in = {s, t}, .n = n, .c = c, .f = {T}};
		fd_against("distill dstudent", &pr, s, n * c, 1e-3f, 1e-5, d, NULL);
	}
	free(s), free(t), free(d);
}


/* ---- fast training kernels (runtime/grad_*.c) vs the reference ones -------------------------
 * Bit for bit where grad.h promises it (elementwise, pools, the activation quantizer),
 * within rounding for BatchNormalization; always the same bits at 1 and 2 threads and
 * for every instruction set (the AVX2 builds of the tasks). */

static void check_same(const char *what, int it, const float *a, const float *b, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(float)))
			fail_msg("%s (case %d) [%lld]: %.9g vs %.9g", what, it, (long long)i, (double)a[i],
			         (double)b[i]);
}

/* random values with NaN, +-0, +-Inf and exact kink values sprinkled in */
static float *special_buf(Rng *r, int64_t n, float scale)
{
	static const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, 1.0f, -1.0f, 0.5f, -3.0f};
	float *p = alloc_f(n);
	for (int64_t i = 0; i < n; i++) {
		int64_t k = rng_int(r, 0, 40);
		p[i] = k < 8 ? sp[k] : k == 8 ? NAN : scale * rng_float(r);
	}
	return p;
}

static int n_isas(RtIsa *isas)
{
	int k = 0;
	for (int i = 0; i < RT_ISA_COUNT; i++)
		if (rt_isa_supported((RtIsa)i))
			isas[k++] = (RtIsa)i;
	return k;
}

static void test_unary_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x9a0c00};
	const RtUnary ops[] = {RT_RELU, RT_LEAKYRELU, RT_SIGMOID, RT_TANH, RT_HARDSIGMOID, RT_CLIP};
	/* sizes around the blocks (16), the chunks (16384) and the one-task limit (32768) */
	const int64_t sizes[] = {0, 1, 15, 16, 17, 33, 16383, 16385, 32767, 70001};
	int it = 0;
	for (size_t o = 0; o < sizeof ops / sizeof *ops; o++)
		for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++, it++) {
			int64_t n = sizes[si];
			float a = ops[o] == RT_CLIP ? -0.5f : 0.2f, b = ops[o] == RT_CLIP ? 0.75f : 0.5f;
			float *x = special_buf(&rng, n, 4), *dy = special_buf(&rng, n, 2);
			float *y = nan_buf(n), *dx = nan_buf(n);
			rt_unary_ref(ops[o], a, b, x, y, n);
			rt_unary_backward_ref(ops[o], a, b, x, y, dy, dx, n);
			for (int th = 1; th <= 2; th++) {
				rt_set_threads(th);
				float *fy = nan_buf(n), *fdx = nan_buf(n);
				rt_unary_fast(ops[o], a, b, x, fy, n);
				check_same("unary fast", it, fy, y, n);
				rt_unary_backward_fast(ops[o], a, b, x, y, dy, fdx, n);
				check_same("unary backward fast", it, fdx, dx, n);
				if (ops[o] == RT_RELU) { /* from the output alone */
					rt_unary_backward_fast(RT_RELU, 0, 0, NULL, y, dy, fdx, n);
					check_same("relu backward from y", it, fdx, dx, n);
				}
				free(fy), free(fdx);
			}
			free(x), free(dy), free(y), free(dx);
		}
	/* accumulation */
	int64_t n = 50003;
	float *d = rand_buf(&rng, n), *src = rand_buf(&rng, n), *want = alloc_f(n);
	for (int64_t i = 0; i < n; i++)
		want[i] = d[i] + src[i];
	rt_accumulate_fast(d, src, n);
	check_same("accumulate", 0, d, want, n);
	rt_set_threads(0);
	free(d), free(src), free(want);
}

static void maxpool_fast_case(const RtPool *p, Rng *rng, int it, int ties)
{
	int64_t nx, ny;
	pool_sizes(p, &nx, &ny);
	float *x = rand_buf(rng, nx), *dy = rand_buf(rng, ny);
	if (ties) /* few distinct values: the first maximum must win */
		for (int64_t i = 0; i < nx; i++)
			x[i] = (float)rng_int(rng, 0, 2);
	for (int64_t i = 0; i < nx; i += 17) /* NaN (never greater, kept when first), Inf */
		x[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
	float *y = nan_buf(ny), *dx = nan_buf(nx);
	int64_t *idx = malloc(sizeof(int64_t) * (size_t)(ny ? ny : 1));
	rt_maxpool_ref(p, x, y, idx);
	rt_maxpool_backward_ref(p, idx, dy, dx);
	for (int th = 1; th <= 2; th++) {
		rt_set_threads(th);
		float *fy = nan_buf(ny), *fdx = nan_buf(nx);
		int64_t *fidx = malloc(sizeof(int64_t) * (size_t)(ny ? ny : 1));
		rt_maxpool_train_fast(p, x, fy, fidx);
		check_same("maxpool fast y", it, fy, y, ny);
		if (memcmp(fidx, idx, sizeof(int64_t) * (size_t)ny))
			fail_msg("maxpool fast indices (case %d) differ", it);
		rt_maxpool_backward_fast(p, idx, dy, fdx);
		check_same("maxpool backward fast", it, fdx, dx, nx);
		free(fy), free(fdx), free(fidx);
	}
	rt_set_threads(0);
	free(x), free(dy), free(y), free(dx), free(idx);
}

/* 1-D and 2-D pools: kernels 1-3, strides 1-3 (overlapping windows too), dilations and pads
 * (the reference path), storage order 1 (reference), planes enough for several tasks. */
static void test_maxpool_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x9a0c10};
	for (int it = 0; it < 120; it++) {
		int nsp = (int)rng_int(&rng, 1, 2);
		int64_t in[2], k[2], st[2], dl[2], pb[2], pe[2];
		for (int i = 0; i < nsp; i++) {
			k[i] = rng_int(&rng, 1, 3);
			st[i] = rng_int(&rng, 1, 3);
			dl[i] = it % 5 == 4 ? rng_int(&rng, 1, 2) : 1;
			pb[i] = it % 7 == 6 ? rng_int(&rng, 0, k[i] - 1) : 0;
			pe[i] = it % 7 == 6 ? rng_int(&rng, 0, k[i] - 1) : 0;
			in[i] = rng_int(&rng, dl[i] * (k[i] - 1) + 1, 13);
		}
		int64_t n = rng_int(&rng, 1, 3), c = it % 10 == 0 ? 300 : rng_int(&rng, 1, 5);
		RtPool p = pool_params(nsp, n, c, in, k, st, dl, pb, pe, it % 3 == 2, 0);
		p.storage_order = it % 11 == 10;
		maxpool_fast_case(&p, &rng, it, it % 2);
	}
	/* the VGG shape: 2x2 stride 2, even and odd sizes */
	const int64_t k2[2] = {2, 2}, s2[2] = {2, 2}, d1[2] = {1, 1}, z[2] = {0, 0};
	const int64_t sz[3][2] = {{28, 28}, {7, 7}, {6, 9}};
	for (int i = 0; i < 3; i++) {
		RtPool p = pool_params(2, 8, 32, sz[i], k2, s2, d1, z, z, 0, 0);
		maxpool_fast_case(&p, &rng, 1000 + i, i == 1);
	}
}

/* x with per-channel means far from 0 (|mean| up to 1000 std: the shifted sums) */
static void test_batchnorm_fast_vs_ref(void **state)
{
	(void)state;
	Rng rng = {0x9a0c20};
	const int64_t shapes[][3] = {{1, 1, 1}, {2, 3, 1}, {1, 2, 7}, {3, 2, 8}, {2, 5, 9},
	                             {4, 3, 17}, {5, 4, 49}, {8, 32, 196}, {64, 2, 784}};
	RtIsa isas[RT_ISA_COUNT];
	int nis = n_isas(isas);
	RtIsa isa0 = rt_isa_get();
	for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
		for (int relu = 0; relu < 2; relu++) {
			int it = (int)sh * 2 + relu;
			int64_t n = shapes[sh][0], c = shapes[sh][1], s = shapes[sh][2], nx = n * c * s;
			float eps = 1e-5f;
			float *x = rand_buf(&rng, nx), *gamma = rand_buf(&rng, c), *beta = rand_buf(&rng, c);
			float *dy = rand_buf(&rng, nx);
			for (int64_t ch = 0; ch < c; ch++) {
				float off = ch % 3 == 0 ? 0.0f : ch % 3 == 1 ? 5.0f : -1000.0f;
				for (int64_t i = 0; i < n; i++)
					for (int64_t k = 0; k < s; k++)
						x[(i * c + ch) * s + k] += off;
			}
			/* the reference: forward, Relu, Relu backward, BN backward */
			float *ry = nan_buf(nx), rmean[32], rinv[32];
			rt_batchnorm_train_forward_ref(n, c, s, x, gamma, beta, eps, ry, rmean, rinv);
			float *rdy = alloc_f(nx), *rdx = nan_buf(nx), rdg[32], rdb[32];
			if (relu) {
				rt_unary_ref(RT_RELU, 0, 0, ry, ry, nx);
				rt_unary_backward_ref(RT_RELU, 0, 0, ry, NULL, dy, rdy, nx);
			} else {
				memcpy(rdy, dy, sizeof(float) * (size_t)nx);
			}
			rt_batchnorm_backward_ref(n, c, s, x, gamma, rmean, rinv, rdy, rdx, rdg, rdb);
			float *keep[4] = {NULL, NULL, NULL, NULL};
			for (int ii = 0; ii < nis; ii++) {
				rt_isa_set(isas[ii]);
				for (int th = 1; th <= 2; th++) {
					rt_set_threads(th);
					float *y = nan_buf(nx), mean[32], inv[32];
					rt_batchnorm_train_forward_fast(n, c, s, x, gamma, beta, eps, y, mean, inv,
					                                relu);
					check_near("bn fast mean", mean, rmean, c, 1e-6f);
					for (int64_t ch = 0; ch < c; ch++)
						if (!(fabsf(inv[ch] - rinv[ch]) <= 1e-5f * rinv[ch]))
							fail_msg("bn fast invstd (case %d) [%lld]: %.9g vs %.9g", it,
							         (long long)ch, (double)inv[ch], (double)rinv[ch]);
					check_near("bn fast y", y, ry, nx, 2e-5f);
					/* the backward from the reference statistics and Relu output */
					float *dx = nan_buf(nx), dg[32], db[32];
					rt_batchnorm_backward_fast(n, c, s, x, gamma, rmean, rinv, relu ? ry : NULL,
					                           dy, dx, dg, db);
					float *adx = abs_copy(rdx, nx);
					for (int64_t i = 0; i < nx; i++)
						if (!(fabsf(dx[i] - rdx[i]) <= 1e-4f * (1 + adx[i])))
							fail_msg("bn fast dx (case %d) [%lld]: %.9g vs %.9g", it,
							         (long long)i, (double)dx[i], (double)rdx[i]);
					check_near("bn fast dbeta", db, rdb, c, 1e-5f);
					for (int64_t ch = 0; ch < c; ch++)
						if (!(fabsf(dg[ch] - rdg[ch]) <= 1e-4f * (1 + fabsf(rdg[ch]))))
							fail_msg("bn fast dgamma (case %d) [%lld]: %.9g vs %.9g", it,
							         (long long)ch, (double)dg[ch], (double)rdg[ch]);
					/* NULL outputs are skipped */
					float dg2[32];
					rt_batchnorm_backward_fast(n, c, s, x, gamma, rmean, rinv, relu ? ry : NULL,
					                           dy, NULL, dg2, NULL);
					check_same("bn fast dgamma alone", it, dg2, dg, c);
					/* every ISA and thread count: the same bits */
					if (!keep[0]) {
						keep[0] = y, keep[1] = dx;
						keep[2] = malloc(sizeof(float) * 64);
						memcpy(keep[2], mean, sizeof(float) * (size_t)c);
						memcpy(keep[2] + c, inv, sizeof(float) * (size_t)c);
						keep[3] = malloc(sizeof(float) * 64);
						memcpy(keep[3], dg, sizeof(float) * (size_t)c);
						memcpy(keep[3] + c, db, sizeof(float) * (size_t)c);
						free(adx);
						continue;
					}
					check_same("bn fast y (isa/threads)", it, y, keep[0], nx);
					check_same("bn fast dx (isa/threads)", it, dx, keep[1], nx);
					check_same("bn fast mean (isa/threads)", it, mean, keep[2], c);
					check_same("bn fast invstd (isa/threads)", it, inv, keep[2] + c, c);
					check_same("bn fast dgamma (isa/threads)", it, dg, keep[3], c);
					check_same("bn fast dbeta (isa/threads)", it, db, keep[3] + c, c);
					free(y), free(dx), free(adx);
				}
			}
			rt_isa_set(isa0);
			rt_set_threads(0);
			for (int i = 0; i < 4; i++)
				free(keep[i]);
			free(x), free(gamma), free(beta), free(dy), free(ry), free(rdy), free(rdx);
		}
}

/* sq_act_backward's loop before it moved to the fast kernels (now grad_actq.c): one element at a time, in order */
static double act_backward_seq(const float *x, const float *dy, float *dx, int64_t n, int qn,
                               int qp, float s)
{
	const float inv = 1.0f / s, lo = (float)-qn, hi = (float)qp;
	double ds = 0;
	for (int64_t i = 0; i < n; i++) {
		const float v = x[i] * inv, g = dy[i];
		if (!(v > lo)) {
			ds += (double)g * lo;
			dx[i] = 0.0f;
		} else if (v >= hi) {
			ds += (double)g * hi;
			dx[i] = 0.0f;
		} else {
			ds += (double)g * ((double)rintf(v) - (double)v);
			dx[i] = g;
		}
	}
	return ds;
}

static void test_act_quant_fast(void **state)
{
	(void)state;
	Rng rng = {0x9a0c30};
	const int64_t sizes[] = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 40001};
	const int qs[][2] = {{0, 255}, {0, 3}, {0, 1}, {128, 127}, {2, 1}};
	RtIsa isas[RT_ISA_COUNT];
	int nis = n_isas(isas);
	RtIsa isa0 = rt_isa_get();
	int it = 0;
	for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
		for (size_t q = 0; q < sizeof qs / sizeof *qs; q++, it++) {
			int64_t n = sizes[si];
			int qn = qs[q][0], qp = qs[q][1];
			float s = 0.05f + 0.1f * (float)q;
			float *x = special_buf(&rng, n, 2.0f * s * (float)qp), *dy = rand_buf(&rng, n);
			for (int64_t i = 0; i < n; i += 5) /* exact halves: ties round to even */
				x[i] = s * (float)(rng_int(&rng, -2 * qn, 2 * qp)) * 0.5f;
			float *y = nan_buf(n), *dx = nan_buf(n);
			rt_act_quant_ref(x, y, n, qn, qp, s);
			double ds = act_backward_seq(x, dy, dx, n, qn, qp, s);
			double keep = 0;
			for (int ii = 0; ii < nis; ii++) {
				rt_isa_set(isas[ii]);
				for (int th = 1; th <= 2; th++) {
					rt_set_threads(th);
					float *fy = nan_buf(n), *fdx = nan_buf(n);
					rt_act_quant_fast(x, fy, n, qn, qp, s);
					check_same("act quant fast", it, fy, y, n);
					memcpy(fy, x, sizeof(float) * (size_t)n); /* in place */
					rt_act_quant_fast(fy, fy, n, qn, qp, s);
					check_same("act quant fast in place", it, fy, y, n);
					double fds = rt_act_quant_backward_fast(x, dy, fdx, n, qn, qp, s);
					check_same("act quant backward dx", it, fdx, dx, n);
					double tol = 1e-12;
					for (int64_t i = 0; i < n; i++)
						tol += 1e-12 * fabs(dy[i]) * (qn + qp + 1);
					if (!(fabs(fds - ds) <= tol))
						fail_msg("act quant backward ds (case %d): %.17g vs %.17g", it, fds, ds);
					if (ii == 0 && th == 1)
						keep = fds;
					else if (memcmp(&fds, &keep, sizeof fds))
						fail_msg("act quant backward ds (case %d): isa/threads differ", it);
					/* dx aliasing dy */
					memcpy(fdx, dy, sizeof(float) * (size_t)n);
					double ads = rt_act_quant_backward_fast(x, fdx, fdx, n, qn, qp, s);
					check_same("act quant backward dx in place", it, fdx, dx, n);
					if (memcmp(&ads, &keep, sizeof ads))
						fail_msg("act quant backward ds in place (case %d) differs", it);
					free(fy), free(fdx);
				}
			}
			rt_isa_set(isa0);
			rt_set_threads(0);
			free(x), free(dy), free(y), free(dx);
		}
}

/* q_in with the quantizer's special inputs: NaN, +-0, +-Inf, exact halves of the step
 * (ties), values at and beyond both ends of the range */
static void actq_specials(Rng *r, float *q, int64_t n, int qn, int qp, float s)
{
	for (int64_t i = 0; i < n; i++) {
		int64_t k = rng_int(r, 0, 29);
		if (k == 0)
			q[i] = NAN;
		else if (k == 1)
			q[i] = INFINITY;
		else if (k == 2)
			q[i] = -INFINITY;
		else if (k == 3)
			q[i] = -0.0f;
		else if (k == 4)
			q[i] = 0.0f;
		else if (k == 5)
			q[i] = s * (float)qp;
		else if (k == 6)
			q[i] = -s * (float)qn;
		else if (k < 10)
			q[i] = s * (float)(rng_int(r, -2 * qn - 2, 2 * qp + 2)) * 0.5f;
	}
}

static void check_ds(const char *what, int it, double got, double want, const float *dq,
                     int64_t n, int qn, int qp)
{
	double tol = 1e-12;
	for (int64_t i = 0; i < n; i++)
		tol += 1e-12 * fabs(dq[i]) * (qn + qp + 1);
	if (!(fabs(got - want) <= tol))
		fail_msg("%s ds (case %d): %.17g vs %.17g", what, it, got, want);
}

/* The activation quantizer's backward fused into the BatchNormalization (+Relu) and MaxPool
 * backward: dx (dgamma, dbeta) bit for bit those of the unfused pair, ds within rounding of
 * rt_act_quant_backward_fast's and the same bits for every ISA and thread count. */
static void test_actq_fused_vs_unfused(void **state)
{
	(void)state;
	Rng rng = {0x9a0c40};
	const int64_t shapes[][3] = {{1, 1, 1}, {2, 3, 1}, {1, 2, 7}, {3, 2, 8}, {2, 5, 9},
	                             {4, 3, 17}, {5, 4, 49}, {8, 32, 196}, {64, 2, 784}};
	const int qs[][2] = {{0, 255}, {0, 3}, {0, 1}, {128, 127}};
	RtIsa isas[RT_ISA_COUNT];
	int nis = n_isas(isas);
	RtIsa isa0 = rt_isa_get();
	int it = 0;
	for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++)
		for (int relu = 0; relu < 2; relu++)
			for (size_t q = 0; q < sizeof qs / sizeof *qs; q++, it++) {
				int64_t n = shapes[sh][0], c = shapes[sh][1], sp = shapes[sh][2];
				int64_t nx = n * c * sp;
				int qn = qs[q][0], qp = qs[q][1];
				float s = 0.05f + 0.1f * (float)q;
				float *x = rand_buf(&rng, nx), *gamma = rand_buf(&rng, c);
				float *beta = rand_buf(&rng, c), *dq = rand_buf(&rng, nx);
				float *qin = nan_buf(nx), mean[32], inv[32];
				for (int64_t i = 0; i < c; i++) /* outputs across the quantizer's range */
					gamma[i] *= s * (float)(qn + qp) * 0.5f;
				if (sh % 3 == 1) /* NaN and Inf in one channel's input */
					x[0] = sh % 2 ? NAN : INFINITY;
				rt_batchnorm_train_forward_fast(n, c, sp, x, gamma, beta, 1e-5f, qin, mean, inv,
				                                relu);
				float *rq = nan_buf(nx);
				rt_act_quant_fast(qin, rq, nx, qn, qp, s);
				for (int ii = 0; ii < nis; ii++) { /* the forward with the quantizer fused */
					rt_isa_set(isas[ii]);
					for (int th = 1; th <= 2; th++) {
						rt_set_threads(th);
						float *y = nan_buf(nx), *xq = nan_buf(nx), m2[32], i2[32];
						rt_batchnorm_train_forward_actq_fast(n, c, sp, x, gamma, beta, 1e-5f, y,
						                                     m2, i2, relu, qn, qp, s, xq);
						check_same("bn actq forward y", it, y, qin, nx);
						check_same("bn actq forward xq", it, xq, rq, nx);
						check_same("bn actq forward mean", it, m2, mean, c);
						check_same("bn actq forward invstd", it, i2, inv, c);
						free(y), free(xq);
					}
				}
				rt_isa_set(isa0);
				free(rq);
				x[0] = 0.5f;
				rt_batchnorm_train_forward_fast(n, c, sp, x, gamma, beta, 1e-5f, qin, mean, inv,
				                                relu);
				for (int64_t i = 0; i < c; i++)
					gamma[i] /= s * (float)(qn + qp) * 0.5f;
				actq_specials(&rng, qin, nx, qn, qp, s);
				if (relu)
					for (int64_t i = 0; i < nx; i++)
						qin[i] = qin[i] < 0 ? 0.0f : qin[i];
				float *gq = nan_buf(nx), *rdx = nan_buf(nx), rdg[32], rdb[32];
				double rds = rt_act_quant_backward_fast(qin, dq, gq, nx, qn, qp, s);
				rt_batchnorm_backward_fast(n, c, sp, x, gamma, mean, inv, relu ? qin : NULL, gq,
				                           rdx, rdg, rdb);
				double keep = 0;
				for (int ii = 0; ii < nis; ii++) {
					rt_isa_set(isas[ii]);
					for (int th = 1; th <= 2; th++) {
						rt_set_threads(th);
						float *dx = nan_buf(nx), dg[32], db[32];
						double ds = rt_batchnorm_backward_actq_fast(
							n, c, sp, x, gamma, mean, inv, qin, relu, qn, qp, s, dq, dx, dg,
							db);
						check_same("bn actq dx", it, dx, rdx, nx);
						check_same("bn actq dgamma", it, dg, rdg, c);
						check_same("bn actq dbeta", it, db, rdb, c);
						check_ds("bn actq", it, ds, rds, dq, nx, qn, qp);
						if (ii == 0 && th == 1)
							keep = ds;
						else if (memcmp(&ds, &keep, sizeof ds))
							fail_msg("bn actq ds (case %d): isa/threads differ", it);
						/* dx not wanted */
						float dg2[32];
						double ds2 = rt_batchnorm_backward_actq_fast(
							n, c, sp, x, gamma, mean, inv, qin, relu, qn, qp, s, dq, NULL, dg2,
							NULL);
						check_same("bn actq dgamma alone", it, dg2, rdg, c);
						if (memcmp(&ds2, &keep, sizeof ds2))
							fail_msg("bn actq ds without dx (case %d) differs", it);
						free(dx);
					}
				}
				rt_isa_set(isa0);
				rt_set_threads(0);
				free(x), free(gamma), free(beta), free(dq), free(qin), free(gq), free(rdx);
			}
	/* MaxPool: random pools (overlapping windows, pads and dilations, storage order 1: the
	 * unfused path), then the VGG shapes */
	for (int k = 0; k < 60; k++, it++) {
		int nsp = (int)rng_int(&rng, 1, 2);
		int64_t in[2], kk[2], st[2], dl[2], pb[2], pe[2];
		for (int i = 0; i < nsp; i++) {
			kk[i] = rng_int(&rng, 1, 3);
			st[i] = rng_int(&rng, 1, 3);
			dl[i] = k % 5 == 4 ? rng_int(&rng, 1, 2) : 1;
			pb[i] = k % 7 == 6 ? rng_int(&rng, 0, kk[i] - 1) : 0;
			pe[i] = k % 7 == 6 ? rng_int(&rng, 0, kk[i] - 1) : 0;
			in[i] = rng_int(&rng, dl[i] * (kk[i] - 1) + 1, 30);
		}
		if (k >= 56) { /* the VGG shape: 2x2 stride 2, even and odd sizes */
			nsp = 2;
			for (int i = 0; i < 2; i++)
				kk[i] = st[i] = 2, dl[i] = 1, pb[i] = pe[i] = 0;
			in[0] = k == 56 ? 28 : k == 57 ? 14 : k == 58 ? 7 : 6;
			in[1] = k == 59 ? 9 : in[0];
		}
		int64_t n = rng_int(&rng, 1, 3), c = k % 10 == 0 || k >= 56 ? 300 : rng_int(&rng, 1, 5);
		RtPool p = pool_params(nsp, n, c, in, kk, st, dl, pb, pe, k % 3 == 2, 0);
		p.storage_order = k % 11 == 10;
		int64_t nx, ny;
		pool_sizes(&p, &nx, &ny);
		int qn = qs[k % 4][0], qp = qs[k % 4][1];
		float s = 0.05f + 0.1f * (float)(k % 4);
		float *x = rand_buf(&rng, nx), *dq = rand_buf(&rng, ny), *y = nan_buf(ny);
		for (int64_t i = 0; i < nx; i++)
			x[i] *= 0.5f * s * (float)(qn + qp);
		if (k % 2) /* ties */
			for (int64_t i = 0; i < nx; i++)
				x[i] = s * (float)rng_int(&rng, 0, 2);
		actq_specials(&rng, x, nx, qn, qp, s);
		int64_t *idx = malloc(sizeof(int64_t) * (size_t)(ny ? ny : 1));
		rt_maxpool_ref(&p, x, y, idx);
		{ /* the forward with the quantizer fused */
			float *rq = nan_buf(ny);
			rt_act_quant_fast(y, rq, ny, qn, qp, s);
			for (int th = 1; th <= 2; th++) {
				rt_set_threads(th);
				float *fy = nan_buf(ny), *xq = nan_buf(ny);
				int64_t *fidx = malloc(sizeof(int64_t) * (size_t)(ny ? ny : 1));
				rt_maxpool_train_actq_fast(&p, x, fy, fidx, qn, qp, s, xq);
				check_same("maxpool actq forward y", it, fy, y, ny);
				check_same("maxpool actq forward xq", it, xq, rq, ny);
				if (memcmp(fidx, idx, sizeof(int64_t) * (size_t)ny))
					fail_msg("maxpool actq forward indices (case %d) differ", it);
				free(fy), free(xq), free(fidx);
			}
			free(rq);
		}
		float *gq = nan_buf(ny), *rdx = nan_buf(nx);
		double rds = rt_act_quant_backward_fast(y, dq, gq, ny, qn, qp, s);
		rt_maxpool_backward_fast(&p, idx, gq, rdx);
		double keep = 0;
		for (int ii = 0; ii < nis; ii++) {
			rt_isa_set(isas[ii]);
			for (int th = 1; th <= 2; th++) {
				rt_set_threads(th);
				float *dx = nan_buf(nx);
				double ds = rt_maxpool_backward_actq_fast(&p, idx, y, qn, qp, s, dq, dx);
				check_same("maxpool actq dx", it, dx, rdx, nx);
				check_ds("maxpool actq", it, ds, rds, dq, ny, qn, qp);
				if (ii == 0 && th == 1)
					keep = ds;
				else if (memcmp(&ds, &keep, sizeof ds))
					fail_msg("maxpool actq ds (case %d): isa/threads differ", it);
				free(dx);
			}
		}
		rt_isa_set(isa0);
		rt_set_threads(0);
		free(x), free(dq), free(y), free(idx), free(gq), free(rdx);
	}
}

/* ---- Concat ------------------------------------------------------------------------------ */

static void concat_fwd(const Probe *pr, float *y)
{
	const void *x[3] = {pr->in[0], pr->in[1], pr->in[2]};
	rt_concat_ref(sizeof(float), (int)pr->n, pr->sh, x, pr->op, y);
}

/* Each operand's gradient is its slice of dy: against finite differences, over every axis
 * of rank-3 operands whose sizes differ along it. */
static void test_concat_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0xc0ca7};
	for (int axis = 0; axis < 3; axis++) {
		Shape s[3];
		for (int j = 0; j < 3; j++) {
			s[j] = (Shape){3, {2, 3, 4}};
			s[j].d[axis] = j + 1;
		}
		Shape sy = s[0];
		sy.d[axis] = 6;
		int64_t ny = ir_shape_numel(&sy);
		Probe pr = {.fwd = concat_fwd, .n = 3, .op = axis, .ny = ny};
		float *dx[3];
		for (int j = 0; j < 3; j++) {
			pr.in[j] = rand_buf(&rng, ir_shape_numel(&s[j]));
			pr.sh[j] = &s[j];
			dx[j] = malloc(sizeof(float) * (size_t)ir_shape_numel(&s[j]));
		}
		float *r = rand_buf(&rng, ny);
		pr.r = r;
		pr.y = malloc(sizeof(float) * (size_t)ny);
		float *skip[3] = {dx[0], NULL, dx[2]}; /* an operand that wants no gradient */
		dx[1][0] = 42.0f;
		rt_concat_backward_ref(3, pr.sh, axis, r, skip);
		assert_true(dx[1][0] == 42.0f);
		rt_concat_backward_ref(3, pr.sh, axis, r, dx);
		for (int j = 0; j < 3; j++)
			fd_against("concat dx", &pr, pr.in[j], ir_shape_numel(&s[j]), 1e-2f, 1e-3, dx[j],
			           NULL);
		for (int j = 0; j < 3; j++) {
			free(pr.in[j]);
			free(dx[j]);
		}
		free(r);
		free(pr.y);
	}
}

/* ---- Transpose --------------------------------------------------------------------------- */

static void transpose_fwd(const Probe *pr, float *y)
{
	rt_transpose_ref(sizeof(float), pr->sh[0], pr->p, pr->in[0], y);
}

/* dx is dy transposed back: against finite differences for every permutation of rank 3. */
static void test_transpose_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0x7a05e};
	static const int64_t perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
	                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	Shape sx = {3, {2, 3, 4}};
	for (int q = 0; q < 6; q++) {
		Probe pr = {.fwd = transpose_fwd, .p = perms[q], .ny = 24};
		pr.sh[0] = &sx;
		pr.in[0] = rand_buf(&rng, 24);
		float *r = rand_buf(&rng, 24), dx[24];
		pr.r = r;
		pr.y = malloc(sizeof(float) * 24);
		rt_transpose_backward_ref(&sx, perms[q], r, dx);
		fd_against("transpose dx", &pr, pr.in[0], 24, 1e-2f, 1e-3, dx, NULL);
		free(pr.in[0]);
		free(r);
		free(pr.y);
	}
}

/* ---- Pad --------------------------------------------------------------------------------- */

static void pad_fwd(const Probe *pr, float *y)
{
	float zero = 0.5f;
	rt_pad_ref(sizeof(float), (RtPadMode)pr->op, pr->sh[0], pr->in[0], pr->p, &zero,
	           pr->sh[1], y);
}

/* Every mode, with a crop on one side: against finite differences (reflect and edge send
 * one input to several outputs, whose gradients must add). */
static void test_pad_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0x9adbac};
	static const int64_t pads[4] = {2, 1, 1, -1}; /* [begin h, begin w, end h, end w] */
	Shape sx = {2, {3, 4}}, sy = {2, {6, 4}};
	for (int mode = 0; mode < 3; mode++) {
		Probe pr = {.fwd = pad_fwd, .p = pads, .op = mode, .ny = 24};
		pr.sh[0] = &sx;
		pr.sh[1] = &sy;
		pr.in[0] = rand_buf(&rng, 12);
		float *r = rand_buf(&rng, 24), dx[12];
		pr.r = r;
		pr.y = malloc(sizeof(float) * 24);
		int64_t src[24];
		rt_pad_src_map((RtPadMode)mode, &sx, pads, &sy, src);
		rt_pad_backward_ref(src, 12, 24, r, dx);
		fd_against("pad dx", &pr, pr.in[0], 12, 1e-2f, 1e-3, dx, NULL);
		free(pr.in[0]);
		free(r);
		free(pr.y);
	}
}

/* ---- Add, Sub, Mul, Div ---------------------------------------------------------------- */

static void binary_fwd(const Probe *pr, float *y)
{
	rt_binary_ref((RtBinary)pr->op, DT_FLOAT, pr->sh[0], pr->in[0], pr->sh[1], pr->in[1],
	              pr->sh[2], y);
}

/* Both operands' gradients, reduced over the broadcast dims, against finite differences
 * (b broadcast along two dims; for Div, b kept away from 0; PRelu's b is the slope). */
static void test_binary_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0xb1a7};
	Shape sa = {3, {2, 3, 4}}, sb = {3, {1, 3, 1}}, sy = {3, {2, 3, 4}};
	for (int op = RT_ADD; op <= RT_PRELU; op++) {
		Probe pr = {.fwd = binary_fwd, .op = op, .ny = 24};
		pr.sh[0] = &sa;
		pr.sh[1] = &sb;
		pr.sh[2] = &sy;
		pr.in[0] = rand_buf(&rng, 24);
		pr.in[1] = rand_buf(&rng, 3);
		for (int k = 0; k < 3; k++) /* |b| in [1, 2) */
			pr.in[1][k] = pr.in[1][k] < 0 ? pr.in[1][k] - 1.0f : pr.in[1][k] + 1.0f;
		for (int k = 0; k < 24 && op == RT_PRELU; k++) /* no step crosses PRelu's kink */
			pr.in[0][k] += pr.in[0][k] < 0 ? -0.05f : 0.05f;
		float *r = rand_buf(&rng, 24), y[24], tmp[24], da[24], db[3];
		pr.r = r;
		pr.y = malloc(sizeof(float) * 24);
		binary_fwd(&pr, y);
		rt_binary_backward_ref((RtBinary)op, 0, &sa, pr.in[0], &sb, pr.in[1], &sy, y, r, tmp,
		                       da);
		rt_binary_backward_ref((RtBinary)op, 1, &sa, pr.in[0], &sb, pr.in[1], &sy, y, r, tmp,
		                       db);
		fd_against("binary da", &pr, pr.in[0], 24, 1e-2f, 2e-3, da, NULL);
		fd_against("binary db", &pr, pr.in[1], 3, 1e-2f, 2e-3, db, NULL);
		free(pr.in[0]);
		free(pr.in[1]);
		free(r);
		free(pr.y);
	}
}

/* ---- Softmax, LogSoftmax in the middle of a model ----------------------------------------- */

static void softmax_fwd(const Probe *pr, float *y)
{
	rt_softmax_ref(pr->in[0], y, pr->n, pr->c, pr->s, pr->op);
}

/* dx from the output, against finite differences, over the middle dim of [2][5][3]. */
static void test_softmax_backward_fd(void **state)
{
	(void)state;
	Rng rng = {0x50f7};
	for (int log = 0; log < 2; log++) {
		Probe pr = {.fwd = softmax_fwd, .n = 2, .c = 5, .s = 3, .op = log, .ny = 30};
		pr.in[0] = rand_buf(&rng, 30);
		float *r = rand_buf(&rng, 30), y[30], dx[30];
		pr.r = r;
		pr.y = malloc(sizeof(float) * 30);
		rt_softmax_ref(pr.in[0], y, 2, 5, 3, log);
		rt_softmax_backward_ref(y, r, dx, 2, 5, 3, log);
		fd_against(log ? "logsoftmax dx" : "softmax dx", &pr, pr.in[0], 30, 1e-2f, 2e-3, dx,
		           NULL);
		free(pr.in[0]);
		free(r);
		free(pr.y);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv_backward_fd),
		cmocka_unit_test(test_conv_backward_fast_vs_ref),
		cmocka_unit_test(test_conv_backward_fast_chunked),
		cmocka_unit_test(test_conv_backward_igemm_sweep),
		cmocka_unit_test(test_conv_backward_igemm_remainders),
		cmocka_unit_test(test_conv_backward_igemm_layers),
		cmocka_unit_test(test_gemm_backward_fd),
		cmocka_unit_test(test_gemm_backward_fast_vs_ref),
		cmocka_unit_test(test_matmul_backward_fd),
		cmocka_unit_test(test_matmul_backward_fast_vs_ref),
		cmocka_unit_test(test_unary_backward_fd),
		cmocka_unit_test(test_unary_backward_kinks),
		cmocka_unit_test(test_reduce_to_shape),
		cmocka_unit_test(test_maxpool_backward_fd),
		cmocka_unit_test(test_avgpool_backward_fd),
		cmocka_unit_test(test_global_pool_backward_fd),
		cmocka_unit_test(test_batchnorm_train_fd),
		cmocka_unit_test(test_batchnorm_frozen_fd),
		cmocka_unit_test(test_softmax_xent),
		cmocka_unit_test(test_distill_kl),
		cmocka_unit_test(test_unary_fast_vs_ref),
		cmocka_unit_test(test_maxpool_fast_vs_ref),
		cmocka_unit_test(test_batchnorm_fast_vs_ref),
		cmocka_unit_test(test_act_quant_fast),
		cmocka_unit_test(test_actq_fused_vs_unfused),
		cmocka_unit_test(test_concat_backward_fd),
		cmocka_unit_test(test_transpose_backward_fd),
		cmocka_unit_test(test_pad_backward_fd),
		cmocka_unit_test(test_binary_backward_fd),
		cmocka_unit_test(test_softmax_backward_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
