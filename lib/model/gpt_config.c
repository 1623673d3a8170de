/* The GPT configuration: defaults, validation, the HEAD keys of a
 * checkpoint (formats/checkpoint.md) and the parameter count. */
#include <math.h>
#include <string.h>

#include "io/ckpt.h" /* MG_VOCAB_MAX, the formats' limit, through the embedded tokenizer */
#include "model/gpt.h"

static const char *const attention_names[] = { "vanilla", "time-weighting", "circulant", NULL };
static const char *const gelu_names[] = { "tanh", "erf", NULL };

const char *mg_gpt_attention_name(uint32_t a) { return a <= MG_ATTN_CIRCULANT ? attention_names[a] : "unknown"; }
const char *mg_gpt_gelu_name(uint32_t g) { return g <= MG_GELU_ERF ? gelu_names[g] : "unknown"; }

void mg_gpt_config_default(mg_gpt_config *c)
{
	memset(c, 0, sizeof *c);
	c->n_layer = 3;
	c->n_head = 8;
	c->n_embd = 512;
	c->block_size = 128;
	c->vocab_size = 0;
	c->attention = MG_ATTN_VANILLA;
	c->time_shift = 0;
	c->pos_emb = 1;
	c->gelu = MG_GELU_TANH;
	c->dropout_embd = c->dropout_attn = c->dropout_resid = 0.1;
}

static uint64_t time_weights(const mg_gpt_config *c)
{
	uint64_t H = c->n_head, T = c->block_size;

	switch (c->attention) {
	case MG_ATTN_TIME_WEIGHTING: return H * T * T;
	case MG_ATTN_CIRCULANT: return 2 * H * T;
	default: return 0;
	}
}

uint64_t mg_gpt_n_params(const mg_gpt_config *c)
{
	uint64_t C = c->n_embd, V = c->vocab_size, T = c->block_size;
	uint64_t block = 2 * C                    /* ln_1 */
			 + 3 * C * C + 3 * C      /* attn.c_attn */
			 + C * C + C              /* attn.c_proj */
			 + time_weights(c) + 2 * C /* time weights, ln_2 */
			 + 4 * C * C + 4 * C      /* mlp.c_fc */
			 + 4 * C * C + C;         /* mlp.c_proj */

	return V * C + (c->pos_emb ? T * C : 0) + c->n_layer * block + 2 * C + (c->tie_embeddings ? 0 : V * C);
}

static int bad(mg_err *e, const char *fmt, unsigned long long a, unsigned long long b)
{
	return mg_err_set(e, MG_E_INVAL, fmt, a, b);
}

int mg_gpt_config_check(const mg_gpt_config *c, mg_err *e)
{
	uint64_t C = c->n_embd, H = c->n_head, T = c->block_size;
	const double *drops[] = { &c->dropout_embd, &c->dropout_attn, &c->dropout_resid };
	static const char *const drop_names[] = { "dropout_embd", "dropout_attn", "dropout_resid" };

	if (c->n_layer < 1 || c->n_layer > MG_GPT_LAYERS_MAX)
		return bad(e, "n_layer %llu is not in 1..%llu", c->n_layer, MG_GPT_LAYERS_MAX);
	if (c->n_embd < 1 || c->n_embd > MG_GPT_EMBD_MAX)
		return bad(e, "n_embd %llu is not in 1..%llu", c->n_embd, MG_GPT_EMBD_MAX);
	if (c->n_head < 1 || c->n_embd % c->n_head)
		return bad(e, "n_embd %llu is not divisible by n_head %llu", c->n_embd, c->n_head);
	if (c->block_size < 1 || c->block_size > MG_GPT_BLOCK_MAX)
		return bad(e, "block_size %llu is not in 1..%llu", c->block_size, MG_GPT_BLOCK_MAX);
	if (c->vocab_size < 1 || c->vocab_size > MG_VOCAB_MAX)
		return bad(e, "vocab_size %llu is not in 1..%llu", c->vocab_size, MG_VOCAB_MAX);
	if (c->attention > MG_ATTN_CIRCULANT)
		return bad(e, "attention %llu is not a known variant (0..%llu)", c->attention, MG_ATTN_CIRCULANT);
	if (c->gelu > MG_GELU_ERF)
		return bad(e, "gelu %llu is not a known kind (0..%llu)", c->gelu, MG_GELU_ERF);
	if (c->time_shift > 1 || c->pos_emb > 1 || c->tie_embeddings > 1)
		return mg_err_set(e, MG_E_INVAL, "time_shift, pos_emb and tie_embeddings must be 0 or 1");
	for (int i = 0; i < 3; i++)
		if (!(*drops[i] >= 0.0 && *drops[i] < 1.0))
			return mg_err_set(e, MG_E_INVAL, "%s %g is not in [0, 1)", drop_names[i], *drops[i]);
	if ((uint64_t)c->vocab_size * C > MG_TENSOR_ELEMS_MAX)
		return bad(e, "wte of %llu x %llu is over the format's 2^36 elements", c->vocab_size, C);
	if (c->attention == MG_ATTN_TIME_WEIGHTING && H * T * T > MG_TENSOR_ELEMS_MAX)
		return bad(e, "time_weight of %llu heads x %llu^2 positions is over the format's 2^36 elements", H, T);
	return MG_OK;
}

/* The HEAD keys in the order of the table of formats/checkpoint.md; the
 * optional ones (0 when absent) from K_OPTIONAL on. */
enum {
	K_MODEL, K_LAYER, K_HEAD, K_EMBD, K_BLOCK, K_VOCAB, K_ATTN, K_SHIFT, K_POS, K_GELU, K_DE, K_DA, K_DR, K_TIE,
	K_COUNT, K_OPTIONAL = K_TIE
};
static const struct {
	const char *key;
	int type;
} keys[K_COUNT] = {
	{ "model", MG_KV_STR },        { "n_layer", MG_KV_INT },       { "n_head", MG_KV_INT },
	{ "n_embd", MG_KV_INT },       { "block_size", MG_KV_INT },    { "vocab_size", MG_KV_INT },
	{ "attention", MG_KV_STR },    { "time_shift", MG_KV_INT },    { "pos_emb", MG_KV_INT },
	{ "gelu", MG_KV_STR },         { "dropout_embd", MG_KV_FLOAT }, { "dropout_attn", MG_KV_FLOAT },
	{ "dropout_resid", MG_KV_FLOAT }, { "tie_embeddings", MG_KV_INT },
};

static const char *type_name(int t) { return t == MG_KV_INT ? "an integer" : t == MG_KV_FLOAT ? "a float" : "a string"; }

static int choice(const mg_kv_entry *x, const char *const *names, uint32_t *out)
{
	for (uint32_t i = 0; names[i]; i++)
		if (strlen(names[i]) == x->slen && !memcmp(x->s, names[i], x->slen)) {
			*out = i;
			return 1;
		}
	return 0;
}

int mg_gpt_config_from_kv(const mg_kv *kv, mg_gpt_config *c, mg_err *e)
{
	const mg_kv_entry *x[K_COUNT];
	uint32_t *ints[K_COUNT] = { NULL };
	double *floats[K_COUNT] = { NULL };

	memset(c, 0, sizeof *c);
	ints[K_LAYER] = &c->n_layer, ints[K_HEAD] = &c->n_head, ints[K_EMBD] = &c->n_embd;
	ints[K_BLOCK] = &c->block_size, ints[K_VOCAB] = &c->vocab_size, ints[K_SHIFT] = &c->time_shift;
	ints[K_POS] = &c->pos_emb, ints[K_TIE] = &c->tie_embeddings;
	floats[K_DE] = &c->dropout_embd, floats[K_DA] = &c->dropout_attn, floats[K_DR] = &c->dropout_resid;
	for (size_t i = 0; i < kv->n; i++) {
		int k;
		for (k = 0; k < K_COUNT && strcmp(kv->e[i].key, keys[k].key); k++)
			;
		if (k == K_COUNT)
			return mg_err_set(e, MG_E_CORRUPT, "unknown key '%s' in the model configuration", kv->e[i].key);
	}
	for (int k = 0; k < K_COUNT; k++) {
		x[k] = mg_kv_find(kv, keys[k].key);
		if (!x[k] && k >= K_OPTIONAL)
			continue;
		if (!x[k])
			return mg_err_set(e, MG_E_CORRUPT, "the model configuration has no key '%s'", keys[k].key);
		if (x[k]->type != keys[k].type)
			return mg_err_set(e, MG_E_CORRUPT, "key '%s' of the model configuration is not %s", keys[k].key,
					  type_name(keys[k].type));
		if (ints[k]) {
			if (x[k]->i < 0 || x[k]->i > UINT32_MAX)
				return mg_err_set(e, MG_E_CORRUPT, "key '%s' of the model configuration is %lld, out of range",
						  keys[k].key, (long long)x[k]->i);
			*ints[k] = (uint32_t)x[k]->i;
		}
		if (floats[k])
			*floats[k] = x[k]->f;
	}
	if (x[K_MODEL]->slen != 3 || memcmp(x[K_MODEL]->s, "gpt", 3))
		return mg_err_set(e, MG_E_CORRUPT, "the model is '%.*s', not 'gpt'",
				  (int)(x[K_MODEL]->slen < 64 ? x[K_MODEL]->slen : 64), x[K_MODEL]->s);
	if (!choice(x[K_ATTN], attention_names, &c->attention))
		return mg_err_set(e, MG_E_CORRUPT, "unknown attention '%.*s'",
				  (int)(x[K_ATTN]->slen < 64 ? x[K_ATTN]->slen : 64), x[K_ATTN]->s);
	if (!choice(x[K_GELU], gelu_names, &c->gelu))
		return mg_err_set(e, MG_E_CORRUPT, "unknown gelu '%.*s'", (int)(x[K_GELU]->slen < 64 ? x[K_GELU]->slen : 64),
				  x[K_GELU]->s);
	if (mg_gpt_config_check(c, e)) {
		if (e)
			e->code = MG_E_CORRUPT;
		mg_err_prefix(e, "model configuration: ");
		return MG_E_CORRUPT;
	}
	return MG_OK;
}

int mg_gpt_config_to_kv(const mg_gpt_config *c, mg_kv *kv, mg_err *e)
{
	const char *attn = mg_gpt_attention_name(c->attention), *gelu = mg_gpt_gelu_name(c->gelu);
	int rc = mg_kv_set_str(kv, "model", "gpt", 3);

	rc = rc ? rc : mg_kv_set_int(kv, "n_layer", c->n_layer);
	rc = rc ? rc : mg_kv_set_int(kv, "n_head", c->n_head);
	rc = rc ? rc : mg_kv_set_int(kv, "n_embd", c->n_embd);
	rc = rc ? rc : mg_kv_set_int(kv, "block_size", c->block_size);
	rc = rc ? rc : mg_kv_set_int(kv, "vocab_size", c->vocab_size);
	rc = rc ? rc : mg_kv_set_str(kv, "attention", attn, (uint32_t)strlen(attn));
	rc = rc ? rc : mg_kv_set_int(kv, "time_shift", c->time_shift);
	rc = rc ? rc : mg_kv_set_int(kv, "pos_emb", c->pos_emb);
	rc = rc ? rc : mg_kv_set_str(kv, "gelu", gelu, (uint32_t)strlen(gelu));
	rc = rc ? rc : mg_kv_set_float(kv, "dropout_embd", c->dropout_embd);
	rc = rc ? rc : mg_kv_set_float(kv, "dropout_attn", c->dropout_attn);
	rc = rc ? rc : mg_kv_set_float(kv, "dropout_resid", c->dropout_resid);
	if (c->tie_embeddings)
		rc = rc ? rc : mg_kv_set_int(kv, "tie_embeddings", 1);
	return rc ? mg_err_set(e, rc, "out of memory") : MG_OK;
}

int mg_gpt_config_set_dropout(mg_kv *kv, double p, mg_err *e)
{
	if (!(p >= 0.0 && p < 1.0))
		return mg_err_set(e, MG_E_INVAL, "dropout %g is not in [0, 1)", p);
	for (int k = K_DE; k <= K_DR; k++)
		if (mg_kv_set_float(kv, keys[k].key, p))
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
	return MG_OK;
}
