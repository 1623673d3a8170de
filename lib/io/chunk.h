/* The container shared by every mygpt file (formats/container.md): a member
 * is a 16-byte preamble (magic, version, CRC) followed by typed chunks, each
 * with its own CRC-32 and optional zlib compression; files may hold several
 * members back to back. Written strictly forward, so pipes work. */
#ifndef MG_CHUNK_H
#define MG_CHUNK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/bytes.h"
#include "core/err.h"

#define MG_VERSION_MAJOR 1
#define MG_VERSION_MINOR 0

#define MG_PREAMBLE_SIZE 16
#define MG_CHUNK_HEADER 16
#define MG_CHUNK_MAX (64u << 20) /* largest payload, stored or raw */
/* zlib level writers use unless told otherwise: level 1 compresses token and
 * tensor data within a few percent of level 6 at several times the speed. */
#define MG_ZLIB_LEVEL 1

enum {
	MG_CHUNK_ZLIB = 1u << 0,      /* payload is a zlib stream (RFC 1950) */
	MG_CHUNK_ANCILLARY = 1u << 1, /* a reader that does not know it skips it */
	MG_CHUNK_FLAGS_KNOWN = 3u,
};

/* The magics: 0x89, three letters, CR LF SUB LF (the PNG trick: catches
 * 7-bit channels and newline translation). */
extern const uint8_t mg_magic_tokens[8];    /* \x89MGT\r\n\x1a\n */
extern const uint8_t mg_magic_tokenizer[8]; /* \x89MGV\r\n\x1a\n */
extern const uint8_t mg_magic_checkpoint[8];/* \x89MGC\r\n\x1a\n */

/* Input with a byte offset, for messages that say where a problem is. */
typedef struct mg_rd {
	FILE *f;
	const uint8_t *mem; /* reads from memory instead when f is NULL */
	size_t mem_len;
	uint64_t off;
} mg_rd;

void mg_rd_init_file(mg_rd *r, FILE *f);
void mg_rd_init_mem(mg_rd *r, const void *p, size_t n);
/* Reads exactly n bytes: MG_E_TRUNC naming "what" when the input ends. */
int mg_rd_exact(mg_rd *r, void *p, size_t n, const char *what, mg_err *e);
/* Sets *eof to 1 when no byte is left, without consuming anything. */
int mg_rd_at_eof(mg_rd *r, int *eof, mg_err *e);

typedef struct mg_chunk {
	char type[5];      /* four characters and a NUL */
	uint32_t flags;
	uint64_t offset;   /* byte offset of the chunk header in the input */
	const uint8_t *data; /* decompressed payload, owned by the reader */
	size_t len;
	uint32_t stored_len, raw_len; /* payload sizes in the file and decompressed */
} mg_chunk;

typedef struct mg_chunk_reader {
	mg_rd rd;
	uint8_t *stored, *raw;
	size_t stored_cap, raw_cap;
	uint8_t header[MG_CHUNK_HEADER]; /* of the chunk being read */
	/* a payload read in pieces (mg_chunk_payload_begin): raw bytes taken,
	 * the CRC so far of a plain one, the inflate state of a compressed one */
	size_t taken;
	uint32_t crc;
	void *z;
} mg_chunk_reader;

void mg_chunk_reader_init(mg_chunk_reader *cr, FILE *f);
void mg_chunk_reader_init_mem(mg_chunk_reader *cr, const void *p, size_t n);
void mg_chunk_reader_free(mg_chunk_reader *cr);

/* Reads a member preamble and checks magic, CRC and major version; *minor
 * receives the member's minor version. */
int mg_member_read_start(mg_chunk_reader *cr, const uint8_t magic[8], uint16_t *minor, mg_err *e);
/* Reads and verifies the next chunk; c->data stays valid until the next
 * call. Errors name the chunk and its offset. */
int mg_chunk_read(mg_chunk_reader *cr, mg_chunk *c, mg_err *e);
/* mg_chunk_read in two steps, for readers that only need the start of some
 * payloads: the header (type, flags, sizes; c->data NULL), then the payload,
 * whose CRC is always checked but of which only the first `head` bytes are
 * decompressed (c->len = min(head, c->raw_len); SIZE_MAX: all of it, with
 * the zlib stream checked to its end). */
int mg_chunk_read_header(mg_chunk_reader *cr, mg_chunk *c, mg_err *e);
int mg_chunk_read_payload(mg_chunk_reader *cr, mg_chunk *c, size_t head, mg_err *e);
/* The payload in pieces, for readers that put large payloads where they
 * belong without a copy: after mg_chunk_read_header, _begin, then _get of
 * consecutive raw bytes (at most c->raw_len in all), then _end. A plain
 * payload is read from the input straight into dst, its CRC computed over
 * the bytes as read (in slices, while they are in cache) and checked by
 * _end, which first reads what was not taken. A compressed payload is read
 * whole and its CRC checked by _begin, then inflated into dst piece by
 * piece; _end with all taken checks that the zlib stream ends there, and
 * with inflate_rest inflates (into scratch) and checks what was not taken.
 * Until _end returns MG_OK the bytes of a plain payload are unchecked: a
 * caller that finds them wrong calls _end first and reports its own error
 * only when _end finds none (a checksum mismatch is the truer message). */
int mg_chunk_payload_begin(mg_chunk_reader *cr, const mg_chunk *c, mg_err *e);
int mg_chunk_payload_get(mg_chunk_reader *cr, const mg_chunk *c, void *dst, size_t n, mg_err *e);
int mg_chunk_payload_end(mg_chunk_reader *cr, const mg_chunk *c, int inflate_rest, mg_err *e);
/* _get without the copy, for a reader over memory (mg_chunk_reader_init_mem)
 * and a plain payload: *p points at the next n raw bytes where they lie,
 * counted in the CRC as _get counts them; otherwise *p is NULL and nothing
 * is taken (the caller uses _get). */
int mg_chunk_payload_view(mg_chunk_reader *cr, const mg_chunk *c, const uint8_t **p, size_t n, mg_err *e);

/* Appends a member preamble to out. */
void mg_member_pack_start(mg_buf *out, const uint8_t magic[8]);
/* Appends one whole chunk (header, payload, CRC) to out. With MG_CHUNK_ZLIB
 * in flags the payload is compressed at level (1-9); it is stored plain when
 * that is not smaller. Thread-safe: no shared state. */
int mg_chunk_pack(mg_buf *out, const char type[4], uint32_t flags, const void *raw, size_t len, int level,
		  mg_err *e);
/* fwrite with an error that carries errno ("no space left on device"). */
int mg_write_all(FILE *f, const void *p, size_t n, mg_err *e);
int mg_member_write_start(FILE *f, const uint8_t magic[8], mg_err *e);
int mg_chunk_write(FILE *f, const char type[4], uint32_t flags, const void *raw, size_t len, int level,
		   mg_err *e);
/* Writes one chunk whose payload is head then body and may not compress
 * (tensor elements). With MG_CHUNK_ZLIB in flags it is compressed only when
 * that saves at least a quarter of it (stored size at most R - floor(R/4)),
 * judged first on its first MG_ZLIB_SAMPLE bytes, so that megabytes of
 * float weights are never compressed only to be stored plain, then on the
 * whole. A plain payload is written from head and body without a copy.
 * *compressed (may be NULL) says which was written. */
#define MG_ZLIB_SAMPLE (64u << 10)
int mg_chunk_write_bulk(FILE *f, const char type[4], uint32_t flags, const void *head, size_t head_len,
			const void *body, size_t body_len, int level, int *compressed, mg_err *e);

#endif
