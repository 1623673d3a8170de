/* The memory of a run before it is allocated: the sizes of mg_gpt_create,
 * mg_gpt_alloc (gpt_step.c) and the inference engine (lib/infer/infer.c)
 * counted from the configuration, and the memory the system and the
 * process limits leave. */
#include "model/gpt_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/gpt_internal.h"

/* Floats of one flat parameter buffer (with the layout's padding). */
static int param_floats(const mg_gpt_config *c, uint64_t *n, mg_err *e)
{
	mg_gpt g;
	int rc;

	memset(&g, 0, sizeof g);
	g.cfg = *c;
	rc = mg_gpt_layout(&g, e);
	*n = rc ? 0 : g.n_floats;
	free(g.tensors);
	free(g.blocks);
	free(g.lin);
	return rc;
}

/* The buffers of mg_gpt_alloc(B, T, flags), as it grabs them (gpt_step.c):
 * per block (every block when training, one shared when not), the final
 * LayerNorm and head, the ids, targets and mask, and the backward scratch. */
static void batch_bytes(const mg_gpt_config *c, uint32_t B, uint32_t T, int train, uint64_t *acts,
			uint64_t *scratch)
{
	uint64_t C = c->n_embd, H = c->n_head, V = c->vocab_size, N = (uint64_t)B * T, att = (uint64_t)B * H * T * T;
	uint64_t block = 4 * (16 * N * C + 4 * N + att); /* res xa qkv y mid xm fc gelu; 2 LayerNorms' stats; probs */
	uint64_t layers = train ? c->n_layer : 1;

	*acts = layers * block + (train ? 4 * N * C : 0) /* res_final */
		+ 4 * (2 * N * C + 2 * N) /* proj, lnf, its stats */
		+ 4 * N * V + 4 * 3 * N + N; /* logits, losses, ids, targets; mask */
	*scratch = N * sizeof(float) /* host copy of the losses */
		   + (train ? 4 * (10 * N * C + att) : 0); /* dres dc1 dc2 dc3 dc4 datt */
}

static void sum(mg_gpt_memory *m) { m->total = m->params + m->grads + m->moments + m->activations + m->scratch; }

int mg_gpt_memory_train(const mg_gpt_config *c, uint32_t B, uint32_t T, uint32_t flags, mg_gpt_memory *m, mg_err *e)
{
	uint64_t n;
	int rc;

	memset(m, 0, sizeof *m);
	if ((rc = param_floats(c, &n, e)))
		return rc;
	m->params = n * sizeof(float);
	if (flags & MG_GPT_ALLOC_TRAIN) {
		m->grads = m->params;
		m->moments = 2 * m->params;
	}
	if (B && T)
		batch_bytes(c, B, T, !!(flags & MG_GPT_ALLOC_TRAIN), &m->activations, &m->scratch);
	sum(m);
	return MG_OK;
}

void mg_gpt_memory_alloc(const mg_gpt *g, uint32_t B, uint32_t T, uint32_t flags, mg_gpt_memory *m)
{
	uint64_t tensor = (uint64_t)g->n_floats * sizeof(float);

	memset(m, 0, sizeof *m);
	if (flags & MG_GPT_ALLOC_TRAIN) {
		m->grads = g->grads ? 0 : tensor;
		m->moments = g->m ? 0 : 2 * tensor;
	}
	batch_bytes(&g->cfg, B, T, !!(flags & MG_GPT_ALLOC_TRAIN), &m->activations, &m->scratch);
	sum(m);
}

/* The chunk rows of the engine: CHUNK_ROWS (256) or n_seq if more, at most
 * every position of every sequence (lib/infer/infer.c). */
void mg_gpt_memory_infer(const mg_gpt_config *c, uint32_t n_seq, mg_gpt_memory *m)
{
	uint64_t C = c->n_embd, T = c->block_size, V = c->vocab_size, L = c->n_layer, S = n_seq;
	uint64_t R = S > 256 ? S : 256, out;

	if (R > S * T)
		R = S * T;
	out = S < R ? S : R;
	memset(m, 0, sizeof *m);
	m->params = 4 * mg_gpt_n_params(c);
	m->activations = 4 * (L * S * 2 * T * C                   /* keys and values */
			      + (c->time_shift ? L * S * (C / 2) : 0) /* the shifted halves */
			      + S * T + S * V + out * V);             /* ring of ids, logits */
	m->scratch = 4 * R * (9 * C + (c->time_shift ? C : 0) + 8) + R; /* x xn qkv y fc (xa), row tables */
	sum(m);
}

/* A number from /proc (the first after key in a "key value" file), or 0. */
static uint64_t proc_value(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);

	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, key, kl) && sscanf(line + kl, "%llu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t mg_gpt_memory_available(void)
{
	uint64_t avail = UINT64_MAX, page = (uint64_t)sysconf(_SC_PAGESIZE), kb;
	unsigned long long size = 0, rss, shared, text, lib, data = 0;
	struct rlimit rl;
	FILE *f;

	if ((kb = proc_value("/proc/meminfo", "MemAvailable:")))
		avail = kb * 1024;
	else if (sysconf(_SC_AVPHYS_PAGES) > 0)
		avail = (uint64_t)sysconf(_SC_AVPHYS_PAGES) * page;
	/* statm: sizes in pages: total, resident, shared, text, lib, data */
	if ((f = fopen("/proc/self/statm", "r"))) {
		if (fscanf(f, "%llu %llu %llu %llu %llu %llu", &size, &rss, &shared, &text, &lib, &data) != 6)
			size = data = 0;
		fclose(f);
	}
	if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		avail = min64(avail, rl.rlim_cur > size * page ? rl.rlim_cur - size * page : 0);
	if (getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		avail = min64(avail, rl.rlim_cur > data * page ? rl.rlim_cur - data * page : 0);
	return avail;
}

int mg_gpt_memory_check(const mg_gpt_memory *m, mg_err *e)
{
	const uint64_t parts[] = { m->params, m->grads, m->moments, m->activations, m->scratch };
	static const char *const names[] = { "parameters", "gradients", "AdamW moments", "activations", "scratch" };
	uint64_t avail = mg_gpt_memory_available();
	int big = 0;

	if (m->total <= avail)
		return MG_OK;
	for (int i = 1; i < 5; i++)
		if (parts[i] > parts[big])
			big = i;
	if (parts[big] == m->total)
		return mg_err_set(e, MG_E_NOMEM, "needs %.1f GB for %s, %.1f GB available", (double)m->total / 1e9,
				  names[big], (double)avail / 1e9);
	return mg_err_set(e, MG_E_NOMEM, "needs %.1f GB (%.1f GB for %s), %.1f GB available", (double)m->total / 1e9,
			  (double)parts[big] / 1e9, names[big], (double)avail / 1e9);
}
