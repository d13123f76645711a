/* examples/sqc_pool.c: the pthread pool of sqc_pool.h.
 *
 * A model's parallel-fors are short (tens of microseconds per layer), so waking sleeping
 * threads for each would cost as much as the work: workers spin on the job number for a
 * while (SPIN_NS) after each job before they sleep on a condition variable, and the
 * caller spins until its job is done.
 *
 * Protocol (all atomics sequentially consistent; gen is odd while a job is written):
 *   caller: gen++ (odd), wait until no worker is inside a job (active == 0), write the job
 *           (task, arg, n, next = 0, finished = 0), gen++ (even), wake sleepers if any,
 *           take tasks itself, then wait until finished == n;
 *   worker: wait until gen is even and not the last job it took, active++, re-read gen
 *           (odd, or its last job's: active-- and wait again), read the job, take tasks
 *           from next until none is left, finished += ran, active--.
 * A worker that read an even gen after its active++ holds the caller at its next odd gen
 * until it is done, so no job is written while a worker reads it, and a worker that reads
 * an old, finished job takes no task from it. */
#define _POSIX_C_SOURCE 200809L
#include "sqc_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_NS 2000000L /* a worker spins this long for the next job before it sleeps */

struct SqcPool {
	pthread_mutex_t mu;      /* for sleeping and waking only */
	pthread_cond_t wake;
	pthread_mutex_t run;     /* one job at a time */
	size_t nthreads, started;
	atomic_ulong gen;        /* job number */
	atomic_int quit;
	atomic_int sleeping;     /* workers in (or about to enter) the condition wait */
	atomic_int active;       /* workers inside a job */
	void (*task)(void *, size_t);
	void *arg;
	size_t n;
	atomic_size_t next;      /* the next task index to take */
	atomic_size_t finished;  /* tasks done */
	pthread_t tid[];
};

static long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* Takes and runs tasks of the job (task, arg, n); returns how many it ran. */
static size_t drain(SqcPool *p, void (*task)(void *, size_t), void *arg, size_t n)
{
	size_t ran = 0;
	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= n)
			return ran;
		task(arg, i);
		ran++;
	}
}

static int new_job(SqcPool *p, unsigned long seen)
{
	unsigned long g = atomic_load(&p->gen);
	return (g != seen && g % 2 == 0) || atomic_load(&p->quit);
}

/* Waits until there is a job other than seen or the pool quits: spins, then sleeps. */
static void await_job(SqcPool *p, unsigned long seen)
{
	long t0 = now_ns();
	for (unsigned k = 1;; k++) {
		if (new_job(p, seen))
			return;
		CPU_RELAX();
		if (k % 256 == 0 && now_ns() - t0 > SPIN_NS)
			break;
	}
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->sleeping, 1);
	while (!new_job(p, seen))
		pthread_cond_wait(&p->wake, &p->mu);
	atomic_fetch_sub(&p->sleeping, 1);
	pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
	SqcPool *p = arg;
	unsigned long seen = atomic_load(&p->gen);
	for (;;) {
		await_job(p, seen);
		if (atomic_load(&p->quit))
			return NULL;
		atomic_fetch_add(&p->active, 1);
		unsigned long g = atomic_load(&p->gen);
		if (g == seen || g % 2) { /* a job being written, or the last one */
			atomic_fetch_sub(&p->active, 1);
			continue;
		}
		seen = g;
		size_t ran = drain(p, p->task, p->arg, p->n);
		atomic_fetch_add(&p->finished, ran);
		atomic_fetch_sub(&p->active, 1);
	}
}

SqcPool *sqc_pool_create(size_t threads)
{
	if (threads == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (size_t)c : 1;
	}
	SqcPool *p = calloc(1, sizeof *p + sizeof(pthread_t) * threads);
	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_mutex_init(&p->run, NULL);
	pthread_cond_init(&p->wake, NULL);
	atomic_init(&p->gen, 0);
	atomic_init(&p->quit, 0);
	atomic_init(&p->sleeping, 0);
	atomic_init(&p->active, 0);
	atomic_init(&p->next, 0);
	atomic_init(&p->finished, 0);
	p->nthreads = threads;
	for (size_t i = 1; i < threads; i++) {
		if (pthread_create(&p->tid[i], NULL, worker, p)) {
			sqc_pool_destroy(p);
			return NULL;
		}
		p->started++;
	}
	return p;
}

void sqc_pool_destroy(SqcPool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->quit, 1);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 1; i <= p->started; i++)
		pthread_join(p->tid[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mu);
	pthread_mutex_destroy(&p->run);
	free(p);
}

size_t sqc_pool_threads(const SqcPool *p)
{
	return p->nthreads;
}

void sqc_pool_parallel_for(void *pool, void (*task)(void *arg, size_t i), void *arg, size_t n)
{
	SqcPool *p = pool;
	if (n == 0)
		return;
	if (n == 1 || p->started == 0) {
		for (size_t i = 0; i < n; i++)
			task(arg, i);
		return;
	}
	pthread_mutex_lock(&p->run);
	atomic_fetch_add(&p->gen, 1);
	while (atomic_load(&p->active))
		CPU_RELAX();
	p->task = task, p->arg = arg, p->n = n;
	atomic_store(&p->next, 0);
	atomic_store(&p->finished, 0);
	atomic_fetch_add(&p->gen, 1);
	if (atomic_load(&p->sleeping)) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->wake);
		pthread_mutex_unlock(&p->mu);
	}
	atomic_fetch_add(&p->finished, drain(p, task, arg, n));
	while (atomic_load(&p->finished) < n)
		CPU_RELAX();
	pthread_mutex_unlock(&p->run);
}

SqcParallel sqc_pool_parallel(SqcPool *pool)
{
	return (SqcParallel){sqc_pool_parallel_for, pool, pool->nthreads};
}
