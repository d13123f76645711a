/* passes/sq/sq.h: the sq pass and its report. */
#ifndef SQC_SQ_SQ_H
#define SQC_SQ_SQ_H

#include "train.h"

typedef enum {
	SQ_PASS_OFF,       /* float model: the pass does nothing */
	SQ_PASS_TRAIN,     /* fine-tune this graph (its batch is the training batch) */
	SQ_PASS_TRANSFER,  /* copy the results of a graph trained before (another batch size) */
} SqPassMode;

struct SqPassContext {
	SqPassMode mode;
	SqTrainOptions train;      /* SQ_PASS_TRAIN */
	const Graph *trained;      /* SQ_PASS_TRANSFER */
	SqReport *report;          /* filled by SQ_PASS_TRAIN */
};

/* Prints the per-layer table (name, op, weights, bits, beta, zero fraction, scales) and
 * the compression figures. */
void sq_report_print(const SqReport *r, FILE *f);
/* Compression ratio by the paper's formula, and the real packed bytes (weights, scales,
 * biases) of the quantized layers plus 4 bytes per weight of float layers. */
double sq_report_ratio(const SqReport *r);
int64_t sq_report_packed_bytes(const SqReport *r);
/* Writes the report as JSON (ARCHITECTURE.md schema); accuracies < 0 are written as null.
 * Atomic (temporary file, rename). */
int sq_report_write_json(const SqReport *r, double acc_float, double acc_quant,
                         const char *path, Diag *d);

#endif
