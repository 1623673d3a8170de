/* The metrics log of train_log.h: kept rows read whole (a log is small:
 * one row per log interval), filtered by step, published, then appended. */
#include "train/train_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/outfile.h"

const char mg_train_log_header[] =
	"step\ttokens\ttrain_loss\tval_loss\tlr\tgrad_norm\ttokens_per_s\tval_targets\tms_per_step\tgflop_per_s\n";
/* The header of the first version's logs: its rows are kept with the new
 * columns "nan" */
static const char header_v1[] = "step\ttokens\ttrain_loss\tval_loss\tlr\tgrad_norm\ttokens_per_s\n";

struct mg_train_log {
	mg_outfile *of;
	FILE *f;
};

/* The whole of the file at path into *text (NUL-terminated), *len bytes;
 * *text NULL when there is no such file. */
static int read_old(const char *path, char **text, size_t *len, mg_err *e)
{
	size_t cap = 0, got;
	char *old = NULL;
	FILE *f = fopen(path, "rb");

	*text = NULL;
	*len = 0;
	if (!f)
		return MG_OK; /* nothing to keep (opening it for writing reports why, if it matters) */
	do {
		char *p = realloc(old, cap = cap * 2 + 65536);
		if (!p) {
			free(old);
			fclose(f);
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		}
		old = p;
		*len += got = fread(old + *len, 1, cap - *len - 1, f);
	} while (got);
	if (ferror(f)) {
		int err = errno;
		free(old);
		fclose(f);
		return mg_err_set(e, MG_E_IO, "read error: %s", strerror(err));
	}
	fclose(f);
	old[*len] = 0;
	*text = old;
	return MG_OK;
}

int mg_train_log_open(mg_train_log **log, const char *path, uint64_t step, mg_err *e)
{
	size_t hlen = sizeof mg_train_log_header - 1, len = 0;
	int v1 = 0;
	mg_train_log *l;
	char *old = NULL;
	int rc;

	*log = NULL;
	if (!(l = calloc(1, sizeof *l)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	if ((rc = mg_outfile_open(&l->of, path, e))) {
		free(l);
		return rc;
	}
	if (step > 0 && !mg_outfile_in_place(l->of)) {
		if ((rc = read_old(path, &old, &len, e)))
			goto fail;
		if (len && !strncmp(old, header_v1, sizeof header_v1 - 1)) {
			v1 = 1;
			hlen = sizeof header_v1 - 1;
		} else if (len && strncmp(old, mg_train_log_header, hlen)) {
			rc = mg_err_set(e, MG_E_CORRUPT, "not a gpt-train log (the first line is not its header): not changing it");
			goto fail;
		}
	}
	l->f = mg_outfile_file(l->of);
	fputs(mg_train_log_header, l->f);
	for (char *row = len ? old + hlen : NULL; row && *row;) {
		char *nl = strchr(row, '\n'), *end;
		unsigned long long s = strtoull(row, &end, 10);

		if (!nl)
			break; /* a row cut short by kill -9 */
		if (end != row && *end == '\t' && s <= step) {
			fwrite(row, 1, (size_t)(nl - row) + (v1 ? 0 : 1), l->f);
			if (v1)
				fputs("\tnan\tnan\tnan\n", l->f);
		}
		row = nl + 1;
	}
	free(old);
	old = NULL;
	if ((rc = mg_outfile_publish(l->of, e)))
		goto fail;
	*log = l;
	return MG_OK;
fail:
	free(old);
	mg_outfile_abort(l->of);
	free(l);
	return rc;
}

int mg_train_log_write(mg_train_log *log, const mg_train_log_row *r, mg_err *e)
{
	FILE *f = log->f;

	fprintf(f, "%llu\t%llu\t%.6f\t", (unsigned long long)r->step, (unsigned long long)r->tokens, r->train_loss);
	if (isfinite(r->val_loss))
		fprintf(f, "%.6f", r->val_loss);
	else
		fputs("nan", f);
	fprintf(f, "\t%.6e\t%.6f\t%.1f\t%llu\t%.3f\t%.3f\n", r->lr, r->grad_norm, r->tokens_per_s,
		(unsigned long long)r->val_targets, r->ms_per_step, r->gflop_per_s);
	if (fflush(f) || ferror(f))
		return mg_err_set(e, MG_E_IO, "write error: %s", strerror(errno));
	return MG_OK;
}

int mg_train_log_close(mg_train_log *log, mg_err *e)
{
	int rc = mg_outfile_commit(log->of, e);

	free(log);
	return rc;
}

void mg_train_log_abort(mg_train_log *log)
{
	if (!log)
		return;
	mg_outfile_abort(log->of); /* published: keeps its rows */
	free(log);
}
