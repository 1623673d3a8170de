/* Embedding and residual kernels with their dropout: exact forward values,
 * gradients as the adjoint, and the dropout mask's rate, scale and
 * independence from the thread count. */
#include "check.h"
#include "gradcheck.h"

#include "backend/backend.h"
#include "core/threads.h"

static void test_embed(int pos, float p)
{
	const mg_backend *be = mg_backend_cpu();
	uint32_t B = 3, T = 4, C = 70, V = 5, ids[12] = { 0, 1, 2, 3, 4, 0, 0, 1, 4, 4, 2, 2 };
	size_t n = (size_t)B * T * C;
	float *wte = gc_rand((size_t)V * C, -1, 1), *wpe = gc_rand((size_t)T * C, -1, 1), *out = calloc(n, 4);
	float *r = gc_rand(n, -1, 1), *dwte = gc_rand((size_t)V * C, -1, 1), *dwpe = gc_rand((size_t)T * C, -1, 1);
	double *gte = calloc((size_t)V * C, sizeof *gte), *gpe = calloc((size_t)T * C, sizeof *gpe);
	float *dwte0 = gc_copy(dwte, (size_t)V * C), *dwpe0 = gc_copy(dwpe, (size_t)T * C);
	mg_backend_dropout d = { p, 99 };
	uint32_t thr = mg_backend_dropout_threshold(p);

	be->embed_forward(out, ids, wte, pos ? wpe : NULL, B, T, C, d);
	for (uint32_t b = 0; b < B; b++)
		for (uint32_t t = 0; t < T; t++)
			for (uint32_t c = 0; c < C; c++) {
				size_t at = ((size_t)b * T + t) * C + c;
				float x = wte[ids[b * T + t] * C + c] + (pos ? wpe[t * C + c] : 0.0f);
				double m = mg_backend_dropout_keep(d.seed, at, thr) ? 1.0 / (1.0 - p) : 0.0;
				CHECK(out[at] == (p > 0 ? (mg_backend_dropout_keep(d.seed, at, thr) ? x * (1.0f / (1.0f - p)) : 0.0f) : x));
				gte[ids[b * T + t] * C + c] += r[at] * m;
				gpe[t * C + c] += r[at] * m;
			}
	be->embed_backward(dwte, pos ? dwpe : NULL, r, ids, B, T, C, d);
	for (size_t i = 0; i < (size_t)V * C; i++)
		dwte[i] -= dwte0[i];
	for (size_t i = 0; i < (size_t)T * C; i++)
		dwpe[i] -= dwpe0[i];
	CHECK(gc_err(dwte, gte, (size_t)V * C, 1.0) < 1e-6);
	if (pos)
		CHECK(gc_err(dwpe, gpe, (size_t)T * C, 1.0) < 1e-6);
	else
		for (size_t i = 0; i < (size_t)T * C; i++)
			CHECK(dwpe[i] == 0.0f); /* untouched without wpe */
	free(wte), free(wpe), free(out), free(r), free(dwte), free(dwpe), free(gte), free(gpe), free(dwte0), free(dwpe0);
}

static void test_residual(float p)
{
	const mg_backend *be = mg_backend_cpu();
	size_t n = 50000, kept = 0;
	float *res = gc_rand(n, -1, 1), *x = gc_rand(n, -1, 1), *out = calloc(n, 4), *dx = calloc(n, 4);
	mg_backend_dropout d = { p, 7 };
	float s = p > 0 ? 1.0f / (1.0f - p) : 1.0f;

	be->residual_forward(out, res, x, n, d);
	be->dropout_backward(dx, x, n, d);
	for (size_t i = 0; i < n; i++) {
		int k = out[i] != res[i];
		kept += k;
		if (p > 0) /* the documented hash, whatever the kernel's vector width */
			CHECK(k == mg_backend_dropout_keep(d.seed, i, mg_backend_dropout_threshold(p)));
		CHECK(out[i] == res[i] + (k ? x[i] * s : 0.0f));
		CHECK(dx[i] == (k ? x[i] * s : 0.0f)); /* the same mask backward */
	}
	/* the rate: kept ~ Binomial(n, 1-p), within 5 standard deviations */
	CHECK(fabs((double)kept - n * (1.0 - p)) <= 5.0 * sqrt(n * p * (1.0 - p)) + (p == 0 ? 0 : 1));
	if (p == 0)
		CHECK_EQ(kept, n);
	/* out may be res */
	memcpy(dx, res, n * sizeof *dx);
	be->residual_forward(dx, dx, x, n, d);
	CHECK(!memcmp(dx, out, n * sizeof *dx));
	free(res), free(x), free(out), free(dx);
}

int main(void)
{
	gc_seed(5);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		for (int pos = 0; pos <= 1; pos++) {
			test_embed(pos, 0.0f);
			test_embed(pos, 0.25f);
		}
		test_residual(0.0f);
		test_residual(0.1f);
		test_residual(0.5f);
	}
	/* masks do not depend on the thread count */
	{
		size_t n = 100000;
		float *x = gc_rand(n, -1, 1), *a = calloc(n, 4), *b = calloc(n, 4), *z = calloc(n, 4);
		mg_backend_dropout d = { 0.3f, 12345 };
		mg_threads_set(1);
		mg_backend_cpu()->residual_forward(a, z, x, n, d);
		mg_threads_set(2);
		mg_backend_cpu()->residual_forward(b, z, x, n, d);
		CHECK(!memcmp(a, b, n * sizeof *a));
		free(x), free(a), free(b), free(z);
	}
	CHECK_DONE();
}
