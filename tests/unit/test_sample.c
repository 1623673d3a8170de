/* Sampling (lib/infer/sample.c): the distribution after temperature, top-k (ties
 * with the k-th logit kept) and top-p, against values worked out by hand
 * and by sorting; greedy, top-k 1 and a temperature near zero pick the
 * argmax; seeds reproduce; draws follow the distribution; the first-token
 * table; the option checks. */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "infer/sample.h"

static mg_sampler *make(uint32_t n, int greedy, double t, uint32_t k, double p)
{
	mg_sample_opts o = { greedy, t, k, p };
	mg_sampler *s;
	mg_err e;

	if (mg_sampler_init(&s, n, &o, &e)) {
		fprintf(stderr, "sampler: %s\n", e.msg);
		exit(1);
	}
	return s;
}

static uint32_t argmax(const float *x, uint32_t n)
{
	uint32_t b = 0;

	for (uint32_t i = 1; i < n; i++)
		if (x[i] > x[b])
			b = i;
	return b;
}

static int cmp_desc(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* softmax(l / t) over the ids with keep[i], in double */
static void softmax_ref(const float *l, const int *keep, uint32_t n, double t, double *p)
{
	double mx = -INFINITY, s = 0.0;

	for (uint32_t i = 0; i < n; i++)
		if (keep[i])
			mx = fmax(mx, l[i] / t);
	for (uint32_t i = 0; i < n; i++)
		s += p[i] = keep[i] ? exp(l[i] / t - mx) : 0.0;
	for (uint32_t i = 0; i < n; i++)
		p[i] /= s;
}

static void check_hand_values(void)
{
	/* logits whose softmax is 0.5, 0.3, 0.15, 0.05 */
	float l[4] = { (float)log(0.5), (float)log(0.3), (float)log(0.15), (float)log(0.05) };
	float tie[5] = { 3, 2, 2, 2, 1 };
	double p[5];
	mg_sampler *s;

	s = make(4, 0, 1.0, 0, 1.0);
	mg_sampler_probs(s, l, 4, p);
	CHECK_CLOSE(p[0], 0.5, 1e-6); CHECK_CLOSE(p[1], 0.3, 1e-6); CHECK_CLOSE(p[3], 0.05, 1e-6);
	mg_sampler_free(s);
	/* top-p: the fewest most likely ids reaching p */
	s = make(4, 0, 1.0, 0, 0.75);
	mg_sampler_probs(s, l, 4, p);
	CHECK_CLOSE(p[0], 0.5 / 0.8, 1e-6); CHECK_CLOSE(p[1], 0.3 / 0.8, 1e-6); CHECK(p[2] == 0.0); CHECK(p[3] == 0.0);
	mg_sampler_free(s);
	s = make(4, 0, 1.0, 0, 0.85);
	mg_sampler_probs(s, l, 4, p);
	CHECK_CLOSE(p[2], 0.15 / 0.95, 1e-6); CHECK(p[3] == 0.0);
	mg_sampler_free(s);
	s = make(4, 0, 1.0, 0, 0.3);
	mg_sampler_probs(s, l, 4, p);
	CHECK(p[0] == 1.0); CHECK(p[1] == 0.0);
	mg_sampler_free(s);
	/* top-p keeps every id as likely as the last one needed */
	s = make(5, 0, 1.0, 0, 0.5);
	mg_sampler_probs(s, tie, 5, p);
	CHECK(p[1] > 0.0 && p[2] > 0.0 && p[3] > 0.0); CHECK(p[4] == 0.0);
	CHECK_CLOSE(p[1], p[3], 1e-15);
	mg_sampler_free(s);
	/* top-k 2 with three logits equal to the 2nd largest: all four kept */
	s = make(5, 0, 1.0, 2, 1.0);
	mg_sampler_probs(s, tie, 5, p);
	{
		double z = exp(3.0) + 3 * exp(2.0);
		CHECK_CLOSE(p[0], exp(3.0) / z, 1e-12); CHECK_CLOSE(p[2], exp(2.0) / z, 1e-12); CHECK(p[4] == 0.0);
	}
	mg_sampler_free(s);
	/* top-k 1 with a tie for the largest keeps both */
	{
		float two[3] = { 1, 5, 5 };
		s = make(3, 0, 1.0, 1, 1.0);
		mg_sampler_probs(s, two, 3, p);
		CHECK(p[0] == 0.0); CHECK_CLOSE(p[1], 0.5, 1e-15); CHECK_CLOSE(p[2], 0.5, 1e-15);
		mg_sampler_free(s);
		/* greedy takes the lowest id among equals */
		s = make(3, 1, 1.0, 0, 1.0);
		CHECK_EQ(mg_sampler_pick(s, two, 3, NULL), 1);
		mg_sampler_free(s);
	}
	/* temperature: softmax(l / t) */
	s = make(4, 0, 0.5, 0, 1.0);
	mg_sampler_probs(s, l, 4, p);
	CHECK_CLOSE(p[0], 0.25 / (0.25 + 0.09 + 0.0225 + 0.0025), 1e-6);
	mg_sampler_free(s);
	/* only the first n ids take part */
	s = make(4, 0, 1.0, 0, 1.0);
	mg_sampler_probs(s, l + 1, 2, p);
	CHECK_CLOSE(p[0], 0.3 / 0.45, 1e-6); CHECK_CLOSE(p[1], 0.15 / 0.45, 1e-6);
	mg_sampler_free(s);
}

/* Random logits: top-k against a sort, top-k 1 / temperature 1e-4 / greedy
 * all equal to the argmax. */
static void check_random(void)
{
	uint32_t n = 300;
	float *l = malloc(n * 4), *sorted = malloc(n * 4);
	double *p = malloc(n * 8), *ref = malloc(n * 8);
	int *keep = malloc(n * sizeof *keep);
	mg_rng r, d;
	int bad_k = 0, bad_greedy = 0;
	double worst = 0.0;

	mg_rng_seed(&r, 1);
	mg_rng_seed(&d, 2);
	for (int trial = 0; trial < 300; trial++) {
		uint32_t k = 1 + (uint32_t)mg_rng_below(&r, n + 20), b;
		mg_sampler *s = make(n, 0, 0.7, k, 1.0), *one = make(n, 0, 1.0, 1, 1.0), *cold = make(n, 0, 1e-4, 0, 1.0);
		mg_sampler *g = make(n, 1, 1.0, 0, 1.0);
		for (uint32_t i = 0; i < n; i++) /* coarse values: many ties */
			l[i] = (float)(mg_rng_below(&r, trial % 2 ? 40 : 4000)) / 10.0f - 20.0f;
		memcpy(sorted, l, n * 4);
		qsort(sorted, n, 4, cmp_desc);
		for (uint32_t i = 0; i < n; i++)
			keep[i] = k >= n || l[i] >= sorted[k - 1];
		mg_sampler_probs(s, l, n, p);
		softmax_ref(l, keep, n, 0.7, ref);
		for (uint32_t i = 0; i < n; i++) {
			bad_k += (p[i] > 0.0) != keep[i];
			worst = fmax(worst, fabs(p[i] - ref[i]));
		}
		b = argmax(l, n);
		if (trial % 2 == 0) { /* distinct maximum: every greedy form agrees */
			int unique = sorted[0] != sorted[1];
			if (unique) {
				bad_greedy += mg_sampler_pick(one, l, n, &d) != b;
				bad_greedy += mg_sampler_pick(cold, l, n, &d) != b;
			}
		}
		bad_greedy += mg_sampler_pick(g, l, n, &d) != b;
		mg_sampler_free(s), mg_sampler_free(one), mg_sampler_free(cold), mg_sampler_free(g);
	}
	CHECK_EQ(bad_k, 0);
	CHECK(worst < 1e-12);
	CHECK_EQ(bad_greedy, 0);
	free(l), free(sorted), free(p), free(ref), free(keep);
}

/* Draws follow the distribution (within 5 standard deviations), and a seed
 * gives the same draws every time. */
static void check_draws(void)
{
	float l[6] = { 1.0f, 0.5f, -1.0f, 2.0f, 0.0f, -3.0f };
	uint32_t n = 6, draws = 200000, count[6] = { 0 }, a[50], b[50];
	double p[6];
	mg_sampler *s = make(n, 0, 1.3, 5, 0.97);
	mg_rng r;
	int bad = 0;

	mg_sampler_probs(s, l, n, p);
	mg_rng_seed(&r, 9);
	for (uint32_t i = 0; i < draws; i++)
		count[mg_sampler_pick(s, l, n, &r)]++;
	for (uint32_t i = 0; i < n; i++) {
		double sd = sqrt(draws * p[i] * (1 - p[i])) + 1e-9;
		if (fabs(count[i] - draws * p[i]) > 5 * sd || (p[i] == 0.0) != (count[i] == 0))
			bad++;
	}
	CHECK_EQ(bad, 0);
	CHECK(p[5] == 0.0); /* the smallest logit is out of the top 5 */
	for (int rep = 0; rep < 2; rep++) {
		mg_rng_seed(&r, 1234);
		for (int i = 0; i < 50; i++)
			(rep ? b : a)[i] = mg_sampler_pick(s, l, n, &r);
	}
	CHECK(!memcmp(a, b, sizeof a));
	mg_rng_seed(&r, 1235);
	for (int i = 0; i < 50; i++)
		b[i] = mg_sampler_pick(s, l, n, &r);
	CHECK(memcmp(a, b, sizeof a) != 0);
	mg_sampler_free(s);
}

static void check_counts(void)
{
	uint64_t c[4] = { 0, 2, 0, 5 }, got[4] = { 0 };
	uint32_t draws = 110000;
	mg_rng r;

	mg_rng_seed(&r, 5);
	for (uint32_t i = 0; i < draws; i++)
		got[mg_sample_counts(c, 4, &r)]++;
	/* (1 + c) / 11 */
	for (int i = 0; i < 4; i++) {
		double q = (1.0 + c[i]) / 11.0, sd = sqrt(draws * q * (1 - q));
		CHECK(fabs(got[i] - draws * q) < 5 * sd);
	}
	{
		uint64_t one[1] = { 0 };
		CHECK_EQ(mg_sample_counts(one, 1, &r), 0);
	}
}

static void check_errors(void)
{
	mg_sample_opts o;
	mg_sampler *s;
	mg_err e;

	mg_sample_opts_default(&o);
	CHECK(o.temperature == 1.0 && o.top_k == 0 && o.top_p == 1.0 && !o.greedy);
	CHECK(mg_sample_opts_check(&o, &e) == MG_OK);
	o.temperature = -1;
	CHECK(mg_sampler_init(&s, 4, &o, &e) == MG_E_INVAL);
	CHECK(!strcmp(e.msg, "temperature -1 is not a finite number >= 0"));
	o.temperature = NAN;
	CHECK(mg_sample_opts_check(&o, &e) == MG_E_INVAL);
	o.temperature = 1;
	o.top_p = 0;
	CHECK(mg_sample_opts_check(&o, &e) == MG_E_INVAL);
	CHECK(!strcmp(e.msg, "top_p 0 is not in (0, 1]"));
	o.top_p = 1.5;
	CHECK(mg_sample_opts_check(&o, &e) == MG_E_INVAL);
	o.top_p = 1;
	CHECK(mg_sampler_init(&s, 0, &o, &e) == MG_E_INVAL);
	/* temperature 0 is greedy */
	o.temperature = 0;
	{
		float l[3] = { 0, 7, 7 };
		CHECK(mg_sampler_init(&s, 3, &o, &e) == MG_OK);
		CHECK_EQ(mg_sampler_pick(s, l, 3, NULL), 1);
		mg_sampler_free(s);
	}
}

int main(void)
{
	check_hand_values();
	check_random();
	check_draws();
	check_counts();
	check_errors();
	CHECK_DONE();
}
