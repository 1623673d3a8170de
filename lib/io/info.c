/* mygpt-info's facts: the format found by the magic, the file handed to that
 * format's reader through a stream that replays the peeked magic and watches
 * the container framing go by (sizes, members, chunks). */
#define _GNU_SOURCE /* fopencookie */
#include "io/info.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "io/chunk.h"

const char *mg_info_kind_name(uint32_t kind)
{
	switch (kind) {
	case MG_INFO_TOKENS: return "tokens";
	case MG_INFO_TOKENIZER: return "tokenizer";
	case MG_INFO_CHECKPOINT: return "checkpoint";
	}
	return "unknown";
}

/* ------------------------------------------------------------ the tap */

/* The input as the readers see it: the peeked bytes, then the rest of f.
 * Every byte also goes through a small parser of the container framing: a
 * 16-byte preamble, then chunks (16-byte header, stored payload, CRC) up to
 * a TAIL, then maybe another preamble. The readers check everything; the
 * parser only counts, and its counts are used only when the reader
 * succeeded, which needs the whole input read. */
enum { TAP_PREAMBLE, TAP_HEADER, TAP_BODY };

typedef struct tap {
	FILE *f;
	uint8_t peek[8];
	size_t peek_len, peek_pos;
	int state, is_tail;
	uint8_t hdr[16];
	size_t have;
	uint64_t skip;
	mg_info_sizes *s;
} tap;

static void tap_parse(tap *t, const uint8_t *p, size_t n)
{
	t->s->file_bytes += n;
	while (n) {
		if (t->state == TAP_BODY) {
			size_t k = t->skip < n ? (size_t)t->skip : n;
			t->skip -= k;
			p += k;
			n -= k;
			if (!t->skip)
				t->state = t->is_tail ? TAP_PREAMBLE : TAP_HEADER;
			continue;
		}
		{
			size_t k = 16 - t->have < n ? 16 - t->have : n;
			memcpy(t->hdr + t->have, p, k);
			t->have += k;
			p += k;
			n -= k;
		}
		if (t->have < 16)
			break;
		t->have = 0;
		if (t->state == TAP_PREAMBLE) {
			if (!t->s->members++) {
				t->s->major = mg_le16_get(t->hdr + 8);
				t->s->minor = mg_le16_get(t->hdr + 10);
			}
			t->state = TAP_HEADER;
		} else {
			uint32_t stored = mg_le32_get(t->hdr + 8), raw = mg_le32_get(t->hdr + 12);
			t->s->chunks++;
			t->s->raw_bytes += raw - (uint64_t)stored; /* raw >= stored in a valid chunk */
			t->is_tail = !memcmp(t->hdr, "TAIL", 4);
			t->skip = (uint64_t)stored + 4;
			t->state = TAP_BODY;
		}
	}
}

static ssize_t tap_read(void *cookie, char *buf, size_t size)
{
	tap *t = cookie;
	size_t n = 0;

	if (t->peek_pos < t->peek_len) {
		n = t->peek_len - t->peek_pos < size ? t->peek_len - t->peek_pos : size;
		memcpy(buf, t->peek + t->peek_pos, n);
		t->peek_pos += n;
	} else {
		n = fread(buf, 1, size, t->f);
		if (n == 0 && ferror(t->f))
			return -1; /* errno from the failed read */
	}
	tap_parse(t, (const uint8_t *)buf, n);
	return (ssize_t)n;
}

static int tap_close(void *cookie)
{
	(void)cookie; /* f stays the caller's */
	return 0;
}

/* ------------------------------------------------------------ the formats */

static int read_tokens(FILE *f, mg_info *in, mg_err *e)
{
	mg_info_tokens *k = &in->tok;
	mg_tokstream_reader *r;
	mg_tokstream_span s;
	const mg_tokenizer *tk;
	uint8_t *seen = NULL;
	uint64_t cur = 0; /* start of the record in progress */
	int rc, in_record = 0;

	if ((rc = mg_tokstream_reader_open(&r, f, e)))
		return rc;
	k->h = *mg_tokstream_reader_header(r);
	seen = calloc(k->h.vocab_size / 8 + 1, 1);
	if (!seen) {
		mg_tokstream_reader_close(r);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	k->id_min = UINT32_MAX;
	for (;;) {
		if ((rc = mg_tokstream_reader_next(r, &s, e)) || s.n == 0)
			break;
		for (size_t i = 0; i < s.n_starts; i++) {
			uint64_t at = s.first + s.starts[i];
			if (in_record) {
				uint64_t len = at - cur;
				k->record_min = k->records == 1 || len < k->record_min ? len : k->record_min;
				k->record_max = len > k->record_max ? len : k->record_max;
			}
			k->records++;
			cur = at;
			in_record = 1;
		}
		for (size_t i = 0; i < s.n; i++) {
			uint32_t id = s.ids[i];
			k->id_min = id < k->id_min ? id : k->id_min;
			k->id_max = id > k->id_max ? id : k->id_max;
			if (!(seen[id >> 3] >> (id & 7) & 1)) {
				seen[id >> 3] |= (uint8_t)(1u << (id & 7));
				k->ids_distinct++;
			}
			k->targets += s.mask ? s.mask[i] : 1;
		}
		k->tokens += s.n;
	}
	if (!rc && in_record) {
		uint64_t len = k->tokens - cur;
		k->record_min = k->records == 1 || len < k->record_min ? len : k->record_min;
		k->record_max = len > k->record_max ? len : k->record_max;
	}
	if (!k->tokens)
		k->id_min = 0;
	free(seen);
	if (!rc && (tk = mg_tokstream_reader_tokenizer(r))) {
		/* a copy through the packed form: the reader owns its tokenizer */
		mg_buf b = { 0 };
		if (!(rc = mg_tokenizer_pack(tk, &b, e))) {
			if (b.oom)
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
			else if (!(rc = mg_tokenizer_parse(b.data, b.len, &in->tk, e)))
				in->has_tokenizer = 1;
		}
		mg_buf_free(&b);
	}
	mg_tokstream_reader_close(r);
	return rc;
}

static int read_checkpoint(FILE *f, mg_info *in, int full, mg_err *e)
{
	int rc = mg_ckpt_read_index(f, &in->ck, full, e);

	if (rc)
		return rc;
	if (in->ck.has_tokenizer) {
		in->tk = in->ck.tk;
		in->has_tokenizer = 1;
		memset(&in->ck.tk, 0, sizeof in->ck.tk);
		in->ck.has_tokenizer = 0;
	}
	for (size_t i = 0; i < in->ck.n_tensors; i++) {
		const mg_ckpt_tensor *t = &in->ck.t[i];
		in->roles.tensors[t->role]++;
		in->roles.elems[t->role] += t->n;
		in->roles.bytes[t->role] += mg_dtype_bytes(t->dtype, t->n);
	}
	return MG_OK;
}

static void tokenizer_facts(mg_info *in)
{
	const mg_tokenizer *tk = &in->tk;

	for (uint32_t i = 0; i < tk->vocab_size; i++)
		if (tk->tok_off[i + 1] - tk->tok_off[i] > in->tk_longest)
			in->tk_longest = tk->tok_off[i + 1] - tk->tok_off[i];
	in->tk_bytes_identity = tk->kind == MG_TOKENIZER_BPE;
	for (uint32_t b = 0; b < 256 && in->tk_bytes_identity; b++)
		in->tk_bytes_identity = tk->byte_id[b] == b;
}

/* The format whose magic p (n bytes, n <= 8) starts, or 0. */
static uint32_t kind_of(const uint8_t *p, size_t n)
{
	static const struct {
		const uint8_t *magic;
		uint32_t kind;
	} k[] = { { mg_magic_tokens, MG_INFO_TOKENS },
		  { mg_magic_tokenizer, MG_INFO_TOKENIZER },
		  { mg_magic_checkpoint, MG_INFO_CHECKPOINT } };

	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
		if (!memcmp(p, k[i].magic, n))
			return k[i].kind;
	return 0;
}

int mg_info_read(FILE *f, mg_info *in, int full, mg_err *e)
{
	tap t = { 0 };
	cookie_io_functions_t io = { .read = tap_read, .close = tap_close };
	FILE *g;
	int rc, ch;

	memset(in, 0, sizeof *in);
	t.f = f;
	t.s = &in->size;
	t.peek_len = fread(t.peek, 1, sizeof t.peek, f);
	if (t.peek_len < sizeof t.peek && ferror(f))
		return mg_err_set(e, MG_E_IO, "read error at byte %zu: %s", t.peek_len, strerror(errno));
	if (t.peek_len == 0)
		return mg_err_set(e, MG_E_TRUNC, "empty input, expected a mygpt file");
	/* a mygpt magic needs its first four bytes to say which */
	in->kind = t.peek_len >= 4 ? kind_of(t.peek, t.peek_len) : 0;
	if (!in->kind) {
		if (t.peek_len < 4 && kind_of(t.peek, t.peek_len))
			return mg_err_set(e, MG_E_TRUNC, "truncated preamble at byte %zu", t.peek_len);
		return mg_err_set(e, MG_E_MAGIC, "bad magic at byte 0: not a mygpt file");
	}
	g = fopencookie(&t, "rb", io);
	if (!g)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	switch (in->kind) {
	case MG_INFO_TOKENS: rc = read_tokens(g, in, e); break;
	case MG_INFO_TOKENIZER:
		if (!(rc = mg_tokenizer_load(g, &in->tk, e)))
			in->has_tokenizer = 1;
		break;
	default: rc = read_checkpoint(g, in, full, e); break;
	}
	/* every reader checks that its input ends, so the counts are whole;
	 * this only guards that contract */
	if (!rc && (ch = getc(g)) != EOF)
		rc = mg_err_set(e, MG_E_CORRUPT, "stray data after the end");
	if (!rc && ferror(g))
		rc = mg_err_set(e, MG_E_IO, "read error: %s", strerror(errno));
	fclose(g);
	if (rc) {
		mg_info_free(in);
		return rc;
	}
	in->size.raw_bytes += in->size.file_bytes;
	if (in->has_tokenizer)
		tokenizer_facts(in);
	return MG_OK;
}

void mg_info_free(mg_info *in)
{
	if (in->has_tokenizer)
		mg_tokenizer_free(&in->tk);
	mg_ckpt_free(&in->ck);
	memset(in, 0, sizeof *in);
}
