/* The machine's limit for bench-train.sh: OpenBLAS's own cblas_sgemm
 * GFLOP/s on the matrix products of one training step of MyGPT's configuration
 * (every Linear layer's forward, dinp and dweight products for N = B*T
 * rows), called on whole matrices with OpenBLAS's own threads.
 *
 *     sgemm_rate ROWS THREADS REPS
 *
 * prints OpenBLAS's configuration, one line per product (name, M N K,
 * median GFLOP/s of REPS calls) and a last line "total FLOP S GFLOP/s": the
 * products' FLOPs, the sum of their median seconds and the rate that gives
 * (the step's products at OpenBLAS's speed). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"

static float *rnd(size_t n)
{
	float *p = malloc(n * sizeof *p);

	if (!p) {
		fprintf(stderr, "sgemm_rate: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
	return p;
}

int main(int argc, char **argv)
{
	/* Linear layers of one block (counted n_layer = 3 times) and the head:
	 * out (N,OC) = inp (N,IC) w^T */
	static const struct {
		const char *name;
		int IC, OC, times;
	} lin[] = { { "attn.c_attn", 512, 1536, 3 }, { "attn.c_proj", 512, 512, 3 }, { "mlp.c_fc", 512, 2048, 3 },
		    { "mlp.c_proj", 2048, 512, 3 },  { "lm_head", 512, 65, 1 } };
	int rows, threads, reps;
	double flop_all = 0.0, sec_all = 0.0;

	if (argc != 4 || (rows = atoi(argv[1])) < 1 || (threads = atoi(argv[2])) < 1 || (reps = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: sgemm_rate ROWS THREADS REPS\n");
		return 2;
	}
	openblas_set_num_threads(threads);
	printf("%s\n", openblas_get_config());
	for (size_t l = 0; l < sizeof lin / sizeof *lin; l++) {
		int N = rows, IC = lin[l].IC, OC = lin[l].OC;
		float *inp = rnd((size_t)N * IC), *w = rnd((size_t)OC * IC), *out = rnd((size_t)N * OC);
		float *dinp = rnd((size_t)N * IC), *dw = rnd((size_t)OC * IC);
		double *t = malloc((size_t)reps * sizeof *t);

		for (int kind = 0; kind < 3; kind++) {
			static const char *what[] = { "forward", "dinp", "dweight" };
			double flop = 2.0 * N * IC * OC;
			for (int r = -1; r < reps; r++) { /* one warm-up call */
				double t0 = mg_clock_now();
				if (kind == 0) /* out = inp w^T */
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, IC, w, IC,
						    0.0f, out, OC);
				else if (kind == 1) /* dinp = dout w */
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f, out, OC, w, IC,
						    0.0f, dinp, IC);
				else /* dw += dout^T inp */
					cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, out, OC, inp, IC,
						    1.0f, dw, IC);
				if (r >= 0)
					t[r] = mg_clock_now() - t0;
			}
			bench_sort(t, (size_t)reps);
			printf("%-12s %-8s %6d %5d %5d %7.1f\n", lin[l].name, what[kind],
			       kind == 2 ? OC : N, kind == 1 ? IC : kind == 2 ? IC : OC, kind == 0 ? IC : kind == 1 ? OC : N,
			       flop / t[reps / 2] / 1e9);
			flop_all += lin[l].times * flop;
			sec_all += lin[l].times * t[reps / 2];
		}
		free(inp), free(w), free(out), free(dinp), free(dw), free(t);
	}
	printf("total %.0f %.6f %.1f\n", flop_all, sec_all, flop_all / sec_all / 1e9);
	return 0;
}
