/* passes/sq/config.c: SQ's settings and their defaults. */
#include "config.h"

#include <string.h>

void sq_config_defaults(SqConfig *s)
{
	memset(s, 0, sizeof *s);
	s->method = SQ_Q_SQ;
	s->act_bits = 8; /* the compiled kernels need integer activations; 32: the paper's float */
	s->epochs = 3;
	s->recovery_epochs = 4;
	s->batch = 64;
	s->optimizer = SQ_OPT_ADAM;
	s->lr = 1e-3;
	s->momentum = 0.9;
	s->schedule = SQ_LR_COSINE;
	s->lr_step_epochs = 1;
	s->lr_gamma = 0.1;
	s->lambda = -1; /* sq_config_lambda / sq_config_gamma: the balance's defaults */
	s->gamma = -1;
	s->balance = SQ_BALANCE_GRADIENT;
	s->p = 2;
	s->threshold = 0.4307;
	s->zero_frac_max = 0.01;
	s->tan_binary = 20;
	s->scale_lr = 10.0;
	s->reg_warmup = 0.0;
	s->decide_early = 1;
	s->recovery_reg = 0;
	s->bn = SQ_BN_BATCH;
	s->seed = 1;
	s->distill_temperature = 4;
}

/* Defaults found on Fashion-MNIST (docs/results.md, "What we tried"): gradient balance
 * lambda 0.3, gamma 0.04; count balance (the paper's lambda / n_l) lambda 100, gamma 1. */
double sq_config_lambda(const SqConfig *s)
{
	return s->lambda >= 0 ? s->lambda : s->balance == SQ_BALANCE_GRADIENT ? 0.3 : 100.0;
}

double sq_config_gamma(const SqConfig *s)
{
	return s->gamma >= 0 ? s->gamma : s->balance == SQ_BALANCE_GRADIENT ? 0.04 : 1.0;
}
