/* GPT models in and out of safetensors files (formats/safetensors.md): a
 * file in nanoGPT's or Hugging Face GPT-2's layout to a checkpoint in
 * memory, and a checkpoint's parameters to a file, with the configuration
 * in __metadata__ or, for files from elsewhere, told by the tensors. */
#ifndef MG_ST_CONVERT_H
#define MG_ST_CONVERT_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "interop/gpt2_layout.h"
#include "interop/safetensors.h"
#include "io/ckpt.h"

/* What the caller tells when the file cannot: each is used only when the
 * file does not say, and is an error (MG_E_INVAL) when it says otherwise. */
typedef struct mg_st_convert_opts {
	uint32_t n_head;     /* 0: from __metadata__ or the time weights, else n_embd / 64 (GPT-2's head width) */
	uint32_t block_size; /* 0: from __metadata__, wpe or the time weights */
	int gelu;            /* MG_GELU_*, or -1: from __metadata__, else tanh for Hugging Face's
			      * layout (GPT-2's gelu_new) and erf for nanoGPT's (nn.GELU) */
} mg_st_convert_opts;

void mg_st_convert_opts_default(mg_st_convert_opts *o);

/* What a reading found. */
typedef struct mg_st_convert_info {
	int layout;         /* MG_GPT2_LAYOUT_*: by the shape of h.0.attn.c_attn.weight */
	int from_metadata;  /* the configuration is the file's __metadata__ (written by this library) */
	int n_head_guessed; /* n_head is n_embd / 64: neither the file nor the caller told it */
	uint32_t ignored;   /* buffers skipped: h.L.attn.bias, h.L.attn.masked_bias */
} mg_st_convert_info;

/* The GPT model of st as a checkpoint: the configuration (with model
 * "gpt" in __metadata__, its keys; else from the shapes: vocab_size and
 * n_embd from wte, block_size from wpe (none: no positional embedding, and
 * the time weights or the caller tell it), n_layer from the blocks, the
 * attention variant from the time weights, tied when there is no
 * lm_head.weight (or only it, or when it holds wte's bytes: nanoGPT's GPT
 * class names its tied matrix twice), time_shift 0, dropout 0), and the
 * parameters (role 0) in the order of formats/checkpoint.md, in their
 * stored element types, the Conv1D weights of Hugging Face's layout
 * transposed. The tensors' data moves from st into ck. No tokenizer or
 * training state. info may be NULL. MG_E_CORRUPT naming the tensor: an
 * unknown name, two names for one parameter, a missing tensor, a wrong
 * shape, an unexpected one, a tied lm_head.weight that differs from wte;
 * MG_E_INVAL for what the caller gave against the file; MG_E_NOMEM. */
int mg_st_convert_to_ckpt(mg_safetensors *st, const mg_st_convert_opts *o, mg_ckpt *ck, mg_st_convert_info *info,
			  mg_err *e);
/* mg_safetensors_read, then mg_st_convert_to_ckpt. */
int mg_st_convert_read(FILE *f, const mg_st_convert_opts *o, mg_ckpt *ck, mg_st_convert_info *info, mg_err *e);

/* The parameters of ck (a GPT checkpoint; moments are left out) as a
 * safetensors file in layout: names of mg_gpt2_layout_export_name, f32,
 * f16 and bf16 as stored (borrowed from ck), q8 expanded to F32, Conv1D
 * weights transposed for Hugging Face's layout; a tied model gets
 * lm_head.weight as a copy of wte in nanoGPT's layout (its GPT class has
 * both) and none in Hugging Face's. __metadata__: format "pt", layout,
 * every HEAD key as text (integers in decimal, floats with 17 digits) and
 * every training-state key as "train.KEY". MG_E_CORRUPT for a checkpoint
 * that lacks a tensor of its configuration; MG_E_NOMEM. */
int mg_st_convert_from_ckpt(const mg_ckpt *ck, int layout, mg_safetensors *st, mg_err *e);
/* mg_st_convert_from_ckpt, then mg_safetensors_write. */
int mg_st_convert_write(FILE *f, const mg_ckpt *ck, int layout, mg_err *e);

#endif
