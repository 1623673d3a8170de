/* Whole-vector kernels of the CPU backend: clearing and scaling gradients,
 * and the sum of squares behind the global gradient norm. */
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

#define PARTS_MAX 1024

void mg_cpu_zero(float *p, size_t n)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		memset(p + k * MG_CPU_BLOCK, 0, (hi - k * MG_CPU_BLOCK) * sizeof *p);
	}
}

void mg_cpu_scale(float *p, size_t n, float s)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		size_t i = k * MG_CPU_BLOCK;
#if MG_VMATH_AVX2
		for (; i + 8 <= hi; i += 8)
			_mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), _mm256_set1_ps(s)));
#endif
		for (; i < hi; i++)
			p[i] *= s;
	}
}

double mg_cpu_sum_squares(const float *p, size_t n)
{
	/* at most PARTS_MAX parts of at least 64 Ki elements, each summed in
	 * double, then added in order: the same bits for any thread count */
	size_t part = 65536, np;
	double parts[PARTS_MAX], sum = 0.0;

	while ((n + part - 1) / part > PARTS_MAX)
		part *= 2;
	np = (n + part - 1) / part;
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < np; k++) {
		size_t hi = (k + 1) * part < n ? (k + 1) * part : n, i = k * part;
		double s = 0.0;
#if MG_VMATH_AVX2
		__m256d s0 = _mm256_setzero_pd(), s1 = s0;
		__m128d h;
		for (; i + 8 <= hi; i += 8) {
			__m256d a = _mm256_cvtps_pd(_mm_loadu_ps(p + i)), b = _mm256_cvtps_pd(_mm_loadu_ps(p + i + 4));
			s0 = _mm256_fmadd_pd(a, a, s0);
			s1 = _mm256_fmadd_pd(b, b, s1);
		}
		s0 = _mm256_add_pd(s0, s1);
		h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));
		s = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
#endif
		for (; i < hi; i++)
			s += (double)p[i] * p[i];
		parts[k] = s;
	}
	for (size_t k = 0; k < np; k++)
		sum += parts[k];
	return sum;
}
