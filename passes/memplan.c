/* passes/memplan.c: memory planning for the native backend.
 *
 * pass_memplan. Requires: a toposorted graph with known shapes (after pack).
 * Establishes: every live node's first result that is neither a graph output (written to
 * the caller's output buffer) nor a constant carries `sqc.ws_offset`, its byte offset in
 * the one workspace the caller provides; other results (MaxPool indices, ...) must be
 * unread. Buffers are reused by liveness: a result is allocated when its node runs (its
 * inputs are still live then, so no kernel works in place) and freed after its last
 * reader; first fit over the free gaps, every buffer 64-byte aligned. The workspace also
 * holds one scratch area after the planned buffers, which the backend sizes per target.
 * memplan_size() gives the planned bytes (without scratch). A result over IR_MAX_ELEMS
 * elements, or a workspace over MAX_WORKSPACE bytes, is a user error (sizes stay far from
 * int64's limit, so the offsets' arithmetic cannot overflow). */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64
#define MAX_WORKSPACE ((int64_t)1 << 40)   /* 1 TiB */

typedef struct {
	int64_t off, size;
} Block;

/* Allocated blocks, sorted by offset. */
typedef struct {
	Block *b;
	int n, cap;
	int64_t high;
} Heap;

static int64_t heap_alloc(Heap *h, int64_t size)
{
	int64_t at = 0;
	int pos = 0;
	for (; pos < h->n; pos++) {
		if (h->b[pos].off - at >= size)
			break;
		at = h->b[pos].off + h->b[pos].size;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->b = xrealloc(h->b, sizeof(Block) * (size_t)h->cap);
	}
	memmove(h->b + pos + 1, h->b + pos, sizeof(Block) * (size_t)(h->n - pos));
	h->b[pos] = (Block){at, size};
	h->n++;
	if (at + size > h->high)
		h->high = at + size;
	return at;
}

static void heap_free(Heap *h, int64_t off)
{
	for (int i = 0; i < h->n; i++)
		if (h->b[i].off == off) {
			memmove(h->b + i, h->b + i + 1, sizeof(Block) * (size_t)(h->n - i - 1));
			h->n--;
			return;
		}
}

static int needs_buffer(const Graph *g, int v)
{
	const Value *x = &g->values[v];
	return !x->data && !x->is_output && !x->is_input;
}

int pass_memplan(Graph *g, const PassEnv *env, Diag *d)
{
	int nv = g->nvalues;
	int *last = xmalloc(sizeof(int) * (size_t)(nv ? nv : 1));
	int64_t *off = xmalloc(sizeof(int64_t) * (size_t)(nv ? nv : 1));
	for (int v = 0; v < nv; v++) {
		last[v] = -1;
		off[v] = -1;
	}
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] >= 0)
				last[n->in[j]] = i;
	}
	Heap h = {0};
	int rc = 0;
	for (int i = 0; i < g->nnodes && !rc; i++) {
		Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 1; j < n->nout; j++)
			if (n->out[j] >= 0 && last[n->out[j]] >= 0) {
				rc = diag_error(d, n->name, "the backend computes only the first result of "
				                "%s, but '%s' is read", ir_op_name(n->op),
				                g->values[n->out[j]].name);
				break;
			}
		int v = n->nout ? n->out[0] : -1;
		if (!rc && v >= 0 && needs_buffer(g, v)) {
			const Value *x = &g->values[v];
			if (ir_check_elems(ir_shape_numel(&x->shape), x->name, d, n->name)) {
				rc = -1;
				break;
			}
			int64_t size = ((int64_t)ir_value_nbytes(x) + ALIGN - 1) / ALIGN * ALIGN;
			off[v] = heap_alloc(&h, size ? size : ALIGN);
			if (h.high > MAX_WORKSPACE) {
				rc = diag_error(d, n->name, "the workspace would need %lld bytes (limit "
				                "%lld)", (long long)h.high, (long long)MAX_WORKSPACE);
				break;
			}
			ir_dec_set_i(g, i, SQCA_WS_OFFSET, off[v]);
			n = &g->nodes[i];
			if (last[v] < 0) /* nobody reads it */
				heap_free(&h, off[v]);
		}
		for (int j = 0; j < n->nin; j++) {
			int u = n->in[j];
			if (u >= 0 && last[u] == i && off[u] >= 0) {
				heap_free(&h, off[u]);
				off[u] = -1;
				last[u] = -2; /* freed once even if read twice by this node */
			}
		}
	}
	free(h.b);
	free(last);
	free(off);
	return rc;
}

int64_t memplan_size(const Graph *g)
{
	int64_t high = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		int64_t o = ir_dec_i(n, SQCA_WS_OFFSET);
		if (n->dead || o < 0)
			continue;
		int64_t size = ((int64_t)ir_value_nbytes(&g->values[n->out[0]]) + ALIGN - 1) / ALIGN * ALIGN;
		if (o + size > high)
			high = o + size;
	}
	return high;
}
