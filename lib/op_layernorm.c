/* LayerNorm over the channels of each row (CPU), as torch.nn.LayerNorm
 * (eps 1e-5, biased variance). inp, out (N,C); mean, rstd (N).
 *
 * With xhat = (x - mean) * rstd and y = xhat * w + b, the gradients are
 * dw = sum_rows dy * xhat, db = sum_rows dy and, per row with g = dy * w,
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)). */
#include <math.h>

#include "backend_cpu.h"
#include "threads.h"

#define LN_EPS 1e-5f
#define BAND 16 /* channels per unit of the column reductions: one cache line */

void mg_cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w, const float *b,
			      size_t N, uint32_t C)
{
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t n = 0; n < N; n++) {
		const float *x = inp + n * C;
		float *y = out + n * C, m = 0.0f, v = 0.0f, s;
		for (uint32_t c = 0; c < C; c++)
			m += x[c];
		m /= (float)C;
		for (uint32_t c = 0; c < C; c++)
			v += (x[c] - m) * (x[c] - m);
		v /= (float)C;
		s = 1.0f / sqrtf(v + LN_EPS);
		for (uint32_t c = 0; c < C; c++)
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
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (size_t n = 0; n < N; n++) {
		const float *x = inp + n * C, *dy = dout + n * C;
		float *dx = dinp + n * C, m = mean[n], s = rstd[n], g_mean = 0.0f, gx_mean = 0.0f;
		for (uint32_t c = 0; c < C; c++) {
			float g = dy[c] * w[c];
			g_mean += g;
			gx_mean += g * (x[c] - m) * s;
		}
		g_mean /= (float)C;
		gx_mean /= (float)C;
		for (uint32_t c = 0; c < C; c++)
			dx[c] += s * (dy[c] * w[c] - g_mean - (x[c] - m) * s * gx_mean);
	}
	/* dw, db: each thread owns bands of channels and sums all rows in order */
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (uint32_t k = 0; k < nband; k++) {
		uint32_t c0 = k * BAND, c1 = c0 + BAND < C ? c0 + BAND : C;
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
