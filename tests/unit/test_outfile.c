/* Atomic output files (lib/io/outfile.h): a regular file replaced whole by
 * a rename and nothing left behind, abort and the pending-file cleanup, the
 * removal of a killed writer's temporary files (and only those), concurrent
 * writers, a FIFO and devices written in place, and errors as MG_E_IO. */
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

	CHECK_STR(t = mg_outfile_tmp_template("a/b/run.ckpt"), "a/b/.run.ckpt.mygpt-XXXXXX");
	free(t);
	CHECK_STR(t = mg_outfile_tmp_template("x"), ".x.mygpt-XXXXXX");
	free(t);
	CHECK_STR(t = mg_outfile_tmp_template("/top"), "/.top.mygpt-XXXXXX");
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
	CHECK(!strncmp(tmp, ".out.txt.mygpt-", 15) && strlen(tmp) == 21);
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

static int exists(const char *name)
{
	char p[512];
	struct stat st;

	path_of(p, sizeof p, name);
	return lstat(p, &st) == 0;
}

/* Temporary files left by a killed writer go at the next open of the same
 * name; those held by a live writer, those of other names and files that
 * only look alike stay. */
static void test_stale(void)
{
	static const char *keep[] = { ".out.txt.mygpt-short", ".other.txt.mygpt-Abc123", ".out.txt.Abc123",
				      ".out.txt.mygpt-Abc1234", "out.txt.mygpt-Abc123" };
	char path[512], p[512], buf[256];
	mg_outfile *o, *o2;
	mg_err e;
	int held, n0;

	path_of(path, sizeof path, "out.txt");
	n0 = entries(NULL, NULL, 0);
	path_of(p, sizeof p, ".out.txt.mygpt-Abc123");
	write_file(p, "stale");
	path_of(p, sizeof p, ".out.txt.mygpt-Lck456"); /* a live writer's */
	write_file(p, "live");
	held = open(p, O_RDONLY);
	CHECK(held >= 0 && flock(held, LOCK_EX) == 0);
	path_of(p, sizeof p, ".out.txt.mygpt-Sym789"); /* not a regular file */
	CHECK(symlink("out.txt", p) == 0);
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
		path_of(p, sizeof p, keep[i]);
		write_file(p, "x");
	}
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	CHECK(!exists(".out.txt.mygpt-Abc123"));
	CHECK(exists(".out.txt.mygpt-Lck456"));
	CHECK(exists(".out.txt.mygpt-Sym789"));
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
		CHECK(exists(keep[i]));
	/* a second writer of the same name leaves the first one's file */
	CHECK_EQ(mg_outfile_open(&o2, path, &e), MG_OK);
	fputs("second\n", mg_outfile_file(o2));
	fputs("first\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK_EQ(mg_outfile_commit(o2, &e), MG_OK);
	CHECK_STR(read_file(path, buf, sizeof buf), "second\n");
	CHECK_EQ(entries(NULL, NULL, 0), n0 + 7);
	/* the live writer dies: its file goes at the next open */
	close(held);
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	CHECK(!exists(".out.txt.mygpt-Lck456"));
	fputs("new contents\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	path_of(p, sizeof p, ".out.txt.mygpt-Sym789");
	unlink(p);
	for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
		path_of(p, sizeof p, keep[i]);
		unlink(p);
	}
	CHECK_EQ(entries(NULL, NULL, 0), n0);
}

/* A writer killed with SIGKILL while its output is open leaves its
 * temporary file (nothing runs in the process); the next open removes it.
 * The child says through a pipe when its file exists. */
static void test_killed(void)
{
	char path[512], first[256];
	mg_outfile *o;
	mg_err e;
	int fds[2], st, n0 = entries(NULL, NULL, 0);
	char c;
	pid_t pid;

	path_of(path, sizeof path, "killed.txt");
	CHECK(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (mg_outfile_open(&o, path, &e))
			_exit(1);
		fputs("half", mg_outfile_file(o));
		fflush(mg_outfile_file(o));
		if (write(fds[1], "y", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));
	CHECK_EQ(entries("out.txt", first, sizeof first), n0 + 1);
	CHECK(!strncmp(first, ".killed.txt.mygpt-", 18));
	CHECK_EQ(mg_outfile_open(&o, path, &e), MG_OK);
	fputs("whole\n", mg_outfile_file(o));
	CHECK_EQ(mg_outfile_commit(o, &e), MG_OK);
	CHECK_EQ(entries(NULL, NULL, 0), n0 + 1); /* killed.txt only */
	unlink(path);
}

/* Writers in several processes replace the same name over and over, each
 * opening (and so cleaning) while the others write: no live writer loses
 * its temporary file (its rename would fail), the file is always one whole
 * version, and nothing is left. */
static void test_concurrent(void)
{
	enum { WRITERS = 4, ROUNDS = 60, LINES = 200 };
	char path[512], buf[16384];
	pid_t pids[WRITERS];
	int n0 = entries(NULL, NULL, 0), failed = 0;

	path_of(path, sizeof path, "shared.txt");
	for (int w = 0; w < WRITERS; w++) {
		if ((pids[w] = fork()) == 0) {
			for (int r = 0; r < ROUNDS; r++) {
				mg_outfile *o;
				mg_err e;
				if (mg_outfile_open(&o, path, &e)) {
					fprintf(stderr, "writer %d: open: %s\n", w, e.msg);
					_exit(1);
				}
				for (int l = 0; l < LINES; l++)
					fprintf(mg_outfile_file(o), "%d %d\n", w, r);
				if (mg_outfile_commit(o, &e)) {
					fprintf(stderr, "writer %d: commit: %s\n", w, e.msg);
					_exit(1);
				}
				/* a reader sees one whole version */
				FILE *f = fopen(path, "rb");
				size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
				int a, b, k = 0, first_a = -1, first_b = -1;
				char *q = buf;
				if (f)
					fclose(f);
				buf[got] = 0;
				for (int used; sscanf(q, "%d %d\n%n", &a, &b, &used) == 2; q += used, k++) {
					if (first_a < 0)
						first_a = a, first_b = b;
					if (a != first_a || b != first_b)
						_exit(2);
				}
				if (k != LINES)
					_exit(3);
			}
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;
		if (waitpid(pids[w], &st, 0) != pids[w] || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	CHECK_EQ(failed, 0);
	CHECK_EQ(entries(NULL, NULL, 0), n0 + 1); /* shared.txt only */
	unlink(path);
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
	test_stale();
	test_killed();
	test_concurrent();
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
