/* frontend/dataset.c: data sets in memory. Reads the files of one split (IDX, NPY or
 * CIFAR-10 binary batches), checks them, and converts the images to normalized NCHW
 * floats and the labels to int32. */
#include "data.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define CIFAR_PIXELS 3072                 /* 3 x 32 x 32, channel-planar */
#define CIFAR_RECORD (1 + CIFAR_PIXELS)   /* label byte, then the pixels */
#define CIFAR_CHUNK 1024                  /* records per read */

void fe_dataset_free(FeDataset *ds)
{
	free(ds->x);
	free(ds->y);
	memset(ds, 0, sizeof *ds);
}

int64_t fe_dataset_sample_numel(const FeDataset *ds)
{
	return ir_shape_numel(&ds->sample);
}

/* An error about one file: the Diag names path instead of its own file. */
__attribute__((format(printf, 3, 4))) static int file_error(Diag *d, const char *path,
                                                            const char *fmt, ...)
{
	const char *saved = d->file;
	d->file = path;
	va_list ap;
	va_start(ap, fmt);
	diag_verror(d, NULL, fmt, ap);
	va_end(ap);
	d->file = saved;
	return -1;
}

static int cifar_read(gzFile f, int64_t limit, FeTensor *images, FeTensor *labels, Diag *d)
{
	unsigned char *buf = xmalloc((size_t)CIFAR_CHUNK * CIFAR_RECORD);
	unsigned char *img = NULL, *lab = NULL;
	int64_t n = 0, cap = 0;
	int rc = -1;
	for (;;) {
		int64_t want = CIFAR_CHUNK;
		if (limit > 0 && limit - n < want)
			want = limit - n;
		if (want == 0)
			break;
		const char *zmsg = NULL;
		int64_t r = fe_gz_read(f, buf, (size_t)want * CIFAR_RECORD, &zmsg);
		if (r < 0) {
			diag_error(d, NULL, "corrupt gzip stream: %s", zmsg);
			goto out;
		}
		int64_t recs = r / CIFAR_RECORD;
		if (n + recs > cap) {
			cap = cap ? 2 * cap : 4 * CIFAR_CHUNK;
			if (cap < n + recs)
				cap = n + recs;
			img = xrealloc(img, (size_t)cap * CIFAR_PIXELS);
			lab = xrealloc(lab, (size_t)cap);
		}
		for (int64_t i = 0; i < recs; i++) {
			lab[n + i] = buf[i * CIFAR_RECORD];
			memcpy(img + (n + i) * CIFAR_PIXELS, buf + i * CIFAR_RECORD + 1, CIFAR_PIXELS);
		}
		n += recs;
		if (r % CIFAR_RECORD) {
			diag_error(d, NULL, "truncated file: record %lld has %lld of its %d bytes (a "
			           "CIFAR-10 binary batch is a sequence of 1 label byte + 3072 pixel "
			           "bytes)", (long long)n + 1, (long long)(r % CIFAR_RECORD), CIFAR_RECORD);
			goto out;
		}
		if (r < want * CIFAR_RECORD) {
			/* the end of the data; zlib complains here about a stream cut short */
			if (zmsg) {
				diag_error(d, NULL, "corrupt or truncated gzip stream: %s", zmsg);
				goto out;
			}
			break;
		}
	}
	if (n == 0) {
		diag_error(d, NULL, "empty file (not a CIFAR-10 binary batch)");
		goto out;
	}
	images->dtype = DT_UINT8;
	images->shape = (Shape){.rank = 4, .d = {n, 3, 32, 32}};
	images->data = img;
	labels->dtype = DT_UINT8;
	labels->shape = (Shape){.rank = 1, .d = {n}};
	labels->data = lab;
	img = lab = NULL;
	rc = 0;
out:
	free(buf);
	free(img);
	free(lab);
	return rc;
}

int fe_cifar10_read(const char *path, int64_t limit, FeTensor *images, FeTensor *labels,
                    Diag *d)
{
	memset(images, 0, sizeof *images);
	memset(labels, 0, sizeof *labels);
	const char *saved = d->file;
	d->file = path;
	int rc;
	errno = 0;
	gzFile f = gzopen(path, "rb");
	if (!f) {
		rc = diag_error(d, NULL, "cannot open: %s", errno ? strerror(errno) : "out of memory");
	} else {
		gzbuffer(f, 1 << 20);
		rc = cifar_read(f, limit, images, labels, d);
		gzclose(f);
	}
	d->file = saved;
	return rc;
}

/* The sample shape (C,H,W) of an image tensor, and whether its channels are last. */
static int image_geometry(const FeTensor *t, FeLayout layout, const char *path, Shape *s,
                          int *nhwc, Diag *d)
{
	char sh[96];
	if (t->dtype != DT_UINT8 && t->dtype != DT_FLOAT)
		return file_error(d, path, "images must be float32 or uint8, not %s",
		                  ir_dtype_name(t->dtype));
	*nhwc = 0;
	if (t->shape.rank == 3) {
		*s = (Shape){.rank = 3, .d = {1, t->shape.d[1], t->shape.d[2]}};
	} else if (t->shape.rank == 4 && layout == FE_LAYOUT_NHWC) {
		*s = (Shape){.rank = 3, .d = {t->shape.d[3], t->shape.d[1], t->shape.d[2]}};
		*nhwc = 1;
	} else if (t->shape.rank == 4) {
		*s = (Shape){.rank = 3, .d = {t->shape.d[1], t->shape.d[2], t->shape.d[3]}};
	} else {
		return file_error(d, path, "images must have rank 3 [N,H,W] or 4 [N,C,H,W] / "
		                  "[N,H,W,C], got %s", ir_shape_str(&t->shape, sh, sizeof sh));
	}
	if (t->shape.d[0] == 0 || ir_shape_numel(s) <= 0)
		return file_error(d, path, "no images (shape %s)",
		                  ir_shape_str(&t->shape, sh, sizeof sh));
	return 0;
}

/* Converts count samples of t (uint8 or float32, C,H,W or H,W,C) into normalized NCHW
 * floats: x = (v * scale - mean[c]) / std[c], in float. uint8 goes through a table per
 * channel holding exactly that expression for each of the 256 values. */
static void convert_images(const FeTensor *t, int64_t count, const Shape *s, int nhwc,
                           const FeNormalize *nm, float *dst)
{
	const int64_t C = s->d[0], HW = s->d[1] * s->d[2], per = C * HW;
	const float scale = (float)nm->scale;
	if (t->dtype == DT_UINT8) {
		float *lut = xmalloc(sizeof(float) * 256 * (size_t)C);
		for (int64_t c = 0; c < C; c++) {
			float m = nm->mean[nm->nmean == 1 ? 0 : c], sd = nm->std[nm->nstd == 1 ? 0 : c];
			for (int v = 0; v < 256; v++)
				lut[c * 256 + v] = ((float)v * scale - m) / sd;
		}
		const uint8_t *src = t->data;
		for (int64_t i = 0; i < count; i++, src += per, dst += per)
			for (int64_t c = 0; c < C; c++) {
				const float *l = lut + c * 256;
				float *o = dst + c * HW;
				if (nhwc)
					for (int64_t p = 0; p < HW; p++)
						o[p] = l[src[p * C + c]];
				else
					for (int64_t p = 0; p < HW; p++)
						o[p] = l[src[c * HW + p]];
			}
		free(lut);
		return;
	}
	const float *src = t->data;
	for (int64_t i = 0; i < count; i++, src += per, dst += per)
		for (int64_t c = 0; c < C; c++) {
			float m = nm->mean[nm->nmean == 1 ? 0 : c], sd = nm->std[nm->nstd == 1 ? 0 : c];
			float *o = dst + c * HW;
			if (nhwc)
				for (int64_t p = 0; p < HW; p++)
					o[p] = (src[p * C + c] * scale - m) / sd;
			else
				for (int64_t p = 0; p < HW; p++)
					o[p] = (src[c * HW + p] * scale - m) / sd;
		}
}

/* Copies count labels of t (an integer vector, or [N,1]) into dst, checking the range. */
static int convert_labels(const FeTensor *t, int64_t count, int nclasses, const char *path,
                          int32_t *dst, Diag *d)
{
	char sh[96];
	if (!(t->shape.rank == 1 || (t->shape.rank == 2 && t->shape.d[1] == 1)))
		return file_error(d, path, "labels must be a vector [N] (or [N,1]), got %s",
		                  ir_shape_str(&t->shape, sh, sizeof sh));
	for (int64_t i = 0; i < count; i++) {
		int64_t v;
		switch (t->dtype) {
		case DT_UINT8: v = ((const uint8_t *)t->data)[i]; break;
		case DT_INT8: v = ((const int8_t *)t->data)[i]; break;
		case DT_INT32: v = ((const int32_t *)t->data)[i]; break;
		case DT_INT64: v = ((const int64_t *)t->data)[i]; break;
		default:
			return file_error(d, path, "labels must be integers (uint8, int8, int32 or "
			                  "int64), not %s", ir_dtype_name(t->dtype));
		}
		if (v < 0 || v >= nclasses)
			return file_error(d, path, "label %lld at index %lld is out of range [0, %d) "
			                  "(data.classes is %d)", (long long)v, (long long)i, nclasses,
			                  nclasses);
		dst[i] = (int32_t)v;
	}
	return 0;
}

/* Appends the first `take` samples of one image file (and its labels) to out. */
static int append(FeDataset *out, const FeDataConfig *c, const FeTensor *img,
                  const char *ipath, FeLayout layout, const FeTensor *lab, const char *lpath,
                  int64_t take, Diag *d)
{
	Shape s;
	int nhwc = 0;
	char a[96], b[96];
	if (image_geometry(img, layout, ipath, &s, &nhwc, d))
		return -1;
	if (out->n > 0 && !ir_shape_eq(&s, &out->sample))
		return file_error(d, ipath, "samples are %s, the earlier files' are %s",
		                  ir_shape_str(&s, a, sizeof a),
		                  ir_shape_str(&out->sample, b, sizeof b));
	int64_t C = s.d[0];
	if (c->norm.nmean != 1 && c->norm.nmean != C)
		return file_error(d, ipath, "data.normalize.mean has %d values but the images have "
		                  "%lld channel(s): give one per channel, or one for all",
		                  c->norm.nmean, (long long)C);
	if (c->norm.nstd != 1 && c->norm.nstd != C)
		return file_error(d, ipath, "data.normalize.std has %d values but the images have "
		                  "%lld channel(s): give one per channel, or one for all",
		                  c->norm.nstd, (long long)C);
	int64_t per = ir_shape_numel(&s), n = out->n + take, total;
	if (per <= 0 || ir_mul64(n, per, &total) || total > INT64_MAX / (int64_t)sizeof(float))
		return file_error(d, ipath, "data set too large");
	if (lab) {
		int32_t *y = xrealloc(out->y, sizeof(int32_t) * (size_t)n + 1);
		out->y = y;
		if (convert_labels(lab, take, c->nclasses, lpath, y + out->n, d))
			return -1;
	}
	out->x = xrealloc(out->x, sizeof(float) * (size_t)total);
	convert_images(img, take, &s, nhwc, &c->norm, out->x + out->n * per);
	out->sample = s;
	out->n = n;
	return 0;
}

static const char *split_name(int split)
{
	return split == FE_SPLIT_TRAIN ? "train" : "test";
}

/* Loads image file i of split s (and its labels) into out. */
static int load_file(const FeDataConfig *c, const FeDataSplit *s, int i, int64_t want,
                     FeDataset *out, Diag *d)
{
	FeTensor img = {0}, lab = {0};
	int has_labels = c->format == FE_DATA_CIFAR10 || s->nlabels > 0;
	const char *ipath = s->images[i];
	const char *lpath = c->format == FE_DATA_CIFAR10 ? ipath : s->labels[i];
	FeLayout layout = c->layout;
	int64_t ni = 0, nl = 0;
	int rc = -1;
	switch (c->format) {
	case FE_DATA_IDX:
		if (fe_idx_read(ipath, want, &img, &ni, d))
			goto out;
		if (has_labels && fe_idx_read(lpath, want, &lab, &nl, d))
			goto out;
		break;
	case FE_DATA_NPY: {
		const char *saved = d->file;
		d->file = ipath;
		int r = fe_npy_read(ipath, &img, d);
		if (!r && has_labels) {
			d->file = lpath;
			r = fe_npy_read(lpath, &lab, d);
		}
		d->file = saved;
		if (r)
			goto out;
		ni = img.shape.rank > 0 ? img.shape.d[0] : 0;
		nl = lab.shape.rank > 0 ? lab.shape.d[0] : 0;
		break;
	}
	case FE_DATA_CIFAR10:
		if (fe_cifar10_read(ipath, want, &img, &lab, d))
			goto out;
		ni = nl = img.shape.d[0];
		layout = FE_LAYOUT_NCHW;
		break;
	}
	if (has_labels && ni != nl) {
		file_error(d, lpath, "image/label count mismatch: %lld labels for the %lld images "
		           "of %s", (long long)nl, (long long)ni, ipath);
		goto out;
	}
	if (img.shape.rank < 1) {
		file_error(d, ipath, "images must have rank 3 or 4, got a scalar");
		goto out;
	}
	int64_t take = img.shape.d[0];
	if (want > 0 && want < take)
		take = want;
	rc = append(out, c, &img, ipath, layout, has_labels ? &lab : NULL, lpath, take, d);
out:
	fe_tensor_free(&img);
	fe_tensor_free(&lab);
	return rc;
}

int fe_dataset_load(const FeDataConfig *c, int split, int64_t limit, FeDataset *out,
                    Diag *d)
{
	assert(split == FE_SPLIT_TRAIN || split == FE_SPLIT_TEST);
	memset(out, 0, sizeof *out);
	const FeDataSplit *s = &c->split[split];
	const char *name = split_name(split);
	if (s->nimages <= 0)
		return diag_error(d, NULL, "no %s images configured (data.%s.images)", name, name);
	if (c->nclasses < 2)
		return diag_error(d, NULL, "data.classes must be at least 2, got %d", c->nclasses);
	if (c->format == FE_DATA_CIFAR10 && s->nlabels)
		return diag_error(d, NULL, "data.%s.labels: cifar10 batches carry their own labels",
		                  name);
	if (s->nlabels && s->nlabels != s->nimages)
		return diag_error(d, NULL, "data.%s: %d label files for %d image files", name,
		                  s->nlabels, s->nimages);
	out->nclasses = c->nclasses;
	for (int i = 0; i < s->nimages; i++) {
		int64_t want = limit > 0 ? limit - out->n : 0;
		if (limit > 0 && want <= 0)
			break;
		if (load_file(c, s, i, want, out, d)) {
			fe_dataset_free(out);
			return -1;
		}
	}
	return 0;
}
