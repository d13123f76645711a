/* runtime/grad_ref.c: reference backward kernels (the oracles for grad_*.c and the
 * trainer's op-by-op gradients). Loops mirror the forward kernels in ref_conv.c,
 * ref_gemm.c and ref_pool.c tap for tap; reductions accumulate in double.
 */
#include "grad.h"
#include "ref_internal.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void zero(float *p, int64_t n)
{
	if (p && n > 0)
		memset(p, 0, (size_t)n * sizeof *p);
}

static void to_float(float *dst, const double *src, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		dst[i] = (float)src[i];
}

/* ---- Conv ----------------------------------------------------------------------------- */

/* The forward's loop nest (rt_conv_ref); every tap (x element, w element) that contributed
 * w*x to y gets dy*w into dx and dy*x into dw. */
void rt_conv_backward_ref(const RtConv *p, const float *x, const float *w, const float *dy,
                          float *dx, float *dw, float *db)
{
	assert(p->nsp >= 1 && p->nsp <= RT_MAX_SPATIAL);
	assert(p->group >= 1 && p->c % p->group == 0 && p->m % p->group == 0);
	RtConvGeom3 g = rt_conv_geom3(p);
	int64_t cg = p->c / p->group, mg = p->m / p->group;
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];
	int64_t kvol = g.k[0] * g.k[1] * g.k[2];
	int64_t nx = p->n * p->c * invol, nw = p->m * cg * kvol;

	double *ax = dx ? xcalloc((size_t)(nx > 0 ? nx : 1), sizeof *ax) : NULL;
	double *aw = dw ? xcalloc((size_t)(nw > 0 ? nw : 1), sizeof *aw) : NULL;
	double *ab = db ? xcalloc((size_t)(p->m > 0 ? p->m : 1), sizeof *ab) : NULL;

	for (int64_t n = 0; n < p->n; n++)
	for (int64_t m = 0; m < p->m; m++) {
		int64_t grp = m / mg;
		int64_t xoff = (n * p->c + grp * cg) * invol;
		int64_t woff = m * cg * kvol;
		const float *dym = dy + (n * p->m + m) * outvol;
		for (int64_t o0 = 0; o0 < g.out[0]; o0++)
		for (int64_t o1 = 0; o1 < g.out[1]; o1++)
		for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
			double gy = dym[(o0 * g.out[1] + o1) * g.out[2] + o2];
			if (ab)
				ab[m] += gy;
			if (!ax && !aw)
				continue;
			for (int64_t ci = 0; ci < cg; ci++)
			for (int64_t k0 = 0; k0 < g.k[0]; k0++) {
				int64_t i0 = o0 * g.stride[0] - g.pad[0] + k0 * g.dil[0];
				if (i0 < 0 || i0 >= g.in[0])
					continue;
				for (int64_t k1 = 0; k1 < g.k[1]; k1++) {
					int64_t i1 = o1 * g.stride[1] - g.pad[1] + k1 * g.dil[1];
					if (i1 < 0 || i1 >= g.in[1])
						continue;
					for (int64_t k2 = 0; k2 < g.k[2]; k2++) {
						int64_t i2 = o2 * g.stride[2] - g.pad[2] + k2 * g.dil[2];
						if (i2 < 0 || i2 >= g.in[2])
							continue;
						int64_t xi = xoff + ci * invol + (i0 * g.in[1] + i1) * g.in[2] + i2;
						int64_t wi = woff + ci * kvol + (k0 * g.k[1] + k1) * g.k[2] + k2;
						if (ax)
							ax[xi] += gy * w[wi];
						if (aw)
							aw[wi] += gy * x[xi];
					}
				}
			}
		}
	}
	if (dx)
		to_float(dx, ax, nx);
	if (dw)
		to_float(dw, aw, nw);
	if (db)
		to_float(db, ab, p->m);
	free(ax);
	free(aw);
	free(ab);
}

/* ---- Gemm ----------------------------------------------------------------------------- */

void rt_gemm_backward_ref(const RtGemm *p, const float *a, const float *b, const float *dy,
                          float *da, float *db, float *dc)
{
	int64_t M = p->m, N = p->n, K = p->k;
	/* Element strides of op(A)[i,k] and op(B)[k,j] in the stored matrices (as rt_gemm_ref);
	 * the gradients use the same strides, so they come out in the stored layouts. */
	int64_t a_is = p->trans_a ? 1 : K, a_ks = p->trans_a ? M : 1;
	int64_t b_ks = p->trans_b ? 1 : N, b_js = p->trans_b ? K : 1;

	/* dop(A)[i,k] = alpha sum_j dY[i,j] op(B)[k,j] */
	if (da)
		for (int64_t i = 0; i < M; i++)
		for (int64_t k = 0; k < K; k++) {
			double acc = 0;
			for (int64_t j = 0; j < N; j++)
				acc += (double)dy[i * N + j] * b[k * b_ks + j * b_js];
			da[i * a_is + k * a_ks] = (float)(p->alpha * acc);
		}
	/* dop(B)[k,j] = alpha sum_i op(A)[i,k] dY[i,j] */
	if (db)
		for (int64_t k = 0; k < K; k++)
		for (int64_t j = 0; j < N; j++) {
			double acc = 0;
			for (int64_t i = 0; i < M; i++)
				acc += (double)a[i * a_is + k * a_ks] * dy[i * N + j];
			db[k * b_ks + j * b_js] = (float)(p->alpha * acc);
		}
	if (dc) {
		int64_t nc = 1;
		if (M > 0 && N > 0)
			nc = (M - 1) * p->c_rs + (N - 1) * p->c_cs + 1;
		double *acc = xcalloc((size_t)nc, sizeof *acc);
		for (int64_t i = 0; i < M; i++)
			for (int64_t j = 0; j < N; j++)
				acc[i * p->c_rs + j * p->c_cs] += dy[i * N + j];
		for (int64_t i = 0; i < nc; i++)
			dc[i] = (float)(p->beta * acc[i]);
		free(acc);
	}
}

/* ---- MatMul --------------------------------------------------------------------------- */

/* Per batch: dA_b += dY_b B_b^T and dB_b += A_b^T dY_b; a broadcast operand's matrix is
 * shared by several batches, so its gradient sums over them. */
void rt_matmul_backward_ref(const Shape *sa, const float *a, const Shape *sb, const float *b,
                            const float *dy, float *da, float *db)
{
	RtMatmulPlan pl;
	rt_matmul_plan(sa, sb, &pl);
	int64_t M = pl.m, K = pl.k, N = pl.n;
	int64_t na = pl.abatch * M * K, nb = pl.bbatch * K * N;
	double *ga = da ? xcalloc((size_t)(na > 0 ? na : 1), sizeof *ga) : NULL;
	double *gb = db ? xcalloc((size_t)(nb > 0 ? nb : 1), sizeof *gb) : NULL;
	for (int64_t bi = 0; bi < pl.nbatch; bi++) {
		int64_t ao, bo;
		rt_matmul_batch_off(&pl, bi, &ao, &bo);
		const float *dym = dy + bi * M * N;
		for (int64_t i = 0; i < M; i++)
		for (int64_t k = 0; k < K; k++)
		for (int64_t j = 0; j < N; j++) {
			double gy = dym[i * N + j];
			if (ga)
				ga[ao + i * K + k] += gy * b[bo + k * N + j];
			if (gb)
				gb[bo + k * N + j] += gy * a[ao + i * K + k];
		}
	}
	if (da)
		to_float(da, ga, na);
	if (db)
		to_float(db, gb, nb);
	free(ga);
	free(gb);
}

/* ---- Elementwise ---------------------------------------------------------------------- */

void rt_unary_backward_ref(RtUnary op, float alpha, float beta, const float *x,
                           const float *y, const float *dy, float *dx, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		float g = dy[i], d = 0.0f;
		switch (op) { /* no default: -Wswitch names an RT_UNARY_OPS row without a case */
		case RT_RELU:
			d = x[i] > 0 ? g : 0.0f;
			break;
		case RT_LEAKYRELU:
			d = x[i] > 0 ? g : alpha * g;
			break;
		case RT_SIGMOID: {
			double s = y ? y[i] : 1.0 / (1.0 + exp(-(double)x[i]));
			d = (float)(g * s * (1.0 - s));
			break;
		}
		case RT_TANH: {
			double t = y ? y[i] : tanh((double)x[i]);
			d = (float)(g * (1.0 - t * t));
			break;
		}
		case RT_HARDSIGMOID: {
			float v = alpha * x[i] + beta;
			d = v > 0 && v < 1 ? alpha * g : 0.0f;
			break;
		}
		case RT_CLIP:
			d = x[i] >= alpha && x[i] <= beta ? g : 0.0f;
			break;
		}
		dx[i] = d;
	}
}

/* Walks dy in row-major order with an odometer over `from`; the operand offset advances by
 * the operand's stride on each dim, 0 on the broadcast ones. */
void rt_reduce_to_shape_ref(const Shape *from, const float *dy, const Shape *to, float *dx)
{
	int r = from->rank, off = from->rank - to->rank;
	assert(off >= 0);
	int64_t tstride[IR_MAX_RANK], s = 1;
	for (int i = r - 1; i >= 0; i--) {
		int64_t td = i >= off ? to->d[i - off] : 1;
		assert(td == from->d[i] || td == 1);
		tstride[i] = td == 1 ? 0 : s;
		s *= td;
	}
	int64_t nfrom = rt_numel(from), nto = rt_numel(to);
	if (nfrom == 0) {
		zero(dx, nto);
		return;
	}
	double *acc = xcalloc((size_t)(nto > 0 ? nto : 1), sizeof *acc);
	int64_t idx[IR_MAX_RANK] = {0}, t = 0;
	for (int64_t e = 0; e < nfrom; e++) {
		acc[t] += dy[e];
		for (int i = r - 1; i >= 0; i--) {
			t += tstride[i];
			if (++idx[i] < from->d[i])
				break;
			t -= tstride[i] * from->d[i];
			idx[i] = 0;
		}
	}
	to_float(dx, acc, nto);
	free(acc);
}

void rt_maxpool_backward_ref(const RtPool *p, const int64_t *indices, const float *dy,
                             float *dx)
{
	RtPoolGeom3 g = rt_pool_geom3(p);
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];
	int64_t nx = p->n * p->c * invol;
	zero(dx, nx);
	for (int64_t oi = 0; oi < p->n * p->c * outvol; oi++) {
		int64_t idx = indices[oi];
		if (idx < 0)
			continue;
		assert(idx < nx);
		if (p->storage_order == 1) {
			/* column-major spatial position (first dim fastest) to row-major */
			int64_t nc = idx / invol, s = idx % invol;
			int64_t b0 = s % g.in[0], b1 = s / g.in[0] % g.in[1];
			int64_t b2 = s / (g.in[0] * g.in[1]);
			idx = nc * invol + (b0 * g.in[1] + b1) * g.in[2] + b2;
		}
		dx[idx] += dy[oi];
	}
}

/* The forward's loops (rt_avgpool_ref) with the sum's transpose: every tap inside the
 * input gets dy/count. */
void rt_avgpool_backward_ref(const RtPool *p, const float *dy, float *dx)
{
	RtPoolGeom3 g = rt_pool_geom3(p);
	int64_t invol = g.in[0] * g.in[1] * g.in[2];
	int64_t outvol = g.out[0] * g.out[1] * g.out[2];
	zero(dx, p->n * p->c * invol);

	for (int64_t nc = 0; nc < p->n * p->c; nc++) {
		float *dxp = dx + nc * invol;
		for (int64_t o0 = 0; o0 < g.out[0]; o0++)
		for (int64_t o1 = 0; o1 < g.out[1]; o1++)
		for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
			int64_t o[3] = {o0, o1, o2};
			int64_t cnt = 1;
			for (int d = 0; d < 3; d++) {
				if (p->count_include_pad)
					cnt *= rt_pool_taps_in(&g, d, o[d], -g.pb[d], g.in[d] + g.pe[d]);
				else
					cnt *= rt_pool_taps_in(&g, d, o[d], 0, g.in[d]);
			}
			if (cnt == 0)
				continue;
			float gv = dy[nc * outvol + (o0 * g.out[1] + o1) * g.out[2] + o2] / (float)cnt;
			int64_t a0, e0, a1, e1, a2, e2; /* the taps inside the input */
			rt_pool_trange(&g, 0, o0, 0, g.in[0], &a0, &e0);
			rt_pool_trange(&g, 1, o1, 0, g.in[1], &a1, &e1);
			rt_pool_trange(&g, 2, o2, 0, g.in[2], &a2, &e2);
			for (int64_t k0 = a0; k0 < e0; k0++) {
				int64_t i0 = rt_pool_tap(&g, 0, o0, k0);
				for (int64_t k1 = a1; k1 < e1; k1++) {
					int64_t i1 = rt_pool_tap(&g, 1, o1, k1);
					for (int64_t k2 = a2; k2 < e2; k2++) {
						int64_t i2 = rt_pool_tap(&g, 2, o2, k2);
						dxp[(i0 * g.in[1] + i1) * g.in[2] + i2] += gv;
					}
				}
			}
		}
	}
}

void rt_global_pool_backward_ref(int is_max, int64_t n, int64_t c, int64_t spatial,
                                 const float *x, const float *y, const float *dy, float *dx)
{
	for (int64_t nc = 0; nc < n * c; nc++) {
		float *dxp = dx + nc * spatial;
		if (!is_max) {
			float gv = spatial > 0 ? dy[nc] / (float)spatial : 0.0f;
			for (int64_t s = 0; s < spatial; s++)
				dxp[s] = gv;
			continue;
		}
		const float *xp = x + nc * spatial;
		int64_t best = -1;
		if (y)
			for (int64_t s = 0; s < spatial && best < 0; s++)
				if (xp[s] == y[nc])
					best = s;
		if (best < 0)
			for (int64_t s = 0; s < spatial; s++)
				if (s == 0 || xp[s] > xp[best])
					best = s;
		for (int64_t s = 0; s < spatial; s++)
			dxp[s] = s == best ? dy[nc] : 0.0f;
	}
}

/* ---- BatchNormalization --------------------------------------------------------------- */

void rt_batchnorm_train_forward_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                                    const float *gamma, const float *beta, float eps,
                                    float *y, float *mean, float *invstd)
{
	int64_t count = n * spatial;
	for (int64_t ch = 0; ch < c; ch++) {
		/* two passes in double: the mean, then the centered squares */
		double sum = 0, sq = 0;
		for (int64_t i = 0; i < n; i++) {
			const float *xs = x + (i * c + ch) * spatial;
			for (int64_t s = 0; s < spatial; s++)
				sum += xs[s];
		}
		double mu = count > 0 ? sum / (double)count : 0.0;
		for (int64_t i = 0; i < n; i++) {
			const float *xs = x + (i * c + ch) * spatial;
			for (int64_t s = 0; s < spatial; s++)
				sq += ((double)xs[s] - mu) * ((double)xs[s] - mu);
		}
		double var = count > 0 ? sq / (double)count : 0.0;
		double is = 1.0 / sqrt(var + (double)eps);
		if (mean)
			mean[ch] = (float)mu;
		if (invstd)
			invstd[ch] = (float)is;
		if (!y)
			continue;
		double sc = gamma[ch] * is, sh = beta[ch] - mu * sc;
		for (int64_t i = 0; i < n; i++) {
			const float *xs = x + (i * c + ch) * spatial;
			float *ys = y + (i * c + ch) * spatial;
			for (int64_t s = 0; s < spatial; s++)
				ys[s] = (float)(xs[s] * sc + sh);
		}
	}
}

/* Shared by both backward variants: per channel, xhat = (x - mean)*invstd,
 * dbeta = sum dy, dgamma = sum dy*xhat; dx = gamma*invstd*(dy - batch*(dbeta +
 * xhat*dgamma)/count), where batch = 1 when the statistics came from this batch and 0 when
 * they are frozen constants. */
static void bn_backward(int64_t n, int64_t c, int64_t spatial, const float *x,
                        const float *gamma, const double *mean, const double *invstd,
                        int batch, const float *dy, float *dx, float *dgamma, float *dbeta)
{
	int64_t count = n * spatial;
	for (int64_t ch = 0; ch < c; ch++) {
		double mu = mean[ch], is = invstd[ch];
		double sdy = 0, sdyx = 0;
		for (int64_t i = 0; i < n; i++) {
			const float *xs = x + (i * c + ch) * spatial;
			const float *gs = dy + (i * c + ch) * spatial;
			for (int64_t s = 0; s < spatial; s++) {
				sdy += gs[s];
				sdyx += gs[s] * ((double)xs[s] - mu) * is;
			}
		}
		if (dbeta)
			dbeta[ch] = (float)sdy;
		if (dgamma)
			dgamma[ch] = (float)sdyx;
		if (!dx)
			continue;
		double k = gamma[ch] * is;
		double mdy = batch && count > 0 ? sdy / (double)count : 0.0;
		double mdyx = batch && count > 0 ? sdyx / (double)count : 0.0;
		for (int64_t i = 0; i < n; i++) {
			const float *xs = x + (i * c + ch) * spatial;
			const float *gs = dy + (i * c + ch) * spatial;
			float *ds = dx + (i * c + ch) * spatial;
			for (int64_t s = 0; s < spatial; s++) {
				double xh = ((double)xs[s] - mu) * is;
				ds[s] = (float)(k * (gs[s] - mdy - xh * mdyx));
			}
		}
	}
}

void rt_batchnorm_backward_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                               const float *gamma, const float *mean, const float *invstd,
                               const float *dy, float *dx, float *dgamma, float *dbeta)
{
	double *st = xmalloc((size_t)(2 * (c > 0 ? c : 1)) * sizeof *st);
	for (int64_t ch = 0; ch < c; ch++) {
		st[ch] = mean[ch];
		st[c + ch] = invstd[ch];
	}
	bn_backward(n, c, spatial, x, gamma, st, st + c, 1, dy, dx, dgamma, dbeta);
	free(st);
}

void rt_batchnorm_frozen_backward_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                                      const float *gamma, const float *running_mean,
                                      const float *running_var, float eps, const float *dy,
                                      float *dx, float *dgamma, float *dbeta)
{
	double *st = xmalloc((size_t)(2 * (c > 0 ? c : 1)) * sizeof *st);
	for (int64_t ch = 0; ch < c; ch++) {
		st[ch] = running_mean[ch];
		/* the same float rounding as rt_batchnorm_ref's sqrtf(var + eps) */
		st[c + ch] = 1.0 / (double)sqrtf(running_var[ch] + eps);
	}
	bn_backward(n, c, spatial, x, gamma, st, st + c, 0, dy, dx, dgamma, dbeta);
	free(st);
}

void rt_batchnorm_running_update(int64_t c, int64_t count, const float *mean,
                                 const float *invstd, float eps, float momentum,
                                 float *running_mean, float *running_var)
{
	for (int64_t ch = 0; ch < c; ch++) {
		double is = invstd[ch];
		double var = 1.0 / (is * is) - (double)eps;
		if (var < 0)
			var = 0;
		if (count > 1)
			var *= (double)count / (double)(count - 1);
		running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mean[ch]);
		running_var[ch] = (float)((1.0 - momentum) * running_var[ch] + momentum * var);
	}
}

/* ---- Losses --------------------------------------------------------------------------- */

/* log sum_j exp(z_j/T) - max_j z_j/T over one row, in double (max subtracted first). */
static double row_lse(const float *z, int64_t classes, double invT, double *mx)
{
	double m = -INFINITY;
	for (int64_t j = 0; j < classes; j++)
		if (z[j] * invT > m)
			m = z[j] * invT;
	double s = 0;
	for (int64_t j = 0; j < classes; j++)
		s += exp(z[j] * invT - m);
	*mx = m;
	return log(s);
}

double rt_softmax_xent_ref(const float *logits, const int32_t *labels, int64_t n,
                           int64_t classes, float *dlogits, int64_t *correct)
{
	double total = 0;
	int64_t hits = 0;
	for (int64_t i = 0; i < n; i++) {
		const float *z = logits + i * classes;
		float *dz = dlogits ? dlogits + i * classes : NULL;
		int64_t lab = labels[i];
		if (lab < 0 || lab >= classes) {
			total = NAN;
			zero(dz, classes);
			continue;
		}
		double mx, lse = row_lse(z, classes, 1.0, &mx);
		/* -log softmax(z)[lab] = lse + mx - z[lab] */
		total += lse + mx - z[lab];
		int64_t am = 0;
		for (int64_t j = 1; j < classes; j++)
			if (z[j] > z[am])
				am = j;
		hits += am == lab;
		if (dz)
			for (int64_t j = 0; j < classes; j++) {
				double sm = exp(z[j] - mx - lse);
				dz[j] = (float)((sm - (j == lab)) / (double)n);
			}
	}
	if (correct)
		*correct = hits;
	return n > 0 ? total / (double)n : 0.0;
}

double rt_distill_kl_ref(const float *student, const float *teacher, int64_t n,
                         int64_t classes, float T, float *dstudent)
{
	double invT = 1.0 / (double)T, total = 0;
	for (int64_t i = 0; i < n; i++) {
		const float *s = student + i * classes, *t = teacher + i * classes;
		double ms, mt;
		double ls = row_lse(s, classes, invT, &ms), lt = row_lse(t, classes, invT, &mt);
		double kl = 0;
		for (int64_t j = 0; j < classes; j++) {
			double logp = t[j] * invT - mt - lt, logq = s[j] * invT - ms - ls;
			double pj = exp(logp);
			kl += pj * (logp - logq);
			if (dstudent)
				dstudent[i * classes + j] = (float)((double)T * (exp(logq) - pj) / (double)n);
		}
		total += kl;
	}
	return n > 0 ? total * (double)T * (double)T / (double)n : 0.0;
}

/* ---- data movement ---------------------------------------------------------------------- */

void rt_concat_backward_ref(int n, const Shape *const *sx, int axis, const float *dy,
                            float *const *dx)
{
	/* the forward interleaves rows of d_axis * inner floats per operand, outer times */
	int64_t outer = 1, inner = 1;
	for (int i = 0; i < axis; i++)
		outer *= sx[0]->d[i];
	for (int i = axis + 1; i < sx[0]->rank; i++)
		inner *= sx[0]->d[i];
	const float *src = dy;
	for (int64_t o = 0; o < outer; o++)
		for (int j = 0; j < n; j++) {
			int64_t chunk = sx[j]->d[axis] * inner;
			if (dx[j] && chunk)
				memcpy(dx[j] + o * chunk, src, sizeof(float) * (size_t)chunk);
			src += chunk;
		}
}

void rt_transpose_backward_ref(const Shape *sx, const int64_t *perm, const float *dy,
                               float *dx)
{
	Shape sy = {sx->rank, {0}};
	int64_t inv[IR_MAX_RANK];
	for (int i = 0; i < sx->rank; i++) {
		sy.d[i] = sx->d[perm[i]];
		inv[perm[i]] = i;
	}
	rt_transpose_ref(sizeof(float), &sy, inv, dy, dx);
}

void rt_pad_src_map(RtPadMode mode, const Shape *sx, const int64_t *pads, const Shape *sy,
                    int64_t *src)
{
	/* Pad applied to the input's own element numbers */
	int64_t nx = ir_shape_numel(sx), none = -1;
	int64_t *iota = xmalloc(sizeof(int64_t) * (size_t)(nx ? nx : 1));
	for (int64_t i = 0; i < nx; i++)
		iota[i] = i;
	rt_pad_ref(sizeof(int64_t), mode, sx, iota, pads, &none, sy, src);
	free(iota);
}

void rt_pad_backward_ref(const int64_t *src, int64_t nx, int64_t ny, const float *dy,
                         float *dx)
{
	memset(dx, 0, sizeof(float) * (size_t)nx);
	for (int64_t o = 0; o < ny; o++)
		if (src[o] >= 0)
			dx[src[o]] += dy[o];
}

void rt_binary_backward_ref(RtBinary op, int j, const Shape *sa, const float *a,
                            const Shape *sb, const float *b, const Shape *sy, const float *y,
                            const float *dy, float *tmp, float *dx)
{
	int64_t ny = ir_shape_numel(sy);
	const float *src = dy; /* d(a+b)/da = d(a+b)/db = d(a-b)/da = 1 */
	if (op == RT_MUL) { /* d(a*b)/da = b, broadcast */
		rt_binary_ref(RT_MUL, DT_FLOAT, sy, dy, j == 0 ? sb : sa, j == 0 ? b : a, sy, tmp);
		src = tmp;
	} else if (op == RT_SUB && j == 1) {
		for (int64_t k = 0; k < ny; k++)
			tmp[k] = -dy[k];
		src = tmp;
	} else if (op == RT_DIV && j == 0) { /* d(a/b)/da = 1/b */
		rt_binary_ref(RT_DIV, DT_FLOAT, sy, dy, sb, b, sy, tmp);
		src = tmp;
	} else if (op == RT_PRELU && j == 0) { /* dx = dy where x >= 0, dy * slope elsewhere */
		rt_binary_ref(RT_MUL, DT_FLOAT, sy, dy, sb, b, sy, tmp);
		for (int64_t k = 0; k < ny; k++)
			tmp[k] = a[k] < 0 ? tmp[k] : dy[k];
		src = tmp;
	} else if (op == RT_PRELU) { /* dslope = dy * x where x < 0 */
		for (int64_t k = 0; k < ny; k++)
			tmp[k] = a[k] < 0 ? dy[k] * a[k] : 0.0f;
		src = tmp;
	} else if (op == RT_DIV) { /* d(a/b)/db = -a/b^2 = -y/b */
		rt_binary_ref(RT_MUL, DT_FLOAT, sy, dy, sy, y, sy, tmp);
		for (int64_t k = 0; k < ny; k++)
			tmp[k] = -tmp[k];
		rt_binary_ref(RT_DIV, DT_FLOAT, sy, tmp, sb, b, sy, tmp);
		src = tmp;
	}
	rt_reduce_to_shape_ref(sy, src, j == 0 ? sa : sb, dx);
}

void rt_softmax_backward_ref(const float *y, const float *dy, float *dx, int64_t outer,
                             int64_t len, int64_t inner, int log)
{
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			const int64_t base = o * len * inner + i;
			double s = 0;
			for (int64_t l = 0; l < len; l++) {
				int64_t k = base + l * inner;
				s += log ? (double)dy[k] : (double)dy[k] * y[k];
			}
			for (int64_t l = 0; l < len; l++) {
				int64_t k = base + l * inner;
				dx[k] = log ? (float)(dy[k] - exp((double)y[k]) * s)
				            : (float)(y[k] * (dy[k] - s));
			}
		}
}
