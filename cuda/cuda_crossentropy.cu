/* Cross-entropy with a loss mask (CUDA), a block per row: loss =
 * logsumexp(l) - l[target] (max, then the sum of exp(l - max)); backward
 * overwrites the row with scale * (softmax - onehot), 0 on masked rows. */
#include "cuda_common.cuh"

#define CE_THREADS 256

/* log sum exp of row l, to every thread of the block */
static __device__ float row_lse(const float *l, uint32_t V, float *sh)
{
	float mx = -INFINITY, s = 0.0f;

	for (uint32_t v = threadIdx.x; v < V; v += blockDim.x)
		mx = fmaxf(mx, l[v]);
	mx = mg_cu_block_max(mx, sh);
	for (uint32_t v = threadIdx.x; v < V; v += blockDim.x)
		s += expf(l[v] - mx);
	return mx + logf(mg_cu_block_sum(s, sh));
}

static __global__ void ce_fwd(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
			      uint32_t V)
{
	__shared__ float sh[32];
	size_t n = blockIdx.x;
	const float *l = logits + n * V;
	float lse;

	if (mask && !mask[n]) {
		if (threadIdx.x == 0)
			losses[n] = 0.0f;
		return;
	}
	lse = row_lse(l, V, sh);
	if (threadIdx.x == 0)
		losses[n] = lse - l[targets[n]];
}

static __global__ void ce_bwd(float *logits, const uint32_t *targets, const uint8_t *mask, uint32_t V, float scale)
{
	__shared__ float sh[32];
	size_t n = blockIdx.x;
	float *l = logits + n * V, lse;
	uint32_t t;

	if (mask && !mask[n]) {
		for (uint32_t v = threadIdx.x; v < V; v += blockDim.x)
			l[v] = 0.0f;
		return;
	}
	lse = row_lse(l, V, sh);
	t = targets[n];
	__syncthreads(); /* every thread has read the row before any writes */
	for (uint32_t v = threadIdx.x; v < V; v += blockDim.x)
		l[v] = scale * (expf(l[v] - lse) - (v == t ? 1.0f : 0.0f));
}

void mg_cu_crossentropy_forward(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				size_t N, uint32_t V)
{
	if (!N)
		return;
	ce_fwd<<<(unsigned)N, CE_THREADS>>>(losses, logits, targets, mask, V);
	MG_CU_LAUNCHED("crossentropy_forward");
}

void mg_cu_crossentropy_backward(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				 float scale)
{
	if (!N)
		return;
	ce_bwd<<<(unsigned)N, CE_THREADS>>>(logits, targets, mask, V, scale);
	MG_CU_LAUNCHED("crossentropy_backward");
}
