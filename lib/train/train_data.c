/* Training sequences: the checks of a token stream against a model, the
 * epoch orders (counter-based, so resuming needs no RNG state) and batches
 * padded to the longest sequence. */
#include "train/train_data.h"

#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* Domains of the counter-based draws, so that two uses of one seed never
 * share a stream. */
#define KEY_WINDOW 0x77696e646f777331ull /* "windows1" */
#define KEY_PERM 0x7065726d75746531ull   /* "permute1" */

struct mg_train_data {
	uint32_t layout, block;
	uint64_t first_tok;     /* index in the file of the view's first token */
	uint64_t first_rec;     /* examples: index in the file of the view's first record */
	uint64_t n;             /* tokens in the view */
	const uint32_t *ids;    /* n */
	const uint8_t *mask;    /* n effective target bits, or NULL: all 1 */
	uint8_t *own_mask;      /* documents: the file's mask with record starts cleared */
	uint32_t *cum;          /* with a mask: n+1 running sums of mask, mod 2^32 */
	uint64_t n_rec;         /* examples: records in the view */
	const uint64_t *start;  /* examples: n_rec+1 file positions */
	uint32_t *rec_targets;  /* examples: n_rec */
	uint64_t targets, fingerprint;
	uint32_t max_len;       /* positions of the longest sequence */
	uint64_t *perm;         /* examples, random order: the cached permutation */
	uint64_t perm_seed, perm_epoch;
	int perm_valid;
};

const char *mg_train_data_order_name(uint32_t order)
{
	switch (order) {
	case MG_ORDER_RANDOM: return "random";
	case MG_ORDER_SEQUENTIAL: return "sequential";
	}
	return "unknown";
}

uint64_t mg_train_data_units(const mg_tokstream_data *d) { return d->h.layout == MG_LAYOUT_EXAMPLES ? d->n_records : d->n; }

static uint64_t mix(uint64_t h, uint64_t v) { return mg_hash64(h ^ mg_hash64(v)); }

void mg_train_data_free(mg_train_data *t)
{
	if (!t)
		return;
	free(t->own_mask);
	free(t->cum);
	free(t->rec_targets);
	free(t->perm);
	free(t);
}

static int check_ids(const mg_train_data *t, uint32_t vocab_size, mg_err *e)
{
	for (uint64_t i = 0; i < t->n; i++)
		if (t->ids[i] >= vocab_size)
			return mg_err_set(e, MG_E_INVAL, "token %u at position %llu is not below the model's vocab_size %u",
					  t->ids[i], (unsigned long long)(t->first_tok + i), vocab_size);
	return MG_OK;
}

static int open_examples(mg_train_data *t, const mg_tokstream_data *d, uint64_t first, uint64_t count, mg_err *e)
{
	t->first_rec = first;
	t->n_rec = count;
	t->start = d->start + first;
	t->first_tok = t->start[0];
	t->n = t->start[count] - t->start[0];
	t->ids = d->ids + t->first_tok;
	t->mask = d->mask ? d->mask + t->first_tok : NULL;
	t->rec_targets = malloc(count * sizeof *t->rec_targets);
	t->perm = malloc(count * sizeof *t->perm);
	if (!t->rec_targets || !t->perm)
		return mg_err_set(e, MG_E_NOMEM, "out of memory for %llu records", (unsigned long long)count);
	for (uint64_t r = 0; r < count; r++) {
		uint64_t a = t->start[r], len = t->start[r + 1] - a, c = 0;
		if (len > (uint64_t)t->block + 1)
			return mg_err_set(e, MG_E_INVAL, "record %llu has %llu tokens, more than block_size + 1 = %llu",
					  (unsigned long long)(first + r), (unsigned long long)len,
					  (unsigned long long)t->block + 1);
		if (len < 2)
			return mg_err_set(e, MG_E_INVAL, "record %llu has a single token: nothing to predict",
					  (unsigned long long)(first + r));
		for (uint64_t j = a + 1; j < a + len; j++)
			c += d->mask ? d->mask[j] : 1;
		t->rec_targets[r] = (uint32_t)c;
		if (len - 1 > t->max_len)
			t->max_len = (uint32_t)(len - 1);
		t->targets += c;
	}
	return MG_OK;
}

static int open_stream(mg_train_data *t, const mg_tokstream_data *d, uint64_t first, uint64_t count, mg_err *e)
{
	t->first_tok = first;
	t->n = count;
	t->max_len = t->block;
	t->ids = d->ids + first;
	t->mask = d->mask ? d->mask + first : NULL;
	if (count < (uint64_t)t->block + 1)
		return mg_err_set(e, MG_E_INVAL, "%llu tokens, fewer than the block_size + 1 = %llu of one window",
				  (unsigned long long)count, (unsigned long long)t->block + 1);
	if (t->layout == MG_LAYOUT_DOCUMENTS && d->n_records) {
		/* a document's first token is never a target */
		uint64_t r = 0;
		if (!(t->own_mask = malloc(count)))
			return mg_err_set(e, MG_E_NOMEM, "out of memory for %llu tokens", (unsigned long long)count);
		if (d->mask)
			memcpy(t->own_mask, d->mask + first, count);
		else
			memset(t->own_mask, 1, count);
		while (r < d->n_records && d->start[r] < first)
			r++;
		for (; r < d->n_records && d->start[r] < first + count; r++)
			t->own_mask[d->start[r] - first] = 0;
		t->mask = t->own_mask;
	}
	if (t->mask) {
		uint32_t s = 0;
		if (!(t->cum = malloc((count + 1) * sizeof *t->cum)))
			return mg_err_set(e, MG_E_NOMEM, "out of memory for %llu tokens", (unsigned long long)count);
		for (uint64_t i = 0; i < count; i++) {
			t->cum[i] = s;
			s += t->mask[i];
		}
		t->cum[count] = s;
		for (uint64_t i = 1; i < count; i++)
			t->targets += t->mask[i];
	} else {
		t->targets = count - 1;
	}
	return MG_OK;
}

int mg_train_data_open(mg_train_data **out, const mg_tokstream_data *d, uint64_t first, uint64_t count, uint32_t block_size,
		  uint32_t vocab_size, mg_err *e)
{
	mg_train_data *t;
	uint64_t h;
	int rc;

	*out = NULL;
	if (first > mg_train_data_units(d) || count > mg_train_data_units(d) - first)
		return mg_err_set(e, MG_E_INVAL, "units %llu + %llu are outside the data", (unsigned long long)first,
				  (unsigned long long)count);
	if (count == 0 || d->n == 0)
		return mg_err_set(e, MG_E_INVAL, "no tokens");
	if (!(t = calloc(1, sizeof *t)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	t->layout = d->h.layout;
	t->block = block_size;
	rc = t->layout == MG_LAYOUT_EXAMPLES ? open_examples(t, d, first, count, e) : open_stream(t, d, first, count, e);
	if (!rc)
		rc = check_ids(t, vocab_size, e);
	if (!rc && t->targets == 0)
		rc = mg_err_set(e, MG_E_INVAL, "no token is a target (every loss-mask bit is 0): nothing to train on");
	if (rc) {
		mg_train_data_free(t);
		return rc;
	}
	h = mix(mix(0x6d79677074646174ull, t->layout), t->n);
	for (uint64_t i = 0; i < t->n; i++)
		h = mix(h, (uint64_t)t->ids[i] | (uint64_t)(t->mask ? t->mask[i] : 1) << 32);
	for (uint64_t r = 0; r < t->n_rec; r++)
		h = mix(h, t->start[r] - t->first_tok);
	t->fingerprint = h;
	*out = t;
	return MG_OK;
}

uint32_t mg_train_data_layout(const mg_train_data *t) { return t->layout; }
uint64_t mg_train_data_tokens(const mg_train_data *t) { return t->n; }
uint64_t mg_train_data_records(const mg_train_data *t) { return t->n_rec; }
uint64_t mg_train_data_targets(const mg_train_data *t) { return t->targets; }
uint64_t mg_train_data_fingerprint(const mg_train_data *t) { return t->fingerprint; }
uint32_t mg_train_data_max_len(const mg_train_data *t) { return t->max_len; }

uint64_t mg_train_data_epoch_len(const mg_train_data *t, uint32_t order)
{
	if (t->layout == MG_LAYOUT_EXAMPLES)
		return t->n_rec;
	if (order == MG_ORDER_SEQUENTIAL)
		return (t->n - 1) / t->block;
	return (t->n + t->block) / ((uint64_t)t->block + 1); /* ceil(n / (block+1)) */
}

int mg_train_data_epoch_fixed(const mg_train_data *t, uint32_t order, uint64_t *targets)
{
	uint64_t W = mg_train_data_epoch_len(t, order), sum = 0;

	*targets = 0;
	if (t->layout == MG_LAYOUT_EXAMPLES) {
		*targets = t->targets;
		return 1;
	}
	if (!t->mask) {
		*targets = W * t->block;
		return 1;
	}
	if (order != MG_ORDER_SEQUENTIAL)
		return 0;
	for (uint64_t k = 0; k < W; k++)
		sum += (uint32_t)(t->cum[k * t->block + t->block + 1] - t->cum[k * t->block + 1]);
	*targets = sum;
	return 1;
}

/* First token (index in the view) of window i. */
static uint64_t window_start(const mg_train_data *t, uint32_t order, uint64_t seed, uint64_t epoch, uint64_t i)
{
	mg_rng r;

	if (order == MG_ORDER_SEQUENTIAL)
		return i * t->block;
	mg_rng_seed(&r, mix(mix(mix(seed, KEY_WINDOW), epoch), i));
	return mg_rng_below(&r, t->n - t->block);
}

/* Record (index in the view) of sequence i. */
static uint64_t record_of(mg_train_data *t, uint32_t order, uint64_t seed, uint64_t epoch, uint64_t i)
{
	if (order == MG_ORDER_SEQUENTIAL)
		return i;
	if (!t->perm_valid || t->perm_seed != seed || t->perm_epoch != epoch) {
		mg_rng r;
		/* Fisher-Yates, keyed by the random seed and the epoch alone */
		mg_rng_seed(&r, mix(mix(seed, KEY_PERM), epoch));
		for (uint64_t k = 0; k < t->n_rec; k++)
			t->perm[k] = k;
		for (uint64_t k = t->n_rec; k > 1; k--) {
			uint64_t j = mg_rng_below(&r, k), x = t->perm[k - 1];
			t->perm[k - 1] = t->perm[j];
			t->perm[j] = x;
		}
		t->perm_seed = seed;
		t->perm_epoch = epoch;
		t->perm_valid = 1;
	}
	return t->perm[i];
}

uint64_t mg_train_data_seq_targets(mg_train_data *t, uint32_t order, uint64_t seed, uint64_t epoch, uint64_t i)
{
	uint64_t s;

	if (t->layout == MG_LAYOUT_EXAMPLES)
		return t->rec_targets[record_of(t, order, seed, epoch, i)];
	if (!t->mask)
		return t->block;
	s = window_start(t, order, seed, epoch, i);
	return (uint32_t)(t->cum[s + t->block + 1] - t->cum[s + 1]);
}

int mg_train_data_batch_init(mg_train_data_batch *b, uint32_t rows, uint32_t block_size, mg_err *e)
{
	size_t n = (size_t)rows * block_size;

	memset(b, 0, sizeof *b);
	b->cap = rows;
	b->block = block_size;
	b->inputs = malloc(n * sizeof *b->inputs);
	b->targets = malloc(n * sizeof *b->targets);
	b->mask = malloc(n);
	b->len = malloc(rows * sizeof *b->len);
	b->v_inputs = malloc(n * sizeof *b->v_inputs);
	b->v_targets = malloc(n * sizeof *b->v_targets);
	b->v_mask = malloc(n);
	if (!b->inputs || !b->targets || !b->mask || !b->len || !b->v_inputs || !b->v_targets || !b->v_mask) {
		mg_train_data_batch_free(b);
		return mg_err_set(e, MG_E_NOMEM, "out of memory for a batch of %u x %u tokens", rows, block_size);
	}
	return MG_OK;
}

void mg_train_data_batch_free(mg_train_data_batch *b)
{
	free(b->inputs);
	free(b->targets);
	free(b->mask);
	free(b->len);
	free(b->v_inputs);
	free(b->v_targets);
	free(b->v_mask);
	memset(b, 0, sizeof *b);
}

void mg_train_data_fill(mg_train_data *t, uint32_t order, uint64_t seed, uint64_t epoch, uint64_t pos, uint32_t n,
		   mg_train_data_batch *b)
{
	uint32_t T = b->block;

	for (uint32_t row = 0; row < n; row++) {
		uint32_t *in = b->inputs + (size_t)row * T, *tg = b->targets + (size_t)row * T;
		uint8_t *m = b->mask + (size_t)row * T;
		uint64_t a;
		uint32_t len;

		if (t->layout == MG_LAYOUT_EXAMPLES) {
			uint64_t r = record_of(t, order, seed, epoch, pos + row);
			a = t->start[r] - t->first_tok;
			len = (uint32_t)(t->start[r + 1] - t->start[r] - 1);
		} else {
			a = window_start(t, order, seed, epoch, pos + row);
			len = T;
		}
		memcpy(in, t->ids + a, len * sizeof *in);
		memcpy(tg, t->ids + a + 1, len * sizeof *tg);
		if (t->mask)
			memcpy(m, t->mask + a + 1, len);
		else
			memset(m, 1, len);
		memset(in + len, 0, (T - len) * sizeof *in);
		memset(tg + len, 0, (T - len) * sizeof *tg);
		memset(m + len, 0, T - len);
		b->len[row] = len;
	}
	b->n = n;
}

void mg_train_data_batch_view(mg_train_data_batch *b, uint32_t first, uint32_t n, mg_train_data_view *v)
{
	uint32_t T = 0, S = b->block;
	uint64_t count = 0;

	for (uint32_t r = first; r < first + n; r++)
		T = b->len[r] > T ? b->len[r] : T;
	for (size_t i = (size_t)first * S; i < (size_t)(first + n) * S; i++)
		count += b->mask[i];
	v->B = n;
	v->T = T;
	v->count = count;
	if (T == S) {
		v->inputs = b->inputs + (size_t)first * S;
		v->targets = b->targets + (size_t)first * S;
		v->mask = b->mask + (size_t)first * S;
		return;
	}
	for (uint32_t r = 0; r < n; r++) {
		size_t from = (size_t)(first + r) * S, to = (size_t)r * T;
		memcpy(b->v_inputs + to, b->inputs + from, T * sizeof *b->v_inputs);
		memcpy(b->v_targets + to, b->targets + from, T * sizeof *b->v_targets);
		memcpy(b->v_mask + to, b->mask + from, T);
	}
	v->inputs = b->v_inputs;
	v->targets = b->v_targets;
	v->mask = b->v_mask;
}
