/* The checks before a training run (lib/train/train_setup.h): resuming or
 * a new run from a checkpoint, the validation split, the run's tokenizer,
 * validation data against training data, and a resumed run's data; plus
 * mg_ckpt_drop_role and mg_gpt_config_set_dropout, which they build on. */
#include "check.h"

#include <string.h>

#include "io/ckpt.h"
#include "model/gpt.h"
#include "train/train_setup.h"

static void check_str(const char *got, const char *want, int line)
{
	if (strcmp(got, want)) {
		fprintf(stderr, "%s:%d: '%s', expected '%s'\n", __FILE__, line, got, want);
		check_failures++;
	}
}
#define CHECK_STR(a, b) check_str((a), (b), __LINE__)

/* n ids 0, 1, 2, ... mod V, in records of rec tokens (examples) or none. */
static mg_tokstream_data make_data(uint32_t layout, uint64_t n, uint32_t V, uint64_t rec)
{
	mg_tokstream_data d;
	uint64_t n_rec = rec ? n / rec : 0;

	memset(&d, 0, sizeof d);
	d.h = mg_tokstream_header_make(V, layout, 0, 0);
	d.n = n;
	d.ids = malloc(n * sizeof *d.ids);
	for (uint64_t i = 0; i < n; i++)
		d.ids[i] = (uint32_t)(i % V);
	d.n_records = n_rec;
	d.start = malloc((n_rec + 1) * sizeof *d.start);
	for (uint64_t r = 0; r <= n_rec; r++)
		d.start[r] = r * rec;
	d.start[n_rec] = n;
	return d;
}

static void give_chars(mg_tokenizer *tk, int *has, uint32_t n, uint32_t first)
{
	uint32_t cps[64];
	mg_err e;

	for (uint32_t i = 0; i < n; i++)
		cps[i] = first + i;
	CHECK_EQ(mg_tokenizer_init_chars(tk, cps, n, &e), MG_OK);
	*has = 1;
}

static void free_data(mg_tokstream_data *d)
{
	free(d->ids);
	free(d->start);
	if (d->has_tokenizer)
		mg_tokenizer_free(&d->tk);
}

static void test_split(void)
{
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 100, 10, 0), x = make_data(MG_LAYOUT_EXAMPLES, 60, 10, 3);
	uint64_t n = 99;
	mg_err e;

	CHECK_EQ(mg_train_setup_split(&d, 0, &n, &e), MG_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(mg_train_setup_split(&d, 0.1, &n, &e), MG_OK);
	CHECK_EQ(n, 10);
	CHECK_EQ(mg_train_setup_split(&d, 0.257, &n, &e), MG_OK);
	CHECK_EQ(n, 25); /* floor */
	CHECK_EQ(mg_train_setup_split(&d, 0.001, &n, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "a validation split of 0.001 of 100 tokens holds out nothing");
	/* examples split on records: 20 of them */
	CHECK_EQ(mg_train_setup_split(&x, 0.1, &n, &e), MG_OK);
	CHECK_EQ(n, 2);
	CHECK_EQ(mg_train_setup_split(&x, 0.04, &n, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "a validation split of 0.04 of 20 records holds out nothing");
	free_data(&d);
	free_data(&x);
}

static void test_val(void)
{
	mg_tokstream_data t = make_data(MG_LAYOUT_STREAM, 50, 10, 0), v = make_data(MG_LAYOUT_STREAM, 20, 10, 0);
	mg_tokstream_data w = make_data(MG_LAYOUT_STREAM, 20, 12, 0), x = make_data(MG_LAYOUT_EXAMPLES, 20, 10, 4);
	mg_err e;

	CHECK_EQ(mg_train_setup_check_val(&t, &v, &e), MG_OK);
	CHECK_EQ(mg_train_setup_check_val(&t, &w, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "vocabulary of 12, not the training data's 10");
	CHECK_EQ(mg_train_setup_check_val(&t, &x, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "layout examples, not the training data's stream");
	/* a tokenizer on one side only says nothing; on both they must agree */
	give_chars(&t.tk, &t.has_tokenizer, 10, 'a');
	CHECK_EQ(mg_train_setup_check_val(&t, &v, &e), MG_OK);
	give_chars(&v.tk, &v.has_tokenizer, 10, 'a');
	CHECK_EQ(mg_train_setup_check_val(&t, &v, &e), MG_OK);
	mg_tokenizer_free(&v.tk);
	give_chars(&v.tk, &v.has_tokenizer, 10, 'b');
	CHECK_EQ(mg_train_setup_check_val(&t, &v, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "its tokenizer is not the training data's");
	/* the vocabulary is checked first */
	give_chars(&w.tk, &w.has_tokenizer, 12, 'b');
	CHECK_EQ(mg_train_setup_check_val(&t, &w, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "vocabulary of 12, not the training data's 10");
	free_data(&t);
	free_data(&v);
	free_data(&w);
	free_data(&x);
}

static void test_tokenizer(void)
{
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 50, 10, 0);
	const mg_tokenizer *tk = (const mg_tokenizer *)1;
	mg_ckpt ck;
	mg_err e;

	memset(&ck, 0, sizeof ck);
	CHECK_EQ(mg_train_setup_tokenizer(&ck, &d, 10, &tk, &e), MG_OK);
	CHECK(tk == NULL);
	give_chars(&d.tk, &d.has_tokenizer, 10, 'a');
	CHECK_EQ(mg_train_setup_tokenizer(&ck, &d, 10, &tk, &e), MG_OK);
	CHECK(tk == &d.tk);
	/* larger than the model's vocabulary: not embedded */
	CHECK_EQ(mg_train_setup_tokenizer(&ck, &d, 9, &tk, &e), MG_OK);
	CHECK(tk == NULL);
	give_chars(&ck.tk, &ck.has_tokenizer, 10, 'a');
	CHECK_EQ(mg_train_setup_tokenizer(&ck, &d, 10, &tk, &e), MG_OK);
	CHECK(tk == &ck.tk);
	mg_tokenizer_free(&ck.tk);
	give_chars(&ck.tk, &ck.has_tokenizer, 10, 'b');
	CHECK_EQ(mg_train_setup_tokenizer(&ck, &d, 10, &tk, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "its tokenizer is not the checkpoint's");
	mg_ckpt_free(&ck);
	free_data(&d);
}

static void test_data(void)
{
	mg_tokstream_data d = make_data(MG_LAYOUT_STREAM, 50, 10, 0), d2 = make_data(MG_LAYOUT_STREAM, 50, 10, 0);
	mg_train_data *a, *b;
	mg_train_state s, kept;
	mg_err e;

	d2.ids[7] = 3;
	CHECK_EQ(mg_train_data_open(&a, &d, 0, 50, 8, 10, &e), MG_OK);
	CHECK_EQ(mg_train_data_open(&b, &d2, 0, 50, 8, 10, &e), MG_OK);
	mg_train_state_default(&s);
	CHECK_EQ(mg_train_setup_data(&s, a, 0, &e), MG_OK);
	CHECK_EQ(s.data_tokens, 50);
	CHECK(s.data_fingerprint == mg_train_data_fingerprint(a));
	CHECK_EQ(mg_train_setup_data(&s, a, 1, &e), MG_OK);
	kept = s;
	CHECK_EQ(mg_train_setup_data(&s, b, 1, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "not the data this checkpoint was trained on");
	CHECK(!memcmp(&s, &kept, sizeof s));
	/* a new run takes any data */
	CHECK_EQ(mg_train_setup_data(&s, b, 0, &e), MG_OK);
	CHECK(s.data_fingerprint == mg_train_data_fingerprint(b));
	mg_train_data_free(a);
	mg_train_data_free(b);
	free_data(&d);
	free_data(&d2);
}

/* A checkpoint in memory with wte and lm_head in the given roles. */
static void make_ckpt(mg_ckpt *ck, int moments, int with_train)
{
	static const char *const names[2] = { "wte", "lm_head" };
	size_t k = 0;

	memset(ck, 0, sizeof *ck);
	ck->t = calloc(6, sizeof *ck->t);
	for (uint32_t role = 0; role < (moments ? 3u : 1u); role++)
		for (int i = 0; i < 2; i++, k++) {
			snprintf(ck->t[k].name, sizeof ck->t[k].name, "%s", names[i]);
			ck->t[k].role = role;
			ck->t[k].data = malloc(4);
		}
	ck->n_tensors = k;
	if (with_train) {
		mg_train_state s;
		mg_err e;
		mg_train_state_default(&s);
		s.step = 42;
		CHECK_EQ(mg_train_state_to_kv(&s, &ck->train, &e), MG_OK);
		ck->has_train = 1;
	}
}

static void test_resume(void)
{
	mg_train_state s, def;
	mg_ckpt ck;
	mg_err e;
	int resuming = -1;

	mg_train_state_default(&def);
	/* a model: a new run, moments (none) dropped */
	make_ckpt(&ck, 0, 0);
	CHECK_EQ(mg_train_setup_resume(&ck, 0, &s, &resuming, &e), MG_OK);
	CHECK_EQ(resuming, 0);
	CHECK_EQ(ck.n_tensors, 2);
	mg_ckpt_free(&ck);
	/* a run: resumed */
	make_ckpt(&ck, 1, 1);
	CHECK_EQ(mg_train_setup_resume(&ck, 0, &s, &resuming, &e), MG_OK);
	CHECK_EQ(resuming, 1);
	CHECK_EQ(s.step, 42);
	CHECK_EQ(ck.n_tensors, 6);
	mg_ckpt_free(&ck);
	/* restarted: the defaults, the parameters only, in order */
	make_ckpt(&ck, 1, 1);
	CHECK_EQ(mg_train_setup_resume(&ck, 1, &s, &resuming, &e), MG_OK);
	CHECK_EQ(resuming, 0);
	CHECK_EQ(s.step, 0);
	CHECK_EQ(s.batch, def.batch);
	CHECK_EQ(ck.n_tensors, 2);
	CHECK_STR(ck.t[0].name, "wte");
	CHECK_STR(ck.t[1].name, "lm_head");
	CHECK(mg_ckpt_find(&ck, "wte", MG_ROLE_PARAM) && !mg_ckpt_find(&ck, "wte", MG_ROLE_ADAM_M));
	mg_ckpt_free(&ck);
	/* a training state without moments cannot resume exactly */
	make_ckpt(&ck, 0, 1);
	CHECK_EQ(mg_train_setup_resume(&ck, 0, &s, &resuming, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "training state without AdamW moments: cannot resume exactly");
	mg_ckpt_free(&ck);
	/* a broken training state names its key */
	make_ckpt(&ck, 1, 1);
	{
		size_t n = ck.train.n;
		ck.train.n = 21; /* data_tokens and what follows it gone */
		CHECK(mg_train_setup_resume(&ck, 0, &s, &resuming, &e) == MG_E_CORRUPT);
		CHECK_STR(e.msg, "training state: missing key 'data_tokens'");
		ck.train.n = n;
	}
	mg_ckpt_free(&ck);
}

static void test_drop_role(void)
{
	mg_ckpt ck;

	make_ckpt(&ck, 1, 0);
	mg_ckpt_drop_role(&ck, MG_ROLE_ADAM_M);
	CHECK_EQ(ck.n_tensors, 4);
	CHECK(!mg_ckpt_find(&ck, "lm_head", MG_ROLE_ADAM_M) && mg_ckpt_find(&ck, "lm_head", MG_ROLE_ADAM_V));
	mg_ckpt_drop_role(&ck, MG_ROLE_PARAM);
	CHECK_EQ(ck.n_tensors, 2);
	CHECK_EQ(ck.t[0].role, MG_ROLE_ADAM_V);
	mg_ckpt_drop_role(&ck, MG_ROLE_PARAM); /* none left: nothing happens */
	CHECK_EQ(ck.n_tensors, 2);
	mg_ckpt_free(&ck);
}

static void test_set_dropout(void)
{
	mg_gpt_config c, back;
	mg_kv kv;
	mg_err e;

	memset(&kv, 0, sizeof kv);
	mg_gpt_config_default(&c);
	c.vocab_size = 10;
	CHECK_EQ(mg_gpt_config_to_kv(&c, &kv, &e), MG_OK);
	CHECK_EQ(mg_gpt_config_set_dropout(&kv, 0.25, &e), MG_OK);
	CHECK_EQ(mg_gpt_config_from_kv(&kv, &back, &e), MG_OK);
	CHECK(back.dropout_embd == 0.25 && back.dropout_attn == 0.25 && back.dropout_resid == 0.25);
	CHECK_EQ(back.n_embd, c.n_embd);
	CHECK_EQ(kv.n, 13); /* replaced, not added */
	CHECK_EQ(mg_gpt_config_set_dropout(&kv, 1.0, &e), MG_E_INVAL);
	CHECK_STR(e.msg, "dropout 1 is not in [0, 1)");
	mg_kv_free(&kv);
}

int main(void)
{
	test_split();
	test_val();
	test_tokenizer();
	test_data();
	test_resume();
	test_drop_role();
	test_set_dropout();
	CHECK_DONE();
}
