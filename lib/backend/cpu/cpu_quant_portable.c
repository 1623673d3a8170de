/* The portable C kernels of the f16, bf16 and q8 Linear layer
 * (cpu_quant.h): the contract of backend.h written out plainly, which the
 * vector kernels must match bit for bit; any CPU runs them. */
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_quant.h"
#include "io/dtype.h"

/* d = max|x| / 127 and q = rint(x (1/d)) per block, in float; 1/d is
 * infinite when d is 0 or below 2^-128, and then every q is 0. rintf
 * rounds ties to even (the default rounding mode, as the vector
 * conversions). The inputs are finite, so |x (1/d)| <= 127 (plus rounding
 * error far below one half) and q fits a signed byte. */
static void quantize_c(int8_t *q, float *d, int32_t *s, const float *x, uint32_t nb)
{
	for (uint32_t b = 0; b < nb; b++, x += MG_Q8_BLOCK, q += MG_Q8_BLOCK) {
		float a = 0.0f, inv;
		int32_t sum = 0;

		for (int i = 0; i < MG_Q8_BLOCK; i++)
			a = fmaxf(a, fabsf(x[i]));
		d[b] = a / 127.0f;
		inv = 1.0f / d[b];
		if (isinf(inv))
			inv = 0.0f;
		for (int i = 0; i < MG_Q8_BLOCK; i++) {
			q[i] = (int8_t)rintf(x[i] * inv);
			sum += q[i];
		}
		s[b] = 128 * sum;
	}
}

static void q8_c(float *f, const mg_cpu_qrows *x, size_t R, const uint8_t *w, size_t pstride, uint32_t np,
		 uint32_t nblk)
{
	for (uint32_t j = 0; j < np; j++)
		for (uint32_t b = 0; b < nblk; b++) {
			const uint8_t *blk = w + j * pstride + (size_t)b * MG_Q8_PANEL_BLOCK;
			const int8_t *wq = (const int8_t *)(blk + MG_QPANEL * 4);
			float sc[MG_QPANEL];

			memcpy(sc, blk, sizeof sc);
			for (size_t r = 0; r < R; r++) {
				const int8_t *xq = x->q + r * x->ldq + (size_t)b * MG_Q8_BLOCK;
				float dr = x->d[r * x->ldb + b];
				int32_t xi[MG_Q8_BLOCK];
				/* int32 activations: GCC 12 turns a sum of products of
				 * two int8 arrays into vpdpbusd (unsigned x signed) on
				 * AVX-512 VNNI with -march=native, which is wrong for
				 * negative activations; int32 x int8 it leaves alone */
				for (int i = 0; i < MG_Q8_BLOCK; i++)
					xi[i] = xq[i];
				for (int l = 0; l < MG_QPANEL; l++) {
					float *acc = f + r * 64 + MG_QPANEL * j + l;
					int32_t sum = 0;
					for (int g = 0; g < MG_Q8_BLOCK / 4; g++)
						for (int i = 0; i < 4; i++)
							sum += xi[4 * g + i] * wq[64 * g + 4 * l + i];
					*acc = fmaf((float)sum, sc[l] * dr, *acc);
				}
			}
		}
}

static void half_c(float *f, const float *x, size_t ldx, size_t R, const uint16_t *w, size_t pstride, uint32_t np,
		   uint32_t IC, int bf16)
{
	for (uint32_t j = 0; j < np; j++) {
		const uint16_t *pw = w + j * pstride;

		for (size_t r = 0; r < R; r++)
			memset(f + r * 64 + MG_QPANEL * j, 0, MG_QPANEL * sizeof *f);
		for (uint32_t k = 0; k < IC; k++) {
			float wf[MG_QPANEL];
			for (int l = 0; l < MG_QPANEL; l++)
				wf[l] = bf16 ? mg_dtype_bf16_to_f32(pw[MG_QPANEL * k + MG_BF16_PLACE(l)])
					     : mg_dtype_f16_to_f32(pw[MG_QPANEL * k + l]);
			for (size_t r = 0; r < R; r++) {
				float xv = x[r * ldx + k], *acc = f + r * 64 + MG_QPANEL * j;
				for (int l = 0; l < MG_QPANEL; l++)
					acc[l] = fmaf(xv, wf[l], acc[l]);
			}
		}
	}
}

const mg_cpu_quant_kernels mg_cpu_quant_portable = { quantize_c, q8_c, half_c };
