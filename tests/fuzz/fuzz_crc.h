/* A libFuzzer custom mutator for the container (formats/container.md): after
 * libFuzzer's own mutation, three times in four it recomputes the preamble
 * and chunk CRC-32s, so that mutants reach the chunk parsers behind the
 * checksums; the fourth keeps exploring the checksum checks themselves. */
#ifndef MG_FUZZ_CRC_H
#define MG_FUZZ_CRC_H

#include <stdint.h>
#include <string.h>
#include <zlib.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

static uint32_t fuzz_le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void fuzz_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* Walks members and chunks from byte 0 and rewrites each CRC it can reach. */
static void fuzz_fix_crcs(uint8_t *d, size_t n)
{
	size_t p = 0;

	while (p + 16 <= n && d[p] == 0x89 && d[p + 1] == 'M' && d[p + 2] == 'G') {
		fuzz_put32(d + p + 12, (uint32_t)crc32(0, d + p, 12));
		p += 16;
		for (;;) {
			uint32_t s;
			if (p + 16 > n)
				return;
			s = fuzz_le32(d + p + 8);
			if (s > n - p - 16 || n - p - 16 - s < 4)
				return;
			fuzz_put32(d + p + 16 + s, (uint32_t)crc32(0, d + p, 16 + s));
			p += 16 + (size_t)s + 4;
			if (!memcmp(d + p - 20 - s, "TAIL", 4))
				break;
		}
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if (seed % 4)
		fuzz_fix_crcs(data, size);
	return size;
}

#endif
