/* passes/dce.c: dead-code elimination.
 * Establishes: every live node contributes to a graph output; unused values are dropped. */
#include "passes.h"

#include <stdlib.h>

int pass_dce(Graph *g, const PassEnv *env, Diag *d)
{
	(void)d;
	char *need = xcalloc((size_t)(g->nvalues ? g->nvalues : 1), 1);
	for (int i = 0; i < g->noutputs; i++)
		need[g->outputs[i]] = 1;
	/* nodes are in topological order: one backward sweep suffices */
	for (int i = g->nnodes - 1; i >= 0; i--) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		int live = 0;
		for (int j = 0; j < n->nout; j++)
			live |= n->out[j] >= 0 && need[n->out[j]];
		if (!live) {
			n->dead = 1;
			continue;
		}
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] >= 0)
				need[n->in[j]] = 1;
	}
	free(need);
	ir_graph_compact(g);
	return 0;
}
