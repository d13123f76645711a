/* passes/fold.c: constant folding.
 * Requires: pass_shape has run (shapes may still be unknown where they depend on a shape
 * operand computed in the graph, e.g. PyTorch's Shape->Gather->Unsqueeze->Concat->Reshape).
 * Establishes: no node whose operands are all constant remains (nor Shape of a value of
 * known shape); every value has a known shape, else a diagnostic names the node.
 * Nodes are visited in topological order, so a folded constant is seen by its readers in
 * the same sweep, and their shapes are inferred again once their operands are known. */
#include "passes.h"

#include "../runtime/rt.h"

#include <stdlib.h>

static int foldable(const Graph *g, const Node *n)
{
	if (n->op == OP_SHAPE)
		return g->values[n->in[0]].shape.rank >= 0;
	int any = 0;
	for (int j = 0; j < n->nin; j++) {
		if (n->in[j] < 0)
			continue;
		if (!g->values[n->in[j]].data)
			return 0;
		any = 1;
	}
	return any;
}

static int outputs_known(const Graph *g, const Node *n)
{
	for (int j = 0; j < n->nout; j++)
		if (n->out[j] >= 0 && g->values[n->out[j]].shape.rank < 0)
			return 0;
	return 1;
}

int pass_fold(Graph *g, const PassEnv *env, Diag *d)
{
	RtOptions ro = {.use_fast = 1};
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		if (!outputs_known(g, n)) {
			int r = shape_node(g, i, d);
			if (r < 0)
				return -1;
			if (r > 0)
				continue; /* reported below if it stays unknown */
		}
		if (!foldable(g, n))
			continue;
		const void *ins[72];
		void *outs[8];
		for (int j = 0; j < n->nin; j++)
			ins[j] = n->in[j] >= 0 ? g->values[n->in[j]].data : NULL;
		for (int j = 0; j < n->nout; j++) {
			outs[j] = NULL;
			if (n->out[j] >= 0) {
				size_t nb = ir_value_nbytes(&g->values[n->out[j]]);
				outs[j] = xcalloc(nb ? nb : 1, 1);
			}
		}
		int rc = rt_exec_node(g, n, ins, outs, &ro, d);
		for (int j = 0; j < n->nout; j++) {
			if (n->out[j] < 0)
				continue;
			if (rc) {
				free(outs[j]);
				continue;
			}
			Value *v = &g->values[n->out[j]];
			v->data = outs[j];
			v->producer = -1;
		}
		if (rc)
			return -1;
		n->dead = 1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (!n->dead && !outputs_known(g, n))
			return diag_error(d, n->name, "cannot infer the shape of %s's result: it depends "
			                  "on data computed at run time", ir_op_name(n->op));
	}
	ir_graph_compact(g);
	return 0;
}
