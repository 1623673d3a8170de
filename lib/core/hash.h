/* Stateless 64-bit hashes: a strong one for counter-based draws (dropout
 * masks, per-tensor seeds) that give the same bits whatever the thread count,
 * and a cheap one for the slots of hash tables. */
#ifndef MG_HASH_H
#define MG_HASH_H

#include <stdint.h>

/* splitmix64's finaliser: a bijective mix of x. */
static inline uint64_t mg_hash64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A cheap mix for hash-table slots (the BPE encoder's and trainer's maps):
 * one multiply between two xor-shifts; spreads keys built from ids well
 * enough for open addressing, and is not for draws. */
static inline uint64_t mg_hash_slot(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

#endif
