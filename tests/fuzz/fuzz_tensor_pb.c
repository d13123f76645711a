/* tests/fuzz/fuzz_tensor_pb.c: the ONNX TensorProto reader (.pb, frontend/onnx.c). */
#include "fuzz.h"

#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("t.pb", data, size);
	Diag d;
	fz_diag(&d, path);
	FeTensor t = {0};
	if (fe_tensor_pb_read(path, &t, &d) == 0)
		fe_tensor_free(&t);
	return 0;
}
