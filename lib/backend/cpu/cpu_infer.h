/* The CPU kernels of KV-cache inference (lib/infer/infer.c): a Linear layer
 * over weights packed for row-at-a-time decoding, and causal attention of
 * new rows against a cache. Every output element is computed by one thread
 * in one fixed order, so results never depend on the thread count, on how
 * many rows a call has, or on where a row sits in it. */
#ifndef MG_CPU_INFER_H
#define MG_CPU_INFER_H

#include <stddef.h>
#include <stdint.h>

/* Width of a panel: the packed layout keeps 16 consecutive outputs (two
 * 8-float vectors) of every input channel together. */
#define MG_PANEL 16

/* A weight matrix w (OC,IC), PyTorch's Linear layout, repacked as panels:
 * panel p holds outputs 16p..16p+15 as (IC,16), so element (o,k) is at
 * p[(o/16) IC 16 + k 16 + o%16]; outputs past OC are zeros. */
typedef struct mg_packed {
	float *p; /* panels * IC * 16 floats, 64-byte aligned, owned by the caller */
	uint32_t IC, OC, panels;
} mg_packed;

/* Floats the packed form of an (OC,IC) matrix takes. */
size_t mg_packed_floats(uint32_t OC, uint32_t IC);
/* Fills pk (whose p points to mg_packed_floats(OC, IC) floats) from w. */
void mg_packed_fill(mg_packed *pk, float *mem, const float *w, uint32_t OC, uint32_t IC);

/* out (R,OC) = x (R,IC) w^T + bias (bias may be NULL), or with add
 * out += x w^T + bias (a residual connection). Rows are ldx and ldo floats
 * apart; out does not overlap x. Each element is sum over k = 0..IC-1 in
 * order, one fused multiply-add per k, then + bias, then added to out, on
 * the library's threads (split by panels). */
void mg_packed_matmul(float *out, size_t ldo, const float *x, size_t ldx, size_t R, const mg_packed *w,
		      const float *bias, int add);

/* The attention cache of one layer of one sequence: keys transposed per
 * head, kt (H, hs, Tp) with Tp = block rounded up to 8, so the scores of 8
 * positions are one vector; values v (block, C). */
typedef struct mg_kv_view {
	float *kt, *v;
} mg_kv_view;

/* Time weighting of one layer (see mg_attn in backend.h). */
typedef struct mg_attn_cache {
	uint32_t C, H, block, Tp;
	uint32_t variant;         /* MG_ATTN_* */
	const float *tw;          /* (H, block, block) */
	const float *tw_w, *tw_b; /* (H, block) */
} mg_attn_cache;

/* One row's attention for every head: the row's query q (C floats, head h
 * at h*hs) at window position pos attends to cache positions 0..pos, which
 * must hold keys and values; y (C) = sum_j P[j] W[pos,j] v_j, P the softmax
 * of q.k_j/sqrt(hs) over j <= pos. scratch: at least Tp floats. Single
 * threaded: the caller spreads (row, head) pairs over threads. */
void mg_attend_head(float *y, const float *q, uint32_t h, uint32_t pos, mg_kv_view kv, const mg_attn_cache *a,
		    float *scratch);

#endif
