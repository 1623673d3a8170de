/* Token streams (formats/tokens.md): ids with optional per-token loss masks
 * and record boundaries, in zlib-compressed, checksummed DATA chunks, written
 * without seeking; "cat a.tok b.tok" is a valid stream. */
#ifndef MG_TOKSTREAM_H
#define MG_TOKSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "io/chunk.h"
#include "io/tokenizer.h"

enum {
	MG_LAYOUT_STREAM = 0,    /* one continuous sequence, no boundaries */
	MG_LAYOUT_DOCUMENTS = 1, /* text documents, trained on as a continuous sequence */
	MG_LAYOUT_EXAMPLES = 2,  /* independent examples (one per training sequence) */
};

#define MG_CHUNK_TOKENS_MAX (1u << 20) /* tokens in one DATA chunk */
#define MG_CHUNK_TOKENS 65536u         /* what writers put in one */

typedef struct mg_tokstream_header {
	uint32_t vocab_size; /* 1..MG_VOCAB_MAX; every id is below it */
	uint32_t id_bytes;   /* 2 or 4; 2 only when vocab_size <= 65536 */
	uint32_t layout;     /* MG_LAYOUT_* */
	uint32_t has_mask;   /* 1: every token has a loss-mask bit */
	uint32_t record_len; /* records all of this many tokens; 0: any length */
} mg_tokstream_header;

/* A header for a vocabulary, with the narrowest id width. */
mg_tokstream_header mg_tokstream_header_make(uint32_t vocab_size, uint32_t layout, int has_mask, uint32_t record_len);
const char *mg_tokstream_layout_name(uint32_t layout); /* "stream", "documents", "examples" */

/* --- writing --- */
typedef struct mg_tokstream_writer mg_tokstream_writer;

/* Writes the preamble, HEAD and, when tk is not NULL, the tokenizer. level is
 * the zlib level (1-9). f stays owned by the caller. */
int mg_tokstream_writer_open(mg_tokstream_writer **w, FILE *f, const mg_tokstream_header *h, const mg_tokenizer *tk, int level, mg_err *e);
/* The next token put starts a new record (records layouts only). Records are
 * never empty: a second call before any token is put does nothing. */
int mg_tokstream_writer_record(mg_tokstream_writer *w, mg_err *e);
/* Appends n tokens; mask (one byte per token, 0 or 1) is required when the
 * header has a mask and ignored otherwise. Ids are checked against the
 * vocabulary (MG_E_INVAL). */
int mg_tokstream_writer_put(mg_tokstream_writer *w, const uint32_t *ids, const uint8_t *mask, size_t n, mg_err *e);
/* Writes the last DATA chunk and the TAIL, then frees w (also on error). */
int mg_tokstream_writer_close(mg_tokstream_writer *w, mg_err *e);
/* Frees w without finishing the stream (for error paths). */
void mg_tokstream_writer_free(mg_tokstream_writer *w);
uint64_t mg_tokstream_writer_tokens(const mg_tokstream_writer *w);

/* --- reading --- */
typedef struct mg_tokstream_reader mg_tokstream_reader;

typedef struct mg_tokstream_span {
	uint64_t first;         /* index of ids[0] in the whole stream */
	size_t n;               /* 0 at the end of the stream */
	const uint32_t *ids;
	const uint8_t *mask;    /* one byte 0/1 per token; NULL without a mask */
	const uint32_t *starts; /* positions in this span where records start */
	size_t n_starts;
} mg_tokstream_span;

/* Reads the preamble, HEAD and optional tokenizer of the first member. */
int mg_tokstream_reader_open(mg_tokstream_reader **r, FILE *f, mg_err *e);
const mg_tokstream_header *mg_tokstream_reader_header(const mg_tokstream_reader *r);
/* The stream's tokenizer, or NULL when it carries none. */
const mg_tokenizer *mg_tokstream_reader_tokenizer(const mg_tokstream_reader *r);
/* Next DATA chunk across members; span->n == 0 at the end. The span stays
 * valid until the next call. */
int mg_tokstream_reader_next(mg_tokstream_reader *r, mg_tokstream_span *span, mg_err *e);
void mg_tokstream_reader_close(mg_tokstream_reader *r);

/* --- a whole stream in memory --- */
typedef struct mg_tokstream_data {
	mg_tokstream_header h;
	mg_tokenizer tk;
	int has_tokenizer;
	uint64_t n;          /* tokens */
	uint32_t *ids;
	uint8_t *mask;       /* NULL without a mask */
	uint64_t n_records;  /* records layouts: record r is [start[r], start[r+1]) */
	uint64_t *start;     /* n_records+1 entries, start[n_records] == n */
} mg_tokstream_data;

int mg_tokstream_data_read(FILE *f, mg_tokstream_data *d, mg_err *e);
void mg_tokstream_data_free(mg_tokstream_data *d);

#endif
