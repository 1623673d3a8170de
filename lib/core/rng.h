/* Deterministic random numbers: xoshiro256** streams seeded by splitmix64,
 * and a stateless 64-bit hash for counter-based draws (dropout masks) that
 * give the same bits whatever the thread count. */
#ifndef MG_RNG_H
#define MG_RNG_H

#include <stdint.h>

typedef struct mg_rng {
	uint64_t s[4];
} mg_rng;

void mg_rng_seed(mg_rng *r, uint64_t seed);
uint64_t mg_rng_u64(mg_rng *r);
/* Uniform in [0, n), unbiased; n > 0. */
uint64_t mg_rng_below(mg_rng *r, uint64_t n);
/* Uniform in [0, 1) with 53 random bits. */
double mg_rng_uniform(mg_rng *r);
/* Standard normal (Box-Muller, one value per two uniforms). */
double mg_rng_normal(mg_rng *r);

/* splitmix64's finaliser: a bijective mix of x. */
static inline uint64_t mg_hash64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif
