/* backend/lower.c: the graph's glue in LLVM IR, one kernel call per node.
 *
 * Requires: the full pipeline with pack and memplan (sqc.kernel, the packed operands of
 * quantized layers, sqc.ws_offset), one float input and one float output, a batch of 1.
 * Each node becomes a call of a runtime/kernels function with a constant parameter struct
 * (a kernels.h struct filled by field name, made constant by params()), constant pointers
 * to its weights in read-only data, and pointers into the workspace; O3 later inlines and
 * specializes. */
#include "cg.h"
#include "../runtime/kernels/kernels.h"
#include "../runtime/rt.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static LLVMValueRef ci32(Cg *c, int64_t v)
{
	return LLVMConstInt(c->i32, (unsigned long long)v, 1);
}

static LLVMValueRef cf32(Cg *c, float v)
{
	return LLVMConstReal(c->f32, v);
}

/* ---- constant parameter structs ------------------------------------------------------ */

/* One field of a kernels.h parameter struct, expanded from its RTK_*_FIELDS list: where it
 * is in the host struct, its scalar kind (a field of another type is a compile error in
 * PF_KIND), how many scalars (n > 1: an array), and for a nested struct its own table. */
typedef enum { PF_END, PF_I32, PF_F32, PF_STRUCT } ParamKind;
typedef struct ParamField {
	ParamKind kind;
	size_t off;
	int n;
	const struct ParamField *sub;
} ParamField;

#define PF_KIND(lvalue) _Generic((lvalue), int32_t: PF_I32, float: PF_F32)
#define PF_X(type, name) {PF_KIND(((PF_T *)0)->name), offsetof(PF_T, name), 1, NULL},
#define PF_A(type, name, k) {PF_KIND(((PF_T *)0)->name[0]), offsetof(PF_T, name), k, NULL},
#define PF_S(type, name, fields) {PF_STRUCT, offsetof(PF_T, name), 1, pf_##type},

enum { PF_MAX = 64 };  /* scalars in the largest struct */
/* pf_T, the table of struct T with field list F (PF_T defined as T around it: the fields'
 * offsetof needs the struct's name, which the list does not pass). */
#define PF_TABLE(T, F)                                                                     \
	static const ParamField pf_##T[] = {F(PF_X, PF_A, PF_S){PF_END, 0, 0, NULL}};            \
	_Static_assert(sizeof(T) <= 4 * PF_MAX, #T " is larger than params() takes");
#define PF_T RtkConv
PF_TABLE(RtkConv, RTK_CONV_FIELDS)
#undef PF_T
#define PF_T RtkQConv
PF_TABLE(RtkQConv, RTK_QCONV_FIELDS)
#undef PF_T
#define PF_T RtkGemm
PF_TABLE(RtkGemm, RTK_GEMM_FIELDS)
#undef PF_T
#define PF_T RtkPool
PF_TABLE(RtkPool, RTK_POOL_FIELDS)
#undef PF_T
#define PF_T RtkBinary
PF_TABLE(RtkBinary, RTK_BINARY_FIELDS)
#undef PF_T
#define PF_T RtkRemap
PF_TABLE(RtkRemap, RTK_REMAP_FIELDS)
#undef PF_T

/* Appends the scalars of the struct at host (table f) to ty/v from index k; returns the
 * new count. Every scalar is 4 bytes, so the C layout has no padding and the flat LLVM
 * literal struct of the scalars in order is the C struct the kernels read (asserted). */
static int flatten(Cg *c, const ParamField *f, const char *host, size_t base, LLVMTypeRef *ty,
                   LLVMValueRef *v, int k)
{
	for (; f->kind != PF_END; f++)
		for (int i = 0; i < f->n; i++) {
			size_t off = base + f->off + 4 * (size_t)i;
			if (f->kind == PF_STRUCT) {
				k = flatten(c, f->sub, host, off, ty, v, k);
				continue;
			}
			assert(off == 4 * (size_t)k && k < PF_MAX);
			int32_t iv;
			float fv;
			memcpy(&iv, host + off, 4);
			memcpy(&fv, host + off, 4);
			ty[k] = f->kind == PF_I32 ? c->i32 : c->f32;
			v[k++] = f->kind == PF_I32 ? ci32(c, iv) : cf32(c, fv);
		}
	return k;
}

/* The constant global holding the kernels.h struct at host (described by f). */
static LLVMValueRef params_of(Cg *c, const ParamField *f, const void *host, size_t size)
{
	LLVMTypeRef ty[PF_MAX];
	LLVMValueRef v[PF_MAX];
	int n = flatten(c, f, host, 0, ty, v, 0);
	assert(4 * (size_t)n == size);
	(void)size;
	LLVMTypeRef st = LLVMStructTypeInContext(c->ctx, ty, (unsigned)n, 0);
	char name[32];
	snprintf(name, sizeof name, ".p%d", c->nglobals++);
	return cg_const_global(c, name, LLVMConstNamedStruct(st, v, (unsigned)n));
}

/* params(c, &s): s a filled kernels.h struct; its type picks the table. */
#define params(c, s)                                                                       \
	params_of(c, _Generic((s), RtkConv *: pf_RtkConv, RtkQConv *: pf_RtkQConv,              \
	                      RtkGemm *: pf_RtkGemm, RtkPool *: pf_RtkPool,                      \
	                      RtkBinary *: pf_RtkBinary, RtkRemap *: pf_RtkRemap),               \
	          s, sizeof *(s))

static LLVMValueRef ws_at(Cg *c, int64_t off)
{
	LLVMValueRef o = LLVMConstInt(c->i64, (unsigned long long)off, 0);
	return LLVMBuildGEP2(c->b, c->i8, c->ws, &o, 1, "");
}

/* ---- kernels that threads share ------------------------------------------------------
 *
 * A kernel K with K_units and K_part (kernels.h) is called as a task function,
 * NAME.task.N(ctx, i), that computes units [i*U/T, (i+1)*U/T) of U = K_units(p) with T
 * tasks: the body runs K_prep (if K has scratch), then the app's parallel-for over T tasks,
 * or task 0 itself when T = 1 (NAME_run). Constant arguments (parameters, weights) are
 * used in the task as they are, so it is specialized like a direct call; the others
 * (pointers into the input, output or workspace) travel in the task context, one struct
 * on the body's stack. Scratch: the shared part at the end of the planned workspace,
 * then T private parts of the largest K_priv each. */
enum { TCTX_T, TCTX_PSTRIDE, TCTX_PBASE, TCTX_SHARED, TCTX_ARGS, TCTX_NARGS = 8 };

static LLVMValueRef umin(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntULT, a, b, ""), a, b, "");
}

static LLVMValueRef umax(Cg *c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntUGT, a, b, ""), a, b, "");
}

static LLVMValueRef tctx_field(Cg *c, LLVMValueRef ctx, unsigned i)
{
	return LLVMBuildStructGEP2(c->b, c->tctx_ty, ctx, i, "");
}

void cg_body_entry(Cg *c, LLVMValueRef par)
{
	LLVMTypeRef f[TCTX_ARGS + TCTX_NARGS] = {c->i64, c->i64};
	for (int i = TCTX_PBASE; i < TCTX_ARGS + TCTX_NARGS; i++)
		f[i] = c->ptr;
	c->tctx_ty = LLVMStructTypeInContext(c->ctx, f, TCTX_ARGS + TCTX_NARGS, 0);
	c->tctx = LLVMBuildAlloca(c->b, c->tctx_ty, "tctx");
	c->shared = ws_at(c, c->plan);
	LLVMValueRef shmax = LLVMBuildCall2(c->b, LLVMGlobalGetValueType(c->fn_shmax), c->fn_shmax,
	                                    NULL, 0, "");
	c->pstride = LLVMBuildCall2(c->b, LLVMGlobalGetValueType(c->fn_pvmax), c->fn_pvmax, NULL,
	                            0, "");
	c->pbase = LLVMBuildGEP2(c->b, c->i8, c->shared, &shmax, 1, "");
	/* SqcParallel {parallel_for, pool, threads}: NULL, or a NULL parallel_for, is one
	 * thread; threads is clamped to [1, CG_MAX_THREADS] */
	LLVMTypeRef spf[3] = {c->ptr, c->ptr, c->i64};
	LLVMTypeRef sp = LLVMStructTypeInContext(c->ctx, spf, 3, 0);
	LLVMBasicBlockRef entry = LLVMGetInsertBlock(c->b);
	LLVMBasicBlockRef has = LLVMAppendBasicBlockInContext(c->ctx, c->fn_body, "par");
	LLVMBasicBlockRef go = LLVMAppendBasicBlockInContext(c->ctx, c->fn_body, "go");
	LLVMBuildCondBr(c->b, LLVMBuildIsNull(c->b, par, ""), go, has);
	LLVMPositionBuilderAtEnd(c->b, has);
	LLVMValueRef pf = LLVMBuildLoad2(c->b, c->ptr, LLVMBuildStructGEP2(c->b, sp, par, 0, ""), "");
	LLVMValueRef pool = LLVMBuildLoad2(c->b, c->ptr, LLVMBuildStructGEP2(c->b, sp, par, 1, ""), "");
	LLVMValueRef th = LLVMBuildLoad2(c->b, c->i64, LLVMBuildStructGEP2(c->b, sp, par, 2, ""), "");
	LLVMValueRef one = LLVMConstInt(c->i64, 1, 0);
	th = LLVMBuildSelect(c->b, LLVMBuildIsNull(c->b, pf, ""), one, th, "");
	th = umin(c, umax(c, th, one), LLVMConstInt(c->i64, CG_MAX_THREADS, 0));
	LLVMBuildBr(c->b, go);
	LLVMPositionBuilderAtEnd(c->b, go);
	LLVMValueRef v[3][2] = {{one, th}, {LLVMConstNull(c->ptr), pf}, {LLVMConstNull(c->ptr), pool}};
	LLVMValueRef *dst[3] = {&c->threads, &c->pfor, &c->pool};
	LLVMBasicBlockRef from[2] = {entry, has};
	for (int i = 0; i < 3; i++) {
		*dst[i] = LLVMBuildPhi(c->b, LLVMTypeOf(v[i][1]), "");
		LLVMAddIncoming(*dst[i], v[i], from, 2);
	}
}

static void add_scratch(Cg *c, const char *k, LLVMValueRef p)
{
	if (c->nscratch == c->capscratch) {
		c->capscratch = c->capscratch ? 2 * c->capscratch : 16;
		size_t n = sizeof(LLVMValueRef) * (size_t)c->capscratch;
		c->sc_shared = xrealloc(c->sc_shared, n);
		c->sc_priv = xrealloc(c->sc_priv, n);
		c->sc_arg = xrealloc(c->sc_arg, n);
	}
	char nm[64];
	snprintf(nm, sizeof nm, "%s_shared", k);
	c->sc_shared[c->nscratch] = cg_kernel(c, nm);
	snprintf(nm, sizeof nm, "%s_priv", k);
	c->sc_priv[c->nscratch] = cg_kernel(c, nm);
	c->sc_arg[c->nscratch++] = p;
}

/* Tasks pay for themselves only when they are long: the threads exchange the layer's input
 * and output through their caches (measured on VGG-7-small at 2 threads: layers of about
 * 20 us took 1.4x the CPU time when split in two), so a layer gets at most one task per
 * CG_TASK_US (or --min-task-us) of its estimated time, macs / rate (multiply-accumulates
 * per ns of its kernel, at the x86-64-v3 level: bench/kernels_speed.sh; the integer
 * kernels of wider levels count double; float layers of at most RTK_DOTMAX positions
 * stream their weights: 10). */
#define CG_TASK_US 20.0

static int64_t max_tasks(Cg *c, double macs, double rate, int wide)
{
	if (wide && strcmp(c->lv->name, "x86-64-v3") && strcmp(c->lv->name, "armv8-a"))
		rate *= 2;
	double t = macs / rate / (1000 * (c->o->min_task_us > 0 ? c->o->min_task_us : CG_TASK_US));
	return t < 1 ? 1 : t > CG_MAX_THREADS ? CG_MAX_THREADS : (int64_t)t;
}

/* K(args[0..n)) without its scratch argument, as described above, in at most `most`
 * tasks; args[0] is its constant parameter struct, args[1] its input. */
static void split_call(Cg *c, const char *k, LLVMValueRef *args, unsigned n, int64_t most)
{
	char nm[64];
	snprintf(nm, sizeof nm, "%s_shared", k);
	int scr = LLVMGetNamedFunction(c->mod, nm) != NULL;
	if (scr) {
		add_scratch(c, k, args[0]);
		snprintf(nm, sizeof nm, "%s_prep", k);
		LLVMValueRef a[3] = {args[0], args[1], c->shared};
		cg_call(c, nm, a, 3);
	}
	snprintf(nm, sizeof nm, "%s_units", k);
	LLVMValueRef one = LLVMConstInt(c->i64, 1, 0);
	LLVMValueRef T = umin(c, c->threads, cg_call(c, nm, args, 1));
	T = umax(c, umin(c, T, LLVMConstInt(c->i64, (unsigned long long)most, 0)), one);
	LLVMBuildStore(c->b, T, tctx_field(c, c->tctx, TCTX_T));
	LLVMBuildStore(c->b, c->pstride, tctx_field(c, c->tctx, TCTX_PSTRIDE));
	LLVMBuildStore(c->b, c->pbase, tctx_field(c, c->tctx, TCTX_PBASE));
	LLVMBuildStore(c->b, c->shared, tctx_field(c, c->tctx, TCTX_SHARED));
	unsigned nv = 0;
	for (unsigned j = 0; j < n; j++)
		if (!LLVMIsConstant(args[j])) {
			assert(nv < TCTX_NARGS && LLVMGetTypeKind(LLVMTypeOf(args[j])) == LLVMPointerTypeKind);
			LLVMBuildStore(c->b, args[j], tctx_field(c, c->tctx, TCTX_ARGS + nv++));
		}
	/* the task */
	char tn[128];
	snprintf(tn, sizeof tn, "%s.task.%d", c->o->name, c->ntasks++);
	LLVMTypeRef tp[2] = {c->ptr, c->i64};
	LLVMTypeRef tty = LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), tp, 2, 0);
	LLVMValueRef task = LLVMAddFunction(c->mod, tn, tty);
	LLVMSetLinkage(task, LLVMInternalLinkage);
	cg_noinline(c, task);
	/* the call: the app's parallel-for over T > 1 tasks, else task 0 */
	LLVMBasicBlockRef many = LLVMAppendBasicBlockInContext(c->ctx, c->fn_body, "many");
	LLVMBasicBlockRef single = LLVMAppendBasicBlockInContext(c->ctx, c->fn_body, "single");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, c->fn_body, "done");
	LLVMBuildCondBr(c->b, LLVMBuildICmp(c->b, LLVMIntUGT, T, one, ""), many, single);
	LLVMPositionBuilderAtEnd(c->b, many);
	LLVMTypeRef pft[4] = {c->ptr, c->ptr, c->ptr, c->i64};
	LLVMValueRef pa[4] = {c->pool, task, c->tctx, T};
	LLVMBuildCall2(c->b, LLVMFunctionType(LLVMVoidTypeInContext(c->ctx), pft, 4, 0), c->pfor,
	               pa, 4, "");
	LLVMBuildBr(c->b, done);
	LLVMPositionBuilderAtEnd(c->b, single);
	LLVMValueRef ta[2] = {c->tctx, LLVMConstInt(c->i64, 0, 0)};
	LLVMBuildCall2(c->b, tty, task, ta, 2, "");
	LLVMBuildBr(c->b, done);
	/* the task's body: its units, its private scratch, then K_part */
	LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, task, "entry"));
	LLVMValueRef ctx = LLVMGetParam(task, 0), i = LLVMGetParam(task, 1);
	LLVMValueRef a[TCTX_NARGS + 6];
	assert(n <= TCTX_NARGS + 2);
	nv = 0;
	for (unsigned j = 0; j < n; j++)
		a[j] = LLVMIsConstant(args[j]) ? args[j]
		       : LLVMBuildLoad2(c->b, c->ptr, tctx_field(c, ctx, TCTX_ARGS + nv++), "");
	LLVMValueRef tT = LLVMBuildLoad2(c->b, c->i64, tctx_field(c, ctx, TCTX_T), "");
	snprintf(nm, sizeof nm, "%s_units", k);
	LLVMValueRef U = cg_call(c, nm, args, 1);
	LLVMValueRef lo = LLVMBuildUDiv(c->b, LLVMBuildMul(c->b, i, U, ""), tT, "");
	LLVMValueRef hi = LLVMBuildUDiv(c->b, LLVMBuildMul(c->b, LLVMBuildAdd(c->b, i, one, ""), U, ""),
	                                tT, "");
	unsigned na = n;
	if (scr) {
		LLVMValueRef st = LLVMBuildLoad2(c->b, c->i64, tctx_field(c, ctx, TCTX_PSTRIDE), "");
		LLVMValueRef pb = LLVMBuildLoad2(c->b, c->ptr, tctx_field(c, ctx, TCTX_PBASE), "");
		LLVMValueRef off = LLVMBuildMul(c->b, i, st, "");
		a[na++] = LLVMBuildLoad2(c->b, c->ptr, tctx_field(c, ctx, TCTX_SHARED), "");
		a[na++] = LLVMBuildGEP2(c->b, c->i8, pb, &off, 1, "");
	}
	a[na++] = lo;
	a[na++] = hi;
	snprintf(nm, sizeof nm, "%s_part", k);
	cg_call(c, nm, a, na);
	LLVMBuildRetVoid(c->b);
	LLVMPositionBuilderAtEnd(c->b, done);
}

static LLVMValueRef fptr(Cg *c, LLVMValueRef base, int64_t floats)
{
	if (!floats)
		return base;
	LLVMValueRef o = LLVMConstInt(c->i64, (unsigned long long)floats, 0);
	return LLVMBuildGEP2(c->b, c->f32, base, &o, 1, "");
}

/* Where value v lives: the caller's input/output, read-only data, or the workspace. */
static LLVMValueRef buf(Cg *c, int v)
{
	const Graph *g = c->g;
	const Value *x = &g->values[v];
	if (x->is_input)
		return c->in;
	if (x->is_output)
		return c->out;
	if (x->data) {
		if (!c->cglobal[v])
			c->cglobal[v] = cg_const_bytes(c, x->name, x->data, ir_value_nbytes(x));
		return c->cglobal[v];
	}
	int p = x->producer;
	int64_t off = p >= 0 ? ir_dec_i(&g->nodes[p], SQCA_WS_OFFSET) : -1;
	if (off < 0) {
		diag_error(c->d, NULL, "internal error: value '%s' has no workspace offset", x->name);
		return NULL;
	}
	return ws_at(c, off);
}

static LLVMValueRef floats_global(Cg *c, const char *hint, const float *v, int64_t n)
{
	return cg_const_bytes(c, hint, v, sizeof(float) * (size_t)n);
}

static int64_t numel(const Cg *c, int v)
{
	return ir_shape_numel(&c->g->values[v].shape);
}

/* ---- Conv, Gemm, MatMul ------------------------------------------------------------ */

/* v as an int32 field; sets *big when it does not fit. */
static int32_t i32_of(int64_t v, int *big)
{
	*big |= v > INT32_MAX;
	return (int32_t)v;
}

/* Geometry of a 1-D or 2-D Conv at batch 1 in kernels.h's form. */
static int conv_geom(Cg *c, const Node *n, RtkConv *k)
{
	RtConv p;
	rt_conv_params(c->g, n, &p);
	if (p.n != 1 || p.nsp < 1 || p.nsp > 2)
		return diag_error(c->d, n->name, "the backend compiles 1-D and 2-D convolutions at "
		                  "batch 1 (this one: %d-D, batch %lld)", p.nsp, (long long)p.n);
	int two = p.nsp == 2, big = 0;
	*k = (RtkConv){.c = i32_of(p.c, &big), .h = two ? i32_of(p.in[0], &big) : 1,
	               .w = i32_of(p.in[two], &big), .m = i32_of(p.m, &big),
	               .oh = two ? i32_of(p.out[0], &big) : 1, .ow = i32_of(p.out[two], &big),
	               .kh = two ? i32_of(p.k[0], &big) : 1, .kw = i32_of(p.k[two], &big),
	               .sh = two ? i32_of(p.stride[0], &big) : 1, .sw = i32_of(p.stride[two], &big),
	               .dh = two ? i32_of(p.dil[0], &big) : 1, .dw = i32_of(p.dil[two], &big),
	               .pt = two ? i32_of(p.pad_begin[0], &big) : 0,
	               .pl = i32_of(p.pad_begin[two], &big), .group = i32_of(p.group, &big),
	               .relu = i32_of(ir_dec_i(n, SQCA_RELU), &big), .clip = ir_dec_f(n, SQCA_CLIP)};
	if (big)
		return diag_error(c->d, n->name, "dimension too large for the backend");
	return 0;
}

/* Bias of a layer as C floats (NULL if none): Conv B [M]; Gemm C of [N], [1,N], [1] or a
 * scalar, times beta. */
static int bias_of(Cg *c, const Node *n, int64_t C, float beta, LLVMValueRef *out)
{
	*out = LLVMConstNull(c->ptr);
	if (n->op == OP_MATMUL || n->nin < 3 || n->in[2] < 0)
		return 0;
	const Value *b = &c->g->values[n->in[2]];
	int64_t nb = ir_shape_numel(&b->shape);
	if (!b->data || b->dtype != DT_FLOAT || (nb != C && nb != 1))
		return diag_error(c->d, n->name, "the backend needs a constant bias of %lld values",
		                  (long long)C);
	float *v = xmalloc(sizeof(float) * (size_t)C);
	for (int64_t i = 0; i < C; i++)
		v[i] = ((const float *)b->data)[nb == 1 ? 0 : i] * beta;
	*out = floats_global(c, "bias", v, C);
	free(v);
	return 0;
}

/* Does pack give the layer a quantized kernel (not f32; absent counts as f32)? */
static int is_qlayer(const Node *n)
{
	SqcKernel k = ir_kernel_of(n);
	return ir_dec_has(n, SQCA_KERNEL) && k != SQK_F32;
}

/* A quantized layer with per weights per output channel: qconv over `rows` input rows
 * (Conv: 1), its packed weights and scales the operands pack gave it (ir.h). */
static int lower_qlayer(Cg *c, const Node *n, const RtkConv *geom, int64_t per, int64_t rows,
                        int64_t row_in, int64_t row_out, float beta)
{
	int bits = (int)ir_dec_i(n, SQCA_BITS);
	int act = (int)ir_dec_i(n, SQCA_ACT_BITS);
	int sgn = (int)ir_dec_i(n, SQCA_ACT_SIGNED);
	float step = act < 32 ? ir_dec_f(n, SQCA_ACT_STEP) : 1.0f;
	if (act < 32 && (act < 1 || act > 8 || !(step > 0) || !isfinite(step)))
		return diag_error(c->d, n->name, "bad activation quantization attributes");
	const Value *pw = ir_is_packed(n) ? &c->g->values[n->in[IR_IN_PACKED]] : NULL;
	const Value *ps = pw ? &c->g->values[n->in[IR_IN_SCALES]] : NULL;
	int64_t C = geom->m, planes = bits == 1 ? 1 : 2, kw = rtk_qconv_kwords(per);
	if (!pw || pw->shape.rank != 2 || pw->shape.d[0] != C || pw->shape.d[1] != planes * kw ||
	    ir_shape_numel(&ps->shape) != C)
		return diag_error(c->d, n->name, "internal error: a quantized layer without the "
		                  "packed weights of pass pack (%lld channels of %lld words)",
		                  (long long)C, (long long)(planes * kw));
	/* the integer sums S (|S| <= k * 255) and their float conversion stay in int32 */
	if (act < 32 && per > INT32_MAX / 256)
		return diag_error(c->d, n->name, "%lld weights per output channel: too many for the "
		                  "quantized kernels (at most %d)", (long long)per, INT32_MAX / 256);
	SqcKernel kern = ir_kernel_of(n);
	/* bit-serial layers run rtk_bconv, int8 layers rtk_iconv, on weights repacked here, at
	 * compile time */
	int bconv = kern == SQK_BITSERIAL && act < 32, iconv = kern == SQK_INT8 && act < 32;
	RtkQConv q = {.g = *geom, .k = (int32_t)per, .kwords = (int32_t)kw, .binary = bits == 1,
	              .bits = act, .qn = act < 32 && sgn ? 1 << (act - 1) : 0,
	              .qp = act >= 32 ? 0 : sgn ? (1 << (act - 1)) - 1 : (1 << act) - 1,
	              .step = step, .nib = bconv ? c->lv->bs_nib : 0};
	LLVMValueRef p = params(c, &q);
	LLVMValueRef w;
	if (bconv) {
		int64_t nwr = rtk_bconv_words(&q);
		uint64_t *wr = xmalloc(sizeof *wr * (size_t)nwr);
		rtk_bconv_repack(&q, pw->data, wr);
		w = cg_const_bytes(c, "bconv", wr, sizeof *wr * (size_t)nwr);
		free(wr);
	} else if (iconv) {
		int64_t nwr = rtk_iconv_words(&q);
		int32_t *wr = xmalloc(sizeof *wr * (size_t)nwr);
		rtk_iconv_repack(&q, pw->data, wr);
		w = cg_const_bytes(c, "iconv", wr, sizeof *wr * (size_t)nwr);
		free(wr);
	} else {
		w = cg_const_bytes(c, "packed", pw->data, ir_value_nbytes(pw));
	}
	LLVMValueRef s = floats_global(c, "scales", ps->data, C);
	LLVMValueRef bias;
	if (bias_of(c, n, C, beta, &bias))
		return -1;
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	const char *fn = iconv ? "rtk_iconv" : bconv ? "rtk_bconv" : "rtk_qconv";
	double rate = iconv ? 100 : bconv ? 400.0 / (act * planes) : 20;
	rate = rate < 50 && bconv ? 50 : rate;
	int64_t most = max_tasks(c, (double)C * geom->oh * geom->ow * per, rate, act < 32);
	for (int64_t r = 0; r < rows; r++) {
		LLVMValueRef a[6] = {p, fptr(c, x, r * row_in), w, s, bias, fptr(c, y, r * row_out)};
		split_call(c, fn, a, 6, most);
	}
	return 0;
}

static int lower_conv(Cg *c, const Node *n)
{
	RtkConv k;
	if (conv_geom(c, n, &k))
		return -1;
	if (is_qlayer(n))
		return lower_qlayer(c, n, &k, (int64_t)k.c / k.group * k.kh * k.kw, 1, 0, 0, 1.0f);
	LLVMValueRef p = params(c, &k), bias;
	if (bias_of(c, n, k.m, 1.0f, &bias))
		return -1;
	LLVMValueRef x = buf(c, n->in[0]), w = buf(c, n->in[1]), y = buf(c, n->out[0]);
	if (!x || !w || !y)
		return -1;
	LLVMValueRef a[5] = {p, x, w, bias, y};
	split_call(c, "rtk_conv_f32", a, 5,
	           max_tasks(c, (double)k.m * k.oh * k.ow * (k.c / k.group) * k.kh * k.kw,
	                     k.oh * k.ow <= RTK_DOTMAX ? 10 : 40, 0));
	return 0;
}

/* Gemm and MatMul with constant weights: rows of A times the weights. */
static int lower_dense(Cg *c, const Node *n)
{
	const Graph *g = c->g;
	const Value *a = &g->values[n->in[0]], *w = &g->values[n->in[1]];
	if (!w->data || w->shape.rank != 2)
		return diag_error(c->d, n->name, "the backend needs constant 2-D weights for %s",
		                  ir_op_name(n->op));
	int tb = n->op == OP_GEMM && ir_attr_i(n, "transB", 0);
	int ta = n->op == OP_GEMM && ir_attr_i(n, "transA", 0);
	int64_t K = tb ? w->shape.d[1] : w->shape.d[0], N = tb ? w->shape.d[0] : w->shape.d[1];
	int64_t rows = numel(c, n->in[0]) / (K ? K : 1);
	if (ta && rows != 1)
		return diag_error(c->d, n->name, "Gemm with transA needs one row at batch 1");
	if (K > INT32_MAX || N > INT32_MAX || rows > 4096)
		return diag_error(c->d, n->name, "Gemm too large for the backend");
	(void)a;
	float alpha = n->op == OP_GEMM ? ir_attr_f(n, "alpha", 1.0f) : 1.0f;
	float beta = n->op == OP_GEMM ? ir_attr_f(n, "beta", 1.0f) : 1.0f;
	int32_t relu = (int32_t)ir_dec_i(n, SQCA_RELU);
	if (is_qlayer(n)) {
		RtkConv k = {.c = (int32_t)K, .h = 1, .w = 1, .m = (int32_t)N, .oh = 1, .ow = 1,
		             .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pt = 0, .pl = 0,
		             .group = 1, .relu = relu};
		return lower_qlayer(c, n, &k, K, rows, K, N, beta);
	}
	float *wt = xmalloc(sizeof(float) * (size_t)(N * K));
	const float *wd = w->data;
	for (int64_t i = 0; i < N; i++)
		for (int64_t k = 0; k < K; k++)
			wt[i * K + k] = alpha * (tb ? wd[i * K + k] : wd[k * N + i]);
	LLVMValueRef wg = floats_global(c, "weights", wt, N * K);
	free(wt);
	RtkGemm k = {.rows = (int32_t)rows, .n = (int32_t)N, .k = (int32_t)K, .relu = relu};
	LLVMValueRef p = params(c, &k), bias;
	if (bias_of(c, n, N, beta, &bias))
		return -1;
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef args[5] = {p, x, wg, bias, y};
	split_call(c, "rtk_gemm_f32", args, 5, max_tasks(c, (double)rows * N * K, 10, 0));
	return 0;
}

/* ---- the other ops ------------------------------------------------------------------- */

static int lower_pool(Cg *c, const Node *n)
{
	RtPool p;
	rt_pool_params(c->g, n, &p);
	if (p.n != 1 || p.nsp < 1 || p.nsp > 2)
		return diag_error(c->d, n->name, "the backend compiles 1-D and 2-D pooling at batch 1");
	/* the kernel computes tap coordinates o*s - pad + t*d (and their distance to the
	 * extent's ends) in int32 */
	for (int i = 0; i < p.nsp; i++) {
		int64_t span = p.out[i] * p.stride[i] + p.pad_begin[i] + p.pad_end[i] + p.in[i] +
		               (p.k[i] + 1) * p.dil[i];
		if (p.out[i] > INT32_MAX || p.stride[i] > INT32_MAX || p.k[i] > INT32_MAX ||
		    p.dil[i] > INT32_MAX || p.pad_begin[i] > INT32_MAX || p.pad_end[i] > INT32_MAX ||
		    p.in[i] > INT32_MAX || span < 0 || span > INT32_MAX)
			return diag_error(c->d, n->name, "pooling window, strides or pads too large for "
			                  "the backend (its coordinates must fit in 32 bits)");
	}
	int two = p.nsp == 2;
	RtkPool k = {.c = (int32_t)p.c, .h = two ? (int32_t)p.in[0] : 1, .w = (int32_t)p.in[two],
	             .oh = two ? (int32_t)p.out[0] : 1, .ow = (int32_t)p.out[two],
	             .kh = two ? (int32_t)p.k[0] : 1, .kw = (int32_t)p.k[two],
	             .sh = two ? (int32_t)p.stride[0] : 1, .sw = (int32_t)p.stride[two],
	             .dh = two ? (int32_t)p.dil[0] : 1, .dw = (int32_t)p.dil[two],
	             .pt = two ? (int32_t)p.pad_begin[0] : 0, .pl = (int32_t)p.pad_begin[two],
	             .pb = two ? (int32_t)p.pad_end[0] : 0, .pr = (int32_t)p.pad_end[two],
	             .is_max = n->op == OP_MAXPOOL, .count_include_pad = p.count_include_pad};
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef a[3] = {params(c, &k), x, y};
	split_call(c, "rtk_pool", a, 3,
	           max_tasks(c, (double)k.c * k.oh * k.ow * k.kh * k.kw, 8, 0));
	return 0;
}

static int lower_global_pool(Cg *c, const Node *n)
{
	const Shape *s = &c->g->values[n->in[0]].shape;
	if (s->rank < 2 || s->d[0] != 1)
		return diag_error(c->d, n->name, "the backend compiles global pooling at batch 1");
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef a[5] = {ci32(c, n->op == OP_GLOBALMAXPOOL), ci32(c, s->d[1]),
	                     ci32(c, ir_shape_numel(s) / (s->d[1] ? s->d[1] : 1)), x, y};
	cg_call(c, "rtk_global_pool", a, 5);
	return 0;
}

/* Constant scalar operand i of n (Clip min/max), or def when absent. */
static int const_scalar(Cg *c, const Node *n, int i, float def, float *out)
{
	*out = def;
	if (n->nin <= i || n->in[i] < 0)
		return 0;
	const Value *v = &c->g->values[n->in[i]];
	if (!v->data || v->dtype != DT_FLOAT || ir_shape_numel(&v->shape) != 1)
		return diag_error(c->d, n->name, "the backend needs constant scalar bounds for Clip");
	*out = *(const float *)v->data;
	return 0;
}

static int lower_unary(Cg *c, const Node *n)
{
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef cnt = ci32(c, numel(c, n->out[0]));
	float lo, hi, pa, pb;
	if (const_scalar(c, n, 1, -INFINITY, &lo) || const_scalar(c, n, 2, INFINITY, &hi))
		return -1;
	RtUnary op = (RtUnary)rt_unary_params(n, &lo, &hi, &pa, &pb);
	if (op == RT_RELU) {
		LLVMValueRef a[3] = {x, y, cnt};
		cg_call(c, "rtk_relu", a, 3);
	} else if (op == RT_LEAKYRELU) {
		LLVMValueRef a[4] = {x, y, cnt, cf32(c, pa)};
		cg_call(c, "rtk_leaky_relu", a, 4);
	} else {
		LLVMValueRef a[5] = {x, y, cnt, cf32(c, pa), cf32(c, pb)};
		cg_call(c, "rtk_clip", a, 5);
	}
	return 0;
}

static int lower_binary(Cg *c, const Node *n)
{
	const Graph *g = c->g;
	const Shape *sy = &g->values[n->out[0]].shape, *sa0 = &g->values[n->in[0]].shape;
	Shape sb = ir_rhs_shape(n, sa0, &g->values[n->in[1]].shape);
	if (sy->rank > 6)
		return diag_error(c->d, n->name, "the backend broadcasts at most 6 dims");
	RtkBinary p = {.op = n->op == OP_ADD ? RTK_ADD : n->op == OP_SUB ? RTK_SUB
	                   : n->op == OP_MUL ? RTK_MUL : RTK_DIV,
	               .rank = sy->rank};
	const Shape *ops[2] = {sa0, &sb};
	for (int k = 0; k < 2; k++) {
		int32_t *stride = k ? p.sb : p.sa;
		int64_t st = 1;
		for (int i = sy->rank - 1; i >= 0; i--) {
			int j = i - (sy->rank - ops[k]->rank);
			int64_t d = j >= 0 ? ops[k]->d[j] : 1;
			stride[i] = d == 1 && sy->d[i] != 1 ? 0 : (int32_t)st;
			st *= d;
		}
	}
	for (int i = 0; i < sy->rank; i++)
		p.dims[i] = (int32_t)sy->d[i];
	LLVMValueRef a = buf(c, n->in[0]), b = buf(c, n->in[1]), y = buf(c, n->out[0]);
	if (!a || !b || !y)
		return -1;
	LLVMValueRef args[4] = {params(c, &p), a, b, y};
	if (n->op == OP_PRELU)
		cg_call(c, "rtk_prelu", args, 4);
	else /* memory-bound: about 2.5 elements per ns */
		split_call(c, "rtk_binary", args, 4, max_tasks(c, (double)ir_shape_numel(sy), 2.5, 0));
	return 0;
}

static int lower_batchnorm(Cg *c, const Node *n)
{
	const Graph *g = c->g;
	const Shape *s = &g->values[n->in[0]].shape;
	for (int j = 1; j < 5; j++)
		if (!g->values[n->in[j]].data)
			return diag_error(c->d, n->name, "the backend needs constant BatchNormalization "
			                  "parameters");
	int64_t C = s->rank > 1 ? s->d[1] : 1;
	const float *ga = g->values[n->in[1]].data, *be = g->values[n->in[2]].data;
	const float *mu = g->values[n->in[3]].data, *va = g->values[n->in[4]].data;
	float eps = ir_attr_f(n, "epsilon", 1e-5f);
	float *mul = xmalloc(sizeof(float) * (size_t)C), *add = xmalloc(sizeof(float) * (size_t)C);
	for (int64_t i = 0; i < C; i++) {
		mul[i] = ga[i] / sqrtf(va[i] + eps);
		add[i] = be[i] - mu[i] * mul[i];
	}
	LLVMValueRef gm = floats_global(c, "bn_mul", mul, C), gadd = floats_global(c, "bn_add", add, C);
	free(mul);
	free(add);
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef a[6] = {ci32(c, C), ci32(c, ir_shape_numel(s) / (C ? C : 1)), x, gm, gadd, y};
	cg_call(c, "rtk_channel_affine", a, 6);
	return 0;
}

static int lower_softmax(Cg *c, const Node *n)
{
	int64_t outer, len, inner;
	rt_softmax_dims(c->g, n, &outer, &len, &inner);
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef a[6] = {ci32(c, outer), ci32(c, len), ci32(c, inner),
	                     ci32(c, n->op == OP_LOGSOFTMAX), x, y};
	cg_call(c, "rtk_softmax", a, 6);
	return 0;
}

static int lower_copy(Cg *c, const Node *n)
{
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	int64_t k = numel(c, n->out[0]);
	LLVMValueRef a[6] = {ci32(c, 1), ci32(c, k), ci32(c, k), ci32(c, 0), x, y};
	cg_call(c, "rtk_copy_cols", a, 6);
	return 0;
}

static int lower_concat(Cg *c, const Node *n)
{
	const Graph *g = c->g;
	const Shape *sy = &g->values[n->out[0]].shape;
	int axis = (int)ir_attr_i(n, "axis", 0);
	int64_t outer = 1, inner_y = 1;
	for (int i = 0; i < sy->rank; i++)
		*(i < axis ? &outer : &inner_y) *= sy->d[i];
	LLVMValueRef y = buf(c, n->out[0]);
	if (!y)
		return -1;
	int64_t off = 0;
	for (int j = 0; j < n->nin; j++) {
		int64_t inner_x = numel(c, n->in[j]) / (outer ? outer : 1);
		LLVMValueRef x = buf(c, n->in[j]);
		if (!x)
			return -1;
		LLVMValueRef a[6] = {ci32(c, outer), ci32(c, inner_x), ci32(c, inner_y), ci32(c, off), x, y};
		cg_call(c, "rtk_copy_cols", a, 6);
		off += inner_x;
	}
	return 0;
}

static int lower_act(Cg *c, const Node *n)
{
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef cnt = ci32(c, numel(c, n->out[0]));
	float pa, pb;
	RtUnary op = (RtUnary)rt_unary_params(n, NULL, NULL, &pa, &pb);
	if (op == RT_HARDSIGMOID) {
		LLVMValueRef a[5] = {x, y, cnt, cf32(c, pa), cf32(c, pb)};
		cg_call(c, "rtk_hardsigmoid", a, 5);
	} else {
		LLVMValueRef a[3] = {x, y, cnt};
		cg_call(c, op == RT_SIGMOID ? "rtk_sigmoid" : "rtk_tanh", a, 3);
	}
	return 0;
}

/* Transpose and Pad: per output dim, the input coordinate each output index reads. Pad's
 * maps come from the interpreter's rt_pad_ref applied to 0, 1, 2, ... so the modes and
 * negative pads match it exactly. */
static int lower_remap(Cg *c, const Node *n)
{
	const Graph *g = c->g;
	const Shape *sx = &g->values[n->in[0]].shape, *sy = &g->values[n->out[0]].shape;
	int r = sy->rank;
	if (r > 6 || sx->rank != r)
		return diag_error(c->d, n->name, "the backend moves data of rank <= 6 only");
	int64_t xs[6], tot = 0;
	for (int d = r - 1, st = 1; d >= 0; d--) {
		xs[d] = st;
		st *= (int)sx->d[d];
	}
	for (int d = 0; d < r; d++)
		tot += sy->d[d];
	int32_t *maps = xmalloc(sizeof(int32_t) * (size_t)(tot ? tot : 1));
	RtkRemap p = {.rank = r};
	int64_t perm[IR_MAX_RANK], pads[2 * IR_MAX_RANK] = {0};
	float value = 0.0f;
	if (n->op == OP_TRANSPOSE) {
		if (ir_attr_ints(n, "perm", perm, IR_MAX_RANK) != r)
			for (int d = 0; d < r; d++)
				perm[d] = r - 1 - d;
	} else {
		const Value *pv = &g->values[n->in[1]];
		if (!pv->data || ir_shape_numel(&pv->shape) != 2 * r ||
		    const_scalar(c, n, 2, 0.0f, &value)) {
			free(maps);
			return diag_error(c->d, n->name, "the backend needs constant pads (2 per dim)");
		}
		for (int d = 0; d < 2 * r; d++)
			pads[d] = ((const int64_t *)pv->data)[d];
		if (n->nin > 3 && n->in[3] >= 0) {
			free(maps);
			return diag_error(c->d, n->name, "the backend does not take Pad's axes operand");
		}
	}
	const char *mode = ir_attr_s(n, "mode", "constant");
	RtPadMode pm = !strcmp(mode, "reflect") ? RT_PAD_REFLECT : !strcmp(mode, "edge") ? RT_PAD_EDGE
	                                                                                  : RT_PAD_CONSTANT;
	int64_t at = 0;
	for (int d = 0; d < r; d++) {
		p.dims[d] = (int32_t)sy->d[d];
		p.map_off[d] = (int32_t)at;
		if (n->op == OP_TRANSPOSE) {
			p.strides[d] = (int32_t)xs[perm[d]];
			for (int64_t o = 0; o < sy->d[d]; o++)
				maps[at + o] = (int32_t)o;
		} else {
			p.strides[d] = (int32_t)xs[d];
			int64_t len = sx->d[d];
			int32_t *iota = xmalloc(sizeof(int32_t) * (size_t)(len ? len : 1)), none = -1;
			for (int64_t i = 0; i < len; i++)
				iota[i] = (int32_t)i;
			Shape s1 = {1, {len}}, so = {1, {sy->d[d]}};
			int64_t pp[2] = {pads[d], pads[r + d]};
			rt_pad_ref(sizeof(int32_t), pm, &s1, iota, pp, &none, &so, maps + at);
			free(iota);
		}
		at += sy->d[d];
	}
	LLVMValueRef mg = cg_const_bytes(c, "maps", maps, sizeof(int32_t) * (size_t)(tot ? tot : 1));
	free(maps);
	LLVMValueRef x = buf(c, n->in[0]), y = buf(c, n->out[0]);
	if (!x || !y)
		return -1;
	LLVMValueRef a[5] = {params(c, &p), mg, x, y, cf32(c, value)};
	cg_call(c, "rtk_remap", a, 5);
	return 0;
}

/* ---- the op table ---------------------------------------------------------------------- */

typedef int LowerFn(Cg *c, const Node *n);

/* Per op, LOWER_<id> for each row of ops.def (a row without one is a compile error): the
 * function that emits its kernel calls; NULL: the op is not
 * compiled natively (Shape, Gather and Constant are folded before the backend when the
 * shapes are static). The error message's list of supported ops is made from it. */
#define LOWER_conv               lower_conv
#define LOWER_gemm               lower_dense
#define LOWER_matmul             lower_dense
#define LOWER_add                lower_binary
#define LOWER_sub                lower_binary
#define LOWER_mul                lower_binary
#define LOWER_div                lower_binary
#define LOWER_relu               lower_unary
#define LOWER_leakyrelu          lower_unary
#define LOWER_prelu              lower_binary
#define LOWER_clip               lower_unary
#define LOWER_sigmoid            lower_act
#define LOWER_tanh               lower_act
#define LOWER_hardsigmoid        lower_act
#define LOWER_softmax            lower_softmax
#define LOWER_logsoftmax         lower_softmax
#define LOWER_maxpool            lower_pool
#define LOWER_averagepool        lower_pool
#define LOWER_globalaveragepool  lower_global_pool
#define LOWER_globalmaxpool      lower_global_pool
#define LOWER_batchnormalization lower_batchnorm
#define LOWER_flatten            lower_copy
#define LOWER_reshape            lower_copy
#define LOWER_transpose          lower_remap
#define LOWER_concat             lower_concat
#define LOWER_pad                lower_remap
#define LOWER_squeeze            lower_copy
#define LOWER_unsqueeze          lower_copy
#define LOWER_shape              NULL
#define LOWER_gather             NULL
#define LOWER_constant           NULL
#define LOWER_identity           lower_copy
#define LOWER_dropout            lower_copy
static LowerFn *const lower_fns[OP_COUNT] = {
#define X(e, id, ...) [OP_##e] = LOWER_##id,
#include "../ir/ops.def"
#undef X
};

/* Appends to buf (size n, k used so far); returns the new k, at most n - 1. */
static size_t appendf(char *buf, size_t n, size_t k, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t appendf(char *buf, size_t n, size_t k, const char *fmt, ...)
{
	if (k + 1 >= n)
		return k;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf + k, n - k, fmt, ap);
	va_end(ap);
	return w < 0 ? k : k + (size_t)w < n ? k + (size_t)w : n - 1;
}

/* One error for all the nodes lower_fns has no function for, so that a model with several
 * unsupported ops is not fixed one op at a time. It names the first such node and op, the
 * other ops, up to 6 of the nodes, then the supported ops (the non-NULL entries). */
static int check_supported(Cg *c)
{
	enum { MAX_NAMED = 6 };
	const Graph *g = c->g;
	int first = -1, nnodes = 0, nops = 0, seen[OP_COUNT] = {0};
	char others[256] = "", nodes[512] = "", supported[512] = "";
	size_t ko = 0, kn = 0, ks = 0;
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead || lower_fns[n->op])
			continue;
		if (first < 0)
			first = i;
		if (nnodes++ < MAX_NAMED) {
			if (n->name && *n->name)
				kn = appendf(nodes, sizeof nodes, kn, "%s%s", kn ? ", " : "", n->name);
			else
				kn = appendf(nodes, sizeof nodes, kn, "%s#%d", kn ? ", " : "", i);
		}
		if (!seen[n->op]) {
			seen[n->op] = 1;
			if (nops++)  /* the first op leads the message */
				ko = appendf(others, sizeof others, ko, "%s%s", ko ? ", " : "",
				             ir_op_name(n->op));
		}
	}
	if (first < 0)
		return 0;
	for (int op = 0; op < OP_COUNT; op++)
		if (lower_fns[op])
			ks = appendf(supported, sizeof supported, ks, "%s%s", ks ? ", " : "",
			             ir_op_name((Op)op));
	const Node *n = &g->nodes[first];
	if (nnodes == 1)
		return diag_error(c->d, n->name, "%s is not supported by the native backend yet "
		                  "(supported: %s)", ir_op_name(n->op), supported);
	return diag_error(c->d, n->name, "%s is not supported by the native backend yet%s%s (%d "
	                  "nodes: %s%s; supported: %s)", ir_op_name(n->op),
	                  nops == 1 ? "" : nops == 2 ? ", nor is " : ", nor are ", others, nnodes,
	                  nodes, nnodes > MAX_NAMED ? ", ..." : "", supported);
}

int cg_lower_graph(Cg *c)
{
	const Graph *g = c->g;
	if (check_supported(c))
		return -1;
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < ir_onnx_nin(n); j++) {
			int v = n->in[j];
			if (v >= 0 && g->values[v].dtype != DT_FLOAT && !ir_is_shape_operand(g, v))
				return diag_error(c->d, n->name, "the backend computes in float32 only; "
				                  "'%s' is %s", g->values[v].name,
				                  ir_dtype_name(g->values[v].dtype));
		}
		if (n->nout && n->out[0] >= 0 && g->values[n->out[0]].dtype != DT_FLOAT)
			return diag_error(c->d, n->name, "the backend computes in float32 only");
		/* the kernels count elements in int32 */
		for (int j = 0; j < n->nin + n->nout; j++) {
			int v = j < n->nin ? n->in[j] : n->out[j - n->nin];
			int64_t cnt = v >= 0 ? ir_shape_numel(&g->values[v].shape) : 0;
			if (cnt > INT32_MAX)
				return diag_error(c->d, n->name, "'%s' has %lld elements: the backend "
				                  "handles at most 2^31-1 per tensor", g->values[v].name,
				                  (long long)cnt);
		}
		if (lower_fns[n->op](c, n))
			return -1;
	}
	return 0;
}
