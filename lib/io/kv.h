/* Typed key-value lists: the model configuration and the training state in
 * checkpoints (formats/checkpoint.md, "KV payload"). */
#ifndef MG_KV_H
#define MG_KV_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

#define MG_KV_KEY_MAX 63
#define MG_KV_STR_MAX 65536
#define MG_KV_COUNT_MAX 4096

enum { MG_KV_INT = 1, MG_KV_FLOAT = 2, MG_KV_STR = 3 };

typedef struct mg_kv_entry {
	char key[MG_KV_KEY_MAX + 1];
	int type;
	int64_t i;
	double f;
	char *s; /* MG_KV_STR: owned, NUL-terminated (may hold NULs before len) */
	uint32_t slen;
} mg_kv_entry;

typedef struct mg_kv {
	mg_kv_entry *e;
	size_t n, cap;
} mg_kv;

/* Setters replace an existing key. Keys are 1-63 of [a-z0-9_.]; an invalid
 * key is a programmer error (assert). MG_OK or MG_E_NOMEM. */
int mg_kv_set_int(mg_kv *kv, const char *key, int64_t v);
int mg_kv_set_float(mg_kv *kv, const char *key, double v);
int mg_kv_set_str(mg_kv *kv, const char *key, const char *s, uint32_t len);
/* NULL when absent. */
const mg_kv_entry *mg_kv_find(const mg_kv *kv, const char *key);
void mg_kv_free(mg_kv *kv);

void mg_kv_pack(const mg_kv *kv, mg_buf *out);
/* Parses a KV payload; rejects bad keys, duplicate keys, unknown types,
 * oversized strings and trailing bytes. */
int mg_kv_parse(const uint8_t *p, size_t len, mg_kv *kv, mg_err *e);

#endif
