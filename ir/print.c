/* ir/print.c: the textual IR printer. parse.c reads exactly what this writes (convention 9):
 * print(parse(print(g))) is byte-identical to print(g).
 *
 * Grammar (EBNF; blanks between tokens are free, `#` starts a comment to end of line):
 *
 *   graph    = "graph" "@" NAME ["opset" INT] "{" {item} "}"
 *   item     = input | const | node | output
 *   input    = "input" value ":" type
 *   const    = "const" value ":" type "=" (elems | "dense" "<" INT "elements" ">")
 *   node     = result {"," result} "=" OPNAME "(" [operand {"," operand}] ")"
 *              ["{" [attr {"," attr}] "}"] ["@" NAME]
 *   output   = "output" value
 *   result   = value ":" type | "_"                 _ : absent optional result (id -1)
 *   operand  = value | "_"                          _ : absent optional operand (id -1)
 *   value    = "%" NAME
 *   type     = DTYPE "[" ["?" | INT {"," INT}] "]"  f32 f64 i8 u8 i32 i64 bool undef;
 *                                                   [] is a scalar, [?] an unknown shape
 *   elems    = "[" [num {"," num}] "]"              flat, row-major, numel(type) elements
 *   attr     = ANAME "=" (INT | FLOAT | STRING | list | "ints" list | "floats" list)
 *   list     = "[" [num {"," num}] "]"              floats if any element is a FLOAT, else
 *                                                   ints; an empty list needs its kind:
 *                                                   ints[] / floats[]
 *   num      = INT | FLOAT
 *   NAME     = [A-Za-z0-9_.:/-]+ not ending in ':'  |  STRING
 *              (unquoted, the run also stops at a ':' followed by a type: %x:f32[1])
 *   ANAME    = [A-Za-z_][A-Za-z0-9_]*  |  STRING
 *   OPNAME   = the ONNX op_type of a row of ops.def
 *   STRING   = '"' {char | \\ | \" | \n | \t | \r | \xHH} '"'   (no NUL, no raw newline)
 *   INT      = [+-]?[0-9]+
 *   FLOAT    = a number strtod reads that is not an INT (has '.', an exponent, inf or nan),
 *              or any number followed by 'f'; also the words inf and nan
 *
 * Values must be defined (input, const or node result) before they are used; a name is
 * defined once. Outputs refer to defined values.
 *
 * Canonical form written by ir_print:
 *   - two-space indent, one item per line: the graph inputs (g->inputs order), the
 *     constants read by a live node or listed as graph output (value-id order), the live
 *     nodes (stored order; dead nodes are skipped), the `output` lines (g->outputs order);
 *   - value and graph names unquoted when they match the simple NAME form, node names
 *     always quoted, attribute names unquoted when they are identifiers;
 *   - attribute floats are written with a trailing 'f' (`0.01f`, `1f`, `1e-05f`), except
 *     `inf`, `-inf`, `nan`; the digits are the shortest of %.6g..%.9g that reads back to
 *     the same float. Non-empty lists have no kind prefix;
 *   - constant elements: integers in decimal (bool as 0/1), f32 as above without the 'f',
 *     f64 the shortest of %.15g..%.17g; inf, -inf, nan;
 *   - constants with more than IR_PRINT_MAX_ELEMS elements are elided as
 *     `dense<N elements>` unless `full`. The parser fills elided constants with
 *     deterministic pseudo-random data seeded from the value name (floats uniform in
 *     [-1,1], integers in [0,4), bools 0/1), so IR tests can run passes on them.
 */
#include "ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

/* A NAME that can go unquoted after % or @. */
static int simple_name(const char *s)
{
	if (!*s)
		return 0;
	for (const char *q = s; *q; q++)
		if (!is_name_char((unsigned char)*q))
			return 0;
	return s[strlen(s) - 1] != ':';
}

/* An ANAME that can go unquoted. */
static int simple_ident(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (const char *q = s; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '_'))
			return 0;
	return 1;
}

static void print_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		switch (*q) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*q < 0x20 || *q == 0x7f)
				fprintf(f, "\\x%02x", *q);
			else
				fputc(*q, f);
		}
	}
	fputc('"', f);
}

static void print_name(FILE *f, int sigil, const char *s)
{
	fputc(sigil, f);
	if (simple_name(s))
		fputs(s, f);
	else
		print_quoted(f, s);
}

/* Shortest %.{6..9}g that reads back exactly (6 digits are below float precision, so
 * nothing shorter than %.6g's output can round-trip where %.6g does not). */
static void fmt_f32(char *buf, size_t n, float x)
{
	if (isnan(x)) {
		snprintf(buf, n, "nan");
		return;
	}
	if (isinf(x)) {
		snprintf(buf, n, "%s", x < 0 ? "-inf" : "inf");
		return;
	}
	for (int p = 6; p <= 9; p++) {
		snprintf(buf, n, "%.*g", p, (double)x);
		if (strtof(buf, NULL) == x)
			return;
	}
}

static void fmt_f64(char *buf, size_t n, double x)
{
	if (isnan(x)) {
		snprintf(buf, n, "nan");
		return;
	}
	if (isinf(x)) {
		snprintf(buf, n, "%s", x < 0 ? "-inf" : "inf");
		return;
	}
	for (int p = 15; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, x);
		if (strtod(buf, NULL) == x)
			return;
	}
}

/* An attribute float: always recognizable as a float (see FLOAT). */
static void print_attr_float(FILE *f, float x)
{
	char buf[32];
	fmt_f32(buf, sizeof buf, x);
	fputs(buf, f);
	if (isfinite(x))
		fputc('f', f);
}

static void print_type(FILE *f, const Value *v)
{
	char buf[IR_MAX_RANK * 24 + 8];
	fprintf(f, "%s%s", ir_dtype_name(v->dtype), ir_shape_str(&v->shape, buf, sizeof buf));
}

/* A value operand; ids out of range (a broken graph being dumped) stay visible. */
static void print_ref(FILE *f, const Graph *g, int id)
{
	if (id < 0)
		fputc('_', f);
	else if (id >= g->nvalues)
		fprintf(f, "%%\"<bad value id %d>\"", id);
	else
		print_name(f, '%', g->values[id].name);
}

static void print_def(FILE *f, const Graph *g, int id)
{
	print_ref(f, g, id);
	if (id >= 0 && id < g->nvalues) {
		fputs(": ", f);
		print_type(f, &g->values[id]);
	}
}

static void print_elems(FILE *f, const Value *v, int full)
{
	int64_t n = ir_shape_numel(&v->shape);
	if (n < 0) {
		fputs("dense<? elements>", f); /* unknown shape: not parsable, the graph is broken */
		return;
	}
	if ((!full && n > IR_PRINT_MAX_ELEMS) || !ir_dtype_size(v->dtype)) {
		fprintf(f, "dense<%lld elements>", (long long)n);
		return;
	}
	char buf[40];
	fputc('[', f);
	for (int64_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		switch (v->dtype) {
		case DT_FLOAT:
			fmt_f32(buf, sizeof buf, ((const float *)v->data)[i]);
			fputs(buf, f);
			break;
		case DT_DOUBLE:
			fmt_f64(buf, sizeof buf, ((const double *)v->data)[i]);
			fputs(buf, f);
			break;
		case DT_INT8: fprintf(f, "%d", ((const int8_t *)v->data)[i]); break;
		case DT_UINT8: fprintf(f, "%u", ((const uint8_t *)v->data)[i]); break;
		case DT_INT32: fprintf(f, "%ld", (long)((const int32_t *)v->data)[i]); break;
		case DT_INT64: fprintf(f, "%lld", (long long)((const int64_t *)v->data)[i]); break;
		case DT_BOOL: fputc(((const uint8_t *)v->data)[i] ? '1' : '0', f); break;
		default: break;
		}
	}
	fputc(']', f);
}

/* An attribute value in the text syntax (the part after '='); also what --save-onnx
 * writes for sqc.* attributes. */
void ir_print_attr_value(FILE *f, const Attr *a)
{
	switch (a->kind) {
	case AT_INT: fprintf(f, "%lld", (long long)a->i); break;
	case AT_FLOAT: print_attr_float(f, a->f); break;
	case AT_STRING: print_quoted(f, a->s ? a->s : ""); break;
	case AT_INTS:
		fputs(a->n ? "[" : "ints[", f);
		for (int i = 0; i < a->n; i++)
			fprintf(f, "%s%lld", i ? "," : "", (long long)a->ints[i]);
		fputc(']', f);
		break;
	case AT_FLOATS:
		fputs(a->n ? "[" : "floats[", f);
		for (int i = 0; i < a->n; i++) {
			if (i)
				fputc(',', f);
			print_attr_float(f, a->floats[i]);
		}
		fputc(']', f);
		break;
	}
}

static void print_attr(FILE *f, const Attr *a)
{
	if (simple_ident(a->name))
		fputs(a->name, f);
	else
		print_quoted(f, a->name);
	fputc('=', f);
	ir_print_attr_value(f, a);
}

static void print_node(FILE *f, const Graph *g, const Node *n)
{
	fputs("  ", f);
	for (int j = 0; j < n->nout; j++) {
		if (j)
			fputs(", ", f);
		print_def(f, g, n->out[j]);
	}
	fprintf(f, " = %s(", ir_op_name(n->op));
	for (int j = 0; j < n->nin; j++) {
		if (j)
			fputs(", ", f);
		print_ref(f, g, n->in[j]);
	}
	fputc(')', f);
	if (n->nattr) {
		fputs(" {", f);
		for (int j = 0; j < n->nattr; j++) {
			if (j)
				fputs(", ", f);
			print_attr(f, &n->attrs[j]);
		}
		fputc('}', f);
	}
	fputs(" @", f);
	print_quoted(f, n->name);
	fputc('\n', f);
}

void ir_print(FILE *f, const Graph *g, int full)
{
	fputs("graph ", f);
	print_name(f, '@', g->name);
	fprintf(f, " opset %lld {\n", (long long)g->opset);

	for (int i = 0; i < g->ninputs; i++) {
		fputs("  input ", f);
		print_def(f, g, g->inputs[i]);
		fputc('\n', f);
	}

	/* constants that something live reads */
	char *used = xcalloc((size_t)(g->nvalues ? g->nvalues : 1), 1);
	for (int i = 0; i < g->nnodes; i++) {
		const Node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int j = 0; j < n->nin; j++)
			if (n->in[j] >= 0 && n->in[j] < g->nvalues)
				used[n->in[j]] = 1;
	}
	for (int i = 0; i < g->noutputs; i++)
		if (g->outputs[i] >= 0 && g->outputs[i] < g->nvalues)
			used[g->outputs[i]] = 1;
	for (int i = 0; i < g->nvalues; i++) {
		const Value *v = &g->values[i];
		int produced = v->producer >= 0 && v->producer < g->nnodes &&
		               !g->nodes[v->producer].dead;
		if (!used[i] || !v->data || v->is_input || produced)
			continue;
		fputs("  const ", f);
		print_def(f, g, i);
		fputs(" = ", f);
		print_elems(f, v, full);
		fputc('\n', f);
	}
	free(used);

	for (int i = 0; i < g->nnodes; i++)
		if (!g->nodes[i].dead)
			print_node(f, g, &g->nodes[i]);

	for (int i = 0; i < g->noutputs; i++) {
		fputs("  output ", f);
		print_ref(f, g, g->outputs[i]);
		fputc('\n', f);
	}
	fputs("}\n", f);
}
