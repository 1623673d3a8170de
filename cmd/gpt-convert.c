/* gpt-convert: a GPT checkpoint in, the same model out with its Linear
 * weights (and optionally the other parameters) in another element type,
 * the optimizer state kept or dropped; statistics on stderr. Reading,
 * converting and writing are separate steps over a checkpoint in memory
 * (lib/model/gpt_convert.h); either side may be a safetensors file in
 * nanoGPT's or Hugging Face GPT-2's layout (lib/interop/st_convert.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/gpt2_import.h"
#include "cli.h"
#include "interop/st_convert.h"
#include "io/ckpt.h"
#include "model/gpt.h"
#include "model/gpt_convert.h"

static const char usage[] =
	"usage: gpt-convert [-fqv] [--dtype f32 | f16 | bf16 | q8]\n"
	"                   [--other-dtype f32 | f16 | bf16 | q8] [--params-only]\n"
	"                   [--from ckpt | safetensors] [--to ckpt | safetensors]\n"
	"                   [--hf] [--gpt2 dir] [--tokenizer file] [--heads n]\n"
	"                   [--block n] [--gelu tanh | erf] [-o file] [file]\n";

static const char options[] =
	"\n"
	"  --dtype type         element type of the Linear weights: f32, f16, bf16 or q8\n"
	"                       (default q8; with a safetensors side, the stored types)\n"
	"  --other-dtype type   element type of the other parameters (embeddings, LayerNorm,\n"
	"                       biases, time weights); q8 only where the last dimension is a\n"
	"                       multiple of 32, f32 elsewhere (default f32)\n"
	"  --params-only        drop the AdamW moments and the training state (dropped\n"
	"                       anyway unless --dtype is f32)\n"
	"  --from format        the input: ckpt (a checkpoint) or safetensors (default ckpt)\n"
	"  --to format          the output: ckpt or safetensors (default ckpt)\n"
	"  --hf                 --to safetensors: Hugging Face GPT-2's layout (Conv1D weights\n"
	"                       in x out, no tied head) instead of nanoGPT's\n"
	"  --gpt2 dir           --from safetensors: embed GPT-2's tokenizer,\n"
	"                       dir/encoder.json and dir/vocab.bpe\n"
	"  --tokenizer file     --from safetensors: embed this tokenizer model (.tkz)\n"
	"  --heads n            --from safetensors: attention heads, when the file does not\n"
	"                       tell (default n_embd / 64, GPT-2's head width)\n"
	"  --block n            --from safetensors: the longest context, when the file\n"
	"                       does not tell (no wpe)\n"
	"  --gelu name          --from safetensors: tanh or erf, when the file does not tell\n"
	"                       (default tanh for Hugging Face's layout, erf for nanoGPT's)\n"
	"  -o, --output file    write to file (atomically) instead of stdout\n"
	"  -f, --force          write binary data to a terminal\n"
	"  -q, --quiet          print no statistics\n"
	"  -v, --verbose        list every tensor, not only the converted ones\n"
	"  -h, --help           print this help\n"
	"  -V, --version        print the version\n";

enum {
	OPT_DTYPE = 256, OPT_OTHER_DTYPE, OPT_PARAMS_ONLY, OPT_FROM, OPT_TO, OPT_HF, OPT_GPT2, OPT_TOKENIZER, OPT_HEADS,
	OPT_BLOCK, OPT_GELU,
};
enum { FMT_CKPT, FMT_SAFETENSORS };

static const struct option longopts[] = {
	{ "dtype", required_argument, NULL, OPT_DTYPE },
	{ "other-dtype", required_argument, NULL, OPT_OTHER_DTYPE },
	{ "params-only", no_argument, NULL, OPT_PARAMS_ONLY },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "hf", no_argument, NULL, OPT_HF },
	{ "gpt2", required_argument, NULL, OPT_GPT2 },
	{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
	{ "heads", required_argument, NULL, OPT_HEADS },
	{ "block", required_argument, NULL, OPT_BLOCK },
	{ "gelu", required_argument, NULL, OPT_GELU },
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

typedef struct opts {
	mg_gpt_convert_opts conv;
	const char *in, *out;
	int force, quiet, verbose;
	int from, to, hf, dtype_given;       /* FMT_* */
	const char *gpt2, *tokenizer;        /* --from safetensors: the tokenizer to embed */
	mg_st_convert_opts st;               /* --from safetensors: what the file may not tell */
} opts;

static void parse_options(int argc, char **argv, opts *o)
{
	/* in the order of MG_DTYPE_* */
	static const char *const dtypes[] = { "f32", "f16", "bf16", "q8", NULL };
	static const char *const formats[] = { "ckpt", "safetensors", NULL }; /* FMT_* */
	static const char *const gelus[] = { "tanh", "erf", NULL };           /* MG_GELU_* */
	int c, st_only = 0, linear_given = 0;

	memset(o, 0, sizeof *o);
	o->conv.linear = MG_DTYPE_Q8;
	o->conv.other = MG_DTYPE_F32;
	mg_st_convert_opts_default(&o->st);
	while ((c = getopt_long(argc, argv, ":o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DTYPE:
			o->conv.linear = (uint32_t)cli_parse_choice("--dtype", optarg, dtypes);
			o->dtype_given = linear_given = 1;
			break;
		case OPT_OTHER_DTYPE:
			o->conv.other = (uint32_t)cli_parse_choice("--other-dtype", optarg, dtypes);
			o->dtype_given = 1;
			break;
		case OPT_FROM: o->from = cli_parse_choice("--from", optarg, formats); break;
		case OPT_TO: o->to = cli_parse_choice("--to", optarg, formats); break;
		case OPT_HF: o->hf = 1; break;
		case OPT_GPT2: o->gpt2 = optarg, st_only = 1; break;
		case OPT_TOKENIZER: o->tokenizer = optarg, st_only = 1; break;
		case OPT_HEADS: o->st.n_head = (uint32_t)cli_parse_u64("--heads", optarg, 1, MG_GPT_EMBD_MAX), st_only = 1; break;
		case OPT_BLOCK:
			o->st.block_size = (uint32_t)cli_parse_u64("--block", optarg, 1, MG_GPT_BLOCK_MAX), st_only = 1;
			break;
		case OPT_GELU: o->st.gelu = cli_parse_choice("--gelu", optarg, gelus), st_only = 1; break;
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
	if (st_only && o->from != FMT_SAFETENSORS)
		cli_usage_error("--gpt2, --tokenizer, --heads, --block and --gelu need --from safetensors");
	if (o->gpt2 && o->tokenizer)
		cli_usage_error("--gpt2 and --tokenizer are exclusive");
	if (o->hf && o->to != FMT_SAFETENSORS)
		cli_usage_error("--hf needs --to safetensors");
	if ((o->from == FMT_SAFETENSORS || o->to == FMT_SAFETENSORS) && !linear_given)
		o->conv.linear = MG_DTYPE_F32; /* with a safetensors side only what is asked changes */
	if (o->to == FMT_SAFETENSORS && (o->conv.linear == MG_DTYPE_Q8 || o->conv.other == MG_DTYPE_Q8) &&
	    o->dtype_given)
		cli_usage_error("--to safetensors: q8 has no safetensors dtype (it has f32, f16, bf16)");
	cli_in_refuse_tty(o->in, o->from == FMT_SAFETENSORS ? "safetensors file" : "checkpoint");
}

/* --from safetensors: the model as a checkpoint in memory, with the
 * tokenizer asked for; what was found on stderr. */
static void read_safetensors(const opts *o, mg_ckpt *ck, const char **name)
{
	FILE *f = cli_open_in(o->in, name);
	mg_st_convert_info info;
	mg_err e;

	if (mg_st_convert_read(f, &o->st, ck, &info, &e))
		cli_die_err(*name, &e);
	cli_close_in(f, *name);
	if (o->gpt2 && mg_gpt2_import_dir(o->gpt2, &ck->tk, &e))
		cli_die(o->gpt2, "%s", e.msg);
	if (o->tokenizer)
		cli_read_tokenizer(o->tokenizer, &ck->tk);
	ck->has_tokenizer = o->gpt2 || o->tokenizer;
	if (!o->quiet) {
		const mg_kv_entry *h = mg_kv_find(&ck->config, "n_head");
		fprintf(stderr, "%s: %s: %s layout, configuration from %s, %zu tensors%s%s%s\n", cli_prog(), *name,
			info.layout == MG_GPT2_LAYOUT_HF ? "Hugging Face GPT-2's" : "nanoGPT's",
			info.from_metadata ? "its __metadata__" : "the tensors' shapes", ck->n_tensors,
			info.ignored ? ", the attention-mask buffers skipped" : "",
			mg_kv_find(&ck->config, "tie_embeddings") ? ", tied embeddings" : "",
			ck->has_tokenizer ? ", tokenizer embedded" : "");
		if (info.n_head_guessed)
			fprintf(stderr, "%s: %s: %lld head%s of 64 channels, GPT-2's: give --heads if the model has others\n",
				cli_prog(), *name, (long long)h->i, h->i == 1 ? "" : "s");
	}
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
	if (o->to == FMT_SAFETENSORS ? mg_st_convert_write(out.f, ck, o->hf ? MG_GPT2_LAYOUT_HF : MG_GPT2_LAYOUT_NANOGPT, &e)
				     : mg_ckpt_write(out.f, ck, 1, &e))
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
	if (o.from == FMT_SAFETENSORS)
		read_safetensors(&o, &ck, &name);
	else
		read_input(&o, &ck, &name);
	/* with a safetensors side the stored types stay unless asked: the
	 * checks of a model alone */
	if (o.from == FMT_CKPT && o.to == FMT_CKPT ? 0 : !o.dtype_given) {
		if (mg_gpt_check_ckpt(&ck, &e))
			cli_die_err(name, &e);
		memset(&rep, 0, sizeof rep);
	} else if (mg_gpt_convert_run(&ck, &o.conv, &rep, &e)) {
		cli_die_err(name, &e);
	}
	write_output(&o, &ck);
	if (!o.quiet && rep.t)
		print_summary(&o, &rep);
	mg_gpt_convert_report_free(&rep);
	mg_ckpt_free(&ck);
	return CLI_EXIT_OK;
}
