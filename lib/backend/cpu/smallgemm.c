/* Small matrix products (lib/backend/cpu/smallgemm.h). With AVX2, tiles of 6 rows x 16
 * columns of C are kept in 12 registers while p runs: per step two loads of
 * a row of B, six broadcasts of a(r,p) and twelve FMAs, which the FMA pipes
 * bound, as in OpenBLAS's kernels; edge tiles mask their columns and
 * recompute row 0 in place of missing rows (not stored). */
#include "backend/cpu/smallgemm.h"

#include "backend/cpu/vmath.h"

#define MR 6
#define NR 16

static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

#if MG_VMATH_AVX2
/* One tile: rows r0 .. r0+mr-1 of C, columns c0 .. c0+nr-1, p in [p0, p1). */
static inline __attribute__((always_inline)) void tile(int mode, uint32_t mr, uint32_t nr, int64_t p0, int64_t p1,
						       float alpha, const float *A, size_t lda, const float *B,
						       size_t ldb, float *C, size_t ldc, int acc, int full)
{
	size_t ar = mode == MG_SG_NN ? lda : 1, ap = mode == MG_SG_NN ? 1 : lda;
	const float *a0 = A, *a1 = A + (mr > 1 ? ar : 0), *a2 = A + (mr > 2 ? 2 * ar : 0), *a3 = A + (mr > 3 ? 3 * ar : 0),
		    *a4 = A + (mr > 4 ? 4 * ar : 0), *a5 = A + (mr > 5 ? 5 * ar : 0);
	__m256i m0 = mg_v8_mask(nr < 8 ? nr : 8), m1 = mg_v8_mask(nr > 8 ? nr - 8 : 0);
	__m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
	       c40 = c00, c41 = c00, c50 = c00, c51 = c00, va = _mm256_set1_ps(alpha);

	for (int64_t p = p0; p < p1; p++) {
		const float *b = B + (size_t)p * ldb;
		__m256 b0 = full ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, m0);
		__m256 b1 = full ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, m1), x;
		size_t o = (size_t)p * ap;
#define ROW(a, c0, c1)                         \
	x = _mm256_broadcast_ss(a + o);        \
	c0 = _mm256_fmadd_ps(x, b0, c0);       \
	c1 = _mm256_fmadd_ps(x, b1, c1);
		ROW(a0, c00, c01) ROW(a1, c10, c11) ROW(a2, c20, c21) ROW(a3, c30, c31) ROW(a4, c40, c41) ROW(a5, c50, c51)
#undef ROW
	}
#define STORE(r, c0, c1)                                                                                    \
	if (r < mr) {                                                                                       \
		float *cr = C + (size_t)r * ldc;                                                            \
		c0 = _mm256_mul_ps(va, c0);                                                                 \
		c1 = _mm256_mul_ps(va, c1);                                                                 \
		if (full) {                                                                                 \
			if (acc)                                                                            \
				c0 = _mm256_add_ps(_mm256_loadu_ps(cr), c0),                                \
				c1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), c1);                            \
			_mm256_storeu_ps(cr, c0);                                                           \
			_mm256_storeu_ps(cr + 8, c1);                                                       \
		} else {                                                                                    \
			if (acc)                                                                            \
				c0 = _mm256_add_ps(_mm256_maskload_ps(cr, m0), c0),                         \
				c1 = _mm256_add_ps(_mm256_maskload_ps(cr + 8, m1), c1);                     \
			_mm256_maskstore_ps(cr, m0, c0);                                                    \
			_mm256_maskstore_ps(cr + 8, m1, c1);                                                \
		}                                                                                           \
	}
	STORE(0, c00, c01) STORE(1, c10, c11) STORE(2, c20, c21) STORE(3, c30, c31) STORE(4, c40, c41) STORE(5, c50, c51)
#undef STORE
}
#endif

void mg_smallgemm(int mode, uint32_t m, uint32_t n, uint32_t k, float alpha, const float *A, size_t lda,
		   const float *B, size_t ldb, float *C, size_t ldc, int64_t climit, int64_t plimit)
{
	int acc = !!(mode & MG_SG_ACC);

	mode &= ~MG_SG_ACC;
	for (uint32_t r0 = 0; r0 < m; r0 += MR) {
		uint32_t mr = m - r0 < MR ? m - r0 : MR;
		int64_t last = r0 + mr - 1, cols = n, p0 = 0, p1 = k;
		const float *Ar = mode == MG_SG_NN ? A + (size_t)r0 * lda : A + r0;

		if (climit >= 0)
			cols = min64(n, climit + last + 1);
		if (plimit >= 0 && mode == MG_SG_NN)
			p1 = min64(k, plimit + last + 1);
		if (plimit >= 0 && mode == MG_SG_TN)
			p0 = max64(0, (int64_t)r0 - plimit);
		for (int64_t c0 = 0; c0 < cols; c0 += NR) {
			uint32_t nr = cols - c0 < NR ? (uint32_t)(cols - c0) : NR;
#if MG_VMATH_AVX2
			if (nr == NR)
				tile(mode, mr, nr, p0, p1, alpha, Ar, lda, B + c0, ldb, C + (size_t)r0 * ldc + c0, ldc, acc, 1);
			else
				tile(mode, mr, nr, p0, p1, alpha, Ar, lda, B + c0, ldb, C + (size_t)r0 * ldc + c0, ldc, acc, 0);
#else
			for (uint32_t r = 0; r < mr; r++)
				for (uint32_t c = 0; c < nr; c++) {
					float s = 0.0f, *out = C + (size_t)(r0 + r) * ldc + c0 + c;
					for (int64_t p = p0; p < p1; p++)
						s += (mode == MG_SG_NN ? Ar[r * lda + p] : Ar[p * lda + r]) * B[p * ldb + c0 + c];
					*out = acc ? *out + alpha * s : alpha * s;
				}
#endif
		}
	}
}

void mg_smallgemm_transpose(float *dst, size_t ldd, const float *src, size_t lds, uint32_t m, uint32_t n)
{
	uint32_t i = 0, j;
#if MG_VMATH_AVX2
	/* 8 x 8 blocks: unpack pairs, then quads, then swap 128-bit halves */
	for (; i + 8 <= m; i += 8)
		for (j = 0; j + 8 <= n; j += 8) {
			const float *s0 = src + (size_t)i * lds + j;
			__m256 r0 = _mm256_loadu_ps(s0), r1 = _mm256_loadu_ps(s0 + lds), r2 = _mm256_loadu_ps(s0 + 2 * lds),
			       r3 = _mm256_loadu_ps(s0 + 3 * lds), r4 = _mm256_loadu_ps(s0 + 4 * lds),
			       r5 = _mm256_loadu_ps(s0 + 5 * lds), r6 = _mm256_loadu_ps(s0 + 6 * lds),
			       r7 = _mm256_loadu_ps(s0 + 7 * lds);
			__m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
			       t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
			       t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
			float *d0 = dst + (size_t)j * ldd + i;
			r0 = _mm256_shuffle_ps(t0, t2, 0x44), r1 = _mm256_shuffle_ps(t0, t2, 0xee);
			r2 = _mm256_shuffle_ps(t1, t3, 0x44), r3 = _mm256_shuffle_ps(t1, t3, 0xee);
			r4 = _mm256_shuffle_ps(t4, t6, 0x44), r5 = _mm256_shuffle_ps(t4, t6, 0xee);
			r6 = _mm256_shuffle_ps(t5, t7, 0x44), r7 = _mm256_shuffle_ps(t5, t7, 0xee);
			_mm256_storeu_ps(d0, _mm256_permute2f128_ps(r0, r4, 0x20));
			_mm256_storeu_ps(d0 + ldd, _mm256_permute2f128_ps(r1, r5, 0x20));
			_mm256_storeu_ps(d0 + 2 * ldd, _mm256_permute2f128_ps(r2, r6, 0x20));
			_mm256_storeu_ps(d0 + 3 * ldd, _mm256_permute2f128_ps(r3, r7, 0x20));
			_mm256_storeu_ps(d0 + 4 * ldd, _mm256_permute2f128_ps(r0, r4, 0x31));
			_mm256_storeu_ps(d0 + 5 * ldd, _mm256_permute2f128_ps(r1, r5, 0x31));
			_mm256_storeu_ps(d0 + 6 * ldd, _mm256_permute2f128_ps(r2, r6, 0x31));
			_mm256_storeu_ps(d0 + 7 * ldd, _mm256_permute2f128_ps(r3, r7, 0x31));
		}
	/* the columns past the last whole block of these rows */
	for (uint32_t r = 0; r < i; r++)
		for (j = n / 8 * 8; j < n; j++)
			dst[(size_t)j * ldd + r] = src[(size_t)r * lds + j];
#endif
	for (; i < m; i++)
		for (j = 0; j < n; j++)
			dst[(size_t)j * ldd + i] = src[(size_t)i * lds + j];
}

void mg_smallgemm_copy(float *dst, size_t ldd, const float *src, size_t lds, uint32_t m, uint32_t n)
{
	for (uint32_t i = 0; i < m; i++) {
		float *d = dst + (size_t)i * ldd;
		const float *s = src + (size_t)i * lds;
		uint32_t j = 0;
#if MG_VMATH_AVX2
		for (; j + 8 <= n; j += 8)
			_mm256_storeu_ps(d + j, _mm256_loadu_ps(s + j));
#endif
		for (; j < n; j++)
			d[j] = s[j];
	}
}
