/* bpe-train: learns a byte-level BPE tokenizer model from text (or builds a
 * character model, or imports GPT-2's) and writes it as a .tkz file. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/bpe_train.h"
#include "bpe/gpt2_import.h"
#include "cli.h"
#include "core/clock.h"
#include "io/tokenizer.h"

static const char usage[] =
	"usage: bpe-train [-fqv] [--vocab-size n] [--no-split] [--special text]\n"
	"                 [-o file] [file ...]\n"
	"       bpe-train --chars [-fq] [--special text] [-o file] [file ...]\n"
	"       bpe-train --import-gpt2 dir [-fq] [-o file]\n";

static const char options[] =
	"\n"
	"  --vocab-size n     tokens in the model: 256 bytes, the merges, the special\n"
	"                     tokens; 256 to 16777216 (default 8000)\n"
	"  --no-split         learn over each input file as one sequence of bytes\n"
	"                     (default: within GPT-2's pre-tokens)\n"
	"  --special text     register a special token (repeatable; ids after the\n"
	"                     merges); its occurrences in the input are not learned from\n"
	"  --chars            the character model: the distinct characters, sorted\n"
	"  --import-gpt2 dir  GPT-2's model from dir/encoder.json and dir/vocab.bpe\n"
	"  -o, --output file  write to file (atomically) instead of stdout\n"
	"  -f, --force        write binary data to a terminal\n"
	"  -q, --quiet        no progress or summary on stderr\n"
	"  -v, --verbose      print every merge on stderr\n"
	"  -h, --help         print this help\n"
	"  -V, --version      print the version\n";

enum { OPT_VOCAB = 256, OPT_NO_SPLIT, OPT_SPECIAL, OPT_CHARS, OPT_IMPORT };

static const struct option longopts[] = {
	{ "vocab-size", required_argument, NULL, OPT_VOCAB },
	{ "no-split", no_argument, NULL, OPT_NO_SPLIT },
	{ "special", required_argument, NULL, OPT_SPECIAL },
	{ "chars", no_argument, NULL, OPT_CHARS },
	{ "import-gpt2", required_argument, NULL, OPT_IMPORT },
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

typedef struct progress {
	uint32_t total;
	int verbose, bar;
	double last;
	uint8_t **tok; /* bytes of each id so far, for -v */
	uint32_t *len;
} progress;

static void print_bytes(const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			fprintf(stderr, "\\%c", s[i]);
		else if (s[i] >= 0x20 && s[i] < 0x7f)
			fputc(s[i], stderr);
		else
			fprintf(stderr, "\\x%02x", s[i]);
	}
}

static int on_merge(void *ctx, uint32_t rank, uint32_t left, uint32_t right, uint64_t count)
{
	progress *p = ctx;
	uint32_t id = 256 + rank;

	if (p->verbose) {
		p->len[id] = p->len[left] + p->len[right];
		p->tok[id] = malloc(p->len[id] ? p->len[id] : 1);
		if (!p->tok[id])
			return MG_E_NOMEM;
		memcpy(p->tok[id], p->tok[left], p->len[left]);
		memcpy(p->tok[id] + p->len[left], p->tok[right], p->len[right]);
		fprintf(stderr, "%s: merge %u/%u: %u %u -> %u \"", cli_prog(), rank + 1, p->total, left, right, id);
		print_bytes(p->tok[id], p->len[id]);
		fprintf(stderr, "\" count %llu\n", (unsigned long long)count);
	} else if (p->bar) {
		double t = mg_clock_now();
		if (t - p->last > 0.2 || rank + 1 == p->total) {
			fprintf(stderr, "\r%s: merge %u/%u (count %llu)   ", cli_prog(), rank + 1, p->total,
				(unsigned long long)count);
			p->last = t;
		}
	}
	return MG_OK;
}

int main(int argc, char **argv)
{
	uint64_t vocab = 8000;
	int split = 1, chars = 0, force = 0, quiet = 0, verbose = 0, c;
	const char *out_path = NULL, *import = NULL;
	mg_tokenizer_special *spec = NULL;
	uint32_t n_spec = 0, merges = 0;
	mg_tokenizer tk;
	cli_out out;
	mg_err e;
	double t0 = mg_clock_now();

	cli_init("bpe-train", usage);
	while ((c = getopt_long(argc, argv, ":o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VOCAB: vocab = cli_parse_u64("--vocab-size", optarg, 256, MG_VOCAB_MAX); break;
		case OPT_NO_SPLIT: split = 0; break;
		case OPT_SPECIAL: {
			mg_tokenizer_special *ns = realloc(spec, (n_spec + 1) * sizeof *spec);
			size_t len = strlen(optarg);
			if (!ns)
				cli_die(NULL, "out of memory");
			spec = ns;
			if (len == 0 || len > MG_SPECIAL_LEN_MAX)
				cli_usage_error("invalid value for --special: %zu bytes, expected 1..%u", len, MG_SPECIAL_LEN_MAX);
			spec[n_spec].id = n_spec;
			spec[n_spec].len = (uint32_t)len;
			spec[n_spec].text = optarg;
			n_spec++;
			break;
		}
		case OPT_CHARS: chars = 1; break;
		case OPT_IMPORT: import = optarg; break;
		case 'o': out_path = optarg; break;
		case 'f': force = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (chars + !!import > 1)
		cli_usage_error("--chars and --import-gpt2 are exclusive");
	if ((chars || import) && (!split || vocab != 8000))
		cli_usage_error("--vocab-size and --no-split are for learning merges");
	if (import && (n_spec || optind < argc || verbose))
		cli_usage_error("--import-gpt2 takes no --special, -v or input files");
	if (quiet && verbose)
		cli_usage_error("-q and -v are exclusive");
	if (import) {
		if (mg_gpt2_import_dir(import, &tk, &e))
			cli_die(NULL, "%s", e.msg);
	} else {
		mg_bpe_trainer *t;
		mg_bpe_train_stats st;
		progress pr = { 0 };
		int n_files = argc - optind;

		if (mg_bpe_trainer_init(&t, chars ? MG_TOKENIZER_CHARS : MG_TOKENIZER_BPE, split ? MG_SPLIT_GPT2 : MG_SPLIT_NONE,
					spec, n_spec, &e))
			cli_usage_error("%s", e.msg);
		if (!chars && vocab < 256 + n_spec)
			cli_usage_error("--vocab-size %llu leaves no room for 256 bytes and %u special tokens",
					(unsigned long long)vocab, n_spec);
		for (int i = 0; i < (n_files ? n_files : 1); i++) {
			const char *name;
			FILE *f = cli_open_in(n_files ? argv[optind + i] : NULL, &name);
			if (mg_bpe_trainer_count(t, f, &e))
				cli_die_err(name, &e);
			cli_close_in(f, name);
		}
		mg_bpe_trainer_stats(t, &st);
		if (verbose || (!quiet && cli_stderr_tty()))
			fprintf(stderr, "%s: %llu byte%s, %llu piece%s, %llu distinct (%llu byte%s)\n", cli_prog(),
				(unsigned long long)st.bytes, cli_s(st.bytes), (unsigned long long)st.pieces, cli_s(st.pieces),
				(unsigned long long)st.distinct, (unsigned long long)st.distinct_bytes, cli_s(st.distinct_bytes));
		pr.total = chars ? 0 : (uint32_t)vocab - 256 - n_spec;
		pr.verbose = verbose;
		pr.bar = !quiet && cli_stderr_tty();
		if (verbose) {
			pr.tok = calloc((size_t)vocab, sizeof *pr.tok);
			pr.len = calloc((size_t)vocab, sizeof *pr.len);
			if (!pr.tok || !pr.len)
				cli_die(NULL, "out of memory");
			for (uint32_t b = 0; b < 256; b++) {
				pr.tok[b] = malloc(1);
				if (!pr.tok[b])
					cli_die(NULL, "out of memory");
				pr.tok[b][0] = (uint8_t)b;
				pr.len[b] = 1;
			}
		}
		if (mg_bpe_trainer_train(t, (uint32_t)vocab, on_merge, &pr, &tk, &merges, &e))
			cli_die(NULL, "%s", e.msg);
		if (pr.bar && pr.total)
			fputc('\n', stderr);
		if (pr.tok) {
			for (uint64_t i = 0; i < vocab; i++)
				free(pr.tok[i]);
			free(pr.tok);
			free(pr.len);
		}
		if (!chars && merges < pr.total && !quiet)
			cli_warn(NULL, "warning: only %u merge%s %s possible: the model has %u token%s, not %llu",
				 merges, cli_s(merges), merges == 1 ? "was" : "were", tk.vocab_size, cli_s(tk.vocab_size),
				 (unsigned long long)vocab);
		mg_bpe_trainer_free(t);
	}
	cli_out_open(&out, out_path, 1, force);
	if (mg_tokenizer_write(&tk, out.f, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
	if (!quiet)
		fprintf(stderr, "%s: wrote a %s model of %u token%s (%u merge%s, %u special) in %.2f s\n", cli_prog(),
			mg_tokenizer_kind_name(tk.kind), tk.vocab_size, cli_s(tk.vocab_size), tk.n_merges, cli_s(tk.n_merges),
			tk.n_specials, mg_clock_now() - t0);
	mg_tokenizer_free(&tk);
	free(spec);
	return CLI_EXIT_OK;
}
