/* mygpt-info: what a checkpoint, tokenizer model or token stream holds, as
 * aligned text or as key<TAB>value lines; the facts come from
 * lib/io/info.h, the printing is here. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/info.h"

static const char usage[] = "usage: mygpt-info [-cfkqv] [-o file] [file ...]\n";

static const char options[] =
	"\n"
	"  -c, --check        decompress all tensor data too (default: each piece's header;\n"
	"                     every checksum is checked either way)\n"
	"  -k, --keys         print key<TAB>value lines (stable, for scripts) instead of text\n"
	"  -v, --verbose      text: list the AdamW moment tensors too\n"
	"  -q, --quiet        print nothing: only check the files (exit status)\n"
	"  -o, --output file  write to file (atomically) instead of stdout\n"
	"  -f, --force        accepted as by every tool; the output is text\n"
	"  -h, --help         print this help\n"
	"  -V, --version      print the version\n";

static const struct option longopts[] = {
	{ "check", no_argument, NULL, 'c' },
	{ "keys", no_argument, NULL, 'k' },
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

#define LABEL 20 /* width of the labels of the text form */

typedef struct pr {
	FILE *f;
	int keys, verbose;
	const char *prefix; /* of keys: "tokenizer." for an embedded tokenizer */
	int indent;         /* of text lines */
} pr;

/* A value as printed: bytes below 0x20, DEL and backslash escaped, so that a
 * value never holds a tab or a newline. */
static void put_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc(c, f);
	}
}

/* The shortest %g form that reads back as v. */
static const char *fmt_double(double v, char *buf, size_t n)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

static void label(const pr *p, const char *key, const char *text)
{
	if (p->keys)
		fprintf(p->f, "%s%s\t", p->prefix, key);
	else
		fprintf(p->f, "%*s%-*s ", p->indent, "", LABEL - p->indent, text);
}

/* One fact: key for the key form, text as the label of the text form. */
static void fact_str(const pr *p, const char *key, const char *text, const char *v)
{
	label(p, key, text);
	put_escaped(p->f, v, strlen(v));
	putc('\n', p->f);
}

/* unit: after the value in the text form, or NULL */
static void fact_unit(const pr *p, const char *key, const char *text, uint64_t v, const char *unit)
{
	char b[32];

	label(p, key, text);
	if (p->keys)
		fprintf(p->f, "%llu\n", (unsigned long long)v);
	else
		fprintf(p->f, "%s%s%.*s\n", cli_grouped(v, b, sizeof b), unit ? " " : "",
			unit ? (int)strlen(unit) - (v == 1) : 0, unit ? unit : ""); /* "1 byte" */
}

static void fact_num(const pr *p, const char *key, const char *text, uint64_t v)
{
	fact_unit(p, key, text, v, NULL);
}

static void fact_bool(const pr *p, const char *key, const char *text, int v)
{
	label(p, key, text);
	fputs(p->keys ? (v ? "1\n" : "0\n") : (v ? "yes\n" : "no\n"), p->f);
}

/* A heading of the text form (nothing in the key form). */
static void heading(const pr *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void heading(const pr *p, const char *fmt, ...)
{
	va_list ap;

	if (p->keys)
		return;
	fprintf(p->f, "%*s", p->indent, "");
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
	putc('\n', p->f);
}

/* A KV list (configuration, training state): its keys in file order. The
 * training state's seed and data_fingerprint hold unsigned 64-bit values
 * (formats/checkpoint.md). */
static void print_kv(pr *p, const mg_kv *kv, const char *prefix)
{
	int train = !strcmp(prefix, "train.");
	char b[40];
	const char *saved = p->prefix;

	p->prefix = prefix;
	for (size_t i = 0; i < kv->n; i++) {
		const mg_kv_entry *x = &kv->e[i];
		label(p, x->key, x->key);
		if (x->type == MG_KV_INT && train && (!strcmp(x->key, "seed") || !strcmp(x->key, "data_fingerprint")))
			fprintf(p->f, "%llu\n", (unsigned long long)(uint64_t)x->i);
		else if (x->type == MG_KV_INT)
			fprintf(p->f, "%lld\n", (long long)x->i);
		else if (x->type == MG_KV_FLOAT)
			fprintf(p->f, "%s\n", fmt_double(x->f, b, sizeof b));
		else {
			put_escaped(p->f, x->s, x->slen);
			putc('\n', p->f);
		}
	}
	p->prefix = saved;
}

static void print_tokenizer(pr *p, const mg_info *in)
{
	const mg_tokenizer *tk = &in->tk;

	fact_str(p, "kind", "kind", mg_tokenizer_kind_name(tk->kind));
	fact_num(p, "vocab_size", "vocab size", tk->vocab_size);
	fact_str(p, "pretokenizer", "pre-tokenizer", tk->split == MG_SPLIT_GPT2 ? "gpt2" : "none");
	if (tk->kind == MG_TOKENIZER_BPE) {
		fact_str(p, "byte_order", "byte order", in->tk_bytes_identity ? "identity" : "permuted");
		fact_num(p, "merges", "merges", tk->n_merges);
	} else if (tk->kind == MG_TOKENIZER_CHARS) {
		fact_num(p, "chars", "characters", tk->n_chars);
	} else if (tk->kind == MG_TOKENIZER_PALETTE) {
		fact_num(p, "colors", "colours", tk->n_colors);
		fact_num(p, "width", "image width", tk->width);
		fact_num(p, "height", "image height", tk->height);
	}
	fact_num(p, "specials", "special tokens", tk->n_specials);
	for (uint32_t i = 0; i < tk->n_specials; i++) {
		label(p, "special", "special");
		fprintf(p->f, p->keys ? "%u\t" : "%u ", tk->specials[i].id);
		put_escaped(p->f, tk->specials[i].text, tk->specials[i].len);
		putc('\n', p->f);
	}
	fact_unit(p, "longest_token", "longest token", in->tk_longest, "bytes");
}

/* The tokenizer a stream or a checkpoint carries, under "tokenizer.". */
static void print_embedded(pr *p, const mg_info *in)
{
	fact_bool(p, "tokenizer", "tokenizer", in->has_tokenizer);
	if (!in->has_tokenizer)
		return;
	p->prefix = "tokenizer.";
	p->indent += 2;
	print_tokenizer(p, in);
	p->indent -= 2;
	p->prefix = "";
}

static void print_sizes(const pr *p, const mg_info *in)
{
	fact_unit(p, "file_bytes", "size", in->size.file_bytes, "bytes");
	fact_unit(p, "raw_bytes", "uncompressed", in->size.raw_bytes, "bytes");
	fact_num(p, "members", "members", in->size.members);
	fact_num(p, "chunks", "chunks", in->size.chunks);
}

static void print_tokens(pr *p, const mg_info *in)
{
	const mg_info_tokens *k = &in->tok;
	int records = k->h.layout != MG_LAYOUT_STREAM;

	fact_num(p, "vocab_size", "vocab size", k->h.vocab_size);
	fact_num(p, "id_bytes", "id bytes", k->h.id_bytes);
	fact_str(p, "layout", "layout", mg_tokstream_layout_name(k->h.layout));
	fact_bool(p, "mask", "loss mask", (int)k->h.has_mask);
	if (p->keys || k->h.record_len)
		fact_num(p, "record_len", "record length", k->h.record_len);
	fact_num(p, "tokens", "tokens", k->tokens);
	fact_num(p, "records", "records", k->records);
	if (p->keys || records) {
		fact_num(p, "record_min", "shortest record", k->record_min);
		fact_num(p, "record_max", "longest record", k->record_max);
	}
	if (p->keys || k->h.has_mask)
		fact_num(p, "targets", "targets", k->targets);
	fact_num(p, "id_min", "smallest id", k->id_min);
	fact_num(p, "id_max", "largest id", k->id_max);
	fact_num(p, "ids_distinct", "distinct ids", k->ids_distinct);
	print_embedded(p, in);
}

static void shape(const mg_ckpt_tensor *t, char *b, size_t n)
{
	size_t o = 0;

	for (uint32_t d = 0; d < t->ndim && o < n; d++)
		o += (size_t)snprintf(b + o, n - o, d ? "x%u" : "%u", t->dims[d]);
}

static void print_tensors(pr *p, const mg_ckpt *ck)
{
	int w = 4;
	char sh[64], el[32], by[32];

	for (size_t i = 0; i < ck->n_tensors; i++)
		if ((int)strlen(ck->t[i].name) > w)
			w = (int)strlen(ck->t[i].name);
	if (!p->keys)
		fprintf(p->f, "%*s%-*s  %-6s  %-5s  %-14s %13s %15s\n", p->indent + 2, "", w, "name", "role", "dtype",
			"shape", "elements", "bytes");
	for (size_t i = 0; i < ck->n_tensors; i++) {
		const mg_ckpt_tensor *t = &ck->t[i];
		uint64_t bytes = mg_dtype_bytes(t->dtype, t->n);
		if (!p->keys && t->role != MG_ROLE_PARAM && !p->verbose)
			continue;
		shape(t, sh, sizeof sh);
		if (p->keys)
			fprintf(p->f, "tensor\t%s\t%s\t%s\t%s\t%llu\t%llu\n", t->name, mg_ckpt_role_name(t->role),
				mg_dtype_name(t->dtype), sh, (unsigned long long)t->n, (unsigned long long)bytes);
		else
			fprintf(p->f, "%*s%-*s  %-6s  %-5s  %-14s %13s %15s\n", p->indent + 2, "", w, t->name,
				mg_ckpt_role_name(t->role), mg_dtype_name(t->dtype), sh,
				cli_grouped(t->n, el, sizeof el), cli_grouped(bytes, by, sizeof by));
	}
}

static void print_checkpoint(pr *p, const mg_info *in)
{
	const mg_info_roles *r = &in->roles;
	const mg_ckpt *ck = &in->ck;

	fact_num(p, "params", "parameters", r->elems[MG_ROLE_PARAM]);
	fact_unit(p, "param_bytes", "parameter data", r->bytes[MG_ROLE_PARAM], "bytes");
	fact_num(p, "tensors", "tensors", (uint64_t)ck->n_tensors);
	fact_num(p, "param_tensors", "parameter tensors", r->tensors[MG_ROLE_PARAM]);
	fact_num(p, "adam_m_tensors", "AdamW m tensors", r->tensors[MG_ROLE_ADAM_M]);
	fact_num(p, "adam_v_tensors", "AdamW v tensors", r->tensors[MG_ROLE_ADAM_V]);
	fact_bool(p, "train", "training state", ck->has_train);
	print_embedded(p, in);
	heading(p, "configuration:");
	p->indent += 2;
	print_kv(p, &ck->config, "config.");
	p->indent -= 2;
	if (ck->has_train) {
		heading(p, "training state:");
		p->indent += 2;
		print_kv(p, &ck->train, "train.");
		p->indent -= 2;
	}
	if (!p->verbose && r->tensors[MG_ROLE_ADAM_M] + r->tensors[MG_ROLE_ADAM_V])
		heading(p, "tensors (-v adds the AdamW moments):");
	else
		heading(p, "tensors:");
	print_tensors(p, ck);
}

static void print_info(pr *p, const char *name, const mg_info *in)
{
	char ver[32];

	snprintf(ver, sizeof ver, "%u.%u", in->size.major, in->size.minor);
	if (p->keys) {
		fact_str(p, "file", "", name);
		fact_str(p, "format", "", mg_info_kind_name(in->kind));
		fact_str(p, "version", "", ver);
	} else {
		put_escaped(p->f, name, strlen(name));
		fprintf(p->f, ": %s, format %s\n",
			in->kind == MG_INFO_TOKENS ? "token stream" : in->kind == MG_INFO_TOKENIZER ? "tokenizer model" : "checkpoint",
			ver);
	}
	p->indent = 2;
	print_sizes(p, in);
	if (in->kind == MG_INFO_TOKENS)
		print_tokens(p, in);
	else if (in->kind == MG_INFO_TOKENIZER)
		print_tokenizer(p, in);
	else
		print_checkpoint(p, in);
	p->indent = 0;
}

int main(int argc, char **argv)
{
	pr p = { .prefix = "" };
	int quiet = 0, force = 0, full = 0, failed = 0, printed = 0, c, n_files;
	const char *out_path = NULL;
	cli_out o;

	cli_init("mygpt-info", usage);
	while ((c = getopt_long(argc, argv, ":ckvqo:fhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': full = 1; break;
		case 'k': p.keys = 1; break;
		case 'v': p.verbose = 1; break;
		case 'q': quiet = 1; break;
		case 'o': out_path = optarg; break;
		case 'f': force = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	n_files = argc - optind;
	if (!quiet) {
		cli_out_open(&o, out_path, 0, force);
		p.f = o.f;
	}
	for (int i = 0; i < (n_files ? n_files : 1); i++) {
		const char *path = n_files ? argv[optind + i] : "-";
		const char *name = strcmp(path, "-") ? path : "<stdin>";
		FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
		mg_info in;
		mg_err e;

		if (!f) {
			cli_warn(name, "%s", strerror(errno));
			failed = 1;
			continue;
		}
		if (mg_info_read(f, &in, full, &e)) {
			cli_warn(name, "%s", e.msg);
			failed = 1;
		} else {
			if (!quiet) {
				if (printed++)
					putc('\n', p.f); /* a blank line between files */
				print_info(&p, name, &in);
			}
			mg_info_free(&in);
		}
		if (f != stdin)
			fclose(f);
	}
	if (!quiet)
		cli_out_commit(&o);
	return failed ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
