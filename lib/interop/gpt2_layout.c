/* GPT-2's tensor names: this model's names are GPT-2's without the
 * ".weight" of the embeddings and without nanoGPT's "transformer." prefix,
 * so the mapping is a prefix, a suffix and a table of block tensors. */
#include "interop/gpt2_layout.h"

#include <stdio.h>
#include <string.h>

#define PREFIX "transformer."

/* A block's tensors, after "h.L.". */
static const char *const block_names[] = {
	"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
	"attn.c_proj.bias", "attn.time_weight", "attn.time_w", "attn.time_b", "ln_2.weight",
	"ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias", NULL,
};
static const char *const conv1d_names[] = { "attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight",
					    "mlp.c_proj.weight", NULL };
/* GPT-2's causal-mask buffers: not parameters */
static const char *const buffer_names[] = { "attn.bias", "attn.masked_bias", NULL };

const char *mg_gpt2_layout_name(int layout) { return layout == MG_GPT2_LAYOUT_HF ? "hf" : "nanogpt"; }

static int in(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

/* The part of a block tensor's name after "h.L.", or NULL: L is 1 to 4
 * digits without a leading zero. */
static const char *block_rest(const char *s)
{
	size_t d = 0;

	if (strncmp(s, "h.", 2))
		return NULL;
	s += 2;
	while (s[d] >= '0' && s[d] <= '9')
		d++;
	if (d < 1 || d > 4 || (d > 1 && s[0] == '0') || s[d] != '.')
		return NULL;
	return s + d + 1;
}

int mg_gpt2_layout_conv1d(const char *name)
{
	const char *rest = block_rest(name);

	return rest && in(rest, conv1d_names);
}

int mg_gpt2_layout_export_name(const char *name, int layout, char *out)
{
	const char *pre = layout == MG_GPT2_LAYOUT_HF ? "" : PREFIX, *rest = block_rest(name);

	if (!strcmp(name, "lm_head.weight"))
		snprintf(out, MG_GPT2_LAYOUT_NAME_MAX, "lm_head.weight");
	else if (!strcmp(name, "wte") || !strcmp(name, "wpe"))
		snprintf(out, MG_GPT2_LAYOUT_NAME_MAX, "%s%s.weight", pre, name);
	else if (!strcmp(name, "ln_f.weight") || !strcmp(name, "ln_f.bias") || (rest && in(rest, block_names)))
		snprintf(out, MG_GPT2_LAYOUT_NAME_MAX, "%s%.60s", pre, name);
	else
		return -1;
	return 0;
}

int mg_gpt2_layout_import_name(const char *ext, char *out)
{
	const char *s = !strncmp(ext, PREFIX, strlen(PREFIX)) ? ext + strlen(PREFIX) : ext, *rest;

	if (strlen(s) >= MG_GPT2_LAYOUT_NAME_MAX)
		return -1;
	if (!strcmp(ext, "lm_head.weight") || !strcmp(s, "ln_f.weight") || !strcmp(s, "ln_f.bias")) {
		strcpy(out, s);
		return 1;
	}
	if (!strcmp(s, "wte.weight") || !strcmp(s, "wpe.weight")) {
		memcpy(out, s, 3);
		out[3] = 0;
		return 1;
	}
	if (!(rest = block_rest(s)))
		return -1;
	if (in(rest, buffer_names))
		return 0;
	if (!in(rest, block_names))
		return -1;
	strcpy(out, s);
	return 1;
}

void mg_gpt2_layout_transpose(uint8_t *dst, const uint8_t *src, uint64_t rows, uint64_t cols, size_t elem)
{
	/* in tiles of 32 x 32, so both sides stay in cache */
	for (uint64_t r0 = 0; r0 < rows; r0 += 32)
		for (uint64_t c0 = 0; c0 < cols; c0 += 32)
			for (uint64_t r = r0; r < rows && r < r0 + 32; r++)
				for (uint64_t c = c0; c < cols && c < c0 + 32; c++)
					memcpy(dst + (c * rows + r) * elem, src + (r * cols + c) * elem, elem);
}
