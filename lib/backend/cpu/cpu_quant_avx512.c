/* The AVX-512 kernels (F, BW, VL and VNNI) of the f16, bf16 and q8 Linear
 * layer (cpu_quant.h): built for those instructions whatever -march says,
 * run only where the CPU has them (cpu_quant.c asks it).
 *
 * A panel's 16 outputs are one 512-bit register. q8: a group of 4 inputs x
 * 16 outputs is one register of weights, and vpdpbusd adds to each 32-bit
 * lane the four products of its unsigned bytes by the broadcast signed
 * activation bytes, exactly (no saturation). The weights are signed, so
 * they enter as w + 128 (an xor of the sign bit) and each block's sum
 * starts at -128 sum(q) of the activations (s of mg_cpu_qrows): the same
 * integer as the plain sum of q w. f16 (vcvtph2ps) and bf16 (a shift)
 * widen exactly, then one FMA per input in order, as the f32 kernel.
 * AVX-512 BF16's vdpbf16ps is not used: it would round the activations to
 * bf16, not the contract's arithmetic. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_quant.h"

#define INLINE static inline __attribute__((always_inline))

/* The contract's quantization (cpu_quant_portable.c says why q fits). */
static void quantize_avx512(int8_t *q, float *d, int32_t *s, const float *x, uint32_t nb)
{
	for (uint32_t b = 0; b < nb; b++, x += MG_Q8_BLOCK, q += MG_Q8_BLOCK) {
		__m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16), vi;
		__m512i q0, q1;
		float a, inv;

		a = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
		d[b] = a / 127.0f;
		inv = 1.0f / d[b];
		if (isinf(inv))
			inv = 0.0f;
		vi = _mm512_set1_ps(inv);
		/* vcvtps2dq rounds as rintf: to nearest, ties to even */
		q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, vi));
		q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, vi));
		s[b] = 128 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
		_mm_storeu_si128((__m128i *)q, _mm512_cvtsepi32_epi8(q0));
		_mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtsepi32_epi8(q1));
	}
}

/* MR rows x NP panels of q8 blocks; the int32 sums of one panel at a time,
 * the float sums of all in registers. */
INLINE void q8_tile(const int MR, const int NP, float *f, const mg_cpu_qrows *x, const uint8_t *w, size_t pstride,
		    uint32_t nblk)
{
	const __m512i bias = _mm512_set1_epi8((char)0x80);
	__m512 acc[8][4]; /* fixed bounds, constant indices: registers */

#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++)
			acc[r][j] = _mm512_loadu_ps(f + r * 64 + MG_QPANEL * j);
	for (uint32_t b = 0; b < nblk; b++) {
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			const uint8_t *blk = w + j * pstride + (size_t)b * MG_Q8_PANEL_BLOCK;
			__m512 sc = _mm512_load_ps((const float *)blk);
			__m512i s[8];

#pragma GCC unroll 8
			for (int r = 0; r < MR; r++)
				s[r] = _mm512_set1_epi32(-x->s[r * x->ldb + b]);
#pragma GCC unroll 8
			for (int g = 0; g < MG_Q8_BLOCK / 4; g++) {
				__m512i wu = _mm512_xor_si512(_mm512_load_si512(blk + 64 + 64 * g), bias);
#pragma GCC unroll 8
				for (int r = 0; r < MR; r++) {
					int32_t x4;
					memcpy(&x4, x->q + r * x->ldq + (size_t)b * MG_Q8_BLOCK + 4 * g, 4);
					s[r] = _mm512_dpbusd_epi32(s[r], wu, _mm512_set1_epi32(x4));
				}
			}
#pragma GCC unroll 8
			for (int r = 0; r < MR; r++)
				acc[r][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]),
							    _mm512_mul_ps(sc, _mm512_set1_ps(x->d[r * x->ldb + b])),
							    acc[r][j]);
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++)
			_mm512_storeu_ps(f + r * 64 + MG_QPANEL * j, acc[r][j]);
}

/* One row: all np panels at once; more rows: up to 8 rows of one panel. */
static void q8_avx512(float *f, const mg_cpu_qrows *x, size_t R, const uint8_t *w, size_t pstride, uint32_t np,
		      uint32_t nblk)
{
	if (R == 1) {
		switch (np) {
		case 1: q8_tile(1, 1, f, x, w, pstride, nblk); break;
		case 2: q8_tile(1, 2, f, x, w, pstride, nblk); break;
		case 3: q8_tile(1, 3, f, x, w, pstride, nblk); break;
		default: q8_tile(1, 4, f, x, w, pstride, nblk); break;
		}
		return;
	}
	for (uint32_t j = 0; j < np; j++) {
		float *fj = f + MG_QPANEL * j;
		const uint8_t *wj = w + j * pstride;
		switch (R) {
		case 2: q8_tile(2, 1, fj, x, wj, pstride, nblk); break;
		case 3: q8_tile(3, 1, fj, x, wj, pstride, nblk); break;
		case 4: q8_tile(4, 1, fj, x, wj, pstride, nblk); break;
		case 5: q8_tile(5, 1, fj, x, wj, pstride, nblk); break;
		case 6: q8_tile(6, 1, fj, x, wj, pstride, nblk); break;
		case 7: q8_tile(7, 1, fj, x, wj, pstride, nblk); break;
		default: q8_tile(8, 1, fj, x, wj, pstride, nblk); break;
		}
	}
}

/* The 16 outputs' halves of one input widened to floats, exactly; bf16
 * in its order of places (cpu_quant.c), which unplace() undoes. */
INLINE __m512 widen(const int BF16, const uint16_t *w)
{
	__m256i a = _mm256_loadu_si256((const __m256i *)w);

	if (BF16)
		return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(a), 16));
	return _mm512_cvtph_ps(a);
}

INLINE __m512 unplace(const int BF16, __m512 v)
{
	const __m512i from = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);

	return BF16 ? _mm512_permutexvar_ps(from, v) : v;
}

/* MR rows x NP panels of f16 or bf16 weights, all sums in registers. */
INLINE void half_tile(const int BF16, const int MR, const int NP, float *f, const float *x, size_t ldx,
		      const uint16_t *w, size_t pstride, uint32_t IC)
{
	__m512 acc[8][1]; /* fixed bounds, constant indices: registers */

#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++)
			acc[r][j] = _mm512_setzero_ps();
	for (uint32_t k = 0; k < IC; k++) {
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++) {
			__m512 wv = widen(BF16, w + j * pstride + (size_t)k * MG_QPANEL);
#pragma GCC unroll 8
			for (int r = 0; r < MR; r++)
				acc[r][j] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + k]), wv, acc[r][j]);
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
		for (int j = 0; j < NP; j++)
			_mm512_storeu_ps(f + r * 64 + MG_QPANEL * j, unplace(BF16, acc[r][j]));
}

/* Up to 8 rows of one panel. */
INLINE void half_any(const int BF16, float *f, const float *x, size_t ldx, size_t R, const uint16_t *w,
		     size_t pstride, uint32_t np, uint32_t IC)
{
	for (uint32_t j = 0; j < np; j++) {
		float *fj = f + MG_QPANEL * j;
		const uint16_t *wj = w + j * pstride;
		switch (R) {
		case 1: half_tile(BF16, 1, 1, fj, x, ldx, wj, pstride, IC); break;
		case 2: half_tile(BF16, 2, 1, fj, x, ldx, wj, pstride, IC); break;
		case 3: half_tile(BF16, 3, 1, fj, x, ldx, wj, pstride, IC); break;
		case 4: half_tile(BF16, 4, 1, fj, x, ldx, wj, pstride, IC); break;
		case 5: half_tile(BF16, 5, 1, fj, x, ldx, wj, pstride, IC); break;
		case 6: half_tile(BF16, 6, 1, fj, x, ldx, wj, pstride, IC); break;
		case 7: half_tile(BF16, 7, 1, fj, x, ldx, wj, pstride, IC); break;
		default: half_tile(BF16, 8, 1, fj, x, ldx, wj, pstride, IC); break;
		}
	}
}

/* One row goes to the AVX2 kernel: as fast or faster where measured
 * (AMD Zen 4, whose 512-bit units are two 256-bit ones), the same bits. */
static void half_avx512(float *f, const float *x, size_t ldx, size_t R, const uint16_t *w, size_t pstride,
			uint32_t np, uint32_t IC, int bf16)
{
	if (R == 1)
		mg_cpu_quant_avx2.half(f, x, ldx, R, w, pstride, np, IC, bf16);
	else if (bf16)
		half_any(1, f, x, ldx, R, w, pstride, np, IC);
	else
		half_any(0, f, x, ldx, R, w, pstride, np, IC);
}

const mg_cpu_quant_kernels mg_cpu_quant_avx512vnni = { quantize_avx512, q8_avx512, half_avx512 };

#endif
