/* libFuzzer target for decimal ids (lib/io/idtext.c), read as bpe-encode
 * --ids reads them: the first byte picks the vocabulary size and whether
 * "(id)" loss masks are allowed, the rest is the text. */
#include <stdint.h>
#include <stdlib.h>

#include "core/bytes.h"
#include "core/ids.h"
#include "fuzz_file.h"
#include "io/idtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t vocabs[4] = { 1, 10, 50257, 1u << 24 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mg_idtext_reader r; /* 64 KiB buffer: not on the stack */
	mg_ids ids = { 0 }, ends = { 0 };
	mg_buf masks = { 0 };
	mg_err e;
	int eof = 0, rc = 0;
	uint32_t vocab;
	FILE *f;

	if (!size)
		return 0;
	vocab = vocabs[data[0] & 3];
	f = fuzz_fopen(data + 1, size - 1);
	if (!f)
		abort();
	mg_idtext_reader_init(&r, f, vocab);
	if (data[0] & 4)
		mg_idtext_reader_masks(&r, &masks);
	while (!eof && !(rc = mg_idtext_read(&r, &ids, &ends, &eof, &e)))
		;
	if (!rc) {
		for (size_t i = 0; i < ids.n; i++)
			if (ids.v[i] >= vocab)
				abort();
		for (size_t i = 0; i < ends.n; i++)
			if (ends.v[i] > ids.n || (i && ends.v[i] <= ends.v[i - 1]))
				abort();
		if ((data[0] & 4) && masks.len != ids.n)
			abort();
	}
	mg_ids_free(&ids);
	mg_ids_free(&ends);
	mg_buf_free(&masks);
	fclose(f);
	return 0;
}
