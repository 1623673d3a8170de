/* Element types of checkpoint tensors (formats/checkpoint.md): fp32, fp16,
 * bf16 and q8 (blocks of 32 values: an fp32 scale and 32 signed bytes). */
#ifndef MG_DTYPE_H
#define MG_DTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum { MG_DTYPE_F32 = 0, MG_DTYPE_F16 = 1, MG_DTYPE_BF16 = 2, MG_DTYPE_Q8 = 3, MG_DTYPE_COUNT };

#define MG_Q8_BLOCK 32
#define MG_Q8_BLOCK_BYTES (4 + MG_Q8_BLOCK)

const char *mg_dtype_name(uint32_t dtype); /* "f32", ...; "unknown" */
/* Bytes that n elements take (n a multiple of MG_Q8_BLOCK for q8). */
uint64_t mg_dtype_bytes(uint32_t dtype, uint64_t n);

uint16_t mg_dtype_f32_to_f16(float f);   /* round to nearest even, saturating to inf */
float mg_dtype_f16_to_f32(uint16_t h);
uint16_t mg_dtype_f32_to_bf16(float f);  /* round to nearest even; NaN stays NaN */
float mg_dtype_bf16_to_f32(uint16_t h);

/* Encodes n floats (n % 32 == 0 for q8) into dst as stored in files
 * (little-endian), or decodes them back. */
void mg_dtype_encode(uint32_t dtype, const float *src, uint64_t n, uint8_t *dst);
void mg_dtype_decode(uint32_t dtype, const uint8_t *src, uint64_t n, float *dst);

/* Checks n stored elements of dtype (n % 32 == 0 for q8) for values the
 * format forbids: a q8 block whose scale is not finite or is negative, or
 * whose q holds -128 (q lies in -127..127, so that -q never overflows and the
 * int8 products of the kernels stay exact). MG_E_CORRUPT naming the block
 * ("q8 block 12 has scale -0.5"), else MG_OK; f32, f16 and bf16 have no
 * forbidden values. */
int mg_dtype_check(uint32_t dtype, const uint8_t *src, uint64_t n, mg_err *e);

#endif
