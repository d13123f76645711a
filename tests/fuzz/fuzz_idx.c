/* tests/fuzz/fuzz_idx.c: the data set readers: IDX (raw or gzip, all of it and the first
 * 3 entries) and CIFAR-10 binary batches (frontend/idx.c, frontend/dataset.c). */
#include "fuzz.h"

#include "frontend/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("d.bin", data, size);
	Diag d;
	fz_diag(&d, path);
	for (int64_t limit = 0; limit <= 3; limit += 3) {
		FeTensor t = {0};
		int64_t total = 0;
		if (fe_idx_read(path, limit, &t, &total, &d) == 0)
			fe_tensor_free(&t);
	}
	FeTensor im = {0}, lb = {0};
	if (fe_cifar10_read(path, 0, &im, &lb, &d) == 0) {
		fe_tensor_free(&im);
		fe_tensor_free(&lb);
	}
	return 0;
}
