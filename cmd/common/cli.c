/* Command-line glue: the conventions every mygpt tool follows (see
 * mygpt(7)): messages "prog: file: what", exit 0/1/2, atomic output. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/tokenizer.h"

static const char *prog = "mygpt";
static const char *usage_text = "";

/* The temporary files of unfinished outputs, removed when the tool dies. */
static void remove_tmps(void) { mg_outfile_remove_pending(); }

static void on_signal(int sig)
{
	remove_tmps();
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_init(const char *p, const char *usage)
{
	struct sigaction sa;

	prog = p;
	usage_text = usage;
	signal(SIGPIPE, SIG_DFL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

const char *cli_prog(void) { return prog; }

void cli_threads_policy(void)
{
	/* the user's choice wins; a failed setenv leaves libgomp's default */
	if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT"))
		setenv("OMP_WAIT_POLICY", "passive", 0);
}

static void vmsg(const char *file, const char *fmt, va_list ap)
{
	fflush(stdout);
	if (file)
		fprintf(stderr, "%s: %s: ", prog, file);
	else
		fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_die(const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(file, fmt, ap);
	va_end(ap);
	remove_tmps();
	exit(CLI_EXIT_ERROR);
}

void cli_die_err(const char *file, const mg_err *e) { cli_die(file, "%s", e->msg); }

void cli_warn(const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(file, fmt, ap);
	va_end(ap);
}

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(NULL, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	remove_tmps();
	exit(CLI_EXIT_USAGE);
}

void cli_help(const char *options)
{
	printf("%s\n%s", usage_text, options);
	cli_close_stdout();
	exit(CLI_EXIT_OK);
}

void cli_bad_option(int c, char **argv)
{
	extern int optind, optopt;
	const char *arg = argv[optind - 1];

	if (c == ':')
		cli_usage_error("option '%s' needs a value", arg);
	if (optopt && arg[0] == '-' && arg[1] != '-')
		cli_usage_error("unknown option '-%c'", optopt);
	cli_usage_error("unknown option '%s'", arg);
}

void cli_version(void)
{
	printf("%s (mygpt) %s\n", prog, MYGPT_VERSION);
	cli_close_stdout();
	exit(CLI_EXIT_OK);
}

uint64_t cli_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*arg || *arg == '-' || *arg == '+' || *arg == ' ')
		goto bad;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < min || v > max)
		goto bad;
	return v;
bad:
	cli_usage_error("invalid value '%s' for %s: expected an integer in %llu..%llu", arg, opt,
			(unsigned long long)min, (unsigned long long)max);
}

double cli_parse_double(const char *opt, const char *arg, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (!*arg || errno || *end || !isfinite(v) || v < min || v > max)
		cli_usage_error("invalid value '%s' for %s: expected a number in %g..%g", arg, opt, min, max);
	return v;
}

int cli_parse_choice(const char *opt, const char *arg, const char *const *choices)
{
	char list[256] = "";

	for (int i = 0; choices[i]; i++) {
		if (!strcmp(arg, choices[i]))
			return i;
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", choices[i]);
	}
	cli_usage_error("invalid value '%s' for %s: expected one of %s", arg, opt, list);
}

FILE *cli_open_in(const char *path, const char **name)
{
	FILE *f;

	if (!path || !strcmp(path, "-")) {
		*name = "<stdin>";
		return stdin;
	}
	*name = path;
	f = fopen(path, "rb");
	if (!f)
		cli_die(path, "%s", strerror(errno));
	return f;
}

void cli_close_in(FILE *f, const char *name)
{
	if (ferror(f))
		cli_die(name, "read error");
	if (f != stdin)
		fclose(f);
}

const char *cli_read_tokenizer(const char *path, struct mg_tokenizer *tk)
{
	const char *name;
	FILE *f = cli_open_in(path, &name);
	mg_err e;

	if (mg_tokenizer_load(f, tk, &e))
		cli_die_err(name, &e);
	cli_close_in(f, name);
	return name;
}

void cli_out_open(cli_out *o, const char *path, int binary, int force)
{
	mg_err e;

	memset(o, 0, sizeof *o);
	if (path && !strcmp(path, "-"))
		path = NULL;
	if (!path && binary && !force && isatty(STDOUT_FILENO))
		cli_usage_error("refusing to write binary data to a terminal (use -o FILE, a pipe, or -f)");
	if (mg_outfile_open(&o->of, path, &e))
		cli_die(path ? path : "<stdout>", "%s", e.msg);
	o->f = mg_outfile_file(o->of);
	o->name = path ? path : "<stdout>";
	if (path && binary && !force && mg_outfile_in_place(o->of) && isatty(fileno(o->f)))
		cli_usage_error("refusing to write binary data to a terminal (use -f)");
}

void cli_out_commit(cli_out *o)
{
	int to_stdout = o->f == stdout;
	mg_err e;

	if (mg_outfile_commit(o->of, &e)) {
		o->of = NULL;
		o->f = NULL;
		cli_die(o->name, "%s", e.msg);
	}
	o->of = NULL;
	o->f = NULL;
	if (to_stdout)
		cli_close_stdout();
}

void cli_out_abort(cli_out *o)
{
	mg_outfile_abort(o->of);
	memset(o, 0, sizeof *o);
}

void cli_out_check(const char *path, int binary, int force)
{
	mg_err e;
	int tty;

	if (path && !strcmp(path, "-"))
		path = NULL;
	if (mg_outfile_check(path, &tty, &e))
		cli_die(path, "%s", e.msg);
	if (binary && !force && tty)
		cli_usage_error(path ? "refusing to write binary data to a terminal (use -f)"
				     : "refusing to write binary data to a terminal (use -o FILE, a pipe, or -f)");
}

void cli_close_stdout(void)
{
	int err = ferror(stdout);

	if (fclose(stdout) || err) {
		/* EPIPE with SIGPIPE at default never gets here */
		fprintf(stderr, "%s: <stdout>: write error: %s\n", prog, errno ? strerror(errno) : "unknown");
		remove_tmps();
		exit(CLI_EXIT_ERROR);
	}
}

void cli_in_refuse_tty(const char *path, const char *what)
{
	if ((!path || strcmp(path, "-") == 0) && isatty(STDIN_FILENO))
		cli_usage_error("will not read a %s from a terminal: give a file, or pipe one in", what);
}

const char *cli_s(uint64_t n)
{
	return n == 1 ? "" : "s";
}

int cli_stderr_tty(void) { return isatty(STDERR_FILENO); }

const char *cli_grouped(uint64_t v, char *buf, size_t n)
{
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v), at = 0;

	for (int i = 0; i < len && (size_t)at + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[at++] = ',';
		buf[at++] = digits[i];
	}
	buf[at] = 0;
	return buf;
}
