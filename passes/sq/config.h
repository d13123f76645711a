/* passes/sq/config.h: SQ's settings, one struct (the `sq:` section of the YAML config, with
 * the driver's --quant/--act-bits/--seed applied). The config reader (frontend/config.c)
 * fills it; the trainer reads it. SQ-METHOD.md gives the meaning of the hyper-parameters. */
#ifndef SQC_SQ_CONFIG_H
#define SQC_SQ_CONFIG_H

#include "optim.h"
#include "quant.h"

#define SQ_MAX_KEEP 16      /* layers kept in float */
typedef enum { SQ_BN_BATCH, SQ_BN_FROZEN } SqBnMode;

typedef struct {
	SqMethod method;
	int act_bits;           /* 1..8, or 32 = float activations (default 8) */
	int epochs;             /* SQ phase (bits undecided) */
	int recovery_epochs;    /* after the decision, with the final bits */
	int batch;
	int64_t train_limit;    /* 0: the whole training split */
	SqOptKind optimizer;
	double lr, momentum, weight_decay;
	SqLrKind schedule;
	int lr_step_epochs;     /* step schedule: multiply by lr_gamma every N epochs */
	double lr_gamma;
	double lambda, gamma;   /* regularizer strength; binary prior (SQ-METHOD.md eq. 10);
	                         * < 0: the default of the balance (sq_config_lambda/_gamma) */
	int balance;            /* SQ_BALANCE_COUNT: lambda_l = lambda / n_l (the paper's);
	                         * SQ_BALANCE_GRADIENT (default): lambda_l follows the layer's
	                         * task gradient, the prior its size (quant.h) */
	int p;                  /* regularizer order, 1 or 2 */
	double threshold;       /* Delta = threshold * sigma */
	double zero_frac_max, tan_binary;   /* decision rule */
	int recovery_reg;       /* keep the (decided) regularizer during recovery: binary layers
	                         * keep their weights away from zero, so their signs settle */
	int decide_early;       /* 1: a layer whose tan(beta) reaches tan_binary is made binary
	                         * at once, and its binary regularizer then pulls the weights
	                         * left near zero out to +-a during the rest of the SQ phase;
	                         * 0: every layer is decided at the end of the SQ phase */
	double scale_lr;        /* learning-rate multiplier for scales a and beta */
	double reg_warmup;      /* fraction of the SQ phase in which the regularizer moves only
	                         * a and beta, not the weights (beta settles per layer first) */
	SqBnMode bn;
	int nkeep;              /* layers kept in float: "first", "last" or node names */
	char keep_float[SQ_MAX_KEEP][128];
	int seed;
	double distill_temperature; /* label-free mode */
} SqConfig;

/* The defaults (SQ with 8-bit activations, 3+4 epochs, Adam, cosine, gradient balance). */
void sq_config_defaults(SqConfig *c);
/* lambda and gamma in effect: the configured values, or the defaults of c->balance. */
double sq_config_lambda(const SqConfig *c);
double sq_config_gamma(const SqConfig *c);

#endif
