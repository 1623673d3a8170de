/* IDX files (MNIST, Fashion-MNIST): 0x00000803 holds n x rows x cols
 * unsigned bytes (gray images), 0x00000801 n unsigned bytes (labels). */
#ifndef MG_IDX_H
#define MG_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "image/image.h"

#define MG_IDX_IMAGES_MAGIC 0x00000803u
#define MG_IDX_LABELS_MAGIC 0x00000801u

/* Appends the images of an images file to l (gray); labels (may be NULL)
 * is a labels file with the same count, whose labels the images take.
 * MG_E_MAGIC, MG_E_TRUNC (a short header, too few bytes for the count, or
 * bytes after them: with the offset), MG_E_LIMIT, MG_E_INVAL (counts
 * differ). */
int mg_idx_parse(const uint8_t *p, size_t n, const uint8_t *labels, size_t n_labels, mg_image_list *l, mg_err *e);

#endif
