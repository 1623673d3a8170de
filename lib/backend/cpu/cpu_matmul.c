/* Linear layers (CPU) through OpenBLAS's cblas_sgemm, as PyTorch's Linear:
 * out (N,OC) = inp (N,IC) w^T + bias with w (OC,IC). Each thread multiplies
 * its own slab (rows of out and dinp, rows or columns of dw) with OpenBLAS
 * kept single-threaded, so one pool of threads owns the cores: measured
 * here, faster on these shapes than OpenBLAS's own threads on whole
 * matrices (which also spin against the kernels' OpenMP threads). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "core/threads.h"

/* OpenBLAS kept at one thread, set once before main: every program that
 * can multiply through this backend links this file. */
__attribute__((constructor)) static void blas_one_thread(void) { openblas_set_num_threads(1); }

/* The k-th of `parts` nearly equal contiguous ranges of [0, n). */
static void slab(size_t n, int parts, int k, size_t *lo, size_t *hi)
{
	size_t q = n / (size_t)parts, r = n % (size_t)parts;

	*lo = (size_t)k * q + ((size_t)k < r ? (size_t)k : r);
	*hi = *lo + q + ((size_t)k < r);
}

/* dbias[o] += sum over n of dout[n,o], for o in [lo, hi), rows in order. */
static void column_sums(float *dbias, const float *dout, size_t N, uint32_t OC, size_t lo, size_t hi)
{
	for (size_t n = 0; n < N; n++) {
		const float *d = dout + n * OC;
		size_t o = lo;
#if MG_VMATH_AVX2
		for (; o + 8 <= hi; o += 8)
			_mm256_storeu_ps(dbias + o, _mm256_add_ps(_mm256_loadu_ps(dbias + o), _mm256_loadu_ps(d + o)));
#endif
		for (; o < hi; o++)
			dbias[o] += d[o];
	}
}

void mg_cpu_matmul_forward(float *out, const float *inp, const float *w, const float *bias, size_t N, uint32_t IC,
			   uint32_t OC)
{
#pragma omp parallel num_threads(mg_threads_get())
	{
		size_t lo, hi;
		slab(N, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
		if (hi > lo) {
			if (bias)
				for (size_t n = lo; n < hi; n++)
					memcpy(out + n * OC, bias, OC * sizeof *out);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(hi - lo), (int)OC, (int)IC, 1.0f,
				    inp + lo * IC, (int)IC, w, (int)IC, bias ? 1.0f : 0.0f, out + lo * OC, (int)OC);
		}
	}
}

void mg_cpu_matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w,
			    size_t N, uint32_t IC, uint32_t OC)
{
#pragma omp parallel num_threads(mg_threads_get())
	{
		int nt = omp_get_num_threads(), k = omp_get_thread_num();
		size_t lo, hi;

		/* dinp (N,IC) = dout (N,OC) w (OC,IC), by rows */
		slab(N, nt, k, &lo, &hi);
		if (dinp && hi > lo)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(hi - lo), (int)IC, (int)OC, 1.0f,
				    dout + lo * OC, (int)OC, w, (int)IC, 0.0f, dinp + lo * IC, (int)IC);
		/* dw (OC,IC) += dout^T (OC,N) inp (N,IC), by rows of dw, or by
		 * columns when IC > OC: each thread packs the whole of the other
		 * operand, so that should be the smaller one */
		if (IC > OC) {
			slab(IC, nt, k, &lo, &hi);
			if (hi > lo)
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)(hi - lo), (int)N, 1.0f,
					    dout, (int)OC, inp + lo, (int)IC, 1.0f, dw + lo, (int)IC);
		} else {
			slab(OC, nt, k, &lo, &hi);
			if (hi > lo)
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(hi - lo), (int)IC, (int)N, 1.0f,
					    dout + lo, (int)OC, inp, (int)IC, 1.0f, dw + lo * IC, (int)IC);
		}
		/* each dbias element is summed over all rows in order */
		slab(OC, nt, k, &lo, &hi);
		if (dbias && hi > lo)
			column_sums(dbias, dout, N, OC, lo, hi);
	}
}
