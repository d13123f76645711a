/* passes/pack.c: weight packing and kernel choice for the native backend.
 *
 * pass_pack. Requires: shapes known, BatchNormalization folded (bnfold), a batch of 1.
 * Establishes: every Conv/Gemm/MatMul with constant weights carries `sqc.kernel`, the
 * kernel the backend will call (chosen per target):
 *   "bitserial"   quantized weights (sqc.bits 1 or 2) and activations (sqc.act_bits 1..8):
 *                 AND + popcount over activation bit planes x weight bit planes
 *   "int8"        the same layers, the same exact integer sums, through byte dot products
 *                 (AVX2 vpmaddubsw; NEON SMLAL, or SDOT with dotprod): chosen by the
 *                 target's cost rule (PassTarget.qkernel, passes/target.c) where faster
 *   "signselect"  quantized weights, float activations: sum of +x / -x, times the scale
 *   "f32"         a layer kept in float
 * and a quantized layer also `sqc.packed_bytes` (its packed weights, scales and biases in
 * the output). A Relu that is the only reader of such a layer's result is fused into it:
 * the layer gets `sqc.relu`=1 and writes the Relu's result (the Relu node goes); so is a
 * Clip(0, hi) (ReLU6) after a float Conv (`sqc.relu`=1, `sqc.clip`=hi). The
 * weights of a quantized layer must be scale_c * t with t in {-1,0,+1} (sqc.bits 1: no
 * zeros); anything else is a user error (a model edited after sqc saved it).
 *
 * Packing is done here, into the IR: a quantized layer gets two constant operands after
 * its ONNX ones (ir.h, "Packed operands"), e.g. after this pass
 *   const %w1.packed: i64[2,8] = [...]
 *   const %w1.scales: f32[2] = [0.5,0.25]
 *   %b = Conv(%x, %w1, _, %w1.packed, %w1.scales) {...}
 * the rows (C rows of 1 or 2 planes of pack_kwords(per) words, kernels.h's layout; an i64
 * element is a word's bit pattern) and the scales (Gemm: times alpha, the same float
 * product the backend used to make). The backend copies them to read-only data like any
 * constant and packs nothing itself. Why operands on the existing op and not a new QConv
 * op: the node keeps its ONNX meaning (x, w, b untouched), so shape inference, the
 * interpreter and every per-op table stay as they are, and a packed graph prints, parses
 * and verifies like any other; the price is that the float weights stay in the IR next to
 * their packed form (the backend does not emit them). Running pack again (on IR read
 * back) repacks from the float weights into the same constants.
 *
 * pack_weights() makes the packed rows and scales; the layout is the one
 * runtime/kernels/kernels.h documents. */
#include "passes.h"
#include "../runtime/kernels/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Output channels and weights per channel of node n's weight operand, and the stride
 * pattern to read weight j of channel c: W[c * cs + j * js]. */
static int weight_geom(const Graph *g, const Node *n, int64_t *C, int64_t *per, int64_t *cs,
                       int64_t *js)
{
	const Value *w = &g->values[n->in[1]];
	if (n->op == OP_CONV) {
		*C = w->shape.d[0];
		*per = ir_shape_numel(&w->shape) / (*C ? *C : 1);
		*cs = *per;
		*js = 1;
		return 0;
	}
	if (w->shape.rank != 2)
		return -1;
	int tb = n->op == OP_GEMM && ir_attr_i(n, "transB", 0);
	*C = tb ? w->shape.d[0] : w->shape.d[1];
	*per = tb ? w->shape.d[1] : w->shape.d[0];
	*cs = tb ? *per : 1;
	*js = tb ? 1 : *C;
	return 0;
}

int pack_is_layer(const Graph *g, const Node *n)
{
	return !n->dead && (ir_ops[n->op].flags & OPF_WEIGHTED) && n->nin > 1 && n->in[1] >= 0 &&
	       g->values[n->in[1]].data && g->values[n->in[1]].dtype == DT_FLOAT;
}

int64_t pack_kwords(int64_t per)
{
	return rtk_qconv_kwords(per);
}

int pack_weights(const Graph *g, const Node *n, uint64_t **rows, float **scales,
                 int64_t *channels, int64_t *per_out, Diag *d)
{
	int64_t C, per, cs, js;
	if (weight_geom(g, n, &C, &per, &cs, &js))
		return diag_error(d, n->name, "weights of rank %d: the backend needs rank 2",
		                  g->values[n->in[1]].shape.rank);
	int bits = (int)ir_dec_i(n, SQCA_BITS);
	int nsa;
	const float *sa = ir_dec_floats(n, SQCA_SCALES, &nsa);
	if (!sa || (nsa != C && nsa != 1))
		return diag_error(d, n->name, "quantized layer without one sqc.scales entry per "
		                  "output channel (%lld channels)", (long long)C);
	const float *w = g->values[n->in[1]].data;
	int64_t kw = pack_kwords(per), planes = bits == 1 ? 1 : 2;
	uint64_t *r = xcalloc((size_t)(C * planes * kw), sizeof(uint64_t));
	float *sc = xmalloc(sizeof(float) * (size_t)C);
	for (int64_t c = 0; c < C; c++) {
		float a = sa[nsa == 1 ? 0 : c];
		sc[c] = a;
		uint64_t *tp = r + c * planes * kw, *tm = tp + kw;
		for (int64_t j = 0; j < per; j++) {
			float v = w[c * cs + j * js];
			int t = v == 0.0f ? 0 : (v == a ? 1 : (v == -a ? -1 : 2));
			if (t == 2 || (t == 0 && bits == 1) || !(a != 0.0f && isfinite(a))) {
				free(r);
				free(sc);
				return diag_error(d, n->name, "weight %lld of channel %lld is %g, not "
				                  "scale * {%s} (scale %g): the model was changed after "
				                  "sqc quantized it", (long long)j, (long long)c, (double)v,
				                  bits == 1 ? "-1, +1" : "-1, 0, +1", (double)a);
			}
			uint64_t bit = (uint64_t)1 << (j % 64);
			if (t > 0)
				tp[j / 64] |= bit;
			else if (t < 0 && bits != 1)
				tm[j / 64] |= bit;
		}
	}
	*rows = r;
	*scales = sc;
	*channels = C;
	*per_out = per;
	return 0;
}

/* The only reader of value v, or -1. */
static int sole_reader(const Graph *g, int v)
{
	if (g->values[v].is_output || ir_value_uses(g, v) != 1)
		return -1;
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] == v)
				return n->nout == 1 ? i : -1;
	}
	return -1;
}

/* Clip node c's constant bound operand i (1: min, 2: max) into *out; 0 if absent (no
 * bound), -1 if not a constant scalar. */
static int clip_bound(const Graph *g, const Node *c, int i, float *out)
{
	if (c->nin <= i || c->in[i] < 0)
		return 0;
	const Value *v = &g->values[c->in[i]];
	if (!v->data || v->dtype != DT_FLOAT || ir_shape_numel(&v->shape) != 1)
		return -1;
	*out = *(const float *)v->data;
	return 1;
}

/* The upper bound of Clip node c when it is Clip(0, hi) with a finite hi > 0, else 0. */
static float relu6_bound(const Graph *g, const Node *c)
{
	float lo, hi;
	if (c->op != OP_CLIP || clip_bound(g, c, 1, &lo) != 1 || clip_bound(g, c, 2, &hi) != 1)
		return 0.0f;
	return lo == 0.0f && hi > 0.0f && isfinite(hi) ? hi : 0.0f;
}

/* Constant v (read by nobody else) now holds data (taken over) of shape s. */
static void refill(Graph *g, int v, const Shape *s, void *data)
{
	free(g->values[v].data);
	g->values[v].data = data;
	g->values[v].shape = *s;
}

/* Makes rows (C x words i64, taken over) and scales (C floats, taken over) constants and
 * node i's packed operands; a node packed before (IR read back) gets its constants
 * refilled, so that pack is idempotent. */
static void attach_packed(Graph *g, int i, uint64_t *rows, float *scales, int64_t C,
                          int64_t words)
{
	const char *w = g->values[g->nodes[i].in[1]].name;
	Shape sr = {2, {C, words}}, ss = {1, {C}};
	const Node *old = &g->nodes[i];
	if (ir_is_packed(old) && ir_value_uses(g, old->in[IR_IN_PACKED]) == 1 &&
	    ir_value_uses(g, old->in[IR_IN_SCALES]) == 1) {
		refill(g, old->in[IR_IN_PACKED], &sr, rows);
		refill(g, old->in[IR_IN_SCALES], &ss, scales);
		return;
	}
	const char *nr = ir_fresh_name(g, arena_printf(&g->arena, "%s.packed", w));
	int vr = ir_const_add(g, nr, DT_INT64, &sr, rows);
	const char *ns = ir_fresh_name(g, arena_printf(&g->arena, "%s.scales", w));
	int vs = ir_const_add(g, ns, DT_FLOAT, &ss, scales);
	Node *n = &g->nodes[i];
	int *in = arena_alloc(&g->arena, sizeof(int) * IR_PACKED_NIN);
	for (int j = 0; j < IR_PACKED_NIN; j++)
		in[j] = j < ir_onnx_nin(n) ? n->in[j] : -1;
	in[IR_IN_PACKED] = vr;
	in[IR_IN_SCALES] = vs;
	n->in = in;
	n->nin = IR_PACKED_NIN;
}

int pass_pack(Graph *g, const PassEnv *env, Diag *d)
{
	const PassTarget *t = env && env->target ? env->target : pass_target_find(NULL, NULL);
	int fused = 0;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (n->dead || (n->op != OP_CONV && n->op != OP_GEMM && n->op != OP_MATMUL) ||
		    n->nout != 1 || n->out[0] < 0)
			continue;
		int r = sole_reader(g, n->out[0]);
		/* Clip(0, hi) (ReLU6) only into float Conv layers: their epilogue has the bound */
		float hi = r >= 0 && n->op == OP_CONV && ir_dec_i(n, SQCA_BITS) >= 32
		           ? relu6_bound(g, &g->nodes[r]) : 0.0f;
		if (r < 0 || (g->nodes[r].op != OP_RELU && hi == 0.0f))
			continue;
		int y = g->nodes[r].out[0];
		g->nodes[r].dead = 1;
		n->out[0] = y;
		g->values[y].producer = i;
		ir_dec_set_i(g, i, SQCA_RELU, 1);
		if (hi > 0.0f)
			ir_dec_set_f(g, i, SQCA_CLIP, hi);
		fused = 1;
	}
	if (fused)
		ir_graph_compact(g);
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (!pack_is_layer(g, n))
			continue;
		int bits = (int)ir_dec_i(n, SQCA_BITS);
		if (bits >= 32) {
			ir_kernel_set(g, i, SQK_F32);
			continue;
		}
		if (bits != 1 && bits != 2)
			return diag_error(d, n->name, "sqc.bits=%d: expected 1 or 2", bits);
		uint64_t *rows;
		float *scales;
		int64_t C, per;
		if (pack_weights(g, n, &rows, &scales, &C, &per, d))
			return -1;
		float alpha = n->op == OP_GEMM ? ir_attr_f(n, "alpha", 1.0f) : 1.0f;
		for (int64_t c = 0; c < C; c++)
			scales[c] *= alpha;
		attach_packed(g, i, rows, scales, C, (bits == 1 ? 1 : 2) * pack_kwords(per));
		n = &g->nodes[i];
		int act = (int)ir_dec_i(n, SQCA_ACT_BITS);
		int64_t np = ir_shape_numel(&g->values[n->out[0]].shape) / (C ? C : 1);
		const Value *wv = &g->values[n->in[1]];
		int64_t cg = n->op == OP_CONV && wv->shape.rank >= 2 ? wv->shape.d[1] : per;
		ir_kernel_set(g, i, act < 32 ? t->qkernel(bits, act, per, cg, np) : SQK_SIGNSELECT);
		int64_t bytes = C * (bits == 1 ? 1 : 2) * pack_kwords(per) * 8 + 4 * C;
		if (n->nin > 2 && n->in[2] >= 0)
			bytes += 4 * C;
		ir_dec_set_i(g, i, SQCA_PACKED_BYTES, bytes);
	}
	return 0;
}
