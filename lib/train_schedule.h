/* The learning-rate schedule of the seed (minGPT's trainer), counted in
 * tokens: linear warmup, then cosine decay to 10% of the rate; or a
 * constant rate. */
#ifndef MG_TRAIN_SCHEDULE_H
#define MG_TRAIN_SCHEDULE_H

#include <stdint.h>

enum { MG_LR_COSINE = 0, MG_LR_CONSTANT = 1 };

typedef struct mg_lr_sched {
	uint32_t kind;          /* MG_LR_* */
	double lr;              /* the peak rate */
	uint64_t warmup_tokens; /* cosine: tokens of linear warmup */
	uint64_t final_tokens;  /* cosine: tokens at which the rate reaches 10% */
} mg_lr_sched;

/* The rate after `tokens` targets have been processed. Cosine: with
 * w = warmup_tokens and f = final_tokens,
 *   tokens < w:  lr * tokens / max(1, w)
 *   otherwise:   lr * max(0.1, (1 + cos(pi p)) / 2),
 *                p = (tokens - w) / max(1, f - w)
 * (so 10% from p = 0.795 on, and after f); constant: lr. */
double mg_lr_sched_at(const mg_lr_sched *s, uint64_t tokens);
const char *mg_lr_sched_name(uint32_t kind); /* "cosine", "constant", "unknown" */

#endif
