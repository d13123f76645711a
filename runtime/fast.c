/* runtime/fast.c: fast paths for Conv, Gemm, MatMul and MaxPool.
 *
 * Conv and Gemm run on the indirect GEMM kernels of igemm.c, with the activation fused;
 * MatMul runs on OpenBLAS cblas_sgemm (sizes that do not fit BLAS's integer type fall back
 * to the reference kernel). Each agrees with its reference twin within float rounding (the
 * summation order differs); MaxPool agrees exactly.
 */
#include "fast.h"
#include "ref_internal.h"

#include <assert.h>
#include <cblas.h>
#include <stdlib.h>

/* True when v is a valid BLAS dimension or leading dimension. */
int rt_blas_ok(int64_t v)
{
	return v >= 0 && (int64_t)(blasint)v == v;
}

/* Row-major C[m,n] = alpha * op(A) op(B) + beta * C; m, n, k >= 1. */
void rt_sgemm_rm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
	            (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb,
	            beta, c, (blasint)ldc);
}

/* ---- Conv, Gemm ----------------------------------------------------------------------- */
void rt_conv_fast(const RtConv *p, const float *x, const float *w, const float *b, float *y)
{
	rt_igemm_conv(p, x, w, b, y, RT_ACT_NONE);
}

void rt_conv_fast_act(const RtConv *p, const float *x, const float *w, const float *b,
                      float *y, RtAct act)
{
	rt_igemm_conv(p, x, w, b, y, act);
}

void rt_gemm_fast(const RtGemm *p, const float *a, const float *b, const float *c, float *y)
{
	rt_igemm_gemm(p, a, b, c, y, RT_ACT_NONE);
}

void rt_gemm_fast_act(const RtGemm *p, const float *a, const float *b, const float *c,
                      float *y, RtAct act)
{
	rt_igemm_gemm(p, a, b, c, y, act);
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
	if (pl.bbatch == 1 && pl.abatch == pl.nbatch && rt_blas_ok(pl.nbatch * pl.m) &&
	    rt_blas_ok(pl.k) && rt_blas_ok(pl.n)) {
		rt_sgemm_rm(0, 0, pl.nbatch * pl.m, pl.n, pl.k, 1.0f, a, pl.k, b, pl.n, 0.0f, y, pl.n);
		return;
	}
	if (!rt_blas_ok(pl.m) || !rt_blas_ok(pl.k) || !rt_blas_ok(pl.n)) {
		rt_matmul_ref(sa, a, sb, b, sy, y);
		return;
	}
	for (int64_t bi = 0; bi < pl.nbatch; bi++) {
		int64_t ao, bo;
		rt_matmul_batch_off(&pl, bi, &ao, &bo);
		rt_sgemm_rm(0, 0, pl.m, pl.n, pl.k, 1.0f, a + ao, pl.k, b + bo, pl.n, 0.0f,
		         y + bi * pl.m * pl.n, pl.n);
	}
}

/* ---- MaxPool ------------------------------------------------------------------------------ */

typedef struct {
	int64_t planes, ih, iw, oh, ow, kh, kw, sh, sw;
	const float *x;
	float *y;
	RtSplit split;      /* over the planes */
} PoolJob;

/* Planes of a pool whose windows all lie inside the input, taken in chunks. */
static void maxpool_task(void *ctx, int tid, int nth)
{
	PoolJob *J = ctx;
	int64_t p0, p1;
	int64_t iw = J->iw, ow = J->ow, kh = J->kh, kw = J->kw, sw = J->sw;
	while (rt_split_next(&J->split, &p0, &p1))
	for (int64_t nc = p0; nc < p1; nc++) {
		const float *xp = J->x + nc * J->ih * iw;
		float *yp = J->y + nc * J->oh * ow;
		for (int64_t r = 0; r < J->oh; r++, yp += ow) {
			const float *row = xp + r * J->sh * iw;
			if (kh == 2 && kw == 2 && sw == 2) {
				const float *r1 = row + iw;
				for (int64_t q = 0; q < ow; q++) {
					float best = row[2 * q];
					if (row[2 * q + 1] > best)
						best = row[2 * q + 1];
					if (r1[2 * q] > best)
						best = r1[2 * q];
					if (r1[2 * q + 1] > best)
						best = r1[2 * q + 1];
					yp[q] = best;
				}
				continue;
			}
			for (int64_t q = 0; q < ow; q++) {
				const float *win = row + q * sw;
				float best = win[0];
				for (int64_t a = 0; a < kh; a++)
					for (int64_t bq = 0; bq < kw; bq++)
						if (win[a * iw + bq] > best)
							best = win[a * iw + bq];
				yp[q] = best;
			}
		}
	}
}

/* Windows that lie inside the input (no padding reached, no dilation): every tap counts,
 * and the reference's order (first tap, then strictly greater ones in row-major order) is
 * kept, so the result is the reference's bit for bit, NaNs included. Other cases run the
 * reference kernel. */
void rt_maxpool_fast(const RtPool *p, const float *x, float *y)
{
	int ok = p->nsp >= 1 && p->nsp <= 2;
	for (int i = 0; ok && i < p->nsp; i++)
		ok = p->dil[i] == 1 && p->pad_begin[i] == 0 && p->k[i] >= 1 && p->stride[i] >= 1 &&
		     p->out[i] >= 1 && (p->out[i] - 1) * p->stride[i] + p->k[i] <= p->in[i];
	if (!ok) {
		rt_maxpool_ref(p, x, y, NULL);
		return;
	}
	int two = p->nsp == 2;
	PoolJob J = {
		.planes = p->n * p->c,
		.ih = two ? p->in[0] : 1, .iw = p->in[two],
		.oh = two ? p->out[0] : 1, .ow = p->out[two],
		.kh = two ? p->k[0] : 1, .kw = p->k[two],
		.sh = two ? p->stride[0] : 1, .sw = p->stride[two],
		.x = x, .y = y,
	};
	int64_t work = J.planes * J.oh * J.ow * J.kh * J.kw;
	int tasks = work < ((int64_t)1 << 18) ? 1 : J.planes < 64 ? (int)J.planes : 64;
	rt_split_init(&J.split, J.planes, 8, 0);
	rt_parallel(maxpool_task, &J, tasks);
}
