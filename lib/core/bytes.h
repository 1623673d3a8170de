/* Little-endian fields, a growable byte buffer for building payloads and a
 * bounds-checked cursor for parsing them. Every file field goes through
 * these, one at a time, never as a struct. */
#ifndef MG_BYTES_H
#define MG_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"

static inline void mg_le16_put(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void mg_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void mg_le64_put(uint8_t *p, uint64_t v) { mg_le32_put(p, (uint32_t)v); mg_le32_put(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t mg_le16_get(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t mg_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t mg_le64_get(const uint8_t *p) { return mg_le32_get(p) | (uint64_t)mg_le32_get(p + 4) << 32; }
static inline uint32_t mg_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float mg_f32_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t mg_f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static inline double mg_f64_from_bits(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

/* Growable buffer. Zero-initialise, then append; free with mg_buf_free. */
typedef struct mg_buf {
	uint8_t *data;
	size_t len, cap;
	int oom; /* set once an append failed; later appends do nothing */
} mg_buf;

int mg_buf_reserve(mg_buf *b, size_t extra); /* MG_OK or MG_E_NOMEM */
void mg_buf_add(mg_buf *b, const void *p, size_t n);
void mg_buf_u8(mg_buf *b, uint8_t v);
void mg_buf_u16(mg_buf *b, uint16_t v);
void mg_buf_u32(mg_buf *b, uint32_t v);
void mg_buf_u64(mg_buf *b, uint64_t v);
void mg_buf_free(mg_buf *b);

/* Cursor over a payload. Reads past the end set "short" and return zero, so
 * a parser reads all its fields and checks mg_cur_ok once. */
typedef struct mg_cur {
	const uint8_t *p;
	size_t len, pos;
	int short_read;
} mg_cur;

static inline mg_cur mg_cur_init(const void *p, size_t len) { mg_cur c = { p, len, 0, 0 }; return c; }
static inline int mg_cur_ok(const mg_cur *c) { return !c->short_read; }
static inline size_t mg_cur_left(const mg_cur *c) { return c->len - c->pos; }
const uint8_t *mg_cur_take(mg_cur *c, size_t n); /* NULL if fewer than n left */
uint8_t mg_cur_u8(mg_cur *c);
uint16_t mg_cur_u16(mg_cur *c);
uint32_t mg_cur_u32(mg_cur *c);
uint64_t mg_cur_u64(mg_cur *c);

#endif
