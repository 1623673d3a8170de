/* The machine's fp32 limit for bench-train.sh: GFLOP/s of a loop of
 * independent AVX2 FMAs (12 chains of 8 floats, enough to cover the FMA
 * latency of two pipes), on 1 thread and on THREADS threads at once.
 *
 *     fma_peak THREADS REPS
 *
 * prints "1 R" and "THREADS R": the median over REPS runs of the GFLOP/s of
 * one thread alone, and of all threads together (the sum of their rates). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#define ITERS 20000000L /* 12 FMAs of 8 floats each: 3.84 GFLOP a run */

#if HAVE_X86
/* GFLOP/s of one thread; the result is kept live through *sink. */
__attribute__((target("avx2,fma"))) static double run(float *sink)
{
	__m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
	__m256 a0 = _mm256_set1_ps(0.1f), a1 = _mm256_set1_ps(0.2f), a2 = _mm256_set1_ps(0.3f),
	       a3 = _mm256_set1_ps(0.4f), a4 = _mm256_set1_ps(0.5f), a5 = _mm256_set1_ps(0.6f),
	       a6 = _mm256_set1_ps(0.7f), a7 = _mm256_set1_ps(0.8f), a8 = _mm256_set1_ps(0.9f),
	       a9 = _mm256_set1_ps(1.0f), a10 = _mm256_set1_ps(1.1f), a11 = _mm256_set1_ps(1.2f);
	double t = mg_clock_now();
	float o[8];

	for (long k = 0; k < ITERS; k++) {
#define F(x) x = _mm256_fmadd_ps(x, b, c);
		F(a0) F(a1) F(a2) F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9) F(a10) F(a11)
#undef F
	}
	t = mg_clock_now() - t;
	a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
			   _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
	a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
	_mm256_storeu_ps(o, a0);
	*sink += o[0];
	return (double)ITERS * 12 * 8 * 2 / t / 1e9;
}
#endif

int main(int argc, char **argv)
{
	int threads, reps;
	double *one, *all;
	float sink = 0.0f;

	if (argc != 3 || (threads = atoi(argv[1])) < 1 || (reps = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: fma_peak THREADS REPS\n");
		return 2;
	}
#if HAVE_X86
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
		fprintf(stderr, "fma_peak: this CPU has no AVX2 and FMA\n");
		return 1;
	}
	one = malloc((size_t)reps * sizeof *one);
	all = malloc((size_t)reps * sizeof *all);
	if (!one || !all)
		return 1;
	for (int r = 0; r < reps; r++) {
		double sum = 0.0;
		one[r] = run(&sink);
#pragma omp parallel num_threads(threads) reduction(+ : sum)
		{
			float s = 0.0f;
			sum += run(&s);
#pragma omp atomic
			sink += s;
		}
		all[r] = sum;
	}
	bench_sort(one, (size_t)reps);
	bench_sort(all, (size_t)reps);
	printf("1 %.1f\n%d %.1f\n", one[reps / 2], threads, all[reps / 2]);
	free(one), free(all);
	return sink == 12345.0f; /* never: keeps the chains live */
#else
	(void)threads, (void)reps, (void)one, (void)all, (void)sink;
	fprintf(stderr, "fma_peak: not an x86 CPU\n");
	return 1;
#endif
}
