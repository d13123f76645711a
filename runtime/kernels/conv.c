/* runtime/kernels/conv.c: float convolution (layers kept in float).
 *
 * rtk_fconv (rtk_internal.h) with the weight rows as they are ([m][k], contiguous):
 * strides 1 and 2 read a zero-padded copy of the input split into stride phases directly
 * (no im2col; 1x1 included), larger strides im2col RTK_PB positions at a time, layers of at most RTK_DOTMAX output
 * positions use dot products over k. Register-blocked micro-kernel of RTK_MR channels x
 * RTK_PB positions. Scratch: rtk_fconv_bytes; split for threads as rtk_fconv_prep/_part.
 */
#include "rtk_internal.h"

size_t rtk_conv_f32_scratch(const RtkConv *p)
{
	return rtk_fconv_bytes(p);
}

size_t rtk_conv_f32_shared(const RtkConv *p)
{
	return rtk_fconv_shared(p);
}

size_t rtk_conv_f32_priv(const RtkConv *p)
{
	return rtk_fconv_priv(p);
}

int64_t rtk_conv_f32_units(const RtkConv *p)
{
	return rtk_fconv_units(p);
}

void rtk_conv_f32_prep(const RtkConv *p, const float *x, void *shared)
{
	rtk_fconv_prep(p, x, shared);
}

void rtk_conv_f32_part(const RtkConv *p, const float *x, const float *w, const float *bias,
                       float *y, void *shared, void *priv, int64_t lo, int64_t hi)
{
	RtkWSrc ws = {.wf = w};
	rtk_fconv_part(p, x, &ws, 0, bias, y, shared, priv, lo, hi);
}

void rtk_conv_f32(const RtkConv *p, const float *x, const float *w, const float *bias,
                  float *y, void *scratch)
{
	RtkWSrc ws = {.wf = w};
	rtk_fconv(p, x, &ws, 0, bias, y, scratch);
}
