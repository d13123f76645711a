/* runtime/igemm.c: indirect GEMM micro-kernels (AVX-512, AVX2+FMA, portable C), the
 * convolution and Gemm drivers built on them (run on the thread pool of threads.c).
 *
 * Why our own kernels: OpenBLAS picks its kernels by CPU model, and a model it does not
 * know gets its oldest ones (Debian's 0.3.21 runs SSE3 "Prescott" kernels on recent Xeons),
 * while a convolution through im2col + sgemm spends as long building the im2col matrix as
 * multiplying when the layer has few output channels. Here the instruction set comes from
 * the CPU's feature flags, and a convolution reads its NCHW input in place (or a copy of one
 * image with the zero padding added) through one pointer per output pixel, an offset per
 * kernel tap and a stride between channels: no im2col matrix.
 *
 * Layouts (see fast.h): packed B is [panel][t][c][NR] (NR consecutive columns per panel,
 * zero beyond the last column); a micro-kernel writes a dense MR x NR tile that the
 * driver's epilogue adds the bias to, activates and stores (transposed for Conv, whose
 * output is NCHW). Rows past the end of a tile repeat the last row; their results are
 * dropped.
 */
#include "fast.h"
#include "ref_internal.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RT_X86 1
#endif

/* tile[i*nr + j] = sum over t < T, c < C of rows[i][toff[t] + c*cs] * bp[(t*C + c)*nr + j]
 * for i < mr, j < nr. */
typedef void KernFn(int64_t T, const int64_t *toff, int64_t C, int64_t cs,
                    const float *const *rows, const float *bp, float *tile);

/* dst[j*ld + i] = act(tile[i*nr + j] + bias[j]) for i < nv, j < nm (bias may be NULL):
 * the transposed store of a Conv tile into NCHW. */
typedef void StoreTFn(const float *tile, int64_t nv, int64_t nm, const float *bias, RtAct act,
                      float *dst, int64_t ld);

typedef struct {
	int mr, nr;
	KernFn *fn;
	StoreTFn *store_t;
	RtChlFn *chl;
} Kern;

static inline float act_apply(RtAct act, float v)
{
	/* exactly rt_unary_ref's Relu */
	return act == RT_ACT_RELU ? (v < 0 ? 0.0f : v) : v;
}

/* Work below this many multiply-accumulates runs on the calling thread only. */
#define PAR_MIN_MACS ((int64_t)1 << 20)

static void *aalloc(size_t n)
{
	size_t sz = (n + 63) / 64 * 64;
	void *p = aligned_alloc(64, sz ? sz : 64);
	if (!p)
		return xmalloc(sz ? sz : 64); /* xmalloc aborts with a message on failure */
	return p;
}

/* ---- micro-kernels ---------------------------------------------------------------------- */

/* Portable: 4 x 8 in GNU C vectors of 4 floats (SSE2 or NEON registers, eight
 * accumulators), multiply then add. */
typedef float V4F __attribute__((vector_size(16)));

#define G_ROW(i)                                                                    \
	{                                                                               \
		float v = a##i[ci];                                                         \
		V4F av = {v, v, v, v};                                                      \
		c##i##0 += av * b0;                                                         \
		c##i##1 += av * b1;                                                         \
	}
#define G_STORE(i)                                                                  \
	memcpy(tile + (i) * 8, &c##i##0, sizeof c##i##0);                               \
	memcpy(tile + (i) * 8 + 4, &c##i##1, sizeof c##i##1);

static void kern_generic(int64_t T, const int64_t *toff, int64_t C, int64_t cs,
                         const float *const *rows, const float *bp, float *tile)
{
	V4F c00 = {0, 0, 0, 0}, c01 = c00, c10 = c00, c11 = c00;
	V4F c20 = c00, c21 = c00, c30 = c00, c31 = c00;
	for (int64_t t = 0; t < T; t++) {
		const float *a0 = rows[0] + toff[t], *a1 = rows[1] + toff[t];
		const float *a2 = rows[2] + toff[t], *a3 = rows[3] + toff[t];
		for (int64_t c = 0, ci = 0; c < C; c++, ci += cs, bp += 8) {
			V4F b0, b1;
			memcpy(&b0, bp, sizeof b0);
			memcpy(&b1, bp + 4, sizeof b1);
			G_ROW(0) G_ROW(1) G_ROW(2) G_ROW(3)
		}
	}
	G_STORE(0) G_STORE(1) G_STORE(2) G_STORE(3)
}

static void store_t_generic(const float *tile, int64_t nv, int64_t nm, const float *bias,
                            RtAct act, float *dst, int64_t ld, int nr)
{
	for (int64_t j = 0; j < nm; j++) {
		float b = bias ? bias[j] : 0.0f;
		for (int64_t i = 0; i < nv; i++)
			dst[j * ld + i] = act_apply(act, tile[i * nr + j] + b);
	}
}

static void store_t_8(const float *tile, int64_t nv, int64_t nm, const float *bias,
                      RtAct act, float *dst, int64_t ld)
{
	store_t_generic(tile, nv, nm, bias, act, dst, ld, 8);
}

static void chl_generic(const float *src, int64_t nch, int64_t stride, int64_t npix, float *dst,
                        int64_t ld)
{
	for (int64_t q = 0; q < npix; q++)
		for (int64_t ch = 0; ch < nch; ch++)
			dst[q * ld + ch] = src[ch * stride + q];
}

#ifdef RT_X86
/* AVX2 + FMA: 6 x 16, twelve ymm accumulators. */
#define A2_ROW(i)                                                                   \
	{                                                                               \
		__m256 a = _mm256_broadcast_ss(a##i + ci);                                  \
		c##i##0 = _mm256_fmadd_ps(a, b0, c##i##0);                                  \
		c##i##1 = _mm256_fmadd_ps(a, b1, c##i##1);                                  \
	}
#define A2_STORE(i)                                                                 \
	_mm256_storeu_ps(tile + (i) * 16, c##i##0);                                     \
	_mm256_storeu_ps(tile + (i) * 16 + 8, c##i##1);

__attribute__((target("avx2,fma")))
static void kern_avx2(int64_t T, const int64_t *toff, int64_t C, int64_t cs,
                      const float *const *rows, const float *bp, float *tile)
{
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
	__m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	for (int64_t t = 0; t < T; t++) {
		const float *a0 = rows[0] + toff[t], *a1 = rows[1] + toff[t], *a2 = rows[2] + toff[t];
		const float *a3 = rows[3] + toff[t], *a4 = rows[4] + toff[t], *a5 = rows[5] + toff[t];
		for (int64_t c = 0, ci = 0; c < C; c++, ci += cs, bp += 16) {
			__m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
			A2_ROW(0) A2_ROW(1) A2_ROW(2) A2_ROW(3) A2_ROW(4) A2_ROW(5)
		}
	}
	A2_STORE(0) A2_STORE(1) A2_STORE(2) A2_STORE(3) A2_STORE(4) A2_STORE(5)
}

/* Column j of the tile (stride 16) gathered into lanes 0..nv-1. */
__attribute__((target("avx2,fma")))
static void store_t_avx2(const float *tile, int64_t nv, int64_t nm, const float *bias,
                         RtAct act, float *dst, int64_t ld)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nv), lane);
	const __m256i idx = _mm256_mullo_epi32(lane, _mm256_set1_epi32(16));
	const __m256 zero = _mm256_setzero_ps();
	for (int64_t j = 0; j < nm; j++) {
		__m256 v = _mm256_mask_i32gather_ps(zero, tile + j, idx, _mm256_castsi256_ps(mask), 4);
		v = _mm256_add_ps(v, _mm256_set1_ps(bias ? bias[j] : 0.0f));
		if (act == RT_ACT_RELU)
			v = _mm256_max_ps(zero, v); /* NaN and -0 pass like v < 0 ? 0 : v */
		_mm256_maskstore_ps(dst + j * ld, mask, v);
	}
}

/* Eight channels at a time gathered (stride apart), the rest one by one. */
__attribute__((target("avx2,fma")))
static void chl_avx2(const float *src, int64_t nch, int64_t stride, int64_t npix, float *dst,
                     int64_t ld)
{
	const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
	                                       _mm256_set1_epi32((int)stride));
	int64_t cv = nch / 8 * 8;
	for (int64_t q = 0; q < npix; q++, dst += ld) {
		for (int64_t ch = 0; ch < cv; ch += 8)
			_mm256_storeu_ps(dst + ch, _mm256_i32gather_ps(src + ch * stride + q, idx, 4));
		for (int64_t ch = cv; ch < nch; ch++)
			dst[ch] = src[ch * stride + q];
	}
}

/* AVX-512: 8 x 32, sixteen zmm accumulators. */
#define A5_ROW(i)                                                                   \
	{                                                                               \
		__m512 a = _mm512_set1_ps(a##i[ci]);                                        \
		c##i##0 = _mm512_fmadd_ps(a, b0, c##i##0);                                  \
		c##i##1 = _mm512_fmadd_ps(a, b1, c##i##1);                                  \
	}
#define A5_STORE(i)                                                                 \
	_mm512_storeu_ps(tile + (i) * 32, c##i##0);                                     \
	_mm512_storeu_ps(tile + (i) * 32 + 16, c##i##1);

__attribute__((target("avx512f")))
static void kern_avx512(int64_t T, const int64_t *toff, int64_t C, int64_t cs,
                        const float *const *rows, const float *bp, float *tile)
{
	__m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
	__m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
	__m512 c60 = c00, c61 = c00, c70 = c00, c71 = c00;
	for (int64_t t = 0; t < T; t++) {
		int64_t o = toff[t];
		const float *a0 = rows[0] + o, *a1 = rows[1] + o, *a2 = rows[2] + o, *a3 = rows[3] + o;
		const float *a4 = rows[4] + o, *a5 = rows[5] + o, *a6 = rows[6] + o, *a7 = rows[7] + o;
		for (int64_t c = 0, ci = 0; c < C; c++, ci += cs, bp += 32) {
			__m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
			A5_ROW(0) A5_ROW(1) A5_ROW(2) A5_ROW(3) A5_ROW(4) A5_ROW(5) A5_ROW(6) A5_ROW(7)
		}
	}
	A5_STORE(0) A5_STORE(1) A5_STORE(2) A5_STORE(3)
	A5_STORE(4) A5_STORE(5) A5_STORE(6) A5_STORE(7)
}

__attribute__((target("avx512f,avx512vl")))
static void store_t_avx512(const float *tile, int64_t nv, int64_t nm, const float *bias,
                           RtAct act, float *dst, int64_t ld)
{
	const __m256i idx = _mm256_setr_epi32(0, 32, 64, 96, 128, 160, 192, 224);
	const __mmask8 mask = (__mmask8)((1u << nv) - 1);
	const __m256 zero = _mm256_setzero_ps();
	for (int64_t j = 0; j < nm; j++) {
		__m256 v = _mm256_mmask_i32gather_ps(zero, mask, idx, tile + j, 4);
		v = _mm256_add_ps(v, _mm256_set1_ps(bias ? bias[j] : 0.0f));
		if (act == RT_ACT_RELU)
			v = _mm256_max_ps(zero, v); /* NaN and -0 pass like v < 0 ? 0 : v */
		_mm256_mask_storeu_ps(dst + j * ld, mask, v);
	}
}

/* Sixteen channels at a time gathered (stride apart), the tail masked. */
__attribute__((target("avx512f,avx512vl")))
static void chl_avx512(const float *src, int64_t nch, int64_t stride, int64_t npix, float *dst,
                       int64_t ld)
{
	const __m512i idx = _mm512_mullo_epi32(
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		_mm512_set1_epi32((int)stride));
	int64_t cv = nch / 16 * 16;
	__mmask16 tail = (__mmask16)((1u << (nch - cv)) - 1);
	for (int64_t q = 0; q < npix; q++, dst += ld) {
		for (int64_t ch = 0; ch < cv; ch += 16)
			_mm512_storeu_ps(dst + ch, _mm512_i32gather_ps(idx, src + ch * stride + q, 4));
		if (tail)
			_mm512_mask_storeu_ps(dst + cv, tail,
			                      _mm512_mask_i32gather_ps(_mm512_setzero_ps(), tail, idx,
			                                               src + cv * stride + q, 4));
	}
}
#endif

static const Kern kerns[RT_ISA_COUNT] = {
	[RT_ISA_GENERIC] = {4, 8, kern_generic, store_t_8, chl_generic},
#ifdef RT_X86
	[RT_ISA_AVX2] = {6, 16, kern_avx2, store_t_avx2, chl_avx2},
	[RT_ISA_AVX512] = {8, 32, kern_avx512, store_t_avx512, chl_avx512},
#endif
};

RtChlFn *rt_chl_fn(RtIsa isa, int64_t max_offset)
{
	/* the gathers' lane offsets (lane * stride) are int32 */
	return max_offset > INT32_MAX / 16 ? chl_generic : kerns[isa].chl;
}

/* ---- instruction set selection ------------------------------------------------------------ */

static const char *const isa_names[RT_ISA_COUNT] = {"generic", "avx2", "avx512"};
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static RtIsa isa_cur;

int rt_isa_supported(RtIsa isa)
{
	switch (isa) {
	case RT_ISA_GENERIC:
		return 1;
#ifdef RT_X86
	case RT_ISA_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
	case RT_ISA_AVX512:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#endif
	default:
		return 0;
	}
}

const char *rt_isa_name(RtIsa isa)
{
	return isa >= 0 && isa < RT_ISA_COUNT ? isa_names[isa] : "?";
}

/* The best supported set, or the one SQC_ISA names (generic, avx2, avx512) if supported:
 * a knob to compare kernels, not a setting users need. */
static void isa_init(void)
{
	isa_cur = RT_ISA_GENERIC;
	for (int i = RT_ISA_COUNT - 1; i > 0; i--)
		if (rt_isa_supported((RtIsa)i)) {
			isa_cur = (RtIsa)i;
			break;
		}
	const char *env = getenv("SQC_ISA");
	for (int i = 0; env && i < RT_ISA_COUNT; i++)
		if (!strcmp(env, isa_names[i]) && rt_isa_supported((RtIsa)i))
			isa_cur = (RtIsa)i;
}

RtIsa rt_isa_get(void)
{
	pthread_once(&isa_once, isa_init);
	return isa_cur;
}

void rt_isa_set(RtIsa isa)
{
	pthread_once(&isa_once, isa_init);
	assert(rt_isa_supported(isa));
	isa_cur = isa;
}

/* Tasks for work of `macs` multiply-accumulates in `units` independent pieces. */
static int task_cap(int64_t macs, int64_t units)
{
	if (macs < PAR_MIN_MACS)
		return 1;
	return units < RT_MAX_THREADS ? (int)units : RT_MAX_THREADS;
}

/* ---- convolution ------------------------------------------------------------------------ */

typedef struct {
	Kern k;
	int64_t n, c, m, cg, mg, group, kvol, invol, outvol;
	int64_t npanel;     /* NR-channel panels per group */
	int64_t ntile;      /* MR-pixel tiles per image */
	int64_t plane;      /* pixels of the padded image */
	int copy;           /* 1: read a copy of each image (padded and/or channels last) */
	int64_t ps, cs;     /* strides of a pixel and a channel in the image read */
	int64_t pin[3];     /* padded input extent */
	int64_t pb[3];      /* padding at the start of each dim */
	const float *x, *b;
	float *y;
	RtAct act;
	const float *wp;    /* [group][npanel][kvol][cg][nr] */
	const int64_t *pix; /* [outvol]: offset of output pixel's first tap in a channel plane */
	const int64_t *toff;/* [kvol]: offset of each tap from the first */
} ConvJob;

/* Image x [c][in...] into xp with the padding (the border was zeroed once) and the strides
 * ps, cs: one run per line along the last dim of extent > 1 (geom3 appends size-1 dims). */
static void copy_image(const ConvJob *J, const int64_t *in, const float *x, float *xp)
{
	int last = 2;
	while (last > 0 && J->pin[last] == 1)
		last--;
	int64_t n0 = last > 0 ? in[0] : 1, n1 = last > 1 ? in[1] : 1;
	int64_t run = in[last];
	const float *src = x;
	for (int64_t i0 = 0; i0 < n0; i0++)
		for (int64_t i1 = 0; i1 < n1; i1++, src += run) {
			int64_t q0 = i0 + J->pb[0], q1 = i1 + J->pb[1];
			int64_t q = last == 2 ? (q0 * J->pin[1] + q1) * J->pin[2] + J->pb[2]
			          : last == 1 ? q0 * J->pin[1] + J->pb[1]
			                      : J->pb[0];
			if (J->cs == 1) {
				J->k.chl(src, J->c, J->invol, run, xp + q * J->ps, J->c);
			} else {
				for (int64_t ch = 0; ch < J->c; ch++)
					memcpy(xp + ch * J->cs + q, src + ch * J->invol,
					       sizeof(float) * (size_t)run);
			}
		}
}

typedef struct {
	const ConvJob *J;
	int64_t in[3];
	RtSplit split;      /* over the (image, tile) units */
} ConvTask;

/* Units are (image, tile of MR output pixels), taken in chunks of at most one image's
 * tiles; a task keeps the copy of the image it last read. */
static void conv_task(void *ctx, int tid, int nth)
{
	ConvTask *ct = ctx;
	const ConvJob *J = ct->J;
	int mr = J->k.mr, nr = J->k.nr;
	int64_t u0, u1;
	if (!rt_split_next(&ct->split, &u0, &u1))
		return;
	float *xp = NULL;
	if (J->copy) {
		size_t sz = sizeof(float) * (size_t)(J->c * J->plane);
		xp = aalloc(sz);
		memset(xp, 0, sz);
	}
	const float *rows[16];
	float *tile = aalloc(sizeof(float) * (size_t)(mr * nr));
	int64_t cur = -1;
	const float *xi = NULL;
	do
	for (int64_t u = u0; u < u1; u++) {
		int64_t img = u / J->ntile, p0 = u % J->ntile * mr;
		int64_t nv = J->outvol - p0 < mr ? J->outvol - p0 : mr;
		if (img != cur) {
			cur = img;
			xi = J->x + img * J->c * J->invol;
			if (xp) {
				copy_image(J, ct->in, xi, xp);
				xi = xp;
			}
		}
		for (int64_t grp = 0; grp < J->group; grp++) {
			for (int i = 0; i < mr; i++)
				rows[i] = xi + grp * J->cg * J->cs + J->pix[p0 + (i < nv ? i : nv - 1)];
			for (int64_t pn = 0; pn < J->npanel; pn++) {
				const float *wp = J->wp + (grp * J->npanel + pn) * J->kvol * J->cg * nr;
				J->k.fn(J->kvol, J->toff, J->cg, J->cs, rows, wp, tile);
				int64_t m0 = grp * J->mg + pn * nr;
				int64_t nm = J->mg - pn * nr < nr ? J->mg - pn * nr : nr;
				J->k.store_t(tile, nv, nm, J->b ? J->b + m0 : NULL, J->act,
				             J->y + (img * J->m + m0) * J->outvol + p0, J->outvol);
			}
		}
	}
	while (rt_split_next(&ct->split, &u0, &u1));
	free(tile);
	free(xp);
}

/* y = act(y) over n floats. */
static void act_all(RtAct act, float *y, int64_t n)
{
	if (act != RT_ACT_NONE)
		for (int64_t i = 0; i < n; i++)
			y[i] = act_apply(act, y[i]);
}

void rt_igemm_conv(const RtConv *p, const float *x, const float *w, const float *b, float *y,
                   RtAct act)
{
	assert(p->nsp >= 1 && p->nsp <= RT_MAX_SPATIAL);
	assert(p->group >= 1 && p->c % p->group == 0 && p->m % p->group == 0);
	RtConvGeom3 g = rt_conv_geom3(p);
	ConvJob J = {0};
	J.k = kerns[rt_isa_get()];
	J.n = p->n;
	J.c = p->c;
	J.m = p->m;
	J.group = p->group;
	J.cg = p->c / p->group;
	J.mg = p->m / p->group;
	J.kvol = g.k[0] * g.k[1] * g.k[2];
	J.invol = g.in[0] * g.in[1] * g.in[2];
	J.outvol = g.out[0] * g.out[1] * g.out[2];
	if (J.n == 0 || J.m == 0 || J.outvol == 0)
		return;
	int odd = J.kvol == 0 || J.cg == 0;
	for (int d = 0; d < 3; d++)
		odd |= g.pad[d] < 0 || g.stride[d] < 1 || g.dil[d] < 1;
	if (odd) { /* an empty reduction, or not an ONNX convolution: the reference */
		rt_conv_ref(p, x, w, b, y);
		act_all(act, y, J.n * J.m * J.outvol);
		return;
	}
	int mr = J.k.mr, nr = J.k.nr;
	assert(mr <= 16);
	/* Padded extent: what the windows reach, from -pad_begin. */
	J.plane = 1;
	int pad = 0;
	for (int d = 0; d < 3; d++) {
		int64_t last = (g.out[d] - 1) * g.stride[d] + (g.k[d] - 1) * g.dil[d] - g.pad[d];
		int64_t pe = last >= g.in[d] ? last - g.in[d] + 1 : 0;
		J.pb[d] = g.pad[d];
		J.pin[d] = g.pad[d] + g.in[d] + pe;
		pad |= g.pad[d] > 0 || pe > 0;
		J.plane *= J.pin[d];
	}
	/* Channels last when there are channels: a pixel's channels then share cache lines,
	 * which the micro-kernel's broadcasts read 25% faster than one line per channel. */
	J.copy = pad || J.c > 1;
	J.ps = J.c > 1 ? J.c : 1;
	J.cs = J.c > 1 ? 1 : J.plane;
	J.k.chl = rt_chl_fn(rt_isa_get(), J.invol);
	J.npanel = (J.mg + nr - 1) / nr;
	J.ntile = (J.outvol + mr - 1) / mr;
	J.x = x;
	J.b = b;
	J.y = y;
	J.act = act;

	int64_t *pix = xmalloc(sizeof *pix * (size_t)J.outvol);
	for (int64_t o = 0; o < J.outvol; o++) {
		int64_t o2 = o % g.out[2], o1 = o / g.out[2] % g.out[1], o0 = o / (g.out[1] * g.out[2]);
		pix[o] = ((o0 * g.stride[0] * J.pin[1] + o1 * g.stride[1]) * J.pin[2] +
		          o2 * g.stride[2]) * J.ps;
	}
	int64_t *toff = xmalloc(sizeof *toff * (size_t)J.kvol);
	for (int64_t t = 0; t < J.kvol; t++) {
		int64_t k2 = t % g.k[2], k1 = t / g.k[2] % g.k[1], k0 = t / (g.k[1] * g.k[2]);
		toff[t] = ((k0 * g.dil[0] * J.pin[1] + k1 * g.dil[1]) * J.pin[2] + k2 * g.dil[2]) * J.ps;
	}
	J.pix = pix;
	J.toff = toff;

	/* Weights [m][cg][kvol] -> [group][panel][t][cg][nr], zero past the last channel. */
	size_t wsz = (size_t)(J.group * J.npanel * J.kvol * J.cg * nr);
	float *wp = aalloc(sizeof(float) * wsz);
	for (int64_t grp = 0; grp < J.group; grp++)
	for (int64_t pn = 0; pn < J.npanel; pn++) {
		float *dst = wp + (grp * J.npanel + pn) * J.kvol * J.cg * nr;
		for (int64_t t = 0; t < J.kvol; t++)
		for (int64_t ci = 0; ci < J.cg; ci++, dst += nr)
			for (int j = 0; j < nr; j++) {
				int64_t mo = pn * nr + j;
				dst[j] = mo < J.mg ? w[((grp * J.mg + mo) * J.cg + ci) * J.kvol + t] : 0.0f;
			}
	}
	J.wp = wp;

	ConvTask ct = {.J = &J, .in = {g.in[0], g.in[1], g.in[2]}};
	rt_split_init(&ct.split, J.n * J.ntile, 8, J.ntile);
	int64_t macs = J.n * J.outvol * J.m * J.cg * J.kvol;
	rt_parallel(conv_task, &ct, task_cap(macs, J.n * J.ntile));
	free(wp);
	free(toff);
	free(pix);
}

/* ---- Gemm ------------------------------------------------------------------------------- */

typedef struct {
	Kern k;
	int64_t m, n, kd, ntile, npanel;
	const float *a;     /* A as stored */
	int64_t rs, cs;     /* op(A)[i][k] = a[i*rs + k*cs] */
	const float *bp;    /* [npanel][kd][nr] */
	const float *c;
	int64_t c_rs, c_cs;
	float alpha, beta;
	float *y;
	RtAct act;
	RtSplit split;      /* over the (tile, panel) units */
} GemmJob;

/* Units are (tile of MR rows, panel of NR columns), tile-major, taken in chunks. */
static void gemm_task(void *ctx, int tid, int nth)
{
	GemmJob *J = ctx;
	int mr = J->k.mr, nr = J->k.nr;
	int64_t u0, u1;
	if (!rt_split_next(&J->split, &u0, &u1))
		return;
	const float *rows[16];
	const int64_t toff[1] = {0};
	float *tile = aalloc(sizeof(float) * (size_t)(mr * nr));
	do
	for (int64_t u = u0; u < u1; u++) {
		int64_t r0 = u / J->npanel * mr, pn = u % J->npanel, c0 = pn * nr;
		int64_t nv = J->m - r0 < mr ? J->m - r0 : mr;
		int64_t nc = J->n - c0 < nr ? J->n - c0 : nr;
		for (int i = 0; i < mr; i++)
			rows[i] = J->a + (r0 + (i < nv ? i : nv - 1)) * J->rs;
		J->k.fn(1, toff, J->kd, J->cs, rows, J->bp + pn * J->kd * nr, tile);
		for (int64_t i = 0; i < nv; i++) {
			float *dst = J->y + (r0 + i) * J->n + c0;
			const float *ci = J->c ? J->c + (r0 + i) * J->c_rs + c0 * J->c_cs : NULL;
			for (int64_t j = 0; j < nc; j++) {
				float v = J->alpha * tile[i * nr + j];
				if (ci)
					v += J->beta * ci[j * J->c_cs];
				dst[j] = act_apply(J->act, v);
			}
		}
	}
	while (rt_split_next(&J->split, &u0, &u1));
	free(tile);
}

void rt_igemm_gemm(const RtGemm *p, const float *a, const float *b, const float *c, float *y,
                   RtAct act)
{
	GemmJob J = {0};
	J.k = kerns[rt_isa_get()];
	J.m = p->m;
	J.n = p->n;
	J.kd = p->k;
	if (J.m == 0 || J.n == 0)
		return;
	if (J.kd == 0) { /* an empty sum */
		rt_gemm_ref(p, a, b, c, y);
		act_all(act, y, J.m * J.n);
		return;
	}
	int mr = J.k.mr, nr = J.k.nr;
	assert(mr <= 16);
	J.ntile = (J.m + mr - 1) / mr;
	J.npanel = (J.n + nr - 1) / nr;
	J.c = c;
	J.c_rs = p->c_rs;
	J.c_cs = p->c_cs;
	J.alpha = p->alpha;
	J.beta = p->beta;
	J.y = y;
	J.act = act;

	J.a = a;
	J.rs = p->trans_a ? 1 : J.kd;
	J.cs = p->trans_a ? J.m : 1;
	/* op(B)[k][j] = b[k*n + j], or b[j*k_dim + k] when trans_b. */
	float *bp = aalloc(sizeof(float) * (size_t)(J.npanel * J.kd * nr));
	for (int64_t pn = 0; pn < J.npanel; pn++) {
		float *dst = bp + pn * J.kd * nr;
		for (int64_t k = 0; k < J.kd; k++, dst += nr)
			for (int j = 0; j < nr; j++) {
				int64_t col = pn * nr + j;
				dst[j] = col >= J.n ? 0.0f : p->trans_b ? b[col * J.kd + k] : b[k * J.n + col];
			}
	}
	J.bp = bp;

	rt_split_init(&J.split, J.ntile * J.npanel, 8, 0);
	rt_parallel(gemm_task, &J, task_cap(J.m * J.n * J.kd, J.ntile * J.npanel));
	free(bp);
}
