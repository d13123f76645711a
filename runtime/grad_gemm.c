/* runtime/grad_gemm.c: fast backward kernels for Gemm and MatMul: their products run on
 * sqc's micro-kernels (rt_igemm_gemm). Results do not depend on the thread count.
 *
 * Each agrees with its reference twin in grad_ref.c within float rounding. Sizes that do
 * not fit BLAS's integer type fall back to the reference kernel.
 */
#include "fast.h"
#include "grad.h"
#include "grad_internal.h"
#include "ref_internal.h"

/* The same product on sqc's own micro-kernels (rt_igemm_gemm), for operands with their
 * natural leading dims (A [m,k], or [k,m] when ta; B [k,n], or [n,k] when tb; C [m,n]).
 * C may be an input (beta != 0): each element is read before the same element is written. */
static void gemm_own(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, const float *b, float beta, float *c)
{
	RtGemm q = {.m = m, .n = n, .k = k, .trans_a = ta, .trans_b = tb, .alpha = alpha,
	            .beta = beta, .c_rs = n, .c_cs = 1};
	rt_igemm_gemm(&q, a, b, beta != 0.0f ? c : NULL, c, RT_ACT_NONE);
}

/* ---- Gemm ----------------------------------------------------------------------------- */

/* With op(A) [M,K], op(B) [K,N]: d op(A) = alpha dY op(B)^T and d op(B) = alpha op(A)^T dY;
 * a transposed operand's gradient is the transpose, computed directly in its stored layout
 * by swapping the product's factors. */
void rt_gemm_backward_fast(const RtGemm *p, const float *a, const float *b, const float *dy,
                           float *da, float *db, float *dc)
{
	int64_t M = p->m, N = p->n, K = p->k;
	int ta = p->trans_a, tb = p->trans_b;
	if (!rt_blas_ok(M) || !rt_blas_ok(N) || !rt_blas_ok(K)) {
		rt_gemm_backward_ref(p, a, b, dy, da, db, dc);
		return;
	}
	if (dc) {
		int64_t nc = M > 0 && N > 0 ? (M - 1) * p->c_rs + (N - 1) * p->c_cs + 1 : 1;
		grad_zero(dc, nc);
		for (int64_t i = 0; i < M; i++) {
			float *dci = dc + i * p->c_rs;
			const float *dyi = dy + i * N;
			if (p->c_cs == 1)
				for (int64_t j = 0; j < N; j++)
					dci[j] += dyi[j];
			else
				for (int64_t j = 0; j < N; j++)
					dci[j * p->c_cs] += dyi[j];
		}
		for (int64_t i = 0; i < nc; i++)
			dc[i] *= p->beta;
	}
	if (M == 0 || N == 0 || K == 0) {
		grad_zero(da, M * K);
		grad_zero(db, K * N);
		return;
	}
	if (da) {
		if (!ta) /* dA[M,K] = alpha dY op(B)^T */
			gemm_own(0, !tb, M, K, N, p->alpha, dy, b, 0.0f, da);
		else     /* dA[K,M] = alpha op(B) dY^T */
			gemm_own(tb, 1, K, M, N, p->alpha, b, dy, 0.0f, da);
	}
	if (db) {
		if (!tb) /* dB[K,N] = alpha op(A)^T dY */
			gemm_own(!ta, 0, K, N, M, p->alpha, a, dy, 0.0f, db);
		else     /* dB[N,K] = alpha dY^T op(A) */
			gemm_own(1, ta, N, K, M, p->alpha, dy, a, 0.0f, db);
	}
}

/* ---- MatMul --------------------------------------------------------------------------- */

void rt_matmul_backward_fast(const Shape *sa, const float *a, const Shape *sb, const float *b,
                             const float *dy, float *da, float *db)
{
	RtMatmulPlan pl;
	rt_matmul_plan(sa, sb, &pl);
	int64_t M = pl.m, K = pl.k, N = pl.n;
	int64_t na = pl.abatch * M * K, nb = pl.bbatch * K * N;
	if (!da && !db)
		return;
	if (!rt_blas_ok(M) || !rt_blas_ok(K) || !rt_blas_ok(N)) {
		rt_matmul_backward_ref(sa, a, sb, b, dy, da, db);
		return;
	}
	if (pl.nbatch == 0 || M == 0 || N == 0 || K == 0) {
		grad_zero(da, na);
		grad_zero(db, nb);
		return;
	}
	/* The weight case: one B shared by every batch of an unbroadcast A, so A stacks into
	 * [nbatch*M, K] (and dY into [nbatch*M, N]) and each gradient is one GEMM. */
	if (pl.bbatch == 1 && pl.abatch == pl.nbatch && rt_blas_ok(pl.nbatch * M)) {
		int64_t mt = pl.nbatch * M;
		if (da)
			gemm_own(0, 1, mt, K, N, 1.0f, dy, b, 0.0f, da);
		if (db)
			gemm_own(1, 0, K, N, mt, 1.0f, a, dy, 0.0f, db);
		return;
	}
	/* General broadcasting: per batch, accumulating into the shared operand's gradient. */
	grad_zero(da, na);
	grad_zero(db, nb);
	for (int64_t bi = 0; bi < pl.nbatch; bi++) {
		int64_t ao, bo;
		rt_matmul_batch_off(&pl, bi, &ao, &bo);
		const float *dym = dy + bi * M * N;
		if (da)
			gemm_own(0, 1, M, K, N, 1.0f, dym, b + bo, 1.0f, da + ao);
		if (db)
			gemm_own(1, 0, K, N, M, 1.0f, a + ao, dym, 1.0f, db + bo);
	}
}
