/* Linear layers (CUDA) through cuBLAS in fp32, as PyTorch's Linear:
 * out (N,OC) = inp (N,IC) w^T + bias with w (OC,IC), row-major. cuBLAS is
 * column-major, where a row-major (r,c) matrix reads as its transpose
 * (c,r), so every product below is written for the transposes:
 *   out^T (OC,N) = w (OC,IC) inp^T (IC,N)      sgemm(T, N)
 *   dinp^T (IC,N) = w^T (IC,OC) dout^T (OC,N)  sgemm(N, N)
 *   dw^T (IC,OC) += inp^T (IC,N) dout (N,OC)   sgemm(N, T)
 * dbias is a column sum in a fixed order (mg_cu_colsum_add). */
#include "cuda_common.cuh"

#define COL_THREADS 128

static __global__ void bias_rows(float *out, const float *bias, size_t N, uint32_t OC)
{
	MG_CU_FOR(i, N * OC)
		out[i] = bias[i % OC];
}

static __global__ void colsum_parts(float *part, const float *src, size_t N, uint32_t C, size_t rows)
{
	size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y;
	size_t lo = k * rows, hi = lo + rows < N ? lo + rows : N;
	float s = 0.0f;

	if (c >= C)
		return;
	for (size_t n = lo; n < hi; n++)
		s += src[n * C + c];
	part[k * C + c] = s;
}

static __global__ void colsum_total(float *dst, const float *part, size_t chunks, uint32_t C)
{
	size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	float s = 0.0f;

	if (c >= C)
		return;
	for (size_t k = 0; k < chunks; k++)
		s += part[k * C + c];
	dst[c] += s;
}

void mg_cu_colsum_add(float *dst, const float *src, size_t N, uint32_t C)
{
	/* chunks of at least 32 rows, at most 1024 chunks: a function of N only */
	size_t rows = (N + 1023) / 1024 < 32 ? 32 : (N + 1023) / 1024, chunks = (N + rows - 1) / rows;
	float *part;

	if (!N || !C || !(part = mg_cu_scratch(MG_CU_SCRATCH_COLS, chunks * C)))
		return;
	colsum_parts<<<dim3((C + COL_THREADS - 1) / COL_THREADS, (unsigned)chunks), COL_THREADS>>>(part, src, N, C,
												 rows);
	MG_CU_LAUNCHED("column sums");
	colsum_total<<<(C + COL_THREADS - 1) / COL_THREADS, COL_THREADS>>>(dst, part, chunks, C);
	MG_CU_LAUNCHED("column sums");
}

void mg_cu_matmul_forward(float *out, const float *inp, const float *w, const float *bias, size_t N, uint32_t IC,
			  uint32_t OC)
{
	const float one = 1.0f, zero = 0.0f;

	if (!N || !OC)
		return;
	if (bias) {
		bias_rows<<<mg_cu_grid(N * OC), MG_CU_THREADS>>>(out, bias, N, OC);
		MG_CU_LAUNCHED("matmul_forward");
	}
	mg_cu_blas_ok(cublasSgemm(mg_cu_blas(), CUBLAS_OP_T, CUBLAS_OP_N, (int)OC, (int)N, (int)IC, &one, w, (int)IC,
				  inp, (int)IC, bias ? &one : &zero, out, (int)OC),
		      "matmul_forward: cublasSgemm");
}

void mg_cu_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
			   size_t N, uint32_t IC, uint32_t OC)
{
	const float one = 1.0f, zero = 0.0f;

	if (!N)
		return;
	if (dinp)
		mg_cu_blas_ok(cublasSgemm(mg_cu_blas(), CUBLAS_OP_N, CUBLAS_OP_N, (int)IC, (int)N, (int)OC, &one, w,
					  (int)IC, dout, (int)OC, &zero, dinp, (int)IC),
			      "matmul_backward: cublasSgemm");
	mg_cu_blas_ok(cublasSgemm(mg_cu_blas(), CUBLAS_OP_N, CUBLAS_OP_T, (int)IC, (int)OC, (int)N, &one, inp, (int)IC,
				  dout, (int)OC, &one, dw, (int)IC),
		      "matmul_backward: cublasSgemm");
	if (dbias)
		mg_cu_colsum_add(dbias, dout, N, OC);
}
