/* bench/so_speed.c: microseconds per image of a compiled model, batch 1, on n images of
 * random input in [-1, 1] (the speed does not depend on the values). With THREADS 1 (the
 * default) it times NAME_run; with THREADS > 1, NAME_run_parallel on a pool of THREADS
 * threads (examples/sqc_pool.c, the calling thread included), with a workspace of
 * NAME_workspace_size_parallel(THREADS) bytes; a .so without those entry points is an
 * error (exit status 1).
 *   cc -O2 -pthread -I examples -o so_speed bench/so_speed.c examples/sqc_pool.c -ldl
 *   ./so_speed MODEL.so NAME N [THREADS]      prints "us_per_image X" */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sqc_pool.h"

typedef int (*RunFn)(const float *, float *, void *);
typedef int (*RunParFn)(const float *, float *, void *, const SqcParallel *);

static void *sym(void *h, const char *name, const char *suffix)
{
	char s[256];
	snprintf(s, sizeof s, "%s%s", name, suffix);
	return dlsym(h, s);
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: so_speed MODEL.so NAME N [THREADS]\n");
		return 2;
	}
	const char *name = argv[2];
	int n = atoi(argv[3]);
	int threads = argc > 4 ? atoi(argv[4]) : 1;
	if (n < 1 || threads < 1) {
		fprintf(stderr, "so_speed: N and THREADS must be at least 1\n");
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "so_speed: %s\n", dlerror());
		return 1;
	}
	size_t (*wsz)(void) = (size_t (*)(void))sym(h, name, "_workspace_size");
	size_t (*isz)(void) = (size_t (*)(void))sym(h, name, "_input_size");
	size_t (*osz)(void) = (size_t (*)(void))sym(h, name, "_output_size");
	RunFn run = (RunFn)sym(h, name, "_run");
	if (!wsz || !isz || !osz || !run) {
		fprintf(stderr, "so_speed: %s lacks the %s_ API\n", argv[1], name);
		return 1;
	}
	size_t (*wszp)(size_t) = (size_t (*)(size_t))sym(h, name, "_workspace_size_parallel");
	RunParFn runp = (RunParFn)sym(h, name, "_run_parallel");
	SqcPool *pool = NULL;
	SqcParallel par = {0};
	size_t ws_bytes = wsz();
	if (threads > 1) {
		if (!wszp || !runp) {
			fprintf(stderr,
			        "so_speed: %s lacks %s_run_parallel / %s_workspace_size_parallel "
			        "(built by an sqc without the parallel entry points): cannot time %d threads\n",
			        argv[1], name, name, threads);
			return 1;
		}
		pool = sqc_pool_create((size_t)threads);
		if (!pool) {
			fprintf(stderr, "so_speed: cannot start a pool of %d threads\n", threads);
			return 1;
		}
		par = sqc_pool_parallel(pool);
		ws_bytes = wszp(par.threads);
	}
	size_t ni = isz(), no = osz();
	float *x = malloc(sizeof(float) * ni * 16), *y = malloc(sizeof(float) * no);
	void *ws = aligned_alloc(64, (ws_bytes + 64) / 64 * 64); /* at least 64 bytes */
	if (!x || !y || !ws) {
		fprintf(stderr, "so_speed: out of memory\n");
		return 1;
	}
	srand(1);
	for (size_t i = 0; i < ni * 16; i++)
		x[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
	struct timespec t0, t1;
	int rc = pool ? runp(x, y, ws, &par) : run(x, y, ws); /* warm */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n && !rc; i++) {
		const float *xi = x + (size_t)(i % 16) * ni;
		rc = pool ? runp(xi, y, ws, &par) : run(xi, y, ws);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc) {
		fprintf(stderr, "so_speed: %s_run%s returned %d\n", name, pool ? "_parallel" : "", rc);
		return 1;
	}
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	            1e3 / n;
	printf("us_per_image %.2f\n", us);
	if (pool)
		sqc_pool_destroy(pool);
	free(x);
	free(y);
	free(ws);
	return 0;
}
