/* tools/sqc.c: the sqc driver.
 *
 *   sqc MODEL.onnx [-o FILE.so|.o|.s|.ll] [options]  compile to native code (LLVM)
 *   sqc MODEL.onnx --emit=ir [-o FILE]               print the IR after the pipeline
 *   sqc FILE.ir --emit=ir ...                        the same from sqc IR text (IR tests)
 *   sqc run MODEL.onnx|model.so --input IN.npy [...] -o OUT.npy   run one batch
 *   sqc eval MODEL.onnx|model.so --config FILE.yaml  top-1 accuracy on the test split
 *
 * Errors: "sqc: error: FILE: [node NAME: ]message" on stderr, exit status 1.
 */
#include "driver.h"
#include "runtime/threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: sqc MODEL.onnx [-o FILE.so|.o|.s|.ll] [options]   compile to native code\n"
	        "       sqc MODEL.onnx --emit=ir [-o FILE] [options]     print the sqc IR\n"
	        "       sqc run MODEL.onnx|model.so --input IN.npy [--input IN2.npy ...] -o OUT.npy\n"
	        "       sqc eval MODEL.onnx|model.so --config FILE.yaml [--batch N] [--limit N]\n"
	        "                [--threads N]\n"
	        "\n"
	        "output:\n"
	        "  -o FILE                   output file (its extension picks the kind: .so shared\n"
	        "                            object, .o object, .s assembly, .ll LLVM IR; default:\n"
	        "                            the model's stem with .so)\n"
	        "  -c, -S                    object file, assembly\n"
	        "  --emit=ir|llvm            the sqc IR after the pipeline (stdout, or -o FILE), or\n"
	        "                            LLVM IR after optimization\n"
	        "  --emit-header FILE        the C header of the generated API\n"
	        "  --name NAME               the API's symbol prefix (default: the output's stem)\n"
	        "  --target TRIPLE           x86_64-linux-gnu (default) or aarch64-linux-gnu\n"
	        "  --mcpu CPU                the CPU to tune for (default x86-64-v3; aarch64:\n"
	        "                            generic with NEON; e.g. neoverse-n1, cortex-a72), or\n"
	        "                            native (this machine's); a CPU with AVX-512 VNNI and\n"
	        "                            VPOPCNTDQ (x86) or dotprod (aarch64) gets kernels for\n"
	        "                            them, the .so then needs such a CPU\n"
	        "  --min-task-us=T           NAME_run_parallel splits a layer into tasks of at\n"
	        "                            least T us of estimated work (default 20)\n"
	        "\n"
	        "fine-tuning:\n"
	        "  --config FILE.yaml        data set, normalization, fine-tuning (sq:) settings\n"
	        "  --quant=sq|twn|bwn|bc|none   fine-tune with 1/2-bit weights (SQ decides per\n"
	        "                            layer) or a baseline before compiling, eval, run\n"
	        "  --act-bits=N              activation bits when fine-tuning (1-8, default 8;\n"
	        "                            32 = float activations, the paper's setting)\n"
	        "  --finetune                fine-tune even with --quant=none (the FP baseline)\n"
	        "  --seed=N                  fine-tuning seed (shuffling)\n"
	        "  --report FILE.json        per-layer report (bits, kernel, scales, accuracy)\n"
	        "  --save-onnx FILE          write the fine-tuned model as ONNX (batch 1; the\n"
	        "                            decisions in metadata_props); sqc does not\n"
	        "                            fine-tune such a file again\n"
	        "\n"
	        "run, eval:\n"
	        "  --input FILE              run: an input tensor (.npy float32, or ONNX .pb)\n"
	        "  --batch N                 eval: images per interpreter run (default 100)\n"
	        "  --limit N                 eval: only the first N test images\n"
	        "  --reference               use the scalar reference kernels only\n"
	        "  --threads N               threads of the interpreter, fine-tuning and compiled\n"
	        "                            models (NAME_run_parallel); default: OpenBLAS's count\n"
	        "                            (OPENBLAS_NUM_THREADS, else the cores)\n"
	        "\n"
	        "model and pipeline:\n"
	        "  --input-shape NAME=DIMS   pin a graph input's shape, e.g. input=1x1x28x28\n"
	        "                            (a symbolic batch dim defaults to 1)\n"
	        "  --print-after=PASS        print the IR after PASS on stderr\n"
	        "  --print-after-all         print the IR after every pass on stderr\n"
	        "  --stop-after=PASS         stop the pipeline after PASS\n"
	        "  -v, -q                    verbose (each layer's kernel), quiet\n"
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
	a->quant = -1;
	a->seed = -1;
#ifndef NDEBUG
	a->po.verify = 1;
#endif
	int i = 1;
	if (argc > 1 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "eval"))) {
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
		} else if (!strcmp(s, "--finetune")) {
			a->finetune = 1;
		} else if (!strcmp(s, "--reference")) {
			a->reference = 1;
		} else if (!strcmp(s, "--print-after-all")) {
			a->po.print_after_all = 1;
		} else if ((v = flag_value(argc, argv, &i, "--print-after"))) {
			a->po.print_after = v;
		} else if ((v = flag_value(argc, argv, &i, "--stop-after"))) {
			a->po.stop_after = v;
		} else if ((v = flag_value(argc, argv, &i, "--emit-header"))) {
			a->header = v;
		} else if ((v = flag_value(argc, argv, &i, "--emit"))) {
			if (strcmp(v, "ir") && strcmp(v, "llvm"))
				return diag_error(d, NULL, "--emit=%s: expected ir or llvm", v);
			a->emit = v;
		} else if ((v = flag_value(argc, argv, &i, "--target"))) {
			if (cg_target_known(v))
				return diag_error(d, NULL, "--target: unknown target '%s' (targets: %s)", v,
				                  cg_target_list());
			a->target = v;
		} else if ((v = flag_value(argc, argv, &i, "--mcpu"))) {
			a->mcpu = v;
		} else if ((v = flag_value(argc, argv, &i, "--name"))) {
			if (!cg_valid_name(v) || strlen(v) > 100)
				return diag_error(d, NULL, "--name: '%s' is not a C identifier", v);
			a->name = v;
		} else if (!strcmp(s, "-c")) {
			a->obj = 1;
		} else if (!strcmp(s, "-S")) {
			a->asm_out = 1;
		} else if ((v = flag_value(argc, argv, &i, "--input-shape"))) {
			if (a->npins == MAX_IO)
				return diag_error(d, NULL, "too many --input-shape options");
			char *arg = (char *)v; /* points into argv, which is writable */
			char spec[256];
			snprintf(spec, sizeof spec, "%s", v);
			if (fe_parse_input_shape(arg, &a->pins[a->npins]))
				return diag_error(d, NULL, "--input-shape: expected NAME=DIMS such as "
				                  "input=1x1x28x28, got '%s'", spec);
			a->npins++;
		} else if ((v = flag_value(argc, argv, &i, "--config"))) {
			a->config = v;
		} else if ((v = flag_value(argc, argv, &i, "--quant"))) {
			a->quant = sq_method_parse(v);
			if (a->quant < 0)
				return diag_error(d, NULL, "--quant: expected sq, twn, bwn, bc or none, got '%s'", v);
		} else if ((v = flag_value(argc, argv, &i, "--act-bits"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || !((n >= 1 && n <= 8) || n == 32))
				return diag_error(d, NULL, "--act-bits: expected 1 to 8, or 32 (float), got '%s'", v);
			a->act_bits = (int)n;
		} else if ((v = flag_value(argc, argv, &i, "--threads"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > RT_MAX_THREADS)
				return diag_error(d, NULL, "--threads: expected 1 to %d, got '%s'",
				                  RT_MAX_THREADS, v);
			a->threads = (int)n;
			rt_set_threads(a->threads);
		} else if ((v = flag_value(argc, argv, &i, "--min-task-us"))) {
			char *end;
			double t = strtod(v, &end);
			if (*end || !(t > 0) || t > 1e9)
				return diag_error(d, NULL, "--min-task-us: expected a positive number of "
				                  "microseconds, got '%s'", v);
			a->min_task_us = t;
		} else if ((v = flag_value(argc, argv, &i, "--seed"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 0 || n > 2147483647L)
				return diag_error(d, NULL, "--seed: expected a non-negative integer, got '%s'", v);
			a->seed = (int)n;
		} else if ((v = flag_value(argc, argv, &i, "--report"))) {
			a->report = v;
		} else if ((v = flag_value(argc, argv, &i, "--save-onnx"))) {
			a->save_onnx = v;
		} else if ((v = flag_value(argc, argv, &i, "--batch")) ||
		           (v = flag_value(argc, argv, &i, "--limit"))) {
			char *end;
			long long n = strtoll(v, &end, 10);
			int is_batch = !strncmp(s, "--batch", 7);
			if (*end || n < (is_batch ? 1 : 0) || n > (is_batch ? 65536 : INT64_MAX / 2))
				return diag_error(d, NULL, "%s: expected a %s integer, got '%s'",
				                  is_batch ? "--batch" : "--limit",
				                  is_batch ? "positive" : "non-negative", v);
			*(is_batch ? &a->batch : &a->limit) = n;
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
	OutFile o;
	FILE *f = ir_out_open(&o, path, d);
	if (!f)
		return -1;
	ir_print(f, g, 0);
	return ir_out_commit(&o, 0, d);
}

static int has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), k = strlen(ext);
	return n > k && !strcmp(path + n - k, ext);
}

/* run: a warning for NaN/Inf in a float input. The policy of the quantized numerics (the
 * interpreter and the compiled code alike): an activation quantizer maps NaN to its lowest
 * level and +-Inf to its ends, silently; float layers propagate them. */
static void warn_nonfinite(const Args *a, const char *path, const FeTensor *t)
{
	if (t->dtype != DT_FLOAT || a->quiet)
		return;
	int64_t n = ir_shape_numel(&t->shape), bad = 0;
	const float *x = t->data;
	for (int64_t i = 0; i < n; i++)
		bad += !isfinite(x[i]);
	if (bad)
		fprintf(stderr, "sqc: warning: %s: %lld of %lld values are NaN or infinite (quantized "
		        "layers map NaN to their lowest activation level)\n", path, (long long)bad,
		        (long long)n);
}

/* Is path's folder an existing folder? (The atomic writer finds it out too, but only when
 * it writes, after fine-tuning.) */
static int check_out_dir(const char *path, Diag *d)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	if (slash == dir)
		slash[1] = 0;
	else
		*slash = 0;
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return diag_error(d, NULL, "cannot write %s: no folder %s", path, dir);
	return 0;
}

/* sqc MODEL.onnx -o model.so (or -c/.o, -S/.s, --emit=llvm/.ll): fine-tunes when asked
 * (or takes a model saved with --save-onnx as it is), then the backend. */
static int compile_native(Args *a, Diag *d)
{
	CgOptions o = {0};
	o.target = a->target;
	o.mcpu = a->mcpu;
	o.header = a->header;
	o.verbose = a->verbose;
	o.min_task_us = a->min_task_us;
	const char *out = a->noutputs ? a->outputs[0] : NULL;
	int llvm = a->emit && !strcmp(a->emit, "llvm");
	if (a->noutputs > 1)
		return diag_error(d, NULL, "more than one -o given");
	if (llvm + a->obj + a->asm_out > 1)
		return diag_error(d, NULL, "give only one of -c, -S, --emit=llvm");
	o.kind = llvm ? CG_LLVM : a->obj ? CG_OBJ : a->asm_out ? CG_ASM
	       : out && has_ext(out, ".o") ? CG_OBJ : out && has_ext(out, ".s") ? CG_ASM
	       : out && has_ext(out, ".ll") ? CG_LLVM : CG_SO;
	static const char *const ext[] = {".so", ".o", ".s", ".ll"};
	char defout[512];
	if (!out || !strcmp(out, "-")) {
		if (out)
			return diag_error(d, NULL, "native output cannot go to stdout; give -o FILE");
		char stem[256];
		const char *base = strrchr(a->model, '/');
		snprintf(stem, sizeof stem, "%s", base ? base + 1 : a->model);
		char *dot = strrchr(stem, '.');
		if (dot && dot != stem)
			*dot = 0;
		snprintf(defout, sizeof defout, "%s%s", stem, ext[o.kind]);
		out = defout;
	}
	o.output = out;
	char name[128];
	if (a->name)
		snprintf(name, sizeof name, "%s", a->name);
	else
		rt_model_name_from_path(out, name, sizeof name);
	o.name = name;
	/* output mistakes are found before fine-tuning, not after it */
	if (a->header && !strcmp(a->header, out))
		return diag_error(d, NULL, "--emit-header and -o name the same file %s", out);
	if (check_out_dir(out, d) || (a->header && check_out_dir(a->header, d)))
		return -1;
	a->level = cg_level(a->target, a->mcpu, d); /* a bad --mcpu is found before fine-tuning */
	if (!a->level)
		return -1;
	Session s = {0};
	a->po.native = 1;
	Graph *g = drv_load_model(a, &s, 1, d);
	int rc = -1;
	if (!g)
		goto done;
	if (a->po.stop_after) { /* the pipeline stopped early: no code */
		rc = 0;
		goto done;
	}
	CgInfo info;
	if (cg_compile(g, &o, &info, d))
		goto done;
	rc = 0;
	for (int i = 0; i < s.report.nlayers; i++) {
		SqLayerReport *l = &s.report.layers[i];
		for (int j = 0; j < g->nnodes; j++)
			if (!strcmp(g->nodes[j].name, l->name)) {
				SqcKernel k = ir_kernel_of(&g->nodes[j]);
				l->kernel = ir_kernel_name(k ? k : SQK_F32);
			}
	}
	if (!a->quiet) {
		fprintf(stderr, "sqc: wrote %s (%s, %lld bytes; workspace %lld bytes)\n", out,
		        a->target ? a->target : "x86_64-linux-gnu", (long long)info.code_bytes,
		        (long long)info.workspace);
		for (int j = 0; j < g->nnodes && a->verbose; j++) {
			const Node *n = &g->nodes[j];
			const char *k = ir_dec_s(n, SQCA_KERNEL);
			if (k)
				fprintf(stderr, "  %-24s %-6s bits %-2lld act %-2lld kernel %s\n", n->name,
				        ir_op_name(n->op), (long long)ir_dec_i(n, SQCA_BITS),
				        (long long)ir_dec_i(n, SQCA_ACT_BITS), k);
		}
	}
	rc = drv_save_onnx(a, &s, d);
	if (!rc)
		rc = drv_write_report(a, &s, -1, -1, d);
done:
	ir_graph_free(g);
	drv_session_free(&s);
	return rc;
}

static int cmd_compile(Args *a, Diag *d)
{
	if (!a->emit && a->save_onnx && !a->noutputs) { /* only --save-onnx */
		Session s = {0};
		int rc = drv_save_onnx(a, &s, d);
		if (!rc)
			rc = drv_write_report(a, &s, -1, -1, d);
		drv_session_free(&s);
		return rc;
	}
	if (!a->emit || !strcmp(a->emit, "llvm"))
		return compile_native(a, d);
	/* --emit=ir shows the backend's passes too when --print-after/--stop-after names one */
	int pa = a->po.print_after ? pass_find(a->po.print_after) : -1;
	int sa = a->po.stop_after ? pass_find(a->po.stop_after) : -1;
	a->po.native = (pa >= 0 && pass_pipeline[pa].native) || (sa >= 0 && pass_pipeline[sa].native);
	Session s = {0};
	Graph *g = drv_load_model(a, &s, 0, d);
	int rc = g ? write_ir(g, a->noutputs ? a->outputs[0] : NULL, d) : -1;
	if (!rc)
		rc = drv_save_onnx(a, &s, d);
	if (!rc)
		rc = drv_write_report(a, &s, -1, -1, d);
	ir_graph_free(g);
	drv_session_free(&s);
	return rc;
}

static int run_so(Args *a, Diag *d);
static int cmd_run(Args *a, Diag *d)
{
	if (has_ext(a->model, ".so"))
		return run_so(a, d);
	if (!a->noutputs)
		return diag_error(d, NULL, "run: give the output file with -o OUT.npy");
	FeTensor in[MAX_IO] = {0};
	Session sess = {0};
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
		warn_nonfinite(a, a->inputs[nin], &in[nin]);
	}
	/* The graph's inputs take the shapes of the given tensors (this pins a symbolic batch
	 * dim too); an explicit --input-shape wins. First load to learn the input names. */
	int npins0 = a->npins;
	Diag quiet = *d;
	quiet.out = NULL;
	Graph *g0 = drv_load(a, &quiet);
	if (!g0) {
		g = drv_load(a, d); /* reports the error */
		goto out;
	}
	if (g0->ninputs != a->ninputs) { /* a model without inputs runs without --input */
		diag_error(d, NULL, "the model has %d input%s, %d given with --input%s", g0->ninputs,
		           g0->ninputs == 1 ? "" : "s", a->ninputs,
		           a->ninputs ? "" : " (give each with --input IN.npy)");
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
	ir_graph_free(g0);
	g = drv_load(a, d);
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
	if (drv_quant_requested(a) && drv_session_train(a, &sess, d))
		goto out;
	PassEnv env = drv_pass_env(a, drv_quant_requested(a) ? &sess.transfer : NULL);
	int prc = pass_run_pipeline(g, &env, &a->po, d);
	if (prc)
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
	drv_session_free(&sess);
	return rc;
}

/* Top-1 accuracy of g on ds by the interpreter in batches of g's batch dim; prints
 * "LABEL: 0.XXXX (N/M)" on stdout. */
static int eval_graph(Args *a, const Graph *g, const FeDataset *ds, const char *label,
                      double *acc, Diag *d)
{
	if (g->ninputs != 1 || g->noutputs < 1)
		return diag_error(d, NULL, "eval needs a model with one input (it has %d)", g->ninputs);
	const Value *vin = &g->values[g->inputs[0]], *vout = &g->values[g->outputs[0]];
	int64_t per = fe_dataset_sample_numel(ds);
	Shape want = vin->shape;
	int64_t batch = want.rank > 0 ? want.d[0] : 1;
	Shape samp = {want.rank - 1, {0}};
	for (int i = 1; i < want.rank; i++)
		samp.d[i - 1] = want.d[i];
	if (vin->dtype != DT_FLOAT || !ir_shape_eq(&samp, &ds->sample) || batch < 1) {
		char s1[128], s2[128];
		return diag_error(d, NULL, "the data set's images have shape %s, the model's input "
		                  "'%s' is %s %s", ir_shape_str(&ds->sample, s1, sizeof s1), vin->name,
		                  ir_dtype_name(vin->dtype), ir_shape_str(&vin->shape, s2, sizeof s2));
	}
	int64_t nout = ir_shape_numel(&vout->shape) / batch;
	if (vout->dtype != DT_FLOAT || vout->shape.d[0] != batch || nout != ds->nclasses) {
		char s1[128];
		return diag_error(d, NULL, "the model's output '%s' %s does not give one score per "
		                  "class (%d classes)", vout->name,
		                  ir_shape_str(&vout->shape, s1, sizeof s1), ds->nclasses);
	}
	RtOptions ro = {.use_fast = !a->reference};
	float *xb = xcalloc((size_t)(batch * per), sizeof(float));
	int64_t correct = 0;
	int tty = isatty(2) && !a->quiet, rc = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int64_t s = 0; s < ds->n && !rc; s += batch) {
		int64_t nb = ds->n - s < batch ? ds->n - s : batch;
		/* the last batch is padded with zeros; their scores are ignored */
		memcpy(xb, ds->x + s * per, sizeof(float) * (size_t)(nb * per));
		if (nb < batch)
			memset(xb + nb * per, 0, sizeof(float) * (size_t)((batch - nb) * per));
		const void *ins[1] = {xb};
		void *outs[MAX_IO] = {0};
		rc = rt_run(g, ins, outs, &ro, d);
		const float *o = outs[0];
		for (int64_t i = 0; !rc && i < nb; i++) {
			int best = 0;
			for (int c = 1; c < ds->nclasses; c++)
				if (o[i * nout + c] > o[i * nout + best])
					best = c;
			correct += best == ds->y[s + i];
		}
		for (int i = 0; i < g->noutputs && i < MAX_IO; i++)
			free(outs[i]);
		if (tty)
			fprintf(stderr, "\r%s: %lld/%lld images (%d%%)", label, (long long)(s + nb),
			        (long long)ds->n, (int)(100 * (s + nb) / ds->n));
	}
	if (tty)
		fprintf(stderr, "\r%*s\r", 60, "");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (a->verbose && !rc)
		fprintf(stderr, "%s: %lld images in %.3f s\n", label, (long long)ds->n,
		        (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
	free(xb);
	if (rc)
		return -1;
	*acc = ds->n ? (double)correct / (double)ds->n : 0.0;
	printf("%s: %.4f (%lld/%lld)\n", label, *acc, (long long)correct, (long long)ds->n);
	fflush(stdout);
	return 0;
}

/* The config's test split (--limit images), with labels, for eval. */
static int load_test_split(Args *a, Session *s, FeDataset *ds, Diag *d)
{
	Diag dd;
	diag_init(&dd, a->config ? a->config : "data");
	if (fe_dataset_load(&s->cfg.data, FE_SPLIT_TEST, a->limit, ds, &dd)) {
		d->nerrors++;
		return -1;
	}
	if (!ds->y) {
		diag_error(&dd, NULL, "the test split has no labels: accuracy needs them");
		d->nerrors++;
		return -1;
	}
	return 0;
}

/* Threads for a compiled model: --threads, else the fast kernels' count. */
static int threads_of(const Args *a)
{
	return a->threads ? a->threads : rt_threads();
}

/* A compiled model's workspace for a->threads threads: 64-byte aligned, as the generated
 * API asks. */
static void *workspace_alloc(const Args *a, const RtModel *m, Diag *d)
{
	void *ws = rt_model_workspace(m, threads_of(a));
	if (!ws)
		diag_error(d, NULL, "out of memory for the model's workspace");
	return ws;
}

/* sqc eval model.so: top-1 accuracy of the compiled code (NAME_run_batch). */
static int eval_so(Args *a, Diag *d)
{
	if (drv_quant_requested(a) || a->act_bits)
		return diag_error(d, NULL, "a compiled model is quantized already: --quant, "
		                  "--act-bits and --finetune apply when compiling");
	Session s = {0};
	FeDataset ds = {0};
	RtModel m = {0};
	int rc = -1;
	float *out = NULL;
	void *ws = NULL;
	if (drv_session_config(a, &s, d) || rt_model_open(&m, a->model, a->name, d))
		goto done;
	if (load_test_split(a, &s, &ds, d))
		goto done;
	int64_t per = fe_dataset_sample_numel(&ds);
	if ((int64_t)m.input_size() != per || (int64_t)m.output_size() != ds.nclasses) {
		diag_error(d, NULL, "the model takes %zu floats and gives %zu scores; the data set "
		           "has %lld floats per image and %d classes", m.input_size(),
		           m.output_size(), (long long)per, ds.nclasses);
		goto done;
	}
	int64_t batch = a->batch ? a->batch : 100, correct = 0, nc = ds.nclasses;
	out = xmalloc(sizeof(float) * (size_t)(batch * nc));
	if (!(ws = workspace_alloc(a, &m, d)))
		goto done;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int64_t i = 0; i < ds.n; i += batch) {
		int64_t nb = ds.n - i < batch ? ds.n - i : batch;
		if (rt_model_run(&m, (size_t)nb, ds.x + i * per, out, ws, threads_of(a))) {
			diag_error(d, NULL, "the compiled model failed on image %lld", (long long)i);
			goto done;
		}
		for (int64_t k = 0; k < nb; k++) {
			int best = 0;
			for (int c = 1; c < nc; c++)
				if (out[k * nc + c] > out[k * nc + best])
					best = c;
			correct += best == ds.y[i + k];
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (a->verbose)
		fprintf(stderr, "accuracy: %lld images in %.3f s\n", (long long)ds.n,
		        (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
	printf("accuracy: %.4f (%lld/%lld)\n", ds.n ? (double)correct / (double)ds.n : 0.0,
	       (long long)correct, (long long)ds.n);
	rc = fflush(stdout) ? -1 : 0;
done:
	free(out);
	free(ws);
	rt_model_close(&m);
	fe_dataset_free(&ds);
	drv_session_free(&s);
	return rc;
}

/* sqc run model.so --input IN.npy -o OUT.npy: IN holds one or more samples. */
static int run_so(Args *a, Diag *d)
{
	if (a->ninputs != 1 || a->noutputs != 1)
		return diag_error(d, NULL, "run: a compiled model takes one --input and one -o");
	FeTensor in = {0};
	RtModel m = {0};
	float *out = NULL;
	void *ws = NULL;
	int rc = -1;
	Diag di;
	diag_init(&di, a->inputs[0]);
	if (rt_model_open(&m, a->model, a->name, d))
		goto done;
	if (fe_tensor_read(a->inputs[0], &in, &di)) {
		d->nerrors++;
		goto done;
	}
	warn_nonfinite(a, a->inputs[0], &in);
	int64_t n = ir_shape_numel(&in.shape), isz = (int64_t)m.input_size();
	if (in.dtype != DT_FLOAT || n <= 0 || n % isz) {
		diag_error(&di, NULL, "expected float32 data, a whole number of samples of %lld "
		           "floats", (long long)isz);
		d->nerrors++;
		goto done;
	}
	int64_t ns = n / isz, osz = (int64_t)m.output_size();
	out = xmalloc(sizeof(float) * (size_t)(ns * osz));
	if (!(ws = workspace_alloc(a, &m, d)))
		goto done;
	if (rt_model_run(&m, (size_t)ns, in.data, out, ws, threads_of(a))) {
		diag_error(d, NULL, "the compiled model failed");
		goto done;
	}
	FeTensor t = {DT_FLOAT, {2, {ns, osz}}, out};
	Diag dw;
	diag_init(&dw, a->outputs[0]);
	rc = fe_npy_write(a->outputs[0], &t, &dw);
	if (rc)
		d->nerrors++;
done:
	free(out);
	free(ws);
	rt_model_close(&m);
	fe_tensor_free(&in);
	return rc;
}

/* Top-1 accuracy on the config's test split: of the float model, or with --quant of the
 * fine-tuned model (the float accuracy is printed first as "float accuracy: ..."). */
static int cmd_eval(Args *a, Diag *d)
{
	if (has_ext(a->model, ".so"))
		return eval_so(a, d);
	Session s = {0};
	s.acc_float = s.acc_quant = -1;
	FeDataset ds = {0};
	Graph *g = NULL;
	int rc = -1;
	if (drv_session_config(a, &s, d))
		goto out;
	if (load_test_split(a, &s, &ds, d))
		goto out;
	int64_t batch = a->batch ? a->batch : 100;
	if (drv_quant_requested(a)) {
		/* the float baseline first, without IR dumps */
		PipelineOptions po = a->po;
		a->po.print_after = a->po.stop_after = NULL;
		a->po.print_after_all = 0;
		int q = a->quant, ft = a->finetune;
		a->quant = -1;
		a->finetune = 0;
		g = drv_load_model(a, &s, batch, d);
		a->quant = q;
		a->finetune = ft;
		a->po = po;
		if (!g || eval_graph(a, g, &ds, "float accuracy", &s.acc_float, d))
			goto out;
		ir_graph_free(g);
	}
	g = drv_load_model(a, &s, batch, d);
	if (!g || eval_graph(a, g, &ds, "accuracy", drv_quant_requested(a) ? &s.acc_quant : &s.acc_float, d))
		goto out;
	rc = drv_save_onnx(a, &s, d);
	if (!rc)
		rc = drv_write_report(a, &s, s.acc_float, s.acc_quant, d);
out:
	ir_graph_free(g);
	fe_dataset_free(&ds);
	drv_session_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	Diag d;
	diag_init(&d, NULL);
	Args a;
	if (argc < 2) {
		diag_error(&d, NULL, "no model given");
		usage(stderr);
		return 1;
	}
	if (parse_args(argc, argv, &a, &d))
		return 1;
	diag_init(&d, a.model);
	int rc = !a.cmd ? cmd_compile(&a, &d) : !strcmp(a.cmd, "run") ? cmd_run(&a, &d)
	                                                              : cmd_eval(&a, &d);
	return rc ? 1 : 0;
}
