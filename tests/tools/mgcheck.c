/* mgcheck: a test tool that reads mygpt files with the library's readers.
 * "mgcheck FILE..." prints one summary line per file (the words of
 * formats/vectors/good/MANIFEST), or "mgcheck: FILE: error" and exits 1.
 * "-" is standard input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/ckpt.h"
#include "io/tokstream.h"

static int check_one(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t magic[8];
	size_t got;
	mg_err e = { 0 };
	int rc;

	if (!f) {
		fprintf(stderr, "mgcheck: %s: cannot open\n", path);
		return 1;
	}
	got = fread(magic, 1, 8, f);
	/* start again from byte 0: files rewind, stdin is copied to a tmpfile */
	if (f == stdin) {
		char buf[65536];
		size_t r;
		f = tmpfile();
		fwrite(magic, 1, got, f);
		while ((r = fread(buf, 1, sizeof buf, stdin)) > 0)
			fwrite(buf, 1, r, f);
	}
	rewind(f);
	if (got >= 4 && !memcmp(magic + 1, "MGV", 3)) {
		mg_chunk_reader cr;
		mg_tokenizer tk;
		mg_chunk_reader_init(&cr, f);
		rc = mg_tokenizer_read(&cr, &tk, &e);
		mg_chunk_reader_free(&cr);
		if (!rc) {
			printf("tokenizer kind=%s vocab=%u split=%u specials=%u bytes=%u\n", mg_tokenizer_kind_name(tk.kind),
			       tk.vocab_size, tk.split, tk.n_specials, tk.tok_off[tk.vocab_size]);
			mg_tokenizer_free(&tk);
		}
	} else if (got >= 4 && !memcmp(magic + 1, "MGC", 3)) {
		mg_ckpt ck;
		rc = mg_ckpt_read(f, &ck, &e);
		if (!rc) {
			uint64_t elems = 0;
			for (size_t i = 0; i < ck.n_tensors; i++)
				elems += ck.t[i].n;
			printf("checkpoint keys=%zu tensors=%zu elements=%llu\n", ck.config.n, ck.n_tensors,
			       (unsigned long long)elems);
			mg_ckpt_free(&ck);
		}
	} else {
		mg_tokstream_data d;
		rc = mg_tokstream_data_read(f, &d, &e);
		if (!rc) {
			uint64_t sum = 0;
			for (uint64_t i = 0; i < d.n; i++)
				sum += d.ids[i];
			printf("tokens vocab=%u layout=%s mask=%u n=%llu records=%llu sum=%llu\n", d.h.vocab_size,
			       mg_tokstream_layout_name(d.h.layout), d.h.has_mask, (unsigned long long)d.n,
			       (unsigned long long)d.n_records, (unsigned long long)sum);
			mg_tokstream_data_free(&d);
		}
	}
	fclose(f);
	if (rc) {
		fprintf(stderr, "mgcheck: %s: %s\n", path, e.msg);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: mgcheck file...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		bad |= check_one(argv[i]);
	return bad;
}
