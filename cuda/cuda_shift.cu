/* Time-shift (CUDA) in place on (B,T,C): channels c < C/2 of position t
 * take position t-1's, zeros at t = 0; backward the other way. One thread
 * per (sequence, channel) walks the positions, so in-place is safe. */
#include "cuda_common.cuh"

static __global__ void shift_kernel(float *x, uint32_t B, uint32_t T, uint32_t C, int backward)
{
	size_t half = C / 2;

	MG_CU_FOR(k, (size_t)B * half) {
		size_t b = k / half, c = k % half;
		float *s = x + b * T * C + c;
		if (!backward) {
			for (uint32_t t = T; t-- > 1;)
				s[(size_t)t * C] = s[(size_t)(t - 1) * C];
			s[0] = 0.0f;
		} else {
			for (uint32_t t = 0; t + 1 < T; t++)
				s[(size_t)t * C] = s[(size_t)(t + 1) * C];
			s[(size_t)(T - 1) * C] = 0.0f;
		}
	}
}

void mg_cu_shift_forward(float *x, uint32_t B, uint32_t T, uint32_t C)
{
	if (!B || C < 2)
		return;
	shift_kernel<<<mg_cu_grid((size_t)B * (C / 2)), MG_CU_THREADS>>>(x, B, T, C, 0);
	MG_CU_LAUNCHED("shift_forward");
}

void mg_cu_shift_backward(float *dx, uint32_t B, uint32_t T, uint32_t C)
{
	if (!B || C < 2)
		return;
	shift_kernel<<<mg_cu_grid((size_t)B * (C / 2)), MG_CU_THREADS>>>(dx, B, T, C, 1);
	MG_CU_LAUNCHED("shift_backward");
}
