/* bench/kernels_speed.c: per-layer speed of the quantized kernels against the float
 * convolution on the same layer and against a measured float FMA peak, in one process.
 *
 * Build and run with bench/kernels_speed.sh [ROUNDS] [PREFIXES] (it needs the kernel
 * bitcode of a build: cmake --build build). It compiles
 *   - the kernel library with runtime parameters: the bitcode sqc embeds
 *     (build/backend/kernels_x86_64.bc: clang-19 -O2 -march=x86-64-v3 ..., see
 *     backend/CMakeLists.txt), code-generated as it is (llc -O3 -mcpu=x86-64-v3);
 *   - bench/kernels_spec.c: every layer x variant as generated code has it, the kernel
 *     inlined into a wrapper with a constant parameter struct, after what backend/emit.c
 *     does (internal + alwaysinline, default<O3>, llc -O3);
 *   - this driver (clang-19 -O2 -march=x86-64-v3).
 * AArch64 (qemu timings are meaningless; for a real Arm machine) is not scripted: the
 * runtime-parameter part alone builds with
 *   clang-19 -O2 --target=aarch64-linux-gnu -march=armv8.2-a+dotprod -DKS_NO_SPEC -I. \
 *       bench/kernels_speed.c runtime/kernels/[a-z]*.c -static
 *
 * Per layer, every case (each variant with runtime parameters "rt" and specialized
 * "spec", and the FMA peak loop) runs in rounds A B C ... then reversed, ROUNDS times
 * (default 9); each timing is the best of 3 repetitions of enough calls of that case to
 * take ~5 ms. Medians over the rounds are printed as a Markdown table (columns: see
 * bench/README.md). MACs per layer: m * c/group * kh * kw * oh * ow whatever the bits.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/kernels/kernels.h"

#if defined __AVX2__ && defined __FMA__
#include <immintrin.h>
#define KS_PEAK 1
#endif
#include "bench/kernels_layers.h"

typedef struct {
	const char *name;
	int c, h, w, m, k, pad;
} Layer;

#define KS_LAYER_ROW(lid, name, c, h, w, m, k, pad, ...) {name, c, h, w, m, k, pad},
static const Layer layers[] = {KS_LAYERS(KS_LAYER_ROW, 0)};

enum { V_F32, V_BITS, V_BCONV, V_ICONV, V_GEMM };
typedef struct {
	const char *name;
	int kind, binary, bits;
} Variant;

#define KS_VARIANT_ROW(vid, name, KIND, binary, bits, ...) {name, V_##KIND, binary, bits},
static const Variant variants[] = {KS_VARIANTS(KS_VARIANT_ROW, 0)};
#define NV KS_NV

#ifndef KS_NO_SPEC
extern const KsSpecFn ks_spec[KS_NL][KS_NV];
#endif

#ifdef KS_PEAK
/* The measured peak: n iterations of CH independent chains of 8-wide float FMAs (AVX2),
 * 8 * CH MACs per iteration. A 4-cycle FMA latency on 2 FMA ports needs 8 chains in
 * flight; 10, 12 and 14 are timed and the fastest counts, because the rate of one loop
 * shape moves by up to 10% with code placement (56-63 GMAC/s for the same 12 chains in two
 * binaries here). acc = acc * a + b converges (a < 1): no overflow or denormals. */
#define PEAK_N 4096
#define NPEAK 3
static const int peak_chains[NPEAK] = {10, 12, 14};
static volatile float peak_sink;
#define FMA_PEAK(CH) \
	__attribute__((noinline)) static void fma_peak##CH(long n) \
	{ \
		__m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f), r[CH]; \
		for (int j = 0; j < CH; j++) \
			r[j] = _mm256_set1_ps(0.1f * (float)(j + 1)); \
		for (long i = 0; i < n; i++) { \
			for (int j = 0; j < CH; j++) \
				r[j] = _mm256_fmadd_ps(r[j], a, b); \
			__asm__ volatile("" ::"x"(r[0])); \
		} \
		__m256 s = r[0]; \
		for (int j = 1; j < CH; j++) \
			s = _mm256_add_ps(s, r[j]); \
		peak_sink = _mm256_cvtss_f32(s); \
	}
FMA_PEAK(10)
FMA_PEAK(12)
FMA_PEAK(14)
static void (*const fma_peak[NPEAK])(long) = {fma_peak10, fma_peak12, fma_peak14};
#else
#define NPEAK 3
#endif


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

/* a timed case: a variant with runtime parameters (spec == NULL), the same variant
 * specialized (spec: its wrapper from kernels_spec.c), or the FMA peak loop (v == NULL) */
typedef struct {
	RtkConv g;
	RtkQConv q;
	const Variant *v;
	KsSpecFn spec;
	float *x, *wf, *scale, *bias, *y;
	uint64_t *wp;
	void *scr;
	int reps;
	int peak; /* v == NULL: which FMA peak loop */
} Case;

static void run(const Case *c)
{
#ifdef KS_PEAK
	if (!c->v) {
		fma_peak[c->peak](PEAK_N);
		return;
	}
#endif
	if (c->spec)
		c->spec(c->x, c->wf, c->wp, c->scale, c->bias, c->y, c->scr);
	else if (c->v->kind == V_F32)
		rtk_conv_f32(&c->g, c->x, c->wf, c->bias, c->y, c->scr);
	else if (c->v->kind == V_BITS)
		rtk_qconv(&c->q, c->x, c->wp, c->scale, c->bias, c->y, c->scr);
	else if (c->v->kind == V_BCONV)
		rtk_bconv(&c->q, c->x, c->wp, c->scale, c->bias, c->y, c->scr);
	else if (c->v->kind == V_ICONV)
		rtk_iconv(&c->q, c->x, (const int32_t *)(const void *)c->wp, c->scale, c->bias, c->y,
		          c->scr);
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

/* us per call: best of 3 repetitions of c->reps calls. */
static double time_case(const Case *c)
{
	double best = 1e30;
	for (int t = 0; t < 3; t++) {
		double t0 = now();
		for (int i = 0; i < c->reps; i++)
			run(c);
		double dt = (now() - t0) / c->reps * 1e6;
		best = dt < best ? dt : best;
	}
	return best;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmpd);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
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
#ifdef KS_NO_SPEC
	const int nmode = 1;
#else
	const int nmode = 2;
#endif
	printf("# medians of %d alternating rounds, one thread; rt = runtime parameters, spec = "
	       "specialized as generated code; x f32 = f32 / variant in the same mode\n",
	       rounds);
	printf("| layer (MMAC) | variant | rt us | spec us | rt/spec | rt GMAC/s | spec GMAC/s | "
	       "spec MAC/cyc | rt x f32 | spec x f32 | rt %%peak | spec %%peak |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	double *allpeak = calloc((size_t)rounds * KS_NL, sizeof(double));
	int npeak = 0;
	for (int li = 0; li < KS_NL; li++) {
		const Layer *L = &layers[li];
		int oh = L->h + 2 * L->pad - L->k + 1, ow = L->w + 2 * L->pad - L->k + 1;
		RtkConv g = {L->c, L->h, L->w, L->m, oh, ow, L->k, L->k, 1, 1, 1, 1, L->pad, L->pad,
		             1, 1, 0.0f};
		int k = L->c * L->k * L->k, kwords = 4 * ((k + 255) / 256);
		double macs = (double)L->m * L->c / g.group * L->k * L->k * oh * ow;
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
		int fc = L->h == 1 && L->w == 1 && L->k == 1;
		/* cases: (variant, mode) at index 2 * v + mode, then the peak loops */
		int nc = 2 * NV + NPEAK;
		Case cs[2 * NV + NPEAK];
		int use[2 * NV + NPEAK];
		memset(cs, 0, sizeof cs);
		for (int v = 0; v < NV; v++)
			for (int mode = 0; mode < 2; mode++) {
				Case *c = &cs[2 * v + mode];
				const Variant *va = &variants[v];
				use[2 * v + mode] = on[v] && mode < nmode && (va->kind != V_GEMM || fc);
				c->g = g;
				c->v = va;
				c->x = x, c->wf = wf, c->scale = scale, c->bias = bias, c->y = y, c->wp = wp;
				RtkQConv q = {.g = g, .k = k, .kwords = kwords, .binary = va->binary,
				              .bits = va->bits, .qn = 0, .step = 0.05f, .nib = KS_NIB};
				if (va->bits && va->bits < 32)
					q.qp = (1 << va->bits) - 1;
				c->q = q;
				if (va->kind == V_BCONV) { /* the compile-time repacking, here per case */
					c->wp = alloc64((size_t)rtk_bconv_words(&q) * 8);
					rtk_bconv_repack(&q, wp, c->wp);
				}
				if (va->kind == V_ICONV) {
					c->wp = alloc64((size_t)rtk_iconv_words(&q) * 4);
					rtk_iconv_repack(&q, wp, (int32_t *)(void *)c->wp);
				}
#ifndef KS_NO_SPEC
				if (mode == 1)
					c->spec = ks_spec[li][v];
#endif
				size_t ss = va->kind == V_F32 || va->kind == V_GEMM ? rtk_conv_f32_scratch(&g)
				            : va->kind == V_BITS ? rtk_qconv_scratch(&q)
				            : va->kind == V_BCONV ? rtk_bconv_scratch(&q)
				                                  : rtk_iconv_scratch(&q);
				c->scr = alloc64(ss);
			}
		for (int i = 0; i < NPEAK; i++) {
			cs[2 * NV + i].peak = i;
#ifdef KS_PEAK
			use[2 * NV + i] = 1;
#else
			use[2 * NV + i] = 0;
#endif
		}
		/* the specialized code must compute what the runtime-parameter code computes:
		 * the same bitcode and float statements, so the outputs are bit-identical */
		size_t ny = (size_t)L->m * oh * ow;
		float *ref = alloc64(ny * 4);
		int same[NV];
		for (int v = 0; v < NV; v++) {
			same[v] = 1;
			if (!use[2 * v] || !use[2 * v + 1])
				continue;
			memset(y, 0xff, ny * 4);
			run(&cs[2 * v]);
			memcpy(ref, y, ny * 4);
			memset(y, 0xff, ny * 4);
			run(&cs[2 * v + 1]);
			same[v] = memcmp(ref, y, ny * 4) == 0;
		}
		free(ref);
		/* calls per timing: ~5 ms of each case (one warm-up call, then one timed) */
		for (int i = 0; i < nc; i++)
			if (use[i]) {
				cs[i].reps = 1;
				run(&cs[i]);
				double t = time_case(&cs[i]);
				int reps = (int)(5000.0 / (t > 0.1 ? t : 0.1));
				cs[i].reps = reps < 1 ? 1 : reps;
			}
		double *tm = calloc((size_t)rounds * nc, sizeof(double));
		for (int r = 0; r < rounds; r++)
			for (int j = 0; j < nc; j++) {
				int i = r % 2 ? nc - 1 - j : j;
				if (use[i])
					tm[(size_t)i * rounds + r] = time_case(&cs[i]);
			}
		double med[2 * NV + NPEAK];
		for (int i = 0; i < nc; i++)
			med[i] = use[i] ? median(tm + (size_t)i * rounds, rounds) : 0;
		/* the peak in MAC/s, from this layer's rounds: the fastest loop's median, and
		 * per round the fastest loop (for the overall median) */
		double peak = 0;
		int bp = 0;
#ifdef KS_PEAK
		for (int i = 0; i < NPEAK; i++) {
			double p = 8.0 * peak_chains[i] * PEAK_N / (med[2 * NV + i] * 1e-6);
			if (p > peak)
				peak = p, bp = i;
		}
		for (int r = 0; r < rounds; r++) {
			double best = 0;
			for (int i = 0; i < NPEAK; i++) {
				double p = 8.0 * peak_chains[i] * PEAK_N /
				           (tm[(size_t)(2 * NV + i) * rounds + r] * 1e-6);
				best = p > best ? p : best;
			}
			allpeak[npeak++] = best;
		}
#endif
		for (int v = 0; v < NV; v++) {
			double rt = med[2 * v], sp = med[2 * v + 1];
			if (!use[2 * v])
				continue;
			char lname[64] = "";
			if (v == 0)
				snprintf(lname, sizeof lname, "%s (%.3g)", L->name, macs * 1e-6);
			printf("| %s | %s | %.2f |", lname, variants[v].name, rt);
			if (sp > 0)
				printf(" %.2f | %.2f |", sp, rt / sp);
			else
				printf(" - | - |");
			printf(" %.2f |", macs / rt * 1e-3);
			if (sp > 0)
				printf(" %.2f |", macs / sp * 1e-3);
			else
				printf(" - |");
			if (sp > 0 && peak > 0)
				printf(" %.2f |", 16.0 * (macs / (sp * 1e-6)) / peak);
			else
				printf(" - |");
			printf(" %.2f |", med[0] / rt);
			if (sp > 0 && med[1] > 0)
				printf(" %.2f |", med[1] / sp);
			else
				printf(" - |");
			if (peak > 0) {
				printf(" %.1f |", 100.0 * macs / (rt * 1e-6) / peak);
				if (sp > 0)
					printf(" %.1f |", 100.0 * macs / (sp * 1e-6) / peak);
				else
					printf(" - |");
			} else
				printf(" - | - |");
			printf("%s\n", same[v] ? "" : " SPEC OUTPUT DIFFERS");
		}
#ifdef KS_PEAK
		if (peak > 0)
			printf("| | fma peak (%d chains) | | %.2f | | | %.2f | 16 | | | | 100 |\n",
			       peak_chains[bp], med[2 * NV + bp], peak * 1e-9);
#endif
		fflush(stdout);
		for (int i = 0; i < nc; i++)
			free(cs[i].scr);
		free(tm); free(x); free(wf); free(scale); free(bias); free(y); free(wp);
	}
	if (npeak) {
		double p = median(allpeak, npeak);
		printf("\n# FMA peak (AVX2, 8-wide FMAs, fastest of 10/12/14 chains per round), median "
		       "of %d rounds: %.2f GMAC/s = 16 MAC/cycle at %.2f GHz if 2 FMAs retire per "
		       "cycle\n", npeak, p * 1e-9, p / 16 * 1e-9);
	}
	free(allpeak);
	return 0;
}
