/* backend/module.c: building blocks of the module shared by emit.c and lower.c.
 *
 * Kernel lookups and calls, and private constant globals. This file calls nothing else in
 * backend/, so the dependencies run emit.c -> lower.c -> module.c without a circle. */
#include "cg.h"

#include <stdio.h>
#include <stdlib.h>

LLVMValueRef cg_kernel(Cg *c, const char *name)
{
	LLVMValueRef f = LLVMGetNamedFunction(c->mod, name);
	if (!f) {
		fprintf(stderr, "sqc: internal error: kernel %s missing from the kernel library\n", name);
		abort();
	}
	return f;
}

void cg_noinline(Cg *c, LLVMValueRef f)
{
	unsigned k = LLVMGetEnumAttributeKindForName("noinline", 8);
	LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->ctx, k, 0));
}

LLVMValueRef cg_call(Cg *c, const char *kernel, LLVMValueRef *args, unsigned n)
{
	LLVMValueRef f = cg_kernel(c, kernel);
	LLVMTypeRef ft = LLVMGlobalGetValueType(f);
	if (LLVMCountParamTypes(ft) != n) {
		fprintf(stderr, "sqc: internal error: %s takes %u arguments, not %u\n", kernel,
		        LLVMCountParamTypes(ft), n);
		abort();
	}
	return LLVMBuildCall2(c->b, ft, f, args, n, "");
}

LLVMValueRef cg_const_global(Cg *c, const char *name, LLVMValueRef init)
{
	LLVMValueRef gv = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(gv, init);
	LLVMSetGlobalConstant(gv, 1);
	LLVMSetLinkage(gv, LLVMPrivateLinkage);
	LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
	return gv;
}

LLVMValueRef cg_const_bytes(Cg *c, const char *hint, const void *data, size_t n)
{
	LLVMValueRef init = LLVMConstStringInContext(c->ctx, data, (unsigned)n, 1);
	char name[96];
	snprintf(name, sizeof name, ".%s.%d", hint, c->nglobals++);
	LLVMValueRef gv = cg_const_global(c, name, init);
	LLVMSetAlignment(gv, 64);
	return gv;
}
