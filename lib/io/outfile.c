/* Atomic output files: a temporary file beside the final name, fsynced and
 * renamed over it (git's lock files, in one place for every writer), or the
 * file itself for what cannot be replaced (devices, FIFOs, terminals). */
#include "io/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OUT_STDOUT, OUT_IN_PLACE, OUT_TMP };

struct mg_outfile {
	FILE *f;
	int kind;    /* OUT_* */
	char *final; /* path (NULL for stdout) */
	char *tmp;   /* the temporary file while kind is OUT_TMP */
};

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
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0, n = strlen(path) + 9;
	char *t = malloc(n);

	/* same folder, so that rename is atomic: dir/.name.XXXXXX */
	if (t)
		snprintf(t, n, "%.*s.%s.XXXXXX", (int)dlen, path, path + dlen);
	return t;
}

/* The temporary file for path: created and registered with every signal
 * blocked, so that a handler calling mg_outfile_remove_pending never misses
 * a file that exists. */
static int open_tmp(mg_outfile *o, const char *path, mg_err *e)
{
	sigset_t all, old;
	mode_t um;
	int fd;

	if (!(o->final = strdup(path)) || !(o->tmp = mg_outfile_tmp_template(path)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	fd = mkstemp(o->tmp);
	if (fd >= 0)
		pending_add(o->tmp);
	sigprocmask(SIG_SETMASK, &old, NULL);
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
	if (!(o->f = fdopen(fd, "wb"))) {
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
	if (!path) {
		o->kind = OUT_STDOUT;
		o->f = stdout;
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
		*out = o;
		return MG_OK;
	}
	if ((rc = open_tmp(o, path, e))) {
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
	rc = open_tmp(&o, path, e);
	if (o.f)
		fclose(o.f);
	if (o.tmp) {
		unlink(o.tmp);
		pending_remove(o.tmp);
	}
	free(o.tmp);
	free(o.final);
	return rc;
}

FILE *mg_outfile_file(const mg_outfile *o) { return o->f; }
const char *mg_outfile_name(const mg_outfile *o) { return o->kind == OUT_STDOUT ? "<stdout>" : o->final; }
int mg_outfile_in_place(const mg_outfile *o) { return o->kind != OUT_TMP; }

static int can_fsync_fail(int err) { return err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP; }

/* Flushes f and fsyncs it where it can be. */
static int flush_sync(FILE *f, mg_err *e)
{
	if (fflush(f) || ferror(f))
		return mg_err_set(e, MG_E_IO, "write error: %s", strerror(errno));
	if (fsync(fileno(f)) && !can_fsync_fail(errno))
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

	if (rename(o->tmp, o->final))
		return mg_err_set(e, MG_E_IO, "cannot rename the temporary file into place: %s", strerror(errno));
	pending_remove(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	o->kind = OUT_IN_PLACE;
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
	if ((rc = flush_sync(o->f, e)))
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
	if ((rc = flush_sync(o->f, e)))
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
	free(o->final);
	free(o);
}
