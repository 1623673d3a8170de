/* AdamW (CPU) with torch.optim.AdamW's arithmetic, so that results match it
 * to rounding: decoupled weight decay, then the bias-corrected Adam step;
 * 8 parameters at a time with AVX2. */
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

void mg_cpu_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const mg_backend_adamw_args *a)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;
	float decay = 1.0f - a->lr * a->weight_decay;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n, i = k * MG_CPU_BLOCK;
#if MG_VMATH_AVX2
		__m256 b1 = _mm256_set1_ps(a->beta1), c1 = _mm256_set1_ps(1.0f - a->beta1), b2 = _mm256_set1_ps(a->beta2),
		       c2 = _mm256_set1_ps(1.0f - a->beta2), dec = _mm256_set1_ps(decay), ss = _mm256_set1_ps(a->step_size),
		       bc = _mm256_set1_ps(a->bc2_sqrt), eps = _mm256_set1_ps(a->eps);
		for (; i + 8 <= hi; i += 8) {
			__m256 gi = _mm256_loadu_ps(g + i);
			__m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
			__m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
			__m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc), eps);
			_mm256_storeu_ps(m + i, mi);
			_mm256_storeu_ps(v + i, vi);
			_mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(p + i), dec),
							      _mm256_div_ps(_mm256_mul_ps(ss, mi), den)));
		}
#endif
		for (; i < hi; i++) {
			float mi = a->beta1 * m[i] + (1.0f - a->beta1) * g[i];
			float vi = a->beta2 * v[i] + (1.0f - a->beta2) * g[i] * g[i];
			m[i] = mi;
			v[i] = vi;
			p[i] = p[i] * decay - a->step_size * mi / (sqrtf(vi) / a->bc2_sqrt + a->eps);
		}
	}
}
