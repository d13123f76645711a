/* runtime/kernels/qconv.c: the quantized convolution (weights in {-1, 0, +1}) and the
 * AND-popcount it is built on.
 *
 * Activation bits 1..8 (bit-serial). Per call the whole input is quantized once to codes
 * v = u + qn in [0, 2^bits) (one byte each). Then per group and block of QPB output
 * positions:
 *   1. each position's patch codes are gathered (padding taps: v = qn) into a byte row of
 *      kwords*64 bytes, zero past k, and split into `bits` bit planes of kwords words;
 *   2. for every output channel of the group and every position of the block, the planes
 *      are ANDed with the channel's weight plane(s) and popcounted, 256 bits per step, the
 *      per-byte counts summed in 8-bit lanes and widened once per plane;
 *   3. S = sum_b 2^b (pc(V_b & T+) - pc(V_b & T-)) - qn * sum_j t_j, where a binary layer
 *      has pc(V_b & T-) = pc(V_b) - pc(V_b & T+), so
 *      S = 2 sum_b 2^b pc(V_b & T+) - sum_j v_j - qn (2 pc(T+) - k);
 *   4. y = fl(fl(fl(scale * step) * fl(S)) + bias), relu; the same statements in both
 *      twins (three separate roundings, no contraction), so outputs are bit-identical.
 * The weight rows of a channel (kwords words each) are reused over the block's positions
 * from L1; the block's planes (QPB*bits*kwords words) stay in L1/L2 over the channels.
 *
 * Activation bits 32 (float, sign-select): the float convolution of conv.c (rtk_fconv)
 * against weight rows unpacked to -1/0/+1 floats (RTK_MR rows at a time, vector unpack),
 * or, for Gemm-like layers (<= RTK_DOTMAX positions), rtk_sdot straight from the packed
 * rows; y = fl(scale * sum) + bias (two statements).
 */
#include "rtk_internal.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define RTK_SIMD 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define RTK_SIMD 1
#else
#define RTK_SIMD 0
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the weight unpacking of the float-activation path assumes little endian"
#endif

/* Output positions per block of the bit-serial path. */
#define QPB 16

/* ---- AND-popcount ------------------------------------------------------------------------
 * Every variant reads rows of n 64-bit words, n a multiple of 4 (256 bits). */

int32_t rtk_popcount_and_scalar(const uint64_t *a, const uint64_t *b, int32_t n)
{
	int32_t c = 0;
	for (int32_t i = 0; i < n; i++)
		c += __builtin_popcountll(a[i] & b[i]);
	return c;
}

/* sum_b 2^b popcount(V_b & t): V holds `bits` planes of n words, plane b at v + b*n. */
static inline int64_t dot1_scalar(const uint64_t *v, const uint64_t *t, int32_t n,
                                  int32_t bits)
{
	int64_t d = 0;
	for (int32_t b = 0; b < bits; b++)
		d += (int64_t)rtk_popcount_and_scalar(v + (size_t)b * n, t, n) << b;
	return d;
}

/* sum_b 2^b (popcount(V_b & tp) - popcount(V_b & tm)). */
static inline int64_t dot2_scalar(const uint64_t *v, const uint64_t *tp, const uint64_t *tm,
                                  int32_t n, int32_t bits)
{
	int64_t d = 0;
	for (int32_t b = 0; b < bits; b++) {
		const uint64_t *vb = v + (size_t)b * n;
		d += (int64_t)(rtk_popcount_and_scalar(vb, tp, n) -
		               rtk_popcount_and_scalar(vb, tm, n)) * ((int64_t)1 << b);
	}
	return d;
}

#if defined(__AVX2__)

/* Per-byte popcount: two 16-entry table lookups (pshufb) on the nibbles. */
static inline __m256i pc8(__m256i x)
{
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
	                                     0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i nib = _mm256_set1_epi8(0x0f);
	__m256i lo = _mm256_and_si256(x, nib);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), nib);
	return _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi));
}

static inline __m256i ld256(const uint64_t *p)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

static inline uint64_t hsum64(__m256i v)
{
	__m128i s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	return (uint64_t)_mm_cvtsi128_si64(s) + (uint64_t)_mm_extract_epi64(s, 1);
}

/* popcount(a & b) over n words, as four 64-bit lane sums. Byte counts grow by at most 8
 * per 256-bit step, so 8-bit lanes hold 31 steps before the widening sad. */
static inline __m256i pc_and_lanes(const uint64_t *a, const uint64_t *b, int32_t n)
{
	const __m256i z = _mm256_setzero_si256();
	__m256i acc = z;
	for (int32_t i = 0; i < n;) {
		int32_t end = RTK_MIN(n, i + 4 * 31);
		__m256i c8 = z;
		for (; i < end; i += 4)
			c8 = _mm256_add_epi8(c8, pc8(_mm256_and_si256(ld256(a + i), ld256(b + i))));
		acc = _mm256_add_epi64(acc, _mm256_sad_epu8(c8, z));
	}
	return acc;
}

int32_t rtk_popcount_and(const uint64_t *a, const uint64_t *b, int32_t n)
{
	return (int32_t)hsum64(pc_and_lanes(a, b, n));
}

static inline int64_t dot1_simd(const uint64_t *v, const uint64_t *t, int32_t n, int32_t bits)
{
	__m256i acc = _mm256_setzero_si256();
	for (int32_t b = 0; b < bits; b++)
		acc = _mm256_add_epi64(acc, _mm256_sll_epi64(pc_and_lanes(v + (size_t)b * n, t, n),
		                                             _mm_cvtsi32_si128(b)));
	return (int64_t)hsum64(acc);
}

static inline int64_t dot2_simd(const uint64_t *v, const uint64_t *tp, const uint64_t *tm,
                                int32_t n, int32_t bits)
{
	const __m256i z = _mm256_setzero_si256();
	__m256i acc = z;
	for (int32_t b = 0; b < bits; b++) {
		const uint64_t *vb = v + (size_t)b * n;
		__m256i ap = z, am = z;
		for (int32_t i = 0; i < n;) {
			int32_t end = RTK_MIN(n, i + 4 * 31);
			__m256i cp = z, cm = z;
			for (; i < end; i += 4) {
				__m256i x = ld256(vb + i);
				cp = _mm256_add_epi8(cp, pc8(_mm256_and_si256(x, ld256(tp + i))));
				cm = _mm256_add_epi8(cm, pc8(_mm256_and_si256(x, ld256(tm + i))));
			}
			ap = _mm256_add_epi64(ap, _mm256_sad_epu8(cp, z));
			am = _mm256_add_epi64(am, _mm256_sad_epu8(cm, z));
		}
		acc = _mm256_add_epi64(acc, _mm256_sll_epi64(_mm256_sub_epi64(ap, am),
		                                             _mm_cvtsi32_si128(b)));
	}
	return (int64_t)hsum64(acc); /* lanes wrap modulo 2^64; the total is exact */
}

#elif RTK_SIMD /* NEON */

static inline uint8x16_t ld128(const uint64_t *p)
{
	return vld1q_u8((const uint8_t *)(const void *)p);
}

/* popcount(a & b) over n words, as two 64-bit lane sums. CNT gives per-byte counts; two
 * 128-bit halves per 256-bit step add at most 16 per byte, so 8-bit lanes hold 15 steps. */
static inline uint64x2_t pc_and_lanes(const uint64_t *a, const uint64_t *b, int32_t n)
{
	uint64x2_t acc = vdupq_n_u64(0);
	for (int32_t i = 0; i < n;) {
		int32_t end = RTK_MIN(n, i + 4 * 15);
		uint8x16_t c8 = vdupq_n_u8(0);
		for (; i < end; i += 4) {
			c8 = vaddq_u8(c8, vcntq_u8(vandq_u8(ld128(a + i), ld128(b + i))));
			c8 = vaddq_u8(c8, vcntq_u8(vandq_u8(ld128(a + i + 2), ld128(b + i + 2))));
		}
		acc = vpadalq_u32(acc, vpaddlq_u16(vpaddlq_u8(c8)));
	}
	return acc;
}

int32_t rtk_popcount_and(const uint64_t *a, const uint64_t *b, int32_t n)
{
	return (int32_t)vaddvq_u64(pc_and_lanes(a, b, n));
}

static inline int64_t dot1_simd(const uint64_t *v, const uint64_t *t, int32_t n, int32_t bits)
{
	uint64x2_t acc = vdupq_n_u64(0);
	for (int32_t b = 0; b < bits; b++)
		acc = vaddq_u64(acc, vshlq_u64(pc_and_lanes(v + (size_t)b * n, t, n),
		                               vdupq_n_s64(b)));
	return (int64_t)vaddvq_u64(acc);
}

static inline int64_t dot2_simd(const uint64_t *v, const uint64_t *tp, const uint64_t *tm,
                                int32_t n, int32_t bits)
{
	uint64x2_t acc = vdupq_n_u64(0);
	for (int32_t b = 0; b < bits; b++) {
		const uint64_t *vb = v + (size_t)b * n;
		uint64x2_t ap = vdupq_n_u64(0), am = vdupq_n_u64(0);
		for (int32_t i = 0; i < n;) {
			int32_t end = RTK_MIN(n, i + 4 * 15);
			uint8x16_t cp = vdupq_n_u8(0), cm = vdupq_n_u8(0);
			for (; i < end; i += 4) {
				uint8x16_t x0 = ld128(vb + i), x1 = ld128(vb + i + 2);
				cp = vaddq_u8(cp, vcntq_u8(vandq_u8(x0, ld128(tp + i))));
				cp = vaddq_u8(cp, vcntq_u8(vandq_u8(x1, ld128(tp + i + 2))));
				cm = vaddq_u8(cm, vcntq_u8(vandq_u8(x0, ld128(tm + i))));
				cm = vaddq_u8(cm, vcntq_u8(vandq_u8(x1, ld128(tm + i + 2))));
			}
			ap = vpadalq_u32(ap, vpaddlq_u16(vpaddlq_u8(cp)));
			am = vpadalq_u32(am, vpaddlq_u16(vpaddlq_u8(cm)));
		}
		acc = vaddq_u64(acc, vshlq_u64(vsubq_u64(ap, am), vdupq_n_s64(b)));
	}
	return (int64_t)vaddvq_u64(acc); /* lanes wrap modulo 2^64; the total is exact */
}

#else

int32_t rtk_popcount_and(const uint64_t *a, const uint64_t *b, int32_t n)
{
	return rtk_popcount_and_scalar(a, b, n);
}

#endif

/* ---- bit planes ---------------------------------------------------------------------------
 * A patch row of n*64 code bytes becomes `bits` planes of n words: bit j of plane b
 * (bit j % 64 of word b*n + j/64) is bit b of code j (rtk_planes64 per 64 codes). */
static inline __attribute__((always_inline)) void
pack_planes(const uint8_t *row, int32_t n, int32_t bits, uint64_t *planes, int simd)
{
	for (int32_t i = 0; i < n; i++) {
		uint64_t wd[8];
		rtk_planes64(row + (size_t)i * 64, bits, wd, simd);
		for (int32_t b = 0; b < bits; b++)
			planes[(size_t)b * n + i] = wd[b];
	}
}

/* ---- the kernels ---------------------------------------------------------------------- */

/* Scratch regions of the bit-serial path (byte offsets from the scratch start, each a
 * multiple of 64): codes [c][h][w] uint8; patch [kwords*64] uint8; planes
 * [QPB][bits][kwords] uint64; sumv [QPB] int32 (sum of a patch's codes over its k taps). */
typedef struct {
	size_t patch, planes, sumv, end;
} QLayout;

static inline QLayout qlayout(const RtkQConv *p)
{
	QLayout l;
	l.patch = rtk_align64((size_t)p->g.c * p->g.h * p->g.w);
	l.planes = l.patch + rtk_align64((size_t)p->kwords * 64);
	l.sumv = l.planes + rtk_align64((size_t)QPB * p->bits * p->kwords * sizeof(uint64_t));
	l.end = l.sumv + rtk_align64(QPB * sizeof(int32_t));
	return l;
}

static inline int32_t popcount_row(const uint64_t *t, int32_t n)
{
	int32_t c = 0;
	for (int32_t i = 0; i < n; i++)
		c += __builtin_popcountll(t[i]);
	return c;
}

/* The bit-serial kernel; simd = 0 is the scalar twin (always_inline so that each entry
 * point gets its own specialized copy). */
static inline __attribute__((always_inline)) void
qconv_bits(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
           const float *bias, float *y, void *scratch, int simd)
{
	const RtkConv *g = &p->g;
	const int32_t cg = g->c / g->group, mg = g->m / g->group;
	const int32_t k = p->k, n = p->kwords, bits = p->bits, qn = p->qn;
	const int32_t npos = g->oh * g->ow, hw = g->h * g->w;
	const int32_t pstride = bits * n; /* words of one position's planes */
	QLayout l = qlayout(p);
	uint8_t *codes = scratch;
	uint8_t *patch = (uint8_t *)scratch + l.patch;
	uint64_t *planes = (uint64_t *)(void *)((char *)scratch + l.planes);
	int32_t *sumv = (int32_t *)(void *)((char *)scratch + l.sumv);

	const float inv = 1.0f / p->step, lo = (float)-qn, hi = (float)p->qp;
	for (int32_t i = 0; i < g->c * hw; i++)
		codes[i] = rtk_quant_code(x[i], inv, lo, hi, qn);
	for (int32_t j = k; j < n * 64; j++)
		patch[j] = 0;

	for (int32_t grp = 0; grp < g->group; grp++) {
		const uint8_t *cgrp = codes + (size_t)grp * cg * hw;
		for (int32_t q0 = 0; q0 < npos; q0 += QPB) {
			int32_t np = RTK_MIN(QPB, npos - q0);
			for (int32_t pi = 0; pi < np; pi++) {
				rtk_gather_patch(g, cgrp, cg, q0 + pi, (uint8_t)qn, patch);
				uint64_t *pl = planes + (size_t)pi * pstride;
				pack_planes(patch, n, bits, pl, simd);
				if (p->binary) { /* sum of the codes over the k taps */
					int32_t sv = 0;
					for (int32_t b = 0; b < bits; b++)
						sv += popcount_row(pl + (size_t)b * n, n) << b;
					sumv[pi] = sv;
				}
			}
			for (int32_t m = grp * mg; m < (grp + 1) * mg; m++) {
				const float a = scale[m] * p->step, b = bias ? bias[m] : 0.0f;
				const uint64_t *tp = w + (size_t)(p->binary ? m : 2 * m) * n;
				const uint64_t *tm = tp + n;
				int32_t pcp = popcount_row(tp, n);
				int64_t corr = p->binary ? (int64_t)qn * (2 * pcp - k)
				                         : (int64_t)qn * (pcp - popcount_row(tm, n));
				float *ym = y + (size_t)m * npos + q0;
				for (int32_t pi = 0; pi < np; pi++) {
					const uint64_t *v = planes + (size_t)pi * pstride;
					int64_t d, s;
					if (p->binary) {
#if RTK_SIMD
						d = simd ? dot1_simd(v, tp, n, bits) : dot1_scalar(v, tp, n, bits);
#else
						d = dot1_scalar(v, tp, n, bits);
#endif
						s = 2 * d - sumv[pi] - corr;
					} else {
#if RTK_SIMD
						d = simd ? dot2_simd(v, tp, tm, n, bits)
						         : dot2_scalar(v, tp, tm, n, bits);
#else
						d = dot2_scalar(v, tp, tm, n, bits);
#endif
						s = d - corr;
					}
					ym[pi] = rtk_qout(s, a, b, g->relu);
				}
			}
		}
	}
}

/* Weight row stride of the float-activation path: k rounded up to whole bytes of taps. */
static inline int32_t f32act_kp(int32_t k)
{
	return (k + 7) & ~7;
}

/* Float activations: rtk_fconv (rtk_internal.h) with the rows of RTK_MR channels at a time
 * unpacked to -1/0/+1 floats, y = fl(scale * acc) + bias. Scratch: rtk_fconv's shared
 * buffer, then the private part: the unpacked rows [RTK_MR][kp] and rtk_fconv's private
 * buffer. Other activation bits: one work unit, the whole layer, on private scratch. */
static inline size_t f32act_rows(const RtkQConv *p)
{
	return rtk_align64((size_t)RTK_MR * f32act_kp(p->k) * sizeof(float));
}

size_t rtk_qconv_shared(const RtkQConv *p)
{
	return p->bits == 32 ? rtk_fconv_shared(&p->g) : 0;
}

size_t rtk_qconv_priv(const RtkQConv *p)
{
	return p->bits == 32 ? f32act_rows(p) + rtk_fconv_priv(&p->g) : qlayout(p).end;
}

size_t rtk_qconv_scratch(const RtkQConv *p)
{
	return rtk_qconv_shared(p) + rtk_qconv_priv(p);
}

int64_t rtk_qconv_units(const RtkQConv *p)
{
	return p->bits == 32 ? rtk_fconv_units(&p->g) : 1;
}

void rtk_qconv_prep(const RtkQConv *p, const float *x, void *shared)
{
	if (p->bits == 32)
		rtk_fconv_prep(&p->g, x, shared);
}

static inline __attribute__((always_inline)) void
qconv_part(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
           const float *bias, float *y, void *shared, void *priv, int64_t lo, int64_t hi,
           int simd)
{
	if (p->bits != 32) {
		if (lo < hi)
			qconv_bits(p, x, w, scale, bias, y, priv, simd);
		return;
	}
	RtkWSrc ws = {.wq = w, .kwords = p->kwords, .binary = p->binary, .kp = f32act_kp(p->k),
	              .wbuf = priv};
	rtk_fconv_part(&p->g, x, &ws, scale, bias, y, shared,
	               (float *)(void *)((char *)priv + f32act_rows(p)), lo, hi);
}

void rtk_qconv_part(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
                    const float *bias, float *y, void *shared, void *priv, int64_t lo,
                    int64_t hi)
{
	qconv_part(p, x, w, scale, bias, y, shared, priv, lo, hi, 1);
}

void rtk_qconv(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
               const float *bias, float *y, void *scratch)
{
	rtk_qconv_prep(p, x, scratch);
	qconv_part(p, x, w, scale, bias, y, scratch, (char *)scratch + rtk_qconv_shared(p), 0,
	           rtk_qconv_units(p), 1);
}

void rtk_qconv_scalar(const RtkQConv *p, const float *x, const uint64_t *w,
                      const float *scale, const float *bias, float *y, void *scratch)
{
	rtk_qconv_prep(p, x, scratch);
	qconv_part(p, x, w, scale, bias, y, scratch, (char *)scratch + rtk_qconv_shared(p), 0,
	           rtk_qconv_units(p), 0);
}
