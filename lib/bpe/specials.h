/* Finding special tokens (such as <|endoftext|>) in text: at each position
 * the longest special token that starts there, taken left to right without
 * overlap; the text between is ordinary text. */
#ifndef MG_SPECIALS_H
#define MG_SPECIALS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "io/tokenizer.h"

typedef struct mg_specials {
	const mg_tokenizer_special **list; /* longest first, then by id */
	uint32_t n, max_len;
	uint8_t first[256];      /* 1 when some special token starts with the byte */
} mg_specials;

/* Indexes the n tokens of list, which must outlive sp. n may be 0. */
int mg_specials_init(mg_specials *sp, const mg_tokenizer_special *list, uint32_t n, mg_err *e);
void mg_specials_free(mg_specials *sp);

/* The longest special token that starts at s[i] (i < n), or NULL. */
static inline const mg_tokenizer_special *mg_specials_at(const mg_specials *sp, const uint8_t *s, size_t n, size_t i)
{
	if (!sp->first[s[i]])
		return NULL;
	for (uint32_t k = 0; k < sp->n; k++) {
		const mg_tokenizer_special *x = sp->list[k];
		if (x->len <= n - i && !memcmp(s + i, x->text, x->len))
			return x;
	}
	return NULL;
}

/* Whether some occurrence of a special token in s[0..n) holds both s[p-1]
 * and s[p] (so that p must not be a cut point). */
int mg_specials_cover(const mg_specials *sp, const uint8_t *s, size_t n, size_t p);

#endif
