/* gpt_logits: the logits of a checkpoint's model on a sequence of ids, for
 * the PyTorch cross-check of safetensors imports (tests/model/safetensors_ref.py);
 * not installed.
 *   gpt_logits IN.ckpt OUT.f32 ID...
 * writes the forward pass's logits (T, V) as float32, little-endian on x86.
 * Errors: "gpt_logits: FILE: message", exit 1; usage errors exit 2. */
#include <stdio.h>
#include <stdlib.h>

#include "model/gpt.h"

static void die(const char *file, const char *msg)
{
	fprintf(stderr, "gpt_logits: %s: %s\n", file, msg);
	exit(1);
}

int main(int argc, char **argv)
{
	uint32_t T = argc > 3 ? (uint32_t)(argc - 3) : 0, *ids;
	const mg_gpt_config *c;
	mg_ckpt ck;
	mg_gpt *g;
	mg_err e;
	FILE *f;

	if (argc < 4) {
		fprintf(stderr, "usage: gpt_logits IN.ckpt OUT.f32 ID...\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb")))
		die(argv[1], "cannot open");
	if (mg_ckpt_read(f, &ck, &e) || mg_gpt_load(&g, &ck, &e))
		die(argv[1], e.msg);
	fclose(f);
	c = mg_gpt_config_of(g);
	if (!(ids = malloc(T * sizeof *ids)))
		die(argv[1], "out of memory");
	for (uint32_t t = 0; t < T; t++)
		ids[t] = (uint32_t)strtoul(argv[3 + t], NULL, 10);
	if (mg_gpt_alloc(g, 1, T, 0, &e) || mg_gpt_forward(g, ids, NULL, NULL, 1, T, 0, 0, NULL, &e))
		die(argv[1], e.msg);
	if (!(f = fopen(argv[2], "wb")) ||
	    fwrite(mg_gpt_logits(g), sizeof(float), (size_t)T * c->vocab_size, f) != (size_t)T * c->vocab_size ||
	    fclose(f))
		die(argv[2], "write error");
	free(ids);
	mg_gpt_free(g);
	mg_ckpt_free(&ck);
	return 0;
}
