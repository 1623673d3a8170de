/* Images in memory: allocation with the shape checked first, and the list
 * the readers append to. */
#include "image/image.h"

#include <stdlib.h>
#include <string.h>

size_t mg_image_bytes(const mg_image *im)
{
	return (size_t)im->width * im->height * im->channels;
}

int mg_image_alloc(mg_image *im, uint32_t width, uint32_t height, uint32_t channels, mg_err *e)
{
	memset(im, 0, sizeof *im);
	if (width == 0 || height == 0 || width > MG_IMAGE_SIDE_LIMIT || height > MG_IMAGE_SIDE_LIMIT)
		return mg_err_set(e, MG_E_LIMIT, "image size %ux%u is outside 1..%u", width, height,
				  MG_IMAGE_SIDE_LIMIT);
	if (channels != 1 && channels != 3)
		return mg_err_set(e, MG_E_INVAL, "%u channels (only gray or RGB)", channels);
	im->width = width;
	im->height = height;
	im->channels = channels;
	im->label = -1;
	im->pixels = malloc(mg_image_bytes(im));
	if (!im->pixels)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	return MG_OK;
}

void mg_image_free(mg_image *im)
{
	free(im->pixels);
	memset(im, 0, sizeof *im);
}

void mg_image_list_init(mg_image_list *l)
{
	memset(l, 0, sizeof *l);
}

int mg_image_list_push(mg_image_list *l, mg_image *im, mg_err *e)
{
	if (l->n >= MG_IMAGE_COUNT_MAX)
		return mg_err_set(e, MG_E_LIMIT, "more than %u images", MG_IMAGE_COUNT_MAX);
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		mg_image *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *im;
	memset(im, 0, sizeof *im);
	return MG_OK;
}

void mg_image_list_free(mg_image_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		mg_image_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}
