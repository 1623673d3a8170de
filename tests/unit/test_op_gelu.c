/* GELU, exact and tanh, against double-precision formulas and its
 * derivative against finite differences. */
#include "check.h"
#include "gradcheck.h"

#include "backend.h"
#include "gpt.h"
#include "threads.h"

typedef struct {
	size_t n;
	uint32_t kind;
	double *x, *r;
} ge_ctx;

static double gelu(double x, uint32_t kind)
{
	if (kind == MG_GELU_ERF)
		return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
	return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

static double ge_ref(void *p)
{
	ge_ctx *c = p;
	double L = 0.0;
	for (size_t i = 0; i < c->n; i++)
		L += gelu(c->x[i], c->kind) * c->r[i];
	return L;
}

static void test_gelu(uint32_t kind, size_t n)
{
	const mg_backend *be = mg_backend_cpu();
	float *x = gc_rand(n, -6, 6), *r = gc_rand(n, -1, 1), *y = calloc(n, 4), *dx = calloc(n, 4);
	ge_ctx c = { n, kind, gc_to_double(x, n), gc_to_double(r, n) };
	double *want = malloc(n * sizeof *want);
	char what[64];

	be->gelu_forward(y, x, n, kind);
	for (size_t i = 0; i < n; i++)
		want[i] = gelu(x[i], kind);
	CHECK(gc_err(y, want, n, 1.0) < 1e-6);
	be->gelu_backward(dx, r, x, n, kind);
	snprintf(what, sizeof what, "gelu %s n=%zu", mg_gpt_gelu_name(kind), n);
	GC_CHECK_GRAD(what, dx, ge_ref, &c, c.x, n, 1e-5);
	/* in place: dinp may be dout */
	memcpy(y, r, n * sizeof *y);
	be->gelu_backward(y, y, x, n, kind);
	CHECK(!memcmp(y, dx, n * sizeof *y));
	/* the two forms differ (by at most about 5e-4): the kind is honoured */
	be->gelu_forward(y, x, n, kind == MG_GELU_ERF ? MG_GELU_TANH : MG_GELU_ERF);
	CHECK(gc_err(y, want, n, 1.0) > 1e-5);
	free(x), free(r), free(y), free(dx), free(want), free(c.x), free(c.r);
}

int main(void)
{
	gc_seed(4);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		test_gelu(MG_GELU_TANH, 1000);
		test_gelu(MG_GELU_ERF, 1000);
		test_gelu(MG_GELU_TANH, 9000); /* more than one block of work */
	}
	CHECK_DONE();
}
