/* GPT-2's tensor layouts (formats/safetensors.md): the names and transposes
 * between this model's tensors (formats/checkpoint.md) and nanoGPT's
 * (transformer.wte.weight, Linear weights out x in) and Hugging Face
 * GPT-2's (wte.weight, Conv1D weights in x out). */
#ifndef MG_GPT2_LAYOUT_H
#define MG_GPT2_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

enum { MG_GPT2_LAYOUT_NANOGPT, MG_GPT2_LAYOUT_HF };

#define MG_GPT2_LAYOUT_NAME_MAX 96 /* bytes of any name this file makes, with the NUL */

/* "nanogpt" or "hf". */
const char *mg_gpt2_layout_name(int layout);
/* The name in a file of layout of this model's tensor name (a name of
 * formats/checkpoint.md) into out (MG_GPT2_LAYOUT_NAME_MAX bytes): with
 * nanoGPT's "transformer." prefix, or without it as Hugging Face's GPT-2
 * file has it; time weights keep their names under the same prefix. 0, or
 * -1 for a name that is not a GPT parameter. */
int mg_gpt2_layout_export_name(const char *name, int layout, char *out);
/* This model's name of a tensor named ext in a nanoGPT or Hugging Face
 * file (with or without "transformer."), into out: 1 when it is a
 * parameter, 0 for a buffer to ignore (h.L.attn.bias, h.L.attn.masked_bias:
 * GPT-2's causal mask), -1 for a name of neither layout. */
int mg_gpt2_layout_import_name(const char *ext, char *out);
/* 1 for the four weights Hugging Face's Conv1D stores in x out
 * (h.L.attn.c_attn.weight, h.L.attn.c_proj.weight, h.L.mlp.c_fc.weight,
 * h.L.mlp.c_proj.weight), by this model's name. */
int mg_gpt2_layout_conv1d(const char *name);
/* dst (cols, rows) = src (rows, cols) transposed, elements of elem bytes. */
void mg_gpt2_layout_transpose(uint8_t *dst, const uint8_t *src, uint64_t rows, uint64_t cols, size_t elem);

#endif
