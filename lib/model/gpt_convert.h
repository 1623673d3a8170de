/* Converting a GPT checkpoint's element types (gpt-convert): the Linear
 * weights to one dtype, the other parameters to another, the AdamW moments
 * and training state kept or dropped, with the error each tensor took. In
 * place on a checkpoint in memory, so that readers and writers of other
 * formats can sit on either side. */
#ifndef MG_GPT_CONVERT_H
#define MG_GPT_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "io/ckpt.h"

typedef struct mg_gpt_convert_opts {
	/* MG_DTYPE_* of the Linear weights (attn.c_attn, attn.c_proj, mlp.c_fc,
	 * mlp.c_proj, lm_head): q8 needs their last dimension (n_embd, 4
	 * n_embd) to be a multiple of 32 */
	uint32_t linear;
	/* MG_DTYPE_* of every other parameter (embeddings, LayerNorm, biases,
	 * time weights); q8 applies only to those whose last dimension is a
	 * multiple of 32, the others become f32 */
	uint32_t other;
	/* drop the AdamW moments and the training state; they are dropped
	 * anyway when linear is not f32 (a quantized model does not train) */
	int params_only;
} mg_gpt_convert_opts;

/* What happened to one tensor. The relative error of an element is
 * |x' - x| / max|x|, x its value before, x' after, max|x| over the whole
 * tensor before (0 for a tensor of zeros); worst and mean are its maximum
 * and mean over the elements. Bounds per element (values in f16's range):
 * f16 2^-11, bf16 2^-8, q8 (1/2)(1/127) = 1/254, each from rounding to
 * the nearest step (q8's step is its block's scale, at most max|x|/127). */
typedef struct mg_gpt_convert_stat {
	char name[MG_TENSOR_NAME_MAX + 1];
	uint32_t role, from, to; /* MG_ROLE_*, MG_DTYPE_* before and after */
	uint64_t n;              /* elements */
	uint64_t bytes_in, bytes_out; /* stored bytes before and after */
	double worst, mean;
} mg_gpt_convert_stat;

typedef struct mg_gpt_convert_report {
	mg_gpt_convert_stat *t; /* one per tensor of the input, in its order (dropped ones too, to 0 bytes) */
	size_t n;
	uint64_t bytes_in, bytes_out; /* all tensors */
	int dropped_moments, dropped_train;
} mg_gpt_convert_report;

/* Converts ck, a GPT checkpoint (mg_gpt_check_ckpt's checks first: on
 * failure ck is unchanged), in place: parameters re-encoded as o says (a
 * tensor already in its target dtype keeps its bytes), moments kept as
 * stored unless dropped. r (may be NULL) receives the statistics; free
 * them with mg_gpt_convert_report_free. MG_E_INVAL naming a Linear weight
 * that q8 cannot hold; MG_E_NOMEM (ck is then partly converted: a valid
 * checkpoint, but free it). */
int mg_gpt_convert_run(mg_ckpt *ck, const mg_gpt_convert_opts *o, mg_gpt_convert_report *r, mg_err *e);
void mg_gpt_convert_report_free(mg_gpt_convert_report *r);

#endif
