/* runtime/kernels/kernels.h: the kernel library that generated code links in.
 *
 * Every function here is compiled twice: natively into the test binaries (so SIMD code is
 * tested against its scalar twin directly), and by clang-19 into LLVM bitcode per target
 * (x86-64-v3 = AVX2, aarch64 = NEON), which the backend links into each model and
 * specializes: the parameter structs below are constant globals in generated code, so
 * after inlining every shape, stride and padding is a constant.
 *
 * Rules for this folder (generated code must stay freestanding):
 * - no malloc, no global mutable state, no libm or other libc calls except memcpy/memset
 *   (exp, sqrt etc. are written here or are single instructions);
 * - every SIMD path (#if __AVX2__ / #if __ARM_NEON) has a scalar twin (rtk_*_scalar) that
 *   gives the same result: bit for bit for integer sums and everything computed from them;
 * - one sample, NCHW float32 tensors; scratch is caller-provided (the workspace), its size
 *   given by the matching *_scratch function, 64-byte aligned.
 *
 * Threads (generated code's NAME_run_parallel): a kernel K that threads can share comes
 * in two steps besides K itself, with the same arguments except scratch:
 *   K_prep(p, x, shared)       once per call, on one thread: packs the input into the
 *                              shared scratch (K_shared(p) bytes; nothing if 0);
 *   K_part(p, ..., shared, priv, lo, hi)   work units [lo, hi) of K_units(p), on private
 *                              scratch of K_priv(p) bytes; disjoint ranges write disjoint
 *                              outputs, and no output depends on how units are split.
 * K itself is K_prep, then K_part over all units, on scratch = shared then private
 * (K_scratch = K_shared + K_priv). Kernels without scratch have K_units and K_part only.
 */
#ifndef SQC_RTK_KERNELS_H
#define SQC_RTK_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Parameter structs are field lists: RTK_<NAME>_FIELDS(X, A, S) names every field once,
 * in order, as X(type, name) (a scalar: int32_t or float), A(type, name, n) (an array of
 * n scalars) or S(struct type, name, FIELDS) (a nested parameter struct and its list).
 * The list expands here to the C struct the kernels read, and in backend/lower.c to the
 * descriptor table that turns a filled host struct into the constant struct of generated
 * code (the flat LLVM literal struct of the same scalars in the same order), so the two
 * cannot drift apart. Add a field by adding it to its list. */
#define RTK_FIELD_(type, name) type name;
#define RTK_ARRAY_(type, name, n) type name[n];
#define RTK_STRUCT_(type, name, fields) type name;
#define RTK_STRUCT_OF_(fields) struct { fields(RTK_FIELD_, RTK_ARRAY_, RTK_STRUCT_) }

/* Geometry of a 2-D convolution of one sample (1-D convolutions use h = oh = kh = 1).
 * x [c][h][w], w [m][c/group][kh][kw], y [m][oh][ow]; padding reads as zero. */
#define RTK_CONV_FIELDS(X, A, S) \
	X(int32_t, c) X(int32_t, h) X(int32_t, w)     /* input channels, height, width */ \
	X(int32_t, m) X(int32_t, oh) X(int32_t, ow)   /* output channels, height, width */ \
	X(int32_t, kh) X(int32_t, kw)                 /* kernel */ \
	X(int32_t, sh) X(int32_t, sw)                 /* strides */ \
	X(int32_t, dh) X(int32_t, dw)                 /* dilations */ \
	X(int32_t, pt) X(int32_t, pl)                 /* padding top, left (bottom, right: oh, ow) */ \
	X(int32_t, group) \
	X(int32_t, relu)                              /* 1: y = max(y, 0) fused */ \
	X(float, clip)   /* > 0 (with relu, float layers): y = min(y, clip) too, a fused Clip(0, clip) */
typedef RTK_STRUCT_OF_(RTK_CONV_FIELDS) RtkConv;

/* Float convolution (layers kept in float). bias may be NULL. Layers of at most
 * RTK_DOTMAX output positions take the dot-product path (rtk_internal.h). */
#define RTK_DOTMAX 7
size_t rtk_conv_f32_scratch(const RtkConv *p);
void rtk_conv_f32(const RtkConv *p, const float *x, const float *w, const float *bias,
                  float *y, void *scratch);
size_t rtk_conv_f32_shared(const RtkConv *p);
size_t rtk_conv_f32_priv(const RtkConv *p);
int64_t rtk_conv_f32_units(const RtkConv *p);
void rtk_conv_f32_prep(const RtkConv *p, const float *x, void *shared);
void rtk_conv_f32_part(const RtkConv *p, const float *x, const float *w, const float *bias,
                       float *y, void *shared, void *priv, int64_t lo, int64_t hi);

/* Quantized convolution: weights t in {-1, 0, +1} with a float scale per output channel.
 *
 * Packed weights (the backend writes them, read-only data): one row per output channel m
 * over its k = (c/group)*kh*kw weights in ONNX order j = (ci*kh + r)*kw + s; bit j of a
 * row is bit (j % 64) of 64-bit word j / 64; rows are padded with zero bits to kwords
 * words, kwords = 4 * ceil(k / 256) (a multiple of 256 bits on every target).
 *   binary  (t in {-1,+1}): one plane per channel, row m at w + m*kwords; bit = (t == +1).
 *   ternary (t in {-1,0,+1}): two planes, T+ at w + (2m)*kwords, T- at w + (2m+1)*kwords.
 * Activations:
 *   bits == 32: float activations; y = scale[m] * sum_j t_j x_j + bias[m]  (sign-select);
 *   bits 1..8:  u = rint(clamp(x * (1.0f / step), -qn, qp)) (round half to even; NaN ->
 *               -qn; exactly rt_act_quant_ref's integers), and
 *               y = scale[m] * step * S + bias[m],  S = sum_j t_j u_j  (an exact integer),
 *               computed bit-serially: with v = u + qn in [0, 2^bits), v = sum_b 2^b v_b,
 *               S = sum_b 2^b (popcount(V_b & T+) - popcount(V_b & T-)) - qn * sum_j t_j.
 *               Padding taps have u = 0 (v = qn).
 * Output: relu applied if p->g.relu. The float expression is evaluated the same way by the
 * SIMD paths and the scalar twin, so their outputs are bit-identical. bias may be NULL. */
#define RTK_QCONV_FIELDS(X, A, S) \
	S(RtkConv, g, RTK_CONV_FIELDS) \
	X(int32_t, k)          /* weights per output channel: (c/group)*kh*kw */ \
	X(int32_t, kwords)     /* 64-bit words per packed row: 4 * ceil(k / 256) */ \
	X(int32_t, binary)     /* 1: one plane (binary layer); 0: two planes (ternary) */ \
	X(int32_t, bits)       /* activation bits 1..8, or 32 for float activations */ \
	X(int32_t, qn) X(int32_t, qp)  /* activation integer range [-qn, qp] */ \
	X(float, step)         /* activation step s (unused when bits == 32) */ \
	X(int32_t, nib)        /* rtk_bconv's layout: words split into nibbles (x86) */
typedef RTK_STRUCT_OF_(RTK_QCONV_FIELDS) RtkQConv;
/* kwords for k weights per row (the packers' and the backend's one formula). */
static inline int64_t rtk_qconv_kwords(int64_t k)
{
	return 4 * ((k + 255) / 256);
}

size_t rtk_qconv_scratch(const RtkQConv *p);
size_t rtk_qconv_shared(const RtkQConv *p);
size_t rtk_qconv_priv(const RtkQConv *p);
int64_t rtk_qconv_units(const RtkQConv *p);
void rtk_qconv_prep(const RtkQConv *p, const float *x, void *shared);
void rtk_qconv_part(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
                    const float *bias, float *y, void *shared, void *priv, int64_t lo,
                    int64_t hi);
void rtk_qconv(const RtkQConv *p, const float *x, const uint64_t *w, const float *scale,
               const float *bias, float *y, void *scratch);
void rtk_qconv_scalar(const RtkQConv *p, const float *x, const uint64_t *w,
                      const float *scale, const float *bias, float *y, void *scratch);
/* Notes on rtk_qconv (implementation in qconv.c):
 * - requires qn + qp < 2^bits (codes v = u + qn fit the planes), qn >= 0, group dividing
 *   c and m, and the zero padding bits of every weight row past k (binary layers count
 *   the activation planes over all kwords words);
 * - bits 1..8: y = fl(fl(fl(scale[m] * step) * fl(S)) + bias[m]), three roundings written
 *   as separate statements (no FMA contraction unless fp-contract=fast is forced);
 *   bits 32: y = fl(scale[m] * acc) + bias[m], acc a float sum over the taps (in vector
 *   lanes: the order differs from the scalar twin's, within float rounding);
 * - the scratch regions start at multiples of 64 bytes from the scratch pointer; loads
 *   are unaligned-safe, so w, x, y only need their natural alignment (64 is best);
 * - scratch bytes: rtk_qconv_scratch() (pure arithmetic on p: the backend sizes the
 *   workspace from it at compile time); bits 1..8 hold the quantized input and the bit
 *   planes of a block of patches, bits 32 the float patches (or the padded input for
 *   stride 1) and 4 unpacked weight rows. */

/* ---- bconv.c: the bit-serial convolution on channels-last bit planes -------------------
 *
 * The same layer as rtk_qconv at activation bits 1..8 (same arguments but the weights, same
 * exact integer S, same three float statements, so outputs are bit-identical to it), laid
 * out for throughput:
 * - activations: per call and group, the input's codes v = u + qn become bit planes along
 *   the input channels, channels-last over the padded image (rtk_hwc_hp x rtk_hwc_wp):
 *   pixel (y, x), plane b, channel word cw (channels 64cw.. 64cw+63) is word
 *   ((y*wp + x)*bits + b)*cw_n + cw, times two with nib (below); padding pixels hold the
 *   planes of v = qn, channel-padding bits are 0;
 * - weights: repacked at compile time (rtk_bconv_repack, from pack's rows) into tiles of
 *   RTK_BS_MT output channels of one group, per tap (r, s) and channel word: the words of the
 *   tile's channels side by side (the vector lanes), binary T, ternary T- and T+ | T-;
 *   preceded by a per-channel integer constant (corr);
 * - one popcount per word and plane for both weight kinds:
 *     binary:  P = sum_b 2^b pc(V_b xor T),             S = corr - P,
 *              corr = (2^bits - 1) pc(T) - qn (2 pc(T) - k);
 *     ternary: P = sum_b 2^b pc(T- xor (V_b & T+|T-)),  S = P + corr,
 *              corr = -(2^bits - 1) pc(T-) - qn (pc(T+) - pc(T-))
 *   (the select picks T+ where v_b = 1 and T- where it is 0: t v = sum_b 2^b sel_b -
 *   (2^bits - 1)[t = -1]);
 * - nib (x86-64-v3: AVX2 has no byte popcount, it looks nibbles up with vpshufb): every
 *   activation and weight word is stored as two, its low nibbles (w & 0x0f..) and its high
 *   nibbles ((w >> 4) & 0x0f..), so the kernel's per-word work is two XORs and two lookups;
 *   the popcount of a word is the sum of both halves' popcounts. The lanes of a tile come in
 *   groups of rtk_bs_lg(p) channels: 4 with nib (a ymm of 64-bit lanes), 8 without (a zmm;
 *   NEON reads them two by two).
 * The backend sets nib from the kernel level (x86-64-v3: 1; avx512 and AArch64: 0); every
 * build runs both layouts (the SIMD paths take theirs, other layouts fall back to the
 * scalar twin). */
#define RTK_BS_MT 8 /* output channels per weight tile */
static inline int32_t rtk_bs_lg(const RtkQConv *p) /* channels per lane group */
{
	return p->nib ? 4 : 8;
}
static inline int32_t rtk_bs_cwn(const RtkQConv *p) /* channel words per pixel and plane */
{
	return (p->g.c / p->g.group + 63) / 64;
}
static inline int32_t rtk_bs_tiles(const RtkQConv *p) /* weight tiles per group */
{
	return (p->g.m / p->g.group + RTK_BS_MT - 1) / RTK_BS_MT;
}
static inline int32_t rtk_bs_tw(const RtkQConv *p) /* words per tile, tap and channel word */
{
	return RTK_BS_MT * (p->binary ? 1 : 2) * (p->nib ? 2 : 1);
}
/* Words of the repacked weights: corr (one int64 per padded channel), then the tiles
 * [group][tile][r][s][cw][tw]. Within tw: [group of rtk_bs_lg channels][T, or T- then
 * T+|T-][low, high nibbles if nib][rtk_bs_lg lanes]. */
static inline int64_t rtk_bconv_words(const RtkQConv *p)
{
	int64_t nt = (int64_t)p->g.group * rtk_bs_tiles(p);
	return nt * RTK_BS_MT +
	       nt * p->g.kh * p->g.kw * rtk_bs_cwn(p) * rtk_bs_tw(p);
}
/* Repacks pack's rows w (the rtk_qconv layout above) into out[rtk_bconv_words(p)]. */
static inline void rtk_bconv_repack(const RtkQConv *p, const uint64_t *w, uint64_t *out)
{
	const int32_t cg = p->g.c / p->g.group, mg = p->g.m / p->g.group, khw = p->g.kh * p->g.kw;
	const int32_t cwn = rtk_bs_cwn(p), nt = rtk_bs_tiles(p), tw = rtk_bs_tw(p);
	const int32_t halves = p->nib ? 2 : 1, kinds = p->binary ? 1 : 2, lg = rtk_bs_lg(p);
	int64_t *corr = (int64_t *)(void *)out;
	uint64_t *wt = out + (int64_t)p->g.group * nt * RTK_BS_MT;
	const int64_t vmax = ((int64_t)1 << p->bits) - 1;
	for (int64_t i = 0; i < rtk_bconv_words(p); i++)
		out[i] = 0;
	for (int32_t grp = 0; grp < p->g.group; grp++)
	for (int32_t mi = 0; mi < mg; mi++) {
		const int32_t m = grp * mg + mi, tile = mi / RTK_BS_MT, lane = mi % RTK_BS_MT;
		const uint64_t *tp = w + (int64_t)(p->binary ? m : 2 * m) * p->kwords;
		const uint64_t *tm = p->binary ? tp : tp + p->kwords;
		int64_t pcp = 0, pcm = 0;
		uint64_t *tb = wt + ((int64_t)grp * nt + tile) * khw * cwn * tw;
		for (int32_t ci = 0; ci < cg; ci++)
		for (int32_t rs = 0; rs < khw; rs++) {
			const int32_t j = ci * khw + rs; /* ONNX tap order */
			const int bp = (int)((tp[j / 64] >> (j % 64)) & 1);
			const int bm = p->binary ? !bp : (int)((tm[j / 64] >> (j % 64)) & 1);
			pcp += bp;
			pcm += bm;
			/* the bits this tap sets: binary T; ternary T- and T+|T- */
			const int set[2] = {p->binary ? bp : bm, bp | bm};
			for (int32_t kd = 0; kd < kinds; kd++) {
				if (!set[kd])
					continue;
				const int32_t bit = ci % 64;
				const uint64_t v = 1ull << bit;
				const int32_t hf = p->nib && (bit % 8) >= 4;
				const uint64_t vv = hf ? v >> 4 : v;
				int64_t at = ((int64_t)rs * cwn + ci / 64) * tw +
				             (((lane / lg) * kinds + kd) * halves + hf) * lg + lane % lg;
				tb[at] |= vv;
			}
		}
		corr[(int64_t)grp * nt * RTK_BS_MT + mi] =
			p->binary ? vmax * pcp - (int64_t)p->qn * (2 * pcp - p->k)
			          : -vmax * pcm - (int64_t)p->qn * (pcp - pcm);
	}
}
size_t rtk_bconv_scratch(const RtkQConv *p);
size_t rtk_bconv_shared(const RtkQConv *p);
size_t rtk_bconv_priv(const RtkQConv *p);
int64_t rtk_bconv_units(const RtkQConv *p);
void rtk_bconv_prep(const RtkQConv *p, const float *x, void *shared);
void rtk_bconv_part(const RtkQConv *p, const float *x, const uint64_t *wr, const float *scale,
                    const float *bias, float *y, void *shared, void *priv, int64_t lo,
                    int64_t hi);
void rtk_bconv(const RtkQConv *p, const float *x, const uint64_t *wr, const float *scale,
               const float *bias, float *y, void *scratch);
void rtk_bconv_scalar(const RtkQConv *p, const float *x, const uint64_t *wr,
                      const float *scale, const float *bias, float *y, void *scratch);

/* ---- iconv.c: the 8-bit convolution with positions in the vector lanes -----------------
 *
 * The same layer as rtk_qconv at activation bits 1..8 (same arguments but the weights, same
 * exact integer S, same three float statements, so outputs are bit-identical to it), by
 * 8-bit multiply-adds of four taps at a time (AVX-512 VNNI vpdpbusd; AVX2 vpmaddubsw;
 * NEON SDOT by element, or SMLAL):
 * - activations: per call and group, codes a = u + z (one byte; z in iconv.c) of four
 *   input channels side by side in one 32-bit word (channels 4*c4 .. 4*c4 + 3, missing ones
 *   z), in the padded image split into its sh x sw stride phases, so that every tap of a
 *   run of consecutive output positions is a run of consecutive words: one vector load;
 * - weights: repacked at compile time (rtk_iconv_repack, from pack's rows) into tiles of
 *   RTK_IC_NC output channels; per tap (r, s) and channel quad c4 ("step"
 *   (r*kw + s)*c4n + c4) one word per channel, the four signed bytes of its taps (0 for
 *   missing channels), broadcast by the kernel; preceded by sum_j t_j per channel (int32);
 * - S = sum over steps of the 4-byte dot products - z * sum_j t_j. */
#define RTK_IC_NC 8 /* output channels per weight tile */
static inline int32_t rtk_ic_c4n(const RtkQConv *p) /* channel quads per group */
{
	return (p->g.c / p->g.group + 3) / 4;
}
static inline int32_t rtk_ic_tiles(const RtkQConv *p) /* weight tiles per group */
{
	return (p->g.m / p->g.group + RTK_IC_NC - 1) / RTK_IC_NC;
}
/* 32-bit words of the repacked weights: sumt (one per padded channel), then the tiles
 * [group][tile][step][RTK_IC_NC]. */
static inline int64_t rtk_iconv_words(const RtkQConv *p)
{
	int64_t nt = (int64_t)p->g.group * rtk_ic_tiles(p);
	return nt * RTK_IC_NC * (1 + (int64_t)p->g.kh * p->g.kw * rtk_ic_c4n(p));
}
/* Repacks pack's rows w (the rtk_qconv layout) into out[rtk_iconv_words(p)]. */
static inline void rtk_iconv_repack(const RtkQConv *p, const uint64_t *w, int32_t *out)
{
	const int32_t cg = p->g.c / p->g.group, mg = p->g.m / p->g.group, khw = p->g.kh * p->g.kw;
	const int32_t c4n = rtk_ic_c4n(p), nt = rtk_ic_tiles(p);
	int32_t *sumt = out;
	uint32_t *wt = (uint32_t *)(void *)(out + (int64_t)p->g.group * nt * RTK_IC_NC);
	for (int64_t i = 0; i < rtk_iconv_words(p); i++)
		out[i] = 0;
	for (int32_t grp = 0; grp < p->g.group; grp++)
	for (int32_t mi = 0; mi < mg; mi++) {
		const int32_t m = grp * mg + mi, tile = mi / RTK_IC_NC, lane = mi % RTK_IC_NC;
		const uint64_t *tp = w + (int64_t)(p->binary ? m : 2 * m) * p->kwords;
		const uint64_t *tm = tp + p->kwords;
		uint32_t *tb = wt + ((int64_t)grp * nt + tile) * khw * c4n * RTK_IC_NC;
		int32_t sum = 0;
		for (int32_t ci = 0; ci < cg; ci++)
		for (int32_t rs = 0; rs < khw; rs++) {
			const int32_t j = ci * khw + rs; /* ONNX tap order */
			const int bp = (int)((tp[j / 64] >> (j % 64)) & 1);
			const int t = p->binary ? (bp ? 1 : -1)
			                        : bp - (int)((tm[j / 64] >> (j % 64)) & 1);
			sum += t;
			tb[((int64_t)rs * c4n + ci / 4) * RTK_IC_NC + lane] |=
				(uint32_t)(uint8_t)(int8_t)t << (8 * (ci % 4));
		}
		sumt[(int64_t)grp * nt * RTK_IC_NC + mi] = sum;
	}
}
size_t rtk_iconv_scratch(const RtkQConv *p);
size_t rtk_iconv_shared(const RtkQConv *p);
size_t rtk_iconv_priv(const RtkQConv *p);
int64_t rtk_iconv_units(const RtkQConv *p);
void rtk_iconv_prep(const RtkQConv *p, const float *x, void *shared);
void rtk_iconv_part(const RtkQConv *p, const float *x, const int32_t *wr, const float *scale,
                    const float *bias, float *y, void *shared, void *priv, int64_t lo,
                    int64_t hi);
void rtk_iconv(const RtkQConv *p, const float *x, const int32_t *wr, const float *scale,
               const float *bias, float *y, void *scratch);
void rtk_iconv_scalar(const RtkQConv *p, const float *x, const int32_t *wr, const float *scale,
                      const float *bias, float *y, void *scratch);

/* Popcount of the AND of two bit rows of n 64-bit words (n a multiple of 4): the inner
 * product of the bit-serial kernels. AVX2: nibble LUT with pshufb; NEON: CNT. */
int32_t rtk_popcount_and(const uint64_t *a, const uint64_t *b, int32_t n);
int32_t rtk_popcount_and_scalar(const uint64_t *a, const uint64_t *b, int32_t n);

/* Float Gemm of one row block: y[r][n] = sum_k a[r][k] * w[n][k] + bias[n] (w row-major
 * [n][k], i.e. ONNX transB = 1 after the backend transposes), relu optional. */
#define RTK_GEMM_FIELDS(X, A, S) X(int32_t, rows) X(int32_t, n) X(int32_t, k) X(int32_t, relu)
typedef RTK_STRUCT_OF_(RTK_GEMM_FIELDS) RtkGemm;
int64_t rtk_gemm_f32_units(const RtkGemm *p);
void rtk_gemm_f32_part(const RtkGemm *p, const float *a, const float *w, const float *bias,
                       float *y, int64_t lo, int64_t hi);
void rtk_gemm_f32(const RtkGemm *p, const float *a, const float *w, const float *bias,
                  float *y);

/* Pooling of one sample, 2-D (1-D: h = oh = kh = 1). Max: padding never wins. Average:
 * divides by the taps inside the input, or with count_include_pad by the taps inside the
 * padded extent [-pt, h + pb) x [-pl, w + pr) (ONNX). */
#define RTK_POOL_FIELDS(X, A, S) \
	X(int32_t, c) X(int32_t, h) X(int32_t, w) X(int32_t, oh) X(int32_t, ow) \
	X(int32_t, kh) X(int32_t, kw) X(int32_t, sh) X(int32_t, sw) X(int32_t, dh) X(int32_t, dw) \
	X(int32_t, pt) X(int32_t, pl) X(int32_t, pb) X(int32_t, pr) \
	X(int32_t, is_max) X(int32_t, count_include_pad)
typedef RTK_STRUCT_OF_(RTK_POOL_FIELDS) RtkPool;
void rtk_pool(const RtkPool *p, const float *x, float *y);
int64_t rtk_pool_units(const RtkPool *p);   /* channels */
void rtk_pool_part(const RtkPool *p, const float *x, float *y, int64_t lo, int64_t hi);
/* Global pooling: x [c][hw] -> y [c]. */
void rtk_global_pool(int32_t is_max, int32_t c, int32_t hw, const float *x, float *y);

/* Elementwise. */
void rtk_relu(const float *x, float *y, int32_t n);
void rtk_leaky_relu(const float *x, float *y, int32_t n, float alpha);
void rtk_clip(const float *x, float *y, int32_t n, float lo, float hi);
/* y[c][i] = x[c][i] * mul[c] + add[c] (BatchNormalization in inference form, unfolded). */
void rtk_channel_affine(int32_t c, int32_t spatial, const float *x, const float *mul,
                        const float *add, float *y);

/* Binary op with numpy broadcasting over at most 6 dims: y has dims[], a and b are read
 * with element strides sa[], sb[] (0 on broadcast dims). */
enum { RTK_ADD, RTK_SUB, RTK_MUL, RTK_DIV };
#define RTK_BINARY_FIELDS(X, A, S) \
	X(int32_t, op) X(int32_t, rank) \
	A(int32_t, dims, 6) A(int32_t, sa, 6) A(int32_t, sb, 6)
typedef RTK_STRUCT_OF_(RTK_BINARY_FIELDS) RtkBinary;
void rtk_binary(const RtkBinary *p, const float *a, const float *b, float *y);
int64_t rtk_binary_units(const RtkBinary *p);   /* rows of the last dim */
void rtk_binary_part(const RtkBinary *p, const float *a, const float *b, float *y,
                     int64_t lo, int64_t hi);

/* Softmax over the middle dim of [outer][len][inner]; log = 1 for LogSoftmax. Uses
 * rtk_expf/rtk_logf (no libm). */
void rtk_softmax(int32_t outer, int32_t len, int32_t inner, int32_t log, const float *x,
                 float *y);
float rtk_expf(float x);   /* max relative error vs expf: 2 ulp */
float rtk_logf(float x);   /* max relative error vs logf: 2 ulp */

/* Copies x [outer][inner_x] into columns [offset, offset + inner_x) of y [outer][inner_y]
 * (Concat, and plain copies with outer = 1). */
void rtk_copy_cols(int32_t outer, int32_t inner_x, int32_t inner_y, int32_t offset,
                   const float *x, float *y);

/* ---- misc.c: the other float graph ops ---------------------------------------------- */
void rtk_sigmoid(const float *x, float *y, int32_t n);
void rtk_tanh(const float *x, float *y, int32_t n);
void rtk_hardsigmoid(const float *x, float *y, int32_t n, float alpha, float beta);
/* PRelu: x read with strides sa, slope with sb over y's dims (op unused). */
void rtk_prelu(const RtkBinary *p, const float *x, const float *slope, float *y);
/* Data movement by index maps (Transpose, Pad): y has dims[]; along dim d, output index o
 * reads input coordinate maps[map_off[d] + o] (-1: outside, y = value), and an input
 * coordinate i is i * strides[d] floats into x. The backend makes the maps with the
 * interpreter's own rules, so padding modes and negative pads match it exactly. */
#define RTK_REMAP_FIELDS(X, A, S) \
	X(int32_t, rank) A(int32_t, dims, 6) A(int32_t, strides, 6) A(int32_t, map_off, 6)
typedef RTK_STRUCT_OF_(RTK_REMAP_FIELDS) RtkRemap;
void rtk_remap(const RtkRemap *p, const int32_t *maps, const float *x, float *y, float value);

#endif
