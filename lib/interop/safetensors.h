/* The safetensors container (formats/safetensors.md): a strict validating
 * reader, every structure checked before any large allocation, and a
 * writer. Names and tensors are generic here; interop/st_convert.h maps
 * them to the GPT model. */
#ifndef MG_SAFETENSORS_H
#define MG_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

#define MG_SAFETENSORS_HEADER_MAX 100000000u /* bytes of JSON: safetensors' own limit */
#define MG_SAFETENSORS_RANK_MAX 8
#define MG_SAFETENSORS_TENSORS_MAX 1000000u
#define MG_SAFETENSORS_BYTES_MAX (1ull << 40) /* of one tensor */

typedef struct mg_safetensors_tensor {
	char *name;         /* NUL-terminated UTF-8, owned */
	size_t name_len;
	uint32_t dtype;     /* MG_DTYPE_F32, MG_DTYPE_F16 or MG_DTYPE_BF16 (io/dtype.h) */
	uint32_t rank;      /* 0 (a scalar) to MG_SAFETENSORS_RANK_MAX */
	uint64_t shape[MG_SAFETENSORS_RANK_MAX];
	uint64_t n;         /* elements: the product of the shape (1 for a scalar) */
	uint64_t begin, end; /* data_offsets: bytes within the data section */
	uint8_t *data;      /* end - begin bytes, little-endian as stored; NULL when empty */
	int owned;          /* data is freed by mg_safetensors_free */
} mg_safetensors_tensor;

typedef struct mg_safetensors {
	mg_safetensors_tensor *t; /* in the order of their data */
	size_t n;
	char **meta_keys, **meta_vals; /* __metadata__: n_meta NUL-terminated strings each */
	size_t n_meta;
	uint64_t data_len;        /* bytes of the data section */
} mg_safetensors;

/* Reads a whole file from f (a pipe is fine): the 8-byte header length (at
 * most MG_SAFETENSORS_HEADER_MAX), the JSON header, then the data into one
 * buffer per tensor; nothing may follow the data. The checks, each a
 * message naming the tensor: header length over the limit or past the
 * file; the JSON grammar; a tensor entry of exactly dtype, shape and
 * data_offsets; dtype F32, F16 or BF16; data_offsets that give exactly
 * shape x dtype bytes; offsets contiguous from 0 (no hole, no overlap);
 * unique names; __metadata__ an object of strings; and for a regular file
 * its size equal to 8 + header + data (so a truncated or padded file is
 * refused before the tensors are allocated). MG_E_LIMIT, MG_E_CORRUPT,
 * MG_E_UNSUPPORTED (a dtype outside the three), MG_E_TRUNC, MG_E_IO,
 * MG_E_NOMEM. */
int mg_safetensors_read(FILE *f, mg_safetensors *st, mg_err *e);
/* The same checks on a file held in memory at any alignment: each tensor's
 * data is copied into an aligned buffer of its own. */
int mg_safetensors_parse(const uint8_t *buf, size_t len, mg_safetensors *st, mg_err *e);
/* The header alone: json of n bytes, the tensors' data NULL. */
int mg_safetensors_parse_header(const uint8_t *json, size_t n, mg_safetensors *st, mg_err *e);
void mg_safetensors_free(mg_safetensors *st);

const mg_safetensors_tensor *mg_safetensors_find(const mg_safetensors *st, const char *name);
/* The __metadata__ value of key, or NULL. */
const char *mg_safetensors_meta(const mg_safetensors *st, const char *key);

/* Writes st: the header (the metadata first, then the tensors in st's
 * order, each at the next offset; padded with spaces to a multiple of 8
 * bytes, so the data starts aligned), then each tensor's bytes. The
 * begin, end and n fields are ignored (recomputed from dtype and shape);
 * data must hold the bytes shape x dtype gives. MG_E_INVAL for a dtype
 * outside the three, a rank over the limit or a name that is not
 * UTF-8; MG_E_IO; MG_E_NOMEM. */
int mg_safetensors_write(FILE *f, const mg_safetensors *st, mg_err *e);

/* Adds a metadata pair (copies both); MG_E_NOMEM. */
int mg_safetensors_meta_add(mg_safetensors *st, const char *key, const char *val, mg_err *e);
/* Adds a tensor after the others (begin, end and data_len as the writer
 * will lay them out); its data is borrowed (owned 0) unless the caller
 * sets owned. The name is copied. MG_E_NOMEM. */
int mg_safetensors_add(mg_safetensors *st, const char *name, uint32_t dtype, uint32_t rank, const uint64_t *shape,
		       uint8_t *data, mg_err *e);

#endif
