/* passes/shape.c: dtype and shape inference, attribute canonicalization (pass "shape").
 *
 * Requires: a toposorted graph whose inputs have known shapes, in the frontend's IR
 * conventions (passes.h).
 * Establishes: every value gets its dtype and shape (ONNX semantics, latest opset), except
 * the results of nodes that need the contents of a non-constant operand (Reshape shape,
 * Pad pads, Squeeze/Unsqueeze axes) and everything downstream of them: those keep rank -1
 * and pass_fold retries them through shape_node. Attributes are made explicit so that
 * kernels never apply a default or resolve auto_pad themselves:
 *   Conv        kernel_shape, strides, dilations, pads (2*nsp: begins then ends), group,
 *               auto_pad="NOTSET"
 *   MaxPool     the same window attributes (no group), ceil_mode, storage_order
 *   AveragePool the same window attributes, ceil_mode, count_include_pad
 *   Gemm        alpha, beta, transA, transB (0/1)
 *   Softmax, LogSoftmax, Concat, Gather, Flatten: axis non-negative
 *   Transpose   perm; LeakyRelu alpha; HardSigmoid alpha, beta; BatchNormalization
 *               epsilon; Pad mode
 * A resolved auto_pad (SAME_UPPER, SAME_LOWER, VALID) also resets ceil_mode to 0 on pools:
 * ONNX defines those output sizes without rounding up, and the explicit form must re-infer
 * to the same size (shape_node is idempotent; pass_fold calls it again).
 *
 * One function per op (shape_conv, ...) in a table indexed by Op. shape_node checks what
 * is common to every op first (arity, operand ids, known and valid operand shapes) and,
 * after the op's function, that every result has at most IR_MAX_ELEMS elements.
 */
#include "passes.h"
#include "../runtime/rt.h"

#include <assert.h>
#include <string.h>

/* The node being inferred. */
typedef struct {
	Graph *g;
	int id;         /* node id (for ir_attr_set_*) */
	Node *n;
	Diag *d;
	const char *op; /* ONNX op name, for messages */
} Ctx;

/* dtype sets, one bit per DType */
#define DTM(t) (1u << (t))
#define DT_F32_ONLY DTM(DT_FLOAT)
#define DT_ARITH (DTM(DT_FLOAT) | DTM(DT_DOUBLE) | DTM(DT_INT32) | DTM(DT_INT64))
#define DT_FLOATS (DTM(DT_FLOAT) | DTM(DT_DOUBLE))

typedef long long ll; /* for printf */

static int fail(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(Ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_verror(c->d, c->n->name, fmt, ap);
	va_end(ap);
	return -1;
}

/* Operand / result i, or NULL when absent. */
static Value *in(Ctx *c, int i)
{
	return i < c->n->nin && c->n->in[i] >= 0 ? &c->g->values[c->n->in[i]] : NULL;
}

static Value *out(Ctx *c, int i)
{
	return i < c->n->nout && c->n->out[i] >= 0 ? &c->g->values[c->n->out[i]] : NULL;
}

static void set_out(Ctx *c, int i, DType t, const Shape *s)
{
	Value *v = out(c, i);
	if (v) {
		v->dtype = t;
		v->shape = *s;
	}
}

#define SHSTR(s, buf) ir_shape_str((s), (buf), sizeof(buf))

/* "1x10" for messages about matrices. */
static char *dims_x(const Shape *s, char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; i < s->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "x" : "", (ll)s->d[i]);
	return buf;
}

/* Checks operand i's dtype against a DTM set; `supported` lists the set for the message. */
static int need_dtype(Ctx *c, int i, unsigned set, const char *supported)
{
	Value *v = in(c, i);
	if (v && !(DTM(v->dtype) & set))
		return fail(c, "unsupported dtype %s for %s (supported: %s)", ir_dtype_name(v->dtype),
		            c->op, supported);
	return 0;
}

/* Every present operand must be f32 (float-math ops). */
/* Every ONNX operand f32 (a packed layer's i64 rows are not one: ir.h). */
static int need_f32_all(Ctx *c)
{
	for (int i = 0; i < ir_onnx_nin(c->n); i++)
		if (need_dtype(c, i, DT_F32_ONLY, "f32"))
			return -1;
	return 0;
}

static int same_dtype(Ctx *c, int i, int j)
{
	Value *a = in(c, i), *b = in(c, j);
	if (a && b && a->dtype != b->dtype)
		return fail(c, "%s operands %d and %d have different dtypes %s and %s", c->op, i, j,
		            ir_dtype_name(a->dtype), ir_dtype_name(b->dtype));
	return 0;
}

/* Checked int64 arithmetic: nonzero on overflow. */
static int ck_add(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

static int ck_mul(int64_t a, int64_t b, int64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

/* Makes an axis non-negative: valid range [-r, r-1], or [-r, r] when `incl`. */
static int norm_axis(Ctx *c, int64_t axis, int r, int incl, const char *what, int64_t *res)
{
	int64_t hi = incl ? r : r - 1;
	if (axis < -(int64_t)r || axis > hi)
		return fail(c, "%s %s %lld is out of range for rank %d (valid: %d to %lld)", c->op, what,
		            (ll)axis, r, -r, (ll)hi);
	*res = axis < 0 ? axis + r : axis;
	return 0;
}

/* Reads ints attribute `name` with `want` values into v (default `def` each when absent);
 * every value must be >= minv. */
static int attr_ints(Ctx *c, const char *name, int64_t *v, int want, int64_t def, int64_t minv)
{
	const Attr *a = ir_attr_get(c->n, name);
	if (!a) {
		for (int i = 0; i < want; i++)
			v[i] = def;
		return 0;
	}
	if (a->kind != AT_INTS)
		return fail(c, "%s attribute %s must be a list of ints", c->op, name);
	if (a->n != want)
		return fail(c, "rank mismatch: %s %s has %d values, expected %d", c->op, name, a->n,
		            want);
	for (int i = 0; i < want; i++) {
		v[i] = a->ints[i];
		if (v[i] < minv)
			return fail(c, "%s %s[%d]=%lld is not supported (must be >= %lld)", c->op, name, i,
			            (ll)v[i], (ll)minv);
	}
	return 0;
}

/* Reads operand i, an i64 tensor of rank 0 or 1 with at most max elements, into v.
 * Returns 0 (count in *cnt), 1 when the operand is not a constant yet, -1 on error.
 * Dtype, rank and size are checked before the contents are needed. */
static int const_i64(Ctx *c, int i, const char *what, int64_t *v, int max, int *cnt)
{
	Value *x = in(c, i);
	if (x->dtype != DT_INT64)
		return fail(c, "%s %s must be i64, got %s", c->op, what, ir_dtype_name(x->dtype));
	if (x->shape.rank > 1)
		return fail(c, "rank mismatch: %s %s must be 1-D, got rank %d", c->op, what,
		            x->shape.rank);
	int64_t nel = ir_shape_numel(&x->shape);
	if (nel > max)
		return fail(c, "%s %s has %lld values, at most %d are supported", c->op, what, (ll)nel,
		            max);
	if (!x->data)
		return 1;
	if (nel)
		memcpy(v, x->data, sizeof(int64_t) * (size_t)nel);
	*cnt = (int)nel;
	return 0;
}

/* Numpy (multidirectional) broadcasting of a and b into r; -1 when incompatible. */
static int broadcast(const Shape *a, const Shape *b, Shape *r)
{
	int rank = a->rank > b->rank ? a->rank : b->rank;
	r->rank = rank;
	for (int i = 0; i < rank; i++) {
		int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
		int64_t x = ia >= 0 ? a->d[ia] : 1, y = ib >= 0 ? b->d[ib] : 1;
		if (x == y || y == 1)
			r->d[i] = x;
		else if (x == 1)
			r->d[i] = y;
		else
			return -1;
	}
	return 0;
}

/* Unidirectional broadcasting: can `s` be broadcast to `to` (right-aligned)? */
static int broadcastable_to(const Shape *s, const Shape *to)
{
	if (s->rank > to->rank)
		return 0;
	for (int i = 0; i < s->rank; i++) {
		int64_t x = s->d[s->rank - 1 - i], y = to->d[to->rank - 1 - i];
		if (x != y && x != 1)
			return 0;
	}
	return 1;
}

/* ---- Conv and pools: the spatial window ---------------------------------------------- */

/* Window parameters of a Conv or pool with nsp spatial dims, all explicit. */
typedef struct {
	int nsp;
	int64_t k[RT_MAX_SPATIAL];
	int64_t stride[RT_MAX_SPATIAL], dil[RT_MAX_SPATIAL];
	int64_t pad[2 * RT_MAX_SPATIAL]; /* begins, then ends (ONNX order) */
} Window;

/* Resolves strides, dilations, pads and auto_pad for a window whose kernel w->k is set,
 * over the input spatial dims `in`; computes the output spatial dims and writes the
 * attributes back explicitly. *ceil_mode (pools only, else NULL) is reset to 0 when
 * auto_pad resolves the padding.
 *
 *   explicit: out = floor((in + pb + pe - ek) / s) + 1, ek = (k-1)*dil + 1
 *             ceil_mode: ceil(...) + 1, minus one if the last window would start in the
 *             right padding, (out-1)*s >= in + pb (ONNX, as PyTorch)
 *   SAME_*:   out = ceil(in / s), total pad = max(0, (out-1)*s + ek - in), the odd unit at
 *             the end (UPPER) or the beginning (LOWER)
 *   VALID:    pads 0 */
static int window(Ctx *c, Window *w, const int64_t *in_d, int *ceil_mode, int64_t *out_d)
{
	int nsp = w->nsp;
	if (attr_ints(c, "strides", w->stride, nsp, 1, 1) ||
	    attr_ints(c, "dilations", w->dil, nsp, 1, 1) ||
	    attr_ints(c, "pads", w->pad, 2 * nsp, 0, 0))
		return -1;
	const Attr *ap = ir_attr_get(c->n, "auto_pad");
	if (ap && ap->kind != AT_STRING)
		return fail(c, "%s attribute auto_pad must be a string", c->op);
	const char *mode = ap ? ap->s : "NOTSET";
	int same = 0; /* 1 SAME_UPPER, 2 SAME_LOWER */
	if (!strcmp(mode, "SAME_UPPER"))
		same = 1;
	else if (!strcmp(mode, "SAME_LOWER"))
		same = 2;
	else if (!strcmp(mode, "VALID"))
		memset(w->pad, 0, sizeof w->pad);
	else if (strcmp(mode, "NOTSET") && *mode)
		return fail(c, "%s auto_pad \"%s\" is not supported (NOTSET, SAME_UPPER, SAME_LOWER, "
		            "VALID)", c->op, mode);
	int resolved = strcmp(mode, "NOTSET") && *mode;
	if (resolved && ceil_mode)
		*ceil_mode = 0;
	for (int i = 0; i < nsp; i++) {
		int64_t ek, s = w->stride[i], x = in_d[i];
		if (ck_mul(w->k[i] - 1, w->dil[i], &ek) || ck_add(ek, 1, &ek))
			return fail(c, "%s effective kernel size overflows on spatial dim %d", c->op, i);
		if (same) {
			int64_t o = x / s + (x % s != 0), total;
			if (ck_mul(o - 1, s, &total) || ck_add(total, ek, &total))
				return fail(c, "%s padding overflows on spatial dim %d", c->op, i);
			total -= x; /* total <= INT64_MAX - 1 and x >= 0: no overflow */
			if (total < 0)
				total = 0;
			int64_t small = total / 2, big = total - small;
			w->pad[i] = same == 1 ? small : big;
			w->pad[nsp + i] = same == 1 ? big : small;
		}
		int64_t pb = w->pad[i], pe = w->pad[nsp + i], padded, xpb;
		if (ck_add(x, pb, &xpb) || ck_add(xpb, pe, &padded))
			return fail(c, "%s padded input size overflows on spatial dim %d", c->op, i);
		if (padded < ek)
			return fail(c, "%s kernel (effective size %lld) is larger than the padded input "
			            "(%lld) on spatial dim %d", c->op, (ll)ek, (ll)padded, i);
		/* q: start of the last window, in strides from the padded origin */
		int64_t span = padded - ek, q = span / s;
		if (ceil_mode && *ceil_mode) {
			int64_t qs;
			q += span % s != 0;
			if (ck_mul(q, s, &qs) || qs >= xpb)
				q--;
		}
		if (q < 0)
			return fail(c, "%s output would be empty on spatial dim %d (output dim < 1)", c->op,
			            i);
		out_d[i] = q + 1;
	}
	ir_attr_set_ints(c->g, c->id, "kernel_shape", w->k, nsp);
	ir_attr_set_ints(c->g, c->id, "strides", w->stride, nsp);
	ir_attr_set_ints(c->g, c->id, "dilations", w->dil, nsp);
	ir_attr_set_ints(c->g, c->id, "pads", w->pad, 2 * nsp);
	ir_attr_set_s(c->g, c->id, "auto_pad", "NOTSET");
	return 0;
}

/* ---- per-op inference: shape_OPNAME(ctx) returns 0, 1 (needs a constant) or -1 ---- */

static int shape_conv(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	const Shape *x = &in(c, 0)->shape, *wt = &in(c, 1)->shape;
	Value *b = in(c, 2);
	if (wt->rank < 3)
		return fail(c, "rank mismatch: Conv weight must have rank >= 3 (M, C/group, "
		            "kernel...), got rank %d", wt->rank);
	Window w = {.nsp = wt->rank - 2};
	if (x->rank != wt->rank)
		return fail(c, "rank mismatch: Conv expects a %d-D input for a %d-D kernel, got rank %d",
		            wt->rank, w.nsp, x->rank);
	if (w.nsp > RT_MAX_SPATIAL)
		return fail(c, "Conv with %d spatial dims is not supported (at most %d)", w.nsp,
		            RT_MAX_SPATIAL);
	for (int i = 0; i < w.nsp; i++)
		w.k[i] = wt->d[2 + i];
	const Attr *ks = ir_attr_get(c->n, "kernel_shape");
	if (ks) {
		int ok = ks->kind == AT_INTS && ks->n == w.nsp;
		for (int i = 0; ok && i < w.nsp; i++)
			ok = ks->ints[i] == w.k[i];
		if (!ok) {
			char buf[128];
			Shape k = {.rank = w.nsp};
			memcpy(k.d, w.k, sizeof(int64_t) * (size_t)w.nsp);
			return fail(c, "Conv kernel_shape disagrees with the weight's kernel %s",
			            SHSTR(&k, buf));
		}
	}
	for (int i = 0; i < w.nsp; i++)
		if (w.k[i] < 1)
			return fail(c, "Conv weight has an empty kernel (dim %d is 0)", 2 + i);
	int64_t group = ir_attr_i(c->n, "group", 1), m = wt->d[0], ch = x->d[1];
	if (group < 1)
		return fail(c, "Conv group=%lld is not supported (must be >= 1)", (ll)group);
	int64_t want;
	if (ck_mul(wt->d[1], group, &want) || want != ch)
		return fail(c, "Conv channel mismatch: the input has %lld channels, the weight expects "
		            "%lld x group %lld", (ll)ch, (ll)wt->d[1], (ll)group);
	if (m % group)
		return fail(c, "Conv channel mismatch: %lld output channels are not divisible by "
		            "group %lld", (ll)m, (ll)group);
	if (b && (b->shape.rank != 1 || b->shape.d[0] != m)) {
		char buf[128];
		return fail(c, "Conv bias has shape %s, expected [%lld] (output channels)",
		            SHSTR(&b->shape, buf), (ll)m);
	}
	Shape y = {.rank = x->rank};
	y.d[0] = x->d[0];
	y.d[1] = m;
	if (window(c, &w, x->d + 2, NULL, y.d + 2))
		return -1;
	ir_attr_set_i(c->g, c->id, "group", group);
	set_out(c, 0, DT_FLOAT, &y);
	return 0;
}

static int shape_gemm(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	const Shape *a = &in(c, 0)->shape, *b = &in(c, 1)->shape;
	Value *cv = in(c, 2);
	if (a->rank != 2 || b->rank != 2)
		return fail(c, "rank mismatch: Gemm expects 2-D A and B, got ranks %d and %d", a->rank,
		            b->rank);
	int ta = ir_attr_i(c->n, "transA", 0) != 0, tb = ir_attr_i(c->n, "transB", 0) != 0;
	int64_t m = a->d[ta], k = a->d[!ta], kb = b->d[tb], n = b->d[!tb];
	if (k != kb) {
		char ba[64], bb[64];
		return fail(c, "Gemm shape mismatch: A is %s%s, B is %s%s (K differs)",
		            dims_x(a, ba, sizeof ba), ta ? " (transA)" : "", dims_x(b, bb, sizeof bb),
		            tb ? " (transB)" : "");
	}
	Shape y = {.rank = 2, .d = {m, n}};
	if (cv && !broadcastable_to(&cv->shape, &y)) {
		char bc[128], by[128];
		return fail(c, "Gemm shape mismatch: C %s cannot be broadcast to %s",
		            SHSTR(&cv->shape, bc), SHSTR(&y, by));
	}
	ir_attr_set_f(c->g, c->id, "alpha", ir_attr_f(c->n, "alpha", 1.0f));
	ir_attr_set_f(c->g, c->id, "beta", ir_attr_f(c->n, "beta", 1.0f));
	ir_attr_set_i(c->g, c->id, "transA", ta);
	ir_attr_set_i(c->g, c->id, "transB", tb);
	set_out(c, 0, DT_FLOAT, &y);
	return 0;
}

/* numpy matmul: a 1-D A gets a leading 1, a 1-D B a trailing 1, both removed from the
 * result; the batch dims broadcast. */
static int shape_matmul(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	const Shape *a0 = &in(c, 0)->shape, *b0 = &in(c, 1)->shape;
	if (a0->rank < 1 || b0->rank < 1)
		return fail(c, "rank mismatch: MatMul operands must have rank >= 1, got %d and %d",
		            a0->rank, b0->rank);
	Shape a = *a0, b = *b0;
	if (a.rank == 1)
		a = (Shape){.rank = 2, .d = {1, a0->d[0]}};
	if (b.rank == 1)
		b = (Shape){.rank = 2, .d = {b0->d[0], 1}};
	char sa[128], sb[128];
	if (a.d[a.rank - 1] != b.d[b.rank - 2])
		return fail(c, "MatMul shape mismatch: %s x %s (K differs: %lld vs %lld)",
		            SHSTR(a0, sa), SHSTR(b0, sb), (ll)a.d[a.rank - 1], (ll)b.d[b.rank - 2]);
	Shape ba = {.rank = a.rank - 2}, bb = {.rank = b.rank - 2}, y;
	memcpy(ba.d, a.d, sizeof(int64_t) * (size_t)ba.rank);
	memcpy(bb.d, b.d, sizeof(int64_t) * (size_t)bb.rank);
	if (broadcast(&ba, &bb, &y))
		return fail(c, "MatMul shape mismatch: the batch dims of %s and %s cannot be broadcast",
		            SHSTR(a0, sa), SHSTR(b0, sb));
	if (a0->rank > 1)
		y.d[y.rank++] = a.d[a.rank - 2];
	if (b0->rank > 1)
		y.d[y.rank++] = b.d[b.rank - 1];
	set_out(c, 0, DT_FLOAT, &y);
	return 0;
}

/* An opset < 7 broadcast (legacy_axis, set by the frontend) must place b inside a. */
static int legacy_axis_ok(Ctx *c, const Shape *a, const Shape *b)
{
	int64_t axis = ir_attr_i(c->n, "legacy_axis", -1);
	if (axis < 0 || axis + b->rank <= a->rank)
		return 0;
	char sa[128], sb[128];
	return fail(c, "%s: broadcast axis %lld does not place %s inside %s", c->op, (ll)axis,
	            SHSTR(b, sb), SHSTR(a, sa));
}

static int binary(Ctx *c)
{
	if (need_dtype(c, 0, DT_ARITH, "f32, f64, i32, i64") ||
	    need_dtype(c, 1, DT_ARITH, "f32, f64, i32, i64") || same_dtype(c, 0, 1))
		return -1;
	const Shape *a = &in(c, 0)->shape;
	if (legacy_axis_ok(c, a, &in(c, 1)->shape))
		return -1;
	Shape bl = ir_rhs_shape(c->n, a, &in(c, 1)->shape), *b = &bl;
	Shape y;
	if (broadcast(a, b, &y)) {
		char sa[128], sb[128];
		return fail(c, "%s shape mismatch: shapes %s and %s cannot be broadcast", c->op,
		            SHSTR(a, sa), SHSTR(b, sb));
	}
	set_out(c, 0, in(c, 0)->dtype, &y);
	return 0;
}

static int shape_add(Ctx *c) { return binary(c); }
static int shape_sub(Ctx *c) { return binary(c); }
static int shape_mul(Ctx *c) { return binary(c); }
static int shape_div(Ctx *c) { return binary(c); }

/* Elementwise f32 op on operand 0. */
static int unary_f32(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	set_out(c, 0, DT_FLOAT, &in(c, 0)->shape);
	return 0;
}

static int shape_relu(Ctx *c) { return unary_f32(c); }
static int shape_sigmoid(Ctx *c) { return unary_f32(c); }
static int shape_tanh(Ctx *c) { return unary_f32(c); }

static int shape_leakyrelu(Ctx *c)
{
	ir_attr_set_f(c->g, c->id, "alpha", ir_attr_f(c->n, "alpha", 0.01f));
	return unary_f32(c);
}

static int shape_hardsigmoid(Ctx *c)
{
	ir_attr_set_f(c->g, c->id, "alpha", ir_attr_f(c->n, "alpha", 0.2f));
	ir_attr_set_f(c->g, c->id, "beta", ir_attr_f(c->n, "beta", 0.5f));
	return unary_f32(c);
}

/* min (1) and max (2) are optional scalars; their contents are not needed here. */
static int shape_clip(Ctx *c)
{
	for (int i = 1; i <= 2; i++) {
		Value *v = in(c, i);
		if (v && ir_shape_numel(&v->shape) != 1) {
			char buf[128];
			return fail(c, "Clip %s must be a scalar, got shape %s", i == 1 ? "min" : "max",
			            SHSTR(&v->shape, buf));
		}
	}
	return unary_f32(c);
}

/* The slope broadcasts to X unidirectionally; the result has X's shape. */
static int shape_prelu(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	const Shape *x = &in(c, 0)->shape;
	if (legacy_axis_ok(c, x, &in(c, 1)->shape))
		return -1;
	Shape sl = ir_rhs_shape(c->n, x, &in(c, 1)->shape), *s = &sl;
	if (!broadcastable_to(s, x)) {
		char bs[128], bx[128];
		return fail(c, "PRelu shape mismatch: slope %s is not broadcastable to the input %s",
		            SHSTR(s, bs), SHSTR(x, bx));
	}
	set_out(c, 0, DT_FLOAT, x);
	return 0;
}

/* axis defaults to -1, or to 1 with coerce2d (opset < 13); the shape is unchanged. */
static int softmax(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	const Shape *x = &in(c, 0)->shape;
	int64_t axis = 0;
	if (norm_axis(c, ir_attr_i(c->n, "axis", ir_attr_i(c->n, "coerce2d", 0) ? 1 : -1), x->rank,
	              0, "axis", &axis))
		return -1;
	ir_attr_set_i(c->g, c->id, "axis", axis);
	set_out(c, 0, DT_FLOAT, x);
	return 0;
}

static int shape_softmax(Ctx *c) { return softmax(c); }
static int shape_logsoftmax(Ctx *c) { return softmax(c); }

static int pool(Ctx *c, int is_max)
{
	if (need_f32_all(c))
		return -1;
	const Shape *x = &in(c, 0)->shape;
	if (x->rank < 3)
		return fail(c, "rank mismatch: %s expects an input of rank >= 3 (N, C, spatial...), "
		            "got rank %d", c->op, x->rank);
	Window w = {.nsp = x->rank - 2};
	if (w.nsp > RT_MAX_SPATIAL)
		return fail(c, "%s with %d spatial dims is not supported (at most %d)", c->op, w.nsp,
		            RT_MAX_SPATIAL);
	if (!ir_attr_get(c->n, "kernel_shape"))
		return fail(c, "%s requires a kernel_shape attribute", c->op);
	if (attr_ints(c, "kernel_shape", w.k, w.nsp, 1, 1))
		return -1;
	int ceil_mode = ir_attr_i(c->n, "ceil_mode", 0) != 0;
	Shape y = {.rank = x->rank, .d = {x->d[0], x->d[1]}};
	if (window(c, &w, x->d + 2, &ceil_mode, y.d + 2))
		return -1;
	ir_attr_set_i(c->g, c->id, "ceil_mode", ceil_mode);
	if (is_max) {
		int64_t so = ir_attr_i(c->n, "storage_order", 0);
		if (so != 0 && so != 1)
			return fail(c, "MaxPool storage_order=%lld is not supported (0 or 1)", (ll)so);
		ir_attr_set_i(c->g, c->id, "storage_order", so);
		set_out(c, 1, DT_INT64, &y);
	} else {
		ir_attr_set_i(c->g, c->id, "count_include_pad",
		              ir_attr_i(c->n, "count_include_pad", 0) != 0);
	}
	set_out(c, 0, DT_FLOAT, &y);
	return 0;
}

static int shape_maxpool(Ctx *c) { return pool(c, 1); }
static int shape_averagepool(Ctx *c) { return pool(c, 0); }

/* [N, C, D...] -> [N, C, 1...] */
static int global_pool(Ctx *c)
{
	if (need_f32_all(c))
		return -1;
	Shape y = in(c, 0)->shape;
	if (y.rank < 2)
		return fail(c, "rank mismatch: %s expects an input of rank >= 2 (N, C, spatial...), "
		            "got rank %d", c->op, y.rank);
	int64_t spatial = 1;
	for (int i = 2; i < y.rank; i++) {
		spatial *= y.d[i] ? 1 : 0;
		y.d[i] = 1;
	}
	/* the mean (or max) of no values is undefined: refused rather than a silent 0 */
	if (!spatial && y.d[0] && y.d[1]) {
		char b[128];
		return fail(c, "%s over an empty spatial extent (input %s)", c->op,
		            SHSTR(&in(c, 0)->shape, b));
	}
	set_out(c, 0, DT_FLOAT, &y);
	return 0;
}

static int shape_globalaveragepool(Ctx *c) { return global_pool(c); }
static int shape_globalmaxpool(Ctx *c) { return global_pool(c); }

/* Inference mode only. Results 1 and 2 (running mean/var, training outputs) get [C]. */
static int shape_batchnormalization(Ctx *c)
{
	static const char *const pname[5] = {"X", "scale", "B", "input_mean", "input_var"};
	if (need_f32_all(c))
		return -1;
	const Shape *x = &in(c, 0)->shape;
	if (ir_attr_i(c->n, "training_mode", 0))
		return fail(c, "BatchNormalization training_mode=1 is not supported (inference only)");
	if (!ir_attr_i(c->n, "spatial", 1))
		return fail(c, "BatchNormalization spatial=0 is not supported");
	if (x->rank < 2)
		return fail(c, "rank mismatch: BatchNormalization expects an input of rank >= 2 "
		            "(N, C, ...), got rank %d", x->rank);
	int64_t ch = x->d[1];
	for (int i = 1; i < 5; i++) {
		const Shape *p = &in(c, i)->shape;
		if (ir_shape_numel(p) != ch || p->rank > 1) {
			char buf[128];
			return fail(c, "BatchNormalization shape mismatch: %s has shape %s, expected [%lld] "
			            "(C)", pname[i], SHSTR(p, buf), (ll)ch);
		}
	}
	ir_attr_set_f(c->g, c->id, "epsilon", ir_attr_f(c->n, "epsilon", 1e-5f));
	Shape sc = {.rank = 1, .d = {ch}};
	set_out(c, 0, DT_FLOAT, x);
	set_out(c, 1, DT_FLOAT, &sc);
	set_out(c, 2, DT_FLOAT, &sc);
	return 0;
}

/* [d0..d(axis-1)] x [d(axis)..] -> 2-D; axis in [-r, r]. */
static int shape_flatten(Ctx *c)
{
	const Value *x = in(c, 0);
	int64_t axis = 0;
	if (norm_axis(c, ir_attr_i(c->n, "axis", 1), x->shape.rank, 1, "axis", &axis))
		return -1;
	Shape y = {.rank = 2, .d = {1, 1}};
	for (int i = 0; i < x->shape.rank; i++)
		if (ck_mul(y.d[i >= axis], x->shape.d[i], &y.d[i >= axis]))
			return fail(c, "Flatten result dim overflows int64");
	ir_attr_set_i(c->g, c->id, "axis", axis);
	set_out(c, 0, x->dtype, &y);
	return 0;
}

/* shape entries: 0 copies the input dim (a literal 0 with allowzero=1), -1 is inferred. */
static int shape_reshape(Ctx *c)
{
	const Value *x = in(c, 0);
	int64_t s[IR_MAX_RANK];
	int n = 0, r = const_i64(c, 1, "shape", s, IR_MAX_RANK, &n);
	if (r)
		return r;
	int allowzero = ir_attr_i(c->n, "allowzero", 0) != 0;
	int neg = -1, zero = 0;
	int64_t known = 1;
	Shape y = {.rank = n};
	for (int i = 0; i < n; i++) {
		if (s[i] == -1) {
			if (neg >= 0)
				return fail(c, "Reshape shape has two -1 dims (%d and %d)", neg, i);
			neg = i;
			continue;
		}
		if (s[i] < -1)
			return fail(c, "Reshape shape[%d]=%lld is a negative dim", i, (ll)s[i]);
		y.d[i] = s[i];
		if (s[i] == 0) {
			zero = 1;
			if (!allowzero) {
				if (i >= x->shape.rank)
					return fail(c, "Reshape shape[%d]=0 copies input dim %d, but the input "
					            "has rank %d", i, i, x->shape.rank);
				y.d[i] = x->shape.d[i];
			}
		}
		if (ck_mul(known, y.d[i], &known))
			return fail(c, "Reshape target shape overflows the int64 element count");
	}
	if (allowzero && zero && neg >= 0)
		return fail(c, "Reshape with allowzero=1 cannot have both 0 and -1 in its shape");
	int64_t total = ir_shape_numel(&x->shape);
	char bx[128];
	if (neg >= 0) {
		if (known == 0)
			return fail(c, "Reshape cannot infer the -1 dim when the other dims have 0 "
			            "elements");
		if (total % known)
			return fail(c, "Reshape cannot reshape %s (%lld elements): the other dims of the "
			            "shape have %lld elements", SHSTR(&x->shape, bx), (ll)total, (ll)known);
		y.d[neg] = total / known;
	} else if (known != total) {
		char by[128];
		return fail(c, "Reshape cannot reshape %s (%lld elements) to %s (%lld elements)",
		            SHSTR(&x->shape, bx), (ll)total, SHSTR(&y, by), (ll)known);
	}
	set_out(c, 0, x->dtype, &y);
	return 0;
}

static int shape_transpose(Ctx *c)
{
	const Value *x = in(c, 0);
	int r = x->shape.rank;
	int64_t p[IR_MAX_RANK];
	const Attr *a = ir_attr_get(c->n, "perm");
	if (a) {
		if (a->kind != AT_INTS)
			return fail(c, "Transpose attribute perm must be a list of ints");
		if (a->n != r)
			return fail(c, "rank mismatch: Transpose perm has %d values for a rank-%d input",
			            a->n, r);
		int seen[IR_MAX_RANK] = {0};
		for (int i = 0; i < r; i++) {
			p[i] = a->ints[i];
			if (p[i] < 0 || p[i] >= r || seen[p[i]]++)
				return fail(c, "Transpose perm is not a permutation of 0..%d (perm[%d]=%lld)",
				            r - 1, i, (ll)p[i]);
		}
	} else {
		for (int i = 0; i < r; i++)
			p[i] = r - 1 - i;
	}
	Shape y = {.rank = r};
	for (int i = 0; i < r; i++)
		y.d[i] = x->shape.d[p[i]];
	ir_attr_set_ints(c->g, c->id, "perm", p, r);
	set_out(c, 0, x->dtype, &y);
	return 0;
}

static int shape_concat(Ctx *c)
{
	const Value *x0 = in(c, 0);
	const Attr *a = ir_attr_get(c->n, "axis");
	if (!a || a->kind != AT_INT)
		return fail(c, "Concat requires an integer axis attribute");
	int64_t axis = 0;
	if (norm_axis(c, a->i, x0->shape.rank, 0, "axis", &axis))
		return -1;
	Shape y = x0->shape;
	for (int i = 1; i < c->n->nin; i++) {
		const Value *v = in(c, i);
		if (!v)
			return fail(c, "Concat operand %d is absent", i);
		if (same_dtype(c, 0, i))
			return -1;
		char b0[128], bi[128];
		if (v->shape.rank != y.rank)
			return fail(c, "rank mismatch: Concat operand %d is %s, operand 0 is %s", i,
			            SHSTR(&v->shape, bi), SHSTR(&x0->shape, b0));
		for (int k = 0; k < y.rank; k++)
			if (k != axis && v->shape.d[k] != y.d[k])
				return fail(c, "Concat shape mismatch: operand %d is %s, operand 0 is %s "
				            "(dims off axis %lld differ)", i, SHSTR(&v->shape, bi),
				            SHSTR(&x0->shape, b0), (ll)axis);
		if (ck_add(y.d[axis], v->shape.d[axis], &y.d[axis]))
			return fail(c, "Concat result dim overflows int64");
	}
	ir_attr_set_i(c->g, c->id, "axis", axis);
	set_out(c, 0, x0->dtype, &y);
	return 0;
}

/* pads (operand 1): [begin..., end...], negative values crop. */
static int shape_pad(Ctx *c)
{
	const Value *x = in(c, 0), *val = in(c, 2);
	int r = x->shape.rank;
	const char *mode = ir_attr_s(c->n, "mode", "constant");
	if (strcmp(mode, "constant") && strcmp(mode, "reflect") && strcmp(mode, "edge"))
		return fail(c, "Pad mode \"%s\" is not supported (constant, reflect, edge)", mode);
	if (!in(c, 1))
		return fail(c, "Pad requires a pads operand");
	if (val) {
		if (same_dtype(c, 0, 2))
			return -1;
		if (ir_shape_numel(&val->shape) != 1)
			return fail(c, "Pad constant value must be a scalar");
	}
	int64_t p[2 * IR_MAX_RANK];
	int n = 0, rc = const_i64(c, 1, "pads", p, 2 * IR_MAX_RANK, &n);
	if (rc)
		return rc;
	if (n != 2 * r)
		return fail(c, "rank mismatch: Pad pads has %d values for a rank-%d input (expected %d)",
		            n, r, 2 * r);
	Shape y = {.rank = r};
	for (int i = 0; i < r; i++) {
		int64_t d = x->shape.d[i], b = p[i], e = p[r + i];
		if (ck_add(d, b, &y.d[i]) || ck_add(y.d[i], e, &y.d[i]))
			return fail(c, "Pad result dim %d overflows int64", i);
		if (y.d[i] < 0)
			return fail(c, "Pad produces a negative dim on axis %d (%lld %+lld %+lld)", i, (ll)d,
			            (ll)b, (ll)e);
		if (!strcmp(mode, "reflect") && (b > 0 || e > 0) && (b >= d || e >= d))
			return fail(c, "Pad reflect mode needs pads smaller than the dim (axis %d: dim %lld, "
			            "pads %lld and %lld)", i, (ll)d, (ll)b, (ll)e);
		if (!strcmp(mode, "edge") && d == 0 && (b > 0 || e > 0))
			return fail(c, "Pad edge mode cannot pad the empty axis %d", i);
	}
	ir_attr_set_s(c->g, c->id, "mode", mode);
	set_out(c, 0, x->dtype, &y);
	return 0;
}

/* Reads and normalizes axes (operand 1) for a result or input of rank r into mark[];
 * 1 when the operand is not constant yet. */
static int read_axes(Ctx *c, int r, char *mark, int *cnt)
{
	int64_t ax[IR_MAX_RANK];
	int n = 0, rc = const_i64(c, 1, "axes", ax, IR_MAX_RANK, &n);
	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		int64_t a = 0;
		if (norm_axis(c, ax[i], r, 0, "axis", &a))
			return -1;
		if (mark[a]++)
			return fail(c, "%s axis %lld is repeated", c->op, (ll)ax[i]);
	}
	*cnt = n;
	return 0;
}

/* Without axes, every dim of size 1 goes. */
static int shape_squeeze(Ctx *c)
{
	const Value *x = in(c, 0);
	int r = x->shape.rank, n = 0;
	char mark[IR_MAX_RANK] = {0};
	if (in(c, 1)) {
		int rc = read_axes(c, r, mark, &n);
		if (rc)
			return rc;
		for (int i = 0; i < r; i++)
			if (mark[i] && x->shape.d[i] != 1)
				return fail(c, "Squeeze axis %d has dim %lld, not 1", i, (ll)x->shape.d[i]);
	} else {
		for (int i = 0; i < r; i++)
			mark[i] = x->shape.d[i] == 1;
	}
	Shape y = {.rank = 0};
	for (int i = 0; i < r; i++)
		if (!mark[i])
			y.d[y.rank++] = x->shape.d[i];
	set_out(c, 0, x->dtype, &y);
	return 0;
}

/* Axes refer to the result, whose rank is the input's plus the number of axes. */
static int shape_unsqueeze(Ctx *c)
{
	const Value *x = in(c, 0);
	if (!in(c, 1))
		return fail(c, "Unsqueeze requires an axes operand");
	const Value *ax = in(c, 1);
	int64_t k = ir_shape_numel(&ax->shape);
	if (k + x->shape.rank > IR_MAX_RANK)
		return fail(c, "Unsqueeze result rank %lld exceeds the maximum rank %d",
		            (ll)(k + x->shape.rank), IR_MAX_RANK);
	int orank = x->shape.rank + (int)k, n = 0;
	char mark[IR_MAX_RANK] = {0};
	int rc = read_axes(c, orank, mark, &n);
	if (rc)
		return rc;
	Shape y = {.rank = orank};
	for (int i = 0, j = 0; i < orank; i++)
		y.d[i] = mark[i] ? 1 : x->shape.d[j++];
	set_out(c, 0, x->dtype, &y);
	return 0;
}

/* i64 [len] with start/end (opset 15): negative counts from the end, then clamped. */
static int shape_shape(Ctx *c)
{
	int r = in(c, 0)->shape.rank;
	int64_t start = ir_attr_i(c->n, "start", 0), end = ir_attr_i(c->n, "end", r);
	if (start < 0)
		start += r;
	if (end < 0)
		end += r;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	Shape y = {.rank = 1, .d = {end > start ? end - start : 0}};
	set_out(c, 0, DT_INT64, &y);
	return 0;
}

/* data[:axis] + indices.shape + data[axis+1:]; constant indices are range-checked. */
static int shape_gather(Ctx *c)
{
	const Value *x = in(c, 0), *idx = in(c, 1);
	int r = x->shape.rank, q = idx->shape.rank;
	if (idx->dtype != DT_INT32 && idx->dtype != DT_INT64)
		return fail(c, "Gather indices must be i32 or i64, got %s", ir_dtype_name(idx->dtype));
	if (r < 1)
		return fail(c, "rank mismatch: Gather data must have rank >= 1, got rank 0");
	int64_t axis = 0;
	if (norm_axis(c, ir_attr_i(c->n, "axis", 0), r, 0, "axis", &axis))
		return -1;
	if (q + r - 1 > IR_MAX_RANK)
		return fail(c, "Gather result rank %d exceeds the maximum rank %d", q + r - 1,
		            IR_MAX_RANK);
	int64_t dim = x->shape.d[axis], ni = ir_shape_numel(&idx->shape);
	for (int64_t i = 0; idx->data && i < ni; i++) {
		int64_t v = idx->dtype == DT_INT64 ? ((const int64_t *)idx->data)[i]
		                                   : ((const int32_t *)idx->data)[i];
		if (v < -dim || v >= dim)
			return fail(c, "Gather index %lld is out of range for axis %lld of size %lld",
			            (ll)v, (ll)axis, (ll)dim);
	}
	Shape y = {.rank = 0};
	for (int i = 0; i < axis; i++)
		y.d[y.rank++] = x->shape.d[i];
	for (int i = 0; i < q; i++)
		y.d[y.rank++] = idx->shape.d[i];
	for (int i = (int)axis + 1; i < r; i++)
		y.d[y.rank++] = x->shape.d[i];
	ir_attr_set_i(c->g, c->id, "axis", axis);
	set_out(c, 0, x->dtype, &y);
	return 0;
}

/* The frontend turns Constant nodes into constant values; one that remains must already
 * carry its result's type. */
static int shape_constant(Ctx *c)
{
	const Value *y = out(c, 0);
	if (y->shape.rank < 0 || y->dtype == DT_UNDEF)
		return fail(c, "Constant node without a typed result (the frontend should have made "
		            "it a constant value)");
	return 0;
}

static int shape_identity(Ctx *c)
{
	set_out(c, 0, in(c, 0)->dtype, &in(c, 0)->shape);
	return 0;
}

/* Inference mode only: result 0 is the input, result 1 (mask) is all true. */
static int shape_dropout(Ctx *c)
{
	const Value *x = in(c, 0), *tm = in(c, 2);
	if (need_dtype(c, 0, DT_FLOATS, "f32, f64") || need_dtype(c, 1, DT_FLOATS, "f32, f64"))
		return -1;
	if (tm) {
		if (tm->dtype != DT_BOOL)
			return fail(c, "Dropout training_mode must be bool, got %s",
			            ir_dtype_name(tm->dtype));
		int64_t n = ir_shape_numel(&tm->shape);
		for (int64_t i = 0; tm->data && i < n; i++)
			if (((const unsigned char *)tm->data)[i])
				return fail(c, "Dropout training_mode=1 is not supported (inference only)");
	}
	set_out(c, 0, x->dtype, &x->shape);
	set_out(c, 1, DT_BOOL, &x->shape);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------------ */

typedef int (*ShapeFn)(Ctx *c);

/* One inference function per op (convention 2), shape_<id> for each row of ops.def: a row
 * without its function is a compile error. */
static const ShapeFn shape_fns[OP_COUNT] = {
#define X(e, id, ...) [OP_##e] = shape_##id,
#include "../ir/ops.def"
#undef X
};

static void reset_results(Ctx *c)
{
	for (int i = 0; i < c->n->nout; i++)
		if (out(c, i))
			out(c, i)->shape.rank = -1;
}

/* Operand checks common to every op: arity, ids, required operands present, shapes valid.
 * Returns 1 when some operand's shape is not known yet. */
static int check_operands(Ctx *c)
{
	const Node *n = c->n;
	const OpInfo *oi = &ir_ops[n->op];
	if (ir_onnx_nin(n) < oi->min_in || ir_onnx_nin(n) > oi->max_in)
		return fail(c, "%s expects %d to %d operands, got %d", c->op, oi->min_in, oi->max_in,
		            n->nin);
	if (n->nout < oi->min_out || n->nout > oi->max_out)
		return fail(c, "%s expects %d to %d results, got %d", c->op, oi->min_out, oi->max_out,
		            n->nout);
	for (int i = 0; i < n->nout; i++) {
		if (n->out[i] < -1 || n->out[i] >= c->g->nvalues)
			return fail(c, "%s result %d has an invalid value id %d", c->op, i, n->out[i]);
		if (n->out[i] < 0 && i < oi->min_out)
			return fail(c, "%s result %d is required", c->op, i);
	}
	int unknown = 0;
	for (int i = 0; i < n->nin; i++) {
		if (n->in[i] < -1 || n->in[i] >= c->g->nvalues)
			return fail(c, "%s operand %d has an invalid value id %d", c->op, i, n->in[i]);
		if (n->in[i] < 0) {
			if (i < oi->min_in)
				return fail(c, "%s operand %d is required", c->op, i);
			continue;
		}
		const Value *v = in(c, i);
		if (v->shape.rank == -1) {
			unknown = 1;
			continue;
		}
		if (v->shape.rank < -1 || v->shape.rank > IR_MAX_RANK || ir_shape_numel(&v->shape) < 0)
			return fail(c, "%s operand %d (%%%s) has an invalid shape (rank %d, negative dim or "
			            "element count overflow)", c->op, i, v->name, v->shape.rank);
		if (v->dtype <= DT_UNDEF || v->dtype >= DT_COUNT)
			return fail(c, "%s operand %d (%%%s) has no known dtype", c->op, i, v->name);
	}
	return unknown;
}

/* Every result: valid rank, dims >= 0, at most IR_MAX_ELEMS elements. */
static int check_results(Ctx *c)
{
	for (int i = 0; i < c->n->nout; i++) {
		const Value *v = out(c, i);
		if (!v)
			continue;
		assert(v->shape.rank >= 0 && v->shape.rank <= IR_MAX_RANK);
		char buf[256];
		for (int k = 0; k < v->shape.rank; k++)
			if (v->shape.d[k] < 0)
				return fail(c, "%s result %s has a negative dim", c->op,
				            SHSTR(&v->shape, buf));
		/* within IR_MAX_ELEMS, so that every later size computation (bytes, batches,
		 * workspace offsets, the backend's counts) stays far from int64's limit */
		int64_t nel = ir_shape_numel(&v->shape);
		if (nel < 0)
			return fail(c, "%s result %s: tensor too large (its element count overflows "
			            "int64; limit %lld)", c->op, SHSTR(&v->shape, buf), (ll)IR_MAX_ELEMS);
		if (nel > IR_MAX_ELEMS)
			return fail(c, "%s result %s: tensor too large (%lld elements; limit %lld)", c->op,
			            SHSTR(&v->shape, buf), (ll)nel, (ll)IR_MAX_ELEMS);
	}
	return 0;
}

int shape_node(Graph *g, int node, Diag *d)
{
	assert(node >= 0 && node < g->nnodes);
	Node *n = &g->nodes[node];
	if (n->dead)
		return 0;
	Ctx c = {g, node, n, d, ir_op_name(n->op)};
	if ((unsigned)n->op >= OP_COUNT)
		return fail(&c, "unknown op %d", (int)n->op);
	assert(shape_fns[n->op]);
	int r = check_operands(&c);
	if (r == 0)
		r = shape_fns[n->op](&c);
	if (r == 1)
		reset_results(&c);
	if (r)
		return r;
	return check_results(&c);
}

int pass_shape(Graph *g, const PassEnv *env, Diag *d)
{
	for (int i = 0; i < g->ninputs; i++) {
		const Value *v = &g->values[g->inputs[i]];
		if (v->shape.rank < 0)
			return diag_error(d, NULL, "graph input %%%s has an unknown shape", v->name);
	}
	for (int i = 0; i < g->nnodes; i++)
		if (shape_node(g, i, d) < 0)
			return -1;
	return 0;
}
