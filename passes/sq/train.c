/* passes/sq/train.c: the fine-tuning engine.
 *
 * One Trainer per run. Every non-constant value gets an activation buffer and a gradient
 * buffer sized for the batch; the forward pass runs the nodes in order (saving what the
 * backward needs: MaxPool indices, BatchNorm batch statistics, quantized weights), the
 * backward pass runs them in reverse, accumulating each operand's gradient (a value read
 * twice, as in a residual Add, sums both). Parameters are the float operands of
 * Conv/Gemm/MatMul (weights, biases) and BatchNormalization (scale, bias); quantized layers
 * train latent float weights through the quantizer (quant.h), whose own scalars (scales,
 * beta) the same optimizer updates.
 *
 * Schedule: `epochs` with the method's quantizer (SQ: adaptive regularizer, bits
 * undecided), then for SQ the per-layer decision, then `recovery_epochs` with the final
 * bits; the learning rate follows one schedule over all steps.
 *
 * This file sets the Trainer up (trainer.h) and runs the loop; each op's forward
 * and backward, and which ops training supports, are rows of the table in train_ops.c.
 */
#include "trainer.h"

#include "../../runtime/grad.h"
#include "../../runtime/rt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Is this node's layer kept in float by the config (first, last, or its name)? */
static int kept_float(const Trainer *t, const Node *n, int index, int count)
{
	const SqConfig *c = &t->o->cfg;
	for (int i = 0; i < c->nkeep; i++) {
		if (!strcmp(c->keep_float[i], "first") && index == 0)
			return 1;
		if (!strcmp(c->keep_float[i], "last") && index == count - 1)
			return 1;
		if (!strcmp(c->keep_float[i], n->name))
			return 1;
	}
	return 0;
}

static void hyper_from_config(const SqConfig *c, SqHyper *h)
{
	*h = sq_hyper_defaults();
	h->lambda = (float)sq_config_lambda(c);
	h->gamma = (float)sq_config_gamma(c);
	h->balance = c->balance;
	h->p = c->p;
	h->delta_factor = (float)c->threshold;
	h->zero_frac_max = (float)c->zero_frac_max;
	h->tan_binary = (float)c->tan_binary;
}

/* ---- setup ----------------------------------------------------------------------------- */

static int setup_layers(Trainer *t)
{
	Graph *g = t->g;
	int count = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (ir_ops[n->op].flags & OPF_WEIGHTED && is_param(g, n->in[1]) &&
		    g->values[n->in[1]].shape.rank >= 2)
			count++;
	}
	t->L = xcalloc((size_t)(count ? count : 1), sizeof(TLayer));
	SqHyper h;
	hyper_from_config(&t->o->cfg, &h);
	char msg[256];
	if (sq_hyper_check(&h, msg, sizeof msg))
		return diag_error(t->d, NULL, "sq: %s", msg);
	for (int i = 0, k = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (!(ir_ops[n->op].flags & OPF_WEIGHTED) || !is_param(g, n->in[1]) ||
		    g->values[n->in[1]].shape.rank < 2)
			continue;
		const Value *w = &g->values[n->in[1]];
		TLayer *L = &t->L[k];
		L->node = i;
		L->wv = n->in[1];
		int64_t nw = ir_shape_numel(&w->shape);
		if (n->op == OP_CONV || (n->op == OP_GEMM && ir_attr_i(n, "transB", 0))) {
			L->C = w->shape.d[0];
			L->transposed = 0;
		} else if (n->op == OP_GEMM || (n->op == OP_MATMUL && w->shape.rank == 2)) {
			L->C = w->shape.d[1];
			L->transposed = 1;
		} else {
			return diag_error(t->d, n->name, "training a MatMul with a rank-%d weight is not "
			                  "supported (2-D weights only)", w->shape.rank);
		}
		L->per = nw / L->C;
		L->quantized = t->o->cfg.method != SQ_Q_NONE && !kept_float(t, n, k, count);
		L->latent = xmalloc(sizeof(float) * (size_t)nw);
		L->glatent = xcalloc((size_t)nw, sizeof(float));
		L->wq = xmalloc(sizeof(float) * (size_t)nw);
		L->wgraph = xmalloc(sizeof(float) * (size_t)nw);
		L->gwgraph = xcalloc((size_t)nw, sizeof(float));
		if (L->transposed)
			transpose2(w->data, L->per, L->C, L->latent);
		else
			memcpy(L->latent, w->data, sizeof(float) * (size_t)nw);
		SqMethod m = L->quantized ? t->o->cfg.method : SQ_Q_NONE;
		if (sq_layer_init(&L->q, m, L->latent, L->C, L->per, &h))
			return diag_error(t->d, n->name, "cannot initialize the quantizer");
		if (L->quantized && t->o->cfg.act_bits < 32) {
			L->act_on = 1;
			/* signed when the layer reads the raw (normalized, signed) image input; a
			 * signed input needs 2 bits at least (1-bit signed has no positive level),
			 * so with act_bits 1 that layer quantizes its input to 2 bits, as binary
			 * networks keep their first layer's input wider */
			int sgn = n->in[0] == t->in_v;
			int abits = sgn && t->o->cfg.act_bits == 1 ? 2 : t->o->cfg.act_bits;
			if (sq_act_init(&L->act, abits, sgn))
				return diag_error(t->d, n->name, "cannot quantize activations to %d bits%s",
				                  abits, sgn ? " (signed)" : "");
			int64_t nx = numel_v(t, n->in[0]);
			L->xq = xmalloc(sizeof(float) * (size_t)nx);
			L->gxq = xmalloc(sizeof(float) * (size_t)nx);
		}
		t->layer_of[i] = k++;
		t->nL = k;
	}
	return 0;
}

/* How many times each value is read (by nodes, or as a graph output); malloc'd. */
static int *value_reads(const Graph *g)
{
	int *reads = xcalloc((size_t)(g->nvalues ? g->nvalues : 1), sizeof(int));
	for (int i = 0; i < g->nnodes; i++)
		for (int j = 0; j < g->nodes[i].nin; j++)
			if (g->nodes[i].in[j] >= 0)
				reads[g->nodes[i].in[j]]++;
	for (int k = 0; k < g->noutputs; k++)
		reads[g->outputs[k]]++;
	return reads;
}

/* Relu fused into its producer's forward: a Conv or Gemm (the kernels' epilogue) or a
 * BatchNormalization in batch mode (also its backward: rt_batchnorm_backward_fast masks dy)
 * whose output nothing else reads. The producer writes the Relu's output; the unfused
 * output is never materialized. The Relu's backward needs only its output: x > 0 iff
 * relu(x) > 0. */
static void setup_fusion(Trainer *t)
{
	const Graph *g = t->g;
	int *reads = value_reads(g);
	for (int j = 0; j <= t->last_node; j++) {
		const Node *r = &g->nodes[j];
		if (r->op != OP_RELU || r->nin < 1 || r->in[0] < 0)
			continue;
		int v = r->in[0], i = g->values[v].producer;
		if (i < 0 || i >= j || reads[v] != 1 || g->nodes[i].out[0] != v)
			continue;
		Op op = g->nodes[i].op;
		if (op == OP_CONV || op == OP_GEMM ||
		    (op == OP_BATCHNORMALIZATION && t->o->cfg.bn == SQ_BN_BATCH)) {
			t->relu_into[i] = j;
			t->relu_from[j] = i;
		}
	}
	free(reads);
}

/* The activation quantizer's backward fused into the backward of the node that produced
 * the quantizer's input: a BatchNormalization (batch mode) with a fused Relu, or a MaxPool,
 * whose output only this layer reads (rt_batchnorm_backward_actq_fast,
 * rt_maxpool_backward_actq_fast). The gradient wrt the quantized input then goes straight
 * to that value's gradient buffer, and the producer reads it once. */
static void setup_actq_fusion(Trainer *t)
{
	const Graph *g = t->g;
	int *reads = value_reads(g);
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		const Node *n = &g->nodes[L->node];
		int v = n->in[0];
		if (!L->act_on || v < 0 || v == t->in_v || reads[v] != 1 || !t->grad[v])
			continue;
		int p = g->values[v].producer;
		if (p < 0 || p >= L->node || g->nodes[p].out[0] != v)
			continue;
		if (g->nodes[p].op == OP_RELU && t->relu_from[p] >= 0 &&
		    g->nodes[t->relu_from[p]].op == OP_BATCHNORMALIZATION)
			p = t->relu_from[p];
		else if (g->nodes[p].op != OP_MAXPOOL || g->nodes[p].in[0] < 0 ||
		         g->nodes[p].in[0] == t->in_v || !t->grad[g->nodes[p].in[0]])
			continue; /* (a MaxPool runs its backward only when its input needs it) */
		t->actq_of[p] = k;
		L->act_fused = 1;
	}
	free(reads);
}

static int setup(Trainer *t)
{
	Graph *g = t->g;
	if (g->ninputs != 1 || g->noutputs < 1)
		return diag_error(t->d, NULL, "fine-tuning needs a model with one input (it has %d)",
		                  g->ninputs);
	t->in_v = g->inputs[0];
	const Value *in = &g->values[t->in_v];
	t->B = in->shape.d[0];
	/* the loss reads the logits: skip a trailing Softmax/LogSoftmax */
	t->logits_v = g->outputs[0];
	t->last_node = g->nnodes - 1;
	int p = g->values[t->logits_v].producer;
	if (p >= 0 && (g->nodes[p].op == OP_SOFTMAX || g->nodes[p].op == OP_LOGSOFTMAX) &&
	    p == g->nnodes - 1) {
		t->logits_v = g->nodes[p].in[0];
		t->last_node = p - 1;
	}
	const Value *lv = &g->values[t->logits_v];
	if (lv->dtype != DT_FLOAT || lv->shape.rank != 2 || lv->shape.d[0] != t->B)
		return diag_error(t->d, NULL, "fine-tuning needs logits of shape [batch, classes]; "
		                  "the output '%s' is not", lv->name);
	if (sq_train_check_ops(t))
		return -1;
	for (int i = 0; i <= t->last_node; i++) {
		const Node *n = &g->nodes[i];
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] >= 0 && j == 0 && g->values[n->out[j]].dtype != DT_FLOAT)
				return diag_error(t->d, n->name, "fine-tuning needs float activations");
	}
	int nv = g->nvalues, nn = g->nnodes;
	t->act = xcalloc((size_t)nv, sizeof(float *));
	t->grad = xcalloc((size_t)nv, sizeof(float *));
	t->pgrad = xcalloc((size_t)nv, sizeof(float *));
	t->idx = xcalloc((size_t)nn, sizeof(int64_t *));
	t->bn_mean = xcalloc((size_t)nn, sizeof(float *));
	t->bn_invstd = xcalloc((size_t)nn, sizeof(float *));
	t->layer_of = xmalloc(sizeof(int) * (size_t)(nn ? nn : 1));
	t->relu_into = xmalloc(sizeof(int) * (size_t)(nn ? nn : 1));
	t->relu_from = xmalloc(sizeof(int) * (size_t)(nn ? nn : 1));
	t->actq_of = xmalloc(sizeof(int) * (size_t)(nn ? nn : 1));
	t->gset = xcalloc((size_t)(nv ? nv : 1), 1);
	for (int i = 0; i < nn; i++)
		t->layer_of[i] = t->relu_into[i] = t->relu_from[i] = t->actq_of[i] = -1;
	setup_fusion(t);
	t->tmp_n = 1;
	for (int v = 0; v < nv; v++) {
		const Value *val = &g->values[v];
		if (val->data || val->dtype != DT_FLOAT)
			continue;
		int64_t n = ir_shape_numel(&val->shape);
		if (n > t->tmp_n)
			t->tmp_n = n;
		t->act[v] = xcalloc((size_t)(n ? n : 1), sizeof(float));
		t->grad[v] = xcalloc((size_t)(n ? n : 1), sizeof(float));
	}
	for (int v = 0; v < nv; v++)
		if (is_param(g, v) && ir_shape_numel(&g->values[v].shape) > t->tmp_n)
			t->tmp_n = ir_shape_numel(&g->values[v].shape);
	t->tmp = xmalloc(sizeof(float) * (size_t)t->tmp_n);
	t->tmp2 = xmalloc(sizeof(float) * (size_t)t->tmp_n);
	for (int i = 0; i <= t->last_node; i++) {
		const Node *n = &g->nodes[i];
		if (n->op == OP_MAXPOOL || n->op == OP_PAD)
			t->idx[i] = xmalloc(sizeof(int64_t) * (size_t)numel_v(t, n->out[0]));
		if (n->op == OP_PAD) /* the backward's source map, fixed by shapes and pads */
			rt_pad_src_map(sq_train_pad_mode(n), &g->values[n->in[0]].shape,
			               g->values[n->in[1]].data, &g->values[n->out[0]].shape, t->idx[i]);
		if (n->op == OP_BATCHNORMALIZATION) {
			int64_t c = g->values[n->in[0]].shape.d[1];
			t->bn_mean[i] = xmalloc(sizeof(float) * (size_t)c);
			t->bn_invstd[i] = xmalloc(sizeof(float) * (size_t)c);
		}
	}
	if (setup_layers(t))
		return -1;
	setup_actq_fusion(t);
	int64_t maxp = 1; /* weights, biases, BatchNorm parameters */
	for (int v = 0; v < g->nvalues; v++)
		if (is_param(g, v) && numel_v(t, v) > maxp)
			maxp = numel_v(t, v);
	t->ps1 = xmalloc(sizeof(float) * (size_t)maxp);
	t->ps2 = xmalloc(sizeof(float) * (size_t)maxp);
	/* optimizer: weights through their layers' latent copies, other float operands of
	 * trained ops directly */
	const SqConfig *c = &t->o->cfg;
	sq_optim_init(&t->opt, c->optimizer,
	              (float)c->momentum);
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		sq_optim_add(&t->opt, L->latent, L->glatent, L->C * L->per, 1.0f,
		             (float)c->weight_decay);
		if (sq_nparams(&L->q))
			sq_optim_add(&t->opt, L->q.param, L->q.grad, sq_nparams(&L->q), (float)c->scale_lr,
			             0.0f);
		if (L->act_on)
			sq_optim_add(&t->opt, &L->act.s, &L->act.grad, 1, (float)c->scale_lr, 0.0f);
	}
	for (int i = 0; i <= t->last_node; i++) {
		const Node *n = &g->nodes[i];
		int first = -1, last = -1;
		if (ir_ops[n->op].flags & OPF_WEIGHTED) {
			first = t->layer_of[i] >= 0 ? 2 : 1;
			last = n->nin - 1;
		} else if (n->op == OP_BATCHNORMALIZATION) {
			first = 1;
			last = 2;
		} else if (n->op == OP_PRELU) { /* the slope trains */
			first = last = 1;
		}
		for (int j = first; j >= 0 && j <= last; j++) {
			int v = n->in[j];
			if (!is_param(g, v) || t->pgrad[v])
				continue;
			int64_t nn2 = numel_v(t, v);
			t->pgrad[v] = xcalloc((size_t)(nn2 ? nn2 : 1), sizeof(float));
			sq_optim_add(&t->opt, g->values[v].data, t->pgrad[v], nn2, 1.0f, 0.0f);
		}
	}
	return 0;
}

static void teardown(Trainer *t)
{
	Graph *g = t->g;
	if (t->act)
		for (int v = 0; v < g->nvalues; v++) {
			free(t->act[v]);
			free(t->grad[v]);
			free(t->pgrad[v]);
		}
	if (t->idx)
		for (int i = 0; i < g->nnodes; i++) {
			free(t->idx[i]);
			free(t->bn_mean[i]);
			free(t->bn_invstd[i]);
		}
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		free(L->latent);
		free(L->glatent);
		free(L->wq);
		free(L->wgraph);
		free(L->gwgraph);
		free(L->xq);
		free(L->gxq);
		sq_layer_free(&L->q);
	}
	free(t->L);
	free(t->act);
	free(t->grad);
	free(t->pgrad);
	free(t->idx);
	free(t->bn_mean);
	free(t->bn_invstd);
	free(t->layer_of);
	free(t->relu_into);
	free(t->relu_from);
	free(t->actq_of);
	free(t->gset);
	free(t->tmp);
	free(t->tmp2);
	free(t->ps1);
	free(t->ps2);
	sq_optim_free(&t->opt);
}

/* ---- the loop ---------------------------------------------------------------------------- */

/* Quantizes every layer's weights for this step and lays them out for the forward. */
static void quantize_weights(Trainer *t)
{
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		sq_forward(&L->q, L->latent, L->wq, NULL);
		if (L->transposed)
			transpose2(L->wq, L->C, L->per, L->wgraph);
		else
			memcpy(L->wgraph, L->wq, sizeof(float) * (size_t)(L->C * L->per));
	}
}

/* splitmix64: the shuffling generator (seeded, the same sequence on every machine) */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void shuffle(int64_t *perm, int64_t n, uint64_t *s)
{
	for (int64_t i = n - 1; i > 0; i--) {
		int64_t j = (int64_t)(rng_next(s) % (uint64_t)(i + 1));
		int64_t tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One training step on the batch in act[in_v] (labels y or teacher logits tl).
 * Returns the loss (task + regularizer) or NaN. */
static double step(Trainer *t, const int32_t *y, const float *tl, float lr, int64_t *correct,
                   double *reg)
{
	Graph *g = t->g;
	quantize_weights(t);
	for (int i = 0; i <= t->last_node; i++)
		sq_train_forward_node(t, i);
	/* zero the parameter gradients; activation gradients are overwritten by their first
	 * contribution (gset) */
	memset(t->gset, 0, (size_t)g->nvalues);
	for (int v = 0; v < g->nvalues; v++) {
		if (t->pgrad[v])
			memset(t->pgrad[v], 0, sizeof(float) * (size_t)numel_v(t, v));
	}
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		memset(L->glatent, 0, sizeof(float) * (size_t)(L->C * L->per));
		sq_zero_grad(&L->q);
		if (L->act_on)
			L->act.grad = 0;
	}
	const Value *lv = &g->values[t->logits_v];
	int64_t classes = lv->shape.d[1];
	double loss;
	if (y)
		loss = rt_softmax_xent_ref(t->act[t->logits_v], y, t->B, classes, t->grad[t->logits_v],
		                           correct);
	else
		loss = rt_distill_kl_ref(t->act[t->logits_v], tl, t->B, classes,
		                         (float)t->o->cfg.distill_temperature, t->grad[t->logits_v]);
	t->gset[t->logits_v] = 1;
	if (!isfinite(loss))
		return loss;
	for (int i = t->last_node; i >= 0; i--)
		sq_train_backward_node(t, i);
	*reg = 0;
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		if (t->phase != 0 && !t->o->cfg.recovery_reg)
			continue;
		float *dw = L->glatent;
		if (t->warm) { /* beta and a learn from the regularizer; the weights do not yet */
			dw = t->ps1;
			memset(dw, 0, sizeof(float) * (size_t)(L->C * L->per));
		}
		sq_observe_task_grad(&L->q, L->glatent); /* the task's gradient alone, so far */
		*reg += sq_regularize(&L->q, L->latent, dw);
	}
	sq_optim_step(&t->opt, lr);
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		sq_project(&L->q, L->latent);
		if (L->act_on)
			sq_act_project(&L->act);
		/* early decision: a layer whose beta reached the binary side becomes binary now,
		 * so that the binary regularizer empties its zero bucket before recovery */
		if (t->phase == 0 && t->o->cfg.decide_early && L->quantized &&
		    t->o->cfg.method == SQ_Q_SQ && sq_bits(&L->q) == 0 &&
		    sq_tan_beta(&L->q) >= t->o->cfg.tan_binary)
			sq_decide(&L->q, L->latent);
	}
	return loss + *reg;
}

/* Writes the trained state into the graph: quantized weights, decisions as attributes. */
static void write_back(Trainer *t)
{
	Graph *g = t->g;
	quantize_weights(t);
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		Value *w = &g->values[L->wv];
		memcpy(w->data, L->wgraph, sizeof(float) * (size_t)(L->C * L->per));
		if (!L->quantized)
			continue;
		int node = L->node;
		ir_dec_set_s(g, node, SQCA_METHOD, sq_method_name(t->o->cfg.method));
		ir_dec_set_i(g, node, SQCA_BITS, sq_decide(&L->q, L->latent));
		ir_dec_set_floats(g, node, SQCA_SCALES, L->q.a, (int)L->C);
		ir_dec_set_f(g, node, SQCA_DELTA, L->q.delta);
		if (t->o->cfg.method == SQ_Q_SQ)
			ir_dec_set_f(g, node, SQCA_BETA, (float)sq_beta(&L->q));
		ir_dec_set_f(g, node, SQCA_ZERO_FRAC, (float)sq_zero_fraction(&L->q, L->latent));
		if (L->act_on) {
			ir_dec_set_i(g, node, SQCA_ACT_BITS, L->act.bits);
			ir_dec_set_f(g, node, SQCA_ACT_STEP, L->act.s);
			ir_dec_set_i(g, node, SQCA_ACT_SIGNED, L->act.is_signed);
		}
	}
}

static void fill_report(Trainer *t, SqReport *r)
{
	r->nlayers = t->nL;
	r->layers = xcalloc((size_t)(t->nL ? t->nL : 1), sizeof(SqLayerReport));
	for (int k = 0; k < t->nL; k++) {
		TLayer *L = &t->L[k];
		SqLayerReport *lr = &r->layers[k];
		const Node *n = &t->g->nodes[L->node];
		snprintf(lr->name, sizeof lr->name, "%s", n->name);
		lr->op = n->op;
		lr->weights = L->C * L->per;
		lr->channels = L->C;
		lr->has_bias = n->nin > 2 && n->in[2] >= 0;
		lr->bits = L->quantized ? sq_decide(&L->q, L->latent) : 32;
		lr->beta = t->o->cfg.method == SQ_Q_SQ && L->quantized ? (float)sq_beta(&L->q) : 0;
		lr->zero_frac = L->quantized ? (float)sq_zero_fraction(&L->q, L->latent) : 0;
		sq_scale_range(&L->q, &lr->scale_min, &lr->scale_max);
		lr->act_bits = L->act_on ? L->act.bits : 32;
		lr->act_step = L->act_on ? L->act.s : 0;
		lr->kernel = "interpreter";
	}
}

/* Calibrates activation steps (UniQ init) over a few batches with float weights. */
static void calibrate(Trainer *t, const SqData *ds, const int64_t *perm, int64_t nbatches)
{
	int any = 0;
	for (int k = 0; k < t->nL; k++)
		any |= t->L[k].act_on;
	if (!any)
		return;
	int64_t per = ir_shape_numel(&ds->sample);
	float *xin = t->act[t->in_v];
	t->calibrating = 1;
	for (int k = 0; k < t->nL; k++)
		memcpy(t->L[k].wgraph, t->g->values[t->L[k].wv].data,
		       sizeof(float) * (size_t)(t->L[k].C * t->L[k].per));
	for (int64_t b = 0; b < nbatches; b++) {
		for (int64_t i = 0; i < t->B; i++)
			memcpy(xin + i * per, ds->x + perm[b * t->B + i] * per, sizeof(float) * (size_t)per);
		for (int i = 0; i <= t->last_node; i++) {
			int li = t->layer_of[i];
			if (li >= 0 && t->L[li].act_on) {
				const Node *n = &t->g->nodes[i];
				sq_act_init_calibrate(&t->L[li].act, data_of(t, n->in[0]), numel_v(t, n->in[0]));
				t->L[li].act_on = 0; /* run this layer in float while calibrating */
				sq_train_forward_node(t, i);
				t->L[li].act_on = 1;
			} else {
				sq_train_forward_node(t, i);
			}
		}
	}
	t->calibrating = 0;
	/* Adam moves a parameter by about lr_mult * lr per step whatever its size; an
	 * activation step of 0.02 at scale_lr's 1e-2 per step could collapse to its floor in a
	 * few steps (VGG-7-small at 8 bits did, after recovery restarted the learning rate),
	 * and then the layer sees zeros. So each step learns relative to its calibrated value:
	 * at most about scale_lr * lr of it per step. */
	for (int k = 0; k < t->nL; k++)
		for (int j = 0; t->L[k].act_on && j < t->opt.np; j++)
			if (t->opt.p[j].x == &t->L[k].act.s)
				t->opt.p[j].lr_mult = (float)t->o->cfg.scale_lr * t->L[k].act.s;
}

int sq_train(Graph *g, const SqTrainOptions *o, SqReport *r, Diag *d)
{
	memset(r, 0, sizeof *r);
	Trainer t = {0};
	t.g = g;
	t.o = o;
	t.d = d;
	int rc = -1;
	const SqData *ds = o->train;
	int64_t *perm = NULL;
	float *teacher_logits = NULL;
	if (setup(&t))
		goto out;
	const Shape *ins = &g->values[t.in_v].shape;
	Shape samp = {ins->rank - 1, {0}};
	for (int i = 1; i < ins->rank; i++)
		samp.d[i - 1] = ins->d[i];
	if (!ir_shape_eq(&samp, &ds->sample)) {
		char a[128], b[128];
		diag_error(d, NULL, "the training images have shape %s, the model's input is %s",
		           ir_shape_str(&ds->sample, a, sizeof a), ir_shape_str(ins, b, sizeof b));
		goto out;
	}
	int64_t classes = g->values[t.logits_v].shape.d[1];
	if (ds->y && ds->nclasses != classes) {
		diag_error(d, NULL, "the data set has %d classes, the model gives %lld scores",
		           ds->nclasses, (long long)classes);
		goto out;
	}
	if (!ds->y && !o->teacher) {
		diag_error(d, NULL, "the training data has no labels and no teacher model was given");
		goto out;
	}
	int64_t nb = ds->n / t.B;
	if (nb < 1) {
		diag_error(d, NULL, "the training split has %lld images, fewer than one batch (%lld)",
		           (long long)ds->n, (long long)t.B);
		goto out;
	}
	const SqConfig *c = &o->cfg;
	int epochs = c->epochs + (c->method == SQ_Q_SQ ? c->recovery_epochs : 0);
	if (c->method != SQ_Q_SQ)
		epochs += c->recovery_epochs; /* same number of steps for every method */
	int64_t total = (int64_t)epochs * nb, steps = 0;
	perm = xmalloc(sizeof(int64_t) * (size_t)ds->n);
	for (int64_t i = 0; i < ds->n; i++)
		perm[i] = i;
	uint64_t seed = 0x5eed0000ULL + (uint64_t)c->seed;
	shuffle(perm, ds->n, &seed);
	calibrate(&t, ds, perm, nb < 4 ? nb : 4);
	int64_t per = ir_shape_numel(&ds->sample);
	if (!ds->y)
		teacher_logits = xmalloc(sizeof(float) * (size_t)(t.B * classes));
	int32_t *yb = ds->y ? xmalloc(sizeof(int32_t) * (size_t)t.B) : NULL;
	double t0 = now_s();
	RtOptions ro = {.use_fast = 1};
	for (int e = 0; e < epochs; e++) {
		if (c->method == SQ_Q_SQ && e == c->epochs) {
			/* the decision: bits per layer, then recovery with the final choice */
			for (int k = 0; k < t.nL; k++)
				if (t.L[k].quantized)
					sq_decide(&t.L[k].q, t.L[k].latent);
			t.phase = 1;
		}
		shuffle(perm, ds->n, &seed);
		double sum_loss = 0, sum_reg = 0;
		int64_t correct = 0;
		double te = now_s();
		for (int64_t b = 0; b < nb; b++, steps++) {
			float *xin = t.act[t.in_v];
			for (int64_t i = 0; i < t.B; i++) {
				int64_t s = perm[b * t.B + i];
				memcpy(xin + i * per, ds->x + s * per, sizeof(float) * (size_t)per);
				if (yb)
					yb[i] = ds->y[s];
			}
			if (!yb) {
				const void *tin[1] = {xin};
				void *tout[8] = {0};
				if (rt_run(o->teacher, tin, tout, &ro, d)) {
					free(yb);
					goto out;
				}
				memcpy(teacher_logits, tout[0], sizeof(float) * (size_t)(t.B * classes));
				for (int k = 0; k < o->teacher->noutputs && k < 8; k++)
					free(tout[k]);
			}
			/* one schedule per phase: SQ's recovery restarts it, so that the final bits
			 * train at a useful learning rate */
			int64_t p0 = t.phase ? (int64_t)c->epochs * nb : 0;
			int64_t plen = c->method == SQ_Q_SQ ? (t.phase ? total - p0 : (int64_t)c->epochs * nb)
			                                    : total;
			float lr = (float)sq_lr_at(c->schedule,
			                           c->lr, steps - p0, plen, (int64_t)c->lr_step_epochs * nb,
			                           c->lr_gamma);
			t.warm = t.phase == 0 && steps < (int64_t)(c->reg_warmup * (double)c->epochs * (double)nb);
			int64_t hit = 0;
			double reg = 0;
			double loss = step(&t, yb, teacher_logits, lr, &hit, &reg);
			if (!isfinite(loss)) {
				diag_error(d, NULL, "the training loss became %s at epoch %d, step %lld (of %lld): "
				           "lower sq.lr or sq.lambda", isnan(loss) ? "NaN" : "infinite", e + 1,
				           (long long)(b + 1), (long long)nb);
				free(yb);
				goto out;
			}
			sum_loss += loss;
			sum_reg += reg;
			correct += hit;
			if (!o->quiet && o->tty) {
				double el = now_s() - t0;
				double left = steps > 0 ? el / (double)(steps + 1) * (double)(total - steps - 1) : 0;
				fprintf(o->log, "\rsq: epoch %d/%d step %lld/%lld loss %.4f reg %.4f acc %.3f "
				        "lr %.2g, %.0fs left   ", e + 1, epochs, (long long)(b + 1),
				        (long long)nb, sum_loss / (double)(b + 1), sum_reg / (double)(b + 1),
				        yb ? (double)correct / (double)((b + 1) * t.B) : 0.0, lr, left);
				fflush(o->log);
			}
		}
		r->loss = sum_loss / (double)nb;
		r->train_acc = yb ? (double)correct / (double)(nb * t.B) : 0;
		if (!o->quiet) {
			char accs[32] = "n/a (distillation)";
			if (yb)
				snprintf(accs, sizeof accs, "%.4f", r->train_acc);
			fprintf(o->log, "%ssq: epoch %d/%d (%s) loss %.4f reg %.4f train acc %s, %.1fs\n",
			        o->tty ? "\r" : "", e + 1, epochs,
			        c->method == SQ_Q_SQ ? (t.phase ? "recovery" : "sq") : sq_method_name(c->method),
			        r->loss, sum_reg / (double)nb, accs, now_s() - te);
			if (c->method == SQ_Q_SQ) { /* where each layer stands: tan(beta), zero bucket */
				fprintf(o->log, "sq:   tan(beta)/zeros:");
				for (int k = 0; k < t.nL; k++)
					if (t.L[k].quantized)
						fprintf(o->log, " %.3g/%.0f%%", sq_tan_beta(&t.L[k].q),
						        100 * sq_zero_fraction(&t.L[k].q, t.L[k].latent));
				fprintf(o->log, "\n");
			}
			fflush(o->log);
		}
	}
	free(yb);
	r->steps = steps;
	r->images = steps * t.B;
	r->seconds = now_s() - t0;
	write_back(&t);
	fill_report(&t, r);
	rc = 0;
out:
	free(perm);
	free(teacher_logits);
	teardown(&t);
	return rc;
}

void sq_report_free(SqReport *r)
{
	free(r->layers);
	r->layers = NULL;
	r->nlayers = 0;
}

int sq_transfer(Graph *dst, const Graph *src)
{
	int copied = 0;
	for (int v = 0; v < dst->nvalues; v++) {
		Value *dv = &dst->values[v];
		if (!dv->data || dv->dtype != DT_FLOAT)
			continue;
		int s = ir_value_find(src, dv->name);
		if (s < 0 || !src->values[s].data || src->values[s].dtype != DT_FLOAT ||
		    !ir_shape_eq(&src->values[s].shape, &dv->shape))
			continue;
		memcpy(dv->data, src->values[s].data, ir_value_nbytes(dv));
		copied++;
	}
	for (int i = 0; i < dst->nnodes; i++) {
		const Node *sn = NULL;
		for (int j = 0; j < src->nnodes && !sn; j++)
			if (!strcmp(src->nodes[j].name, dst->nodes[i].name))
				sn = &src->nodes[j];
		if (!sn)
			continue;
		for (int a = 0; a < sn->nattr; a++) {
			const Attr *at = &sn->attrs[a];
			if (!ir_dec_is_name(at->name))
				continue;
			switch (at->kind) {
			case AT_INT: ir_attr_set_i(dst, i, at->name, at->i); break;
			case AT_FLOAT: ir_attr_set_f(dst, i, at->name, at->f); break;
			case AT_STRING: ir_attr_set_s(dst, i, at->name, at->s); break;
			case AT_INTS: ir_attr_set_ints(dst, i, at->name, at->ints, at->n); break;
			case AT_FLOATS: ir_attr_set_floats(dst, i, at->name, at->floats, at->n); break;
			}
		}
	}
	return copied;
}
