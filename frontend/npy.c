/* frontend/npy.c: NumPy .npy files (format versions 1.0 to 3.0; little endian; C order),
 * and dispatch of tensor files by extension. */
#include "frontend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fe_tensor_free(FeTensor *t)
{
	free(t->data);
	t->data = NULL;
}

static DType npy_dtype(const char *descr)
{
	static const struct {
		const char *d;
		DType t;
	} m[] = {{"<f4", DT_FLOAT}, {"<f8", DT_DOUBLE}, {"|i1", DT_INT8}, {"|u1", DT_UINT8},
	         {"<i4", DT_INT32}, {"<i8", DT_INT64}, {"|b1", DT_BOOL}, {"i1", DT_INT8},
	         {"u1", DT_UINT8}};
	for (size_t i = 0; i < countof(m); i++)
		if (!strcmp(descr, m[i].d))
			return m[i].t;
	return DT_UNDEF;
}

static const char *npy_descr(DType t)
{
	switch (t) {
	case DT_FLOAT: return "<f4";
	case DT_DOUBLE: return "<f8";
	case DT_INT8: return "|i1";
	case DT_UINT8: return "|u1";
	case DT_INT32: return "<i4";
	case DT_INT64: return "<i8";
	case DT_BOOL: return "|b1";
	default: return NULL;
	}
}

/* Finds 'key': in the header dict and returns a pointer just past the colon. */
static const char *dict_find(const char *h, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof pat, "'%s'", key);
	const char *p = strstr(h, pat);
	if (!p)
		return NULL;
	p = strchr(p + strlen(pat), ':');
	return p ? p + 1 : NULL;
}

int fe_npy_read(const char *path, FeTensor *t, Diag *d)
{
	memset(t, 0, sizeof *t);
	size_t n;
	unsigned char *buf = fe_read_file(path, &n, d);
	if (!buf)
		return -1;
	int rc = -1;
	char *hdr = NULL;
	if (n < 10 || memcmp(buf, "\x93NUMPY", 6)) {
		diag_error(d, NULL, "not a .npy file (bad magic)");
		goto out;
	}
	int major = buf[6];
	size_t hlen, hoff;
	if (major == 1) {
		hlen = buf[8] | (size_t)buf[9] << 8;
		hoff = 10;
	} else if (major == 2 || major == 3) {
		if (n < 12)
			goto trunc;
		hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
		hoff = 12;
	} else {
		diag_error(d, NULL, ".npy format version %d is not supported", major);
		goto out;
	}
	if (hlen > n - hoff)
		goto trunc;
	hdr = strndup((char *)buf + hoff, hlen);
	const char *p = dict_find(hdr, "descr");
	char descr[16] = {0};
	if (!p || sscanf(p, " '%15[^']'", descr) != 1) {
		diag_error(d, NULL, ".npy header has no descr");
		goto out;
	}
	t->dtype = npy_dtype(descr);
	if (t->dtype == DT_UNDEF) {
		diag_error(d, NULL, ".npy dtype '%s' is not supported (float32, float64, int8, "
		           "uint8, int32, int64, bool)", descr);
		goto out;
	}
	p = dict_find(hdr, "fortran_order");
	while (p && *p == ' ')
		p++;
	if (!p || strncmp(p, "False", 5)) {
		diag_error(d, NULL, ".npy file is not in C order (fortran_order must be False)");
		goto out;
	}
	p = dict_find(hdr, "shape");
	while (p && *p == ' ')
		p++;
	if (!p || *p != '(') {
		diag_error(d, NULL, ".npy header has no shape");
		goto out;
	}
	p++;
	t->shape.rank = 0;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno || v < 0 || t->shape.rank == IR_MAX_RANK) {
			diag_error(d, NULL, ".npy header has a bad shape");
			goto out;
		}
		t->shape.d[t->shape.rank++] = v;
		p = end;
	}
	int64_t numel = ir_shape_numel(&t->shape), nb;
	if (numel < 0) {
		diag_error(d, NULL, ".npy shape overflows");
		goto out;
	}
	if (ir_check_elems(numel, ".npy data", d, NULL) ||
	    ir_mul64(numel, (int64_t)ir_dtype_size(t->dtype), &nb))
		goto out;
	size_t need = (size_t)nb;
	if (n - hoff - hlen < need)
		goto trunc;
	t->data = xmalloc(need ? need : 1);
	memcpy(t->data, buf + hoff + hlen, need);
	rc = 0;
	goto out;
trunc:
	diag_error(d, NULL, "truncated .npy file");
out:
	free(hdr);
	free(buf);
	return rc;
}

int fe_npy_write(const char *path, const FeTensor *t, Diag *d)
{
	const char *descr = npy_descr(t->dtype);
	if (!descr)
		return diag_error(d, NULL, "cannot write dtype %s to .npy", ir_dtype_name(t->dtype));
	char shape[256] = ""; /* rank 0: "()" */
	size_t k = 0;
	for (int i = 0; i < t->shape.rank; i++)
		k += (size_t)snprintf(shape + k, sizeof shape - k, "%lld,%s", (long long)t->shape.d[i],
		                      i + 1 < t->shape.rank ? " " : "");
	if (t->shape.rank > 1)
		shape[k - 1] = 0; /* (2, 3) not (2, 3,) */
	char hdr[512];
	int hl = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
	                  descr, shape);
	/* pad with spaces so that magic + len + header is a multiple of 64, ending in \n */
	int total = 10 + hl + 1;
	int pad = (64 - total % 64) % 64;
	memset(hdr + hl, ' ', (size_t)pad);
	hl += pad;
	hdr[hl++] = '\n';
	int64_t nb;
	if (ir_mul64(ir_shape_numel(&t->shape), (int64_t)ir_dtype_size(t->dtype), &nb))
		return diag_error(d, NULL, "cannot write a tensor of unknown or overflowing shape to "
		                  ".npy");
	size_t nbytes = (size_t)nb;

	OutFile o;
	FILE *f = ir_out_open(&o, path, d);
	if (!f)
		return -1;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 0xff),
	                         (unsigned char)(hl >> 8)};
	fwrite(pre, 1, 10, f);
	fwrite(hdr, 1, (size_t)hl, f);
	if (nbytes)
		fwrite(t->data, 1, nbytes, f);
	return ir_out_commit(&o, 0, d);
}

int fe_tensor_read(const char *path, FeTensor *t, Diag *d)
{
	size_t n = strlen(path);
	if (n > 3 && !strcmp(path + n - 3, ".pb"))
		return fe_tensor_pb_read(path, t, d);
	return fe_npy_read(path, t, d);
}
