/* Causal self-attention with the time-weighting variants (CPU): the plain
 * reference loops, without scratch, against which the fast path of
 * cpu_attention.c (the table's) and the other backends are tested.
 *
 * For sequence b, head h, query position i and key position j <= i:
 *   S[i,j] = q_i . k_j / sqrt(hs)        P = softmax_j(S)      (saved, (B,H,T,T))
 *   A[i,j] = P[i,j] W[i,j] M[i,j]        y_i = sum_j A[i,j] v_j
 * where W is the time weight (1 for vanilla; time_weight[h,i,j] for the full
 * form; time_w[h, block-1-(i-j)] time_b[h,j] for the circulant form), applied
 * after the softmax without renormalising, and M the dropout mask (0 or
 * 1/(1-p)). Backward, with dy_i given:
 *   dv_j += sum_i A[i,j] dy_i            D[i,j] = (dy_i . v_j) M[i,j]   (saved in datt)
 *   dP = D W                             dS[i,j] = P[i,j] (dP[i,j] - sum_k P[i,k] dP[i,k])
 *   dq_i = sum_j dS[i,j] k_j / sqrt(hs)  dk_j += dS[i,j] q_i / sqrt(hs)
 *   dW[h,i,j] = sum_b D[i,j] P[i,j], folded into the circulant factors by the
 *   chain rule: dtime_w[h,block-1-(i-j)] += dW time_b[h,j],
 *   dtime_b[h,j] += dW time_w[h,block-1-(i-j)].
 * Work is split by (b,h) pairs, which own disjoint slices of out and dqkv;
 * the time weights' gradients are then summed over b per head, in order. */
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "core/threads.h"

void mg_cpu_attention_forward_ref(float *out, float *probs, const float *qkv, const mg_backend_attn *a)
{
	uint32_t B = a->B, T = a->T, C = a->C, H = a->H, hs = C / H;
	size_t C3 = 3 * (size_t)C, pairs = (size_t)B * H;
	float scale = 1.0f / sqrtf((float)hs), keep_scale = a->drop.p > 0.0f ? 1.0f / (1.0f - a->drop.p) : 1.0f;
	uint32_t thr = mg_backend_dropout_threshold(a->drop.p);

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t bh = 0; bh < pairs; bh++) {
		uint32_t b = (uint32_t)(bh / H), h = (uint32_t)(bh % H);
		const float *base = qkv + (size_t)b * T * C3 + (size_t)h * hs;
		float *P = probs + bh * T * T;

		for (uint32_t i = 0; i < T; i++) {
			const float *q = base + i * C3;
			float *p = P + (size_t)i * T, *y = out + ((size_t)b * T + i) * C + (size_t)h * hs;
			float mx = -INFINITY, sum = 0.0f;

			for (uint32_t j = 0; j <= i; j++) {
				const float *k = base + j * C3 + C;
				float s = 0.0f;
				for (uint32_t c = 0; c < hs; c++)
					s += q[c] * k[c];
				p[j] = s * scale;
				mx = p[j] > mx ? p[j] : mx;
			}
			for (uint32_t j = 0; j <= i; j++) {
				p[j] = expf(p[j] - mx);
				sum += p[j];
			}
			for (uint32_t j = 0; j <= i; j++)
				p[j] /= sum;
			for (uint32_t j = i + 1; j < T; j++)
				p[j] = 0.0f;
			memset(y, 0, hs * sizeof *y);
			for (uint32_t j = 0; j <= i; j++) {
				const float *v = base + j * C3 + 2 * (size_t)C;
				float w = p[j] * mg_cpu_time_weight(a, h, i, j);
				if (a->drop.p > 0.0f)
					w = mg_backend_dropout_keep(a->drop.seed, (bh * T + i) * T + j, thr) ? w * keep_scale : 0.0f;
				for (uint32_t c = 0; c < hs; c++)
					y[c] += w * v[c];
			}
		}
	}
}

void mg_cpu_attention_backward_ref(float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt,
				   const float *dout, const float *qkv, const float *probs, const mg_backend_attn *a)
{
	uint32_t B = a->B, T = a->T, C = a->C, H = a->H, hs = C / H;
	size_t C3 = 3 * (size_t)C, pairs = (size_t)B * H;
	float scale = 1.0f / sqrtf((float)hs), keep_scale = a->drop.p > 0.0f ? 1.0f / (1.0f - a->drop.p) : 1.0f;
	uint32_t thr = mg_backend_dropout_threshold(a->drop.p);

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t bh = 0; bh < pairs; bh++) {
		uint32_t b = (uint32_t)(bh / H), h = (uint32_t)(bh % H);
		const float *base = qkv + (size_t)b * T * C3 + (size_t)h * hs;
		float *dbase = dqkv + (size_t)b * T * C3 + (size_t)h * hs;
		const float *P = probs + bh * T * T;
		float *D = datt + bh * T * T;

		for (uint32_t t = 0; t < T; t++)
			for (int part = 0; part < 3; part++)
				memset(dbase + t * C3 + part * (size_t)C, 0, hs * sizeof *dbase);
		for (uint32_t i = 0; i < T; i++) {
			const float *q = base + i * C3, *dy = dout + ((size_t)b * T + i) * C + (size_t)h * hs;
			const float *p = P + (size_t)i * T;
			float *d = D + (size_t)i * T, *dq = dbase + i * C3, dot = 0.0f;

			for (uint32_t j = 0; j <= i; j++) {
				const float *v = base + j * C3 + 2 * (size_t)C;
				float *dv = dbase + j * C3 + 2 * (size_t)C;
				float w = mg_cpu_time_weight(a, h, i, j), m = 1.0f, s = 0.0f;
				if (a->drop.p > 0.0f)
					m = mg_backend_dropout_keep(a->drop.seed, (bh * T + i) * T + j, thr) ? keep_scale : 0.0f;
				for (uint32_t c = 0; c < hs; c++) {
					s += dy[c] * v[c];
					dv[c] += p[j] * w * m * dy[c];
				}
				d[j] = s * m;
				dot += p[j] * d[j] * w;
			}
			for (uint32_t j = 0; j <= i; j++) {
				const float *k = base + j * C3 + C;
				float *dk = dbase + j * C3 + C;
				float ds = p[j] * (d[j] * mg_cpu_time_weight(a, h, i, j) - dot) * scale;
				for (uint32_t c = 0; c < hs; c++) {
					dq[c] += ds * k[c];
					dk[c] += ds * q[c];
				}
			}
		}
	}
	mg_cpu_attention_dtw(dtw, dtw_w, dtw_b, datt, probs, a); /* datt holds D */
}

void mg_cpu_attention_dtw(float *dtw, float *dtw_w, float *dtw_b, const float *datt, const float *probs,
			  const mg_backend_attn *a)
{
	uint32_t B = a->B, T = a->T, H = a->H, tb = a->block;

	if (a->variant == MG_ATTN_VANILLA)
		return;
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (uint32_t h = 0; h < H; h++) {
		for (uint32_t i = 0; i < T; i++)
			for (uint32_t j = 0; j <= i; j++) {
				float g = 0.0f;
				/* two loops, so each keeps its own rounding (a fused
				 * multiply-add in the first) */
				if (probs)
					for (uint32_t b = 0; b < B; b++) {
						size_t at = (((size_t)b * H + h) * T + i) * T + j;
						g += datt[at] * probs[at];
					}
				else
					for (uint32_t b = 0; b < B; b++)
						g += datt[(((size_t)b * H + h) * T + i) * T + j];
				if (a->variant == MG_ATTN_TIME_WEIGHTING) {
					dtw[((size_t)h * tb + i) * tb + j] += g;
				} else {
					size_t wi = (size_t)h * tb + tb - 1 - (i - j), bi = (size_t)h * tb + j;
					dtw_w[wi] += g * a->tw_b[bi];
					dtw_b[bi] += g * a->tw_w[wi];
				}
			}
	}
}
