/* Tokenizer container: validation, decoding tables, and the member layout of
 * formats/tokenizer.md. */
#include "io/tokenizer.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN_LEN_MAX (1u << 20)   /* longest token a BPE model may build */
#define TOKEN_TOTAL_MAX (1u << 28) /* all tokens' bytes together */

const char *mg_tokenizer_kind_name(uint32_t kind)
{
	switch (kind) {
	case MG_TOKENIZER_BPE: return "bpe";
	case MG_TOKENIZER_CHARS: return "chars";
	case MG_TOKENIZER_PALETTE: return "palette";
	}
	return "unknown";
}

void mg_tokenizer_free(mg_tokenizer *tk)
{
	free(tk->merges);
	free(tk->chars);
	free(tk->palette);
	for (uint32_t i = 0; i < tk->n_specials; i++)
		free(tk->specials[i].text);
	free(tk->specials);
	free(tk->tok_off);
	free(tk->tok_bytes);
	memset(tk, 0, sizeof *tk);
}

static int utf8_put(uint8_t *o, uint32_t c)
{
	if (c >= MG_CHAR_RAW_BYTE) { o[0] = (uint8_t)(c - MG_CHAR_RAW_BYTE); return 1; }
	if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
	if (c < 0x800) { o[0] = (uint8_t)(0xc0 | c >> 6); o[1] = (uint8_t)(0x80 | (c & 63)); return 2; }
	if (c < 0x10000) {
		o[0] = (uint8_t)(0xe0 | c >> 12); o[1] = (uint8_t)(0x80 | (c >> 6 & 63)); o[2] = (uint8_t)(0x80 | (c & 63));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | c >> 18); o[1] = (uint8_t)(0x80 | (c >> 12 & 63));
	o[2] = (uint8_t)(0x80 | (c >> 6 & 63)); o[3] = (uint8_t)(0x80 | (c & 63));
	return 4;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int chars_distinct(const uint32_t *cps, uint32_t n, mg_err *e)
{
	uint32_t *s = malloc((n ? n : 1) * sizeof *s);
	int rc = MG_OK;

	if (!s)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	memcpy(s, cps, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_u32);
	for (uint32_t i = 1; i < n; i++)
		if (s[i] == s[i - 1]) {
			rc = mg_err_set(e, MG_E_CORRUPT, "character 0x%x appears twice", s[i]);
			break;
		}
	free(s);
	return rc;
}

/* Assigns id to an owner, rejecting ids out of range and ids used twice. */
static int claim(uint8_t *used, uint32_t vocab, uint32_t id, const char *what, uint32_t idx, mg_err *e)
{
	if (id >= vocab)
		return mg_err_set(e, MG_E_CORRUPT, "%s %u has id %u, outside the vocabulary of %u", what, idx, id, vocab);
	if (used[id])
		return mg_err_set(e, MG_E_CORRUPT, "%s %u reuses id %u", what, idx, id);
	used[id] = 1;
	return MG_OK;
}

int mg_tokenizer_finish(mg_tokenizer *tk, mg_err *e)
{
	uint32_t v = tk->vocab_size, *len = NULL;
	uint8_t *used = NULL, *out;
	uint64_t total = 0;
	int rc = MG_OK;

	free(tk->tok_off);
	free(tk->tok_bytes);
	tk->tok_off = NULL;
	tk->tok_bytes = NULL;
	if (v == 0 || v > MG_VOCAB_MAX)
		return mg_err_set(e, MG_E_LIMIT, "vocabulary size %u is outside 1..%u", v, MG_VOCAB_MAX);
	if (tk->split != MG_SPLIT_NONE && (tk->kind != MG_TOKENIZER_BPE || tk->split != MG_SPLIT_GPT2))
		return mg_err_set(e, MG_E_CORRUPT, "unknown pre-tokenizer %u for a %s model", tk->split,
				  mg_tokenizer_kind_name(tk->kind));
	used = calloc(v, 1);
	len = calloc(v, sizeof *len);
	if (!used || !len) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory for a vocabulary of %u", v);
		goto out;
	}
	switch (tk->kind) {
	case MG_TOKENIZER_BPE:
		for (uint32_t b = 0; b < 256 && !rc; b++)
			if (!(rc = claim(used, v, tk->byte_id[b], "byte", b, e)))
				len[tk->byte_id[b]] = 1;
		for (uint32_t r = 0; r < tk->n_merges && !rc; r++) {
			const mg_tokenizer_merge *m = &tk->merges[r];
			if (m->left >= v || m->right >= v || !used[m->left] || !used[m->right] || len[m->left] == 0 ||
			    len[m->right] == 0) {
				rc = mg_err_set(e, MG_E_CORRUPT, "merge %u joins a token not defined before it", r);
				break;
			}
			if ((rc = claim(used, v, m->id, "merge", r, e)))
				break;
			if ((uint64_t)len[m->left] + len[m->right] > TOKEN_LEN_MAX) {
				rc = mg_err_set(e, MG_E_LIMIT, "merge %u builds a token over %u bytes", r, TOKEN_LEN_MAX);
				break;
			}
			len[m->id] = len[m->left] + len[m->right];
		}
		break;
	case MG_TOKENIZER_CHARS:
		for (uint32_t i = 0; i < tk->n_chars && !rc; i++) {
			uint32_t c = tk->chars[i];
			if ((c >= 0xd800 && c < 0xe000) || c > MG_CHAR_RAW_BYTE + 255) {
				rc = mg_err_set(e, MG_E_CORRUPT, "character %u is not a valid code point (0x%x)", i, c);
				break;
			}
			if (!(rc = claim(used, v, i, "character", i, e))) {
				uint8_t t[4];
				len[i] = (uint32_t)utf8_put(t, c);
			}
		}
		if (!rc)
			rc = chars_distinct(tk->chars, tk->n_chars, e);
		break;
	case MG_TOKENIZER_PALETTE:
		if (tk->width == 0 || tk->height == 0 || tk->width > MG_IMAGE_SIDE_MAX || tk->height > MG_IMAGE_SIDE_MAX) {
			rc = mg_err_set(e, MG_E_CORRUPT, "image size %ux%u is outside 1..%u", tk->width, tk->height,
					MG_IMAGE_SIDE_MAX);
			break;
		}
		for (uint32_t i = 0; i < tk->n_colors && !rc; i++)
			if (!(rc = claim(used, v, i, "colour", i, e)))
				len[i] = 3;
		break;
	default:
		rc = mg_err_set(e, MG_E_CORRUPT, "unknown tokenizer kind %u", tk->kind);
	}
	for (uint32_t s = 0; s < tk->n_specials && !rc; s++) {
		const mg_tokenizer_special *sp = &tk->specials[s];
		if (sp->len == 0 || sp->len > MG_SPECIAL_LEN_MAX) {
			rc = mg_err_set(e, MG_E_CORRUPT, "special token %u has length %u, outside 1..%u", s, sp->len,
					MG_SPECIAL_LEN_MAX);
			break;
		}
		if (!(rc = claim(used, v, sp->id, "special token", s, e)))
			len[sp->id] = sp->len;
	}
	for (uint32_t i = 0; i < v && !rc; i++) {
		if (!used[i])
			rc = mg_err_set(e, MG_E_CORRUPT, "id %u of the vocabulary of %u has no token", i, v);
		total += len[i];
	}
	if (!rc && total > TOKEN_TOTAL_MAX)
		rc = mg_err_set(e, MG_E_LIMIT, "tokens total %llu bytes, over the limit of %u", (unsigned long long)total,
				TOKEN_TOTAL_MAX);
	if (rc)
		goto out;
	tk->tok_off = malloc(((size_t)v + 1) * sizeof *tk->tok_off);
	tk->tok_bytes = malloc(total ? (size_t)total : 1);
	if (!tk->tok_off || !tk->tok_bytes) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory for the decoding table");
		goto out;
	}
	tk->tok_off[0] = 0;
	for (uint32_t i = 0; i < v; i++)
		tk->tok_off[i + 1] = tk->tok_off[i] + len[i];
	out = tk->tok_bytes;
	if (tk->kind == MG_TOKENIZER_BPE) {
		for (uint32_t b = 0; b < 256; b++)
			out[tk->tok_off[tk->byte_id[b]]] = (uint8_t)b;
		for (uint32_t r = 0; r < tk->n_merges; r++) {
			const mg_tokenizer_merge *m = &tk->merges[r];
			uint8_t *d = out + tk->tok_off[m->id];
			memcpy(d, out + tk->tok_off[m->left], len[m->left]);
			memcpy(d + len[m->left], out + tk->tok_off[m->right], len[m->right]);
		}
	} else if (tk->kind == MG_TOKENIZER_CHARS) {
		for (uint32_t i = 0; i < tk->n_chars; i++)
			utf8_put(out + tk->tok_off[i], tk->chars[i]);
	} else {
		for (uint32_t i = 0; i < tk->n_colors; i++)
			memcpy(out + tk->tok_off[i], tk->palette + 3 * (size_t)i, 3);
	}
	for (uint32_t s = 0; s < tk->n_specials; s++)
		memcpy(out + tk->tok_off[tk->specials[s].id], tk->specials[s].text, tk->specials[s].len);
out:
	free(used);
	free(len);
	if (rc) {
		free(tk->tok_off);
		free(tk->tok_bytes);
		tk->tok_off = NULL;
		tk->tok_bytes = NULL;
	}
	return rc;
}

int mg_tokenizer_init_chars(mg_tokenizer *tk, const uint32_t *cps, uint32_t n, mg_err *e)
{
	memset(tk, 0, sizeof *tk);
	tk->kind = MG_TOKENIZER_CHARS;
	tk->vocab_size = n;
	tk->n_chars = n;
	tk->chars = malloc((n ? n : 1) * sizeof *tk->chars);
	if (!tk->chars)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	memcpy(tk->chars, cps, n * sizeof *cps);
	return mg_tokenizer_finish(tk, e);
}

int mg_tokenizer_init_palette(mg_tokenizer *tk, const uint8_t *rgb, uint32_t n, uint32_t width, uint32_t height,
			      mg_err *e)
{
	memset(tk, 0, sizeof *tk);
	tk->kind = MG_TOKENIZER_PALETTE;
	tk->vocab_size = n;
	tk->n_colors = n;
	tk->width = width;
	tk->height = height;
	tk->palette = malloc(n ? 3 * (size_t)n : 1);
	if (!tk->palette)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	memcpy(tk->palette, rgb, 3 * (size_t)n);
	return mg_tokenizer_finish(tk, e);
}

const uint8_t *mg_tokenizer_token(const mg_tokenizer *tk, uint32_t id, size_t *n)
{
	*n = tk->tok_off[id + 1] - tk->tok_off[id];
	return tk->tok_bytes + tk->tok_off[id];
}

int mg_tokenizer_decode(const mg_tokenizer *tk, const uint32_t *ids, size_t n, mg_buf *out, mg_err *e)
{
	if (tk->kind == MG_TOKENIZER_PALETTE)
		return mg_err_set(e, MG_E_UNSUPPORTED, "a palette tokenizer decodes to images, not text");
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint8_t *p;
		if (ids[i] >= tk->vocab_size)
			return mg_err_set(e, MG_E_INVAL, "token %u is outside the vocabulary of %u", ids[i], tk->vocab_size);
		p = mg_tokenizer_token(tk, ids[i], &len);
		mg_buf_add(out, p, len);
	}
	return out->oom ? mg_err_set(e, MG_E_NOMEM, "out of memory") : MG_OK;
}

/* --- container --- */

#define PACK(type, flags)                                                                   \
	do {                                                                                    \
		if (b.oom)                                                                          \
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory");                                \
		if (!rc)                                                                            \
			rc = mg_chunk_pack(out, type, flags, b.data, b.len, MG_ZLIB_LEVEL, e);                      \
		b.len = 0;                                                                          \
		nchunks++;                                                                          \
	} while (0)

int mg_tokenizer_pack(const mg_tokenizer *tk, mg_buf *out, mg_err *e)
{
	mg_buf b = { 0 };
	uint32_t nchunks = 0;
	int rc = MG_OK;

	mg_member_pack_start(out, mg_magic_tokenizer);
	mg_buf_u32(&b, tk->kind);
	mg_buf_u32(&b, tk->vocab_size);
	mg_buf_u32(&b, tk->split);
	mg_buf_u32(&b, 0);
	PACK("HEAD", 0);
	if (!rc && tk->kind == MG_TOKENIZER_BPE) {
		for (int i = 0; i < 256; i++)
			mg_buf_u32(&b, tk->byte_id[i]);
		PACK("BYTE", 0);
		mg_buf_u32(&b, tk->n_merges);
		for (uint32_t r = 0; r < tk->n_merges; r++) {
			mg_buf_u32(&b, tk->merges[r].left);
			mg_buf_u32(&b, tk->merges[r].right);
			mg_buf_u32(&b, tk->merges[r].id);
		}
		if (!rc)
			PACK("MRGS", MG_CHUNK_ZLIB);
	} else if (!rc && tk->kind == MG_TOKENIZER_CHARS) {
		mg_buf_u32(&b, tk->n_chars);
		for (uint32_t i = 0; i < tk->n_chars; i++)
			mg_buf_u32(&b, tk->chars[i]);
		PACK("CHRS", MG_CHUNK_ZLIB);
	} else if (!rc && tk->kind == MG_TOKENIZER_PALETTE) {
		mg_buf_u32(&b, tk->width);
		mg_buf_u32(&b, tk->height);
		mg_buf_u32(&b, tk->n_colors);
		mg_buf_add(&b, tk->palette, 3 * (size_t)tk->n_colors);
		PACK("PALT", MG_CHUNK_ZLIB);
	}
	if (!rc && tk->n_specials) {
		mg_buf_u32(&b, tk->n_specials);
		for (uint32_t s = 0; s < tk->n_specials; s++) {
			mg_buf_u32(&b, tk->specials[s].id);
			mg_buf_u32(&b, tk->specials[s].len);
			mg_buf_add(&b, tk->specials[s].text, tk->specials[s].len);
		}
		PACK("SPEC", 0);
	}
	if (!rc) {
		mg_buf_u32(&b, nchunks);
		PACK("TAIL", 0);
	}
	mg_buf_free(&b);
	if (!rc && out->oom)
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
	return rc;
}

int mg_tokenizer_write(const mg_tokenizer *tk, FILE *f, mg_err *e)
{
	mg_buf out = { 0 };
	int rc = mg_tokenizer_pack(tk, &out, e);

	if (!rc)
		rc = mg_write_all(f, out.data, out.len, e);
	mg_buf_free(&out);
	return rc;
}

static int parse_chunk(mg_tokenizer *tk, const mg_chunk *c, mg_err *e)
{
	mg_cur cur = mg_cur_init(c->data, c->len);
	uint32_t n;

	if (!strcmp(c->type, "BYTE")) {
		if (tk->kind != MG_TOKENIZER_BPE)
			return mg_err_set(e, MG_E_CORRUPT, "byte table in a %s model", mg_tokenizer_kind_name(tk->kind));
		for (int i = 0; i < 256; i++)
			tk->byte_id[i] = mg_cur_u32(&cur);
	} else if (!strcmp(c->type, "MRGS")) {
		if (tk->kind != MG_TOKENIZER_BPE)
			return mg_err_set(e, MG_E_CORRUPT, "merges in a %s model", mg_tokenizer_kind_name(tk->kind));
		n = mg_cur_u32(&cur);
		if (n > tk->vocab_size || (uint64_t)n * 12 != mg_cur_left(&cur))
			return mg_err_set(e, MG_E_CORRUPT, "merge count %u does not match the chunk size", n);
		tk->merges = malloc((n ? n : 1) * sizeof *tk->merges);
		if (!tk->merges)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		for (uint32_t r = 0; r < n; r++) {
			tk->merges[r].left = mg_cur_u32(&cur);
			tk->merges[r].right = mg_cur_u32(&cur);
			tk->merges[r].id = mg_cur_u32(&cur);
		}
		tk->n_merges = n;
	} else if (!strcmp(c->type, "CHRS")) {
		if (tk->kind != MG_TOKENIZER_CHARS)
			return mg_err_set(e, MG_E_CORRUPT, "characters in a %s model", mg_tokenizer_kind_name(tk->kind));
		n = mg_cur_u32(&cur);
		if (n > tk->vocab_size || (uint64_t)n * 4 != mg_cur_left(&cur))
			return mg_err_set(e, MG_E_CORRUPT, "character count %u does not match the chunk size", n);
		tk->chars = malloc((n ? n : 1) * sizeof *tk->chars);
		if (!tk->chars)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		for (uint32_t i = 0; i < n; i++)
			tk->chars[i] = mg_cur_u32(&cur);
		tk->n_chars = n;
	} else if (!strcmp(c->type, "PALT")) {
		if (tk->kind != MG_TOKENIZER_PALETTE)
			return mg_err_set(e, MG_E_CORRUPT, "palette in a %s model", mg_tokenizer_kind_name(tk->kind));
		tk->width = mg_cur_u32(&cur);
		tk->height = mg_cur_u32(&cur);
		n = mg_cur_u32(&cur);
		if (!mg_cur_ok(&cur)) /* shorter than its 12-byte header */
			return mg_err_set(e, MG_E_CORRUPT, "chunk '%s' has the wrong size", c->type);
		if (n > tk->vocab_size || (uint64_t)n * 3 != mg_cur_left(&cur))
			return mg_err_set(e, MG_E_CORRUPT, "colour count %u does not match the chunk size", n);
		tk->palette = malloc(n ? 3 * (size_t)n : 1);
		if (!tk->palette)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		memcpy(tk->palette, mg_cur_take(&cur, 3 * (size_t)n), 3 * (size_t)n);
		tk->n_colors = n;
	} else if (!strcmp(c->type, "SPEC")) {
		n = mg_cur_u32(&cur);
		if (n > tk->vocab_size || n > mg_cur_left(&cur) / 9)
			return mg_err_set(e, MG_E_CORRUPT, "special token count %u does not match the chunk size", n);
		tk->specials = calloc(n ? n : 1, sizeof *tk->specials);
		if (!tk->specials)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		tk->n_specials = n;
		for (uint32_t s = 0; s < n; s++) {
			mg_tokenizer_special *sp = &tk->specials[s];
			const uint8_t *t;
			sp->id = mg_cur_u32(&cur);
			sp->len = mg_cur_u32(&cur);
			if (sp->len == 0 || sp->len > MG_SPECIAL_LEN_MAX)
				return mg_err_set(e, MG_E_CORRUPT, "special token %u has length %u, outside 1..%u", s,
						  sp->len, MG_SPECIAL_LEN_MAX);
			t = mg_cur_take(&cur, sp->len);
			if (!t)
				break;
			sp->text = malloc(sp->len + 1);
			if (!sp->text)
				return mg_err_set(e, MG_E_NOMEM, "out of memory");
			memcpy(sp->text, t, sp->len);
			sp->text[sp->len] = 0;
		}
	} else if (c->flags & MG_CHUNK_ANCILLARY) {
		return MG_OK;
	} else {
		return mg_err_set(e, MG_E_CORRUPT, "unknown chunk '%s'", c->type);
	}
	if (!mg_cur_ok(&cur) || mg_cur_left(&cur))
		return mg_err_set(e, MG_E_CORRUPT, "chunk '%s' has the wrong size", c->type);
	return MG_OK;
}

int mg_tokenizer_read(mg_chunk_reader *cr, mg_tokenizer *tk, mg_err *e)
{
	enum { SEEN_BYTE = 1, SEEN_MRGS = 2, SEEN_CHRS = 4, SEEN_PALT = 8, SEEN_SPEC = 16 };
	static const char *names[] = { "BYTE", "MRGS", "CHRS", "PALT", "SPEC" };
	uint16_t minor;
	uint32_t nchunks = 1, seen = 0;
	mg_chunk c;
	int rc;

	memset(tk, 0, sizeof *tk);
	if ((rc = mg_member_read_start(cr, mg_magic_tokenizer, &minor, e)))
		return rc;
	if ((rc = mg_chunk_read(cr, &c, e)))
		goto fail;
	if (strcmp(c.type, "HEAD") != 0 || c.len != 16) {
		rc = mg_err_set(e, MG_E_CORRUPT, "first chunk at byte %llu is '%s', not a 16-byte 'HEAD'",
				(unsigned long long)c.offset, c.type);
		goto fail;
	}
	tk->kind = mg_le32_get(c.data);
	tk->vocab_size = mg_le32_get(c.data + 4);
	tk->split = mg_le32_get(c.data + 8);
	if (mg_le32_get(c.data + 12) != 0) {
		rc = mg_err_set(e, MG_E_CORRUPT, "reserved field of 'HEAD' at byte %llu is not zero",
				(unsigned long long)c.offset);
		goto fail;
	}
	if (tk->kind < MG_TOKENIZER_BPE || tk->kind > MG_TOKENIZER_PALETTE) {
		rc = mg_err_set(e, MG_E_CORRUPT, "unknown tokenizer kind %u at byte %llu", tk->kind,
				(unsigned long long)c.offset);
		goto fail;
	}
	if (tk->vocab_size == 0 || tk->vocab_size > MG_VOCAB_MAX) {
		rc = mg_err_set(e, MG_E_LIMIT, "vocabulary size %u at byte %llu is outside 1..%u", tk->vocab_size,
				(unsigned long long)c.offset, MG_VOCAB_MAX);
		goto fail;
	}
	for (;;) {
		int bit = -1;
		if ((rc = mg_chunk_read(cr, &c, e)))
			goto fail;
		if (!strcmp(c.type, "TAIL"))
			break;
		for (int i = 0; i < 5; i++)
			if (!strcmp(c.type, names[i]))
				bit = i;
		if (bit >= 0 && (seen & (1u << bit))) {
			rc = mg_err_set(e, MG_E_CORRUPT, "second '%s' chunk at byte %llu", c.type,
					(unsigned long long)c.offset);
			goto fail;
		}
		if (bit >= 0)
			seen |= 1u << bit;
		nchunks++;
		if ((rc = parse_chunk(tk, &c, e))) {
			mg_err_prefix(e, "chunk '%s' at byte %llu: ", c.type, (unsigned long long)c.offset);
			goto fail;
		}
	}
	if (c.len != 4 || mg_le32_get(c.data) != nchunks) {
		rc = mg_err_set(e, MG_E_CORRUPT, "'TAIL' at byte %llu does not match the %u chunks read (a chunk is missing)",
				(unsigned long long)c.offset, nchunks);
		goto fail;
	}
	if ((tk->kind == MG_TOKENIZER_BPE && (seen & (SEEN_BYTE | SEEN_MRGS)) != (SEEN_BYTE | SEEN_MRGS)) ||
	    (tk->kind == MG_TOKENIZER_CHARS && !(seen & SEEN_CHRS)) ||
	    (tk->kind == MG_TOKENIZER_PALETTE && !(seen & SEEN_PALT))) {
		rc = mg_err_set(e, MG_E_CORRUPT, "%s model before byte %llu lacks a required chunk",
				mg_tokenizer_kind_name(tk->kind), (unsigned long long)c.offset);
		goto fail;
	}
	if ((rc = mg_tokenizer_finish(tk, e)))
		goto fail;
	return MG_OK;
fail:
	mg_tokenizer_free(tk);
	return rc;
}

int mg_tokenizer_parse(const uint8_t *p, size_t n, mg_tokenizer *tk, mg_err *e)
{
	mg_chunk_reader cr;
	int rc, eof;

	mg_chunk_reader_init_mem(&cr, p, n);
	rc = mg_tokenizer_read(&cr, tk, e);
	if (!rc && (mg_rd_at_eof(&cr.rd, &eof, e), !eof)) {
		mg_tokenizer_free(tk);
		rc = mg_err_set(e, MG_E_CORRUPT, "stray bytes after the embedded tokenizer");
	}
	mg_chunk_reader_free(&cr);
	return rc;
}

int mg_tokenizer_load(FILE *f, mg_tokenizer *tk, mg_err *e)
{
	mg_chunk_reader cr;
	int rc, eof = 0;

	mg_chunk_reader_init(&cr, f);
	rc = mg_tokenizer_read(&cr, tk, e); /* frees tk on error */
	if (!rc) {
		if (!(rc = mg_rd_at_eof(&cr.rd, &eof, e)) && !eof)
			rc = mg_err_set(e, MG_E_CORRUPT, "stray bytes after the tokenizer at byte %llu (a model file holds one)",
					(unsigned long long)cr.rd.off);
		if (rc)
			mg_tokenizer_free(tk);
	}
	mg_chunk_reader_free(&cr);
	return rc;
}

int mg_tokenizer_equal(const mg_tokenizer *a, const mg_tokenizer *b, int *equal, mg_err *e)
{
	mg_buf x = { 0 }, y = { 0 };
	int rc = mg_tokenizer_pack(a, &x, e);

	if (!rc)
		rc = mg_tokenizer_pack(b, &y, e);
	*equal = !rc && x.len == y.len && (!x.len || !memcmp(x.data, y.data, x.len));
	mg_buf_free(&x);
	mg_buf_free(&y);
	return rc;
}

int mg_tokenizer_palette_gray(const mg_tokenizer *tk)
{
	for (uint32_t i = 0; i < tk->n_colors; i++) {
		const uint8_t *c = tk->palette + 3 * (size_t)i;
		if (c[0] != c[1] || c[1] != c[2])
			return 0;
	}
	return 1;
}

int mg_tokenizer_same_palette(const mg_tokenizer *a, const mg_tokenizer *b)
{
	return a->n_colors == b->n_colors && a->width == b->width && a->height == b->height &&
	       (a->n_colors == 0 || !memcmp(a->palette, b->palette, 3 * (size_t)a->n_colors));
}
