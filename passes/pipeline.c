/* passes/pipeline.c: the default pass pipeline, one table (convention 6). */
#include "passes.h"

#include <string.h>

const PassInfo pass_pipeline[] = {
	{"shape", pass_shape, "infer dtypes and shapes, make attributes explicit", 0},
	{"fold", pass_fold, "fold constants (Shape/Gather/Concat chains, weight transforms)", 0},
	{"simplify", pass_simplify, "remove Identity and inference-mode Dropout, crop Conv kernels to live taps", 0},
	{"sq", pass_sq, "quantization-aware fine-tuning (with --quant): 1 or 2 bits per layer", 0},
	{"bnfold", pass_bnfold, "fold BatchNormalization into a preceding Conv or Gemm", 0},
	{"dce", pass_dce, "remove nodes and values nobody reads", 0},
	{"pack", pass_pack, "native: choose each layer's kernel, check and pack 1/2-bit weights", 1},
	{"memplan", pass_memplan, "native: place intermediate tensors in one workspace", 1},
};
const int pass_pipeline_len = (int)countof(pass_pipeline);

int pass_find(const char *name)
{
	for (int i = 0; i < pass_pipeline_len; i++)
		if (!strcmp(pass_pipeline[i].name, name))
			return i;
	return -1;
}

static int check_name(const char *flag, const char *name, int native, Diag *d)
{
	int at = name ? pass_find(name) : -1;
	if (at >= 0 && pass_pipeline[at].native && !native)
		return diag_error(d, NULL, "%s: pass '%s' runs only when compiling to native code",
		                  flag, name);
	if (!name || at >= 0)
		return 0;
	char list[256];
	size_t k = 0;
	for (int i = 0; i < pass_pipeline_len; i++)
		k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "",
		                      pass_pipeline[i].name);
	return diag_error(d, NULL, "%s: unknown pass '%s' (passes: %s)", flag, name, list);
}

int pass_run_pipeline(Graph *g, const PassEnv *env, const PipelineOptions *o, Diag *d)
{
	if (check_name("--print-after", o->print_after, o->native, d) ||
	    check_name("--stop-after", o->stop_after, o->native, d))
		return -1;
	for (int i = 0; i < pass_pipeline_len; i++) {
		const PassInfo *p = &pass_pipeline[i];
		if (p->native && !o->native)
			continue;
		if (p->fn(g, env, d))
			return -1;
		if (o->verify && ir_verify(g, d)) {
			diag_note(d, "internal error: the IR is invalid after pass '%s'", p->name);
			ir_print(stderr, g, 0);
			return -1;
		}
		if (o->print_after_all || (o->print_after && !strcmp(o->print_after, p->name))) {
			FILE *f = o->dump ? o->dump : stderr;
			fprintf(f, "# IR after pass '%s'\n", p->name);
			ir_print(f, g, 0);
		}
		if (o->stop_after && !strcmp(o->stop_after, p->name))
			break;
	}
	return 0;
}
