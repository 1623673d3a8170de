/* Training the GPT model: buffers allocated once per batch shape, the
 * forward pass with the masked cross-entropy loss, the backward pass,
 * gradient clipping and AdamW, each layer an op of the backend.
 *
 * Per block (minGPT's Block), x (B,T,C) the residual stream:
 *   xa = shift(ln_1(x))           qkv = xa c_attn^T + b     y = attention(qkv)
 *   mid = x + drop(y c_proj^T + b)
 *   xm = ln_2(mid)                h = gelu(xm c_fc^T + b)
 *   x' = mid + drop(h c_proj^T + b)
 * and around the blocks x_0 = drop(wte[ids] + wpe), logits = ln_f(x_L) lm_head^T. */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/gpt_internal.h"

static float *P(const mg_gpt *g, size_t off) { return off == MG_GPT_ABSENT ? NULL : g->params + off; }
static float *G(const mg_gpt *g, size_t off) { return off == MG_GPT_ABSENT ? NULL : g->grads + off; }

void mg_gpt_free_acts(mg_gpt *g)
{
	const mg_backend *be = g->be;

	for (uint32_t l = 0; g->acts && l < g->cfg.n_layer; l++) {
		mg_gpt_block_acts *a = &g->acts[l];
		if (l > 0 && !g->train)
			break; /* inference: every block shares block 0's buffers */
		float *bufs[] = { a->ln1_mean, a->ln1_rstd, a->xa, a->qkv, a->probs, a->y, a->mid, a->ln2_mean,
				  a->ln2_rstd, a->xm, a->fc, a->gelu };
		for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
			be->free(bufs[i]);
		be->free(a->res);
	}
	if (g->acts && g->train)
		be->free(g->res_final);
	{
		void *bufs[] = { g->proj, g->lnf, g->lnf_mean, g->lnf_rstd, g->logits, g->losses, g->ids, g->targets,
				 g->mask, g->dres, g->dc1, g->dc2, g->dc3, g->dc4, g->datt };
		for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
			be->free(bufs[i]);
	}
	if (g->ctx)
		be->ctx_free(g->ctx);
	g->ctx = NULL;
	free(g->host_losses);
	free(g->acts);
	g->acts = NULL;
	g->proj = g->lnf = g->lnf_mean = g->lnf_rstd = g->logits = g->losses = NULL;
	g->dres = g->dc1 = g->dc2 = g->dc3 = g->dc4 = g->datt = g->res_final = NULL;
	g->ids = g->targets = NULL;
	g->mask = NULL;
	g->host_losses = NULL;
	g->B = g->T = 0;
	g->train = 0;
	g->bytes_acts = g->bytes_scratch = 0;
	g->fB = g->fT = 0;
	g->f_targets = 0;
}

/* Allocates n elements of size bytes each, counting them; sets *fail. */
static void *grab(mg_gpt *g, uint64_t *count, uint64_t n, size_t size, int *fail)
{
	void *p;

	if (*fail)
		return NULL;
	p = g->be->alloc((size_t)n * size);
	if (!p)
		*fail = 1;
	*count += n * size;
	return p;
}

/* The backend's packing of the quantized weights, once (kept by
 * mg_gpt_free_acts, freed with the model); 1 when out of memory. */
static int pack_quantized(mg_gpt *g)
{
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		mg_gpt_tensor *t = &g->tensors[i];
		if (!t->stored || t->packed)
			continue;
		if (!(t->packed = g->be->alloc(g->be->infer_pack_bytes(t->dtype, t->dims[0], t->dims[1]))))
			return 1;
		g->be->infer_pack(t->packed, t->stored, t->dtype, t->dims[0], t->dims[1]);
	}
	return 0;
}

int mg_gpt_alloc(mg_gpt *g, uint32_t B, uint32_t T, uint32_t flags, mg_err *e)
{
	const mg_gpt_config *c = &g->cfg;
	uint64_t C = c->n_embd, H = c->n_head, V = c->vocab_size, N = (uint64_t)B * T;
	int train = !!(flags & MG_GPT_ALLOC_TRAIN), fail = 0;
	uint64_t *ba = &g->bytes_acts, *bs = &g->bytes_scratch;

	if (B < 1 || T < 1 || T > c->block_size)
		return mg_err_set(e, MG_E_INVAL, "batch %u x %u: need at least 1 x 1 and at most block_size %u positions", B,
				  T, c->block_size);
	if (N > INT32_MAX)
		return mg_err_set(e, MG_E_INVAL, "batch %u x %u is over %d positions", B, T, INT32_MAX);
	if (train && g->n_quant)
		return mg_gpt_trainable(g, e);
	if (g->n_quant && pack_quantized(g))
		return mg_err_set(e, MG_E_NOMEM, "out of memory for the packed weights");
	mg_gpt_free_acts(g);
	g->acts = calloc(c->n_layer, sizeof *g->acts);
	g->host_losses = malloc(N * sizeof *g->host_losses);
	if (!g->acts || !g->host_losses)
		fail = 1;
	g->train = train;
	for (uint32_t l = 0; l < c->n_layer && !fail; l++) {
		mg_gpt_block_acts *a = &g->acts[l];
		if (l > 0 && !train) {
			*a = g->acts[0];
			continue;
		}
		a->res = grab(g, ba, N * C, 4, &fail);
		a->ln1_mean = grab(g, ba, N, 4, &fail);
		a->ln1_rstd = grab(g, ba, N, 4, &fail);
		a->xa = grab(g, ba, N * C, 4, &fail);
		a->qkv = grab(g, ba, N * 3 * C, 4, &fail);
		a->probs = grab(g, ba, (uint64_t)B * H * T * T, 4, &fail);
		a->y = grab(g, ba, N * C, 4, &fail);
		a->mid = grab(g, ba, N * C, 4, &fail);
		a->ln2_mean = grab(g, ba, N, 4, &fail);
		a->ln2_rstd = grab(g, ba, N, 4, &fail);
		a->xm = grab(g, ba, N * C, 4, &fail);
		a->fc = grab(g, ba, N * 4 * C, 4, &fail);
		a->gelu = grab(g, ba, N * 4 * C, 4, &fail);
	}
	if (!fail)
		g->res_final = train ? grab(g, ba, N * C, 4, &fail) : g->acts[0].res;
	g->proj = grab(g, ba, N * C, 4, &fail);
	g->lnf = grab(g, ba, N * C, 4, &fail);
	g->lnf_mean = grab(g, ba, N, 4, &fail);
	g->lnf_rstd = grab(g, ba, N, 4, &fail);
	g->logits = grab(g, ba, N * V, 4, &fail);
	g->losses = grab(g, ba, N, 4, &fail);
	g->ids = grab(g, ba, N, 4, &fail);
	g->targets = grab(g, ba, N, 4, &fail);
	g->mask = grab(g, ba, N, 1, &fail);
	if (!fail && g->be->ctx_create) { /* the backend's scratch for attention of this shape */
		mg_backend_attn max = { B, T, c->n_embd, c->n_head, c->block_size, c->attention, NULL, NULL, NULL, { 0.0f, 0 } };
		uint64_t n = 0;
		if (!(g->ctx = g->be->ctx_create(&max, &n)))
			fail = 1;
		*bs += n;
	}
	if (train) {
		g->dres = grab(g, bs, N * C, 4, &fail);
		g->dc1 = grab(g, bs, N * C, 4, &fail);
		g->dc2 = grab(g, bs, N * C, 4, &fail);
		g->dc3 = grab(g, bs, N * 3 * C, 4, &fail);
		g->dc4 = grab(g, bs, N * 4 * C, 4, &fail);
		g->datt = grab(g, bs, (uint64_t)B * H * T * T, 4, &fail);
		if (!fail && !g->grads && !(g->grads = g->be->alloc(g->n_floats * sizeof(float))))
			fail = 1;
		if (!fail && !g->m) {
			g->m = g->be->alloc(g->n_floats * sizeof(float));
			g->v = g->be->alloc(g->n_floats * sizeof(float));
			if (!g->m || !g->v) {
				g->be->free(g->m), g->be->free(g->v);
				g->m = g->v = NULL;
				fail = 1;
			}
		}
	}
	if (fail) {
		uint64_t want = g->bytes_acts + g->bytes_scratch;
		mg_gpt_free_acts(g);
		return mg_err_set(e, MG_E_NOMEM, "out of memory for a batch of %u x %u (%.1f MiB of activations)", B, T,
				  (double)want / 1048576.0);
	}
	g->B = B;
	g->T = T;
	return MG_OK;
}

void mg_gpt_memory_get(const mg_gpt *g, mg_gpt_memory *m)
{
	uint64_t tensor = (uint64_t)g->n_floats * sizeof(float);

	m->params = tensor;
	for (uint32_t i = 0; i < g->n_tensors; i++) /* a quantized model's weights, stored and packed */
		if (g->tensors[i].stored)
			m->params += mg_dtype_bytes(g->tensors[i].dtype, g->tensors[i].n) +
				     (g->tensors[i].packed ? g->be->infer_pack_bytes(g->tensors[i].dtype, g->tensors[i].dims[0],
										       g->tensors[i].dims[1])
							   : 0);
	m->grads = g->grads ? tensor : 0;
	m->moments = g->m ? 2 * tensor : 0;
	m->activations = g->bytes_acts;
	m->scratch = g->bytes_scratch;
	m->total = m->params + m->grads + m->moments + m->activations + m->scratch;
}

static mg_backend_dropout drop(const mg_gpt *g, double p, uint64_t site)
{
	mg_backend_dropout d = { 0.0f, 0 };

	if (g->f_dropout && p > 0.0) {
		d.p = (float)p;
		d.seed = mg_backend_dropout_site(g->f_seed, site);
	}
	return d;
}

void mg_gpt_linear(const mg_gpt *g, float *out, const float *inp, const mg_gpt_tensor *t, const float *bias, size_t N)
{
	if (t->packed)
		g->be->infer_matmul(out, inp, t->packed, t->dtype, bias, N, t->dims[1], t->dims[0], 0);
	else
		g->be->matmul_forward(out, inp, g->params + t->off, bias, N, t->dims[1], t->dims[0]);
}

static mg_backend_attn attn_args(const mg_gpt *g, uint32_t l)
{
	const mg_gpt_block *k = &g->blocks[l];
	mg_backend_attn a = { g->fB, g->fT, g->cfg.n_embd, g->cfg.n_head, g->cfg.block_size, g->cfg.attention,
		      P(g, k->tw), P(g, k->tw_w), P(g, k->tw_b), drop(g, g->cfg.dropout_attn, 3 * (uint64_t)l + 1) };
	return a;
}

int mg_gpt_forward(mg_gpt *g, const uint32_t *inputs, const uint32_t *targets, const uint8_t *mask, uint32_t B,
		   uint32_t T, uint32_t flags, uint64_t dropout_seed, mg_gpt_loss *loss, mg_err *e)
{
	const mg_backend *be = g->be;
	const mg_gpt_config *c = &g->cfg;
	uint32_t C = c->n_embd, V = c->vocab_size, L = c->n_layer;
	size_t N = (size_t)B * T;
	uint64_t count = 0;

	if (!g->B)
		return mg_err_set(e, MG_E_INVAL, "the model has no buffers: call mg_gpt_alloc first");
	if (B < 1 || T < 1 || B > g->B || T > g->T)
		return mg_err_set(e, MG_E_INVAL, "batch %u x %u is not within the allocated %u x %u", B, T, g->B, g->T);
	for (size_t n = 0; n < N; n++) {
		if (inputs[n] >= V)
			return mg_err_set(e, MG_E_INVAL, "input token %u at row %zu, position %zu is not below vocab_size %u",
					  inputs[n], n / T, n % T, V);
		if (targets && (!mask || mask[n]) && targets[n] >= V)
			return mg_err_set(e, MG_E_INVAL, "target token %u at row %zu, position %zu is not below vocab_size %u",
					  targets[n], n / T, n % T, V);
		count += targets && (!mask || mask[n]);
	}
	g->fB = B, g->fT = T;
	g->f_targets = targets != NULL;
	g->f_mask = mask != NULL;
	g->f_dropout = !!(flags & MG_GPT_DROPOUT);
	g->f_seed = dropout_seed;
	g->f_count = count;
	be->upload(g->ids, inputs, N * sizeof *inputs);
	if (targets)
		be->upload(g->targets, targets, N * sizeof *targets);
	if (targets && mask)
		be->upload(g->mask, mask, N);

	be->embed_forward(g->acts[0].res, g->ids, P(g, g->wte), P(g, g->wpe), B, T, C, drop(g, c->dropout_embd, 0));
	for (uint32_t l = 0; l < L; l++) {
		const mg_gpt_block *k = &g->blocks[l];
		mg_gpt_block_acts *a = &g->acts[l];
		float *next = l + 1 < L ? g->acts[l + 1].res : g->res_final;
		mg_backend_attn at = attn_args(g, l);

		be->layernorm_forward(a->xa, a->ln1_mean, a->ln1_rstd, a->res, P(g, k->ln1_w), P(g, k->ln1_b), N, C);
		if (c->time_shift)
			be->shift_forward(a->xa, B, T, C);
		mg_gpt_linear(g, a->qkv, a->xa, &g->tensors[g->lin[4 * l]], P(g, k->attn_b), N);
		be->attention_forward(g->ctx, a->y, a->probs, a->qkv, &at);
		mg_gpt_linear(g, g->proj, a->y, &g->tensors[g->lin[4 * l + 1]], P(g, k->aproj_b), N);
		be->residual_forward(a->mid, a->res, g->proj, N * C, drop(g, c->dropout_resid, 3 * (uint64_t)l + 2));
		be->layernorm_forward(a->xm, a->ln2_mean, a->ln2_rstd, a->mid, P(g, k->ln2_w), P(g, k->ln2_b), N, C);
		mg_gpt_linear(g, a->fc, a->xm, &g->tensors[g->lin[4 * l + 2]], P(g, k->fc_b), N);
		be->gelu_forward(a->gelu, a->fc, N * 4 * C, c->gelu);
		mg_gpt_linear(g, g->proj, a->gelu, &g->tensors[g->lin[4 * l + 3]], P(g, k->mproj_b), N);
		be->residual_forward(next, a->mid, g->proj, N * C, drop(g, c->dropout_resid, 3 * (uint64_t)l + 3));
	}
	be->layernorm_forward(g->lnf, g->lnf_mean, g->lnf_rstd, g->res_final, P(g, g->lnf_w), P(g, g->lnf_b), N, C);
	mg_gpt_linear(g, g->logits, g->lnf, &g->tensors[g->lin_head], NULL, N);
	if (targets) {
		double sum = 0.0;
		be->crossentropy_forward(g->losses, g->logits, g->targets, mask ? g->mask : NULL, N, V);
		be->download(g->host_losses, g->losses, N * sizeof *g->host_losses);
		for (size_t n = 0; n < N; n++)
			sum += g->host_losses[n];
		if (loss) {
			loss->sum = sum;
			loss->count = count;
			loss->mean = count ? sum / (double)count : 0.0;
		}
	} else if (loss) {
		memset(loss, 0, sizeof *loss);
	}
	return MG_OK;
}

const float *mg_gpt_logits(const mg_gpt *g) { return g->logits; }
const float *mg_gpt_token_losses(const mg_gpt *g) { return g->host_losses; }

void mg_gpt_backward(mg_gpt *g, float scale)
{
	const mg_backend *be = g->be;
	const mg_gpt_config *c = &g->cfg;
	uint32_t B = g->fB, T = g->fT, C = c->n_embd, V = c->vocab_size;
	size_t N = (size_t)B * T;
	float *dres = g->dres;

	assert(g->train && g->f_targets);
	g->f_targets = 0; /* the logits become their gradient: one backward per forward */
	be->crossentropy_backward(g->logits, g->targets, g->f_mask ? g->mask : NULL, N, V,
				  g->f_count ? scale / (float)g->f_count : 0.0f);
	be->zero(dres, N * C);
	be->matmul_backward(g->dc1, G(g, g->lm_head), NULL, g->logits, g->lnf, P(g, g->lm_head), N, C, V);
	be->layernorm_backward(dres, G(g, g->lnf_w), G(g, g->lnf_b), g->dc1, g->res_final, P(g, g->lnf_w), g->lnf_mean,
			       g->lnf_rstd, N, C);
	for (uint32_t l = c->n_layer; l-- > 0;) {
		const mg_gpt_block *k = &g->blocks[l];
		mg_gpt_block_acts *a = &g->acts[l];
		mg_backend_attn at = attn_args(g, l);
		mg_backend_dropout d;
		const float *dproj;

		/* x' = mid + drop(gelu(...) c_proj^T + b) */
		d = drop(g, c->dropout_resid, 3 * (uint64_t)l + 3);
		dproj = dres;
		if (d.p > 0.0f)
			be->dropout_backward(g->dc2, dres, N * C, d), dproj = g->dc2;
		be->matmul_backward(g->dc4, G(g, k->mproj_w), G(g, k->mproj_b), dproj, a->gelu, P(g, k->mproj_w), N, 4 * C, C);
		be->gelu_backward(g->dc4, g->dc4, a->fc, N * 4 * C, c->gelu);
		be->matmul_backward(g->dc1, G(g, k->fc_w), G(g, k->fc_b), g->dc4, a->xm, P(g, k->fc_w), N, C, 4 * C);
		be->layernorm_backward(dres, G(g, k->ln2_w), G(g, k->ln2_b), g->dc1, a->mid, P(g, k->ln2_w), a->ln2_mean,
				       a->ln2_rstd, N, C);
		/* mid = x + drop(y c_proj^T + b) */
		d = drop(g, c->dropout_resid, 3 * (uint64_t)l + 2);
		dproj = dres;
		if (d.p > 0.0f)
			be->dropout_backward(g->dc2, dres, N * C, d), dproj = g->dc2;
		be->matmul_backward(g->dc1, G(g, k->aproj_w), G(g, k->aproj_b), dproj, a->y, P(g, k->aproj_w), N, C, C);
		be->attention_backward(g->ctx, g->dc3, G(g, k->tw), G(g, k->tw_w), G(g, k->tw_b), g->datt, g->dc1,
				       a->qkv, a->probs, &at);
		be->matmul_backward(g->dc1, G(g, k->attn_w), G(g, k->attn_b), g->dc3, a->xa, P(g, k->attn_w), N, C, 3 * C);
		if (c->time_shift)
			be->shift_backward(g->dc1, B, T, C);
		be->layernorm_backward(dres, G(g, k->ln1_w), G(g, k->ln1_b), g->dc1, a->res, P(g, k->ln1_w), a->ln1_mean,
				       a->ln1_rstd, N, C);
	}
	be->embed_backward(G(g, g->wte), G(g, g->wpe), dres, g->ids, B, T, C, drop(g, c->dropout_embd, 0));
}

void mg_gpt_zero_grad(mg_gpt *g)
{
	assert(g->grads);
	g->be->zero(g->grads, g->n_floats);
}

double mg_gpt_grad_norm(mg_gpt *g)
{
	assert(g->grads);
	return sqrt(g->be->sum_squares(g->grads, g->n_floats));
}

double mg_gpt_clip_grad_norm(mg_gpt *g, double max_norm)
{
	double norm = mg_gpt_grad_norm(g), coef = max_norm / (norm + 1e-6);

	if (coef < 1.0)
		g->be->scale(g->grads, g->n_floats, (float)coef);
	return norm;
}

void mg_gpt_adamw_default(mg_gpt_adamw *o)
{
	o->lr = 3e-4;
	o->beta1 = 0.9;
	o->beta2 = 0.95;
	o->eps = 1e-8;
	o->weight_decay = 0.1;
}

void mg_gpt_adamw_step(mg_gpt *g, const mg_gpt_adamw *o, uint64_t t)
{
	mg_backend_adamw_args a;

	assert(g->grads && g->m && t >= 1);
	a.lr = (float)o->lr;
	a.beta1 = (float)o->beta1;
	a.beta2 = (float)o->beta2;
	a.eps = (float)o->eps;
	a.step_size = (float)(o->lr / (1.0 - pow(o->beta1, (double)t)));
	a.bc2_sqrt = (float)sqrt(1.0 - pow(o->beta2, (double)t));
	for (uint32_t i = 0; i < g->n_tensors; i++) {
		const mg_gpt_tensor *x = &g->tensors[i];
		a.weight_decay = x->decay ? (float)o->weight_decay : 0.0f;
		g->be->adamw_update(g->params + x->off, g->grads + x->off, g->m + x->off, g->v + x->off, x->n, &a);
	}
}
