/* runtime/grad_conv.c: fast Conv backward, the trainer's hot path: on the micro-kernels of
 * igemm_bwd.c, with im2col + OpenBLAS cblas_sgemm left for the cases those do not cover
 * (im2col/col2im on the thread pool, threads.c). Results do not depend on the thread count.
 *
 * Agrees with its reference twin in grad_ref.c within float rounding. Sizes that do not
 * fit BLAS's integer type fall back to the reference kernel.
 */
#include "fast.h"
#include "grad.h"
#include "grad_internal.h"
#include "ref_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Conv backward works on chunks of output columns: about COL_TARGET floats of col matrix
 * (and of gathered dY), so that col2im reads what the GEMM just wrote from cache, but at
 * least COL_MIN columns, the K of the dW GEMM (each chunk reads and writes all of dW). */
#define COL_TARGET ((int64_t)1 << 18)
#define COL_MIN 1024

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* [lo, hi): the t in [0, run) with 0 <= i + t*st < in. */
static void valid_range(int64_t i, int64_t st, int64_t in, int64_t run, int64_t *lo,
                        int64_t *hi)
{
	int64_t l = i >= 0 ? 0 : (-i + st - 1) / st;
	int64_t h = i >= in ? 0 : (in - i + st - 1) / st;
	h = min64(h, run);
	*lo = l < h ? l : h;
	*hi = h;
}

/* Sum of x[0..n) with eight float partial sums (vectorizable), added up in double. */
static double sum_run(const float *x, int64_t n)
{
	float part[8] = {0};
	int64_t t = 0;
	for (; t + 8 <= n; t += 8)
		for (int l = 0; l < 8; l++)
			part[l] += x[t + l];
	double acc = 0;
	for (int l = 0; l < 8; l++)
		acc += part[l];
	for (; t < n; t++)
		acc += x[t];
	return acc;
}

/* dst[t] += src[t] for t < n, unrolled so that -O2's straight-line vectorizer applies. */
static void add_run(float *restrict dst, const float *restrict src, int64_t n)
{
	int64_t t = 0;
	for (; t + 8 <= n; t += 8) {
		dst[t + 0] += src[t + 0];
		dst[t + 1] += src[t + 1];
		dst[t + 2] += src[t + 2];
		dst[t + 3] += src[t + 3];
		dst[t + 4] += src[t + 4];
		dst[t + 5] += src[t + 5];
		dst[t + 6] += src[t + 6];
		dst[t + 7] += src[t + 7];
	}
	for (; t < n; t++)
		dst[t] += src[t];
}

/* The col matrix of one image and group over output positions [s0, s0 + len):
 * col[r * ld + (o - s0)] for row r = (input channel, kernel tap) in the weights' order
 * [cg, k0, k1, k2] is the input under that tap at output position o (0 in padding).
 * With xr (and xw NULL) it fills col from the input (im2col); with xw (and xr NULL) it
 * adds col into the input gradient (col2im, the transpose). Only the rows of input
 * channels [c0, c1) are done.
 * The positions are walked line by line (a line: fixed o0, o1, all o2), with no division
 * inside the walk: per row, the o2 range whose tap lands inside the input is fixed. */
static void col_xfer(const RtConvGeom3 *g, const float *xr, float *xw, int64_t c0, int64_t c1,
                     int64_t s0, int64_t len, float *col, int64_t ld)
{
	int64_t kvol = g->k[0] * g->k[1] * g->k[2];
	int64_t invol = g->in[0] * g->in[1] * g->in[2];
	int64_t out1 = g->out[1], out2 = g->out[2], st2 = g->stride[2];
	int64_t line0 = s0 / out2, end = s0 + len;
	for (int64_t r = c0 * kvol; r < c1 * kvol; r++) {
		int64_t kk = r % kvol;
		int64_t k2 = kk % g->k[2], k1 = kk / g->k[2] % g->k[1], k0 = kk / (g->k[1] * g->k[2]);
		/* input position along the last dim: i2 = o2*st2 + off2 */
		int64_t off2 = k2 * g->dil[2] - g->pad[2], lo2, hi2;
		valid_range(off2, st2, g->in[2], out2, &lo2, &hi2);
		int64_t coff = r / kvol * invol;
		int64_t o1 = line0 % out1, o0 = line0 / out1;
		/* ls: position of the line's o2 = 0; the line covers o2 in [a, b) */
		for (int64_t ls = line0 * out2; ls < end; ls += out2) {
			int64_t a = ls < s0 ? s0 - ls : 0, b = min64(out2, end - ls);
			int64_t i0 = o0 * g->stride[0] - g->pad[0] + k0 * g->dil[0];
			int64_t i1 = o1 * g->stride[1] - g->pad[1] + k1 * g->dil[1];
			int64_t lo = a, hi = a;
			if (i0 >= 0 && i0 < g->in[0] && i1 >= 0 && i1 < g->in[1]) {
				lo = lo2 > a ? lo2 : a;
				hi = min64(hi2, b);
				hi = hi > lo ? hi : lo;
			}
			/* col[q + o2] and input[base + o2*st2] for o2 in the line */
			int64_t q = r * ld + ls - s0;
			int64_t base = coff + (i0 * g->in[1] + i1) * g->in[2] + off2;
			if (xr) {
				float *d = col + (q + a);
				for (int64_t t = a; t < lo; t++)
					*d++ = 0.0f;
				if (st2 == 1) {
					memcpy(d, xr + (base + lo), (size_t)(hi - lo) * sizeof *d);
					d += hi - lo;
				} else {
					for (int64_t t = lo; t < hi; t++)
						*d++ = xr[base + t * st2];
				}
				for (int64_t t = hi; t < b; t++)
					*d++ = 0.0f;
			} else if (st2 == 1) {
				if (hi > lo)
					add_run(xw + (base + lo), col + (q + lo), hi - lo);
			} else {
				for (int64_t t = lo; t < hi; t++)
					xw[base + t * st2] += col[q + t];
			}
			if (++o1 == out1) {
				o1 = 0;
				o0++;
			}
		}
	}
}

/* One chunk's col transfer (all its image segments) for one group; threads split the
 * input channels, whose rows touch disjoint input elements, so col2im's adds never race
 * and the result does not depend on the thread count. */
typedef struct {
	const RtConvGeom3 *g;
	const float *x;      /* im2col from the input, or NULL */
	float *dx;           /* col2im into the input gradient, or NULL */
	int64_t c, cg, grp;  /* channels, channels per group, the group */
	int64_t invol, outvol;
	int64_t j0, nc;      /* the chunk: batch columns [j0, j0 + nc) */
	float *col;          /* [cg*kvol, nc] */
} XferJob;

static void xfer_task(void *ctx, int tid, int nth)
{
	const XferJob *J = ctx;
	int64_t c0 = J->cg * tid / nth, c1 = J->cg * (tid + 1) / nth;
	for (int64_t j = J->j0; j < J->j0 + J->nc;) {
		int64_t ni = j / J->outvol, s = j % J->outvol;
		int64_t len = min64(J->outvol - s, J->j0 + J->nc - j);
		int64_t off = (ni * J->c + J->grp * J->cg) * J->invol;
		col_xfer(J->g, J->x ? J->x + off : NULL, J->dx ? J->dx + off : NULL, c0, c1, s, len,
		         J->col + (j - J->j0), J->nc);
		j += len;
	}
}

/* Runs xfer_task, on several threads when the chunk is large enough to pay for them. */
static void col_xfer_chunk(XferJob *J, int64_t kdim)
{
	int tasks = kdim * J->nc >= ((int64_t)1 << 15) && J->cg > 1 ? (int)min64(J->cg, 64) : 1;
	rt_parallel(xfer_task, J, tasks);
}

/* The batch's output positions are numbered j = image*outvol + position, and a chunk is a
 * range of j: for group g, with col [kdim, nc] the chunk's im2col columns side by side and
 * dYc [mg, nc] the matching dY columns,
 *   dW_g += dYc col^T              (one GEMM per chunk, K = nc)
 *   col   = W_g^T dYc; col2im      (dX)
 * A chunk inside one image reads dY in place; one spanning images gathers dY first. */
void rt_conv_backward_fast(const RtConv *p, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, float *db)
{
	assert(p->nsp >= 1 && p->nsp <= RT_MAX_SPATIAL);
	assert(p->group >= 1 && p->c % p->group == 0 && p->m % p->group == 0);
	RtConvGeom3 g = rt_conv_geom3_right(p);
	int64_t cg = p->c / p->group, mg = p->m / p->group;
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];
	int64_t kdim = cg * g.k[0] * g.k[1] * g.k[2];
	int64_t nx = p->n * p->c * invol, nw = p->m * kdim;
	int64_t total = p->n * outvol;

	if (db)
		for (int64_t m = 0; m < p->m; m++) {
			double acc = 0;
			for (int64_t n = 0; n < p->n; n++)
				acc += sum_run(dy + (n * p->m + m) * outvol, outvol);
			db[m] = (float)acc;
		}
	/* sqc's own kernels (igemm_bwd.c); what they do not cover goes the BLAS way below */
	if (dw && rt_igemm_conv_dw(p, x, dy, dw) == 0)
		dw = NULL;
	if (dx && rt_igemm_conv_dx(p, w, dy, dx) == 0)
		dx = NULL;
	if (!dx && !dw)
		return;
	if (total == 0 || mg == 0 || kdim == 0) {
		grad_zero(dx, nx);
		grad_zero(dw, nw);
		return;
	}
	int64_t chunk = COL_TARGET / (kdim > mg ? kdim : mg);
	chunk = min64(chunk < COL_MIN ? COL_MIN : chunk, total);
	if (!rt_blas_ok(mg) || !rt_blas_ok(kdim) || !rt_blas_ok(chunk) || !rt_blas_ok(outvol) ||
	    !rt_blas_ok(invol)) {
		rt_conv_backward_ref(p, x, w, dy, dx, dw, NULL);
		return;
	}
	int pointwise = 1;
	for (int i = 0; i < 3; i++)
		pointwise &= g.k[i] == 1 && g.stride[i] == 1 && g.pad[i] == 0 && g.out[i] == g.in[i];
	grad_zero(dx, nx);
	float *col = xmalloc((size_t)(kdim * chunk) * sizeof *col);
	float *dyc = p->n > 1 ? xmalloc((size_t)(mg * chunk) * sizeof *dyc) : NULL;

	for (int64_t grp = 0; grp < p->group; grp++) {
		const float *wg = w ? w + grp * mg * kdim : NULL;
		float *dwg = dw ? dw + grp * mg * kdim : NULL;
		for (int64_t j0 = 0; j0 < total; j0 += chunk) {
			int64_t nc = min64(chunk, total - j0);
			int64_t n0 = j0 / outvol, s0 = j0 % outvol;
			int single = s0 + nc <= outvol;
			const float *dyp = dy + (n0 * p->m + grp * mg) * outvol + s0;
			int64_t lddy = outvol;
			if (!single) {
				for (int64_t j = j0; j < j0 + nc;) {
					int64_t ni = j / outvol, s = j % outvol;
					int64_t len = min64(outvol - s, j0 + nc - j);
					for (int64_t mo = 0; mo < mg; mo++)
						memcpy(dyc + mo * nc + (j - j0),
						       dy + (ni * p->m + grp * mg + mo) * outvol + s,
						       (size_t)len * sizeof *dyc);
					j += len;
				}
				dyp = dyc;
				lddy = nc;
			}
			if (dw) {
				/* a pointwise conv's col matrix is x itself */
				const float *cm = x + (n0 * p->c + grp * cg) * invol + s0;
				int64_t ldc = invol;
				if (!(pointwise && single)) {
					XferJob J = {&g, x, NULL, p->c, cg, grp, invol, outvol, j0, nc, col};
					col_xfer_chunk(&J, kdim);
					cm = col;
					ldc = nc;
				}
				rt_sgemm_rm(0, 1, mg, kdim, nc, 1.0f, dyp, lddy, cm, ldc, j0 == 0 ? 0.0f : 1.0f,
				         dwg, kdim);
			}
			if (dx) {
				if (pointwise && single) {
					rt_sgemm_rm(1, 0, kdim, nc, mg, 1.0f, wg, kdim, dyp, lddy, 0.0f,
					         dx + (n0 * p->c + grp * cg) * invol + s0, invol);
					continue;
				}
				rt_sgemm_rm(1, 0, kdim, nc, mg, 1.0f, wg, kdim, dyp, lddy, 0.0f, col, nc);
				XferJob J = {&g, NULL, dx, p->c, cg, grp, invol, outvol, j0, nc, col};
				col_xfer_chunk(&J, kdim);
			}
		}
	}
	free(col);
	free(dyc);
}
