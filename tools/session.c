/* tools/session.c: the fine-tuning session of the driver: loading a model at a batch size,
 * reading the config once, fine-tuning once (the sq pass in train mode) and handing the
 * trained decisions to every later graph of the same model (transfer mode), --report and
 * --save-onnx. */
#include "driver.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The passes' environment: the target of --target and, for the sq pass, sq (may be NULL). */
PassEnv drv_pass_env(const Args *a, const SqPassContext *sq)
{
	const PassTarget *t = pass_target_find(a->target, a->level);
	PassEnv env = {t ? t : pass_target_find(NULL, NULL), sq, a->verbose};
	return env;
}

/* --report FILE.json, when asked: the fine-tuning report with the accuracies (< 0: not
 * measured). */
int drv_write_report(Args *a, Session *s, double acc_float, double acc_quant, Diag *d)
{
	if (!a->report)
		return 0;
	Diag dr;
	diag_init(&dr, a->report);
	if (sq_report_write_json(&s->report, acc_float, acc_quant, a->report, &dr)) {
		d->nerrors++;
		return -1;
	}
	return 0;
}

/* --save-onnx: the fine-tuned model at batch 1, decisions in metadata. */
int drv_save_onnx(Args *a, Session *s, Diag *d)
{
	if (!a->save_onnx)
		return 0;
	PipelineOptions po = a->po;
	a->po.print_after = a->po.stop_after = NULL;
	a->po.print_after_all = 0;
	a->po.native = 0;
	Graph *g = drv_load_model(a, s, 1, d);
	a->po = po;
	if (!g)
		return -1;
	FeMetaProp meta[2] = {{"sqc.quantized", s->have_cfg ? sq_method_name(s->cfg.sq.method) : "none"},
	                      {"sqc.version", SQC_VERSION}};
	FeSaveOptions so = {NULL, NULL, meta, 2};
	Diag ds;
	diag_init(&ds, a->save_onnx);
	int rc = fe_onnx_save(g, a->save_onnx, &so, &ds);
	if (rc)
		d->nerrors++;
	ir_graph_free(g);
	return rc;
}

/* Imports the model (ONNX, or sqc IR text for IR tests) without running passes; a
 * symbolic batch dim becomes `batch` (0: 1). */
Graph *drv_load_batch(Args *a, int64_t batch, Diag *d)
{
	Graph *g;
	size_t n = strlen(a->model);
	if (n > 3 && !strcmp(a->model + n - 3, ".ir")) { /* sqc IR text (IR tests) */
		char *text = fe_read_file(a->model, &n, d);
		g = text ? ir_parse(text, d) : NULL;
		free(text);
	} else {
		FeOptions fo = {a->pins, a->npins, batch};
		g = fe_onnx_load(a->model, &fo, d);
	}
	return g;
}

Graph *drv_load(Args *a, Diag *d)
{
	return drv_load_batch(a, 0, d);
}

/* A model written by --save-onnx: its layers carry sqc.bits already. */
int drv_already_quantized(const Graph *g)
{
	for (int i = 0; i < g->nnodes; i++)
		if (ir_dec_has(&g->nodes[i], SQCA_BITS))
			return 1;
	return 0;
}

int drv_quant_requested(const Args *a)
{
	return (a->quant >= 0 && a->quant != SQ_Q_NONE) || a->finetune;
}

/* Reads --config once (defaults without it) and applies the command-line overrides. */
int drv_session_config(Args *a, Session *s, Diag *d)
{
	if (s->have_cfg)
		return 0;
	fe_config_defaults(&s->cfg);
	if (a->config) {
		Diag dc;
		diag_init(&dc, a->config);
		if (fe_config_load(a->config, &s->cfg, &dc)) {
			d->nerrors++;
			return -1;
		}
	}
	if (a->quant >= 0)
		s->cfg.sq.method = (SqMethod)a->quant;
	if (a->act_bits)
		s->cfg.sq.act_bits = a->act_bits;
	if (a->seed >= 0)
		s->cfg.sq.seed = a->seed;
	s->have_cfg = 1;
	return 0;
}

/* The leading dim of every graph input of rank >= 1 becomes batch. */
static void set_batch(Graph *g, int64_t batch)
{
	for (int i = 0; i < g->ninputs; i++) {
		Shape *s = &g->values[g->inputs[i]].shape;
		if (s->rank >= 1)
			s->d[0] = batch;
	}
}

/* The model at the training batch. A model exported with a fixed batch (torch.onnx.export
 * without dynamic_axes fixes 1) gets the configured batch when it runs at it: shape
 * inference and folding accept it and every output's leading dim follows. Otherwise (a
 * Reshape to a constant [1, -1], say) it trains at its own batch, and says so. *used is the
 * batch the graph has. */
static Graph *load_train_batch(Args *a, int batch, int64_t *used, Diag *d)
{
	Graph *g = drv_load_batch(a, batch, d);
	if (!g || !g->ninputs || g->values[g->inputs[0]].shape.rank < 1)
		return g;
	int64_t fixed = g->values[g->inputs[0]].shape.d[0];
	*used = fixed;
	if (fixed == batch || a->npins) /* symbolic batch, or shapes the user pinned */
		return g;
	Diag quiet;
	diag_init(&quiet, a->model);
	quiet.out = NULL;
	set_batch(g, batch);
	PipelineOptions po = {.stop_after = "simplify"};
	PassEnv env = drv_pass_env(a, NULL);
	int ok = !pass_run_pipeline(g, &env, &po, &quiet);
	for (int i = 0; ok && i < g->noutputs; i++) {
		const Shape *s = &g->values[g->outputs[i]].shape;
		ok = s->rank >= 1 && s->d[0] == batch;
	}
	ir_graph_free(g);
	g = drv_load_batch(a, batch, d);
	if (!g)
		return NULL;
	if (ok) {
		set_batch(g, batch);
		*used = batch;
		if (!a->quiet)
			fprintf(stderr, "sq: the model fixes its batch to %lld; fine-tuning runs it at "
			        "batch %d\n", (long long)fixed, batch);
	} else if (!a->quiet) {
		fprintf(stderr, "sq: note: the model fixes its batch to %lld and does not run at "
		        "batch %d (%s): fine-tuning uses batch %lld; export it with a dynamic batch "
		        "dim (dynamic_axes) to train faster\n", (long long)fixed, batch,
		        quiet.nerrors ? quiet.last : "its outputs do not follow the batch",
		        (long long)fixed);
	}
	return g;
}

/* Fine-tunes the model once (at the training batch size); later graphs of the same model
 * take the results through the sq pass in transfer mode. */
int drv_session_train(Args *a, Session *s, Diag *d)
{
	if (s->trained)
		return 0;
	if (drv_session_config(a, s, d))
		return -1;
	const SqConfig *c = &s->cfg.sq;
	Diag dd;
	diag_init(&dd, a->config ? a->config : "data");
	if (fe_dataset_load(&s->cfg.data, FE_SPLIT_TRAIN, c->train_limit, &s->train, &dd)) {
		d->nerrors++;
		return -1;
	}
	PipelineOptions quiet = {0};
	quiet.dump = stderr;
	quiet.stop_after = "sq";
#ifndef NDEBUG
	quiet.verify = 1;
#endif
	if (!s->train.y) {
		/* label-free: distill from the float model's outputs */
		int64_t tb = c->batch;
		s->teacher = load_train_batch(a, c->batch, &tb, d);
		PipelineOptions full = quiet;
		full.stop_after = NULL;
		PassEnv fenv = drv_pass_env(a, NULL);
		if (!s->teacher || pass_run_pipeline(s->teacher, &fenv, &full, d))
			return -1;
		if (!a->quiet)
			fprintf(stderr, "sq: the training data has no labels: distilling from the float "
			        "model (temperature %g)\n", c->distill_temperature);
	}
	int64_t batch = c->batch;
	Graph *g = load_train_batch(a, c->batch, &batch, d);
	if (!g)
		return -1;
	SqPassContext ctx = {0};
	ctx.mode = SQ_PASS_TRAIN;
	ctx.train.cfg = *c;
	/* the trainer's view of the loaded training split */
	s->train_view = (SqData){s->train.n, s->train.sample, s->train.x, s->train.y,
	                         s->train.nclasses};
	ctx.train.train = &s->train_view;
	ctx.train.teacher = s->teacher;
	ctx.train.quiet = a->quiet;
	ctx.train.log = stderr;
	ctx.train.tty = isatty(2);
	ctx.report = &s->report;
	PassEnv env = drv_pass_env(a, &ctx);
	if (!a->quiet)
		fprintf(stderr, "sq: fine-tuning with --quant=%s, act bits %d, %lld training images, "
		        "batch %lld, %d+%d epochs\n", sq_method_name(c->method), c->act_bits,
		        (long long)s->train.n, (long long)batch, c->epochs, c->recovery_epochs);
	int rc = pass_run_pipeline(g, &env, &quiet, d);
	if (rc) {
		ir_graph_free(g);
		return -1;
	}
	int quantizable = 0;
	for (int i = 0; i < s->report.nlayers; i++)
		quantizable |= s->report.layers[i].bits < 32;
	if (!quantizable && !a->quiet)
		fprintf(stderr, "sq: note: the model has no quantizable layer (Conv/Gemm/MatMul with "
		        "constant weights): it stays in float\n");
	if (!a->quiet) {
		sq_report_print(&s->report, stderr);
		if (s->report.seconds > 0)
			fprintf(stderr, "sq: %lld steps, %.1f images/s\n", (long long)s->report.steps,
			        (double)s->report.images / s->report.seconds);
	}
	s->trained = g;
	s->transfer.mode = SQ_PASS_TRANSFER;
	s->transfer.trained = g;
	return 0;
}

void drv_session_free(Session *s)
{
	ir_graph_free(s->trained);
	ir_graph_free(s->teacher);
	fe_dataset_free(&s->train);
	sq_report_free(&s->report);
}

/* The model at `batch`, through the pipeline; quantized (trained once) with --quant. */
Graph *drv_load_model(Args *a, Session *s, int64_t batch, Diag *d)
{
	Graph *g = drv_load_batch(a, batch, d);
	if (!g)
		return NULL;
	const SqPassContext *sq = NULL;
	if (drv_quant_requested(a) && drv_already_quantized(g)) {
		if (!a->quiet && !s->noted)
			fprintf(stderr, "sqc: note: %s was fine-tuned by sqc already (it carries its "
			        "decisions); not fine-tuning again\n", a->model);
		s->noted = 1;
	} else if (drv_quant_requested(a)) {
		if (drv_session_train(a, s, d)) {
			ir_graph_free(g);
			return NULL;
		}
		sq = &s->transfer;
	}
	PassEnv env = drv_pass_env(a, sq);
	int rc = pass_run_pipeline(g, &env, &a->po, d);
	if (rc) {
		ir_graph_free(g);
		return NULL;
	}
	return g;
}

