/* runtime/fast.h: the interpreter's fast paths beyond rt.h: fused activations, the indirect
 * GEMM kernels (runtime/igemm.c) and their controls (instruction set, threads).
 * Private to runtime/, its tests and the trainer (passes/sq/train.c); the reference kernels
 * stay the oracle.
 */
#ifndef SQC_FAST_H
#define SQC_FAST_H

#include "rt.h"

#include <stdatomic.h>

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

/* Threads of the fast kernels: n > 0 sets the count, 0 restores the default, which is
 * OpenBLAS's thread count (OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else the cores), so
 * one setting governs BLAS and these kernels alike. Results do not depend on the count. */
void rt_set_threads(int n);
int rt_threads(void);

/* Runs fn(ctx, tid, nth) for tid in [0, nth) on the pool's threads (the caller is tid 0),
 * nth = min(rt_threads(), max_tasks), and returns when all are done. Nested or concurrent
 * calls run serially on the calling thread (nth = 1). */
typedef void RtTaskFn(void *ctx, int tid, int nth);
void rt_parallel(RtTaskFn *fn, void *ctx, int max_tasks);

/* Work items [0, n) that the tasks of a region take in chunks as they go, so that a thread
 * the system holds back (other processes on the cores) does not hold the others up. Which
 * thread computes an item never changes its result. */
typedef struct {
	atomic_llong next;
	int64_t n, chunk;
} RtSplit;
/* chunk = n / (parts * rt_threads()), at least 1 and at most max_chunk (0: no cap). */
void rt_split_init(RtSplit *s, int64_t n, int parts, int64_t max_chunk);
/* The next chunk [*lo, *hi); 0 when none is left. */
int rt_split_next(RtSplit *s, int64_t *lo, int64_t *hi);

#endif
