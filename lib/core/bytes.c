/* Growable buffers and bounds-checked cursors for little-endian payloads. */
#include "core/bytes.h"

#include <stdlib.h>

int mg_buf_reserve(mg_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (b->oom)
		return MG_E_NOMEM;
	if (b->cap - b->len >= extra)
		return MG_OK;
	if (extra > SIZE_MAX / 2 - b->len)
		goto oom;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		goto oom;
	b->data = p;
	b->cap = cap;
	return MG_OK;
oom:
	b->oom = 1;
	return MG_E_NOMEM;
}

void mg_buf_add(mg_buf *b, const void *p, size_t n)
{
	if (n == 0 || mg_buf_reserve(b, n) != MG_OK)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void mg_buf_u8(mg_buf *b, uint8_t v) { mg_buf_add(b, &v, 1); }
void mg_buf_u16(mg_buf *b, uint16_t v) { uint8_t t[2]; mg_le16_put(t, v); mg_buf_add(b, t, 2); }
void mg_buf_u32(mg_buf *b, uint32_t v) { uint8_t t[4]; mg_le32_put(t, v); mg_buf_add(b, t, 4); }
void mg_buf_u64(mg_buf *b, uint64_t v) { uint8_t t[8]; mg_le64_put(t, v); mg_buf_add(b, t, 8); }

void mg_buf_free(mg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

const uint8_t *mg_cur_take(mg_cur *c, size_t n)
{
	const uint8_t *p;

	if (c->short_read || n > c->len - c->pos) {
		c->short_read = 1;
		return NULL;
	}
	p = c->p + c->pos;
	c->pos += n;
	return p;
}

uint8_t mg_cur_u8(mg_cur *c) { const uint8_t *p = mg_cur_take(c, 1); return p ? p[0] : 0; }
uint16_t mg_cur_u16(mg_cur *c) { const uint8_t *p = mg_cur_take(c, 2); return p ? mg_le16_get(p) : 0; }
uint32_t mg_cur_u32(mg_cur *c) { const uint8_t *p = mg_cur_take(c, 4); return p ? mg_le32_get(p) : 0; }
uint64_t mg_cur_u64(mg_cur *c) { const uint8_t *p = mg_cur_take(c, 8); return p ? mg_le64_get(p) : 0; }
