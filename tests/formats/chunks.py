#!/usr/bin/env python3
"""The chunks of a mygpt file, for tests of how writers store payloads
(formats/container.md, formats/checkpoint.md); standard library only.

    chunks.py list FILE        one line per chunk: "OFFSET TYPE FLAGS S R", then
                               the tensor's name and role for TENS chunks
    chunks.py payload FILE T   the raw payload of the first chunk of type T
    chunks.py deflate IN OUT   IN with every TENS payload zlib-compressed (level 1) where
                               that makes it smaller at all (how writers before
                               the 2026-12-07 revision stored them)
"""
import struct
import sys
import zlib

ROLES = ("param", "adam_m", "adam_v")


def chunks(b):
    """(offset, type, flags, raw payload) of each chunk, preambles skipped."""
    out, p = [], 0
    while p < len(b):
        p += 16
        while True:
            t = b[p:p + 4].decode()
            fl, s, r = struct.unpack("<III", b[p + 4:p + 16])
            stored = b[p + 16:p + 16 + s]
            out.append((p, t, fl, s, r, zlib.decompress(stored) if fl & 1 else stored))
            p += 20 + s
            if t == "TAIL":
                break
    return out


def chunk(t, fl, raw, level=None):
    if level is not None:
        z = zlib.compress(raw, level)
        if len(z) < len(raw):
            fl, stored = fl | 1, z
        else:
            fl, stored = fl & ~1, raw
    else:
        stored = raw
    h = t.encode() + struct.pack("<III", fl, len(stored), len(raw))
    return h + stored + struct.pack("<I", zlib.crc32(h + stored))


def main(a):
    if len(a) == 2 and a[0] == "list":
        for p, t, fl, s, r, raw in chunks(open(a[1], "rb").read()):
            extra = ""
            if t == "TENS":
                extra = " %s %s" % (raw[5:5 + raw[4]].decode(), ROLES[raw[0]])
            print("%d %s %d %d %d%s" % (p, t, fl, s, r, extra))
    elif len(a) == 3 and a[0] == "payload":
        sys.stdout.buffer.write(next(raw for _, t, _, _, _, raw in chunks(open(a[1], "rb").read()) if t == a[2]))
    elif len(a) == 3 and a[0] == "deflate":
        b = open(a[1], "rb").read()
        out = bytearray(b[:16])  # a checkpoint is one member
        for p, t, fl, s, _, raw in chunks(b):
            out += chunk(t, fl & ~1, raw, 1) if t == "TENS" else b[p:p + 20 + s]
        open(a[2], "wb").write(out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
