#!/usr/bin/env python3
"""Corruption sweep of the file readers: seeded mutants of token streams,
tokenizer models and checkpoints (truncations, byte flips, header fields set
to 0, 1, max and max-1 with the CRCs recomputed, concatenations), each fed
to the tool that reads such a file. A tool may exit 0 only when the
independent reader (mgread.py) accepts the mutant; otherwise it must exit 1
with one line "tool: file: ..."; no run may pass the memory bound.
usage: sweep.py BIN_DIR WORK_DIR [-v] [--no-info] [--seed n] [--only format] [--scale x]
Every mutant is also read by mygpt-info -c, which must accept exactly what
mgread accepts."""
import argparse
import os
import random
import resource
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mgread  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VEC = ROOT / "formats" / "vectors" / "good"
AS_LIMIT = 2 << 30    # RLIMIT_AS of every run: an allocation past it fails
RSS_BOUND = 256 << 20  # the peak resident memory a run may reach

# Fields of each chunk's payload: (offset, width); "kv" payloads are parsed.
FIELDS = {
    "tokens": {
        "HEAD": [(0, 4), (4, 1), (5, 1), (6, 1), (7, 1), (8, 4), (12, 4)],
        "DATA": [(0, 8), (8, 4), (12, 4), (16, 4)],
        "TAIL": [(0, 8), (8, 8), (16, 8)],
    },
    "tokenizer": {
        "HEAD": [(0, 4), (4, 4), (8, 4), (12, 4)],
        "BYTE": [(0, 4), (1020, 4)],
        "MRGS": [(0, 4), (4, 4), (8, 4), (12, 4)],
        "CHRS": [(0, 4), (4, 4)],
        "PALT": [(0, 4), (4, 4), (8, 4)],
        "SPEC": [(0, 4), (4, 4), (8, 4)],
        "TAIL": [(0, 4)],
    },
    "checkpoint": {
        "HEAD": "kv",
        "TRAI": "kv",
        "TENS": "tens",
        "TAIL": [(0, 4), (4, 4), (8, 8), (16, 8)],
    },
}


def parse(b):
    """The members of a good file: [(offset, [(chunk offset, type, flags, S, R)])]."""
    members, p = [], 0
    while p < len(b):
        m, p = (p, []), p + 16
        while True:
            typ = b[p:p + 4].decode()
            flags, s, r = struct.unpack_from("<III", b, p + 4)
            m[1].append((p, typ, flags, s, r))
            p += 16 + s + 4
            if typ == "TAIL":
                break
        members.append(m)
    return members


def chunk_bytes(typ, flags, raw):
    """A whole chunk with a correct CRC; compressed when flags ask for it."""
    stored = zlib.compress(raw, 6) if flags & 1 else raw
    hdr = typ.encode() + struct.pack("<III", flags, len(stored), len(raw))
    return hdr + stored + struct.pack("<I", zlib.crc32(hdr + stored))


def payload(b, c):
    p, typ, flags, s, r = c
    data = b[p + 16:p + 16 + s]
    return zlib.decompress(data) if flags & 1 else data


def kv_fields(raw):
    """Fields of a KV list: the count, and per entry key length, type, value."""
    out, q = [(0, 4)], 4
    for _ in range(struct.unpack_from("<I", raw, 0)[0]):
        k = raw[q]
        out += [(q, 1), (q + 1 + k, 1)]
        t, q = raw[q + 1 + k], q + 2 + k
        if t in (1, 2):
            out.append((q, 8))
            q += 8
        else:
            out.append((q, 4))
            q += 4 + struct.unpack_from("<I", raw, q)[0]
    return out


def tens_fields(raw):
    k, r = raw[4], raw[2]
    dims = [(5 + k + 4 * i, 4) for i in range(r)]
    return [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1)] + dims + [(5 + k + 4 * r, 8), (13 + k + 4 * r, 8)]


def mutants(kind, b, rng, per_chunk, max_tens):
    """Yields (label, bytes) for one good file: truncations at every chunk,
    flips and field edits in every chunk but at most max_tens of the TENS
    chunks (drawn at random; all TENS chunks are alike)."""
    members = parse(b)
    chunks = [c for _, cs in members for c in cs]
    tens = [c for c in chunks if c[1] == "TENS"]
    keep = set(rng.sample(tens, min(max_tens, len(tens))))
    # truncation at every member and chunk boundary and a few offsets inside
    cuts = {0, len(b) - 1}
    for m, _ in members:
        cuts |= {m, m + 1, m + 8, m + 12, m + 15}
    for c in chunks:
        p, s = c[0], c[3]
        if c[1] == "TENS" and c not in keep:
            cuts |= {p, p + 16 + s // 2}
            continue
        cuts |= {p, p + 1, p + 4, p + 15, p + 16, p + 16 + s // 2, p + 16 + s, p + 18 + s}
    for n in sorted(x for x in cuts if 0 <= x < len(b)):
        yield f"cut-{n}", b[:n]
    # one-byte flips in every preamble and chunk, raw and with the CRC fixed
    for m, _ in members:
        for i in rng.sample(range(16), min(per_chunk, 16)):
            yield f"flip-pre-{m + i}", flip(b, m + i, rng)
    chunks = [c for c in chunks if c[1] != "TENS" or c in keep]
    for c in chunks:
        p, typ, flags, s, r = c
        for i in rng.sample(range(20 + s), min(per_chunk, 20 + s)):
            yield f"flip-{typ}@{p}-{i}", flip(b, p + i, rng)
        raw = payload(b, c)
        for i in rng.sample(range(len(raw)), min(per_chunk, len(raw))):
            x = bytearray(raw)
            x[i] ^= rng.randrange(1, 256)
            yield f"fix-{typ}@{p}-{i}", b[:p] + chunk_bytes(typ, flags, bytes(x)) + b[p + 20 + s:]
    # header fields set to 0, 1, max-1 and max, CRCs recomputed
    for m, _ in members:
        for off in (8, 10):
            for v in edge_values(2):
                x = bytearray(b)
                x[m + off:m + off + 2] = v
                x[m + 12:m + 16] = struct.pack("<I", zlib.crc32(bytes(x[m:m + 12])))
                yield f"pre@{m}+{off}={v.hex()}", bytes(x)
    for c in chunks:
        p, typ, flags, s, r = c
        for off in (4, 8, 12):
            for v in edge_values(4):
                x = bytearray(b[p:p + 16 + s])
                x[off:off + 4] = v
                yield f"hdr-{typ}@{p}+{off}={v.hex()}", b[:p] + bytes(x) + struct.pack("<I", zlib.crc32(bytes(x))) + b[p + 20 + s:]
        raw = payload(b, c)
        spec = FIELDS[kind].get(typ, [])
        fields = kv_fields(raw) if spec == "kv" else tens_fields(raw) if spec == "tens" else spec
        for off, w in fields:
            if off + w > len(raw):
                continue
            # KV integers also claim large models within the limits
            claims = [v.to_bytes(8, "little") for v in (1 << 10, 1 << 16, 1 << 24)] if spec == "kv" and w == 8 else []
            for v in edge_values(w) + claims:
                x = bytearray(raw)
                x[off:off + w] = v
                yield f"field-{typ}@{p}+{off}={v.hex()}", b[:p] + chunk_bytes(typ, flags, bytes(x)) + b[p + 20 + s:]
    # concatenations
    first = b[:members[1][0]] if len(members) > 1 else b
    yield "cat-self", b + b
    yield "cat-first-twice", first + first
    yield "cat-cut", b + b[:len(b) // 2]
    yield "cat-preamble", b + b[:16]
    yield "cat-byte", b + b"\0"
    yield "cat-three", b + first + b


def flip(b, i, rng):
    x = bytearray(b)
    x[i] ^= rng.randrange(1, 256)
    return bytes(x)


def edge_values(w):
    top = (1 << (8 * w)) - 1
    return [v.to_bytes(w, "little") for v in (0, 1, top - 1, top)]


class Sweep:
    def __init__(self, bin_dir, work, info):
        self.bin, self.work, self.info = Path(bin_dir), Path(work), info
        self.env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.failures, self.tool_only, self.peak, self.peak_label = [], [], 0, ""

    def tool(self, name, *args):
        return [str(self.bin / name), *args]

    def run(self, argv, paths, label):
        """Runs argv; returns its status after checking stderr and memory."""
        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))
        with open(self.work / "stderr", "w+b") as err:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                 env=self.env, preexec_fn=limit)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            text = self.last_err = err.read().decode(errors="replace")
        rss = ru.ru_maxrss * 1024
        if rss > self.peak:
            self.peak, self.peak_label = rss, label
        if rss > RSS_BOUND:
            self.fail(label, f"peak RSS {rss >> 20} MiB over the {RSS_BOUND >> 20} MiB bound")
        name = os.path.basename(argv[0])
        if p.returncode == 0:
            if text:
                self.fail(label, f"exit 0 with stderr {text!r}")
        elif p.returncode != 1:
            self.fail(label, f"exit {p.returncode}: {text!r}")
        elif text.count("\n") != 1 or not any(text.startswith(f"{name}: {p}: ") for p in paths):
            self.fail(label, f"exit 1 without one line '{name}: {paths[0]}: ...': {text!r}")
        return p.returncode

    def fail(self, label, what):
        self.failures.append(f"{label}: {what}")

    def check(self, kind, base, data, argv_of, rng_label):
        path = self.work / f"m.{ {'tokens': 'tok', 'tokenizer': 'tkz', 'checkpoint': 'ckpt'}[kind]}"
        path.write_bytes(data)
        try:
            mgread.read_any(data)
            ok = True
        except (mgread.FormatError, IndexError, struct.error, ValueError, zlib.error) as e:
            ok = False
            if not isinstance(e, mgread.FormatError):
                self.fail(rng_label, f"mgread raised {type(e).__name__}: {e}")
        argv = argv_of(str(path))
        # a model may lack a character of the text, a message on the text
        inputs = [str(path)] + [x for x in argv[1:] if x.endswith(".txt")]
        status = self.run(argv, inputs, rng_label)
        if ok and status != 0:
            self.tool_only.append(f"{rng_label}: {self.last_err.strip()}")
        if status == 0 and not ok:
            kept = self.work / f"accepted-{len(self.failures)}-{base}"
            kept.write_bytes(data)
            self.fail(rng_label, f"the tool accepts what mgread rejects (kept as {kept})")
        # mygpt-info reads every format with the same checks, in bounded memory
        if self.info:
            st = self.run(self.tool("mygpt-info", "-q", "-c", str(path)), [str(path)], rng_label + ":info")
            if (st == 0) != ok:
                self.fail(rng_label, f"mygpt-info exits {st} where mgread {'accepts' if ok else 'rejects'}")
        return ok, status == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("work")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-v", action="store_true", help="list what only the tool rejects")
    ap.add_argument("--no-info", action="store_true", help="do not also read every mutant with mygpt-info")
    ap.add_argument("--only", choices=("tokens", "tokenizer", "checkpoint"), help="sweep one format")
    ap.add_argument("--scale", type=float, default=1, help="times the default flips per chunk")
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    sw = Sweep(a.bin, work, not a.no_info)
    b = sw.tool

    # the files mutated: the good vectors and small files the tools make
    subprocess.run(b("adder-gen", "-q", "--digits", "1", "-o", str(work / "adder.tok")), check=True)
    (work / "text.txt").write_bytes((ROOT / "examples/data/tinyshakespeare.txt").read_bytes()[:3000])
    subprocess.run(b("bpe-encode", "-q", "-m", str(VEC / "bpe.tkz"), "--separator", r"\n\n", "-o",
                     str(work / "text.tok"), str(work / "text.txt")), check=True)
    subprocess.run(b("bpe-train", "-q", "--no-split", "--vocab-size", "300", "--special", "<|end|>", "-o",
                     str(work / "nosplit.tkz"), str(work / "text.txt")), check=True)
    subprocess.run(b("bpe-train", "-q", "--chars", "-o", str(work / "textchars.tkz"), str(work / "text.txt")), check=True)
    subprocess.run(b("gpt-init", "-q", "--data", str(work / "adder.tok"), "--layers", "1", "--heads", "2",
                     "--embd", "8", "--block", "8", "-o", str(work / "init.ckpt")), check=True)
    subprocess.run(b("gpt-train", "-q", "--data", str(work / "adder.tok"), "--iters", "1", "--batch", "4",
                     "-j", "1", "-o", str(work / "trained.ckpt"), str(work / "init.ckpt")), check=True)
    sample = lambda p: b("gpt-sample", "-q", "--max-new-tokens", "1", "--tokens", "-j", "1", "-o", "/dev/null", p)
    (work / "chars.txt").write_bytes("a \n\u00e9a\U0001f917 a\n".encode() + b"\xff")
    encode = lambda text: lambda p: b("bpe-encode", "-q", "-m", p, "-o", "/dev/null", str(work / text))
    palette = lambda p: b("gpt-init", "-q", "--tokenizer", p, "--layers", "1", "--heads", "1", "--embd", "4",
                          "--block", "2", "-o", "/dev/null")
    to_ids = lambda p: b("bpe-encode", "--to-ids", "-q", "-o", "/dev/null", p)
    plan = [
        # (format, file, tool, flips per chunk)
        ("tokens", work / "text.tok", to_ids, 20),
        ("tokens", VEC / "records_mask.tok", to_ids, 20),
        ("tokens", VEC / "concat.tok", to_ids, 20),
        ("tokens", VEC / "empty.tok", to_ids, 20),
        ("tokens", VEC / "documents32.tok", to_ids, 20),
        ("tokenizer", VEC / "bpe.tkz", encode("text.txt"), 90),
        ("tokenizer", VEC / "chars.tkz", encode("chars.txt"), 130),
        ("tokenizer", VEC / "palette.tkz", palette, 130),
        ("tokenizer", work / "nosplit.tkz", encode("text.txt"), 40),
        ("tokenizer", work / "textchars.tkz", encode("text.txt"), 40),
        ("checkpoint", work / "trained.ckpt", sample, 12),
    ]
    stats = {}
    for kind, base, argv_of, per_chunk in plan:
        if a.only and kind != a.only:
            continue
        t0 = time.monotonic()
        rng = random.Random(f"{a.seed}:{base.name}")
        data = base.read_bytes()
        if sw.check(kind, base.name, data, argv_of, f"{base.name}:unchanged") != (True, True):
            sw.fail(f"{base.name}:unchanged", "the good file is not read")
        n = acc = agree_rej = 0
        for label, m in mutants(kind, data, rng, max(1, round(per_chunk * a.scale)), max(1, round(16 * a.scale))):
            ok, passed = sw.check(kind, base.name, m, argv_of, f"{base.name}:{label}")
            n += 1
            acc += passed
            agree_rej += not ok and not passed
        s = stats.setdefault(kind, [0, 0, 0, 0.0])
        s[0] += n
        s[1] += acc
        s[2] += agree_rej
        s[3] += time.monotonic() - t0
        print(f"sweep: {base.name}: {n} mutants, {acc} accepted by the tool", flush=True)
    for kind, (n, acc, rej, secs) in stats.items():
        print(f"sweep: {kind}: {n} mutants, {acc} accepted, {rej} rejected by both readers, "
              f"{n - acc - rej} rejected by the tool only, {secs:.1f} s")
    print(f"sweep: peak RSS {sw.peak / 2**20:.1f} MiB ({sw.peak_label}), bound {RSS_BOUND >> 20} MiB, "
          f"address space limit {AS_LIMIT >> 20} MiB")
    for t in sw.tool_only if a.v else []:
        print(f"sweep: tool only: {t}")
    for f in sw.failures[:50]:
        print(f"sweep: FAIL {f}")
    print(f"sweep: {'FAIL' if sw.failures else 'ok'}: {len(sw.failures)} problem(s)")
    return 1 if sw.failures else 0


if __name__ == "__main__":
    sys.exit(main())
