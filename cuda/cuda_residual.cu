/* Residual connections with the residual dropout (CUDA), elementwise:
 * out = res + dropout(inp); backward dinp = dropout(dout), the same masks
 * as the CPU's (mg_hash64 of seed + index). */
#include "cuda_common.cuh"

static __global__ void residual_kernel(float *out, const float *res, const float *inp, size_t n, mg_backend_dropout d,
				       uint32_t thr, float ks)
{
	MG_CU_FOR(i, n)
		out[i] = res[i] + mg_cu_drop(inp[i], d, thr, ks, i);
}

static __global__ void dropout_kernel(float *dinp, const float *dout, size_t n, mg_backend_dropout d, uint32_t thr, float ks)
{
	MG_CU_FOR(i, n)
		dinp[i] = mg_cu_drop(dout[i], d, thr, ks, i);
}

void mg_cu_residual_forward(float *out, const float *res, const float *inp, size_t n, mg_backend_dropout d)
{
	if (!n)
		return;
	residual_kernel<<<mg_cu_grid(n), MG_CU_THREADS>>>(out, res, inp, n, d, mg_backend_dropout_threshold(d.p),
							  mg_cu_keep_scale(d));
	MG_CU_LAUNCHED("residual_forward");
}

void mg_cu_dropout_backward(float *dinp, const float *dout, size_t n, mg_backend_dropout d)
{
	if (!n)
		return;
	dropout_kernel<<<mg_cu_grid(n), MG_CU_THREADS>>>(dinp, dout, n, d, mg_backend_dropout_threshold(d.p),
							 mg_cu_keep_scale(d));
	MG_CU_LAUNCHED("dropout_backward");
}
