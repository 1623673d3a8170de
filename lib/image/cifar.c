/* CIFAR-10 binary batches to images: planar RGB to interleaved. */
#include "image/cifar.h"

int mg_cifar_parse(const uint8_t *p, size_t n, mg_image_list *l, mg_err *e)
{
	const size_t plane = MG_CIFAR_SIDE * MG_CIFAR_SIDE;

	if (n == 0)
		return mg_err_set(e, MG_E_TRUNC, "empty file (a CIFAR-10 record is %u bytes)", MG_CIFAR_RECORD);
	if (n % MG_CIFAR_RECORD)
		return mg_err_set(e, MG_E_TRUNC, "truncated CIFAR-10 record at offset %zu (%zu of %u bytes)",
				  n - n % MG_CIFAR_RECORD, n % MG_CIFAR_RECORD, MG_CIFAR_RECORD);
	for (size_t off = 0; off < n; off += MG_CIFAR_RECORD) {
		const uint8_t *r = p + off;
		mg_image im;
		int rc;
		if (r[0] > 9)
			return mg_err_set(e, MG_E_CORRUPT, "CIFAR-10 label %u at offset %zu is over 9", r[0], off);
		if ((rc = mg_image_alloc(&im, MG_CIFAR_SIDE, MG_CIFAR_SIDE, 3, e)))
			return rc;
		im.label = r[0];
		for (size_t i = 0; i < plane; i++) {
			im.pixels[3 * i] = r[1 + i];
			im.pixels[3 * i + 1] = r[1 + plane + i];
			im.pixels[3 * i + 2] = r[1 + 2 * plane + i];
		}
		if ((rc = mg_image_list_push(l, &im, e))) {
			mg_image_free(&im);
			return rc;
		}
	}
	return MG_OK;
}
