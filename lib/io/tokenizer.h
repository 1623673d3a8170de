/* Tokenizer models (formats/tokenizer.md): byte-level BPE, characters, or an
 * image colour palette, with optional special tokens. This module holds the
 * container (read, write, validate) and decoding ids to bytes; encoding and
 * training live in the BPE modules. */
#ifndef MG_TOKENIZER_H
#define MG_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/bytes.h"
#include "core/err.h"
#include "io/chunk.h"

enum { MG_TOKENIZER_BPE = 1, MG_TOKENIZER_CHARS = 2, MG_TOKENIZER_PALETTE = 3 };
enum { MG_SPLIT_NONE = 0, MG_SPLIT_GPT2 = 1 };

#define MG_VOCAB_MAX (1u << 24)    /* largest vocabulary a file may declare */
#define MG_SPECIAL_LEN_MAX 256
#define MG_CHAR_RAW_BYTE 0x110000u /* CHARS entry 0x110000+b: the raw byte b */
#define MG_IMAGE_SIDE_MAX 4096

typedef struct mg_tokenizer_merge {
	uint32_t left, right, id;
} mg_tokenizer_merge;

typedef struct mg_tokenizer_special {
	uint32_t id, len;
	char *text; /* len bytes, NUL-terminated copy */
} mg_tokenizer_special;

typedef struct mg_tokenizer {
	uint32_t kind, vocab_size, split;
	uint32_t byte_id[256];     /* BPE: token of each byte value */
	mg_tokenizer_merge *merges;          /* BPE: rank order; merge r has rank r */
	uint32_t n_merges;
	uint32_t *chars;           /* CHARS: token i is chars[i] */
	uint32_t n_chars;
	uint8_t *palette;          /* PALETTE: token i is RGB palette[3i..3i+2] */
	uint32_t n_colors, width, height;
	mg_tokenizer_special *specials;
	uint32_t n_specials;
	/* Derived by mg_tokenizer_finish: the bytes of every token. */
	uint32_t *tok_off;         /* vocab_size+1 offsets into tok_bytes */
	uint8_t *tok_bytes;
} mg_tokenizer;

/* Checks that every id is used exactly once and below vocab_size, that each
 * merge joins earlier tokens, that code points are valid, and builds the
 * decode table. Call after filling the fields by hand. */
int mg_tokenizer_finish(mg_tokenizer *tk, mg_err *e);
void mg_tokenizer_free(mg_tokenizer *tk);

/* Makes a CHARS tokenizer from code points (in token order). */
int mg_tokenizer_init_chars(mg_tokenizer *tk, const uint32_t *cps, uint32_t n, mg_err *e);

/* Makes a PALETTE tokenizer of n RGB colours (3n bytes, token order) for
 * images of width x height. */
int mg_tokenizer_init_palette(mg_tokenizer *tk, const uint8_t *rgb, uint32_t n, uint32_t width, uint32_t height,
			      mg_err *e);
/* 1 when every colour of palette tokenizer tk is gray (red = green = blue):
 * a palette for gray images. */
int mg_tokenizer_palette_gray(const mg_tokenizer *tk);
/* 1 when palette tokenizers a and b hold the same colours for the same image
 * shape (their special tokens aside: a --label-token stream's tokenizer has
 * the class ids as specials). */
int mg_tokenizer_same_palette(const mg_tokenizer *a, const mg_tokenizer *b);

/* Appends a whole tokenizer member (preamble to TAIL) to out. */
int mg_tokenizer_pack(const mg_tokenizer *tk, mg_buf *out, mg_err *e);
/* *equal = 1 when a and b are the same model (their packed payloads are
 * byte-identical: same kind, vocabulary, merges, specials and pre-tokenizer),
 * else 0; MG_E_NOMEM. */
int mg_tokenizer_equal(const mg_tokenizer *a, const mg_tokenizer *b, int *equal, mg_err *e);
int mg_tokenizer_write(const mg_tokenizer *tk, FILE *f, mg_err *e);
/* Reads one tokenizer member from the reader's current position. */
int mg_tokenizer_read(mg_chunk_reader *cr, mg_tokenizer *tk, mg_err *e);
/* Reads a tokenizer file: exactly one member and nothing after it. */
int mg_tokenizer_load(FILE *f, mg_tokenizer *tk, mg_err *e);
/* Parses a tokenizer member held in memory (an embedded VOCB payload). */
int mg_tokenizer_parse(const uint8_t *p, size_t n, mg_tokenizer *tk, mg_err *e);

/* Bytes of one token (len in *n); id must be < vocab_size. */
const uint8_t *mg_tokenizer_token(const mg_tokenizer *tk, uint32_t id, size_t *n);
/* Appends the bytes of ids to out; MG_E_INVAL for an id out of range,
 * MG_E_UNSUPPORTED for a palette (images are not text). */
int mg_tokenizer_decode(const mg_tokenizer *tk, const uint32_t *ids, size_t n, mg_buf *out, mg_err *e);

/* "bpe", "chars" or "palette". */
const char *mg_tokenizer_kind_name(uint32_t kind);

#endif
