/* What a mygpt file holds (mygpt-info): its format, found by the magic, the
 * sizes of its container, and the facts of a checkpoint, tokenizer model or
 * token stream, read by that format's own reader in bounded memory. */
#ifndef MG_INFO_H
#define MG_INFO_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "io/ckpt.h"
#include "io/tokenizer.h"
#include "io/tokstream.h"

enum { MG_INFO_TOKENS = 1, MG_INFO_TOKENIZER = 2, MG_INFO_CHECKPOINT = 3 };

/* The container (formats/container.md), counted over the whole input. */
typedef struct mg_info_sizes {
	uint32_t major, minor; /* the first member's version */
	uint64_t file_bytes;   /* bytes read */
	uint64_t raw_bytes;    /* the same file with every chunk stored plain */
	uint64_t members;      /* concatenated members (token streams: 1 or more) */
	uint64_t chunks;       /* chunks of all members (not those inside a VOCB) */
} mg_info_sizes;

/* A token stream, counted over every member. */
typedef struct mg_info_tokens {
	mg_tokstream_header h;
	uint64_t tokens, records;
	uint64_t record_min, record_max; /* token counts of records; 0 without records */
	uint64_t targets;                /* tokens whose loss-mask bit is 1 (all without a mask) */
	uint32_t id_min, id_max;         /* 0 and 0 when there are no tokens */
	uint64_t ids_distinct;           /* distinct ids used */
} mg_info_tokens;

/* The tensors of a checkpoint, per role (MG_ROLE_*). */
typedef struct mg_info_roles {
	uint32_t tensors[MG_ROLE_COUNT];
	uint64_t elems[MG_ROLE_COUNT];
	uint64_t bytes[MG_ROLE_COUNT]; /* as stored uncompressed (mg_dtype_bytes) */
} mg_info_roles;

typedef struct mg_info {
	uint32_t kind; /* MG_INFO_* */
	mg_info_sizes size;
	/* the tokenizer file itself, or the one a stream or checkpoint embeds */
	mg_tokenizer tk;
	int has_tokenizer;
	uint32_t tk_longest;     /* bytes of the longest token (specials included) */
	int tk_bytes_identity;   /* bpe: byte b is token b (bpe-train's models; GPT-2's is permuted) */
	mg_info_tokens tok;      /* MG_INFO_TOKENS */
	mg_ckpt ck;              /* MG_INFO_CHECKPOINT: config, training state, tensors
				  * with data NULL; its tokenizer is moved to tk */
	mg_info_roles roles;     /* MG_INFO_CHECKPOINT */
} mg_info;

/* Reads f to its end, whatever mygpt format it holds, with the checks of
 * that format's reader and its messages; in memory bounded by one chunk
 * (64 MiB) plus a bit per vocabulary id, never whole tensors. A checkpoint's
 * tensor pieces are only decompressed as far as their headers unless full
 * (mg_ckpt_read_index); their CRCs are always checked. Input that starts
 * with no mygpt magic is MG_E_MAGIC "bad magic at byte 0: not a mygpt
 * file"; empty input MG_E_TRUNC. On error *in is left empty. */
int mg_info_read(FILE *f, mg_info *in, int full, mg_err *e);
void mg_info_free(mg_info *in);
/* "tokens", "tokenizer", "checkpoint": the names of the section-5 pages. */
const char *mg_info_kind_name(uint32_t kind);

#endif
