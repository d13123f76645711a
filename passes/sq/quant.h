/* passes/sq/quant.h: the per-layer mathematics of Smart Quantization (SQ) and its
 * baselines, the LSQ/UniQ activation quantizer, and the compression figures.
 *
 * Spec: ../shared/design/SQ-METHOD.md of the project workspace ("the spec" below; equation numbers are the
 * paper's, as the spec cites them). This is a small library with no I/O and no global
 * state: every function works on the state object it is given, so layers can be handled
 * by different threads. Allocation goes through xmalloc (aborts on OOM: internal failure).
 *
 * ---- Weight layout -------------------------------------------------------------------
 * A layer's weights are one float array laid out [C, per], row-major, one row per OUTPUT
 * channel c (the channel the scale a_c belongs to):
 *   Conv      W[M, C/group, k1, k2, ...]  is already [M, per = C/group * k1 * k2 ...];
 *   Gemm      B with transB = 1 is [N, K] = [C = N, per = K] as stored; with transB = 0
 *             B is [K, N] and the TRAINER transposes it to [N, K] before calling us (and
 *             transposes dw back); Gemm with transA does not matter here;
 *   MatMul    constant B[K, N]: same as Gemm with transB = 0 (transpose to [N, K]).
 * Weight tensors w, wq, dwq, dw and codes all use that layout and have n = C * per entries.
 *
 * ---- Calling sequence (the trainer, once per step per quantized layer) ---------------
 *   sq_layer_init(&L, method, w0, C, per, &hyper)         once, from the float weights
 *   per step:
 *     sq_forward(&L, w, wq, NULL)          wq = a_c * t(w): the weights the layer uses
 *     ... layer forward with wq, loss, layer backward gives dwq = dL/dwq ...
 *     sq_backward(&L, w, dwq, dw)          dw = STE(dwq); accumulates dL/da into L.grad
 *     pen = sq_regularize(&L, w, dw)       dw += lambda_l dR_l/dw; grads of a and beta
 *     optimizer: w -= f(dw); for the sq_nparams(&L) scalars L.param -= f(L.grad)
 *     sq_project(&L, w)                    beta into its range, a_c > 0 (BC: clip w)
 *     sq_zero_grad(&L)
 *   end of the SQ phase: sq_decide(&L, w) freezes 1 or 2 bits (recovery phase follows with
 *   the same calls); export: sq_forward(&L, w, wq, codes) gives t in {-1,0,1} and L.a.
 *
 * ---- Trainable scalars: exposed as one parameter array (our choice) ------------------
 * Instead of an sq_step_scalars() with its own optimizer, each layer exposes its trainable
 * scalars as a plain float array L.param[0 .. sq_nparams(&L)-1] with gradients in L.grad
 * (same layout), so the trainer updates them with the SAME Adam/SGD code and state it uses
 * for every other parameter tensor, then calls sq_project(). Layout of param/grad (SQ):
 *   param[0 .. C-1] = a_0 .. a_{C-1}  (per-channel scales, > 0)
 *   param[C]        = beta            (the shape parameter itself, in radians)
 * Do not apply weight decay to these. Methods other than SQ have 0 trainable scalars (their
 * scales live in L.a too, but are fixed or recomputed from w).
 *
 * ---- beta parametrization (spec leaves the choice): clipping --------------------------
 * beta is trained directly and clipped into [beta_min, beta_max] = [pi/4, pi/2 - 1e-3] by
 * sq_project after every update (projected gradient). Why not the sigmoid form: its
 * gradient vanishes near both ends, so a layer that has become binary (beta at the top)
 * could barely move back and the motion toward pi/2 slows down where it matters; clipping
 * keeps the spec's gradients (dR/dbeta = sec^2(beta) r^p, prior -gamma/sin^2(beta))
 * exactly as written.
 */
#ifndef SQC_PASSES_SQ_QUANT_H
#define SQC_PASSES_SQ_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ==== weights ========================================================================= */

/* The one method enum: --quant=, the config's sq.method, the quantizers (in the order the
 * users see them listed). */
typedef enum {
	SQ_Q_SQ,   /* Smart Quantization: trainable a_c, trainable beta, fixed Delta         */
	SQ_Q_TWN,  /* TWN: Delta = 0.7 mean|W|, a = mean |w| over |w| > Delta, every step    */
	SQ_Q_BWN,  /* XNOR-Net weights: t = sign(w), a_c = mean_c |w| every step             */
	SQ_Q_BC,   /* BinaryConnect: t = sign(w), a fixed per layer = mean|W0|, clipped STE  */
	SQ_Q_NONE, /* FP baseline: weights pass through, 32 bits                            */
	SQ_Q_COUNT
} SqMethod;

/* The --quant= spellings, by SqMethod: "sq", "twn", "bwn", "bc", "none". */
extern const char *const sq_method_names[SQ_Q_COUNT];
const char *sq_method_name(SqMethod m);
/* Inverse of sq_method_name; -1 for an unknown name. */
int sq_method_parse(const char *s);

enum { SQ_BALANCE_COUNT, SQ_BALANCE_GRADIENT };

/* Every constant of SQ-METHOD.md, with its default (sq_hyper_defaults). All are
 * overridable by the YAML config; sq_hyper_check validates a filled-in struct. */
typedef struct {
	/* threshold: Delta_l = delta_factor * sigma_l, sigma_l = std of the layer's weights at
	 * init. 0.4307 = PhiInv(2/3): a third of Gaussian weights start in the zero bucket. */
	float delta_factor;  /* 0.4307 */
	/* regularizer order p in R(w; a, beta) = min(tan(beta)|w|^p, |a - |w||^p), eq. 8.
	 * 1 or 2. Default 2 (ours: the spec gives no value; the paper reports accuracy hardly
	 * depends on it; p = 2 has zero slope at the valleys, so it does not chatter there). */
	int p;               /* 2 */
	/* eq. 10: J = L + sum_l lambda_l (R_l + gamma cot(beta_l)), lambda_l = lambda / n_l
	 * (SQ_BALANCE_COUNT; see `balance` below for the trainer's default).
	 * The paper's values were lost in extraction; these defaults are OUR starting points
	 * for the count balance (the config's defaults for the gradient balance are in
	 * frontend/config.c, fe_sq_lambda / fe_sq_gamma). Reasoning: beta grows iff
	 * gamma > tan^2(beta) sum_{branch A} |w|^p, which is about 0.04 n_l sigma_l^2 at
	 * beta = pi/4 (p = 2): ~0.2-0.6 for LeNet-5's convolutions and ~3-5 for its first
	 * two fully connected layers, so gamma = 1 separates them as in the paper (1-1-2-2-2).
	 * lambda = 100 makes the regularizer's pull per weight comparable to a typical
	 * task-loss gradient in a 50k-weight layer (and dominant in small layers). */
	float lambda;        /* 100 */
	float gamma;         /* 1 */
	/* How lambda_l and the prior are balanced across layers (ours):
	 *   SQ_BALANCE_COUNT: the paper's lambda_l = lambda / n_l, prior gamma cot(beta) as is;
	 *   SQ_BALANCE_GRADIENT: lambda_l = lambda g_l / (p sigma_l^(p-1)), g_l the running RMS
	 *     of the task loss's gradient over the layer's weights (sq_observe_task_grad), and
	 *     the prior gamma n_l sigma_l^p cot(beta). The regularizer then pulls a weight at
	 *     |w| = sigma (tan(beta) = 1) with lambda times the task's typical gradient in every
	 *     layer, whatever its size or weight scale, and beta grows iff
	 *     gamma > tan^2(beta) mean_j [j in branch A] (|w_j| / sigma_l)^p: the decision
	 *     depends on how the task holds the layer's small weights, not on n_l (with COUNT
	 *     the prior outweighs the regularizer in small layers, so the smallest layers, often
	 *     the first and the last, became binary first). The trainer's default (config). */
	int balance;         /* SQ_BALANCE_COUNT */
	/* range of beta, and its value at init. beta_min = pi/4 is the ternary shape (tan 1);
	 * beta_max = pi/2 - 1e-3 (tan ~ 1000) is as binary as we let it get. */
	float beta_min;      /* pi/4 */
	float beta_max;      /* pi/2 - 1e-3 */
	float beta_init;     /* pi/4 */
	/* 0 freezes beta at beta_init (ablations: SQ-fixed-2 = beta_init pi/4, SQ-fixed-1 =
	 * beta_init beta_max); the prior then contributes no gradient. */
	int train_beta;      /* 1 */
	/* decision rule (ours, the spec's defaults): binary iff the fraction of weights with
	 * |w| <= Delta_l is <= zero_frac_max, or tan(beta_l) >= tan_binary. */
	float zero_frac_max; /* 0.01 */
	float tan_binary;    /* 20 */
	/* STE of SQ/BWN/TWN: dL/dw = dL/dq masked by |w| <= ste_clip; 0 = no mask (identity,
	 * the spec's default). */
	float ste_clip;      /* 0 */
	/* BC's clipped STE: dL/dw = dL/dq [|w| <= bc_clip]; sq_project also clips BC's latent
	 * weights to [-bc_clip, bc_clip] as BinaryConnect does. */
	float bc_clip;       /* 1 */
	/* TWN's threshold: Delta = twn_factor * mean|W| (Li & Liu's approximation). */
	float twn_factor;    /* 0.7 */
	/* lower bound of a trainable scale after an update: a_c >= a_min_rel * sigma_l (and
	 * >= 1e-12). Keeps a > 0 as the spec requires without a fixed absolute unit. */
	float a_min_rel;     /* 1e-3 */
} SqHyper;

SqHyper sq_hyper_defaults(void);
/* 0 if every field is in range; else -1 with a message naming the field, its value and
 * the accepted range written to msg (the caller reports it as a config error). */
int sq_hyper_check(const SqHyper *h, char *msg, size_t cap);

/* State of one quantized layer. Fields are readable by the trainer and the report;
 * write only param (through the optimizer) and grad. */
typedef struct {
	SqMethod method;
	int64_t C, per, n;   /* channels, weights per channel, n = C * per (= n_l)          */
	SqHyper h;           /* copy of the hyper-parameters                                 */
	float sigma;         /* std of the weights at init (population std, about the mean)  */
	float delta;         /* threshold: SQ fixed at delta_factor * sigma; TWN the last
	                      * forward's 0.7 mean|W|; 0 for NONE, BC, BWN                    */
	float *param;        /* [C + 1] a_0 .. a_{C-1}, beta (SQ; beta unused otherwise)     */
	float *grad;         /* [C + 1] gradients of param (SQ only; zeroed at init)         */
	float *a;            /* == param: per-channel scales. BC: all equal, fixed; BWN/TWN:
	                      * recomputed by sq_forward (TWN: all equal); NONE: unused      */
	int bits;            /* 0 = undecided (SQ before sq_decide), 1, 2; 32 = NONE         */
	int beta_frozen;     /* beta held at beta_fixed (train_beta = 0, or after decide)    */
	float beta_fixed;
	float a_min;         /* floor of a_c applied by sq_project                           */
	double *part;        /* [2C] sq_regularize's per-channel partial sums (scratch)       */
	double grad_rms;     /* SQ_BALANCE_GRADIENT: running RMS of the task gradient (0: none
	                      * observed yet)                                                 */
} SqLayer;

/* Initializes L for a layer with float weights w[C * per] (see layout above):
 *   sigma = std(w); SQ: Delta = delta_factor * sigma, beta = beta_init, and the initial
 *   per-channel scale a_c = mean of |w| over the channel's |w| > Delta, i.e. the
 *   least-squares scale min_a ||w_c - a t(w_c)||^2 for the ternary codes t at the fixed
 *   threshold (what TWN would pick), so the first quantized forward is the closest
 *   ternary approximation of the float layer and a_c starts at the outer valley where
 *   the weights are. A channel without weights above Delta falls back to its mean |w|,
 *   then to the a_min floor.
 *   BC: a = mean|W| over the whole layer, fixed. BWN/TWN: scales computed here too (so L.a
 *   is meaningful before the first forward), then every forward.
 * Returns 0, or -1 when w holds NaN or Inf (the caller reports the node; L is then empty
 * and sq_layer_free is still safe). Preconditions (asserted): C >= 1, per >= 1,
 * hyper-parameters valid. */
int sq_layer_init(SqLayer *L, SqMethod m, const float *w, int64_t C, int64_t per,
                  const SqHyper *h);
void sq_layer_free(SqLayer *L);

/* Forward quantizer: wq[j] = a_c t(w_j) in the layout above; codes (nullable) receive t:
 *   NONE: wq = w (codes not written);  BC: t = sign(w);  BWN: t = sign(w) after
 *   a_c = mean_c |w|;  TWN: Delta = 0.7 mean|W|, t = sign(w)[|w| > Delta], a = mean |w|
 *   over |w| > Delta (per layer);  SQ undecided or 2 bits: t = sign(w)[|w| > Delta];
 *   SQ decided 1 bit: t = sign(w).   sign(0) = +1.
 * wq may alias w only for NONE. */
void sq_forward(SqLayer *L, const float *w, float *wq, int8_t *codes);

/* Straight-through backward: dw = dwq masked by the method's clip (BC: |w| <= bc_clip;
 * others: |w| <= ste_clip when ste_clip > 0). SQ also accumulates
 * grad[c] += sum_{j in c} dwq_j t(w_j) (spec: dL/da_c). dw is WRITTEN (not accumulated);
 * dw may alias dwq. BWN/TWN scales are treated as constants (as in their papers). */
void sq_backward(SqLayer *L, const float *w, const float *dwq, float *dw);

/* Adaptive regularizer, eq. 8-10, SQ only (returns 0 and touches nothing otherwise):
 * returns lambda_l (R_l + gamma_l cot(beta)), and accumulates
 *   dw[j]    += lambda_l dR/dw_j
 *   grad[c]  += lambda_l sum_{j in c} dR/da_c
 *   grad[C]  += lambda_l (sum_j dR/dbeta - gamma_l / sin^2(beta))   (unless beta frozen)
 * COUNT: lambda_l = lambda / n_l, gamma_l = gamma; GRADIENT: lambda_l = lambda grad_rms /
 * (p sigma^(p-1)), gamma_l = gamma n_l sigma^p (grad_rms is a constant here; 0 before any
 * sq_observe_task_grad, which makes the regularizer contribute nothing).
 * with the spec's branch gradients (branch A where tan(beta)|w|^p < |a-|w||^p, else B).
 * After sq_decide: 1-bit layers use the binary regularizer R_b = |a - |w||^p (eq. 6),
 * 2-bit layers keep eq. 8 at their frozen beta. */
double sq_regularize(SqLayer *L, const float *w, float *dw);

/* SQ_BALANCE_GRADIENT: folds the RMS of this step's task-loss gradient dw[n] (before
 * sq_regularize adds to it) into L.grad_rms, an exponential average over about 100 steps
 * (the first call sets it). Computed serially in double: independent of the thread count.
 * No effect for other methods or for SQ_BALANCE_COUNT. */
void sq_observe_task_grad(SqLayer *L, const float *dw);

/* Number of trainable scalars in L.param / L.grad: C + 1 for SQ, 0 otherwise. */
int64_t sq_nparams(const SqLayer *L);
void sq_zero_grad(SqLayer *L);
/* After an optimizer update: beta clipped into [beta_min, beta_max] (or reset to its
 * frozen value), a_c >= a_min; BC: w (nullable) clipped to [-bc_clip, bc_clip]. */
void sq_project(SqLayer *L, float *w);

/* Decision rule (spec "Deciding the bits of a layer"): SQ returns 1 if
 * zero_fraction <= zero_frac_max or tan(beta) >= tan_binary, else 2, and freezes it (the
 * first call decides; later calls return the same); beta is frozen from then on and a is
 * kept as trained. Fixed methods return their bits (BC/BWN 1, TWN 2, NONE 32). */
int sq_decide(SqLayer *L, const float *w);
/* 0 undecided SQ, 1, 2, or 32 for NONE. */
int sq_bits(const SqLayer *L);
/* Fraction of weights with |w| <= L.delta (the zero bucket; report). */
double sq_zero_fraction(const SqLayer *L, const float *w);
/* beta and tan(beta) for SQ; 0 for the other methods (they have no beta). */
double sq_beta(const SqLayer *L);
double sq_tan_beta(const SqLayer *L);
/* Smallest and largest a_c (0, 0 for NONE). */
void sq_scale_range(const SqLayer *L, float *lo, float *hi);

/* ==== activations (actq.c): LSQ with UniQ init ======================================== */

/* Activation quantizer of one tensor. The step s is the trainable scalar: the trainer
 * updates &q.s with &q.grad through its optimizer (one-element parameter) and then calls
 * sq_act_project.
 * Canonical integer semantics (what interpreter and backend share bit for bit):
 *   v = x * inv_s  with inv_s = 1.0f / s computed once in float (sq_act_inv_step),
 *   u = rint(clamp(v, -Q_N, Q_P))  (round half to even = the default SIMD conversion
 *       cvtps2dq / fcvtns), NaN -> -Q_N,
 *   y = s * (float)u  (one float multiply; y == s * u exactly by construction).  */
typedef struct {
	int bits;      /* 1..8, or 32 = identity (float activations, the paper's setting)    */
	int is_signed; /* 0: Q_N = 0, Q_P = 2^k - 1; 1: Q_N = 2^(k-1), Q_P = 2^(k-1) - 1    */
	int qn, qp;    /* Q_N, Q_P                                                          */
	float s;       /* step (> 0 once calibrated)                                         */
	float grad;    /* dL/ds accumulator (LSQ gradient, already scaled by g)              */
	int64_t ncalib;/* calibration batches seen                                           */
} SqAct;

/* bits in 1..8 or 32; signed needs bits >= 2 (1-bit signed has Q_P = 0). Returns 0, or
 * -1 for an invalid combination. s starts at 0 (uncalibrated). */
int sq_act_init(SqAct *q, int bits, int is_signed);
/* UniQ init, one calibration batch: s = max(s, sqrt(2 mean(x^2)) * D_k) over batches
 * (D = Dplus for unsigned, D+- for signed; see actq.c), floored at 1e-8 so that s > 0. */
void sq_act_init_calibrate(SqAct *q, const float *x, int64_t n);
float sq_act_inv_step(const SqAct *q);
void sq_act_forward(const SqAct *q, const float *x, float *y, int64_t n);
/* LSQ: dx = dy [-Q_N < v < Q_P]; grad += g sum_i dy_i ds_i with ds_i = round(v)-v inside,
 * -Q_N at or below the range, Q_P at or above it, g = 1 / sqrt(n Q_P) (n = elements of
 * the tensor passed). dx may alias dy or x. bits 32: dx = dy. */
void sq_act_backward(SqAct *q, const float *x, const float *dy, float *dx, int64_t n);
/* The step's share of that: grad += g * ds, ds = sum_i dy_i ds_i computed elsewhere (a
 * producer's backward with the quantizer's fused in, runtime/grad.h), n as there. */
void sq_act_add_ds(SqAct *q, double ds, int64_t n);
/* The integers u of the canonical semantics, for unsigned / signed quantizers; -1 if the
 * quantizer's signedness does not match or bits is 32. */
int sq_act_codes(const SqAct *q, const float *x, uint8_t *u, int64_t n);
int sq_act_codes_signed(const SqAct *q, const float *x, int8_t *u, int64_t n);
/* s >= 1e-8 after an optimizer update. */
void sq_act_project(SqAct *q);

/* ==== compression ====================================================================== */

/* Paper's ratio: 32 sum_l n_l / sum_l b_l n_l (b_l = 32 for float layers). */
double sq_compression_ratio(const int64_t *n, const int *bits, int L);
/* Bytes of a layer as packed for the backend: bits 1/2: `bits` bit planes of C rows, each
 * row padded to whole bytes (C * bits * ceil(per/8)), + 4 bytes of scale per channel;
 * bits 32: 4 C per, no scale; + 4 C of bias when has_bias. */
int64_t sq_packed_bytes(int64_t C, int64_t per, int bits, int has_bias);

#endif
