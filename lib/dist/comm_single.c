/* The one-process communicator: rank 0 of 1, every collective the
 * identity (dist/comm.h). */
#include "dist/comm.h"

#include <unistd.h>

static int sum_f32(mg_comm *c, float *buf, size_t n, mg_err *e) { return MG_OK; }
static int sum_f64(mg_comm *c, double *buf, size_t n, mg_err *e) { return MG_OK; }
static int bcast(mg_comm *c, void *buf, size_t bytes, mg_err *e) { return MG_OK; }
static int barrier(mg_comm *c, mg_err *e) { return MG_OK; }
static void abort_job(mg_comm *c, int code) { _exit(code); }

static mg_comm single = { "single", 0, 1, sum_f32, sum_f64, bcast, barrier, abort_job, NULL };

mg_comm *mg_comm_single(void) { return &single; }
