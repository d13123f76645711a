/* examples/classify.c: an app that links a model compiled by sqc and classifies images.
 *
 * Build (the model's API prefix is its file stem, here lenet5):
 *   sqc models/lenet5.onnx --config models/lenet5.yaml -c -o lenet5.o --emit-header lenet5.h
 *   cc -O2 -std=c11 -pthread -DMODEL=lenet5 -include lenet5.h examples/classify.c \
 *      examples/sqc_pool.c lenet5.o -o classify
 * Usage:
 *   classify IMAGE.pgm [--mean M] [--std S]   one 8-bit binary PGM of the model's input size;
 *                                             pixels are scaled to [0,1], then (x-M)/S
 *                                             (defaults: Fashion-MNIST, 0.2860 and 0.3530)
 *   classify IN.npy [-o SCORES.npy]           float32 samples, already normalized; prints
 *                                             each sample's class, writes all scores
 *   --threads N                               run each sample on N threads (the pool of
 *                                             sqc_pool.c and NAME_run_parallel; default 1)
 * The model needs no allocation of its own: the app gives it one workspace. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqc_pool.h"

#ifndef MODEL
#error "compile with -DMODEL=<name> -include <name>.h"
#endif
#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define API(f) CAT(MODEL, f)

static const char *const fashion[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

static void *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, len = 0, got;
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	*n = len;
	return buf;
}

/* Binary PGM (P5, maxval <= 255) -> w*h floats, normalized. */
static float *read_pgm(const char *path, size_t want, float mean, float std)
{
	size_t n;
	unsigned char *b = read_file(path, &n);
	if (!b)
		return NULL;
	int w, h, maxv, off = 0;
	if (sscanf((char *)b, "P5 %d %d %d%n", &w, &h, &maxv, &off) != 3 || maxv < 1 || maxv > 255 ||
	    (size_t)w * (size_t)h != want || (size_t)off + 1 + want > n) {
		fprintf(stderr, "classify: %s: expected a binary PGM with %zu pixels\n", path, want);
		free(b);
		return NULL;
	}
	float *x = malloc(sizeof(float) * want);
	for (size_t i = 0; x && i < want; i++)
		x[i] = ((float)b[off + 1 + i] / (float)maxv - mean) / std;
	free(b);
	return x;
}

/* .npy float32, C order: returns the data and the number of floats. */
static float *read_npy(const char *path, size_t *count)
{
	size_t n;
	unsigned char *b = read_file(path, &n);
	if (!b || n < 10 || memcmp(b, "\x93NUMPY", 6)) {
		free(b);
		return NULL;
	}
	size_t hl = b[6] == 1 ? (size_t)(b[8] | b[9] << 8) : (size_t)(b[8] | b[9] << 8 | b[10] << 16);
	size_t start = b[6] == 1 ? 10 + hl : 12 + hl;
	char *hdr = malloc(hl + 1);
	memcpy(hdr, b + (b[6] == 1 ? 10 : 12), hl);
	hdr[hl] = 0;
	int ok = start <= n && strstr(hdr, "'<f4'") && strstr(hdr, "'fortran_order': False");
	free(hdr);
	if (!ok) {
		free(b);
		return NULL;
	}
	*count = (n - start) / sizeof(float);
	float *x = malloc(sizeof(float) * (*count ? *count : 1));
	memcpy(x, b + start, sizeof(float) * *count);
	free(b);
	return x;
}

static int write_npy(const char *path, const float *y, size_t rows, size_t cols)
{
	char hdr[128];
	int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
	                   rows, cols);
	int total = 10 + len + 1, pad = (64 - total % 64) % 64;
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	unsigned short hl = (unsigned short)(len + pad + 1);
	fwrite("\x93NUMPY\x01\x00", 1, 8, f);
	fputc(hl & 0xff, f);
	fputc(hl >> 8, f);
	fwrite(hdr, 1, (size_t)len, f);
	for (int i = 0; i < pad; i++)
		fputc(' ', f);
	fputc('\n', f);
	fwrite(y, sizeof(float), rows * cols, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL;
	float mean = 0.2860f, std = 0.3530f;
	long threads = 1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--mean") && i + 1 < argc)
			mean = strtof(argv[++i], NULL);
		else if (!strcmp(argv[i], "--std") && i + 1 < argc)
			std = strtof(argv[++i], NULL);
		else
			in = argv[i];
	}
	if (!in || threads < 1 || threads > 1024) {
		fprintf(stderr, "usage: classify IMAGE.pgm [--mean M --std S] | IN.npy [-o SCORES.npy] "
		        "[--threads N]\n");
		return 2;
	}
	size_t isz = API(input_size)(), osz = API(output_size)(), nf = 0;
	size_t len = strlen(in);
	int npy = len > 4 && !strcmp(in + len - 4, ".npy");
	float *x = npy ? read_npy(in, &nf) : read_pgm(in, isz, mean, std);
	if (!npy)
		nf = isz;
	if (!x || nf == 0 || nf % isz) {
		fprintf(stderr, "classify: %s: cannot read %zu-float samples\n", in, isz);
		return 1;
	}
	size_t ns = nf / isz;
	float *y = malloc(sizeof(float) * ns * osz);
	/* the workspace: 64-byte aligned, size rounded up to a multiple of the alignment; with
	 * threads, room for each thread's scratch */
	SqcPool *pool = threads > 1 ? sqc_pool_create((size_t)threads) : NULL;
	SqcParallel par = pool ? sqc_pool_parallel(pool) : (SqcParallel){0};
	size_t wsz = pool ? API(workspace_size_parallel)(par.threads) : API(workspace_size)();
	void *ws = aligned_alloc(64, (wsz + 63) / 64 * 64);
	int rc = !y || !ws || (threads > 1 && !pool);
	if (!rc && pool) /* one sample at a time, each on all threads */
		for (size_t s = 0; s < ns && !rc; s++)
			rc = API(run_parallel)(x + s * isz, y + s * osz, ws, &par);
	else if (!rc)
		rc = API(run_batch)(ns, x, y, ws);
	sqc_pool_destroy(pool);
	if (rc) {
		fprintf(stderr, "classify: the model failed\n");
		return 1;
	}
	for (size_t s = 0; s < ns && (!out || ns == 1); s++) {
		size_t best = 0;
		for (size_t c = 1; c < osz; c++)
			if (y[s * osz + c] > y[s * osz + best])
				best = c;
		printf("class %zu%s%s (score %.4f)\n", best, osz == 10 ? ": " : "",
		       osz == 10 ? fashion[best] : "", (double)y[s * osz + best]);
	}
	if (out && write_npy(out, y, ns, osz)) {
		fprintf(stderr, "classify: cannot write %s\n", out);
		return 1;
	}
	free(x);
	free(y);
	free(ws);
	return 0;
}
