/* Learning-rate schedules counted in tokens (or in steps): minGPT's
 * trainer's (MyGPT's), linear warmup then a cosine held at 10% of the rate
 * once it gets there; nanoGPT's, the same warmup then a cosine from the rate
 * to 10% of it that reaches 10% exactly at final_tokens; or a constant rate. */
#ifndef MG_LR_SCHED_H
#define MG_LR_SCHED_H

#include <stdint.h>

enum { MG_LR_COSINE = 0, MG_LR_CONSTANT = 1, MG_LR_COSINE_MIN = 2 };
enum { MG_LR_UNIT_TOKENS = 0, MG_LR_UNIT_STEPS = 1 }; /* the schedule's counter */

typedef struct mg_lr_sched {
	uint32_t kind;          /* MG_LR_* */
	double lr;              /* the peak rate */
	uint64_t warmup_tokens; /* cosines: tokens of linear warmup */
	uint64_t final_tokens;  /* cosines: tokens at which the decay ends at 10% */
	uint32_t unit;          /* MG_LR_UNIT_*: STEPS uses the two below instead */
	uint64_t warmup_steps;  /* steps of linear warmup (nanoGPT's warmup_iters) */
	uint64_t final_steps;   /* the step at which the decay ends (lr_decay_iters) */
} mg_lr_sched;

/* The rate after `tokens` targets have been processed. With
 * w = warmup_tokens, f = final_tokens and p = (tokens - w) / max(1, f - w):
 *   tokens < w:  lr * tokens / max(1, w)                       (both cosines)
 *   cosine:      lr * max(0.1, (1 + cos(pi p)) / 2)   (10% from p = 0.795 on)
 *   cosine-min:  lr * (0.1 + 0.9 (1 + cos(pi p)) / 2)           (10% at p = 1)
 *   constant:    lr
 * and 10% after f for both cosines. */
double mg_lr_sched_at(const mg_lr_sched *s, uint64_t tokens);
/* The rate of the step that ends with `step` steps and `tokens` targets
 * done: mg_lr_sched_at of the tokens, or with unit STEPS the same formulas
 * over the step counter, w = warmup_steps and f = final_steps. */
double mg_lr_sched_rate(const mg_lr_sched *s, uint64_t step, uint64_t tokens);
/* "cosine", "constant", "cosine-min", "unknown" */
const char *mg_lr_sched_name(uint32_t kind);

#endif
