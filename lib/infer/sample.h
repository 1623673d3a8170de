/* Choosing the next token from logits: greedy, or a draw at a temperature
 * from the top-k and top-p (nucleus) filtered distribution, with a seeded
 * generator (rng.h), so a seed always gives the same tokens. */
#ifndef MG_SAMPLE_H
#define MG_SAMPLE_H

#include <stdint.h>

#include "core/err.h"
#include "core/rng.h"
#include "io/tokstream.h"

typedef struct mg_sample_opts {
	int greedy;         /* 1: the highest logit (the lowest id among equals) */
	double temperature; /* > 0: logits are divided by it; 0 means greedy */
	uint32_t top_k;     /* 0: off; else keep the logits >= the k-th largest (ties kept) */
	double top_p;       /* in (0, 1]; 1: off */
} mg_sample_opts;

/* Temperature 1, no top-k, no top-p, not greedy. */
void mg_sample_opts_default(mg_sample_opts *o);
/* MG_E_INVAL naming the bad field: a temperature below 0 or not finite, a
 * top_p outside (0, 1]. */
int mg_sample_opts_check(const mg_sample_opts *o, mg_err *e);

/* Scratch for vocabularies of up to n_max ids; one per thread. */
typedef struct mg_sampler mg_sampler;
int mg_sampler_init(mg_sampler **s, uint32_t n_max, const mg_sample_opts *o, mg_err *e);
void mg_sampler_free(mg_sampler *s);

/* The distribution the next token is drawn from, over ids 0..n-1 (n <=
 * n_max), into p (n doubles, summing to 1), in this order:
 *   z = logits / temperature (in double); top-k: ids whose logit is below
 *   the k-th largest get probability 0 (k >= n: none); q = softmax(z) over
 *   the others; top-p: sorted by q, the fewest most likely ids whose sum
 *   reaches top_p are kept, with every id as likely as the least likely
 *   kept one; the rest get 0; renormalised.
 * Greedy (or temperature 0): 1 on the argmax, the lowest id among equals.
 * Logits must be finite. */
void mg_sampler_probs(mg_sampler *s, const float *logits, uint32_t n, double *p);
/* Picks a token: the argmax when greedy (no random number is drawn), else
 * u = mg_rng_uniform(r) and the first id (ascending) at which the
 * cumulative probability exceeds u. */
uint32_t mg_sampler_pick(mg_sampler *s, const float *logits, uint32_t n, mg_rng *r);

/* A token drawn from a table of counts (the first tokens of a data set):
 * id i with probability (1 + counts[i]) / (n + sum of counts) (add-one
 * smoothing, as minGPT's image-GPT demo), exactly: one mg_rng_below draw
 * over that many slots, taken in id order. The sum must fit 64 bits. */
uint32_t mg_sample_counts(const uint64_t *counts, uint32_t n, mg_rng *r);
/* That table for a data set: *counts (n entries, allocated here, the
 * caller frees) counts the records of d by their first token; a stream
 * layout is one record when not empty. MG_E_INVAL when d has no records;
 * MG_E_INVAL when a record starts with an id >= n, which *bad_record and
 * *bad_token then name (either may be NULL); MG_E_NOMEM. On error *counts
 * is NULL. */
int mg_sample_counts_first(const mg_tokstream_data *d, uint32_t n, uint64_t **counts, uint64_t *bad_record,
			   uint32_t *bad_token, mg_err *e);

#endif
