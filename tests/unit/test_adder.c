/* Scoring adder completions (lib/tasks/adder.c): one completion checked
 * (right, a wrong number, a short or non-digit answer, a wrong prompt), and
 * a whole file's exact-match accuracy with its mistakes in order and its
 * errors; exact values for seed 1337, 2 digits (the test split of
 * tests/adder-gen.bats). */
#include "check.h"

#include <string.h>

#include "tasks/adder.h"

static void check_one(void)
{
	uint32_t tok[8], t[12];
	mg_adder_answer ans;
	mg_adder a;
	mg_err e;

	CHECK_EQ(mg_adder_init(&a, 2, 0, UINT64_MAX, 1337, &e), MG_OK);
	/* test problem 0 is 22 + 58 = 80: (2) (2) (5) (8) 0 8 0 */
	mg_adder_tokens(&a, mg_adder_problem(&a, 0), tok, NULL);
	memcpy(t, tok, sizeof tok[0] * 7);
	CHECK_EQ(mg_adder_check(&a, 0, t, 7, &ans, &e), MG_OK);
	CHECK_EQ(ans.r, 0); CHECK_EQ(ans.x, 22); CHECK_EQ(ans.y, 58);
	CHECK_EQ(ans.right, 1); CHECK_EQ(ans.has_value, 1); CHECK_EQ(ans.value, 80);
	/* what follows the answer is ignored */
	t[7] = 9, t[8] = 3;
	CHECK_EQ(mg_adder_check(&a, 0, t, 9, &ans, &e), MG_OK);
	CHECK_EQ(ans.right, 1);
	/* a wrong digit: 0 9 1 reads 190 */
	t[5] = 9, t[6] = 1;
	CHECK_EQ(mg_adder_check(&a, 0, t, 7, &ans, &e), MG_OK);
	CHECK_EQ(ans.right, 0); CHECK_EQ(ans.has_value, 1); CHECK_EQ(ans.value, 190);
	/* short: no 3-digit answer */
	CHECK_EQ(mg_adder_check(&a, 0, tok, 6, &ans, &e), MG_OK);
	CHECK_EQ(ans.right, 0); CHECK_EQ(ans.has_value, 0);
	CHECK_EQ(mg_adder_check(&a, 0, tok, 4, &ans, &e), MG_OK);
	CHECK_EQ(ans.right, 0); CHECK_EQ(ans.has_value, 0);
	/* a token that is not a digit */
	memcpy(t, tok, sizeof tok[0] * 7);
	t[6] = 10;
	CHECK_EQ(mg_adder_check(&a, 0, t, 7, &ans, &e), MG_OK);
	CHECK_EQ(ans.right, 0); CHECK_EQ(ans.has_value, 0);
	/* test problem 1 is 71 + 38 = 109: its prompt is not problem 0's */
	CHECK_EQ(mg_adder_check(&a, 1, tok, 7, &ans, &e), MG_E_INVAL);
	CHECK(!strcmp(e.msg, "completion 1 does not start with the prompt of test problem 1 "
			     "(generated with other options?)"));
	mg_adder_tokens(&a, mg_adder_problem(&a, 1), tok, NULL);
	CHECK_EQ(mg_adder_check(&a, 1, tok, 7, &ans, &e), MG_OK);
	CHECK_EQ(ans.x, 71); CHECK_EQ(ans.y, 38); CHECK_EQ(ans.value, 109); CHECK_EQ(ans.right, 1);
	/* a prompt cut short */
	CHECK_EQ(mg_adder_check(&a, 1, tok, 3, &ans, &e), MG_E_INVAL);
}

typedef struct wrongs {
	uint32_t n;
	mg_adder_answer a[16];
} wrongs;

static void on_wrong(void *arg, const mg_adder_answer *ans)
{
	wrongs *w = arg;

	if (w->n < 16)
		w->a[w->n++] = *ans;
}

/* 7 test problems, completed right but for records 2 (a wrong digit), 4
 * (short) and 5 (a non-digit). */
static void check_file(void)
{
	enum { N = 7, L = 7 };
	uint32_t ids[N * L];
	uint64_t start[N + 1];
	mg_tokstream_data d;
	mg_adder_accuracy acc;
	wrongs w = { 0 };
	mg_adder a;
	mg_err e;
	uint64_t n = 0;

	CHECK_EQ(mg_adder_init(&a, 2, 0, N, 1337, &e), MG_OK);
	memset(&d, 0, sizeof d);
	d.h.layout = MG_LAYOUT_EXAMPLES;
	for (uint32_t r = 0; r < N; r++) {
		start[r] = n;
		mg_adder_tokens(&a, mg_adder_problem(&a, r), ids + n, NULL);
		if (r == 2)
			ids[n + 4] = (ids[n + 4] + 1) % 10;
		n += r == 4 ? 5 : L;
		if (r == 5)
			ids[n - 1] = 12;
	}
	start[N] = n;
	d.ids = ids, d.n = n, d.start = start, d.n_records = N;
	CHECK_EQ(mg_adder_score(&a, &d, &acc, on_wrong, &w, &e), MG_OK);
	CHECK_EQ(acc.right, 4); CHECK_EQ(acc.total, 7);
	CHECK(acc.percent == 100.0 * 4.0 / 7.0);
	CHECK_EQ(w.n, 3);
	CHECK_EQ(w.a[0].r, 2); CHECK_EQ(w.a[1].r, 4); CHECK_EQ(w.a[2].r, 5);
	CHECK_EQ(w.a[0].has_value, 1); CHECK_EQ(w.a[1].has_value, 0); CHECK_EQ(w.a[2].has_value, 0);
	CHECK_EQ(w.a[0].value, w.a[0].x + w.a[0].y + 1 - (((w.a[0].x + w.a[0].y) % 10 == 9) ? 10 : 0));
	/* without a callback */
	CHECK_EQ(mg_adder_score(&a, &d, &acc, NULL, NULL, &e), MG_OK);
	CHECK_EQ(acc.right, 4);
	/* a prompt that does not match at record 6: the mistakes before it were reported */
	ids[start[6]] = (ids[start[6]] + 1) % 10;
	w.n = 0;
	CHECK_EQ(mg_adder_score(&a, &d, &acc, on_wrong, &w, &e), MG_E_INVAL);
	CHECK(!strcmp(e.msg, "completion 6 does not start with the prompt of test problem 6 "
			     "(generated with other options?)"));
	CHECK_EQ(w.n, 3);
	/* not records; not as many as the test problems */
	d.h.layout = MG_LAYOUT_STREAM;
	CHECK_EQ(mg_adder_score(&a, &d, &acc, NULL, NULL, &e), MG_E_INVAL);
	CHECK(!strcmp(e.msg, "completions must be records (layout examples), not stream"));
	d.h.layout = MG_LAYOUT_EXAMPLES;
	d.n_records = 6;
	CHECK_EQ(mg_adder_score(&a, &d, &acc, NULL, NULL, &e), MG_E_INVAL);
	CHECK(!strcmp(e.msg, "6 completions for 7 test problems"));
	/* no test problems: 0 of 0 */
	CHECK_EQ(mg_adder_init(&a, 2, 0, 0, 1337, &e), MG_OK);
	d.n_records = 0;
	CHECK_EQ(mg_adder_score(&a, &d, &acc, NULL, NULL, &e), MG_OK);
	CHECK_EQ(acc.right, 0); CHECK_EQ(acc.total, 0); CHECK(acc.percent == 0.0);
}

int main(void)
{
	check_one();
	check_file();
	CHECK_DONE();
}
