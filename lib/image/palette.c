/* The palette of image-GPT: the pixels drawn from every image, their k-means
 * centres rounded to bytes, as a palette tokenizer. */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "image/palette.h"

int mg_palette_fit(const mg_image_list *l, uint32_t ppi, const mg_kmeans_opts *o, mg_tokenizer *tk,
		   mg_kmeans_stats *st, size_t *drawn, mg_err *e)
{
	size_t d, per, n;
	uint8_t *pts = NULL, *rgb = NULL;
	float *centres = NULL;
	mg_rng r;
	int rc;

	if (l->n == 0)
		return mg_err_set(e, MG_E_INVAL, "no images");
	d = l->v[0].channels;
	per = (size_t)l->v[0].width * l->v[0].height;
	*drawn = n = l->n * (size_t)ppi;
	if (n < o->k)
		return mg_err_set(e, MG_E_INVAL, "%zu pixel%s drawn (%zu image%s x %u) for %u colours: draw more "
				  "pixels of every image", n, n == 1 ? "" : "s", l->n, l->n == 1 ? "" : "s", ppi, o->k);
	if (!(pts = malloc(n * d)) || !(centres = malloc((size_t)o->k * d * sizeof *centres)) ||
	    !(rgb = malloc(3 * (size_t)o->k))) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto out;
	}
	/* one generator in image order: the same pixels whatever the threads */
	mg_rng_seed(&r, o->seed);
	for (size_t i = 0; i < l->n; i++)
		for (uint32_t j = 0; j < ppi; j++)
			memcpy(pts + (i * ppi + j) * d, l->v[i].pixels + mg_rng_below(&r, per) * d, d);
	if ((rc = mg_kmeans_fit(pts, n, (uint32_t)d, o, centres, st, e)))
		goto out;
	for (uint32_t c = 0; c < o->k; c++)
		for (int t = 0; t < 3; t++) {
			float v = centres[(size_t)c * d + (d == 3 ? (size_t)t : 0)] + 0.5f;
			rgb[3 * (size_t)c + t] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	rc = mg_tokenizer_init_palette(tk, rgb, o->k, l->v[0].width, l->v[0].height, e);
out:
	free(pts);
	free(centres);
	free(rgb);
	return rc;
}
