/* MPI's communicator (dist/comm.h) over MPI_COMM_WORLD. Built only when
 * the build finds mpicc (MG_HAVE_MPI), and linked only into gpt-train:
 * the other tools never load libmpi. */
#ifndef MG_COMM_MPI_H
#define MG_COMM_MPI_H

#include "core/err.h"
#include "dist/comm.h"

/* Initialises MPI (MPI_Init_thread, only the main thread calling it) and
 * returns the communicator of every rank of MPI_COMM_WORLD, whose errors
 * return as MG_E_IO instead of ending the job. The sum is a reduce-scatter
 * (MPI_Alltoallv: rank r gets every rank's r-th slice and adds them in
 * rank order) then an MPI_Allgatherv of the slices: the bytes of a ring
 * all-reduce, 2 (n-1)/n of the buffer sent and received by each rank, and
 * the same bits on every rank. MG_E_IO, MG_E_NOMEM. */
int mg_comm_mpi_open(mg_comm **c, mg_err *e);

#endif
