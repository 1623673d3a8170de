/* Special-token matching: a table of first bytes, then the candidates
 * longest first. */
#include "bpe/specials.h"

#include <stdlib.h>

static int cmp_spec(const void *a, const void *b)
{
	const mg_tokenizer_special *x = *(const mg_tokenizer_special *const *)a, *y = *(const mg_tokenizer_special *const *)b;

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int mg_specials_init(mg_specials *sp, const mg_tokenizer_special *list, uint32_t n, mg_err *e)
{
	memset(sp, 0, sizeof *sp);
	if (!n)
		return MG_OK;
	sp->list = malloc(n * sizeof *sp->list);
	if (!sp->list)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		sp->list[i] = &list[i];
		sp->first[(uint8_t)list[i].text[0]] = 1;
		if (list[i].len > sp->max_len)
			sp->max_len = list[i].len;
	}
	sp->n = n;
	qsort(sp->list, n, sizeof *sp->list, cmp_spec);
	return MG_OK;
}

void mg_specials_free(mg_specials *sp)
{
	free(sp->list);
	memset(sp, 0, sizeof *sp);
}

int mg_specials_cover(const mg_specials *sp, const uint8_t *s, size_t n, size_t p)
{
	size_t lo = p >= sp->max_len ? p - sp->max_len + 1 : 0;

	for (size_t q = lo; q < p; q++) {
		if (!sp->first[s[q]])
			continue;
		for (uint32_t k = 0; k < sp->n; k++) {
			const mg_tokenizer_special *x = sp->list[k];
			if (q + x->len > p && x->len <= n - q && !memcmp(s + q, x->text, x->len))
				return 1;
		}
	}
	return 0;
}
