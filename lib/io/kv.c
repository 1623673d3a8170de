/* Typed key-value lists, packed as counted little-endian entries. */
#include "io/kv.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static int key_ok(const char *k, size_t n)
{
	if (n == 0 || n > MG_KV_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '.'))
			return 0;
	return 1;
}

const mg_kv_entry *mg_kv_find(const mg_kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->e[i].key, key) == 0)
			return &kv->e[i];
	return NULL;
}

static mg_kv_entry *slot(mg_kv *kv, const char *key)
{
	mg_kv_entry *x = (mg_kv_entry *)mg_kv_find(kv, key);

	assert(key_ok(key, strlen(key)));
	if (x) {
		free(x->s);
		x->s = NULL;
		return x;
	}
	if (kv->n == kv->cap) {
		size_t cap = kv->cap ? kv->cap * 2 : 16;
		mg_kv_entry *e = realloc(kv->e, cap * sizeof *e);
		if (!e)
			return NULL;
		kv->e = e;
		kv->cap = cap;
	}
	x = &kv->e[kv->n++];
	memset(x, 0, sizeof *x);
	strcpy(x->key, key);
	return x;
}

int mg_kv_set_int(mg_kv *kv, const char *key, int64_t v)
{
	mg_kv_entry *x = slot(kv, key);
	if (!x)
		return MG_E_NOMEM;
	x->type = MG_KV_INT;
	x->i = v;
	return MG_OK;
}

int mg_kv_set_float(mg_kv *kv, const char *key, double v)
{
	mg_kv_entry *x = slot(kv, key);
	if (!x)
		return MG_E_NOMEM;
	x->type = MG_KV_FLOAT;
	x->f = v;
	return MG_OK;
}

int mg_kv_set_str(mg_kv *kv, const char *key, const char *s, uint32_t len)
{
	mg_kv_entry *x;

	assert(len <= MG_KV_STR_MAX);
	x = slot(kv, key);
	if (!x)
		return MG_E_NOMEM;
	x->type = MG_KV_STR;
	x->s = malloc((size_t)len + 1);
	if (!x->s) {
		x->type = MG_KV_INT; /* keep the entry well-formed */
		return MG_E_NOMEM;
	}
	memcpy(x->s, s, len);
	x->s[len] = 0;
	x->slen = len;
	return MG_OK;
}

void mg_kv_free(mg_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++)
		free(kv->e[i].s);
	free(kv->e);
	memset(kv, 0, sizeof *kv);
}

void mg_kv_pack(const mg_kv *kv, mg_buf *out)
{
	mg_buf_u32(out, (uint32_t)kv->n);
	for (size_t i = 0; i < kv->n; i++) {
		const mg_kv_entry *x = &kv->e[i];
		size_t kl = strlen(x->key);
		mg_buf_u8(out, (uint8_t)kl);
		mg_buf_add(out, x->key, kl);
		mg_buf_u8(out, (uint8_t)x->type);
		if (x->type == MG_KV_INT)
			mg_buf_u64(out, (uint64_t)x->i);
		else if (x->type == MG_KV_FLOAT)
			mg_buf_u64(out, mg_f64_bits(x->f));
		else {
			mg_buf_u32(out, x->slen);
			mg_buf_add(out, x->s, x->slen);
		}
	}
}

int mg_kv_parse(const uint8_t *p, size_t len, mg_kv *kv, mg_err *e)
{
	mg_cur c = mg_cur_init(p, len);
	uint32_t n = mg_cur_u32(&c);
	char key[MG_KV_KEY_MAX + 1];

	memset(kv, 0, sizeof *kv);
	if (!mg_cur_ok(&c))
		return mg_err_set(e, MG_E_CORRUPT, "key-value list too short");
	if (n > MG_KV_COUNT_MAX)
		return mg_err_set(e, MG_E_LIMIT, "%u keys is over the limit of %u", n, MG_KV_COUNT_MAX);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t kl = mg_cur_u8(&c), type;
		const uint8_t *k = mg_cur_take(&c, kl);
		int rc = MG_OK;

		if (!k || !key_ok((const char *)k, kl)) {
			mg_kv_free(kv);
			return mg_err_set(e, MG_E_CORRUPT, "bad key in entry %u", i);
		}
		memcpy(key, k, kl);
		key[kl] = 0;
		if (mg_kv_find(kv, key)) {
			mg_kv_free(kv);
			return mg_err_set(e, MG_E_CORRUPT, "duplicate key '%s'", key);
		}
		type = mg_cur_u8(&c);
		if (type == MG_KV_INT) {
			uint64_t v = mg_cur_u64(&c);
			rc = mg_kv_set_int(kv, key, (int64_t)v);
		} else if (type == MG_KV_FLOAT) {
			uint64_t v = mg_cur_u64(&c);
			rc = mg_kv_set_float(kv, key, mg_f64_from_bits(v));
		} else if (type == MG_KV_STR) {
			uint32_t sl = mg_cur_u32(&c);
			const uint8_t *s;
			if (sl > MG_KV_STR_MAX) {
				mg_kv_free(kv);
				return mg_err_set(e, MG_E_LIMIT, "string for key '%s' is over %u bytes", key,
						  MG_KV_STR_MAX);
			}
			s = mg_cur_take(&c, sl);
			if (s)
				rc = mg_kv_set_str(kv, key, (const char *)s, sl);
		} else {
			mg_kv_free(kv);
			return mg_err_set(e, MG_E_CORRUPT, "unknown type %u for key '%s'", type, key);
		}
		if (!mg_cur_ok(&c)) {
			mg_kv_free(kv);
			return mg_err_set(e, MG_E_CORRUPT, "key-value list ends inside key '%s'", key);
		}
		if (rc) {
			mg_kv_free(kv);
			return mg_err_set(e, rc, "out of memory");
		}
	}
	if (mg_cur_left(&c)) {
		mg_kv_free(kv);
		return mg_err_set(e, MG_E_CORRUPT, "%zu stray bytes after the key-value list", mg_cur_left(&c));
	}
	return MG_OK;
}
