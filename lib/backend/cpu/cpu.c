/* The CPU backend: host memory, the context of cpu_ctx.c and the kernels of
 * lib/backend/cpu/cpu_*.c as the table of lib/backend/backend.h. */
#define _DEFAULT_SOURCE /* madvise */
#include "backend/cpu/cpu.h"
#include "backend/cpu/cpu_infer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Buffers of at least HUGE_PAGE bytes are aligned to it and offered to the
 * kernel for transparent huge pages: the products and passes over the
 * activations then miss the TLB far less. */
#define HUGE_PAGE ((size_t)2 << 20)

static void *cpu_alloc(size_t bytes)
{
	size_t align = bytes >= HUGE_PAGE ? HUGE_PAGE : 64;
	size_t n = (bytes + align - 1) / align * align; /* aligned_alloc wants a multiple of the alignment */
	void *p = aligned_alloc(align, n ? n : align);

	if (p && align == HUGE_PAGE)
		madvise(p, n, MADV_HUGEPAGE); /* advice only: failure changes nothing */
	if (p)
		memset(p, 0, n);
	return p;
}

static void cpu_free(void *p) { free(p); }
static void cpu_copy(void *dst, const void *src, size_t bytes)
{
	if (bytes)
		memcpy(dst, src, bytes);
}

static const mg_backend cpu = {
	.name = "cpu",
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_copy,
	.download = cpu_copy,
	.zero = mg_cpu_zero,
	.scale = mg_cpu_scale,
	.sum_squares = mg_cpu_sum_squares,
	.embed_forward = mg_cpu_embed_forward,
	.embed_backward = mg_cpu_embed_backward,
	.layernorm_forward = mg_cpu_layernorm_forward,
	.layernorm_backward = mg_cpu_layernorm_backward,
	.shift_forward = mg_cpu_shift_forward,
	.shift_backward = mg_cpu_shift_backward,
	.matmul_forward = mg_cpu_matmul_forward,
	.matmul_backward = mg_cpu_matmul_backward,
	.ctx_create = mg_cpu_ctx_create,
	.ctx_free = mg_cpu_ctx_free,
	.attention_forward = mg_cpu_attention_forward,
	.attention_backward = mg_cpu_attention_backward,
	.gelu_forward = mg_cpu_gelu_forward,
	.gelu_backward = mg_cpu_gelu_backward,
	.residual_forward = mg_cpu_residual_forward,
	.dropout_backward = mg_cpu_dropout_backward,
	.crossentropy_forward = mg_cpu_crossentropy_forward,
	.crossentropy_backward = mg_cpu_crossentropy_backward,
	.adamw_update = mg_cpu_adamw_update,
	.infer_pack_bytes = mg_cpu_infer_pack_bytes,
	.infer_pack = mg_cpu_infer_pack,
	.infer_matmul = mg_cpu_infer_matmul,
	.infer_embed = mg_cpu_infer_embed,
	.infer_shift = mg_cpu_infer_shift,
	.infer_gather = mg_cpu_infer_gather,
	.infer_kv_floats = mg_cpu_infer_kv_floats,
	.infer_attention = mg_cpu_infer_attention,
};

const mg_backend *mg_backend_cpu(void) { return &cpu; }
