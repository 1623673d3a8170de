/* Sampling the next token (sample.h). Probabilities are computed in double
 * from the float logits, and every loop runs in id order, so a draw depends
 * only on the logits and the generator's state. */
#include "infer/sample.h"

#include <math.h>
#include <stdlib.h>

typedef struct mg_sample_cand {
	double p;
	uint32_t id;
} mg_sample_cand;

struct mg_sampler {
	mg_sample_opts o;
	uint32_t n_max;
	double *p;            /* n_max probabilities */
	float *sel;           /* n_max logits, for selecting the k-th largest */
	mg_sample_cand *cand; /* n_max ids with their probability, for top-p */
};

void mg_sample_opts_default(mg_sample_opts *o)
{
	o->greedy = 0;
	o->temperature = 1.0;
	o->top_k = 0;
	o->top_p = 1.0;
}

int mg_sample_opts_check(const mg_sample_opts *o, mg_err *e)
{
	if (!isfinite(o->temperature) || o->temperature < 0.0)
		return mg_err_set(e, MG_E_INVAL, "temperature %g is not a finite number >= 0", o->temperature);
	if (!(o->top_p > 0.0 && o->top_p <= 1.0))
		return mg_err_set(e, MG_E_INVAL, "top_p %g is not in (0, 1]", o->top_p);
	return MG_OK;
}

int mg_sampler_init(mg_sampler **out, uint32_t n_max, const mg_sample_opts *o, mg_err *e)
{
	mg_sampler *s;
	int rc;

	*out = NULL;
	if ((rc = mg_sample_opts_check(o, e)))
		return rc;
	if (n_max < 1)
		return mg_err_set(e, MG_E_INVAL, "a sampler needs at least one token");
	s = calloc(1, sizeof *s);
	if (!s)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	s->o = *o;
	s->n_max = n_max;
	s->p = malloc((size_t)n_max * sizeof *s->p);
	s->sel = malloc((size_t)n_max * sizeof *s->sel);
	s->cand = malloc((size_t)n_max * sizeof *s->cand);
	if (!s->p || !s->sel || !s->cand) {
		mg_sampler_free(s);
		return mg_err_set(e, MG_E_NOMEM, "out of memory for a vocabulary of %u", n_max);
	}
	*out = s;
	return MG_OK;
}

void mg_sampler_free(mg_sampler *s)
{
	if (!s)
		return;
	free(s->p);
	free(s->sel);
	free(s->cand);
	free(s);
}

static int is_greedy(const mg_sample_opts *o) { return o->greedy || o->temperature == 0.0; }

static uint32_t argmax(const float *x, uint32_t n)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

/* The k-th largest (1 <= k <= n) of a[0..n), by quickselect (Hoare's
 * partition around the middle value); reorders a. */
static float kth_largest(float *a, uint32_t n, uint32_t k)
{
	int64_t lo = 0, hi = (int64_t)n - 1, want = (int64_t)k - 1;

	while (lo < hi) {
		float piv = a[lo + (hi - lo) / 2];
		int64_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] > piv)
				i++;
			while (a[j] < piv)
				j--;
			if (i <= j) {
				float t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		/* a[lo..j] >= piv, a[j+1..i-1] == piv, a[i..hi] <= piv */
		if (want <= j)
			hi = j;
		else if (want >= i)
			lo = i;
		else
			return piv;
	}
	return a[want];
}

/* Probability descending, then id ascending. */
static int by_p(const void *a, const void *b)
{
	const mg_sample_cand *x = a, *y = b;

	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

void mg_sampler_probs(mg_sampler *s, const float *logits, uint32_t n, double *p)
{
	const mg_sample_opts *o = &s->o;
	float thr = -INFINITY;
	double mx = -INFINITY, sum = 0.0;

	if (is_greedy(o)) {
		uint32_t b = argmax(logits, n);
		for (uint32_t i = 0; i < n; i++)
			p[i] = i == b;
		return;
	}
	if (o->top_k && o->top_k < n) {
		for (uint32_t i = 0; i < n; i++)
			s->sel[i] = logits[i];
		thr = kth_largest(s->sel, n, o->top_k);
	}
	for (uint32_t i = 0; i < n; i++)
		if (logits[i] >= thr)
			mx = fmax(mx, (double)logits[i] / o->temperature);
	for (uint32_t i = 0; i < n; i++) {
		p[i] = logits[i] >= thr ? exp((double)logits[i] / o->temperature - mx) : 0.0;
		sum += p[i];
	}
	if (o->top_p < 1.0) {
		uint32_t m = 0;
		double cum = 0.0, cut = 0.0, kept = 0.0;
		for (uint32_t i = 0; i < n; i++)
			if (p[i] > 0.0) {
				s->cand[m].p = p[i];
				s->cand[m++].id = i;
			}
		qsort(s->cand, m, sizeof *s->cand, by_p);
		for (uint32_t k = 0; k < m; k++) {
			cum += s->cand[k].p;
			cut = s->cand[k].p;
			if (cum >= o->top_p * sum)
				break;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (p[i] < cut)
				p[i] = 0.0;
			kept += p[i];
		}
		sum = kept;
	}
	for (uint32_t i = 0; i < n; i++)
		p[i] /= sum;
}

uint32_t mg_sampler_pick(mg_sampler *s, const float *logits, uint32_t n, mg_rng *r)
{
	double u, cum = 0.0;
	uint32_t last = 0;

	if (is_greedy(&s->o))
		return argmax(logits, n);
	mg_sampler_probs(s, logits, n, s->p);
	u = mg_rng_uniform(r);
	for (uint32_t i = 0; i < n; i++) {
		if (s->p[i] <= 0.0)
			continue;
		cum += s->p[i];
		last = i;
		if (cum > u)
			return i;
	}
	return last; /* rounding left the sum a hair below u */
}

uint32_t mg_sample_counts(const uint64_t *counts, uint32_t n, mg_rng *r)
{
	uint64_t total = n, x, cum = 0;

	for (uint32_t i = 0; i < n; i++)
		total += counts[i];
	x = mg_rng_below(r, total);
	for (uint32_t i = 0; i < n; i++) {
		cum += 1 + counts[i];
		if (x < cum)
			return i;
	}
	return n - 1;
}

int mg_sample_counts_first(const mg_tokstream_data *d, uint32_t n, uint64_t **counts, uint64_t *bad_record,
			   uint32_t *bad_token, mg_err *e)
{
	int stream = d->h.layout == MG_LAYOUT_STREAM;
	uint64_t n_rec = stream ? d->n > 0 : d->n_records;

	*counts = NULL;
	if (!n_rec)
		return mg_err_set(e, MG_E_INVAL, "no records to take first tokens from");
	if (!(*counts = calloc(n, sizeof **counts)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	for (uint64_t r = 0; r < n_rec; r++) {
		uint32_t t = d->ids[stream ? 0 : d->start[r]];
		if (t >= n) {
			free(*counts);
			*counts = NULL;
			if (bad_record)
				*bad_record = r;
			if (bad_token)
				*bad_token = t;
			return mg_err_set(e, MG_E_INVAL, "record %llu starts with token %u, not below %u",
					  (unsigned long long)r, t, n);
		}
		(*counts)[t]++;
	}
	return MG_OK;
}
