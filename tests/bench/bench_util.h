/* What the C helpers of the benchmarks share: the clock (the library's) and
 * sorting doubles for medians and maxima. Header-only: each helper is one
 * file built by the Makefile's build/tests/bench/% rule. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdlib.h>

#include "core/clock.h"

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts x[0..n) ascending. */
static inline void bench_sort(double *x, size_t n) { qsort(x, n, sizeof *x, bench_cmp_double); }

#endif
