/* AdamW (CUDA) with torch.optim.AdamW's arithmetic, the CPU's formula
 * (lib/backend/cpu/cpu_adamw.c), one thread per parameter. */
#include "cuda_common.cuh"

static __global__ void adamw_kernel(float *p, const float *g, float *m, float *v, size_t n, mg_backend_adamw_args a)
{
	float decay = 1.0f - a.lr * a.weight_decay;

	MG_CU_FOR(i, n) {
		float gi = g[i];
		float mi = a.beta1 * m[i] + (1.0f - a.beta1) * gi;
		float vi = a.beta2 * v[i] + (1.0f - a.beta2) * gi * gi;
		m[i] = mi;
		v[i] = vi;
		p[i] = p[i] * decay - a.step_size * mi / (sqrtf(vi) / a.bc2_sqrt + a.eps);
	}
}

void mg_cu_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const mg_backend_adamw_args *a)
{
	if (!n)
		return;
	adamw_kernel<<<mg_cu_grid(n), MG_CU_THREADS>>>(p, g, m, v, n, *a);
	MG_CU_LAUNCHED("adamw_update");
}
