/* Token ids as decimal text: ids separated by spaces, one line per record or
 * document, so that streams can be read and written with ordinary tools.
 * Reading is incremental (bounded memory for any line length). */
#ifndef MG_IDTEXT_H
#define MG_IDTEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/bytes.h"
#include "core/err.h"
#include "core/ids.h"

typedef struct mg_idtext_writer {
	FILE *f;
	size_t n;      /* bytes in buf */
	int line_open; /* ids written on the current line */
	char buf[1 << 16];
} mg_idtext_writer;

void mg_idtext_writer_init(mg_idtext_writer *w, FILE *f);
/* Appends ids to the current line. */
int mg_idtext_put(mg_idtext_writer *w, const uint32_t *ids, size_t n, mg_err *e);
/* The same with a loss mask: an id whose mask byte is 0 is written in
 * parentheses, "(7)"; mask NULL: none are. */
int mg_idtext_put_masked(mg_idtext_writer *w, const uint32_t *ids, const uint8_t *mask, size_t n, mg_err *e);
/* Ends the current line, if it has ids (a line is never empty). */
int mg_idtext_end_line(mg_idtext_writer *w, mg_err *e);
/* Ends the line and writes out what is buffered. */
int mg_idtext_finish(mg_idtext_writer *w, mg_err *e);

typedef struct mg_idtext_reader {
	FILE *f;
	uint32_t vocab_size; /* ids must be below it */
	uint64_t line, col;  /* position of the next byte, from 1 */
	uint64_t num;        /* the number being read (UINT32_MAX once above it) */
	uint64_t n_digits;   /* its digits so far */
	char digits[24];     /* its first 20 digits as written, for messages */
	int in_num, line_ids, eof;
	mg_buf *masks;       /* when set, "(id)" is allowed and masks get 0/1 per id */
	int paren;           /* inside "(", before its ")" */
	uint8_t buf[1 << 16];
} mg_idtext_reader;

void mg_idtext_reader_init(mg_idtext_reader *r, FILE *f, uint32_t vocab_size);
/* Accept "(id)" for an id with loss mask 0; every id read appends its mask
 * byte (0 or 1) to masks. */
void mg_idtext_reader_masks(mg_idtext_reader *r, mg_buf *masks);
/* Reads the next block of text: appends its ids to out, and to line_ends
 * (when not NULL) the number of ids in out at each end of a line that had
 * ids. *eof is set at the end of the input. Errors name the line and column:
 * a character other than a digit, space, tab or newline (a carriage return
 * before a newline is allowed), or an id not below vocab_size (the number as
 * written; its first 20 digits and their count when longer). Nothing to
 * free: on error the reader may be dropped. */
int mg_idtext_read(mg_idtext_reader *r, mg_ids *out, mg_ids *line_ends, int *eof, mg_err *e);

#endif
