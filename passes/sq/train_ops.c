/* passes/sq/train_ops.c: each op's forward and backward in training, dispatched through a
 * table indexed by Op (train_ops below: one row per op in ir/ops.def).
 *
 * A forward (train_fwd_*) writes the node's result from its operands as the fast kernels
 * compute it, saving what its backward needs (MaxPool indices, BatchNorm batch
 * statistics) and running the fusions the Trainer recorded: a Relu into a Conv, Gemm or
 * BatchNormalization, a layer's activation quantizer into a BatchNormalization+Relu or a
 * MaxPool. A backward (train_bwd_*) reads its result's gradient and gives its operands
 * theirs (trainer.h: the first contribution of a step is copied, later ones added)
 * and its float parameters theirs (Trainer.pgrad), or a layer's latent weights theirs
 * through the quantizer.
 */
#include "trainer.h"

#include "../../runtime/fast.h"
#include "../../runtime/grad.h"
#include "../../runtime/rt.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What a node's forward reads (sq_train_forward_node fills it). */
typedef struct {
	Trainer *t;
	int i;                 /* node index */
	const Node *n;
	const float *x;        /* operand 0; a layer with quantized activations: its xq */
	const float *w;        /* operand 1; a layer: its quantized weights, graph layout */
	float *y;              /* result 0, or with a fused Relu the Relu's result */
	int64_t ny;            /* elements of result 0 */
	int relu;              /* a Relu is fused into this node (Trainer.relu_into) */
	TLayer *QL;            /* the layer whose activation quantizer reads this node's result
	                        * and runs fused into this forward (Trainer.actq_of), or NULL */
} TrainFwd;

/* What a node's backward reads (sq_train_backward_node fills it). */
typedef struct {
	Trainer *t;
	int i;
	const Node *n;
	TLayer *L;             /* this node's layer, or NULL */
	const float *x;        /* operand 0; a layer with quantized activations: its xq */
	const float *y;        /* result 0, or with a fused Relu (BatchNorm) the Relu's result */
	const float *dy;       /* gradient wrt y */
	float *dx;             /* where the gradient wrt operand 0 goes (grad_dst, or scratch
	                        * for a layer's quantizer), NULL when nothing needs it */
	int64_t nx, ny;        /* elements of operand 0 and result 0 */
	int bn_relu;           /* a BatchNormalization with a Relu fused into it */
} TrainBwd;

typedef void TrainFwdFn(const TrainFwd *f);
typedef void TrainBwdFn(const TrainBwd *b);

/* ---- gradient bookkeeping ---------------------------------------------------------------- */

/* grad[v] += g over n elements (v a non-constant value); the first contribution of the
 * step is copied. */
static void accum(Trainer *t, int v, const float *gsrc, int64_t n)
{
	float *dst = t->grad[v];
	if (!dst)
		return;
	if (!t->gset[v]) {
		memcpy(dst, gsrc, sizeof(float) * (size_t)n);
		t->gset[v] = 1;
		return;
	}
	rt_accumulate_fast(dst, gsrc, n);
}

/* Where a consumer writes value v's gradient: straight into grad[v] while nothing has
 * reached it this step, else into scratch (then given to v by give()). */
static float *grad_dst(Trainer *t, int v, float *scratch)
{
	return t->gset[v] ? scratch : t->grad[v];
}

static void give(Trainer *t, int v, const float *gsrc, int64_t n)
{
	if (gsrc == t->grad[v])
		t->gset[v] = 1;
	else
		accum(t, v, gsrc, n);
}

/* The backward's dx, if any, to operand 0. */
static void give_dx(const TrainBwd *b)
{
	if (b->dx)
		give(b->t, b->n->in[0], b->dx, b->nx);
}

/* grad[v] read as an output gradient: zeros when no consumer wrote it (a value nothing
 * differentiable reads). */
static float *grad_in(Trainer *t, int v)
{
	if (!t->gset[v]) {
		memset(t->grad[v], 0, sizeof(float) * (size_t)numel_v(t, v));
		t->gset[v] = 1;
	}
	return t->grad[v];
}

static void accum_param(Trainer *t, int v, const float *gsrc, int64_t n)
{
	float *dst = t->pgrad[v];
	if (!dst)
		return;
	for (int64_t i = 0; i < n; i++)
		dst[i] += gsrc[i];
}

/* Does operand j of node n need a gradient? (an activation other than the input image) */
static int needs(const Trainer *t, const Node *n, int j)
{
	int v = n->in[j];
	return v >= 0 && v != t->in_v && t->grad[v] != NULL;
}

/* ---- Conv, Gemm, MatMul ----------------------------------------------------------------- */

static const float *bias_of(const TrainFwd *f)
{
	const Node *n = f->n;
	return n->nin > 2 && n->in[2] >= 0 ? data_of(f->t, n->in[2]) : NULL;
}

static void train_fwd_conv(const TrainFwd *f)
{
	RtConv p;
	rt_conv_params(f->t->g, f->n, &p);
	rt_conv_fast_act(&p, f->x, f->w, bias_of(f), f->y, f->relu ? RT_ACT_RELU : RT_ACT_NONE);
}

static void train_fwd_gemm(const TrainFwd *f)
{
	RtGemm p;
	rt_gemm_params(f->t->g, f->n, &p);
	rt_gemm_fast_act(&p, f->x, f->w, bias_of(f), f->y, f->relu ? RT_ACT_RELU : RT_ACT_NONE);
}

static void train_fwd_matmul(const TrainFwd *f)
{
	const Graph *g = f->t->g;
	const Node *n = f->n;
	rt_matmul_fast(&g->values[n->in[0]].shape, f->x, &g->values[n->in[1]].shape, f->w,
	               &g->values[n->out[0]].shape, f->y);
}

/* Conv, Gemm, MatMul: dx, and dW either into the layer (then through its quantizer's STE
 * to the latent weights, and its activation quantizer's backward) or into the float
 * weight's gradient; db into the bias's. */
static void train_bwd_weighted(const TrainBwd *b)
{
	Trainer *t = b->t;
	Graph *g = t->g;
	const Node *n = b->n;
	TLayer *L = b->L;
	float *dx = b->dx;
	const float *w = L ? L->wgraph : data_of(t, n->in[1]);
	float *dw = L ? L->gwgraph : t->pgrad[n->in[1]];
	int hasb = n->nin > 2 && n->in[2] >= 0;
	float *db = hasb && t->pgrad[n->in[2]] ? t->ps1 : NULL;
	float *dwtmp = !L && dw ? t->ps2 : NULL;
	float *dwout = L ? dw : dwtmp;
	if (n->op == OP_CONV) {
		RtConv p;
		rt_conv_params(g, n, &p);
		rt_conv_backward_fast(&p, b->x, w, b->dy, dx, dwout, db);
	} else if (n->op == OP_GEMM) {
		RtGemm p;
		rt_gemm_params(g, n, &p);
		rt_gemm_backward_fast(&p, b->x, w, b->dy, dx, dwout, db);
	} else {
		rt_matmul_backward_fast(&g->values[n->in[0]].shape, b->x, &g->values[n->in[1]].shape,
		                        w, b->dy, dx, dwout);
	}
	if (dwtmp)
		accum_param(t, n->in[1], dwtmp, numel_v(t, n->in[1]));
	if (db)
		accum_param(t, n->in[2], db, numel_v(t, n->in[2]));
	if (L) {
		/* graph layout -> [C, per], then through the quantizer's STE */
		const float *gq = L->gwgraph;
		if (L->transposed) {
			transpose2(L->gwgraph, L->per, L->C, t->ps1);
			gq = t->ps1;
		}
		sq_backward(&L->q, L->latent, gq, L->glatent);
		if (L->act_on && !L->act_fused) {
			float *gx = needs(t, n, 0) ? grad_dst(t, n->in[0], L->gxq) : L->gxq;
			sq_act_backward(&L->act, data_of(t, n->in[0]), t->tmp, gx, b->nx);
			if (needs(t, n, 0))
				give(t, n->in[0], gx, b->nx);
			dx = NULL;
		}
	}
	if (dx)
		give(t, n->in[0], dx, b->nx);
}

/* ---- Add, Sub, Mul, Div, PRelu ----------------------------------------------------------------- */

static RtBinary binary_of(const Node *n)
{
	switch (n->op) {
	case OP_ADD: return RT_ADD;
	case OP_SUB: return RT_SUB;
	case OP_MUL: return RT_MUL;
	case OP_DIV: return RT_DIV;
	default: assert(n->op == OP_PRELU); return RT_PRELU;
	}
}

static void train_fwd_binary(const TrainFwd *f)
{
	const Graph *g = f->t->g;
	const Node *n = f->n;
	Shape sb = ir_rhs_shape(n, &g->values[n->in[0]].shape, &g->values[n->in[1]].shape);
	rt_binary_ref(binary_of(n), DT_FLOAT, &g->values[n->in[0]].shape, f->x, &sb,
	              data_of(f->t, n->in[1]), &g->values[n->out[0]].shape, f->y);
}

/* Both operands (activations or float parameters), each reduced to its own shape. */
static void train_bwd_binary(const TrainBwd *b)
{
	Trainer *t = b->t;
	const Graph *g = t->g;
	const Node *n = b->n;
	const Shape *sa = &g->values[n->in[0]].shape, *so = &g->values[n->out[0]].shape;
	Shape sb = ir_rhs_shape(n, sa, &g->values[n->in[1]].shape);
	for (int j = 0; j < 2; j++) {
		int v = n->in[j];
		if (!needs(t, n, j) && !t->pgrad[v])
			continue;
		rt_binary_backward_ref(binary_of(n), j, sa, b->x, &sb, data_of(t, n->in[1]), so, b->y,
		                       b->dy, t->tmp2, t->tmp);
		int64_t nt = ir_shape_numel(j == 0 ? sa : &sb);
		if (t->pgrad[v])
			accum_param(t, v, t->tmp, nt);
		else
			accum(t, v, t->tmp, nt);
	}
}

/* ---- Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid ---------------------------------- */

/* The elementwise function of node n and its two parameters (rt_unary_fast's a, b). */
static RtUnary unary_of(const Trainer *t, const Node *n, float *a, float *b)
{
	const float *lo = n->nin > 1 && n->in[1] >= 0 ? data_of(t, n->in[1]) : NULL;
	const float *hi = n->nin > 2 && n->in[2] >= 0 ? data_of(t, n->in[2]) : NULL;
	int op = rt_unary_params(n, lo, hi, a, b);
	assert(op >= 0 && "not an elementwise op of training");
	return (RtUnary)op;
}

static void train_fwd_unary(const TrainFwd *f)
{
	float a, b;
	RtUnary op = unary_of(f->t, f->n, &a, &b);
	rt_unary_fast(op, a, b, f->x, f->y, f->ny);
}

static void train_bwd_unary(const TrainBwd *b)
{
	if (!b->dx)
		return;
	float pa, pb;
	RtUnary op = unary_of(b->t, b->n, &pa, &pb);
	/* Relu reads its output (its input is not materialized when fused) */
	rt_unary_backward_fast(op, pa, pb, op == RT_RELU ? NULL : b->x, b->y, b->dy, b->dx, b->nx);
	give_dx(b);
}

/* ---- pooling ---------------------------------------------------------------------------- */

static void train_fwd_maxpool(const TrainFwd *f)
{
	TLayer *QL = f->QL;
	RtPool p;
	rt_pool_params(f->t->g, f->n, &p);
	p.storage_order = 0;
	if (QL)
		rt_maxpool_train_actq_fast(&p, f->x, f->y, f->t->idx[f->i], QL->act.qn, QL->act.qp,
		                           QL->act.s, QL->xq);
	else
		rt_maxpool_train_fast(&p, f->x, f->y, f->t->idx[f->i]);
}

static void train_bwd_maxpool(const TrainBwd *b)
{
	Trainer *t = b->t;
	if (!b->dx)
		return;
	RtPool p;
	rt_pool_params(t->g, b->n, &p);
	p.storage_order = 0;
	if (t->actq_of[b->i] >= 0) {
		SqAct *q = &t->L[t->actq_of[b->i]].act;
		sq_act_add_ds(q, rt_maxpool_backward_actq_fast(&p, t->idx[b->i], b->y, q->qn, q->qp,
		                                               q->s, b->dy, b->dx), b->ny);
	} else {
		rt_maxpool_backward_fast(&p, t->idx[b->i], b->dy, b->dx);
	}
	give_dx(b);
}

static void train_fwd_averagepool(const TrainFwd *f)
{
	RtPool p;
	rt_pool_params(f->t->g, f->n, &p);
	rt_avgpool_ref(&p, f->x, f->y);
}

static void train_bwd_averagepool(const TrainBwd *b)
{
	if (!b->dx)
		return;
	RtPool p;
	rt_pool_params(b->t->g, b->n, &p);
	p.storage_order = 0;
	rt_avgpool_backward_ref(&p, b->dy, b->dx);
	give_dx(b);
}

/* GlobalAveragePool, GlobalMaxPool */
static void train_fwd_globalpool(const TrainFwd *f)
{
	const Node *n = f->n;
	const Shape *s = &f->t->g->values[n->in[0]].shape;
	rt_global_pool_ref(n->op == OP_GLOBALMAXPOOL, s->d[0], s->d[1],
	                   f->ny ? numel_v(f->t, n->in[0]) / f->ny : 0, f->x, f->y);
}

static void train_bwd_globalpool(const TrainBwd *b)
{
	const Node *n = b->n;
	if (!b->dx)
		return;
	const Shape *s = &b->t->g->values[n->in[0]].shape;
	rt_global_pool_backward_ref(n->op == OP_GLOBALMAXPOOL, s->d[0], s->d[1], b->nx / b->ny,
	                            b->x, b->y, b->dy, b->dx);
	give_dx(b);
}

/* ---- BatchNormalization ----------------------------------------------------------------- */

/* Batch mode (config bn: batch) normalizes with the batch's statistics, saves them for the
 * backward and updates the running ones; frozen mode uses the running statistics. */
static void train_fwd_batchnormalization(const TrainFwd *f)
{
	Trainer *t = f->t;
	Graph *g = t->g;
	const Node *n = f->n;
	TLayer *QL = f->QL;
	int i = f->i;
	const Shape *s = &g->values[n->in[0]].shape;
	int64_t c = s->d[1], sp = numel_v(t, n->in[0]) / (s->d[0] * c);
	float eps = ir_attr_f(n, "epsilon", 1e-5f);
	float *gamma = g->values[n->in[1]].data, *beta = g->values[n->in[2]].data;
	float *rm = g->values[n->in[3]].data, *rv = g->values[n->in[4]].data;
	if (t->o->cfg.bn == SQ_BN_BATCH) {
		if (QL) /* (with a fused Relu: y is the quantizer's input) */
			rt_batchnorm_train_forward_actq_fast(s->d[0], c, sp, f->x, gamma, beta, eps, f->y,
			                                     t->bn_mean[i], t->bn_invstd[i], f->relu,
			                                     QL->act.qn, QL->act.qp, QL->act.s, QL->xq);
		else
			rt_batchnorm_train_forward_fast(s->d[0], c, sp, f->x, gamma, beta, eps, f->y,
			                                t->bn_mean[i], t->bn_invstd[i], f->relu);
		rt_batchnorm_running_update(c, s->d[0] * sp, t->bn_mean[i], t->bn_invstd[i], eps,
		                            0.1f, rm, rv);
	} else {
		rt_batchnorm_ref(s->d[0], c, sp, f->x, gamma, beta, rm, rv, eps, f->y);
	}
}

/* dx, and the gradients of scale and bias (the statistics are not trained). */
static void train_bwd_batchnormalization(const TrainBwd *b)
{
	Trainer *t = b->t;
	Graph *g = t->g;
	const Node *n = b->n;
	int i = b->i;
	float *dx = b->dx;
	const Shape *s = &g->values[n->in[0]].shape;
	int64_t c = s->d[1], sp = b->nx / (s->d[0] * c);
	float *dg = t->ps1, *dbt = t->ps2;
	float *gamma = g->values[n->in[1]].data;
	float *dxx = dx ? dx : t->tmp2;
	if (t->actq_of[i] >= 0) { /* batch mode, fused Relu: y is the quantizer's input */
		SqAct *q = &t->L[t->actq_of[i]].act;
		double ds = rt_batchnorm_backward_actq_fast(s->d[0], c, sp, b->x, gamma,
		                                            t->bn_mean[i], t->bn_invstd[i], b->y, 1,
		                                            q->qn, q->qp, q->s, b->dy, dx, dg, dbt);
		sq_act_add_ds(q, ds, b->ny);
	} else if (t->o->cfg.bn == SQ_BN_BATCH)
		rt_batchnorm_backward_fast(s->d[0], c, sp, b->x, gamma, t->bn_mean[i], t->bn_invstd[i],
		                           b->bn_relu ? b->y : NULL, b->dy, dx, dg, dbt);
	else
		rt_batchnorm_frozen_backward_ref(s->d[0], c, sp, b->x, gamma, g->values[n->in[3]].data,
		                                 g->values[n->in[4]].data,
		                                 ir_attr_f(n, "epsilon", 1e-5f), b->dy, dxx, dg, dbt);
	accum_param(t, n->in[1], dg, c);
	accum_param(t, n->in[2], dbt, c);
	give_dx(b);
}

/* ---- Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout: the same bytes ----------- */

/* ---- Concat ----------------------------------------------------------------------------- */

static int concat_shapes(const Trainer *t, const Node *n, const Shape **ss)
{
	for (int j = 0; j < n->nin; j++)
		ss[j] = &t->g->values[n->in[j]].shape;
	return (int)ir_attr_i(n, "axis", 0);
}

static void train_fwd_concat(const TrainFwd *f)
{
	const Shape *ss[64];
	const void *xs[64];
	int axis = concat_shapes(f->t, f->n, ss);
	for (int j = 0; j < f->n->nin; j++)
		xs[j] = data_of(f->t, f->n->in[j]);
	rt_concat_ref(sizeof(float), f->n->nin, ss, xs, axis, f->y);
}

/* Each operand (an activation or a float parameter) gets its slice of dy. */
static void train_bwd_concat(const TrainBwd *b)
{
	Trainer *t = b->t;
	const Node *n = b->n;
	const Shape *ss[64];
	int axis = concat_shapes(t, n, ss);
	for (int j = 0; j < n->nin; j++) {
		int v = n->in[j];
		if (!needs(t, n, j) && !t->pgrad[v])
			continue;
		float *dx[64] = {0};
		float *dst = t->pgrad[v] ? t->tmp : grad_dst(t, v, t->tmp);
		dx[j] = dst;
		rt_concat_backward_ref(n->nin, ss, axis, b->dy, dx);
		if (t->pgrad[v])
			accum_param(t, v, dst, numel_v(t, v));
		else
			give(t, v, dst, numel_v(t, v));
	}
}

/* ---- Transpose -------------------------------------------------------------------------- */

static void train_fwd_transpose(const TrainFwd *f)
{
	int64_t perm[IR_MAX_RANK];
	ir_attr_ints(f->n, "perm", perm, IR_MAX_RANK);
	rt_transpose_ref(sizeof(float), &f->t->g->values[f->n->in[0]].shape, perm, f->x, f->y);
}

static void train_bwd_transpose(const TrainBwd *b)
{
	if (!b->dx)
		return;
	int64_t perm[IR_MAX_RANK];
	ir_attr_ints(b->n, "perm", perm, IR_MAX_RANK);
	rt_transpose_backward_ref(&b->t->g->values[b->n->in[0]].shape, perm, b->dy, b->dx);
	give_dx(b);
}

/* ---- Pad -------------------------------------------------------------------------------- */

RtPadMode sq_train_pad_mode(const Node *n)
{
	const char *mode = ir_attr_s(n, "mode", "constant");
	return !strcmp(mode, "reflect") ? RT_PAD_REFLECT
	     : !strcmp(mode, "edge")    ? RT_PAD_EDGE
	                                : RT_PAD_CONSTANT;
}

/* pads (operand 1) and the constant value (operand 2) are constants in a canonical graph */
static void train_fwd_pad(const TrainFwd *f)
{
	const Graph *g = f->t->g;
	const Node *n = f->n;
	float zero = 0.0f;
	const void *val = n->nin > 2 && n->in[2] >= 0 ? data_of(f->t, n->in[2]) : &zero;
	rt_pad_ref(sizeof(float), sq_train_pad_mode(n), &g->values[n->in[0]].shape, f->x,
	           g->values[n->in[1]].data, val, &g->values[n->out[0]].shape, f->y);
}

/* dx only (the pads are integers and the padding value is not trained), through the
 * source map setup made (Trainer.idx) */
static void train_bwd_pad(const TrainBwd *b)
{
	if (!b->dx)
		return;
	rt_pad_backward_ref(b->t->idx[b->i], b->nx, b->ny, b->dy, b->dx);
	give_dx(b);
}

/* ---- Softmax, LogSoftmax (a trailing one is skipped: the loss reads its input) ----------- */

static void train_fwd_softmax(const TrainFwd *f)
{
	int64_t outer, len, inner;
	rt_softmax_dims(f->t->g, f->n, &outer, &len, &inner);
	rt_softmax_ref(f->x, f->y, outer, len, inner, f->n->op == OP_LOGSOFTMAX);
}

static void train_bwd_softmax(const TrainBwd *b)
{
	if (!b->dx)
		return;
	int64_t outer, len, inner;
	rt_softmax_dims(b->t->g, b->n, &outer, &len, &inner);
	rt_softmax_backward_ref(b->y, b->dy, b->dx, outer, len, inner, b->n->op == OP_LOGSOFTMAX);
	give_dx(b);
}

static void train_fwd_copy(const TrainFwd *f)
{
	memcpy(f->y, f->x, sizeof(float) * (size_t)f->ny);
}

static void train_bwd_copy(const TrainBwd *b)
{
	if (!b->dx)
		return;
	memcpy(b->dx, b->dy, sizeof(float) * (size_t)b->nx);
	give_dx(b);
}

/* ---- the table -------------------------------------------------------------------------- */

/* One row per op of ir/ops.def; both NULL where training does not support the op
 * (sq_train_check_ops names such nodes before training starts). */
typedef struct {
	TrainFwdFn *fwd;       /* the result from the operands (TrainFwd) */
	TrainBwdFn *bwd;       /* the operands' and parameters' gradients (TrainBwd) */
} TrainOp;

/* TRAIN_<id> for each row of ops.def (a row without one is a compile error). */
#define TRAIN_conv               {train_fwd_conv, train_bwd_weighted}
#define TRAIN_gemm               {train_fwd_gemm, train_bwd_weighted}
#define TRAIN_matmul             {train_fwd_matmul, train_bwd_weighted}
#define TRAIN_add                {train_fwd_binary, train_bwd_binary}
#define TRAIN_sub                {train_fwd_binary, train_bwd_binary}
#define TRAIN_mul                {train_fwd_binary, train_bwd_binary}
#define TRAIN_div                {train_fwd_binary, train_bwd_binary}
#define TRAIN_relu               {train_fwd_unary, train_bwd_unary}
#define TRAIN_leakyrelu          {train_fwd_unary, train_bwd_unary}
#define TRAIN_prelu              {train_fwd_binary, train_bwd_binary}
#define TRAIN_clip               {train_fwd_unary, train_bwd_unary}
#define TRAIN_sigmoid            {train_fwd_unary, train_bwd_unary}
#define TRAIN_tanh               {train_fwd_unary, train_bwd_unary}
#define TRAIN_hardsigmoid        {train_fwd_unary, train_bwd_unary}
#define TRAIN_softmax            {train_fwd_softmax, train_bwd_softmax}
#define TRAIN_logsoftmax         {train_fwd_softmax, train_bwd_softmax}
#define TRAIN_maxpool            {train_fwd_maxpool, train_bwd_maxpool}
#define TRAIN_averagepool        {train_fwd_averagepool, train_bwd_averagepool}
#define TRAIN_globalaveragepool  {train_fwd_globalpool, train_bwd_globalpool}
#define TRAIN_globalmaxpool      {train_fwd_globalpool, train_bwd_globalpool}
#define TRAIN_batchnormalization {train_fwd_batchnormalization, train_bwd_batchnormalization}
#define TRAIN_flatten            {train_fwd_copy, train_bwd_copy}
#define TRAIN_reshape            {train_fwd_copy, train_bwd_copy}
#define TRAIN_transpose          {train_fwd_transpose, train_bwd_transpose}
#define TRAIN_concat             {train_fwd_concat, train_bwd_concat}
#define TRAIN_pad                {train_fwd_pad, train_bwd_pad}
#define TRAIN_squeeze            {train_fwd_copy, train_bwd_copy}
#define TRAIN_unsqueeze          {train_fwd_copy, train_bwd_copy}
#define TRAIN_shape              {NULL, NULL}
#define TRAIN_gather             {NULL, NULL}
#define TRAIN_constant           {NULL, NULL}
#define TRAIN_identity           {train_fwd_copy, train_bwd_copy}
#define TRAIN_dropout            {train_fwd_copy, train_bwd_copy}
static const TrainOp train_ops[OP_COUNT] = {
#define X(e, id, ...) [OP_##e] = TRAIN_##id,
#include "../../ir/ops.def"
#undef X
};

static int supported(Op op)
{
	return train_ops[op].fwd && train_ops[op].bwd;
}

/* snprintf at buf + *len, never past size (a long list is cut). */
__attribute__((format(printf, 4, 5)))
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	if (*len >= size - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len = *len + (size_t)k < size ? *len + (size_t)k : size - 1;
}

int sq_train_check_ops(Trainer *t)
{
	enum { MAX_NODES_NAMED = 8 };
	const Graph *g = t->g;
	unsigned char seen[OP_COUNT] = {0};
	Op bad[OP_COUNT];
	int nbad = 0, nnodes = 0, first = -1;
	char nodes[384];
	size_t ln = 0;
	for (int i = 0; i <= t->last_node; i++) {
		const Node *n = &g->nodes[i];
		if (supported(n->op))
			continue;
		if (first < 0)
			first = i;
		if (nnodes < MAX_NODES_NAMED)
			append(nodes, sizeof nodes, &ln, "%s%s", nnodes ? ", " : "", n->name);
		nnodes++;
		if (!seen[n->op]) {
			seen[n->op] = 1;
			bad[nbad++] = n->op;
		}
	}
	if (!nnodes)
		return 0;
	if (nnodes > MAX_NODES_NAMED)
		append(nodes, sizeof nodes, &ln, " and %d more", nnodes - MAX_NODES_NAMED);
	char what[256], sup[512];
	size_t lw = 0, ls = 0;
	for (int j = 0; j < nbad; j++)
		append(what, sizeof what, &lw, "%s%s", !j ? "" : j == nbad - 1 ? " and " : ", ",
		       ir_op_name(bad[j]));
	for (int op = 0; op < OP_COUNT; op++)
		if (supported((Op)op))
			append(sup, sizeof sup, &ls, "%s%s", ls ? " " : "", ir_op_name((Op)op));
	if (nnodes == 1)
		return diag_error(t->d, g->nodes[first].name, "%s is not supported in fine-tuning yet "
		                  "(supported: %s)", what, sup);
	return diag_error(t->d, NULL, "%s %s not supported in fine-tuning yet (nodes %s; "
	                  "supported: %s)", what, nbad == 1 ? "is" : "are", nodes, sup);
}

/* ---- dispatch --------------------------------------------------------------------------- */

void sq_train_forward_node(Trainer *t, int i)
{
	Graph *g = t->g;
	const Node *n = &g->nodes[i];
	TrainFwd f = {.t = t, .i = i, .n = n};
	f.y = t->act[n->out[0]];
	f.ny = numel_v(t, n->out[0]);
	f.x = n->nin > 0 && n->in[0] >= 0 ? data_of(t, n->in[0]) : NULL;
	int li = t->layer_of[i];
	TLayer *L = li >= 0 ? &t->L[li] : NULL;
	if (L && L->act_on) {
		if (!L->act_fused) /* else its input's producer wrote xq */
			sq_act_forward(&L->act, f.x, L->xq, numel_v(t, n->in[0]));
		f.x = L->xq;
	}
	/* the quantizer of the layer reading this node's output, fused into its forward */
	f.QL = t->actq_of[i] >= 0 && !t->calibrating ? &t->L[t->actq_of[i]] : NULL;
	f.w = L ? L->wgraph : n->nin > 1 && n->in[1] >= 0 ? data_of(t, n->in[1]) : NULL;
	if (t->relu_from[i] >= 0) /* done by its producer */
		return;
	f.relu = t->relu_into[i] >= 0;
	if (f.relu) /* the fused Relu's output */
		f.y = t->act[g->nodes[t->relu_into[i]].out[0]];
	assert(supported(n->op));
	train_ops[n->op].fwd(&f);
}

void sq_train_backward_node(Trainer *t, int i)
{
	Graph *g = t->g;
	const Node *n = &g->nodes[i];
	int rj = t->relu_into[i], rfrom = t->relu_from[i];
	if (rfrom >= 0 && g->nodes[rfrom].op == OP_BATCHNORMALIZATION)
		return; /* fused into the BatchNormalization's backward */
	TrainBwd b = {.t = t, .i = i, .n = n};
	/* a BatchNormalization with a fused Relu reads the Relu's output gradient */
	b.bn_relu = rj >= 0 && n->op == OP_BATCHNORMALIZATION;
	int yv = b.bn_relu ? g->nodes[rj].out[0] : n->out[0];
	b.dy = grad_in(t, yv);
	b.y = t->act[yv];
	b.ny = numel_v(t, n->out[0]);
	b.nx = n->in[0] >= 0 ? numel_v(t, n->in[0]) : 0;
	b.x = n->in[0] >= 0 ? data_of(t, n->in[0]) : NULL;
	int li = t->layer_of[i];
	b.L = li >= 0 ? &t->L[li] : NULL;
	b.dx = b.L && b.L->act_on && !b.L->act_fused ? t->tmp
	     : needs(t, n, 0) ? grad_dst(t, n->in[0], t->tmp) : NULL;
	if (b.L && b.L->act_on)
		b.x = b.L->xq;
	assert(supported(n->op));
	train_ops[n->op].bwd(&b);
}
