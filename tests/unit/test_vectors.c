/* The format test vectors: makes every good and bad file of formats/vectors
 * in memory and checks (1) the committed files are byte-identical, (2) the C
 * readers accept the good ones with the contents the MANIFEST states and
 * (3) reject each bad one with the stated error. "test_vectors --write DIR"
 * regenerates the files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "check.h"
#include "io/chunk.h"
#include "io/ckpt.h"
#include "io/tokstream.h"

#define DIR_DEFAULT "formats/vectors"

typedef struct vec {
	char name[64];
	mg_buf bytes;
	char line[512]; /* good: describe line; bad: "kind\tmessage" */
} vec;

static vec goods[32], bads[64];
static int n_good, n_bad;

/* ------------------------------------------------------------ builders */

static void slurp(FILE *f, mg_buf *b)
{
	char tmp[65536];
	size_t n;

	rewind(f);
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		mg_buf_add(b, tmp, n);
	fclose(f);
}

static void bpe_tokenizer(mg_tokenizer *tk, int permuted, uint32_t merges, int special)
{
	mg_err e;

	memset(tk, 0, sizeof *tk);
	tk->kind = MG_TOKENIZER_BPE;
	tk->split = permuted ? MG_SPLIT_GPT2 : MG_SPLIT_NONE;
	for (int b = 0; b < 256; b++)
		tk->byte_id[b] = permuted ? (uint32_t)((b + 33) % 256) : (uint32_t)b;
	tk->merges = calloc(merges ? merges : 1, sizeof *tk->merges);
	for (uint32_t r = 0; r < merges; r++) {
		/* merge r joins a letter and the previous merge (or a letter) */
		tk->merges[r].left = tk->byte_id['a' + r % 26];
		tk->merges[r].right = r ? 256 + r - 1 : tk->byte_id['b'];
		tk->merges[r].id = 256 + r;
	}
	tk->n_merges = merges;
	tk->vocab_size = 256 + merges;
	if (special) {
		tk->specials = calloc(1, sizeof *tk->specials);
		tk->specials[0].id = tk->vocab_size++;
		tk->specials[0].text = strdup("<|endoftext|>");
		tk->specials[0].len = 13;
		tk->n_specials = 1;
	}
	if (mg_tokenizer_finish(tk, &e)) {
		fprintf(stderr, "bpe_tokenizer: %s\n", e.msg);
		exit(1);
	}
}

static vec *add_good(const char *name)
{
	vec *v = &goods[n_good++];
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", name);
	return v;
}

static vec *add_bad(const char *name, const char *kind, const char *msg)
{
	vec *v = &bads[n_bad++];
	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", name);
	snprintf(v->line, sizeof v->line, "%s\t%s", kind, msg);
	return v;
}

/* A token stream written through the library. ids[i] = f(i); masks and
 * record starts as given. Fills the describe line. */
static void tokens_vec(vec *v, mg_tokstream_header h, const mg_tokenizer *tk, uint64_t n, uint32_t (*idf)(uint64_t),
		       const uint64_t *starts, size_t n_starts, int members)
{
	mg_err e;
	FILE *f = tmpfile(); /* the writers take a FILE; read back below */
	uint64_t sum = 0, masked = 0;

	for (int m = 0; m < members; m++) {
		mg_tokstream_writer *w;
		size_t s = 0;
		if (mg_tokstream_writer_open(&w, f, &h, m == 0 ? tk : NULL, 6, &e)) {
			fprintf(stderr, "%s: %s\n", v->name, e.msg);
			exit(1);
		}
		for (uint64_t i = 0; i < n; i++) {
			uint32_t id = idf(i);
			uint8_t mk = (uint8_t)((i % 3) != 0);
			if (s < n_starts && starts[s] == i) {
				mg_tokstream_writer_record(w, &e);
				s++;
			}
			if (mg_tokstream_writer_put(w, &id, &mk, 1, &e)) {
				fprintf(stderr, "%s: %s\n", v->name, e.msg);
				exit(1);
			}
			if (m == 0) {
				sum += id;
				masked += h.has_mask ? mk : 1;
			}
		}
		if (mg_tokstream_writer_close(w, &e)) {
			fprintf(stderr, "%s: %s\n", v->name, e.msg);
			exit(1);
		}
	}
	slurp(f, &v->bytes);
	snprintf(v->line, sizeof v->line,
		 "tokens vocab=%u width=%u layout=%s mask=%u record_len=%u n=%llu records=%llu%s%s sum=%llu masked=%llu",
		 h.vocab_size, h.id_bytes, mg_tokstream_layout_name(h.layout), h.has_mask, h.record_len,
		 (unsigned long long)(n * members), (unsigned long long)(n_starts * members), tk ? " tokenizer=" : "",
		 tk ? mg_tokenizer_kind_name(tk->kind) : "", (unsigned long long)(sum * members),
		 (unsigned long long)(masked * members));
}

static uint32_t id_mod300(uint64_t i) { return (uint32_t)((i * 7919) % 300); }
static uint32_t id_digit(uint64_t i) { return (uint32_t)((i * i + 3) % 10); }
static uint32_t id_big(uint64_t i) { return (uint32_t)((i * 104729) % 70000); }

static void tokenizer_vec(vec *v, const mg_tokenizer *tk)
{
	mg_err e;
	uint64_t bytes = tk->tok_off[tk->vocab_size];

	if (mg_tokenizer_pack(tk, &v->bytes, &e)) {
		fprintf(stderr, "%s: %s\n", v->name, e.msg);
		exit(1);
	}
	snprintf(v->line, sizeof v->line, "tokenizer kind=%s vocab=%u split=%u specials=%u bytes=%llu",
		 mg_tokenizer_kind_name(tk->kind), tk->vocab_size, tk->split, tk->n_specials,
		 (unsigned long long)bytes);
}

/* ------------------------------------------------------------ raw craft */

/* Finds the n-th chunk (0 = first after the preamble) of a member starting
 * at off; returns its offset and total size. */
static size_t chunk_at(const mg_buf *b, size_t off, int n, size_t *size)
{
	size_t p = off + MG_PREAMBLE_SIZE;

	for (;;) {
		uint32_t stored = mg_le32_get(b->data + p + 8);
		size_t sz = MG_CHUNK_HEADER + stored + 4;
		if (n-- == 0) {
			*size = sz;
			return p;
		}
		p += sz;
	}
}

static void fix_crc(mg_buf *b, size_t at)
{
	uint32_t stored = mg_le32_get(b->data + at + 8);
	mg_le32_put(b->data + at + MG_CHUNK_HEADER + stored,
		    (uint32_t)crc32(0, b->data + at, MG_CHUNK_HEADER + stored));
}

static void copy_buf(mg_buf *dst, const mg_buf *src) { mg_buf_add(dst, src->data, src->len); }

static vec *find_good(const char *name)
{
	for (int i = 0; i < n_good; i++)
		if (!strcmp(goods[i].name, name))
			return &goods[i];
	abort();
}

/* ------------------------------------------------------------ the set */

static void make_checkpoint(vec *v, int variant)
{
	mg_kv cfg = { 0 }, tr = { 0 };
	mg_tokenizer tk;
	mg_ckptw *w;
	mg_err e;
	FILE *f = tmpfile();
	double sum = 0;
	uint64_t elems = 0;
	uint32_t ntensors = 0;
	static float big[(1u << 22) + 64];

	mg_kv_set_str(&cfg, "model", "gpt", 3);
	mg_kv_set_int(&cfg, "n_layer", 1);
	mg_kv_set_int(&cfg, "n_head", 2);
	mg_kv_set_int(&cfg, "n_embd", 32);
	mg_kv_set_float(&cfg, "dropout_attn", 0.125);
	mg_kv_set_str(&tr, "note", "vectors", 7);
	mg_kv_set_int(&tr, "step", -5);
	bpe_tokenizer(&tk, 0, 10, 1);
	if (mg_ckptw_open(&w, f, &cfg, variant == 0 ? &tk : NULL, variant == 0 ? &tr : NULL, 6, &e))
		goto fail;
	{
		/* small dyadic values so that sums are exact in any order */
		float a[64];
		uint32_t d2[2] = { 2, 32 };
		for (int i = 0; i < 64; i++)
			a[i] = (float)(i - 20) / 64.0f;
		for (uint32_t dt = 0; dt < MG_DTYPE_COUNT; dt++) {
			char name[32];
			snprintf(name, sizeof name, "t.%s", mg_dtype_name(dt));
			if (mg_ckptw_tensor(w, name, MG_ROLE_PARAM, dt, 2, d2, a, &e))
				goto fail;
			{
				uint8_t enc[64 * 4];
				float back[64];
				mg_dtype_encode(dt, a, 64, enc);
				mg_dtype_decode(dt, enc, 64, back);
				for (int i = 0; i < 64; i++)
					sum += back[i];
			}
			elems += 64;
			ntensors++;
		}
		if (variant == 0) {
			uint32_t d1[1] = { (1u << 22) + 64 }; /* two pieces */
			for (uint32_t i = 0; i < d1[0]; i++)
				big[i] = (i % 4096 == 0) ? 0.5f : 0.0f;
			if (mg_ckptw_tensor(w, "big", MG_ROLE_ADAM_M, MG_DTYPE_F32, 1, d1, big, &e))
				goto fail;
			for (uint32_t i = 0; i < d1[0]; i++)
				sum += big[i];
			elems += d1[0];
			ntensors++;
			if (mg_ckptw_tensor(w, "t.f32", MG_ROLE_ADAM_V, MG_DTYPE_F32, 2, d2, a, &e))
				goto fail;
			for (int i = 0; i < 64; i++)
				sum += a[i];
			elems += 64;
			ntensors++;
		}
	}
	if (mg_ckptw_close(w, &e))
		goto fail;
	slurp(f, &v->bytes);
	snprintf(v->line, sizeof v->line, "checkpoint keys=%zu train=%s tokenizer=%s tensors=%u elements=%llu sum=%.6g",
		 cfg.n, variant == 0 ? "2" : "-", variant == 0 ? "bpe" : "-", ntensors, (unsigned long long)elems, sum);
	mg_kv_free(&cfg);
	mg_kv_free(&tr);
	mg_tokenizer_free(&tk);
	return;
fail:
	fprintf(stderr, "%s: %s\n", v->name, e.msg);
	exit(1);
}

static void make_all(void)
{
	mg_tokenizer bpe, chars, pal;
	mg_err e;
	vec *v;

	/* --- good tokenizers --- */
	bpe_tokenizer(&bpe, 1, 44, 1);
	tokenizer_vec(add_good("bpe.tkz"), &bpe);
	{
		uint32_t cps[6] = { '\n', 'a', 0xe9, 0x1f917, MG_CHAR_RAW_BYTE + 0xff, ' ' };
		if (mg_tokenizer_init_chars(&chars, cps, 6, &e))
			exit(1);
		tokenizer_vec(add_good("chars.tkz"), &chars);
	}
	memset(&pal, 0, sizeof pal);
	pal.kind = MG_TOKENIZER_PALETTE;
	pal.vocab_size = pal.n_colors = 4;
	pal.width = pal.height = 2;
	pal.palette = malloc(12);
	for (int i = 0; i < 12; i++)
		pal.palette[i] = (uint8_t)(i * 21);
	if (mg_tokenizer_finish(&pal, &e))
		exit(1);
	tokenizer_vec(add_good("palette.tkz"), &pal);

	/* --- good token streams --- */
	tokens_vec(add_good("stream16.tok"), mg_tokstream_header_make(301, MG_LAYOUT_STREAM, 0, 0), &bpe, 70000, id_mod300,
		   NULL, 0, 1);
	{
		uint64_t st[3] = { 0, 7, 14 };
		mg_tokenizer dig;
		uint32_t cps[10] = { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' };
		mg_tokenizer_init_chars(&dig, cps, 10, &e);
		tokens_vec(add_good("records_mask.tok"), mg_tokstream_header_make(10, MG_LAYOUT_EXAMPLES, 1, 7), &dig, 21, id_digit,
			   st, 3, 1);
		mg_tokenizer_free(&dig);
	}
	{
		uint64_t st[3] = { 0, 5, 6 };
		tokens_vec(add_good("documents32.tok"), mg_tokstream_header_make(70000, MG_LAYOUT_DOCUMENTS, 0, 0), NULL, 65546,
			   id_big, st, 3, 1);
	}
	tokens_vec(add_good("concat.tok"), mg_tokstream_header_make(301, MG_LAYOUT_STREAM, 0, 0), &bpe, 1000, id_mod300, NULL, 0,
		   2);
	tokens_vec(add_good("empty.tok"), mg_tokstream_header_make(301, MG_LAYOUT_STREAM, 0, 0), NULL, 0, id_mod300, NULL, 0, 1);

	/* --- good checkpoints --- */
	make_checkpoint(add_good("full.ckpt"), 0);
	make_checkpoint(add_good("bare.ckpt"), 1);

	/* --- bad token streams --- */
	{
		vec *g = find_good("stream16.tok");
		size_t sz, at;

		v = add_bad("magic.tok", "magic", "bad magic at byte 0");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[1] = 'X';

		v = add_bad("text.tok", "magic", "bad magic at byte 0");
		mg_buf_add(&v->bytes, "hello, world\n", 13);

		v = add_bad("version.tok", "version", "unsupported version 2.0");
		copy_buf(&v->bytes, &g->bytes);
		mg_le16_put(v->bytes.data + 8, 2);
		mg_le32_put(v->bytes.data + 12, (uint32_t)crc32(0, v->bytes.data, 12));

		v = add_bad("preamble-crc.tok", "crc", "preamble checksum mismatch");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[10] ^= 1;

		at = chunk_at(&g->bytes, 0, 2, &sz); /* first DATA (HEAD, VOCB, DATA) */
		v = add_bad("truncated-data.tok", "truncated", "truncated chunk 'DATA'");
		mg_buf_add(&v->bytes, g->bytes.data, at + sz / 2);

		v = add_bad("truncated-header.tok", "truncated", "truncated chunk header");
		mg_buf_add(&v->bytes, g->bytes.data, at + 7);

		v = add_bad("no-tail.tok", "truncated", "truncated chunk header");
		mg_buf_add(&v->bytes, g->bytes.data, g->bytes.len - (MG_CHUNK_HEADER + 24 + 4));

		v = add_bad("flip-data.tok", "crc", "checksum mismatch in chunk 'DATA'");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[at + MG_CHUNK_HEADER + 40] ^= 0x20;

		v = add_bad("missing-chunk.tok", "corrupt", "a chunk is missing");
		mg_buf_add(&v->bytes, g->bytes.data, at);
		mg_buf_add(&v->bytes, g->bytes.data + at + sz, g->bytes.len - at - sz);

		v = add_bad("oversized.tok", "limit", "over the 67108864-byte limit");
		mg_buf_add(&v->bytes, g->bytes.data, at + MG_CHUNK_HEADER);
		mg_le32_put(v->bytes.data + at + 8, 100u << 20);

		v = add_bad("reserved-flag.tok", "corrupt", "reserved flag bits");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[at + 4] |= 0x20;
		fix_crc(&v->bytes, at);

		v = add_bad("stray.tok", "magic", "bad magic at byte");
		copy_buf(&v->bytes, &g->bytes);
		mg_buf_add(&v->bytes, "junk", 4);

		v = add_bad("member-differs.tok", "corrupt", "different header from the first member");
		copy_buf(&v->bytes, &g->bytes);
		copy_buf(&v->bytes, &find_good("empty.tok")->bytes);
		{ /* empty.tok has no tokenizer but the same HEAD: make the HEAD differ */
			size_t a2 = g->bytes.len + MG_PREAMBLE_SIZE;
			v->bytes.data[a2 + MG_CHUNK_HEADER + 5] = MG_LAYOUT_DOCUMENTS;
			fix_crc(&v->bytes, a2);
		}

		v = add_bad("tail-count.tok", "corrupt", "'TAIL'");
		copy_buf(&v->bytes, &g->bytes);
		{
			size_t t = v->bytes.len - (MG_CHUNK_HEADER + 24 + 4);
			v->bytes.data[t + MG_CHUNK_HEADER] ^= 1;
			fix_crc(&v->bytes, t);
		}
	}
	{
		/* hand-made members for field-level corruption */
		struct { const char *name, *kind, *msg; uint32_t vocab; uint8_t width, layout, flags; uint32_t rlen;
			 uint32_t n, k; uint32_t start0; uint32_t id; uint8_t mask; uint64_t first; } cases[] = {
			{ "id-range.tok", "corrupt", "outside the vocabulary", 10, 2, 0, 0, 0, 1, 0, 0, 10, 0, 0 },
			{ "layout.tok", "corrupt", "unknown layout", 10, 2, 7, 0, 0, 1, 0, 0, 1, 0, 0 },
			{ "width.tok", "corrupt", "id width 3", 10, 3, 0, 0, 0, 1, 0, 0, 1, 0, 0 },
			{ "vocab-limit.tok", "limit", "vocabulary size", 1u << 30, 4, 0, 0, 0, 1, 0, 0, 1, 0, 0 },
			{ "mask-padding.tok", "corrupt", "padding bits", 10, 2, 2, 1, 0, 1, 1, 0, 1, 0xff, 0 },
			{ "record-start.tok", "corrupt", "does not start at its first token", 10, 2, 2, 0, 0, 2, 1, 1, 1, 0, 0 },
			{ "record-len.tok", "corrupt", "not 3", 10, 2, 2, 0, 3, 2, 1, 0, 1, 0, 0 },
			{ "sequence.tok", "corrupt", "a chunk is missing", 10, 2, 0, 0, 0, 1, 0, 0, 1, 0, 5 },
			{ "empty-data.tok", "corrupt", "holds 0 tokens", 10, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0 },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			mg_buf head = { 0 }, data = { 0 };
			uint8_t t[24] = { 0 };
			v = add_bad(cases[i].name, cases[i].kind, cases[i].msg);
			mg_member_pack_start(&v->bytes, mg_magic_tokens);
			mg_buf_u32(&head, cases[i].vocab);
			mg_buf_u8(&head, cases[i].width);
			mg_buf_u8(&head, cases[i].layout);
			mg_buf_u8(&head, cases[i].flags);
			mg_buf_u8(&head, 0);
			mg_buf_u32(&head, cases[i].rlen);
			mg_buf_u32(&head, 0);
			mg_chunk_pack(&v->bytes, "HEAD", 0, head.data, head.len, 6, &e);
			mg_buf_u64(&data, cases[i].first);
			mg_buf_u32(&data, cases[i].n);
			mg_buf_u32(&data, cases[i].k);
			if (cases[i].k)
				mg_buf_u32(&data, cases[i].start0);
			for (uint32_t j = 0; j < cases[i].n; j++)
				if (cases[i].width == 4)
					mg_buf_u32(&data, cases[i].id);
				else if (cases[i].width == 3) {
					mg_buf_u16(&data, (uint16_t)cases[i].id);
					mg_buf_u8(&data, 0);
				} else
					mg_buf_u16(&data, (uint16_t)cases[i].id);
			if (cases[i].flags & 1)
				mg_buf_u8(&data, cases[i].mask);
			mg_chunk_pack(&v->bytes, "DATA", 0, data.data, data.len, 6, &e);
			mg_le64_put(t, cases[i].n);
			mg_le64_put(t + 8, cases[i].k);
			mg_le64_put(t + 16, 1);
			mg_chunk_pack(&v->bytes, "TAIL", 0, t, 24, 6, &e);
			mg_buf_free(&head);
			mg_buf_free(&data);
		}
	}
	{
		/* DATA whose zlib stream is damaged but whose CRC is right */
		vec *g = find_good("stream16.tok");
		size_t sz, at = chunk_at(&g->bytes, 0, 2, &sz);
		v = add_bad("zlib.tok", "corrupt", "bad zlib data");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[at + MG_CHUNK_HEADER + 2] ^= 0xff;
		v->bytes.data[at + MG_CHUNK_HEADER + 3] ^= 0xff;
		fix_crc(&v->bytes, at);
	}

	/* --- bad tokenizers --- */
	{
		vec *g = find_good("bpe.tkz");
		size_t sz, at = chunk_at(&g->bytes, 0, 2, &sz); /* MRGS */
		mg_buf raw = { 0 };

		v = add_bad("truncated.tkz", "truncated", "truncated chunk 'MRGS'");
		mg_buf_add(&v->bytes, g->bytes.data, at + sz - 9);

		v = add_bad("flip.tkz", "crc", "checksum mismatch in chunk 'BYTE'");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[chunk_at(&g->bytes, 0, 1, &sz) + MG_CHUNK_HEADER + 100] ^= 4;

		/* merges that double a token's length: 2^21 bytes by merge 20 */
		v = add_bad("bomb.tkz", "limit", "over 1048576 bytes");
		mg_member_pack_start(&v->bytes, mg_magic_tokenizer);
		mg_buf_u32(&raw, MG_TOKENIZER_BPE);
		mg_buf_u32(&raw, 256 + 30);
		mg_buf_u32(&raw, 0);
		mg_buf_u32(&raw, 0);
		mg_chunk_pack(&v->bytes, "HEAD", 0, raw.data, raw.len, 6, &e);
		raw.len = 0;
		for (uint32_t b = 0; b < 256; b++)
			mg_buf_u32(&raw, b);
		mg_chunk_pack(&v->bytes, "BYTE", 0, raw.data, raw.len, 6, &e);
		raw.len = 0;
		mg_buf_u32(&raw, 30);
		for (uint32_t r = 0; r < 30; r++) {
			uint32_t prev = r ? 256 + r - 1 : ' ';
			mg_buf_u32(&raw, prev);
			mg_buf_u32(&raw, prev);
			mg_buf_u32(&raw, 256 + r);
		}
		mg_chunk_pack(&v->bytes, "MRGS", MG_CHUNK_ZLIB, raw.data, raw.len, 6, &e);
		raw.len = 0;
		mg_buf_u32(&raw, 3);
		mg_chunk_pack(&v->bytes, "TAIL", 0, raw.data, raw.len, 6, &e);

		v = add_bad("reuse.tkz", "corrupt", "reuses id");
		copy_buf(&v->bytes, &g->bytes);
		at = chunk_at(&v->bytes, 0, 1, &sz); /* BYTE: make byte 1 use byte 0's id */
		memcpy(v->bytes.data + at + MG_CHUNK_HEADER + 4, v->bytes.data + at + MG_CHUNK_HEADER, 4);
		fix_crc(&v->bytes, at);

		v = add_bad("kind.tkz", "corrupt", "unknown tokenizer kind 9");
		copy_buf(&v->bytes, &g->bytes);
		at = chunk_at(&v->bytes, 0, 0, &sz);
		v->bytes.data[at + MG_CHUNK_HEADER] = 9;
		fix_crc(&v->bytes, at);

		/* a palette chunk that ends before its count (8 of its 12-byte
		 * header) */
		v = add_bad("short-palt.tkz", "corrupt", "chunk 'PALT' has the wrong size");
		mg_member_pack_start(&v->bytes, mg_magic_tokenizer);
		raw.len = 0;
		mg_buf_u32(&raw, MG_TOKENIZER_PALETTE);
		mg_buf_u32(&raw, 4);
		mg_buf_u32(&raw, 0);
		mg_buf_u32(&raw, 0);
		mg_chunk_pack(&v->bytes, "HEAD", 0, raw.data, raw.len, 6, &e);
		raw.len = 0;
		mg_buf_u32(&raw, 2);
		mg_buf_u32(&raw, 2);
		mg_chunk_pack(&v->bytes, "PALT", 0, raw.data, raw.len, 6, &e);
		raw.len = 0;
		mg_buf_u32(&raw, 2);
		mg_chunk_pack(&v->bytes, "TAIL", 0, raw.data, raw.len, 6, &e);
		mg_buf_free(&raw);
	}

	/* --- bad checkpoints --- */
	{
		vec *g = find_good("full.ckpt");
		size_t sz, at;

		v = add_bad("truncated.ckpt", "truncated", "truncated chunk 'TENS'");
		at = chunk_at(&g->bytes, 0, 3, &sz); /* HEAD VOCB TRAI TENS */
		mg_buf_add(&v->bytes, g->bytes.data, at + sz - 1);

		v = add_bad("flip.ckpt", "crc", "checksum mismatch in chunk 'TENS'");
		copy_buf(&v->bytes, &g->bytes);
		v->bytes.data[at + MG_CHUNK_HEADER + 10] ^= 0x80;

		v = add_bad("stray.ckpt", "corrupt", "stray data after the checkpoint");
		copy_buf(&v->bytes, &g->bytes);
		mg_buf_add(&v->bytes, "x", 1);

		v = add_bad("concat.ckpt", "corrupt", "stray data after the checkpoint");
		copy_buf(&v->bytes, &g->bytes);
		copy_buf(&v->bytes, &g->bytes);

		v = add_bad("incomplete.ckpt", "corrupt", "is incomplete");
		{
			/* chunks: HEAD VOCB TRAI, 4 parameters, 2 pieces of "big", one
			 * more tensor, TAIL: end right after the first piece of "big" */
			size_t p = chunk_at(&g->bytes, 0, 8, &sz);
			size_t tail = g->bytes.len - (MG_CHUNK_HEADER + 24 + 4);
			mg_buf_add(&v->bytes, g->bytes.data, p);
			mg_buf_add(&v->bytes, g->bytes.data + tail, g->bytes.len - tail);
		}

		v = add_bad("version.ckpt", "version", "unsupported version 7.1");
		copy_buf(&v->bytes, &g->bytes);
		mg_le16_put(v->bytes.data + 8, 7);
		mg_le16_put(v->bytes.data + 10, 1);
		mg_le32_put(v->bytes.data + 12, (uint32_t)crc32(0, v->bytes.data, 12));
	}
	{
		/* hand-made: duplicate tensor, huge dims, duplicate key */
		mg_buf raw = { 0 };
		uint8_t tail[24] = { 0 };
		float one = 1;
		uint8_t enc[4];

		mg_dtype_encode(MG_DTYPE_F32, &one, 1, enc);
		for (int which = 0; which < 3; which++) {
			static const char *names[] = { "twice.ckpt", "huge.ckpt", "dupkey.ckpt" };
			static const char *kinds[] = { "corrupt", "limit", "corrupt" };
			static const char *msgs[] = { "appears twice", "over 68719476736 elements", "duplicate key 'a'" };
			v = add_bad(names[which], kinds[which], msgs[which]);
			mg_member_pack_start(&v->bytes, mg_magic_checkpoint);
			raw.len = 0;
			mg_buf_u32(&raw, which == 2 ? 2 : 1);
			for (int k = 0; k < (which == 2 ? 2 : 1); k++) {
				mg_buf_u8(&raw, 1);
				mg_buf_add(&raw, "a", 1);
				mg_buf_u8(&raw, MG_KV_INT);
				mg_buf_u64(&raw, 1);
			}
			mg_chunk_pack(&v->bytes, "HEAD", 0, raw.data, raw.len, 6, &e);
			for (int rep = 0; rep < (which == 0 ? 2 : 1); rep++) {
				raw.len = 0;
				mg_buf_u8(&raw, 0);
				mg_buf_u8(&raw, 0);
				mg_buf_u8(&raw, which == 1 ? 3 : 1);
				mg_buf_u8(&raw, 0);
				mg_buf_u8(&raw, 1);
				mg_buf_add(&raw, "w", 1);
				if (which == 1) {
					mg_buf_u32(&raw, 1u << 20);
					mg_buf_u32(&raw, 1u << 20);
					mg_buf_u32(&raw, 1u << 20);
				} else {
					mg_buf_u32(&raw, 1);
				}
				mg_buf_u64(&raw, 0);
				mg_buf_u64(&raw, 1);
				mg_buf_add(&raw, enc, 4);
				mg_chunk_pack(&v->bytes, "TENS", 0, raw.data, raw.len, 6, &e);
			}
			mg_le32_put(tail, 1);
			mg_le64_put(tail + 8, 1);
			mg_le64_put(tail + 16, 1);
			mg_chunk_pack(&v->bytes, "TAIL", 0, tail, 24, 6, &e);
		}
		mg_buf_free(&raw);
	}
	mg_tokenizer_free(&bpe);
	mg_tokenizer_free(&chars);
	mg_tokenizer_free(&pal);
}

/* ------------------------------------------------------------ checking */

static int read_file(const char *path, mg_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	slurp(f, b);
	return 0;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* Reads a file with the C reader for its extension; describes it in the
 * MANIFEST's words on success. */
static int c_read(const char *name, const mg_buf *b, char *line, size_t cap, mg_err *e)
{
	FILE *f = fmemopen(b->data, b->len, "rb");
	int rc;

	if (ends_with(name, ".tok")) {
		mg_tokstream_data d;
		uint64_t sum = 0, masked = 0;
		rc = mg_tokstream_data_read(f, &d, e);
		if (!rc) {
			for (uint64_t i = 0; i < d.n; i++) {
				sum += d.ids[i];
				masked += d.mask ? d.mask[i] : 1;
			}
			snprintf(line, cap,
				 "tokens vocab=%u width=%u layout=%s mask=%u record_len=%u n=%llu records=%llu%s%s sum=%llu masked=%llu",
				 d.h.vocab_size, d.h.id_bytes, mg_tokstream_layout_name(d.h.layout), d.h.has_mask, d.h.record_len,
				 (unsigned long long)d.n, (unsigned long long)d.n_records, d.has_tokenizer ? " tokenizer=" : "",
				 d.has_tokenizer ? mg_tokenizer_kind_name(d.tk.kind) : "", (unsigned long long)sum,
				 (unsigned long long)masked);
			mg_tokstream_data_free(&d);
		}
	} else if (ends_with(name, ".tkz")) {
		mg_tokenizer tk;
		mg_chunk_reader cr;
		mg_chunk_reader_init(&cr, f);
		rc = mg_tokenizer_read(&cr, &tk, e);
		mg_chunk_reader_free(&cr);
		if (!rc) {
			snprintf(line, cap, "tokenizer kind=%s vocab=%u split=%u specials=%u bytes=%u",
				 mg_tokenizer_kind_name(tk.kind), tk.vocab_size, tk.split, tk.n_specials,
				 tk.tok_off[tk.vocab_size]);
			mg_tokenizer_free(&tk);
		}
	} else {
		mg_ckpt ck;
		rc = mg_ckpt_read(f, &ck, e);
		if (!rc) {
			double sum = 0;
			uint64_t elems = 0;
			for (size_t i = 0; i < ck.n_tensors; i++) {
				float *x = malloc(ck.t[i].n * sizeof *x);
				mg_dtype_decode(ck.t[i].dtype, ck.t[i].data, ck.t[i].n, x);
				for (uint64_t j = 0; j < ck.t[i].n; j++)
					sum += x[j];
				elems += ck.t[i].n;
				free(x);
			}
			char train[16] = "-";
			if (ck.has_train)
				snprintf(train, sizeof train, "%zu", ck.train.n);
			snprintf(line, cap, "checkpoint keys=%zu train=%s tokenizer=%s tensors=%zu elements=%llu sum=%.6g",
				 ck.config.n, train, ck.has_tokenizer ? mg_tokenizer_kind_name(ck.tk.kind) : "-",
				 ck.n_tensors, (unsigned long long)elems, sum);
			mg_ckpt_free(&ck);
		}
	}
	fclose(f);
	return rc;
}

static const char *kind_of(int code)
{
	switch (code) {
	case MG_E_MAGIC: return "magic";
	case MG_E_VERSION: return "version";
	case MG_E_TRUNC: return "truncated";
	case MG_E_CRC: return "crc";
	case MG_E_LIMIT: return "limit";
	case MG_E_CORRUPT: return "corrupt";
	}
	return "other";
}

static void write_all(const char *dir)
{
	char path[512];
	FILE *m;

	for (int pass = 0; pass < 2; pass++) {
		vec *vs = pass ? bads : goods;
		int n = pass ? n_bad : n_good;
		snprintf(path, sizeof path, "%s/%s", dir, pass ? "bad" : "good");
		mkdir(path, 0777);
		snprintf(path, sizeof path, "%s/%s/MANIFEST", dir, pass ? "bad" : "good");
		m = fopen(path, "w");
		if (!m) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			exit(1);
		}
		fprintf(m, pass ? "# file\tkind\tmessage the C readers give (a substring)\n"
				: "# file\tcontents (mgread.py --dump prints the same line)\n");
		for (int i = 0; i < n; i++) {
			FILE *f;
			snprintf(path, sizeof path, "%.200s/%s/%.63s", dir, pass ? "bad" : "good", vs[i].name);
			f = fopen(path, "wb");
			if (!f || fwrite(vs[i].bytes.data, 1, vs[i].bytes.len, f) != vs[i].bytes.len || fclose(f)) {
				fprintf(stderr, "%s: write failed\n", path);
				exit(1);
			}
			fprintf(m, "%s\t%s\n", vs[i].name, vs[i].line);
		}
		fclose(m);
	}
}

int main(int argc, char **argv)
{
	const char *dir = DIR_DEFAULT;
	char path[512], line[512];
	mg_err e;

	make_all();
	if (argc == 3 && !strcmp(argv[1], "--write")) {
		write_all(argv[2]);
		printf("wrote %d good and %d bad vectors to %s\n", n_good, n_bad, argv[2]);
		return 0;
	}
	for (int i = 0; i < n_good; i++) {
		mg_buf have = { 0 };
		snprintf(path, sizeof path, "%.200s/good/%.63s", dir, goods[i].name);
		if (read_file(path, &have)) {
			fprintf(stderr, "%s: missing (run build/tests/test_vectors --write %s)\n", path, dir);
			check_failures++;
			continue;
		}
		if (have.len != goods[i].bytes.len || memcmp(have.data, goods[i].bytes.data, have.len)) {
			fprintf(stderr, "%s: differs from what the writers make now\n", path);
			check_failures++;
		}
		if (c_read(goods[i].name, &have, line, sizeof line, &e)) {
			fprintf(stderr, "%s: rejected: %s\n", path, e.msg);
			check_failures++;
		} else if (strcmp(line, goods[i].line)) {
			fprintf(stderr, "%s: read as\n  %s\nwritten as\n  %s\n", path, line, goods[i].line);
			check_failures++;
		}
		mg_buf_free(&have);
	}
	for (int i = 0; i < n_bad; i++) {
		mg_buf have = { 0 };
		char kind[32], *msg;
		snprintf(path, sizeof path, "%.200s/bad/%.63s", dir, bads[i].name);
		if (read_file(path, &have)) {
			fprintf(stderr, "%s: missing\n", path);
			check_failures++;
			continue;
		}
		if (have.len != bads[i].bytes.len || memcmp(have.data, bads[i].bytes.data, have.len)) {
			fprintf(stderr, "%s: differs from what the generator makes now\n", path);
			check_failures++;
		}
		snprintf(kind, sizeof kind, "%s", bads[i].line);
		*strchr(kind, '\t') = 0;
		msg = strchr(bads[i].line, '\t') + 1;
		memset(&e, 0, sizeof e);
		if (!c_read(bads[i].name, &have, line, sizeof line, &e)) {
			fprintf(stderr, "%s: accepted\n", path);
			check_failures++;
		} else if (strcmp(kind_of(e.code), kind) || !strstr(e.msg, msg)) {
			fprintf(stderr, "%s: got %s error '%s', want %s error containing '%s'\n", path, kind_of(e.code),
				e.msg, kind, msg);
			check_failures++;
		}
		mg_buf_free(&have);
	}
	printf("test_vectors: %d good, %d bad\n", n_good, n_bad);
	CHECK_DONE();
}
