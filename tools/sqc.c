/* tools/sqc.c: the sqc driver.
 *
 *   sqc MODEL.onnx [--emit=ir] [-o FILE] [options]   compile (for now: print the IR)
 *   sqc FILE.ir --emit=ir ...                        the same from sqc IR text (IR tests)
 *   sqc run MODEL.onnx --input IN.npy [...] -o OUT.npy   run one batch in the interpreter
 *
 * Errors: "sqc: error: FILE: [node NAME: ]message" on stderr, exit status 1.
 */
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/rt.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_IO 16

typedef struct {
	const char *cmd;          /* NULL (compile) or "run" */
	const char *model;
	const char *emit;         /* "ir" ... */
	const char *outputs[MAX_IO];
	int noutputs;
	const char *inputs[MAX_IO];
	int ninputs;
	FeInputShape pins[MAX_IO];
	int npins;
	PipelineOptions po;
	int verbose, quiet, reference;
} Args;

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: sqc MODEL.onnx [--emit=ir] [-o FILE] [options]\n"
	        "       sqc run MODEL.onnx --input IN.npy [--input IN2.npy ...] -o OUT.npy\n"
	        "\n"
	        "options:\n"
	        "  --emit=ir                 print the sqc IR after the pipeline (default: stdout,\n"
	        "                            or the file given by -o)\n"
	        "  -o FILE                   output file\n"
	        "  --input FILE              run: an input tensor (.npy float32, or ONNX .pb)\n"
	        "  --input-shape NAME=DIMS   pin a graph input's shape, e.g. input=1x1x28x28\n"
	        "                            (a symbolic batch dim defaults to 1)\n"
	        "  --print-after=PASS        print the IR after PASS on stderr\n"
	        "  --print-after-all         print the IR after every pass on stderr\n"
	        "  --stop-after=PASS         stop the pipeline after PASS\n"
	        "  --reference               run: use the scalar reference kernels only\n"
	        "  -v, -q                    verbose, quiet\n"
	        "  --version, --help\n"
	        "\n"
	        "passes:\n");
	for (int i = 0; i < pass_pipeline_len; i++)
		fprintf(f, "  %-10s %s\n", pass_pipeline[i].name, pass_pipeline[i].what);
}

/* "--flag=value" or "--flag value": returns the value or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
	size_t n = strlen(flag);
	if (strncmp(argv[*i], flag, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == 0 && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int parse_args(int argc, char **argv, Args *a, Diag *d)
{
	memset(a, 0, sizeof *a);
	a->po.dump = stderr;
#ifndef NDEBUG
	a->po.verify = 1;
#endif
	int i = 1;
	if (argc > 1 && !strcmp(argv[1], "run")) {
		a->cmd = argv[1];
		i = 2;
	}
	for (; i < argc; i++) {
		const char *v;
		char *s = argv[i];
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(s, "--version")) {
			printf("sqc %s\n", SQC_VERSION);
			exit(0);
		} else if (!strcmp(s, "-v")) {
			a->verbose = 1;
		} else if (!strcmp(s, "-q")) {
			a->quiet = 1;
		} else if (!strcmp(s, "--reference")) {
			a->reference = 1;
		} else if (!strcmp(s, "--print-after-all")) {
			a->po.print_after_all = 1;
		} else if ((v = flag_value(argc, argv, &i, "--print-after"))) {
			a->po.print_after = v;
		} else if ((v = flag_value(argc, argv, &i, "--stop-after"))) {
			a->po.stop_after = v;
		} else if ((v = flag_value(argc, argv, &i, "--emit"))) {
			if (strcmp(v, "ir"))
				return diag_error(d, NULL, "--emit=%s is not supported yet (supported: ir)", v);
			a->emit = v;
		} else if ((v = flag_value(argc, argv, &i, "--input-shape"))) {
			if (a->npins == MAX_IO)
				return diag_error(d, NULL, "too many --input-shape options");
			char *arg = (char *)v; /* points into argv, which is writable */
			if (fe_parse_input_shape(arg, &a->pins[a->npins]))
				return diag_error(d, NULL, "--input-shape: expected NAME=DIMS such as "
				                  "input=1x1x28x28, got '%s'", v);
			a->npins++;
		} else if ((v = flag_value(argc, argv, &i, "--input"))) {
			if (a->ninputs == MAX_IO)
				return diag_error(d, NULL, "too many --input options");
			a->inputs[a->ninputs++] = v;
		} else if (!strcmp(s, "-o")) {
			if (i + 1 >= argc)
				return diag_error(d, NULL, "-o needs a file name");
			if (a->noutputs == MAX_IO)
				return diag_error(d, NULL, "too many -o options");
			a->outputs[a->noutputs++] = argv[++i];
		} else if (s[0] == '-' && s[1]) {
			return diag_error(d, NULL, "unknown option '%s' (see sqc --help)", s);
		} else if (!a->model) {
			a->model = s;
		} else {
			return diag_error(d, NULL, "more than one model given ('%s' and '%s')", a->model, s);
		}
	}
	if (!a->model)
		return diag_error(d, NULL, "no model given (see sqc --help)");
	return 0;
}

/* Writes the IR to path atomically, or to stdout when path is NULL or "-". */
static int write_ir(const Graph *g, const char *path, Diag *d)
{
	if (!path || !strcmp(path, "-")) {
		ir_print(stdout, g, 0);
		return fflush(stdout) ? diag_error(d, NULL, "cannot write the IR to stdout") : 0;
	}
	size_t pl = strlen(path) + 16;
	char *tmp = xmalloc(pl);
	snprintf(tmp, pl, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int rc = 0;
	if (!f) {
		rc = diag_error(d, NULL, "cannot create %s", path);
		if (fd >= 0)
			close(fd);
	} else {
		ir_print(f, g, 0);
		if (fclose(f) || rename(tmp, path))
			rc = diag_error(d, NULL, "cannot write %s", path);
	}
	if (rc && fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Imports the model (ONNX, or sqc IR text for IR tests) without running passes. */
static Graph *load(Args *a, Diag *d)
{
	Graph *g;
	size_t n = strlen(a->model);
	if (n > 3 && !strcmp(a->model + n - 3, ".ir")) { /* sqc IR text (IR tests) */
		char *text = fe_read_file(a->model, &n, d);
		g = text ? ir_parse(text, d) : NULL;
		free(text);
	} else {
		FeOptions fo = {a->pins, a->npins, 0};
		g = fe_onnx_load(a->model, &fo, d);
	}
	return g;
}

static Graph *load_and_canonicalize(Args *a, Diag *d)
{
	Graph *g = load(a, d);
	if (g && pass_run_pipeline(g, &a->po, d)) {
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

static int cmd_compile(Args *a, Diag *d)
{
	if (!a->emit)
		return diag_error(d, NULL, "native code generation is not implemented yet; use "
		                  "--emit=ir (or `sqc run`)");
	Graph *g = load_and_canonicalize(a, d);
	if (!g)
		return -1;
	int rc = write_ir(g, a->noutputs ? a->outputs[0] : NULL, d);
	ir_graph_free(g);
	return rc;
}

static int cmd_run(Args *a, Diag *d)
{
	if (!a->ninputs)
		return diag_error(d, NULL, "run: give the input with --input IN.npy");
	if (!a->noutputs)
		return diag_error(d, NULL, "run: give the output file with -o OUT.npy");
	FeTensor in[MAX_IO] = {0};
	int rc = -1, nin = 0;
	Graph *g = NULL;
	void *outs[MAX_IO] = {0};
	for (; nin < a->ninputs; nin++) {
		Diag di;
		diag_init(&di, a->inputs[nin]);
		if (fe_tensor_read(a->inputs[nin], &in[nin], &di)) {
			d->nerrors++;
			goto out;
		}
	}
	/* The graph's inputs take the shapes of the given tensors (this pins a symbolic batch
	 * dim too); an explicit --input-shape wins. First load to learn the input names. */
	FeOptions fo0 = {a->pins, a->npins, 0};
	Diag quiet = *d;
	quiet.out = NULL;
	Graph *g0 = fe_onnx_load(a->model, &fo0, &quiet);
	if (!g0) {
		g = load_and_canonicalize(a, d); /* reports the error */
		goto out;
	}
	if (g0->ninputs != a->ninputs) {
		diag_error(d, NULL, "the model has %d input%s, %d given with --input", g0->ninputs,
		           g0->ninputs == 1 ? "" : "s", a->ninputs);
		ir_graph_free(g0);
		goto out;
	}
	for (int i = 0; i < g0->ninputs && a->npins < MAX_IO; i++) {
		const char *nm = g0->values[g0->inputs[i]].name;
		int pinned = 0;
		for (int j = 0; j < a->npins; j++)
			pinned |= !strcmp(a->pins[j].name, nm);
		if (!pinned) {
			a->pins[a->npins].name = strdup(nm);
			a->pins[a->npins++].shape = in[i].shape;
		}
	}
	int npins0 = fo0.npins;
	ir_graph_free(g0);
	g = load(a, d);
	for (int j = npins0; j < a->npins; j++)
		free((char *)a->pins[j].name);
	a->npins = npins0;
	if (!g)
		goto out;
	/* Inputs read as shape operands (Reshape's shape, ...) become constants: sqc compiles
	 * for static shapes. The pipeline runs again on the bound graph. */
	const void *ins[MAX_IO];
	int order[MAX_IO];
	for (int i = 0; i < g->ninputs; i++)
		order[i] = i;
	for (int i = 0, k = 0; i < a->ninputs; i++) {
		int v = g->inputs[k];
		if (ir_is_shape_operand(g, v) && in[i].dtype == g->values[v].dtype &&
		    ir_shape_eq(&in[i].shape, &g->values[v].shape)) {
			ir_bind_input(g, k, in[i].data);
			in[i].data = NULL;
		} else {
			order[k++] = i;
		}
	}
	if (pass_run_pipeline(g, &a->po, d))
		goto out;
	for (int k = 0; k < g->ninputs; k++) {
		int i = order[k];
		const Value *v = &g->values[g->inputs[k]];
		if (in[i].dtype != v->dtype) {
			diag_error(d, NULL, "input '%s' must be %s, %s has %s", v->name,
			           ir_dtype_name(v->dtype), a->inputs[i], ir_dtype_name(in[i].dtype));
			goto out;
		}
		if (!ir_shape_eq(&in[i].shape, &v->shape)) {
			char s1[128], s2[128];
			diag_error(d, NULL, "input '%s' has shape %s, %s has %s", v->name,
			           ir_shape_str(&v->shape, s1, sizeof s1), a->inputs[i],
			           ir_shape_str(&in[i].shape, s2, sizeof s2));
			goto out;
		}
		ins[k] = in[i].data;
	}
	if (g->noutputs > MAX_IO || a->noutputs > g->noutputs) {
		diag_error(d, NULL, "the model has %d output(s), %d -o given", g->noutputs,
		           a->noutputs);
		goto out;
	}
	RtOptions ro = {.use_fast = !a->reference};
	if (rt_run(g, ins, outs, &ro, d))
		goto out;
	rc = 0;
	for (int i = 0; i < a->noutputs && !rc; i++) {
		const Value *v = &g->values[g->outputs[i]];
		FeTensor t = {v->dtype, v->shape, outs[i]};
		Diag dw;
		diag_init(&dw, a->outputs[i]);
		rc = fe_npy_write(a->outputs[i], &t, &dw);
		if (rc)
			d->nerrors++;
	}
	if (!rc && a->verbose)
		for (int i = a->noutputs; i < g->noutputs; i++)
			diag_note(d, "output '%s' not written (give another -o)",
			          g->values[g->outputs[i]].name);
out:
	for (int i = 0; i < MAX_IO; i++)
		free(outs[i]);
	for (int i = 0; i < nin; i++)
		fe_tensor_free(&in[i]);
	ir_graph_free(g);
	return rc;
}

int main(int argc, char **argv)
{
	Diag d;
	diag_init(&d, NULL);
	Args a;
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (parse_args(argc, argv, &a, &d))
		return 1;
	diag_init(&d, a.model);
	int rc = a.cmd ? cmd_run(&a, &d) : cmd_compile(&a, &d);
	return rc ? 1 : 0;
}
