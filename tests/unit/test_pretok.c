/* The pre-tokenizer against a literal backtracking reading of GPT-2's
 * pattern, on random strings over the characters that make the traps
 * (contractions, U+0020 versus other spaces, \s+(?!\S), combining marks,
 * invalid UTF-8); and the streaming contracts: a piece decided before the end
 * of a buffer is the piece of the whole text, and splitting at a cut point
 * changes no piece. */
#include <string.h>

#include "bpe/pretok.h"
#include "bpe/unicode.h"
#include "check.h"
#include "core/rng.h"

#define MAXC 64

typedef struct ch {
	uint32_t cp;
	size_t off, len;
	int cls;
} ch;

static size_t decode_all(const uint8_t *s, size_t n, ch *c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; k++) {
		c[k].off = i;
		c[k].len = mg_unicode_utf8_decode(s + i, n - i, &c[k].cp);
		c[k].cls = mg_unicode_class_of(c[k].cp);
		i += c[k].len;
	}
	return k;
}

/* End (in characters) of the match at i, trying the alternatives in order. */
static size_t naive(const ch *c, size_t n, size_t i)
{
	static const char *con[] = { "s", "t", "re", "ve", "m", "ll", "d" };
	static const int classes[] = { MG_UC_LETTER, MG_UC_NUMBER, MG_UC_OTHER };

	if (c[i].cp == '\'')
		for (int k = 0; k < 7; k++) {
			size_t l = strlen(con[k]), j;
			for (j = 0; j < l && i + 1 + j < n && c[i + 1 + j].cp == (uint32_t)con[k][j]; j++)
				;
			if (j == l)
				return i + 1 + l;
		}
	for (int a = 0; a < 3; a++) /* " ?X+": with the space first, then without */
		for (int sp = 1; sp >= 0; sp--) {
			size_t j = i;
			if (sp) {
				if (c[i].cp != ' ')
					continue;
				j++;
			}
			if (j < n && c[j].cls == classes[a]) {
				while (j < n && c[j].cls == classes[a])
					j++;
				return j;
			}
		}
	if (c[i].cls == MG_UC_SPACE) {
		size_t j = i;
		while (j < n && c[j].cls == MG_UC_SPACE)
			j++;
		for (size_t e = j; e > i; e--) /* \s+(?!\S) backtracking */
			if (e == n || c[e].cls == MG_UC_SPACE)
				return e;
		return j; /* \s+ */
	}
	return (size_t)-1; /* the pattern always matches: never reached */
}

static const char *alphabet[] = {
	"a", "Z", "'", "s", "t", "r", "e", "v", "l", "m", "d", " ", " ", " ", "\n", "\t", "1", "9", ".", "!",
	"\xc2\xa0", "\xe3\x80\x80", "\xcc\x81", "\xe4\xb8\x80", "\xd9\xa3", "\xf0\x9f\xa4\x97", "\xff", "\x80",
	"\xe2\x82", "\xc3", "\x1c", "\xe2\x80\x8b", "\xc3\xa9",
};

/* Pieces of s[0..n) as byte ends. */
static size_t pieces(const uint8_t *s, size_t n, size_t *ends)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i = ends[k++])
		ends[k] = mg_pretok_next(s, n, i, 1);
	return k;
}

int main(void)
{
	mg_rng rng;
	uint8_t s[MAXC * 4 + 8];
	ch c[MAXC * 4 + 8];
	size_t ends[MAXC * 4 + 8], e1[MAXC * 4 + 8], e2[MAXC * 4 + 8];
	long cuts = 0;

	mg_rng_seed(&rng, 7);
	for (int iter = 0; iter < 200000; iter++) {
		size_t n = 0, nc, k, len = mg_rng_u64(&rng) % MAXC;
		for (size_t i = 0; i < len; i++) {
			const char *a = alphabet[mg_rng_u64(&rng) % (sizeof alphabet / sizeof *alphabet)];
			memcpy(s + n, a, strlen(a));
			n += strlen(a);
		}
		nc = decode_all(s, n, c);
		k = pieces(s, n, ends);
		/* against the literal reading, piece by piece */
		{
			size_t ci = 0, pi = 0;
			while (ci < nc) {
				size_t ce = naive(c, nc, ci), be = ce < nc ? c[ce].off : n;
				if (pi >= k || ends[pi] != be) {
					fprintf(stderr, "iteration %d: piece %zu ends at %zu, expected %zu\n", iter, pi,
						pi < k ? ends[pi] : 0, be);
					check_failures++;
					break;
				}
				ci = ce;
				pi++;
			}
			if (ci == nc)
				CHECK_EQ(pi, k);
		}
		/* a piece decided in a prefix is final */
		for (size_t m = 1; m < n; m++)
			for (size_t i = 0, pi = 0; i < m; i = ends[pi++]) {
				size_t j = mg_pretok_next(s, m, i, 0);
				if (j == MG_PRETOK_MORE)
					break;
				if (j != ends[pi]) {
					fprintf(stderr, "iteration %d: prefix %zu decides %zu, whole text %zu\n", iter, m, j, ends[pi]);
					check_failures++;
				}
			}
		/* cut points change nothing */
		if (n > 5) {
			size_t p = mg_pretok_cut(s, n, 0, n - 4);
			if (p) {
				size_t k1 = pieces(s, p, e1), k2 = pieces(s + p, n - p, e2);
				int same = k1 + k2 == k;
				for (size_t i = 0; same && i < k1; i++)
					same = e1[i] == ends[i];
				for (size_t i = 0; same && i < k2; i++)
					same = e2[i] + p == ends[k1 + i];
				if (!same) {
					fprintf(stderr, "iteration %d: cut at %zu changes the pieces\n", iter, p);
					check_failures++;
				}
				cuts++;
			}
		}
		if (check_failures > 20)
			break;
	}
	CHECK(cuts > 10000); /* the cut test did run */
	CHECK_DONE();
}
