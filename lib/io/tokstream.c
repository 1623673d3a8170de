/* Token stream reader and writer: the byte layout of formats/tokens.md. */
#include "io/tokstream.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

mg_tokstream_header mg_tokstream_header_make(uint32_t vocab_size, uint32_t layout, int has_mask, uint32_t record_len)
{
	mg_tokstream_header h;

	h.vocab_size = vocab_size;
	h.id_bytes = vocab_size <= 65536 ? 2 : 4;
	h.layout = layout;
	h.has_mask = has_mask ? 1 : 0;
	h.record_len = record_len;
	return h;
}

const char *mg_tokstream_layout_name(uint32_t layout)
{
	switch (layout) {
	case MG_LAYOUT_STREAM: return "stream";
	case MG_LAYOUT_DOCUMENTS: return "documents";
	case MG_LAYOUT_EXAMPLES: return "examples";
	}
	return "unknown";
}

static void pack_head(mg_buf *b, const mg_tokstream_header *h)
{
	mg_buf_u32(b, h->vocab_size);
	mg_buf_u8(b, (uint8_t)h->id_bytes);
	mg_buf_u8(b, (uint8_t)h->layout);
	mg_buf_u8(b, (uint8_t)(h->has_mask ? 1 : 0));
	mg_buf_u8(b, 0);
	mg_buf_u32(b, h->record_len);
	mg_buf_u32(b, 0);
}

/* Checks a HEAD payload; fills h. */
static int parse_head(const uint8_t *p, size_t len, mg_tokstream_header *h, mg_err *e)
{
	if (len != 16)
		return mg_err_set(e, MG_E_CORRUPT, "'HEAD' is %zu bytes, not 16", len);
	h->vocab_size = mg_le32_get(p);
	h->id_bytes = p[4];
	h->layout = p[5];
	h->has_mask = p[6];
	h->record_len = mg_le32_get(p + 8);
	if (h->vocab_size == 0 || h->vocab_size > MG_VOCAB_MAX)
		return mg_err_set(e, MG_E_LIMIT, "vocabulary size %u is outside 1..%u", h->vocab_size, MG_VOCAB_MAX);
	if (h->id_bytes != 2 && h->id_bytes != 4)
		return mg_err_set(e, MG_E_CORRUPT, "id width %u is not 2 or 4", h->id_bytes);
	if (h->id_bytes == 2 && h->vocab_size > 65536)
		return mg_err_set(e, MG_E_CORRUPT, "16-bit ids cannot hold a vocabulary of %u", h->vocab_size);
	if (h->layout > MG_LAYOUT_EXAMPLES)
		return mg_err_set(e, MG_E_CORRUPT, "unknown layout %u", h->layout);
	if (h->has_mask > 1 || p[7] != 0 || mg_le32_get(p + 12) != 0)
		return mg_err_set(e, MG_E_CORRUPT, "reserved bits of 'HEAD' are not zero");
	if (h->record_len && h->layout == MG_LAYOUT_STREAM)
		return mg_err_set(e, MG_E_CORRUPT, "record length %u in a stream without records", h->record_len);
	return MG_OK;
}

/* ---------------------------------------------------------------- writer */

struct mg_tokstream_writer {
	FILE *f;
	mg_tokstream_header h;
	int level;
	uint32_t *ids, *starts;
	uint8_t *mask;
	size_t n, n_starts;
	int want_start;
	uint64_t total, records, chunks, rec_len;
	mg_buf raw, packed;
};

uint64_t mg_tokstream_writer_tokens(const mg_tokstream_writer *w) { return w->total + w->n; }

void mg_tokstream_writer_free(mg_tokstream_writer *w)
{
	if (!w)
		return;
	free(w->ids);
	free(w->starts);
	free(w->mask);
	mg_buf_free(&w->raw);
	mg_buf_free(&w->packed);
	free(w);
}

int mg_tokstream_writer_open(mg_tokstream_writer **out, FILE *f, const mg_tokstream_header *h, const mg_tokenizer *tk, int level, mg_err *e)
{
	mg_tokstream_writer *w;
	mg_tokstream_header chk;
	mg_buf b = { 0 };
	int rc;

	*out = NULL;
	pack_head(&b, h);
	if (b.oom || (rc = parse_head(b.data, b.len, &chk, e))) {
		mg_buf_free(&b);
		return b.oom ? mg_err_set(e, MG_E_NOMEM, "out of memory") : MG_E_INVAL;
	}
	if (tk && tk->vocab_size != h->vocab_size) {
		mg_buf_free(&b);
		return mg_err_set(e, MG_E_INVAL, "tokenizer has %u tokens but the stream declares %u", tk->vocab_size,
				  h->vocab_size);
	}
	w = calloc(1, sizeof *w);
	if (w) {
		w->ids = malloc(MG_CHUNK_TOKENS * sizeof *w->ids);
		w->starts = malloc(MG_CHUNK_TOKENS * sizeof *w->starts);
		w->mask = malloc(MG_CHUNK_TOKENS);
	}
	if (!w || !w->ids || !w->starts || !w->mask) {
		mg_tokstream_writer_free(w);
		mg_buf_free(&b);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	w->f = f;
	w->h = *h;
	w->level = level;
	w->want_start = h->layout != MG_LAYOUT_STREAM;
	mg_member_pack_start(&w->packed, mg_magic_tokens);
	rc = mg_chunk_pack(&w->packed, "HEAD", 0, b.data, b.len, level, e);
	mg_buf_free(&b);
	if (!rc && tk) {
		mg_buf t = { 0 };
		rc = mg_tokenizer_pack(tk, &t, e);
		if (!rc)
			rc = mg_chunk_pack(&w->packed, "VOCB", MG_CHUNK_ANCILLARY, t.data, t.len, level, e);
		mg_buf_free(&t);
	}
	if (!rc)
		rc = mg_write_all(f, w->packed.data, w->packed.len, e);
	if (rc) {
		mg_tokstream_writer_free(w);
		return rc;
	}
	*out = w;
	return MG_OK;
}

static int flush_chunk(mg_tokstream_writer *w, mg_err *e)
{
	mg_buf *b = &w->raw;
	int rc;

	if (w->n == 0)
		return MG_OK;
	b->len = 0;
	w->packed.len = 0;
	mg_buf_u64(b, w->total);
	mg_buf_u32(b, (uint32_t)w->n);
	mg_buf_u32(b, (uint32_t)w->n_starts);
	if (mg_buf_reserve(b, w->n_starts * 4 + w->n * w->h.id_bytes + (w->n + 7) / 8) == MG_OK) {
		uint8_t *p = b->data + b->len;
		for (size_t i = 0; i < w->n_starts; i++, p += 4)
			mg_le32_put(p, w->starts[i]);
		if (w->h.id_bytes == 2)
			for (size_t i = 0; i < w->n; i++, p += 2)
				mg_le16_put(p, (uint16_t)w->ids[i]);
		else
			for (size_t i = 0; i < w->n; i++, p += 4)
				mg_le32_put(p, w->ids[i]);
		if (w->h.has_mask) {
			memset(p, 0, (w->n + 7) / 8);
			for (size_t i = 0; i < w->n; i++)
				p[i >> 3] |= (uint8_t)((w->mask[i] & 1) << (i & 7));
			p += (w->n + 7) / 8;
		}
		b->len = (size_t)(p - b->data);
	}
	if (b->oom)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	rc = mg_chunk_pack(&w->packed, "DATA", MG_CHUNK_ZLIB, b->data, b->len, w->level, e);
	if (!rc)
		rc = mg_write_all(w->f, w->packed.data, w->packed.len, e);
	if (rc)
		return rc;
	w->total += w->n;
	w->chunks++;
	w->n = 0;
	w->n_starts = 0;
	return MG_OK;
}

static int end_record(mg_tokstream_writer *w, mg_err *e)
{
	if (w->h.record_len && w->rec_len != w->h.record_len)
		return mg_err_set(e, MG_E_INVAL, "record %llu has %llu tokens, not the fixed %u",
				  (unsigned long long)(w->records - 1), (unsigned long long)w->rec_len, w->h.record_len);
	return MG_OK;
}

int mg_tokstream_writer_record(mg_tokstream_writer *w, mg_err *e)
{
	(void)e;
	assert(w->h.layout != MG_LAYOUT_STREAM);
	w->want_start = 1;
	return MG_OK;
}

int mg_tokstream_writer_put(mg_tokstream_writer *w, const uint32_t *ids, const uint8_t *mask, size_t n, mg_err *e)
{
	int rc;

	assert(!w->h.has_mask || mask);
	for (size_t i = 0; i < n; i++) {
		if (ids[i] >= w->h.vocab_size)
			return mg_err_set(e, MG_E_INVAL, "token %u at position %llu is outside the vocabulary of %u", ids[i],
					  (unsigned long long)(w->total + w->n), w->h.vocab_size);
		if (w->want_start) {
			if (w->records && (rc = end_record(w, e)))
				return rc;
			w->starts[w->n_starts++] = (uint32_t)w->n;
			w->records++;
			w->rec_len = 0;
			w->want_start = 0;
		}
		w->ids[w->n] = ids[i];
		w->mask[w->n] = w->h.has_mask ? (mask[i] != 0) : 1;
		w->n++;
		w->rec_len++;
		if (w->n == MG_CHUNK_TOKENS && (rc = flush_chunk(w, e)))
			return rc;
	}
	return MG_OK;
}

int mg_tokstream_writer_close(mg_tokstream_writer *w, mg_err *e)
{
	int rc;

	rc = flush_chunk(w, e);
	if (!rc && w->records)
		rc = end_record(w, e);
	if (!rc) {
		uint8_t t[24];
		mg_le64_put(t, w->total);
		mg_le64_put(t + 8, w->records);
		mg_le64_put(t + 16, w->chunks);
		rc = mg_chunk_write(w->f, "TAIL", 0, t, sizeof t, w->level, e);
	}
	mg_tokstream_writer_free(w);
	return rc;
}

/* ---------------------------------------------------------------- reader */

struct mg_tokstream_reader {
	mg_chunk_reader cr;
	mg_tokstream_header h;
	uint8_t head_raw[16];
	mg_tokenizer tk;
	int has_tk;
	uint8_t *vocb_raw; /* first member's tokenizer payload, to compare later ones */
	size_t vocb_len;
	int done;
	uint64_t global;   /* tokens in all earlier members */
	uint64_t m_tokens, m_records, m_chunks; /* this member so far */
	uint64_t rec_len;  /* length of the record in progress */
	int in_record;
	uint32_t *ids, *starts;
	uint8_t *mask;
	size_t cap;
	mg_chunk pending;  /* first chunk after HEAD/VOCB, read ahead */
	int has_pending;
};

const mg_tokstream_header *mg_tokstream_reader_header(const mg_tokstream_reader *r) { return &r->h; }
const mg_tokenizer *mg_tokstream_reader_tokenizer(const mg_tokstream_reader *r) { return r->has_tk ? &r->tk : NULL; }

void mg_tokstream_reader_close(mg_tokstream_reader *r)
{
	if (!r)
		return;
	mg_chunk_reader_free(&r->cr);
	if (r->has_tk)
		mg_tokenizer_free(&r->tk);
	free(r->vocb_raw);
	free(r->ids);
	free(r->starts);
	free(r->mask);
	free(r);
}

#define AT(c) (unsigned long long)(c).offset

/* Reads a member's preamble, HEAD and optional VOCB; the next chunk is left
 * in r->pending. first: this is the first member. */
static int member_start(mg_tokstream_reader *r, int first, mg_err *e)
{
	uint16_t minor;
	mg_chunk c;
	mg_tokstream_header h;
	int rc;

	if ((rc = mg_member_read_start(&r->cr, mg_magic_tokens, &minor, e)))
		return rc;
	if ((rc = mg_chunk_read(&r->cr, &c, e)))
		return rc;
	if (strcmp(c.type, "HEAD"))
		return mg_err_set(e, MG_E_CORRUPT, "first chunk at byte %llu is '%s', not 'HEAD'", AT(c), c.type);
	if ((rc = parse_head(c.data, c.len, &h, e))) {
		mg_err_prefix(e, "chunk 'HEAD' at byte %llu: ", AT(c));
		return rc;
	}
	if (first) {
		r->h = h;
		memcpy(r->head_raw, c.data, 16);
	} else if (memcmp(r->head_raw, c.data, 16)) {
		return mg_err_set(e, MG_E_CORRUPT, "member at byte %llu has a different header from the first member",
				  AT(c));
	}
	if ((rc = mg_chunk_read(&r->cr, &c, e)))
		return rc;
	if (!strcmp(c.type, "VOCB")) {
		if (first) {
			if ((rc = mg_tokenizer_parse(c.data, c.len, &r->tk, e))) {
				mg_err_prefix(e, "tokenizer in chunk 'VOCB' at byte %llu: ", AT(c));
				return rc;
			}
			r->has_tk = 1;
			if (r->tk.vocab_size != r->h.vocab_size)
				return mg_err_set(e, MG_E_CORRUPT, "tokenizer at byte %llu has %u tokens, the stream %u",
						  AT(c), r->tk.vocab_size, r->h.vocab_size);
			r->vocb_raw = malloc(c.len ? c.len : 1);
			if (!r->vocb_raw)
				return mg_err_set(e, MG_E_NOMEM, "out of memory");
			memcpy(r->vocb_raw, c.data, c.len);
			r->vocb_len = c.len;
		} else if (r->has_tk && (c.len != r->vocb_len || memcmp(c.data, r->vocb_raw, c.len))) {
			return mg_err_set(e, MG_E_CORRUPT, "member at byte %llu carries a different tokenizer", AT(c));
		}
		if ((rc = mg_chunk_read(&r->cr, &c, e)))
			return rc;
	}
	r->pending = c;
	r->has_pending = 1;
	r->m_tokens = r->m_records = r->m_chunks = 0;
	r->in_record = 0;
	return MG_OK;
}

int mg_tokstream_reader_open(mg_tokstream_reader **out, FILE *f, mg_err *e)
{
	mg_tokstream_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	mg_chunk_reader_init(&r->cr, f);
	if ((rc = member_start(r, 1, e))) {
		mg_tokstream_reader_close(r);
		return rc;
	}
	*out = r;
	return MG_OK;
}

static int check_record_end(mg_tokstream_reader *r, uint64_t at, mg_err *e)
{
	if (r->in_record && r->h.record_len && r->rec_len != r->h.record_len)
		return mg_err_set(e, MG_E_CORRUPT, "record %llu ending before byte %llu has %llu tokens, not %u",
				  (unsigned long long)(r->m_records - 1), (unsigned long long)at,
				  (unsigned long long)r->rec_len, r->h.record_len);
	return MG_OK;
}

static int parse_data(mg_tokstream_reader *r, const mg_chunk *c, mg_tokstream_span *s, mg_err *e)
{
	mg_cur cur = mg_cur_init(c->data, c->len);
	uint64_t first = mg_cur_u64(&cur);
	uint32_t n = mg_cur_u32(&cur), ns = mg_cur_u32(&cur);
	const uint8_t *p;
	size_t need;
	int rc;

	if (!mg_cur_ok(&cur))
		return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu is too short", AT(*c));
	if (n == 0 || n > MG_CHUNK_TOKENS_MAX)
		return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu holds %u tokens, outside 1..%u", AT(*c), n,
				  MG_CHUNK_TOKENS_MAX);
	if (first != r->m_tokens)
		return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu starts at token %llu, expected %llu (a chunk is missing)",
				  AT(*c), (unsigned long long)first, (unsigned long long)r->m_tokens);
	if (ns > n)
		return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu has more record starts than tokens", AT(*c));
	need = (size_t)ns * 4 + (size_t)n * r->h.id_bytes + (r->h.has_mask ? (n + 7) / 8 : 0);
	if (mg_cur_left(&cur) != need)
		return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu has %zu payload bytes, expected %zu", AT(*c),
				  mg_cur_left(&cur), need);
	if (r->cap < n) {
		free(r->ids);
		free(r->starts);
		free(r->mask);
		r->ids = malloc(n * sizeof *r->ids);
		r->starts = malloc(n * sizeof *r->starts);
		r->mask = malloc(n);
		r->cap = n;
		if (!r->ids || !r->starts || !r->mask) {
			r->cap = 0;
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		}
	}
	p = mg_cur_take(&cur, need);
	if (r->h.layout == MG_LAYOUT_STREAM && ns)
		return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu has record starts in a stream without records",
				  AT(*c));
	for (uint32_t i = 0; i < ns; i++, p += 4) {
		r->starts[i] = mg_le32_get(p);
		if (r->starts[i] >= n || (i && r->starts[i] <= r->starts[i - 1]))
			return mg_err_set(e, MG_E_CORRUPT, "'DATA' at byte %llu has record starts out of order", AT(*c));
	}
	if (r->h.layout != MG_LAYOUT_STREAM && r->m_tokens == 0 && (ns == 0 || r->starts[0] != 0))
		return mg_err_set(e, MG_E_CORRUPT, "first record of the member does not start at its first token (byte %llu)",
				  AT(*c));
	for (uint32_t i = 0; i < n; i++, p += r->h.id_bytes) {
		uint32_t id = r->h.id_bytes == 2 ? mg_le16_get(p) : mg_le32_get(p);
		if (id >= r->h.vocab_size)
			return mg_err_set(e, MG_E_CORRUPT, "token %llu (id %u) at byte %llu is outside the vocabulary of %u",
					  (unsigned long long)(r->global + first + i), id, AT(*c), r->h.vocab_size);
		r->ids[i] = id;
	}
	if (r->h.has_mask) {
		for (uint32_t i = 0; i < n; i++)
			r->mask[i] = (uint8_t)(p[i >> 3] >> (i & 7) & 1);
		if ((n & 7) && (p[n >> 3] >> (n & 7)))
			return mg_err_set(e, MG_E_CORRUPT, "padding bits of the mask in 'DATA' at byte %llu are not zero",
					  AT(*c));
	}
	/* record lengths, including records that span chunks */
	{
		uint32_t prev = 0;
		for (uint32_t i = 0; i < ns; i++) {
			r->rec_len += r->starts[i] - prev;
			if ((rc = check_record_end(r, c->offset, e)))
				return rc;
			r->in_record = 1;
			r->m_records++;
			r->rec_len = 0;
			prev = r->starts[i];
		}
		r->rec_len += n - prev;
	}
	s->first = r->global + first;
	s->n = n;
	s->ids = r->ids;
	s->mask = r->h.has_mask ? r->mask : NULL;
	s->starts = r->starts;
	s->n_starts = ns;
	r->m_tokens += n;
	r->m_chunks++;
	return MG_OK;
}

static int parse_tail(mg_tokstream_reader *r, const mg_chunk *c, mg_err *e)
{
	int rc;

	if (c->len != 24)
		return mg_err_set(e, MG_E_CORRUPT, "'TAIL' at byte %llu is %zu bytes, not 24", AT(*c), c->len);
	if (mg_le64_get(c->data) != r->m_tokens || mg_le64_get(c->data + 8) != r->m_records ||
	    mg_le64_get(c->data + 16) != r->m_chunks)
		return mg_err_set(e, MG_E_CORRUPT,
				  "'TAIL' at byte %llu counts %llu tokens, %llu records, %llu chunks; read %llu, %llu, %llu",
				  AT(*c), (unsigned long long)mg_le64_get(c->data),
				  (unsigned long long)mg_le64_get(c->data + 8), (unsigned long long)mg_le64_get(c->data + 16),
				  (unsigned long long)r->m_tokens, (unsigned long long)r->m_records,
				  (unsigned long long)r->m_chunks);
	if ((rc = check_record_end(r, c->offset, e)))
		return rc;
	r->global += r->m_tokens;
	return MG_OK;
}

int mg_tokstream_reader_next(mg_tokstream_reader *r, mg_tokstream_span *s, mg_err *e)
{
	mg_chunk c;
	int rc, eof;

	memset(s, 0, sizeof *s);
	while (!r->done) {
		if (r->has_pending) {
			c = r->pending;
			r->has_pending = 0;
		} else if ((rc = mg_chunk_read(&r->cr, &c, e))) {
			return rc;
		}
		if (!strcmp(c.type, "DATA"))
			return parse_data(r, &c, s, e);
		if (!strcmp(c.type, "TAIL")) {
			if ((rc = parse_tail(r, &c, e)))
				return rc;
			if ((rc = mg_rd_at_eof(&r->cr.rd, &eof, e)))
				return rc;
			if (eof)
				r->done = 1;
			else if ((rc = member_start(r, 0, e)))
				return rc;
			continue;
		}
		if (!strcmp(c.type, "HEAD") || !strcmp(c.type, "VOCB"))
			return mg_err_set(e, MG_E_CORRUPT, "chunk '%s' at byte %llu is out of place", c.type, AT(c));
		if (!(c.flags & MG_CHUNK_ANCILLARY))
			return mg_err_set(e, MG_E_CORRUPT, "unknown chunk '%s' at byte %llu", c.type, AT(c));
	}
	return MG_OK;
}

/* ---------------------------------------------------------- whole stream */

void mg_tokstream_data_free(mg_tokstream_data *d)
{
	free(d->ids);
	free(d->mask);
	free(d->start);
	if (d->has_tokenizer)
		mg_tokenizer_free(&d->tk);
	memset(d, 0, sizeof *d);
}

static int grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
	uint64_t c = *cap ? *cap : 4096;
	void *q;

	if (need <= *cap)
		return MG_OK;
	while (c < need)
		c *= 2;
	if (c > SIZE_MAX / elem)
		return MG_E_NOMEM;
	q = realloc(*p, (size_t)(c * elem));
	if (!q)
		return MG_E_NOMEM;
	*p = q;
	*cap = c;
	return MG_OK;
}

int mg_tokstream_data_read(FILE *f, mg_tokstream_data *d, mg_err *e)
{
	mg_tokstream_reader *r;
	mg_tokstream_span s;
	uint64_t cap = 0, mcap = 0, scap = 0;
	int rc;

	memset(d, 0, sizeof *d);
	if ((rc = mg_tokstream_reader_open(&r, f, e)))
		return rc;
	d->h = *mg_tokstream_reader_header(r);
	if (mg_tokstream_reader_tokenizer(r)) {
		/* take ownership of the reader's tokenizer */
		d->tk = r->tk;
		d->has_tokenizer = 1;
		r->has_tk = 0;
		memset(&r->tk, 0, sizeof r->tk);
		r->has_tk = 0;
	}
	for (;;) {
		if ((rc = mg_tokstream_reader_next(r, &s, e)))
			goto fail;
		if (s.n == 0)
			break;
		if (grow((void **)&d->ids, &cap, d->n + s.n, sizeof *d->ids) ||
		    (s.mask && grow((void **)&d->mask, &mcap, d->n + s.n, 1)) ||
		    grow((void **)&d->start, &scap, d->n_records + s.n_starts + 1, sizeof *d->start)) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory after %llu tokens", (unsigned long long)d->n);
			goto fail;
		}
		memcpy(d->ids + d->n, s.ids, s.n * sizeof *s.ids);
		if (s.mask)
			memcpy(d->mask + d->n, s.mask, s.n);
		for (size_t i = 0; i < s.n_starts; i++)
			d->start[d->n_records++] = d->n + s.starts[i];
		d->n += s.n;
	}
	if (grow((void **)&d->start, &scap, d->n_records + 1, sizeof *d->start)) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto fail;
	}
	d->start[d->n_records] = d->n;
	mg_tokstream_reader_close(r);
	return MG_OK;
fail:
	mg_tokstream_reader_close(r);
	mg_tokstream_data_free(d);
	return rc;
}
