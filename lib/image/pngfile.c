/* PNG in and out with libpng's simplified API (png_image), which reports
 * errors in the control structure instead of longjmp-ing through ours. */
#include "image/pngfile.h"

#include <png.h>
#include <string.h>

const uint8_t mg_pngfile_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

int mg_pngfile_read(const uint8_t *p, size_t n, mg_image *im, mg_err *e)
{
	png_image pi;
	png_color black = { 0, 0, 0 };
	uint32_t ch;
	int rc;

	memset(im, 0, sizeof *im);
	if (n < 8 || memcmp(p, mg_pngfile_magic, 8))
		return mg_err_set(e, MG_E_MAGIC, "not a PNG image");
	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, p, n))
		return mg_err_set(e, MG_E_CORRUPT, "bad PNG: %s", pi.message);
	if (pi.width == 0 || pi.height == 0 || pi.width > MG_IMAGE_SIDE_LIMIT || pi.height > MG_IMAGE_SIDE_LIMIT) {
		uint32_t w = pi.width, h = pi.height;
		png_image_free(&pi);
		return mg_err_set(e, MG_E_LIMIT, "PNG image is %ux%u, outside 1..%u", w, h, MG_IMAGE_SIDE_LIMIT);
	}
	ch = pi.format & PNG_FORMAT_FLAG_COLOR ? 3 : 1;
	pi.format = ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
	if ((rc = mg_image_alloc(im, pi.width, pi.height, ch, e))) {
		png_image_free(&pi);
		return rc;
	}
	if (!png_image_finish_read(&pi, &black, im->pixels, (png_int_32)(pi.width * ch), NULL)) {
		mg_image_free(im);
		rc = mg_err_set(e, MG_E_CORRUPT, "bad PNG: %s", pi.message);
		png_image_free(&pi);
		return rc;
	}
	return MG_OK;
}

int mg_pngfile_write(const mg_image *im, FILE *f, mg_err *e)
{
	png_image pi;

	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	pi.width = im->width;
	pi.height = im->height;
	pi.format = im->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
	if (!png_image_write_to_stdio(&pi, f, 0, im->pixels, (png_int_32)(im->width * im->channels), NULL))
		return mg_err_set(e, MG_E_IO, "cannot write PNG: %s", pi.message);
	return MG_OK;
}
