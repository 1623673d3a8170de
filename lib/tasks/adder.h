/* The adder task: every problem a + b with 0 <= a, b < 10^n, split into test
 * and train by a seeded permutation, as token records over the ten digits,
 * and the scoring of a model's completions of the test prompts. A record is
 * a (n digits), b (n digits), then a+b (n+1 digits) least significant digit
 * first; loss is on the answer digits only. */
#ifndef MG_ADDER_H
#define MG_ADDER_H

#include <stdint.h>

#include "core/err.h"
#include "io/tokstream.h"

#define MG_ADDER_DIGITS_MAX 9
#define MG_ADDER_DEFAULT_CAP 1000000ull /* problems used when 10^(2n) is larger */
#define MG_ADDER_TEST_CAP 500ull

typedef struct mg_adder {
	uint32_t digits;
	uint64_t space;    /* 10^(2n): every possible problem */
	uint64_t problems; /* how many are used (test + train) */
	uint64_t test;     /* the first test problems of the order are the test split */
	uint32_t bits;     /* permutation domain 2^bits >= space, bits even */
	uint64_t key[6];   /* Feistel round keys */
} mg_adder;

/* problems 0: all of them, or MG_ADDER_DEFAULT_CAP when there are more.
 * test UINT64_MAX: min(20% of problems, 500). MG_E_INVAL with a message for
 * digits outside 1..9, problems over 10^(2n), test over problems. */
int mg_adder_init(mg_adder *a, uint32_t digits, uint64_t problems, uint64_t test, uint64_t seed, mg_err *e);
/* Problem i of the order (i < problems): its index a * 10^n + b. Test
 * problems are i < test, training problems test <= i < problems. */
uint64_t mg_adder_problem(const mg_adder *a, uint64_t i);
static inline uint32_t mg_adder_len(const mg_adder *a) { return 3 * a->digits + 1; }
static inline uint32_t mg_adder_prompt_len(const mg_adder *a) { return 2 * a->digits; }
/* Writes the 3n+1 tokens of a problem and its loss mask (either may be NULL). */
void mg_adder_tokens(const mg_adder *a, uint64_t problem, uint32_t *tok, uint8_t *mask);
/* Operands of a problem index. */
void mg_adder_operands(const mg_adder *a, uint64_t problem, uint64_t *x, uint64_t *y);

/* A completion of test problem r: the record r of a model's output, the
 * prompt of test problem r followed by what the model wrote. */
typedef struct mg_adder_answer {
	uint64_t r;        /* the test problem */
	uint64_t x, y;     /* its operands */
	int right;         /* the n+1 answer tokens follow the prompt exactly (what comes after is ignored) */
	int has_value;     /* the n+1 tokens after the prompt are there and all digits */
	uint64_t value;    /* then: the number they write (least significant digit first) */
} mg_adder_answer;

/* Checks the completion t[0..len) of test problem r (r < test). MG_E_INVAL
 * when it does not start with the problem's prompt. */
int mg_adder_check(const mg_adder *a, uint64_t r, const uint32_t *t, uint64_t len, mg_adder_answer *ans, mg_err *e);

/* Exact-match accuracy over the test split. */
typedef struct mg_adder_accuracy {
	uint64_t right, total;
	double percent; /* 100 * right / total, 0 when total is 0 */
} mg_adder_accuracy;

/* Scores d, one completion per test problem in order (mg_adder_check),
 * calling on_wrong (unless NULL) with each wrong answer in record order.
 * MG_E_INVAL when d is not a records layout (examples), when its record
 * count is not the test split's, or at the first completion that does not
 * start with its prompt (the calls made so far stand). */
int mg_adder_score(const mg_adder *a, const mg_tokstream_data *d, mg_adder_accuracy *acc,
		   void (*on_wrong)(void *arg, const mg_adder_answer *ans), void *arg, mg_err *e);

#endif
