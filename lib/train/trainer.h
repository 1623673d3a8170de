/* A training run over a GPT model: optimizer steps on batches of a token
 * stream (with exact micro-batch accumulation, the non-finite guard,
 * gradient clipping, the learning-rate schedule and AdamW), evaluation on
 * validation data, and checkpoints that resume exactly. */
#ifndef MG_TRAINER_H
#define MG_TRAINER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "dist/comm.h"
#include "io/tokenizer.h"
#include "model/gpt.h"
#include "train/train_data.h"
#include "train/train_state.h"

typedef struct mg_trainer mg_trainer;

/* A run of model g on data train from state s (checked with
 * mg_train_state_check). g and train are borrowed and must outlive the
 * trainer. Allocates g's training buffers for micro_batch sequences of up
 * to max_len positions (mg_gpt_alloc; max_len <= block_size, at least the
 * longest sequence of the training and validation data) and a batch; for a
 * quantized model (mg_gpt_trainable) only the forward buffers, for
 * mg_trainer_eval (a step would assert). MG_E_INVAL, MG_E_NOMEM. Not thread-safe: one call at a time, and one
 * model call at a time in the process (lib/model/gpt.h). */
int mg_trainer_init(mg_trainer **tr, mg_gpt *g, mg_train_data *train, const mg_train_state *s, uint32_t max_len,
		    mg_err *e);
void mg_trainer_free(mg_trainer *tr);

/* The ranks of a data-parallel run (lib/dist/comm.h; c is borrowed), before
 * the first step: every rank builds the same trainer (the same state,
 * model and data) and calls mg_trainer_step, mg_trainer_eval and
 * mg_trainer_done in the same order; each runs its share of every step's
 * micro-batches and of the evaluation's batches. The default is
 * mg_comm_single(), one process. */
void mg_trainer_set_comm(mg_trainer *tr, mg_comm *c);

/* The state after the last completed step. */
const mg_train_state *mg_trainer_state(const mg_trainer *tr);
/* Records an evaluation result as the best so far (at the current step). */
void mg_trainer_set_best(mg_trainer *tr, double val_loss);
/* Records an evaluation result at the current step: a finite loss below the
 * best so far (or the first) becomes the best and evals_since_best is
 * reset to 0 (returns 1); otherwise evals_since_best grows by one (0). */
int mg_trainer_record_eval(mg_trainer *tr, double val_loss);

/* Sets the schedule's final_tokens (the default: mg_trainer_plan's end). */
void mg_trainer_set_final_tokens(mg_trainer *tr, uint64_t tokens);
/* Sets the schedule's final_steps (a schedule in steps: the run's end). */
void mg_trainer_set_final_steps(mg_trainer *tr, uint64_t steps);

/* Floating-point operations of one forward and backward pass over B
 * sequences of T positions, as PaLM's appendix B and nanoGPT's estimate_mfu
 * count them: per position 6 N for the weight matrices (N the parameters
 * less the token and position embeddings, which are looked up, not
 * multiplied) plus 12 L C T for attention's scores and weighted sums (not
 * halved for the causal mask), L layers of width C. */
double mg_trainer_flops(const mg_trainer *tr, uint64_t B, uint32_t T);

/* Sequences per epoch and steps per full epoch (the last one partial). */
uint64_t mg_trainer_epoch_len(const mg_trainer *tr);
uint64_t mg_trainer_epoch_steps(const mg_trainer *tr);
/* Whether the state has reached its target (iters steps, or epochs epochs). */
int mg_trainer_done(const mg_trainer *tr);
/* The rest of the run from the current state: steps to the target, and the
 * token counter when it is reached (the default final_tokens). */
void mg_trainer_plan(mg_trainer *tr, uint64_t *steps_left, uint64_t *tokens_at_end);

enum { MG_TRAINER_STEP_OK = 0, MG_TRAINER_STEP_LOSS_NONFINITE = 1, MG_TRAINER_STEP_GRAD_NONFINITE = 2 };

typedef struct mg_trainer_step_info {
	int status;         /* MG_STEP_*: on a non-finite value nothing changed */
	double loss;        /* mean over the step's targets */
	double grad_norm;   /* global norm before clipping */
	double lr;          /* the rate the step used */
	uint64_t count;     /* targets of the step */
	uint64_t positions; /* sequence positions computed (B x T per forward pass) */
	double flops;       /* their mg_trainer_flops */
	uint32_t sequences;
	uint64_t epoch;     /* the step's epoch, from 0 */
	uint64_t iter;      /* the step's index in its epoch, from 0 */
	int epoch_end;      /* the step finished its epoch */
} mg_trainer_step_info;

/* One optimizer step: the next `batch` sequences (fewer at the end of an
 * epoch) in forward and backward passes of up to micro_batch sequences, the
 * gradient of the mean over all their targets accumulated exactly
 * (mg_gpt_backward's scale = count_i / count), dropout keyed by (seed,
 * step, micro-batch); then clipping, the rate for the token counter after
 * the step, AdamW, and the state advanced. With several ranks, rank r
 * runs micro-batches K r / R ... K (r+1) / R - 1 of the K of one process,
 * and the gradients, losses and counts are summed over the ranks (in rank
 * order: identical on every rank), so that every rank takes the same
 * AdamW step; the micro-batch gradients are added in micro-batch order on
 * a rank, so R ranks of one micro-batch each equal one process of R
 * micro-batches bit for bit. A non-finite loss or gradient
 * norm stops before the update: info->status says which, and the model's
 * parameters, moments and the state are those before the step. Errors:
 * those of mg_gpt_forward. Call only when !mg_trainer_done. */
int mg_trainer_step(mg_trainer *tr, mg_trainer_step_info *info, mg_err *e);

/* Mean loss (sum and count too) of the model on val, in sequential order
 * (every target once), without dropout, over its first max_batches batches
 * of micro_batch sequences (0: all), each rank its share, the same result
 * for any number of ranks. With one rank it stops with MG_E_INTERRUPTED
 * when *cancel becomes non-zero (cancel may be NULL); with several it runs
 * to its end (the ranks agree on a stop between steps). */
int mg_trainer_eval(mg_trainer *tr, mg_train_data *val, uint64_t max_batches, const volatile sig_atomic_t *cancel,
		    mg_gpt_loss *out, mg_err *e);

enum { MG_TRAINER_WRITE_PARAMS_ONLY = 1 }; /* mg_trainer_write flags */
/* Writes a checkpoint of the current state to f: the model's configuration,
 * tk (may be NULL), the TRAI state and the parameters and AdamW moments; with
 * MG_TRAINER_WRITE_PARAMS_ONLY only the configuration, tk and the
 * parameters (a model, not resumable). Nothing run-dependent goes in. */
int mg_trainer_write(const mg_trainer *tr, FILE *f, const mg_tokenizer *tk, uint32_t flags, mg_err *e);
/* The same checkpoint to the file at path, atomically (io/outfile.h): a
 * regular file is replaced whole or not at all, a device or a FIFO is
 * written in place. Errors as mg_trainer_write's and mg_outfile's (the
 * message does not name the file). */
int mg_trainer_save(const mg_trainer *tr, const char *path, const mg_tokenizer *tk, uint32_t flags, mg_err *e);

#endif
