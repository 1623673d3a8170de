/* minGPT's learning-rate decay (mingpt/trainer.py, lr_decay) and nanoGPT's
 * (train.py, get_lr, with min_lr = lr / 10), counted in tokens, in double
 * precision. */
#include "train/lr_sched.h"

#include <math.h>

/* The rate at counter t with warmup wu and decay end fi, in one unit. */
static double rate_at(const mg_lr_sched *s, uint64_t t, uint64_t wu, uint64_t fi)
{
	double w = (double)wu, f = (double)fi, p, mult;

	if (s->kind == MG_LR_CONSTANT)
		return s->lr;
	if (t < wu)
		return s->lr * (double)t / fmax(1.0, w);
	p = ((double)t - w) / fmax(1.0, f - w);
	mult = 0.5 * (1.0 + cos(M_PI * p));
	if (s->kind == MG_LR_COSINE_MIN)
		return s->lr * (p >= 1.0 ? 0.1 : 0.1 + 0.9 * mult);
	/* past f the cosine would rise again: minGPT's max() holds it at 10% */
	if (p >= 1.0 || mult < 0.1)
		mult = 0.1;
	return s->lr * mult;
}

double mg_lr_sched_at(const mg_lr_sched *s, uint64_t tokens)
{
	return rate_at(s, tokens, s->warmup_tokens, s->final_tokens);
}

double mg_lr_sched_rate(const mg_lr_sched *s, uint64_t step, uint64_t tokens)
{
	if (s->unit == MG_LR_UNIT_STEPS)
		return rate_at(s, step, s->warmup_steps, s->final_steps);
	return rate_at(s, tokens, s->warmup_tokens, s->final_tokens);
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
