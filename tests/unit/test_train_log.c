/* The metrics log (lib/train/train_log.h): the exact text of rows, a
 * resumed log keeping only the rows up to its step (a row cut short by a
 * kill dropped; a first-version log's rows given the new columns as nan),
 * a file that is not a log left untouched, and a device written in place. */
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h> /* rmdir, unlink */

#include "train/train_log.h"

static char dir[256], path[300];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static const char *read_file(char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got = 0;

	if (f) {
		got = fread(buf, 1, n - 1, f);
		fclose(f);
	}
	buf[got] = 0;
	return buf;
}

static void row(mg_train_log *l, uint64_t step, double val)
{
	mg_train_log_row r = { .step = step, .tokens = step * 100, .train_loss = 2.5 / (double)step,
			       .val_loss = val, .lr = 6e-4, .grad_norm = 0.75, .tokens_per_s = 12345.67,
			       .val_targets = isfinite(val) ? 640 : 0, .ms_per_step = 12.3456, .gflop_per_s = 1.5 };
	mg_err e;

	CHECK_EQ(mg_train_log_write(l, &r, &e), MG_OK);
}

int main(void)
{
	char buf[4096];
	mg_train_log *l;
	mg_err e;

	snprintf(dir, sizeof dir, "%s/test_train_log.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/log.tsv", dir);

	/* a new log: header and rows, val_loss "nan" when not finite */
	CHECK_EQ(mg_train_log_open(&l, path, 0, &e), MG_OK);
	row(l, 1, NAN);
	row(l, 2, 1.25);
	row(l, 3, INFINITY);
	CHECK_EQ(mg_train_log_close(l, &e), MG_OK);
#define H "step\ttokens\ttrain_loss\tval_loss\tlr\tgrad_norm\ttokens_per_s\tval_targets\tms_per_step\tgflop_per_s\n"
#define H1 "step\ttokens\ttrain_loss\tval_loss\tlr\tgrad_norm\ttokens_per_s\n"
	CHECK(!strcmp(read_file(buf, sizeof buf),
		      H "1\t100\t2.500000\tnan\t6.000000e-04\t0.750000\t12345.7\t0\t12.346\t1.500\n"
			"2\t200\t1.250000\t1.250000\t6.000000e-04\t0.750000\t12345.7\t640\t12.346\t1.500\n"
			"3\t300\t0.833333\tnan\t6.000000e-04\t0.750000\t12345.7\t0\t12.346\t1.500\n"));
	CHECK(!strcmp(mg_train_log_header, H));

	/* resumed at step 2: rows after it go (a killed run's), a cut row too */
	write_file(H "1\t100\t1\tnan\t1\t1\t1\t0\t1\t1\n2\t200\t1\tnan\t1\t1\t1\t0\t1\t1\n"
		     "3\t300\t1\tnan\t1\t1\t1\t0\t1\t1\n4\t40");
	CHECK_EQ(mg_train_log_open(&l, path, 2, &e), MG_OK);
	/* the kept rows are in place before any new one */
	CHECK(!strcmp(read_file(buf, sizeof buf), H "1\t100\t1\tnan\t1\t1\t1\t0\t1\t1\n2\t200\t1\tnan\t1\t1\t1\t0\t1\t1\n"));
	row(l, 4, NAN);
	CHECK_EQ(mg_train_log_close(l, &e), MG_OK);
	CHECK(!strcmp(read_file(buf, sizeof buf),
		      H "1\t100\t1\tnan\t1\t1\t1\t0\t1\t1\n2\t200\t1\tnan\t1\t1\t1\t0\t1\t1\n"
			"4\t400\t0.625000\tnan\t6.000000e-04\t0.750000\t12345.7\t0\t12.346\t1.500\n"));

	/* a log of the first version (7 columns): its rows kept with the new
	 * columns nan, under the new header */
	write_file(H1 "1\t100\t1\tnan\t1\t1\t1\n2\t200\t1\tnan\t1\t1\t1\n3\t30");
	CHECK_EQ(mg_train_log_open(&l, path, 2, &e), MG_OK);
	CHECK_EQ(mg_train_log_close(l, &e), MG_OK);
	CHECK(!strcmp(read_file(buf, sizeof buf),
		      H "1\t100\t1\tnan\t1\t1\t1\tnan\tnan\tnan\n2\t200\t1\tnan\t1\t1\t1\tnan\tnan\tnan\n"));
#undef H
#undef H1

	/* abort keeps what was written */
	CHECK_EQ(mg_train_log_open(&l, path, 4, &e), MG_OK);
	row(l, 5, 2.0);
	mg_train_log_abort(l);
	mg_train_log_abort(NULL);
	CHECK(strstr(read_file(buf, sizeof buf), "\n5\t500\t0.500000\t2.000000\t") != NULL);

	/* not a log: refused, the file untouched, no temporary file left */
	write_file("hello\n");
	CHECK_EQ(mg_train_log_open(&l, path, 3, &e), MG_E_CORRUPT);
	CHECK(l == NULL);
	CHECK(!strcmp(e.msg, "not a gpt-train log (the first line is not its header): not changing it"));
	CHECK(!strcmp(read_file(buf, sizeof buf), "hello\n"));
	/* ... but a new run (step 0) replaces it */
	CHECK_EQ(mg_train_log_open(&l, path, 0, &e), MG_OK);
	CHECK_EQ(mg_train_log_close(l, &e), MG_OK);
	CHECK(!strcmp(read_file(buf, sizeof buf), mg_train_log_header));

	/* a device is written in place and stays one; a full one fails */
	CHECK_EQ(mg_train_log_open(&l, "/dev/null", 7, &e), MG_OK);
	row(l, 8, NAN);
	CHECK_EQ(mg_train_log_close(l, &e), MG_OK);
	{
		struct stat st;
		int rc = mg_train_log_open(&l, "/dev/full", 0, &e);

		/* the header is flushed at open, so the failure shows at once */
		CHECK_EQ(rc, MG_E_IO);
		CHECK(l == NULL);
		CHECK(!strcmp(e.msg, "write error: No space left on device"));
		CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
	}

	/* the scratch folder holds the log alone: no temporary file behind */
	unlink(path);
	CHECK_EQ(rmdir(dir), 0);
	CHECK_DONE();
}
