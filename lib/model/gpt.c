/* The GPT model's parameters: their layout in one flat buffer (in the
 * tensor order of formats/checkpoint.md), minGPT's initialisation, and
 * reading and writing them in checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "model/gpt_internal.h"

#define ALIGN_FLOATS 16 /* 64 bytes: every tensor starts on a cache line */

static size_t add(mg_gpt *g, const char *name, uint32_t ndim, uint32_t d0, uint32_t d1, uint32_t d2, int init,
		  int decay)
{
	uint32_t i = g->n_tensors++;
	mg_gpt_tensor *t = &g->tensors[i];

	snprintf(t->name, sizeof t->name, "%s", name);
	t->ndim = ndim;
	t->dims[0] = d0, t->dims[1] = d1, t->dims[2] = d2;
	t->n = (size_t)d0 * (ndim > 1 ? d1 : 1) * (ndim > 2 ? d2 : 1);
	t->init = init;
	t->decay = decay;
	t->dtype = g->layout_dtypes ? g->layout_dtypes[i] : MG_DTYPE_F32;
	g->n_params += t->n;
	if (t->dtype != MG_DTYPE_F32) { /* kept as stored: no float slot */
		g->n_quant++;
		return t->off = MG_GPT_ABSENT;
	}
	t->off = g->n_floats;
	g->n_floats += (t->n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
	return t->off;
}

int mg_gpt_layout(mg_gpt *g, mg_err *e)
{
	const mg_gpt_config *c = &g->cfg;
	uint32_t C = c->n_embd, H = c->n_head, T = c->block_size, V = c->vocab_size;
	char nm[MG_TENSOR_NAME_MAX + 1];

	g->tensors = calloc((size_t)c->n_layer * 15 + 6, sizeof *g->tensors);
	g->blocks = calloc(c->n_layer, sizeof *g->blocks);
	g->lin = calloc((size_t)c->n_layer * 4, sizeof *g->lin);
	if (!g->tensors || !g->blocks || !g->lin)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	g->n_tensors = 0;
	g->n_floats = 0;
	g->n_params = 0;
	g->n_quant = 0;
	g->wte = add(g, "wte", 2, V, C, 0, MG_INIT_NORMAL, 0);
	g->wpe = c->pos_emb ? add(g, "wpe", 2, T, C, 0, MG_INIT_NORMAL, 0) : MG_GPT_ABSENT;
	for (uint32_t l = 0; l < c->n_layer; l++) {
		mg_gpt_block *b = &g->blocks[l];
#define P(field, suffix, ...) (snprintf(nm, sizeof nm, "h.%u.%s", l, suffix), b->field = add(g, nm, __VA_ARGS__))
		P(ln1_w, "ln_1.weight", 1, C, 0, 0, MG_INIT_ONE, 0);
		P(ln1_b, "ln_1.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
		P(attn_w, "attn.c_attn.weight", 2, 3 * C, C, 0, MG_INIT_NORMAL, 1);
		g->lin[4 * l] = g->n_tensors - 1;
		P(attn_b, "attn.c_attn.bias", 1, 3 * C, 0, 0, MG_INIT_ZERO, 0);
		P(aproj_w, "attn.c_proj.weight", 2, C, C, 0, MG_INIT_NORMAL_RESID, 1);
		g->lin[4 * l + 1] = g->n_tensors - 1;
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
		g->lin[4 * l + 2] = g->n_tensors - 1;
		P(fc_b, "mlp.c_fc.bias", 1, 4 * C, 0, 0, MG_INIT_ZERO, 0);
		P(mproj_w, "mlp.c_proj.weight", 2, C, 4 * C, 0, MG_INIT_NORMAL_RESID, 1);
		g->lin[4 * l + 3] = g->n_tensors - 1;
		P(mproj_b, "mlp.c_proj.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
#undef P
	}
	g->lnf_w = add(g, "ln_f.weight", 1, C, 0, 0, MG_INIT_ONE, 0);
	g->lnf_b = add(g, "ln_f.bias", 1, C, 0, 0, MG_INIT_ZERO, 0);
	/* tied (GPT-2): the head is wte (tensor 0, always f32: only weights
	 * that decay are kept quantized), reads its floats, and its gradient
	 * adds into wte's, as every backward op adds into its weight gradient */
	if (c->tie_embeddings) {
		g->lm_head = g->wte;
		g->lin_head = 0;
	} else {
		g->lm_head = add(g, "lm_head.weight", 2, V, C, 0, MG_INIT_NORMAL, 1);
		g->lin_head = g->n_tensors - 1;
	}
	return MG_OK;
}

const mg_gpt_tensor *mg_gpt_tensor_find(const mg_gpt *g, const char *name)
{
	for (uint32_t i = 0; i < g->n_tensors; i++)
		if (!strcmp(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}

/* A model with its layout (the tensor table) but no buffers yet; dtypes:
 * as g->layout_dtypes (NULL: all f32). */
static int create_layout(mg_gpt **out, const mg_gpt_config *c, const mg_backend *be, const uint32_t *dtypes,
			 mg_err *e)
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
	g->be = be;
	g->layout_dtypes = dtypes;
	rc = mg_gpt_layout(g, e);
	g->layout_dtypes = NULL;
	if (rc) {
		mg_gpt_free(g);
		return rc;
	}
	*out = g;
	return MG_OK;
}

static int alloc_params(mg_gpt *g, mg_err *e)
{
	g->params = g->be->alloc(g->n_floats * sizeof(float));
	if (!g->params)
		return mg_err_set(e, MG_E_NOMEM, "out of memory for %llu parameters", (unsigned long long)g->n_params);
	return MG_OK;
}

int mg_gpt_create_on(mg_gpt **out, const mg_gpt_config *c, const mg_backend *be, mg_err *e)
{
	int rc;

	if ((rc = create_layout(out, c, be, NULL, e)))
		return rc;
	if ((rc = alloc_params(*out, e))) {
		mg_gpt_free(*out);
		*out = NULL;
	}
	return rc;
}

int mg_gpt_create(mg_gpt **out, const mg_gpt_config *c, mg_err *e)
{
	return mg_gpt_create_on(out, c, mg_backend_cpu(), e);
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
		for (uint32_t i = 0; g->tensors && i < g->n_tensors; i++)
			g->be->free(g->tensors[i].packed);
	}
	for (uint32_t i = 0; g->tensors && i < g->n_tensors; i++)
		free(g->tensors[i].stored);
	free(g->tensors);
	free(g->blocks);
	free(g->lin);
	free(g);
}

const mg_gpt_config *mg_gpt_config_of(const mg_gpt *g) { return &g->cfg; }
const mg_backend *mg_gpt_backend(const mg_gpt *g) { return g->be; }

uint32_t mg_gpt_weight_dtype(const mg_gpt *g)
{
	for (uint32_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].dtype != MG_DTYPE_F32)
			return g->tensors[i].dtype;
	return MG_DTYPE_F32;
}

static int quantized(mg_err *e, const char *name, uint32_t dtype)
{
	return mg_err_set(e, MG_E_UNSUPPORTED,
			  "the model is quantized ('%s' is %s): it runs inference only; "
			  "gpt-convert --dtype f32 expands it for training",
			  name, mg_dtype_name(dtype));
}

int mg_gpt_trainable(const mg_gpt *g, mg_err *e)
{
	for (uint32_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].dtype != MG_DTYPE_F32)
			return quantized(e, g->tensors[i].name, g->tensors[i].dtype);
	return MG_OK;
}

int mg_gpt_check(const mg_gpt *g, mg_err *e)
{
	const char *msg = g->be->error ? g->be->error() : NULL;

	return msg ? mg_err_set(e, MG_E_IO, "%s", msg) : MG_OK;
}

/* Host staging of a device backend: a host buffer of the flat layout, with
 * the contents of src when given (NULL when out of memory). For the CPU
 * backend the buffers themselves are used and nothing is copied. */
static float *stage_in(const mg_gpt *g, const float *src)
{
	float *h = malloc(g->n_floats * sizeof *h);

	if (h && src)
		g->be->download(h, src, g->n_floats * sizeof *h);
	else if (h)
		memset(h, 0, g->n_floats * sizeof *h);
	return h;
}

int mg_gpt_set_backend(mg_gpt *g, const mg_backend *be, mg_err *e)
{
	float **bufs[] = { &g->params, &g->grads, &g->m, &g->v }, *moved[4] = { NULL, NULL, NULL, NULL };
	size_t bytes = g->n_floats * sizeof(float);
	int rc;

	if (g->B)
		return mg_err_set(e, MG_E_INVAL, "the backend must be set before mg_gpt_alloc");
	if (be == g->be)
		return MG_OK;
	if ((rc = mg_gpt_trainable(g, e))) {
		mg_err_prefix(e, "%s backend: ", be->name);
		return rc;
	}
	for (int i = 0; i < 4; i++) {
		const float *host;
		float *staged = NULL;
		if (!*bufs[i])
			continue;
		moved[i] = be->alloc(bytes);
		host = g->be->device ? (staged = stage_in(g, *bufs[i])) : *bufs[i];
		if (!moved[i] || !host) {
			free(staged);
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory for the model on %s", be->name);
			goto fail;
		}
		be->upload(moved[i], host, bytes);
		free(staged);
	}
	if (be->error && be->error()) {
		rc = mg_err_set(e, MG_E_IO, "%s", be->error());
		goto fail;
	}
	for (int i = 0; i < 4; i++)
		if (*bufs[i]) {
			g->be->free(*bufs[i]);
			*bufs[i] = moved[i];
		}
	g->be = be;
	return MG_OK;
fail:
	for (int i = 0; i < 4; i++)
		be->free(moved[i]);
	return rc;
}

int mg_gpt_has_moments(const mg_gpt *g) { return g->m != NULL; }

/* FNV-1a of a tensor name: with the random seed it keys the tensor's stream. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

int mg_gpt_init_weights(mg_gpt *g, uint64_t seed)
{
	double resid_std = 0.02 / sqrt(2.0 * g->cfg.n_layer);
	float *base;

	if (g->n_quant)
		return MG_E_UNSUPPORTED; /* no float slots for the quantized weights */
	if (!(base = g->be->device ? stage_in(g, NULL) : g->params))
		return MG_E_NOMEM;
	/* one stream per tensor, so the order of the tensors changes nothing */
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *t = &g->tensors[i];
		float *x = base + t->off;
		mg_rng r;
		double std = t->init == MG_INIT_NORMAL_RESID ? resid_std : 0.02;

		mg_rng_seed(&r, mg_hash64(seed ^ name_hash(t->name)));
		for (size_t k = 0; k < t->n; k++)
			x[k] = t->init == MG_INIT_ONE ? 1.0f
			       : t->init == MG_INIT_ZERO ? 0.0f
							 : (float)(std * mg_rng_normal(&r));
	}
	if (base != g->params) {
		g->be->upload(g->params, base, g->n_floats * sizeof *base);
		free(base);
	}
	if (g->m) {
		g->be->zero(g->m, g->n_floats);
		g->be->zero(g->v, g->n_floats);
	}
	return MG_OK;
}

static void dims_text(char *buf, size_t n, uint32_t ndim, const uint32_t *dims)
{
	size_t at = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < ndim && at < n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%u", i ? " x " : "", dims[i]);
}

int mg_gpt_load(mg_gpt **out, const mg_ckpt *ck, mg_err *e) { return mg_gpt_load_on(out, ck, mg_backend_cpu(), e); }

/* Checks that ck holds exactly the tensors of g's layout, with its shapes,
 * and the AdamW moments all or none (*moments: 1 when it has them). Runs
 * before any buffer is allocated: a few bytes of HEAD could otherwise make a
 * reader allocate and clear the memory of a model the file does not hold. */
static int check_tensors(const mg_gpt *g, const mg_ckpt *ck, int *moments, mg_err *e)
{
	size_t found[MG_ROLE_COUNT] = { 0 };

	for (size_t i = 0; i < ck->n_tensors; i++)
		found[ck->t[i].role]++;
	*moments = found[MG_ROLE_ADAM_M] || found[MG_ROLE_ADAM_V];
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_ckpt_tensor *x = &ck->t[i];
		const mg_gpt_tensor *t = mg_gpt_tensor_find(g, x->name);
		if (!t)
			return mg_err_set(e, MG_E_CORRUPT, "unexpected tensor '%s' for this configuration", x->name);
		if (x->ndim != t->ndim || memcmp(x->dims, t->dims, t->ndim * sizeof *t->dims)) {
			char have[64], want[64];
			dims_text(have, sizeof have, x->ndim, x->dims);
			dims_text(want, sizeof want, t->ndim, t->dims);
			return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' (%s) is %s, expected %s", x->name,
					  mg_ckpt_role_name(x->role), have, want);
		}
	}
	/* every (name, role) appears at most once (mg_ckpt_read checks), so
	 * counting is enough to know that each role is complete */
	for (uint32_t r = 0; r < MG_ROLE_COUNT; r++) {
		if (r != MG_ROLE_PARAM && !*moments)
			continue;
		if (found[r] != g->n_tensors)
			for (uint32_t i = 0; i < g->n_tensors; i++)
				if (!mg_ckpt_find(ck, g->tensors[i].name, r))
					return mg_err_set(e, MG_E_CORRUPT, "missing tensor '%s' (%s)", g->tensors[i].name,
							  mg_ckpt_role_name(r));
	}
	return MG_OK;
}

/* The encodings of ck's tensors (mg_dtype_check), and with be the dtypes of
 * the Linear weights kept as stored: each must be one be can run (the
 * weights of a layer may differ in dtype: infer_matmul takes it per call).
 * dtypes (g's tensors, in layout order) receives the dtype of each
 * parameter kept as stored, MG_DTYPE_F32 for the others; *quant counts
 * them. */
static int check_dtypes(const mg_gpt *g, const mg_ckpt *ck, const mg_backend *be, uint32_t *dtypes, uint32_t *quant,
			mg_err *e)
{
	*quant = 0;
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_ckpt_tensor *x = &ck->t[i];
		int rc;
		if ((rc = mg_dtype_check(x->dtype, x->data, x->n, e))) {
			mg_err_prefix(e, "tensor '%s' (%s): ", x->name, mg_ckpt_role_name(x->role));
			return rc;
		}
	}
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_ckpt_tensor *x = &ck->t[i];
		const mg_gpt_tensor *t = mg_gpt_tensor_find(g, x->name);
		if (x->role != MG_ROLE_PARAM || !t->decay || x->dtype == MG_DTYPE_F32)
			continue;
		if (be && be->device)
			return mg_err_set(e, MG_E_UNSUPPORTED, "tensor '%s' is %s: a quantized model runs on the cpu only",
					  x->name, mg_dtype_name(x->dtype));
		if (be && (!be->infer_pack_bytes || !be->infer_pack_bytes(x->dtype, t->dims[0], t->dims[1])))
			return mg_err_set(e, MG_E_UNSUPPORTED, "tensor '%s' is %s, which the %s backend cannot run", x->name,
					  mg_dtype_name(x->dtype), be->name);
		if (dtypes)
			dtypes[t - g->tensors] = x->dtype;
		++*quant;
	}
	return MG_OK;
}

int mg_gpt_check_ckpt(const mg_ckpt *ck, mg_err *e)
{
	mg_gpt_config c;
	mg_gpt *g;
	uint32_t quant;
	int rc, moments;

	if ((rc = mg_gpt_config_from_kv(&ck->config, &c, e)))
		return rc;
	if (ck->has_tokenizer && ck->tk.vocab_size > c.vocab_size)
		return mg_err_set(e, MG_E_CORRUPT, "the embedded tokenizer has %u tokens, more than vocab_size %u",
				  ck->tk.vocab_size, c.vocab_size);
	if ((rc = create_layout(&g, &c, mg_backend_cpu(), NULL, e)))
		return rc;
	if (!(rc = check_tensors(g, ck, &moments, e)))
		rc = check_dtypes(g, ck, NULL, NULL, &quant, e);
	mg_gpt_free(g);
	return rc;
}

int mg_gpt_ckpt_trainable(const mg_ckpt *ck, mg_err *e)
{
	mg_gpt_config c;
	mg_gpt *g;
	int rc = MG_OK;

	if (mg_gpt_config_from_kv(&ck->config, &c, NULL) || create_layout(&g, &c, mg_backend_cpu(), NULL, NULL))
		return MG_OK; /* not a model: mg_gpt_load says why */
	for (size_t i = 0; i < ck->n_tensors && !rc; i++) {
		const mg_gpt_tensor *t = mg_gpt_tensor_find(g, ck->t[i].name);
		if (t && t->decay && ck->t[i].role == MG_ROLE_PARAM && ck->t[i].dtype != MG_DTYPE_F32)
			rc = quantized(e, ck->t[i].name, ck->t[i].dtype);
	}
	mg_gpt_free(g);
	return rc;
}

/* Keeps the quantized Linear weights as ck stores them (a copy of the
 * bytes: the caller frees ck). */
static int keep_stored(mg_gpt *g, const mg_ckpt *ck, mg_err *e)
{
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		mg_gpt_tensor *t = &g->tensors[i];
		const mg_ckpt_tensor *x;
		size_t bytes;
		if (t->dtype == MG_DTYPE_F32)
			continue;
		x = mg_ckpt_find(ck, t->name, MG_ROLE_PARAM);
		bytes = (size_t)mg_dtype_bytes(t->dtype, t->n);
		if (!(t->stored = malloc(bytes)))
			return mg_err_set(e, MG_E_NOMEM, "out of memory for tensor '%s'", t->name);
		memcpy(t->stored, x->data, bytes);
	}
	return MG_OK;
}

int mg_gpt_load_on(mg_gpt **out, const mg_ckpt *ck, const mg_backend *be, mg_err *e)
{
	mg_gpt_config c;
	mg_gpt *g;
	float *bufs[MG_ROLE_COUNT] = { NULL, NULL, NULL }, *dst[MG_ROLE_COUNT];
	uint32_t *dtypes, quant;
	int rc, moments, staged = be->device;

	*out = NULL;
	if ((rc = mg_gpt_config_from_kv(&ck->config, &c, e)))
		return rc;
	if (ck->has_tokenizer && ck->tk.vocab_size > c.vocab_size)
		return mg_err_set(e, MG_E_CORRUPT, "the embedded tokenizer has %u tokens, more than vocab_size %u",
				  ck->tk.vocab_size, c.vocab_size);
	if ((rc = create_layout(&g, &c, be, NULL, e)))
		return rc;
	if ((rc = check_tensors(g, ck, &moments, e))) {
		mg_gpt_free(g);
		return rc;
	}
	if (!(dtypes = calloc(g->n_tensors, sizeof *dtypes))) { /* MG_DTYPE_F32 is 0 */
		mg_gpt_free(g);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	rc = check_dtypes(g, ck, be, dtypes, &quant, e);
	if (!rc && quant) {
		/* again with the quantized weights out of the float buffers; a
		 * model that cannot train has no use for AdamW moments */
		mg_gpt_free(g);
		g = NULL;
		moments = 0;
		if (!(rc = create_layout(&g, &c, be, dtypes, e)))
			rc = keep_stored(g, ck, e);
	}
	free(dtypes);
	if (!rc)
		rc = alloc_params(g, e);
	if (rc) {
		mg_gpt_free(g);
		return rc;
	}
	if (moments) {
		g->m = g->be->alloc(g->n_floats * sizeof(float));
		g->v = g->be->alloc(g->n_floats * sizeof(float));
		if (!g->m || !g->v) {
			mg_gpt_free(g);
			return mg_err_set(e, MG_E_NOMEM, "out of memory for the AdamW moments");
		}
	}
	dst[MG_ROLE_PARAM] = g->params, dst[MG_ROLE_ADAM_M] = g->m, dst[MG_ROLE_ADAM_V] = g->v;
	for (uint32_t r = 0; r < MG_ROLE_COUNT; r++) {
		bufs[r] = staged && dst[r] ? stage_in(g, NULL) : dst[r];
		if (dst[r] && !bufs[r]) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory for the host staging of the model");
			goto fail;
		}
	}
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_ckpt_tensor *x = &ck->t[i];
		const mg_gpt_tensor *t = mg_gpt_tensor_find(g, x->name);
		if (bufs[x->role] && t->off != MG_GPT_ABSENT)
			mg_dtype_decode(x->dtype, x->data, x->n, bufs[x->role] + t->off);
	}
	if (staged) {
		for (uint32_t r = 0; r < MG_ROLE_COUNT; r++)
			if (dst[r]) {
				be->upload(dst[r], bufs[r], g->n_floats * sizeof(float));
				free(bufs[r]);
				bufs[r] = NULL;
			}
		if ((rc = mg_gpt_check(g, e)))
			goto fail;
	}
	*out = g;
	return MG_OK;
fail:
	if (staged)
		for (uint32_t r = 0; r < MG_ROLE_COUNT; r++)
			free(bufs[r]);
	mg_gpt_free(g);
	return rc;
}

/* One tensor of a quantized model: as stored when asked for its own dtype,
 * else decoded and encoded as dtype. */
static int write_stored(mg_ckptw *w, const mg_gpt_tensor *t, uint32_t dtype, mg_err *e)
{
	float *x;
	int rc;

	if (dtype == t->dtype)
		return mg_ckptw_tensor_raw(w, t->name, MG_ROLE_PARAM, dtype, t->ndim, t->dims, t->stored, e);
	if (!(x = malloc(t->n * sizeof *x)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory for tensor '%s'", t->name);
	mg_dtype_decode(t->dtype, t->stored, t->n, x);
	rc = mg_ckptw_tensor(w, t->name, MG_ROLE_PARAM, dtype, t->ndim, t->dims, x, e);
	free(x);
	return rc;
}

int mg_gpt_write(const mg_gpt *g, mg_ckptw *w, uint32_t dtype, uint32_t flags, mg_err *e)
{
	const float *bufs[MG_ROLE_COUNT] = { g->params, g->m, g->v };
	uint32_t roles = (flags & MG_GPT_WRITE_MOMENTS) && g->m ? MG_ROLE_COUNT : 1;
	float *staged = NULL;
	int rc = MG_OK;

	for (uint32_t r = 0; r < roles && !rc; r++) {
		const float *src = bufs[r];
		if (g->be->device) {
			/* one role at a time through the host */
			if (!staged && !(staged = malloc(g->n_floats * sizeof *staged)))
				return mg_err_set(e, MG_E_NOMEM, "out of memory for the host staging of the model");
			g->be->download(staged, bufs[r], g->n_floats * sizeof *staged);
			if ((rc = mg_gpt_check(g, e)))
				break;
			src = staged;
		}
		for (uint32_t i = 0; i < g->n_tensors && !rc; i++) {
			const mg_gpt_tensor *t = &g->tensors[i];
			if (t->stored)
				rc = write_stored(w, t, dtype, e);
			else
				rc = mg_ckptw_tensor(w, t->name, r, r == MG_ROLE_PARAM ? dtype : MG_DTYPE_F32, t->ndim,
						     t->dims, src + t->off, e);
		}
	}
	free(staged);
	return rc;
}

int mg_gpt_params_list(const mg_gpt_config *c, mg_gpt_param **list, uint32_t *n, mg_err *e)
{
	mg_gpt *g;
	int rc;

	*list = NULL, *n = 0;
	if ((rc = create_layout(&g, c, mg_backend_cpu(), NULL, e)))
		return rc;
	if (!(*list = calloc(g->n_tensors, sizeof **list))) {
		mg_gpt_free(g);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		memcpy((*list)[i].name, g->tensors[i].name, sizeof (*list)[i].name);
		(*list)[i].ndim = g->tensors[i].ndim;
		memcpy((*list)[i].dims, g->tensors[i].dims, sizeof (*list)[i].dims);
	}
	*n = g->n_tensors;
	mg_gpt_free(g);
	return MG_OK;
}
