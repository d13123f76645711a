/* frontend/idx.c: IDX files (the MNIST family), gzip-compressed or raw.
 *
 * Format: magic 00 00 TYPE NDIM, then NDIM big-endian uint32 dimensions, then the data in
 * C order, big endian. TYPE: 08 uint8, 09 int8, 0B int16, 0C int32, 0D float32, 0E
 * float64. zlib's gzread reads raw files as they are, so one path serves both. */
#include "data.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* IDX element types: the type byte, the size in the file, the dtype it becomes. */
static const struct {
	int code;
	size_t size;
	DType dtype;
	const char *name;
} idx_types[] = {
	{0x08, 1, DT_UINT8, "uint8"},  {0x09, 1, DT_INT8, "int8"},
	{0x0B, 2, DT_INT32, "int16"},  {0x0C, 4, DT_INT32, "int32"},
	{0x0D, 4, DT_FLOAT, "float32"}, {0x0E, 8, DT_DOUBLE, "float64"},
};

/* zlib's message without the "PATH: " it starts with (the Diag names the file). */
static const char *zmessage(const char *m)
{
	const char *last = NULL;
	for (const char *p = strstr(m, ": "); p; p = strstr(p + 2, ": "))
		last = p;
	return last ? last + 2 : m;
}

int64_t fe_gz_read(void *gz, void *buf, size_t n, const char **msg)
{
	gzFile f = gz;
	size_t got = 0;
	while (got < n) {
		size_t want = n - got;
		if (want > (1u << 30))
			want = 1u << 30;
		int r = gzread(f, (char *)buf + got, (unsigned)want);
		if (r < 0) {
			int e;
			*msg = zmessage(gzerror(f, &e));
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	int e;
	const char *m = gzerror(f, &e);
	if (e != Z_OK)
		*msg = zmessage(m);
	return (int64_t)got;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Converts count big-endian elements of src (file type size sz) into host order in dst. */
static void idx_to_host(int code, const unsigned char *src, void *dst, size_t count)
{
	switch (code) {
	case 0x0B:
		for (size_t i = 0; i < count; i++)
			((int32_t *)dst)[i] = (int16_t)(uint16_t)(src[2 * i] << 8 | src[2 * i + 1]);
		break;
	case 0x0C:
		for (size_t i = 0; i < count; i++)
			((int32_t *)dst)[i] = (int32_t)be32(src + 4 * i);
		break;
	case 0x0D:
		for (size_t i = 0; i < count; i++) {
			uint32_t u = be32(src + 4 * i);
			memcpy((float *)dst + i, &u, 4);
		}
		break;
	case 0x0E:
		for (size_t i = 0; i < count; i++) {
			uint64_t u = (uint64_t)be32(src + 8 * i) << 32 | be32(src + 8 * i + 4);
			memcpy((double *)dst + i, &u, 8);
		}
		break;
	default: /* one byte */
		memmove(dst, src, count);
	}
}

static int idx_read(gzFile f, int64_t limit, FeTensor *t, int64_t *total, Diag *d)
{
	unsigned char hdr[4 + 4 * IR_MAX_RANK];
	const char *zmsg = NULL;
	int64_t r = fe_gz_read(f, hdr, 4, &zmsg);
	if (r < 0)
		return diag_error(d, NULL, "corrupt gzip stream: %s", zmsg);
	if (r == 0)
		return diag_error(d, NULL, "empty file (not an IDX file)");
	if (r < 4)
		return diag_error(d, NULL, "truncated IDX header");
	int ti = -1;
	for (size_t i = 0; i < countof(idx_types); i++)
		if (idx_types[i].code == hdr[2])
			ti = (int)i;
	if (hdr[0] || hdr[1] || ti < 0 || hdr[3] == 0)
		return diag_error(d, NULL, "not an IDX file (bad magic %02x %02x %02x %02x)", hdr[0],
		                  hdr[1], hdr[2], hdr[3]);
	int ndim = hdr[3];
	if (ndim > IR_MAX_RANK)
		return diag_error(d, NULL, "IDX file has %d dimensions (at most %d supported)", ndim,
		                  IR_MAX_RANK);
	r = fe_gz_read(f, hdr + 4, 4 * (size_t)ndim, &zmsg);
	if (r < 0)
		return diag_error(d, NULL, "corrupt gzip stream: %s", zmsg);
	if (r < 4 * ndim)
		return diag_error(d, NULL, "truncated IDX header");
	t->shape.rank = ndim;
	for (int i = 0; i < ndim; i++)
		t->shape.d[i] = be32(hdr + 4 + 4 * i);
	int64_t n = t->shape.d[0];
	if (total)
		*total = n;
	int64_t rows = limit > 0 && limit < n ? limit : n;
	t->shape.d[0] = rows;
	int64_t numel = ir_shape_numel(&t->shape);
	size_t fsz = idx_types[ti].size, hsz = ir_dtype_size(idx_types[ti].dtype);
	/* The byte counts, in the file and in memory, must fit int64: the truncation test
	 * below compares them with the bytes read (a count >= 2^63 used to wrap negative
	 * there, pass, and let the byte swap run past the buffer). A header claiming more
	 * than the limit but less than that still fails as truncated when the data is not
	 * there, and against the limit once it is. */
	int64_t nbytes64, hbytes64;
	if (numel < 0 || ir_mul64(numel, (int64_t)fsz, &nbytes64) ||
	    ir_mul64(numel, (int64_t)hsz, &hbytes64))
		return ir_check_elems(numel, "IDX data", d, NULL); /* numel > 2^60: an error */
	int64_t per = rows ? numel / rows : 0; /* elements per entry of the first axis */
	t->dtype = idx_types[ti].dtype;
	size_t nbytes = (size_t)nbytes64;
	/* The buffer grows with the data that arrives (doubling from 1 MiB), so that a header
	 * claiming far more than the file holds fails as truncated without a big allocation
	 * up front (at 64 MiB the IDX fuzz target ran 20-50 inputs a second). */
	size_t cap = nbytes < (1u << 20) ? nbytes : 1u << 20;
	unsigned char *raw = xmalloc(cap + 1);
	t->data = raw;
	r = 0;
	for (size_t got = 0;;) {
		int64_t k = fe_gz_read(f, raw + got, cap - got, &zmsg);
		if (k < 0) {
			r = -1;
			break;
		}
		got += (size_t)k;
		r = (int64_t)got;
		if (got < cap || got == nbytes)
			break;
		cap = cap > nbytes / 2 ? nbytes : 2 * cap;
		raw = xrealloc(raw, cap + 1);
		t->data = raw;
	}
	if (r < nbytes64) {
		int64_t whole = r > 0 && per ? r / (int64_t)(per * (int64_t)fsz) : 0;
		char sh[96];
		Shape s1 = t->shape;
		s1.rank--;
		memmove(s1.d, s1.d + 1, sizeof(int64_t) * (size_t)s1.rank);
		sh[0] = 0;
		if (s1.rank) {
			ir_shape_str(&s1, sh, sizeof sh - 1);
			strcat(sh, " ");
		}
		if (r < 0)
			diag_error(d, NULL, "corrupt gzip stream: %s", zmsg);
		else
			diag_error(d, NULL, "truncated file: the IDX header declares %lld entries of %s%s, "
			           "the data ends after %lld%s%s%s", (long long)n, sh, idx_types[ti].name,
			           (long long)whole, zmsg ? " (" : "", zmsg ? zmsg : "", zmsg ? ")" : "");
		fe_tensor_free(t);
		return -1;
	}
	if (rows == n) {
		/* The whole file was asked for: it must end here (this also checks the gzip
		 * trailer, where a truncated or corrupted stream shows). */
		unsigned char extra;
		zmsg = NULL;
		r = fe_gz_read(f, &extra, 1, &zmsg);
		if (r != 0 || zmsg) {
			if (r > 0)
				diag_error(d, NULL, "the file has data past the %lld entries its IDX header "
				           "declares", (long long)n);
			else
				diag_error(d, NULL, "corrupt or truncated gzip stream: %s", zmsg);
			fe_tensor_free(t);
			return -1;
		}
	}
	if (ir_check_elems(numel, "IDX data", d, NULL)) {
		fe_tensor_free(t);
		return -1;
	}
	if (hsz == fsz) {
		idx_to_host(idx_types[ti].code, raw, raw, (size_t)numel);
	} else { /* int16 -> int32 */
		t->data = xmalloc((size_t)hbytes64 + 1);
		idx_to_host(idx_types[ti].code, raw, t->data, (size_t)numel);
		free(raw);
	}
	return 0;
}

int fe_idx_read(const char *path, int64_t limit, FeTensor *t, int64_t *total, Diag *d)
{
	memset(t, 0, sizeof *t);
	if (total)
		*total = 0;
	const char *saved = d->file;
	d->file = path;
	int rc;
	errno = 0;
	gzFile f = gzopen(path, "rb");
	if (!f) {
		rc = diag_error(d, NULL, "cannot open: %s", errno ? strerror(errno) : "out of memory");
	} else {
		gzbuffer(f, 1 << 20);
		rc = idx_read(f, limit, t, total, d);
		gzclose(f);
	}
	d->file = saved;
	return rc;
}
