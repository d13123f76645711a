/* runtime/ref_gemm.c: reference Gemm and MatMul (the oracles for the BLAS fast paths). */
#include "ref_internal.h"

#include <assert.h>

void rt_gemm_ref(const RtGemm *p, const float *a, const float *b, const float *c, float *y)
{
	/* Element strides of op(A)[i,k] and op(B)[k,j] in the stored matrices. */
	int64_t a_is = p->trans_a ? 1 : p->k, a_ks = p->trans_a ? p->m : 1;
	int64_t b_ks = p->trans_b ? 1 : p->n, b_js = p->trans_b ? p->k : 1;

	for (int64_t i = 0; i < p->m; i++)
	for (int64_t j = 0; j < p->n; j++) {
		float acc = 0.0f;
		for (int64_t k = 0; k < p->k; k++)
			acc += a[i * a_is + k * a_ks] * b[k * b_ks + j * b_js];
		float v = p->alpha * acc;
		if (c)
			v += p->beta * c[i * p->c_rs + j * p->c_cs];
		y[i * p->n + j] = v;
	}
}

void rt_matmul_plan(const Shape *sa, const Shape *sb, RtMatmulPlan *pl)
{
	int ra = sa->rank, rb = sb->rank;
	assert(ra >= 1 && rb >= 1);
	pl->m = ra == 1 ? 1 : sa->d[ra - 2];
	pl->k = sa->d[ra - 1];
	pl->n = rb == 1 ? 1 : sb->d[rb - 1];
	assert(sb->d[rb == 1 ? 0 : rb - 2] == pl->k);

	/* Batch dims are all but the last two (none for 1-D operands), aligned right. */
	int nba = ra > 2 ? ra - 2 : 0, nbb = rb > 2 ? rb - 2 : 0;
	pl->nb = nba > nbb ? nba : nbb;
	int64_t as = pl->m * pl->k, bs = pl->k * pl->n;
	pl->nbatch = pl->abatch = pl->bbatch = 1;
	for (int i = pl->nb - 1; i >= 0; i--) {
		int ia = i - (pl->nb - nba), ib = i - (pl->nb - nbb);
		int64_t da = ia >= 0 ? sa->d[ia] : 1, db = ib >= 0 ? sb->d[ib] : 1;
		assert(da == db || da == 1 || db == 1);
		pl->dims[i] = da == 1 ? db : da;
		pl->astride[i] = da == 1 ? 0 : as;
		pl->bstride[i] = db == 1 ? 0 : bs;
		as *= da;
		bs *= db;
		pl->nbatch *= pl->dims[i];
		pl->abatch *= da;
		pl->bbatch *= db;
	}
}

void rt_matmul_batch_off(const RtMatmulPlan *pl, int64_t bi, int64_t *aoff, int64_t *boff)
{
	int64_t ao = 0, bo = 0;
	for (int i = pl->nb - 1; i >= 0; i--) {
		int64_t idx = bi % pl->dims[i];
		bi /= pl->dims[i];
		ao += idx * pl->astride[i];
		bo += idx * pl->bstride[i];
	}
	*aoff = ao;
	*boff = bo;
}

void rt_matmul_ref(const Shape *sa, const float *a, const Shape *sb, const float *b,
                   const Shape *sy, float *y)
{
	RtMatmulPlan pl;
	rt_matmul_plan(sa, sb, &pl);
	assert(rt_numel(sy) == pl.nbatch * pl.m * pl.n);
	(void)sy;
	for (int64_t bi = 0; bi < pl.nbatch; bi++) {
		int64_t ao, bo;
		rt_matmul_batch_off(&pl, bi, &ao, &bo);
		const float *am = a + ao, *bm = b + bo;
		float *ym = y + bi * pl.m * pl.n;
		for (int64_t i = 0; i < pl.m; i++)
		for (int64_t j = 0; j < pl.n; j++) {
			float acc = 0.0f;
			for (int64_t k = 0; k < pl.k; k++)
				acc += am[i * pl.k + k] * bm[k * pl.n + j];
			ym[i * pl.n + j] = acc;
		}
	}
}
