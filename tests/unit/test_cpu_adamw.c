/* AdamW against steps computed by hand from the textbook formulas
 * (Loshchilov and Hutter, as torch.optim.AdamW), and the vector kernels
 * behind gradient clipping. */
#include "check.h"
#include "gradcheck.h"

#include "backend/cpu/cpu.h"
#include "core/threads.h"

/* Two steps of AdamW on three parameters, by hand. */
static void test_adamw(void)
{
	const mg_backend *be = mg_backend_cpu();
	double lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
	double p[3] = { 1.0, -2.0, 0.5 }, m[3] = { 0 }, v[3] = { 0 };
	double g[2][3] = { { 0.1, -0.2, 0.0 }, { -0.3, 0.05, 1e-9 } };
	float pf[3] = { 1.0f, -2.0f, 0.5f }, mf[3] = { 0 }, vf[3] = { 0 }, gf[3];

	for (int t = 1; t <= 2; t++) {
		mg_backend_adamw_args a = { (float)lr, (float)b1, (float)b2, (float)eps, (float)wd,
				    (float)(lr / (1.0 - pow(b1, t))), (float)sqrt(1.0 - pow(b2, t)) };
		for (int i = 0; i < 3; i++) {
			double mh, vh;
			p[i] -= lr * wd * p[i];
			m[i] = b1 * m[i] + (1 - b1) * g[t - 1][i];
			v[i] = b2 * v[i] + (1 - b2) * g[t - 1][i] * g[t - 1][i];
			mh = m[i] / (1 - pow(b1, t));
			vh = v[i] / (1 - pow(b2, t));
			p[i] -= lr * mh / (sqrt(vh) + eps);
			gf[i] = (float)g[t - 1][i];
		}
		be->adamw_update(pf, gf, mf, vf, 3, &a);
		if (t == 1) /* the first step moves by lr against the gradient's sign, after the decay */
			CHECK_CLOSE(pf[0], 1.0 * (1.0 - lr * wd) - lr, 1e-6);
		for (int i = 0; i < 3; i++) {
			CHECK_CLOSE(pf[i], p[i], 1e-6);
			CHECK(fabs(mf[i] - m[i]) <= 1e-6 * fabs(m[i]) + 1e-20);
			CHECK(fabs(vf[i] - v[i]) <= 1e-6 * fabs(v[i]) + 1e-30);
		}
	}
}

/* No decay: weight_decay 0 leaves a parameter with zero gradient alone. */
static void test_adamw_no_decay(void)
{
	float p[2] = { 3.0f, -1.0f }, g[2] = { 0, 0 }, m[2] = { 0 }, v[2] = { 0 };
	mg_backend_adamw_args a = { 0.1f, 0.9f, 0.95f, 1e-8f, 0.0f, 1.0f, 0.2236068f };

	mg_backend_cpu()->adamw_update(p, g, m, v, 2, &a);
	CHECK(p[0] == 3.0f && p[1] == -1.0f);
	a.weight_decay = 0.5f;
	mg_backend_cpu()->adamw_update(p, g, m, v, 2, &a);
	CHECK(p[0] == 3.0f * (1.0f - 0.05f) && p[1] == -1.0f * (1.0f - 0.05f));
}

/* Many parameters (vectors of 8, a partial block at the end) against the
 * double-precision formulas, and the same bits on 1 and 2 threads. */
static void test_adamw_many(void)
{
	const mg_backend *be = mg_backend_cpu();
	size_t n = 2 * MG_CPU_BLOCK + 13;
	float *p = gc_rand(n, -1, 1), *g = gc_rand(n, -0.1, 0.1), *m = gc_rand(n, -0.01, 0.01), *v = gc_rand(n, 0, 1e-4);
	float *p2 = gc_copy(p, n), *m2 = gc_copy(m, n), *v2 = gc_copy(v, n);
	double lr = 1e-3, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1, worst = 0.0;
	int t = 3;
	mg_backend_adamw_args a = { (float)lr, (float)b1, (float)b2, (float)eps, (float)wd, (float)(lr / (1.0 - pow(b1, t))),
			    (float)sqrt(1.0 - pow(b2, t)) };
	double *want = malloc(n * sizeof *want);

	for (size_t i = 0; i < n; i++) {
		double mi = b1 * m[i] + (1 - b1) * g[i], vi = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
		want[i] = p[i] * (1 - lr * wd) - lr * (mi / (1 - pow(b1, t))) / (sqrt(vi / (1 - pow(b2, t))) + eps);
	}
	mg_threads_set(1);
	be->adamw_update(p, g, m, v, n, &a);
	mg_threads_set(2);
	be->adamw_update(p2, g, m2, v2, n, &a);
	CHECK(!memcmp(p, p2, n * 4) && !memcmp(m, m2, n * 4) && !memcmp(v, v2, n * 4));
	for (size_t i = 0; i < n; i++) {
		double e = fabs(p[i] - want[i]) / (fabs(want[i]) + 1e-3);
		worst = e > worst ? e : worst;
	}
	printf("  adamw %zu parameters: worst relative err %.2e\n", n, worst);
	CHECK(worst < 1e-6);
	free(p), free(g), free(m), free(v), free(p2), free(m2), free(v2), free(want);
}

static void test_vectors(void)
{
	const mg_backend *be = mg_backend_cpu();
	size_t n = 300001;
	float *x = gc_rand(n, -1, 1), *y;
	double want = 0.0, got;

	for (size_t i = 0; i < n; i++)
		want += (double)x[i] * x[i];
	got = be->sum_squares(x, n);
	CHECK_CLOSE(got, want, 1e-12);
	mg_threads_set(1);
	y = gc_copy(x, n);
	{
		double one = be->sum_squares(x, n);
		mg_threads_set(2);
		CHECK(one == be->sum_squares(x, n)); /* the same bits for any thread count */
	}
	be->scale(y, n, 0.5f);
	for (size_t i = 0; i < n; i++)
		CHECK(y[i] == x[i] * 0.5f);
	be->zero(y, n);
	for (size_t i = 0; i < n; i++)
		CHECK(y[i] == 0.0f);
	CHECK(be->sum_squares(y, 0) == 0.0);
	free(x), free(y);
}

int main(void)
{
	gc_seed(7);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		test_adamw();
		test_adamw_no_decay();
	}
	test_adamw_many();
	test_vectors();
	CHECK_DONE();
}
