/* The communicator over MPI (dist/comm_mpi.h): sums in rank order by a
 * reduce-scatter and an all-gather, broadcasts in pieces that fit MPI's int
 * counts. */
#include "dist/comm_mpi.h"

#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Elements per round of a sum, so that every count fits an int. */
#define SEG ((size_t)1 << 28)

typedef struct comm_mpi {
	mg_comm c;             /* first: the table */
	int *counts, *displs;  /* size entries each: the slices of a round */
	int *rcounts, *rdispls;
	void *scratch;         /* size x one slice: the slices to add */
	size_t scratch_bytes;
} comm_mpi;

static int mpi_fail(int rc, const char *what, mg_err *e)
{
	char s[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
		len = 0;
	s[len] = 0;
	return mg_err_set(e, MG_E_IO, "mpi: %s: %s", what, len ? s : "failed");
}

static int scratch_reserve(comm_mpi *m, size_t bytes, mg_err *e)
{
	void *p;

	if (bytes <= m->scratch_bytes)
		return MG_OK;
	if (!(p = realloc(m->scratch, bytes)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	m->scratch = p;
	m->scratch_bytes = bytes;
	return MG_OK;
}

static int sum_f32(mg_comm *c, float *buf, size_t n, mg_err *e)
{
	comm_mpi *m = (comm_mpi *)c;
	int R = c->size, r = c->rank, rc;

	if (R == 1)
		return MG_OK;
	for (size_t off = 0; off < n; off += SEG) {
		size_t len = n - off < SEG ? n - off : SEG, mine;
		float *b = buf + off, *s, *out;

		for (int j = 0; j < R; j++) {
			m->displs[j] = (int)(len * (size_t)j / (size_t)R);
			m->counts[j] = (int)(len * (size_t)(j + 1) / (size_t)R) - m->displs[j];
		}
		mine = (size_t)m->counts[r];
		for (int j = 0; j < R; j++)
			m->rcounts[j] = (int)mine, m->rdispls[j] = (int)(mine * (size_t)j);
		if ((rc = scratch_reserve(m, (size_t)R * mine * sizeof(float) + 1, e)))
			return rc;
		s = m->scratch;
		if ((rc = MPI_Alltoallv(b, m->counts, m->displs, MPI_FLOAT, s, m->rcounts, m->rdispls, MPI_FLOAT,
					MPI_COMM_WORLD)) != MPI_SUCCESS)
			return mpi_fail(rc, "all-to-all", e);
		/* slice r: rank 0's, + rank 1's, + rank 2's, ... */
		out = b + m->displs[r];
		memcpy(out, s, mine * sizeof(float));
		for (int i = 1; i < R; i++) {
			const float *x = s + (size_t)i * mine;
			for (size_t t = 0; t < mine; t++)
				out[t] += x[t];
		}
		if ((rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, b, m->counts, m->displs, MPI_FLOAT,
					 MPI_COMM_WORLD)) != MPI_SUCCESS)
			return mpi_fail(rc, "all-gather", e);
	}
	return MG_OK;
}

/* Small vectors: every rank gets all of them and adds them in rank order. */
static int sum_f64(mg_comm *c, double *buf, size_t n, mg_err *e)
{
	comm_mpi *m = (comm_mpi *)c;
	int R = c->size, rc;
	double *s;

	if (R == 1 || n == 0)
		return MG_OK;
	if (n > (size_t)INT32_MAX / (size_t)R)
		return mg_err_set(e, MG_E_INVAL, "mpi: a sum of %zu doubles is too long", n);
	if ((rc = scratch_reserve(m, (size_t)R * n * sizeof(double), e)))
		return rc;
	s = m->scratch;
	if ((rc = MPI_Allgather(buf, (int)n, MPI_DOUBLE, s, (int)n, MPI_DOUBLE, MPI_COMM_WORLD)) != MPI_SUCCESS)
		return mpi_fail(rc, "all-gather", e);
	for (size_t t = 0; t < n; t++) {
		double v = s[t];
		for (int i = 1; i < R; i++)
			v += s[(size_t)i * n + t];
		buf[t] = v;
	}
	return MG_OK;
}

static int bcast(mg_comm *c, void *buf, size_t bytes, mg_err *e)
{
	int rc;

	for (size_t off = 0; off < bytes; off += SEG) {
		size_t len = bytes - off < SEG ? bytes - off : SEG;
		if ((rc = MPI_Bcast((char *)buf + off, (int)len, MPI_BYTE, 0, MPI_COMM_WORLD)) != MPI_SUCCESS)
			return mpi_fail(rc, "broadcast", e);
	}
	return MG_OK;
}

static int barrier(mg_comm *c, mg_err *e)
{
	int rc = MPI_Barrier(MPI_COMM_WORLD);

	return rc == MPI_SUCCESS ? MG_OK : mpi_fail(rc, "barrier", e);
}

static void abort_job(mg_comm *c, int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static void comm_free(mg_comm *c)
{
	comm_mpi *m = (comm_mpi *)c;

	MPI_Finalize();
	free(m->counts);
	free(m->scratch);
	free(m);
}

int mg_comm_mpi_open(mg_comm **out, mg_err *e)
{
	comm_mpi *m;
	int provided, rc;

	*out = NULL;
	if ((rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided)) != MPI_SUCCESS)
		return mg_err_set(e, MG_E_IO, "mpi: cannot initialise MPI (error %d)", rc);
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	if (!(m = calloc(1, sizeof *m))) {
		MPI_Finalize();
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &m->c.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &m->c.size);
	if (!(m->counts = calloc(4 * (size_t)m->c.size, sizeof(int)))) {
		free(m);
		MPI_Finalize();
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	m->displs = m->counts + m->c.size;
	m->rcounts = m->displs + m->c.size;
	m->rdispls = m->rcounts + m->c.size;
	m->c.name = "mpi";
	m->c.sum_f32 = sum_f32;
	m->c.sum_f64 = sum_f64;
	m->c.bcast = bcast;
	m->c.barrier = barrier;
	m->c.abort = abort_job;
	m->c.free = comm_free;
	*out = &m->c;
	return MG_OK;
}
