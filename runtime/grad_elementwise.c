/* runtime/grad_elementwise.c: elementwise kernels for training on the thread pool:
 * rt_unary_fast, its backward rt_unary_backward_fast, and rt_accumulate_fast (a gradient
 * reaching a value from a second consumer). The first two are their reference twins bit
 * for bit.
 */
#include "grad.h"
#include "grad_internal.h"

#include <assert.h>

static void relu_fwd_run(const float *restrict x, float *restrict y, int64_t n)
{
	int64_t i = 0;
	for (; i + EW_BLK <= n; i += EW_BLK)
		for (int l = 0; l < EW_BLK; l++) {
			float v = x[i + l];
			y[i + l] = v < 0 ? 0.0f : v;
		}
	for (; i < n; i++) {
		float v = x[i];
		y[i] = v < 0 ? 0.0f : v;
	}
}

/* dx = dy where m > 0, else 0 (m the Relu's input or output) */
static inline __attribute__((always_inline)) void relu_bwd_run(const float *restrict m, const float *restrict dy, float *restrict dx,
                         int64_t n)
{
	int64_t i = 0;
	for (; i + EW_BLK <= n; i += EW_BLK)
		for (int l = 0; l < EW_BLK; l++) {
			float g = dy[i + l]; /* loaded unconditionally: the select vectorizes */
			dx[i + l] = m[i + l] > 0 ? g : 0.0f;
		}
	for (; i < n; i++) {
		float g = dy[i];
		dx[i] = m[i] > 0 ? g : 0.0f;
	}
}

static void add_to_run(float *restrict dst, const float *restrict src, int64_t n)
{
	int64_t i = 0;
	for (; i + EW_BLK <= n; i += EW_BLK)
		for (int l = 0; l < EW_BLK; l++)
			dst[i + l] += src[i + l];
	for (; i < n; i++)
		dst[i] += src[i];
}

typedef enum { EW_UNARY, EW_UNARY_BWD, EW_ACCUM } EwKind;

typedef struct {
	EwKind kind;
	RtUnary op;
	float alpha, beta;
	const float *x, *y, *dy;
	float *out;
	RtSplit split;
} EwJob;

static void ew_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	EwJob *J = ctx;
	int64_t lo, hi;
	while (rt_split_next(&J->split, &lo, &hi)) {
		int64_t m = hi - lo;
		switch (J->kind) {
		case EW_UNARY:
			if (J->op == RT_RELU)
				relu_fwd_run(J->x + lo, J->out + lo, m);
			else
				rt_unary_ref(J->op, J->alpha, J->beta, J->x + lo, J->out + lo, m);
			break;
		case EW_UNARY_BWD:
			if (J->op == RT_RELU)
				relu_bwd_run((J->x ? J->x : J->y) + lo, J->dy + lo, J->out + lo, m);
			else
				rt_unary_backward_ref(J->op, J->alpha, J->beta, J->x + lo,
				                      J->y ? J->y + lo : NULL, J->dy + lo, J->out + lo, m);
			break;
		case EW_ACCUM:
			add_to_run(J->out + lo, J->x + lo, m);
			break;
		}
	}
}

static void ew_run(EwJob *J, int64_t n)
{
	if (n <= 0)
		return;
	int64_t units = (n + EW_CHUNK - 1) / EW_CHUNK;
	int tasks = ew_tasks(n, units);
	if (tasks == 1) {
		J->split.n = n; /* one chunk, no atomics needed */
		J->split.chunk = n;
		atomic_init(&J->split.next, 0);
	} else {
		rt_split_init(&J->split, units, 4, 0);
		J->split.chunk *= EW_CHUNK;
		J->split.n = n;
	}
	rt_parallel(ew_task, J, tasks);
}

void rt_unary_fast(RtUnary op, float alpha, float beta, const float *x, float *y, int64_t n)
{
	EwJob J = {.kind = EW_UNARY, .op = op, .alpha = alpha, .beta = beta, .x = x, .out = y};
	ew_run(&J, n);
}

void rt_unary_backward_fast(RtUnary op, float alpha, float beta, const float *x,
                            const float *y, const float *dy, float *dx, int64_t n)
{
	assert(x || (op == RT_RELU && y));
	EwJob J = {.kind = EW_UNARY_BWD, .op = op, .alpha = alpha, .beta = beta, .x = x, .y = y,
	           .dy = dy, .out = dx};
	ew_run(&J, n);
}

void rt_accumulate_fast(float *dst, const float *src, int64_t n)
{
	EwJob J = {.kind = EW_ACCUM, .x = src, .out = dst};
	ew_run(&J, n);
}
