/* tests/fuzz/fuzz_config.c: the YAML config reader (frontend/config.c). */
#include "fuzz.h"

#include "frontend/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_write("c.yaml", data, size);
	Diag d;
	fz_diag(&d, path);
	FeConfig c;
	fe_config_defaults(&c);
	fe_config_load(path, &c, &d);
	return 0;
}
