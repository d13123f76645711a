/* ir/verify.c: structural invariants of a graph (run after every pass in debug builds).
 * A failure here is a compiler bug, but it is reported through the Diag so that the
 * driver can show the offending node before aborting. */
#include "ir.h"

#include <stdlib.h>

int ir_verify(const Graph *g, Diag *d)
{
	int rc = 0;
	/* seen[v]: 1 once v is defined (input, constant, or produced by an earlier node) */
	char *seen = xcalloc((size_t)(g->nvalues ? g->nvalues : 1), 1);
	for (int v = 0; v < g->nvalues; v++) {
		if (g->values[v].data || g->values[v].is_input)
			seen[v] = 1;
		if (g->values[v].data && g->values[v].producer >= 0 && !g->nodes[g->values[v].producer].dead) {
			rc = diag_error(d, NULL, "verify: constant %%%s has a producer", g->values[v].name);
			goto out;
		}
	}
	for (int i = 0; i < g->ninputs; i++)
		if (g->inputs[i] < 0 || g->inputs[i] >= g->nvalues || !g->values[g->inputs[i]].is_input) {
			rc = diag_error(d, NULL, "verify: graph input %d is not an input value", i);
			goto out;
		}
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		if ((unsigned)n->op >= OP_COUNT) {
			rc = diag_error(d, n->name, "verify: op %d out of range", (int)n->op);
			goto out;
		}
		const OpInfo *oi = &ir_ops[n->op];
		int nin = ir_onnx_nin(n), packed = ir_is_packed(n);
		if (nin < oi->min_in || nin > oi->max_in ||
		    n->nout < oi->min_out || n->nout > oi->max_out) {
			rc = diag_error(d, n->name, "verify: %s has %d operands and %d results",
			                ir_op_name(n->op), n->nin, n->nout);
			goto out;
		}
		for (int j = 0; j < n->nin; j++) {
			int v = n->in[j];
			if (v == -1 && j >= oi->min_in && j < nin)
				continue;
			if (v < 0 || v >= g->nvalues || !seen[v]) {
				rc = diag_error(d, n->name, "verify: operand %d is %s", j,
				                v < 0 || v >= g->nvalues ? "out of range" : "not defined before use");
				goto out;
			}
			if (j >= oi->max_in && j < nin) {
				rc = diag_error(d, n->name, "verify: operand %d of a packed %s is not absent",
				                j, ir_op_name(n->op));
				goto out;
			}
			/* packed operands: constants, i64 rows then f32 scales */
			if (packed && j >= nin && (!g->values[v].data || g->values[v].dtype !=
			                          (j == IR_IN_PACKED ? DT_INT64 : DT_FLOAT))) {
				rc = diag_error(d, n->name, "verify: packed operand %d is not a %s constant",
				                j, j == IR_IN_PACKED ? "i64" : "f32");
				goto out;
			}
		}
		for (int j = 0; j < n->nout; j++) {
			int v = n->out[j];
			if (v == -1 && j > 0)
				continue;
			if (v < 0 || v >= g->nvalues || seen[v] || g->values[v].producer != i) {
				rc = diag_error(d, n->name, "verify: result %d is defined twice or not linked", j);
				goto out;
			}
			seen[v] = 1;
		}
	}
	for (int i = 0; i < g->noutputs; i++) {
		int v = g->outputs[i];
		if (v < 0 || v >= g->nvalues || !seen[v]) {
			rc = diag_error(d, NULL, "verify: graph output %d is not defined", i);
			goto out;
		}
	}
out:
	free(seen);
	return rc;
}
