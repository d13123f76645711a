/* ir/decisions.c: the sqc.* decision attributes (decisions.def) and the kernel names. */
#include "ir.h"

#include <assert.h>
#include <string.h>

static const struct {
	const char *name;
	AttrKind kind;
	double def;
} decisions[SQCA_COUNT] = {
#define X(e, name, kind, def) [SQCA_##e] = {name, kind, def},
#include "decisions.def"
#undef X
};

static const char *const kernel_names[SQK_COUNT] = {
#define X(e, name) [SQK_##e] = name,
	SQC_KERNELS(X)
#undef X
};

const char *ir_dec_name(SqcAttr a)
{
	assert((unsigned)a < SQCA_COUNT);
	return decisions[a].name;
}

int ir_dec_is_name(const char *name)
{
	return !strncmp(name, SQC_ATTR_PREFIX, sizeof SQC_ATTR_PREFIX - 1);
}

int ir_dec_has(const Node *n, SqcAttr a)
{
	return ir_attr_get(n, ir_dec_name(a)) != NULL;
}

int64_t ir_dec_i(const Node *n, SqcAttr a)
{
	assert(decisions[a].kind == AT_INT);
	return ir_attr_i(n, decisions[a].name, (int64_t)decisions[a].def);
}

float ir_dec_f(const Node *n, SqcAttr a)
{
	assert(decisions[a].kind == AT_FLOAT);
	return ir_attr_f(n, decisions[a].name, (float)decisions[a].def);
}

const char *ir_dec_s(const Node *n, SqcAttr a)
{
	assert(decisions[a].kind == AT_STRING);
	return ir_attr_s(n, decisions[a].name, NULL);
}

const float *ir_dec_floats(const Node *n, SqcAttr a, int *count)
{
	assert(decisions[a].kind == AT_FLOATS);
	const Attr *at = ir_attr_get(n, decisions[a].name);
	if (!at || at->kind != AT_FLOATS) {
		*count = 0;
		return NULL;
	}
	*count = at->n;
	return at->floats;
}

void ir_dec_set_i(Graph *g, int node, SqcAttr a, int64_t v)
{
	assert(decisions[a].kind == AT_INT);
	ir_attr_set_i(g, node, decisions[a].name, v);
}

void ir_dec_set_f(Graph *g, int node, SqcAttr a, float v)
{
	assert(decisions[a].kind == AT_FLOAT);
	ir_attr_set_f(g, node, decisions[a].name, v);
}

void ir_dec_set_s(Graph *g, int node, SqcAttr a, const char *v)
{
	assert(decisions[a].kind == AT_STRING);
	ir_attr_set_s(g, node, decisions[a].name, v);
}

void ir_dec_set_floats(Graph *g, int node, SqcAttr a, const float *v, int n)
{
	assert(decisions[a].kind == AT_FLOATS);
	ir_attr_set_floats(g, node, decisions[a].name, v, n);
}

const char *ir_kernel_name(SqcKernel k)
{
	return (unsigned)k < SQK_COUNT ? kernel_names[k] : "?";
}

SqcKernel ir_kernel_parse(const char *s)
{
	for (int k = 1; k < SQK_COUNT; k++)
		if (s && !strcmp(s, kernel_names[k]))
			return (SqcKernel)k;
	return SQK_NONE;
}

SqcKernel ir_kernel_of(const Node *n)
{
	return ir_kernel_parse(ir_dec_s(n, SQCA_KERNEL));
}

void ir_kernel_set(Graph *g, int node, SqcKernel k)
{
	assert(k > SQK_NONE && k < SQK_COUNT);
	ir_dec_set_s(g, node, SQCA_KERNEL, kernel_names[k]);
}
