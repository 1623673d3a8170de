/* Adder dataset: a keyed permutation of all problems, without materialising
 * it (a balanced Feistel network with cycle walking), and the token layout. */
#include "tasks/adder.h"

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
