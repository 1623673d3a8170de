/* Learning-rate schedules counted in tokens: minGPT's trainer's (MyGPT's),
 * linear warmup then a cosine held at 10% of the rate once it gets there;
 * nanoGPT's, the same warmup then a cosine from the rate to 10% of it that
 * reaches 10% exactly at final_tokens; or a constant rate. */
#ifndef MG_LR_SCHED_H
#define MG_LR_SCHED_H

#include <stdint.h>

enum { MG_LR_COSINE = 0, MG_LR_CONSTANT = 1, MG_LR_COSINE_MIN = 2 };

typedef struct mg_lr_sched {
	uint32_t kind;          /* MG_LR_* */
	double lr;              /* the peak rate */
	uint64_t warmup_tokens; /* cosines: tokens of linear warmup */
	uint64_t final_tokens;  /* cosines: tokens at which the decay ends at 10% */
} mg_lr_sched;

/* The rate after `tokens` targets have been processed. With
 * w = warmup_tokens, f = final_tokens and p = (tokens - w) / max(1, f - w):
 *   tokens < w:  lr * tokens / max(1, w)                       (both cosines)
 *   cosine:      lr * max(0.1, (1 + cos(pi p)) / 2)   (10% from p = 0.795 on)
 *   cosine-min:  lr * (0.1 + 0.9 (1 + cos(pi p)) / 2)           (10% at p = 1)
 *   constant:    lr
 * and 10% after f for both cosines. */
double mg_lr_sched_at(const mg_lr_sched *s, uint64_t tokens);
/* "cosine", "constant", "cosine-min", "unknown" */
const char *mg_lr_sched_name(uint32_t kind);

#endif
