/* Read-only file mappings (io/filemap.h): mmap of a regular file, its pages
 * read ahead (MAP_POPULATE), so that a reader's CRC and copies run from the
 * page cache without a read(2) into fresh memory. */
#define _GNU_SOURCE /* MAP_POPULATE */
#include "io/filemap.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifndef MAP_POPULATE
#define MAP_POPULATE 0
#endif

int mg_filemap_open(mg_filemap *m, FILE *f)
{
	struct stat st;
	off_t pos;
	void *p;

	memset(m, 0, sizeof *m);
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (pos = ftello(f)) < 0 || st.st_size <= pos ||
	    (uint64_t)st.st_size > SIZE_MAX)
		return 0;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(f), 0);
	if (p == MAP_FAILED)
		return 0;
	m->base = p;
	m->len = (size_t)st.st_size;
	m->start = (size_t)pos;
	return 1;
}

void mg_filemap_skip(const mg_filemap *m, FILE *f, uint64_t n)
{
	if (m->base)
		fseeko(f, (off_t)(m->start + n), SEEK_SET);
}

int mg_filemap_holds(const mg_filemap *m, const void *p)
{
	const uint8_t *b = m->base, *q = p;

	return b && q >= b && q < b + m->len;
}

void mg_filemap_close(mg_filemap *m)
{
	if (m->base)
		munmap(m->base, m->len);
	memset(m, 0, sizeof *m);
}
