/* libFuzzer target for GPT-2's encoder.json and vocab.bpe import
 * (lib/bpe/gpt2_import.c): the input is encoder.json, a NUL byte, then
 * vocab.bpe (without a NUL, all of it is encoder.json and vocab.bpe is
 * empty); each file is copied to a buffer of its exact size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/gpt2_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t el = nul ? (size_t)(nul - data) : size, bl = nul ? size - el - 1 : 0;
	uint8_t *ej = malloc(el ? el : 1), *vb = malloc(bl ? bl : 1);
	mg_tokenizer tk;
	mg_err e;

	if (!ej || !vb)
		abort();
	memcpy(ej, data, el);
	if (bl)
		memcpy(vb, nul + 1, bl);
	if (!mg_gpt2_import(ej, el, vb, bl, &tk, &e)) {
		if (tk.kind != MG_TOKENIZER_BPE)
			abort();
		mg_tokenizer_free(&tk);
	}
	free(ej);
	free(vb);
	return 0;
}
