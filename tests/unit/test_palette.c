/* The palette tokenizer's facts used by img-quantize: a gray palette, and two
 * palettes that hold the same colours for the same image shape. */
#include <string.h>

#include "check.h"
#include "io/tokenizer.h"

static void make(mg_tokenizer *tk, const uint8_t *rgb, uint32_t n, uint32_t w, uint32_t h)
{
	mg_err e;
	CHECK_EQ(mg_tokenizer_init_palette(tk, rgb, n, w, h, &e), MG_OK);
}

int main(void)
{
	static const uint8_t gray[] = { 0, 0, 0, 128, 128, 128, 255, 255, 255 };
	static const uint8_t rgb[] = { 0, 0, 0, 128, 128, 128, 255, 255, 254 };
	mg_tokenizer a, b, c, d;

	make(&a, gray, 3, 32, 32);
	make(&b, rgb, 3, 32, 32);
	make(&c, gray, 3, 28, 28);
	make(&d, gray, 2, 32, 32);
	CHECK(mg_tokenizer_palette_gray(&a));
	CHECK(!mg_tokenizer_palette_gray(&b)); /* one byte of the last colour differs */
	CHECK(mg_tokenizer_same_palette(&a, &a));
	CHECK(!mg_tokenizer_same_palette(&a, &b)); /* colours */
	CHECK(!mg_tokenizer_same_palette(&a, &c)); /* image shape */
	CHECK(!mg_tokenizer_same_palette(&a, &d)); /* colour count */
	mg_tokenizer_free(&a);
	mg_tokenizer_free(&b);
	mg_tokenizer_free(&c);
	mg_tokenizer_free(&d);
	CHECK_DONE();
}
