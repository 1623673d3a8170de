/* The metrics log of a training run (gpt-train --log): tab-separated
 * values, a header line, then one row per log interval. Resuming keeps the
 * rows up to the resumed step (those a killed run logged after its last
 * checkpoint are dropped) and appends; the kept rows replace the file whole
 * before any new row is written (io/outfile.h), and a device or a FIFO is
 * written in place. */
#ifndef MG_TRAIN_LOG_H
#define MG_TRAIN_LOG_H

#include <stdint.h>

#include "core/err.h"

/* The header line, with its newline: the columns of mg_train_log_row. */
extern const char mg_train_log_header[];

typedef struct mg_train_log_row {
	uint64_t step, tokens;
	double train_loss; /* the mean over the interval's steps */
	double val_loss;   /* not finite: no evaluation in the interval ("nan") */
	double lr, grad_norm, tokens_per_s;
	uint64_t val_targets; /* targets the val_loss covers; 0 without an evaluation */
	double ms_per_step, gflop_per_s; /* means over the interval's steps */
} mg_train_log_row;

typedef struct mg_train_log mg_train_log;

/* Opens the log at path for a run at step (0: a new log, any old file
 * replaced). When step > 0 and path is a regular file that exists, its
 * rows of steps <= step are kept (a last row cut short is dropped).
 * MG_E_IO (strerror: cannot open, read or write), MG_E_CORRUPT ("not a
 * gpt-train log (the first line is not its header): not changing it", path
 * untouched), MG_E_NOMEM. Messages do not name the file. */
int mg_train_log_open(mg_train_log **log, const char *path, uint64_t step, mg_err *e);
/* Appends a row and flushes it, so that it survives a kill. MG_E_IO
 * ("write error: ..."). */
int mg_train_log_write(mg_train_log *log, const mg_train_log_row *row, mg_err *e);
/* Closes the log, fsyncing it (the rows are in place since open). Frees
 * log, also on error. MG_E_IO. */
int mg_train_log_close(mg_train_log *log, mg_err *e);
/* Closes without checks, keeping what was written (a run that stops on an
 * error). log may be NULL. */
void mg_train_log_abort(mg_train_log *log);

#endif
