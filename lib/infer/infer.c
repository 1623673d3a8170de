/* KV-cache inference: the GPT forward pass of gpt_step.c, evaluated a few
 * rows at a time against cached keys and values.
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
 * its qkv the chunk shrinks to those rows. Linear layers and attention are
 * cpu_infer.c's, with the residual adds fused into the projections;
 * LayerNorm and GELU are the CPU backend's. No result depends on the row
 * count.
 *
 * A sequence keeps its window's tokens in a ring of block_size ids, so a
 * slide (see infer.h) can re-evaluate the window from its tokens. */
#include "infer/infer.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "model/gpt_internal.h"
#include "backend/cpu/cpu_infer.h"
#include "core/threads.h"

#define CHUNK_ROWS 256       /* rows per chunk, unless more sequences step together */
#define PAR_WORK (1u << 16) /* floats touched below which a loop runs on one thread */

typedef struct layer {
	const float *ln1_w, *ln1_b, *ln2_w, *ln2_b, *attn_b, *aproj_b, *fc_b, *mproj_b;
	mg_packed attn, aproj, fc, mproj;
	mg_attn_cache at;
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
	uint32_t n_seq, slide, Tp, R, out_max;

	float *w; /* every parameter the engine reads, one block */
	const float *wte, *wpe, *lnf_w, *lnf_b;
	mg_packed lm_head;
	layer *layers;

	/* per layer and sequence: keys (H,hs,Tp), values (T,C), shift half (C/2) */
	float *kt, *v, *shift;
	size_t kt_n, v_n;
	uint32_t *ring; /* (n_seq, T) window tokens, token i at i % T */
	seq *seqs;
	float *logits;  /* (n_seq, V) */

	/* a chunk */
	uint32_t *row_seq, *row_pos, *row_id, *out_row;
	uint8_t *row_out;
	float *x, *xn, *xa, *mean, *rstd, *qkv, *y, *fc, *lg;
	float *att; /* (att_threads, Tp) attention scores */
	int att_threads;

	uint64_t bytes;
	mg_infer_stats st;
};

static void *grab(mg_infer *inf, size_t bytes, int *fail)
{
	size_t n = (bytes + 63) / 64 * 64;
	void *p;

	if (*fail)
		return NULL;
	p = aligned_alloc(64, n ? n : 64);
	if (!p) {
		*fail = 1;
		return NULL;
	}
	memset(p, 0, n ? n : 64);
	inf->bytes += n;
	return p;
}

void mg_infer_free(mg_infer *inf)
{
	if (!inf)
		return;
	free(inf->w);
	free(inf->layers);
	free(inf->kt);
	free(inf->v);
	free(inf->shift);
	free(inf->ring);
	free(inf->seqs);
	free(inf->logits);
	free(inf->row_seq);
	free(inf->row_pos);
	free(inf->row_id);
	free(inf->out_row);
	free(inf->row_out);
	free(inf->x);
	free(inf->xn);
	free(inf->xa);
	free(inf->mean);
	free(inf->rstd);
	free(inf->qkv);
	free(inf->y);
	free(inf->fc);
	free(inf->lg);
	free(inf->att);
	free(inf);
}

/* Parameter copying: floats are handed out from inf->w in order; a first
 * pass with at == NULL only counts them. */
typedef struct copier {
	const mg_gpt *g;
	float *at, *tmp;
	size_t n;
} copier;

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

static const float *copy_plain(copier *c, size_t off, size_t n)
{
	float *p = c->at;

	if (off == MG_GPT_ABSENT)
		return NULL;
	c->n += round16(n);
	if (!p)
		return NULL;
	c->g->be->download(p, c->g->params + off, n * sizeof *p);
	c->at += round16(n);
	return p;
}

static void copy_packed(copier *c, mg_packed *pk, size_t off, uint32_t OC, uint32_t IC)
{
	c->n += round16(mg_packed_floats(OC, IC));
	if (!c->at)
		return;
	c->g->be->download(c->tmp, c->g->params + off, (size_t)OC * IC * sizeof *c->tmp);
	mg_packed_fill(pk, c->at, c->tmp, OC, IC);
	c->at += round16(mg_packed_floats(OC, IC));
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
		y->at.C = C;
		y->at.H = H;
		y->at.block = T;
		y->at.Tp = inf->Tp;
		y->at.variant = g->cfg.attention;
		y->at.tw = copy_plain(cp, b->tw, (size_t)H * T * T);
		y->at.tw_w = copy_plain(cp, b->tw_w, (size_t)H * T);
		y->at.tw_b = copy_plain(cp, b->tw_b, (size_t)H * T);
		copy_packed(cp, &y->attn, b->attn_w, 3 * C, C);
		copy_packed(cp, &y->aproj, b->aproj_w, C, C);
		copy_packed(cp, &y->fc, b->fc_w, 4 * C, C);
		copy_packed(cp, &y->mproj, b->mproj_w, C, 4 * C);
	}
	inf->lnf_w = copy_plain(cp, g->lnf_w, C);
	inf->lnf_b = copy_plain(cp, g->lnf_b, C);
	copy_packed(cp, &inf->lm_head, g->lm_head, V, C);
}

int mg_infer_init(mg_infer **out, const mg_gpt *g, uint32_t n_seq, uint32_t slide, mg_err *e)
{
	const mg_gpt_config *c = &g->cfg;
	uint64_t C = c->n_embd, T = c->block_size, V = c->vocab_size, H = c->n_head, L = c->n_layer;
	mg_infer *inf;
	int fail = 0;
	copier cp;

	*out = NULL;
	if (n_seq < 1)
		return mg_err_set(e, MG_E_INVAL, "the engine needs room for at least one sequence");
	if (slide < 1 || slide > c->block_size)
		return mg_err_set(e, MG_E_INVAL, "slide %u is not in 1..block_size %u", slide, c->block_size);
	inf = calloc(1, sizeof *inf);
	if (!inf)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	inf->cfg = *c;
	inf->be = mg_backend_cpu();
	inf->n_seq = n_seq;
	inf->slide = slide;
	inf->Tp = (uint32_t)((T + 7) / 8 * 8);
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
	cp.g = g;
	cp.at = cp.tmp = NULL;
	cp.n = 0;
	copy_params(inf, &cp);
	inf->w = grab(inf, cp.n * sizeof(float), &fail);
	cp.tmp = malloc((size_t)(V > 4 * C ? V : 4 * C) * C * sizeof *cp.tmp);
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

	/* caches, sequences and chunk buffers */
	{
		uint64_t S = n_seq, R = inf->R;
		inf->kt_n = H * (C / H) * inf->Tp;
		inf->v_n = T * C;
		inf->kt = grab(inf, L * S * inf->kt_n * 4, &fail);
		inf->v = grab(inf, L * S * inf->v_n * 4, &fail);
		inf->shift = c->time_shift ? grab(inf, L * S * (C / 2) * 4, &fail) : NULL;
		inf->ring = grab(inf, S * T * 4, &fail);
		inf->seqs = grab(inf, S * sizeof *inf->seqs, &fail);
		inf->logits = grab(inf, S * V * 4, &fail);
		inf->row_seq = grab(inf, R * 4, &fail);
		inf->row_pos = grab(inf, R * 4, &fail);
		inf->row_id = grab(inf, R * 4, &fail);
		inf->out_row = grab(inf, R * 4, &fail);
		inf->row_out = grab(inf, R, &fail);
		inf->x = grab(inf, R * C * 4, &fail);
		inf->xn = grab(inf, R * C * 4, &fail);
		inf->xa = c->time_shift ? grab(inf, R * C * 4, &fail) : NULL;
		inf->mean = grab(inf, R * 4, &fail);
		inf->rstd = grab(inf, R * 4, &fail);
		inf->qkv = grab(inf, R * 3 * C * 4, &fail);
		inf->y = grab(inf, R * C * 4, &fail);
		inf->fc = grab(inf, R * 4 * C * 4, &fail);
		inf->lg = grab(inf, (uint64_t)inf->out_max * V * 4, &fail);
		inf->att_threads = mg_threads_get() > mg_threads_available() ? mg_threads_get() : mg_threads_available();
		inf->att = grab(inf, (uint64_t)inf->att_threads * inf->Tp * 4, &fail);
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

static mg_kv_view kv_of(const mg_infer *inf, uint32_t l, uint32_t s)
{
	size_t k = (size_t)l * inf->n_seq + s;
	mg_kv_view kv = { inf->kt + k * inf->kt_n, inf->v + k * inf->v_n };
	return kv;
}

/* Attention of rows (all n, or the listed ones) into y, row k of y for the
 * k-th row. */
static void attend(mg_infer *inf, uint32_t l, const uint32_t *list, uint32_t n)
{
	const layer *ly = &inf->layers[l];
	uint32_t H = inf->cfg.n_head, C = inf->cfg.n_embd;
	int nt = mg_threads_get() < inf->att_threads ? mg_threads_get() : inf->att_threads;
	size_t pairs = (size_t)n * H, work = 0;

	for (uint32_t i = 0; i < n; i++)
		work += (size_t)(inf->row_pos[list ? list[i] : i] + 1) * 2 * C;
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (work >= PAR_WORK)
	for (size_t k = 0; k < pairs; k++) {
		uint32_t i = (uint32_t)(k / H), h = (uint32_t)(k % H), r = list ? list[i] : i;
		float *scratch = inf->att + (size_t)omp_get_thread_num() * inf->Tp;
		mg_attend_head(inf->y + (size_t)i * C, inf->qkv + (size_t)r * 3 * C, h, inf->row_pos[r],
			       kv_of(inf, l, inf->row_seq[r]), &ly->at, scratch);
	}
}

static void chunk(mg_infer *inf, uint32_t n)
{
	const mg_backend *be = inf->be;
	const mg_gpt_config *c = &inf->cfg;
	uint32_t C = c->n_embd, H = c->n_head, hs = C / H, V = c->vocab_size, L = c->n_layer, half = C / 2;
	uint32_t m = n; /* rows still carried (m < n in the last block) */

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if ((size_t)n * C >= PAR_WORK)
	for (uint32_t i = 0; i < n; i++) {
		const float *te = inf->wte + (size_t)inf->row_id[i] * C;
		const float *pe = inf->wpe ? inf->wpe + (size_t)inf->row_pos[i] * C : NULL;
		float *o = inf->x + (size_t)i * C;
		for (uint32_t k = 0; k < C; k++)
			o[k] = pe ? te[k] + pe[k] : te[k];
	}
	for (uint32_t l = 0; l < L; l++) {
		const layer *ly = &inf->layers[l];
		const float *xa = inf->xn;

		be->layernorm_forward(inf->xn, inf->mean, inf->rstd, inf->x, ly->ln1_w, ly->ln1_b, n, C);
		if (c->time_shift) {
			float *sh = inf->shift + (size_t)l * inf->n_seq * half;
			for (uint32_t i = 0; i < n; i++) {
				float *d = inf->xa + (size_t)i * C;
				const float *prev = inf->row_pos[i] == 0                           ? NULL
						    : i > 0 && inf->row_seq[i - 1] == inf->row_seq[i] ? inf->xn + (size_t)(i - 1) * C
												       : sh + (size_t)inf->row_seq[i] * half;
				if (prev)
					memcpy(d, prev, half * sizeof *d);
				else
					memset(d, 0, half * sizeof *d);
				memcpy(d + half, inf->xn + (size_t)i * C + half, (C - half) * sizeof *d);
			}
			for (uint32_t i = 0; i < n; i++)
				if (i + 1 == n || inf->row_seq[i + 1] != inf->row_seq[i])
					memcpy(sh + (size_t)inf->row_seq[i] * half, inf->xn + (size_t)i * C, half * sizeof *sh);
			xa = inf->xa;
		}
		mg_packed_matmul(inf->qkv, 3 * (size_t)C, xa, C, n, &ly->attn, ly->attn_b, 0);
		/* keys and values into the cache */
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if ((size_t)n * C >= PAR_WORK)
		for (uint32_t i = 0; i < n; i++) {
			mg_kv_view kv = kv_of(inf, l, inf->row_seq[i]);
			const float *k = inf->qkv + (size_t)i * 3 * C + C;
			uint32_t pos = inf->row_pos[i];
			for (uint32_t h = 0; h < H; h++)
				for (uint32_t d = 0; d < hs; d++)
					kv.kt[((size_t)h * hs + d) * inf->Tp + pos] = k[h * hs + d];
			memcpy(kv.v + (size_t)pos * C, k + C, C * sizeof *k);
		}
		if (l + 1 == L) {
			/* only the rows whose logits are wanted go on */
			m = 0;
			for (uint32_t i = 0; i < n; i++)
				if (inf->row_out[i])
					inf->out_row[m++] = i;
			if (!m)
				return;
			attend(inf, l, inf->out_row, m);
			for (uint32_t k = 0; k < m; k++)
				if (inf->out_row[k] != k)
					memcpy(inf->x + (size_t)k * C, inf->x + (size_t)inf->out_row[k] * C, C * sizeof *inf->x);
		} else {
			attend(inf, l, NULL, n);
		}
		mg_packed_matmul(inf->x, C, inf->y, C, m, &ly->aproj, ly->aproj_b, 1); /* x += */
		be->layernorm_forward(inf->xn, inf->mean, inf->rstd, inf->x, ly->ln2_w, ly->ln2_b, m, C);
		mg_packed_matmul(inf->fc, 4 * (size_t)C, inf->xn, C, m, &ly->fc, ly->fc_b, 0);
		be->gelu_forward(inf->fc, inf->fc, (size_t)m * 4 * C, c->gelu);
		mg_packed_matmul(inf->x, C, inf->fc, 4 * (size_t)C, m, &ly->mproj, ly->mproj_b, 1); /* x += */
	}
	be->layernorm_forward(inf->xn, inf->mean, inf->rstd, inf->x, inf->lnf_w, inf->lnf_b, m, C);
	mg_packed_matmul(inf->lg, V, inf->xn, C, m, &inf->lm_head, NULL, 0);
	for (uint32_t k = 0; k < m; k++) {
		uint32_t s = inf->row_seq[inf->out_row[k]];
		memcpy(inf->logits + (size_t)s * V, inf->lg + (size_t)k * V, V * sizeof *inf->lg);
		inf->seqs[s].has_logits = 1;
	}
}

int mg_infer_run(mg_infer *inf, mg_err *e)
{
	uint32_t T = inf->cfg.block_size, n = 0;
	int any = 0;

	(void)e;
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
	return MG_OK;
}
