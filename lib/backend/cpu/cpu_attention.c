/* Causal self-attention with the time-weighting variants (CPU), the fast
 * path: the math and notation of cpu_attention_ref.c, with the matrix
 * products of each (sequence b, head h) pair done by the cache-sized kernels
 * of smallgemm.c on blocks of R = MG_CPU_ATTN_ROWS query rows, skipping the
 * zeros above the diagonal (about half the square's work for T = 128).
 * Per pair, the thread's tile of the context (cpu_ctx.c) holds the pair's slices of q, k, v (and dy,
 * dk, dv) packed or transposed (rows of qkv lie 3C apart, a stride that maps
 * them onto a few cache sets) and tiles X, Z of (R, r1) for the block of
 * rows [r0, r1):
 *   forward:  S = Q K^T / sqrt(hs) into probs; P = softmax (vectorised);
 *             A = P (W M) (Z; A = P itself for vanilla without dropout);
 *             Y = A V
 *   backward: X = dY V^T; Z = W M; D = X M, dS = P (D W - rowsum(P D W)) / sqrt(hs)
 *             into X; A = P Z; dV += A^T dY; dQ = X K; dK += X^T Q
 * For the weighted variants datt keeps G = D P, summed over b per head
 * afterwards into the time weights' gradients. A pair's results depend only
 * on its own inputs, so any thread count gives the same bits. */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/smallgemm.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

/* p[0..n) = softmax(p[0..n)), p[n..T) = 0. */
static void softmax_row(float *p, uint32_t n, uint32_t T)
{
	uint32_t j = 0;
#if MG_VMATH_AVX2
	__m256 mx = _mm256_set1_ps(-INFINITY), sum = _mm256_setzero_ps(), vm, vs;
	__m256i tail = mg_v8_mask(n % 8);

	for (j = 0; j + 8 <= n; j += 8)
		mx = _mm256_max_ps(mx, _mm256_loadu_ps(p + j));
	if (j < n)
		mx = _mm256_max_ps(mx, _mm256_blendv_ps(mx, _mm256_maskload_ps(p + j, tail), _mm256_castsi256_ps(tail)));
	vm = _mm256_set1_ps(mg_v8_hmax(mx));
	for (j = 0; j + 8 <= n; j += 8) {
		__m256 e = mg_v8_exp(_mm256_sub_ps(_mm256_loadu_ps(p + j), vm));
		_mm256_storeu_ps(p + j, e);
		sum = _mm256_add_ps(sum, e);
	}
	if (j < n) {
		__m256 e = _mm256_and_ps(mg_v8_exp(_mm256_sub_ps(_mm256_maskload_ps(p + j, tail), vm)),
					 _mm256_castsi256_ps(tail));
		_mm256_maskstore_ps(p + j, tail, e);
		sum = _mm256_add_ps(sum, e);
	}
	vs = _mm256_set1_ps(mg_v8_hsum(sum));
	for (j = 0; j + 8 <= n; j += 8)
		_mm256_storeu_ps(p + j, _mm256_div_ps(_mm256_loadu_ps(p + j), vs));
	if (j < n)
		_mm256_maskstore_ps(p + j, tail, _mm256_div_ps(_mm256_maskload_ps(p + j, tail), vs));
#else
	float mx = -INFINITY, sum = 0.0f;

	for (j = 0; j < n; j++)
		mx = p[j] > mx ? p[j] : mx;
	for (j = 0; j < n; j++)
		sum += p[j] = expf(p[j] - mx);
	for (j = 0; j < n; j++)
		p[j] /= sum;
#endif
	memset(p + n, 0, (T - n) * sizeof *p);
}

/* sum_j p[j] x[j] over j < n. */
static float dot_row(const float *p, const float *x, uint32_t n)
{
	uint32_t j = 0;
#if MG_VMATH_AVX2
	__m256 s = _mm256_setzero_ps();

	for (; j + 8 <= n; j += 8)
		s = _mm256_fmadd_ps(_mm256_loadu_ps(p + j), _mm256_loadu_ps(x + j), s);
	if (j < n) {
		__m256i tail = mg_v8_mask(n - j);
		s = _mm256_fmadd_ps(_mm256_maskload_ps(p + j, tail), _mm256_maskload_ps(x + j, tail), s);
	}
	return mg_v8_hsum(s);
#else
	float s = 0.0f;

	for (; j < n; j++)
		s += p[j] * x[j];
	return s;
#endif
}

/* x[j] = p[j] (x[j] - dot) scale for j < n; 0 for j in [n, w). */
static void dsoftmax_row(float *x, const float *p, float dot, float scale, uint32_t n, uint32_t w)
{
	uint32_t j = 0;
#if MG_VMATH_AVX2
	__m256 vd = _mm256_set1_ps(dot), vs = _mm256_set1_ps(scale);

	for (; j + 8 <= n; j += 8)
		_mm256_storeu_ps(x + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(p + j),
								    _mm256_sub_ps(_mm256_loadu_ps(x + j), vd)),
						      vs));
#endif
	for (; j < n; j++)
		x[j] = p[j] * (x[j] - dot) * scale;
	for (; j < w; j++)
		x[j] = 0.0f;
}

/* For j < n, with m the dropout multiplier M[i,j] of row i, whose element j
 * is number base + j of the site: z[j] = m (p NULL) or p[j] m; and with x,
 * x[j] *= m. */
static void drop_row(float *z, float *x, const float *p, const mg_backend_attn *a, uint64_t base, uint32_t n, uint32_t thr,
		     float keep)
{
	uint32_t j = 0;
#if MG_VMATH_AVX2
	for (; j + 8 <= n; j += 8) {
		__m256 m = mg_v8_drop_mult(a->drop.seed, base + j, thr, keep);
		_mm256_storeu_ps(z + j, p ? _mm256_mul_ps(_mm256_loadu_ps(p + j), m) : m);
		if (x)
			_mm256_storeu_ps(x + j, _mm256_mul_ps(_mm256_loadu_ps(x + j), m));
	}
#endif
	for (; j < n; j++) {
		float m = mg_backend_dropout_keep(a->drop.seed, base + j, thr) ? keep : 0.0f;
		z[j] = p ? p[j] * m : m;
		if (x)
			x[j] *= m;
	}
}

/* z[j] *= p[j] for j < n, z[j] = 0 for j in [n, w). */
static void mul_row(float *z, const float *p, uint32_t n, uint32_t w)
{
	uint32_t j = 0;
#if MG_VMATH_AVX2
	for (; j + 8 <= n; j += 8)
		_mm256_storeu_ps(z + j, _mm256_mul_ps(_mm256_loadu_ps(z + j), _mm256_loadu_ps(p + j)));
#endif
	for (; j < n; j++)
		z[j] *= p[j];
	for (; j < w; j++)
		z[j] = 0.0f;
}

/* Row i of a weighted variant (time-weighting, circulant) for j <= i, with
 * w = W[i,j] (contiguous in j for both forms) and m = M[i,j] (1 without
 * dropout), in the reference's order of operations. Forward (x NULL):
 * z[j] = p[j] (w m). Backward: g[j] = (x[j] m) p[j]; x[j] = (x[j] m) w;
 * z[j] = w m. */
static void weighted_row(float *z, float *x, float *g, const float *p, const mg_backend_attn *a, size_t bh, uint32_t h,
			 uint32_t i, uint32_t thr, float keep)
{
	size_t tb = a->block;
	const float *tw = NULL, *tw_w = NULL, *tw_b = a->tw_b + h * tb;
	uint64_t base = ((uint64_t)bh * a->T + i) * a->T;
	int drop = a->drop.p > 0.0f;
	uint32_t j = 0, n = i + 1;

	if (a->variant == MG_ATTN_TIME_WEIGHTING)
		tw = a->tw + (h * tb + i) * tb;
	else
		tw_w = a->tw_w + h * tb + tb - 1 - i; /* time_w[h, block-1-(i-j)] = tw_w[j] */
#if MG_VMATH_AVX2
	for (; j + 8 <= n; j += 8) {
		__m256 w = tw ? _mm256_loadu_ps(tw + j) : _mm256_mul_ps(_mm256_loadu_ps(tw_w + j), _mm256_loadu_ps(tw_b + j));
		__m256 m = drop ? mg_v8_drop_mult(a->drop.seed, base + j, thr, keep) : _mm256_set1_ps(1.0f);
		__m256 wm = _mm256_mul_ps(w, m);
		if (!x) {
			_mm256_storeu_ps(z + j, _mm256_mul_ps(_mm256_loadu_ps(p + j), wm));
		} else {
			__m256 xm = _mm256_mul_ps(_mm256_loadu_ps(x + j), m);
			_mm256_storeu_ps(g + j, _mm256_mul_ps(xm, _mm256_loadu_ps(p + j)));
			_mm256_storeu_ps(x + j, _mm256_mul_ps(xm, w));
			_mm256_storeu_ps(z + j, wm);
		}
	}
#endif
	for (; j < n; j++) {
		float w = tw ? tw[j] : tw_w[j] * tw_b[j], m = 1.0f;
		if (drop)
			m = mg_backend_dropout_keep(a->drop.seed, base + j, thr) ? keep : 0.0f;
		if (!x) {
			z[j] = p[j] * (w * m);
		} else {
			float xm = x[j] * m;
			g[j] = xm * p[j];
			x[j] = xm * w;
			z[j] = w * m;
		}
	}
}

static void forward_pair(float *out, float *probs, const float *qkv, const mg_backend_attn *a, size_t bh, float *Kt, float *Vp,
			 float *Z)
{
	uint32_t T = a->T, C = a->C, H = a->H, hs = C / H, b = (uint32_t)(bh / H), h = (uint32_t)(bh % H);
	size_t C3 = 3 * (size_t)C;
	const float *Q = qkv + (size_t)b * T * C3 + (size_t)h * hs, *K = Q + C, *V = Q + 2 * (size_t)C;
	float *P = probs + bh * T * T, *Y = out + (size_t)b * T * C + (size_t)h * hs;
	float keep = a->drop.p > 0.0f ? 1.0f / (1.0f - a->drop.p) : 1.0f;
	uint32_t thr = mg_backend_dropout_threshold(a->drop.p);
	int plain = a->variant == MG_ATTN_VANILLA && a->drop.p == 0.0f;

	/* K^T and V packed: rows of qkv lie 3C apart, a stride that maps them
	 * onto a few cache sets */
	mg_smallgemm_transpose(Kt, T, K, C3, T, hs);
	mg_smallgemm_copy(Vp, hs, V, C3, T, hs);
	for (uint32_t r0 = 0; r0 < T; r0 += MG_CPU_ATTN_ROWS) {
		uint32_t r1 = r0 + MG_CPU_ATTN_ROWS < T ? r0 + MG_CPU_ATTN_ROWS : T, m = r1 - r0;
		const float *A = P + (size_t)r0 * T;
		size_t lda = T;

		mg_smallgemm(MG_SG_NN, m, r1, hs, 1.0f / sqrtf((float)hs), Q + r0 * C3, C3, Kt, T, P + (size_t)r0 * T, T,
			      r0, -1);
		for (uint32_t i = r0; i < r1; i++)
			softmax_row(P + (size_t)i * T, i + 1, T);
		if (!plain) {
			for (uint32_t i = r0; i < r1; i++) {
				const float *p = P + (size_t)i * T;
				float *z = Z + (size_t)(i - r0) * r1;
				if (a->variant == MG_ATTN_VANILLA)
					drop_row(z, NULL, p, a, (bh * T + i) * T, i + 1, thr, keep);
				else
					weighted_row(z, NULL, NULL, p, a, bh, h, i, thr, keep);
				for (uint32_t j = i + 1; j < r1; j++)
					z[j] = 0.0f;
			}
			A = Z, lda = r1;
		}
		mg_smallgemm(MG_SG_NN, m, hs, r1, 1.0f, A, lda, Vp, hs, Y + (size_t)r0 * C, C, -1, r0);
	}
}

/* s: the thread's tile (cpu_ctx.c). */
static void backward_pair(float *dqkv, float *datt, const float *dout, const float *qkv, const float *probs,
			  const mg_backend_attn *a, size_t bh, float *s)
{
	uint32_t T = a->T, C = a->C, H = a->H, hs = C / H, b = (uint32_t)(bh / H), h = (uint32_t)(bh % H);
	uint32_t R = T < MG_CPU_ATTN_ROWS ? T : MG_CPU_ATTN_ROWS;
	size_t C3 = 3 * (size_t)C, off = (size_t)b * T * C3 + (size_t)h * hs, th = (size_t)T * hs;
	const float *Q = qkv + off, *K = Q + C, *V = Q + 2 * (size_t)C, *P = probs + bh * T * T;
	const float *dY = dout + (size_t)b * T * C + (size_t)h * hs;
	float *dQ = dqkv + off, *G = datt + bh * T * T;
	float *Vt = s, *Kp = Vt + th, *Qp = Kp + th, *dYp = Qp + th, *dKp = dYp + th, *dVp = dKp + th;
	float *X = dVp + th, *Z = X + (size_t)R * T;
	float scale = 1.0f / sqrtf((float)hs), keep = a->drop.p > 0.0f ? 1.0f / (1.0f - a->drop.p) : 1.0f;
	uint32_t thr = mg_backend_dropout_threshold(a->drop.p);
	int vanilla = a->variant == MG_ATTN_VANILLA, plain = vanilla && a->drop.p == 0.0f;

	mg_smallgemm_transpose(Vt, T, V, C3, T, hs);
	mg_smallgemm_copy(Kp, hs, K, C3, T, hs);
	mg_smallgemm_copy(Qp, hs, Q, C3, T, hs);
	mg_smallgemm_copy(dYp, hs, dY, C, T, hs);
	memset(dKp, 0, 2 * th * sizeof *dKp);
	for (uint32_t r0 = 0; r0 < T; r0 += MG_CPU_ATTN_ROWS) {
		uint32_t r1 = r0 + MG_CPU_ATTN_ROWS < T ? r0 + MG_CPU_ATTN_ROWS : T, m = r1 - r0;
		const float *A = P + (size_t)r0 * T;
		size_t lda = T;

		/* X = dY V^T: the gradient of A */
		mg_smallgemm(MG_SG_NN, m, r1, hs, 1.0f, dYp + (size_t)r0 * hs, hs, Vt, T, X, r1, r0, -1);
		for (uint32_t i = r0; i < r1; i++) {
			const float *p = P + (size_t)i * T;
			float *x = X + (size_t)(i - r0) * r1, *z = Z + (size_t)(i - r0) * r1, dot;
			if (plain) {
				dot = dot_row(p, x, i + 1);
			} else if (vanilla) {
				/* z = M; D = X M is dP */
				drop_row(z, x, NULL, a, (bh * T + i) * T, i + 1, thr, keep);
				dot = dot_row(p, x, i + 1);
			} else {
				/* z = W M; G = D P saved; X becomes dP = D W */
				weighted_row(z, x, G + (size_t)i * T, p, a, bh, h, i, thr, keep);
				dot = dot_row(p, x, i + 1);
			}
			dsoftmax_row(x, p, dot, scale, i + 1, r1);
			if (!plain) /* z = A = P (W M) */
				mul_row(z, p, i + 1, r1);
		}
		if (!plain)
			A = Z, lda = r1;
		mg_smallgemm(MG_SG_TN | MG_SG_ACC, r1, hs, m, 1.0f, A, lda, dYp + (size_t)r0 * hs, hs, dVp, hs, -1, r0);
		mg_smallgemm(MG_SG_NN, m, hs, r1, 1.0f, X, r1, Kp, hs, dQ + r0 * C3, C3, -1, r0);
		mg_smallgemm(MG_SG_TN | MG_SG_ACC, r1, hs, m, 1.0f, X, r1, Qp + (size_t)r0 * hs, hs, dKp, hs, -1, r0);
	}
	mg_smallgemm_copy(dQ + C, C3, dKp, hs, T, hs);
	mg_smallgemm_copy(dQ + 2 * (size_t)C, C3, dVp, hs, T, hs);
}

/* d[j] += x[j] (y NULL) or x[j] y[j], for j < n. */
static void acc_row(float *d, const float *x, const float *y, uint32_t n)
{
	uint32_t j = 0;
#if MG_VMATH_AVX2
	for (; j + 8 <= n; j += 8) {
		__m256 v = _mm256_loadu_ps(x + j);
		if (y)
			v = _mm256_mul_ps(v, _mm256_loadu_ps(y + j));
		_mm256_storeu_ps(d + j, _mm256_add_ps(_mm256_loadu_ps(d + j), v));
	}
#endif
	for (; j < n; j++)
		d[j] += y ? x[j] * y[j] : x[j];
}

/* The time weights' gradients from G = D P in datt, as
 * mg_cpu_attention_dtw's with probs NULL (the same sums in the same order)
 * a row at a time: row i of head h is summed over b into b = 0's row (datt is
 * scratch), then added to the weights' gradients, where the circulant factors'
 * elements for j <= i are contiguous in j. Heads are independent. */
static void dtw_rows(float *dtw, float *dtw_w, float *dtw_b, float *datt, const mg_backend_attn *a, int threads)
{
	uint32_t B = a->B, T = a->T, H = a->H;
	size_t tb = a->block;

	if (a->variant == MG_ATTN_VANILLA)
		return;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
	for (uint32_t h = 0; h < H; h++)
		for (uint32_t i = 0; i < T; i++) {
			float *g = datt + ((size_t)h * T + i) * T;
			for (uint32_t b = 1; b < B; b++)
				acc_row(g, datt + (((size_t)b * H + h) * T + i) * T, NULL, i + 1);
			if (a->variant == MG_ATTN_TIME_WEIGHTING) {
				acc_row(dtw + (h * tb + i) * tb, g, NULL, i + 1);
			} else {
				size_t wo = h * tb + tb - 1 - i; /* time_w[h, block-1-(i-j)] at wo + j */
				acc_row(dtw_w + wo, g, a->tw_b + h * tb, i + 1);
				acc_row(dtw_b + h * tb, g, a->tw_w + wo, i + 1);
			}
		}
}

void mg_cpu_attention_forward(mg_backend_ctx *ctx, float *out, float *probs, const float *qkv, const mg_backend_attn *a)
{
	uint32_t T = a->T, hs = a->C / a->H;
	size_t pairs = (size_t)a->B * a->H;

#pragma omp parallel for num_threads(mg_cpu_ctx_threads(ctx)) schedule(dynamic, 1)
	for (size_t bh = 0; bh < pairs; bh++) {
		float *Kt = ctx->scratch + (size_t)omp_get_thread_num() * ctx->tile, *Vp = Kt + (size_t)hs * T;
		forward_pair(out, probs, qkv, a, bh, Kt, Vp, Vp + (size_t)hs * T);
	}
}

void mg_cpu_attention_backward(mg_backend_ctx *ctx, float *dqkv, float *dtw, float *dtw_w, float *dtw_b, float *datt,
			       const float *dout, const float *qkv, const float *probs, const mg_backend_attn *a)
{
	size_t pairs = (size_t)a->B * a->H;

#pragma omp parallel for num_threads(mg_cpu_ctx_threads(ctx)) schedule(dynamic, 1)
	for (size_t bh = 0; bh < pairs; bh++)
		backward_pair(dqkv, datt, dout, qkv, probs, a, bh, ctx->scratch + (size_t)omp_get_thread_num() * ctx->tile);
	dtw_rows(dtw, dtw_w, dtw_b, datt, a, mg_cpu_ctx_threads(ctx)); /* datt holds G = D P */
}
