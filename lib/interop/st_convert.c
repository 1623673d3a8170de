/* GPT models between safetensors files and checkpoints: the configuration
 * (from __metadata__ or told by the shapes), the names and transposes of
 * interop/gpt2_layout.h, and the checks that the tensors are exactly the
 * configuration's. */
#include "interop/st_convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/dtype.h"
#include "model/gpt.h"

void mg_st_convert_opts_default(mg_st_convert_opts *o)
{
	o->n_head = 0;
	o->block_size = 0;
	o->gelu = -1;
}

/* The HEAD keys of formats/checkpoint.md with their types (the model key
 * apart); tie_embeddings is optional there too. */
static const struct {
	const char *key;
	int type;
} config_keys[] = {
	{ "n_layer", MG_KV_INT },        { "n_head", MG_KV_INT },         { "n_embd", MG_KV_INT },
	{ "block_size", MG_KV_INT },     { "vocab_size", MG_KV_INT },     { "attention", MG_KV_STR },
	{ "time_shift", MG_KV_INT },     { "pos_emb", MG_KV_INT },        { "gelu", MG_KV_STR },
	{ "dropout_embd", MG_KV_FLOAT }, { "dropout_attn", MG_KV_FLOAT }, { "dropout_resid", MG_KV_FLOAT },
	{ "tie_embeddings", MG_KV_INT },
};

static void dims_text(char *buf, size_t n, uint32_t rank, const uint64_t *dims)
{
	size_t at = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < rank && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%llu", i ? " x " : "", (unsigned long long)dims[i]);
	if (!rank)
		snprintf(buf, n, "a scalar");
}

/* The configuration of __metadata__: the keys above as text. */
static int config_from_meta(const mg_safetensors *st, mg_gpt_config *c, mg_err *e)
{
	mg_kv kv = { 0 };
	int rc = mg_kv_set_str(&kv, "model", "gpt", 3);

	for (size_t i = 0; i < sizeof config_keys / sizeof *config_keys && !rc; i++) {
		const char *v = mg_safetensors_meta(st, config_keys[i].key);
		char *end;
		if (!v)
			continue;
		errno = 0;
		if (config_keys[i].type == MG_KV_STR) {
			rc = mg_kv_set_str(&kv, config_keys[i].key, v, (uint32_t)strlen(v));
		} else if (config_keys[i].type == MG_KV_INT) {
			long long x = strtoll(v, &end, 10);
			if (!*v || *end || errno || (*v < '0' || *v > '9'))
				rc = mg_err_set(e, MG_E_CORRUPT, "__metadata__: %s '%.40s' is not a non-negative integer",
						config_keys[i].key, v);
			else
				rc = mg_kv_set_int(&kv, config_keys[i].key, x);
		} else {
			double x = strtod(v, &end);
			if (!*v || *end || errno)
				rc = mg_err_set(e, MG_E_CORRUPT, "__metadata__: %s '%.40s' is not a number", config_keys[i].key, v);
			else
				rc = mg_kv_set_float(&kv, config_keys[i].key, x);
		}
		if (rc == MG_E_NOMEM)
			mg_err_set(e, rc, "out of memory");
	}
	if (!rc && (rc = mg_gpt_config_from_kv(&kv, c, e)))
		mg_err_prefix(e, "__metadata__: ");
	mg_kv_free(&kv);
	return rc;
}

/* A value the caller gave against the one the file tells (0: not given). */
static int agree(const char *what, uint32_t given, uint32_t file, mg_err *e)
{
	if (given && given != file)
		return mg_err_set(e, MG_E_INVAL, "%s %u was given, but the file's is %u", what, given, file);
	return MG_OK;
}

/* The configuration told by the tensors (see st_convert.h). map[i]: this
 * model's name of st->t[i], "" when ignored. */
static int config_from_shapes(const mg_safetensors *st, char (*map)[MG_GPT2_LAYOUT_NAME_MAX], int layout,
			      const mg_safetensors_tensor *emb, const mg_st_convert_opts *o, mg_gpt_config *c,
			      mg_st_convert_info *info, mg_err *e)
{
	const mg_safetensors_tensor *tw = NULL;
	uint32_t T = 0, H = 0;
	uint64_t layers = 0;
	int rc;

	memset(c, 0, sizeof *c);
	c->vocab_size = (uint32_t)emb->shape[0];
	c->n_embd = (uint32_t)emb->shape[1];
	for (size_t i = 0; i < st->n; i++) {
		const char *m = map[i];
		if (!strncmp(m, "h.", 2)) {
			uint64_t l = strtoull(m + 2, NULL, 10);
			if (l + 1 > layers)
				layers = l + 1;
			if (!strcmp(strchr(m + 2, '.'), ".attn.time_weight")) {
				c->attention = MG_ATTN_TIME_WEIGHTING;
				tw = &st->t[i];
			} else if (!strcmp(strchr(m + 2, '.'), ".attn.time_w")) {
				c->attention = MG_ATTN_CIRCULANT;
				tw = &st->t[i];
			}
		}
		if (!strcmp(m, "wpe")) {
			c->pos_emb = 1;
			T = st->t[i].rank >= 1 ? (uint32_t)st->t[i].shape[0] : 0;
		}
	}
	if (tw && tw->rank >= 2) { /* time_weight H x T x T, time_w H x T */
		H = (uint32_t)tw->shape[0];
		if (!T)
			T = (uint32_t)tw->shape[1];
	}
	c->n_layer = layers > UINT32_MAX ? UINT32_MAX : (uint32_t)layers;
	if (T && (rc = agree("block_size", o->block_size, T, e)))
		return rc;
	if (!T && !(T = o->block_size))
		return mg_err_set(e, MG_E_INVAL, "the block size cannot be told (no wpe and no time weights): give it");
	c->block_size = T;
	if (H && (rc = agree("n_head", o->n_head, H, e)))
		return rc;
	if (!H && !(H = o->n_head)) {
		if (!c->n_embd || c->n_embd % 64)
			return mg_err_set(e, MG_E_INVAL,
					  "the number of heads cannot be told from the tensors (n_embd %u is not a multiple of GPT-2's head width 64): give it",
					  c->n_embd);
		H = c->n_embd / 64;
		info->n_head_guessed = 1;
	}
	c->n_head = H;
	c->gelu = o->gelu >= 0 ? (uint32_t)o->gelu : layout == MG_GPT2_LAYOUT_HF ? MG_GELU_TANH : MG_GELU_ERF;
	if ((rc = mg_gpt_config_check(c, e))) {
		mg_err_prefix(e, "the configuration the tensors give: ");
		return rc;
	}
	return MG_OK;
}

static int same_bytes(const mg_safetensors_tensor *a, const mg_safetensors_tensor *b)
{
	return a->dtype == b->dtype && a->rank == b->rank && !memcmp(a->shape, b->shape, a->rank * sizeof *a->shape) &&
	       a->end - a->begin == b->end - b->begin && (a->end == a->begin || !memcmp(a->data, b->data, a->end - a->begin));
}

static int listed(const mg_gpt_param *want, uint32_t n, const char *name)
{
	for (uint32_t k = 0; k < n; k++)
		if (!strcmp(want[k].name, name))
			return 1;
	return 0;
}

static int find_mapped(const mg_safetensors *st, char (*map)[MG_GPT2_LAYOUT_NAME_MAX], const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(map[i], name))
			return (int)i;
	return -1;
}

int mg_st_convert_to_ckpt(mg_safetensors *st, const mg_st_convert_opts *o, mg_ckpt *ck, mg_st_convert_info *info,
			  mg_err *e)
{
	char (*map)[MG_GPT2_LAYOUT_NAME_MAX] = calloc(st->n ? st->n : 1, sizeof *map);
	mg_st_convert_info scratch;
	mg_gpt_config c;
	mg_gpt_param *want = NULL;
	uint32_t n_want = 0, ignored = 0;
	int rc = MG_OK, iwte, ihead, iattn, layout;
	mg_st_convert_opts defaults;

	memset(ck, 0, sizeof *ck);
	if (!info)
		info = &scratch;
	memset(info, 0, sizeof *info);
	if (!o)
		mg_st_convert_opts_default(&defaults), o = &defaults;
	if (!map)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	for (size_t i = 0; i < st->n; i++) {
		int r = mg_gpt2_layout_import_name(st->t[i].name, map[i]);
		if (r < 0) {
			rc = mg_err_set(e, MG_E_CORRUPT, "unknown tensor '%.80s' (neither nanoGPT's nor GPT-2's names)",
					st->t[i].name);
			goto out;
		}
		if (r == 0) {
			map[i][0] = 0, ignored++;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(map[j], map[i])) {
				rc = mg_err_set(e, MG_E_CORRUPT, "tensors '%.80s' and '%.80s' are the same parameter",
						st->t[j].name, st->t[i].name);
				goto out;
			}
	}
	info->ignored = ignored;
	iwte = find_mapped(st, map, "wte");
	ihead = find_mapped(st, map, "lm_head.weight");
	if (iwte < 0 && ihead >= 0) { /* a tied file that kept the head's name */
		strcpy(map[ihead], "wte");
		iwte = ihead, ihead = -1;
	}
	if (iwte < 0) {
		rc = mg_err_set(e, MG_E_CORRUPT, "no token embedding (wte.weight or lm_head.weight)");
		goto out;
	}
	if (st->t[iwte].rank != 2) {
		rc = mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s' is not a matrix", st->t[iwte].name);
		goto out;
	}
	/* the layout: Hugging Face's Conv1D stores c_attn C x 3C, nanoGPT's Linear 3C x C */
	iattn = find_mapped(st, map, "h.0.attn.c_attn.weight");
	if (iattn < 0) {
		rc = mg_err_set(e, MG_E_CORRUPT, "no h.0.attn.c_attn.weight: the file has no transformer block 0");
		goto out;
	}
	{
		const mg_safetensors_tensor *a = &st->t[iattn];
		uint64_t C = st->t[iwte].shape[1];
		if (a->rank == 2 && a->shape[0] == 3 * C && a->shape[1] == C)
			layout = MG_GPT2_LAYOUT_NANOGPT;
		else if (a->rank == 2 && a->shape[0] == C && a->shape[1] == 3 * C)
			layout = MG_GPT2_LAYOUT_HF;
		else {
			char have[96];
			dims_text(have, sizeof have, a->rank, a->shape);
			rc = mg_err_set(e, MG_E_CORRUPT,
					"tensor '%.80s' is %s: neither 3C x C (nanoGPT) nor C x 3C (GPT-2's Conv1D) for C = %llu",
					a->name, have, (unsigned long long)C);
			goto out;
		}
	}
	info->layout = layout;
	if (mg_safetensors_meta(st, "model") && !strcmp(mg_safetensors_meta(st, "model"), "gpt")) {
		info->from_metadata = 1;
		if ((rc = config_from_meta(st, &c, e)) || (rc = agree("n_head", o->n_head, c.n_head, e)) ||
		    (rc = agree("block_size", o->block_size, c.block_size, e)))
			goto out;
		if (o->gelu >= 0 && (uint32_t)o->gelu != c.gelu) {
			rc = mg_err_set(e, MG_E_INVAL, "gelu %s was given, but the file's is %s",
					mg_gpt_gelu_name((uint32_t)o->gelu), mg_gpt_gelu_name(c.gelu));
			goto out;
		}
	} else {
		if ((rc = config_from_shapes(st, map, layout, &st->t[iwte], o, &c, info, e)))
			goto out;
		/* no head, or nanoGPT's both names for one matrix */
		c.tie_embeddings = ihead < 0 || same_bytes(&st->t[iwte], &st->t[ihead]);
	}
	if (c.tie_embeddings && ihead >= 0) {
		/* nanoGPT's GPT class has both names for the one matrix */
		if (!same_bytes(&st->t[iwte], &st->t[ihead])) {
			rc = mg_err_set(e, MG_E_CORRUPT, "the model is tied, but '%.80s' differs from '%.80s'",
					st->t[ihead].name, st->t[iwte].name);
			goto out;
		}
		map[ihead][0] = 0;
	}
	if ((rc = mg_gpt_params_list(&c, &want, &n_want, e)))
		goto out;
	/* every tensor of the configuration, with its shape, before moving any */
	for (uint32_t k = 0; k < n_want; k++) {
		int i = find_mapped(st, map, want[k].name), tr;
		uint64_t wd[3];
		const mg_safetensors_tensor *t;
		if (i < 0) {
			rc = mg_err_set(e, MG_E_CORRUPT, "no tensor for '%s' of this configuration", want[k].name);
			goto out;
		}
		t = &st->t[i];
		tr = layout == MG_GPT2_LAYOUT_HF && mg_gpt2_layout_conv1d(want[k].name);
		for (uint32_t d = 0; d < want[k].ndim; d++)
			wd[d] = want[k].dims[tr ? want[k].ndim - 1 - d : d];
		if (t->rank != want[k].ndim || memcmp(t->shape, wd, want[k].ndim * sizeof *wd)) {
			char have[96], need[96];
			dims_text(have, sizeof have, t->rank, t->shape);
			dims_text(need, sizeof need, want[k].ndim, wd);
			rc = mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s' is %s, expected %s", t->name, have, need);
			goto out;
		}
	}
	for (size_t i = 0; i < st->n; i++)
		if (map[i][0] && !listed(want, n_want, map[i])) {
			rc = mg_err_set(e, MG_E_CORRUPT, "unexpected tensor '%.80s' for this configuration", st->t[i].name);
			goto out;
		}
	if ((rc = mg_gpt_config_to_kv(&c, &ck->config, e)))
		goto out;
	if (!(ck->t = calloc(n_want, sizeof *ck->t))) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint32_t k = 0; k < n_want; k++) {
		mg_safetensors_tensor *t = &st->t[find_mapped(st, map, want[k].name)];
		mg_ckpt_tensor *x = &ck->t[k];
		size_t bytes = (size_t)(t->end - t->begin);
		memcpy(x->name, want[k].name, sizeof x->name);
		x->role = MG_ROLE_PARAM;
		x->dtype = t->dtype;
		x->ndim = want[k].ndim;
		memcpy(x->dims, want[k].dims, sizeof want[k].dims);
		x->n = t->n;
		if (layout == MG_GPT2_LAYOUT_HF && mg_gpt2_layout_conv1d(want[k].name)) {
			if (!(x->data = malloc(bytes))) {
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
				goto out;
			}
			mg_gpt2_layout_transpose(x->data, t->data, t->shape[0], t->shape[1], bytes / t->n);
		} else if (t->owned) {
			x->data = t->data, t->data = NULL, t->owned = 0;
		} else if (!(x->data = malloc(bytes))) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
			goto out;
		} else {
			memcpy(x->data, t->data, bytes);
		}
		ck->n_tensors++;
		if (t->owned) { /* transposed: the stored copy is no longer needed */
			free(t->data);
			t->data = NULL, t->owned = 0;
		}
	}
out:
	free(want);
	free(map);
	if (rc)
		mg_ckpt_free(ck);
	return rc;
}

int mg_st_convert_read(FILE *f, const mg_st_convert_opts *o, mg_ckpt *ck, mg_st_convert_info *info, mg_err *e)
{
	mg_safetensors st;
	int rc = mg_safetensors_read(f, &st, e);

	if (rc) {
		memset(ck, 0, sizeof *ck);
		return rc;
	}
	rc = mg_st_convert_to_ckpt(&st, o, ck, info, e);
	mg_safetensors_free(&st);
	return rc;
}

/* ---------------------------------------------------------------- writing */

static int meta_kv(mg_safetensors *st, const mg_kv *kv, const char *prefix, mg_err *e)
{
	for (size_t i = 0; i < kv->n; i++) {
		const mg_kv_entry *x = &kv->e[i];
		char key[MG_KV_KEY_MAX + 16], val[64];
		int rc;
		snprintf(key, sizeof key, "%s%s", prefix, x->key);
		if (x->type == MG_KV_INT)
			snprintf(val, sizeof val, "%lld", (long long)x->i);
		else if (x->type == MG_KV_FLOAT)
			snprintf(val, sizeof val, "%.17g", x->f);
		rc = mg_safetensors_meta_add(st, key, x->type == MG_KV_STR ? x->s : val, e);
		if (rc)
			return rc;
	}
	return MG_OK;
}

int mg_st_convert_from_ckpt(const mg_ckpt *ck, int layout, mg_safetensors *st, mg_err *e)
{
	mg_gpt_config c;
	mg_gpt_param *want = NULL;
	uint32_t n_want = 0;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = mg_gpt_config_from_kv(&ck->config, &c, e)) || (rc = mg_gpt_params_list(&c, &want, &n_want, e)))
		return rc;
	rc = mg_safetensors_meta_add(st, "format", "pt", e);
	rc = rc ? rc : mg_safetensors_meta_add(st, "layout", mg_gpt2_layout_name(layout), e);
	rc = rc ? rc : meta_kv(st, &ck->config, "", e);
	if (!rc && ck->has_train)
		rc = meta_kv(st, &ck->train, "train.", e);
	for (uint32_t k = 0; k < n_want && !rc; k++) {
		const mg_ckpt_tensor *x = mg_ckpt_find(ck, want[k].name, MG_ROLE_PARAM);
		int tr = layout == MG_GPT2_LAYOUT_HF && mg_gpt2_layout_conv1d(want[k].name);
		uint64_t shape[3];
		uint32_t dtype;
		uint8_t *data;
		char name[MG_GPT2_LAYOUT_NAME_MAX];
		if (!x || x->ndim != want[k].ndim || memcmp(x->dims, want[k].dims, x->ndim * sizeof *x->dims)) {
			rc = mg_err_set(e, MG_E_CORRUPT, "the checkpoint's tensor '%s' is %s", want[k].name,
					x ? "not of its configuration's shape" : "missing");
			break;
		}
		for (uint32_t d = 0; d < x->ndim; d++)
			shape[d] = x->dims[tr ? x->ndim - 1 - d : d];
		mg_gpt2_layout_export_name(want[k].name, layout, name);
		dtype = x->dtype == MG_DTYPE_Q8 ? MG_DTYPE_F32 : x->dtype;
		data = x->data;
		if (x->dtype == MG_DTYPE_Q8) { /* q8 has no safetensors dtype: its values as F32 */
			float *f = malloc((size_t)x->n * sizeof *f);
			data = f ? malloc((size_t)x->n * 4) : NULL;
			if (data) {
				mg_dtype_decode(MG_DTYPE_Q8, x->data, x->n, f);
				mg_dtype_encode(MG_DTYPE_F32, f, x->n, data);
			}
			free(f);
		}
		if (data && tr) { /* Conv1D: in x out */
			size_t bytes = (size_t)mg_dtype_bytes(dtype, x->n);
			uint8_t *t = malloc(bytes);
			if (t)
				mg_gpt2_layout_transpose(t, data, x->dims[0], x->dims[1], bytes / x->n);
			if (data != x->data)
				free(data);
			data = t;
		}
		if (!data) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
			break;
		}
		if ((rc = mg_safetensors_add(st, name, dtype, x->ndim, shape, data, e))) {
			if (data != x->data)
				free(data);
			break;
		}
		st->t[st->n - 1].owned = data != x->data;
		if (c.tie_embeddings && layout == MG_GPT2_LAYOUT_NANOGPT && !strcmp(want[k].name, "wte")) {
			/* nanoGPT's GPT class holds the tied matrix under both names */
			if ((rc = mg_safetensors_add(st, "lm_head.weight", dtype, x->ndim, shape, data, e)))
				break;
		}
	}
	free(want);
	if (rc)
		mg_safetensors_free(st);
	return rc;
}

int mg_st_convert_write(FILE *f, const mg_ckpt *ck, int layout, mg_err *e)
{
	mg_safetensors st;
	int rc = mg_st_convert_from_ckpt(ck, layout, &st, e);

	if (rc)
		return rc;
	rc = mg_safetensors_write(f, &st, e);
	mg_safetensors_free(&st);
	return rc;
}
