/* The batched decode loop (generate.h): every step evaluates all sequences
 * together in one mg_infer_run, then each picks its token in sequence
 * order from its own generator, so what a sequence gets depends on its
 * prompt, seed and index only. */
#include "infer/generate.h"

#include <assert.h>
#include <stdlib.h>

#include "core/clock.h"

/* What sequence s was asked for at its start. */
typedef struct gen_seq {
	mg_rng rng;
	uint64_t steps;
	uint32_t *out;
} gen_seq;

struct mg_generate {
	mg_infer *inf;
	mg_sampler *smp;
	mg_autothreads *at;
	const uint64_t *first; /* table of first tokens, or NULL */
	uint32_t n_seq, n_vocab;
	uint64_t count;
	gen_seq *seq; /* n_seq */
};

void mg_generate_seed(mg_rng *r, uint64_t seed, uint64_t i) { mg_rng_seed(r, mg_hash64(seed) + i); }

int mg_generate_init(mg_generate **out, mg_infer *inf, mg_sampler *smp, uint32_t n_seq, uint32_t n_vocab,
		     mg_autothreads *at, mg_err *e)
{
	mg_generate *g;
	uint32_t V = mg_infer_config(inf)->vocab_size;

	*out = NULL;
	if (n_seq < 1)
		return mg_err_set(e, MG_E_INVAL, "a generator needs at least one sequence");
	if (n_vocab < 1 || n_vocab > V)
		return mg_err_set(e, MG_E_INVAL, "%u ids to generate, not in 1..%u (vocab_size)", n_vocab, V);
	g = calloc(1, sizeof *g);
	if (!g || !(g->seq = calloc(n_seq, sizeof *g->seq))) {
		free(g);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	g->inf = inf;
	g->smp = smp;
	g->at = at;
	g->n_seq = n_seq;
	g->n_vocab = n_vocab;
	*out = g;
	return MG_OK;
}

void mg_generate_free(mg_generate *g)
{
	if (!g)
		return;
	free(g->seq);
	free(g);
}

void mg_generate_set_first(mg_generate *g, const uint64_t *counts) { g->first = counts; }

uint64_t mg_generate_count(const mg_generate *g) { return g->count; }

int mg_generate_start(mg_generate *g, uint32_t s, const uint32_t *prompt, size_t n, uint64_t seed, uint64_t i,
		      uint64_t steps, uint32_t *out, mg_err *e)
{
	gen_seq *q = &g->seq[s];

	assert(s < g->n_seq);
	mg_infer_reset(g->inf, s);
	mg_generate_seed(&q->rng, seed, i);
	q->steps = steps;
	q->out = out;
	return mg_infer_append(g->inf, s, prompt, n, e);
}

/* Evaluates what the sequences were given; with a thread chooser, times it
 * (the engine's results do not depend on the thread count). */
static int evaluate(mg_generate *g, mg_err *e)
{
	mg_infer_stats a, b;
	double t = mg_clock_now();
	int rc;

	mg_infer_stats_get(g->inf, &a);
	if ((rc = mg_infer_run(g->inf, e)))
		return rc;
	if (g->at) {
		mg_infer_stats_get(g->inf, &b);
		mg_autothreads_after(g->at, mg_clock_now() - t, b.rows - a.rows);
	}
	return MG_OK;
}

int mg_generate_run(mg_generate *g, uint32_t n, mg_generate_token_fn on_token, void *arg, mg_err *e)
{
	uint64_t most = 0;
	int rc;

	assert(n <= g->n_seq);
	for (uint32_t i = 0; i < n; i++)
		most = g->seq[i].steps > most ? g->seq[i].steps : most;
	for (uint64_t t = 0; t < most; t++) {
		int from_table = t == 0 && g->first;
		if (!from_table && (rc = evaluate(g, e)))
			return rc;
		for (uint32_t i = 0; i < n; i++) {
			gen_seq *q = &g->seq[i];
			uint32_t id;
			if (t >= q->steps)
				continue;
			id = from_table ? mg_sample_counts(g->first, g->n_vocab, &q->rng)
					: mg_sampler_pick(g->smp, mg_infer_logits(g->inf, i), g->n_vocab, &q->rng);
			if (q->out)
				q->out[t] = id;
			g->count++;
			if (t + 1 < q->steps && (rc = mg_infer_append(g->inf, i, &id, 1, e)))
				return rc;
			if (on_token)
				on_token(arg, i, t, id);
		}
	}
	return MG_OK;
}
