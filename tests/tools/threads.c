/* tests/tools/threads.c: runs a compiled model from 4 threads at once, each with its own
 * workspace, and checks every output against a single-threaded run, bit for bit; first the
 * API's edge cases (NULL pointers, n = 0, an n that cannot be addressed). Then
 * NAME_run_parallel on the example pool (examples/sqc_pool.c) with 1, 2, 3 and 4 threads,
 * on a workspace filled with garbage before every sample, against the same outputs; and
 * its edge cases (par NULL, a NULL parallel_for, threads 0, NULL pointers).
 *   threads MODEL.so X.npy [ROUNDS]   exit 0 when all outputs agree */
#include "frontend/frontend.h"
#include "runtime/rt.h"
#include "sqc_pool.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NT 4

typedef struct {
	const RtModel *m;
	const float *x;
	float *y;
	int64_t n, isz, osz;
	int rounds, tid, rc;
} Job;

static void *work(void *arg)
{
	Job *j = arg;
	void *ws = aligned_alloc(64, (j->m->workspace_size() + 63) / 64 * 64);
	/* each thread walks the samples from a different start, one at a time */
	for (int r = 0; r < j->rounds && !j->rc; r++)
		for (int64_t k = 0; k < j->n && !j->rc; k++) {
			int64_t i = (k + j->tid * (j->n / NT + 1)) % j->n;
			j->rc |= j->m->run(j->x + i * j->isz, j->y + i * j->osz, ws);
		}
	free(ws);
	return NULL;
}

/* NAME_run_parallel of every sample against want, with 1-4 pool threads and the edge
 * cases; 0 when all agree. */
static int check_parallel(const RtModel *m, const float *x, const float *want, int64_t n)
{
	if (!m->run_parallel || !m->workspace_size_parallel) {
		fprintf(stderr, "threads: the model has no NAME_run_parallel\n");
		return 1;
	}
	int64_t isz = (int64_t)m->input_size(), osz = (int64_t)m->output_size();
	if (m->workspace_size_parallel(1) != m->workspace_size() ||
	    m->workspace_size_parallel(0) != m->workspace_size() ||
	    m->workspace_size_parallel(4) < m->workspace_size_parallel(2)) {
		fprintf(stderr, "threads: NAME_workspace_size_parallel(0, 1) != NAME_workspace_size, "
		        "or it shrinks with more threads\n");
		return 1;
	}
	float *y = malloc(sizeof(float) * (size_t)osz);
	int bad = 0;
	for (size_t t = 0; t <= 4 && !bad; t++) {
		/* t = 0: par NULL; then pools of t threads */
		SqcPool *pool = t ? sqc_pool_create(t) : NULL;
		SqcParallel par = pool ? sqc_pool_parallel(pool) : (SqcParallel){0};
		size_t wsz = m->workspace_size_parallel(t ? t : 1);
		unsigned char *ws = aligned_alloc(64, (wsz + 63) / 64 * 64);
		for (int64_t i = 0; i < n && !bad; i++) {
			memset(ws, (int)(0xa5 ^ i), wsz); /* results must not depend on its contents */
			if (m->run_parallel(x + i * isz, y, ws, t ? &par : NULL) ||
			    memcmp(y, want + i * osz, sizeof(float) * (size_t)osz)) {
				fprintf(stderr, "threads: NAME_run_parallel with %zu threads differs from "
				        "NAME_run on sample %lld\n", t, (long long)i);
				bad = 1;
			}
		}
		if (t == 2 && !bad) { /* a NULL parallel_for and threads 0 run serially */
			SqcParallel odd[2] = {{NULL, NULL, 4}, {sqc_pool_parallel_for, pool, 0}};
			for (int k = 0; k < 2 && !bad; k++)
				if (m->run_parallel(x, y, ws, &odd[k]) || memcmp(y, want, sizeof(float) * (size_t)osz)) {
					fprintf(stderr, "threads: NAME_run_parallel with %s misbehaves\n",
					        k ? "threads 0" : "a NULL parallel_for");
					bad = 1;
				}
			for (int64_t j = 0; j < osz; j++)
				y[j] = 12345.0f;
			int edge = m->run_parallel(NULL, y, ws, &par) == -1 &&
			           m->run_parallel(x, NULL, ws, &par) == -1 &&
			           m->run_parallel(x, y, NULL, &par) == -1;
			for (int64_t j = 0; j < osz; j++)
				edge &= y[j] == 12345.0f;
			if (!edge) {
				fprintf(stderr, "threads: NAME_run_parallel's NULL checks misbehave\n");
				bad = 1;
			}
		}
		free(ws);
		sqc_pool_destroy(pool);
	}
	if (!bad)
		printf("threads: NAME_run_parallel with 1-4 threads agrees bit for bit\n");
	free(y);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: threads MODEL.so X.npy [ROUNDS]\n");
		return 2;
	}
	Diag d;
	diag_init(&d, argv[1]);
	RtModel m;
	FeTensor x;
	if (rt_model_open(&m, argv[1], NULL, &d) || fe_tensor_read(argv[2], &x, &d))
		return 1;
	int64_t isz = (int64_t)m.input_size(), osz = (int64_t)m.output_size();
	int64_t n = ir_shape_numel(&x.shape) / isz;
	float *want = malloc(sizeof(float) * (size_t)(n * osz));
	void *ws = aligned_alloc(64, (m.workspace_size() + 63) / 64 * 64);
	if (m.run_batch((size_t)n, x.data, want, ws))
		return 1;
	/* edge cases: -1 and nothing written for NULL pointers and an unaddressable n; 0 for
	 * n = 0 (want stays as the batch run wrote it) */
	float *probe = malloc(sizeof(float) * (size_t)osz);
	for (int64_t i = 0; i < osz; i++)
		probe[i] = 12345.0f;
	int edge = m.run(NULL, probe, ws) == -1 && m.run(x.data, NULL, ws) == -1 &&
	           m.run(x.data, probe, NULL) == -1 && m.run_batch(0, NULL, NULL, ws) == 0 &&
	           m.run_batch((size_t)1 << 62, x.data, probe, ws) == -1 &&
	           m.run_batch(SIZE_MAX, x.data, probe, ws) == -1;
	for (int64_t i = 0; i < osz; i++)
		edge &= probe[i] == 12345.0f;
	free(probe);
	if (!edge) {
		fprintf(stderr, "threads: the API's edge cases (NULL, n = 0, huge n) misbehave\n");
		return 1;
	}
	free(ws);
	Job jobs[NT];
	pthread_t th[NT];
	for (int t = 0; t < NT; t++) {
		jobs[t] = (Job){&m, x.data, calloc((size_t)(n * osz), sizeof(float)), n, isz, osz,
		                argc > 3 ? atoi(argv[3]) : 3, t, 0};
		pthread_create(&th[t], NULL, work, &jobs[t]);
	}
	int bad = 0;
	for (int t = 0; t < NT; t++) {
		pthread_join(th[t], NULL);
		if (jobs[t].rc || memcmp(jobs[t].y, want, sizeof(float) * (size_t)(n * osz))) {
			fprintf(stderr, "threads: thread %d's outputs differ from the single-threaded run\n", t);
			bad = 1;
		}
		free(jobs[t].y);
	}
	if (!bad)
		printf("threads: %d threads x %lld samples agree bit for bit\n", NT, (long long)n);
	bad |= check_parallel(&m, x.data, want, n);
	free(want);
	fe_tensor_free(&x);
	rt_model_close(&m);
	return bad;
}
