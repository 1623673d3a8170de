/* The TRAI key-value list: one key per field of mg_train_state, checked
 * strictly on reading so that a checkpoint from another trainer, or a
 * damaged one, is refused by name rather than half-resumed. */
#include "train/train_state.h"

#include <math.h>
#include <string.h>

#include "train/train_data.h"

void mg_train_state_default(mg_train_state *s)
{
	memset(s, 0, sizeof *s);
	s->seed = 1337;
	s->order = MG_ORDER_RANDOM;
	s->batch = s->micro_batch = 256;
	s->epochs = 1;
	s->lr.kind = MG_LR_COSINE;
	s->lr.lr = 6e-4;
	s->lr.warmup_tokens = 512 * 20;
	s->beta1 = 0.9;
	s->beta2 = 0.95;
	s->eps = 1e-8;
	s->weight_decay = 0.1;
	s->grad_clip = 1.0;
}

static int fin(double x) { return isfinite(x); }

int mg_train_state_check(const mg_train_state *s, mg_err *e)
{
	if (s->order > MG_ORDER_SEQUENTIAL)
		return mg_err_set(e, MG_E_INVAL, "order %u is not random or sequential", s->order);
	if (s->batch < 1 || s->batch > INT32_MAX)
		return mg_err_set(e, MG_E_INVAL, "batch %u is not in 1..%d", s->batch, INT32_MAX);
	if (s->micro_batch < 1 || s->micro_batch > s->batch)
		return mg_err_set(e, MG_E_INVAL, "micro_batch %u is not in 1..batch %u", s->micro_batch, s->batch);
	if (!s->iters == !s->epochs)
		return mg_err_set(e, MG_E_INVAL, "exactly one of iters and epochs must be non-zero");
	if (s->iters > INT64_MAX || s->epochs > INT64_MAX || s->step > INT64_MAX || s->tokens > INT64_MAX ||
	    s->epoch > INT64_MAX || s->epoch_pos > INT64_MAX || s->data_tokens > INT64_MAX ||
	    s->lr.warmup_tokens > INT64_MAX || s->lr.final_tokens > INT64_MAX || s->best_step > INT64_MAX)
		return mg_err_set(e, MG_E_INVAL, "a counter is over 2^63-1");
	if (s->lr.kind > MG_LR_COSINE_MIN)
		return mg_err_set(e, MG_E_INVAL, "lr_schedule %u is not cosine, constant or cosine-min", s->lr.kind);
	if (!fin(s->lr.lr) || !(s->lr.lr > 0))
		return mg_err_set(e, MG_E_INVAL, "lr %g is not a positive number", s->lr.lr);
	if (s->lr.lr * s->weight_decay >= 1.0)
		return mg_err_set(e, MG_E_INVAL, "lr %g times weight_decay %g is not below 1: the decay would grow the weights",
				  s->lr.lr, s->weight_decay);
	if (!(s->beta1 >= 0 && s->beta1 < 1))
		return mg_err_set(e, MG_E_INVAL, "beta1 %g is not in [0, 1)", s->beta1);
	if (!(s->beta2 >= 0 && s->beta2 < 1))
		return mg_err_set(e, MG_E_INVAL, "beta2 %g is not in [0, 1)", s->beta2);
	if (!fin(s->eps) || !(s->eps > 0))
		return mg_err_set(e, MG_E_INVAL, "eps %g is not a positive number", s->eps);
	if (!fin(s->weight_decay) || !(s->weight_decay >= 0))
		return mg_err_set(e, MG_E_INVAL, "weight_decay %g is not a number >= 0", s->weight_decay);
	if (!fin(s->grad_clip) || !(s->grad_clip >= 0))
		return mg_err_set(e, MG_E_INVAL, "grad_clip %g is not a number >= 0", s->grad_clip);
	if (!(s->val_split >= 0 && s->val_split < 1))
		return mg_err_set(e, MG_E_INVAL, "val_split %g is not in [0, 1)", s->val_split);
	if (s->lr.unit > MG_LR_UNIT_STEPS)
		return mg_err_set(e, MG_E_INVAL, "lr_unit %u is not tokens or steps", s->lr.unit);
	if (s->lr.warmup_steps > INT64_MAX || s->lr.final_steps > INT64_MAX || s->eval_every > INT64_MAX ||
	    s->eval_batches > INT64_MAX || s->early_stop > INT64_MAX || s->evals_since_best > INT64_MAX)
		return mg_err_set(e, MG_E_INVAL, "a counter is over 2^63-1");
	if (s->has_best && (!fin(s->best_val_loss) || s->best_val_loss < 0 || s->best_step > s->step))
		return mg_err_set(e, MG_E_INVAL, "best_val_loss %g at step %llu is not a loss of this run",
				  s->best_val_loss, (unsigned long long)s->best_step);
	return MG_OK;
}

int mg_train_state_to_kv(const mg_train_state *s, mg_kv *kv, mg_err *e)
{
	const char *order = mg_train_data_order_name(s->order), *sched = mg_lr_sched_name(s->lr.kind);
	int bad = 0;

	bad |= mg_kv_set_int(kv, "step", (int64_t)s->step);
	bad |= mg_kv_set_int(kv, "tokens", (int64_t)s->tokens);
	bad |= mg_kv_set_int(kv, "epoch", (int64_t)s->epoch);
	bad |= mg_kv_set_int(kv, "epoch_pos", (int64_t)s->epoch_pos);
	bad |= mg_kv_set_int(kv, "seed", (int64_t)s->seed);
	bad |= mg_kv_set_str(kv, "order", order, (uint32_t)strlen(order));
	bad |= mg_kv_set_int(kv, "batch", s->batch);
	bad |= mg_kv_set_int(kv, "micro_batch", s->micro_batch);
	bad |= mg_kv_set_int(kv, "iters", (int64_t)s->iters);
	bad |= mg_kv_set_int(kv, "epochs", (int64_t)s->epochs);
	bad |= mg_kv_set_float(kv, "lr", s->lr.lr);
	bad |= mg_kv_set_str(kv, "lr_schedule", sched, (uint32_t)strlen(sched));
	bad |= mg_kv_set_int(kv, "warmup_tokens", (int64_t)s->lr.warmup_tokens);
	bad |= mg_kv_set_int(kv, "final_tokens", (int64_t)s->lr.final_tokens);
	bad |= mg_kv_set_float(kv, "beta1", s->beta1);
	bad |= mg_kv_set_float(kv, "beta2", s->beta2);
	bad |= mg_kv_set_float(kv, "eps", s->eps);
	bad |= mg_kv_set_float(kv, "weight_decay", s->weight_decay);
	bad |= mg_kv_set_float(kv, "grad_clip", s->grad_clip);
	bad |= mg_kv_set_float(kv, "val_split", s->val_split);
	bad |= mg_kv_set_int(kv, "data_fingerprint", (int64_t)s->data_fingerprint);
	bad |= mg_kv_set_int(kv, "data_tokens", (int64_t)s->data_tokens);
	if (s->has_best) {
		bad |= mg_kv_set_float(kv, "best_val_loss", s->best_val_loss);
		bad |= mg_kv_set_int(kv, "best_step", (int64_t)s->best_step);
	}
	bad |= mg_kv_set_int(kv, "eval_every", (int64_t)s->eval_every);
	bad |= mg_kv_set_int(kv, "eval_batches", (int64_t)s->eval_batches);
	bad |= mg_kv_set_int(kv, "early_stop", (int64_t)s->early_stop);
	bad |= mg_kv_set_int(kv, "evals_since_best", (int64_t)s->evals_since_best);
	if (s->lr.unit == MG_LR_UNIT_STEPS) {
		bad |= mg_kv_set_int(kv, "warmup_iters", (int64_t)s->lr.warmup_steps);
		bad |= mg_kv_set_int(kv, "lr_decay_iters", (int64_t)s->lr.final_steps);
	}
	return bad ? mg_err_set(e, MG_E_NOMEM, "out of memory") : MG_OK;
}

static const char *const known_keys[] = {
	"step", "tokens", "epoch", "epoch_pos", "seed", "order", "batch", "micro_batch", "iters", "epochs", "lr",
	"lr_schedule", "warmup_tokens", "final_tokens", "beta1", "beta2", "eps", "weight_decay", "grad_clip",
	"val_split", "data_fingerprint", "data_tokens", "best_val_loss", "best_step", "eval_every", "eval_batches",
	"early_stop", "evals_since_best", "warmup_iters", "lr_decay_iters", NULL,
};

/* The entry of a required key with its type, or NULL with e set. */
static const mg_kv_entry *need(const mg_kv *kv, const char *key, int type, mg_err *e)
{
	const mg_kv_entry *x = mg_kv_find(kv, key);

	if (!x) {
		mg_err_set(e, MG_E_CORRUPT, "training state: missing key '%s'", key);
		return NULL;
	}
	if (x->type != type) {
		mg_err_set(e, MG_E_CORRUPT, "training state: key '%s' is not %s", key,
			   type == MG_KV_INT ? "an integer" : type == MG_KV_FLOAT ? "a float" : "a string");
		return NULL;
	}
	return x;
}

/* A counter: an integer >= 0 (bits: any 64-bit pattern). */
static int get_u64(const mg_kv *kv, const char *key, int bits, uint64_t *v, mg_err *e)
{
	const mg_kv_entry *x = need(kv, key, MG_KV_INT, e);

	if (!x)
		return MG_E_CORRUPT;
	if (!bits && x->i < 0)
		return mg_err_set(e, MG_E_CORRUPT, "training state: key '%s' is negative", key);
	*v = (uint64_t)x->i;
	return MG_OK;
}

static int get_f64(const mg_kv *kv, const char *key, double *v, mg_err *e)
{
	const mg_kv_entry *x = need(kv, key, MG_KV_FLOAT, e);

	if (!x)
		return MG_E_CORRUPT;
	*v = x->f;
	return MG_OK;
}

static int get_choice(const mg_kv *kv, const char *key, const char *a, const char *b, uint32_t *v, mg_err *e)
{
	const mg_kv_entry *x = need(kv, key, MG_KV_STR, e);

	if (!x)
		return MG_E_CORRUPT;
	if (x->slen == strlen(a) && !memcmp(x->s, a, x->slen))
		*v = 0;
	else if (x->slen == strlen(b) && !memcmp(x->s, b, x->slen))
		*v = 1;
	else
		return mg_err_set(e, MG_E_CORRUPT, "training state: key '%s' is not %s or %s", key, a, b);
	return MG_OK;
}

static int get_schedule(const mg_kv *kv, uint32_t *v, mg_err *e)
{
	const mg_kv_entry *x = need(kv, "lr_schedule", MG_KV_STR, e);
	static const uint32_t kinds[] = { MG_LR_COSINE, MG_LR_CONSTANT, MG_LR_COSINE_MIN };

	if (!x)
		return MG_E_CORRUPT;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
		const char *n = mg_lr_sched_name(kinds[i]);
		if (x->slen == strlen(n) && !memcmp(x->s, n, x->slen)) {
			*v = kinds[i];
			return MG_OK;
		}
	}
	return mg_err_set(e, MG_E_CORRUPT, "training state: key 'lr_schedule' is not cosine, constant or cosine-min");
}

int mg_train_state_from_kv(const mg_kv *kv, mg_train_state *s, mg_err *e)
{
	uint64_t batch, micro;
	int rc = 0;

	memset(s, 0, sizeof *s);
	for (size_t i = 0; i < kv->n; i++) {
		size_t k = 0;
		while (known_keys[k] && strcmp(known_keys[k], kv->e[i].key))
			k++;
		if (!known_keys[k])
			return mg_err_set(e, MG_E_CORRUPT, "training state: unknown key '%s'", kv->e[i].key);
	}
	if ((rc = get_u64(kv, "step", 0, &s->step, e)) || (rc = get_u64(kv, "tokens", 0, &s->tokens, e)) ||
	    (rc = get_u64(kv, "epoch", 0, &s->epoch, e)) || (rc = get_u64(kv, "epoch_pos", 0, &s->epoch_pos, e)) ||
	    (rc = get_u64(kv, "seed", 1, &s->seed, e)) ||
	    (rc = get_choice(kv, "order", "random", "sequential", &s->order, e)) ||
	    (rc = get_u64(kv, "batch", 0, &batch, e)) || (rc = get_u64(kv, "micro_batch", 0, &micro, e)) ||
	    (rc = get_u64(kv, "iters", 0, &s->iters, e)) || (rc = get_u64(kv, "epochs", 0, &s->epochs, e)) ||
	    (rc = get_f64(kv, "lr", &s->lr.lr, e)) ||
	    (rc = get_schedule(kv, &s->lr.kind, e)) ||
	    (rc = get_u64(kv, "warmup_tokens", 0, &s->lr.warmup_tokens, e)) ||
	    (rc = get_u64(kv, "final_tokens", 0, &s->lr.final_tokens, e)) ||
	    (rc = get_f64(kv, "beta1", &s->beta1, e)) || (rc = get_f64(kv, "beta2", &s->beta2, e)) ||
	    (rc = get_f64(kv, "eps", &s->eps, e)) || (rc = get_f64(kv, "weight_decay", &s->weight_decay, e)) ||
	    (rc = get_f64(kv, "grad_clip", &s->grad_clip, e)) || (rc = get_f64(kv, "val_split", &s->val_split, e)) ||
	    (rc = get_u64(kv, "data_fingerprint", 1, &s->data_fingerprint, e)) ||
	    (rc = get_u64(kv, "data_tokens", 0, &s->data_tokens, e)))
		return rc;
	if (batch > INT32_MAX || micro > INT32_MAX)
		return mg_err_set(e, MG_E_CORRUPT, "training state: batch %llu or micro_batch %llu is over %d",
				  (unsigned long long)batch, (unsigned long long)micro, INT32_MAX);
	s->batch = (uint32_t)batch;
	s->micro_batch = (uint32_t)micro;
	if (mg_kv_find(kv, "best_val_loss") || mg_kv_find(kv, "best_step")) {
		if ((rc = get_f64(kv, "best_val_loss", &s->best_val_loss, e)) ||
		    (rc = get_u64(kv, "best_step", 0, &s->best_step, e)))
			return rc;
		s->has_best = 1;
	}
	/* version 1.1's keys: optional */
	if ((mg_kv_find(kv, "eval_every") && (rc = get_u64(kv, "eval_every", 0, &s->eval_every, e))) ||
	    (mg_kv_find(kv, "eval_batches") && (rc = get_u64(kv, "eval_batches", 0, &s->eval_batches, e))) ||
	    (mg_kv_find(kv, "early_stop") && (rc = get_u64(kv, "early_stop", 0, &s->early_stop, e))) ||
	    (mg_kv_find(kv, "evals_since_best") && (rc = get_u64(kv, "evals_since_best", 0, &s->evals_since_best, e))))
		return rc;
	if (mg_kv_find(kv, "warmup_iters") || mg_kv_find(kv, "lr_decay_iters")) {
		if ((rc = get_u64(kv, "warmup_iters", 0, &s->lr.warmup_steps, e)) ||
		    (rc = get_u64(kv, "lr_decay_iters", 0, &s->lr.final_steps, e)))
			return rc;
		s->lr.unit = MG_LR_UNIT_STEPS;
	}
	if ((rc = mg_train_state_check(s, e))) {
		mg_err_prefix(e, "training state: ");
		return MG_E_CORRUPT;
	}
	return MG_OK;
}
