/* The attention's small matrix products (lib/backend/cpu/smallgemm.c) against a double
 * reference: both layouts of A, overwrite and accumulate, edge tiles of
 * every size, the causal limits (with the zeros they promise), and the
 * transpose and copy helpers. */
#include "check.h"
#include "gradcheck.h"

#include "backend/cpu/smallgemm.h"

static void test_gemm(int mode, uint32_t m, uint32_t n, uint32_t k, int acc, int64_t climit, int64_t plimit)
{
	size_t lda = (mode == MG_SG_NN ? k : m) + 3, ldb = n + 5, ldc = n + 2;
	size_t arows = mode == MG_SG_NN ? m : k;
	float *A = gc_rand(arows * lda, -1, 1), *B = gc_rand(k * ldb, -1, 1), *C = gc_rand(m * ldc, -1, 1);
	float *C0 = gc_copy(C, m * ldc), alpha = 0.75f;
	double worst = 0.0, scale = 1e-3;
	int bad = 0;

	/* the zeros a causal operand has: NN a(r,p) = 0 for p > plimit + r,
	 * TN a(r,p) = 0 for p < r - plimit */
	for (uint32_t r = 0; r < m && plimit >= 0; r++)
		for (uint32_t p = 0; p < k; p++)
			if (mode == MG_SG_NN ? (int64_t)p > plimit + r : (int64_t)p < (int64_t)r - plimit)
				A[mode == MG_SG_NN ? r * lda + p : p * lda + r] = 0.0f;
	mg_smallgemm(mode | (acc ? MG_SG_ACC : 0), m, n, k, alpha, A, lda, B, ldb, C, ldc, climit, plimit);
	for (uint32_t r = 0; r < m; r++)
		for (uint32_t c = 0; c < ldc; c++) {
			double want = C0[r * ldc + c];
			if (c < n && (climit < 0 || (int64_t)c <= climit + r)) {
				double s = 0.0;
				for (uint32_t p = 0; p < k; p++)
					s += (double)(mode == MG_SG_NN ? A[r * lda + p] : A[p * lda + r]) * B[p * ldb + c];
				want = alpha * s + (acc ? want : 0.0);
				worst = fmax(worst, fabs(C[r * ldc + c] - want));
				scale = fmax(scale, fabs(want));
			} else if (c >= n) {
				bad += C[r * ldc + c] != C0[r * ldc + c]; /* past n: untouched */
			}
		}
	if (!(worst <= 1e-6 * scale) || bad) {
		fprintf(stderr, "small gemm mode %d %ux%ux%u acc %d limits %lld %lld: err %.3g of %.3g, %d written past n\n",
			mode, m, n, k, acc, (long long)climit, (long long)plimit, worst, scale, bad);
		check_failures++;
	}
	free(A), free(B), free(C), free(C0);
}

static void test_moves(uint32_t m, uint32_t n)
{
	size_t lds = n + 3, ldd = m + 5;
	float *s = gc_rand(m * lds, -1, 1), *d = calloc(n * ldd + m * lds, sizeof *d);

	mg_smallgemm_transpose(d, ldd, s, lds, m, n);
	for (uint32_t i = 0; i < m; i++)
		for (uint32_t j = 0; j < n; j++)
			CHECK(d[j * ldd + i] == s[i * lds + j]);
	mg_smallgemm_copy(d, lds, s, lds, m, n);
	for (uint32_t i = 0; i < m; i++)
		CHECK(!memcmp(d + i * lds, s + i * lds, n * sizeof *d));
	free(s), free(d);
}

int main(void)
{
	static const uint32_t sizes[] = { 1, 5, 6, 7, 13, 16, 17, 33, 64 };
	int cases = 0;

	gc_seed(12);
	for (int mode = MG_SG_NN; mode <= MG_SG_TN; mode++)
		for (size_t i = 0; i < 9; i++)
			for (size_t j = 0; j < 9; j++)
				for (size_t l = 0; l < 9; l += 2) {
					uint32_t m = sizes[i], n = sizes[j], k = sizes[l];
					test_gemm(mode, m, n, k, 0, -1, -1);
					test_gemm(mode, m, n, k, 1, -1, -1);
					test_gemm(mode, m, n, k, (int)(i + j) & 1, (int64_t)(j % 3) * 4, -1);
					test_gemm(mode, m, n, k, (int)(i + l) & 1, -1, (int64_t)(l % 3) * 5);
					cases += 4;
				}
	for (size_t i = 0; i < 9; i++)
		for (size_t j = 0; j < 9; j++)
			test_moves(sizes[i], sizes[j]);
	printf("  small gemm: %d cases against double\n", cases);
	CHECK_DONE();
}
