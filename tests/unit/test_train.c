/* The trainer's library: the learning-rate schedule against minGPT's
 * formula, the epoch orders and batches of every layout, the data checks,
 * the TRAI key-value list, and the training step (exact micro-batch
 * accumulation, the plan's token count, the non-finite guard, evaluation,
 * resuming through a checkpoint). */
#include "check.h"

#include <string.h>

#include "core/threads.h"
#include "io/ckpt.h"
#include "model/gpt_internal.h"
#include "train/lr_sched.h"
#include "train/train_data.h"
#include "train/train_state.h"
#include "train/trainer.h"

/* ------------------------------------------------------------ helpers */

/* A token stream in memory: n ids drawn below V, an optional mask, and
 * records of the given lengths (examples, documents) or none (stream). */
static mg_tokstream_data make_data(uint32_t layout, uint64_t n, uint32_t V, int masked, const uint32_t *lens, uint64_t n_rec,
			    uint64_t seed)
{
	mg_tokstream_data d;
	mg_rng r;

	memset(&d, 0, sizeof d);
	mg_rng_seed(&r, seed);
	if (lens) {
		n = 0;
		for (uint64_t i = 0; i < n_rec; i++)
			n += lens[i];
	}
	d.h = mg_tokstream_header_make(V, layout, masked, 0);
	d.n = n;
	d.ids = malloc(n * sizeof *d.ids);
	d.mask = masked ? malloc(n) : NULL;
	d.start = malloc((n_rec + 1) * sizeof *d.start);
	for (uint64_t i = 0; i < n; i++) {
		d.ids[i] = (uint32_t)mg_rng_below(&r, V);
		if (masked)
			d.mask[i] = (uint8_t)(mg_rng_below(&r, 3) != 0);
	}
	d.n_records = lens ? n_rec : 0;
	d.start[0] = 0;
	for (uint64_t i = 0; lens && i < n_rec; i++)
		d.start[i + 1] = d.start[i] + lens[i];
	d.start[d.n_records] = n;
	return d;
}

static mg_train_data *open_ok(const mg_tokstream_data *d, uint64_t first, uint64_t count, uint32_t block, uint32_t V)
{
	mg_train_data *t;
	mg_err e;

	if (mg_train_data_open(&t, d, first, count, block, V, &e)) {
		fprintf(stderr, "mg_train_data_open: %s\n", e.msg);
		exit(1);
	}
	return t;
}

static void open_fails(const mg_tokstream_data *d, uint64_t first, uint64_t count, uint32_t block, uint32_t V,
		       const char *msg)
{
	mg_train_data *t = NULL;
	mg_err e = { 0 };
	int rc = mg_train_data_open(&t, d, first, count, block, V, &e);

	CHECK(rc == MG_E_INVAL && t == NULL);
	if (strcmp(e.msg, msg)) {
		fprintf(stderr, "message '%s', expected '%s'\n", e.msg, msg);
		check_failures++;
	}
}

static mg_gpt *make_model(uint32_t V, uint32_t T, double dropout, uint64_t seed)
{
	mg_gpt_config c;
	mg_gpt *g;
	mg_err e;

	mg_gpt_config_default(&c);
	c.n_layer = 2, c.n_head = 2, c.n_embd = 16, c.block_size = T, c.vocab_size = V;
	c.dropout_embd = c.dropout_attn = c.dropout_resid = dropout;
	if (mg_gpt_create(&g, &c, &e)) {
		fprintf(stderr, "model: %s\n", e.msg);
		exit(1);
	}
	mg_gpt_init_weights(g, seed);
	return g;
}

static mg_trainer *make_trainer(mg_gpt *g, mg_train_data *t, const mg_train_state *s)
{
	mg_trainer *tr;
	mg_err e;

	if (mg_trainer_init(&tr, g, t, s, mg_train_data_max_len(t), &e)) {
		fprintf(stderr, "trainer: %s\n", e.msg);
		exit(1);
	}
	return tr;
}

static void step_ok(mg_trainer *tr, mg_trainer_step_info *in)
{
	mg_err e;

	if (mg_trainer_step(tr, in, &e)) {
		fprintf(stderr, "step: %s\n", e.msg);
		exit(1);
	}
	CHECK_EQ(in->status, MG_TRAINER_STEP_OK);
}

/* ------------------------------------------------------------ schedule */

static void test_schedule(void)
{
	mg_lr_sched s = { MG_LR_COSINE, 6e-4, 512 * 20, 1000000, MG_LR_UNIT_TOKENS, 0, 0 };
	double w = 10240, f = 1000000;

	CHECK_CLOSE(mg_lr_sched_at(&s, 0), 0.0, 1e-15);
	CHECK_CLOSE(mg_lr_sched_at(&s, 5120), 3e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 10240), 6e-4, 1e-12);
	/* minGPT: lr_mult = max(0.1, 0.5 (1 + cos(pi p))) */
	for (uint64_t t = 10240; t <= 1000000; t += 9871) {
		double p = ((double)t - w) / (f - w), want = 6e-4 * fmax(0.1, 0.5 * (1.0 + cos(M_PI * p)));
		CHECK_CLOSE(mg_lr_sched_at(&s, t), want, 1e-12);
	}
	CHECK_CLOSE(mg_lr_sched_at(&s, (uint64_t)(w + 0.5 * (f - w))), 3e-4, 1e-9);
	CHECK_CLOSE(mg_lr_sched_at(&s, (uint64_t)(w + 0.8 * (f - w))), 6e-5, 1e-12);
	/* past final_tokens it stays at 10% (minGPT's cosine would rise) */
	CHECK_CLOSE(mg_lr_sched_at(&s, 1500000), 6e-5, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 1990000), 6e-5, 1e-12);
	/* MyGPT's progress line: epoch 1 iter 33 of tiny Shakespeare at
	 * block 128 (8,647 windows of 128 targets), 150 epochs planned */
	s.final_tokens = 150ull * 8647 * 128;
	CHECK(fabs(mg_lr_sched_at(&s, 8647ull * 128) - 5.999354e-04) < 5e-11);
	/* no warmup; final before warmup; constant */
	s.warmup_tokens = 0, s.final_tokens = 100;
	CHECK_CLOSE(mg_lr_sched_at(&s, 0), 6e-4, 1e-12);
	s.warmup_tokens = 200;
	CHECK_CLOSE(mg_lr_sched_at(&s, 100), 3e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 300), 6e-5, 1e-12);
	s.kind = MG_LR_CONSTANT;
	CHECK_CLOSE(mg_lr_sched_at(&s, 0), 6e-4, 1e-15);
	CHECK_CLOSE(mg_lr_sched_at(&s, 12345678), 6e-4, 1e-15);
	CHECK(!strcmp(mg_lr_sched_name(MG_LR_COSINE), "cosine") && !strcmp(mg_lr_sched_name(9), "unknown"));
	/* nanoGPT's get_lr with min_lr = lr / 10: the full rate right after the
	 * warmup, halfway between at p = 1/2, 10% exactly at the end and after */
	s.kind = MG_LR_COSINE_MIN;
	s.lr = 1e-3, s.warmup_tokens = 1000, s.final_tokens = 3000;
	CHECK_CLOSE(mg_lr_sched_at(&s, 500), 5e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 1000), 1e-3, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 2000), 5.5e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 2900), 1e-4 + 9e-4 * 0.5 * (1 + cos(M_PI * 0.95)), 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 3000), 1e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_at(&s, 9000), 1e-4, 1e-12);
	CHECK(!strcmp(mg_lr_sched_name(MG_LR_COSINE_MIN), "cosine-min"));
	/* in steps (nanoGPT's warmup_iters, lr_decay_iters): the step counter
	 * after the step; in tokens: the tokens, whatever the step */
	s.unit = MG_LR_UNIT_STEPS, s.warmup_steps = 100, s.final_steps = 2000;
	CHECK_CLOSE(mg_lr_sched_rate(&s, 50, 999999), 5e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_rate(&s, 100, 0), 1e-3, 1e-12);
	CHECK_CLOSE(mg_lr_sched_rate(&s, 1050, 0), 5.5e-4, 1e-12);
	CHECK_CLOSE(mg_lr_sched_rate(&s, 2000, 0), 1e-4, 1e-12);
	s.unit = MG_LR_UNIT_TOKENS;
	CHECK_CLOSE(mg_lr_sched_rate(&s, 1050, 2000), 5.5e-4, 1e-12);
}

/* ------------------------------------------------------------ data */

static void test_epochs_and_windows(void)
{
	/* MyGPT's tiny Shakespeare: 1,115,394 characters at block 128 are 8,647 windows */
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 1115394, 65, 0, NULL, 0, 1);
	mg_train_data *t = open_ok(&d, 0, d.n, 128, 65);
	uint64_t targets;

	CHECK_EQ(mg_train_data_epoch_len(t, MG_ORDER_RANDOM), 8647);
	CHECK_EQ((mg_train_data_epoch_len(t, MG_ORDER_RANDOM) + 255) / 256, 34);
	CHECK_EQ(mg_train_data_epoch_len(t, MG_ORDER_SEQUENTIAL), 1115393 / 128);
	CHECK_EQ(mg_train_data_targets(t), 1115393);
	CHECK(mg_train_data_epoch_fixed(t, MG_ORDER_RANDOM, &targets) && targets == 8647ull * 128);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);

	/* random windows: every start in [0, n-block-1] is drawn, none outside;
	 * a function of (seed, epoch, index) alone */
	d = make_data(MG_LAYOUT_STREAM, 20, 7, 0, NULL, 0, 2);
	t = open_ok(&d, 0, d.n, 16, 7);
	{
		mg_train_data_batch b, b2;
		int seen[20] = { 0 };
		mg_err e;
		CHECK(!mg_train_data_batch_init(&b, 2, 16, &e) && !mg_train_data_batch_init(&b2, 2, 16, &e));
		for (uint64_t ep = 0; ep < 60; ep++)
			for (uint64_t i = 0; i < mg_train_data_epoch_len(t, MG_ORDER_RANDOM); i++) {
				mg_train_data_fill(t, MG_ORDER_RANDOM, 9, ep, i, 1, &b);
				for (uint32_t s = 0; s < 20; s++)
					if (!memcmp(b.inputs, d.ids + s, 16 * sizeof *d.ids) && s + 16 < 20 &&
					    !memcmp(b.targets, d.ids + s + 1, 16 * sizeof *d.ids)) {
						seen[s] = 1;
						break;
					}
			}
		CHECK(seen[0] && seen[1] && seen[2] && seen[3]);
		/* the same sequence again, and a different one for another seed */
		mg_train_data_fill(t, MG_ORDER_RANDOM, 9, 5, 0, 2, &b);
		mg_train_data_fill(t, MG_ORDER_RANDOM, 9, 5, 0, 2, &b2);
		CHECK(!memcmp(b.inputs, b2.inputs, 32 * sizeof *b.inputs));
		CHECK_EQ(b.len[0], 16);
		CHECK_EQ(b.mask[0] + b.mask[15], 2);
		mg_train_data_batch_free(&b);
		mg_train_data_batch_free(&b2);
	}
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);

	/* sequential windows cover every target once */
	d = make_data(MG_LAYOUT_STREAM, 100, 50, 0, NULL, 0, 3);
	t = open_ok(&d, 0, d.n, 8, 50);
	{
		uint64_t W = mg_train_data_epoch_len(t, MG_ORDER_SEQUENTIAL);
		mg_train_data_batch b;
		mg_err e;
		CHECK_EQ(W, 12);
		CHECK(!mg_train_data_batch_init(&b, (uint32_t)W, 8, &e));
		mg_train_data_fill(t, MG_ORDER_SEQUENTIAL, 1, 3, 0, (uint32_t)W, &b);
		for (uint32_t i = 0; i < W; i++) {
			CHECK(!memcmp(b.inputs + i * 8, d.ids + i * 8, 8 * sizeof *d.ids));
			CHECK(!memcmp(b.targets + i * 8, d.ids + i * 8 + 1, 8 * sizeof *d.ids));
		}
		mg_train_data_batch_free(&b);
	}
	mg_train_data_free(t);
	/* a view: the last 30 tokens */
	t = open_ok(&d, 70, 30, 8, 50);
	CHECK_EQ(mg_train_data_tokens(t), 30);
	CHECK_EQ(mg_train_data_epoch_len(t, MG_ORDER_SEQUENTIAL), 3);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);
}

static void test_examples(void)
{
	static const uint32_t lens[7] = { 4, 2, 5, 3, 4, 5, 2 };
	mg_tokstream_data d = make_data(MG_LAYOUT_EXAMPLES, 0, 10, 1, lens, 7, 4);
	mg_train_data *t = open_ok(&d, 0, 7, 4, 10);
	mg_train_data_batch b;
	mg_train_data_view v;
	mg_err e;
	uint64_t total = 0, fixed;

	for (uint64_t r = 0; r < 7; r++)
		for (uint64_t j = d.start[r] + 1; j < d.start[r + 1]; j++)
			total += d.mask[j];
	CHECK_EQ(mg_train_data_targets(t), total);
	CHECK(mg_train_data_epoch_fixed(t, MG_ORDER_RANDOM, &fixed) && fixed == total);
	CHECK_EQ(mg_train_data_epoch_len(t, MG_ORDER_RANDOM), 7);
	CHECK_EQ(mg_train_data_max_len(t), 4);
	CHECK(!mg_train_data_batch_init(&b, 7, 4, &e));
	/* each epoch is a permutation, drawn anew per epoch */
	{
		int differs = 0;
		uint64_t first[7];
		for (uint64_t ep = 0; ep < 4; ep++) {
			int count[7] = { 0 };
			uint64_t sum = 0;
			mg_train_data_fill(t, MG_ORDER_RANDOM, 3, ep, 0, 7, &b);
			for (uint32_t row = 0; row < 7; row++) {
				uint64_t rec = 7;
				for (uint64_t r = 0; r < 7; r++)
					if (lens[r] - 1 == b.len[row] &&
					    !memcmp(b.inputs + row * 4, d.ids + d.start[r], b.len[row] * sizeof *d.ids) &&
					    !memcmp(b.targets + row * 4, d.ids + d.start[r] + 1, b.len[row] * sizeof *d.ids) &&
					    !memcmp(b.mask + row * 4, d.mask + d.start[r] + 1, b.len[row]))
						rec = r;
				CHECK(rec < 7);
				if (rec < 7)
					count[rec]++;
				if (ep == 0)
					first[row] = rec;
				else
					differs |= first[row] != rec;
				/* padding: id 0, never a target */
				for (uint32_t k = b.len[row]; k < 4; k++)
					CHECK(b.inputs[row * 4 + k] == 0 && b.mask[row * 4 + k] == 0);
				sum += mg_train_data_seq_targets(t, MG_ORDER_RANDOM, 3, ep, row);
			}
			for (int r = 0; r < 7; r++)
				CHECK_EQ(count[r], 1);
			CHECK_EQ(sum, total);
		}
		CHECK(differs);
	}
	/* sequential: file order; a view is as long as its longest record */
	mg_train_data_fill(t, MG_ORDER_SEQUENTIAL, 3, 0, 0, 7, &b);
	mg_train_data_batch_view(&b, 1, 3, &v);
	CHECK_EQ(v.B, 3);
	CHECK_EQ(v.T, 4);
	mg_train_data_batch_view(&b, 0, 2, &v);
	CHECK_EQ(v.T, 3);
	CHECK(!memcmp(v.inputs, d.ids, 3 * sizeof *d.ids));
	CHECK(v.inputs[3] == d.ids[4] && v.targets[3] == d.ids[5] && v.mask[4] == 0 && v.mask[5] == 0);
	CHECK_EQ(v.count, d.mask[1] + d.mask[2] + d.mask[3] + d.mask[5]);
	mg_train_data_batch_free(&b);
	mg_train_data_free(t);
	/* records 2..4 as a view */
	t = open_ok(&d, 2, 3, 4, 10);
	CHECK_EQ(mg_train_data_records(t), 3);
	CHECK_EQ(mg_train_data_tokens(t), 12);
	mg_train_data_free(t);
	/* errors, named with their position in the file */
	open_fails(&d, 0, 7, 3, 10, "record 2 has 5 tokens, more than block_size + 1 = 4");
	d.ids[9] = 12;
	open_fails(&d, 0, 7, 4, 10, "token 12 at position 9 is not below the model's vocab_size 10");
	mg_tokstream_data_free(&d);
	{
		static const uint32_t one[3] = { 3, 1, 2 };
		d = make_data(MG_LAYOUT_EXAMPLES, 0, 10, 0, one, 3, 5);
		open_fails(&d, 0, 3, 4, 10, "record 1 has a single token: nothing to predict");
		mg_tokstream_data_free(&d);
	}
}

static void test_stream_checks_and_documents(void)
{
	static const uint32_t docs[3] = { 6, 5, 9 };
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 16, 10, 0, NULL, 0, 6);
	mg_train_data *t;
	mg_train_data_batch b;
	mg_err e;
	uint64_t fp, fp2;

	open_fails(&d, 0, 16, 16, 10, "16 tokens, fewer than the block_size + 1 = 17 of one window");
	open_fails(&d, 0, 0, 4, 10, "no tokens");
	d.mask = calloc(16, 1);
	d.h.has_mask = 1;
	open_fails(&d, 0, 16, 4, 10, "no token is a target (every loss-mask bit is 0): nothing to train on");
	d.mask[0] = 1; /* the first token is never a target */
	open_fails(&d, 0, 16, 4, 10, "no token is a target (every loss-mask bit is 0): nothing to train on");
	d.mask[5] = 1;
	t = open_ok(&d, 0, 16, 4, 10);
	CHECK_EQ(mg_train_data_targets(t), 1);
	CHECK_EQ(mg_train_data_seq_targets(t, MG_ORDER_SEQUENTIAL, 0, 0, 1), 1); /* window 4..8 */
	CHECK_EQ(mg_train_data_seq_targets(t, MG_ORDER_SEQUENTIAL, 0, 0, 0), 0);
	fp = mg_train_data_fingerprint(t);
	mg_train_data_free(t);
	/* the fingerprint sees a mask bit, an id, the view */
	d.mask[6] = 1;
	t = open_ok(&d, 0, 16, 4, 10);
	fp2 = mg_train_data_fingerprint(t);
	CHECK(fp2 != fp);
	mg_train_data_free(t);
	d.mask[6] = 0;
	t = open_ok(&d, 0, 16, 4, 10);
	CHECK(mg_train_data_fingerprint(t) == fp);
	mg_train_data_free(t);
	d.ids[3] ^= 1;
	t = open_ok(&d, 0, 16, 4, 10);
	CHECK(mg_train_data_fingerprint(t) != fp);
	mg_train_data_free(t);
	t = open_ok(&d, 0, 15, 4, 10);
	CHECK(mg_train_data_fingerprint(t) != fp);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);

	/* documents: a document's first token is never a target */
	d = make_data(MG_LAYOUT_DOCUMENTS, 0, 10, 0, docs, 3, 7);
	t = open_ok(&d, 0, 20, 19, 10);
	CHECK_EQ(mg_train_data_targets(t), 17);
	CHECK(!mg_train_data_batch_init(&b, 1, 19, &e));
	mg_train_data_fill(t, MG_ORDER_SEQUENTIAL, 0, 0, 0, 1, &b);
	for (uint32_t k = 0; k < 19; k++)
		CHECK_EQ(b.mask[k], k + 1 != 6 && k + 1 != 11);
	mg_train_data_batch_free(&b);
	mg_train_data_free(t);
	/* a view starting inside a document keeps the later starts only */
	t = open_ok(&d, 8, 12, 4, 10);
	CHECK_EQ(mg_train_data_targets(t), 10);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);
}

/* ------------------------------------------------------------ state */

static int same_state(const mg_train_state *a, const mg_train_state *b)
{
	return a->step == b->step && a->tokens == b->tokens && a->epoch == b->epoch && a->epoch_pos == b->epoch_pos &&
	       a->seed == b->seed && a->order == b->order && a->batch == b->batch && a->micro_batch == b->micro_batch &&
	       a->iters == b->iters && a->epochs == b->epochs && a->lr.kind == b->lr.kind && a->lr.lr == b->lr.lr &&
	       a->lr.warmup_tokens == b->lr.warmup_tokens && a->lr.final_tokens == b->lr.final_tokens &&
	       a->beta1 == b->beta1 && a->beta2 == b->beta2 && a->eps == b->eps && a->weight_decay == b->weight_decay &&
	       a->grad_clip == b->grad_clip && a->val_split == b->val_split &&
	       a->data_fingerprint == b->data_fingerprint && a->data_tokens == b->data_tokens &&
	       a->has_best == b->has_best && (!a->has_best || (a->best_val_loss == b->best_val_loss &&
							       a->best_step == b->best_step)) &&
	       a->eval_every == b->eval_every && a->eval_batches == b->eval_batches && a->early_stop == b->early_stop &&
	       a->evals_since_best == b->evals_since_best && a->lr.unit == b->lr.unit &&
	       (a->lr.unit != MG_LR_UNIT_STEPS ||
		(a->lr.warmup_steps == b->lr.warmup_steps && a->lr.final_steps == b->lr.final_steps));
}

static void truncate_kv(mg_kv *kv, size_t n)
{
	for (size_t i = n; i < kv->n; i++)
		free(kv->e[i].s);
	kv->n = n;
}

static void test_state(void)
{
	mg_train_state s, r;
	mg_kv kv = { 0 }, bad = { 0 };
	mg_err e;

	mg_train_state_default(&s);
	CHECK(s.batch == 256 && s.micro_batch == 256 && s.lr.lr == 6e-4 && s.lr.warmup_tokens == 10240);
	CHECK(s.beta1 == 0.9 && s.beta2 == 0.95 && s.eps == 1e-8 && s.weight_decay == 0.1 && s.grad_clip == 1.0);
	CHECK(s.seed == 1337 && s.epochs == 1 && s.iters == 0 && s.order == MG_ORDER_RANDOM);
	CHECK(!mg_train_state_check(&s, &e));
	s.step = 12, s.tokens = 3456, s.epoch = 2, s.epoch_pos = 7, s.seed = UINT64_MAX - 5;
	s.order = MG_ORDER_SEQUENTIAL, s.batch = 9, s.micro_batch = 4, s.iters = 100, s.epochs = 0;
	s.lr.kind = MG_LR_CONSTANT, s.lr.final_tokens = 99999, s.val_split = 0.25;
	s.data_fingerprint = 0x8000000000000001ull, s.data_tokens = 123456;
	s.has_best = 1, s.best_val_loss = 1.875, s.best_step = 10;
	s.eval_every = 50, s.eval_batches = 20, s.early_stop = 3, s.evals_since_best = 2;
	CHECK(!mg_train_state_to_kv(&s, &kv, &e));
	CHECK_EQ(kv.n, 28);
	CHECK(!strcmp(kv.e[0].key, "step") && !strcmp(kv.e[23].key, "best_step") &&
	      !strcmp(kv.e[27].key, "evals_since_best"));
	CHECK(!mg_train_state_from_kv(&kv, &r, &e));
	CHECK(same_state(&s, &r));
	CHECK(r.seed == UINT64_MAX - 5 && r.data_fingerprint == 0x8000000000000001ull && r.micro_batch == 4);
	CHECK(r.order == MG_ORDER_SEQUENTIAL && r.lr.kind == MG_LR_CONSTANT && r.has_best && r.best_val_loss == 1.875);
	CHECK(r.eval_every == 50 && r.early_stop == 3 && r.evals_since_best == 2 && r.lr.unit == MG_LR_UNIT_TOKENS);
	/* a schedule in steps: two more keys */
	mg_kv_free(&kv);
	s.lr.unit = MG_LR_UNIT_STEPS, s.lr.warmup_steps = 100, s.lr.final_steps = 2000;
	CHECK(!mg_train_state_to_kv(&s, &kv, &e));
	CHECK_EQ(kv.n, 30);
	CHECK(!mg_train_state_from_kv(&kv, &r, &e));
	CHECK(same_state(&s, &r) && r.lr.unit == MG_LR_UNIT_STEPS && r.lr.final_steps == 2000);
	s.lr.unit = MG_LR_UNIT_TOKENS;
	/* the first revision's keys alone: the new ones are 0 */
	mg_kv_free(&kv);
	CHECK(!mg_train_state_to_kv(&s, &kv, &e));
	truncate_kv(&kv, 24);
	CHECK(!mg_train_state_from_kv(&kv, &r, &e));
	CHECK(r.eval_every == 0 && r.eval_batches == 0 && r.early_stop == 0 && r.evals_since_best == 0 && r.has_best);

	/* strict reading: unknown, missing, mistyped and out-of-range keys */
#define REJECT(setup, want)                                                           \
	do {                                                                         \
		mg_kv_free(&bad);                                                    \
		mg_train_state_to_kv(&s, &bad, &e);                                  \
		setup;                                                               \
		CHECK(mg_train_state_from_kv(&bad, &r, &e) == MG_E_CORRUPT);         \
		if (strcmp(e.msg, want)) {                                           \
			fprintf(stderr, "got '%s', expected '%s'\n", e.msg, want);    \
			check_failures++;                                            \
		}                                                                    \
	} while (0)
	REJECT(mg_kv_set_int(&bad, "momentum", 1), "training state: unknown key 'momentum'");
	REJECT(truncate_kv(&bad, 3), "training state: missing key 'epoch_pos'");
	REJECT(mg_kv_set_float(&bad, "step", 1.0), "training state: key 'step' is not an integer");
	REJECT(mg_kv_set_int(&bad, "tokens", -1), "training state: key 'tokens' is negative");
	REJECT(mg_kv_set_str(&bad, "order", "shuffled", 8), "training state: key 'order' is not random or sequential");
	REJECT(mg_kv_set_int(&bad, "micro_batch", 10), "training state: micro_batch 10 is not in 1..batch 9");
	REJECT(mg_kv_set_int(&bad, "epochs", 3), "training state: exactly one of iters and epochs must be non-zero");
	REJECT(mg_kv_set_float(&bad, "beta2", 1.0), "training state: beta2 1 is not in [0, 1)");
	REJECT(mg_kv_set_float(&bad, "lr", 0.0), "training state: lr 0 is not a positive number");
	REJECT(mg_kv_set_float(&bad, "weight_decay", 2000.0),
	       "training state: lr 0.0006 times weight_decay 2000 is not below 1: the decay would grow the weights");
	REJECT(mg_kv_set_int(&bad, "best_step", 13), "training state: best_val_loss 1.875 at step 13 is not a loss of this run");
	REJECT(mg_kv_set_int(&bad, "warmup_iters", 5), "training state: missing key 'lr_decay_iters'");
	REJECT(mg_kv_set_int(&bad, "eval_every", -2), "training state: key 'eval_every' is negative");
#undef REJECT
	mg_kv_free(&bad);
	mg_kv_free(&kv);
}

/* ------------------------------------------------------------ steps */

/* Micro-batches give the whole batch's gradient up to rounding, with
 * records of different lengths and masks, so that the passes have
 * different target counts. */
static void test_accumulation(void)
{
	static const uint32_t lens[9] = { 7, 3, 5, 7, 2, 6, 4, 7, 5 };
	mg_tokstream_data d = make_data(MG_LAYOUT_EXAMPLES, 0, 11, 1, lens, 9, 8);
	mg_train_data *t = open_ok(&d, 0, 9, 6, 11);
	mg_train_state s;
	mg_gpt *g[3];
	mg_trainer *tr[3];
	mg_trainer_step_info in[3];
	static const uint32_t micro[3] = { 9, 4, 1 };

	mg_train_state_default(&s);
	s.batch = 9, s.grad_clip = 0.0, s.lr.final_tokens = 1000, s.order = MG_ORDER_SEQUENTIAL;
	for (int k = 0; k < 3; k++) {
		s.micro_batch = micro[k];
		g[k] = make_model(11, 6, 0.0, 3);
		tr[k] = make_trainer(g[k], t, &s);
		step_ok(tr[k], &in[k]);
	}
	for (int k = 1; k < 3; k++) {
		double worst = 0.0, scale = 0.0;
		CHECK_EQ(in[k].count, in[0].count);
		CHECK_CLOSE(in[k].loss, in[0].loss, 1e-6);
		CHECK_CLOSE(in[k].grad_norm, in[0].grad_norm, 1e-5);
		for (size_t i = 0; i < g[0]->n_floats; i++) {
			double x = fabs((double)g[k]->grads[i] - g[0]->grads[i]);
			worst = x > worst ? x : worst;
			scale = fabs(g[0]->grads[i]) > scale ? fabs(g[0]->grads[i]) : scale;
		}
		printf("  micro-batch %u of 9: worst gradient difference %.2e of %.2e\n", micro[k], worst, scale);
		CHECK(worst <= 1e-5 * scale);
	}
	/* the step's positions are its passes' B x T: records 7 3 5 7 | 2 6 4 7 | 5 */
	CHECK_EQ(in[0].positions, 9 * 6);
	CHECK_EQ(in[1].positions, 4 * 6 + 4 * 6 + 1 * 4);
	for (int k = 0; k < 3; k++) {
		mg_trainer_free(tr[k]);
		mg_gpt_free(g[k]);
	}
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);
}

/* The plan's token count is what the run then counts, for orders whose
 * epochs differ (a masked stream in random order) and partial epochs. */
static void test_plan(void)
{
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 300, 13, 1, NULL, 0, 9);
	mg_train_data *t = open_ok(&d, 0, 300, 8, 13);
	mg_gpt *g = make_model(13, 8, 0.1, 4);
	mg_train_state s;
	mg_trainer *tr;
	mg_trainer_step_info in;
	uint64_t left, end, steps = 0, epoch_ends = 0;

	mg_train_state_default(&s);
	s.batch = 7, s.micro_batch = 3, s.epochs = 3, s.lr.warmup_tokens = 0;
	tr = make_trainer(g, t, &s);
	mg_trainer_plan(tr, &left, &end);
	CHECK_EQ(mg_trainer_epoch_len(tr), 34);
	CHECK_EQ(mg_trainer_epoch_steps(tr), 5);
	CHECK_EQ(left, 15);
	mg_trainer_set_final_tokens(tr, end);
	while (!mg_trainer_done(tr)) {
		step_ok(tr, &in);
		steps++;
		epoch_ends += (uint64_t)in.epoch_end;
		CHECK_EQ(in.sequences, in.iter == 4 ? 6 : 7);
	}
	CHECK_EQ(steps, 15);
	CHECK_EQ(epoch_ends, 3);
	CHECK_EQ(mg_trainer_state(tr)->tokens, end);
	CHECK_EQ(mg_trainer_state(tr)->epoch, 3);
	/* the last step ran at 10% of the rate */
	CHECK_CLOSE(in.lr, 0.1 * 6e-4, 1e-12);
	mg_trainer_free(tr);
	/* an iteration target in the middle of an epoch */
	s.epochs = 0, s.iters = 8;
	tr = make_trainer(g, t, &s);
	mg_trainer_plan(tr, &left, &end);
	CHECK_EQ(left, 8);
	while (!mg_trainer_done(tr))
		step_ok(tr, &in);
	CHECK_EQ(mg_trainer_state(tr)->tokens, end);
	CHECK(mg_trainer_state(tr)->epoch == 1 && mg_trainer_state(tr)->epoch_pos == 21);
	mg_trainer_free(tr);
	mg_gpt_free(g);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);
}

/* A non-finite loss leaves the parameters, moments and state untouched;
 * evaluation is the mean over every target of the data. */
static void test_guard_and_eval(void)
{
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 200, 9, 0, NULL, 0, 10);
	mg_train_data *t = open_ok(&d, 0, 200, 8, 9);
	mg_gpt *g = make_model(9, 8, 0.0, 5);
	mg_train_state s, before;
	mg_trainer *tr;
	mg_trainer_step_info in;
	mg_gpt_loss l, direct = { 0, 0, 0 };
	mg_err e;
	float *saved;
	const mg_gpt_tensor *head;

	mg_train_state_default(&s);
	s.batch = s.micro_batch = 4, s.iters = 10, s.epochs = 0, s.lr.final_tokens = 320;
	tr = make_trainer(g, t, &s);
	step_ok(tr, &in);
	step_ok(tr, &in);
	/* evaluation: sequential windows, no dropout, every target */
	CHECK(!mg_trainer_eval(tr, t, 0, NULL, &l, &e));
	CHECK_EQ(l.count, 199 / 8 * 8);
	for (uint32_t i = 0; i < 199 / 8; i++) {
		mg_gpt_loss one;
		CHECK(!mg_gpt_forward(g, d.ids + i * 8, d.ids + i * 8 + 1, NULL, 1, 8, 0, 0, &one, &e));
		direct.sum += one.sum;
		direct.count += one.count;
	}
	CHECK_EQ(direct.count, l.count);
	CHECK_CLOSE(l.mean, direct.sum / (double)direct.count, 1e-6);
	CHECK(!mg_trainer_eval(tr, t, 2, NULL, &l, &e));
	CHECK_EQ(l.count, 2 * 4 * 8);
	{
		volatile sig_atomic_t stop = 1;
		CHECK(mg_trainer_eval(tr, t, 0, &stop, &l, &e) == MG_E_INTERRUPTED);
	}
	/* poison the output layer: the next step stops before its update */
	head = mg_gpt_tensor_find(g, "lm_head.weight");
	for (size_t k = 0; k < head->n; k++)
		g->params[head->off + k] = (float)(1e38 * (double)((int)(k % 7) - 3));
	saved = malloc(g->n_floats * 3 * sizeof *saved);
	memcpy(saved, g->params, g->n_floats * sizeof *saved);
	memcpy(saved + g->n_floats, g->m, g->n_floats * sizeof *saved);
	memcpy(saved + 2 * g->n_floats, g->v, g->n_floats * sizeof *saved);
	before = *mg_trainer_state(tr);
	CHECK(!mg_trainer_step(tr, &in, &e));
	CHECK_EQ(in.status, MG_TRAINER_STEP_LOSS_NONFINITE);
	CHECK(!memcmp(saved, g->params, g->n_floats * sizeof *saved));
	CHECK(!memcmp(saved + g->n_floats, g->m, g->n_floats * sizeof *saved));
	CHECK(!memcmp(saved + 2 * g->n_floats, g->v, g->n_floats * sizeof *saved));
	CHECK(same_state(&before, mg_trainer_state(tr)));
	free(saved);
	mg_trainer_free(tr);
	mg_gpt_free(g);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);
}

/* Writing a checkpoint and resuming from it continues bit for bit. */
static void test_resume(void)
{
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 500, 17, 0, NULL, 0, 11);
	mg_train_data *t = open_ok(&d, 0, 500, 8, 17);
	mg_train_state s;
	mg_gpt *g1 = make_model(17, 8, 0.2, 6), *g2 = make_model(17, 8, 0.2, 6), *g3;
	mg_trainer *a, *b, *c;
	mg_trainer_step_info in;
	mg_ckpt ck;
	mg_err e;
	char *buf;
	size_t len;
	FILE *f;

	mg_train_state_default(&s);
	s.batch = 5, s.micro_batch = 2, s.iters = 9, s.epochs = 0, s.lr.final_tokens = 360, s.lr.warmup_tokens = 40;
	a = make_trainer(g1, t, &s);
	while (!mg_trainer_done(a))
		step_ok(a, &in);
	s.iters = 4;
	b = make_trainer(g2, t, &s);
	while (!mg_trainer_done(b))
		step_ok(b, &in);
	f = open_memstream(&buf, &len);
	CHECK(!mg_trainer_write(b, f, NULL, 0, &e));
	fclose(f);
	f = fmemopen(buf, len, "rb");
	CHECK(!mg_ckpt_read(f, &ck, &e));
	fclose(f);
	CHECK(ck.has_train && !mg_train_state_from_kv(&ck.train, &s, &e));
	CHECK(!mg_gpt_load(&g3, &ck, &e) && mg_gpt_has_moments(g3));
	s.iters = 9;
	c = make_trainer(g3, t, &s);
	while (!mg_trainer_done(c))
		step_ok(c, &in);
	CHECK(!memcmp(g1->params, g3->params, g1->n_floats * sizeof *g1->params));
	CHECK(!memcmp(g1->m, g3->m, g1->n_floats * sizeof *g1->m));
	CHECK(!memcmp(g1->v, g3->v, g1->n_floats * sizeof *g1->v));
	CHECK(same_state(mg_trainer_state(a), mg_trainer_state(c)));
	mg_ckpt_free(&ck);
	free(buf);
	mg_trainer_free(a), mg_trainer_free(b), mg_trainer_free(c);
	mg_gpt_free(g1), mg_gpt_free(g2), mg_gpt_free(g3);
	mg_train_data_free(t);
	mg_tokstream_data_free(&d);
}

int main(void)
{
	mg_threads_set(2);
	test_schedule();
	test_epochs_and_windows();
	test_examples();
	test_stream_checks_and_documents();
	test_state();
	test_accumulation();
	test_plan();
	test_guard_and_eval();
	test_resume();
	CHECK_DONE();
}
