/* The sum across ranks of gpt-train's gradients (lib/dist/comm_mpi.c, what
 * every step of an MPI run makes), timed alone: run under mpirun with the
 * number of floats and of rounds; rank 0 prints the median and the fastest.
 * usage: mpirun -np N allreduce FLOATS ROUNDS */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "dist/comm_mpi.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n;
	int rounds;
	float *buf;
	double *t;
	mg_comm *c;
	mg_err e = { 0 };

	if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) == 0 || (rounds = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: mpirun -np N allreduce FLOATS ROUNDS\n");
		return 2;
	}
	if (mg_comm_mpi_open(&c, &e)) {
		fprintf(stderr, "allreduce: %s\n", e.msg);
		return 1;
	}
	if (!(buf = malloc(n * sizeof *buf)) || !(t = malloc((size_t)rounds * sizeof *t))) {
		fprintf(stderr, "allreduce: out of memory\n");
		mg_comm_abort(c, 1);
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = (float)((i + (size_t)c->rank) % 1000) * 1e-3f;
	/* one round to warm up (the scratch buffer, the transport's), then the timed ones */
	for (int r = -1; r < rounds; r++) {
		double t0;
		if (mg_comm_barrier(c, &e))
			break;
		t0 = mg_clock_now();
		if (mg_comm_sum_f32(c, buf, n, &e))
			break;
		if (r >= 0)
			t[r] = mg_clock_now() - t0;
		for (size_t i = 0; i < n; i++) /* keep the values small */
			buf[i] *= 0.5f;
	}
	if (e.code) {
		fprintf(stderr, "allreduce: %s\n", e.msg);
		mg_comm_abort(c, 1);
	}
	qsort(t, (size_t)rounds, sizeof *t, cmp_double);
	if (c->rank == 0)
		printf("ranks %d floats %zu bytes %zu median_s %.6f min_s %.6f\n", c->size, n, n * sizeof(float),
		       t[rounds / 2], t[0]);
	free(buf);
	free(t);
	mg_comm_free(c);
	return 0;
}
