/* Causal self-attention, every variant (vanilla, full time-weighting,
 * circulant), with and without dropout and with T below the block size,
 * against a double-precision reference written from the formulas of
 * formats/checkpoint.md; gradients of qkv and of the time weights by finite
 * differences. Both CPU paths: the reference loops (no scratch,
 * mg_cpu_attention_*_ref) and the table's fast path (blocked sgemm,
 * vectorised softmax, on the tiles of a backend context), which must also
 * agree with each other and give the same bits for any thread count. */
#include "check.h"
#include "gradcheck.h"

#include "backend/cpu/cpu.h"
#include "core/threads.h"
#include "model/gpt.h" /* mg_gpt_attention_name */

typedef struct {
	mg_backend_attn a;
	double *qkv, *tw, *tw_w, *tw_b, *r;
} at_ctx;

static double weight(const at_ctx *c, size_t h, size_t i, size_t j)
{
	size_t tb = c->a.block;
	switch (c->a.variant) {
	case MG_ATTN_TIME_WEIGHTING: return c->tw[(h * tb + i) * tb + j];
	case MG_ATTN_CIRCULANT: return c->tw_w[h * tb + tb - 1 - (i - j)] * c->tw_b[h * tb + j];
	default: return 1.0;
	}
}

static double at_ref(void *p)
{
	at_ctx *c = p;
	size_t B = c->a.B, T = c->a.T, C = c->a.C, H = c->a.H, hs = C / H;
	uint32_t thr = mg_backend_dropout_threshold(c->a.drop.p);
	double L = 0.0, s[64];

	for (size_t b = 0; b < B; b++)
		for (size_t h = 0; h < H; h++)
			for (size_t i = 0; i < T; i++) {
				const double *q = c->qkv + (b * T + i) * 3 * C + h * hs;
				double mx = -1e300, sum = 0.0;
				for (size_t j = 0; j <= i; j++) {
					const double *k = c->qkv + (b * T + j) * 3 * C + C + h * hs;
					s[j] = 0.0;
					for (size_t x = 0; x < hs; x++)
						s[j] += q[x] * k[x];
					s[j] /= sqrt((double)hs);
					mx = s[j] > mx ? s[j] : mx;
				}
				for (size_t j = 0; j <= i; j++)
					sum += s[j] = exp(s[j] - mx);
				for (size_t x = 0; x < hs; x++) {
					double y = 0.0;
					for (size_t j = 0; j <= i; j++) {
						const double *v = c->qkv + (b * T + j) * 3 * C + 2 * C + h * hs;
						double w = s[j] / sum * weight(c, h, i, j);
						if (c->a.drop.p > 0)
							w = mg_backend_dropout_keep(c->a.drop.seed, ((b * H + h) * T + i) * T + j, thr)
								    ? w / (1.0 - c->a.drop.p)
								    : 0.0;
						y += w * v[x];
					}
					L += y * c->r[(b * T + i) * C + h * hs + x];
				}
			}
	return L;
}

/* A context for shape a, for at least 3 threads (it takes the larger of
 * the thread count and the threads available when it is made). */
static mg_backend_ctx *ctx_for(const mg_backend_attn *a)
{
	int t = mg_threads_get();
	uint64_t bytes;
	mg_backend_ctx *ctx;

	mg_threads_set(3);
	ctx = mg_backend_cpu()->ctx_create(a, &bytes);
	mg_threads_set(t);
	CHECK(ctx != NULL && bytes > 0);
	return ctx;
}

static void test_attention(uint32_t variant, uint32_t B, uint32_t T, uint32_t block, uint32_t C, uint32_t H, float p,
			   int fast)
{
	const mg_backend *be = mg_backend_cpu();
	size_t nqkv = (size_t)B * T * 3 * C, ny = (size_t)B * T * C, np = (size_t)B * H * T * T;
	size_t ntw = (size_t)H * block * block, nc = (size_t)H * block;
	float *qkv = gc_rand(nqkv, -1.5, 1.5), *r = gc_rand(ny, -1, 1), *y = calloc(ny, 4), *probs = calloc(np, 4);
	float *datt = calloc(np, 4), *dqkv = gc_rand(nqkv, -9, 9);
	float *tw = gc_rand(ntw, 0.2, 1.8), *tw_w = gc_rand(nc, 0.2, 1.8), *tw_b = gc_rand(nc, 0.2, 1.8);
	float *dtw = gc_rand(ntw, -1, 1), *dtw_w = gc_rand(nc, -1, 1), *dtw_b = gc_rand(nc, -1, 1);
	float *dtw0 = gc_copy(dtw, ntw), *dtw_w0 = gc_copy(dtw_w, nc), *dtw_b0 = gc_copy(dtw_b, nc);
	at_ctx c;
	double L = 0.0;
	char what[96], tag[80];
	mg_backend_ctx *ctx = NULL;

	memset(&c, 0, sizeof c);
	c.a = (mg_backend_attn){ B, T, C, H, block, variant, tw, tw_w, tw_b, { p, 0x1234 } };
	if (fast)
		ctx = ctx_for(&c.a);
	c.qkv = gc_to_double(qkv, nqkv);
	c.tw = gc_to_double(tw, ntw), c.tw_w = gc_to_double(tw_w, nc), c.tw_b = gc_to_double(tw_b, nc);
	c.r = gc_to_double(r, ny);
	snprintf(tag, sizeof tag, "%s B%u T%u/%u C%u H%u p%.1f%s", mg_gpt_attention_name(variant), B, T, block, C, H, p,
		 fast ? " fast" : "");

	if (fast)
		be->attention_forward(ctx, y, probs, qkv, &c.a);
	else
		mg_cpu_attention_forward_ref(y, probs, qkv, &c.a);
	for (size_t i = 0; i < ny; i++)
		L += (double)y[i] * r[i];
	CHECK_CLOSE(L, at_ref(&c), 1e-5);
	/* probs: rows sum to 1 over j <= i, zero above the diagonal */
	for (size_t row = 0; row < (size_t)B * H * T; row++) {
		double s = 0.0;
		size_t i = row % T;
		for (size_t j = 0; j < T; j++) {
			s += probs[row * T + j];
			if (j > i)
				CHECK(probs[row * T + j] == 0.0f);
		}
		CHECK_CLOSE(s, 1.0, 1e-6);
	}
	if (fast)
		be->attention_backward(ctx, dqkv, dtw, dtw_w, dtw_b, datt, r, qkv, probs, &c.a);
	else
		mg_cpu_attention_backward_ref(dqkv, dtw, dtw_w, dtw_b, datt, r, qkv, probs, &c.a);
	snprintf(what, sizeof what, "%s dqkv", tag);
	GC_CHECK_GRAD(what, dqkv, at_ref, &c, c.qkv, nqkv, 1e-4);
	for (size_t i = 0; i < ntw; i++)
		dtw[i] -= dtw0[i];
	for (size_t i = 0; i < nc; i++)
		dtw_w[i] -= dtw_w0[i], dtw_b[i] -= dtw_b0[i];
	if (variant == MG_ATTN_TIME_WEIGHTING) {
		snprintf(what, sizeof what, "%s dtime_weight", tag);
		GC_CHECK_GRAD(what, dtw, at_ref, &c, c.tw, ntw, 1e-4);
	} else if (variant == MG_ATTN_CIRCULANT) {
		snprintf(what, sizeof what, "%s dtime_w", tag);
		GC_CHECK_GRAD(what, dtw_w, at_ref, &c, c.tw_w, nc, 1e-4);
		snprintf(what, sizeof what, "%s dtime_b", tag);
		GC_CHECK_GRAD(what, dtw_b, at_ref, &c, c.tw_b, nc, 1e-4);
	}
	if (variant != MG_ATTN_TIME_WEIGHTING)
		for (size_t i = 0; i < ntw; i++)
			CHECK(dtw[i] == 0.0f); /* untouched */
	if (variant != MG_ATTN_CIRCULANT)
		for (size_t i = 0; i < nc; i++)
			CHECK(dtw_w[i] == 0.0f && dtw_b[i] == 0.0f);
	free(qkv), free(r), free(y), free(probs), free(datt), free(dqkv), free(tw), free(tw_w), free(tw_b);
	free(dtw), free(dtw_w), free(dtw_b), free(dtw0), free(dtw_w0), free(dtw_b0);
	free(c.qkv), free(c.tw), free(c.tw_w), free(c.tw_b), free(c.r);
	be->ctx_free(ctx);
}

/* Everything one path computes for one input, into out (y, probs, dqkv,
 * dtw, dtw_w, dtw_b in a row). */
static void run_path(float *out, const mg_backend_attn *a, const float *qkv, const float *dy, int fast)
{
	const mg_backend *be = mg_backend_cpu();
	size_t ny = (size_t)a->B * a->T * a->C, np = (size_t)a->B * a->H * a->T * a->T, nqkv = 3 * ny;
	size_t ntw = (size_t)a->H * a->block * a->block, nc = (size_t)a->H * a->block;
	float *y = out, *probs = y + ny, *dqkv = probs + np, *dtw = dqkv + nqkv, *dtw_w = dtw + ntw, *dtw_b = dtw_w + nc;
	float *datt = malloc(np * sizeof *datt);
	mg_backend_ctx *ctx = ctx_for(a);

	memset(dtw, 0, (ntw + 2 * nc) * sizeof *dtw);
	if (fast) {
		be->attention_forward(ctx, y, probs, qkv, a);
		be->attention_backward(ctx, dqkv, dtw, dtw_w, dtw_b, datt, dy, qkv, probs, a);
	} else {
		mg_cpu_attention_forward_ref(y, probs, qkv, a);
		mg_cpu_attention_backward_ref(dqkv, dtw, dtw_w, dtw_b, datt, dy, qkv, probs, a);
	}
	free(datt);
	be->ctx_free(ctx);
}

/* The fast path against the reference loops on shapes with several blocks
 * of rows (the last one partial) and heads whose width is not a multiple of
 * 8, and the same bits on 1, 2 and 3 threads (a context for 3). */
static void test_paths_agree(uint32_t variant, float p)
{
	uint32_t B = 2, T = 75, block = 80, C = 36, H = 3;
	size_t ny = (size_t)B * T * C, np = (size_t)B * H * T * T, nqkv = 3 * ny;
	size_t ntw = (size_t)H * block * block, nc = (size_t)H * block, n = ny + np + nqkv + ntw + 2 * nc;
	float *qkv = gc_rand(nqkv, -2, 2), *dy = gc_rand(ny, -1, 1);
	float *tw = gc_rand(ntw, 0.2, 1.8), *tw_w = gc_rand(nc, 0.2, 1.8), *tw_b = gc_rand(nc, 0.2, 1.8);
	float *ref = malloc(n * sizeof *ref), *fast[3];
	mg_backend_attn a = { B, T, C, H, block, variant, tw, tw_w, tw_b, { p, 99 } };
	double *want = malloc(n * sizeof *want), worst = 0.0;
	static const char *part[] = { "y", "probs", "dqkv", "dtw", "dtw_w", "dtw_b" };
	size_t len[] = { ny, np, nqkv, ntw, nc, nc }, off = 0;

	mg_threads_set(2);
	run_path(ref, &a, qkv, dy, 0);
	for (size_t i = 0; i < n; i++)
		want[i] = ref[i];
	for (int t = 1; t <= 3; t++) {
		mg_threads_set(t);
		fast[t - 1] = malloc(n * sizeof *ref);
		run_path(fast[t - 1], &a, qkv, dy, 1);
	}
	for (int k = 0; k < 6; k++) {
		double e = gc_err(fast[0] + off, want + off, len[k], 1e-3);
		worst = e > worst ? e : worst;
		if (!(e < 2e-6)) {
			fprintf(stderr, "%s p%.1f: %s: fast path differs from the reference by %.3g\n",
				mg_gpt_attention_name(variant), p, part[k], e);
			check_failures++;
		}
		off += len[k];
	}
	printf("  %-14s p%.1f fast vs reference: worst err %.2e\n", mg_gpt_attention_name(variant), p, worst);
	CHECK(!memcmp(fast[0], fast[1], n * sizeof *ref));
	CHECK(!memcmp(fast[0], fast[2], n * sizeof *ref));
	for (int t = 0; t < 3; t++)
		free(fast[t]);
	free(qkv), free(dy), free(tw), free(tw_w), free(tw_b), free(ref), free(want);
}

int main(void)
{
	gc_seed(3);
	for (int threads = 1; threads <= 2; threads++) {
		mg_threads_set(threads);
		for (uint32_t v = MG_ATTN_VANILLA; v <= MG_ATTN_CIRCULANT; v++)
			for (int fast = 0; fast <= 1; fast++) {
				test_attention(v, 2, 5, 5, 6, 2, 0.0f, fast);
				test_attention(v, 2, 4, 7, 6, 3, 0.0f, fast); /* T below the block size */
				test_attention(v, 1, 6, 6, 4, 1, 0.3f, fast); /* dropout on the weights */
			}
	}
	/* several blocks of rows: finite differences on the fast path */
	mg_threads_set(2);
	for (uint32_t v = MG_ATTN_VANILLA; v <= MG_ATTN_CIRCULANT; v++)
		test_attention(v, 1, 37, 40, 4, 2, v == MG_ATTN_TIME_WEIGHTING ? 0.2f : 0.0f, 1);
	for (uint32_t v = MG_ATTN_VANILLA; v <= MG_ATTN_CIRCULANT; v++) {
		test_paths_agree(v, 0.0f);
		test_paths_agree(v, 0.2f);
	}
	CHECK_DONE();
}
