/* A palette for image-GPT from images, the minGPT way: a few random pixels
 * of every image, k-means over them, the centres rounded to bytes and
 * written as a palette tokenizer. */
#ifndef MG_PALETTE_H
#define MG_PALETTE_H

#include <stdint.h>

#include "core/err.h"
#include "image/image.h"
#include "image/kmeans.h"
#include "io/tokenizer.h"

/* Draws ppi pixels of every image of l (all of one shape; one generator
 * seeded by o->seed, in image order, so the same pixels whatever
 * o->threads), fits o->k centres to them and makes *tk, a palette
 * tokenizer of the images' shape (gray images: gray colours). st: the
 * fit's statistics; *drawn: the pixels drawn. MG_E_INVAL when fewer pixels
 * are drawn than colours asked for; MG_E_NOMEM. */
int mg_palette_fit(const mg_image_list *l, uint32_t ppi, const mg_kmeans_opts *o, mg_tokenizer *tk,
		   mg_kmeans_stats *st, size_t *drawn, mg_err *e);

#endif
