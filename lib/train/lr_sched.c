/* minGPT's learning-rate decay (mingpt/trainer.py, lr_decay) and nanoGPT's
 * (train.py, get_lr, with min_lr = lr / 10), counted in tokens, in double
 * precision. */
#include "train/lr_sched.h"

#include <math.h>

double mg_lr_sched_at(const mg_lr_sched *s, uint64_t tokens)
{
	double w, f, p, mult;

	if (s->kind == MG_LR_CONSTANT)
		return s->lr;
	w = (double)s->warmup_tokens;
	f = (double)s->final_tokens;
	if (tokens < s->warmup_tokens)
		return s->lr * (double)tokens / fmax(1.0, w);
	p = ((double)tokens - w) / fmax(1.0, f - w);
	mult = 0.5 * (1.0 + cos(M_PI * p));
	if (s->kind == MG_LR_COSINE_MIN)
		return s->lr * (p >= 1.0 ? 0.1 : 0.1 + 0.9 * mult);
	/* past f the cosine would rise again: minGPT's max() holds it at 10% */
	if (p >= 1.0 || mult < 0.1)
		mult = 0.1;
	return s->lr * mult;
}

const char *mg_lr_sched_name(uint32_t kind)
{
	switch (kind) {
	case MG_LR_COSINE: return "cosine";
	case MG_LR_CONSTANT: return "constant";
	case MG_LR_COSINE_MIN: return "cosine-min";
	}
	return "unknown";
}
