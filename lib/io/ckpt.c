/* Checkpoint reader and writer: the byte layout of formats/checkpoint.md. */
#include "io/ckpt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/chunk.h"

const char *mg_ckpt_role_name(uint32_t role)
{
	static const char *names[] = { "param", "adam_m", "adam_v" };
	return role < MG_ROLE_COUNT ? names[role] : "unknown";
}

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > MG_TENSOR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/* ---------------------------------------------------------------- writer */

struct mg_ckptw {
	FILE *f;
	int level;
	uint32_t tensors;
	uint64_t elems, chunks;
	mg_buf raw, packed;
	uint8_t *enc;
	size_t enc_cap;
};

void mg_ckptw_free(mg_ckptw *w)
{
	if (!w)
		return;
	mg_buf_free(&w->raw);
	mg_buf_free(&w->packed);
	free(w->enc);
	free(w);
}

static int emit(mg_ckptw *w, const char *type, uint32_t flags, mg_err *e)
{
	int rc;

	if (w->raw.oom)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	w->packed.len = 0;
	rc = mg_chunk_pack(&w->packed, type, flags, w->raw.data, w->raw.len, w->level, e);
	if (!rc)
		rc = mg_write_all(w->f, w->packed.data, w->packed.len, e);
	w->raw.len = 0;
	return rc;
}

int mg_ckptw_open(mg_ckptw **out, FILE *f, const mg_kv *config, const mg_tokenizer *tk, const mg_kv *train,
		  int level, mg_err *e)
{
	mg_ckptw *w = calloc(1, sizeof *w);
	int rc;

	*out = NULL;
	if (!w)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	w->f = f;
	w->level = level;
	rc = mg_member_write_start(f, mg_magic_checkpoint, e);
	if (!rc) {
		mg_kv_pack(config, &w->raw);
		rc = emit(w, "HEAD", MG_CHUNK_ZLIB, e);
	}
	if (!rc && tk) {
		rc = mg_tokenizer_pack(tk, &w->raw, e);
		if (!rc)
			rc = emit(w, "VOCB", MG_CHUNK_ANCILLARY, e);
	}
	if (!rc && train) {
		mg_kv_pack(train, &w->raw);
		rc = emit(w, "TRAI", MG_CHUNK_ANCILLARY | MG_CHUNK_ZLIB, e);
	}
	if (rc) {
		mg_ckptw_free(w);
		return rc;
	}
	*out = w;
	return MG_OK;
}

/* The checks of a tensor to write; its element count in *n. */
static int tensor_ok(const char *name, size_t nl, uint32_t role, uint32_t dtype, uint32_t ndim, const uint32_t *dims,
		     uint64_t *n, mg_err *e)
{
	if (!name_ok(name, nl) || role >= MG_ROLE_COUNT || dtype >= MG_DTYPE_COUNT || ndim < 1 ||
	    ndim > MG_TENSOR_DIMS_MAX)
		return mg_err_set(e, MG_E_INVAL, "invalid tensor '%s'", name);
	*n = 1;
	for (uint32_t i = 0; i < ndim; i++)
		*n *= dims[i];
	if (*n == 0 || *n > MG_TENSOR_ELEMS_MAX)
		return mg_err_set(e, MG_E_INVAL, "tensor '%s' has %llu elements", name, (unsigned long long)*n);
	if (dtype == MG_DTYPE_Q8 && dims[ndim - 1] % MG_Q8_BLOCK)
		return mg_err_set(e, MG_E_INVAL, "tensor '%s': q8 needs a last dimension divisible by %d", name,
				  MG_Q8_BLOCK);
	return MG_OK;
}

/* One TENS piece: the header of elements off..off+cnt, then their bytes as
 * stored; the payload plain unless zlib saves a quarter of it. */
static int write_piece(mg_ckptw *w, const char *name, size_t nl, uint32_t role, uint32_t dtype, uint32_t ndim,
		       const uint32_t *dims, uint64_t off, uint64_t cnt, const uint8_t *body, mg_err *e)
{
	int rc;

	mg_buf_u8(&w->raw, (uint8_t)role);
	mg_buf_u8(&w->raw, (uint8_t)dtype);
	mg_buf_u8(&w->raw, (uint8_t)ndim);
	mg_buf_u8(&w->raw, 0);
	mg_buf_u8(&w->raw, (uint8_t)nl);
	mg_buf_add(&w->raw, name, nl);
	for (uint32_t i = 0; i < ndim; i++)
		mg_buf_u32(&w->raw, dims[i]);
	mg_buf_u64(&w->raw, off);
	mg_buf_u64(&w->raw, cnt);
	rc = w->raw.oom ? mg_err_set(e, MG_E_NOMEM, "out of memory")
			: mg_chunk_write_bulk(w->f, "TENS", MG_CHUNK_ZLIB, w->raw.data, w->raw.len, body,
					      (size_t)mg_dtype_bytes(dtype, cnt), w->level, NULL, e);
	w->raw.len = 0;
	if (!rc)
		w->chunks++;
	return rc;
}

int mg_ckptw_tensor(mg_ckptw *w, const char *name, uint32_t role, uint32_t dtype, uint32_t ndim,
		    const uint32_t *dims, const float *data, mg_err *e)
{
	uint64_t n, step = MG_CKPT_CHUNK_ELEMS;
	size_t nl = strlen(name);
	int rc;

	if ((rc = tensor_ok(name, nl, role, dtype, ndim, dims, &n, e)))
		return rc;
	for (uint64_t off = 0; off < n; off += step) {
		uint64_t cnt = n - off < step ? n - off : step;
		uint64_t bytes = mg_dtype_bytes(dtype, cnt);
		const uint8_t *body = w->enc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (dtype == MG_DTYPE_F32) /* stored as it is in memory */
			body = (const uint8_t *)(data + off);
		else
#endif
		{
			if (w->enc_cap < bytes) {
				free(w->enc);
				w->enc = malloc((size_t)bytes);
				w->enc_cap = w->enc ? (size_t)bytes : 0;
				if (!w->enc)
					return mg_err_set(e, MG_E_NOMEM, "out of memory");
			}
			mg_dtype_encode(dtype, data + off, cnt, w->enc);
			body = w->enc;
		}
		if ((rc = write_piece(w, name, nl, role, dtype, ndim, dims, off, cnt, body, e)))
			return rc;
	}
	w->tensors++;
	w->elems += n;
	return MG_OK;
}

/* The pieces of mg_ckptw_tensor, with the elements as stored (so a q8
 * tensor is copied, never quantized again). */
int mg_ckptw_tensor_raw(mg_ckptw *w, const char *name, uint32_t role, uint32_t dtype, uint32_t ndim,
			const uint32_t *dims, const uint8_t *data, mg_err *e)
{
	uint64_t n, step = MG_CKPT_CHUNK_ELEMS;
	size_t nl = strlen(name);
	int rc;

	if ((rc = tensor_ok(name, nl, role, dtype, ndim, dims, &n, e)))
		return rc;
	for (uint64_t off = 0; off < n; off += step) {
		uint64_t cnt = n - off < step ? n - off : step;
		if ((rc = write_piece(w, name, nl, role, dtype, ndim, dims, off, cnt, data + mg_dtype_bytes(dtype, off),
				      e)))
			return rc;
	}
	w->tensors++;
	w->elems += n;
	return MG_OK;
}

int mg_ckptw_close(mg_ckptw *w, mg_err *e)
{
	int rc;

	mg_buf_u32(&w->raw, w->tensors);
	mg_buf_u32(&w->raw, 0);
	mg_buf_u64(&w->raw, w->elems);
	mg_buf_u64(&w->raw, w->chunks);
	rc = emit(w, "TAIL", 0, e);
	mg_ckptw_free(w);
	return rc;
}

/* ---------------------------------------------------------------- reader */

/* Frees a tensor's data unless it lies in the file's mapping. */
static void free_data(mg_ckpt *ck, mg_ckpt_tensor *t)
{
	if (!mg_filemap_holds(&ck->map, t->data))
		free(t->data);
	t->data = NULL;
}

void mg_ckpt_drop_data(mg_ckpt *ck)
{
	for (size_t i = 0; i < ck->n_tensors; i++)
		free_data(ck, &ck->t[i]);
	mg_filemap_close(&ck->map);
}

void mg_ckpt_free(mg_ckpt *ck)
{
	mg_kv_free(&ck->config);
	mg_kv_free(&ck->train);
	if (ck->has_tokenizer)
		mg_tokenizer_free(&ck->tk);
	mg_ckpt_drop_data(ck);
	free(ck->t);
	memset(ck, 0, sizeof *ck);
}

const mg_ckpt_tensor *mg_ckpt_find(const mg_ckpt *ck, const char *name, uint32_t role)
{
	for (size_t i = 0; i < ck->n_tensors; i++)
		if (ck->t[i].role == role && !strcmp(ck->t[i].name, name))
			return &ck->t[i];
	return NULL;
}

void mg_ckpt_drop_role(mg_ckpt *ck, uint32_t role)
{
	size_t k = 0;

	for (size_t i = 0; i < ck->n_tensors; i++) {
		if (ck->t[i].role != role)
			ck->t[k++] = ck->t[i];
		else
			free_data(ck, &ck->t[i]);
	}
	ck->n_tensors = k;
}

#define AT(c) (unsigned long long)(c).offset

/* How read_member treats the elements of TENS chunks. */
enum { TENS_KEEP, TENS_CHECK, TENS_SKIM };
/* Bytes of the longest TENS header: role to rank, name length, name, dims,
 * offset and count. */
#define TENS_HEAD_MAX (5 + MG_TENSOR_NAME_MAX + 4 * MG_TENSOR_DIMS_MAX + 16)

/* The header of one TENS chunk (hb: its first hlen bytes, c->raw_len the
 * payload's size), which starts a tensor (elem offset 0) or continues the
 * last one: *t is that tensor, the piece's elements go at byte *at of its
 * data and are *n bytes. */
static int read_tens(mg_ckpt *ck, const mg_chunk *c, const uint8_t *hb, size_t hlen, uint64_t *filled,
		     mg_ckpt_tensor **tp, size_t *at, size_t *n, mg_err *e)
{
	mg_cur cur = mg_cur_init(hb, hlen);
	mg_ckpt_tensor h, *t;
	uint8_t nl, resv;
	const uint8_t *nm;
	uint64_t off, cnt, bytes, left;

	memset(&h, 0, sizeof h);
	h.role = mg_cur_u8(&cur);
	h.dtype = mg_cur_u8(&cur);
	h.ndim = mg_cur_u8(&cur);
	resv = mg_cur_u8(&cur);
	nl = mg_cur_u8(&cur);
	nm = mg_cur_take(&cur, nl);
	if (!nm || !name_ok((const char *)nm, nl))
		return mg_err_set(e, MG_E_CORRUPT, "bad tensor name");
	memcpy(h.name, nm, nl);
	if (h.role >= MG_ROLE_COUNT || h.dtype >= MG_DTYPE_COUNT || h.ndim < 1 || h.ndim > MG_TENSOR_DIMS_MAX || resv)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' has a bad role, type, rank or reserved byte", h.name);
	h.n = 1;
	for (uint32_t i = 0; i < h.ndim; i++) {
		h.dims[i] = mg_cur_u32(&cur);
		if (h.dims[i] == 0)
			return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' has a zero dimension", h.name);
		h.n *= h.dims[i];
		if (h.n > MG_TENSOR_ELEMS_MAX)
			return mg_err_set(e, MG_E_LIMIT, "tensor '%s' is over %llu elements", h.name,
					  (unsigned long long)MG_TENSOR_ELEMS_MAX);
	}
	off = mg_cur_u64(&cur);
	cnt = mg_cur_u64(&cur);
	if (!mg_cur_ok(&cur))
		return mg_err_set(e, MG_E_CORRUPT, "tensor header too short");
	if (h.dtype == MG_DTYPE_Q8 && (h.dims[h.ndim - 1] % MG_Q8_BLOCK || off % MG_Q8_BLOCK || cnt % MG_Q8_BLOCK))
		return mg_err_set(e, MG_E_CORRUPT, "q8 tensor '%s' is not in whole blocks", h.name);
	if (cnt == 0 || cnt > h.n || off > h.n - cnt)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' piece %llu+%llu is outside its %llu elements", h.name,
				  (unsigned long long)off, (unsigned long long)cnt, (unsigned long long)h.n);
	bytes = mg_dtype_bytes(h.dtype, cnt);
	left = (uint64_t)c->raw_len - cur.pos;
	if (left != bytes)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' piece has %llu bytes, expected %llu", h.name,
				  (unsigned long long)left, (unsigned long long)bytes);
	if (off == 0) {
		mg_ckpt_tensor *nt;
		if (ck->n_tensors && *filled != ck->t[ck->n_tensors - 1].n)
			return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' starts before '%s' is complete", h.name,
					  ck->t[ck->n_tensors - 1].name);
		if (mg_ckpt_find(ck, h.name, h.role))
			return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' (%s) appears twice", h.name, mg_ckpt_role_name(h.role));
		if (ck->n_tensors >= MG_TENSORS_MAX)
			return mg_err_set(e, MG_E_LIMIT, "more than %u tensors", MG_TENSORS_MAX);
		nt = realloc(ck->t, (ck->n_tensors + 1) * sizeof *nt);
		if (!nt)
			return mg_err_set(e, MG_E_NOMEM, "out of memory");
		ck->t = nt;
		ck->t[ck->n_tensors++] = h;
		*filled = 0;
	}
	if (!ck->n_tensors)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' continues a tensor that never started", h.name);
	t = &ck->t[ck->n_tensors - 1];
	if (strcmp(t->name, h.name) || t->role != h.role || t->dtype != h.dtype || t->ndim != h.ndim ||
	    memcmp(t->dims, h.dims, sizeof h.dims) || off != *filled)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%s' piece at element %llu does not continue '%s'", h.name,
				  (unsigned long long)off, t->name);
	*tp = t;
	*at = (size_t)mg_dtype_bytes(t->dtype, *filled);
	*n = (size_t)bytes;
	*filled += cnt;
	return MG_OK;
}

/* One TENS chunk after its chunk header: its header, then its elements read
 * straight into the tensor's data (TENS_KEEP; with a mapped file, a tensor
 * stored plain in one piece is not even copied: its data points at its
 * bytes in the mapping), checked and dropped (TENS_CHECK) or, when
 * compressed, left compressed (TENS_SKIM). A fault the header shows is
 * reported only when the chunk's CRC holds. */
static int read_tens_chunk(mg_chunk_reader *cr, mg_ckpt *ck, const mg_chunk *c, uint64_t *filled, int tens,
			   int mapped, mg_err *e)
{
	uint8_t hb[TENS_HEAD_MAX];
	size_t hlen = c->raw_len < 5 ? c->raw_len : 5, at = 0, n = 0;
	mg_ckpt_tensor *t = NULL;
	mg_err e2, e3;
	int rc, rc3;

	if ((rc = mg_chunk_payload_begin(cr, c, e)) || (rc = mg_chunk_payload_get(cr, c, hb, hlen, e)))
		return rc;
	if (hlen == 5 && hb[4] <= MG_TENSOR_NAME_MAX) {
		/* the name, and the dims, offset and count of a valid rank */
		size_t more = hb[4] + (hb[2] >= 1 && hb[2] <= MG_TENSOR_DIMS_MAX ? 4u * hb[2] + 16 : 0);
		if (more > c->raw_len - hlen)
			more = c->raw_len - hlen;
		if ((rc = mg_chunk_payload_get(cr, c, hb + hlen, more, e)))
			return rc;
		hlen += more;
	}
	if ((rc = read_tens(ck, c, hb, hlen, filled, &t, &at, &n, &e2))) {
		mg_err_prefix(&e2, "chunk 'TENS' at byte %llu: ", AT(*c));
		rc3 = mg_chunk_payload_end(cr, c, 0, &e3);
		if (e)
			*e = rc3 ? e3 : e2;
		return rc3 ? rc3 : rc;
	}
	if (tens == TENS_KEEP) {
		const uint8_t *v = NULL;
		uint8_t *p;
		if (mapped && at == 0 && n == mg_dtype_bytes(t->dtype, t->n) &&
		    (rc = mg_chunk_payload_view(cr, c, &v, n, e)))
			return rc;
		if (v) {
			t->data = (uint8_t *)v;
		} else {
			/* grow by the piece, whose size the chunk header bounds
			 * (64 MiB), never by the tensor's declared size */
			if (!(p = realloc(t->data, at + n)))
				return mg_err_set(e, MG_E_NOMEM, "out of memory for tensor '%s'", t->name);
			t->data = p;
			if ((rc = mg_chunk_payload_get(cr, c, p + at, n, e)))
				return rc;
		}
	}
	return mg_chunk_payload_end(cr, c, tens == TENS_CHECK, e);
}

/* map: read a regular file through a mapping (ck->map), kept with TENS_KEEP
 * while tensors point into it. */
static int read_member(FILE *f, mg_ckpt *ck, int tens, int map, mg_err *e)
{
	mg_chunk_reader cr;
	mg_chunk c;
	uint16_t minor;
	uint64_t filled = 0, elems = 0, chunks = 0;
	int rc, eof, seen_tens = 0, mapped;

	memset(ck, 0, sizeof *ck);
	mapped = map && mg_filemap_open(&ck->map, f);
	if (mapped)
		mg_chunk_reader_init_mem(&cr, (const uint8_t *)ck->map.base + ck->map.start,
					 ck->map.len - ck->map.start);
	else
		mg_chunk_reader_init(&cr, f);
	if ((rc = mg_member_read_start(&cr, mg_magic_checkpoint, &minor, e)))
		goto fail;
	if ((rc = mg_chunk_read(&cr, &c, e)))
		goto fail;
	if (strcmp(c.type, "HEAD")) {
		rc = mg_err_set(e, MG_E_CORRUPT, "first chunk at byte %llu is '%s', not 'HEAD'", AT(c), c.type);
		goto fail;
	}
	if ((rc = mg_kv_parse(c.data, c.len, &ck->config, e))) {
		mg_err_prefix(e, "chunk 'HEAD' at byte %llu: ", AT(c));
		goto fail;
	}
	for (;;) {
		if ((rc = mg_chunk_read_header(&cr, &c, e)))
			goto fail;
		if (!strcmp(c.type, "TENS")) {
			seen_tens = 1;
			chunks++;
			if ((rc = read_tens_chunk(&cr, ck, &c, &filled, tens, mapped, e)))
				goto fail;
			continue;
		}
		if ((rc = mg_chunk_read_payload(&cr, &c, SIZE_MAX, e)))
			goto fail;
		if (!strcmp(c.type, "TAIL"))
			break;
		if (!strcmp(c.type, "VOCB") && !seen_tens && !ck->has_tokenizer && !ck->has_train) {
			if ((rc = mg_tokenizer_parse(c.data, c.len, &ck->tk, e))) {
				mg_err_prefix(e, "tokenizer in chunk 'VOCB' at byte %llu: ", AT(c));
				goto fail;
			}
			ck->has_tokenizer = 1;
		} else if (!strcmp(c.type, "TRAI") && !seen_tens && !ck->has_train) {
			if ((rc = mg_kv_parse(c.data, c.len, &ck->train, e))) {
				mg_err_prefix(e, "chunk 'TRAI' at byte %llu: ", AT(c));
				goto fail;
			}
			ck->has_train = 1;
		} else if (!strcmp(c.type, "HEAD") || !strcmp(c.type, "VOCB") || !strcmp(c.type, "TRAI") ||
			   !(c.flags & MG_CHUNK_ANCILLARY)) {
			rc = mg_err_set(e, MG_E_CORRUPT, "chunk '%s' at byte %llu is unknown or out of place", c.type, AT(c));
			goto fail;
		}
	}
	if (ck->n_tensors && filled != ck->t[ck->n_tensors - 1].n) {
		rc = mg_err_set(e, MG_E_CORRUPT, "tensor '%s' is incomplete at byte %llu", ck->t[ck->n_tensors - 1].name,
				AT(c));
		goto fail;
	}
	for (size_t i = 0; i < ck->n_tensors; i++)
		elems += ck->t[i].n;
	if (c.len != 24 || mg_le32_get(c.data) != ck->n_tensors || mg_le32_get(c.data + 4) != 0 ||
	    mg_le64_get(c.data + 8) != elems || mg_le64_get(c.data + 16) != chunks) {
		rc = mg_err_set(e, MG_E_CORRUPT, "'TAIL' at byte %llu does not match the %zu tensors read (a chunk is missing)",
				AT(c), ck->n_tensors);
		goto fail;
	}
	if ((rc = mg_rd_at_eof(&cr.rd, &eof, e)))
		goto fail;
	if (!eof) {
		rc = mg_err_set(e, MG_E_CORRUPT, "stray data after the checkpoint at byte %llu",
				(unsigned long long)cr.rd.off);
		goto fail;
	}
	mg_chunk_reader_free(&cr);
	if (mapped) {
		int kept = 0;
		mg_filemap_skip(&ck->map, f, cr.rd.off);
		for (size_t i = 0; i < ck->n_tensors && !kept; i++)
			kept = mg_filemap_holds(&ck->map, ck->t[i].data);
		if (!kept)
			mg_filemap_close(&ck->map);
	}
	return MG_OK;
fail:
	mg_chunk_reader_free(&cr);
	mg_ckpt_free(ck);
	return rc;
}

int mg_ckpt_read(FILE *f, mg_ckpt *ck, mg_err *e) { return read_member(f, ck, TENS_KEEP, 0, e); }

int mg_ckpt_read_mapped(FILE *f, mg_ckpt *ck, mg_err *e) { return read_member(f, ck, TENS_KEEP, 1, e); }

/* Mapped: the CRCs run over the page cache, and no payload is copied. */
int mg_ckpt_read_index(FILE *f, mg_ckpt *ck, int full, mg_err *e)
{
	return read_member(f, ck, full ? TENS_CHECK : TENS_SKIM, 1, e);
}
