/* k-means, a plain single-threaded version of the interface in
 * image/kmeans.h (the threaded one replaces it): squared distances in
 * float for the fit, exact integers for the assignment. */
#include "image/kmeans.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

void mg_kmeans_opts_default(mg_kmeans_opts *o)
{
	o->k = 512;
	o->iters = 8;
	o->plusplus = 0;
	o->seed = 1337;
	o->threads = 0;
}

static uint32_t nearest_f(const uint8_t *x, uint32_t d, const float *c, uint32_t k, float *dist)
{
	float best = FLT_MAX;
	uint32_t bi = 0;

	for (uint32_t j = 0; j < k; j++) {
		float s = 0;
		for (uint32_t t = 0; t < d; t++) {
			float v = (float)x[t] - c[(size_t)j * d + t];
			s += v * v;
		}
		if (s < best) {
			best = s;
			bi = j;
		}
	}
	*dist = best;
	return bi;
}

int mg_kmeans_fit(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, float *centres,
		  mg_kmeans_stats *st, mg_err *e)
{
	uint32_t k = o->k;
	double *sum;
	uint64_t *cnt;
	mg_rng r;
	double sse = 0;

	if (d == 0 || d > 4)
		return mg_err_set(e, MG_E_INVAL, "points of %u channels (1 to 4)", d);
	if (k == 0 || k > 65536)
		return mg_err_set(e, MG_E_INVAL, "k = %u is outside 1..65536", k);
	if (n < k)
		return mg_err_set(e, MG_E_INVAL, "%zu points for %u centres", n, k);
	sum = calloc((size_t)k * d, sizeof *sum);
	cnt = calloc(k, sizeof *cnt);
	if (!sum || !cnt) {
		free(sum);
		free(cnt);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	mg_rng_seed(&r, o->seed);
	st->reseeded = 0;
	if (o->plusplus) {
		double *dmin = malloc(n * sizeof *dmin);
		if (!dmin) {
			free(sum);
			free(cnt);
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		}
		size_t first = (size_t)mg_rng_below(&r, n);
		for (uint32_t t = 0; t < d; t++)
			centres[t] = pts[first * d + t];
		for (size_t i = 0; i < n; i++)
			dmin[i] = DBL_MAX;
		for (uint32_t j = 1; j < k; j++) {
			double tot = 0, u;
			size_t pick = n - 1;
			for (size_t i = 0; i < n; i++) {
				double s = 0;
				for (uint32_t t = 0; t < d; t++) {
					double v = (double)pts[i * d + t] - centres[(size_t)(j - 1) * d + t];
					s += v * v;
				}
				if (s < dmin[i])
					dmin[i] = s;
				tot += dmin[i];
			}
			u = mg_rng_uniform(&r) * tot;
			for (size_t i = 0; i < n; i++) {
				if (u < dmin[i]) {
					pick = i;
					break;
				}
				u -= dmin[i];
			}
			for (uint32_t t = 0; t < d; t++)
				centres[(size_t)j * d + t] = pts[pick * d + t];
		}
		free(dmin);
	} else {
		for (uint32_t j = 0; j < k; j++) {
			size_t i = (size_t)mg_rng_below(&r, n);
			for (uint32_t t = 0; t < d; t++)
				centres[(size_t)j * d + t] = pts[i * d + t];
		}
	}
	for (uint32_t it = 0; it < o->iters; it++) {
		memset(sum, 0, (size_t)k * d * sizeof *sum);
		memset(cnt, 0, k * sizeof *cnt);
		for (size_t i = 0; i < n; i++) {
			float dist;
			uint32_t j = nearest_f(pts + i * d, d, centres, k, &dist);
			cnt[j]++;
			for (uint32_t t = 0; t < d; t++)
				sum[(size_t)j * d + t] += pts[i * d + t];
		}
		for (uint32_t j = 0; j < k; j++) {
			if (cnt[j] == 0) {
				size_t i = (size_t)mg_rng_below(&r, n);
				for (uint32_t t = 0; t < d; t++)
					centres[(size_t)j * d + t] = pts[i * d + t];
				st->reseeded++;
				continue;
			}
			for (uint32_t t = 0; t < d; t++)
				centres[(size_t)j * d + t] = (float)(sum[(size_t)j * d + t] / (double)cnt[j]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		float dist;
		nearest_f(pts + i * d, d, centres, k, &dist);
		sse += dist;
	}
	st->mse = sse / ((double)n * d);
	free(sum);
	free(cnt);
	return MG_OK;
}

int mg_kmeans_assign(const uint8_t *pts, size_t n, uint32_t d, const uint8_t *palette, uint32_t k,
		     int threads, uint32_t *ids, uint64_t *sse, mg_err *e)
{
	uint64_t total = 0;

	if (d == 0 || d > 4)
		return mg_err_set(e, MG_E_INVAL, "points of %u channels (1 to 4)", d);
	if (k == 0)
		return mg_err_set(e, MG_E_INVAL, "an empty palette");
	for (size_t i = 0; i < n; i++) {
		uint32_t best = UINT32_MAX, bi = 0;
		for (uint32_t j = 0; j < k; j++) {
			uint32_t s = 0;
			for (uint32_t t = 0; t < d; t++) {
				int v = (int)pts[i * d + t] - palette[(size_t)j * d + t];
				s += (uint32_t)(v * v);
			}
			if (s < best) {
				best = s;
				bi = j;
			}
		}
		ids[i] = bi;
		total += best;
	}
	if (sse)
		*sse = total;
	return MG_OK;
}
