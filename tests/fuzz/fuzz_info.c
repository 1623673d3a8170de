/* libFuzzer target for mygpt-info's reader (lib/io/info.c): any format by
 * its magic, in bounded memory, checkpoints read as an index (TENS headers
 * only) and in full; the first byte picks which. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_crc.h"
#include "fuzz_file.h"
#include "io/info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_info in;
	mg_err e;
	FILE *f;

	if (!size)
		return 0;
	f = fuzz_fopen(data + 1, size - 1);
	if (!f)
		abort();
	if (!mg_info_read(f, &in, data[0] & 1, &e)) {
		if (in.kind < MG_INFO_TOKENS || in.kind > MG_INFO_CHECKPOINT)
			abort();
		if (in.kind == MG_INFO_TOKENS && in.tok.tokens && in.tok.id_max >= in.tok.h.vocab_size)
			abort();
		mg_info_free(&in);
	}
	fclose(f);
	return 0;
}
