/* runtime/ref_move.c: reference data movement (Transpose, Concat, Pad, Gather).
 * These work on raw elements of esize bytes, so one kernel serves every dtype. */
#include "ref_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Row-major element strides of shape s. */
static void row_strides(const Shape *s, int64_t *st)
{
	int64_t acc = 1;
	for (int i = s->rank - 1; i >= 0; i--) {
		st[i] = acc;
		acc *= s->d[i];
	}
}

/* Advances the odometer idx over dims[0..r) (last dim fastest); returns 0 after the last. */
static int odometer_next(int64_t *idx, const int64_t *dims, int r)
{
	for (int i = r - 1; i >= 0; i--) {
		if (++idx[i] < dims[i])
			return 1;
		idx[i] = 0;
	}
	return 0;
}

/* y[i0, ..., ir-1] = x[j] where j has coordinate i_k on input dim perm[k]. */
void rt_transpose_ref(size_t esize, const Shape *sx, const int64_t *perm, const void *x,
                      void *y)
{
	int r = sx->rank;
	int64_t xs[IR_MAX_RANK], od[IR_MAX_RANK], ps[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	row_strides(sx, xs);
	for (int i = 0; i < r; i++) {
		assert(perm[i] >= 0 && perm[i] < r);
		od[i] = sx->d[perm[i]];
		ps[i] = xs[perm[i]];
	}
	if (rt_numel(sx) == 0)
		return;
	const char *cx = x;
	char *cy = y;
	do {
		int64_t off = 0;
		for (int i = 0; i < r; i++)
			off += idx[i] * ps[i];
		memcpy(cy, cx + off * (int64_t)esize, esize);
		cy += esize;
	} while (odometer_next(idx, od, r));
}

void rt_concat_ref(size_t esize, int n, const Shape *const *sx, const void *const *x,
                   int axis, void *y)
{
	assert(n >= 1 && axis >= 0 && axis < sx[0]->rank);
	/* Every input is [outer, d_axis * inner]; the output interleaves their rows. */
	int64_t outer = 1, inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= sx[0]->d[i];
	for (int i = axis + 1; i < sx[0]->rank; i++)
		inner *= sx[0]->d[i];
	char *cy = y;
	for (int64_t o = 0; o < outer; o++)
		for (int j = 0; j < n; j++) {
			size_t chunk = (size_t)(sx[j]->d[axis] * inner) * esize;
			if (chunk == 0)
				continue;
			memcpy(cy, (const char *)x[j] + (size_t)o * chunk, chunk);
			cy += chunk;
		}
}

/* Source coordinate along one axis for output coordinate j, or -1 for the constant.
 * Negative pads crop first (the kept input range is [cb, cb + len)); reflect and edge then
 * work inside the kept range, as onnxruntime does. qb is the positive begin pad. */
static int64_t pad_src(RtPadMode mode, int64_t j, int64_t qb, int64_t cb, int64_t len)
{
	int64_t t = j - qb;
	if (t >= 0 && t < len)
		return cb + t;
	if (mode == RT_PAD_CONSTANT || len == 0)
		return -1;
	if (mode == RT_PAD_EDGE)
		return cb + (t < 0 ? 0 : len - 1);
	if (len == 1)
		return cb;
	/* Reflect without repeating the edge: period 2*(len-1), folded back into [0, len). */
	int64_t period = 2 * (len - 1);
	t %= period;
	if (t < 0)
		t += period;
	if (t >= len)
		t = period - t;
	return cb + t;
}

/* A NULL value in constant mode pads with zero bytes. */
void rt_pad_ref(size_t esize, RtPadMode mode, const Shape *sx, const void *x,
                const int64_t *pads, const void *value, const Shape *sy, void *y)
{
	int r = sx->rank;
	assert(sy->rank == r);
	int64_t ny = rt_numel(sy);
	if (ny == 0)
		return;
	/* map[a] + j: source coordinate on axis a of output coordinate j, -1 = constant. */
	int64_t total = 0, *map[IR_MAX_RANK];
	for (int a = 0; a < r; a++)
		total += sy->d[a];
	int64_t *buf = xmalloc((size_t)(total > 0 ? total : 1) * sizeof *buf);
	int64_t *m = buf;
	for (int a = 0; a < r; a++) {
		int64_t pb = pads[a], pe = pads[r + a];
		int64_t cb = pb < 0 ? -pb : 0, ce = pe < 0 ? -pe : 0;
		int64_t len = sx->d[a] - cb - ce;
		if (len < 0)
			len = 0;
		map[a] = m;
		for (int64_t j = 0; j < sy->d[a]; j++)
			m[j] = pad_src(mode, j, pb > 0 ? pb : 0, cb, len);
		m += sy->d[a];
	}

	int64_t xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
	row_strides(sx, xs);
	const char *cx = x;
	char *cy = y;
	do {
		int64_t off = 0;
		for (int a = 0; a < r && off >= 0; a++) {
			int64_t s = map[a][idx[a]];
			off = s < 0 ? -1 : off + s * xs[a];
		}
		if (off >= 0)
			memcpy(cy, cx + off * (int64_t)esize, esize);
		else if (value)
			memcpy(cy, value, esize);
		else
			memset(cy, 0, esize);
		cy += esize;
	} while (odometer_next(idx, sy->d, r));
	free(buf);
}

int rt_gather_ref(size_t esize, const Shape *sx, const void *x, int axis, const Shape *si,
                  const int64_t *idx, void *y)
{
	assert(axis >= 0 && axis < sx->rank);
	int64_t len = sx->d[axis], ni = rt_numel(si);
	for (int64_t j = 0; j < ni; j++)
		if (idx[j] < -len || idx[j] >= len)
			return -1;
	/* x is [outer, len, inner]; y is [outer, ni, inner]. */
	int64_t outer = 1, inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= sx->d[i];
	for (int i = axis + 1; i < sx->rank; i++)
		inner *= sx->d[i];
	size_t row = (size_t)inner * esize;
	if (row == 0)
		return 0;
	const char *cx = x;
	char *cy = y;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < ni; j++) {
			int64_t k = idx[j] < 0 ? idx[j] + len : idx[j];
			memcpy(cy, cx + (size_t)(o * len + k) * row, row);
			cy += row;
		}
	return 0;
}
