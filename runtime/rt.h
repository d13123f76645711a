/* runtime/rt.h: reference kernels (the oracle), their fast twins, and the interpreter.
 *
 * Kernels work on plain buffers (C order, NCHW for images) with shapes passed as ir Shape
 * values or as parameter structs whose every field is explicit: attribute defaults and
 * auto_pad are resolved by shape inference (passes/shape.c) before anything runs.
 * Reference kernels (rt_*_ref) are straightforward loops, written to be obviously right.
 * Fast kernels (rt_*_fast) must agree with them (tests/unit/test_kernels.c).
 * Kernels return 0, or -1 on a data-dependent error (e.g. a Gather index out of range)
 * that the caller reports.
 */
#ifndef SQC_RT_H
#define SQC_RT_H

#include "../ir/ir.h"

#define RT_MAX_SPATIAL 3

/* Convolution, ONNX semantics, 1 to 3 spatial dims.
 * x [n, c, in...], w [m, c/group, k...], b [m] or NULL, y [n, m, out...]
 * out[i] = floor((in[i] + pad_begin[i] + pad_end[i] - dil[i]*(k[i]-1) - 1) / stride[i]) + 1
 * (pad_end is implied by out; the kernel reads padding as zeros). */
typedef struct {
	int nsp;
	int64_t n, c, m, group;
	int64_t in[RT_MAX_SPATIAL], out[RT_MAX_SPATIAL], k[RT_MAX_SPATIAL];
	int64_t stride[RT_MAX_SPATIAL], dil[RT_MAX_SPATIAL], pad_begin[RT_MAX_SPATIAL];
} RtConv;
void rt_conv_ref(const RtConv *p, const float *x, const float *w, const float *b, float *y);
/* im2col + cblas_sgemm; same results as rt_conv_ref within float rounding. */
void rt_conv_fast(const RtConv *p, const float *x, const float *w, const float *b, float *y);

/* Gemm: Y[M,N] = alpha * op(A) op(B) + beta * C.
 * A is [M,K] ([K,M] when trans_a), B is [K,N] ([N,K] when trans_b).
 * C may be NULL; else C[i*c_rs + j*c_cs] broadcasts to [M,N] (strides 0 on broadcast dims). */
typedef struct {
	int64_t m, n, k;
	int trans_a, trans_b;
	float alpha, beta;
	int64_t c_rs, c_cs;
} RtGemm;
void rt_gemm_ref(const RtGemm *p, const float *a, const float *b, const float *c, float *y);
void rt_gemm_fast(const RtGemm *p, const float *a, const float *b, const float *c, float *y);

/* MatMul with numpy semantics (1-D operands promoted and the added dim removed; batch
 * dims broadcast). Shapes are the operands' and the result's as ONNX defines them. */
void rt_matmul_ref(const Shape *sa, const float *a, const Shape *sb, const float *b,
                   const Shape *sy, float *y);
void rt_matmul_fast(const Shape *sa, const float *a, const Shape *sb, const float *b,
                    const Shape *sy, float *y);

/* Elementwise binary ops with multidirectional (numpy) broadcasting.
 * dtype: DT_FLOAT, DT_DOUBLE, DT_INT32 or DT_INT64 (RT_PRELU: float only).
 * Integer division truncates toward zero; division by zero in integers returns -1. */
typedef enum { RT_ADD, RT_SUB, RT_MUL, RT_DIV, RT_PRELU } RtBinary;
int rt_binary_ref(RtBinary op, DType t, const Shape *sa, const void *a, const Shape *sb,
                  const void *b, const Shape *sy, void *y);

/* Elementwise unary float ops with two parameters alpha, beta, one row per op of ops.def:
 * X(ENUM (the OP_ and RT_ suffix), alpha's attribute, its default, beta's, its default).
 * A NULL attribute: the parameter is the default (unused). Clip's bounds are its operands
 * 1 and 2 (min, max), the defaults when absent. The interpreter, the trainer and the
 * backend take an op's parameters from this table (rt_unary_params). */
#define RT_UNARY_OPS(X)                                                                     \
	X(RELU, NULL, 0.0f, NULL, 0.0f)                                                     \
	X(LEAKYRELU, "alpha", 0.01f, NULL, 0.0f)                                            \
	X(SIGMOID, NULL, 0.0f, NULL, 0.0f)                                                  \
	X(TANH, NULL, 0.0f, NULL, 0.0f)                                                     \
	X(HARDSIGMOID, "alpha", 0.2f, "beta", 0.5f)                                         \
	X(CLIP, NULL, -INFINITY, NULL, INFINITY)
typedef enum {
#define X(e, an, ad, bn, bd) RT_##e,
	RT_UNARY_OPS(X)
#undef X
} RtUnary; /* no count member: switches over it stay checked by -Wswitch */
enum {
#define X(e, an, ad, bn, bd) +1
	RT_UNARY_COUNT = 0 RT_UNARY_OPS(X)
#undef X
};
void rt_unary_ref(RtUnary op, float alpha, float beta, const float *x, float *y, int64_t n);

/* Activation quantization, the canonical semantics shared by the trainer (LSQ forward),
 * the interpreter and the backend, bit for bit:
 *   u = rint(clamp(x * (1.0f / s), -qn, qp))  (round half to even; NaN -> -qn),
 *   y = s * u. */
void rt_act_quant_ref(const float *x, float *y, int64_t n, int qn, int qp, float s);
/* The integers u alone (as floats). */
void rt_act_codes_ref(const float *x, float *u, int64_t n, int qn, int qp, float s);

/* Softmax / LogSoftmax over the middle dim of [outer, len, inner]. */
void rt_softmax_ref(const float *x, float *y, int64_t outer, int64_t len, int64_t inner,
                    int log);

/* Pooling, 1 to 3 spatial dims. x [n, c, in...], y [n, c, out...]. Padding never wins a max;
 * average divides by the count of taps inside the unpadded input unless count_include_pad
 * (then by the full kernel size, clipped to the padded extent as ONNX's ceil_mode allows).
 * indices (MaxPool 2nd output) may be NULL; storage_order 0 = row major, 1 = column major,
 * flattened over [n, c, in...] as ONNX defines. */
typedef struct {
	int nsp;
	int64_t n, c;
	int64_t in[RT_MAX_SPATIAL], out[RT_MAX_SPATIAL], k[RT_MAX_SPATIAL];
	int64_t stride[RT_MAX_SPATIAL], dil[RT_MAX_SPATIAL], pad_begin[RT_MAX_SPATIAL];
	int64_t pad_end[RT_MAX_SPATIAL];
	int count_include_pad;
	int storage_order;
} RtPool;
void rt_maxpool_ref(const RtPool *p, const float *x, float *y, int64_t *indices);
void rt_avgpool_ref(const RtPool *p, const float *x, float *y);
/* Global pools: x [n, c, spatial] -> y [n, c]. */
void rt_global_pool_ref(int is_max, int64_t n, int64_t c, int64_t spatial, const float *x,
                        float *y);

/* BatchNormalization (inference): x [n, c, spatial]. */
void rt_batchnorm_ref(int64_t n, int64_t c, int64_t spatial, const float *x,
                      const float *scale, const float *bias, const float *mean,
                      const float *var, float eps, float *y);

/* Data movement on any element size. */
void rt_transpose_ref(size_t esize, const Shape *sx, const int64_t *perm, const void *x,
                      void *y);
/* Concatenates n inputs along axis (already non-negative); shapes agree off the axis. */
void rt_concat_ref(size_t esize, int n, const Shape *const *sx, const void *const *x,
                   int axis, void *y);
/* Pad: pads has 2*rank entries [begin..., end...], negative values crop.
 * mode 0 constant (value points to one element), 1 reflect, 2 edge. */
typedef enum { RT_PAD_CONSTANT, RT_PAD_REFLECT, RT_PAD_EDGE } RtPadMode;
void rt_pad_ref(size_t esize, RtPadMode mode, const Shape *sx, const void *x,
                const int64_t *pads, const void *value, const Shape *sy, void *y);
/* Gather along axis (non-negative); indices may be negative (count from the end).
 * Returns -1 when an index is out of range. */
int rt_gather_ref(size_t esize, const Shape *sx, const void *x, int axis, const Shape *si,
                  const int64_t *idx, void *y);

/* ---- params.c ------------------------------------------------------------------------
 * Kernel parameters of a shape-inferred node (explicit attributes, known shapes), shared by
 * the interpreter and the trainer. */
void rt_conv_params(const Graph *g, const Node *n, RtConv *p);
/* C operand (input 2) broadcast strides included; c_rs = c_cs = 0 without C. */
void rt_gemm_params(const Graph *g, const Node *n, RtGemm *p);
void rt_pool_params(const Graph *g, const Node *n, RtPool *p);
/* Softmax/LogSoftmax view [outer, len, inner] of the input, honoring axis and coerce2d. */
void rt_softmax_dims(const Graph *g, const Node *n, int64_t *outer, int64_t *len,
                     int64_t *inner);
/* The RT_UNARY_OPS function of node n and its alpha, beta (attributes or their defaults;
 * Clip: *lo and *hi, the values of operands 1 and 2, or the defaults where NULL). Returns
 * the RtUnary, or -1 when n's op is not in the table. */
int rt_unary_params(const Node *n, const float *lo, const float *hi, float *alpha, float *beta);

/* ---- interp.c ------------------------------------------------------------------------
 * The interpreter runs a shape-inferred graph. rt_exec_node is also what constant folding
 * uses to evaluate a node whose inputs are all constant. */
typedef struct {
	int use_fast;   /* 1: BLAS fast paths for Conv/Gemm/MatMul (default); 0: reference */
} RtOptions;

/* ins[i] points to operand i's data (NULL for absent ones); outs[i] to preallocated
 * buffers of the result sizes from shape inference. */
int rt_exec_node(const Graph *g, const Node *n, const void *const *ins, void *const *outs,
                 const RtOptions *o, Diag *d);
/* Runs the graph: inputs[i] feeds g->inputs[i]; outputs[i] receives a malloc'd buffer for
 * g->outputs[i] (caller frees). Returns 0 or -1 with a diagnostic. */
int rt_run(const Graph *g, const void *const *inputs, void **outputs, const RtOptions *o,
           Diag *d);

/* ---- loader.c ------------------------------------------------------------------------
 * A shared object built by the backend, opened to evaluate it (sqc eval/run model.so).
 * Its API prefix is `name`, or the file's stem (the backend's default) when name is NULL. */
typedef struct {
	void *handle;
	char name[128];
	size_t (*workspace_size)(void);
	size_t (*input_size)(void);
	size_t (*output_size)(void);
	int (*run)(const float *input, float *output, void *workspace);
	int (*run_batch)(size_t n, const float *input, float *output, void *workspace);
	/* NULL in a .so from an sqc without threads */
	size_t (*workspace_size_parallel)(size_t threads);
	int (*run_parallel)(const float *input, float *output, void *workspace, const void *par);
} RtModel;
int rt_model_open(RtModel *m, const char *path, const char *name, Diag *d);
void rt_model_close(RtModel *m);
/* A workspace (64-byte aligned; free()) for rt_model_run with `threads` threads; NULL
 * when out of memory. */
void *rt_model_workspace(const RtModel *m, int threads);
/* n samples: NAME_run_parallel per sample on the fast kernels' pool (threads.h) with
 * `threads` tasks at most when threads > 1 and the model has it, else NAME_run_batch.
 * The results do not depend on threads. Returns the model's result (0 = ok). */
int rt_model_run(const RtModel *m, size_t n, const float *x, float *y, void *ws, int threads);
/* The default API prefix for an output file: its stem, with every character that is not
 * a letter, digit or '_' made '_' (and '_' before a leading digit). */
void rt_model_name_from_path(const char *path, char *name, size_t n);

#endif
