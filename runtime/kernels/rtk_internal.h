/* runtime/kernels/rtk_internal.h: helpers shared by the kernel files (not an API).
 *
 * Freestanding like the kernels: only compiler-provided headers, no libc.
 */
#ifndef SQC_RTK_INTERNAL_H
#define SQC_RTK_INTERNAL_H

#include "kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#endif

#define RTK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RTK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bytes rounded up to a multiple of 64 (every scratch region starts 64-byte aligned). */
static inline size_t rtk_align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* Activation code of x for the quantized kernels: u = rint(clamp(x * inv, lo, hi)) as
 * rt_act_quant_ref computes it (NaN fails both comparisons and becomes lo; adding and
 * subtracting 1.5 * 2^23 rounds half to even, |u| <= 255), stored as the byte u + z
 * (modulo 256; the caller's z keeps u + z inside the byte format it reads). */
static inline uint8_t rtk_quant_code(float x, float inv, float lo, float hi, int32_t z)
{
	const float magic = 12582912.0f;
	float v = x * inv;
	v = v > lo ? v : lo;
	v = v < hi ? v : hi;
	float r = v + magic;
	r = r - magic;
	return (uint8_t)((int32_t)r + z);
}

/* The output of a quantized layer from its exact integer sum S (rtk_qconv, rtk_bconv,
 * rtk_iconv): y = fl(fl(a * fl(S)) + b) with a = fl(scale * step), three roundings as
 * separate statements (no FMA contraction), then relu as `o < 0 ? 0 : o` (-0.0 and NaN
 * pass). Every scalar path uses this; vector epilogues write the same operations. */
static inline float rtk_qout(int64_t s, float a, float b, int32_t relu)
{
	float o = a * (float)s;
	o = o + b;
	return relu && o < 0.0f ? 0.0f : o;
}

/* The epilogue constants of channels m0 .. m0 + n - 1 of a tile of nt: a8 = fl(scale * step)
 * and b8 = bias (0 past nc or without a bias). */
static inline void rtk_tile_ab(const float *scale, const float *bias, float step, int32_t m0,
                               int32_t nc, int32_t nt, float *a8, float *b8)
{
	for (int32_t l = 0; l < nt; l++) {
		a8[l] = l < nc ? scale[m0 + l] * step : 0.0f;
		b8[l] = l < nc && bias ? bias[m0 + l] : 0.0f;
	}
}

/* The bit planes of 64 code bytes: bit j of wd[b] is bit b of row[j], b < bits (<= 8).
 * simd = 0 is the scalar twin (one bit at a time); the SIMD paths give the same words. */
static inline __attribute__((always_inline)) void
rtk_planes64(const uint8_t *row, int32_t bits, uint64_t wd[8], int simd)
{
#if defined(__AVX2__)
	if (simd) {
		/* shifting 16-bit lanes left by 7-b moves bit b of every byte to the byte's top
		 * bit (bits shifted in from the lower byte land below it); movemask gathers the
		 * top bits */
		__m256i l = _mm256_loadu_si256((const __m256i *)(const void *)row);
		__m256i h = _mm256_loadu_si256((const __m256i *)(const void *)(row + 32));
		for (int32_t b = 0; b < bits; b++) {
			__m128i sh = _mm_cvtsi32_si128(7 - b);
			uint32_t ml = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(l, sh));
			uint32_t mh = (uint32_t)_mm256_movemask_epi8(_mm256_sll_epi16(h, sh));
			wd[b] = ml | (uint64_t)mh << 32;
		}
		return;
	}
#elif defined(__ARM_NEON) && defined(__aarch64__)
	if (simd) {
		/* eight codes at a time: with bit b of the eight bytes isolated at bit 0 of each
		 * byte, multiplying by 0x0102040810204080 sends byte t's bit to bit 56 + t and
		 * nothing else into bits 56..63 (every partial product lands on its own bit) */
		for (int32_t b = 0; b < bits; b++)
			wd[b] = 0;
		for (int32_t q = 0; q < 8; q++) {
			uint64_t x = 0;
			for (int32_t t = 0; t < 8; t++)
				x |= (uint64_t)row[q * 8 + t] << (8 * t);
			for (int32_t b = 0; b < bits; b++)
				wd[b] |= ((((x >> b) & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56)
				         << (8 * q);
		}
		return;
	}
#endif
	(void)simd;
	for (int32_t b = 0; b < bits; b++) {
		uint64_t w = 0;
		for (int32_t j = 0; j < 64; j++)
			w |= (uint64_t)((row[j] >> b) & 1) << j;
		wd[b] = w;
	}
}

/* Gathers the k = cg*kh*kw code bytes of output position q's patch (ONNX tap order
 * j = (ci*kh + r)*kw + s) from codes [cg][h][w] of one group; taps outside the input get
 * the byte pad. */
static inline void rtk_gather_patch(const RtkConv *g, const uint8_t *codes, int32_t cg,
                                    int32_t q, uint8_t pad, uint8_t *patch)
{
	const int32_t hw = g->h * g->w;
	int32_t oy = (q / g->ow) * g->sh - g->pt;
	int32_t ox = (q % g->ow) * g->sw - g->pl;
	/* a window row entirely inside the input (the common case) is copied without per-tap
	 * checks */
	const int xin = ox >= 0 && ox + (g->kw - 1) * g->dw < g->w;
	int32_t j = 0;
	for (int32_t ci = 0; ci < cg; ci++)
	for (int32_t r = 0; r < g->kh; r++, j += g->kw) {
		int32_t iy = oy + r * g->dh;
		uint8_t *pj = patch + j;
		if (iy < 0 || iy >= g->h) {
			for (int32_t s = 0; s < g->kw; s++)
				pj[s] = pad;
			continue;
		}
		const uint8_t *crow = codes + (size_t)ci * hw + (size_t)iy * g->w;
		if (xin) {
			for (int32_t s = 0; s < g->kw; s++)
				pj[s] = crow[ox + s * g->dw];
		} else {
			for (int32_t s = 0; s < g->kw; s++) {
				int32_t ix = ox + s * g->dw;
				pj[s] = ix >= 0 && ix < g->w ? crow[ix] : pad;
			}
		}
	}
}

/* The padded image, hp x wp pixels: the input at rows pt.., columns pl.., padding
 * elsewhere, large enough for every window of every output position (bottom and right
 * padding included). rtk_bconv's bit planes, rtk_iconv's code words and the float direct
 * path's padded input (below) are laid out over it. */
static inline int32_t rtk_hwc_hp(const RtkConv *g)
{
	return RTK_MAX(g->h + g->pt, (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1);
}

static inline int32_t rtk_hwc_wp(const RtkConv *g)
{
	return RTK_MAX(g->w + g->pl, (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1);
}

/* ---- float convolution and Gemm (conv.c, gemm.c, the float-activation path of qconv.c) ----
 *
 * Register-blocked micro-kernel: RTK_MR output channels x RTK_PB output positions in
 * vector accumulators (AVX-512: 8 x 3 zmm, RTK_PB 48; AVX2: 4 x 3 ymm; NEON: 4 x 6 q
 * registers), per tap one broadcast
 * weight per channel and RTK_PB/8 (RTK_PB/4) vector loads of the tap's activations. Every
 * output is one accumulator summed over the taps in ascending order (FMA where the
 * compiler contracts), so remainders and paths differ only by contraction.
 *
 * The activations a tap reads for the block's RTK_PB positions are one contiguous row:
 *   - strides 1 and 2 ("direct"): the input is copied once per call into a zero-padded
 *     buffer split into its stride phases [c][sh*sw][hpp][wpp] (RtkTaps); output positions
 *     are numbered on a virtual grid oh x wpp (v = oy*wpp + ox, columns ox >= ow are
 *     computed and dropped), so tap (ci, r, s) of positions v.. is the row at
 *     ci*plane + rtk_tap_off(r, s) + v: no im2col at all (1x1 included; at stride 1,
 *     r*dh*wp + s*dw);
 *   - larger strides: im2col of RTK_PB positions into col [k][RTK_PB];
 *   - at most RTK_DOTMAX positions (Gemm-like layers): patches [npos][kd] and dot products
 *     over k (vector accumulators over k, four channels at a time), as rtk_gemm_f32; the
 *     sign-select layers of rtk_qconv read their packed rows there directly (rtk_sdot).
 * Scratch (rtk_fconv_bytes, pure arithmetic on the geometry): the padded input plus
 * (kw-1)*dw + RTK_PB floats of slack (stride 1), col [k][RTK_PB] (other strides), or
 * npos * rtk_dot_ld(k) floats (Gemm-like). */

#if defined(__AVX512F__)
#include <immintrin.h>
#define RTK_F32_AVX512 1
#define RTK_F32_AVX2 1 /* rtk_dot and the other AVX2 code */
#elif defined(__AVX2__)
#include <immintrin.h>
#define RTK_F32_AVX2 1
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define RTK_F32_NEON 1
#endif

/* output positions per micro-kernel block (vector lanes): 3 vectors */
#if defined(RTK_F32_AVX512)
#define RTK_PB 48
#else
#define RTK_PB 24
#endif
/* vectors per block at most, and floats per vector; a layer's blocks have rtk_fconv_nvec
 * vectors (all, or two thirds when that wastes much less of the last block) */
#if defined(RTK_F32_NEON)
#define RTK_NVMAX 6
#else
#define RTK_NVMAX 3
#endif
#define RTK_VL (RTK_PB / RTK_NVMAX)
/* output channels per micro-kernel block (broadcast weights): 8 x 3 zmm accumulators
 * with AVX-512 (32 registers), else 4 */
#if defined(RTK_F32_AVX512)
#define RTK_MR 8
#else
#define RTK_MR 4
#endif
#define RTK_NB 4      /* blocks of positions that share one pass over a channel block */

/* Fills col [k][RTK_PB] with the patches of the np <= RTK_PB output positions q0.. (row
 * major over oh x ow) of the group whose input channels start at xg; taps outside the
 * input read as 0, and so do the columns p >= np. */
static inline void rtk_im2col_f32(const RtkConv *g, const float *xg, int32_t cg, int32_t q0,
                                  int32_t np, float *col)
{
	int32_t oy[RTK_PB], ox[RTK_PB];
	for (int32_t p = 0; p < RTK_PB; p++) {
		int32_t q = q0 + (p < np ? p : 0);
		oy[p] = p < np ? (q / g->ow) * g->sh - g->pt : -0x40000000;
		ox[p] = (q % g->ow) * g->sw - g->pl;
	}
	float *cj = col;
	for (int32_t ci = 0; ci < cg; ci++) {
		const float *xc = xg + (size_t)ci * g->h * g->w;
		for (int32_t r = 0; r < g->kh; r++)
		for (int32_t s = 0; s < g->kw; s++, cj += RTK_PB)
			for (int32_t p = 0; p < RTK_PB; p++) {
				int32_t iy = oy[p] + r * g->dh, ix = ox[p] + s * g->dw;
				int in = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
				cj[p] = in ? xc[iy * g->w + ix] : 0.0f;
			}
	}
}

/* Where the taps of a block of the direct path read, relative to the block's first
 * position in channel 0: the padded input is split into its sh x sw stride phases (phase
 * (py, px) holds padded pixels (i*sh + py, j*sw + px), wpp columns, php floats), so tap
 * (r, s) of consecutive positions v = oy*wpp + ox is the contiguous row at
 * ((r*dh % sh)*sw + s*dw % sw)*php + (r*dh / sh)*wpp + s*dw / sw. Stride 1: one phase. */
typedef struct {
	int32_t kh, kw, dh, dw, sh, sw, wpp, php;
} RtkTaps;

static inline __attribute__((always_inline)) int32_t rtk_tap_off(const RtkTaps *t, int32_t r,
                                                                 int32_t s)
{
	const int32_t y = r * t->dh, x = s * t->dw;
	return ((y % t->sh) * t->sw + x % t->sw) * t->php + (y / t->sh) * t->wpp + x / t->sw;
}

/* The micro-kernel for nm <= RTK_MR channels (a constant after inlining):
 *   out[i][p] = sum_j w[i*ldw + j] * B_j[p],  p < nv * RTK_VL,
 * taps j ascending over ci < nc, r < kh, s < kw with B_j = b + ci*plane + rtk_tap_off(r, s).
 * over nv vectors (nv * RTK_VL positions). im2col blocks are nc = k taps of 1 x 1 with
 * plane = RTK_PB. */
static inline __attribute__((always_inline)) void
rtk_mk_nm(const float *b, int32_t nc, int32_t plane, RtkTaps t, const float *w, int32_t ldw,
          const int32_t nm, const int32_t nv, float out[RTK_MR][RTK_PB])
{
	const int32_t kh = t.kh, kw = t.kw;
	const float *wj = w;
#if defined(RTK_F32_AVX512)
	__m512 a[RTK_MR][3];
	for (int32_t i = 0; i < nm; i++)
		for (int32_t v = 0; v < nv; v++)
			a[i][v] = _mm512_setzero_ps();
	for (int32_t ci = 0; ci < nc; ci++) {
		const float *bc = b + (size_t)ci * plane;
		for (int32_t r = 0; r < kh; r++)
		for (int32_t s = 0; s < kw; s++, wj++) {
			const float *bj = bc + rtk_tap_off(&t, r, s);
			__m512 bv[3];
			for (int32_t v = 0; v < nv; v++)
				bv[v] = _mm512_loadu_ps(bj + 16 * v);
			for (int32_t i = 0; i < nm; i++) {
				__m512 wv = _mm512_set1_ps(wj[(size_t)i * ldw]);
				for (int32_t v = 0; v < nv; v++)
					a[i][v] = _mm512_fmadd_ps(wv, bv[v], a[i][v]);
			}
		}
	}
	for (int32_t i = 0; i < nm; i++)
		for (int32_t v = 0; v < nv; v++)
			_mm512_storeu_ps(out[i] + 16 * v, a[i][v]);
#elif defined(RTK_F32_AVX2)
	__m256 a[RTK_MR][3];
	for (int32_t i = 0; i < nm; i++)
		for (int32_t v = 0; v < nv; v++)
			a[i][v] = _mm256_setzero_ps();
	for (int32_t ci = 0; ci < nc; ci++) {
		const float *bc = b + (size_t)ci * plane;
		for (int32_t r = 0; r < kh; r++)
		for (int32_t s = 0; s < kw; s++, wj++) {
			const float *bj = bc + rtk_tap_off(&t, r, s);
			__m256 bv[3];
			for (int32_t v = 0; v < nv; v++)
				bv[v] = _mm256_loadu_ps(bj + 8 * v);
			for (int32_t i = 0; i < nm; i++) {
				__m256 wv = _mm256_broadcast_ss(wj + (size_t)i * ldw);
				for (int32_t v = 0; v < nv; v++)
					a[i][v] = _mm256_fmadd_ps(wv, bv[v], a[i][v]);
			}
		}
	}
	for (int32_t i = 0; i < nm; i++)
		for (int32_t v = 0; v < nv; v++)
			_mm256_storeu_ps(out[i] + 8 * v, a[i][v]);
#elif defined(RTK_F32_NEON)
	float32x4_t a[RTK_MR][6];
	for (int32_t i = 0; i < nm; i++)
		for (int32_t v = 0; v < nv; v++)
			a[i][v] = vdupq_n_f32(0.0f);
	for (int32_t ci = 0; ci < nc; ci++) {
		const float *bc = b + (size_t)ci * plane;
		for (int32_t r = 0; r < kh; r++)
		for (int32_t s = 0; s < kw; s++, wj++) {
			const float *bj = bc + rtk_tap_off(&t, r, s);
			float32x4_t bv[6];
			for (int32_t v = 0; v < nv; v++)
				bv[v] = vld1q_f32(bj + 4 * v);
			for (int32_t i = 0; i < nm; i++) {
				float32x4_t wv = vld1q_dup_f32(wj + (size_t)i * ldw);
				for (int32_t v = 0; v < nv; v++)
					a[i][v] = vfmaq_f32(a[i][v], bv[v], wv);
			}
		}
	}
	for (int32_t i = 0; i < nm; i++)
		for (int32_t v = 0; v < nv; v++)
			vst1q_f32(out[i] + 4 * v, a[i][v]);
#else
	float a[RTK_MR][RTK_PB];
	for (int32_t i = 0; i < nm; i++)
		for (int32_t p = 0; p < nv * RTK_VL; p++)
			a[i][p] = 0.0f;
	for (int32_t ci = 0; ci < nc; ci++) {
		const float *bc = b + (size_t)ci * plane;
		for (int32_t r = 0; r < kh; r++)
		for (int32_t s = 0; s < kw; s++, wj++) {
			const float *bj = bc + rtk_tap_off(&t, r, s);
			for (int32_t i = 0; i < nm; i++) {
				float wv = wj[(size_t)i * ldw];
				for (int32_t p = 0; p < nv * RTK_VL; p++)
					a[i][p] += wv * bj[p];
			}
		}
	}
	for (int32_t i = 0; i < nm; i++)
		for (int32_t p = 0; p < nv * RTK_VL; p++)
			out[i][p] = a[i][p];
#endif
}

static inline __attribute__((always_inline)) void
rtk_mk(const float *b, int32_t nc, int32_t plane, RtkTaps t, const float *w, int32_t ldw,
       int32_t nm, int32_t nv, float out[RTK_MR][RTK_PB])
{
#define RTK_MK_NV(m)                                                                      \
	(nv == RTK_NVMAX ? rtk_mk_nm(b, nc, plane, t, w, ldw, m, RTK_NVMAX, out)              \
	                 : rtk_mk_nm(b, nc, plane, t, w, ldw, m, RTK_NVMAX * 2 / 3, out))
	switch (nm) {
	case 1: RTK_MK_NV(1); break;
	case 2: RTK_MK_NV(2); break;
	case 3: RTK_MK_NV(3); break;
#if RTK_MR > 4
	case 4: RTK_MK_NV(4); break;
	case 5: RTK_MK_NV(5); break;
	case 6: RTK_MK_NV(6); break;
	case 7: RTK_MK_NV(7); break;
#endif
	default: RTK_MK_NV(RTK_MR); break;
	}
#undef RTK_MK_NV
}

#if defined(RTK_F32_AVX2)
static inline float rtk_hsum8(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}
#endif

/* Dot products of one row a [k] with nw <= 4 rows w + i*ldw (nw a constant after
 * inlining): out[i] = sum_j a[j] * w_i[j], with vector partial sums over j. */
static inline __attribute__((always_inline)) void
rtk_dot_nw(const float *a, const float *w, int32_t ldw, int32_t k, const int32_t nw,
           float out[4])
{
#if defined(RTK_F32_AVX2)
	__m256 s[4][2];
	for (int32_t i = 0; i < nw; i++)
		s[i][0] = s[i][1] = _mm256_setzero_ps();
	int32_t j = 0;
	for (; j + 16 <= k; j += 16) {
		__m256 a0 = _mm256_loadu_ps(a + j), a1 = _mm256_loadu_ps(a + j + 8);
		for (int32_t i = 0; i < nw; i++) {
			const float *wi = w + (size_t)i * ldw + j;
			s[i][0] = _mm256_fmadd_ps(_mm256_loadu_ps(wi), a0, s[i][0]);
			s[i][1] = _mm256_fmadd_ps(_mm256_loadu_ps(wi + 8), a1, s[i][1]);
		}
	}
	if (j + 8 <= k) {
		__m256 a0 = _mm256_loadu_ps(a + j);
		for (int32_t i = 0; i < nw; i++)
			s[i][0] = _mm256_fmadd_ps(_mm256_loadu_ps(w + (size_t)i * ldw + j), a0, s[i][0]);
		j += 8;
	}
	if (j < k) { /* 1..7 taps left: masked loads read nothing past k */
		__m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(k - j),
		                                  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		__m256 a0 = _mm256_maskload_ps(a + j, mask);
		for (int32_t i = 0; i < nw; i++)
			s[i][1] = _mm256_fmadd_ps(_mm256_maskload_ps(w + (size_t)i * ldw + j, mask), a0,
			                          s[i][1]);
	}
	for (int32_t i = 0; i < nw; i++)
		out[i] = rtk_hsum8(_mm256_add_ps(s[i][0], s[i][1]));
#elif defined(RTK_F32_NEON)
	float32x4_t s[4][4];
	for (int32_t i = 0; i < nw; i++)
		for (int32_t v = 0; v < 4; v++)
			s[i][v] = vdupq_n_f32(0.0f);
	int32_t j = 0;
	for (; j + 16 <= k; j += 16) {
		float32x4_t av[4];
		for (int32_t v = 0; v < 4; v++)
			av[v] = vld1q_f32(a + j + 4 * v);
		for (int32_t i = 0; i < nw; i++)
			for (int32_t v = 0; v < 4; v++)
				s[i][v] = vfmaq_f32(s[i][v], vld1q_f32(w + (size_t)i * ldw + j + 4 * v), av[v]);
	}
	for (; j + 4 <= k; j += 4) {
		float32x4_t a0 = vld1q_f32(a + j);
		for (int32_t i = 0; i < nw; i++)
			s[i][0] = vfmaq_f32(s[i][0], vld1q_f32(w + (size_t)i * ldw + j), a0);
	}
	for (int32_t i = 0; i < nw; i++) {
		float t = vaddvq_f32(vaddq_f32(vaddq_f32(s[i][0], s[i][1]), vaddq_f32(s[i][2], s[i][3])));
		for (int32_t jj = j; jj < k; jj++)
			t += a[jj] * w[(size_t)i * ldw + jj];
		out[i] = t;
	}
#else
	float s[4][8];
	for (int32_t i = 0; i < nw; i++)
		for (int32_t l = 0; l < 8; l++)
			s[i][l] = 0.0f;
	int32_t j = 0;
	for (; j + 8 <= k; j += 8)
		for (int32_t i = 0; i < nw; i++)
			for (int32_t l = 0; l < 8; l++)
				s[i][l] += a[j + l] * w[(size_t)i * ldw + j + l];
	for (int32_t l = 0; j < k; j++, l++)
		for (int32_t i = 0; i < nw; i++)
			s[i][l] += a[j] * w[(size_t)i * ldw + j];
	for (int32_t i = 0; i < nw; i++)
		out[i] = ((s[i][0] + s[i][4]) + (s[i][1] + s[i][5])) +
		         ((s[i][2] + s[i][6]) + (s[i][3] + s[i][7]));
#endif
}

static inline __attribute__((always_inline)) void
rtk_dot(const float *a, const float *w, int32_t ldw, int32_t k, int32_t nw, float out[4])
{
	switch (nw) {
	case 1: rtk_dot_nw(a, w, ldw, k, 1, out); break;
	case 2: rtk_dot_nw(a, w, ldw, k, 2, out); break;
	case 3: rtk_dot_nw(a, w, ldw, k, 3, out); break;
	default: rtk_dot_nw(a, w, ldw, k, 4, out); break;
	}
}

/* Patch row stride of the dot-product path: k rounded up to 64 taps (zero padded), so the
 * sign-select dot below reads whole 32-tap words. */
static inline int32_t rtk_dot_ld(int32_t k)
{
	return (k + 63) & ~63;
}

/* Sign-select dot product of a patch a [kp] (kp a multiple of 32, zero past k) with a
 * packed weight row (tp: bit j set for t_j = +1; tm: t_j = -1, or NULL for a binary row,
 * where a clear bit is t_j = -1): sum_j t_j a_j, t_j made as a float vector from the
 * weight bits (shifted to the sign bit) without unpacking the row to memory. */
static inline __attribute__((always_inline)) float
rtk_sdot(const float *a, const uint64_t *tp, const uint64_t *tm, int32_t kp)
{
	const uint32_t *up = (const uint32_t *)(const void *)tp;
	const uint32_t *um = (const uint32_t *)(const void *)tm;
#if defined(RTK_F32_AVX2)
	/* lane i of group g moves bit 8g+i of the 32-tap word to the sign bit */
	const __m256i sh0 = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
	const __m256i s8 = _mm256_set1_epi32(8);
	const __m256 sign = _mm256_set1_ps(-0.0f), one = _mm256_set1_ps(1.0f);
	__m256 acc[4];
	for (int32_t g = 0; g < 4; g++)
		acc[g] = _mm256_setzero_ps();
	for (int32_t j = 0; j < kp; j += 32) {
		__m256i bp = _mm256_set1_epi32((int32_t)up[j / 32]);
		__m256i bm = tm ? _mm256_set1_epi32((int32_t)um[j / 32]) : bp;
		__m256i sh = sh0;
		for (int32_t g = 0; g < 4; g++, sh = _mm256_sub_epi32(sh, s8)) {
			__m256 x = _mm256_loadu_ps(a + j + 8 * g);
			__m256 vp = _mm256_castsi256_ps(_mm256_sllv_epi32(bp, sh));
			__m256 t;
			if (tm) { /* t = +-1 where a bit is set (sign from T-), 0 where none is */
				__m256i vm = _mm256_sllv_epi32(bm, sh);
				__m256 nz = _mm256_castsi256_ps(
					_mm256_srai_epi32(_mm256_or_si256(_mm256_castps_si256(vp), vm), 31));
				t = _mm256_xor_ps(_mm256_and_ps(nz, one),
				                  _mm256_and_ps(_mm256_castsi256_ps(vm), sign));
			} else { /* +1, or -1 where the bit is clear */
				t = _mm256_xor_ps(one, _mm256_andnot_ps(vp, sign));
			}
			acc[g] = _mm256_fmadd_ps(t, x, acc[g]);
		}
	}
	return rtk_hsum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
#elif defined(RTK_F32_NEON)
	static const int32_t shv[4] = {31, 30, 29, 28};
	const int32x4_t sh0 = vld1q_s32(shv), s4 = vdupq_n_s32(4);
	const uint32x4_t sign = vdupq_n_u32(0x80000000u), one = vdupq_n_u32(0x3f800000u);
	float32x4_t acc[4];
	for (int32_t g = 0; g < 4; g++)
		acc[g] = vdupq_n_f32(0.0f);
	for (int32_t j = 0; j < kp; j += 32) {
		uint32x4_t bp = vdupq_n_u32(up[j / 32]);
		uint32x4_t bm = tm ? vdupq_n_u32(um[j / 32]) : bp;
		int32x4_t sh = sh0;
		for (int32_t g = 0; g < 8; g++, sh = vsubq_s32(sh, s4)) {
			float32x4_t x = vld1q_f32(a + j + 4 * g);
			uint32x4_t vp = vshlq_u32(bp, sh), t;
			if (tm) { /* t = +-1 where a bit is set (sign from T-), 0 where none is */
				uint32x4_t vm = vshlq_u32(bm, sh);
				uint32x4_t nz = vreinterpretq_u32_s32(
					vshrq_n_s32(vreinterpretq_s32_u32(vorrq_u32(vp, vm)), 31));
				t = veorq_u32(vandq_u32(nz, one), vandq_u32(vm, sign));
			} else { /* +1, or -1 where the bit is clear */
				t = veorq_u32(one, vbicq_u32(sign, vp));
			}
			acc[g % 4] = vfmaq_f32(acc[g % 4], vreinterpretq_f32_u32(t), x);
		}
	}
	return vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
#else
	float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	for (int32_t j = 0; j < kp; j++) {
		int bit = (int)((up[j / 32] >> (j % 32)) & 1);
		float t = tm ? (float)(bit - (int)((um[j / 32] >> (j % 32)) & 1))
		             : (float)(2 * bit - 1);
		acc[j % 8] += t * a[j];
	}
	return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
#endif
}

/* Weight rows of the float convolutions: float rows [m][k] (wf), or packed sign rows as
 * rtk_qconv reads them (wq; kwords words per plane, binary: one plane) unpacked per block
 * of channels into wbuf [RTK_MR][kp] (kp = k rounded up to 8) as -1/0/+1 floats. */
typedef struct {
	const float *wf;
	const uint64_t *wq;
	int32_t kwords, binary, kp;
	float *wbuf;
} RtkWSrc;

/* Rows m0 .. m0+nm-1 as floats; *ldw gets their stride. */
static inline __attribute__((always_inline)) const float *
rtk_wrows(const RtkWSrc *ws, int32_t k, int32_t m0, int32_t nm, int32_t *ldw)
{
	if (ws->wf) {
		*ldw = k;
		return ws->wf + (size_t)m0 * k;
	}
	for (int32_t r = 0; r < nm; r++) {
		int32_t m = m0 + r;
		const uint64_t *tp = ws->wq + (size_t)(ws->binary ? m : 2 * m) * ws->kwords;
		const uint64_t *tm = tp + ws->kwords;
		/* little endian: byte q of a row holds taps 8q..8q+7 */
		const uint8_t *bp = (const uint8_t *)tp, *bm = (const uint8_t *)tm;
		float *d = ws->wbuf + (size_t)r * ws->kp;
#if defined(RTK_F32_AVX2)
		const __m256i sel = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
		const __m256 one = _mm256_set1_ps(1.0f), neg = _mm256_set1_ps(-1.0f);
		for (int32_t q = 0; q < ws->kp / 8; q++) {
			__m256i vp = _mm256_and_si256(_mm256_set1_epi32(bp[q]), sel);
			__m256 fp = _mm256_castsi256_ps(_mm256_cmpeq_epi32(vp, sel));
			__m256 t;
			if (ws->binary) {
				t = _mm256_blendv_ps(neg, one, fp);
			} else {
				__m256i vm = _mm256_and_si256(_mm256_set1_epi32(bm[q]), sel);
				__m256 fm = _mm256_castsi256_ps(_mm256_cmpeq_epi32(vm, sel));
				t = _mm256_sub_ps(_mm256_and_ps(fp, one), _mm256_and_ps(fm, one));
			}
			_mm256_storeu_ps(d + q * 8, t);
		}
#elif defined(RTK_F32_NEON)
		static const uint32_t selv[8] = {1, 2, 4, 8, 16, 32, 64, 128};
		const uint32x4_t s0 = vld1q_u32(selv), s1 = vld1q_u32(selv + 4);
		const float32x4_t one = vdupq_n_f32(1.0f), neg = vdupq_n_f32(-1.0f);
		for (int32_t q = 0; q < ws->kp / 8; q++) {
			uint32x4_t vp = vdupq_n_u32(bp[q]);
			uint32x4_t p0 = vtstq_u32(vp, s0), p1 = vtstq_u32(vp, s1);
			float32x4_t t0, t1;
			if (ws->binary) {
				t0 = vbslq_f32(p0, one, neg);
				t1 = vbslq_f32(p1, one, neg);
			} else {
				uint32x4_t vm = vdupq_n_u32(bm[q]);
				uint32x4_t n0 = vtstq_u32(vm, s0), n1 = vtstq_u32(vm, s1);
				uint32x4_t ob = vreinterpretq_u32_f32(one);
				t0 = vsubq_f32(vreinterpretq_f32_u32(vandq_u32(p0, ob)),
				               vreinterpretq_f32_u32(vandq_u32(n0, ob)));
				t1 = vsubq_f32(vreinterpretq_f32_u32(vandq_u32(p1, ob)),
				               vreinterpretq_f32_u32(vandq_u32(n1, ob)));
			}
			vst1q_f32(d + q * 8, t0);
			vst1q_f32(d + q * 8 + 4, t1);
		}
#else
		for (int32_t q = 0; q < ws->kp / 8; q++) {
			int32_t vp = bp[q], vm = ws->binary ? 0 : bm[q];
			for (int32_t i = 0; i < 8; i++) {
				int32_t t = ws->binary ? 2 * ((vp >> i) & 1) - 1
				                       : ((vp >> i) & 1) - ((vm >> i) & 1);
				d[q * 8 + i] = (float)t;
			}
		}
#endif
	}
	*ldw = ws->kp;
	return ws->wbuf;
}

/* Output of channel m: scale (sign-select): fl(scale[m] * acc) + bias[m] as two
 * statements; else acc + bias[m]; then relu, then the fused Clip's upper bound (as
 * rtk_clip after rtk_relu: NaN and -0.0 pass). */
static inline __attribute__((always_inline)) float
rtk_fout(float acc, const float *scale, const float *bias, int32_t m, int32_t relu,
         float clip)
{
	float o;
	if (scale) {
		o = scale[m] * acc;
		o = o + (bias ? bias[m] : 0.0f);
	} else {
		o = acc + (bias ? bias[m] : 0.0f);
	}
	o = relu && o < 0.0f ? 0.0f : o;
	return clip > 0.0f && o > clip ? clip : o;
}

/* The padded input of the direct path (strides up to 2; larger ones take im2col):
 * [c][sh*sw phases][hpp][wpp] floats (RtkTaps), then slack for the reads of the last block
 * past the last row (zeros). */
static inline int32_t rtk_direct(const RtkConv *g)
{
	return g->sh <= 2 && g->sw <= 2;
}

/* 1x1 stride-1 layers without padding read the input itself (no copy): every block but
 * a partial last one, which reads a copy of its positions in private scratch [c][RTK_PB]
 * (the block's loads would run past the input's end). */
static inline int32_t rtk_inplace(const RtkConv *g)
{
	return g->group == 1 && g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 &&
	       g->pt == 0 && g->pl == 0 && g->oh == g->h && g->ow == g->w;
}

static inline RtkTaps rtk_taps(const RtkConv *g)
{
	const int32_t hpp = (rtk_hwc_hp(g) + g->sh - 1) / g->sh;
	const int32_t wpp = (rtk_hwc_wp(g) + g->sw - 1) / g->sw;
	return (RtkTaps){g->kh, g->kw, g->dh, g->dw, g->sh, g->sw, wpp, hpp * wpp};
}

/* Floats per channel of the padded input, and the slack after the last. */
static inline int32_t rtk_pad_plane(const RtkConv *g)
{
	return g->sh * g->sw * rtk_taps(g).php;
}

static inline size_t rtk_pad_slack(const RtkConv *g)
{
	return (size_t)rtk_taps(g).wpp + (size_t)g->kw * g->dw + RTK_PB;
}

static inline size_t rtk_pad_floats(const RtkConv *g)
{
	return (size_t)g->c * rtk_pad_plane(g) + rtk_pad_slack(g);
}

/* Grouped layers on the direct path pad each group's channels into a region of its own
 * (its planes, then the same slack), inside the work unit of the group: a task then reads
 * only what it wrote itself (depthwise layers read each input once or so; had another
 * core padded it, moving it over would cost more than the layer). */
static inline size_t rtk_pad_group_floats(const RtkConv *g)
{
	return (size_t)(g->c / g->group) * rtk_pad_plane(g) + rtk_pad_slack(g);
}

/* Copies channels [c0, c0 + n) of x into the zeroed padded phases at dst. */
static inline __attribute__((always_inline)) void
rtk_pad_planes(const RtkConv *g, const float *x, int32_t c0, int32_t n, float *dst, size_t len)
{
	const RtkTaps t = rtk_taps(g);
	const int32_t plane = rtk_pad_plane(g), hw = g->h * g->w;
	__builtin_memset(dst, 0, len * sizeof(float));
	for (int32_t ci = 0; ci < n; ci++)
		for (int32_t iy = 0; iy < g->h; iy++) {
			const int32_t yy = iy + g->pt;
			float *row = dst + (size_t)ci * plane + (size_t)(yy % g->sh) * g->sw * t.php +
			             (size_t)(yy / g->sh) * t.wpp;
			const float *src = x + (size_t)(c0 + ci) * hw + (size_t)iy * g->w;
			if (g->sw == 1) {
				__builtin_memcpy(row + g->pl, src, (size_t)g->w * sizeof(float));
				continue;
			}
			for (int32_t ix = 0; ix < g->w; ix++) {
				const int32_t xx = ix + g->pl;
				row[(size_t)(xx % g->sw) * t.php + xx / g->sw] = src[ix];
			}
		}
}

/* The three paths, chosen from the geometry alone. */
static inline int32_t rtk_fconv_dotpath(const RtkConv *g)
{
	return g->oh * g->ow <= RTK_DOTMAX;
}

/* Vectors per block of the direct path: two thirds of RTK_NVMAX when that computes at
 * least 15% fewer positions (the last block's unused ones; 7x7 layers at RTK_PB 48 waste
 * a third of their work), else all. Positions per block: rtk_fconv_pbw. */
static inline int32_t rtk_fconv_nvec(const RtkConv *g)
{
	if (rtk_fconv_dotpath(g) || !rtk_direct(g))
		return RTK_NVMAX;
	const int64_t nv = (int64_t)g->oh * rtk_taps(g).wpp, small = RTK_NVMAX * 2 / 3 * RTK_VL;
	const int64_t full = (nv + RTK_PB - 1) / RTK_PB * RTK_PB;
	const int64_t part = (nv + small - 1) / small * small;
	return part * 115 < full * 100 ? RTK_NVMAX * 2 / 3 : RTK_NVMAX;
}

static inline int32_t rtk_fconv_pbw(const RtkConv *g)
{
	return rtk_fconv_nvec(g) * RTK_VL;
}

/* Blocks of the direct path's virtual grid (oh x wpp positions). */
static inline int32_t rtk_fconv_nblk(const RtkConv *g)
{
	return (g->oh * rtk_taps(g).wpp + rtk_fconv_pbw(g) - 1) / rtk_fconv_pbw(g);
}

/* rtk_fconv in two steps, so that threads can share the second (generated code's
 * NAME_run_parallel): rtk_fconv_prep fills the shared buffer once per call (the patches
 * [group][npos][kd] of the dot-product path, the padded input of the direct path without
 * groups, nothing for im2col), then rtk_fconv_part computes work units [lo, hi) of
 * rtk_fconv_units:
 *   - dot-product path: (group, block of RTK_MR channels);
 *   - direct path without groups: (group of RTK_NB position blocks, block of RTK_MR
 *     channels, position block of the group), in that order (all units in order are the
 *     serial loop nest; every unit is one micro-kernel run, so equal ranges of units are
 *     equal work; the last group of blocks may have fewer);
 *   - direct path with groups: one group, whose channels the unit pads itself into the
 *     group's own region of the shared buffer (rtk_pad_group_floats);
 *   - im2col: (group, block of RTK_PB positions), on private scratch (its col).
 * Which units a call computes never changes an output. Bytes of each: */
static inline size_t rtk_fconv_shared(const RtkConv *g)
{
	int32_t k = g->c / g->group * g->kh * g->kw, npos = g->oh * g->ow;
	size_t n = rtk_fconv_dotpath(g) ? (size_t)g->group * npos * rtk_dot_ld(k)
	           : !rtk_direct(g) || rtk_inplace(g) ? 0
	           : g->group > 1 ? (size_t)g->group * rtk_pad_group_floats(g) : rtk_pad_floats(g);
	return rtk_align64(n * sizeof(float));
}

static inline size_t rtk_fconv_priv(const RtkConv *g)
{
	int32_t k = g->c / g->group * g->kh * g->kw;
	size_t n = rtk_fconv_dotpath(g) ? 0
	           : rtk_inplace(g) ? (size_t)g->c * RTK_PB
	           : rtk_direct(g) ? 0 : (size_t)k * RTK_PB;
	return rtk_align64(n * sizeof(float));
}

/* Serial scratch: the shared buffer, then the private one (at least 64 bytes in all). */
static inline size_t rtk_fconv_bytes(const RtkConv *g)
{
	size_t n = rtk_fconv_shared(g) + rtk_fconv_priv(g);
	return n ? n : 64;
}

static inline int32_t rtk_fconv_units(const RtkConv *g)
{
	const int32_t mg = g->m / g->group, npos = g->oh * g->ow;
	const int32_t nmb = (mg + RTK_MR - 1) / RTK_MR;
	if (rtk_fconv_dotpath(g))
		return g->group * nmb;
	if (rtk_direct(g))
		return g->group > 1 ? g->group : rtk_fconv_nblk(g) * nmb;
	return g->group * ((npos + RTK_PB - 1) / RTK_PB);
}

static inline __attribute__((always_inline)) void
rtk_fconv_prep(const RtkConv *g, const float *x, float *sh)
{
	const int32_t cg = g->c / g->group, k = cg * g->kh * g->kw, npos = g->oh * g->ow;
	const int32_t hw = g->h * g->w;
	if (rtk_fconv_dotpath(g)) { /* patches [group][npos][kd] */
		const int32_t kd = rtk_dot_ld(k);
		float *pq = sh;
		for (int32_t grp = 0; grp < g->group; grp++) {
			const float *xg = x + (size_t)grp * cg * hw;
			for (int32_t q = 0; q < npos; q++) {
				int32_t oy = (q / g->ow) * g->sh - g->pt, ox = (q % g->ow) * g->sw - g->pl;
				for (int32_t ci = 0; ci < cg; ci++)
				for (int32_t r = 0; r < g->kh; r++)
				for (int32_t s = 0; s < g->kw; s++) {
					int32_t iy = oy + r * g->dh, ix = ox + s * g->dw;
					*pq++ = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w
					        ? xg[(size_t)ci * hw + iy * g->w + ix] : 0.0f;
				}
				for (int32_t j = k; j < kd; j++)
					*pq++ = 0.0f;
			}
		}
	} else if (rtk_direct(g) && g->group == 1 && !rtk_inplace(g)) { /* the padded input */
		rtk_pad_planes(g, x, 0, g->c, sh, rtk_pad_floats(g));
	}
}

/* One micro-kernel block of the direct path: channels m0 .. m0+nm-1 (rows wr, stride ldw)
 * at position block blk of the virtual grid, reading the block's first position at xb in
 * its group's first channel (channels plane floats apart). */
static inline __attribute__((always_inline)) void
rtk_fconv_block(const RtkConv *g, const float *xb, int32_t plane, const float *wr, int32_t ldw,
                int32_t m0, int32_t nm, int32_t blk, const float *scale, const float *bias,
                float *y)
{
	const RtkTaps t = rtk_taps(g);
	const int32_t wpp = t.wpp, npos = g->oh * g->ow;
	float acc[RTK_MR][RTK_PB];
	const int32_t pbw = rtk_fconv_pbw(g), v0 = blk * pbw;
	rtk_mk(xb, g->c / g->group, plane, t, wr, ldw, nm, rtk_fconv_nvec(g), acc);
	for (int32_t r = 0; r < nm; r++)
		for (int32_t p = 0; p < pbw; p++)
			acc[r][p] = rtk_fout(acc[r][p], scale, bias, m0 + r, g->relu, g->clip);
	/* runs of valid columns (ox < ow) of the rows the block covers */
	int32_t oy = v0 / wpp, ox = v0 - oy * wpp;
	for (int32_t p = 0; p < pbw && oy < g->oh;) {
		int32_t n = RTK_MIN(pbw - p, wpp - ox);
		int32_t nvalid = RTK_MIN(n, g->ow - ox);
		for (int32_t r = 0; nvalid > 0 && r < nm; r++)
			__builtin_memcpy(y + (size_t)(m0 + r) * npos + oy * g->ow + ox, acc[r] + p,
			                 (size_t)nvalid * sizeof(float));
		p += n;
		ox = 0, oy++;
	}
}

/* Units [lo, hi) of the float convolution of one sample with weights ws,
 * y = rtk_fout(acc); sh: the buffer rtk_fconv_prep filled, pv: rtk_fconv_priv bytes. */
static inline __attribute__((always_inline)) void
rtk_fconv_part(const RtkConv *g, const float *x, const RtkWSrc *ws, const float *scale,
               const float *bias, float *y, float *sh, float *pv, int64_t lo, int64_t hi)
{
	const int32_t cg = g->c / g->group, mg = g->m / g->group;
	const int32_t k = cg * g->kh * g->kw, npos = g->oh * g->ow, hw = g->h * g->w;
	const int32_t nmb = (mg + RTK_MR - 1) / RTK_MR;

	if (rtk_fconv_dotpath(g)) { /* Gemm-like: patches [npos][kd], dot products over k */
		const int32_t kd = rtk_dot_ld(k);
		for (int64_t u = lo; u < hi; u++) {
			const int32_t grp = (int32_t)(u / nmb), m0 = grp * mg + (int32_t)(u % nmb) * RTK_MR;
			const int32_t nm = RTK_MIN(RTK_MR, (grp + 1) * mg - m0);
			const float *pg = sh + (size_t)grp * npos * kd;
			if (ws->wq) { /* sign-select straight from the packed rows */
				for (int32_t m = m0; m < m0 + nm; m++) {
					const uint64_t *tp = ws->wq + (size_t)(ws->binary ? m : 2 * m) * ws->kwords;
					const uint64_t *tm = ws->binary ? 0 : tp + ws->kwords;
					for (int32_t q = 0; q < npos; q++)
						y[(size_t)m * npos + q] = rtk_fout(
							rtk_sdot(pg + (size_t)q * kd, tp, tm, kd), scale, bias, m, g->relu,
							g->clip);
				}
				continue;
			}
			int32_t ldw;
			const float *wr = rtk_wrows(ws, k, m0, nm, &ldw);
			for (int32_t q = 0; q < npos; q++)
				for (int32_t r0 = 0; r0 < nm; r0 += 4) { /* rtk_dot: 4 rows at a time */
					float o[4];
					const int32_t n4 = RTK_MIN(4, nm - r0);
					rtk_dot(pg + (size_t)q * kd, wr + (size_t)r0 * ldw, ldw, k, n4, o);
					for (int32_t r = 0; r < n4; r++)
						y[(size_t)(m0 + r0 + r) * npos + q] =
							rtk_fout(o[r], scale, bias, m0 + r0 + r, g->relu, g->clip);
				}
		}
		return;
	}

	if (rtk_direct(g)) {
		const int32_t pbw = rtk_fconv_pbw(g), nblk = rtk_fconv_nblk(g);
		if (g->group > 1) { /* unit = group: pad its channels, then every block */
			for (int64_t u = lo; u < hi; u++) {
				const int32_t grp = (int32_t)u;
				float *xg = sh + (size_t)grp * rtk_pad_group_floats(g);
				rtk_pad_planes(g, x, grp * cg, cg, xg, rtk_pad_group_floats(g));
				for (int32_t m0 = grp * mg; m0 < (grp + 1) * mg; m0 += RTK_MR) {
					int32_t nm = RTK_MIN(RTK_MR, (grp + 1) * mg - m0), ldw;
					const float *wr = rtk_wrows(ws, k, m0, nm, &ldw);
					for (int32_t blk = 0; blk < nblk; blk++)
						rtk_fconv_block(g, xg + blk * pbw, rtk_pad_plane(g), wr, ldw, m0, nm,
						                blk, scale, bias, y);
				}
			}
			return;
		}
		const int32_t nfull = nblk / RTK_NB, rest = nblk % RTK_NB;
		const int64_t ufull = (int64_t)nfull * RTK_NB * nmb;
		int32_t wm0 = -1, ldw = 0, tail = 0;
		const float *wr = 0;
		for (int64_t u = lo; u < hi; u++) {
			/* unit (b0, mb, j): block b0 * RTK_NB + j, channel block mb; the last group
			 * of blocks has `rest` blocks */
			const int32_t last = u >= ufull, nb = last ? rest : RTK_NB;
			const int64_t w = last ? u - ufull : u;
			const int32_t b0 = last ? nfull : (int32_t)(w / ((int64_t)RTK_NB * nmb));
			const int32_t mb = (int32_t)(w / nb % nmb), blk = b0 * RTK_NB + (int32_t)(w % nb);
			const int32_t m0 = mb * RTK_MR, nm = RTK_MIN(RTK_MR, mg - m0);
			if (m0 != wm0) /* sign-select rows are unpacked once per run of units */
				wr = rtk_wrows(ws, k, m0, nm, &ldw), wm0 = m0;
			if (!rtk_inplace(g)) {
				rtk_fconv_block(g, sh + blk * pbw, rtk_pad_plane(g), wr, ldw, m0, nm, blk,
				                scale, bias, y);
			} else if ((blk + 1) * pbw <= npos) {
				rtk_fconv_block(g, x + blk * pbw, hw, wr, ldw, m0, nm, blk, scale, bias, y);
			} else { /* the partial last block, from a copy of its positions */
				if (!tail) {
					const int32_t n = npos - blk * pbw;
					for (int32_t ci = 0; ci < g->c; ci++) {
						__builtin_memcpy(pv + (size_t)ci * RTK_PB, x + (size_t)ci * hw + blk * pbw,
						                 (size_t)n * sizeof(float));
						__builtin_memset(pv + (size_t)ci * RTK_PB + n, 0,
						                 (size_t)(RTK_PB - n) * sizeof(float));
					}
					tail = 1;
				}
				rtk_fconv_block(g, pv, RTK_PB, wr, ldw, m0, nm, blk, scale, bias, y);
			}
		}
		return;
	}

	const int32_t nqb = (npos + RTK_PB - 1) / RTK_PB;
	float acc[RTK_MR][RTK_PB];
	for (int64_t u = lo; u < hi; u++) {
		const int32_t grp = (int32_t)(u / nqb), q0 = (int32_t)(u % nqb) * RTK_PB;
		const int32_t np = RTK_MIN(RTK_PB, npos - q0);
		rtk_im2col_f32(g, x + (size_t)grp * cg * hw, cg, q0, np, pv);
		for (int32_t m0 = grp * mg; m0 < (grp + 1) * mg; m0 += RTK_MR) {
			int32_t nm = RTK_MIN(RTK_MR, (grp + 1) * mg - m0), ldw;
			const float *wr = rtk_wrows(ws, k, m0, nm, &ldw);
			rtk_mk(pv, k, RTK_PB, (RtkTaps){1, 1, 1, 1, 1, 1, 0, 0}, wr, ldw, nm, RTK_NVMAX, acc);
			for (int32_t r = 0; r < nm; r++)
				for (int32_t q = 0; q < np; q++)
					y[(size_t)(m0 + r) * npos + q0 + q] =
						rtk_fout(acc[r][q], scale, bias, m0 + r, g->relu, g->clip);
		}
	}
}

/* The float convolution of one sample, serially; buf: rtk_fconv_bytes(g) bytes. */
static inline __attribute__((always_inline)) void
rtk_fconv(const RtkConv *g, const float *x, const RtkWSrc *ws, const float *scale,
          const float *bias, float *y, float *buf)
{
	rtk_fconv_prep(g, x, buf);
	rtk_fconv_part(g, x, ws, scale, bias, y, buf,
	               (float *)(void *)((char *)buf + rtk_fconv_shared(g)), 0, rtk_fconv_units(g));
}

#endif
