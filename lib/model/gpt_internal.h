/* Inside the GPT model: the parameter layout and the buffers, for the model
 * code (gpt*.c), its tests and other engines over the same parameters (the
 * KV-cache inference of lib/infer/infer.c). Not a stable API: tools use gpt.h. */
#ifndef MG_GPT_INTERNAL_H
#define MG_GPT_INTERNAL_H

#include "backend/backend.h"
#include "model/gpt.h"

#define MG_GPT_ABSENT SIZE_MAX /* offset of a tensor the configuration lacks */

enum { MG_INIT_NORMAL, MG_INIT_NORMAL_RESID, MG_INIT_ZERO, MG_INIT_ONE };

/* One parameter tensor: where it lives in the flat buffers (params, grads,
 * m, v all share the layout) and how it is initialised and decayed. */
typedef struct mg_gpt_tensor {
	char name[MG_TENSOR_NAME_MAX + 1];
	uint32_t ndim, dims[3];
	size_t off, n;  /* in floats; offsets are multiples of 16 (64 bytes) */
	int init;       /* MG_INIT_* */
	int decay;      /* AdamW weight decay applies (Linear weight matrices) */
	/* A Linear weight kept as a checkpoint stored it (a quantized model):
	 * dtype is not MG_DTYPE_F32, off is MG_GPT_ABSENT (no float slot),
	 * stored holds the bytes on the host (mg_dtype_bytes(dtype, n)) and
	 * packed, once mg_gpt_alloc has run, the backend's infer_pack of them.
	 * Every other tensor: MG_DTYPE_F32, both NULL. */
	uint32_t dtype;
	uint8_t *stored;
	void *packed;
} mg_gpt_tensor;

/* Offsets of one block's tensors (MG_GPT_ABSENT when not in the config).
 * Shapes with C = n_embd, H = n_head, T = block_size: ln_* (C); attn_w (3C,C);
 * attn_b (3C); aproj_w (C,C); aproj_b (C); tw (H,T,T); tw_w, tw_b (H,T);
 * fc_w (4C,C); fc_b (4C); mproj_w (C,4C); mproj_b (C). */
typedef struct mg_gpt_block {
	size_t ln1_w, ln1_b, attn_w, attn_b, aproj_w, aproj_b, tw, tw_w, tw_b, ln2_w, ln2_b, fc_w, fc_b, mproj_w,
		mproj_b;
} mg_gpt_block;

/* Saved activations of one block, for backward; shapes for the allocated
 * (B,T). */
typedef struct mg_gpt_block_acts {
	float *res;              /* (B,T,C) the block's input (residual stream) */
	float *ln1_mean, *ln1_rstd; /* (B,T) */
	float *xa;               /* (B,T,C) attention input: ln_1 output, time-shifted */
	float *qkv;              /* (B,T,3C) */
	float *probs;            /* (B,H,T,T) softmax before time weights and dropout */
	float *y;                /* (B,T,C) attention output before c_proj */
	float *mid;              /* (B,T,C) residual after the attention */
	float *ln2_mean, *ln2_rstd; /* (B,T) */
	float *xm;               /* (B,T,C) ln_2 output */
	float *fc;               /* (B,T,4C) c_fc output, before GELU */
	float *gelu;             /* (B,T,4C) GELU output */
} mg_gpt_block_acts;

struct mg_gpt {
	mg_gpt_config cfg;
	const mg_backend *be;

	/* layout */
	mg_gpt_tensor *tensors; /* in the order of formats/checkpoint.md */
	uint32_t n_tensors;
	size_t n_floats;        /* floats in each flat buffer, with alignment padding */
	uint64_t n_params;      /* parameters, without padding */
	size_t wte, wpe, lnf_w, lnf_b, lm_head; /* lm_head == wte with tie_embeddings */
	mg_gpt_block *blocks;   /* n_layer */
	/* The Linear weights of each block (c_attn, attn.c_proj, c_fc,
	 * mlp.c_proj: 4 n_layer tensors) and lm_head, as indices of tensors. */
	uint32_t *lin, lin_head;
	/* Set before mg_gpt_layout: the dtype of each tensor in layout order
	 * (a tensor whose dtype is not f32 gets no float slot); NULL: all f32. */
	const uint32_t *layout_dtypes;
	uint32_t n_quant;       /* tensors kept as stored (dtype not f32) */

	/* Backend memory: parameters always; the rest from mg_gpt_alloc. The
	 * parameters and moments are read and written on the host (init,
	 * load, write): a device backend will keep host mirrors of them. */
	float *params, *grads, *m, *v;

	/* mg_gpt_alloc */
	uint32_t B, T;          /* allocated shape; 0 before */
	int train;              /* gradients and scratch allocated */
	mg_gpt_block_acts *acts; /* n_layer */
	float *res_final;       /* (B,T,C) output of the last block */
	float *proj;            /* (B,T,C) a c_proj's output, before its residual */
	float *lnf, *lnf_mean, *lnf_rstd; /* (B,T,C), (B,T), (B,T) */
	float *logits;          /* (B,T,V); dlogits after backward */
	float *losses;          /* (B,T) */
	uint32_t *ids, *targets; /* (B,T) */
	uint8_t *mask;          /* (B,T) */
	float *host_losses;     /* (B,T) host copy */
	/* backward scratch */
	float *dres, *dc1, *dc2, *dc3, *dc4, *datt; /* (B,T,C) x3, (B,T,3C), (B,T,4C), (B,H,T,T) */
	uint64_t bytes_acts, bytes_scratch;
	/* the backend's context for ops of this shape (its scratch, sized by
	 * the backend; NULL for a backend without ctx_create) */
	mg_backend_ctx *ctx;

	/* the last forward pass */
	uint32_t fB, fT;
	int f_targets, f_mask, f_dropout;
	uint64_t f_seed, f_count;
};

/* Fills the layout fields of g from g->cfg (MG_E_NOMEM). */
int mg_gpt_layout(mg_gpt *g, mg_err *e);
/* Frees the buffers of mg_gpt_alloc. */
void mg_gpt_free_acts(mg_gpt *g);
/* out (N,OC) = inp (N,IC) w^T + bias for the Linear weight tensor t
 * (through infer_matmul on its packed bytes when it is quantized); out
 * does not overlap inp. */
void mg_gpt_linear(const mg_gpt *g, float *out, const float *inp, const mg_gpt_tensor *t, const float *bias, size_t N);
/* The tensor of a name, or NULL. */
const mg_gpt_tensor *mg_gpt_tensor_find(const mg_gpt *g, const char *name);

#endif
