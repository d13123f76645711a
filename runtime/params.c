/* runtime/params.c: kernel parameter structs from IR nodes (after pass_shape). */
#include "rt.h"

#include <math.h>
#include <string.h>

static int ints_attr(const Node *n, const char *name, int64_t *out, int max)
{
	int k = ir_attr_ints(n, name, out, max);
	return k < 0 ? 0 : k;
}

void rt_conv_params(const Graph *g, const Node *n, RtConv *p)
{
	const Value *x = &g->values[n->in[0]], *w = &g->values[n->in[1]];
	const Value *y = &g->values[n->out[0]];
	memset(p, 0, sizeof *p);
	p->nsp = x->shape.rank - 2;
	p->n = x->shape.d[0];
	p->c = x->shape.d[1];
	p->m = w->shape.d[0];
	p->group = ir_attr_i(n, "group", 1);
	int64_t pads[2 * RT_MAX_SPATIAL] = {0};
	ints_attr(n, "strides", p->stride, RT_MAX_SPATIAL);
	ints_attr(n, "dilations", p->dil, RT_MAX_SPATIAL);
	ints_attr(n, "pads", pads, 2 * RT_MAX_SPATIAL);
	for (int i = 0; i < p->nsp; i++) {
		p->in[i] = x->shape.d[2 + i];
		p->out[i] = y->shape.d[2 + i];
		p->k[i] = w->shape.d[2 + i];
		p->pad_begin[i] = pads[i];
		if (!p->stride[i])
			p->stride[i] = 1;
		if (!p->dil[i])
			p->dil[i] = 1;
	}
}

void rt_gemm_params(const Graph *g, const Node *n, RtGemm *p)
{
	const Value *a = &g->values[n->in[0]], *y = &g->values[n->out[0]];
	memset(p, 0, sizeof *p);
	p->trans_a = (int)ir_attr_i(n, "transA", 0);
	p->trans_b = (int)ir_attr_i(n, "transB", 0);
	p->alpha = ir_attr_f(n, "alpha", 1.0f);
	p->beta = ir_attr_f(n, "beta", 1.0f);
	p->m = y->shape.d[0];
	p->n = y->shape.d[1];
	p->k = p->trans_a ? a->shape.d[0] : a->shape.d[1];
	if (n->nin > 2 && n->in[2] >= 0) {
		/* unidirectional broadcast of C to [M, N] */
		const Shape *cs = &g->values[n->in[2]].shape;
		int r = cs->rank;
		int64_t cm = r == 2 ? cs->d[0] : 1, cn = r >= 1 ? cs->d[r - 1] : 1;
		p->c_rs = cm == 1 ? 0 : cn;
		p->c_cs = cn == 1 ? 0 : 1;
	}
}

void rt_pool_params(const Graph *g, const Node *n, RtPool *p)
{
	const Value *x = &g->values[n->in[0]], *y = &g->values[n->out[0]];
	memset(p, 0, sizeof *p);
	p->nsp = x->shape.rank - 2;
	p->n = x->shape.d[0];
	p->c = x->shape.d[1];
	int64_t pads[2 * RT_MAX_SPATIAL] = {0};
	ints_attr(n, "kernel_shape", p->k, RT_MAX_SPATIAL);
	ints_attr(n, "strides", p->stride, RT_MAX_SPATIAL);
	ints_attr(n, "dilations", p->dil, RT_MAX_SPATIAL);
	ints_attr(n, "pads", pads, 2 * RT_MAX_SPATIAL);
	for (int i = 0; i < p->nsp; i++) {
		p->in[i] = x->shape.d[2 + i];
		p->out[i] = y->shape.d[2 + i];
		p->pad_begin[i] = pads[i];
		p->pad_end[i] = pads[p->nsp + i];
		if (!p->dil[i])
			p->dil[i] = 1;
		if (!p->stride[i])
			p->stride[i] = 1;
	}
	p->count_include_pad = (int)ir_attr_i(n, "count_include_pad", 0);
	p->storage_order = (int)ir_attr_i(n, "storage_order", 0);
}

void rt_softmax_dims(const Graph *g, const Node *n, int64_t *outer, int64_t *len,
                     int64_t *inner)
{
	const Shape *s = &g->values[n->in[0]].shape;
	int axis = (int)ir_attr_i(n, "axis", s->rank - 1);
	int coerce = (int)ir_attr_i(n, "coerce2d", 0);
	*outer = *len = *inner = 1;
	for (int i = 0; i < s->rank; i++) {
		if (i < axis)
			*outer *= s->d[i];
		else if (i == axis || coerce)
			*len *= s->d[i];
		else
			*inner *= s->d[i];
	}
}

int rt_unary_params(const Node *n, const float *lo, const float *hi, float *alpha, float *beta)
{
	static const struct {
		Op op;
		const char *an;
		float ad;
		const char *bn;
		float bd;
	} rows[RT_UNARY_COUNT] = {
#define X(e, an, ad, bn, bd) [RT_##e] = {OP_##e, an, ad, bn, bd},
		RT_UNARY_OPS(X)
#undef X
	};
	for (int u = 0; u < RT_UNARY_COUNT; u++) {
		if (rows[u].op != n->op)
			continue;
		*alpha = rows[u].an ? ir_attr_f(n, rows[u].an, rows[u].ad) : rows[u].ad;
		*beta = rows[u].bn ? ir_attr_f(n, rows[u].bn, rows[u].bd) : rows[u].bd;
		if (u == RT_CLIP) {
			*alpha = lo ? *lo : rows[u].ad;
			*beta = hi ? *hi : rows[u].bd;
		}
		return u;
	}
	return -1;
}
