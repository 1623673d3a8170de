/* The CPU backend's kernels, one op per file (lib/backend/cpu/cpu_*.c),
 * gathered into the table of lib/backend/backend.h by cpu.c, and its
 * context. Contracts are the table's. */
#ifndef MG_CPU_H
#define MG_CPU_H

#include "backend/backend.h"

/* Rows (or other units of work) per OpenMP chunk for light elementwise
 * loops; fixed, so partial sums never depend on the thread count. */
#define MG_CPU_BLOCK 4096

/* The context (cpu_ctx.c): one scratch tile per thread, for the attention
 * fast path of cpu_attention.c and the cached attention of
 * cpu_infer_attention.c. */
struct mg_backend_ctx {
	float *scratch;   /* threads tiles of tile floats */
	size_t tile;      /* floats per thread */
	uint32_t threads; /* tiles: calls run on at most this many threads */
};
/* Rows of query positions cpu_attention.c works on at a time. */
#define MG_CPU_ATTN_ROWS 32u
mg_backend_ctx *mg_cpu_ctx_create(const mg_backend_attn *max, uint64_t *bytes);
void mg_cpu_ctx_free(mg_backend_ctx *ctx);
/* The threads a call on ctx runs on: mg_threads_get(), at most ctx's. */
int mg_cpu_ctx_threads(const mg_backend_ctx *ctx);

void mg_cpu_zero(float *p, size_t n);
void mg_cpu_scale(float *p, size_t n, float s);
double mg_cpu_sum_squares(const float *p, size_t n);

void mg_cpu_embed_forward(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t B, uint32_t T,
			  uint32_t C, mg_backend_dropout d);
void mg_cpu_embed_backward(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			   uint32_t C, mg_backend_dropout d);

void mg_cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
			      size_t N, uint32_t C);
void mg_cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
			       const float *mean, const float *rstd, size_t N, uint32_t C);

void mg_cpu_shift_forward(float *x, uint32_t B, uint32_t T, uint32_t C);
void mg_cpu_shift_backward(float *dx, uint32_t B, uint32_t T, uint32_t C);

void mg_cpu_matmul_forward(float *out, const float *inp, const float *w, const float *bias, size_t N, uint32_t IC,
			   uint32_t OC);
void mg_cpu_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
			    size_t N, uint32_t IC, uint32_t OC);

/* The table's attention: the fast path (cpu_attention.c), on ctx's tiles. */
void mg_cpu_attention_forward(mg_backend_ctx *ctx, float *out, float *probs, const float *qkv, const mg_backend_attn *a);
void mg_cpu_attention_backward(mg_backend_ctx *ctx, float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt,
			       const float *dout, const float *qkv, const float *probs, const mg_backend_attn *a);
/* The same as plain reference loops without scratch (cpu_attention_ref.c),
 * which the fast path and other backends are tested against: equal to
 * rounding, not bit for bit. */
void mg_cpu_attention_forward_ref(float *out, float *probs, const float *qkv, const mg_backend_attn *a);
void mg_cpu_attention_backward_ref(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt,
				   const float *dout, const float *qkv, const float *probs, const mg_backend_attn *a);
/* The time weights' gradients from the per-pair products G (B,H,T,T) of
 * attention backward: dW[h,i,j] = sum over b in order of G, with G =
 * datt * probs, or G = datt when probs is NULL (datt already holds the
 * product); dW is added to dtw, or folded into dtw_w and dtw_b for the
 * circulant form. Nothing for vanilla. On the library's threads, by head. */
void mg_cpu_attention_dtw(float *dtw, float *dtw_w, float *dtw_b, const float *datt, const float *probs,
			  const mg_backend_attn *a);
/* The time weight W[i,j] of head h, j <= i (1 for vanilla), for the
 * training attention and the cached attention of inference alike. */
static inline float mg_cpu_time_weight(const mg_backend_attn *a, uint32_t h, uint32_t i, uint32_t j)
{
	size_t tb = a->block;

	switch (a->variant) {
	case MG_ATTN_TIME_WEIGHTING: return a->tw[(h * tb + i) * tb + j];
	case MG_ATTN_CIRCULANT: return a->tw_w[h * tb + tb - 1 - (i - j)] * a->tw_b[h * tb + j];
	default: return 1.0f;
	}
}

void mg_cpu_gelu_forward(float *out, const float *inp, size_t n, uint32_t kind);
void mg_cpu_gelu_backward(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind);

void mg_cpu_residual_forward(float *out, const float *res, const float *inp, size_t n, mg_backend_dropout d);
void mg_cpu_dropout_backward(float *dinp, const float *dout, size_t n, mg_backend_dropout d);

void mg_cpu_crossentropy_forward(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				 size_t N, uint32_t V);
void mg_cpu_crossentropy_backward(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				  float scale);

void mg_cpu_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const mg_backend_adamw_args *a);

#endif
