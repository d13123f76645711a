/* passes/sq/optim.c: Adam (Kingma & Ba, with bias correction; L2 decay added to the
 * gradient as PyTorch's Adam does) and SGD with momentum (PyTorch's convention:
 * buf = momentum * buf + g; x -= lr * buf). */
#include "optim.h"

#include "../../ir/ir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sq_optim_init(SqOptim *o, SqOptKind kind, float momentum)
{
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->momentum = momentum;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
}

void sq_optim_add(SqOptim *o, float *x, float *g, int64_t n, float lr_mult, float decay)
{
	if (o->np == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 16;
		o->p = xrealloc(o->p, sizeof(SqParam) * (size_t)o->cap);
	}
	SqParam *p = &o->p[o->np++];
	p->x = x;
	p->g = g;
	p->n = n;
	p->lr_mult = lr_mult;
	p->decay = decay;
	p->m = xcalloc((size_t)(n ? n : 1), sizeof(float));
	p->v = o->kind == SQ_OPT_ADAM ? xcalloc((size_t)(n ? n : 1), sizeof(float)) : NULL;
}

void sq_optim_step(SqOptim *o, float lr)
{
	o->t++;
	double bc1 = 1.0 - pow(o->beta1, (double)o->t), bc2 = 1.0 - pow(o->beta2, (double)o->t);
	for (int k = 0; k < o->np; k++) {
		SqParam *p = &o->p[k];
		float a = lr * p->lr_mult;
		if (o->kind == SQ_OPT_ADAM) {
			float step = (float)(a / bc1), b1 = o->beta1, b2 = o->beta2;
			float sb2 = (float)sqrt(bc2);
			for (int64_t i = 0; i < p->n; i++) {
				float g = p->g[i] + p->decay * p->x[i];
				p->m[i] = b1 * p->m[i] + (1 - b1) * g;
				p->v[i] = b2 * p->v[i] + (1 - b2) * g * g;
				p->x[i] -= step * p->m[i] / (sqrtf(p->v[i]) / sb2 + o->eps);
			}
		} else {
			for (int64_t i = 0; i < p->n; i++) {
				float g = p->g[i] + p->decay * p->x[i];
				p->m[i] = o->momentum * p->m[i] + g;
				p->x[i] -= a * p->m[i];
			}
		}
	}
}

void sq_optim_free(SqOptim *o)
{
	for (int k = 0; k < o->np; k++) {
		free(o->p[k].m);
		free(o->p[k].v);
	}
	free(o->p);
	memset(o, 0, sizeof *o);
}

double sq_lr_at(SqLrKind k, double lr, int64_t t, int64_t total, int64_t step_every,
                double gamma)
{
	switch (k) {
	case SQ_LR_COSINE:
		return total > 0 ? 0.5 * lr * (1 + cos(M_PI * (double)t / (double)total)) : lr;
	case SQ_LR_STEP:
		return lr * pow(gamma, (double)(step_every > 0 ? t / step_every : 0));
	default:
		return lr;
	}
}
