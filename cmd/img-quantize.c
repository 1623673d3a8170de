/* img-quantize: images to palette tokens and back for image-GPT: fits a
 * k-means colour palette, encodes images as token records, decodes records
 * to PNG pictures; options, messages and glue over lib/image/ here. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/threads.h"
#include "image/grid.h"
#include "image/image.h"
#include "image/image_read.h"
#include "image/kmeans.h"
#include "image/palette.h"
#include "image/pngfile.h"
#include "io/tokenizer.h"
#include "io/tokstream.h"

CLI_THREADS_PASSIVE

static const char usage[] =
	"usage: img-quantize --fit [-fqv] [-k n] [--pixels-per-image n] [--iters n]\n"
	"                    [--init random | kmeans++] [-s seed] [-j n] [--format name]\n"
	"                    [--labels file] [-o file] image ...\n"
	"       img-quantize -m palette [-fqv] [--label-token] [--prompt-tokens n] [-j n]\n"
	"                    [--format name] [--labels file] [-o file] image ...\n"
	"       img-quantize -d [-fqv] [-m palette] [--grid ROWSxCOLS] [--scale n]\n"
	"                    [--border n] [--colour RRGGBB] [--records n]\n"
	"                    [-o file | dir/ | pattern] [file ...]\n";

static const char options[] =
	"\n"
	"  --fit                  fit a palette to the images and write it (a tokenizer)\n"
	"  -k n                   colours of the palette, 1-65536 (default 512)\n"
	"  --pixels-per-image n   pixels drawn from every image for the fit, 1-16777216\n"
	"                         (default 5)\n"
	"  --iters n              Lloyd iterations, 0-1000 (default 8)\n"
	"  --init name            initial centres: random or kmeans++ (default random)\n"
	"  -s, --seed n           seed of the pixels drawn and the centres (default 1337)\n"
	"  -m, --model palette    the palette (a tokenizer file) to encode or decode with\n"
	"  --label-token          put each image's class first in its record, as id\n"
	"                         palette size + class (the vocabulary grows by 256)\n"
	"  --prompt-tokens n      write only the first n tokens of each record (prompts)\n"
	"  --format name          read the images as auto, cifar, png, pnm or idx\n"
	"                         (default auto: by their contents)\n"
	"  --labels file          the IDX labels file of IDX images\n"
	"  -d, --decode           token records (file or stdin) to PNG pictures\n"
	"  --grid ROWSxCOLS       decode: draw the records in one picture, row by row\n"
	"  --records n            decode: only the first n records (rows, with several\n"
	"                         files: each row holds a record of every file) (default all)\n"
	"  --scale n              decode: each pixel becomes n x n, 1-64 (default 1)\n"
	"  --border n             decode: border width in pixels, 0-64 (default 0)\n"
	"  --colour RRGGBB        decode: colour of borders, empty cells and missing\n"
	"                         pixels of short records, hex (default 808080)\n"
	"  -j, --threads n        threads, 1-256, or 0 for one per CPU (default 0)\n"
	"  -o, --output file      write to file (atomically) instead of stdout; decode:\n"
	"                         dir/ or a pattern with %d writes one PNG per record\n"
	"  -f, --force            write binary data to a terminal\n"
	"  -q, --quiet            no summary on stderr\n"
	"  -v, --verbose          also print the images' shape and format on stderr\n"
	"  -h, --help             print this help\n"
	"  -V, --version          print the version\n";

enum {
	OPT_FIT = 256, OPT_PPI, OPT_ITERS, OPT_INIT, OPT_LABEL_TOKEN, OPT_PROMPT_TOKENS, OPT_FORMAT, OPT_LABELS,
	OPT_GRID, OPT_SCALE, OPT_BORDER, OPT_COLOUR, OPT_RECORDS,
};

static const struct option longopts[] = {
	{ "fit", no_argument, NULL, OPT_FIT },
	{ "pixels-per-image", required_argument, NULL, OPT_PPI },
	{ "iters", required_argument, NULL, OPT_ITERS },
	{ "init", required_argument, NULL, OPT_INIT },
	{ "model", required_argument, NULL, 'm' },
	{ "label-token", no_argument, NULL, OPT_LABEL_TOKEN },
	{ "prompt-tokens", required_argument, NULL, OPT_PROMPT_TOKENS },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "decode", no_argument, NULL, 'd' },
	{ "grid", required_argument, NULL, OPT_GRID },
	{ "scale", required_argument, NULL, OPT_SCALE },
	{ "border", required_argument, NULL, OPT_BORDER },
	{ "colour", required_argument, NULL, OPT_COLOUR },
	{ "records", required_argument, NULL, OPT_RECORDS },
	CLI_OPTION_SEED,
	CLI_OPTION_THREADS,
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

#define LABEL_TOKENS 256u /* ids palette size + 0..255 with --label-token */

typedef struct opts {
	int fit, decode, label_token, format, force, quiet, verbose;
	uint32_t k, ppi, iters, threads, prompt_tokens, grid_rows, grid_cols, scale, border;
	int plusplus;
	uint8_t colour[3];
	uint64_t seed, records;
	const char *model, *labels, *out;
	char **files;
	int n_files;
} opts;

/* Every image of the operands, all of one shape (else an error naming the
 * first that differs). */
static void read_images(const opts *o, mg_image_list *l)
{
	mg_err e;

	mg_image_list_init(l);
	for (int i = 0; i < o->n_files; i++) {
		size_t before = l->n;
		if (mg_image_read_path(o->files[i], o->format, o->labels, l, &e))
			cli_die_err(o->files[i], &e);
		for (size_t j = before; j < l->n; j++) {
			const mg_image *a = &l->v[0], *b = &l->v[j];
			if (b->width != a->width || b->height != a->height || b->channels != a->channels)
				cli_die(o->files[i], "image %zu is %ux%u %s, but the first image is %ux%u %s (mixed image "
					"sizes)", j - before, b->width, b->height, b->channels == 3 ? "RGB" : "gray", a->width,
					a->height, a->channels == 3 ? "RGB" : "gray");
		}
		if (o->verbose)
			fprintf(stderr, "%s: %s: %zu image%s\n", cli_prog(), o->files[i], l->n - before, cli_s(l->n - before));
	}
	if (o->verbose && l->n)
		fprintf(stderr, "%s: %zu image%s of %ux%u %s\n", cli_prog(), l->n, cli_s(l->n), l->v[0].width,
			l->v[0].height, l->v[0].channels == 3 ? "RGB" : "gray");
}

static void fit(const opts *o)
{
	mg_image_list l;
	mg_kmeans_opts ko;
	mg_kmeans_stats st;
	mg_tokenizer tk;
	size_t n;
	cli_out out;
	mg_err e;

	cli_out_check(o->out, 1, o->force);
	read_images(o, &l);
	mg_kmeans_opts_default(&ko);
	ko.k = o->k;
	ko.iters = o->iters;
	ko.plusplus = o->plusplus;
	ko.seed = o->seed;
	ko.threads = (int)o->threads;
	if (mg_palette_fit(&l, o->ppi, &ko, &tk, &st, &n, &e))
		cli_die(NULL, "%s%s", e.msg, e.code == MG_E_INVAL ? " (--pixels-per-image)" : "");
	cli_out_open(&out, o->out, 1, o->force);
	if (mg_tokenizer_write(&tk, out.f, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
	if (!o->quiet) {
		char g1[32], g2[32];
		fprintf(stderr, "%s: %u %s colours for %ux%u images from %s pixels of %s image%s: mean squared error "
			"%.4f per channel, %u cluster%s re-seeded\n", cli_prog(), o->k, l.v[0].channels == 3 ? "RGB" : "gray",
			l.v[0].width, l.v[0].height, cli_grouped(n, g1, sizeof g1), cli_grouped(l.n, g2, sizeof g2),
			cli_s(l.n), st.mse, st.reseeded, cli_s(st.reseeded));
	}
	mg_tokenizer_free(&tk);
	mg_image_list_free(&l);
}

/* A palette is gray when every colour has red = green = blue: that is what
 * --fit writes for gray images, and only such a palette encodes them. */

static void load_palette(const char *path, mg_tokenizer *tk)
{
	const char *name = cli_read_tokenizer(path, tk);

	if (tk->kind != MG_TOKENIZER_PALETTE)
		cli_die(name, "a %s tokenizer, not a palette", mg_tokenizer_kind_name(tk->kind));
}

/* --label-token: the palette with 256 special tokens "<|class N|>" after
 * its colours, so the stream's embedded tokenizer covers the label ids. */
static void add_label_tokens(mg_tokenizer *tk)
{
	mg_err e;

	if (tk->n_specials)
		cli_die(NULL, "the palette already has special tokens");
	if (!(tk->specials = calloc(LABEL_TOKENS, sizeof *tk->specials)))
		cli_die(NULL, "out of memory");
	for (uint32_t i = 0; i < LABEL_TOKENS; i++) {
		char s[32];
		int len = snprintf(s, sizeof s, "<|class %u|>", i);
		tk->specials[i].id = tk->n_colors + i;
		tk->specials[i].len = (uint32_t)len;
		if (!(tk->specials[i].text = strdup(s)))
			cli_die(NULL, "out of memory");
	}
	tk->n_specials = LABEL_TOKENS;
	tk->vocab_size = tk->n_colors + LABEL_TOKENS;
	if (mg_tokenizer_finish(tk, &e))
		cli_die(NULL, "%s", e.msg);
}

static void encode(const opts *o)
{
	mg_tokenizer tk;
	mg_image_list l;
	mg_tokstream_writer *w;
	mg_tokstream_header h;
	uint8_t *pal, *px;
	uint32_t *ids, d, per, len;
	size_t batch;
	uint64_t sse_all = 0;
	char g[32];
	int gray;
	cli_out out;
	mg_err e;

	load_palette(o->model, &tk);
	gray = mg_tokenizer_palette_gray(&tk);
	cli_out_check(o->out, 1, o->force);
	read_images(o, &l);
	for (size_t i = 0; i < l.n; i++) {
		const mg_image *im = &l.v[i];
		if (im->width != tk.width || im->height != tk.height)
			cli_die(o->files[0], "the images are %ux%u, the palette %s is for %ux%u", im->width, im->height,
				o->model, tk.width, tk.height);
		if (im->channels == 1 && !gray)
			cli_die(o->files[0], "gray images need a gray palette, and %s has colours", o->model);
		if (o->label_token && im->label < 0)
			cli_die(o->files[0], "the images have no labels (--label-token)");
		break; /* read_images made them all alike */
	}
	d = l.v[0].channels;
	per = tk.width * tk.height;
	len = per + (o->label_token ? 1 : 0);
	if (o->prompt_tokens > len)
		cli_usage_error("--prompt-tokens %u is more than the %u tokens of a record", o->prompt_tokens, len);
	if (o->prompt_tokens)
		len = o->prompt_tokens;
	batch = (65536 + per - 1) / per;
	if (batch > l.n)
		batch = l.n;
	if (!(pal = malloc((size_t)tk.n_colors * d)) || !(ids = malloc(batch * per * sizeof *ids)) ||
	    !(px = malloc(batch * per * d)))
		cli_die(NULL, "out of memory");
	for (uint32_t c = 0; c < tk.n_colors; c++)
		memcpy(pal + (size_t)c * d, tk.palette + 3 * (size_t)c, d); /* gray: the red byte */
	if (o->label_token)
		add_label_tokens(&tk);
	h = mg_tokstream_header_make(tk.vocab_size, MG_LAYOUT_EXAMPLES, 0, len);
	cli_out_open(&out, o->out, 1, o->force);
	if (mg_tokstream_writer_open(&w, out.f, &h, &tk, MG_ZLIB_LEVEL, &e))
		cli_die_err(out.name, &e);
	/* batches of images in one call, so that its threads have work */
	for (size_t first = 0; first < l.n; first += batch) {
		size_t nb = l.n - first < batch ? l.n - first : batch;
		uint64_t sse;
		for (size_t b = 0; b < nb; b++)
			memcpy(px + b * per * d, l.v[first + b].pixels, (size_t)per * d);
		if (mg_kmeans_assign(px, nb * per, d, pal, tk.n_colors, (int)o->threads, ids, &sse, &e))
			cli_die(NULL, "%s", e.msg);
		sse_all += sse;
		for (size_t b = 0; b < nb; b++) {
			uint32_t label = tk.n_colors + (uint32_t)l.v[first + b].label;
			const uint32_t *rec = ids + b * per;
			int rc = mg_tokstream_writer_record(w, &e);
			if (!rc && o->label_token) /* the class token, then as much of the pixels as fits len */
				rc = mg_tokstream_writer_put(w, &label, NULL, 1, &e);
			if (!rc)
				rc = mg_tokstream_writer_put(w, rec, NULL, len - (o->label_token ? 1 : 0), &e);
			if (rc) {
				mg_tokstream_writer_free(w);
				cli_die_err(out.name, &e);
			}
		}
	}
	if (mg_tokstream_writer_close(w, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
	if (!o->quiet)
	{
		char g2[32], g3[32];
		fprintf(stderr, "%s: %s image%s to records of %s token%s%s (vocabulary %s): mean squared error %.4f per "
			"channel\n", cli_prog(), cli_grouped(l.n, g, sizeof g), cli_s(l.n), cli_grouped(len, g2, sizeof g2),
			cli_s(len), o->prompt_tokens ? " (prompts)" : "", cli_grouped(tk.vocab_size, g3, sizeof g3),
			(double)sse_all / ((double)l.n * per * d));
	}
	free(pal);
	free(px);
	free(ids);
	mg_tokenizer_free(&tk);
	mg_image_list_free(&l);
}

/* Whether two palettes hold the same colours for the same image size. */

/* The name of picture i for -o dir/ or a pattern with one %d (checked in
 * main), in buf. */
static void picture_name(const char *out, uint64_t i, char *buf, size_t n)
{
	size_t len = strlen(out);
	int w;

	if (out[len - 1] == '/')
		w = snprintf(buf, n, "%s%06llu.png", out, (unsigned long long)i);
	else {
		const char *pc = strchr(out, '%');
		int width = atoi(pc + 1);
		w = snprintf(buf, n, "%.*s%0*llu%s", (int)(pc - out), out, width, (unsigned long long)i,
			     strchr(pc, 'd') + 1);
	}
	if (w < 0 || (size_t)w >= n)
		cli_usage_error("-o %s makes a file name that is too long", out);
}

static void write_png(const mg_image *im, const char *path, int force)
{
	cli_out out;
	mg_err e;

	cli_out_open(&out, path, 1, force);
	if (mg_pngfile_write(im, out.f, &e))
		cli_die_err(out.name, &e);
	cli_out_commit(&out);
}

/* The records of one token stream as pictures (*ims, *n of them), the
 * first o->records rows' worth (rows: this file's records over per_row);
 * *tk the palette: own (-m), else that of the first stream, which later
 * streams must share. */
typedef struct dec_state {
	mg_tokenizer own, first;
	const mg_tokenizer *tk;
	int have_first;
	uint32_t per, ch;
	uint64_t short_rec;
} dec_state;

static void decode_file(const opts *o, const char *path, dec_state *st, mg_image **ims, uint64_t *n)
{
	const char *name;
	mg_tokstream_data d;
	uint64_t n_rec, *start, whole[2];
	uint32_t labels = 0;
	FILE *f;
	mg_err e;

	cli_in_refuse_tty(path, "token stream");
	f = cli_open_in(path, &name);
	if (mg_tokstream_data_read(f, &d, &e))
		cli_die_err(name, &e);
	cli_close_in(f, name);
	if (o->model) {
		if (d.has_tokenizer && d.tk.kind == MG_TOKENIZER_PALETTE && !mg_tokenizer_same_palette(&st->own, &d.tk))
			cli_die(name, "its palette differs from %s", o->model);
	} else if (!st->have_first) {
		if (!d.has_tokenizer || d.tk.kind != MG_TOKENIZER_PALETTE)
			cli_die(name, "the stream carries no palette: give one with -m");
		/* keep it: d is freed below */
		if (mg_tokenizer_init_palette(&st->first, d.tk.palette, d.tk.n_colors, d.tk.width, d.tk.height, &e))
			cli_die(name, "%s", e.msg);
		st->tk = &st->first;
		st->have_first = 1;
	} else if (d.has_tokenizer && d.tk.kind == MG_TOKENIZER_PALETTE && !mg_tokenizer_same_palette(&st->first, &d.tk))
		cli_die(name, "its palette differs from that of %s", o->files[0]);
	/* --label-token streams: 256 class ids right after the colours */
	if (d.has_tokenizer && d.tk.kind == MG_TOKENIZER_PALETTE && d.tk.n_specials == LABEL_TOKENS &&
	    d.tk.vocab_size == d.tk.n_colors + LABEL_TOKENS)
		labels = 1;
	st->per = st->tk->width * st->tk->height;
	st->ch = mg_tokenizer_palette_gray(st->tk) ? 1 : 3;
	start = d.start;
	n_rec = d.n_records;
	if (d.h.layout == MG_LAYOUT_STREAM) { /* no boundaries: one record */
		whole[0] = 0;
		whole[1] = d.n;
		start = whole;
		n_rec = d.n > 0;
	}
	if (n_rec == 0)
		cli_die(name, "no records to decode");
	if (!(*ims = calloc(n_rec, sizeof **ims)))
		cli_die(NULL, "out of memory");
	for (uint64_t r = 0; r < n_rec; r++) {
		const uint32_t *ids = d.ids + start[r];
		uint64_t len = start[r + 1] - start[r];
		const mg_tokenizer *tk = st->tk;
		if (labels && len > 0 && ids[0] >= tk->n_colors && ids[0] < tk->n_colors + LABEL_TOKENS) {
			ids++;
			len--;
		}
		if (len > st->per)
			cli_die(name, "record %llu has %llu pixel tokens, more than the %ux%u of the palette",
				(unsigned long long)r, (unsigned long long)len, tk->width, tk->height);
		st->short_rec += len < st->per;
		if (mg_image_alloc(&(*ims)[r], tk->width, tk->height, st->ch, &e))
			cli_die(name, "%s", e.msg);
		for (uint64_t i = 0; i < st->per; i++) {
			const uint8_t *c = o->colour;
			if (i < len) {
				if (ids[i] >= tk->n_colors)
					cli_die(name, "record %llu, position %llu: token %u is not a colour of the %u-colour "
						"palette", (unsigned long long)r, (unsigned long long)i, ids[i], tk->n_colors);
				c = tk->palette + 3 * (size_t)ids[i];
			}
			memcpy((*ims)[r].pixels + i * st->ch, c, st->ch);
		}
	}
	*n = n_rec;
	mg_tokstream_data_free(&d);
}

/* Decodes the token streams of the operands (stdin when none). Several
 * streams are laid side by side: with n records in the shortest, a stream
 * of c x n records gives c pictures to each of the n rows (originals |
 * completions), in its record order. --records keeps the first rows. */
static void decode(const opts *o)
{
	int nf = o->n_files ? o->n_files : 1;
	const char *first_name = o->n_files && strcmp(o->files[0], "-") ? o->files[0] : "<stdin>";
	mg_image **per_file = calloc((size_t)nf, sizeof *per_file), *ims;
	uint64_t *count = calloc((size_t)nf, sizeof *count), *mult = calloc((size_t)nf, sizeof *mult);
	uint64_t rows = UINT64_MAX, cols = 0, n_pic, at = 0;
	int many = o->out && (o->out[strlen(o->out) - 1] == '/' || strchr(o->out, '%'));
	dec_state st;
	mg_grid_opts g;
	mg_err e;

	memset(&st, 0, sizeof st);
	if (!per_file || !count || !mult)
		cli_die(NULL, "out of memory");
	if (o->model) {
		load_palette(o->model, &st.own);
		st.tk = &st.own;
	}
	for (int j = 0; j < nf; j++) {
		decode_file(o, o->n_files ? o->files[j] : NULL, &st, &per_file[j], &count[j]);
		if (count[j] < rows)
			rows = count[j];
	}
	if (nf == 1) { /* one stream: its records in order, --grid fills the rows */
		mult[0] = 1;
		cols = 1;
	} else
		for (int j = 0; j < nf; j++) {
			if (count[j] % rows)
				cli_die(o->files[j], "%llu records are not a multiple of %llu, the records of the shortest "
					"input", (unsigned long long)count[j], (unsigned long long)rows);
			mult[j] = count[j] / rows;
			cols += mult[j];
		}
	if (o->records && o->records < rows)
		rows = o->records;
	n_pic = rows * cols;
	if (o->grid_rows && n_pic > (uint64_t)o->grid_rows * o->grid_cols)
		cli_die(first_name, "%llu records do not fit a %ux%u grid", (unsigned long long)n_pic, o->grid_rows,
			o->grid_cols);
	if (!o->grid_rows && !many && n_pic > 1 && nf == 1)
		cli_die(first_name, "%llu records make %llu pictures: give --grid, or -o dir/ or a pattern with %%d",
			(unsigned long long)n_pic, (unsigned long long)n_pic);
	if (!(ims = calloc(n_pic, sizeof *ims)))
		cli_die(NULL, "out of memory");
	/* row by row: each stream's pictures of that row, streams in order
	 * (shallow copies: the pixels stay owned by per_file) */
	for (uint64_t r = 0; r < rows; r++)
		for (int j = 0; j < nf; j++)
			for (uint64_t c = 0; c < mult[j]; c++)
				ims[at++] = per_file[j][r * mult[j] + c];
	g.scale = o->scale;
	g.border = o->border;
	memcpy(g.colour, o->colour, 3);
	if (many && o->out[strlen(o->out) - 1] == '/' && mkdir(o->out, 0777) && errno != EEXIST)
		cli_die(o->out, "cannot create the folder: %s", strerror(errno));
	if (many) {
		for (uint64_t i = 0; i < n_pic; i++) {
			char file[4096];
			mg_image pic;
			g.rows = g.cols = 1;
			picture_name(o->out, i, file, sizeof file);
			if (mg_grid_compose(&ims[i], 1, &g, &pic, &e))
				cli_die(NULL, "%s", e.msg);
			write_png(&pic, file, o->force);
			mg_image_free(&pic);
		}
	} else {
		mg_image pic;
		/* several streams without --grid: a row per record, a column per picture */
		g.rows = o->grid_rows ? o->grid_rows : (uint32_t)rows;
		g.cols = o->grid_rows ? o->grid_cols : (uint32_t)cols;
		if (nf == 1 && !o->grid_rows)
			g.rows = g.cols = 1;
		if (mg_grid_compose(ims, n_pic, &g, &pic, &e))
			cli_die(NULL, "%s", e.msg);
		write_png(&pic, o->out, o->force);
		mg_image_free(&pic);
	}
	if (!o->quiet) {
		char gr[32];
		fprintf(stderr, "%s: %s record%s to %s %ux%u picture%s", cli_prog(), cli_grouped(n_pic, gr, sizeof gr),
			cli_s(n_pic), st.ch == 3 ? "RGB" : "gray", st.tk->width, st.tk->height, cli_s(n_pic));
		if (st.short_rec)
			fprintf(stderr, "; %llu short record%s padded with %02x%02x%02x", (unsigned long long)st.short_rec,
				cli_s(st.short_rec), o->colour[0], o->colour[1], o->colour[2]);
		fputc('\n', stderr);
	}
	for (int j = 0; j < nf; j++) {
		for (uint64_t r = 0; r < count[j]; r++)
			mg_image_free(&per_file[j][r]);
		free(per_file[j]);
	}
	free(per_file);
	free(count);
	free(mult);
	free(ims);
	if (o->model)
		mg_tokenizer_free(&st.own);
	if (st.have_first)
		mg_tokenizer_free(&st.first);
}

static void parse_grid(const char *arg, opts *o)
{
	char *x = strchr(arg, 'x');
	char rows[32];

	if (!x || (size_t)(x - arg) >= sizeof rows)
		cli_usage_error("--grid '%s' is not ROWSxCOLS", arg);
	memcpy(rows, arg, (size_t)(x - arg));
	rows[x - arg] = 0;
	o->grid_rows = (uint32_t)cli_parse_u64("--grid", rows, 1, MG_IMAGE_SIDE_LIMIT);
	o->grid_cols = (uint32_t)cli_parse_u64("--grid", x + 1, 1, MG_IMAGE_SIDE_LIMIT);
}

static void parse_colour(const char *arg, uint8_t c[3])
{
	unsigned v = 0;

	if (strlen(arg) != 6 || strspn(arg, "0123456789abcdefABCDEF") != 6)
		cli_usage_error("--colour '%s' is not six hex digits RRGGBB", arg);
	v = (unsigned)strtoul(arg, NULL, 16);
	c[0] = (uint8_t)(v >> 16);
	c[1] = (uint8_t)(v >> 8);
	c[2] = (uint8_t)v;
}

/* -o for one picture per record: ends in '/', or holds one %d (%0Nd). */
static void check_pattern(const char *out)
{
	const char *pc = strchr(out, '%'), *q;

	if (!pc)
		return;
	q = pc + 1;
	if (*q == '0')
		q++;
	while (*q >= '0' && *q <= '9')
		q++;
	if (*q != 'd' || q - pc > 4 || strchr(q, '%'))
		cli_usage_error("-o %s: a pattern holds one %%d (or %%0Nd) and no other %%", out);
}

int main(int argc, char **argv)
{
	static const char *const inits[] = { "random", "kmeans++", NULL };
	static const char *const formats[] = { "auto", "cifar", "png", "pnm", "idx", NULL };
	opts o;
	int c;

	memset(&o, 0, sizeof o);
	o.k = 512;
	o.ppi = 5;
	o.iters = 8;
	o.seed = 1337;
	o.scale = 1;
	o.colour[0] = o.colour[1] = o.colour[2] = 0x80;
	cli_init("img-quantize", usage);
	while ((c = getopt_long(argc, argv, ":k:m:ds:j:o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FIT: o.fit = 1; break;
		case 'k': o.k = (uint32_t)cli_parse_u64("-k", optarg, 1, 65536); break;
		case OPT_PPI: o.ppi = (uint32_t)cli_parse_u64("--pixels-per-image", optarg, 1, 1u << 24); break;
		case OPT_ITERS: o.iters = (uint32_t)cli_parse_u64("--iters", optarg, 0, 1000); break;
		case OPT_INIT: o.plusplus = cli_parse_choice("--init", optarg, inits); break;
		case 's': o.seed = cli_parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case 'm': o.model = optarg; break;
		case OPT_LABEL_TOKEN: o.label_token = 1; break;
		case OPT_PROMPT_TOKENS:
			o.prompt_tokens = (uint32_t)cli_parse_u64("--prompt-tokens", optarg, 1, UINT32_MAX);
			break;
		case OPT_FORMAT: o.format = cli_parse_choice("--format", optarg, formats); break;
		case OPT_LABELS: o.labels = optarg; break;
		case 'd': o.decode = 1; break;
		case OPT_GRID: parse_grid(optarg, &o); break;
		case OPT_SCALE: o.scale = (uint32_t)cli_parse_u64("--scale", optarg, 1, 64); break;
		case OPT_BORDER: o.border = (uint32_t)cli_parse_u64("--border", optarg, 0, 64); break;
		case OPT_COLOUR: parse_colour(optarg, o.colour); break;
		case OPT_RECORDS: o.records = cli_parse_u64("--records", optarg, 1, UINT64_MAX); break;
		case 'j': o.threads = (uint32_t)cli_parse_u64("--threads", optarg, 0, 256); break;
		case 'o': o.out = optarg; break;
		case 'f': o.force = 1; break;
		case 'q': o.quiet = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	o.files = argv + optind;
	o.n_files = argc - optind;
	if (o.quiet && o.verbose)
		cli_usage_error("-q and -v are exclusive");
	if (o.fit + o.decode + (o.model && !o.decode) != 1)
		cli_usage_error("give one of --fit, -m palette (encode) or -d (decode)");
	if (o.fit && o.model)
		cli_usage_error("--fit makes a palette: no -m");
	if (!o.fit && (o.k != 512 || o.ppi != 5 || o.iters != 8 || o.plusplus || o.seed != 1337))
		cli_usage_error("-k, --pixels-per-image, --iters, --init and -s are for --fit");
	if (!o.decode && (o.grid_rows || o.scale != 1 || o.border || o.colour[0] != 0x80 || o.colour[1] != 0x80 ||
			  o.colour[2] != 0x80 || o.records))
		cli_usage_error("--grid, --scale, --border, --colour and --records are for -d");
	if ((o.fit || o.decode) && (o.label_token || o.prompt_tokens))
		cli_usage_error("--label-token and --prompt-tokens are for encoding (-m without -d)");
	if (o.decode && (o.format || o.labels))
		cli_usage_error("--format and --labels are for reading images, not -d");
	if (o.decode) {
		int dash = 0;
		for (int i = 0; i < o.n_files; i++)
			dash += !strcmp(o.files[i], "-");
		if (dash > 1)
			cli_usage_error("standard input (-) is given twice");
	}
	if (!o.decode && o.n_files == 0)
		cli_usage_error("no images given");
	if (o.labels && o.n_files != 1)
		cli_usage_error("--labels goes with one IDX images file");
	if (o.decode && o.out && *o.out) {
		check_pattern(o.out);
		if (o.grid_rows && (o.out[strlen(o.out) - 1] == '/' || strchr(o.out, '%')))
			cli_usage_error("--grid makes one picture: -o names a file");
	}
	if (o.threads == 0) {
		int n = mg_threads_available();
		o.threads = (uint32_t)(n < 256 ? n : 256);
	}
	if (o.fit)
		fit(&o);
	else if (o.decode)
		decode(&o);
	else
		encode(&o);
	return CLI_EXIT_OK;
}
