/* runtime/igemm_bwd.c: Conv backward on sqc's own micro-kernels (no im2col matrix, no BLAS).
 *
 * dX is a convolution itself: with stride 1, dX[i] = sum_t W[t] dY[i + pad - t*dil], i.e.
 * dY convolved (padding dil*(k-1) - pad_begin, same dilation, stride 1) with the weights
 * transposed per group ([C, M/group, k...]) and flipped in space. It runs on the forward's
 * indirect GEMM (rt_igemm_conv). A strided convolution's dY is first spread out with zeros
 * between its elements (stride - 1 of them along each dim), which makes it a stride-1 one.
 *
 * dW[m][c][t] = sum over images and output positions o of dY[m][o] * X[c][tap t of o] is
 * a GEMM with a long reduction (batch x positions) and a small result: a micro-kernel
 * computes an MR x NR tile of it, MR rows (input channel, tap) by NR output channels,
 *   tile[i][j] += sum_o xi[pix[o] + roff[i]] * dyt[o][j]
 * from a channels-last copy of each image with its padding (xi, pix[o]: where output
 * position o's window starts, roff[i]: the row's tap and channel from there) and dY
 * transposed to [position][channel] panels of NR (zeros past the last channel).
 *
 * Determinism: the batch is cut into a fixed number of parts (from the batch size only,
 * never from the thread count); each part sums its images in order into its own partial
 * dW, image after image, and the partials are added in part order. Which thread computes a
 * part changes nothing, so results do not depend on the thread count or scheduling.
 */
#include "fast.h"
#include "grad.h"
#include "ref_internal.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RT_X86 1
#endif

/* Parts of the batch for dW: at most this many partial results (each a dW's worth). */
#define DW_PARTS 8

/* dW's kernels sweep the output positions of an image in blocks of this many, so that
 * the block's dY panel and input lines stay in the L1 cache across the row tiles. */
#ifndef POS_BLOCK
#define POS_BLOCK 256
#endif

/* Work below this many multiply-accumulates runs on the calling thread only. */
#define BWD_PAR_MIN ((int64_t)1 << 20)

static void *aalloc(size_t n)
{
	size_t sz = (n + 63) / 64 * 64;
	void *p = aligned_alloc(64, sz ? sz : 64);
	if (!p)
		return xmalloc(sz ? sz : 64); /* xmalloc aborts with a message on failure */
	return p;
}

/* The dW driver's three big scratch buffers (several MB for a VGG layer), kept per thread
 * from call to call and grown when needed: allocated afresh, they were mmap'd and
 * page-faulted in on every training step. Never shrunk; not zeroed (not needed). */
static _Thread_local struct {
	void *p;
	size_t n;
} dw_scratch[3];

static void *scratch_get(int slot, size_t n)
{
	if (dw_scratch[slot].n < n || !dw_scratch[slot].p) {
		free(dw_scratch[slot].p);
		dw_scratch[slot].p = aalloc(n);
		dw_scratch[slot].n = n;
	}
	return dw_scratch[slot].p;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ---- dW micro-kernels --------------------------------------------------------------------- */

/* tile[i*nr + j] += sum over o < npos of xi[pix[o] + roff[i]] * b[o*nr + j], i < mr, j < nr
 * (b 64-byte aligned). The sum runs over o in order, onto the tile's value. */
typedef void DwKernFn(int64_t npos, const float *xi, const int64_t *pix, const int64_t *roff,
                      const float *b, float *tile);

typedef struct {
	int mr, nr;
	DwKernFn *fn;
	RtChlFn *chl; /* rt_chl_fn(): igemm.c's channels-last copy */
} DwKern;

typedef float V4F __attribute__((vector_size(16)));

#define DG_ROW(i)                                                                   \
	{                                                                               \
		float v = r##i[q];                                                          \
		V4F av = {v, v, v, v};                                                      \
		c##i##0 += av * b0;                                                         \
		c##i##1 += av * b1;                                                         \
	}
#define DG_LOAD(i)                                                                  \
	memcpy(&c##i##0, tile + (i) * 8, sizeof c##i##0);                               \
	memcpy(&c##i##1, tile + (i) * 8 + 4, sizeof c##i##1);
#define DG_STORE(i)                                                                 \
	memcpy(tile + (i) * 8, &c##i##0, sizeof c##i##0);                               \
	memcpy(tile + (i) * 8 + 4, &c##i##1, sizeof c##i##1);

/* Portable: 4 x 8 in GNU C vectors of 4 floats. */
static void dwk_generic(int64_t npos, const float *xi, const int64_t *pix, const int64_t *roff,
                        const float *b, float *tile)
{
	V4F c00, c01, c10, c11, c20, c21, c30, c31;
	DG_LOAD(0) DG_LOAD(1) DG_LOAD(2) DG_LOAD(3)
	const float *r0 = xi + roff[0], *r1 = xi + roff[1], *r2 = xi + roff[2], *r3 = xi + roff[3];
	for (int64_t o = 0; o < npos; o++, b += 8) {
		int64_t q = pix[o];
		V4F b0, b1;
		memcpy(&b0, b, sizeof b0);
		memcpy(&b1, b + 4, sizeof b1);
		DG_ROW(0) DG_ROW(1) DG_ROW(2) DG_ROW(3)
	}
	DG_STORE(0) DG_STORE(1) DG_STORE(2) DG_STORE(3)
}

#ifdef RT_X86
/* AVX2 + FMA: 6 x 16, twelve ymm accumulators. */
#define D2_ROW(i)                                                                   \
	{                                                                               \
		__m256 a = _mm256_broadcast_ss(r##i + q);                                   \
		c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                                  \
		c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);                                  \
	}
#define D2_LOAD(i)                                                                  \
	__m256 c##i##0 = _mm256_loadu_ps(tile + (i) * 16);                              \
	__m256 c##i##1 = _mm256_loadu_ps(tile + (i) * 16 + 8);
#define D2_STORE(i)                                                                 \
	_mm256_storeu_ps(tile + (i) * 16, c##i##0);                                     \
	_mm256_storeu_ps(tile + (i) * 16 + 8, c##i##1);

__attribute__((target("avx2,fma")))
static void dwk_avx2(int64_t npos, const float *xi, const int64_t *pix, const int64_t *roff,
                     const float *b, float *tile)
{
	D2_LOAD(0) D2_LOAD(1) D2_LOAD(2) D2_LOAD(3) D2_LOAD(4) D2_LOAD(5)
	const float *r0 = xi + roff[0], *r1 = xi + roff[1], *r2 = xi + roff[2];
	const float *r3 = xi + roff[3], *r4 = xi + roff[4], *r5 = xi + roff[5];
	for (int64_t o = 0; o < npos; o++, b += 16) {
		int64_t q = pix[o];
		__m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
		D2_ROW(0) D2_ROW(1) D2_ROW(2) D2_ROW(3) D2_ROW(4) D2_ROW(5)
	}
	D2_STORE(0) D2_STORE(1) D2_STORE(2) D2_STORE(3) D2_STORE(4) D2_STORE(5)
}

/* AVX-512: 8 x 32, sixteen zmm accumulators. */
#define D5_ROW(i)                                                                   \
	{                                                                               \
		__m512 a = _mm512_set1_ps(r##i[q]);                                         \
		c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0);                                  \
		c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1);                                  \
	}
#define D5_LOAD(i)                                                                  \
	__m512 c##i##0 = _mm512_loadu_ps(tile + (i) * 32);                              \
	__m512 c##i##1 = _mm512_loadu_ps(tile + (i) * 32 + 16);
#define D5_STORE(i)                                                                 \
	_mm512_storeu_ps(tile + (i) * 32, c##i##0);                                     \
	_mm512_storeu_ps(tile + (i) * 32 + 16, c##i##1);

__attribute__((target("avx512f")))
static void dwk_avx512(int64_t npos, const float *xi, const int64_t *pix, const int64_t *roff,
                       const float *b, float *tile)
{
	D5_LOAD(0) D5_LOAD(1) D5_LOAD(2) D5_LOAD(3) D5_LOAD(4) D5_LOAD(5) D5_LOAD(6) D5_LOAD(7)
	const float *r0 = xi + roff[0], *r1 = xi + roff[1], *r2 = xi + roff[2], *r3 = xi + roff[3];
	const float *r4 = xi + roff[4], *r5 = xi + roff[5], *r6 = xi + roff[6], *r7 = xi + roff[7];
	for (int64_t o = 0; o < npos; o++, b += 32) {
		int64_t q = pix[o];
		__m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
		D5_ROW(0) D5_ROW(1) D5_ROW(2) D5_ROW(3) D5_ROW(4) D5_ROW(5) D5_ROW(6) D5_ROW(7)
	}
	D5_STORE(0) D5_STORE(1) D5_STORE(2) D5_STORE(3)
	D5_STORE(4) D5_STORE(5) D5_STORE(6) D5_STORE(7)
}

#endif

static const DwKern dwkerns[RT_ISA_COUNT] = {
	[RT_ISA_GENERIC] = {4, 8, dwk_generic, NULL},
#ifdef RT_X86
	[RT_ISA_AVX2] = {6, 16, dwk_avx2, NULL},
	[RT_ISA_AVX512] = {8, 32, dwk_avx512, NULL},
#endif
};

/* ---- geometry ------------------------------------------------------------------------------ */

/* ---- dW ------------------------------------------------------------------------------------ */

typedef struct {
	DwKern k;
	RtConvGeom3 g;
	int64_t n, c, m, cg, mg, group, kvol, kdim, invol, outvol;
	int64_t pin[3], plane;  /* padded input extent, its pixels */
	int64_t npanel, nrt;    /* NR-channel panels and MR-row tiles per group */
	int64_t nparts, partsz; /* parts of the batch, floats of one partial dW */
	const float *x, *dy;
	float *xp;              /* [n][plane][c]: channels last, padded */
	float *dyt;             /* [group][npanel][n*outvol][nr] */
	const int64_t *pix;     /* [outvol]: a window's first element in xp's image */
	const int64_t *roff;    /* [group][nrt][mr]: a row's offset from there */
	float *part;            /* [nparts][group][npanel][nrt][mr*nr] */
	float *dw;
	RtSplit split;
} DwJob;

/* Image img into xp (padded, channels last) and its dY into dyt's panels. */
static void dw_prep_image(const DwJob *J, int64_t img)
{
	const RtConvGeom3 *g = &J->g;
	int nr = J->k.nr;
	float *xi = J->xp + img * J->plane * J->c;
	memset(xi, 0, sizeof(float) * (size_t)(J->plane * J->c));
	const float *src = J->x + img * J->c * J->invol;
	for (int64_t i0 = 0; i0 < g->in[0]; i0++)
		for (int64_t i1 = 0; i1 < g->in[1]; i1++, src += g->in[2]) {
			int64_t q = ((i0 + g->pad[0]) * J->pin[1] + i1 + g->pad[1]) * J->pin[2] + g->pad[2];
			J->k.chl(src, J->c, J->invol, g->in[2], xi + q * J->c, J->c);
		}
	int64_t tot = J->n * J->outvol;
	for (int64_t grp = 0; grp < J->group; grp++)
		for (int64_t pn = 0; pn < J->npanel; pn++) {
			float *d = J->dyt + ((grp * J->npanel + pn) * tot + img * J->outvol) * nr;
			int64_t nm = min64(J->mg - pn * nr, nr);
			if (nm < nr)
				memset(d, 0, sizeof(float) * (size_t)(J->outvol * nr));
			J->k.chl(J->dy + (img * J->m + grp * J->mg + pn * nr) * J->outvol, nm, J->outvol,
			         J->outvol, d, nr);
		}
}

static void dw_prep_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	DwJob *J = ctx;
	int64_t lo, hi;
	while (rt_split_next(&J->split, &lo, &hi))
		for (int64_t img = lo; img < hi; img++)
			dw_prep_image(J, img);
}

/* Part p: images [n*p/nparts, n*(p+1)/nparts) summed in order into partial p. */
static void dw_part_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	DwJob *J = ctx;
	int mr = J->k.mr, nr = J->k.nr;
	int64_t tot = J->n * J->outvol, lo, hi;
	while (rt_split_next(&J->split, &lo, &hi))
		for (int64_t pt = lo; pt < hi; pt++) {
			float *part = J->part + pt * J->partsz;
			memset(part, 0, sizeof(float) * (size_t)J->partsz);
			int64_t i0 = J->n * pt / J->nparts, i1 = J->n * (pt + 1) / J->nparts;
			for (int64_t img = i0; img < i1; img++) {
				const float *xi = J->xp + img * J->plane * J->c;
				for (int64_t o0 = 0; o0 < J->outvol; o0 += POS_BLOCK) {
					int64_t np = min64(POS_BLOCK, J->outvol - o0);
					for (int64_t grp = 0; grp < J->group; grp++)
						for (int64_t pn = 0; pn < J->npanel; pn++) {
							const float *b = J->dyt + ((grp * J->npanel + pn) * tot +
							                           img * J->outvol + o0) * nr;
							float *tile = part + (grp * J->npanel + pn) * J->nrt * mr * nr;
							const int64_t *roff = J->roff + grp * J->nrt * mr;
							for (int64_t rt = 0; rt < J->nrt; rt++)
								J->k.fn(np, xi, J->pix + o0, roff + rt * mr, b,
								        tile + rt * mr * nr);
						}
				}
			}
		}
}

/* dW from the partials, added in part order; units are (group, panel, row tile). */
static void dw_sum_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	DwJob *J = ctx;
	int mr = J->k.mr, nr = J->k.nr;
	int64_t lo, hi;
	while (rt_split_next(&J->split, &lo, &hi))
		for (int64_t u = lo; u < hi; u++) {
			int64_t grp = u / (J->npanel * J->nrt), pn = u / J->nrt % J->npanel;
			int64_t rt = u % J->nrt;
			int64_t nm = min64(J->mg - pn * nr, nr);
			const float *src = J->part + u * mr * nr;
			for (int i = 0; i < mr; i++) {
				int64_t r = rt * mr + i; /* row = t*cg + ci */
				if (r >= J->kdim)
					break;
				int64_t t = r / J->cg, ci = r % J->cg;
				float *d = J->dw + (grp * J->mg + pn * nr) * J->kdim + ci * J->kvol + t;
				for (int64_t j = 0; j < nm; j++) {
					float s = src[i * nr + j];
					for (int64_t pt = 1; pt < J->nparts; pt++)
						s += src[pt * J->partsz + i * nr + j];
					d[j * J->kdim] = s;
				}
			}
		}
}

int rt_igemm_conv_dw(const RtConv *p, const float *x, const float *dy, float *dw)
{
	DwJob J = {0};
	J.g = rt_conv_geom3_right(p);
	const RtConvGeom3 *g = &J.g;
	J.k = dwkerns[rt_isa_get()];
	int mr = J.k.mr, nr = J.k.nr;
	J.n = p->n;
	J.c = p->c;
	J.m = p->m;
	J.group = p->group;
	J.cg = p->c / p->group;
	J.mg = p->m / p->group;
	J.kvol = g->k[0] * g->k[1] * g->k[2];
	J.kdim = J.cg * J.kvol;
	J.invol = g->in[0] * g->in[1] * g->in[2];
	J.outvol = g->out[0] * g->out[1] * g->out[2];
	if (J.n < 1 || J.mg < 1 || J.kdim < 1 || J.outvol < 1)
		return -1;
	J.plane = 1;
	for (int d = 0; d < 3; d++) {
		if (g->pad[d] < 0 || g->stride[d] < 1 || g->dil[d] < 1)
			return -1;
		int64_t last = (g->out[d] - 1) * g->stride[d] + (g->k[d] - 1) * g->dil[d] - g->pad[d];
		int64_t pe = last >= g->in[d] ? last - g->in[d] + 1 : 0;
		J.pin[d] = g->pad[d] + g->in[d] + pe;
		J.plane *= J.pin[d];
	}
	J.k.chl = rt_chl_fn(rt_isa_get(), J.invol > J.outvol ? J.invol : J.outvol);
	J.npanel = (J.mg + nr - 1) / nr;
	J.nrt = (J.kdim + mr - 1) / mr;
	J.nparts = min64(J.n, DW_PARTS);
	J.partsz = J.group * J.npanel * J.nrt * mr * nr;
	J.x = x;
	J.dy = dy;
	J.dw = dw;

	int64_t *pix = xmalloc(sizeof *pix * (size_t)J.outvol);
	for (int64_t o = 0; o < J.outvol; o++) {
		int64_t o2 = o % g->out[2], o1 = o / g->out[2] % g->out[1];
		int64_t o0 = o / (g->out[1] * g->out[2]);
		pix[o] = ((o0 * g->stride[0] * J.pin[1] + o1 * g->stride[1]) * J.pin[2] +
		          o2 * g->stride[2]) * J.c;
	}
	int64_t *roff = xmalloc(sizeof *roff * (size_t)(J.group * J.nrt * mr));
	for (int64_t grp = 0; grp < J.group; grp++)
		for (int64_t r = 0; r < J.nrt * mr; r++) {
			int64_t rr = min64(r, J.kdim - 1); /* rows past the end repeat the last */
			int64_t t = rr / J.cg, ci = rr % J.cg;
			int64_t k2 = t % g->k[2], k1 = t / g->k[2] % g->k[1], k0 = t / (g->k[1] * g->k[2]);
			roff[grp * J.nrt * mr + r] =
				((k0 * g->dil[0] * J.pin[1] + k1 * g->dil[1]) * J.pin[2] + k2 * g->dil[2]) * J.c +
				grp * J.cg + ci;
		}
	J.pix = pix;
	J.roff = roff;
	J.xp = scratch_get(0, sizeof(float) * (size_t)(J.n * J.plane * J.c));
	J.dyt = scratch_get(1, sizeof(float) * (size_t)(J.group * J.npanel * J.n * J.outvol * nr));
	J.part = scratch_get(2, sizeof(float) * (size_t)(J.nparts * J.partsz));

	int64_t macs = J.n * J.outvol * J.m * J.kdim;
	int big = macs >= BWD_PAR_MIN;
	rt_split_init(&J.split, J.n, 4, 0);
	rt_parallel(dw_prep_task, &J, big ? (int)min64(J.n, 64) : 1);
	rt_split_init(&J.split, J.nparts, 1, 1);
	rt_parallel(dw_part_task, &J, big ? (int)J.nparts : 1);
	int64_t units = J.group * J.npanel * J.nrt;
	rt_split_init(&J.split, units, 4, 0);
	rt_parallel(dw_sum_task, &J, big ? (int)min64(units, 64) : 1);

	free(roff);
	free(pix);
	return 0;
}

/* ---- dX ------------------------------------------------------------------------------------ */

typedef struct {
	const float *dy;
	float *dz;
	int64_t m, outvol, zvol;
	int64_t out[3], zin[3], st[3];
	RtSplit split;
} SpreadJob;

/* dz = dY with stride - 1 zeros between elements, per (image, channel) plane. */
static void spread_task(void *ctx, int tid, int nth)
{
	(void)tid;
	(void)nth;
	SpreadJob *S = ctx;
	int64_t lo, hi;
	while (rt_split_next(&S->split, &lo, &hi))
		for (int64_t pl = lo; pl < hi; pl++) {
			const float *s = S->dy + pl * S->outvol;
			float *d = S->dz + pl * S->zvol;
			memset(d, 0, sizeof(float) * (size_t)S->zvol);
			for (int64_t o0 = 0; o0 < S->out[0]; o0++)
				for (int64_t o1 = 0; o1 < S->out[1]; o1++) {
					float *dl = d + (o0 * S->st[0] * S->zin[1] + o1 * S->st[1]) * S->zin[2];
					for (int64_t o2 = 0; o2 < S->out[2]; o2++)
						dl[o2 * S->st[2]] = *s++;
				}
		}
}

int rt_igemm_conv_dx(const RtConv *p, const float *w, const float *dy, float *dx)
{
	int64_t cg = p->c / p->group, mg = p->m / p->group, kvol = 1, outvol = 1, zvol = 1;
	int strided = 0;
	RtConv q = *p;
	q.c = p->m;
	q.m = p->c;
	for (int d = 0; d < p->nsp; d++) {
		int64_t pd = p->dil[d] * (p->k[d] - 1) - p->pad_begin[d];
		if (p->pad_begin[d] < 0 || p->stride[d] < 1 || p->dil[d] < 1 || pd < 0 ||
		    p->out[d] < 1 || p->k[d] < 1)
			return -1;
		kvol *= p->k[d];
		outvol *= p->out[d];
		q.in[d] = (p->out[d] - 1) * p->stride[d] + 1;
		zvol *= q.in[d];
		q.out[d] = p->in[d];
		q.stride[d] = 1;
		q.pad_begin[d] = pd;
		strided |= p->stride[d] > 1;
	}
	if (p->n < 1 || cg < 1 || mg < 1)
		return -1;
	/* W [m][cg][t] -> W' [c][mg][kvol-1-t] per group */
	float *wt = aalloc(sizeof(float) * (size_t)(p->c * mg * kvol));
	for (int64_t grp = 0; grp < p->group; grp++)
		for (int64_t mo = 0; mo < mg; mo++)
			for (int64_t ci = 0; ci < cg; ci++) {
				const float *s = w + ((grp * mg + mo) * cg + ci) * kvol;
				float *d = wt + ((grp * cg + ci) * mg + mo) * kvol;
				for (int64_t t = 0; t < kvol; t++)
					d[kvol - 1 - t] = s[t];
			}
	float *dz = NULL;
	if (strided) {
		RtConvGeom3 g = rt_conv_geom3_right(p);
		SpreadJob S = {.dy = dy, .m = p->m, .outvol = outvol, .zvol = zvol};
		for (int d = 0; d < 3; d++) {
			S.out[d] = g.out[d];
			S.st[d] = g.stride[d];
			S.zin[d] = (g.out[d] - 1) * g.stride[d] + 1;
		}
		dz = aalloc(sizeof(float) * (size_t)(p->n * p->m * zvol));
		S.dz = dz;
		int64_t planes = p->n * p->m;
		rt_split_init(&S.split, planes, 4, 0);
		rt_parallel(spread_task, &S, planes * zvol >= ((int64_t)1 << 16) ? (int)min64(planes, 64)
		                                                                 : 1);
	}
	rt_igemm_conv(&q, dz ? dz : dy, wt, NULL, dx, RT_ACT_NONE);
	free(dz);
	free(wt);
	return 0;
}
