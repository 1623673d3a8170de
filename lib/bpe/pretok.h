/* GPT-2's pre-tokenizer: splits text into the pieces that byte-level BPE
 * encodes one at a time, exactly as the regular expression
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * does with leftmost-first alternation (Unicode 16.0 classes, unicode.h);
 * an invalid UTF-8 byte is one character of the "other" class. Written as a
 * hand-made matcher: linear time, no backtracking, no recursion. */
#ifndef MG_PRETOK_H
#define MG_PRETOK_H

#include <stddef.h>
#include <stdint.h>

/* Returned by mg_pretok_next when the end of the buffer is reached before
 * the piece is decided (only when final is 0). */
#define MG_PRETOK_MORE ((size_t)0)

/* The end of the piece that starts at s[i], i < n. s[0..n) is the whole
 * text when final is 1; otherwise more text may follow s[n-1] and the result
 * is MG_PRETOK_MORE when the piece could depend on it. */
size_t mg_pretok_next(const uint8_t *s, size_t n, size_t i, int final);

/* A cut point for streaming: the largest p in (lo, hi] such that splitting
 * the text at p and pre-tokenizing s[0..p) and the rest separately gives the
 * same pieces as the whole text, judged from s[p-4..p+4) only, so the caller
 * must have at least 4 bytes after hi (hi + 4 <= n). Returns 0 when there is
 * none (a position is only accepted when it ends a run of letters or digits,
 * or a run of other characters not ending in an apostrophe, which no later
 * byte can change). */
size_t mg_pretok_cut(const uint8_t *s, size_t n, size_t lo, size_t hi);

/* The class (MG_UC_*) of the character that ends at s[p-1], p >= 1, when
 * s[p] starts a character (p == n or s[p] is not a continuation byte). */
int mg_pretok_class_before(const uint8_t *s, size_t p);

#endif
