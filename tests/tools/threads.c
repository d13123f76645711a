/* tests/tools/threads.c: runs a compiled model from 4 threads at once, each with its own
 * workspace, and checks every output against a single-threaded run, bit for bit; first the
 * API's edge cases (NULL pointers, n = 0, an n that cannot be addressed).
 *   threads MODEL.so X.npy [ROUNDS]   exit 0 when all outputs agree */
#include "frontend/frontend.h"
#include "runtime/rt.h"

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
	free(want);
	fe_tensor_free(&x);
	rt_model_close(&m);
	return bad;
}
