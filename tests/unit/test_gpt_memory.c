/* The memory of a run stated before it is allocated (model/gpt_memory.h):
 * the counts equal what mg_gpt_alloc then holds, the inference estimate is
 * within 10% of the engine's, the process limits lower what is available,
 * and a run that does not fit is refused with how much and why. */
#include "check.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "infer/infer.h"
#include "model/gpt_memory.h"

static void config(mg_gpt_config *c, uint32_t L, uint32_t H, uint32_t C, uint32_t T, uint32_t V, int shift,
		   uint32_t attn)
{
	mg_gpt_config_default(c);
	c->n_layer = L, c->n_head = H, c->n_embd = C, c->block_size = T, c->vocab_size = V;
	c->time_shift = (uint32_t)shift;
	c->attention = attn;
}

static void check_train(const mg_gpt_config *c, uint32_t B, uint32_t T, uint32_t flags)
{
	mg_gpt_memory want, add, got;
	mg_gpt *g;
	mg_err e;

	CHECK_EQ(mg_gpt_memory_train(c, B, T, flags, &want, &e), MG_OK);
	CHECK_EQ(mg_gpt_create(&g, c, &e), MG_OK);
	mg_gpt_memory_alloc(g, B, T, flags, &add);
	CHECK_EQ(add.params, 0);
	CHECK_EQ(add.total, want.total - want.params);
	CHECK_EQ(mg_gpt_alloc(g, B, T, flags, &e), MG_OK);
	mg_gpt_memory_get(g, &got);
	CHECK_EQ(got.params, want.params);
	CHECK_EQ(got.grads, want.grads);
	CHECK_EQ(got.moments, want.moments);
	CHECK_EQ(got.activations, want.activations);
	/* scratch: the backend's context on top, the host losses (B x T
	 * floats) not in mg_gpt_memory_get */
	CHECK(got.scratch + 4ull * B * T >= want.scratch);
	/* with the buffers there, only the new shape is counted */
	mg_gpt_memory_alloc(g, B, T, flags, &add);
	CHECK_EQ(add.grads + add.moments, 0);
	mg_gpt_free(g);
}

static void check_infer(const mg_gpt_config *c, uint32_t n_seq)
{
	mg_gpt_memory want;
	mg_infer *inf;
	mg_gpt *g;
	mg_err e;

	mg_gpt_memory_infer(c, n_seq, &want);
	CHECK_EQ(mg_gpt_create(&g, c, &e), MG_OK);
	CHECK_EQ(mg_infer_init(&inf, g, n_seq, c->block_size, &e), MG_OK);
	CHECK_CLOSE((double)want.total, (double)mg_infer_bytes(inf), 0.1);
	mg_infer_free(inf);
	mg_gpt_free(g);
}

/* In a child, so that the limit does not stay: RLIMIT_DATA 64 MiB above
 * what the process has leaves at most that much. */
static void check_limit(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		unsigned long long size, rss, shared, text, lib, data;
		FILE *f = fopen("/proc/self/statm", "r");
		struct rlimit rl;
		uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), avail;
		if (!f || fscanf(f, "%llu %llu %llu %llu %llu %llu", &size, &rss, &shared, &text, &lib, &data) != 6)
			_exit(2);
		fclose(f);
		rl.rlim_cur = rl.rlim_max = data * page + (64u << 20);
		if (setrlimit(RLIMIT_DATA, &rl))
			_exit(3);
		avail = mg_gpt_memory_available();
		_exit(avail <= (64u << 20) ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void check_refusal(void)
{
	mg_gpt_memory m;
	mg_gpt_config c;
	mg_err e;
	const char *tail = " GB available";

	CHECK(mg_gpt_memory_available() > 0);
	memset(&m, 0, sizeof m);
	CHECK_EQ(mg_gpt_memory_check(&m, &e), MG_OK);
	/* gpt-init --embd 512 --vocab 16777216: wte and lm_head, 2 x 2^24 x 512 floats */
	config(&c, 1, 8, 512, 128, 16777216, 0, MG_ATTN_VANILLA);
	CHECK_EQ(mg_gpt_memory_train(&c, 0, 0, 0, &m, &e), MG_OK);
	CHECK_EQ(m.total, m.params);
	CHECK(m.params >= 4ull * 2 * 16777216 * 512);
	m.params = m.total = 1000000000000000ull; /* a petabyte: over any machine */
	CHECK_EQ(mg_gpt_memory_check(&m, &e), MG_E_NOMEM);
	CHECK(!strncmp(e.msg, "needs 1000000.0 GB for parameters, ", 35));
	CHECK(strlen(e.msg) > strlen(tail) && !strcmp(e.msg + strlen(e.msg) - strlen(tail), tail));
	m.activations = 900000000000000ull;
	m.params = 100000000000000ull;
	CHECK_EQ(mg_gpt_memory_check(&m, &e), MG_E_NOMEM);
	CHECK(!strncmp(e.msg, "needs 1000000.0 GB (900000.0 GB for activations), ", 50));
}

int main(void)
{
	mg_gpt_config c;

	config(&c, 2, 4, 32, 16, 50, 0, MG_ATTN_VANILLA);
	check_train(&c, 3, 16, MG_GPT_ALLOC_TRAIN);
	check_train(&c, 5, 7, 0);
	config(&c, 3, 2, 16, 12, 11, 1, MG_ATTN_TIME_WEIGHTING);
	check_train(&c, 2, 12, MG_GPT_ALLOC_TRAIN);
	check_train(&c, 1, 1, 0);
	config(&c, 2, 4, 32, 16, 50, 0, MG_ATTN_VANILLA);
	check_infer(&c, 1);
	check_infer(&c, 4);
	config(&c, 1, 8, 256, 64, 1000, 1, MG_ATTN_TIME_WEIGHTING);
	check_infer(&c, 3);
	check_limit();
	check_refusal();
	CHECK_DONE();
}
