/* The training state of a checkpoint (its TRAI chunk, formats/checkpoint.md
 * "Training state"): progress, the run's hyperparameters and the data it
 * trains on, enough to resume a run exactly. */
#ifndef MG_TRAIN_STATE_H
#define MG_TRAIN_STATE_H

#include <stdint.h>

#include "core/err.h"
#include "io/kv.h"
#include "train/lr_sched.h"

typedef struct mg_train_state {
	/* progress */
	uint64_t step;      /* optimizer steps done */
	uint64_t tokens;    /* targets processed (the schedule's counter) */
	uint64_t epoch;     /* epochs completed */
	uint64_t epoch_pos; /* sequences of the current epoch consumed */
	/* the run: data order, batch, length */
	uint64_t seed;      /* data order and dropout */
	uint32_t order;     /* MG_ORDER_* */
	uint32_t batch, micro_batch; /* sequences per step; per forward pass */
	uint64_t iters, epochs;      /* the target: exactly one is non-zero */
	/* optimisation */
	mg_lr_sched lr;
	double beta1, beta2, eps, weight_decay;
	double grad_clip;   /* 0: off */
	/* data */
	double val_split;   /* fraction of the data held out for validation */
	uint64_t data_fingerprint, data_tokens;
	/* evaluation: the best loss, and the run's evaluation options (kept so
	 * that a resumed run evaluates and stops early as before) */
	int has_best;
	double best_val_loss;
	uint64_t best_step;
	uint64_t eval_every;       /* 0: at the end of each epoch */
	uint64_t eval_batches;     /* 0: all the validation data */
	uint64_t early_stop;       /* 0: off; else stop after that many evaluations without a new best */
	uint64_t evals_since_best; /* evaluations since the best one */
} mg_train_state;

/* A run at step 0 with MyGPT's hyperparameters: batch 256, lr 6e-4
 * cosine, warmup 512*20 tokens, final_tokens 0 (the caller sets the run's
 * tokens), betas 0.9 and 0.95, eps 1e-8, weight decay 0.1, clip 1.0,
 * seed 1337, random order, 1 epoch. */
void mg_train_state_default(mg_train_state *s);
/* MG_E_INVAL naming the field when a value is out of its range. */
int mg_train_state_check(const mg_train_state *s, mg_err *e);
/* The TRAI keys, in the table's order (MG_E_NOMEM). */
int mg_train_state_to_kv(const mg_train_state *s, mg_kv *kv, mg_err *e);
/* Reads the TRAI keys: every required key with its type, no unknown key,
 * valid values; MG_E_CORRUPT naming the key otherwise. The keys added in
 * version 1.1 (eval_every, eval_batches, early_stop, evals_since_best;
 * warmup_iters with lr_decay_iters) are optional: absent, they are 0 and
 * the schedule counts tokens. */
int mg_train_state_from_kv(const mg_kv *kv, mg_train_state *s, mg_err *e);

#endif
