/* passes/passes.h: the pass pipeline and every pass's entry point.
 *
 * Every pass is `int pass_NAME(Graph *g, const PassEnv *env, Diag *d)` (convention 6): 0 on
 * success, -1 with a diagnostic on a user error. Options travel in the typed PassEnv, never
 * inside the Graph; env may be NULL (no native target chosen: x86-64; no fine-tuning). Its comment in its file says what it requires and what it
 * establishes. The default pipeline is one table (pipeline.c); the driver's
 * --print-after=NAME / --stop-after=NAME / --print-after-all refer to its names.
 *
 * IR conventions established by the frontend (opset-independent, latest ONNX semantics):
 *   - Constant nodes become constant values (Value.data); no OP_CONSTANT node remains.
 *   - Clip min/max, Reshape shape, Pad pads/value, Squeeze/Unsqueeze axes are operands
 *     (inputs 1.., -1 when absent), never attributes.
 *   - Softmax/LogSoftmax always carry `axis`; `coerce2d`=1 marks opset < 13 semantics
 *     (the input is flattened to 2-D at axis).
 */
#ifndef SQC_PASSES_H
#define SQC_PASSES_H

#include "../ir/ir.h"

/* What the passes know about a native target (passes/target.c): its name and pack's kernel
 * cost rule. The backend's own record (LLVM target, kernel bitcode) is backend/target.h. */
typedef struct {
	const char *triple;  /* as given to --target */
	const char *level;   /* the backend's kernel level (cg_level): the kernels differ */
	/* The kernel for a quantized layer with wbits-bit weights and abits-bit activations
	 * (1..8), k weights per output channel of which cg input channels (k = cg * kh * kw;
	 * Gemm: cg = k) and np output positions (SQK_BITSERIAL or SQK_INT8; both give the
	 * same exact integer sums). */
	SqcKernel (*qkernel)(int wbits, int abits, int64_t k, int64_t cg, int64_t np);
} PassTarget;

/* The target named by triple at kernel level level, or NULL when the passes know no such
 * target; NULL triple: x86_64-linux-gnu (the default target); NULL level: its default. */
const PassTarget *pass_target_find(const char *triple, const char *level);

/* Options of the sq pass (passes/sq/sq.h). */
typedef struct SqPassContext SqPassContext;

/* Everything a pass may need beyond the graph, set by the driver; passes only read it. */
typedef struct {
	const PassTarget *target;  /* native target (pack's kernel choice); NULL: x86_64 */
	const SqPassContext *sq;   /* pass_sq: fine-tune, transfer, or (NULL) nothing */
	int verbose;               /* -v */
} PassEnv;

typedef int (*PassFn)(Graph *g, const PassEnv *env, Diag *d);
typedef struct {
	const char *name;  /* for --print-after=NAME */
	PassFn fn;
	const char *what;  /* one line for --help */
	int native;        /* 1: runs only when compiling to native code (PipelineOptions.native) */
} PassInfo;

extern const PassInfo pass_pipeline[];
extern const int pass_pipeline_len;

/* Pipeline options set by the driver. */
typedef struct {
	const char *print_after;   /* pass name or NULL */
	int print_after_all;
	const char *stop_after;    /* pass name or NULL */
	FILE *dump;                /* where IR dumps go (stderr) */
	int verify;                /* run ir_verify after every pass */
	int native;                /* compiling to native code: run the backend's passes too */
} PipelineOptions;

/* Runs the pipeline; every pass gets env (may be NULL). Returns 0, or -1 on error. Unknown
 * pass names are reported. */
int pass_run_pipeline(Graph *g, const PassEnv *env, const PipelineOptions *o, Diag *d);
int pass_find(const char *name);

/* shape.c: infers dtype and shape of every value, canonicalizes attributes.
 * Requires: a toposorted graph whose inputs have known shapes.
 * Establishes: every value has dtype and shape, except those that depend on the contents
 * of a non-constant shape operand (Reshape/Pad/Squeeze/Unsqueeze/Clip operands computed at
 * run time), which stay rank -1 until folding resolves them. Conv/pool nodes carry explicit
 * kernel_shape, strides, dilations, pads (2*nsp: begins then ends) and no auto_pad;
 * axis attributes are non-negative; Transpose carries perm. */
int pass_shape(Graph *g, const PassEnv *env, Diag *d);
/* Infers one node. Returns 0 (done), 1 (needs a constant operand not yet known), -1 error. */
int shape_node(Graph *g, int node, Diag *d);

/* fold.c: constant folding (evaluates nodes whose operands are all constant, and Shape of
 * a value of known shape), re-inferring shapes as constants appear. Establishes: every
 * value has a known shape; no foldable node remains. */
int pass_fold(Graph *g, const PassEnv *env, Diag *d);
/* simplify.c: removes Identity and inference-mode Dropout. */
int pass_simplify(Graph *g, const PassEnv *env, Diag *d);
/* dce.c: removes nodes whose results nobody reads; drops unused values. */
int pass_dce(Graph *g, const PassEnv *env, Diag *d);

/* pack.c: kernel choice (sqc.kernel), weight checks and packing for the native backend;
 * see the file's comment. Establishes: a quantized layer carries its packed rows and
 * scales as constant operands in[IR_IN_PACKED], in[IR_IN_SCALES] after its ONNX ones
 * (ir.h, "Packed operands"), which is all the backend reads of its weights; the node keeps
 * its ONNX operands and meaning. pack_weights gives a quantized layer's packed rows
 * (layout of runtime/kernels/kernels.h: C rows of 1 or 2 planes of pack_kwords(per)
 * words) and its per-channel scales (without Gemm's alpha), both malloc'd. */
int pass_pack(Graph *g, const PassEnv *env, Diag *d);
int pack_is_layer(const Graph *g, const Node *n);
int64_t pack_kwords(int64_t per);
int pack_weights(const Graph *g, const Node *n, uint64_t **rows, float **scales,
                 int64_t *channels, int64_t *per, Diag *d);
/* memplan.c: workspace offsets (sqc.ws_offset) by liveness; memplan_size: planned bytes. */
int pass_memplan(Graph *g, const PassEnv *env, Diag *d);
int64_t memplan_size(const Graph *g);
/* sq/sq.c: quantization-aware fine-tuning (SQ or a baseline) when env->sq asks for it
 * (a SqPassContext, passes/sq/sq.h); otherwise nothing. Requires: canonical graph, BatchNorm
 * not folded. Establishes: quantized layers carry their decisions (sqc.* attributes) and
 * quantized weights. */
int pass_sq(Graph *g, const PassEnv *env, Diag *d);
/* bnfold.c: folds BatchNormalization into a preceding Conv or Gemm with constant weights
 * when the Conv/Gemm result has no other reader. */
int pass_bnfold(Graph *g, const PassEnv *env, Diag *d);

#endif
