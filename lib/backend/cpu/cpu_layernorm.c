/* LayerNorm over the channels of each row (CPU), as torch.nn.LayerNorm
 * (eps 1e-5, biased variance). inp, out (N,C); mean, rstd (N).
 *
 * With xhat = (x - mean) * rstd and y = xhat * w + b, the gradients are
 * dw = sum_rows dy * xhat, db = sum_rows dy and, per row with g = dy * w,
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
 * Rows are vectorised 8 channels at a time (sums in 8 lanes, then across
 * them in a fixed order), so a row's results depend only on that row. */
#include <math.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

#define LN_EPS 1e-5f
#define BAND 16 /* channels per unit of the column reductions: one cache line */

#if MG_VMATH_AVX2
/* x[c] for c < n (n <= 8) in lanes, 0 elsewhere. */
static inline __m256 load_part(const float *x, size_t n) { return _mm256_maskload_ps(x, mg_v8_mask(n)); }
#endif

/* The mean and 1/sqrt(var + eps) of a row. */
static void row_stats(const float *x, uint32_t C, float *mean, float *rstd)
{
	float m, v;
	uint32_t c = 0;
#if MG_VMATH_AVX2
	__m256 s = _mm256_setzero_ps(), vm;

	for (; c + 8 <= C; c += 8)
		s = _mm256_add_ps(s, _mm256_loadu_ps(x + c));
	if (c < C)
		s = _mm256_add_ps(s, load_part(x + c, C - c));
	m = mg_v8_hsum(s) / (float)C;
	vm = _mm256_set1_ps(m);
	s = _mm256_setzero_ps();
	for (c = 0; c + 8 <= C; c += 8) {
		__m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + c), vm);
		s = _mm256_fmadd_ps(d, d, s);
	}
	if (c < C) {
		__m256 d = _mm256_and_ps(_mm256_sub_ps(load_part(x + c, C - c), vm), _mm256_castsi256_ps(mg_v8_mask(C - c)));
		s = _mm256_fmadd_ps(d, d, s);
	}
	v = mg_v8_hsum(s) / (float)C;
#else
	m = 0.0f, v = 0.0f;
	for (; c < C; c++)
		m += x[c];
	m /= (float)C;
	for (c = 0; c < C; c++)
		v += (x[c] - m) * (x[c] - m);
	v /= (float)C;
#endif
	*mean = m;
	*rstd = 1.0f / sqrtf(v + LN_EPS);
}

void mg_cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
			      size_t N, uint32_t C)
{
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 16)
	for (size_t n = 0; n < N; n++) {
		const float *x = inp + n * C;
		float *y = out + n * C, m, s;
		uint32_t c = 0;

		row_stats(x, C, &m, &s);
#if MG_VMATH_AVX2
		{
			__m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s);
			for (; c + 8 <= C; c += 8)
				_mm256_storeu_ps(y + c, _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + c), vm), vs),
									_mm256_loadu_ps(w + c), _mm256_loadu_ps(b + c)));
		}
#endif
		for (; c < C; c++)
			y[c] = (x[c] - m) * s * w[c] + b[c];
		mean[n] = m;
		rstd[n] = s;
	}
}

void mg_cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp, const float *w,
			       const float *mean, const float *rstd, size_t N, uint32_t C)
{
	uint32_t nband = (C + BAND - 1) / BAND;

	/* dx: rows are independent */
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 16)
	for (size_t n = 0; n < N; n++) {
		const float *x = inp + n * C, *dy = dout + n * C;
		float *dx = dinp + n * C, m = mean[n], s = rstd[n], g_mean, gx_mean;
		uint32_t c = 0;
#if MG_VMATH_AVX2
		__m256 vm = _mm256_set1_ps(m), vs = _mm256_set1_ps(s), sg = _mm256_setzero_ps(), sgx = sg, a, bb;

		for (; c + 8 <= C; c += 8) {
			__m256 g = _mm256_mul_ps(_mm256_loadu_ps(dy + c), _mm256_loadu_ps(w + c));
			sg = _mm256_add_ps(sg, g);
			sgx = _mm256_fmadd_ps(g, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + c), vm), vs), sgx);
		}
		if (c < C) { /* masked lanes: dy, w are 0, so g is 0 */
			__m256 g = _mm256_mul_ps(load_part(dy + c, C - c), load_part(w + c, C - c));
			sg = _mm256_add_ps(sg, g);
			sgx = _mm256_fmadd_ps(g, _mm256_mul_ps(_mm256_sub_ps(load_part(x + c, C - c), vm), vs), sgx);
		}
		g_mean = mg_v8_hsum(sg) / (float)C;
		gx_mean = mg_v8_hsum(sgx) / (float)C;
		a = _mm256_set1_ps(g_mean), bb = _mm256_set1_ps(gx_mean);
		for (c = 0; c + 8 <= C; c += 8) {
			__m256 g = _mm256_mul_ps(_mm256_loadu_ps(dy + c), _mm256_loadu_ps(w + c));
			__m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + c), vm), vs);
			__m256 t = _mm256_sub_ps(_mm256_sub_ps(g, a), _mm256_mul_ps(xh, bb));
			_mm256_storeu_ps(dx + c, _mm256_fmadd_ps(vs, t, _mm256_loadu_ps(dx + c)));
		}
#else
		g_mean = 0.0f, gx_mean = 0.0f;
		for (; c < C; c++) {
			float g = dy[c] * w[c];
			g_mean += g;
			gx_mean += g * (x[c] - m) * s;
		}
		g_mean /= (float)C;
		gx_mean /= (float)C;
		c = 0;
#endif
		for (; c < C; c++)
			dx[c] += s * (dy[c] * w[c] - g_mean - (x[c] - m) * s * gx_mean);
	}
	/* dw, db: each thread owns bands of channels and sums all rows in order */
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 1)
	for (uint32_t k = 0; k < nband; k++) {
		uint32_t c0 = k * BAND, c1 = c0 + BAND < C ? c0 + BAND : C;
#if MG_VMATH_AVX2
		if (c1 - c0 == BAND) {
			__m256 w0 = _mm256_setzero_ps(), w1 = w0, b0 = w0, b1 = w0;
			for (size_t n = 0; n < N; n++) {
				const float *x = inp + n * C + c0, *dy = dout + n * C + c0;
				__m256 vm = _mm256_set1_ps(mean[n]), vs = _mm256_set1_ps(rstd[n]);
				__m256 d0 = _mm256_loadu_ps(dy), d1 = _mm256_loadu_ps(dy + 8);
				w0 = _mm256_fmadd_ps(d0, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x), vm), vs), w0);
				w1 = _mm256_fmadd_ps(d1, _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + 8), vm), vs), w1);
				b0 = _mm256_add_ps(b0, d0);
				b1 = _mm256_add_ps(b1, d1);
			}
			_mm256_storeu_ps(dw + c0, _mm256_add_ps(_mm256_loadu_ps(dw + c0), w0));
			_mm256_storeu_ps(dw + c0 + 8, _mm256_add_ps(_mm256_loadu_ps(dw + c0 + 8), w1));
			_mm256_storeu_ps(db + c0, _mm256_add_ps(_mm256_loadu_ps(db + c0), b0));
			_mm256_storeu_ps(db + c0 + 8, _mm256_add_ps(_mm256_loadu_ps(db + c0 + 8), b1));
			continue;
		}
#endif
		float sw[BAND] = { 0 }, sb[BAND] = { 0 };
		for (size_t n = 0; n < N; n++) {
			const float *x = inp + n * C, *dy = dout + n * C;
			float m = mean[n], s = rstd[n];
			for (uint32_t c = c0; c < c1; c++) {
				sw[c - c0] += dy[c] * (x[c] - m) * s;
				sb[c - c0] += dy[c];
			}
		}
		for (uint32_t c = c0; c < c1; c++) {
			dw[c] += sw[c - c0];
			db[c] += sb[c - c0];
		}
	}
}
