/* Deterministic random numbers: xoshiro256** streams seeded by splitmix64
 * (the stateless hashes for counter-based draws are in core/hash.h, included
 * here for them). */
#ifndef MG_RNG_H
#define MG_RNG_H

#include <stdint.h>

#include "core/hash.h"

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

#endif
