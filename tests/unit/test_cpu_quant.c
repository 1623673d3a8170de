/* The f16, bf16 and q8 Linear layer of KV-cache inference (the table's
 * infer_pack and infer_matmul, lib/backend/cpu/cpu_quant*.c) against a plain
 * C reference of the contract in lib/backend/backend.h, byte for byte, on
 * every kernel path this CPU runs and on one and two threads; f16 and bf16
 * against the f32 kernel on the decoded weights; q8 against a double
 * reference within its bound; the choice of path by MYGPT_CPU_KERNELS. */
#include "check.h"

#include <string.h>

#include "backend/backend.h"
#include "backend/cpu/cpu_quant.h"
#include "core/bytes.h"
#include "core/rng.h"
#include "core/threads.h"
#include "io/dtype.h"

static const mg_backend *be;

/* ---- the contract, written out literally ---- */

static void ref_quantize(int8_t *q, float *d, const float *x, uint32_t IC)
{
	for (uint32_t b = 0; b < IC / 32; b++) {
		float a = 0.0f, inv;
		for (int i = 0; i < 32; i++)
			if (fabsf(x[32 * b + i]) > a)
				a = fabsf(x[32 * b + i]);
		d[b] = a / 127.0f;
		inv = 1.0f / d[b];
		if (inv == INFINITY)
			inv = 0.0f;
		for (int i = 0; i < 32; i++)
			q[32 * b + i] = (int8_t)nearbyintf(x[32 * b + i] * inv);
	}
}

/* out (N,OC) (+)= x (N,IC) w^T + bias, w as a checkpoint stores it. */
static void ref_matmul(float *out, const float *x, const uint8_t *w, uint32_t dtype, const float *bias, size_t N,
		       uint32_t IC, uint32_t OC, int add)
{
	float *wd = malloc((size_t)OC * IC * 4 + 4), *d = malloc(IC / 32 * 4 + 4);
	int8_t *q = malloc(IC + 1);

	mg_dtype_decode(dtype, w, (uint64_t)OC * IC, wd);
	for (size_t r = 0; r < N; r++) {
		const float *xr = x + r * IC;
		if (dtype == MG_DTYPE_Q8)
			ref_quantize(q, d, xr, IC);
		for (uint32_t o = 0; o < OC; o++) {
			float acc = 0.0f, v;
			if (dtype == MG_DTYPE_Q8)
				for (uint32_t b = 0; b < IC / 32; b++) {
					const uint8_t *blk = w + ((size_t)o * (IC / 32) + b) * MG_Q8_BLOCK_BYTES;
					int32_t s = 0, qi[32];
					/* int32: GCC 12 with -march=native on AVX-512
					 * VNNI miscompiles int8 x int8 sums (vpdpbusd) */
					for (int i = 0; i < 32; i++)
						qi[i] = q[32 * b + i];
					for (int i = 0; i < 32; i++)
						s += qi[i] * (int8_t)blk[4 + i];
					acc = fmaf((float)s, mg_f32_from_bits(mg_le32_get(blk)) * d[b], acc);
				}
			else
				for (uint32_t k = 0; k < IC; k++)
					acc = fmaf(xr[k], wd[(size_t)o * IC + k], acc);
			v = bias ? acc + bias[o] : acc;
			out[r * OC + o] = add ? out[r * OC + o] + v : v;
		}
	}
	free(wd), free(d), free(q);
}

/* ---- helpers ---- */

static int paths[MG_CPU_QUANT_PATHS], n_paths;

static uint8_t *encode(const float *w, uint32_t dtype, size_t n)
{
	uint8_t *e = malloc(mg_dtype_bytes(dtype, n) + 1);
	mg_dtype_encode(dtype, w, n, e);
	return e;
}

static void *pack(const uint8_t *w, uint32_t dtype, uint32_t OC, uint32_t IC)
{
	size_t bytes = be->infer_pack_bytes(dtype, OC, IC);
	void *p = be->alloc(bytes);

	CHECK(bytes > 0);
	be->infer_pack(p, w, dtype, OC, IC);
	return p;
}

static float residual(size_t k) { return (float)(k % 7) - 3.0f; }

/* The product on every path and on 1 and 2 threads, byte for byte against
 * ref (with add, out starts as residual()); returns the mismatches. */
static int reported;

static int compare(const float *ref, const float *x, const void *wp, uint32_t dtype, const float *bias, size_t N,
		   uint32_t IC, uint32_t OC, int add)
{
	float *out = malloc(N * OC * 4 + 4);
	int bad = 0;

	for (int i = 0; i < n_paths; i++) {
		mg_cpu_quant_force(paths[i]);
		for (int nt = 1; nt <= 2; nt++) {
			mg_threads_set(nt);
			for (size_t k = 0; k < N * OC; k++)
				out[k] = add ? residual(k) : NAN;
			be->infer_matmul(out, x, wp, dtype, bias, N, IC, OC, add);
			if (memcmp(out, ref, N * OC * 4)) {
				size_t k = 0;
				while (out[k] == ref[k])
					k++;
				if (reported++ < 8)
					fprintf(stderr, "element %zu: %.9g, not %.9g\n", k, out[k], ref[k]),
					fprintf(stderr, "%s %s %zux%ux%u bias %d add %d threads %d: not the reference\n",
						mg_cpu_quant_name(paths[i]), mg_dtype_name(dtype), N, OC, IC, bias != NULL,
						add, nt);
				bad++;
			}
		}
	}
	mg_threads_set(0);
	free(out);
	return bad;
}

/* Rows of normal values, each row scaled by its own power of two. */
static void fill_rows(float *x, size_t N, uint32_t IC, mg_rng *r)
{
	for (size_t i = 0; i < N; i++) {
		float s = ldexpf(1.0f, (int)(i % 9) - 4);
		for (uint32_t k = 0; k < IC; k++)
			x[i * IC + k] = s * (float)mg_rng_normal(r);
	}
}

/* ---- the checks ---- */

/* Random shapes and row counts, every dtype, bias and add on and off. */
static void check_shapes(void)
{
	static const uint32_t OCs[] = { 1, 3, 17, 65, 200 }, ICs[] = { 32, 96, 544, 2048 };
	static const size_t some[] = { 1, 2, 3, 4, 5, 6, 8, 9, 12, 16, 17, 23, 130 };
	int bad = 0, cases = 0;

	for (size_t oi = 0; oi < 5; oi++)
		for (size_t ii = 0; ii < 4; ii++) {
			uint32_t OC = OCs[oi], IC = ICs[ii];
			/* every row count 1..23 where the product is small */
			int all = (size_t)OC * IC <= 20000;
			size_t nN = all ? 24 : sizeof some / sizeof *some, maxN = 130;
			float *w = malloc((size_t)OC * IC * 4), *b = malloc(OC * 4), *x = malloc(maxN * IC * 4);
			float *ref = malloc(maxN * OC * 4);
			mg_rng r;

			mg_rng_seed(&r, 100 * oi + ii);
			for (size_t k = 0; k < (size_t)OC * IC; k++)
				w[k] = 0.1f * (float)mg_rng_normal(&r);
			for (uint32_t o = 0; o < OC; o++)
				b[o] = (float)mg_rng_normal(&r);
			fill_rows(x, maxN, IC, &r);
			for (uint32_t dtype = MG_DTYPE_F16; dtype <= MG_DTYPE_Q8; dtype++) {
				uint8_t *e = encode(w, dtype, (size_t)OC * IC);
				void *wp = pack(e, dtype, OC, IC);
				for (size_t ni = 0; ni < nN; ni++) {
					size_t N = all ? (ni < 23 ? ni + 1 : 130) : some[ni];
					int v = (int)(ni + oi + ii + dtype) % 4;
					const float *bias = v & 1 ? b : NULL;
					int add = v >> 1;
					for (size_t k = 0; k < N * OC; k++)
						ref[k] = residual(k);
					ref_matmul(ref, x, e, dtype, bias, N, IC, OC, add);
					bad += compare(ref, x, wp, dtype, bias, N, IC, OC, add);
					cases++;
				}
				be->free(wp);
				free(e);
			}
			free(w), free(b), free(x), free(ref);
		}
	printf("  %d products x %d paths x 2 thread counts: %d not the reference\n", cases, n_paths, bad);
	CHECK_EQ(bad, 0);
}

/* f16 and bf16 give the f32 kernel's bits on the decoded weights. */
static void check_half_f32(void)
{
	static const uint32_t shapes[][2] = { { 17, 96 }, { 200, 544 }, { 65, 33 }, { 3, 7 } };
	int bad = 0;

	for (size_t si = 0; si < 4; si++) {
		uint32_t OC = shapes[si][0], IC = shapes[si][1], N = 23;
		float *w = malloc((size_t)OC * IC * 4), *b = malloc(OC * 4), *x = malloc(N * IC * 4);
		float *wd = malloc((size_t)OC * IC * 4), *ref = malloc(N * OC * 4);
		mg_rng r;

		mg_rng_seed(&r, 7 + si);
		for (size_t k = 0; k < (size_t)OC * IC; k++)
			w[k] = (float)mg_rng_normal(&r);
		for (uint32_t o = 0; o < OC; o++)
			b[o] = (float)mg_rng_normal(&r);
		fill_rows(x, N, IC, &r);
		for (uint32_t dtype = MG_DTYPE_F16; dtype <= MG_DTYPE_BF16; dtype++) {
			uint8_t *e = encode(w, dtype, (size_t)OC * IC);
			void *wp = pack(e, dtype, OC, IC), *fp;
			mg_dtype_decode(dtype, e, (size_t)OC * IC, wd);
			fp = pack((const uint8_t *)wd, MG_DTYPE_F32, OC, IC);
			for (size_t n = 1; n <= N; n += 11) {
				be->infer_matmul(ref, x, fp, MG_DTYPE_F32, b, n, IC, OC, 0);
				bad += compare(ref, x, wp, dtype, b, n, IC, OC, 0);
			}
			be->free(wp), be->free(fp);
			free(e);
		}
		free(w), free(b), free(x), free(wd), free(ref);
	}
	printf("  f16, bf16 against the f32 kernel on the decoded weights: %d differ\n", bad);
	CHECK_EQ(bad, 0);
}

/* q8 against the exact product of x and the decoded weights: the error of
 * each output is at most sum over blocks of d/2 sum |w| (activations
 * rounded to the nearest multiple of d) plus float rounding, bounded by
 * (blocks + 2) 2^-23 sum |x w|. */
static void check_q8_bound(void)
{
	uint32_t OC = 65, IC = 2048, N = 9, nb = IC / 32;
	float *w = malloc((size_t)OC * IC * 4), *x = malloc(N * IC * 4), *wd = malloc((size_t)OC * IC * 4);
	float *out = malloc(N * OC * 4), *d = malloc(nb * 4);
	int8_t *q = malloc(IC);
	double worst = 0.0;
	int over = 0;
	uint8_t *e;
	void *wp;
	mg_rng r;

	mg_rng_seed(&r, 42);
	for (size_t k = 0; k < (size_t)OC * IC; k++)
		w[k] = 0.1f * (float)mg_rng_normal(&r);
	fill_rows(x, N, IC, &r);
	e = encode(w, MG_DTYPE_Q8, (size_t)OC * IC);
	mg_dtype_decode(MG_DTYPE_Q8, e, (size_t)OC * IC, wd);
	wp = pack(e, MG_DTYPE_Q8, OC, IC);
	be->infer_matmul(out, x, wp, MG_DTYPE_Q8, NULL, N, IC, OC, 0);
	for (uint32_t i = 0; i < N; i++) {
		ref_quantize(q, d, x + (size_t)i * IC, IC);
		for (uint32_t o = 0; o < OC; o++) {
			double exact = 0.0, quant = 0.0, mag = 0.0, err;
			for (uint32_t k = 0; k < IC; k++) {
				double xv = x[(size_t)i * IC + k], wv = wd[(size_t)o * IC + k];
				exact += xv * wv;
				quant += d[k / 32] / 2.0 * fabs(wv);
				mag += fabs(xv * wv) + d[k / 32] / 2.0 * fabs(wv);
			}
			err = fabs(out[(size_t)i * OC + o] - exact);
			over += err > quant + (nb + 2) * ldexp(1.0, -23) * mag;
			worst = fmax(worst, err / quant);
		}
	}
	printf("  q8 %ux%u: worst error %.3f of the bound sum d/2 |w|\n", OC, IC, worst);
	CHECK_EQ(over, 0);
	be->free(wp);
	free(w), free(x), free(wd), free(out), free(d), free(q), free(e);
}

/* Blocks of activations at the edges: all zeros (d = 0: the product is
 * the bias), subnormal (1/d infinite: zero too), tiny, huge; weights at
 * +-127 (the largest exact sums); a row longer than the driver's buffer
 * (quantized in chunks). */
static void check_q8_edges(void)
{
	static const float amp[] = { 0.0f, 1e-39f, 3.5e-37f, 1e-36f, 1e-30f, 1.0f, 1e30f, 3e38f };
	uint32_t OC = 17, IC = 32 * 8, N = 8;
	float *w = malloc((size_t)OC * IC * 4), *x = malloc(N * IC * 4), *b = malloc(OC * 4);
	float *ref = malloc(N * OC * 4), *out = malloc(N * OC * 4);
	int bad = 0, zero = 0;
	uint8_t *e;
	void *wp;
	mg_rng r;

	mg_rng_seed(&r, 9);
	for (size_t k = 0; k < (size_t)OC * IC; k++)
		w[k] = (float)mg_rng_normal(&r);
	for (uint32_t o = 0; o < OC; o++)
		b[o] = (float)mg_rng_normal(&r);
	e = encode(w, MG_DTYPE_Q8, (size_t)OC * IC);
	/* output 0: every weight +127, output 1: -127 */
	for (uint32_t blk = 0; blk < IC / 32; blk++)
		for (int i = 0; i < 32; i++) {
			e[blk * MG_Q8_BLOCK_BYTES + 4 + i] = 127;
			e[(IC / 32 + blk) * MG_Q8_BLOCK_BYTES + 4 + i] = (uint8_t)-127;
		}
	/* row i: block j has amplitude amp[(i + j) % 8]; row 0 all zeros; row 1
	 * all at the top of the range, all positive (the largest sums) */
	for (uint32_t i = 0; i < N; i++)
		for (uint32_t k = 0; k < IC; k++)
			x[(size_t)i * IC + k] = i == 0	 ? 0.0f
						: i == 1 ? 1.0f
							 : amp[(i + k / 32) % 8] * (float)(2 * mg_rng_uniform(&r) - 1);
	wp = pack(e, MG_DTYPE_Q8, OC, IC);
	for (int v = 0; v < 4; v++) {
		const float *bias = v & 1 ? b : NULL;
		for (size_t k = 0; k < N * OC; k++)
			ref[k] = residual(k);
		ref_matmul(ref, x, e, MG_DTYPE_Q8, bias, N, IC, OC, v >> 1);
		bad += compare(ref, x, wp, MG_DTYPE_Q8, bias, N, IC, OC, v >> 1);
	}
	/* the zero row is the bias exactly */
	be->infer_matmul(out, x, wp, MG_DTYPE_Q8, b, N, IC, OC, 0);
	zero = memcmp(out, b, OC * 4) != 0;
	be->free(wp);
	free(e);

	/* a row longer than the buffer of quantized rows */
	{
		uint32_t OC2 = 17, IC2 = 32 * 1040, N2 = 10;
		float *w2 = malloc((size_t)OC2 * IC2 * 4), *x2 = malloc(N2 * IC2 * 4), *ref2 = malloc(N2 * OC2 * 4);
		for (size_t k = 0; k < (size_t)OC2 * IC2; k++)
			w2[k] = (float)mg_rng_normal(&r);
		fill_rows(x2, N2, IC2, &r);
		e = encode(w2, MG_DTYPE_Q8, (size_t)OC2 * IC2);
		wp = pack(e, MG_DTYPE_Q8, OC2, IC2);
		for (size_t n = 1; n <= N2; n += 8) {
			ref_matmul(ref2, x2, e, MG_DTYPE_Q8, b, n, IC2, OC2, 0);
			bad += compare(ref2, x2, wp, MG_DTYPE_Q8, b, n, IC2, OC2, 0);
		}
		be->free(wp);
		free(e), free(w2), free(x2), free(ref2);
	}
	printf("  q8 edge blocks and a %u-wide row: %d not the reference, zero row %s\n", 32 * 1040, bad,
	       zero ? "not the bias" : "the bias");
	CHECK_EQ(bad, 0);
	CHECK_EQ(zero, 0);
	free(w), free(x), free(b), free(ref), free(out);
}

/* Sizes: 0 where the CPU backend cannot run the product. */
static void check_sizes(void)
{
	CHECK_EQ(be->infer_pack_bytes(MG_DTYPE_Q8, 16, 33), 0);
	CHECK_EQ(be->infer_pack_bytes(MG_DTYPE_Q8, 17, 64), 2 * 2 * MG_Q8_PANEL_BLOCK);
	CHECK_EQ(be->infer_pack_bytes(MG_DTYPE_F16, 17, 7), 2 * 7 * 16 * 2);
	CHECK_EQ(be->infer_pack_bytes(MG_DTYPE_BF16, 16, 7), 7 * 16 * 2);
	CHECK_EQ(be->infer_pack_bytes(MG_DTYPE_COUNT, 16, 32), 0);
}

/* MYGPT_CPU_KERNELS: a path the CPU runs is taken; an unknown name or a
 * path the CPU lacks gives the fastest it runs. */
static void check_env(void)
{
	int top = mg_cpu_quant_force(MG_CPU_QUANT_PATHS); /* no such path: the fastest */

	for (int p = 0; p < MG_CPU_QUANT_PATHS; p++) {
		setenv("MYGPT_CPU_KERNELS", mg_cpu_quant_name(p), 1);
		CHECK_EQ(mg_cpu_quant_force(-1), mg_cpu_quant_supported(p) ? p : top);
		CHECK_EQ(mg_cpu_quant_path(), mg_cpu_quant_supported(p) ? p : top);
	}
	setenv("MYGPT_CPU_KERNELS", "sse9", 1);
	CHECK_EQ(mg_cpu_quant_force(-1), top);
	unsetenv("MYGPT_CPU_KERNELS");
	CHECK_EQ(mg_cpu_quant_force(-1), top);
	CHECK(mg_cpu_quant_supported(MG_CPU_QUANT_PORTABLE));
	CHECK(mg_cpu_quant_name(MG_CPU_QUANT_PATHS) == NULL);
}

int main(void)
{
	be = mg_backend_cpu();
	printf("cpu_quant: paths run:");
	for (int p = 0; p < MG_CPU_QUANT_PATHS; p++)
		if (mg_cpu_quant_supported(p)) {
			paths[n_paths++] = p;
			printf(" %s", mg_cpu_quant_name(p));
		}
	printf("; this CPU lacks:");
	for (int p = 0; p < MG_CPU_QUANT_PATHS; p++)
		if (!mg_cpu_quant_supported(p))
			printf(" %s", mg_cpu_quant_name(p));
	printf("%s\n", n_paths == MG_CPU_QUANT_PATHS ? " none" : "");
	check_sizes();
	check_env();
	check_shapes();
	check_half_f32();
	check_q8_bound();
	check_q8_edges();
	mg_cpu_quant_force(-1);
	CHECK_DONE();
}
