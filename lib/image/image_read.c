/* Image files: whole-file reading through zlib's gzread (which passes plain
 * files through), format detection and the readers' dispatch. */
#include "image/image_read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image/cifar.h"
#include "image/idx.h"
#include "image/pngfile.h"
#include "image/pnm.h"

const char *mg_image_read_format_name(int format)
{
	switch (format) {
	case MG_IMAGE_READ_AUTO: return "auto";
	case MG_IMAGE_READ_CIFAR: return "cifar";
	case MG_IMAGE_READ_PNG: return "png";
	case MG_IMAGE_READ_PNM: return "pnm";
	case MG_IMAGE_READ_IDX: return "idx";
	}
	return "unknown";
}

int mg_image_read_detect(const uint8_t *p, size_t n, int *format, mg_err *e)
{
	if (n >= 8 && !memcmp(p, mg_pngfile_magic, 8))
		*format = MG_IMAGE_READ_PNG;
	else if (n >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6'))
		*format = MG_IMAGE_READ_PNM;
	else if (n >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 8 && p[3] == 3)
		*format = MG_IMAGE_READ_IDX;
	else {
		int cifar = n > 0 && n % MG_CIFAR_RECORD == 0;
		for (size_t off = 0; cifar && off < n; off += MG_CIFAR_RECORD)
			cifar = p[off] <= 9;
		if (!cifar)
			return mg_err_set(e, MG_E_MAGIC, "not an image file (PNG, PPM/PGM, IDX or CIFAR-10 batch)");
		*format = MG_IMAGE_READ_CIFAR;
	}
	return MG_OK;
}

int mg_image_read_file(const char *path, uint8_t **p, size_t *n, mg_err *e)
{
	gzFile g;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = MG_OK;

	*p = NULL;
	*n = 0;
	errno = 0;
	if (!(g = gzopen(path, "rb")))
		return mg_err_set(e, errno ? MG_E_IO : MG_E_NOMEM, "%s", errno ? strerror(errno) : "out of memory");
	gzbuffer(g, 1 << 16);
	for (;;) {
		int got;
		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 1 << 16;
			uint8_t *nb;
			if (cap >= MG_IMAGE_FILE_MAX) {
				rc = mg_err_set(e, MG_E_LIMIT, "the file is over %zu bytes", MG_IMAGE_FILE_MAX);
				break;
			}
			if (ncap > MG_IMAGE_FILE_MAX)
				ncap = MG_IMAGE_FILE_MAX;
			if (!(nb = realloc(buf, ncap))) {
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap = ncap;
		}
		got = gzread(g, buf + len, (unsigned)(cap - len < (1u << 30) ? cap - len : (1u << 30)));
		if (got < 0) {
			int zerr;
			const char *msg = gzerror(g, &zerr);
			rc = zerr == Z_ERRNO ? mg_err_set(e, MG_E_IO, "%s", strerror(errno))
					     : mg_err_set(e, MG_E_CORRUPT, "bad gzip data after %zu bytes: %s", len, msg);
			break;
		}
		if (got == 0) {
			int zerr;
			const char *msg = gzerror(g, &zerr);
			if (zerr == Z_BUF_ERROR)
				rc = mg_err_set(e, MG_E_TRUNC, "truncated gzip data after %zu bytes: %s", len, msg);
			break;
		}
		len += (size_t)got;
	}
	gzclose(g);
	if (rc) {
		free(buf);
		return rc;
	}
	*p = buf;
	*n = len;
	return MG_OK;
}

int mg_image_read_path(const char *path, int format, const char *labels_path, mg_image_list *l, mg_err *e)
{
	uint8_t *p, *lab = NULL;
	size_t n, n_lab = 0;
	int rc;

	if ((rc = mg_image_read_file(path, &p, &n, e)))
		return rc;
	if (format == MG_IMAGE_READ_AUTO && (rc = mg_image_read_detect(p, n, &format, e)))
		goto out;
	if (labels_path && format != MG_IMAGE_READ_IDX) {
		rc = mg_err_set(e, MG_E_INVAL, "a labels file is only for IDX images (this is %s)",
				mg_image_read_format_name(format));
		goto out;
	}
	if (labels_path && (rc = mg_image_read_file(labels_path, &lab, &n_lab, e))) {
		mg_err_prefix(e, "%s: ", labels_path);
		goto out;
	}
	switch (format) {
	case MG_IMAGE_READ_CIFAR: rc = mg_cifar_parse(p, n, l, e); break;
	case MG_IMAGE_READ_PNM: rc = mg_pnm_parse(p, n, l, e); break;
	case MG_IMAGE_READ_IDX: rc = mg_idx_parse(p, n, lab, n_lab, l, e); break;
	case MG_IMAGE_READ_PNG: {
		mg_image im;
		if (!(rc = mg_pngfile_read(p, n, &im, e)) && (rc = mg_image_list_push(l, &im, e)))
			mg_image_free(&im);
		break;
	}
	default: rc = mg_err_set(e, MG_E_INVAL, "unknown image format %d", format);
	}
out:
	free(p);
	free(lab);
	return rc;
}
