/* gpt-train: trains a GPT checkpoint on token data and writes the trained
 * checkpoint, resumable exactly; progress, metrics log, evaluation, periodic
 * atomic saves and signals. The training itself and its checks are
 * lib/train/; atomic files lib/io/outfile.h. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "core/clock.h"
#include "core/threads.h"
#include "io/ckpt.h"
#include "io/outfile.h"
#include "io/tokstream.h"
#include "model/gpt.h"
#include "train/train_data.h"
#include "train/train_log.h"
#include "train/train_setup.h"
#include "train/train_state.h"
#include "train/trainer.h"

static const char usage[] =
	"usage: gpt-train [-fqv] --data file [--val file | --val-split frac]\n"
	"                 [--iters n | --epochs n] [--batch n] [--micro-batch n]\n"
	"                 [--lr x] [--lr-schedule cosine | cosine-min | constant]\n"
	"                 [--warmup-tokens n] [--final-tokens n] [--beta1 x]\n"
	"                 [--beta2 x] [--eps x] [--weight-decay x] [--grad-clip x]\n"
	"                 [--dropout x] [-s seed] [--order random | sequential]\n"
	"                 [--eval-every n] [--eval-batches n] [--log file]\n"
	"                 [--log-every n] [--best file] [--save-every n]\n"
	"                 [--no-optimizer] [--restart] [--device cpu | cuda]\n"
	"                 [-j threads] [-o file] [checkpoint]\n"
	"       gpt-train --eval-only [-q] --val file [--eval-batches n]\n"
	"                 [--device cpu | cuda] [-j threads] [checkpoint]\n";

static const char options[] =
	"\n"
	"Data:\n"
	"  --data file          training data, a token stream (required)\n"
	"  --val file           validation data, a token stream (default none)\n"
	"  --val-split frac     hold out the last frac of --data for validation (default 0)\n"
	"  --order name         random or sequential (default random)\n"
	"Length (totals from step 0; default 1 epoch):\n"
	"  --iters n            train until step n\n"
	"  --epochs n           train until n epochs are complete\n"
	"Optimisation (a resumed run keeps its stored values unless given):\n"
	"  --batch n            sequences per optimizer step (default 256)\n"
	"  --micro-batch n      sequences per forward pass, gradients accumulated (default --batch)\n"
	"  --lr x               peak learning rate (default 6e-4)\n"
	"  --lr-schedule name   cosine: linear warmup then cosine, held at 10% once there\n"
	"                       (minGPT); cosine-min: to 10% exactly at --final-tokens\n"
	"                       (nanoGPT); constant (default cosine)\n"
	"  --warmup-tokens n    tokens of linear warmup (default 10240 = 512*20)\n"
	"  --final-tokens n     tokens at which the cosine reaches 10%, 0 for the end of the\n"
	"                       run (default 0)\n"
	"  --beta1 x            AdamW beta1 (default 0.9)\n"
	"  --beta2 x            AdamW beta2 (default 0.95)\n"
	"  --eps x              AdamW epsilon (default 1e-8)\n"
	"  --weight-decay x     AdamW weight decay of the weight matrices (default 0.1)\n"
	"  --grad-clip x        clip the global gradient norm at x, 0 for none (default 1)\n"
	"  --dropout x          set every dropout rate of the model (default the checkpoint's)\n"
	"  -s, --seed n         seed of the data order and dropout (default 1337)\n"
	"Evaluation, logs and checkpoints:\n"
	"  --eval-every n       evaluate every n steps (default at the end of each epoch)\n"
	"  --eval-batches n     batches per evaluation, 0 for all the validation data (default 0)\n"
	"  --log file           write metrics as tab-separated values to file\n"
	"  --log-every n        log and report every n steps (default 10)\n"
	"  --best file          keep the checkpoint with the best validation loss in file\n"
	"  --save-every n       write the checkpoint to -o every n steps (default 0: at the end)\n"
	"  --no-optimizer       write the parameters only, without AdamW moments or training state\n"
	"  --restart            start a new run from the checkpoint's parameters\n"
	"  --eval-only          print the checkpoint's loss on --val to stdout, train nothing\n"
	"  --device name        cpu, or cuda: train on the first NVIDIA GPU (default cpu)\n"
	"  -j, --threads n      threads, 0 for every CPU available (default 0)\n"
	"  -o, --output file    write the checkpoint to file (atomically) instead of stdout\n"
	"  -f, --force          write binary data to a terminal\n"
	"  -q, --quiet          no progress or summary on stderr\n"
	"  -v, --verbose        also print the hyperparameters and every save\n"
	"  -h, --help           print this help\n"
	"  -V, --version        print the version\n";

enum {
	OPT_DATA = 256, OPT_VAL, OPT_VAL_SPLIT, OPT_ORDER, OPT_ITERS, OPT_EPOCHS, OPT_BATCH, OPT_MICRO, OPT_LR,
	OPT_SCHED, OPT_WARMUP, OPT_FINAL, OPT_BETA1, OPT_BETA2, OPT_EPS, OPT_WD, OPT_CLIP, OPT_DROPOUT,
	OPT_EVAL_EVERY, OPT_EVAL_BATCHES, OPT_LOG, OPT_LOG_EVERY, OPT_BEST, OPT_SAVE_EVERY, OPT_NO_OPT,
	OPT_RESTART, OPT_EVAL_ONLY, OPT_DEVICE,
};

static const struct option longopts[] = {
	{ "data", required_argument, NULL, OPT_DATA },
	{ "val", required_argument, NULL, OPT_VAL },
	{ "val-split", required_argument, NULL, OPT_VAL_SPLIT },
	{ "order", required_argument, NULL, OPT_ORDER },
	{ "iters", required_argument, NULL, OPT_ITERS },
	{ "epochs", required_argument, NULL, OPT_EPOCHS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "micro-batch", required_argument, NULL, OPT_MICRO },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "lr-schedule", required_argument, NULL, OPT_SCHED },
	{ "warmup-tokens", required_argument, NULL, OPT_WARMUP },
	{ "final-tokens", required_argument, NULL, OPT_FINAL },
	{ "beta1", required_argument, NULL, OPT_BETA1 },
	{ "beta2", required_argument, NULL, OPT_BETA2 },
	{ "eps", required_argument, NULL, OPT_EPS },
	{ "weight-decay", required_argument, NULL, OPT_WD },
	{ "grad-clip", required_argument, NULL, OPT_CLIP },
	{ "dropout", required_argument, NULL, OPT_DROPOUT },
	CLI_OPTION_SEED,
	{ "eval-every", required_argument, NULL, OPT_EVAL_EVERY },
	{ "eval-batches", required_argument, NULL, OPT_EVAL_BATCHES },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "log-every", required_argument, NULL, OPT_LOG_EVERY },
	{ "best", required_argument, NULL, OPT_BEST },
	{ "save-every", required_argument, NULL, OPT_SAVE_EVERY },
	{ "no-optimizer", no_argument, NULL, OPT_NO_OPT },
	{ "restart", no_argument, NULL, OPT_RESTART },
	{ "eval-only", no_argument, NULL, OPT_EVAL_ONLY },
	{ "device", required_argument, NULL, OPT_DEVICE },
	CLI_OPTION_THREADS,
	CLI_OPTION_VERBOSE,
	CLI_OPTIONS_END,
};

/* The command line: the hyperparameters given (have_*) override the
 * stored ones of a resumed run. */
typedef struct opts {
	const char *ckpt, *data, *val, *out, *log, *best;
	const char *device; /* a backend name (lib/backend/backend.h) */
	double val_split, lr, beta1, beta2, eps, wd, clip, dropout;
	uint64_t iters, epochs, batch, micro, warmup, final, seed, eval_every, eval_batches, log_every, save_every;
	uint32_t order, sched;
	int threads, no_opt, restart, force, quiet, verbose, eval_only;
	int have_val_split, have_order, have_iters, have_epochs, have_batch, have_micro, have_lr, have_sched,
		have_warmup, have_final, have_beta1, have_beta2, have_eps, have_wd, have_clip, have_dropout, have_seed;
} opts;

/* ------------------------------------------------------------ signals */

/* The first SIGINT, SIGTERM or SIGHUP asks for a stop after the current
 * step; a second one removes unfinished outputs, restores the handlers
 * cli_init installed and kills the process at once. */
static volatile sig_atomic_t stop_sig;
static const int stop_sigs[3] = { SIGINT, SIGTERM, SIGHUP };
static struct sigaction old_actions[3];

static void on_stop(int sig)
{
	if (!stop_sig) {
		stop_sig = sig;
		return;
	}
	mg_outfile_remove_pending();
	for (int i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &old_actions[i], NULL);
	raise(sig); /* delivered when this handler returns */
}

static void signals_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(stop_sigs[i], &sa, &old_actions[i]);
}

static const char *signal_name(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP"; }

/* ------------------------------------------------------------ text */

/* tqdm's durations: "01:05", "1:02:03" */
static const char *hms(double s, char *buf, size_t n)
{
	unsigned long t = !isfinite(s) || s < 0 ? 0 : (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%02lu:%02lu", t / 60, t % 60);
	return buf;
}

static double mib(uint64_t bytes) { return (double)bytes / 1048576.0; }

/* ------------------------------------------------------------ files */

static void read_data(const char *path, mg_tokstream_data *d, const char **name)
{
	FILE *f = cli_open_in(path, name);
	mg_err e;

	if (mg_tokstream_data_read(f, d, &e))
		cli_die_err(*name, &e);
	cli_close_in(f, *name);
}

/* ------------------------------------------------------------ progress */

typedef struct progress {
	int tty, quiet;
	double t_start, t_train;  /* process start; seconds spent in steps */
	uint64_t steps_run, steps_total, step0;
	double epoch_t0;          /* when the current epoch's first step of this process began */
	uint64_t epoch_iters0;    /* its iter then */
	double last_draw;
	int drawn;                /* a progress line is on the terminal */
} progress;

static int term_width(void)
{
	struct winsize w;

	if (!ioctl(STDERR_FILENO, TIOCGWINSZ, &w) && w.ws_col > 20)
		return w.ws_col;
	return 80;
}

static void progress_clear(progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		p->drawn = 0;
	}
}

/* MyGPT's tqdm line for the epoch, and the whole run's position, elapsed
 * time and ETA: "epoch 1 iter 33: train loss 2.61996. lr 5.999354e-04:
 * 100%|##########| 34/34 [00:08<00:00, 4.19it/s] step 34/340 00:08<01:12" */
static void progress_draw(progress *p, const mg_trainer_step_info *in, const mg_train_state *s, uint64_t epoch_steps,
			  int final)
{
	char head[128], bar[32], epoch[96], run[96], line[352], a[32], b[32], c[32], d[32];
	double t = mg_clock_now(), rate, eta_run, elapsed_epoch = t - p->epoch_t0;
	uint64_t it = in->iter + 1, done_in_epoch = it - p->epoch_iters0;
	int w, pct = epoch_steps ? (int)(100 * it / epoch_steps) : 100;

	if (p->quiet || !p->tty || (!final && t - p->last_draw < 0.1))
		return;
	p->last_draw = t;
	rate = p->t_train > 0 ? (double)p->steps_run / p->t_train : 0.0;
	eta_run = rate > 0 ? (double)(p->steps_total - (s->step - p->step0)) / rate : 0.0;
	snprintf(head, sizeof head, "epoch %llu iter %llu: train loss %.5f. lr %e: ", (unsigned long long)in->epoch + 1,
		 (unsigned long long)in->iter, in->loss, in->lr);
	snprintf(bar, sizeof bar, "%3d%%|%.*s%*s| ", pct, pct / 10, "##########", 10 - pct / 10, "");
	snprintf(epoch, sizeof epoch, "%llu/%llu [%s<%s, %.2fit/s] ", (unsigned long long)it,
		 (unsigned long long)epoch_steps, hms(elapsed_epoch, a, sizeof a),
		 hms(done_in_epoch ? elapsed_epoch / (double)done_in_epoch * (double)(epoch_steps - it) : 0, b, sizeof b),
		 done_in_epoch && elapsed_epoch > 0 ? (double)done_in_epoch / elapsed_epoch : 0.0);
	snprintf(run, sizeof run, "step %llu/%llu %s<%s", (unsigned long long)s->step,
		 (unsigned long long)(p->step0 + p->steps_total), hms(t - p->t_start, c, sizeof c),
		 hms(eta_run, d, sizeof d));
	/* a narrow terminal loses the bar, then the epoch's times, then the end */
	w = term_width() - 1;
	if ((int)(strlen(head) + strlen(bar) + strlen(epoch) + strlen(run)) > w)
		bar[0] = 0;
	if ((int)(strlen(head) + strlen(epoch) + strlen(run)) > w)
		epoch[0] = 0;
	snprintf(line, sizeof line, "%s%s%s%s", head, bar, epoch, run);
	fprintf(stderr, "\r%.*s\033[K", w, line);
	p->drawn = 1;
	if (in->epoch_end) {
		fputc('\n', stderr);
		p->drawn = 0;
	}
	fflush(stderr);
}

/* ------------------------------------------------------------ main */

static void parse(int argc, char **argv, opts *o)
{
	static const char *const orders[] = { "random", "sequential", NULL };
	static const char *const scheds[] = { "cosine", "constant", "cosine-min", NULL };
	static const char *const devices[] = { "cpu", "cuda", NULL };
	int c;

	memset(o, 0, sizeof *o);
	o->log_every = 10;
	o->device = "cpu";
	while ((c = getopt_long(argc, argv, ":s:j:o:fqvhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DATA: o->data = optarg; break;
		case OPT_VAL: o->val = optarg; break;
		case OPT_VAL_SPLIT:
			o->val_split = cli_parse_double("--val-split", optarg, 0, 1);
			if (o->val_split >= 1)
				cli_usage_error("invalid value '%s' for --val-split: expected a fraction below 1", optarg);
			o->have_val_split = 1;
			break;
		case OPT_ORDER: o->order = (uint32_t)cli_parse_choice("--order", optarg, orders), o->have_order = 1; break;
		case OPT_ITERS: o->iters = cli_parse_u64("--iters", optarg, 1, INT64_MAX), o->have_iters = 1; break;
		case OPT_EPOCHS: o->epochs = cli_parse_u64("--epochs", optarg, 1, INT64_MAX), o->have_epochs = 1; break;
		case OPT_BATCH: o->batch = cli_parse_u64("--batch", optarg, 1, INT32_MAX), o->have_batch = 1; break;
		case OPT_MICRO: o->micro = cli_parse_u64("--micro-batch", optarg, 1, INT32_MAX), o->have_micro = 1; break;
		case OPT_LR:
			o->lr = cli_parse_double("--lr", optarg, 0, 10);
			if (!(o->lr > 0))
				cli_usage_error("invalid value '%s' for --lr: expected a number in 0..10 above 0", optarg);
			o->have_lr = 1;
			break;
		case OPT_SCHED: o->sched = (uint32_t)cli_parse_choice("--lr-schedule", optarg, scheds), o->have_sched = 1; break;
		case OPT_WARMUP: o->warmup = cli_parse_u64("--warmup-tokens", optarg, 0, INT64_MAX), o->have_warmup = 1; break;
		case OPT_FINAL: o->final = cli_parse_u64("--final-tokens", optarg, 0, INT64_MAX), o->have_final = 1; break;
		case OPT_BETA1:
		case OPT_BETA2: {
			const char *name = c == OPT_BETA1 ? "--beta1" : "--beta2";
			double v = cli_parse_double(name, optarg, 0, 1);
			if (v >= 1)
				cli_usage_error("invalid value '%s' for %s: expected a number in 0..1 below 1", optarg, name);
			if (c == OPT_BETA1)
				o->beta1 = v, o->have_beta1 = 1;
			else
				o->beta2 = v, o->have_beta2 = 1;
			break;
		}
		case OPT_EPS:
			o->eps = cli_parse_double("--eps", optarg, 0, 1);
			if (!(o->eps > 0))
				cli_usage_error("invalid value '%s' for --eps: expected a number in 0..1 above 0", optarg);
			o->have_eps = 1;
			break;
		case OPT_WD: o->wd = cli_parse_double("--weight-decay", optarg, 0, 100), o->have_wd = 1; break;
		case OPT_CLIP: o->clip = cli_parse_double("--grad-clip", optarg, 0, 1e9), o->have_clip = 1; break;
		case OPT_DROPOUT: o->dropout = cli_parse_double("--dropout", optarg, 0, 0.99), o->have_dropout = 1; break;
		case 's': o->seed = cli_parse_u64("--seed", optarg, 0, UINT64_MAX), o->have_seed = 1; break;
		case OPT_EVAL_EVERY: o->eval_every = cli_parse_u64("--eval-every", optarg, 1, INT64_MAX); break;
		case OPT_EVAL_BATCHES: o->eval_batches = cli_parse_u64("--eval-batches", optarg, 0, INT64_MAX); break;
		case OPT_LOG: o->log = optarg; break;
		case OPT_LOG_EVERY: o->log_every = cli_parse_u64("--log-every", optarg, 1, INT64_MAX); break;
		case OPT_BEST: o->best = optarg; break;
		case OPT_SAVE_EVERY: o->save_every = cli_parse_u64("--save-every", optarg, 0, INT64_MAX); break;
		case OPT_NO_OPT: o->no_opt = 1; break;
		case OPT_RESTART: o->restart = 1; break;
		case OPT_EVAL_ONLY: o->eval_only = 1; break;
		case OPT_DEVICE: o->device = devices[cli_parse_choice("--device", optarg, devices)]; break;
		case 'j': o->threads = (int)cli_parse_u64("--threads", optarg, 0, 4096); break;
		case 'o': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'q': o->quiet = 1; break;
		case 'v': o->verbose = 1; break;
		case 'h': cli_help(options);
		case 'V': cli_version();
		default: cli_bad_option(c, argv);
		}
	}
	if (argc - optind > 1)
		cli_usage_error("unexpected operand '%s'", argv[optind + 1]);
	o->ckpt = optind < argc ? argv[optind] : NULL;
	if (o->eval_only) {
		/* only the model and the validation data: the training options
		 * have nothing to act on */
		if (!o->val)
			cli_usage_error("--eval-only needs --val FILE");
		if (o->data || o->out || o->log || o->best || o->save_every || o->have_val_split || o->have_iters ||
		    o->have_epochs || o->have_batch || o->restart || o->no_opt)
			cli_usage_error("--eval-only takes only --val, --eval-batches, --micro-batch, --device, -j, -q and a "
					"checkpoint");
		o->data = o->val; /* the run's data view, never trained on */
		if (o->have_micro) /* sequences per forward pass, any number */
			o->batch = o->micro, o->have_batch = 1;
	}
	if (!o->data)
		cli_usage_error("no training data: give --data FILE");
	if (o->have_iters && o->have_epochs)
		cli_usage_error("--iters and --epochs exclude each other");
	if (o->val && o->have_val_split)
		cli_usage_error("--val and --val-split exclude each other");
	if (o->save_every && (!o->out || !strcmp(o->out, "-")))
		cli_usage_error("--save-every needs -o FILE");
	if (o->best && o->out && !strcmp(o->best, o->out))
		cli_usage_error("--best and -o name the same file");
	{
		int in_stdin = !o->ckpt || !strcmp(o->ckpt, "-");
		int n_stdin = in_stdin + !strcmp(o->data, "-") + (o->val && !strcmp(o->val, "-"));
		if (n_stdin > 1)
			cli_usage_error("only one of the checkpoint, --data and --val can be standard input");
	}
	if (o->have_batch && o->have_micro && o->micro > o->batch)
		cli_usage_error("--micro-batch %llu is larger than --batch %llu", (unsigned long long)o->micro,
				(unsigned long long)o->batch);
}

/* The state of the run: the stored one when resuming, else the defaults,
 * then the command line's hyperparameters over it. */
static void apply_opts(const opts *o, mg_train_state *s, int resuming)
{
	if (o->have_iters)
		s->iters = o->iters, s->epochs = 0;
	if (o->have_epochs)
		s->epochs = o->epochs, s->iters = 0;
	if (o->have_batch) {
		/* keep a stored micro-batch (a memory limit) unless it exceeds the batch */
		s->micro_batch = resuming && !o->have_micro && s->micro_batch < o->batch ? s->micro_batch
											   : (uint32_t)o->batch;
		s->batch = (uint32_t)o->batch;
	}
	if (o->have_micro)
		s->micro_batch = (uint32_t)o->micro;
	if (o->have_order)
		s->order = o->order;
	if (o->have_seed)
		s->seed = o->seed;
	if (o->have_lr)
		s->lr.lr = o->lr;
	if (o->have_sched)
		s->lr.kind = o->sched;
	if (o->have_warmup)
		s->lr.warmup_tokens = o->warmup;
	if (o->have_final)
		s->lr.final_tokens = o->final;
	if (o->have_beta1)
		s->beta1 = o->beta1;
	if (o->have_beta2)
		s->beta2 = o->beta2;
	if (o->have_eps)
		s->eps = o->eps;
	if (o->have_wd)
		s->weight_decay = o->wd;
	if (o->have_clip)
		s->grad_clip = o->clip;
	if (o->have_val_split)
		s->val_split = o->val_split;
}

/* Opens the view of units [first, first+count) of d, or dies naming the
 * file (and the part, for a split). */
static mg_train_data *open_view(const mg_tokstream_data *d, const char *name, const char *part, uint64_t first, uint64_t count,
			   const mg_gpt_config *c)
{
	mg_train_data *t;
	mg_err e;

	if (mg_train_data_open(&t, d, first, count, c->block_size, c->vocab_size, &e)) {
		if (part)
			mg_err_prefix(&e, "%s: ", part);
		cli_die_err(name, &e);
	}
	return t;
}

static void describe_data(const char *what, const char *name, const mg_train_data *t, uint32_t order, uint32_t batch,
			  uint64_t epoch_len)
{
	char a[32], b[32], c[32];

	if (mg_train_data_layout(t) == MG_LAYOUT_EXAMPLES)
		fprintf(stderr, "%s: %s: %s: %s records (%s targets)", cli_prog(), what, name,
			cli_grouped(mg_train_data_records(t), a, sizeof a), cli_grouped(mg_train_data_targets(t), b, sizeof b));
	else
		fprintf(stderr, "%s: %s: %s: %s tokens (%s)", cli_prog(), what, name, cli_grouped(mg_train_data_tokens(t), a, sizeof a),
			mg_tokstream_layout_name(mg_train_data_layout(t)));
	if (batch)
		fprintf(stderr, "; %s %s per epoch in %s order: %s steps of %u\n", cli_grouped(epoch_len, c, sizeof c),
			mg_train_data_layout(t) == MG_LAYOUT_EXAMPLES ? "records" : "windows", mg_train_data_order_name(order),
			cli_grouped((epoch_len + batch - 1) / batch, a, sizeof a), batch);
	else
		fprintf(stderr, "; %s %s\n", cli_grouped(epoch_len, c, sizeof c),
			mg_train_data_layout(t) == MG_LAYOUT_EXAMPLES ? "records" : "windows");
}

/* Everything a run needs, for the functions of the training loop. */
typedef struct run {
	const opts *o;
	const mg_gpt *g;
	mg_trainer *tr;
	mg_train_data *val;
	const char *data_name, *val_name;
	const mg_tokenizer *tk;
	uint32_t write_flags;
	mg_train_log *log; /* --log */
	uint64_t best_unsaved; /* the step of a best checkpoint --best does not hold, or 0 */
	progress pr;
	/* the current log interval */
	double iv_loss, iv_time;
	uint64_t iv_count, iv_positions;
	/* the whole run */
	uint64_t positions;
	double last_train, last_val;
} run;

/* Dies when the backend has met an error (a GPU fault): the model's values
 * are then undefined, so nothing more is written. */
static void device_check(const mg_gpt *g)
{
	mg_err e;

	if (mg_gpt_check(g, &e))
		cli_die(mg_gpt_backend(g)->name, "%s", e.msg);
}

/* Evaluates after a step: prints the loss, tracks and saves the best.
 * Returns 0 when a signal interrupted it. */
static int run_eval(run *r, const mg_trainer_step_info *in)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	const opts *o = r->o;
	double t0 = mg_clock_now();
	mg_gpt_loss vl;
	mg_err e;
	int rc = mg_trainer_eval(r->tr, r->val, o->eval_batches, &stop_sig, &vl, &e), best;

	device_check(r->g);
	if (rc == MG_E_INTERRUPTED)
		return 0;
	if (rc)
		cli_die(o->val ? r->val_name : r->data_name, "%s", e.msg);
	best = isfinite(vl.mean) && (!s->has_best || vl.mean < s->best_val_loss);
	r->last_val = vl.mean;
	if (best)
		mg_trainer_set_best(r->tr, vl.mean);
	if (!o->quiet) {
		progress_clear(&r->pr);
		fprintf(stderr, "%s: step %llu (epoch %llu): val loss %.5f", cli_prog(), (unsigned long long)s->step,
			(unsigned long long)in->epoch + 1, vl.mean);
		if (best)
			fprintf(stderr, " (best)");
		else
			fprintf(stderr, " (best %.5f at step %llu)", s->best_val_loss, (unsigned long long)s->best_step);
		if (o->verbose)
			fprintf(stderr, " in %.1f s", mg_clock_now() - t0);
		fputc('\n', stderr);
	}
	if (best && o->best) {
		/* a failure fails the run unless a later best is saved */
		r->best_unsaved = s->step;
		if (mg_trainer_save(r->tr, o->best, r->tk, r->write_flags, &e)) {
			cli_warn(o->best, "cannot save the best checkpoint: %s", e.msg);
		} else {
			r->best_unsaved = 0;
			if (o->verbose && !o->quiet)
				fprintf(stderr, "%s: saved step %llu to %s\n", cli_prog(), (unsigned long long)s->step,
					o->best);
		}
	}
	return 1;
}

/* The plain progress line of a log interval (stderr not a terminal). */
static void run_report(run *r, const mg_trainer_step_info *in)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	double tl = r->iv_count ? r->iv_loss / (double)r->iv_count : 0.0;
	double tps = r->iv_time > 0 ? (double)r->iv_positions / r->iv_time : 0.0;
	double rate = r->pr.t_train > 0 ? (double)r->pr.steps_run / r->pr.t_train : 0.0;
	uint64_t last = r->pr.step0 + r->pr.steps_total;
	char a[32], b[32];

	fprintf(stderr, "epoch %llu iter %llu: train loss %.5f. lr %e: step %llu/%llu [%s<%s, %.2fit/s, %.0f tokens/s]\n",
		(unsigned long long)in->epoch + 1, (unsigned long long)in->iter, tl, in->lr, (unsigned long long)s->step,
		(unsigned long long)last, hms(mg_clock_now() - r->pr.t_start, a, sizeof a),
		hms(rate > 0 ? (double)(last - s->step) / rate : 0, b, sizeof b), rate, tps);
}

/* A row of the metrics log, which ends the log interval. */
static void run_log_row(run *r, const mg_trainer_step_info *in, int evaluated)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	double tl = r->iv_count ? r->iv_loss / (double)r->iv_count : 0.0;
	double tps = r->iv_time > 0 ? (double)r->iv_positions / r->iv_time : 0.0;

	if (r->log) {
		mg_train_log_row row = { .step = s->step, .tokens = s->tokens, .train_loss = tl,
					 .val_loss = evaluated ? r->last_val : NAN, .lr = in->lr,
					 .grad_norm = in->grad_norm, .tokens_per_s = tps };
		mg_err e;

		if (mg_train_log_write(r->log, &row, &e))
			cli_die(r->o->log, "%s", e.msg);
	}
	r->iv_loss = r->iv_time = 0.0;
	r->iv_count = r->iv_positions = 0;
}

/* Stops the run on a loss or gradient that is not finite: the state is
 * that before the step, which goes to -o. */
_Noreturn static void run_nonfinite(run *r, const mg_trainer_step_info *in)
{
	const char *what = in->status == MG_TRAINER_STEP_LOSS_NONFINITE ? "the loss" : "the gradient norm";
	double v = in->status == MG_TRAINER_STEP_LOSS_NONFINITE ? in->loss : in->grad_norm;
	unsigned long long step = (unsigned long long)mg_trainer_state(r->tr)->step;
	const char *out = r->o->out && strcmp(r->o->out, "-") ? r->o->out : NULL;
	mg_err e;

	progress_clear(&r->pr);
	mg_train_log_abort(r->log); /* keeps its rows */
	if (!out)
		cli_die(NULL, "step %llu: %s is %s: stopped; nothing written (give -o to keep the last good state)",
			step + 1, what, isnan(v) ? "nan" : "infinite");
	if (mg_trainer_save(r->tr, out, r->tk, 0, &e))
		cli_die(out, "%s", e.msg);
	cli_die(NULL, "step %llu: %s is %s: stopped; %s holds the last good state (step %llu)", step + 1, what,
		isnan(v) ? "nan" : "infinite", out, step);
}

/* Steps until the target or a signal, with evaluation, logs and saves. */
static void run_train(run *r)
{
	const opts *o = r->o;
	const mg_train_state *s = mg_trainer_state(r->tr);
	uint64_t last_epoch = UINT64_MAX;
	mg_trainer_step_info in;
	mg_err e;

	while (!mg_trainer_done(r->tr) && !stop_sig) {
		double t0 = mg_clock_now(), dt;
		int done, do_eval, do_log;

		if (mg_trainer_step(r->tr, &in, &e))
			cli_die(r->data_name, "%s", e.msg);
		device_check(r->g);
		dt = mg_clock_now() - t0;
		if (in.status != MG_TRAINER_STEP_OK)
			run_nonfinite(r, &in);
		if (in.epoch != last_epoch) {
			r->pr.epoch_t0 = t0;
			r->pr.epoch_iters0 = in.iter;
			last_epoch = in.epoch;
		}
		r->pr.steps_run++;
		r->pr.t_train += dt;
		r->iv_loss += in.loss * (double)in.count;
		r->iv_count += in.count;
		r->iv_positions += in.positions;
		r->iv_time += dt;
		r->positions += in.positions;
		r->last_train = in.loss;
		done = mg_trainer_done(r->tr);
		progress_draw(&r->pr, &in, s, mg_trainer_epoch_steps(r->tr), done || in.epoch_end);

		do_eval = r->val && !stop_sig && ((o->eval_every ? s->step % o->eval_every == 0 : in.epoch_end) || done);
		do_log = s->step % o->log_every == 0 || do_eval || done || stop_sig;
		if (do_log && !o->quiet && !r->pr.tty)
			run_report(r, &in);
		if (do_eval)
			do_eval = run_eval(r, &in);
		if (do_log)
			run_log_row(r, &in, do_eval);
		if (o->save_every && s->step % o->save_every == 0 && !done && !stop_sig) {
			if (mg_trainer_save(r->tr, o->out, r->tk, 0, &e))
				cli_warn(o->out, "cannot save step %llu: %s (training goes on)", (unsigned long long)s->step,
					 e.msg);
			else if (o->verbose && !o->quiet) {
				progress_clear(&r->pr);
				fprintf(stderr, "%s: saved step %llu to %s\n", cli_prog(), (unsigned long long)s->step, o->out);
			}
		}
	}
	progress_clear(&r->pr);
}

/* The model, the data, the run's plan on stderr. */
static void print_plan(const run *r, const mg_gpt *g, const mg_train_data *train, int resuming, uint64_t steps_left,
		       int split)
{
	const mg_gpt_config *c = mg_gpt_config_of(g);
	const mg_train_state *s = mg_trainer_state(r->tr);
	const opts *o = r->o;
	mg_gpt_memory m;
	char n1[32], n2[32], n3[32];

	mg_gpt_memory_get(g, &m);
	fprintf(stderr,
		"%s: model: %s parameters (%u layers, %u heads, embd %u, block %u, vocab %u, %s%s%s, dropout %g/%g/%g); "
		"memory %.1f MiB (parameters %.1f, gradients %.1f, AdamW %.1f, activations %.1f, scratch %.1f)\n",
		cli_prog(), cli_grouped(mg_gpt_n_params(c), n1, sizeof n1), c->n_layer, c->n_head, c->n_embd, c->block_size,
		c->vocab_size, mg_gpt_attention_name(c->attention), c->time_shift ? ", time-shift" : "",
		c->pos_emb ? "" : ", no pos-emb", c->dropout_embd, c->dropout_attn, c->dropout_resid, mib(m.total),
		mib(m.params), mib(m.grads), mib(m.moments), mib(m.activations), mib(m.scratch));
	describe_data(split ? "training part" : "data", r->data_name, train, s->order, s->batch,
		      mg_trainer_epoch_len(r->tr));
	if (r->val) {
		char what[64];
		if (o->val)
			snprintf(what, sizeof what, "validation");
		else
			snprintf(what, sizeof what, "validation split (last %g)", s->val_split);
		describe_data(what, o->val ? r->val_name : r->data_name, r->val, 0, 0,
			      mg_train_data_epoch_len(r->val, MG_ORDER_SEQUENTIAL));
	}
	fprintf(stderr, "%s: %s step %llu: %s steps to step %llu; lr %g %s", cli_prog(),
		resuming ? "resuming at" : "starting at", (unsigned long long)s->step, cli_grouped(steps_left, n1, sizeof n1),
		(unsigned long long)(s->step + steps_left), s->lr.lr, mg_lr_sched_name(s->lr.kind));
	if (s->lr.kind != MG_LR_CONSTANT)
		fprintf(stderr, " (warmup %s, final %s tokens)", cli_grouped(s->lr.warmup_tokens, n2, sizeof n2),
			cli_grouped(s->lr.final_tokens, n3, sizeof n3));
	fprintf(stderr, ", batch %u", s->batch);
	if (s->micro_batch < s->batch)
		fprintf(stderr, " in micro-batches of %u", s->micro_batch);
	fprintf(stderr, ", %d thread%s", mg_threads_get(), mg_threads_get() == 1 ? "" : "s");
	if (strcmp(o->device, "cpu"))
		fprintf(stderr, ", device %s", o->device);
	fputc('\n', stderr);
	if (s->lr.kind != MG_LR_CONSTANT && s->lr.warmup_tokens >= s->lr.final_tokens && steps_left)
		cli_warn(NULL, "warning: the warmup (%s tokens) does not end before final_tokens (%s): the rate never "
			       "reaches --lr",
			 cli_grouped(s->lr.warmup_tokens, n2, sizeof n2), cli_grouped(s->lr.final_tokens, n3, sizeof n3));
	if (o->verbose)
		fprintf(stderr,
			"%s: hyperparameters: seed %llu, order %s, %s %llu, betas %g %g, eps %g, weight decay %g, "
			"grad clip %g, val split %g, eval every %s, eval batches %llu\n",
			cli_prog(), (unsigned long long)s->seed, mg_train_data_order_name(s->order), s->iters ? "iters" : "epochs",
			(unsigned long long)(s->iters ? s->iters : s->epochs), s->beta1, s->beta2, s->eps, s->weight_decay,
			s->grad_clip, s->val_split, o->eval_every ? cli_grouped(o->eval_every, n1, sizeof n1) : "epoch",
			(unsigned long long)o->eval_batches);
}

int main(int argc, char **argv)
{
	opts o;
	const char *ck_name;
	FILE *ck_f;
	mg_ckpt ck;
	mg_gpt *g;
	mg_tokstream_data data, vdata;
	mg_train_data *train;
	mg_train_state st;
	const mg_gpt_config *cfg;
	const mg_backend *be;
	cli_out out;
	run r;
	mg_err e;
	int resuming, have_vdata = 0, rc;
	uint64_t steps_left, tokens_at_end, units, n_val = 0;
	uint32_t max_len;
	char n1[32], n2[32];

	cli_threads_policy(argv);
	cli_init("gpt-train", usage);
	parse(argc, argv, &o);
	memset(&r, 0, sizeof r);
	r.o = &o;
	r.last_train = r.last_val = NAN;
	/* the device first: "no CUDA device" before any file is touched */
	if (mg_backend_select(&be, o.device, &e))
		cli_die(o.device, "%s", e.msg);
	/* fail before hours of work, not after: the outputs must be writable */
	if (!o.eval_only) /* which writes text only */
		cli_out_check(o.out, 1, o.force);
	if (o.best)
		cli_out_check(o.best, 1, 1);
	mg_threads_set(o.threads);

	/* the model, and the run it continues */
	ck_f = cli_open_in(o.ckpt, &ck_name);
	if (mg_ckpt_read(ck_f, &ck, &e))
		cli_die_err(ck_name, &e);
	cli_close_in(ck_f, ck_name);
	if (mg_train_setup_resume(&ck, o.restart, &st, &resuming, &e))
		cli_die(ck_name, "%s (--restart starts a new run from its parameters)", e.msg);
	if (o.have_dropout && mg_gpt_config_set_dropout(&ck.config, o.dropout, &e))
		cli_die(NULL, "%s", e.msg);
	if (mg_gpt_load_on(&g, &ck, be, &e))
		cli_die(be->device && e.code == MG_E_IO ? be->name : ck_name, "%s", e.msg);
	r.g = g;
	for (size_t i = 0; i < ck.n_tensors; i++) {
		free(ck.t[i].data); /* the model holds its own copy */
		ck.t[i].data = NULL;
	}
	cfg = mg_gpt_config_of(g);
	apply_opts(&o, &st, resuming);
	if (mg_train_state_check(&st, &e))
		cli_usage_error("%s", e.msg);

	/* the data */
	read_data(o.data, &data, &r.data_name);
	if (mg_train_setup_tokenizer(&ck, &data, cfg->vocab_size, &r.tk, &e))
		cli_die(e.code == MG_E_NOMEM ? NULL : r.data_name, "%s", e.msg);
	units = mg_train_data_units(&data);
	/* kept when resuming with --val, so that the training part stays the same */
	if (mg_train_setup_split(&data, st.val_split, &n_val, &e))
		cli_die(r.data_name, "%s", e.msg);
	train = open_view(&data, r.data_name, n_val ? "training part" : NULL, 0, units - n_val, cfg);
	if (n_val && !o.val) {
		char part[64];
		snprintf(part, sizeof part, "validation split (last %g)", st.val_split);
		r.val = open_view(&data, r.data_name, part, units - n_val, n_val, cfg);
	}
	if (o.val) {
		read_data(o.val, &vdata, &r.val_name);
		have_vdata = 1;
		if (mg_train_setup_check_val(&data, &vdata, &e))
			cli_die(e.code == MG_E_NOMEM ? NULL : r.val_name, "%s", e.msg);
		r.val = open_view(&vdata, r.val_name, NULL, 0, mg_train_data_units(&vdata), cfg);
	}
	if (mg_train_setup_data(&st, train, resuming && !o.eval_only, &e))
		cli_die(r.data_name, "%s (%s tokens then, %s now, different contents; --restart starts a new run on it)",
			e.msg, cli_grouped(st.data_tokens, n1, sizeof n1), cli_grouped(mg_train_data_tokens(train), n2, sizeof n2));

	if (o.best && !r.val)
		cli_usage_error("--best needs validation data (--val or --val-split)");

	/* the run */
	max_len = mg_train_data_max_len(train);
	if (r.val && mg_train_data_max_len(r.val) > max_len)
		max_len = mg_train_data_max_len(r.val);
	if (mg_trainer_init(&r.tr, g, train, &st, max_len, &e))
		cli_die(be->device ? be->name : NULL, "%s", e.msg);
	device_check(g);
	if (o.eval_only) {
		mg_gpt_loss vl;
		double t0 = mg_clock_now();
		signals_catch();
		rc = mg_trainer_eval(r.tr, r.val, o.eval_batches, &stop_sig, &vl, &e);
		device_check(g);
		if (rc)
			cli_die(e.code == MG_E_INTERRUPTED ? NULL : r.val_name, "%s", e.msg);
		printf("val loss %.6f over %llu targets\n", vl.mean, (unsigned long long)vl.count);
		cli_close_stdout();
		if (!o.quiet)
			fprintf(stderr, "%s: evaluated step %llu on %s in %.1f s\n", cli_prog(),
				(unsigned long long)mg_trainer_state(r.tr)->step, r.val_name, mg_clock_now() - t0);
		mg_trainer_free(r.tr);
		mg_train_data_free(train);
		mg_train_data_free(r.val);
		mg_tokstream_data_free(&data);
		mg_tokstream_data_free(&vdata);
		mg_gpt_free(g);
		mg_ckpt_free(&ck);
		return CLI_EXIT_OK;
	}
	mg_trainer_plan(r.tr, &steps_left, &tokens_at_end);
	if (st.lr.final_tokens == 0)
		mg_trainer_set_final_tokens(r.tr, tokens_at_end); /* cosine to 10% at the end of this run */
	r.write_flags = o.no_opt ? MG_TRAINER_WRITE_PARAMS_ONLY : 0;
	r.pr.tty = cli_stderr_tty();
	r.pr.quiet = o.quiet;
	r.pr.t_start = mg_clock_now();
	r.pr.steps_total = steps_left;
	r.pr.step0 = st.step;
	if (!o.quiet)
		print_plan(&r, g, train, resuming, steps_left, n_val && !o.val);
	if (o.log && mg_train_log_open(&r.log, o.log, st.step, &e))
		cli_die(o.log, "%s", e.msg);
	signals_catch();
	if (steps_left == 0 && !o.quiet)
		fprintf(stderr, "%s: the run is complete at step %llu: nothing to train\n", cli_prog(),
			(unsigned long long)st.step);
	run_train(&r);
	if (r.log && mg_train_log_close(r.log, &e))
		cli_die(o.log, "%s", e.msg);
	if (stop_sig && !o.quiet)
		fprintf(stderr, "%s: %s: stopping after step %llu; writing the checkpoint to %s\n", cli_prog(),
			signal_name(stop_sig), (unsigned long long)mg_trainer_state(r.tr)->step,
			o.out && strcmp(o.out, "-") ? o.out : "standard output");

	/* the result: resumable when the run was interrupted */
	if (stop_sig)
		r.write_flags = 0;
	if (o.out && strcmp(o.out, "-")) {
		if (mg_trainer_save(r.tr, o.out, r.tk, r.write_flags, &e))
			cli_die(o.out, "%s", e.msg);
	} else {
		cli_out_open(&out, NULL, 1, 1); /* a terminal was refused at the start */
		if (mg_trainer_write(r.tr, out.f, r.tk, r.write_flags, &e))
			cli_die(out.name, "%s", e.msg);
		cli_out_commit(&out);
	}
	if (!o.quiet) {
		const mg_train_state *s = mg_trainer_state(r.tr);
		char a[32];
		fprintf(stderr, "%s: step %llu (%.2f epochs, %s tokens): %s steps in %s, %.0f tokens/s", cli_prog(),
			(unsigned long long)s->step,
			(double)s->epoch + (double)s->epoch_pos / (double)mg_trainer_epoch_len(r.tr),
			cli_grouped(s->tokens, n1, sizeof n1), cli_grouped(r.pr.steps_run, n2, sizeof n2),
			hms(mg_clock_now() - r.pr.t_start, a, sizeof a), r.pr.t_train > 0 ? (double)r.positions / r.pr.t_train : 0.0);
		if (isfinite(r.last_train))
			fprintf(stderr, "; train loss %.5f", r.last_train);
		if (isfinite(r.last_val))
			fprintf(stderr, ", val loss %.5f", r.last_val);
		if (s->has_best)
			fprintf(stderr, " (best %.5f at step %llu)", s->best_val_loss, (unsigned long long)s->best_step);
		fputc('\n', stderr);
	}
	/* a requested output that was not written fails the run */
	if (r.best_unsaved)
		cli_die(o.best, "does not hold the best checkpoint (step %llu): its save failed",
			(unsigned long long)r.best_unsaved);
	mg_trainer_free(r.tr);
	mg_train_data_free(train);
	mg_train_data_free(r.val);
	mg_tokstream_data_free(&data);
	if (have_vdata)
		mg_tokstream_data_free(&vdata);
	mg_gpt_free(g);
	mg_ckpt_free(&ck);
	if (stop_sig) {
		/* die of the signal: the shell sees 128 + its number (130 for SIGINT) */
		int sig = stop_sig;
		fflush(stderr);
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return CLI_EXIT_OK;
}
