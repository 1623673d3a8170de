/* A read-only mapping of the rest of a regular file open as a FILE, for
 * readers that check and take large payloads where they lie in the page
 * cache instead of copying them out (checkpoints). Pipes are not mapped. */
#ifndef MG_FILEMAP_H
#define MG_FILEMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct mg_filemap {
	void *base;  /* the mapping of the whole file, or NULL */
	size_t len;  /* its bytes */
	size_t start; /* the FILE's position when it was mapped */
} mg_filemap;

/* Maps f when it is a regular file with at least one byte left after its
 * position: 1 when mapped (the bytes from the position are m->base +
 * m->start, m->len - m->start of them), 0 when not (a pipe, a terminal,
 * nothing left, mmap refused), when the caller reads f as usual. Either way
 * m can be given to mg_filemap_close. */
int mg_filemap_open(mg_filemap *m, FILE *f);
/* Moves f's position past the n mapped bytes a reader took, as if it had
 * read them. */
void mg_filemap_skip(const mg_filemap *m, FILE *f, uint64_t n);
/* Whether p points into the mapping. */
int mg_filemap_holds(const mg_filemap *m, const void *p);
void mg_filemap_close(mg_filemap *m);

#endif
