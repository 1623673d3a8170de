/* The checks before a training run (the resumed state, the validation
 * split, the tokenizer, the validation data, the data of a resumed run). */
#include "train/train_setup.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int mg_train_setup_resume(mg_ckpt *ck, int restart, mg_train_state *s, int *resuming, mg_err *e)
{
	int rc;

	*resuming = ck->has_train && !restart;
	if (*resuming) {
		if ((rc = mg_train_state_from_kv(&ck->train, s, e)))
			return rc;
		/* mg_gpt_load takes all the moments or none: one tells */
		if (!mg_ckpt_find(ck, "wte", MG_ROLE_ADAM_M))
			return mg_err_set(e, MG_E_INVAL, "training state without AdamW moments: cannot resume exactly");
		return MG_OK;
	}
	mg_train_state_default(s);
	for (uint32_t role = 0; role < MG_ROLE_COUNT; role++)
		if (role != MG_ROLE_PARAM)
			mg_ckpt_drop_role(ck, role);
	return MG_OK;
}

int mg_train_setup_split(const mg_tokstream_data *d, double split, uint64_t *n_val, mg_err *e)
{
	uint64_t units = mg_train_data_units(d);

	*n_val = 0;
	if (!(split > 0))
		return MG_OK;
	*n_val = (uint64_t)floor((double)units * split);
	if (*n_val == 0)
		return mg_err_set(e, MG_E_INVAL, "a validation split of %g of %llu %s holds out nothing", split,
				  (unsigned long long)units, d->h.layout == MG_LAYOUT_EXAMPLES ? "records" : "tokens");
	return MG_OK;
}

/* *same = whether a and b are the same tokenizer, when both exist. */
static int same_tokenizer(const mg_tokstream_data *d, int has, const mg_tokenizer *tk, int *same, mg_err *e)
{
	*same = 1;
	return has && d->has_tokenizer ? mg_tokenizer_equal(tk, &d->tk, same, e) : MG_OK;
}

int mg_train_setup_tokenizer(const mg_ckpt *ck, const mg_tokstream_data *data, uint32_t vocab_size,
			     const mg_tokenizer **tk, mg_err *e)
{
	int same, rc;

	*tk = NULL;
	if ((rc = same_tokenizer(data, ck->has_tokenizer, &ck->tk, &same, e)))
		return rc;
	if (!same)
		return mg_err_set(e, MG_E_INVAL, "its tokenizer is not the checkpoint's");
	if (ck->has_tokenizer)
		*tk = &ck->tk;
	else if (data->has_tokenizer && data->tk.vocab_size <= vocab_size)
		*tk = &data->tk;
	return MG_OK;
}

int mg_train_setup_check_val(const mg_tokstream_data *train, const mg_tokstream_data *val, mg_err *e)
{
	int same, rc;

	if (val->h.vocab_size != train->h.vocab_size)
		return mg_err_set(e, MG_E_INVAL, "vocabulary of %u, not the training data's %u", val->h.vocab_size,
				  train->h.vocab_size);
	if ((rc = same_tokenizer(val, train->has_tokenizer, &train->tk, &same, e)))
		return rc;
	if (!same)
		return mg_err_set(e, MG_E_INVAL, "its tokenizer is not the training data's");
	if (val->h.layout != train->h.layout)
		return mg_err_set(e, MG_E_INVAL, "layout %s, not the training data's %s",
				  mg_tokstream_layout_name(val->h.layout), mg_tokstream_layout_name(train->h.layout));
	return MG_OK;
}

int mg_train_setup_data(mg_train_state *s, const mg_train_data *train, int check, mg_err *e)
{
	uint64_t fp = mg_train_data_fingerprint(train), tokens = mg_train_data_tokens(train);

	if (check && (s->data_fingerprint != fp || s->data_tokens != tokens))
		return mg_err_set(e, MG_E_INVAL, "not the data this checkpoint was trained on");
	s->data_fingerprint = fp;
	s->data_tokens = tokens;
	return MG_OK;
}

int mg_train_setup_ranks(mg_comm *c, const mg_train_data *train, const mg_train_data *val, const mg_train_state *s,
			 const char *ckpt_name, int *what, int *rank, mg_err *e)
{
	char ck[4096] = { 0 };
	uint64_t d[4] = { mg_train_data_fingerprint(train), mg_train_data_tokens(train),
			  val ? mg_train_data_fingerprint(val) : 0, val ? mg_train_data_tokens(val) : 0 };
	uint64_t h[9] = { s->step, s->batch, s->micro_batch, s->seed, s->order, s->iters, s->epochs, 0, 0 };
	int rc;

	memcpy(&h[7], &s->lr.lr, sizeof(double));
	memcpy(&h[8], &s->grad_clip, sizeof(double));
	snprintf(ck, sizeof ck, "%s", ckpt_name);
	*what = MG_TRAIN_RANKS_SAME;
	if ((rc = mg_comm_check_same(c, d, sizeof d, rank, e)) || *rank >= 0) {
		*what = MG_TRAIN_RANKS_DATA;
		return rc;
	}
	if ((rc = mg_comm_check_same(c, h, sizeof h, rank, e)) || *rank >= 0) {
		*what = MG_TRAIN_RANKS_OPTIONS;
		return rc;
	}
	if ((rc = mg_comm_check_same(c, ck, sizeof ck, rank, e)) || *rank >= 0)
		*what = MG_TRAIN_RANKS_CKPT;
	return rc;
}
