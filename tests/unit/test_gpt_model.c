/* The whole GPT model on the CPU backend: gradients of every parameter
 * tensor against finite differences for every variant (with masks, dropout,
 * time-shift, no positional embedding), micro-batch accumulation, shapes
 * below the allocated one, determinism, the errors of forward, clipping and
 * AdamW's weight-decay selection. */
#include "check.h"
#include "gradcheck.h"

#include "core/threads.h"
#include "model/gpt_internal.h"

typedef struct {
	uint32_t B, T;
	uint32_t *ids, *tg;
	uint8_t *mask;
} batch;

static batch make_batch(uint32_t B, uint32_t T, uint32_t V, int masked, uint64_t seed)
{
	batch b = { B, T, malloc((size_t)B * T * 4), malloc((size_t)B * T * 4), masked ? malloc((size_t)B * T) : NULL };
	mg_rng r;

	mg_rng_seed(&r, seed);
	for (size_t i = 0; i < (size_t)B * T; i++) {
		b.ids[i] = (uint32_t)mg_rng_below(&r, V);
		b.tg[i] = (uint32_t)mg_rng_below(&r, V);
		if (masked)
			b.mask[i] = (uint8_t)(mg_rng_below(&r, 3) != 0);
	}
	if (masked)
		b.mask[0] = 1;
	return b;
}

static void free_batch(batch *b) { free(b->ids), free(b->tg), free(b->mask); }

/* A model whose parameters are all perturbed away from minGPT's init (so
 * LayerNorm, biases and time weights are not at special values and every
 * gradient is sizeable). */
static mg_gpt *make_model(const mg_gpt_config *c, uint32_t B, uint32_t T)
{
	mg_gpt *g;
	mg_err e;
	mg_rng r;

	if (mg_gpt_create(&g, c, &e) || mg_gpt_alloc(g, B, T, MG_GPT_ALLOC_TRAIN, &e)) {
		fprintf(stderr, "model: %s\n", e.msg);
		exit(1);
	}
	mg_gpt_init_weights(g, 42);
	mg_rng_seed(&r, 43);
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		for (size_t k = 0; k < t->n; k++)
			g->params[t->off + k] += (float)(0.25 * mg_rng_normal(&r));
	}
	return g;
}

static double loss_of(mg_gpt *g, const batch *b, uint32_t flags)
{
	mg_gpt_loss l;
	mg_err e;

	if (mg_gpt_forward(g, b->ids, b->tg, b->mask, b->B, b->T, flags, 77, &l, &e)) {
		fprintf(stderr, "forward: %s\n", e.msg);
		exit(1);
	}
	return l.mean;
}

/* Directional derivatives of the loss along random directions restricted to
 * each tensor, by a fourth-order central difference in float, against
 * gradient . direction. The step is relative to the tensor's scale. */
static void check_model_grads(const mg_gpt_config *c, const char *tag, int masked, uint32_t flags, uint32_t T)
{
	uint32_t B = 2;
	mg_gpt *g = make_model(c, B, c->block_size);
	batch b = make_batch(B, T, c->vocab_size, masked, 5);
	double worst = 0.0;
	mg_rng r;

	mg_rng_seed(&r, 6);
	loss_of(g, &b, flags);
	mg_gpt_zero_grad(g);
	mg_gpt_backward(g, 1.0f);
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		float *p = g->params + t->off, *saved = gc_copy(p, t->n);
		double *u = malloc(t->n * sizeof *u), gu = 0.0, gnorm = 0.0, f[4], h = 3e-3, fd, err;
		static const double steps[4] = { 1, -1, 2, -2 };

		for (size_t k = 0; k < t->n; k++) {
			u[k] = mg_rng_normal(&r);
			gu += g->grads[t->off + k] * u[k];
			gnorm += (double)g->grads[t->off + k] * g->grads[t->off + k];
		}
		for (int s = 0; s < 4; s++) {
			for (size_t k = 0; k < t->n; k++)
				p[k] = (float)(saved[k] + steps[s] * h * u[k]);
			f[s] = loss_of(g, &b, flags);
		}
		memcpy(p, saved, t->n * sizeof *p);
		fd = (8.0 * (f[0] - f[1]) - (f[2] - f[3])) / (12.0 * h);
		/* relative to the gradient's norm times the direction's typical
		 * length: the error a wrong element of size |g| would make */
		err = fabs(fd - gu) / (sqrt(gnorm) + 1e-3);
		if (err > worst)
			worst = err;
		if (!(err < 2e-3)) {
			fprintf(stderr, "%s: %s: directional derivative %.6g, gradient gives %.6g (err %.2e)\n", tag, t->name,
				fd, gu, err);
			check_failures++;
		}
		free(saved), free(u);
	}
	printf("  %-48s worst directional err %.2e over %u tensors\n", tag, worst, g->n_tensors);
	free_batch(&b);
	mg_gpt_free(g);
}

static mg_gpt_config tiny(uint32_t attention, int shift, int pos, uint32_t gelu)
{
	mg_gpt_config c;

	mg_gpt_config_default(&c);
	c.n_layer = 2, c.n_head = 2, c.n_embd = 8, c.block_size = 6, c.vocab_size = 7;
	c.attention = attention, c.time_shift = (uint32_t)shift, c.pos_emb = (uint32_t)pos, c.gelu = gelu;
	c.dropout_embd = c.dropout_attn = c.dropout_resid = 0.2;
	return c;
}

static void test_gradients(void)
{
	char tag[96];

	for (uint32_t a = MG_ATTN_VANILLA; a <= MG_ATTN_CIRCULANT; a++)
		for (int v = 0; v < 4; v++) {
			mg_gpt_config c = tiny(a, v & 1, !(v & 2), v == 3 ? MG_GELU_ERF : MG_GELU_TANH);
			snprintf(tag, sizeof tag, "%s%s%s gelu %s, masked", mg_gpt_attention_name(a), c.time_shift ? " shift" : "",
				 c.pos_emb ? "" : " no-pos", mg_gpt_gelu_name(c.gelu));
			check_model_grads(&c, tag, 1, 0, c.block_size);
		}
	{
		mg_gpt_config c = tiny(MG_ATTN_CIRCULANT, 1, 1, MG_GELU_TANH);
		check_model_grads(&c, "circulant shift, T 4 of block 6", 0, 0, 4);
		check_model_grads(&c, "circulant shift, dropout (fixed seed)", 1, MG_GPT_DROPOUT, 6);
		c.attention = MG_ATTN_TIME_WEIGHTING;
		check_model_grads(&c, "time-weighting shift, T 4 of block 6", 1, 0, 4);
		check_model_grads(&c, "time-weighting shift, dropout (fixed seed)", 1, MG_GPT_DROPOUT, 6);
	}
}

/* Two micro-batches with scales c_i/N give the gradient of the whole batch;
 * a forward on a smaller shape equals one on a model allocated for it. */
static void test_accumulation(void)
{
	mg_gpt_config c = tiny(MG_ATTN_TIME_WEIGHTING, 1, 1, MG_GELU_TANH);
	mg_gpt *g = make_model(&c, 4, 6), *h = make_model(&c, 2, 5);
	batch b = make_batch(4, 6, c.vocab_size, 1, 9);
	batch b1 = { 2, 6, b.ids, b.tg, b.mask }, b2 = { 2, 6, b.ids + 12, b.tg + 12, b.mask + 12 };
	mg_gpt_loss whole, l1, l2;
	float *full;
	double diff = 0.0, scale = 0.0;

	mg_gpt_forward(g, b.ids, b.tg, b.mask, 4, 6, 0, 0, &whole, NULL);
	mg_gpt_zero_grad(g);
	mg_gpt_backward(g, 1.0f);
	full = gc_copy(g->grads, g->n_floats);
	mg_gpt_zero_grad(g);
	mg_gpt_forward(g, b1.ids, b1.tg, b1.mask, 2, 6, 0, 0, &l1, NULL);
	mg_gpt_backward(g, (float)l1.count / (float)whole.count);
	mg_gpt_forward(g, b2.ids, b2.tg, b2.mask, 2, 6, 0, 0, &l2, NULL);
	mg_gpt_backward(g, (float)l2.count / (float)whole.count);
	CHECK_EQ(l1.count + l2.count, whole.count);
	CHECK_CLOSE(l1.sum + l2.sum, whole.sum, 1e-6);
	CHECK_CLOSE(whole.mean, whole.sum / (double)whole.count, 1e-15);
	for (size_t i = 0; i < g->n_floats; i++) {
		diff = fmax(diff, fabs(g->grads[i] - full[i]));
		scale = fmax(scale, fabs(full[i]));
	}
	printf("  micro-batches vs whole batch: max grad diff %.2e of %.2e\n", diff, scale);
	CHECK(diff <= 1e-5 * scale);

	/* (2,5) on a model allocated for (4,6) == a model allocated for (2,5) */
	{
		mg_gpt_loss a, bb;
		float *ga;
		mg_gpt_zero_grad(g);
		mg_gpt_forward(g, b.ids, b.tg, b.mask, 2, 5, 0, 0, &a, NULL);
		mg_gpt_backward(g, 1.0f);
		ga = gc_copy(g->grads, g->n_floats);
		mg_gpt_zero_grad(h);
		mg_gpt_forward(h, b.ids, b.tg, b.mask, 2, 5, 0, 0, &bb, NULL);
		mg_gpt_backward(h, 1.0f);
		CHECK(a.sum == bb.sum && a.count == bb.count);
		CHECK(!memcmp(ga, h->grads, g->n_floats * sizeof *ga));
		free(ga);
	}
	free(full);
	free_batch(&b);
	mg_gpt_free(g);
	mg_gpt_free(h);
}

/* Everything a step computes, hashed bit for bit. */
static uint64_t step_hash(const mg_gpt_config *c, int threads, uint32_t flags, uint64_t seed)
{
	mg_gpt *g;
	batch b;
	mg_gpt_loss l;
	mg_gpt_adamw o;
	uint64_t h = 0;

	mg_threads_set(threads);
	g = make_model(c, 3, c->block_size);
	b = make_batch(3, c->block_size, c->vocab_size, 1, 11);
	mg_gpt_adamw_default(&o);
	mg_gpt_zero_grad(g);
	mg_gpt_forward(g, b.ids, b.tg, b.mask, 3, c->block_size, flags, seed, &l, NULL);
	mg_gpt_backward(g, 1.0f);
	mg_gpt_clip_grad_norm(g, 0.5);
	mg_gpt_adamw_step(g, &o, 1);
	h = mg_hash64(mg_f64_bits(l.sum));
	for (size_t i = 0; i < g->n_floats; i++)
		h = mg_hash64(h ^ mg_f32_bits(g->params[i]) ^ (uint64_t)mg_f32_bits(g->grads[i]) << 32);
	free_batch(&b);
	mg_gpt_free(g);
	return h;
}

static void test_determinism(void)
{
	mg_gpt_config c = tiny(MG_ATTN_CIRCULANT, 1, 1, MG_GELU_TANH);
	uint64_t a, b;

	c.n_embd = 64, c.n_head = 4, c.block_size = 16, c.vocab_size = 50;
	for (int t = 1; t <= 3; t++) {
		a = step_hash(&c, t, MG_GPT_DROPOUT, 1);
		b = step_hash(&c, t, MG_GPT_DROPOUT, 1);
		CHECK(a == b);
	}
	CHECK(step_hash(&c, 2, MG_GPT_DROPOUT, 1) != step_hash(&c, 2, MG_GPT_DROPOUT, 2));
	CHECK(step_hash(&c, 2, MG_GPT_DROPOUT, 1) != step_hash(&c, 2, 0, 1));
	CHECK(step_hash(&c, 2, 0, 1) == step_hash(&c, 2, 0, 2)); /* the random seed only matters with dropout */
	mg_threads_set(2);
}

static void test_errors_and_masks(void)
{
	mg_gpt_config c = tiny(MG_ATTN_VANILLA, 0, 1, MG_GELU_TANH);
	mg_gpt *g = make_model(&c, 2, 4);
	batch b = make_batch(2, 4, c.vocab_size, 1, 3);
	mg_gpt_loss l;
	mg_err e;

	b.ids[5] = 7;
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, b.mask, 2, 4, 0, 0, &l, &e), MG_E_INVAL);
	CHECK(strstr(e.msg, "input token 7 at row 1, position 1 is not below vocab_size 7") != NULL);
	b.ids[5] = 6;
	b.tg[6] = 9, b.mask[6] = 1;
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, b.mask, 2, 4, 0, 0, &l, &e), MG_E_INVAL);
	CHECK(strstr(e.msg, "target token 9") != NULL);
	b.mask[6] = 0; /* a masked-out target may be anything, like ignore_index */
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, b.mask, 2, 4, 0, 0, &l, &e), MG_OK);
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, b.mask, 3, 4, 0, 0, &l, &e), MG_E_INVAL);
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, b.mask, 2, 5, 0, 0, &l, &e), MG_E_INVAL);
	CHECK_EQ(mg_gpt_alloc(g, 1, 7, 0, &e), MG_E_INVAL); /* over block_size 6 */
	/* no target counted: loss 0 and zero gradients */
	memset(b.mask, 0, 8);
	mg_gpt_alloc(g, 2, 4, MG_GPT_ALLOC_TRAIN, &e);
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, b.mask, 2, 4, 0, 0, &l, &e), MG_OK);
	CHECK(l.count == 0 && l.sum == 0.0 && l.mean == 0.0);
	mg_gpt_zero_grad(g);
	mg_gpt_backward(g, 1.0f);
	CHECK(mg_gpt_grad_norm(g) == 0.0);
	/* without a mask every target counts; the token losses add up */
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, NULL, 2, 4, 0, 0, &l, &e), MG_E_INVAL); /* tg[6] is 9 */
	b.tg[6] = 1;
	CHECK_EQ(mg_gpt_forward(g, b.ids, b.tg, NULL, 2, 4, 0, 0, &l, &e), MG_OK);
	CHECK_EQ(l.count, 8);
	{
		double s = 0.0;
		for (int i = 0; i < 8; i++)
			s += mg_gpt_token_losses(g)[i];
		CHECK(s == l.sum);
	}
	/* inference buffers: forward without targets gives the same logits */
	{
		float *lg = gc_copy(mg_gpt_logits(g), 8 * 7);
		mg_gpt_alloc(g, 2, 4, 0, &e);
		CHECK_EQ(mg_gpt_forward(g, b.ids, NULL, NULL, 2, 4, 0, 0, &l, &e), MG_OK);
		CHECK(l.count == 0);
		CHECK(!memcmp(lg, mg_gpt_logits(g), 8 * 7 * sizeof *lg));
		free(lg);
	}
	free_batch(&b);
	mg_gpt_free(g);
}

/* Clipping as torch.nn.utils.clip_grad_norm_, and weight decay only on the
 * Linear weight matrices. */
static void test_clip_and_decay(void)
{
	mg_gpt_config c = tiny(MG_ATTN_CIRCULANT, 0, 1, MG_GELU_TANH);
	mg_gpt *g = make_model(&c, 1, 6);
	float *before;
	double sq = 0.0, norm;
	mg_gpt_adamw o = { 0.01, 0.9, 0.95, 1e-8, 0.5 };
	mg_rng r;

	mg_rng_seed(&r, 1);
	for (size_t i = 0; i < g->n_floats; i++)
		g->grads[i] = 0.0f;
	for (uint32_t i = 0; i < g->n_tensors; i++)
		for (size_t k = 0; k < g->tensors[i].n; k++) {
			float x = (float)mg_rng_normal(&r);
			g->grads[g->tensors[i].off + k] = x;
			sq += (double)x * x;
		}
	norm = mg_gpt_clip_grad_norm(g, 1e9); /* no clipping */
	CHECK_CLOSE(norm, sqrt(sq), 1e-12);
	norm = mg_gpt_clip_grad_norm(g, 2.0);
	CHECK_CLOSE(mg_gpt_grad_norm(g), 2.0 * sqrt(sq) / (sqrt(sq) + 1e-6), 1e-6);
	mg_gpt_zero_grad(g);
	before = gc_copy(g->params, g->n_floats);
	mg_gpt_adamw_step(g, &o, 1); /* zero gradients: only the decay moves */
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		const char *n = t->name;
		size_t len = strlen(n);
		int want = len > 7 && !strcmp(n + len - 7, ".weight") && !strstr(n, "ln_") && strcmp(n, "wte") &&
			   strcmp(n, "wpe");
		CHECK_EQ(t->decay, want);
		for (size_t k = 0; k < t->n; k++) {
			float p0 = before[t->off + k], p1 = g->params[t->off + k];
			if (want ? p1 != p0 * (1.0f - 0.005f) : p1 != p0) {
				fprintf(stderr, "%s: decay %d: %g -> %g\n", n, want, p0, p1);
				check_failures++;
				break;
			}
		}
	}
	free(before);
	mg_gpt_free(g);
}

int main(void)
{
	gc_seed(8);
	mg_threads_set(2);
	test_gradients();
	test_accumulation();
	test_determinism();
	test_errors_and_masks();
	test_clip_and_decay();
	CHECK_DONE();
}
