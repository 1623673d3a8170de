/* The CPU kernels of KV-cache inference, the table's infer_* entries
 * (contracts in lib/backend/backend.h): the packed Linear layer
 * (cpu_infer.c), attention of new rows against the cache
 * (cpu_infer_attention.c) and the row copies (cpu_infer_rows.c). */
#ifndef MG_CPU_INFER_H
#define MG_CPU_INFER_H

#include "backend/backend.h"

size_t mg_cpu_infer_pack_bytes(uint32_t dtype, uint32_t OC, uint32_t IC);
void mg_cpu_infer_pack(void *dst, const void *w, uint32_t dtype, uint32_t OC, uint32_t IC);
void mg_cpu_infer_matmul(float *out, const float *inp, const void *wp, uint32_t dtype, const float *bias, size_t N,
			 uint32_t IC, uint32_t OC, int add);

void mg_cpu_infer_embed(float *out, const uint32_t *ids, const uint32_t *pos, const float *wte, const float *wpe,
			size_t N, uint32_t C);
void mg_cpu_infer_shift(float *xa, const float *xn, float *last, const uint32_t *seq, const uint32_t *pos, size_t N,
			uint32_t C);
void mg_cpu_infer_gather(float *x, const uint32_t *list, size_t M, uint32_t C);

size_t mg_cpu_infer_kv_floats(uint32_t n_seq, const mg_backend_attn *a);
void mg_cpu_infer_attention(mg_backend_ctx *ctx, float *y, float *kv, const float *qkv, const uint32_t *seq,
			    const uint32_t *pos, size_t N, const uint32_t *list, size_t M, const mg_backend_attn *a);

#endif
