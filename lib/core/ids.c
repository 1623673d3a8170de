/* The growable id array: capacity doubles from 1024 ids. */
#include "core/ids.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int mg_ids_reserve(mg_ids *a, size_t extra)
{
	size_t cap;
	uint32_t *v;

	if (a->cap - a->n >= extra)
		return MG_OK;
	if (extra > SIZE_MAX / 8 - a->n)
		return MG_E_NOMEM;
	cap = a->cap ? a->cap : 1024;
	while (cap - a->n < extra)
		cap *= 2;
	v = realloc(a->v, cap * sizeof *v);
	if (!v)
		return MG_E_NOMEM;
	a->v = v;
	a->cap = cap;
	return MG_OK;
}

void mg_ids_free(mg_ids *a)
{
	free(a->v);
	memset(a, 0, sizeof *a);
}
