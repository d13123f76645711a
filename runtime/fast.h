/* runtime/fast.h: the interpreter's fast paths beyond rt.h: fused activations, the indirect
 * GEMM kernels (runtime/igemm.c) and their controls (instruction set; the thread count and
 * pool are in threads.h, included here).
 * Private to runtime/, its tests and the trainer (passes/sq/train.c); the reference kernels
 * stay the oracle.
 */
#ifndef SQC_FAST_H
#define SQC_FAST_H

#include "rt.h"
#include "threads.h" /* rt_parallel, rt_split_*: every user of fast.h has them */

/* Activation applied in a kernel's epilogue, after the bias. */
typedef enum { RT_ACT_NONE, RT_ACT_RELU } RtAct;

/* rt_conv_fast / rt_gemm_fast followed by act: equal to the reference kernel followed by
 * rt_unary_ref (within float rounding of the sums; the activation itself is exact). */
void rt_conv_fast_act(const RtConv *p, const float *x, const float *w, const float *b,
                      float *y, RtAct act);
void rt_gemm_fast_act(const RtGemm *p, const float *a, const float *b, const float *c,
                      float *y, RtAct act);

/* MaxPool without the indices output; exactly rt_maxpool_ref's result (a max is exact). */
void rt_maxpool_fast(const RtPool *p, const float *x, float *y);

/* ---- igemm.c ----------------------------------------------------------------------------
 * Indirect GEMM (the XNNPACK scheme): a micro-kernel computes an MR x NR tile
 *   tile[i][j] = sum_t sum_c ptrs[t][i][c] * bpack[t][c][j]
 * where ptrs gives, for each of T taps, MR row pointers to C contiguous floats. A
 * convolution is one such product per tile of MR output pixels (image in channels-last
 * layout, one pointer per pixel and kernel tap, a zero row for padding) and NR output
 * channels, with no im2col matrix; a Gemm is the case T = 1, C = K. Sums run over t, then c:
 * the same terms as the reference in another order.
 *
 * Cases outside the ONNX rules the drivers run on the reference kernel. */
void rt_igemm_conv(const RtConv *p, const float *x, const float *w, const float *b, float *y,
                   RtAct act);
/* Y = alpha * op(A) op(B) + beta * C (RtGemm's semantics), then act. */
void rt_igemm_gemm(const RtGemm *p, const float *a, const float *b, const float *c, float *y,
                   RtAct act);

/* ---- igemm_bwd.c: Conv backward on the same kernels -------------------------------------
 * dW = the weights' gradient (overwritten; dw [m, c/group, k...]) and dX = the input's
 * (overwritten; [n, c, in...]) of rt_conv_ref, within float rounding of
 * rt_conv_backward_ref; results do not depend on the thread count. dX is the transposed
 * convolution run by rt_igemm_conv (strided ones on dY spread out with zeros). Both return
 * -1, writing nothing, for what they do not cover (empty dims, negative padding, dX of a
 * layer padded by more than dil*(k-1)): the caller then takes another path. */
int rt_igemm_conv_dw(const RtConv *p, const float *x, const float *dy, float *dw);
int rt_igemm_conv_dx(const RtConv *p, const float *w, const float *dy, float *dx);

/* Micro-kernel instruction sets; the best one the CPU has is chosen at first use. */
typedef enum { RT_ISA_GENERIC, RT_ISA_AVX2, RT_ISA_AVX512, RT_ISA_COUNT } RtIsa;
int rt_isa_supported(RtIsa isa);
const char *rt_isa_name(RtIsa isa);
RtIsa rt_isa_get(void);
/* Tests force one (it must be supported); not thread-safe against running kernels. */
void rt_isa_set(RtIsa isa);

/* OpenBLAS helpers (fast.c): is v a valid BLAS dimension; row-major
 * C[m,n] = alpha * op(A) op(B) + beta * C with m, n, k >= 1. */
int rt_blas_ok(int64_t v);
void rt_sgemm_rm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc);

/* Channels-last copy: dst[q*ld + ch] = src[ch*stride + q] for q < npix, ch < nch, the
 * convolution kernels' packing (igemm.c; igemm_bwd.c uses it too). The function for isa,
 * or the portable one when an offset up to max_offset would not fit the gathers' int32
 * lanes. */
typedef void RtChlFn(const float *src, int64_t nch, int64_t stride, int64_t npix, float *dst,
                     int64_t ld);
RtChlFn *rt_chl_fn(RtIsa isa, int64_t max_offset);

#endif
