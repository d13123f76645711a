/* tests/tools/dataset.c: data set helpers for the end-to-end tests of compiled models.
 *   dataset dump CONFIG.yaml N X.npy Y.npy   the first N test images (normalized as the
 *                                            config says) and their labels (int32)
 *   dataset pgm CONFIG.yaml I OUT.pgm         test image I as an 8-bit PGM (the config's
 *                                            normalization undone; single-channel sets)
 *   dataset acc SCORES.npy Y.npy             prints "accuracy: 0.XXXX (K/N)" of the
 *                                            scores' argmax, as `sqc eval` does */
#include "frontend/data.h"
#include "frontend/frontend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int dump(const char *cfgpath, long long n, const char *xp, const char *yp)
{
	FeConfig c;
	Diag d;
	diag_init(&d, cfgpath);
	fe_config_defaults(&c);
	FeDataset ds = {0};
	if (fe_config_load(cfgpath, &c, &d) || fe_dataset_load(&c.data, FE_SPLIT_TEST, n, &ds, &d))
		return 1;
	FeTensor x = {DT_FLOAT, {ds.sample.rank + 1, {ds.n}}, ds.x};
	for (int i = 0; i < ds.sample.rank; i++)
		x.shape.d[i + 1] = ds.sample.d[i];
	FeTensor y = {DT_INT32, {1, {ds.n}}, ds.y};
	int rc = fe_npy_write(xp, &x, &d) || (ds.y && fe_npy_write(yp, &y, &d));
	fe_dataset_free(&ds);
	return rc;
}

static int pgm(const char *cfgpath, long long idx, const char *out)
{
	FeConfig c;
	Diag d;
	diag_init(&d, cfgpath);
	fe_config_defaults(&c);
	FeDataset ds = {0};
	if (fe_config_load(cfgpath, &c, &d) || fe_dataset_load(&c.data, FE_SPLIT_TEST, idx + 1, &ds, &d))
		return 1;
	const FeNormalize *nz = &c.data.norm;
	int64_t per = fe_dataset_sample_numel(&ds);
	if (ds.n <= idx || ds.sample.rank != 3 || ds.sample.d[0] != 1) {
		fprintf(stderr, "dataset: no single-channel test image %lld\n", idx);
		return 1;
	}
	FILE *f = fopen(out, "wb");
	if (!f)
		return 1;
	fprintf(f, "P5\n%lld %lld\n255\n", (long long)ds.sample.d[2], (long long)ds.sample.d[1]);
	for (int64_t i = 0; i < per; i++) {
		float v = ds.x[idx * per + i] * nz->std[0] + nz->mean[0];
		long p = lroundf(v / nz->scale);
		fputc((int)(p < 0 ? 0 : p > 255 ? 255 : p), f);
	}
	fe_dataset_free(&ds);
	return fclose(f) ? 1 : 0;
}

static int acc(const char *sp, const char *yp)
{
	Diag d;
	diag_init(&d, sp);
	FeTensor s, y;
	if (fe_tensor_read(sp, &s, &d) || fe_tensor_read(yp, &y, &d))
		return 1;
	int64_t n = ir_shape_numel(&y.shape), k = n ? ir_shape_numel(&s.shape) / n : 0;
	if (s.dtype != DT_FLOAT || y.dtype != DT_INT32 || !n || k * n != ir_shape_numel(&s.shape)) {
		fprintf(stderr, "dataset: %s does not hold float scores for the %lld labels\n", sp,
		        (long long)n);
		return 1;
	}
	const float *sc = s.data;
	const int32_t *lab = y.data;
	int64_t correct = 0;
	for (int64_t i = 0; i < n; i++) {
		int64_t best = 0;
		for (int64_t c = 1; c < k; c++)
			if (sc[i * k + c] > sc[i * k + best])
				best = c;
		correct += best == lab[i];
	}
	printf("accuracy: %.4f (%lld/%lld)\n", (double)correct / (double)n, (long long)correct,
	       (long long)n);
	fe_tensor_free(&s);
	fe_tensor_free(&y);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "dump"))
		return dump(argv[2], atoll(argv[3]), argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "pgm"))
		return pgm(argv[2], atoll(argv[3]), argv[4]);
	if (argc == 4 && !strcmp(argv[1], "acc"))
		return acc(argv[2], argv[3]);
	fprintf(stderr, "usage: dataset dump CONFIG N X.npy Y.npy | dataset acc SCORES.npy Y.npy\n");
	return 2;
}
