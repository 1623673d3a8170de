/* BPE training (semantics in bpe_train.h). Counting: the input is read in
 * blocks cut at pre-token boundaries and at special tokens; each distinct
 * piece is stored once, in order of first appearance, with its count.
 * Training: all distinct pieces lie in one arena, each byte position a
 * possible symbol start with links to its neighbours, so an occurrence of a
 * pair is the position of its left symbol, and positions order occurrences
 * exactly as minbpe's left-to-right scan does (pieces in order of first
 * appearance, then left to right within a piece). Every pair keeps its count
 * (weighted by piece frequency) and a min-heap of its occurrence positions,
 * where stale entries are dropped lazily; a max-heap of (count, first
 * occurrence) picks the merge. Once invalid, an occurrence never becomes
 * valid again (the ids at a position only grow), which makes laziness safe. */
#include "bpe/bpe_train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/pretok.h"
#include "bpe/specials.h"
#include "bpe/unicode.h"
#include "core/hash.h"

#define NONE UINT32_MAX
#define DEAD UINT32_MAX
#define BLOCK (1u << 20)
#define ARENA_MAX (UINT32_MAX - 1u)

typedef struct ptype {
	uint64_t hash, count;
	uint32_t off, len;
} ptype;

typedef struct pair {
	uint32_t a, b;
	int64_t count;
	uint32_t *occ;   /* min-heap of positions */
	uint32_t n_occ, cap_occ;
	uint32_t first;  /* occ[0] once stale tops are gone */
	uint8_t touched, done;
} pair;

typedef struct gentry {
	int64_t count;
	uint32_t first, pair;
} gentry;

struct mg_bpe_trainer {
	uint32_t kind, split;
	mg_tokenizer_special *spec_list; /* copies */
	uint32_t n_spec;
	mg_specials spec;
	/* pieces */
	mg_buf arena;
	ptype *types;
	uint32_t n_types, cap_types;
	uint32_t *slots; /* type index + 1, 0 free */
	uint32_t mask;
	uint64_t bytes, pieces;
	/* chars */
	uint8_t *seen; /* bitmap over code points and raw bytes */
	int trained;
};

static void free_specials(mg_tokenizer_special *l, uint32_t n)
{
	for (uint32_t i = 0; l && i < n; i++)
		free(l[i].text);
	free(l);
}

void mg_bpe_trainer_free(mg_bpe_trainer *t)
{
	if (!t)
		return;
	mg_specials_free(&t->spec);
	free_specials(t->spec_list, t->n_spec);
	mg_buf_free(&t->arena);
	free(t->types);
	free(t->slots);
	free(t->seen);
	free(t);
}

int mg_bpe_trainer_init(mg_bpe_trainer **out, uint32_t kind, uint32_t split, const mg_tokenizer_special *specials, uint32_t n,
			mg_err *e)
{
	mg_bpe_trainer *t = calloc(1, sizeof *t);
	int rc;

	*out = NULL;
	if (!t)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	t->kind = kind;
	t->split = kind == MG_TOKENIZER_BPE ? split : MG_SPLIT_NONE;
	if (n) {
		t->spec_list = calloc(n, sizeof *t->spec_list);
		if (!t->spec_list)
			goto oom;
		t->n_spec = n;
		for (uint32_t i = 0; i < n; i++) {
			if (specials[i].len == 0 || specials[i].len > MG_SPECIAL_LEN_MAX) {
				mg_bpe_trainer_free(t);
				return mg_err_set(e, MG_E_INVAL, "special token %u has length %u, outside 1..%u", i,
						  specials[i].len, MG_SPECIAL_LEN_MAX);
			}
			for (uint32_t k = 0; k < i; k++)
				if (specials[k].len == specials[i].len && !memcmp(specials[k].text, specials[i].text, specials[i].len)) {
					mg_bpe_trainer_free(t);
					return mg_err_set(e, MG_E_INVAL, "special token '%s' is given twice", specials[i].text);
				}
			t->spec_list[i].len = specials[i].len;
			t->spec_list[i].id = i;
			t->spec_list[i].text = malloc(specials[i].len + 1);
			if (!t->spec_list[i].text)
				goto oom;
			memcpy(t->spec_list[i].text, specials[i].text, specials[i].len);
			t->spec_list[i].text[specials[i].len] = 0;
		}
		if ((rc = mg_specials_init(&t->spec, t->spec_list, n, e))) {
			mg_bpe_trainer_free(t);
			return rc;
		}
	}
	if (kind == MG_TOKENIZER_CHARS) {
		t->seen = calloc((0x110000 + 256) / 8, 1);
		if (!t->seen)
			goto oom;
	} else {
		t->slots = calloc(1024, sizeof *t->slots);
		if (!t->slots)
			goto oom;
		t->mask = 1023;
	}
	*out = t;
	return MG_OK;
oom:
	mg_bpe_trainer_free(t);
	return mg_err_set(e, MG_E_NOMEM, "out of memory");
}

/* ------------------------------------------------------------ counting */

static uint64_t hash_bytes(const uint8_t *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull ^ n;

	for (; n >= 8; s += 8, n -= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = (h ^ v) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; n; s++, n--)
		h = (h ^ *s) * 0x100000001b3ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h;
}

static int grow_slots(mg_bpe_trainer *t)
{
	uint32_t cap = 2 * (t->mask + 1), *s = calloc(cap, sizeof *s);

	if (!s)
		return MG_E_NOMEM;
	for (uint32_t k = 0; k < t->n_types; k++) {
		uint32_t i = (uint32_t)t->types[k].hash & (cap - 1);
		while (s[i])
			i = (i + 1) & (cap - 1);
		s[i] = k + 1;
	}
	free(t->slots);
	t->slots = s;
	t->mask = cap - 1;
	return MG_OK;
}

static int add_piece(mg_bpe_trainer *t, const uint8_t *s, size_t n, mg_err *e)
{
	uint64_t h = hash_bytes(s, n);
	uint32_t i;
	ptype *p;

	t->pieces++;
	for (i = (uint32_t)h & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
		p = &t->types[t->slots[i] - 1];
		if (p->hash == h && p->len == n && !memcmp(t->arena.data + p->off, s, n)) {
			p->count++;
			return MG_OK;
		}
	}
	if (n > ARENA_MAX - t->arena.len)
		return mg_err_set(e, MG_E_LIMIT, "the distinct pieces of the text pass the limit of %u bytes", ARENA_MAX);
	if (t->n_types == t->cap_types) {
		uint32_t cap = t->cap_types ? 2 * t->cap_types : 4096;
		ptype *nt = realloc(t->types, cap * sizeof *nt);
		if (!nt)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		t->types = nt;
		t->cap_types = cap;
	}
	p = &t->types[t->n_types];
	p->hash = h;
	p->count = 1;
	p->off = (uint32_t)t->arena.len;
	p->len = (uint32_t)n;
	mg_buf_add(&t->arena, s, n);
	if (t->arena.oom)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	t->slots[i] = ++t->n_types;
	if (2 * (uint64_t)t->n_types > t->mask && grow_slots(t))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	return MG_OK;
}

static void add_chars(mg_bpe_trainer *t, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		i += mg_unicode_utf8_decode(s + i, n - i, &cp);
		t->seen[cp >> 3] |= (uint8_t)(1u << (cp & 7));
	}
}

/* Ordinary text, complete (no special tokens in it). */
static int count_segment(mg_bpe_trainer *t, const uint8_t *s, size_t n, mg_err *e)
{
	int rc;

	if (!n)
		return MG_OK;
	if (t->kind == MG_TOKENIZER_CHARS) {
		add_chars(t, s, n);
		return MG_OK;
	}
	if (t->split != MG_SPLIT_GPT2)
		return add_piece(t, s, n, e);
	for (size_t i = 0; i < n;) {
		size_t j = mg_pretok_next(s, n, i, 1);
		if ((rc = add_piece(t, s + i, j - i, e)))
			return rc;
		i = j;
	}
	return MG_OK;
}

/* Text that can be counted on its own (it ends at a cut point). */
static int count_complete(mg_bpe_trainer *t, const uint8_t *s, size_t n, mg_err *e)
{
	size_t start = 0;
	int rc;

	t->bytes += n;
	if (!t->spec.n)
		return count_segment(t, s, n, e);
	for (size_t i = 0; i < n;) {
		const mg_tokenizer_special *sp = mg_specials_at(&t->spec, s, n, i);
		if (!sp) {
			i++;
			continue;
		}
		if ((rc = count_segment(t, s + start, i - start, e)))
			return rc;
		i += sp->len;
		start = i;
	}
	return count_segment(t, s + start, n - start, e);
}

/* The largest cut point in (0, hi], or 0. */
static size_t cut_point(const mg_bpe_trainer *t, const uint8_t *s, size_t n, size_t lo, size_t hi)
{
	while (hi > lo) {
		size_t p = 0;
		if (t->kind == MG_TOKENIZER_CHARS) {
			for (p = hi; p > lo && (s[p] & 0xc0) == 0x80; p--)
				;
			if (p == lo)
				p = 0;
		} else if (t->split == MG_SPLIT_GPT2) {
			p = mg_pretok_cut(s, n, lo, hi);
		}
		if (!p || !t->spec.n || !mg_specials_cover(&t->spec, s, n, p))
			return p;
		hi = p - 1;
	}
	return 0;
}

int mg_bpe_trainer_count_mem(mg_bpe_trainer *t, const uint8_t *s, size_t n, mg_err *e)
{
	return count_complete(t, s, n, e);
}

int mg_bpe_trainer_count(mg_bpe_trainer *t, FILE *f, mg_err *e)
{
	size_t margin = t->spec.max_len > 4 ? t->spec.max_len : 4, cap = 0, len = 0, want = BLOCK, nocut = 0;
	uint8_t *buf = NULL;
	int eof = 0, rc = MG_OK;

	while (!eof || len) {
		size_t cut;
		if (want > cap) {
			uint8_t *nb = realloc(buf, want);
			if (!nb) {
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory for %zu bytes of text that cannot be cut", want);
				break;
			}
			buf = nb;
			cap = want;
		}
		while (!eof && len < want) {
			size_t got = fread(buf + len, 1, want - len, f);
			len += got;
			if (!got) {
				if (ferror(f)) {
					rc = mg_err_set(e, MG_E_IO, "read error: %s", strerror(errno));
					goto out;
				}
				eof = 1;
			}
		}
		if (eof) {
			cut = len;
		} else {
			cut = len > margin ? cut_point(t, buf, len, nocut, len - margin) : 0;
			if (!cut) { /* one piece fills the buffer: read more */
				nocut = len > margin ? len - margin : 0;
				want = 2 * cap;
				continue;
			}
		}
		if ((rc = count_complete(t, buf, cut, e)))
			break;
		memmove(buf, buf + cut, len - cut);
		len -= cut;
		nocut = 0;
		want = len + BLOCK > cap ? len + BLOCK : cap;
	}
out:
	free(buf);
	return rc;
}

void mg_bpe_trainer_stats(const mg_bpe_trainer *t, mg_bpe_train_stats *st)
{
	st->bytes = t->bytes;
	st->pieces = t->pieces;
	st->distinct = t->n_types;
	st->distinct_bytes = t->arena.len;
}

/* ------------------------------------------------------------- training */

typedef struct train {
	uint32_t *sym, *nxt, *prv, *type;
	const ptype *types;
	pair *pairs;
	uint32_t n_pairs, cap_pairs;
	uint32_t *pslot; /* pair index + 1 */
	uint64_t pmask;
	gentry *heap;
	size_t n_heap, cap_heap;
	uint32_t *touched;
	size_t n_touched, cap_touched;
} train;

static int pairs_grow(train *r)
{
	uint64_t cap = 2 * (r->pmask + 1);
	uint32_t *s = calloc(cap, sizeof *s);

	if (!s)
		return MG_E_NOMEM;
	for (uint32_t k = 0; k < r->n_pairs; k++) {
		uint64_t i = mg_hash_slot((uint64_t)r->pairs[k].a << 32 | r->pairs[k].b) & (cap - 1);
		while (s[i])
			i = (i + 1) & (cap - 1);
		s[i] = k + 1;
	}
	free(r->pslot);
	r->pslot = s;
	r->pmask = cap - 1;
	return MG_OK;
}

/* The pair (a, b), created when new; NULL when out of memory. */
static pair *pair_get(train *r, uint32_t a, uint32_t b)
{
	uint64_t key = (uint64_t)a << 32 | b, i = mg_hash_slot(key) & r->pmask;
	pair *p;

	while (r->pslot[i]) {
		p = &r->pairs[r->pslot[i] - 1];
		if (p->a == a && p->b == b)
			return p;
		i = (i + 1) & r->pmask;
	}
	if (r->n_pairs == r->cap_pairs) {
		uint32_t cap = r->cap_pairs ? 2 * r->cap_pairs : 4096;
		pair *np = realloc(r->pairs, cap * sizeof *np);
		if (!np)
			return NULL;
		r->pairs = np;
		r->cap_pairs = cap;
	}
	p = &r->pairs[r->n_pairs];
	memset(p, 0, sizeof *p);
	p->a = a;
	p->b = b;
	r->pslot[i] = ++r->n_pairs;
	if (2 * (uint64_t)r->n_pairs > r->pmask && pairs_grow(r))
		return NULL;
	return &r->pairs[r->n_pairs - 1];
}

static int occ_push(pair *p, uint32_t pos)
{
	uint32_t i;

	if (p->n_occ == p->cap_occ) {
		uint32_t cap = p->cap_occ ? 2 * p->cap_occ : 4;
		uint32_t *o = realloc(p->occ, cap * sizeof *o);
		if (!o)
			return MG_E_NOMEM;
		p->occ = o;
		p->cap_occ = cap;
	}
	i = p->n_occ++;
	while (i > 0) {
		uint32_t up = (i - 1) / 2;
		if (p->occ[up] <= pos)
			break;
		p->occ[i] = p->occ[up];
		i = up;
	}
	p->occ[i] = pos;
	return MG_OK;
}

static void occ_pop(pair *p)
{
	uint32_t v = p->occ[--p->n_occ], i = 0, m = p->n_occ;

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && p->occ[c + 1] < p->occ[c])
			c++;
		if (v <= p->occ[c])
			break;
		p->occ[i] = p->occ[c];
		i = c;
	}
	if (m)
		p->occ[i] = v;
}

static inline int occ_valid(const train *r, const pair *p, uint32_t pos)
{
	uint32_t q;
	return r->sym[pos] == p->a && (q = r->nxt[pos]) != NONE && r->sym[q] == p->b;
}

/* a ranks before b */
static inline int better(const gentry *a, const gentry *b)
{
	return a->count > b->count || (a->count == b->count && a->first < b->first);
}

static int heap_push(train *r, const pair *p)
{
	gentry v = { p->count, p->first, (uint32_t)(p - r->pairs) };
	size_t i;

	if (r->n_heap == r->cap_heap) {
		size_t cap = r->cap_heap ? 2 * r->cap_heap : 4096;
		gentry *h = realloc(r->heap, cap * sizeof *h);
		if (!h)
			return MG_E_NOMEM;
		r->heap = h;
		r->cap_heap = cap;
	}
	i = r->n_heap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!better(&v, &r->heap[up]))
			break;
		r->heap[i] = r->heap[up];
		i = up;
	}
	r->heap[i] = v;
	return MG_OK;
}

static gentry heap_pop(train *r)
{
	gentry top = r->heap[0], v = r->heap[--r->n_heap];
	size_t i = 0, m = r->n_heap;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && better(&r->heap[c + 1], &r->heap[c]))
			c++;
		if (!better(&r->heap[c], &v))
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (m)
		r->heap[i] = v;
	return top;
}

static int touch(train *r, pair *p)
{
	if (p->touched)
		return MG_OK;
	if (r->n_touched == r->cap_touched) {
		size_t cap = r->cap_touched ? 2 * r->cap_touched : 1024;
		uint32_t *t = realloc(r->touched, cap * sizeof *t);
		if (!t)
			return MG_E_NOMEM;
		r->touched = t;
		r->cap_touched = cap;
	}
	p->touched = 1;
	r->touched[r->n_touched++] = (uint32_t)(p - r->pairs);
	return MG_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Replaces every occurrence of pairs[pi] by z, left to right. Pair pointers
 * are re-read after pair_get, which may move the array. */
static int apply_merge(train *r, uint32_t pi, uint32_t z)
{
	uint32_t *occ = r->pairs[pi].occ, n = r->pairs[pi].n_occ, a = r->pairs[pi].a, b = r->pairs[pi].b;

	r->pairs[pi].occ = NULL;
	r->pairs[pi].n_occ = r->pairs[pi].cap_occ = 0;
	r->pairs[pi].done = 1;
	qsort(occ, n, sizeof *occ, cmp_u32);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t pos = occ[k], q, l, rt;
		int64_t f;
		pair *x;

		if (r->sym[pos] != a || (q = r->nxt[pos]) == NONE || r->sym[q] != b)
			continue;
		f = (int64_t)r->types[r->type[pos]].count;
		l = r->prv[pos];
		rt = r->nxt[q];
		if (l != NONE) {
			x = pair_get(r, r->sym[l], a);
			if (!x || touch(r, x))
				goto oom;
			x->count -= f;
		}
		if (rt != NONE) {
			x = pair_get(r, b, r->sym[rt]);
			if (!x || touch(r, x))
				goto oom;
			x->count -= f;
		}
		r->sym[pos] = z;
		r->sym[q] = DEAD;
		r->nxt[pos] = rt;
		if (rt != NONE)
			r->prv[rt] = pos;
		if (l != NONE) {
			x = pair_get(r, r->sym[l], z);
			if (!x || touch(r, x) || occ_push(x, l))
				goto oom;
			x->count += f;
		}
		if (rt != NONE) {
			x = pair_get(r, z, r->sym[rt]);
			if (!x || touch(r, x) || occ_push(x, pos))
				goto oom;
			x->count += f;
		}
	}
	free(occ);
	r->pairs[pi].count = 0;
	/* new counts and first occurrences into the queue */
	for (size_t k = 0; k < r->n_touched; k++) {
		pair *p = &r->pairs[r->touched[k]];
		p->touched = 0;
		if (p->done || p->count <= 0)
			continue;
		while (p->n_occ && !occ_valid(r, p, p->occ[0]))
			occ_pop(p);
		p->first = p->occ[0];
		if (heap_push(r, p))
			return MG_E_NOMEM;
	}
	r->n_touched = 0;
	return MG_OK;
oom:
	free(occ);
	return MG_E_NOMEM;
}

static void train_free(train *r)
{
	for (uint32_t k = 0; r->pairs && k < r->n_pairs; k++)
		free(r->pairs[k].occ);
	free(r->pairs);
	free(r->pslot);
	free(r->heap);
	free(r->touched);
	free(r->sym);
	free(r->nxt);
	free(r->prv);
	free(r->type);
}

static int train_merges(mg_bpe_trainer *t, uint32_t want, mg_bpe_progress cb, void *ctx, mg_tokenizer_merge *out,
			uint32_t *done, mg_err *e)
{
	size_t A = t->arena.len;
	train r;
	int rc = MG_OK;

	*done = 0;
	memset(&r, 0, sizeof r);
	r.types = t->types;
	r.sym = malloc((A ? A : 1) * sizeof *r.sym);
	r.nxt = malloc((A ? A : 1) * sizeof *r.nxt);
	r.prv = malloc((A ? A : 1) * sizeof *r.prv);
	r.type = malloc((A ? A : 1) * sizeof *r.type);
	r.pslot = calloc(1u << 16, sizeof *r.pslot);
	r.pmask = (1u << 16) - 1;
	if (!r.sym || !r.nxt || !r.prv || !r.type || !r.pslot)
		goto oom;
	for (uint32_t k = 0; k < t->n_types; k++) {
		const ptype *p = &t->types[k];
		for (uint32_t i = p->off; i < p->off + p->len; i++) {
			r.sym[i] = t->arena.data[i];
			r.nxt[i] = i + 1 < p->off + p->len ? i + 1 : NONE;
			r.prv[i] = i > p->off ? i - 1 : NONE;
			r.type[i] = k;
		}
	}
	/* initial counts; occurrences arrive in increasing order, a valid heap */
	for (uint32_t i = 0; i < A; i++) {
		pair *p;
		if (r.nxt[i] == NONE)
			continue;
		if (!(p = pair_get(&r, r.sym[i], r.sym[i + 1])))
			goto oom;
		if (!p->n_occ)
			p->first = i;
		p->count += (int64_t)t->types[r.type[i]].count;
		if (occ_push(p, i))
			goto oom;
	}
	for (uint32_t k = 0; k < r.n_pairs; k++)
		if (heap_push(&r, &r.pairs[k]))
			goto oom;
	while (*done < want) {
		gentry g;
		pair *p;
		for (;;) {
			if (!r.n_heap)
				goto out; /* nothing left to merge */
			g = heap_pop(&r);
			p = &r.pairs[g.pair];
			if (!p->done && p->count == g.count && p->first == g.first)
				break;
		}
		out[*done].left = p->a;
		out[*done].right = p->b;
		out[*done].id = 256 + *done;
		if (apply_merge(&r, g.pair, 256 + *done))
			goto oom;
		++*done;
		if (cb && (rc = cb(ctx, *done - 1, out[*done - 1].left, out[*done - 1].right, (uint64_t)g.count))) {
			rc = mg_err_set(e, rc, "training stopped after %u merges", *done);
			goto out;
		}
	}
out:
	train_free(&r);
	return rc;
oom:
	train_free(&r);
	return mg_err_set(e, MG_E_NOMEM, "out of memory for training on %zu bytes of distinct pieces", A);
}

static int add_specials(const mg_bpe_trainer *t, mg_tokenizer *tk, uint32_t first_id, mg_err *e)
{
	if (!t->n_spec)
		return MG_OK;
	tk->specials = calloc(t->n_spec, sizeof *tk->specials);
	if (!tk->specials)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < t->n_spec; i++) {
		mg_tokenizer_special *s = &tk->specials[i];
		s->id = first_id + i;
		s->len = t->spec_list[i].len;
		s->text = malloc(s->len + 1);
		if (!s->text)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		memcpy(s->text, t->spec_list[i].text, s->len + 1);
		tk->n_specials++;
	}
	return MG_OK;
}

int mg_bpe_trainer_train(mg_bpe_trainer *t, uint32_t vocab_size, mg_bpe_progress cb, void *ctx, mg_tokenizer *tk,
			 uint32_t *merges, mg_err *e)
{
	int rc;

	memset(tk, 0, sizeof *tk);
	*merges = 0;
	if (t->trained)
		return mg_err_set(e, MG_E_INVAL, "the trainer has already trained");
	t->trained = 1;
	if (t->kind == MG_TOKENIZER_CHARS) {
		uint32_t n = 0;
		for (uint32_t c = 0; c < 0x110000 + 256; c++)
			n += t->seen[c >> 3] >> (c & 7) & 1;
		tk->kind = MG_TOKENIZER_CHARS;
		tk->vocab_size = n + t->n_spec;
		if (tk->vocab_size == 0)
			return mg_err_set(e, MG_E_INVAL, "the text is empty: no characters to make a model of");
		tk->chars = malloc((n ? n : 1) * sizeof *tk->chars);
		if (!tk->chars)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		for (uint32_t c = 0; c < 0x110000 + 256; c++)
			if (t->seen[c >> 3] >> (c & 7) & 1)
				tk->chars[tk->n_chars++] = c;
		rc = add_specials(t, tk, n, e);
	} else {
		uint32_t want;
		if (vocab_size < 256 + t->n_spec || vocab_size > MG_VOCAB_MAX)
			return mg_err_set(e, MG_E_INVAL, "vocabulary size %u is outside %u..%u (256 bytes and %u special tokens)",
					  vocab_size, 256 + t->n_spec, MG_VOCAB_MAX, t->n_spec);
		want = vocab_size - 256 - t->n_spec;
		tk->kind = MG_TOKENIZER_BPE;
		tk->split = t->split;
		tk->merges = malloc((want ? want : 1) * sizeof *tk->merges);
		if (!tk->merges)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		for (uint32_t b = 0; b < 256; b++)
			tk->byte_id[b] = b;
		if ((rc = train_merges(t, want, cb, ctx, tk->merges, merges, e))) {
			mg_tokenizer_free(tk);
			return rc;
		}
		tk->n_merges = *merges;
		tk->vocab_size = 256 + *merges + t->n_spec;
		rc = add_specials(t, tk, 256 + *merges, e);
	}
	if (!rc)
		rc = mg_tokenizer_finish(tk, e);
	if (rc)
		mg_tokenizer_free(tk);
	return rc;
}
