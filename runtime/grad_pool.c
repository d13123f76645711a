/* runtime/grad_pool.c: MaxPool for training on the thread pool, planes in parallel: the
 * forward with the indices and its backward, each optionally with the activation quantizer
 * (forward, or backward) fused in. See grad.h for what each computes.
 */
#include "grad.h"
#include "grad_internal.h"
#include "ref_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	int64_t planes, ih, iw, oh, ow, kh, kw, sh, sw;
	const float *x, *dy;
	float *y, *dx;
	int64_t *idx;
	const int64_t *cidx;
	const float *q_in; /* the fused activation quantizer's input (the pool's output) */
	float inv, lo, hi;
	double *dsp;       /* [planes]: per plane ds sums */
	float *xq;         /* forward: the quantizer's output of y, or NULL; step st */
	float st;
	RtSplit split;
} MpJob;

/* the activation quantizer of one plane's outputs (rt_act_quant_fast's values) */
static void mp_quant_plane(const float *restrict y, float *restrict q, int64_t n, float inv,
                           float lo, float hi, float st)
{
	int64_t i = 0;
	for (; i + BN_L <= n; i += BN_L)
		for (int l = 0; l < BN_L; l++)
			q[i + l] = aq_one(y[i + l], inv, lo, hi, st);
	for (; i < n; i++)
		q[i] = aq_one(y[i], inv, lo, hi, st);
}

typedef float MpF4 __attribute__((vector_size(16)));
typedef int32_t MpI4 __attribute__((vector_size(16)));
typedef int64_t MpI64 __attribute__((vector_size(32)));

/* Windows inside the input: the reference's order (first tap, then strictly greater ones
 * in row-major window order), hence its values and indices. */
static void mp_fwd_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	MpJob *J = ctx;
	const int64_t iw = J->iw, ow = J->ow, kh = J->kh, kw = J->kw, sw = J->sw;
	const int64_t invol = J->ih * iw;
	int64_t p0, p1;
	while (rt_split_next(&J->split, &p0, &p1))
	for (int64_t nc = p0; nc < p1; nc++) {
		const float *xp = J->x + nc * invol;
		float *yp = J->y + nc * J->oh * ow;
		int64_t *ip = J->idx + nc * J->oh * ow;
		for (int64_t r = 0; r < J->oh; r++, yp += ow, ip += ow) {
			int64_t r0 = r * J->sh * iw;
			if (kh == 2 && kw == 2 && sw == 2) {
				const float *a = xp + r0, *b = a + iw;
				int64_t q = 0;
				/* 4 windows at a time: the even and odd columns of 8 inputs per row, the
				 * same comparisons in the same order as the scalar loop below */
				const MpI64 step = {0, 2, 4, 6};
				for (; q + 4 <= ow && 2 * q + 8 <= iw; q += 4) {
					const int64_t o = 2 * q;
					MpF4 l0, l1, m0, m1;
					memcpy(&l0, a + o, sizeof l0);
					memcpy(&l1, a + o + 4, sizeof l1);
					memcpy(&m0, b + o, sizeof m0);
					memcpy(&m1, b + o + 4, sizeof m1);
					const MpF4 ae = __builtin_shufflevector(l0, l1, 0, 2, 4, 6);
					const MpF4 ao = __builtin_shufflevector(l0, l1, 1, 3, 5, 7);
					const MpF4 be = __builtin_shufflevector(m0, m1, 0, 2, 4, 6);
					const MpF4 bo = __builtin_shufflevector(m0, m1, 1, 3, 5, 7);
					const int64_t b0 = nc * invol + r0 + o;
					const MpI64 i00 = step + b0;
					MpF4 best = ae;
					MpI64 bi = i00;
					MpI4 gt = ao > best;
					MpI64 g64 = __builtin_convertvector(gt, MpI64);
					bi = ((i00 + 1) & g64) | (bi & ~g64);
					best = (MpF4)(((MpI4)ao & gt) | ((MpI4)best & ~gt));
					gt = be > best;
					g64 = __builtin_convertvector(gt, MpI64);
					bi = ((i00 + iw) & g64) | (bi & ~g64);
					best = (MpF4)(((MpI4)be & gt) | ((MpI4)best & ~gt));
					gt = bo > best;
					g64 = __builtin_convertvector(gt, MpI64);
					bi = ((i00 + iw + 1) & g64) | (bi & ~g64);
					best = (MpF4)(((MpI4)bo & gt) | ((MpI4)best & ~gt));
					memcpy(yp + q, &best, sizeof best);
					memcpy(ip + q, &bi, sizeof bi);
				}
				for (; q < ow; q++) { /* selects, not branches */
					int64_t o = 2 * q, bi = o;
					float best = a[o], v;
					v = a[o + 1];
					bi = v > best ? o + 1 : bi;
					best = v > best ? v : best;
					v = b[o];
					bi = v > best ? iw + o : bi;
					best = v > best ? v : best;
					v = b[o + 1];
					bi = v > best ? iw + o + 1 : bi;
					best = v > best ? v : best;
					yp[q] = best;
					ip[q] = nc * invol + r0 + bi;
				}
				continue;
			}
			for (int64_t q = 0; q < ow; q++) {
				int64_t o = r0 + q * sw, bi = o;
				float best = xp[o];
				for (int64_t a = 0; a < kh; a++)
					for (int64_t bq = 0; bq < kw; bq++) {
						int64_t k = o + a * iw + bq;
						if (xp[k] > best) {
							best = xp[k];
							bi = k;
						}
					}
				yp[q] = best;
				ip[q] = nc * invol + bi;
			}
		}
		if (J->xq) /* the plane's outputs, still in cache */
			mp_quant_plane(J->y + nc * J->oh * ow, J->xq + nc * J->oh * ow, J->oh * ow,
			               J->inv, J->lo, J->hi, J->st);
	}
}

static void mp_bwd_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	MpJob *J = ctx;
	const int64_t invol = J->ih * J->iw, outvol = J->oh * J->ow;
	int64_t p0, p1;
	while (rt_split_next(&J->split, &p0, &p1))
	for (int64_t nc = p0; nc < p1; nc++) {
		float *dxp = J->dx + nc * invol;
		memset(dxp, 0, sizeof(float) * (size_t)invol);
		const int64_t *ip = J->cidx + nc * outvol;
		const float *gp = J->dy + nc * outvol;
		for (int64_t o = 0; o < outvol; o++) {
			int64_t k = ip[o];
			if (k < 0)
				continue;
			assert(k >= nc * invol && k < (nc + 1) * invol);
			J->dx[k] += gp[o];
		}
	}
}

/* The 1-D/2-D geometry of a pool whose windows lie inside the input (no padding reached,
 * no dilation), or 0. */
static int mp_geom(const RtPool *p, MpJob *J)
{
	int ok = p->nsp >= 1 && p->nsp <= 2;
	for (int i = 0; ok && i < p->nsp; i++)
		ok = p->dil[i] == 1 && p->pad_begin[i] == 0 && p->k[i] >= 1 && p->stride[i] >= 1 &&
		     p->out[i] >= 1 && (p->out[i] - 1) * p->stride[i] + p->k[i] <= p->in[i];
	if (!ok)
		return 0;
	int two = p->nsp == 2;
	J->planes = p->n * p->c;
	J->ih = two ? p->in[0] : 1;
	J->iw = p->in[two];
	J->oh = two ? p->out[0] : 1;
	J->ow = p->out[two];
	J->kh = two ? p->k[0] : 1;
	J->kw = p->k[two];
	J->sh = two ? p->stride[0] : 1;
	J->sw = p->stride[two];
	return 1;
}

static void mp_train(const RtPool *p, const float *x, float *y, int64_t *indices, int qn,
                     int qp, float s, float *xq)
{
	MpJob J = {0};
	if (p->storage_order != 0 || !indices || !mp_geom(p, &J)) {
		rt_maxpool_ref(p, x, y, indices);
		if (xq) {
			int64_t ny = p->n * p->c;
			for (int i = 0; i < p->nsp; i++)
				ny *= p->out[i];
			rt_act_quant_fast(y, xq, ny, qn, qp, s);
		}
		return;
	}
	if (xq) {
		J.xq = xq;
		J.inv = 1.0f / s;
		J.lo = (float)-qn;
		J.hi = (float)qp;
		J.st = s;
	}
	J.x = x;
	J.y = y;
	J.idx = indices;
	int64_t work = J.planes * J.oh * J.ow * J.kh * J.kw;
	rt_split_init(&J.split, J.planes, 8, 0);
	rt_parallel(mp_fwd_task, &J, ew_tasks(work, J.planes));
}

void rt_maxpool_train_fast(const RtPool *p, const float *x, float *y, int64_t *indices)
{
	mp_train(p, x, y, indices, 0, 0, 0, NULL);
}

void rt_maxpool_train_actq_fast(const RtPool *p, const float *x, float *y, int64_t *indices,
                                int qn, int qp, float s, float *xq)
{
	mp_train(p, x, y, indices, qn, qp, s, xq);
}

void rt_maxpool_backward_fast(const RtPool *p, const int64_t *indices, const float *dy,
                              float *dx)
{
	if (p->storage_order != 0) {
		rt_maxpool_backward_ref(p, indices, dy, dx);
		return;
	}
	/* any geometry: the indices of plane nc lie in plane nc (rt_maxpool_ref's layout) */
	RtPoolGeom3 g = rt_pool_geom3(p);
	MpJob J = {.planes = p->n * p->c, .ih = g.in[0] * g.in[1], .iw = g.in[2],
	           .oh = g.out[0] * g.out[1], .ow = g.out[2], .dy = dy, .dx = dx,
	           .cidx = indices};
	int64_t work = J.planes * (J.ih * J.iw + J.oh * J.ow);
	rt_split_init(&J.split, J.planes, 8, 0);
	rt_parallel(mp_bwd_task, &J, ew_tasks(work, J.planes));
}

/* MaxPool backward with the activation quantizer's backward fused in: per plane, the
 * pool output gradient g = dq masked by the quantizer's STE (grad_mask_blk on q_in, the
 * pool's output), scattered to the selected taps; the ds terms summed per plane in lanes. */
static inline __attribute__((always_inline)) void mpq_bwd_body(void *ctx)
{
	MpJob *J = ctx;
	const int64_t invol = J->ih * J->iw, outvol = J->oh * J->ow;
	const float inv = J->inv, lo = J->lo, hi = J->hi;
	int64_t p0, p1;
	while (rt_split_next(&J->split, &p0, &p1))
	for (int64_t nc = p0; nc < p1; nc++) {
		float *dxp = J->dx + nc * invol;
		memset(dxp, 0, sizeof(float) * (size_t)invol);
		const int64_t *ip = J->cidx + nc * outvol;
		const float *gp = J->dy + nc * outvol, *qp = J->q_in + nc * outvol;
		double acc[BN_L] = {0};
		int64_t o = 0;
		for (; o + BN_L <= outvol; o += BN_L) {
			float gm[BN_L];
			grad_mask_blk(qp + o, gp + o, gm, 0, 1, inv, lo, hi, acc);
			for (int l = 0; l < BN_L; l++) {
				int64_t k = ip[o + l];
				if (k >= 0)
					J->dx[k] += gm[l];
			}
		}
		for (int l = 0; o < outvol; o++, l++) {
			float g = grad_mask_one(qp[o], gp[o], 0, 1, inv, lo, hi, acc + l);
			int64_t k = ip[o];
			if (k >= 0)
				J->dx[k] += g;
		}
		J->dsp[nc] = lanes_sum(acc);
	}
}
ISA_TASK(mpq_bwd_task, mpq_bwd_body)

double rt_maxpool_backward_actq_fast(const RtPool *p, const int64_t *indices,
                                     const float *q_in, int qn, int qp, float s,
                                     const float *dq, float *dx)
{
	RtPoolGeom3 g = rt_pool_geom3(p);
	MpJob J = {.planes = p->n * p->c, .ih = g.in[0] * g.in[1], .iw = g.in[2],
	           .oh = g.out[0] * g.out[1], .ow = g.out[2], .dy = dq, .dx = dx,
	           .cidx = indices, .q_in = q_in, .inv = 1.0f / s, .lo = (float)-qn,
	           .hi = (float)qp};
	int64_t nout = J.planes * J.oh * J.ow;
	if (p->storage_order != 0 || J.planes <= 0) {
		/* the unfused pair */
		float *gq = malloc(sizeof(float) * (size_t)(nout > 0 ? nout : 1));
		if (!gq)
			abort();
		double ds = rt_act_quant_backward_fast(q_in, dq, gq, nout, qn, qp, s);
		rt_maxpool_backward_fast(p, indices, gq, dx);
		free(gq);
		return ds;
	}
	J.dsp = malloc(sizeof(double) * (size_t)J.planes);
	if (!J.dsp)
		abort();
	int64_t work = J.planes * (J.ih * J.iw + J.oh * J.ow);
	rt_split_init(&J.split, J.planes, 8, 0);
	rt_parallel(mpq_bwd_task_pick(), &J, ew_tasks(work, J.planes));
	double ds = 0;
	for (int64_t k = 0; k < J.planes; k++)
		ds += J.dsp[k];
	free(J.dsp);
	return ds;
}
