/* CIFAR-10 binary batches: records of 3,073 bytes (a label byte, then the
 * 32x32 red, green and blue planes), no header. */
#ifndef MG_CIFAR_H
#define MG_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "image/image.h"

#define MG_CIFAR_SIDE 32u
#define MG_CIFAR_RECORD (1u + 3u * 32u * 32u)

/* Appends the n / 3,073 images of p to l (RGB, labelled). MG_E_TRUNC when
 * n is not a whole number of records (the offset of the partial one), or
 * is 0; MG_E_CORRUPT for a label over 9 (its offset). */
int mg_cifar_parse(const uint8_t *p, size_t n, mg_image_list *l, mg_err *e);

#endif
