/* Shared by the files of the CUDA backend: the error record, cuBLAS, the
 * backend's own scratch, launch shapes, deterministic block reductions and
 * the dropout hash on the device. Not a public header: the library sees
 * only the module's entry (MG_BACKEND_CUDA_ENTRY, lib/backend/backend.h). */
#ifndef MG_CUDA_COMMON_CUH
#define MG_CUDA_COMMON_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "backend/backend.h"
}

/* ------------------------------------------------------------ errors */

/* Records the first error ("what: message"); later ones are dropped, as
 * they usually follow from it. */
void mg_cu_fail(const char *what, const char *msg);
/* 1 when r is cudaSuccess, else records it and returns 0. */
int mg_cu_ok(cudaError_t r, const char *what);
int mg_cu_blas_ok(cublasStatus_t s, const char *what);
/* Whether an error has been recorded: ops then do nothing more. */
int mg_cu_failed(void);
/* After a kernel launch: records a launch error under the kernel's name. */
#define MG_CU_LAUNCHED(name) mg_cu_ok(cudaGetLastError(), name)

/* The cuBLAS handle, on the default stream, fp32 without TF32. */
cublasHandle_t mg_cu_blas(void);

/* The backend's scratch, one growing device buffer per slot (ops never
 * share a slot across calls they make): at least n floats, or NULL with the
 * error recorded. Contents are undefined. */
enum { MG_CU_SCRATCH_REDUCE, MG_CU_SCRATCH_COLS, MG_CU_SCRATCH_ATT, MG_CU_SCRATCH_TW, MG_CU_SCRATCH_COUNT };
float *mg_cu_scratch(int slot, size_t n);

/* ------------------------------------------------------------ launches */

#define MG_CU_THREADS 256
/* Blocks for a grid-stride loop over n elements. */
static inline unsigned mg_cu_grid(size_t n)
{
	size_t b = (n + MG_CU_THREADS - 1) / MG_CU_THREADS;
	return b < 1 ? 1u : b > (1u << 20) ? (1u << 20) : (unsigned)b;
}
#define MG_CU_FOR(i, n) \
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* ------------------------------------------------------------ reductions */

/* Butterfly sums and maxima: every lane ends with the same bits, and the
 * order of the additions is fixed by the shape alone, so results repeat. */
template <typename F> __device__ inline F mg_cu_warp_sum(F v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}
__device__ inline float mg_cu_warp_max(float v)
{
	for (int o = 16; o > 0; o >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}
/* The sum (max) over the block (blockDim.x a multiple of 32, at most 1024),
 * returned to every thread; sh holds 32 values. Every thread must call. */
template <typename F> __device__ inline F mg_cu_block_sum(F v, F *sh)
{
	unsigned lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;

	v = mg_cu_warp_sum(v);
	__syncthreads(); /* sh may still be read by a previous reduction */
	if (lane == 0)
		sh[w] = v;
	__syncthreads();
	return mg_cu_warp_sum(lane < nw ? sh[lane] : (F)0);
}
__device__ inline float mg_cu_block_max(float v, float *sh)
{
	unsigned lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;

	v = mg_cu_warp_max(v);
	__syncthreads();
	if (lane == 0)
		sh[w] = v;
	__syncthreads();
	return mg_cu_warp_max(lane < nw ? sh[lane] : -INFINITY);
}

/* ------------------------------------------------------------ dropout */

/* mg_hash64 (lib/core/hash.h), bit for bit. */
__device__ inline uint64_t mg_cu_hash64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}
/* mg_backend_dropout_keep (lib/backend/backend.h). */
__device__ inline int mg_cu_keep(uint64_t seed, uint64_t i, uint32_t threshold)
{
	return (uint32_t)(mg_cu_hash64(seed + i) >> 40) >= threshold;
}
/* x through dropout d at element i (identity when d.p is 0). */
__device__ inline float mg_cu_drop(float x, mg_backend_dropout d, uint32_t thr, float keep_scale, uint64_t i)
{
	return d.p > 0.0f ? (mg_cu_keep(d.seed, i, thr) ? x * keep_scale : 0.0f) : x;
}
static inline float mg_cu_keep_scale(mg_backend_dropout d) { return d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f; }

/* ------------------------------------------------------------ the ops */

void mg_cu_zero(float *p, size_t n);
void mg_cu_scale(float *p, size_t n, float s);
double mg_cu_sum_squares(const float *p, size_t n);
void mg_cu_embed_forward(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t B, uint32_t T,
			 uint32_t C, mg_backend_dropout d);
void mg_cu_embed_backward(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			  uint32_t C, mg_backend_dropout d);
void mg_cu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
			     size_t N, uint32_t C);
void mg_cu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
			      const float *mean, const float *rstd, size_t N, uint32_t C);
void mg_cu_shift_forward(float *x, uint32_t B, uint32_t T, uint32_t C);
void mg_cu_shift_backward(float *dx, uint32_t B, uint32_t T, uint32_t C);
void mg_cu_matmul_forward(float *out, const float *inp, const float *w, const float *bias, size_t N, uint32_t IC,
			  uint32_t OC);
void mg_cu_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
			   size_t N, uint32_t IC, uint32_t OC);
/* dst[c] += sum over rows n of src[n,c], rows in a fixed order (cuda_matmul.cu). */
void mg_cu_colsum_add(float *dst, const float *src, size_t N, uint32_t C);
void mg_cu_attention_forward(float *out, float *probs, const float *qkv, const mg_backend_attn *a);
void mg_cu_attention_backward(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt, const float *dout,
			      const float *qkv, const float *probs, const mg_backend_attn *a);
void mg_cu_gelu_forward(float *out, const float *inp, size_t n, uint32_t kind);
void mg_cu_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind);
void mg_cu_residual_forward(float *out, const float *res, const float *inp, size_t n, mg_backend_dropout d);
void mg_cu_dropout_backward(float *dinp, const float *dout, size_t n, mg_backend_dropout d);
void mg_cu_crossentropy_forward(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				size_t N, uint32_t V);
void mg_cu_crossentropy_backward(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				 float scale);
void mg_cu_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const mg_backend_adamw_args *a);

#endif
