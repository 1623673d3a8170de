/* Binary PPM/PGM reader: the header is "P6" or "P5", then width, height and
 * maxval as decimal numbers separated by white space and #-comments, then
 * one white-space byte and the raster. */
#include "image/pnm.h"

#include <string.h>

/* Skips white space and comments, then reads a decimal number of at most
 * 9 digits at *pos. */
static int header_number(const uint8_t *p, size_t n, size_t *pos, const char *what, uint32_t *v, mg_err *e)
{
	size_t i = *pos, digits = 0;
	uint32_t x = 0;

	for (;;) {
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == '\v' ||
				 p[i] == '\f'))
			i++;
		if (i < n && p[i] == '#') {
			while (i < n && p[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	if (i >= n)
		return mg_err_set(e, MG_E_TRUNC, "truncated PNM header at offset %zu (no %s)", i, what);
	while (i < n && p[i] >= '0' && p[i] <= '9') {
		if (++digits > 9)
			return mg_err_set(e, MG_E_LIMIT, "PNM %s at offset %zu has too many digits", what, *pos);
		x = 10 * x + (uint32_t)(p[i++] - '0');
	}
	if (!digits)
		return mg_err_set(e, MG_E_CORRUPT, "PNM %s expected at offset %zu", what, i);
	if (i >= n)
		return mg_err_set(e, MG_E_TRUNC, "truncated PNM header at offset %zu", i);
	*pos = i;
	*v = x;
	return MG_OK;
}

int mg_pnm_parse(const uint8_t *p, size_t n, mg_image_list *l, mg_err *e)
{
	size_t pos = 0;
	int rc;

	do {
		size_t start = pos, bytes;
		uint32_t w, h, maxval, ch;
		mg_image im;
		if (n - pos < 2 || p[pos] != 'P' || (p[pos + 1] != '5' && p[pos + 1] != '6'))
			return mg_err_set(e, MG_E_MAGIC, "not a binary PPM or PGM image at offset %zu (P6 or P5)", pos);
		ch = p[pos + 1] == '6' ? 3 : 1;
		pos += 2;
		if ((rc = header_number(p, n, &pos, "width", &w, e)) || (rc = header_number(p, n, &pos, "height", &h, e)) ||
		    (rc = header_number(p, n, &pos, "maxval", &maxval, e)))
			return rc;
		if (w == 0 || h == 0 || w > MG_IMAGE_SIDE_LIMIT || h > MG_IMAGE_SIDE_LIMIT)
			return mg_err_set(e, MG_E_LIMIT, "PNM image at offset %zu is %ux%u, outside 1..%u", start, w, h,
					  MG_IMAGE_SIDE_LIMIT);
		if (maxval != 255)
			return mg_err_set(e, MG_E_UNSUPPORTED, "PNM image at offset %zu has maxval %u (only 255)", start,
					  maxval);
		if (!(p[pos] == ' ' || p[pos] == '\t' || p[pos] == '\n' || p[pos] == '\r'))
			return mg_err_set(e, MG_E_CORRUPT, "no white space after the PNM maxval at offset %zu", pos);
		pos++;
		bytes = (size_t)w * h * ch;
		if (n - pos < bytes)
			return mg_err_set(e, MG_E_TRUNC, "truncated PNM image at offset %zu: %zu of %zu pixel bytes", start,
					  n - pos, bytes);
		if ((rc = mg_image_alloc(&im, w, h, ch, e)))
			return rc;
		memcpy(im.pixels, p + pos, bytes);
		pos += bytes;
		if ((rc = mg_image_list_push(l, &im, e))) {
			mg_image_free(&im);
			return rc;
		}
		/* white space between images is allowed */
		while (pos < n && (p[pos] == ' ' || p[pos] == '\t' || p[pos] == '\n' || p[pos] == '\r'))
			pos++;
	} while (pos < n);
	return MG_OK;
}
