/* backend/cg.h: internal header of backend/ (LLVM types allowed here only). */
#ifndef SQC_BACKEND_CG_H
#define SQC_BACKEND_CG_H

#include "backend.h"
#include "target.h"

#include <llvm-c/Core.h>

/* State of one compilation: the module (the kernel library's bitcode, to which the glue
 * is added), the builder positioned in NAME_run, and per value where its data lives. */
typedef struct {
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMTypeRef i8, i32, i64, f32, ptr;
	const Graph *g;
	const CgOptions *o;
	const CgTarget *t;
	const CgLevel *lv;     /* the kernel level --mcpu chose */
	Diag *d;
	LLVMValueRef fn_run;          /* NAME_run */
	LLVMValueRef in, out, ws;     /* its arguments */
	LLVMValueRef *cglobal;        /* per value: the global holding its constant data */
	int64_t plan;                 /* planned workspace bytes; scratch starts there */
	/* scratch demands: (size function, parameter global), summed up in workspace_size */
	LLVMValueRef *scratch_fn, *scratch_arg;
	int nscratch, capscratch;
	int nglobals;                 /* for unique global names */
} Cg;

/* Files, each calling only those below it: emit.c (cg_compile: the module, the API
 * functions, optimization, output), lower.c (the glue), module.c (building blocks). */

/* ---- lower.c: the body of NAME_run, one kernel call per node ------------------------- */
int cg_lower_graph(Cg *c);

/* ---- module.c: building blocks of the module ----------------------------------------- */
LLVMValueRef cg_kernel(Cg *c, const char *name);  /* a kernel function; aborts if absent */
/* A call of kernel with n arguments at the builder; aborts if the kernel takes another n. */
LLVMValueRef cg_call(Cg *c, const char *kernel, LLVMValueRef *args, unsigned n);
/* A private, unnamed_addr constant global named name (the caller makes it unique). */
LLVMValueRef cg_const_global(Cg *c, const char *name, LLVMValueRef init);
/* n bytes of data as a constant global ".HINT.N", 64-byte aligned. */
LLVMValueRef cg_const_bytes(Cg *c, const char *hint, const void *data, size_t n);

#endif
