/* backend/cg.h: internal header of backend/ (LLVM types allowed here only). */
#ifndef SQC_BACKEND_CG_H
#define SQC_BACKEND_CG_H

#include "backend.h"
#include "target.h"

#include <llvm-c/Core.h>

/* Threads: every NAME_run_parallel task count is capped here (and so is the count
 * NAME_workspace_size_parallel reserves private scratch for). */
#define CG_MAX_THREADS 256

/* State of one compilation: the module (the kernel library's bitcode, to which the glue
 * is added), the builder positioned in the body of NAME_run and NAME_run_parallel, and
 * per value where its data lives. */
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
	/* NAME.body(in, out, ws, par): the graph, which NAME_run calls with par NULL */
	LLVMValueRef fn_body;
	LLVMValueRef fn_run;          /* NAME_run (NAME_run_batch calls it) */
	LLVMValueRef in, out, ws;     /* its arguments */
	/* at its entry: the task count limit (1 without a parallel-for), the app's
	 * parallel-for and pool, the task context, the shared scratch and the private
	 * scratch of task 0 and the stride between tasks' */
	LLVMValueRef threads, pfor, pool, tctx, shared, pbase, pstride;
	LLVMTypeRef tctx_ty;
	LLVMValueRef fn_shmax, fn_pvmax;  /* the largest shared and private scratch */
	LLVMValueRef *cglobal;        /* per value: the global holding its constant data */
	int64_t plan;                 /* planned workspace bytes; scratch starts there */
	/* scratch demands: (shared and private size functions, parameter global) */
	LLVMValueRef *sc_shared, *sc_priv, *sc_arg;
	int nscratch, capscratch;
	int nglobals, ntasks;         /* for unique names */
} Cg;

/* Files, each calling only those below it: emit.c (cg_compile: the module, the API
 * functions, optimization, output), lower.c (the glue), module.c (building blocks). */

/* ---- lower.c: the body of NAME_run, one kernel call per node ------------------------- */
/* The task context's type and the values at the body's entry (c->threads ...); the
 * builder is at the body's entry, c->fn_shmax and c->fn_pvmax are declared. */
void cg_body_entry(Cg *c, LLVMValueRef par);
int cg_lower_graph(Cg *c);

/* ---- module.c: building blocks of the module ----------------------------------------- */
LLVMValueRef cg_kernel(Cg *c, const char *name);  /* a kernel function; aborts if absent */
void cg_noinline(Cg *c, LLVMValueRef f);          /* marks f noinline */
/* A call of kernel with n arguments at the builder; aborts if the kernel takes another n. */
LLVMValueRef cg_call(Cg *c, const char *kernel, LLVMValueRef *args, unsigned n);
/* A private, unnamed_addr constant global named name (the caller makes it unique). */
LLVMValueRef cg_const_global(Cg *c, const char *name, LLVMValueRef init);
/* n bytes of data as a constant global ".HINT.N", 64-byte aligned. */
LLVMValueRef cg_const_bytes(Cg *c, const char *hint, const void *data, size_t n);

#endif
