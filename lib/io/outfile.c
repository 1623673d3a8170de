/* Atomic output files: a locked temporary file beside the final name,
 * fsynced and renamed over it (git's lock files, in one place for every
 * writer), or the file itself for what cannot be replaced (devices, FIFOs,
 * terminals); the unlocked temporary files of a killed writer go. */
#define _GNU_SOURCE /* mkostemp */
#include "io/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* what follows ".NAME" in a temporary file's name: mkstemp's six letters
 * after it */
#define TMP_TAG ".mygpt-"
#define TMP_RETRIES 100

enum { OUT_STDOUT, OUT_IN_PLACE, OUT_TMP };

struct mg_outfile {
	FILE *f;
	int kind;    /* OUT_* */
	char *final; /* path (NULL for stdout) */
	char *tmp;   /* the temporary file while kind is OUT_TMP */
	int lock;    /* a duplicate of its descriptor that keeps the flock
		      * from fclose to the rename, or -1 */
	int fd;      /* f's descriptor, for fsync (f may be the test hook's) */
	int hooked;  /* the test hook kills the process in this file */
};

/* Lets the temporary file go: after its rename or removal. */
static void unlock(mg_outfile *o)
{
	if (o->lock >= 0)
		close(o->lock);
	o->lock = -1;
}

/* The temporary files not yet renamed or removed, for
 * mg_outfile_remove_pending: a fixed table, so that a signal handler reads
 * nothing that malloc owns. A slot is taken with a compare-and-swap and
 * cleared before its string is freed. */
#define PENDING_MAX 16
static char *volatile pending[PENDING_MAX];

static void pending_add(char *path)
{
	for (int i = 0; i < PENDING_MAX; i++) {
		char *none = NULL;
		if (__atomic_compare_exchange_n(&pending[i], &none, path, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
	/* full: the file is still written and renamed; only a signal would
	 * leave it behind */
}

static void pending_remove(const char *path)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (pending[i] == path)
			__atomic_store_n(&pending[i], NULL, __ATOMIC_SEQ_CST);
}

void mg_outfile_remove_pending(void)
{
	for (int i = 0; i < PENDING_MAX; i++) {
		char *p = __atomic_load_n(&pending[i], __ATOMIC_SEQ_CST);
		if (p)
			unlink(p);
	}
}

char *mg_outfile_tmp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0, n = strlen(path) + sizeof TMP_TAG + 8;
	char *t = malloc(n);

	/* same folder, so that rename is atomic: dir/.name.mygpt-XXXXXX */
	if (t)
		snprintf(t, n, "%.*s.%s" TMP_TAG "XXXXXX", (int)dlen, path, path + dlen);
	return t;
}

/* Whether name (a folder entry) is a temporary file of the output whose
 * base name is base: ".BASE.mygpt-" and six letters or digits. */
static int is_tmp_of(const char *name, const char *base)
{
	size_t bl = strlen(base), tl = sizeof TMP_TAG - 1;

	if (name[0] != '.' || strncmp(name + 1, base, bl) || strncmp(name + 1 + bl, TMP_TAG, tl))
		return 0;
	name += 1 + bl + tl;
	for (int i = 0; i < 6; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return name[6] == 0;
}

/* Removes the temporary files of path that no process holds: a writer
 * keeps an flock on its temporary file until it is renamed or removed, and
 * the kernel drops the lock when the writer dies (also of kill -9). A
 * writer that has created its file but not locked it yet may lose it here;
 * it notices and makes another (open_tmp). Best effort: what cannot be
 * read or removed is left. */
static void remove_stale(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	size_t dl = dir ? strlen(dir) : 0;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat fs, ps;
		char *p;
		int fd;

		if (!is_tmp_of(de->d_name, base) || !(p = malloc(dl + strlen(de->d_name) + 2)))
			continue;
		sprintf(p, "%s/%s", dir, de->d_name);
		fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		/* unlocked, a regular file, and still the file at that name */
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &fs) == 0 && S_ISREG(fs.st_mode) &&
		    lstat(p, &ps) == 0 && ps.st_dev == fs.st_dev && ps.st_ino == fs.st_ino)
			unlink(p);
		if (fd >= 0)
			close(fd); /* drops the lock */
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
}

/* Creates and locks the temporary file at template t (rewritten). The lock
 * is taken after the file exists, so a cleaner of another process may have
 * removed it in between: then it is no longer linked at t, and another is
 * made. Returns the descriptor, or -1 with errno. */
static int create_locked(char *t, const char *tmpl)
{
	for (int tries = 0; tries < TMP_RETRIES; tries++) {
		struct stat fs, ps;
		int fd;

		strcpy(t, tmpl);
		if ((fd = mkostemp(t, O_CLOEXEC)) < 0)
			return -1;
		if (flock(fd, LOCK_EX) || fstat(fd, &fs)) {
			int err = errno;
			close(fd);
			unlink(t);
			errno = err;
			return -1;
		}
		if (fs.st_nlink > 0 && lstat(t, &ps) == 0 && ps.st_dev == fs.st_dev && ps.st_ino == fs.st_ino)
			return fd;
		close(fd); /* removed by a cleaner before the lock: its name is free */
	}
	errno = EAGAIN;
	return -1;
}

/* The test hook (outfile.h): MYGPT_TEST_OUTFILE_KILL="N:K" sends SIGKILL
 * to the process once K bytes of the N-th temporary file it opens are
 * written, or just before its rename when it has fewer. The file is then
 * written through a stream whose writes reach the descriptor at once. */
typedef struct hook {
	int fd;
	unsigned long long written, k;
} hook;

static unsigned long long hook_n, hook_k, hook_opened;

static ssize_t hook_write(void *cookie, const char *buf, size_t n)
{
	hook *h = cookie;
	size_t left = n;

	if (h->written + n >= h->k) {
		left = (size_t)(h->k - h->written);
		n = left;
	}
	for (size_t at = 0; at < n;) {
		ssize_t w = write(h->fd, buf + at, n - at);
		if (w < 0)
			return -1;
		at += (size_t)w;
	}
	h->written += n;
	if (h->written >= h->k)
		kill(getpid(), SIGKILL);
	return (ssize_t)left;
}

static int hook_close(void *cookie)
{
	hook *h = cookie;
	int rc = close(h->fd);

	free(h);
	return rc;
}

/* Whether the next temporary file is the hook's (counting them). */
static int hook_next(void)
{
	static int parsed;

	if (!parsed) {
		const char *v = getenv("MYGPT_TEST_OUTFILE_KILL");
		parsed = 1;
		if (!v || sscanf(v, "%llu:%llu", &hook_n, &hook_k) != 2)
			hook_n = 0;
	}
	return hook_n && ++hook_opened == hook_n;
}

/* f over fd: a plain stream, or the hook's. */
static FILE *open_stream(mg_outfile *o, int fd)
{
	cookie_io_functions_t io = { NULL, hook_write, NULL, hook_close };
	hook *h;
	FILE *f;

	o->fd = fd;
	if (!o->hooked)
		return fdopen(fd, "wb");
	if (!(h = calloc(1, sizeof *h)))
		return NULL;
	h->fd = fd;
	h->k = hook_k;
	if (h->k == 0) /* at once, before a byte */
		kill(getpid(), SIGKILL);
	if (!(f = fopencookie(h, "wb", io)))
		free(h);
	return f;
}

static void hook_before_rename(const mg_outfile *o)
{
	if (o->hooked)
		kill(getpid(), SIGKILL);
}

/* The temporary file for path: created, locked and registered with every
 * signal blocked, so that a handler calling mg_outfile_remove_pending never
 * misses a file that exists. */
static int open_tmp(mg_outfile *o, const char *path, int hookable, mg_err *e)
{
	sigset_t all, old;
	char *tmpl;
	mode_t um;
	int fd;

	if (!(o->final = strdup(path)) || !(o->tmp = mg_outfile_tmp_template(path)) || !(tmpl = strdup(o->tmp)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	fd = create_locked(o->tmp, tmpl);
	if (fd >= 0)
		pending_add(o->tmp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(tmpl);
	if (fd < 0) {
		/* the template may now name someone else's file: forget it */
		int err = errno;
		free(o->tmp);
		o->tmp = NULL;
		return mg_err_set(e, MG_E_IO, "cannot create a temporary file beside it: %s", strerror(err));
	}
	/* mkstemp makes 0600; give the file what open(2) would */
	um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	o->kind = OUT_TMP;
	/* the lock belongs to the open file, so it lasts while either
	 * descriptor is open */
	o->hooked = hookable && hook_next();
	if ((o->lock = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0 || !(o->f = open_stream(o, fd))) {
		int err = errno;
		close(fd);
		return mg_err_set(e, MG_E_IO, "%s", strerror(err));
	}
	return MG_OK;
}

int mg_outfile_open(mg_outfile **out, const char *path, mg_err *e)
{
	mg_outfile *o = calloc(1, sizeof *o);
	struct stat st;
	int rc;

	*out = NULL;
	if (!o)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	o->lock = -1;
	if (!path) {
		o->kind = OUT_STDOUT;
		o->f = stdout;
		o->fd = STDOUT_FILENO;
		*out = o;
		return MG_OK;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* renaming over a device or a FIFO would replace it */
		o->kind = OUT_IN_PLACE;
		if (!(o->final = strdup(path))) {
			free(o);
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		}
		if (!(o->f = fopen(path, "wb"))) {
			rc = mg_err_set(e, MG_E_IO, "%s", strerror(errno));
			free(o->final);
			free(o);
			return rc;
		}
		o->fd = fileno(o->f);
		*out = o;
		return MG_OK;
	}
	remove_stale(path);
	if ((rc = open_tmp(o, path, 1, e))) {
		mg_outfile_abort(o);
		return rc;
	}
	*out = o;
	return MG_OK;
}

int mg_outfile_check(const char *path, int *tty, mg_err *e)
{
	mg_outfile o;
	struct stat st;
	int fd, rc;

	if (tty)
		*tty = 0;
	if (!path) {
		if (tty)
			*tty = isatty(STDOUT_FILENO);
		return MG_OK;
	}
	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		return access(path, W_OK) ? mg_err_set(e, MG_E_IO, "%s", strerror(errno)) : MG_OK;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if ((fd = open(path, O_WRONLY | O_NOCTTY)) < 0)
			return mg_err_set(e, MG_E_IO, "%s", strerror(errno));
		if (tty)
			*tty = isatty(fd);
		close(fd);
		return MG_OK;
	}
	memset(&o, 0, sizeof o);
	o.lock = -1;
	rc = open_tmp(&o, path, 0, e);
	if (o.f)
		fclose(o.f);
	if (o.tmp) {
		unlink(o.tmp);
		pending_remove(o.tmp);
	}
	unlock(&o);
	free(o.tmp);
	free(o.final);
	return rc;
}

FILE *mg_outfile_file(const mg_outfile *o) { return o->f; }
const char *mg_outfile_name(const mg_outfile *o) { return o->kind == OUT_STDOUT ? "<stdout>" : o->final; }
int mg_outfile_in_place(const mg_outfile *o) { return o->kind != OUT_TMP; }

static int can_fsync_fail(int err) { return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP; }

/* Flushes o's stream and fsyncs its file where it can be. */
static int flush_sync(mg_outfile *o, mg_err *e)
{
	if (fflush(o->f) || ferror(o->f))
		return mg_err_set(e, MG_E_IO, "write error: %s", strerror(errno));
	if (fsync(o->fd) && !can_fsync_fail(errno))
		return mg_err_set(e, MG_E_IO, "fsync: %s", strerror(errno));
	return MG_OK;
}

/* Renames the temporary file over the final name and fsyncs the folder, so
 * that the rename itself survives a crash. A folder that cannot be opened
 * for reading cannot be fsynced: that is not an error. */
static int rename_into_place(mg_outfile *o, mg_err *e)
{
	const char *slash = strrchr(o->final, '/');
	char *dir;
	int fd, rc = MG_OK;

	hook_before_rename(o);
	if (rename(o->tmp, o->final))
		return mg_err_set(e, MG_E_IO, "cannot rename the temporary file into place: %s", strerror(errno));
	pending_remove(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	o->kind = OUT_IN_PLACE;
	unlock(o);
	if (!slash)
		dir = strdup(".");
	else if ((dir = strdup(o->final)))
		dir[slash == o->final ? 1 : slash - o->final] = 0;
	if (!dir)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		if (fsync(fd) && !can_fsync_fail(errno))
			rc = mg_err_set(e, MG_E_IO, "fsync of its folder: %s", strerror(errno));
		close(fd);
	}
	free(dir);
	return rc;
}

int mg_outfile_publish(mg_outfile *o, mg_err *e)
{
	int rc;

	if (o->kind == OUT_STDOUT)
		return fflush(o->f) || ferror(o->f) ? mg_err_set(e, MG_E_IO, "write error: %s", strerror(errno)) : MG_OK;
	if ((rc = flush_sync(o, e)))
		goto fail;
	if (o->kind == OUT_TMP && (rc = rename_into_place(o, e)))
		goto fail;
	return MG_OK;
fail:
	if (o->tmp) {
		unlink(o->tmp);
		pending_remove(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		unlock(o);
		o->kind = OUT_IN_PLACE; /* nothing left to rename; abort closes */
	}
	return rc;
}

int mg_outfile_commit(mg_outfile *o, mg_err *e)
{
	int rc;

	if (o->kind == OUT_STDOUT) {
		rc = mg_outfile_publish(o, e);
		free(o);
		return rc;
	}
	if ((rc = flush_sync(o, e)))
		goto fail;
	rc = fclose(o->f);
	o->f = NULL;
	if (rc) {
		rc = mg_err_set(e, MG_E_IO, "write error: %s", strerror(errno));
		goto fail;
	}
	if (o->kind == OUT_TMP && (rc = rename_into_place(o, e)))
		goto fail;
	free(o->final);
	free(o);
	return MG_OK;
fail:
	mg_outfile_abort(o);
	return rc;
}

void mg_outfile_abort(mg_outfile *o)
{
	if (!o)
		return;
	if (o->f && o->kind != OUT_STDOUT)
		fclose(o->f);
	if (o->tmp) {
		unlink(o->tmp);
		pending_remove(o->tmp);
		free(o->tmp);
	}
	unlock(o);
	free(o->final);
	free(o);
}
