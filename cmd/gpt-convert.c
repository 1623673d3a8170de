/* gpt-convert: a GPT checkpoint in, the same model out with its Linear
 * weights (and optionally the other parameters) in another element type,
 * the optimizer state kept or dropped; statistics on stderr. Reading,
 * converting and writing are separate steps over a checkpoint in memory
 * (lib/model/gpt_convert.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/ckpt.h"
#include "model/gpt.h"
#include "model/gpt_convert.h"

static const char usage[] =
	"usage: gpt-convert [-fqv] [--dtype f32 | f16 | bf16 | q8]\n"
	"                   [--other-dtype f32 | f16 | bf16 | q8] [--params-only]\n"
	"                   [-o file] [checkpoint]\n";

static const char options[] =
	"\n"
	"  --dtype type         element type of the Linear weights: f32, f16, bf16 or q8\n"
	"                       (default q8)\n"
	"  --other-dtype type   element type of the other parameters (embeddings, LayerNorm,\n"
	"                       biases, time weights); q8 only where the last dimension is a\n"
	"                       multiple of 32, f32 elsewhere (default f32)\n"
	"  --params-only        drop the AdamW moments and the training state (dropped\n"
	"                       anyway unless --dtype is f32)\n"
	"  -o, --output file    write to file (atomically) instead of stdout\n"
	"  -f, --force          write binary data to a terminal\n"
	"  -q, --quiet          print no statistics\n"
	"  -v, --verbose        list every tensor, not only the converted ones\n"
	"  -h, --help           print this help\n"
	"  -V, --version        print the version\n";

enum { OPT_DTYPE = 256, OPT_OTHER_DTYPE, OPT_PARAMS_ONLY };

static const struct option longopts[] = {
	{ "dtype", required_argument, NULL, OPT_DTYPE },
	{ "other-dtype", required_argument, NULL, OPT_OTHER_DTYPE },
	{ "params-only", no_argument, NULL, OPT_PARAMS_ONLY },
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

typedef struct opts {
	mg_gpt_convert_opts conv;
	const char *in, *out;
	int force, quiet, verbose;
} opts;

static void parse_options(int argc, char **argv, opts *o)
{
	/* in the order of MG_DTYPE_* */
	static const char *const dtypes[] = { "f32", "f16", "bf16", "q8", NULL };
	int c;

	memset(o, 0, sizeof *o);
	o->conv.linear = MG_DTYPE_Q8;
	o->conv.other = MG_DTYPE_F32;
	while ((c = getopt_long(argc, argv, ":o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DTYPE: o->conv.linear = (uint32_t)cli_parse_choice("--dtype", optarg, dtypes); break;
		case OPT_OTHER_DTYPE: o->conv.other = (uint32_t)cli_parse_choice("--other-dtype", optarg, dtypes); break;
		case OPT_PARAMS_ONLY: o->conv.params_only = 1; break;
		case 'o': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (optind < argc)
		o->in = argv[optind++];
	if (optind < argc)
		cli_usage_error("unexpected operand '%s'", argv[optind]);
	if (o->quiet && o->verbose)
		cli_usage_error("-q and -v are exclusive");
	cli_in_refuse_tty(o->in, "checkpoint");
}

static void read_input(const opts *o, mg_ckpt *ck, const char **name)
{
	FILE *f = cli_open_in(o->in, name);
	mg_err e;

	if (mg_ckpt_read(f, ck, &e))
		cli_die_err(*name, &e);
	cli_close_in(f, *name);
}

static void write_output(const opts *o, const mg_ckpt *ck)
{
	cli_out out;
	mg_err e;

	cli_out_open(&out, o->out, 1, o->force);
	if (mg_ckpt_write(out.f, ck, 1, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
}

/* The statistics: a line of totals, then a row per converted tensor (every
 * tensor with -v). */
static void print_summary(const opts *o, const mg_gpt_convert_report *r)
{
	char a[32], b[32];
	size_t changed = 0;

	for (size_t i = 0; i < r->n; i++)
		changed += r->t[i].from != r->t[i].to;
	fprintf(stderr, "%s: %zu tensor%s, %zu converted, %s bytes -> %s bytes (%.1f%%)%s%s\n", cli_prog(), r->n,
		cli_s(r->n), changed, cli_grouped(r->bytes_in, a, sizeof a), cli_grouped(r->bytes_out, b, sizeof b),
		r->bytes_in ? 100.0 * (double)r->bytes_out / (double)r->bytes_in : 0.0,
		r->dropped_moments ? ", AdamW moments dropped" : "", r->dropped_train ? ", training state dropped" : "");
	if (!changed && !o->verbose)
		return;
	fprintf(stderr, "  %-28s %-6s %-4s %-4s %12s %12s %10s %10s\n", "tensor", "role", "from", "to", "bytes in",
		"bytes out", "worst", "mean");
	for (size_t i = 0; i < r->n; i++) {
		const mg_gpt_convert_stat *s = &r->t[i];
		if (s->from == s->to && !o->verbose)
			continue;
		fprintf(stderr, "  %-28s %-6s %-4s %-4s %12s %12s %10.3e %10.3e\n", s->name, mg_ckpt_role_name(s->role),
			mg_dtype_name(s->from), mg_dtype_name(s->to), cli_grouped(s->bytes_in, a, sizeof a),
			cli_grouped(s->bytes_out, b, sizeof b), s->worst, s->mean);
	}
}

int main(int argc, char **argv)
{
	opts o;
	mg_ckpt ck;
	mg_gpt_convert_report rep;
	const char *name;
	mg_err e;

	cli_init("gpt-convert", usage);
	parse_options(argc, argv, &o);
	if (o.out)
		cli_out_check(o.out, 1, o.force);
	read_input(&o, &ck, &name);
	if (mg_gpt_convert_run(&ck, &o.conv, &rep, &e))
		cli_die_err(name, &e);
	write_output(&o, &ck);
	if (!o.quiet)
		print_summary(&o, &rep);
	mg_gpt_convert_report_free(&rep);
	mg_ckpt_free(&ck);
	return CLI_EXIT_OK;
}
