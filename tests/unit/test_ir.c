/* tests/unit/test_ir.c: graph building and rewriting (graph.c), the op table and dtype
 * helpers (ops.c), and the textual IR (print.c / parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

/* ---- helpers ---- */

static Shape shp(int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
	Shape s = {rank, {d0, d1, d2, d3}};
	return s;
}

static void add_input(Graph *g, int v)
{
	g->inputs = realloc(g->inputs, sizeof(int) * (size_t)(g->ninputs + 1));
	g->inputs[g->ninputs++] = v;
	g->values[v].is_input = 1;
}

static void add_output(Graph *g, int v)
{
	g->outputs = realloc(g->outputs, sizeof(int) * (size_t)(g->noutputs + 1));
	g->outputs[g->noutputs++] = v;
	g->values[v].is_output = 1;
}

/* A constant whose contents are a copy of src. */
static int add_const(Graph *g, const char *name, DType t, Shape s, const void *src)
{
	size_t n = (size_t)ir_shape_numel(&s) * ir_dtype_size(t);
	void *data = xmalloc(n);
	if (src)
		memcpy(data, src, n);
	return ir_const_add(g, name, t, &s, data);
}

static char *print_str(const Graph *g, int full)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	ir_print(f, g, full);
	fclose(f);
	return buf;
}

static Graph *parse_ok(const char *text)
{
	Diag d;
	diag_init(&d, "t.ir");
	Graph *g = ir_parse(text, &d);
	if (!g)
		fail_msg("parse failed: %s\n--- text:\n%s", d.last, text);
	assert_int_equal(d.nerrors, 0);
	return g;
}

/* Parses text that must fail with a message containing msg. */
static void parse_err(const char *text, const char *msg)
{
	Diag d;
	diag_init(&d, NULL);
	d.out = NULL;
	Graph *g = ir_parse(text, &d);
	if (g) {
		ir_graph_free(g);
		fail_msg("parse succeeded, expected \"%s\"\n--- text:\n%s", msg, text);
	}
	assert_int_equal(d.nerrors, 1);
	if (!strstr(d.last, msg))
		fail_msg("expected \"%s\" in \"%s\"", msg, d.last);
}

/* print(parse(text)) == text; returns the parsed graph. */
static Graph *roundtrip_text(const char *text, int full)
{
	Graph *g = parse_ok(text);
	char *again = print_str(g, full);
	assert_string_equal(again, text);
	free(again);
	return g;
}

static int same_f32(float a, float b)
{
	return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

static int same_f64(double a, double b)
{
	return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

/* ---- graph building ---- */

static void test_values_nodes(void **state)
{
	(void)state;
	Graph *g = ir_graph_new(NULL);
	assert_string_equal(g->name, "main");
	assert_int_equal(g->opset, 13);
	Shape s = shp(2, 2, 3, 0, 0);
	int x = ir_value_add(g, "x", DT_FLOAT, &s);
	int t = ir_value_add(g, NULL, DT_UNDEF, NULL);
	assert_int_equal(x, 0);
	assert_int_equal(t, 1);
	assert_string_equal(g->values[t].name, "t1");
	assert_int_equal(g->values[t].shape.rank, -1);
	assert_int_equal(g->values[x].producer, -1);
	assert_int_equal(ir_value_find(g, "x"), x);
	assert_int_equal(ir_value_find(g, "nope"), -1);

	float w[6] = {1, 2, 3, 4, 5, 6};
	int c = add_const(g, "w", DT_FLOAT, s, w);
	assert_non_null(g->values[c].data);
	assert_int_equal(ir_value_nbytes(&g->values[c]), 24);
	assert_int_equal(ir_value_nbytes(&g->values[t]), 0);

	int in[2] = {x, c};
	int n = ir_node_add(g, OP_ADD, NULL, in, 2, &t, 1);
	assert_int_equal(g->values[t].producer, n);
	assert_string_equal(g->nodes[n].name, "Add_0");
	assert_int_equal(g->nodes[n].nin, 2);
	assert_int_equal(g->nodes[n].in[1], c);
	int y = ir_value_add(g, "y", DT_FLOAT, &s);
	int m = ir_node_add(g, OP_RELU, "relu", &t, 1, &y, 1);
	assert_string_equal(g->nodes[m].name, "relu");
	assert_int_equal(ir_value_uses(g, t), 1);
	assert_int_equal(ir_value_uses(g, x), 1);
	ir_graph_free(g);
}

static void test_attrs(void **state)
{
	(void)state;
	Graph *g = ir_graph_new("a");
	int x = ir_value_add(g, "x", DT_FLOAT, NULL), y = ir_value_add(g, "y", DT_FLOAT, NULL);
	int n = ir_node_add(g, OP_CONV, "c", &x, 1, &y, 1);
	int64_t pads[4] = {1, 1, 2, 2}, got[8];
	float sc[2] = {0.5f, 2.0f};
	ir_attr_set_i(g, n, "group", 2);
	ir_attr_set_f(g, n, "alpha", 0.25f);
	ir_attr_set_s(g, n, "auto_pad", "NOTSET");
	ir_attr_set_ints(g, n, "pads", pads, 4);
	ir_attr_set_floats(g, n, "scales", sc, 2);
	Node *nd = &g->nodes[n];
	assert_int_equal(nd->nattr, 5);
	assert_int_equal(ir_attr_i(nd, "group", 1), 2);
	assert_int_equal(ir_attr_i(nd, "missing", 7), 7);
	assert_true(ir_attr_f(nd, "alpha", 0) == 0.25f);
	assert_true(ir_attr_f(nd, "group", 0) == 2.0f); /* ints read as floats */
	assert_true(ir_attr_f(nd, "missing", 1.5f) == 1.5f);
	assert_string_equal(ir_attr_s(nd, "auto_pad", "x"), "NOTSET");
	assert_string_equal(ir_attr_s(nd, "group", "def"), "def"); /* wrong kind: default */
	assert_int_equal(ir_attr_ints(nd, "pads", got, 8), 4);
	assert_int_equal(got[2], 2);
	assert_int_equal(ir_attr_ints(nd, "pads", got, 2), 4); /* count even when truncated */
	assert_int_equal(ir_attr_ints(nd, "scales", got, 8), -1);
	assert_int_equal(ir_attr_ints(nd, "missing", got, 8), -1);
	const Attr *a = ir_attr_get(nd, "scales");
	assert_non_null(a);
	assert_int_equal(a->kind, AT_FLOATS);
	assert_int_equal(a->n, 2);
	assert_true(a->floats[1] == 2.0f);

	/* overwriting keeps the position and may change the kind */
	ir_attr_set_f(g, n, "group", 3.0f);
	assert_int_equal(nd->nattr, 5);
	assert_string_equal(nd->attrs[0].name, "group");
	assert_int_equal(nd->attrs[0].kind, AT_FLOAT);
	assert_int_equal(ir_attr_i(nd, "group", 0), 3);

	ir_attr_remove(nd, "alpha");
	assert_int_equal(nd->nattr, 4);
	assert_null(ir_attr_get(nd, "alpha"));
	assert_string_equal(nd->attrs[1].name, "auto_pad");
	ir_attr_remove(nd, "missing");
	assert_int_equal(nd->nattr, 4);
	ir_graph_free(g);
}

static void test_replace_uses(void **state)
{
	(void)state;
	Graph *g = ir_graph_new("r");
	int x = ir_value_add(g, "x", DT_FLOAT, NULL);
	int a = ir_value_add(g, "a", DT_FLOAT, NULL);
	int b = ir_value_add(g, "b", DT_FLOAT, NULL);
	int y = ir_value_add(g, "y", DT_FLOAT, NULL);
	add_input(g, x);
	ir_node_add(g, OP_IDENTITY, "id", &x, 1, &a, 1);
	int in[2] = {a, a};
	ir_node_add(g, OP_ADD, "add", in, 2, &b, 1);
	ir_node_add(g, OP_RELU, "relu", &b, 1, &y, 1);
	add_output(g, y);

	ir_replace_uses(g, a, x);
	assert_int_equal(g->nodes[1].in[0], x);
	assert_int_equal(g->nodes[1].in[1], x);
	assert_int_equal(ir_value_uses(g, a), 0);
	assert_int_equal(ir_value_uses(g, x), 3);

	/* replacing a graph output: the new value takes over the output's name */
	ir_replace_uses(g, y, b);
	assert_int_equal(g->outputs[0], b);
	assert_true(g->values[b].is_output);
	assert_false(g->values[y].is_output);
	assert_string_equal(g->values[b].name, "y");
	assert_string_equal(g->values[y].name, "b");
	ir_graph_free(g);
}

static void test_compact(void **state)
{
	(void)state;
	Graph *g = ir_graph_new("c");
	Shape s = shp(1, 2, 0, 0, 0);
	float w[2] = {1, 2};
	int x = ir_value_add(g, "x", DT_FLOAT, &s);
	int unused = ir_value_add(g, "unused", DT_FLOAT, &s);
	int c = add_const(g, "c", DT_FLOAT, s, w);
	int a = ir_value_add(g, "a", DT_FLOAT, &s);
	int y = ir_value_add(g, "y", DT_FLOAT, &s);
	add_input(g, x);
	int in[2] = {x, c};
	int dead = ir_node_add(g, OP_ADD, "dead", in, 2, &a, 1);
	ir_node_add(g, OP_RELU, "relu", &x, 1, &y, 1);
	add_output(g, y);
	g->nodes[dead].dead = 1;
	(void)unused;

	ir_graph_compact(g); /* frees c's data (checked by the sanitizer build) */
	assert_int_equal(g->nnodes, 1);
	assert_int_equal(g->nvalues, 2);
	assert_string_equal(g->nodes[0].name, "relu");
	assert_int_equal(ir_value_find(g, "x"), 0);
	assert_int_equal(ir_value_find(g, "y"), 1);
	assert_int_equal(ir_value_find(g, "c"), -1);
	assert_int_equal(g->nodes[0].in[0], 0);
	assert_int_equal(g->nodes[0].out[0], 1);
	assert_int_equal(g->values[1].producer, 0);
	assert_int_equal(g->inputs[0], 0);
	assert_int_equal(g->outputs[0], 1);
	ir_graph_free(g);
}

static void test_toposort(void **state)
{
	(void)state;
	Graph *g = ir_graph_new("t");
	int x = ir_value_add(g, "x", DT_FLOAT, NULL);
	int a = ir_value_add(g, "a", DT_FLOAT, NULL);
	int b = ir_value_add(g, "b", DT_FLOAT, NULL);
	int y = ir_value_add(g, "y", DT_FLOAT, NULL);
	add_input(g, x);
	/* stored in reverse order */
	int in[2] = {a, b};
	ir_node_add(g, OP_ADD, "add", in, 2, &y, 1);
	ir_node_add(g, OP_RELU, "relu", &a, 1, &b, 1);
	ir_node_add(g, OP_SIGMOID, "sig", &x, 1, &a, 1);
	add_output(g, y);
	Diag d;
	diag_init(&d, NULL);
	d.out = NULL;
	assert_int_equal(ir_graph_toposort(g, &d), 0);
	assert_string_equal(g->nodes[0].name, "sig");
	assert_string_equal(g->nodes[1].name, "relu");
	assert_string_equal(g->nodes[2].name, "add");
	assert_int_equal(g->values[a].producer, 0);
	assert_int_equal(g->values[b].producer, 1);
	assert_int_equal(g->values[y].producer, 2);
	assert_int_equal(d.nerrors, 0);

	/* sorting a sorted graph keeps it as is */
	assert_int_equal(ir_graph_toposort(g, &d), 0);
	assert_string_equal(g->nodes[0].name, "sig");

	/* a cycle: sig now reads b, which relu computes from a */
	g->nodes[0].in[0] = b;
	assert_int_equal(ir_graph_toposort(g, &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.last, "cycle"));
	ir_graph_free(g);
}

/* ---- op table, dtypes, shapes ---- */

static void test_op_table(void **state)
{
	(void)state;
	for (int i = 0; i < OP_COUNT; i++) {
		assert_non_null(ir_ops[i].name);
		assert_int_equal(ir_op_lookup(ir_op_name((Op)i)), i);
		assert_true(ir_ops[i].min_in <= ir_ops[i].max_in);
		assert_true(ir_ops[i].min_out >= 1 && ir_ops[i].min_out <= ir_ops[i].max_out);
	}
	assert_int_equal(ir_op_lookup("Conv"), OP_CONV);
	assert_int_equal(ir_op_lookup("conv"), -1);
	assert_int_equal(ir_op_lookup("NoSuchOp"), -1);
	assert_string_equal(ir_op_name(OP_COUNT), "?");
	assert_true(ir_ops[OP_CONV].flags & OPF_WEIGHTED);
	assert_true(ir_ops[OP_ADD].flags & OPF_BINARY);
}

static void test_dtypes(void **state)
{
	(void)state;
	static const size_t sizes[DT_COUNT] = {
		[DT_FLOAT] = 4, [DT_DOUBLE] = 8, [DT_INT8] = 1, [DT_UINT8] = 1,
		[DT_INT32] = 4, [DT_INT64] = 8,  [DT_BOOL] = 1,
	};
	for (int t = 1; t < DT_COUNT; t++) {
		assert_int_equal(ir_dtype_parse(ir_dtype_name((DType)t)), t);
		assert_int_equal(ir_dtype_size((DType)t), sizes[t]);
	}
	assert_string_equal(ir_dtype_name(DT_FLOAT), "f32");
	assert_string_equal(ir_dtype_name(DT_INT64), "i64");
	assert_int_equal(ir_dtype_parse("f16"), DT_UNDEF);
	assert_int_equal(ir_dtype_parse("undef"), DT_UNDEF);
	assert_int_equal(ir_dtype_size(DT_UNDEF), 0);
}

static void test_shapes(void **state)
{
	(void)state;
	Shape s = shp(4, 1, 3, 28, 28);
	assert_int_equal(ir_shape_numel(&s), 3 * 28 * 28);
	Shape scalar = {0, {0}};
	assert_int_equal(ir_shape_numel(&scalar), 1);
	Shape unknown = {-1, {0}};
	assert_int_equal(ir_shape_numel(&unknown), -1);
	Shape zero = shp(2, 5, 0, 0, 0);
	assert_int_equal(ir_shape_numel(&zero), 0);
	Shape big = shp(3, INT64_C(1) << 31, INT64_C(1) << 31, INT64_C(1) << 2, 0);
	assert_int_equal(ir_shape_numel(&big), -1); /* 2^64 overflows */
	Shape edge = shp(2, INT64_C(1) << 31, INT64_C(1) << 31, 0, 0);
	assert_int_equal(ir_shape_numel(&edge), INT64_C(1) << 62);
	Shape neg = shp(1, -3, 0, 0, 0);
	assert_int_equal(ir_shape_numel(&neg), -1);

	char buf[64];
	assert_string_equal(ir_shape_str(&s, buf, sizeof buf), "[1,3,28,28]");
	assert_string_equal(ir_shape_str(&scalar, buf, sizeof buf), "[]");
	assert_string_equal(ir_shape_str(&unknown, buf, sizeof buf), "[?]");
	assert_true(ir_shape_eq(&s, &s));
	assert_false(ir_shape_eq(&s, &zero));
	assert_false(ir_shape_eq(&scalar, &unknown));
}

/* ---- textual IR ---- */

/* A graph with every attribute kind, quoted names, absent operands and results, multiple
 * results, inline constants of every dtype (inf/nan, a scalar, an empty one), an elided
 * constant and a dead node. */
static Graph *build_rich(void)
{
	Graph *g = ir_graph_new("rich graph");
	g->opset = 11;
	Shape s4 = shp(4, 1, 1, 28, 28);
	int x = ir_value_add(g, "input.1", DT_FLOAT, &s4);
	add_input(g, x);
	int x2 = ir_value_add(g, "second input", DT_INT64, NULL);
	add_input(g, x2);

	static const float wf[8] = {0.1f, -2.5f, INFINITY, -INFINITY, NAN, 1e-30f, 3.4028235e38f,
	                            -0.0f};
	static const double wd[4] = {0.1, 1e300, -INFINITY, NAN};
	static const int8_t wi8[3] = {-128, 127, 0};
	static const uint8_t wu8[2] = {0, 255};
	static const int32_t wi32[2] = {INT32_MIN, INT32_MAX};
	static const int64_t wi64[3] = {INT64_MIN, INT64_MAX, -1};
	static const uint8_t wb[3] = {1, 0, 1};
	static const float scalar = 3.5f;
	float big[150];
	for (int i = 0; i < 150; i++)
		big[i] = (float)i / 7.0f;

	int cf = add_const(g, "cf", DT_FLOAT, shp(1, 8, 0, 0, 0), wf);
	int cd = add_const(g, "cd", DT_DOUBLE, shp(2, 2, 2, 0, 0), wd);
	int ci8 = add_const(g, "ci8", DT_INT8, shp(1, 3, 0, 0, 0), wi8);
	int cu8 = add_const(g, "cu8", DT_UINT8, shp(2, 1, 2, 0, 0), wu8);
	int ci32 = add_const(g, "ci32", DT_INT32, shp(1, 2, 0, 0, 0), wi32);
	int ci64 = add_const(g, "ci64", DT_INT64, shp(1, 3, 0, 0, 0), wi64);
	int cb = add_const(g, "cb", DT_BOOL, shp(1, 3, 0, 0, 0), wb);
	int cs = add_const(g, "scale", DT_FLOAT, shp(0, 0, 0, 0, 0), &scalar);
	int ce = add_const(g, "empty", DT_INT64, shp(1, 0, 0, 0, 0), NULL);
	int w = add_const(g, "onnx::Conv_12", DT_FLOAT, shp(4, 6, 1, 5, 5), big);
	int dc = add_const(g, "only dead", DT_FLOAT, shp(0, 0, 0, 0, 0), &scalar);

	int conv = ir_value_add(g, "/conv1/Conv_output_0", DT_FLOAT, &(Shape){4, {1, 6, 24, 24}});
	int cin[3] = {x, w, -1};
	int n = ir_node_add(g, OP_CONV, "conv1", cin, 3, &conv, 1);
	int64_t dil[2] = {1, 1}, pads[4] = {0, 0, 0, 0};
	float fl[5] = {0.5f, 1.0f, INFINITY, -INFINITY, 1e-5f};
	ir_attr_set_ints(g, n, "dilations", dil, 2);
	ir_attr_set_i(g, n, "group", 1);
	ir_attr_set_ints(g, n, "pads", pads, 4);
	ir_attr_set_s(g, n, "auto_pad", "NOTSET");
	ir_attr_set_f(g, n, "alpha", 0.01f);
	ir_attr_set_f(g, n, "one", 1.0f);
	ir_attr_set_f(g, n, "nan", NAN);
	ir_attr_set_f(g, n, "neg_inf", -INFINITY);
	ir_attr_set_i(g, n, "big", INT64_MIN);
	ir_attr_set_floats(g, n, "scales", fl, 5);
	ir_attr_set_ints(g, n, "none", NULL, 0);
	ir_attr_set_floats(g, n, "nofloats", NULL, 0);
	ir_attr_set_s(g, n, "weird attr-name", "tab\there \"q\" \\ \x01");

	int pool = ir_value_add(g, "weird name", DT_FLOAT, NULL);
	int idx = ir_value_add(g, "ends:", DT_INT64, NULL);
	int pout[2] = {pool, idx};
	ir_node_add(g, OP_MAXPOOL, "pool \"1\"", &conv, 1, pout, 2);

	int drop = ir_value_add(g, "quote\"back\\slash\nnl", DT_FLOAT, NULL);
	int dout[2] = {drop, -1};
	ir_node_add(g, OP_DROPOUT, "", &pool, 1, dout, 2);

	int dead_out = ir_value_add(g, "dead_out", DT_FLOAT, NULL);
	int din[2] = {drop, dc};
	int dn = ir_node_add(g, OP_MUL, "dead", din, 2, &dead_out, 1);
	g->nodes[dn].dead = 1;

	int m = ir_value_add(g, "m", DT_FLOAT, NULL);
	int min[2] = {drop, cs};
	ir_node_add(g, OP_MUL, "mul", min, 2, &m, 1);

	/* a node reading all the small constants (arity is the verifier's business) */
	int all = ir_value_add(g, "all", DT_FLOAT, NULL);
	int ain[9] = {cf, cd, ci8, cu8, ci32, ci64, cb, ce, x2};
	ir_node_add(g, OP_CONCAT, "all", ain, 9, &all, 1);

	add_output(g, m);
	add_output(g, idx);
	add_output(g, all);
	return g;
}

static const char rich_text[] =
	"graph @\"rich graph\" opset 11 {\n"
	"  input %input.1: f32[1,1,28,28]\n"
	"  input %\"second input\": i64[?]\n"
	"  const %cf: f32[8] = [0.1,-2.5,inf,-inf,nan,1e-30,3.4028235e+38,-0]\n"
	"  const %cd: f64[2,2] = [0.1,1e+300,-inf,nan]\n"
	"  const %ci8: i8[3] = [-128,127,0]\n"
	"  const %cu8: u8[1,2] = [0,255]\n"
	"  const %ci32: i32[2] = [-2147483648,2147483647]\n"
	"  const %ci64: i64[3] = [-9223372036854775808,9223372036854775807,-1]\n"
	"  const %cb: bool[3] = [1,0,1]\n"
	"  const %scale: f32[] = [3.5]\n"
	"  const %empty: i64[0] = []\n"
	"  const %onnx::Conv_12: f32[6,1,5,5] = dense<150 elements>\n"
	"  %/conv1/Conv_output_0: f32[1,6,24,24] = Conv(%input.1, %onnx::Conv_12, _) "
	"{dilations=[1,1], group=1, pads=[0,0,0,0], auto_pad=\"NOTSET\", alpha=0.01f, one=1f, "
	"nan=nan, neg_inf=-inf, big=-9223372036854775808, scales=[0.5f,1f,inf,-inf,1e-05f], "
	"none=ints[], nofloats=floats[], \"weird attr-name\"=\"tab\\there \\\"q\\\" \\\\ \\x01\"} "
	"@\"conv1\"\n"
	"  %\"weird name\": f32[?], %\"ends:\": i64[?] = MaxPool(%/conv1/Conv_output_0) "
	"@\"pool \\\"1\\\"\"\n"
	"  %\"quote\\\"back\\\\slash\\nnl\": f32[?], _ = Dropout(%\"weird name\") "
	"@\"Dropout_2\"\n"
	"  %m: f32[?] = Mul(%\"quote\\\"back\\\\slash\\nnl\", %scale) @\"mul\"\n"
	"  %all: f32[?] = Concat(%cf, %cd, %ci8, %cu8, %ci32, %ci64, %cb, %empty, "
	"%\"second input\") @\"all\"\n"
	"  output %m\n"
	"  output %\"ends:\"\n"
	"  output %all\n"
	"}\n";

static void test_print_rich(void **state)
{
	(void)state;
	Graph *g = build_rich();
	char *s = print_str(g, 0);
	assert_string_equal(s, rich_text);
	free(s);
	ir_graph_free(g);
}

static void test_roundtrip_rich(void **state)
{
	(void)state;
	Graph *g = build_rich();
	for (int full = 0; full <= 1; full++) {
		char *s1 = print_str(g, full);
		Graph *g2 = roundtrip_text(s1, full);
		free(s1);

		/* structure */
		assert_string_equal(g2->name, "rich graph");
		assert_int_equal(g2->opset, 11);
		assert_int_equal(g2->ninputs, 2);
		assert_int_equal(g2->noutputs, 3);
		assert_int_equal(g2->nnodes, 5); /* the dead node is not printed */
		assert_string_equal(g2->values[g2->outputs[1]].name, "ends:");
		assert_true(g2->values[g2->outputs[1]].is_output);
		assert_true(g2->values[g2->inputs[1]].is_input);
		assert_int_equal(ir_value_find(g2, "only dead"), -1);
		for (int i = 0; i < g2->nnodes; i++)
			for (int j = 0; j < g2->nodes[i].nout; j++)
				if (g2->nodes[i].out[j] >= 0)
					assert_int_equal(g2->values[g2->nodes[i].out[j]].producer, i);

		const Node *conv = &g2->nodes[0];
		assert_int_equal(conv->op, OP_CONV);
		assert_int_equal(conv->nin, 3);
		assert_int_equal(conv->in[2], -1);
		assert_int_equal(conv->nattr, g->nodes[0].nattr);
		for (int k = 0; k < conv->nattr; k++) {
			const Attr *a = &conv->attrs[k], *b = &g->nodes[0].attrs[k];
			assert_string_equal(a->name, b->name);
			assert_int_equal(a->kind, b->kind);
		}
		assert_int_equal(ir_attr_i(conv, "big", 0), INT64_MIN);
		assert_true(isnan(ir_attr_f(conv, "nan", 0)));
		assert_string_equal(ir_attr_s(conv, "weird attr-name", ""), "tab\there \"q\" \\ \x01");
		const Node *pool = &g2->nodes[1];
		assert_int_equal(pool->nout, 2);
		assert_string_equal(pool->name, "pool \"1\"");
		assert_int_equal(g2->nodes[2].out[1], -1);

		/* constant contents */
		for (int v = 0; v < g->nvalues; v++) {
			const Value *a = &g->values[v];
			if (!a->data || !strcmp(a->name, "only dead"))
				continue;
			int id = ir_value_find(g2, a->name);
			assert_true(id >= 0);
			const Value *b = &g2->values[id];
			assert_int_equal(b->dtype, a->dtype);
			assert_true(ir_shape_eq(&a->shape, &b->shape));
			assert_non_null(b->data);
			int64_t n = ir_shape_numel(&a->shape);
			if (!full && n > IR_PRINT_MAX_ELEMS)
				continue;
			for (int64_t i = 0; i < n; i++) {
				if (a->dtype == DT_FLOAT)
					assert_true(same_f32(((float *)a->data)[i], ((float *)b->data)[i]));
				else if (a->dtype == DT_DOUBLE)
					assert_true(same_f64(((double *)a->data)[i], ((double *)b->data)[i]));
			}
			if (a->dtype != DT_FLOAT && a->dtype != DT_DOUBLE)
				assert_memory_equal(a->data, b->data, ir_value_nbytes(a));
		}
		ir_graph_free(g2);
	}
	ir_graph_free(g);
}

static void test_float_roundtrip(void **state)
{
	(void)state;
	/* many floats, including awkward ones, through full printing */
	enum { N = 4096 };
	float *v = xmalloc(sizeof(float) * N);
	uint32_t r = 12345;
	for (int i = 0; i < N; i++) {
		r = r * 1664525u + 1013904223u;
		uint32_t bits = r;
		memcpy(&v[i], &bits, sizeof bits); /* every bit pattern class, incl. subnormals */
	}
	v[0] = 0.1f;
	v[1] = 1.17549435e-38f;
	v[2] = 1.4e-45f;
	v[3] = 16777217.0f;
	Graph *g = ir_graph_new("f");
	int c = ir_const_add(g, "v", DT_FLOAT, &(Shape){1, {N}}, v);
	int y = ir_value_add(g, "y", DT_FLOAT, NULL);
	ir_node_add(g, OP_RELU, "r", &c, 1, &y, 1);
	add_output(g, y);
	char *s = print_str(g, 1);
	Graph *g2 = roundtrip_text(s, 1);
	free(s);
	const float *w = g2->values[ir_value_find(g2, "v")].data;
	for (int i = 0; i < N; i++)
		assert_true(same_f32(v[i], w[i]));
	ir_graph_free(g2);
	ir_graph_free(g);
}

static void test_elided_constant(void **state)
{
	(void)state;
	const char *text = "graph @e opset 13 {\n"
	                   "  const %w: f32[6,1,5,5] = dense<150 elements>\n"
	                   "  const %k: i64[40] = dense<40 elements>\n"
	                   "  const %b: bool[17] = dense<17 elements>\n"
	                   "  %y: f32[?] = Add(%w, %k) @\"add\"\n"
	                   "  %z: f32[?] = Add(%y, %b) @\"add2\"\n"
	                   "  output %z\n"
	                   "}\n";
	Graph *g1 = roundtrip_text(text, 0);
	Graph *g2 = parse_ok(text);
	int w1 = ir_value_find(g1, "w"), w2 = ir_value_find(g2, "w");
	const Value *a = &g1->values[w1], *b = &g2->values[w2];
	assert_int_equal(a->dtype, DT_FLOAT);
	assert_int_equal(a->shape.rank, 4);
	assert_int_equal(a->shape.d[0], 6);
	assert_int_equal(a->shape.d[3], 5);
	assert_memory_equal(a->data, b->data, 150 * sizeof(float)); /* deterministic */
	const float *f = a->data;
	int distinct = 0;
	for (int i = 0; i < 150; i++) {
		assert_true(f[i] >= -1.0f && f[i] <= 1.0f);
		distinct += f[i] != f[0];
	}
	assert_true(distinct > 100);
	const int64_t *k = g1->values[ir_value_find(g1, "k")].data;
	int seen[4] = {0};
	for (int i = 0; i < 40; i++) {
		assert_true(k[i] >= 0 && k[i] < 4);
		seen[k[i]] = 1;
	}
	assert_true(seen[0] + seen[1] + seen[2] + seen[3] >= 3);
	const uint8_t *bb = g1->values[ir_value_find(g1, "b")].data;
	for (int i = 0; i < 17; i++)
		assert_true(bb[i] <= 1);
	/* the seed is the name: another name gives other contents */
	const char *text2 = "graph @e {\n  const %w2: f32[6,1,5,5] = dense<150 elements>\n"
	                    "  output %w2\n}\n";
	Graph *g3 = parse_ok(text2);
	assert_memory_not_equal(a->data, g3->values[0].data, 150 * sizeof(float));
	ir_graph_free(g1);
	ir_graph_free(g2);
	ir_graph_free(g3);
}

static void test_parse_handwritten(void **state)
{
	(void)state;
	const char *text =
		"# RUN: sqc --emit=ir %s | FileCheck %s\n"
		"graph @main opset 17 {   # trailing comment with %weird @chars \"\n"
		"  input %x: f32[1,4]\n"
		"\n"
		"  const %s: f32[]=[2]\n"
		"  %y:f32[1,4]=Relu(%x)\n"
		"  %z: f32[1,4] = LeakyRelu(%y) {a = 1, b = 1.0, c = 1f, d = 1e3, e = [1, -2],\n"
		"      f = [1, 2.5], g = ints[], h = floats[], i = floats[1,2], j = \"s\", k = inf,\n"
		"      l = -inf, m = nan, n = ints[3], o = -0.5, \"p q\" = \"\"} @n1\n"
		"  %w: f32[1,4] = Mul(%z, %s)\n"
		"  output %w\n"
		"}  # done\n";
	Graph *g = parse_ok(text);
	assert_string_equal(g->name, "main");
	assert_int_equal(g->opset, 17);
	assert_int_equal(g->ninputs, 1);
	assert_int_equal(g->noutputs, 1);
	int x = ir_value_find(g, "x"), w = ir_value_find(g, "w");
	assert_int_equal(g->inputs[0], x);
	assert_true(g->values[x].is_input);
	assert_false(g->values[x].is_output);
	assert_int_equal(g->outputs[0], w);
	assert_true(g->values[w].is_output);
	assert_int_equal(g->values[w].producer, 2);
	assert_int_equal(g->values[x].producer, -1);
	assert_true(*(float *)g->values[ir_value_find(g, "s")].data == 2.0f);
	assert_int_equal(g->nnodes, 3);
	assert_string_equal(g->nodes[1].name, "n1");
	assert_string_equal(g->nodes[2].name, "Mul_2"); /* generated */

	const Node *n = &g->nodes[1];
	static const struct {
		const char *name;
		AttrKind kind;
		int n;
	} want[] = {
		{"a", AT_INT, 0},    {"b", AT_FLOAT, 0},  {"c", AT_FLOAT, 0},  {"d", AT_FLOAT, 0},
		{"e", AT_INTS, 2},   {"f", AT_FLOATS, 2}, {"g", AT_INTS, 0},   {"h", AT_FLOATS, 0},
		{"i", AT_FLOATS, 2}, {"j", AT_STRING, 0}, {"k", AT_FLOAT, 0},  {"l", AT_FLOAT, 0},
		{"m", AT_FLOAT, 0},  {"n", AT_INTS, 1},   {"o", AT_FLOAT, 0},  {"p q", AT_STRING, 0},
	};
	assert_int_equal(n->nattr, (int)countof(want));
	for (size_t k = 0; k < countof(want); k++) {
		assert_string_equal(n->attrs[k].name, want[k].name);
		assert_int_equal(n->attrs[k].kind, want[k].kind);
		if (want[k].kind == AT_INTS || want[k].kind == AT_FLOATS)
			assert_int_equal(n->attrs[k].n, want[k].n);
	}
	assert_true(ir_attr_f(n, "d", 0) == 1000.0f);
	assert_int_equal(ir_attr_get(n, "e")->ints[1], -2);
	assert_true(ir_attr_get(n, "f")->floats[0] == 1.0f);
	assert_true(ir_attr_get(n, "f")->floats[1] == 2.5f);
	assert_true(isinf(ir_attr_f(n, "l", 0)) && ir_attr_f(n, "l", 0) < 0);
	assert_string_equal(ir_attr_s(n, "p q", "x"), "");

	/* canonical form of the same graph */
	char *s = print_str(g, 0);
	assert_string_equal(
		s, "graph @main opset 17 {\n"
		   "  input %x: f32[1,4]\n"
		   "  const %s: f32[] = [2]\n"
		   "  %y: f32[1,4] = Relu(%x) @\"Relu_0\"\n"
		   "  %z: f32[1,4] = LeakyRelu(%y) {a=1, b=1f, c=1f, d=1000f, e=[1,-2], f=[1f,2.5f], "
		   "g=ints[], h=floats[], i=[1f,2f], j=\"s\", k=inf, l=-inf, m=nan, n=[3], o=-0.5f, "
		   "\"p q\"=\"\"} @\"n1\"\n"
		   "  %w: f32[1,4] = Mul(%z, %s) @\"Mul_2\"\n"
		   "  output %w\n"
		   "}\n");
	Graph *g2 = roundtrip_text(s, 0);
	free(s);
	ir_graph_free(g2);
	ir_graph_free(g);
}

static void test_names(void **state)
{
	(void)state;
	static const char *names[] = {
		"onnx::Conv_12", "/conv1/Conv_output_0", "a.b-c", "9", "ends:", "::", "",
		"with space", "q\"uote", "back\\slash", "nl\nx", "ctl\x1f\x7f", "utf8 \xc3\xa9",
		"x:y:", "%", "a,b",
	};
	static const int simple[] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	_Static_assert(countof(names) == countof(simple), "table sizes");
	Graph *g = ir_graph_new("names");
	for (size_t i = 0; i < countof(names); i++) {
		int v = ir_value_add(g, names[i], DT_FLOAT, &(Shape){0, {0}});
		add_input(g, v);
		add_output(g, v);
	}
	char *s = print_str(g, 0);
	for (size_t i = 0; i < countof(names); i++) {
		char want[64];
		snprintf(want, sizeof want, "  input %%%s: f32[]\n", names[i]);
		if (simple[i])
			assert_non_null(strstr(s, want));
	}
	assert_non_null(strstr(s, "  input %\"ends:\": f32[]\n"));
	assert_non_null(strstr(s, "  input %\"\": f32[]\n"));
	assert_non_null(strstr(s, "  input %\"ctl\\x1f\\x7f\": f32[]\n"));
	assert_non_null(strstr(s, "  input %\"utf8 \xc3\xa9\": f32[]\n"));
	Graph *g2 = roundtrip_text(s, 0);
	for (size_t i = 0; i < countof(names); i++)
		assert_string_equal(g2->values[g2->inputs[i]].name, names[i]);
	free(s);
	ir_graph_free(g2);
	ir_graph_free(g);
}

static void test_print_empty_and_dead(void **state)
{
	(void)state;
	Graph *g = ir_graph_new("e");
	char *s = print_str(g, 0);
	assert_string_equal(s, "graph @e opset 13 {\n}\n");
	free(s);
	Graph *g2 = roundtrip_text("graph @e opset 13 {\n}\n", 0);
	assert_int_equal(g2->nvalues, 0);
	ir_graph_free(g2);

	/* a dead node and the constant only it reads are not printed */
	float one = 1.0f;
	int x = ir_value_add(g, "x", DT_FLOAT, NULL);
	add_input(g, x);
	int c = add_const(g, "c", DT_FLOAT, shp(0, 0, 0, 0, 0), &one);
	int y = ir_value_add(g, "y", DT_FLOAT, NULL);
	int in[2] = {x, c};
	int n = ir_node_add(g, OP_ADD, "add", in, 2, &y, 1);
	g->nodes[n].dead = 1;
	s = print_str(g, 0);
	assert_string_equal(s, "graph @e opset 13 {\n  input %x: f32[?]\n}\n");
	free(s);
	/* a constant that is a graph output is printed */
	add_output(g, c);
	s = print_str(g, 0);
	assert_string_equal(s, "graph @e opset 13 {\n  input %x: f32[?]\n  const %c: f32[] = [1]\n"
	                       "  output %c\n}\n");
	free(s);
	ir_graph_free(g);
}

static void test_parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Foo(%x)\n}\n",
		 "line 3: unknown op 'Foo'"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%z)\n}\n",
		 "line 3: undefined value %z"},
		{"graph @g {\n  input %x: f32[1]\n\n  %y: f32[1] = Relu(%z)\n"
		 "  %z: f32[1] = Relu(%x)\n}\n",
		 "line 4: undefined value %z"}, /* used before its definition */
		{"graph @g {\n  input %x: f32[1]\n  input %x: f32[2]\n}\n",
		 "line 3: value %x redefined"},
		{"graph @g {\n  input %x: f32[1]\n  %x: f32[1] = Relu(%x)\n}\n",
		 "line 3: value %x redefined"},
		{"graph @g {\n  input %x: f32[1]\n  %a: f32[1], %a: f32[1] = MaxPool(%x)\n}\n",
		 "line 3: value %a redefined"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Add(%x, %y)\n}\n",
		 "line 3: value %y used by the node that defines it"},
		{"graph @g {\n  input %x: f32[1] $\n}\n", "line 2: unexpected character '$'"},
		{"graph @g {\n  input %x: f16[1]\n}\n", "line 2: unknown dtype 'f16'"},
		{"graph @g {\n  input %x: f32[1.5]\n}\n", "line 2: expected an integer, found '1.5'"},
		{"graph @g {\n  input %x: f32[-1]\n}\n", "line 2: negative dimension"},
		{"graph @g {\n  input %x: f32[1,1,1,1,1,1,1,1,1]\n}\n",
		 "line 2: more than 8 dimensions"},
		{"graph @g {\n  input %x: f32[1]\n", "line 3: expected input, const, output, a node "
		                                     "or '}', found end of input"},
		{"graph @g {\n}\n}\n", "line 3: expected end of input after '}'"},
		{"", "line 1: expected 'graph', found end of input"},
		{"graph g {}", "line 1: expected the graph name (@name), found 'g'"},
		{"graph @g {\n  output %y\n}\n", "line 2: undefined value %y"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x) {k=[]}\n}\n",
		 "line 3: empty list needs a kind: ints[] or floats[]"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x) {k=1, k=2}\n}\n",
		 "line 3: attribute 'k' repeated"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x) {k=ints[1.5]}\n}\n",
		 "line 3: expected an integer, found '1.5'"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x) {k=}\n}\n",
		 "line 3: expected an attribute value"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x) {k=99999999999999999999}\n}\n",
		 "line 3: integer 99999999999999999999 out of range"},
		{"graph @g {\n  const %c: i8[1] = [200]\n}\n", "line 2: 200 out of range for i8"},
		{"graph @g {\n  const %c: bool[1] = [2]\n}\n", "line 2: 2 out of range for bool"},
		{"graph @g {\n  const %c: u8[1] = [-1]\n}\n", "line 2: -1 out of range for u8"},
		{"graph @g {\n  const %c: i32[1] = [2.5]\n}\n", "line 2: expected an integer"},
		{"graph @g {\n  const %c: f32[1] = [1e39]\n}\n", "line 2: number 1e39 out of range"},
		{"graph @g {\n  const %c: f32[2] = [1]\n}\n",
		 "line 2: 1 elements for %c, its type has 2"},
		{"graph @g {\n  const %c: f32[1] = [1,\n 2]\n}\n", "line 3: too many elements for %c"},
		{"graph @g {\n  const %c: f32[4] = dense<5 elements>\n}\n",
		 "line 2: dense<5 elements> but the type of %c has 4"},
		{"graph @g {\n  const %c: f32[?] = [1]\n}\n", "line 2: constant %c needs a known shape"},
		{"graph @g {\n  const %c: undef[1] = [1]\n}\n", "line 2: constant %c needs a dtype"},
		{"graph @g {\n  input %\"x: f32[1]\n}\n", "line 2: unterminated string"},
		{"graph @g {\n  input %\"\\q\": f32[1]\n}\n", "line 2: bad escape '\\q'"},
		{"graph @g {\n  input %\"\\x0\": f32[1]\n}\n", "line 2: bad \\x escape"},
		{"graph @g {\n  input %\"\\x00\": f32[1]\n}\n", "line 2: \\x00 is not allowed"},
		{"graph @g {\n  input %: f32[1]\n}\n", "line 2: expected a name after '%'"},
		{"graph @g {\n  input %x: f32[1x]\n}\n", "line 2: bad number '1x'"},
		{"graph @g {\n  input %x f32[1]\n}\n", "line 2: expected ':', found 'f32'"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x @\"n\"\n}\n",
		 "line 3: expected ',', found '@\"n\"'"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] Relu(%x)\n}\n",
		 "line 3: expected '=', found 'Relu'"},
		{"# a comment\n# another\ngraph @g opset x {\n}\n",
		 "line 3: expected an integer, found 'x'"},
		{"graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Relu(%x) {k=\"\xff\x01\"} \x01\n}\n",
		 "line 3: unexpected character \\x01"},
	};
	for (size_t i = 0; i < countof(cases); i++)
		parse_err(cases[i].text, cases[i].msg);

	/* the file name leads the message */
	Diag d;
	diag_init(&d, "bad.ir");
	d.out = NULL;
	assert_null(ir_parse("graph @g {\n  input %x: f32[1]\n  %y: f32[1] = Nope(%x)\n}\n", &d));
	assert_string_equal(d.last, "bad.ir: line 3: unknown op 'Nope'");
}

/* The decision attributes: one declaration each (unique "sqc." names), typed getters with
 * the declared defaults, setters that the getters read back, kernel names both ways. */
static void test_decisions(void **state)
{
	(void)state;
	for (int a = 0; a < SQCA_COUNT; a++) {
		assert_true(ir_dec_is_name(ir_dec_name((SqcAttr)a)));
		for (int b = 0; b < a; b++)
			assert_string_not_equal(ir_dec_name((SqcAttr)a), ir_dec_name((SqcAttr)b));
	}
	assert_false(ir_dec_is_name("transB"));
	Graph *g = ir_graph_new("d");
	Shape s = {1, {4}};
	int x = ir_value_add(g, "x", DT_FLOAT, &s), y = ir_value_add(g, "y", DT_FLOAT, &s);
	int n = ir_node_add(g, OP_RELU, "r", &x, 1, &y, 1);
	/* absent: the declared defaults (a layer without sqc.bits is a float layer) */
	assert_int_equal(ir_dec_i(&g->nodes[n], SQCA_BITS), 32);
	assert_int_equal(ir_dec_i(&g->nodes[n], SQCA_ACT_BITS), 32);
	assert_int_equal(ir_dec_i(&g->nodes[n], SQCA_WS_OFFSET), -1);
	assert_int_equal(ir_dec_i(&g->nodes[n], SQCA_RELU), 0);
	assert_null(ir_dec_s(&g->nodes[n], SQCA_METHOD));
	int cnt = 7;
	assert_null(ir_dec_floats(&g->nodes[n], SQCA_SCALES, &cnt));
	assert_int_equal(cnt, 0);
	assert_int_equal(ir_kernel_of(&g->nodes[n]), SQK_NONE);
	assert_false(ir_dec_has(&g->nodes[n], SQCA_BITS));
	/* set, read back, by the attribute's name too */
	const float sc[3] = {0.5f, 1.0f, 2.0f};
	ir_dec_set_i(g, n, SQCA_BITS, 1);
	ir_dec_set_f(g, n, SQCA_ACT_STEP, 0.25f);
	ir_dec_set_floats(g, n, SQCA_SCALES, sc, 3);
	ir_kernel_set(g, n, SQK_INT8);
	const Node *nd = &g->nodes[n];
	assert_true(ir_dec_has(nd, SQCA_BITS));
	assert_int_equal(ir_dec_i(nd, SQCA_BITS), 1);
	assert_int_equal(ir_attr_i(nd, "sqc.bits", 0), 1);
	assert_true(ir_dec_f(nd, SQCA_ACT_STEP) == 0.25f);
	const float *got = ir_dec_floats(nd, SQCA_SCALES, &cnt);
	assert_int_equal(cnt, 3);
	assert_true(got[2] == 2.0f);
	assert_string_equal(ir_attr_s(nd, "sqc.kernel", ""), "int8");
	assert_int_equal(ir_kernel_of(nd), SQK_INT8);
	for (int k = 1; k < SQK_COUNT; k++)
		assert_int_equal(ir_kernel_parse(ir_kernel_name((SqcKernel)k)), k);
	assert_int_equal(ir_kernel_parse("nosuch"), SQK_NONE);
	assert_int_equal(ir_kernel_parse(NULL), SQK_NONE);
	ir_graph_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_nodes),
		cmocka_unit_test(test_attrs),
		cmocka_unit_test(test_replace_uses),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_toposort),
		cmocka_unit_test(test_op_table),
		cmocka_unit_test(test_dtypes),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_print_rich),
		cmocka_unit_test(test_roundtrip_rich),
		cmocka_unit_test(test_float_roundtrip),
		cmocka_unit_test(test_elided_constant),
		cmocka_unit_test(test_parse_handwritten),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_print_empty_and_dead),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
