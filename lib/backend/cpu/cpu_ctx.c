/* The CPU backend's context: the scratch tiles of its threads, sized here
 * from the shapes a user will run, so the model and the inference engine
 * never size CPU tiles. */
#include <stdlib.h>

#include "backend/cpu/cpu.h"
#include "core/threads.h"

/* Floats one thread needs: cpu_attention.c's six (T, hs) matrices and two
 * tiles of MG_CPU_ATTN_ROWS x T for a (sequence, head) pair, and
 * cpu_infer_attention.c's scores of one query against a cache of block
 * positions rounded up to 8 (a vector). */
static size_t tile_floats(const mg_backend_attn *max)
{
	size_t T = max->T, hs = max->C / max->H, rows = T < MG_CPU_ATTN_ROWS ? T : MG_CPU_ATTN_ROWS;
	size_t train = (6 * hs + 2 * rows) * T, cached = ((size_t)max->block + 7) / 8 * 8;

	return train > cached ? train : cached;
}

mg_backend_ctx *mg_cpu_ctx_create(const mg_backend_attn *max, uint64_t *bytes)
{
	mg_backend_ctx *ctx = calloc(1, sizeof *ctx);
	int t = mg_threads_get() > mg_threads_available() ? mg_threads_get() : mg_threads_available();

	*bytes = 0;
	if (!ctx)
		return NULL;
	ctx->threads = (uint32_t)t;
	ctx->tile = tile_floats(max);
	ctx->scratch = mg_backend_cpu()->alloc(ctx->threads * ctx->tile * sizeof(float));
	if (!ctx->scratch) {
		free(ctx);
		return NULL;
	}
	*bytes = (uint64_t)ctx->threads * ctx->tile * sizeof(float);
	return ctx;
}

void mg_cpu_ctx_free(mg_backend_ctx *ctx)
{
	if (!ctx)
		return;
	mg_backend_cpu()->free(ctx->scratch);
	free(ctx);
}

int mg_cpu_ctx_threads(const mg_backend_ctx *ctx)
{
	return mg_threads_get() < (int)ctx->threads ? mg_threads_get() : (int)ctx->threads;
}
