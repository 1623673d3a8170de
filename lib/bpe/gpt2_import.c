/* GPT-2 tokenizer import. encoder.json is parsed by a small strict JSON
 * reader for one flat object of string keys and integer values; vocab.bpe is
 * "#version" then one "A B" line per merge. Keys and merge parts are strings
 * over GPT-2's byte alphabet (bytes_to_unicode in OpenAI's encoder.py:
 * printable bytes stand for themselves, the other 68 bytes for U+0100 on). */
#include "bpe/gpt2_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpe/unicode.h"

static int printable(unsigned b) { return (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae); }

uint32_t mg_gpt2_byte_char(uint8_t b)
{
	uint32_t n = 0;

	if (printable(b))
		return b;
	for (unsigned x = 0; x < b; x++)
		n += !printable(x);
	return 256 + n;
}

/* ------------------------------------------------- string -> id table */

typedef struct entry {
	uint32_t off, len; /* key bytes (UTF-8) in keys */
	uint32_t id;
} entry;

typedef struct table {
	entry *e;
	uint32_t n, cap;      /* entries */
	uint32_t *slot;       /* open addressing: index+1 into e, 0 free */
	uint32_t mask;
	mg_buf keys;
} table;

static uint32_t hash_str(const uint8_t *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static entry *table_get(const table *t, const uint8_t *s, size_t n)
{
	for (uint32_t i = hash_str(s, n) & t->mask; t->slot[i]; i = (i + 1) & t->mask) {
		entry *x = &t->e[t->slot[i] - 1];
		if (x->len == n && !memcmp(t->keys.data + x->off, s, n))
			return x;
	}
	return NULL;
}

static int table_grow(table *t)
{
	uint32_t cap = t->cap ? 2 * t->cap : 1024, *slot;
	entry *e = realloc(t->e, cap * sizeof *e);

	if (!e)
		return MG_E_NOMEM;
	t->e = e;
	t->cap = cap;
	slot = calloc(2 * (size_t)cap, sizeof *slot);
	if (!slot)
		return MG_E_NOMEM;
	free(t->slot);
	t->slot = slot;
	t->mask = 2 * cap - 1;
	for (uint32_t k = 0; k < t->n; k++) {
		uint32_t i = hash_str(t->keys.data + t->e[k].off, t->e[k].len) & t->mask;
		while (t->slot[i])
			i = (i + 1) & t->mask;
		t->slot[i] = k + 1;
	}
	return MG_OK;
}

static void table_free(table *t)
{
	free(t->e);
	free(t->slot);
	mg_buf_free(&t->keys);
}

/* ------------------------------------------------------------- JSON */

typedef struct json {
	const uint8_t *p;
	size_t n, i;
	mg_err *e;
} json;

static int jfail(json *j, const char *what)
{
	if (j->i >= j->n)
		return mg_err_set(j->e, MG_E_TRUNC, "encoder.json: ends at byte %zu where %s was expected", j->i, what);
	return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: expected %s", j->i, what);
}

static void jspace(json *j)
{
	while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' || j->p[j->i] == '\r'))
		j->i++;
}

static int hex4(json *j, uint32_t *v)
{
	*v = 0;
	if (j->n - j->i < 4)
		return jfail(j, "four hex digits");
	for (int k = 0; k < 4; k++) {
		uint8_t c = j->p[j->i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return jfail(j, "a hex digit");
		*v = *v << 4 | (uint32_t)d;
		j->i++;
	}
	return MG_OK;
}

/* A JSON string, as UTF-8, appended to out. */
static int jstring(json *j, mg_buf *out)
{
	if (j->i >= j->n || j->p[j->i] != '"')
		return jfail(j, "'\"'");
	j->i++;
	for (;;) {
		uint8_t c;
		if (j->i >= j->n)
			return jfail(j, "the end of a string");
		c = j->p[j->i];
		if (c == '"') {
			j->i++;
			return MG_OK;
		}
		if (c < 0x20)
			return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: control character in a string", j->i);
		if (c != '\\') {
			uint32_t cp;
			size_t len = mg_unicode_utf8_decode(j->p + j->i, j->n - j->i, &cp);
			if (cp >= MG_UC_RAW)
				return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: invalid UTF-8", j->i);
			mg_buf_add(out, j->p + j->i, len);
			j->i += len;
			continue;
		}
		if (++j->i >= j->n)
			return jfail(j, "an escape");
		c = j->p[j->i++];
		switch (c) {
		case '"': case '\\': case '/': mg_buf_u8(out, c); break;
		case 'b': mg_buf_u8(out, '\b'); break;
		case 'f': mg_buf_u8(out, '\f'); break;
		case 'n': mg_buf_u8(out, '\n'); break;
		case 'r': mg_buf_u8(out, '\r'); break;
		case 't': mg_buf_u8(out, '\t'); break;
		case 'u': {
			uint32_t v, lo;
			uint8_t u[4];
			int rc;
			if ((rc = hex4(j, &v)))
				return rc;
			if (v >= 0xdc00 && v <= 0xdfff)
				return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: lone low surrogate", j->i - 6);
			if (v >= 0xd800 && v <= 0xdbff) {
				if (j->n - j->i < 2 || j->p[j->i] != '\\' || j->p[j->i + 1] != 'u')
					return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: lone high surrogate", j->i - 6);
				j->i += 2;
				if ((rc = hex4(j, &lo)))
					return rc;
				if (lo < 0xdc00 || lo > 0xdfff)
					return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: bad low surrogate", j->i - 6);
				v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
			}
			mg_buf_add(out, u, mg_unicode_utf8_encode(u, v));
			break;
		}
		default:
			j->i--;
			return jfail(j, "a valid escape");
		}
	}
}

static int jinteger(json *j, uint32_t *v)
{
	uint64_t x = 0;
	size_t start = j->i;

	while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9') {
		x = x * 10 + (uint64_t)(j->p[j->i++] - '0');
		if (x > MG_VOCAB_MAX)
			return mg_err_set(j->e, MG_E_LIMIT, "encoder.json: byte %zu: id over the limit of %u", start,
					  MG_VOCAB_MAX - 1);
	}
	if (j->i == start)
		return jfail(j, "a non-negative integer id");
	if (j->i - start > 1 && j->p[start] == '0')
		return mg_err_set(j->e, MG_E_CORRUPT, "encoder.json: byte %zu: number with a leading zero", start);
	if (x >= MG_VOCAB_MAX)
		return mg_err_set(j->e, MG_E_LIMIT, "encoder.json: byte %zu: id over the limit of %u", start,
				  MG_VOCAB_MAX - 1);
	*v = (uint32_t)x;
	return MG_OK;
}

static int parse_encoder(const uint8_t *p, size_t n, table *t, mg_err *e)
{
	json j = { p, n, 0, e };
	int rc;

	jspace(&j);
	if (j.i >= n || p[j.i] != '{')
		return jfail(&j, "'{'");
	j.i++;
	jspace(&j);
	if (j.i < n && p[j.i] == '}') {
		j.i++;
	} else {
		for (;;) {
			size_t at, off = t->keys.len;
			uint32_t id = 0;
			entry *x;
			jspace(&j);
			at = j.i;
			if ((rc = jstring(&j, &t->keys)))
				return rc;
			if (t->keys.oom)
				return mg_err_set(e, MG_E_NOMEM, "out of memory");
			jspace(&j);
			if (j.i >= n || p[j.i] != ':')
				return jfail(&j, "':'");
			j.i++;
			jspace(&j);
			if ((rc = jinteger(&j, &id)))
				return rc;
			if (t->keys.len - off == 0)
				return mg_err_set(e, MG_E_CORRUPT, "encoder.json: byte %zu: empty token", at);
			if (t->n >= MG_VOCAB_MAX)
				return mg_err_set(e, MG_E_LIMIT, "encoder.json: more than %u tokens", MG_VOCAB_MAX);
			if (t->n == t->cap && table_grow(t))
				return mg_err_set(e, MG_E_NOMEM, "out of memory");
			if (table_get(t, t->keys.data + off, t->keys.len - off))
				return mg_err_set(e, MG_E_CORRUPT, "encoder.json: byte %zu: token appears twice", at);
			x = &t->e[t->n];
			x->off = (uint32_t)off;
			x->len = (uint32_t)(t->keys.len - off);
			x->id = id;
			{
				uint32_t i = hash_str(t->keys.data + off, x->len) & t->mask;
				while (t->slot[i])
					i = (i + 1) & t->mask;
				t->slot[i] = ++t->n;
			}
			jspace(&j);
			if (j.i < n && p[j.i] == ',') {
				j.i++;
				continue;
			}
			if (j.i < n && p[j.i] == '}') {
				j.i++;
				break;
			}
			return jfail(&j, "',' or '}'");
		}
	}
	jspace(&j);
	if (j.i != n)
		return mg_err_set(e, MG_E_CORRUPT, "encoder.json: byte %zu: data after the object", j.i);
	return MG_OK;
}

/* Bytes a GPT-2 alphabet string stands for; -1 when a character is outside
 * the alphabet. */
static long alphabet_decode(const uint8_t *s, size_t n, uint8_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp;
		int b;
		i += mg_unicode_utf8_decode(s + i, n - i, &cp);
		for (b = 0; b < 256 && mg_gpt2_byte_char((uint8_t)b) != cp; b++)
			;
		if (b == 256)
			return -1;
		out[k++] = (uint8_t)b;
	}
	return (long)k;
}

int mg_gpt2_import(const uint8_t *ej, size_t enc_len, const uint8_t *vb, size_t bpe_len, mg_tokenizer *tk, mg_err *e)
{
	table t = { 0 };
	uint8_t *made = NULL;
	mg_buf cat = { 0 };
	uint32_t v = 0, line = 1, n_spec = 0;
	size_t i = 0;
	int rc;

	memset(tk, 0, sizeof *tk);
	if ((rc = table_grow(&t)) || (rc = parse_encoder(ej, enc_len, &t, e))) {
		if (rc == MG_E_NOMEM)
			mg_err_set(e, rc, "out of memory");
		goto out;
	}
	for (uint32_t k = 0; k < t.n; k++)
		if (t.e[k].id + 1 > v)
			v = t.e[k].id + 1;
	if (t.n < 256) {
		rc = mg_err_set(e, MG_E_CORRUPT, "encoder.json: %u tokens, fewer than the 256 bytes", t.n);
		goto out;
	}
	tk->kind = MG_TOKENIZER_BPE;
	tk->split = MG_SPLIT_GPT2;
	tk->vocab_size = v;
	made = calloc(v, 1);
	tk->merges = malloc(v * sizeof *tk->merges);
	if (!made || !tk->merges) {
		rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
		goto out;
	}
	for (int b = 0; b < 256; b++) {
		uint8_t u[4];
		entry *x = table_get(&t, u, mg_unicode_utf8_encode(u, mg_gpt2_byte_char((uint8_t)b)));
		if (!x) {
			rc = mg_err_set(e, MG_E_CORRUPT, "encoder.json: byte 0x%02x (U+%04X) has no token", b,
					mg_gpt2_byte_char((uint8_t)b));
			goto out;
		}
		tk->byte_id[b] = x->id;
		made[x->id] = 1;
	}
	/* vocab.bpe */
	while (i < bpe_len) {
		const uint8_t *s = vb + i, *nl = memchr(s, '\n', bpe_len - i), *sp;
		size_t len = nl ? (size_t)(nl - s) : bpe_len - i;
		entry *a, *b, *c;

		i += len + (nl != NULL);
		if (len && s[len - 1] == '\r')
			len--;
		if (line++ == 1 && len >= 8 && !memcmp(s, "#version", 8))
			continue;
		if (len == 0 && i >= bpe_len)
			break; /* final newline */
		sp = memchr(s, ' ', len);
		if (!sp || sp == s || sp == s + len - 1 || memchr(sp + 1, ' ', (size_t)(s + len - sp - 1))) {
			rc = mg_err_set(e, MG_E_CORRUPT, "vocab.bpe: line %u: expected two tokens separated by one space",
					line - 1);
			goto out;
		}
		a = table_get(&t, s, (size_t)(sp - s));
		b = table_get(&t, sp + 1, (size_t)(s + len - sp - 1));
		cat.len = 0;
		mg_buf_add(&cat, s, (size_t)(sp - s));
		mg_buf_add(&cat, sp + 1, (size_t)(s + len - sp - 1));
		if (cat.oom) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
			goto out;
		}
		c = table_get(&t, cat.data, cat.len);
		if (!a || !b || !c) {
			rc = mg_err_set(e, MG_E_CORRUPT, "vocab.bpe: line %u: '%.*s' is not in encoder.json", line - 1,
					!a ? (int)(sp - s) : !b ? (int)(s + len - sp - 1) : (int)cat.len,
					!a ? (const char *)s : !b ? (const char *)sp + 1 : (const char *)cat.data);
			goto out;
		}
		if (made[c->id] || tk->n_merges >= v - 256) {
			rc = mg_err_set(e, MG_E_CORRUPT, "vocab.bpe: line %u: token %u is made twice", line - 1, c->id);
			goto out;
		}
		if (!made[a->id] || !made[b->id]) {
			rc = mg_err_set(e, MG_E_CORRUPT, "vocab.bpe: line %u: merges a token not made by an earlier line",
					line - 1);
			goto out;
		}
		made[c->id] = 1;
		tk->merges[tk->n_merges].left = a->id;
		tk->merges[tk->n_merges].right = b->id;
		tk->merges[tk->n_merges].id = c->id;
		tk->n_merges++;
	}
	/* the rest are special tokens */
	for (uint32_t k = 0; k < t.n; k++)
		n_spec += !made[t.e[k].id];
	if (n_spec) {
		tk->specials = calloc(n_spec, sizeof *tk->specials);
		if (!tk->specials) {
			rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
			goto out;
		}
		for (uint32_t k = 0; k < t.n; k++) {
			entry *x = &t.e[k];
			mg_tokenizer_special *sp;
			long len;
			if (made[x->id])
				continue;
			if (x->len > MG_SPECIAL_LEN_MAX) {
				rc = mg_err_set(e, MG_E_LIMIT, "encoder.json: special token %u is longer than %u bytes", x->id,
						MG_SPECIAL_LEN_MAX);
				goto out;
			}
			sp = &tk->specials[tk->n_specials++];
			sp->id = x->id;
			sp->text = malloc(x->len + 1);
			if (!sp->text) {
				rc = mg_err_set(e, MG_E_NOMEM, "out of memory");
				goto out;
			}
			len = alphabet_decode(t.keys.data + x->off, x->len, (uint8_t *)sp->text);
			if (len < 0) { /* not in the byte alphabet: the text itself */
				memcpy(sp->text, t.keys.data + x->off, x->len);
				len = x->len;
			}
			sp->len = (uint32_t)len;
			sp->text[len] = 0;
		}
	}
	if ((rc = mg_tokenizer_finish(tk, e)))
		mg_err_prefix(e, "encoder.json and vocab.bpe: ");
out:
	if (rc)
		mg_tokenizer_free(tk);
	free(made);
	mg_buf_free(&cat);
	table_free(&t);
	return rc;
}

static int slurp(const char *path, uint8_t **data, size_t *len, mg_err *e)
{
	FILE *f = fopen(path, "rb");
	mg_buf b = { 0 };
	uint8_t tmp[65536];
	size_t got;

	*data = NULL;
	if (!f)
		return mg_err_set(e, MG_E_IO, "%s: %s", path, strerror(errno));
	while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) {
		if (b.len + got > MG_GPT2_FILE_MAX) {
			fclose(f);
			mg_buf_free(&b);
			return mg_err_set(e, MG_E_LIMIT, "%s: larger than %u bytes", path, MG_GPT2_FILE_MAX);
		}
		mg_buf_add(&b, tmp, got);
	}
	if (ferror(f) || b.oom) {
		int oom = b.oom;
		fclose(f);
		mg_buf_free(&b);
		return oom ? mg_err_set(e, MG_E_NOMEM, "%s: out of memory", path) : mg_err_set(e, MG_E_IO, "%s: read error", path);
	}
	fclose(f);
	*data = b.data ? b.data : malloc(1);
	*len = b.len;
	return *data ? MG_OK : mg_err_set(e, MG_E_NOMEM, "out of memory");
}

int mg_gpt2_import_dir(const char *dir, mg_tokenizer *tk, mg_err *e)
{
	size_t dl = strlen(dir), el = 0, bl = 0;
	char *pe = malloc(dl + 16), *pb = malloc(dl + 16);
	uint8_t *ej = NULL, *vb = NULL;
	int rc;

	memset(tk, 0, sizeof *tk);
	if (!pe || !pb) {
		free(pe);
		free(pb);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	snprintf(pe, dl + 16, "%s%sencoder.json", dir, dl && dir[dl - 1] == '/' ? "" : "/");
	snprintf(pb, dl + 16, "%s%svocab.bpe", dir, dl && dir[dl - 1] == '/' ? "" : "/");
	rc = slurp(pe, &ej, &el, e);
	if (!rc)
		rc = slurp(pb, &vb, &bl, e);
	if (!rc && (rc = mg_gpt2_import(ej, el, vb, bl, tk, e)) && e &&
	    (!strncmp(e->msg, "encoder.json", 12) || !strncmp(e->msg, "vocab.bpe", 9)))
		mg_err_prefix(e, "%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/"); /* the path of the file */
	free(ej);
	free(vb);
	free(pe);
	free(pb);
	return rc;
}
