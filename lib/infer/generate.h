/* Generating tokens: a batch of sequences stepped together through an
 * inference engine (infer.h), each choosing its next token with a sampler
 * (sample.h) from its own seeded generator, so a seed gives the same tokens
 * whatever the batch size and the thread count. */
#ifndef MG_GENERATE_H
#define MG_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/autothreads.h"
#include "core/err.h"
#include "core/rng.h"
#include "infer/infer.h"
#include "infer/sample.h"

/* The generator of sample (or prompt) i of a run under seed: independent
 * streams for every i and every seed (mg_rng_seed of mg_hash64(seed) + i). */
void mg_generate_seed(mg_rng *r, uint64_t seed, uint64_t i);

typedef struct mg_generate mg_generate;

/* A generator over the engine inf and the sampler smp, both borrowed (they
 * must outlive it), using sequences 0..n_seq-1 of inf (n_seq at most the
 * engine's), and drawing ids below n_vocab (1 to the model's vocab_size,
 * at most the sampler's n_max). at: NULL, or a thread chooser to which
 * every evaluation is reported with its time (mg_autothreads_after, the
 * shape being the positions evaluated); borrowed. MG_E_INVAL, MG_E_NOMEM.
 * Not thread-safe: one call at a time, as the engine. */
int mg_generate_init(mg_generate **g, mg_infer *inf, mg_sampler *smp, uint32_t n_seq, uint32_t n_vocab,
		     mg_autothreads *at, mg_err *e);
void mg_generate_free(mg_generate *g);

/* The first token of every sequence drawn from a table of counts (n_vocab
 * entries, borrowed: mg_sample_counts) instead of the model, whose first
 * evaluation then covers the prompt and that token together; NULL: from
 * the model (the default). */
void mg_generate_set_first(mg_generate *g, const uint64_t *counts);

/* Sequence s (< n_seq) of the next mg_generate_run: the engine's sequence s
 * is reset and given the n prompt ids (none only with a table of first
 * tokens), its generator is seeded by mg_generate_seed(seed, i), and it
 * will get `steps` new tokens, written to out (room for steps ids) unless
 * out is NULL. MG_E_INVAL (from the engine) when a prompt id is not below
 * the model's vocab_size. */
int mg_generate_start(mg_generate *g, uint32_t s, const uint32_t *prompt, size_t n, uint64_t seed, uint64_t i,
		      uint64_t steps, uint32_t *out, mg_err *e);

/* Called with each new token: sequence s, its index t among the new tokens
 * of s, the id. Within a step, sequences come in order. */
typedef void (*mg_generate_token_fn)(void *arg, uint32_t s, uint64_t t, uint32_t id);

/* Generates the new tokens of sequences 0..n-1, each started since the last
 * run: step t evaluates what every sequence was given, then each sequence
 * with more than t steps picks token t (mg_sampler_pick on its logits, or
 * the table for t = 0), stores it, passes it to on_token (unless NULL) and
 * is given it when it needs another token. The engine's window slides as
 * infer.h says. Returns the engine's error, if any. */
int mg_generate_run(mg_generate *g, uint32_t n, mg_generate_token_fn on_token, void *arg, mg_err *e);

/* Tokens generated since init. */
uint64_t mg_generate_count(const mg_generate *g);

#endif
