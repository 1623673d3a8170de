#!/usr/bin/python3
"""An independent reader of the mygpt file formats, written from formats/*.md
alone (Python standard library only). It proves the specs are enough, checks
the committed test vectors, and lets the Python tests read checkpoints.

    mgread.py --check formats/vectors    verify every good and bad vector
    mgread.py --dump FILE                print what a file holds
    mgread.py --ids FILE                 print a token stream's ids, one record per line
    mgread.py --write-ids V LAYOUT       the reverse: text on stdin to a token stream on
                                         stdout; "(i)" is a token with loss mask 0
"""
import signal
import struct
import sys
import zlib
from pathlib import Path

MAGIC = {
    b"\x89MGT\r\n\x1a\n": "tokens",
    b"\x89MGV\r\n\x1a\n": "tokenizer",
    b"\x89MGC\r\n\x1a\n": "checkpoint",
}
CHUNK_MAX = 64 << 20
VOCAB_MAX = 1 << 24
ROLES = ["param", "adam_m", "adam_v"]
DTYPES = {0: ("f32", 4), 1: ("f16", 2), 2: ("bf16", 2), 3: ("q8", None)}


class FormatError(Exception):
    """A file that breaks the spec; kind is one of the words in the bad
    vectors' MANIFEST (magic, version, truncated, crc, limit, corrupt)."""

    def __init__(self, kind, msg):
        super().__init__(f"{kind}: {msg}")
        self.kind = kind


class Chunk:
    def __init__(self, ctype, flags, offset, data):
        self.type, self.flags, self.offset, self.data = ctype, flags, offset, data

    @property
    def ancillary(self):
        return bool(self.flags & 2)


class Reader:
    """Walks members and chunks of a byte string (container.md)."""

    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, n, what):
        if self.pos + n > len(self.buf):
            raise FormatError("truncated", f"{what} at byte {self.pos}")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def at_end(self):
        return self.pos >= len(self.buf)

    def preamble(self, want=None):
        at = self.pos
        head = self.buf[at:at + 8]
        if head not in MAGIC and not any(m.startswith(head) for m in MAGIC if len(head) < 8):
            raise FormatError("magic", f"bad magic at byte {at}")
        p = self.take(16, "preamble")
        kind = MAGIC.get(p[:8])
        if kind is None or (want and kind != want):
            raise FormatError("magic", f"bad magic at byte {at}")
        if zlib.crc32(p[:12]) != struct.unpack_from("<I", p, 12)[0]:
            raise FormatError("crc", f"preamble checksum at byte {at}")
        major, minor = struct.unpack_from("<HH", p, 8)
        if major != 1:
            raise FormatError("version", f"version {major}.{minor}")
        return kind, minor

    def chunk(self):
        at = self.pos
        h = self.take(16, "chunk header")
        ctype = h[:4]
        if not all(c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" for c in ctype):
            raise FormatError("corrupt", f"bad chunk type at byte {at}")
        ctype = ctype.decode()
        flags, stored, raw = struct.unpack_from("<III", h, 4)
        if flags & ~3:
            raise FormatError("corrupt", f"reserved flags in {ctype} at byte {at}")
        if stored > CHUNK_MAX or raw > CHUNK_MAX:
            raise FormatError("limit", f"chunk {ctype} at byte {at} too big")
        if (stored >= raw) if flags & 1 else (stored != raw):
            raise FormatError("corrupt", f"sizes of {ctype} at byte {at}")
        payload = self.take(stored, f"chunk {ctype}")
        crc = struct.unpack("<I", self.take(4, f"chunk {ctype}"))[0]
        if zlib.crc32(h + payload) != crc:
            raise FormatError("crc", f"chunk {ctype} at byte {at}")
        if flags & 1:
            d = zlib.decompressobj()
            try:
                data = d.decompress(payload, raw + 1)
            except zlib.error:
                raise FormatError("corrupt", f"zlib data in {ctype} at byte {at}")
            if len(data) != raw or not d.eof or d.unused_data or d.unconsumed_tail:
                raise FormatError("corrupt", f"zlib size in {ctype} at byte {at}")
        else:
            data = payload
        return Chunk(ctype, flags, at, data)


class Cursor:
    """Little-endian fields out of a payload; running short is corruption."""

    def __init__(self, data, what):
        self.d, self.p, self.what = data, 0, what

    def take(self, n):
        if self.p + n > len(self.d):
            raise FormatError("corrupt", f"{self.what} too short")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack("<H", self.take(2))[0]
    def u32(self): return struct.unpack("<I", self.take(4))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]

    def end(self):
        if self.p != len(self.d):
            raise FormatError("corrupt", f"{self.what} has {len(self.d) - self.p} stray bytes")


# ------------------------------------------------------------- tokenizer

class Tokenizer:
    def __init__(self):
        self.kind, self.vocab_size, self.split = None, 0, 0
        self.byte_id, self.merges, self.chars, self.palette = None, None, None, None
        self.width = self.height = 0
        self.specials = []
        self.tokens = None  # bytes of every id

    def decode(self, ids):
        return b"".join(self.tokens[i] for i in ids)


def _utf8(c):
    if c >= 0x110000:
        return bytes([c - 0x110000])
    return chr(c).encode("utf-8", "surrogatepass")


def read_tokenizer_member(r):
    r.preamble("tokenizer")
    c = r.chunk()
    if c.type != "HEAD" or len(c.data) != 16:
        raise FormatError("corrupt", "tokenizer HEAD")
    t = Tokenizer()
    kind, t.vocab_size, t.split, resv = struct.unpack("<IIII", c.data)
    t.kind = {1: "bpe", 2: "chars", 3: "palette"}.get(kind)
    if t.kind is None or resv:
        raise FormatError("corrupt", f"tokenizer kind {kind}")
    if not 1 <= t.vocab_size <= VOCAB_MAX:
        raise FormatError("limit", "vocabulary size")
    if t.split not in (0, 1) or (t.split and t.kind != "bpe"):
        raise FormatError("corrupt", "pre-tokenizer")
    allowed = {"bpe": {"BYTE", "MRGS"}, "chars": {"CHRS"}, "palette": {"PALT"}}[t.kind] | {"SPEC"}
    seen, count = set(), 1
    while True:
        c = r.chunk()
        if c.type == "TAIL":
            break
        count += 1
        if c.type not in allowed:
            if c.ancillary and c.type not in {"HEAD", "BYTE", "MRGS", "CHRS", "PALT", "SPEC"}:
                continue
            raise FormatError("corrupt", f"chunk {c.type} in a {t.kind} model")
        if c.type in seen:
            raise FormatError("corrupt", f"second {c.type}")
        seen.add(c.type)
        cur = Cursor(c.data, c.type)
        if c.type == "BYTE":
            t.byte_id = [cur.u32() for _ in range(256)]
        elif c.type == "MRGS":
            n = cur.u32()
            if n > t.vocab_size or 12 * n != len(c.data) - 4:
                raise FormatError("corrupt", "merge count")
            t.merges = [struct.unpack_from("<III", c.data, 4 + 12 * i) for i in range(n)]
            cur.p = len(c.data)
        elif c.type == "CHRS":
            n = cur.u32()
            if n > t.vocab_size or 4 * n != len(c.data) - 4:
                raise FormatError("corrupt", "character count")
            t.chars = list(struct.unpack_from(f"<{n}I", c.data, 4))
            cur.p = len(c.data)
        elif c.type == "PALT":
            t.width, t.height, n = cur.u32(), cur.u32(), cur.u32()
            if n > t.vocab_size or 3 * n != len(c.data) - 12:
                raise FormatError("corrupt", "colour count")
            t.palette = [tuple(cur.take(3)) for _ in range(n)]
        elif c.type == "SPEC":
            n = cur.u32()
            if n > t.vocab_size:
                raise FormatError("corrupt", "special count")
            for _ in range(n):
                i, ln = cur.u32(), cur.u32()
                if not 1 <= ln <= 256:
                    raise FormatError("corrupt", "special length")
                t.specials.append((i, cur.take(ln)))
        cur.end()
    if len(c.data) != 4 or struct.unpack("<I", c.data)[0] != count:
        raise FormatError("corrupt", "tokenizer TAIL count")
    need = allowed - {"SPEC"}
    if not need <= seen:
        raise FormatError("corrupt", "missing required chunk")
    _build_tokens(t)
    return t


def _build_tokens(t):
    v = t.vocab_size
    tokens = [None] * v

    def claim(i, b):
        if i >= v or tokens[i] is not None:
            raise FormatError("corrupt", f"id {i} out of range or reused")
        tokens[i] = b

    if t.kind == "bpe":
        for b, i in enumerate(t.byte_id):
            claim(i, bytes([b]))
        total = 256
        for left, right, new in t.merges:
            if left >= v or right >= v or tokens[left] is None or tokens[right] is None:
                raise FormatError("corrupt", "merge of undefined tokens")
            if len(tokens[left]) + len(tokens[right]) > 1 << 20:
                raise FormatError("limit", "token too long")
            total += len(tokens[left]) + len(tokens[right])
            if total > 1 << 28:
                raise FormatError("limit", "tokens too long in all")
            claim(new, tokens[left] + tokens[right])
    elif t.kind == "chars":
        if len(set(t.chars)) != len(t.chars):
            raise FormatError("corrupt", "repeated character")
        for i, c in enumerate(t.chars):
            if 0xD800 <= c < 0xE000 or c > 0x1100FF:
                raise FormatError("corrupt", "bad code point")
            claim(i, _utf8(c))
    else:
        if not (1 <= t.width <= 4096 and 1 <= t.height <= 4096):
            raise FormatError("corrupt", "image size")
        for i, rgb in enumerate(t.palette):
            claim(i, bytes(rgb))
    for i, b in t.specials:
        claim(i, b)
    if any(x is None for x in tokens):
        raise FormatError("corrupt", "id without a token")
    t.tokens = tokens


def read_tokenizer(path_or_bytes):
    r = Reader(_bytes(path_or_bytes))
    t = read_tokenizer_member(r)
    if not r.at_end():
        raise FormatError("corrupt", "stray bytes after the tokenizer")
    return t


# ----------------------------------------------------------------- tokens

class Tokens:
    LAYOUTS = ["stream", "documents", "examples"]

    def __init__(self):
        self.vocab_size = self.id_bytes = self.record_len = 0
        self.layout, self.has_mask = None, False
        self.tokenizer = None
        self.ids, self.mask, self.starts = [], [], []

    def records(self):
        """[(ids, mask)] per record (the whole stream for layout stream)."""
        bounds = self.starts + [len(self.ids)] if self.starts else [0, len(self.ids)]
        return [(self.ids[a:b], self.mask[a:b] if self.has_mask else None)
                for a, b in zip(bounds, bounds[1:])]


def _parse_tokens_head(data):
    if len(data) != 16:
        raise FormatError("corrupt", "tokens HEAD size")
    v, w, layout, flags, resv, rlen, resv2 = struct.unpack("<IBBBBII", data)
    if not 1 <= v <= VOCAB_MAX:
        raise FormatError("limit", "vocabulary size")
    if w not in (2, 4) or (w == 2 and v > 65536) or layout > 2 or flags > 1 or resv or resv2:
        raise FormatError("corrupt", "tokens HEAD fields")
    if rlen and layout == 0:
        raise FormatError("corrupt", "record length without records")
    return v, w, layout, flags, rlen


def read_tokens(path_or_bytes):
    r = Reader(_bytes(path_or_bytes))
    out = Tokens()
    first_head = first_vocb = None
    member_index = -1
    while True:
        member_index += 1
        r.preamble("tokens")
        c = r.chunk()
        if c.type != "HEAD":
            raise FormatError("corrupt", "first chunk is not HEAD")
        v, w, layout, flags, rlen = _parse_tokens_head(c.data)
        if first_head is None:
            first_head = c.data
            out.vocab_size, out.id_bytes, out.record_len = v, w, rlen
            out.layout, out.has_mask = Tokens.LAYOUTS[layout], bool(flags & 1)
        elif c.data != first_head:
            raise FormatError("corrupt", "member header differs")
        member_tokens = member_records = member_chunks = 0
        rec_start = None
        after_head = True
        while True:
            c = r.chunk()
            if c.type == "VOCB" and after_head:
                after_head = False
                if member_index == 0:
                    out.tokenizer = read_tokenizer(c.data)
                    if out.tokenizer.vocab_size != v:
                        raise FormatError("corrupt", "tokenizer size differs")
                    first_vocb = c.data
                elif first_vocb is not None and c.data != first_vocb:
                    raise FormatError("corrupt", "member tokenizer differs")
                continue
            after_head = False
            if c.type == "TAIL":
                break
            if c.type != "DATA":
                if c.ancillary and c.type not in ("HEAD", "VOCB"):
                    continue
                raise FormatError("corrupt", f"chunk {c.type} out of place")
            cur = Cursor(c.data, "DATA")
            first, n, k = cur.u64(), cur.u32(), cur.u32()
            if not 1 <= n <= 1 << 20 or k > n:
                raise FormatError("corrupt", "DATA counts")
            if first != member_tokens:
                raise FormatError("corrupt", "DATA out of sequence")
            if len(c.data) != 16 + 4 * k + w * n + ((n + 7) // 8 if flags & 1 else 0):
                raise FormatError("corrupt", "DATA size")
            starts = list(struct.unpack_from(f"<{k}I", c.data, 16))
            if any(s >= n for s in starts) or any(b <= a for a, b in zip(starts, starts[1:])):
                raise FormatError("corrupt", "record starts")
            if layout == 0 and k:
                raise FormatError("corrupt", "starts in a stream")
            if layout and member_tokens == 0 and (not starts or starts[0] != 0):
                raise FormatError("corrupt", "member does not start a record")
            ids = struct.unpack_from(f"<{n}{'H' if w == 2 else 'I'}", c.data, 16 + 4 * k)
            if any(i >= v for i in ids):
                raise FormatError("corrupt", "id outside the vocabulary")
            if flags & 1:
                mb = c.data[16 + 4 * k + w * n:]
                mask = [(mb[i >> 3] >> (i & 7)) & 1 for i in range(n)]
                if n % 8 and mb[-1] >> (n % 8):
                    raise FormatError("corrupt", "mask padding")
                out.mask.extend(mask)
            base = len(out.ids)
            for s in starts:
                if rlen and rec_start is not None and base + s - rec_start != rlen:
                    raise FormatError("corrupt", "record length")
                rec_start = base + s
                out.starts.append(base + s)
            out.ids.extend(ids)
            member_tokens += n
            member_records += k
            member_chunks += 1
        if rlen and rec_start is not None and len(out.ids) - rec_start != rlen:
            raise FormatError("corrupt", "record length")
        if len(c.data) != 24 or struct.unpack("<QQQ", c.data) != (member_tokens, member_records, member_chunks):
            raise FormatError("corrupt", "tokens TAIL counts")
        if r.at_end():
            return out


# ------------------------------------------------------------- checkpoint

class Tensor:
    def __init__(self, dims, dtype, data):
        self.dims, self.dtype, self.data = dims, dtype, data

    def floats(self):
        """The values as a list of Python floats."""
        n = 1
        for d in self.dims:
            n *= d
        if self.dtype == "f32":
            return list(struct.unpack(f"<{n}f", self.data))
        if self.dtype == "f16":
            return list(struct.unpack(f"<{n}e", self.data))
        if self.dtype == "bf16":
            return [struct.unpack("<f", b"\0\0" + self.data[2 * i:2 * i + 2])[0] for i in range(n)]
        out = []
        for b in range(n // 32):
            blk = self.data[36 * b:36 * b + 36]
            s = struct.unpack_from("<f", blk)[0]
            out.extend(s * q for q in struct.unpack_from("<32b", blk, 4))
        return out


class Checkpoint:
    def __init__(self):
        self.config, self.train, self.tokenizer, self.tensors = {}, None, None, {}


def _kv(data, what):
    cur = Cursor(data, what)
    n = cur.u32()
    if n > 4096:
        raise FormatError("limit", "too many keys")
    out = {}
    for _ in range(n):
        k = cur.take(cur.u8())
        if not k or len(k) > 63 or not all(c in b"abcdefghijklmnopqrstuvwxyz0123456789_." for c in k):
            raise FormatError("corrupt", "bad key")
        k = k.decode()
        if k in out:
            raise FormatError("corrupt", "duplicate key")
        t = cur.u8()
        if t == 1:
            out[k] = struct.unpack("<q", cur.take(8))[0]
        elif t == 2:
            out[k] = struct.unpack("<d", cur.take(8))[0]
        elif t == 3:
            ln = cur.u32()
            if ln > 65536:
                raise FormatError("limit", "string too long")
            out[k] = cur.take(ln).decode("utf-8", "surrogateescape")
        else:
            raise FormatError("corrupt", "key type")
    cur.end()
    return out


def _dtype_bytes(dt, n):
    name, size = DTYPES[dt]
    return n // 32 * 36 if size is None else n * size


def read_checkpoint(path_or_bytes):
    r = Reader(_bytes(path_or_bytes))
    r.preamble("checkpoint")
    ck = Checkpoint()
    c = r.chunk()
    if c.type != "HEAD":
        raise FormatError("corrupt", "first chunk is not HEAD")
    ck.config = _kv(c.data, "HEAD")
    order, pieces, filled, cur_key, seen_tens = [], 0, 0, None, False
    while True:
        c = r.chunk()
        if c.type == "TAIL":
            break
        if c.type == "VOCB" and not seen_tens and ck.tokenizer is None and ck.train is None:
            ck.tokenizer = read_tokenizer(c.data)
            continue
        if c.type == "TRAI" and not seen_tens and ck.train is None:
            ck.train = _kv(c.data, "TRAI")
            continue
        if c.type != "TENS":
            if c.ancillary and c.type not in ("HEAD", "VOCB", "TRAI"):
                continue
            raise FormatError("corrupt", f"chunk {c.type} out of place")
        seen_tens = True
        pieces += 1
        cur = Cursor(c.data, "TENS")
        role, dt, rank, resv = cur.u8(), cur.u8(), cur.u8(), cur.u8()
        name = cur.take(cur.u8())
        if (not name or not all(ch in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_." for ch in name)
                or role > 2 or dt > 3 or not 1 <= rank <= 4 or resv):
            raise FormatError("corrupt", "tensor header")
        name = name.decode()
        dims = [cur.u32() for _ in range(rank)]
        n = 1
        for d in dims:
            if d == 0:
                raise FormatError("corrupt", "zero dimension")
            n *= d
        if n > 1 << 36:
            raise FormatError("limit", "tensor too big")
        off, cnt = cur.u64(), cur.u64()
        if dt == 3 and (dims[-1] % 32 or off % 32 or cnt % 32):
            raise FormatError("corrupt", "q8 blocks")
        if cnt == 0 or off + cnt > n:
            raise FormatError("corrupt", "piece outside the tensor")
        data = cur.take(_dtype_bytes(dt, cnt))
        cur.end()
        key = (name, ROLES[role])
        if off == 0:
            if cur_key is not None and filled != _n(ck.tensors[cur_key].dims):
                raise FormatError("corrupt", "tensor incomplete")
            if key in ck.tensors:
                raise FormatError("corrupt", "tensor twice")
            ck.tensors[key] = Tensor(dims, DTYPES[dt][0], bytearray())
            order.append(key)
            cur_key, filled = key, 0
        t = ck.tensors.get(cur_key)
        if cur_key != key or t.dims != dims or t.dtype != DTYPES[dt][0] or off != filled:
            raise FormatError("corrupt", "piece does not continue its tensor")
        t.data += data
        filled += cnt
    if cur_key is not None and filled != _n(ck.tensors[cur_key].dims):
        raise FormatError("corrupt", "tensor incomplete")
    total = sum(_n(t.dims) for t in ck.tensors.values())
    if len(c.data) != 24 or struct.unpack("<IIQQ", c.data) != (len(ck.tensors), 0, total, pieces):
        raise FormatError("corrupt", "checkpoint TAIL counts")
    if not r.at_end():
        raise FormatError("corrupt", "stray data after the checkpoint")
    for t in ck.tensors.values():
        t.data = bytes(t.data)
    return ck


def _n(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def _bytes(x):
    return x if isinstance(x, (bytes, bytearray)) else Path(x).read_bytes()


def read_any(path_or_bytes):
    b = _bytes(path_or_bytes)
    kind = MAGIC.get(b[:8])
    if kind == "tokens":
        return kind, read_tokens(b)
    if kind == "tokenizer":
        return kind, read_tokenizer(b)
    if kind == "checkpoint":
        return kind, read_checkpoint(b)
    raise FormatError("magic", "bad magic at byte 0")


# ----------------------------------------------------------------- writer

def _chunk(ctype, payload, flags=0):
    stored = payload
    if flags & 1:
        z = zlib.compress(payload, 6)
        if len(z) < len(payload):
            stored = z
        else:
            flags &= ~1
    h = ctype.encode() + struct.pack("<III", flags, len(stored), len(payload))
    return h + stored + struct.pack("<I", zlib.crc32(h + stored))


def _preamble(magic):
    p = magic + struct.pack("<HH", 1, 0)
    return p + struct.pack("<I", zlib.crc32(p))


def write_tokens(records, vocab, layout, masks=None):
    """A one-member token stream: records is a list of id lists (one record
    per list for layouts 1 and 2, joined for layout 0), masks None or a list
    of 0/1 lists. Written from the spec, independently of the C writer."""
    width = 2 if vocab <= 65536 else 4
    out = [_preamble(b"\x89MGT\r\n\x1a\n"),
           _chunk("HEAD", struct.pack("<IBBBBII", vocab, width, layout, 1 if masks else 0, 0, 0, 0))]
    ids = [i for r in records for i in r]
    mask = [m for r in masks for m in r] if masks else None
    starts, pos = [], 0
    for r in records:
        if layout and r:
            starts.append(pos)
        pos += len(r)
    n_chunks, chunk = 0, 65536
    for a in range(0, len(ids), chunk):
        part = ids[a:a + chunk]
        st = [s - a for s in starts if a <= s < a + chunk]
        p = struct.pack("<QII", a, len(part), len(st)) + struct.pack(f"<{len(st)}I", *st)
        p += struct.pack(f"<{len(part)}{'H' if width == 2 else 'I'}", *part)
        if mask:
            bits = bytearray((len(part) + 7) // 8)
            for i, m in enumerate(mask[a:a + chunk]):
                bits[i >> 3] |= (m & 1) << (i & 7)
            p += bytes(bits)
        out.append(_chunk("DATA", p, 1))
        n_chunks += 1
    out.append(_chunk("TAIL", struct.pack("<QQQ", len(ids), len(starts), n_chunks)))
    return b"".join(out)


# ------------------------------------------------------------------- cli

def describe(kind, x):
    """A stable text summary; the good vectors' MANIFEST holds these lines."""
    if kind == "tokens":
        tk = f" tokenizer={x.tokenizer.kind}" if x.tokenizer else ""
        s = (f"tokens vocab={x.vocab_size} width={x.id_bytes} layout={x.layout} mask={int(x.has_mask)} "
             f"record_len={x.record_len} n={len(x.ids)} records={len(x.starts)}{tk} "
             f"sum={sum(x.ids)} masked={sum(x.mask) if x.has_mask else len(x.ids)}")
        return s
    if kind == "tokenizer":
        return (f"tokenizer kind={x.kind} vocab={x.vocab_size} split={x.split} specials={len(x.specials)} "
                f"bytes={sum(len(t) for t in x.tokens)}")
    floats = sum(sum(t.floats()) for t in x.tensors.values())
    return (f"checkpoint keys={len(x.config)} train={len(x.train) if x.train is not None else '-'} "
            f"tokenizer={x.tokenizer.kind if x.tokenizer else '-'} tensors={len(x.tensors)} "
            f"elements={sum(_n(t.dims) for t in x.tensors.values())} sum={floats:.6g}")


def check(folder):
    folder = Path(folder)
    bad = 0
    for line in (folder / "good" / "MANIFEST").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, want = line.split("\t")
        try:
            got = describe(*read_any(folder / "good" / name))
        except FormatError as e:
            got = f"error {e}"
        if got != want:
            print(f"good/{name}: got '{got}', want '{want}'")
            bad += 1
    n_bad = 0
    for line in (folder / "bad" / "MANIFEST").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, kind, _msg = line.split("\t")
        n_bad += 1
        try:
            read_any(folder / "bad" / name)
            print(f"bad/{name}: accepted, want a {kind} error")
            bad += 1
        except FormatError as e:
            if e.kind != kind:
                print(f"bad/{name}: {e}, want a {kind} error")
                bad += 1
    print(f"mgread: {'FAIL' if bad else 'ok'}: good and {n_bad} bad vectors, {bad} problem(s)")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        return check(argv[2])
    if len(argv) == 3 and argv[1] == "--dump":
        try:
            print(describe(*read_any(argv[2])))
        except FormatError as e:
            print(f"mgread: {argv[2]}: {e}", file=sys.stderr)
            return 1
        return 0
    if len(argv) == 3 and argv[1] == "--ids":
        try:
            t = read_tokens(argv[2] if argv[2] != "-" else sys.stdin.buffer.read())
        except FormatError as e:
            print(f"mgread: {argv[2]}: {e}", file=sys.stderr)
            return 1
        for ids, mask in t.records():
            print(" ".join(str(i) if mask is None or m else f"({i})" for i, m in zip(ids, mask or ids)))
        return 0
    if len(argv) == 4 and argv[1] == "--write-ids":
        records, masks = [], []
        for line in sys.stdin.read().splitlines():
            words = line.split()
            records.append([int(w.strip("()")) for w in words])
            masks.append([0 if w.startswith("(") else 1 for w in words])
        with_mask = any(0 in m for m in masks)
        sys.stdout.buffer.write(write_tokens(records, int(argv[2]), Tokens.LAYOUTS.index(argv[3]),
                                             masks if with_mask else None))
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv))
