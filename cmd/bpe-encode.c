/* bpe-encode: text to a token stream with a BPE or character model, and
 * token streams (binary or decimal ids) back to the exact bytes. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpe/bpe_encode.h"
#include "bpe/bpe_stream.h"
#include "bpe/gpt2_import.h"
#include "cli.h"
#include "core/clock.h"
#include "io/idtext.h"
#include "io/tokstream.h"

static const char usage[] =
	"usage: bpe-encode [-fqv] [-j n] -m model | --gpt2 dir [--allow-special] [--ids]\n"
	"                  [--level n] [--no-embed] [--separator text] [-o file] [file ...]\n"
	"       bpe-encode -d [-qv] [-m model | --gpt2 dir] [--ids] [-o file] [file ...]\n"
	"       bpe-encode --to-ids [-qv] [-o file] [file ...]\n"
	"       bpe-encode --from-ids [-fqv] [--vocab n | -m model | --gpt2 dir]\n"
	"                  [--layout name] [-o file] [file ...]\n";

static const char options[] =
	"\n"
	"  -m, --model file   tokenizer model (.tkz) from bpe-train\n"
	"  --gpt2 dir         GPT-2's model: dir/encoder.json and dir/vocab.bpe\n"
	"  --allow-special    encode the model's special tokens where their text occurs\n"
	"                     (default: such text is ordinary text)\n"
	"  --ids              token ids as decimal text, one line per document (default:\n"
	"                     a binary token stream); with -d, read such text\n"
	"  --separator text   a document ends after each occurrence of text (escapes\n"
	"                     \\n \\t \\r \\\\ \\xHH); default: one document per file\n"
	"  -j, --threads n    threads, 1-256, or 0 for one per CPU (default 1)\n"
	"  --level n          zlib level of the stream, 1-9 (default 1)\n"
	"  --no-embed         do not store the model in the stream\n"
	"  -d, --decode       token stream (or --ids text) to the bytes it encodes\n"
	"  --to-ids           token stream to decimal ids, one line per record, ids with\n"
	"                     loss mask 0 in parentheses: (7)\n"
	"  --from-ids         decimal ids (as --to-ids writes them) to a token stream\n"
	"  --vocab n          with --from-ids and no model: the vocabulary size\n"
	"  --layout name      with --from-ids: stream, documents or examples (default\n"
	"                     examples; each line is a record)\n"
	"  -o, --output file  write to file (atomically) instead of stdout\n"
	"  -f, --force        write binary data to a terminal\n"
	"  -q, --quiet        no summary on stderr, even after a long run\n"
	"  -v, --verbose      print a summary on stderr (default: only when the run\n"
	"                     took over 2 s and stderr is a terminal)\n"
	"  -h, --help         print this help\n"
	"  -V, --version      print the version\n";

enum { OPT_GPT2 = 256, OPT_SPECIAL, OPT_IDS, OPT_SEP, OPT_LEVEL, OPT_NO_EMBED, OPT_TO_IDS, OPT_FROM_IDS, OPT_VOCAB,
       OPT_LAYOUT };

static const struct option longopts[] = {
	{ "model", required_argument, NULL, 'm' },
	{ "gpt2", required_argument, NULL, OPT_GPT2 },
	{ "allow-special", no_argument, NULL, OPT_SPECIAL },
	{ "ids", no_argument, NULL, OPT_IDS },
	{ "separator", required_argument, NULL, OPT_SEP },
	CLI_OPTION_THREADS,
	CLI_OPTION_VERBOSE,
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "no-embed", no_argument, NULL, OPT_NO_EMBED },
	{ "decode", no_argument, NULL, 'd' },
	{ "to-ids", no_argument, NULL, OPT_TO_IDS },
	{ "from-ids", no_argument, NULL, OPT_FROM_IDS },
	{ "vocab", required_argument, NULL, OPT_VOCAB },
	{ "layout", required_argument, NULL, OPT_LAYOUT },
	CLI_OPTIONS_END,
};

typedef struct opts {
	const char *model, *gpt2, *out;
	int special, ids, decode, force, quiet, verbose, embed, level, to_ids, from_ids, layout;
	uint32_t vocab;
	uint32_t threads;
	uint8_t *sep;
	size_t sep_len;
	double t0; /* when main started: the summary's clock */
} opts;

/* Whether to print the summary line: with -v, or after a run of over 2 s
 * when stderr is a terminal (someone waited and may want to know); a
 * short run in a pipe stays silent. */
static int summary(const opts *o)
{
	return o->verbose || (!o->quiet && mg_clock_now() - o->t0 > 2.0 && cli_stderr_tty());
}

/* --separator: the text with backslash escapes resolved. */
static uint8_t *parse_sep(const char *s, size_t *len)
{
	uint8_t *o = malloc(strlen(s) + 1);
	size_t n = 0;

	if (!o)
		cli_die(NULL, "out of memory");
	while (*s) {
		int hi, lo;
		if (*s != '\\') {
			o[n++] = (uint8_t)*s++;
			continue;
		}
		switch (s[1]) {
		case 'n': o[n++] = '\n'; s += 2; break;
		case 't': o[n++] = '\t'; s += 2; break;
		case 'r': o[n++] = '\r'; s += 2; break;
		case '\\': o[n++] = '\\'; s += 2; break;
		case 'x':
			hi = s[2] >= '0' && s[2] <= '9' ? s[2] - '0' : s[2] >= 'a' && s[2] <= 'f' ? s[2] - 'a' + 10 : s[2] >= 'A' && s[2] <= 'F' ? s[2] - 'A' + 10 : -1;
			lo = hi < 0 ? -1 : s[3] >= '0' && s[3] <= '9' ? s[3] - '0' : s[3] >= 'a' && s[3] <= 'f' ? s[3] - 'a' + 10 : s[3] >= 'A' && s[3] <= 'F' ? s[3] - 'A' + 10 : -1;
			if (lo < 0) {
				free(o); /* freed before exit: no leak for LeakSanitizer to report */
				cli_usage_error("invalid value for --separator: '\\x' needs two hex digits");
			}
			o[n++] = (uint8_t)(hi << 4 | lo);
			s += 4;
			break;
		default:
			free(o);
			cli_usage_error("invalid value for --separator: unknown escape '\\%c'", s[1] ? s[1] : ' ');
		}
	}
	if (n == 0) {
		free(o);
		cli_usage_error("invalid value for --separator: empty");
	}
	*len = n;
	return o;
}

/* The model of -m or --gpt2, if either was given; returns 0 if neither. */
static int load_model(const opts *o, mg_tokenizer *tk)
{
	mg_err e;

	if (o->model) {
		const char *name;
		FILE *f = cli_open_in(o->model, &name);
		if (mg_tokenizer_load(f, tk, &e))
			cli_die_err(name, &e);
		cli_close_in(f, name);
		return 1;
	}
	if (o->gpt2) {
		if (mg_gpt2_import_dir(o->gpt2, tk, &e))
			cli_die(NULL, "%s", e.msg);
		return 1;
	}
	return 0;
}

/* --- encoding --- */

typedef struct sink_ctx {
	mg_tokstream_writer *w;
	mg_idtext_writer *it;
	int records;
} sink_ctx;

static int sink_put(void *c, const uint32_t *ids, size_t n, mg_err *e)
{
	sink_ctx *s = c;
	return s->w ? mg_tokstream_writer_put(s->w, ids, NULL, n, e) : mg_idtext_put(s->it, ids, n, e);
}

static int sink_doc_end(void *c, mg_err *e)
{
	sink_ctx *s = c;
	if (!s->records)
		return MG_OK;
	return s->w ? mg_tokstream_writer_record(s->w, e) : mg_idtext_end_line(s->it, e);
}

static void encode(const opts *o, char **files, int n_files)
{
	mg_tokenizer tk;
	mg_bpe_encoder *enc;
	mg_bpe_stream_opts eo = { o->threads, 0, o->sep, o->sep_len };
	mg_bpe_stream_stats st = { 0 };
	mg_idtext_writer *it = NULL;
	sink_ctx sc = { 0 };
	mg_bpe_stream_sink sink = { &sc, sink_put, sink_doc_end };
	cli_out out;
	mg_err e;
	double t0 = mg_clock_now();
	int docs = n_files > 1 || o->sep;

	if (!load_model(o, &tk))
		cli_usage_error("a model is needed: -m file or --gpt2 dir");
	if (mg_bpe_encoder_init(&enc, &tk, o->special ? MG_ENCODE_SPECIAL : 0, &e))
		cli_die(o->model ? o->model : o->gpt2, "%s", e.msg);
	cli_out_open(&out, o->out, !o->ids, o->force);
	sc.records = docs;
	if (o->ids) {
		it = malloc(sizeof *it);
		if (!it)
			cli_die(NULL, "out of memory");
		mg_idtext_writer_init(it, out.f);
		sc.it = it;
	} else {
		mg_tokstream_header h = mg_tokstream_header_make(tk.vocab_size, docs ? MG_LAYOUT_DOCUMENTS : MG_LAYOUT_STREAM, 0, 0);
		if (mg_tokstream_writer_open(&sc.w, out.f, &h, o->embed ? &tk : NULL, o->level, &e))
			cli_die_err(out.name, &e);
	}
	for (int i = 0; i < (n_files ? n_files : 1); i++) {
		const char *name;
		FILE *f = cli_open_in(n_files ? files[i] : NULL, &name);
		if (mg_bpe_stream_encode(enc, f, &eo, &sink, &st, &e)) {
			/* a write error names the output, anything else the input */
			mg_tokstream_writer_free(sc.w);
			cli_die_err(e.code == MG_E_IO && !ferror(f) ? out.name : name, &e);
		}
		cli_close_in(f, name);
		if (sink_doc_end(&sc, &e)) {
			mg_tokstream_writer_free(sc.w);
			cli_die_err(out.name, &e);
		}
	}
	if (it ? mg_idtext_finish(it, &e) : mg_tokstream_writer_close(sc.w, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
	if (summary(o)) {
		double dt = mg_clock_now() - t0;
		fprintf(stderr, "%s: encoded %llu byte%s into %llu token%s (%.2f bytes per token) in %.2f s, %.1f MB/s\n",
			cli_prog(), (unsigned long long)st.bytes, cli_s(st.bytes), (unsigned long long)st.tokens, cli_s(st.tokens),
			st.tokens ? (double)st.bytes / (double)st.tokens : 0.0, dt, dt > 0 ? (double)st.bytes / dt / 1e6 : 0.0);
	}
	free(it);
	mg_bpe_encoder_free(enc);
	mg_tokenizer_free(&tk);
}

/* --- decoding --- */

static void write_bytes(cli_out *out, const mg_tokenizer *tk, const uint32_t *ids, size_t n, mg_buf *b,
			const char *in_name)
{
	mg_err e;

	b->len = 0;
	if (mg_tokenizer_decode(tk, ids, n, b, &e))
		cli_die_err(in_name, &e);
	if (mg_write_all(out->f, b->data, b->len, &e))
		cli_die_err(out->name, &e);
}

static void decode(const opts *o, char **files, int n_files)
{
	mg_tokenizer own;
	int have = load_model(o, &own);
	uint64_t tokens = 0, bytes = 0;
	mg_buf b = { 0 };
	cli_out out;
	mg_err e;

	if (o->ids && !have)
		cli_usage_error("--ids -d needs a model: -m file or --gpt2 dir");
	cli_out_open(&out, o->out, 0, o->force);
	for (int i = 0; i < (n_files ? n_files : 1); i++) {
		const char *name;
		FILE *f = cli_open_in(n_files ? files[i] : NULL, &name);
		if (o->ids) {
			mg_idtext_reader *r = malloc(sizeof *r);
			mg_ids ids = { 0 };
			int eof = 0;
			if (!r)
				cli_die(NULL, "out of memory");
			mg_idtext_reader_init(r, f, own.vocab_size);
			while (!eof) {
				ids.n = 0;
				if (mg_idtext_read(r, &ids, NULL, &eof, &e))
					cli_die_err(name, &e);
				write_bytes(&out, &own, ids.v, ids.n, &b, name);
				tokens += ids.n;
				bytes += b.len;
			}
			mg_ids_free(&ids);
			free(r);
		} else {
			mg_tokstream_reader *r;
			mg_tokstream_span sp;
			const mg_tokenizer *tk;
			if (mg_tokstream_reader_open(&r, f, &e)) {
				if (e.code == MG_E_MAGIC)
					cli_die(name, "%s (decimal ids need --ids)", e.msg);
				cli_die_err(name, &e);
			}
			tk = have ? &own : mg_tokstream_reader_tokenizer(r);
			if (!tk)
				cli_die(name, "the stream carries no tokenizer: give one with -m or --gpt2");
			for (;;) {
				if (mg_tokstream_reader_next(r, &sp, &e))
					cli_die_err(name, &e);
				if (!sp.n)
					break;
				write_bytes(&out, tk, sp.ids, sp.n, &b, name);
				tokens += sp.n;
				bytes += b.len;
			}
			mg_tokstream_reader_close(r);
		}
		cli_close_in(f, name);
	}
	cli_out_commit(&out);
	if (summary(o))
		fprintf(stderr, "%s: decoded %llu token%s into %llu byte%s\n", cli_prog(), (unsigned long long)tokens, cli_s(tokens),
			(unsigned long long)bytes, cli_s(bytes));
	mg_buf_free(&b);
	if (have)
		mg_tokenizer_free(&own);
}

/* --- converting between binary streams and decimal ids --- */

static void to_ids(const opts *o, char **files, int n_files)
{
	mg_idtext_writer *it = malloc(sizeof *it);
	uint64_t tokens = 0, lines = 0;
	cli_out out;
	mg_err e;

	if (!it)
		cli_die(NULL, "out of memory");
	cli_out_open(&out, o->out, 0, o->force);
	mg_idtext_writer_init(it, out.f);
	for (int i = 0; i < (n_files ? n_files : 1); i++) {
		const char *name;
		FILE *f = cli_open_in(n_files ? files[i] : NULL, &name);
		mg_tokstream_reader *r;
		mg_tokstream_span sp;
		if (mg_tokstream_reader_open(&r, f, &e))
			cli_die_err(name, &e);
		for (;;) {
			size_t at = 0;
			if (mg_tokstream_reader_next(r, &sp, &e))
				cli_die_err(name, &e);
			if (!sp.n)
				break;
			/* a record ends the line before its first token */
			for (size_t s = 0; s <= sp.n_starts; s++) {
				size_t end = s < sp.n_starts ? sp.starts[s] : sp.n;
				if (mg_idtext_put_masked(it, sp.ids + at, sp.mask ? sp.mask + at : NULL, end - at, &e))
					cli_die_err(out.name, &e);
				if (s < sp.n_starts && end > 0 && mg_idtext_end_line(it, &e))
					cli_die_err(out.name, &e);
				at = end;
			}
			tokens += sp.n;
			lines += sp.n_starts;
		}
		mg_tokstream_reader_close(r);
		cli_close_in(f, name);
		if (mg_idtext_end_line(it, &e))
			cli_die_err(out.name, &e);
	}
	if (mg_idtext_finish(it, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
	if (summary(o))
		fprintf(stderr, "%s: wrote %llu token id%s in %llu record%s\n", cli_prog(), (unsigned long long)tokens, cli_s(tokens),
			(unsigned long long)lines, cli_s(lines));
	free(it);
}

static void from_ids(const opts *o, char **files, int n_files)
{
	mg_tokenizer tk;
	int have = load_model(o, &tk);
	uint32_t vocab = have ? tk.vocab_size : o->vocab;
	mg_ids ids = { 0 }, ends = { 0 };
	mg_buf masks = { 0 };
	int has_mask = 0;
	mg_tokstream_header h;
	mg_tokstream_writer *w;
	cli_out out;
	mg_err e;

	if (!vocab)
		cli_usage_error("--from-ids needs the vocabulary: --vocab n, -m file or --gpt2 dir");
	if (have && o->vocab && o->vocab != tk.vocab_size)
		cli_usage_error("--vocab %u differs from the model's %u tokens", o->vocab, tk.vocab_size);
	/* the header says whether there is a mask, so read everything first */
	for (int i = 0; i < (n_files ? n_files : 1); i++) {
		const char *name;
		FILE *f = cli_open_in(n_files ? files[i] : NULL, &name);
		mg_idtext_reader *r = malloc(sizeof *r);
		int eof = 0;
		if (!r)
			cli_die(NULL, "out of memory");
		mg_idtext_reader_init(r, f, vocab);
		mg_idtext_reader_masks(r, &masks);
		while (!eof)
			if (mg_idtext_read(r, &ids, &ends, &eof, &e)) {
				/* freed before exit: no leak for LeakSanitizer to report */
				free(r);
				mg_ids_free(&ids);
				mg_ids_free(&ends);
				mg_buf_free(&masks);
				if (have)
					mg_tokenizer_free(&tk);
				cli_die_err(name, &e);
			}
		free(r);
		cli_close_in(f, name);
	}
	for (size_t i = 0; i < ids.n; i++)
		has_mask |= !masks.data[i];
	h = mg_tokstream_header_make(vocab, (uint32_t)o->layout, has_mask, 0);
	cli_out_open(&out, o->out, 1, o->force);
	if (mg_tokstream_writer_open(&w, out.f, &h, have && o->embed ? &tk : NULL, o->level, &e))
		cli_die_err(out.name, &e);
	for (size_t l = 0, at = 0; l < ends.n; l++) {
		if (o->layout != MG_LAYOUT_STREAM && mg_tokstream_writer_record(w, &e))
			cli_die_err(out.name, &e);
		if (mg_tokstream_writer_put(w, ids.v + at, masks.data + at, ends.v[l] - at, &e)) {
			mg_tokstream_writer_free(w);
			cli_die_err(out.name, &e);
		}
		at = ends.v[l];
	}
	if (mg_tokstream_writer_close(w, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
	if (summary(o))
		fprintf(stderr, "%s: wrote %zu token%s in %zu record%s%s\n", cli_prog(), ids.n, cli_s(ids.n), ends.n, cli_s(ends.n),
			has_mask ? " with a loss mask" : "");
	mg_ids_free(&ids);
	mg_ids_free(&ends);
	mg_buf_free(&masks);
	if (have)
		mg_tokenizer_free(&tk);
}

int main(int argc, char **argv)
{
	opts o = { 0 };
	int c;

	static const char *const layouts[] = { "stream", "documents", "examples", NULL };

	o.threads = 1;
	o.layout = MG_LAYOUT_EXAMPLES;
	o.level = MG_ZLIB_LEVEL;
	o.embed = 1;
	o.t0 = mg_clock_now();
	cli_init("bpe-encode", usage);
	while ((c = getopt_long(argc, argv, ":m:j:do:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o.model = optarg; break;
		case OPT_GPT2: o.gpt2 = optarg; break;
		case OPT_SPECIAL: o.special = 1; break;
		case OPT_IDS: o.ids = 1; break;
		case OPT_SEP: free(o.sep); o.sep = parse_sep(optarg, &o.sep_len); break;
		case 'j': o.threads = (uint32_t)cli_parse_u64("--threads", optarg, 0, 256); break;
		case OPT_LEVEL: o.level = (int)cli_parse_u64("--level", optarg, 1, 9); break;
		case OPT_NO_EMBED: o.embed = 0; break;
		case 'd': o.decode = 1; break;
		case OPT_TO_IDS: o.to_ids = 1; break;
		case OPT_FROM_IDS: o.from_ids = 1; break;
		case OPT_VOCAB: o.vocab = (uint32_t)cli_parse_u64("--vocab", optarg, 1, MG_VOCAB_MAX); break;
		case OPT_LAYOUT: o.layout = cli_parse_choice("--layout", optarg, layouts); break;
		case 'o': o.out = optarg; break;
		case 'f': o.force = 1; break;
		case 'q': o.quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (o.quiet && o.verbose)
		cli_usage_error("-q and -v are exclusive");
	if (o.model && o.gpt2)
		cli_usage_error("-m and --gpt2 are exclusive");
	if (o.threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o.threads = n > 0 ? (uint32_t)(n < 256 ? n : 256) : 1;
	}
	if (o.decode && (o.special || o.sep || o.threads != 1 || o.level != MG_ZLIB_LEVEL || !o.embed))
		cli_usage_error("-d takes none of --allow-special, --separator, -j, --level, --no-embed");
	if (o.decode + o.to_ids + o.from_ids > 1)
		cli_usage_error("-d, --to-ids and --from-ids are exclusive");
	if ((o.vocab || o.layout != MG_LAYOUT_EXAMPLES) && !o.from_ids)
		cli_usage_error("--vocab and --layout go with --from-ids");
	if ((o.to_ids || o.from_ids) && (o.special || o.sep || o.threads != 1 || o.ids))
		cli_usage_error("--to-ids and --from-ids take none of --allow-special, --separator, -j, --ids");
	if (o.to_ids && (o.model || o.gpt2 || !o.embed || o.level != MG_ZLIB_LEVEL))
		cli_usage_error("--to-ids takes no model, --no-embed or --level");
	if ((o.decode && !o.ids) || o.to_ids)
		for (int i = optind; i < (optind < argc ? argc : optind + 1); i++)
			cli_in_refuse_tty(i < argc ? argv[i] : NULL, "token stream");
	if (o.to_ids)
		to_ids(&o, argv + optind, argc - optind);
	else if (o.from_ids)
		from_ids(&o, argv + optind, argc - optind);
	else if (o.decode)
		decode(&o, argv + optind, argc - optind);
	else
		encode(&o, argv + optind, argc - optind);
	free(o.sep);
	return CLI_EXIT_OK;
}
