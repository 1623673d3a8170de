/* st_convert_run: drives lib/interop for the PyTorch cross-checks
 * (tests/model/safetensors_ref.py, tests/safetensors.bats); not installed.
 *   st_convert_run from [--n-head N] [--block N] [--gelu tanh|erf] [--gpt2 DIR] IN.safetensors OUT.ckpt
 *     reads a safetensors file, loads the model it holds (every check of
 *     mg_gpt_load) and writes it as an f32 checkpoint; prints the layout,
 *     where the configuration came from and the buffers skipped
 *   st_convert_run to [--hf] IN.ckpt OUT.safetensors
 *   st_convert_run logits IN.ckpt OUT.f32 ID...
 *     the forward pass's logits (T, V) on the ids, float32 little-endian
 * Errors: "st_convert_run: FILE: message", exit 1; usage errors exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/gpt2_import.h"
#include "interop/st_convert.h"
#include "model/gpt.h"

static void die(const char *file, const mg_err *e)
{
	fprintf(stderr, "st_convert_run: %s: %s\n", file, e->msg);
	exit(1);
}

static FILE *open_or_die(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f) {
		fprintf(stderr, "st_convert_run: %s: cannot open\n", path);
		exit(1);
	}
	return f;
}

static int from(int argc, char **argv)
{
	mg_st_convert_opts o;
	mg_st_convert_info info;
	const char *gpt2 = NULL;
	mg_ckpt ck;
	mg_gpt *g;
	mg_ckptw *w;
	mg_err e;
	FILE *in, *out;
	int i;

	mg_st_convert_opts_default(&o);
	for (i = 2; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--n-head"))
			o.n_head = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--block"))
			o.block_size = (uint32_t)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--gelu"))
			o.gelu = !strcmp(argv[i + 1], "erf") ? MG_GELU_ERF : MG_GELU_TANH;
		else if (!strcmp(argv[i], "--gpt2"))
			gpt2 = argv[i + 1];
		else
			return 2;
	}
	if (argc - i != 2)
		return 2;
	in = open_or_die(argv[i], "rb");
	if (mg_st_convert_read(in, &o, &ck, &info, &e))
		die(argv[i], &e);
	fclose(in);
	if (gpt2) {
		if (mg_gpt2_import_dir(gpt2, &ck.tk, &e))
			die(gpt2, &e);
		ck.has_tokenizer = 1;
	}
	if (mg_gpt_load(&g, &ck, &e))
		die(argv[i], &e);
	out = open_or_die(argv[i + 1], "wb");
	if (mg_ckptw_open(&w, out, &ck.config, ck.has_tokenizer ? &ck.tk : NULL, NULL, 1, &e) ||
	    mg_gpt_write(g, w, MG_DTYPE_F32, 0, &e) || mg_ckptw_close(w, &e))
		die(argv[i + 1], &e);
	if (fclose(out)) {
		fprintf(stderr, "st_convert_run: %s: write error\n", argv[i + 1]);
		return 1;
	}
	printf("layout %s config %s%s ignored %u\n", mg_gpt2_layout_name(info.layout),
	       info.from_metadata ? "metadata" : "shapes", info.n_head_guessed ? " n_head-guessed" : "", info.ignored);
	mg_gpt_free(g);
	mg_ckpt_free(&ck);
	return 0;
}

static int to(int argc, char **argv)
{
	int hf = argc == 5 && !strcmp(argv[2], "--hf"), i = 2 + hf;
	mg_ckpt ck;
	mg_err e;
	FILE *in, *out;

	if (argc - i != 2)
		return 2;
	in = open_or_die(argv[i], "rb");
	if (mg_ckpt_read(in, &ck, &e))
		die(argv[i], &e);
	fclose(in);
	out = open_or_die(argv[i + 1], "wb");
	if (mg_st_convert_write(out, &ck, hf ? MG_GPT2_LAYOUT_HF : MG_GPT2_LAYOUT_NANOGPT, &e))
		die(argv[i + 1], &e);
	if (fclose(out)) {
		fprintf(stderr, "st_convert_run: %s: write error\n", argv[i + 1]);
		return 1;
	}
	mg_ckpt_free(&ck);
	return 0;
}

static int logits(int argc, char **argv)
{
	uint32_t T = (uint32_t)(argc - 4), *ids;
	const mg_gpt_config *c;
	mg_ckpt ck;
	mg_gpt *g;
	mg_err e;
	FILE *f;

	if (argc < 5)
		return 2;
	f = open_or_die(argv[2], "rb");
	if (mg_ckpt_read(f, &ck, &e) || mg_gpt_load(&g, &ck, &e))
		die(argv[2], &e);
	fclose(f);
	c = mg_gpt_config_of(g);
	ids = malloc(T * sizeof *ids);
	for (uint32_t t = 0; t < T; t++)
		ids[t] = (uint32_t)strtoul(argv[4 + t], NULL, 10);
	if (mg_gpt_alloc(g, 1, T, 0, &e) || mg_gpt_forward(g, ids, NULL, NULL, 1, T, 0, 0, NULL, &e))
		die(argv[2], &e);
	f = open_or_die(argv[3], "wb");
	if (fwrite(mg_gpt_logits(g), sizeof(float), (size_t)T * c->vocab_size, f) != (size_t)T * c->vocab_size ||
	    fclose(f)) {
		fprintf(stderr, "st_convert_run: %s: write error\n", argv[3]);
		return 1;
	}
	free(ids);
	mg_gpt_free(g);
	mg_ckpt_free(&ck);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc > 1 && !strcmp(argv[1], "from"))
		rc = from(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "to"))
		rc = to(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "logits"))
		rc = logits(argc, argv);
	if (rc == 2)
		fprintf(stderr, "usage: st_convert_run from [--n-head N] [--block N] [--gelu tanh|erf] [--gpt2 DIR] IN OUT\n"
				"       st_convert_run to [--hf] IN OUT\n"
				"       st_convert_run logits IN OUT ID...\n");
	return rc;
}
