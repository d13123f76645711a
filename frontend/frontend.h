/* frontend/frontend.h: everything that reads the outside world (ONNX models, tensors in
 * .npy/.pb files; later data sets and the YAML config). Prefix fe_. */
#ifndef SQC_FRONTEND_H
#define SQC_FRONTEND_H

#include "../ir/ir.h"

/* A shape pinned by --input-shape NAME=1x1x28x28. */
typedef struct {
	const char *name;
	Shape shape;
} FeInputShape;

typedef struct {
	const FeInputShape *pins;
	int npins;
	int64_t batch;   /* value for a symbolic leading (batch) dim; 0 means 1 */
} FeOptions;

/* Imports an ONNX model file. External data files are read from the model's folder only.
 * Returns NULL with a diagnostic on any problem. */
Graph *fe_onnx_load(const char *path, const FeOptions *o, Diag *d);
/* Parses "NAME=1x1x28x28" into pin (name points into the argument). Returns 0 or -1. */
int fe_parse_input_shape(char *arg, FeInputShape *pin);

/* A dense tensor read from or written to a file; data is malloc'd. */
typedef struct {
	DType dtype;
	Shape shape;
	void *data;
} FeTensor;
void fe_tensor_free(FeTensor *t);
/* Reads .npy (NumPy format 1.0-3.0, little endian, C order) or .pb (ONNX TensorProto),
 * chosen by the file's extension. */
int fe_tensor_read(const char *path, FeTensor *t, Diag *d);
int fe_npy_read(const char *path, FeTensor *t, Diag *d);
int fe_tensor_pb_read(const char *path, FeTensor *t, Diag *d);
/* Writes .npy atomically (temporary file in the same folder, then rename). */
int fe_npy_write(const char *path, const FeTensor *t, Diag *d);
/* Reads a whole file (malloc'd, NUL-terminated for convenience). Returns NULL on error. */
void *fe_read_file(const char *path, size_t *size, Diag *d);

/* ---- onnx_write.c: ONNX export (--save-onnx) ---------------------------------------- */

/* One metadata_props entry (strings are copied). */
typedef struct {
	const char *key, *value;
} FeMetaProp;

typedef struct {
	const char *producer_name;    /* NULL: "sqc" */
	const char *producer_version; /* NULL: this build's version */
	const FeMetaProp *meta;       /* written first, in this order; keys must be unique */
	int nmeta;
} FeSaveOptions;

/* Writes g (any pipeline stage) as an ONNX model (ir_version 8, default domain only),
 * atomically: a temporary file next to path, renamed on success, removed on failure.
 * Opset: g->opset when every node can be written there, else 13 (see onnx_write.c, also
 * for coerce2d Softmax and legacy broadcasting). Constants become raw_data initializers,
 * graph inputs/outputs get elem type and dims. Internal attributes (coerce2d, legacy_axis)
 * are not written; "sqc.*" node attributes go to metadata_props as
 * "sqc.node.<node name>.<attr name>" = the value in IR text syntax (3, 0.5f, "s", [1,2]).
 * o may be NULL. Returns 0, or -1 with a diagnostic (then no temporary file is left
 * behind and a file already at path is untouched). */
int fe_onnx_save(const Graph *g, const char *path, const FeSaveOptions *o, Diag *d);

#endif
