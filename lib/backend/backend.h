/* The operations of the GPT model as a table of functions per backend: the
 * model code (lib/model) and the inference engine (lib/infer/infer.c) only
 * call through the table, so a GPU backend plugs in by filling another one.
 * The CPU backend is always built and is the reference every other backend
 * is tested against.
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
#include "io/dtype.h" /* MG_DTYPE_*: the element types of infer_pack */

/* The model's attention variants and GELU forms (gpt.h's configuration
 * fields attention and gelu). */
enum { MG_ATTN_VANILLA = 0, MG_ATTN_TIME_WEIGHTING = 1, MG_ATTN_CIRCULANT = 2 };
enum { MG_GELU_TANH = 0, MG_GELU_ERF = 1 };

/* Dropout by a counter-based hash, so a mask depends only on the random seed and
 * the element's index, never on the thread count or order: element i of a
 * site is kept when the top 24 bits of mg_hash64(seed + i) are at least
 * round(p 2^24), and kept elements are scaled by 1/(1-p). */
typedef struct mg_backend_dropout {
	float p;       /* rate in [0, 1); 0: identity */
	uint64_t seed; /* the site's seed, from mg_backend_dropout_site */
} mg_backend_dropout;

static inline uint32_t mg_backend_dropout_threshold(float p) { return (uint32_t)((double)p * 16777216.0 + 0.5); }
static inline int mg_backend_dropout_keep(uint64_t seed, uint64_t i, uint32_t threshold)
{
	return (uint32_t)(mg_hash64(seed + i) >> 40) >= threshold;
}
/* The random seed of dropout site `site` of a step: embedding 0; block L: attention
 * weights 3L+1, after attn.c_proj 3L+2, after mlp.c_proj 3L+3. */
static inline uint64_t mg_backend_dropout_site(uint64_t step_seed, uint64_t site)
{
	return mg_hash64(step_seed ^ mg_hash64(site));
}

/* A backend's working memory (the CPU backend: its threads' scratch
 * tiles), defined by each backend and opaque to everyone else, so no caller
 * sizes a backend's buffers. See ctx_create in the table. */
typedef struct mg_backend_ctx mg_backend_ctx;

/* One attention layer's shape and variant (for the KV-cache entries B and
 * T are unused and drop.p is 0). */
typedef struct mg_backend_attn {
	uint32_t B, T, C, H;
	uint32_t block;           /* block_size: the T of the time weights */
	uint32_t variant;         /* MG_ATTN_* */
	const float *tw;          /* time-weighting: (H, block, block) */
	const float *tw_w, *tw_b; /* circulant: (H, block) each */
	mg_backend_dropout drop;          /* on the attention weights */
} mg_backend_attn;

/* AdamW constants of one step (torch.optim.AdamW's arithmetic):
 * p *= 1 - lr wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= step_size m / (sqrt(v) / bc2_sqrt + eps), with step_size =
 * lr / (1 - b1^t) and bc2_sqrt = sqrt(1 - b2^t). */
typedef struct mg_backend_adamw_args {
	float lr, beta1, beta2, eps, weight_decay, step_size, bc2_sqrt;
} mg_backend_adamw_args;

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
			      uint32_t T, uint32_t C, mg_backend_dropout d);
	void (*embed_backward)(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			       uint32_t C, mg_backend_dropout d);

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

	/* The context of one user of the backend (a model's buffers of one
	 * shape, an inference engine): the working memory of the ops that take
	 * a ctx, for shapes up to max (max->T: positions per sequence of
	 * attention_forward/backward, 0 when the user calls neither; C, H and
	 * block for infer_attention too; B and the rest ignored: the memory
	 * does not grow with the batch), and for the threads the
	 * process may run (lib/core/threads.h: the larger of mg_threads_get and
	 * mg_threads_available at creation; calls run on at most that many).
	 * NULL when out of memory; *bytes is what it holds. ctx_free(NULL) does
	 * nothing. A context is used by one op at a time (the library's rule:
	 * one model or engine call at a time per process). A backend that needs
	 * none leaves both NULL, and its ops are passed ctx NULL. */
	mg_backend_ctx *(*ctx_create)(const mg_backend_attn *max, uint64_t *bytes);
	void (*ctx_free)(mg_backend_ctx *ctx);

	/* Causal self-attention on qkv (B,T,3C) (query, key, value, each C
	 * channels, head h at channels h*hs..): probs (B,H,T,T) = softmax of
	 * q k^T / sqrt(hs) over j <= i (0 above the diagonal), saved;
	 * out (B,T,C) = (dropout(probs * W)) v with W the time weights (1 for
	 * vanilla). Backward: dqkv (B,T,3C) =, the time weights' gradients +=
	 * (dtw for time-weighting, dtw_w and dtw_b for circulant; others may be
	 * NULL); datt (B,H,T,T) is scratch. ctx: from ctx_create with a max of
	 * at least this shape. */
	void (*attention_forward)(mg_backend_ctx *ctx, float *out, float *probs, const float *qkv, const mg_backend_attn *a);
	void (*attention_backward)(mg_backend_ctx *ctx, float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt,
				   const float *dout, const float *qkv, const float *probs, const mg_backend_attn *a);

	/* out = gelu(inp) elementwise, kind MG_GELU_*; backward dinp = dout *
	 * gelu'(inp) (dinp may be dout). */
	void (*gelu_forward)(float *out, const float *inp, size_t n, uint32_t kind);
	void (*gelu_backward)(float *dinp, const float *dout, const float *inp, size_t n, uint32_t kind);

	/* out = res + dropout(inp) (out may be res); backward dinp =
	 * dropout(dout) with the same mask. */
	void (*residual_forward)(float *out, const float *res, const float *inp, size_t n, mg_backend_dropout d);
	void (*dropout_backward)(float *dinp, const float *dout, size_t n, mg_backend_dropout d);

	/* losses (N) = logsumexp(logits row) - logits[target] where mask (N
	 * bytes; NULL: all) is 1, else 0. Backward overwrites logits (N,V) with
	 * scale * (softmax - onehot(target)) on rows whose mask is 1, else 0. */
	void (*crossentropy_forward)(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				     size_t N, uint32_t V);
	void (*crossentropy_backward)(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				      float scale);

	/* One AdamW step on n parameters p with gradients g and moments m, v. */
	void (*adamw_update)(float *p, const float *g, float *m, float *v, size_t n, const mg_backend_adamw_args *a);

	/* KV-cache inference (lib/infer/infer.c): N new rows (a row is one
	 * position of one of up to n_seq sequences; seq (N) and pos (N) say
	 * which, in backend memory like every pointer here) evaluated against
	 * the keys and values cached for the earlier positions. Every output
	 * element is computed in one fixed order, so results do not depend on
	 * the thread count, on N or on where a row sits among the N. A backend
	 * without these entries leaves them all NULL (mg_infer_init then fails
	 * with MG_E_UNSUPPORTED).
	 *
	 * Linear layers with weights in the backend's own layout: a matrix w
	 * (OC,IC) (PyTorch's Linear) stored as element type dtype (MG_DTYPE_*
	 * of io/dtype.h, encoded as a checkpoint stores it: f32 floats, f16 or
	 * bf16 halves, q8 blocks of a float scale and 32 signed bytes, row o's
	 * IC/32 blocks consecutive) takes infer_pack_bytes(dtype, OC, IC)
	 * bytes, filled by infer_pack (dst 64-byte aligned, not overlapping w;
	 * w on the host). infer_pack_bytes is 0 for a dtype the backend cannot
	 * run, and for q8 when IC is not a multiple of 32.
	 * infer_matmul: out (N,OC) = inp (N,IC) w^T + bias (bias NULL: none);
	 * with add, out += that result (a residual connection: the product is
	 * rounded, then added). out does not overlap inp. Element (r,o):
	 * - f32: acc = fma(inp[r,k], w[o,k], acc) for k = 0..IC-1 in order,
	 *   from 0, then + bias[o];
	 * - f16, bf16: the same, each weight converted exactly to f32 first, so
	 *   the result equals f32 on the decoded weights bit for bit;
	 * - q8: each row of inp is quantized per block of 32 on the fly:
	 *   a = max |x| over the block, d = a / 127, q = x * (1/d) rounded to
	 *   the nearest integer, ties to even (q = 0 when 1/d is infinite: d
	 *   is 0, or a below about 3.7e-37), in float arithmetic (x finite);
	 *   then for blocks b = 0..IC/32-1 in order
	 *   acc = fma((float)s_b, dw_b * d_b, acc) from 0, where s_b is the
	 *   exact int32 sum of q_x q_w over the block and dw_b the weight
	 *   block's scale; then + bias[o]. Stored q must lie in -127..127
	 *   (readers check). Every implementation (portable C, AVX2, AVX-512
	 *   VNNI) gives these bits. */
	size_t (*infer_pack_bytes)(uint32_t dtype, uint32_t OC, uint32_t IC);
	void (*infer_pack)(void *dst, const void *w, uint32_t dtype, uint32_t OC, uint32_t IC);
	void (*infer_matmul)(float *out, const float *inp, const void *wp, uint32_t dtype, const float *bias, size_t N,
			     uint32_t IC, uint32_t OC, int add);
	/* out (N,C) = wte[ids[n]] + wpe[pos[n]] (wpe NULL: wte[ids[n]]). */
	void (*infer_embed)(float *out, const uint32_t *ids, const uint32_t *pos, const float *wte, const float *wpe,
			    size_t N, uint32_t C);
	/* The time-shift of rows: xa (N,C) takes xn's channels >= C/2 of the
	 * same row and channels < C/2 of the previous position of the same
	 * sequence: the previous row when it is that, else last[seq] (last:
	 * (n_seq, C/2), the sequence's last shifted half), zeros at position
	 * 0. Then last[s] = channels < C/2 of xn's last row of each sequence s
	 * among the rows. A sequence's rows are consecutive, positions rising. */
	void (*infer_shift)(float *xa, const float *xn, float *last, const uint32_t *seq, const uint32_t *pos, size_t N,
			    uint32_t C);
	/* In place, x (N,C): row k = row list[k] for k < M, list (M) rising,
	 * list[k] >= k. */
	void (*infer_gather)(float *x, const uint32_t *list, size_t M, uint32_t C);
	/* One layer's cache for n_seq sequences of a->block positions takes
	 * infer_kv_floats(n_seq, a) floats (zeroed by ->alloc), laid out as the
	 * backend likes. infer_attention stores the keys and values of the N
	 * rows of qkv (N,3C) at (seq[n], pos[n]), then writes y (M,C): row k
	 * the attention of the query of row list[k] (list NULL: M = N, row k)
	 * against positions 0..pos of its sequence, all of which must be
	 * stored by then: softmax(q k^T / sqrt(hs)) weighted by the time
	 * weights W[pos, j], as attention_forward without dropout. ctx: from
	 * ctx_create with max of a's C, H and block. */
	size_t (*infer_kv_floats)(uint32_t n_seq, const mg_backend_attn *a);
	void (*infer_attention)(mg_backend_ctx *ctx, float *y, float *kv, const float *qkv, const uint32_t *seq,
				const uint32_t *pos, size_t N, const uint32_t *list, size_t M, const mg_backend_attn *a);
} mg_backend;

/* The CPU backend (OpenBLAS and OpenMP), always available. */
const mg_backend *mg_backend_cpu(void);

/* The CUDA backend (cuda/) on the current device (the first one unless
 * cudaSetDevice or CUDA_VISIBLE_DEVICES say otherwise), or NULL with
 * MG_E_UNSUPPORTED: "cannot load PATH: REASON" when its module or the
 * CUDA libraries it needs cannot be loaded, "no CUDA device available"
 * (and CUDA's reason when it is not simply the absence of a device).
 * The backend is a module of its own, mygpt-cuda.so (cuda/, linked
 * against cuBLAS and the CUDA runtime), loaded by the first call with
 * dlopen, so that a program pays for those libraries only when it asks
 * for a GPU. The module is the file named by the environment variable
 * MYGPT_CUDA_MODULE when it is set; else the first that exists of
 * PREFIX/lib/mygpt/mygpt-cuda.so (installed) and
 * PREFIX/build/lib/mygpt-cuda.so (the build tree), where PREFIX is the
 * parent of the executable's folder (/proc/self/exe).
 * The first call also initialises CUDA and cuBLAS; nothing else in the
 * library touches them. Matrix products in fp32 (TF32 off);
 * deterministic: the same inputs on the same GPU give the same bits. */
const mg_backend *mg_backend_cuda(mg_err *e);

/* The one symbol the CUDA module exports, found by name with dlsym: the
 * backend (as mg_backend_cuda), given the caller's sizeof(mg_backend) so
 * that a module built from other sources than the library is refused. */
#define MG_BACKEND_CUDA_ENTRY "mg_backend_cuda_module"
typedef const mg_backend *mg_backend_cuda_module_fn(size_t table_bytes, mg_err *e);

/* The backend of a name (lib/backend/backend_select.c): "cpu", or "cuda"
 * (mg_backend_cuda in builds with MG_HAVE_CUDA, whose make builds the
 * module; MG_E_UNSUPPORTED "built without CUDA support" in others). Any
 * other name is MG_E_INVAL. */
int mg_backend_select(const mg_backend **be, const char *name, mg_err *e);

#endif
