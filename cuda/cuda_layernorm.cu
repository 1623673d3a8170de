/* Layer normalisation (CUDA): a block per row for the statistics and dx
 * (mean, then the biased variance around it, eps 1e-5, as the CPU), and
 * the column sums of dw and db as partial sums over fixed chunks of rows,
 * added chunk by chunk in order: no atomics, the same bits every run. */
#include "cuda_common.cuh"

#define LN_EPS 1e-5f
#define ROW_THREADS 256
#define COL_THREADS 128

static __global__ void ln_fwd(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
			      uint32_t C)
{
	__shared__ float sh[32];
	size_t n = blockIdx.x;
	const float *x = inp + n * C;
	float *y = out + n * C, s = 0.0f, m, v;

	for (uint32_t c = threadIdx.x; c < C; c += blockDim.x)
		s += x[c];
	m = mg_cu_block_sum(s, sh) / (float)C;
	s = 0.0f;
	for (uint32_t c = threadIdx.x; c < C; c += blockDim.x)
		s += (x[c] - m) * (x[c] - m);
	v = mg_cu_block_sum(s, sh) / (float)C;
	s = 1.0f / sqrtf(v + LN_EPS);
	for (uint32_t c = threadIdx.x; c < C; c += blockDim.x)
		y[c] = (x[c] - m) * s * w[c] + b[c];
	if (threadIdx.x == 0)
		mean[n] = m, rstd[n] = s;
}

static __global__ void ln_bwd_dx(float *dinp, const float *dout, const float *inp, const float *w, const float *mean,
				 const float *rstd, uint32_t C)
{
	__shared__ float sh[32];
	size_t n = blockIdx.x;
	const float *x = inp + n * C, *dy = dout + n * C;
	float *dx = dinp + n * C, m = mean[n], s = rstd[n], sg = 0.0f, sgx = 0.0f, g_mean, gx_mean;

	for (uint32_t c = threadIdx.x; c < C; c += blockDim.x) {
		float g = dy[c] * w[c];
		sg += g;
		sgx += g * (x[c] - m) * s;
	}
	g_mean = mg_cu_block_sum(sg, sh) / (float)C;
	gx_mean = mg_cu_block_sum(sgx, sh) / (float)C;
	for (uint32_t c = threadIdx.x; c < C; c += blockDim.x)
		dx[c] += s * (dy[c] * w[c] - g_mean - (x[c] - m) * s * gx_mean);
}

/* part_w, part_b (chunks, C): sums over the rows of chunk blockIdx.y */
static __global__ void ln_bwd_parts(float *part_w, float *part_b, const float *dout, const float *inp,
				    const float *mean, const float *rstd, size_t N, uint32_t C, size_t rows)
{
	size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y;
	size_t lo = k * rows, hi = lo + rows < N ? lo + rows : N;
	float sw = 0.0f, sb = 0.0f;

	if (c >= C)
		return;
	for (size_t n = lo; n < hi; n++) {
		float dy = dout[n * C + c];
		sw += dy * (inp[n * C + c] - mean[n]) * rstd[n];
		sb += dy;
	}
	part_w[k * C + c] = sw;
	part_b[k * C + c] = sb;
}

static __global__ void ln_bwd_sum(float *dw, float *db, const float *part_w, const float *part_b, size_t chunks,
				  uint32_t C)
{
	size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	float sw = 0.0f, sb = 0.0f;

	if (c >= C)
		return;
	for (size_t k = 0; k < chunks; k++) {
		sw += part_w[k * C + c];
		sb += part_b[k * C + c];
	}
	dw[c] += sw;
	db[c] += sb;
}

void mg_cu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
			     size_t N, uint32_t C)
{
	if (!N)
		return;
	ln_fwd<<<(unsigned)N, ROW_THREADS>>>(out, mean, rstd, inp, w, b, C);
	MG_CU_LAUNCHED("layernorm_forward");
}

void mg_cu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
			      const float *mean, const float *rstd, size_t N, uint32_t C)
{
	/* chunks of at least 32 rows, at most 1024 chunks: a function of N only */
	size_t rows = (N + 1023) / 1024 < 32 ? 32 : (N + 1023) / 1024, chunks = (N + rows - 1) / rows;
	float *part;

	if (!N)
		return;
	ln_bwd_dx<<<(unsigned)N, ROW_THREADS>>>(dinp, dout, inp, w, mean, rstd, C);
	MG_CU_LAUNCHED("layernorm_backward");
	if (!(part = mg_cu_scratch(MG_CU_SCRATCH_COLS, 2 * chunks * C)))
		return;
	ln_bwd_parts<<<dim3((C + COL_THREADS - 1) / COL_THREADS, (unsigned)chunks), COL_THREADS>>>(
		part, part + chunks * C, dout, inp, mean, rstd, N, C, rows);
	MG_CU_LAUNCHED("layernorm_backward");
	ln_bwd_sum<<<(C + COL_THREADS - 1) / COL_THREADS, COL_THREADS>>>(dw, db, part, part + chunks * C, chunks, C);
	MG_CU_LAUNCHED("layernorm_backward");
}
