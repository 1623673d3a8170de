/* Causal self-attention with the time-weighting variants (CUDA); the math
 * is lib/backend/cpu/cpu_attention_ref.c's. Per sequence b, the H heads are one strided
 * batched product in cuBLAS (fp32); row kernels (a block per query row)
 * do the masked softmax, the time weights and dropout:
 *   S = q k^T / sqrt(hs)  (into probs)       P = softmax_{j<=i}(S) (probs)
 *   A = P W M             (scratch)          y = A v
 * Backward, with A recomputed:
 *   dv = A^T dy           D = (dy v^T) M     (datt)
 *   dS = P (D W - rowsum(P D W)) / sqrt(hs)  (scratch, over A)
 *   dq = dS k             dk = dS^T q
 *   dW[h,i,j] = sum_b D P, summed over b in order by one thread per
 *   element; the circulant factors then by one thread per factor, walking
 *   the rows in the CPU's order. No atomics anywhere.
 * Shapes: qkv (B,T,3C) with head h of q, k, v at channels h hs, C + h hs,
 * 2C + h hs (row stride 3C); probs, datt (B,H,T,T); out, dout (B,T,C). In
 * cuBLAS's column-major terms a row-major (r,c) matrix is its transpose. */
#include "cuda_common.cuh"

#define ROW_THREADS 128

/* The time weight W[i,j] of head h, j <= i (1 for vanilla). */
static __device__ inline float time_weight(const mg_backend_attn &a, uint32_t h, uint32_t i, uint32_t j)
{
	size_t tb = a.block;

	switch (a.variant) {
	case MG_ATTN_TIME_WEIGHTING: return a.tw[(h * tb + i) * tb + j];
	case MG_ATTN_CIRCULANT: return a.tw_w[h * tb + tb - 1 - (i - j)] * a.tw_b[h * tb + j];
	default: return 1.0f;
	}
}

/* Row r = (b h) T + i of probs: S in, P out (0 above the diagonal), and
 * A = P W M into att. */
static __global__ void softmax_rows(float *probs, float *att, mg_backend_attn a, uint32_t thr, float ks)
{
	__shared__ float sh[32];
	uint32_t T = a.T, i = blockIdx.x % T, h = (blockIdx.x / T) % a.H;
	size_t r = blockIdx.x;
	float *p = probs + r * T, *A = att + r * T, mx = -INFINITY, sum = 0.0f;

	for (uint32_t j = threadIdx.x; j <= i; j += blockDim.x)
		mx = fmaxf(mx, p[j]);
	mx = mg_cu_block_max(mx, sh);
	for (uint32_t j = threadIdx.x; j <= i; j += blockDim.x)
		sum += expf(p[j] - mx);
	sum = mg_cu_block_sum(sum, sh);
	for (uint32_t j = threadIdx.x; j < T; j += blockDim.x) {
		float pj = 0.0f, w = 0.0f;
		if (j <= i) {
			pj = expf(p[j] - mx) / sum;
			w = mg_cu_drop(pj * time_weight(a, h, i, j), a.drop, thr, ks, r * T + j);
		}
		p[j] = pj;
		A[j] = w;
	}
}

/* Backward row kernel: D = Draw M into datt (0 above the diagonal) and dS
 * into att. */
static __global__ void softmax_back_rows(float *datt, float *att, const float *probs, mg_backend_attn a, uint32_t thr,
					 float ks, float scale)
{
	__shared__ float sh[32];
	uint32_t T = a.T, i = blockIdx.x % T, h = (blockIdx.x / T) % a.H;
	size_t r = blockIdx.x;
	const float *p = probs + r * T;
	float *d = datt + r * T, *ds = att + r * T, dot = 0.0f;

	for (uint32_t j = threadIdx.x; j < T; j += blockDim.x) {
		float dj = j <= i ? mg_cu_drop(d[j], a.drop, thr, ks, r * T + j) : 0.0f;
		d[j] = dj;
		if (j <= i)
			dot += p[j] * dj * time_weight(a, h, i, j);
	}
	dot = mg_cu_block_sum(dot, sh);
	for (uint32_t j = threadIdx.x; j < T; j += blockDim.x)
		ds[j] = j <= i ? p[j] * (d[j] * time_weight(a, h, i, j) - dot) * scale : 0.0f;
}

/* A = P W M again (backward), one thread per element */
static __global__ void weights_again(float *att, const float *probs, mg_backend_attn a, uint32_t thr, float ks, size_t total)
{
	uint32_t T = a.T;

	MG_CU_FOR(e, total) {
		size_t r = e / T;
		uint32_t j = (uint32_t)(e % T), i = (uint32_t)(r % T), h = (uint32_t)((r / T) % a.H);
		att[e] = j <= i ? mg_cu_drop(probs[e] * time_weight(a, h, i, j), a.drop, thr, ks, e) : 0.0f;
	}
}

/* g[h,i,j] = sum over b of datt P, b in order (0 above the diagonal);
 * added to dtw when it is given, else stored in g for the circulant form */
static __global__ void tw_grad(float *dtw, float *g, const float *datt, const float *probs, mg_backend_attn a)
{
	uint32_t T = a.T, H = a.H;
	size_t tb = a.block;

	MG_CU_FOR(e, (size_t)H * T * T) {
		uint32_t j = (uint32_t)(e % T), i = (uint32_t)((e / T) % T), h = (uint32_t)(e / ((size_t)T * T));
		float s = 0.0f;
		if (j <= i)
			for (uint32_t b = 0; b < a.B; b++) {
				size_t at = (((size_t)b * H + h) * T + i) * T + j;
				s += datt[at] * probs[at];
			}
		if (dtw) {
			if (j <= i)
				dtw[((size_t)h * tb + i) * tb + j] += s;
		} else {
			g[e] = s;
		}
	}
}

/* Circulant factors, each by one thread adding its terms in the CPU's order
 * (rows i ascending): dtw_b[h,j] over i >= j, dtw_w[h,block-1-d] over the
 * diagonal i - j = d. */
static __global__ void circulant_grad(float *dtw_w, float *dtw_b, const float *g, mg_backend_attn a)
{
	uint32_t T = a.T, H = a.H;
	size_t tb = a.block;

	MG_CU_FOR(e, (size_t)2 * H * T) {
		uint32_t k = (uint32_t)(e % T), h = (uint32_t)((e / T) % H);
		const float *gh = g + (size_t)h * T * T;
		if (e < (size_t)H * T) { /* k = j */
			float acc = dtw_b[h * tb + k];
			for (uint32_t i = k; i < T; i++)
				acc += gh[(size_t)i * T + k] * a.tw_w[h * tb + tb - 1 - (i - k)];
			dtw_b[h * tb + k] = acc;
		} else { /* k = d */
			size_t wi = h * tb + tb - 1 - k;
			float acc = dtw_w[wi];
			for (uint32_t i = k; i < T; i++)
				acc += gh[(size_t)i * T + (i - k)] * a.tw_b[h * tb + (i - k)];
			dtw_w[wi] = acc;
		}
	}
}

/* One strided batched product over the H heads of a sequence. */
static void gemm_heads(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha, const float *A,
		       int lda, long long sa, const float *B, int ldb, long long sb, float *Cm, int ldc, long long sc,
		       int heads, const char *what)
{
	const float zero = 0.0f;

	mg_cu_blas_ok(cublasSgemmStridedBatched(mg_cu_blas(), ta, tb, m, n, k, &alpha, A, lda, sa, B, ldb, sb, &zero, Cm,
						ldc, sc, heads),
		      what);
}

void mg_cu_attention_forward(float *out, float *probs, const float *qkv, const mg_backend_attn *a)
{
	uint32_t B = a->B, T = a->T, C = a->C, H = a->H, hs = C / H;
	size_t tt = (size_t)T * T, rows = (size_t)B * H * T;
	int C3 = 3 * (int)C;
	float *att;

	if (!rows || !(att = mg_cu_scratch(MG_CU_SCRATCH_ATT, rows * T)))
		return;
	for (uint32_t b = 0; b < B; b++) {
		const float *q = qkv + (size_t)b * T * C3;
		/* S^T (T,T) = k (T,hs) q^T (hs,T), scaled */
		gemm_heads(CUBLAS_OP_T, CUBLAS_OP_N, (int)T, (int)T, (int)hs, 1.0f / sqrtf((float)hs), q + C, C3, hs, q,
			   C3, hs, probs + (size_t)b * H * tt, (int)T, (long long)tt, (int)H, "attention_forward: scores");
	}
	softmax_rows<<<(unsigned)rows, ROW_THREADS>>>(probs, att, *a, mg_backend_dropout_threshold(a->drop.p),
						       mg_cu_keep_scale(a->drop));
	MG_CU_LAUNCHED("attention_forward: softmax");
	for (uint32_t b = 0; b < B; b++) {
		const float *q = qkv + (size_t)b * T * C3;
		/* y^T (hs,T) = v^T (hs,T) A^T (T,T) */
		gemm_heads(CUBLAS_OP_N, CUBLAS_OP_N, (int)hs, (int)T, (int)T, 1.0f, q + 2 * (size_t)C, C3, hs,
			   att + (size_t)b * H * tt, (int)T, (long long)tt, out + (size_t)b * T * C, (int)C, hs, (int)H,
			   "attention_forward: values");
	}
}

void mg_cu_attention_backward(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt, const float *dout,
			      const float *qkv, const float *probs, const mg_backend_attn *a)
{
	uint32_t B = a->B, T = a->T, C = a->C, H = a->H, hs = C / H;
	size_t tt = (size_t)T * T, rows = (size_t)B * H * T;
	int C3 = 3 * (int)C;
	uint32_t thr = mg_backend_dropout_threshold(a->drop.p);
	float ks = mg_cu_keep_scale(a->drop), *att, *g = NULL;

	if (!rows || !(att = mg_cu_scratch(MG_CU_SCRATCH_ATT, rows * T)))
		return;
	if (a->variant == MG_ATTN_CIRCULANT && !(g = mg_cu_scratch(MG_CU_SCRATCH_TW, (size_t)H * tt)))
		return;
	weights_again<<<mg_cu_grid(rows * T), MG_CU_THREADS>>>(att, probs, *a, thr, ks, rows * T);
	MG_CU_LAUNCHED("attention_backward: weights");
	for (uint32_t b = 0; b < B; b++) {
		const float *q = qkv + (size_t)b * T * C3, *dy = dout + (size_t)b * T * C;
		float *dq = dqkv + (size_t)b * T * C3;
		/* dv^T (hs,T) = dy^T (hs,T) A (T,T) */
		gemm_heads(CUBLAS_OP_N, CUBLAS_OP_T, (int)hs, (int)T, (int)T, 1.0f, dy, (int)C, hs,
			   att + (size_t)b * H * tt, (int)T, (long long)tt, dq + 2 * (size_t)C, C3, hs, (int)H,
			   "attention_backward: dv");
		/* Draw^T (T,T) = v (T,hs) dy^T (hs,T) */
		gemm_heads(CUBLAS_OP_T, CUBLAS_OP_N, (int)T, (int)T, (int)hs, 1.0f, q + 2 * (size_t)C, C3, hs, dy, (int)C,
			   hs, datt + (size_t)b * H * tt, (int)T, (long long)tt, (int)H, "attention_backward: datt");
	}
	softmax_back_rows<<<(unsigned)rows, ROW_THREADS>>>(datt, att, probs, *a, thr, ks, 1.0f / sqrtf((float)hs));
	MG_CU_LAUNCHED("attention_backward: softmax");
	for (uint32_t b = 0; b < B; b++) {
		const float *q = qkv + (size_t)b * T * C3;
		float *dq = dqkv + (size_t)b * T * C3, *ds = att + (size_t)b * H * tt;
		/* dq^T (hs,T) = k^T (hs,T) dS^T (T,T) */
		gemm_heads(CUBLAS_OP_N, CUBLAS_OP_N, (int)hs, (int)T, (int)T, 1.0f, q + C, C3, hs, ds, (int)T,
			   (long long)tt, dq, C3, hs, (int)H, "attention_backward: dq");
		/* dk^T (hs,T) = q^T (hs,T) dS (T,T) */
		gemm_heads(CUBLAS_OP_N, CUBLAS_OP_T, (int)hs, (int)T, (int)T, 1.0f, q, C3, hs, ds, (int)T, (long long)tt,
			   dq + C, C3, hs, (int)H, "attention_backward: dk");
	}
	if (a->variant == MG_ATTN_TIME_WEIGHTING) {
		tw_grad<<<mg_cu_grid((size_t)H * tt), MG_CU_THREADS>>>(dtw, NULL, datt, probs, *a);
		MG_CU_LAUNCHED("attention_backward: time weights");
	} else if (a->variant == MG_ATTN_CIRCULANT) {
		tw_grad<<<mg_cu_grid((size_t)H * tt), MG_CU_THREADS>>>(NULL, g, datt, probs, *a);
		MG_CU_LAUNCHED("attention_backward: time weights");
		circulant_grad<<<mg_cu_grid((size_t)2 * H * T), MG_CU_THREADS>>>(dtw_w, dtw_b, g, *a);
		MG_CU_LAUNCHED("attention_backward: time weights");
	}
}
