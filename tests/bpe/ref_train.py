#!/usr/bin/python3
"""Reference BPE trainer for the tests: karpathy/minbpe's RegexTokenizer.train
(GPT-2 pattern) or BasicTokenizer.train (--no-split), written to be
obviously correct, not fast: every round recounts all pairs of all pieces.
The pre-tokenizer is Python's re with the Unicode 16 classes of
lib/bpe/unicode16/*.ranges (so it also checks bpe-train's hand-written matcher).

usage: ref_train.py [--no-split] --vocab-size N TEXT [MODEL.tkz]
Prints the merges ("left right" per line), or with MODEL.tkz compares them
with the model's merges and exits 1 on the first difference. Input files
may be any bytes: invalid UTF-8 bytes become one "other" character each."""
import os
import re
import struct
import sys
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def char_class(name):
    parts = []
    with open(os.path.join(ROOT, "lib", "bpe", "unicode16", name + ".ranges")) as f:
        for line in f:
            a, b = (int(x, 16) for x in line.split())
            parts.append("\\U%08x-\\U%08x" % (a, b))
    return "".join(parts)


L, N, S = char_class("letter"), char_class("number"), char_class("white_space")
GPT2 = re.compile(
    "'s|'t|'re|'ve|'m|'ll|'d| ?[%s]+| ?[%s]+| ?[^%s%s%s]+|[%s]+(?![^%s])|[%s]+" % (L, N, S, L, N, S, S, S))


def pieces(data, split):
    if not split:
        return [list(data)] if data else []
    text = data.decode("utf-8", "surrogateescape")  # an invalid byte: one lone surrogate, class "other"
    return [list(p.encode("utf-8", "surrogateescape")) for p in GPT2.findall(text)]


def get_stats(ids, counts):
    for pair in zip(ids, ids[1:]):
        counts[pair] = counts.get(pair, 0) + 1


def merge(ids, pair, idx):
    out, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train(data, vocab_size, split):
    ids = pieces(data, split)
    merges = []
    for i in range(vocab_size - 256):
        stats = {}
        for chunk in ids:
            get_stats(chunk, stats)
        if not stats:
            break
        pair = max(stats, key=stats.get)  # the first of the most frequent, in scan order
        ids = [merge(chunk, pair, 256 + i) for chunk in ids]
        merges.append(pair)
    return merges


def model_merges(path):
    """The MRGS chunk of a .tkz file (formats/tokenizer.md)."""
    with open(path, "rb") as f:
        b = f.read()
    assert b[:8] == b"\x89MGV\r\n\x1a\n", "not a tokenizer file"
    pos = 16
    while pos < len(b):
        typ, flags, stored, raw = struct.unpack_from("<4sIII", b, pos)
        payload = b[pos + 16:pos + 16 + stored]
        pos += 16 + stored + 4
        if flags & 1:
            payload = zlib.decompress(payload)
        if typ == b"MRGS":
            m = struct.unpack_from("<I", payload)[0]
            t = struct.unpack_from("<%dI" % (3 * m), payload, 4)
            return [(t[3 * r], t[3 * r + 1]) for r in range(m)], [t[3 * r + 2] for r in range(m)]
        if typ == b"TAIL":
            break
    sys.exit("no MRGS chunk in " + path)


def main():
    args = sys.argv[1:]
    split = "--no-split" not in args
    args = [a for a in args if a != "--no-split"]
    if len(args) < 3 or args[0] != "--vocab-size":
        sys.exit(__doc__)
    with open(args[2], "rb") as f:
        data = f.read()
    merges = train(data, int(args[1]), split)
    if len(args) == 3:
        for a, b in merges:
            print(a, b)
        return
    got, ids = model_merges(args[3])
    if ids != list(range(256, 256 + len(ids))):
        sys.exit("model merges do not make ids 256, 257, ...")
    for r, (want, have) in enumerate(zip(merges, got)):
        if want != have:
            sys.exit("merge %d: reference %s, model %s" % (r, want, have))
    if len(merges) != len(got):
        sys.exit("reference has %d merges, model %d" % (len(merges), len(got)))
    print("%d merges identical" % len(got))


main()
