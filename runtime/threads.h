/* runtime/threads.h: the thread pool of the fast kernels (runtime/threads.c): the thread
 * count, parallel regions, and work items taken in chunks. Private to runtime/, its tests,
 * the trainer (passes/sq/) and the driver (--threads); fast.h includes it.
 */
#ifndef SQC_THREADS_H
#define SQC_THREADS_H

#include <stdatomic.h>
#include <stdint.h>

/* The most threads rt_threads() returns, hence the most tasks a region runs. */
#define RT_MAX_THREADS 64

/* Threads of the fast kernels: n > 0 sets the count, 0 restores the default, which is
 * OpenBLAS's thread count (OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else the cores), so
 * one setting governs BLAS and these kernels alike. Results do not depend on the count. */
void rt_set_threads(int n);
int rt_threads(void);

/* Runs fn(ctx, tid, nth) for tid in [0, nth) on the pool's threads (the caller is tid 0),
 * nth = min(rt_threads(), max_tasks), and returns when all are done. Nested or concurrent
 * calls run serially on the calling thread (nth = 1). */
typedef void RtTaskFn(void *ctx, int tid, int nth);
void rt_parallel(RtTaskFn *fn, void *ctx, int max_tasks);

/* Work items [0, n) that the tasks of a region take in chunks as they go, so that a thread
 * the system holds back (other processes on the cores) does not hold the others up. Which
 * thread computes an item never changes its result. */
typedef struct {
	atomic_llong next;
	int64_t n, chunk;
} RtSplit;
/* chunk = n / (parts * rt_threads()), at least 1 and at most max_chunk (0: no cap). */
void rt_split_init(RtSplit *s, int64_t n, int parts, int64_t max_chunk);
/* The next chunk [*lo, *hi); 0 when none is left. */
int rt_split_next(RtSplit *s, int64_t *lo, int64_t *hi);

#endif
