/* runtime/ref_internal.h: helpers shared by the reference kernels and their fast twins.
 * Private to runtime/; not part of the rt.h API. */
#ifndef SQC_REF_INTERNAL_H
#define SQC_REF_INTERNAL_H

#include "rt.h"

/* Geometry of a numpy MatMul after 1-D promotion: nbatch independent [m,k] x [k,n]
 * products. Batch b's operands start at element offsets given by rt_matmul_batch_off;
 * its result starts at b*m*n (the result's batch dims are the broadcast ones, row major). */
typedef struct {
	int64_t m, k, n;
	int64_t nbatch;
	int nb;                        /* rank of the broadcast batch dims */
	int64_t dims[IR_MAX_RANK];     /* broadcast batch dims */
	int64_t astride[IR_MAX_RANK];  /* A element stride per batch dim, 0 where broadcast */
	int64_t bstride[IR_MAX_RANK];
	int64_t abatch, bbatch;        /* number of distinct A and B matrices */
} RtMatmulPlan;

/* Element count of a known shape (1 for rank 0). */
static inline int64_t rt_numel(const Shape *s)
{
	int64_t n = 1;
	for (int i = 0; i < s->rank; i++)
		n *= s->d[i];
	return n;
}

/* A convolution seen as one with exactly three spatial dims: missing trailing dims get size
 * 1, kernel 1, stride 1, dilation 1 and no padding, which changes neither the layout nor
 * the result. */
typedef struct {
	int64_t in[3], out[3], k[3], stride[3], dil[3], pad[3];
} RtConvGeom3;

/* The real dims at 3-D positions lead .. lead + nsp - 1, size-1 dims elsewhere. */
static inline RtConvGeom3 rt_conv_geom3_at(const RtConv *p, int lead)
{
	RtConvGeom3 g;
	for (int i = 0; i < 3; i++) {
		int s = i - lead, real = s >= 0 && s < p->nsp;
		g.in[i] = real ? p->in[s] : 1;
		g.out[i] = real ? p->out[s] : 1;
		g.k[i] = real ? p->k[s] : 1;
		g.stride[i] = real ? p->stride[s] : 1;
		g.dil[i] = real ? p->dil[s] : 1;
		g.pad[i] = real ? p->pad_begin[s] : 0;
	}
	return g;
}

static inline RtConvGeom3 rt_conv_geom3(const RtConv *p)
{
	return rt_conv_geom3_at(p, 0);
}

/* The same with the real dims LAST (leading dims of size 1): the layout is unchanged and
 * the innermost 3-D dim is the real last one, so image lines run along dim 2 (the fast
 * backward kernels). */
static inline RtConvGeom3 rt_conv_geom3_right(const RtConv *p)
{
	return rt_conv_geom3_at(p, 3 - p->nsp);
}

/* A pool seen as one with exactly three spatial dims (missing trailing dims: size 1,
 * kernel 1, stride 1, dilation 1, no padding), shared by the pool kernels and their
 * backward. */
typedef struct {
	int64_t in[3], out[3], k[3], stride[3], dil[3], pb[3], pe[3];
} RtPoolGeom3;

static inline RtPoolGeom3 rt_pool_geom3(const RtPool *p)
{
	RtPoolGeom3 g;
	for (int i = 0; i < 3; i++) {
		int real = i < p->nsp;
		g.in[i] = real ? p->in[i] : 1;
		g.out[i] = real ? p->out[i] : 1;
		g.k[i] = real ? p->k[i] : 1;
		g.stride[i] = real ? p->stride[i] : 1;
		g.dil[i] = real ? p->dil[i] : 1;
		g.pb[i] = real ? p->pad_begin[i] : 0;
		g.pe[i] = real ? p->pad_end[i] : 0;
	}
	return g;
}

/* Input coordinate of tap t of output o along dim d (may fall outside [0, in)). */
static inline int64_t rt_pool_tap(const RtPoolGeom3 *g, int d, int64_t o, int64_t t)
{
	return o * g->stride[d] - g->pb[d] + t * g->dil[d];
}

/* ceil(a / b) for b > 0 and any a. */
static inline int64_t rt_ceil_div(int64_t a, int64_t b)
{
	return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* The taps [*t0, *t1) of output o along dim d whose coordinate lies in [lo, hi) (taps are
 * increasing coordinates, so they form one range; empty: *t0 == *t1). In closed form: a
 * window far wider than the input costs nothing per padded tap. */
static inline void rt_pool_trange(const RtPoolGeom3 *g, int d, int64_t o, int64_t lo,
                                  int64_t hi, int64_t *t0, int64_t *t1)
{
	int64_t base = rt_pool_tap(g, d, o, 0);
	int64_t a = rt_ceil_div(lo - base, g->dil[d]), b = rt_ceil_div(hi - base, g->dil[d]);
	a = a < 0 ? 0 : a;
	b = b > g->k[d] ? g->k[d] : b;
	*t0 = a;
	*t1 = b > a ? b : a;
}

/* Number of taps of output o along dim d whose coordinate lies in [lo, hi). */
static inline int64_t rt_pool_taps_in(const RtPoolGeom3 *g, int d, int64_t o, int64_t lo,
                                      int64_t hi)
{
	int64_t t0, t1;
	rt_pool_trange(g, d, o, lo, hi, &t0, &t1);
	return t1 - t0;
}

void rt_matmul_plan(const Shape *sa, const Shape *sb, RtMatmulPlan *pl);
void rt_matmul_batch_off(const RtMatmulPlan *pl, int64_t bi, int64_t *aoff, int64_t *boff);

#endif
