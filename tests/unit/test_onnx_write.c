/* tests/unit/test_onnx_write.c: ONNX export (frontend/onnx_write.c, fe_onnx_save).
 *
 * Round trips: every fixture of tests/models is imported, run through the default pipeline,
 * saved, imported again and run through the pipeline again; both graphs must have the same
 * nodes (op and name, in order), values, constants (byte for byte) and interpreter output
 * on the fixture input. Hand-written IR graphs cover what the fixtures do not: coerce2d
 * Softmax (kept below opset 13, rewritten at 13), legacy broadcasting, sqc.* attributes and
 * metadata, and the atomic write (errors leave no file behind). The saved files are also
 * read back with protobuf-c to check what is in them (opset, attributes, metadata).
 *
 * Everything a test allocates is registered and freed by the teardown, so a failing
 * assertion (which longjmps out of the test) leaks nothing under ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/rt.h"

#include "onnx.pb-c.h"

/* ---- per-test resources -------------------------------------------------------------- */

static char Dir[256];       /* the program's temporary folder (group setup/teardown) */
static Diag D;
static Graph *graphs[8];
static int ngraphs;
static void *bufs[32];
static int nbufs;
static FeTensor tensors[4];
static int ntensors;
static Onnx__ModelProto *models[4];
static int nmodels;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(Dir, sizeof Dir, "%s/sqc-onnxw-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(Dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(Dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	(void)state;
	diag_init(&D, "t.onnx");
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
	for (int i = 0; i < ntensors; i++)
		fe_tensor_free(&tensors[i]);
	ntensors = 0;
	for (int i = 0; i < nmodels; i++)
		onnx__model_proto__free_unpacked(models[i], NULL);
	nmodels = 0;
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

/* A path in the temporary folder (static buffers, two in turn). */
static const char *tmp(const char *name)
{
	static char buf[2][512];
	static int k;
	k ^= 1;
	snprintf(buf[k], sizeof buf[k], "%s/%s", Dir, name);
	return buf[k];
}

/* Names in the temporary folder, sorted and joined by spaces (to spot stray files). */
static const char *dir_listing(void)
{
	static char out[2048];
	struct dirent **ents;
	int n = scandir(Dir, &ents, NULL, alphasort);
	assert_true(n >= 0);
	size_t k = 0;
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
			k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", k ? " " : "",
			                      ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return out;
}

/* ---- helpers ------------------------------------------------------------------------- */

static void run_pipeline(Graph *g)
{
	PipelineOptions po;
	memset(&po, 0, sizeof po);
	if (pass_run_pipeline(g, NULL, &po, &D))
		fail_msg("pipeline failed: %s", D.last);
}

static Graph *load(const char *path, const FeTensor *in)
{
	FeInputShape pin = {"input", in ? in->shape : (Shape){0}};
	FeOptions o = {&pin, in ? 1 : 0, 0};
	Graph *g = fe_onnx_load(path, &o, &D);
	if (!g)
		fail_msg("cannot load %s: %s", path, D.last);
	return keep(g);
}

static Graph *parse(const char *text)
{
	Graph *g = ir_parse(text, &D);
	if (!g)
		fail_msg("parse failed: %s\n--- text:\n%s", D.last, text);
	return keep(g);
}

static void save(const Graph *g, const char *path, const FeSaveOptions *o)
{
	if (fe_onnx_save(g, path, o, &D))
		fail_msg("cannot save %s: %s", path, D.last);
}

/* Runs a shape-inferred graph with one input; returns output 0 (registered). */
static float *run1(const Graph *g, const void *input)
{
	assert_int_equal(g->ninputs, 1);
	assert_true(g->noutputs >= 1);
	void *outs[4] = {0};
	assert_true(g->noutputs <= 4);
	RtOptions ro = {0};
	const void *ins[1] = {input};
	if (rt_run(g, ins, outs, &ro, &D))
		fail_msg("rt_run failed: %s", D.last);
	for (int i = 1; i < g->noutputs; i++)
		free(outs[i]);
	return keepbuf(outs[0]);
}

static Onnx__ModelProto *read_model(const char *path)
{
	size_t n;
	void *buf = fe_read_file(path, &n, &D);
	assert_non_null(buf);
	Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, buf);
	free(buf);
	assert_non_null(m);
	assert_true(nmodels < (int)countof(models));
	models[nmodels++] = m;
	return m;
}

static int64_t model_opset(const Onnx__ModelProto *m)
{
	assert_int_equal(m->n_opset_import, 1);
	assert_true(!m->opset_import[0]->domain || !*m->opset_import[0]->domain);
	return m->opset_import[0]->version;
}

static const char *meta_get(const Onnx__ModelProto *m, const char *key)
{
	for (size_t i = 0; i < m->n_metadata_props; i++)
		if (!strcmp(m->metadata_props[i]->key, key))
			return m->metadata_props[i]->value;
	return NULL;
}

static const Onnx__AttributeProto *proto_attr(const Onnx__NodeProto *np, const char *name)
{
	for (size_t i = 0; i < np->n_attribute; i++)
		if (!strcmp(np->attribute[i]->name, name))
			return np->attribute[i];
	return NULL;
}

/* "Op,Op,..." of a saved graph. */
static const char *proto_ops(const Onnx__ModelProto *m)
{
	static char out[1024];
	size_t k = 0;
	out[0] = 0;
	for (size_t i = 0; i < m->graph->n_node; i++)
		k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? "," : "",
		                      m->graph->node[i]->op_type);
	return out;
}

/* No internal attribute is written as an ONNX attribute, and none that the opset lacks. */
static void check_proto_attrs(const Onnx__ModelProto *m)
{
	int64_t opset = model_opset(m);
	for (size_t i = 0; i < m->graph->n_node; i++) {
		const Onnx__NodeProto *np = m->graph->node[i];
		for (size_t j = 0; j < np->n_attribute; j++) {
			const char *a = np->attribute[j]->name;
			if (!strcmp(a, "coerce2d") || !strcmp(a, "legacy_axis") || !strncmp(a, "sqc.", 4))
				fail_msg("node %s: internal attribute %s written", np->name, a);
		}
		if (!strcmp(np->op_type, "AveragePool") && opset < 19)
			assert_null(proto_attr(np, "dilations"));
	}
}

static void expect_close(const float *a, const float *b, int64_t n, double tol)
{
	for (int64_t i = 0; i < n; i++)
		if (!(fabs((double)a[i] - (double)b[i]) <= tol))
			fail_msg("output[%lld]: %.9g vs %.9g", (long long)i, (double)a[i], (double)b[i]);
}

static int live_nodes(const Graph *g)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++)
		k += !g->nodes[i].dead;
	return k;
}

/* Same live nodes (op and name, in order), values, inputs, outputs and constants. */
static void expect_same_graph(const Graph *a, const Graph *b)
{
	assert_int_equal(live_nodes(a), live_nodes(b));
	assert_int_equal(a->nvalues, b->nvalues);
	for (int i = 0, j = 0; i < a->nnodes; i++, j++) {
		while (a->nodes[i].dead)
			i++;
		while (b->nodes[j].dead)
			j++;
		if (a->nodes[i].op != b->nodes[j].op || strcmp(a->nodes[i].name, b->nodes[j].name))
			fail_msg("node %d: %s \"%s\" vs %s \"%s\"", i, ir_op_name(a->nodes[i].op),
			         a->nodes[i].name, ir_op_name(b->nodes[j].op), b->nodes[j].name);
	}
	assert_int_equal(a->ninputs, b->ninputs);
	for (int i = 0; i < a->ninputs; i++)
		assert_string_equal(a->values[a->inputs[i]].name, b->values[b->inputs[i]].name);
	assert_int_equal(a->noutputs, b->noutputs);
	for (int i = 0; i < a->noutputs; i++) {
		const Value *va = &a->values[a->outputs[i]], *vb = &b->values[b->outputs[i]];
		assert_string_equal(va->name, vb->name);
		assert_int_equal(va->dtype, vb->dtype);
		assert_true(ir_shape_eq(&va->shape, &vb->shape));
	}
	int nca = 0, ncb = 0;
	for (int i = 0; i < b->nvalues; i++)
		ncb += b->values[i].data != NULL;
	for (int i = 0; i < a->nvalues; i++) {
		const Value *va = &a->values[i];
		if (!va->data)
			continue;
		nca++;
		int j = ir_value_find(b, va->name);
		if (j < 0 || !b->values[j].data)
			fail_msg("constant %s is missing after the round trip", va->name);
		const Value *vb = &b->values[j];
		assert_int_equal(va->dtype, vb->dtype);
		assert_true(ir_shape_eq(&va->shape, &vb->shape));
		if (memcmp(va->data, vb->data, ir_value_nbytes(va)))
			fail_msg("constant %s differs after the round trip", va->name);
	}
	assert_int_equal(nca, ncb);
}

/* ---- fixture round trips ------------------------------------------------------------- */

/* A fixture model, the opset its saved file must have, and whether it has a Softmax whose
 * coerce2d form is saved at opset 13. */
typedef struct {
	const char *name;
	int64_t opset;
} Fixture;

static const Fixture fixtures[] = {
	{"cnn_bn_op11", 11},   /* Shape..Unsqueeze chain folded away: stays at 11 */
	{"cnn_bn_op13", 13},
	{"cnn_bn_dyn", 13},
	{"lenet_small", 13},
	{"misc_ops_op11", 13}, /* Squeeze/Unsqueeze with axes operands: opset 13 */
	{"misc_ops_op13", 13},
};

static void test_fixture(void **state)
{
	const Fixture *fx = *state;
	char path[512], in_path[512];
	snprintf(path, sizeof path, SQC_SOURCE_DIR "/tests/models/%s.onnx", fx->name);
	snprintf(in_path, sizeof in_path, SQC_SOURCE_DIR "/tests/models/%s.in.npy", fx->name);
	FeTensor *in = &tensors[ntensors++];
	if (fe_npy_read(in_path, in, &D))
		fail_msg("%s: %s", in_path, D.last);

	Graph *g1 = load(path, in);
	run_pipeline(g1);
	const float *y1 = run1(g1, in->data);

	char out_name[128];
	snprintf(out_name, sizeof out_name, "%s.onnx", fx->name);
	const char *saved = tmp(out_name);
	FeMetaProp meta[] = {{"sqc.layer.conv1.bits", "2"}, {"sqc.note", fx->name}};
	FeSaveOptions so = {"sqc-test", "0.0", meta, 2};
	save(g1, saved, &so);

	Onnx__ModelProto *m = read_model(saved);
	assert_int_equal(m->ir_version, 8);
	assert_string_equal(m->producer_name, "sqc-test");
	assert_string_equal(m->producer_version, "0.0");
	assert_int_equal(model_opset(m), fx->opset);
	assert_int_equal(m->n_metadata_props, 2);
	assert_string_equal(m->metadata_props[0]->key, "sqc.layer.conv1.bits");
	assert_string_equal(m->metadata_props[0]->value, "2");
	assert_string_equal(m->metadata_props[1]->key, "sqc.note");
	assert_string_equal(m->metadata_props[1]->value, fx->name);
	check_proto_attrs(m);

	Graph *g2 = load(saved, in);
	assert_int_equal(g2->opset, fx->opset);
	if (ir_verify(g2, &D))
		fail_msg("re-imported graph is invalid: %s", D.last);
	run_pipeline(g2);
	expect_same_graph(g1, g2);
	const float *y2 = run1(g2, in->data);
	expect_close(y1, y2, ir_shape_numel(&g1->values[g1->outputs[0]].shape), 1e-6);

	/* a second save of the re-imported graph is byte-identical to the first */
	char again[160];
	snprintf(again, sizeof again, "%s.again.onnx", fx->name);
	save(g2, tmp(again), &so);
	size_t n1, n2;
	void *b1 = keepbuf(fe_read_file(tmp(out_name), &n1, &D));
	void *b2 = keepbuf(fe_read_file(tmp(again), &n2, &D));
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
}

/* Graphs saved before shape inference (right after import) round-trip too. cnn_bn_op11
 * still has its Shape..Unsqueeze chain (axes operand: opset 13) and BatchNormalization;
 * misc_ops_op11's coerce2d Softmax has an input of unknown rank then, so at opset 13 it is
 * written as Shape/Flatten/Softmax/Reshape (more nodes, same result). */
static void test_save_before_pipeline(void **state)
{
	(void)state;
	static const char *const names[] = {"cnn_bn_op11", "misc_ops_op11"};
	for (int k = 0; k < 2; k++) {
		char path[512], in_path[512], out[64];
		snprintf(path, sizeof path, SQC_SOURCE_DIR "/tests/models/%s.onnx", names[k]);
		snprintf(in_path, sizeof in_path, SQC_SOURCE_DIR "/tests/models/%s.in.npy", names[k]);
		snprintf(out, sizeof out, "early_%s.onnx", names[k]);
		FeTensor *in = &tensors[ntensors++];
		assert_int_equal(fe_npy_read(in_path, in, &D), 0);
		Graph *g1 = load(path, in);
		save(g1, tmp(out), NULL);
		Onnx__ModelProto *m = read_model(tmp(out));
		assert_string_equal(m->producer_name, "sqc");
		assert_int_equal(model_opset(m), 13);
		check_proto_attrs(m);
		Graph *g2 = load(tmp(out), in);
		run_pipeline(g1);
		run_pipeline(g2);
		if (k == 0)
			expect_same_graph(g1, g2);
		else
			assert_non_null(strstr(proto_ops(m), "Shape,Flatten,Softmax,Reshape"));
		expect_close(run1(g1, in->data), run1(g2, in->data),
		             ir_shape_numel(&g1->values[g1->outputs[0]].shape), 1e-6);
	}
}

/* ---- coerce2d Softmax ---------------------------------------------------------------- */

static float *ramp(int64_t n)
{
	float *p = keepbuf(malloc(sizeof(float) * (size_t)n));
	for (int64_t i = 0; i < n; i++)
		p[i] = (float)((i * 7) % 11) * 0.37f - 1.5f;
	return p;
}

/* Runs IR text through the pipeline, saves it (before the pipeline when `early`), loads
 * it back and compares the outputs on a ramp input; returns the saved model. */
static Onnx__ModelProto *roundtrip_ir(const char *text, const char *file, int early)
{
	Graph *g1 = parse(text);
	Graph *gs = early ? parse(text) : g1;
	run_pipeline(g1);
	int64_t n = ir_shape_numel(&g1->values[g1->inputs[0]].shape);
	const float *x = ramp(n);
	const float *y1 = run1(g1, x);
	save(gs, tmp(file), NULL);
	Graph *g2 = keep(fe_onnx_load(tmp(file), NULL, &D));
	if (!g2)
		fail_msg("cannot load %s: %s", file, D.last);
	run_pipeline(g2);
	const float *y2 = run1(g2, x);
	expect_close(y1, y2, ir_shape_numel(&g1->values[g1->outputs[0]].shape), 1e-6);
	Onnx__ModelProto *m = read_model(tmp(file));
	check_proto_attrs(m);
	return m;
}

/* opset 11: coerce2d Softmax/LogSoftmax are written as they are, axis explicit. */
static void test_coerce2d_opset11(void **state)
{
	(void)state;
	Onnx__ModelProto *m = roundtrip_ir(
		"graph @sm opset 11 {\n"
		"  input %x: f32[2,3,4]\n"
		"  %s: f32[2,3,4] = Softmax(%x) {axis=1, coerce2d=1} @\"sm\"\n"
		"  %y: f32[2,3,4] = LogSoftmax(%s) {axis=1, coerce2d=1} @\"lsm\"\n"
		"  output %y\n"
		"}\n", "c11.onnx", 0);
	assert_int_equal(model_opset(m), 11);
	assert_string_equal(proto_ops(m), "Softmax,LogSoftmax");
	const Onnx__AttributeProto *a = proto_attr(m->graph->node[0], "axis");
	assert_non_null(a);
	assert_int_equal(a->i, 1);
}

/* opset 13 (or bumped to 13): Flatten -> Softmax(axis=1) -> Reshape, with the same result;
 * a last-axis coerce2d Softmax stays one node. */
static void test_coerce2d_opset13(void **state)
{
	(void)state;
	Onnx__ModelProto *m = roundtrip_ir(
		"graph @sm opset 13 {\n"
		"  input %x: f32[2,3,4]\n"
		"  %s: f32[2,3,4] = Softmax(%x) {axis=1, coerce2d=1} @\"sm\"\n"
		"  %y: f32[2,3,4] = LogSoftmax(%s) {axis=2, coerce2d=1} @\"lsm\"\n"
		"  output %y\n"
		"}\n", "c13.onnx", 0);
	assert_int_equal(model_opset(m), 13);
	assert_string_equal(proto_ops(m), "Flatten,Softmax,Reshape,LogSoftmax");
	assert_int_equal(proto_attr(m->graph->node[1], "axis")->i, 1);
	assert_string_equal(m->graph->node[1]->name, "sm");
}

/* opset 11 with an Unsqueeze axes operand: bumped to 13, so the coerce2d Softmax is
 * rewritten; saved before shape inference, its input's shape comes from a Shape node. */
static void test_coerce2d_bumped_early(void **state)
{
	(void)state;
	const char *text =
		"graph @sm opset 11 {\n"
		"  input %x: f32[2,3,4]\n"
		"  const %ax: i64[1] = [0]\n"
		"  %r: f32[?] = Relu(%x) @\"relu\"\n"
		"  %s: f32[?] = Softmax(%r) {axis=1, coerce2d=1} @\"sm\"\n"
		"  %y: f32[?] = Unsqueeze(%s, %ax) @\"unsq\"\n"
		"  output %y\n"
		"}\n";
	Onnx__ModelProto *m = roundtrip_ir(text, "cb.onnx", 1);
	assert_int_equal(model_opset(m), 13);
	assert_string_equal(proto_ops(m), "Relu,Shape,Flatten,Softmax,Reshape,Unsqueeze");
	m = roundtrip_ir(text, "cb2.onnx", 0);
	assert_int_equal(model_opset(m), 13);
	assert_string_equal(proto_ops(m), "Relu,Flatten,Softmax,Reshape,Unsqueeze");
}

/* ---- legacy broadcasting, sqc attributes, metadata ----------------------------------- */

/* opset 6 Add with legacy_axis and PRelu with a per-channel slope: bumped to 13, operand 1
 * reshaped so that numpy broadcasting gives the same result. */
static void test_legacy_axis(void **state)
{
	(void)state;
	Onnx__ModelProto *m = roundtrip_ir(
		"graph @lg opset 6 {\n"
		"  input %x: f32[2,3,4,5]\n"
		"  const %b: f32[3,4] = [1,2,3,4,5,6,7,8,9,10,11,12]\n"
		"  const %sl: f32[3] = [0.1,0.2,0.3]\n"
		"  %a: f32[2,3,4,5] = Add(%x, %b) {legacy_axis=1} @\"add\"\n"
		"  %y: f32[2,3,4,5] = PRelu(%a, %sl) {legacy_axis=1} @\"prelu\"\n"
		"  output %y\n"
		"}\n", "lg.onnx", 0);
	assert_int_equal(model_opset(m), 13);
	assert_string_equal(proto_ops(m), "Reshape,Add,Reshape,PRelu");
}

/* sqc.* attributes become metadata (IR text syntax values), never ONNX attributes. */
static void test_sqc_attrs(void **state)
{
	(void)state;
	Graph *g = parse(
		"graph @q opset 13 {\n"
		"  input %x: f32[1,4]\n"
		"  const %w: f32[2,4] = [1,-1,1,-1,1,1,-1,-1]\n"
		"  %y: f32[1,2] = Gemm(%x, %w) {transB=1, \"sqc.bits\"=2, \"sqc.scale\"=0.5f, "
		"\"sqc.kernel\"=\"xnor \\\"lut\\\"\", \"sqc.alphas\"=[0.25f,1f], \"sqc.shape\"=ints[]} "
		"@\"fc.1\"\n"
		"  output %y\n"
		"}\n");
	FeMetaProp meta[] = {{"sqc.layer.fc.1.bits", "2"}};
	FeSaveOptions so = {NULL, NULL, meta, 1};
	save(g, tmp("q.onnx"), &so);
	Onnx__ModelProto *m = read_model(tmp("q.onnx"));
	check_proto_attrs(m);
	assert_int_equal(m->n_metadata_props, 6);
	assert_string_equal(m->metadata_props[0]->key, "sqc.layer.fc.1.bits");
	assert_string_equal(meta_get(m, "sqc.node.fc.1.sqc.bits"), "2");
	assert_string_equal(meta_get(m, "sqc.node.fc.1.sqc.scale"), "0.5f");
	assert_string_equal(meta_get(m, "sqc.node.fc.1.sqc.kernel"), "\"xnor \\\"lut\\\"\"");
	assert_string_equal(meta_get(m, "sqc.node.fc.1.sqc.alphas"), "[0.25f,1f]");
	assert_string_equal(meta_get(m, "sqc.node.fc.1.sqc.shape"), "ints[]");
	assert_int_equal(m->graph->node[0]->n_attribute, 1);
	assert_string_equal(m->graph->node[0]->attribute[0]->name, "transB");
	/* the importer does not restore them yet; the model itself is intact */
	Graph *g2 = keep(fe_onnx_load(tmp("q.onnx"), NULL, &D));
	assert_non_null(g2);
	run_pipeline(g);
	run_pipeline(g2);
	float x[4] = {1, 2, 3, 4};
	expect_close(run1(g, x), run1(g2, x), 2, 0);
}

/* Duplicate metadata keys are an error (onnx.checker rejects them); no file is made. */
static void test_duplicate_meta(void **state)
{
	(void)state;
	Graph *g = parse(
		"graph @q opset 13 {\n"
		"  input %x: f32[2]\n"
		"  %y: f32[2] = Relu(%x) {\"sqc.bits\"=1} @\"r\"\n"
		"  output %y\n"
		"}\n");
	const char *before = keepbuf(strdup(dir_listing()));
	FeMetaProp meta[] = {{"sqc.node.r.sqc.bits", "1"}};
	FeSaveOptions so = {NULL, NULL, meta, 1};
	assert_int_equal(fe_onnx_save(g, tmp("dup.onnx"), &so, &D), -1);
	assert_non_null(strstr(D.last, "metadata key 'sqc.node.r.sqc.bits' is given twice"));
	assert_string_equal(dir_listing(), before);
}

/* Initializers of every dtype (also a scalar and an empty tensor) keep their bytes, in
 * raw_data with the ONNX type codes. Constants that are graph outputs are written too. */
static void test_dtypes(void **state)
{
	(void)state;
	Graph *g = parse(
		"graph @dt opset 13 {\n"
		"  input %x: f32[2]\n"
		"  const %f: f32[2] = [1.5,-0]\n"
		"  const %d: f64[2] = [0.1,-1e300]\n"
		"  const %i8: i8[3] = [-128,0,127]\n"
		"  const %u8: u8[2] = [0,255]\n"
		"  const %i32: i32[2] = [-2147483648,7]\n"
		"  const %i64: i64[2] = [-9223372036854775807,42]\n"
		"  const %b: bool[3] = [1,0,1]\n"
		"  const %s: f32[] = [3]\n"
		"  const %e: i32[0] = []\n"
		"  %y: f32[2] = Relu(%x) @\"r\"\n"
		"  output %y\n"
		"  output %f\n  output %d\n  output %i8\n  output %u8\n  output %i32\n"
		"  output %i64\n  output %b\n  output %s\n  output %e\n"
		"}\n");
	save(g, tmp("dt.onnx"), NULL);
	Onnx__ModelProto *m = read_model(tmp("dt.onnx"));
	static const struct {
		const char *name;
		int32_t code;
	} want[] = {{"f", 1}, {"d", 11}, {"i8", 3}, {"u8", 2}, {"i32", 6}, {"i64", 7}, {"b", 9},
	            {"s", 1}, {"e", 6}};
	assert_int_equal(m->graph->n_initializer, countof(want));
	for (size_t i = 0; i < countof(want); i++) {
		const Onnx__TensorProto *t = m->graph->initializer[i];
		assert_string_equal(t->name, want[i].name);
		assert_int_equal(t->data_type, want[i].code);
		assert_true(t->has_raw_data);
		const Value *v = &g->values[ir_value_find(g, t->name)];
		assert_int_equal(t->n_dims, v->shape.rank);
		assert_int_equal(t->raw_data.len, ir_value_nbytes(v));
	}
	Graph *g2 = keep(fe_onnx_load(tmp("dt.onnx"), NULL, &D));
	assert_non_null(g2);
	run_pipeline(g);
	run_pipeline(g2);
	expect_same_graph(g, g2);
}

/* Attributes the target opset lacks: dropped at their default (shape inference adds
 * AveragePool dilations=[1,1], opset 19), else the opset is raised to one that has them,
 * or, when none can (an attribute removed by later opsets), the save fails cleanly. */
static void test_attr_opsets(void **state)
{
	(void)state;
	static const char *const pool = /* a printf format: %% for IR sigils */
		"graph @p opset 11 {\n"
		"  input %%x: f32[1,1,5,5]\n"
		"  %%y: f32[1,1,%s] = AveragePool(%%x) {kernel_shape=[2,2], dilations=[%s]} @\"ap\"\n"
		"  output %%y\n"
		"}\n";
	char text[512];
	snprintf(text, sizeof text, pool, "4,4", "1,1");
	Onnx__ModelProto *m = roundtrip_ir(text, "ap1.onnx", 0);
	assert_int_equal(model_opset(m), 11);
	assert_null(proto_attr(m->graph->node[0], "dilations"));
	assert_non_null(proto_attr(m->graph->node[0], "pads"));
	snprintf(text, sizeof text, pool, "3,3", "2,2");
	m = roundtrip_ir(text, "ap2.onnx", 0);
	assert_int_equal(model_opset(m), 19);
	assert_non_null(proto_attr(m->graph->node[0], "dilations"));

	Graph *g = parse(
		"graph @bn opset 13 {\n"
		"  input %x: f32[1,2,2,2]\n"
		"  const %s: f32[2] = [1,1]\n"
		"  const %b: f32[2] = [0,0]\n"
		"  %y: f32[1,2,2,2] = BatchNormalization(%x, %s, %b, %b, %s) {spatial=0} @\"bn\"\n"
		"  output %y\n"
		"}\n");
	const char *before = keepbuf(strdup(dir_listing()));
	assert_int_equal(fe_onnx_save(g, tmp("bn.onnx"), NULL, &D), -1);
	assert_non_null(strstr(D.last, "node bn: attribute 'spatial' of BatchNormalization has no "
	                       "equivalent in opset 13 (it exists in opsets 1 to 8)"));
	assert_string_equal(dir_listing(), before);
}

/* ---- atomic write -------------------------------------------------------------------- */

static Graph *small_graph(void)
{
	return parse("graph @s opset 13 {\n"
	             "  input %x: f32[2]\n"
	             "  %y: f32[2] = Relu(%x) @\"r\"\n"
	             "  output %y\n"
	             "}\n");
}

static void test_unwritable(void **state)
{
	(void)state;
	Graph *g = small_graph();
	mkdir(tmp("u"), 0777);
	const char *before = keepbuf(strdup(dir_listing()));

	/* folder does not exist: the temporary file cannot even be made */
	assert_int_equal(fe_onnx_save(g, tmp("nope/m.onnx"), NULL, &D), -1);
	assert_non_null(strstr(D.last, "cannot write"));
	assert_string_equal(dir_listing(), before);

	/* the path is a folder: the temporary file is written, the rename fails, and the
	 * temporary file is removed */
	assert_int_equal(fe_onnx_save(g, tmp("u"), NULL, &D), -1);
	assert_non_null(strstr(D.last, "cannot write"));
	assert_string_equal(dir_listing(), before);

	/* a read-only folder (root may write anyway) */
	if (geteuid() != 0) {
		assert_int_equal(chmod(tmp("u"), 0555), 0);
		int rc = fe_onnx_save(g, tmp("u/m.onnx"), NULL, &D);
		chmod(tmp("u"), 0777);
		assert_int_equal(rc, -1);
		DIR *dd = opendir(tmp("u"));
		assert_non_null(dd);
		struct dirent *e;
		int n = 0;
		while ((e = readdir(dd)))
			n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		closedir(dd);
		assert_int_equal(n, 0);
	}

	/* an existing file is replaced whole */
	FILE *f = fopen(tmp("old.onnx"), "wb");
	assert_non_null(f);
	fputs("not a model", f);
	fclose(f);
	save(g, tmp("old.onnx"), NULL);
	Onnx__ModelProto *m = read_model(tmp("old.onnx"));
	assert_string_equal(proto_ops(m), "Relu");
}

/* ---- bad input to the importer (issue 12) ---------------------------------------------
 * Tiny models built here with protobuf-c: one node reading graph inputs (float, the dims
 * given) and initializers, writing "Y". */

typedef struct {
	const char *name;
	int rank;
	int64_t d[4];
} ProtoIn;

static const char *write_proto_n(const char *file, int64_t opset, Onnx__NodeProto **nodes,
                                 size_t nnode, Onnx__TensorProto **inits, size_t ninit,
                                 const ProtoIn *ins, size_t nins)
{
	Onnx__TensorShapeProto__Dimension dims[4][4], *pdims[4][4];
	Onnx__TensorShapeProto shapes[4];
	Onnx__TypeProto__Tensor tts[4];
	Onnx__TypeProto tps[4];
	Onnx__ValueInfoProto vis[4], *pvis[4];
	assert_true(nins <= 4);
	for (size_t i = 0; i < nins; i++) {
		for (int j = 0; j < ins[i].rank; j++) {
			dims[i][j] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
			dims[i][j].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			dims[i][j].dim_value = ins[i].d[j];
			pdims[i][j] = &dims[i][j];
		}
		shapes[i] = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
		shapes[i].n_dim = (size_t)ins[i].rank;
		shapes[i].dim = pdims[i];
		tts[i] = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
		tts[i].has_elem_type = 1;
		tts[i].elem_type = 1; /* float */
		tts[i].shape = &shapes[i];
		tps[i] = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
		tps[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
		tps[i].tensor_type = &tts[i];
		vis[i] = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
		vis[i].name = (char *)ins[i].name;
		vis[i].type = &tps[i];
		pvis[i] = &vis[i];
	}
	Onnx__ValueInfoProto out = ONNX__VALUE_INFO_PROTO__INIT, *pout = &out;
	out.name = "Y";
	Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
	gp.name = "g";
	gp.n_node = nnode;
	gp.node = nodes;
	gp.n_initializer = ninit;
	gp.initializer = inits;
	gp.n_input = nins;
	gp.input = pvis;
	gp.n_output = 1;
	gp.output = &pout;
	Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT, *pos = &os;
	os.domain = "";
	os.has_version = 1;
	os.version = opset;
	Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
	m.has_ir_version = 1;
	m.ir_version = 7;
	m.n_opset_import = 1;
	m.opset_import = &pos;
	m.graph = &gp;
	size_t n = onnx__model_proto__get_packed_size(&m);
	uint8_t *buf = keepbuf(malloc(n));
	assert_int_equal(onnx__model_proto__pack(&m, buf), n);
	FILE *f = fopen(tmp(file), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return tmp(file);
}

static const char *write_proto(const char *file, int64_t opset, Onnx__NodeProto *node,
                               Onnx__TensorProto **inits, size_t ninit, const ProtoIn *ins,
                               size_t nins)
{
	return write_proto_n(file, opset, &node, 1, inits, ninit, ins, nins);
}

/* A node "relu": Relu(input) -> Y. */
static Onnx__NodeProto relu_node(const char *input)
{
	static char *out[] = {"Y"};
	static char *in[1];
	in[0] = (char *)input;
	Onnx__NodeProto np = ONNX__NODE_PROTO__INIT;
	np.name = "relu";
	np.op_type = "Relu";
	np.n_input = 1;
	np.input = in;
	np.n_output = 1;
	np.output = out;
	return np;
}

/* Relu(W) over the initializer W. */
static const char *write_relu_of(const char *file, Onnx__TensorProto *w)
{
	Onnx__NodeProto np = relu_node("W");
	return write_proto(file, 13, &np, &w, 1, NULL, 0);
}

/* The model at path is refused with a message holding want. */
static void expect_load_error(const char *path, const char *want)
{
	D.nerrors = 0;
	Graph *g = fe_onnx_load(path, NULL, &D);
	if (g)
		keep(g);
	assert_null(g);
	assert_int_equal(D.nerrors, 1);
	if (!strstr(D.last, want))
		fail_msg("message '%s' lacks '%s'", D.last, want);
}

/* A float tensor W of dims [a, b] and nothing else (no data yet). */
static Onnx__TensorProto float_tensor(int64_t *dims)
{
	Onnx__TensorProto t = ONNX__TENSOR_PROTO__INIT;
	t.name = "W";
	t.has_data_type = 1;
	t.data_type = 1;
	t.n_dims = 2;
	t.dims = dims;
	return t;
}

/* Dims claiming 64 GiB to 1 TiB in a model of about 100 bytes: an error before anything
 * is allocated (the allocation used to come first and abort with "out of memory"). */
static void test_import_huge_tensor(void **state)
{
	(void)state;
	static uint8_t bytes[8];
	static float two[2];
	/* over the element limit (1 TiB of float) */
	int64_t d_over[2] = {1 << 19, 1 << 19};
	Onnx__TensorProto w = float_tensor(d_over);
	w.has_raw_data = 1;
	w.raw_data = (ProtobufCBinaryData){sizeof bytes, bytes};
	expect_load_error(write_relu_of("h1.onnx", &w), "initializer 'W': tensor too large "
	                  "(274877906944 elements; limit 17179869184)");
	/* at the limit (64 GiB): the data must be there before it is allocated */
	int64_t d_lim[2] = {1 << 17, 1 << 17};
	w = float_tensor(d_lim);
	w.has_raw_data = 1;
	w.raw_data = (ProtobufCBinaryData){sizeof bytes, bytes};
	expect_load_error(write_relu_of("h2.onnx", &w), "initializer 'W': raw_data has 8 bytes, "
	                  "its dims need 68719476736");
	w = float_tensor(d_lim);
	w.n_float_data = 2;
	w.float_data = two;
	expect_load_error(write_relu_of("h3.onnx", &w), "initializer 'W': has 2 elements, its "
	                  "dims need 17179869184");
	FILE *f = fopen(tmp("h4.bin"), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, sizeof bytes, f), sizeof bytes);
	fclose(f);
	Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *ploc = &loc;
	loc.key = "location";
	loc.value = "h4.bin";
	w = float_tensor(d_lim);
	w.has_data_location = 1;
	w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	w.n_external_data = 1;
	w.external_data = &ploc;
	expect_load_error(write_relu_of("h4.onnx", &w), "external data file 'h4.bin' is too "
	                  "short (need 68719476736 bytes at offset 0, the file has 8)");
	/* a .pb tensor file (sqc run --input) */
	w = float_tensor(d_over);
	w.has_raw_data = 1;
	w.raw_data = (ProtobufCBinaryData){sizeof bytes, bytes};
	size_t n = onnx__tensor_proto__get_packed_size(&w);
	uint8_t *buf = keepbuf(malloc(n));
	assert_int_equal(onnx__tensor_proto__pack(&w, buf), n);
	f = fopen(tmp("h5.pb"), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	FeTensor *t = &tensors[ntensors++];
	D.nerrors = 0;
	assert_int_equal(fe_tensor_read(tmp("h5.pb"), t, &D), -1);
	assert_null(t->data);
	if (!strstr(D.last, "tensor 'W': tensor too large (274877906944 elements"))
		fail_msg("message '%s'", D.last);
}

/* A layer after pack carries its packed rows and scales as extra operands; ONNX has no
 * such operands, so the writer leaves them out (the reloaded Conv has its two). */
static void test_save_packed_operands(void **state)
{
	(void)state;
	Graph *g = parse("graph @p opset 13 {\n"
	                 "  input %x: f32[1,1,3,3]\n"
	                 "  const %w: f32[2,1,1,1] = [0.5,-0.25]\n"
	                 "  const %wp: i64[2,4] = [1,0,0,0,0,0,0,0]\n"
	                 "  const %ws: f32[2] = [0.5,0.25]\n"
	                 "  %y: f32[1,2,3,3] = Conv(%x, %w, _, %wp, %ws) {kernel_shape=[1,1]} @\"c\"\n"
	                 "  output %y\n"
	                 "}\n");
	assert_int_equal(g->nodes[0].nin, 5);
	save(g, tmp("packed.onnx"), NULL);
	Onnx__ModelProto *m = read_model(tmp("packed.onnx"));
	assert_int_equal(m->graph->n_node, 1);
	assert_int_equal(m->graph->node[0]->n_input, 2);
	assert_int_equal(m->graph->n_initializer, 1);
}

/* Every unsupported op is named in one error, with its node count, before anything is
 * imported (a user fixed one op and met the next). */
static void test_import_unsupported_ops(void **state)
{
	(void)state;
	static char *x[] = {"X"}, *a[] = {"A"}, *b[] = {"B"}, *y[] = {"Y"}, *z[] = {"Z"};
	Onnx__NodeProto n[4];
	const char *types[4] = {"Slice", "Relu", "ReduceMean", "Slice"};
	char **ins[4] = {x, a, b, a}, **outs[4] = {a, b, y, z};
	for (int i = 0; i < 4; i++) {
		n[i] = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
		n[i].op_type = (char *)types[i];
		n[i].n_input = 1;
		n[i].input = ins[i];
		n[i].n_output = 1;
		n[i].output = outs[i];
	}
	Onnx__NodeProto *pn[4] = {&n[0], &n[1], &n[2], &n[3]};
	ProtoIn in = {"X", 2, {1, 8}};
	expect_load_error(write_proto_n("uns.onnx", 13, pn, 4, NULL, 0, &in, 1),
	                  "unsupported ops 'Slice' (2 nodes), 'ReduceMean' (1 node) "
	                  "(supported ops: default-domain ");
	/* one node of one unsupported op: the message names the node, as before */
	n[0].name = "only";
	expect_load_error(write_proto_n("uns1.onnx", 13, pn, 2, NULL, 0, &in, 1),
	                  "node only: unsupported op 'Slice' (1 node)");
}

/* A graph input over the element limit is refused at import (graph inputs are not
 * allocated here, but every later size computation takes the limit for granted). */
static void test_import_huge_input(void **state)
{
	(void)state;
	Onnx__NodeProto np = relu_node("X");
	ProtoIn x = {"X", 2, {1 << 20, 1 << 20}};
	expect_load_error(write_proto("hx.onnx", 13, &np, NULL, 0, &x, 1),
	                  "graph input 'X': tensor too large (1099511627776 elements; limit "
	                  "17179869184)");
	x.d[0] = 1 << 14; /* 2^34: at the limit */
	assert_non_null(keep(fe_onnx_load(write_proto("hx2.onnx", 13, &np, NULL, 0, &x, 1), NULL,
	                                  &D)));
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "the import blocked on a FIFO\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(2);
	_exit(1);
}

/* External data that is not a regular file is refused, and a FIFO without a writer does
 * not block the import (it used to, forever; the alarm turns that into a failure). */
static void test_import_external_special(void **state)
{
	(void)state;
	int64_t dims[2] = {1, 2};
	Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *ploc = &loc;
	loc.key = "location";
	Onnx__TensorProto w = float_tensor(dims);
	w.has_data_location = 1;
	w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
	w.n_external_data = 1;
	w.external_data = &ploc;
	assert_int_equal(mkfifo(tmp("fifo.bin"), 0600), 0);
	loc.value = "fifo.bin";
	signal(SIGALRM, on_alarm);
	alarm(20);
	expect_load_error(write_relu_of("fifo.onnx", &w), "initializer 'W': external data file "
	                  "'fifo.bin' is not a regular file (a FIFO)");
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	assert_int_equal(mkdir(tmp("dir.bin"), 0700), 0);
	loc.value = "dir.bin";
	expect_load_error(write_relu_of("dir.onnx", &w), "'dir.bin' is not a regular file (a "
	                  "folder)");
	/* a regular file is still read, at its offset */
	float v[3] = {9, -1, 2};
	FILE *f = fopen(tmp("ok.bin"), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(v, sizeof v[0], 3, f), 3);
	fclose(f);
	Onnx__StringStringEntryProto off = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
	Onnx__StringStringEntryProto *ents[2] = {&loc, &off};
	off.key = "offset";
	off.value = "4";
	loc.value = "ok.bin";
	w.n_external_data = 2;
	w.external_data = ents;
	Graph *g = keep(fe_onnx_load(write_relu_of("ok.onnx", &w), NULL, &D));
	assert_non_null(g);
	int c = ir_value_find(g, "W");
	assert_true(c >= 0 && g->values[c].data);
	assert_memory_equal(g->values[c].data, v + 1, 2 * sizeof(float));
}

/* opset -1 is an error (it used to read as a missing opset, then opset 1); a missing opset
 * still defaults. */
static void test_import_bad_opset(void **state)
{
	(void)state;
	static uint8_t bytes[8];
	int64_t dims[2] = {1, 2};
	Onnx__TensorProto w = float_tensor(dims);
	w.has_raw_data = 1;
	w.raw_data = (ProtobufCBinaryData){sizeof bytes, bytes};
	Onnx__NodeProto np = relu_node("W");
	Onnx__TensorProto *pw = &w;
	expect_load_error(write_proto("o1.onnx", -1, &np, &pw, 1, NULL, 0),
	                  "opset -1 is not supported");
	expect_load_error(write_proto("o2.onnx", 0, &np, &pw, 1, NULL, 0),
	                  "opset 0 is not supported");
	assert_non_null(keep(fe_onnx_load(write_proto("o3.onnx", 1, &np, &pw, 1, NULL, 0), NULL,
	                                  &D)));
}

/* Opset-6 Add(X[2,3], B[3]) with broadcast=1: axis 1 is right, 0 and 2 do not fit B, a
 * negative axis is not defined; the error names the node. */
static void test_import_legacy_axis_range(void **state)
{
	(void)state;
	static float bv[3] = {1, 2, 3};
	static char *in[] = {"X", "B"}, *out[] = {"Y"};
	int64_t bd[1] = {3};
	Onnx__TensorProto b = ONNX__TENSOR_PROTO__INIT, *pb = &b;
	b.name = "B";
	b.has_data_type = 1;
	b.data_type = 1;
	b.n_dims = 1;
	b.dims = bd;
	b.n_float_data = 3;
	b.float_data = bv;
	ProtoIn x = {"X", 2, {2, 3}};
	Onnx__AttributeProto bc = ONNX__ATTRIBUTE_PROTO__INIT, ax = ONNX__ATTRIBUTE_PROTO__INIT;
	Onnx__AttributeProto *attrs[2] = {&bc, &ax};
	bc.name = "broadcast";
	bc.has_type = ax.has_type = 1;
	bc.type = ax.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
	bc.has_i = ax.has_i = 1;
	bc.i = 1;
	ax.name = "axis";
	Onnx__NodeProto np = ONNX__NODE_PROTO__INIT;
	np.name = "add";
	np.op_type = "Add";
	np.n_input = 2;
	np.input = in;
	np.n_output = 1;
	np.output = out;
	np.n_attribute = 2;
	np.attribute = attrs;
	const int64_t bad[] = {5, 2, -1};
	for (size_t i = 0; i < countof(bad); i++) {
		char file[32], want[96];
		ax.i = bad[i];
		snprintf(file, sizeof file, "ax%zu.onnx", i);
		snprintf(want, sizeof want, "node add: Add: broadcast axis %lld is out of range",
		         (long long)bad[i]);
		expect_load_error(write_proto(file, 6, &np, &pb, 1, &x, 1), want);
	}
	ax.i = 1;
	Graph *g = keep(fe_onnx_load(write_proto("ax_ok.onnx", 6, &np, &pb, 1, &x, 1), NULL, &D));
	assert_non_null(g);
	assert_int_equal(ir_attr_i(&g->nodes[0], "legacy_axis", -1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define FX(i) {fixtures[i].name, test_fixture, setup, teardown, (void *)&fixtures[i]}
		FX(0), FX(1), FX(2), FX(3), FX(4), FX(5),
#undef FX
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_save_before_pipeline),
		T(test_coerce2d_opset11),
		T(test_coerce2d_opset13),
		T(test_coerce2d_bumped_early),
		T(test_legacy_axis),
		T(test_sqc_attrs),
		T(test_duplicate_meta),
		T(test_dtypes),
		T(test_attr_opsets),
		T(test_unwritable),
		T(test_import_huge_tensor),
		T(test_import_huge_input),
		T(test_import_unsupported_ops),
		T(test_save_packed_operands),
		T(test_import_external_special),
		T(test_import_bad_opset),
		T(test_import_legacy_axis_range),
#undef T
	};
	_Static_assert(countof(fixtures) == 6, "one FX entry per fixture");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
