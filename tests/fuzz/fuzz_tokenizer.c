/* libFuzzer target for tokenizer models (lib/io/tokenizer.c): the load of
 * bpe-encode -m, then what the tools do with a model: decode every id and
 * encode a short text with and without special tokens (lib/bpe/bpe_encode.c). */
#include <stdint.h>
#include <stdlib.h>

#include "bpe/bpe_encode.h"
#include "core/bytes.h"
#include "fuzz_crc.h"
#include "fuzz_file.h"
#include "io/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char text[] = "Hello, world! It's 2024\n\tx  y<|endoftext|>\xe2\x82\xac\xff";

static void encode(const mg_tokenizer *tk, uint32_t flags)
{
	mg_bpe_encoder *enc;
	mg_bpe_encode_worker *w;
	mg_ids ids = { 0 };
	mg_err e;

	if (mg_bpe_encoder_init(&enc, tk, flags, &e))
		return;
	if (!mg_bpe_encode_worker_init(&w, enc, &e)) {
		/* a chars model may lack a character (MG_E_INVAL): not a failure */
		if (!mg_bpe_encode_worker_encode(w, (const uint8_t *)text, sizeof text - 1, 0, &ids, &e))
			for (size_t i = 0; i < ids.n; i++)
				if (ids.v[i] >= tk->vocab_size)
					abort();
		mg_ids_free(&ids);
		mg_bpe_encode_worker_free(w);
	}
	mg_bpe_encoder_free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_tokenizer tk;
	mg_err e;
	FILE *f = fuzz_fopen(data, size);

	if (!f)
		abort();
	if (!mg_tokenizer_load(f, &tk, &e)) {
		if (tk.kind != MG_TOKENIZER_PALETTE) {
			mg_buf out = { 0 };
			for (uint32_t id = 0; id < tk.vocab_size; id++)
				if (mg_tokenizer_decode(&tk, &id, 1, &out, &e))
					abort();
			if (out.len != tk.tok_off[tk.vocab_size])
				abort();
			mg_buf_free(&out);
			encode(&tk, 0);
			encode(&tk, MG_ENCODE_SPECIAL);
		}
		mg_tokenizer_free(&tk);
	}
	fclose(f);
	return 0;
}
