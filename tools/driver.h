/* tools/driver.h: internal header of the sqc driver (tools/): the parsed command line and
 * the fine-tuning session the commands share. sqc.c parses arguments and runs the
 * commands; session.c loads models, fine-tunes once and hands the results to later graphs. */
#ifndef SQC_TOOLS_DRIVER_H
#define SQC_TOOLS_DRIVER_H

#include "backend/backend.h"
#include "frontend/data.h"
#include "passes/passes.h"
#include "passes/sq/sq.h"
#include "runtime/rt.h"

#define MAX_IO 16

typedef struct {
	const char *cmd;          /* NULL (compile), "run" or "eval" */
	const char *config;       /* --config FILE.yaml */
	int64_t batch, limit;     /* eval: --batch, --limit */
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
	int quant;                /* --quant: SqMethod, or -1 when not given (float) */
	int finetune;             /* --finetune: fine-tune even with --quant=none (FP baseline) */
	int act_bits, seed;       /* 0 / -1 when not given: the config's */
	int threads;              /* --threads, else rt_threads() */
	double min_task_us;       /* --min-task-us (0: the backend's default) */
	const char *report;       /* --report FILE.json */
	const char *save_onnx;    /* --save-onnx FILE: the fine-tuned model as ONNX */
	const char *target, *mcpu; /* --target, --mcpu */
	const char *level;         /* the kernel level of --target/--mcpu (cg_level) */
	const char *name;         /* --name: API prefix of the generated code */
	const char *header;       /* --emit-header FILE */
	int obj, asm_out;         /* -c, -S */
} Args;

/* What fine-tuning needs and makes, shared by the commands: the config, the training
 * split, the trained graph (at the training batch) and its report. */
typedef struct {
	FeConfig cfg;
	int have_cfg;
	FeDataset train;
	SqData train_view;        /* what the trainer reads of it */
	Graph *trained, *teacher;
	SqReport report;
	SqPassContext transfer;
	double acc_float, acc_quant;  /* -1 when not measured */
	int noted;
} Session;

/* ---- session.c ------------------------------------------------------------------------ */
/* The passes' environment: the target of --target and, for the sq pass, sq (may be NULL). */
PassEnv drv_pass_env(const Args *a, const SqPassContext *sq);
/* --report FILE.json, when asked: the fine-tuning report with the accuracies (< 0: not
 * measured). */
int drv_write_report(Args *a, Session *s, double acc_float, double acc_quant, Diag *d);
/* --save-onnx: the fine-tuned model at batch 1, decisions in metadata. */
int drv_save_onnx(Args *a, Session *s, Diag *d);
/* Imports the model (ONNX, or sqc IR text for IR tests) without running passes; a
 * symbolic batch dim becomes `batch` (0: 1). load: batch 0. */
Graph *drv_load_batch(Args *a, int64_t batch, Diag *d);
Graph *drv_load(Args *a, Diag *d);
/* A model written by --save-onnx: its layers carry sqc.bits already. */
int drv_already_quantized(const Graph *g);
/* --quant other than none, or --finetune. */
int drv_quant_requested(const Args *a);
/* Reads --config once (defaults without it) and applies the command-line overrides. */
int drv_session_config(Args *a, Session *s, Diag *d);
/* Fine-tunes the model once (at the training batch size); later graphs of the same model
 * take the results through the sq pass in transfer mode. */
int drv_session_train(Args *a, Session *s, Diag *d);
void drv_session_free(Session *s);
/* The model at `batch`, through the pipeline; quantized (trained once) with --quant. */
Graph *drv_load_model(Args *a, Session *s, int64_t batch, Diag *d);

#endif
