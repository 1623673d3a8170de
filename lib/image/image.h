/* Images in memory: the common type every reader fills (8-bit pixels,
 * row-major, channels interleaved) and a growing list of them. */
#ifndef MG_IMAGE_H
#define MG_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MG_IMAGE_SIDE_LIMIT 4096u      /* widest and tallest image a reader accepts */
#define MG_IMAGE_COUNT_MAX (1u << 24) /* images in one list */

typedef struct mg_image {
	uint32_t width, height;
	uint32_t channels; /* 1 (gray) or 3 (RGB) */
	int32_t label;     /* class 0-255, or -1 when the file has none */
	uint8_t *pixels;   /* height x width x channels bytes, owned */
} mg_image;

typedef struct mg_image_list {
	mg_image *v;
	size_t n, cap;
} mg_image_list;

/* Bytes of an image's pixels. */
size_t mg_image_bytes(const mg_image *im);
/* Allocates im->pixels for the given shape (sides 1..MG_IMAGE_SIDE_LIMIT,
 * channels 1 or 3: MG_E_LIMIT / MG_E_INVAL otherwise), label -1. */
int mg_image_alloc(mg_image *im, uint32_t width, uint32_t height, uint32_t channels, mg_err *e);
void mg_image_free(mg_image *im);

void mg_image_list_init(mg_image_list *l);
/* Appends *im, taking its pixels (im is cleared); MG_E_LIMIT past
 * MG_IMAGE_COUNT_MAX, MG_E_NOMEM (im then still owns its pixels). */
int mg_image_list_push(mg_image_list *l, mg_image *im, mg_err *e);
void mg_image_list_free(mg_image_list *l);

#endif
