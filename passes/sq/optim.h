/* passes/sq/optim.h: optimizers and learning-rate schedules for fine-tuning.
 * A parameter is a float array with its gradient; the optimizer owns its moment buffers. */
#ifndef SQC_SQ_OPTIM_H
#define SQC_SQ_OPTIM_H

#include <stdint.h>

typedef enum { SQ_OPT_ADAM, SQ_OPT_SGD } SqOptKind;
typedef enum { SQ_LR_COSINE, SQ_LR_STEP, SQ_LR_CONSTANT } SqLrKind;

typedef struct {
	float *x, *g;       /* data and gradient (not owned) */
	int64_t n;
	float lr_mult;      /* per-parameter learning-rate multiplier (1 = base) */
	float decay;        /* L2 weight decay (0 for biases, BatchNorm and quantizer scalars) */
	float *m, *v;       /* moments: Adam m, v; SGD momentum buffer in m (owned) */
} SqParam;

typedef struct {
	SqOptKind kind;
	float momentum;     /* SGD */
	float beta1, beta2, eps; /* Adam */
	int64_t t;          /* steps taken */
	SqParam *p;
	int np, cap;
} SqOptim;

void sq_optim_init(SqOptim *o, SqOptKind kind, float momentum);
/* Registers a parameter; x and g must outlive the optimizer. */
void sq_optim_add(SqOptim *o, float *x, float *g, int64_t n, float lr_mult, float decay);
/* One update of every parameter with learning rate lr. */
void sq_optim_step(SqOptim *o, float lr);
void sq_optim_free(SqOptim *o);

/* Learning rate at step t of total (0-based): cosine from lr to 0, step decay by gamma every
 * step_every steps, or constant. */
double sq_lr_at(SqLrKind k, double lr, int64_t t, int64_t total, int64_t step_every,
                double gamma);

#endif
