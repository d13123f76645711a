/* tests/tools/npycmp.c: compares two .npy tensors.
 *   npycmp GOT.npy WANT.npy [RTOL [ATOL]]   exit 0 when equal within |g-w| <= atol + rtol*|w|
 *   npycmp -m R GOT.npy WANT.npy            ... within |g-w| <= R * max|want| (relative to
 *                                           the tensor's scale: for sums whose terms cancel)
 * Prints the largest deviation. */
#include "frontend/frontend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double get(const FeTensor *t, int64_t i)
{
	switch (t->dtype) {
	case DT_FLOAT: return ((const float *)t->data)[i];
	case DT_DOUBLE: return ((const double *)t->data)[i];
	case DT_INT64: return (double)((const int64_t *)t->data)[i];
	case DT_INT32: return ((const int32_t *)t->data)[i];
	case DT_INT8: return ((const int8_t *)t->data)[i];
	default: return ((const uint8_t *)t->data)[i];
	}
}

int main(int argc, char **argv)
{
	double relmax = -1;
	if (argc > 3 && !strcmp(argv[1], "-m")) {
		relmax = atof(argv[2]);
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: npycmp GOT.npy WANT.npy [RTOL [ATOL]]\n");
		return 2;
	}
	double rtol = argc > 3 ? atof(argv[3]) : 1e-4, atol = argc > 4 ? atof(argv[4]) : 1e-6;
	FeTensor a, b;
	Diag d;
	diag_init(&d, argv[1]);
	if (fe_npy_read(argv[1], &a, &d))
		return 2;
	diag_init(&d, argv[2]);
	if (fe_npy_read(argv[2], &b, &d)) {
		fe_tensor_free(&a);
		return 2;
	}
	int rc = 0;
	char s1[128], s2[128];
	if (a.dtype != b.dtype || !ir_shape_eq(&a.shape, &b.shape)) {
		printf("npycmp: %s %s vs %s %s\n", ir_dtype_name(a.dtype),
		       ir_shape_str(&a.shape, s1, sizeof s1), ir_dtype_name(b.dtype),
		       ir_shape_str(&b.shape, s2, sizeof s2));
		rc = 1;
	} else {
		double worst = 0;
		int64_t at = -1, n = ir_shape_numel(&a.shape);
		if (relmax >= 0) {
			double big = 0;
			for (int64_t i = 0; i < n; i++)
				big = fmax(big, fabs(get(&b, i)));
			rtol = 0;
			atol = relmax * big;
		}
		for (int64_t i = 0; i < n; i++) {
			double g = get(&a, i), w = get(&b, i);
			double excess = fabs(g - w) - (atol + rtol * fabs(w));
			if (isnan(g) != isnan(w) || excess > 0) {
				rc = 1;
				if (at < 0 || excess > worst) {
					worst = excess;
					at = i;
				}
			}
		}
		if (rc)
			printf("npycmp: element %lld is %.9g, expected %.9g (rtol %g, atol %g)\n",
			       (long long)at, get(&a, at), get(&b, at), rtol, atol);
	}
	fe_tensor_free(&a);
	fe_tensor_free(&b);
	return rc;
}
