/* kmeans_run: drives lib/image/kmeans.h on raw byte points for the
 * cross-check against NumPy (tests/model/kmeans_ref.py, tests/kmeans.bats) and
 * the benchmark (tests/bench/bench-kmeans.sh); not installed.
 *   kmeans_run fit [-k K] [-i ITERS] [-p] [-s SEED] [-j THREADS] [-r RUNS] D POINTS INIT FINAL
 *     writes the initial and the final centres (k x D float32, little-endian
 *     on x86) and prints "seconds S mse M reseeded R" per run
 *   kmeans_run assign [-j THREADS] [-r RUNS] D PALETTE POINTS IDS
 *     writes the ids (uint32) and prints "seconds S sse E" per run */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "image/kmeans.h"

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long len;
	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(b = malloc((size_t)len + 1)) || fread(b, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "kmeans_run: %s: cannot read\n", path);
		exit(1);
	}
	fclose(f);
	*n = (size_t)len;
	return b;
}

static void spit(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "kmeans_run: %s: cannot write\n", path);
		exit(1);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: kmeans_run fit [-k K] [-i ITERS] [-p] [-s SEED] [-j THREADS] [-r RUNS] D POINTS INIT FINAL\n"
			"       kmeans_run assign [-j THREADS] [-r RUNS] D PALETTE POINTS IDS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	mg_kmeans_opts o;
	mg_err e = {0};
	int c, runs = 1, fit;
	uint32_t d;
	if (argc < 2)
		usage();
	fit = !strcmp(argv[1], "fit");
	if (!fit && strcmp(argv[1], "assign"))
		usage();
	mg_kmeans_opts_default(&o);
	optind = 2;
	while ((c = getopt(argc, argv, "k:i:ps:j:r:")) != -1)
		switch (c) {
		case 'k': o.k = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'i': o.iters = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': o.plusplus = 1; break;
		case 's': o.seed = strtoull(optarg, NULL, 10); break;
		case 'j': o.threads = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		default: usage();
		}
	if (argc - optind != 4)
		usage();
	d = (uint32_t)strtoul(argv[optind], NULL, 10);
	if (d < 1 || d > 4)
		usage();
	if (fit) {
		size_t len, n;
		uint8_t *pts = slurp(argv[optind + 1], &len);
		float *cen = malloc((size_t)o.k * d * sizeof(float));
		n = len / d;
		if (!cen || mg_kmeans_init(pts, n, d, &o, cen, &e)) {
			fprintf(stderr, "kmeans_run: %s\n", e.msg);
			return 1;
		}
		spit(argv[optind + 2], cen, (size_t)o.k * d * sizeof(float));
		for (int r = 0; r < runs; r++) {
			mg_kmeans_stats st;
			double t = mg_clock_now();
			if (mg_kmeans_fit(pts, n, d, &o, cen, &st, &e)) {
				fprintf(stderr, "kmeans_run: %s\n", e.msg);
				return 1;
			}
			printf("seconds %.6f mse %.9g reseeded %u\n", mg_clock_now() - t, st.mse, st.reseeded);
		}
		spit(argv[optind + 3], cen, (size_t)o.k * d * sizeof(float));
		free(cen);
		free(pts);
	} else {
		size_t plen, len, n;
		uint8_t *pal = slurp(argv[optind + 1], &plen), *pts = slurp(argv[optind + 2], &len);
		uint32_t *ids;
		n = len / d;
		ids = malloc((n ? n : 1) * sizeof *ids);
		for (int r = 0; r < runs; r++) {
			uint64_t sse;
			double t = mg_clock_now();
			if (!ids || mg_kmeans_assign(pts, n, d, pal, (uint32_t)(plen / d), o.threads, ids, &sse, &e)) {
				fprintf(stderr, "kmeans_run: %s\n", e.msg);
				return 1;
			}
			printf("seconds %.6f sse %llu\n", mg_clock_now() - t, (unsigned long long)sse);
		}
		spit(argv[optind + 3], ids, n * sizeof *ids);
		free(ids);
		free(pts);
		free(pal);
	}
	return 0;
}
