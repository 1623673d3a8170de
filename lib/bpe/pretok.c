/* GPT-2's pre-tokenizer as a hand-written matcher (see pretok.h for the
 * pattern). At position i the alternatives are tried in the pattern's order:
 * a contraction; an optional U+0020 and then a run of letters, of numbers or
 * of other characters; else a whitespace run, which gives back its last
 * character when a non-space follows (\s+(?!\S)) unless it is one character
 * long (then \s+ takes it). */
#include "bpe/pretok.h"

#include "bpe/unicode.h"

#define ASCII_CLASS(c) (mg_unicode_stage2[0][c]) /* stage1[0] == 0: block 0 is ASCII */

/* Class and length of the character at s[j], or 0 when final is 0 and the
 * character may continue past s[n-1]. */
static inline size_t class_at(const uint8_t *s, size_t n, size_t j, int final, int *cls)
{
	uint8_t c = s[j];
	uint32_t cp;
	size_t len;

	if (c < 0x80) {
		*cls = ASCII_CLASS(c);
		return 1;
	}
	if (!final && n - j < 4) {
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		if (n - j < need)
			return 0;
	}
	len = mg_unicode_utf8_decode(s + j, n - j, &cp);
	*cls = mg_unicode_class_of(cp);
	return len;
}

size_t mg_pretok_next(const uint8_t *s, size_t n, size_t i, int final)
{
	uint8_t c = s[i];
	size_t len, j, k, last;
	int cls, c2;

	if (c == '\'') {
		if (i + 1 >= n) {
			if (!final)
				return MG_PRETOK_MORE;
		} else {
			uint8_t d = s[i + 1];
			if (d == 's' || d == 't' || d == 'm' || d == 'd')
				return i + 2;
			if (d == 'r' || d == 'v' || d == 'l') {
				if (i + 2 >= n) {
					if (!final)
						return MG_PRETOK_MORE;
				} else if (s[i + 2] == (d == 'l' ? 'l' : 'e')) {
					return i + 3;
				}
			}
		}
	}
	if (c == ' ') {
		if (i + 1 >= n)
			return final ? i + 1 : MG_PRETOK_MORE;
		if (!(len = class_at(s, n, i + 1, final, &cls)))
			return MG_PRETOK_MORE;
		if (cls != MG_UC_SPACE) {
			j = i + 1 + len;
			goto run;
		}
		len = 1;
	} else {
		if (!(len = class_at(s, n, i, final, &cls)))
			return MG_PRETOK_MORE;
		if (cls != MG_UC_SPACE) {
			j = i + len;
			goto run;
		}
	}
	/* whitespace run from i */
	last = i;
	k = i + len;
	while (k < n) {
		if (!(len = class_at(s, n, k, final, &c2)))
			return MG_PRETOK_MORE;
		if (c2 != MG_UC_SPACE)
			return last > i ? last : k;
		last = k;
		k += len;
	}
	return final ? n : MG_PRETOK_MORE;
run:
	for (;;) {
		while (j < n && s[j] < 0x80) {
			if (ASCII_CLASS(s[j]) != cls)
				return j;
			j++;
		}
		if (j >= n)
			return final ? n : MG_PRETOK_MORE;
		if (!(len = class_at(s, n, j, final, &c2)))
			return MG_PRETOK_MORE;
		if (c2 != cls)
			return j;
		j += len;
	}
}

int mg_pretok_class_before(const uint8_t *s, size_t p)
{
	size_t q = p - 1;
	uint32_t cp;

	if (s[q] < 0x80)
		return ASCII_CLASS(s[q]);
	while ((s[q] & 0xc0) == 0x80 && q > 0 && p - q < 4)
		q--;
	if ((s[q] & 0xc0) == 0x80 || mg_unicode_utf8_decode(s + q, p - q, &cp) != p - q)
		return MG_UC_OTHER; /* s[p-1] is an invalid byte */
	return mg_unicode_class_of(cp);
}

size_t mg_pretok_cut(const uint8_t *s, size_t n, size_t lo, size_t hi)
{
	for (size_t p = hi; p > lo; p--) {
		uint32_t cp;
		int c1, c2;

		if ((s[p] & 0xc0) == 0x80)
			continue; /* not the start of a character */
		mg_unicode_utf8_decode(s + p, n - p, &cp);
		c2 = mg_unicode_class_of(cp);
		c1 = mg_pretok_class_before(s, p);
		if ((c1 == MG_UC_LETTER && c2 != MG_UC_LETTER) || (c1 == MG_UC_NUMBER && c2 != MG_UC_NUMBER) ||
		    (c1 == MG_UC_OTHER &&
		     (c2 == MG_UC_SPACE || ((c2 == MG_UC_LETTER || c2 == MG_UC_NUMBER) && s[p - 1] != '\''))))
			return p;
	}
	return 0;
}
