/* The GPT configuration and parameters in checkpoints: parameter counts of
 * the reference configurations, the HEAD keys (round trip and every
 * rejection), the tensor layout of formats/checkpoint.md, minGPT's
 * initialisation, and writing and loading parameters and moments. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "core/threads.h"
#include "model/gpt_internal.h"

static mg_gpt_config seed_config(void)
{
	mg_gpt_config c;

	mg_gpt_config_default(&c);
	c.vocab_size = 65;
	return c;
}

static void test_counts(void)
{
	mg_gpt_config c = seed_config();

	CHECK_EQ(mg_gpt_n_params(&c), 9590272);
	c.attention = MG_ATTN_TIME_WEIGHTING;
	CHECK_EQ(mg_gpt_n_params(&c), 9983488);
	c.attention = MG_ATTN_CIRCULANT;
	CHECK_EQ(mg_gpt_n_params(&c), 9590272 + 3 * 2 * 8 * 128);
	c.attention = MG_ATTN_VANILLA;
	c.pos_emb = 0;
	CHECK_EQ(mg_gpt_n_params(&c), 9590272 - 128 * 512);
	c.pos_emb = 1;
	c.time_shift = 1; /* no parameters */
	CHECK_EQ(mg_gpt_n_params(&c), 9590272);
	/* GPT-2 small (untied head): 124,439,808 + 50257 x 768 */
	c.n_layer = 12, c.n_head = 12, c.n_embd = 768, c.block_size = 1024, c.vocab_size = 50257, c.time_shift = 0;
	CHECK_EQ(mg_gpt_n_params(&c), 124439808 + 50257 * 768);
}

static void expect_check(mg_gpt_config c, const char *msg)
{
	mg_err e;

	CHECK_EQ(mg_gpt_config_check(&c, &e), MG_E_INVAL);
	if (!strstr(e.msg, msg)) {
		fprintf(stderr, "config_check: '%s' lacks '%s'\n", e.msg, msg);
		check_failures++;
	}
}

static void test_check(void)
{
	mg_gpt_config c = seed_config(), d;
	mg_err e;

	CHECK_EQ(mg_gpt_config_check(&c, &e), MG_OK);
	d = c, d.n_layer = 0, expect_check(d, "n_layer 0 is not in 1..1024");
	d = c, d.n_embd = 100, expect_check(d, "n_embd 100 is not divisible by n_head 8");
	d = c, d.n_head = 0, expect_check(d, "not divisible by n_head 0");
	d = c, d.block_size = 0, expect_check(d, "block_size 0");
	d = c, d.vocab_size = 0, expect_check(d, "vocab_size 0");
	d = c, d.vocab_size = MG_VOCAB_MAX + 1, expect_check(d, "vocab_size 16777217");
	d = c, d.attention = 3, expect_check(d, "attention 3");
	d = c, d.gelu = 2, expect_check(d, "gelu 2");
	d = c, d.time_shift = 2, expect_check(d, "time_shift");
	d = c, d.dropout_attn = 1.0, expect_check(d, "dropout_attn 1 is not in [0, 1)");
	d = c, d.dropout_embd = -0.1, expect_check(d, "dropout_embd");
	d = c, d.dropout_resid = NAN, expect_check(d, "dropout_resid");
	d = c, d.n_embd = 65536, d.n_head = 1, d.vocab_size = 1u << 21, expect_check(d, "2^36");
	d = c, d.attention = MG_ATTN_TIME_WEIGHTING, d.block_size = 65536, d.n_head = 32,
	expect_check(d, "time_weight");
}

static void expect_kv(const mg_kv *kv, const char *msg)
{
	mg_gpt_config c;
	mg_err e;

	CHECK_EQ(mg_gpt_config_from_kv(kv, &c, &e), MG_E_CORRUPT);
	if (!strstr(e.msg, msg)) {
		fprintf(stderr, "config_from_kv: '%s' lacks '%s'\n", e.msg, msg);
		check_failures++;
	}
}

static void test_kv(void)
{
	mg_gpt_config c = seed_config(), back;
	mg_kv kv = { 0 }, bad = { 0 };
	mg_err e;
	static const char *const order[] = { "model", "n_layer", "n_head", "n_embd", "block_size", "vocab_size",
					     "attention", "time_shift", "pos_emb", "gelu", "dropout_embd",
					     "dropout_attn", "dropout_resid" };

	c.attention = MG_ATTN_CIRCULANT, c.time_shift = 1, c.pos_emb = 0, c.gelu = MG_GELU_ERF;
	c.dropout_embd = 0.125, c.dropout_attn = 0.0, c.dropout_resid = 0.3;
	CHECK_EQ(mg_gpt_config_to_kv(&c, &kv, &e), MG_OK);
	CHECK_EQ(kv.n, 13);
	for (size_t i = 0; i < 13 && i < kv.n; i++)
		CHECK(!strcmp(kv.e[i].key, order[i]));
	CHECK(!strcmp(mg_kv_find(&kv, "attention")->s, "circulant"));
	CHECK(!strcmp(mg_kv_find(&kv, "gelu")->s, "erf"));
	CHECK_EQ(mg_gpt_config_from_kv(&kv, &back, &e), MG_OK);
	CHECK(!memcmp(&c, &back, sizeof c));

#define MUTATE(stmt, msg)                                                                     \
	do {                                                                                  \
		mg_kv_free(&bad);                                                             \
		memset(&bad, 0, sizeof bad);                                                  \
		mg_gpt_config_to_kv(&c, &bad, &e);                                            \
		stmt;                                                                         \
		expect_kv(&bad, msg);                                                         \
	} while (0)
	MUTATE(mg_kv_set_int(&bad, "n_layers", 3), "unknown key 'n_layers'");
	MUTATE((bad.e[4] = bad.e[--bad.n]), "no key 'block_size'");
	MUTATE(mg_kv_set_float(&bad, "n_layer", 3.0), "key 'n_layer' of the model configuration is not an integer");
	MUTATE(mg_kv_set_int(&bad, "dropout_attn", 0), "key 'dropout_attn' of the model configuration is not a float");
	MUTATE(mg_kv_set_str(&bad, "model", "rnn", 3), "the model is 'rnn', not 'gpt'");
	MUTATE(mg_kv_set_str(&bad, "attention", "linear", 6), "unknown attention 'linear'");
	MUTATE(mg_kv_set_str(&bad, "gelu", "relu", 4), "unknown gelu 'relu'");
	MUTATE(mg_kv_set_int(&bad, "n_embd", -5), "key 'n_embd' of the model configuration is -5, out of range");
	MUTATE(mg_kv_set_int(&bad, "n_head", 7), "model configuration: n_embd 512 is not divisible by n_head 7");
	MUTATE(mg_kv_set_float(&bad, "dropout_embd", 1.5), "dropout_embd 1.5");
	MUTATE(mg_kv_set_int(&bad, "pos_emb", 2), "pos_emb");
	MUTATE(mg_kv_set_int(&bad, "tie_embeddings", 2), "tie_embeddings");
	MUTATE(mg_kv_set_float(&bad, "tie_embeddings", 1.0),
	       "key 'tie_embeddings' of the model configuration is not an integer");
#undef MUTATE
	/* tie_embeddings: written only when 1, so an untied HEAD is as before;
	 * read as 0 when absent, and an explicit 0 is accepted */
	CHECK(!mg_kv_find(&kv, "tie_embeddings"));
	CHECK_EQ(back.tie_embeddings, 0);
	CHECK_EQ(mg_kv_set_int(&kv, "tie_embeddings", 0), MG_OK);
	CHECK_EQ(mg_gpt_config_from_kv(&kv, &back, &e), MG_OK);
	CHECK(!memcmp(&c, &back, sizeof c));
	mg_kv_free(&kv);
	memset(&kv, 0, sizeof kv);
	c.tie_embeddings = 1;
	CHECK_EQ(mg_gpt_config_to_kv(&c, &kv, &e), MG_OK);
	CHECK_EQ(kv.n, 14);
	CHECK(kv.n == 14 && !strcmp(kv.e[13].key, "tie_embeddings") && kv.e[13].i == 1);
	CHECK_EQ(mg_gpt_config_from_kv(&kv, &back, &e), MG_OK);
	CHECK(!memcmp(&c, &back, sizeof c));
	mg_kv_free(&bad);
	mg_kv_free(&kv);
}

/* Tied embeddings: no lm_head tensor, V x C fewer parameters, the head at
 * wte's offset. */
static void test_tied_layout(void)
{
	mg_gpt_config c = seed_config();
	mg_gpt *g, *u;
	mg_err e;

	CHECK_EQ(mg_gpt_create(&u, &c, &e), MG_OK);
	c.tie_embeddings = 1;
	CHECK_EQ(mg_gpt_create(&g, &c, &e), MG_OK);
	CHECK_EQ(g->n_tensors + 1, u->n_tensors);
	CHECK(mg_gpt_tensor_find(g, "lm_head.weight") == NULL);
	CHECK_EQ(g->lm_head, g->wte);
	CHECK_EQ(mg_gpt_n_params(&c) + (uint64_t)c.vocab_size * c.n_embd, u->n_params);
	CHECK_EQ(mg_gpt_n_params(&c), g->n_params);
	CHECK(!mg_gpt_tensor_find(g, "wte")->decay);
	mg_gpt_free(g);
	mg_gpt_free(u);
}

/* The tensor list of formats/checkpoint.md, in order. */
static void test_layout(void)
{
	mg_gpt_config c = seed_config();
	mg_gpt *g;
	mg_err e;
	static const char *const block[] = { "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
					     "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
					     "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias" };

	for (uint32_t a = 0; a <= MG_ATTN_CIRCULANT; a++) {
		uint32_t k = 0, extra = a == MG_ATTN_TIME_WEIGHTING ? 1 : a == MG_ATTN_CIRCULANT ? 2 : 0;
		uint64_t total = 0;
		c.attention = a, c.n_layer = 2, c.pos_emb = a != MG_ATTN_CIRCULANT;
		CHECK_EQ(mg_gpt_create(&g, &c, &e), MG_OK);
		CHECK_EQ(g->n_tensors, 2 + c.pos_emb + 2 * (12 + extra) + 2);
		CHECK(!strcmp(g->tensors[k++].name, "wte"));
		if (c.pos_emb) {
			CHECK(!strcmp(g->tensors[k].name, "wpe") && g->tensors[k].dims[0] == 128 && g->tensors[k].dims[1] == 512);
			k++;
		}
		for (uint32_t l = 0; l < 2; l++)
			for (uint32_t i = 0; i < 12; i++) {
				char want[64];
				if (i == 6 && a == MG_ATTN_TIME_WEIGHTING) {
					snprintf(want, sizeof want, "h.%u.attn.time_weight", l);
					CHECK(!strcmp(g->tensors[k].name, want));
					CHECK(g->tensors[k].ndim == 3 && g->tensors[k].dims[0] == 8 && g->tensors[k].dims[1] == 128 &&
					      g->tensors[k].dims[2] == 128);
					k++;
				}
				if (i == 6 && a == MG_ATTN_CIRCULANT) {
					snprintf(want, sizeof want, "h.%u.attn.time_w", l);
					CHECK(!strcmp(g->tensors[k++].name, want));
					snprintf(want, sizeof want, "h.%u.attn.time_b", l);
					CHECK(!strcmp(g->tensors[k].name, want));
					CHECK(g->tensors[k].ndim == 2 && g->tensors[k].dims[0] == 8 && g->tensors[k].dims[1] == 128);
					k++;
				}
				snprintf(want, sizeof want, "h.%u.%s", l, block[i]);
				if (strcmp(g->tensors[k].name, want)) {
					fprintf(stderr, "tensor %u is %s, expected %s\n", k, g->tensors[k].name, want);
					check_failures++;
				}
				k++;
			}
		CHECK(!strcmp(g->tensors[k++].name, "ln_f.weight"));
		CHECK(!strcmp(g->tensors[k++].name, "ln_f.bias"));
		CHECK(!strcmp(g->tensors[k].name, "lm_head.weight") && g->tensors[k].dims[0] == 65 &&
		      g->tensors[k].dims[1] == 512);
		CHECK_EQ(k + 1, g->n_tensors);
		{
			const mg_gpt_tensor *t = mg_gpt_tensor_find(g, "h.1.mlp.c_proj.weight");
			CHECK(t && t->ndim == 2 && t->dims[0] == 512 && t->dims[1] == 2048 && t->decay);
			t = mg_gpt_tensor_find(g, "h.0.attn.c_attn.weight");
			CHECK(t && t->dims[0] == 1536 && t->dims[1] == 512);
		}
		for (uint32_t i = 0; i < g->n_tensors; i++) {
			total += g->tensors[i].n;
			CHECK(g->tensors[i].off % 16 == 0);
		}
		CHECK_EQ(total, mg_gpt_n_params(&c));
		CHECK_EQ(g->n_params, total);
		mg_gpt_free(g);
	}
}

static double stddev(const float *x, size_t n, double *mean)
{
	double s = 0, s2 = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i], s2 += (double)x[i] * x[i];
	*mean = s / (double)n;
	return sqrt(s2 / (double)n - *mean * *mean);
}

static void test_init(void)
{
	mg_gpt_config c = seed_config();
	mg_gpt *g, *h;
	mg_err e;
	double mean, sd;

	c.attention = MG_ATTN_CIRCULANT;
	mg_gpt_create(&g, &c, &e);
	mg_gpt_init_weights(g, 1337);
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		const float *x = g->params + t->off;
		sd = stddev(x, t->n, &mean);
		switch (t->init) {
		case MG_INIT_NORMAL:
		case MG_INIT_NORMAL_RESID: {
			double want = t->init == MG_INIT_NORMAL ? 0.02 : 0.02 / sqrt(6.0);
			/* a sample of n normals: sd within 5 standard errors */
			if (fabs(sd - want) > 5 * want / sqrt(2.0 * (double)t->n) || fabs(mean) > 5 * want / sqrt((double)t->n)) {
				fprintf(stderr, "%s: mean %g sd %g, want sd %g\n", t->name, mean, sd, want);
				check_failures++;
			}
			CHECK_EQ(t->init == MG_INIT_NORMAL_RESID, strstr(t->name, "c_proj.weight") != NULL);
			break;
		}
		default:
			for (size_t k = 0; k < t->n; k++)
				if (x[k] != (t->init == MG_INIT_ONE ? 1.0f : 0.0f)) {
					fprintf(stderr, "%s[%zu] = %g\n", t->name, k, x[k]);
					check_failures++;
					break;
				}
		}
	}
	CHECK_EQ(mg_gpt_tensor_find(g, "h.2.attn.time_w")->init, MG_INIT_ONE);
	CHECK_EQ(mg_gpt_tensor_find(g, "h.2.ln_1.bias")->init, MG_INIT_ZERO);
	CHECK_EQ(mg_gpt_tensor_find(g, "ln_f.weight")->init, MG_INIT_ONE);
	/* the same seed gives the same model; a tensor's values do not depend
	 * on the others (vanilla has no time weights, yet equal wte and h.0) */
	c.attention = MG_ATTN_VANILLA;
	mg_gpt_create(&h, &c, &e);
	mg_gpt_init_weights(h, 1337);
	CHECK(!memcmp(g->params + g->wte, h->params + h->wte, 65 * 512 * 4));
	CHECK(!memcmp(g->params + g->blocks[2].mproj_w, h->params + h->blocks[2].mproj_w, 512 * 2048 * 4));
	mg_gpt_init_weights(h, 1338);
	CHECK(memcmp(g->params + g->wte, h->params + h->wte, 65 * 512 * 4));
	mg_gpt_free(g);
	mg_gpt_free(h);
}

/* Writes g (with moments when asked) to a temporary file and reads it back. */
static FILE *write_model(const mg_gpt *g, uint32_t dtype, uint32_t flags, const mg_tokenizer *tk)
{
	FILE *f = tmpfile();
	mg_kv kv = { 0 };
	mg_ckptw *w;
	mg_err e;

	mg_gpt_config_to_kv(mg_gpt_config_of(g), &kv, &e);
	CHECK_EQ(mg_ckptw_open(&w, f, &kv, tk, NULL, 1, &e), MG_OK);
	CHECK_EQ(mg_gpt_write(g, w, dtype, flags, &e), MG_OK);
	CHECK_EQ(mg_ckptw_close(w, &e), MG_OK);
	mg_kv_free(&kv);
	rewind(f);
	return f;
}

/* The contents of f (rewound before and after). */
static size_t file_bytes(FILE *f, uint8_t **out)
{
	size_t n = 0, cap = 1 << 16, got;

	*out = malloc(cap);
	rewind(f);
	while ((got = fread(*out + n, 1, cap - n, f)) > 0)
		if ((n += got) == cap)
			*out = realloc(*out, cap *= 2);
	rewind(f);
	return n;
}

static size_t pack_bytes_f32_only(uint32_t dtype, uint32_t OC, uint32_t IC)
{
	return dtype == MG_DTYPE_F32 ? mg_backend_cpu()->infer_pack_bytes(dtype, OC, IC) : 0;
}

static void test_io(void)
{
	mg_gpt_config c = seed_config();
	mg_gpt *g, *h;
	mg_ckpt ck;
	mg_err e;
	FILE *f;

	c.n_layer = 1, c.n_embd = 64, c.block_size = 32, c.attention = MG_ATTN_TIME_WEIGHTING;
	mg_gpt_create(&g, &c, &e);
	mg_gpt_init_weights(g, 5);
	/* parameters only */
	f = write_model(g, MG_DTYPE_F32, MG_GPT_WRITE_MOMENTS, NULL); /* no moments yet: none written */
	CHECK_EQ(mg_ckpt_read(f, &ck, &e), MG_OK);
	fclose(f);
	CHECK_EQ(ck.n_tensors, g->n_tensors);
	CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_OK);
	CHECK(!memcmp(g->params, h->params, g->n_floats * 4));
	CHECK(!mg_gpt_has_moments(h));
	CHECK(!memcmp(mg_gpt_config_of(g), mg_gpt_config_of(h), sizeof c));
	mg_gpt_free(h);
	mg_ckpt_free(&ck);
	/* with moments, in order: params, first moments, second moments */
	mg_gpt_alloc(g, 1, 4, MG_GPT_ALLOC_TRAIN, &e);
	for (size_t i = 0; i < g->n_floats; i++)
		g->m[i] = (float)i, g->v[i] = (float)(2 * i);
	f = write_model(g, MG_DTYPE_F32, MG_GPT_WRITE_MOMENTS, NULL);
	CHECK_EQ(mg_ckpt_read(f, &ck, &e), MG_OK);
	fclose(f);
	CHECK_EQ(ck.n_tensors, 3 * g->n_tensors);
	for (size_t i = 0; i < ck.n_tensors; i++) {
		CHECK_EQ(ck.t[i].role, i / g->n_tensors);
		CHECK(!strcmp(ck.t[i].name, g->tensors[i % g->n_tensors].name));
		CHECK_EQ(ck.t[i].dtype, MG_DTYPE_F32);
	}
	CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_OK);
	CHECK(mg_gpt_has_moments(h));
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		CHECK(!memcmp(g->m + t->off, h->m + t->off, t->n * 4) && !memcmp(g->v + t->off, h->v + t->off, t->n * 4));
	}
	mg_gpt_free(h);
	/* a missing moment, a bad shape, an unexpected tensor */
	{
		mg_ckpt_tensor saved = ck.t[ck.n_tensors - 1];
		ck.n_tensors--;
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_E_CORRUPT);
		CHECK(strstr(e.msg, "missing tensor 'lm_head.weight' (adam_v)") != NULL);
		ck.n_tensors++;
		ck.t[ck.n_tensors - 1].dims[0] = 64;
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_E_CORRUPT);
		CHECK(strstr(e.msg, "tensor 'lm_head.weight' (adam_v) is 64 x 64, expected 65 x 64") != NULL);
		ck.t[ck.n_tensors - 1] = saved;
		strcpy(ck.t[1].name, "wpe2");
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_E_CORRUPT);
		CHECK(strstr(e.msg, "unexpected tensor 'wpe2'") != NULL);
		strcpy(ck.t[1].name, "wpe");
		mg_kv_set_int(&ck.config, "n_layer", 2);
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_E_CORRUPT);
		CHECK(strstr(e.msg, "missing tensor 'h.1.ln_1.weight' (param)") != NULL);
		mg_kv_set_int(&ck.config, "n_layer", 1);
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_OK);
		mg_gpt_free(h);
	}
	mg_ckpt_free(&ck);
	/* other element types decode to fp32; a tokenizer larger than V */
	{
		static const uint32_t cps[3] = { 'a', 'b', 'c' };
		mg_tokenizer tk;
		mg_backend f32_only = *mg_backend_cpu();
		uint8_t *bytes[2];
		size_t nbytes[2];
		f = write_model(g, MG_DTYPE_BF16, 0, NULL);
		nbytes[0] = file_bytes(f, &bytes[0]);
		CHECK_EQ(mg_ckpt_read(f, &ck, &e), MG_OK);
		fclose(f);
		/* a backend that cannot run bf16 refuses the model, naming the tensor */
		f32_only.infer_pack_bytes = pack_bytes_f32_only;
		CHECK_EQ(mg_gpt_load_on(&h, &ck, &f32_only, &e), MG_E_UNSUPPORTED);
		CHECK(strstr(e.msg, "tensor 'h.0.attn.c_attn.weight' is bf16, which the cpu backend cannot run") != NULL);
		/* the Linear weights stay as stored (a quantized model), the others
		 * decode to fp32 */
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_OK);
		if (!h)
			return;
		CHECK_EQ(mg_gpt_weight_dtype(h), MG_DTYPE_BF16);
		CHECK_EQ(h->n_quant, 5);
		for (uint32_t i = 0; i < g->n_tensors; i++) {
			const mg_gpt_tensor *t = &g->tensors[i], *u = &h->tensors[i];
			const mg_ckpt_tensor *x = mg_ckpt_find(&ck, t->name, MG_ROLE_PARAM);
			if (t->decay) {
				CHECK(u->dtype == MG_DTYPE_BF16 && u->off == MG_GPT_ABSENT);
				CHECK(!memcmp(u->stored, x->data, t->n * 2));
				continue;
			}
			CHECK(u->dtype == MG_DTYPE_F32 && u->stored == NULL);
			for (size_t k = 0; k < t->n; k++)
				if (h->params[u->off + k] != mg_dtype_bf16_to_f32(mg_dtype_f32_to_bf16(g->params[t->off + k]))) {
					check_failures++;
					break;
				}
		}
		CHECK_EQ(mg_gpt_trainable(h, &e), MG_E_UNSUPPORTED);
		CHECK(strstr(e.msg, "the model is quantized ('h.0.attn.c_attn.weight' is bf16)") != NULL);
		CHECK_EQ(mg_gpt_ckpt_trainable(&ck, &e), MG_E_UNSUPPORTED);
		CHECK_EQ(mg_gpt_alloc(h, 1, 4, MG_GPT_ALLOC_TRAIN, &e), MG_E_UNSUPPORTED);
		CHECK_EQ(mg_gpt_init_weights(h, 1), MG_E_UNSUPPORTED);
		CHECK_EQ(mg_gpt_alloc(h, 1, 4, 0, &e), MG_OK);
		/* written back as bf16: the same file, byte for byte */
		f = write_model(h, MG_DTYPE_BF16, 0, NULL);
		nbytes[1] = file_bytes(f, &bytes[1]);
		fclose(f);
		CHECK(nbytes[0] == nbytes[1] && !memcmp(bytes[0], bytes[1], nbytes[0]));
		free(bytes[0]), free(bytes[1]);
		mg_gpt_free(h);
		mg_tokenizer_init_chars(&tk, cps, 3, &e);
		tk.vocab_size = 3;
		mg_kv_set_int(&ck.config, "vocab_size", 2);
		ck.tk = tk, ck.has_tokenizer = 1;
		CHECK_EQ(mg_gpt_load(&h, &ck, &e), MG_E_CORRUPT);
		CHECK(strstr(e.msg, "the embedded tokenizer has 3 tokens, more than vocab_size 2") != NULL);
		mg_ckpt_free(&ck);
	}
	mg_gpt_free(g);
}

static void test_memory(void)
{
	mg_gpt_config c = seed_config();
	mg_gpt *g;
	mg_gpt_memory m;
	mg_err e;

	mg_gpt_create(&g, &c, &e);
	mg_gpt_memory_get(g, &m);
	CHECK(m.params >= 9590272ull * 4 && m.params < 9590272ull * 4 + 64 * 100);
	CHECK(m.grads == 0 && m.moments == 0 && m.activations == 0);
	CHECK_EQ(mg_gpt_alloc(g, 16, 128, MG_GPT_ALLOC_TRAIN, &e), MG_OK);
	mg_gpt_memory_get(g, &m);
	CHECK(m.grads == m.params && m.moments == 2 * m.params);
	CHECK(m.total == m.params + m.grads + m.moments + m.activations + m.scratch);
	printf("  MyGPT's configuration, batch 16 x 128: params %.1f MiB, grads %.1f, moments %.1f, activations %.1f, scratch %.1f,"
	       " total %.1f MiB\n",
	       m.params / 1048576.0, m.grads / 1048576.0, m.moments / 1048576.0, m.activations / 1048576.0,
	       m.scratch / 1048576.0, m.total / 1048576.0);
	mg_gpt_free(g);
}

int main(void)
{
	mg_threads_set(2);
	test_counts();
	test_check();
	test_kv();
	test_layout();
	test_tied_layout();
	test_init();
	test_io();
	test_memory();
	CHECK_DONE();
}
