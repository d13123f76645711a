/* runtime/fast.c: BLAS fast paths for Conv, Gemm and MatMul (OpenBLAS cblas_sgemm).
 *
 * Each agrees with its reference twin within float rounding (the summation order differs).
 * Sizes that do not fit BLAS's integer type fall back to the reference kernel.
 */
#include "ref_internal.h"

#include <assert.h>
#include <cblas.h>
#include <stdlib.h>

/* Upper bound (in floats) of the im2col buffer; larger outputs are done in column chunks. */
#define COL_CAP ((int64_t)1 << 22)

/* True when v is a valid BLAS dimension or leading dimension. */
static int blas_ok(int64_t v)
{
	return v >= 0 && (int64_t)(blasint)v == v;
}

/* Row-major C[m,n] = alpha * op(A) op(B) + beta * C; m, n, k >= 1. */
static void sgemm_rm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                     float *c, int64_t ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
	            (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb,
	            beta, c, (blasint)ldc);
}

/* ---- Gemm ----------------------------------------------------------------------------- */
void rt_gemm_fast(const RtGemm *p, const float *a, const float *b, const float *c, float *y)
{
	int64_t m = p->m, n = p->n, k = p->k;
	if (m == 0 || n == 0)
		return;
	if (!blas_ok(m) || !blas_ok(n) || !blas_ok(k)) {
		rt_gemm_ref(p, a, b, c, y);
		return;
	}
	/* Y starts as the broadcast C so that one sgemm computes alpha*AB + beta*Y. */
	float beta = 0.0f;
	if (c) {
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < n; j++)
				y[i * n + j] = c[i * p->c_rs + j * p->c_cs];
		beta = p->beta;
	}
	if (k == 0) {
		for (int64_t i = 0; i < m * n; i++)
			y[i] = c ? beta * y[i] : 0.0f;
		return;
	}
	sgemm_rm(p->trans_a, p->trans_b, m, n, k, p->alpha, a, p->trans_a ? m : k, b,
	         p->trans_b ? k : n, beta, y, n);
}

/* ---- MatMul --------------------------------------------------------------------------- */
void rt_matmul_fast(const Shape *sa, const float *a, const Shape *sb, const float *b,
                    const Shape *sy, float *y)
{
	RtMatmulPlan pl;
	rt_matmul_plan(sa, sb, &pl);
	assert(rt_numel(sy) == pl.nbatch * pl.m * pl.n);
	(void)sy;
	if (pl.nbatch == 0 || pl.m == 0 || pl.n == 0)
		return;
	if (pl.k == 0) {
		for (int64_t i = 0; i < pl.nbatch * pl.m * pl.n; i++)
			y[i] = 0.0f;
		return;
	}
	/* One shared B and an unbroadcast A: the batches stack into one [nbatch*m, k] A. */
	if (pl.bbatch == 1 && pl.abatch == pl.nbatch && blas_ok(pl.nbatch * pl.m) &&
	    blas_ok(pl.k) && blas_ok(pl.n)) {
		sgemm_rm(0, 0, pl.nbatch * pl.m, pl.n, pl.k, 1.0f, a, pl.k, b, pl.n, 0.0f, y, pl.n);
		return;
	}
	if (!blas_ok(pl.m) || !blas_ok(pl.k) || !blas_ok(pl.n)) {
		rt_matmul_ref(sa, a, sb, b, sy, y);
		return;
	}
	for (int64_t bi = 0; bi < pl.nbatch; bi++) {
		int64_t ao, bo;
		rt_matmul_batch_off(&pl, bi, &ao, &bo);
		sgemm_rm(0, 0, pl.m, pl.n, pl.k, 1.0f, a + ao, pl.k, b + bo, pl.n, 0.0f,
		         y + bi * pl.m * pl.n, pl.n);
	}
}

/* ---- Conv ----------------------------------------------------------------------------- */

/* im2col for one group of one image: col[r, j - c0] for r < cg*kvol and output positions
 * j in [c0, c0 + nc), where row r = (input channel, kernel tap) in the weights' order
 * [cg, k0, k1, k2] and the column is the input value under that tap (0 in padding). */
static void im2col(const RtConvGeom3 *g, const float *xg, int64_t cg, int64_t c0, int64_t nc,
                   float *col)
{
	int64_t kvol = g->k[0] * g->k[1] * g->k[2];
	int64_t invol = g->in[0] * g->in[1] * g->in[2];
	for (int64_t r = 0; r < cg * kvol; r++) {
		int64_t kk = r % kvol;
		int64_t k2 = kk % g->k[2], k1 = kk / g->k[2] % g->k[1], k0 = kk / (g->k[1] * g->k[2]);
		const float *xc = xg + r / kvol * invol;
		float *dst = col + r * nc;
		int64_t o2 = c0 % g->out[2], o1 = c0 / g->out[2] % g->out[1];
		int64_t o0 = c0 / (g->out[1] * g->out[2]);
		for (int64_t j = 0; j < nc; j++) {
			int64_t i0 = o0 * g->stride[0] - g->pad[0] + k0 * g->dil[0];
			int64_t i1 = o1 * g->stride[1] - g->pad[1] + k1 * g->dil[1];
			int64_t i2 = o2 * g->stride[2] - g->pad[2] + k2 * g->dil[2];
			int inside = i0 >= 0 && i0 < g->in[0] && i1 >= 0 && i1 < g->in[1] &&
			             i2 >= 0 && i2 < g->in[2];
			dst[j] = inside ? xc[(i0 * g->in[1] + i1) * g->in[2] + i2] : 0.0f;
			if (++o2 == g->out[2]) {
				o2 = 0;
				if (++o1 == g->out[1]) {
					o1 = 0;
					o0++;
				}
			}
		}
	}
}

/* Per image and group: Y_g[mg, outvol] = W_g[mg, cg*kvol] * col[cg*kvol, outvol] + bias.
 * A 1x1 convolution with stride 1 and no padding reads x directly as the col matrix. */
void rt_conv_fast(const RtConv *p, const float *x, const float *w, const float *b, float *y)
{
	assert(p->nsp >= 1 && p->nsp <= RT_MAX_SPATIAL);
	assert(p->group >= 1 && p->c % p->group == 0 && p->m % p->group == 0);
	RtConvGeom3 g = rt_conv_geom3(p);
	int64_t cg = p->c / p->group, mg = p->m / p->group;
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];
	int64_t kdim = cg * g.k[0] * g.k[1] * g.k[2];
	if (p->n == 0 || p->m == 0 || outvol == 0)
		return;
	if (kdim == 0 || !blas_ok(mg) || !blas_ok(kdim) || !blas_ok(outvol) || !blas_ok(invol)) {
		rt_conv_ref(p, x, w, b, y);
		return;
	}
	int pointwise = 1;
	for (int i = 0; i < 3; i++)
		pointwise &= g.k[i] == 1 && g.stride[i] == 1 && g.pad[i] == 0 && g.out[i] == g.in[i];
	int64_t chunk = outvol;
	float *col = NULL;
	if (!pointwise) {
		if (chunk > COL_CAP / kdim)
			chunk = COL_CAP / kdim > 0 ? COL_CAP / kdim : 1;
		col = xmalloc((size_t)(kdim * chunk) * sizeof *col);
	}

	for (int64_t n = 0; n < p->n; n++)
	for (int64_t grp = 0; grp < p->group; grp++) {
		const float *xg = x + (n * p->c + grp * cg) * invol;
		const float *wg = w + grp * mg * kdim;
		float *yg = y + (n * p->m + grp * mg) * outvol;
		for (int64_t c0 = 0; c0 < outvol; c0 += chunk) {
			int64_t nc = outvol - c0 < chunk ? outvol - c0 : chunk;
			const float *bm = xg + c0;
			int64_t ldb = invol;
			if (!pointwise) {
				im2col(&g, xg, cg, c0, nc, col);
				bm = col;
				ldb = nc;
			}
			float beta = 0.0f;
			if (b) {
				for (int64_t mo = 0; mo < mg; mo++)
					for (int64_t j = 0; j < nc; j++)
						yg[mo * outvol + c0 + j] = b[grp * mg + mo];
				beta = 1.0f;
			}
			sgemm_rm(0, 0, mg, nc, kdim, 1.0f, wg, kdim, bm, ldb, beta, yg + c0, outvol);
		}
	}
	free(col);
}
