/* Chunk container: framing, CRC-32 and zlib for every mygpt file. See
 * formats/container.md for the byte layout this code implements. */
#include "io/chunk.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

const uint8_t mg_magic_tokens[8] = { 0x89, 'M', 'G', 'T', '\r', '\n', 0x1a, '\n' };
const uint8_t mg_magic_tokenizer[8] = { 0x89, 'M', 'G', 'V', '\r', '\n', 0x1a, '\n' };
const uint8_t mg_magic_checkpoint[8] = { 0x89, 'M', 'G', 'C', '\r', '\n', 0x1a, '\n' };

void mg_rd_init_file(mg_rd *r, FILE *f)
{
	memset(r, 0, sizeof *r);
	r->f = f;
}

void mg_rd_init_mem(mg_rd *r, const void *p, size_t n)
{
	memset(r, 0, sizeof *r);
	r->mem = p;
	r->mem_len = n;
}

int mg_rd_exact(mg_rd *r, void *p, size_t n, const char *what, mg_err *e)
{
	size_t got;

	if (r->f) {
		got = fread(p, 1, n, r->f);
		if (got < n && ferror(r->f))
			return mg_err_set(e, MG_E_IO, "read error at byte %llu: %s", (unsigned long long)(r->off + got),
					  strerror(errno));
	} else {
		got = r->mem_len - r->off < n ? (size_t)(r->mem_len - r->off) : n;
		memcpy(p, r->mem + r->off, got);
	}
	r->off += got;
	if (got < n)
		return mg_err_set(e, MG_E_TRUNC, "truncated %s at byte %llu", what, (unsigned long long)r->off);
	return MG_OK;
}

int mg_rd_at_eof(mg_rd *r, int *eof, mg_err *e)
{
	int ch;

	if (!r->f) {
		*eof = r->off >= r->mem_len;
		return MG_OK;
	}
	ch = getc(r->f);
	if (ch == EOF) {
		if (ferror(r->f))
			return mg_err_set(e, MG_E_IO, "read error at byte %llu: %s", (unsigned long long)r->off,
					  strerror(errno));
		*eof = 1;
		return MG_OK;
	}
	ungetc(ch, r->f);
	*eof = 0;
	return MG_OK;
}

void mg_chunk_reader_init(mg_chunk_reader *cr, FILE *f)
{
	memset(cr, 0, sizeof *cr);
	mg_rd_init_file(&cr->rd, f);
}

void mg_chunk_reader_init_mem(mg_chunk_reader *cr, const void *p, size_t n)
{
	memset(cr, 0, sizeof *cr);
	mg_rd_init_mem(&cr->rd, p, n);
}

void mg_chunk_reader_free(mg_chunk_reader *cr)
{
	if (cr->z) {
		inflateEnd(cr->z);
		free(cr->z);
		cr->z = NULL;
	}
	free(cr->stored);
	free(cr->raw);
	cr->stored = cr->raw = NULL;
	cr->stored_cap = cr->raw_cap = 0;
}

static int grow(uint8_t **p, size_t *cap, size_t n, mg_err *e)
{
	uint8_t *q;

	if (*cap >= n)
		return MG_OK;
	q = realloc(*p, n ? n : 1);
	if (!q)
		return mg_err_set(e, MG_E_NOMEM, "out of memory for a chunk of %zu bytes", n);
	*p = q;
	*cap = n;
	return MG_OK;
}

static const char *kind_name(const uint8_t magic[8])
{
	return magic[3] == 'T' ? "token stream" : magic[3] == 'V' ? "tokenizer" : "checkpoint";
}

/* What the got bytes of a wrong preamble are, for the message: one of the
 * other mygpt files (all 8 bytes of its magic), text (printable bytes and
 * white space), or NULL (unknown). */
static const char *found_name(const uint8_t *p, size_t got)
{
	static const uint8_t *const magics[] = { mg_magic_tokens, mg_magic_tokenizer, mg_magic_checkpoint };
	size_t i;

	if (got >= 8)
		for (i = 0; i < sizeof magics / sizeof magics[0]; i++)
			if (memcmp(p, magics[i], 8) == 0)
				return kind_name(magics[i]);
	for (i = 0; i < got; i++)
		if (!(p[i] >= 0x20 && p[i] != 0x7f) && p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
			return NULL;
	return got ? "text" : NULL;
}

int mg_member_read_start(mg_chunk_reader *cr, const uint8_t magic[8], uint16_t *minor, mg_err *e)
{
	uint8_t p[MG_PREAMBLE_SIZE];
	uint64_t at = cr->rd.off;
	unsigned long long o = (unsigned long long)at;
	size_t got;
	uint16_t major;
	int rc;

	rc = mg_rd_exact(&cr->rd, p, sizeof p, "preamble", e);
	got = (size_t)(cr->rd.off - at);
	if (rc == MG_E_TRUNC && got == 0 && at == 0)
		return mg_err_set(e, MG_E_TRUNC, "empty input, expected a %s", kind_name(magic));
	if ((rc == MG_OK || rc == MG_E_TRUNC) && memcmp(p, magic, got < 8 ? got : 8) != 0) {
		const char *found = found_name(p, got);

		if (found)
			return mg_err_set(e, MG_E_MAGIC, "bad magic at byte %llu: %s%s, not a %s", o,
					  strcmp(found, "text") ? "a " : "", found, kind_name(magic));
		return mg_err_set(e, MG_E_MAGIC, "bad magic at byte %llu: not a %s", o, kind_name(magic));
	}
	if (rc)
		return rc;
	if ((uint32_t)crc32(0, p, 12) != mg_le32_get(p + 12))
		return mg_err_set(e, MG_E_CRC, "preamble checksum mismatch at byte %llu", o);
	major = mg_le16_get(p + 8);
	if (major != MG_VERSION_MAJOR)
		return mg_err_set(e, MG_E_VERSION, "unsupported version %u.%u at byte %llu (this build reads %u.x)",
				  major, mg_le16_get(p + 10), o, MG_VERSION_MAJOR);
	*minor = mg_le16_get(p + 10);
	return MG_OK;
}

static int type_ok(const uint8_t *t)
{
	for (int i = 0; i < 4; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
			return 0;
	return 1;
}

int mg_chunk_read_header(mg_chunk_reader *cr, mg_chunk *c, mg_err *e)
{
	uint8_t *h = cr->header;
	uint64_t at = cr->rd.off;
	uint32_t flags, stored, raw;
	unsigned long long o = (unsigned long long)at;
	int rc;

	rc = mg_rd_exact(&cr->rd, h, MG_CHUNK_HEADER, "chunk header", e);
	if (rc)
		return rc;
	if (!type_ok(h))
		return mg_err_set(e, MG_E_CORRUPT, "bad chunk type at byte %llu", o);
	memcpy(c->type, h, 4);
	c->type[4] = 0;
	c->offset = at;
	flags = mg_le32_get(h + 4);
	stored = mg_le32_get(h + 8);
	raw = mg_le32_get(h + 12);
	if (flags & ~MG_CHUNK_FLAGS_KNOWN)
		return mg_err_set(e, MG_E_CORRUPT, "chunk '%s' at byte %llu has reserved flag bits set", c->type, o);
	if (stored > MG_CHUNK_MAX || raw > MG_CHUNK_MAX)
		return mg_err_set(e, MG_E_LIMIT, "chunk '%s' at byte %llu is over the %u-byte limit", c->type, o,
				  MG_CHUNK_MAX);
	if ((flags & MG_CHUNK_ZLIB) ? stored >= raw : stored != raw)
		return mg_err_set(e, MG_E_CORRUPT, "chunk '%s' at byte %llu has inconsistent sizes", c->type, o);
	c->flags = flags;
	c->stored_len = stored;
	c->raw_len = raw;
	c->data = NULL;
	c->len = 0;
	return MG_OK;
}

/* The first n bytes (n < raw) of the zlib stream of a chunk. */
static int inflate_head(const uint8_t *src, size_t stored, uint8_t *dst, size_t n)
{
	z_stream z;
	int zr;

	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (Bytef *)src;
	z.avail_in = (uInt)stored;
	z.next_out = dst;
	z.avail_out = (uInt)n;
	zr = inflate(&z, Z_SYNC_FLUSH);
	inflateEnd(&z);
	return (zr == Z_OK || zr == Z_BUF_ERROR) && z.avail_out == 0 ? 0 : -1;
}

int mg_chunk_read_payload(mg_chunk_reader *cr, mg_chunk *c, size_t head, mg_err *e)
{
	uint32_t stored = c->stored_len, raw = c->raw_len, crc;
	unsigned long long o = (unsigned long long)c->offset;
	size_t want = head < raw ? head : raw;
	int rc;

	if ((rc = grow(&cr->stored, &cr->stored_cap, (size_t)stored + 4, e)))
		return rc;
	rc = mg_rd_exact(&cr->rd, cr->stored, (size_t)stored + 4, "chunk", e);
	if (rc == MG_E_TRUNC)
		return mg_err_set(e, MG_E_TRUNC, "truncated chunk '%s' (starts at byte %llu, input ends at byte %llu)",
				  c->type, o, (unsigned long long)cr->rd.off);
	if (rc)
		return rc;
	crc = (uint32_t)crc32(0, cr->header, MG_CHUNK_HEADER);
	crc = (uint32_t)crc32(crc, cr->stored, stored);
	if (crc != mg_le32_get(cr->stored + stored))
		return mg_err_set(e, MG_E_CRC, "checksum mismatch in chunk '%s' at byte %llu", c->type, o);
	c->len = want;
	if (!(c->flags & MG_CHUNK_ZLIB)) {
		c->data = cr->stored;
		return MG_OK;
	}
	if ((rc = grow(&cr->raw, &cr->raw_cap, want, e)))
		return rc;
	if (want < raw) {
		if (inflate_head(cr->stored, stored, cr->raw, want))
			return mg_err_set(e, MG_E_CORRUPT, "bad zlib data in chunk '%s' at byte %llu", c->type, o);
	} else {
		uLongf dlen = raw;
		uLong slen = stored;
		int zr = uncompress2(cr->raw, &dlen, cr->stored, &slen);
		if (zr != Z_OK || dlen != raw || slen != stored)
			return mg_err_set(e, MG_E_CORRUPT, "bad zlib data in chunk '%s' at byte %llu", c->type, o);
	}
	c->data = cr->raw;
	return MG_OK;
}

/* Plain payloads are read and summed in slices of this size: big enough that
 * the reads go from the page cache to the caller's memory without stdio's
 * buffer, small enough that the CRC finds the bytes still in cache. */
#define SLICE (256u << 10)

static int payload_trunc(mg_chunk_reader *cr, const mg_chunk *c, int rc, mg_err *e)
{
	if (rc == MG_E_TRUNC)
		return mg_err_set(e, MG_E_TRUNC, "truncated chunk '%s' (starts at byte %llu, input ends at byte %llu)",
				  c->type, (unsigned long long)c->offset, (unsigned long long)cr->rd.off);
	return rc;
}

int mg_chunk_payload_begin(mg_chunk_reader *cr, const mg_chunk *c, mg_err *e)
{
	z_stream *z;
	int rc;

	cr->taken = 0;
	cr->crc = (uint32_t)crc32(0, cr->header, MG_CHUNK_HEADER);
	if (!(c->flags & MG_CHUNK_ZLIB))
		return MG_OK;
	if ((rc = grow(&cr->stored, &cr->stored_cap, (size_t)c->stored_len + 4, e)))
		return rc;
	if ((rc = mg_rd_exact(&cr->rd, cr->stored, (size_t)c->stored_len + 4, "chunk", e)))
		return payload_trunc(cr, c, rc, e);
	if ((uint32_t)crc32(cr->crc, cr->stored, c->stored_len) != mg_le32_get(cr->stored + c->stored_len))
		return mg_err_set(e, MG_E_CRC, "checksum mismatch in chunk '%s' at byte %llu", c->type,
				  (unsigned long long)c->offset);
	if (!cr->z && !(cr->z = calloc(1, sizeof(z_stream))))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	z = cr->z;
	memset(z, 0, sizeof *z);
	if (inflateInit(z) != Z_OK) {
		free(cr->z);
		cr->z = NULL;
		return mg_err_set(e, MG_E_NOMEM, "out of memory for zlib");
	}
	z->next_in = cr->stored;
	z->avail_in = c->stored_len;
	return MG_OK;
}

/* Inflates the next n raw bytes of the payload into dst. */
static int inflate_next(mg_chunk_reader *cr, const mg_chunk *c, uint8_t *dst, size_t n, mg_err *e)
{
	z_stream *z = cr->z;
	int zr;

	z->next_out = dst;
	z->avail_out = (uInt)n;
	zr = inflate(z, Z_SYNC_FLUSH);
	if (z->avail_out != 0 || (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR))
		return mg_err_set(e, MG_E_CORRUPT, "bad zlib data in chunk '%s' at byte %llu", c->type,
				  (unsigned long long)c->offset);
	return MG_OK;
}

int mg_chunk_payload_get(mg_chunk_reader *cr, const mg_chunk *c, void *dst, size_t n, mg_err *e)
{
	uint8_t *p = dst;
	int rc;

	if (n > c->raw_len - cr->taken) /* programmer error: past the payload */
		return mg_err_set(e, MG_E_INVAL, "read past the payload of chunk '%s'", c->type);
	cr->taken += n;
	if (c->flags & MG_CHUNK_ZLIB)
		return inflate_next(cr, c, p, n, e);
	while (n) {
		size_t k = n < SLICE ? n : SLICE;
		if ((rc = mg_rd_exact(&cr->rd, p, k, "chunk", e)))
			return payload_trunc(cr, c, rc, e);
		cr->crc = (uint32_t)crc32(cr->crc, p, (uInt)k);
		p += k;
		n -= k;
	}
	return MG_OK;
}

int mg_chunk_payload_view(mg_chunk_reader *cr, const mg_chunk *c, const uint8_t **p, size_t n, mg_err *e)
{
	mg_rd *r = &cr->rd;

	*p = NULL;
	if (r->f || (c->flags & MG_CHUNK_ZLIB))
		return MG_OK;
	if (n > c->raw_len - cr->taken)
		return mg_err_set(e, MG_E_INVAL, "read past the payload of chunk '%s'", c->type);
	if (r->mem_len - r->off < n) {
		r->off = r->mem_len;
		return payload_trunc(cr, c, MG_E_TRUNC, e);
	}
	*p = r->mem + r->off;
	cr->crc = (uint32_t)crc32(cr->crc, *p, (uInt)n);
	r->off += n;
	cr->taken += n;
	return MG_OK;
}

int mg_chunk_payload_end(mg_chunk_reader *cr, const mg_chunk *c, int inflate_rest, mg_err *e)
{
	unsigned long long o = (unsigned long long)c->offset;
	uint8_t crc[4];
	int rc;

	if (c->flags & MG_CHUNK_ZLIB) {
		z_stream *z = cr->z;
		if (cr->taken < c->raw_len && !inflate_rest)
			rc = MG_OK;
		else if ((rc = grow(&cr->raw, &cr->raw_cap, SLICE, e)) == MG_OK) {
			while (rc == MG_OK && cr->taken < c->raw_len) {
				size_t k = c->raw_len - cr->taken < SLICE ? c->raw_len - cr->taken : SLICE;
				rc = inflate_next(cr, c, cr->raw, k, e);
				cr->taken += k;
			}
			/* the stream ends exactly at the last raw byte and the last stored one */
			if (rc == MG_OK) {
				z->next_out = crc;
				z->avail_out = 1;
				if (inflate(z, Z_FINISH) != Z_STREAM_END || z->avail_out != 1 || z->avail_in != 0)
					rc = mg_err_set(e, MG_E_CORRUPT, "bad zlib data in chunk '%s' at byte %llu", c->type,
							o);
			}
		}
		inflateEnd(z);
		return rc;
	}
	if (cr->taken < c->raw_len) {
		if ((rc = grow(&cr->raw, &cr->raw_cap, SLICE, e)))
			return rc;
		while (cr->taken < c->raw_len) {
			size_t k = c->raw_len - cr->taken < SLICE ? c->raw_len - cr->taken : SLICE;
			const uint8_t *v;
			if ((rc = mg_chunk_payload_view(cr, c, &v, k, e)) ||
			    (!v && (rc = mg_chunk_payload_get(cr, c, cr->raw, k, e))))
				return rc;
		}
	}
	if ((rc = mg_rd_exact(&cr->rd, crc, 4, "chunk", e)))
		return payload_trunc(cr, c, rc, e);
	if (cr->crc != mg_le32_get(crc))
		return mg_err_set(e, MG_E_CRC, "checksum mismatch in chunk '%s' at byte %llu", c->type, o);
	return MG_OK;
}

int mg_chunk_read(mg_chunk_reader *cr, mg_chunk *c, mg_err *e)
{
	int rc = mg_chunk_read_header(cr, c, e);

	return rc ? rc : mg_chunk_read_payload(cr, c, SIZE_MAX, e);
}

void mg_member_pack_start(mg_buf *out, const uint8_t magic[8])
{
	uint8_t p[MG_PREAMBLE_SIZE];

	memcpy(p, magic, 8);
	mg_le16_put(p + 8, MG_VERSION_MAJOR);
	mg_le16_put(p + 10, MG_VERSION_MINOR);
	mg_le32_put(p + 12, (uint32_t)crc32(0, p, 12));
	mg_buf_add(out, p, sizeof p);
}

int mg_chunk_pack(mg_buf *out, const char type[4], uint32_t flags, const void *raw, size_t len, int level,
		  mg_err *e)
{
	size_t start = out->len, stored = len;
	uint8_t *h;
	uint32_t crc;

	if (len > MG_CHUNK_MAX)
		return mg_err_set(e, MG_E_LIMIT, "chunk '%.4s' of %zu bytes is over the %u-byte limit", type, len,
				  MG_CHUNK_MAX);
	if (mg_buf_reserve(out, MG_CHUNK_HEADER + compressBound(len) + 4))
		return mg_err_set(e, MG_E_NOMEM, "out of memory packing a chunk");
	h = out->data + start;
	memcpy(h, type, 4);
	if ((flags & MG_CHUNK_ZLIB) && len > 0) {
		uLongf clen = compressBound(len);
		if (compress2(h + MG_CHUNK_HEADER, &clen, raw, len, level) == Z_OK && clen < len)
			stored = clen;
		else
			flags &= ~MG_CHUNK_ZLIB;
	} else {
		flags &= ~MG_CHUNK_ZLIB;
	}
	if (!(flags & MG_CHUNK_ZLIB) && len)
		memcpy(h + MG_CHUNK_HEADER, raw, len);
	mg_le32_put(h + 4, flags);
	mg_le32_put(h + 8, (uint32_t)stored);
	mg_le32_put(h + 12, (uint32_t)len);
	crc = (uint32_t)crc32(0, h, (uInt)(MG_CHUNK_HEADER + stored));
	mg_le32_put(h + MG_CHUNK_HEADER + stored, crc);
	out->len = start + MG_CHUNK_HEADER + stored + 4;
	return MG_OK;
}

int mg_write_all(FILE *f, const void *p, size_t n, mg_err *e)
{
	if (n && fwrite(p, 1, n, f) != n)
		return mg_err_set(e, MG_E_IO, "write error: %s", strerror(errno));
	return MG_OK;
}

int mg_member_write_start(FILE *f, const uint8_t magic[8], mg_err *e)
{
	mg_buf b = { 0 };
	int rc;

	mg_member_pack_start(&b, magic);
	rc = b.oom ? mg_err_set(e, MG_E_NOMEM, "out of memory") : mg_write_all(f, b.data, b.len, e);
	mg_buf_free(&b);
	return rc;
}

int mg_chunk_write(FILE *f, const char type[4], uint32_t flags, const void *raw, size_t len, int level,
		   mg_err *e)
{
	mg_buf b = { 0 };
	int rc;

	rc = mg_chunk_pack(&b, type, flags, raw, len, level, e);
	if (!rc)
		rc = mg_write_all(f, b.data, b.len, e);
	mg_buf_free(&b);
	return rc;
}

/* Whether zlib at level saves at least a quarter of the n bytes at p. */
static int zlib_pays(const uint8_t *p, size_t n, int level, mg_err *e, int *pays)
{
	uLongf cap = n - n / 4;
	uint8_t *tmp = malloc(cap ? cap : 1);

	if (!tmp)
		return mg_err_set(e, MG_E_NOMEM, "out of memory packing a chunk");
	/* Z_BUF_ERROR: the stream did not fit in three quarters */
	*pays = n > 0 && compress2(tmp, &cap, p, n, level) == Z_OK;
	free(tmp);
	return MG_OK;
}

int mg_chunk_write_bulk(FILE *f, const char type[4], uint32_t flags, const void *head, size_t head_len,
			const void *body, size_t body_len, int level, int *compressed, mg_err *e)
{
	size_t len = head_len + body_len;
	uint8_t h[MG_CHUNK_HEADER], crc[4];
	uLong sum;
	int rc, pays = 0;

	if (compressed)
		*compressed = 0;
	if (len > MG_CHUNK_MAX || len < head_len)
		return mg_err_set(e, MG_E_LIMIT, "chunk '%.4s' of %zu bytes is over the %u-byte limit", type, len,
				  MG_CHUNK_MAX);
	if (flags & MG_CHUNK_ZLIB) {
		/* the sample: the first MG_ZLIB_SAMPLE bytes of head then body */
		mg_buf raw = { 0 };
		size_t sn = len < MG_ZLIB_SAMPLE ? len : MG_ZLIB_SAMPLE;
		mg_buf_add(&raw, head, head_len < sn ? head_len : sn);
		if (sn > head_len)
			mg_buf_add(&raw, body, sn - head_len);
		rc = raw.oom ? mg_err_set(e, MG_E_NOMEM, "out of memory packing a chunk") : MG_OK;
		if (!rc && len > sn) {
			rc = zlib_pays(raw.data, sn, level, e, &pays);
			if (!rc && pays)
				mg_buf_add(&raw, (const uint8_t *)body + (sn - head_len), len - sn);
			if (raw.oom)
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory packing a chunk");
		} else if (!rc) {
			pays = 1;
		}
		if (!rc && pays) {
			/* the whole, into at most three quarters of its size */
			uint8_t *out = malloc(MG_CHUNK_HEADER + (len - len / 4) + 4);
			uLongf clen = len - len / 4;
			if (!out)
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory packing a chunk");
			else if (len > 0 && compress2(out + MG_CHUNK_HEADER, &clen, raw.data, len, level) == Z_OK) {
				memcpy(out, type, 4);
				mg_le32_put(out + 4, flags);
				mg_le32_put(out + 8, (uint32_t)clen);
				mg_le32_put(out + 12, (uint32_t)len);
				mg_le32_put(out + MG_CHUNK_HEADER + clen,
					    (uint32_t)crc32(0, out, (uInt)(MG_CHUNK_HEADER + clen)));
				rc = mg_write_all(f, out, MG_CHUNK_HEADER + clen + 4, e);
				if (compressed)
					*compressed = 1;
				free(out);
				mg_buf_free(&raw);
				return rc;
			}
			free(out);
		}
		mg_buf_free(&raw);
		if (rc)
			return rc;
	}
	flags &= ~MG_CHUNK_ZLIB;
	memcpy(h, type, 4);
	mg_le32_put(h + 4, flags);
	mg_le32_put(h + 8, (uint32_t)len);
	mg_le32_put(h + 12, (uint32_t)len);
	sum = crc32(0, h, MG_CHUNK_HEADER);
	if (head_len) /* crc32 of a NULL pointer is the initial value */
		sum = crc32(sum, head, (uInt)head_len);
	if (body_len)
		sum = crc32(sum, body, (uInt)body_len);
	mg_le32_put(crc, (uint32_t)sum);
	if ((rc = mg_write_all(f, h, sizeof h, e)) || (rc = mg_write_all(f, head, head_len, e)) ||
	    (rc = mg_write_all(f, body, body_len, e)))
		return rc;
	return mg_write_all(f, crc, 4, e);
}
