/* The generated class tables (lib/bpe/unicode.c) against the ranges they came
 * from, on every code point, with the counts the Unicode 16.0 data gives;
 * and lossless UTF-8 decoding. */
#include <string.h>

#include "bpe/unicode.h"
#include "check.h"

static int in_ranges(const mg_unicode_range *r, uint32_t n, uint32_t cp)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (cp < r[mid].first)
			hi = mid;
		else if (cp > r[mid].last)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int main(void)
{
	uint32_t count[4] = { 0 };
	uint8_t b[4];
	uint32_t cp;

	CHECK_EQ(mg_unicode_stage1[0], 0); /* the pre-tokenizer reads ASCII classes from block 0 */
	for (uint32_t c = 0; c < 0x110000; c++) {
		int want = in_ranges(mg_unicode_letter_ranges, mg_unicode_letter_count, c)	 ? MG_UC_LETTER
			   : in_ranges(mg_unicode_number_ranges, mg_unicode_number_count, c)	 ? MG_UC_NUMBER
			   : in_ranges(mg_unicode_white_space_ranges, mg_unicode_white_space_count, c) ? MG_UC_SPACE
											 : MG_UC_OTHER;
		if (mg_unicode_class(c) != want) {
			fprintf(stderr, "U+%04X: class %d, ranges say %d\n", c, mg_unicode_class(c), want);
			check_failures++;
		}
		count[mg_unicode_class(c)]++;
	}
	CHECK_EQ(count[MG_UC_LETTER], 141028);
	CHECK_EQ(count[MG_UC_NUMBER], 1911);
	CHECK_EQ(count[MG_UC_SPACE], 25);
	CHECK_EQ(mg_unicode_letter_count, 677);
	CHECK_EQ(mg_unicode_number_count, 144);
	/* traps: combining marks, U+180E and U+200B, U+001C, Unicode 16 letters */
	CHECK_EQ(mg_unicode_class(0x0301), MG_UC_OTHER);
	CHECK_EQ(mg_unicode_class(0x180E), MG_UC_OTHER);
	CHECK_EQ(mg_unicode_class(0x200B), MG_UC_OTHER);
	CHECK_EQ(mg_unicode_class(0x001C), MG_UC_OTHER);
	CHECK_EQ(mg_unicode_class(0x0085), MG_UC_SPACE);
	CHECK_EQ(mg_unicode_class(0x105C0), MG_UC_LETTER); /* Todhri, new in 16.0 */
	CHECK_EQ(mg_unicode_class(0x10940), MG_UC_OTHER);  /* Sidetic, 17.0 */
	/* decoding: every scalar value round-trips; invalid forms are raw bytes */
	for (uint32_t c = 0; c < 0x110000; c++) {
		size_t n;
		if (c >= 0xd800 && c < 0xe000)
			continue;
		n = mg_unicode_utf8_encode(b, c);
		if (mg_unicode_utf8_decode(b, n, &cp) != n || cp != c) {
			fprintf(stderr, "U+%04X does not round-trip\n", c);
			check_failures++;
		}
		if (n > 1 && mg_unicode_utf8_decode(b, n - 1, &cp) != 1) /* truncated */
			check_failures++;
	}
	memcpy(b, "\xc0\xaf", 2); /* overlong */
	CHECK_EQ(mg_unicode_utf8_decode(b, 2, &cp), 1);
	CHECK_EQ(cp, MG_UC_RAW + 0xc0);
	memcpy(b, "\xed\xa0\x80", 3); /* surrogate */
	CHECK_EQ(mg_unicode_utf8_decode(b, 3, &cp), 1);
	memcpy(b, "\xf4\x90\x80\x80", 4); /* above U+10FFFF */
	CHECK_EQ(mg_unicode_utf8_decode(b, 4, &cp), 1);
	CHECK_EQ(mg_unicode_utf8_encode(b, MG_UC_RAW + 0xff), 1);
	CHECK_EQ(b[0], 0xff);
	CHECK_DONE();
}
