/* KV-cache inference: the GPT forward pass of gpt_step.c, evaluated a few
 * rows at a time against cached keys and values, by the model's backend
 * (the infer_* entries of lib/backend/backend.h).
 *
 * A run gathers the tokens waiting in every sequence into rows (sequence,
 * window position, id), in chunks of at most R rows; the rows of one
 * sequence are consecutive and their positions follow the cached ones. Per
 * chunk, with x (R,C) the residual stream:
 *   x = wte[id] + wpe[pos]
 *   per block: xn = ln_1(x); xa = xn with channels < C/2 from the previous
 *     position (time-shift; the cache keeps each sequence's last xn half);
 *     qkv = xa c_attn^T + b, k and v stored in the cache at pos;
 *     y = attention of q against cache positions 0..pos; x += y c_proj^T + b;
 *     x += gelu(ln_2(x) c_fc^T + b) c_proj^T + b
 *   logits = ln_f(x) lm_head^T
 * The last block needs keys and values of every row but its output only for
 * the last row of each sequence (the one whose logits are wanted): after
 * its qkv the chunk shrinks to those rows. Linear layers are the backend's
 * infer_matmul over weights it packed, with the residual adds fused into the
 * projections; LayerNorm and GELU are the training ops. No result depends
 * on the row count.
 *
 * This file decides which rows run and keeps the books (windows, slides,
 * logits); the backend owns the arithmetic, the caches' layout and its
 * threads' scratch (its context). The chunk's row lists live on the host
 * and are uploaded per chunk, so a device backend can fill the entries.
 *
 * A sequence keeps its window's tokens in a ring of block_size ids, so a
 * slide (see infer.h) can re-evaluate the window from its tokens. */
#include "infer/infer.h"

#include <stdlib.h>
#include <string.h>

#include "model/gpt_internal.h"

#define CHUNK_ROWS 256 /* rows per chunk, unless more sequences step together */

/* A weight matrix packed by the backend for infer_matmul, and its element
 * type: the model's (MG_DTYPE_F32, or the stored dtype of a quantized
 * model's weight). */
typedef struct mat {
	const void *w;
	uint32_t dtype;
} mat;

/* One block's parameters (packed: the backend's layout for infer_matmul),
 * its cache and its shift halves, all in backend memory. */
typedef struct layer {
	const float *ln1_w, *ln1_b, *ln2_w, *ln2_b, *attn_b, *aproj_b, *fc_b, *mproj_b;
	mat attn, aproj, fc, mproj;
	float *kv;    /* infer_kv_floats(n_seq, &at) */
	float *shift; /* (n_seq, C/2) the last xn half of each sequence, or NULL */
	mg_backend_attn at;
} layer;

typedef struct seq {
	uint64_t m;      /* tokens appended since the reset */
	uint64_t start;  /* index of the window's first token */
	uint32_t cached; /* window positions whose keys and values are cached */
	int has_logits, slid;
} seq;

struct mg_infer {
	mg_gpt_config cfg;
	const mg_backend *be;
	mg_backend_ctx *ctx; /* the backend's scratch (NULL for a backend without ctx_create) */
	uint32_t n_seq, slide, R, out_max;

	/* backend memory: every parameter the engine reads, in one block; the
	 * caches of all layers; the shift halves of all layers */
	float *w, *kv, *shift;
	const float *wte, *wpe, *lnf_w, *lnf_b;
	mat lm_head;
	layer *layers;

	/* host */
	uint32_t *ring; /* (n_seq, T) window tokens, token i at i % T */
	seq *seqs;
	float *logits;  /* (n_seq, V) */

	/* a chunk: its rows on the host, and their copies in backend memory */
	uint32_t *row_seq, *row_pos, *row_id, *out_row;
	uint8_t *row_out;
	uint32_t *b_seq, *b_pos, *b_id, *b_out;
	/* the chunk's activations, backend memory: (R,C), (R,C), (R,C), (R),
	 * (R), (R,3C), (R,C), (R,4C), (out_max,V) */
	float *x, *xn, *xa, *mean, *rstd, *qkv, *y, *fc, *lg;

	uint64_t bytes;
	mg_infer_stats st;
};

static size_t round64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/* Host memory, zeroed and counted; sets *fail. */
static void *grab(mg_infer *inf, size_t bytes, int *fail)
{
	size_t n = round64(bytes ? bytes : 1);
	void *p;

	if (*fail)
		return NULL;
	if (!(p = aligned_alloc(64, n))) {
		*fail = 1;
		return NULL;
	}
	memset(p, 0, n);
	inf->bytes += n;
	return p;
}

/* Backend memory (zeroed by ->alloc), counted; sets *fail. */
static void *grab_be(mg_infer *inf, size_t bytes, int *fail)
{
	void *p;

	if (*fail)
		return NULL;
	if (!(p = inf->be->alloc(bytes ? bytes : 1))) {
		*fail = 1;
		return NULL;
	}
	inf->bytes += round64(bytes);
	return p;
}

void mg_infer_free(mg_infer *inf)
{
	if (!inf)
		return;
	if (inf->be) {
		void *bufs[] = { inf->w,     inf->kv,  inf->shift, inf->b_seq, inf->b_pos, inf->b_id, inf->b_out, inf->x,
				 inf->xn,    inf->xa,  inf->mean,  inf->rstd,  inf->qkv,   inf->y,    inf->fc,    inf->lg };
		for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
			if (bufs[i])
				inf->be->free(bufs[i]);
		if (inf->ctx)
			inf->be->ctx_free(inf->ctx);
	}
	free(inf->layers);
	free(inf->ring);
	free(inf->seqs);
	free(inf->logits);
	free(inf->row_seq);
	free(inf->row_pos);
	free(inf->row_id);
	free(inf->out_row);
	free(inf->row_out);
	free(inf);
}

/* Parameter copying: floats are handed out from inf->w in order, each
 * tensor at a multiple of 16 floats (64 bytes); a first pass with at ==
 * NULL only counts them and the largest plain tensor. Plain tensors are
 * staged through the host (tmp); matrices are packed by the backend. */
typedef struct copier {
	const mg_gpt *g;
	float *at, *tmp;
	size_t n, most;
} copier;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static const float *copy_plain(copier *c, size_t off, size_t n)
{
	const mg_backend *be = c->g->be;
	float *p = c->at;

	if (off == MG_GPT_ABSENT)
		return NULL;
	c->n += round16(n);
	c->most = n > c->most ? n : c->most;
	if (!p)
		return NULL;
	be->download(c->tmp, c->g->params + off, n * sizeof *p);
	be->upload(p, c->tmp, n * sizeof *p);
	c->at += round16(n);
	return p;
}

/* The weight matrix of tensor i (OC,IC), from the model's floats or, for a
 * quantized weight, from its stored bytes (mg_gpt_load checked that the
 * backend runs its dtype). */
static mat copy_packed(copier *c, uint32_t i)
{
	const mg_backend *be = c->g->be;
	const mg_gpt_tensor *t = &c->g->tensors[i];
	uint32_t OC = t->dims[0], IC = t->dims[1];
	size_t n = round16((be->infer_pack_bytes(t->dtype, OC, IC) + sizeof(float) - 1) / sizeof(float));
	mat m = { c->at, t->dtype };

	c->n += n;
	if (!c->at)
		return m;
	be->infer_pack(c->at, t->stored ? (const void *)t->stored : (const void *)(c->g->params + t->off), t->dtype,
		       OC, IC);
	c->at += n;
	return m;
}

/* Copies (or counts) every parameter the engine reads. */
static void copy_params(mg_infer *inf, copier *cp)
{
	const mg_gpt *g = cp->g;
	uint32_t C = g->cfg.n_embd, T = g->cfg.block_size, V = g->cfg.vocab_size, H = g->cfg.n_head;

	inf->wte = copy_plain(cp, g->wte, (size_t)V * C);
	inf->wpe = copy_plain(cp, g->wpe, (size_t)T * C);
	for (uint32_t l = 0; l < g->cfg.n_layer; l++) {
		const mg_gpt_block *b = &g->blocks[l];
		layer *y = &inf->layers[l];
		y->ln1_w = copy_plain(cp, b->ln1_w, C);
		y->ln1_b = copy_plain(cp, b->ln1_b, C);
		y->ln2_w = copy_plain(cp, b->ln2_w, C);
		y->ln2_b = copy_plain(cp, b->ln2_b, C);
		y->attn_b = copy_plain(cp, b->attn_b, 3 * (size_t)C);
		y->aproj_b = copy_plain(cp, b->aproj_b, C);
		y->fc_b = copy_plain(cp, b->fc_b, 4 * (size_t)C);
		y->mproj_b = copy_plain(cp, b->mproj_b, C);
		y->at = (mg_backend_attn){ 0, 0, C, H, T, g->cfg.attention, NULL, NULL, NULL, { 0.0f, 0 } };
		y->at.tw = copy_plain(cp, b->tw, (size_t)H * T * T);
		y->at.tw_w = copy_plain(cp, b->tw_w, (size_t)H * T);
		y->at.tw_b = copy_plain(cp, b->tw_b, (size_t)H * T);
		y->attn = copy_packed(cp, g->lin[4 * l]);
		y->aproj = copy_packed(cp, g->lin[4 * l + 1]);
		y->fc = copy_packed(cp, g->lin[4 * l + 2]);
		y->mproj = copy_packed(cp, g->lin[4 * l + 3]);
	}
	inf->lnf_w = copy_plain(cp, g->lnf_w, C);
	inf->lnf_b = copy_plain(cp, g->lnf_b, C);
	inf->lm_head = copy_packed(cp, g->lin_head);
}

/* Whether be has every entry the engine calls. */
static int can_infer(const mg_backend *be)
{
	return be->infer_pack_bytes && be->infer_pack && be->infer_matmul && be->infer_embed && be->infer_shift &&
	       be->infer_gather && be->infer_kv_floats && be->infer_attention;
}

int mg_infer_init(mg_infer **out, const mg_gpt *g, uint32_t n_seq, uint32_t slide, mg_err *e)
{
	const mg_gpt_config *c = &g->cfg;
	uint64_t C = c->n_embd, T = c->block_size, V = c->vocab_size, L = c->n_layer;
	mg_infer *inf;
	int fail = 0;
	copier cp;

	*out = NULL;
	if (!can_infer(g->be))
		return mg_err_set(e, MG_E_UNSUPPORTED, "sampling on the %s backend is not available yet", g->be->name);
	if (n_seq < 1)
		return mg_err_set(e, MG_E_INVAL, "the engine needs room for at least one sequence");
	if (slide < 1 || slide > c->block_size)
		return mg_err_set(e, MG_E_INVAL, "slide %u is not in 1..block_size %u", slide, c->block_size);
	inf = calloc(1, sizeof *inf);
	if (!inf)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	inf->cfg = *c;
	inf->be = g->be;
	inf->n_seq = n_seq;
	inf->slide = slide;
	{
		uint64_t r = n_seq > CHUNK_ROWS ? n_seq : CHUNK_ROWS, most = (uint64_t)n_seq * T;
		inf->R = (uint32_t)(r < most ? r : most);
		inf->out_max = n_seq < inf->R ? n_seq : inf->R;
	}

	/* the parameters: plain copies and packed matrices, in one block */
	inf->layers = calloc(L, sizeof *inf->layers);
	if (!inf->layers) {
		mg_infer_free(inf);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	memset(&cp, 0, sizeof cp);
	cp.g = g;
	copy_params(inf, &cp);
	inf->w = grab_be(inf, cp.n * sizeof(float), &fail);
	cp.tmp = malloc((cp.most ? cp.most : 1) * sizeof *cp.tmp);
	if (fail || !cp.tmp) {
		size_t want = cp.n;
		free(cp.tmp);
		mg_infer_free(inf);
		return mg_err_set(e, MG_E_NOMEM, "out of memory for the weights (%.1f MiB)", (double)want * 4 / 1048576.0);
	}
	cp.at = inf->w;
	cp.n = 0;
	copy_params(inf, &cp);
	free(cp.tmp);

	/* caches, sequences, chunk buffers and the backend's context */
	{
		const mg_backend *be = inf->be;
		uint64_t S = n_seq, R = inf->R, kv_n = round16(be->infer_kv_floats(n_seq, &inf->layers[0].at));
		uint64_t half = C / 2;

		inf->kv = grab_be(inf, L * kv_n * 4, &fail);
		inf->shift = c->time_shift ? grab_be(inf, L * S * half * 4, &fail) : NULL;
		for (uint32_t l = 0; l < L && !fail; l++) {
			inf->layers[l].kv = inf->kv + l * kv_n;
			inf->layers[l].shift = inf->shift ? inf->shift + l * S * half : NULL;
		}
		inf->ring = grab(inf, S * T * 4, &fail);
		inf->seqs = grab(inf, S * sizeof *inf->seqs, &fail);
		inf->logits = grab(inf, S * V * 4, &fail);
		inf->row_seq = grab(inf, R * 4, &fail);
		inf->row_pos = grab(inf, R * 4, &fail);
		inf->row_id = grab(inf, R * 4, &fail);
		inf->out_row = grab(inf, R * 4, &fail);
		inf->row_out = grab(inf, R, &fail);
		inf->b_seq = grab_be(inf, R * 4, &fail);
		inf->b_pos = grab_be(inf, R * 4, &fail);
		inf->b_id = grab_be(inf, R * 4, &fail);
		inf->b_out = grab_be(inf, R * 4, &fail);
		inf->x = grab_be(inf, R * C * 4, &fail);
		inf->xn = grab_be(inf, R * C * 4, &fail);
		inf->xa = c->time_shift ? grab_be(inf, R * C * 4, &fail) : NULL;
		inf->mean = grab_be(inf, R * 4, &fail);
		inf->rstd = grab_be(inf, R * 4, &fail);
		inf->qkv = grab_be(inf, R * 3 * C * 4, &fail);
		inf->y = grab_be(inf, R * C * 4, &fail);
		inf->fc = grab_be(inf, R * 4 * C * 4, &fail);
		inf->lg = grab_be(inf, (uint64_t)inf->out_max * V * 4, &fail);
		if (!fail && be->ctx_create) {
			uint64_t n = 0;
			if (!(inf->ctx = be->ctx_create(&inf->layers[0].at, &n)))
				fail = 1;
			inf->bytes += n;
		}
	}
	if (fail) {
		uint64_t want = inf->bytes;
		mg_infer_free(inf);
		return mg_err_set(e, MG_E_NOMEM, "out of memory for %u sequences (%.1f MiB and more)", n_seq,
				  (double)want / 1048576.0);
	}
	*out = inf;
	return MG_OK;
}

const mg_gpt_config *mg_infer_config(const mg_infer *inf) { return &inf->cfg; }
uint64_t mg_infer_bytes(const mg_infer *inf) { return inf->bytes; }

void mg_infer_reset(mg_infer *inf, uint32_t s)
{
	memset(&inf->seqs[s], 0, sizeof inf->seqs[s]);
}

int mg_infer_append(mg_infer *inf, uint32_t s, const uint32_t *ids, size_t n, mg_err *e)
{
	seq *q = &inf->seqs[s];
	uint32_t T = inf->cfg.block_size, *ring = inf->ring + (size_t)s * T;

	for (size_t i = 0; i < n; i++)
		if (ids[i] >= inf->cfg.vocab_size)
			return mg_err_set(e, MG_E_INVAL, "token %u is not below vocab_size %u", ids[i], inf->cfg.vocab_size);
	for (size_t i = 0; i < n; i++) {
		ring[q->m % T] = ids[i];
		q->m++;
		if (q->m - q->start > T) {
			q->start += inf->slide;
			q->cached = 0;
			q->slid = 1;
		}
	}
	if (n)
		q->has_logits = 0;
	return MG_OK;
}

const float *mg_infer_logits(const mg_infer *inf, uint32_t s)
{
	return inf->seqs[s].has_logits ? inf->logits + (size_t)s * inf->cfg.vocab_size : NULL;
}

uint64_t mg_infer_tokens(const mg_infer *inf, uint32_t s) { return inf->seqs[s].m; }
uint64_t mg_infer_window_start(const mg_infer *inf, uint32_t s) { return inf->seqs[s].start; }
uint32_t mg_infer_window_len(const mg_infer *inf, uint32_t s) { return (uint32_t)(inf->seqs[s].m - inf->seqs[s].start); }
void mg_infer_stats_get(const mg_infer *inf, mg_infer_stats *st) { *st = inf->st; }


static void chunk(mg_infer *inf, uint32_t n)
{
	const mg_backend *be = inf->be;
	const mg_gpt_config *c = &inf->cfg;
	uint32_t C = c->n_embd, V = c->vocab_size, L = c->n_layer;
	uint32_t m = n; /* rows still carried (m < n in the last block) */

	be->upload(inf->b_seq, inf->row_seq, n * sizeof *inf->row_seq);
	be->upload(inf->b_pos, inf->row_pos, n * sizeof *inf->row_pos);
	be->upload(inf->b_id, inf->row_id, n * sizeof *inf->row_id);
	be->infer_embed(inf->x, inf->b_id, inf->b_pos, inf->wte, inf->wpe, n, C);
	for (uint32_t l = 0; l < L; l++) {
		const layer *ly = &inf->layers[l];
		const float *xa = inf->xn;

		be->layernorm_forward(inf->xn, inf->mean, inf->rstd, inf->x, ly->ln1_w, ly->ln1_b, n, C);
		if (c->time_shift) {
			be->infer_shift(inf->xa, inf->xn, ly->shift, inf->b_seq, inf->b_pos, n, C);
			xa = inf->xa;
		}
		be->infer_matmul(inf->qkv, xa, ly->attn.w, ly->attn.dtype, ly->attn_b, n, C, 3 * C, 0);
		if (l + 1 == L) {
			/* only the rows whose logits are wanted go on */
			m = 0;
			for (uint32_t i = 0; i < n; i++)
				if (inf->row_out[i])
					inf->out_row[m++] = i;
			be->upload(inf->b_out, inf->out_row, m * sizeof *inf->out_row);
			be->infer_attention(inf->ctx, inf->y, ly->kv, inf->qkv, inf->b_seq, inf->b_pos, n, inf->b_out, m,
					    &ly->at);
			if (!m)
				return;
			be->infer_gather(inf->x, inf->b_out, m, C);
		} else {
			be->infer_attention(inf->ctx, inf->y, ly->kv, inf->qkv, inf->b_seq, inf->b_pos, n, NULL, n, &ly->at);
		}
		be->infer_matmul(inf->x, inf->y, ly->aproj.w, ly->aproj.dtype, ly->aproj_b, m, C, C, 1); /* x += */
		be->layernorm_forward(inf->xn, inf->mean, inf->rstd, inf->x, ly->ln2_w, ly->ln2_b, m, C);
		be->infer_matmul(inf->fc, inf->xn, ly->fc.w, ly->fc.dtype, ly->fc_b, m, C, 4 * C, 0);
		be->gelu_forward(inf->fc, inf->fc, (size_t)m * 4 * C, c->gelu);
		be->infer_matmul(inf->x, inf->fc, ly->mproj.w, ly->mproj.dtype, ly->mproj_b, m, 4 * C, C, 1); /* x += */
	}
	be->layernorm_forward(inf->xn, inf->mean, inf->rstd, inf->x, inf->lnf_w, inf->lnf_b, m, C);
	be->infer_matmul(inf->lg, inf->xn, inf->lm_head.w, inf->lm_head.dtype, NULL, m, C, V, 0);
	for (uint32_t k = 0; k < m; k++) {
		uint32_t s = inf->row_seq[inf->out_row[k]];
		be->download(inf->logits + (size_t)s * V, inf->lg + (size_t)k * V, V * sizeof *inf->lg);
		inf->seqs[s].has_logits = 1;
	}
}

int mg_infer_run(mg_infer *inf, mg_err *e)
{
	uint32_t T = inf->cfg.block_size, n = 0;
	int any = 0;

	for (uint32_t s = 0; s < inf->n_seq; s++) {
		seq *q = &inf->seqs[s];
		uint32_t wl = (uint32_t)(q->m - q->start);
		const uint32_t *ring = inf->ring + (size_t)s * T;

		if (q->cached >= wl)
			continue;
		any = 1;
		if (q->slid) {
			inf->st.recomputes++;
			q->slid = 0;
		}
		for (uint32_t p = q->cached; p < wl; p++) {
			inf->row_seq[n] = s;
			inf->row_pos[n] = p;
			inf->row_id[n] = ring[(q->start + p) % T];
			inf->row_out[n] = p + 1 == wl;
			if (++n == inf->R) {
				chunk(inf, n);
				inf->st.rows += n;
				n = 0;
			}
		}
		q->cached = wl;
	}
	if (n) {
		chunk(inf, n);
		inf->st.rows += n;
	}
	inf->st.runs += any;
	if (inf->be->error && inf->be->error())
		return mg_err_set(e, MG_E_IO, "%s", inf->be->error());
	return MG_OK;
}
