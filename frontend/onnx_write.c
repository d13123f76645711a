/* frontend/onnx_write.c: ONNX export (fe_onnx_save), the inverse of onnx.c.
 *
 * Writes a Graph of any pipeline stage as an ONNX ModelProto (protobuf-c structs packed
 * straight into a temporary file in the destination's folder, renamed on success).
 *
 * Target opset (the default domain is the only one imported):
 *   - g->opset when every node can be written there as it is, else 13 (or the highest
 *     opset an attribute needs, when that is above 13). The IR follows opset-13 forms
 *     (passes.h): Clip min/max (11), Pad pads (11), Squeeze/Unsqueeze axes (13), Dropout
 *     ratio (12) as operands, Gemm without C (11), MaxPool indices (8). Opsets below 7 are
 *     never kept: the IR has numpy broadcasting and none of their required attributes.
 *   - Softmax/LogSoftmax with coerce2d=1 (opset < 13 semantics) is written as it is below
 *     opset 13. At 13 and above it is written as a plain Softmax when its axis is the last
 *     one (both semantics agree there), otherwise as Flatten(axis) -> Softmax(axis=1) ->
 *     Reshape(input shape). This keeps the model's own opset whenever possible and never
 *     needs a rewrite of other nodes; forcing opset 12 instead would fail as soon as the
 *     graph has a Squeeze/Unsqueeze with an axes operand.
 *   - legacy_axis (opset < 7 broadcasting of operand 1) becomes a Reshape of that operand
 *     to the shape ir_rhs_shape gives it (needs known shapes).
 *
 * Attributes: internal ones (internal_attrs below, and every "sqc." name) are not ONNX
 * attributes. sqc.* attributes go to metadata_props as "sqc.node.<node name>.<attr name>"
 * (the attribute name keeps its "sqc." prefix, so the key is split at the last ".sqc.")
 * with the value in the IR text syntax of ir/print.c: 3, 0.5f, "text", [1,2], [0.5f],
 * ints[], floats[] (the kind is recoverable). Attributes that the target opset does not
 * have (attr_versions) are dropped when they hold their ONNX default, which is what shape
 * inference adds (e.g. AveragePool dilations, opset 19).
 *
 * Tensors: initializers in raw_data, little endian, for every dtype of the IR (constants
 * read by no live node are left out). Graph inputs and outputs get a value_info with elem
 * type and dims. Before shape inference an output's dtype and shape may be unknown: they
 * are written as UNDEFINED and without a shape, which ONNX allows but onnx.checker rejects
 * on main-graph outputs (save after pass "shape" for checker-clean files). Symbolic dims
 * are not kept (the IR has none; the batch size the model was imported with is written).
 *
 * The protobuf structs point into the graph (names, attribute arrays, weight data) rather
 * than copying it, and are packed straight into the file (no second copy of the weights).
 */
#include "frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#define OPSET_LOWEST 7      /* below: legacy broadcasting, never kept (see above) */
#define OPSET_BUMP 13       /* the opset our IR's forms come from */
#define OPSET_ANY INT32_MAX /* "until" of attributes that still exist */
#define IR_VERSION 8
#define MAX_MODEL_BYTES ((size_t)INT32_MAX) /* protobuf's limit for one message */

/* ---- tables ------------------------------------------------------------------------- */

/* IR attributes that are not ONNX attributes (besides every name starting with "sqc."). */
static const char *const internal_attrs[] = {
	"coerce2d",    /* Softmax/LogSoftmax: opset < 13 semantics (handled by the writer) */
	"legacy_axis", /* binary ops, PRelu: opset < 7 broadcasting (handled by the writer) */
};

/* How an attribute's default is recognized, for attributes that exist only in some opsets. */
typedef enum {
	DEF_NONE, /* no default: any value needs an opset that has the attribute */
	DEF_INT,  /* INT equal to v */
	DEF_INTS, /* INTS whose every element equals v */
	DEF_ANY,  /* no effect on inference: droppable whatever its value */
} DefKind;

/* Attributes that exist only in opsets [since, until] (ONNX operator changelog). Outside
 * that range the attribute is dropped when it holds its default, otherwise the node needs
 * an opset in the range. Only attributes that the importer keeps or shape inference adds
 * are listed. */
typedef struct {
	Op op;
	const char *attr;
	int since, until;
	DefKind def;
	int64_t v;
} AttrVersion;

static const AttrVersion attr_versions[] = {
	{OP_AVERAGEPOOL, "count_include_pad", 7, OPSET_ANY, DEF_INT, 0},
	{OP_AVERAGEPOOL, "ceil_mode", 10, OPSET_ANY, DEF_INT, 0},
	{OP_AVERAGEPOOL, "dilations", 19, OPSET_ANY, DEF_INTS, 1},
	{OP_MAXPOOL, "storage_order", 8, OPSET_ANY, DEF_INT, 0},
	{OP_MAXPOOL, "ceil_mode", 10, OPSET_ANY, DEF_INT, 0},
	{OP_MAXPOOL, "dilations", 10, OPSET_ANY, DEF_INTS, 1},
	{OP_BATCHNORMALIZATION, "spatial", 1, 8, DEF_INT, 1},
	{OP_BATCHNORMALIZATION, "training_mode", 14, OPSET_ANY, DEF_INT, 0},
	{OP_RESHAPE, "allowzero", 14, OPSET_ANY, DEF_INT, 0},
	{OP_SHAPE, "start", 15, OPSET_ANY, DEF_INT, 0},
	{OP_SHAPE, "end", 15, OPSET_ANY, DEF_NONE, 0},
	{OP_DROPOUT, "is_test", 1, 6, DEF_ANY, 0},
	{OP_DROPOUT, "ratio", 1, 11, DEF_ANY, 0},
	{OP_DROPOUT, "seed", 12, OPSET_ANY, DEF_ANY, 0},
};

static int32_t dtype_to_onnx(DType t)
{
	switch (t) {
	case DT_FLOAT: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	case DT_DOUBLE: return ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
	case DT_INT8: return ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
	case DT_UINT8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
	case DT_INT32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
	case DT_INT64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	case DT_BOOL: return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
	default: return ONNX__TENSOR_PROTO__DATA_TYPE__UNDEFINED;
	}
}

static int is_sqc_attr(const char *name)
{
	return ir_dec_is_name(name);
}

static int is_internal_attr(const char *name)
{
	for (size_t i = 0; i < countof(internal_attrs); i++)
		if (!strcmp(name, internal_attrs[i]))
			return 1;
	return is_sqc_attr(name);
}

static const AttrVersion *attr_version(Op op, const char *name)
{
	for (size_t i = 0; i < countof(attr_versions); i++)
		if (attr_versions[i].op == op && !strcmp(attr_versions[i].attr, name))
			return &attr_versions[i];
	return NULL;
}

/* Does the attribute hold the default that lets it be dropped? */
static int attr_is_default(const AttrVersion *av, const Attr *a)
{
	switch (av->def) {
	case DEF_ANY: return 1;
	case DEF_INT: return a->kind == AT_INT && a->i == av->v;
	case DEF_INTS:
		if (a->kind != AT_INTS)
			return 0;
		for (int i = 0; i < a->n; i++)
			if (a->ints[i] != av->v)
				return 0;
		return 1;
	default: return 0;
	}
}

/* ---- Softmax forms ------------------------------------------------------------------ */

static int is_softmax(Op op)
{
	return op == OP_SOFTMAX || op == OP_LOGSOFTMAX;
}

/* The axis as the IR means it (coerce2d changes the default). */
static int64_t softmax_axis(const Node *n)
{
	return ir_attr_i(n, "axis", ir_attr_i(n, "coerce2d", 0) ? 1 : -1);
}

/* Is the Softmax over the last axis? Then opset < 13 and >= 13 semantics agree, with the
 * axis written as it is (-1 only from opset 11, where negative axes appear). */
static int softmax_last_axis(const Graph *g, const Node *n)
{
	int64_t axis = softmax_axis(n);
	int rank = n->nin > 0 && n->in[0] >= 0 ? g->values[n->in[0]].shape.rank : -1;
	return axis == -1 || (rank >= 0 && axis == rank - 1);
}

/* ---- target opset ------------------------------------------------------------------- */

/* Narrows [*lo, *hi] to the opsets where node n can be written as it is. coerce2d Softmax
 * never narrows it: it has a rewrite for opsets >= 13. */
static void node_range(const Graph *g, const Node *n, int64_t *lo, int64_t *hi)
{
#define NEED(v) (*lo = *lo > (v) ? *lo : (v))
	NEED(OPSET_LOWEST);
	for (int i = 0; i < n->nattr; i++) {
		const Attr *a = &n->attrs[i];
		const AttrVersion *av = attr_version(n->op, a->name);
		if (!av || attr_is_default(av, a))
			continue;
		NEED(av->since);
		if (*hi > av->until)
			*hi = av->until;
	}
	int has_in1 = n->nin > 1 && n->in[1] >= 0, has_in2 = n->nin > 2 && n->in[2] >= 0;
	switch (n->op) {
	case OP_SQUEEZE:
	case OP_UNSQUEEZE:
		if (has_in1)
			NEED(13);
		break;
	case OP_CLIP:
		if (has_in1 || has_in2)
			NEED(11);
		break;
	case OP_PAD:
		if (has_in1 || has_in2)
			NEED(11);
		break;
	case OP_GEMM:
		if (!has_in2)
			NEED(11); /* C optional from opset 11 */
		break;
	case OP_DROPOUT:
		if (has_in1 || has_in2)
			NEED(12);
		break;
	case OP_MAXPOOL:
		if (n->nout > 1 && n->out[1] >= 0)
			NEED(8);
		break;
	case OP_RESHAPE:
		NEED(5);
		break;
	case OP_SOFTMAX:
	case OP_LOGSOFTMAX:
		if (ir_attr_i(n, "coerce2d", 0))
			break;
		if (!softmax_last_axis(g, n))
			NEED(13);
		else if (softmax_axis(n) < 0)
			NEED(11);
		break;
	default:
		break;
	}
#undef NEED
}

static int64_t target_opset(const Graph *g)
{
	int64_t lo = 0, hi = INT64_MAX;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i].dead)
			node_range(g, &g->nodes[i], &lo, &hi);
	if (g->opset >= OPSET_LOWEST && g->opset >= lo && g->opset <= hi)
		return g->opset;
	return lo > OPSET_BUMP ? lo : OPSET_BUMP; /* an attribute's `until` is reported later */
}

/* ---- the writer ---------------------------------------------------------------------- */

/* A growable array of pointers to proto structs (storage malloc'd, items in the arena). */
typedef struct {
	void **p;
	size_t n, cap;
} PtrVec;

static void vec_push(PtrVec *v, void *x)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 16;
		v->p = xrealloc(v->p, sizeof(void *) * v->cap);
	}
	v->p[v->n++] = x;
}

/* Export state for one model. Every proto struct, string and array (except weight data,
 * which initializers point to in place) lives in `arena` and is freed at once. */
typedef struct {
	const Graph *g;
	Diag *d;
	Arena arena;
	int64_t opset;      /* the target opset */
	PtrVec nodes;       /* Onnx__NodeProto *, in graph order */
	PtrVec inits;       /* Onnx__TensorProto * */
	PtrVec meta;        /* Onnx__StringStringEntryProto * */
	PtrVec made;        /* const char *: value names made up here (for fresh_name) */
	char *used;         /* per value: read by a written node or a graph output */
} Writer;

static char *wstr(Writer *w, const char *s)
{
	return arena_strdup(&w->arena, s);
}

/* base, or base.N for the first N that names no value of the graph nor one made here. */
static char *fresh_name(Writer *w, const char *base)
{
	char *s = wstr(w, base);
	for (int k = 1;; k++) {
		int taken = ir_value_find(w->g, s) >= 0;
		for (size_t i = 0; !taken && i < w->made.n; i++)
			taken = !strcmp(w->made.p[i], s);
		if (!taken)
			break;
		s = arena_printf(&w->arena, "%s.%d", base, k);
	}
	vec_push(&w->made, s);
	return s;
}

static char **str_array(Writer *w, size_t n)
{
	return arena_alloc(&w->arena, sizeof(char *) * (n ? n : 1));
}

/* A node with the given operand names ("" for absent ones); attributes are added after. */
static Onnx__NodeProto *add_node(Writer *w, const char *op_type, const char *name,
                                 char *const *in, size_t nin, char *const *out, size_t nout,
                                 size_t maxattr)
{
	Onnx__NodeProto *np = arena_alloc(&w->arena, sizeof *np);
	onnx__node_proto__init(np);
	np->op_type = wstr(w, op_type);
	np->name = wstr(w, name);
	np->input = str_array(w, nin);
	np->n_input = nin;
	for (size_t i = 0; i < nin; i++)
		np->input[i] = in[i];
	np->output = str_array(w, nout);
	np->n_output = nout;
	for (size_t i = 0; i < nout; i++)
		np->output[i] = out[i];
	np->attribute = arena_alloc(&w->arena, sizeof(Onnx__AttributeProto *) * (maxattr + 1));
	vec_push(&w->nodes, np);
	return np;
}

static Onnx__AttributeProto *new_attr(Writer *w, Onnx__NodeProto *np, const char *name,
                                      Onnx__AttributeProto__AttributeType type)
{
	Onnx__AttributeProto *ap = arena_alloc(&w->arena, sizeof *ap);
	onnx__attribute_proto__init(ap);
	ap->name = wstr(w, name);
	ap->has_type = 1;
	ap->type = type;
	np->attribute[np->n_attribute++] = ap;
	return ap;
}

static void attr_int(Writer *w, Onnx__NodeProto *np, const char *name, int64_t v)
{
	Onnx__AttributeProto *ap = new_attr(w, np, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
	ap->has_i = 1;
	ap->i = v;
}

/* Copies an IR attribute (the arrays are referenced, not copied: the graph outlives us). */
static void attr_copy(Writer *w, Onnx__NodeProto *np, const Attr *a)
{
	Onnx__AttributeProto *ap;
	switch (a->kind) {
	case AT_INT:
		attr_int(w, np, a->name, a->i);
		break;
	case AT_FLOAT:
		ap = new_attr(w, np, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
		ap->has_f = 1;
		ap->f = a->f;
		break;
	case AT_STRING:
		ap = new_attr(w, np, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
		ap->has_s = 1;
		ap->s.data = (uint8_t *)(a->s ? a->s : "");
		ap->s.len = a->s ? strlen(a->s) : 0;
		break;
	case AT_INTS:
		ap = new_attr(w, np, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
		ap->n_ints = (size_t)a->n;
		ap->ints = a->ints;
		break;
	case AT_FLOATS:
		ap = new_attr(w, np, a->name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
		ap->n_floats = (size_t)a->n;
		ap->floats = a->floats;
		break;
	}
}

static int host_is_little_endian(void)
{
	const uint16_t one = 1;
	return *(const unsigned char *)&one == 1;
}

/* An initializer; data is referenced in place on little-endian hosts. */
static void add_init(Writer *w, const char *name, DType t, const Shape *s, const void *data)
{
	Onnx__TensorProto *tp = arena_alloc(&w->arena, sizeof *tp);
	onnx__tensor_proto__init(tp);
	tp->name = (char *)name;
	tp->has_data_type = 1;
	tp->data_type = dtype_to_onnx(t);
	tp->n_dims = (size_t)s->rank;
	tp->dims = arena_alloc(&w->arena, sizeof(int64_t) * (size_t)(s->rank + 1));
	for (int i = 0; i < s->rank; i++)
		tp->dims[i] = s->d[i];
	size_t es = ir_dtype_size(t), nbytes = (size_t)ir_shape_numel(s) * es;
	tp->has_raw_data = 1;
	tp->raw_data.len = nbytes;
	if (host_is_little_endian() || es == 1) {
		tp->raw_data.data = (uint8_t *)data;
	} else {
		unsigned char *le = arena_alloc(&w->arena, nbytes);
		const unsigned char *src = data;
		for (size_t i = 0; i < nbytes; i += es)
			for (size_t j = 0; j < es; j++)
				le[i + j] = src[i + es - 1 - j];
		tp->raw_data.data = le;
	}
	vec_push(&w->inits, tp);
}

/* A new i64 vector initializer (contents copied); returns its name. */
static char *add_init_i64(Writer *w, const char *base, const int64_t *v, int n)
{
	char *name = fresh_name(w, base);
	int64_t *data = arena_alloc(&w->arena, sizeof(int64_t) * (size_t)(n + 1));
	memcpy(data, v, sizeof(int64_t) * (size_t)n);
	Shape s = {1, {n}};
	add_init(w, name, DT_INT64, &s, data);
	return name;
}

static Onnx__ValueInfoProto *value_info(Writer *w, const Value *v)
{
	Onnx__ValueInfoProto *vi = arena_alloc(&w->arena, sizeof *vi);
	onnx__value_info_proto__init(vi);
	vi->name = (char *)v->name;
	Onnx__TypeProto *tp = arena_alloc(&w->arena, sizeof *tp);
	onnx__type_proto__init(tp);
	Onnx__TypeProto__Tensor *tt = arena_alloc(&w->arena, sizeof *tt);
	onnx__type_proto__tensor__init(tt);
	tt->has_elem_type = 1;
	tt->elem_type = dtype_to_onnx(v->dtype);
	if (v->shape.rank >= 0) {
		Onnx__TensorShapeProto *sp = arena_alloc(&w->arena, sizeof *sp);
		onnx__tensor_shape_proto__init(sp);
		sp->n_dim = (size_t)v->shape.rank;
		sp->dim = arena_alloc(&w->arena, sizeof(void *) * (size_t)(v->shape.rank + 1));
		for (int i = 0; i < v->shape.rank; i++) {
			Onnx__TensorShapeProto__Dimension *dm = arena_alloc(&w->arena, sizeof *dm);
			onnx__tensor_shape_proto__dimension__init(dm);
			dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			dm->dim_value = v->shape.d[i];
			sp->dim[i] = dm;
		}
		tt->shape = sp;
	}
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	vi->type = tp;
	return vi;
}

/* The name of operand v for a written node, or "" when absent; marks it used. */
static char *operand(Writer *w, int v)
{
	if (v < 0)
		return "";
	w->used[v] = 1;
	return (char *)w->g->values[v].name;
}

/* Attributes of IR node n onto np: internal ones skipped, opset-dependent ones checked
 * against the target opset. skip: one more attribute name not to copy, or NULL. */
static int copy_attrs(Writer *w, const Node *n, Onnx__NodeProto *np, const char *skip)
{
	for (int i = 0; i < n->nattr; i++) {
		const Attr *a = &n->attrs[i];
		if (is_internal_attr(a->name) || (skip && !strcmp(a->name, skip)))
			continue;
		const AttrVersion *av = attr_version(n->op, a->name);
		if (av && (w->opset < av->since || w->opset > av->until)) {
			if (attr_is_default(av, a))
				continue;
			char range[64];
			if (av->until == OPSET_ANY)
				snprintf(range, sizeof range, "from opset %d on", av->since);
			else
				snprintf(range, sizeof range, "in opsets %d to %d", av->since, av->until);
			return diag_error(w->d, n->name, "attribute '%s' of %s has no equivalent in "
			                  "opset %lld (it exists %s)", a->name, ir_op_name(n->op),
			                  (long long)w->opset, range);
		}
		attr_copy(w, np, a);
	}
	return 0;
}

/* Softmax/LogSoftmax with coerce2d=1 at opset >= 13 on a non-last axis:
 *   x -> Flatten(axis) -> Softmax(axis=1) -> Reshape(shape of x) -> y
 * The shape is a constant when x's shape is known, else a Shape node. */
static int emit_coerce2d(Writer *w, const Node *n)
{
	const Graph *g = w->g;
	const Value *x = &g->values[n->in[0]];
	char *xn = operand(w, n->in[0]);
	char *yn = operand(w, n->out[0]);
	char *flat = fresh_name(w, arena_printf(&w->arena, "%s.flat", yn));
	char *sm = fresh_name(w, arena_printf(&w->arena, "%s.2d", yn));
	char *shape;
	if (x->shape.rank >= 0) {
		shape = add_init_i64(w, arena_printf(&w->arena, "%s.shape", yn), x->shape.d,
		                     x->shape.rank);
	} else {
		shape = fresh_name(w, arena_printf(&w->arena, "%s.shape", yn));
		add_node(w, "Shape", arena_printf(&w->arena, "%s.shape", n->name), &xn, 1, &shape, 1,
		         0);
	}
	Onnx__NodeProto *np = add_node(w, "Flatten", arena_printf(&w->arena, "%s.flatten", n->name),
	                               &xn, 1, &flat, 1, 1);
	attr_int(w, np, "axis", softmax_axis(n));
	/* the Softmax keeps the node's name (metadata keys refer to it) */
	np = add_node(w, ir_op_name(n->op), n->name, &flat, 1, &sm, 1, (size_t)n->nattr + 1);
	if (copy_attrs(w, n, np, "axis"))
		return -1;
	attr_int(w, np, "axis", 1);
	char *rin[2] = {sm, shape};
	add_node(w, "Reshape", arena_printf(&w->arena, "%s.reshape", n->name), rin, 2, &yn, 1, 0);
	return 0;
}

/* Operand 1 of a node with legacy_axis (opset < 7 broadcasting), reshaped to the shape
 * numpy broadcasting needs; returns its name. */
static char *legacy_operand(Writer *w, const Node *n)
{
	const Graph *g = w->g;
	const Shape *a = &g->values[n->in[0]].shape, *b = &g->values[n->in[1]].shape;
	char *bn = operand(w, n->in[1]);
	if (a->rank < 0 || b->rank < 0) {
		diag_error(w->d, n->name, "%s uses opset < 7 broadcasting (axis %lld), which needs "
		           "known shapes to be written in ONNX; save after shape inference",
		           ir_op_name(n->op), (long long)ir_attr_i(n, "legacy_axis", 0));
		return NULL;
	}
	Shape s = ir_rhs_shape(n, a, b);
	if (ir_shape_eq(&s, b))
		return bn;
	char *shape = add_init_i64(w, arena_printf(&w->arena, "%s.bshape", bn), s.d, s.rank);
	char *out = fresh_name(w, arena_printf(&w->arena, "%s.bcast", bn));
	char *rin[2] = {bn, shape};
	add_node(w, "Reshape", arena_printf(&w->arena, "%s.bcast", n->name), rin, 2, &out, 1, 0);
	return out;
}

static int emit_node(Writer *w, const Node *n)
{
	const Graph *g = w->g;
	if (n->op == OP_CONSTANT)
		return diag_error(w->d, n->name, "a Constant node cannot be written (constants are "
		                  "values in the IR)");
	for (int i = 0; i < n->nin; i++) {
		int v = n->in[i];
		if (v >= 0 && g->values[v].producer < 0 && !g->values[v].data &&
		    !g->values[v].is_input)
			return diag_error(w->d, n->name, "operand '%s' is never defined",
			                  g->values[v].name);
	}
	if (is_softmax(n->op) && ir_attr_i(n, "coerce2d", 0) && w->opset >= 13 &&
	    !softmax_last_axis(g, n))
		return emit_coerce2d(w, n);
	/* trailing absent operands are left out, inner ones written as ""; the operands pack
	 * adds after the ONNX ones (packed rows, scales) are derived data and not written */
	int nin = ir_onnx_nin(n), nout = n->nout;
	while (nin > 0 && n->in[nin - 1] < 0)
		nin--;
	while (nout > 0 && n->out[nout - 1] < 0)
		nout--;
	char **in = str_array(w, (size_t)nin), **out = str_array(w, (size_t)nout);
	for (int i = 0; i < nin; i++)
		in[i] = operand(w, n->in[i]);
	for (int i = 0; i < nout; i++)
		out[i] = operand(w, n->out[i]);
	if (ir_attr_get(n, "legacy_axis") && nin > 1 && n->in[1] >= 0) {
		in[1] = legacy_operand(w, n);
		if (!in[1])
			return -1;
	}
	Onnx__NodeProto *np = add_node(w, ir_op_name(n->op), n->name, in, (size_t)nin, out,
	                               (size_t)nout, (size_t)n->nattr + 1);
	if (is_softmax(n->op)) {
		/* always explicit: its default differs between opset < 13 and >= 13 */
		if (copy_attrs(w, n, np, "axis"))
			return -1;
		attr_int(w, np, "axis", softmax_axis(n));
		return 0;
	}
	return copy_attrs(w, n, np, NULL);
}

/* ---- metadata ------------------------------------------------------------------------ */

static void add_meta(Writer *w, const char *key, const char *value)
{
	Onnx__StringStringEntryProto *e = arena_alloc(&w->arena, sizeof *e);
	onnx__string_string_entry_proto__init(e);
	e->key = wstr(w, key);
	e->value = wstr(w, value);
	vec_push(&w->meta, e);
}

/* An attribute value in the IR text syntax (the part after '=' in ir/print.c). */
static char *attr_text(Writer *w, const Attr *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		fprintf(stderr, "sqc: fatal: out of memory\n");
		abort();
	}
	ir_print_attr_value(f, a);
	fclose(f);
	char *s = wstr(w, buf);
	free(buf);
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The caller's pairs, then the nodes' sqc.* attributes; keys must be unique (onnx.checker
 * rejects duplicates). */
static int build_meta(Writer *w, const FeSaveOptions *o)
{
	for (int i = 0; o && i < o->nmeta; i++) {
		if (!o->meta[i].key || !o->meta[i].value)
			return diag_error(w->d, NULL, "metadata entry %d has no key or no value", i);
		add_meta(w, o->meta[i].key, o->meta[i].value);
	}
	for (int i = 0; i < w->g->nnodes; i++) {
		const Node *n = &w->g->nodes[i];
		for (int j = 0; !n->dead && j < n->nattr; j++)
			if (is_sqc_attr(n->attrs[j].name))
				add_meta(w, arena_printf(&w->arena, "sqc.node.%s.%s", n->name,
				                         n->attrs[j].name), attr_text(w, &n->attrs[j]));
	}
	/* duplicates: sort a copy of the keys, compare neighbours */
	const char **keys = xmalloc(sizeof(char *) * (w->meta.n + 1));
	for (size_t i = 0; i < w->meta.n; i++)
		keys[i] = ((Onnx__StringStringEntryProto *)w->meta.p[i])->key;
	qsort(keys, w->meta.n, sizeof(char *), cmp_str);
	int rc = 0;
	for (size_t i = 1; i < w->meta.n && !rc; i++)
		if (!strcmp(keys[i - 1], keys[i]))
			rc = diag_error(w->d, NULL, "metadata key '%s' is given twice", keys[i]);
	free(keys);
	return rc;
}

/* ---- the model ---------------------------------------------------------------------- */

static int build_graph(Writer *w, Onnx__GraphProto *gp)
{
	const Graph *g = w->g;
	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i].dead && emit_node(w, &g->nodes[i]))
			return -1;
	for (int i = 0; i < g->noutputs; i++)
		w->used[g->outputs[i]] = 1;
	gp->name = (char *)(g->name ? g->name : "main");
	gp->n_node = w->nodes.n;
	gp->node = (Onnx__NodeProto **)w->nodes.p;
	/* constants read by what is written (value-id order), then the ones made up above */
	size_t nmade = w->inits.n;
	for (int v = 0; v < g->nvalues; v++) {
		const Value *val = &g->values[v];
		if (!w->used[v] || !val->data)
			continue;
		if (val->shape.rank < 0 || !dtype_to_onnx(val->dtype))
			return diag_error(w->d, NULL, "constant '%s' has no known type", val->name);
		add_init(w, val->name, val->dtype, &val->shape, val->data);
	}
	/* rotate: the graph's constants first, then the ones made up while writing nodes */
	Onnx__TensorProto **inits = arena_alloc(&w->arena, sizeof(void *) * (w->inits.n + 1));
	for (size_t i = 0; i < w->inits.n; i++)
		inits[i] = w->inits.p[(i + nmade) % w->inits.n];
	gp->n_initializer = w->inits.n;
	gp->initializer = inits;
	gp->n_input = (size_t)g->ninputs;
	gp->input = arena_alloc(&w->arena, sizeof(void *) * (size_t)(g->ninputs + 1));
	for (int i = 0; i < g->ninputs; i++)
		gp->input[i] = value_info(w, &g->values[g->inputs[i]]);
	gp->n_output = (size_t)g->noutputs;
	gp->output = arena_alloc(&w->arena, sizeof(void *) * (size_t)(g->noutputs + 1));
	for (int i = 0; i < g->noutputs; i++)
		gp->output[i] = value_info(w, &g->values[g->outputs[i]]);
	return 0;
}

/* protobuf-c output that streams into a FILE: the weights are not copied once more. */
typedef struct {
	ProtobufCBuffer base;
	FILE *f;
	int err;    /* errno of the first failed write, 0 while all went well */
} FileBuffer;

static void file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
	FileBuffer *fb = (FileBuffer *)b;
	if (!fb->err && len && fwrite(data, 1, len, fb->f) != len)
		fb->err = errno ? errno : EIO;
}

static int write_atomic(const Onnx__ModelProto *m, const char *path, Diag *d)
{
	OutFile o;
	FILE *f = ir_out_open(&o, path, d);
	if (!f)
		return -1;
	FileBuffer fb = {{file_append}, f, 0};
	errno = 0;
	onnx__model_proto__pack_to_buffer(m, &fb.base);
	if (fb.err) {
		ir_out_discard(&o);
		return diag_error(d, NULL, "cannot write %s: %s", path, strerror(fb.err));
	}
	return ir_out_commit(&o, 0, d);
}

int fe_onnx_save(const Graph *g, const char *path, const FeSaveOptions *o, Diag *d)
{
	Writer w = {.g = g, .d = d};
	w.opset = target_opset(g);
	w.used = xcalloc((size_t)(g->nvalues ? g->nvalues : 1), 1);
	int rc = -1;

	Onnx__GraphProto gp;
	onnx__graph_proto__init(&gp);
	Onnx__OperatorSetIdProto os;
	onnx__operator_set_id_proto__init(&os);
	os.domain = "";
	os.has_version = 1;
	os.version = w.opset;
	Onnx__OperatorSetIdProto *osp = &os;
	Onnx__ModelProto m;
	onnx__model_proto__init(&m);
	m.has_ir_version = 1;
	m.ir_version = IR_VERSION;
	m.n_opset_import = 1;
	m.opset_import = &osp;
	m.producer_name = (char *)(o && o->producer_name ? o->producer_name : "sqc");
#ifdef SQC_VERSION
	m.producer_version = (char *)(o && o->producer_version ? o->producer_version : SQC_VERSION);
#else
	m.producer_version = (char *)(o && o->producer_version ? o->producer_version : "");
#endif
	m.graph = &gp;
	if (build_graph(&w, &gp) || build_meta(&w, o))
		goto out;
	m.n_metadata_props = w.meta.n;
	m.metadata_props = (Onnx__StringStringEntryProto **)w.meta.p;
	size_t size = onnx__model_proto__get_packed_size(&m);
	if (size > MAX_MODEL_BYTES) {
		diag_error(d, NULL, "cannot write %s: the model needs %zu bytes, above protobuf's 2 "
		           "GiB limit (external data is not supported)", path, size);
		goto out;
	}
	rc = write_atomic(&m, path, d);
out:
	free(w.nodes.p);
	free(w.inits.p);
	free(w.meta.p);
	free(w.made.p);
	free(w.used);
	arena_free(&w.arena);
	return rc;
}
