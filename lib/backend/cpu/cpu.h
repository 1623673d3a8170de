/* The CPU backend's kernels, one op per file (lib/op_*.c), gathered into
 * the table of lib/backend/backend.h by cpu.c. Contracts are the table's. */
#ifndef MG_CPU_H
#define MG_CPU_H

#include "backend/backend.h"
#include "model/gpt.h"

/* Rows (or other units of work) per OpenMP chunk for light elementwise
 * loops; fixed, so partial sums never depend on the thread count. */
#define MG_CPU_BLOCK 4096

void mg_cpu_zero(float *p, size_t n);
void mg_cpu_scale(float *p, size_t n, float s);
double mg_cpu_sum_squares(const float *p, size_t n);

void mg_cpu_embed_forward(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t B, uint32_t T,
			  uint32_t C, mg_dropout d);
void mg_cpu_embed_backward(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			   uint32_t C, mg_dropout d);

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

/* Without scratch: the plain reference loops (cpu_attention_ref.c); with:
 * the fast path (cpu_attention.c). */
void mg_cpu_attention_forward(float *out, float *probs, const float *qkv, const mg_attn *a);
void mg_cpu_attention_backward(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt, const float *dout,
			       const float *qkv, const float *probs, const mg_attn *a);
void mg_cpu_attention_forward_ws(float *out, float *probs, const float *qkv, const mg_attn *a, float *scratch,
				 uint32_t threads);
void mg_cpu_attention_backward_ws(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt, const float *dout,
				  const float *qkv, const float *probs, const mg_attn *a, float *scratch, uint32_t threads);
/* The time weight W[i,j] of head h, j <= i (1 for vanilla). */
static inline float mg_cpu_time_weight(const mg_attn *a, uint32_t h, uint32_t i, uint32_t j)
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

void mg_cpu_residual_forward(float *out, const float *res, const float *inp, size_t n, mg_dropout d);
void mg_cpu_dropout_backward(float *dinp, const float *dout, size_t n, mg_dropout d);

void mg_cpu_crossentropy_forward(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				 size_t N, uint32_t V);
void mg_cpu_crossentropy_backward(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				  float scale);

void mg_cpu_adamw_update(float *p, const float *g, float *m, float *v, size_t n, const mg_adamw_args *a);

#endif
