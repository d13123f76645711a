/* bench/kernels_speed.c: per-layer speed of the quantized kernels against the float
 * convolution on the same layer, in one process.
 *
 * Build by hand (not part of the CMake build; it is a benchmark, not a test):
 *   clang-19 -O2 -std=c11 -march=x86-64-v3 -I. bench/kernels_speed.c runtime/kernels/[a-z]*.c \
 *       -o /tmp/kernels_speed && /tmp/kernels_speed [ROUNDS]
 * AArch64 (qemu timings are meaningless; for a real Arm machine):
 *   clang-19 -O2 --target=aarch64-linux-gnu -march=armv8.2-a+dotprod ... -static
 *
 * Per layer, every variant (float rtk_conv_f32; rtk_qconv and rtk_qconv_int8 for several
 * weight/activation widths) runs in rounds A B C ... then reversed, ROUNDS times (default
 * 9); each timing is the best of a few repetitions of enough calls to take ~5 ms; the
 * medians over rounds are printed in us per call with the ratio float / variant (> 1: the
 * variant is faster).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/kernels/kernels.h"

typedef struct {
	const char *name;
	int c, h, w, m, k, pad;
} Layer;

static const Layer layers[] = {
	{"vgg 3->32 28x28 k27", 3, 28, 28, 32, 3, 1},
	{"vgg 32->32 28x28 k288", 32, 28, 28, 32, 3, 1},
	{"vgg 32->64 14x14 k288", 32, 14, 14, 64, 3, 1},
	{"vgg 64->64 28x28 k576", 64, 28, 28, 64, 3, 1},
	{"vgg 64->64 14x14 k576", 64, 14, 14, 64, 3, 1},
	{"vgg 64->128 7x7 k576", 64, 7, 7, 128, 3, 1},
	{"vgg 128->128 14x14 k1152", 128, 14, 14, 128, 3, 1},
	{"vgg 128->128 7x7 k1152", 128, 7, 7, 128, 3, 1},
	{"1x1 64->64 14x14 k64", 64, 14, 14, 64, 1, 0},
	{"vgg fc 1152->256", 1152, 1, 1, 256, 1, 0},
	{"lenet c1 1->6 28x28 k25", 1, 28, 28, 6, 5, 2},
	{"lenet c2 6->16 14x14 k150", 6, 14, 14, 16, 5, 0},
	{"lenet fc1 400->120", 400, 1, 1, 120, 1, 0},
	{"lenet fc2 120->84", 120, 1, 1, 84, 1, 0},
};

enum { V_F32, V_BITS, V_INT8, V_GEMM };
typedef struct {
	const char *name;
	int kind, binary, bits;
} Variant;

static const Variant variants[] = {
	{"f32", V_F32, 0, 0},
	{"bs W1A1", V_BITS, 1, 1},
	{"bs W2A1", V_BITS, 0, 1},
	{"bs W2A2", V_BITS, 0, 2},
	{"bs W2A4", V_BITS, 0, 4},
	{"bs W2A8", V_BITS, 0, 8},
	{"i8 W2A2", V_INT8, 0, 2},
	{"i8 W2A8", V_INT8, 0, 8},
	{"i8 W1A8", V_INT8, 1, 8},
	{"ss W2f32", V_BITS, 0, 32},
	{"ss W1f32", V_BITS, 1, 32},
	{"gemm b1", V_GEMM, 0, 0}, /* fc layers only: rtk_gemm_f32, one row */
};
#define NV ((int)(sizeof variants / sizeof variants[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static void *alloc64(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (!p)
		abort();
	memset(p, 0, (n + 63) & ~(size_t)63);
	return p;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
	RtkConv g;
	RtkQConv q;
	const Variant *v;
	float *x, *wf, *scale, *bias, *y;
	uint64_t *wp;
	void *scr;
} Case;

static void run(const Case *c)
{
	if (c->v->kind == V_F32)
		rtk_conv_f32(&c->g, c->x, c->wf, c->bias, c->y, c->scr);
	else if (c->v->kind == V_BITS)
		rtk_qconv(&c->q, c->x, c->wp, c->scale, c->bias, c->y, c->scr);
	else if (c->v->kind == V_INT8)
		rtk_qconv_int8(&c->q, c->x, c->wp, c->scale, c->bias, c->y, c->scr);
	else {
		RtkGemm p = {1, c->g.m, c->g.c, 0};
		rtk_gemm_f32(&p, c->x, c->wf, c->bias, c->y);
	}
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* us per call: best of 3 repetitions of `reps` calls. */
static double time_case(const Case *c, int reps)
{
	double best = 1e30;
	for (int t = 0; t < 3; t++) {
		double t0 = now();
		for (int i = 0; i < reps; i++)
			run(c);
		double dt = (now() - t0) / reps * 1e6;
		best = dt < best ? dt : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 9;
	if (rounds < 1)
		rounds = 1;
	/* optional second argument: only the variants whose names start with one of its
	 * comma-separated prefixes (f32 always runs: it is the reference of the ratios) */
	const char *only = argc > 2 ? argv[2] : NULL;
	int on[NV];
	for (int v = 0; v < NV; v++) {
		on[v] = v == 0 || !only;
		for (const char *s = only; s && *s;) {
			size_t n = strcspn(s, ",");
			if (n && strncmp(variants[v].name, s, n) == 0)
				on[v] = 1;
			s += n + (s[n] == ',');
		}
	}
	printf("# us per call (median of %d rounds, one thread); ratio = f32 / variant\n", rounds);
	for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
		const Layer *L = &layers[li];
		int oh = L->h + 2 * L->pad - L->k + 1, ow = L->w + 2 * L->pad - L->k + 1;
		RtkConv g = {L->c, L->h, L->w, L->m, oh, ow, L->k, L->k, 1, 1, 1, 1, L->pad, L->pad,
		             1, 1};
		int k = L->c * L->k * L->k, kwords = 4 * ((k + 255) / 256);
		int nx = L->c * L->h * L->w;
		float *x = alloc64((size_t)nx * 4), *wf = alloc64((size_t)L->m * k * 4);
		float *scale = alloc64((size_t)L->m * 4), *bias = alloc64((size_t)L->m * 4);
		float *y = alloc64((size_t)L->m * oh * ow * 4);
		uint64_t *wp = alloc64((size_t)2 * L->m * kwords * 8);
		for (int i = 0; i < nx; i++)
			x[i] = (float)(rnd() % 2000) / 1000.0f - 0.3f;
		for (int m = 0; m < L->m; m++) {
			scale[m] = 0.01f + (float)(rnd() % 100) / 1000.0f;
			bias[m] = (float)(rnd() % 100) / 100.0f - 0.5f;
			for (int j = 0; j < k; j++) {
				int t = (int)(rnd() % 3) - 1;
				wf[(size_t)m * k + j] = scale[m] * (float)t;
				if (t == 1)
					wp[(size_t)(2 * m) * kwords + j / 64] |= 1ull << (j % 64);
				else if (t == -1)
					wp[(size_t)(2 * m + 1) * kwords + j / 64] |= 1ull << (j % 64);
			}
		}
		Case cs[NV];
		double med[NV];
		double *tm = malloc(sizeof(double) * (size_t)rounds * NV);
		for (int v = 0; v < NV; v++) {
			Case *c = &cs[v];
			const Variant *va = &variants[v];
			c->g = g;
			c->v = va;
			c->x = x, c->wf = wf, c->scale = scale, c->bias = bias, c->y = y, c->wp = wp;
			RtkQConv q = {.g = g, .k = k, .kwords = kwords, .binary = va->binary,
			              .bits = va->bits, .qn = 0, .step = 0.05f};
			if (va->bits && va->bits < 32)
				q.qp = (1 << va->bits) - 1;
			c->q = q;
			size_t ss = va->kind == V_F32 || va->kind == V_GEMM ? rtk_conv_f32_scratch(&g)
			            : va->kind == V_BITS ? rtk_qconv_scratch(&q) : rtk_qconv_int8_scratch(&q);
			c->scr = alloc64(ss);
		}
		/* calls per timing: ~5 ms of the float kernel */
		double tf = time_case(&cs[0], 1);
		int reps = (int)(5000.0 / (tf > 0.1 ? tf : 0.1));
		reps = reps < 1 ? 1 : reps;
		int fc = L->h == 1 && L->w == 1 && L->k == 1;
		for (int v = 0; v < NV; v++)
			if (!on[v] || (variants[v].kind == V_GEMM && !fc))
				for (int r = 0; r < rounds; r++)
					tm[(size_t)v * rounds + r] = 0;
		for (int r = 0; r < rounds; r++)
			for (int i = 0; i < NV; i++) {
				int v = r % 2 ? NV - 1 - i : i;
				if (on[v] && (variants[v].kind != V_GEMM || fc))
					tm[(size_t)v * rounds + r] = time_case(&cs[v], reps);
			}
		printf("%-28s", L->name);
		for (int v = 0; v < NV; v++) {
			qsort(tm + (size_t)v * rounds, (size_t)rounds, sizeof(double), cmpd);
			med[v] = tm[(size_t)v * rounds + rounds / 2];
		}
		printf(" f32 %8.2f\n", med[0]);
		for (int v = 1; v < NV; v++)
			if (med[v] > 0)
				printf("    %-10s %8.2f us  x%.2f\n", variants[v].name, med[v], med[0] / med[v]);
		for (int v = 0; v < NV; v++)
			free(cs[v].scr);
		free(tm); free(x); free(wf); free(scale); free(bias); free(y); free(wp);
	}
	return 0;
}
