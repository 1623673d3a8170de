/* The machine's limit for bench-load.sh: the time to read a file's bytes
 * from the page cache into memory already touched (read(2) in 1 MiB calls),
 * and to compute their CRC-32 (zlib's crc32, which every reader runs over
 * every byte), each the best of REPS.
 *
 *     file_read FILE REPS
 *
 * prints "read S crc S bytes N" (seconds). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "bench_util.h"

int main(int argc, char **argv)
{
	struct stat st;
	double best_read = 1e9, best_crc = 1e9;
	unsigned char *buf;
	uLong crc = 0;
	int fd, reps;

	if (argc != 3 || (fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) || (reps = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: file_read FILE REPS\n");
		return 2;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return 1;
	for (int r = 0; r < reps + 1; r++) { /* the first pass touches buf */
		double t = mg_clock_now();
		size_t got = 0;
		ssize_t k;
		lseek(fd, 0, SEEK_SET);
		while (got < (size_t)st.st_size &&
		       (k = read(fd, buf + got, (size_t)st.st_size - got < (1u << 20) ? (size_t)st.st_size - got : 1u << 20)) > 0)
			got += (size_t)k;
		t = mg_clock_now() - t;
		if (got != (size_t)st.st_size) {
			fprintf(stderr, "file_read: %s: short read\n", argv[1]);
			return 1;
		}
		if (r && t < best_read)
			best_read = t;
		t = mg_clock_now();
		crc = crc32(0, buf, (uInt)got);
		t = mg_clock_now() - t;
		if (t < best_crc)
			best_crc = t;
	}
	printf("read %.6f crc %.6f bytes %lld (crc %08lx)\n", best_read, best_crc, (long long)st.st_size, crc);
	free(buf);
	close(fd);
	return 0;
}
