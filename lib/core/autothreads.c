/* Picking the thread count by measurement (autothreads.h). A probe times
 * MG_AUTOTHREADS_SAMPLES calls with one thread and as many with all,
 * alternating so that a change of load hits both alike, and keeps the
 * setting with the lower mean time: the mean, not the minimum, because
 * threads on a busy machine are sometimes fast and often very slow, and
 * the mean is what a long run pays. */
#include "core/autothreads.h"

#include <string.h>

#include "core/threads.h"

#define PERIOD_MIN 16
#define PERIOD_MAX 1024

void mg_autothreads_init(mg_autothreads *a, int n_max)
{
	memset(a, 0, sizeof *a);
	a->n_max = n_max < 1 ? 1 : n_max;
	a->cur = a->chosen = a->n_max;
	a->period = PERIOD_MIN;
	a->next = 2;
	mg_threads_set(a->cur);
}

static double mean(const double *t, int n)
{
	double s = 0.0;

	for (int i = 0; i < n; i++)
		s += t[i];
	return s / n;
}

static void use(mg_autothreads *a, int n)
{
	if (n != a->cur) {
		a->cur = n;
		mg_threads_set(n);
	}
}

void mg_autothreads_after(mg_autothreads *a, double seconds, uint64_t shape)
{
	enum { S = MG_AUTOTHREADS_SAMPLES };

	if (a->n_max == 1)
		return;
	a->calls++;
	if (!a->probing) {
		if (shape == a->shape && a->ref > 0.0 && seconds > 3.0 * a->ref)
			a->next = a->calls; /* slower than measured: the load changed */
		if (a->calls < a->next)
			return;
		a->probing = 1;
		a->k1 = a->kn = 0;
		a->shape = shape;
	} else if (shape != a->shape) { /* another kind of call: start the samples again */
		a->k1 = a->kn = 0;
		a->shape = shape;
	}
	if (a->cur == 1 && a->k1 < S)
		a->t1[a->k1++] = seconds;
	else if (a->cur == a->n_max && a->kn < S)
		a->tn[a->kn++] = seconds;
	if (a->k1 == S && a->kn == S) {
		int best = mean(a->t1, S) < mean(a->tn, S) ? 1 : a->n_max;
		a->ref = best == 1 ? mean(a->t1, S) : mean(a->tn, S);
		a->period = best == a->chosen ? (a->period * 2 < PERIOD_MAX ? a->period * 2 : PERIOD_MAX) : PERIOD_MIN;
		a->chosen = best;
		a->probing = 0;
		a->next = a->calls + a->period;
		use(a, best);
		return;
	}
	/* alternate while both still need samples */
	use(a, a->cur == 1 ? (a->kn < S ? a->n_max : 1) : (a->k1 < S ? 1 : a->n_max));
}
