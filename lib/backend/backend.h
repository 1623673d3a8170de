/* The operations of the GPT model as a table of functions per backend: the
 * model code (gpt*.c) only calls through the table, so a GPU backend plugs in
 * by filling another one. The CPU backend is always built and is the
 * reference every other backend is tested against.
 *
 * Pointers point into the backend's memory (from ->alloc). Shapes in
 * comments: B sequences, T positions (of this pass), C channels, H heads,
 * hs = C/H, N = B*T rows, V vocabulary; (B,T,C) is row-major, last fastest.
 * "+=" marks outputs that accumulate (gradients of parameters); others are
 * overwritten. Ops run on the library's threads (lib/core/threads.h), return when
 * done, and give bit-identical results for a given thread count; a device
 * backend (->device) queues them in order instead, download waits for what
 * was queued before it, and results repeat bit for bit on the same device. */
#ifndef MG_BACKEND_H
#define MG_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/rng.h"

/* The model's attention variants and GELU forms (gpt.h's configuration
 * fields attention and gelu). */
enum { MG_ATTN_VANILLA = 0, MG_ATTN_TIME_WEIGHTING = 1, MG_ATTN_CIRCULANT = 2 };
enum { MG_GELU_TANH = 0, MG_GELU_ERF = 1 };

/* Dropout by a counter-based hash, so a mask depends only on the seed and
 * the element's index, never on the thread count or order: element i of a
 * site is kept when the top 24 bits of mg_hash64(seed + i) are at least
 * round(p 2^24), and kept elements are scaled by 1/(1-p). */
typedef struct mg_dropout {
	float p;       /* rate in [0, 1); 0: identity */
	uint64_t seed; /* the site's seed, from mg_dropout_site */
} mg_dropout;

static inline uint32_t mg_dropout_threshold(float p) { return (uint32_t)((double)p * 16777216.0 + 0.5); }
static inline int mg_dropout_keep(uint64_t seed, uint64_t i, uint32_t threshold)
{
	return (uint32_t)(mg_hash64(seed + i) >> 40) >= threshold;
}
/* The seed of dropout site `site` of a step: embedding 0; block L: attention
 * weights 3L+1, after attn.c_proj 3L+2, after mlp.c_proj 3L+3. */
static inline uint64_t mg_dropout_site(uint64_t step_seed, uint64_t site)
{
	return mg_hash64(step_seed ^ mg_hash64(site));
}

/* Rows of query positions the CPU attention works on at a time, and the
 * scratch it needs per thread for T positions and heads of hs channels:
 * six (T, hs) matrices and two tiles of rows x T. */
#define MG_ATTN_ROWS 32u
static inline size_t mg_attn_scratch_floats(uint32_t T, uint32_t hs)
{
	return (6 * (size_t)hs + 2 * (size_t)(T < MG_ATTN_ROWS ? T : MG_ATTN_ROWS)) * T;
}

/* One attention layer's shape and variant. */
typedef struct mg_attn {
	uint32_t B, T, C, H;
	uint32_t block;           /* block_size: the T of the time weights */
	uint32_t variant;         /* MG_ATTN_* */
	const float *tw;          /* time-weighting: (H, block, block) */
	const float *tw_w, *tw_b; /* circulant: (H, block) each */
	mg_dropout drop;          /* on the attention weights */
} mg_attn;

/* AdamW constants of one step (torch.optim.AdamW's arithmetic):
 * p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= step_size m / (sqrt(v) / bc2_sqrt + eps), with step_size =
 * lr / (1 - b1^t) and bc2_sqrt = sqrt(1 - b2^t). */
typedef struct mg_adamw_args {
	float lr, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt;
} mg_adamw_args;

typedef struct mg_backend {
	const char *name;
	/* 1 when the memory is not the host's (a GPU's): the model reads and
	 * writes it only through upload and download; 0 for the CPU. */
	int device;
	/* The first error the backend met (a failed launch or copy, a device
	 * fault), as a message, or NULL when none: ops cannot return errors, so
	 * callers ask after a batch of them (results after an error are
	 * undefined; the error stays). The field is NULL for a backend that
	 * cannot fail (the CPU). */
	const char *(*error)(void);

	/* Memory: 64-byte aligned and zeroed; NULL when out of memory. */
	void *(*alloc)(size_t bytes);
	void (*free)(void *p);
	void (*upload)(void *dst, const void *host_src, size_t bytes);
	void (*download)(void *host_dst, const void *src, size_t bytes);

	/* Vectors: p = 0; p *= s; the sum of p^2 in double, added in fixed
	 * blocks so it does not depend on the thread count. */
	void (*zero)(float *p, size_t n);
	void (*scale)(float *p, size_t n, float s);
	double (*sum_squares)(const float *p, size_t n);

	/* out (B,T,C) = dropout(wte[ids[b,t]] + wpe[t]); wpe may be NULL (no
	 * positional embedding). Backward: dwte (V,C) +=, dwpe (T,C) += (when
	 * not NULL) through the same dropout. */
	void (*embed_forward)(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t B,
			      uint32_t T, uint32_t C, mg_dropout d);
	void (*embed_backward)(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			       uint32_t C, mg_dropout d);

	/* out (N,C) = (inp - mean) * rstd * w + b per row, eps 1e-5, biased
	 * variance; mean, rstd (N) saved. Backward: dinp +=, dw +=, db +=. */
	void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp, const float *w,
				  const float *b, size_t N, uint32_t C);
	void (*layernorm_backward)(float *dinp, float *dw, float *db, const float *dout, const float *inp,
				   const float *w, const float *mean, const float *rstd, size_t N, uint32_t C);

	/* Time-shift in place on x (B,T,C): channels c < C/2 of position t take
	 * position t-1's values, zeros at t = 0. Backward in place on dx. */
	void (*shift_forward)(float *x, uint32_t B, uint32_t T, uint32_t C);
	void (*shift_backward)(float *dx, uint32_t B, uint32_t T, uint32_t C);

	/* out (N,OC) = inp (N,IC) w^T + bias, w (OC,IC) as PyTorch's Linear,
	 * bias (OC) or NULL. Backward: dinp (N,IC) = dout w (skipped when
	 * NULL), dw += dout^T inp, dbias += column sums of dout (when not NULL). */
	void (*matmul_forward)(float *out, const float *inp, const float *w, const float *bias, size_t N, uint32_t IC,
			       uint32_t OC);
	void (*matmul_backward)(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
				const float *w, size_t N, uint32_t IC, uint32_t OC);

	/* Causal self-attention on qkv (B,T,3C) (query, key, value, each C
	 * channels, head h at channels h*hs..): probs (B,H,T,T) = softmax of
	 * q k^T / sqrt(hs) over j <= i (0 above the diagonal), saved;
	 * out (B,T,C) = (dropout(probs * W)) v with W the time weights (1 for
	 * vanilla). Backward: dqkv (B,T,3C) =, the time weights' gradients +=
	 * (dtw for time-weighting, dtw_w and dtw_b for circulant; others may be
	 * NULL); datt (B,H,T,T) is scratch. */
	void (*attention_forward)(float *out, float *probs, const float *qkv, const mg_attn *a);
	void (*attention_backward)(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt, const float *dout,
				   const float *qkv, const float *probs, const mg_attn *a);
	/* The same with scratch: `threads` tiles of mg_attn_scratch_floats(T,
	 * C/H) floats, one per thread, run on at most that many threads (the CPU
	 * backend's fast path; without scratch it runs plain reference loops,
	 * equal to rounding). */
	void (*attention_forward_ws)(float *out, float *probs, const float *qkv, const mg_attn *a, float *scratch,
				     uint32_t threads);
	void (*attention_backward_ws)(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt,
				      const float *dout, const float *qkv, const float *probs, const mg_attn *a,
				      float *scratch, uint32_t threads);

	/* out = gelu(inp) elementwise, kind MG_GELU_*; backward dinp = dout *
	 * gelu'(inp) (dinp may be dout). */
	void (*gelu_forward)(float *out, const float *inp, size_t n, uint32_t kind);
	void (*gelu_backward)(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind);

	/* out = res + dropout(inp) (out may be res); backward dinp =
	 * dropout(dout) with the same mask. */
	void (*residual_forward)(float *out, const float *res, const float *inp, size_t n, mg_dropout d);
	void (*dropout_backward)(float *dinp, const float *dout, size_t n, mg_dropout d);

	/* losses (N) = logsumexp(logits row) - logits[target] where mask (N
	 * bytes; NULL: all) is 1, else 0. Backward overwrites logits (N,V) with
	 * scale * (softmax - onehot(target)) on rows whose mask is 1, else 0. */
	void (*crossentropy_forward)(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				     size_t N, uint32_t V);
	void (*crossentropy_backward)(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				      float scale);

	/* One AdamW step on n parameters p with gradients g and moments m, v. */
	void (*adamw_update)(float *p, const float *g, float *m, float *v, size_t n, const mg_adamw_args *a);
} mg_backend;

/* The CPU backend (OpenBLAS and OpenMP), always available. */
const mg_backend *mg_backend_cpu(void);

/* The CUDA backend (cuda/) on the current device (the first one unless
 * cudaSetDevice or CUDA_VISIBLE_DEVICES say otherwise), or NULL with
 * MG_E_UNSUPPORTED "no CUDA device available" (and CUDA's reason when it is
 * not simply the absence of a device). Only in builds with MG_HAVE_CUDA;
 * the first call initialises CUDA and cuBLAS, nothing else in the library
 * touches them. Matrix products in fp32 (TF32 off); deterministic: the same
 * inputs on the same GPU give the same bits. */
const mg_backend *mg_backend_cuda(mg_err *e);

/* The backend of a name (lib/backend/backend_select.c): "cpu", or "cuda"
 * (mg_backend_cuda; MG_E_UNSUPPORTED "built without CUDA support" in a
 * build without it). Any other name is MG_E_INVAL. */
int mg_backend_select(const mg_backend **be, const char *name, mg_err *e);

#endif
