/* Decimal token ids: a buffered writer and an incremental reader. */
#include "io/idtext.h"

#include <errno.h>
#include <string.h>

#include "io/chunk.h"

void mg_idtext_writer_init(mg_idtext_writer *w, FILE *f)
{
	w->f = f;
	w->n = 0;
	w->line_open = 0;
}

static int flush(mg_idtext_writer *w, mg_err *e)
{
	int rc = mg_write_all(w->f, w->buf, w->n, e);

	w->n = 0;
	return rc;
}

/* Writes v in decimal at p, two digits at a time; returns the end. */
static inline char *put_u32(char *p, uint32_t v)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				       "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				       "8081828384858687888990919293949596979899";
	int len = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6
		: v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
	char *q = p + len;

	while (v >= 100) {
		uint32_t r = v % 100;
		v /= 100;
		q -= 2;
		memcpy(q, pairs + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(q - 2, pairs + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return p + len;
}

int mg_idtext_put_masked(mg_idtext_writer *w, const uint32_t *ids, const uint8_t *mask, size_t n, mg_err *e)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		int paren = mask && !mask[i];
		char *p;
		if (w->n + 14 > sizeof w->buf && (rc = flush(w, e)))
			return rc;
		p = w->buf + w->n;
		if (w->line_open)
			*p++ = ' ';
		if (paren)
			*p++ = '(';
		p = put_u32(p, ids[i]);
		if (paren)
			*p++ = ')';
		w->n = (size_t)(p - w->buf);
		w->line_open = 1;
	}
	return MG_OK;
}

int mg_idtext_put(mg_idtext_writer *w, const uint32_t *ids, size_t n, mg_err *e)
{
	return mg_idtext_put_masked(w, ids, NULL, n, e);
}

int mg_idtext_end_line(mg_idtext_writer *w, mg_err *e)
{
	int rc;

	if (!w->line_open)
		return MG_OK;
	if (w->n + 1 > sizeof w->buf && (rc = flush(w, e)))
		return rc;
	w->buf[w->n++] = '\n';
	w->line_open = 0;
	return MG_OK;
}

int mg_idtext_finish(mg_idtext_writer *w, mg_err *e)
{
	int rc = mg_idtext_end_line(w, e);

	return rc ? rc : flush(w, e);
}

void mg_idtext_reader_init(mg_idtext_reader *r, FILE *f, uint32_t vocab_size)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->vocab_size = vocab_size;
	r->line = 1;
	r->col = 1;
}

void mg_idtext_reader_masks(mg_idtext_reader *r, mg_buf *masks) { r->masks = masks; }

/* Ends the number being read, if any. */
static int end_num(mg_idtext_reader *r, mg_ids *out, mg_err *e)
{
	if (!r->in_num)
		return MG_OK;
	r->in_num = 0;
	if (r->num >= r->vocab_size) {
		/* the number the user wrote, not its clamped value */
		if (r->n_digits > 20)
			return mg_err_set(e, MG_E_INVAL, "line %llu: token %.20s... (%llu digits) is outside the vocabulary of %u",
					  (unsigned long long)r->line, r->digits, (unsigned long long)r->n_digits,
					  r->vocab_size);
		return mg_err_set(e, MG_E_INVAL, "line %llu: token %s is outside the vocabulary of %u",
				  (unsigned long long)r->line, r->digits, r->vocab_size);
	}
	if (out->n == out->cap && mg_ids_reserve(out, 1))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	out->v[out->n++] = (uint32_t)r->num;
	if (r->masks) {
		mg_buf_u8(r->masks, (uint8_t)!r->paren);
		if (r->masks->oom)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	r->line_ids = 1;
	return MG_OK;
}

int mg_idtext_read(mg_idtext_reader *r, mg_ids *out, mg_ids *line_ends, int *eof, mg_err *e)
{
	size_t got;
	int rc;

	*eof = 0;
	if (r->eof) {
		*eof = 1;
		return MG_OK;
	}
	got = fread(r->buf, 1, sizeof r->buf, r->f);
	if (got == 0) {
		if (ferror(r->f))
			return mg_err_set(e, MG_E_IO, "read error: %s", strerror(errno));
		r->eof = *eof = 1;
		if (r->paren)
			return mg_err_set(e, MG_E_INVAL, "line %llu: '(' without ')' at the end of the input",
					  (unsigned long long)r->line);
		if ((rc = end_num(r, out, e)))
			return rc;
		if (r->line_ids && line_ends) {
			if (mg_ids_reserve(line_ends, 1))
				return mg_err_set(e, MG_E_NOMEM, "out of memory");
			line_ends->v[line_ends->n++] = (uint32_t)out->n;
		}
		return MG_OK;
	}
	for (size_t i = 0; i < got; i++, r->col++) {
		uint8_t c = r->buf[i];
		if (c >= '0' && c <= '9') {
			if (r->in_num && r->num == 0)
				return mg_err_set(e, MG_E_INVAL, "line %llu, column %llu: number with a leading zero",
						  (unsigned long long)r->line, (unsigned long long)r->col);
			r->num = r->in_num ? r->num * 10 + (uint64_t)(c - '0') : (uint64_t)(c - '0');
			if (r->num > UINT32_MAX)
				r->num = UINT32_MAX; /* stays out of range */
			if (!r->in_num)
				r->n_digits = 0;
			if (r->n_digits < 20) {
				r->digits[r->n_digits] = (char)c;
				r->digits[r->n_digits + 1] = 0;
			}
			r->n_digits++;
			r->in_num = 1;
			continue;
		}
		if (r->masks && c == '(' && !r->paren && !r->in_num) {
			r->paren = 1;
			continue;
		}
		if (r->masks && c == ')' && r->paren && r->in_num) {
			if ((rc = end_num(r, out, e)))
				return rc;
			r->paren = 0;
			continue;
		}
		if (r->paren)
			return mg_err_set(e, MG_E_INVAL, "line %llu, column %llu: '(' must hold one id and a ')'",
					  (unsigned long long)r->line, (unsigned long long)r->col);
		if ((rc = end_num(r, out, e)))
			return rc;
		if (c == ' ' || c == '\t')
			continue;
		if (c == '\r' && (i + 1 < got ? r->buf[i + 1] == '\n' : 1))
			continue; /* CR LF; a CR at the end of a block is taken on trust */
		if (c == '\n') {
			if (r->line_ids && line_ends) {
				if (mg_ids_reserve(line_ends, 1))
					return mg_err_set(e, MG_E_NOMEM, "out of memory");
				line_ends->v[line_ends->n++] = (uint32_t)out->n;
			}
			r->line_ids = 0;
			r->line++;
			r->col = 0;
			continue;
		}
		if (c >= 0x21 && c < 0x7f)
			return mg_err_set(e, MG_E_INVAL, "line %llu, column %llu: '%c' is not part of a token id",
					  (unsigned long long)r->line, (unsigned long long)r->col, c);
		return mg_err_set(e, MG_E_INVAL, "line %llu, column %llu: byte 0x%02x is not part of a token id",
				  (unsigned long long)r->line, (unsigned long long)r->col, c);
	}
	return MG_OK;
}
