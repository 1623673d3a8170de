/* The flat gradient buffer of a model (model/gpt_grads.h), through the
 * backend's copies when it lives on a device. */
#include "model/gpt_grads.h"

#include <assert.h>
#include <string.h>

#include "model/gpt_internal.h"

size_t mg_gpt_grads_len(const mg_gpt *g)
{
	assert(g->grads);
	return g->n_floats;
}

float *mg_gpt_grads_host(mg_gpt *g)
{
	assert(g->grads);
	return g->be->device ? NULL : g->grads;
}

void mg_gpt_grads_get(const mg_gpt *g, float *dst)
{
	assert(g->grads);
	if (g->be->device)
		g->be->download(dst, g->grads, g->n_floats * sizeof(float));
	else
		memcpy(dst, g->grads, g->n_floats * sizeof(float));
}

void mg_gpt_grads_set(mg_gpt *g, const float *src)
{
	assert(g->grads);
	if (g->be->device)
		g->be->upload(g->grads, src, g->n_floats * sizeof(float));
	else if (src != g->grads)
		memcpy(g->grads, src, g->n_floats * sizeof(float));
}
