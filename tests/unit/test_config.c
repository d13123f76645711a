/* tests/unit/test_config.c: the YAML config reader (frontend/config.c): a valid file, the
 * defaults, the data root precedence, and each kind of error with its line and key path. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/data.h"

/* The temporary folder of the test program and the diagnostics of the running test. */
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
	/* the tests check the data root precedence themselves */
	unsetenv("SQC_DATA_ROOT");
	snprintf(Dir, sizeof Dir, "%s/sqc-cfg-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
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
	unsetenv("SQC_DATA_ROOT");
	return 0;
}

/* Writes text to Dir/name and returns the path (static buffer, one live at a time). */
static const char *write_cfg(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", Dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads text as a config; the Diag is named after the file, as the driver does. */
static int load(const char *text, FeConfig *c)
{
	const char *path = write_cfg("cfg.yaml", text);
	diag_init(&D, path);
	D.out = getenv("SQC_TEST_VERBOSE") ? stderr : NULL; /* to read the messages */
	return fe_config_load(path, c, &D);
}

/* Expects text to fail with "line N: ..." and the given words after it. */
static void expect_error(const char *text, int line, const char *words)
{
	FeConfig c;
	assert_int_equal(load(text, &c), -1);
	assert_int_equal(D.nerrors, 1);
	char want[512];
	snprintf(want, sizeof want, "cfg.yaml: line %d: %s", line, words);
	if (!strstr(D.last, want))
		fail_msg("message '%s' lacks '%s'", D.last, want);
}

static int ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && !strcmp(s + a - b, tail);
}

/* ---- valid files ---- */

static const char EXAMPLE[] =
	"# the example of the design\n"
	"data:\n"
	"  format: idx            # idx | npy | cifar10\n"
	"  root: /srv/fashion/    # optional\n"
	"  train: {images: train-images-idx3-ubyte.gz, labels: train-labels-idx1-ubyte.gz}\n"
	"  test:  {images: t10k-images-idx3-ubyte.gz,  labels: /abs/t10k-labels.gz}\n"
	"  classes: 10\n"
	"  normalize: {scale: 0.00392156862745098, mean: [0.2860], std: [0.3530]}\n"
	"  layout: nchw\n"
	"model:\n"
	"  name: lenet5\n"
	"  accuracy: 0.9012\n"
	"  recipe: {epochs: 15, optimizer: adam, lr: [0.001, 0.0001], notes: anything}\n";

static void test_example(void **state)
{
	(void)state;
	FeConfig c;
	assert_int_equal(load(EXAMPLE, &c), 0);
	assert_int_equal(D.nerrors, 0);
	const FeDataConfig *dc = &c.data;
	assert_int_equal(dc->format, FE_DATA_IDX);
	assert_string_equal(dc->root, "/srv/fashion/");
	assert_int_equal(dc->split[FE_SPLIT_TRAIN].nimages, 1);
	assert_int_equal(dc->split[FE_SPLIT_TRAIN].nlabels, 1);
	assert_string_equal(dc->split[FE_SPLIT_TRAIN].images[0],
	                    "/srv/fashion/train-images-idx3-ubyte.gz");
	assert_string_equal(dc->split[FE_SPLIT_TRAIN].labels[0],
	                    "/srv/fashion/train-labels-idx1-ubyte.gz");
	assert_string_equal(dc->split[FE_SPLIT_TEST].images[0],
	                    "/srv/fashion/t10k-images-idx3-ubyte.gz");
	assert_string_equal(dc->split[FE_SPLIT_TEST].labels[0], "/abs/t10k-labels.gz");
	assert_int_equal(dc->nclasses, 10);
	assert_true(dc->norm.scale == 0.00392156862745098);
	assert_int_equal(dc->norm.nmean, 1);
	assert_int_equal(dc->norm.nstd, 1);
	assert_true(dc->norm.mean[0] == 0.2860f);
	assert_true(dc->norm.std[0] == 0.3530f);
	assert_int_equal(dc->layout, FE_LAYOUT_NCHW);
	assert_string_equal(c.model.name, "lenet5");
	assert_true(c.model.accuracy == 0.9012);
	assert_string_equal(fe_data_format_name(dc->format), "idx");
}

/* No file content, or no data section: Fashion-MNIST from the default root. */
static void test_defaults(void **state)
{
	(void)state;
	FeConfig a, b;
	fe_config_defaults(&a);
	assert_int_equal(load("# nothing\n", &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	assert_int_equal(load("model: {name: x}\n", &b), 0);
	assert_memory_equal(&a.data, &b.data, sizeof a.data);
	assert_true(b.model.accuracy == -1);
	assert_true(a.data.root[0] == '/');
	const FeDataSplit *t = &a.data.split[FE_SPLIT_TEST];
	assert_int_equal(t->nimages, 1);
	assert_int_equal(t->nlabels, 1);
	assert_true(ends_with(t->images[0], "/t10k-images-idx3-ubyte.gz"));
	assert_true(ends_with(t->labels[0], "/t10k-labels-idx1-ubyte.gz"));
	assert_true(!strncmp(t->images[0], a.data.root, strlen(a.data.root)));
	assert_true(ends_with(a.data.split[FE_SPLIT_TRAIN].images[0],
	                      "/train-images-idx3-ubyte.gz"));
	assert_int_equal(a.data.format, FE_DATA_IDX);
	assert_int_equal(a.data.nclasses, 10);
	assert_true(a.data.norm.scale == 1.0 / 255);
	assert_true(a.data.norm.mean[0] == 0.2860f);
	assert_true(a.data.norm.std[0] == 0.3530f);
	assert_string_equal(a.model.name, "");

	/* only the scale given: the default data set keeps its mean and std */
	assert_int_equal(load("data:\n  normalize: {scale: 0.5}\n", &b), 0);
	assert_true(b.data.norm.scale == 0.5);
	assert_true(b.data.norm.mean[0] == 0.2860f);
	assert_string_equal(b.data.split[FE_SPLIT_TEST].images[0], t->images[0]);
}

/* SQC_DATA_ROOT, then data.root (relative to the config's folder), then the default. */
static void test_root_precedence(void **state)
{
	(void)state;
	FeConfig c, dflt;
	fe_config_defaults(&dflt);
	char want[1100];
	/* a relative root is taken from the config file's folder */
	assert_int_equal(load("data: {root: sets/fm}\n", &c), 0);
	snprintf(want, sizeof want, "%s/sets/fm/t10k-images-idx3-ubyte.gz", Dir);
	assert_string_equal(c.data.split[FE_SPLIT_TEST].images[0], want);
	/* the environment wins over data.root and the default */
	setenv("SQC_DATA_ROOT", "/from/env", 1);
	assert_int_equal(load("data: {root: /from/yaml}\n", &c), 0);
	assert_string_equal(c.data.root, "/from/env");
	assert_string_equal(c.data.split[FE_SPLIT_TRAIN].labels[0],
	                    "/from/env/train-labels-idx1-ubyte.gz");
	fe_config_defaults(&c);
	assert_string_equal(c.data.split[FE_SPLIT_TEST].images[0],
	                    "/from/env/t10k-images-idx3-ubyte.gz");
	/* an empty variable counts as unset */
	setenv("SQC_DATA_ROOT", "", 1);
	assert_int_equal(load("data: {root: /from/yaml}\n", &c), 0);
	assert_string_equal(c.data.root, "/from/yaml");
	unsetenv("SQC_DATA_ROOT");
	assert_int_equal(load("data: {format: idx}\n", &c), 0);
	assert_string_equal(c.data.root, dflt.data.root);
}

/* A data set of its own: lists of files, no Fashion-MNIST leftovers. */
static void test_custom_set(void **state)
{
	(void)state;
	FeConfig c;
	assert_int_equal(load("data:\n"
	                      "  format: cifar10\n"
	                      "  root: /c10\n"
	                      "  train:\n"
	                      "    images: [data_batch_1.bin, data_batch_2.bin, data_batch_3.bin,\n"
	                      "             data_batch_4.bin, data_batch_5.bin]\n"
	                      "  test: {images: test_batch.bin}\n"
	                      "  normalize:\n"
	                      "    scale: 0.00392156862745098\n"
	                      "    mean: [0.4914, 0.4822, 0.4465]\n"
	                      "    std: [0.2470, 0.2435, 0.2616]\n",
	                      &c), 0);
	assert_int_equal(c.data.format, FE_DATA_CIFAR10);
	assert_int_equal(c.data.split[FE_SPLIT_TRAIN].nimages, 5);
	assert_int_equal(c.data.split[FE_SPLIT_TRAIN].nlabels, 0);
	assert_string_equal(c.data.split[FE_SPLIT_TRAIN].images[4], "/c10/data_batch_5.bin");
	assert_string_equal(c.data.split[FE_SPLIT_TEST].images[0], "/c10/test_batch.bin");
	assert_int_equal(c.data.norm.nmean, 3);
	assert_true(c.data.norm.mean[2] == 0.4465f);
	assert_true(c.data.norm.std[1] == 0.2435f);

	/* a test split only, without normalization: identity, no train files, no labels */
	assert_int_equal(load("data:\n  format: npy\n  test: {images: x.npy}\n  classes: 3\n"
	                      "  layout: nhwc\n", &c), 0);
	assert_int_equal(c.data.split[FE_SPLIT_TRAIN].nimages, 0);
	assert_int_equal(c.data.split[FE_SPLIT_TEST].nlabels, 0);
	assert_true(c.data.norm.scale == 1);
	assert_true(c.data.norm.mean[0] == 0);
	assert_true(c.data.norm.std[0] == 1);
	assert_int_equal(c.data.nclasses, 3);
	assert_int_equal(c.data.layout, FE_LAYOUT_NHWC);
	assert_true(ends_with(c.data.split[FE_SPLIT_TEST].images[0], "/x.npy"));
	/* another format alone drops the Fashion-MNIST files and normalization too */
	assert_int_equal(load("data: {format: cifar10}\n", &c), 0);
	assert_int_equal(c.data.split[FE_SPLIT_TEST].nimages, 0);
	assert_int_equal(c.data.split[FE_SPLIT_TRAIN].nlabels, 0);
	assert_true(c.data.norm.scale == 1);
	/* a single number for mean and std */
	assert_int_equal(load("data:\n  normalize: {mean: -1.5, std: 2}\n", &c), 0);
	assert_true(c.data.norm.mean[0] == -1.5f);
	assert_true(c.data.norm.std[0] == 2);
}

/* ---- errors: line and key path ---- */

static void test_err_types(void **state)
{
	(void)state;
	/* the example of the design, line 7 */
	expect_error("data:\n"
	             "  format: idx\n"
	             "  train: {images: a.gz}\n"
	             "  classes: 10\n"
	             "  normalize:\n"
	             "    scale: 0.5\n"
	             "    std: abc\n",
	             7, "data.normalize.std: expected a positive number, got 'abc'");
	expect_error("data:\n  classes: ten\n", 2,
	             "data.classes: expected an integer in [2, 16777216], got 'ten'");
	expect_error("data:\n  classes: 2.5\n", 2, "data.classes: expected an integer");
	expect_error("data:\n  normalize:\n    mean: [0.1, x]\n", 3,
	             "data.normalize.mean[1]: expected a number, got 'x'");
	expect_error("data:\n  normalize: {scale: [1]}\n", 2,
	             "data.normalize.scale: expected a positive number, got a list");
	expect_error("data:\n  train: a.gz\n", 2, "data.train: expected a mapping, got 'a.gz'");
	expect_error("data:\n  train:\n", 2, "data.train: expected a mapping, got nothing");
	expect_error("data:\n  test:\n    images: {a: 1}\n", 3,
	             "data.test.images: expected a file name or a list of them, got a mapping");
	expect_error("data:\n  format: mnist\n", 2,
	             "data.format: expected one of idx, npy, cifar10, got 'mnist'");
	expect_error("data:\n  layout: chw\n", 2, "data.layout: expected one of nchw, nhwc");
	expect_error("model: {accuracy: high}\n", 1, "model.accuracy: expected a number in [0, 1]");
	expect_error("- data\n- model\n", 1, "expected a mapping of sections");
	expect_error("data: 3\n", 1, "data: expected a mapping, got '3'");
}

static void test_err_range(void **state)
{
	(void)state;
	expect_error("data:\n  normalize:\n    std: [0.3, -0.5]\n", 3,
	             "data.normalize.std[1]: expected a positive number, got '-0.5'");
	expect_error("data:\n  normalize:\n    std: 0\n", 3, "data.normalize.std: expected a "
	             "positive number, got '0'");
	expect_error("data:\n\n  normalize: {scale: 0}\n", 3,
	             "data.normalize.scale: expected a positive number, got '0'");
	expect_error("data:\n  normalize: {scale: -0.1}\n", 2, "data.normalize.scale");
	expect_error("data:\n  normalize: {scale: .nan}\n", 2, "data.normalize.scale");
	expect_error("data:\n  normalize: {mean: inf}\n", 2, "data.normalize.mean: expected a "
	             "number, got 'inf'");
	expect_error("data:\n  classes: 1\n", 2, "data.classes: expected an integer in [2, ");
	expect_error("data:\n  classes: -3\n", 2, "data.classes");
	expect_error("model:\n  accuracy: 1.5\n", 2, "model.accuracy: expected a number in [0, 1], "
	             "got '1.5'");
	expect_error("data:\n  normalize: {mean: []}\n", 2, "data.normalize.mean: expected 1 to 64 "
	             "values, got 0");
	expect_error("data:\n  train: {images: [a, b, c, d, e, f, g, h, i]}\n", 2,
	             "data.train.images: expected 1 to 8 file names, got 9");
}

static void test_err_keys(void **state)
{
	(void)state;
	expect_error("data:\n  format: idx\nfoo:\n  lr: 1\n", 3,
	             "foo: unknown key (expected one of: data, model, sq)");
	expect_error("sq:\n  lr: 1\n  epoch: 3\n", 3, "sq.epoch: unknown key");
	expect_error("data:\n  normalize:\n    scale: 1\n    stdev: 2\n", 4,
	             "data.normalize.stdev: unknown key (expected one of: scale, mean, std)");
	expect_error("data:\n  test: {images: a, label: b}\n", 2, "data.test.label: unknown key");
	expect_error("model:\n  acc: 0.9\n", 2, "model.acc: unknown key");
	expect_error("data:\n  classes: 10\n  classes: 11\n", 3,
	             "data: duplicate key 'classes' (first on line 2)");
	expect_error("data:\n  test: {labels: l.gz}\n", 2, "data.test: missing key 'images'");
	expect_error("data:\n  ? [a, b]\n  : 1\n", 2, "data: keys must be names");
}

/* The sq: section: values land in SqConfig; bad ones name the key and line. */
static void test_sq_section(void **state)
{
	(void)state;
	FeConfig c;
	assert_int_equal(load("sq:\n  method: twn\n  act_bits: 8\n  epochs: 5\n  lr: 0.01\n"
	                      "  optimizer: sgd\n  schedule: step\n  lambda: 0.5\n  gamma: 2\n"
	                      "  p: 2\n  keep_float: [first, last]\n  bn: frozen\n"
	                      "  train_limit: 1000\n  seed: 7\n", &c), 0);
	assert_int_equal(c.sq.method, SQ_Q_TWN);
	assert_int_equal(c.sq.act_bits, 8);
	assert_int_equal(c.sq.epochs, 5);
	assert_true(c.sq.lr == 0.01);
	assert_int_equal(c.sq.optimizer, SQ_OPT_SGD);
	assert_int_equal(c.sq.schedule, SQ_LR_STEP);
	assert_true(c.sq.lambda == 0.5 && c.sq.gamma == 2);
	assert_int_equal(c.sq.p, 2);
	assert_int_equal(c.sq.nkeep, 2);
	assert_string_equal(c.sq.keep_float[1], "last");
	assert_int_equal(c.sq.bn, SQ_BN_FROZEN);
	assert_int_equal(c.sq.train_limit, 1000);
	assert_int_equal(c.sq.seed, 7);
	/* defaults survive when the section is absent */
	assert_int_equal(load("data:\n  classes: 10\n", &c), 0);
	assert_int_equal(c.sq.method, SQ_Q_SQ);
	assert_int_equal(c.sq.act_bits, 8);
	/* lambda and gamma default by balance; set values win */
	assert_int_equal(c.sq.balance, 1);
	assert_true(sq_config_lambda(&c.sq) == 0.3 && sq_config_gamma(&c.sq) == 0.04);
	assert_int_equal(load("sq:\n  balance: count\n", &c), 0);
	assert_int_equal(c.sq.balance, 0);
	assert_true(sq_config_lambda(&c.sq) == 100 && sq_config_gamma(&c.sq) == 1);
	assert_int_equal(load("sq:\n  balance: count\n  lambda: 0\n  gamma: 3\n", &c), 0);
	assert_true(sq_config_lambda(&c.sq) == 0 && sq_config_gamma(&c.sq) == 3);
	expect_error("sq:\n  balance: size\n", 2, "sq.balance: expected one of count, gradient");
	expect_error("sq:\n  act_bits: 12\n", 2, "sq.act_bits: expected 1 to 8, or 32");
	expect_error("sq:\n  method: ternary\n", 2, "sq.method: expected one of sq, twn, bwn, bc, none");
	expect_error("sq:\n  lr: -1\n", 2, "sq.lr: expected a positive number, got '-1'");
	expect_error("sq:\n  p: 3\n", 2, "sq.p: expected an integer in [1, 2], got '3'");
	expect_error("sq:\n  lambda: -0.1\n", 2, "sq.lambda: expected a non-negative number");
	expect_error("sq:\n  keep_float: first\n", 2, "sq.keep_float: expected a list");
	expect_error("sq:\n  train_limit: 2.5\n", 2, "sq.train_limit: expected a non-negative integer");
	assert_int_equal(sq_method_parse("bwn"), SQ_Q_BWN);
	assert_int_equal(sq_method_parse("x"), -1);
	assert_string_equal(sq_method_name(SQ_Q_BC), "bc");
}

/* Numbers past what their field holds (issue 12): a count at or past 2^63 (its conversion
 * to int64_t was undefined: UBSan on train_limit: 4e107), normalization values outside
 * float's range (an infinity, or a positive std or scale that rounds to 0). */
static void test_err_number_range(void **state)
{
	(void)state;
	FeConfig c;
	expect_error("sq:\n  train_limit: 4e107\n", 2,
	             "sq.train_limit: expected a non-negative integer below 2^63, got '4e107'");
	expect_error("sq:\n  train_limit: 9223372036854775808\n", 2,
	             "sq.train_limit: expected a non-negative integer below 2^63");
	assert_int_equal(load("sq:\n  train_limit: 9.2e18\n", &c), 0);
	assert_int_equal(c.sq.train_limit, 9200000000000000000);
	expect_error("data:\n  normalize:\n    mean: [0, 1e39]\n", 3,
	             "data.normalize.mean[1]: expected a number within float range");
	expect_error("data:\n  normalize:\n    std: 1e-50\n", 3,
	             "data.normalize.std: expected a number within float range");
	expect_error("data:\n  normalize:\n    scale: 1e300\n", 3,
	             "data.normalize.scale: expected a number within float range");
	assert_int_equal(load("data:\n  normalize:\n    mean: -3e38\n    std: 1e-40\n", &c), 0);
	assert_true(c.data.norm.mean[0] == -3e38f && c.data.norm.std[0] > 0);
}

static void test_err_cross(void **state)
{
	(void)state;
	expect_error("data:\n  format: cifar10\n  test:\n    images: t.bin\n    labels: t.lab\n", 5,
	             "data.test.labels: cifar10 batches carry their own labels");
	expect_error("data:\n  format: cifar10\n  layout: nhwc\n", 3,
	             "data.layout: cifar10 batches are channel-planar");
	expect_error("data:\n  train:\n    images: [a, b]\n    labels: la\n", 4,
	             "data.train.labels: 1 label files for 2 image files");
	char longname[1200];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	char text[1400];
	snprintf(text, sizeof text, "data:\n  test: {images: %s}\n", longname);
	expect_error(text, 2, "data.test.images: too long");
	snprintf(text, sizeof text, "data:\n  root: /r\n  test: {images: %.1022s}\n", longname);
	expect_error(text, 3, "data.test: path too long");
}

static void test_err_syntax(void **state)
{
	(void)state;
	expect_error("data:\n  format: idx\n  test: {images: a\n  classes: 3\n", 4,
	             "YAML syntax error");
	expect_error("data:\n  format: idx\n    bad: indent\n", 3, "YAML syntax error");
	expect_error("data: {format: idx}\n---\nmodel: {}\n", 3, "more than one YAML document");
	/* a missing file */
	FeConfig c;
	char path[600];
	snprintf(path, sizeof path, "%s/missing.yaml", Dir);
	diag_init(&D, path);
	D.out = NULL;
	assert_int_equal(fe_config_load(path, &c, &D), -1);
	assert_non_null(strstr(D.last, "missing.yaml: cannot open: No such file"));
}

/* The data set of a config loads end to end (a tiny NPY set next to the config). */
static void test_config_to_dataset(void **state)
{
	(void)state;
	const uint8_t px[8] = {0, 51, 102, 153, 204, 255, 10, 20};
	const int64_t lab[2] = {1, 0};
	char path[600];
	Diag d;
	diag_init(&d, NULL);
	d.out = NULL;
	snprintf(path, sizeof path, "%s/sets", Dir);
	mkdir(path, 0777);
	snprintf(path, sizeof path, "%s/sets/img.npy", Dir);
	FeTensor t = {.dtype = DT_UINT8, .shape = {.rank = 3, .d = {2, 2, 2}}, .data = (void *)px};
	assert_int_equal(fe_npy_write(path, &t, &d), 0);
	snprintf(path, sizeof path, "%s/sets/lab.npy", Dir);
	t = (FeTensor){.dtype = DT_INT64, .shape = {.rank = 1, .d = {2}}, .data = (void *)lab};
	assert_int_equal(fe_npy_write(path, &t, &d), 0);
	FeConfig c;
	assert_int_equal(load("data:\n  format: npy\n  root: sets\n"
	                      "  test: {images: img.npy, labels: lab.npy}\n  classes: 2\n"
	                      "  normalize: {scale: 0.00392156862745098, mean: 0.5, std: 0.5}\n",
	                      &c), 0);
	FeDataset ds;
	assert_int_equal(fe_dataset_load(&c.data, FE_SPLIT_TEST, 0, &ds, &D), 0);
	assert_int_equal(ds.n, 2);
	assert_int_equal(ds.nclasses, 2);
	assert_true(ds.x[0] == -1.0f);
	assert_true(ds.x[5] == 1.0f); /* 255 */
	assert_true(ds.x[2] > -0.21f && ds.x[2] < -0.19f); /* 102 / 255 = 0.4 -> -0.2 */
	assert_int_equal(ds.y[0], 1);
	assert_int_equal(ds.y[1], 0);
	fe_dataset_free(&ds);
	/* the train split is not configured */
	assert_int_equal(fe_dataset_load(&c.data, FE_SPLIT_TRAIN, 0, &ds, &D), -1);
	assert_non_null(strstr(D.last, "no train images configured"));
}

/* Every config committed in models/ reads without error and names a test split. */
static void test_models_configs(void **state)
{
	(void)state;
	glob_t g;
	if (glob(SQC_SOURCE_DIR "/models/*.yaml", 0, NULL, &g)) {
		print_message("no models/*.yaml: skipped\n");
		skip();
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FeConfig c;
		diag_init(&D, g.gl_pathv[i]);
		D.out = stderr;
		if (fe_config_load(g.gl_pathv[i], &c, &D))
			fail_msg("%s", D.last);
		assert_true(c.data.split[FE_SPLIT_TEST].nimages > 0);
		assert_true(c.data.nclasses >= 2);
	}
	print_message("%zu configs read\n", g.gl_pathc);
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_example, setup),
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_root_precedence, setup),
		cmocka_unit_test_setup(test_custom_set, setup),
		cmocka_unit_test_setup(test_err_types, setup),
		cmocka_unit_test_setup(test_err_range, setup),
		cmocka_unit_test_setup(test_err_keys, setup),
		cmocka_unit_test_setup(test_sq_section, setup),
		cmocka_unit_test_setup(test_err_number_range, setup),
		cmocka_unit_test_setup(test_err_cross, setup),
		cmocka_unit_test_setup(test_err_syntax, setup),
		cmocka_unit_test_setup(test_config_to_dataset, setup),
		cmocka_unit_test_setup(test_models_configs, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
