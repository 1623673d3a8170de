/* gpt-init: a freshly initialised GPT checkpoint, with the vocabulary (and
 * tokenizer) given or taken from a tokenizer model or a token stream. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/ckpt.h"
#include "io/tokstream.h"
#include "model/gpt.h"
#include "model/gpt_memory.h"

static const char usage[] =
	"usage: gpt-init [-fqv] [--layers n] [--heads n] [--embd n] [--block n]\n"
	"                [--vocab n] [--tokenizer file] [--data file]\n"
	"                [--attention vanilla | time-weighting | circulant]\n"
	"                [--time-shift] [--no-pos-emb] [--tie-embeddings]\n"
	"                [--gelu tanh | erf]\n"
	"                [--dropout p] [--dropout-embd p] [--dropout-attn p]\n"
	"                [--dropout-resid p] [-s seed] [-o file]\n";

static const char options[] =
	"\n"
	"  --layers n          transformer blocks (default 3)\n"
	"  --heads n           attention heads, dividing --embd (default 8)\n"
	"  --embd n            embedding width (default 512)\n"
	"  --block n           longest context in tokens (default 128)\n"
	"  --vocab n           vocabulary size (default: that of --tokenizer or --data)\n"
	"  --tokenizer file    tokenizer model (.tkz): its vocabulary, embedded in the output\n"
	"  --data file         token stream (.tok): its vocabulary and its tokenizer, if any\n"
	"  --attention name    vanilla, time-weighting or circulant (default vanilla)\n"
	"  --time-shift        shift half the channels one position before attention\n"
	"  --no-pos-emb        no learned positional embedding\n"
	"  --tie-embeddings    the output head is the token embedding wte (GPT-2's)\n"
	"  --gelu name         tanh (approximation) or erf (exact) (default tanh)\n"
	"  --dropout p         dropout rate of the embedding, attention and residuals (default 0.1)\n"
	"  --dropout-embd p    embedding dropout (default --dropout)\n"
	"  --dropout-attn p    attention dropout (default --dropout)\n"
	"  --dropout-resid p   residual dropout (default --dropout)\n"
	"  -s, --seed n        seed of the initial weights (default 1337)\n"
	"  -o, --output file   write to file (atomically) instead of stdout\n"
	"  -f, --force         write binary data to a terminal\n"
	"  -q, --quiet         do not print the parameter count on stderr\n"
	"  -v, --verbose       also print the dropout rates, the random seed and the\n"
	"                      tokenizer\n"
	"  -h, --help          print this help\n"
	"  -V, --version       print the version\n";

enum {
	OPT_LAYERS = 256, OPT_HEADS, OPT_EMBD, OPT_BLOCK, OPT_VOCAB, OPT_TOKENIZER, OPT_DATA, OPT_ATTENTION,
	OPT_TIME_SHIFT, OPT_NO_POS_EMB, OPT_TIE, OPT_GELU, OPT_DROPOUT, OPT_DROPOUT_EMBD, OPT_DROPOUT_ATTN, OPT_DROPOUT_RESID,
};

static const struct option longopts[] = {
	{ "layers", required_argument, NULL, OPT_LAYERS },
	{ "heads", required_argument, NULL, OPT_HEADS },
	{ "embd", required_argument, NULL, OPT_EMBD },
	{ "block", required_argument, NULL, OPT_BLOCK },
	{ "vocab", required_argument, NULL, OPT_VOCAB },
	{ "tokenizer", required_argument, NULL, OPT_TOKENIZER },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "attention", required_argument, NULL, OPT_ATTENTION },
	{ "time-shift", no_argument, NULL, OPT_TIME_SHIFT },
	CLI_OPTION_VERBOSE,
	{ "no-pos-emb", no_argument, NULL, OPT_NO_POS_EMB },
	{ "tie-embeddings", no_argument, NULL, OPT_TIE },
	{ "gelu", required_argument, NULL, OPT_GELU },
	{ "dropout", required_argument, NULL, OPT_DROPOUT },
	{ "dropout-embd", required_argument, NULL, OPT_DROPOUT_EMBD },
	{ "dropout-attn", required_argument, NULL, OPT_DROPOUT_ATTN },
	{ "dropout-resid", required_argument, NULL, OPT_DROPOUT_RESID },
	CLI_OPTION_SEED,
	CLI_OPTIONS_END,
};

int main(int argc, char **argv)
{
	static const char *const attentions[] = { "vanilla", "time-weighting", "circulant", NULL };
	static const char *const gelus[] = { "tanh", "erf", NULL };
	mg_gpt_config cfg;
	double dropout = 0.1, d_embd = -1, d_attn = -1, d_resid = -1;
	uint64_t seed = 1337, vocab = 0;
	const char *out = NULL, *tk_path = NULL, *data_path = NULL, *data_name = NULL;
	int force = 0, quiet = 0, verbose = 0, c;
	mg_tokenizer file_tk;
	const mg_tokenizer *tk = NULL;
	mg_tokstream_reader *data = NULL;
	FILE *data_f = NULL;
	mg_gpt_memory need;
	mg_gpt *g;
	mg_kv kv = { 0 };
	mg_ckptw *w;
	cli_out o;
	mg_err e;
	char num[32];

	cli_init("gpt-init", usage);
	mg_gpt_config_default(&cfg);
	while ((c = getopt_long(argc, argv, ":s:o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LAYERS: cfg.n_layer = (uint32_t)cli_parse_u64("--layers", optarg, 1, MG_GPT_LAYERS_MAX); break;
		case OPT_HEADS: cfg.n_head = (uint32_t)cli_parse_u64("--heads", optarg, 1, MG_GPT_EMBD_MAX); break;
		case OPT_EMBD: cfg.n_embd = (uint32_t)cli_parse_u64("--embd", optarg, 1, MG_GPT_EMBD_MAX); break;
		case OPT_BLOCK: cfg.block_size = (uint32_t)cli_parse_u64("--block", optarg, 1, MG_GPT_BLOCK_MAX); break;
		case OPT_VOCAB: vocab = cli_parse_u64("--vocab", optarg, 1, MG_VOCAB_MAX); break;
		case OPT_TOKENIZER: tk_path = optarg; break;
		case OPT_DATA: data_path = optarg; break;
		case OPT_ATTENTION: cfg.attention = (uint32_t)cli_parse_choice("--attention", optarg, attentions); break;
		case OPT_TIME_SHIFT: cfg.time_shift = 1; break;
		case OPT_NO_POS_EMB: cfg.pos_emb = 0; break;
		case OPT_TIE: cfg.tie_embeddings = 1; break;
		case OPT_GELU: cfg.gelu = (uint32_t)cli_parse_choice("--gelu", optarg, gelus); break;
		case OPT_DROPOUT: dropout = cli_parse_double("--dropout", optarg, 0, 0.99); break;
		case OPT_DROPOUT_EMBD: d_embd = cli_parse_double("--dropout-embd", optarg, 0, 0.99); break;
		case OPT_DROPOUT_ATTN: d_attn = cli_parse_double("--dropout-attn", optarg, 0, 0.99); break;
		case OPT_DROPOUT_RESID: d_resid = cli_parse_double("--dropout-resid", optarg, 0, 0.99); break;
		case 's': seed = cli_parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected operand '%s'", argv[optind]);
	if (quiet && verbose)
		cli_usage_error("-q and -v are exclusive");
	cfg.dropout_embd = d_embd >= 0 ? d_embd : dropout;
	cfg.dropout_attn = d_attn >= 0 ? d_attn : dropout;
	cfg.dropout_resid = d_resid >= 0 ? d_resid : dropout;
	cfg.vocab_size = vocab ? (uint32_t)vocab : 1; /* the shape is checked before any file is read */
	if (mg_gpt_config_check(&cfg, &e))
		cli_usage_error("%s", e.msg);
	if (!vocab && !tk_path && !data_path)
		cli_usage_error("no vocabulary size: give --vocab, --tokenizer or --data");

	if (tk_path) {
		cli_read_tokenizer(tk_path, &file_tk);
		tk = &file_tk;
	}
	if (data_path) {
		data_f = cli_open_in(data_path, &data_name);
		if (mg_tokstream_reader_open(&data, data_f, &e))
			cli_die_err(data_name, &e);
		if (!tk)
			tk = mg_tokstream_reader_tokenizer(data);
	}
	if (tk_path && data && mg_tokstream_reader_header(data)->vocab_size > file_tk.vocab_size)
		cli_die(data_name, "the token stream has a vocabulary of %u, more than the tokenizer's %u",
			mg_tokstream_reader_header(data)->vocab_size, file_tk.vocab_size);
	if (vocab) {
		if (tk_path && file_tk.vocab_size > vocab)
			cli_die(tk_path, "the tokenizer has %u tokens, more than --vocab %llu", file_tk.vocab_size,
				(unsigned long long)vocab);
		if (data && mg_tokstream_reader_header(data)->vocab_size > vocab)
			cli_die(data_name, "the token stream has a vocabulary of %u, more than --vocab %llu",
				mg_tokstream_reader_header(data)->vocab_size, (unsigned long long)vocab);
		cfg.vocab_size = (uint32_t)vocab;
	} else {
		cfg.vocab_size = tk ? tk->vocab_size : 0;
		if (data && mg_tokstream_reader_header(data)->vocab_size > cfg.vocab_size)
			cfg.vocab_size = mg_tokstream_reader_header(data)->vocab_size;
	}
	if (mg_gpt_config_check(&cfg, &e))
		cli_usage_error("%s", e.msg);

	/* the parameters, before allocating them */
	if (mg_gpt_memory_train(&cfg, 0, 0, 0, &need, &e) || mg_gpt_memory_check(&need, &e))
		cli_die(NULL, "the model (%s parameters) %s", cli_grouped(mg_gpt_n_params(&cfg), num, sizeof num), e.msg);
	if (mg_gpt_create(&g, &cfg, &e))
		cli_die(NULL, "%s", e.msg);
	mg_gpt_init_weights(g, seed);
	if (mg_gpt_config_to_kv(&cfg, &kv, &e))
		cli_die(NULL, "%s", e.msg);
	cli_out_open(&o, out, 1, force);
	if (mg_ckptw_open(&w, o.f, &kv, tk, NULL, 1, &e))
		cli_die_err(o.name, &e);
	if (mg_gpt_write(g, w, MG_DTYPE_F32, 0, &e)) {
		mg_ckptw_free(w);
		cli_die_err(o.name, &e);
	}
	if (mg_ckptw_close(w, &e))
		cli_die_err(o.name, &e);
	cli_out_commit(&o);
	if (!quiet)
		fprintf(stderr, "%s: %s parameters (%u layer%s, %u head%s, embd %u, block %u, vocab %u, %s%s%s%s, gelu %s)\n",
			cli_prog(), cli_grouped(mg_gpt_n_params(&cfg), num, sizeof num), cfg.n_layer, cli_s(cfg.n_layer),
			cfg.n_head, cli_s(cfg.n_head), cfg.n_embd,
			cfg.block_size, cfg.vocab_size, mg_gpt_attention_name(cfg.attention),
			cfg.time_shift ? ", time-shift" : "", cfg.pos_emb ? "" : ", no pos-emb",
			cfg.tie_embeddings ? ", tied embeddings" : "", mg_gpt_gelu_name(cfg.gelu));
	if (verbose) {
		fprintf(stderr, "%s: dropout: embedding %g, attention %g, residual %g; seed %llu\n", cli_prog(),
			cfg.dropout_embd, cfg.dropout_attn, cfg.dropout_resid, (unsigned long long)seed);
		if (tk)
			fprintf(stderr, "%s: tokenizer: %s, %u token%s, from %s\n", cli_prog(), mg_tokenizer_kind_name(tk->kind),
				tk->vocab_size, cli_s(tk->vocab_size), tk_path ? tk_path : data_name);
		else
			fprintf(stderr, "%s: tokenizer: none (ids only)\n", cli_prog());
	}
	if (data) {
		mg_tokstream_reader_close(data);
		cli_close_in(data_f, data_name);
	}
	if (tk_path)
		mg_tokenizer_free(&file_tk);
	mg_kv_free(&kv);
	mg_gpt_free(g);
	return CLI_EXIT_OK;
}
