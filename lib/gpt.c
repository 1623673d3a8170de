/* The GPT model's parameters: their layout in one flat buffer (in the
 * tensor order of formats/checkpoint.md), minGPT's initialisation, and
 * reading and writing them in checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt_impl.h"
#include "rng.h"
#include "threads.h"

#define ALIGN_FLOATS 16 /* 64 bytes: every tensor starts on a cache line */

static size_t add(mg_gpt *g, const char *name, uint32_t ndim, uint32_t d0, uint32_t d1, uint32_t d2, int init,
		  int decay)
{
	mg_gpt_tensor *t = &g->tensors[g->n_tensors++];

	snprintf(t->name, sizeof t->name, "%s", name);
	t->ndim = ndim;
	t->dims[0] = d0, t->dims[1] = d1, t->dims[2] = d2;
	t->n = (size_t)d0 * (ndim > 1 ? d1 : 1) * (ndim > 2 ? d2 : 1);
	t->off = g->n_floats;
	t->init = init;
	t->decay = decay;
	g->n_floats += (t->n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	g->n_params += t->n;
	return t->off;
}

int mg_gpt_layout(mg_gpt *g, mg_err *e)
{
	const mg_gpt_config *c = &g->cfg;
	uint32_t C = c->n_embd, H = c->n_head, T = c->block_size, V = c->vocab_size;
	char nm[MG_TENSOR_NAME_MAX + 1];

	g->tensors = calloc((size_t)c->n_layer * 15 + 6, sizeof *g->tensors);
	g->blocks = calloc(c->n_layer, sizeof *g->blocks);
	if (!g->tensors || !g->blocks)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	g->n_tensors = 0;
	g->n_floats = 0;
	g->n_params = 0;
	g->wte = add(g, "wte", 2, V, C, 0, MG_INIT_NORMAL, 0);
	g->wpe = c->pos_emb ? add(g, "wpe", 2, T, C, 0, MG_INIT_NORMAL, 0) : MG_GPT_ABSENT;
	for (uint32_t l = 0; l < c->n_layer; l++) {
		mg_gpt_block *b = &g->blocks[l];
#define P(field, suffix, ...) (snprintf(nm, sizeof nm, "h.%u.%s", l, suffix), b->field = add(g, nm, __VA_ARGS__))
		P(ln1_w, "ln_1.weight", 1, C, 0, 0, MG_INIT_ONE, 0);
		P(ln1_b, "ln_1.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
		P(attn_w, "attn.c_attn.weight", 2, 3 * C, C, 0, MG_INIT_NORMAL, 1);
		P(attn_b, "attn.c_attn.bias", 1, 3 * C, 0, 0, MG_INIT_ZERO, 0);
		P(aproj_w, "attn.c_proj.weight", 2, C, C, 0, MG_INIT_NORMAL_RESID, 1);
		P(aproj_b, "attn.c_proj.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
		b->tw = b->tw_w = b->tw_b = MG_GPT_ABSENT;
		if (c->attention == MG_ATTN_TIME_WEIGHTING)
			P(tw, "attn.time_weight", 3, H, T, T, MG_INIT_ONE, 0);
		if (c->attention == MG_ATTN_CIRCULANT) {
			P(tw_w, "attn.time_w", 2, H, T, 0, MG_INIT_ONE, 0);
			P(tw_b, "attn.time_b", 2, H, T, 0, MG_INIT_ONE, 0);
		}
		P(ln2_w, "ln_2.weight", 1, C, 0, 0, MG_INIT_ONE, 0);
		P(ln2_b, "ln_2.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
		P(fc_w, "mlp.c_fc.weight", 2, 4 * C, C, 0, MG_INIT_NORMAL, 1);
		P(fc_b, "mlp.c_fc.bias", 1, 4 * C, 0, 0, MG_INIT_ZERO, 0);
		P(mproj_w, "mlp.c_proj.weight", 2, C, 4 * C, 0, MG_INIT_NORMAL_RESID, 1);
		P(mproj_b, "mlp.c_proj.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
#undef P
	}
	g->lnf_w = add(g, "ln_f.weight", 1, C, 0, 0, MG_INIT_ONE, 0);
	g->lnf_b = add(g, "ln_f.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
	g->lm_head = add(g, "lm_head.weight", 2, V, C, 0, MG_INIT_NORMAL, 1);
	return MG_OK;
}

const mg_gpt_tensor *mg_gpt_tensor_find(const mg_gpt *g, const char *name)
{
	for (uint32_t i = 0; i < g->n_tensors; i++)
		if (!strcmp(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}

int mg_gpt_create(mg_gpt **out, const mg_gpt_config *c, mg_err *e)
{
	mg_gpt *g;
	int rc;

	*out = NULL;
	if ((rc = mg_gpt_config_check(c, e)))
		return rc;
	g = calloc(1, sizeof *g);
	if (!g)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	g->cfg = *c;
	g->be = mg_backend_cpu();
	if ((rc = mg_gpt_layout(g, e))) {
		mg_gpt_free(g);
		return rc;
	}
	g->params = g->be->alloc(g->n_floats * sizeof(float));
	if (!g->params) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory for %llu parameters", (unsigned long long)g->n_params);
		mg_gpt_free(g);
		return rc;
	}
	*out = g;
	return MG_OK;
}

void mg_gpt_free(mg_gpt *g)
{
	if (!g)
		return;
	mg_gpt_free_acts(g);
	if (g->be) {
		g->be->free(g->params);
		g->be->free(g->grads);
		g->be->free(g->m);
		g->be->free(g->v);
	}
	free(g->tensors);
	free(g->blocks);
	free(g);
}

const mg_gpt_config *mg_gpt_config_of(const mg_gpt *g) { return &g->cfg; }
int mg_gpt_has_moments(const mg_gpt *g) { return g->m != NULL; }

/* FNV-1a of a tensor name: with the seed it keys the tensor's stream. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

void mg_gpt_init_weights(mg_gpt *g, uint64_t seed)
{
	double resid_std = 0.02 / sqrt(2.0 * g->cfg.n_layer);

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic)
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		float *x = g->params + t->off;
		mg_rng r;
		double std = t->init == MG_INIT_NORMAL_RESID ? resid_std : 0.02;

		mg_rng_seed(&r, mg_hash64(seed ^ name_hash(t->name)));
		for (size_t k = 0; k < t->n; k++)
			x[k] = t->init == MG_INIT_ONE ? 1.0f
			       : t->init == MG_INIT_ZERO ? 0.0f
							 : (float)(std * mg_rng_normal(&r));
	}
	if (g->m) {
		g->be->zero(g->m, g->n_floats);
		g->be->zero(g->v, g->n_floats);
	}
}

static void dims_text(char *buf, size_t n, uint32_t ndim, const uint32_t *dims)
{
	size_t at = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < ndim && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%u", i ? " x " : "", dims[i]);
}

int mg_gpt_load(mg_gpt **out, const mg_ckpt *ck, mg_err *e)
{
	mg_gpt_config c;
	mg_gpt *g;
	float *bufs[MG_ROLE_COUNT];
	size_t found[MG_ROLE_COUNT] = { 0 };
	int rc;

	*out = NULL;
	if ((rc = mg_gpt_config_from_kv(&ck->config, &c, e)))
		return rc;
	if (ck->has_tokenizer && ck->tk.vocab_size > c.vocab_size)
		return mg_err_set(e, MG_E_CORRUPT, "the embedded tokenizer has %u tokens, more than vocab_size %u",
				  ck->tk.vocab_size, c.vocab_size);
	if ((rc = mg_gpt_create(&g, &c, e)))
		return rc;
	for (size_t i = 0; i < ck->n_tensors; i++)
		if (ck->t[i].role != MG_ROLE_PARAM)
			found[ck->t[i].role]++;
	if (found[MG_ROLE_ADAM_M] || found[MG_ROLE_ADAM_V]) {
		g->m = g->be->alloc(g->n_floats * sizeof(float));
		g->v = g->be->alloc(g->n_floats * sizeof(float));
		if (!g->m || !g->v) {
			mg_gpt_free(g);
			return mg_err_set(e, MG_E_NOMEM, "out of memory for the AdamW moments");
		}
	}
	bufs[MG_ROLE_PARAM] = g->params, bufs[MG_ROLE_ADAM_M] = g->m, bufs[MG_ROLE_ADAM_V] = g->v;
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_tensor *x = &ck->t[i];
		const mg_gpt_tensor *t = mg_gpt_tensor_find(g, x->name);
		if (!t) {
			rc = mg_err_set(e, MG_E_CORRUPT, "unexpected tensor '%s' for this configuration", x->name);
			goto fail;
		}
		if (x->ndim != t->ndim || memcmp(x->dims, t->dims, t->ndim * sizeof *t->dims)) {
			char have[64], want[64];
			dims_text(have, sizeof have, x->ndim, x->dims);
			dims_text(want, sizeof want, t->ndim, t->dims);
			rc = mg_err_set(e, MG_E_CORRUPT, "tensor '%s' (%s) is %s, expected %s", x->name, mg_role_name(x->role),
					have, want);
			goto fail;
		}
		mg_dtype_decode(x->dtype, x->data, x->n, bufs[x->role] + t->off);
	}
	/* every (name, role) appears at most once (mg_ckpt_read checks), so
	 * counting is enough to know that each role is complete */
	found[MG_ROLE_PARAM] = 0;
	for (size_t i = 0; i < ck->n_tensors; i++)
		if (ck->t[i].role == MG_ROLE_PARAM)
			found[MG_ROLE_PARAM]++;
	for (uint32_t r = 0; r < MG_ROLE_COUNT; r++) {
		if (r != MG_ROLE_PARAM && !g->m)
			continue;
		if (found[r] != g->n_tensors)
			for (uint32_t i = 0; i < g->n_tensors; i++)
				if (!mg_ckpt_find(ck, g->tensors[i].name, r)) {
					rc = mg_err_set(e, MG_E_CORRUPT, "missing tensor '%s' (%s)", g->tensors[i].name,
							mg_role_name(r));
					goto fail;
				}
	}
	*out = g;
	return MG_OK;
fail:
	mg_gpt_free(g);
	return rc;
}

int mg_gpt_write(const mg_gpt *g, mg_ckptw *w, uint32_t dtype, uint32_t flags, mg_err *e)
{
	const float *bufs[MG_ROLE_COUNT] = { g->params, g->m, g->v };
	uint32_t roles = (flags & MG_GPT_WRITE_MOMENTS) && g->m ? MG_ROLE_COUNT : 1;
	int rc;

	for (uint32_t r = 0; r < roles; r++)
		for (uint32_t i = 0; i < g->n_tensors; i++) {
			const mg_gpt_tensor *t = &g->tensors[i];
			if ((rc = mg_ckptw_tensor(w, t->name, r, r == MG_ROLE_PARAM ? dtype : MG_DTYPE_F32, t->ndim, t->dims,
						  bufs[r] + t->off, e)))
				return rc;
		}
	return MG_OK;
}
