/* passes/sq/sq.c: the sq pass (pipeline entry) and the per-layer report. */
#include "sq.h"

#include "quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pass_sq(Graph *g, const PassEnv *env, Diag *d)
{
	const SqPassContext *c = env ? env->sq : NULL;
	if (!c || c->mode == SQ_PASS_OFF)
		return 0;
	if (c->mode == SQ_PASS_TRANSFER) {
		sq_transfer(g, c->trained);
		return 0;
	}
	SqReport tmp, *r = c->report ? c->report : &tmp;
	int rc = sq_train(g, &c->train, r, d);
	if (r == &tmp)
		sq_report_free(&tmp);
	return rc;
}

double sq_report_ratio(const SqReport *r)
{
	if (!r->nlayers)
		return 1.0;
	int64_t *n = xmalloc(sizeof(int64_t) * (size_t)r->nlayers);
	int *b = xmalloc(sizeof(int) * (size_t)r->nlayers);
	for (int i = 0; i < r->nlayers; i++) {
		n[i] = r->layers[i].weights;
		b[i] = r->layers[i].bits;
	}
	double ratio = sq_compression_ratio(n, b, r->nlayers);
	free(n);
	free(b);
	return ratio;
}

int64_t sq_report_packed_bytes(const SqReport *r)
{
	int64_t total = 0;
	for (int i = 0; i < r->nlayers; i++) {
		const SqLayerReport *l = &r->layers[i];
		total += sq_packed_bytes(l->channels, l->weights / (l->channels ? l->channels : 1),
		                         l->bits, l->has_bias);
	}
	return total;
}

void sq_report_print(const SqReport *r, FILE *f)
{
	fprintf(f, "%-28s %-7s %9s %4s %7s %6s %21s %4s\n", "layer", "op", "weights", "bits",
	        "beta", "zeros", "scales (min..max)", "act");
	int64_t nw = 0;
	for (int i = 0; i < r->nlayers; i++) {
		const SqLayerReport *l = &r->layers[i];
		char beta[24] = "-", act[16] = "f32";
		if (l->beta > 0)
			snprintf(beta, sizeof beta, "%.4f", l->beta);
		if (l->act_bits < 32)
			snprintf(act, sizeof act, "%d", l->act_bits);
		fprintf(f, "%-28.28s %-7s %9lld %4d %7s %5.1f%% %10.4g..%-10.4g %4s\n", l->name,
		        ir_op_name(l->op), (long long)l->weights, l->bits, beta, 100.0 * l->zero_frac,
		        l->scale_min, l->scale_max, act);
		nw += l->weights;
	}
	fprintf(f, "compression: %.2fx (paper's formula over %lld weights); packed weights, "
	        "scales and biases: %lld bytes (float: %lld)\n", sq_report_ratio(r), (long long)nw,
	        (long long)sq_report_packed_bytes(r), (long long)(4 * nw));
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fprintf(f, "null");
}

int sq_report_write_json(const SqReport *r, double acc_float, double acc_quant,
                         const char *path, Diag *d)
{
	OutFile o;
	FILE *f = ir_out_open(&o, path, d);
	if (!f)
		return -1;
	fprintf(f, "{\n  \"layers\": [");
	for (int i = 0; i < r->nlayers; i++) {
		const SqLayerReport *l = &r->layers[i];
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, l->name);
		fprintf(f, ", \"op\": ");
		json_str(f, ir_op_name(l->op));
		fprintf(f, ", \"bits\": %d, \"weights\": %lld, \"channels\": %lld, \"kernel\": ", l->bits,
		        (long long)l->weights, (long long)l->channels);
		json_str(f, l->kernel ? l->kernel : "interpreter");
		fprintf(f, ", \"beta\": ");
		json_num(f, l->beta > 0 ? l->beta : NAN);
		fprintf(f, ", \"tan_beta\": ");
		json_num(f, l->beta > 0 ? tan(l->beta) : NAN);
		fprintf(f, ", \"zero_fraction\": ");
		json_num(f, l->zero_frac);
		fprintf(f, ", \"scale_min\": ");
		json_num(f, l->scale_min);
		fprintf(f, ", \"scale_max\": ");
		json_num(f, l->scale_max);
		fprintf(f, ", \"act_bits\": %d", l->act_bits);
		fprintf(f, ", \"act_step\": ");
		json_num(f, l->act_bits < 32 ? l->act_step : NAN);
		fprintf(f, "}");
	}
	fprintf(f, "\n  ],\n  \"compression_ratio\": ");
	json_num(f, sq_report_ratio(r));
	fprintf(f, ",\n  \"packed_weight_bytes\": %lld,\n", (long long)sq_report_packed_bytes(r));
	fprintf(f, "  \"accuracy\": {\"float\": ");
	json_num(f, acc_float >= 0 ? acc_float : NAN);
	fprintf(f, ", \"quantized\": ");
	json_num(f, acc_quant >= 0 ? acc_quant : NAN);
	fprintf(f, "},\n  \"training\": {\"steps\": %lld, \"images\": %lld, \"seconds\": ",
	        (long long)r->steps, (long long)r->images);
	json_num(f, r->seconds);
	fprintf(f, ", \"images_per_second\": ");
	json_num(f, r->seconds > 0 ? (double)r->images / r->seconds : NAN);
	fprintf(f, ", \"final_loss\": ");
	json_num(f, r->loss);
	fprintf(f, "}\n}\n");
	return ir_out_commit(&o, 0, d);
}
