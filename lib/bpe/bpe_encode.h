/* Encoding text to token ids with a tokenizer model (tokenizer.h): byte-level
 * BPE (GPT-2 and bpe-train models), or characters. An encoder holds the
 * read-only tables and may be shared by threads; each thread encodes with a
 * worker of its own (scratch space and a cache of recent pieces). */
#ifndef MG_BPE_ENCODE_H
#define MG_BPE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/ids.h"
#include "io/tokenizer.h"


enum {
	MG_ENCODE_SPECIAL = 1, /* the model's special tokens are recognized in the text */
};

typedef struct mg_bpe_encoder mg_bpe_encoder;
typedef struct mg_bpe_encode_worker mg_bpe_encode_worker;

/* Builds the tables for tk, which must outlive the encoder (BPE or chars;
 * MG_E_UNSUPPORTED for a palette). flags: MG_ENCODE_*. */
int mg_bpe_encoder_init(mg_bpe_encoder **enc, const mg_tokenizer *tk, uint32_t flags, mg_err *e);
void mg_bpe_encoder_free(mg_bpe_encoder *enc);

/* Bytes that must follow a cut point for mg_bpe_encoder_cut to judge it. */
size_t mg_bpe_encoder_margin(const mg_bpe_encoder *enc);
/* The largest p in (lo, hi], hi + margin <= n, at which s[0..n) can be
 * split so that encoding both sides separately gives the same ids as the
 * whole; 0 when there is none (a model without a pre-tokenizer has none: a
 * document is one piece). */
size_t mg_bpe_encoder_cut(const mg_bpe_encoder *enc, const uint8_t *s, size_t n, size_t lo, size_t hi);

int mg_bpe_encode_worker_init(mg_bpe_encode_worker **w, const mg_bpe_encoder *enc, mg_err *e);
void mg_bpe_encode_worker_free(mg_bpe_encode_worker *w);
/* Encodes the complete text s[0..n) and appends the ids to out. Any bytes
 * are valid text for a BPE model; a chars model gives MG_E_INVAL for a
 * character it lacks, naming its byte offset plus base. Linear time in n
 * (n log n for one very long pre-token). */
int mg_bpe_encode_worker_encode(mg_bpe_encode_worker *w, const uint8_t *s, size_t n, uint64_t base, mg_ids *out, mg_err *e);

#endif
