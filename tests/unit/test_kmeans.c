/* The k-means palette (lib/image/kmeans.h): exact results on hand-made
 * points (one centre, identical points, an empty cluster re-seeded, ties),
 * Lloyd against a plain double reference from the same initial centres, the
 * same bits for 1 to 4 threads, k-means++'s properties, the nearest colour
 * against brute force, and the argument errors. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/rng.h"
#include "image/kmeans.h"

static mg_kmeans_opts opts(uint32_t k, uint32_t iters, int plusplus, uint64_t seed, int threads)
{
	mg_kmeans_opts o;
	mg_kmeans_opts_default(&o);
	o.k = k;
	o.iters = iters;
	o.plusplus = plusplus;
	o.seed = seed;
	o.threads = threads;
	return o;
}

static uint8_t *random_points(size_t n, uint32_t d, unsigned range, uint64_t seed)
{
	size_t size = n * d;
	uint8_t *p = malloc(size ? size : 1);
	mg_rng r;
	mg_rng_seed(&r, seed);
	for (size_t i = 0; i < n * d; i++)
		p[i] = (uint8_t)mg_rng_below(&r, range);
	return p;
}

static void test_defaults(void)
{
	mg_kmeans_opts o;
	mg_kmeans_opts_default(&o);
	CHECK_EQ(o.k, 512);
	CHECK_EQ(o.iters, 8);
	CHECK_EQ(o.plusplus, 0);
	CHECK_EQ(o.seed, 1337);
	CHECK_EQ(o.threads, 0);
}

/* k = 1: the mean of all points, whatever the start */
static void test_one_centre(void)
{
	const uint8_t p[] = {0, 10, 200, 3, 11, 100, 6, 30, 0}; /* 3 points, d = 3 */
	mg_kmeans_opts o = opts(1, 3, 0, 5, 1);
	mg_kmeans_stats st;
	float c[3];
	mg_err e = {0};
	CHECK_EQ(mg_kmeans_fit(p, 3, 3, &o, c, &st, &e), MG_OK);
	CHECK(c[0] == 3.0f && c[1] == 17.0f && c[2] == 100.0f);
	/* distances: (9+49+10000) + (0+36+0) + (9+169+10000) = 20272 over 9 */
	CHECK(st.mse == 20272.0 / 9);
	CHECK_EQ(st.reseeded, 0);
}

/* identical points: every centre but the first is empty at every
 * iteration (ties go to the lowest index) and re-seeded at the point */
static void test_identical(void)
{
	uint8_t p[8];
	float c[6];
	mg_kmeans_stats st;
	mg_err e = {0};
	memset(p, 7, sizeof p);
	for (int pp = 0; pp <= 1; pp++) {
		mg_kmeans_opts o = opts(3, 8, pp, 1, 2);
		CHECK_EQ(mg_kmeans_fit(p, 4, 2, &o, c, &st, &e), MG_OK);
		for (int i = 0; i < 6; i++)
			CHECK(c[i] == 7.0f);
		CHECK_EQ(st.reseeded, 16);
		CHECK(st.mse == 0);
	}
}

/* {0, 0, 0, 10}, k = 2: two zeros as initial centres leave centre 1 empty
 * (10 is as near to both: the lowest index), re-seeded at a random point;
 * every start ends at {0, 10} */
static void test_reseed(void)
{
	const uint8_t p[] = {0, 0, 0, 10};
	int seen = 0;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		mg_kmeans_opts o = opts(2, 4, 0, seed, 1);
		mg_kmeans_stats st;
		float c[2], c0[2];
		mg_err e = {0};
		CHECK_EQ(mg_kmeans_init(p, 4, 1, &o, c0, &e), MG_OK);
		CHECK_EQ(mg_kmeans_fit(p, 4, 1, &o, c, &st, &e), MG_OK);
		CHECK((c[0] == 0 && c[1] == 10) || (c[0] == 10 && c[1] == 0));
		CHECK(st.mse == 0);
		CHECK_EQ(st.reseeded, c0[0] == 0 && c0[1] == 0);
		if (st.reseeded) {
			seen++;
			/* after one iteration: centre 0 at 10/4, centre 1 a point */
			o.iters = 1;
			CHECK_EQ(mg_kmeans_fit(p, 4, 1, &o, c, &st, &e), MG_OK);
			CHECK(c[0] == 2.5f && (c[1] == 0 || c[1] == 10));
			CHECK_EQ(st.reseeded, 1);
		}
	}
	CHECK(seen > 0);
}

/* the initial centres are points of distinct indices */
static void test_init_distinct(void)
{
	const size_t n = 300;
	uint8_t *p = malloc(n * 2);
	float c[2 * 300];
	mg_err e = {0};
	for (size_t i = 0; i < n; i++) { /* every point different */
		p[2 * i] = (uint8_t)(i & 255);
		p[2 * i + 1] = (uint8_t)(i >> 8);
	}
	for (uint32_t k = 1; k <= 300; k += 299) {
		mg_kmeans_opts o = opts(k, 0, 0, 9, 1);
		uint8_t *used = calloc(n, 1);
		CHECK_EQ(mg_kmeans_init(p, n, 2, &o, c, &e), MG_OK);
		for (uint32_t j = 0; j < k; j++) {
			size_t i = (size_t)c[2 * j] + 256 * (size_t)c[2 * j + 1];
			CHECK(i < n && c[2 * j] == p[2 * i] && !used[i]);
			if (i < n)
				used[i] = 1;
		}
		free(used);
	}
	free(p);
}

/* plain Lloyd in double from given centres: distances by direct
 * differences, ties to the lowest index, centres rounded to float; returns
 * the number of empty clusters of the last iteration (left as they were) */
static uint32_t lloyd_ref(const uint8_t *p, size_t n, uint32_t d, uint32_t k, uint32_t iters, float *c)
{
	double *sum = malloc((size_t)k * d * sizeof *sum);
	size_t *cnt = malloc(k * sizeof *cnt);
	uint32_t empty = 0;
	for (uint32_t it = 0; it < iters; it++) {
		memset(sum, 0, (size_t)k * d * sizeof *sum);
		memset(cnt, 0, k * sizeof *cnt);
		for (size_t i = 0; i < n; i++) {
			double best = INFINITY;
			uint32_t id = 0;
			for (uint32_t j = 0; j < k; j++) {
				double s = 0;
				for (uint32_t ch = 0; ch < d; ch++) {
					double t = (double)c[j * d + ch] - p[i * d + ch];
					s += t * t;
				}
				if (s < best) {
					best = s;
					id = j;
				}
			}
			cnt[id]++;
			for (uint32_t ch = 0; ch < d; ch++)
				sum[id * d + ch] += p[i * d + ch];
		}
		empty = 0;
		for (uint32_t j = 0; j < k; j++) {
			if (!cnt[j]) {
				empty++;
				continue;
			}
			for (uint32_t ch = 0; ch < d; ch++)
				c[j * d + ch] = (float)(sum[j * d + ch] / (double)cnt[j]);
		}
	}
	free(sum);
	free(cnt);
	return empty;
}

/* one iteration from integer centres is exact arithmetic: the same centres
 * bit for bit, ties and empty clusters included (points of 4 levels per
 * channel: ties everywhere); eight iterations on spread points agree to
 * float rounding */
static void test_against_reference(void)
{
	for (uint32_t d = 1; d <= 4; d++) {
		const size_t n = 3000;
		uint8_t *p = random_points(n, d, 4, 100 + d);
		uint32_t k = 7;
		float c[7 * 4], r[7 * 4];
		mg_kmeans_opts o = opts(k, 1, 0, d, 2);
		mg_kmeans_stats st;
		mg_err e = {0};
		uint32_t empty;
		CHECK_EQ(mg_kmeans_init(p, n, d, &o, r, &e), MG_OK);
		CHECK_EQ(mg_kmeans_fit(p, n, d, &o, c, &st, &e), MG_OK);
		empty = lloyd_ref(p, n, d, k, 1, r);
		CHECK_EQ(st.reseeded, empty);
		for (uint32_t j = 0, ok = 1; j < k; j++, ok = 1) {
			for (uint32_t ch = 0; ch < d; ch++)
				ok &= c[j * d + ch] == r[j * d + ch];
			if (!ok) { /* only a re-seeded centre may differ: it is a point */
				int found = 0;
				for (size_t i = 0; i < n && !found; i++) {
					found = 1;
					for (uint32_t ch = 0; ch < d; ch++)
						found &= c[j * d + ch] == p[i * d + ch];
				}
				CHECK(found && empty > 0);
			}
		}
		free(p);
	}
	{
		const size_t n = 5000;
		uint8_t *p = random_points(n, 3, 256, 77);
		float c[24 * 3], r[24 * 3];
		mg_kmeans_opts o = opts(24, 8, 1, 3, 3);
		mg_kmeans_stats st;
		mg_err e = {0};
		double mse = 0;
		CHECK_EQ(mg_kmeans_init(p, n, 3, &o, r, &e), MG_OK);
		CHECK_EQ(mg_kmeans_fit(p, n, 3, &o, c, &st, &e), MG_OK);
		CHECK_EQ(st.reseeded, 0);
		CHECK_EQ(lloyd_ref(p, n, 3, 24, 8, r), 0);
		for (int i = 0; i < 24 * 3; i++)
			CHECK_CLOSE(c[i], r[i], 1e-5);
		for (size_t i = 0; i < n; i++) {
			double best = INFINITY;
			for (int j = 0; j < 24; j++) {
				double s = 0;
				for (int ch = 0; ch < 3; ch++)
					s += ((double)c[j * 3 + ch] - p[i * 3 + ch]) * ((double)c[j * 3 + ch] - p[i * 3 + ch]);
				best = s < best ? s : best;
			}
			mse += best;
		}
		CHECK_CLOSE(st.mse, mse / (3.0 * n), 1e-6);
		free(p);
	}
}

/* the same bits whatever the thread count (several chunks of points) */
static void test_threads(void)
{
	const size_t n = 50000;
	uint8_t *p = random_points(n, 3, 256, 5);
	for (int pp = 0; pp <= 1; pp++) {
		float c1[37 * 3], c[37 * 3];
		mg_kmeans_stats s1, s;
		mg_err e = {0};
		for (int t = 1; t <= 4; t++) {
			mg_kmeans_opts o = opts(37, 5, pp, 21, t);
			CHECK_EQ(mg_kmeans_fit(p, n, 3, &o, t == 1 ? c1 : c, t == 1 ? &s1 : &s, &e), MG_OK);
			if (t > 1) {
				CHECK(!memcmp(c, c1, sizeof c));
				CHECK(memcmp(&s.mse, &s1.mse, sizeof s.mse) == 0);
				CHECK_EQ(s.reseeded, s1.reseeded);
			}
		}
	}
	free(p);
}

/* k-means++ never picks a point at distance 0 from a centre while another
 * point is farther: with 4 colours repeated, the 4 centres are the 4
 * colours, for every seed (random points repeat colours often) */
static void test_plusplus(void)
{
	const uint8_t col[4][3] = {{0, 0, 0}, {255, 0, 0}, {1, 1, 1}, {40, 200, 90}};
	uint8_t p[400 * 3];
	int random_repeats = 0;
	for (int i = 0; i < 400; i++)
		memcpy(p + 3 * i, col[(i * 7 + i / 13) % 4], 3);
	for (uint64_t seed = 1; seed <= 20; seed++) {
		float c[12];
		mg_err e = {0};
		unsigned mask = 0;
		mg_kmeans_opts o = opts(4, 0, 1, seed, 2);
		CHECK_EQ(mg_kmeans_init(p, 400, 3, &o, c, &e), MG_OK);
		for (int j = 0; j < 4; j++)
			for (int q = 0; q < 4; q++)
				if (c[3 * j] == col[q][0] && c[3 * j + 1] == col[q][1] && c[3 * j + 2] == col[q][2])
					mask |= 1u << q;
		CHECK_EQ(mask, 15);
		o.plusplus = 0;
		CHECK_EQ(mg_kmeans_init(p, 400, 3, &o, c, &e), MG_OK);
		mask = 0;
		for (int j = 0; j < 4; j++)
			for (int q = 0; q < 4; q++)
				if (c[3 * j] == col[q][0] && c[3 * j + 1] == col[q][1] && c[3 * j + 2] == col[q][2])
					mask |= 1u << q;
		random_repeats += mask != 15;
	}
	CHECK(random_repeats > 0);
}

static void brute(const uint8_t *p, size_t n, uint32_t d, const uint8_t *pal, uint32_t k, uint32_t *ids, uint64_t *sse)
{
	*sse = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t best = UINT64_MAX;
		for (uint32_t j = 0; j < k; j++) {
			uint64_t s = 0;
			for (uint32_t ch = 0; ch < d; ch++) {
				int t = (int)p[i * d + ch] - pal[j * d + ch];
				s += (uint64_t)(t * t);
			}
			if (s < best) {
				best = s;
				ids[i] = j;
			}
		}
		*sse += best;
	}
}

static void test_assign(void)
{
	const uint32_t ks[] = {1, 5, 17, 300};
	for (uint32_t d = 1; d <= 4; d++)
		for (int ki = 0; ki < 4; ki++)
			for (int t = 1; t <= 3; t += 2) {
				const size_t n = 9000;
				uint32_t k = ks[ki];
				/* few levels: many ties and repeated colours */
				unsigned range = ki & 1 ? 6 : 256;
				uint8_t *p = random_points(n, d, range, d * 10 + ki), *pal = random_points(k, d, range, 99 + d);
				uint32_t *ids = malloc(n * sizeof *ids), *ref = malloc(n * sizeof *ref);
				uint64_t sse, rsse;
				mg_err e = {0};
				brute(p, n, d, pal, k, ref, &rsse);
				CHECK_EQ(mg_kmeans_assign(p, n, d, pal, k, t, ids, &sse, &e), MG_OK);
				CHECK(!memcmp(ids, ref, n * sizeof *ids));
				CHECK_EQ(sse, rsse);
				CHECK_EQ(mg_kmeans_assign(p, n, d, pal, k, t, ids, NULL, &e), MG_OK);
				CHECK(!memcmp(ids, ref, n * sizeof *ids));
				free(p);
				free(pal);
				free(ids);
				free(ref);
			}
	{ /* hand-made ties: 15 is as near to 10 as to 20; 7 is in twice */
		const uint8_t pal[] = {20, 10, 7, 7}, p[] = {15, 7, 8, 0, 255};
		uint32_t ids[5];
		uint64_t sse;
		mg_err e = {0};
		CHECK_EQ(mg_kmeans_assign(p, 5, 1, pal, 4, 1, ids, &sse, &e), MG_OK);
		CHECK(ids[0] == 0 && ids[1] == 2 && ids[2] == 2 && ids[3] == 2 && ids[4] == 0);
		CHECK_EQ(sse, 25 + 0 + 1 + 49 + 235 * 235);
	}
	{ /* the largest palette */
		const size_t n = 200;
		uint8_t *p = random_points(n, 2, 256, 3), *pal = random_points(MG_KMEANS_K_MAX, 2, 256, 4);
		uint32_t ids[200], ref[200];
		uint64_t sse, rsse;
		mg_err e = {0};
		brute(p, n, 2, pal, MG_KMEANS_K_MAX, ref, &rsse);
		CHECK_EQ(mg_kmeans_assign(p, n, 2, pal, MG_KMEANS_K_MAX, 2, ids, &sse, &e), MG_OK);
		CHECK(!memcmp(ids, ref, sizeof ids));
		CHECK_EQ(sse, rsse);
		free(p);
		free(pal);
	}
	{ /* no points */
		const uint8_t pal[] = {1};
		uint64_t sse = 5;
		mg_err e = {0};
		CHECK_EQ(mg_kmeans_assign(pal, 0, 1, pal, 1, 0, NULL, &sse, &e), MG_OK);
		CHECK_EQ(sse, 0);
	}
}

static void test_errors(void)
{
	uint8_t p[16] = {0};
	float c[16];
	uint32_t ids[4];
	mg_err e = {0};
	mg_kmeans_opts o = opts(2, 1, 0, 1, 1);
	CHECK_EQ(mg_kmeans_fit(p, 4, 0, &o, c, NULL, &e), MG_E_INVAL);
	CHECK(e.msg[0] != 0);
	CHECK_EQ(mg_kmeans_fit(p, 3, 5, &o, c, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_kmeans_fit(p, 1, 1, &o, c, NULL, &e), MG_E_INVAL); /* n < k */
	CHECK(!strcmp(e.msg, "1 points for 2 centres"));
	o.k = 0;
	CHECK_EQ(mg_kmeans_fit(p, 4, 1, &o, c, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_kmeans_init(p, 4, 1, &o, c, &e), MG_E_INVAL);
	o.k = MG_KMEANS_K_MAX + 1;
	CHECK_EQ(mg_kmeans_fit(p, 4, 1, &o, c, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_kmeans_assign(p, 4, 0, p, 1, 1, ids, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_kmeans_assign(p, 4, 5, p, 1, 1, ids, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_kmeans_assign(p, 4, 1, p, 0, 1, ids, NULL, &e), MG_E_INVAL);
	CHECK_EQ(mg_kmeans_assign(p, 4, 1, p, MG_KMEANS_K_MAX + 1, 1, ids, NULL, &e), MG_E_INVAL);
	/* n == k is enough; st may be NULL */
	o.k = 4;
	CHECK_EQ(mg_kmeans_fit(p, 4, 1, &o, c, NULL, &e), MG_OK);
}

int main(void)
{
	test_defaults();
	test_one_centre();
	test_identical();
	test_reseed();
	test_init_distinct();
	test_against_reference();
	test_threads();
	test_plusplus();
	test_assign();
	test_errors();
	CHECK_DONE();
}
