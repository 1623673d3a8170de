/* The fuzz targets' input as a FILE: the readers the tools use take a FILE
 * (fopen'd file or stdin), so the bytes go through fmemopen and the same
 * buffered-stream code path; an empty input is /dev/null (fmemopen needs a
 * size above 0). */
#ifndef MG_FUZZ_FILE_H
#define MG_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>

static inline FILE *fuzz_fopen(const uint8_t *data, size_t size)
{
	if (!size)
		return fopen("/dev/null", "rb");
	return fmemopen((void *)data, size, "rb");
}

#endif
