/* tests/unit/test_data.c: the data set readers (frontend/idx.c, frontend/dataset.c). Each
 * test writes tiny IDX (raw and gzip), NPY or CIFAR-10 files into a temporary folder,
 * loads them and checks the values after preprocessing exactly, or checks the error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "frontend/data.h"

/* The temporary folder of the test program (group setup makes it, teardown removes it)
 * and the diagnostics of the running test. */
static char Dir[256];
static Diag D;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(Dir, sizeof Dir, "%s/sqc-data-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(Dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(Dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	(void)state;
	diag_init(&D, "cfg.yaml");
	D.out = getenv("SQC_TEST_VERBOSE") ? stderr : NULL; /* to read the messages */
	return 0;
}

/* ---- file writers ---- */

/* Dir/name into a static buffer (one of four, so a few can be live at once). */
static const char *tmp(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, 512, "%s/%s", Dir, name);
	return b;
}

static void write_bytes(const char *path, const void *p, size_t n, int gz)
{
	if (gz) {
		gzFile f = gzopen(path, "wb");
		assert_non_null(f);
		if (n)
			assert_int_equal(gzwrite(f, p, (unsigned)n), (int)n);
		assert_int_equal(gzclose(f), Z_OK);
	} else {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(p, 1, n, f), n);
		assert_int_equal(fclose(f), 0);
	}
}

/* An IDX file: header for type/dims, then `n` payload bytes (already big endian). */
static void write_idx(const char *path, int gz, int type, int ndim, const uint32_t *dims,
                      const void *payload, size_t n)
{
	size_t h = 4 + 4 * (size_t)ndim;
	unsigned char *b = malloc(h + n + 1);
	b[0] = b[1] = 0;
	b[2] = (unsigned char)type;
	b[3] = (unsigned char)ndim;
	for (int i = 0; i < ndim; i++) {
		b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
		b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
		b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
		b[7 + 4 * i] = (unsigned char)dims[i];
	}
	if (n)
		memcpy(b + h, payload, n);
	write_bytes(path, b, h + n, gz);
	free(b);
}

static void write_npy(const char *path, DType t, Shape s, const void *data)
{
	FeTensor ft = {.dtype = t, .shape = s, .data = (void *)data};
	Diag d;
	diag_init(&d, path);
	d.out = NULL;
	assert_int_equal(fe_npy_write(path, &ft, &d), 0);
}

static Shape shp(int rank, int64_t a, int64_t b, int64_t c, int64_t e)
{
	Shape s = {.rank = rank, .d = {a, b, c, e}};
	return s;
}

/* A custom data set config: one test split of the given files (labels may be NULL). */
static FeDataConfig cfg(FeDataFormat fmt, const char *images, const char *labels)
{
	FeDataConfig c;
	memset(&c, 0, sizeof c);
	c.format = fmt;
	c.nclasses = 10;
	c.norm = (FeNormalize){.scale = 1, .nmean = 1, .nstd = 1, .mean = {0}, .std = {1}};
	c.layout = FE_LAYOUT_NCHW;
	FeDataSplit *s = &c.split[FE_SPLIT_TEST];
	s->nimages = 1;
	snprintf(s->images[0], FE_PATH_MAX, "%s", images);
	if (labels) {
		s->nlabels = 1;
		snprintf(s->labels[0], FE_PATH_MAX, "%s", labels);
	}
	return c;
}

/* The preprocessing formula of data.h, spelled out independently. */
static float norm1(float v, double scale, float mean, float std)
{
	float s = (float)scale;
	float t = v * s;
	t = t - mean;
	return t / std;
}

/* 3 images of 2x3 pixels, and their labels. */
static const unsigned char PIX[18] = {0, 1, 2, 3, 4, 5, 255, 254, 128, 127, 64, 32,
                                      10, 20, 30, 40, 50, 60};
static const unsigned char LAB[3] = {7, 0, 9};
static const uint32_t IMG_DIMS[3] = {3, 2, 3}, LAB_DIMS[1] = {3};

static void write_idx_pair(const char *img, const char *lab, int gz)
{
	write_idx(img, gz, 0x08, 3, IMG_DIMS, PIX, sizeof PIX);
	write_idx(lab, gz, 0x08, 1, LAB_DIMS, LAB, sizeof LAB);
}

/* ---- loading ---- */

static void check_pix(const FeDataset *ds, int64_t n, double scale, float mean, float std)
{
	assert_int_equal(ds->n, n);
	assert_int_equal(ds->sample.rank, 3);
	assert_int_equal(ds->sample.d[0], 1);
	assert_int_equal(ds->sample.d[1], 2);
	assert_int_equal(ds->sample.d[2], 3);
	assert_int_equal(fe_dataset_sample_numel(ds), 6);
	for (int64_t i = 0; i < n * 6; i++)
		assert_true(ds->x[i] == norm1(PIX[i], scale, mean, std));
	assert_non_null(ds->y);
	for (int64_t i = 0; i < n; i++)
		assert_int_equal(ds->y[i], LAB[i]);
}

static void test_idx_raw(void **state)
{
	(void)state;
	write_idx_pair(tmp("raw-img"), tmp("raw-lab"), 0);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("raw-img"), tmp("raw-lab"));
	c.norm.scale = 1.0 / 255;
	c.norm.mean[0] = 0.5f;
	c.norm.std[0] = 0.25f;
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	check_pix(&ds, 3, 1.0 / 255, 0.5f, 0.25f);
	assert_int_equal(ds.nclasses, 10);
	/* pixel 255 of image 1: (1 - 0.5) / 0.25 = 2 */
	assert_true(ds.x[6] > 1.99f && ds.x[6] < 2.01f);
	fe_dataset_free(&ds);
	assert_null(ds.x);
	assert_int_equal(D.nerrors, 0);
}

static void test_idx_gzip_and_limit(void **state)
{
	(void)state;
	write_idx_pair(tmp("gz-img.gz"), tmp("gz-lab.gz"), 1);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("gz-img.gz"), tmp("gz-lab.gz"));
	c.norm.scale = 2;
	c.norm.mean[0] = 1;
	c.norm.std[0] = 3;
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	check_pix(&ds, 3, 2, 1, 3);
	fe_dataset_free(&ds);
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 2, &ds, &D), 0);
	check_pix(&ds, 2, 2, 1, 3);
	fe_dataset_free(&ds);
	/* the train split of this config has no files */
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TRAIN, 0, &ds, &D), -1);
	assert_non_null(strstr(D.last, "no train images configured"));
	assert_null(ds.x);
}

/* float32 images and int32 labels are big endian in IDX; int16 labels widen. */
static void test_idx_float_int(void **state)
{
	(void)state;
	const float vals[4] = {1.5f, -2.25f, 1e-3f, 100.0f};
	unsigned char be[16];
	for (int i = 0; i < 4; i++) {
		uint32_t u;
		memcpy(&u, &vals[i], 4);
		for (int k = 0; k < 4; k++)
			be[4 * i + k] = (unsigned char)(u >> (24 - 8 * k));
	}
	const uint32_t idims[3] = {2, 1, 2}, ldims[1] = {2};
	write_idx(tmp("f-img"), 0, 0x0D, 3, idims, be, sizeof be);
	const unsigned char lab32[8] = {0, 0, 0, 3, 0, 0, 0, 11};
	write_idx(tmp("f-lab"), 1, 0x0C, 1, ldims, lab32, sizeof lab32);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("f-img"), tmp("f-lab"));
	c.nclasses = 12;
	c.norm.mean[0] = 0.5f;
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.n, 2);
	for (int i = 0; i < 4; i++)
		assert_true(ds.x[i] == norm1(vals[i], 1, 0.5f, 1));
	assert_int_equal(ds.y[0], 3);
	assert_int_equal(ds.y[1], 11);
	fe_dataset_free(&ds);

	const unsigned char lab16[4] = {0, 5, 0xff, 0xff}; /* 5, -1 */
	write_idx(tmp("f-lab16"), 0, 0x0B, 1, ldims, lab16, sizeof lab16);
	FeTensor t;
	assert_int_equal(fe_idx_read(tmp("f-lab16"), 0, &t, NULL, &D), 0);
	assert_int_equal(t.dtype, DT_INT32);
	assert_int_equal(((int32_t *)t.data)[0], 5);
	assert_int_equal(((int32_t *)t.data)[1], -1);
	fe_tensor_free(&t);
}

/* 4-D images with channels last are transposed to NCHW; per-channel mean and std. */
static void test_idx_nhwc_channels(void **state)
{
	(void)state;
	enum { N = 2, H = 2, W = 2, C = 3 };
	unsigned char px[N * H * W * C];
	for (int i = 0; i < (int)sizeof px; i++)
		px[i] = (unsigned char)(i * 7 + 3);
	const uint32_t dims[4] = {N, H, W, C};
	write_idx(tmp("hwc-img.gz"), 1, 0x08, 4, dims, px, sizeof px);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("hwc-img.gz"), NULL);
	c.layout = FE_LAYOUT_NHWC;
	c.norm = (FeNormalize){.scale = 1.0 / 255, .nmean = 3, .nstd = 3,
	                       .mean = {0.1f, 0.2f, 0.3f}, .std = {1, 2, 4}};
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.n, N);
	assert_null(ds.y); /* no labels configured */
	assert_int_equal(ds.sample.d[0], C);
	assert_int_equal(ds.sample.d[1], H);
	assert_int_equal(ds.sample.d[2], W);
	for (int n = 0; n < N; n++)
		for (int ch = 0; ch < C; ch++)
			for (int p = 0; p < H * W; p++)
				assert_true(ds.x[(n * C + ch) * H * W + p] ==
				            norm1(px[(n * H * W + p) * C + ch], 1.0 / 255, c.norm.mean[ch],
				                  c.norm.std[ch]));
	fe_dataset_free(&ds);

	/* the same bytes read as NCHW: [N, 2, 2, 3] is C=2, H=2, W=3 */
	c.layout = FE_LAYOUT_NCHW;
	c.norm.nmean = c.norm.nstd = 1;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.sample.d[0], 2);
	assert_int_equal(ds.sample.d[2], 3);
	for (int i = 0; i < (int)sizeof px; i++)
		assert_true(ds.x[i] == norm1(px[i], 1.0 / 255, 0.1f, 1));
	fe_dataset_free(&ds);
}

static void test_npy(void **state)
{
	(void)state;
	/* uint8 [3,2,3] images, int64 labels */
	int64_t lab64[3] = {7, 0, 9};
	write_npy(tmp("u8.npy"), DT_UINT8, shp(3, 3, 2, 3, 0), PIX);
	write_npy(tmp("l64.npy"), DT_INT64, shp(1, 3, 0, 0, 0), lab64);
	FeDataConfig c = cfg(FE_DATA_NPY, tmp("u8.npy"), tmp("l64.npy"));
	c.norm.scale = 1.0 / 255;
	c.norm.mean[0] = 0.2860f;
	c.norm.std[0] = 0.3530f;
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	check_pix(&ds, 3, 1.0 / 255, 0.2860f, 0.3530f);
	fe_dataset_free(&ds);

	/* float32 [2,2,1,2] NHWC images (C=2), int32 [2,1] labels */
	const float fx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	const int32_t l32[2] = {1, 2};
	write_npy(tmp("f32.npy"), DT_FLOAT, shp(4, 2, 2, 1, 2), fx);
	write_npy(tmp("l32.npy"), DT_INT32, shp(2, 2, 1, 0, 0), l32);
	c = cfg(FE_DATA_NPY, tmp("f32.npy"), tmp("l32.npy"));
	c.layout = FE_LAYOUT_NHWC;
	c.norm.nmean = 2;
	c.norm.mean[0] = 1;
	c.norm.mean[1] = -1;
	c.norm.std[0] = 2;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.n, 2);
	assert_int_equal(ds.sample.d[0], 2); /* C */
	assert_int_equal(ds.sample.d[1], 2); /* H */
	assert_int_equal(ds.sample.d[2], 1); /* W */
	/* sample 0 holds HWC 0,1,2,3 -> channel 0: 0,2; channel 1: 1,3 */
	const float want[8] = {(0 - 1) / 2.f, (2 - 1) / 2.f, (1 + 1) / 2.f, (3 + 1) / 2.f,
	                       (4 - 1) / 2.f, (6 - 1) / 2.f, (5 + 1) / 2.f, (7 + 1) / 2.f};
	for (int i = 0; i < 8; i++)
		assert_true(ds.x[i] == want[i]);
	assert_int_equal(ds.y[0], 1);
	assert_int_equal(ds.y[1], 2);
	fe_dataset_free(&ds);
}

/* Fills a stretch of the stack with 'x', so that a callee reading bytes it never set
 * sees them instead of zeros that happen to be there. */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = 'x';
}

/* The header fe_npy_write gives a shape: the dict padded with spaces to 128 bytes in all,
 * ending in a newline; NumPy's spelling of the shape tuple ((), (3,), (2, 3)). Rank 0
 * (sqc run on a model with a scalar output) used to write the shape buffer unset. */
static void test_npy_write_header(void **state)
{
	(void)state;
	static const struct {
		Shape s;
		const char *tuple;
	} cases[] = {{{0, {0}}, "()"}, {{1, {3}}, "(3,)"}, {{2, {2, 3}}, "(2, 3)"}};
	const float v[6] = {1.5f, -2, 3, 4, 5, 6};
	for (size_t i = 0; i < countof(cases); i++) {
		dirty_stack();
		write_npy(tmp("hdr.npy"), DT_FLOAT, cases[i].s, v);
		FILE *f = fopen(tmp("hdr.npy"), "rb");
		assert_non_null(f);
		unsigned char b[256];
		size_t n = fread(b, 1, sizeof b, f);
		fclose(f);
		int64_t numel = ir_shape_numel(&cases[i].s);
		assert_int_equal(n, 128 + 4 * (size_t)numel);
		assert_memory_equal(b, "\x93NUMPY\x01\x00\x76\x00", 10);
		char want[64];
		int k = snprintf(want, sizeof want, "{'descr': '<f4', 'fortran_order': False, "
		                 "'shape': %s, }", cases[i].tuple);
		assert_memory_equal(b + 10, want, (size_t)k);
		for (int j = 10 + k; j < 127; j++)
			assert_int_equal(b[j], ' ');
		assert_int_equal(b[127], '\n');
		assert_memory_equal(b + 128, v, 4 * (size_t)numel);
		FeTensor t;
		assert_int_equal(fe_npy_read(tmp("hdr.npy"), &t, &D), 0);
		assert_int_equal(t.shape.rank, cases[i].s.rank);
		assert_true(ir_shape_eq(&t.shape, &cases[i].s));
		assert_memory_equal(t.data, v, 4 * (size_t)numel);
		fe_tensor_free(&t);
	}
}

/* A .npy header over the element limit: "too large", whatever data follows. */
static void test_err_npy_huge(void **state)
{
	(void)state;
	static const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (131072, "
	                          "262144), }";
	unsigned char b[128];
	memset(b, ' ', sizeof b);
	memcpy(b, "\x93NUMPY\x01\x00\x76\x00", 10);
	memcpy(b + 10, hdr, sizeof hdr - 1);
	b[127] = '\n';
	write_bytes(tmp("big.npy"), b, sizeof b, 0);
	FeTensor t;
	D.nerrors = 0;
	assert_int_equal(fe_npy_read(tmp("big.npy"), &t, &D), -1);
	assert_null(t.data);
	if (!strstr(D.last, ".npy data: tensor too large (34359738368 elements; limit "
	                    "17179869184)"))
		fail_msg("message '%s'", D.last);
}

/* Records of a CIFAR-10 batch: label byte, then 3072 pixels derived from (record, i). */
static void write_cifar(const char *path, int first, int n, int gz, size_t cut)
{
	size_t len = (size_t)n * 3073;
	unsigned char *b = malloc(len);
	for (int r = 0; r < n; r++) {
		b[(size_t)r * 3073] = (unsigned char)((first + r) % 10);
		for (int i = 0; i < 3072; i++)
			b[(size_t)r * 3073 + 1 + i] = (unsigned char)((first + r) * 31 + i);
	}
	write_bytes(path, b, len - cut, gz);
	free(b);
}

static void test_cifar(void **state)
{
	(void)state;
	write_cifar(tmp("c1.bin"), 0, 3, 0, 0);
	write_cifar(tmp("c2.bin.gz"), 3, 2, 1, 0);
	FeDataConfig c = cfg(FE_DATA_CIFAR10, tmp("c1.bin"), NULL);
	c.split[FE_SPLIT_TEST].nimages = 2;
	snprintf(c.split[FE_SPLIT_TEST].images[1], FE_PATH_MAX, "%s", tmp("c2.bin.gz"));
	c.norm = (FeNormalize){.scale = 1.0 / 255, .nmean = 3, .nstd = 3,
	                       .mean = {0.4914f, 0.4822f, 0.4465f}, .std = {0.247f, 0.243f, 0.261f}};
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.n, 5);
	assert_int_equal(ds.sample.d[0], 3);
	assert_int_equal(ds.sample.d[1], 32);
	assert_int_equal(ds.sample.d[2], 32);
	assert_non_null(ds.y);
	for (int r = 0; r < 5; r++) {
		assert_int_equal(ds.y[r], r % 10);
		for (int i = 0; i < 3072; i += 97) {
			int ch = i / 1024;
			assert_true(ds.x[r * 3072 + i] == norm1((unsigned char)(r * 31 + i), 1.0 / 255,
			                                        c.norm.mean[ch], c.norm.std[ch]));
		}
	}
	fe_dataset_free(&ds);
	/* a limit that stops inside the second file */
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 4, &ds, &D), 0);
	assert_int_equal(ds.n, 4);
	assert_int_equal(ds.y[3], 3);
	fe_dataset_free(&ds);

	/* a CIFAR reader for one file, directly */
	FeTensor im, lb;
	assert_int_equal(fe_cifar10_read(tmp("c2.bin.gz"), 1, &im, &lb, &D), 0);
	assert_int_equal(im.shape.d[0], 1);
	assert_int_equal(((unsigned char *)lb.data)[0], 3);
	fe_tensor_free(&im);
	fe_tensor_free(&lb);
}

/* Several IDX files make one split; the limit spans them. */
static void test_idx_many_files(void **state)
{
	(void)state;
	write_idx_pair(tmp("m1-img"), tmp("m1-lab"), 0);
	write_idx_pair(tmp("m2-img.gz"), tmp("m2-lab.gz"), 1);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("m1-img"), tmp("m1-lab"));
	FeDataSplit *s = &c.split[FE_SPLIT_TEST];
	s->nimages = s->nlabels = 2;
	snprintf(s->images[1], FE_PATH_MAX, "%s", tmp("m2-img.gz"));
	snprintf(s->labels[1], FE_PATH_MAX, "%s", tmp("m2-lab.gz"));
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 5, &ds, &D), 0);
	assert_int_equal(ds.n, 5);
	for (int i = 0; i < 5 * 6; i++)
		assert_true(ds.x[i] == (float)PIX[i % 18]);
	assert_int_equal(ds.y[3], LAB[0]);
	assert_int_equal(ds.y[4], LAB[1]);
	fe_dataset_free(&ds);
}

/* ---- bad input: -1, a message naming the file, nothing leaked (ASan) ---- */

/* Loads a one-file test split and expects an error whose message holds every word. */
static void expect_error(const FeDataConfig *c, const char *file, const char *w1,
                         const char *w2)
{
	FeDataset ds;
	D.nerrors = 0;
	assert_int_equal(fe_dataset_load(c, FE_SPLIT_TEST, 0, &ds, &D), -1);
	assert_int_equal(D.nerrors, 1);
	assert_null(ds.x);
	assert_null(ds.y);
	assert_int_equal(ds.n, 0);
	if (!strstr(D.last, file) || !strstr(D.last, w1) || (w2 && !strstr(D.last, w2)))
		fail_msg("message '%s' lacks '%s' / '%s' / '%s'", D.last, file, w1, w2 ? w2 : "");
	assert_string_equal(D.file, "cfg.yaml"); /* the Diag's own file is restored */
}

static void test_err_missing(void **state)
{
	(void)state;
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("nope-img.gz"), NULL);
	expect_error(&c, "nope-img.gz", "cannot open", "No such file");
	write_idx_pair(tmp("ok-img"), tmp("ok-lab"), 0);
	c = cfg(FE_DATA_IDX, tmp("ok-img"), tmp("nope-lab"));
	expect_error(&c, "nope-lab", "cannot open", NULL);
	c = cfg(FE_DATA_NPY, tmp("nope.npy"), NULL);
	expect_error(&c, "nope.npy", "cannot open", NULL);
	c = cfg(FE_DATA_CIFAR10, tmp("nope.bin"), NULL);
	expect_error(&c, "nope.bin", "cannot open", NULL);
}

static void test_err_truncated(void **state)
{
	(void)state;
	/* the header says 5 images of 2x3, the data holds 3 and a half */
	const uint32_t dims[3] = {5, 2, 3};
	unsigned char px[21] = {0};
	write_idx(tmp("t-img"), 0, 0x08, 3, dims, px, sizeof px);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("t-img"), NULL);
	expect_error(&c, "t-img", "truncated", "declares 5 entries of [2,3] uint8, the data ends "
	                                       "after 3");
	write_idx(tmp("t-img.gz"), 1, 0x08, 3, dims, px, sizeof px);
	c = cfg(FE_DATA_IDX, tmp("t-img.gz"), NULL);
	expect_error(&c, "t-img.gz", "truncated", NULL);
	/* a header claiming 4 billion images of a tiny file: truncated, not out of memory */
	const uint32_t huge[3] = {0xffffffffu, 28, 28};
	write_idx(tmp("t-huge.gz"), 1, 0x08, 3, huge, px, sizeof px);
	c = cfg(FE_DATA_IDX, tmp("t-huge.gz"), NULL);
	expect_error(&c, "t-huge.gz", "truncated", "declares 4294967295 entries of [28,28] uint8, "
	                                          "the data ends after 0");
	/* truncated header */
	write_bytes(tmp("t-hdr"), "\0\0\x08\x03\0\0", 6, 0);
	c = cfg(FE_DATA_IDX, tmp("t-hdr"), NULL);
	expect_error(&c, "t-hdr", "truncated IDX header", NULL);
	/* empty file */
	write_bytes(tmp("t-empty"), "", 0, 0);
	c = cfg(FE_DATA_IDX, tmp("t-empty"), NULL);
	expect_error(&c, "t-empty", "empty file", NULL);
	/* more data than the header says */
	unsigned char more[19];
	memcpy(more, PIX, 18);
	more[18] = 1;
	write_idx(tmp("t-more"), 0, 0x08, 3, IMG_DIMS, more, sizeof more);
	c = cfg(FE_DATA_IDX, tmp("t-more"), NULL);
	expect_error(&c, "t-more", "data past the 3 entries", NULL);
}

/* Headers whose byte count does not fit int64 (issue 12): a float64 header of 2^60
 * elements (2^63 bytes) used to pass the truncation test and byte-swap far past its
 * 16-byte buffer. Now a "too large" error before anything is read or allocated. */
static void test_err_idx_huge(void **state)
{
	(void)state;
	unsigned char px[16] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0};
	const uint32_t d63[3] = {1u << 30, 1u << 30, 1}; /* 2^60 float64: 2^63 bytes */
	write_idx(tmp("h-f64"), 0, 0x0E, 3, d63, px, sizeof px);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("h-f64"), NULL);
	expect_error(&c, "h-f64", "IDX data: tensor too large (1152921504606846976 elements; "
	                          "limit 17179869184)", NULL);
	/* int16 is widened to int32 in memory: 2^61 elements, 2^62 bytes in the file, 2^63
	 * in memory */
	const uint32_t d61[3] = {1u << 31, 1u << 30, 1};
	write_idx(tmp("h-i16.gz"), 1, 0x0B, 3, d61, px, sizeof px);
	c = cfg(FE_DATA_IDX, tmp("h-i16.gz"), NULL);
	expect_error(&c, "h-i16.gz", "tensor too large", NULL);
	/* a product past int64 */
	const uint32_t d96[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 2};
	write_idx(tmp("h-u8"), 0, 0x08, 4, d96, px, sizeof px);
	c = cfg(FE_DATA_IDX, tmp("h-u8"), NULL);
	expect_error(&c, "h-u8", "tensor too large (more than 2^63 elements", NULL);
}

/* A gzip stream cut short: inside the deflate data, and in the 8-byte trailer only. */
static void test_err_gzip_cut(void **state)
{
	(void)state;
	enum { N = 200 };
	unsigned char *px = malloc(N * 6);
	for (int i = 0; i < N * 6; i++)
		px[i] = (unsigned char)(i * i * 7 + i / 5); /* not very compressible */
	const uint32_t dims[3] = {N, 2, 3};
	write_idx(tmp("g-full.gz"), 1, 0x08, 3, dims, px, N * 6);
	free(px);
	size_t n;
	Diag d2;
	diag_init(&d2, NULL);
	unsigned char *gz = fe_read_file(tmp("g-full.gz"), &n, &d2);
	assert_non_null(gz);
	assert_true(n > 100);
	write_bytes(tmp("g-half.gz"), gz, n / 2, 0);
	write_bytes(tmp("g-trailer.gz"), gz, n - 4, 0);
	gz[n - 8] ^= 0x55; /* the CRC-32 of the trailer */
	write_bytes(tmp("g-crc.gz"), gz, n, 0);
	free(gz);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("g-half.gz"), NULL);
	expect_error(&c, "g-half.gz", "truncated", "unexpected end of file");
	c = cfg(FE_DATA_IDX, tmp("g-trailer.gz"), NULL);
	expect_error(&c, "g-trailer.gz", "gzip stream: unexpected end of file", NULL);
	c = cfg(FE_DATA_IDX, tmp("g-crc.gz"), NULL);
	expect_error(&c, "g-crc.gz", "corrupt", "incorrect data check");
	/* the intact file loads, and a limit does not read up to the trailer */
	c = cfg(FE_DATA_IDX, tmp("g-full.gz"), NULL);
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.n, N);
	fe_dataset_free(&ds);
	c = cfg(FE_DATA_IDX, tmp("g-trailer.gz"), NULL);
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 10, &ds, &D), 0);
	assert_int_equal(ds.n, 10);
	fe_dataset_free(&ds);
}

static void test_err_magic(void **state)
{
	(void)state;
	write_bytes(tmp("bad-magic"), "\x1f\x00\x08\x03\0\0\0\1\0\0\0\1\0\0\0\1\0", 17, 0);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("bad-magic"), NULL);
	expect_error(&c, "bad-magic", "not an IDX file", "bad magic");
	write_bytes(tmp("bad-type.gz"), "\0\0\x07\x03\0\0\0\1\0\0\0\1\0\0\0\1\0", 17, 1);
	c = cfg(FE_DATA_IDX, tmp("bad-type.gz"), NULL);
	expect_error(&c, "bad-type.gz", "not an IDX file", NULL);
	/* labels where images are expected: rank 1 */
	write_idx_pair(tmp("r-img"), tmp("r-lab"), 0);
	c = cfg(FE_DATA_IDX, tmp("r-lab"), NULL);
	expect_error(&c, "r-lab", "rank 3", NULL);
}

static void test_err_count_mismatch(void **state)
{
	(void)state;
	const uint32_t ldims[1] = {2};
	write_idx(tmp("cm-img.gz"), 1, 0x08, 3, IMG_DIMS, PIX, sizeof PIX);
	write_idx(tmp("cm-lab.gz"), 1, 0x08, 1, ldims, LAB, 2);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("cm-img.gz"), tmp("cm-lab.gz"));
	expect_error(&c, "cm-lab.gz", "count mismatch", "2 labels for the 3 images");
	/* also with a limit that both files could satisfy */
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c, FE_SPLIT_TEST, 1, &ds, &D), -1);
	assert_non_null(strstr(D.last, "count mismatch"));
	int64_t l2[2] = {1, 2};
	write_npy(tmp("cm-img.npy"), DT_UINT8, shp(3, 3, 2, 3, 0), PIX);
	write_npy(tmp("cm-lab.npy"), DT_INT64, shp(1, 2, 0, 0, 0), l2);
	c = cfg(FE_DATA_NPY, tmp("cm-img.npy"), tmp("cm-lab.npy"));
	expect_error(&c, "cm-lab.npy", "count mismatch", NULL);
}

static void test_err_label_range(void **state)
{
	(void)state;
	write_idx_pair(tmp("lr-img"), tmp("lr-lab"), 0);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("lr-img"), tmp("lr-lab"));
	c.nclasses = 8; /* label 9 at index 2 */
	expect_error(&c, "lr-lab", "label 9 at index 2 is out of range [0, 8)", NULL);
	int32_t neg[3] = {1, -1, 2};
	write_npy(tmp("lr-img.npy"), DT_UINT8, shp(3, 3, 2, 3, 0), PIX);
	write_npy(tmp("lr-lab.npy"), DT_INT32, shp(1, 3, 0, 0, 0), neg);
	c = cfg(FE_DATA_NPY, tmp("lr-img.npy"), tmp("lr-lab.npy"));
	expect_error(&c, "lr-lab.npy", "label -1 at index 1 is out of range", NULL);
	write_cifar(tmp("lr.bin"), 0, 3, 0, 0); /* labels 0, 1, 2 */
	c = cfg(FE_DATA_CIFAR10, tmp("lr.bin"), NULL);
	c.nclasses = 2;
	expect_error(&c, "lr.bin", "label 2 at index 2 is out of range [0, 2)", NULL);
}

static void test_err_npy_kind(void **state)
{
	(void)state;
	write_npy(tmp("k-r2.npy"), DT_UINT8, shp(2, 3, 6, 0, 0), PIX);
	FeDataConfig c = cfg(FE_DATA_NPY, tmp("k-r2.npy"), NULL);
	expect_error(&c, "k-r2.npy", "rank 3", "[3,6]");
	int32_t i32[6] = {0};
	write_npy(tmp("k-i32.npy"), DT_INT32, shp(3, 1, 2, 3, 0), i32);
	c = cfg(FE_DATA_NPY, tmp("k-i32.npy"), NULL);
	expect_error(&c, "k-i32.npy", "float32 or uint8", "i32");
	float fl[3] = {0, 1, 2};
	write_npy(tmp("k-img.npy"), DT_UINT8, shp(3, 3, 2, 3, 0), PIX);
	write_npy(tmp("k-flab.npy"), DT_FLOAT, shp(1, 3, 0, 0, 0), fl);
	c = cfg(FE_DATA_NPY, tmp("k-img.npy"), tmp("k-flab.npy"));
	expect_error(&c, "k-flab.npy", "labels must be integers", NULL);
	write_bytes(tmp("k-bad.npy"), "not numpy at all", 16, 0);
	c = cfg(FE_DATA_NPY, tmp("k-bad.npy"), NULL);
	expect_error(&c, "k-bad.npy", "bad magic", NULL);
}

static void test_err_cifar_truncated(void **state)
{
	(void)state;
	write_cifar(tmp("ct.bin"), 0, 3, 0, 100);
	FeDataConfig c = cfg(FE_DATA_CIFAR10, tmp("ct.bin"), NULL);
	expect_error(&c, "ct.bin", "truncated", "record 3 has 2973 of its 3073 bytes");
	write_bytes(tmp("ct-empty.bin"), "", 0, 0);
	c = cfg(FE_DATA_CIFAR10, tmp("ct-empty.bin"), NULL);
	expect_error(&c, "ct-empty.bin", "empty file", NULL);
}

static void test_err_config_mismatch(void **state)
{
	(void)state;
	write_idx_pair(tmp("x-img"), tmp("x-lab"), 0);
	FeDataConfig c = cfg(FE_DATA_IDX, tmp("x-img"), tmp("x-lab"));
	c.norm.nmean = 2; /* one-channel images */
	expect_error(&c, "x-img", "data.normalize.mean has 2 values", "1 channel(s)");
	/* files of one split whose samples differ */
	write_npy(tmp("x-other.npy"), DT_UINT8, shp(3, 3, 3, 2, 0), PIX);
	write_npy(tmp("x-img.npy"), DT_UINT8, shp(3, 3, 2, 3, 0), PIX);
	c = cfg(FE_DATA_NPY, tmp("x-img.npy"), NULL);
	c.split[FE_SPLIT_TEST].nimages = 2;
	snprintf(c.split[FE_SPLIT_TEST].images[1], FE_PATH_MAX, "%s", tmp("x-other.npy"));
	expect_error(&c, "x-other.npy", "samples are [1,3,2]", "[1,2,3]");
}

/* ---- the real data set (installed by scripts/setup.sh; skipped where absent) ---- */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check_fashion(int split, int64_t n)
{
	FeConfig c;
	fe_config_defaults(&c);
	const char *img = c.data.split[split].images[0];
	if (access(img, R_OK)) {
		print_message("%s absent: skipped\n", img);
		skip();
	}
	FeDataset ds;
	double t0 = now();
	assert_int_equal(fe_dataset_load(&c.data, split, 0, &ds, &D), 0);
	double t1 = now();
	print_message("loaded %lld images of %s in %.3f s\n", (long long)ds.n, img, t1 - t0);
	assert_int_equal(ds.n, n);
	assert_int_equal(ds.nclasses, 10);
	assert_int_equal(ds.sample.rank, 3);
	assert_int_equal(ds.sample.d[0], 1);
	assert_int_equal(ds.sample.d[1], 28);
	assert_int_equal(ds.sample.d[2], 28);
	assert_non_null(ds.y);
	int64_t count[10] = {0};
	for (int64_t i = 0; i < ds.n; i++) {
		assert_in_range(ds.y[i], 0, 9);
		count[ds.y[i]]++;
	}
	for (int k = 0; k < 10; k++) /* Fashion-MNIST is balanced */
		assert_int_equal(count[k], n / 10);
	double sum = 0;
	int64_t total = ds.n * 784;
	float lo = ds.x[0], hi = ds.x[0];
	for (int64_t i = 0; i < total; i++) {
		sum += ds.x[i];
		lo = ds.x[i] < lo ? ds.x[i] : lo;
		hi = ds.x[i] > hi ? ds.x[i] : hi;
	}
	double mean = sum / (double)total;
	print_message("mean after normalization %.4f, range [%.4f, %.4f]\n", mean, lo, hi);
	assert_true(mean > -0.05 && mean < 0.05);
	/* pixel 0 and 255 map to (0 - 0.286) / 0.353 and (1 - 0.286) / 0.353 */
	assert_true(lo > -0.811f && lo < -0.810f);
	assert_true(hi > 2.022f && hi < 2.023f);
	fe_dataset_free(&ds);
}

static void test_fashion_test_split(void **state)
{
	(void)state;
	check_fashion(FE_SPLIT_TEST, 10000);
}

static void test_fashion_train_split(void **state)
{
	(void)state;
	check_fashion(FE_SPLIT_TRAIN, 60000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_idx_raw, setup),
		cmocka_unit_test_setup(test_idx_gzip_and_limit, setup),
		cmocka_unit_test_setup(test_idx_float_int, setup),
		cmocka_unit_test_setup(test_idx_nhwc_channels, setup),
		cmocka_unit_test_setup(test_npy, setup),
		cmocka_unit_test_setup(test_npy_write_header, setup),
		cmocka_unit_test_setup(test_err_npy_huge, setup),
		cmocka_unit_test_setup(test_cifar, setup),
		cmocka_unit_test_setup(test_idx_many_files, setup),
		cmocka_unit_test_setup(test_err_missing, setup),
		cmocka_unit_test_setup(test_err_truncated, setup),
		cmocka_unit_test_setup(test_err_gzip_cut, setup),
		cmocka_unit_test_setup(test_err_idx_huge, setup),
		cmocka_unit_test_setup(test_err_magic, setup),
		cmocka_unit_test_setup(test_err_count_mismatch, setup),
		cmocka_unit_test_setup(test_err_label_range, setup),
		cmocka_unit_test_setup(test_err_npy_kind, setup),
		cmocka_unit_test_setup(test_err_cifar_truncated, setup),
		cmocka_unit_test_setup(test_err_config_mismatch, setup),
		cmocka_unit_test_setup(test_fashion_test_split, setup),
		cmocka_unit_test_setup(test_fashion_train_split, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
