/* Attention of new rows against the KV cache (CPU), the table's
 * infer_attention: for a query at window position i, S[j] = (q . k_j) /
 * sqrt(hs) for j <= i, P = softmax(S), y = sum_j P[j] W[i,j] v_j, W the
 * time weights (mg_cpu_time_weight), as cpu_attention.c. Keys are stored
 * transposed per head (hs, Tp) so 8 scores are one vector accumulated over
 * the channels in order; the exponentials are vmath.h's; y is accumulated
 * over positions in order, 8 channels per vector. Threads split the (row,
 * head) pairs, each on its own tile of the context (cpu_ctx.c): every
 * element is computed by one thread in one fixed order. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/cpu_infer.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

#define MG_SIMD MG_VMATH_AVX2
#define PAR_WORK (1u << 16) /* floats touched below which a loop runs on one thread */

/* The cache of one sequence in one layer: keys transposed per head, kt
 * (H, hs, Tp) with Tp = block rounded up to 8, so the scores of 8
 * positions are one vector; values v (block, C). A layer's cache is n_seq
 * of these in a row. */
typedef struct kv_view {
	float *kt, *v;
} kv_view;

static uint32_t padded(uint32_t block) { return (block + 7) / 8 * 8; }
static size_t seq_floats(const mg_backend_attn *a) { return (size_t)a->C * padded(a->block) + (size_t)a->block * a->C; }

size_t mg_cpu_infer_kv_floats(uint32_t n_seq, const mg_backend_attn *a) { return n_seq * seq_floats(a); }

static kv_view view(float *kv, uint32_t s, const mg_backend_attn *a)
{
	kv_view w;

	w.kt = kv + s * seq_floats(a);
	w.v = w.kt + (size_t)a->C * padded(a->block);
	return w;
}

/* s[j] = q . k_j for j in [j0, j0 + 8 nb), each a sum over the channels in
 * order. */
static inline void scores(float *s, const float *q, const float *kt, uint32_t hs, uint32_t Tp, uint32_t j0, int nb)
{
#if MG_SIMD
	__m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
	for (uint32_t c = 0; c < hs; c++) {
		__m256 qb = _mm256_broadcast_ss(q + c);
		for (int b = 0; b < nb; b++)
			acc[b] = _mm256_fmadd_ps(qb, _mm256_loadu_ps(kt + (size_t)c * Tp + j0 + 8 * b), acc[b]);
	}
	for (int b = 0; b < nb; b++)
		_mm256_storeu_ps(s + j0 + 8 * b, acc[b]);
#else
	for (int b = 0; b < 8 * nb; b++) {
		float t = 0.0f;
		for (uint32_t c = 0; c < hs; c++)
			t = fmaf(q[c], kt[(size_t)c * Tp + j0 + b], t);
		s[j0 + b] = t;
	}
#endif
}

/* One row's attention for head h: the row's query q (C floats, head h at
 * h*hs) at window position pos against cache positions 0..pos; y (C), head
 * h's channels written. s: Tp floats. */
static void attend_head(float *y, const float *q, uint32_t h, uint32_t pos, kv_view kv, const mg_backend_attn *a,
			uint32_t Tp, float *s)
{
	uint32_t C = a->C, hs = C / a->H, n = pos + 1, j0 = 0;
	const float *kt = kv.kt + (size_t)h * hs * Tp, *qh = q + (size_t)h * hs;
	float scale = 1.0f / sqrtf((float)hs), mx = -INFINITY, sum = 0.0f;
	float *yh = y + (size_t)h * hs;
	uint32_t c = 0;

	/* scores for blocks of 8 positions; the last block may read past pos
	 * into cache slots whose values are ignored */
	for (; j0 + 32 <= n; j0 += 32)
		scores(s, qh, kt, hs, Tp, j0, 4);
	for (; j0 < n; j0 += 8)
		scores(s, qh, kt, hs, Tp, j0, 1);
	for (uint32_t j = 0; j < n; j++) {
		s[j] *= scale;
		mx = s[j] > mx ? s[j] : mx;
	}
#if MG_SIMD
	/* exp 8 at a time (vmath.h, about 1 ulp); the lanes past pos hold
	 * scores of stale cache slots, computed and ignored */
	for (uint32_t j = 0; j < n; j += 8)
		_mm256_storeu_ps(s + j, mg_v8_exp(_mm256_sub_ps(_mm256_loadu_ps(s + j), _mm256_set1_ps(mx))));
	for (uint32_t j = 0; j < n; j++)
		sum += s[j];
#else
	for (uint32_t j = 0; j < n; j++) {
		s[j] = expf(s[j] - mx);
		sum += s[j];
	}
#endif
	for (uint32_t j = 0; j < n; j++)
		s[j] = s[j] / sum * mg_cpu_time_weight(a, h, pos, j);
	/* y = sum_j s[j] v_j, in order of j */
#if MG_SIMD
	for (; c + 64 <= hs; c += 64) {
		__m256 acc[8];
		for (int b = 0; b < 8; b++)
			acc[b] = _mm256_setzero_ps();
		for (uint32_t j = 0; j < n; j++) {
			__m256 sb = _mm256_broadcast_ss(s + j);
			const float *v = kv.v + (size_t)j * C + (size_t)h * hs + c;
			for (int b = 0; b < 8; b++)
				acc[b] = _mm256_fmadd_ps(sb, _mm256_loadu_ps(v + 8 * b), acc[b]);
		}
		for (int b = 0; b < 8; b++)
			_mm256_storeu_ps(yh + c + 8 * b, acc[b]);
	}
	for (; c + 8 <= hs; c += 8) {
		__m256 acc = _mm256_setzero_ps();
		for (uint32_t j = 0; j < n; j++)
			acc = _mm256_fmadd_ps(_mm256_broadcast_ss(s + j),
					      _mm256_loadu_ps(kv.v + (size_t)j * C + (size_t)h * hs + c), acc);
		_mm256_storeu_ps(yh + c, acc);
	}
#endif
	for (; c < hs; c++) {
		float t = 0.0f;
		for (uint32_t j = 0; j < n; j++)
			t = fmaf(s[j], kv.v[(size_t)j * C + (size_t)h * hs + c], t);
		yh[c] = t;
	}
}

void mg_cpu_infer_attention(mg_backend_ctx *ctx, float *y, float *kv, const float *qkv, const uint32_t *seq,
			    const uint32_t *pos, size_t N, const uint32_t *list, size_t M, const mg_backend_attn *a)
{
	uint32_t C = a->C, H = a->H, hs = C / H, Tp = padded(a->block);
	size_t pairs = M * H, work = 0;

	/* keys and values into the cache */
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if (N * C >= PAR_WORK)
	for (size_t i = 0; i < N; i++) {
		kv_view w = view(kv, seq[i], a);
		const float *k = qkv + i * 3 * C + C;
		uint32_t p = pos[i];
		for (uint32_t h = 0; h < H; h++)
			for (uint32_t d = 0; d < hs; d++)
				w.kt[((size_t)h * hs + d) * Tp + p] = k[h * hs + d];
		memcpy(w.v + (size_t)p * C, k + C, C * sizeof *k);
	}
	for (size_t i = 0; i < M; i++)
		work += (size_t)(pos[list ? list[i] : i] + 1) * 2 * C;
#pragma omp parallel for num_threads(mg_cpu_ctx_threads(ctx)) schedule(static, 1) if (work >= PAR_WORK)
	for (size_t k = 0; k < pairs; k++) {
		size_t i = k / H, r = list ? list[i] : i;
		uint32_t h = (uint32_t)(k % H);
		float *s = ctx->scratch + (size_t)omp_get_thread_num() * ctx->tile;
		attend_head(y + i * C, qkv + r * 3 * C, h, pos[r], view(kv, seq[r], a), a, Tp, s);
	}
}
