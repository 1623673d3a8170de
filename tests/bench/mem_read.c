/* The machine's limit for bench-sample.sh: decoding one token reads every
 * weight once, so tokens/s can be no more than the read bandwidth over
 * the weights' bytes. This reads a buffer of that size with THREADS threads
 * (each its own contiguous part of whole cache lines, four chains of 8-float
 * vectors), REPS times.
 *
 *     mem_read BYTES THREADS REPS
 *
 * prints "GB/s MEDIAN MAX": the median and the best read rate over the
 * REPS, in 10^9 bytes per second (the best is the limit: a busy machine
 * only ever makes it slower). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

/* Sum of a[lo, hi) (lo a multiple of 8 floats) in four chains of 8-float
 * vectors, so the loop is bound by reading, not by adding. */
typedef float v8 __attribute__((vector_size(32)));

static float sum(const float *a, size_t lo, size_t hi)
{
	v8 s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 }, t;
	float r = 0.0f;
	size_t i = lo;

	for (; i + 32 <= hi; i += 32) {
		v8 x0, x1, x2, x3;
		memcpy(&x0, a + i, 32), memcpy(&x1, a + i + 8, 32), memcpy(&x2, a + i + 16, 32), memcpy(&x3, a + i + 24, 32);
		s0 += x0, s1 += x1, s2 += x2, s3 += x3;
	}
	t = s0 + s1 + s2 + s3;
	for (int k = 0; k < 8; k++)
		r += t[k];
	for (; i < hi; i++)
		r += a[i];
	return r;
}

int main(int argc, char **argv)
{
	size_t n;
	int threads, reps;
	double *rate;
	float *a, sink = 0.0f;

	if (argc != 4 || (n = strtoull(argv[1], NULL, 10) / sizeof(float)) < 32 || (threads = atoi(argv[2])) < 1 ||
	    (reps = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: mem_read BYTES THREADS REPS\n");
		return 2;
	}
	a = aligned_alloc(64, (n * sizeof *a + 63) / 64 * 64);
	rate = malloc((size_t)reps * sizeof *rate);
	if (!a || !rate) {
		fprintf(stderr, "mem_read: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		a[i] = (float)(i % 7);
	for (int r = 0; r < reps; r++) {
		double t = mg_clock_now();
#pragma omp parallel num_threads(threads) reduction(+ : sink)
		{
			size_t k = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads(), lines = n / 16;
			sink += sum(a, lines * k / nt * 16, k + 1 == nt ? n : lines * (k + 1) / nt * 16);
		}
		rate[r] = (double)n * sizeof *a / (mg_clock_now() - t) / 1e9;
	}
	bench_sort(rate, (size_t)reps);
	printf("GB/s %.2f %.2f\n", rate[reps / 2], rate[reps - 1]);
	fprintf(stderr, "%g\n", (double)sink); /* keeps the sums live */
	free(a);
	free(rate);
	return 0;
}
