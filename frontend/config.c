/* frontend/config.c: the YAML config file (libyaml, document API).
 *
 * Schema (every key optional; unknown keys, wrong types and out-of-range values are
 * errors "line N: key.path: message"):
 *
 *   data:
 *     format: idx | npy | cifar10
 *     root: FOLDER                     # see the precedence in data.h
 *     train: {images: FILE | [FILE, ...], labels: FILE | [FILE, ...]}   # labels optional
 *     test:  {images: ..., labels: ...}
 *     classes: INT >= 2
 *     normalize: {scale: NUM > 0, mean: NUM | [NUM, ...], std: NUM > 0 | [NUM > 0, ...]}
 *     layout: nchw | nhwc              # of the source files
 *   model:                             # provenance of a fixture model
 *     name: TEXT
 *     accuracy: NUM in [0, 1]          # test top-1 recorded by the trainer
 *     recipe: ANY                      # for humans, not read
 *
 * Later issues add sections (SQ hyper-parameters, target options): one entry in
 * top_keys, one parse function, one struct in FeConfig.
 */
#include "data.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The built-in data root: where Debian's dataset-fashion-mnist installs. The only place
 * the folder is named; everything else gets it from the config. */
#define FE_DEFAULT_DATA_ROOT "/usr/share/datasets/fashion-mnist"

/* Fashion-MNIST file names, [split][0 images, 1 labels]. */
static const char *const fashion_files[2][2] = {
	{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
	{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
};

/* Names in the YAML, indexed by the enums' values. */
static const char *const format_names[] = {"idx", "npy", "cifar10"};
static const char *const layout_names[] = {"nchw", "nhwc"};
_Static_assert(countof(format_names) == FE_DATA_CIFAR10 + 1, "one name per format");
_Static_assert(countof(layout_names) == FE_LAYOUT_NHWC + 1, "one name per layout");

const char *fe_data_format_name(FeDataFormat f)
{
	return (unsigned)f < countof(format_names) ? format_names[f] : "?";
}

/* One config file being read. */
typedef struct {
	yaml_document_t doc;
	const char *path;
	Diag *d;
} Parser;

/* What the data section gave, for the defaults and checks applied after parsing. Lines
 * are 1-based, 0 when the key is absent. */
typedef struct {
	int split_line[2];
	int labels_line[2];
	int layout_line;
	int scale_given, mean_given, std_given;
	char root[FE_PATH_MAX];     /* data.root, made relative to the config's folder */
} DataSeen;

/* ---- defaults and paths -------------------------------------------------------------- */

/* Joins root and name into out unless name is absolute. Returns -1 when it does not fit. */
static int join_path(char *out, const char *root, const char *name)
{
	char tmp[FE_PATH_MAX];
	int n;
	if (name[0] == '/' || !root[0])
		n = snprintf(tmp, sizeof tmp, "%s", name);
	else
		n = snprintf(tmp, sizeof tmp, "%s%s%s", root,
		             root[strlen(root) - 1] == '/' ? "" : "/", name);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	memcpy(out, tmp, (size_t)n + 1);
	return 0;
}

/* The default config with file names not yet resolved against a root. */
static void defaults_raw(FeConfig *c)
{
	memset(c, 0, sizeof *c);
	FeDataConfig *dc = &c->data;
	dc->format = FE_DATA_IDX;
	for (int s = 0; s < 2; s++) {
		dc->split[s].nimages = dc->split[s].nlabels = 1;
		snprintf(dc->split[s].images[0], FE_PATH_MAX, "%s", fashion_files[s][0]);
		snprintf(dc->split[s].labels[0], FE_PATH_MAX, "%s", fashion_files[s][1]);
	}
	dc->nclasses = 10;
	dc->norm = (FeNormalize){.scale = 1.0 / 255, .nmean = 1, .nstd = 1,
	                         .mean = {0.2860f}, .std = {0.3530f}};
	dc->layout = FE_LAYOUT_NCHW;
	c->model.accuracy = -1;
	sq_config_defaults(&c->sq);
}

/* The root by precedence: SQC_DATA_ROOT, then data.root (yaml_root, may be ""), then the
 * built-in default. */
static void choose_root(FeDataConfig *dc, const char *yaml_root)
{
	const char *env = getenv("SQC_DATA_ROOT");
	const char *r = env && *env ? env : yaml_root && *yaml_root ? yaml_root
	                                                            : FE_DEFAULT_DATA_ROOT;
	snprintf(dc->root, sizeof dc->root, "%s", r);
}

void fe_config_defaults(FeConfig *c)
{
	defaults_raw(c);
	choose_root(&c->data, NULL);
	/* a root too long to fit leaves the bare name: it then fails to open, by name */
	for (int s = 0; s < 2; s++) {
		FeDataSplit *sp = &c->data.split[s];
		join_path(sp->images[0], c->data.root, sp->images[0]);
		join_path(sp->labels[0], c->data.root, sp->labels[0]);
	}
}

/* ---- node helpers -------------------------------------------------------------------- */

static int line_of(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

__attribute__((format(printf, 4, 5))) static int perr(Parser *p, const yaml_node_t *n,
                                                      const char *key, const char *fmt, ...)
{
	char msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return diag_error(p->d, NULL, "line %d: %s: %s", line_of(n), key, msg);
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* An empty plain scalar, `~` or `null`: a key written without a value. */
static int is_null(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!n->data.scalar.length || !strcmp(text(n), "~") || !strcmp(text(n), "null"));
}

/* What a node is, for "expected X, got Y". */
static const char *describe(const yaml_node_t *n, char *buf, size_t cap)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (is_null(n))
		return "nothing";
	if (n->data.scalar.length > 40)
		snprintf(buf, cap, "'%.40s...'", text(n));
	else
		snprintf(buf, cap, "'%s'", text(n));
	return buf;
}

static yaml_node_t *node(Parser *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

/* Checks that n is a mapping whose keys are distinct non-empty scalars. */
static int check_mapping(Parser *p, yaml_node_t *n, const char *key)
{
	char b[64];
	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, key, "expected a mapping, got %s", describe(n, b, sizeof b));
	for (yaml_node_pair_t *a = n->data.mapping.pairs.start; a < n->data.mapping.pairs.top; a++) {
		yaml_node_t *k = node(p, a->key);
		if (k->type != YAML_SCALAR_NODE || is_null(k))
			return perr(p, k, key, "keys must be names, got %s", describe(k, b, sizeof b));
		for (yaml_node_pair_t *e = n->data.mapping.pairs.start; e < a; e++)
			if (!strcmp(text(node(p, e->key)), text(k)))
				return perr(p, k, key, "duplicate key '%s' (first on line %d)", text(k),
				            line_of(node(p, e->key)));
	}
	return 0;
}

/* Index of key in names, or an "unknown key" error. */
static int key_index(Parser *p, yaml_node_t *k, const char *kp, const char *const *names,
                     int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(text(k), names[i]))
			return i;
	char known[256] = "";
	for (int i = 0; i < n; i++)
		snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
		         names[i]);
	perr(p, k, kp, "unknown key (expected one of: %s)", known);
	return -1;
}

enum { NUM_ANY, NUM_POSITIVE, NUM_UNIT };

static int get_number(Parser *p, yaml_node_t *n, const char *kp, int kind, double *v)
{
	static const char *const what[] = {"a number", "a positive number", "a number in [0, 1]"};
	char b[64];
	char *end = NULL;
	double x = 0;
	int ok = n->type == YAML_SCALAR_NODE && !is_null(n);
	if (ok) {
		errno = 0;
		x = strtod(text(n), &end);
		ok = end != text(n) && !*end && !errno && isfinite(x);
	}
	if (ok && kind == NUM_POSITIVE)
		ok = x > 0;
	if (ok && kind == NUM_UNIT)
		ok = x >= 0 && x <= 1;
	if (!ok)
		return perr(p, n, kp, "expected %s, got %s", what[kind], describe(n, b, sizeof b));
	*v = x;
	return 0;
}

static int get_int(Parser *p, yaml_node_t *n, const char *kp, long lo, long hi, int *v)
{
	char b[64];
	char *end = NULL;
	long x = 0;
	int ok = n->type == YAML_SCALAR_NODE && !is_null(n);
	if (ok) {
		errno = 0;
		x = strtol(text(n), &end, 10);
		ok = end != text(n) && !*end && !errno && x >= lo && x <= hi;
	}
	if (!ok)
		return perr(p, n, kp, "expected an integer in [%ld, %ld], got %s", lo, hi,
		            describe(n, b, sizeof b));
	*v = (int)x;
	return 0;
}

/* A number that is used as a float (normalization): converting one outside float's range
 * gives an infinity, and a positive one below float's smallest gives 0 (scale 0, or a
 * division by zero for std). */
static int get_float(Parser *p, yaml_node_t *n, const char *kp, int kind, double *v)
{
	char b[64];
	if (get_number(p, n, kp, kind, v))
		return -1;
	if (fabs(*v) > FLT_MAX || (kind == NUM_POSITIVE && (float)*v == 0))
		return perr(p, n, kp, "expected a number within float range (magnitude %g to %g), "
		            "got %s", (double)FLT_TRUE_MIN, (double)FLT_MAX, describe(n, b, sizeof b));
	return 0;
}

/* A number or a list of 1..max numbers. */
static int get_numbers(Parser *p, yaml_node_t *n, const char *kp, int kind, float *v,
                       int max, int *count)
{
	double x;
	if (n->type != YAML_SEQUENCE_NODE) {
		if (get_float(p, n, kp, kind, &x))
			return -1;
		v[0] = (float)x;
		*count = 1;
		return 0;
	}
	int k = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (k == 0 || k > max)
		return perr(p, n, kp, "expected 1 to %d values, got %d", max, k);
	for (int i = 0; i < k; i++) {
		char ip[200];
		snprintf(ip, sizeof ip, "%s[%d]", kp, i);
		if (get_float(p, node(p, n->data.sequence.items.start[i]), ip, kind, &x))
			return -1;
		v[i] = (float)x;
	}
	*count = k;
	return 0;
}

static int get_string(Parser *p, yaml_node_t *n, const char *kp, const char *what, char *buf,
                      size_t cap)
{
	char b[64];
	if (n->type != YAML_SCALAR_NODE || is_null(n) || !n->data.scalar.length)
		return perr(p, n, kp, "expected %s, got %s", what, describe(n, b, sizeof b));
	if (n->data.scalar.length >= cap)
		return perr(p, n, kp, "too long (at most %zu characters)", cap - 1);
	memcpy(buf, text(n), n->data.scalar.length + 1);
	return 0;
}

/* A file name or a list of 1..FE_MAX_FILES of them. */
static int get_paths(Parser *p, yaml_node_t *n, const char *kp, char (*out)[FE_PATH_MAX],
                     int *count)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		*count = 1;
		return get_string(p, n, kp, "a file name or a list of them", out[0], FE_PATH_MAX);
	}
	int k = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (k == 0 || k > FE_MAX_FILES)
		return perr(p, n, kp, "expected 1 to %d file names, got %d", FE_MAX_FILES, k);
	for (int i = 0; i < k; i++) {
		char ip[200];
		snprintf(ip, sizeof ip, "%s[%d]", kp, i);
		if (get_string(p, node(p, n->data.sequence.items.start[i]), ip, "a file name",
		               out[i], FE_PATH_MAX))
			return -1;
	}
	*count = k;
	return 0;
}

static int get_enum(Parser *p, yaml_node_t *n, const char *kp, const char *const *names,
                    int count, int *v)
{
	char b[64], list[128] = "";
	if (n->type == YAML_SCALAR_NODE)
		for (int i = 0; i < count; i++)
			if (!strcmp(text(n), names[i])) {
				*v = i;
				return 0;
			}
	for (int i = 0; i < count; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
		         names[i]);
	return perr(p, n, kp, "expected one of %s, got %s", list, describe(n, b, sizeof b));
}

/* The key path "parent.key" of a mapping entry (a very long one ends in "..."). */
static void key_path(char *out, size_t cap, const char *parent, const yaml_node_t *k)
{
	int n = snprintf(out, cap, "%s%s%s", parent, *parent ? "." : "", text(k));
	if (n < 0 || (size_t)n >= cap)
		memcpy(out + cap - 4, "...", 4);
}

#define FOR_PAIRS(p, map, k, v)                                                             \
	for (yaml_node_pair_t *pr_ = (map)->data.mapping.pairs.start;                          \
	     pr_ < (map)->data.mapping.pairs.top; pr_++)                                       \
		for (yaml_node_t *k = node(p, pr_->key), *v = node(p, pr_->value); k; k = NULL)

/* ---- sections ------------------------------------------------------------------------ */

static int parse_split(Parser *p, yaml_node_t *n, const char *kp, FeDataSplit *s, DataSeen *seen,
                       int split)
{
	static const char *const keys[] = {"images", "labels"};
	if (check_mapping(p, n, kp))
		return -1;
	memset(s, 0, sizeof *s);
	seen->split_line[split] = line_of(n);
	FOR_PAIRS(p, n, k, v) {
		char sub[200];
		key_path(sub, sizeof sub, kp, k);
		switch (key_index(p, k, sub, keys, (int)countof(keys))) {
		case 0:
			if (get_paths(p, v, sub, s->images, &s->nimages))
				return -1;
			break;
		case 1:
			if (get_paths(p, v, sub, s->labels, &s->nlabels))
				return -1;
			seen->labels_line[split] = line_of(k);
			break;
		default: return -1;
		}
	}
	if (!s->nimages)
		return perr(p, n, kp, "missing key 'images'");
	return 0;
}

static int parse_normalize(Parser *p, yaml_node_t *n, const char *kp, FeNormalize *nm,
                           DataSeen *seen)
{
	static const char *const keys[] = {"scale", "mean", "std"};
	if (check_mapping(p, n, kp))
		return -1;
	FOR_PAIRS(p, n, k, v) {
		char sub[200];
		key_path(sub, sizeof sub, kp, k);
		switch (key_index(p, k, sub, keys, (int)countof(keys))) {
		case 0:
			if (get_float(p, v, sub, NUM_POSITIVE, &nm->scale))
				return -1;
			seen->scale_given = 1;
			break;
		case 1:
			if (get_numbers(p, v, sub, NUM_ANY, nm->mean, FE_MAX_CHANNELS, &nm->nmean))
				return -1;
			seen->mean_given = 1;
			break;
		case 2:
			if (get_numbers(p, v, sub, NUM_POSITIVE, nm->std, FE_MAX_CHANNELS, &nm->nstd))
				return -1;
			seen->std_given = 1;
			break;
		default: return -1;
		}
	}
	return 0;
}

static int parse_data(Parser *p, yaml_node_t *n, FeDataConfig *dc, DataSeen *seen)
{
	static const char *const keys[] = {"format", "root",    "train", "test",
	                                   "classes", "normalize", "layout"};
	if (check_mapping(p, n, "data"))
		return -1;
	FOR_PAIRS(p, n, k, v) {
		char sub[200];
		key_path(sub, sizeof sub, "data", k);
		int e;
		int ki = key_index(p, k, sub, keys, (int)countof(keys));
		switch (ki) {
		case 0:
			if (get_enum(p, v, sub, format_names, (int)countof(format_names), &e))
				return -1;
			dc->format = (FeDataFormat)e;
			break;
		case 1: {
			char r[FE_PATH_MAX];
			if (get_string(p, v, sub, "a folder", r, sizeof r))
				return -1;
			/* relative to the config file's folder */
			const char *slash = strrchr(p->path, '/');
			char dir[FE_PATH_MAX] = "";
			if (slash && r[0] != '/')
				snprintf(dir, sizeof dir, "%.*s", (int)(slash - p->path + 1), p->path);
			if (join_path(seen->root, dir, r))
				return perr(p, v, sub, "path too long");
			break;
		}
		case 2:
		case 3:
			if (parse_split(p, v, sub, &dc->split[ki - 2], seen, ki - 2))
				return -1;
			break;
		case 4:
			if (get_int(p, v, sub, 2, 1 << 24, &dc->nclasses))
				return -1;
			break;
		case 5:
			if (parse_normalize(p, v, sub, &dc->norm, seen))
				return -1;
			break;
		case 6:
			if (get_enum(p, v, sub, layout_names, (int)countof(layout_names), &e))
				return -1;
			dc->layout = (FeLayout)e;
			seen->layout_line = line_of(v);
			break;
		default: return -1;
		}
	}
	return 0;
}

/* Applies the data defaults that depend on what was given, the root, and the checks
 * between keys. */
static int finish_data(Parser *p, FeDataConfig *dc, DataSeen *seen)
{
	static const char *const names[] = {"train", "test"};
	if (seen->split_line[0] || seen->split_line[1] || dc->format != FE_DATA_IDX) {
		/* not the default data set: none of Fashion-MNIST's files or normalization */
		for (int s = 0; s < 2; s++)
			if (!seen->split_line[s])
				memset(&dc->split[s], 0, sizeof dc->split[s]);
		if (!seen->scale_given)
			dc->norm.scale = 1;
		if (!seen->mean_given) {
			dc->norm.nmean = 1;
			dc->norm.mean[0] = 0;
		}
		if (!seen->std_given) {
			dc->norm.nstd = 1;
			dc->norm.std[0] = 1;
		}
	}
	for (int s = 0; s < 2; s++) {
		FeDataSplit *sp = &dc->split[s];
		char kp[32];
		snprintf(kp, sizeof kp, "data.%s.labels", names[s]);
		if (dc->format == FE_DATA_CIFAR10 && sp->nlabels) {
			int l = seen->labels_line[s];
			return diag_error(p->d, NULL, "line %d: %s: cifar10 batches carry their own "
			                  "labels; remove this key", l, kp);
		}
		if (sp->nlabels && sp->nlabels != sp->nimages)
			return diag_error(p->d, NULL, "line %d: %s: %d label files for %d image files "
			                  "(labels[i] holds the labels of images[i])",
			                  seen->labels_line[s], kp, sp->nlabels, sp->nimages);
	}
	if (dc->format == FE_DATA_CIFAR10 && dc->layout == FE_LAYOUT_NHWC)
		return diag_error(p->d, NULL, "line %d: data.layout: cifar10 batches are "
		                  "channel-planar (nchw)", seen->layout_line);
	choose_root(dc, seen->root);
	for (int s = 0; s < 2; s++) {
		FeDataSplit *sp = &dc->split[s];
		for (int i = 0; i < sp->nimages + sp->nlabels; i++) {
			char *f = i < sp->nimages ? sp->images[i] : sp->labels[i - sp->nimages];
			if (join_path(f, dc->root, f))
				return diag_error(p->d, NULL, "line %d: data.%s: path too long under the "
				                  "data root %s", seen->split_line[s] ? seen->split_line[s] : 1,
				                  names[s], dc->root);
		}
	}
	return 0;
}

static int parse_model(Parser *p, yaml_node_t *n, FeModelInfo *m)
{
	static const char *const keys[] = {"name", "accuracy", "recipe"};
	if (check_mapping(p, n, "model"))
		return -1;
	FOR_PAIRS(p, n, k, v) {
		char sub[200];
		key_path(sub, sizeof sub, "model", k);
		switch (key_index(p, k, sub, keys, (int)countof(keys))) {
		case 0:
			if (get_string(p, v, sub, "a name", m->name, sizeof m->name))
				return -1;
			break;
		case 1:
			if (get_number(p, v, sub, NUM_UNIT, &m->accuracy))
				return -1;
			break;
		case 2: break; /* free-form documentation */
		default: return -1;
		}
	}
	return 0;
}

static int get_count(Parser *p, yaml_node_t *n, const char *kp, int64_t *v)
{
	double x;
	char b[64];
	if (get_number(p, n, kp, NUM_ANY, &x))
		return -1;
	/* range first: converting a double at or past 2^63 to int64_t is undefined */
	if (x >= 0x1p63)
		return perr(p, n, kp, "expected a non-negative integer below 2^63, got %s",
		            describe(n, b, sizeof b));
	if (x < 0 || x != (double)(int64_t)x)
		return perr(p, n, kp, "expected a non-negative integer, got %s", describe(n, b, sizeof b));
	*v = (int64_t)x;
	return 0;
}

/* sq: the fine-tuning section. */
static int parse_sq(Parser *p, yaml_node_t *n, SqConfig *s)
{
	static const char *const keys[] = {
		"method", "act_bits", "epochs", "recovery_epochs", "batch", "train_limit",
		"optimizer", "lr", "momentum", "weight_decay", "schedule", "lr_step_epochs",
		"lr_gamma", "lambda", "gamma", "p", "threshold", "zero_frac_max", "tan_binary",
		"scale_lr", "bn", "keep_float", "seed", "distill_temperature", "reg_warmup", "decide", "recovery_reg", "balance"};
	static const char *const opt_names[] = {"adam", "sgd"};
	static const char *const sched_names[] = {"cosine", "step", "constant"};
	static const char *const bn_names[] = {"batch", "frozen"};
	if (check_mapping(p, n, "sq"))
		return -1;
	FOR_PAIRS(p, n, k, v) {
		char kp[200], b[64];
		key_path(kp, sizeof kp, "sq", k);
		int e = 0, rc = 0;
		double x;
		switch (key_index(p, k, kp, keys, (int)countof(keys))) {
		case 0: rc = get_enum(p, v, kp, sq_method_names, SQ_Q_COUNT, &e); s->method = (SqMethod)e; break;
		case 1:
			rc = get_int(p, v, kp, 1, 32, &s->act_bits);
			if (!rc && s->act_bits > 8 && s->act_bits != 32)
				rc = perr(p, v, kp, "expected 1 to 8, or 32 for float activations, got %d", s->act_bits);
			break;
		case 2: rc = get_int(p, v, kp, 0, 10000, &s->epochs); break;
		case 3: rc = get_int(p, v, kp, 0, 10000, &s->recovery_epochs); break;
		case 4: rc = get_int(p, v, kp, 1, 65536, &s->batch); break;
		case 5: rc = get_count(p, v, kp, &s->train_limit); break;
		case 6: rc = get_enum(p, v, kp, opt_names, 2, &e); s->optimizer = (SqOptKind)e; break;
		case 7: rc = get_number(p, v, kp, NUM_POSITIVE, &s->lr); break;
		case 8: rc = get_number(p, v, kp, NUM_UNIT, &s->momentum); break;
		case 9:
			rc = get_number(p, v, kp, NUM_ANY, &s->weight_decay);
			if (!rc && s->weight_decay < 0)
				rc = perr(p, v, kp, "expected a non-negative number, got %s", describe(v, b, sizeof b));
			break;
		case 10: rc = get_enum(p, v, kp, sched_names, 3, &e); s->schedule = (SqLrKind)e; break;
		case 11: rc = get_int(p, v, kp, 1, 10000, &s->lr_step_epochs); break;
		case 12: rc = get_number(p, v, kp, NUM_UNIT, &s->lr_gamma); break;
		case 13:
			rc = get_number(p, v, kp, NUM_ANY, &s->lambda);
			if (!rc && s->lambda < 0)
				rc = perr(p, v, kp, "expected a non-negative number, got %s", describe(v, b, sizeof b));
			break;
		case 14:
			rc = get_number(p, v, kp, NUM_ANY, &s->gamma);
			if (!rc && s->gamma < 0)
				rc = perr(p, v, kp, "expected a non-negative number, got %s", describe(v, b, sizeof b));
			break;
		case 15:
			rc = get_int(p, v, kp, 1, 2, &s->p);
			break;
		case 16:
			rc = get_number(p, v, kp, NUM_POSITIVE, &s->threshold);
			if (!rc && s->threshold >= 3)
				rc = perr(p, v, kp, "expected a number in (0, 3), got %s", describe(v, b, sizeof b));
			break;
		case 17: rc = get_number(p, v, kp, NUM_UNIT, &s->zero_frac_max); break;
		case 18: rc = get_number(p, v, kp, NUM_POSITIVE, &s->tan_binary); break;
		case 19: rc = get_number(p, v, kp, NUM_POSITIVE, &s->scale_lr); break;
		case 20: rc = get_enum(p, v, kp, bn_names, 2, &e); s->bn = (SqBnMode)e; break;
		case 21: {
			if (v->type != YAML_SEQUENCE_NODE)
				return perr(p, v, kp, "expected a list of layer names (first, last or node "
				            "names), got %s", describe(v, b, sizeof b));
			int cnt = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
			if (cnt > SQ_MAX_KEEP)
				return perr(p, v, kp, "at most %d names", SQ_MAX_KEEP);
			for (int i = 0; i < cnt; i++) {
				char ip[220];
				snprintf(ip, sizeof ip, "%s[%d]", kp, i);
				if (get_string(p, node(p, v->data.sequence.items.start[i]), ip, "a layer name",
				               s->keep_float[i], sizeof s->keep_float[i]))
					return -1;
			}
			s->nkeep = cnt;
			break;
		}
		case 22: rc = get_int(p, v, kp, 0, 2147483647, &s->seed); break;
		case 23:
			rc = get_number(p, v, kp, NUM_POSITIVE, &x);
			s->distill_temperature = x;
			break;
		case 24: rc = get_number(p, v, kp, NUM_UNIT, &s->reg_warmup); break;
		case 25: {
			static const char *const when[] = {"end", "early"};
			rc = get_enum(p, v, kp, when, 2, &s->decide_early);
			break;
		}
		case 26: {
			static const char *const tf[] = {"false", "true"};
			rc = get_enum(p, v, kp, tf, 2, &s->recovery_reg);
			break;
		}
		case 27: {
			static const char *const how[] = {"count", "gradient"};
			rc = get_enum(p, v, kp, how, 2, &s->balance);
			break;
		}
		default: return -1;
		}
		if (rc)
			return -1;
	}
	return 0;
}

static int parse_top(Parser *p, FeConfig *c)
{
	static const char *const keys[] = {"data", "model", "sq"};
	DataSeen seen = {0};
	yaml_node_t *root = yaml_document_get_root_node(&p->doc);
	if (root && !is_null(root)) {
		char b[64];
		if (root->type != YAML_MAPPING_NODE)
			return diag_error(p->d, NULL, "line %d: expected a mapping of sections (data, "
			                  "model, sq), got %s", line_of(root), describe(root, b, sizeof b));
		if (check_mapping(p, root, "(top level)"))
			return -1;
		FOR_PAIRS(p, root, k, v) {
			switch (key_index(p, k, text(k), keys, (int)countof(keys))) {
			case 0:
				if (parse_data(p, v, &c->data, &seen))
					return -1;
				break;
			case 1:
				if (parse_model(p, v, &c->model))
					return -1;
				break;
			case 2:
				if (parse_sq(p, v, &c->sq))
					return -1;
				break;
			default: return -1;
			}
		}
	}
	return finish_data(p, &c->data, &seen);
}

int fe_config_load(const char *path, FeConfig *c, Diag *d)
{
	defaults_raw(c);
	FILE *f = fopen(path, "rb");
	if (!f)
		return diag_error(d, NULL, "cannot open: %s", strerror(errno));
	yaml_parser_t yp;
	if (!yaml_parser_initialize(&yp)) {
		fclose(f);
		return diag_error(d, NULL, "cannot initialize the YAML parser");
	}
	yaml_parser_set_input_file(&yp, f);
	Parser p = {.path = path, .d = d};
	int rc = -1;
	if (!yaml_parser_load(&yp, &p.doc)) {
		diag_error(d, NULL, "line %d: YAML syntax error: %s%s%s",
		           (int)yp.problem_mark.line + 1, yp.problem ? yp.problem : "unknown",
		           yp.context ? " " : "", yp.context ? yp.context : "");
		goto out_parser;
	}
	rc = parse_top(&p, c);
	if (!rc) {
		/* a second document would be silently ignored: refuse it */
		yaml_document_t more;
		if (!yaml_parser_load(&yp, &more)) {
			rc = diag_error(d, NULL, "line %d: YAML syntax error: %s",
			                (int)yp.problem_mark.line + 1, yp.problem ? yp.problem : "unknown");
		} else {
			yaml_node_t *r2 = yaml_document_get_root_node(&more);
			if (r2)
				rc = diag_error(d, NULL, "line %d: more than one YAML document",
				                line_of(r2));
			yaml_document_delete(&more);
		}
	}
	yaml_document_delete(&p.doc);
out_parser:
	yaml_parser_delete(&yp);
	fclose(f);
	return rc;
}
