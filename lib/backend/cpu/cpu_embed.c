/* Token and position embedding with the embedding dropout (CPU).
 * out[b,t,:] = dropout(wte[ids[b,t],:] + wpe[t,:]), out (B,T,C). */
#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

void mg_cpu_embed_forward(float *out, const uint32_t *ids, const float *wte, const float *wpe, uint32_t B, uint32_t T,
			  uint32_t C, mg_backend_dropout d)
{
	size_t N = (size_t)B * T;
	uint32_t thr = mg_backend_dropout_threshold(d.p);
	float keep_scale = d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 16)
	for (size_t n = 0; n < N; n++) {
		const float *te = wte + (size_t)ids[n] * C, *pe = wpe ? wpe + (n % T) * C : NULL;
		float *o = out + n * C;
		uint32_t c;
		for (c = 0; c < C; c++)
			o[c] = pe ? te[c] + pe[c] : te[c];
		if (d.p <= 0.0f)
			continue;
		c = 0;
#if MG_VMATH_AVX2
		for (; c + 8 <= C; c += 8)
			_mm256_storeu_ps(o + c, _mm256_and_ps(_mm256_mul_ps(_mm256_loadu_ps(o + c), _mm256_set1_ps(keep_scale)),
							      mg_v8_drop_mask(d.seed, n * C + c, thr)));
#endif
		for (; c < C; c++)
			o[c] = mg_backend_dropout_keep(d.seed, n * C + c, thr) ? o[c] * keep_scale : 0.0f;
	}
}

/* Gradients are scattered by token: each thread owns a band of channels and
 * walks all positions in order, so no two threads touch one element and the
 * sums do not depend on the thread count. */
void mg_cpu_embed_backward(float *dwte, float *dwpe, const float *dout, const uint32_t *ids, uint32_t B, uint32_t T,
			   uint32_t C, mg_backend_dropout d)
{
	size_t N = (size_t)B * T;
	uint32_t thr = mg_backend_dropout_threshold(d.p), band = 64, nband = (C + band - 1) / band;
	float keep_scale = d.p > 0.0f ? 1.0f / (1.0f - d.p) : 1.0f;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (uint32_t k = 0; k < nband; k++) {
		uint32_t c0 = k * band, c1 = c0 + band < C ? c0 + band : C;
		for (size_t n = 0; n < N; n++) {
			const float *g = dout + n * C;
			float *te = dwte + (size_t)ids[n] * C, *pe = dwpe ? dwpe + (n % T) * C : NULL;
			uint32_t c = c0;
#if MG_VMATH_AVX2
			for (; c + 8 <= c1; c += 8) {
				__m256 x = _mm256_loadu_ps(g + c);
				if (d.p > 0.0f)
					x = _mm256_and_ps(_mm256_mul_ps(x, _mm256_set1_ps(keep_scale)),
							  mg_v8_drop_mask(d.seed, n * C + c, thr));
				_mm256_storeu_ps(te + c, _mm256_add_ps(_mm256_loadu_ps(te + c), x));
				if (pe)
					_mm256_storeu_ps(pe + c, _mm256_add_ps(_mm256_loadu_ps(pe + c), x));
			}
#endif
			for (; c < c1; c++) {
				float x = g[c];
				if (d.p > 0.0f)
					x = mg_backend_dropout_keep(d.seed, n * C + c, thr) ? x * keep_scale : 0.0f;
				te[c] += x;
				if (pe)
					pe[c] += x;
			}
		}
	}
}
