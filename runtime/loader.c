/* runtime/loader.c: opens a shared object built by the backend (dlopen/dlsym). */
#include "rt.h"

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
