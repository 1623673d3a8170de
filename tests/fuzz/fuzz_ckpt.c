/* libFuzzer target for checkpoints: the read of lib/io/ckpt.c and the model
 * load of lib/model/gpt.c, as gpt-sample and gpt-train --resume/--eval-only
 * do them. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_crc.h"
#include "fuzz_file.h"
#include "io/ckpt.h"
#include "model/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_ckpt ck;
	mg_gpt *g;
	mg_err e;
	FILE *f = fuzz_fopen(data, size);

	if (!f)
		abort();
	if (!mg_ckpt_read(f, &ck, &e)) {
		for (size_t i = 0; i < ck.n_tensors; i++)
			if (ck.t[i].role >= MG_ROLE_COUNT || ck.t[i].ndim > MG_TENSOR_DIMS_MAX)
				abort();
		if (!mg_gpt_load(&g, &ck, &e))
			mg_gpt_free(g);
		mg_ckpt_free(&ck);
	}
	fclose(f);
	return 0;
}
