/* runtime/kernels/rtk_internal.h: helpers shared by the kernel files (not an API).
 *
 * Freestanding like the kernels: only compiler-provided headers, no libc.
 */
#ifndef SQC_RTK_INTERNAL_H
#define SQC_RTK_INTERNAL_H

#include "kernels.h"

#define RTK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RTK_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Bytes rounded up to a multiple of 64 (every scratch region starts 64-byte aligned). */
static inline size_t rtk_align64(size_t n)
{
	return (n + 63) & ~(size_t)63;
}

/* Output positions per block of the float im2col kernels (rtk_conv_f32 and the float-
 * activation path of rtk_qconv): a block's patches are stored transposed, col[j][p] for
 * tap j < k and position p < RTK_PB, so the micro-kernel's inner loop runs over positions. */
#define RTK_PB 16

/* Fills col [k][RTK_PB] with the patches of the np <= RTK_PB output positions q0.. (row
 * major over oh x ow) of the group whose input channels start at xg; taps outside the
 * input read as 0, and so do the columns p >= np. */
static inline void rtk_im2col_f32(const RtkConv *g, const float *xg, int32_t cg, int32_t q0,
                                  int32_t np, float *col)
{
	int32_t oy[RTK_PB], ox[RTK_PB];
	for (int32_t p = 0; p < RTK_PB; p++) {
		int32_t q = q0 + (p < np ? p : 0);
		oy[p] = (q / g->ow) * g->sh - g->pt;
		ox[p] = (q % g->ow) * g->sw - g->pl;
	}
	int32_t j = 0;
	for (int32_t ci = 0; ci < cg; ci++)
	for (int32_t r = 0; r < g->kh; r++)
	for (int32_t s = 0; s < g->kw; s++, j++) {
		const float *xc = xg + (size_t)ci * g->h * g->w;
		float *cj = col + (size_t)j * RTK_PB;
		for (int32_t p = 0; p < RTK_PB; p++) {
			int32_t iy = oy[p] + r * g->dh, ix = ox[p] + s * g->dw;
			int in = p < np && iy >= 0 && iy < g->h && ix >= 0 && ix < g->w;
			cj[p] = in ? xc[iy * g->w + ix] : 0.0f;
		}
	}
}

/* The micro-kernel of the float convolutions: acc[r][p] = sum_j w_r[j] * col[j][p] for the
 * four weight rows w_r (callers repeat a row when fewer remain) and RTK_PB positions; j
 * ascends, one accumulator per (r, p), so every caller gets the same rounding. */
static inline void rtk_mk4(const float *col, int32_t k, const float *w0, const float *w1,
                           const float *w2, const float *w3, float acc[4][RTK_PB])
{
	float a0[RTK_PB], a1[RTK_PB], a2[RTK_PB], a3[RTK_PB];
	for (int32_t p = 0; p < RTK_PB; p++)
		a0[p] = a1[p] = a2[p] = a3[p] = 0.0f;
	for (int32_t j = 0; j < k; j++) {
		const float *cj = col + (size_t)j * RTK_PB;
		float v0 = w0[j], v1 = w1[j], v2 = w2[j], v3 = w3[j];
		for (int32_t p = 0; p < RTK_PB; p++) {
			a0[p] += v0 * cj[p];
			a1[p] += v1 * cj[p];
			a2[p] += v2 * cj[p];
			a3[p] += v3 * cj[p];
		}
	}
	for (int32_t p = 0; p < RTK_PB; p++) {
		acc[0][p] = a0[p];
		acc[1][p] = a1[p];
		acc[2][p] = a2[p];
		acc[3][p] = a3[p];
	}
}

/* Float scratch needed by the im2col kernels: col [k][RTK_PB]. */
static inline size_t rtk_col_bytes(int32_t k)
{
	return rtk_align64((size_t)(k > 0 ? k : 1) * RTK_PB * sizeof(float));
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

/* Padded channels-last codes of the quantized kernels: per group, a [hp][wp][cg] byte
 * array holding the input's codes at rows pt.., columns pl.. and the padding byte
 * elsewhere, hp and wp large enough for every window. A patch is then, in the tap order
 * j' = (r*kw + s)*cg + ci ("HWC order"), kh runs of kw*cg contiguous bytes (dilation 1) or
 * kh*kw runs of cg bytes: copies instead of per-tap gathers. Weight rows are permuted to
 * the same order, which leaves every integer sum unchanged. */
static inline int32_t rtk_hwc_hp(const RtkConv *g)
{
	return RTK_MAX(g->h + g->pt, (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1);
}

static inline int32_t rtk_hwc_wp(const RtkConv *g)
{
	return RTK_MAX(g->w + g->pl, (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1);
}

static inline size_t rtk_hwc_bytes(const RtkConv *g)
{
	return (size_t)rtk_hwc_hp(g) * rtk_hwc_wp(g) * g->c;
}

/* Quantizes x [c][h][w] into the padded channels-last buffer (see above). */
static inline void rtk_codes_hwc(const RtkConv *g, const float *x, float inv, float lo,
                                 float hi, int32_t z, uint8_t *buf)
{
	const int32_t cg = g->c / g->group, hp = rtk_hwc_hp(g), wp = rtk_hwc_wp(g);
	__builtin_memset(buf, (uint8_t)z, rtk_hwc_bytes(g));
	for (int32_t grp = 0; grp < g->group; grp++)
	for (int32_t ci = 0; ci < cg; ci++) {
		const float *xc = x + (size_t)(grp * cg + ci) * g->h * g->w;
		uint8_t *bg = buf + (size_t)grp * hp * wp * cg + ci;
		for (int32_t iy = 0; iy < g->h; iy++) {
			uint8_t *br = bg + ((size_t)(iy + g->pt) * wp + g->pl) * cg;
			for (int32_t ix = 0; ix < g->w; ix++)
				br[(size_t)ix * cg] = rtk_quant_code(xc[iy * g->w + ix], inv, lo, hi, z);
		}
	}
}

/* The k code bytes of output position q's patch in HWC tap order, from group grp. */
static inline void rtk_patch_hwc(const RtkConv *g, const uint8_t *buf, int32_t grp, int32_t q,
                                 uint8_t *patch)
{
	const int32_t cg = g->c / g->group, hp = rtk_hwc_hp(g), wp = rtk_hwc_wp(g);
	const int32_t oy = (q / g->ow) * g->sh, ox = (q % g->ow) * g->sw;
	const uint8_t *bg = buf + (size_t)grp * hp * wp * cg;
	for (int32_t r = 0; r < g->kh; r++) {
		const uint8_t *row = bg + ((size_t)(oy + r * g->dh) * wp + ox) * cg;
		uint8_t *pr = patch + (size_t)r * g->kw * cg;
		if (g->dw == 1)
			__builtin_memcpy(pr, row, (size_t)g->kw * cg);
		else
			for (int32_t s = 0; s < g->kw; s++)
				__builtin_memcpy(pr + (size_t)s * cg, row + (size_t)s * g->dw * cg, (size_t)cg);
	}
}

/* Permutes a weight row from ONNX tap order j = (ci*kh + r)*kw + s to HWC order. */
static inline void rtk_perm_hwc(const RtkConv *g, const int8_t *src, int8_t *dst)
{
	const int32_t cg = g->c / g->group, khw = g->kh * g->kw;
	for (int32_t ci = 0; ci < cg; ci++)
		for (int32_t rs = 0; rs < khw; rs++)
			dst[(size_t)rs * cg + ci] = src[(size_t)ci * khw + rs];
}

#endif
