/* IDX images and labels: a big-endian magic (0, 0, type 0x08 = unsigned
 * byte, dimensions), a big-endian count per dimension, then the bytes. */
#include "image/idx.h"

#include <string.h>

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int mg_idx_parse(const uint8_t *p, size_t n, const uint8_t *labels, size_t n_labels, mg_image_list *l, mg_err *e)
{
	uint32_t count, rows, cols;
	size_t bytes;
	int rc;

	if (n < 4 || be32(p) != MG_IDX_IMAGES_MAGIC)
		return mg_err_set(e, MG_E_MAGIC, "not an IDX images file (magic 0x%08x)", MG_IDX_IMAGES_MAGIC);
	if (n < 16)
		return mg_err_set(e, MG_E_TRUNC, "truncated IDX header (%zu of 16 bytes)", n);
	count = be32(p + 4);
	rows = be32(p + 8);
	cols = be32(p + 12);
	if (count == 0 || count > MG_IMAGE_COUNT_MAX)
		return mg_err_set(e, MG_E_LIMIT, "IDX image count %u at offset 4 is outside 1..%u", count,
				  MG_IMAGE_COUNT_MAX);
	if (rows == 0 || cols == 0 || rows > MG_IMAGE_SIDE_LIMIT || cols > MG_IMAGE_SIDE_LIMIT)
		return mg_err_set(e, MG_E_LIMIT, "IDX images are %ux%u (offset 8), outside 1..%u", cols, rows,
				  MG_IMAGE_SIDE_LIMIT);
	bytes = (size_t)rows * cols;
	if ((n - 16) / bytes < count)
		return mg_err_set(e, MG_E_TRUNC, "truncated IDX images at offset %zu: %u images need %zu bytes",
				  16 + (n - 16) / bytes * bytes, count, 16 + count * bytes);
	if (n - 16 != count * bytes)
		return mg_err_set(e, MG_E_CORRUPT, "%zu bytes after the IDX images at offset %zu",
				  n - 16 - count * bytes, 16 + count * bytes);
	if (labels) {
		if (n_labels < 4 || be32(labels) != MG_IDX_LABELS_MAGIC)
			return mg_err_set(e, MG_E_MAGIC, "the labels are not an IDX labels file (magic 0x%08x)",
					  MG_IDX_LABELS_MAGIC);
		if (n_labels < 8)
			return mg_err_set(e, MG_E_TRUNC, "truncated IDX labels header (%zu of 8 bytes)", n_labels);
		if (be32(labels + 4) != count)
			return mg_err_set(e, MG_E_INVAL, "the labels file has %u labels for %u images", be32(labels + 4),
					  count);
		if (n_labels - 8 != count)
			return mg_err_set(e, n_labels - 8 < count ? MG_E_TRUNC : MG_E_CORRUPT,
					  "the labels file holds %zu label bytes after offset 8, not %u", n_labels - 8, count);
	}
	for (uint32_t i = 0; i < count; i++) {
		mg_image im;
		if ((rc = mg_image_alloc(&im, cols, rows, 1, e)))
			return rc;
		memcpy(im.pixels, p + 16 + i * bytes, bytes);
		if (labels)
			im.label = labels[8 + i];
		if ((rc = mg_image_list_push(l, &im, e))) {
			mg_image_free(&im);
			return rc;
		}
	}
	return MG_OK;
}
