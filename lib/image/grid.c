/* Grid composition: fill with the border colour, then copy each image's
 * pixels, repeated scale x scale, into its cell. */
#include "image/grid.h"

#include <string.h>

uint64_t mg_grid_side(uint32_t n, uint32_t s, const mg_grid_opts *o)
{
	return (uint64_t)n * s * o->scale + (uint64_t)(n + 1) * o->border;
}

int mg_grid_compose(const mg_image *ims, size_t n, const mg_grid_opts *o, mg_image *out, mg_err *e)
{
	uint32_t w, h, ch;
	uint64_t W, H;
	int rc;

	memset(out, 0, sizeof *out);
	if (n == 0 || o->rows == 0 || o->cols == 0 || n > (uint64_t)o->rows * o->cols)
		return mg_err_set(e, MG_E_INVAL, "%zu images do not fit a %ux%u grid", n, o->rows, o->cols);
	if (o->scale < 1 || o->scale > 64 || o->border > 64)
		return mg_err_set(e, MG_E_INVAL, "scale %u or border %u is outside 1..64 / 0..64", o->scale, o->border);
	w = ims[0].width;
	h = ims[0].height;
	ch = ims[0].channels;
	for (size_t i = 1; i < n; i++)
		if (ims[i].width != w || ims[i].height != h || ims[i].channels != ch)
			return mg_err_set(e, MG_E_INVAL, "image %zu is %ux%ux%u, not %ux%ux%u like the first", i,
					  ims[i].width, ims[i].height, ims[i].channels, w, h, ch);
	W = mg_grid_side(o->cols, w, o);
	H = mg_grid_side(o->rows, h, o);
	if (W > MG_IMAGE_SIDE_LIMIT || H > MG_IMAGE_SIDE_LIMIT)
		return mg_err_set(e, MG_E_LIMIT, "the grid would be %llux%llu, over %u on a side", (unsigned long long)W,
				  (unsigned long long)H, MG_IMAGE_SIDE_LIMIT);
	if ((rc = mg_image_alloc(out, (uint32_t)W, (uint32_t)H, ch, e)))
		return rc;
	for (size_t i = 0; i < (size_t)W * H; i++)
		memcpy(out->pixels + i * ch, o->colour, ch);
	for (size_t k = 0; k < n; k++) {
		size_t x0 = (k % o->cols) * ((size_t)w * o->scale + o->border) + o->border;
		size_t y0 = (k / o->cols) * ((size_t)h * o->scale + o->border) + o->border;
		for (size_t y = 0; y < (size_t)h * o->scale; y++) {
			uint8_t *dst = out->pixels + ((y0 + y) * W + x0) * ch;
			const uint8_t *src = ims[k].pixels + (y / o->scale) * w * ch;
			for (size_t x = 0; x < (size_t)w * o->scale; x++)
				memcpy(dst + x * ch, src + (x / o->scale) * ch, ch);
		}
	}
	return MG_OK;
}
