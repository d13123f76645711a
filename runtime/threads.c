/* runtime/threads.c: the small thread pool the fast kernels run on (see threads.h).
 *
 * Workers are started on demand, detached, and wait on a condition variable between
 * regions; one region runs at a time (a concurrent or nested one runs serially on its
 * caller). The default thread count is OpenBLAS's, so that one setting governs both.
 */
#include "threads.h"
#include "../ir/ir.h" /* xmalloc */

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static int threads_set; /* rt_set_threads value; 0 = default */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_go = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t pool_call = PTHREAD_MUTEX_INITIALIZER; /* one region at a time */
static int pool_nworkers;       /* started workers, tids 1..pool_nworkers */
static uint64_t pool_gen;       /* bumped for each region */
static RtTaskFn *pool_fn;
static void *pool_ctx;
static int pool_nth;
static int pool_pending;        /* workers yet to finish the current region */
static _Thread_local int in_task;

void rt_set_threads(int n)
{
	pthread_mutex_lock(&pool_mu);
	threads_set = n > 0 ? (n < RT_MAX_THREADS ? n : RT_MAX_THREADS) : 0;
	pthread_mutex_unlock(&pool_mu);
}

int rt_threads(void)
{
	pthread_mutex_lock(&pool_mu);
	int n = threads_set;
	pthread_mutex_unlock(&pool_mu);
	if (n <= 0)
		n = openblas_get_num_threads();
	return n < 1 ? 1 : n > RT_MAX_THREADS ? RT_MAX_THREADS : n;
}

typedef struct {
	int tid;
	uint64_t seen;
} WorkerArg;

static void *worker(void *arg)
{
	WorkerArg wa = *(WorkerArg *)arg;
	free(arg);
	in_task = 1; /* a kernel running here never opens a nested region */
	for (;;) {
		pthread_mutex_lock(&pool_mu);
		while (pool_gen == wa.seen)
			pthread_cond_wait(&pool_go, &pool_mu);
		wa.seen = pool_gen;
		RtTaskFn *fn = pool_fn;
		void *ctx = pool_ctx;
		int nth = pool_nth;
		pthread_mutex_unlock(&pool_mu);
		if (wa.tid < nth)
			fn(ctx, wa.tid, nth);
		pthread_mutex_lock(&pool_mu);
		if (--pool_pending == 0)
			pthread_cond_signal(&pool_done);
		pthread_mutex_unlock(&pool_mu);
	}
	return NULL;
}

/* A child of fork() has none of the workers: it starts a pool of its own. */
static void pool_atfork_child(void)
{
	pthread_mutex_init(&pool_mu, NULL);
	pthread_mutex_init(&pool_call, NULL);
	pthread_cond_init(&pool_go, NULL);
	pthread_cond_init(&pool_done, NULL);
	pool_nworkers = 0;
	pool_pending = 0;
	in_task = 0;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork_init(void)
{
	pthread_atfork(NULL, NULL, pool_atfork_child);
}

void rt_parallel(RtTaskFn *fn, void *ctx, int max_tasks)
{
	int nth = rt_threads();
	if (max_tasks < nth)
		nth = max_tasks;
	if (nth <= 1 || in_task || pthread_mutex_trylock(&pool_call)) {
		int was = in_task;
		in_task = 1;
		fn(ctx, 0, 1);
		in_task = was;
		return;
	}
	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&pool_mu);
	while (pool_nworkers < nth - 1) {
		WorkerArg *wa = xmalloc(sizeof *wa);
		wa->tid = pool_nworkers + 1;
		wa->seen = pool_gen;
		pthread_t th;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		int err = pthread_create(&th, &at, worker, wa);
		pthread_attr_destroy(&at);
		if (err) {
			free(wa);
			break;
		}
		pool_nworkers++;
	}
	if (nth > pool_nworkers + 1)
		nth = pool_nworkers + 1;
	pool_fn = fn;
	pool_ctx = ctx;
	pool_nth = nth;
	pool_pending = pool_nworkers;
	pool_gen++;
	pthread_cond_broadcast(&pool_go);
	pthread_mutex_unlock(&pool_mu);

	in_task = 1;
	fn(ctx, 0, nth);
	in_task = 0;

	pthread_mutex_lock(&pool_mu);
	while (pool_pending > 0)
		pthread_cond_wait(&pool_done, &pool_mu);
	pthread_mutex_unlock(&pool_mu);
	pthread_mutex_unlock(&pool_call);
}

void rt_split_init(RtSplit *s, int64_t n, int parts, int64_t max_chunk)
{
	int64_t c = n / ((int64_t)parts * rt_threads());
	if (max_chunk > 0 && c > max_chunk)
		c = max_chunk;
	atomic_init(&s->next, 0);
	s->n = n;
	s->chunk = c < 1 ? 1 : c;
}

int rt_split_next(RtSplit *s, int64_t *lo, int64_t *hi)
{
	int64_t a = (int64_t)atomic_fetch_add(&s->next, (long long)s->chunk);
	if (a >= s->n)
		return 0;
	*lo = a;
	*hi = a + s->chunk < s->n ? a + s->chunk : s->n;
	return 1;
}
