/* Small single-threaded matrix products for blocks that sit in cache (the
 * attention of one sequence and head), without OpenBLAS's per-call packing,
 * with causal limits so the zeros of a triangular operand are skipped. */
#ifndef MG_SMALLGEMM_H
#define MG_SMALLGEMM_H

#include <stddef.h>
#include <stdint.h>

enum {
	MG_SG_NN,     /* a(r,p) = A[r lda + p]: C = alpha A B */
	MG_SG_TN,     /* a(r,p) = A[p lda + r]: C = alpha A^T B */
	MG_SG_ACC = 4 /* flag: C += the product (else C = the product) */
};

/* C (m,n), ldc = alpha sum over p < k of a(r,p) B[p ldb + c], with A as
 * `mode` says. Causal limits (-1: none), for the row r of C:
 *   climit >= 0: only columns c <= climit + r are computed (the others are
 *                left as they were);
 *   plimit >= 0: NN: only p <= plimit + r (a(r,p) is 0 beyond);
 *                TN: only p >= r - plimit (a(r,p) is 0 before).
 * Each element is summed over p in order: the bits depend only on the
 * operands and the limits. */
void mg_smallgemm(int mode, uint32_t m, uint32_t n, uint32_t k, float alpha, const float *A, size_t lda,
		   const float *B, size_t ldb, float *C, size_t ldc, int64_t climit, int64_t plimit);

/* dst (n,m), ldd = src (m,n), lds transposed; dst (m,n), ldd = src. */
void mg_smallgemm_transpose(float *dst, size_t ldd, const float *src, size_t lds, uint32_t m, uint32_t n);
void mg_smallgemm_copy(float *dst, size_t ldd, const float *src, size_t lds, uint32_t m, uint32_t n);

#endif
