/* The Linear layer of KV-cache inference over f16, bf16 and q8 weights
 * (the table's infer_* entries for those element types, contracts in
 * lib/backend/backend.h): packing and the driver (cpu_quant.c), and the
 * kernels of each instruction set, chosen at run time (cpu_quant_*.c). */
#ifndef MG_CPU_QUANT_H
#define MG_CPU_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "io/dtype.h" /* MG_DTYPE_*, MG_Q8_BLOCK */

/* Outputs per panel, and the bytes of one q8 panel block: 16 float scales,
 * then the 16 x 32 weights as 8 groups of 4 inputs, each group 16 outputs
 * x 4 bytes (the layout is described in cpu_quant.c). */
#define MG_QPANEL 16
#define MG_Q8_PANEL_BLOCK (MG_QPANEL * 4 + MG_QPANEL * 32)
/* Where output l of a panel sits among the 16 halves of one bf16 input:
 * 0..7 at the even places, 8..15 at the odd ones (cpu_quant.c says why). */
#define MG_BF16_PLACE(l) ((l) < 8 ? 2 * (l) : 2 * ((l)-8) + 1)
/* Rows and panels that one kernel call handles at most. */
#define MG_QROWS 8
#define MG_QPANELS 4

/* Rows of activations quantized per block of 32 (the contract's q and d):
 * row r's block b has its bytes at q + r ldq + 32 b, its scale d[r ldb + b]
 * and s[r ldb + b] = 128 times the sum of its bytes. */
typedef struct mg_cpu_qrows {
	const int8_t *q;
	const float *d;
	const int32_t *s;
	size_t ldq, ldb;
} mg_cpu_qrows;

/* The kernels of one instruction set; every set gives the same bits.
 * quantize: one row x (nb blocks) into q (32 nb), d (nb), s (nb).
 * q8: for rows r < R (1..MG_QROWS) and panels j < np (1..MG_QPANELS, w
 *   pointing at the first panel's first block to run, panels pstride bytes
 *   apart), nblk blocks in order continue the sums f[r 64 + 16 j + l]
 *   (output l of panel j; read, then written back).
 * half: f[r 64 + 16 j + l] = the f32 product of rows x (R rows, ldx floats
 *   apart) with np panels of f16 (bf16 = 0) or bf16 weights (IC x 16
 *   halves each, pstride halves apart), from 0. */
typedef struct mg_cpu_quant_kernels {
	void (*quantize)(int8_t *q, float *d, int32_t *s, const float *x, uint32_t nb);
	void (*q8)(float *f, const mg_cpu_qrows *x, size_t R, const uint8_t *w, size_t pstride, uint32_t np,
		   uint32_t nblk);
	void (*half)(float *f, const float *x, size_t ldx, size_t R, const uint16_t *w, size_t pstride, uint32_t np,
		     uint32_t IC, int bf16);
} mg_cpu_quant_kernels;

/* The instruction sets, slowest first. */
enum { MG_CPU_QUANT_PORTABLE, MG_CPU_QUANT_AVX2, MG_CPU_QUANT_AVX512VNNI, MG_CPU_QUANT_PATHS };

extern const mg_cpu_quant_kernels mg_cpu_quant_portable;
#if defined(__x86_64__)
extern const mg_cpu_quant_kernels mg_cpu_quant_avx2;       /* cpu_quant_avx2.c */
extern const mg_cpu_quant_kernels mg_cpu_quant_avx512vnni; /* cpu_quant_avx512.c */
#endif

/* "portable", "avx2", "avx512vnni" (the values of MYGPT_CPU_KERNELS);
 * NULL past the last. */
const char *mg_cpu_quant_name(int path);
/* Whether this CPU (and this build) can run the path. */
int mg_cpu_quant_supported(int path);
/* The path in use. The first call chooses it: MYGPT_CPU_KERNELS when it
 * names a path this CPU runs, else (unset, unknown or unsupported) the
 * fastest the CPU runs. */
int mg_cpu_quant_path(void);
/* Makes path the one in use, or the fastest the CPU runs when it cannot
 * run path; a negative path chooses again as the first call does (tests
 * and benchmarks). Returns the path now in use. Call it while no product
 * runs. */
int mg_cpu_quant_force(int path);

size_t mg_cpu_quant_pack_bytes(uint32_t dtype, uint32_t OC, uint32_t IC);
void mg_cpu_quant_pack(void *dst, const void *w, uint32_t dtype, uint32_t OC, uint32_t IC);
void mg_cpu_quant_matmul(float *out, const float *inp, const void *wp, uint32_t dtype, const float *bias, size_t N,
			 uint32_t IC, uint32_t OC, int add);

#endif
