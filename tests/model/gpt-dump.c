/* gpt-dump: runs training steps of the C model on a checkpoint and dumps
 * everything for tests/model/torch_ref.py to compare with PyTorch: the batch,
 * the first step's logits, loss and gradients, and the parameters and AdamW
 * moments after the last step. A test driver, not a tool.
 *
 * usage: gpt-dump in.ckpt out.ckpt B T seed [options]
 *   --steps n         training steps on the same batch (default 1)
 *   --clip x          clip the gradient norm at x (default 1)
 *   --lr x, --wd x    AdamW learning rate (1e-3) and weight decay (0.1)
 *   --dropout seed    apply the config's dropout with this step seed
 *   --no-mask         every target counts (no mask)
 *   --perturb seed    add N(0, 0.25^2) noise to every parameter first, so that
 *                     LayerNorm, biases and time weights leave their special
 *                     initial values; the result is dumped as dump.init.NAME
 *   --threads n       library threads (default 2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "io/ckpt.h"
#include "model/gpt_internal.h"

static void die(const char *what, const mg_err *e)
{
	fprintf(stderr, "gpt-dump: %s: %s\n", what, e ? e->msg : "failed");
	exit(1);
}

static float *to_float_u32(const uint32_t *x, size_t n)
{
	float *f = malloc(n * sizeof *f);
	for (size_t i = 0; i < n; i++)
		f[i] = (float)x[i];
	return f;
}

int main(int argc, char **argv)
{
	const char *in, *out;
	uint32_t B, T, steps = 1, dims[3];
	uint64_t seed, dseed = 0, pseed = 0;
	int dropout = 0, masked = 1, perturb = 0;
	mg_gpt_adamw o;
	double clip = 1.0;
	mg_ckpt ck;
	mg_gpt *g;
	mg_err e;
	mg_kv train = { 0 };
	mg_ckptw *w;
	FILE *f;
	uint32_t *ids, *tg;
	uint8_t *mask;
	float *grads = NULL, *logits = NULL, *init = NULL, *tmp;
	mg_rng r;
	size_t N;
	const mg_gpt_config *c;

	if (argc < 6) {
		fprintf(stderr, "usage: gpt-dump in.ckpt out.ckpt B T seed [--steps n] [--clip x] [--lr x] [--wd x] "
				"[--dropout seed] [--no-mask] [--threads n]\n");
		return 2;
	}
	in = argv[1], out = argv[2];
	B = (uint32_t)atoi(argv[3]), T = (uint32_t)atoi(argv[4]), seed = strtoull(argv[5], NULL, 10);
	mg_gpt_adamw_default(&o);
	o.lr = 1e-3;
	mg_threads_set(2);
	for (int i = 6; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
		if (!strcmp(a, "--no-mask")) {
			masked = 0;
			continue;
		}
		i++;
		if (!strcmp(a, "--steps"))
			steps = (uint32_t)atoi(v);
		else if (!strcmp(a, "--clip"))
			clip = atof(v);
		else if (!strcmp(a, "--lr"))
			o.lr = atof(v);
		else if (!strcmp(a, "--wd"))
			o.weight_decay = atof(v);
		else if (!strcmp(a, "--perturb"))
			perturb = 1, pseed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--dropout"))
			dropout = 1, dseed = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--threads"))
			mg_threads_set(atoi(v));
		else {
			fprintf(stderr, "gpt-dump: unknown option %s\n", a);
			return 2;
		}
	}
	if (!(f = fopen(in, "rb")) || mg_ckpt_read(f, &ck, &e))
		die(in, f ? &e : NULL);
	fclose(f);
	if (mg_gpt_load(&g, &ck, &e) || mg_gpt_alloc(g, B, T, MG_GPT_ALLOC_TRAIN, &e))
		die(in, &e);
	c = mg_gpt_config_of(g);
	N = (size_t)B * T;
	if (perturb) {
		mg_rng_seed(&r, pseed);
		for (uint32_t i = 0; i < g->n_tensors; i++)
			for (size_t k = 0; k < g->tensors[i].n; k++)
				g->params[g->tensors[i].off + k] += (float)(0.25 * mg_rng_normal(&r));
		init = malloc(g->n_floats * 4);
		memcpy(init, g->params, g->n_floats * 4);
	}

	/* the batch: random ids and targets, a random mask with at least one 1 */
	ids = malloc(N * 4), tg = malloc(N * 4), mask = malloc(N);
	mg_rng_seed(&r, seed);
	for (size_t i = 0; i < N; i++) {
		ids[i] = (uint32_t)mg_rng_below(&r, c->vocab_size);
		tg[i] = (uint32_t)mg_rng_below(&r, c->vocab_size);
		mask[i] = (uint8_t)(mg_rng_below(&r, 4) != 0);
	}
	mask[N - 1] = 1;

	for (uint32_t s = 1; s <= steps; s++) {
		mg_gpt_loss l;
		double norm;
		char key[64];

		if (mg_gpt_forward(g, ids, tg, masked ? mask : NULL, B, T, dropout ? MG_GPT_DROPOUT : 0, dseed + s - 1, &l, &e))
			die("forward", &e);
		if (s == 1)
			logits = malloc(N * c->vocab_size * 4), memcpy(logits, mg_gpt_logits(g), N * c->vocab_size * 4);
		mg_gpt_zero_grad(g);
		mg_gpt_backward(g, 1.0f);
		if (s == 1)
			grads = malloc(g->n_floats * 4), memcpy(grads, g->grads, g->n_floats * 4);
		norm = mg_gpt_clip_grad_norm(g, clip);
		mg_gpt_adamw_step(g, &o, s);
		snprintf(key, sizeof key, "dump.loss.%u", s);
		mg_kv_set_float(&train, key, l.mean);
		snprintf(key, sizeof key, "dump.norm.%u", s);
		mg_kv_set_float(&train, key, norm);
		if (s == 1)
			mg_kv_set_int(&train, "dump.count", (int64_t)l.count);
	}
	mg_kv_set_int(&train, "dump.steps", steps);

	if (!(f = fopen(out, "wb")))
		die(out, NULL);
	/* the dumped tensors first: all parameters (role 0) precede the moments */
	if (mg_ckptw_open(&w, f, &ck.config, NULL, &train, 1, &e))
		die(out, &e);
	dims[0] = B, dims[1] = T, dims[2] = c->vocab_size;
	tmp = to_float_u32(ids, N);
	if (mg_ckptw_tensor(w, "dump.ids", 0, MG_DTYPE_F32, 2, dims, tmp, &e))
		die(out, &e);
	free(tmp);
	tmp = to_float_u32(tg, N);
	if (mg_ckptw_tensor(w, "dump.targets", 0, MG_DTYPE_F32, 2, dims, tmp, &e))
		die(out, &e);
	for (size_t i = 0; i < N; i++)
		tmp[i] = masked ? mask[i] : 1.0f;
	if (mg_ckptw_tensor(w, "dump.mask", 0, MG_DTYPE_F32, 2, dims, tmp, &e))
		die(out, &e);
	free(tmp);
	if (mg_ckptw_tensor(w, "dump.logits", 0, MG_DTYPE_F32, 3, dims, logits, &e))
		die(out, &e);
	for (int kind = 0; kind < 2; kind++)
		for (uint32_t i = 0; i < g->n_tensors && (kind == 0 || init); i++) {
			const mg_gpt_tensor *t = &g->tensors[i];
			char name[2 * MG_TENSOR_NAME_MAX];
			/* over 63 bytes: the writer refuses it */
			snprintf(name, sizeof name, "dump.%s.%s", kind ? "init" : "grad", t->name);
			if (mg_ckptw_tensor(w, name, 0, MG_DTYPE_F32, t->ndim, t->dims, (kind ? init : grads) + t->off, &e))
				die(out, &e);
		}
	if (mg_gpt_write(g, w, MG_DTYPE_F32, MG_GPT_WRITE_MOMENTS, &e) || mg_ckptw_close(w, &e) || fclose(f))
		die(out, &e);
	mg_kv_free(&train);
	mg_ckpt_free(&ck);
	mg_gpt_free(g);
	free(ids), free(tg), free(mask), free(grads), free(logits), free(init);
	return 0;
}
