/* ir/graph.c: building, querying and rewriting graphs. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

Graph *ir_graph_new(const char *name)
{
	Graph *g = xcalloc(1, sizeof *g);
	g->name = arena_strdup(&g->arena, name ? name : "main");
	g->opset = 13;
	return g;
}

void ir_graph_free(Graph *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->nvalues; i++)
		free(g->values[i].data);
	free(g->values);
	free(g->nodes);
	free(g->inputs);
	free(g->outputs);
	arena_free(&g->arena);
	free(g);
}

int ir_value_add(Graph *g, const char *name, DType t, const Shape *s)
{
	if (g->nvalues == g->capvalues) {
		g->capvalues = g->capvalues ? 2 * g->capvalues : 64;
		g->values = xrealloc(g->values, (size_t)g->capvalues * sizeof *g->values);
	}
	int id = g->nvalues++;
	Value *v = &g->values[id];
	memset(v, 0, sizeof *v);
	v->name = name ? arena_strdup(&g->arena, name) : arena_printf(&g->arena, "t%d", id);
	v->dtype = t;
	if (s)
		v->shape = *s;
	else
		v->shape.rank = -1;
	v->producer = -1;
	return id;
}

int ir_value_find(const Graph *g, const char *name)
{
	for (int i = g->nvalues - 1; i >= 0; i--)
		if (!strcmp(g->values[i].name, name))
			return i;
	return -1;
}

int ir_const_add(Graph *g, const char *name, DType t, const Shape *s, void *data)
{
	int id = ir_value_add(g, name, t, s);
	g->values[id].data = data;
	return id;
}

size_t ir_value_nbytes(const Value *v)
{
	int64_t n = ir_shape_numel(&v->shape);
	size_t es = ir_dtype_size(v->dtype);
	if (n < 0 || !es || (uint64_t)n > SIZE_MAX / es)
		return 0;
	return (size_t)n * es;
}

int ir_node_add(Graph *g, Op op, const char *name, const int *in, int nin, const int *out,
                int nout)
{
	if (g->nnodes == g->capnodes) {
		g->capnodes = g->capnodes ? 2 * g->capnodes : 64;
		g->nodes = xrealloc(g->nodes, (size_t)g->capnodes * sizeof *g->nodes);
	}
	int id = g->nnodes++;
	Node *n = &g->nodes[id];
	memset(n, 0, sizeof *n);
	n->op = op;
	n->name = name && *name ? arena_strdup(&g->arena, name)
	                        : arena_printf(&g->arena, "%s_%d", ir_op_name(op), id);
	n->nin = nin;
	n->nout = nout;
	n->in = arena_alloc(&g->arena, sizeof(int) * (size_t)(nin ? nin : 1));
	n->out = arena_alloc(&g->arena, sizeof(int) * (size_t)(nout ? nout : 1));
	if (nin)
		memcpy(n->in, in, sizeof(int) * (size_t)nin);
	if (nout)
		memcpy(n->out, out, sizeof(int) * (size_t)nout);
	for (int i = 0; i < nout; i++)
		if (out[i] >= 0)
			g->values[out[i]].producer = id;
	return id;
}

/* ---- attributes ---- */

static Attr *attr_slot(Graph *g, int node, const char *name)
{
	Node *n = &g->nodes[node];
	for (int i = 0; i < n->nattr; i++)
		if (!strcmp(n->attrs[i].name, name)) {
			memset(&n->attrs[i], 0, sizeof(Attr));
			n->attrs[i].name = arena_strdup(&g->arena, name);
			return &n->attrs[i];
		}
	Attr *a = arena_alloc(&g->arena, sizeof(Attr) * (size_t)(n->nattr + 1));
	if (n->nattr)
		memcpy(a, n->attrs, sizeof(Attr) * (size_t)n->nattr);
	n->attrs = a;
	Attr *s = &a[n->nattr++];
	s->name = arena_strdup(&g->arena, name);
	return s;
}

void ir_attr_set_i(Graph *g, int node, const char *name, int64_t v)
{
	Attr *a = attr_slot(g, node, name);
	a->kind = AT_INT;
	a->i = v;
}

void ir_attr_set_f(Graph *g, int node, const char *name, float v)
{
	Attr *a = attr_slot(g, node, name);
	a->kind = AT_FLOAT;
	a->f = v;
}

void ir_attr_set_s(Graph *g, int node, const char *name, const char *v)
{
	Attr *a = attr_slot(g, node, name);
	a->kind = AT_STRING;
	a->s = arena_strdup(&g->arena, v);
}

void ir_attr_set_ints(Graph *g, int node, const char *name, const int64_t *v, int n)
{
	Attr *a = attr_slot(g, node, name);
	a->kind = AT_INTS;
	a->n = n;
	a->ints = arena_alloc(&g->arena, sizeof(int64_t) * (size_t)(n ? n : 1));
	if (n)
		memcpy(a->ints, v, sizeof(int64_t) * (size_t)n);
}

void ir_attr_set_floats(Graph *g, int node, const char *name, const float *v, int n)
{
	Attr *a = attr_slot(g, node, name);
	a->kind = AT_FLOATS;
	a->n = n;
	a->floats = arena_alloc(&g->arena, sizeof(float) * (size_t)(n ? n : 1));
	if (n)
		memcpy(a->floats, v, sizeof(float) * (size_t)n);
}

const Attr *ir_attr_get(const Node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (!strcmp(n->attrs[i].name, name))
			return &n->attrs[i];
	return NULL;
}

int64_t ir_attr_i(const Node *n, const char *name, int64_t def)
{
	const Attr *a = ir_attr_get(n, name);
	if (!a)
		return def;
	return a->kind == AT_FLOAT ? (int64_t)a->f : a->i;
}

float ir_attr_f(const Node *n, const char *name, float def)
{
	const Attr *a = ir_attr_get(n, name);
	if (!a)
		return def;
	return a->kind == AT_INT ? (float)a->i : a->f;
}

const char *ir_attr_s(const Node *n, const char *name, const char *def)
{
	const Attr *a = ir_attr_get(n, name);
	return a && a->kind == AT_STRING ? a->s : def;
}

int ir_attr_ints(const Node *n, const char *name, int64_t *out, int max)
{
	const Attr *a = ir_attr_get(n, name);
	if (!a || a->kind != AT_INTS)
		return -1;
	for (int i = 0; i < a->n && i < max; i++)
		out[i] = a->ints[i];
	return a->n;
}

void ir_attr_remove(Node *n, const char *name)
{
	for (int i = 0; i < n->nattr; i++)
		if (!strcmp(n->attrs[i].name, name)) {
			memmove(&n->attrs[i], &n->attrs[i + 1], sizeof(Attr) * (size_t)(n->nattr - i - 1));
			n->nattr--;
			return;
		}
}

/* ---- uses and rewriting ---- */

int ir_value_uses(const Graph *g, int v)
{
	int k = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			k += n->in[j] == v;
	}
	for (int i = 0; i < g->noutputs; i++)
		k += g->outputs[i] == v;
	return k;
}

void ir_replace_uses(Graph *g, int from, int to)
{
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] == from)
				n->in[j] = to;
	}
	/* A graph output keeps its name: if `to` is not an output already, it takes over. */
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] == from) {
			g->outputs[i] = to;
			if (!g->values[to].is_output && !g->values[to].is_input) {
				const char *nm = g->values[from].name;
				g->values[from].name = g->values[to].name;
				g->values[to].name = nm;
			}
			g->values[to].is_output = 1;
			g->values[from].is_output = 0;
		}
}

void ir_graph_compact(Graph *g)
{
	/* live values: graph inputs/outputs and operands of live nodes */
	char *live = xcalloc((size_t)g->nvalues, 1);
	for (int i = 0; i < g->ninputs; i++)
		live[g->inputs[i]] = 1;
	for (int i = 0; i < g->noutputs; i++)
		live[g->outputs[i]] = 1;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] >= 0)
				live[n->in[j]] = 1;
		for (int j = 0; j < n->nout; j++)
			if (n->out[j] >= 0)
				live[n->out[j]] = 1;
	}
	int *map = xmalloc(sizeof(int) * (size_t)(g->nvalues ? g->nvalues : 1));
	int nv = 0;
	for (int i = 0; i < g->nvalues; i++) {
		if (live[i]) {
			map[i] = nv;
			g->values[nv++] = g->values[i];
		} else {
			free(g->values[i].data);
			map[i] = -1;
		}
	}
	g->nvalues = nv;
	int nn = 0;
	for (int i = 0; i < g->nnodes; i++) {
		if (g->nodes[i].dead)
			continue;
		Node *n = &g->nodes[nn];
		*n = g->nodes[i];
		for (int j = 0; j < n->nin; j++)
			n->in[j] = n->in[j] >= 0 ? map[n->in[j]] : -1;
		for (int j = 0; j < n->nout; j++) {
			n->out[j] = n->out[j] >= 0 ? map[n->out[j]] : -1;
			if (n->out[j] >= 0)
				g->values[n->out[j]].producer = nn;
		}
		nn++;
	}
	g->nnodes = nn;
	for (int i = 0; i < g->ninputs; i++)
		g->inputs[i] = map[g->inputs[i]];
	for (int i = 0; i < g->noutputs; i++)
		g->outputs[i] = map[g->outputs[i]];
	free(map);
	free(live);
}

int ir_graph_toposort(Graph *g, Diag *d)
{
	int nn = g->nnodes;
	if (!nn)
		return 0;
	/* Kahn's algorithm, stable: among ready nodes, the lowest original index first. */
	int *indeg = xcalloc((size_t)nn, sizeof(int));
	int *order = xmalloc(sizeof(int) * (size_t)nn);
	char *done = xcalloc((size_t)nn, 1);
	for (int i = 0; i < nn; i++)
		for (int j = 0; j < g->nodes[i].nin; j++) {
			int v = g->nodes[i].in[j];
			if (v >= 0 && g->values[v].producer >= 0)
				indeg[i]++;
		}
	int k = 0;
	while (k < nn) {
		int pick = -1;
		for (int i = 0; i < nn; i++)
			if (!done[i] && indeg[i] == 0) {
				pick = i;
				break;
			}
		if (pick < 0) {
			int bad = 0;
			while (done[bad])
				bad++;
			diag_error(d, g->nodes[bad].name, "the graph has a cycle through this node");
			free(indeg);
			free(order);
			free(done);
			return -1;
		}
		done[pick] = 1;
		order[k++] = pick;
		const Node *p = &g->nodes[pick];
		for (int o = 0; o < p->nout; o++) {
			int v = p->out[o];
			if (v < 0)
				continue;
			for (int i = 0; i < nn; i++)
				for (int j = 0; j < g->nodes[i].nin; j++)
					if (g->nodes[i].in[j] == v)
						indeg[i]--;
		}
	}
	Node *nodes = xmalloc(sizeof(Node) * (size_t)nn);
	int *newid = xmalloc(sizeof(int) * (size_t)nn);
	for (int i = 0; i < nn; i++) {
		nodes[i] = g->nodes[order[i]];
		newid[order[i]] = i;
	}
	memcpy(g->nodes, nodes, sizeof(Node) * (size_t)nn);
	for (int i = 0; i < g->nvalues; i++)
		if (g->values[i].producer >= 0)
			g->values[i].producer = newid[g->values[i].producer];
	free(nodes);
	free(newid);
	free(indeg);
	free(order);
	free(done);
	return 0;
}

Shape ir_rhs_shape(const Node *n, const Shape *a, const Shape *b)
{
	int64_t axis = ir_attr_i(n, "legacy_axis", -1);
	if (axis < 0 || b->rank < 0 || a->rank < 0 || axis + b->rank > a->rank)
		return *b;
	Shape s = {a->rank, {0}};
	for (int i = 0; i < a->rank; i++)
		s.d[i] = i >= axis && i < axis + b->rank ? b->d[i - axis] : 1;
	return s;
}

int ir_is_shape_operand(const Graph *g, int v)
{
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 1; j < n->nin; j++) {
			if (n->in[j] != v)
				continue;
			switch (n->op) {
			case OP_RESHAPE:
			case OP_SQUEEZE:
			case OP_UNSQUEEZE:
				return 1;
			case OP_PAD:
			case OP_DROPOUT:
				if (j != 2 || n->op == OP_DROPOUT)
					return 1;
				break;
			default:
				break;
			}
		}
	}
	return 0;
}

void ir_bind_input(Graph *g, int i, void *data)
{
	int v = g->inputs[i];
	g->values[v].is_input = 0;
	g->values[v].data = data;
	memmove(&g->inputs[i], &g->inputs[i + 1], sizeof(int) * (size_t)(g->ninputs - i - 1));
	g->ninputs--;
}

const char *ir_fresh_name(Graph *g, const char *base)
{
	if (ir_value_find(g, base) < 0)
		return arena_strdup(&g->arena, base);
	for (int i = 1;; i++) {
		char *nm = arena_printf(&g->arena, "%s.%d", base, i);
		if (ir_value_find(g, nm) < 0)
			return nm;
	}
}
