/* passes/sq/train.h: the fine-tuning engine (forward with saved activations, backward,
 * optimizer) over a canonical IR graph, with the SQ quantizers and baselines.
 *
 * The graph must have been through shape, fold, simplify and dce (not bnfold: BatchNorm
 * trains), with its batch dim equal to the training batch. sq_train updates the graph in
 * place: quantized layers' weight constants hold the quantized values (a_c * t, t in
 * {-1,0,+1}), BatchNorm running statistics are updated (batch mode), and quantized nodes
 * carry attributes recording the decisions:
 *   sqc.method (string), sqc.bits (1 or 2), sqc.scales (floats, one per output channel),
 *   sqc.delta, sqc.beta (SQ), sqc.zero_frac, and with quantized activations
 *   sqc.act_bits, sqc.act_step, sqc.act_signed (input of the layer).
 */
#ifndef SQC_SQ_TRAIN_H
#define SQC_SQ_TRAIN_H

#include "../passes.h"
#include "config.h"

/* A training set as the trainer sees it: the driver fills it from whatever it loaded
 * (frontend/data.h's FeDataset today); nothing is owned. */
typedef struct {
	int64_t n;                 /* samples */
	Shape sample;              /* one sample, e.g. [1,28,28] */
	const float *x;            /* n * numel(sample) floats, preprocessed */
	const int32_t *y;          /* n labels in [0, nclasses), or NULL: no labels */
	int nclasses;
} SqData;

typedef struct {
	SqConfig cfg;              /* the driver applied --quant/--act-bits/--seed */
	const SqData *train;       /* labels NULL: distillation from `teacher` */
	const Graph *teacher;      /* float model at the same batch (label-free mode) */
	int quiet;                 /* no progress at all */
	FILE *log;                 /* progress (stderr); a \r line per step when a tty */
	int tty;
} SqTrainOptions;

typedef struct {
	char name[128];            /* node name */
	Op op;
	int64_t weights;           /* n_l */
	int64_t channels;          /* output channels (scales) */
	int has_bias;
	int bits;                  /* 1, 2, or 32 for a layer kept in float */
	float beta;                /* SQ: final beta (radians); else 0 */
	float zero_frac;           /* fraction of weights in the zero bucket */
	float scale_min, scale_max;
	int act_bits;
	float act_step;
	const char *kernel;        /* filled by the backend later; "interpreter" for now */
} SqLayerReport;

typedef struct {
	SqLayerReport *layers;     /* malloc'd */
	int nlayers;
	double loss;               /* mean training loss of the last epoch */
	double train_acc;          /* batch accuracy over the last epoch (labels only) */
	int64_t steps, images;
	double seconds;
} SqReport;

/* Fine-tunes g. Returns 0, or -1 with a diagnostic (unsupported op in training, NaN/Inf
 * loss naming the step, data that does not fit). */
int sq_train(Graph *g, const SqTrainOptions *o, SqReport *r, Diag *d);
void sq_report_free(SqReport *r);

/* Copies what training changed from src to dst, a graph of the same model loaded with
 * another batch size: trained constants (by name, same dtype and shape) and the sqc.*
 * attributes of nodes (by node name). Returns the number of constants copied. */
int sq_transfer(Graph *dst, const Graph *src);

#endif
