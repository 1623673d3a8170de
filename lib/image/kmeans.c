/* k-means on byte points: random or k-means++ initial centres, Lloyd
 * iterations whose assignment step runs on a pool of pthreads over
 * fixed-size chunks of points, and the nearest palette colour of each pixel.
 *
 * Determinism: a point's nearest centre depends only on the point and the
 * centres (the same loop for every point); cluster sums are exact integers
 * (points are bytes), so the order in which threads add them does not
 * matter; the mean squared distance is summed in double per chunk and the
 * chunks are added in chunk order. So the result is the same bits for a
 * seed whatever the thread count.
 *
 * The assignment step is n x k x d: the distance loop keeps the centres
 * transposed (d rows of kp floats, kp a multiple of LANES, padding at +inf)
 * and runs LANES centres at a time by direct differences, keeping a minimum
 * per lane (the compiler vectorises both at -O2); a second loop finds the
 * first index at the minimum, so ties go to the lowest index. Carrying the
 * index of the minimum through the first loop instead ran 2.2 times slower
 * (a masked store and a branch per block); |c|^2 - 2 c.x in the first loop
 * with the near-minimal centres measured again by differences, 1.3 times
 * slower; 8 lanes beat 16 by 9% and 32 by 45% (AMD EPYC, AVX-512). With
 * byte centres every intermediate is an integer under 2^24, so float
 * distances are exact.
 *
 * No cache of colours for mg_kmeans_assign: on the 4,096,000 pixels of the
 * 4,000 CIFAR-10 images (36% distinct colours), a lazily filled table of
 * 2^24 ids ran within the noise of plain search at k = 512 (its hits miss
 * the CPU's caches), and a 4,096-slot cache per thread hit 11% of pixels. */
#include "image/kmeans.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/rng.h"
#include "core/threads.h"

#define LANES 8
#define CHUNK 4096 /* points per job: the unit of the per-chunk sums */

void mg_kmeans_opts_default(mg_kmeans_opts *o)
{
	o->k = 512;
	o->iters = 8;
	o->plusplus = 0;
	o->seed = 1337;
	o->threads = 0;
}

/* ---- a pool of threads over chunks */

typedef void chunk_fn(void *ctx, size_t chunk, int tid);

typedef struct pool {
	chunk_fn *fn;
	void *ctx;
	size_t n_chunks, next;
} pool;

typedef struct worker {
	pool *p;
	int tid;
} worker;

static void pool_work(pool *p, int tid)
{
	for (;;) {
		size_t c = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		if (c >= p->n_chunks)
			return;
		p->fn(p->ctx, c, tid);
	}
}

static void *pool_main(void *a)
{
	worker *w = a;
	pool_work(w->p, w->tid);
	return NULL;
}

/* Runs fn on every chunk with up to threads threads (tid 0 is the caller).
 * A thread that cannot start is done without: the results are the same
 * with fewer threads. */
static void pool_run(int threads, size_t n_chunks, chunk_fn *fn, void *ctx)
{
	pool p = {fn, ctx, n_chunks, 0};
	pthread_t tid[64];
	worker w[64];
	int t, started = 0;
	if ((size_t)threads > n_chunks)
		threads = (int)n_chunks;
	if (threads > 64)
		threads = 64;
	for (t = 1; t < threads; t++) {
		w[t - 1] = (worker){&p, t};
		if (pthread_create(&tid[t - 1], NULL, pool_main, &w[t - 1]))
			break;
		started++;
	}
	pool_work(&p, 0);
	for (t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
}

static int thread_count(int threads)
{
	int t = threads > 0 ? threads : mg_threads_get();
	return t < 1 ? 1 : t > 64 ? 64 : t;
}

/* ---- nearest centre */

/* ct: d rows of kp floats; sc: kp floats of scratch. Returns the index of
 * the nearest centre to p and its squared distance in *dist. Two passes:
 * the distances and a running minimum per lane, then the first index at the
 * minimum (no index is carried through the first, which keeps it a plain
 * stream of vector arithmetic). */
static inline __attribute__((always_inline)) uint32_t nearest(const float *ct, uint32_t kp, uint32_t d,
							       const uint8_t *p, float *sc, float *dist)
{
	float x0 = p[0], x1 = d > 1 ? p[1] : 0, x2 = d > 2 ? p[2] : 0, x3 = d > 3 ? p[3] : 0;
	const float *r0 = ct, *r1 = ct + (size_t)kp, *r2 = ct + 2 * (size_t)kp, *r3 = ct + 3 * (size_t)kp;
	float mv[LANES], m;
	size_t j;
	int l;
	for (l = 0; l < LANES; l++)
		mv[l] = INFINITY;
	for (j = 0; j < kp; j += LANES) {
		float s[LANES];
		for (l = 0; l < LANES; l++) {
			float t = r0[j + (size_t)l] - x0;
			s[l] = t * t;
		}
		if (d > 1)
			for (l = 0; l < LANES; l++) {
				float t = r1[j + (size_t)l] - x1;
				s[l] += t * t;
			}
		if (d > 2)
			for (l = 0; l < LANES; l++) {
				float t = r2[j + (size_t)l] - x2;
				s[l] += t * t;
			}
		if (d > 3)
			for (l = 0; l < LANES; l++) {
				float t = r3[j + (size_t)l] - x3;
				s[l] += t * t;
			}
		for (l = 0; l < LANES; l++) {
			sc[j + (size_t)l] = s[l];
			mv[l] = s[l] < mv[l] ? s[l] : mv[l];
		}
	}
	for (int w = LANES / 2; w >= 1; w /= 2)
		for (l = 0; l < w; l++)
			mv[l] = mv[l + w] < mv[l] ? mv[l + w] : mv[l];
	m = mv[0];
	for (j = 0;; j += LANES) {
		int any = 0;
		for (l = 0; l < LANES; l++)
			any |= sc[j + (size_t)l] == m;
		if (any)
			break;
	}
	while (sc[j] != m)
		j++;
	*dist = m;
	return (uint32_t)j;
}

/* Transposes k x d centres (floats or bytes) into d rows of kp floats. */
static void transpose(const float *cf, const uint8_t *cb, uint32_t k, uint32_t d, uint32_t kp, float *ct)
{
	for (uint32_t ch = 0; ch < d; ch++) {
		for (uint32_t j = 0; j < k; j++)
			ct[(size_t)ch * kp + j] = cf ? cf[(size_t)j * d + ch] : (float)cb[(size_t)j * d + ch];
		for (uint32_t j = k; j < kp; j++)
			ct[(size_t)ch * kp + j] = INFINITY;
	}
}

/* One assignment pass: ids (may be NULL), cluster sums and counts per
 * thread (sums may be NULL), the squared distances per chunk. */
typedef struct apass {
	const uint8_t *pts;
	size_t n;
	uint32_t d, k, kp;
	const float *ct;
	uint32_t *ids;
	uint64_t *sums; /* per thread: k*d sums then k counts */
	double *chunk_sse;
	uint64_t *chunk_isse; /* exact, for byte centres */
	float *scratch;       /* per thread: kp distances */
} apass;

static inline __attribute__((always_inline)) void apass_run(apass *a, size_t c, int tid, uint32_t d)
{
	size_t i0 = c * CHUNK, i1 = i0 + CHUNK < a->n ? i0 + CHUNK : a->n;
	uint64_t *sum = a->sums ? a->sums + (size_t)tid * a->k * (d + 1) : NULL;
	uint64_t *cnt = sum ? sum + (size_t)a->k * d : NULL;
	double sse = 0;
	uint64_t isse = 0;
	float *sc = a->scratch + (size_t)tid * a->kp;
	for (size_t i = i0; i < i1; i++) {
		const uint8_t *p = a->pts + i * d;
		float dist;
		uint32_t id = nearest(a->ct, a->kp, d, p, sc, &dist);
		if (a->ids)
			a->ids[i] = id;
		if (sum) {
			for (uint32_t ch = 0; ch < d; ch++)
				sum[(size_t)id * d + ch] += p[ch];
			cnt[id]++;
		}
		sse += dist;
		isse += (uint64_t)dist;
	}
	if (a->chunk_sse)
		a->chunk_sse[c] = sse;
	if (a->chunk_isse)
		a->chunk_isse[c] = isse;
}

static void apass_chunk(void *ctx, size_t c, int tid)
{
	apass *a = ctx;
	switch (a->d) { /* one specialised loop per channel count */
	case 1: apass_run(a, c, tid, 1); break;
	case 2: apass_run(a, c, tid, 2); break;
	case 3: apass_run(a, c, tid, 3); break;
	default: apass_run(a, c, tid, 4); break;
	}
}

static uint32_t padded(uint32_t k)
{
	return (k + LANES - 1) / LANES * LANES;
}

static size_t chunks_of(size_t n)
{
	return (n + CHUNK - 1) / CHUNK;
}

static int check_args(size_t n, uint32_t d, uint32_t k, int need_n, mg_err *e)
{
	if (d == 0 || d > MG_KMEANS_D_MAX)
		return mg_err_set(e, MG_E_INVAL, "points of %u channels (1 to %u)", d, MG_KMEANS_D_MAX);
	if (k == 0 || k > MG_KMEANS_K_MAX)
		return mg_err_set(e, MG_E_INVAL, "%u centres (1 to %u)", k, MG_KMEANS_K_MAX);
	if (need_n && n < k)
		return mg_err_set(e, MG_E_INVAL, "%zu points for %u centres", n, k);
	return MG_OK;
}

/* ---- initial centres */

/* m distinct indices below n (m <= n) in the order drawn: Floyd's
 * algorithm, with an open-addressing set of the indices taken. */
static int sample_distinct(mg_rng *r, size_t n, uint32_t m, size_t *out, mg_err *e)
{
	size_t cap = 16, *set;
	uint32_t got = 0;
	while (cap < 2 * (size_t)m)
		cap *= 2;
	set = malloc(cap * sizeof *set);
	if (!set)
		return mg_err_set(e, MG_E_NOMEM, "out of memory for %u indices", m);
	memset(set, 0xff, cap * sizeof *set);
	for (size_t j = n - m; j < n; j++) {
		size_t t = (size_t)mg_rng_below(r, (uint64_t)j + 1), h;
		for (int pass = 0; pass < 2; pass++) {
			h = (size_t)mg_hash_slot(t) & (cap - 1);
			while (set[h] != SIZE_MAX && set[h] != t)
				h = (h + 1) & (cap - 1);
			if (set[h] == SIZE_MAX)
				break;
			t = j; /* taken: j itself is new (every index so far is below j) */
		}
		set[h] = t;
		out[got++] = t;
	}
	free(set);
	return MG_OK;
}

/* k-means++: D^2 per point (exact integers), chunk sums for the draw. */
typedef struct pp {
	const uint8_t *pts;
	size_t n;
	uint32_t d;
	uint32_t *d2;
	uint64_t *chunk_sum;
	const uint8_t *c; /* the newest centre */
	int first;
} pp;

static inline __attribute__((always_inline)) void pp_run(pp *a, size_t c, uint32_t d)
{
	size_t i0 = c * CHUNK, i1 = i0 + CHUNK < a->n ? i0 + CHUNK : a->n;
	uint64_t s = 0;
	for (size_t i = i0; i < i1; i++) {
		const uint8_t *p = a->pts + i * d;
		uint32_t q = 0;
		for (uint32_t ch = 0; ch < d; ch++) {
			int32_t t = (int32_t)p[ch] - (int32_t)a->c[ch];
			q += (uint32_t)(t * t);
		}
		q = a->first || q < a->d2[i] ? q : a->d2[i];
		a->d2[i] = q;
		s += q;
	}
	a->chunk_sum[c] = s;
}

static void pp_chunk(void *ctx, size_t c, int tid)
{
	pp *a = ctx;
	(void)tid;
	switch (a->d) {
	case 1: pp_run(a, c, 1); break;
	case 2: pp_run(a, c, 2); break;
	case 3: pp_run(a, c, 3); break;
	default: pp_run(a, c, 4); break;
	}
}

static int init_plusplus(const uint8_t *pts, size_t n, uint32_t d, uint32_t k, int threads, mg_rng *r,
			 float *centres, mg_err *e)
{
	size_t nc = chunks_of(n), idx = (size_t)mg_rng_below(r, n);
	pp a = {pts, n, d, malloc(n * sizeof(uint32_t)), malloc(nc * sizeof(uint64_t)), NULL, 1};
	int rc = MG_OK;
	if (!a.d2 || !a.chunk_sum) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory for k-means++ distances of %zu points", n);
		goto out;
	}
	for (uint32_t j = 0;; j++) {
		uint64_t total = 0, x;
		size_t c;
		for (uint32_t ch = 0; ch < d; ch++)
			centres[(size_t)j * d + ch] = pts[idx * d + ch];
		if (j + 1 == k)
			break;
		a.c = pts + idx * d;
		pool_run(threads, nc, pp_chunk, &a);
		a.first = 0;
		for (c = 0; c < nc; c++)
			total += a.chunk_sum[c];
		if (total == 0) { /* every point is a centre already */
			idx = (size_t)mg_rng_below(r, n);
			continue;
		}
		/* the point where the running sum of D^2 first passes x */
		x = mg_rng_below(r, total);
		for (c = 0; x >= a.chunk_sum[c]; c++)
			x -= a.chunk_sum[c];
		for (idx = c * CHUNK; x >= a.d2[idx]; idx++)
			x -= a.d2[idx];
	}
out:
	free(a.d2);
	free(a.chunk_sum);
	return rc;
}

static int init_centres(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, int threads, mg_rng *r,
			float *centres, mg_err *e)
{
	size_t *idx;
	int rc;
	if (o->plusplus)
		return init_plusplus(pts, n, d, o->k, threads, r, centres, e);
	idx = malloc((size_t)o->k * sizeof *idx);
	if (!idx)
		return mg_err_set(e, MG_E_NOMEM, "out of memory for %u centres", o->k);
	rc = sample_distinct(r, n, o->k, idx, e);
	for (uint32_t j = 0; !rc && j < o->k; j++)
		for (uint32_t ch = 0; ch < d; ch++)
			centres[(size_t)j * d + ch] = pts[idx[j] * d + ch];
	free(idx);
	return rc;
}

int mg_kmeans_init(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, float *centres, mg_err *e)
{
	mg_rng r;
	int rc = check_args(n, d, o->k, 1, e);
	if (rc)
		return rc;
	mg_rng_seed(&r, o->seed);
	return init_centres(pts, n, d, o, thread_count(o->threads), &r, centres, e);
}

/* ---- Lloyd */

int mg_kmeans_fit(const uint8_t *pts, size_t n, uint32_t d, const mg_kmeans_opts *o, float *centres,
		  mg_kmeans_stats *st, mg_err *e)
{
	uint32_t k = o->k, kp = padded(k), reseeded = 0;
	int threads = thread_count(o->threads), rc;
	size_t nc, stride;
	apass a;
	mg_rng r;
	size_t *pick = NULL;
	uint32_t *empty = NULL;
	if ((rc = check_args(n, d, k, 1, e)))
		return rc;
	nc = chunks_of(n);
	if ((size_t)threads > nc)
		threads = (int)nc;
	stride = (size_t)k * (d + 1);
	a = (apass){pts, n, d, k, kp, malloc((size_t)d * kp * sizeof(float)), NULL,
		    calloc((size_t)threads * stride, sizeof(uint64_t)), malloc(nc * sizeof(double)), NULL,
		    malloc((size_t)threads * kp * sizeof(float))};
	pick = malloc((size_t)k * sizeof *pick);
	empty = malloc((size_t)k * sizeof *empty);
	if (!a.ct || !a.sums || !a.chunk_sse || !a.scratch || !pick || !empty) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory for %u centres", k);
		goto out;
	}
	mg_rng_seed(&r, o->seed);
	if ((rc = init_centres(pts, n, d, o, threads, &r, centres, e)))
		goto out;
	for (uint32_t it = 0; it < o->iters; it++) {
		uint32_t n_empty = 0;
		transpose(centres, NULL, k, d, kp, (float *)a.ct);
		memset(a.sums, 0, (size_t)threads * stride * sizeof(uint64_t));
		pool_run(threads, nc, apass_chunk, &a);
		for (int t = 1; t < threads; t++) /* exact: any order gives the same sums */
			for (size_t i = 0; i < stride; i++)
				a.sums[i] += a.sums[(size_t)t * stride + i];
		for (uint32_t j = 0; j < k; j++) {
			uint64_t cnt = a.sums[(size_t)k * d + j];
			if (!cnt) {
				empty[n_empty++] = j;
				continue;
			}
			for (uint32_t ch = 0; ch < d; ch++)
				centres[(size_t)j * d + ch] = (float)((double)a.sums[(size_t)j * d + ch] / (double)cnt);
		}
		if (n_empty) {
			if ((rc = sample_distinct(&r, n, n_empty, pick, e)))
				goto out;
			for (uint32_t q = 0; q < n_empty; q++)
				for (uint32_t ch = 0; ch < d; ch++)
					centres[(size_t)empty[q] * d + ch] = pts[pick[q] * d + ch];
			reseeded += n_empty;
		}
	}
	if (st) {
		double sse = 0;
		transpose(centres, NULL, k, d, kp, (float *)a.ct);
		free(a.sums);
		a.sums = NULL;
		pool_run(threads, nc, apass_chunk, &a);
		for (size_t c = 0; c < nc; c++) /* in chunk order */
			sse += a.chunk_sse[c];
		st->mse = sse / ((double)n * d);
		st->reseeded = reseeded;
	}
out:
	free((float *)a.ct);
	free(a.sums);
	free(a.chunk_sse);
	free(a.scratch);
	free(pick);
	free(empty);
	return rc;
}

/* ---- palette assignment */

int mg_kmeans_assign(const uint8_t *pts, size_t n, uint32_t d, const uint8_t *palette, uint32_t k, int threads,
		     uint32_t *ids, uint64_t *sse, mg_err *e)
{
	uint32_t kp = padded(k);
	size_t nc = chunks_of(n);
	apass a;
	int rc;
	if ((rc = check_args(n, d, k, 0, e)))
		return rc;
	threads = thread_count(threads);
	if ((size_t)threads > nc)
		threads = (int)nc;
	if (n == 0) {
		if (sse)
			*sse = 0;
		return MG_OK;
	}
	a = (apass){pts, n, d, k, kp, malloc((size_t)d * kp * sizeof(float)), ids, NULL, NULL,
		    sse ? malloc(nc * sizeof(uint64_t)) : NULL, malloc((size_t)(threads ? threads : 1) * kp * sizeof(float))};
	if (!a.ct || (sse && !a.chunk_isse) || !a.scratch) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory for a palette of %u colours", k);
		goto out;
	}
	transpose(NULL, palette, k, d, kp, (float *)a.ct);
	pool_run(threads, nc, apass_chunk, &a);
	if (sse) {
		*sse = 0;
		for (size_t c = 0; c < nc; c++)
			*sse += a.chunk_isse[c];
	}
out:
	free((float *)a.ct);
	free(a.chunk_isse);
	free(a.scratch);
	return rc;
}
