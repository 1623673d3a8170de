/* GPT-2 encoding against the 77 reference vectors of
 * tests/data/gpt2/gpt2_vectors.tsv (tiktoken and OpenAI's encoder.py): the
 * ids of every case and, for ordinary text, the pre-tokens. Run from the top
 * of the tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/bpe_encode.h"
#include "bpe/gpt2_import.h"
#include "bpe/pretok.h"
#include "check.h"

#define DATA "tests/data/gpt2/"

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)len + 1);
	if (!p || fread(p, 1, (size_t)len, f) != (size_t)len)
		exit(1);
	p[len] = 0;
	fclose(f);
	*n = (size_t)len;
	return p;
}

static size_t unhex(const char *h, size_t hn, uint8_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i + 1 < hn; i += 2) {
		unsigned v;
		sscanf(h + i, "%2x", &v);
		out[k++] = (uint8_t)v;
	}
	return k;
}

/* Splits a TSV line in place into at most max fields. */
static int fields(char *line, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == '\t') {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

static size_t parse_ids(const char *s, uint32_t *out)
{
	size_t n = 0;
	char *end;

	for (;;) {
		while (*s == ' ' || *s == '\n')
			s++;
		if (*s < '0' || *s > '9')
			break;
		out[n++] = (uint32_t)strtoul(s, &end, 10);
		s = end;
	}
	return n;
}

int main(void)
{
	mg_tokenizer tk;
	mg_bpe_encoder *plain, *special;
	mg_bpe_encode_worker *wp, *ws;
	mg_err e;
	size_t tsv_n, cases = 0, ts_n;
	char *tsv = (char *)slurp(DATA "gpt2_vectors.tsv", &tsv_n), *line, *save = NULL;
	uint8_t *ts = slurp("examples/data/tinyshakespeare.txt", &ts_n);
	uint8_t *buf = malloc(1 << 20), *pre = malloc(1 << 20);
	uint32_t *want = malloc((1 << 20) * sizeof *want);

	if (mg_gpt2_import_dir(DATA, &tk, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	CHECK_EQ(tk.vocab_size, 50257);
	CHECK_EQ(tk.n_merges, 50000);
	CHECK_EQ(tk.n_specials, 1);
	CHECK_EQ(tk.specials[0].id, 50256);
	CHECK(!strcmp(tk.specials[0].text, "<|endoftext|>"));
	if (mg_bpe_encoder_init(&plain, &tk, 0, &e) || mg_bpe_encoder_init(&special, &tk, MG_ENCODE_SPECIAL, &e) ||
	    mg_bpe_encode_worker_init(&wp, plain, &e) || mg_bpe_encode_worker_init(&ws, special, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[11];
		size_t n, nw, np = 0;
		mg_ids got = { 0 };
		int all, bad = 0;

		if (line[0] == '#' || !strncmp(line, "case_id\t", 8))
			continue;
		if (fields(line, f, 11) < 9) {
			fprintf(stderr, "short row %s\n", f[0]);
			return 1;
		}
		cases++;
		all = !strcmp(f[2], "all");
		if (!strncmp(f[5], "@file:data/ts_100k.txt", 22)) {
			size_t idn;
			char *ids = (char *)slurp(DATA "tinyshakespeare_100k.ids", &idn);
			memcpy(buf, ts, 100000);
			n = 100000;
			nw = parse_ids(ids, want);
			free(ids);
		} else {
			n = unhex(f[5], strlen(f[5]), buf);
			nw = parse_ids(f[7], want);
		}
		CHECK_EQ(nw, strtoul(f[3], NULL, 10));
		if (mg_bpe_encode_worker_encode(all ? ws : wp, buf, n, 0, &got, &e)) {
			fprintf(stderr, "%s: %s\n", f[0], e.msg);
			check_failures++;
			continue;
		}
		if (got.n != nw || (nw && memcmp(got.v, want, nw * sizeof *want))) { /* got.v is NULL when empty */
			fprintf(stderr, "%s: ids differ (%zu tokens, expected %zu)\n", f[0], got.n, nw);
			bad = 1;
		}
		/* pre-tokens, given as hex pieces for ordinary text (but for one
		 * case where the references disagree) */
		if (!all && f[8][0] != '@' && (f[8][0] || n == 0)) {
			char *h = f[8];
			size_t i = 0;
			while (*h) {
				size_t hl = strcspn(h, " ");
				size_t pl = unhex(h, hl, pre), j = i < n ? mg_pretok_next(buf, n, i, 1) : i;
				if (j - i != pl || memcmp(buf + i, pre, pl)) {
					fprintf(stderr, "%s: pre-token %zu differs\n", f[0], np);
					bad = 1;
					break;
				}
				i = j;
				np++;
				h += hl;
				while (*h == ' ')
					h++;
			}
			if (!bad && i != n) {
				fprintf(stderr, "%s: more pre-tokens than expected\n", f[0]);
				bad = 1;
			}
		}
		check_failures += bad;
		mg_ids_free(&got);
	}
	CHECK_EQ(cases, 77);
	mg_bpe_encode_worker_free(wp);
	mg_bpe_encode_worker_free(ws);
	mg_bpe_encoder_free(plain);
	mg_bpe_encoder_free(special);
	mg_tokenizer_free(&tk);
	free(tsv);
	free(ts);
	free(buf);
	free(pre);
	free(want);
	CHECK_DONE();
}
