/* frontend/onnx.c: ONNX model import (protobuf-c, generated at build time from the
 * system's onnx.proto).
 *
 * The IR is opset-independent: this file maps every supported opset (7 to 19) onto the
 * latest semantics (passes/passes.h lists the conventions): Constant nodes become constant
 * values; attributes that later opsets turned into inputs (Clip min/max, Reshape shape,
 * Pad pads/value, Squeeze/Unsqueeze axes) become constant operands.
 */
#include "frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"

#define OPSET_MIN 1
#define OPSET_MAX 19

/* ONNX TensorProto.DataType codes */
enum {
	ONNX_FLOAT = 1, ONNX_UINT8 = 2, ONNX_INT8 = 3, ONNX_UINT16 = 4, ONNX_INT16 = 5,
	ONNX_INT32 = 6, ONNX_INT64 = 7, ONNX_STRING = 8, ONNX_BOOL = 9, ONNX_FLOAT16 = 10,
	ONNX_DOUBLE = 11, ONNX_UINT32 = 12, ONNX_UINT64 = 13, ONNX_COMPLEX64 = 14,
	ONNX_COMPLEX128 = 15, ONNX_BFLOAT16 = 16,
};

static DType dtype_from_onnx(int32_t t)
{
	switch (t) {
	case ONNX_FLOAT: return DT_FLOAT;
	case ONNX_DOUBLE: return DT_DOUBLE;
	case ONNX_INT8: return DT_INT8;
	case ONNX_UINT8: return DT_UINT8;
	case ONNX_INT32: return DT_INT32;
	case ONNX_INT64: return DT_INT64;
	case ONNX_BOOL: return DT_BOOL;
	default: return DT_UNDEF;
	}
}

static const char *onnx_type_name(int32_t t)
{
	static const char *names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16",
	                              "int32", "int64", "string", "bool", "float16", "double",
	                              "uint32", "uint64", "complex64", "complex128", "bfloat16"};
	return t >= 0 && t < (int32_t)countof(names) ? names[t] : "unknown";
}

/* Import state for one model. */
typedef struct {
	Graph *g;
	Diag *d;
	const FeOptions *o;
	char *dir;          /* the model's folder, for external data */
	int64_t opset;
} Importer;

/* ---- tensors ------------------------------------------------------------------------ */

/* Rejects external-data locations that could leave the model's folder. */
static int check_location(Importer *im, const char *tname, const char *loc)
{
	if (!*loc)
		return diag_error(im->d, NULL, "initializer '%s': empty external data location", tname);
	if (loc[0] == '/' || loc[0] == '\\')
		return diag_error(im->d, NULL,
		                  "initializer '%s': external data path '%s' is absolute; only files "
		                  "inside the model's folder are read", tname, loc);
	/* any ".." component */
	const char *p = loc;
	while (*p) {
		const char *e = p + strcspn(p, "/\\");
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return diag_error(im->d, NULL,
			                  "initializer '%s': external data path '%s' escapes the model's "
			                  "folder", tname, loc);
		p = *e ? e + 1 : e;
	}
	return 0;
}

/* Reads the external data of t (nbytes of it) into a new buffer (*out). The file is
 * checked before anything is allocated: it must be a regular file (a FIFO, device or
 * socket is refused; it is opened non-blocking, so a FIFO without a writer cannot hang
 * the import) that holds nbytes at the offset. */
static int read_external(Importer *im, const Onnx__TensorProto *t, size_t nbytes, void **out)
{
	const char *loc = NULL;
	int64_t off = 0, len = -1;
	for (size_t i = 0; i < t->n_external_data; i++) {
		const Onnx__StringStringEntryProto *e = t->external_data[i];
		if (!e->key || !e->value)
			continue;
		char *end;
		if (!strcmp(e->key, "location"))
			loc = e->value;
		else if (!strcmp(e->key, "offset") || !strcmp(e->key, "length")) {
			errno = 0;
			long long v = strtoll(e->value, &end, 10);
			if (errno || *end || v < 0)
				return diag_error(im->d, NULL, "initializer '%s': bad external data %s '%s'",
				                  t->name, e->key, e->value);
			if (!strcmp(e->key, "offset"))
				off = v;
			else
				len = v;
		}
	}
	if (!loc)
		return diag_error(im->d, NULL, "initializer '%s': external data without a location",
		                  t->name);
	if (check_location(im, t->name, loc))
		return -1;
	if (len >= 0 && (uint64_t)len != nbytes)
		return diag_error(im->d, NULL,
		                  "initializer '%s': external data length %lld, expected %zu bytes",
		                  t->name, (long long)len, nbytes);
	size_t pl = strlen(im->dir) + strlen(loc) + 2;
	char *path = xmalloc(pl);
	snprintf(path, pl, "%s/%s", im->dir, loc);
	/* Symlinks must not lead out of the folder either. */
	char *rdir = realpath(im->dir, NULL), *rpath = realpath(path, NULL);
	int rc = 0, fd = -1;
	struct stat st;
	int64_t end;
	if (!rpath) {
		rc = diag_error(im->d, NULL, "initializer '%s': cannot open external data file '%s': %s",
		                t->name, loc, strerror(errno));
	} else if (!rdir || strncmp(rpath, rdir, strlen(rdir)) || rpath[strlen(rdir)] != '/') {
		rc = diag_error(im->d, NULL, "initializer '%s': external data path '%s' escapes the "
		                "model's folder", t->name, loc);
	} else if ((fd = open(rpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		rc = diag_error(im->d, NULL, "initializer '%s': cannot open '%s': %s", t->name, loc,
		                strerror(errno));
	} else if (fstat(fd, &st)) {
		rc = diag_error(im->d, NULL, "initializer '%s': cannot open '%s': %s", t->name, loc,
		                strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = diag_error(im->d, NULL, "initializer '%s': external data file '%s' is not a "
		                "regular file (%s)", t->name, loc,
		                S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a folder"
		                : S_ISSOCK(st.st_mode) ? "a socket" : "a device");
	} else if (ir_add64(off, (int64_t)nbytes, &end) || end > (int64_t)st.st_size) {
		rc = diag_error(im->d, NULL, "initializer '%s': external data file '%s' is too short "
		                "(need %zu bytes at offset %lld, the file has %lld)", t->name, loc,
		                nbytes, (long long)off, (long long)st.st_size);
	} else {
		char *data = xmalloc(nbytes ? nbytes : 1);
		size_t got = 0;
		while (got < nbytes) {
			ssize_t r = pread(fd, data + got, nbytes - got, (off_t)(off + (int64_t)got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (got < nbytes) {
			rc = diag_error(im->d, NULL, "initializer '%s': cannot read external data file "
			                "'%s' (need %zu bytes at offset %lld)", t->name, loc, nbytes,
			                (long long)off);
			free(data);
		} else {
			*out = data;
		}
	}
	if (fd >= 0)
		close(fd);
	free(rdir);
	free(rpath);
	free(path);
	return rc;
}

/* Converts a TensorProto to (dtype, shape, malloc'd data). what: "initializer", ...
 * The data's length is checked against the dims before anything is allocated, so a tiny
 * file whose dims claim gigabytes is an error, not an allocation. */
static int tensor_convert(Importer *im, const Onnx__TensorProto *t, const char *what,
                          DType *dt, Shape *sh, void **out)
{
	const char *name = t->name && *t->name ? t->name : "(unnamed)";
	*out = NULL;
	DType ty = dtype_from_onnx(t->data_type);
	if (ty == DT_UNDEF)
		return diag_error(im->d, NULL, "%s '%s': unsupported data type %s (supported: float, "
		                  "double, int8, uint8, int32, int64, bool)", what, name,
		                  onnx_type_name(t->data_type));
	if (t->n_dims > IR_MAX_RANK)
		return diag_error(im->d, NULL, "%s '%s': rank %zu exceeds the maximum %d", what, name,
		                  t->n_dims, IR_MAX_RANK);
	sh->rank = (int)t->n_dims;
	for (size_t i = 0; i < t->n_dims; i++) {
		if (t->dims[i] < 0)
			return diag_error(im->d, NULL, "%s '%s': negative dim %lld", what, name,
			                  (long long)t->dims[i]);
		sh->d[i] = t->dims[i];
	}
	int64_t n = ir_shape_numel(sh), nb;
	if (n < 0)
		return diag_error(im->d, NULL, "%s '%s': the element count of its dims overflows",
		                  what, name);
	char whatname[160];
	snprintf(whatname, sizeof whatname, "%s '%s'", what, name);
	if (ir_check_elems(n, whatname, im->d, NULL) ||
	    ir_mul64(n, (int64_t)ir_dtype_size(ty), &nb))
		return -1;
	size_t nbytes = (size_t)nb;
	if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
		if (read_external(im, t, nbytes, out))
			return -1;
		*dt = ty;
		return 0;
	}
	void *data;
	if (t->has_raw_data) {
		if (t->raw_data.len != nbytes)
			return diag_error(im->d, NULL, "%s '%s': raw_data has %zu bytes, its dims need "
			                  "%zu", what, name, t->raw_data.len, nbytes);
		data = xmalloc(nbytes ? nbytes : 1);
		if (nbytes)
			memcpy(data, t->raw_data.data, nbytes); /* little endian, as on our hosts */
	} else {
		/* typed fields */
		size_t have;
		switch (ty) {
		case DT_FLOAT: have = t->n_float_data; break;
		case DT_DOUBLE: have = t->n_double_data; break;
		case DT_INT64: have = t->n_int64_data; break;
		default: have = t->n_int32_data; break; /* int8, uint8, int32, bool */
		}
		if (have != (size_t)n)
			return diag_error(im->d, NULL, "%s '%s': has %zu elements, its dims need %lld",
			                  what, name, have, (long long)n);
		data = xmalloc(nbytes ? nbytes : 1);
		for (size_t i = 0; i < have; i++)
			switch (ty) {
			case DT_FLOAT: ((float *)data)[i] = t->float_data[i]; break;
			case DT_DOUBLE: ((double *)data)[i] = t->double_data[i]; break;
			case DT_INT64: ((int64_t *)data)[i] = t->int64_data[i]; break;
			case DT_INT32: ((int32_t *)data)[i] = t->int32_data[i]; break;
			case DT_INT8: ((int8_t *)data)[i] = (int8_t)t->int32_data[i]; break;
			case DT_UINT8: ((uint8_t *)data)[i] = (uint8_t)t->int32_data[i]; break;
			case DT_BOOL: ((uint8_t *)data)[i] = t->int32_data[i] != 0; break;
			default: break;
			}
	}
	*dt = ty;
	*out = data;
	return 0;
}

/* ---- graph inputs ------------------------------------------------------------------- */

static const FeInputShape *find_pin(const FeOptions *o, const char *name)
{
	for (int i = 0; o && i < o->npins; i++)
		if (!strcmp(o->pins[i].name, name))
			return &o->pins[i];
	return NULL;
}

static int import_input(Importer *im, const Onnx__ValueInfoProto *vi)
{
	const char *name = vi->name ? vi->name : "";
	const Onnx__TypeProto *tp = vi->type;
	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return diag_error(im->d, NULL, "graph input '%s' is not a tensor", name);
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	DType ty = dtype_from_onnx(tt->elem_type);
	if (ty == DT_UNDEF)
		return diag_error(im->d, NULL, "graph input '%s': unsupported data type %s (supported: "
		                  "float, double, int8, uint8, int32, int64, bool)", name,
		                  onnx_type_name(tt->elem_type));
	Shape s = {0};
	const FeInputShape *pin = find_pin(im->o, name);
	if (pin) {
		if (tt->shape && tt->shape->n_dim != (size_t)pin->shape.rank)
			return diag_error(im->d, NULL, "input '%s': the shape given (--input-shape or the "
			                  "input file) has rank %d, the model's input has rank %zu", name,
			                  pin->shape.rank, tt->shape->n_dim);
		s = pin->shape;
		for (int i = 0; tt->shape && i < s.rank; i++) {
			const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[i];
			if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
			    dm->dim_value != s.d[i])
				return diag_error(im->d, NULL, "input '%s': the shape given (--input-shape or "
				                  "the input file) has dim %d = %lld, the model fixes it to %lld",
				                  name, i, (long long)s.d[i], (long long)dm->dim_value);
		}
	} else {
		if (!tt->shape)
			return diag_error(im->d, NULL, "graph input '%s' has no shape; give one with "
			                  "--input-shape %s=1x...", name, name);
		if (tt->shape->n_dim > IR_MAX_RANK)
			return diag_error(im->d, NULL, "graph input '%s': rank %zu exceeds the maximum %d",
			                  name, tt->shape->n_dim, IR_MAX_RANK);
		s.rank = (int)tt->shape->n_dim;
		for (int i = 0; i < s.rank; i++) {
			const Onnx__TensorShapeProto__Dimension *dm = tt->shape->dim[i];
			if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
				if (dm->dim_value < 0)
					return diag_error(im->d, NULL, "graph input '%s': negative dim %lld", name,
					                  (long long)dm->dim_value);
				s.d[i] = dm->dim_value;
			} else if (i == 0) {
				s.d[i] = im->o && im->o->batch > 0 ? im->o->batch : 1; /* symbolic batch */
			} else {
				const char *p = dm->value_case ==
				                        ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
				                    ? dm->dim_param
				                    : "?";
				return diag_error(im->d, NULL, "graph input '%s': dim %d is symbolic ('%s'); "
				                  "pin it with --input-shape %s=...", name, i, p, name);
			}
		}
	}
	int64_t numel = ir_shape_numel(&s);
	if (numel < 0)
		return diag_error(im->d, NULL, "graph input '%s': the element count of its dims "
		                  "overflows", name);
	char what[160];
	snprintf(what, sizeof what, "graph input '%s'", name);
	if (ir_check_elems(numel, what, im->d, NULL))
		return -1;
	Graph *g = im->g;
	int v = ir_value_add(g, name, ty, &s);
	g->values[v].is_input = 1;
	g->inputs = xrealloc(g->inputs, sizeof(int) * (size_t)(g->ninputs + 1));
	g->inputs[g->ninputs++] = v;
	return 0;
}

/* ---- nodes -------------------------------------------------------------------------- */

static void supported_ops_list(char *buf, size_t n)
{
	size_t k = 0;
	buf[0] = 0;
	for (int i = 0; i < OP_COUNT && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? " " : "", ir_ops[i].name);
}

/* Adds a constant i64 vector operand made from an attribute (opset-upgrade helper). */
static int const_i64(Graph *g, const char *base, const char *what, const int64_t *v, int n)
{
	Shape s = {1, {n}};
	int64_t *data = xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	for (int i = 0; i < n; i++)
		data[i] = v[i];
	char *nm = arena_printf(&g->arena, "%s.%s", base, what);
	return ir_const_add(g, ir_fresh_name(g, nm), DT_INT64, &s, data);
}

static int const_f32_scalar(Graph *g, const char *base, const char *what, float f)
{
	Shape s = {0, {0}};
	float *data = xmalloc(sizeof(float));
	*data = f;
	char *nm = arena_printf(&g->arena, "%s.%s", base, what);
	return ir_const_add(g, ir_fresh_name(g, nm), DT_FLOAT, &s, data);
}

/* A Constant node becomes a constant value named by its output. */
static int import_constant(Importer *im, const Onnx__NodeProto *np, const char *nname)
{
	Graph *g = im->g;
	if (np->n_output != 1)
		return diag_error(im->d, nname, "Constant must have one output");
	DType ty = DT_UNDEF;
	Shape s = {0};
	void *data = NULL;
	for (size_t i = 0; i < np->n_attribute; i++) {
		const Onnx__AttributeProto *a = np->attribute[i];
		if (!a->name)
			continue;
		if (!strcmp(a->name, "value") && a->t) {
			if (tensor_convert(im, a->t, "Constant", &ty, &s, &data))
				return -1;
		} else if (!strcmp(a->name, "value_float")) {
			ty = DT_FLOAT;
			s.rank = 0;
			data = xmalloc(4);
			*(float *)data = a->f;
		} else if (!strcmp(a->name, "value_int")) {
			ty = DT_INT64;
			s.rank = 0;
			data = xmalloc(8);
			*(int64_t *)data = a->i;
		} else if (!strcmp(a->name, "value_floats")) {
			ty = DT_FLOAT;
			s.rank = 1;
			s.d[0] = (int64_t)a->n_floats;
			data = xmalloc(4 * (a->n_floats ? a->n_floats : 1));
			if (a->n_floats)
				memcpy(data, a->floats, 4 * a->n_floats);
		} else if (!strcmp(a->name, "value_ints")) {
			ty = DT_INT64;
			s.rank = 1;
			s.d[0] = (int64_t)a->n_ints;
			data = xmalloc(8 * (a->n_ints ? a->n_ints : 1));
			if (a->n_ints)
				memcpy(data, a->ints, 8 * a->n_ints);
		} else {
			return diag_error(im->d, nname, "Constant attribute '%s' is not supported", a->name);
		}
		break;
	}
	if (!data)
		return diag_error(im->d, nname, "Constant has no value");
	int v = ir_value_find(g, np->output[0]);
	if (v >= 0) {
		free(data);
		return diag_error(im->d, nname, "duplicate tensor name '%s' (defined twice)", np->output[0]);
	}
	ir_const_add(g, np->output[0], ty, &s, data);
	return 0;
}

static int import_attrs(Importer *im, const Onnx__NodeProto *np, int nid, const char *nname)
{
	Graph *g = im->g;
	for (size_t i = 0; i < np->n_attribute; i++) {
		const Onnx__AttributeProto *a = np->attribute[i];
		if (!a->name || !*a->name)
			return diag_error(im->d, nname, "attribute without a name");
		if (a->ref_attr_name && *a->ref_attr_name)
			return diag_error(im->d, nname, "attribute '%s' refers to a function attribute",
			                  a->name);
		int type = a->has_type ? (int)a->type : -1;
		if (type < 0) /* old exporters omit the type; infer it from the filled field */
			type = a->n_ints ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
			     : a->n_floats ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
			     : a->has_s ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
			     : a->has_f ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
			                : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		switch (type) {
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
			ir_attr_set_i(g, nid, a->name, a->i);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
			ir_attr_set_f(g, nid, a->name, a->f);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
			char *s = xmalloc(a->s.len + 1);
			if (a->s.len)
				memcpy(s, a->s.data, a->s.len);
			s[a->s.len] = 0;
			ir_attr_set_s(g, nid, a->name, s);
			free(s);
			break;
		}
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
			if (a->n_ints > INT_MAX / 8)
				return diag_error(im->d, nname, "attribute '%s' is too long", a->name);
			ir_attr_set_ints(g, nid, a->name, a->ints, (int)a->n_ints);
			break;
		case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
			if (a->n_floats > INT_MAX / 8)
				return diag_error(im->d, nname, "attribute '%s' is too long", a->name);
			ir_attr_set_floats(g, nid, a->name, a->floats, (int)a->n_floats);
			break;
		default:
			return diag_error(im->d, nname, "attribute '%s' has a type (%d) that %s does not "
			                  "take", a->name, type, ir_op_name(g->nodes[nid].op));
		}
	}
	return 0;
}

/* Maps older opsets onto the IR's conventions: attribute operands become inputs. */
static int upgrade_node(Importer *im, int nid, int *in, int *nin)
{
	Graph *g = im->g;
	Node *n = &g->nodes[nid];
	const char *nm = n->name;
	int64_t buf[2 * IR_MAX_RANK];
	int k;
	/* opset < 7 leftovers: consumed_inputs (opset 1) carries no meaning for inference */
	ir_attr_remove(n, "consumed_inputs");
	if (im->opset < 7) {
		switch (n->op) {
		case OP_ADD:
		case OP_SUB:
		case OP_MUL:
		case OP_DIV:
		case OP_GEMM:
			/* legacy broadcasting: B aligned to A's dims from `axis` (suffix by default,
			 * which numpy rules already give) */
			if (ir_attr_i(n, "broadcast", 0) && ir_attr_get(n, "axis") && n->op != OP_GEMM) {
				/* B's dims must lie inside A's from `axis` on. The ranks are known here
				 * when the operands are graph inputs or constants (ir_rhs_shape falls back
				 * to numpy rules on an axis it cannot apply). */
				int64_t axis = ir_attr_i(n, "axis", 0);
				int ra = *nin > 1 && in[0] >= 0 ? g->values[in[0]].shape.rank : -1;
				int rb = *nin > 1 && in[1] >= 0 ? g->values[in[1]].shape.rank : -1;
				if (ra >= 0 && rb >= 0 && (axis < 0 || axis + rb > ra))
					return diag_error(im->d, nm, "%s: broadcast axis %lld is out of range: "
					                  "B (rank %d) must lie inside A (rank %d) from the "
					                  "axis on, so the axis is in [0, %d]",
					                  ir_op_name(n->op), (long long)axis, rb, ra,
					                  ra - rb < 0 ? 0 : ra - rb);
				if (axis < 0 || axis >= IR_MAX_RANK)
					return diag_error(im->d, nm, "%s: broadcast axis %lld is out of range "
					                  "[0, %d]", ir_op_name(n->op), (long long)axis,
					                  IR_MAX_RANK - 1);
				ir_attr_set_i(g, nid, "legacy_axis", axis);
			}
			n = &g->nodes[nid];
			ir_attr_remove(n, "broadcast");
			ir_attr_remove(n, "axis");
			break;
		case OP_PRELU:
			ir_attr_set_i(g, nid, "legacy_axis", 1); /* slope per channel */
			break;
		case OP_DROPOUT:
			if (ir_attr_i(n, "is_test", 0) == 0)
				return diag_error(im->d, nm, "Dropout is_test=0 (training mode, opset %lld) is "
				                  "not supported", (long long)im->opset);
			ir_attr_remove(n, "is_test");
			break;
		case OP_BATCHNORMALIZATION:
			ir_attr_remove(n, "is_test");
			break;
		case OP_CONCAT:
			if (im->opset < 4 && !ir_attr_get(n, "axis"))
				ir_attr_set_i(g, nid, "axis", 1);
			break;
		case OP_PAD:
			if (ir_attr_get(n, "paddings")) { /* opset 1 name */
				k = ir_attr_ints(n, "paddings", buf, 2 * IR_MAX_RANK);
				if (k >= 0 && k <= 2 * IR_MAX_RANK)
					ir_attr_set_ints(g, nid, "pads", buf, k);
				ir_attr_remove(&g->nodes[nid], "paddings");
			}
			break;
		default:
			break;
		}
		n = &g->nodes[nid];
	}
	switch (n->op) {
	case OP_CLIP:
		if (im->opset < 11) {
			float lo = ir_attr_f(n, "min", -INFINITY), hi = ir_attr_f(n, "max", INFINITY);
			in[1] = const_f32_scalar(g, nm, "min", lo);
			in[2] = const_f32_scalar(g, nm, "max", hi);
			*nin = 3;
			ir_attr_remove(&g->nodes[nid], "min");
			ir_attr_remove(&g->nodes[nid], "max");
		}
		break;
	case OP_RESHAPE:
		if (*nin == 1) {
			k = ir_attr_ints(n, "shape", buf, IR_MAX_RANK);
			if (k < 0 || k > IR_MAX_RANK)
				return diag_error(im->d, nm, "Reshape needs a shape");
			in[1] = const_i64(g, nm, "shape", buf, k);
			*nin = 2;
			ir_attr_remove(&g->nodes[nid], "shape");
		}
		break;
	case OP_PAD:
		if (im->opset < 11) {
			k = ir_attr_ints(n, "pads", buf, 2 * IR_MAX_RANK);
			if (k < 0 || k > 2 * IR_MAX_RANK)
				return diag_error(im->d, nm, "Pad needs pads");
			in[1] = const_i64(g, nm, "pads", buf, k);
			in[2] = const_f32_scalar(g, nm, "value", ir_attr_f(n, "value", 0.0f));
			*nin = 3;
			ir_attr_remove(&g->nodes[nid], "pads");
			ir_attr_remove(&g->nodes[nid], "value");
		}
		break;
	case OP_SQUEEZE:
	case OP_UNSQUEEZE:
		if (im->opset < 13) {
			k = ir_attr_ints(n, "axes", buf, IR_MAX_RANK);
			if (k > IR_MAX_RANK)
				return diag_error(im->d, nm, "too many axes");
			if (k >= 0) {
				in[1] = const_i64(g, nm, "axes", buf, k);
				*nin = 2;
				ir_attr_remove(&g->nodes[nid], "axes");
			}
		}
		break;
	case OP_SOFTMAX:
	case OP_LOGSOFTMAX:
		if (im->opset < 13) {
			ir_attr_set_i(g, nid, "axis", ir_attr_i(n, "axis", 1));
			ir_attr_set_i(g, nid, "coerce2d", 1);
		} else {
			ir_attr_set_i(g, nid, "axis", ir_attr_i(n, "axis", -1));
		}
		break;
	case OP_BATCHNORMALIZATION:
		if (ir_attr_i(n, "training_mode", 0))
			return diag_error(im->d, nm, "BatchNormalization training_mode=1 is not supported "
			                  "(export the model in eval mode)");
		if (ir_attr_i(n, "spatial", 1) != 1)
			return diag_error(im->d, nm, "BatchNormalization spatial=0 is not supported");
		ir_attr_remove(&g->nodes[nid], "spatial");
		ir_attr_remove(&g->nodes[nid], "momentum");
		break;
	default:
		break;
	}
	return 0;
}

/* Is node np an op sqc imports (a default-domain op of ops.def, or Constant)? */
static int op_known(const Onnx__NodeProto *np)
{
	const char *ot = np->op_type ? np->op_type : "";
	if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx"))
		return 0;
	return !strcmp(ot, "Constant") || ir_op_lookup(ot) >= 0;
}

/* One error for every op the model uses that sqc does not support, with the nodes of each,
 * before any node is imported, so that a user meets them all at once (not the first one,
 * then the next). */
static int check_ops(Importer *im, const Onnx__GraphProto *gp)
{
	size_t nbad = 0;
	for (size_t i = 0; i < gp->n_node; i++)
		nbad += !op_known(gp->node[i]);
	if (!nbad)
		return 0;
	char msg[1536];
	size_t k = 0;
	int kinds = 0;
	const char *first = NULL;
	for (size_t i = 0; i < gp->n_node && k < sizeof msg; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		if (op_known(np))
			continue;
		const char *ot = np->op_type ? np->op_type : "";
		const char *dom = np->domain && *np->domain ? np->domain : "";
		int seen = 0; /* this op type (and domain) listed already? */
		for (size_t j = 0; j < i && !seen; j++) {
			const Onnx__NodeProto *q = gp->node[j];
			seen = !op_known(q) && !strcmp(q->op_type ? q->op_type : "", ot) &&
			       !strcmp(q->domain && *q->domain ? q->domain : "", dom);
		}
		if (seen)
			continue;
		if (!first)
			first = np->name && *np->name ? np->name : NULL;
		int count = 0;
		for (size_t j = i; j < gp->n_node; j++) {
			const Onnx__NodeProto *q = gp->node[j];
			count += !op_known(q) && !strcmp(q->op_type ? q->op_type : "", ot) &&
			         !strcmp(q->domain && *q->domain ? q->domain : "", dom);
		}
		k += (size_t)snprintf(msg + k, sizeof msg - k, "%s'%s'%s%s%s (%d node%s)",
		                      kinds ? ", " : "", ot, *dom ? " from domain '" : "", dom,
		                      *dom ? "'" : "", count, count == 1 ? "" : "s");
		kinds++;
	}
	char list[1024];
	supported_ops_list(list, sizeof list);
	return diag_error(im->d, kinds == 1 && nbad == 1 ? first : NULL,
	                  "unsupported op%s %s (supported ops: default-domain %s)",
	                  kinds > 1 ? "s" : "", msg, list);
}

static int import_node(Importer *im, const Onnx__NodeProto *np, int idx)
{
	Graph *g = im->g;
	char fallback[64];
	snprintf(fallback, sizeof fallback, "#%d", idx);
	const char *nname = np->name && *np->name ? np->name : fallback;
	const char *ot = np->op_type ? np->op_type : "";
	if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx")) {
		char list[1024];
		supported_ops_list(list, sizeof list);
		return diag_error(im->d, nname, "unsupported op '%s' from domain '%s' (supported: "
		                  "default-domain %s)", ot, np->domain, list);
	}
	if (!strcmp(ot, "Constant"))
		return import_constant(im, np, nname);
	int op = ir_op_lookup(ot);
	if (op < 0) {
		char list[1024];
		supported_ops_list(list, sizeof list);
		return diag_error(im->d, nname, "unsupported op '%s' (supported ops: %s)", ot, list);
	}
	const OpInfo *oi = &ir_ops[op];
	/* Trailing empty names are absent optional inputs/outputs. */
	size_t nin = np->n_input, nout = np->n_output;
	while (nin && (!np->input[nin - 1] || !*np->input[nin - 1]))
		nin--;
	while (nout && (!np->output[nout - 1] || !*np->output[nout - 1]))
		nout--;
	/* the opset upgrade may append up to 2 operands */
	if ((int)nin > oi->max_in || (int)nin + 2 < oi->min_in)
		return diag_error(im->d, nname, "%s takes %d to %d inputs, got %zu", ot, oi->min_in,
		                  oi->max_in, nin);
	if ((int)nout < oi->min_out || (int)nout > oi->max_out)
		return diag_error(im->d, nname, "%s has %d to %d outputs, got %zu", ot, oi->min_out,
		                  oi->max_out, nout);
	int in[72], out[8];
	for (size_t i = 0; i < nin; i++) {
		const char *s = np->input[i];
		if (!s || !*s) {
			in[i] = -1;
			continue;
		}
		in[i] = ir_value_find(g, s);
		if (in[i] < 0)
			return diag_error(im->d, nname, "input '%s' not found: it is not produced by any node, nor a "
			                  "graph input or initializer", s);
	}
	for (size_t i = 0; i < nout; i++) {
		const char *s = np->output[i];
		if (!s || !*s) {
			out[i] = -1;
			continue;
		}
		out[i] = ir_value_find(g, s);
		if (out[i] < 0)
			return diag_error(im->d, nname, "output '%s' is missing (internal)", s);
		if (g->values[out[i]].producer >= 0 || g->values[out[i]].data ||
		    g->values[out[i]].is_input)
			return diag_error(im->d, nname, "duplicate tensor name '%s' (defined twice)", s);
	}
	int nid = ir_node_add(g, (Op)op, nname, in, (int)nin, out, (int)nout);
	if (import_attrs(im, np, nid, nname))
		return -1;
	int n2 = (int)nin;
	if (upgrade_node(im, nid, in, &n2))
		return -1;
	if (n2 < oi->min_in)
		return diag_error(im->d, nname, "%s takes %d to %d inputs, got %zu", ot, oi->min_in,
		                  oi->max_in, nin);
	if (n2 != (int)nin) {
		Node *n = &g->nodes[nid];
		n->in = arena_alloc(&g->arena, sizeof(int) * (size_t)n2);
		memcpy(n->in, in, sizeof(int) * (size_t)n2);
		n->nin = n2;
	}
	return 0;
}

/* ---- model -------------------------------------------------------------------------- */

/* ---- sqc metadata ---------------------------------------------------------------------
 * A model written by --save-onnx carries its fine-tuning decisions as metadata_props
 * "sqc.node.<node name>.<sqc.attr>" = value in IR text syntax (2, 0.5f, "s", [1,2],
 * [0.5f,1f], ints[], floats[]); they become the nodes' sqc.* attributes again. */

static int is_float_token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr(".eEfn", s[i]) || (s[i] == 'i' && i + 1 < n && s[i + 1] == 'n'))
			return 1;
	return 0;
}

static int set_meta_attr(Importer *im, int node, const char *attr, const char *val)
{
	Graph *g = im->g;
	size_t n = strlen(val);
	if (val[0] == '"' && n >= 2 && val[n - 1] == '"') {
		char *s = strndup(val + 1, n - 2);
		ir_attr_set_s(g, node, attr, s);
		free(s);
		return 0;
	}
	const char *lb = strchr(val, '[');
	if (lb) {
		int isf = !strncmp(val, "floats", 6) || (strncmp(val, "ints", 4) && is_float_token(lb, strlen(lb)));
		int cap = 16, k = 0;
		int64_t *iv = xmalloc(sizeof(int64_t) * (size_t)cap);
		float *fv = xmalloc(sizeof(float) * (size_t)cap);
		const char *p = lb + 1;
		while (*p && *p != ']') {
			char *end;
			if (k == cap) {
				cap *= 2;
				iv = xrealloc(iv, sizeof(int64_t) * (size_t)cap);
				fv = xrealloc(fv, sizeof(float) * (size_t)cap);
			}
			if (isf) {
				fv[k] = strtof(p, &end);
				if (*end == 'f')
					end++;
			} else {
				iv[k] = strtoll(p, &end, 10);
			}
			if (end == p)
				break;
			k++;
			p = end;
			while (*p == ',' || *p == ' ')
				p++;
		}
		int bad = *p != ']';
		if (!bad) {
			if (isf)
				ir_attr_set_floats(g, node, attr, fv, k);
			else
				ir_attr_set_ints(g, node, attr, iv, k);
		}
		free(iv);
		free(fv);
		return bad ? -1 : 0;
	}
	char *end;
	if (is_float_token(val, n)) {
		float f = strtof(val, &end);
		if (*end == 'f')
			end++;
		if (*end)
			return -1;
		ir_attr_set_f(g, node, attr, f);
	} else {
		long long v = strtoll(val, &end, 10);
		if (*end || end == val)
			return -1;
		ir_attr_set_i(g, node, attr, v);
	}
	return 0;
}

static int import_metadata(Importer *im, const Onnx__ModelProto *m)
{
	for (size_t i = 0; i < m->n_metadata_props; i++) {
		const char *k = m->metadata_props[i]->key, *v = m->metadata_props[i]->value;
		if (!k || !v || strncmp(k, "sqc.node.", 9))
			continue;
		/* split at the last ".sqc.": node names may contain dots */
		const char *at = NULL;
		for (const char *p = strstr(k + 9, ".sqc."); p; p = strstr(p + 1, ".sqc."))
			at = p;
		if (!at)
			continue;
		char *node = strndup(k + 9, (size_t)(at - (k + 9)));
		int id = -1;
		for (int j = 0; j < im->g->nnodes && id < 0; j++)
			if (!strcmp(im->g->nodes[j].name, node))
				id = j;
		int rc = id < 0 ? -1 : set_meta_attr(im, id, at + 1, v);
		free(node);
		if (rc)
			return diag_error(im->d, NULL, "metadata '%s' = '%s' does not fit the graph", k, v);
	}
	return 0;
}

static int import_graph(Importer *im, const Onnx__GraphProto *gp)
{
	Graph *g = im->g;
	/* initializers first: inputs that are also initializers are constants */
	for (size_t i = 0; i < gp->n_initializer; i++) {
		const Onnx__TensorProto *t = gp->initializer[i];
		if (!t->name || !*t->name)
			return diag_error(im->d, NULL, "initializer %zu has no name", i);
		if (ir_value_find(g, t->name) >= 0)
			return diag_error(im->d, NULL, "initializer '%s' is defined twice", t->name);
		DType ty;
		Shape s;
		void *data;
		if (tensor_convert(im, t, "initializer", &ty, &s, &data))
			return -1;
		ir_const_add(g, t->name, ty, &s, data);
	}
	if (gp->n_sparse_initializer)
		return diag_error(im->d, NULL, "sparse initializers are not supported");
	for (size_t i = 0; i < gp->n_input; i++) {
		const Onnx__ValueInfoProto *vi = gp->input[i];
		if (!vi->name || !*vi->name)
			return diag_error(im->d, NULL, "graph input %zu has no name", i);
		int v = ir_value_find(g, vi->name);
		if (v >= 0 && g->values[v].data)
			continue; /* an initializer: constant */
		if (v >= 0)
			return diag_error(im->d, NULL, "graph input '%s' is declared twice", vi->name);
		if (import_input(im, vi))
			return -1;
	}
	/* Pre-declare every node output so that nodes listed out of order (or in a cycle)
	 * resolve, then import nodes; toposort orders them or reports the cycle. */
	for (size_t i = 0; i < gp->n_node; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		if (np->op_type && !strcmp(np->op_type, "Constant"))
			continue;
		for (size_t j = 0; j < np->n_output; j++) {
			const char *s = np->output[j];
			if (!s || !*s)
				continue;
			int v = ir_value_find(g, s);
			if (v >= 0) {
				const char *nn = np->name && *np->name ? np->name : NULL;
				return diag_error(im->d, nn, "duplicate tensor name '%s' (defined twice)", s);
			}
			ir_value_add(g, s, DT_UNDEF, NULL);
		}
	}
	if (check_ops(im, gp))
		return -1;
	/* Constant nodes first, as constants (they may be listed after their readers). */
	for (size_t i = 0; i < gp->n_node; i++)
		if (gp->node[i]->op_type && !strcmp(gp->node[i]->op_type, "Constant"))
			if (import_node(im, gp->node[i], (int)i))
				return -1;
	for (size_t i = 0; i < gp->n_node; i++)
		if (!gp->node[i]->op_type || strcmp(gp->node[i]->op_type, "Constant"))
			if (import_node(im, gp->node[i], (int)i))
				return -1;
	if (!gp->n_output)
		return diag_error(im->d, NULL, "the graph has no outputs");
	for (size_t i = 0; i < gp->n_output; i++) {
		const char *s = gp->output[i]->name ? gp->output[i]->name : "";
		int v = ir_value_find(g, s);
		if (v < 0)
			return diag_error(im->d, NULL, "graph output '%s' is not produced by any node", s);
		g->values[v].is_output = 1;
		g->outputs = xrealloc(g->outputs, sizeof(int) * (size_t)(g->noutputs + 1));
		g->outputs[g->noutputs++] = v;
	}
	return ir_graph_toposort(g, im->d);
}

void *fe_read_file(const char *path, size_t *size, Diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_error(d, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = xmalloc(cap + 1);
	for (;;) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		cap *= 2;
		buf = xrealloc(buf, cap + 1);
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		diag_error(d, NULL, "read error");
		return NULL;
	}
	buf[n] = 0;
	*size = n;
	return buf;
}

Graph *fe_onnx_load(const char *path, const FeOptions *o, Diag *d)
{
	size_t n;
	unsigned char *buf = fe_read_file(path, &n, d);
	if (!buf)
		return NULL;
	if (n == 0) {
		free(buf);
		diag_error(d, NULL, "empty file (not an ONNX model)");
		return NULL;
	}
	Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, buf);
	free(buf);
	if (!m) {
		diag_error(d, NULL, "cannot parse the file as an ONNX model (not a protobuf "
		           "ModelProto, or truncated)");
		return NULL;
	}
	Importer im = {0};
	im.d = d;
	im.o = o;
	Graph *g = NULL;
	if (!m->graph || !m->has_ir_version) {
		diag_error(d, NULL, "not an ONNX model: %s", !m->graph ? "it has no graph"
		                                                       : "it has no ir_version");
		goto fail;
	}
	int has_opset = 0; /* a negative version is an error, not a missing one */
	for (size_t i = 0; i < m->n_opset_import; i++) {
		const Onnx__OperatorSetIdProto *os = m->opset_import[i];
		if (!os->domain || !*os->domain || !strcmp(os->domain, "ai.onnx")) {
			im.opset = os->version;
			has_opset = 1;
		}
	}
	if (!has_opset)
		im.opset = m->ir_version <= 3 ? 7 : OPSET_MIN; /* very old models omit it */
	if (im.opset < OPSET_MIN || im.opset > OPSET_MAX) {
		diag_error(d, NULL, "opset %lld is not supported (supported: %d to %d)",
		           (long long)im.opset, OPSET_MIN, OPSET_MAX);
		goto fail;
	}
	g = ir_graph_new(m->graph->name && *m->graph->name ? m->graph->name : "main");
	g->opset = im.opset;
	im.g = g;
	/* the model's folder, for external data */
	const char *slash = strrchr(path, '/');
	im.dir = slash ? strndup(path, (size_t)((slash - path) ? slash - path : 1)) : strdup(".");
	if (import_graph(&im, m->graph) || import_metadata(&im, m))
		goto fail;
	for (int i = 0; o && i < o->npins; i++) {
		int v = ir_value_find(g, o->pins[i].name);
		if (v < 0 || !g->values[v].is_input) {
			char list[512] = "";
			size_t k = 0;
			for (int j = 0; j < g->ninputs && k < sizeof list; j++)
				k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", j ? ", " : "",
				                      g->values[g->inputs[j]].name);
			diag_error(d, NULL, "--input-shape: the model has no input named '%s' (inputs: %s)",
			           o->pins[i].name, list);
			goto fail;
		}
	}
	free(im.dir);
	onnx__model_proto__free_unpacked(m, NULL);
	return g;
fail:
	free(im.dir);
	ir_graph_free(g);
	onnx__model_proto__free_unpacked(m, NULL);
	return NULL;
}

int fe_parse_input_shape(char *arg, FeInputShape *pin)
{
	char *eq = strrchr(arg, '=');
	if (!eq || eq == arg)
		return -1;
	*eq = 0;
	pin->name = arg;
	memset(&pin->shape, 0, sizeof pin->shape);
	char *p = eq + 1;
	if (!*p)
		return 0; /* a scalar */
	for (;;) {
		if (pin->shape.rank == IR_MAX_RANK)
			return -1;
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno || v < 0)
			return -1;
		pin->shape.d[pin->shape.rank++] = v;
		if (!*end)
			break;
		if (*end != 'x' && *end != ',')
			return -1;
		p = end + 1;
	}
	return ir_shape_numel(&pin->shape) < 0 ? -1 : 0;
}

/* ---- ONNX TensorProto files (.pb), as the conformance suite stores inputs ------------ */

int fe_tensor_pb_read(const char *path, FeTensor *t, Diag *d)
{
	memset(t, 0, sizeof *t);
	size_t n;
	unsigned char *buf = fe_read_file(path, &n, d);
	if (!buf)
		return -1;
	Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, n, buf);
	free(buf);
	if (!tp)
		return diag_error(d, NULL, "cannot parse the file as an ONNX TensorProto");
	Importer im = {0};
	im.d = d;
	const char *slash = strrchr(path, '/');
	im.dir = slash ? strndup(path, (size_t)((slash - path) ? slash - path : 1)) : strdup(".");
	int rc = tensor_convert(&im, tp, "tensor", &t->dtype, &t->shape, &t->data);
	free(im.dir);
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return rc;
}
