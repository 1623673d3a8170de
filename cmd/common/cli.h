/* Glue shared by the command-line tools (and only by them: it prints and
 * exits, which the library never does). Messages, exit statuses, strict
 * option parsing, input opening and atomic output. */
#ifndef CLI_H
#define CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "io/outfile.h"

#define MYGPT_VERSION "0.1.0"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2 };

/* getopt_long entries shared by the tools, so that an option is spelt and
 * lettered once (the same letter means the same thing in every tool). A
 * tool's table lists its own options and those of these it takes, and ends
 * with CLI_OPTIONS_END: -o/--output, -f/--force, -q/--quiet, -h/--help and
 * -V/--version, then the terminator. Every tool also takes -v
 * (CLI_OPTION_VERBOSE), each with its own meaning in its page; -s and -j
 * where a tool draws random numbers or computes on threads
 * (tests/man.bats checks the common ones). */
#define CLI_OPTION_SEED { "seed", required_argument, NULL, 's' }
#define CLI_OPTION_THREADS { "threads", required_argument, NULL, 'j' }
#define CLI_OPTION_VERBOSE { "verbose", no_argument, NULL, 'v' }
#define CLI_OPTIONS_END                                                                  \
	{ "output", required_argument, NULL, 'o' }, { "force", no_argument, NULL, 'f' }, \
	{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },         \
	{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 }

/* Sets the program name for messages, restores default SIGPIPE, and makes
 * SIGINT/SIGTERM/SIGHUP remove unfinished output files (every
 * mg_outfile not yet committed) before the process dies of the signal. */
void cli_init(const char *prog, const char *usage);
const char *cli_prog(void);
/* For tools that compute on several threads: OpenMP's threads wait
 * passively (sleep) unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set.
 * libgomp's default, spinning while it waits, makes a step many times
 * slower when other processes want the cores; libgomp reads the variables
 * once, in its own constructor, before main. CLI_THREADS_PASSIVE, written
 * once at file scope in a tool's main file, sets OMP_WAIT_POLICY=passive
 * from a constructor that runs before libgomp's: the Makefile links
 * libgomp statically into the tools, and in one executable the
 * constructors with a priority run before those without (libgomp's). */
void cli_threads_policy(void);
#define CLI_THREADS_PASSIVE \
	__attribute__((constructor(101))) static void cli_threads_passive(void) { cli_threads_policy(); }

/* "prog: file: message" on stderr, exit 1 (file may be NULL). */
_Noreturn void cli_die(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void cli_die_err(const char *file, const mg_err *e);
/* "prog: message" and a pointer to --help on stderr, exit 2. */
_Noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the usage text given to cli_init (the man page SYNOPSIS) and the
 * option list to stdout, exit 0. */
_Noreturn void cli_help(const char *options);
/* Reports what getopt_long stopped at (call with its return value, with an
 * optstring that starts with ':'), exit 2. */
_Noreturn void cli_bad_option(int c, char **argv);
_Noreturn void cli_version(void);

/* Strict numbers: the whole argument, in range, or a usage error naming the
 * option. */
uint64_t cli_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max);
double cli_parse_double(const char *opt, const char *arg, double min, double max);
/* Index of arg in the NULL-terminated list, or a usage error. */
int cli_parse_choice(const char *opt, const char *arg, const char *const *choices);

/* The file operand or stdin ("-" or NULL). The name for messages is
 * "<stdin>" for stdin. Dies when the file cannot be opened. */
FILE *cli_open_in(const char *path, const char **name);
/* A usage error when path names stdin ("-" or NULL) and stdin is a
 * terminal: binary input (what) is never typed, and a tool waiting on it
 * would look hung. */
void cli_in_refuse_tty(const char *path, const char *what);
/* Closes an input; dies on a read error. */
void cli_close_in(FILE *f, const char *name);
/* A tokenizer model file (.tkz: one member, nothing after it; stdin for
 * "-" or NULL) into tk; dies naming the file when it is not one. Returns
 * the name for messages. */
struct mg_tokenizer;
const char *cli_read_tokenizer(const char *path, struct mg_tokenizer *tk);

/* An output of a tool over lib/io/outfile.h: f and name are for the
 * tool's writes and messages. */
typedef struct cli_out {
	FILE *f;
	const char *name; /* for messages: the path, or "<stdout>" */
	mg_outfile *of;
} cli_out;

/* stdout when path is NULL or "-"; for an existing path that is not a
 * regular file (a device, a FIFO) that file itself; else a temporary file
 * beside path that cli_out_commit renames into place (mg_outfile_open).
 * path must outlive o. binary: refuse a terminal unless force (usage
 * error). Dies when the output cannot be opened. */
void cli_out_open(cli_out *o, const char *path, int binary, int force);
/* Flushes, fsyncs (files), closes and renames (mg_outfile_commit); dies on
 * any error (the temporary file removed). For stdout, checks that
 * everything reached it and closes it. */
void cli_out_commit(cli_out *o);
/* Removes the temporary file (error paths; cli_die does it too). */
void cli_out_abort(cli_out *o);

/* Dies (or a usage error for binary data to a terminal, unless force)
 * unless cli_out_open(path) could succeed, changing nothing at path
 * (mg_outfile_check): for tools that work long before they write. */
void cli_out_check(const char *path, int binary, int force);

/* Closes stdout and dies if any write failed; call before exit 0 in tools
 * that print to stdout without a cli_out. */
void cli_close_stdout(void);

/* v with its thousands grouped, for messages: 9590272 -> "9,590,272" (in
 * buf, of n bytes; 32 hold any value). Returns buf. */
const char *cli_grouped(uint64_t v, char *buf, size_t n);

/* "s" unless n is 1, for counted nouns in messages: "%u layer%s", n,
 * cli_s(n). */
const char *cli_s(uint64_t n);

/* Whether stderr is a terminal (progress bars only then). */
int cli_stderr_tty(void);

#endif
