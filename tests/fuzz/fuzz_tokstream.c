/* libFuzzer target for token streams (lib/io/tokstream.c): the whole-stream
 * read of gpt-train, gpt-sample and adder-gen, then the span reader of
 * bpe-encode --ids/--decode, decoding each span with the embedded tokenizer. */
#include <stdint.h>
#include <stdlib.h>

#include "core/bytes.h"
#include "fuzz_crc.h"
#include "fuzz_file.h"
#include "io/tokstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_tokstream_data d;
	mg_tokstream_reader *r;
	mg_tokstream_span sp;
	mg_err e;
	FILE *f = fuzz_fopen(data, size);

	if (!f)
		abort();
	if (!mg_tokstream_data_read(f, &d, &e)) {
		/* the reader's promises: ids below the vocabulary, records tile the stream */
		for (uint64_t i = 0; i < d.n; i++)
			if (d.ids[i] >= d.h.vocab_size)
				abort();
		if (d.n_records && (d.start[0] != 0 || d.start[d.n_records] != d.n))
			abort();
		mg_tokstream_data_free(&d);
	}
	rewind(f);
	if (!mg_tokstream_reader_open(&r, f, &e)) {
		const mg_tokenizer *tk = mg_tokstream_reader_tokenizer(r);
		mg_buf out = { 0 };
		while (!mg_tokstream_reader_next(r, &sp, &e) && sp.n) {
			for (size_t s = 0; s < sp.n_starts; s++)
				if (sp.starts[s] >= sp.n)
					abort();
			if (tk && tk->vocab_size != mg_tokstream_reader_header(r)->vocab_size)
				abort();
			if (tk && tk->kind != MG_TOKENIZER_PALETTE) {
				out.len = 0;
				if (mg_tokenizer_decode(tk, sp.ids, sp.n, &out, &e))
					abort();
			}
		}
		mg_buf_free(&out);
		mg_tokstream_reader_close(r);
	}
	fclose(f);
	return 0;
}
