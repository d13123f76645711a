/* tests/unit/testutil.h: helpers shared by the unit tests (shapes, a seeded generator).
 * Header-only: every test is its own executable. */
#ifndef SQC_TESTUTIL_H
#define SQC_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "ir/ir.h"

/* Shape from a list of dims: SH(2, 3) is [2,3]; SH0 is a scalar. */
#define SH(...) mkshape((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                        (int64_t[]){__VA_ARGS__})
#define SH0 ((Shape){.rank = 0})

static inline Shape mkshape(int rank, const int64_t *d)
{
	Shape s = {.rank = rank};
	for (int i = 0; i < rank; i++)
		s.d[i] = d[i];
	return s;
}

static inline int64_t numel(const Shape *s)
{
	int64_t n = 1;
	for (int i = 0; i < s->rank; i++)
		n *= s->d[i];
	return n;
}

/* xorshift64*: each test owns its generator, seeded with a fixed value. */
typedef struct {
	uint64_t s;
} Rng;

static inline uint64_t rng_next(Rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_int(Rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* Uniform float in [-1, 1). */
static inline float rng_float(Rng *r)
{
	return (float)((double)(rng_next(r) >> 11) / (double)(1ULL << 53) * 2.0 - 1.0);
}

#endif
