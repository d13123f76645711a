/* runtime/grad.h: backward (and training-forward) kernels for the SQ trainer (passes/sq/).
 *
 * Same conventions as rt.h: plain C-order float buffers, NCHW images, parameter structs
 * with every field explicit. Reference kernels (*_ref, runtime/grad_ref.c) are plain loops
 * written to be obviously right; fast ones (*_fast, runtime/grad_<family>.c as named below
 * and igemm_bwd.c, sqc's own micro-kernels over the whole mini-batch) agree with them
 * within float rounding (tests/unit/test_grad.c checks both against finite differences and
 * against each other).
 *
 * Every output is OVERWRITTEN (never accumulated into), and a NULL output pointer means
 * "not needed": its work is skipped. Inputs are never modified. dy is always the gradient
 * of the loss with respect to the forward op's output, with the output's shape.
 *
 * Conventions the trainer relies on:
 * - Subgradients at kinks: relu'(0) = 0 and leakyrelu'(0) = alpha (x > 0 takes the
 *   identity branch, as PyTorch); hardsigmoid passes the gradient only strictly inside
 *   0 < alpha*x+beta < 1; clip passes it on the closed interval min <= x <= max (PyTorch's
 *   clamp). MaxPool sends the gradient to the tap the forward picked (first maximum in
 *   row-major window order), so ties are never split.
 * - Losses return the MEAN over the batch and their gradients include the 1/n.
 * - BatchNormalization in training normalizes with the batch mean and the BIASED batch
 *   variance (divide by count = n*spatial). The running statistics are the trainer's
 *   (rt_batchnorm_running_update implements PyTorch's rule: momentum 0.1,
 *   running = (1-momentum)*running + momentum*batch, with the UNBIASED variance
 *   var*count/(count-1) going into running_var).
 */
#ifndef SQC_GRAD_H
#define SQC_GRAD_H

#include "rt.h"

/* ---- Conv ---------------------------------------------------------------------------- *
 * Backward of rt_conv_ref (any group, stride, pad, dilation, 1-3 spatial dims):
 * x [n, c, in...], w [m, c/group, k...], dy [n, m, out...] ->
 * dx [n, c, in...] (zeros where no tap reads x), dw [m, c/group, k...], db [m]
 * (db = sum of dy over the batch and the output positions). */
void rt_conv_backward_ref(const RtConv *p, const float *x, const float *w, const float *dy,
                          float *dx, float *dw, float *db);
/* runtime/grad_conv.c, on sqc's own micro-kernels (igemm_bwd.c, see fast.h): dX as the
 * transposed convolution on the forward's indirect GEMM, dW with a kernel that reads a
 * channels-last copy of x and dY transposed, the batch summed in a fixed number of parts.
 * The rare cases they do not cover (dX of a layer padded by more than dil*(k-1)) take
 * im2col + OpenBLAS: dW_g = dY_g col^T and dcol = W_g^T dY_g, then col2im. Deterministic:
 * the result depends neither on the thread count nor on scheduling. x is only read when dw
 * is wanted, w only when dx is (the other may be NULL). */
void rt_conv_backward_fast(const RtConv *p, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, float *db);

/* ---- Gemm ---------------------------------------------------------------------------- *
 * Backward of Y[M,N] = alpha op(A) op(B) + beta C (rt_gemm_ref):
 * da has A's stored layout ([M,K], or [K,M] when trans_a), db has B's ([K,N], or [N,K]
 * when trans_b); both include the factor alpha.
 * dc has C's stored layout: broadcast element (i, j) adds beta*dY[i,j] into
 * dc[i*c_rs + j*c_cs], i.e. dc is [M,N] (c_rs = N, c_cs = 1), [N] when c_rs == 0,
 * [M] when c_cs == 0 (c_rs = 1), a scalar when both are 0; the sum over broadcast dims is
 * the reduction. dc is written even when beta == 0 (as zeros). */
void rt_gemm_backward_ref(const RtGemm *p, const float *a, const float *b, const float *dy,
                          float *da, float *db, float *dc);
/* runtime/grad_gemm.c: the products on sqc's micro-kernels (rt_igemm_gemm). */
void rt_gemm_backward_fast(const RtGemm *p, const float *a, const float *b, const float *dy,
                           float *da, float *db, float *dc);

/* ---- MatMul -------------------------------------------------------------------------- *
 * Backward of rt_matmul_ref with its numpy semantics: dy has the result's shape, da sa's,
 * db sb's; a gradient is summed over the batch dims its operand was broadcast along.
 * The trainer's case is A [batch..., M, K] times a 2-D weight B [K, N]: then
 * da = dY B^T and db = A^T dY with A seen as [M_total, K], M_total = product of A's leading
 * dims, and the fast version (runtime/grad_gemm.c) does each in one GEMM. */
void rt_matmul_backward_ref(const Shape *sa, const float *a, const Shape *sb, const float *b,
                            const float *dy, float *da, float *db);
void rt_matmul_backward_fast(const Shape *sa, const float *a, const Shape *sb, const float *b,
                             const float *dy, float *da, float *db);

/* ---- Elementwise --------------------------------------------------------------------- *
 * Backward of rt_unary_ref for RT_RELU, RT_LEAKYRELU, RT_SIGMOID, RT_TANH, RT_HARDSIGMOID,
 * RT_CLIP (alpha/beta as in rt_unary_ref; subgradients at the kinks: see the top).
 * x is the forward input, y its output. SIGMOID and TANH use y when it is not NULL (else
 * recompute it from x); the others read only x (y may be NULL). */
void rt_unary_backward_ref(RtUnary op, float alpha, float beta, const float *x,
                           const float *y, const float *dy, float *dx, int64_t n);

/* Sums a broadcast gradient back to an operand's shape, for Add/Sub/Mul/Div backward:
 * `from` is the broadcast (result) shape of dy, `to` the operand's shape; numpy
 * broadcasting, right-aligned (to->rank <= from->rank, each dim of `to` equals the
 * aligned dim of `from` or is 1). */
void rt_reduce_to_shape_ref(const Shape *from, const float *dy, const Shape *to, float *dx);
/* Gradient of y = a OP b (RT_ADD, RT_SUB, RT_MUL, RT_DIV, RT_PRELU with b the slope;
 * numpy broadcasting of shapes sa and sb to sy, PRelu's sa = sy) wrt operand j (0: a,
 * 1: b), reduced to that operand's shape, into dx.
 * y is the forward's result (DIV's d/db = -dy * y / b reads it); tmp: ny floats of scratch. */
void rt_binary_backward_ref(RtBinary op, int j, const Shape *sa, const float *a,
                            const Shape *sb, const float *b, const Shape *sy, const float *y,
                            const float *dy, float *tmp, float *dx);

/* ---- Pooling ------------------------------------------------------------------------- *
 * MaxPool: indices is rt_maxpool_ref's indices output for the same p (either storage
 * order; entries -1, windows with no tap inside the input, get no gradient). dx
 * [n, c, in...] receives dy at the selected taps and 0 elsewhere. */
void rt_maxpool_backward_ref(const RtPool *p, const int64_t *indices, const float *dy,
                             float *dx);
/* AveragePool: each output spreads dy/count over its taps inside the input, with the
 * forward's count (count_include_pad and the ceil-mode clipping respected). */
void rt_avgpool_backward_ref(const RtPool *p, const float *dy, float *dx);
/* Global pools over x [n, c, spatial]: average gives dy/spatial everywhere; max gives dy
 * to the first position holding the maximum (the one equal to y, the forward output, when
 * y is given; else recomputed from x), 0 elsewhere. */
void rt_global_pool_backward_ref(int is_max, int64_t n, int64_t c, int64_t spatial,
                                 const float *x, const float *y, const float *dy, float *dx);

/* Softmax (log = 0) or LogSoftmax (1) over the middle dim of [outer][len][inner], from its
 * output y: dx = y (dy - sum dy y), or dy - exp(y) sum dy. */
void rt_softmax_backward_ref(const float *y, const float *dy, float *dx, int64_t outer,
                             int64_t len, int64_t inner, int log);

/* ---- data movement -------------------------------------------------------------------- */
/* Concat over axis of n operands of shapes sx: operand i's gradient is its slice of dy
 * (dx[i] may be NULL: not wanted). */
void rt_concat_backward_ref(int n, const Shape *const *sx, int axis, const float *dy,
                            float *const *dx);
/* Transpose of x (shape sx) by perm: dx is dy transposed back by the inverse permutation. */
void rt_transpose_backward_ref(const Shape *sx, const int64_t *perm, const float *dy,
                               float *dx);
/* Pad of x (shape sx) to sy, any mode. rt_pad_src_map gives, per output element, the input
 * element the forward copies there (-1: the constant); it depends on the shapes and pads
 * only, so training makes it once. rt_pad_backward_ref sends each element of dy back
 * through it (reflect and edge copy one input element to several outputs: their
 * gradients add); cropped input elements get 0. */
void rt_pad_src_map(RtPadMode mode, const Shape *sx, const int64_t *pads, const Shape *sy,
                    int64_t *src);
void rt_pad_backward_ref(const int64_t *src, int64_t nx, int64_t ny, const float *dy,
                         float *dx);

/* ---- BatchNormalization -------------------------------------------------------------- *
 * Training forward over x [n, c, spatial] with batch statistics: per channel
 * mean = E[x], var = E[(x-mean)^2] (biased), invstd = 1/sqrt(var + eps),
 * y = gamma*(x-mean)*invstd + beta. mean and invstd [c] are saved for the backward
 * (NULL: not needed). The biased variance is 1/invstd^2 - eps. */
void rt_batchnorm_train_forward_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                                    const float *gamma, const float *beta, float eps,
                                    float *y, float *mean, float *invstd);
/* Backward of the training forward (the batch statistics depend on x):
 * xhat = (x-mean)*invstd, dbeta = sum dy, dgamma = sum dy*xhat,
 * dx = gamma*invstd*(dy - dbeta/count - xhat*dgamma/count), count = n*spatial. */
void rt_batchnorm_backward_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                               const float *gamma, const float *mean, const float *invstd,
                               const float *dy, float *dx, float *dgamma, float *dbeta);
/* Backward of BatchNormalization with frozen (running) statistics, i.e. of rt_batchnorm_ref:
 * dx = dy*gamma/sqrt(running_var+eps), dgamma = sum dy*xhat, dbeta = sum dy. */
void rt_batchnorm_frozen_backward_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                                      const float *gamma, const float *running_mean,
                                      const float *running_var, float eps, const float *dy,
                                      float *dx, float *dgamma, float *dbeta);
/* PyTorch's running-statistics update after a training forward over count = n*spatial
 * values per channel: running_mean += momentum*(mean - running_mean),
 * running_var += momentum*(var*count/(count-1) - running_var) with var recovered from
 * invstd (count 1: the biased variance is used). Updates running_* in place. */
void rt_batchnorm_running_update(int64_t c, int64_t count, const float *mean,
                                 const float *invstd, float eps, float momentum,
                                 float *running_mean, float *running_var);

/* ---- Losses -------------------------------------------------------------------------- *
 * Softmax cross-entropy over logits [n, classes] and labels [n] in [0, classes):
 * returns the mean over n of -log softmax(logits)[label]; dlogits = (softmax - onehot)/n
 * (nullable); *correct (nullable) = how many rows have their first argmax equal to the
 * label. The caller validates labels beforehand: a label out of range makes the result
 * NaN (its dlogits row is 0). n == 0 returns 0. */
double rt_softmax_xent_ref(const float *logits, const int32_t *labels, int64_t n,
                           int64_t classes, float *dlogits, int64_t *correct);
/* Distillation (Hinton et al.): with the temperature T > 0, p = softmax(teacher/T) and
 * q = softmax(student/T) per row, returns T*T * the mean over n of
 * KL(p || q) = sum p (log p - log q); dstudent (nullable) = T*(q - p)/n, its gradient.
 * The teacher gets no gradient. */
double rt_distill_kl_ref(const float *student, const float *teacher, int64_t n,
                         int64_t classes, float T, float *dstudent);

/* ---- Fast training kernels ---------------------------------------------------------- *
 * The trainer's elementwise, quantizer, pooling and BatchNormalization work on the thread
 * pool (rt_parallel, threads.h) with loops the compiler vectorizes, a file per family (the
 * sections below; their shared helpers are in runtime/grad_internal.h). Deterministic:
 * every result element is computed by one fixed sequence of operations whichever thread
 * runs it, so the result depends neither on the thread count nor on scheduling. Input and
 * output buffers must not overlap. */

/* ---- grad_elementwise.c ----
 * rt_unary_fast: rt_unary_ref bit for bit (any op). rt_unary_backward_fast:
 * rt_unary_backward_ref bit for bit; for RT_RELU it may be given the forward OUTPUT y
 * instead of x (x = NULL): relu'(x) = [x > 0] = [y > 0], NaN and -0 included. */
void rt_unary_fast(RtUnary op, float alpha, float beta, const float *x, float *y, int64_t n);
void rt_unary_backward_fast(RtUnary op, float alpha, float beta, const float *x,
                            const float *y, const float *dy, float *dx, int64_t n);
/* dst[i] += src[i] (a gradient reaching a value from a second consumer), on the pool. */
void rt_accumulate_fast(float *dst, const float *src, int64_t n);

/* ---- grad_actq.c ----
 * rt_act_quant_ref bit for bit (NaN -> -qn*s as there), on the pool; y may equal x. */
void rt_act_quant_fast(const float *x, float *y, int64_t n, int qn, int qp, float s);
/* The LSQ backward of that quantizer over x [n] (passes/sq/actq.c): v = x/s,
 * dx = dy where -qn < v < qp (else 0; NaN: 0), and returns sum_i dy_i ds_i with
 * ds_i = -qn at or below the range (NaN too), qp at or above it, round(v) - v inside, in
 * double: per element as sq_act_backward always did, summed in RT_ACT_PARTS fixed parts of
 * [0, n) (each in lanes), the parts then added in order. dx may equal dy or x. */
#define RT_ACT_PARTS 64
double rt_act_quant_backward_fast(const float *x, const float *dy, float *dx, int64_t n,
                                  int qn, int qp, float s);
/* The quantizer is also fused into its producer's kernel (the *_actq_fast functions of
 * grad_pool.c and grad_bn.c): the forward quantizes the producer's output while in cache;
 * the backward is fused into the producer's backward, so that its output gradient dq is
 * read once and the quantizer's input gradient is never materialized. Those backward
 * functions return the quantizer's ds sum (the same per element terms in double), summed
 * per channel (plane) in lanes and then over the channels (planes) in order: the same
 * value within rounding, independent of the thread count. */

/* ---- grad_pool.c ----
 * MaxPool forward with the indices (storage order 0) and its backward: rt_maxpool_ref and
 * rt_maxpool_backward_ref bit for bit (other cases than windows inside the input without
 * dilation, and storage_order 1, run those reference kernels). */
void rt_maxpool_train_fast(const RtPool *p, const float *x, float *y, int64_t *indices);
void rt_maxpool_backward_fast(const RtPool *p, const int64_t *indices, const float *dy,
                              float *dx);
/* rt_maxpool_train_fast, then xq = rt_act_quant_fast(y, xq, ...) bit for bit, each plane's
 * outputs quantized while in cache. */
void rt_maxpool_train_actq_fast(const RtPool *p, const float *x, float *y, int64_t *indices,
                                int qn, int qp, float s, float *xq);
/* The quantizer's backward fused in (see grad_actq.c's section): q_in is the MaxPool's
 * output; dx bit for bit that of rt_act_quant_backward_fast followed by
 * rt_maxpool_backward_fast. */
double rt_maxpool_backward_actq_fast(const RtPool *p, const int64_t *indices,
                                     const float *q_in, int qn, int qp, float s,
                                     const float *dq, float *dx);

/* ---- grad_bn.c ----
 * rt_batchnorm_train_forward_ref within rounding, one pass over x for the statistics
 * (sums of x - x0 and (x - x0)^2 in double, x0 the channel's first value: the shifted
 * formula, stable when |mean| >> std), channels in parallel. relu != 0 applies
 * rt_unary_ref's Relu to y (y = relu(batchnorm(x)), the BatchNormalization output itself
 * is not written). */
void rt_batchnorm_train_forward_fast(int64_t n, int64_t c, int64_t spatial, const float *x,
                                     const float *gamma, const float *beta, float eps,
                                     float *y, float *mean, float *invstd, int relu);
/* The same, then the activation quantizer on y (y must not be NULL): xq bit for bit
 * rt_act_quant_fast(y, xq, n*c*spatial, qn, qp, s), in the same pass. */
void rt_batchnorm_train_forward_actq_fast(int64_t n, int64_t c, int64_t spatial,
                                          const float *x, const float *gamma,
                                          const float *beta, float eps, float *y, float *mean,
                                          float *invstd, int relu, int qn, int qp, float s,
                                          float *xq);
/* rt_batchnorm_backward_ref within rounding, channels in parallel. relu_y (nullable) is
 * the output of a Relu applied to the BatchNormalization output, and dy that Relu's output
 * gradient: the Relu backward is fused in (dy is taken as 0 where relu_y > 0 is false). */
void rt_batchnorm_backward_fast(int64_t n, int64_t c, int64_t spatial, const float *x,
                                const float *gamma, const float *mean, const float *invstd,
                                const float *relu_y, const float *dy, float *dx,
                                float *dgamma, float *dbeta);
/* The quantizer's backward fused in (see grad_actq.c's section): q_in is the quantizer's
 * input, the BatchNormalization's output (after a fused Relu when relu != 0: then q_in is
 * also rt_batchnorm_backward_fast's relu_y); dx, dgamma, dbeta are bit for bit those of
 * rt_act_quant_backward_fast(q_in, dq) followed by rt_batchnorm_backward_fast. */
double rt_batchnorm_backward_actq_fast(int64_t n, int64_t c, int64_t spatial, const float *x,
                                       const float *gamma, const float *mean,
                                       const float *invstd, const float *q_in, int relu,
                                       int qn, int qp, float s, const float *dq, float *dx,
                                       float *dgamma, float *dbeta);

#endif
