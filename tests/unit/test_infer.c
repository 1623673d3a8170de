/* KV-cache inference (lib/infer/infer.c over the CPU backend's infer_*
 * entries, lib/backend/cpu/cpu_infer*.c) against the
 * model's own forward pass (mg_gpt_forward on the cropped context, the
 * minGPT way): logits at every step and greedy tokens, for every attention
 * variant, time-shift, no positional embedding, both GELUs, odd sizes, and
 * past the block size with every slide; bit-identical results across thread
 * counts, batch compositions and chunkings; the kernels against plain
 * references; the errors, and a backend without the entries. */
#include "check.h"

#include <string.h>

#include "backend/cpu/cpu.h"
#include "core/rng.h"
#include "core/threads.h"
#include "infer/infer.h"
#include "model/gpt_internal.h"

/* Logits of the cached engine against the full forward pass: relative to
 * the logits' scale (float sums of a few hundred terms in another order). */
#define LOGIT_TOL 2e-5

static mg_gpt_config config(uint32_t L, uint32_t H, uint32_t C, uint32_t T, uint32_t V, uint32_t attention,
			    uint32_t shift, uint32_t pos_emb, uint32_t gelu)
{
	mg_gpt_config c;

	mg_gpt_config_default(&c);
	c.n_layer = L, c.n_head = H, c.n_embd = C, c.block_size = T, c.vocab_size = V;
	c.attention = attention, c.time_shift = shift, c.pos_emb = pos_emb, c.gelu = gelu;
	return c;
}

/* minGPT's init, then every parameter perturbed so that LayerNorm, biases
 * and time weights are far from their special values and the logits are
 * spread (greedy decoding does not settle into a loop at once). */
static mg_gpt *make_model(const mg_gpt_config *c, uint64_t seed)
{
	mg_gpt *g;
	mg_err e;
	mg_rng r;

	if (mg_gpt_create(&g, c, &e) || mg_gpt_alloc(g, 1, c->block_size, 0, &e)) {
		fprintf(stderr, "model: %s\n", e.msg);
		exit(1);
	}
	mg_gpt_init_weights(g, seed);
	mg_rng_seed(&r, seed + 1);
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		double s = strstr(t->name, "wte") || strstr(t->name, "wpe") ? 1.0 : 0.3;
		for (size_t k = 0; k < t->n; k++)
			g->params[t->off + k] += (float)(s * mg_rng_normal(&r));
	}
	return g;
}

static mg_infer *make_engine(const mg_gpt *g, uint32_t n_seq, uint32_t slide)
{
	mg_infer *inf;
	mg_err e;

	if (mg_infer_init(&inf, g, n_seq, slide, &e)) {
		fprintf(stderr, "engine: %s\n", e.msg);
		exit(1);
	}
	return inf;
}

/* The last row's logits of a full forward pass over ids[0..n). */
static const float *full_logits(mg_gpt *g, const uint32_t *ids, uint32_t n)
{
	mg_err e;

	if (mg_gpt_forward(g, ids, NULL, NULL, 1, n, 0, 0, NULL, &e)) {
		fprintf(stderr, "forward: %s\n", e.msg);
		exit(1);
	}
	return mg_gpt_logits(g) + (size_t)(n - 1) * g->cfg.vocab_size;
}

static uint32_t argmax(const float *x, uint32_t n)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* max |a - b| / max(1, max |b|) */
static double rel_diff(const float *a, const float *b, uint32_t n)
{
	double d = 0.0, s = 1.0;

	for (uint32_t i = 0; i < n; i++) {
		d = fmax(d, fabs((double)a[i] - b[i]));
		s = fmax(s, fabs((double)b[i]));
	}
	return d / s;
}

/* The window rule of infer.h, written again from its comment: the
 * start of the window after each token. */
static uint64_t next_start(uint64_t start, uint64_t m, uint32_t T, uint32_t slide)
{
	return m - start > T ? start + slide : start;
}

/* Teacher forcing: a random sequence of 3T+5 tokens fed one at a time after
 * a prompt of p tokens; at every step the engine's logits equal the full
 * forward pass over its window, whose start follows the rule. */
static void check_forced(const char *tag, const mg_gpt_config *c, uint32_t slide, uint32_t p)
{
	mg_gpt *g = make_model(c, 11);
	mg_infer *inf = make_engine(g, 1, slide);
	uint32_t T = c->block_size, V = c->vocab_size, n = 3 * T + 5;
	uint32_t *ids = malloc(n * sizeof *ids);
	uint64_t start = 0;
	double worst = 0.0;
	mg_rng r;
	mg_err e;

	mg_rng_seed(&r, 99);
	for (uint32_t i = 0; i < n; i++)
		ids[i] = (uint32_t)mg_rng_below(&r, V);
	for (uint32_t m = 1; m <= p; m++)
		start = next_start(start, m, T, slide);
	CHECK(mg_infer_append(inf, 0, ids, p, &e) == MG_OK);
	for (uint32_t m = p; m <= n; m++) {
		const float *lg;
		if (m > p) {
			CHECK(mg_infer_append(inf, 0, ids + m - 1, 1, &e) == MG_OK);
			start = next_start(start, m, T, slide);
		}
		CHECK(mg_infer_logits(inf, 0) == NULL);
		mg_infer_run(inf, &e);
		CHECK_EQ(mg_infer_window_start(inf, 0), start);
		CHECK_EQ(mg_infer_window_len(inf, 0), m - start);
		CHECK_EQ(mg_infer_tokens(inf, 0), m);
		lg = mg_infer_logits(inf, 0);
		CHECK(lg != NULL);
		worst = fmax(worst, rel_diff(lg, full_logits(g, ids + start, (uint32_t)(m - start)), V));
	}
	printf("  %-34s slide %3u prompt %3u: max logit difference %.2e\n", tag, slide, p, worst);
	CHECK(worst <= LOGIT_TOL);
	free(ids);
	mg_infer_free(inf);
	mg_gpt_free(g);
}

/* Greedy generation of 3T tokens after a prompt: the engine, and minGPT's
 * loop (crop the context to the last T tokens, full forward, argmax). */
static void check_greedy(const char *tag, const mg_gpt_config *c)
{
	mg_gpt *g = make_model(c, 24);
	mg_infer *inf = make_engine(g, 1, 1);
	uint32_t T = c->block_size, V = c->vocab_size, p = T / 2 + 1, n = p + 3 * T;
	uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	uint32_t same = 0, distinct = 0;
	mg_rng r;
	mg_err e;

	mg_rng_seed(&r, 7);
	for (uint32_t i = 0; i < p; i++)
		a[i] = b[i] = (uint32_t)mg_rng_below(&r, V);
	mg_infer_append(inf, 0, a, p, &e);
	for (uint32_t m = p; m < n; m++) {
		uint32_t w = m < T ? m : T;
		mg_infer_run(inf, &e);
		a[m] = argmax(mg_infer_logits(inf, 0), V);
		mg_infer_append(inf, 0, a + m, 1, &e);
		b[m] = argmax(full_logits(g, b + m - w, w), V);
	}
	for (uint32_t m = p; m < n; m++)
		same += a[m] == b[m];
	for (uint32_t t = 0; t < V; t++)
		for (uint32_t m = p; m < n; m++)
			if (b[m] == t) {
				distinct++;
				break;
			}
	printf("  %-34s greedy: %u of %u tokens equal (%u distinct)\n", tag, same, n - p, distinct);
	CHECK_EQ(same, n - p);
	CHECK(distinct >= 3); /* the test is not a constant sequence */
	free(a);
	free(b);
	mg_infer_free(inf);
	mg_gpt_free(g);
}

static void check_variants(void)
{
	static const struct {
		const char *tag;
		uint32_t L, H, C, T, V, attention, shift, pos_emb, gelu;
	} v[] = {
		{ "vanilla", 2, 4, 64, 16, 37, MG_ATTN_VANILLA, 0, 1, MG_GELU_TANH },
		{ "time-weighting", 2, 4, 64, 16, 37, MG_ATTN_TIME_WEIGHTING, 0, 1, MG_GELU_TANH },
		{ "circulant", 2, 4, 64, 16, 37, MG_ATTN_CIRCULANT, 0, 1, MG_GELU_TANH },
		{ "vanilla time-shift", 2, 4, 64, 16, 37, MG_ATTN_VANILLA, 1, 1, MG_GELU_TANH },
		{ "time-weighting time-shift no-pos", 2, 4, 64, 16, 37, MG_ATTN_TIME_WEIGHTING, 1, 0, MG_GELU_ERF },
		{ "circulant time-shift no-pos", 2, 4, 64, 16, 37, MG_ATTN_CIRCULANT, 1, 0, MG_GELU_TANH },
		{ "vanilla no-pos erf", 3, 2, 48, 13, 29, MG_ATTN_VANILLA, 0, 0, MG_GELU_ERF },
		{ "odd sizes (hs 5, T 11, C 30)", 1, 6, 30, 11, 70, MG_ATTN_CIRCULANT, 1, 1, MG_GELU_TANH },
		{ "wide heads (hs 72)", 2, 1, 72, 9, 20, MG_ATTN_TIME_WEIGHTING, 0, 1, MG_GELU_TANH },
		{ "vanilla tied embeddings", 2, 4, 64, 16, 37, MG_ATTN_VANILLA, 0, 1, MG_GELU_TANH },
	};

	for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
		mg_gpt_config c = config(v[i].L, v[i].H, v[i].C, v[i].T, v[i].V, v[i].attention, v[i].shift,
					 v[i].pos_emb, v[i].gelu);
		uint32_t T = c.block_size;
		c.tie_embeddings = strstr(v[i].tag, "tied") != NULL;
		check_forced(v[i].tag, &c, 1, 1);
		check_forced(v[i].tag, &c, 1, 2 * T + 3); /* a prompt longer than the block */
		check_forced(v[i].tag, &c, T / 2, 3);
		check_forced(v[i].tag, &c, T, 1);
		check_greedy(v[i].tag, &c);
	}
}

/* Several sequences in one engine, with different prompt lengths, chunked
 * (more rows than a chunk holds), with 1 and 2 threads: the logits of each
 * sequence are bit-identical to those of a lone sequence. */
static void check_batches(void)
{
	mg_gpt_config c = config(2, 4, 64, 40, 31, MG_ATTN_CIRCULANT, 1, 1, MG_GELU_TANH);
	mg_gpt *g = make_model(&c, 5);
	uint32_t S = 9, V = c.vocab_size, steps = 60, *ids[9], len[9];
	float *ref = malloc((size_t)S * (steps + 1) * V * sizeof *ref);
	mg_rng r;
	mg_err e;
	int bad = 0;

	mg_rng_seed(&r, 3);
	for (uint32_t s = 0; s < S; s++) {
		len[s] = 1 + (uint32_t)mg_rng_below(&r, 80); /* some longer than the block */
		ids[s] = malloc((len[s] + steps) * sizeof *ids[s]);
		for (uint32_t i = 0; i < len[s] + steps; i++)
			ids[s][i] = (uint32_t)mg_rng_below(&r, V);
	}
	/* reference: each sequence alone, one thread */
	mg_threads_set(1);
	for (uint32_t s = 0; s < S; s++) {
		mg_infer *inf = make_engine(g, 1, 1);
		mg_infer_append(inf, 0, ids[s], len[s], &e);
		for (uint32_t k = 0; k <= steps; k++) {
			mg_infer_run(inf, &e);
			memcpy(ref + ((size_t)s * (steps + 1) + k) * V, mg_infer_logits(inf, 0), V * sizeof *ref);
			if (k < steps)
				mg_infer_append(inf, 0, ids[s] + len[s] + k, 1, &e);
		}
		mg_infer_free(inf);
	}
	/* together, with 1 and 2 threads, and a slot left unused */
	for (int nt = 1; nt <= 2; nt++) {
		mg_infer *inf;
		mg_infer_stats st;
		mg_threads_set(nt);
		inf = make_engine(g, S + 1, 1);
		for (uint32_t s = 0; s < S; s++)
			mg_infer_append(inf, s, ids[s], len[s], &e);
		for (uint32_t k = 0; k <= steps; k++) {
			mg_infer_run(inf, &e);
			CHECK(mg_infer_logits(inf, S) == NULL);
			for (uint32_t s = 0; s < S; s++) {
				const float *lg = mg_infer_logits(inf, s);
				if (!lg || memcmp(lg, ref + ((size_t)s * (steps + 1) + k) * V, V * sizeof *lg))
					bad++;
				if (k < steps)
					mg_infer_append(inf, s, ids[s] + len[s] + k, 1, &e);
			}
		}
		mg_infer_stats_get(inf, &st);
		CHECK(st.recomputes > 0);
		CHECK_EQ(st.runs, steps + 1);
		printf("  batch of %u, %d thread(s): %llu rows, %llu recomputes\n", S, nt, (unsigned long long)st.rows,
		       (unsigned long long)st.recomputes);
		mg_infer_free(inf);
	}
	CHECK_EQ(bad, 0);
	/* reset empties a sequence: it then runs as a fresh one */
	{
		mg_infer *inf = make_engine(g, 2, 1);
		mg_infer_append(inf, 1, ids[1], len[1], &e);
		mg_infer_run(inf, &e);
		mg_infer_reset(inf, 1);
		CHECK(mg_infer_logits(inf, 1) == NULL);
		CHECK_EQ(mg_infer_tokens(inf, 1), 0);
		mg_infer_append(inf, 1, ids[0], len[0], &e);
		mg_infer_run(inf, &e);
		CHECK(mg_infer_logits(inf, 0) == NULL);
		CHECK(!memcmp(mg_infer_logits(inf, 1), ref, V * sizeof *ref));
		mg_infer_free(inf);
	}
	mg_threads_set(0);
	for (uint32_t s = 0; s < S; s++)
		free(ids[s]);
	free(ref);
	mg_gpt_free(g);
}

/* The packed Linear layer (the table's infer_matmul) against a
 * double-precision reference, and bit-identical rows whatever the row
 * count, offset and thread count. */
static void check_matmul(void)
{
	static const uint32_t shapes[][2] = { { 16, 8 }, { 65, 512 }, { 37, 30 }, { 3, 5 }, { 200, 129 } };
	const mg_backend *be = mg_backend_cpu();

	for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
		uint32_t OC = shapes[si][0], IC = shapes[si][1], R = 23;
		float *w = malloc((size_t)OC * IC * 4), *b = malloc(OC * 4), *x = malloc((size_t)R * IC * 4);
		float *mem = be->alloc(be->infer_pack_bytes(MG_DTYPE_F32, OC, IC));
		float *all = malloc((size_t)R * OC * 4), *one = malloc(OC * 4);
		float *sum = malloc((size_t)R * OC * 4), *res = malloc((size_t)R * OC * 4);
		const float *bias = si % 2 ? NULL : b;
		double worst = 0.0;
		mg_rng r;
		int bad = 0;

		mg_rng_seed(&r, si);
		for (size_t i = 0; i < (size_t)OC * IC; i++)
			w[i] = (float)mg_rng_normal(&r);
		for (size_t i = 0; i < OC; i++)
			b[i] = (float)mg_rng_normal(&r);
		for (size_t i = 0; i < (size_t)R * IC; i++)
			x[i] = (float)mg_rng_normal(&r);
		be->infer_pack(mem, w, MG_DTYPE_F32, OC, IC);
		for (int nt = 1; nt <= 2; nt++) {
			mg_threads_set(nt);
			be->infer_matmul(all, x, mem, MG_DTYPE_F32, bias, R, IC, OC, 0);
			for (uint32_t i = 0; i < R; i++) {
				for (uint32_t o = 0; o < OC; o++) {
					double s = si % 2 ? 0.0 : b[o], a = 0.0;
					for (uint32_t k = 0; k < IC; k++) {
						s += (double)x[(size_t)i * IC + k] * w[(size_t)o * IC + k];
						a += fabs((double)x[(size_t)i * IC + k] * w[(size_t)o * IC + k]);
					}
					worst = fmax(worst, fabs(all[(size_t)i * OC + o] - s) / (a + 1.0));
				}
				be->infer_matmul(one, x + (size_t)i * IC, mem, MG_DTYPE_F32, bias, 1, IC, OC, 0);
				bad += memcmp(one, all + (size_t)i * OC, OC * 4) != 0;
			}
			/* rows 5..16 alone: the same bits as inside the whole */
			be->infer_matmul(all, x + 5 * (size_t)IC, mem, MG_DTYPE_F32, bias, 12, IC, OC, 0);
			be->infer_matmul(one, x + 9 * (size_t)IC, mem, MG_DTYPE_F32, bias, 1, IC, OC, 0);
			bad += memcmp(one, all + 4 * (size_t)OC, OC * 4) != 0;
			/* add: out += the product, as adding the plain product afterwards */
			for (size_t k = 0; k < (size_t)12 * OC; k++)
				sum[k] = res[k] = (float)(k % 7) - 3.0f;
			be->infer_matmul(sum, x + 5 * (size_t)IC, mem, MG_DTYPE_F32, bias, 12, IC, OC, 1);
			for (size_t k = 0; k < (size_t)12 * OC; k++)
				bad += sum[k] != res[k] + all[k];
		}
		printf("  matmul %ux%u: max error %.2e of the sum of |terms|\n", OC, IC, worst);
		CHECK(worst < 1e-6);
		CHECK_EQ(bad, 0);
		free(w), free(b), free(x), free(all), free(one), free(sum), free(res);
		be->free(mem);
	}
	mg_threads_set(0);
}

/* The cached attention (the table's infer_attention), one row at a time,
 * against the reference full-sequence attention; then every row stored in
 * one call and every third attended, with the same bits. */
static void check_attention(void)
{
	const mg_backend *be = mg_backend_cpu();

	for (uint32_t variant = 0; variant <= MG_ATTN_CIRCULANT; variant++) {
		uint32_t H = 3, hs = 12, C = H * hs, T = 21, zero = 0, seq[21], pos[21], list[7];
		float *qkv = malloc((size_t)T * 3 * C * 4), *out = malloc((size_t)T * C * 4), *probs = malloc((size_t)H * T * T * 4);
		float *tw = malloc((size_t)H * T * T * 4), *tw_w = malloc((size_t)H * T * 4), *tw_b = malloc((size_t)H * T * 4);
		float *y = malloc((size_t)T * C * 4), *y3 = malloc((size_t)7 * C * 4);
		mg_backend_attn a = { 1, T, C, H, T, variant, tw, tw_w, tw_b, { 0.0f, 0 } };
		mg_backend_attn ac = { 0, 0, C, H, T, variant, tw, tw_w, tw_b, { 0.0f, 0 } };
		float *kv = be->alloc(be->infer_kv_floats(1, &ac) * 4), *kv2 = be->alloc(be->infer_kv_floats(2, &ac) * 4);
		uint64_t bytes;
		mg_backend_ctx *ctx = be->ctx_create(&ac, &bytes);
		double worst = 0.0;
		mg_rng r;
		int bad = 0;

		mg_rng_seed(&r, 40 + variant);
		for (size_t i = 0; i < (size_t)T * 3 * C; i++)
			qkv[i] = (float)mg_rng_normal(&r);
		for (size_t i = 0; i < (size_t)H * T * T; i++)
			tw[i] = (float)(1.0 + 0.5 * mg_rng_normal(&r));
		for (size_t i = 0; i < (size_t)H * T; i++) {
			tw_w[i] = (float)(1.0 + 0.5 * mg_rng_normal(&r));
			tw_b[i] = (float)(1.0 + 0.5 * mg_rng_normal(&r));
		}
		mg_cpu_attention_forward_ref(out, probs, qkv, &a);
		for (uint32_t t = 0; t < T; t++) {
			be->infer_attention(ctx, y + (size_t)t * C, kv, qkv + (size_t)t * 3 * C, &zero, &t, 1, NULL, 1, &ac);
			worst = fmax(worst, rel_diff(y + (size_t)t * C, out + (size_t)t * C, C));
		}
		/* all rows as sequence 1 of 2 in one call, rows 0, 3, ... attended */
		for (uint32_t t = 0; t < T; t++)
			seq[t] = 1, pos[t] = t;
		for (uint32_t k = 0; k < 7; k++)
			list[k] = 3 * k;
		be->infer_attention(ctx, y3, kv2, qkv, seq, pos, T, list, 7, &ac);
		for (uint32_t k = 0; k < 7; k++)
			bad += memcmp(y3 + (size_t)k * C, y + (size_t)list[k] * C, C * 4) != 0;
		printf("  attention %s: max difference %.2e\n", mg_gpt_attention_name(variant), worst);
		CHECK(worst < 1e-5);
		CHECK_EQ(bad, 0);
		free(qkv), free(out), free(probs), free(tw), free(tw_w), free(tw_b), free(y), free(y3);
		be->free(kv), be->free(kv2);
		be->ctx_free(ctx);
	}
}

/* A backend without the inference entries (the CPU table with them NULL):
 * the engine refuses it by name. */
static void check_unsupported(void)
{
	mg_gpt_config c = config(1, 2, 16, 8, 10, MG_ATTN_VANILLA, 0, 1, MG_GELU_TANH);
	mg_backend bare = *mg_backend_cpu();
	mg_gpt *g;
	mg_infer *inf;
	mg_err e;

	bare.name = "bare";
	bare.infer_pack_bytes = NULL;
	bare.infer_pack = NULL;
	bare.infer_matmul = NULL;
	bare.infer_embed = NULL;
	bare.infer_shift = NULL;
	bare.infer_gather = NULL;
	bare.infer_kv_floats = NULL;
	bare.infer_attention = NULL;
	CHECK(mg_gpt_create_on(&g, &c, &bare, &e) == MG_OK);
	CHECK(mg_gpt_init_weights(g, 1) == MG_OK);
	CHECK(mg_infer_init(&inf, g, 1, 1, &e) == MG_E_UNSUPPORTED);
	CHECK(!strcmp(e.msg, "sampling on the bare backend is not available yet"));
	CHECK(inf == NULL);
	/* one entry missing is enough */
	bare = *mg_backend_cpu();
	bare.name = "half";
	bare.infer_attention = NULL;
	CHECK(mg_infer_init(&inf, g, 1, 1, &e) == MG_E_UNSUPPORTED);
	CHECK(!strcmp(e.msg, "sampling on the half backend is not available yet"));
	mg_gpt_free(g);
}

static void check_errors(void)
{
	mg_gpt_config c = config(1, 2, 16, 8, 10, MG_ATTN_VANILLA, 0, 1, MG_GELU_TANH);
	mg_gpt *g = make_model(&c, 1);
	mg_infer *inf;
	uint32_t ids[3] = { 1, 10, 2 };
	mg_err e;

	CHECK(mg_infer_init(&inf, g, 1, 0, &e) == MG_E_INVAL);
	CHECK(!strcmp(e.msg, "slide 0 is not in 1..block_size 8"));
	CHECK(mg_infer_init(&inf, g, 1, 9, &e) == MG_E_INVAL);
	CHECK(mg_infer_init(&inf, g, 0, 1, &e) == MG_E_INVAL);
	inf = make_engine(g, 1, 8);
	CHECK(mg_infer_append(inf, 0, ids, 3, &e) == MG_E_INVAL);
	CHECK(!strcmp(e.msg, "token 10 is not below vocab_size 10"));
	CHECK_EQ(mg_infer_tokens(inf, 0), 0); /* nothing appended */
	CHECK(mg_infer_run(inf, &e) == MG_OK);
	CHECK(mg_infer_logits(inf, 0) == NULL);
	CHECK(mg_infer_config(inf)->vocab_size == 10);
	CHECK(mg_infer_bytes(inf) > 0);
	mg_infer_free(inf);
	mg_gpt_free(g);
}

int main(void)
{
	printf("kernels\n");
	check_matmul();
	check_attention();
	printf("cached engine against full recompute\n");
	check_variants();
	printf("batches, chunks and threads\n");
	check_batches();
	check_errors();
	check_unsupported();
	CHECK_DONE();
}
