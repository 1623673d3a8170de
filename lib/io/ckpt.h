/* Checkpoints (formats/checkpoint.md): model configuration, named tensors
 * (parameters and AdamW moments), training state and the tokenizer, in one
 * compressed, checksummed member that streams through pipes. */
#ifndef MG_CKPT_H
#define MG_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "io/dtype.h"
#include "io/filemap.h"
#include "io/kv.h"
#include "io/tokenizer.h"

enum { MG_ROLE_PARAM = 0, MG_ROLE_ADAM_M = 1, MG_ROLE_ADAM_V = 2, MG_ROLE_COUNT };

#define MG_TENSOR_NAME_MAX 63
#define MG_TENSOR_DIMS_MAX 4
#define MG_TENSOR_ELEMS_MAX (1ull << 36)
#define MG_TENSORS_MAX 65536
#define MG_CKPT_CHUNK_ELEMS (1u << 22) /* elements a writer puts in one chunk */

typedef struct mg_ckpt_tensor {
	char name[MG_TENSOR_NAME_MAX + 1];
	uint32_t role, dtype, ndim;
	uint32_t dims[MG_TENSOR_DIMS_MAX];
	uint64_t n;    /* elements: product of dims */
	/* stored encoding (little-endian), mg_dtype_bytes(dtype, n) bytes;
	 * NULL after mg_ckpt_read_index */
	uint8_t *data;
} mg_ckpt_tensor;

typedef struct mg_ckpt {
	mg_kv config; /* HEAD: model configuration */
	mg_kv train;  /* TRAI: training state (empty when has_train is 0) */
	int has_train;
	mg_tokenizer tk;
	int has_tokenizer;
	mg_ckpt_tensor *t;
	size_t n_tensors;
	/* mg_ckpt_read_mapped: the mapping of the file that tensors' data may
	 * point into, released with the last of them */
	mg_filemap map;
} mg_ckpt;

/* Reads one checkpoint member and checks that nothing follows it. Every
 * tensor's data is its own malloc'd block. */
int mg_ckpt_read(FILE *f, mg_ckpt *ck, mg_err *e);
/* mg_ckpt_read for loading a model at the speed of memory: when f is a
 * regular file it is mapped (io/filemap.h), and the data of each tensor
 * stored plain in one piece points into the mapping, read-only, checked by
 * its CRC but never copied; the rest is read as mg_ckpt_read reads it (a
 * pipe is read as it flows). Such data must not be written or freed: give
 * it back with mg_ckpt_drop_data or mg_ckpt_free. The bytes are those the
 * CRC checked unless the file is rewritten in place while mapped (mygpt's
 * writers replace files by renaming). */
int mg_ckpt_read_mapped(FILE *f, mg_ckpt *ck, mg_err *e);
/* Frees the data of every tensor (once a model holds its own copy); the
 * names, types and shapes stay. */
void mg_ckpt_drop_data(mg_ckpt *ck);
/* The tensors' names, roles, types and shapes with their data NULL, in the
 * memory of one chunk (mygpt-info). full: the checks of mg_ckpt_read, every
 * piece decompressed; 0: every CRC and the structure are checked, but of
 * each TENS payload only the header is decompressed (the time of reading
 * the file, several times less than decompressing it). */
int mg_ckpt_read_index(FILE *f, mg_ckpt *ck, int full, mg_err *e);
void mg_ckpt_free(mg_ckpt *ck);
const mg_ckpt_tensor *mg_ckpt_find(const mg_ckpt *ck, const char *name, uint32_t role);
const char *mg_ckpt_role_name(uint32_t role); /* "param", "adam_m", "adam_v" */
/* Removes every tensor of role from ck (freeing its data); the others keep
 * their order. */
void mg_ckpt_drop_role(mg_ckpt *ck, uint32_t role);

typedef struct mg_ckptw mg_ckptw;

/* Writes preamble, HEAD (config), the tokenizer and the training state;
 * tk and train may be NULL. */
int mg_ckptw_open(mg_ckptw **w, FILE *f, const mg_kv *config, const mg_tokenizer *tk, const mg_kv *train,
		  int level, mg_err *e);
/* Writes one tensor from fp32 values, stored as dtype. Names are 1-63 of
 * [A-Za-z0-9_.]; (name, role) pairs are unique. */
int mg_ckptw_tensor(mg_ckptw *w, const char *name, uint32_t role, uint32_t dtype, uint32_t ndim,
		    const uint32_t *dims, const float *data, mg_err *e);
/* The same from the elements as stored (mg_dtype_bytes(dtype, n) bytes,
 * little-endian), written as they are. */
int mg_ckptw_tensor_raw(mg_ckptw *w, const char *name, uint32_t role, uint32_t dtype, uint32_t ndim,
			const uint32_t *dims, const uint8_t *data, mg_err *e);
/* Writes the TAIL and frees w (also on error). */
int mg_ckptw_close(mg_ckptw *w, mg_err *e);
void mg_ckptw_free(mg_ckptw *w);

/* Writes ck as one checkpoint (its HEAD, tokenizer, training state when
 * has_train, and every tensor as stored, in its order) at zlib level level
 * (lib/io/ckpt_write.c). */
int mg_ckpt_write(FILE *f, const mg_ckpt *ck, int level, mg_err *e);

#endif
