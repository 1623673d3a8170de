/* Output files that are replaced only by whole ones: a regular file is
 * written to a temporary file in its folder and renamed over the final name
 * on commit; a device, FIFO or terminal is written in place. */
#ifndef MG_OUTFILE_H
#define MG_OUTFILE_H

#include <stdio.h>

#include "core/err.h"

typedef struct mg_outfile mg_outfile;

/* Opens the output for path:
 * - NULL: standard output, written in place (never closed here; the tools
 *   map "-" to it where "-" means standard output);
 * - an existing file that is not a regular one (/dev/null, /dev/full, a
 *   FIFO, a terminal): that file, opened for writing in place;
 * - otherwise (a regular file, or none yet): a new temporary file in the
 *   same folder (mg_outfile_tmp_template), mode 0666 less the umask, which
 *   mg_outfile_commit renames over path; path is untouched until then. The
 *   handle holds an flock(2) on it until then, and first removes the
 *   temporary files of path that no process holds locked: those of a
 *   writer killed by a signal it cannot catch (kill -9) or a crash.
 * MG_E_IO ("cannot create a temporary file beside it: ...", or strerror for
 * a file opened in place), MG_E_NOMEM; *o is NULL on error. The message
 * does not name the file: callers print mg_outfile_name's, or path. */
int mg_outfile_open(mg_outfile **o, const char *path, mg_err *e);

/* Checks, before work that would be lost, that an output could be opened
 * at path, changing nothing there: beside a regular path (or none yet) a
 * temporary file is created and removed; a device or a terminal is opened
 * for writing (not truncated) and closed; a FIFO is only checked for write
 * permission (opening it would wait for a reader, then hand it an end of
 * file). *tty (may be NULL) = 1 when path is a terminal. NULL is standard
 * output (*tty from it). Errors as mg_outfile_open's. */
int mg_outfile_check(const char *path, int *tty, mg_err *e);

/* Where to write; owned by o (closed by commit and abort). */
FILE *mg_outfile_file(const mg_outfile *o);
/* The name for messages: path, or "<stdout>". Valid until o is freed. */
const char *mg_outfile_name(const mg_outfile *o);
/* 1 when written in place (standard output, a device, a FIFO, a terminal,
 * or a file already published), 0 while a temporary file stands in. */
int mg_outfile_in_place(const mg_outfile *o);

/* Flushes, fsyncs the file, closes it, renames the temporary file over the
 * final name and fsyncs the folder, so the name holds either the old file
 * or the whole new one, also after a crash. In place: flushes, fsyncs where
 * the file can be (EINVAL and ENOTSUP, as from pipes and terminals, are not
 * errors) and closes; standard output is flushed and checked, not closed.
 * Frees o, also on error. MG_E_IO ("write error: ...", "fsync: ...",
 * "cannot rename the temporary file into place: ..."): the temporary file
 * is removed and the final name untouched. */
int mg_outfile_commit(mg_outfile *o, mg_err *e);
/* Commit's steps without closing: what was written so far replaces the
 * final name, and later writes go on to the same file, now in place (a log
 * that is rewritten, then appended to). Errors as commit's; on error the
 * temporary file is removed and o must still be aborted. */
int mg_outfile_publish(mg_outfile *o, mg_err *e);
/* Closes without committing: removes the temporary file (the final name
 * untouched); a file written in place keeps what was written. Frees o;
 * o may be NULL. */
void mg_outfile_abort(mg_outfile *o);

/* The temporary name for path, as a mkstemp(3) template:
 * ".NAME.mygpt-XXXXXX" in path's folder. A malloc'd string, NULL when out
 * of memory. The one place temporary names are made: a leftover of a killed
 * process is recognisable from the final name, and the next
 * mg_outfile_open of that name removes it. */
char *mg_outfile_tmp_template(const char *path);

/* Removes the temporary files of every output not yet committed or aborted
 * (at most 16 are tracked). Async-signal-safe: for signal handlers and
 * exit paths of a process that dies with outputs open. The handles are left
 * as they are; do not use them afterwards. */
void mg_outfile_remove_pending(void);

/* A test hook, for tests of what a kill -9 in the middle of a write
 * leaves: with MYGPT_TEST_OUTFILE_KILL="N:K" in the environment, the
 * process sends itself SIGKILL once K bytes of the N-th temporary file
 * that mg_outfile_open creates (counting from 1) are written (K = 0: as
 * soon as it exists), or just before its rename when fewer are written.
 * That file is then written without stdio's buffer. Unset, nothing
 * changes. */

/* Threads: open and check read the umask by setting it, so run them in
 * one thread at a time; a handle is used by one thread at a time. Other
 * processes may write the same final name at the same time: each has its
 * own locked temporary file, and the last commit wins.
 * mg_outfile_remove_pending may run at any moment. */

#endif
