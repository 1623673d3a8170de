/* Cross-entropy of the logits against the targets, with a loss mask (CPU).
 * Per row: loss = logsumexp(l) - l[target]; its gradient is
 * softmax(l) - onehot(target). Rows whose mask is 0 contribute nothing. */
#include <math.h>

#include "backend/cpu/cpu.h"
#include "core/threads.h"

/* log sum exp of a row, stable: max + log sum exp(l - max) */
static float row_lse(const float *l, uint32_t V)
{
	float mx = -INFINITY, s = 0.0f;

	for (uint32_t v = 0; v < V; v++)
		mx = l[v] > mx ? l[v] : mx;
	for (uint32_t v = 0; v < V; v++)
		s += expf(l[v] - mx);
	return mx + logf(s);
}

void mg_cpu_crossentropy_forward(float *losses, const float *logits, const uint32_t *targets, const uint8_t *mask,
				 size_t N, uint32_t V)
{
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 16)
	for (size_t n = 0; n < N; n++) {
		const float *l = logits + n * V;
		losses[n] = mask && !mask[n] ? 0.0f : row_lse(l, V) - l[targets[n]];
	}
}

void mg_cpu_crossentropy_backward(float *logits, const uint32_t *targets, const uint8_t *mask, size_t N, uint32_t V,
				  float scale)
{
#pragma omp parallel for num_threads(mg_threads_get()) schedule(dynamic, 16)
	for (size_t n = 0; n < N; n++) {
		float *l = logits + n * V;
		if (mask && !mask[n]) {
			for (uint32_t v = 0; v < V; v++)
				l[v] = 0.0f;
			continue;
		}
		float lse = row_lse(l, V);
		for (uint32_t v = 0; v < V; v++)
			l[v] = scale * (expf(l[v] - lse) - (v == targets[n] ? 1.0f : 0.0f));
	}
}
