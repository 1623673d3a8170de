/* A small strict JSON parser (RFC 8259) for the header of a safetensors file
 * (formats/safetensors.md): a tree of values with the byte offset of each,
 * duplicate object keys and every deviation from the grammar refused. */
#ifndef MG_ST_JSON_H
#define MG_ST_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MG_ST_JSON_DEPTH_MAX 64 /* nesting of arrays and objects */

enum { MG_ST_JSON_NULL, MG_ST_JSON_BOOL, MG_ST_JSON_NUMBER, MG_ST_JSON_STRING, MG_ST_JSON_ARRAY, MG_ST_JSON_OBJECT };

typedef struct mg_st_json mg_st_json;
struct mg_st_json {
	int type;          /* MG_ST_JSON_* */
	size_t off;        /* byte offset of the value in the text */
	int b;             /* BOOL */
	char *s;           /* STRING: the decoded UTF-8, NUL-terminated (may hold
			    * NULs before len); NUMBER: its text */
	size_t len;
	mg_st_json *items; /* ARRAY, OBJECT: count values */
	char **keys;       /* OBJECT: count keys, decoded, NUL-terminated */
	size_t *key_lens;
	size_t count;
};

/* Parses the n bytes of text (one value, surrounded by optional
 * whitespace) into *v. Strings must be valid UTF-8 with no raw control
 * characters; \u escapes must pair surrogates; numbers follow the grammar;
 * keys of an object are unique. MG_E_CORRUPT naming the byte offset and the
 * problem ("byte 17: duplicate name 'wte.weight'"), MG_E_LIMIT past
 * MG_ST_JSON_DEPTH_MAX, MG_E_NOMEM. On error *v is empty. */
int mg_st_json_parse(const uint8_t *text, size_t n, mg_st_json *v, mg_err *e);
void mg_st_json_free(mg_st_json *v);

/* 1 and *out when v is a number written as a non-negative integer (digits
 * only) that fits 64 bits; else 0. */
int mg_st_json_u64(const mg_st_json *v, uint64_t *out);
/* The value of key in object v, or NULL. */
const mg_st_json *mg_st_json_get(const mg_st_json *v, const char *key);

#endif
