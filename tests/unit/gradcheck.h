/* Helpers for the op tests: random inputs, float/double copies, and
 * gradients by central finite differences of a double-precision reference,
 * against which the float kernels' analytic gradients are compared. */
#ifndef GRADCHECK_H
#define GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

static mg_rng gc_rng;

static inline void gc_seed(uint64_t s) { mg_rng_seed(&gc_rng, s); }

/* n floats uniform in [lo, hi), in a fresh buffer (freed by the caller). */
static inline float *gc_rand(size_t n, double lo, double hi)
{
	float *x = malloc((n ? n : 1) * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(lo + (hi - lo) * mg_rng_uniform(&gc_rng));
	return x;
}

static inline double *gc_to_double(const float *x, size_t n)
{
	double *d = malloc((n ? n : 1) * sizeof *d);
	for (size_t i = 0; i < n; i++)
		d[i] = x[i];
	return d;
}

static inline float *gc_copy(const float *x, size_t n)
{
	float *c = malloc((n ? n : 1) * sizeof *c);
	memcpy(c, x, n * sizeof *c);
	return c;
}

/* The largest |a - b| over n values, relative to the largest |b| (at least
 * floor): a scale-aware error that does not blow up on values near zero. */
static inline double gc_err(const float *a, const double *b, size_t n, double floor)
{
	double num = 0.0, den = floor;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);
		num = d > num ? d : num;
		den = fabs(b[i]) > den ? fabs(b[i]) : den;
	}
	return num / den;
}

/* Gradient of f (a double function reading x) with respect to x[0..n-1] by
 * central differences with step h, into g. */
typedef double (*gc_fn)(void *ctx);
static inline void gc_fd(gc_fn f, void *ctx, double *x, size_t n, double h, double *g)
{
	for (size_t i = 0; i < n; i++) {
		double s = x[i], a, b;
		x[i] = s + h;
		a = f(ctx);
		x[i] = s - h;
		b = f(ctx);
		x[i] = s;
		g[i] = (a - b) / (2.0 * h);
	}
}

/* Checks one gradient: analytic (float) against finite differences of the
 * reference; prints the error and counts a failure above tol. */
#define GC_CHECK_GRAD(what, analytic, f, ctx, x, n, tol)                                             \
	do {                                                                                         \
		size_t _n = (n);                                                                     \
		double *_g = malloc((_n ? _n : 1) * sizeof *_g), _e;                                 \
		gc_fd((f), (ctx), (x), _n, 1e-6, _g);                                                \
		_e = gc_err((analytic), _g, _n, 1e-3);                                               \
		printf("  %-40s grad err %.2e\n", (what), _e);                                       \
		if (!(_e <= (tol))) {                                                                \
			fprintf(stderr, "%s:%d: %s: gradient error %.3g over %.3g\n", __FILE__, __LINE__, \
				(what), _e, (double)(tol));                                          \
			check_failures++;                                                    \
		}                                                                                    \
		free(_g);                                                                            \
	} while (0)

#endif
