/* A growable array of token ids, the currency of the encoders, the decimal
 * id reader and the sampler. */
#ifndef MG_IDS_H
#define MG_IDS_H

#include <stddef.h>
#include <stdint.h>

/* A growable array of ids. Zero-initialise; free with mg_ids_free. */
typedef struct mg_ids {
	uint32_t *v;
	size_t n, cap;
} mg_ids;

int mg_ids_reserve(mg_ids *a, size_t extra); /* MG_OK or MG_E_NOMEM */
void mg_ids_free(mg_ids *a);

#endif
