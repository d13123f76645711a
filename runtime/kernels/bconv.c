/* runtime/kernels/bconv.c: the bit-serial convolution on channels-last bit planes
 * (rtk_bconv; the layout and the integer identities are in kernels.h).
 *
 * Per call and group:
 *   1. the group's input channels are quantized to code bytes v = u + qn, channels-last
 *      [h*w][cwn*64] (channel padding 0), and every pixel's 64-byte channel rows become
 *      `bits` plane words (two with nib), written into the padded image; padding pixels
 *      get the planes of v = qn;
 *   2. per weight tile (RTK_BS_MT = 8 channels) and block of 4 consecutive output
 *      positions, a register tile of 2 x 4 accumulators (two quads of channels in the
 *      vector lanes, four positions): per tap and channel word one broadcast activation
 *      word per position, XORed (binary) or selected (ternary) with the tile's weight
 *      vectors and popcounted into byte counters, which are widened to 64-bit lanes
 *      (vpsadbw / UADALP) every 31 steps and at the end of each plane;
 *   3. y = fl(fl(fl(scale * step) * fl(S)) + bias), relu as `o < 0 ? 0 : o`, in vector
 *      form (no FMA: separate multiply and add), stored four positions at a time.
 * The weight tile (at most a few KiB) stays in L1 over the positions; the activation
 * planes of a 3x3 layer are read kh*kw times from L1/L2.
 *
 * The scalar twin computes the same integers with __builtin_popcountll and the same
 * float statements, so outputs are bit-identical.
 */
#include "rtk_internal.h"

#if defined(__AVX2__)
#include <immintrin.h>
#if defined(__AVX512F__) && defined(__AVX512VPOPCNTDQ__)
#define BS_AVX512 1
#endif
#elif defined(__ARM_NEON) && defined(__aarch64__)
#include <arm_neon.h>
#define BS_NEON 1
#endif

#define BS_NP 4 /* output positions per register tile */

static inline int32_t bs_halves(const RtkQConv *p)
{
	return p->nib ? 2 : 1;
}

/* Words per pixel of the activation planes. */
static inline int32_t bs_pw(const RtkQConv *p)
{
	return p->bits * rtk_bs_cwn(p) * bs_halves(p);
}

/* Word offset of tap (r, s), plane b, channel word 0 from a position's pixel words. */
static inline size_t bs_off(const RtkQConv *p, int32_t r, int32_t s, int32_t b)
{
	const RtkConv *g = &p->g;
	return ((size_t)r * g->dh * rtk_hwc_wp(g) + (size_t)s * g->dw) * bs_pw(p) +
	       (size_t)b * rtk_bs_cwn(p) * bs_halves(p);
}

/* Scratch (shared by the threads of NAME_run_parallel): codes [h*w][cwn*64] bytes, the
 * codes of a group's channels one after the other [cg][h*w] (quantized in order, then
 * transposed), then the planes [hp][wp][pw] words of every group. */
static inline size_t bs_codes_bytes(const RtkQConv *p)
{
	return rtk_align64((size_t)p->g.h * p->g.w * rtk_bs_cwn(p) * 64) +
	       rtk_align64((size_t)(p->g.c / p->g.group) * p->g.h * p->g.w);
}

static inline size_t bs_planes_bytes(const RtkQConv *p)
{
	return rtk_align64((size_t)rtk_hwc_hp(&p->g) * rtk_hwc_wp(&p->g) * bs_pw(p) * 8);
}

size_t rtk_bconv_shared(const RtkQConv *p)
{
	return bs_codes_bytes(p) + (size_t)p->g.group * bs_planes_bytes(p);
}

size_t rtk_bconv_priv(const RtkQConv *p)
{
	(void)p;
	return 0;
}

size_t rtk_bconv_scratch(const RtkQConv *p)
{
	return rtk_bconv_shared(p);
}

/* Work units: (group, weight tile). */
int64_t rtk_bconv_units(const RtkQConv *p)
{
	return (int64_t)p->g.group * rtk_bs_tiles(p);
}

/* Stores plane word wd of plane b, channel word cw at pixel words dst. */
static inline void bs_store(const RtkQConv *p, uint64_t *dst, int32_t b, int32_t cw, uint64_t wd)
{
	const int32_t cwn = rtk_bs_cwn(p);
	if (p->nib) {
		const uint64_t lo4 = 0x0f0f0f0f0f0f0f0full;
		dst[((size_t)b * cwn + cw) * 2] = wd & lo4;
		dst[((size_t)b * cwn + cw) * 2 + 1] = (wd >> 4) & lo4;
	} else {
		dst[(size_t)b * cwn + cw] = wd;
	}
}

/* Step 1 for group grp (see the file comment). */
static inline __attribute__((always_inline)) void
bs_pack(const RtkQConv *p, const float *x, int32_t grp, uint8_t *codes, uint64_t *a,
        uint8_t *chw, int simd)
{
	const RtkConv *g = &p->g;
	const int32_t cg = g->c / g->group, cwn = rtk_bs_cwn(p), cp = cwn * 64;
	const int32_t hw = g->h * g->w, hp = rtk_hwc_hp(g), wp = rtk_hwc_wp(g), pw = bs_pw(p);
	const int32_t bits = p->bits, qn = p->qn;
	const float inv = 1.0f / p->step, lo = (float)-qn, hi = (float)p->qp;
	if (cg < cp)
		for (int32_t i = 0; i < hw; i++)
			__builtin_memset(codes + (size_t)i * cp + cg, 0, (size_t)(cp - cg));
	/* quantized channel by channel (contiguous: vector code), then transposed eight
	 * channels at a time, one 8-byte store per pixel (bytes past cg are 0) */
	for (int32_t ci = 0; ci < cg; ci++) {
		const float *xc = x + (size_t)(grp * cg + ci) * hw;
		uint8_t *t = chw + (size_t)ci * hw;
		for (int32_t i = 0; i < hw; i++)
			t[i] = rtk_quant_code(xc[i], inv, lo, hi, qn);
	}
	for (int32_t c8 = 0; c8 < cg; c8 += 8) {
		const int32_t nq = RTK_MIN(8, cg - c8);
		const uint8_t *t = chw + (size_t)c8 * hw;
		for (int32_t i = 0; i < hw; i++) {
			uint64_t wd = 0;
			for (int32_t q = 0; q < nq; q++)
				wd |= (uint64_t)t[(size_t)q * hw + i] << (8 * q);
			__builtin_memcpy(codes + (size_t)i * cp + c8, &wd, 8);
		}
	}
	for (int32_t yy = 0; yy < hp; yy++)
	for (int32_t xx = 0; xx < wp; xx++) {
		uint64_t *dst = a + ((size_t)yy * wp + xx) * pw;
		const int32_t iy = yy - g->pt, ix = xx - g->pl;
		if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) { /* padding: v = qn */
			for (int32_t cw = 0; cw < cwn; cw++) {
				int32_t nc = RTK_MIN(64, cg - cw * 64);
				uint64_t chans = nc == 64 ? ~0ull : (1ull << nc) - 1;
				for (int32_t b = 0; b < bits; b++)
					bs_store(p, dst, b, cw, (qn >> b) & 1 ? chans : 0);
			}
			continue;
		}
		const uint8_t *src = codes + ((size_t)iy * g->w + ix) * cp;
		for (int32_t cw = 0; cw < cwn; cw++) {
			uint64_t wd[8];
			rtk_planes64(src + cw * 64, bits, wd, simd);
			for (int32_t b = 0; b < bits; b++)
				bs_store(p, dst, b, cw, wd[b]);
		}
	}
}

/* The scalar twin of one tile: np positions with pixel word pointers ap[], nc channels. */
static void bs_tile_scalar(const RtkQConv *p, const uint64_t *wt, const int64_t *corr,
                           const uint64_t *const *ap, int32_t np, int32_t nc, const float *a8,
                           const float *b8, float *y, int32_t npos)
{
	const RtkConv *g = &p->g;
	const int32_t cwn = rtk_bs_cwn(p), H = bs_halves(p), tw = rtk_bs_tw(p);
	const int32_t kinds = p->binary ? 1 : 2, lg = rtk_bs_lg(p);
	for (int32_t pi = 0; pi < np; pi++)
	for (int32_t l = 0; l < nc; l++) {
		const int32_t q = l / lg, lane = l % lg;
		int64_t acc = 0;
		for (int32_t b = 0; b < p->bits; b++) {
			int64_t pb = 0;
			const uint64_t *w = wt;
			for (int32_t r = 0; r < g->kh; r++)
			for (int32_t s = 0; s < g->kw; s++) {
				const uint64_t *av = ap[pi] + bs_off(p, r, s, b);
				for (int32_t cw = 0; cw < cwn; cw++, w += tw)
					for (int32_t hf = 0; hf < H; hf++) {
						uint64_t v = av[cw * H + hf];
						const uint64_t *wq = w + (q * kinds * H + hf) * lg + lane;
						uint64_t t = p->binary ? v ^ wq[0] : wq[0] ^ (v & wq[H * lg]);
						pb += __builtin_popcountll(t);
					}
			}
			acc += pb << b;
		}
		int64_t sv = p->binary ? corr[l] - acc : acc + corr[l];
		y[(size_t)l * npos + pi] = rtk_qout(sv, a8[l], b8[l], g->relu);
	}
}

#if defined(__AVX2__)
/* Per-byte popcounts of the nibbles in x (every byte < 16): one table lookup. */
static inline __m256i bs_lut(__m256i x)
{
	const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
	                                     0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	return _mm256_shuffle_epi8(lut, x);
}

static inline __m256i bs_bcast(const uint64_t *w)
{
	return _mm256_set1_epi64x((long long)*w);
}

static inline __m256i bs_ld(const uint64_t *w)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)w);
}

/* The AVX2 register tile (nib layout): NP positions x 8 channels; acc[q][pi] gets the
 * 64-bit lane sums P of quad q (lanes = its 4 channels) at position pi. The steps (tap,
 * channel word) run in chunks of at most 31 with only the byte counters live (8 of the 16
 * ymm registers), widened into acc after each chunk. */
static inline __attribute__((always_inline)) void
bs_tile_avx2(const RtkQConv *p, const uint64_t *wt, const uint64_t *const *ap, const int NP,
             __m256i acc[2][BS_NP])
{
	const RtkConv *g = &p->g;
	const int32_t cwn = rtk_bs_cwn(p), tw = rtk_bs_tw(p);
	const int32_t nsteps = g->kh * g->kw * cwn;
	const __m256i z = _mm256_setzero_si256();
	for (int32_t q = 0; q < 2; q++)
		for (int32_t pi = 0; pi < NP; pi++)
			acc[q][pi] = z;
	for (int32_t b = 0; b < p->bits; b++) {
		const __m128i sb = _mm_cvtsi32_si128(b);
		const uint64_t *w = wt;
		int32_t r = 0, s = 0, cw = 0;
		for (int32_t s0 = 0; s0 < nsteps; s0 += 31) {
			const int32_t s1 = RTK_MIN(nsteps, s0 + 31); /* bytes hold 31 steps of <= 8 */
			__m256i cnt[2][BS_NP];
			for (int32_t q = 0; q < 2; q++)
				for (int32_t pi = 0; pi < NP; pi++)
					cnt[q][pi] = z;
			for (int32_t st = s0; st < s1; st++, w += tw) {
				const size_t off = bs_off(p, r, s, b) + (size_t)cw * 2;
				for (int32_t pi = 0; pi < NP; pi++) {
					const __m256i al = bs_bcast(ap[pi] + off), ah = bs_bcast(ap[pi] + off + 1);
					for (int32_t q = 0; q < 2; q++) {
						__m256i xl, xh;
						if (p->binary) {
							xl = _mm256_xor_si256(al, bs_ld(w + q * 8));
							xh = _mm256_xor_si256(ah, bs_ld(w + q * 8 + 4));
						} else {
							xl = _mm256_xor_si256(bs_ld(w + q * 16),
							                      _mm256_and_si256(al, bs_ld(w + q * 16 + 8)));
							xh = _mm256_xor_si256(bs_ld(w + q * 16 + 4),
							                      _mm256_and_si256(ah, bs_ld(w + q * 16 + 12)));
						}
						cnt[q][pi] = _mm256_add_epi8(cnt[q][pi],
						                             _mm256_add_epi8(bs_lut(xl), bs_lut(xh)));
					}
				}
				if (++cw == cwn) {
					cw = 0;
					if (++s == g->kw)
						s = 0, r++;
				}
			}
			for (int32_t q = 0; q < 2; q++)
				for (int32_t pi = 0; pi < NP; pi++)
					acc[q][pi] = _mm256_add_epi64(
						acc[q][pi], _mm256_sll_epi64(_mm256_sad_epu8(cnt[q][pi], z), sb));
		}
	}
}

/* Stores o[pi] (nl <= 4 channels in the lanes) at y[l * npos + pi], pi < NP. */
static inline __attribute__((always_inline)) void
bs_store4(const __m128 o[BS_NP], const int NP, int32_t nl, float *yq, int32_t npos)
{
	if (NP == 4 && nl == 4) {
		__m128 t0 = _mm_unpacklo_ps(o[0], o[1]), t1 = _mm_unpackhi_ps(o[0], o[1]);
		__m128 t2 = _mm_unpacklo_ps(o[2], o[3]), t3 = _mm_unpackhi_ps(o[2], o[3]);
		_mm_storeu_ps(yq, _mm_movelh_ps(t0, t2));
		_mm_storeu_ps(yq + npos, _mm_movehl_ps(t2, t0));
		_mm_storeu_ps(yq + 2 * (size_t)npos, _mm_movelh_ps(t1, t3));
		_mm_storeu_ps(yq + 3 * (size_t)npos, _mm_movehl_ps(t3, t1));
	} else {
		for (int32_t pi = 0; pi < NP; pi++) {
			float t[4];
			_mm_storeu_ps(t, o[pi]);
			for (int32_t l = 0; l < nl; l++)
				yq[(size_t)l * npos + pi] = t[l];
		}
	}
}

/* Outputs of one tile: S from acc and corr, the float statements, stores. */
static inline __attribute__((always_inline)) void
bs_out_avx2(const RtkQConv *p, __m256i acc[2][BS_NP], const int NP, const int64_t *corr,
            int32_t nc, const float *a8, const float *b8, float *y, int32_t npos)
{
	const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
	const __m128 zero = _mm_setzero_ps();
	for (int32_t q = 0; q < 2 && q * 4 < nc; q++) {
		const __m256i cv = bs_ld((const uint64_t *)(const void *)(corr + q * 4));
		const __m128 av = _mm_loadu_ps(a8 + q * 4), bv = _mm_loadu_ps(b8 + q * 4);
		__m128 o[BS_NP];
		for (int32_t pi = 0; pi < NP; pi++) {
			__m256i s = p->binary ? _mm256_sub_epi64(cv, acc[q][pi])
			                      : _mm256_add_epi64(acc[q][pi], cv);
			__m128i s32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(s, idx));
			__m128 f = _mm_mul_ps(av, _mm_cvtepi32_ps(s32));
			f = _mm_add_ps(f, bv);
			if (p->g.relu)
				f = _mm_andnot_ps(_mm_cmplt_ps(f, zero), f);
			o[pi] = f;
		}
		bs_store4(o, NP, RTK_MIN(4, nc - q * 4), y + (size_t)q * 4 * npos, npos);
	}
}

#if defined(BS_AVX512)
/* The AVX-512 register tile (plain layout, 8 lanes = the tile's 8 channels): NP positions;
 * per step one broadcast activation word per position, XOR (binary) or one vpternlogq
 * T- ^ (V & (T+|T-)) (ternary), VPOPCNTQ straight into 64-bit lanes. */
static inline __attribute__((always_inline)) void
bs_tile_avx512(const RtkQConv *p, const uint64_t *wt, const uint64_t *const *ap, const int NP,
               __m512i acc[BS_NP])
{
	const RtkConv *g = &p->g;
	const int32_t cwn = rtk_bs_cwn(p), tw = rtk_bs_tw(p);
	for (int32_t pi = 0; pi < NP; pi++)
		acc[pi] = _mm512_setzero_si512();
	for (int32_t b = 0; b < p->bits; b++) {
		__m512i cnt[BS_NP];
		for (int32_t pi = 0; pi < NP; pi++)
			cnt[pi] = _mm512_setzero_si512();
		const uint64_t *w = wt;
		for (int32_t r = 0; r < g->kh; r++)
		for (int32_t s = 0; s < g->kw; s++) {
			const size_t off = bs_off(p, r, s, b);
			for (int32_t cw = 0; cw < cwn; cw++, w += tw) {
				const __m512i t0 = _mm512_loadu_si512((const void *)w);
				if (p->binary) {
					for (int32_t pi = 0; pi < NP; pi++) {
						__m512i a = _mm512_set1_epi64((long long)ap[pi][off + cw]);
						cnt[pi] = _mm512_add_epi64(cnt[pi],
						                           _mm512_popcnt_epi64(_mm512_xor_si512(a, t0)));
					}
				} else {
					const __m512i t1 = _mm512_loadu_si512((const void *)(w + 8));
					for (int32_t pi = 0; pi < NP; pi++) {
						__m512i a = _mm512_set1_epi64((long long)ap[pi][off + cw]);
						/* 0x78: t0 ^ (a & t1) */
						cnt[pi] = _mm512_add_epi64(
							cnt[pi], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(t0, a, t1, 0x78)));
					}
				}
			}
		}
		for (int32_t pi = 0; pi < NP; pi++)
			acc[pi] = _mm512_add_epi64(acc[pi], _mm512_sll_epi64(cnt[pi], _mm_cvtsi32_si128(b)));
	}
}

static inline __attribute__((always_inline)) void
bs_out_avx512(const RtkQConv *p, __m512i acc[BS_NP], const int NP, const int64_t *corr,
              int32_t nc, const float *a8, const float *b8, float *y, int32_t npos)
{
	const __m512i cv = _mm512_loadu_si512((const void *)corr);
	const __m256 av = _mm256_loadu_ps(a8), bv = _mm256_loadu_ps(b8), zero = _mm256_setzero_ps();
	__m128 lo[BS_NP], hi[BS_NP];
	for (int32_t pi = 0; pi < NP; pi++) {
		__m512i s = p->binary ? _mm512_sub_epi64(cv, acc[pi]) : _mm512_add_epi64(acc[pi], cv);
		__m256 f = _mm256_mul_ps(av, _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(s)));
		f = _mm256_add_ps(f, bv);
		if (p->g.relu)
			f = _mm256_andnot_ps(_mm256_cmp_ps(f, zero, _CMP_LT_OQ), f);
		lo[pi] = _mm256_castps256_ps128(f);
		hi[pi] = _mm256_extractf128_ps(f, 1);
	}
	bs_store4(lo, NP, RTK_MIN(4, nc), y, npos);
	if (nc > 4)
		bs_store4(hi, NP, nc - 4, y + (size_t)4 * npos, npos);
}
#endif
#endif

#if defined(BS_NEON)
/* The NEON register tile (plain layout, one group of 8 lanes): NP positions x 8 channels
 * as 4 vectors of two 64-bit lanes; CNT per byte, widened by UADDLP/UADALP every 31 steps and per plane. */
static inline __attribute__((always_inline)) void
bs_tile_neon(const RtkQConv *p, const uint64_t *wt, const uint64_t *const *ap, const int NP,
             uint64x2_t acc[4][BS_NP])
{
	const RtkConv *g = &p->g;
	const int32_t cwn = rtk_bs_cwn(p), tw = rtk_bs_tw(p);
	for (int32_t v = 0; v < 4; v++)
		for (int32_t pi = 0; pi < NP; pi++)
			acc[v][pi] = vdupq_n_u64(0);
	for (int32_t b = 0; b < p->bits; b++) {
		uint64x2_t tot[4][BS_NP];
		uint8x16_t cnt[4][BS_NP];
		for (int32_t v = 0; v < 4; v++)
			for (int32_t pi = 0; pi < NP; pi++) {
				tot[v][pi] = vdupq_n_u64(0);
				cnt[v][pi] = vdupq_n_u8(0);
			}
		int32_t steps = 0;
		const uint64_t *w = wt;
		for (int32_t r = 0; r < g->kh; r++)
		for (int32_t s = 0; s < g->kw; s++) {
			const size_t off = bs_off(p, r, s, b);
			for (int32_t cw = 0; cw < cwn; cw++, w += tw) {
				uint8x16_t a[BS_NP];
				for (int32_t pi = 0; pi < NP; pi++)
					a[pi] = vreinterpretq_u8_u64(vld1q_dup_u64(ap[pi] + off + cw));
				for (int32_t v = 0; v < 4; v++) { /* v: lanes 2v, 2v+1 */
					const int32_t base = 2 * v;
					if (p->binary) {
						const uint8x16_t wv = vreinterpretq_u8_u64(vld1q_u64(w + base));
						for (int32_t pi = 0; pi < NP; pi++)
							cnt[v][pi] = vaddq_u8(cnt[v][pi], vcntq_u8(veorq_u8(a[pi], wv)));
					} else {
						const uint8x16_t mv = vreinterpretq_u8_u64(vld1q_u64(w + base));
						const uint8x16_t sv = vreinterpretq_u8_u64(vld1q_u64(w + base + 8));
						for (int32_t pi = 0; pi < NP; pi++)
							cnt[v][pi] = vaddq_u8(cnt[v][pi],
							                      vcntq_u8(veorq_u8(mv, vandq_u8(a[pi], sv))));
					}
				}
				if (++steps == 31) {
					steps = 0;
					for (int32_t v = 0; v < 4; v++)
						for (int32_t pi = 0; pi < NP; pi++) {
							tot[v][pi] = vpadalq_u32(tot[v][pi],
							                         vpaddlq_u16(vpaddlq_u8(cnt[v][pi])));
							cnt[v][pi] = vdupq_n_u8(0);
						}
				}
			}
		}
		for (int32_t v = 0; v < 4; v++)
			for (int32_t pi = 0; pi < NP; pi++) {
				uint64x2_t t = vpadalq_u32(tot[v][pi], vpaddlq_u16(vpaddlq_u8(cnt[v][pi])));
				acc[v][pi] = vaddq_u64(acc[v][pi], vshlq_u64(t, vdupq_n_s64(b)));
			}
	}
}

static inline __attribute__((always_inline)) void
bs_out_neon(const RtkQConv *p, uint64x2_t acc[4][BS_NP], const int NP, const int64_t *corr,
            int32_t nc, const float *a8, const float *b8, float *y, int32_t npos)
{
	const float32x4_t zero = vdupq_n_f32(0.0f);
	for (int32_t q = 0; q < 2 && q * 4 < nc; q++) {
		const int64x2_t c0 = vld1q_s64(corr + q * 4), c1 = vld1q_s64(corr + q * 4 + 2);
		const float32x4_t av = vld1q_f32(a8 + q * 4), bv = vld1q_f32(b8 + q * 4);
		float32x4_t o[BS_NP];
		for (int32_t pi = 0; pi < NP; pi++) {
			int64x2_t s0 = vreinterpretq_s64_u64(acc[2 * q][pi]);
			int64x2_t s1 = vreinterpretq_s64_u64(acc[2 * q + 1][pi]);
			s0 = p->binary ? vsubq_s64(c0, s0) : vaddq_s64(s0, c0);
			s1 = p->binary ? vsubq_s64(c1, s1) : vaddq_s64(s1, c1);
			int32x4_t s32 = vcombine_s32(vmovn_s64(s0), vmovn_s64(s1));
			float32x4_t f = vmulq_f32(av, vcvtq_f32_s32(s32));
			f = vaddq_f32(f, bv);
			if (p->g.relu)
				f = vreinterpretq_f32_u32(
					vbicq_u32(vreinterpretq_u32_f32(f), vcltq_f32(f, zero)));
			o[pi] = f;
		}
		const int32_t nl = RTK_MIN(4, nc - q * 4);
		float *yq = y + (size_t)q * 4 * npos;
		for (int32_t pi = 0; pi < NP; pi++) {
			float t[4];
			vst1q_f32(t, o[pi]);
			for (int32_t l = 0; l < nl; l++)
				yq[(size_t)l * npos + pi] = t[l];
		}
	}
}
#endif

/* One tile of np <= BS_NP positions; simd = 0 (or a layout the SIMD path does not read):
 * the scalar twin. */
static inline __attribute__((always_inline)) void
bs_tile(const RtkQConv *p, const uint64_t *wt, const int64_t *corr, const uint64_t *const *ap,
        int32_t np, int32_t nc, const float *a8, const float *b8, float *y, int32_t npos,
        int simd)
{
/* A SIMD register tile of np positions: all at once when np == BS_NP, else one by one. */
#define BS_RUN(ACC, TILE, OUT)                                                          \
	do {                                                                            \
		ACC;                                                                    \
		if (np == BS_NP) {                                                      \
			TILE(p, wt, ap, BS_NP, acc);                                    \
			OUT(p, acc, BS_NP, corr, nc, a8, b8, y, npos);                  \
		} else {                                                                \
			for (int32_t pi = 0; pi < np; pi++) {                           \
				TILE(p, wt, ap + pi, 1, acc);                           \
				OUT(p, acc, 1, corr, nc, a8, b8, y + pi, npos);         \
			}                                                               \
		}                                                                       \
		return;                                                                 \
	} while (0)
#if defined(BS_AVX512)
	if (simd && !p->nib)
		BS_RUN(__m512i acc[BS_NP], bs_tile_avx512, bs_out_avx512);
#endif
#if defined(__AVX2__)
	if (simd && p->nib)
		BS_RUN(__m256i acc[2][BS_NP], bs_tile_avx2, bs_out_avx2);
#elif defined(BS_NEON)
	if (simd && !p->nib)
		BS_RUN(uint64x2_t acc[4][BS_NP], bs_tile_neon, bs_out_neon);
#endif
#undef BS_RUN
	(void)simd;
	bs_tile_scalar(p, wt, corr, ap, np, nc, a8, b8, y, npos);
}

static inline __attribute__((always_inline)) void
bconv_prep(const RtkQConv *p, const float *x, void *scratch, int simd)
{
	uint8_t *codes = scratch;
	uint8_t *chw = codes + rtk_align64((size_t)p->g.h * p->g.w * rtk_bs_cwn(p) * 64);
	char *planes = (char *)scratch + bs_codes_bytes(p);
	for (int32_t grp = 0; grp < p->g.group; grp++)
		bs_pack(p, x, grp, codes, (uint64_t *)(void *)(planes + grp * bs_planes_bytes(p)), chw,
		        simd);
}

/* Units [lo, hi) of step 2 on the planes bconv_prep wrote. */
static inline __attribute__((always_inline)) void
bconv_part(const RtkQConv *p, const uint64_t *wr, const float *scale, const float *bias,
           float *y, const void *scratch, int64_t lo, int64_t hi, int simd)
{
	const RtkConv *g = &p->g;
	const int32_t mg = g->m / g->group, nt = rtk_bs_tiles(p), khw = g->kh * g->kw;
	const int32_t npos = g->oh * g->ow, wp = rtk_hwc_wp(g), pw = bs_pw(p);
	const int64_t tile_words = (int64_t)khw * rtk_bs_cwn(p) * rtk_bs_tw(p);
	const char *planes = (const char *)scratch + bs_codes_bytes(p);
	const int64_t *corr0 = (const int64_t *)(const void *)wr;
	const uint64_t *w0 = wr + (int64_t)g->group * nt * RTK_BS_MT;
	for (int64_t u = lo; u < hi; u++) {
		const int32_t grp = (int32_t)(u / nt), t = (int32_t)(u % nt);
		const uint64_t *a = (const uint64_t *)(const void *)(planes + grp * bs_planes_bytes(p));
		const int32_t m0 = grp * mg + t * RTK_BS_MT, nc = RTK_MIN(RTK_BS_MT, mg - t * RTK_BS_MT);
		const uint64_t *wt = w0 + ((int64_t)grp * nt + t) * tile_words;
		const int64_t *corr = corr0 + ((int64_t)grp * nt + t) * RTK_BS_MT;
		float a8[RTK_BS_MT], b8[RTK_BS_MT];
		rtk_tile_ab(scale, bias, p->step, m0, nc, RTK_BS_MT, a8, b8);
		float *ym = y + (size_t)m0 * npos;
		for (int32_t q0 = 0; q0 < npos; q0 += BS_NP) {
			const int32_t np = RTK_MIN(BS_NP, npos - q0);
			const uint64_t *ap[BS_NP];
			for (int32_t pi = 0; pi < BS_NP; pi++) {
				const int32_t q = q0 + (pi < np ? pi : 0);
				const int32_t oy = q / g->ow, ox = q % g->ow;
				ap[pi] = a + ((size_t)oy * g->sh * wp + (size_t)ox * g->sw) * pw;
			}
			bs_tile(p, wt, corr, ap, np, nc, a8, b8, ym + q0, npos, simd);
		}
	}
}

void rtk_bconv_prep(const RtkQConv *p, const float *x, void *shared)
{
	bconv_prep(p, x, shared, 1);
}

void rtk_bconv_part(const RtkQConv *p, const float *x, const uint64_t *wr, const float *scale,
                    const float *bias, float *y, void *shared, void *priv, int64_t lo,
                    int64_t hi)
{
	(void)x, (void)priv;
	bconv_part(p, wr, scale, bias, y, shared, lo, hi, 1);
}

void rtk_bconv(const RtkQConv *p, const float *x, const uint64_t *wr, const float *scale,
               const float *bias, float *y, void *scratch)
{
	bconv_prep(p, x, scratch, 1);
	bconv_part(p, wr, scale, bias, y, scratch, 0, rtk_bconv_units(p), 1);
}

void rtk_bconv_scalar(const RtkQConv *p, const float *x, const uint64_t *wr,
                      const float *scale, const float *bias, float *y, void *scratch)
{
	bconv_prep(p, x, scratch, 0);
	bconv_part(p, wr, scale, bias, y, scratch, 0, rtk_bconv_units(p), 0);
}
