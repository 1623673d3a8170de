/* adder-gen: the addition dataset (lib/tasks/adder.h) as token records, and
 * the scores of model completions against it; options and output here. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/tokstream.h"
#include "tasks/adder.h"

static const char usage[] =
	"usage: adder-gen [-fqv] [--digits n] [-s seed] [--problems n] [--test n]\n"
	"                 [--split train | test] [--prompts] [-o file]\n"
	"       adder-gen --score [-v] [--digits n] [-s seed] [--problems n] [--test n]\n"
	"                 [--show n] [file]\n";

static const char options[] =
	"\n"
	"  --digits n        digits of each operand, 1-9 (default 2)\n"
	"  -s, --seed n      seed of the problem order (default 1337)\n"
	"  --problems n      problems used, test and train (default all, at most 1000000)\n"
	"  --test n          problems in the test split (default min(20%, 500))\n"
	"  --split name      which split to write: train or test (default train)\n"
	"  --prompts         write only the question of each problem (test split)\n"
	"  -o, --output file write to file (atomically) instead of stdout\n"
	"  -f, --force       write binary data to a terminal\n"
	"  -q, --quiet       no summary on stderr\n"
	"  -v, --verbose     also print the problems' layout on stderr; with --score,\n"
	"                    the split scored\n"
	"  --score           read completions (file or stdin) and print exact-match accuracy\n"
	"  --show n          mistakes to print when scoring (default 5)\n"
	"  -h, --help        print this help\n"
	"  -V, --version     print the version\n";

enum { OPT_DIGITS = 256, OPT_PROBLEMS, OPT_TEST, OPT_SPLIT, OPT_PROMPTS, OPT_SCORE, OPT_SHOW };

static const struct option longopts[] = {
	{ "digits", required_argument, NULL, OPT_DIGITS },
	CLI_OPTION_SEED,
	{ "problems", required_argument, NULL, OPT_PROBLEMS },
	{ "test", required_argument, NULL, OPT_TEST },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "prompts", no_argument, NULL, OPT_PROMPTS },
	{ "score", no_argument, NULL, OPT_SCORE },
	{ "show", required_argument, NULL, OPT_SHOW },
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

static void digits_tokenizer(mg_tokenizer *tk)
{
	static const uint32_t cps[10] = { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9' };
	mg_err e;

	if (mg_tokenizer_init_chars(tk, cps, 10, &e))
		cli_die(NULL, "%s", e.msg);
}

static void generate(const mg_adder *a, int test_split, int prompts, const char *out_path, int force, int quiet)
{
	uint32_t len = prompts ? mg_adder_prompt_len(a) : mg_adder_len(a);
	uint32_t tok[3 * MG_ADDER_DIGITS_MAX + 1];
	uint8_t mask[3 * MG_ADDER_DIGITS_MAX + 1];
	uint64_t lo = test_split ? 0 : a->test, hi = test_split ? a->test : a->problems;
	mg_tokstream_header h = mg_tokstream_header_make(10, MG_LAYOUT_EXAMPLES, !prompts, len);
	mg_tokenizer tk;
	mg_tokstream_writer *w;
	cli_out o;
	mg_err e;

	digits_tokenizer(&tk);
	cli_out_open(&o, out_path, 1, force);
	if (mg_tokstream_writer_open(&w, o.f, &h, &tk, MG_ZLIB_LEVEL, &e))
		cli_die_err(o.name, &e);
	for (uint64_t i = lo; i < hi; i++) {
		mg_adder_tokens(a, mg_adder_problem(a, i), tok, mask);
		if (mg_tokstream_writer_record(w, &e) || mg_tokstream_writer_put(w, tok, mask, len, &e)) {
			mg_tokstream_writer_free(w);
			cli_die_err(o.name, &e);
		}
	}
	if (mg_tokstream_writer_close(w, &e))
		cli_die_err(o.name, &e);
	cli_out_commit(&o);
	mg_tokenizer_free(&tk);
	if (!quiet)
		fprintf(stderr, "%s: wrote %llu %s %s%s of %u-digit addition (%llu problems: %llu test, %llu train)\n",
			cli_prog(), (unsigned long long)(hi - lo), test_split ? "test" : "train",
			prompts ? "prompt" : "problem", cli_s(hi - lo), a->digits, (unsigned long long)a->problems,
			(unsigned long long)a->test, (unsigned long long)(a->problems - a->test));
}

/* -v: the split and what its records hold, on stderr. */
static void describe(const mg_adder *a, uint64_t seed, int test_split, int prompts)
{
	unsigned d = a->digits;
	uint64_t lo = test_split ? 0 : a->test, hi = test_split ? a->test : a->problems;

	fprintf(stderr, "%s: %s split: problems %llu to %llu of the order of seed %llu\n", cli_prog(),
		test_split ? "test" : "train", (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)seed);
	if (prompts)
		fprintf(stderr, "%s: a prompt is %u tokens: a (%u digit%s), b (%u digit%s)\n", cli_prog(),
			mg_adder_prompt_len(a), d, cli_s(d), d, cli_s(d));
	else
		fprintf(stderr, "%s: a record is %u tokens: a (%u digit%s), b (%u digit%s), a+b (%u digits, least "
			"significant first, the only ones with loss)\n", cli_prog(), mg_adder_len(a), d, cli_s(d), d,
			cli_s(d), d + 1);
}

/* Prints the first `show` mistakes of scoring. */
typedef struct shown {
	const mg_adder *a;
	uint64_t show, n;
} shown;

static void print_wrong(void *arg, const mg_adder_answer *ans)
{
	shown *sh = arg;
	unsigned long long x = ans->x, y = ans->y;

	if (sh->n++ >= sh->show)
		return;
	if (ans->has_value)
		printf("wrong: %llu + %llu = %llu, got %llu\n", x, y, x + y, (unsigned long long)ans->value);
	else
		printf("wrong: %llu + %llu = %llu, got no %u-digit answer\n", x, y, x + y, sh->a->digits + 1);
}

static void score(const mg_adder *a, const char *in_path, uint64_t show)
{
	shown sh = { a, show, 0 };
	mg_adder_accuracy acc;
	const char *name;
	mg_tokstream_data d;
	mg_err e;
	FILE *f = cli_open_in(in_path, &name);

	if (mg_tokstream_data_read(f, &d, &e))
		cli_die_err(name, &e);
	cli_close_in(f, name);
	if (mg_adder_score(a, &d, &acc, print_wrong, &sh, &e))
		cli_die(name, "%s", e.msg);
	printf("exact match: %llu/%llu = %.2f%%\n", (unsigned long long)acc.right, (unsigned long long)acc.total,
	       acc.percent);
	mg_tokstream_data_free(&d);
	cli_close_stdout();
}

int main(int argc, char **argv)
{
	uint64_t digits = 2, seed = 1337, problems = 0, test = UINT64_MAX, show = 5;
	int split_test = -1, prompts = 0, scoring = 0, force = 0, quiet = 0, verbose = 0, c;
	const char *out = NULL;
	static const char *const splits[] = { "train", "test", NULL };
	mg_adder a;
	mg_err e;

	cli_init("adder-gen", usage);
	while ((c = getopt_long(argc, argv, ":s:o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIGITS: digits = cli_parse_u64("--digits", optarg, 1, MG_ADDER_DIGITS_MAX); break;
		case 's': seed = cli_parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case OPT_PROBLEMS: problems = cli_parse_u64("--problems", optarg, 1, UINT64_MAX); break;
		case OPT_TEST: test = cli_parse_u64("--test", optarg, 0, UINT64_MAX - 1); break;
		case OPT_SPLIT: split_test = cli_parse_choice("--split", optarg, splits); break;
		case OPT_PROMPTS: prompts = 1; break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case OPT_SCORE: scoring = 1; break;
		case OPT_SHOW: show = cli_parse_u64("--show", optarg, 0, UINT64_MAX); break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (split_test < 0) /* prompts are for evaluation: from the test split */
		split_test = prompts;
	if (quiet && verbose)
		cli_usage_error("-q and -v are exclusive");
	if (scoring && (out || prompts || quiet))
		cli_usage_error("--score takes no -o, -q or --prompts");
	if (!scoring && optind < argc)
		cli_usage_error("unexpected operand '%s'", argv[optind]);
	if (scoring && argc - optind > 1)
		cli_usage_error("--score takes at most one file");
	if (mg_adder_init(&a, (uint32_t)digits, problems, test, seed, &e))
		cli_usage_error("%s", e.msg);
	if (verbose)
		describe(&a, seed, scoring ? 1 : split_test, scoring ? 0 : prompts);
	if (scoring)
		cli_in_refuse_tty(optind < argc ? argv[optind] : NULL, "token stream");
	if (scoring)
		score(&a, optind < argc ? argv[optind] : NULL, show);
	else
		generate(&a, split_test, prompts, out, force, quiet);
	return CLI_EXIT_OK;
}
