/* A picture of many images: rows x columns of same-shape images, each
 * scaled up by an integer factor, with a border of one colour around and
 * between them. */
#ifndef MG_GRID_H
#define MG_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "image/image.h"

typedef struct mg_grid_opts {
	uint32_t rows, cols; /* cells; images fill them row by row, the rest is border colour */
	uint32_t scale;      /* each pixel becomes scale x scale, 1..64 */
	uint32_t border;     /* border width in output pixels, 0..64 */
	uint8_t colour[3];   /* of the border and empty cells (gray: colour[0]) */
} mg_grid_opts;

/* The output side for n cells of side s: n*s*scale + (n+1)*border. */
uint64_t mg_grid_side(uint32_t n, uint32_t s, const mg_grid_opts *o);
/* Composes the n images of ims (n <= rows*cols, all of the same shape and
 * channels: MG_E_INVAL otherwise) into *out. MG_E_LIMIT when the result is
 * over MG_IMAGE_SIDE_LIMIT on a side. */
int mg_grid_compose(const mg_image *ims, size_t n, const mg_grid_opts *o, mg_image *out, mg_err *e);

#endif
