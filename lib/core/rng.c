/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
#include "core/rng.h"

#include <math.h>

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mg_rng_seed(mg_rng *r, uint64_t seed)
{
	/* the first four outputs of splitmix64 started at seed */
	for (int i = 0; i < 4; i++)
		r->s[i] = mg_hash64(seed + (uint64_t)i * 0x9e3779b97f4a7c15ull);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1; /* the all-zero state is a fixed point */
}

uint64_t mg_rng_u64(mg_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t mg_rng_below(mg_rng *r, uint64_t n)
{
	/* reject the top partial copy of [0, n) so every value is equally likely */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = mg_rng_u64(r);
	while (x >= lim);
	return x % n;
}

double mg_rng_uniform(mg_rng *r) { return (double)(mg_rng_u64(r) >> 11) * 0x1.0p-53; }

double mg_rng_normal(mg_rng *r)
{
	double u1 = 1.0 - mg_rng_uniform(r), u2 = mg_rng_uniform(r); /* u1 in (0, 1] */
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
