/* k-means over small byte vectors (pixel colours): Lloyd's iterations from
 * random or k-means++ centres, and the nearest of a byte palette. */
#ifndef MG_KMEANS_H
#define MG_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef struct mg_kmeans_opts {
	uint32_t k;       /* centres, 1 to 65,536 (default 512) */
	uint32_t iters;   /* Lloyd iterations (default 8) */
	int plusplus;     /* 1: k-means++ initial centres; 0: k random points (default 0) */
	uint64_t seed;    /* of the initial centres and of re-seeding (default 1337) */
	int threads;      /* 0: mg_threads_get() */
} mg_kmeans_opts;

typedef struct mg_kmeans_stats {
	double mse;         /* mean over points and channels of the squared distance to the nearest centre, after the last iteration, with the centres as fitted (floats) */
	uint32_t reseeded;  /* empty clusters re-seeded from a random point, all iterations */
} mg_kmeans_stats;

void mg_kmeans_opts_default(mg_kmeans_opts *o);
/* Fits o->k centres (k x d floats, row-major) to n points of d bytes each. Deterministic for a seed,
 * whatever the thread count. MG_E_INVAL when n < k or d is 0 or over 4. */
int mg_kmeans_fit(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, float *centres,
		  mg_kmeans_stats *st, mg_err *e);
/* The nearest of k byte colours (palette, k x d) to each of n points (ties: the lowest id); ids[n].
 * sse (may be NULL): the sum of squared distances. threads 0: mg_threads_get(). */
int mg_kmeans_assign(const uint8_t *pts, size_t n, uint32_t d, const uint8_t *palette, uint32_t k,
		     int threads, uint32_t *ids, uint64_t *sse, mg_err *e);

#endif
