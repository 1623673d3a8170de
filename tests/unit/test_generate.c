/* Batched generation (lib/infer/generate.c) against a plain loop over one
 * sequence of mg_infer and mg_sampler: greedy and seeded, past the block
 * with slides, any batch size, prompts and lengths that differ per
 * sequence, a first token from a table, the token callback and the count;
 * the seeding of samples; the first-token table of a data set
 * (mg_sample_counts_first), exact counts. */
#include "check.h"

#include <string.h>

#include "core/rng.h"
#include "core/threads.h"
#include "infer/generate.h"
#include "infer/infer.h"
#include "infer/sample.h"
#include "model/gpt.h"

enum { T = 8, V = 23 };

static void die(const char *what, const mg_err *e)
{
	fprintf(stderr, "%s: %s\n", what, e->msg);
	exit(1);
}

static mg_gpt *make_model(uint64_t seed)
{
	mg_gpt_config c;
	mg_gpt *g;
	mg_err e;

	mg_gpt_config_default(&c);
	c.n_layer = 2, c.n_head = 2, c.n_embd = 16, c.block_size = T, c.vocab_size = V;
	if (mg_gpt_create(&g, &c, &e))
		die("model", &e);
	mg_gpt_init_weights(g, seed);
	return g;
}

static mg_infer *make_engine(const mg_gpt *g, uint32_t n_seq, uint32_t slide)
{
	mg_infer *inf;
	mg_err e;

	if (mg_infer_init(&inf, g, n_seq, slide, &e))
		die("engine", &e);
	return inf;
}

static mg_sampler *make_sampler(uint32_t n, int greedy, double t, uint32_t k)
{
	mg_sample_opts o;
	mg_sampler *s;
	mg_err e;

	mg_sample_opts_default(&o);
	o.greedy = greedy, o.temperature = t, o.top_k = k;
	if (mg_sampler_init(&s, n, &o, &e))
		die("sampler", &e);
	return s;
}

/* Sample i of a run, one sequence alone, the straightforward way: its
 * generator seeded from mg_hash64(seed) + i, then evaluate, pick, append,
 * the last token not appended; with counts the first token comes from them. */
static void reference(const mg_gpt *g, uint32_t slide, mg_sampler *smp, uint32_t nv, const uint32_t *prompt,
		      uint32_t np, uint64_t seed, uint64_t i, uint64_t steps, const uint64_t *counts, uint32_t *out)
{
	mg_infer *inf = make_engine(g, 1, slide);
	mg_rng r;
	mg_err e;

	mg_rng_seed(&r, mg_hash64(seed) + i);
	CHECK_EQ(mg_infer_append(inf, 0, prompt, np, &e), MG_OK);
	for (uint64_t t = 0; t < steps; t++) {
		if (t == 0 && counts) {
			out[t] = mg_sample_counts(counts, nv, &r);
		} else {
			CHECK_EQ(mg_infer_run(inf, &e), MG_OK);
			out[t] = mg_sampler_pick(smp, mg_infer_logits(inf, 0), nv, &r);
		}
		if (t + 1 < steps)
			CHECK_EQ(mg_infer_append(inf, 0, &out[t], 1, &e), MG_OK);
	}
	mg_infer_free(inf);
}

/* What the callback saw: every token in order. */
typedef struct seen {
	uint32_t n;
	uint32_t s[4096], id[4096];
	uint64_t t[4096];
} seen;

static void on_token(void *arg, uint32_t s, uint64_t t, uint32_t id)
{
	seen *w = arg;

	if (w->n < 4096) {
		w->s[w->n] = s, w->t[w->n] = t, w->id[w->n] = id;
		w->n++;
	}
}

/* n_samples samples of a prompt (or of prompt i's own length and steps when
 * vary is set), generated n_seq at a time, against the reference. */
static void check_batched(const char *tag, uint32_t n_seq, uint32_t slide, int greedy, double temp, uint32_t k,
			  uint32_t nv, const uint64_t *counts, int vary, uint32_t n_samples)
{
	static const uint32_t text[12] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8 };
	mg_gpt *g = make_model(5);
	mg_infer *inf = make_engine(g, n_seq, slide);
	mg_sampler *smp = make_sampler(nv, greedy, temp, k);
	mg_generate *gen;
	uint64_t seed = 1337, total = 0;
	uint32_t **out = malloc(n_seq * sizeof *out), want[64];
	seen *w = calloc(1, sizeof *w);
	int bad = 0;
	mg_err e;

	CHECK_EQ(mg_generate_init(&gen, inf, smp, n_seq, nv, NULL, &e), MG_OK);
	mg_generate_set_first(gen, counts);
	for (uint32_t i = 0; i < n_seq; i++)
		out[i] = calloc(64, sizeof **out);
	for (uint32_t first = 0; first < n_samples; first += n_seq) {
		uint32_t n = n_samples - first < n_seq ? n_samples - first : n_seq;
		uint32_t np[64];
		uint64_t steps[64];
		w->n = 0;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t j = first + i;
			np[i] = vary ? 1 + j % 12 : counts ? 0 : 5; /* --start-data has no prompt */
			steps[i] = vary ? (j * 7) % 30 : 3 * T + 2;
			total += steps[i];
			CHECK_EQ(mg_generate_start(gen, i, text, np[i], seed, j, steps[i], out[i], &e), MG_OK);
		}
		CHECK_EQ(mg_generate_run(gen, n, on_token, w, &e), MG_OK);
		/* the callback: step by step, sequences in order within a step */
		for (uint32_t m = 0, t = 0; t < 64; t++)
			for (uint32_t i = 0; i < n; i++)
				if (t < steps[i]) {
					bad |= m >= w->n || w->s[m] != i || w->t[m] != t || w->id[m] != out[i][t];
					m++;
				}
		for (uint32_t i = 0; i < n; i++) {
			reference(g, slide, smp, nv, text, np[i], seed, first + i, steps[i], counts, want);
			if (memcmp(out[i], want, steps[i] * sizeof *want)) {
				fprintf(stderr, "%s: sample %u differs from the reference\n", tag, first + i);
				check_failures++;
			}
		}
	}
	if (bad) {
		fprintf(stderr, "%s: the callback's tokens are not the stored ones in order\n", tag);
		check_failures++;
	}
	CHECK_EQ(mg_generate_count(gen), total);
	for (uint32_t i = 0; i < n_seq; i++)
		free(out[i]);
	free(out), free(w);
	mg_generate_free(gen);
	mg_sampler_free(smp);
	mg_infer_free(inf);
	mg_gpt_free(g);
}

/* The same samples whatever the batch size and thread count; a NULL out
 * leaves the callback as the only reader. */
static void check_batch_invariance(void)
{
	mg_gpt *g = make_model(9);
	uint32_t got[3][7][20];
	static const uint32_t batches[3] = { 1, 3, 7 };
	static const uint32_t prompt[2] = { 7, 2 };
	mg_err e;

	for (int b = 0; b < 3; b++) {
		mg_infer *inf = make_engine(g, batches[b], 1);
		mg_sampler *smp = make_sampler(V, 0, 1.0, 0);
		mg_generate *gen;
		mg_threads_set(b == 2 ? 2 : 1);
		CHECK_EQ(mg_generate_init(&gen, inf, smp, batches[b], V, NULL, &e), MG_OK);
		for (uint32_t first = 0; first < 7; first += batches[b]) {
			uint32_t n = 7 - first < batches[b] ? 7 - first : batches[b];
			for (uint32_t i = 0; i < n; i++)
				CHECK_EQ(mg_generate_start(gen, i, prompt, 2, 42, first + i, 20, got[b][first + i], &e), MG_OK);
			CHECK_EQ(mg_generate_run(gen, n, NULL, NULL, &e), MG_OK);
		}
		CHECK_EQ(mg_generate_count(gen), 7 * 20);
		mg_generate_free(gen);
		mg_sampler_free(smp);
		mg_infer_free(inf);
	}
	mg_threads_set(1);
	CHECK(!memcmp(got[0], got[1], sizeof got[0]));
	CHECK(!memcmp(got[0], got[2], sizeof got[0]));
	/* samples differ from one another (a seed per sample) */
	CHECK(memcmp(got[0][0], got[0][1], sizeof got[0][0]));
	{
		/* out NULL: nothing stored, the callback sees the same tokens */
		mg_infer *inf = make_engine(g, 1, 1);
		mg_sampler *smp = make_sampler(V, 0, 1.0, 0);
		mg_generate *gen;
		seen *w = calloc(1, sizeof *w);
		CHECK_EQ(mg_generate_init(&gen, inf, smp, 1, V, NULL, &e), MG_OK);
		CHECK_EQ(mg_generate_start(gen, 0, prompt, 2, 42, 4, 20, NULL, &e), MG_OK);
		CHECK_EQ(mg_generate_run(gen, 1, on_token, w, &e), MG_OK);
		CHECK_EQ(w->n, 20);
		CHECK(!memcmp(w->id, got[0][4], sizeof got[0][4]));
		free(w);
		mg_generate_free(gen);
		mg_sampler_free(smp);
		mg_infer_free(inf);
	}
	mg_gpt_free(g);
}

static void check_seed(void)
{
	mg_rng a, b;

	mg_generate_seed(&a, 1337, 5);
	mg_rng_seed(&b, mg_hash64(1337) + 5);
	CHECK_EQ(mg_rng_u64(&a), mg_rng_u64(&b));
	mg_generate_seed(&a, 1337, 5);
	mg_generate_seed(&b, 1337, 6);
	CHECK(mg_rng_u64(&a) != mg_rng_u64(&b));
	mg_generate_seed(&a, 1337, 0);
	mg_generate_seed(&b, 1338, 0);
	CHECK(mg_rng_u64(&a) != mg_rng_u64(&b));
}

static void check_init_errors(void)
{
	mg_gpt *g = make_model(1);
	mg_infer *inf = make_engine(g, 2, 1);
	mg_sampler *smp = make_sampler(V + 1, 1, 1.0, 0);
	mg_generate *gen = (mg_generate *)1;
	mg_err e;

	CHECK_EQ(mg_generate_init(&gen, inf, smp, 2, V + 1, NULL, &e), MG_E_INVAL);
	CHECK(gen == NULL);
	CHECK(!strcmp(e.msg, "24 ids to generate, not in 1..23 (vocab_size)"));
	CHECK_EQ(mg_generate_init(&gen, inf, smp, 2, 0, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_generate_init(&gen, inf, smp, 0, V, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_generate_init(&gen, inf, smp, 2, V, NULL, &e), MG_OK);
	/* a prompt id over the model's vocabulary: the engine's error */
	{
		uint32_t bad = V;
		CHECK_EQ(mg_generate_start(gen, 1, &bad, 1, 1, 0, 4, NULL, &e), MG_E_INVAL);
	}
	mg_generate_free(gen);
	mg_generate_free(NULL);
	mg_sampler_free(smp);
	mg_infer_free(inf);
	mg_gpt_free(g);
}

/* --- the first-token table --- */

static void check_counts_first(void)
{
	uint32_t ids[10] = { 4, 1, 1, 0, 4, 2, 4, 3, 3, 1 };
	uint64_t start[6] = { 0, 2, 3, 6, 8, 10 }, *c, r = 99;
	uint32_t tok = 99;
	mg_tokstream_data d;
	mg_err e;

	memset(&d, 0, sizeof d);
	d.h.layout = MG_LAYOUT_EXAMPLES;
	d.ids = ids, d.n = 10, d.start = start, d.n_records = 5;
	/* records start with 4, 1, 0, 4, 3 */
	CHECK_EQ(mg_sample_counts_first(&d, 6, &c, &r, &tok, &e), MG_OK);
	CHECK_EQ(c[0], 1); CHECK_EQ(c[1], 1); CHECK_EQ(c[2], 0); CHECK_EQ(c[3], 1); CHECK_EQ(c[4], 2); CHECK_EQ(c[5], 0);
	CHECK_EQ(r, 99);
	free(c);
	d.h.layout = MG_LAYOUT_DOCUMENTS;
	CHECK_EQ(mg_sample_counts_first(&d, 5, &c, NULL, NULL, &e), MG_OK);
	CHECK_EQ(c[4], 2);
	free(c);
	/* a stream is one record */
	d.h.layout = MG_LAYOUT_STREAM;
	CHECK_EQ(mg_sample_counts_first(&d, 5, &c, NULL, NULL, &e), MG_OK);
	CHECK_EQ(c[4], 1); CHECK_EQ(c[0] + c[1] + c[2] + c[3], 0);
	free(c);
	/* record 3 starts with 4, not below 4 */
	d.h.layout = MG_LAYOUT_EXAMPLES;
	start[3] = 4;
	c = (uint64_t *)1;
	CHECK_EQ(mg_sample_counts_first(&d, 4, &c, &r, &tok, &e), MG_E_INVAL);
	CHECK(c == NULL);
	CHECK_EQ(r, 0); CHECK_EQ(tok, 4);
	CHECK(!strcmp(e.msg, "record 0 starts with token 4, not below 4"));
	ids[0] = 0;
	CHECK_EQ(mg_sample_counts_first(&d, 4, &c, &r, &tok, &e), MG_E_INVAL);
	CHECK_EQ(r, 3); CHECK_EQ(tok, 4);
	/* nothing to count */
	r = 99;
	d.n_records = 0;
	CHECK_EQ(mg_sample_counts_first(&d, 4, &c, &r, &tok, &e), MG_E_INVAL);
	CHECK(!strcmp(e.msg, "no records to take first tokens from"));
	CHECK_EQ(r, 99);
	d.h.layout = MG_LAYOUT_STREAM;
	d.n = 0;
	CHECK_EQ(mg_sample_counts_first(&d, 4, &c, NULL, NULL, &e), MG_E_INVAL);
}

int main(void)
{
	static const uint64_t counts[V] = { [3] = 5, [7] = 100, [22] = 1 };

	mg_threads_set(1);
	check_seed();
	check_init_errors();
	/* one prompt, past the block (3T+2 new tokens after 5): every slide */
	check_batched("greedy", 3, 1, 1, 1.0, 0, V, NULL, 0, 7);
	check_batched("greedy slide 3", 4, 3, 1, 1.0, 0, V, NULL, 0, 6);
	check_batched("seeded", 3, 1, 0, 1.0, 0, V, NULL, 0, 8);
	check_batched("seeded sharp, top-k", 2, T, 0, 0.05, 4, V, NULL, 0, 5);
	check_batched("seeded, fewer ids than the model", 5, 2, 0, 1.0, 0, 17, NULL, 0, 5);
	check_batched("first from a table", 3, 1, 0, 1.0, 0, V, counts, 0, 7);
	check_batched("greedy, first from a table", 2, 1, 1, 1.0, 0, V, counts, 0, 3);
	/* prompts and lengths per sequence (0 steps included), as --complete */
	check_batched("varied", 4, 1, 0, 1.0, 0, V, NULL, 1, 13);
	check_batched("varied greedy", 1, 2, 1, 1.0, 0, V, NULL, 1, 5);
	check_batched("varied, first from a table", 3, 1, 0, 1.0, 0, V, counts, 1, 8);
	check_batch_invariance();
	check_counts_first();
	CHECK_DONE();
}
