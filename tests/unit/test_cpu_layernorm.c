/* LayerNorm and time-shift kernels against a double-precision reference:
 * forward values, and backward against finite differences. */
#include "check.h"
#include "gradcheck.h"

#include "backend/backend.h"
#include "core/threads.h"

typedef struct {
	size_t N, C;
	double *x, *w, *b, *r;
} ln_ctx;

/* sum(out * r) with out = LayerNorm(x) w + b, in double */
static double ln_ref(void *p)
{
	ln_ctx *c = p;
	double L = 0.0;
	for (size_t n = 0; n < c->N; n++) {
		const double *x = c->x + n * c->C;
		double m = 0.0, v = 0.0;
		for (size_t i = 0; i < c->C; i++)
			m += x[i];
		m /= (double)c->C;
		for (size_t i = 0; i < c->C; i++)
			v += (x[i] - m) * (x[i] - m);
		v /= (double)c->C;
		for (size_t i = 0; i < c->C; i++)
			L += ((x[i] - m) / sqrt(v + 1e-5) * c->w[i] + c->b[i]) * c->r[n * c->C + i];
	}
	return L;
}

static void test_layernorm(size_t N, uint32_t C)
{
	const mg_backend *be = mg_backend_cpu();
	size_t n = N * C;
	float *x = gc_rand(n, -2, 3), *w = gc_rand(C, 0.5, 1.5), *b = gc_rand(C, -0.5, 0.5), *r = gc_rand(n, -1, 1);
	float *out = calloc(n, sizeof *out), *mean = calloc(N, 4), *rstd = calloc(N, 4);
	float *dx = gc_rand(n, -1, 1), *dw = gc_rand(C, -1, 1), *db = gc_rand(C, -1, 1);
	float *dx0 = gc_copy(dx, n), *dw0 = gc_copy(dw, C), *db0 = gc_copy(db, C);
	ln_ctx c = { N, C, gc_to_double(x, n), gc_to_double(w, C), gc_to_double(b, C), gc_to_double(r, n) };
	double L = 0.0;
	char what[64];

	be->layernorm_forward(out, mean, rstd, x, w, b, N, C);
	for (size_t i = 0; i < n; i++)
		L += (double)out[i] * r[i];
	CHECK_CLOSE(L, ln_ref(&c), 1e-5);
	/* backward accumulates: start from random gradients and subtract them */
	be->layernorm_backward(dx, dw, db, r, x, w, mean, rstd, N, C);
	for (size_t i = 0; i < n; i++)
		dx[i] -= dx0[i];
	for (size_t i = 0; i < C; i++)
		dw[i] -= dw0[i], db[i] -= db0[i];
	snprintf(what, sizeof what, "layernorm %zux%u dinp", N, C);
	GC_CHECK_GRAD(what, dx, ln_ref, &c, c.x, n, 1e-4);
	snprintf(what, sizeof what, "layernorm %zux%u dw", N, C);
	GC_CHECK_GRAD(what, dw, ln_ref, &c, c.w, C, 1e-4);
	snprintf(what, sizeof what, "layernorm %zux%u db", N, C);
	GC_CHECK_GRAD(what, db, ln_ref, &c, c.b, C, 1e-4);
	free(x), free(w), free(b), free(r), free(out), free(mean), free(rstd), free(dx), free(dw), free(db);
	free(dx0), free(dw0), free(db0), free(c.x), free(c.w), free(c.b), free(c.r);
}

/* Forward and backward give the same bits on 1, 2 and 3 threads, and a
 * row's output does not depend on the other rows (the sampler normalises
 * any number of rows). */
static void test_layernorm_bits(size_t N, uint32_t C)
{
	const mg_backend *be = mg_backend_cpu();
	size_t n = N * C;
	float *x = gc_rand(n, -2, 3), *w = gc_rand(C, 0.5, 1.5), *b = gc_rand(C, -0.5, 0.5), *r = gc_rand(n, -1, 1);
	float *out[3], *dx[3], *dw[3], mean[64], rstd[64];

	for (int t = 0; t < 3; t++) {
		mg_threads_set(t + 1);
		out[t] = calloc(n, 4), dx[t] = calloc(n, 4), dw[t] = calloc(2 * C, 4);
		be->layernorm_forward(out[t], mean, rstd, x, w, b, N, C);
		be->layernorm_backward(dx[t], dw[t], dw[t] + C, r, x, w, mean, rstd, N, C);
		if (t) {
			CHECK(!memcmp(out[t], out[0], n * 4));
			CHECK(!memcmp(dx[t], dx[0], n * 4));
			CHECK(!memcmp(dw[t], dw[0], 2 * C * 4));
		}
	}
	for (size_t row = 0; row < N; row += 7) {
		float one[256], m, s;
		be->layernorm_forward(one, &m, &s, x + row * C, w, b, 1, C);
		CHECK(!memcmp(one, out[0] + row * C, C * 4));
	}
	for (int t = 0; t < 3; t++)
		free(out[t]), free(dx[t]), free(dw[t]);
	free(x), free(w), free(b), free(r);
}

static void test_shift(void)
{
	const mg_backend *be = mg_backend_cpu();
	uint32_t B = 2, T = 3, C = 5; /* C/2 = 2 channels shift */
	float x[30], d[30];

	for (int i = 0; i < 30; i++)
		x[i] = d[i] = (float)(i + 1);
	be->shift_forward(x, B, T, C);
	for (uint32_t b = 0; b < B; b++)
		for (uint32_t t = 0; t < T; t++)
			for (uint32_t c = 0; c < C; c++) {
				size_t at = ((size_t)b * T + t) * C + c;
				float want = c >= 2 ? (float)(at + 1) : t == 0 ? 0.0f : (float)(at - C + 1);
				CHECK(x[at] == want);
			}
	/* the gradient is the adjoint: <shift(a), d> == <a, shift^T(d)> */
	{
		float a[30], sa[30];
		double lhs = 0, rhs = 0;
		for (int i = 0; i < 30; i++)
			a[i] = sa[i] = (float)((i * 7) % 11) - 5.0f;
		be->shift_forward(sa, B, T, C);
		be->shift_backward(d, B, T, C);
		for (int i = 0; i < 30; i++) {
			lhs += (double)sa[i] * (float)(i + 1);
			rhs += (double)a[i] * d[i];
		}
		CHECK(lhs == rhs);
	}
}

int main(void)
{
	gc_seed(1);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		test_layernorm(6, 7);
		test_layernorm(9, 40); /* several 16-channel bands, one partial */
		test_layernorm(5, 64); /* whole bands and vectors */
		test_layernorm(4, 37); /* a partial vector */
		test_shift();
	}
	test_layernorm_bits(64, 200);
	test_layernorm_bits(33, 37);
	CHECK_DONE();
}
