/* Token and position embedding with its dropout (CUDA):
 * out[b,t,:] = dropout(wte[ids[b,t],:] + wpe[t,:]), out (B,T,C).
 * Backward scatters by token without atomics (several positions share a
 * token): thread (c, p) owns channel c of the tokens whose id is p modulo
 * PARTS and walks every position in order, so each element gets its terms
 * in the CPU's order; the ids are read by a whole warp at once. dwpe has one
 * thread per (t, c), sequences in order. */
#include "cuda_common.cuh"

static __global__ void embed_fwd(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t T,
				 uint32_t C, size_t total, mg_backend_dropout d, uint32_t thr, float ks)
{
	MG_CU_FOR(i, total) {
		size_t n = i / C, c = i % C;
		float x = wte[(size_t)ids[n] * C + c];
		if (wpe)
			x = x + wpe[(n % T) * C + c];
		out[i] = mg_cu_drop(x, d, thr, ks, i);
	}
}

#define PARTS 32u /* token classes of the dwte scatter */

static __global__ void embed_bwd_wte(float *dwte, const float *dout, const uint32_t *ids, size_t N, uint32_t C,
				     mg_backend_dropout d, uint32_t thr, float ks)
{
	size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	uint32_t part = blockIdx.y;

	if (c >= C)
		return;
	for (size_t n = 0; n < N; n++) {
		uint32_t id = ids[n];
		if (id % PARTS == part)
			dwte[(size_t)id * C + c] += mg_cu_drop(dout[n * C + c], d, thr, ks, n * C + c);
	}
}

static __global__ void embed_bwd_wpe(float *dwpe, const float *dout, uint32_t B, uint32_t T, uint32_t C, mg_backend_dropout d,
				     uint32_t thr, float ks)
{
	MG_CU_FOR(e, (size_t)T * C) {
		float acc = dwpe[e];
		for (uint32_t b = 0; b < B; b++) {
			size_t at = (size_t)b * T * C + e;
			acc += mg_cu_drop(dout[at], d, thr, ks, at);
		}
		dwpe[e] = acc;
	}
}

void mg_cu_embed_forward(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t B, uint32_t T,
			 uint32_t C, mg_backend_dropout d)
{
	size_t total = (size_t)B * T * C;

	if (!total)
		return;
	embed_fwd<<<mg_cu_grid(total), MG_CU_THREADS>>>(out, ids, wte, wpe, T, C, total, d, mg_backend_dropout_threshold(d.p),
							mg_cu_keep_scale(d));
	MG_CU_LAUNCHED("embed_forward");
}

void mg_cu_embed_backward(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			  uint32_t C, mg_backend_dropout d)
{
	if (!B || !T || !C)
		return;
	embed_bwd_wte<<<dim3((C + 63) / 64, PARTS), 64>>>(dwte, dout, ids, (size_t)B * T, C, d, mg_backend_dropout_threshold(d.p),
							  mg_cu_keep_scale(d));
	MG_CU_LAUNCHED("embed_backward");
	if (!dwpe)
		return;
	embed_bwd_wpe<<<mg_cu_grid((size_t)T * C), MG_CU_THREADS>>>(dwpe, dout, B, T, C, d, mg_backend_dropout_threshold(d.p),
								     mg_cu_keep_scale(d));
	MG_CU_LAUNCHED("embed_backward");
}
