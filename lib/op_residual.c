/* Residual connections with the residual dropout (CPU):
 * out = res + dropout(inp), elementwise over n values. */
#include "backend_cpu.h"
#include "threads.h"

void mg_cpu_residual_forward(float *out, const float *res, const float *inp, size_t n, mg_dropout d)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;
	uint32_t thr = mg_dropout_threshold(d.p);
	float keep_scale = d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		if (d.p > 0.0f)
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
				out[i] = res[i] + (mg_dropout_keep(d.seed, i, thr) ? inp[i] * keep_scale : 0.0f);
		else
			for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
				out[i] = res[i] + inp[i];
	}
}

void mg_cpu_dropout_backward(float *dinp, const float *dout, size_t n, mg_dropout d)
{
	size_t nb = (n + MG_CPU_BLOCK - 1) / MG_CPU_BLOCK;
	uint32_t thr = mg_dropout_threshold(d.p);
	float keep_scale = d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t k = 0; k < nb; k++) {
		size_t hi = (k + 1) * MG_CPU_BLOCK < n ? (k + 1) * MG_CPU_BLOCK : n;
		for (size_t i = k * MG_CPU_BLOCK; i < hi; i++)
			dinp[i] = mg_dropout_keep(d.seed, i, thr) ? dout[i] * keep_scale : 0.0f;
	}
}
