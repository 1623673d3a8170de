/* Training and validation sequences from a token stream held in memory
 * (lib/io/tokstream.h): windows of block_size+1 tokens for the stream and
 * documents layouts, one record per sequence for the examples layout. The
 * order of an epoch is a function of (seed, epoch) alone, so a run resumes
 * exactly from its seed, epoch and position in the epoch. */
#ifndef MG_TRAIN_DATA_H
#define MG_TRAIN_DATA_H

#include <stdint.h>

#include "core/err.h"
#include "io/tokstream.h"

enum { MG_ORDER_RANDOM = 0, MG_ORDER_SEQUENTIAL = 1 };

/* "random", "sequential", "unknown" */
const char *mg_train_data_order_name(uint32_t order);

/* The units a layout is split on: tokens (stream, documents) or records
 * (examples). */
uint64_t mg_train_data_units(const mg_tokstream_data *d);

/* A view of units [first, first+count) of d, which must outlive it, checked
 * against a model of block_size and vocab_size. MG_E_INVAL, with a message
 * naming the problem and its position in d, for: no tokens, an id not below
 * vocab_size, fewer than block_size+1 tokens (stream, documents), a record
 * longer than block_size+1 tokens or of a single token (examples), no
 * target at all (every mask bit 0). MG_E_NOMEM.
 *
 * Targets: token i+1 is the target of position i; it counts when its mask
 * bit is 1 (no mask: always), except, in the documents layout, a token that
 * starts a record: formats/tokens.md says a trainer never predicts it from
 * another record. */
typedef struct mg_train_data mg_train_data;
int mg_train_data_open(mg_train_data **t, const mg_tokstream_data *d, uint64_t first, uint64_t count, uint32_t block_size,
		  uint32_t vocab_size, mg_err *e);
void mg_train_data_free(mg_train_data *t);

uint32_t mg_train_data_layout(const mg_train_data *t);
uint64_t mg_train_data_tokens(const mg_train_data *t);  /* tokens in the view */
uint64_t mg_train_data_records(const mg_train_data *t); /* examples: records in the view; else 0 */
uint64_t mg_train_data_targets(const mg_train_data *t); /* targets in the view (each counted once) */
/* Positions of the longest sequence: block_size, or for examples the
 * longest record less one. */
uint32_t mg_train_data_max_len(const mg_train_data *t);
/* A 64-bit hash of the view's layout, ids, effective mask and records: a
 * resumed run compares it with the one it started with. */
uint64_t mg_train_data_fingerprint(const mg_train_data *t);

/* Sequences in one epoch:
 * - stream and documents, random: ceil(tokens / (block_size+1)) windows,
 *   each starting at a uniformly drawn position in [0, tokens-block_size-1]
 *   (minGPT's CharDataset, as MyGPT uses it);
 * - stream and documents, sequential: floor((tokens-1) / block_size)
 *   windows starting at 0, block_size, 2 block_size, ...: every target once,
 *   a tail shorter than a window dropped;
 * - examples: every record once, in a seeded random permutation (random) or
 *   in file order (sequential). */
uint64_t mg_train_data_epoch_len(const mg_train_data *t, uint32_t order);
/* 1 with the targets of a whole epoch in *targets when they are the same
 * for every epoch (examples; no mask; sequential order), else 0. */
int mg_train_data_epoch_fixed(const mg_train_data *t, uint32_t order, uint64_t *targets);
/* Targets of sequence i of an epoch. Not thread-safe (caches the epoch's
 * permutation). */
uint64_t mg_train_data_seq_targets(mg_train_data *t, uint32_t order, uint64_t seed, uint64_t epoch, uint64_t i);

/* Rows of sequences, stride block_size positions, padded with id 0 and mask
 * 0 after each row's length. */
typedef struct mg_train_data_batch {
	uint32_t cap, block; /* rows, positions per row */
	uint32_t n;          /* rows filled */
	uint32_t *inputs, *targets; /* (cap, block) */
	uint8_t *mask;       /* (cap, block): 1 where the target counts */
	uint32_t *len;       /* (cap): positions used by each row */
	uint32_t *v_inputs, *v_targets; /* mg_train_data_batch_view's compacted copy */
	uint8_t *v_mask;
} mg_train_data_batch;

/* A contiguous (B, T) batch for mg_gpt_forward. */
typedef struct mg_train_data_view {
	const uint32_t *inputs, *targets;
	const uint8_t *mask;
	uint32_t B, T;
	uint64_t count; /* targets whose mask is 1 */
} mg_train_data_view;

int mg_train_data_batch_init(mg_train_data_batch *b, uint32_t rows, uint32_t block_size, mg_err *e);
void mg_train_data_batch_free(mg_train_data_batch *b);

/* Fills rows 0..n-1 of b (n <= b->cap) with sequences pos .. pos+n-1 of
 * the epoch, pos+n <= mg_train_data_epoch_len. Not thread-safe. */
void mg_train_data_fill(mg_train_data *t, uint32_t order, uint64_t seed, uint64_t epoch, uint64_t pos, uint32_t n,
		   mg_train_data_batch *b);
/* Rows [first, first+n) of b as a (n, T) batch, T the longest row: the
 * rows themselves when all are full, else a compacted copy valid until the
 * next call. */
void mg_train_data_batch_view(mg_train_data_batch *b, uint32_t first, uint32_t n, mg_train_data_view *v);

#endif
