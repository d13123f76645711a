/* tests/fuzz/fuzz_onnx.c: the ONNX importer and the whole pass pipeline (native passes
 * included, no fine-tuning: env NULL). A model that imports and compiles must verify. */
#include "fuzz.h"

#include "frontend/frontend.h"
#include "passes/passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("model.onnx", data, size);
	Diag d;
	fz_diag(&d, path);
	FeOptions fo = {NULL, 0, 0};
	Graph *g = fe_onnx_load(path, &fo, &d);
	if (!g)
		return 0;
	PipelineOptions po = {0};
	po.native = 1;
	if (pass_run_pipeline(g, NULL, &po, &d) == 0 && ir_verify(g, &d)) {
		fprintf(stderr, "fuzz_onnx: the pipeline succeeded but the IR is invalid: %s\n", d.last);
		abort();
	}
	ir_graph_free(g);
	return 0;
}
