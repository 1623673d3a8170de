/* Time-shift (CPU): the first C/2 channels of every position take the
 * previous position's values, zeros at position 0; in place on (B,T,C).
 * Its gradient moves the other way: dx[t] gets dy[t+1], zero at T-1. */
#include <string.h>

#include "backend/cpu/cpu.h"
#include "core/threads.h"

void mg_cpu_shift_forward(float *x, uint32_t B, uint32_t T, uint32_t C)
{
	size_t half = C / 2;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (uint32_t b = 0; b < B; b++) {
		float *s = x + (size_t)b * T * C;
		for (uint32_t t = T; t-- > 1;)
			memcpy(s + (size_t)t * C, s + (size_t)(t - 1) * C, half * sizeof *s);
		memset(s, 0, half * sizeof *s);
	}
}

void mg_cpu_shift_backward(float *dx, uint32_t B, uint32_t T, uint32_t C)
{
	size_t half = C / 2;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (uint32_t b = 0; b < B; b++) {
		float *s = dx + (size_t)b * T * C;
		for (uint32_t t = 0; t + 1 < T; t++)
			memcpy(s + (size_t)t * C, s + (size_t)(t + 1) * C, half * sizeof *s);
		memset(s + (size_t)(T - 1) * C, 0, half * sizeof *s);
	}
}
