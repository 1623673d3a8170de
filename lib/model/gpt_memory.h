/* The memory a GPT run needs, stated before it is allocated, and the memory
 * this process can still get: so that a tool refuses a run that cannot fit
 * with a message saying how much and why, instead of dying half-way. */
#ifndef MG_GPT_MEMORY_H
#define MG_GPT_MEMORY_H

#include <stdint.h>

#include "core/err.h"
#include "model/gpt.h"

/* The bytes a model of configuration c (which must pass
 * mg_gpt_config_check) holds on its backend: params always; with B and T
 * above 0 the activations and scratch of mg_gpt_alloc(B, T, flags) (the
 * backend's own context aside, and with the host copy of the losses); with
 * MG_GPT_ALLOC_TRAIN grads and moments. total is their sum. Exact for
 * params, grads, moments and activations (what mg_gpt_memory_get reports
 * after the allocation); returns MG_E_NOMEM only when even the count cannot
 * be made (m zeroed). */
int mg_gpt_memory_train(const mg_gpt_config *c, uint32_t B, uint32_t T, uint32_t flags, mg_gpt_memory *m,
			mg_err *e);

/* The bytes an inference engine (lib/infer/infer.h) for n_seq sequences
 * needs for a model of configuration c, besides the model itself: params
 * (its copy of the weights), activations (the key and value cache, the
 * window of ids, the logits) and scratch (the buffers of a chunk of rows).
 * An estimate within a few percent (the backend packs matrices its own
 * way); total is the sum. */
void mg_gpt_memory_infer(const mg_gpt_config *c, uint32_t n_seq, mg_gpt_memory *m);

/* What mg_gpt_alloc(g, B, T, flags) would add to what g holds: its
 * gradients and moments unless g has them, and the buffers of the shape
 * (those of an earlier shape are freed first, so not counted). params is
 * 0. */
void mg_gpt_memory_alloc(const mg_gpt *g, uint32_t B, uint32_t T, uint32_t flags, mg_gpt_memory *m);

/* Bytes this process can still allocate: the least of the memory the
 * system has available (MemAvailable of /proc/meminfo, else
 * _SC_AVPHYS_PAGES pages) and what RLIMIT_AS and RLIMIT_DATA leave beside
 * the process's current size (/proc/self/statm). UINT64_MAX when none of
 * them can be read. */
uint64_t mg_gpt_memory_available(void);

/* MG_OK when m->total fits in mg_gpt_memory_available(); else MG_E_NOMEM
 * with a message that says how much and for what: "needs 68.7 GB for
 * parameters, 22.1 GB available", or "needs 21.4 GB (19.1 GB for
 * activations), 2.3 GB available" when other parts add to the largest one
 * (GB: 10^9 bytes). The caller puts the cause in front ("--batch 1000"). */
int mg_gpt_memory_check(const mg_gpt_memory *m, mg_err *e);

#endif
