/* Masked cross-entropy: per-row losses against a double reference (also
 * for huge logits, where a naive softmax overflows), and the gradient of
 * scale * sum(masked losses) against finite differences. */
#include "check.h"
#include "gradcheck.h"

#include "backend/backend.h"
#include "core/threads.h"

typedef struct {
	size_t N, V;
	const uint32_t *tg;
	const uint8_t *mask;
	double *l, scale;
} ce_ctx;

static double ce_row(const double *l, size_t V, uint32_t t)
{
	double mx = l[0], s = 0.0;
	for (size_t v = 1; v < V; v++)
		mx = l[v] > mx ? l[v] : mx;
	for (size_t v = 0; v < V; v++)
		s += exp(l[v] - mx);
	return mx + log(s) - l[t];
}

static double ce_ref(void *p)
{
	ce_ctx *c = p;
	double L = 0.0;
	for (size_t n = 0; n < c->N; n++)
		if (!c->mask || c->mask[n])
			L += ce_row(c->l + n * c->V, c->V, c->tg[n]);
	return c->scale * L;
}

static void test_ce(int masked, double spread)
{
	const mg_backend *be = mg_backend_cpu();
	enum { N = 9, V = 11 };
	uint32_t tg[N] = { 0, 10, 3, 3, 7, 1, 2, 9, 5 };
	uint8_t mask[N] = { 1, 0, 1, 1, 0, 0, 1, 1, 1 };
	float *l = gc_rand(N * V, -spread, spread), losses[N];
	ce_ctx c = { N, V, tg, masked ? mask : NULL, gc_to_double(l, N * V), 0.37 };
	char what[64];

	be->crossentropy_forward(losses, l, tg, masked ? mask : NULL, N, V);
	for (size_t n = 0; n < N; n++) {
		double want = masked && !mask[n] ? 0.0 : ce_row(c.l + n * V, V, tg[n]);
		CHECK(isfinite(losses[n]));
		CHECK_CLOSE(losses[n], want, 2e-6 * (1.0 + spread));
	}
	if (spread < 100) {
		be->crossentropy_backward(l, tg, masked ? mask : NULL, N, V, (float)c.scale);
		snprintf(what, sizeof what, "cross-entropy%s spread %g", masked ? " masked" : "", spread);
		GC_CHECK_GRAD(what, l, ce_ref, &c, c.l, (size_t)N * V, 1e-5);
		for (size_t n = 0; n < N; n++)
			if (masked && !mask[n])
				for (size_t v = 0; v < V; v++)
					CHECK(l[n * V + v] == 0.0f);
	}
	free(l), free(c.l);
}

int main(void)
{
	gc_seed(6);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		test_ce(0, 3);
		test_ce(1, 3);
		test_ce(1, 1e4); /* large logits stay finite */
	}
	CHECK_DONE();
}
