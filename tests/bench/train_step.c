/* The bench peer of train_torch.py: times one training step of the library
 * (zero_grad, forward with the config's dropout, backward, clip 1.0, AdamW)
 * on MyGPT's configuration. Driven by bench-train.sh over stdin so the two run
 * interleaved: each input line "n" runs n steps and prints their seconds on
 * one line; at end of input it prints the loss and the peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "core/rng.h"
#include "core/threads.h"
#include "model/gpt.h"

static void die(const char *what, const mg_err *e)
{
	fprintf(stderr, "train_step: %s: %s\n", what, e ? e->msg : "bad usage");
	exit(1);
}

int main(int argc, char **argv)
{
	uint32_t B = 16, T = 128, threads = 0, dropout = 1;
	mg_gpt_config c;
	mg_gpt *g;
	mg_gpt_memory mem;
	mg_gpt_adamw o;
	mg_gpt_loss loss = { 0, 0, 0 };
	mg_err e;
	mg_rng r;
	uint32_t *ids, *tg;
	uint64_t step = 0;
	char line[64];
	struct rusage ru;

	for (int i = 1; i + 1 < argc; i += 2) {
		uint32_t v = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		if (!strcmp(argv[i], "--batch"))
			B = v;
		else if (!strcmp(argv[i], "--threads"))
			threads = v;
		else if (!strcmp(argv[i], "--dropout"))
			dropout = v;
		else
			die(argv[i], NULL);
	}
	mg_threads_set((int)threads);
	mg_gpt_config_default(&c);
	c.vocab_size = 65;
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
