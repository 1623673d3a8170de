/* GELU (CPU), elementwise: exact x Phi(x) = x (1 + erf(x/sqrt 2)) / 2, or
 * the tanh approximation x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3),
 * as torch.nn.functional.gelu with approximate 'none' or 'tanh'. Derivatives:
 * erf: Phi(x) + x phi(x); tanh: (1 + t)/2 + x (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2) / 2.
 * The tanh form is computed as x s with s = 1 / (1 + e), e = exp(-2u) (the
 * same function: (1 + tanh u) / 2 = s), which has no cancellation; then
 * 1 - t^2 = 4 s (1 - s) and 1 - s = e s, so the derivative is
 * s + 2 x s (e s) sqrt(2/pi) (1 + 3 0.044715 x^2). With AVX2 eight values at
 * a time, the last partial vector padded, so every element gets the same
 * bits wherever it sits. */
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

#define K0 0.7978845608028654f /* sqrt(2/pi) */
#define K1 0.044715f
#define RSQRT2 0.7071067811865476f
#define RSQRT2PI 0.3989422804014327f

#if MG_VMATH_AVX2
/* The tanh GELU of 8 values (dy NULL), or dy times its derivative. */
static inline __m256 gelu8(__m256 x, const float *dy, size_t i, __m256i tail, int partial)
{
	__m256 x2 = _mm256_mul_ps(x, x), one = _mm256_set1_ps(1.0f);
	__m256 u = _mm256_mul_ps(x, _mm256_fmadd_ps(_mm256_set1_ps(K0 * K1), x2, _mm256_set1_ps(K0)));
	__m256 e = mg_v8_exp(_mm256_mul_ps(_mm256_set1_ps(-2.0f), u)), s = _mm256_div_ps(one, _mm256_add_ps(one, e)), d;

	if (!dy)
		return _mm256_mul_ps(x, s);
	/* s + 2 x s (e s) K0 (1 + 3 K1 x^2) */
	d = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(2.0f * K0), x), _mm256_mul_ps(s, _mm256_mul_ps(e, s))),
			  _mm256_fmadd_ps(_mm256_set1_ps(3.0f * K1), x2, one));
	d = _mm256_add_ps(s, d);
	return _mm256_mul_ps(partial ? _mm256_maskload_ps(dy + i, tail) : _mm256_loadu_ps(dy + i), d);
}
#endif

/* out[0..n) = gelu(x) (tanh form), or with dy, dy * gelu'(x); out may be x or dy. */
static void gelu_tanh(float *out, const float *x, const float *dy, size_t n)
{
	size_t i = 0;
#if MG_VMATH_AVX2
	__m256i tail = mg_v8_mask(n % 8);

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(out + i, gelu8(_mm256_loadu_ps(x + i), dy, i, tail, 0));
	if (i < n)
		_mm256_maskstore_ps(out + i, tail, gelu8(_mm256_maskload_ps(x + i, tail), dy, i, tail, 1));
#else
	for (; i < n; i++) {
		/* the argument capped as mg_v8_exp caps it, so e s stays finite */
		float v = x[i], e = expf(fminf(-2.0f * v * (K0 + K0 * K1 * v * v), 88.0f)), s = 1.0f / (1.0f + e);
		out[i] = dy ? dy[i] * (s + 2.0f * K0 * v * s * (e * s) * (1.0f + 3.0f * K1 * v * v)) : v * s;
	}
#endif
}

void mg_cpu_gelu_forward(float *out, const float *inp, size_t n, uint32_t kind)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		if (kind == MG_GELU_ERF)
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
				out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * RSQRT2));
		else
			gelu_tanh(out + k * MG_CPU_BLOCK, inp + k * MG_CPU_BLOCK, NULL, hi - k * MG_CPU_BLOCK);
	}
}

void mg_cpu_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		if (kind == MG_GELU_ERF)
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++) {
				float x = inp[i];
				dinp[i] = dout[i] * (0.5f * (1.0f + erff(x * RSQRT2)) + x * RSQRT2PI * expf(-0.5f * x * x));
			}
		else
			gelu_tanh(dinp + k * MG_CPU_BLOCK, inp + k * MG_CPU_BLOCK, dout + k * MG_CPU_BLOCK, hi - k * MG_CPU_BLOCK);
	}
}
