/* Learning byte-level BPE merges, with exactly the semantics of karpathy's
 * minbpe RegexTokenizer.train (GPT-2 pattern) or BasicTokenizer.train (no
 * split): the text is cut into pieces (pre-tokens, or whole inputs), every
 * piece starts as its bytes, and each round counts all adjacent pairs in all
 * pieces (overlapping ones too), takes the most frequent pair, ties going to
 * the pair seen first in a left-to-right scan of the current pieces, and
 * replaces it left to right, without overlap, by the new id 256 + round.
 * Counted once per distinct piece with its frequency and updated
 * incrementally with priority queues: the corpus is never scanned again. */
#ifndef MG_BPE_TRAIN_H
#define MG_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "io/tokenizer.h"

typedef struct mg_bpe_trainer mg_bpe_trainer;

/* kind MG_TOKENIZER_BPE with split MG_SPLIT_GPT2 or MG_SPLIT_NONE, or
 * MG_TOKENIZER_CHARS for the character model: the distinct characters
 * (invalid UTF-8 bytes as raw-byte entries) sorted by code point, as minGPT's
 * CharDataset builds it. specials (n of them, may be 0) are not learned from:
 * the input is cut at each occurrence (longest first, left to right), which
 * is dropped; the trainer keeps a copy. */
int mg_bpe_trainer_init(mg_bpe_trainer **t, uint32_t kind, uint32_t split, const mg_tokenizer_special *specials, uint32_t n,
			mg_err *e);
void mg_bpe_trainer_free(mg_bpe_trainer *t);

/* Counts the pieces of one input (a file: pieces never span inputs), read in
 * blocks; memory grows with the distinct pieces only (for MG_SPLIT_NONE the
 * input is one piece). MG_E_IO on a read error, MG_E_LIMIT when the distinct
 * pieces pass 4 GiB. */
int mg_bpe_trainer_count(mg_bpe_trainer *t, FILE *f, mg_err *e);
/* The same for text in memory (a whole input). */
int mg_bpe_trainer_count_mem(mg_bpe_trainer *t, const uint8_t *s, size_t n, mg_err *e);

typedef struct mg_bpe_train_stats {
	uint64_t bytes, pieces, distinct, distinct_bytes;
} mg_bpe_train_stats;
void mg_bpe_trainer_stats(const mg_bpe_trainer *t, mg_bpe_train_stats *st);

/* Called after each merge: its rank, the pair and its count. A non-zero
 * return stops training with that code (MG_E_INTERRUPTED). */
typedef int (*mg_bpe_progress)(void *ctx, uint32_t rank, uint32_t left, uint32_t right, uint64_t count);

/* BPE: learns up to vocab_size - 256 - n_specials merges (fewer when no pair
 * is left: *merges tells) and builds the model: byte b is id b, merge r
 * makes id 256 + r, the special tokens follow in the order given. vocab_size
 * must be at least 256 + n_specials (MG_E_INVAL). Chars: builds the model
 * (vocab_size is not used). A trainer trains once. */
int mg_bpe_trainer_train(mg_bpe_trainer *t, uint32_t vocab_size, mg_bpe_progress cb, void *ctx, mg_tokenizer *tk,
			 uint32_t *merges, mg_err *e);

#endif
