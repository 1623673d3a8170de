#!/usr/bin/env python3
"""Seed corpora of the fuzz targets (tests/fuzz/fuzz_*.c) in OUT/<target>/:
the good and bad vectors of formats/vectors, each good one also with its
compressed chunks stored plain (so mutations reach the payloads), a tiny
model checkpoint when given, decimal ids, and a small slice of GPT-2's
encoder.json and vocab.bpe (tests/data/gpt2).
usage: seeds.py ROOT OUT [tiny.ckpt]"""
import json
import os
import struct
import sys
import zlib


def stored_plain(b, limit=1 << 16):
    """The file with every zlib chunk of raw size <= limit stored plain."""
    out, p = bytearray(), 0
    while p + 16 <= len(b) and b[p] == 0x89:
        out += b[p:p + 16]
        p += 16
        while p + 16 <= len(b):
            typ, flags, s, r = b[p:p + 4], *struct.unpack_from("<III", b, p + 4)
            payload = b[p + 16:p + 16 + s]
            if flags & 1 and r <= limit:
                payload, flags, s = zlib.decompress(payload), flags & ~1, r
            hdr = typ + struct.pack("<III", flags, s, len(payload))
            out += hdr + payload + struct.pack("<I", zlib.crc32(hdr + payload))
            p += 16 + struct.unpack_from("<I", b, p + 8)[0] + 4
            if typ == b"TAIL":
                break
    return bytes(out + b[p:])


def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    root, out = sys.argv[1], sys.argv[2]
    vec = os.path.join(root, "formats", "vectors")
    for target, ext in (("tokstream", ".tok"), ("tokenizer", ".tkz"), ("ckpt", ".ckpt")):
        for kind in ("good", "bad"):
            for n in sorted(os.listdir(os.path.join(vec, kind))):
                if not n.endswith(ext):
                    continue
                b = open(os.path.join(vec, kind, n), "rb").read()
                if len(b) > 1 << 16:
                    continue
                put(os.path.join(out, target), kind + "-" + n, b)
                if kind == "good":
                    plain = stored_plain(b)
                    if plain != b and len(plain) <= 1 << 16:
                        put(os.path.join(out, target), "plain-" + n, plain)
    # mygpt-info reads every format: the first byte picks index or full read
    for d in ("tokstream", "tokenizer", "ckpt"):
        for n in sorted(os.listdir(os.path.join(out, d))):
            b = open(os.path.join(out, d, n), "rb").read()
            if len(b) <= 4096:
                put(os.path.join(out, "info"), d + "-" + n, b"\0" + b)
    if len(sys.argv) > 3:
        b = open(sys.argv[3], "rb").read()
        put(os.path.join(out, "ckpt"), "tiny.ckpt", b)
        put(os.path.join(out, "ckpt"), "plain-tiny.ckpt", stored_plain(b))
        put(os.path.join(out, "info"), "tiny.ckpt", b"\0" + b)
        put(os.path.join(out, "info"), "full-tiny.ckpt", b"\1" + b)
    # decimal ids: the first byte picks the vocabulary and masks (fuzz_idtext.c)
    ids = open(os.path.join(root, "tests", "data", "gpt2", "tinyshakespeare_100k.ids"), "rb").read()
    idt = os.path.join(out, "idtext")
    put(idt, "gpt2", b"\x02" + ids[:2000])
    put(idt, "masks", b"\x05" + b"1 2 3\n(4) 5\r\n9\n\n\t7  (0)\n")
    put(idt, "big", b"\x03" + b"16777215 0\n16777216\n")
    put(idt, "bad", b"\x04" + b"1 (2 3)\n((4))\nx\n")
    # GPT-2: encoder.json NUL vocab.bpe, cut to the byte tokens and 200 merges
    g2 = os.path.join(root, "tests", "data", "gpt2")
    enc = json.load(open(os.path.join(g2, "encoder.json"), encoding="utf-8"))
    lines = open(os.path.join(g2, "vocab.bpe"), "rb").read().split(b"\n")
    merges = lines[1:201]
    small = {k: v for k, v in enc.items() if v < 256 + len(merges)}
    small["<|endoftext|>"] = 256 + len(merges)
    ej = json.dumps(small, ensure_ascii=False, separators=(",", ":")).encode()
    vb = b"\n".join([lines[0]] + merges) + b"\n"
    gd = os.path.join(out, "gpt2")
    put(gd, "small", ej + b"\0" + vb)
    put(gd, "escapes", json.dumps(dict(list(small.items())[:300]), ensure_ascii=True).encode() + b"\0" + vb[:200])
    put(gd, "tiny", b'{"a":0,"b":1,"ab":2}\0#version: 0.2\na b\n')


main()
