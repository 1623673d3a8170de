/* The Linear layer of KV-cache inference (CPU): weights packed for
 * row-at-a-time decoding (the table's infer_pack, infer_matmul).
 *
 * Linear: decoding one token reads every weight once and does one multiply-
 * add with it, so it is bound by memory bandwidth; a prefill of many rows is
 * bound by arithmetic. One layout serves both: panels of 16 outputs x IC
 * inputs, so a row's input x[k] is broadcast against 16 contiguous weights
 * and the accumulators are 8-float vectors holding 8 different outputs (no
 * horizontal sums). A micro-kernel keeps rows x panels of accumulators in
 * registers: 1 x 4 panels for one row (8 independent chains hide the FMA
 * latency while the weights stream in), 2 or 3 x 2 for a few rows, 6 x 1
 * for many (12 accumulators, 2 weight loads and 6 broadcasts per 12 FMAs,
 * as OpenBLAS's sgemm kernels). Threads split the panels, in groups of 4;
 * small products run on one thread. Whatever the kernel, element (r,o) is
 * fma(x[r,k], w[o,k], acc) for k = 0, 1, ... in order, then + bias, then
 * (a residual connection) + out: the same bits for any row count, row
 * position and thread count. The scalar fallback uses fmaf, which rounds
 * exactly as the vector FMA. Weights stored as f16, bf16 or q8 go to
 * cpu_quant.c. */
#include "backend/cpu/cpu_infer.h"
#include "backend/cpu/cpu_quant.h"

#include <math.h>
#include <string.h>

#include "backend/cpu/vmath.h"
#include "core/threads.h"

#define MG_SIMD MG_VMATH_AVX2

#define GROUP 4 /* panels per unit of work */
#define MR_MAX 6
#define PAR_WORK (1u << 16) /* multiply-adds below which threads cost more than they give */

/* Width of a panel: the packed layout keeps 16 consecutive outputs (two
 * 8-float vectors) of every input channel together. */
#define MG_PANEL 16

/* A weight matrix w (OC,IC), PyTorch's Linear layout, repacked as panels:
 * panel p holds outputs 16p..16p+15 as (IC,16), so element (o,k) is at
 * p[(o/16) IC 16 + k 16 + o%16]; outputs past OC are zeros. */
typedef struct mg_packed {
	const float *p; /* panels * IC * 16 floats, 64-byte aligned */
	uint32_t IC, OC, panels;
} mg_packed;

static size_t pack_floats(uint32_t OC, uint32_t IC)
{
	return (size_t)((OC + MG_PANEL - 1) / MG_PANEL) * IC * MG_PANEL;
}

static void pack_f32(float *mem, const float *w, uint32_t OC, uint32_t IC)
{
	uint32_t panels = (OC + MG_PANEL - 1) / MG_PANEL;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (uint32_t p = 0; p < panels; p++)
		for (uint32_t k = 0; k < IC; k++)
			for (uint32_t l = 0; l < MG_PANEL; l++) {
				uint32_t o = p * MG_PANEL + l;
				mem[((size_t)p * IC + k) * MG_PANEL + l] = o < OC ? w[(size_t)o * IC + k] : 0.0f;
			}
}

/* Writes the 16 sums of one row and one panel: out[o] = acc + bias[o], or
 * with add out[o] += acc + bias[o] (a residual connection, the same
 * arithmetic as adding afterwards). */
static inline void put16(float *out, const float *acc, const float *bias, int add, uint32_t o0, uint32_t OC)
{
	uint32_t n = OC - o0 < MG_PANEL ? OC - o0 : MG_PANEL;

	for (uint32_t l = 0; l < n; l++) {
		float v = bias ? acc[l] + bias[o0 + l] : acc[l];
		out[o0 + l] = add ? out[o0 + l] + v : v;
	}
}

#if MG_SIMD
/* Named accumulators, not arrays, so that they stay in registers. */
#define ZERO2(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = c##i##0
#define FMA2(i)                                                                   \
	if (MR > i) {                                                             \
		__m256 xb = _mm256_broadcast_ss(x + i * ldx + k);                 \
		c##i##0 = _mm256_fmadd_ps(xb, w0, c##i##0);                       \
		c##i##1 = _mm256_fmadd_ps(xb, w1, c##i##1);                       \
	}
#define PUT2(i, o, p)                                                             \
	if (MR > i) {                                                             \
		float t[MG_PANEL];                                                \
		_mm256_storeu_ps(t, c##i##0);                                     \
		_mm256_storeu_ps(t + 8, c##i##1);                                 \
		put16((o) + i * ldo, t, bias, add, (p) * MG_PANEL, w->OC);             \
	}

/* MR (1 to 6) rows of panel p; MR is a constant at every call. */
static inline __attribute__((always_inline)) void micro(const int MR, float *out, size_t ldo, const float *x,
							 size_t ldx, const mg_packed *w, uint32_t p, const float *bias,
							 int add)
{
	const float *wp = w->p + (size_t)p * w->IC * MG_PANEL;
	ZERO2(0);
	ZERO2(1);
	ZERO2(2);
	ZERO2(3);
	ZERO2(4);
	ZERO2(5);

	for (uint32_t k = 0; k < w->IC; k++) {
		__m256 w0 = _mm256_load_ps(wp + k * MG_PANEL), w1 = _mm256_load_ps(wp + k * MG_PANEL + 8);
		FMA2(0) FMA2(1) FMA2(2) FMA2(3) FMA2(4) FMA2(5)
	}
	PUT2(0, out, p) PUT2(1, out, p) PUT2(2, out, p) PUT2(3, out, p) PUT2(4, out, p) PUT2(5, out, p)
}

/* MR (1 to 3) rows of panels p and p+1: 4 MR chains instead of 2 MR. */
#define FMA4(i)                                                                   \
	if (MR > i) {                                                             \
		__m256 xb = _mm256_broadcast_ss(x + i * ldx + k);                 \
		c##i##0 = _mm256_fmadd_ps(xb, w0, c##i##0);                       \
		c##i##1 = _mm256_fmadd_ps(xb, w1, c##i##1);                       \
		d##i##0 = _mm256_fmadd_ps(xb, w2, d##i##0);                       \
		d##i##1 = _mm256_fmadd_ps(xb, w3, d##i##1);                       \
	}
#define PUT4(i)                                                                   \
	if (MR > i) {                                                             \
		float t[MG_PANEL];                                                \
		_mm256_storeu_ps(t, c##i##0);                                     \
		_mm256_storeu_ps(t + 8, c##i##1);                                 \
		put16(out + i * ldo, t, bias, add, p * MG_PANEL, w->OC);               \
		_mm256_storeu_ps(t, d##i##0);                                     \
		_mm256_storeu_ps(t + 8, d##i##1);                                 \
		put16(out + i * ldo, t, bias, add, (p + 1) * MG_PANEL, w->OC);         \
	}

static inline __attribute__((always_inline)) void micro2(const int MR, float *out, size_t ldo, const float *x,
							  size_t ldx, const mg_packed *w, uint32_t p, const float *bias,
							  int add)
{
	size_t ps = (size_t)w->IC * MG_PANEL;
	const float *wp = w->p + p * ps;
	ZERO2(0);
	ZERO2(1);
	ZERO2(2);
	__m256 d00 = c00, d01 = c00, d10 = c00, d11 = c00, d20 = c00, d21 = c00;

	for (uint32_t k = 0; k < w->IC; k++) {
		const float *q = wp + k * MG_PANEL;
		__m256 w0 = _mm256_load_ps(q), w1 = _mm256_load_ps(q + 8);
		__m256 w2 = _mm256_load_ps(q + ps), w3 = _mm256_load_ps(q + ps + 8);
		FMA4(0) FMA4(1) FMA4(2)
	}
	PUT4(0) PUT4(1) PUT4(2)
}

/* One row of four panels p..p+3: eight independent chains while the
 * weights stream in. */
static void row_x4(float *out, const float *x, const mg_packed *w, uint32_t p, const float *bias, int add)
{
	size_t ps = (size_t)w->IC * MG_PANEL;
	const float *wp = w->p + p * ps;
	ZERO2(0);
	ZERO2(1);
	ZERO2(2);
	ZERO2(3);

	for (uint32_t k = 0; k < w->IC; k++) {
		__m256 xb = _mm256_broadcast_ss(x + k);
		const float *q = wp + k * MG_PANEL;
		c00 = _mm256_fmadd_ps(xb, _mm256_load_ps(q), c00);
		c01 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + 8), c01);
		c10 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + ps), c10);
		c11 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + ps + 8), c11);
		c20 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + 2 * ps), c20);
		c21 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + 2 * ps + 8), c21);
		c30 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + 3 * ps), c30);
		c31 = _mm256_fmadd_ps(xb, _mm256_load_ps(q + 3 * ps + 8), c31);
	}
	{
		float t[MG_PANEL];
		_mm256_storeu_ps(t, c00), _mm256_storeu_ps(t + 8, c01), put16(out, t, bias, add, p * MG_PANEL, w->OC);
		_mm256_storeu_ps(t, c10), _mm256_storeu_ps(t + 8, c11), put16(out, t, bias, add, (p + 1) * MG_PANEL, w->OC);
		_mm256_storeu_ps(t, c20), _mm256_storeu_ps(t + 8, c21), put16(out, t, bias, add, (p + 2) * MG_PANEL, w->OC);
		_mm256_storeu_ps(t, c30), _mm256_storeu_ps(t + 8, c31), put16(out, t, bias, add, (p + 3) * MG_PANEL, w->OC);
	}
}
#else
static inline void micro(const int MR, float *out, size_t ldo, const float *x, size_t ldx, const mg_packed *w,
			 uint32_t p, const float *bias, int add)
{
	const float *wp = w->p + (size_t)p * w->IC * MG_PANEL;

	for (int i = 0; i < MR; i++) {
		float t[MG_PANEL] = { 0 };
		for (uint32_t k = 0; k < w->IC; k++)
			for (int l = 0; l < MG_PANEL; l++)
				t[l] = fmaf(x[i * ldx + k], wp[k * MG_PANEL + l], t[l]);
		put16(out + i * ldo, t, bias, add, p * MG_PANEL, w->OC);
	}
}

static inline void micro2(const int MR, float *out, size_t ldo, const float *x, size_t ldx, const mg_packed *w,
			  uint32_t p, const float *bias, int add)
{
	micro(MR, out, ldo, x, ldx, w, p, bias, add);
	micro(MR, out, ldo, x, ldx, w, p + 1, bias, add);
}

static void row_x4(float *out, const float *x, const mg_packed *w, uint32_t p, const float *bias, int add)
{
	for (uint32_t j = 0; j < GROUP; j++)
		micro(1, out, 0, x, 0, w, p + j, bias, add);
}
#endif

/* Rows r0.. (fewer than MR_MAX) of one panel. */
static void tail_rows(int n, float *out, size_t ldo, const float *x, size_t ldx, const mg_packed *w, uint32_t p,
		      const float *bias, int add)
{
	switch (n) {
	case 1: micro(1, out, ldo, x, ldx, w, p, bias, add); break;
	case 2: micro(2, out, ldo, x, ldx, w, p, bias, add); break;
	case 3: micro(3, out, ldo, x, ldx, w, p, bias, add); break;
	case 4: micro(4, out, ldo, x, ldx, w, p, bias, add); break;
	case 5: micro(5, out, ldo, x, ldx, w, p, bias, add); break;
	default: break;
	}
}

/* out (R,OC) (+)= x (R,IC) w^T + bias, rows ldo and ldx floats apart. */
static void packed_matmul(float *out, size_t ldo, const float *x, size_t ldx, size_t R, const mg_packed *w,
			  const float *bias, int add)
{
	uint32_t groups = (w->panels + GROUP - 1) / GROUP;

	if (!R)
		return;
#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if (R * w->OC * w->IC >= PAR_WORK)
	for (uint32_t g = 0; g < groups; g++) {
		uint32_t p0 = g * GROUP, np = w->panels - p0 < GROUP ? w->panels - p0 : GROUP;

		if (R == 1 && np == GROUP) {
			row_x4(out, x, w, p0, bias, add);
			continue;
		}
		if (R <= 3) {
			/* few rows: two panels at a time, for twice the chains */
			uint32_t p = p0;
			for (; p + 2 <= p0 + np; p += 2)
				switch (R) {
				case 1: micro2(1, out, ldo, x, ldx, w, p, bias, add); break;
				case 2: micro2(2, out, ldo, x, ldx, w, p, bias, add); break;
				default: micro2(3, out, ldo, x, ldx, w, p, bias, add); break;
				}
			if (p < p0 + np)
				tail_rows((int)R, out, ldo, x, ldx, w, p, bias, add);
			continue;
		}
		for (uint32_t p = p0; p < p0 + np; p++) {
			size_t r = 0;
			for (; r + MR_MAX <= R; r += MR_MAX)
				micro(MR_MAX, out + r * ldo, ldo, x + r * ldx, ldx, w, p, bias, add);
			tail_rows((int)(R - r), out + r * ldo, ldo, x + r * ldx, ldx, w, p, bias, add);
		}
	}
}

size_t mg_cpu_infer_pack_bytes(uint32_t dtype, uint32_t OC, uint32_t IC)
{
	if (dtype == MG_DTYPE_F32)
		return pack_floats(OC, IC) * sizeof(float);
	return mg_cpu_quant_pack_bytes(dtype, OC, IC);
}

void mg_cpu_infer_pack(void *dst, const void *w, uint32_t dtype, uint32_t OC, uint32_t IC)
{
	if (dtype == MG_DTYPE_F32)
		pack_f32(dst, w, OC, IC);
	else
		mg_cpu_quant_pack(dst, w, dtype, OC, IC);
}

void mg_cpu_infer_matmul(float *out, const float *inp, const void *wp, uint32_t dtype, const float *bias, size_t N,
			 uint32_t IC, uint32_t OC, int add)
{
	mg_packed w = { wp, IC, OC, (OC + MG_PANEL - 1) / MG_PANEL };

	if (dtype == MG_DTYPE_F32)
		packed_matmul(out, OC, inp, IC, N, &w, bias, add);
	else
		mg_cpu_quant_matmul(out, inp, wp, dtype, bias, N, IC, OC, add);
}
