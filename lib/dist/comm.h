/* The communicator of a data-parallel run: the ranks of the job, and the
 * few collective operations training needs (sums, a broadcast, a barrier),
 * as a table of functions so that the trainer never sees MPI: the
 * one-process communicator is always built; MPI's (dist/comm_mpi.h) only
 * when the build finds mpicc, and only gpt-train links it. */
#ifndef MG_COMM_H
#define MG_COMM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

typedef struct mg_comm mg_comm;

/* Every collective must be called by every rank, in the same order, with
 * the same sizes; they return MG_OK or MG_E_IO with the transport's
 * message (a transport that cannot fail, the one-process one, never
 * fails). Not thread-safe: one call at a time. */
struct mg_comm {
	const char *name; /* "single", "mpi" */
	int rank, size;   /* 0 <= rank < size */
	/* buf (n floats) becomes on every rank the sum of the ranks' buffers,
	 * added in rank order, (...((b_0 + b_1) + b_2) ...) + b_{size-1},
	 * whatever the transport's topology: the same bits on every rank, and
	 * with 2 ranks the bits of b_0 + b_1 computed in one process. */
	int (*sum_f32)(mg_comm *c, float *buf, size_t n, mg_err *e);
	/* The same for n doubles (small vectors: losses and counts). */
	int (*sum_f64)(mg_comm *c, double *buf, size_t n, mg_err *e);
	/* buf (bytes) on every rank becomes rank 0's. */
	int (*bcast)(mg_comm *c, void *buf, size_t bytes, mg_err *e);
	/* Returns when every rank has called it. */
	int (*barrier)(mg_comm *c, mg_err *e);
	/* Ends every process of the job with exit status code (the transport
	 * tells its launcher to); for the one process, _exit(code). For a
	 * rank that fails alone while the others wait in a collective. */
	void (*abort)(mg_comm *c, int code);
	/* Leaves the job (MPI_Finalize) and frees c; NULL for a static one. */
	void (*free)(mg_comm *c);
};

/* The communicator of one process: rank 0 of 1; the sums leave buf as it
 * is. Static: never freed. */
mg_comm *mg_comm_single(void);

/* The ranks an MPI launcher started this process among, from the
 * variables it sets (Open MPI's mpirun: OMPI_COMM_WORLD_SIZE; MPICH's and
 * Slurm's PMI: PMI_SIZE; PMIx under srun: SLURM_STEP_NUM_TASKS, or 1 when
 * it is unset); 0 for a process started by hand. */
int mg_comm_launched(void);

/* Collective: rank 0 reads f (ignored elsewhere) to its end and every rank
 * gets its bytes in *buf (n bytes, malloc'd, the caller frees). Rank 0's
 * read error is rank 0's return (MG_E_IO with strerror, MG_E_NOMEM) and
 * MG_E_IO "rank 0 could not read it" on the other ranks. */
int mg_comm_bcast_file(mg_comm *c, FILE *f, uint8_t **buf, size_t *n, mg_err *e);

/* Collective: whether every rank holds the same bytes v as rank 0:
 * *differs is the first rank whose bytes differ, on every rank, or -1. */
int mg_comm_check_same(mg_comm *c, const void *v, size_t bytes, int *differs, mg_err *e);

/* Collective: each of the n values of v becomes, on every rank, the value
 * of the lowest rank whose value is not 0 (0 when none is): the ranks
 * agree on one event that some of them saw (a signal, a reason to stop). */
int mg_comm_first_nonzero(mg_comm *c, int *v, size_t n, mg_err *e);

static inline int mg_comm_sum_f32(mg_comm *c, float *buf, size_t n, mg_err *e) { return c->sum_f32(c, buf, n, e); }
static inline int mg_comm_sum_f64(mg_comm *c, double *buf, size_t n, mg_err *e) { return c->sum_f64(c, buf, n, e); }
static inline int mg_comm_bcast(mg_comm *c, void *buf, size_t bytes, mg_err *e) { return c->bcast(c, buf, bytes, e); }
static inline int mg_comm_barrier(mg_comm *c, mg_err *e) { return c->barrier(c, e); }
static inline void mg_comm_abort(mg_comm *c, int code) { c->abort(c, code); }
static inline void mg_comm_free(mg_comm *c)
{
	if (c && c->free)
		c->free(c);
}

#endif
