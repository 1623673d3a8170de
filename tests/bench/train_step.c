/* The bench peer of train_torch.py: times one training step of the library
 * (zero_grad, forward with the config's dropout, backward, clip 1.0, AdamW)
 * on a model given by options (default MyGPT's configuration), T = block.
 * Driven by the bench scripts over stdin so the two run interleaved: each
 * input line "n" runs n steps and prints their seconds on one line; at end of
 * input it prints the loss and the peak RSS. With --check FILE it instead
 * writes the model, its parameters perturbed, to the checkpoint FILE, runs two
 * steps without dropout on a batch given by a formula and prints
 * "check LOSS1 NORM1 LOSS2" for train_torch.py --check FILE to match.
 *
 *   train_step [--batch B] [--threads N] [--dropout 0|1] [--layers L]
 *              [--heads H] [--embd C] [--block T] [--vocab V]
 *              [--attention vanilla|time-weighting|circulant] [--check FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "core/rng.h"
#include "core/threads.h"
#include "io/ckpt.h"
#include "io/kv.h"
#include "model/gpt.h"
#include "model/gpt_internal.h"

static void die(const char *what, const mg_err *e)
{
	fprintf(stderr, "train_step: %s: %s\n", what, e ? e->msg : "bad usage");
	exit(1);
}

/* The check batch, the same formula as train_torch.py's. */
static void check_batch(uint32_t *ids, uint32_t *tg, size_t n, uint32_t V)
{
	for (size_t i = 0; i < n; i++) {
		ids[i] = (uint32_t)((i * i * 31 + i * 7 + 3) % V);
		tg[i] = (uint32_t)((i * 13 + i / 5) % V);
	}
}

/* Perturbs every parameter by N(0, 0.05^2), so that LayerNorm, biases and time
 * weights leave 1 and 0, and writes the model to path. */
static void check_write(mg_gpt *g, const char *path)
{
	mg_kv kv = { 0 };
	mg_ckptw *w;
	mg_err e;
	mg_rng r;
	FILE *f;

	mg_rng_seed(&r, 99);
	for (uint32_t i = 0; i < g->n_tensors; i++)
		for (size_t k = 0; k < g->tensors[i].n; k++)
			g->params[g->tensors[i].off + k] += (float)(0.05 * mg_rng_normal(&r));
	if (mg_gpt_config_to_kv(&g->cfg, &kv, &e))
		die(path, &e);
	if (!(f = fopen(path, "wb")))
		die(path, NULL);
	if (mg_ckptw_open(&w, f, &kv, NULL, NULL, 1, &e) || mg_gpt_write(g, w, MG_DTYPE_F32, 0, &e) ||
	    mg_ckptw_close(w, &e) || fclose(f))
		die(path, &e);
	mg_kv_free(&kv);
}

int main(int argc, char **argv)
{
	uint32_t B = 16, threads = 0, dropout = 1;
	const char *check = NULL;
	mg_gpt_config c;
	mg_gpt *g;
	mg_gpt_memory mem;
	mg_gpt_adamw o;
	mg_gpt_loss loss = { 0, 0, 0 };
	mg_err e;
	mg_rng r;
	uint32_t *ids, *tg, T;
	uint64_t step = 0;
	char line[64];
	struct rusage ru;

	mg_gpt_config_default(&c);
	c.vocab_size = 65;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *s = argv[i + 1];
		uint32_t v = (uint32_t)strtoul(s, NULL, 10);
		if (!strcmp(a, "--batch"))
			B = v;
		else if (!strcmp(a, "--threads"))
			threads = v;
		else if (!strcmp(a, "--dropout"))
			dropout = v;
		else if (!strcmp(a, "--layers"))
			c.n_layer = v;
		else if (!strcmp(a, "--heads"))
			c.n_head = v;
		else if (!strcmp(a, "--embd"))
			c.n_embd = v;
		else if (!strcmp(a, "--block"))
			c.block_size = v;
		else if (!strcmp(a, "--vocab"))
			c.vocab_size = v;
		else if (!strcmp(a, "--check"))
			check = s;
		else if (!strcmp(a, "--attention")) {
			uint32_t k;
			for (k = 0; k < 3 && strcmp(s, mg_gpt_attention_name(k)); k++)
				;
			if (k == 3)
				die(s, NULL);
			c.attention = k;
		} else
			die(a, NULL);
	}
	if (argc % 2 == 0)
		die(argv[argc - 1], NULL);
	T = c.block_size;
	if (check)
		dropout = 0;
	mg_threads_set((int)threads);
	if (mg_gpt_create(&g, &c, &e))
		die("create", &e);
	mg_gpt_init_weights(g, 1337);
	if (mg_gpt_alloc(g, B, T, MG_GPT_ALLOC_TRAIN, &e))
		die("alloc", &e);
	mg_gpt_adamw_default(&o);
	ids = malloc((size_t)B * T * sizeof *ids);
	tg = malloc((size_t)B * T * sizeof *tg);
	if (!ids || !tg)
		die("batch", NULL);
	mg_rng_seed(&r, 7);
	for (size_t i = 0; i < (size_t)B * T; i++) {
		ids[i] = (uint32_t)mg_rng_below(&r, c.vocab_size);
		tg[i] = (uint32_t)mg_rng_below(&r, c.vocab_size);
	}
	if (check) {
		double norm = 0.0, l1 = 0.0;
		check_write(g, check);
		check_batch(ids, tg, (size_t)B * T, c.vocab_size);
		for (int k = 0; k < 2; k++) {
			mg_gpt_zero_grad(g);
			if (mg_gpt_forward(g, ids, tg, NULL, B, T, 0, 0, &loss, &e))
				die("forward", &e);
			mg_gpt_backward(g, 1.0f);
			if (k == 0)
				l1 = loss.mean, norm = mg_gpt_clip_grad_norm(g, 1.0);
			mg_gpt_adamw_step(g, &o, ++step);
		}
		printf("check %.7g %.7g %.7g\n", l1, norm, loss.mean);
		mg_gpt_free(g);
		free(ids), free(tg);
		return 0;
	}
	mg_gpt_memory_get(g, &mem);
	printf("ready params %llu threads %d model_bytes %llu\n", (unsigned long long)mg_gpt_n_params(&c),
	       mg_threads_get(), (unsigned long long)mem.total);
	fflush(stdout);
	while (fgets(line, sizeof line, stdin)) {
		long n = strtol(line, NULL, 10);
		for (long k = 0; k < n; k++) {
			double t0 = mg_clock_now();
			mg_gpt_zero_grad(g);
			if (mg_gpt_forward(g, ids, tg, NULL, B, T, dropout ? MG_GPT_DROPOUT : 0, step, &loss, &e))
				die("forward", &e);
			mg_gpt_backward(g, 1.0f);
			mg_gpt_clip_grad_norm(g, 1.0);
			mg_gpt_adamw_step(g, &o, ++step);
			printf("%s%.6f", k ? " " : "", mg_clock_now() - t0);
		}
		printf("\n");
		fflush(stdout);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("loss %.6f maxrss_kib %ld\n", loss.mean, ru.ru_maxrss);
	mg_gpt_free(g);
	free(ids), free(tg);
	return 0;
}
