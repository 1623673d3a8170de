/* GELU (CPU), elementwise: exact x Phi(x) = x (1 + erf(x/sqrt 2)) / 2, or
 * the tanh approximation x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3),
 * as torch.nn.functional.gelu with approximate 'none' or 'tanh'. Derivatives:
 * erf: Phi(x) + x phi(x); tanh: (1 + t)/2 + x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2. */
#include <math.h>

#include "backend_cpu.h"
#include "gpt.h"
#include "threads.h"

#define K0 0.7978845608028654f /* sqrt(2/pi) */
#define K1 0.044715f
#define RSQRT2 0.7071067811865476f
#define RSQRT2PI 0.3989422804014327f

void mg_cpu_gelu_forward(float *out, const float *inp, size_t n, uint32_t kind)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		if (kind == MG_GELU_ERF)
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
				out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * RSQRT2));
		else
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++) {
				float x = inp[i];
				out[i] = 0.5f * x * (1.0f + tanhf(K0 * (x + K1 * x * x * x)));
			}
	}
}

void mg_cpu_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		if (kind == MG_GELU_ERF)
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++) {
				float x = inp[i];
				dinp[i] = dout[i] * (0.5f * (1.0f + erff(x * RSQRT2)) + x * RSQRT2PI * expf(-0.5f * x * x));
			}
		else
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++) {
				float x = inp[i], t = tanhf(K0 * (x + K1 * x * x * x));
				dinp[i] = dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * K0 * (1.0f + 3.0f * K1 * x * x));
			}
	}
}
