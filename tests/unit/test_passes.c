/* tests/unit/test_passes.c: the canonicalization passes (fold, simplify, dce, bnfold), the
 * pipeline driver (pass_run_pipeline and its options) and ir_verify, on small graphs built
 * by hand or parsed from IR text. Numerical checks run the interpreter (rt_run, reference
 * kernels) on the graph before and after a pass.
 *
 * Everything a test allocates (graphs, buffers) is registered and freed by the teardown,
 * so a failing assertion (which longjmps out of the test) leaks nothing under ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "runtime/rt.h"

/* ---- per-test resources -------------------------------------------------------------- */

static Diag D;
static Graph *graphs[8];
static int ngraphs;
static void *bufs[64];
static int nbufs;
static FILE *dumpf;
static char *dumpbuf;

static int setup(void **state)
{
	(void)state;
	diag_init(&D, "t.ir");
	D.out = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < ngraphs; i++)
		ir_graph_free(graphs[i]);
	ngraphs = 0;
	for (int i = 0; i < nbufs; i++)
		free(bufs[i]);
	nbufs = 0;
	if (dumpf)
		fclose(dumpf);
	dumpf = NULL;
	free(dumpbuf);
	dumpbuf = NULL;
	return 0;
}

static Graph *keep(Graph *g)
{
	assert_true(ngraphs < (int)countof(graphs));
	graphs[ngraphs++] = g;
	return g;
}

static void *keepbuf(void *p)
{
	assert_true(nbufs < (int)countof(bufs));
	bufs[nbufs++] = p;
	return p;
}

static Graph *new_graph(void)
{
	return keep(ir_graph_new("t"));
}

static Graph *parse(const char *text)
{
	Graph *g = ir_parse(text, &D);
	if (!g)
		fail_msg("parse failed: %s\n--- text:\n%s", D.last, text);
	return keep(g);
}

/* ---- graph building helpers ---------------------------------------------------------- */

#define I64S(...) ((const int64_t[]){__VA_ARGS__})
#define NARGS(...) ((int)(sizeof(I64S(__VA_ARGS__)) / sizeof(int64_t)))
static Shape mk(const int64_t *d, int r)
{
	Shape s = {.rank = r};
	for (int i = 0; i < r; i++)
		s.d[i] = d[i];
	return s;
}
#define SH(...) mk(I64S(__VA_ARGS__), NARGS(__VA_ARGS__))

static int add_input(Graph *g, const char *name, DType t, Shape s)
{
	int v = ir_value_add(g, name, t, &s);
	g->values[v].is_input = 1;
	g->inputs = xrealloc(g->inputs, sizeof(int) * (size_t)(g->ninputs + 1));
	g->inputs[g->ninputs++] = v;
	return v;
}

static void add_output(Graph *g, int v)
{
	g->values[v].is_output = 1;
	g->outputs = xrealloc(g->outputs, sizeof(int) * (size_t)(g->noutputs + 1));
	g->outputs[g->noutputs++] = v;
}

static int cf32(Graph *g, const char *name, Shape s, const float *v)
{
	size_t n = (size_t)ir_shape_numel(&s);
	float *p = xmalloc(sizeof(float) * (n ? n : 1));
	memcpy(p, v, sizeof(float) * n);
	return ir_const_add(g, name, DT_FLOAT, &s, p);
}
#define F32S(...) ((const float[]){__VA_ARGS__})

static int ci64(Graph *g, const char *name, Shape s, const int64_t *v)
{
	size_t n = (size_t)ir_shape_numel(&s);
	int64_t *p = xmalloc(sizeof(int64_t) * (n ? n : 1));
	memcpy(p, v, sizeof(int64_t) * n);
	return ir_const_add(g, name, DT_INT64, &s, p);
}

/* A node with one fresh result of unknown type named rname; returns the result's id. */
static int node1(Graph *g, Op op, const char *rname, const int *in, int nin)
{
	int out = ir_value_add(g, rname, DT_UNDEF, NULL);
	ir_node_add(g, op, rname, in, nin, &out, 1);
	return out;
}
#define NODE1(g, op, rname, ...) \
	node1(g, op, rname, (const int[]){__VA_ARGS__}, \
	      (int)(sizeof((const int[]){__VA_ARGS__}) / sizeof(int)))

/* ---- queries and assertions ---------------------------------------------------------- */

static int live_nodes(const Graph *g)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++)
		k += !g->nodes[i].dead;
	return k;
}

static int count_op(const Graph *g, Op op)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++)
		k += !g->nodes[i].dead && g->nodes[i].op == op;
	return k;
}

/* The live node of op `op` (exactly one must exist). */
static const Node *only(const Graph *g, Op op)
{
	const Node *r = NULL;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == op) {
			if (r)
				fail_msg("more than one %s node", ir_op_name(op));
			r = &g->nodes[i];
		}
	if (!r)
		fail_msg("no %s node", ir_op_name(op));
	return r;
}

static int find(const Graph *g, const char *name)
{
	int v = ir_value_find(g, name);
	if (v < 0)
		fail_msg("no value %%%s", name);
	return v;
}

static void expect_shape(const Value *v, Shape want)
{
	char a[128], b[128];
	if (!ir_shape_eq(&v->shape, &want))
		fail_msg("%%%s has shape %s, expected %s", v->name, ir_shape_str(&v->shape, a, sizeof a),
		         ir_shape_str(&want, b, sizeof b));
}

static void expect_i64(const Value *v, const int64_t *want, int n)
{
	assert_non_null(v->data);
	assert_int_equal(v->dtype, DT_INT64);
	assert_int_equal(ir_shape_numel(&v->shape), n);
	const int64_t *p = v->data;
	for (int i = 0; i < n; i++)
		if (p[i] != want[i])
			fail_msg("%%%s[%d] = %lld, expected %lld", v->name, i, (long long)p[i],
			         (long long)want[i]);
}
#define EXPECT_I64(v, ...) expect_i64((v), I64S(__VA_ARGS__), NARGS(__VA_ARGS__))

static void expect_f32(const Value *v, const float *want, int n)
{
	assert_non_null(v->data);
	assert_int_equal(v->dtype, DT_FLOAT);
	assert_int_equal(ir_shape_numel(&v->shape), n);
	const float *p = v->data;
	for (int i = 0; i < n; i++)
		if (fabsf(p[i] - want[i]) > 1e-6f * (1 + fabsf(want[i])))
			fail_msg("%%%s[%d] = %g, expected %g", v->name, i, p[i], want[i]);
}

static void expect_diag(const char *words)
{
	if (!strstr(D.last, words))
		fail_msg("diagnostic \"%s\" lacks \"%s\"", D.last, words);
}

/* Deterministic inputs in [-1, 1). */
static float *rand_f32(int64_t n, unsigned seed)
{
	float *p = keepbuf(xmalloc(sizeof(float) * (size_t)(n ? n : 1)));
	uint32_t s = 2463534242u ^ seed;
	for (int64_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		p[i] = (float)(s >> 8) / (float)(1 << 23) - 1.0f;
	}
	return p;
}

/* Random data for every graph input (all f32). */
static void make_inputs(const Graph *g, const void **ins)
{
	for (int i = 0; i < g->ninputs; i++) {
		const Value *v = &g->values[g->inputs[i]];
		assert_int_equal(v->dtype, DT_FLOAT);
		ins[i] = rand_f32(ir_shape_numel(&v->shape), 17u * (unsigned)i + 1);
	}
}

/* Runs g in the interpreter with the reference kernels; the outputs are registered. */
static void run(const Graph *g, const void *const *ins, void **outs)
{
	RtOptions ro = {.use_fast = 0};
	int rc = rt_run(g, ins, outs, &ro, &D);
	for (int i = 0; i < g->noutputs; i++)
		if (outs[i])
			keepbuf(outs[i]);
	if (rc)
		fail_msg("rt_run failed: %s", D.last);
}

/* |got - want| <= rtol * max(|got|, |want|) + atol, where atol = rtol * max|want| / 10
 * absorbs the rounding of sums that cancel to (nearly) zero. */
static void expect_close(const float *got, const float *want, int64_t n, float rtol)
{
	float mx = 0;
	for (int64_t i = 0; i < n; i++)
		mx = fmaxf(mx, fabsf(want[i]));
	assert_true(mx > 0); /* a test on all-zero data proves nothing */
	float atol = rtol * mx / 10;
	for (int64_t i = 0; i < n; i++) {
		float e = fabsf(got[i] - want[i]);
		if (!(e <= rtol * fmaxf(fabsf(got[i]), fabsf(want[i])) + atol))
			fail_msg("element %lld: %.9g, expected %.9g (error %g)", (long long)i, got[i],
			         want[i], e);
	}
}

static int64_t out_numel(const Graph *g, int i)
{
	return ir_shape_numel(&g->values[g->outputs[i]].shape);
}

/* Prints g into a registered string. */
static char *print_str(const Graph *g)
{
	char *buf = NULL;
	size_t len = 0; /* (the stream is closed before we return) */
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	ir_print(f, g, 1);
	fclose(f);
	return keepbuf(buf);
}

/* ======================================================================================
 * pass_fold
 * ====================================================================================== */

/* PyTorch's x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape. After
 * shape + fold only the Reshape stays, reading a constant [N,-1]. */
static void test_fold_view_chain(void **state)
{
	(void)state;
	Graph *g = parse("graph @view opset 13 {\n"
	                 "  input %x: f32[2,3,4,4]\n"
	                 "  const %zero: i64[] = [0]\n"
	                 "  const %axes: i64[1] = [0]\n"
	                 "  const %minus1: i64[1] = [-1]\n"
	                 "  %s: i64[?] = Shape(%x) @\"shape\"\n"
	                 "  %g: i64[?] = Gather(%s, %zero) {axis=0} @\"gather\"\n"
	                 "  %u: i64[?] = Unsqueeze(%g, %axes) @\"unsqueeze\"\n"
	                 "  %c: i64[?] = Concat(%u, %minus1) {axis=0} @\"concat\"\n"
	                 "  %y: f32[?] = Reshape(%x, %c) @\"reshape\"\n"
	                 "  %z: f32[?] = Relu(%y) @\"relu\"\n"
	                 "  output %z\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	/* before folding the Reshape's result is unknown: its shape operand is computed */
	assert_int_equal(g->values[find(g, "y")].shape.rank, -1);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(live_nodes(g), 2);
	assert_int_equal(count_op(g, OP_SHAPE) + count_op(g, OP_GATHER) + count_op(g, OP_UNSQUEEZE) +
	                     count_op(g, OP_CONCAT), 0);
	const Node *r = only(g, OP_RESHAPE);
	assert_int_equal(r->in[0], find(g, "x"));
	const Value *shp = &g->values[r->in[1]];
	expect_shape(shp, SH(2));
	EXPECT_I64(shp, 2, -1);
	expect_shape(&g->values[find(g, "y")], SH(2, 48));
	expect_shape(&g->values[find(g, "z")], SH(2, 48));
	assert_int_equal(ir_verify(g, &D), 0);
}

/* The same chain with opset-11 style Unsqueeze (axes as an attribute is canonicalized by the
 * frontend, so here: a batch of 5 and Gather of a 1-element index vector). */
static void test_fold_view_chain_vector_index(void **state)
{
	(void)state;
	Graph *g = parse("graph @view opset 13 {\n"
	                 "  input %x: f32[5,2,3]\n"
	                 "  const %one: i64[1] = [1]\n"
	                 "  const %minus1: i64[1] = [-1]\n"
	                 "  %s: i64[?] = Shape(%x) @\"shape\"\n"
	                 "  %g: i64[?] = Gather(%s, %one) {axis=0} @\"gather\"\n"
	                 "  %c: i64[?] = Concat(%minus1, %g) {axis=0} @\"concat\"\n"
	                 "  %y: f32[?] = Reshape(%x, %c) @\"reshape\"\n"
	                 "  output %y\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(live_nodes(g), 1);
	const Node *r = only(g, OP_RESHAPE);
	EXPECT_I64(&g->values[r->in[1]], -1, 2);
	expect_shape(&g->values[find(g, "y")], SH(15, 2));
}

/* Nodes whose operands are all constant become constants with the right contents. */
static void test_fold_constant_nodes(void **state)
{
	(void)state;
	Graph *g = new_graph();
	int x = add_input(g, "x", DT_FLOAT, SH(4, 3));
	int w = cf32(g, "w", SH(2, 3), F32S(1, 2, 3, 4, 5, 6));
	int wt = node1(g, OP_TRANSPOSE, "wt", &w, 1);
	ir_attr_set_ints(g, g->values[wt].producer, "perm", I64S(1, 0), 2);
	int a = cf32(g, "a", SH(3), F32S(1, 2, 3));
	int b = cf32(g, "b", SH(3), F32S(10, 20, 30));
	int two = cf32(g, "two", SH(1), F32S(2));
	int sum = NODE1(g, OP_ADD, "sum", a, b);
	int prod = NODE1(g, OP_MUL, "prod", sum, two); /* chains: a folded result folds on */
	int diff = NODE1(g, OP_SUB, "diff", prod, a);
	int bias = NODE1(g, OP_ADD, "bias", cf32(g, "c1", SH(2), F32S(1, 2)),
	                 cf32(g, "c2", SH(2), F32S(0.5f, -4)));
	int mm = NODE1(g, OP_MATMUL, "mm", x, wt); /* [4,3] x [3,2] */
	int y = NODE1(g, OP_ADD, "y", mm, bias);
	add_output(g, y);
	add_output(g, diff);
	add_output(g, sum); /* (folded intermediates nobody reads are dropped: keep them) */
	add_output(g, prod);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	int before = live_nodes(g);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	/* Transpose, Add, Mul, Sub, Add folded; the MatMul and Add on x stay */
	assert_int_equal(live_nodes(g), before - 5);
	assert_int_equal(live_nodes(g), 2);
	assert_int_equal(count_op(g, OP_TRANSPOSE) + count_op(g, OP_MUL) + count_op(g, OP_SUB), 0);
	assert_int_equal(only(g, OP_MATMUL)->in[1], find(g, "wt"));
	assert_int_equal(only(g, OP_ADD)->in[1], find(g, "bias"));
	expect_f32(&g->values[find(g, "bias")], F32S(1.5f, -2), 2);
	expect_shape(&g->values[find(g, "y")], SH(4, 2));
	const Value *vwt = &g->values[find(g, "wt")];
	expect_shape(vwt, SH(3, 2));
	expect_f32(vwt, F32S(1, 4, 2, 5, 3, 6), 6);
	assert_int_equal(vwt->producer, -1);
	expect_f32(&g->values[find(g, "sum")], F32S(11, 22, 33), 3);
	expect_f32(&g->values[find(g, "prod")], F32S(22, 44, 66), 3);
	expect_f32(&g->values[find(g, "diff")], F32S(21, 42, 63), 3);
	/* the constants only the folded nodes read are gone */
	assert_int_equal(ir_value_find(g, "two"), -1);
	assert_int_equal(ir_value_find(g, "c1"), -1);
	/* a folded graph output stays a graph output (now a constant) */
	assert_int_equal(g->values[g->outputs[1]].is_output, 1);
	assert_string_equal(g->values[g->outputs[1]].name, "diff");
	assert_int_equal(ir_verify(g, &D), 0);
}

/* Integer arithmetic on shape constants (i64 Add/Mul/Div) folds exactly. */
static void test_fold_i64_arith(void **state)
{
	(void)state;
	Graph *g = new_graph();
	int x = add_input(g, "x", DT_FLOAT, SH(2, 6));
	int a = ci64(g, "a", SH(2), I64S(3, -7));
	int b = ci64(g, "b", SH(2), I64S(2, 2));
	int q = NODE1(g, OP_DIV, "q", a, b);
	int p = NODE1(g, OP_MUL, "p", q, b);
	int y = NODE1(g, OP_RESHAPE, "y", x, NODE1(g, OP_ADD, "s", ci64(g, "z", SH(2), I64S(0, 0)),
	                                          ci64(g, "shp", SH(2), I64S(3, 4))));
	add_output(g, y);
	add_output(g, p);
	add_output(g, q);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	EXPECT_I64(&g->values[find(g, "q")], 1, -3); /* truncates toward zero */
	EXPECT_I64(&g->values[find(g, "p")], 2, -6);
	expect_shape(&g->values[find(g, "y")], SH(3, 4));
	assert_int_equal(live_nodes(g), 1);
}

/* Shape with start/end (opset 15), negative and clamped bounds. */
static void test_fold_shape_start_end(void **state)
{
	(void)state;
	Graph *g = parse("graph @s opset 15 {\n"
	                 "  input %x: f32[2,3,4,5]\n"
	                 "  %all: i64[?] = Shape(%x) @\"all\"\n"
	                 "  %mid: i64[?] = Shape(%x) {start=1, end=-1} @\"mid\"\n"
	                 "  %tail: i64[?] = Shape(%x) {start=-2} @\"tail\"\n"
	                 "  %head: i64[?] = Shape(%x) {end=1} @\"head\"\n"
	                 "  %clamp: i64[?] = Shape(%x) {start=-10, end=10} @\"clamp\"\n"
	                 "  %empty: i64[?] = Shape(%x) {start=3, end=1} @\"empty\"\n"
	                 "  output %all\n"
	                 "  output %mid\n"
	                 "  output %tail\n"
	                 "  output %head\n"
	                 "  output %clamp\n"
	                 "  output %empty\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(live_nodes(g), 0);
	EXPECT_I64(&g->values[find(g, "all")], 2, 3, 4, 5);
	EXPECT_I64(&g->values[find(g, "mid")], 3, 4);
	EXPECT_I64(&g->values[find(g, "tail")], 4, 5);
	EXPECT_I64(&g->values[find(g, "head")], 2);
	EXPECT_I64(&g->values[find(g, "clamp")], 2, 3, 4, 5);
	expect_shape(&g->values[find(g, "empty")], SH(0));
	for (int i = 0; i < g->noutputs; i++)
		assert_non_null(g->values[g->outputs[i]].data);
}

/* A Reshape whose shape is a graph input fed at run time cannot be compiled statically. */
static void test_fold_runtime_shape_error(void **state)
{
	(void)state;
	Graph *g = parse("graph @dyn opset 13 {\n"
	                 "  input %x: f32[2,6]\n"
	                 "  input %s: i64[2]\n"
	                 "  %y: f32[?] = Reshape(%x, %s) @\"reshape\"\n"
	                 "  %z: f32[?] = Relu(%y) @\"relu\"\n"
	                 "  output %z\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), -1);
	expect_diag("depends on data computed at run time");
	expect_diag("node reshape");
	assert_int_equal(D.nerrors, 1);
}

/* The same through a computed chain: the shape is data of a graph input (not its shape). */
static void test_fold_runtime_shape_error_chain(void **state)
{
	(void)state;
	Graph *g = parse("graph @dyn opset 13 {\n"
	                 "  input %x: f32[2,6]\n"
	                 "  input %s: i64[1]\n"
	                 "  const %m: i64[1] = [-1]\n"
	                 "  %c: i64[?] = Concat(%s, %m) {axis=0} @\"concat\"\n"
	                 "  %y: f32[?] = Reshape(%x, %c) @\"reshape\"\n"
	                 "  output %y\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), -1);
	expect_diag("depends on data computed at run time");
}

/* Folding keeps the numbers: the interpreter gives the same outputs before and after. */
static void test_fold_keeps_results(void **state)
{
	(void)state;
	Graph *g = parse("graph @num opset 13 {\n"
	                 "  input %x: f32[2,3,4,4]\n"
	                 "  const %w: f32[4,5] = dense<20 elements>\n"
	                 "  const %w2: f32[5,4] = dense<20 elements>\n"
	                 "  const %b1: f32[5] = [0.5,-1,2,0.25,3]\n"
	                 "  const %b2: f32[5] = [1,1,-1,2,0.5]\n"
	                 "  const %k: f32[] = [1.5]\n"
	                 "  %wt: f32[?] = Transpose(%w2) {perm=[1,0]} @\"wt\"\n"
	                 "  %wsum: f32[?] = Add(%w, %wt) @\"wsum\"\n"
	                 "  %b: f32[?] = Mul(%b1, %b2) @\"b\"\n"
	                 "  %bk: f32[?] = Mul(%b, %k) @\"bk\"\n"
	                 "  %mm: f32[?] = MatMul(%x, %wsum) @\"mm\"\n"
	                 "  %y: f32[?] = Add(%mm, %bk) @\"addb\"\n"
	                 "  %r: f32[?] = Relu(%y) @\"relu\"\n"
	                 "  %s: i64[?] = Shape(%r) {start=1} @\"shape\"\n"
	                 "  output %r\n"
	                 "  output %s\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	const void *ins[1];
	void *ref[2] = {0}, *got[2] = {0};
	make_inputs(g, ins);
	run(g, ins, ref);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_TRANSPOSE) + count_op(g, OP_MUL) + count_op(g, OP_SHAPE), 0);
	assert_int_equal(count_op(g, OP_ADD), 1); /* only the Add of a run-time value remains */
	assert_int_equal(ir_verify(g, &D), 0);
	run(g, ins, got);
	expect_close(got[0], ref[0], out_numel(g, 0), 1e-6f);
	assert_int_equal(out_numel(g, 1), 3);
	assert_memory_equal(got[1], ref[1], 3 * sizeof(int64_t));
	EXPECT_I64(&g->values[g->outputs[1]], 3, 4, 5);
}

/* ======================================================================================
 * pass_simplify
 * ====================================================================================== */

static void test_simplify_identity_dropout(void **state)
{
	(void)state;
	Graph *g = parse("graph @s opset 13 {\n"
	                 "  input %x: f32[2,3]\n"
	                 "  %i: f32[?] = Identity(%x) @\"id\"\n"
	                 "  %r: f32[?] = Relu(%i) @\"relu\"\n"
	                 "  %d: f32[?] = Dropout(%r) @\"drop\"\n"
	                 "  %e: f32[?], %mask: bool[?] = Dropout(%d) @\"drop2\"\n"
	                 "  %s: f32[?] = Sigmoid(%e) @\"sig\"\n"
	                 "  %t: f32[?] = Add(%s, %d) @\"add\"\n"
	                 "  output %t\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	const void *ins[1];
	void *ref[1] = {0}, *got[1] = {0};
	make_inputs(g, ins);
	run(g, ins, ref);
	assert_int_equal(pass_simplify(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_IDENTITY) + count_op(g, OP_DROPOUT), 0);
	assert_int_equal(live_nodes(g), 3);
	int x = find(g, "x"), r = find(g, "r");
	assert_int_equal(only(g, OP_RELU)->in[0], x);
	assert_int_equal(only(g, OP_SIGMOID)->in[0], r);
	const Node *add = only(g, OP_ADD);
	assert_int_equal(add->in[1], r);
	assert_int_equal(ir_value_find(g, "i"), -1);
	assert_int_equal(ir_value_find(g, "mask"), -1);
	assert_int_equal(ir_verify(g, &D), 0);
	run(g, ins, got);
	assert_memory_equal(got[0], ref[0], sizeof(float) * (size_t)out_numel(g, 0));
}

/* An Identity producing a graph output: the output keeps its name. */
static void test_simplify_output_name(void **state)
{
	(void)state;
	Graph *g;
	g = parse("graph @s opset 13 {\n"
	          "  input %x: f32[4]\n"
	          "  %r: f32[?] = Relu(%x) @\"relu\"\n"
	          "  %out: f32[?] = Identity(%r) @\"id\"\n"
	          "  %s: f32[?] = Sigmoid(%r) @\"sig\"\n"
	          "  output %out\n"
	          "  output %s\n"
	          "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_simplify(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_IDENTITY), 0);
	assert_int_equal(g->noutputs, 2);
	const Value *o = &g->values[g->outputs[0]];
	assert_string_equal(o->name, "out");
	assert_int_equal(o->is_output, 1);
	/* the Relu now defines the output directly, and the Sigmoid reads it */
	const Node *relu = only(g, OP_RELU);
	assert_int_equal(relu->out[0], g->outputs[0]);
	assert_int_equal(only(g, OP_SIGMOID)->in[0], g->outputs[0]);
	expect_shape(o, SH(4));
	assert_int_equal(ir_verify(g, &D), 0);
}

/* Identity from a graph input straight to a graph output stays (both names must survive);
 * Identity of a constant read by a node goes. */
static void test_simplify_input_passthrough(void **state)
{
	(void)state;
	Graph *g = parse("graph @s opset 13 {\n"
	                 "  input %x: f32[3]\n"
	                 "  const %c: f32[3] = [1,2,3]\n"
	                 "  %y: f32[?] = Identity(%x) @\"id\"\n"
	                 "  %ci: f32[?] = Identity(%c) @\"idc\"\n"
	                 "  %z: f32[?] = Add(%x, %ci) @\"add\"\n"
	                 "  output %y\n"
	                 "  output %z\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_simplify(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_IDENTITY), 1);
	assert_string_equal(g->values[g->outputs[0]].name, "y");
	assert_string_equal(g->values[g->inputs[0]].name, "x");
	assert_int_equal(only(g, OP_ADD)->in[1], find(g, "c"));
	assert_int_equal(ir_verify(g, &D), 0);
}

/* A Dropout whose mask output is read stays; the interpreter gives an all-true mask. */
static void test_simplify_dropout_mask_used(void **state)
{
	(void)state;
	Graph *g = parse("graph @s opset 13 {\n"
	                 "  input %x: f32[2,2]\n"
	                 "  %d: f32[?], %mask: bool[?] = Dropout(%x) @\"drop\"\n"
	                 "  %r: f32[?] = Relu(%d) @\"relu\"\n"
	                 "  output %r\n"
	                 "  output %mask\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_simplify(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_DROPOUT), 1);
	assert_int_equal(only(g, OP_RELU)->in[0], find(g, "d"));
	assert_int_equal(ir_verify(g, &D), 0);
	const void *ins[1];
	void *outs[2] = {0};
	make_inputs(g, ins);
	run(g, ins, outs);
	const unsigned char *m = outs[1];
	for (int i = 0; i < 4; i++)
		assert_int_equal(m[i], 1);
}

/* ======================================================================================
 * pass_dce
 * ====================================================================================== */

static void test_dce(void **state)
{
	(void)state;
	Graph *g = parse("graph @d opset 13 {\n"
	                 "  input %x: f32[2,3]\n"
	                 "  const %w: f32[3,3] = dense<9 elements>\n"
	                 "  const %unused_w: f32[3,4] = dense<12 elements>\n"
	                 "  %a: f32[?] = Relu(%x) @\"relu\"\n"
	                 "  %b: f32[?] = MatMul(%a, %w) @\"keep_mm\"\n"
	                 "  %dead1: f32[?] = MatMul(%a, %unused_w) @\"dead_mm\"\n"
	                 "  %dead2: f32[?] = Sigmoid(%dead1) @\"dead_sig\"\n"
	                 "  %dead3: f32[?] = Tanh(%x) @\"dead_tanh\"\n"
	                 "  %c: f32[?] = Tanh(%b) @\"tanh\"\n"
	                 "  %o2: f32[?] = Sigmoid(%a) @\"sig\"\n"
	                 "  output %c\n"
	                 "  output %o2\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	int nv = g->nvalues, nn = live_nodes(g);
	assert_int_equal(pass_dce(g, NULL, &D), 0);
	assert_int_equal(live_nodes(g), nn - 3);
	assert_int_equal(g->nnodes, nn - 3); /* compacted */
	assert_int_equal(g->nvalues, nv - 4); /* dead1, dead2, dead3, unused_w */
	assert_int_equal(ir_value_find(g, "dead1"), -1);
	assert_int_equal(ir_value_find(g, "dead3"), -1);
	assert_int_equal(ir_value_find(g, "unused_w"), -1);
	assert_true(ir_value_find(g, "w") >= 0);
	assert_int_equal(g->noutputs, 2);
	assert_string_equal(g->values[g->outputs[0]].name, "c");
	assert_string_equal(g->values[g->outputs[1]].name, "o2");
	assert_int_equal(g->ninputs, 1);
	assert_string_equal(g->values[g->inputs[0]].name, "x");
	assert_int_equal(ir_verify(g, &D), 0);
	/* idempotent */
	assert_int_equal(pass_dce(g, NULL, &D), 0);
	assert_int_equal(g->nvalues, nv - 4);
}

/* An output that is a graph input, and a graph whose every node is dead. */
static void test_dce_all_dead(void **state)
{
	(void)state;
	Graph *g = new_graph();
	int x = add_input(g, "x", DT_FLOAT, SH(3));
	NODE1(g, OP_RELU, "r", x);
	int t = NODE1(g, OP_TANH, "t", x);
	NODE1(g, OP_SIGMOID, "s", t);
	add_output(g, x);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_dce(g, NULL, &D), 0);
	assert_int_equal(g->nnodes, 0);
	assert_int_equal(g->nvalues, 1);
	assert_int_equal(g->outputs[0], g->inputs[0]);
	assert_int_equal(ir_verify(g, &D), 0);
}

/* An unused graph input survives DCE (the calling convention keeps it). */
static void test_dce_keeps_inputs(void **state)
{
	(void)state;
	Graph *g = new_graph();
	int x = add_input(g, "x", DT_FLOAT, SH(3));
	add_input(g, "unused", DT_FLOAT, SH(2));
	add_output(g, NODE1(g, OP_RELU, "r", x));
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_dce(g, NULL, &D), 0);
	assert_int_equal(g->ninputs, 2);
	assert_string_equal(g->values[g->inputs[1]].name, "unused");
	assert_int_equal(ir_verify(g, &D), 0);
}

/* ======================================================================================
 * pass_bnfold
 * ====================================================================================== */

/* Shape-infers g, runs it, folds BN (with fold first, as the pipeline does), runs it again
 * and compares; nbn is the number of BatchNormalization nodes expected to remain. */
static void bn_check(Graph *g, int nbn_before, int nbn_after)
{
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_BATCHNORMALIZATION), nbn_before);
	const void *ins[4];
	void *ref[4] = {0}, *got[4] = {0};
	assert_true(g->ninputs <= 4 && g->noutputs <= 4);
	make_inputs(g, ins);
	run(g, ins, ref);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(pass_bnfold(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_BATCHNORMALIZATION), nbn_after);
	if (ir_verify(g, &D))
		fail_msg("ir_verify after bnfold: %s", D.last);
	run(g, ins, got);
	for (int i = 0; i < g->noutputs; i++)
		expect_close(got[i], ref[i], out_numel(g, i), 1e-5f);
}

static void test_bnfold_conv_bias(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[2,2,5,5]\n"
	                 "  const %w: f32[3,2,3,3] = dense<54 elements>\n"
	                 "  const %b: f32[3] = [0.5,-0.25,1]\n"
	                 "  const %gamma: f32[3] = [1,2,0.5]\n"
	                 "  const %beta: f32[3] = [0,1,-1]\n"
	                 "  const %mean: f32[3] = [0.1,0.2,0.3]\n"
	                 "  const %var: f32[3] = [1,4,0.25]\n"
	                 "  %c: f32[?] = Conv(%x, %w, %b) {pads=[1,1,1,1]} @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) @\"bn\"\n"
	                 "  output %y\n"
	                 "}\n");
	bn_check(g, 1, 0);
	/* the Conv takes over the BN's result (and its name, a graph output) */
	const Node *c = only(g, OP_CONV);
	assert_int_equal(c->out[0], g->outputs[0]);
	assert_string_equal(g->values[c->out[0]].name, "y");
	assert_int_equal(c->nin, 3);
	assert_non_null(g->values[c->in[2]].data);
	/* bias' = (b - mean) * gamma / sqrt(var + 1e-5) + beta */
	const float *nb = g->values[c->in[2]].data;
	assert_float_equal(nb[0], (0.5f - 0.1f) * 1.0f / sqrtf(1.0f + 1e-5f) + 0.0f, 1e-6);
	assert_float_equal(nb[1], (-0.25f - 0.2f) * 2.0f / sqrtf(4.0f + 1e-5f) + 1.0f, 1e-6);
	assert_float_equal(nb[2], (1.0f - 0.3f) * 0.5f / sqrtf(0.25f + 1e-5f) - 1.0f, 1e-6);
	assert_int_equal(ir_value_find(g, "c"), -1);
}

static void test_bnfold_conv_nobias_eps(void **state)
{
	(void)state;
	/* a large epsilon makes a wrong epsilon visible in the numbers */
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[1,3,6,6]\n"
	                 "  const %w: f32[4,3,3,3] = dense<108 elements>\n"
	                 "  const %gamma: f32[4] = [1,-2,0.5,3]\n"
	                 "  const %beta: f32[4] = [0.2,1,-1,0]\n"
	                 "  const %mean: f32[4] = [0.1,-0.2,0.3,0]\n"
	                 "  const %var: f32[4] = [0.01,4,0.25,1]\n"
	                 "  %c: f32[?] = Conv(%x, %w) {strides=[2,2]} @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) "
	                 "{epsilon=0.5f} @\"bn\"\n"
	                 "  %r: f32[?] = Relu(%y) @\"relu\"\n"
	                 "  output %r\n"
	                 "}\n");
	bn_check(g, 1, 0);
	const Node *c = only(g, OP_CONV);
	assert_int_equal(c->nin, 3);
	const float *nb = g->values[c->in[2]].data;
	assert_float_equal(nb[0], (0 - 0.1f) * 1.0f / sqrtf(0.01f + 0.5f) + 0.2f, 1e-6);
	assert_float_equal(nb[3], 0.0f, 1e-6);
	assert_int_equal(only(g, OP_RELU)->in[0], c->out[0]);
}

/* Conv with the absent optional bias spelled as "_". */
static void test_bnfold_conv_absent_bias(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[1,2,4,4]\n"
	                 "  const %w: f32[2,2,1,1] = [1,2,3,4]\n"
	                 "  const %gamma: f32[2] = [2,3]\n"
	                 "  const %beta: f32[2] = [1,-1]\n"
	                 "  const %mean: f32[2] = [0.5,0.25]\n"
	                 "  const %var: f32[2] = [4,9]\n"
	                 "  %c: f32[?] = Conv(%x, %w, _) @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) "
	                 "{epsilon=0f} @\"bn\"\n"
	                 "  output %y\n"
	                 "}\n");
	bn_check(g, 1, 0);
	const Node *c = only(g, OP_CONV);
	/* W'[c] = W[c] * gamma/sqrt(var): scale 1 and 1 */
	expect_f32(&g->values[c->in[1]], F32S(1, 2, 3, 4), 4);
	expect_f32(&g->values[c->in[2]], F32S(1 - 0.5f, -1 - 0.25f), 2);
}

static void test_bnfold_group_conv(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[2,4,5,5]\n"
	                 "  const %w: f32[6,2,3,3] = dense<108 elements>\n"
	                 "  const %b: f32[6] = [0.1,0.2,0.3,-0.1,-0.2,-0.3]\n"
	                 "  const %gamma: f32[6] = [1,2,0.5,1.5,-1,0.75]\n"
	                 "  const %beta: f32[6] = [0,1,-1,0.5,0.25,2]\n"
	                 "  const %mean: f32[6] = [0.1,0.2,0.3,0.4,0.5,0.6]\n"
	                 "  const %var: f32[6] = [1,4,0.25,2,0.5,3]\n"
	                 "  %c: f32[?] = Conv(%x, %w, %b) {group=2, pads=[1,1,1,1]} @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) "
	                 "{epsilon=0.001f} @\"bn\"\n"
	                 "  output %y\n"
	                 "}\n");
	bn_check(g, 1, 0);
	assert_int_equal(ir_attr_i(only(g, OP_CONV), "group", 1), 2);
}

/* Depthwise Conv (group = channels). */
static void test_bnfold_depthwise_conv(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[1,3,5,5]\n"
	                 "  const %w: f32[3,1,3,3] = dense<27 elements>\n"
	                 "  const %gamma: f32[3] = [1,2,0.5]\n"
	                 "  const %beta: f32[3] = [0,1,-1]\n"
	                 "  const %mean: f32[3] = [0.1,0.2,0.3]\n"
	                 "  const %var: f32[3] = [1,4,0.25]\n"
	                 "  %c: f32[?] = Conv(%x, %w) {group=3} @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) @\"bn\"\n"
	                 "  output %y\n"
	                 "}\n");
	bn_check(g, 1, 0);
}

/* Gemm + BN on a 2-D result: transB 0/1, with C ([N] and [1,N]), alpha/beta not 1. */
static const char *gemm_text(char *buf, size_t n, int transb, const char *c, const char *cty,
                             float alpha, float beta)
{
	snprintf(buf, n,
	         "graph @gemm opset 13 {\n"
	         "  input %%a: f32[3,4]\n"
	         "  const %%b: f32[%s] = dense<20 elements>\n"
	         "%s%s%s"
	         "  const %%gamma: f32[5] = [1,2,0.5,-1.5,0.8]\n"
	         "  const %%beta: f32[5] = [0,1,-1,0.5,0.1]\n"
	         "  const %%mean: f32[5] = [0.1,0.2,0.3,-0.4,0]\n"
	         "  const %%var: f32[5] = [1,4,0.25,2,0.7]\n"
	         "  %%g: f32[?] = Gemm(%%a, %%b%s) {transB=%d, alpha=%gf, beta=%gf} @\"fc\"\n"
	         "  %%y: f32[?] = BatchNormalization(%%g, %%gamma, %%beta, %%mean, %%var) "
	         "{epsilon=0.01f} @\"bn\"\n"
	         "  output %%y\n"
	         "}\n",
	         transb ? "5,4" : "4,5", c ? "  const %c: f32[" : "", c ? cty : "",
	         c ? c : "", c ? ", %c" : "", transb, (double)alpha, (double)beta);
	return buf;
}

static void gemm_case(int transb, const char *c, const char *cty, float alpha, float beta)
{
	char text[2048];
	Graph *g = parse(gemm_text(text, sizeof text, transb, c, cty, alpha, beta));
	bn_check(g, 1, 0);
	const Node *fc = only(g, OP_GEMM);
	assert_int_equal(fc->out[0], g->outputs[0]);
	assert_string_equal(g->values[fc->out[0]].name, "y");
	assert_float_equal(ir_attr_f(fc, "alpha", 1), 1.0, 0);
	assert_float_equal(ir_attr_f(fc, "beta", 1), 1.0, 0);
	/* the original weight constant is untouched (it may be shared) */
	int b = ir_value_find(g, "b");
	if (b >= 0)
		assert_true(fc->in[1] != b);
}

static void test_bnfold_gemm_transb1(void **state)
{
	(void)state;
	gemm_case(1, NULL, NULL, 1, 1);
	teardown(NULL);
	gemm_case(1, "5] = [0.5,-1,2,0,1]\n", "", 1, 1);
	teardown(NULL);
	gemm_case(1, "5] = [0.5,-1,2,0,1]\n", "", 0.5f, 2.0f);
	teardown(NULL);
	gemm_case(1, "1,5] = [0.5,-1,2,0,1]\n", "", 1.5f, -0.5f);
}

static void test_bnfold_gemm_transb0(void **state)
{
	(void)state;
	gemm_case(0, NULL, NULL, 1, 1);
	teardown(NULL);
	gemm_case(0, "5] = [0.5,-1,2,0,1]\n", "", 1, 1);
	teardown(NULL);
	gemm_case(0, "5] = [0.5,-1,2,0,1]\n", "", 0.25f, 3.0f);
	teardown(NULL);
	gemm_case(0, "1,5] = [0.5,-1,2,0,1]\n", "", 2.0f, 0.5f);
}

/* A Conv result with a second reader: folding would change what that reader sees. */
static void test_bnfold_second_reader(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[1,2,4,4]\n"
	                 "  const %w: f32[3,2,3,3] = dense<54 elements>\n"
	                 "  const %gamma: f32[3] = [1,2,0.5]\n"
	                 "  const %beta: f32[3] = [0,1,-1]\n"
	                 "  const %mean: f32[3] = [0.1,0.2,0.3]\n"
	                 "  const %var: f32[3] = [1,4,0.25]\n"
	                 "  %c: f32[?] = Conv(%x, %w) {pads=[1,1,1,1]} @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) @\"bn\"\n"
	                 "  %r: f32[?] = Relu(%c) @\"relu\"\n"
	                 "  %s: f32[?] = Add(%y, %r) @\"add\"\n"
	                 "  output %s\n"
	                 "}\n");
	bn_check(g, 1, 1);
	const Node *bn = only(g, OP_BATCHNORMALIZATION);
	assert_int_equal(bn->in[0], only(g, OP_CONV)->out[0]);
	assert_int_equal(only(g, OP_CONV)->in[1], find(g, "w"));
}

/* A Conv result that is itself a graph output is not folded either. */
static void test_bnfold_conv_output_is_graph_output(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[1,2,4,4]\n"
	                 "  const %w: f32[3,2,3,3] = dense<54 elements>\n"
	                 "  const %gamma: f32[3] = [1,2,0.5]\n"
	                 "  const %beta: f32[3] = [0,1,-1]\n"
	                 "  const %mean: f32[3] = [0.1,0.2,0.3]\n"
	                 "  const %var: f32[3] = [1,4,0.25]\n"
	                 "  %c: f32[?] = Conv(%x, %w) @\"conv\"\n"
	                 "  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) @\"bn\"\n"
	                 "  output %c\n"
	                 "  output %y\n"
	                 "}\n");
	bn_check(g, 1, 1);
}

/* A BN after something that is not a Conv/Gemm, or whose statistics are run-time inputs,
 * stays. */
static void test_bnfold_not_applicable(void **state)
{
	(void)state;
	Graph *g = parse("graph @bn opset 13 {\n"
	                 "  input %x: f32[1,3,4,4]\n"
	                 "  input %gamma: f32[3]\n"
	                 "  const %w: f32[3,3,1,1] = dense<9 elements>\n"
	                 "  const %g2: f32[3] = [1,2,0.5]\n"
	                 "  const %beta: f32[3] = [0,1,-1]\n"
	                 "  const %mean: f32[3] = [0.1,0.2,0.3]\n"
	                 "  const %var: f32[3] = [1,4,0.25]\n"
	                 "  %r: f32[?] = Relu(%x) @\"relu\"\n"
	                 "  %y: f32[?] = BatchNormalization(%r, %g2, %beta, %mean, %var) @\"bn1\"\n"
	                 "  %c: f32[?] = Conv(%y, %w) @\"conv\"\n"
	                 "  %z: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) @\"bn2\"\n"
	                 "  output %z\n"
	                 "}\n");
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(pass_bnfold(g, NULL, &D), 0);
	assert_int_equal(count_op(g, OP_BATCHNORMALIZATION), 2);
	assert_int_equal(only(g, OP_CONV)->in[1], find(g, "w"));
}

/* A weight shared by two Convs, each followed by its own BN: both fold, and the shared
 * weight is scaled once per Conv (each Conv gets its own scaled copy). */
static const char shared_text[] =
	"graph @shared opset 13 {\n"
	"  input %x: f32[1,2,5,5]\n"
	"  const %w: f32[3,2,3,3] = dense<54 elements>\n"
	"  const %g1: f32[3] = [1,2,0.5]\n"
	"  const %b1: f32[3] = [0,1,-1]\n"
	"  const %m1: f32[3] = [0.1,0.2,0.3]\n"
	"  const %v1: f32[3] = [1,4,0.25]\n"
	"  const %g2: f32[3] = [0.5,-1.5,2]\n"
	"  const %b2: f32[3] = [1,0,-2]\n"
	"  const %m2: f32[3] = [-0.1,0.4,0.2]\n"
	"  const %v2: f32[3] = [2,0.5,1]\n"
	"  %c1: f32[?] = Conv(%x, %w) {pads=[1,1,1,1]} @\"conv1\"\n"
	"  %y1: f32[?] = BatchNormalization(%c1, %g1, %b1, %m1, %v1) @\"bn1\"\n"
	"  %c2: f32[?] = Conv(%x, %w) {pads=[1,1,1,1]} @\"conv2\"\n"
	"  %y2: f32[?] = BatchNormalization(%c2, %g2, %b2, %m2, %v2) @\"bn2\"\n"
	"  output %y1\n"
	"  output %y2\n"
	"  output %w\n"
	"}\n";

static void test_bnfold_shared_weight(void **state)
{
	(void)state;
	Graph *g = parse(shared_text);
	float w0[54];
	memcpy(w0, g->values[find(g, "w")].data, sizeof w0);
	bn_check(g, 2, 0);
	assert_int_equal(count_op(g, OP_CONV), 2);
	const Node *c1 = NULL, *c2 = NULL;
	for (int i = 0; i < g->nnodes; i++)
		if (!strcmp(g->nodes[i].name, "conv1"))
			c1 = &g->nodes[i];
		else if (!strcmp(g->nodes[i].name, "conv2"))
			c2 = &g->nodes[i];
	assert_non_null(c1);
	assert_non_null(c2);
	assert_true(c1->in[1] != c2->in[1]);
	/* each folded weight is the shared one times its own BN's scale, once */
	const float *w1 = g->values[c1->in[1]].data, *w2 = g->values[c2->in[1]].data;
	const float s1[3] = {1 / sqrtf(1 + 1e-5f), 2 / sqrtf(4 + 1e-5f), 0.5f / sqrtf(0.25f + 1e-5f)};
	const float s2[3] = {0.5f / sqrtf(2 + 1e-5f), -1.5f / sqrtf(0.5f + 1e-5f),
	                     2 / sqrtf(1 + 1e-5f)};
	for (int i = 0; i < 54; i++) {
		assert_float_equal(w1[i], w0[i] * s1[i / 18], 1e-6);
		assert_float_equal(w2[i], w0[i] * s2[i / 18], 1e-6);
	}
	/* the shared original (also a graph output here) is untouched */
	assert_memory_equal(g->values[find(g, "w")].data, w0, sizeof w0);
}

/* After folding a shared weight, the two scaled copies get distinct names, so the printed
 * IR parses back (it once said "value %w.bnfold redefined"). */
static void test_bnfold_shared_weight_names(void **state)
{
	(void)state;
	Graph *g = parse(shared_text);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_fold(g, NULL, &D), 0);
	assert_int_equal(pass_bnfold(g, NULL, &D), 0);
	for (int i = 0; i < g->nvalues; i++)
		for (int j = i + 1; j < g->nvalues; j++)
			if (!strcmp(g->values[i].name, g->values[j].name))
				fail_msg("two values named %%%s after bnfold", g->values[i].name);
	char *text = print_str(g);
	Graph *g2 = ir_parse(text, &D);
	if (!g2)
		fail_msg("the IR after bnfold does not parse back: %s\n%s", D.last, text);
	keep(g2);
}

/* ======================================================================================
 * pass_run_pipeline
 * ====================================================================================== */

static const char bn_model[] =
	"graph @bn opset 13 {\n"
	"  input %x: f32[1,2,5,5]\n"
	"  const %w: f32[3,2,3,3] = dense<54 elements>\n"
	"  const %gamma: f32[3] = [1,2,0.5]\n"
	"  const %beta: f32[3] = [0,1,-1]\n"
	"  const %mean: f32[3] = [0.1,0.2,0.3]\n"
	"  const %var: f32[3] = [1,4,0.25]\n"
	"  const %zero: i64[] = [0]\n"
	"  const %axes: i64[1] = [0]\n"
	"  const %minus1: i64[1] = [-1]\n"
	"  %c: f32[?] = Conv(%x, %w) {pads=[1,1,1,1]} @\"conv\"\n"
	"  %y: f32[?] = BatchNormalization(%c, %gamma, %beta, %mean, %var) @\"bn\"\n"
	"  %i: f32[?] = Identity(%y) @\"id\"\n"
	"  %s: i64[?] = Shape(%i) @\"shape\"\n"
	"  %g: i64[?] = Gather(%s, %zero) {axis=0} @\"gather\"\n"
	"  %u: i64[?] = Unsqueeze(%g, %axes) @\"unsqueeze\"\n"
	"  %cc: i64[?] = Concat(%u, %minus1) {axis=0} @\"concat\"\n"
	"  %r: f32[?] = Reshape(%i, %cc) @\"reshape\"\n"
	"  %dead: f32[?] = Sigmoid(%x) @\"dead\"\n"
	"  output %r\n"
	"}\n";

static char *pass_list(char *buf, size_t n)
{
	size_t k = 0;
	for (int i = 0; i < pass_pipeline_len; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", pass_pipeline[i].name);
	return buf;
}

static void test_pipeline_table(void **state)
{
	(void)state;
	assert_true(pass_pipeline_len >= 5);
	const char *want[] = {"shape", "fold", "simplify", "bnfold", "dce"};
	for (size_t i = 0; i < countof(want); i++)
		assert_true(pass_find(want[i]) >= 0);
	assert_true(pass_find("shape") < pass_find("fold"));
	assert_true(pass_find("fold") < pass_find("bnfold"));
	assert_int_equal(pass_find("nosuch"), -1);
	assert_int_equal(pass_find(""), -1);
	for (int i = 0; i < pass_pipeline_len; i++) {
		assert_int_equal(pass_find(pass_pipeline[i].name), i);
		assert_non_null(pass_pipeline[i].fn);
		assert_true(pass_pipeline[i].what && *pass_pipeline[i].what);
	}
}

static void test_pipeline_unknown_pass(void **state)
{
	(void)state;
	char list[256];
	pass_list(list, sizeof list);
	Graph *g = parse(bn_model);
	PipelineOptions o = {.print_after = "nosuch"};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), -1);
	expect_diag("--print-after");
	expect_diag("unknown pass 'nosuch'");
	expect_diag(list);
	/* the graph is untouched: nothing ran */
	assert_int_equal(count_op(g, OP_BATCHNORMALIZATION), 1);
	assert_int_equal(g->values[find(g, "c")].shape.rank, -1);

	PipelineOptions o2 = {.stop_after = "Fold"};
	assert_int_equal(pass_run_pipeline(g, NULL, &o2, &D), -1);
	expect_diag("--stop-after");
	expect_diag("unknown pass 'Fold'");
	expect_diag(list);
	assert_int_equal(D.nerrors, 2);
}

static void test_pipeline_full(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	PipelineOptions o = {.verify = 1};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	assert_int_equal(live_nodes(g), 2);
	only(g, OP_CONV);
	const Node *r = only(g, OP_RESHAPE);
	EXPECT_I64(&g->values[r->in[1]], 1, -1);
	expect_shape(&g->values[g->outputs[0]], SH(1, 75));
	assert_string_equal(g->values[g->outputs[0]].name, "r");
	assert_int_equal(ir_value_find(g, "dead"), -1);
	assert_int_equal(ir_verify(g, &D), 0);
	assert_int_equal(D.nerrors, 0);
}

static void test_pipeline_stop_after(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	PipelineOptions o = {.stop_after = "shape", .verify = 1};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	assert_int_equal(count_op(g, OP_BATCHNORMALIZATION), 1);
	assert_int_equal(count_op(g, OP_SHAPE), 1);
	assert_int_equal(count_op(g, OP_IDENTITY), 1);
	expect_shape(&g->values[find(g, "c")], SH(1, 3, 5, 5));
	assert_int_equal(g->values[find(g, "r")].shape.rank, -1); /* not folded yet */

	teardown(NULL);
	g = parse(bn_model);
	PipelineOptions o2 = {.stop_after = "simplify", .verify = 1};
	assert_int_equal(pass_run_pipeline(g, NULL, &o2, &D), 0);
	assert_int_equal(count_op(g, OP_SHAPE) + count_op(g, OP_IDENTITY), 0);
	assert_int_equal(count_op(g, OP_BATCHNORMALIZATION), 1); /* bnfold comes later */
	assert_int_equal(count_op(g, OP_SIGMOID), 1);            /* and so does dce */
}

/* Reads what was written to dumpf. */
static const char *dump_text(void)
{
	fflush(dumpf);
	return dumpbuf ? dumpbuf : "";
}

static void open_dump(void)
{
	static size_t len; /* open_memstream updates it on every flush: must outlive us */
	dumpf = open_memstream(&dumpbuf, &len);
	assert_non_null(dumpf);
}

static void test_pipeline_print_after(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	open_dump();
	PipelineOptions o = {.print_after = "bnfold", .dump = dumpf, .verify = 1};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	const char *t = dump_text();
	const char *h = strstr(t, "# IR after pass 'bnfold'\n");
	if (!h)
		fail_msg("no header in:\n%s", t);
	assert_ptr_equal(h, t); /* the header comes first */
	assert_null(strstr(h + 1, "# IR after pass"));
	assert_non_null(strstr(t, "graph @bn"));
	/* after bnfold, before dce: no BN, the dead Sigmoid still there */
	assert_null(strstr(t, "BatchNormalization("));
	assert_non_null(strstr(t, "Sigmoid("));
	/* the dump is IR that parses */
	Graph *g2 = ir_parse(t + strlen("# IR after pass 'bnfold'\n"), &D);
	if (!g2)
		fail_msg("dump does not parse: %s", D.last);
	keep(g2);
	assert_int_equal(count_op(g2, OP_CONV), 1);
}

static void test_pipeline_print_after_all(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	open_dump();
	PipelineOptions o = {.print_after_all = 1, .dump = dumpf, .verify = 1};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	const char *t = dump_text(), *p = t;
	int nrun = 0; /* the native passes (pack, memplan) run only with o.native */
	for (int i = 0; i < pass_pipeline_len; i++) {
		char h[64];
		if (pass_pipeline[i].native)
			continue;
		nrun++;
		snprintf(h, sizeof h, "# IR after pass '%s'\n", pass_pipeline[i].name);
		const char *q = strstr(p, h);
		if (!q)
			fail_msg("no (or out of order) '%s' in:\n%s", h, t);
		p = q + 1;
	}
	int n = 0;
	for (const char *q = t; (q = strstr(q, "# IR after pass")); q++)
		n++;
	assert_int_equal(n, nrun);
}

/* print_after and stop_after together: printed once, nothing after the stop. */
static void test_pipeline_print_and_stop(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	open_dump();
	PipelineOptions o = {.print_after_all = 1, .stop_after = "fold", .dump = dumpf};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	const char *t = dump_text();
	assert_non_null(strstr(t, "# IR after pass 'shape'"));
	assert_non_null(strstr(t, "# IR after pass 'fold'"));
	assert_null(strstr(t, "# IR after pass 'simplify'"));
	teardown(NULL);
	g = parse(bn_model);
	open_dump();
	PipelineOptions o2 = {.print_after = "dce", .stop_after = "fold", .dump = dumpf};
	assert_int_equal(pass_run_pipeline(g, NULL, &o2, &D), 0);
	assert_string_equal(dump_text(), "");
}

/* A pass error stops the pipeline and is reported once. */
static void test_pipeline_pass_error(void **state)
{
	(void)state;
	Graph *g = parse("graph @dyn opset 13 {\n"
	                 "  input %x: f32[2,6]\n"
	                 "  input %s: i64[2]\n"
	                 "  %y: f32[?] = Reshape(%x, %s) @\"reshape\"\n"
	                 "  output %y\n"
	                 "}\n");
	open_dump();
	PipelineOptions o = {.print_after_all = 1, .dump = dumpf, .verify = 1};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), -1);
	expect_diag("depends on data computed at run time");
	assert_int_equal(D.nerrors, 1);
	const char *t = dump_text();
	assert_non_null(strstr(t, "# IR after pass 'shape'"));
	assert_null(strstr(t, "# IR after pass 'fold'"));
}

/* ======================================================================================
 * ir_verify
 * ====================================================================================== */

static void test_verify_valid(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	assert_int_equal(ir_verify(g, &D), 0); /* before the pipeline (shapes unknown) too */
	PipelineOptions o = {0};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	assert_int_equal(ir_verify(g, &D), 0);
	assert_int_equal(D.nerrors, 0);
}

static void test_verify_operand_out_of_range(void **state)
{
	(void)state;
	Graph *g = parse(bn_model);
	PipelineOptions o = {0};
	assert_int_equal(pass_run_pipeline(g, NULL, &o, &D), 0);
	Node *n = (Node *)only(g, OP_RESHAPE);
	int saved = n->in[0];
	n->in[0] = g->nvalues + 3;
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("out of range");
	expect_diag("reshape");
	n->in[0] = -5;
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("out of range");
	/* a required operand absent (-1) is wrong too */
	n->in[0] = -1;
	assert_int_equal(ir_verify(g, &D), -1);
	n->in[0] = saved;
	assert_int_equal(ir_verify(g, &D), 0);
}

static void test_verify_defined_twice(void **state)
{
	(void)state;
	Graph *g = new_graph();
	int x = add_input(g, "x", DT_FLOAT, SH(3));
	int a = NODE1(g, OP_RELU, "a", x);
	int b = NODE1(g, OP_SIGMOID, "b", a);
	add_output(g, b);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(ir_verify(g, &D), 0);
	/* the Sigmoid also claims a as its result */
	g->nodes[1].out[0] = a;
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("defined twice");
	g->nodes[1].out[0] = b;
	assert_int_equal(ir_verify(g, &D), 0);
	/* a node result that is also a graph input */
	g->nodes[0].out[0] = x;
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("defined twice");
	g->nodes[0].out[0] = a;
	/* used before defined (nodes out of order) */
	Node tmp = g->nodes[0];
	g->nodes[0] = g->nodes[1];
	g->nodes[1] = tmp;
	g->values[a].producer = 1;
	g->values[b].producer = 0;
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("not defined before use");
}

static void test_verify_bad_output_and_arity(void **state)
{
	(void)state;
	Graph *g = new_graph();
	int x = add_input(g, "x", DT_FLOAT, SH(3));
	int a = NODE1(g, OP_RELU, "a", x);
	add_output(g, a);
	assert_int_equal(ir_verify(g, &D), 0);
	g->outputs[0] = g->nvalues;
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("graph output 0");
	g->outputs[0] = a;
	g->nodes[0].nin = 0; /* Relu takes 1 operand */
	assert_int_equal(ir_verify(g, &D), -1);
	expect_diag("operands");
}

/* ---- pack, memplan (the backend's passes) ---------------------------------------------- */

static const char plan_model[] =
	"graph @plan opset 13 {\n"
	"  input %x: f32[1,4,8,8]\n"
	"  const %w: f32[4,4,3,3] = dense<144 elements>\n"
	"  %a: f32[?] = Conv(%x, %w) {pads=[1,1,1,1]} @\"c1\"\n"
	"  %b: f32[?] = Relu(%a) @\"r1\"\n"
	"  %c: f32[?] = Conv(%b, %w) {pads=[1,1,1,1]} @\"c2\"\n"
	"  %d: f32[?] = Sigmoid(%c) @\"s1\"\n"
	"  %e: f32[?] = Add(%b, %d) @\"add\"\n"
	"  %f: f32[?] = Sigmoid(%e) @\"s2\"\n"
	"  %g: f32[?] = Sigmoid(%f) @\"s3\"\n"
	"  %h: f32[?] = Sigmoid(%g) @\"s4\"\n"
	"  output %h\n"
	"}\n";

/* Buffers whose lifetimes overlap never share bytes; results never overlap their node's
 * operands; offsets are 64-byte aligned; dead buffers are reused. */
static void test_memplan_liveness(void **state)
{
	(void)state;
	Graph *g = parse(plan_model);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_pack(g, NULL, &D), 0);
	assert_int_equal(pass_memplan(g, NULL, &D), 0);
	assert_int_equal(ir_verify(g, &D), 0);
	/* the Relu was fused into c1 */
	assert_int_equal(count_op(g, OP_RELU), 0);
	int c1 = -1;
	for (int i = 0; i < g->nnodes; i++)
		if (!strcmp(g->nodes[i].name, "c1"))
			c1 = i;
	assert_true(c1 >= 0);
	assert_int_equal(ir_attr_i(&g->nodes[c1], "sqc.relu", 0), 1);
	int nn = g->nnodes;
	int64_t off[32], size[32], first[32], last[32], total = 0;
	assert_true(nn <= 32);
	for (int i = 0; i < nn; i++) {
		const Node *n = &g->nodes[i];
		int v = n->out[0];
		off[i] = ir_attr_i(n, "sqc.ws_offset", -1);
		size[i] = (int64_t)ir_value_nbytes(&g->values[v]);
		first[i] = i;
		last[i] = i;
		for (int j = i + 1; j < nn; j++)
			for (int k = 0; k < g->nodes[j].nin; k++)
				if (g->nodes[j].in[k] == v)
					last[i] = j;
		if (g->values[v].is_output) {
			assert_int_equal(off[i], -1); /* the caller's output buffer */
			continue;
		}
		assert_true(off[i] >= 0);
		assert_int_equal(off[i] % 64, 0);
		total += size[i];
	}
	for (int i = 0; i < nn; i++)
		for (int j = i + 1; j < nn; j++) {
			if (off[i] < 0 || off[j] < 0 || first[j] > last[i])
				continue; /* j is made after i's last reader: may reuse */
			int disjoint = off[i] + size[i] <= off[j] || off[j] + size[j] <= off[i];
			if (!disjoint)
				fail_msg("%s [%lld, +%lld) and %s [%lld, +%lld) overlap while both live",
				         g->nodes[i].name, (long long)off[i], (long long)size[i],
				         g->nodes[j].name, (long long)off[j], (long long)size[j]);
		}
	assert_true(memplan_size(g) < total);
}

static const char packed_model[] =
	"graph @q opset 13 {\n"
	"  input %x: f32[1,1,2,2]\n"
	"  const %w: f32[2,1,1,2] = [0.5,-0.5,0,0.25]\n"
	"  %y: f32[?] = Conv(%x, %w) {\"sqc.bits\"=2, \"sqc.scales\"=[0.5,0.25]} @\"qc\"\n"
	"  output %y\n"
	"}\n";

static void test_pack_kernels_and_codes(void **state)
{
	(void)state;
	Graph *g = parse(packed_model);
	assert_int_equal(pass_shape(g, NULL, &D), 0);
	assert_int_equal(pass_pack(g, NULL, &D), 0);
	assert_string_equal(ir_attr_s(&g->nodes[0], "sqc.kernel", ""), "signselect");
	uint64_t *rows;
	float *sc;
	int64_t C, per;
	assert_int_equal(pack_weights(g, &g->nodes[0], &rows, &sc, &C, &per, &D), 0);
	assert_int_equal(C, 2);
	assert_int_equal(per, 2);
	/* channel 0: t = [+1, -1] -> T+ bit 0, T- bit 1; channel 1: t = [0, +1] -> T+ bit 1 */
	int64_t kw = pack_kwords(per);
	assert_int_equal(kw, 4);
	assert_int_equal(rows[0], 1);
	assert_int_equal(rows[kw], 2);
	assert_int_equal(rows[2 * kw], 2);
	assert_int_equal(rows[3 * kw], 0);
	assert_true(sc[0] == 0.5f && sc[1] == 0.25f);
	free(rows);
	free(sc);
	/* a binary layer must not have zeros; a weight off scale * t is an error */
	ir_attr_set_i(g, 0, "sqc.bits", 1);
	assert_int_equal(pass_pack(g, NULL, &D), -1);
	assert_non_null(strstr(D.last, "not scale"));
	ir_attr_set_i(g, 0, "sqc.bits", 2);
	((float *)g->values[g->nodes[0].in[1]].data)[3] = 0.3f;
	assert_int_equal(pass_pack(g, NULL, &D), -1);
	assert_non_null(strstr(D.last, "weight 1 of channel 1"));
	/* with quantized activations the kernel is bit-serial */
	((float *)g->values[g->nodes[0].in[1]].data)[3] = 0.25f;
	ir_attr_set_i(g, 0, "sqc.act_bits", 2);
	assert_int_equal(pass_pack(g, NULL, &D), 0);
	assert_string_equal(ir_attr_s(&g->nodes[0], "sqc.kernel", ""), "bitserial");
}

/* The passes' target records: the default, both targets by triple, and their cost rules
 * (passes/target.c) on VGG-like 3x3 layers of 64 channels (k = 576) and LeNet's 6. */
static void test_pass_targets(void **state)
{
	(void)state;
	const PassTarget *x86 = pass_target_find("x86_64-linux-gnu", NULL);
	const PassTarget *arm = pass_target_find("aarch64-linux-gnu", NULL);
	assert_non_null(x86);
	assert_non_null(arm);
	assert_ptr_equal(pass_target_find(NULL, NULL), x86);
	assert_ptr_equal(pass_target_find("x86_64-linux-gnu", "x86-64-v3"), x86);
	assert_string_equal(x86->level, "x86-64-v3");
	assert_string_equal(arm->level, "armv8-a");
	const PassTarget *x512 = pass_target_find(NULL, "avx512");
	assert_non_null(x512);
	assert_ptr_not_equal(x512, x86);
	assert_non_null(pass_target_find("aarch64-linux-gnu", "armv8.2-a+dotprod"));
	assert_non_null(pass_target_find("x86_64-linux-gnu", "avxvnni"));
	assert_null(pass_target_find("aarch64-linux-gnu", "avx512"));
	assert_null(pass_target_find("sparc-sun", NULL));
	/* x86-64-v3: one or two planes on full channel words bit-serial, more planes or
	 * part-filled words int8 */
	assert_int_equal(x86->qkernel(1, 2, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(x86->qkernel(2, 2, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(x86->qkernel(2, 3, 576, 64, 100), SQK_INT8);
	assert_int_equal(x86->qkernel(1, 2, 288, 32, 100), SQK_INT8);
	assert_int_equal(x86->qkernel(1, 8, 576, 64, 100), SQK_INT8);
	assert_int_equal(x86->qkernel(1, 1, 150, 6, 100), SQK_INT8);
	assert_int_equal(x86->qkernel(1, 2, 64, 64, 196), SQK_INT8); /* 1x1 */
	assert_int_equal(x86->qkernel(1, 1, 64, 64, 196), SQK_BITSERIAL);
	/* avx512: up to 3-4 planes on full words, int8 on few channels */
	assert_int_equal(x512->qkernel(2, 3, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(x512->qkernel(1, 4, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(x512->qkernel(2, 4, 576, 64, 100), SQK_INT8);
	assert_int_equal(x512->qkernel(2, 2, 288, 32, 100), SQK_BITSERIAL);
	assert_int_equal(x512->qkernel(2, 4, 288, 32, 100), SQK_INT8);
	assert_int_equal(x512->qkernel(1, 1, 150, 6, 100), SQK_INT8);
	assert_int_equal(x512->qkernel(2, 4, 64, 64, 196), SQK_INT8); /* 1x1 */
	assert_int_equal(arm->qkernel(1, 2, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(arm->qkernel(2, 8, 576, 64, 100), SQK_INT8);
	assert_int_equal(arm->qkernel(1, 8, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(arm->qkernel(1, 4, 288, 32, 100), SQK_BITSERIAL);
	assert_int_equal(arm->qkernel(1, 1, 150, 6, 100), SQK_INT8);
	/* dotprod: SDOT beats two-plane ternary */
	const PassTarget *dot = pass_target_find("aarch64-linux-gnu", "armv8.2-a+dotprod");
	assert_int_equal(dot->qkernel(1, 2, 576, 64, 100), SQK_BITSERIAL);
	assert_int_equal(dot->qkernel(2, 2, 576, 64, 100), SQK_INT8);
	assert_int_equal(dot->qkernel(2, 8, 576, 576, 1), SQK_BITSERIAL);
	/* Gemm-like layers: bit-serial everywhere */
	assert_int_equal(x86->qkernel(2, 8, 576, 576, 1), SQK_BITSERIAL);
	assert_int_equal(arm->qkernel(2, 8, 576, 576, 1), SQK_BITSERIAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_fold_view_chain),
		T(test_fold_view_chain_vector_index),
		T(test_fold_constant_nodes),
		T(test_fold_i64_arith),
		T(test_fold_shape_start_end),
		T(test_fold_runtime_shape_error),
		T(test_fold_runtime_shape_error_chain),
		T(test_fold_keeps_results),
		T(test_simplify_identity_dropout),
		T(test_simplify_output_name),
		T(test_simplify_input_passthrough),
		T(test_simplify_dropout_mask_used),
		T(test_dce),
		T(test_dce_all_dead),
		T(test_dce_keeps_inputs),
		T(test_bnfold_conv_bias),
		T(test_bnfold_conv_nobias_eps),
		T(test_bnfold_conv_absent_bias),
		T(test_bnfold_group_conv),
		T(test_bnfold_depthwise_conv),
		T(test_bnfold_gemm_transb1),
		T(test_bnfold_gemm_transb0),
		T(test_bnfold_second_reader),
		T(test_bnfold_conv_output_is_graph_output),
		T(test_bnfold_not_applicable),
		T(test_bnfold_shared_weight),
		T(test_bnfold_shared_weight_names),
		T(test_pipeline_table),
		T(test_pipeline_unknown_pass),
		T(test_pipeline_full),
		T(test_pipeline_stop_after),
		T(test_pipeline_print_after),
		T(test_pipeline_print_after_all),
		T(test_pipeline_print_and_stop),
		T(test_pipeline_pass_error),
		T(test_verify_valid),
		T(test_verify_operand_out_of_range),
		T(test_verify_defined_twice),
		T(test_verify_bad_output_and_arity),
		T(test_memplan_liveness),
		T(test_pack_kernels_and_codes),
		T(test_pass_targets),
#undef T
	};
	(void)test_bnfold_shared_weight_names;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
