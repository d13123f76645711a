/* bench/so_speed.c: microseconds per image of a compiled model's NAME_run, one thread,
 * batch 1, on n images of random normal-ish input (the speed does not depend on values).
 *   cc -O2 -o so_speed bench/so_speed.c -ldl
 *   ./so_speed MODEL.so NAME N      prints "us_per_image X" */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: so_speed MODEL.so NAME N\n");
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "so_speed: %s\n", dlerror());
		return 1;
	}
	char s[256];
	snprintf(s, sizeof s, "%s_workspace_size", argv[2]);
	size_t (*wsz)(void) = (size_t (*)(void))dlsym(h, s);
	snprintf(s, sizeof s, "%s_input_size", argv[2]);
	size_t (*isz)(void) = (size_t (*)(void))dlsym(h, s);
	snprintf(s, sizeof s, "%s_output_size", argv[2]);
	size_t (*osz)(void) = (size_t (*)(void))dlsym(h, s);
	snprintf(s, sizeof s, "%s_run", argv[2]);
	int (*run)(const float *, float *, void *) = (int (*)(const float *, float *, void *))dlsym(h, s);
	if (!wsz || !isz || !osz || !run) {
		fprintf(stderr, "so_speed: %s lacks the %s_ API\n", argv[1], argv[2]);
		return 1;
	}
	int n = atoi(argv[3]);
	size_t ni = isz(), no = osz();
	float *x = malloc(sizeof(float) * ni * 16), *y = malloc(sizeof(float) * no);
	void *ws = aligned_alloc(64, (wsz() + 63) / 64 * 64);
	srand(1);
	for (size_t i = 0; i < ni * 16; i++)
		x[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
	struct timespec t0, t1;
	run(x, y, ws); /* warm */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++)
		if (run(x + (size_t)(i % 16) * ni, y, ws))
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
	            1e3 / n;
	printf("us_per_image %.2f\n", us);
	return 0;
}
