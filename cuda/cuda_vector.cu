/* Whole-vector kernels of the CUDA backend: clearing and scaling gradients,
 * and the sum of squares behind the gradient norm, in double, through a
 * fixed number of block partial sums added in a fixed order. */
#include "cuda_common.cuh"

#define SS_BLOCKS 512 /* partial sums of sum_squares, a fixed count */

static __global__ void scale_kernel(float *p, size_t n, float s)
{
	MG_CU_FOR(i, n)
		p[i] *= s;
}

/* part[block] = the sum of p[i]^2 over the block's grid-stride elements */
static __global__ void sumsq_parts(double *part, const float *p, size_t n)
{
	__shared__ double sh[32];
	double s = 0.0;

	MG_CU_FOR(i, n)
		s += (double)p[i] * p[i];
	s = mg_cu_block_sum(s, sh);
	if (threadIdx.x == 0)
		part[blockIdx.x] = s;
}

static __global__ void sumsq_total(double *part)
{
	__shared__ double sh[32];
	double s = mg_cu_block_sum(part[threadIdx.x], sh);

	if (threadIdx.x == 0)
		part[SS_BLOCKS] = s;
}

void mg_cu_zero(float *p, size_t n)
{
	if (n)
		mg_cu_ok(cudaMemsetAsync(p, 0, n * sizeof *p, 0), "zero");
}

void mg_cu_scale(float *p, size_t n, float s)
{
	if (!n)
		return;
	scale_kernel<<<mg_cu_grid(n), MG_CU_THREADS>>>(p, n, s);
	MG_CU_LAUNCHED("scale");
}

double mg_cu_sum_squares(const float *p, size_t n)
{
	double *part = (double *)mg_cu_scratch(MG_CU_SCRATCH_REDUCE, 2 * (SS_BLOCKS + 1));
	double total = NAN;

	if (!part)
		return NAN;
	sumsq_parts<<<SS_BLOCKS, MG_CU_THREADS>>>(part, p, n);
	MG_CU_LAUNCHED("sum_squares");
	sumsq_total<<<1, SS_BLOCKS>>>(part);
	MG_CU_LAUNCHED("sum_squares");
	if (!mg_cu_ok(cudaMemcpy(&total, part + SS_BLOCKS, sizeof total, cudaMemcpyDeviceToHost), "sum_squares"))
		return NAN;
	return total;
}
