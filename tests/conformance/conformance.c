/* tests/conformance/conformance.c: runs the ONNX backend test suite (libonnx-testdata)
 * through the frontend, the default pipeline and the interpreter.
 *
 *   conformance DATA_DIR REJECTED_LIST [-v] [-k SUBSTRING]
 *
 * DATA_DIR holds node/, pytorch-converted/, pytorch-operator/, simple/: one folder per
 * case with model.onnx and test_data_set_N/{input,output}_K.pb. A case is skipped when it
 * uses an op sqc does not support or a data type it does not support; a case listed in
 * REJECTED_LIST (a line: "CASE reason...") is one whose ops are supported but that we
 * reject on purpose (the reason is printed; docs/conformance.md lists them). Every other
 * case must pass: outputs equal the expected ones within rtol 1e-3, atol 1e-7 (as ONNX's
 * own runner). A listed case that passes is a failure too, so the list stays true.
 * The last line is "conformance: N passed, N failed, N skipped".
 */
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/rt.h"

#include <dirent.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx.pb-c.h"

/* snprintf that may truncate silently (paths and messages here are for people). */
static void fmtstr(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static const char *suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

typedef struct {
	char **name, **reason;
	int n;
} RejectList;

static void rejects_load(RejectList *r, const char *path)
{
	memset(r, 0, sizeof *r);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "conformance: cannot open %s\n", path);
		exit(2);
	}
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *sp = strchr(line, ' ');
		r->name = xrealloc(r->name, sizeof(char *) * (size_t)(r->n + 1));
		r->reason = xrealloc(r->reason, sizeof(char *) * (size_t)(r->n + 1));
		if (sp)
			*sp++ = 0;
		r->name[r->n] = strdup(line);
		r->reason[r->n] = strdup(sp ? sp : "(no reason given)");
		r->n++;
	}
	fclose(f);
}

static const char *rejects_find(const RejectList *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->name[i], name))
			return r->reason[i];
	return NULL;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a folder whose names start with prefix. */
static int list_dir(const char *dir, const char *prefix, char ***out)
{
	DIR *dp = opendir(dir);
	*out = NULL;
	if (!dp)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		*out = xrealloc(*out, sizeof(char *) * (size_t)(n + 1));
		(*out)[n++] = strdup(e->d_name);
	}
	closedir(dp);
	if (n)
		qsort(*out, (size_t)n, sizeof(char *), cmpstr);
	return n;
}

static void free_list(char **l, int n)
{
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static int supported_elem_type(int32_t t)
{
	return t == 1 || t == 2 || t == 3 || t == 6 || t == 7 || t == 9 || t == 11;
}

/* Why the case is out of scope (unsupported op or dtype), or NULL. Also collects the
 * names of the runtime inputs in order. */
static const char *scan_model(const char *path, char *why, size_t nwhy, char ***inames,
                              int *ninputs)
{
	*inames = NULL;
	*ninputs = 0;
	size_t n;
	Diag d;
	diag_init(&d, path);
	unsigned char *buf = fe_read_file(path, &n, &d);
	if (!buf)
		return "cannot read model";
	Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, buf);
	free(buf);
	if (!m || !m->graph) {
		if (m)
			onnx__model_proto__free_unpacked(m, NULL);
		return NULL; /* let the importer report it: a failure */
	}
	const char *res = NULL;
	const Onnx__GraphProto *g = m->graph;
	for (size_t i = 0; i < g->n_node && !res; i++) {
		const Onnx__NodeProto *np = g->node[i];
		if ((np->domain && *np->domain && strcmp(np->domain, "ai.onnx")) ||
		    (strcmp(np->op_type, "Constant") && ir_op_lookup(np->op_type) < 0)) {
			fmtstr(why, nwhy, "unsupported op %s", np->op_type);
			res = why;
		}
	}
	for (size_t i = 0; i < g->n_input && !res; i++) {
		const Onnx__TypeProto *tp = g->input[i]->type;
		if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
			fmtstr(why, nwhy, "non-tensor input");
			res = why;
		} else if (tp && !supported_elem_type(tp->tensor_type->elem_type)) {
			fmtstr(why, nwhy, "unsupported data type %d", tp->tensor_type->elem_type);
			res = why;
		}
	}
	for (size_t i = 0; i < g->n_output && !res; i++) {
		const Onnx__TypeProto *tp = g->output[i]->type;
		if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
		    !supported_elem_type(tp->tensor_type->elem_type)) {
			fmtstr(why, nwhy, "unsupported data type %d", tp->tensor_type->elem_type);
			res = why;
		}
	}
	for (size_t i = 0; i < g->n_input; i++) {
		int init = 0;
		for (size_t j = 0; j < g->n_initializer; j++)
			init |= !strcmp(g->initializer[j]->name, g->input[i]->name);
		if (init)
			continue;
		*inames = xrealloc(*inames, sizeof(char *) * (size_t)(*ninputs + 1));
		(*inames)[(*ninputs)++] = strdup(g->input[i]->name);
	}
	onnx__model_proto__free_unpacked(m, NULL);
	return res;
}

static int compare(const FeTensor *want, const Value *v, const void *got, char *msg, size_t n)
{
	if (want->dtype != v->dtype) {
		fmtstr(msg, n, "dtype %s, expected %s", ir_dtype_name(v->dtype),
		         ir_dtype_name(want->dtype));
		return -1;
	}
	if (!ir_shape_eq(&want->shape, &v->shape)) {
		char a[128], b[128];
		fmtstr(msg, n, "shape %s, expected %s", ir_shape_str(&v->shape, a, sizeof a),
		         ir_shape_str(&want->shape, b, sizeof b));
		return -1;
	}
	int64_t ne = ir_shape_numel(&v->shape);
	for (int64_t i = 0; i < ne; i++) {
		double a, b;
		switch (v->dtype) {
		case DT_FLOAT: a = ((const float *)got)[i]; b = ((const float *)want->data)[i]; break;
		case DT_DOUBLE: a = ((const double *)got)[i]; b = ((const double *)want->data)[i]; break;
		case DT_INT64: a = (double)((const int64_t *)got)[i]; b = (double)((const int64_t *)want->data)[i]; break;
		case DT_INT32: a = ((const int32_t *)got)[i]; b = ((const int32_t *)want->data)[i]; break;
		case DT_INT8: a = ((const int8_t *)got)[i]; b = ((const int8_t *)want->data)[i]; break;
		default: a = ((const uint8_t *)got)[i]; b = ((const uint8_t *)want->data)[i]; break;
		}
		if (isnan(a) && isnan(b))
			continue;
		if (isinf(a) && a == b)
			continue;
		if (!(fabs(a - b) <= 1e-7 + 1e-3 * fabs(b))) {
			fmtstr(msg, n, "element %lld is %.9g, expected %.9g", (long long)i, a, b);
			return -1;
		}
	}
	return 0;
}

/* Runs one test_data_set folder. Returns 0 (pass) or -1 with msg. */
static int run_set(const char *model, const char *setdir, char **inames, int ninames,
                   char *msg, size_t nmsg)
{
	char **ins, **outs;
	int nin = list_dir(setdir, "input_", &ins), nout = list_dir(setdir, "output_", &outs);
	int rc = -1;
	FeTensor tin[32] = {0}, tout[32] = {0};
	FeInputShape pins[32];
	Graph *g = NULL;
	void *res[32] = {0};
	Diag d;
	diag_init(&d, model);
	d.out = NULL;
	if (nin > 32 || nout > 32 || nin != ninames) {
		fmtstr(msg, nmsg, "%d input files for %d graph inputs", nin, ninames);
		goto out;
	}
	char path[4096];
	for (int i = 0; i < nin; i++) {
		fmtstr(path, sizeof path, "%s/%s", setdir, ins[i]);
		if (fe_tensor_pb_read(path, &tin[i], &d)) {
			fmtstr(msg, nmsg, "reading %s: %s", ins[i], d.last);
			goto out;
		}
		pins[i].name = inames[i];
		pins[i].shape = tin[i].shape;
	}
	for (int i = 0; i < nout; i++) {
		fmtstr(path, sizeof path, "%s/%s", setdir, outs[i]);
		if (fe_tensor_pb_read(path, &tout[i], &d)) {
			fmtstr(msg, nmsg, "reading %s: %s", outs[i], d.last);
			goto out;
		}
	}
	FeOptions fo = {pins, nin, 0};
	g = fe_onnx_load(model, &fo, &d);
	/* Shape operands that the test feeds as inputs (Reshape's shape, ...) must be known at
	 * compile time in sqc: bind them as constants, as `sqc run` does. */
	const void *inp[32];

	for (int i = 0, k = 0; g && i < nin; i++) {
		if (ir_is_shape_operand(g, g->inputs[k])) {
			ir_bind_input(g, k, tin[i].data);
			tin[i].data = NULL;
		} else {
			inp[k++] = tin[i].data;
		}
	}
	PipelineOptions po = {0};
	po.verify = 1;
	if (!g || pass_run_pipeline(g, NULL, &po, &d)) {
		fmtstr(msg, nmsg, "%s", d.last);
		goto out;
	}
	if (g->noutputs != nout) {
		fmtstr(msg, nmsg, "%d outputs, expected %d", g->noutputs, nout);
		goto out;
	}
	RtOptions ro = {.use_fast = 1};
	if (rt_run(g, inp, res, &ro, &d)) {
		fmtstr(msg, nmsg, "run: %s", d.last);
		goto out;
	}
	rc = 0;
	for (int i = 0; i < nout && !rc; i++) {
		char m2[256];
		if (compare(&tout[i], &g->values[g->outputs[i]], res[i], m2, sizeof m2)) {
			fmtstr(msg, nmsg, "output %d: %s", i, m2);
			rc = -1;
		}
	}
out:
	for (int i = 0; i < 32; i++) {
		fe_tensor_free(&tin[i]);
		fe_tensor_free(&tout[i]);
		free(res[i]);
	}
	ir_graph_free(g);
	free_list(ins, nin);
	free_list(outs, nout);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: conformance DATA_DIR REJECTED_LIST [-v] [-k SUBSTRING]\n");
		return 2;
	}
	int verbose = 0;
	const char *filter = NULL;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-v"))
			verbose = 1;
		else if (!strcmp(argv[i], "-k") && i + 1 < argc)
			filter = argv[++i];
	}
	RejectList rej;
	rejects_load(&rej, argv[2]);
	int pass = 0, fail = 0, skip_op = 0, skip_rej = 0, total = 0;
	for (size_t s = 0; s < countof(suites); s++) {
		char dir[4096];
		fmtstr(dir, sizeof dir, "%s/%s", argv[1], suites[s]);
		char **cases;
		int nc = list_dir(dir, "test_", &cases);
		if (!nc) {
			fprintf(stderr, "conformance: no cases in %s\n", dir);
			return 2;
		}
		for (int c = 0; c < nc; c++) {
			if (filter && !strstr(cases[c], filter))
				continue;
			total++;
			char model[8192], why[256];
			fmtstr(model, sizeof model, "%s/%s/model.onnx", dir, cases[c]);
			char **inames;
			int ninames;
			const char *skip = scan_model(model, why, sizeof why, &inames, &ninames);
			const char *reason = rejects_find(&rej, cases[c]);
			if (skip) {
				skip_op++;
				if (verbose)
					printf("SKIP %s/%s: %s\n", suites[s], cases[c], skip);
				free_list(inames, ninames);
				continue;
			}
			char setroot[8192];
			fmtstr(setroot, sizeof setroot, "%s/%s", dir, cases[c]);
			char **sets;
			int nsets = list_dir(setroot, "test_data_set_", &sets);
			char msg[1024] = "no test data";
			int ok = nsets > 0;
			for (int k = 0; k < nsets && ok; k++) {
				char sd[16384];
				fmtstr(sd, sizeof sd, "%s/%s", setroot, sets[k]);
				ok = !run_set(model, sd, inames, ninames, msg, sizeof msg);
			}
			free_list(sets, nsets);
			free_list(inames, ninames);
			if (reason) {
				if (ok) {
					fail++;
					printf("FAIL %s/%s: passes, but is listed as rejected (%s): update the list\n",
					       suites[s], cases[c], reason);
				} else {
					skip_rej++;
					printf("SKIP %s/%s: rejected on purpose: %s [%s]\n", suites[s], cases[c],
					       reason, msg);
				}
			} else if (ok) {
				pass++;
				if (verbose)
					printf("PASS %s/%s\n", suites[s], cases[c]);
			} else {
				fail++;
				printf("FAIL %s/%s: %s\n", suites[s], cases[c], msg);
			}
		}
		free_list(cases, nc);
	}
	printf("conformance: %d cases: %d skipped for an unsupported op or data type, %d rejected "
	       "on purpose\n", total, skip_op, skip_rej);
	printf("conformance: %d passed, %d failed, %d skipped\n", pass, fail, skip_op + skip_rej);
	for (int i = 0; i < rej.n; i++) {
		free(rej.name[i]);
		free(rej.reason[i]);
	}
	free(rej.name);
	free(rej.reason);
	return fail ? 1 : 0;
}
