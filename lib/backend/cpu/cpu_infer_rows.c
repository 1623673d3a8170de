/* The row copies of KV-cache inference (CPU), the table's infer_embed,
 * infer_shift and infer_gather: no arithmetic but the embedding's one add,
 * so threads change nothing but the time. */
#include <string.h>

#include "backend/cpu/cpu_infer.h"
#include "core/threads.h"

#define PAR_WORK (1u << 16) /* floats touched below which a loop runs on one thread */

void mg_cpu_infer_embed(float *out, const uint32_t *ids, const uint32_t *pos, const float *wte, const float *wpe,
			size_t N, uint32_t C)
{
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if (N * C >= PAR_WORK)
	for (size_t i = 0; i < N; i++) {
		const float *te = wte + (size_t)ids[i] * C;
		const float *pe = wpe ? wpe + (size_t)pos[i] * C : NULL;
		float *o = out + i * C;
		for (uint32_t k = 0; k < C; k++)
			o[k] = pe ? te[k] + pe[k] : te[k];
	}
}

void mg_cpu_infer_shift(float *xa, const float *xn, float *last, const uint32_t *seq, const uint32_t *pos, size_t N,
			uint32_t C)
{
	uint32_t half = C / 2;

	for (size_t i = 0; i < N; i++) {
		float *d = xa + i * C;
		const float *prev = pos[i] == 0			       ? NULL
				    : i > 0 && seq[i - 1] == seq[i] ? xn + (i - 1) * C
								    : last + (size_t)seq[i] * half;
		if (prev)
			memcpy(d, prev, half * sizeof *d);
		else
			memset(d, 0, half * sizeof *d);
		memcpy(d + half, xn + i * C + half, (C - half) * sizeof *d);
	}
	for (size_t i = 0; i < N; i++)
		if (i + 1 == N || seq[i + 1] != seq[i])
			memcpy(last + (size_t)seq[i] * half, xn + i * C, half * sizeof *last);
}

void mg_cpu_infer_gather(float *x, const uint32_t *list, size_t M, uint32_t C)
{
	for (size_t k = 0; k < M; k++)
		if (list[k] != k)
			memcpy(x + k * C, x + (size_t)list[k] * C, C * sizeof *x);
}
