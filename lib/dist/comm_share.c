/* What the ranks of a run share: a file that rank 0 alone reads, values
 * every rank must hold alike, and events some ranks saw (dist/comm.h). */
#include "dist/comm.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

/* Reads f to its end into a buffer of its own (NUL-terminated beyond n). */
static int slurp(FILE *f, uint8_t **out, uint64_t *n, mg_err *e)
{
	size_t cap = 1 << 16, len = 0, got;
	uint8_t *b = malloc(cap), *p;

	if (!b)
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	while ((got = fread(b + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			if (cap > SIZE_MAX / 2 || !(p = realloc(b, cap * 2))) {
				free(b);
				return mg_err_set(e, MG_E_NOMEM, "out of memory");
			}
			b = p, cap *= 2;
		}
	}
	if (ferror(f)) {
		free(b);
		return mg_err_set(e, MG_E_IO, "read error: %s", strerror(errno ? errno : EIO));
	}
	*out = b;
	*n = len;
	return MG_OK;
}

int mg_comm_bcast_file(mg_comm *c, FILE *f, uint8_t **buf, size_t *n, mg_err *e)
{
	uint8_t head[16];
	uint64_t len = 0, status = MG_OK;
	uint8_t *b = NULL;
	int rc;

	*buf = NULL;
	*n = 0;
	if (c->rank == 0)
		status = (uint64_t)slurp(f, &b, &len, e);
	mg_le64_put(head, status);
	mg_le64_put(head + 8, len);
	if ((rc = mg_comm_bcast(c, head, sizeof head, e))) {
		free(b);
		return rc;
	}
	status = mg_le64_get(head);
	len = mg_le64_get(head + 8);
	if (status != MG_OK)
		return c->rank == 0 ? (int)status : mg_err_set(e, MG_E_IO, "rank 0 could not read it");
	if (c->rank != 0 && !(b = malloc(len ? len : 1)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory"); /* the job's other ranks wait: the caller aborts it */
	if ((rc = mg_comm_bcast(c, b, len, e))) {
		free(b);
		return rc;
	}
	*buf = b;
	*n = len;
	return MG_OK;
}

int mg_comm_check_same(mg_comm *c, const void *v, size_t bytes, int *differs, mg_err *e)
{
	uint8_t *mine = NULL;
	double *slot = NULL;
	int rc;

	*differs = -1;
	if (c->size == 1)
		return MG_OK;
	if (!(mine = malloc(bytes ? bytes : 1)) || !(slot = calloc((size_t)c->size, sizeof *slot))) {
		free(mine);
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	}
	memcpy(mine, v, bytes);
	if (!(rc = mg_comm_bcast(c, mine, bytes, e))) {
		slot[c->rank] = memcmp(mine, v, bytes) != 0;
		if (!(rc = mg_comm_sum_f64(c, slot, (size_t)c->size, e)))
			for (int i = 0; i < c->size && *differs < 0; i++)
				if (slot[i] != 0)
					*differs = i;
	}
	free(mine);
	free(slot);
	return rc;
}

int mg_comm_first_nonzero(mg_comm *c, int *v, size_t n, mg_err *e)
{
	size_t R = (size_t)c->size;
	double *slot;
	int rc;

	if (R == 1 || n == 0)
		return MG_OK;
	if (!(slot = calloc(R * n, sizeof *slot)))
		return mg_err_set(e, MG_E_NOMEM, "out of memory");
	for (size_t k = 0; k < n; k++)
		slot[(size_t)c->rank * n + k] = v[k]; /* exact: ints in a double */
	if (!(rc = mg_comm_sum_f64(c, slot, R * n, e)))
		for (size_t k = 0; k < n; k++) {
			v[k] = 0;
			for (size_t i = 0; i < R && !v[k]; i++)
				v[k] = (int)slot[i * n + k];
		}
	free(slot);
	return rc;
}
