/* ir/ir.h: the sqc intermediate representation.
 *
 * One header for the ir/ layer (convention 3): typedefs, structs, then one section per
 * file of ir/. Operands are integer ids into the graph's arrays, never pointers
 * (convention 4): a node's inputs and outputs are value ids; -1 marks an absent optional
 * input.
 *
 * Ownership: strings, attribute arrays and operand lists live in the graph's arena and are
 * freed at once with the graph; constant data (weights) is owned separately, one malloc'd
 * block per value, also freed by ir_graph_free.
 */
#ifndef SQC_IR_H
#define SQC_IR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define countof(a) (sizeof(a) / sizeof((a)[0]))

/* ---- op table (ops.def) ------------------------------------------------------------ */
enum {
	OPF_WEIGHTED = 1 << 0, /* Conv/Gemm/MatMul: candidates for quantization             */
	OPF_BINARY = 1 << 1,   /* elementwise with numpy broadcasting of two operands       */
	OPF_UNARY = 1 << 2,    /* elementwise on the first operand                          */
	OPF_MOVE = 1 << 3,     /* pure data movement: works on any dtype by element size     */
};

typedef enum {
#define X(e, id, onnx, mini, maxi, mino, maxo, fl) OP_##e,
#include "ops.def"
#undef X
	OP_COUNT
} Op;

typedef struct {
	const char *name; /* ONNX op_type, also the name printed in IR text */
	int min_in, max_in, min_out, max_out;
	unsigned flags;
} OpInfo;

extern const OpInfo ir_ops[OP_COUNT];
const char *ir_op_name(Op op);
/* ONNX op_type -> op, or -1. */
int ir_op_lookup(const char *onnx_name);

/* ---- types ------------------------------------------------------------------------- */
typedef enum {
	DT_UNDEF = 0,
	DT_FLOAT,  /* f32 */
	DT_DOUBLE, /* f64 (imported initializers are converted to f32 where they feed math) */
	DT_INT8,
	DT_UINT8,
	DT_INT32,
	DT_INT64,
	DT_BOOL,
	DT_COUNT
} DType;

size_t ir_dtype_size(DType t);
const char *ir_dtype_name(DType t); /* "f32", "i64", ... as printed in IR text */
DType ir_dtype_parse(const char *s);

#define IR_MAX_RANK 8
typedef struct {
	int rank;                  /* -1: not known yet (before shape inference) */
	int64_t d[IR_MAX_RANK];    /* all >= 0 once known */
} Shape;

/* Number of elements, or -1 on overflow / unknown. */
int64_t ir_shape_numel(const Shape *s);

/* Checked size arithmetic, for every allocation and size computation (frontend, shape
 * inference, memory planning, lowering). IR_MAX_ELEMS bounds any one tensor (64 GiB of
 * f32): sizes derived from it (bytes, a batch of them, a workspace) stay far from int64's
 * limit. ir_mul64/ir_add64 return 0 with *r set, or -1 on int64 overflow or a negative
 * operand (*r untouched). */
#define IR_MAX_ELEMS ((int64_t)1 << 34)
int ir_mul64(int64_t a, int64_t b, int64_t *r);
int ir_add64(int64_t a, int64_t b, int64_t *r);
int ir_shape_eq(const Shape *a, const Shape *b);
/* Formats "[1,3,28,28]" into buf; returns buf. */
char *ir_shape_str(const Shape *s, char *buf, size_t n);

/* ---- attributes -------------------------------------------------------------------- */
typedef enum { AT_INT, AT_FLOAT, AT_STRING, AT_INTS, AT_FLOATS } AttrKind;

typedef struct {
	const char *name;
	AttrKind kind;
	int64_t i;
	float f;
	const char *s;
	int n;          /* element count of ints/floats */
	int64_t *ints;
	float *floats;
} Attr;

/* ---- values and nodes -------------------------------------------------------------- */
typedef struct {
	const char *name;   /* unique in the graph; ONNX tensor name where imported */
	DType dtype;
	Shape shape;
	int producer;       /* node id, or -1 for graph inputs and constants */
	void *data;         /* constant contents (malloc'd, owned by the graph) or NULL */
	int is_input;       /* a graph input fed at run time */
	int is_output;      /* a graph output */
} Value;

typedef struct {
	Op op;
	const char *name;   /* ONNX node name, or a generated one; never NULL */
	int nin, nout, nattr;
	int *in;            /* value ids, -1 = absent optional operand */
	int *out;
	Attr *attrs;
	int dead;           /* removed; compacted by ir_graph_compact */
} Node;

/* Packed operands. For native code, pass pack gives each quantized Conv/Gemm/MatMul
 * (OPF_WEIGHTED) two constant operands after its ONNX ones, at fixed positions:
 *   in[IR_IN_PACKED]  i64 [C, planes * kwords]: the weights as bit planes, one row per
 *                     output channel (layout of runtime/kernels/kernels.h, RtkQConv; the
 *                     i64 elements are the 64-bit words' bit patterns),
 *   in[IR_IN_SCALES]  f32 [C]: the per-channel scales (Gemm: times alpha),
 * with the positions between the ONNX operands and these absent (MatMul: in[2] = -1), so
 * nin = IR_PACKED_NIN. They are derived data: the ONNX operands keep the node's meaning
 * (the interpreter and shape inference read only those), the backend reads the packed
 * ones. ops.def's arity is the ONNX arity, which the importer checks (so ONNX never
 * brings them); ir_verify accepts the two extra operands on OPF_WEIGHTED nodes only. */
enum { IR_IN_PACKED = 3, IR_IN_SCALES = 4, IR_PACKED_NIN = 5 };
/* Does n carry packed operands? */
int ir_is_packed(const Node *n);
/* The number of n's operands that are ONNX operands: nin, or IR_IN_PACKED when packed. */
int ir_onnx_nin(const Node *n);

typedef struct ArenaChunk ArenaChunk;
typedef struct {
	ArenaChunk *head;
} Arena;

typedef struct {
	Arena arena;
	const char *name;
	Value *values;
	int nvalues, capvalues;
	Node *nodes;        /* in a topological order once ir_graph_toposort has run */
	int nnodes, capnodes;
	int *inputs, ninputs;   /* runtime inputs (not constants) */
	int *outputs, noutputs;
	int64_t opset;
} Graph;

/* ---- decisions (decisions.def, decisions.c) --------------------------------------------
 * The sqc.* node attributes that carry sqc's decisions, with typed getters (the default of
 * decisions.def when absent) and setters; a getter or setter of the wrong kind asserts. */
#define SQC_ATTR_PREFIX "sqc."
typedef enum {
#define X(e, name, kind, def) SQCA_##e,
#include "decisions.def"
#undef X
	SQCA_COUNT
} SqcAttr;

const char *ir_dec_name(SqcAttr a);
/* Does an attribute name belong to sqc (the "sqc." prefix)? */
int ir_dec_is_name(const char *name);
int ir_dec_has(const Node *n, SqcAttr a);
int64_t ir_dec_i(const Node *n, SqcAttr a);
float ir_dec_f(const Node *n, SqcAttr a);
const char *ir_dec_s(const Node *n, SqcAttr a);          /* NULL when absent */
const float *ir_dec_floats(const Node *n, SqcAttr a, int *count); /* NULL, 0 when absent */
void ir_dec_set_i(Graph *g, int node, SqcAttr a, int64_t v);
void ir_dec_set_f(Graph *g, int node, SqcAttr a, float v);
void ir_dec_set_s(Graph *g, int node, SqcAttr a, const char *v);
void ir_dec_set_floats(Graph *g, int node, SqcAttr a, const float *v, int n);

/* The kernel pack chose for a layer (sqc.kernel, written by name in the IR):
 * X(ENUM, name). */
#define SQC_KERNELS(X)                                                                      	X(F32, "f32")               /* a layer kept in float                                */ 	X(SIGNSELECT, "signselect") /* 1/2-bit weights, float activations: +x / -x sums     */ 	X(BITSERIAL, "bitserial")   /* 1/2-bit weights, 1..8-bit activations: AND+popcount  */ 	X(INT8, "int8")             /* the same exact sums through byte dot products        */
typedef enum {
	SQK_NONE = 0, /* no kernel chosen (not a layer, or before pack) */
#define X(e, name) SQK_##e,
	SQC_KERNELS(X)
#undef X
	SQK_COUNT
} SqcKernel;
const char *ir_kernel_name(SqcKernel k);
SqcKernel ir_kernel_parse(const char *s);   /* SQK_NONE when unknown or NULL */
SqcKernel ir_kernel_of(const Node *n);      /* SQK_NONE when the node has none */
void ir_kernel_set(Graph *g, int node, SqcKernel k);

/* ---- diagnostics (diag.c) ------------------------------------------------------------
 * User errors (convention 7): "sqc: error: FILE: [node NAME: ]message". Library code
 * reports through a Diag and returns -1; it never exits.
 */
typedef struct {
	const char *file;   /* the input file the message is about */
	FILE *out;          /* stderr by default; tests point it at a buffer */
	int nerrors;
	char last[1024];    /* the last message, for tests */
} Diag;

void diag_init(Diag *d, const char *file);
/* Formats and prints an error; node may be NULL. Returns -1 for `return diag_error(...)`. */
int diag_error(Diag *d, const char *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int diag_verror(Diag *d, const char *node, const char *fmt, va_list ap);
void diag_note(Diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Checks that a tensor of n elements (n < 0: overflowed) is within IR_MAX_ELEMS (ops.c); else a
 * user error "WHAT: tensor too large (N elements; limit M)" (node may be NULL) and -1. */
int ir_check_elems(int64_t n, const char *what, Diag *d, const char *node);

/* ---- arena.c ------------------------------------------------------------------------- */
void *arena_alloc(Arena *a, size_t n);   /* zeroed, 16-byte aligned; aborts on OOM */
char *arena_strdup(Arena *a, const char *s);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(Arena *a);

/* Checked allocation for data blocks (aborts on OOM: an internal failure, not a user one). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);

/* ---- file.c: output files, written atomically ----------------------------------------
 * Every file sqc writes goes to a temporary file next to its destination, is flushed and
 * fsync'd, then renamed over it; on any failure the temporary file is removed and a file
 * already at the destination is untouched. Errors: "cannot write PATH: reason". */
typedef struct {
	FILE *f;            /* the temporary file, open for writing */
	char *tmp;          /* its name */
	const char *path;   /* the destination */
} OutFile;
/* Opens the temporary file for path; returns its stream, or NULL with a diagnostic. */
FILE *ir_out_open(OutFile *o, const char *path, Diag *d);
/* Checks the stream for write errors, syncs, sets mode (0: as created, 0666 minus the
 * umask), closes and renames. Returns 0, or -1 with a diagnostic (nothing left behind). */
int ir_out_commit(OutFile *o, unsigned mode, Diag *d);
/* Closes and removes the temporary file (an error elsewhere). */
void ir_out_discard(OutFile *o);
/* Writes n bytes as the whole file. */
int ir_write_file(const char *path, const void *data, size_t n, unsigned mode, Diag *d);

/* ---- graph.c ------------------------------------------------------------------------- */
Graph *ir_graph_new(const char *name);
void ir_graph_free(Graph *g);
/* Adds a value; name may be NULL (a fresh "%tN" name is made). Returns its id. */
int ir_value_add(Graph *g, const char *name, DType t, const Shape *s);
/* base, or base.N for the first N that no value is named yet (arena string). */
const char *ir_fresh_name(Graph *g, const char *base);
/* Value id by name, or -1. Linear scan: used by importers and the parser. */
int ir_value_find(const Graph *g, const char *name);
/* Adds a constant value that takes ownership of data (malloc'd, numel*size bytes). */
int ir_const_add(Graph *g, const char *name, DType t, const Shape *s, void *data);
/* Adds a node; copies the operand arrays into the arena and sets producers. */
int ir_node_add(Graph *g, Op op, const char *name, const int *in, int nin, const int *out,
                int nout);
/* Attribute setters/getters. Getters return the default when the attribute is absent. */
void ir_attr_set_i(Graph *g, int node, const char *name, int64_t v);
void ir_attr_set_f(Graph *g, int node, const char *name, float v);
void ir_attr_set_s(Graph *g, int node, const char *name, const char *v);
void ir_attr_set_ints(Graph *g, int node, const char *name, const int64_t *v, int n);
void ir_attr_set_floats(Graph *g, int node, const char *name, const float *v, int n);
const Attr *ir_attr_get(const Node *n, const char *name);
int64_t ir_attr_i(const Node *n, const char *name, int64_t def);
float ir_attr_f(const Node *n, const char *name, float def);
const char *ir_attr_s(const Node *n, const char *name, const char *def);
/* Copies up to max ints into out; returns the count, or -1 when absent. */
int ir_attr_ints(const Node *n, const char *name, int64_t *out, int max);
void ir_attr_remove(Node *n, const char *name);
/* Number of live nodes that read value v (graph outputs count as one use). */
int ir_value_uses(const Graph *g, int v);
/* Replaces every read of value `from` by `to` (node operands and graph outputs). */
void ir_replace_uses(Graph *g, int from, int to);
/* Removes dead nodes and values nobody references; renumbers ids. */
void ir_graph_compact(Graph *g);
/* Orders nodes topologically. Returns -1 with a diagnostic on a cycle. */
int ir_graph_toposort(Graph *g, Diag *d);
/* The shape operand b of a binary op (or PRelu's slope) broadcasts as: numpy rules, or for
 * opset < 7 models with attribute legacy_axis=k, aligned to a's dims from k on (the
 * frontend sets it). Returns b's shape as broadcasting should see it (the data is the same). */
Shape ir_rhs_shape(const Node *n, const Shape *a, const Shape *b);
/* Is value v read as a shape operand (Reshape shape, Pad pads, Squeeze/Unsqueeze axes,
 * Dropout training_mode)? Such graph inputs must be known at compile time. */
int ir_is_shape_operand(const Graph *g, int v);
/* Turns graph input number i into a constant that owns data (numel * dtype size bytes). */
void ir_bind_input(Graph *g, int i, void *data);
/* Byte size of a value's data (numel * dtype size), or 0 when unknown/overflow. */
size_t ir_value_nbytes(const Value *v);

/* ---- verify.c ---------------------------------------------------------------------- */
/* Checks structural invariants: ids in range, arity per ops.def, single producer per
 * value, topological order, outputs produced. Returns 0 or -1 (with a diagnostic). */
int ir_verify(const Graph *g, Diag *d);

/* ---- print.c / parse.c ---------------------------------------------------------------
 * Text form (the parser reads what the printer writes):
 *
 *   graph @name opset 13 {
 *     input %x: f32[1,1,28,28]
 *     const %w: f32[6,1,5,5] = dense<...>             (elided: more than IR_PRINT_MAX_ELEMS)
 *     const %s: i64[2] = [1,-1]
 *     %y: f32[1,6,24,24] = Conv(%x, %w, _) {pads=[0,0,0,0], strides=[1,1]} @"conv1"
 *     output %y
 *   }
 *
 * Elided constants parse back with deterministic pseudo-random contents so that IR tests
 * can run passes on them; `full` printing writes every element.
 */
#define IR_PRINT_MAX_ELEMS 16
void ir_print(FILE *f, const Graph *g, int full);
/* An attribute's value alone, in the text syntax (2, 0.5f, "s", [1,2], ints[]). */
void ir_print_attr_value(FILE *f, const Attr *a);
/* Parses IR text; returns NULL with a diagnostic (line number in the message). */
Graph *ir_parse(const char *text, Diag *d);

#endif
