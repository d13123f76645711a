/* passes/simplify.c: removes Identity and inference-mode Dropout.
 * Requires: shapes known. Establishes: no Identity node; no Dropout whose mask is unused.
 * (A Dropout whose mask output is read stays: the interpreter gives an all-true mask.) */
#include "passes.h"

int pass_simplify(Graph *g, const PassEnv *env, Diag *d)
{
	(void)d;
	for (int i = 0; i < g->nnodes; i++) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
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
