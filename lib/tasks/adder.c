/* Adder dataset: a keyed permutation of all problems, without materialising
 * it (a balanced Feistel network with cycle walking), the token layout, and
 * the scoring of completions. */
#include "tasks/adder.h"

#include <string.h>

#include "core/rng.h"

static uint64_t pow10u(uint32_t n)
{
	uint64_t p = 1;
	while (n--)
		p *= 10;
	return p;
}

int mg_adder_init(mg_adder *a, uint32_t digits, uint64_t problems, uint64_t test, uint64_t seed, mg_err *e)
{
	mg_rng r;

	if (digits < 1 || digits > MG_ADDER_DIGITS_MAX)
		return mg_err_set(e, MG_E_INVAL, "digits must be in 1..%d", MG_ADDER_DIGITS_MAX);
	a->digits = digits;
	a->space = pow10u(2 * digits);
	if (problems == 0)
		problems = a->space < MG_ADDER_DEFAULT_CAP ? a->space : MG_ADDER_DEFAULT_CAP;
	if (problems > a->space)
		return mg_err_set(e, MG_E_INVAL, "%llu problems requested but only %llu exist with %u digits",
				  (unsigned long long)problems, (unsigned long long)a->space, digits);
	a->problems = problems;
	if (test == UINT64_MAX) {
		test = problems / 5;
		if (test > MG_ADDER_TEST_CAP)
			test = MG_ADDER_TEST_CAP;
	}
	if (test > problems)
		return mg_err_set(e, MG_E_INVAL, "%llu test problems requested out of %llu", (unsigned long long)test,
				  (unsigned long long)problems);
	a->test = test;
	a->bits = 2;
	while ((1ull << a->bits) < a->space)
		a->bits += 2;
	mg_rng_seed(&r, seed);
	for (int i = 0; i < 6; i++)
		a->key[i] = mg_rng_u64(&r);
	return MG_OK;
}

/* One pass of a 6-round balanced Feistel network on 2^bits values. */
static uint64_t feistel(const mg_adder *a, uint64_t x)
{
	uint32_t h = a->bits / 2;
	uint64_t mask = (1ull << h) - 1, l = x >> h, rr = x & mask;

	for (int i = 0; i < 6; i++) {
		uint64_t t = l ^ (mg_hash64(rr ^ a->key[i]) & mask);
		l = rr;
		rr = t;
	}
	return l << h | rr;
}

uint64_t mg_adder_problem(const mg_adder *a, uint64_t i)
{
	/* cycle walking: re-apply the bijection until the value is in range;
	 * this is itself a bijection on [0, space) */
	uint64_t y = feistel(a, i);
	while (y >= a->space)
		y = feistel(a, y);
	return y;
}

void mg_adder_operands(const mg_adder *a, uint64_t problem, uint64_t *x, uint64_t *y)
{
	uint64_t p = pow10u(a->digits);
	*x = problem / p;
	*y = problem % p;
}

void mg_adder_tokens(const mg_adder *a, uint64_t problem, uint32_t *tok, uint8_t *mask)
{
	uint32_t n = a->digits, len = 3 * n + 1;
	uint64_t x, y, s;

	mg_adder_operands(a, problem, &x, &y);
	s = x + y;
	if (tok) {
		for (uint32_t i = 0; i < n; i++, x /= 10, y /= 10) {
			tok[n - 1 - i] = (uint32_t)(x % 10);
			tok[2 * n - 1 - i] = (uint32_t)(y % 10);
		}
		for (uint32_t i = 0; i <= n; i++, s /= 10)
			tok[2 * n + i] = (uint32_t)(s % 10); /* least significant first */
	}
	if (mask)
		for (uint32_t i = 0; i < len; i++)
			mask[i] = i >= 2 * n;
}

/* Reads the digits of a reversed answer; returns 0 when a token is not a
 * digit or the answer is short. */
static int answer_value(const uint32_t *t, uint64_t n, uint32_t want, uint64_t *v)
{
	*v = 0;
	if (n < want)
		return 0;
	for (uint32_t i = want; i-- > 0;) {
		if (t[i] > 9)
			return 0;
		*v = *v * 10 + t[i];
	}
	return 1;
}

int mg_adder_check(const mg_adder *a, uint64_t r, const uint32_t *t, uint64_t len, mg_adder_answer *ans, mg_err *e)
{
	uint32_t pl = mg_adder_prompt_len(a), al = a->digits + 1;
	uint32_t want[3 * MG_ADDER_DIGITS_MAX + 1];
	uint64_t p = mg_adder_problem(a, r);

	mg_adder_tokens(a, p, want, NULL);
	if (len < pl || memcmp(t, want, pl * sizeof *t))
		return mg_err_set(e, MG_E_INVAL, "completion %llu does not start with the prompt of test problem %llu "
						 "(generated with other options?)", (unsigned long long)r, (unsigned long long)r);
	ans->r = r;
	mg_adder_operands(a, p, &ans->x, &ans->y);
	ans->right = len >= pl + al && !memcmp(t + pl, want + pl, al * sizeof *t);
	ans->has_value = answer_value(t + pl, len - pl, al, &ans->value);
	return MG_OK;
}

int mg_adder_score(const mg_adder *a, const mg_tokstream_data *d, mg_adder_accuracy *acc,
		   void (*on_wrong)(void *arg, const mg_adder_answer *ans), void *arg, mg_err *e)
{
	mg_adder_answer ans;
	int rc;

	acc->right = acc->total = 0;
	acc->percent = 0.0;
	if (d->h.layout != MG_LAYOUT_EXAMPLES)
		return mg_err_set(e, MG_E_INVAL, "completions must be records (layout examples), not %s",
				  mg_tokstream_layout_name(d->h.layout));
	if (d->n_records != a->test)
		return mg_err_set(e, MG_E_INVAL, "%llu completions for %llu test problems", (unsigned long long)d->n_records,
				  (unsigned long long)a->test);
	for (uint64_t r = 0; r < d->n_records; r++) {
		if ((rc = mg_adder_check(a, r, d->ids + d->start[r], d->start[r + 1] - d->start[r], &ans, e)))
			return rc;
		acc->total++;
		if (ans.right)
			acc->right++;
		else if (on_wrong)
			on_wrong(arg, &ans);
	}
	acc->percent = acc->total ? 100.0 * (double)acc->right / (double)acc->total : 0.0;
	return MG_OK;
}
