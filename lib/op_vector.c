/* Whole-vector kernels of the CPU backend: clearing and scaling gradients,
 * and the sum of squares behind the global gradient norm. */
#include "backend_cpu.h"
#include "threads.h"

#define PARTS_MAX 1024

void mg_cpu_zero(float *p, size_t n)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
			p[i] = 0.0f;
	}
}

void mg_cpu_scale(float *p, size_t n, float s)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
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
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < np; k++) {
		size_t hi = (k + 1) * part < n ? (k + 1) * part : n;
		double s = 0.0;
		for (size_t i = k * part; i < hi; i++)
			s += (double)p[i] * p[i];
		parts[k] = s;
	}
	for (size_t k = 0; k < np; k++)
		sum += parts[k];
	return sum;
}
