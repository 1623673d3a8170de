/* Residual connections with the residual dropout (CPU):
 * out = res + dropout(inp), elementwise over n values; the dropout masks
 * eight at a time with AVX2 (the same bits as the scalar hash). */
#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

void mg_cpu_residual_forward(float *out, const float *res, const float *inp, size_t n, mg_backend_dropout d)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;
	uint32_t thr = mg_backend_dropout_threshold(d.p);
	float keep_scale = d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n, i = k * MG_CPU_BLOCK;
		if (d.p > 0.0f) {
#if MG_VMATH_AVX2
			for (; i + 8 <= hi; i += 8) {
				__m256 x = _mm256_mul_ps(_mm256_loadu_ps(inp + i), _mm256_set1_ps(keep_scale));
				x = _mm256_and_ps(x, mg_v8_drop_mask(d.seed, i, thr));
				_mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(res + i), x));
			}
#endif
			for (; i < hi; i++)
				out[i] = res[i] + (mg_backend_dropout_keep(d.seed, i, thr) ? inp[i] * keep_scale : 0.0f);
		} else {
			for (; i < hi; i++)
				out[i] = res[i] + inp[i];
		}
	}
}

void mg_cpu_dropout_backward(float *dinp, const float *dout, size_t n, mg_backend_dropout d)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;
	uint32_t thr = mg_backend_dropout_threshold(d.p);
	float keep_scale = d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n, i = k * MG_CPU_BLOCK;
#if MG_VMATH_AVX2
		for (; i + 8 <= hi; i += 8) {
			__m256 x = _mm256_mul_ps(_mm256_loadu_ps(dout + i), _mm256_set1_ps(keep_scale));
			_mm256_storeu_ps(dinp + i, _mm256_and_ps(x, mg_v8_drop_mask(d.seed, i, thr)));
		}
#endif
		for (; i < hi; i++)
			dinp[i] = mg_backend_dropout_keep(d.seed, i, thr) ? dout[i] * keep_scale : 0.0f;
	}
}
