/* runtime/interp.c: the reference interpreter.
 *
 * Requires a graph after pass_shape/pass_fold: every value has a known dtype and shape and
 * conv/pool attributes are explicit (passes/passes.h). One exec_* function per op,
 * dispatched through a table indexed by Op. Each reads operand data as given and writes
 * into preallocated result buffers.
 */
#include "fast.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const Graph *g;
	const Node *n;
	const void *const *in;
	void *const *out;
	const RtOptions *o;
	Diag *d;
	RtAct act;   /* activation fused into this node (fast paths only) */
} Exec;

typedef int ExecFn(Exec *e);

static const Value *IN(Exec *e, int i)
{
	return e->n->in[i] >= 0 ? &e->g->values[e->n->in[i]] : NULL;
}

static const Value *OUT(Exec *e, int i)
{
	return &e->g->values[e->n->out[i]];
}

static int64_t numel(const Value *v)
{
	return ir_shape_numel(&v->shape);
}

/* Reads an optional f32 scalar operand (Clip min/max). */
static float scalar_or(Exec *e, int i, float def)
{
	if (i >= e->n->nin || e->n->in[i] < 0 || !e->in[i])
		return def;
	return *(const float *)e->in[i];
}

static int ints_attr(const Node *n, const char *name, int64_t *out, int max)
{
	int k = ir_attr_ints(n, name, out, max);
	return k < 0 ? 0 : k;
}

/* ---- compute ops ---- */

static int exec_conv(Exec *e)
{
	RtConv p;
	rt_conv_params(e->g, e->n, &p);
	const float *b = e->n->nin > 2 ? e->in[2] : NULL;
	if (e->o && e->o->use_fast)
		rt_conv_fast_act(&p, e->in[0], e->in[1], b, e->out[0], e->act);
	else
		rt_conv_ref(&p, e->in[0], e->in[1], b, e->out[0]);
	return 0;
}

static int exec_gemm(Exec *e)
{
	RtGemm p;
	rt_gemm_params(e->g, e->n, &p);
	const float *c = e->n->nin > 2 ? e->in[2] : NULL;
	if (e->o && e->o->use_fast)
		rt_gemm_fast_act(&p, e->in[0], e->in[1], c, e->out[0], e->act);
	else
		rt_gemm_ref(&p, e->in[0], e->in[1], c, e->out[0]);
	return 0;
}

static int exec_matmul(Exec *e)
{
	if (e->o && e->o->use_fast)
		rt_matmul_fast(&IN(e, 0)->shape, e->in[0], &IN(e, 1)->shape, e->in[1],
		               &OUT(e, 0)->shape, e->out[0]);
	else
		rt_matmul_ref(&IN(e, 0)->shape, e->in[0], &IN(e, 1)->shape, e->in[1],
		              &OUT(e, 0)->shape, e->out[0]);
	return 0;
}

static int binary(Exec *e, RtBinary op)
{
	Shape sb = ir_rhs_shape(e->n, &IN(e, 0)->shape, &IN(e, 1)->shape);
	if (rt_binary_ref(op, IN(e, 0)->dtype, &IN(e, 0)->shape, e->in[0], &sb, e->in[1],
	                  &OUT(e, 0)->shape, e->out[0]))
		return diag_error(e->d, e->n->name, "integer division by zero");
	return 0;
}

static int exec_add(Exec *e) { return binary(e, RT_ADD); }
static int exec_sub(Exec *e) { return binary(e, RT_SUB); }
static int exec_mul(Exec *e) { return binary(e, RT_MUL); }
static int exec_div(Exec *e) { return binary(e, RT_DIV); }
static int exec_prelu(Exec *e) { return binary(e, RT_PRELU); }

/* Relu, LeakyRelu, Sigmoid, Tanh, HardSigmoid, Clip: rt.h's RT_UNARY_OPS. */
static int exec_unary(Exec *e)
{
	float lo = scalar_or(e, 1, -INFINITY), hi = scalar_or(e, 2, INFINITY), a, b;
	int op = rt_unary_params(e->n, &lo, &hi, &a, &b);
	assert(op >= 0);
	rt_unary_ref((RtUnary)op, a, b, e->in[0], e->out[0], numel(OUT(e, 0)));
	return 0;
}

static int softmax(Exec *e, int log)
{
	const Shape *s = &IN(e, 0)->shape;
	int axis = (int)ir_attr_i(e->n, "axis", s->rank - 1);
	int64_t outer = 1, len = 1, inner = 1;
	for (int i = 0; i < s->rank; i++) {
		if (i < axis)
			outer *= s->d[i];
		else if (i == axis || ir_attr_i(e->n, "coerce2d", 0))
			len *= s->d[i];
		else
			inner *= s->d[i];
	}
	rt_softmax_ref(e->in[0], e->out[0], outer, len, inner, log);
	return 0;
}

static int exec_softmax(Exec *e) { return softmax(e, 0); }
static int exec_logsoftmax(Exec *e) { return softmax(e, 1); }

static int exec_maxpool(Exec *e)
{
	RtPool p;
	rt_pool_params(e->g, e->n, &p);
	int64_t *idx = e->n->nout > 1 && e->n->out[1] >= 0 ? e->out[1] : NULL;
	if (e->o && e->o->use_fast && !idx)
		rt_maxpool_fast(&p, e->in[0], e->out[0]);
	else
		rt_maxpool_ref(&p, e->in[0], e->out[0], idx);
	return 0;
}

static int exec_averagepool(Exec *e)
{
	RtPool p;
	rt_pool_params(e->g, e->n, &p);
	rt_avgpool_ref(&p, e->in[0], e->out[0]);
	return 0;
}

static int global_pool(Exec *e, int is_max)
{
	const Shape *s = &IN(e, 0)->shape;
	int64_t sp = 1;
	for (int i = 2; i < s->rank; i++)
		sp *= s->d[i];
	rt_global_pool_ref(is_max, s->d[0], s->d[1], sp, e->in[0], e->out[0]);
	return 0;
}

static int exec_globalaveragepool(Exec *e) { return global_pool(e, 0); }
static int exec_globalmaxpool(Exec *e) { return global_pool(e, 1); }

static int exec_batchnormalization(Exec *e)
{
	const Shape *s = &IN(e, 0)->shape;
	int64_t sp = 1;
	for (int i = 2; i < s->rank; i++)
		sp *= s->d[i];
	rt_batchnorm_ref(s->d[0], s->rank > 1 ? s->d[1] : 1, sp, e->in[0], e->in[1], e->in[2],
	                 e->in[3], e->in[4], ir_attr_f(e->n, "epsilon", 1e-5f), e->out[0]);
	/* inference mode: optional running mean/var outputs pass the inputs through */
	for (int i = 1; i < e->n->nout; i++)
		if (e->n->out[i] >= 0)
			memcpy(e->out[i], e->in[2 + i], ir_value_nbytes(OUT(e, i)));
	return 0;
}

/* ---- data movement ---- */

/* Flatten, Reshape, Squeeze, Unsqueeze, Identity: same bytes, new shape. */
static int copy0(Exec *e)
{
	memcpy(e->out[0], e->in[0], ir_value_nbytes(OUT(e, 0)));
	return 0;
}

static int exec_dropout(Exec *e)
{
	copy0(e);
	if (e->n->nout > 1 && e->n->out[1] >= 0)
		memset(e->out[1], 1, ir_value_nbytes(OUT(e, 1))); /* mask: all kept */
	return 0;
}

static int exec_transpose(Exec *e)
{
	int64_t perm[IR_MAX_RANK];
	ints_attr(e->n, "perm", perm, IR_MAX_RANK);
	rt_transpose_ref(ir_dtype_size(IN(e, 0)->dtype), &IN(e, 0)->shape, perm, e->in[0],
	                 e->out[0]);
	return 0;
}

static int exec_concat(Exec *e)
{
	int n = e->n->nin;
	const Shape *ss[64];
	const void *xs[64];
	for (int i = 0; i < n; i++) {
		ss[i] = &IN(e, i)->shape;
		xs[i] = e->in[i];
	}
	rt_concat_ref(ir_dtype_size(OUT(e, 0)->dtype), n, ss, xs, (int)ir_attr_i(e->n, "axis", 0),
	              e->out[0]);
	return 0;
}

static int exec_pad(Exec *e)
{
	const Value *x = IN(e, 0);
	size_t es = ir_dtype_size(x->dtype);
	const char *mode = ir_attr_s(e->n, "mode", "constant");
	RtPadMode m = !strcmp(mode, "reflect") ? RT_PAD_REFLECT
	            : !strcmp(mode, "edge")    ? RT_PAD_EDGE
	                                       : RT_PAD_CONSTANT;
	unsigned char zero[8] = {0};
	const void *val = e->n->nin > 2 && e->in[2] ? e->in[2] : zero;
	rt_pad_ref(es, m, &x->shape, e->in[0], e->in[1], val, &OUT(e, 0)->shape, e->out[0]);
	return 0;
}

static int exec_shape(Exec *e)
{
	const Shape *s = &IN(e, 0)->shape;
	int64_t start = ir_attr_i(e->n, "start", 0), end = ir_attr_i(e->n, "end", s->rank);
	if (start < 0)
		start += s->rank;
	if (end < 0)
		end += s->rank;
	start = start < 0 ? 0 : start > s->rank ? s->rank : start;
	end = end < 0 ? 0 : end > s->rank ? s->rank : end;
	int64_t *o = e->out[0];
	for (int64_t i = start; i < end; i++)
		o[i - start] = s->d[i];
	return 0;
}

static int exec_gather(Exec *e)
{
	const Value *x = IN(e, 0), *iv = IN(e, 1);
	int64_t n = numel(iv);
	int64_t *idx = xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		idx[i] = iv->dtype == DT_INT32 ? ((const int32_t *)e->in[1])[i]
		                               : ((const int64_t *)e->in[1])[i];
	int rc = rt_gather_ref(ir_dtype_size(x->dtype), &x->shape, e->in[0],
	                       (int)ir_attr_i(e->n, "axis", 0), &iv->shape, idx, e->out[0]);
	free(idx);
	if (rc)
		return diag_error(e->d, e->n->name, "Gather index out of range");
	return 0;
}

static int exec_constant(Exec *e)
{
	return diag_error(e->d, e->n->name, "Constant nodes are folded at import");
}

/* One function per op, exec_<id> for each row of ops.def (a row without one is a compile
 * error); the ops that only move data share copy0. */
#define exec_relu exec_unary
#define exec_leakyrelu exec_unary
#define exec_sigmoid exec_unary
#define exec_tanh exec_unary
#define exec_hardsigmoid exec_unary
#define exec_clip exec_unary
#define exec_flatten copy0
#define exec_reshape copy0
#define exec_squeeze copy0
#define exec_unsqueeze copy0
#define exec_identity copy0
static ExecFn *const exec_fns[OP_COUNT] = {
#define X(e, id, ...) [OP_##e] = exec_##id,
#include "../ir/ops.def"
#undef X
};

/* A layer with 1/2-bit weights (sqc.bits, sqc.scales) and quantized activations: the
 * quantized semantics exactly as the compiled kernels (runtime/kernels/qconv.c) compute
 * them. The integer sums S = sum_j t_j u_j come from the float kernels run on integer
 * values (codes t in {-1,0,1}, activations u), which is exact while every partial sum
 * stays below 2^24; then y = fl(fl(fl(a_c * s) * S) + b_c), in that order (Gemm: a_c =
 * scale_c * alpha, b_c = C * beta), so interpreter and compiled code agree bit for bit
 * and a later layer's activation quantizer sees the same values. */
static int exec_qlayer(Exec *e, int qn, int qp, float s)
{
	const Node *n = e->n;
	const Value *x = IN(e, 0), *w = IN(e, 1), *y = OUT(e, 0);
	int nsa;
	const float *sa = ir_dec_floats(n, SQCA_SCALES, &nsa);
	int64_t nw = numel(w), C, K;
	int tb = n->op == OP_GEMM && ir_attr_i(n, "transB", 0);
	if (n->op == OP_CONV) {
		C = w->shape.d[0];
		K = nw / (C ? C : 1);
	} else if (w->shape.rank == 2) {
		C = tb ? w->shape.d[0] : w->shape.d[1];
		K = tb ? w->shape.d[1] : w->shape.d[0];
	} else {
		return diag_error(e->d, n->name, "quantized weights of rank %d", w->shape.rank);
	}
	if (!sa || (nsa != C && nsa != 1))
		return diag_error(e->d, n->name, "sqc.scales does not have one scale per channel");
	if ((double)K * (qn > qp ? qn : qp) >= 16777216.0)
		return diag_error(e->d, n->name, "%lld weights per channel at these activation bits "
		                  "overflow exact float sums", (long long)K);
	float *t = xmalloc(sizeof(float) * (size_t)(nw ? nw : 1));
	const float *wd = e->in[1];
	for (int64_t i = 0; i < nw; i++) {
		int64_t c = n->op == OP_CONV ? i / K : tb ? i / K : i % C;
		float a = sa[nsa == 1 ? 0 : c], v = wd[i];
		t[i] = v == 0.0f ? 0.0f : v == a ? 1.0f : v == -a ? -1.0f : NAN;
		if (isnan(t[i])) {
			free(t);
			return diag_error(e->d, n->name, "weight %lld is %g, not scale * {-1, 0, +1} "
			                  "(scale %g)", (long long)i, (double)v, (double)a);
		}
	}
	int64_t nx = numel(x), ny = numel(y);
	float *u = xmalloc(sizeof(float) * (size_t)(nx ? nx : 1));
	rt_act_codes_ref(e->in[0], u, nx, qn, qp, s);
	float *S = e->out[0];
	int fast = e->o && e->o->use_fast;
	const float *bias = NULL;
	int64_t c_rs = 0, c_cs = 0;
	float alpha = 1.0f, beta = 1.0f;
	if (n->op == OP_CONV) {
		RtConv p;
		rt_conv_params(e->g, n, &p);
		(fast ? rt_conv_fast : rt_conv_ref)(&p, u, t, NULL, S);
		bias = n->nin > 2 ? e->in[2] : NULL;
	} else if (n->op == OP_GEMM) {
		RtGemm p;
		rt_gemm_params(e->g, n, &p);
		alpha = p.alpha;
		beta = p.beta;
		c_rs = p.c_rs;
		c_cs = p.c_cs;
		p.alpha = 1.0f;
		p.beta = 0.0f;
		(fast ? rt_gemm_fast : rt_gemm_ref)(&p, u, t, NULL, S);
		bias = n->nin > 2 ? e->in[2] : NULL;
	} else {
		(fast ? rt_matmul_fast : rt_matmul_ref)(&x->shape, u, &w->shape, t, &y->shape, S);
	}
	/* y = (a_c * s) * S + b_c: channel c of element i is i / spatial % C (Conv) or
	 * i % C (Gemm, MatMul: the last dim) */
	int64_t yc = y->shape.d[0] * C, spatial = n->op == OP_CONV && yc ? ny / yc : 1;
	for (int64_t i = 0; i < ny; i++) {
		int64_t c = i / spatial % C, row = i / C;
		float a = sa[nsa == 1 ? 0 : c] * alpha;
		float b = !bias ? 0.0f : n->op == OP_CONV ? bias[c] : bias[row * c_rs + c * c_cs] * beta;
		float as = a * s;
		float v = as * S[i];
		v = v + b;
		S[i] = e->act == RT_ACT_RELU && v < 0.0f ? 0.0f : v;
	}
	free(u);
	free(t);
	return 0;
}

/* Runs e's node. A layer fine-tuned with quantized activations (attributes sqc.act_bits <
 * 32, sqc.act_step, sqc.act_signed, set by the sq pass) first quantizes its input with
 * rt_act_quant_ref: the same integers the trainer used and the backend computes with. */
static int exec_dispatch(Exec *e)
{
	int bits = (int)ir_dec_i(e->n, SQCA_ACT_BITS);
	if (bits >= 32 || e->n->nin < 1 || e->n->in[0] < 0)
		return exec_fns[e->n->op](e);
	const Value *x = &e->g->values[e->n->in[0]];
	int64_t nx = ir_shape_numel(&x->shape);
	int is_signed = (int)ir_dec_i(e->n, SQCA_ACT_SIGNED);
	float s = ir_dec_f(e->n, SQCA_ACT_STEP);
	if (x->dtype != DT_FLOAT || !(s > 0) || bits < 1)
		return diag_error(e->d, e->n->name, "bad activation quantization attributes");
	int qn = is_signed ? 1 << (bits - 1) : 0;
	int qp = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
	int wbits = (int)ir_dec_i(e->n, SQCA_BITS);
	if ((wbits == 1 || wbits == 2) && e->n->nin > 1 && e->n->in[1] >= 0 &&
	    e->g->values[e->n->in[1]].data && (e->n->op == OP_CONV || e->n->op == OP_GEMM ||
	                                       (e->n->op == OP_MATMUL && IN(e, 1)->shape.rank == 2)))
		return exec_qlayer(e, qn, qp, s);
	float *xq = xmalloc(sizeof(float) * (size_t)(nx ? nx : 1));
	rt_act_quant_ref(e->in[0], xq, nx, qn, qp, s);
	const void *ins[72];
	for (int j = 0; j < e->n->nin && j < 72; j++)
		ins[j] = e->in[j];
	ins[0] = xq;
	Exec q = *e;
	q.in = ins;
	int rc = exec_fns[e->n->op](&q);
	free(xq);
	return rc;
}

int rt_exec_node(const Graph *g, const Node *n, const void *const *ins, void *const *outs,
                 const RtOptions *o, Diag *d)
{
	Exec e = {g, n, ins, outs, o, d, RT_ACT_NONE};
	return exec_dispatch(&e);
}

/* With the fast paths, a Conv or Gemm whose result only a Relu reads computes the Relu in
 * its epilogue, writing the Relu's result; the Relu node is skipped. Sets fuse[i] to the
 * Relu's index for such a node i (else -1). */
static void plan_fusion(const Graph *g, int *fuse, int *skip)
{
	int nv = g->nvalues;
	int *readers = xcalloc((size_t)(nv ? nv : 1), sizeof(int));
	int *reader = xmalloc(sizeof(int) * (size_t)(nv ? nv : 1));
	for (int i = 0; i < g->nnodes; i++) {
		fuse[i] = -1;
		skip[i] = 0;
		if (g->nodes[i].dead)
			continue;
		for (int j = 0; j < g->nodes[i].nin; j++) {
			int v = g->nodes[i].in[j];
			if (v >= 0) {
				readers[v]++;
				reader[v] = i;
			}
		}
	}
	for (int i = 0; i < g->noutputs; i++)
		readers[g->outputs[i]] += 2; /* a graph output is kept */
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead || (n->op != OP_CONV && n->op != OP_GEMM) || n->nout != 1 || n->out[0] < 0)
			continue;
		int v = n->out[0];
		if (readers[v] != 1 || g->values[v].dtype != DT_FLOAT)
			continue;
		int j = reader[v];
		const Node *r = &g->nodes[j];
		if (r->op != OP_RELU || j <= i || r->nout != 1 || r->out[0] < 0 ||
		    ir_value_nbytes(&g->values[r->out[0]]) != ir_value_nbytes(&g->values[v]))
			continue;
		fuse[i] = j;
		skip[j] = 1;
	}
	free(readers);
	free(reader);
}

/* Buffers of one rt_run: a dead value's buffer goes to the free list, and later results
 * take the smallest free buffer that fits (and is not more than twice too big) before
 * anything new is allocated. */
typedef struct {
	void **ptr;
	size_t *cap;
	int n, max;
} BufPool;

static void *pool_get(BufPool *bp, size_t nb, size_t *cap)
{
	int best = -1;
	for (int i = 0; i < bp->n; i++)
		if (bp->cap[i] >= nb && bp->cap[i] / 2 <= nb &&
		    (best < 0 || bp->cap[i] < bp->cap[best]))
			best = i;
	if (best < 0) {
		*cap = nb ? nb : 1;
		return xmalloc(*cap);
	}
	void *p = bp->ptr[best];
	*cap = bp->cap[best];
	bp->n--;
	bp->ptr[best] = bp->ptr[bp->n];
	bp->cap[best] = bp->cap[bp->n];
	return p;
}

static void pool_put(BufPool *bp, void *p, size_t cap)
{
	if (bp->n == bp->max) {
		bp->max = bp->max ? 2 * bp->max : 16;
		bp->ptr = xrealloc(bp->ptr, sizeof *bp->ptr * (size_t)bp->max);
		bp->cap = xrealloc(bp->cap, sizeof *bp->cap * (size_t)bp->max);
	}
	bp->ptr[bp->n] = p;
	bp->cap[bp->n] = cap;
	bp->n++;
}

/* Buffers kept between runs: freeing a run's large buffers hands their pages back to the
 * system (glibc trims the heap), and the next batch pays a page fault for every 4 KiB it
 * writes, which cost 15% of an evaluation. The last run's buffers wait here for the next
 * one (at most KEEP_MAX of them and KEEP_BYTES in all); a run takes them all, so concurrent
 * runs stay correct (the second one allocates). */
#define KEEP_MAX 16
#define KEEP_BYTES ((size_t)1 << 30)
static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;
static void *keep_ptr[KEEP_MAX];
static size_t keep_cap[KEEP_MAX];
static int keep_n;

static void pool_take_kept(BufPool *bp)
{
	pthread_mutex_lock(&keep_mu);
	for (int i = 0; i < keep_n; i++)
		pool_put(bp, keep_ptr[i], keep_cap[i]);
	keep_n = 0;
	pthread_mutex_unlock(&keep_mu);
}

/* Keeps the largest buffers (within the bounds) and frees the rest. */
static void pool_release(BufPool *bp)
{
	pthread_mutex_lock(&keep_mu);
	size_t total = 0;
	for (int i = 0; i < keep_n; i++)
		total += keep_cap[i];
	while (bp->n > 0) {
		int big = 0;
		for (int i = 1; i < bp->n; i++)
			if (bp->cap[i] > bp->cap[big])
				big = i;
		void *p = bp->ptr[big];
		size_t c = bp->cap[big];
		bp->n--;
		bp->ptr[big] = bp->ptr[bp->n];
		bp->cap[big] = bp->cap[bp->n];
		if (keep_n < KEEP_MAX && total + c <= KEEP_BYTES) {
			keep_ptr[keep_n] = p;
			keep_cap[keep_n++] = c;
			total += c;
		} else {
			free(p);
		}
	}
	pthread_mutex_unlock(&keep_mu);
	free(bp->ptr);
	free(bp->cap);
}

int rt_run(const Graph *g, const void *const *inputs, void **outputs, const RtOptions *o,
           Diag *d)
{
	/* buf[v]: data of value v (constants point at Value.data; others are owned here).
	 * last[v]: index of the last node reading v, so buffers are freed as soon as dead. */
	int nv = g->nvalues;
	void **buf = xcalloc((size_t)(nv ? nv : 1), sizeof(void *));
	char *owned = xcalloc((size_t)(nv ? nv : 1), 1);
	int *last = xmalloc(sizeof(int) * (size_t)(nv ? nv : 1));
	size_t *cap = xcalloc((size_t)(nv ? nv : 1), sizeof(size_t));
	BufPool pool = {0};
	pool_take_kept(&pool);
	int rc = 0;
	for (int v = 0; v < nv; v++) {
		last[v] = -1;
		buf[v] = g->values[v].data;
	}
	for (int i = 0; i < g->nnodes; i++)
		for (int j = 0; j < g->nodes[i].nin; j++)
			if (g->nodes[i].in[j] >= 0)
				last[g->nodes[i].in[j]] = i;
	for (int i = 0; i < g->noutputs; i++)
		last[g->outputs[i]] = g->nnodes; /* kept to the end */
	for (int i = 0; i < g->ninputs; i++)
		buf[g->inputs[i]] = (void *)inputs[i];
	int nn = g->nnodes;
	int *fuse = xmalloc(sizeof(int) * (size_t)(nn ? nn : 1));
	int *skip = xmalloc(sizeof(int) * (size_t)(nn ? nn : 1));
	if (o && o->use_fast) {
		plan_fusion(g, fuse, skip);
	} else {
		for (int i = 0; i < nn; i++) {
			fuse[i] = -1;
			skip[i] = 0;
		}
	}
	const void *ins[72];
	void *outs[8];
	for (int i = 0; i < g->nnodes && !rc; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead || skip[i])
			continue;
		for (int j = 0; j < n->nin; j++)
			ins[j] = n->in[j] >= 0 ? buf[n->in[j]] : NULL;
		for (int j = 0; j < n->nout; j++) {
			int v = n->out[j];
			outs[j] = NULL;
			if (v < 0)
				continue;
			if (fuse[i] >= 0)
				v = g->nodes[fuse[i]].out[0]; /* the fused Relu's result */
			size_t nb = ir_value_nbytes(&g->values[v]);
			if (last[v] == g->nnodes) { /* a graph output: handed to the caller */
				cap[v] = nb ? nb : 1;
				buf[v] = outs[j] = xmalloc(cap[v]);
			} else {
				buf[v] = outs[j] = pool_get(&pool, nb, &cap[v]);
			}
			owned[v] = 1;
		}
		Exec e = {g, n, ins, outs, o, d, fuse[i] >= 0 ? RT_ACT_RELU : RT_ACT_NONE};
		rc = exec_dispatch(&e);
		for (int j = 0; j < n->nin; j++) {
			int v = n->in[j];
			if (v >= 0 && last[v] == i && owned[v]) {
				pool_put(&pool, buf[v], cap[v]);
				buf[v] = NULL;
				owned[v] = 0;
			}
		}
	}
	for (int i = 0; i < g->noutputs; i++) {
		int v = g->outputs[i];
		size_t nb = ir_value_nbytes(&g->values[v]);
		outputs[i] = NULL;
		if (rc)
			continue;
		if (owned[v]) { /* hand the buffer over */
			outputs[i] = buf[v];
			owned[v] = 0;
		} else { /* an input or a constant: copy */
			outputs[i] = xmalloc(nb ? nb : 1);
			if (nb)
				memcpy(outputs[i], buf[v], nb);
		}
	}
	for (int v = 0; v < nv; v++)
		if (owned[v])
			pool_put(&pool, buf[v], cap[v]);
	pool_release(&pool);
	free(cap);
	free(buf);
	free(owned);
	free(last);
	free(fuse);
	free(skip);
	return rc;
}
