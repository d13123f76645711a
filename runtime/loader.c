/* runtime/loader.c: opens a shared object built by the backend (dlopen/dlsym). */
#include "rt.h"
#include "threads.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void rt_model_name_from_path(const char *path, char *name, size_t n)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	const char *dot = strchr(base, '.');
	if (dot && dot != base)
		len = (size_t)(dot - base);
	size_t k = 0;
	if (len && base[0] >= '0' && base[0] <= '9' && k + 1 < n)
		name[k++] = '_';
	for (size_t i = 0; i < len && k + 1 < n; i++) {
		char ch = base[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		name[k++] = ok ? ch : '_';
	}
	if (!k && k + 1 < n)
		name[k++] = '_';
	name[k] = 0;
}

static void *sym(RtModel *m, const char *suffix)
{
	char s[200];
	snprintf(s, sizeof s, "%s_%s", m->name, suffix);
	return dlsym(m->handle, s);
}

int rt_model_open(RtModel *m, const char *path, const char *name, Diag *d)
{
	memset(m, 0, sizeof *m);
	if (name)
		snprintf(m->name, sizeof m->name, "%s", name);
	else
		rt_model_name_from_path(path, m->name, sizeof m->name);
	/* a bare file name would be searched in the library path, not here */
	char *p = xmalloc(strlen(path) + 3);
	sprintf(p, "%s%s", strchr(path, '/') ? "" : "./", path);
	m->handle = dlopen(p, RTLD_NOW | RTLD_LOCAL);
	free(p);
	if (!m->handle)
		return diag_error(d, NULL, "cannot load the compiled model: %s", dlerror());
	*(void **)&m->workspace_size = sym(m, "workspace_size");
	*(void **)&m->input_size = sym(m, "input_size");
	*(void **)&m->output_size = sym(m, "output_size");
	*(void **)&m->run = sym(m, "run");
	*(void **)&m->run_batch = sym(m, "run_batch");
	*(void **)&m->workspace_size_parallel = sym(m, "workspace_size_parallel");
	*(void **)&m->run_parallel = sym(m, "run_parallel");
	if (!m->workspace_size || !m->input_size || !m->output_size || !m->run || !m->run_batch) {
		rt_model_close(m);
		return diag_error(d, NULL, "not a model compiled by sqc with the name '%s' (no "
		                  "%s_run ...; give the name with --name)", m->name, m->name);
	}
	return 0;
}

void rt_model_close(RtModel *m)
{
	if (m->handle)
		dlclose(m->handle);
	m->handle = NULL;
}

/* The generated header's SqcParallel, and a parallel-for on the pool of threads.c. */
typedef struct {
	void (*parallel_for)(void *pool, void (*task)(void *arg, size_t i), void *arg, size_t n);
	void *pool;
	size_t threads;
} Parallel;

typedef struct {
	void (*task)(void *arg, size_t i);
	void *arg;
	size_t n;
} Pfor;

static void pfor_region(void *ctx, int tid, int nth)
{
	const Pfor *j = ctx;
	for (size_t i = (size_t)tid; i < j->n; i += (size_t)nth)
		j->task(j->arg, i);
}

static void pfor(void *pool, void (*task)(void *arg, size_t i), void *arg, size_t n)
{
	(void)pool;
	Pfor j = {task, arg, n};
	rt_parallel(pfor_region, &j, n < RT_MAX_THREADS ? (int)n : RT_MAX_THREADS);
}

static int use_parallel(const RtModel *m, int threads)
{
	return threads > 1 && m->run_parallel && m->workspace_size_parallel;
}

void *rt_model_workspace(const RtModel *m, int threads)
{
	size_t n = use_parallel(m, threads) ? m->workspace_size_parallel((size_t)threads)
	                                    : m->workspace_size();
	n = (n + 63) / 64 * 64;
	return aligned_alloc(64, n ? n : 64);
}

int rt_model_run(const RtModel *m, size_t n, const float *x, float *y, void *ws, int threads)
{
	if (!use_parallel(m, threads))
		return m->run_batch(n, x, y, ws);
	rt_set_threads(threads);
	Parallel par = {pfor, NULL, (size_t)threads};
	size_t isz = m->input_size(), osz = m->output_size();
	for (size_t i = 0; i < n; i++) {
		int rc = m->run_parallel(x + i * isz, y + i * osz, ws, &par);
		if (rc)
			return rc;
	}
	return 0;
}
