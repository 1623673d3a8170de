/* Binary Netpbm images: P6 (RGB) and P5 (gray), maxval 255; a file may hold
 * several images one after another, as Netpbm allows. */
#ifndef MG_PNM_H
#define MG_PNM_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "image/image.h"

/* Appends the images of p to l (label -1). Errors name the byte offset:
 * MG_E_MAGIC (not P5/P6), MG_E_CORRUPT (a bad header field), MG_E_LIMIT
 * (a side over MG_IMAGE_SIDE_LIMIT), MG_E_UNSUPPORTED (maxval not 255),
 * MG_E_TRUNC (pixels cut short). */
int mg_pnm_parse(const uint8_t *p, size_t n, mg_image_list *l, mg_err *e);

#endif
