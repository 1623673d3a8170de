/* Atomic output files (lib/io/outfile.h): a regular file replaced whole by
 * a rename and nothing left behind, abort and the pending-file cleanup, a
 * FIFO and devices written in place, and errors as MG_E_IO. */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/outfile.h"

static char dir[256];

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

/* Entries of the scratch folder, "." and ".." aside; the first other than
 * skip in *first. */
static int entries(const char *skip, char *first, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int k = 0;

	if (first)
		first[0] = 0;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		k++;
		if (first && !first[0] && (!skip || strcmp(de->d_name, skip)))
			snprintf(first, n, "%s", de->d_name);
	}
	if (d)
		closedir(d);
	return k;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* The file's contents (at most n-1 bytes) in buf. */
static const char *read_file(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got = 0;

	if (f) {
		got = fread(buf, 1, n - 1, f);
		fclose(f);
	}
	buf[got] = 0;
	return f ? buf : "(missing)";
}

static void check_str(const char *got, const char *want, int line)
{
	if (strcmp(got, want)) {
		fprintf(stderr, "%s:%d: '%s', expected '%s'\n", __FILE__, line, got, want);
		check_failures++;
	}
}
#define CHECK_STR(a, b) check_str((a), (b), __LINE__)

static void test_template(void)
{
	char *t;

	CHECK_STR(t = mg_outfile_tmp_template("a/b/run.ckpt"), "a/b/.run.ckpt.XXXXXX");
	free(t);
	CHECK_STR(t = mg_outfile_tmp_template("x"), ".x.XXXXXX");
	free(t);
	CHECK_STR(t = mg_outfile_tmp_template("/top"), "/.top.XXXXXX");
	free(t);
}

static void test_regular(void)
{
	char path[512], buf[256], tmp[256];
	mg_outfile *o;
	struct stat st;
	mg_err e;
	mode_t um = umask(022);

	path_of(path, sizeof path, "out.txt");
	write_file(path, "old\n");
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	CHECK_EQ(mg_outfile_in_place(o), 0);
	CHECK_STR(mg_outfile_name(o), path);
	fputs("new contents\n", mg_outfile_file(o));
	/* until the commit the old file stands, beside the temporary one */
	CHECK_STR(read_file(path, buf, sizeof buf), "old\n");
	CHECK_EQ(entries("out.txt", tmp, sizeof tmp), 2);
	CHECK(!strncmp(tmp, ".out.txt.", 9) && strlen(tmp) == 15);
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK_STR(read_file(path, buf, sizeof buf), "new contents\n");
	CHECK_EQ(entries(NULL, NULL, 0), 1);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);

	/* a new file */
	path_of(path, sizeof path, "fresh.txt");
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	fputs("fresh\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK_STR(read_file(path, buf, sizeof buf), "fresh\n");
	unlink(path);
	umask(um);
}

static void test_abort_and_pending(void)
{
	char path[512], path2[512], buf[256];
	mg_outfile *o, *o2;
	mg_err e;

	path_of(path, sizeof path, "out.txt");
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	fputs("never seen\n", mg_outfile_file(o));
	mg_outfile_abort(o);
	CHECK_STR(read_file(path, buf, sizeof buf), "new contents\n");
	CHECK_EQ(entries(NULL, NULL, 0), 1);
	mg_outfile_abort(NULL);

	/* what a signal handler does: every temporary file goes */
	path_of(path2, sizeof path2, "other.txt");
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	CHECK_EQ(mg_outfile_open(&o2, path2, &e), MG_OK);
	CHECK_EQ(entries(NULL, NULL, 0), 3);
	mg_outfile_remove_pending();
	CHECK_EQ(entries(NULL, NULL, 0), 1);
	mg_outfile_abort(o);
	mg_outfile_abort(o2);
	CHECK_STR(read_file(path, buf, sizeof buf), "new contents\n");

	/* a committed file is no longer pending */
	CHECK_EQ(mg_outfile_open(&o, path2, &e), MG_OK);
	fputs("kept\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	mg_outfile_remove_pending();
	CHECK_STR(read_file(path2, buf, sizeof buf), "kept\n");
	unlink(path2);
}

static void test_publish(void)
{
	char path[512], buf[256];
	mg_outfile *o;
	mg_err e;

	path_of(path, sizeof path, "log.tsv");
	write_file(path, "old log\n");
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	fputs("header\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_publish(o, &e), MG_OK);
	CHECK_EQ(mg_outfile_in_place(o), 1);
	CHECK_STR(read_file(path, buf, sizeof buf), "header\n");
	CHECK_EQ(entries(NULL, NULL, 0), 2); /* out.txt and log.tsv */
	fputs("row\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK_STR(read_file(path, buf, sizeof buf), "header\nrow\n");
	unlink(path);
}

static void test_fifo(void)
{
	char path[512], buf[64];
	mg_outfile *o;
	struct stat st;
	mg_err e;
	int rd;
	ssize_t got;

	path_of(path, sizeof path, "fifo");
	CHECK(mkfifo(path, 0600) == 0);
	/* a reader first, so that opening for writing does not block */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(rd >= 0);
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	CHECK_EQ(mg_outfile_in_place(o), 1);
	fputs("through the pipe", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK); /* fsync's EINVAL is no error */
	got = read(rd, buf, sizeof buf - 1);
	buf[got > 0 ? got : 0] = 0;
	CHECK_STR(buf, "through the pipe");
	close(rd);
	CHECK(stat(path, &st) == 0 && S_ISFIFO(st.st_mode));
	CHECK_EQ(entries(NULL, NULL, 0), 2); /* out.txt and fifo: no temporary file */
	unlink(path);
}

static void test_devices_and_errors(void)
{
	char path[512], big[8192];
	mg_outfile *o;
	struct stat st;
	mg_err e;

	/* /dev/null: in place, never renamed over */
	CHECK_EQ(mg_outfile_open(&o, "/dev/null", &e), MG_OK);
	CHECK_EQ(mg_outfile_in_place(o), 1);
	fputs("gone", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));

	/* /dev/full: the write error is MG_E_IO, the device stays */
	if (stat("/dev/full", &st) == 0) {
		memset(big, 'x', sizeof big);
		CHECK_EQ(mg_outfile_open(&o, "/dev/full", &e), MG_OK);
		CHECK_STR(mg_outfile_name(o), "/dev/full");
		fwrite(big, 1, sizeof big, mg_outfile_file(o));
		memset(&e, 0, sizeof e);
		CHECK_EQ(mg_outfile_commit(o, &e), MG_E_IO);
		CHECK_EQ(e.code, MG_E_IO);
		CHECK_STR(e.msg, "write error: No space left on device");
		CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
		/* the same with nothing written before the commit's flush */
		CHECK_EQ(mg_outfile_open(&o, "/dev/full", &e), MG_OK);
		fputs("x", mg_outfile_file(o));
		CHECK_EQ(mg_outfile_commit(o, &e), MG_E_IO);
		CHECK_STR(e.msg, "write error: No space left on device");
	}

	/* no folder to put the temporary file in */
	path_of(path, sizeof path, "missing/x.ckpt");
	o = (mg_outfile *)1;
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_E_IO);
	CHECK(o == NULL);
	CHECK_STR(e.msg, "cannot create a temporary file beside it: No such file or directory");

	/* a folder at the final name is not a regular file: opened in place,
	 * which fails */
	path_of(path, sizeof path, "adir");
	CHECK(mkdir(path, 0700) == 0);
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_E_IO);
	CHECK_STR(e.msg, "Is a directory");
	rmdir(path);

	/* the rename fails: a folder took the final name after the open */
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	fputs("x", mg_outfile_file(o));
	CHECK(mkdir(path, 0700) == 0);
	path_of(big, sizeof big, "adir/keep");
	write_file(big, "");
	CHECK_EQ(mg_outfile_commit(o, &e), MG_E_IO);
	CHECK_STR(e.msg, "cannot rename the temporary file into place: Is a directory");
	CHECK_EQ(entries(NULL, NULL, 0), 2); /* out.txt and adir: the temporary file removed */
	unlink(big);
	rmdir(path);
}

/* The check before long work: nothing changes at the path. */
static void test_check(void)
{
	char path[512], buf[64];
	mg_err e;
	int tty = -1;

	path_of(path, sizeof path, "out.txt");
	CHECK_EQ(mg_outfile_check(path, &tty, &e), MG_OK);
	CHECK_EQ(tty, 0);
	CHECK_STR(read_file(path, buf, sizeof buf), "new contents\n");
	path_of(path, sizeof path, "none.txt");
	CHECK_EQ(mg_outfile_check(path, NULL, &e), MG_OK);
	CHECK_EQ(entries(NULL, NULL, 0), 1);
	CHECK_EQ(mg_outfile_check("/dev/null", &tty, &e), MG_OK);
	CHECK_EQ(tty, 0);
	path_of(path, sizeof path, "missing/x");
	CHECK_EQ(mg_outfile_check(path, NULL, &e), MG_E_IO);
	CHECK_STR(e.msg, "cannot create a temporary file beside it: No such file or directory");
	/* a FIFO is not opened (which would wait for a reader, and then hand it
	 * an end of file): without a reader the check returns at once, or the
	 * alarm kills the test */
	path_of(path, sizeof path, "fifo");
	CHECK(mkfifo(path, 0600) == 0);
	alarm(10);
	CHECK_EQ(mg_outfile_check(path, &tty, &e), MG_OK);
	alarm(0);
	CHECK_EQ(tty, 0);
	unlink(path);
	CHECK_EQ(mg_outfile_check(NULL, &tty, &e), MG_OK);
	CHECK_EQ(tty, isatty(STDOUT_FILENO));
}

static void test_stdout(void)
{
	mg_outfile *o;
	mg_err e;

	CHECK_EQ(mg_outfile_open(&o, NULL, &e), MG_OK);
	CHECK(mg_outfile_file(o) == stdout);
	CHECK_STR(mg_outfile_name(o), "<stdout>");
	CHECK_EQ(mg_outfile_in_place(o), 1);
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK(fcntl(STDOUT_FILENO, F_GETFD) != -1); /* not closed */
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof dir, "%s/test_outfile.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	test_template();
	test_regular();
	test_abort_and_pending();
	test_publish();
	test_fifo();
	test_devices_and_errors();
	test_check();
	test_stdout();
	{
		char path[512];
		path_of(path, sizeof path, "out.txt");
		unlink(path);
		rmdir(dir);
	}
	CHECK_DONE();
}
