/* Reading image files of any supported format (CIFAR-10 batches, PNG,
 * binary PPM/PGM, IDX), plain or gzip-compressed: the format found from the
 * contents or given. */
#ifndef MG_IMAGE_READ_H
#define MG_IMAGE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "image/image.h"

enum {
	MG_IMAGE_READ_AUTO = 0,
	MG_IMAGE_READ_CIFAR = 1,
	MG_IMAGE_READ_PNG = 2,
	MG_IMAGE_READ_PNM = 3,
	MG_IMAGE_READ_IDX = 4,
};

#define MG_IMAGE_FILE_MAX ((size_t)1 << 30) /* bytes of one file, after gunzip */

/* "auto", "cifar", "png", "pnm", "idx". */
const char *mg_image_read_format_name(int format);
/* The format of the contents p: PNG and PNM by their magic, IDX by
 * 0x00000803, CIFAR-10 when n is a whole number of 3,073-byte records with
 * labels 0-9; MG_E_MAGIC (naming what was tried) otherwise. */
int mg_image_read_detect(const uint8_t *p, size_t n, int *format, mg_err *e);
/* The whole file at path, gunzipped when it is gzip (any other file is
 * read as it is); *p malloc'd. MG_E_IO (strerror), MG_E_LIMIT over
 * MG_IMAGE_FILE_MAX, MG_E_CORRUPT for damaged gzip data. */
int mg_image_read_file(const char *path, uint8_t **p, size_t *n, mg_err *e);
/* Appends the images of path to l. labels_path (may be NULL; IDX only) is
 * the labels file of an IDX images file. */
int mg_image_read_path(const char *path, int format, const char *labels_path, mg_image_list *l, mg_err *e);

#endif
