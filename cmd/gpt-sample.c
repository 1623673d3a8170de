/* gpt-sample: text or tokens from a checkpoint, generated in batches by
 * lib/infer/generate.h; or one completion per prompt record, for evaluation
 * (adder-gen --score). Options, prompts, messages and output here. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpe/bpe_encode.h"
#include "cli.h"
#include "core/autothreads.h"
#include "core/clock.h"
#include "core/threads.h"
#include "infer/generate.h"
#include "infer/infer.h"
#include "infer/sample.h"
#include "io/ckpt.h"
#include "io/tokstream.h"
#include "model/gpt.h"
#include "model/gpt_memory.h"

static const char usage[] =
	"usage: gpt-sample [-fqv] [--prompt text | --prompt-file file |\n"
	"                  --prompt-tokens file | --start-token id | --start-data file]\n"
	"                  [--max-new-tokens n] [--num-samples n] [--temperature t]\n"
	"                  [--top-k k] [--top-p p] [--greedy] [-s seed] [--tokens]\n"
	"                  [--slide n] [--batch n] [-j threads] [-o file] [checkpoint]\n"
	"       gpt-sample --complete file [-fqv] [--max-new-tokens n] [--temperature t]\n"
	"                  [--top-k k] [--top-p p] [--greedy] [-s seed] [--slide n]\n"
	"                  [--batch n] [-j threads] [-o file] [checkpoint]\n";

static const char options[] =
	"\n"
	"  --prompt text          start from this text (encoded with the checkpoint's tokenizer)\n"
	"  --prompt-file file     start from the text of a file\n"
	"  --prompt-tokens file   start from the ids of a token stream\n"
	"  --start-token id       start from this id (default: id 0, not printed as text)\n"
	"  --start-data file      draw the first token from the first tokens of the records\n"
	"                         of a token stream (add-one smoothed)\n"
	"  --max-new-tokens n     tokens to generate per sample or prompt (default 500; with\n"
	"                         --complete: enough to fill the block, at least 1)\n"
	"  --num-samples n        samples to generate (default 1)\n"
	"  --temperature t        divide the logits by t; 0 is --greedy (default 1)\n"
	"  --top-k k              keep the k most likely tokens and ties, 0 = all (default 0)\n"
	"  --top-p p              keep the most likely tokens up to probability p (default 1)\n"
	"  --greedy               always take the most likely token\n"
	"  -s, --seed n           seed of the draws (default 1337)\n"
	"  --tokens               write a token stream (one record per sample), not text\n"
	"  --complete file        complete every record of a token stream of prompts\n"
	"  --slide n              tokens dropped when the context is full: 1 keeps the last\n"
	"                         block_size tokens every step, as minGPT (default 1)\n"
	"  --batch n              sequences generated together (default 64)\n"
	"  -j, --threads n        threads; 0 = the CPUs available, or 1 while timing shows\n"
	"                         it faster (a busy machine) (default 0)\n"
	"  -o, --output file      write to file (atomically) instead of stdout\n"
	"  -f, --force            write a token stream to a terminal\n"
	"  -q, --quiet            no warnings\n"
	"  -v, --verbose          print the model and the speed on stderr\n"
	"  -h, --help             print this help\n"
	"  -V, --version          print the version\n";

enum {
	OPT_PROMPT = 256, OPT_PROMPT_FILE, OPT_PROMPT_TOKENS, OPT_START_TOKEN, OPT_START_DATA, OPT_MAX_NEW,
	OPT_NUM_SAMPLES, OPT_TEMPERATURE, OPT_TOP_K, OPT_TOP_P, OPT_GREEDY, OPT_TOKENS, OPT_COMPLETE, OPT_SLIDE,
	OPT_BATCH,
};

static const struct option longopts[] = {
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ "prompt-file", required_argument, NULL, OPT_PROMPT_FILE },
	{ "prompt-tokens", required_argument, NULL, OPT_PROMPT_TOKENS },
	{ "start-token", required_argument, NULL, OPT_START_TOKEN },
	{ "start-data", required_argument, NULL, OPT_START_DATA },
	{ "max-new-tokens", required_argument, NULL, OPT_MAX_NEW },
	{ "num-samples", required_argument, NULL, OPT_NUM_SAMPLES },
	{ "temperature", required_argument, NULL, OPT_TEMPERATURE },
	{ "top-k", required_argument, NULL, OPT_TOP_K },
	{ "top-p", required_argument, NULL, OPT_TOP_P },
	{ "greedy", no_argument, NULL, OPT_GREEDY },
	CLI_OPTION_SEED,
	{ "tokens", no_argument, NULL, OPT_TOKENS },
	{ "complete", required_argument, NULL, OPT_COMPLETE },
	{ "slide", required_argument, NULL, OPT_SLIDE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	CLI_OPTION_THREADS,
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

#define PROMPT_BYTES_MAX (64u << 20)  /* a text prompt */
#define PROMPT_TOKENS_MAX (16u << 20) /* any prompt */
#define SEPARATOR "---------------\n" /* between text samples, as nanoGPT */

enum { SRC_NONE, SRC_TEXT, SRC_TEXT_FILE, SRC_TOKENS, SRC_START_TOKEN, SRC_START_DATA };

typedef struct opts {
	int src;              /* SRC_*: where the prompt comes from */
	const char *src_arg;  /* its text or file */
	uint64_t start_token;
	uint64_t max_new;     /* UINT64_MAX: the default */
	uint64_t samples, seed, slide, batch, threads;
	mg_sample_opts so;
	int tokens, force, quiet, verbose;
	const char *complete, *out, *ckpt;
} opts;

/* The run: the model, the tokenizer used for text and the output stream,
 * and the ids allowed. */
typedef struct ctx {
	const opts *o;
	const char *ckpt_name;
	mg_ckpt ck;
	mg_gpt_config cfg;
	mg_gpt *g; /* until the engine is built */
	mg_infer *inf;
	mg_sampler *smp;
	mg_generate *gen;
	const mg_tokenizer *tk; /* the checkpoint's, else the prompt stream's, else NULL */
	const char *tk_from;    /* where tk came from, for messages */
	uint32_t V;             /* ids below this may be read and generated: tk's size, else vocab_size */
	uint32_t n_seq;
	cli_out out;
	mg_tokstream_writer *tw;
	int stream_text; /* flush after every token (stdout is a terminal) */
	int stream_first; /* sequence 0 is written as it comes, not kept */
	mg_ids *got;      /* n_seq: the new tokens of each sequence, grown as they come */
	double t_start;
	mg_tokstream_data kept; /* the prompt stream whose tokenizer is used */
	mg_autothreads at; /* -j 0: the thread count, chosen by timing */
	int auto_threads;
} ctx;

static void *xmalloc(size_t n, const char *what)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		cli_die(NULL, "out of memory for %s", what);
	return p;
}

/* ------------------------------------------------------------------ inputs */

static void read_all(FILE *f, const char *name, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0, got;
	uint8_t *p = xmalloc(cap, "the prompt");

	while ((got = fread(p + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n > PROMPT_BYTES_MAX)
			cli_die(name, "the prompt is over the limit of %u bytes", PROMPT_BYTES_MAX);
		if (n == cap) {
			cap *= 2;
			if (!(p = realloc(p, cap)))
				cli_die(name, "out of memory for the prompt");
		}
	}
	if (ferror(f))
		cli_die(name, "read error: %s", strerror(errno));
	*buf = p;
	*len = n;
}

/* A token stream given with the model: its tokenizer must be the
 * checkpoint's; when the checkpoint has none, it becomes the one used if it
 * covers exactly the model's vocabulary. */
static void adopt_stream_tokenizer(ctx *c, const mg_tokstream_data *d, const char *name)
{
	mg_err e;
	int same;

	if (!d->has_tokenizer)
		return;
	if (c->ck.has_tokenizer) {
		if (mg_tokenizer_equal(&c->ck.tk, &d->tk, &same, &e))
			cli_die(NULL, "%s", e.msg);
		if (!same)
			cli_die(name, "its tokenizer differs from the one in the checkpoint %s", c->ckpt_name);
		return;
	}
	if (c->tk || d->tk.vocab_size != c->cfg.vocab_size)
		return;
	c->tk = &d->tk;
	c->tk_from = name;
	c->V = d->tk.vocab_size;
}

static void read_stream(const char *path, mg_tokstream_data *d, const char **name)
{
	FILE *f = cli_open_in(path, name);
	mg_err e;

	if (mg_tokstream_data_read(f, d, &e))
		cli_die_err(*name, &e);
	cli_close_in(f, *name);
}

/* Every id of ids[0..n) below c->V. */
static void check_ids(const ctx *c, const char *name, const uint32_t *ids, uint64_t n, const char *what)
{
	for (uint64_t i = 0; i < n; i++)
		if (ids[i] >= c->V)
			cli_die(name, "%stoken %u at index %llu is not below the %s %u", what, ids[i], (unsigned long long)i,
				c->tk ? "tokenizer's vocabulary size" : "model's vocab_size", c->V);
}

static void encode_text(ctx *c, const char *name, const uint8_t *s, size_t n, mg_ids *out)
{
	mg_bpe_encoder *enc;
	mg_bpe_encode_worker *w;
	mg_err e;

	if (!c->tk)
		cli_die(c->ckpt_name, "the checkpoint has no tokenizer to encode the prompt "
				      "(give ids with --prompt-tokens)");
	if (mg_bpe_encoder_init(&enc, c->tk, 0, &e))
		cli_die(c->tk_from, "cannot encode the prompt: %s", e.msg);
	if (mg_bpe_encode_worker_init(&w, enc, &e))
		cli_die(NULL, "%s", e.msg);
	if (mg_bpe_encode_worker_encode(w, s, n, 0, out, &e))
		cli_die(name, "%s", e.msg);
	mg_bpe_encode_worker_free(w);
	mg_bpe_encoder_free(enc);
}

/* The prompt of sample mode: its ids, and for --start-data the table of
 * first tokens (counts, V entries). *echo: the prompt is printed as text. */
static void make_prompt(ctx *c, mg_ids *prompt, uint64_t **counts, int *echo)
{
	const opts *o = c->o;
	const char *name = NULL;
	mg_tokstream_data d;

	*counts = NULL;
	*echo = 1;
	memset(&d, 0, sizeof d);
	switch (o->src) {
	case SRC_TEXT:
		encode_text(c, "--prompt", (const uint8_t *)o->src_arg, strlen(o->src_arg), prompt);
		name = "--prompt";
		break;
	case SRC_TEXT_FILE: {
		uint8_t *buf;
		size_t len;
		FILE *f = cli_open_in(o->src_arg, &name);
		read_all(f, name, &buf, &len);
		cli_close_in(f, name);
		encode_text(c, name, buf, len, prompt);
		free(buf);
		break;
	}
	case SRC_TOKENS:
		read_stream(o->src_arg, &d, &name);
		adopt_stream_tokenizer(c, &d, name);
		if (d.n > PROMPT_TOKENS_MAX)
			cli_die(name, "the prompt has %llu tokens, over the limit of %u", (unsigned long long)d.n,
				PROMPT_TOKENS_MAX);
		check_ids(c, name, d.ids, d.n, "");
		if (mg_ids_reserve(prompt, d.n))
			cli_die(name, "out of memory for the prompt");
		if (d.n) /* an empty stream has no ids array */
			memcpy(prompt->v, d.ids, d.n * sizeof *d.ids);
		prompt->n = d.n;
		break;
	case SRC_START_TOKEN:
	case SRC_NONE:
		if (o->start_token >= c->V)
			cli_usage_error("invalid value '%llu' for --start-token: the %s has %u tokens",
					(unsigned long long)o->start_token, c->tk ? "tokenizer" : "model", c->V);
		if (mg_ids_reserve(prompt, 1))
			cli_die(NULL, "out of memory");
		prompt->v[prompt->n++] = (uint32_t)o->start_token;
		*echo = o->src == SRC_START_TOKEN;
		break;
	case SRC_START_DATA: {
		uint64_t r = UINT64_MAX;
		uint32_t t;
		mg_err e;
		read_stream(o->src_arg, &d, &name);
		adopt_stream_tokenizer(c, &d, name);
		if (mg_sample_counts_first(&d, c->V, counts, &r, &t, &e)) {
			if (r == UINT64_MAX)
				cli_die(name, "%s", e.msg);
			cli_die(name, "record %llu starts with token %u, not below the %s %u", (unsigned long long)r, t,
				c->tk ? "tokenizer's vocabulary size" : "model's vocab_size", c->V);
		}
		break;
	}
	}
	if (o->src == SRC_TEXT || o->src == SRC_TEXT_FILE || o->src == SRC_TOKENS) {
		if (!prompt->n)
			cli_die(name, "the prompt is empty");
		if (prompt->n > PROMPT_TOKENS_MAX)
			cli_die(name, "the prompt has %zu tokens, over the limit of %u", prompt->n, PROMPT_TOKENS_MAX);
		if (prompt->n > c->cfg.block_size && !o->quiet)
			cli_warn(name, "warning: the prompt has %zu tokens; the model sees the last %u (block_size)",
				 prompt->n, c->cfg.block_size);
	}
	/* d owns the tokenizer that c->tk may point to: keep it for the run */
	if (c->tk == &d.tk) {
		free(d.ids), free(d.mask), free(d.start);
		d.ids = NULL, d.mask = NULL, d.start = NULL;
		c->kept = d;
		c->tk = &c->kept.tk;
	} else {
		mg_tokstream_data_free(&d);
	}
}

/* ------------------------------------------------------------------ model */

static void load_model(ctx *c)
{
	const opts *o = c->o;
	FILE *f = cli_open_in(o->ckpt, &c->ckpt_name);
	mg_err e;

	if (mg_ckpt_read_mapped(f, &c->ck, &e))
		cli_die_err(c->ckpt_name, &e);
	cli_close_in(f, c->ckpt_name);
	if (mg_gpt_load(&c->g, &c->ck, &e))
		cli_die_err(c->ckpt_name, &e);
	mg_ckpt_drop_data(&c->ck); /* the model has its own copy */
	c->cfg = *mg_gpt_config_of(c->g);
	if (o->slide > c->cfg.block_size)
		cli_usage_error("invalid value '%llu' for --slide: the model's block_size is %u",
				(unsigned long long)o->slide, c->cfg.block_size);
	c->tk = c->ck.has_tokenizer ? &c->ck.tk : NULL;
	c->tk_from = c->ckpt_name;
	c->V = c->tk ? c->tk->vocab_size : c->cfg.vocab_size;
}

/* The engine for n sequences at a time (at least 1), the sampler and the
 * generator over them; the model is then freed (the engine has its own copy
 * of the weights). */
static void start_engine(ctx *c, uint64_t n)
{
	const opts *o = c->o;
	mg_gpt_memory need;
	mg_err e;

	c->n_seq = (uint32_t)(n < o->batch ? (n ? n : 1) : o->batch);
	/* the engine's weights, caches and buffers, before allocating them */
	mg_gpt_memory_infer(&c->cfg, c->n_seq, &need);
	if (mg_gpt_memory_check(&need, &e))
		cli_die(c->ckpt_name, "%u sequences at a time (--batch) %s", c->n_seq, e.msg);
	if (mg_infer_init(&c->inf, c->g, c->n_seq, (uint32_t)o->slide, &e))
		cli_die(c->ckpt_name, "%s", e.msg);
	mg_gpt_free(c->g);
	c->g = NULL;
	if (mg_sampler_init(&c->smp, c->V, &o->so, &e))
		cli_usage_error("%s", e.msg);
	if (mg_generate_init(&c->gen, c->inf, c->smp, c->n_seq, c->V, c->auto_threads ? &c->at : NULL, &e))
		cli_die(NULL, "%s", e.msg);
	if (o->verbose)
		fprintf(stderr, "%s: %s: %u layer%s, %u head%s, embd %u, block %u, vocab %u, %s%s%s; %u sequence%s, "
				"%.1f MiB, %d thread%s%s\n",
			cli_prog(), c->ckpt_name, c->cfg.n_layer, cli_s(c->cfg.n_layer), c->cfg.n_head, cli_s(c->cfg.n_head), c->cfg.n_embd, c->cfg.block_size,
			c->cfg.vocab_size, mg_gpt_attention_name(c->cfg.attention), c->cfg.time_shift ? ", time-shift" : "",
			c->cfg.pos_emb ? "" : ", no positional embedding", c->n_seq, cli_s(c->n_seq),
			(double)mg_infer_bytes(c->inf) / 1048576.0, mg_threads_get(), cli_s((uint64_t)mg_threads_get()), c->auto_threads ? " (or 1, by timing)" : "");
}

/* ------------------------------------------------------- output and modes */

static void put_text(ctx *c, const uint32_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint8_t *p = mg_tokenizer_token(c->tk, ids[i], &len);
		fwrite(p, 1, len, c->out.f);
	}
}

/* Text streams the first sample of a batch as it comes. */
/* Each new token: sequence 0 of a text run is written at once; the others
 * are kept, in arrays that grow with them (nothing is allocated for
 * --max-new-tokens up front). */
static void take_token(void *arg, uint32_t s, uint64_t t, uint32_t id)
{
	ctx *c = arg;
	mg_ids *a = &c->got[s];

	if (s == 0 && c->stream_first) {
		put_text(c, &id, 1);
		if (c->stream_text)
			fflush(c->out.f);
		return;
	}
	if (mg_ids_reserve(a, 1))
		cli_die(NULL, "out of memory for the samples (%llu tokens)", (unsigned long long)t + 1);
	a->v[a->n++] = id;
}

static void got_init(ctx *c)
{
	c->got = calloc(c->n_seq, sizeof *c->got);
	if (!c->got)
		cli_die(NULL, "out of memory");
}

static void got_free(ctx *c)
{
	for (uint32_t i = 0; i < c->n_seq; i++)
		mg_ids_free(&c->got[i]);
	free(c->got);
	c->got = NULL;
}

static void put_record(ctx *c, const uint32_t *prompt, size_t np, const uint32_t *gen, size_t ng)
{
	static const uint8_t zeros[4096], ones[4096] = { [0 ... 4095] = 1 };
	mg_err e;

	if (mg_tokstream_writer_record(c->tw, &e))
		cli_die_err(c->out.name, &e);
	for (size_t k = 0; k < np; k += 4096)
		if (mg_tokstream_writer_put(c->tw, prompt + k, zeros, np - k < 4096 ? np - k : 4096, &e))
			cli_die_err(c->out.name, &e);
	for (size_t k = 0; k < ng; k += 4096)
		if (mg_tokstream_writer_put(c->tw, gen + k, ones, ng - k < 4096 ? ng - k : 4096, &e))
			cli_die_err(c->out.name, &e);
}

static void open_tokens(ctx *c, uint32_t record_len)
{
	mg_tokstream_header h = mg_tokstream_header_make(c->V, MG_LAYOUT_EXAMPLES, 1, record_len);
	mg_err e;

	cli_out_open(&c->out, c->o->out, 1, c->o->force);
	if (mg_tokstream_writer_open(&c->tw, c->out.f, &h, c->tk, 6, &e))
		cli_die_err(c->out.name, &e);
}

static void close_output(ctx *c)
{
	mg_err e;

	if (c->tw && mg_tokstream_writer_close(c->tw, &e))
		cli_die_err(c->out.name, &e);
	c->tw = NULL;
	cli_out_commit(&c->out);
}

static void sample_mode(ctx *c)
{
	const opts *o = c->o;
	uint64_t max_new = o->max_new == UINT64_MAX ? 500 : o->max_new, *counts;
	mg_ids prompt = { 0 };
	int echo;
	mg_err e;

	if (o->src == SRC_START_DATA && !max_new)
		cli_usage_error("--start-data needs --max-new-tokens of at least 1");
	make_prompt(c, &prompt, &counts, &echo);
	start_engine(c, o->samples);
	mg_generate_set_first(c->gen, counts);
	if (!o->tokens) {
		if (!c->tk)
			cli_die(c->ckpt_name, "the checkpoint has no tokenizer to turn tokens into text (use --tokens)");
		if (c->tk->kind == MG_TOKENIZER_PALETTE)
			cli_die(c->tk_from, "the tokenizer is a palette: images are not text (use --tokens)");
		cli_out_open(&c->out, o->out, 0, o->force);
		c->stream_text = !o->out && isatty(STDOUT_FILENO);
	} else {
		uint64_t len = prompt.n + max_new;
		open_tokens(c, len <= UINT32_MAX ? (uint32_t)len : 0);
	}
	got_init(c);
	c->stream_first = !o->tokens; /* text streams the first sample of a batch */
	c->t_start = mg_clock_now();
	for (uint64_t first = 0; first < o->samples; first += c->n_seq) {
		uint32_t n = (uint32_t)(o->samples - first < c->n_seq ? o->samples - first : c->n_seq);
		for (uint32_t i = 0; i < n; i++) {
			c->got[i].n = 0;
			if (mg_generate_start(c->gen, i, prompt.v, prompt.n, o->seed, first + i, max_new, NULL, &e))
				cli_die(NULL, "%s", e.msg);
		}
		if (o->tokens) {
			if (mg_generate_run(c->gen, n, take_token, c, &e))
				cli_die(c->ckpt_name, "%s", e.msg);
			for (uint32_t i = 0; i < n; i++)
				put_record(c, prompt.v, prompt.n, c->got[i].v, c->got[i].n);
			continue;
		}
		/* text: the first sample of the batch as it comes, then the others */
		if (first)
			fputs(SEPARATOR, c->out.f);
		if (echo)
			put_text(c, prompt.v, prompt.n);
		if (c->stream_text)
			fflush(c->out.f);
		if (mg_generate_run(c->gen, n, take_token, c, &e))
			cli_die(c->ckpt_name, "%s", e.msg);
		fputc('\n', c->out.f);
		for (uint32_t i = 1; i < n; i++) {
			fputs(SEPARATOR, c->out.f);
			if (echo)
				put_text(c, prompt.v, prompt.n);
			put_text(c, c->got[i].v, c->got[i].n);
			fputc('\n', c->out.f);
		}
		if (c->stream_text)
			fflush(c->out.f);
	}
	close_output(c);
	got_free(c);
	free(counts);
	mg_ids_free(&prompt);
}

/* New tokens for a prompt of n tokens: --max-new-tokens, or enough to fill
 * the block (the last one predicted from block_size tokens), at least 1. */
static uint64_t completion_len(const ctx *c, uint64_t n)
{
	if (c->o->max_new != UINT64_MAX)
		return c->o->max_new;
	return n < c->cfg.block_size ? c->cfg.block_size + 1 - n : 1;
}

static void complete_mode(ctx *c)
{
	const opts *o = c->o;
	const char *name;
	mg_tokstream_data d;
	uint64_t n_rec, *start, long_prompts = 0;
	uint32_t record_len = 0;
	mg_err e;

	read_stream(o->complete, &d, &name);
	adopt_stream_tokenizer(c, &d, name);
	check_ids(c, name, d.ids, d.n, "");
	n_rec = d.h.layout == MG_LAYOUT_STREAM ? d.n > 0 : d.n_records;
	start = d.start;
	if (d.h.layout == MG_LAYOUT_STREAM) {
		static uint64_t whole[2];
		whole[1] = d.n;
		start = whole;
	}
	for (uint64_t r = 0; r < n_rec; r++) {
		uint64_t len = start[r + 1] - start[r], k = completion_len(c, len);
		if (r == 0 && len + k <= UINT32_MAX)
			record_len = (uint32_t)(len + k);
		else if (len + k != record_len)
			record_len = 0;
		long_prompts += len > c->cfg.block_size;
	}
	if (long_prompts && !o->quiet)
		cli_warn(name, "warning: %llu prompt%s %s more than %u tokens (block_size); the model sees their last %u",
			 (unsigned long long)long_prompts, cli_s(long_prompts), long_prompts == 1 ? "has" : "have", c->cfg.block_size, c->cfg.block_size);
	start_engine(c, n_rec);
	open_tokens(c, record_len);
	got_init(c);
	c->t_start = mg_clock_now();
	for (uint64_t first = 0; first < n_rec; first += c->n_seq) {
		uint32_t n = (uint32_t)(n_rec - first < c->n_seq ? n_rec - first : c->n_seq);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t r = first + i, len = start[r + 1] - start[r];
			c->got[i].n = 0;
			if (mg_generate_start(c->gen, i, d.ids + start[r], len, o->seed, r, completion_len(c, len), NULL,
					      &e))
				cli_die(NULL, "%s", e.msg);
		}
		if (mg_generate_run(c->gen, n, take_token, c, &e))
			cli_die(c->ckpt_name, "%s", e.msg);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t r = first + i, len = start[r + 1] - start[r];
			put_record(c, d.ids + start[r], len, c->got[i].v, c->got[i].n);
		}
	}
	close_output(c);
	got_free(c);
	if (c->tk == &d.tk) /* the output is written: the tokenizer is no longer needed */
		c->tk = NULL;
	mg_tokstream_data_free(&d);
}

/* ------------------------------------------------------------------- main */

static void set_src(opts *o, int src, const char *arg)
{
	if (o->src != SRC_NONE)
		cli_usage_error("give at most one of --prompt, --prompt-file, --prompt-tokens, --start-token, "
				"--start-data");
	o->src = src;
	o->src_arg = arg;
}

static int is_stdin(const char *path) { return !path || !strcmp(path, "-"); }

/* OpenMP threads wait passively unless the environment says otherwise */
CLI_THREADS_PASSIVE

int main(int argc, char **argv)
{
	opts o = { 0 };
	ctx c;
	int ch;

	memset(&c, 0, sizeof c);
	o.max_new = UINT64_MAX;
	o.samples = 1;
	o.seed = 1337;
	o.slide = 1;
	o.batch = 64;
	mg_sample_opts_default(&o.so);
	cli_init("gpt-sample", usage);
	while ((ch = getopt_long(argc, argv, ":s:j:o:fqvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_PROMPT:
			set_src(&o, SRC_TEXT, optarg);
			if (!*optarg)
				cli_usage_error("invalid value '' for --prompt: the prompt is empty");
			break;
		case OPT_PROMPT_FILE: set_src(&o, SRC_TEXT_FILE, optarg); break;
		case OPT_PROMPT_TOKENS: set_src(&o, SRC_TOKENS, optarg); break;
		case OPT_START_TOKEN:
			set_src(&o, SRC_START_TOKEN, optarg);
			o.start_token = cli_parse_u64("--start-token", optarg, 0, MG_VOCAB_MAX - 1);
			break;
		case OPT_START_DATA: set_src(&o, SRC_START_DATA, optarg); break;
		case OPT_MAX_NEW: o.max_new = cli_parse_u64("--max-new-tokens", optarg, 0, 1000000000); break;
		case OPT_NUM_SAMPLES: o.samples = cli_parse_u64("--num-samples", optarg, 1, 1000000000); break;
		case OPT_TEMPERATURE: o.so.temperature = cli_parse_double("--temperature", optarg, 0.0, 1e6); break;
		case OPT_TOP_K: o.so.top_k = (uint32_t)cli_parse_u64("--top-k", optarg, 0, UINT32_MAX); break;
		case OPT_TOP_P:
			o.so.top_p = cli_parse_double("--top-p", optarg, 0.0, 1.0);
			if (o.so.top_p <= 0.0)
				cli_usage_error("invalid value '%s' for --top-p: expected a number in (0, 1]", optarg);
			break;
		case OPT_GREEDY: o.so.greedy = 1; break;
		case 's': o.seed = cli_parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case OPT_TOKENS: o.tokens = 1; break;
		case OPT_COMPLETE: o.complete = optarg; break;
		case OPT_SLIDE: o.slide = cli_parse_u64("--slide", optarg, 1, MG_GPT_BLOCK_MAX); break;
		case OPT_BATCH: o.batch = cli_parse_u64("--batch", optarg, 1, 65536); break;
		case 'j': o.threads = cli_parse_u64("--threads", optarg, 0, 4096); break;
		case 'o': o.out = optarg; break;
		case 'f': o.force = 1; break;
		case 'q': o.quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(ch, argv);
		}
	}
	if (argc - optind > 1)
		cli_usage_error("unexpected operand '%s'", argv[optind + 1]);
	o.ckpt = optind < argc ? argv[optind] : NULL;
	if (o.complete) {
		if (o.src != SRC_NONE)
			cli_usage_error("--complete takes its prompts from its file: no --prompt, --prompt-file, "
					"--prompt-tokens, --start-token or --start-data");
		if (o.samples != 1)
			cli_usage_error("--complete writes one completion per prompt: no --num-samples");
		o.tokens = 1;
	}
	{
		const char *side = o.complete ? o.complete
				   : o.src == SRC_TEXT_FILE || o.src == SRC_TOKENS || o.src == SRC_START_DATA ? o.src_arg
																     : NULL;
		if (side && is_stdin(side) && is_stdin(o.ckpt))
			cli_usage_error("the checkpoint and the %s cannot both come from standard input",
					o.complete ? "prompts" : "prompt");
	}
	cli_in_refuse_tty(o.ckpt, "checkpoint");
	c.o = &o;
	c.auto_threads = !o.threads && mg_threads_available() > 1;
	if (c.auto_threads) /* all threads, unless timing shows one is faster */
		mg_autothreads_init(&c.at, mg_threads_available());
	else
		mg_threads_set((int)o.threads);
	load_model(&c);
	if (o.complete)
		complete_mode(&c);
	else
		sample_mode(&c);
	if (o.verbose) {
		mg_infer_stats st;
		uint64_t n = mg_generate_count(c.gen);
		double t = mg_clock_now() - c.t_start;
		mg_infer_stats_get(c.inf, &st);
		fprintf(stderr, "%s: %llu token%s in %.3f s: %.1f tokens/s; %llu position%s evaluated, %llu window%s "
				"recomputed; %d thread%s at the end\n",
			cli_prog(), (unsigned long long)n, cli_s(n), t, t > 0 ? (double)n / t : 0.0,
			(unsigned long long)st.rows, cli_s(st.rows), (unsigned long long)st.recomputes, cli_s(st.recomputes),
			mg_threads_get(), cli_s((uint64_t)mg_threads_get()));
	}
	mg_generate_free(c.gen);
	mg_sampler_free(c.smp);
	mg_infer_free(c.inf);
	mg_ckpt_free(&c.ck);
	mg_tokstream_data_free(&c.kept);
	return CLI_EXIT_OK;
}
