/* The safetensors container: the header's checks, reading from a stream or
 * from memory, and writing. */
#include "interop/safetensors.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/bytes.h"
#include "interop/st_json.h"
#include "io/dtype.h"

static const struct {
	const char *name;
	uint32_t dtype, bytes;
} dtypes[] = { { "F32", MG_DTYPE_F32, 4 }, { "F16", MG_DTYPE_F16, 2 }, { "BF16", MG_DTYPE_BF16, 2 } };

static const char *dtype_name(uint32_t dtype)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
		if (dtypes[i].dtype == dtype)
			return dtypes[i].name;
	return NULL;
}

static uint32_t dtype_bytes(uint32_t dtype)
{
	for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
		if (dtypes[i].dtype == dtype)
			return dtypes[i].bytes;
	return 0;
}

void mg_safetensors_free(mg_safetensors *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->t[i].name);
		if (st->t[i].owned)
			free(st->t[i].data);
	}
	for (size_t i = 0; i < st->n_meta; i++) {
		free(st->meta_keys[i]);
		free(st->meta_vals[i]);
	}
	free(st->t);
	free(st->meta_keys);
	free(st->meta_vals);
	memset(st, 0, sizeof *st);
}

const mg_safetensors_tensor *mg_safetensors_find(const mg_safetensors *st, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < st->n; i++)
		if (st->t[i].name_len == l && !memcmp(st->t[i].name, name, l))
			return &st->t[i];
	return NULL;
}

const char *mg_safetensors_meta(const mg_safetensors *st, const char *key)
{
	for (size_t i = 0; i < st->n_meta; i++)
		if (!strcmp(st->meta_keys[i], key))
			return st->meta_vals[i];
	return NULL;
}

int mg_safetensors_meta_add(mg_safetensors *st, const char *key, const char *val, mg_err *e)
{
	char **k = realloc(st->meta_keys, (st->n_meta + 1) * sizeof *k), **v;

	if (k)
		st->meta_keys = k;
	v = k ? realloc(st->meta_vals, (st->n_meta + 1) * sizeof *v) : NULL;
	if (v)
		st->meta_vals = v;
	if (!k || !v)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	k[st->n_meta] = strdup(key);
	v[st->n_meta] = strdup(val);
	if (!k[st->n_meta] || !v[st->n_meta]) {
		free(k[st->n_meta]), free(v[st->n_meta]);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	st->n_meta++;
	return MG_OK;
}

int mg_safetensors_add(mg_safetensors *st, const char *name, uint32_t dtype, uint32_t rank, const uint64_t *shape,
		       uint8_t *data, mg_err *e)
{
	mg_safetensors_tensor *t = realloc(st->t, (st->n + 1) * sizeof *t), *x;

	if (!t)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	st->t = t;
	x = &t[st->n];
	memset(x, 0, sizeof *x);
	if (rank > MG_SAFETENSORS_RANK_MAX)
		return mg_err_set(e, MG_E_INVAL, "tensor '%s': rank %u is over %d", name, rank, MG_SAFETENSORS_RANK_MAX);
	if (!(x->name = strdup(name)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	x->name_len = strlen(name);
	x->dtype = dtype;
	x->rank = rank;
	x->n = 1;
	for (uint32_t i = 0; i < rank; i++)
		x->shape[i] = shape[i], x->n *= shape[i];
	x->data = data;
	/* where the writer will put it: after the tensor before */
	x->begin = st->n ? st->t[st->n - 1].end : 0;
	x->end = x->begin + x->n * dtype_bytes(dtype);
	st->data_len = x->end;
	st->n++;
	return MG_OK;
}

/* ---------------------------------------------------------------- header */

static int cmp_begin(const void *a, const void *b)
{
	const mg_safetensors_tensor *x = a, *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

static int tensor_entry(const char *name, const mg_st_json *v, mg_safetensors_tensor *t, mg_err *e)
{
	const mg_st_json *dt = mg_st_json_get(v, "dtype"), *sh = mg_st_json_get(v, "shape"),
			 *off = mg_st_json_get(v, "data_offsets");
	uint64_t bytes;

	if (v->type != MG_ST_JSON_OBJECT)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': its entry is not an object", name);
	for (size_t i = 0; i < v->count; i++)
		if (strcmp(v->keys[i], "dtype") && strcmp(v->keys[i], "shape") && strcmp(v->keys[i], "data_offsets"))
			return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': unknown field '%.40s'", name, v->keys[i]);
	if (!dt || !sh || !off)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': no %s", name,
				  !dt ? "dtype" : !sh ? "shape" : "data_offsets");
	if (dt->type != MG_ST_JSON_STRING)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': dtype is not a string", name);
	t->dtype = UINT32_MAX;
	for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
		if (!strcmp(dt->s, dtypes[i].name) && strlen(dtypes[i].name) == dt->len)
			t->dtype = dtypes[i].dtype;
	if (t->dtype == UINT32_MAX)
		return mg_err_set(e, MG_E_UNSUPPORTED, "tensor '%.80s': unsupported dtype '%.20s' (F32, F16 and BF16 only)",
				  name, dt->s);
	if (sh->type != MG_ST_JSON_ARRAY)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': shape is not an array", name);
	if (sh->count > MG_SAFETENSORS_RANK_MAX)
		return mg_err_set(e, MG_E_LIMIT, "tensor '%.80s': rank %zu is over %d", name, sh->count,
				  MG_SAFETENSORS_RANK_MAX);
	t->rank = (uint32_t)sh->count;
	t->n = 1;
	for (size_t i = 0; i < sh->count; i++) {
		if (!mg_st_json_u64(&sh->items[i], &t->shape[i]))
			return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': dimension %zu is not a non-negative integer",
					  name, i);
		if (t->shape[i] && t->n > MG_SAFETENSORS_BYTES_MAX / t->shape[i])
			return mg_err_set(e, MG_E_LIMIT, "tensor '%.80s': over %llu bytes", name,
					  (unsigned long long)MG_SAFETENSORS_BYTES_MAX);
		t->n *= t->shape[i];
	}
	bytes = t->n * dtype_bytes(t->dtype);
	if (bytes > MG_SAFETENSORS_BYTES_MAX)
		return mg_err_set(e, MG_E_LIMIT, "tensor '%.80s': over %llu bytes", name,
				  (unsigned long long)MG_SAFETENSORS_BYTES_MAX);
	if (off->type != MG_ST_JSON_ARRAY || off->count != 2 || !mg_st_json_u64(&off->items[0], &t->begin) ||
	    !mg_st_json_u64(&off->items[1], &t->end))
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': data_offsets is not two non-negative integers", name);
	if (t->end < t->begin)
		return mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s': data_offsets [%llu, %llu] end before they begin", name,
				  (unsigned long long)t->begin, (unsigned long long)t->end);
	if (t->end - t->begin != bytes)
		return mg_err_set(e, MG_E_CORRUPT,
				  "tensor '%.80s': data_offsets [%llu, %llu] hold %llu bytes, shape x %s needs %llu", name,
				  (unsigned long long)t->begin, (unsigned long long)t->end,
				  (unsigned long long)(t->end - t->begin), dt->s, (unsigned long long)bytes);
	return MG_OK;
}

static int metadata(const mg_st_json *v, mg_safetensors *st, mg_err *e)
{
	if (v->type != MG_ST_JSON_OBJECT)
		return mg_err_set(e, MG_E_CORRUPT, "__metadata__ is not an object");
	for (size_t i = 0; i < v->count; i++) {
		int rc;
		if (v->items[i].type != MG_ST_JSON_STRING)
			return mg_err_set(e, MG_E_CORRUPT, "__metadata__: the value of '%.80s' is not a string", v->keys[i]);
		if (strlen(v->keys[i]) != v->key_lens[i] || strlen(v->items[i].s) != v->items[i].len)
			return mg_err_set(e, MG_E_CORRUPT, "__metadata__: '%.80s' holds a NUL character", v->keys[i]);
		if ((rc = mg_safetensors_meta_add(st, v->keys[i], v->items[i].s, e)))
			return rc;
	}
	return MG_OK;
}

/* avail: bytes of data the file holds, UINT64_MAX when unknown (a pipe). */
static int parse_header(const uint8_t *json, size_t n, uint64_t avail, mg_safetensors *st, mg_err *e)
{
	mg_st_json root;
	size_t tensors = 0;
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = mg_st_json_parse(json, n, &root, e))) {
		mg_err_prefix(e, "header: ");
		return rc;
	}
	if (root.type != MG_ST_JSON_OBJECT) {
		mg_st_json_free(&root);
		return mg_err_set(e, MG_E_CORRUPT, "header: not a JSON object");
	}
	for (size_t i = 0; i < root.count; i++)
		tensors += strcmp(root.keys[i], "__metadata__") != 0;
	if (tensors > MG_SAFETENSORS_TENSORS_MAX) {
		rc = mg_err_set(e, MG_E_LIMIT, "%zu tensors, over %u", tensors, MG_SAFETENSORS_TENSORS_MAX);
		goto out;
	}
	if (tensors && !(st->t = calloc(tensors, sizeof *st->t))) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < root.count; i++) {
		mg_safetensors_tensor *t;
		if (!strcmp(root.keys[i], "__metadata__") && root.key_lens[i] == 12) {
			if ((rc = metadata(&root.items[i], st, e)))
				goto out;
			continue;
		}
		if (!root.key_lens[i]) {
			rc = mg_err_set(e, MG_E_CORRUPT, "an empty tensor name");
			goto out;
		}
		t = &st->t[st->n];
		if ((rc = tensor_entry(root.keys[i], &root.items[i], t, e)))
			goto out;
		if (t->end > avail) {
			rc = mg_err_set(e, MG_E_TRUNC,
					"tensor '%.80s': data_offsets [%llu, %llu] are past the end of the file (it holds %llu bytes of data)",
					root.keys[i], (unsigned long long)t->begin, (unsigned long long)t->end,
					(unsigned long long)avail);
			goto out;
		}
		t->name = root.keys[i], t->name_len = root.key_lens[i];
		root.keys[i] = NULL; /* moved */
		st->n++;
	}
	/* the data section: offsets contiguous from 0, no hole, no overlap */
	qsort(st->t, st->n, sizeof *st->t, cmp_begin);
	for (size_t i = 0; i < st->n; i++) {
		uint64_t at = i ? st->t[i - 1].end : 0;
		if (st->t[i].begin > at) {
			rc = mg_err_set(e, MG_E_CORRUPT, "a hole in the data: bytes %llu to %llu before tensor '%.80s' belong to no tensor",
					(unsigned long long)at, (unsigned long long)st->t[i].begin, st->t[i].name);
			goto out;
		}
		if (st->t[i].begin < at) {
			rc = mg_err_set(e, MG_E_CORRUPT, "tensor '%.80s' (bytes %llu to %llu) overlaps tensor '%.80s'",
					st->t[i].name, (unsigned long long)st->t[i].begin, (unsigned long long)st->t[i].end,
					st->t[i - 1].name);
			goto out;
		}
	}
	st->data_len = st->n ? st->t[st->n - 1].end : 0;
out:
	mg_st_json_free(&root);
	if (rc)
		mg_safetensors_free(st);
	return rc;
}

int mg_safetensors_parse_header(const uint8_t *json, size_t n, mg_safetensors *st, mg_err *e)
{
	return parse_header(json, n, UINT64_MAX, st, e);
}

/* ---------------------------------------------------------------- reading */

/* A byte source: a stream, or memory at any alignment. */
typedef struct source {
	FILE *f;
	const uint8_t *buf;
	uint64_t len, at; /* len: the size when known, else UINT64_MAX */
} source;

static int src_read(source *s, void *dst, size_t n, const char *what, mg_err *e)
{
	size_t got;

	if (s->buf) {
		got = s->len - s->at < n ? (size_t)(s->len - s->at) : n;
		memcpy(dst, s->buf + s->at, got);
	} else {
		got = fread(dst, 1, n, s->f);
		if (got < n && ferror(s->f))
			return mg_err_set(e, MG_E_IO, "read error at byte %llu", (unsigned long long)(s->at + got));
	}
	s->at += got;
	if (got < n)
		return mg_err_set(e, MG_E_TRUNC, "truncated at byte %llu, in %s", (unsigned long long)s->at, what);
	return MG_OK;
}

static int read_all(source *s, mg_safetensors *st, mg_err *e)
{
	uint8_t b8[8], *json;
	uint64_t hlen, have;
	char what[128];
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = src_read(s, b8, 8, "the header length", e)))
		return rc;
	hlen = mg_le64_get(b8);
	if (hlen > MG_SAFETENSORS_HEADER_MAX)
		return mg_err_set(e, MG_E_LIMIT, "header length %llu is over safetensors' limit of %u bytes",
				  (unsigned long long)hlen, MG_SAFETENSORS_HEADER_MAX);
	if (s->len != UINT64_MAX && hlen > s->len - 8)
		return mg_err_set(e, MG_E_TRUNC, "header length %llu is past the end of the file (%llu bytes)",
				  (unsigned long long)hlen, (unsigned long long)s->len);
	if (hlen < 2)
		return mg_err_set(e, MG_E_CORRUPT, "header length %llu is too short for a JSON object",
				  (unsigned long long)hlen);
	if (!(json = malloc(hlen)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory for a header of %llu bytes", (unsigned long long)hlen);
	rc = src_read(s, json, hlen, "the header", e);
	rc = rc ? rc : parse_header(json, hlen, s->len == UINT64_MAX ? UINT64_MAX : s->len - 8 - hlen, st, e);
	free(json);
	if (rc)
		return rc;
	if (s->len != UINT64_MAX) {
		have = s->len - 8 - hlen;
		if (st->data_len > have)
			rc = mg_err_set(e, MG_E_TRUNC, "the data_offsets end at byte %llu of the data, past the %llu bytes the file holds",
					(unsigned long long)st->data_len, (unsigned long long)have);
		else if (st->data_len < have)
			rc = mg_err_set(e, MG_E_CORRUPT, "%llu bytes after the end of the data (the data_offsets end at byte %llu)",
					(unsigned long long)(have - st->data_len), (unsigned long long)st->data_len);
		if (rc) {
			mg_safetensors_free(st);
			return rc;
		}
	}
	for (size_t i = 0; i < st->n; i++) {
		mg_safetensors_tensor *t = &st->t[i];
		size_t bytes = (size_t)(t->end - t->begin);
		if (!bytes)
			continue;
		if (!(t->data = malloc(bytes))) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory for tensor '%.80s' (%zu bytes)", t->name, bytes);
			break;
		}
		t->owned = 1;
		snprintf(what, sizeof what, "tensor '%.80s'", t->name);
		if ((rc = src_read(s, t->data, bytes, what, e)))
			break;
	}
	if (!rc && s->f && s->len == UINT64_MAX && fgetc(s->f) != EOF)
		rc = mg_err_set(e, MG_E_CORRUPT, "data after the end of the data (the data_offsets end at byte %llu)",
				(unsigned long long)st->data_len);
	if (!rc && s->f && ferror(s->f))
		rc = mg_err_set(e, MG_E_IO, "read error");
	if (rc)
		mg_safetensors_free(st);
	return rc;
}

int mg_safetensors_read(FILE *f, mg_safetensors *st, mg_err *e)
{
	source s = { f, NULL, UINT64_MAX, 0 };
	struct stat sb;
	long pos = ftell(f);

	/* a regular file read from its start: its size is known, so a bad
	 * offset is refused before any tensor is allocated */
	if (!fstat(fileno(f), &sb) && S_ISREG(sb.st_mode) && pos == 0)
		s.len = (uint64_t)sb.st_size;
	return read_all(&s, st, e);
}

int mg_safetensors_parse(const uint8_t *buf, size_t len, mg_safetensors *st, mg_err *e)
{
	source s = { NULL, buf, len, 0 };

	return read_all(&s, st, e);
}

/* ---------------------------------------------------------------- writing */

static void json_str(mg_buf *b, const char *s)
{
	mg_buf_u8(b, '"');
	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;
		if (c == '"' || c == '\\') {
			mg_buf_u8(b, '\\');
			mg_buf_u8(b, c);
		} else if (c < 0x20) {
			char esc[8];
			snprintf(esc, sizeof esc, "\\u%04x", c);
			mg_buf_add(b, esc, 6);
		} else {
			mg_buf_u8(b, c);
		}
	}
	mg_buf_u8(b, '"');
}

static void json_text(mg_buf *b, const char *s) { mg_buf_add(b, s, strlen(s)); }

int mg_safetensors_write(FILE *f, const mg_safetensors *st, mg_err *e)
{
	mg_buf h = { 0 };
	uint64_t at = 0;
	uint8_t b8[8];
	char num[64];
	int rc = MG_OK;

	json_text(&h, "{");
	if (st->n_meta) {
		json_text(&h, "\"__metadata__\":{");
		for (size_t i = 0; i < st->n_meta; i++) {
			if (i)
				json_text(&h, ",");
			json_str(&h, st->meta_keys[i]);
			json_text(&h, ":");
			json_str(&h, st->meta_vals[i]);
		}
		json_text(&h, "}");
	}
	for (size_t i = 0; i < st->n; i++) {
		const mg_safetensors_tensor *t = &st->t[i];
		uint64_t n = 1;
		if (!dtype_name(t->dtype) || t->rank > MG_SAFETENSORS_RANK_MAX) {
			mg_buf_free(&h);
			return mg_err_set(e, MG_E_INVAL, "tensor '%.80s': dtype %s or rank %u cannot be written", t->name,
					  mg_dtype_name(t->dtype), t->rank);
		}
		if (i || st->n_meta)
			json_text(&h, ",");
		json_str(&h, t->name);
		json_text(&h, ":{\"dtype\":");
		json_str(&h, dtype_name(t->dtype));
		json_text(&h, ",\"shape\":[");
		for (uint32_t d = 0; d < t->rank; d++) {
			snprintf(num, sizeof num, "%s%llu", d ? "," : "", (unsigned long long)t->shape[d]);
			json_text(&h, num);
			n *= t->shape[d];
		}
		snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)at,
			 (unsigned long long)(at + n * dtype_bytes(t->dtype)));
		json_text(&h, num);
		at += n * dtype_bytes(t->dtype);
	}
	json_text(&h, "}");
	while (h.len % 8) /* the data starts 8-byte aligned */
		mg_buf_u8(&h, ' ');
	if (h.oom) {
		mg_buf_free(&h);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	if (h.len > MG_SAFETENSORS_HEADER_MAX) {
		mg_buf_free(&h);
		return mg_err_set(e, MG_E_LIMIT, "a header of %zu bytes is over safetensors' limit", h.len);
	}
	mg_le64_put(b8, h.len);
	if (fwrite(b8, 1, 8, f) != 8 || fwrite(h.data, 1, h.len, f) != h.len)
		rc = mg_err_set(e, MG_E_IO, "write error");
	mg_buf_free(&h);
	for (size_t i = 0; i < st->n && !rc; i++) {
		const mg_safetensors_tensor *t = &st->t[i];
		size_t bytes = dtype_bytes(t->dtype);
		for (uint32_t d = 0; d < t->rank; d++)
			bytes *= (size_t)t->shape[d];
		if (bytes && fwrite(t->data, 1, bytes, f) != bytes)
			rc = mg_err_set(e, MG_E_IO, "write error");
	}
	return rc;
}
