/* backend/backend.h: native code generation through the LLVM C API (LLVM 19).
 *
 * The only header outside backend/ that names the backend; nothing outside backend/
 * includes LLVM headers. cg_compile takes a graph after the full pipeline with the
 * native passes (pack, memplan) and writes one output file atomically (temporary file,
 * rename on success), plus the C header when asked.
 *
 * Generated code (API in ../shared/design/ARCHITECTURE.md, prefix NAME):
 *   size_t NAME_workspace_size(void); size_t NAME_input_size(void);
 *   size_t NAME_output_size(void);
 *   int NAME_run(const float *in, float *out, void *workspace);
 *   int NAME_run_batch(size_t n, const float *in, float *out, void *workspace);
 * It is the graph's glue (one call per node, with constant parameter structs, constant
 * pointers to packed weights and workspace offsets) built into the kernel library's
 * bitcode (runtime/kernels/, embedded in sqc per target), internalized and optimized
 * with default<O3>, so every kernel call is specialized for its layer. */
#ifndef SQC_BACKEND_H
#define SQC_BACKEND_H

#include "../ir/ir.h"

typedef enum {
	CG_SO,    /* shared object, linked with ld.lld */
	CG_OBJ,   /* relocatable object (.o) */
	CG_ASM,   /* assembly (-S) */
	CG_LLVM,  /* LLVM IR text (--emit=llvm), after optimization */
} CgKind;

typedef struct {
	const char *target;   /* "x86_64-linux-gnu" (default) or "aarch64-linux-gnu" */
	const char *mcpu;     /* NULL: the target's default (x86-64-v3; generic+neon); a CPU
	                         LLVM knows, or "native" (cg_level) */
	const char *name;     /* symbol prefix, a C identifier */
	CgKind kind;
	const char *output;   /* output file */
	const char *header;   /* --emit-header FILE, or NULL */
	int verbose;
	double min_task_us;   /* --min-task-us: estimated work per task of NAME_run_parallel
	                         (0: the default, CG_TASK_US in lower.c) */
} CgOptions;

/* The generated model's sizes (filled by cg_compile when info is not NULL). */
typedef struct {
	int64_t workspace, input, output;  /* bytes; floats; floats */
	int64_t code_bytes;                /* size of the output file */
} CgInfo;

int cg_compile(const Graph *g, const CgOptions *o, CgInfo *info, Diag *d);
/* The kernel level --mcpu=mcpu selects on triple (NULL: the defaults), by name:
 * "x86-64-v3" (the default) or "avx512"; "armv8-a" (the default) or "armv8.2-a+dotprod".
 * mcpu is a CPU LLVM knows or "native" (the host, when it is of the triple's architecture).
 * NULL after an error (unknown target or CPU). */
const char *cg_level(const char *triple, const char *mcpu, Diag *d);
/* "x86_64-linux-gnu" etc. -> 0 if known; the list of targets for messages. */
int cg_target_known(const char *triple);
const char *cg_target_list(void);
/* Is s a valid C identifier (for --name)? */
int cg_valid_name(const char *s);

#endif
