/* passes/simplify.c: removes Identity and inference-mode Dropout; crops Conv kernels to the
 * taps that ever read the input.
 * Requires: shapes known, Conv attributes explicit (pass shape). Establishes: no Identity
 * node; no Dropout whose mask is unused (a Dropout whose mask output is read stays: the
 * interpreter gives an all-true mask); no Conv with constant weights has a kernel row or
 * column whose taps read only padding at every output position (small images through
 * deep layers: 3x3 kernels on a 1x1 map read their centre tap only). Cropping keeps the
 * output exactly (the dropped taps multiplied zeros), makes the weights and the work
 * smaller (ResNet-18 at 32x32: 9x fewer weights read in its last stage), and is skipped
 * when a dropped weight is not finite (Inf * 0 must stay NaN) or new pads would be
 * negative. */
#include "passes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The live taps [*r0, *r1] of one spatial axis: tap r reads input rows r*d - pb + o*s for
 * outputs o in [0, out); live when that range meets [0, in). 0 if none is live. */
static int live_taps(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pb,
                     int64_t *r0, int64_t *r1)
{
	*r0 = -1, *r1 = -1;
	for (int64_t r = 0; r < k; r++) {
		int64_t lo = r * d - pb, hi = (out - 1) * s + r * d - pb;
		if (hi >= 0 && lo <= in - 1) {
			if (*r0 < 0)
				*r0 = r;
			*r1 = r;
		}
	}
	return *r0 >= 0;
}

static void crop_conv(Graph *g, int ni)
{
	const Node *n = &g->nodes[ni];
	if (n->nin < 2 || n->in[1] < 0)
		return;
	const Value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]];
	const Value *y = &g->values[n->out[0]];
	int nsp = w->shape.rank - 2;
	if (!w->data || w->dtype != DT_FLOAT || nsp < 1 || nsp > 3 || x->shape.rank != nsp + 2 ||
	    y->shape.rank != nsp + 2)
		return;
	int64_t k[3], s[3], d[3], pads[6], r0[3], r1[3], nk[3];
	if (ir_attr_ints(n, "kernel_shape", k, 3) != nsp || ir_attr_ints(n, "strides", s, 3) != nsp ||
	    ir_attr_ints(n, "dilations", d, 3) != nsp || ir_attr_ints(n, "pads", pads, 6) != 2 * nsp)
		return;
	int crop = 0;
	for (int i = 0; i < nsp; i++) {
		int64_t in = x->shape.d[2 + i], out = y->shape.d[2 + i];
		if (k[i] != w->shape.d[2 + i] || in <= 0 || out <= 0 || s[i] <= 0 || d[i] <= 0 ||
		    !live_taps(in, out, k[i], s[i], d[i], pads[i], &r0[i], &r1[i]))
			return;
		nk[i] = r1[i] - r0[i] + 1;
		int64_t pb = pads[i] - r0[i] * d[i], pe = pads[nsp + i] - (k[i] - 1 - r1[i]) * d[i];
		if (pb < 0 || pe < 0 || (in + pb + pe - (nk[i] - 1) * d[i] - 1) / s[i] + 1 != out)
			return;
		crop |= nk[i] != k[i];
	}
	if (!crop)
		return;
	/* the kept weights [m][cg][nk...], after checking the dropped ones are finite */
	int64_t rows = w->shape.d[0] * w->shape.d[1], kin = 1, kout = 1;
	for (int i = 0; i < nsp; i++)
		kin *= k[i], kout *= nk[i];
	const float *src = w->data;
	float *dst = xmalloc(sizeof(float) * (size_t)(rows * kout));
	int64_t o = 0;
	for (int64_t r = 0; r < rows; r++)
		for (int64_t t = 0; t < kin; t++) {
			int64_t rem = t, keep = 1;
			for (int i = nsp - 1; i >= 0; i--) {
				int64_t c = rem % k[i];
				rem /= k[i];
				keep &= c >= r0[i] && c <= r1[i];
			}
			float v = src[r * kin + t];
			if (keep)
				dst[o++] = v;
			else if (!isfinite(v)) {
				free(dst);
				return;
			}
		}
	Shape ws = w->shape;
	for (int i = 0; i < nsp; i++) {
		ws.d[2 + i] = nk[i];
		pads[i] -= r0[i] * d[i];
		pads[nsp + i] -= (k[i] - 1 - r1[i]) * d[i];
	}
	char *nm = arena_printf(&g->arena, "%s_cropped", w->name);
	int nw = ir_const_add(g, ir_fresh_name(g, nm), DT_FLOAT, &ws, dst);
	g->nodes[ni].in[1] = nw;
	ir_attr_set_ints(g, ni, "kernel_shape", nk, nsp);
	ir_attr_set_ints(g, ni, "pads", pads, 2 * nsp);
}

int pass_simplify(Graph *g, const PassEnv *env, Diag *d)
{
	(void)d, (void)env;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		if (n->op == OP_CONV) {
			crop_conv(g, i);
			continue;
		}
		if (n->op == OP_DROPOUT && n->nout > 1 && n->out[1] >= 0 &&
		    ir_value_uses(g, n->out[1]) > 0)
			continue;
		if (n->op != OP_IDENTITY && n->op != OP_DROPOUT)
			continue;
		int from = n->out[0], to = n->in[0];
		/* a graph input that is also read as a graph output through Identity keeps the node:
		 * the two names must both survive */
		if (g->values[from].is_output && (g->values[to].is_input || g->values[to].is_output ||
		                                  g->values[to].data))
			continue;
		n->dead = 1;
		ir_replace_uses(g, from, to);
	}
	ir_graph_compact(g);
	return 0;
}
