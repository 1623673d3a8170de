/* The Linear kernel (OpenBLAS sgemm in per-thread slabs) against a double
 * reference: out = inp w^T + bias, and its three gradients. */
#include "check.h"
#include "gradcheck.h"

#include "backend/backend.h"
#include "core/threads.h"

typedef struct {
	size_t N, IC, OC;
	double *x, *w, *b, *r; /* b NULL: no bias */
} mm_ctx;

static double mm_ref(void *p)
{
	mm_ctx *c = p;
	double L = 0.0;
	for (size_t n = 0; n < c->N; n++)
		for (size_t o = 0; o < c->OC; o++) {
			double s = c->b ? c->b[o] : 0.0;
			for (size_t i = 0; i < c->IC; i++)
				s += c->x[n * c->IC + i] * c->w[o * c->IC + i];
			L += s * c->r[n * c->OC + o];
		}
	return L;
}

static void test_matmul(size_t N, uint32_t IC, uint32_t OC, int bias)
{
	const mg_backend *be = mg_backend_cpu();
	float *x = gc_rand(N * IC, -1, 1), *w = gc_rand((size_t)OC * IC, -1, 1), *b = gc_rand(OC, -1, 1);
	float *r = gc_rand(N * OC, -1, 1), *out = calloc(N * OC, 4), *dx = gc_rand(N * IC, -9, 9);
	float *dw = gc_rand((size_t)OC * IC, -1, 1), *db = gc_rand(OC, -1, 1);
	float *dw0 = gc_copy(dw, (size_t)OC * IC), *db0 = gc_copy(db, OC);
	mm_ctx c = { N, IC, OC, gc_to_double(x, N * IC), gc_to_double(w, (size_t)OC * IC), bias ? gc_to_double(b, OC) : NULL,
		     gc_to_double(r, N * OC) };
	double L = 0.0;
	char what[80];

	be->matmul_forward(out, x, w, bias ? b : NULL, N, IC, OC);
	for (size_t i = 0; i < N * OC; i++)
		L += (double)out[i] * r[i];
	CHECK_CLOSE(L, mm_ref(&c), 1e-5);
	be->matmul_backward(dx, dw, bias ? db : NULL, r, x, w, N, IC, OC);
	for (size_t i = 0; i < (size_t)OC * IC; i++)
		dw[i] -= dw0[i]; /* dw accumulates; dx is overwritten */
	snprintf(what, sizeof what, "matmul %zux%u->%u%s dinp", N, IC, OC, bias ? "+b" : "");
	GC_CHECK_GRAD(what, dx, mm_ref, &c, c.x, N * IC, 1e-5);
	snprintf(what, sizeof what, "matmul %zux%u->%u%s dw", N, IC, OC, bias ? "+b" : "");
	GC_CHECK_GRAD(what, dw, mm_ref, &c, c.w, (size_t)OC * IC, 1e-5);
	if (bias) {
		for (size_t i = 0; i < OC; i++)
			db[i] -= db0[i];
		snprintf(what, sizeof what, "matmul %zux%u->%u+b dbias", N, IC, OC);
		GC_CHECK_GRAD(what, db, mm_ref, &c, c.b, OC, 1e-5);
	} else {
		CHECK(!memcmp(db, db0, OC * sizeof *db)); /* untouched */
	}
	free(x), free(w), free(b), free(r), free(out), free(dx), free(dw), free(db), free(dw0), free(db0);
	free(c.x), free(c.w), free(c.b), free(c.r);
}

int main(void)
{
	gc_seed(2);
	for (int threads = 1; threads <= 3; threads++) {
		mg_threads_set(threads);
		test_matmul(7, 5, 9, 1);
		test_matmul(1, 3, 2, 0); /* fewer rows than threads */
		test_matmul(33, 17, 1, 1);
		test_matmul(20, 9, 37, 1); /* column sums in vectors and a tail */
	}
	CHECK_DONE();
}
