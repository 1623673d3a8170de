/* The streaming encoder gives the ids of encoding each document whole, for
 * tiny and odd block sizes (so cut points, buffer growth and separators
 * across block ends are all exercised), one or several threads, with and
 * without special tokens, for GPT-2, a no-split model and a chars model. */
#define _GNU_SOURCE /* fmemopen, memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/bpe_stream.h"
#include "bpe/bpe_train.h"
#include "bpe/gpt2_import.h"
#include "check.h"

typedef struct got {
	mg_ids ids;
	size_t docs;
} got;

static int put(void *c, const uint32_t *ids, size_t n, mg_err *e)
{
	got *g = c;
	if (mg_ids_reserve(&g->ids, n))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	memcpy(g->ids.v + g->ids.n, ids, n * sizeof *ids);
	g->ids.n += n;
	return MG_OK;
}

static int doc_end(void *c, mg_err *e)
{
	(void)e;
	((got *)c)->docs++;
	return MG_OK;
}

/* Reference: split at the separator by hand, encode each document whole. */
static void reference(const mg_bpe_encoder *enc, const uint8_t *s, size_t n, const char *sep, mg_ids *out)
{
	mg_bpe_encode_worker *w;
	mg_err e;
	size_t start = 0;

	mg_bpe_encode_worker_init(&w, enc, &e);
	while (start < n) {
		const uint8_t *p = sep ? memmem(s + start, n - start, sep, strlen(sep)) : NULL;
		size_t end = p ? (size_t)(p - s) + strlen(sep) : n;
		if (mg_bpe_encode_worker_encode(w, s + start, end - start, start, out, &e))
			fprintf(stderr, "%s\n", e.msg);
		start = end;
	}
	mg_bpe_encode_worker_free(w);
}

static void run(const mg_tokenizer *tk, uint32_t flags, const uint8_t *text, size_t n, const char *what)
{
	static const size_t blocks[] = { 1, 7, 64, 1000, 0 };
	static const char *seps[] = { NULL, "\n\n", "<|endoftext|>" };
	mg_bpe_encoder *enc;
	mg_err e;

	if (mg_bpe_encoder_init(&enc, tk, flags, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		check_failures++;
		return;
	}
	for (int si = 0; si < 3; si++) {
		mg_ids want = { 0 };
		reference(enc, text, n, seps[si], &want);
		for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++)
			for (uint32_t threads = 1; threads <= 3; threads += 2) {
				FILE *f = fmemopen((void *)text, n, "rb");
				mg_bpe_stream_opts o = { threads, blocks[bi], (const uint8_t *)seps[si], seps[si] ? strlen(seps[si]) : 0 };
				mg_bpe_stream_stats st = { 0 };
				got g = { { 0 }, 0 };
				mg_bpe_stream_sink sink = { &g, put, doc_end };
				int rc = mg_bpe_stream_encode(enc, f, &o, &sink, &st, &e);
				fclose(f);
				if (rc || g.ids.n != want.n || memcmp(g.ids.v, want.v, want.n * sizeof *want.v) ||
				    st.bytes != n) {
					fprintf(stderr, "%s, separator %d, block %zu, %u threads: %s\n", what, si, blocks[bi],
						threads, rc ? e.msg : "ids differ");
					check_failures++;
				}
				mg_ids_free(&g.ids);
			}
		mg_ids_free(&want);
	}
	mg_bpe_encoder_free(enc);
}

int main(void)
{
	mg_tokenizer gpt2, nosplit, chars;
	mg_bpe_trainer *t;
	uint32_t merges;
	mg_err e;
	uint8_t *text = malloc(40000);
	size_t n = 0;
	FILE *f = fopen("examples/data/tinyshakespeare.txt", "rb");
	static const char extra[] = "  caf\xc3\xa9 \xff\xfe\xe2\x82 \xe4\xbd\xa0\xe5\xa5\xbd<|endoftext|>it's   \n\n\n"
				    "<|endoftext|<|endoftext|>\t\t x\xcc\x81 12345 \xf0\x9f\xa4\x97\xf0\x9f\xa4\x97 ";

	if (!f || !text)
		return 1;
	n = fread(text, 1, 30000, f);
	fclose(f);
	for (int k = 0; k < 20; k++) { /* some of everything, spread through the text */
		memmove(text + (size_t)k * 1500 + sizeof extra - 1, text + (size_t)k * 1500, n - (size_t)k * 1500);
		memcpy(text + (size_t)k * 1500, extra, sizeof extra - 1);
		n += sizeof extra - 1;
	}
	if (mg_gpt2_import_dir("tests/data/gpt2", &gpt2, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	run(&gpt2, 0, text, n, "gpt2");
	run(&gpt2, MG_ENCODE_SPECIAL, text, n, "gpt2 with special tokens");
	mg_bpe_trainer_init(&t, MG_TOKENIZER_BPE, MG_SPLIT_NONE, NULL, 0, &e);
	mg_bpe_trainer_count_mem(t, text, 5000, &e);
	CHECK_EQ(mg_bpe_trainer_train(t, 400, NULL, NULL, &nosplit, &merges, &e), 0);
	mg_bpe_trainer_free(t);
	run(&nosplit, 0, text, 8000, "no-split");
	mg_bpe_trainer_init(&t, MG_TOKENIZER_CHARS, 0, NULL, 0, &e);
	mg_bpe_trainer_count_mem(t, text, n, &e);
	CHECK_EQ(mg_bpe_trainer_train(t, 0, NULL, NULL, &chars, &merges, &e), 0);
	mg_bpe_trainer_free(t);
	run(&chars, 0, text, n, "chars");
	mg_tokenizer_free(&gpt2);
	mg_tokenizer_free(&nosplit);
	mg_tokenizer_free(&chars);
	free(text);
	CHECK_DONE();
}
