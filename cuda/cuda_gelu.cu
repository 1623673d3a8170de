/* GELU (CUDA), elementwise, with the CPU's formulas (lib/backend/cpu/cpu_gelu.c): exact
 * x Phi(x), or the tanh form as x s with s = 1 / (1 + exp(-2u)), u =
 * sqrt(2/pi) (x + 0.044715 x^3), the exponent capped at 88. */
#include "cuda_common.cuh"

#define K0 0.7978845608028654f /* sqrt(2/pi) */
#define K1 0.044715f
#define RSQRT2 0.7071067811865476f
#define RSQRT2PI 0.3989422804014327f

static __global__ void gelu_kernel(float *out, const float *inp, const float *dout, size_t n, uint32_t kind)
{
	MG_CU_FOR(i, n) {
		float x = inp[i], y;
		if (kind == MG_GELU_ERF) {
			y = dout ? dout[i] * (0.5f * (1.0f + erff(x * RSQRT2)) + x * RSQRT2PI * expf(-0.5f * x * x))
				 : 0.5f * x * (1.0f + erff(x * RSQRT2));
		} else {
			float e = expf(fminf(-2.0f * x * (K0 + K0 * K1 * x * x), 88.0f)), s = 1.0f / (1.0f + e);
			y = dout ? dout[i] * (s + 2.0f * K0 * x * s * (e * s) * (1.0f + 3.0f * K1 * x * x)) : x * s;
		}
		out[i] = y;
	}
}

void mg_cu_gelu_forward(float *out, const float *inp, size_t n, uint32_t kind)
{
	if (!n)
		return;
	gelu_kernel<<<mg_cu_grid(n), MG_CU_THREADS>>>(out, inp, NULL, n, kind);
	MG_CU_LAUNCHED("gelu_forward");
}

void mg_cu_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind)
{
	if (!n)
		return;
	gelu_kernel<<<mg_cu_grid(n), MG_CU_THREADS>>>(dinp, inp, dout, n, kind);
	MG_CU_LAUNCHED("gelu_backward");
}
