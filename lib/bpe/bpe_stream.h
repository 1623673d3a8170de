/* Encoding a file of any size in bounded memory, on one or more threads:
 * the input is read in blocks, cut only where the encoder says both sides
 * encode independently (mg_bpe_encoder_cut) and at document separators, and
 * the blocks' ids are handed to a sink in input order, so the result does not
 * depend on the block size or the thread count. */
#ifndef MG_BPE_STREAM_H
#define MG_BPE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bpe/bpe_encode.h"
#include "core/err.h"

/* Receives ids in input order, on the calling thread. */
typedef struct mg_bpe_stream_sink {
	void *ctx;
	int (*put)(void *ctx, const uint32_t *ids, size_t n, mg_err *e);
	/* a separator ended a document (not called at the end of the file) */
	int (*doc_end)(void *ctx, mg_err *e);
} mg_bpe_stream_sink;

typedef struct mg_bpe_stream_opts {
	uint32_t threads;   /* 1 or more */
	size_t block;       /* bytes per unit of work; 0: the default */
	const uint8_t *sep; /* document separator (kept at the end of its document), or NULL */
	size_t sep_len;
} mg_bpe_stream_opts;

typedef struct mg_bpe_stream_stats {
	uint64_t bytes, tokens, docs_ended;
	size_t longest_unit; /* the largest block encoded in one piece */
} mg_bpe_stream_stats;

/* Encodes all of f. Memory: the threads' blocks plus the longest stretch of
 * text with no cut point (one pre-token; a whole document for a model
 * without a pre-tokenizer). Errors: the sink's, the encoder's (with byte
 * offsets in the file), MG_E_IO for a read error, MG_E_NOMEM. Adds to *st. */
int mg_bpe_stream_encode(const mg_bpe_encoder *enc, FILE *f, const mg_bpe_stream_opts *o, const mg_bpe_stream_sink *sink,
		   mg_bpe_stream_stats *st, mg_err *e);

#endif
