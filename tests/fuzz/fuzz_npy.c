/* tests/fuzz/fuzz_npy.c: the NPY reader (frontend/npy.c). */
#include "fuzz.h"

#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("t.npy", data, size);
	Diag d;
	fz_diag(&d, path);
	FeTensor t = {0};
	if (fe_npy_read(path, &t, &d) == 0)
		fe_tensor_free(&t);
	return 0;
}
