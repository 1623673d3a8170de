/* The gradients of a model as one flat buffer, in and out of host memory,
 * for sums made outside the model: the micro-batches of a step and the
 * ranks of a data-parallel run (lib/train/trainer.c). */
#ifndef MG_GPT_GRADS_H
#define MG_GPT_GRADS_H

#include <stddef.h>

#include "model/gpt.h"

/* Floats in the buffer: every parameter's gradient, with the layout's
 * padding (always zero). Needs mg_gpt_alloc with MG_GPT_ALLOC_TRAIN. */
size_t mg_gpt_grads_len(const mg_gpt *g);
/* The buffer itself when the backend's memory is the host's (the CPU),
 * else NULL: then use _get and _set. */
float *mg_gpt_grads_host(mg_gpt *g);
/* dst (mg_gpt_grads_len floats) = the gradients; and back. */
void mg_gpt_grads_get(const mg_gpt *g, float *dst);
void mg_gpt_grads_set(mg_gpt *g, const float *src);

#endif
