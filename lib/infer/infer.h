/* KV-cache inference for the GPT model: up to n_seq sequences, each with a
 * cache of keys and values per layer, fed tokens and read out as the logits
 * of the next token; a new token costs one pass over the weights and the
 * cached context, not a forward over the whole window. */
#ifndef MG_INFER_H
#define MG_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/gpt.h"

/* The context window. A sequence's logits depend on its last tokens only:
 * the window, at most block_size tokens, whose positions 0, 1, ... are what
 * the positional embedding and the time weights see. When a token arrives
 * at a full window, the window drops its oldest `slide` tokens and the cache
 * is recomputed for the tokens left (position 0 moves). slide 1 keeps the
 * last block_size tokens at every step: exactly minGPT's generate, which
 * crops the context and recomputes it; a larger slide recomputes once every
 * `slide` tokens, and the logits are then those of a full forward pass on
 * the last block_size + 1 - slide ... block_size tokens. */

typedef struct mg_infer mg_infer;

/* An engine for model g with room for n_seq sequences (1 or more) and the
 * given slide (1 to block_size). It copies the parameters it needs (the
 * weight matrices repacked for its kernels), so g may be freed afterwards;
 * the model's buffers (mg_gpt_alloc) are not used. The engine runs on the
 * model's backend: MG_E_UNSUPPORTED when that backend lacks the inference
 * entries (lib/backend/backend.h). All memory is allocated here:
 * MG_E_INVAL for bad arguments, MG_E_NOMEM. Not thread-safe: one call
 * at a time; calls use the library's threads (lib/core/threads.h). Results are
 * bit-identical whatever the thread count and however many sequences run
 * together. */
int mg_infer_init(mg_infer **inf, const mg_gpt *g, uint32_t n_seq, uint32_t slide, mg_err *e);
void mg_infer_free(mg_infer *inf);
const mg_gpt_config *mg_infer_config(const mg_infer *inf);
/* Bytes the engine holds (weights, caches, scratch). */
uint64_t mg_infer_bytes(const mg_infer *inf);

/* Empties sequence s (s < n_seq): no tokens, no logits. */
void mg_infer_reset(mg_infer *inf, uint32_t s);
/* Appends n tokens to sequence s; they are evaluated by the next
 * mg_infer_run. MG_E_INVAL (and nothing appended) when an id is not below
 * vocab_size. */
int mg_infer_append(mg_infer *inf, uint32_t s, const uint32_t *ids, size_t n, mg_err *e);
/* Evaluates the tokens appended since the last run, for all sequences
 * together, and computes the logits that follow each sequence that got
 * tokens. Never allocates; MG_E_IO with the backend's message when it has
 * met an error (a device fault; never on the CPU), else MG_OK. */
int mg_infer_run(mg_infer *inf, mg_err *e);
/* The vocab_size logits of the token after sequence s's last token, or NULL
 * when tokens were appended since the last run (or none ever were). Valid
 * until the next call that changes s. */
const float *mg_infer_logits(const mg_infer *inf, uint32_t s);

/* Sequence s: tokens appended since the reset, and the window: its first
 * token's index among them and its length. */
uint64_t mg_infer_tokens(const mg_infer *inf, uint32_t s);
uint64_t mg_infer_window_start(const mg_infer *inf, uint32_t s);
uint32_t mg_infer_window_len(const mg_infer *inf, uint32_t s);

/* Work done since init: token positions evaluated (rows), windows
 * recomputed after a slide, and calls to mg_infer_run that evaluated
 * something. */
typedef struct mg_infer_stats {
	uint64_t rows, recomputes, runs;
} mg_infer_stats;
void mg_infer_stats_get(const mg_infer *inf, mg_infer_stats *st);

#endif
