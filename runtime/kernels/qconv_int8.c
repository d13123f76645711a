/* runtime/kernels/qconv_int8.c: the quantized convolution of kernels.h (activation bits
 * 1..8) computed with 8-bit integer multiply-adds instead of bit-serial popcounts. Same
 * packed weights, same exact integer S, same float epilogue as rtk_qconv.
 *
 * Per call:
 *   1. the input is quantized once to one byte per element, a = u + z (see act_z below:
 *      AVX2 and the scalar build read a as unsigned, z = qn; NEON reads it as signed,
 *      z = qn - 128), into the padded channels-last buffer of rtk_internal.h, so a tap of
 *      the padding is the byte z;
 *   2. the weight rows are unpacked once to signed bytes t in {-1, 0, +1}, kp bytes per
 *      channel (k rounded up to 32, zero past k), permuted to the buffer's tap order
 *      (rtk_perm_hwc), with sumt[m] = sum_j t_j;
 *   3. per group and block of I8_PB output positions the patches are copied into byte
 *      rows of kp bytes (zero past k; rtk_patch_hwc); a micro-kernel computes D = sum_j t_j a_j for four
 *      channels x two positions at once (every activation vector loaded once per four
 *      channels, every weight vector once per two positions):
 *        AVX2:  vpmaddubsw (u8 x s8 -> pairs in s16, |pair| <= 510, no saturation) added
 *               in 16-bit lanes for at most I8_KB taps (32 steps, |lane| <= 16320), then
 *               widened with vpmaddwd and added in 32-bit lanes;
 *        AVX-512 VNNI (the avx512 kernel level): vpdpbusd straight into 32-bit lanes;
 *        NEON + dotprod: SDOT into 32-bit lanes;
 *        NEON:  SMLAL/SMLAL2 (s8 x s8 -> s16, |product| <= 128, 64 steps of 16 bytes per
 *               I8_KB, |lane| <= 16384), widened with SADALP;
 *      then S = D - z * sumt[m] (exact: |S| < 2^31 for k < 2^23);
 *   4. y = fl(fl(fl(scale * step) * fl(S)) + bias), relu: the statements of rtk_qconv.
 * The scalar twin computes D with a plain integer loop on the same bytes, so its integers,
 * and therefore its outputs, are identical.
 */
#include "rtk_internal.h"

#if defined(__AVX2__)
#include <immintrin.h>
#define I8_SIMD 1
#define ACT_SIGNED 0
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define I8_SIMD 1
#define ACT_SIGNED 1
#else
#define I8_SIMD 0
#define ACT_SIGNED 0
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the weight unpacking assumes little endian"
#endif

#define I8_PB 16   /* output positions per block (patch rows in L1) */
#define I8_KB 1024 /* taps per 16-bit accumulation run (see the file comment) */

/* Zero point of the activation bytes (see the file comment). */
static inline int32_t act_z(const RtkQConv *p)
{
	return ACT_SIGNED ? p->qn - 128 : p->qn;
}

static inline int32_t i8_kp(int32_t k)
{
	return (k + 31) & ~31;
}

/* Scratch regions (byte offsets, multiples of 64): codes, padded channels-last
 * (rtk_hwc_bytes); col [I8_PB][kp]; wt [m][kp] int8 in HWC tap order; sumt [m] int32;
 * row [kp] int8 (a row in ONNX order before the permutation). */
typedef struct {
	size_t col, wt, sumt, row, end;
} I8Layout;

static inline I8Layout i8layout(const RtkQConv *p)
{
	I8Layout l;
	size_t kp = (size_t)i8_kp(p->k);
	l.col = rtk_align64(rtk_hwc_bytes(&p->g));
	l.wt = l.col + rtk_align64((size_t)I8_PB * kp);
	l.sumt = l.wt + rtk_align64((size_t)p->g.m * kp);
	l.row = l.sumt + rtk_align64((size_t)p->g.m * sizeof(int32_t));
	l.end = l.row + rtk_align64(kp);
	return l;
}

size_t rtk_qconv_int8_scratch(const RtkQConv *p)
{
	return i8layout(p).end;
}

/* spread8[b]: byte i of the word is bit i of b (0 or 1). */
#define S1(b) ((uint64_t)((b) & 1) | (uint64_t)((b) >> 1 & 1) << 8 |                      \
               (uint64_t)((b) >> 2 & 1) << 16 | (uint64_t)((b) >> 3 & 1) << 24 |          \
               (uint64_t)((b) >> 4 & 1) << 32 | (uint64_t)((b) >> 5 & 1) << 40 |          \
               (uint64_t)((b) >> 6 & 1) << 48 | (uint64_t)((b) >> 7 & 1) << 56)
#define S8(b) S1(b), S1(b + 1), S1(b + 2), S1(b + 3), S1(b + 4), S1(b + 5), S1(b + 6), S1(b + 7)
#define S64(b) S8(b), S8(b + 8), S8(b + 16), S8(b + 24), S8(b + 32), S8(b + 40), S8(b + 48), \
               S8(b + 56)
static const uint64_t spread8[256] = {S64(0), S64(64), S64(128), S64(192)};
#undef S1
#undef S8
#undef S64

/* Row m of the packed weights as bytes t [kp] (zero past k); returns sum_j t_j. Per byte
 * of taps: T+ spread to 0/1 bytes, OR T- spread times 0xff (0xff = -1 where set; the planes
 * are disjoint, and no product carries out of its byte). */
static inline int32_t unpack_row(const RtkQConv *p, const uint64_t *w, int32_t m, int8_t *t)
{
	const int32_t n = p->kwords, k = p->k, kp = i8_kp(k);
	const uint8_t *bp = (const uint8_t *)(w + (size_t)(p->binary ? m : 2 * m) * n);
	const uint8_t *bm = bp + (size_t)n * 8;
	int32_t nb = (k + 7) / 8, pc = 0, mc = 0;
	for (int32_t q = 0; q < nb; q++) {
		uint64_t tp = spread8[bp[q]];
		uint64_t tm = p->binary ? spread8[(uint8_t)~bp[q]] : spread8[bm[q]];
		if (8 * q + 8 > k) { /* the last byte: taps past k are zero */
			uint64_t keep = ~0ull >> (64 - 8 * (k - 8 * q));
			tp &= keep;
			tm &= keep;
		}
		pc += __builtin_popcountll(tp);
		mc += __builtin_popcountll(tm);
		uint64_t v = tp | tm * 0xff;
		__builtin_memcpy(t + 8 * q, &v, 8);
	}
	for (int32_t j = 8 * nb; j < kp; j++)
		t[j] = 0;
	return pc - mc;
}

/* D for two positions (a0, a1) and four channels (w0..w3): d[2r + i] = sum_j w_r[j] a_i[j]
 * over kp bytes. */
static inline void dot_scalar(const uint8_t *a0, const uint8_t *a1, const int8_t *const wr[4],
                              int32_t kp, int32_t d[8])
{
	for (int32_t r = 0; r < 4; r++) {
		int32_t s0 = 0, s1 = 0;
		for (int32_t j = 0; j < kp; j++) {
			int32_t x0 = ACT_SIGNED ? (int32_t)(int8_t)a0[j] : (int32_t)a0[j];
			int32_t x1 = ACT_SIGNED ? (int32_t)(int8_t)a1[j] : (int32_t)a1[j];
			s0 += wr[r][j] * x0;
			s1 += wr[r][j] * x1;
		}
		d[2 * r] = s0;
		d[2 * r + 1] = s1;
	}
}

#if defined(__AVX2__)

static inline __m256i ldu(const void *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

/* Horizontal sums of four 8-lane vectors: lane r of the result is the sum of vector r. */
static inline __m128i hsum4(__m256i v0, __m256i v1, __m256i v2, __m256i v3)
{
	__m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(v0, v1), _mm256_hadd_epi32(v2, v3));
	return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
/* VNNI: vpdpbusd (u8 x s8, four products summed into 32-bit lanes, exact). */
static inline void dot_simd(const uint8_t *a0, const uint8_t *a1, const int8_t *const wr[4],
                            int32_t kp, int32_t d[8])
{
	const int8_t *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
	__m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
	__m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
	for (int32_t j = 0; j < kp; j += 32) {
		__m256i x0 = ldu(a0 + j), x1 = ldu(a1 + j), t;
		t = ldu(w0 + j);
		s00 = _mm256_dpbusd_epi32(s00, x0, t);
		s01 = _mm256_dpbusd_epi32(s01, x1, t);
		t = ldu(w1 + j);
		s10 = _mm256_dpbusd_epi32(s10, x0, t);
		s11 = _mm256_dpbusd_epi32(s11, x1, t);
		t = ldu(w2 + j);
		s20 = _mm256_dpbusd_epi32(s20, x0, t);
		s21 = _mm256_dpbusd_epi32(s21, x1, t);
		t = ldu(w3 + j);
		s30 = _mm256_dpbusd_epi32(s30, x0, t);
		s31 = _mm256_dpbusd_epi32(s31, x1, t);
	}
	_mm_storeu_si128((__m128i *)(void *)d, hsum4(s00, s01, s10, s11));
	_mm_storeu_si128((__m128i *)(void *)(d + 4), hsum4(s20, s21, s30, s31));
}
#else
static inline void dot_simd(const uint8_t *a0, const uint8_t *a1, const int8_t *const wr[4],
                            int32_t kp, int32_t d[8])
{
	const __m256i ones = _mm256_set1_epi16(1);
	const int8_t *w0 = wr[0], *w1 = wr[1], *w2 = wr[2], *w3 = wr[3];
	__m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
	__m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
	for (int32_t j0 = 0; j0 < kp; j0 += I8_KB) {
		int32_t end = RTK_MIN(kp, j0 + I8_KB);
		__m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00;
		__m256i c20 = c00, c21 = c00, c30 = c00, c31 = c00;
		for (int32_t j = j0; j < end; j += 32) {
			__m256i x0 = ldu(a0 + j), x1 = ldu(a1 + j), t;
			t = ldu(w0 + j);
			c00 = _mm256_add_epi16(c00, _mm256_maddubs_epi16(x0, t));
			c01 = _mm256_add_epi16(c01, _mm256_maddubs_epi16(x1, t));
			t = ldu(w1 + j);
			c10 = _mm256_add_epi16(c10, _mm256_maddubs_epi16(x0, t));
			c11 = _mm256_add_epi16(c11, _mm256_maddubs_epi16(x1, t));
			t = ldu(w2 + j);
			c20 = _mm256_add_epi16(c20, _mm256_maddubs_epi16(x0, t));
			c21 = _mm256_add_epi16(c21, _mm256_maddubs_epi16(x1, t));
			t = ldu(w3 + j);
			c30 = _mm256_add_epi16(c30, _mm256_maddubs_epi16(x0, t));
			c31 = _mm256_add_epi16(c31, _mm256_maddubs_epi16(x1, t));
		}
		s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(c00, ones));
		s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(c01, ones));
		s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(c10, ones));
		s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(c11, ones));
		s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(c20, ones));
		s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(c21, ones));
		s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(c30, ones));
		s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(c31, ones));
	}
	_mm_storeu_si128((__m128i *)(void *)d, hsum4(s00, s01, s10, s11));
	_mm_storeu_si128((__m128i *)(void *)(d + 4), hsum4(s20, s21, s30, s31));
}
#endif

#elif I8_SIMD /* NEON */

#if defined(__ARM_FEATURE_DOTPROD)
static inline void dot_simd(const uint8_t *a0, const uint8_t *a1, const int8_t *const wr[4],
                            int32_t kp, int32_t d[8])
{
	const int8_t *b0 = (const int8_t *)a0, *b1 = (const int8_t *)a1;
	int32x4_t s[8];
	for (int32_t i = 0; i < 8; i++)
		s[i] = vdupq_n_s32(0);
	for (int32_t j = 0; j < kp; j += 16) {
		int8x16_t x0 = vld1q_s8(b0 + j), x1 = vld1q_s8(b1 + j);
		for (int32_t r = 0; r < 4; r++) {
			int8x16_t t = vld1q_s8(wr[r] + j);
			s[2 * r] = vdotq_s32(s[2 * r], x0, t);
			s[2 * r + 1] = vdotq_s32(s[2 * r + 1], x1, t);
		}
	}
	for (int32_t i = 0; i < 8; i++)
		d[i] = vaddvq_s32(s[i]);
}
#else
static inline void dot_simd(const uint8_t *a0, const uint8_t *a1, const int8_t *const wr[4],
                            int32_t kp, int32_t d[8])
{
	const int8_t *b0 = (const int8_t *)a0, *b1 = (const int8_t *)a1;
	int32x4_t s[8];
	for (int32_t i = 0; i < 8; i++)
		s[i] = vdupq_n_s32(0);
	for (int32_t j0 = 0; j0 < kp; j0 += I8_KB) {
		int32_t end = RTK_MIN(kp, j0 + I8_KB);
		int16x8_t c[8];
		for (int32_t i = 0; i < 8; i++)
			c[i] = vdupq_n_s16(0);
		for (int32_t j = j0; j < end; j += 16) {
			int8x16_t x0 = vld1q_s8(b0 + j), x1 = vld1q_s8(b1 + j);
			for (int32_t r = 0; r < 4; r++) {
				int8x16_t t = vld1q_s8(wr[r] + j);
				c[2 * r] = vmlal_s8(c[2 * r], vget_low_s8(x0), vget_low_s8(t));
				c[2 * r] = vmlal_high_s8(c[2 * r], x0, t);
				c[2 * r + 1] = vmlal_s8(c[2 * r + 1], vget_low_s8(x1), vget_low_s8(t));
				c[2 * r + 1] = vmlal_high_s8(c[2 * r + 1], x1, t);
			}
		}
		for (int32_t i = 0; i < 8; i++)
			s[i] = vpadalq_s16(s[i], c[i]);
	}
	for (int32_t i = 0; i < 8; i++)
		d[i] = vaddvq_s32(s[i]);
}
#endif

#endif

/* The kernel; simd = 0 is the scalar twin (always_inline: one specialized copy each). */
static inline __attribute__((always_inline)) void
qconv_int8(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
           const float *bias, float *y, void *scratch, int simd)
{
	const RtkConv *g = &p->g;
	const int32_t mg = g->m / g->group;
	const int32_t k = p->k, kp = i8_kp(k), npos = g->oh * g->ow;
	const int32_t z = act_z(p);
	I8Layout l = i8layout(p);
	uint8_t *codes = scratch;
	uint8_t *col = (uint8_t *)scratch + l.col;
	int8_t *wt = (int8_t *)scratch + l.wt;
	int32_t *sumt = (int32_t *)(void *)((char *)scratch + l.sumt);

	int8_t *row = (int8_t *)scratch + l.row;
	const float inv = 1.0f / p->step, lo = (float)-p->qn, hi = (float)p->qp;
	rtk_codes_hwc(g, x, inv, lo, hi, z, codes);
	for (int32_t m = 0; m < g->m; m++) {
		int8_t *wm = wt + (size_t)m * kp;
		if (g->kh * g->kw == 1) { /* HWC order is ONNX order */
			sumt[m] = unpack_row(p, w, m, wm);
			continue;
		}
		sumt[m] = unpack_row(p, w, m, row);
		rtk_perm_hwc(g, row, wm);
		for (int32_t j = k; j < kp; j++)
			wm[j] = 0;
	}
	for (int32_t pi = 0; pi < I8_PB; pi++)
		for (int32_t j = k; j < kp; j++)
			col[(size_t)pi * kp + j] = 0;
	(void)simd;

	for (int32_t grp = 0; grp < g->group; grp++) {
		const int32_t mend = (grp + 1) * mg;
		for (int32_t q0 = 0; q0 < npos; q0 += I8_PB) {
			int32_t np = RTK_MIN(I8_PB, npos - q0);
			for (int32_t pi = 0; pi < np; pi++)
				rtk_patch_hwc(g, codes, grp, q0 + pi, col + (size_t)pi * kp);
			for (int32_t m0 = grp * mg; m0 < mend; m0 += 4) {
				const int8_t *wr[4];
				for (int32_t r = 0; r < 4; r++) /* fewer than 4 left: repeat the last */
					wr[r] = wt + (size_t)RTK_MIN(m0 + r, mend - 1) * kp;
				int32_t nm = RTK_MIN(4, mend - m0);
				for (int32_t pi = 0; pi < np; pi += 2) {
					const uint8_t *a0 = col + (size_t)pi * kp;
					const uint8_t *a1 = pi + 1 < np ? a0 + kp : a0;
					int32_t d[8];
#if I8_SIMD
					if (simd)
						dot_simd(a0, a1, wr, kp, d);
					else
#endif
						dot_scalar(a0, a1, wr, kp, d);
					for (int32_t r = 0; r < nm; r++) {
						int32_t m = m0 + r;
						const float a = scale[m] * p->step, b = bias ? bias[m] : 0.0f;
						float *ym = y + (size_t)m * npos + q0 + pi;
						for (int32_t i = 0; i < 2 && pi + i < np; i++) {
							ym[i] = rtk_qout(d[2 * r + i] - z * sumt[m], a, b, g->relu);
						}
					}
				}
			}
		}
	}
}

void rtk_qconv_int8(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
                    const float *bias, float *y, void *scratch)
{
	qconv_int8(p, x, w, scale, bias, y, scratch, 1);
}

void rtk_qconv_int8_scalar(const RtkQConv *p, const float *x, const uint64_t *w,
                           const float *scale, const float *bias, float *y, void *scratch)
{
	qconv_int8(p, x, w, scale, bias, y, scratch, 0);
}
