/* Conversions between fp32 and the stored element types. */
#include "io/dtype.h"

#include <math.h>
#include <string.h>

#include "core/bytes.h"

const char *mg_dtype_name(uint32_t dtype)
{
	static const char *names[] = { "f32", "f16", "bf16", "q8" };
	return dtype < MG_DTYPE_COUNT ? names[dtype] : "unknown";
}

uint64_t mg_dtype_bytes(uint32_t dtype, uint64_t n)
{
	switch (dtype) {
	case MG_DTYPE_F32: return n * 4;
	case MG_DTYPE_F16:
	case MG_DTYPE_BF16: return n * 2;
	case MG_DTYPE_Q8: return n / MG_Q8_BLOCK * MG_Q8_BLOCK_BYTES;
	}
	return 0;
}

uint16_t mg_dtype_f32_to_f16(float f)
{
	uint32_t x = mg_f32_bits(f), sign = (x >> 16) & 0x8000, mant;
	int exp;

	if ((x & 0x7fffffff) > 0x7f800000) /* NaN: keep it quiet */
		return (uint16_t)(sign | 0x7e00);
	exp = (int)((x >> 23) & 0xff) - 127 + 15;
	mant = x & 0x7fffff;
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) { /* subnormal or zero */
		uint32_t shift, m, r;
		if (exp < -10)
			return (uint16_t)sign;
		m = mant | 0x800000;
		shift = (uint32_t)(14 - exp);
		r = m >> shift;
		if ((m >> (shift - 1) & 1) && ((m & ((1u << (shift - 1)) - 1)) || (r & 1)))
			r++;
		return (uint16_t)(sign | r);
	}
	{
		uint32_t h = sign | (uint32_t)exp << 10 | mant >> 13;
		uint32_t rest = mant & 0x1fff;
		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++; /* may carry into the exponent: correct, up to inf */
		return (uint16_t)h;
	}
}

float mg_dtype_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = h >> 10 & 0x1f, mant = h & 0x3ff;

	if (exp == 0) {
		float v = ldexpf((float)mant, -24);
		return sign ? -v : v;
	}
	if (exp == 31)
		return mg_f32_from_bits(sign | 0x7f800000 | mant << 13);
	return mg_f32_from_bits(sign | (exp + 112) << 23 | mant << 13);
}

uint16_t mg_dtype_f32_to_bf16(float f)
{
	uint32_t x = mg_f32_bits(f);

	if ((x & 0x7fffffff) > 0x7f800000)
		return (uint16_t)(x >> 16 | 0x40);
	x += 0x7fff + (x >> 16 & 1);
	return (uint16_t)(x >> 16);
}

float mg_dtype_bf16_to_f32(uint16_t h) { return mg_f32_from_bits((uint32_t)h << 16); }

void mg_dtype_encode(uint32_t dtype, const float *src, uint64_t n, uint8_t *dst)
{
	switch (dtype) {
	case MG_DTYPE_F32:
		for (uint64_t i = 0; i < n; i++)
			mg_le32_put(dst + 4 * i, mg_f32_bits(src[i]));
		break;
	case MG_DTYPE_F16:
		for (uint64_t i = 0; i < n; i++)
			mg_le16_put(dst + 2 * i, mg_dtype_f32_to_f16(src[i]));
		break;
	case MG_DTYPE_BF16:
		for (uint64_t i = 0; i < n; i++)
			mg_le16_put(dst + 2 * i, mg_dtype_f32_to_bf16(src[i]));
		break;
	case MG_DTYPE_Q8:
		/* per block: scale = max|x| / 127, q = round(x / scale) */
		for (uint64_t b = 0; b < n / MG_Q8_BLOCK; b++) {
			const float *x = src + b * MG_Q8_BLOCK;
			uint8_t *o = dst + b * MG_Q8_BLOCK_BYTES;
			float amax = 0, scale, inv;
			for (int i = 0; i < MG_Q8_BLOCK; i++)
				amax = fmaxf(amax, fabsf(x[i]));
			scale = amax / 127.0f;
			inv = scale > 0 ? 1.0f / scale : 0;
			mg_le32_put(o, mg_f32_bits(scale));
			for (int i = 0; i < MG_Q8_BLOCK; i++)
				o[4 + i] = (uint8_t)(int8_t)lrintf(x[i] * inv);
		}
		break;
	}
}

void mg_dtype_decode(uint32_t dtype, const uint8_t *src, uint64_t n, float *dst)
{
	switch (dtype) {
	case MG_DTYPE_F32:
		for (uint64_t i = 0; i < n; i++)
			dst[i] = mg_f32_from_bits(mg_le32_get(src + 4 * i));
		break;
	case MG_DTYPE_F16:
		for (uint64_t i = 0; i < n; i++)
			dst[i] = mg_dtype_f16_to_f32(mg_le16_get(src + 2 * i));
		break;
	case MG_DTYPE_BF16:
		for (uint64_t i = 0; i < n; i++)
			dst[i] = mg_dtype_bf16_to_f32(mg_le16_get(src + 2 * i));
		break;
	case MG_DTYPE_Q8:
		for (uint64_t b = 0; b < n / MG_Q8_BLOCK; b++) {
			const uint8_t *s = src + b * MG_Q8_BLOCK_BYTES;
			float scale = mg_f32_from_bits(mg_le32_get(s));
			for (int i = 0; i < MG_Q8_BLOCK; i++)
				dst[b * MG_Q8_BLOCK + i] = scale * (float)(int8_t)s[4 + i];
		}
		break;
	}
}

int mg_dtype_check(uint32_t dtype, const uint8_t *src, uint64_t n, mg_err *e)
{
	if (dtype != MG_DTYPE_Q8)
		return MG_OK;
	for (uint64_t b = 0; b < n / MG_Q8_BLOCK; b++) {
		const uint8_t *s = src + b * MG_Q8_BLOCK_BYTES;
		float scale = mg_f32_from_bits(mg_le32_get(s));
		if (!isfinite(scale) || scale < 0)
			return mg_err_set(e, MG_E_CORRUPT, "q8 block %llu has scale %g", (unsigned long long)b, (double)scale);
		for (int i = 0; i < MG_Q8_BLOCK; i++)
			if (s[4 + i] == 0x80)
				return mg_err_set(e, MG_E_CORRUPT, "q8 block %llu holds q -128", (unsigned long long)b);
	}
	return MG_OK;
}
