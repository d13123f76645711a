/* ir/ops.c: the op table expanded from ops.def, and dtype helpers. */
#include "ir.h"

#include <string.h>

const OpInfo ir_ops[OP_COUNT] = {
#define X(e, id, onnx, mini, maxi, mino, maxo, fl) [OP_##e] = {onnx, mini, maxi, mino, maxo, fl},
#include "ops.def"
#undef X
};

const char *ir_op_name(Op op)
{
	return (unsigned)op < OP_COUNT ? ir_ops[op].name : "?";
}

int ir_op_lookup(const char *onnx_name)
{
	for (int i = 0; i < OP_COUNT; i++)
		if (!strcmp(ir_ops[i].name, onnx_name))
			return i;
	return -1;
}

int ir_is_packed(const Node *n)
{
	return (ir_ops[n->op].flags & OPF_WEIGHTED) && n->nin == IR_PACKED_NIN;
}

int ir_onnx_nin(const Node *n)
{
	return ir_is_packed(n) ? IR_IN_PACKED : n->nin;
}

/* dtype table: name in IR text and element size */
static const struct {
	const char *name;
	size_t size;
} dtypes[DT_COUNT] = {
	[DT_UNDEF] = {"undef", 0}, [DT_FLOAT] = {"f32", 4}, [DT_DOUBLE] = {"f64", 8},
	[DT_INT8] = {"i8", 1},     [DT_UINT8] = {"u8", 1},  [DT_INT32] = {"i32", 4},
	[DT_INT64] = {"i64", 8},   [DT_BOOL] = {"bool", 1},
};

size_t ir_dtype_size(DType t)
{
	return (unsigned)t < DT_COUNT ? dtypes[t].size : 0;
}

const char *ir_dtype_name(DType t)
{
	return (unsigned)t < DT_COUNT ? dtypes[t].name : "?";
}

DType ir_dtype_parse(const char *s)
{
	for (int i = 1; i < DT_COUNT; i++)
		if (!strcmp(dtypes[i].name, s))
			return (DType)i;
	return DT_UNDEF;
}

int ir_mul64(int64_t a, int64_t b, int64_t *r)
{
	if (a < 0 || b < 0 || (b && a > INT64_MAX / b))
		return -1;
	*r = a * b;
	return 0;
}

int ir_add64(int64_t a, int64_t b, int64_t *r)
{
	if (a < 0 || b < 0 || a > INT64_MAX - b)
		return -1;
	*r = a + b;
	return 0;
}

int ir_check_elems(int64_t n, const char *what, Diag *d, const char *node)
{
	if (n >= 0 && n <= IR_MAX_ELEMS)
		return 0;
	if (n < 0)
		return diag_error(d, node, "%s: tensor too large (more than 2^63 elements; limit "
		                  "%lld)", what, (long long)IR_MAX_ELEMS);
	return diag_error(d, node, "%s: tensor too large (%lld elements; limit %lld)", what,
	                  (long long)n, (long long)IR_MAX_ELEMS);
}

int64_t ir_shape_numel(const Shape *s)
{
	if (s->rank < 0)
		return -1;
	int64_t n = 1;
	for (int i = 0; i < s->rank; i++) {
		if (s->d[i] < 0)
			return -1;
		if (s->d[i] && n > INT64_MAX / s->d[i])
			return -1;
		n *= s->d[i];
	}
	return n;
}

int ir_shape_eq(const Shape *a, const Shape *b)
{
	if (a->rank != b->rank)
		return 0;
	for (int i = 0; i < a->rank; i++)
		if (a->d[i] != b->d[i])
			return 0;
	return 1;
}

char *ir_shape_str(const Shape *s, char *buf, size_t n)
{
	if (s->rank < 0) {
		snprintf(buf, n, "[?]");
		return buf;
	}
	size_t k = 0;
	k += (size_t)snprintf(buf + k, n - k, "[");
	for (int i = 0; i < s->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)s->d[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
	return buf;
}
