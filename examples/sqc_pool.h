/* examples/sqc_pool.h: a small pthread pool that gives a model compiled by sqc its
 * parallel-for (NAME_run_parallel). Copy it into your app, or use your own pool: any
 * function that runs task(arg, i) for every i in [0, n) and returns when all are done
 * will do (XNNPACK's pthreadpool_parallelize_1d has this shape).
 *
 *   SqcPool *pool = sqc_pool_create(4);                 // 4 threads, the caller included
 *   SqcParallel par = sqc_pool_parallel(pool);
 *   void *ws = aligned_alloc(64, (NAME_workspace_size_parallel(par.threads) + 63) / 64 * 64);
 *   NAME_run_parallel(input, output, ws, &par);         // bit-identical to NAME_run
 *   sqc_pool_destroy(pool);
 *
 * One pool runs one parallel-for at a time: two app threads that share a pool take turns.
 * Build: cc -O2 -pthread app.c examples/sqc_pool.c model.o */
#ifndef SQC_POOL_H
#define SQC_POOL_H

#include <stddef.h>

#ifndef SQC_PARALLEL_DEFINED
#define SQC_PARALLEL_DEFINED
/* The app's parallel-for, as every header sqc writes defines it. */
typedef struct SqcParallel {
	/* runs task(arg, i) for every i in [0, n) on up to `threads` threads; returns when
	 * all are done */
	void (*parallel_for)(void *pool, void (*task)(void *arg, size_t i), void *arg, size_t n);
	void *pool;      /* passed to parallel_for as is */
	size_t threads;  /* at most this many tasks at once; the model makes at most this many */
} SqcParallel;
#endif

typedef struct SqcPool SqcPool;

/* A pool of `threads` threads, the calling thread included (threads - 1 are started);
 * NULL if out of memory or threads cannot be started. threads 0 = the online cores. */
SqcPool *sqc_pool_create(size_t threads);
void sqc_pool_destroy(SqcPool *pool);
size_t sqc_pool_threads(const SqcPool *pool);
/* The parallel-for of SqcParallel: pool is an SqcPool. */
void sqc_pool_parallel_for(void *pool, void (*task)(void *arg, size_t i), void *arg, size_t n);
/* {sqc_pool_parallel_for, pool, sqc_pool_threads(pool)} */
SqcParallel sqc_pool_parallel(SqcPool *pool);

#endif
