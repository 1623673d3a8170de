/* Token streams (formats/tokens.md): ids with optional per-token loss masks
 * and record boundaries, in zlib-compressed, checksummed DATA chunks, written
 * without seeking; "cat a.tok b.tok" is a valid stream. */
#ifndef MG_TOKSTREAM_H
#define MG_TOKSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chunk.h"
#include "err.h"
#include "tokenizer.h"

enum {
	MG_LAYOUT_STREAM = 0,    /* one continuous sequence, no boundaries */
	MG_LAYOUT_DOCUMENTS = 1, /* text documents, trained on as a continuous sequence */
	MG_LAYOUT_EXAMPLES = 2,  /* independent examples (one per training sequence) */
};

#define MG_CHUNK_TOKENS_MAX (1u << 20) /* tokens in one DATA chunk */
#define MG_CHUNK_TOKENS 65536u         /* what writers put in one */

typedef struct mg_tokhdr {
	uint32_t vocab_size; /* 1..MG_VOCAB_MAX; every id is below it */
	uint32_t id_bytes;   /* 2 or 4; 2 only when vocab_size <= 65536 */
	uint32_t layout;     /* MG_LAYOUT_* */
	uint32_t has_mask;   /* 1: every token has a loss-mask bit */
	uint32_t record_len; /* records all of this many tokens; 0: any length */
} mg_tokhdr;

/* A header for a vocabulary, with the narrowest id width. */
mg_tokhdr mg_tokhdr_make(uint32_t vocab_size, uint32_t layout, int has_mask, uint32_t record_len);
const char *mg_layout_name(uint32_t layout); /* "stream", "documents", "examples" */

/* --- writing --- */
typedef struct mg_tokw mg_tokw;

/* Writes the preamble, HEAD and, when tk is not NULL, the tokenizer. level is
 * the zlib level (1-9). f stays owned by the caller. */
int mg_tokw_open(mg_tokw **w, FILE *f, const mg_tokhdr *h, const mg_tokenizer *tk, int level, mg_err *e);
/* The next token put starts a new record (records layouts only). Records are
 * never empty: a second call before any token is put does nothing. */
int mg_tokw_record(mg_tokw *w, mg_err *e);
/* Appends n tokens; mask (one byte per token, 0 or 1) is required when the
 * header has a mask and ignored otherwise. Ids are checked against the
 * vocabulary (MG_E_INVAL). */
int mg_tokw_put(mg_tokw *w, const uint32_t *ids, const uint8_t *mask, size_t n, mg_err *e);
/* Writes the last DATA chunk and the TAIL, then frees w (also on error). */
int mg_tokw_close(mg_tokw *w, mg_err *e);
/* Frees w without finishing the stream (for error paths). */
void mg_tokw_free(mg_tokw *w);
uint64_t mg_tokw_tokens(const mg_tokw *w);

/* --- reading --- */
typedef struct mg_tokr mg_tokr;

typedef struct mg_tokspan {
	uint64_t first;         /* index of ids[0] in the whole stream */
	size_t n;               /* 0 at the end of the stream */
	const uint32_t *ids;
	const uint8_t *mask;    /* one byte 0/1 per token; NULL without a mask */
	const uint32_t *starts; /* positions in this span where records start */
	size_t n_starts;
} mg_tokspan;

/* Reads the preamble, HEAD and optional tokenizer of the first member. */
int mg_tokr_open(mg_tokr **r, FILE *f, mg_err *e);
const mg_tokhdr *mg_tokr_header(const mg_tokr *r);
/* The stream's tokenizer, or NULL when it carries none. */
const mg_tokenizer *mg_tokr_tokenizer(const mg_tokr *r);
/* Next DATA chunk across members; span->n == 0 at the end. The span stays
 * valid until the next call. */
int mg_tokr_next(mg_tokr *r, mg_tokspan *span, mg_err *e);
void mg_tokr_close(mg_tokr *r);

/* --- a whole stream in memory --- */
typedef struct mg_tokdata {
	mg_tokhdr h;
	mg_tokenizer tk;
	int has_tokenizer;
	uint64_t n;          /* tokens */
	uint32_t *ids;
	uint8_t *mask;       /* NULL without a mask */
	uint64_t n_records;  /* records layouts: record r is [start[r], start[r+1]) */
	uint64_t *start;     /* n_records+1 entries, start[n_records] == n */
} mg_tokdata;

int mg_tokdata_read(FILE *f, mg_tokdata *d, mg_err *e);
void mg_tokdata_free(mg_tokdata *d);

#endif
