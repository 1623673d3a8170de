/* Byte-level BPE and character encoding. A piece (one pre-token) starts as
 * its byte tokens; the adjacent pair whose merge has the lowest rank is
 * merged, the leftmost first when a pair occurs more than once, until no
 * adjacent pair has a merge. This is GPT-2's encoder.py and minbpe's encode:
 * a new pair always ranks after the merge that made one of its parts, so
 * merging the leftmost lowest pair one at a time gives the same result as
 * merging every occurrence of it left to right.
 * Short pieces use arrays (quadratic in the piece, which is short); long ones
 * a linked list and a heap of (rank, position), so one 10 MB word takes
 * n log n. Repeated pieces come from a per-worker cache. */
#include "bpe/bpe_encode.h"

#include <stdlib.h>
#include <string.h>

#include "bpe/pretok.h"
#include "bpe/specials.h"
#include "bpe/unicode.h"
#include "core/hash.h"

#define NONE UINT32_MAX
#define NOPAIR UINT64_MAX
#define SMALL_PIECE 96   /* longest piece merged with arrays */
#define CACHE_PIECE 64   /* longest piece kept in the cache */
#define CACHE_SLOTS (1u << 16) /* 1 MB: a table that stays in cache beats a bigger one */
#define CACHE_BYTES (1u << 24)

/* ------------------------------------------------------------ hash maps */

typedef struct slot {
	uint64_t key;   /* EMPTY when free */
	uint32_t rank;  /* merges: rank; chars: unused */
	uint32_t id;    /* merges: the new token; chars: the token */
} slot;

#define EMPTY UINT64_MAX

typedef struct map {
	slot *s;
	uint64_t mask;
} map;

static int map_init(map *m, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n + 2)
		cap *= 2;
	m->s = malloc(cap * sizeof *m->s);
	if (!m->s)
		return MG_E_NOMEM;
	for (size_t i = 0; i < cap; i++)
		m->s[i].key = EMPTY;
	m->mask = cap - 1;
	return MG_OK;
}

/* The slot of key, or the free slot where it belongs. */
static inline slot *map_find(const map *m, uint64_t key)
{
	uint64_t i = mg_hash_slot(key) & m->mask;

	while (m->s[i].key != key && m->s[i].key != EMPTY)
		i = (i + 1) & m->mask;
	return &m->s[i];
}

/* ---------------------------------------------------------------- encoder */

struct mg_bpe_encoder {
	const mg_tokenizer *tk;
	uint32_t flags;
	map merges;           /* (left << 32 | right) -> rank, new id */
	map chars;            /* code point -> id, for chars models */
	uint32_t ascii_id[128];
	uint32_t byte_id[256];
	uint64_t *byte_pair;  /* [x << 8 | y]: rank << 32 | id of merging bytes x, y; NOPAIR */
	mg_specials spec;     /* empty unless MG_ENCODE_SPECIAL */
};

void mg_bpe_encoder_free(mg_bpe_encoder *enc)
{
	if (!enc)
		return;
	free(enc->merges.s);
	free(enc->byte_pair);
	free(enc->chars.s);
	mg_specials_free(&enc->spec);
	free(enc);
}

int mg_bpe_encoder_init(mg_bpe_encoder **out, const mg_tokenizer *tk, uint32_t flags, mg_err *e)
{
	mg_bpe_encoder *enc;

	*out = NULL;
	if (tk->kind != MG_TOKENIZER_BPE && tk->kind != MG_TOKENIZER_CHARS)
		return mg_err_set(e, MG_E_UNSUPPORTED, "a %s model does not encode text", mg_tokenizer_kind_name(tk->kind));
	enc = calloc(1, sizeof *enc);
	if (!enc)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	enc->tk = tk;
	enc->flags = flags;
	if (tk->kind == MG_TOKENIZER_BPE) {
		memcpy(enc->byte_id, tk->byte_id, sizeof enc->byte_id);
		if (map_init(&enc->merges, tk->n_merges))
			goto oom;
		for (uint32_t r = 0; r < tk->n_merges; r++) {
			const mg_tokenizer_merge *m = &tk->merges[r];
			slot *s = map_find(&enc->merges, (uint64_t)m->left << 32 | m->right);
			if (s->key == EMPTY) { /* a repeated pair keeps its first (lowest) rank */
				s->key = (uint64_t)m->left << 32 | m->right;
				s->rank = r;
				s->id = m->id;
			}
		}
		/* the first merges of every piece are of two bytes: a direct table */
		if (!(enc->byte_pair = malloc(65536 * sizeof *enc->byte_pair)))
			goto oom;
		for (uint32_t x = 0; x < 65536; x++) {
			const slot *s = map_find(&enc->merges, (uint64_t)tk->byte_id[x >> 8] << 32 | tk->byte_id[x & 255]);
			enc->byte_pair[x] = s->key == EMPTY ? NOPAIR : (uint64_t)s->rank << 32 | s->id;
		}
	} else {
		if (map_init(&enc->chars, tk->n_chars))
			goto oom;
		for (int c = 0; c < 128; c++)
			enc->ascii_id[c] = NONE;
		for (uint32_t i = 0; i < tk->n_chars; i++) {
			slot *s = map_find(&enc->chars, tk->chars[i]);
			s->key = tk->chars[i];
			s->id = i;
			if (tk->chars[i] < 128)
				enc->ascii_id[tk->chars[i]] = i;
		}
	}
	if ((flags & MG_ENCODE_SPECIAL) && mg_specials_init(&enc->spec, tk->specials, tk->n_specials, e))
		goto oom;
	*out = enc;
	return MG_OK;
oom:
	mg_bpe_encoder_free(enc);
	return mg_err_set(e, MG_E_NOMEM, "out of memory for the encoding tables");
}

size_t mg_bpe_encoder_margin(const mg_bpe_encoder *enc) { return enc->spec.max_len > 4 ? enc->spec.max_len : 4; }

size_t mg_bpe_encoder_cut(const mg_bpe_encoder *enc, const uint8_t *s, size_t n, size_t lo, size_t hi)
{
	while (hi > lo) {
		size_t p = 0;
		if (enc->tk->kind == MG_TOKENIZER_CHARS) {
			for (p = hi; p > lo && (s[p] & 0xc0) == 0x80; p--)
				;
			if (p == lo)
				p = 0;
		} else if (enc->tk->split == MG_SPLIT_GPT2) {
			p = mg_pretok_cut(s, n, lo, hi);
		}
		if (!p || !enc->spec.n || !mg_specials_cover(&enc->spec, s, n, p))
			return p;
		hi = p - 1;
	}
	return 0;
}

/* ----------------------------------------------------------------- worker */

typedef struct centry {
	uint32_t tag;     /* high half of the piece's hash, 0: free */
	uint32_t off;     /* bytes in cbytes */
	uint32_t ids;     /* ids in cids */
	uint16_t len, nids;
} centry;

struct mg_bpe_encode_worker {
	const mg_bpe_encoder *enc;
	/* small pieces */
	uint32_t sid[SMALL_PIECE];
	uint64_t srn[SMALL_PIECE]; /* rank << 32 | new id of each adjacent pair */
	/* long pieces */
	uint32_t *sym, *nxt, *prv;
	uint64_t *heap;
	size_t cap, heap_cap;
	/* cache of pieces */
	centry *cache;
	uint8_t *cbytes;
	uint32_t *cids;
	uint32_t cbytes_len, cids_len, cache_n;
};

void mg_bpe_encode_worker_free(mg_bpe_encode_worker *w)
{
	if (!w)
		return;
	free(w->sym);
	free(w->nxt);
	free(w->prv);
	free(w->heap);
	free(w->cache);
	free(w->cbytes);
	free(w->cids);
	free(w);
}

int mg_bpe_encode_worker_init(mg_bpe_encode_worker **out, const mg_bpe_encoder *enc, mg_err *e)
{
	mg_bpe_encode_worker *w = calloc(1, sizeof *w);

	*out = NULL;
	if (!w)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	w->enc = enc;
	if (enc->tk->kind == MG_TOKENIZER_BPE) {
		w->cache = calloc(CACHE_SLOTS, sizeof *w->cache);
		w->cbytes = malloc(CACHE_BYTES);
		w->cids = malloc(CACHE_BYTES);
		if (!w->cache || !w->cbytes || !w->cids) {
			mg_bpe_encode_worker_free(w);
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		}
	}
	*out = w;
	return MG_OK;
}

static inline const slot *merge_of(const mg_bpe_encoder *enc, uint32_t a, uint32_t b)
{
	const slot *s = map_find(&enc->merges, (uint64_t)a << 32 | b);
	return s->key == EMPTY ? NULL : s;
}

/* The merge of tokens a, b as rank << 32 | new id (NOPAIR: none), which
 * orders by rank; equal values are the same pair. */
static inline uint64_t pair_of(const mg_bpe_encoder *enc, uint32_t a, uint32_t b)
{
	const slot *s = map_find(&enc->merges, (uint64_t)a << 32 | b);
	return s->key == EMPTY ? NOPAIR : (uint64_t)s->rank << 32 | s->id;
}

/* BPE of a short piece with arrays: the merges of adjacent pairs, the
 * leftmost lowest merged each round. Returns the number of ids in w->sid. */
static size_t bpe_small(mg_bpe_encode_worker *w, const uint8_t *s, size_t n)
{
	const mg_bpe_encoder *enc = w->enc;
	uint32_t *id = w->sid;
	uint64_t *rn = w->srn;
	size_t m = n;

	for (size_t i = 0; i < n; i++)
		id[i] = enc->byte_id[s[i]];
	for (size_t i = 0; i + 1 < n; i++)
		rn[i] = enc->byte_pair[(uint32_t)s[i] << 8 | s[i + 1]];
	while (m > 1) {
		uint64_t best = NOPAIR;
		size_t k = 0;
		for (size_t i = 0; i + 1 < m; i++)
			if (rn[i] < best) {
				best = rn[i];
				k = i;
			}
		if (best == NOPAIR)
			break;
		id[k] = (uint32_t)best;
		memmove(id + k + 1, id + k + 2, (m - k - 2) * sizeof *id);
		memmove(rn + k + 1, rn + k + 2, (m - k - 2) * sizeof *rn);
		m--;
		if (k)
			rn[k - 1] = pair_of(enc, id[k - 1], id[k]);
		if (k + 1 < m)
			rn[k] = pair_of(enc, id[k], id[k + 1]);
	}
	return m;
}

/* Min-heap of (rank << 32 | position). */
static inline void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
	size_t i = (*n)++;

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h[p] <= v)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = v;
}

static inline uint64_t heap_pop(uint64_t *h, size_t *n)
{
	uint64_t top = h[0], v = h[--*n];
	size_t i = 0, m = *n;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && h[c + 1] < h[c])
			c++;
		if (v <= h[c])
			break;
		h[i] = h[c];
		i = c;
	}
	if (m)
		h[i] = v;
	return top;
}

/* BPE of a long piece: a list of symbols over byte positions and a lazy heap;
 * an entry is stale when its position no longer starts the pair it ranked.
 * Ties of rank pop the leftmost position first. Appends to out. */
static int bpe_long(mg_bpe_encode_worker *w, const uint8_t *s, size_t n, mg_ids *out, mg_err *e)
{
	const mg_bpe_encoder *enc = w->enc;
	size_t hn = 0;

	if (n >= NONE)
		return mg_err_set(e, MG_E_LIMIT, "a pre-token of %zu bytes is over the limit of %u", n, NONE - 1);
	if (w->cap < n) {
		free(w->sym);
		free(w->nxt);
		free(w->prv);
		w->sym = malloc(n * sizeof *w->sym);
		w->nxt = malloc(n * sizeof *w->nxt);
		w->prv = malloc(n * sizeof *w->prv);
		w->cap = n;
		if (!w->sym || !w->nxt || !w->prv) {
			w->cap = 0;
			return mg_err_set(e, MG_E_NOMEM, "out of memory for a pre-token of %zu bytes", n);
		}
	}
	if (w->heap_cap < 3 * n) {
		free(w->heap);
		w->heap = malloc(3 * n * sizeof *w->heap);
		w->heap_cap = w->heap ? 3 * n : 0;
		if (!w->heap)
			return mg_err_set(e, MG_E_NOMEM, "out of memory for a pre-token of %zu bytes", n);
	}
	for (size_t i = 0; i < n; i++) {
		w->sym[i] = enc->byte_id[s[i]];
		w->nxt[i] = i + 1 < n ? (uint32_t)(i + 1) : NONE;
		w->prv[i] = i ? (uint32_t)(i - 1) : NONE;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		const slot *sl = merge_of(enc, w->sym[i], w->sym[i + 1]);
		if (sl)
			heap_push(w->heap, &hn, (uint64_t)sl->rank << 32 | i);
	}
	while (hn) {
		uint64_t top = heap_pop(w->heap, &hn);
		uint32_t pos = (uint32_t)top, rank = (uint32_t)(top >> 32), q, r, l;
		const slot *sl;

		if (w->sym[pos] == NONE || (q = w->nxt[pos]) == NONE)
			continue;
		sl = merge_of(enc, w->sym[pos], w->sym[q]);
		if (!sl || sl->rank != rank)
			continue; /* stale */
		w->sym[pos] = sl->id;
		w->sym[q] = NONE;
		r = w->nxt[q];
		w->nxt[pos] = r;
		if (r != NONE) {
			w->prv[r] = pos;
			if ((sl = merge_of(enc, w->sym[pos], w->sym[r])))
				heap_push(w->heap, &hn, (uint64_t)sl->rank << 32 | pos);
		}
		l = w->prv[pos];
		if (l != NONE && (sl = merge_of(enc, w->sym[l], w->sym[pos])))
			heap_push(w->heap, &hn, (uint64_t)sl->rank << 32 | l);
	}
	for (uint32_t i = 0; i != NONE; i = w->nxt[i]) {
		if (out->n == out->cap && mg_ids_reserve(out, 1))
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		out->v[out->n++] = w->sym[i];
	}
	return MG_OK;
}

static inline uint64_t hash_bytes(const uint8_t *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	while (n >= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = mg_hash_slot(h ^ v) * 0xbf58476d1ce4e5b9ull;
		s += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = 0;
		memcpy(&v, s, n);
		h = mg_hash_slot(h ^ v ^ 0xff51afd7ed558ccdull);
	}
	h = mg_hash_slot(h);
	return h ? h : 1;
}

static void cache_clear(mg_bpe_encode_worker *w)
{
	memset(w->cache, 0, CACHE_SLOTS * sizeof *w->cache);
	w->cbytes_len = w->cids_len = w->cache_n = 0;
}

static int encode_piece(mg_bpe_encode_worker *w, const uint8_t *s, size_t n, mg_ids *out, mg_err *e)
{
	centry *c = NULL;
	uint64_t h = 0;
	uint32_t tag = 0;
	size_t m;

	if (n == 1) {
		if (out->n == out->cap && mg_ids_reserve(out, 1))
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		out->v[out->n++] = w->enc->byte_id[s[0]];
		return MG_OK;
	}
	if (n > SMALL_PIECE)
		return bpe_long(w, s, n, out, e);
	if (n <= CACHE_PIECE) {
		uint32_t i;
		h = hash_bytes(s, n);
		tag = (uint32_t)(h >> 32) | 1;
		for (i = (uint32_t)h & (CACHE_SLOTS - 1); w->cache[i].tag; i = (i + 1) & (CACHE_SLOTS - 1)) {
			c = &w->cache[i];
			if (c->tag == tag && c->len == n && !memcmp(w->cbytes + c->off, s, n)) {
				if (mg_ids_reserve(out, c->nids))
					return mg_err_set(e, MG_E_NOMEM, "out of memory");
				memcpy(out->v + out->n, w->cids + c->ids, c->nids * sizeof *out->v);
				out->n += c->nids;
				return MG_OK;
			}
		}
		c = &w->cache[i];
	}
	m = bpe_small(w, s, n);
	if (mg_ids_reserve(out, m))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	memcpy(out->v + out->n, w->sid, m * sizeof *out->v);
	out->n += m;
	if (c) {
		if (w->cache_n >= CACHE_SLOTS / 2 || w->cbytes_len + n > CACHE_BYTES ||
		    (w->cids_len + m) * sizeof *w->cids > CACHE_BYTES) {
			cache_clear(w);
			uint32_t i;
			for (i = (uint32_t)h & (CACHE_SLOTS - 1); w->cache[i].tag; i = (i + 1) & (CACHE_SLOTS - 1))
				;
			c = &w->cache[i];
		}
		c->tag = tag;
		c->off = w->cbytes_len;
		c->len = (uint16_t)n;
		c->ids = w->cids_len;
		c->nids = (uint16_t)m;
		memcpy(w->cbytes + w->cbytes_len, s, n);
		memcpy(w->cids + w->cids_len, w->sid, m * sizeof *w->cids);
		w->cbytes_len += (uint32_t)n;
		w->cids_len += (uint32_t)m;
		w->cache_n++;
	}
	return MG_OK;
}

/* Ordinary text (no special tokens in it). */
static int encode_text(mg_bpe_encode_worker *w, const uint8_t *s, size_t n, uint64_t base, mg_ids *out, mg_err *e)
{
	const mg_bpe_encoder *enc = w->enc;
	int rc;

	if (!n)
		return MG_OK;
	if (enc->tk->kind == MG_TOKENIZER_CHARS) {
		if (mg_ids_reserve(out, n))
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		for (size_t i = 0; i < n;) {
			uint32_t cp, id;
			size_t len;
			if (s[i] < 0x80) {
				cp = s[i];
				id = enc->ascii_id[cp];
				len = 1;
			} else {
				const slot *sl;
				len = mg_unicode_utf8_decode(s + i, n - i, &cp);
				sl = map_find(&enc->chars, cp);
				id = sl->key == EMPTY ? NONE : sl->id;
			}
			if (id == NONE) {
				if (cp >= MG_UC_RAW)
					return mg_err_set(e, MG_E_INVAL, "byte %llu: invalid UTF-8 byte 0x%02x is not in the model",
							  (unsigned long long)(base + i), cp - MG_UC_RAW);
				return mg_err_set(e, MG_E_INVAL, "byte %llu: character U+%04X is not in the model",
						  (unsigned long long)(base + i), cp);
			}
			out->v[out->n++] = id;
			i += len;
		}
		return MG_OK;
	}
	if (enc->tk->split != MG_SPLIT_GPT2)
		return encode_piece(w, s, n, out, e);
	for (size_t i = 0; i < n;) {
		size_t j = mg_pretok_next(s, n, i, 1);
		if ((rc = encode_piece(w, s + i, j - i, out, e)))
			return rc;
		i = j;
	}
	return MG_OK;
}

int mg_bpe_encode_worker_encode(mg_bpe_encode_worker *w, const uint8_t *s, size_t n, uint64_t base, mg_ids *out, mg_err *e)
{
	const mg_bpe_encoder *enc = w->enc;
	size_t start = 0;
	int rc;

	if (!enc->spec.n)
		return encode_text(w, s, n, base, out, e);
	for (size_t i = 0; i < n;) {
		const mg_tokenizer_special *sp = mg_specials_at(&enc->spec, s, n, i);
		if (!sp) {
			i++;
			continue;
		}
		if ((rc = encode_text(w, s + start, i - start, base + start, out, e)))
			return rc;
		if (mg_ids_reserve(out, 1))
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		out->v[out->n++] = sp->id;
		i += sp->len;
		start = i;
	}
	return encode_text(w, s + start, n - start, base + start, out, e);
}
