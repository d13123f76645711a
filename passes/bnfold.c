/* passes/bnfold.c: folds BatchNormalization into a preceding Conv or Gemm.
 * Requires: shapes known, constants folded. A BatchNormalization whose input is produced
 * by a Conv (or a Gemm whose output channels are its columns) with constant weights and
 * bias, read by nobody else, and whose own parameters are constant, disappears:
 *   s_c = gamma_c / sqrt(var_c + eps);  W'_c = W_c * s_c;  b'_c = (b_c - mean_c) * s_c + beta_c
 * Establishes: no such BatchNormalization remains. The Conv/Gemm takes over the
 * BatchNormalization's result value (its name survives, e.g. as a graph output). New
 * weight constants are made; the old ones go when nobody reads them. A quantized layer's
 * sqc.scales are multiplied by s_c too, so that W' = (a_c s_c) t keeps its codes. */
#include "passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_const_f32(const Graph *g, int v)
{
	return v >= 0 && g->values[v].data && g->values[v].dtype == DT_FLOAT;
}

/* Copies constant v into a new constant value (so shared weights stay intact). */
static int clone_const(Graph *g, int v, const char *suffix)
{
	Value src = g->values[v];
	size_t nb = ir_value_nbytes(&src);
	void *data = xmalloc(nb ? nb : 1);
	memcpy(data, src.data, nb);
	char *nm = arena_printf(&g->arena, "%s%s", src.name, suffix);
	return ir_const_add(g, ir_fresh_name(g, nm), src.dtype, &src.shape, data);
}

static int fold_one(Graph *g, int bi)
{
	Node *bn = &g->nodes[bi];
	int x = bn->in[0];
	if (g->values[x].producer < 0 || ir_value_uses(g, x) != 1 || g->values[x].is_output)
		return 0;
	for (int j = 1; j < 5; j++)
		if (!is_const_f32(g, bn->in[j]))
			return 0;
	if (bn->nout > 1 && ((bn->out[1] >= 0 && ir_value_uses(g, bn->out[1])) ||
	                     (bn->nout > 2 && bn->out[2] >= 0 && ir_value_uses(g, bn->out[2]))))
		return 0;
	int pi = g->values[x].producer;
	Node *p = &g->nodes[pi];
	int64_t channels, per; /* per: weights per channel (Conv) */
	int gemm_tb = 0;
	if (p->op == OP_CONV) {
		if (!is_const_f32(g, p->in[1]) || (p->nin > 2 && p->in[2] >= 0 && !is_const_f32(g, p->in[2])))
			return 0;
		const Value *w = &g->values[p->in[1]];
		channels = w->shape.d[0];
		per = ir_shape_numel(&w->shape) / (channels ? channels : 1);
	} else if (p->op == OP_GEMM) {
		if (!is_const_f32(g, p->in[1]) || g->values[x].shape.rank != 2)
			return 0;
		gemm_tb = (int)ir_attr_i(p, "transB", 0);
		const Value *w = &g->values[p->in[1]];
		channels = gemm_tb ? w->shape.d[0] : w->shape.d[1];
		per = gemm_tb ? w->shape.d[1] : w->shape.d[0];
		if (p->nin > 2 && p->in[2] >= 0) {
			const Value *c = &g->values[p->in[2]];
			if (!is_const_f32(g, p->in[2]) || ir_shape_numel(&c->shape) != channels ||
			    (c->shape.rank == 2 && c->shape.d[0] != 1))
				return 0;
		}
	} else {
		return 0;
	}
	const float *gamma = g->values[bn->in[1]].data, *beta = g->values[bn->in[2]].data;
	const float *mean = g->values[bn->in[3]].data, *var = g->values[bn->in[4]].data;
	if (ir_shape_numel(&g->values[bn->in[1]].shape) != channels)
		return 0;
	float eps = ir_attr_f(bn, "epsilon", 1e-5f);

	int wv = clone_const(g, p->in[1], ".bnfold");
	float *w = g->values[wv].data;
	float alpha = p->op == OP_GEMM ? ir_attr_f(p, "alpha", 1.0f) : 1.0f;
	float cbeta = p->op == OP_GEMM ? ir_attr_f(p, "beta", 1.0f) : 1.0f;
	Shape bs = {1, {channels}};
	float *bias = xcalloc((size_t)channels, sizeof(float));
	const float *oldb = p->nin > 2 && p->in[2] >= 0 ? g->values[p->in[2]].data : NULL;
	for (int64_t c = 0; c < channels; c++) {
		float s = gamma[c] / sqrtf(var[c] + eps), f = s * alpha;
		for (int64_t j = 0; j < per; j++) {
			if (p->op == OP_CONV || gemm_tb)
				w[c * per + j] *= f;
			else
				w[j * channels + c] *= f;
		}
		float b0 = oldb ? cbeta * oldb[c] : 0.0f;
		bias[c] = (b0 - mean[c]) * s + beta[c];
	}
	/* a quantized layer's per-channel scales take the same factor: W' = (a_c s_c) t */
	int nqs;
	const float *qs = ir_dec_floats(p, SQCA_SCALES, &nqs);
	if (qs && nqs == channels) {
		float *ns = xmalloc(sizeof(float) * (size_t)channels);
		for (int64_t c = 0; c < channels; c++) /* the weights' factor, rounded the same way */
			ns[c] = qs[c] * ((gamma[c] / sqrtf(var[c] + eps)) * alpha);
		ir_dec_set_floats(g, pi, SQCA_SCALES, ns, (int)channels);
		free(ns);
		p = &g->nodes[pi];
	}
	char *bname = arena_printf(&g->arena, "%s.bias.bnfold", p->name);
	int bv = ir_const_add(g, ir_fresh_name(g, bname), DT_FLOAT, &bs, bias);
	/* rewrite the producer: new operands, and it now defines the BN's result */
	int in[3] = {p->in[0], wv, bv};
	p->in = arena_alloc(&g->arena, sizeof in);
	memcpy(p->in, in, sizeof in);
	p->nin = 3;
	if (p->op == OP_GEMM) {
		ir_attr_set_f(g, pi, "alpha", 1.0f);
		ir_attr_set_f(g, pi, "beta", 1.0f);
	}
	p = &g->nodes[pi];
	int y = bn->out[0];
	p->out[0] = y;
	g->values[y].producer = pi;
	g->values[x].producer = -1;
	bn->dead = 1;
	return 1;
}

int pass_bnfold(Graph *g, const PassEnv *env, Diag *d)
{
	(void)d;
	int changed = 0;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i].dead && g->nodes[i].op == OP_BATCHNORMALIZATION)
			changed |= fold_one(g, i);
	if (changed)
		ir_graph_compact(g);
	return 0;
}
