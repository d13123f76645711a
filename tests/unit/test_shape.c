/* tests/unit/test_shape.c: shape and dtype inference, attribute canonicalization and the
 * user errors of passes/shape.c, one small graph per case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* The graph and diagnostics of the running test (setup/teardown make and free them). */
static Graph *G;
static Diag D;

static int setup(void **state)
{
	(void)state;
	G = ir_graph_new("t");
	diag_init(&D, "t.onnx");
	D.out = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ir_graph_free(G);
	G = NULL;
	return 0;
}

/* ---- graph building helpers ---- */

static Shape mk(const int64_t *d, int r)
{
	Shape s = {.rank = r};
	for (int i = 0; i < r; i++)
		s.d[i] = d[i];
	return s;
}
#define I64S(...) ((const int64_t[]){__VA_ARGS__})
#define NARGS(...) ((int)(sizeof(I64S(__VA_ARGS__)) / sizeof(int64_t)))
#define SH(...) mk(I64S(__VA_ARGS__), NARGS(__VA_ARGS__))
static const Shape SCALAR = {.rank = 0};
static const Shape UNKNOWN = {.rank = -1};

/* A graph input fed at run time. */
static int input(DType t, Shape s)
{
	int v = ir_value_add(G, NULL, t, &s);
	G->values[v].is_input = 1;
	G->inputs = xrealloc(G->inputs, sizeof(int) * (size_t)(G->ninputs + 1));
	G->inputs[G->ninputs++] = v;
	return v;
}

/* A constant with zeroed contents. */
static int czero(DType t, Shape s)
{
	size_t n = (size_t)ir_shape_numel(&s);
	return ir_const_add(G, NULL, t, &s, xcalloc(n ? n : 1, ir_dtype_size(t)));
}

/* A 1-D i64 constant of n values. */
static int ci64_(const int64_t *v, int n)
{
	int64_t *p = xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	memcpy(p, v, sizeof(int64_t) * (size_t)n);
	Shape s = {.rank = 1, .d = {n}};
	return ir_const_add(G, NULL, DT_INT64, &s, p);
}
#define CI64(...) ci64_(I64S(__VA_ARGS__), NARGS(__VA_ARGS__))

static int ci64_scalar(int64_t v)
{
	int64_t *p = xmalloc(sizeof *p);
	*p = v;
	return ir_const_add(G, NULL, DT_INT64, &SCALAR, p);
}

/* A node with nout fresh results of unknown type. */
static int node_(Op op, int nout, const int *in, int nin)
{
	int out[4];
	for (int i = 0; i < nout; i++)
		out[i] = ir_value_add(G, NULL, DT_UNDEF, NULL);
	return ir_node_add(G, op, NULL, in, nin, out, nout);
}
#define NODE(op, nout, ...) \
	node_(op, nout, (const int[]){__VA_ARGS__}, (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)))

static Value *res(int n, int i)
{
	return &G->values[G->nodes[n].out[i]];
}

static const Node *nd(int n)
{
	return &G->nodes[n];
}

/* ---- assertions ---- */

static void expect_shape_(int n, int i, Shape want, DType t, const char *file, int line)
{
	const Value *v = res(n, i);
	char a[128], b[128];
	ir_shape_str(&v->shape, a, sizeof a);
	ir_shape_str(&want, b, sizeof b);
	if (!ir_shape_eq(&v->shape, &want) || v->dtype != t) {
		print_error("%s:%d: result %d is %s%s, expected %s%s (diag: %s)\n", file, line, i,
		            ir_dtype_name(v->dtype), a, ir_dtype_name(t), b, D.last);
		fail();
	}
}
/* Runs shape_node (must return 0), then checks result i. */
static void expect_(int n, int i, DType t, Shape want, const char *file, int line)
{
	int r = shape_node(G, n, &D);
	if (r != 0) {
		print_error("%s:%d: shape_node returned %d (diag: %s)\n", file, line, r, D.last);
		fail();
	}
	expect_shape_(n, i, want, t, file, line);
}
#define EXPECT(n, i, t, sh) expect_((n), (i), (t), (sh), __FILE__, __LINE__)
#define CHECK(n, i, t, sh) expect_shape_((n), (i), (sh), (t), __FILE__, __LINE__)

/* shape_node must fail with a message containing `words`. */
static void expect_err_(int n, const char *words, const char *file, int line)
{
	int r = shape_node(G, n, &D);
	if (r != -1 || !strstr(D.last, words)) {
		print_error("%s:%d: shape_node returned %d, message \"%s\" (expected -1 and \"%s\")\n",
		            file, line, r, D.last, words);
		fail();
	}
}
#define EXPECT_ERR(n, words) expect_err_((n), (words), __FILE__, __LINE__)

static void expect_ints_(int n, const char *name, const int64_t *want, int k)
{
	int64_t got[16];
	int c = ir_attr_ints(nd(n), name, got, 16);
	assert_int_equal(c, k);
	for (int i = 0; i < k; i++)
		assert_int_equal(got[i], want[i]);
}
#define EXPECT_INTS(n, name, ...) expect_ints_((n), (name), I64S(__VA_ARGS__), NARGS(__VA_ARGS__))

static void expect_i(int n, const char *name, int64_t want)
{
	const Attr *a = ir_attr_get(nd(n), name);
	assert_non_null(a);
	assert_int_equal(a->kind, AT_INT);
	assert_int_equal(a->i, want);
}

/* ---- Conv ---- */

static void conv_basic(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 3, 32, 32));
	int n = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(8, 3, 5, 5)), czero(DT_FLOAT, SH(8)));
	EXPECT(n, 0, DT_FLOAT, SH(1, 8, 28, 28));
	EXPECT_INTS(n, "kernel_shape", 5, 5);
	EXPECT_INTS(n, "strides", 1, 1);
	EXPECT_INTS(n, "dilations", 1, 1);
	EXPECT_INTS(n, "pads", 0, 0, 0, 0);
	expect_i(n, "group", 1);
	assert_string_equal(ir_attr_s(nd(n), "auto_pad", "?"), "NOTSET");
}

static void conv_same_upper_stride2_odd(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 1, 7, 5));
	int n = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(2, 1, 2, 2)));
	ir_attr_set_s(G, n, "auto_pad", "SAME_UPPER");
	ir_attr_set_ints(G, n, "strides", I64S(2, 2), 2);
	/* H: out ceil(7/2)=4, total pad (4-1)*2+2-7=1; W: out 3, total (3-1)*2+2-5=1 */
	EXPECT(n, 0, DT_FLOAT, SH(1, 2, 4, 3));
	EXPECT_INTS(n, "pads", 0, 0, 1, 1);
	assert_string_equal(ir_attr_s(nd(n), "auto_pad", "?"), "NOTSET");
	/* idempotent: the canonical form re-infers to the same result */
	EXPECT(n, 0, DT_FLOAT, SH(1, 2, 4, 3));
	EXPECT_INTS(n, "pads", 0, 0, 1, 1);
}

static void conv_same_lower_and_valid(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 1, 9, 9));
	int w = czero(DT_FLOAT, SH(1, 1, 4, 4));
	int lo = NODE(OP_CONV, 1, x, w);
	ir_attr_set_s(G, lo, "auto_pad", "SAME_LOWER");
	ir_attr_set_ints(G, lo, "strides", I64S(2, 2), 2);
	/* out 5, total (5-1)*2+4-9=3: lower puts 2 at the beginning */
	EXPECT(lo, 0, DT_FLOAT, SH(1, 1, 5, 5));
	EXPECT_INTS(lo, "pads", 2, 2, 1, 1);
	int va = NODE(OP_CONV, 1, x, w);
	ir_attr_set_s(G, va, "auto_pad", "VALID");
	ir_attr_set_ints(G, va, "strides", I64S(2, 2), 2);
	ir_attr_set_ints(G, va, "pads", I64S(3, 3, 3, 3), 4); /* ignored with VALID */
	EXPECT(va, 0, DT_FLOAT, SH(1, 1, 3, 3));
	EXPECT_INTS(va, "pads", 0, 0, 0, 0);
	/* SAME with stride 1 and an even kernel: upper puts the odd unit at the end */
	int up = NODE(OP_CONV, 1, x, w);
	ir_attr_set_s(G, up, "auto_pad", "SAME_UPPER");
	EXPECT(up, 0, DT_FLOAT, SH(1, 1, 9, 9));
	EXPECT_INTS(up, "pads", 1, 1, 2, 2);
}

static void conv_1d_dilated(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 4, 10));
	int n = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(6, 4, 3)));
	ir_attr_set_ints(G, n, "dilations", I64S(2), 1);
	ir_attr_set_ints(G, n, "pads", I64S(1, 1), 2);
	/* (10 + 2 - 5) / 1 + 1 = 8 */
	EXPECT(n, 0, DT_FLOAT, SH(2, 6, 8));
	EXPECT_INTS(n, "kernel_shape", 3);
	EXPECT_INTS(n, "dilations", 2);
	EXPECT_INTS(n, "strides", 1);
}

static void conv_3d(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 2, 5, 6, 7));
	int n = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(4, 2, 3, 3, 3)));
	ir_attr_set_ints(G, n, "strides", I64S(1, 2, 2), 3);
	ir_attr_set_ints(G, n, "pads", I64S(1, 1, 1, 1, 1, 1), 6);
	ir_attr_set_ints(G, n, "kernel_shape", I64S(3, 3, 3), 3);
	/* D (5+2-3)/1+1=5, H floor((6+2-3)/2)+1=3, W (7+2-3)/2+1=4 */
	EXPECT(n, 0, DT_FLOAT, SH(1, 4, 5, 3, 4));
	EXPECT_INTS(n, "pads", 1, 1, 1, 1, 1, 1);
}

static void conv_group(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 8, 10, 10));
	int n = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(16, 2, 3, 3)), czero(DT_FLOAT, SH(16)));
	ir_attr_set_i(G, n, "group", 4);
	EXPECT(n, 0, DT_FLOAT, SH(1, 16, 8, 8));
	expect_i(n, "group", 4);
	/* depthwise */
	int dw = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(8, 1, 3, 3)));
	ir_attr_set_i(G, dw, "group", 8);
	ir_attr_set_ints(G, dw, "pads", I64S(1, 1, 1, 1), 4);
	EXPECT(dw, 0, DT_FLOAT, SH(1, 8, 10, 10));
}

static void conv_errors(void **state)
{
	(void)state;
	int x4 = input(DT_FLOAT, SH(1, 3, 8, 8));
	int x2 = input(DT_FLOAT, SH(1, 3));
	int w = czero(DT_FLOAT, SH(4, 3, 3, 3));
	EXPECT_ERR(NODE(OP_CONV, 1, x2, w), "Conv expects a 4-D input for a 2-D kernel, got rank 2");
	EXPECT_ERR(NODE(OP_CONV, 1, x4, czero(DT_FLOAT, SH(4, 3))), "rank mismatch");
	EXPECT_ERR(NODE(OP_CONV, 1, x4, czero(DT_FLOAT, SH(4, 2, 3, 3))), "channel mismatch");
	int g = NODE(OP_CONV, 1, x4, czero(DT_FLOAT, SH(4, 1, 3, 3)));
	ir_attr_set_i(G, g, "group", 3); /* 4 output channels, group 3 */
	EXPECT_ERR(g, "not divisible by group 3");
	int ks = NODE(OP_CONV, 1, x4, w);
	ir_attr_set_ints(G, ks, "kernel_shape", I64S(5, 5), 2);
	EXPECT_ERR(ks, "kernel_shape disagrees with the weight's kernel [3,3]");
	EXPECT_ERR(NODE(OP_CONV, 1, x4, w, czero(DT_FLOAT, SH(5))), "Conv bias has shape [5]");
	EXPECT_ERR(NODE(OP_CONV, 1, x4, czero(DT_FLOAT, SH(4, 3, 9, 9))),
	           "larger than the padded input");
	int ap = NODE(OP_CONV, 1, x4, w);
	ir_attr_set_s(G, ap, "auto_pad", "SAME");
	EXPECT_ERR(ap, "auto_pad \"SAME\" is not supported");
	int np = NODE(OP_CONV, 1, x4, w);
	ir_attr_set_ints(G, np, "pads", I64S(0, -1, 0, 0), 4);
	EXPECT_ERR(np, "pads[1]=-1 is not supported");
	int st = NODE(OP_CONV, 1, x4, w);
	ir_attr_set_ints(G, st, "strides", I64S(1, 1, 1), 3);
	EXPECT_ERR(st, "strides has 3 values, expected 2");
	int xi = input(DT_INT64, SH(1, 3, 8, 8));
	EXPECT_ERR(NODE(OP_CONV, 1, xi, w), "unsupported dtype i64 for Conv (supported: f32)");
	int x6 = input(DT_FLOAT, SH(1, 1, 2, 2, 2, 2));
	EXPECT_ERR(NODE(OP_CONV, 1, x6, czero(DT_FLOAT, SH(1, 1, 1, 1, 1, 1))),
	           "4 spatial dims is not supported");
}

/* ---- pools ---- */

static void maxpool_ceil_mode(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 2, 6, 6));
	int fl = NODE(OP_MAXPOOL, 2, x);
	ir_attr_set_ints(G, fl, "kernel_shape", I64S(3, 3), 2);
	ir_attr_set_ints(G, fl, "strides", I64S(2, 2), 2);
	EXPECT(fl, 0, DT_FLOAT, SH(1, 2, 2, 2));
	CHECK(fl, 1, DT_INT64, SH(1, 2, 2, 2));
	expect_i(fl, "ceil_mode", 0);
	expect_i(fl, "storage_order", 0);
	EXPECT_INTS(fl, "dilations", 1, 1);
	EXPECT_INTS(fl, "pads", 0, 0, 0, 0);
	int ce = NODE(OP_MAXPOOL, 1, x);
	ir_attr_set_ints(G, ce, "kernel_shape", I64S(3, 3), 2);
	ir_attr_set_ints(G, ce, "strides", I64S(2, 2), 2);
	ir_attr_set_i(G, ce, "ceil_mode", 1);
	/* ceil((6-3)/2)+1 = 3 */
	EXPECT(ce, 0, DT_FLOAT, SH(1, 2, 3, 3));
	expect_i(ce, "ceil_mode", 1);
	/* the last window would start in the right padding: dropped (5+1+1-2 = 5, ceil(5/2)+1
	 * = 4, but (4-1)*2 = 6 >= 5+1) */
	int x5 = input(DT_FLOAT, SH(1, 1, 5, 5));
	int dr = NODE(OP_MAXPOOL, 1, x5);
	ir_attr_set_ints(G, dr, "kernel_shape", I64S(2, 2), 2);
	ir_attr_set_ints(G, dr, "strides", I64S(2, 2), 2);
	ir_attr_set_ints(G, dr, "pads", I64S(1, 1, 1, 1), 4);
	ir_attr_set_i(G, dr, "ceil_mode", 1);
	EXPECT(dr, 0, DT_FLOAT, SH(1, 1, 3, 3));
	/* the drop applies in ceil mode even without rounding: 4+2-1 = 5, (6-1)*1 >= 4+0 */
	int x4 = input(DT_FLOAT, SH(1, 1, 4));
	int ex = NODE(OP_MAXPOOL, 1, x4);
	ir_attr_set_ints(G, ex, "kernel_shape", I64S(1), 1);
	ir_attr_set_ints(G, ex, "pads", I64S(0, 2), 2);
	ir_attr_set_i(G, ex, "ceil_mode", 1);
	EXPECT(ex, 0, DT_FLOAT, SH(1, 1, 5));
	ir_attr_set_i(G, ex, "ceil_mode", 0);
	EXPECT(ex, 0, DT_FLOAT, SH(1, 1, 6));
}

static void pool_auto_pad_resets_ceil(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 1, 6, 7));
	int va = NODE(OP_AVERAGEPOOL, 1, x);
	ir_attr_set_ints(G, va, "kernel_shape", I64S(3, 3), 2);
	ir_attr_set_ints(G, va, "strides", I64S(2, 2), 2);
	ir_attr_set_s(G, va, "auto_pad", "VALID");
	ir_attr_set_i(G, va, "ceil_mode", 1);
	/* VALID: ceil((6-3+1)/2)=2, ceil((7-3+1)/2)=3 */
	EXPECT(va, 0, DT_FLOAT, SH(1, 1, 2, 3));
	expect_i(va, "ceil_mode", 0);
	expect_i(va, "count_include_pad", 0);
	EXPECT(va, 0, DT_FLOAT, SH(1, 1, 2, 3));
	int su = NODE(OP_AVERAGEPOOL, 1, x);
	ir_attr_set_ints(G, su, "kernel_shape", I64S(2, 2), 2);
	ir_attr_set_ints(G, su, "strides", I64S(2, 2), 2);
	ir_attr_set_s(G, su, "auto_pad", "SAME_UPPER");
	ir_attr_set_i(G, su, "ceil_mode", 1);
	ir_attr_set_i(G, su, "count_include_pad", 7);
	EXPECT(su, 0, DT_FLOAT, SH(1, 1, 3, 4));
	EXPECT_INTS(su, "pads", 0, 0, 0, 1);
	expect_i(su, "count_include_pad", 1);
	EXPECT(su, 0, DT_FLOAT, SH(1, 1, 3, 4));
}

static void pool_1d_and_errors(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 9));
	int p = NODE(OP_AVERAGEPOOL, 1, x);
	ir_attr_set_ints(G, p, "kernel_shape", I64S(3), 1);
	ir_attr_set_ints(G, p, "dilations", I64S(2), 1);
	EXPECT(p, 0, DT_FLOAT, SH(2, 3, 5));
	EXPECT_ERR(NODE(OP_MAXPOOL, 1, x), "requires a kernel_shape");
	int k = NODE(OP_MAXPOOL, 1, x);
	ir_attr_set_ints(G, k, "kernel_shape", I64S(2, 2), 2);
	EXPECT_ERR(k, "rank mismatch: MaxPool kernel_shape has 2 values, expected 1");
	int big = NODE(OP_MAXPOOL, 1, x);
	ir_attr_set_ints(G, big, "kernel_shape", I64S(10), 1);
	EXPECT_ERR(big, "larger than the padded input");
	int so = NODE(OP_MAXPOOL, 1, x);
	ir_attr_set_ints(G, so, "kernel_shape", I64S(2), 1);
	ir_attr_set_i(G, so, "storage_order", 2);
	EXPECT_ERR(so, "storage_order=2 is not supported");
	EXPECT_ERR(NODE(OP_MAXPOOL, 1, input(DT_FLOAT, SH(2, 3))), "rank mismatch");
	int em = NODE(OP_MAXPOOL, 1, input(DT_FLOAT, SH(1, 1, 0)));
	ir_attr_set_ints(G, em, "kernel_shape", I64S(1), 1);
	ir_attr_set_ints(G, em, "pads", I64S(0, 1), 2);
	ir_attr_set_i(G, em, "ceil_mode", 1);
	EXPECT_ERR(em, "output dim < 1");
	int xd = input(DT_DOUBLE, SH(1, 1, 4, 4));
	int pd = NODE(OP_MAXPOOL, 1, xd);
	ir_attr_set_ints(G, pd, "kernel_shape", I64S(2, 2), 2);
	EXPECT_ERR(pd, "unsupported dtype f64 for MaxPool (supported: f32)");
}

static void global_pools(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 5, 7, 3));
	EXPECT(NODE(OP_GLOBALAVERAGEPOOL, 1, x), 0, DT_FLOAT, SH(2, 5, 1, 1));
	EXPECT(NODE(OP_GLOBALMAXPOOL, 1, input(DT_FLOAT, SH(2, 5, 4, 4, 4))), 0, DT_FLOAT,
	       SH(2, 5, 1, 1, 1));
	EXPECT_ERR(NODE(OP_GLOBALMAXPOOL, 1, input(DT_FLOAT, SH(5))), "rank mismatch");
	/* over no values: refused (it gave 0); an empty batch or channel count is fine */
	EXPECT_ERR(NODE(OP_GLOBALAVERAGEPOOL, 1, input(DT_FLOAT, SH(1, 3, 0, 0))),
	           "GlobalAveragePool over an empty spatial extent (input [1,3,0,0])");
	EXPECT_ERR(NODE(OP_GLOBALMAXPOOL, 1, input(DT_FLOAT, SH(1, 3, 4, 0))), "empty spatial");
	EXPECT(NODE(OP_GLOBALAVERAGEPOOL, 1, input(DT_FLOAT, SH(0, 3, 0, 0))), 0, DT_FLOAT,
	       SH(0, 3, 1, 1));
}

/* ---- Gemm, MatMul ---- */

static void gemm_transposes(void **state)
{
	(void)state;
	int a = input(DT_FLOAT, SH(10, 4));
	int n = NODE(OP_GEMM, 1, a, czero(DT_FLOAT, SH(5, 10)), czero(DT_FLOAT, SH(5)));
	ir_attr_set_i(G, n, "transA", 1);
	ir_attr_set_i(G, n, "transB", 1);
	EXPECT(n, 0, DT_FLOAT, SH(4, 5));
	expect_i(n, "transA", 1);
	expect_i(n, "transB", 1);
	const Attr *al = ir_attr_get(nd(n), "alpha"), *be = ir_attr_get(nd(n), "beta");
	assert_non_null(al);
	assert_non_null(be);
	assert_true(al->kind == AT_FLOAT && al->f == 1.0f);
	assert_true(be->kind == AT_FLOAT && be->f == 1.0f);
	/* plain, C of shape [4,1] and no C */
	int p = NODE(OP_GEMM, 1, input(DT_FLOAT, SH(4, 10)), czero(DT_FLOAT, SH(10, 5)),
	             czero(DT_FLOAT, SH(4, 1)));
	ir_attr_set_f(G, p, "alpha", 0.5f);
	EXPECT(p, 0, DT_FLOAT, SH(4, 5));
	assert_true(ir_attr_f(nd(p), "alpha", 0) == 0.5f);
	expect_i(p, "transA", 0);
	EXPECT(NODE(OP_GEMM, 1, input(DT_FLOAT, SH(4, 10)), czero(DT_FLOAT, SH(10, 5))), 0, DT_FLOAT,
	       SH(4, 5));
}

static void gemm_errors(void **state)
{
	(void)state;
	int a = input(DT_FLOAT, SH(1, 10));
	EXPECT_ERR(NODE(OP_GEMM, 1, a, czero(DT_FLOAT, SH(20, 5))),
	           "shape mismatch: A is 1x10, B is 20x5 (K differs)");
	EXPECT_ERR(NODE(OP_GEMM, 1, a, czero(DT_FLOAT, SH(10, 5)), czero(DT_FLOAT, SH(3))),
	           "C [3] cannot be broadcast to [1,5]");
	EXPECT_ERR(NODE(OP_GEMM, 1, input(DT_FLOAT, SH(10)), czero(DT_FLOAT, SH(10, 5))),
	           "rank mismatch");
}

static void matmul_shapes(void **state)
{
	(void)state;
	EXPECT(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(3)), czero(DT_FLOAT, SH(3, 4))), 0, DT_FLOAT,
	       SH(4));
	EXPECT(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(2, 3, 4)), czero(DT_FLOAT, SH(4))), 0, DT_FLOAT,
	       SH(2, 3));
	EXPECT(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(3)), czero(DT_FLOAT, SH(3))), 0, DT_FLOAT,
	       SCALAR);
	EXPECT(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(2, 1, 3, 4)), input(DT_FLOAT, SH(5, 4, 6))), 0,
	       DT_FLOAT, SH(2, 5, 3, 6));
	EXPECT(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(7, 3)), czero(DT_FLOAT, SH(3, 2))), 0, DT_FLOAT,
	       SH(7, 2));
	EXPECT_ERR(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(2, 3)), czero(DT_FLOAT, SH(4, 2))),
	           "MatMul shape mismatch: [2,3] x [4,2] (K differs: 3 vs 4)");
	EXPECT_ERR(NODE(OP_MATMUL, 1, input(DT_FLOAT, SH(2, 3, 4)), input(DT_FLOAT, SH(3, 4, 5))),
	           "batch dims");
	EXPECT_ERR(NODE(OP_MATMUL, 1, input(DT_FLOAT, SCALAR), czero(DT_FLOAT, SH(3))),
	           "rank mismatch");
}

/* ---- elementwise ---- */

static void binary_broadcast(void **state)
{
	(void)state;
	EXPECT(NODE(OP_ADD, 1, input(DT_FLOAT, SH(2, 3, 1)), czero(DT_FLOAT, SH(4))), 0, DT_FLOAT,
	       SH(2, 3, 4));
	EXPECT(NODE(OP_MUL, 1, input(DT_INT64, SH(0, 1)), czero(DT_INT64, SH(1, 5))), 0, DT_INT64,
	       SH(0, 5));
	EXPECT(NODE(OP_SUB, 1, input(DT_DOUBLE, SCALAR), czero(DT_DOUBLE, SH(2, 2))), 0, DT_DOUBLE,
	       SH(2, 2));
	EXPECT(NODE(OP_DIV, 1, input(DT_INT32, SH(3)), czero(DT_INT32, SCALAR)), 0, DT_INT32, SH(3));
	EXPECT_ERR(NODE(OP_ADD, 1, input(DT_FLOAT, SH(2, 3)), czero(DT_FLOAT, SH(4))),
	           "shapes [2,3] and [4] cannot be broadcast");
	EXPECT_ERR(NODE(OP_SUB, 1, input(DT_FLOAT, SH(2)), czero(DT_INT64, SH(2))),
	           "different dtypes f32 and i64");
	EXPECT_ERR(NODE(OP_MUL, 1, input(DT_BOOL, SH(2)), czero(DT_BOOL, SH(2))),
	           "unsupported dtype bool for Mul (supported: f32, f64, i32, i64)");
	/* opset < 7 broadcast with an axis (legacy_axis): b [3] placed at axis 1 of [2,3,4]
	 * works; at axis 3 it falls outside, which is an error (it fell back to numpy rules) */
	int la = NODE(OP_ADD, 1, input(DT_FLOAT, SH(2, 3, 4)), czero(DT_FLOAT, SH(3, 1)));
	ir_attr_set_i(G, la, "legacy_axis", 1);
	EXPECT(la, 0, DT_FLOAT, SH(2, 3, 4));
	int lb = NODE(OP_ADD, 1, input(DT_FLOAT, SH(2, 3, 4)), czero(DT_FLOAT, SH(4)));
	ir_attr_set_i(G, lb, "legacy_axis", 3);
	EXPECT_ERR(lb, "broadcast axis 3 does not place [4] inside [2,3,4]");
}

static void unary_ops(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3));
	EXPECT(NODE(OP_RELU, 1, x), 0, DT_FLOAT, SH(2, 3));
	EXPECT(NODE(OP_SIGMOID, 1, x), 0, DT_FLOAT, SH(2, 3));
	EXPECT(NODE(OP_TANH, 1, x), 0, DT_FLOAT, SH(2, 3));
	int lr = NODE(OP_LEAKYRELU, 1, x);
	EXPECT(lr, 0, DT_FLOAT, SH(2, 3));
	assert_true(ir_attr_f(nd(lr), "alpha", 0) == 0.01f);
	int hs = NODE(OP_HARDSIGMOID, 1, x);
	ir_attr_set_f(G, hs, "beta", 0.25f);
	EXPECT(hs, 0, DT_FLOAT, SH(2, 3));
	assert_true(ir_attr_f(nd(hs), "alpha", 0) == 0.2f);
	assert_true(ir_attr_f(nd(hs), "beta", 0) == 0.25f);
	EXPECT_ERR(NODE(OP_RELU, 1, input(DT_INT32, SH(2))),
	           "unsupported dtype i32 for Relu (supported: f32)");
}

static void clip_and_prelu(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 3, 4, 4));
	int lo = czero(DT_FLOAT, SCALAR);
	EXPECT(NODE(OP_CLIP, 1, x, lo, czero(DT_FLOAT, SCALAR)), 0, DT_FLOAT, SH(1, 3, 4, 4));
	EXPECT(NODE(OP_CLIP, 1, x, -1, czero(DT_FLOAT, SCALAR)), 0, DT_FLOAT, SH(1, 3, 4, 4));
	/* min/max contents are not needed: a run-time min is fine */
	EXPECT(NODE(OP_CLIP, 1, x, input(DT_FLOAT, SCALAR)), 0, DT_FLOAT, SH(1, 3, 4, 4));
	EXPECT_ERR(NODE(OP_CLIP, 1, x, czero(DT_FLOAT, SH(2))), "Clip min must be a scalar");
	EXPECT_ERR(NODE(OP_CLIP, 1, x, czero(DT_DOUBLE, SCALAR)), "unsupported dtype f64 for Clip");
	EXPECT(NODE(OP_PRELU, 1, x, czero(DT_FLOAT, SH(3, 1, 1))), 0, DT_FLOAT, SH(1, 3, 4, 4));
	EXPECT(NODE(OP_PRELU, 1, x, czero(DT_FLOAT, SCALAR)), 0, DT_FLOAT, SH(1, 3, 4, 4));
	EXPECT_ERR(NODE(OP_PRELU, 1, x, czero(DT_FLOAT, SH(3))),
	           "slope [3] is not broadcastable to the input [1,3,4,4]");
	EXPECT_ERR(NODE(OP_PRELU, 1, x, czero(DT_FLOAT, SH(2, 1, 3, 4, 4))), "not broadcastable");
}

static void softmax_axes(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 4));
	int s = NODE(OP_SOFTMAX, 1, x);
	ir_attr_set_i(G, s, "axis", -1);
	EXPECT(s, 0, DT_FLOAT, SH(2, 3, 4));
	expect_i(s, "axis", 2);
	int d = NODE(OP_LOGSOFTMAX, 1, x); /* absent axis: -1 */
	EXPECT(d, 0, DT_FLOAT, SH(2, 3, 4));
	expect_i(d, "axis", 2);
	int c2 = NODE(OP_SOFTMAX, 1, x); /* coerce2d without axis: 1 */
	ir_attr_set_i(G, c2, "coerce2d", 1);
	EXPECT(c2, 0, DT_FLOAT, SH(2, 3, 4));
	expect_i(c2, "axis", 1);
	expect_i(c2, "coerce2d", 1);
	int c3 = NODE(OP_LOGSOFTMAX, 1, x);
	ir_attr_set_i(G, c3, "coerce2d", 1);
	ir_attr_set_i(G, c3, "axis", -2);
	EXPECT(c3, 0, DT_FLOAT, SH(2, 3, 4));
	expect_i(c3, "axis", 1);
	int bad = NODE(OP_SOFTMAX, 1, x);
	ir_attr_set_i(G, bad, "axis", 3);
	EXPECT_ERR(bad, "Softmax axis 3 is out of range for rank 3");
}

static void batchnorm(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 4, 4));
	int p[4];
	for (int i = 0; i < 4; i++)
		p[i] = czero(DT_FLOAT, SH(3));
	int n = NODE(OP_BATCHNORMALIZATION, 3, x, p[0], p[1], p[2], p[3]);
	EXPECT(n, 0, DT_FLOAT, SH(2, 3, 4, 4));
	CHECK(n, 1, DT_FLOAT, SH(3));
	CHECK(n, 2, DT_FLOAT, SH(3));
	assert_true(ir_attr_f(nd(n), "epsilon", 0) == 1e-5f);
	EXPECT_ERR(NODE(OP_BATCHNORMALIZATION, 1, x, p[0], czero(DT_FLOAT, SH(4)), p[2], p[3]),
	           "B has shape [4], expected [3]");
	int t = NODE(OP_BATCHNORMALIZATION, 1, x, p[0], p[1], p[2], p[3]);
	ir_attr_set_i(G, t, "training_mode", 1);
	EXPECT_ERR(t, "training_mode=1 is not supported");
	EXPECT_ERR(NODE(OP_BATCHNORMALIZATION, 1, input(DT_FLOAT, SH(3)), p[0], p[1], p[2], p[3]),
	           "rank mismatch");
}

/* ---- data movement ---- */

static void flatten_axes(void **state)
{
	(void)state;
	int x = input(DT_INT8, SH(2, 3, 4));
	int z = NODE(OP_FLATTEN, 1, x);
	ir_attr_set_i(G, z, "axis", 0);
	EXPECT(z, 0, DT_INT8, SH(1, 24));
	expect_i(z, "axis", 0);
	int def = NODE(OP_FLATTEN, 1, x);
	EXPECT(def, 0, DT_INT8, SH(2, 12));
	expect_i(def, "axis", 1);
	int neg = NODE(OP_FLATTEN, 1, x);
	ir_attr_set_i(G, neg, "axis", -1);
	EXPECT(neg, 0, DT_INT8, SH(6, 4));
	expect_i(neg, "axis", 2);
	int end = NODE(OP_FLATTEN, 1, x);
	ir_attr_set_i(G, end, "axis", 3);
	EXPECT(end, 0, DT_INT8, SH(24, 1));
	int bad = NODE(OP_FLATTEN, 1, x);
	ir_attr_set_i(G, bad, "axis", 4);
	EXPECT_ERR(bad, "out of range");
}

static void reshape_zero_minus1(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 4));
	EXPECT(NODE(OP_RESHAPE, 1, x, CI64(0, -1)), 0, DT_FLOAT, SH(2, 12));
	EXPECT(NODE(OP_RESHAPE, 1, x, CI64(-1, 0, 2, 2)), 0, DT_FLOAT, SH(2, 3, 2, 2));
	EXPECT(NODE(OP_RESHAPE, 1, x, CI64(24)), 0, DT_FLOAT, SH(24));
	int e = input(DT_FLOAT, SH(0, 3));
	int az = NODE(OP_RESHAPE, 1, e, CI64(3, 0));
	ir_attr_set_i(G, az, "allowzero", 1);
	EXPECT(az, 0, DT_FLOAT, SH(3, 0));
	/* without allowzero the 0 copies dim 1 (3): 9 != 0 elements */
	EXPECT_ERR(NODE(OP_RESHAPE, 1, e, CI64(3, 0)), "cannot reshape");
	EXPECT(NODE(OP_RESHAPE, 1, input(DT_INT64, SH(1)), ci64_(I64S(0), 0)), 0, DT_INT64, SCALAR);
}

static void reshape_errors(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 4));
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, CI64(-1, -1)), "two -1");
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, CI64(5, 5)), "cannot reshape [2,3,4] (24 elements)");
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, CI64(5, -1)), "cannot reshape");
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, CI64(2, -3, 4)), "negative dim");
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, CI64(1, 1, 1, 0)), "copies input dim 3");
	int s32 = ir_const_add(G, NULL, DT_INT32, &(Shape){.rank = 1, .d = {1}}, xcalloc(1, 4));
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, s32), "shape must be i64, got i32");
	int az = NODE(OP_RESHAPE, 1, x, CI64(0, -1));
	ir_attr_set_i(G, az, "allowzero", 1);
	EXPECT_ERR(az, "both 0 and -1");
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, CI64(1, 1, 1, 1, 1, 1, 1, 1, 24)), "at most 8");
}

static void not_constant_returns_1(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 4));
	int s = input(DT_INT64, SH(2)); /* shape computed at run time */
	int r = NODE(OP_RESHAPE, 1, x, s);
	res(r, 0)->shape = SH(9); /* stale: must be reset */
	assert_int_equal(shape_node(G, r, &D), 1);
	assert_int_equal(res(r, 0)->shape.rank, -1);
	int p = NODE(OP_PAD, 1, x, input(DT_INT64, SH(6)));
	assert_int_equal(shape_node(G, p, &D), 1);
	assert_int_equal(res(p, 0)->shape.rank, -1);
	int sq = NODE(OP_SQUEEZE, 1, x, input(DT_INT64, SH(1)));
	assert_int_equal(shape_node(G, sq, &D), 1);
	int us = NODE(OP_UNSQUEEZE, 1, x, input(DT_INT64, SH(1)));
	assert_int_equal(shape_node(G, us, &D), 1);
	assert_int_equal(res(us, 0)->shape.rank, -1);
	/* a node reading an unknown value also waits */
	int re = NODE(OP_RELU, 1, G->nodes[r].out[0]);
	assert_int_equal(shape_node(G, re, &D), 1);
	assert_int_equal(res(re, 0)->shape.rank, -1);
	/* but a wrongly typed shape operand is an error right away */
	EXPECT_ERR(NODE(OP_RESHAPE, 1, x, input(DT_FLOAT, SH(2))), "must be i64");
	assert_int_equal(D.nerrors, 1);
	/* once the shape becomes a constant, inference completes */
	int64_t *v = xmalloc(2 * sizeof *v);
	v[0] = 6;
	v[1] = -1;
	G->values[s].data = v;
	G->values[s].is_input = 0;
	EXPECT(r, 0, DT_FLOAT, SH(6, 4));
}

static void transpose_perm(void **state)
{
	(void)state;
	int x = input(DT_UINT8, SH(2, 3, 4));
	int d = NODE(OP_TRANSPOSE, 1, x);
	EXPECT(d, 0, DT_UINT8, SH(4, 3, 2));
	EXPECT_INTS(d, "perm", 2, 1, 0);
	int p = NODE(OP_TRANSPOSE, 1, x);
	ir_attr_set_ints(G, p, "perm", I64S(0, 2, 1), 3);
	EXPECT(p, 0, DT_UINT8, SH(2, 4, 3));
	EXPECT_INTS(p, "perm", 0, 2, 1);
	int dup = NODE(OP_TRANSPOSE, 1, x);
	ir_attr_set_ints(G, dup, "perm", I64S(0, 1, 1), 3);
	EXPECT_ERR(dup, "not a permutation");
	int oor = NODE(OP_TRANSPOSE, 1, x);
	ir_attr_set_ints(G, oor, "perm", I64S(0, 1, 3), 3);
	EXPECT_ERR(oor, "not a permutation");
	int len = NODE(OP_TRANSPOSE, 1, x);
	ir_attr_set_ints(G, len, "perm", I64S(1, 0), 2);
	EXPECT_ERR(len, "rank mismatch");
}

static void concat_axis(void **state)
{
	(void)state;
	int a = input(DT_FLOAT, SH(2, 3, 4)), b = czero(DT_FLOAT, SH(2, 3, 5));
	int n = NODE(OP_CONCAT, 1, a, b, a);
	ir_attr_set_i(G, n, "axis", -1);
	EXPECT(n, 0, DT_FLOAT, SH(2, 3, 13));
	expect_i(n, "axis", 2);
	int one = NODE(OP_CONCAT, 1, a);
	ir_attr_set_i(G, one, "axis", 0);
	EXPECT(one, 0, DT_FLOAT, SH(2, 3, 4));
	int bad = NODE(OP_CONCAT, 1, a, b);
	ir_attr_set_i(G, bad, "axis", 1);
	EXPECT_ERR(bad, "Concat shape mismatch: operand 1 is [2,3,5], operand 0 is [2,3,4]");
	int rk = NODE(OP_CONCAT, 1, a, czero(DT_FLOAT, SH(2, 3)));
	ir_attr_set_i(G, rk, "axis", 0);
	EXPECT_ERR(rk, "rank mismatch");
	int dt = NODE(OP_CONCAT, 1, a, czero(DT_INT64, SH(2, 3, 4)));
	ir_attr_set_i(G, dt, "axis", 0);
	EXPECT_ERR(dt, "different dtypes");
	EXPECT_ERR(NODE(OP_CONCAT, 1, a, b), "requires an integer axis");
	int ax = NODE(OP_CONCAT, 1, a, b);
	ir_attr_set_i(G, ax, "axis", -4);
	EXPECT_ERR(ax, "axis -4 is out of range");
}

static void pad_shapes(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 3, 4, 4));
	int n = NODE(OP_PAD, 1, x, CI64(0, 0, 1, 2, 0, 0, -1, 3));
	EXPECT(n, 0, DT_FLOAT, SH(1, 3, 4, 9));
	assert_string_equal(ir_attr_s(nd(n), "mode", "?"), "constant");
	int v = NODE(OP_PAD, 1, x, CI64(0, 0, 1, 1, 0, 0, 1, 1), czero(DT_FLOAT, SCALAR));
	ir_attr_set_s(G, v, "mode", "reflect");
	EXPECT(v, 0, DT_FLOAT, SH(1, 3, 6, 6));
	assert_string_equal(ir_attr_s(nd(v), "mode", "?"), "reflect");
	EXPECT_ERR(NODE(OP_PAD, 1, x, CI64(0, 0, 0, 0, 0, 0, -5, 0)), "negative dim");
	EXPECT_ERR(NODE(OP_PAD, 1, x, CI64(1, 1)), "rank mismatch");
	EXPECT_ERR(NODE(OP_PAD, 1, x, CI64(0, 0, 0, 0, 0, 0, 0, 0), czero(DT_INT64, SCALAR)),
	           "different dtypes");
	int w = NODE(OP_PAD, 1, x, CI64(0, 0, 0, 0, 0, 0, 0, 0));
	ir_attr_set_s(G, w, "mode", "wrap");
	EXPECT_ERR(w, "mode \"wrap\" is not supported");
	int r = NODE(OP_PAD, 1, x, CI64(0, 0, 0, 4, 0, 0, 0, 0));
	ir_attr_set_s(G, r, "mode", "reflect");
	EXPECT_ERR(r, "reflect mode needs pads smaller than the dim");
	EXPECT_ERR(NODE(OP_PAD, 1, x, -1), "Pad requires a pads operand");
}

static void squeeze_unsqueeze(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 3, 1, 5));
	EXPECT(NODE(OP_SQUEEZE, 1, x), 0, DT_FLOAT, SH(3, 5));
	EXPECT(NODE(OP_SQUEEZE, 1, x, CI64(-2)), 0, DT_FLOAT, SH(1, 3, 5));
	EXPECT(NODE(OP_SQUEEZE, 1, x, ci64_scalar(0)), 0, DT_FLOAT, SH(3, 1, 5));
	EXPECT(NODE(OP_SQUEEZE, 1, input(DT_FLOAT, SH(1, 1))), 0, DT_FLOAT, SCALAR);
	EXPECT_ERR(NODE(OP_SQUEEZE, 1, x, CI64(1)), "Squeeze axis 1 has dim 3, not 1");
	EXPECT_ERR(NODE(OP_SQUEEZE, 1, x, CI64(0, -4)), "repeated");
	EXPECT_ERR(NODE(OP_SQUEEZE, 1, x, CI64(4)), "out of range");
	int y = input(DT_INT32, SH(3, 4));
	/* output rank 4: -1 -> 3, 0 -> 0 */
	EXPECT(NODE(OP_UNSQUEEZE, 1, y, CI64(-1, 0)), 0, DT_INT32, SH(1, 3, 4, 1));
	EXPECT(NODE(OP_UNSQUEEZE, 1, y, CI64(1)), 0, DT_INT32, SH(3, 1, 4));
	EXPECT(NODE(OP_UNSQUEEZE, 1, input(DT_FLOAT, SCALAR), CI64(0)), 0, DT_FLOAT, SH(1));
	EXPECT_ERR(NODE(OP_UNSQUEEZE, 1, y, CI64(1, -3)), "repeated");
	EXPECT_ERR(NODE(OP_UNSQUEEZE, 1, y, CI64(3)), "out of range");
	EXPECT_ERR(NODE(OP_UNSQUEEZE, 1, y), "requires an axes operand");
	EXPECT_ERR(NODE(OP_UNSQUEEZE, 1, y, CI64(0, 1, 2, 3, 4, 5, 6)), "exceeds the maximum rank");
}

static void shape_op(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(2, 3, 4, 5));
	EXPECT(NODE(OP_SHAPE, 1, x), 0, DT_INT64, SH(4));
	int se = NODE(OP_SHAPE, 1, x);
	ir_attr_set_i(G, se, "start", 1);
	ir_attr_set_i(G, se, "end", -1);
	EXPECT(se, 0, DT_INT64, SH(2));
	int neg = NODE(OP_SHAPE, 1, x);
	ir_attr_set_i(G, neg, "start", -10);
	ir_attr_set_i(G, neg, "end", 100);
	EXPECT(neg, 0, DT_INT64, SH(4));
	int empty = NODE(OP_SHAPE, 1, x);
	ir_attr_set_i(G, empty, "start", 3);
	ir_attr_set_i(G, empty, "end", 1);
	EXPECT(empty, 0, DT_INT64, SH(0));
	EXPECT(NODE(OP_SHAPE, 1, input(DT_BOOL, SCALAR)), 0, DT_INT64, SH(0));
}

static void gather_shapes(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(5, 4));
	int g0 = NODE(OP_GATHER, 1, x, ci64_scalar(-5));
	EXPECT(g0, 0, DT_FLOAT, SH(4));
	expect_i(g0, "axis", 0);
	int32_t *iv = xcalloc(6, sizeof *iv);
	int idx = ir_const_add(G, NULL, DT_INT32, &(Shape){.rank = 2, .d = {2, 3}}, iv);
	int g1 = NODE(OP_GATHER, 1, x, idx);
	ir_attr_set_i(G, g1, "axis", -1);
	EXPECT(g1, 0, DT_FLOAT, SH(5, 2, 3));
	expect_i(g1, "axis", 1);
	/* run-time indices: the shape is still known */
	EXPECT(NODE(OP_GATHER, 1, x, input(DT_INT64, SH(7))), 0, DT_FLOAT, SH(7, 4));
	EXPECT_ERR(NODE(OP_GATHER, 1, x, ci64_scalar(5)), "index 5 is out of range");
	EXPECT_ERR(NODE(OP_GATHER, 1, x, czero(DT_FLOAT, SH(1))), "indices must be i32 or i64");
	EXPECT_ERR(NODE(OP_GATHER, 1, input(DT_FLOAT, SCALAR), ci64_scalar(0)), "rank mismatch");
	int ax = NODE(OP_GATHER, 1, x, ci64_scalar(0));
	ir_attr_set_i(G, ax, "axis", 2);
	EXPECT_ERR(ax, "out of range");
}

static void identity_dropout_constant(void **state)
{
	(void)state;
	int x = input(DT_INT64, SH(3, 2));
	EXPECT(NODE(OP_IDENTITY, 1, x), 0, DT_INT64, SH(3, 2));
	int f = input(DT_FLOAT, SH(4, 5));
	float *ratio = xmalloc(sizeof *ratio);
	*ratio = 0.5f;
	int r = ir_const_add(G, NULL, DT_FLOAT, &SCALAR, ratio);
	unsigned char *t0 = xcalloc(1, 1), *t1 = xcalloc(1, 1);
	*t1 = 1;
	int off = ir_const_add(G, NULL, DT_BOOL, &SCALAR, t0);
	int on = ir_const_add(G, NULL, DT_BOOL, &SCALAR, t1);
	int d = NODE(OP_DROPOUT, 2, f, r, off);
	EXPECT(d, 0, DT_FLOAT, SH(4, 5));
	CHECK(d, 1, DT_BOOL, SH(4, 5));
	EXPECT(NODE(OP_DROPOUT, 1, f), 0, DT_FLOAT, SH(4, 5));
	EXPECT_ERR(NODE(OP_DROPOUT, 2, f, r, on), "training_mode=1 is not supported");
	/* the frontend leaves no Constant node; one with a typed result is accepted */
	int k = NODE(OP_CONSTANT, 1, 0);
	G->nodes[k].nin = 0;
	EXPECT_ERR(k, "Constant node");
	res(k, 0)->dtype = DT_FLOAT;
	res(k, 0)->shape = SH(2);
	EXPECT(k, 0, DT_FLOAT, SH(2));
}

/* ---- cross-cutting checks ---- */

static void overflow_errors(void **state)
{
	(void)state;
	int64_t big = (int64_t)1 << 40;
	EXPECT_ERR(NODE(OP_ADD, 1, input(DT_FLOAT, SH(big, 1)), input(DT_FLOAT, SH(big))),
	           "overflow");
	EXPECT_ERR(NODE(OP_PAD, 1, input(DT_FLOAT, SH(2, 2)), CI64(big, big, 0, 0)), "overflow");
	/* 2^61 i64 elements fit int64, their bytes don't; both are over the tensor limit, and
	 * the limit itself is accepted */
	EXPECT_ERR(NODE(OP_IDENTITY, 1, input(DT_INT64, SH((int64_t)1 << 61))),
	           "tensor too large (2305843009213693952 elements; limit 17179869184)");
	EXPECT_ERR(NODE(OP_IDENTITY, 1, input(DT_FLOAT, SH(IR_MAX_ELEMS + 1))), "tensor too large");
	EXPECT(NODE(OP_IDENTITY, 1, input(DT_INT64, SH(IR_MAX_ELEMS))), 0, DT_INT64,
	       SH(IR_MAX_ELEMS));
	EXPECT_ERR(NODE(OP_PAD, 1, input(DT_FLOAT, SH(2)), CI64(INT64_MAX, 1)), "overflow");
	int c = NODE(OP_CONV, 1, input(DT_FLOAT, SH(1, 1, 4)), czero(DT_FLOAT, SH(1, 1, 2)));
	ir_attr_set_ints(G, c, "pads", I64S(INT64_MAX, 1), 2);
	EXPECT_ERR(c, "overflow");
	/* an operand whose own shape overflows */
	Shape huge = SH(big, big), negd = SH(2, -3);
	int bad = ir_value_add(G, NULL, DT_FLOAT, &huge);
	EXPECT_ERR(NODE(OP_RELU, 1, bad), "invalid shape");
	int neg = ir_value_add(G, NULL, DT_FLOAT, &negd);
	EXPECT_ERR(NODE(OP_RELU, 1, neg), "negative dim");
	/* a zero dim next to huge ones: 0 elements, but Flatten's second dim overflows */
	int z = input(DT_FLOAT, SH(0, big, big));
	EXPECT_ERR(NODE(OP_FLATTEN, 1, z), "overflow");
}

static void arity_errors(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 1, 4, 4));
	int c = NODE(OP_CONV, 1, x);
	EXPECT_ERR(c, "Conv expects 2 to 3 operands, got 1");
	EXPECT_ERR(NODE(OP_CONV, 1, x, -1), "operand 1 is required");
	EXPECT_ERR(NODE(OP_RELU, 1, 12345), "invalid value id");
	int r = NODE(OP_RELU, 1, x);
	G->nodes[r].out[0] = -1;
	EXPECT_ERR(r, "result 0 is required");
	int dead = NODE(OP_CONV, 1, x);
	G->nodes[dead].dead = 1;
	assert_int_equal(shape_node(G, dead, &D), 0);
}

/* A small network through pass_shape: conv -> relu -> maxpool -> reshape(run-time) -> gemm.
 * Everything up to the run-time Reshape is inferred, the rest waits, the pass succeeds. */
static void pass_chain(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 1, 28, 28));
	int c = NODE(OP_CONV, 1, x, czero(DT_FLOAT, SH(6, 1, 5, 5)), czero(DT_FLOAT, SH(6)));
	int r = NODE(OP_RELU, 1, G->nodes[c].out[0]);
	int p = NODE(OP_MAXPOOL, 1, G->nodes[r].out[0]);
	ir_attr_set_ints(G, p, "kernel_shape", I64S(2, 2), 2);
	ir_attr_set_ints(G, p, "strides", I64S(2, 2), 2);
	int sh = NODE(OP_SHAPE, 1, G->nodes[p].out[0]);
	int fl = NODE(OP_FLATTEN, 1, G->nodes[p].out[0]);
	int rs = NODE(OP_RESHAPE, 1, G->nodes[p].out[0], input(DT_INT64, SH(2)));
	int gm = NODE(OP_GEMM, 1, G->nodes[rs].out[0], czero(DT_FLOAT, SH(10, 864)));
	int g2 = NODE(OP_GEMM, 1, G->nodes[fl].out[0], czero(DT_FLOAT, SH(10, 864)));
	ir_attr_set_i(G, gm, "transB", 1);
	ir_attr_set_i(G, g2, "transB", 1);
	assert_int_equal(pass_shape(G, NULL, &D), 0);
	assert_int_equal(D.nerrors, 0);
	CHECK(p, 0, DT_FLOAT, SH(1, 6, 12, 12));
	CHECK(sh, 0, DT_INT64, SH(4));
	CHECK(fl, 0, DT_FLOAT, SH(1, 864));
	CHECK(g2, 0, DT_FLOAT, SH(1, 10));
	assert_int_equal(res(rs, 0)->shape.rank, -1);
	assert_int_equal(res(gm, 0)->shape.rank, -1);
	/* idempotent */
	assert_int_equal(pass_shape(G, NULL, &D), 0);
	CHECK(g2, 0, DT_FLOAT, SH(1, 10));
}

static void pass_errors(void **state)
{
	(void)state;
	int x = input(DT_FLOAT, SH(1, 10));
	int a = NODE(OP_RELU, 1, x);
	NODE(OP_GEMM, 1, G->nodes[a].out[0], czero(DT_FLOAT, SH(20, 5)));
	assert_int_equal(pass_shape(G, NULL, &D), -1);
	assert_non_null(strstr(D.last, "K differs"));
	assert_non_null(strstr(D.last, "node Gemm_1: "));
	/* a graph input of unknown shape */
	ir_graph_free(G);
	G = ir_graph_new("u");
	int u = input(DT_FLOAT, UNKNOWN);
	NODE(OP_RELU, 1, u);
	assert_int_equal(pass_shape(G, NULL, &D), -1);
	assert_non_null(strstr(D.last, "unknown shape"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(conv_basic),
		T(conv_same_upper_stride2_odd),
		T(conv_same_lower_and_valid),
		T(conv_1d_dilated),
		T(conv_3d),
		T(conv_group),
		T(conv_errors),
		T(maxpool_ceil_mode),
		T(pool_auto_pad_resets_ceil),
		T(pool_1d_and_errors),
		T(global_pools),
		T(gemm_transposes),
		T(gemm_errors),
		T(matmul_shapes),
		T(binary_broadcast),
		T(unary_ops),
		T(clip_and_prelu),
		T(softmax_axes),
		T(batchnorm),
		T(flatten_axes),
		T(reshape_zero_minus1),
		T(reshape_errors),
		T(not_constant_returns_1),
		T(transpose_perm),
		T(concat_axis),
		T(pad_shapes),
		T(squeeze_unsqueeze),
		T(shape_op),
		T(gather_shapes),
		T(identity_dropout_constant),
		T(overflow_errors),
		T(arity_errors),
		T(pass_chain),
		T(pass_errors),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
