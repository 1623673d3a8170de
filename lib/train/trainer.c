/* The training step and evaluation. The state (lib/train/train_state.h) changes
 * only when a step completes, so whatever stops a run (a signal, a
 * non-finite value) leaves a state that resumes exactly. */
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "io/ckpt.h"
#include "io/outfile.h"
#include "model/gpt_grads.h"

#define KEY_DROPOUT 0x64726f706f757431ull /* "dropout1" */

struct mg_trainer {
	mg_gpt *g;
	mg_train_data *train;
	mg_train_state st;
	mg_train_data_batch b;
	mg_comm *comm;   /* the ranks; mg_comm_single() by default */
	float *acc;      /* host: the sum of a rank's micro-batches, or the device's gradients staged */
	float *stage;    /* host: a micro-batch's gradients staged from a device */
	double *stats;   /* a step's or an evaluation's sums, one slot per micro-batch */
	size_t stats_n;
};

static uint64_t mix(uint64_t h, uint64_t v) { return mg_hash64(h ^ mg_hash64(v)); }

int mg_trainer_init(mg_trainer **out, mg_gpt *g, mg_train_data *train, const mg_train_state *s, uint32_t max_len,
		    mg_err *e)
{
	mg_trainer *tr;
	int rc;

	*out = NULL;
	if ((rc = mg_train_state_check(s, e)))
		return rc;
	if (max_len < 1 || max_len > mg_gpt_config_of(g)->block_size)
		return mg_err_set(e, MG_E_INVAL, "sequence length %u is not in 1..block_size %u", max_len,
				  mg_gpt_config_of(g)->block_size);
	if (!(tr = calloc(1, sizeof *tr)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	tr->g = g;
	tr->train = train;
	tr->st = *s;
	tr->comm = mg_comm_single();
	/* a quantized model evaluates only: forward buffers */
	if ((rc = mg_gpt_alloc(g, s->micro_batch, max_len, mg_gpt_trainable(g, NULL) ? 0 : MG_GPT_ALLOC_TRAIN, e)) ||
	    (rc = mg_train_data_batch_init(&tr->b, s->micro_batch, mg_gpt_config_of(g)->block_size, e))) {
		free(tr);
		return rc;
	}
	*out = tr;
	return MG_OK;
}

void mg_trainer_free(mg_trainer *tr)
{
	if (!tr)
		return;
	mg_train_data_batch_free(&tr->b);
	free(tr->acc);
	free(tr->stage);
	free(tr->stats);
	free(tr);
}

void mg_trainer_set_comm(mg_trainer *tr, mg_comm *c) { tr->comm = c; }

const mg_train_state *mg_trainer_state(const mg_trainer *tr) { return &tr->st; }

void mg_trainer_set_best(mg_trainer *tr, double val_loss)
{
	tr->st.has_best = 1;
	tr->st.best_val_loss = val_loss;
	tr->st.best_step = tr->st.step;
}

int mg_trainer_record_eval(mg_trainer *tr, double val_loss)
{
	if (isfinite(val_loss) && (!tr->st.has_best || val_loss < tr->st.best_val_loss)) {
		mg_trainer_set_best(tr, val_loss);
		tr->st.evals_since_best = 0;
		return 1;
	}
	tr->st.evals_since_best++;
	return 0;
}

void mg_trainer_set_final_tokens(mg_trainer *tr, uint64_t tokens) { tr->st.lr.final_tokens = tokens; }
void mg_trainer_set_final_steps(mg_trainer *tr, uint64_t steps) { tr->st.lr.final_steps = steps; }

double mg_trainer_flops(const mg_trainer *tr, uint64_t B, uint32_t T)
{
	const mg_gpt_config *c = mg_gpt_config_of(tr->g);
	/* the parameters less the embeddings, but with the head (a matmul even when tied to wte) */
	double C = c->n_embd, N = (double)mg_gpt_n_params(c) - (c->tie_embeddings ? 0.0 : (double)c->vocab_size * C);

	if (c->pos_emb)
		N -= (double)c->block_size * C;
	return (double)B * T * (6.0 * N + 12.0 * c->n_layer * C * T);
}

uint64_t mg_trainer_epoch_len(const mg_trainer *tr) { return mg_train_data_epoch_len(tr->train, tr->st.order); }

uint64_t mg_trainer_epoch_steps(const mg_trainer *tr)
{
	return (mg_trainer_epoch_len(tr) + tr->st.batch - 1) / tr->st.batch;
}

/* A position at or past the end of its epoch (after a change of order or
 * data length between runs) is the start of the next one. */
static void normalise(uint64_t W, uint64_t *epoch, uint64_t *pos)
{
	if (*pos >= W) {
		++*epoch;
		*pos = 0;
	}
}

static int reached(const mg_train_state *s, uint64_t step, uint64_t epoch)
{
	return s->iters ? step >= s->iters : epoch >= s->epochs;
}

int mg_trainer_done(const mg_trainer *tr)
{
	uint64_t epoch = tr->st.epoch, pos = tr->st.epoch_pos;

	normalise(mg_trainer_epoch_len(tr), &epoch, &pos);
	return reached(&tr->st, tr->st.step, epoch);
}

void mg_trainer_plan(mg_trainer *tr, uint64_t *steps_left, uint64_t *tokens_at_end)
{
	const mg_train_state *s = &tr->st;
	uint64_t W = mg_trainer_epoch_len(tr), B = s->batch, E = (W + B - 1) / B;
	uint64_t step = s->step, tokens = s->tokens, epoch = s->epoch, pos = s->epoch_pos;
	uint64_t epoch_targets;
	int fixed = mg_train_data_epoch_fixed(tr->train, s->order, &epoch_targets);

	normalise(W, &epoch, &pos);
	while (!reached(s, step, epoch)) {
		uint64_t n;
		if (fixed && pos == 0 && (s->epochs || s->iters - step >= E)) {
			tokens += epoch_targets;
			step += E;
			epoch++;
			continue;
		}
		n = W - pos < B ? W - pos : B;
		for (uint64_t i = pos; i < pos + n; i++)
			tokens += mg_train_data_seq_targets(tr->train, s->order, s->seed, epoch, i);
		pos += n;
		step++;
		normalise(W, &epoch, &pos);
	}
	*steps_left = step - s->step;
	*tokens_at_end = tokens;
}

/* Room for n sums of a step or an evaluation. */
static int stats_reserve(mg_trainer *tr, size_t n, mg_err *e)
{
	double *p;

	if (n > tr->stats_n) {
		if (!(p = realloc(tr->stats, n * sizeof *p)))
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		tr->stats = p;
		tr->stats_n = n;
	}
	memset(tr->stats, 0, n * sizeof *tr->stats);
	return MG_OK;
}

static int host_reserve(float **p, size_t n, mg_err *e)
{
	if (!*p && !(*p = malloc(n * sizeof **p)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	return MG_OK;
}

/* The share of rank r of size ranks in K items: [K r / size, K (r+1) / size). */
static void share(uint64_t K, const mg_comm *c, uint64_t *k0, uint64_t *k1)
{
	*k0 = K * (uint64_t)c->rank / (uint64_t)c->size;
	*k1 = K * (uint64_t)(c->rank + 1) / (uint64_t)c->size;
}

/* The step's micro-batches k = 0..K-1 are those of one process; each rank
 * runs its share of them. Every micro-batch's gradient is computed from
 * zero and the sums are made outside the model, in micro-batch order:
 * acc = ((x_0 + x_1) + x_2) ... on a rank, then across the ranks in rank
 * order (dist/comm.h). So R ranks of one micro-batch each give the bits of
 * one process running the same R micro-batches (with 2 ranks the sum of
 * two, exact in either order), and one micro-batch per step runs as it
 * always did. The losses go through one slot per micro-batch (the others'
 * slots are 0 on a rank, and x + 0 = x), so their sum is made in
 * micro-batch order whatever the ranks. A device backend with one rank
 * accumulates in place on the device (no staging). */
int mg_trainer_step(mg_trainer *tr, mg_trainer_step_info *info, mg_err *e)
{
	mg_train_state ns = tr->st;
	mg_comm *comm = tr->comm;
	const uint64_t W = mg_trainer_epoch_len(tr);
	const int device = mg_gpt_backend(tr->g)->device;
	uint64_t total = 0, n, K, k0, k1;
	double sum = 0.0, norm;
	float *host = NULL;
	size_t G;
	int rc, in_place;

	memset(info, 0, sizeof *info);
	normalise(W, &ns.epoch, &ns.epoch_pos);
	n = W - ns.epoch_pos < ns.batch ? W - ns.epoch_pos : ns.batch;
	info->sequences = (uint32_t)n;
	info->epoch = ns.epoch;
	info->iter = (ns.epoch_pos + ns.batch - 1) / ns.batch;
	for (uint64_t i = ns.epoch_pos; i < ns.epoch_pos + n; i++)
		total += mg_train_data_seq_targets(tr->train, ns.order, ns.seed, ns.epoch, i);
	K = (n + ns.micro_batch - 1) / ns.micro_batch;
	share(K, comm, &k0, &k1);
	in_place = device && comm->size == 1;
	if ((rc = stats_reserve(tr, K + 3, e)))
		return rc;
	G = mg_gpt_grads_len(tr->g);
	if (!in_place && (k1 - k0 > 1 || device) && (rc = host_reserve(&tr->acc, G, e)))
		return rc;
	if (!in_place && device && k1 - k0 > 1 && (rc = host_reserve(&tr->stage, G, e)))
		return rc;
	mg_gpt_zero_grad(tr->g);
	for (uint64_t k = k0; k < k1; k++) {
		uint64_t a = k * ns.micro_batch;
		uint32_t m = (uint32_t)(n - a < ns.micro_batch ? n - a : ns.micro_batch);
		uint64_t dseed = mix(mix(mix(ns.seed, KEY_DROPOUT), ns.step), k);
		mg_train_data_view v;
		mg_gpt_loss l;

		mg_train_data_fill(tr->train, ns.order, ns.seed, ns.epoch, ns.epoch_pos + a, m, &tr->b);
		mg_train_data_batch_view(&tr->b, 0, m, &v);
		if (k > k0 && !in_place)
			mg_gpt_zero_grad(tr->g);
		if ((rc = mg_gpt_forward(tr->g, v.inputs, v.targets, v.mask, v.B, v.T, MG_GPT_DROPOUT, dseed, &l, e)))
			return rc;
		tr->stats[k] = l.sum;
		tr->stats[K] += (double)l.count;
		tr->stats[K + 1] += (double)v.B * v.T;
		tr->stats[K + 2] += mg_trainer_flops(tr, v.B, v.T);
		if (!isfinite(l.sum))
			break; /* the step fails; the other ranks learn it from the sums */
		mg_gpt_backward(tr->g, total ? (float)((double)l.count / (double)total) : 0.0f);
		if (in_place || (k1 - k0 == 1 && !device))
			continue;
		if (k == k0) {
			mg_gpt_grads_get(tr->g, tr->acc);
		} else {
			const float *x = mg_gpt_grads_host(tr->g);
			if (!x)
				mg_gpt_grads_get(tr->g, tr->stage), x = tr->stage;
			for (size_t i = 0; i < G; i++)
				tr->acc[i] += x[i];
		}
	}
	if ((rc = mg_comm_sum_f64(comm, tr->stats, K + 3, e)))
		return rc;
	info->count = (uint64_t)tr->stats[K];
	info->positions = (uint64_t)tr->stats[K + 1];
	info->flops = tr->stats[K + 2];
	for (uint64_t k = 0; k < K; k++) {
		if (!isfinite(tr->stats[k])) {
			info->status = MG_TRAINER_STEP_LOSS_NONFINITE;
			info->loss = tr->stats[k];
			return MG_OK;
		}
		sum += tr->stats[k];
	}
	info->loss = info->count ? sum / (double)info->count : 0.0;
	if (!in_place) {
		/* the rank's sum: acc, or the model's own buffer (one micro-batch
		 * or none on the CPU) */
		host = k1 - k0 > 1 || device ? tr->acc : mg_gpt_grads_host(tr->g);
		if (device && k1 - k0 <= 1)
			mg_gpt_grads_get(tr->g, host);
		if ((rc = mg_comm_sum_f32(comm, host, G, e)))
			return rc;
		if (host != mg_gpt_grads_host(tr->g))
			mg_gpt_grads_set(tr->g, host);
	}
	norm = ns.grad_clip > 0 ? mg_gpt_clip_grad_norm(tr->g, ns.grad_clip) : mg_gpt_grad_norm(tr->g);
	info->grad_norm = norm;
	if (!isfinite(norm)) {
		info->status = MG_TRAINER_STEP_GRAD_NONFINITE;
		return MG_OK;
	}
	ns.tokens += info->count;
	info->lr = mg_lr_sched_rate(&ns.lr, ns.step + 1, ns.tokens);
	{
		mg_gpt_adamw o = { info->lr, ns.beta1, ns.beta2, ns.eps, ns.weight_decay };
		mg_gpt_adamw_step(tr->g, &o, ns.step + 1);
	}
	ns.step++;
	ns.epoch_pos += n;
	if (ns.epoch_pos == W) {
		ns.epoch++;
		ns.epoch_pos = 0;
		info->epoch_end = 1;
	}
	tr->st = ns;
	return MG_OK;
}

/* Each rank evaluates its share of the batches; the losses go through one
 * slot per batch and are added in batch order, so the result is that of
 * one process bit for bit. */
int mg_trainer_eval(mg_trainer *tr, mg_train_data *val, uint64_t max_batches, const volatile sig_atomic_t *cancel,
		    mg_gpt_loss *out, mg_err *e)
{
	uint64_t W = mg_train_data_epoch_len(val, MG_ORDER_SEQUENTIAL), M = tr->st.micro_batch;
	uint64_t batches = (W + M - 1) / M, k0, k1;
	double sum = 0.0;
	int rc;

	if (max_batches && max_batches < batches)
		batches = max_batches;
	share(batches, tr->comm, &k0, &k1);
	if ((rc = stats_reserve(tr, batches + 1, e)))
		return rc;
	for (uint64_t k = k0; k < k1; k++) {
		uint32_t m = (uint32_t)(W - k * M < M ? W - k * M : M);
		mg_train_data_view v;
		mg_gpt_loss l;

		if (cancel && *cancel && tr->comm->size == 1)
			return mg_err_set(e, MG_E_INTERRUPTED, "evaluation interrupted");
		mg_train_data_fill(val, MG_ORDER_SEQUENTIAL, 0, 0, k * M, m, &tr->b);
		mg_train_data_batch_view(&tr->b, 0, m, &v);
		if ((rc = mg_gpt_forward(tr->g, v.inputs, v.targets, v.mask, v.B, v.T, 0, 0, &l, e)))
			return rc;
		tr->stats[k] = l.sum;
		tr->stats[batches] += (double)l.count;
	}
	if ((rc = mg_comm_sum_f64(tr->comm, tr->stats, batches + 1, e)))
		return rc;
	for (uint64_t k = 0; k < batches; k++)
		sum += tr->stats[k];
	out->sum = sum;
	out->count = (uint64_t)tr->stats[batches];
	out->mean = out->count ? sum / (double)out->count : 0.0;
	return MG_OK;
}

int mg_trainer_write(const mg_trainer *tr, FILE *f, const mg_tokenizer *tk, uint32_t flags, mg_err *e)
{
	int params_only = !!(flags & MG_TRAINER_WRITE_PARAMS_ONLY);
	mg_kv config = { 0 }, train = { 0 };
	mg_ckptw *w;
	int rc;

	if ((rc = mg_gpt_config_to_kv(mg_gpt_config_of(tr->g), &config, e)) ||
	    (!params_only && (rc = mg_train_state_to_kv(&tr->st, &train, e))))
		goto done;
	if ((rc = mg_ckptw_open(&w, f, &config, tk, params_only ? NULL : &train, 1, e)))
		goto done;
	if ((rc = mg_gpt_write(tr->g, w, MG_DTYPE_F32, params_only ? 0 : MG_GPT_WRITE_MOMENTS, e))) {
		mg_ckptw_free(w);
		goto done;
	}
	rc = mg_ckptw_close(w, e);
done:
	mg_kv_free(&config);
	mg_kv_free(&train);
	return rc;
}

int mg_trainer_save(const mg_trainer *tr, const char *path, const mg_tokenizer *tk, uint32_t flags, mg_err *e)
{
	mg_outfile *of;
	int rc;

	if ((rc = mg_outfile_open(&of, path, e)))
		return rc;
	if ((rc = mg_trainer_write(tr, mg_outfile_file(of), tk, flags, e))) {
		mg_outfile_abort(of);
		return rc;
	}
	return mg_outfile_commit(of, e);
}
