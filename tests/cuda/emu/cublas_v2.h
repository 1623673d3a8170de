/* A host stand-in for the cuBLAS calls of cuda/*.cu (see cuda_runtime.h):
 * column-major products by plain loops, summed in double. */
#pragma once
#include <cstdio>
#include "cuda_runtime.h"
typedef int cublasHandle_t;
typedef int cublasStatus_t;
typedef int cublasOperation_t;
enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_OP_N = 0, CUBLAS_OP_T = 1, CUBLAS_DEFAULT_MATH = 0,
       CUBLAS_ATOMICS_NOT_ALLOWED = 0, CUBLAS_POINTER_MODE_HOST = 0 };
inline const char *cublasGetStatusString(cublasStatus_t) { return "emulated"; }
inline cublasStatus_t cublasCreate(cublasHandle_t *h) { *h = 1; return 0; }
inline cublasStatus_t cublasSetMathMode(cublasHandle_t, int) { return 0; }
inline cublasStatus_t cublasSetAtomicsMode(cublasHandle_t, int) { return 0; }
inline cublasStatus_t cublasSetPointerMode(cublasHandle_t, int) { return 0; }
// column-major reference: C = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n
inline cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
				  const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
				  float *C, int ldc)
{
	if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) { fprintf(stderr, "EMU sgemm bad ld\n"); abort(); }
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			double s = 0;
			for (int l = 0; l < k; l++) {
				float a = ta ? A[l + (size_t)i * lda] : A[i + (size_t)l * lda];
				float b = tb ? B[j + (size_t)l * ldb] : B[l + (size_t)j * ldb];
				s += (double)a * b;
			}
			float *c = &C[i + (size_t)j * ldc];
			*c = (float)(*alpha * s + (*beta != 0 ? *beta * *c : 0.0f));
		}
	return 0;
}
inline cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
						int n, int k, const float *alpha, const float *A, int lda, long long sa,
						const float *B, int ldb, long long sb, const float *beta, float *C, int ldc,
						long long sc, int batch)
{
	for (int q = 0; q < batch; q++)
		cublasSgemm(h, ta, tb, m, n, k, alpha, A + q * sa, lda, B + q * sb, ldb, beta, C + q * sc, ldc);
	return 0;
}
