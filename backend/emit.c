/* backend/emit.c: the module around the glue, optimization, and the output files.
 *
 * The kernel library's bitcode for the target is parsed into a fresh context; the glue
 * (lower.c) and the five API functions are added to that module, so no module linking is
 * needed. Every function but the API is internalized, default<O3> inlines and
 * specializes, and the target machine writes an object, assembly or LLVM IR; a shared
 * object is linked by ld.lld. Outputs are written to a temporary file in the output's
 * folder and renamed on success; the same graph and options give the same bytes. */
#include "cg.h"
#include "../passes/passes.h"

#include <errno.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef SQC_LLD
#define SQC_LLD "ld.lld-19"
#endif

static const CgTarget *find_target(const char *triple)
{
	if (!triple || !strcmp(triple, "x86_64-linux-gnu") || !strcmp(triple, "x86_64"))
		return cg_target_x86_64();
	if (!strcmp(triple, "aarch64-linux-gnu") || !strcmp(triple, "aarch64"))
		return cg_target_aarch64();
	return NULL;
}

/* Does the comma-separated LLVM feature list have every "+feature" of need? */
static int has_features(const char *list, const char *need)
{
	while (*need) {
		const char *e = strchr(need, ',');
		size_t n = e ? (size_t)(e - need) : strlen(need);
		int found = 0;
		for (const char *f = list; f && *f && !found;) {
			const char *fe = strchr(f, ',');
			size_t fn = fe ? (size_t)(fe - f) : strlen(f);
			found = fn == n && !strncmp(f, need, n);
			f = fe ? fe + 1 : NULL;
		}
		if (!found)
			return 0;
		need += n + (e ? 1 : 0);
	}
	return 1;
}

/* What --mcpu means on t: the CPU LLVM tunes for, extra features (native: the host's), and
 * the kernel level. */
typedef struct {
	char *cpu, *features;
	int level;
} CpuChoice;

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

static void cpu_choice_free(CpuChoice *ch)
{
	free(ch->cpu);
	free(ch->features);
}

static int choose_cpu(const CgTarget *t, const char *mcpu, CpuChoice *ch, Diag *d)
{
	memset(ch, 0, sizeof *ch);
	if (!mcpu) {
		ch->cpu = xstrdup(t->cpu);
		return 0;
	}
	if (!strcmp(mcpu, "native")) {
		char *host = LLVMGetDefaultTargetTriple();
		size_t an = strcspn(t->triple, "-");
		int same = !strncmp(host, t->triple, an) && host[an] == '-';
		if (!same) {
			diag_error(d, NULL, "--mcpu=native: this machine is %s, the target %s; name a "
			           "CPU of the target instead", host, t->triple);
			LLVMDisposeMessage(host);
			return -1;
		}
		LLVMDisposeMessage(host);
		char *name = LLVMGetHostCPUName(), *feat = LLVMGetHostCPUFeatures();
		ch->cpu = xstrdup(name);
		ch->features = xstrdup(feat ? feat : "");
		LLVMDisposeMessage(name);
		LLVMDisposeMessage(feat);
		for (int l = t->nlevels - 1; l > 0 && !ch->level; l--)
			if (has_features(ch->features, t->levels[l].need))
				ch->level = l;
		return 0;
	}
	for (const CgCpu *c = t->cpus; c->name; c++)
		if (!strcmp(c->name, mcpu)) {
			ch->cpu = xstrdup(mcpu);
			ch->level = c->level;
			return 0;
		}
	return diag_error(d, NULL, "--mcpu=%s: not a CPU LLVM knows for %s (e.g. native, %s)", mcpu,
	                  t->triple, !strcmp(t->triple, "x86_64-linux-gnu")
	                  ? "x86-64-v3, skylake, znver4" : "generic, cortex-a72, neoverse-n1");
}

const char *cg_level(const char *triple, const char *mcpu, Diag *d)
{
	const CgTarget *t = find_target(triple);
	if (!t) {
		diag_error(d, NULL, "unknown target '%s' (targets: %s)", triple, cg_target_list());
		return NULL;
	}
	CpuChoice ch;
	if (choose_cpu(t, mcpu, &ch, d))
		return NULL;
	cpu_choice_free(&ch);
	return t->levels[ch.level].name;
}

int cg_target_known(const char *triple)
{
	return find_target(triple) ? 0 : -1;
}

const char *cg_target_list(void)
{
	return "x86_64-linux-gnu, aarch64-linux-gnu";
}

int cg_valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_'))
			return 0;
	return 1;
}

/* A function of the model: NAME_suffix, exported (api), or NAME.suffix, internal. */
static LLVMValueRef model_fn(Cg *c, int api, const char *suffix, LLVMTypeRef ret,
                             LLVMTypeRef *params, unsigned n)
{
	char name[256];
	snprintf(name, sizeof name, "%s%c%s", c->o->name, api ? '_' : '.', suffix);
	LLVMValueRef f = LLVMAddFunction(c->mod, name, LLVMFunctionType(ret, params, n, 0));
	LLVMSetLinkage(f, api ? LLVMExternalLinkage : LLVMInternalLinkage);
	if (api)
		LLVMSetVisibility(f, LLVMDefaultVisibility);
	return f;
}

static LLVMValueRef add_fn(Cg *c, const char *suffix, LLVMTypeRef ret, LLVMTypeRef *params,
                           unsigned n)
{
	return model_fn(c, 1, suffix, ret, params, n);
}

static void const_fn(Cg *c, const char *suffix, int64_t v)
{
	LLVMValueRef f = add_fn(c, suffix, c->i64, NULL, 0);
	LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, f, "entry"));
	LLVMBuildRet(c->b, LLVMConstInt(c->i64, (unsigned long long)v, 0));
}

/* The body of fn (declared, no arguments): the largest of fns[i](args[i]), or 0. The
 * scratch functions get constant arguments, so O3 folds it to a constant. */
static void max_fn(Cg *c, LLVMValueRef fn, LLVMValueRef *fns, LLVMValueRef *args, int n)
{
	LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, fn, "entry"));
	LLVMValueRef m = LLVMConstInt(c->i64, 0, 0);
	for (int i = 0; i < n; i++) {
		LLVMValueRef s = LLVMBuildCall2(c->b, LLVMGlobalGetValueType(fns[i]), fns[i], &args[i],
		                                1, "");
		m = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntUGT, s, m, ""), s, m, "");
	}
	LLVMBuildRet(c->b, m);
}

/* NAME_workspace_size_parallel(threads): planned bytes + the largest shared scratch +
 * threads (clamped to [1, CG_MAX_THREADS]) times the largest private scratch, rounded up
 * to 64; NAME_workspace_size: the same for one thread, folded to a constant by O3. */
static LLVMValueRef workspace_fns(Cg *c)
{
	LLVMTypeRef i64 = c->i64;
	LLVMValueRef f = add_fn(c, "workspace_size_parallel", i64, &i64, 1);
	LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, f, "entry"));
	LLVMValueRef t = LLVMGetParam(f, 0), one = LLVMConstInt(i64, 1, 0);
	LLVMValueRef most = LLVMConstInt(i64, CG_MAX_THREADS, 0);
	t = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntULT, t, one, ""), one, t, "");
	t = LLVMBuildSelect(c->b, LLVMBuildICmp(c->b, LLVMIntUGT, t, most, ""), most, t, "");
	LLVMValueRef sh = LLVMBuildCall2(c->b, LLVMGlobalGetValueType(c->fn_shmax), c->fn_shmax,
	                                 NULL, 0, "");
	LLVMValueRef pv = LLVMBuildCall2(c->b, LLVMGlobalGetValueType(c->fn_pvmax), c->fn_pvmax,
	                                 NULL, 0, "");
	LLVMValueRef v = LLVMBuildAdd(c->b, sh, LLVMBuildMul(c->b, t, pv, ""), "");
	v = LLVMBuildAdd(c->b, v, LLVMConstInt(i64, (unsigned long long)(c->plan + 63), 0), "");
	LLVMBuildRet(c->b, LLVMBuildAnd(c->b, v, LLVMConstInt(i64, ~63ULL, 0), ""));
	LLVMValueRef w = add_fn(c, "workspace_size", i64, NULL, 0);
	LLVMPositionBuilderAtEnd(c->b, LLVMAppendBasicBlockInContext(c->ctx, w, "entry"));
	LLVMBuildRet(c->b, LLVMBuildCall2(c->b, LLVMGlobalGetValueType(f), f, &one, 1, ""));
	return w;
}

/* NAME_run(in, out, ws) and NAME_run_parallel(in, out, ws, par): -1 for a NULL input,
 * output or workspace, else the body (with par NULL for NAME_run) and 0. */
static void run_fns(Cg *c)
{
	LLVMTypeRef pt[4] = {c->ptr, c->ptr, c->ptr, c->ptr};
	for (int par = 0; par < 2; par++) {
		LLVMValueRef f = add_fn(c, par ? "run_parallel" : "run", c->i32, pt, 3 + (unsigned)par);
		if (!par)
			c->fn_run = f;
		LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, f, "entry");
		LLVMBasicBlockRef nullb = LLVMAppendBasicBlockInContext(c->ctx, f, "null");
		LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, f, "body");
		LLVMPositionBuilderAtEnd(c->b, entry);
		LLVMValueRef in = LLVMGetParam(f, 0), out = LLVMGetParam(f, 1), ws = LLVMGetParam(f, 2);
		LLVMValueRef anynull = LLVMBuildOr(c->b, LLVMBuildIsNull(c->b, in, ""),
		                                   LLVMBuildOr(c->b, LLVMBuildIsNull(c->b, out, ""),
		                                               LLVMBuildIsNull(c->b, ws, ""), ""), "");
		LLVMBuildCondBr(c->b, anynull, nullb, body);
		LLVMPositionBuilderAtEnd(c->b, nullb);
		LLVMBuildRet(c->b, LLVMConstInt(c->i32, (unsigned long long)-1, 1));
		LLVMPositionBuilderAtEnd(c->b, body);
		LLVMValueRef a[4] = {in, out, ws, par ? LLVMGetParam(f, 3) : LLVMConstNull(c->ptr)};
		LLVMBuildCall2(c->b, LLVMGlobalGetValueType(c->fn_body), c->fn_body, a, 4, "");
		LLVMBuildRet(c->b, LLVMConstInt(c->i32, 0, 0));
	}
}

/* NAME_run_batch: NAME_run over n samples with the same workspace. */
static void run_batch_fn(Cg *c, int64_t insz, int64_t outsz)
{
	LLVMTypeRef pt[4] = {c->i64, c->ptr, c->ptr, c->ptr};
	LLVMValueRef f = add_fn(c, "run_batch", c->i32, pt, 4);
	LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(c->ctx, f, "entry");
	LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(c->ctx, f, "loop");
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(c->ctx, f, "body");
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->ctx, f, "done");
	LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(c->ctx, f, "fail");
	/* n samples of insz (outsz) floats must be addressable: a larger n is refused (-1)
	 * before anything is read or written */
	LLVMPositionBuilderAtEnd(c->b, entry);
	int64_t most = insz > outsz ? insz : outsz;
	unsigned long long nmax = (unsigned long long)(INT64_MAX / 4 / (most ? most : 1));
	LLVMValueRef fits = LLVMBuildICmp(c->b, LLVMIntULE, LLVMGetParam(f, 0),
	                                  LLVMConstInt(c->i64, nmax, 0), "");
	LLVMBasicBlockRef toobig = LLVMAppendBasicBlockInContext(c->ctx, f, "toobig");
	LLVMBuildCondBr(c->b, fits, loop, toobig);
	LLVMPositionBuilderAtEnd(c->b, toobig);
	LLVMBuildRet(c->b, LLVMConstInt(c->i32, (unsigned long long)-1, 1));
	LLVMPositionBuilderAtEnd(c->b, loop);
	LLVMValueRef i = LLVMBuildPhi(c->b, c->i64, "i");
	LLVMValueRef more = LLVMBuildICmp(c->b, LLVMIntULT, i, LLVMGetParam(f, 0), "");
	LLVMBuildCondBr(c->b, more, body, done);
	LLVMPositionBuilderAtEnd(c->b, body);
	LLVMValueRef oi = LLVMBuildMul(c->b, i, LLVMConstInt(c->i64, (unsigned long long)insz, 0), "");
	LLVMValueRef oo = LLVMBuildMul(c->b, i, LLVMConstInt(c->i64, (unsigned long long)outsz, 0), "");
	LLVMValueRef args[3] = {LLVMBuildGEP2(c->b, c->f32, LLVMGetParam(f, 1), &oi, 1, ""),
	                        LLVMBuildGEP2(c->b, c->f32, LLVMGetParam(f, 2), &oo, 1, ""),
	                        LLVMGetParam(f, 3)};
	LLVMValueRef rc = LLVMBuildCall2(c->b, LLVMGlobalGetValueType(c->fn_run), c->fn_run, args, 3, "");
	LLVMValueRef next = LLVMBuildAdd(c->b, i, LLVMConstInt(c->i64, 1, 0), "");
	LLVMValueRef ok = LLVMBuildICmp(c->b, LLVMIntEQ, rc, LLVMConstInt(c->i32, 0, 0), "");
	LLVMBuildCondBr(c->b, ok, loop, fail);
	LLVMValueRef zero = LLVMConstInt(c->i64, 0, 0);
	LLVMBasicBlockRef from[2] = {entry, body};
	LLVMValueRef vals[2] = {zero, next};
	LLVMAddIncoming(i, vals, from, 2);
	LLVMPositionBuilderAtEnd(c->b, done);
	LLVMBuildRet(c->b, LLVMConstInt(c->i32, 0, 0));
	LLVMPositionBuilderAtEnd(c->b, fail);
	LLVMBuildRet(c->b, rc);
}

/* Gives every function the target CPU and the kernels' features (then extra, the host's
 * for --mcpu=native), so the glue inlines the kernels; --mcpu overrides the CPU of all of
 * them. */
static void set_target_attrs(Cg *c, const char *cpu, const char *extra)
{
	LLVMValueRef ref = cg_kernel(c, "rtk_relu");
	unsigned fl = 0;
	const char *feat = "";
	LLVMAttributeRef fa = LLVMGetStringAttributeAtIndex(ref, LLVMAttributeFunctionIndex,
	                                                    "target-features", 15);
	if (fa)
		feat = LLVMGetStringAttributeValue(fa, &fl);
	size_t xl = extra ? strlen(extra) : 0;
	char *features = xmalloc(fl + xl + 2);
	memcpy(features, feat, fl);
	features[fl] = 0;
	if (xl) {
		if (fl)
			strcat(features, ",");
		strcat(features, extra);
	}
	for (LLVMValueRef f = LLVMGetFirstFunction(c->mod); f; f = LLVMGetNextFunction(f)) {
		if (LLVMIsDeclaration(f))
			continue;
		LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
		                        LLVMCreateStringAttribute(c->ctx, "target-cpu", 10, cpu,
		                                                  (unsigned)strlen(cpu)));
		LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
		                        LLVMCreateStringAttribute(c->ctx, "target-features", 15,
		                                                  features, (unsigned)strlen(features)));
		LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
		                        LLVMCreateEnumAttribute(c->ctx, LLVMGetEnumAttributeKindForName("nounwind", 8), 0));
	}
	free(features);
}

static int is_api(const Cg *c, const char *name)
{
	size_t k = strlen(c->o->name);
	return !strncmp(name, c->o->name, k) && name[k] == '_' &&
	       (!strcmp(name + k + 1, "run") || !strcmp(name + k + 1, "run_batch") ||
	        !strcmp(name + k + 1, "run_parallel") ||
	        !strcmp(name + k + 1, "workspace_size") ||
	        !strcmp(name + k + 1, "workspace_size_parallel") || !strcmp(name + k + 1, "input_size") ||
	        !strcmp(name + k + 1, "output_size"));
}

/* ---- files ------------------------------------------------------------------------- */

/* The whole of a file the linker wrote (malloc'd), or NULL. */
static void *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap);
	for (size_t got; (got = fread(buf + len, 1, cap - len, f)) > 0;) {
		len += got;
		if (len == cap)
			buf = xrealloc(buf, cap *= 2);
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	*n = len;
	return buf;
}

/* Links obj (bytes) into a shared object at path with ld.lld: the object and the linker's
 * output are temporary files next to path (removed in any case), and the shared object
 * reaches path through the atomic writer. */
static int link_so(const char *path, const void *obj, size_t n, const char *soname, Diag *d)
{
	OutFile to, ts;
	FILE *fo = ir_out_open(&to, path, d);
	if (!fo)
		return -1;
	if (!ir_out_open(&ts, path, d)) {
		ir_out_discard(&to);
		return -1;
	}
	int rc = 0;
	if (fwrite(obj, 1, n, fo) != n || fflush(fo)) {
		rc = diag_error(d, NULL, "cannot write a temporary file next to %s", path);
	} else {
		const char *lld = getenv("SQC_LLD");
		if (!lld || !*lld)
			lld = SQC_LLD;
		char so_opt[300];
		snprintf(so_opt, sizeof so_opt, "-soname=%s", soname);
		char *argv[] = {(char *)lld, "-shared", "--hash-style=gnu", "-z", "noexecstack",
		                "-z", "relro", "-z", "now", "--build-id=none", so_opt, "-o", ts.tmp,
		                to.tmp, NULL};
		pid_t pid;
		int st = 0;
		size_t sn = 0;
		void *so = NULL;
		if (posix_spawnp(&pid, lld, NULL, NULL, argv, environ) != 0)
			rc = diag_error(d, NULL, "cannot run the linker %s (set SQC_LLD)", lld);
		else if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = diag_error(d, NULL, "the linker %s failed", lld);
		else if (!(so = read_all(ts.tmp, &sn)))
			rc = diag_error(d, NULL, "cannot read the linker's output for %s", path);
		else
			rc = ir_write_file(path, so, sn, 0755, d);
		free(so);
	}
	ir_out_discard(&to);
	ir_out_discard(&ts);
	return rc;
}

static void shape_list(char *buf, size_t n, const Shape *s)
{
	size_t k = (size_t)snprintf(buf, n, "{");
	for (int i = 0; i < s->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)s->d[i]);
	if (k < n)
		snprintf(buf + k, n - k, "}");
}

static int write_header(const Cg *c, FILE *f, int64_t ws, int64_t insz, int64_t outsz,
                        Diag *d)
{
	const Graph *g = c->g;
	const char *nm = c->o->name;
	char up[256];
	size_t k = 0;
	for (; nm[k] && k + 1 < sizeof up; k++)
		up[k] = (char)(nm[k] >= 'a' && nm[k] <= 'z' ? nm[k] - 32 : nm[k]);
	up[k] = 0;
	char sin[256], sout[256];
	shape_list(sin, sizeof sin, &g->values[g->inputs[0]].shape);
	shape_list(sout, sizeof sout, &g->values[g->outputs[0]].shape);
	size_t cap = 8192;
	char *t = xmalloc(cap);
	int len = snprintf(t, cap,
		"/* %s.h: generated by sqc " SQC_VERSION " (target %s). Do not edit.\n"
		" *\n"
		" * %s_run runs one sample: input shape %s, output shape %s (float32, C order).\n"
		" * The caller provides a workspace of %s_workspace_size() bytes,\n"
		" * 64-byte aligned; the code calls no malloc and keeps no global state, so threads\n"
		" * with separate workspaces may run the model at once. %s_run returns 0, or -1\n"
		" * when input, output or workspace is NULL (nothing written). %s_run_batch runs\n"
		" * n samples one after another (n = 0: returns 0), returns the first nonzero\n"
		" * result of %s_run, or -1 without running when n samples could not be\n"
		" * addressed (n * %s_INPUT_SIZE or n * %s_OUTPUT_SIZE floats beyond 2^63 bytes).\n"
		" *\n"
		" * Threads: %s_run_parallel is %s_run with the layers' work split into tasks that\n"
		" * the app's parallel-for runs (SqcParallel below; par->threads tasks at most, and\n"
		" * at most %d); its results equal %s_run's bit for bit. Its workspace has\n"
		" * %s_workspace_size_parallel(t) bytes for t >= par->threads (64-byte aligned).\n"
		" * par NULL, a NULL parallel_for or threads <= 1 run on the calling thread. */\n"
		"#ifndef %s_H\n#define %s_H\n\n#include <stddef.h>\n\n"
		"#ifndef SQC_PARALLEL_DEFINED\n#define SQC_PARALLEL_DEFINED\n"
		"/* The app's parallel-for: runs task(arg, i) for every i in [0, n), n <= threads,\n"
		" * on any threads, and returns when all are done (pthreadpool_parallelize_1d's\n"
		" * shape; examples/sqc_pool.c is one). */\n"
		"typedef struct SqcParallel {\n"
		"\tvoid (*parallel_for)(void *pool, void (*task)(void *arg, size_t i), void *arg,\n"
		"\t                     size_t n);\n"
		"\tvoid *pool;\n\tsize_t threads;\n} SqcParallel;\n#endif\n\n"
		"#define %s_INPUT_SIZE %lld\n#define %s_OUTPUT_SIZE %lld\n"
		"#define %s_WORKSPACE_SIZE %lld\n"
		"#define %s_INPUT_RANK %d\n#define %s_INPUT_SHAPE %s\n"
		"#define %s_OUTPUT_RANK %d\n#define %s_OUTPUT_SHAPE %s\n\n"
		"#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
		"size_t %s_workspace_size(void);\nsize_t %s_input_size(void);\n"
		"size_t %s_output_size(void);\n"
		"int %s_run(const float *input, float *output, void *workspace);\n"
		"int %s_run_batch(size_t n, const float *input, float *output, void *workspace);\n"
		"size_t %s_workspace_size_parallel(size_t threads);\n"
		"int %s_run_parallel(const float *input, float *output, void *workspace,\n"
		"                    const SqcParallel *par);\n\n"
		"#ifdef __cplusplus\n}\n#endif\n\n#endif\n",
		nm, c->o->target ? c->o->target : "x86_64-linux-gnu", nm, sin, sout, nm, nm, nm, nm,
		up, up, nm, nm, CG_MAX_THREADS, nm, nm,
		up, up, up, (long long)insz, up, (long long)outsz, up,
		(long long)ws, up, g->values[g->inputs[0]].shape.rank, up, sin, up,
		g->values[g->outputs[0]].shape.rank, up, sout, nm, nm, nm, nm, nm, nm, nm);
	int rc = len < 0 || (size_t)len >= cap ? diag_error(d, NULL, "header too long")
	                                       : (fputs(t, f), 0);
	free(t);
	return rc;
}

/* ---- the compilation ------------------------------------------------------------------ */

static int check_io(const Graph *g, Diag *d)
{
	if (g->ninputs != 1 || g->noutputs != 1)
		return diag_error(d, NULL, "the generated API has one input and one output; the "
		                  "model has %d and %d", g->ninputs, g->noutputs);
	const Value *x = &g->values[g->inputs[0]], *y = &g->values[g->outputs[0]];
	if (x->dtype != DT_FLOAT || y->dtype != DT_FLOAT)
		return diag_error(d, NULL, "the model's input and output must be float32");
	if (g->inputs[0] == g->outputs[0] || y->producer < 0 || y->data)
		return diag_error(d, NULL, "the model's output is not computed from its input");
	return 0;
}

int cg_compile(const Graph *g, const CgOptions *o, CgInfo *info, Diag *d)
{
	const CgTarget *t = find_target(o->target);
	if (!t)
		return diag_error(d, NULL, "unknown target '%s' (targets: %s)", o->target,
		                  cg_target_list());
	if (check_io(g, d))
		return -1;
	if (o->header && !strcmp(o->header, o->output))
		return diag_error(d, NULL, "--emit-header and -o name the same file %s", o->output);
	CpuChoice ch;
	if (choose_cpu(t, o->mcpu, &ch, d))
		return -1;
	const CgLevel *lv = &t->levels[ch.level];
	if (o->verbose)
		fprintf(stderr, "sqc: cpu %s, kernels %s (%s)\n", ch.cpu, lv->name, lv->what);
	t->init();
	Cg c = {0};
	c.g = g;
	c.o = o;
	c.t = t;
	c.lv = lv;
	c.d = d;
	c.ctx = LLVMContextCreate();
	LLVMMemoryBufferRef mb = LLVMCreateMemoryBufferWithMemoryRange((const char *)lv->bc,
	                                                               lv->bc_size, "kernels", 0);
	int rc = -1;
	OutFile hf = {0};   /* --emit-header: open before the output is written */
	LLVMTargetMachineRef tm = NULL;
	char *err = NULL;
	if (LLVMParseBitcodeInContext2(c.ctx, mb, &c.mod)) {
		diag_error(d, NULL, "internal error: the embedded kernel bitcode does not load");
		goto out;
	}
	c.i8 = LLVMInt8TypeInContext(c.ctx);
	c.i32 = LLVMInt32TypeInContext(c.ctx);
	c.i64 = LLVMInt64TypeInContext(c.ctx);
	c.f32 = LLVMFloatTypeInContext(c.ctx);
	c.ptr = LLVMPointerTypeInContext(c.ctx, 0);
	c.b = LLVMCreateBuilderInContext(c.ctx);
	c.cglobal = xcalloc((size_t)(g->nvalues ? g->nvalues : 1), sizeof(LLVMValueRef));
	c.plan = (memplan_size(g) + 63) / 64 * 64;
	const char *triple = t->triple;
	LLVMSetTarget(c.mod, triple);

	/* the graph in NAME.body(in, out, ws, par), noinline: NAME_run and NAME_run_parallel
	 * share one copy */
	LLVMTypeRef pt[4] = {c.ptr, c.ptr, c.ptr, c.ptr};
	c.fn_body = model_fn(&c, 0, "body", LLVMVoidTypeInContext(c.ctx), pt, 4);
	cg_noinline(&c, c.fn_body);
	c.fn_shmax = model_fn(&c, 0, "shared_max", c.i64, NULL, 0);
	c.fn_pvmax = model_fn(&c, 0, "priv_max", c.i64, NULL, 0);
	c.in = LLVMGetParam(c.fn_body, 0);
	c.out = LLVMGetParam(c.fn_body, 1);
	c.ws = LLVMGetParam(c.fn_body, 2);
	LLVMPositionBuilderAtEnd(c.b, LLVMAppendBasicBlockInContext(c.ctx, c.fn_body, "entry"));
	cg_body_entry(&c, LLVMGetParam(c.fn_body, 3));
	if (cg_lower_graph(&c))
		goto out;
	LLVMBuildRetVoid(c.b);
	max_fn(&c, c.fn_shmax, c.sc_shared, c.sc_arg, c.nscratch);
	max_fn(&c, c.fn_pvmax, c.sc_priv, c.sc_arg, c.nscratch);
	run_fns(&c);
	int64_t insz = ir_shape_numel(&g->values[g->inputs[0]].shape);
	int64_t outsz = ir_shape_numel(&g->values[g->outputs[0]].shape);
	const_fn(&c, "input_size", insz);
	const_fn(&c, "output_size", outsz);
	LLVMValueRef wsf = workspace_fns(&c);
	run_batch_fn(&c, insz, outsz);
	const char *cpu = ch.cpu;
	set_target_attrs(&c, cpu, ch.features);
	/* internalize the kernels, and inline them into the glue: every call is specialized
	 * for its layer's constant parameters */
	unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
	unsigned noinl = LLVMGetEnumAttributeKindForName("noinline", 8);
	for (LLVMValueRef f = LLVMGetFirstFunction(c.mod); f; f = LLVMGetNextFunction(f)) {
		size_t nl;
		const char *fname = LLVMGetValueName2(f, &nl);
		if (LLVMIsDeclaration(f) || is_api(&c, fname))
			continue;
		LLVMSetLinkage(f, LLVMInternalLinkage);
		if (!LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, noinl))
			LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex,
			                        LLVMCreateEnumAttribute(c.ctx, always, 0));
	}
	for (LLVMValueRef v = LLVMGetFirstGlobal(c.mod); v; v = LLVMGetNextGlobal(v))
		if (!LLVMIsDeclaration(v))
			LLVMSetLinkage(v, LLVMGetLinkage(v) == LLVMPrivateLinkage ? LLVMPrivateLinkage
			                                                             : LLVMInternalLinkage);
	if (LLVMVerifyModule(c.mod, LLVMReturnStatusAction, &err)) {
		diag_error(d, NULL, "internal error: invalid LLVM module: %s", err);
		goto out;
	}
	LLVMDisposeMessage(err);
	err = NULL;

	LLVMTargetRef target;
	if (LLVMGetTargetFromTriple(triple, &target, &err)) {
		diag_error(d, NULL, "LLVM has no target %s: %s", triple, err);
		goto out;
	}
	tm = LLVMCreateTargetMachine(target, triple, cpu, ch.features ? ch.features : "",
	                             LLVMCodeGenLevelAggressive,
	                             LLVMRelocPIC, LLVMCodeModelDefault);
	if (!tm) {
		diag_error(d, NULL, "LLVM cannot make a target machine for %s, cpu %s", triple, cpu);
		goto out;
	}
	LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
	LLVMSetModuleDataLayout(c.mod, dl);
	LLVMDisposeTargetData(dl);
	LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
	LLVMErrorRef perr = LLVMRunPasses(c.mod, "default<O3>", tm, po);
	LLVMDisposePassBuilderOptions(po);
	if (perr) {
		char *m = LLVMGetErrorMessage(perr);
		diag_error(d, NULL, "internal error: LLVM passes failed: %s", m);
		LLVMDisposeErrorMessage(m);
		goto out;
	}
	/* the workspace size folded to a constant */
	LLVMValueRef ret = LLVMGetBasicBlockTerminator(LLVMGetEntryBasicBlock(wsf));
	LLVMValueRef wv = ret && LLVMGetNumOperands(ret) == 1 ? LLVMGetOperand(ret, 0) : NULL;
	if (!wv || !LLVMIsAConstantInt(wv)) {
		char *txt = LLVMPrintValueToString(wsf);
		diag_error(d, NULL, "internal error: the workspace size is not a constant after O3:\n%s", txt);
		LLVMDisposeMessage(txt);
		goto out;
	}
	int64_t ws = (int64_t)LLVMConstIntGetZExtValue(wv);

	/* The header's file is opened first, so that a header that cannot be written stops
	 * the compilation before the output exists; if the header fails after the output was
	 * written, the output is removed: both files or neither. */
	if (o->header && !ir_out_open(&hf, o->header, d))
		goto out;

	LLVMMemoryBufferRef outbuf = NULL;
	if (o->kind == CG_LLVM) {
		char *s = LLVMPrintModuleToString(c.mod);
		rc = ir_write_file(o->output, s, strlen(s), 0644, d);
		LLVMDisposeMessage(s);
	} else {
		LLVMCodeGenFileType ft = o->kind == CG_ASM ? LLVMAssemblyFile : LLVMObjectFile;
		if (LLVMTargetMachineEmitToMemoryBuffer(tm, c.mod, ft, &err, &outbuf)) {
			diag_error(d, NULL, "internal error: LLVM code generation failed: %s", err);
			goto out;
		}
		const char *p = LLVMGetBufferStart(outbuf);
		size_t n = LLVMGetBufferSize(outbuf);
		if (o->kind == CG_SO) {
			const char *base = strrchr(o->output, '/');
			rc = link_so(o->output, p, n, base ? base + 1 : o->output, d);
		} else {
			rc = ir_write_file(o->output, p, n, 0644, d);
		}
		LLVMDisposeMemoryBuffer(outbuf);
	}
	if (!rc && o->header) {
		rc = write_header(&c, hf.f, ws, insz, outsz, d);
		rc = rc ? -1 : ir_out_commit(&hf, 0644, d);
		if (rc)
			unlink(o->output);
	}
	if (!rc && info) {
		struct stat st;
		info->workspace = ws;
		info->input = insz;
		info->output = outsz;
		info->code_bytes = stat(o->output, &st) ? -1 : (int64_t)st.st_size;
	}
out:
	ir_out_discard(&hf);
	if (err)
		LLVMDisposeMessage(err);
	if (tm)
		LLVMDisposeTargetMachine(tm);
	if (c.b)
		LLVMDisposeBuilder(c.b);
	if (c.mod)
		LLVMDisposeModule(c.mod);
	LLVMDisposeMemoryBuffer(mb);
	LLVMContextDispose(c.ctx);
	free(c.cglobal);
	free(c.sc_shared);
	free(c.sc_priv);
	free(c.sc_arg);
	cpu_choice_free(&ch);
	return rc;
}
