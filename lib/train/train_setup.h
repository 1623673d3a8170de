/* The checks before a training run: which run a checkpoint continues, the
 * validation split of the data, the tokenizer of the run, whether
 * validation data fits the training data and whether a resumed run is on
 * its own data. Messages do not name the file: the caller knows which. */
#ifndef MG_TRAIN_SETUP_H
#define MG_TRAIN_SETUP_H

#include <stdint.h>

#include "core/err.h"
#include "dist/comm.h"
#include "io/ckpt.h"
#include "io/tokenizer.h"
#include "io/tokstream.h"
#include "train/train_data.h"
#include "train/train_state.h"

/* The run a checkpoint read by mg_ckpt_read starts: with a training state
 * and !restart, *resuming = 1 and *s the stored state (MG_E_CORRUPT naming
 * the key; MG_E_INVAL "training state without AdamW moments: cannot resume
 * exactly" without moments); else *resuming = 0, *s the defaults
 * (mg_train_state_default) and the moments dropped from ck, so that the
 * model starts the new run with zero ones. */
int mg_train_setup_resume(mg_ckpt *ck, int restart, mg_train_state *s, int *resuming, mg_err *e);

/* The units (mg_train_data_units) at the end of d held out for validation
 * by the fraction split in [0, 1): floor(units * split), 0 for split 0;
 * MG_E_INVAL ("a validation split of 0.01 of 50 records holds out
 * nothing") when split > 0 holds out nothing. */
int mg_train_setup_split(const mg_tokstream_data *d, double split, uint64_t *n_val, mg_err *e);

/* The tokenizer a run's checkpoints embed: ck's when it has one, else
 * data's when that fits a vocabulary of vocab_size, else NULL; *tk points
 * into ck or data. MG_E_INVAL "its tokenizer is not the checkpoint's" when
 * both have one and they differ; MG_E_NOMEM. */
int mg_train_setup_tokenizer(const mg_ckpt *ck, const mg_tokstream_data *data, uint32_t vocab_size,
			     const mg_tokenizer **tk, mg_err *e);

/* Whether val can validate a model trained on train: the same vocabulary,
 * the same tokenizer when both embed one, the same layout. MG_E_INVAL
 * saying what differs ("vocabulary of 10, not the training data's 65"),
 * MG_E_NOMEM. */
int mg_train_setup_check_val(const mg_tokstream_data *train, const mg_tokstream_data *val, mg_err *e);

/* Records the fingerprint and token count of train in s. With check (a
 * resumed run), first compares them with the stored ones: MG_E_INVAL "not
 * the data this checkpoint was trained on", s unchanged. */
int mg_train_setup_data(mg_train_state *s, const mg_train_data *train, int check, mg_err *e);

/* What rank *rank of a data-parallel run holds unlike rank 0 (*what; none
 * when *rank is -1): a launcher may run different command lines, and each
 * rank reads its data itself while rank 0 alone reads the checkpoint. */
enum { MG_TRAIN_RANKS_SAME, MG_TRAIN_RANKS_DATA, MG_TRAIN_RANKS_OPTIONS, MG_TRAIN_RANKS_CKPT };
/* Collective: compares the training and validation data (val may be
 * NULL: fingerprints and sizes), the run's batch, micro-batch, seed,
 * order, length, rate and clipping (s), and the checkpoint's name across
 * the ranks, in that order, stopping at the first difference. Errors are
 * the transport's. */
int mg_train_setup_ranks(mg_comm *c, const mg_train_data *train, const mg_train_data *val, const mg_train_state *s,
			 const char *ckpt_name, int *what, int *rank, mg_err *e);

#endif
