/* The k-means colour palette of image-GPT the minGPT way: Lloyd's algorithm
 * on byte points (pixels of d channels) from random or k-means++ initial
 * centres, and the nearest palette colour of each pixel. */
#ifndef MG_KMEANS_H
#define MG_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MG_KMEANS_K_MAX 65536u
#define MG_KMEANS_D_MAX 4u

typedef struct mg_kmeans_opts {
	uint32_t k;   /* centres, 1 to 65,536 (default 512) */
	uint32_t iters; /* Lloyd iterations (default 8) */
	int plusplus; /* 1: k-means++ initial centres; 0: k random points (default 0) */
	uint64_t seed; /* of the initial centres and of re-seeding (default 1337) */
	int threads;  /* 0: mg_threads_get() */
} mg_kmeans_opts;

typedef struct mg_kmeans_stats {
	/* mean over points and channels of the squared distance to the
	 * nearest centre, after the last iteration, with the centres as
	 * fitted (floats) */
	double mse;
	uint32_t reseeded; /* empty clusters re-seeded from a random point, all iterations */
} mg_kmeans_stats;

void mg_kmeans_opts_default(mg_kmeans_opts *o);

/* Fits o->k centres (k x d floats, row-major, written to centres) to n
 * points of d bytes each (pts, n x d). The initial centres are o->k points
 * of distinct indices drawn with core/rng.h seeded by o->seed (in the order
 * drawn), or k-means++'s D^2 sampling; then o->iters iterations of: each
 * point to its nearest centre (squared distance in float; ties to the lowest
 * index), each centre to the mean of its points (exact integer sums), and
 * the empty clusters, in index order, re-seeded from points of distinct
 * random indices. Deterministic for a seed, whatever the thread count. st
 * may be NULL. The caller owns every buffer; no state outlives a call (the
 * functions may run at once on other data). Errors: MG_E_INVAL when d is 0
 * or over 4, k is 0 or over 65,536, or n < k; MG_E_NOMEM. */
int mg_kmeans_fit(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, float *centres,
		  mg_kmeans_stats *st, mg_err *e);

/* The initial centres that mg_kmeans_fit starts from for the same
 * arguments (o->iters is ignored): k x d floats, each a point. Errors as
 * mg_kmeans_fit's. */
int mg_kmeans_init(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, float *centres,
		   mg_err *e);

/* The nearest of k byte colours (palette, k x d) to each of n points (ties:
 * the lowest id), written to ids[n] (ids may be NULL when n is 0); exact
 * (integer distances in float, all under 2^24). sse (may be NULL): the sum
 * of squared distances. threads 0: mg_threads_get(); the ids are the same
 * for any count. Errors: MG_E_INVAL when d is 0 or over 4 or k is 0 or over
 * 65,536; MG_E_NOMEM. */
int mg_kmeans_assign(const uint8_t *pts, size_t n, uint32_t d, const uint8_t *palette, uint32_t k,
		     int threads, uint32_t *ids, uint64_t *sse, mg_err *e);

#endif
