/* Reading OpenAI's GPT-2 tokenizer files (encoder.json: token string -> id,
 * in GPT-2's printable byte alphabet; vocab.bpe: the merges in rank order)
 * into a BPE tokenizer model with GPT-2's pre-tokenizer. */
#ifndef MG_GPT2_IMPORT_H
#define MG_GPT2_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "io/tokenizer.h"

#define MG_GPT2_FILE_MAX (64u << 20) /* largest encoder.json or vocab.bpe read */

/* Builds tk from the two files' contents. Entries of the encoder that are
 * neither a byte nor made by a merge become special tokens (GPT-2's
 * <|endoftext|>). Errors name the file ("encoder.json: byte 17: ...",
 * "vocab.bpe: line 3: ..."). */
int mg_gpt2_import(const uint8_t *encoder_json, size_t enc_len, const uint8_t *vocab_bpe, size_t bpe_len,
		   mg_tokenizer *tk, mg_err *e);

/* Reads DIR/encoder.json and DIR/vocab.bpe and imports them; errors name the
 * file with its path. */
int mg_gpt2_import_dir(const char *dir, mg_tokenizer *tk, mg_err *e);

/* GPT-2's byte alphabet: the code point that stands for byte b in its files. */
uint32_t mg_gpt2_byte_char(uint8_t b);

#endif
