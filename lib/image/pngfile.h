/* PNG images through libpng's simplified API: any PNG read as 8-bit gray or
 * RGB (alpha composited onto black, 16-bit reduced, palettes expanded), and
 * 8-bit gray or RGB written. */
#ifndef MG_PNGFILE_H
#define MG_PNGFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "image/image.h"

/* The first 8 bytes of every PNG file. */
extern const uint8_t mg_pngfile_magic[8];

/* Reads the PNG in p into *im (gray when the file has no colour, else RGB;
 * label -1). MG_E_MAGIC, MG_E_LIMIT (a side over MG_IMAGE_SIDE_LIMIT,
 * checked before allocating), MG_E_CORRUPT (libpng's message: truncated
 * or damaged data), MG_E_NOMEM. */
int mg_pngfile_read(const uint8_t *p, size_t n, mg_image *im, mg_err *e);
/* Writes im as an 8-bit PNG (gray or RGB) to f; MG_E_IO. f stays open. */
int mg_pngfile_write(const mg_image *im, FILE *f, mg_err *e);

#endif
