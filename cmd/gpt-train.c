/* gpt-train: trains a GPT checkpoint on token data and writes the trained
 * checkpoint, resumable exactly; the plan, progress, metrics log,
 * evaluation, samples, periodic atomic saves, signals and the rescue file.
 * The training itself and its checks are lib/train/; samples lib/infer/;
 * atomic files lib/io/outfile.h. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "core/clock.h"
#include "core/threads.h"
#include "io/ckpt.h"
#include "io/outfile.h"
#include "io/tokstream.h"
#include "bpe/bpe_encode.h"
#include "dist/comm.h"
#ifdef MG_HAVE_MPI
#include "dist/comm_mpi.h"
#endif
#include "infer/generate.h"
#include "model/gpt.h"
#include "model/gpt_memory.h"
#include "train/train_data.h"
#include "train/train_log.h"
#include "train/train_setup.h"
#include "train/train_state.h"
#include "train/trainer.h"

static const char usage[] =
	"usage: gpt-train [-fqv] --data file [--val file | --val-split frac]\n"
	"                 [--iters n | --epochs n] [--batch n] [--micro-batch n]\n"
	"                 [--lr x] [--lr-schedule cosine | cosine-min | constant]\n"
	"                 [--warmup-tokens n | --warmup-iters n]\n"
	"                 [--final-tokens n | --lr-decay-iters n] [--beta1 x]\n"
	"                 [--beta2 x] [--eps x] [--weight-decay x] [--grad-clip x]\n"
	"                 [--dropout x] [-s seed] [--order random | sequential]\n"
	"                 [--eval-every n] [--eval-batches n] [--early-stop n]\n"
	"                 [--log file] [--log-every n] [--best file] [--save-every n]\n"
	"                 [--sample-every n] [--sample-prompt text]\n"
	"                 [--sample-length n] [--sample-temperature x]\n"
	"                 [--sample-top-k n] [--sample-file file] [--max-time time]\n"
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
	"  --warmup-iters n     steps of linear warmup: the schedule counts steps (default 0)\n"
	"  --lr-decay-iters n   the step at which the cosine reaches 10%, 0 for the end of\n"
	"                       the run: the schedule counts steps (default 0)\n"
	"  --beta1 x            AdamW beta1 (default 0.9)\n"
	"  --beta2 x            AdamW beta2 (default 0.95)\n"
	"  --eps x              AdamW epsilon (default 1e-8)\n"
	"  --weight-decay x     AdamW weight decay of the weight matrices (default 0.1)\n"
	"  --grad-clip x        clip the global gradient norm at x, 0 for none (default 1)\n"
	"  --dropout x          set every dropout rate of the model (default the checkpoint's)\n"
	"  -s, --seed n         seed of the data order and dropout (default 1337)\n"
	"Evaluation, logs and checkpoints:\n"
	"  --eval-every n       evaluate every n steps, 0 at the end of each epoch (default 0)\n"
	"  --eval-batches n     batches per evaluation, 0 for all the validation data (default 0)\n"
	"  --early-stop n       stop after n evaluations without a better val loss (default 0: never)\n"
	"  --log file           write metrics as tab-separated values to file\n"
	"  --log-every n        log and report every n steps (default 10)\n"
	"  --best file          keep the checkpoint with the best validation loss in file\n"
	"  --save-every n       write the checkpoint to -o every n steps (default 0: at the end)\n"
	"  --sample-every n     print a sample of the model every n steps (default 0: never)\n"
	"  --sample-prompt text its prompt (default the first token of --data)\n"
	"  --sample-length n    its new tokens (default 200)\n"
	"  --sample-temperature x  its temperature (default 1)\n"
	"  --sample-top-k n     draw from the n most likely tokens, 0 for all (default 0)\n"
	"  --sample-file file   write the samples to file instead of standard error\n"
	"  --max-time time      stop after this long (90s, 10m, 2h; default none)\n"
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
	OPT_RESTART, OPT_EVAL_ONLY, OPT_DEVICE, OPT_WARMUP_ITERS, OPT_DECAY_ITERS, OPT_EARLY_STOP, OPT_SAMPLE_EVERY,
	OPT_SAMPLE_PROMPT, OPT_SAMPLE_LENGTH, OPT_SAMPLE_TEMP, OPT_SAMPLE_TOP_K, OPT_SAMPLE_FILE, OPT_MAX_TIME,
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
	{ "warmup-iters", required_argument, NULL, OPT_WARMUP_ITERS },
	{ "lr-decay-iters", required_argument, NULL, OPT_DECAY_ITERS },
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
	{ "early-stop", required_argument, NULL, OPT_EARLY_STOP },
	{ "sample-every", required_argument, NULL, OPT_SAMPLE_EVERY },
	{ "sample-prompt", required_argument, NULL, OPT_SAMPLE_PROMPT },
	{ "sample-length", required_argument, NULL, OPT_SAMPLE_LENGTH },
	{ "sample-temperature", required_argument, NULL, OPT_SAMPLE_TEMP },
	{ "sample-top-k", required_argument, NULL, OPT_SAMPLE_TOP_K },
	{ "sample-file", required_argument, NULL, OPT_SAMPLE_FILE },
	{ "max-time", required_argument, NULL, OPT_MAX_TIME },
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
	const char *ckpt, *data, *val, *out, *log, *best, *sample_prompt, *sample_file;
	const char *device; /* a backend name (lib/backend/backend.h) */
	const char *max_time_arg;
	double val_split, lr, beta1, beta2, eps, wd, clip, dropout, max_time, sample_temp;
	uint64_t iters, epochs, batch, micro, warmup, final, seed, eval_every, eval_batches, log_every, save_every;
	uint64_t warmup_iters, decay_iters, early_stop, sample_every, sample_length, sample_top_k;
	uint32_t order, sched;
	int threads, no_opt, restart, force, quiet, verbose, eval_only;
	int have_val_split, have_order, have_iters, have_epochs, have_batch, have_micro, have_lr, have_sched,
		have_warmup, have_final, have_beta1, have_beta2, have_eps, have_wd, have_clip, have_dropout, have_seed,
		have_warmup_iters, have_decay_iters, have_eval_every, have_eval_batches, have_early_stop;
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

/* ------------------------------------------------------------ ranks */

/* The ranks of the run (dist/comm.h): one, or those of mpirun or srun when
 * this gpt-train was built with MPI. Rank 0 alone reads the checkpoint,
 * writes every output and prints; errors print on the rank that meets
 * them. */
static mg_comm *comm;
/* Set where every rank leaves together (the end of the run, a refusal of
 * the job's inputs): the exit waits for the others; any other exit of one
 * rank (an error it met alone) ends the whole job (MPI_Abort), since the
 * others would wait for it in their next sum. */
static int lockstep;

static void comm_exit(void)
{
	mg_err e;

	fflush(stdout);
	fflush(stderr);
	if (!lockstep)
		mg_comm_abort(comm, CLI_EXIT_ERROR);
	mg_comm_barrier(comm, &e);
	mg_comm_free(comm);
}

static void comm_open(void)
{
	int n = mg_comm_launched();
	mg_err e;

	comm = mg_comm_single();
#ifdef MG_HAVE_MPI
	if (n) {
		if (mg_comm_mpi_open(&comm, &e))
			cli_die(NULL, "%s", e.msg);
		if (comm->size > 1)
			atexit(comm_exit);
		else
			lockstep = 1, atexit(comm_exit); /* MPI_Finalize at the exit */
		return;
	}
#endif
	(void)e;
	if (n > 1)
		cli_die(NULL, "started as one of %d ranks, but this gpt-train was built without MPI (see gpt-train(1))", n);
}

/* Every rank leaves with status code after the others reach the same call. */
_Noreturn static void exit_all(int code)
{
	lockstep = 1;
	exit(code);
}

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

/* ------------------------------------------------------------ terminal */

static int term_width(void)
{
	struct winsize w;

	if (!ioctl(STDERR_FILENO, TIOCGWINSZ, &w) && w.ws_col > 20)
		return w.ws_col;
	return 80;
}

/* "1 step", "2 steps" */
static const char *plural(uint64_t n, const char *word, char *buf, size_t size)
{
	char g[32];

	snprintf(buf, size, "%s %s%s", cli_grouped(n, g, sizeof g), word, n == 1 ? "" : "s");
	return buf;
}

/* ------------------------------------------------------------ main */

/* --max-time: seconds, or a number with s, m, h or d ("90s", "1.5h") */
static double parse_duration(const char *arg)
{
	char *end;
	double v, unit = 1;

	errno = 0;
	v = strtod(arg, &end);
	if (end != arg && *end && !end[1])
		switch (*end) {
		case 's': unit = 1, end++; break;
		case 'm': unit = 60, end++; break;
		case 'h': unit = 3600, end++; break;
		case 'd': unit = 86400, end++; break;
		}
	if (end == arg || *end || errno || !isfinite(v) || v < 0 || v * unit > 1e9 || arg[0] == '+' || isspace((unsigned char)arg[0]))
		cli_usage_error("invalid value '%s' for --max-time: expected a duration such as 90s, 10m or 2h", arg);
	return v * unit;
}

static void parse(int argc, char **argv, opts *o)
{
	static const char *const orders[] = { "random", "sequential", NULL };
	static const char *const scheds[] = { "cosine", "constant", "cosine-min", NULL };
	static const char *const devices[] = { "cpu", "cuda", NULL };
	int c;

	memset(o, 0, sizeof *o);
	o->log_every = 10;
	o->sample_length = 200;
	o->sample_temp = 1;
	o->max_time = -1;
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
		case OPT_EVAL_EVERY:
			o->eval_every = cli_parse_u64("--eval-every", optarg, 0, INT64_MAX), o->have_eval_every = 1;
			break;
		case OPT_EVAL_BATCHES:
			o->eval_batches = cli_parse_u64("--eval-batches", optarg, 0, INT64_MAX), o->have_eval_batches = 1;
			break;
		case OPT_EARLY_STOP:
			o->early_stop = cli_parse_u64("--early-stop", optarg, 0, INT64_MAX), o->have_early_stop = 1;
			break;
		case OPT_WARMUP_ITERS:
			o->warmup_iters = cli_parse_u64("--warmup-iters", optarg, 0, INT64_MAX), o->have_warmup_iters = 1;
			break;
		case OPT_DECAY_ITERS:
			o->decay_iters = cli_parse_u64("--lr-decay-iters", optarg, 0, INT64_MAX), o->have_decay_iters = 1;
			break;
		case OPT_SAMPLE_EVERY: o->sample_every = cli_parse_u64("--sample-every", optarg, 0, INT64_MAX); break;
		case OPT_SAMPLE_PROMPT: o->sample_prompt = optarg; break;
		case OPT_SAMPLE_LENGTH: o->sample_length = cli_parse_u64("--sample-length", optarg, 1, 1u << 20); break;
		case OPT_SAMPLE_TEMP: o->sample_temp = cli_parse_double("--sample-temperature", optarg, 0, 1e6); break;
		case OPT_SAMPLE_TOP_K: o->sample_top_k = cli_parse_u64("--sample-top-k", optarg, 0, UINT32_MAX); break;
		case OPT_SAMPLE_FILE: o->sample_file = optarg; break;
		case OPT_MAX_TIME: o->max_time = parse_duration(optarg), o->max_time_arg = optarg; break;
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
		    o->have_epochs || o->have_batch || o->restart || o->no_opt || o->sample_every || o->sample_file ||
		    o->max_time_arg || o->have_early_stop || o->have_eval_every)
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
	if ((o->have_warmup_iters || o->have_decay_iters) && (o->have_warmup || o->have_final))
		cli_usage_error("--warmup-iters and --lr-decay-iters (a schedule in steps) exclude --warmup-tokens and "
				"--final-tokens");
	if ((o->sample_prompt || o->sample_file || o->sample_length != 200 || o->sample_temp != 1 || o->sample_top_k) &&
	    !o->sample_every)
		cli_usage_error("--sample-prompt, --sample-length, --sample-temperature, --sample-top-k and --sample-file "
				"need --sample-every N");
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
	if (o->have_warmup || o->have_final)
		s->lr.unit = MG_LR_UNIT_TOKENS;
	if (o->have_warmup_iters || o->have_decay_iters) {
		if (s->lr.unit != MG_LR_UNIT_STEPS)
			s->lr.warmup_steps = s->lr.final_steps = 0;
		s->lr.unit = MG_LR_UNIT_STEPS;
		if (o->have_warmup_iters)
			s->lr.warmup_steps = o->warmup_iters;
		if (o->have_decay_iters)
			s->lr.final_steps = o->decay_iters;
	}
	if (o->have_eval_every)
		s->eval_every = o->eval_every;
	if (o->have_eval_batches)
		s->eval_batches = o->eval_batches;
	if (o->have_early_stop)
		s->early_stop = o->early_stop;
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
	const char *unit = mg_train_data_layout(t) == MG_LAYOUT_EXAMPLES ? "record" : "window";
	char a[48], b[48], c[48];

	if (mg_train_data_layout(t) == MG_LAYOUT_EXAMPLES)
		fprintf(stderr, "%s: %s: %s: %s (%s)", cli_prog(), what, name,
			plural(mg_train_data_records(t), "record", a, sizeof a),
			plural(mg_train_data_targets(t), "target", b, sizeof b));
	else
		fprintf(stderr, "%s: %s: %s: %s (%s)", cli_prog(), what, name,
			plural(mg_train_data_tokens(t), "token", a, sizeof a), mg_tokstream_layout_name(mg_train_data_layout(t)));
	if (batch)
		fprintf(stderr, "; %s per epoch in %s order: %s of %u\n", plural(epoch_len, unit, c, sizeof c),
			mg_train_data_order_name(order), plural((epoch_len + batch - 1) / batch, "step", a, sizeof a), batch);
	else
		fprintf(stderr, "; %s\n", plural(epoch_len, unit, c, sizeof c));
}

/* Why the training loop stopped before the run's target. */
enum { STOP_NONE, STOP_TIME, STOP_EARLY, STOP_LOG };

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
	int stop;          /* STOP_* */
	int tty;           /* progress redrawn in place on stderr */
	int drawn;         /* a progress line is on the terminal */
	double last_draw;
	double t_start, t_train; /* process start; seconds spent in steps */
	uint64_t step0, steps_total, steps_run;
	/* the current log interval: steps iv_first..current */
	uint64_t iv_first, iv_steps, iv_count, iv_positions;
	double iv_loss, iv_time, iv_flops;
	/* the last complete interval, for the summary: mean train loss of steps li_first..li_last */
	uint64_t li_first, li_last;
	double li_loss;
	/* the whole run */
	uint64_t positions;
	double flops;
	/* the last evaluation */
	double last_val;
	uint64_t val_step, val_count, val_batches, val_batches_all;
	/* --sample-every */
	mg_ids prompt;
	FILE *sample_f;
	mg_outfile *sample_of;
	int sample_failed; /* a sample could not be written: the run fails at the end */
	/* the rescue file (the checkpoint written where it could be) */
	char rescue[4096];
	uint64_t rescue_step;
	/* the signal the ranks agreed to stop on (agree_stop) */
	int sig;
} run;

/* The signal that stops the run: in one process the flag of the handler;
 * with several ranks the one they agreed on, so that every rank stops
 * after the same step (a signal may reach some of them only, or late). */
static int stop_now(const run *r) { return comm->size == 1 ? stop_sig : r->sig; }

/* With several ranks, every rank learns the signal and the stop reason of
 * the first rank that has one. */
static void agree_stop(run *r)
{
	int v[2] = { stop_sig, r->stop };
	mg_err e;

	if (mg_comm_first_nonzero(comm, v, 2, &e))
		cli_die(NULL, "%s", e.msg);
	if (!r->sig)
		r->sig = v[0];
	if (!r->stop)
		r->stop = v[1];
}

/* Dies when the backend has met an error (a GPU fault): the model's values
 * are then undefined, so nothing more is written. */
static void device_check(const mg_gpt *g)
{
	mg_err e;

	if (mg_gpt_check(g, &e))
		cli_die(mg_gpt_backend(g)->name, "%s", e.msg);
}

static void progress_clear(run *r)
{
	if (r->drawn) {
		fputs("\r\033[K", stderr);
		r->drawn = 0;
	}
}

/* Epochs done, as a fraction. */
static double epochs_done(const run *r)
{
	const mg_train_state *s = mg_trainer_state(r->tr);

	return (double)s->epoch + (double)s->epoch_pos / (double)mg_trainer_epoch_len(r->tr);
}

/* "steps 403-412" or "step 412": the steps a mean covers */
static const char *steps_range(uint64_t first, uint64_t last, char *buf, size_t n)
{
	if (first == last)
		snprintf(buf, n, "step %llu", (unsigned long long)last);
	else
		snprintf(buf, n, "steps %llu-%llu", (unsigned long long)first, (unsigned long long)last);
	return buf;
}

/* The progress line, the same on a terminal (redrawn at every step) and in
 * a file (one per log interval): "step 412/2000 (2.35 epochs): train loss
 * 2.61234 (steps 403-412), lr 9.99e-04, 45.1 ms/step, 12.3 GFLOP/s,
 * 00:18<01:12". The loss and the speeds are the means over the current log
 * interval's steps: the values its log row gets. A narrower terminal gets
 * it without the steps of the mean and the rate (short 1), then without
 * the epochs (short 2). */
static void progress_line(run *r, const mg_trainer_step_info *in, int shorter, char *line, size_t n)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	uint64_t last = r->step0 + r->steps_total;
	double rate = r->t_train > 0 ? (double)r->steps_run / r->t_train : 0.0;
	double tl = r->iv_count ? r->iv_loss / (double)r->iv_count : 0.0;
	char a[32], b[32], c[48], ep[32] = "", mean[64] = "", lr[32] = "";

	if (shorter < 2)
		snprintf(ep, sizeof ep, " (%.2f epochs)", epochs_done(r));
	if (shorter < 1) {
		snprintf(mean, sizeof mean, " (%s)", steps_range(r->iv_first, s->step, c, sizeof c));
		snprintf(lr, sizeof lr, ", lr %.2e", in->lr);
	}
	snprintf(line, n, "step %llu/%llu%s: train loss %.5f%s%s, %.1f ms/step, %.2f GFLOP/s, %s<%s",
		 (unsigned long long)s->step, (unsigned long long)last, ep, tl, mean, lr,
		 r->iv_steps ? 1e3 * r->iv_time / (double)r->iv_steps : 0.0, r->iv_time > 0 ? r->iv_flops / r->iv_time / 1e9 : 0.0,
		 hms(mg_clock_now() - r->t_start, a, sizeof a), hms(rate > 0 ? (double)(last - s->step) / rate : 0, b, sizeof b));
}

static void progress_draw(run *r, const mg_trainer_step_info *in, int final)
{
	char line[320];
	double t = mg_clock_now();
	int w, shorter = 0;

	if (r->o->quiet || !r->tty || (!final && t - r->last_draw < 0.1))
		return;
	r->last_draw = t;
	w = term_width() - 1;
	do
		progress_line(r, in, shorter, line, sizeof line);
	while ((int)strlen(line) > w && ++shorter <= 2);
	fprintf(stderr, "\r%.*s\033[K", w, line);
	r->drawn = 1;
	fflush(stderr);
}

/* The line of a log interval when stderr is not a terminal. */
static void run_report(run *r, const mg_trainer_step_info *in)
{
	char line[320];

	progress_line(r, in, 0, line, sizeof line);
	fprintf(stderr, "%s\n", line);
}

/* "20 batches, 15,360 targets" or "all 111,540 targets": what an
 * evaluation covered. */
static const char *val_what(const run *r, char *buf, size_t n)
{
	char a[32], b[32];

	if (r->val_batches >= r->val_batches_all)
		snprintf(buf, n, "all %s targets", cli_grouped(r->val_count, a, sizeof a));
	else
		snprintf(buf, n, "%s batch%s, %s targets", cli_grouped(r->val_batches, b, sizeof b),
			 r->val_batches == 1 ? "" : "es", cli_grouped(r->val_count, a, sizeof a));
	return buf;
}

/* Evaluates after a step: prints the loss, tracks and saves the best, and
 * decides an early stop. Returns 0 when a signal interrupted it. */
static int run_eval(run *r)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	const opts *o = r->o;
	double t0 = mg_clock_now();
	uint64_t W = mg_train_data_epoch_len(r->val, MG_ORDER_SEQUENTIAL), M = s->micro_batch;
	mg_gpt_loss vl;
	mg_err e;
	char what[96];
	int rc = mg_trainer_eval(r->tr, r->val, s->eval_batches, &stop_sig, &vl, &e), best;

	device_check(r->g);
	if (rc == MG_E_INTERRUPTED)
		return 0;
	if (rc)
		cli_die(o->val ? r->val_name : r->data_name, "%s", e.msg);
	r->last_val = vl.mean;
	r->val_step = s->step;
	r->val_count = vl.count;
	r->val_batches_all = (W + M - 1) / M;
	r->val_batches = s->eval_batches && s->eval_batches < r->val_batches_all ? s->eval_batches : r->val_batches_all;
	best = mg_trainer_record_eval(r->tr, vl.mean);
	if (!o->quiet) {
		progress_clear(r);
		fprintf(stderr, "%s: step %llu (%.2f epochs): val loss %.5f (%s)", cli_prog(), (unsigned long long)s->step,
			epochs_done(r), vl.mean, val_what(r, what, sizeof what));
		if (best)
			fprintf(stderr, ", the best so far");
		else
			fprintf(stderr, ", best %.5f at step %llu", s->best_val_loss, (unsigned long long)s->best_step);
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
	if (s->early_stop && s->evals_since_best >= s->early_stop)
		r->stop = STOP_EARLY;
	return 1;
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
					 .grad_norm = in->grad_norm, .tokens_per_s = tps,
					 .val_targets = evaluated ? r->val_count : 0,
					 .ms_per_step = r->iv_steps ? 1e3 * r->iv_time / (double)r->iv_steps : 0.0,
					 .gflop_per_s = r->iv_time > 0 ? r->iv_flops / r->iv_time / 1e9 : 0.0 };
		mg_err e;

		if (mg_train_log_write(r->log, &row, &e)) {
			/* the run stops with its checkpoint, and fails */
			progress_clear(r);
			cli_warn(r->o->log, "%s", e.msg);
			mg_train_log_abort(r->log);
			r->log = NULL;
			r->stop = STOP_LOG;
		}
	}
	r->li_first = r->iv_first;
	r->li_last = s->step;
	r->li_loss = tl;
	r->iv_loss = r->iv_time = r->iv_flops = 0.0;
	r->iv_count = r->iv_positions = r->iv_steps = 0;
	r->iv_first = s->step + 1;
}

/* Writes the checkpoint to path (NULL: standard output); when that fails,
 * to the rescue file: gpt-train-PID.ckpt in the current folder, else in
 * $TMPDIR (default /tmp), always resumable. Returns 0 when path got it;
 * else 1 with r->rescue naming the rescue file ("" when it failed too)
 * and a message printed: "NAME: WHY; ...". what: "cannot save step 12: "
 * or "" before WHY. */
/* Writes the checkpoint to the rescue file: gpt-train-PID.ckpt in the
 * current folder, else in $TMPDIR (default /tmp). Returns 0 with
 * r->rescue naming it, or 1 with r->rescue "" and e2 the last error. */
static int rescue(run *r, char dirs[2][4096], mg_err *e2)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dirs[0], 4096, "gpt-train-%ld.ckpt", (long)getpid());
	snprintf(dirs[1], 4096, "%s/gpt-train-%ld.ckpt", tmp && *tmp ? tmp : "/tmp", (long)getpid());
	for (int i = 0; i < 2; i++) {
		if (mg_trainer_save(r->tr, dirs[i], r->tk, 0, e2))
			continue;
		snprintf(r->rescue, sizeof r->rescue, "%s", dirs[i]);
		r->rescue_step = mg_trainer_state(r->tr)->step;
		return 0;
	}
	r->rescue[0] = 0;
	return 1;
}

static int save_or_rescue(run *r, const char *path, uint32_t flags, const char *what, const char *after)
{
	const char *name = path ? path : "<stdout>";
	char dirs[2][4096];
	mg_err e, e2;

	if (!mg_trainer_save(r->tr, path, r->tk, flags, &e))
		return 0;
	progress_clear(r);
	if (!rescue(r, dirs, &e2)) {
		cli_warn(name, "%s%s; saved step %llu to %s instead, which resumes the run%s", what, e.msg,
			 (unsigned long long)r->rescue_step, r->rescue, after);
		return 1;
	}
	cli_warn(name, "%s%s; the rescue files %s and %s could not be written either (%s): step %llu is lost%s", what,
		 e.msg, dirs[0], dirs[1], e2.msg, (unsigned long long)mg_trainer_state(r->tr)->step, after);
	return 1;
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

	progress_clear(r);
	lockstep = 1; /* every rank meets the same value */
	if (comm->rank)
		exit(CLI_EXIT_ERROR);
	mg_train_log_abort(r->log); /* keeps its rows */
	if (!out) {
		/* not to standard output: what reads it would take a run that
		 * failed for a finished one; the last good state is kept aside */
		char dirs[2][4096];
		if (rescue(r, dirs, &e))
			cli_die(NULL, "step %llu: %s is %s: stopped; the last good state (step %llu) could not be "
				"written to %s or %s either (%s)", step + 1, what, isnan(v) ? "nan" : "infinite", step,
				dirs[0], dirs[1], e.msg);
		cli_die(NULL, "step %llu: %s is %s: stopped; nothing written to standard output; the last good "
			"state (step %llu) is in %s", step + 1, what, isnan(v) ? "nan" : "infinite", step, r->rescue);
	}
	if (mg_trainer_save(r->tr, out, r->tk, 0, &e))
		cli_die(out, "%s", e.msg);
	cli_die(NULL, "step %llu: %s is %s: stopped; %s holds the last good state (step %llu)", step + 1, what,
		isnan(v) ? "nan" : "infinite", out, step);
}

/* ------------------------------------------------------------ samples */

/* The prompt of --sample-every: --sample-prompt encoded with the run's
 * tokenizer, or the first token of the training data. */
static void sample_setup(run *r, const mg_tokstream_data *data)
{
	const opts *o = r->o;
	mg_err e;

	if (!o->sample_every)
		return;
	if (o->sample_prompt) {
		mg_bpe_encoder *enc;
		mg_bpe_encode_worker *w;

		if (!r->tk)
			cli_usage_error("--sample-prompt needs a tokenizer, in the checkpoint or the data");
		if (mg_bpe_encoder_init(&enc, r->tk, 0, &e) || mg_bpe_encode_worker_init(&w, enc, &e))
			cli_die("--sample-prompt", "%s", e.msg);
		if (mg_bpe_encode_worker_encode(w, (const uint8_t *)o->sample_prompt, strlen(o->sample_prompt), 0,
						&r->prompt, &e))
			cli_die("--sample-prompt", "%s", e.msg);
		mg_bpe_encode_worker_free(w);
		mg_bpe_encoder_free(enc);
		if (r->prompt.n == 0)
			cli_usage_error("--sample-prompt is empty");
	} else {
		if (mg_ids_reserve(&r->prompt, 1))
			cli_die(NULL, "out of memory");
		r->prompt.v[0] = data->ids[0];
		r->prompt.n = 1;
	}
	if (o->sample_file) {
		if (mg_outfile_open(&r->sample_of, o->sample_file, &e) || mg_outfile_publish(r->sample_of, &e))
			cli_die(o->sample_file, "%s", e.msg);
		r->sample_f = mg_outfile_file(r->sample_of);
	}
}

/* Text through the tokenizer, else decimal ids separated by spaces (*at:
 * ids written so far). */
static void put_ids(const run *r, FILE *f, const uint32_t *ids, size_t n, size_t *at)
{
	const mg_tokenizer *tk = r->tk;

	for (size_t i = 0; i < n; i++, ++*at)
		if (tk && ids[i] < tk->vocab_size)
			fwrite(tk->tok_bytes + tk->tok_off[ids[i]], 1, tk->tok_off[ids[i] + 1] - tk->tok_off[ids[i]], f);
		else
			fprintf(f, "%s%u", *at ? " " : "", ids[i]);
}

/* A sample of the current model: the prompt and --sample-length new
 * tokens at --sample-temperature and --sample-top-k, drawn by lib/infer from a generator of its own
 * (mg_generate_seed of the run's seed and the step): the training's data
 * order and dropout are functions of (seed, step), untouched. */
static void run_sample(run *r)
{
	const opts *o = r->o;
	const mg_train_state *s = mg_trainer_state(r->tr);
	uint32_t V = mg_gpt_config_of(r->g)->vocab_size;
	uint32_t *out = malloc(o->sample_length * sizeof *out);
	mg_infer *inf = NULL;
	mg_sampler *smp = NULL;
	mg_generate *gen = NULL;
	mg_sample_opts so;
	FILE *f = r->sample_f ? r->sample_f : stderr;
	mg_err e;

	mg_sample_opts_default(&so);
	so.temperature = o->sample_temp;
	so.greedy = o->sample_temp == 0;
	so.top_k = (uint32_t)o->sample_top_k;
	if (!out)
		cli_die(NULL, "out of memory");
	if (mg_infer_init(&inf, r->g, 1, 1, &e) || mg_sampler_init(&smp, V, &so, &e) ||
	    mg_generate_init(&gen, inf, smp, 1, V, NULL, &e) ||
	    mg_generate_start(gen, 0, r->prompt.v, r->prompt.n, s->seed, s->step, o->sample_length, out, &e) ||
	    mg_generate_run(gen, 1, NULL, NULL, &e)) {
		cli_warn(NULL, "cannot sample at step %llu: %s (no more samples; training goes on)",
			 (unsigned long long)s->step, e.msg);
		r->prompt.n = 0;
	} else {
		progress_clear(r);
		fprintf(f, "%ssample at step %llu:\n", f == stderr ? "gpt-train: " : "", (unsigned long long)s->step);
		size_t at = 0;
		put_ids(r, f, r->prompt.v, r->prompt.n, &at);
		put_ids(r, f, out, o->sample_length, &at);
		fputs("\n", f);
		fflush(f);
		if (ferror(f)) {
			/* the run goes on (its checkpoint is worth more than its
			 * samples) and fails at the end, as a failed --best */
			cli_warn(o->sample_file ? o->sample_file : "<stderr>", "write error: %s (no more samples; training goes on)",
				 strerror(errno));
			r->prompt.n = 0;
			r->sample_failed = 1;
		}
	}
	mg_generate_free(gen);
	mg_sampler_free(smp);
	mg_infer_free(inf);
	free(out);
	device_check(r->g);
}

/* ------------------------------------------------------------ the loop */

/* Once, after the first steps of this process: the estimated time to the
 * end. */
static void run_estimate(run *r)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	double per = r->t_train / (double)r->steps_run;
	char a[32], b[48], c[48];

	progress_clear(r);
	fprintf(stderr, "%s: the first %s took %.1f ms a step (%.2f GFLOP/s): about %s for the %s to step %llu\n",
		cli_prog(), plural(r->steps_run, "step", c, sizeof c), 1e3 * per, r->t_train > 0 ? r->flops / r->t_train / 1e9 : 0.0,
		hms(per * (double)(r->step0 + r->steps_total - s->step), a, sizeof a),
		plural(r->step0 + r->steps_total - s->step, "step", b, sizeof b),
		(unsigned long long)(r->step0 + r->steps_total));
}

/* Steps until the target, a signal, --max-time or an early stop, with
 * evaluation, logs, saves and samples. */
static void run_train(run *r)
{
	const opts *o = r->o;
	const mg_train_state *s = mg_trainer_state(r->tr);
	mg_trainer_step_info in;
	mg_err e;

	r->iv_first = s->step + 1;
	while (!mg_trainer_done(r->tr) && !stop_now(r) && !r->stop) {
		double t0 = mg_clock_now(), dt;
		int done, ending, do_eval, do_log;

		if (mg_trainer_step(r->tr, &in, &e))
			cli_die(r->data_name, "%s", e.msg);
		device_check(r->g);
		dt = mg_clock_now() - t0;
		if (in.status != MG_TRAINER_STEP_OK)
			run_nonfinite(r, &in);
		r->steps_run++;
		r->t_train += dt;
		r->iv_steps++;
		r->iv_loss += in.loss * (double)in.count;
		r->iv_count += in.count;
		r->iv_positions += in.positions;
		r->iv_flops += in.flops;
		r->iv_time += dt;
		r->positions += in.positions;
		r->flops += in.flops;
		done = mg_trainer_done(r->tr);
		if (o->max_time >= 0 && !done && mg_clock_now() - r->t_start >= o->max_time)
			r->stop = STOP_TIME;
		agree_stop(r);
		ending = done || r->stop;
		progress_draw(r, &in, ending);
		if (r->steps_run == 5 && !ending && !stop_now(r) && !o->quiet)
			run_estimate(r);

		do_eval = r->val && !stop_now(r) && ((s->eval_every ? s->step % s->eval_every == 0 : in.epoch_end) || ending);
		do_log = s->step % o->log_every == 0 || do_eval || ending || stop_now(r);
		if (do_log && !o->quiet && r->tty) { /* the line of the interval stays */
			progress_draw(r, &in, 1);
			fputc('\n', stderr);
			r->drawn = 0;
		} else if (do_log && !o->quiet) {
			run_report(r, &in);
		}
		if (do_eval)
			do_eval = run_eval(r); /* may decide an early stop */
		if (do_log)
			run_log_row(r, &in, do_eval);
		if (o->save_every && s->step % o->save_every == 0 && !done && !r->stop && !stop_now(r) && comm->rank == 0) {
			if (!save_or_rescue(r, o->out, 0, "", " (training goes on)")) {
				if (r->rescue[0] && r->rescue_step < s->step) /* -o holds a later state */
					remove(r->rescue), r->rescue[0] = 0;
				if (o->verbose && !o->quiet) {
					progress_clear(r);
					fprintf(stderr, "%s: saved step %llu to %s\n", cli_prog(), (unsigned long long)s->step,
						o->out);
				}
			}
		}
		if (o->sample_every && r->prompt.n && s->step % o->sample_every == 0)
			run_sample(r);
		agree_stop(r); /* a stop decided in the evaluation or the log */
	}
	progress_clear(r);
}

/* "1.23 GFLOP": a count of floating-point operations */
static const char *flop_text(double v, char *buf, size_t n)
{
	static const char *const pre[] = { "", "k", "M", "G", "T", "P", "E" };
	int i = 0;

	while (v >= 1000 && i < 6)
		v /= 1000, i++;
	snprintf(buf, n, "%.3g %sFLOP", v, pre[i]);
	return buf;
}

/* The model, the data and the run's plan on stderr. */
static void print_plan(const run *r, const mg_gpt *g, const mg_train_data *train, int resuming, uint64_t tokens_at_end,
		       int split)
{
	const mg_gpt_config *c = mg_gpt_config_of(g);
	const mg_train_state *s = mg_trainer_state(r->tr);
	const opts *o = r->o;
	uint64_t steps_left = r->steps_total, end = s->step + steps_left, per_step, tokens = tokens_at_end - s->tokens;
	uint32_t T = mg_train_data_max_len(train);
	mg_gpt_memory m;
	char n1[48], n2[48], n3[48], n4[48], f1[32], f2[32];

	mg_gpt_memory_get(g, &m);
	fprintf(stderr,
		"%s: model: %s parameters (%u layer%s, %u head%s, embd %u, block %u, vocab %u, %s%s%s, dropout %g/%g/%g); "
		"memory %.1f MiB (parameters %.1f, gradients %.1f, AdamW %.1f, activations %.1f, scratch %.1f)\n",
		cli_prog(), cli_grouped(mg_gpt_n_params(c), n1, sizeof n1), c->n_layer, c->n_layer == 1 ? "" : "s", c->n_head,
		c->n_head == 1 ? "" : "s", c->n_embd, c->block_size,
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
	/* the plan: steps, tokens, work */
	per_step = steps_left ? (tokens + steps_left / 2) / steps_left
			      : s->step ? (s->tokens + s->step / 2) / s->step : (uint64_t)s->batch * T;
	fprintf(stderr, "%s: plan: %s from step %llu%s to step %llu, %u x %u positions a step; %s (targets, %s a "
			"step), %s at %s a position (6N + 12LCT)\n",
		cli_prog(), plural(steps_left, "step", n1, sizeof n1), (unsigned long long)s->step,
		resuming ? " (resumed)" : "", (unsigned long long)end, s->batch, T, plural(tokens, "token", n2, sizeof n2),
		cli_grouped(per_step, n3, sizeof n3),
		flop_text(mg_trainer_flops(r->tr, 1, T) * (double)s->batch * (double)steps_left, f1, sizeof f1),
		flop_text(mg_trainer_flops(r->tr, 1, T) / T, f2, sizeof f2));
	/* the schedule in both units: steps to tokens through this run's mean targets per step */
	fprintf(stderr, "%s: schedule: lr %g %s", cli_prog(), s->lr.lr, mg_lr_sched_name(s->lr.kind));
	if (s->lr.kind != MG_LR_CONSTANT) {
		if (s->lr.unit == MG_LR_UNIT_STEPS)
			fprintf(stderr, ", warmup %s (about %s tokens), 10%% at step %llu (about %s tokens)",
				plural(s->lr.warmup_steps, "step", n1, sizeof n1),
				cli_grouped(s->lr.warmup_steps * per_step, n2, sizeof n2), (unsigned long long)s->lr.final_steps,
				cli_grouped(s->lr.final_steps * per_step, n3, sizeof n3));
		else
			fprintf(stderr, ", warmup %s tokens (about %s), 10%% at %s tokens (about step %llu)",
				cli_grouped(s->lr.warmup_tokens, n2, sizeof n2),
				plural(per_step ? (s->lr.warmup_tokens + per_step - 1) / per_step : 0, "step", n1, sizeof n1),
				cli_grouped(s->lr.final_tokens, n3, sizeof n3),
				(unsigned long long)(per_step ? (s->lr.final_tokens + per_step - 1) / per_step : 0));
	}
	fprintf(stderr, "; batch %u", s->batch);
	if (s->micro_batch < s->batch)
		fprintf(stderr, " in micro-batches of %u", s->micro_batch);
	fprintf(stderr, ", %s", plural((uint64_t)mg_threads_get(), "thread", n4, sizeof n4));
	if (strcmp(o->device, "cpu"))
		fprintf(stderr, ", device %s", o->device);
	fputc('\n', stderr);
	if (s->lr.kind != MG_LR_CONSTANT && steps_left &&
	    (s->lr.unit == MG_LR_UNIT_STEPS ? s->lr.warmup_steps >= s->lr.final_steps
					     : s->lr.warmup_tokens >= s->lr.final_tokens)) {
		if (s->lr.unit == MG_LR_UNIT_STEPS)
			cli_warn(NULL, "warning: the warmup (%s) does not end before the decay's end (step %llu): the rate "
				       "never reaches --lr",
				 plural(s->lr.warmup_steps, "step", n2, sizeof n2), (unsigned long long)s->lr.final_steps);
		else
			cli_warn(NULL, "warning: the warmup (%s tokens) does not end before final_tokens (%s): the rate never "
				       "reaches --lr",
				 cli_grouped(s->lr.warmup_tokens, n2, sizeof n2), cli_grouped(s->lr.final_tokens, n3, sizeof n3));
	}
	if (resuming && !o->log && steps_left)
		cli_warn(NULL, "warning: resuming without --log: this run's metrics are not logged (a log is not part "
			       "of the checkpoint)");
	if (o->verbose)
		fprintf(stderr,
			"%s: hyperparameters: seed %llu, order %s, %s %llu, betas %g %g, eps %g, weight decay %g, "
			"grad clip %g, val split %g, eval every %s, eval batches %llu, early stop %llu\n",
			cli_prog(), (unsigned long long)s->seed, mg_train_data_order_name(s->order), s->iters ? "iters" : "epochs",
			(unsigned long long)(s->iters ? s->iters : s->epochs), s->beta1, s->beta2, s->eps, s->weight_decay,
			s->grad_clip, s->val_split, s->eval_every ? cli_grouped(s->eval_every, n1, sizeof n1) : "epoch",
			(unsigned long long)s->eval_batches, (unsigned long long)s->early_stop);
}

/* The summary: where the run ended, its speed, and every loss named for
 * what it is. */
static void print_summary(const run *r)
{
	const mg_train_state *s = mg_trainer_state(r->tr);
	char n1[48], n2[48], a[32], what[96], rng[48];

	fprintf(stderr, "%s: step %llu (%.2f epochs, %s tokens): %s in %s", cli_prog(), (unsigned long long)s->step,
		epochs_done(r), cli_grouped(s->tokens, n1, sizeof n1), plural(r->steps_run, "step", n2, sizeof n2),
		hms(mg_clock_now() - r->t_start, a, sizeof a));
	if (r->steps_run)
		fprintf(stderr, ", %.1f ms/step, %s tokens/s, %.2f GFLOP/s", 1e3 * r->t_train / (double)r->steps_run,
			cli_grouped(r->t_train > 0 ? (uint64_t)((double)r->positions / r->t_train) : 0, n1, sizeof n1),
			r->t_train > 0 ? r->flops / r->t_train / 1e9 : 0.0);
	fputc('\n', stderr);
	if (!r->steps_run && !isfinite(r->last_val) && !s->has_best)
		return;
	fprintf(stderr, "%s:", cli_prog());
	if (r->steps_run)
		fprintf(stderr, " train loss %.5f (%s%s)%s", r->li_loss, r->li_first < r->li_last ? "mean of " : "",
			steps_range(r->li_first, r->li_last, rng, sizeof rng),
			isfinite(r->last_val) || s->has_best ? ";" : "");
	if (isfinite(r->last_val)) {
		fprintf(stderr, " val loss %.5f (%s, step %llu", r->last_val, val_what(r, what, sizeof what),
			(unsigned long long)r->val_step);
		if (r->val_step < s->step)
			fprintf(stderr, ", %s before the end", plural(s->step - r->val_step, "step", n1, sizeof n1));
		fputc(')', stderr);
	}
	if (s->has_best)
		fprintf(stderr, "%s best val loss %.5f at step %llu", isfinite(r->last_val) ? "," : "", s->best_val_loss,
			(unsigned long long)s->best_step);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ several ranks */

/* An error that every rank meets: rank 0 says it (a usage error when code
 * is CLI_EXIT_USAGE, else about file), all leave with code. */
__attribute__((format(printf, 3, 4))) _Noreturn static void die_all(int code, const char *file, const char *fmt,
								      ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	lockstep = 1;
	if (comm->rank)
		exit(code);
	if (code == CLI_EXIT_USAGE)
		cli_usage_error("%s", msg);
	cli_die(file, "%s", msg);
}

/* The checkpoint, read by rank 0 alone (it may be on rank 0's disk only,
 * or standard input) and sent to every rank. */
static void read_ckpt_shared(const char *path, mg_ckpt *ck, const char **name)
{
	FILE *f = NULL, *m;
	uint8_t *buf;
	size_t n;
	mg_err e;

	if (!comm->rank)
		f = cli_open_in(path, name);
	else
		*name = !path || !strcmp(path, "-") ? "<stdin>" : path;
	if (mg_comm_bcast_file(comm, f, &buf, &n, &e))
		die_all(CLI_EXIT_ERROR, *name, "%s", e.msg);
	if (f)
		cli_close_in(f, *name);
	if (!(m = fmemopen(buf, n, "rb")))
		cli_die(NULL, "out of memory");
	if (mg_ckpt_read(m, ck, &e)) /* the same bytes on every rank: the same error */
		die_all(CLI_EXIT_ERROR, *name, "%s", e.msg);
	fclose(m);
	free(buf);
}

/* The global batch is the one-process run's; each rank takes an equal
 * share of its micro-batches: a micro-batch at most batch / ranks (the
 * stored or default one is lowered to that). */
static void apply_ranks(const opts *o, mg_train_state *s)
{
	uint32_t R = (uint32_t)comm->size, share;

	if (s->batch % R)
		die_all(CLI_EXIT_USAGE, NULL,
			"--batch %u is not divisible by the %u ranks (each takes an equal share of every batch)", s->batch,
			R);
	share = s->batch / R;
	if (s->micro_batch > share && o->have_micro)
		die_all(CLI_EXIT_USAGE, NULL,
			"--micro-batch %u is larger than a rank's share of the batch (%u of %u over %u ranks)",
			s->micro_batch, share, s->batch, R);
	if (s->micro_batch > share)
		s->micro_batch = share;
}

/* Refuses a job whose ranks read different data or were given different
 * options (a launcher running several command lines). */
static void check_ranks(const run *r, const mg_train_data *train, const mg_train_state *s, const char *ck_name)
{
	int what, bad;
	mg_err e;

	if (mg_train_setup_ranks(comm, train, r->val, s, ck_name, &what, &bad, &e))
		cli_die(NULL, "%s", e.msg);
	if (what == MG_TRAIN_RANKS_DATA)
		die_all(CLI_EXIT_ERROR, r->data_name,
			"rank %d reads different data (its training or validation data differs from rank 0's): "
			"every rank must read the same files", bad);
	if (what == MG_TRAIN_RANKS_OPTIONS)
		die_all(CLI_EXIT_ERROR, NULL,
			"rank %d was given different options (batch, micro-batch, seed, order, length, rate or "
			"clipping) than rank 0: every rank must run the same command", bad);
	if (what == MG_TRAIN_RANKS_CKPT)
		die_all(CLI_EXIT_ERROR, ck_name,
			"rank %d was given another checkpoint (rank 0 reads this one for every rank): every rank "
			"must run the same command", bad);
}

/* OpenMP threads wait passively unless the environment says otherwise */
CLI_THREADS_PASSIVE

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
	run r;
	mg_err e;
	int resuming, have_vdata = 0, rc, failed = 0;
	uint64_t steps_left, tokens_at_end, units, n_val = 0;
	uint32_t max_len;
	mg_gpt_memory mem;
	char n1[32], n2[32];

	cli_init("gpt-train", usage);
	parse(argc, argv, &o);
	comm_open();
	if (comm->rank)
		o.quiet = 1, o.verbose = 0; /* rank 0 prints */
	if (comm->size > 1 && (!strcmp(o.data, "-") || (o.val && !strcmp(o.val, "-"))))
		die_all(CLI_EXIT_USAGE, NULL, "with several ranks --data and --val must be files: every rank reads them");
	/* after --help: a checkpoint that cannot reach standard output (a pipe
	 * whose reader is gone) goes to the rescue file, and a log that cannot
	 * be written stops the run with its checkpoint: EPIPE, not death by
	 * SIGPIPE */
	if (!o.eval_only)
		signal(SIGPIPE, SIG_IGN);
	memset(&r, 0, sizeof r);
	r.o = &o;
	r.last_val = NAN;
	/* the device first: "no CUDA device" before any file is touched */
	if (mg_backend_select(&be, o.device, &e))
		cli_die(o.device, "%s", e.msg);
	/* fail before hours of work, not after: the outputs must be writable */
	if (!o.eval_only && !comm->rank) /* which writes text only */
		cli_out_check(o.out, 1, o.force);
	if (o.best && !comm->rank)
		cli_out_check(o.best, 1, 1);
	mg_threads_set(o.threads);

	/* the model, and the run it continues */
	if (comm->size == 1) {
		ck_f = cli_open_in(o.ckpt, &ck_name);
		if (mg_ckpt_read_mapped(ck_f, &ck, &e))
			cli_die_err(ck_name, &e);
		cli_close_in(ck_f, ck_name);
	} else {
		read_ckpt_shared(o.ckpt, &ck, &ck_name);
	}
	if (!o.eval_only && mg_gpt_ckpt_trainable(&ck, &e)) /* quantized: --eval-only only */
		die_all(CLI_EXIT_ERROR, ck_name, "%s", e.msg); /* the same bytes on every rank: the same refusal */
	if (mg_train_setup_resume(&ck, o.restart, &st, &resuming, &e))
		cli_die(ck_name, "%s (--restart starts a new run from its parameters)", e.msg);
	if (o.have_dropout && mg_gpt_config_set_dropout(&ck.config, o.dropout, &e))
		cli_die(NULL, "%s", e.msg);
	if (mg_gpt_load_on(&g, &ck, be, &e))
		cli_die(be->device && e.code == MG_E_IO ? be->name : ck_name, "%s", e.msg);
	r.g = g;
	mg_ckpt_drop_data(&ck); /* the model holds its own copy */
	cfg = mg_gpt_config_of(g);
	apply_opts(&o, &st, resuming);
	if (comm->size > 1 && !o.eval_only)
		apply_ranks(&o, &st);
	if (mg_train_state_check(&st, &e))
		cli_usage_error("%s", e.msg);
	/* --iters counts from step 0: a target behind the checkpoint trains nothing */
	if (resuming && o.have_iters && o.iters < st.step)
		cli_usage_error("--iters %llu: %s is at step %llu already (--iters counts steps from the start of the run: "
				"--iters %llu trains %llu more)",
				(unsigned long long)o.iters, ck_name, (unsigned long long)st.step,
				(unsigned long long)(st.step + o.iters), (unsigned long long)o.iters);

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
	if (o.have_early_stop && o.early_stop && !r.val)
		cli_usage_error("--early-stop needs validation data (--val or --val-split)");
	if (comm->size > 1)
		check_ranks(&r, train, &st, ck_name);
	if (comm->rank) /* rank 0 writes every output */
		o.best = o.log = NULL, o.sample_every = 0;

	/* the run */
	max_len = mg_train_data_max_len(train);
	if (r.val && mg_train_data_max_len(r.val) > max_len)
		max_len = mg_train_data_max_len(r.val);
	/* a step's buffers, before allocating them (a device reports its own) */
	if (!be->device) {
		mg_gpt_memory_alloc(g, st.micro_batch, max_len, MG_GPT_ALLOC_TRAIN, &mem);
		if (mg_gpt_memory_check(&mem, &e))
			cli_die(NULL, "--%s %u %s", st.micro_batch < st.batch ? "micro-batch" : "batch", st.micro_batch,
				e.msg);
	}
	if (mg_trainer_init(&r.tr, g, train, &st, max_len, &e))
		cli_die(be->device ? be->name : NULL, "%s", e.msg);
	mg_trainer_set_comm(r.tr, comm);
	device_check(g);
	if (o.eval_only) {
		mg_gpt_loss vl;
		double t0 = mg_clock_now();
		signals_catch();
		rc = mg_trainer_eval(r.tr, r.val, o.eval_batches, &stop_sig, &vl, &e);
		device_check(g);
		if (rc)
			cli_die(e.code == MG_E_INTERRUPTED ? NULL : r.val_name, "%s", e.msg);
		if (!comm->rank)
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
		exit_all(CLI_EXIT_OK);
	}
	if (resuming && o.have_epochs && mg_trainer_done(r.tr) &&
	    st.epoch + (st.epoch_pos >= mg_trainer_epoch_len(r.tr)) > o.epochs)
		cli_usage_error("--epochs %llu: %s has completed more epochs already (--epochs counts from the start of "
				"the run)",
				(unsigned long long)o.epochs, ck_name);
	sample_setup(&r, &data);
	mg_trainer_plan(r.tr, &steps_left, &tokens_at_end);
	if (st.lr.unit == MG_LR_UNIT_TOKENS && st.lr.final_tokens == 0)
		mg_trainer_set_final_tokens(r.tr, tokens_at_end); /* cosine to 10% at the end of this run */
	if (st.lr.unit == MG_LR_UNIT_STEPS && st.lr.final_steps == 0)
		mg_trainer_set_final_steps(r.tr, st.step + steps_left);
	r.write_flags = o.no_opt ? MG_TRAINER_WRITE_PARAMS_ONLY : 0;
	r.tty = cli_stderr_tty();
	r.t_start = mg_clock_now();
	r.steps_total = steps_left;
	r.step0 = st.step;
	if (!o.quiet)
		print_plan(&r, g, train, resuming, tokens_at_end, n_val && !o.val);
	if (o.log && mg_train_log_open(&r.log, o.log, st.step, &e))
		cli_die(o.log, "%s", e.msg);
	signals_catch();
	if (steps_left == 0 && !o.quiet)
		fprintf(stderr, "%s: the run is complete at step %llu: nothing to train\n", cli_prog(),
			(unsigned long long)st.step);
	run_train(&r);
	lockstep = 1; /* every rank is here, after the same step */
	if (comm->size == 1)
		r.sig = stop_sig; /* also one that came after the last step */
	if (r.log && mg_train_log_close(r.log, &e)) {
		cli_warn(o.log, "%s", e.msg);
		r.stop = STOP_LOG;
	}
	if (r.sample_of && r.sample_failed)
		mg_outfile_abort(r.sample_of); /* published: keeps what was written */
	else if (r.sample_of && mg_outfile_commit(r.sample_of, &e)) {
		cli_warn(o.sample_file, "%s", e.msg);
		r.sample_failed = 1;
	}
	if (!o.quiet) {
		const char *dest = o.out && strcmp(o.out, "-") ? o.out : "standard output";
		unsigned long long step = (unsigned long long)mg_trainer_state(r.tr)->step;
		if (r.sig)
			fprintf(stderr, "%s: %s: stopping after step %llu; writing the checkpoint to %s\n", cli_prog(),
				signal_name(r.sig), step, dest);
		else if (r.stop == STOP_TIME)
			fprintf(stderr, "%s: --max-time %s reached: stopping after step %llu; writing the checkpoint to %s\n",
				cli_prog(), o.max_time_arg, step, dest);
		else if (r.stop == STOP_EARLY)
			fprintf(stderr, "%s: --early-stop %llu: no better val loss since step %llu: stopping after step "
					"%llu; writing the checkpoint to %s\n",
				cli_prog(), (unsigned long long)mg_trainer_state(r.tr)->early_stop,
				(unsigned long long)mg_trainer_state(r.tr)->best_step, step, dest);
		else if (r.stop == STOP_LOG)
			fprintf(stderr, "%s: stopping after step %llu, the log failed; writing the checkpoint to %s\n",
				cli_prog(), step, dest);
	}

	/* the result: resumable when the run was cut short; where it cannot
	 * go, to the rescue file */
	if (r.sig || r.stop == STOP_TIME || r.stop == STOP_LOG)
		r.write_flags = 0;
	if (!comm->rank)
		failed = save_or_rescue(&r, o.out && strcmp(o.out, "-") ? o.out : NULL, r.write_flags, "", "");
	if (!failed && r.rescue[0]) /* a periodic save's rescue: -o now holds a later state */
		remove(r.rescue);
	if (!o.quiet)
		print_summary(&r);
	/* a requested output that was not written fails the run */
	if (r.best_unsaved)
		cli_die(o.best, "does not hold the best checkpoint (step %llu): its save failed",
			(unsigned long long)r.best_unsaved);
	if (failed || r.stop == STOP_LOG || r.sample_failed) {
		fflush(stderr);
		exit(CLI_EXIT_ERROR);
	}
	mg_trainer_free(r.tr);
	mg_train_data_free(train);
	mg_train_data_free(r.val);
	mg_tokstream_data_free(&data);
	if (have_vdata)
		mg_tokstream_data_free(&vdata);
	mg_ids_free(&r.prompt);
	mg_gpt_free(g);
	mg_ckpt_free(&ck);
	if (r.sig) {
		/* die of the signal: the shell sees 128 + its number (130 for SIGINT) */
		int sig = r.sig;
		fflush(stderr);
		if (comm->size > 1 || comm->free) { /* leave the job first: the others wait for rank 0's save */
			mg_comm_barrier(comm, &e);
			mg_comm_free(comm);
			comm = mg_comm_single();
		}
		signal(sig, SIG_DFL);
		raise(sig);
	}
	return CLI_EXIT_OK;
}
