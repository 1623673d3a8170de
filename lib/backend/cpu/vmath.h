/* Vector math for the CPU kernels: 8-float AVX2/FMA helpers (exp, sums and
 * maxima across lanes, partial-vector masks, the dropout hash of backend.h
 * eight elements at a time); kernels keep plain C loops without AVX2.
 *
 * A kernel whose element must get the same bits wherever it sits (GELU: the
 * sampler runs it on any number of rows) runs its last partial vector
 * masked rather than finishing it in scalar code. */
#ifndef MG_VMATH_H
#define MG_VMATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MG_VMATH_AVX2 1
#else
#define MG_VMATH_AVX2 0
#endif

#if MG_VMATH_AVX2

/* e^x to about 1 ulp (Cephes' expf polynomial on x - n ln2, scaled by 2^n):
 * x above 88 gives e^88, x below -87.33 (under FLT_MIN) gives 0. */
static inline __m256 mg_v8_exp(__m256 x)
{
	const __m256 lo = _mm256_set1_ps(-87.3365447504f);
	__m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ), fx, r, p, y;
	__m256i n;

	x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.0f));
	fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
	r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
	r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
	p = _mm256_set1_ps(1.9875691500e-4f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	y = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
	y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
	n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
	return _mm256_andnot_ps(under, _mm256_mul_ps(y, _mm256_castsi256_ps(n)));
}

/* Sum and maximum of the 8 lanes, in a fixed order. */
static inline float mg_v8_hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static inline float mg_v8_hmax(__m256 v)
{
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	s = _mm_max_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* Lanes [0, n) set, n in [0, 8]: a mask for the last partial vector. */
static inline __m256i mg_v8_mask(size_t n)
{
	static const int32_t m[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };
	return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

/* x * c modulo 2^64 in each 64-bit lane (AVX2 multiplies 32 x 32 bits). */
static inline __m256i mg_v4_mul64(__m256i x, uint64_t c)
{
	__m256i cl = _mm256_set1_epi64x((long long)(c & 0xffffffffu)), ch = _mm256_set1_epi64x((long long)(c >> 32));
	__m256i mid = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), cl), _mm256_mul_epu32(x, ch));

	return _mm256_add_epi64(_mm256_mul_epu32(x, cl), _mm256_slli_epi64(mid, 32));
}

/* mg_hash64(x) >> 40 in each 64-bit lane (rng.h; its last step, x ^ x >> 31,
 * leaves the top 24 bits alone). */
static inline __m256i mg_v4_hash_top24(__m256i x)
{
	x = _mm256_add_epi64(x, _mm256_set1_epi64x((long long)0x9e3779b97f4a7c15ull));
	x = mg_v4_mul64(_mm256_xor_si256(x, _mm256_srli_epi64(x, 30)), 0xbf58476d1ce4e5b9ull);
	x = mg_v4_mul64(_mm256_xor_si256(x, _mm256_srli_epi64(x, 27)), 0x94d049bb133111ebull);
	return _mm256_srli_epi64(x, 40);
}

/* The dropout multipliers of elements i .. i+7 of a site (backend.h's
 * scheme: kept when the top 24 bits of mg_hash64(seed + i) reach thr): keep
 * where kept, else 0, as the lanes of a vector; and the lanes as a mask. */
static inline __m256 mg_v8_drop_mask(uint64_t seed, uint64_t i, uint32_t thr)
{
	const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
	__m256i base = _mm256_add_epi64(_mm256_set1_epi64x((long long)(seed + i)), _mm256_setr_epi64x(0, 1, 2, 3));
	__m256i lim = _mm256_set1_epi64x((long long)thr - 1);
	__m256i k0 = _mm256_cmpgt_epi64(mg_v4_hash_top24(base), lim);
	__m256i k1 = _mm256_cmpgt_epi64(mg_v4_hash_top24(_mm256_add_epi64(base, _mm256_set1_epi64x(4))), lim);

	k0 = _mm256_permutevar8x32_epi32(k0, pick);
	k1 = _mm256_permutevar8x32_epi32(k1, pick);
	return _mm256_castsi256_ps(_mm256_permute2x128_si256(k0, k1, 0x20));
}

static inline __m256 mg_v8_drop_mult(uint64_t seed, uint64_t i, uint32_t thr, float keep)
{
	return _mm256_and_ps(mg_v8_drop_mask(seed, i, thr), _mm256_set1_ps(keep));
}

#endif

#endif
