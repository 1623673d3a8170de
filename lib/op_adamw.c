/* AdamW (CPU) with torch.optim.AdamW's arithmetic, so that results match it
 * to rounding: decoupled weight decay, then the bias-corrected Adam step. */
#include <math.h>

#include "backend_cpu.h"
#include "threads.h"

void mg_cpu_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const mg_adamw_args *a)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;
	float decay = 1.0f - a->lr * a->weight_decay;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		for (size_t i = k * MG_CPU_BLOCK; i < hi; i++) {
			float mi = a->beta1 * m[i] + (1.0f - a->beta1) * g[i];
			float vi = a->beta2 * v[i] + (1.0f - a->beta2) * g[i] * g[i];
			m[i] = mi;
			v[i] = vi;
			p[i] = p[i] * decay - a->step_size * mi / (sqrtf(vi) / a->bc2_sqrt + a->eps);
		}
	}
}
