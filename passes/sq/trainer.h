/* passes/sq/trainer.h: what the fine-tuning engine's two files share (not part of
 * the pass's interface, train.h).
 *
 * train.c       setup (buffers, fusions, layers, optimizer), the training loop, write-back
 * train_ops.c   one row per op: its forward and backward in training (the per-op table)
 *
 * The layout of buffers and the fusions the Trainer records are described at the fields;
 * the forward and backward of a node read them and change nothing but activations,
 * gradients and the saved state (MaxPool indices, batch statistics, quantized inputs).
 */
#ifndef SQC_SQ_TRAINER_H
#define SQC_SQ_TRAINER_H

#include "optim.h"
#include "quant.h"
#include "train.h"
#include "../../runtime/rt.h"

/* A quantized (or kept-in-float) weighted layer. The quantizer sees the weights as
 * [C, per] (output channel major). Conv weights are already so; a Gemm with transB=0 or a
 * MatMul weight is [per, C] in the graph ("transposed"). */
typedef struct {
	int node;
	int wv;                /* weight value */
	int64_t C, per;
	int transposed;
	int quantized;         /* 0: kept in float (config keep_float) */
	float *latent;         /* [C, per] trained float weights */
	float *glatent;        /* gradient wrt latent */
	float *wq;             /* [C, per] quantized weights of the current step */
	float *wgraph;         /* what the forward uses, in the graph's layout */
	float *gwgraph;        /* gradient wrt wgraph */
	SqLayer q;
	int act_on;            /* the layer's input is quantized (act_bits < 32) */
	SqAct act;
	float *xq;             /* quantized input (batch sized) */
	float *gxq;            /* gradient wrt xq */
	int act_fused;         /* the quantizer's backward runs in its input's producer's
	                        * (actq_of); this layer's backward leaves dL/dxq in the input's
	                        * gradient buffer */
} TLayer;

typedef struct {
	Graph *g;
	const SqTrainOptions *o;
	Diag *d;
	int64_t B;
	int in_v;              /* the image input */
	int logits_v;          /* what the loss reads (a trailing Softmax is skipped) */
	int last_node;         /* nodes after it (the trailing Softmax) are not run */
	float **act, **grad;   /* per value */
	unsigned char *gset;   /* per value: grad[v] holds this step's gradient so far (the first
	                        * consumer to reach it in the backward overwrites it, the others
	                        * add: no zeroing pass) */
	int *relu_into;        /* per node: the Relu node fused into this node's forward, or -1 */
	int *relu_from;        /* per node (a Relu): the node that computed it, or -1 */
	int *actq_of;          /* per node (a BatchNormalization with a fused Relu, or a
	                        * MaxPool): the TLayer whose activation quantizer reads its
	                        * output and whose backward it runs fused with its own, or -1 */
	float **pgrad;         /* per value: gradient of a float parameter */
	int64_t **idx;         /* per node: MaxPool indices; Pad's source map (rt_pad_src_map) */
	float **bn_mean, **bn_invstd; /* per node (batch mode) */
	int *layer_of;         /* per node: TLayer index or -1 */
	TLayer *L;
	int nL;
	SqOptim opt;
	float *tmp, *tmp2;     /* scratch for operand gradients, max value size */
	int64_t tmp_n;
	float *ps1, *ps2;      /* scratch for parameter gradients, max parameter size: the
	                        * backward allocates nothing per step */
	int phase;             /* 0: SQ/baseline phase, 1: recovery */
	int warm;              /* regularizer warm-up: its weight gradient is discarded (ps1) */
	int calibrating;       /* calibrate(): no fused quantizer forwards (the steps are being
	                        * set, the layers run in float) */
} Trainer;

static inline int is_param(const Graph *g, int v)
{
	return v >= 0 && g->values[v].data && g->values[v].dtype == DT_FLOAT;
}

static inline const float *data_of(const Trainer *t, int v)
{
	return t->g->values[v].data ? t->g->values[v].data : t->act[v];
}

static inline int64_t numel_v(const Trainer *t, int v)
{
	return ir_shape_numel(&t->g->values[v].shape);
}

/* [rows, cols] -> [cols, rows] */
static inline void transpose2(const float *a, int64_t rows, int64_t cols, float *b)
{
	for (int64_t i = 0; i < rows; i++)
		for (int64_t j = 0; j < cols; j++)
			b[j * rows + i] = a[i * cols + j];
}

/* ---- train_ops.c ------------------------------------------------------------------------ */

/* Returns 0 when training has a row for every op of nodes 0..last_node, else -1 with one
 * diagnostic naming each op it lacks once (and the nodes) and the ops it supports. */
int sq_train_check_ops(Trainer *t);
/* The RtPadMode of a Pad node (its mode attribute). */
RtPadMode sq_train_pad_mode(const Node *n);
/* Node i's forward: its result from its operands (a layer's quantized weights and input),
 * with what the backward needs saved; a Relu fused into its producer does nothing. */
void sq_train_forward_node(Trainer *t, int i);
/* Node i's backward: from its result's gradient, its operands' gradients (accumulated:
 * the first contribution of a step is copied, see Trainer.gset) and its parameters'. */
void sq_train_backward_node(Trainer *t, int i);

#endif
