/* frontend/data.h: data sets (IDX, NPY, CIFAR-10 binary) and the YAML config that names
 * them. Prefix fe_. Separate from frontend.h so that the data readers and the config can
 * grow without touching the model importer's header.
 *
 * Data root precedence (highest first), applied by the config reader only:
 *   1. the environment variable SQC_DATA_ROOT (when set and non-empty; relative to the
 *      current directory when relative);
 *   2. `data.root` in the YAML file (relative to the config file's folder when relative);
 *   3. the built-in default, the folder of Debian's dataset-fashion-mnist package.
 * Relative data file names in the config are resolved against the chosen root; absolute
 * names are used as they are.
 */
#ifndef SQC_FE_DATA_H
#define SQC_FE_DATA_H

#include "frontend.h"
#include "../passes/sq/config.h"

#define FE_PATH_MAX 1024    /* longest resolved file name in a config */
#define FE_MAX_FILES 8      /* files per split (e.g. the five CIFAR-10 training batches) */
#define FE_MAX_CHANNELS 64  /* longest normalize.mean / normalize.std list */

typedef enum {
	FE_DATA_IDX,     /* MNIST-family IDX files, gzip-compressed or raw */
	FE_DATA_NPY,     /* NumPy .npy: float32 or uint8 images, integer labels */
	FE_DATA_CIFAR10, /* CIFAR-10 binary batches: per record 1 label byte + 3x32x32 bytes */
} FeDataFormat;

/* How a source file orders the channel axis of 4-D images. Rank-3 images ([N,H,W]) have
 * one channel and no layout; CIFAR-10 batches are always channel-planar. */
typedef enum { FE_LAYOUT_NCHW, FE_LAYOUT_NHWC } FeLayout;

enum { FE_SPLIT_TRAIN = 0, FE_SPLIT_TEST = 1 };

/* The files of one split. labels[i] holds the labels of images[i] (same count); with
 * nlabels == 0 the split has no labels. CIFAR-10 batches carry their own labels, so for
 * that format nlabels is always 0 and the labels come from the image files. */
typedef struct {
	int nimages, nlabels;
	char images[FE_MAX_FILES][FE_PATH_MAX];
	char labels[FE_MAX_FILES][FE_PATH_MAX];
} FeDataSplit;

/* Preprocessing of every pixel v of channel c (computed in float, in this order):
 *     x = (v * scale - mean[c]) / std[c]
 * A one-element mean or std applies to every channel; otherwise its length must equal
 * the images' channel count. */
typedef struct {
	double scale;       /* > 0; 1/255 maps uint8 pixels to [0, 1] */
	int nmean, nstd;    /* 1 .. FE_MAX_CHANNELS */
	float mean[FE_MAX_CHANNELS];
	float std[FE_MAX_CHANNELS]; /* each > 0 */
} FeNormalize;

/* The `data:` section. Paths are resolved (root applied) by the config reader. */
typedef struct {
	FeDataFormat format;
	char root[FE_PATH_MAX];     /* the root that was chosen, for messages */
	FeDataSplit split[2];       /* indexed by FE_SPLIT_TRAIN / FE_SPLIT_TEST */
	int nclasses;               /* >= 2; labels must lie in [0, nclasses) */
	FeNormalize norm;
	FeLayout layout;            /* of the source files (the loaded set is always NCHW) */
} FeDataConfig;

/* The `model:` section: provenance of a fixture model, written by the script that trained
 * it. `model.recipe` (any YAML) is documentation for humans and is not kept. */
typedef struct {
	char name[128];     /* "" when absent */
	double accuracy;    /* top-1 on the test split recorded by the trainer; -1 when absent */
} FeModelInfo;

/* A whole config file. Later issues add sections (SQ hyper-parameters, target options);
 * each is one struct here, one parser function in config.c. Plain data: no free needed. */
typedef struct {
	FeDataConfig data;
	FeModelInfo model;
	SqConfig sq;        /* the `sq:` section: SQ's own settings (passes/sq/config.h) */
} FeConfig;

/* A data set in memory after preprocessing. */
typedef struct {
	int64_t n;          /* samples */
	Shape sample;       /* one sample, e.g. [1,28,28] (always C,H,W) */
	float *x;           /* n * numel(sample) floats, NCHW, normalized; malloc'd */
	int32_t *y;         /* n labels in [0, nclasses), or NULL when the set has none */
	int nclasses;
} FeDataset;

/* ---- config.c ---------------------------------------------------------------------- */
/* Fashion-MNIST from the default root (or SQC_DATA_ROOT), both splits, 10 classes,
 * normalization scale 1/255, mean 0.2860, std 0.3530, layout nchw; no model info. */
void fe_config_defaults(FeConfig *c);
/* Reads a YAML config over the defaults. When `data` names a `train` or `test` split, or
 * a format other than idx, the data set is not the default one: a split the file does not
 * name has no files, and the normalization defaults to the identity (scale 1, mean 0,
 * std 1); classes still defaults to 10.
 * Errors ("line N: key.path: message") go to d, whose file the caller sets to path.
 * Returns 0, or -1 with c left in an unspecified state. */
int fe_config_load(const char *path, FeConfig *c, Diag *d);
const char *fe_data_format_name(FeDataFormat f);
/* ---- idx.c ------------------------------------------------------------------------- */
/* Reads an IDX file (gzip-compressed or raw, told apart by content) into t: dtype uint8,
 * int8, int32 (from int16/int32), float or double in host byte order, shape from the
 * header. Reads at most limit entries of the first axis (limit <= 0: all of them, and
 * then the file must end where the header says). *total (may be NULL) receives the
 * header's first dimension. Errors name the file. */
int fe_idx_read(const char *path, int64_t limit, FeTensor *t, int64_t *total, Diag *d);
/* Internal to the data readers: reads up to n bytes from a zlib gzFile in big chunks;
 * returns the bytes read (fewer at the end of the data) or -1 on a stream error. *msg
 * receives zlib's message, without its file name, whenever the stream is in error (after
 * a short read of a truncated gzip stream, and possibly after a full read whose data
 * ends early), else is left alone. */
int64_t fe_gz_read(void *gz, void *buf, size_t n, const char **msg);

/* ---- dataset.c --------------------------------------------------------------------- */
/* Reads a CIFAR-10 binary batch (raw or gzip): images uint8 [n,3,32,32], labels uint8 [n].
 * limit as for fe_idx_read. */
int fe_cifar10_read(const char *path, int64_t limit, FeTensor *images, FeTensor *labels,
                    Diag *d);
/* Loads split FE_SPLIT_TRAIN or FE_SPLIT_TEST: the first `limit` samples (<= 0: all),
 * preprocessed. Checks the files (missing, truncated, bad magic, dtype and rank), image
 * and label counts, and label range. Errors name the file; returns 0 or -1 (out empty). */
int fe_dataset_load(const FeDataConfig *c, int split, int64_t limit, FeDataset *out,
                    Diag *d);
void fe_dataset_free(FeDataset *ds);
/* Floats in one sample. */
int64_t fe_dataset_sample_numel(const FeDataset *ds);

#endif
