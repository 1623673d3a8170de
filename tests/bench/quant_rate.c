/* The CPU backend's Linear layer of inference (infer_matmul) on f32, f16,
 * bf16 and q8 weights, for bench-quant-kernels.sh: one row (a decoded token) and
 * 128 rows (the exact window's recompute, an evaluation batch) on MyGPT's
 * shapes and one of GPT-2's, each kernel path this CPU runs, beside the
 * machine's limits: memcpy's rate on as many bytes as the weights (what
 * one row can at best reach: it reads every weight once) and OpenBLAS's
 * sgemm on the same 128-row product.
 *
 *     quant_rate THREADS REPS
 *
 * One row is timed twice: "hot", the same matrix again and again (it stays
 * in the caches when it fits, as a small model's weights do between
 * tokens), and "cold", cycling through copies of it that fill 256 MB (every
 * weight comes from memory). Times are medians of REPS calls (of 5 at
 * least and as many as fit in a second for the slow ones). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/cpu/cpu_quant.h"
#include "bench_util.h"
#include "core/threads.h"
#include "io/dtype.h"

#define COLD_BYTES ((size_t)256 << 20)
#define MAX_SECONDS 1.0 /* a slow product stops after 5 calls or this */

static const mg_backend *be;
static int reps;

static void *xalloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) / 64 * 64);

	if (!p) {
		fprintf(stderr, "quant_rate: out of memory\n");
		exit(1);
	}
	memset(p, 1, n);
	return p;
}

/* Median seconds of one product, the weights cycling through copies
 * (ncopy of them, stride bytes apart). */
static double time_matmul(float *out, const float *x, const uint8_t *wp, size_t stride, int ncopy, uint32_t dtype,
			  const float *bias, size_t N, uint32_t IC, uint32_t OC)
{
	double *t = malloc((size_t)reps * sizeof *t), med, start = mg_clock_now();
	int n = 0;

	for (int r = -2; r < reps; r++) {
		const uint8_t *w = wp + (size_t)((r + 2) % ncopy) * stride;
		double t0 = mg_clock_now();
		be->infer_matmul(out, x, w, dtype, bias, N, IC, OC, 0);
		if (r >= 0)
			t[n++] = mg_clock_now() - t0;
		if (n >= 5 && mg_clock_now() - start > MAX_SECONDS)
			break;
	}
	bench_sort(t, (size_t)n);
	med = t[n / 2];
	free(t);
	return med;
}

/* memcpy's rate (bytes copied per second) on n bytes, the threads each
 * copying its own part. */
static double copy_rate(size_t n, int threads)
{
	char *a = xalloc(n), *b = xalloc(n);
	double *t = malloc((size_t)reps * sizeof *t), rate;

	for (int r = -2; r < reps; r++) {
		double t0 = mg_clock_now();
#pragma omp parallel for num_threads(threads) schedule(static)
		for (int k = 0; k < threads; k++) {
			size_t lo = n / 64 * k / threads * 64, hi = k + 1 == threads ? n : n / 64 * (k + 1) / threads * 64;
			memcpy(b + lo, a + lo, hi - lo);
		}
		if (r >= 0)
			t[r] = mg_clock_now() - t0;
	}
	bench_sort(t, (size_t)reps);
	rate = (double)n / t[reps / 2] / 1e9;
	free(a), free(b), free(t);
	return rate;
}

static double sgemm_rate(const float *x, const float *w, float *out, size_t N, uint32_t IC, uint32_t OC)
{
	double *t = malloc((size_t)reps * sizeof *t), rate;

	for (int r = -2; r < reps; r++) {
		double t0 = mg_clock_now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)IC, 1.0f, x, (int)IC, w,
			    (int)IC, 0.0f, out, (int)OC);
		if (r >= 0)
			t[r] = mg_clock_now() - t0;
	}
	bench_sort(t, (size_t)reps);
	rate = 2.0 * N * IC * OC / t[reps / 2] / 1e9;
	free(t);
	return rate;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint32_t IC, OC;
	} shapes[] = { { "mygpt c_attn", 512, 1536 }, { "mygpt c_proj", 512, 512 }, { "mygpt c_fc", 512, 2048 },
		       { "mygpt mlp c_proj", 2048, 512 }, { "gpt2 c_fc", 768, 3072 } };
	int threads;

	if (argc != 3 || (threads = atoi(argv[1])) < 1 || (reps = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: quant_rate THREADS REPS\n");
		return 2;
	}
	be = mg_backend_cpu();
	mg_threads_set(threads);
	openblas_set_num_threads(threads);
	printf("kernel paths this CPU runs:");
	for (int p = 0; p < MG_CPU_QUANT_PATHS; p++)
		if (mg_cpu_quant_supported(p))
			printf(" %s", mg_cpu_quant_name(p));
	printf("; %d thread%s, medians of up to %d calls; memcpy of %zu MB: %.1f GB/s\n", threads,
	       threads > 1 ? "s" : "", reps, COLD_BYTES >> 20, copy_rate(COLD_BYTES, threads));
	printf("%-17s %-4s %-10s %9s %8s %9s %8s %9s | %9s %8s %8s\n", "shape IC x OC", "type", "path", "1 row us",
	       "GB/s", "memcpy", "cold us", "GB/s", "128 rows", "GFLOP/s", "sgemm");
	for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
		uint32_t IC = shapes[s].IC, OC = shapes[s].OC;
		size_t N = 128;
		float *w = xalloc((size_t)OC * IC * 4), *x = xalloc(N * IC * 4), *out = xalloc(N * OC * 4);
		float *bias = xalloc(OC * 4);
		double blas;

		for (size_t k = 0; k < (size_t)OC * IC; k++)
			w[k] = (float)((k * 2654435761u) % 1000) * 2e-4f - 0.1f;
		for (size_t k = 0; k < N * IC; k++)
			x[k] = (float)((k * 40503u) % 1000) * 2e-3f - 1.0f;
		for (uint32_t o = 0; o < OC; o++)
			bias[o] = 0.01f * (float)(o % 13);
		blas = sgemm_rate(x, w, out, N, IC, OC);
		for (uint32_t dtype = 0; dtype < MG_DTYPE_COUNT; dtype++) {
			size_t stored = mg_dtype_bytes(dtype, (uint64_t)OC * IC);
			size_t bytes = be->infer_pack_bytes(dtype, OC, IC), stride = (bytes + 4095) / 4096 * 4096;
			int ncopy = (int)(COLD_BYTES / stride) + 1;
			uint8_t *enc = xalloc(stored), *wp = xalloc(stride * (size_t)ncopy);
			double hot_copy = copy_rate(bytes, threads);

			mg_dtype_encode(dtype, w, (uint64_t)OC * IC, enc);
			be->infer_pack(wp, enc, dtype, OC, IC);
			for (int c = 1; c < ncopy; c++)
				memcpy(wp + (size_t)c * stride, wp, bytes);
			for (int p = 0; p < MG_CPU_QUANT_PATHS; p++) {
				double hot, cold, rows;
				if (!mg_cpu_quant_supported(p) || (dtype == MG_DTYPE_F32 && p > 0))
					continue;
				mg_cpu_quant_force(p);
				hot = time_matmul(out, x, wp, stride, 1, dtype, bias, 1, IC, OC);
				cold = time_matmul(out, x, wp, stride, ncopy, dtype, bias, 1, IC, OC);
				rows = time_matmul(out, x, wp, stride, 1, dtype, bias, N, IC, OC);
				printf("%-17s %-4s %-10s %9.1f %8.1f %9.1f %8.1f %9.1f | %9.1f %8.1f %8.1f\n", shapes[s].name,
				       mg_dtype_name(dtype), dtype == MG_DTYPE_F32 ? "(cpu_infer)" : mg_cpu_quant_name(p),
				       hot * 1e6, bytes / hot / 1e9, hot_copy, cold * 1e6, bytes / cold / 1e9, rows * 1e6,
				       2.0 * N * IC * OC / rows / 1e9, blas);
			}
			free(enc), free(wp);
		}
		free(w), free(x), free(out), free(bias);
	}
	mg_cpu_quant_force(-1);
	return 0;
}
