/* tests/unit/test_fast.c: the interpreter's fast paths (runtime/fast.h) against the
 * reference kernels: the indirect GEMM Conv and Gemm on every instruction set the CPU has
 * and with 1 and 2 threads (results must not depend on the thread count), the fused Relu,
 * the fast MaxPool (bit for bit), the thread pool, and rt_run's fusion and buffer reuse
 * (fast paths against the reference interpreter on a small CNN).
 *
 * Everything a test allocates is registered and freed by the teardown, so a failing
 * assertion (which longjmps out of the test) leaks nothing under ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "passes/passes.h"
#include "runtime/fast.h"

/* ---- per-test resources ------------------------------------------------------------------ */

static void *bufs[64];
static int nbufs;
static Graph *graph;
static RtIsa isa0; /* the instruction set chosen at start, restored after each test */

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < nbufs; i++)
		free(bufs[i]);
	nbufs = 0;
	ir_graph_free(graph);
	graph = NULL;
	rt_set_threads(0);
	rt_isa_set(isa0);
	return 0;
}

static void *keep(void *p)
{
	assert_true(nbufs < (int)countof(bufs));
	bufs[nbufs++] = p;
	return p;
}

/* Frees everything registered so far (between the cases of a sweep). */
static void release(void)
{
	for (int i = 0; i < nbufs; i++)
		free(bufs[i]);
	nbufs = 0;
}

/* xorshift64*: each test owns its generator, seeded with a fixed value. */
typedef struct {
	uint64_t s;
} Rng;

static uint64_t rng_next(Rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static int64_t rng_int(Rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static float rng_float(Rng *r)
{
	return (float)((double)(rng_next(r) >> 11) / (double)(1ULL << 53) * 2.0 - 1.0);
}

static float *rand_buf(Rng *r, int64_t n)
{
	float *p = keep(malloc((size_t)(n > 0 ? n : 1) * sizeof *p));
	for (int64_t i = 0; i < n; i++)
		p[i] = rng_float(r);
	return p;
}

static float *abs_copy(const float *x, int64_t n)
{
	float *p = keep(malloc((size_t)(n > 0 ? n : 1) * sizeof *p));
	for (int64_t i = 0; i < n; i++)
		p[i] = fabsf(x[i]);
	return p;
}

static float *nan_buf(int64_t n)
{
	float *p = keep(malloc((size_t)(n > 0 ? n : 1) * sizeof *p));
	for (int64_t i = 0; i < n; i++)
		p[i] = NAN; /* every output must be written */
	return p;
}

static void relu(float *y, int64_t n)
{
	rt_unary_ref(RT_RELU, 0, 0, y, y, n);
}

/* Fails unless |fast[i] - ref[i]| <= 1e-4 * bound[i] + 1e-6, where bound is the sum of
 * the absolute values of the terms (the kernel run on absolute values). A Relu after both
 * keeps the bound (it is 1-Lipschitz). */
static void check_bound(const char *what, const char *isa, int iter, const float *fast,
                        const float *ref, const float *bound, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (!(fabsf(fast[i] - ref[i]) <= 1e-4f * bound[i] + 1e-6f))
			fail_msg("%s [%s] (case %d) [%lld]: fast %.9g, ref %.9g, sum|terms| %.9g", what,
			         isa, iter, (long long)i, (double)fast[i], (double)ref[i],
			         (double)bound[i]);
}

/* The supported instruction sets, best last. */
static int isas(RtIsa *out)
{
	int n = 0;
	for (int i = 0; i < RT_ISA_COUNT; i++)
		if (rt_isa_supported((RtIsa)i))
			out[n++] = (RtIsa)i;
	return n;
}

/* ---- Conv -------------------------------------------------------------------------------- */

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

static int64_t conv_numel(const RtConv *p, int in)
{
	int64_t v = p->n * (in ? p->c : p->m);
	for (int i = 0; i < p->nsp; i++)
		v *= in ? p->in[i] : p->out[i];
	return v;
}

/* Fast (with act) against reference (+ Relu) on one configuration, on every instruction
 * set, with 1 and 2 threads; the two thread counts must agree bit for bit. */
static void conv_case(Rng *rng, const RtConv *p, int with_bias, RtAct act, int iter)
{
	int64_t nx = conv_numel(p, 1), ny = conv_numel(p, 0);
	int64_t nw = p->m * (p->c / p->group);
	for (int i = 0; i < p->nsp; i++)
		nw *= p->k[i];
	float *x = rand_buf(rng, nx), *w = rand_buf(rng, nw);
	float *b = with_bias ? rand_buf(rng, p->m) : NULL;
	float *yr = nan_buf(ny), *bound = nan_buf(ny);
	rt_conv_ref(p, x, w, b, yr);
	rt_conv_ref(p, abs_copy(x, nx), abs_copy(w, nw), b ? abs_copy(b, p->m) : NULL, bound);
	if (act == RT_ACT_RELU)
		relu(yr, ny);
	RtIsa set[RT_ISA_COUNT];
	int nset = isas(set);
	for (int s = 0; s < nset; s++) {
		rt_isa_set(set[s]);
		float *y1 = NULL;
		for (int th = 1; th <= 2; th++) {
			rt_set_threads(th);
			float *yf = nan_buf(ny);
			rt_conv_fast_act(p, x, w, b, yf, act);
			check_bound("conv", rt_isa_name(set[s]), iter, yf, yr, bound, ny);
			if (th == 1)
				y1 = yf;
			else if (memcmp(y1, yf, (size_t)ny * sizeof *yf))
				fail_msg("conv [%s] (case %d): 1 and 2 threads differ", rt_isa_name(set[s]),
				         iter);
		}
	}
}

/* Random configurations: 1-3 spatial dims, strides, dilations, asymmetric pads, groups,
 * channel counts around the micro-kernels' panel widths (16, 32) and pixel counts around
 * their tile heights (4, 6, 8), bias or not, Relu or not. */
static void test_conv_sweep(void **state)
{
	(void)state;
	Rng rng = {0x5eed0101};
	for (int it = 0; it < 120; it++) {
		int nsp = 1 + it % 3;
		int64_t n = rng_int(&rng, 1, 3);
		int64_t group = rng_int(&rng, 0, 3) == 0 ? rng_int(&rng, 2, 3) : 1;
		int64_t c = group * rng_int(&rng, 1, it % 4 == 0 ? 20 : 5);
		int64_t m = group * rng_int(&rng, 1, it % 5 == 0 ? 40 : 18);
		int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
		int64_t kmax = nsp == 3 ? 2 : nsp == 2 ? 3 : 5;
		for (int i = 0; i < nsp; i++) {
			k[i] = rng_int(&rng, 1, kmax);
			s[i] = rng_int(&rng, 1, 3);
			d[i] = rng_int(&rng, 1, 2);
			pb[i] = rng_int(&rng, 0, k[i] > 1 ? 2 : 0);
			pe[i] = rng_int(&rng, 0, k[i] > 1 ? 2 : 0);
			int64_t eff = d[i] * (k[i] - 1) + 1 - pb[i] - pe[i];
			in[i] = (eff > 1 ? eff : 1) + rng_int(&rng, 0, nsp == 3 ? 4 : nsp == 2 ? 9 : 30);
		}
		RtConv p = conv_params(nsp, n, c, m, group, in, k, s, d, pb, pe);
		conv_case(&rng, &p, (int)rng_int(&rng, 0, 1), it % 2 ? RT_ACT_RELU : RT_ACT_NONE, it);
		release();
	}
}

/* Layers of the fixtures' shape: big enough to run on several threads (the pool splits
 * work above 2^20 multiply-accumulates), and a 1x1 convolution. */
static void test_conv_layers(void **state)
{
	(void)state;
	Rng rng = {0x5eed0102};
	int64_t k3[2] = {3, 3}, k5[2] = {5, 5}, k1[2] = {1, 1}, s1[2] = {1, 1}, d1[2] = {1, 1};
	int64_t p1[2] = {1, 1}, p2[2] = {2, 2}, p0[2] = {0, 0};
	int64_t i28[2] = {28, 28}, i14[2] = {14, 14}, i7[2] = {7, 7}, i10[2] = {10, 10};
	RtConv cases[] = {
		conv_params(2, 3, 1, 32, 1, i28, k3, s1, d1, p1, p1),   /* VGG-7-small conv1 */
		conv_params(2, 2, 32, 32, 1, i28, k3, s1, d1, p1, p1),  /* conv2 */
		conv_params(2, 3, 64, 128, 1, i7, k3, s1, d1, p1, p1),  /* conv5 */
		conv_params(2, 5, 1, 6, 1, i28, k5, s1, d1, p2, p2),    /* LeNet-5 conv1 */
		conv_params(2, 9, 6, 16, 1, i14, k5, s1, d1, p0, p0),   /* conv2 */
		conv_params(2, 4, 24, 40, 1, i10, k1, s1, d1, p0, p0),  /* pointwise */
	};
	for (int i = 0; i < (int)countof(cases); i++) {
		conv_case(&rng, &cases[i], i != 2, i % 2 ? RT_ACT_NONE : RT_ACT_RELU, i);
		release();
	}
}

/* ---- Gemm -------------------------------------------------------------------------------- */

static void test_gemm_sweep(void **state)
{
	(void)state;
	Rng rng = {0x5eed0103};
	RtIsa set[RT_ISA_COUNT];
	int nset = isas(set);
	for (int it = 0; it < 160; it++) {
		int big = it % 16 == 3;
		RtGemm p = {.m = rng_int(&rng, 1, big ? 130 : 37), .n = rng_int(&rng, 1, big ? 90 : 70),
		            .k = it % 40 == 7 ? 0 : rng_int(&rng, 1, big ? 400 : 70),
		            .trans_a = it & 1, .trans_b = (it >> 1) & 1,
		            .alpha = it % 3 ? rng_float(&rng) * 2 : 1.0f,
		            .beta = it % 5 ? rng_float(&rng) * 2 : 1.0f};
		int ckind = (it >> 2) % 5;
		int64_t nc = 0;
		switch (ckind) {
		case 1: p.c_rs = 0, p.c_cs = 0, nc = 1; break;
		case 2: p.c_rs = 0, p.c_cs = 1, nc = p.n; break;
		case 3: p.c_rs = 1, p.c_cs = 0, nc = p.m; break;
		case 4: p.c_rs = p.n, p.c_cs = 1, nc = p.m * p.n; break;
		}
		RtAct act = (it >> 3) & 1 ? RT_ACT_RELU : RT_ACT_NONE;
		int64_t na = p.m * p.k, nb = p.k * p.n, ny = p.m * p.n;
		float *a = rand_buf(&rng, na), *b = rand_buf(&rng, nb);
		float *c = ckind ? rand_buf(&rng, nc) : NULL;
		float *yr = nan_buf(ny), *bound = nan_buf(ny);
		rt_gemm_ref(&p, a, b, c, yr);
		if (act == RT_ACT_RELU)
			relu(yr, ny);
		RtGemm pa = p;
		pa.alpha = fabsf(p.alpha);
		pa.beta = fabsf(p.beta);
		rt_gemm_ref(&pa, abs_copy(a, na), abs_copy(b, nb), c ? abs_copy(c, nc) : NULL, bound);
		for (int s = 0; s < nset; s++) {
			rt_isa_set(set[s]);
			float *y1 = NULL;
			for (int th = 1; th <= 2; th++) {
				rt_set_threads(th);
				float *yf = nan_buf(ny);
				rt_gemm_fast_act(&p, a, b, c, yf, act);
				check_bound("gemm", rt_isa_name(set[s]), it, yf, yr, bound, ny);
				if (th == 1)
					y1 = yf;
				else if (memcmp(y1, yf, (size_t)ny * sizeof *yf))
					fail_msg("gemm [%s] (case %d): 1 and 2 threads differ",
					         rt_isa_name(set[s]), it);
			}
		}
		release();
	}
}

/* ---- MaxPool ----------------------------------------------------------------------------- */

static void pool_case(Rng *rng, const RtPool *p, int iter)
{
	int64_t nx = p->n * p->c, ny = p->n * p->c;
	for (int i = 0; i < p->nsp; i++) {
		nx *= p->in[i];
		ny *= p->out[i];
	}
	float *x = rand_buf(rng, nx);
	/* ties between +0 and -0, equal values and NaNs: the order of comparisons shows */
	for (int64_t i = 0; i < nx; i++) {
		int64_t r = rng_int(rng, 0, 19);
		if (r == 0)
			x[i] = NAN;
		else if (r <= 2)
			x[i] = r == 1 ? 0.0f : -0.0f;
		else if (r <= 4)
			x[i] = 0.5f;
	}
	float *yr = nan_buf(ny), *yf = nan_buf(ny);
	rt_maxpool_ref(p, x, yr, NULL);
	for (int th = 1; th <= 2; th++) {
		rt_set_threads(th);
		rt_maxpool_fast(p, x, yf);
		if (memcmp(yr, yf, (size_t)ny * sizeof *yf))
			fail_msg("maxpool (case %d, %d threads): fast differs from the reference", iter,
			         th);
	}
}

/* 1-D and 2-D pools whose windows fit (the fast loops, 2x2/2 included) and others (padding,
 * dilation, 3-D: the reference); sizes from tiny to several threads' worth. */
static void test_maxpool_fast(void **state)
{
	(void)state;
	Rng rng = {0x5eed0104};
	for (int it = 0; it < 120; it++) {
		RtPool p = {.nsp = 1 + it % 3, .n = rng_int(&rng, 1, 3), .c = rng_int(&rng, 1, 9)};
		if (it % 10 == 0)
			p.c = 300;
		int fits = it % 4 != 0;
		for (int i = 0; i < p.nsp; i++) {
			p.k[i] = it % 3 == 1 ? 2 : rng_int(&rng, 1, 3);
			p.stride[i] = it % 3 == 1 ? 2 : rng_int(&rng, 1, 3);
			p.dil[i] = fits ? 1 : rng_int(&rng, 1, 2);
			p.pad_begin[i] = fits ? 0 : rng_int(&rng, 0, p.k[i] - 1);
			p.pad_end[i] = fits ? 0 : rng_int(&rng, 0, p.k[i] - 1);
			p.in[i] = p.dil[i] * (p.k[i] - 1) + 1 + rng_int(&rng, 0, p.nsp == 3 ? 3 : 12);
			p.out[i] = (p.in[i] + p.pad_begin[i] + p.pad_end[i] - p.dil[i] * (p.k[i] - 1) - 1) /
			           p.stride[i] + 1;
		}
		pool_case(&rng, &p, it);
		release();
	}
}

/* ---- thread pool ------------------------------------------------------------------------- */

typedef struct {
	int hits[8];
	int nth_seen[8];
	int nested_nth;
} PoolProbe;

static void nested_task(void *ctx, int tid, int nth)
{
	PoolProbe *pp = ctx;
	(void)tid;
	pp->nested_nth = nth;
}

static void probe_task(void *ctx, int tid, int nth)
{
	PoolProbe *pp = ctx;
	pp->hits[tid]++;
	pp->nth_seen[tid] = nth;
	if (tid == 0)
		rt_parallel(nested_task, pp, 8); /* nested: runs here, alone */
}

static void test_parallel(void **state)
{
	(void)state;
	for (int th = 1; th <= 4; th++) {
		rt_set_threads(th);
		assert_int_equal(rt_threads(), th);
		for (int cap = 1; cap <= 5; cap++) {
			PoolProbe pp = {{0}, {0}, 0};
			rt_parallel(probe_task, &pp, cap);
			int want = th < cap ? th : cap;
			for (int t = 0; t < 8; t++) {
				assert_int_equal(pp.hits[t], t < want ? 1 : 0);
				if (t < want)
					assert_int_equal(pp.nth_seen[t], want);
			}
			assert_int_equal(pp.nested_nth, 1);
		}
	}
	rt_set_threads(0);
	assert_true(rt_threads() >= 1);
}

/* A child of fork() (after the pool has started workers) runs parallel regions on a pool of
 * its own instead of waiting for workers it does not have. */
static void test_parallel_fork(void **state)
{
	(void)state;
	rt_set_threads(2);
	PoolProbe pp = {{0}, {0}, 0};
	rt_parallel(probe_task, &pp, 2);
	assert_int_equal(pp.hits[1], 1);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(20); /* a deadlock ends here */
		PoolProbe cp = {{0}, {0}, 0};
		rt_parallel(probe_task, &cp, 2);
		_exit(cp.hits[0] == 1 && cp.hits[1] == 1 ? 0 : 3);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- the interpreter: fusion and buffer reuse ---------------------------------------------- */

/* Conv+Relu and Gemm+Relu pairs that fuse, a Conv whose result is also a graph output (no
 * fusion: the output must be the Conv's, before the Relu), MaxPool, Flatten. */
static const char *cnn_ir =
	"graph @cnn opset 13 {\n"
	"  input %x: f32[3,2,9,9]\n"
	"  const %w1: f32[8,2,3,3] = dense<144 elements>\n"
	"  const %b1: f32[8] = dense<8 elements>\n"
	"  const %w2: f32[4,8,3,3] = dense<288 elements>\n"
	"  const %w3: f32[6,16] = dense<96 elements>\n"
	"  const %b3: f32[6] = dense<6 elements>\n"
	"  const %w4: f32[6,5] = dense<30 elements>\n"
	"  %c1: f32[?] = Conv(%x, %w1, %b1) {pads=[1,1,1,1]} @\"c1\"\n"
	"  %r1: f32[?] = Relu(%c1) @\"r1\"\n"
	"  %p1: f32[?] = MaxPool(%r1) {kernel_shape=[2,2], strides=[2,2]} @\"p1\"\n"
	"  %c2: f32[?] = Conv(%p1, %w2) @\"c2\"\n"
	"  %r2: f32[?] = Relu(%c2) @\"r2\"\n"
	"  %f: f32[?] = Flatten(%r2) {axis=1} @\"f\"\n"
	"  %g1: f32[?] = Gemm(%f, %w3, %b3) {transB=1} @\"g1\"\n"
	"  %r3: f32[?] = Relu(%g1) @\"r3\"\n"
	"  %g2: f32[?] = Gemm(%r3, %w4) @\"g2\"\n"
	"  output %g2\n"
	"  output %c2\n"
	"}\n";

static void run_graph(const Graph *g, const float *x, int fast, void **outs)
{
	Diag d;
	diag_init(&d, "cnn.ir");
	d.out = NULL;
	const void *ins[1] = {x};
	RtOptions ro = {.use_fast = fast};
	int rc = rt_run(g, ins, outs, &ro, &d);
	for (int i = 0; i < g->noutputs; i++)
		if (outs[i])
			keep(outs[i]);
	if (rc)
		fail_msg("rt_run failed: %s", d.last);
}

static void test_interp_fusion(void **state)
{
	(void)state;
	Diag d;
	diag_init(&d, "cnn.ir");
	d.out = NULL;
	graph = ir_parse(cnn_ir, &d);
	if (!graph)
		fail_msg("parse: %s", d.last);
	PipelineOptions po = {0};
	if (pass_run_pipeline(graph, NULL, &po, &d))
		fail_msg("pipeline: %s", d.last);
	assert_int_equal(graph->noutputs, 2);
	int64_t ng2 = ir_shape_numel(&graph->values[graph->outputs[0]].shape);
	int64_t nc2 = ir_shape_numel(&graph->values[graph->outputs[1]].shape);
	assert_int_equal(ng2, 3 * 5);
	assert_int_equal(nc2, 3 * 4 * 2 * 2);
	Rng rng = {0x5eed0105};
	float *x = rand_buf(&rng, 3 * 2 * 9 * 9);
	void *ref[2], *fast[2], *again[2];
	run_graph(graph, x, 0, ref);
	int negatives = 0;
	for (int64_t i = 0; i < nc2; i++)
		negatives += ((float *)ref[1])[i] < 0;
	assert_true(negatives > 0); /* c2 is the Conv's result, not the Relu's */
	for (int th = 1; th <= 2; th++) {
		rt_set_threads(th);
		run_graph(graph, x, 1, fast);
		run_graph(graph, x, 1, again); /* buffers kept from the last run */
		for (int o = 0; o < 2; o++) {
			int64_t n = o ? nc2 : ng2;
			const float *r = ref[o], *f = fast[o];
			float mx = 0;
			for (int64_t i = 0; i < n; i++)
				mx = fabsf(r[i]) > mx ? fabsf(r[i]) : mx;
			for (int64_t i = 0; i < n; i++)
				if (!(fabsf(f[i] - r[i]) <= 1e-5f * mx + 1e-6f))
					fail_msg("output %d [%lld]: fast %.9g, reference %.9g", o, (long long)i,
					         (double)f[i], (double)r[i]);
			assert_memory_equal(fast[o], again[o], (size_t)n * sizeof(float));
		}
	}
}

int main(void)
{
	isa0 = rt_isa_get();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_conv_sweep, teardown),
		cmocka_unit_test_teardown(test_conv_layers, teardown),
		cmocka_unit_test_teardown(test_gemm_sweep, teardown),
		cmocka_unit_test_teardown(test_maxpool_fast, teardown),
		cmocka_unit_test_teardown(test_parallel, teardown),
		cmocka_unit_test_teardown(test_parallel_fork, teardown),
		cmocka_unit_test_teardown(test_interp_fusion, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
