/* ir/parse.c: reads the textual IR that ir_print writes (the grammar is the comment at the
 * top of print.c). A lexer with one token of lookahead feeds a recursive-descent parser
 * that builds the graph as it goes. Every error is reported once as "line N: message"
 * through the Diag; the partial graph and all scratch memory are then freed.
 */
#include "ir.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
	T_EOF,
	T_WORD,   /* [A-Za-z_][A-Za-z0-9_]*: keywords, dtypes, op and attribute names, `_` */
	T_NUMBER, /* what strtod reads, optionally followed by 'f' */
	T_STRING, /* "..." (decoded into Parser.str) */
	T_VALUE,  /* %NAME (name decoded into Parser.str) */
	T_AT,     /* @NAME (name decoded into Parser.str) */
	T_PUNCT,  /* one of { } ( ) [ ] , = : < > ? */
} TokKind;

typedef struct {
	TokKind kind;
	int line;       /* line where the token starts */
	const char *s;  /* the token's source text, len bytes */
	size_t len;
	int isfloat;    /* T_NUMBER written as a FLOAT (grammar in print.c) */
} Token;

typedef struct {
	const char *p;  /* next unread character */
	int line;       /* line of *p */
	Token t;        /* current token */
	char *str;      /* decoded text of the current T_STRING/T_VALUE/T_AT, NUL-terminated */
	size_t nstr, capstr;
	Diag *d;
	Graph *g;       /* the graph being built (NULL until the header is read) */
	int *hash;      /* value name -> id, open addressing, -1 = empty; nhash a power of 2 */
	size_t nhash;
	int *ins, *outs;        /* operands and results of the node being parsed */
	int capins, capouts;
	int64_t *li;            /* elements of the attribute list being parsed, as int ... */
	float *lf;              /* ... and as float */
	int capl;
	int capinputs, capoutputs; /* capacities of g->inputs, g->outputs */
} Parser;

/* ---- diagnostics ---- */

__attribute__((format(printf, 2, 3))) static int perr(Parser *p, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_error(p->d, NULL, "line %d: %s", p->t.line, msg);
}

/* The current token for "found X" messages. */
static const char *tokdesc(const Parser *p, char *buf, size_t n)
{
	if (p->t.kind == T_EOF)
		snprintf(buf, n, "end of input");
	else if (p->t.len > 40)
		snprintf(buf, n, "'%.40s...'", p->t.s);
	else
		snprintf(buf, n, "'%.*s'", (int)p->t.len, p->t.s);
	return buf;
}

static int unexpected(Parser *p, const char *what)
{
	char buf[64];
	return perr(p, "expected %s, found %s", what, tokdesc(p, buf, sizeof buf));
}

/* ---- lexer ---- */

static int is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
}

static int is_word_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static void str_push(Parser *p, char c)
{
	if (p->nstr + 1 >= p->capstr) {
		p->capstr = p->capstr ? 2 * p->capstr : 64;
		p->str = xrealloc(p->str, p->capstr);
	}
	p->str[p->nstr++] = c;
	p->str[p->nstr] = 0;
}

static void str_reset(Parser *p)
{
	if (!p->capstr) {
		p->capstr = 64;
		p->str = xmalloc(p->capstr);
	}
	p->nstr = 0;
	p->str[0] = 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the string starting at the '"' under p->p into p->str. */
static int lex_string(Parser *p)
{
	const char *q = p->p + 1;
	for (;;) {
		int c = (unsigned char)*q;
		if (c == '"')
			break;
		if (c == 0 || c == '\n')
			return perr(p, "unterminated string");
		if (c != '\\') {
			str_push(p, (char)c);
			q++;
			continue;
		}
		switch (q[1]) {
		case '"': str_push(p, '"'); break;
		case '\\': str_push(p, '\\'); break;
		case 'n': str_push(p, '\n'); break;
		case 't': str_push(p, '\t'); break;
		case 'r': str_push(p, '\r'); break;
		case 'x': {
			int hi = hexval((unsigned char)q[2]), lo = hi < 0 ? -1 : hexval((unsigned char)q[3]);
			if (lo < 0)
				return perr(p, "bad \\x escape in string (two hex digits expected)");
			if (!(hi | lo))
				return perr(p, "\\x00 is not allowed in a string");
			str_push(p, (char)(hi << 4 | lo));
			q += 2;
			break;
		}
		default: return perr(p, "bad escape '\\%c' in string", q[1] ? q[1] : ' ');
		}
		q += 2;
	}
	p->p = q + 1;
	return 0;
}

/* Does q start a type: a dtype word followed by '['? */
static int at_type(const char *q)
{
	char w[8];
	size_t n = 0;
	while (n < sizeof w - 1 && is_word_char((unsigned char)q[n])) {
		w[n] = q[n];
		n++;
	}
	w[n] = 0;
	return q[n] == '[' && (ir_dtype_parse(w) != DT_UNDEF || !strcmp(w, "undef"));
}

/* A NAME after % or @: quoted, or a run of name characters without trailing ':'. The run
 * also ends at a ':' that starts a type, so `%x:f32[1]` reads like `%x: f32[1]`. */
static int lex_name(Parser *p)
{
	if (*p->p == '"')
		return lex_string(p);
	const char *q = p->p;
	while (is_name_char((unsigned char)*q) && !(*q == ':' && at_type(q + 1)))
		q++;
	while (q > p->p && q[-1] == ':')
		q--;
	if (q == p->p)
		return perr(p, "expected a name after '%c'", p->t.s[0]);
	for (const char *c = p->p; c < q; c++)
		str_push(p, *c);
	p->p = q;
	return 0;
}

/* Reads the next token into p->t. */
static int next(Parser *p)
{
	for (;;) {
		if (*p->p == '\n') {
			p->line++;
			p->p++;
		} else if (*p->p == ' ' || *p->p == '\t' || *p->p == '\r') {
			p->p++;
		} else if (*p->p == '#') {
			while (*p->p && *p->p != '\n')
				p->p++;
		} else {
			break;
		}
	}
	Token *t = &p->t;
	const char *s = p->p;
	int c = (unsigned char)*s;
	t->line = p->line;
	t->s = s;
	t->len = 1;
	t->isfloat = 0;
	str_reset(p);
	if (!c) {
		t->kind = T_EOF;
		t->len = 0;
		return 0;
	}
	if (strchr("{}()[],=:<>?", c)) {
		t->kind = T_PUNCT;
		p->p++;
		return 0;
	}
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
		t->kind = T_WORD;
		while (is_word_char((unsigned char)*p->p))
			p->p++;
	} else if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
		char *end;
		strtod(s, &end);
		if (end == s)
			return perr(p, "bad number '%c'", c);
		size_t k = (size_t)(*s == '-' || *s == '+');
		while (s + k < end && s[k] >= '0' && s[k] <= '9')
			k++;
		t->isfloat = s + k != end;
		if (*end == 'f') {
			t->isfloat = 1;
			end++;
		}
		if (is_word_char((unsigned char)*end) || *end == '.') {
			const char *e = end;
			while (is_word_char((unsigned char)*e) || *e == '.')
				e++;
			return perr(p, "bad number '%.*s'", (int)(e - s), s);
		}
		t->kind = T_NUMBER;
		p->p = end;
	} else if (c == '"') {
		t->kind = T_STRING;
		if (lex_string(p) < 0)
			return -1;
	} else if (c == '%' || c == '@') {
		t->kind = c == '%' ? T_VALUE : T_AT;
		p->p++;
		if (lex_name(p) < 0)
			return -1;
	} else if (c >= 0x21 && c < 0x7f) {
		return perr(p, "unexpected character '%c'", c);
	} else {
		return perr(p, "unexpected character \\x%02x", c);
	}
	t->len = (size_t)(p->p - s);
	return 0;
}

static int is_punct(const Parser *p, char c)
{
	return p->t.kind == T_PUNCT && *p->t.s == c;
}

static int is_word(const Parser *p, const char *w)
{
	return p->t.kind == T_WORD && p->t.len == strlen(w) && !memcmp(p->t.s, w, p->t.len);
}

static int expect(Parser *p, char c)
{
	if (!is_punct(p, c)) {
		char what[8] = {'\'', c, '\'', 0};
		return unexpected(p, what);
	}
	return next(p);
}

/* ---- numbers ---- */

/* Bare inf / nan lex as words (signed forms like -inf lex as numbers). */
static int is_float_word(const Parser *p)
{
	return is_word(p, "inf") || is_word(p, "nan") || is_word(p, "inff") || is_word(p, "nanf");
}

static int is_num(const Parser *p)
{
	return p->t.kind == T_NUMBER || is_float_word(p);
}

static int is_float_tok(const Parser *p)
{
	return is_float_word(p) || (p->t.kind == T_NUMBER && p->t.isfloat);
}

/* The current token as an INT; does not advance. */
static int tok_int(Parser *p, int64_t *v)
{
	if (p->t.kind != T_NUMBER || p->t.isfloat)
		return unexpected(p, "an integer");
	errno = 0;
	long long x = strtoll(p->t.s, NULL, 10);
	if (errno == ERANGE)
		return perr(p, "integer %.*s out of range", (int)p->t.len, p->t.s);
	*v = x;
	return 0;
}

static int take_int(Parser *p, int64_t *v)
{
	return tok_int(p, v) < 0 ? -1 : next(p);
}

/* The current number (INT or FLOAT) as f32, then advances. */
static int take_f32(Parser *p, float *v)
{
	if (!is_num(p))
		return unexpected(p, "a number");
	errno = 0;
	float x = strtof(p->t.s, NULL);
	if (errno == ERANGE && isinf(x))
		return perr(p, "number %.*s out of range for f32", (int)p->t.len, p->t.s);
	*v = x;
	return next(p);
}

static int take_f64(Parser *p, double *v)
{
	if (!is_num(p))
		return unexpected(p, "a number");
	errno = 0;
	double x = strtod(p->t.s, NULL);
	if (errno == ERANGE && isinf(x))
		return perr(p, "number %.*s out of range for f64", (int)p->t.len, p->t.s);
	*v = x;
	return next(p);
}

/* ---- value names ---- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void hash_insert(Parser *p, int id)
{
	size_t m = p->nhash - 1, i = (size_t)hash_str(p->g->values[id].name) & m;
	while (p->hash[i] >= 0)
		i = (i + 1) & m;
	p->hash[i] = id;
}

/* Value id by name, or -1. */
static int lookup(const Parser *p, const char *name)
{
	if (!p->nhash)
		return -1;
	size_t m = p->nhash - 1, i = (size_t)hash_str(name) & m;
	for (; p->hash[i] >= 0; i = (i + 1) & m)
		if (!strcmp(p->g->values[p->hash[i]].name, name))
			return p->hash[i];
	return -1;
}

/* Registers the newly added value id (the last one) in the name table. */
static void hash_add(Parser *p, int id)
{
	if ((size_t)(id + 1) * 2 > p->nhash) {
		while ((size_t)(id + 1) * 2 > p->nhash)
			p->nhash = p->nhash ? 2 * p->nhash : 64;
		free(p->hash);
		p->hash = xmalloc(sizeof(int) * p->nhash);
		for (size_t i = 0; i < p->nhash; i++)
			p->hash[i] = -1;
		for (int i = 0; i < id; i++)
			hash_insert(p, i);
	}
	hash_insert(p, id);
}

/* The current T_VALUE names a new value: copies the name into the graph's arena. */
static int take_new_name(Parser *p, const char **name)
{
	if (p->t.kind != T_VALUE)
		return unexpected(p, "a value name (%name)");
	if (lookup(p, p->str) >= 0)
		return perr(p, "value %%%s redefined", p->str);
	*name = arena_strdup(&p->g->arena, p->str);
	return next(p);
}

/* The current T_VALUE names a defined value with an id below limit (ids from limit on
 * are the results of the node being parsed). */
static int take_ref(Parser *p, int *id, int limit)
{
	if (p->t.kind != T_VALUE)
		return unexpected(p, "a value name (%name)");
	*id = lookup(p, p->str);
	if (*id < 0)
		return perr(p, "undefined value %%%s (values are defined before use)", p->str);
	if (*id >= limit)
		return perr(p, "value %%%s used by the node that defines it", p->str);
	return next(p);
}

static void push_int(int **a, int *n, int *cap, int v)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*a = xrealloc(*a, sizeof(int) * (size_t)*cap);
	}
	(*a)[(*n)++] = v;
}

/* ---- types and constants ---- */

static int parse_type(Parser *p, DType *t, Shape *s)
{
	if (p->t.kind != T_WORD)
		return unexpected(p, "a type");
	if (is_word(p, "undef")) {
		*t = DT_UNDEF;
	} else {
		char w[16] = "";
		if (p->t.len < sizeof w)
			memcpy(w, p->t.s, p->t.len);
		*t = ir_dtype_parse(w);
		if (*t == DT_UNDEF)
			return perr(p, "unknown dtype '%.*s'", (int)p->t.len, p->t.s);
	}
	if (next(p) < 0 || expect(p, '[') < 0)
		return -1;
	s->rank = 0;
	if (is_punct(p, '?')) {
		s->rank = -1;
		if (next(p) < 0)
			return -1;
	}
	while (s->rank >= 0 && !is_punct(p, ']')) {
		if (s->rank && expect(p, ',') < 0)
			return -1;
		if (s->rank == IR_MAX_RANK)
			return perr(p, "more than %d dimensions", IR_MAX_RANK);
		int64_t v = 0;
		if (tok_int(p, &v) < 0)
			return -1;
		if (v < 0)
			return perr(p, "negative dimension %lld", (long long)v);
		s->d[s->rank++] = v;
		if (next(p) < 0)
			return -1;
	}
	return expect(p, ']');
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Contents of an elided constant: pseudo-random, a function of the name only. */
static void fill_random(void *data, DType t, int64_t n, const char *name)
{
	uint64_t s = hash_str(name);
	for (int64_t i = 0; i < n; i++) {
		uint64_t r = splitmix64(&s);
		double u = (double)(r >> 11) * 0x1p-53 * 2.0 - 1.0; /* [-1,1) */
		switch (t) {
		case DT_FLOAT: ((float *)data)[i] = (float)u; break;
		case DT_DOUBLE: ((double *)data)[i] = u; break;
		case DT_INT8: ((int8_t *)data)[i] = (int8_t)(r >> 62); break;
		case DT_UINT8: ((uint8_t *)data)[i] = (uint8_t)(r >> 62); break;
		case DT_INT32: ((int32_t *)data)[i] = (int32_t)(r >> 62); break;
		case DT_INT64: ((int64_t *)data)[i] = (int64_t)(r >> 62); break;
		case DT_BOOL: ((uint8_t *)data)[i] = (uint8_t)(r >> 63); break;
		default: break;
		}
	}
}

/* Element i of an inline constant of dtype t, then advances. */
static int parse_elem(Parser *p, DType t, void *data, int64_t i)
{
	if (t == DT_FLOAT)
		return take_f32(p, &((float *)data)[i]);
	if (t == DT_DOUBLE)
		return take_f64(p, &((double *)data)[i]);
	int64_t v, lo = INT64_MIN, hi = INT64_MAX;
	switch (t) {
	case DT_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
	case DT_UINT8: lo = 0, hi = UINT8_MAX; break;
	case DT_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
	case DT_BOOL: lo = 0, hi = 1; break;
	default: break;
	}
	if (tok_int(p, &v) < 0)
		return -1;
	if (v < lo || v > hi)
		return perr(p, "%lld out of range for %s", (long long)v, ir_dtype_name(t));
	switch (t) {
	case DT_INT8: ((int8_t *)data)[i] = (int8_t)v; break;
	case DT_UINT8:
	case DT_BOOL: ((uint8_t *)data)[i] = (uint8_t)v; break;
	case DT_INT32: ((int32_t *)data)[i] = (int32_t)v; break;
	default: ((int64_t *)data)[i] = v; break;
	}
	return next(p);
}

/* Reads the contents after "const %x: T =" into a malloc'd block (*data). */
static int parse_const_data(Parser *p, const char *name, DType t, const Shape *s, void **data)
{
	int64_t n = ir_shape_numel(s);
	size_t es = ir_dtype_size(t);
	if (s->rank < 0)
		return perr(p, "constant %%%s needs a known shape", name);
	if (!es)
		return perr(p, "constant %%%s needs a dtype", name);
	if (n < 0 || (uint64_t)n > SIZE_MAX / es)
		return perr(p, "constant %%%s is too large", name);
	*data = malloc(n ? (size_t)n * es : 1);
	if (!*data)
		return perr(p, "constant %%%s: cannot allocate %lld elements", name, (long long)n);
	if (is_word(p, "dense")) {
		int64_t k = 0;
		if (next(p) < 0 || expect(p, '<') < 0)
			return -1;
		if (tok_int(p, &k) < 0)
			return -1;
		if (k != n)
			return perr(p, "dense<%lld elements> but the type of %%%s has %lld", (long long)k,
			            name, (long long)n);
		if (next(p) < 0)
			return -1;
		if (!is_word(p, "elements"))
			return unexpected(p, "'elements'");
		if (next(p) < 0 || expect(p, '>') < 0)
			return -1;
		fill_random(*data, t, n, name);
		return 0;
	}
	if (expect(p, '[') < 0)
		return -1;
	int64_t i = 0;
	for (; !is_punct(p, ']'); i++) {
		if (i && expect(p, ',') < 0)
			return -1;
		if (i == n)
			return perr(p, "too many elements for %%%s (its type has %lld)", name,
			            (long long)n);
		if (parse_elem(p, t, *data, i) < 0)
			return -1;
	}
	if (i != n)
		return perr(p, "%lld elements for %%%s, its type has %lld", (long long)i, name,
		            (long long)n);
	return next(p);
}

/* ---- items ---- */

static int parse_input(Parser *p)
{
	const char *name = NULL;
	DType t = DT_UNDEF;
	Shape s = {0};
	if (next(p) < 0 || take_new_name(p, &name) < 0 || expect(p, ':') < 0 ||
	    parse_type(p, &t, &s) < 0)
		return -1;
	Graph *g = p->g;
	int id = ir_value_add(g, name, t, &s);
	hash_add(p, id);
	g->values[id].is_input = 1;
	push_int(&g->inputs, &g->ninputs, &p->capinputs, id);
	return 0;
}

static int parse_const(Parser *p)
{
	const char *name = NULL;
	DType t = DT_UNDEF;
	Shape s = {0};
	void *data = NULL;
	if (next(p) < 0 || take_new_name(p, &name) < 0 || expect(p, ':') < 0 ||
	    parse_type(p, &t, &s) < 0 || expect(p, '=') < 0 ||
	    parse_const_data(p, name, t, &s, &data) < 0) {
		free(data);
		return -1;
	}
	hash_add(p, ir_const_add(p->g, name, t, &s, data));
	return 0;
}

static int parse_output(Parser *p)
{
	int id = -1;
	if (next(p) < 0 || take_ref(p, &id, p->g->nvalues) < 0)
		return -1;
	Graph *g = p->g;
	g->values[id].is_output = 1;
	push_int(&g->outputs, &g->noutputs, &p->capoutputs, id);
	return 0;
}

/* One element of an attribute list into p->li/p->lf; *isfloat is set for FLOATs. */
static int parse_list_elem(Parser *p, int n, int *isfloat)
{
	if (n == p->capl) {
		p->capl = p->capl ? 2 * p->capl : 16;
		p->li = xrealloc(p->li, sizeof(int64_t) * (size_t)p->capl);
		p->lf = xrealloc(p->lf, sizeof(float) * (size_t)p->capl);
	}
	p->li[n] = 0;
	*isfloat = is_float_tok(p);
	if (!*isfloat && tok_int(p, &p->li[n]) < 0)
		return -1;
	return take_f32(p, &p->lf[n]);
}

/* An attribute value after "name =": INT, FLOAT, STRING or a list, optionally with kind. */
static int parse_attr_value(Parser *p, int node, const char *name)
{
	Graph *g = p->g;
	if (p->t.kind == T_STRING) {
		ir_attr_set_s(g, node, name, p->str);
		return next(p);
	}
	if (is_num(p)) {
		if (is_float_tok(p)) {
			float f = 0;
			if (take_f32(p, &f) < 0)
				return -1;
			ir_attr_set_f(g, node, name, f);
		} else {
			int64_t i = 0;
			if (take_int(p, &i) < 0)
				return -1;
			ir_attr_set_i(g, node, name, i);
		}
		return 0;
	}
	int kind = -1; /* AT_INTS or AT_FLOATS when prefixed */
	if (is_word(p, "ints") || is_word(p, "floats")) {
		kind = is_word(p, "ints") ? AT_INTS : AT_FLOATS;
		if (next(p) < 0)
			return -1;
	}
	if (!is_punct(p, '['))
		return unexpected(p, "an attribute value (number, string or list)");
	int open_line = p->t.line;
	if (next(p) < 0)
		return -1;
	int n = 0, anyfloat = 0;
	for (; !is_punct(p, ']'); n++) {
		if (n && expect(p, ',') < 0)
			return -1;
		if (kind == AT_INTS && !(p->t.kind == T_NUMBER && !p->t.isfloat))
			return unexpected(p, "an integer");
		int isf = 0;
		if (parse_list_elem(p, n, &isf) < 0)
			return -1;
		anyfloat |= isf;
	}
	if (!n && kind < 0) {
		p->t.line = open_line;
		return perr(p, "empty list needs a kind: ints[] or floats[]");
	}
	if (kind < 0)
		kind = anyfloat ? AT_FLOATS : AT_INTS;
	if (kind == AT_INTS)
		ir_attr_set_ints(g, node, name, p->li, n);
	else
		ir_attr_set_floats(g, node, name, p->lf, n);
	return next(p);
}

static int parse_attrs(Parser *p, int node)
{
	if (next(p) < 0)
		return -1;
	for (int k = 0; !is_punct(p, '}'); k++) {
		if (k && expect(p, ',') < 0)
			return -1;
		if (p->t.kind != T_WORD && p->t.kind != T_STRING)
			return unexpected(p, "an attribute name");
		const char *name = p->t.kind == T_STRING
		                           ? arena_strdup(&p->g->arena, p->str)
		                           : arena_printf(&p->g->arena, "%.*s", (int)p->t.len, p->t.s);
		if (ir_attr_get(&p->g->nodes[node], name))
			return perr(p, "attribute '%s' repeated", name);
		if (next(p) < 0 || expect(p, '=') < 0 || parse_attr_value(p, node, name) < 0)
			return -1;
	}
	return next(p);
}

static int parse_node(Parser *p)
{
	Graph *g = p->g;
	int nin = 0, nout = 0, first = g->nvalues; /* ids >= first: this node's results */
	for (;;) {
		int id = -1;
		if (is_word(p, "_")) {
			if (next(p) < 0)
				return -1;
		} else {
			const char *name = NULL;
			DType t = DT_UNDEF;
			Shape s = {0};
			if (take_new_name(p, &name) < 0 || expect(p, ':') < 0 ||
			    parse_type(p, &t, &s) < 0)
				return -1;
			id = ir_value_add(g, name, t, &s);
			hash_add(p, id);
		}
		push_int(&p->outs, &nout, &p->capouts, id);
		if (!is_punct(p, ','))
			break;
		if (next(p) < 0)
			return -1;
	}
	if (expect(p, '=') < 0)
		return -1;
	if (p->t.kind != T_WORD)
		return unexpected(p, "an op name");
	char opname[64] = "";
	if (p->t.len < sizeof opname)
		memcpy(opname, p->t.s, p->t.len);
	int op = ir_op_lookup(opname);
	if (op < 0)
		return perr(p, "unknown op '%.*s'", (int)p->t.len, p->t.s);
	if (next(p) < 0 || expect(p, '(') < 0)
		return -1;
	while (!is_punct(p, ')')) {
		int id = -1;
		if (nin && expect(p, ',') < 0)
			return -1;
		if (is_word(p, "_")) {
			if (next(p) < 0)
				return -1;
		} else if (take_ref(p, &id, first) < 0) {
			return -1;
		}
		push_int(&p->ins, &nin, &p->capins, id);
	}
	if (next(p) < 0)
		return -1;
	int node = ir_node_add(g, (Op)op, NULL, p->ins, nin, p->outs, nout);
	if (is_punct(p, '{') && parse_attrs(p, node) < 0)
		return -1;
	if (p->t.kind == T_AT) {
		g->nodes[node].name = arena_strdup(&g->arena, p->str);
		return next(p);
	}
	return 0;
}

static int parse_graph(Parser *p)
{
	if (next(p) < 0)
		return -1;
	if (!is_word(p, "graph"))
		return unexpected(p, "'graph'");
	if (next(p) < 0)
		return -1;
	if (p->t.kind != T_AT)
		return unexpected(p, "the graph name (@name)");
	p->g = ir_graph_new(p->str);
	if (next(p) < 0)
		return -1;
	if (is_word(p, "opset")) {
		if (next(p) < 0 || take_int(p, &p->g->opset) < 0)
			return -1;
	}
	if (expect(p, '{') < 0)
		return -1;
	while (!is_punct(p, '}')) {
		int rc;
		if (is_word(p, "input"))
			rc = parse_input(p);
		else if (is_word(p, "const"))
			rc = parse_const(p);
		else if (is_word(p, "output"))
			rc = parse_output(p);
		else if (p->t.kind == T_VALUE || is_word(p, "_"))
			rc = parse_node(p);
		else
			rc = unexpected(p, "input, const, output, a node or '}'");
		if (rc < 0)
			return -1;
	}
	if (next(p) < 0)
		return -1;
	if (p->t.kind != T_EOF)
		return unexpected(p, "end of input after '}'");
	return 0;
}

Graph *ir_parse(const char *text, Diag *d)
{
	Parser p = {.p = text, .line = 1, .d = d};
	int rc = parse_graph(&p);
	free(p.str);
	free(p.hash);
	free(p.ins);
	free(p.outs);
	free(p.li);
	free(p.lf);
	if (rc < 0) {
		ir_graph_free(p.g);
		return NULL;
	}
	return p.g;
}
