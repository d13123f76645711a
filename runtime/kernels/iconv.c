/* runtime/kernels/iconv.c: the 8-bit convolution with output positions in the vector
 * lanes (rtk_iconv; the weight layout and its repacker are in kernels.h).
 *
 * Per call (step 1 for every group: rtk_iconv_prep; then steps 2-3 per work unit, a
 * group's weight tile: rtk_iconv_part, which threads share) and group:
 *   1. the group's input channels are quantized to code bytes a = u + z, four channels per
 *      32-bit word, into the padded image split into its stride phases: word
 *      [c4][py*sw + px][i][j] holds padded pixel (i*sh + py, j*sw + px) (hpp x wpp words per
 *      phase). Output position (oy, ox) then reads tap (r, s) at phase
 *      ((r*dh) % sh, (s*dw) % sw), word (oy + r*dh/sh) * wpp + ox + s*dw/sw: with the
 *      "flat" position t = oy*wpp + ox, every tap of consecutive t is consecutive words.
 *      The kernel computes all t in [0, (oh-1)*wpp + ow) and keeps those with
 *      t % wpp < ow (the others wrap around a row: (wpp - ow) / wpp of the work is lost,
 *      a few percent on 3x3 layers of 14 pixels and more);
 *   2. per weight tile (RTK_IC_NC = 8 channels) and block of IC_PB flat positions, a
 *      register tile of 8 channels x IC_NV vectors of positions: per step (tap, channel
 *      quad) one load per vector and one broadcast weight word per channel:
 *        AVX-512 VNNI: vpdpbusd (u8 x s8, four products into each 32-bit lane, exact);
 *        AVX-VNNI (the avxvnni level): the same on ymm, in the AVX2 tile below;
 *        AVX2:  vpmaddubsw (u8 x s8 -> pairs in s16, |pair| <= 510) added in 16-bit lanes
 *               for at most 64 steps (|lane| <= 32640: the whole window, a row of taps or
 *               a tap's channel quads), widened by vpmaddwd; two passes of 4 channels x
 *               2 vectors, so that each broadcast serves two multiplies;
 *        NEON + dotprod: SDOT by element (s8 x s8);
 *        NEON:  SMLAL/SMLAL2 (|product| <= 128) for at most 255 steps, widened by SADDLP;
 *      S = D - z * sum_j t_j (exact: |S| < 2^31 for k < 2^23);
 *   3. y = fl(fl(fl(scale * step) * fl(S)) + bias), relu as `o < 0 ? 0 : o`, in vector
 *      form; the kept positions of a vector are consecutive outputs (the rows of y follow
 *      each other), stored compressed.
 * The scalar twin computes the same integers on the same packed words, so outputs are
 * bit-identical.
 */
#include "rtk_internal.h"

#if defined(__AVX512VNNI__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define IC_AVX512 1
#define IC_VL 16
#define IC_NV 2
#define IC_SIGNED 0
#elif defined(__AVX2__)
#include <immintrin.h>
#define IC_AVX2 1
#define IC_VL 8
#define IC_NV 2
#define IC_SIGNED 0
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define IC_NEON 1
#define IC_VL 4
#if defined(__ARM_FEATURE_DOTPROD)
#define IC_NV 2
#else
#define IC_NV 1
#endif
#define IC_SIGNED 1 /* SDOT and SMLAL read both operands as signed bytes */
#else
#define IC_VL 8
#define IC_NV 1
#define IC_SIGNED 0
#endif
#define IC_PB (IC_VL * IC_NV) /* flat positions per block */
#define IC_NC RTK_IC_NC

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the activation words assume little endian"
#endif

/* Zero point of the activation bytes: unsigned a = u + qn, or signed a = u + qn - 128. */
static inline int32_t ic_z(const RtkQConv *p)
{
	return IC_SIGNED ? p->qn - 128 : p->qn;
}

typedef struct {
	int32_t hpp, wpp, c4n, npos; /* phase rows, columns; channel quads; flat positions */
	size_t phase, region;        /* words per phase, per channel quad */
} IcGeo;

static inline IcGeo ic_geo(const RtkQConv *p)
{
	const RtkConv *g = &p->g;
	IcGeo G;
	G.hpp = (rtk_hwc_hp(g) + g->sh - 1) / g->sh;
	G.wpp = (rtk_hwc_wp(g) + g->sw - 1) / g->sw;
	G.c4n = rtk_ic_c4n(p);
	G.npos = (g->oh - 1) * G.wpp + g->ow;
	G.phase = (size_t)G.hpp * G.wpp;
	G.region = (size_t)g->sh * g->sw * G.phase;
	return G;
}

/* Scratch (shared by the threads of NAME_run_parallel): the activation words of every
 * group, then IC_PB words of slack (the last block reads past the last phase). */
size_t rtk_iconv_shared(const RtkQConv *p)
{
	IcGeo G = ic_geo(p);
	return rtk_align64(((size_t)p->g.group * G.c4n * G.region + IC_PB) * 4);
}

size_t rtk_iconv_priv(const RtkQConv *p)
{
	(void)p;
	return 0;
}

size_t rtk_iconv_scratch(const RtkQConv *p)
{
	return rtk_iconv_shared(p);
}

/* Work units: (group, chunk of position blocks, weight tile), in that order, so that
 * consecutive units (one thread's) share their positions: a thread reads the activation
 * words of its part of the image and writes the outputs of its rows. */
#define IC_CHUNKS 8
static inline int32_t ic_nblk(const IcGeo *G)
{
	return (G->npos + IC_PB - 1) / IC_PB;
}

static inline int32_t ic_nch(const IcGeo *G)
{
	return RTK_MIN(IC_CHUNKS, ic_nblk(G));
}

int64_t rtk_iconv_units(const RtkQConv *p)
{
	IcGeo G = ic_geo(p);
	return (int64_t)p->g.group * ic_nch(&G) * rtk_ic_tiles(p);
}

/* Step 1 for group grp (see the file comment). */
static inline __attribute__((always_inline)) void
ic_pack(const RtkQConv *p, const IcGeo *G, const float *x, int32_t grp, uint32_t *A)
{
	const RtkConv *g = &p->g;
	const int32_t cg = g->c / g->group, hw = g->h * g->w, z = ic_z(p);
	const uint32_t zw = (uint32_t)(uint8_t)z * 0x01010101u;
	const float inv = 1.0f / p->step, lo = (float)-p->qn, hi = (float)p->qp;
	const size_t nw = (size_t)G->c4n * G->region + IC_PB;
	for (size_t i = 0; i < nw; i++)
		A[i] = zw;
	for (int32_t c4 = 0; c4 < G->c4n; c4++) {
		const int32_t nq = RTK_MIN(4, cg - 4 * c4);
		const float *x0 = x + (size_t)(grp * cg + 4 * c4) * hw;
		uint32_t *Ac = A + (size_t)c4 * G->region;
		for (int32_t iy = 0; iy < g->h; iy++) {
			const int32_t yy = iy + g->pt;
			uint32_t *Ar = Ac + (size_t)(yy % g->sh) * g->sw * G->phase +
			               (size_t)(yy / g->sh) * G->wpp;
			const float *xr = x0 + (size_t)iy * g->w;
			for (int32_t ix = 0; ix < g->w; ix++) {
				const int32_t xx = ix + g->pl;
				uint32_t wd = 0;
				for (int32_t q = 0; q < 4; q++) {
					uint32_t b = q < nq ? rtk_quant_code(xr[(size_t)q * hw + ix], inv, lo, hi, z)
					                    : (uint32_t)(uint8_t)z;
					wd |= b << (8 * q);
				}
				Ar[(size_t)(xx % g->sw) * G->phase + xx / g->sw] = wd;
			}
		}
	}
}

/* The kept lanes of one block: per vector, the output index of its first kept lane, their
 * count, mask and lane list. */
typedef struct {
	int32_t o[IC_NV], n[IC_NV];
	uint32_t mask[IC_NV];
	int32_t idx[IC_NV][IC_VL];
} IcKeep;

/* Block of flat positions t0 ..: (oy, ox) of t0 given, advanced past the block. */
static inline void ic_keep(const RtkQConv *p, const IcGeo *G, int32_t t0, int32_t *oy,
                           int32_t *ox, IcKeep *K)
{
	for (int32_t v = 0; v < IC_NV; v++) {
		K->n[v] = 0;
		K->mask[v] = 0;
		K->o[v] = 0;
		for (int32_t i = 0; i < IC_VL; i++) {
			const int32_t t = t0 + v * IC_VL + i;
			if (t < G->npos && *ox < p->g.ow) {
				if (!K->n[v])
					K->o[v] = *oy * p->g.ow + *ox;
				K->idx[v][K->n[v]++] = i;
				K->mask[v] |= 1u << i;
			}
			if (++*ox == G->wpp)
				*ox = 0, ++*oy;
		}
	}
}

/* The taps' word offsets are (r, s)-dependent constants; c4 adds region words. */
static inline size_t ic_tap(const RtkQConv *p, const IcGeo *G, int32_t r, int32_t s)
{
	const RtkConv *g = &p->g;
	const int32_t ry = r * g->dh, sx = s * g->dw;
	return ((size_t)(ry % g->sh) * g->sw + (size_t)(sx % g->sw)) * G->phase +
	       (size_t)(ry / g->sh) * G->wpp + (size_t)(sx / g->sw);
}

/* The scalar twin of one block: D[ch][lane]. */
static void ic_tile_scalar(const RtkQConv *p, const IcGeo *G, const uint32_t *A,
                           const uint32_t *wt, int32_t t0, int32_t D[IC_NC][IC_PB])
{
	const RtkConv *g = &p->g;
	for (int32_t ch = 0; ch < IC_NC; ch++)
		for (int32_t i = 0; i < IC_PB; i++)
			D[ch][i] = 0;
	const uint32_t *w = wt;
	for (int32_t r = 0; r < g->kh; r++)
	for (int32_t s = 0; s < g->kw; s++) {
		const uint32_t *a = A + ic_tap(p, G, r, s) + t0;
		for (int32_t c4 = 0; c4 < G->c4n; c4++, a += G->region, w += IC_NC)
			for (int32_t ch = 0; ch < IC_NC; ch++)
				for (int32_t i = 0; i < IC_PB; i++) {
					int32_t d = 0;
					for (int32_t q = 0; q < 4; q++) {
						const int32_t ab = IC_SIGNED ? (int32_t)(int8_t)(a[i] >> (8 * q))
						                             : (int32_t)(uint8_t)(a[i] >> (8 * q));
						d += ab * (int32_t)(int8_t)(w[ch] >> (8 * q));
					}
					D[ch][i] += d;
				}
	}
}

static void ic_out_scalar(const RtkQConv *p, int32_t D[IC_NC][IC_PB], const IcKeep *K,
                          int32_t nc, const int32_t *sumt, const float *a8, const float *b8,
                          float *ym, int32_t npos)
{
	const int32_t z = ic_z(p);
	for (int32_t ch = 0; ch < nc; ch++)
		for (int32_t v = 0; v < IC_NV; v++)
			for (int32_t k = 0; k < K->n[v]; k++) {
				const int32_t sv = D[ch][v * IC_VL + K->idx[v][k]] - z * sumt[ch];
				ym[(size_t)ch * npos + K->o[v] + k] = rtk_qout(sv, a8[ch], b8[ch], p->g.relu);
			}
}

#if defined(IC_AVX512)
static inline __attribute__((always_inline)) void
ic_tile_simd(const RtkQConv *p, const IcGeo *G, const uint32_t *A, const uint32_t *wt,
             int32_t t0, __m512i acc[IC_NC][IC_NV])
{
	const RtkConv *g = &p->g;
	for (int32_t ch = 0; ch < IC_NC; ch++)
		for (int32_t v = 0; v < IC_NV; v++)
			acc[ch][v] = _mm512_setzero_si512();
	const uint32_t *w = wt;
	for (int32_t r = 0; r < g->kh; r++)
	for (int32_t s = 0; s < g->kw; s++) {
		const uint32_t *a = A + ic_tap(p, G, r, s) + t0;
		for (int32_t c4 = 0; c4 < G->c4n; c4++, a += G->region, w += IC_NC) {
			__m512i av[IC_NV];
			for (int32_t v = 0; v < IC_NV; v++)
				av[v] = _mm512_loadu_si512((const void *)(a + v * IC_VL));
			for (int32_t ch = 0; ch < IC_NC; ch++) {
				const __m512i wb = _mm512_set1_epi32((int)w[ch]);
				for (int32_t v = 0; v < IC_NV; v++)
					acc[ch][v] = _mm512_dpbusd_epi32(acc[ch][v], av[v], wb);
			}
		}
	}
}

static inline __attribute__((always_inline)) void
ic_out_simd(const RtkQConv *p, __m512i acc[IC_NC][IC_NV], const IcKeep *K, int32_t nc,
            const int32_t *sumt, const float *a8, const float *b8, float *ym, int32_t npos)
{
	const int32_t z = ic_z(p);
	const __m512 zero = _mm512_setzero_ps();
	for (int32_t ch = 0; ch < nc; ch++) {
		const __m512i zs = _mm512_set1_epi32(z * sumt[ch]);
		const __m512 av = _mm512_set1_ps(a8[ch]), bv = _mm512_set1_ps(b8[ch]);
		for (int32_t v = 0; v < IC_NV; v++) {
			if (!K->n[v])
				continue;
			__m512 f = _mm512_mul_ps(av, _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[ch][v], zs)));
			f = _mm512_add_ps(f, bv);
			if (p->g.relu)
				f = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(f, zero, _CMP_LT_OQ), f, zero);
			float *dst = ym + (size_t)ch * npos + K->o[v];
			if (K->n[v] == IC_VL)
				_mm512_storeu_ps(dst, f);
			else
				_mm512_mask_storeu_ps(dst, (__mmask16)((1u << K->n[v]) - 1),
				                      _mm512_maskz_compress_ps((__mmask16)K->mask[v], f));
		}
	}
}
#define IC_ACC __m512i
#elif defined(IC_AVX2)
static inline __attribute__((always_inline)) void
ic_tile_simd(const RtkQConv *p, const IcGeo *G, const uint32_t *A, const uint32_t *wt,
             int32_t t0, __m256i acc[IC_NC][IC_NV])
{
	const RtkConv *g = &p->g;
#if defined(__AVXVNNI__)
	/* AVX-VNNI: vpdpbusd on ymm straight into 32-bit lanes; two passes of 4 channels x
	 * 2 vectors as below */
	for (int32_t h = 0; h < 2; h++) {
		__m256i a32[4][2];
		for (int32_t ch = 0; ch < 4; ch++)
			a32[ch][0] = a32[ch][1] = _mm256_setzero_si256();
		const uint32_t *w = wt + 4 * h;
		for (int32_t r = 0; r < g->kh; r++)
		for (int32_t s = 0; s < g->kw; s++) {
			const uint32_t *a = A + ic_tap(p, G, r, s) + t0;
			for (int32_t c4 = 0; c4 < G->c4n; c4++, a += G->region, w += IC_NC) {
				const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)a);
				const __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(a + 8));
				for (int32_t ch = 0; ch < 4; ch++) {
					const __m256i wb = _mm256_set1_epi32((int)w[ch]);
					a32[ch][0] = _mm256_dpbusd_avx_epi32(a32[ch][0], a0, wb);
					a32[ch][1] = _mm256_dpbusd_avx_epi32(a32[ch][1], a1, wb);
				}
			}
		}
		for (int32_t ch = 0; ch < 4; ch++)
			for (int32_t v = 0; v < 2; v++)
				acc[4 * h + ch][v] = a32[ch][v];
	}
#else
	const __m256i ones = _mm256_set1_epi16(1);
	/* two passes of 4 channels x 2 vectors of positions: each broadcast weight word
	 * (an FP-pipe op on AMD) serves two vpmaddubsw, and 8 + 2 + 1 registers stay live */
	for (int32_t h = 0; h < 2; h++) {
		__m256i c16[4][2], a32[4][2];
		for (int32_t ch = 0; ch < 4; ch++)
			for (int32_t v = 0; v < 2; v++) {
				a32[ch][v] = _mm256_setzero_si256();
				c16[ch][v] = _mm256_setzero_si256();
			}
		const uint32_t *w = wt + 4 * h;
		/* 16-bit lanes hold 64 steps (64 * |pair| <= 32640): the runs between
		 * widenings are the whole window, a row of taps, or at most 64 channel quads of
		 * a tap, the longest that fits (constants in generated code) */
		const int32_t span = g->kh * g->kw * G->c4n <= 64 ? 2 : g->kw * G->c4n <= 64 ? 1 : 0;
#define IC_STEP()                                                                         \
	do {                                                                              \
		const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)a);  \
		const __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(a + 8)); \
		for (int32_t ch = 0; ch < 4; ch++) {                                      \
			const __m256i wb = _mm256_set1_epi32((int)w[ch]);                 \
			c16[ch][0] = _mm256_add_epi16(c16[ch][0], _mm256_maddubs_epi16(a0, wb)); \
			c16[ch][1] = _mm256_add_epi16(c16[ch][1], _mm256_maddubs_epi16(a1, wb)); \
		}                                                                         \
	} while (0)
#define IC_WIDEN()                                                                        \
	for (int32_t ch = 0; ch < 4; ch++)                                                \
		for (int32_t v = 0; v < 2; v++) {                                         \
			a32[ch][v] = _mm256_add_epi32(a32[ch][v], _mm256_madd_epi16(c16[ch][v], ones)); \
			c16[ch][v] = _mm256_setzero_si256();                              \
		}
		for (int32_t r = 0; r < g->kh; r++) {
			for (int32_t s = 0; s < g->kw; s++) {
				const uint32_t *a = A + ic_tap(p, G, r, s) + t0;
				if (span) {
					for (int32_t c4 = 0; c4 < G->c4n; c4++, a += G->region, w += IC_NC)
						IC_STEP();
					continue;
				}
				for (int32_t c40 = 0; c40 < G->c4n; c40 += 64) {
					const int32_t c41 = RTK_MIN(G->c4n, c40 + 64);
					for (int32_t c4 = c40; c4 < c41; c4++, a += G->region, w += IC_NC)
						IC_STEP();
					IC_WIDEN()
				}
			}
			if (span == 1)
				IC_WIDEN()
		}
		if (span == 2)
			IC_WIDEN()
#undef IC_STEP
#undef IC_WIDEN
		for (int32_t ch = 0; ch < 4; ch++)
			for (int32_t v = 0; v < 2; v++)
				acc[4 * h + ch][v] = a32[ch][v];
	}
#endif
}

static inline __attribute__((always_inline)) void
ic_out_simd(const RtkQConv *p, __m256i acc[IC_NC][IC_NV], const IcKeep *K, int32_t nc,
            const int32_t *sumt, const float *a8, const float *b8, float *ym, int32_t npos)
{
	const int32_t z = ic_z(p);
	const __m256 zero = _mm256_setzero_ps();
	__m256i perm[IC_NV], keep[IC_NV];
	for (int32_t v = 0; v < IC_NV; v++) {
		int32_t id[8] = {0, 0, 0, 0, 0, 0, 0, 0};
		for (int32_t k = 0; k < K->n[v]; k++)
			id[k] = K->idx[v][k];
		perm[v] = _mm256_loadu_si256((const __m256i *)(const void *)id);
		keep[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(K->n[v]),
		                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
	}
	for (int32_t ch = 0; ch < nc; ch++)
		for (int32_t v = 0; v < IC_NV; v++) {
			if (!K->n[v])
				continue;
			const __m256i s = _mm256_sub_epi32(acc[ch][v], _mm256_set1_epi32(z * sumt[ch]));
			__m256 f = _mm256_mul_ps(_mm256_set1_ps(a8[ch]), _mm256_cvtepi32_ps(s));
			f = _mm256_add_ps(f, _mm256_set1_ps(b8[ch]));
			if (p->g.relu)
				f = _mm256_andnot_ps(_mm256_cmp_ps(f, zero, _CMP_LT_OQ), f);
			float *dst = ym + (size_t)ch * npos + K->o[v];
			if (K->n[v] == IC_VL)
				_mm256_storeu_ps(dst, f);
			else
				_mm256_maskstore_ps(dst, keep[v], _mm256_permutevar8x32_ps(f, perm[v]));
		}
}
#define IC_ACC __m256i
#elif defined(IC_NEON)
static inline __attribute__((always_inline)) void
ic_tile_simd(const RtkQConv *p, const IcGeo *G, const uint32_t *A, const uint32_t *wt,
             int32_t t0, int32x4_t acc[IC_NC][IC_NV])
{
	const RtkConv *g = &p->g;
	for (int32_t ch = 0; ch < IC_NC; ch++)
		for (int32_t v = 0; v < IC_NV; v++)
			acc[ch][v] = vdupq_n_s32(0);
#if !defined(__ARM_FEATURE_DOTPROD)
	int16x8_t lo[IC_NC], hi[IC_NC];
	for (int32_t ch = 0; ch < IC_NC; ch++)
		lo[ch] = hi[ch] = vdupq_n_s16(0);
	int32_t n = 0;
#endif
	const uint32_t *w = wt;
	for (int32_t r = 0; r < g->kh; r++)
	for (int32_t s = 0; s < g->kw; s++) {
		const uint32_t *a = A + ic_tap(p, G, r, s) + t0;
		for (int32_t c4 = 0; c4 < G->c4n; c4++, a += G->region, w += IC_NC) {
#if defined(__ARM_FEATURE_DOTPROD)
			const int8x16_t a0 = vreinterpretq_s8_u32(vld1q_u32(a));
			const int8x16_t a1 = vreinterpretq_s8_u32(vld1q_u32(a + 4));
			const int8x16_t w0 = vreinterpretq_s8_u32(vld1q_u32(w));
			const int8x16_t w1 = vreinterpretq_s8_u32(vld1q_u32(w + 4));
#define IC_SDOT(ch, wv, l)                                              \
	acc[ch][0] = vdotq_laneq_s32(acc[ch][0], a0, wv, l);                  \
	acc[ch][1] = vdotq_laneq_s32(acc[ch][1], a1, wv, l);
			IC_SDOT(0, w0, 0) IC_SDOT(1, w0, 1) IC_SDOT(2, w0, 2) IC_SDOT(3, w0, 3)
			IC_SDOT(4, w1, 0) IC_SDOT(5, w1, 1) IC_SDOT(6, w1, 2) IC_SDOT(7, w1, 3)
#undef IC_SDOT
#else
			const int8x16_t a0 = vreinterpretq_s8_u32(vld1q_u32(a));
			for (int32_t ch = 0; ch < IC_NC; ch++) {
				const int8x16_t wb = vreinterpretq_s8_u32(vdupq_n_u32(w[ch]));
				lo[ch] = vmlal_s8(lo[ch], vget_low_s8(a0), vget_low_s8(wb));
				hi[ch] = vmlal_high_s8(hi[ch], a0, wb);
			}
			if (++n == 255) { /* 16-bit lanes hold 255 products of |p| <= 128 */
				n = 0;
				for (int32_t ch = 0; ch < IC_NC; ch++) {
					acc[ch][0] = vaddq_s32(acc[ch][0],
					                       vpaddq_s32(vpaddlq_s16(lo[ch]), vpaddlq_s16(hi[ch])));
					lo[ch] = hi[ch] = vdupq_n_s16(0);
				}
			}
#endif
		}
	}
#if !defined(__ARM_FEATURE_DOTPROD)
	for (int32_t ch = 0; ch < IC_NC; ch++)
		acc[ch][0] = vaddq_s32(acc[ch][0], vpaddq_s32(vpaddlq_s16(lo[ch]), vpaddlq_s16(hi[ch])));
#endif
}

static inline __attribute__((always_inline)) void
ic_out_simd(const RtkQConv *p, int32x4_t acc[IC_NC][IC_NV], const IcKeep *K, int32_t nc,
            const int32_t *sumt, const float *a8, const float *b8, float *ym, int32_t npos)
{
	const int32_t z = ic_z(p);
	const float32x4_t zero = vdupq_n_f32(0.0f);
	for (int32_t ch = 0; ch < nc; ch++) {
		const int32x4_t zs = vdupq_n_s32(z * sumt[ch]);
		for (int32_t v = 0; v < IC_NV; v++) {
			if (!K->n[v])
				continue;
			float32x4_t f = vmulq_f32(vdupq_n_f32(a8[ch]), vcvtq_f32_s32(vsubq_s32(acc[ch][v], zs)));
			f = vaddq_f32(f, vdupq_n_f32(b8[ch]));
			if (p->g.relu)
				f = vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(f), vcltq_f32(f, zero)));
			float *dst = ym + (size_t)ch * npos + K->o[v];
			if (K->n[v] == IC_VL) {
				vst1q_f32(dst, f);
			} else {
				float t[4];
				vst1q_f32(t, f);
				for (int32_t k = 0; k < K->n[v]; k++)
					dst[k] = t[K->idx[v][k]];
			}
		}
	}
}
#define IC_ACC int32x4_t
#endif

static inline __attribute__((always_inline)) void
iconv_prep(const RtkQConv *p, const float *x, void *scratch)
{
	const IcGeo G = ic_geo(p);
	for (int32_t grp = 0; grp < p->g.group; grp++)
		ic_pack(p, &G, x, grp, (uint32_t *)scratch + (size_t)grp * G.c4n * G.region);
}

/* Units [lo, hi) of step 2 and 3 on the words iconv_prep wrote. */
static inline __attribute__((always_inline)) void
iconv_part(const RtkQConv *p, const int32_t *wr, const float *scale, const float *bias,
           float *y, const void *scratch, int64_t lo, int64_t hi, int simd)
{
	const RtkConv *g = &p->g;
	const IcGeo G = ic_geo(p);
	const int32_t mg = g->m / g->group, nt = rtk_ic_tiles(p), npos = g->oh * g->ow;
	const size_t tile_words = (size_t)g->kh * g->kw * G.c4n * IC_NC;
	const int32_t *sumt0 = wr;
	const uint32_t *w0 = (const uint32_t *)(const void *)(wr + (size_t)g->group * nt * IC_NC);
	(void)simd;
	const int32_t nch = ic_nch(&G), bpc = (ic_nblk(&G) + nch - 1) / nch;
	for (int64_t u = lo; u < hi; u++) {
		const int32_t grp = (int32_t)(u / ((int64_t)nch * nt)), t = (int32_t)(u % nt);
		const int32_t ch0 = (int32_t)(u / nt % nch) * bpc * IC_PB;
		const int32_t ch1 = RTK_MIN(G.npos, ch0 + bpc * IC_PB);
		const uint32_t *A = (const uint32_t *)scratch + (size_t)grp * G.c4n * G.region;
		const int32_t m0 = grp * mg + t * IC_NC, nc = RTK_MIN(IC_NC, mg - t * IC_NC);
		const uint32_t *wt = w0 + ((size_t)grp * nt + t) * tile_words;
		const int32_t *sumt = sumt0 + ((size_t)grp * nt + t) * IC_NC;
		float a8[IC_NC], b8[IC_NC];
		rtk_tile_ab(scale, bias, p->step, m0, nc, IC_NC, a8, b8);
		float *ym = y + (size_t)m0 * npos;
		int32_t oy = ch0 / G.wpp, ox = ch0 % G.wpp;
		for (int32_t t0 = ch0; t0 < ch1; t0 += IC_PB) {
			IcKeep K;
			ic_keep(p, &G, t0, &oy, &ox, &K);
#if defined(IC_ACC)
			if (simd) {
				/* the epilogue indexes channels up to nc, a variable: it reads a copy,
				 * so that acc's own elements stay in registers */
				IC_ACC acc[IC_NC][IC_NV], res[IC_NC][IC_NV];
				ic_tile_simd(p, &G, A, wt, t0, acc);
				for (int32_t ch = 0; ch < IC_NC; ch++)
					for (int32_t v = 0; v < IC_NV; v++)
						res[ch][v] = acc[ch][v];
				ic_out_simd(p, res, &K, nc, sumt, a8, b8, ym, npos);
				continue;
			}
#endif
			int32_t D[IC_NC][IC_PB];
			ic_tile_scalar(p, &G, A, wt, t0, D);
			ic_out_scalar(p, D, &K, nc, sumt, a8, b8, ym, npos);
		}
	}
}

void rtk_iconv_prep(const RtkQConv *p, const float *x, void *shared)
{
	iconv_prep(p, x, shared);
}

void rtk_iconv_part(const RtkQConv *p, const float *x, const int32_t *wr, const float *scale,
                    const float *bias, float *y, void *shared, void *priv, int64_t lo,
                    int64_t hi)
{
	(void)x, (void)priv;
	iconv_part(p, wr, scale, bias, y, shared, lo, hi, 1);
}

void rtk_iconv(const RtkQConv *p, const float *x, const int32_t *wr, const float *scale,
               const float *bias, float *y, void *scratch)
{
	iconv_prep(p, x, scratch);
	iconv_part(p, wr, scale, bias, y, scratch, 0, rtk_iconv_units(p), 1);
}

void rtk_iconv_scalar(const RtkQConv *p, const float *x, const int32_t *wr, const float *scale,
                      const float *bias, float *y, void *scratch)
{
	iconv_prep(p, x, scratch);
	iconv_part(p, wr, scale, bias, y, scratch, 0, rtk_iconv_units(p), 0);
}
