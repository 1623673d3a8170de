/* The AVX2 kernels (with FMA and F16C) of the f16, bf16 and q8 Linear
 * layer (cpu_quant.h): built for those instructions whatever -march says,
 * run only where the CPU has them (cpu_quant.c asks it).
 *
 * q8: a group of 4 inputs x 16 outputs is two 32-byte vectors of weights;
 * the 4 activation bytes of the group are broadcast to every 32-bit lane.
 * maddubs multiplies unsigned by signed bytes, so the sign moves onto the
 * activations: |w| times (x with w's sign) is w x, and each pair sum is at
 * most 2 127 127 < 2^15, so the 16-bit sums never saturate; madd with ones
 * then adds the pairs into the 32-bit lanes: exact int32 dot products of 4,
 * added over the block's 8 groups in any order to the same integer.
 * f16 (vcvtph2ps) and bf16 (a shift) widen exactly, then one FMA per input
 * in order, as the f32 kernel. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_quant.h"

#define INLINE static inline __attribute__((always_inline))

/* The contract's quantization (cpu_quant_portable.c says why q fits). */
static void quantize_avx2(int8_t *q, float *d, int32_t *s, const float *x, uint32_t nb)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);

	for (uint32_t b = 0; b < nb; b++, x += MG_Q8_BLOCK, q += MG_Q8_BLOCK) {
		__m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
		__m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24), m, vi;
		__m256i q0, q1, q2, q3, t;
		__m128 h;
		float a, inv;

		m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, absmask), _mm256_and_ps(v1, absmask)),
				  _mm256_max_ps(_mm256_and_ps(v2, absmask), _mm256_and_ps(v3, absmask)));
		h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
		h = _mm_max_ps(h, _mm_movehl_ps(h, h));
		h = _mm_max_ss(h, _mm_movehdup_ps(h));
		a = _mm_cvtss_f32(h);
		d[b] = a / 127.0f;
		inv = 1.0f / d[b];
		if (isinf(inv))
			inv = 0.0f;
		vi = _mm256_set1_ps(inv);
		/* vcvtps2dq rounds as rintf: to nearest, ties to even */
		q0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vi));
		q1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vi));
		q2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vi));
		q3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vi));
		t = _mm256_add_epi32(_mm256_add_epi32(q0, q1), _mm256_add_epi32(q2, q3));
		{
			__m128i u = _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
			u = _mm_add_epi32(u, _mm_shuffle_epi32(u, 0x4e));
			u = _mm_add_epi32(u, _mm_shuffle_epi32(u, 0xb1));
			s[b] = 128 * _mm_cvtsi128_si32(u);
		}
		/* the packs interleave the 128-bit halves; the permute restores
		 * the order */
		t = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
		_mm256_storeu_si256((__m256i *)q, _mm256_permutevar8x32_epi32(t, order));
	}
}

/* MR rows x NP panels of q8 blocks; the int32 sums of one panel at a time,
 * the float sums of all in registers. */
INLINE void q8_tile(const int MR, const int NP, float *f, const mg_cpu_qrows *x, const uint8_t *w, size_t pstride,
		    uint32_t nblk)
{
	const __m256i ones = _mm256_set1_epi16(1);
	__m256 acc[2][2][2]; /* fixed bounds, constant indices: registers */

#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			acc[r][j][0] = _mm256_loadu_ps(f + r * 64 + MG_QPANEL * j);
			acc[r][j][1] = _mm256_loadu_ps(f + r * 64 + MG_QPANEL * j + 8);
		}
	for (uint32_t b = 0; b < nblk; b++) {
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			const uint8_t *blk = w + j * pstride + (size_t)b * MG_Q8_PANEL_BLOCK;
			__m256i s[2][2];
			__m256 sc0 = _mm256_load_ps((const float *)blk), sc1 = _mm256_load_ps((const float *)blk + 8);

#pragma GCC unroll 8
			for (int r = 0; r < MR; r++)
				s[r][0] = s[r][1] = _mm256_setzero_si256();
#pragma GCC unroll 8
			for (int g = 0; g < MG_Q8_BLOCK / 4; g++) {
				__m256i w0 = _mm256_load_si256((const __m256i *)(blk + 64 + 64 * g));
				__m256i w1 = _mm256_load_si256((const __m256i *)(blk + 96 + 64 * g));
				__m256i a0 = _mm256_abs_epi8(w0), a1 = _mm256_abs_epi8(w1);
#pragma GCC unroll 8
				for (int r = 0; r < MR; r++) {
					int32_t x4;
					__m256i xb;
					memcpy(&x4, x->q + r * x->ldq + (size_t)b * MG_Q8_BLOCK + 4 * g, 4);
					xb = _mm256_set1_epi32(x4);
					s[r][0] = _mm256_add_epi32(
						s[r][0],
						_mm256_madd_epi16(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(xb, w0)), ones));
					s[r][1] = _mm256_add_epi32(
						s[r][1],
						_mm256_madd_epi16(_mm256_maddubs_epi16(a1, _mm256_sign_epi8(xb, w1)), ones));
				}
			}
#pragma GCC unroll 8
			for (int r = 0; r < MR; r++) {
				__m256 dr = _mm256_set1_ps(x->d[r * x->ldb + b]);
				acc[r][j][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][0]), _mm256_mul_ps(sc0, dr),
							       acc[r][j][0]);
				acc[r][j][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][1]), _mm256_mul_ps(sc1, dr),
							       acc[r][j][1]);
			}
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			_mm256_storeu_ps(f + r * 64 + MG_QPANEL * j, acc[r][j][0]);
			_mm256_storeu_ps(f + r * 64 + MG_QPANEL * j + 8, acc[r][j][1]);
		}
}

/* One row: two panels at a time; more rows: two rows of one panel. */
static void q8_avx2(float *f, const mg_cpu_qrows *x, size_t R, const uint8_t *w, size_t pstride, uint32_t np,
		    uint32_t nblk)
{
	if (R == 1) {
		uint32_t j = 0;
		for (; j + 2 <= np; j += 2)
			q8_tile(1, 2, f + MG_QPANEL * j, x, w + j * pstride, pstride, nblk);
		if (j < np)
			q8_tile(1, 1, f + MG_QPANEL * j, x, w + j * pstride, pstride, nblk);
		return;
	}
	for (uint32_t j = 0; j < np; j++) {
		size_t r = 0;
		for (; r + 2 <= R; r += 2) {
			mg_cpu_qrows y = { x->q + r * x->ldq, x->d + r * x->ldb, x->s + r * x->ldb, x->ldq, x->ldb };
			q8_tile(2, 1, f + r * 64 + MG_QPANEL * j, &y, w + j * pstride, pstride, nblk);
		}
		if (r < R) {
			mg_cpu_qrows y = { x->q + r * x->ldq, x->d + r * x->ldb, x->s + r * x->ldb, x->ldq, x->ldb };
			q8_tile(1, 1, f + r * 64 + MG_QPANEL * j, &y, w + j * pstride, pstride, nblk);
		}
	}
}

/* The 16 outputs' halves of one input widened to floats, exactly (bf16:
 * in its order of places, cpu_quant.c). */
INLINE void widen(const int BF16, const uint16_t *w, __m256 *lo, __m256 *hi)
{
	if (BF16) {
		__m256i v = _mm256_loadu_si256((const __m256i *)w);
		*lo = _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
		*hi = _mm256_castsi256_ps(_mm256_and_si256(v, _mm256_set1_epi32((int)0xffff0000u)));
	} else {
		*lo = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w));
		*hi = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 8)));
	}
}

/* MR rows x NP panels of f16 or bf16 weights, all sums in registers. */
INLINE void half_tile(const int BF16, const int MR, const int NP, float *f, const float *x, size_t ldx,
		      const uint16_t *w, size_t pstride, uint32_t IC)
{
	__m256 acc[6][4][2]; /* fixed bounds, constant indices: registers */

#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++)
			acc[r][j][0] = acc[r][j][1] = _mm256_setzero_ps();
	for (uint32_t k = 0; k < IC; k++) {
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			__m256 w0, w1;
			widen(BF16, w + j * pstride + (size_t)k * MG_QPANEL, &w0, &w1);
#pragma GCC unroll 8
			for (int r = 0; r < MR; r++) {
				__m256 xb = _mm256_broadcast_ss(x + r * ldx + k);
				acc[r][j][0] = _mm256_fmadd_ps(xb, w0, acc[r][j][0]);
				acc[r][j][1] = _mm256_fmadd_ps(xb, w1, acc[r][j][1]);
			}
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			_mm256_storeu_ps(f + r * 64 + MG_QPANEL * j, acc[r][j][0]);
			_mm256_storeu_ps(f + r * 64 + MG_QPANEL * j + 8, acc[r][j][1]);
		}
}

/* One row: up to four panels at once (eight chains while the weights
 * stream in); more rows: up to six rows of one panel (twelve chains, two
 * widened weight vectors and six broadcasts per twelve FMAs, as the f32
 * kernel). */
INLINE void half_any(const int BF16, float *f, const float *x, size_t ldx, size_t R, const uint16_t *w,
		     size_t pstride, uint32_t np, uint32_t IC)
{
	if (R == 1) {
		switch (np) {
		case 1: half_tile(BF16, 1, 1, f, x, ldx, w, pstride, IC); break;
		case 2: half_tile(BF16, 1, 2, f, x, ldx, w, pstride, IC); break;
		case 3: half_tile(BF16, 1, 3, f, x, ldx, w, pstride, IC); break;
		default: half_tile(BF16, 1, 4, f, x, ldx, w, pstride, IC); break;
		}
		return;
	}
	for (uint32_t j = 0; j < np; j++)
		for (size_t r = 0; r < R; r += 6) {
			float *fr = f + r * 64 + MG_QPANEL * j;
			const float *xr = x + r * ldx;
			const uint16_t *wj = w + j * pstride;
			switch (R - r) {
			case 1: half_tile(BF16, 1, 1, fr, xr, ldx, wj, pstride, IC); break;
			case 2: half_tile(BF16, 2, 1, fr, xr, ldx, wj, pstride, IC); break;
			case 3: half_tile(BF16, 3, 1, fr, xr, ldx, wj, pstride, IC); break;
			case 4: half_tile(BF16, 4, 1, fr, xr, ldx, wj, pstride, IC); break;
			case 5: half_tile(BF16, 5, 1, fr, xr, ldx, wj, pstride, IC); break;
			default: half_tile(BF16, 6, 1, fr, xr, ldx, wj, pstride, IC); break;
			}
		}
}

static void half_avx2(float *f, const float *x, size_t ldx, size_t R, const uint16_t *w, size_t pstride,
		      uint32_t np, uint32_t IC, int bf16)
{
	if (bf16)
		half_any(1, f, x, ldx, R, w, pstride, np, IC);
	else
		half_any(0, f, x, ldx, R, w, pstride, np, IC);
}

const mg_cpu_quant_kernels mg_cpu_quant_avx2 = { quantize_avx2, q8_avx2, half_avx2 };

#endif
