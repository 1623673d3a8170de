/* The Linear layer of KV-cache inference over f16, bf16 and q8 weights:
 * the packed layouts, the choice of kernels at run time and the driver
 * that splits a product into kernel calls over threads.
 *
 * Layouts. As the f32 kernel (cpu_infer.c), panels of 16 outputs, so that
 * one input broadcast against 16 contiguous weights feeds 16 different
 * outputs' sums and no sum is ever horizontal; outputs past OC are zeros.
 * - f16, bf16: panel p holds outputs 16p..16p+15 as (IC,16) halves, the
 *   element (o,k) at [(o/16) IC 16 + 16 k + o%16], as stored (little-endian
 *   bits); the kernels widen them to f32 exactly as they load them. bf16
 *   puts outputs 0..7 of a panel at the even places and 8..15 at the odd
 *   ones (MG_BF16_PLACE): a bf16 is the top half of its float, so the 32
 *   bytes of one input shifted left by 16 bits are outputs 0..7 as floats
 *   and the same bytes with their low halves cleared are outputs 8..15 (two
 *   instructions, no shuffle).
 * - q8: panel p holds its IC/32 blocks one after the other, 576 bytes each
 *   (MG_Q8_PANEL_BLOCK, a multiple of 64, so every block is aligned):
 *   the 16 outputs' float scales (64 bytes), then 8 groups of 4 inputs,
 *   each 16 outputs x 4 signed bytes (64 bytes): weight (o, 32 b + 4 g + i)
 *   at byte 64 + 64 g + 4 (o%16) + i of the block. One group is one AVX-512
 *   register (two AVX2 ones) whose 32-bit lanes are the 16 outputs, so a
 *   broadcast of 4 activation bytes against it gives 16 four-term dot
 *   products (vpdpbusd, or maddubs + madd on AVX2) added lane by lane.
 *
 * Arithmetic (backend.h states it; every kernel follows it to the bit).
 * f16, bf16: element (r,o) is fma(x[r,k], w[o,k], acc) for k in order from
 * 0, exactly the f32 kernel on the decoded weights. q8: each row's blocks
 * are quantized (d = max|x| / 127, q = rint(x * (1/d)), all in float,
 * q = 0 when 1/d is infinite), the 32 products of a block summed exactly in
 * int32 (|sum| <= 32 127 127 < 2^24, so the float of it is exact too), then
 * acc = fma((float)s, dw * d, acc) block after block from 0. Then + bias,
 * then (a residual connection) + out. No sum depends on the order in which
 * its int32 terms are added, so AVX2, AVX-512 and C agree; the float steps
 * are one chain per output in block order whatever the kernel, the row
 * count, the row's place or the thread count.
 *
 * Driver. Threads split the panels in groups of 4 (MG_QPANELS) and call a
 * kernel on up to 8 rows (MG_QROWS) x 4 panels at a time, which keeps its
 * sums in registers and reuses each weight it loads for every row. q8
 * quantizes rows once per call: a tile of up to 32 rows (QBUF bytes of
 * quantized activations, on the stack: infer_matmul allocates nothing) is
 * quantized by the threads together, then multiplied by every panel. A row
 * longer than QBUF (IC > 32768) is quantized in chunks of QCHUNK blocks
 * by each thread for each group of panels it runs, the sums carried in
 * memory between chunks (exact: a float stored and loaded is the same). */
#include "backend/cpu/cpu_quant.h"

#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/threads.h"
#include "io/dtype.h"

#define PAR_WORK (1u << 16) /* multiply-adds below which threads cost more than they give */
#define QBUF 32768u         /* bytes of quantized activations a call keeps (plus 1/4 for scales) */
#define QTILE 32u           /* rows per tile at most */
#define QCHUNK 64u          /* blocks per chunk when a row is longer than QBUF */

/* ---- choice of the kernels ---- */

static const char *const names[] = { "portable", "avx2", "avx512vnni" };

const char *mg_cpu_quant_name(int path) { return path >= 0 && path < MG_CPU_QUANT_PATHS ? names[path] : NULL; }

int mg_cpu_quant_supported(int path)
{
	switch (path) {
	case MG_CPU_QUANT_PORTABLE: return 1;
#if defined(__x86_64__)
	case MG_CPU_QUANT_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		       __builtin_cpu_supports("f16c");
	case MG_CPU_QUANT_AVX512VNNI:
		__builtin_cpu_init();
		return mg_cpu_quant_supported(MG_CPU_QUANT_AVX2) && __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
		       __builtin_cpu_supports("avx512vnni");
#endif
	default: return 0;
	}
}

static int best(void)
{
	int p = MG_CPU_QUANT_PATHS - 1;

	while (!mg_cpu_quant_supported(p))
		p--;
	return p;
}

static int chosen = -1; /* the path in use; -1: not chosen yet */

static const mg_cpu_quant_kernels *kernels(void)
{
	switch (mg_cpu_quant_path()) {
#if defined(__x86_64__)
	case MG_CPU_QUANT_AVX2: return &mg_cpu_quant_avx2;
	case MG_CPU_QUANT_AVX512VNNI: return &mg_cpu_quant_avx512vnni;
#endif
	default: return &mg_cpu_quant_portable;
	}
}

int mg_cpu_quant_force(int path)
{
	if (path < 0) {
		__atomic_store_n(&chosen, -1, __ATOMIC_RELAXED);
		return mg_cpu_quant_path();
	}
	path = mg_cpu_quant_supported(path) ? path : best();
	__atomic_store_n(&chosen, path, __ATOMIC_RELAXED);
	return path;
}

int mg_cpu_quant_path(void)
{
	int p = __atomic_load_n(&chosen, __ATOMIC_RELAXED);

	if (p < 0) {
		/* choosing twice at once gives the same answer: no lock */
		const char *env = getenv("MYGPT_CPU_KERNELS");
		p = best();
		for (int i = 0; env && i < MG_CPU_QUANT_PATHS; i++)
			if (!strcmp(env, names[i]) && mg_cpu_quant_supported(i))
				p = i;
		__atomic_store_n(&chosen, p, __ATOMIC_RELAXED);
	}
	return p;
}

/* ---- packing ---- */

size_t mg_cpu_quant_pack_bytes(uint32_t dtype, uint32_t OC, uint32_t IC)
{
	size_t panels = (OC + MG_QPANEL - 1) / MG_QPANEL;

	switch (dtype) {
	case MG_DTYPE_F16:
	case MG_DTYPE_BF16: return panels * IC * MG_QPANEL * 2;
	case MG_DTYPE_Q8: return IC % MG_Q8_BLOCK ? 0 : panels * (IC / MG_Q8_BLOCK) * MG_Q8_PANEL_BLOCK;
	}
	return 0;
}

static void pack_half(uint16_t *dst, const uint8_t *w, uint32_t OC, uint32_t IC, int bf16)
{
	uint32_t panels = (OC + MG_QPANEL - 1) / MG_QPANEL;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (uint32_t p = 0; p < panels; p++)
		for (uint32_t k = 0; k < IC; k++)
			for (uint32_t l = 0; l < MG_QPANEL; l++) {
				uint32_t o = p * MG_QPANEL + l;
				dst[((size_t)p * IC + k) * MG_QPANEL + (bf16 ? MG_BF16_PLACE(l) : l)] =
					o < OC ? mg_le16_get(w + 2 * ((size_t)o * IC + k)) : 0;
			}
}

/* The stored q are taken as they are: the checkpoint reader has checked
 * that they lie in -127..127 (backend.h), which keeps the sums exact. */
static void pack_q8(uint8_t *dst, const uint8_t *w, uint32_t OC, uint32_t IC)
{
	uint32_t panels = (OC + MG_QPANEL - 1) / MG_QPANEL, nb = IC / MG_Q8_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static)
	for (uint32_t p = 0; p < panels; p++)
		for (uint32_t b = 0; b < nb; b++) {
			uint8_t *blk = dst + ((size_t)p * nb + b) * MG_Q8_PANEL_BLOCK;
			for (uint32_t l = 0; l < MG_QPANEL; l++) {
				uint32_t o = p * MG_QPANEL + l;
				const uint8_t *src = w + ((size_t)o * nb + b) * MG_Q8_BLOCK_BYTES;
				float scale = o < OC ? mg_f32_from_bits(mg_le32_get(src)) : 0.0f;
				memcpy(blk + 4 * l, &scale, 4);
				for (uint32_t k = 0; k < MG_Q8_BLOCK; k++)
					blk[MG_QPANEL * 4 + (k / 4) * 64 + 4 * l + k % 4] = o < OC ? src[4 + k] : 0;
			}
		}
}

void mg_cpu_quant_pack(void *dst, const void *w, uint32_t dtype, uint32_t OC, uint32_t IC)
{
	if (dtype == MG_DTYPE_F16 || dtype == MG_DTYPE_BF16)
		pack_half(dst, w, OC, IC, dtype == MG_DTYPE_BF16);
	else if (dtype == MG_DTYPE_Q8)
		pack_q8(dst, w, OC, IC);
}

/* ---- the driver ---- */

/* Writes rows r < R of the sums f (R,64) of panels p0..p0+np-1:
 * out[r,o] = f + bias[o], or with add out[r,o] += f + bias[o]. */
static void put(float *out, size_t ldo, const float *f, size_t R, uint32_t p0, uint32_t np, const float *bias, int add,
		uint32_t OC)
{
	uint32_t o0 = p0 * MG_QPANEL, n = OC - o0 < np * MG_QPANEL ? OC - o0 : np * MG_QPANEL;

	for (size_t r = 0; r < R; r++)
		for (uint32_t l = 0; l < n; l++) {
			float v = bias ? f[r * 64 + l] + bias[o0 + l] : f[r * 64 + l];
			float *y = out + r * ldo + o0 + l;
			*y = add ? *y + v : v;
		}
}

static void matmul_half(const mg_cpu_quant_kernels *k, float *out, const float *inp, const uint16_t *w,
			const float *bias, size_t N, uint32_t IC, uint32_t OC, int add, int bf16)
{
	uint32_t panels = (OC + MG_QPANEL - 1) / MG_QPANEL, groups = (panels + MG_QPANELS - 1) / MG_QPANELS;
	size_t ps = (size_t)IC * MG_QPANEL;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if (N * OC * IC >= PAR_WORK)
	for (uint32_t g = 0; g < groups; g++) {
		uint32_t p0 = g * MG_QPANELS, np = panels - p0 < MG_QPANELS ? panels - p0 : MG_QPANELS;
		float f[MG_QROWS * 64];
		for (size_t r = 0; r < N; r += MG_QROWS) {
			size_t R = N - r < MG_QROWS ? N - r : MG_QROWS;
			k->half(f, inp + r * IC, IC, R, w + p0 * ps, ps, np, IC, bf16);
			put(out + r * OC, OC, f, R, p0, np, bias, add, OC);
		}
	}
}

/* The q8 product when a tile of rows fits QBUF: rows quantized once. */
static __attribute__((noinline)) void matmul_q8_tiles(const mg_cpu_quant_kernels *k, float *out, const float *inp,
						      const uint8_t *w, const float *bias, size_t N, uint32_t IC,
						      uint32_t OC, int add)
{
	uint32_t panels = (OC + MG_QPANEL - 1) / MG_QPANEL, groups = (panels + MG_QPANELS - 1) / MG_QPANELS;
	uint32_t nb = IC / MG_Q8_BLOCK;
	size_t ps = (size_t)nb * MG_Q8_PANEL_BLOCK, rt = IC && QBUF / IC < QTILE ? QBUF / IC : QTILE;
	_Alignas(64) int8_t q[QBUF];
	float d[QBUF / MG_Q8_BLOCK];
	int32_t s[QBUF / MG_Q8_BLOCK];

#pragma omp parallel num_threads(mg_threads_get()) if (N * OC * IC >= PAR_WORK)
	for (size_t r0 = 0; r0 < N; r0 += rt) {
		size_t R = N - r0 < rt ? N - r0 : rt;

#pragma omp for schedule(static)
		for (size_t r = 0; r < R; r++)
			k->quantize(q + r * IC, d + r * nb, s + r * nb, inp + (r0 + r) * IC, nb);
#pragma omp for schedule(static)
		for (uint32_t g = 0; g < groups; g++) {
			uint32_t p0 = g * MG_QPANELS, np = panels - p0 < MG_QPANELS ? panels - p0 : MG_QPANELS;
			float f[MG_QROWS * 64];
			for (size_t r = 0; r < R; r += MG_QROWS) {
				size_t n = R - r < MG_QROWS ? R - r : MG_QROWS;
				mg_cpu_qrows x = { q + r * IC, d + r * nb, s + r * nb, IC, nb };
				memset(f, 0, sizeof f);
				k->q8(f, &x, n, w + p0 * ps, ps, np, nb);
				put(out + (r0 + r) * OC, OC, f, n, p0, np, bias, add, OC);
			}
		}
	}
}

/* The q8 product of rows longer than QBUF: each thread quantizes a chunk
 * of QCHUNK blocks of up to MG_QROWS rows at a time. */
static __attribute__((noinline)) void matmul_q8_chunks(const mg_cpu_quant_kernels *k, float *out, const float *inp,
						       const uint8_t *w, const float *bias, size_t N, uint32_t IC,
						       uint32_t OC, int add)
{
	uint32_t panels = (OC + MG_QPANEL - 1) / MG_QPANEL, groups = (panels + MG_QPANELS - 1) / MG_QPANELS;
	uint32_t nb = IC / MG_Q8_BLOCK;
	size_t ps = (size_t)nb * MG_Q8_PANEL_BLOCK;

#pragma omp parallel for num_threads(mg_threads_get()) schedule(static) if (N * OC * IC >= PAR_WORK)
	for (uint32_t g = 0; g < groups; g++) {
		uint32_t p0 = g * MG_QPANELS, np = panels - p0 < MG_QPANELS ? panels - p0 : MG_QPANELS;
		_Alignas(64) int8_t q[MG_QROWS * QCHUNK * MG_Q8_BLOCK];
		float d[MG_QROWS * QCHUNK], f[MG_QROWS * 64];
		int32_t s[MG_QROWS * QCHUNK];

		for (size_t r0 = 0; r0 < N; r0 += MG_QROWS) {
			size_t R = N - r0 < MG_QROWS ? N - r0 : MG_QROWS;
			memset(f, 0, sizeof f);
			for (uint32_t b0 = 0; b0 < nb; b0 += QCHUNK) {
				uint32_t n = nb - b0 < QCHUNK ? nb - b0 : QCHUNK;
				mg_cpu_qrows x = { q, d, s, (size_t)n * MG_Q8_BLOCK, n };
				for (size_t r = 0; r < R; r++)
					k->quantize(q + r * x.ldq, d + r * n, s + r * n,
						    inp + (r0 + r) * IC + (size_t)b0 * MG_Q8_BLOCK, n);
				k->q8(f, &x, R, w + p0 * ps + (size_t)b0 * MG_Q8_PANEL_BLOCK, ps, np, n);
			}
			put(out + r0 * OC, OC, f, R, p0, np, bias, add, OC);
		}
	}
}

void mg_cpu_quant_matmul(float *out, const float *inp, const void *wp, uint32_t dtype, const float *bias, size_t N,
			 uint32_t IC, uint32_t OC, int add)
{
	const mg_cpu_quant_kernels *k = kernels();

	if (!N || !OC)
		return;
	if (dtype == MG_DTYPE_F16 || dtype == MG_DTYPE_BF16)
		matmul_half(k, out, inp, wp, bias, N, IC, OC, add, dtype == MG_DTYPE_BF16);
	else if (dtype == MG_DTYPE_Q8 && IC <= QBUF)
		matmul_q8_tiles(k, out, inp, wp, bias, N, IC, OC, add);
	else if (dtype == MG_DTYPE_Q8)
		matmul_q8_chunks(k, out, inp, wp, bias, N, IC, OC, add);
}
