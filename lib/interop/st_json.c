/* A strict recursive-descent JSON parser: the grammar of RFC 8259 and
 * nothing more (no comments, no trailing commas, no NaN, no raw control
 * characters, valid UTF-8 only, unique keys). */
#include "interop/st_json.h"

#include <stdlib.h>
#include <string.h>

typedef struct parser {
	const uint8_t *p;
	size_t n, at;
	mg_err *e;
} parser;

static int fail(parser *ps, size_t at, const char *what)
{
	return mg_err_set(ps->e, MG_E_CORRUPT, "byte %zu: %s", at, what);
}

static void skip_ws(parser *ps)
{
	while (ps->at < ps->n && (ps->p[ps->at] == ' ' || ps->p[ps->at] == '\t' || ps->p[ps->at] == '\n' ||
				  ps->p[ps->at] == '\r'))
		ps->at++;
}

void mg_st_json_free(mg_st_json *v)
{
	if (!v)
		return;
	for (size_t i = 0; v->items && i < v->count; i++)
		mg_st_json_free(&v->items[i]);
	for (size_t i = 0; v->keys && i < v->count; i++)
		free(v->keys[i]);
	free(v->items);
	free(v->keys);
	free(v->key_lens);
	free(v->s);
	memset(v, 0, sizeof *v);
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80)
		return o[0] = (uint8_t)cp, 1;
	if (cp < 0x800)
		return o[0] = (uint8_t)(0xC0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3F)), 2;
	if (cp < 0x10000)
		return o[0] = (uint8_t)(0xE0 | cp >> 12), o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)),
		       o[2] = (uint8_t)(0x80 | (cp & 0x3F)), 3;
	return o[0] = (uint8_t)(0xF0 | cp >> 18), o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F)),
	       o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F)), o[3] = (uint8_t)(0x80 | (cp & 0x3F)), 4;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint32_t c = p[0], cp;
	size_t k;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		k = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 4, cp = c & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return k;
}

static int hex4(parser *ps, uint32_t *out)
{
	uint32_t v = 0;

	if (ps->n - ps->at < 4)
		return fail(ps, ps->at, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		uint8_t c = ps->p[ps->at + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10u;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10u;
		else
			return fail(ps, ps->at + i, "bad hex digit in a \\u escape");
	}
	ps->at += 4;
	*out = v;
	return MG_OK;
}

/* A string at ps->at (the opening quote): decoded into a new buffer. */
static int parse_string(parser *ps, char **out, size_t *len)
{
	size_t start = ps->at++, end, k = 0;
	uint8_t *o;

	/* the decoded text is never longer than the raw one */
	for (end = ps->at; end < ps->n && ps->p[end] != '"'; end++)
		if (ps->p[end] == '\\')
			end++;
	if (end >= ps->n)
		return fail(ps, start, "unterminated string");
	if (!(o = malloc(end - ps->at + 1)))
		return mg_err_set(ps->e, MG_E_NOMEM, "out of memory");
	while (ps->p[ps->at] != '"') {
		uint8_t c = ps->p[ps->at];
		size_t l;
		if (c < 0x20) {
			free(o);
			return fail(ps, ps->at, "raw control character in a string");
		}
		if (c != '\\') {
			if (!(l = utf8_len(ps->p + ps->at, ps->n - ps->at))) {
				free(o);
				return fail(ps, ps->at, "invalid UTF-8 in a string");
			}
			memcpy(o + k, ps->p + ps->at, l);
			k += l, ps->at += l;
			continue;
		}
		c = ps->p[++ps->at];
		ps->at++;
		switch (c) {
		case '"': case '\\': case '/': o[k++] = c; break;
		case 'b': o[k++] = '\b'; break;
		case 'f': o[k++] = '\f'; break;
		case 'n': o[k++] = '\n'; break;
		case 'r': o[k++] = '\r'; break;
		case 't': o[k++] = '\t'; break;
		case 'u': {
			uint32_t cp, lo;
			if (hex4(ps, &cp)) {
				free(o);
				return MG_E_CORRUPT;
			}
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				free(o);
				return fail(ps, ps->at - 6, "lone low surrogate in a \\u escape");
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (ps->n - ps->at < 6 || ps->p[ps->at] != '\\' || ps->p[ps->at + 1] != 'u') {
					free(o);
					return fail(ps, ps->at - 6, "high surrogate without its low half");
				}
				ps->at += 2;
				if (hex4(ps, &lo)) {
					free(o);
					return MG_E_CORRUPT;
				}
				if (lo < 0xDC00 || lo > 0xDFFF) {
					free(o);
					return fail(ps, ps->at - 12, "high surrogate without its low half");
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			k += put_utf8(o + k, cp);
			break;
		}
		default: free(o); return fail(ps, ps->at - 1, "unknown escape in a string");
		}
	}
	ps->at++;
	o[k] = 0;
	*out = (char *)o;
	*len = k;
	return MG_OK;
}

static int parse_number(parser *ps, mg_st_json *v)
{
	size_t s = ps->at, i = s;
	const uint8_t *p = ps->p;

#define DIGIT(j) ((j) < ps->n && p[j] >= '0' && p[j] <= '9')
	if (i < ps->n && p[i] == '-')
		i++;
	if (!DIGIT(i))
		return fail(ps, s, "bad number");
	if (p[i] == '0')
		i++;
	else
		while (DIGIT(i))
			i++;
	if (i < ps->n && p[i] == '.') {
		if (!DIGIT(i + 1))
			return fail(ps, s, "bad number");
		for (i++; DIGIT(i); i++)
			;
	}
	if (i < ps->n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < ps->n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (!DIGIT(i))
			return fail(ps, s, "bad number");
		while (DIGIT(i))
			i++;
	}
#undef DIGIT
	v->type = MG_ST_JSON_NUMBER;
	if (!(v->s = malloc(i - s + 1)))
		return mg_err_set(ps->e, MG_E_NOMEM, "out of memory");
	memcpy(v->s, p + s, i - s);
	v->s[i - s] = 0;
	v->len = i - s;
	ps->at = i;
	return MG_OK;
}

static int literal(parser *ps, const char *word)
{
	size_t l = strlen(word);

	if (ps->n - ps->at < l || memcmp(ps->p + ps->at, word, l))
		return fail(ps, ps->at, "unexpected character");
	ps->at += l;
	return MG_OK;
}

/* Grows the items (and keys) of a container to hold one more. */
static int grow(parser *ps, mg_st_json *v, size_t *cap, int keys)
{
	size_t c = *cap ? 2 * *cap : 4;
	mg_st_json *it;

	if (v->count < *cap)
		return MG_OK;
	if (!(it = realloc(v->items, c * sizeof *it)))
		return mg_err_set(ps->e, MG_E_NOMEM, "out of memory");
	v->items = it;
	if (keys) {
		char **k = realloc(v->keys, c * sizeof *k);
		size_t *kl;
		if (k)
			v->keys = k;
		kl = k ? realloc(v->key_lens, c * sizeof *kl) : NULL;
		if (!kl)
			return mg_err_set(ps->e, MG_E_NOMEM, "out of memory");
		v->key_lens = kl;
	}
	*cap = c;
	return MG_OK;
}

static const char *const *sort_keys;
static const size_t *sort_lens;

static int cmp_key(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	size_t li = sort_lens[i], lj = sort_lens[j];
	int c = memcmp(sort_keys[i], sort_keys[j], li < lj ? li : lj);

	return c ? c : li < lj ? -1 : li > lj;
}

/* Refuses a key that appears twice: sorts the key indices (n log n, so a
 * header of a million keys is no quadratic trap) and compares neighbours. */
static int check_unique(parser *ps, const mg_st_json *v)
{
	size_t *idx;

	if (v->count < 2)
		return MG_OK;
	if (!(idx = malloc(v->count * sizeof *idx)))
		return mg_err_set(ps->e, MG_E_NOMEM, "out of memory");
	for (size_t i = 0; i < v->count; i++)
		idx[i] = i;
	sort_keys = (const char *const *)v->keys, sort_lens = v->key_lens;
	qsort(idx, v->count, sizeof *idx, cmp_key);
	for (size_t i = 1; i < v->count; i++)
		if (!cmp_key(&idx[i - 1], &idx[i])) {
			size_t a = idx[i - 1] > idx[i] ? idx[i - 1] : idx[i];
			int rc = mg_err_set(ps->e, MG_E_CORRUPT, "byte %zu: duplicate name '%.80s'", v->items[a].off,
					    v->keys[a]);
			free(idx);
			return rc;
		}
	free(idx);
	return MG_OK;
}

static int parse_value(parser *ps, mg_st_json *v, int depth);

static int parse_container(parser *ps, mg_st_json *v, int depth)
{
	int obj = ps->p[ps->at] == '{', rc;
	uint8_t close = obj ? '}' : ']';
	size_t cap = 0;

	if (depth >= MG_ST_JSON_DEPTH_MAX)
		return mg_err_set(ps->e, MG_E_LIMIT, "byte %zu: nested deeper than %d levels", ps->at, MG_ST_JSON_DEPTH_MAX);
	v->type = obj ? MG_ST_JSON_OBJECT : MG_ST_JSON_ARRAY;
	ps->at++;
	skip_ws(ps);
	if (ps->at < ps->n && ps->p[ps->at] == close) {
		ps->at++;
		return MG_OK;
	}
	for (;;) {
		mg_st_json *it;
		skip_ws(ps);
		if ((rc = grow(ps, v, &cap, obj)))
			return rc;
		it = &v->items[v->count];
		memset(it, 0, sizeof *it);
		if (obj) {
			if (ps->at >= ps->n || ps->p[ps->at] != '"')
				return fail(ps, ps->at, "expected a key string");
			if ((rc = parse_string(ps, &v->keys[v->count], &v->key_lens[v->count])))
				return rc;
			skip_ws(ps);
			if (ps->at >= ps->n || ps->p[ps->at] != ':') {
				free(v->keys[v->count]);
				return fail(ps, ps->at, "expected ':'");
			}
			ps->at++;
			skip_ws(ps);
		}
		rc = parse_value(ps, it, depth + 1);
		v->count++; /* counted even on error, so that free releases it */
		if (rc)
			return rc;
		skip_ws(ps);
		if (ps->at < ps->n && ps->p[ps->at] == ',') {
			ps->at++;
			continue;
		}
		if (ps->at < ps->n && ps->p[ps->at] == close) {
			ps->at++;
			return obj ? check_unique(ps, v) : MG_OK;
		}
		return fail(ps, ps->at, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int parse_value(parser *ps, mg_st_json *v, int depth)
{
	skip_ws(ps);
	v->off = ps->at;
	if (ps->at >= ps->n)
		return fail(ps, ps->at, "unexpected end of the text");
	switch (ps->p[ps->at]) {
	case '{':
	case '[': return parse_container(ps, v, depth);
	case '"': v->type = MG_ST_JSON_STRING; return parse_string(ps, &v->s, &v->len);
	case 't': v->type = MG_ST_JSON_BOOL, v->b = 1; return literal(ps, "true");
	case 'f': v->type = MG_ST_JSON_BOOL; return literal(ps, "false");
	case 'n': v->type = MG_ST_JSON_NULL; return literal(ps, "null");
	default: return parse_number(ps, v);
	}
}

int mg_st_json_parse(const uint8_t *text, size_t n, mg_st_json *v, mg_err *e)
{
	parser ps = { text, n, 0, e };
	int rc;

	memset(v, 0, sizeof *v);
	rc = parse_value(&ps, v, 0);
	if (!rc) {
		skip_ws(&ps);
		if (ps.at != n)
			rc = fail(&ps, ps.at, "data after the value");
	}
	if (rc)
		mg_st_json_free(v);
	return rc;
}

int mg_st_json_u64(const mg_st_json *v, uint64_t *out)
{
	uint64_t x = 0;

	if (v->type != MG_ST_JSON_NUMBER || !v->len)
		return 0;
	for (size_t i = 0; i < v->len; i++) {
		unsigned d = (unsigned)(v->s[i] - '0');
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return 0;
		x = x * 10 + d;
	}
	*out = x;
	return 1;
}

const mg_st_json *mg_st_json_get(const mg_st_json *v, const char *key)
{
	size_t l = strlen(key);

	for (size_t i = 0; v->type == MG_ST_JSON_OBJECT && i < v->count; i++)
		if (v->key_lens[i] == l && !memcmp(v->keys[i], key, l))
			return &v->items[i];
	return NULL;
}
