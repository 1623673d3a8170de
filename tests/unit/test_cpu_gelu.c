/* GELU, exact and tanh, against double-precision formulas and its
 * derivative against finite differences; an element's bits do not depend on
 * where it sits in the array (the sampler runs it on rows of any count). */
#include "check.h"
#include "gradcheck.h"

#include "backend/backend.h"
#include "core/threads.h"
#include "model/gpt.h"

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

/* The same values at another offset and length, and in place, give the same
 * bits (vector kernels must not finish a partial vector differently). */
static void test_position(uint32_t kind)
{
	const mg_backend *be = mg_backend_cpu();
	size_t n = 5000;
	float *x = gc_rand(n, -8, 8), *r = gc_rand(n, -1, 1), *y = malloc(n * 4), *z = malloc(n * 4);
	float *dy = malloc(n * 4), *dz = malloc(n * 4);

	be->gelu_forward(y, x, n, kind);
	be->gelu_backward(dy, r, x, n, kind);
	for (size_t off = 1; off < 12; off += 5)
		for (size_t len = 1; len + off <= n; len = len * 3 + 1) {
			memcpy(z, x + off, len * 4);
			be->gelu_forward(z, z, len, kind); /* in place */
			CHECK(!memcmp(z, y + off, len * 4));
			be->gelu_backward(dz, r + off, x + off, len, kind);
			CHECK(!memcmp(dz, dy + off, len * 4));
		}
	/* large |x|: no overflow, the limits 0 and x */
	{
		float big[4] = { -200.0f, -30.0f, 30.0f, 200.0f }, out[4], d[4], one[4] = { 1, 1, 1, 1 };
		be->gelu_forward(out, big, 4, kind);
		be->gelu_backward(d, one, big, 4, kind);
		CHECK(fabsf(out[0]) < 1e-30f && fabsf(out[1]) < 1e-30f && out[2] == 30.0f && out[3] == 200.0f);
		CHECK(fabsf(d[0]) < 1e-30f && fabsf(d[1]) < 1e-30f && d[2] == 1.0f && d[3] == 1.0f);
	}
	free(x), free(r), free(y), free(z), free(dy), free(dz);
}

int main(void)
{
	gc_seed(4);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		test_gelu(MG_GELU_TANH, 1000);
		test_gelu(MG_GELU_ERF, 1000);
		test_gelu(MG_GELU_TANH, 9000); /* more than one block of work */
		test_gelu(MG_GELU_TANH, 8195); /* a partial vector at the end */
		test_position(MG_GELU_TANH);
		test_position(MG_GELU_ERF);
	}
	CHECK_DONE();
}
