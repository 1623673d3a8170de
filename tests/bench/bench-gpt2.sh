#!/bin/sh
# GPT-2 124M's shape from the shell: a random GPT-2 (vocab 50,257, block
# 1,024, 12 layers, 12 heads, 768 wide, tied embeddings; GPT-2's
# initialisation) built in PyTorch and written in Hugging Face's layout as
# the released model.safetensors is (with the attn.bias buffers, 548 MB),
# converted by gpt-convert --from safetensors --gpt2 (f32; --dtype q8, the
# Linear weights; --dtype q8 --other-dtype q8, the tied embedding and head
# too), then gpt-sample at batch 1, greedy from token 0, BENCH_TOKENS new
# tokens (default 128, inside the block: cached decoding) beside PyTorch
# with a KV cache (sample_torch.py's generate_kv) on the same weights read
# from the same file, the same thread count; its cached step takes the
# matrix-vector products through torch.addmv (Debian's torch has a generic
# BLAS, where sample_torch's x @ W.T ran at 0.6x of it on this model).
# Medians of BENCH_RUNS (default 3), interleaved. The limit of a row: the weight bytes read per token
# (every matrix but wpe; the tied matrix once, by the head) at the best rate
# of mem_read.c. The model file is made once into build/bench/gpt2/.
# Environment: BENCH_THREADS (default: all CPUs, both sides), BENCH_RUNS,
# BENCH_TOKENS.
set -eu
cd "$(dirname "$0")/../.."
make -s bin/gpt-convert bin/gpt-sample build/tests/bench/mem_read
D=build/bench/gpt2
mkdir -p "$D"

nice -n 5 /usr/bin/python3 - "$D" <<'PY'
import json, math, os, re, statistics, struct, subprocess, sys, time

sys.path.insert(0, "tests/bench")
import sample_torch as st  # noqa: E402
import torch  # noqa: E402

D = sys.argv[1]
FIXED = os.environ.get("BENCH_THREADS")
THREADS = int(FIXED) if FIXED else len(os.sched_getaffinity(0))
RUNS = int(os.environ.get("BENCH_RUNS") or 3)
NEW = int(os.environ.get("BENCH_TOKENS") or 128)
L, H, C, T, V = 12, 12, 768, 1024, 50257
SRC = D + "/gpt2-124m.safetensors"
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
torch.set_num_threads(THREADS)


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def write_model(path):
    """A random GPT-2 124M as Hugging Face stores it: no prefix, Conv1D
    weights (in, out), the causal-mask buffers, no lm_head (tied)."""
    g = torch.Generator().manual_seed(124)

    def normal(*shape, std=0.02):
        return torch.empty(*shape).normal_(0, std, generator=g)

    P = [("wte.weight", normal(V, C)), ("wpe.weight", normal(T, C, std=0.01))]
    for l in range(L):
        h = f"h.{l}."
        P += [(h + "ln_1.weight", torch.ones(C)), (h + "ln_1.bias", torch.zeros(C)),
              (h + "attn.bias", torch.tril(torch.ones(1, 1, T, T))), (h + "attn.masked_bias", torch.tensor(-1e4)),
              (h + "attn.c_attn.weight", normal(C, 3 * C)), (h + "attn.c_attn.bias", torch.zeros(3 * C)),
              (h + "attn.c_proj.weight", normal(C, C, std=0.02 / math.sqrt(2 * L))),
              (h + "attn.c_proj.bias", torch.zeros(C)),
              (h + "ln_2.weight", torch.ones(C)), (h + "ln_2.bias", torch.zeros(C)),
              (h + "mlp.c_fc.weight", normal(C, 4 * C)), (h + "mlp.c_fc.bias", torch.zeros(4 * C)),
              (h + "mlp.c_proj.weight", normal(4 * C, C, std=0.02 / math.sqrt(2 * L))),
              (h + "mlp.c_proj.bias", torch.zeros(C))]
    P += [("ln_f.weight", torch.ones(C)), ("ln_f.bias", torch.zeros(C))]
    header, at = {"__metadata__": {"format": "pt"}}, 0
    for name, t in P:
        n = t.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [at, at + n]}
        at += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for _, t in P:
            f.write(t.contiguous().numpy().tobytes())
    os.rename(path + ".tmp", path)


class MvGPT(st.GPT):
    """sample_torch's GPT whose cached step takes its matrix-vector products
    through torch.addmv / torch.mv: Debian's torch has a generic BLAS, where
    x @ W.T on a vector is several times slower than mv. Vanilla attention,
    no time-shift: GPT-2's."""

    def step(self, tok, pos, caches):
        C, H, hs = self.C, self.H, self.C // self.H
        x = self.wte[tok] + self.wpe[pos]
        for b, cache in zip(self.blocks, caches):
            h = self.ln(x, b["ln_1.weight"], b["ln_1.bias"])
            q, k, v = torch.addmv(b["attn.c_attn.bias"], b["attn.c_attn.weight"], h).split(C)
            cache[0] = torch.cat([cache[0], k.view(H, 1, hs)], dim=1)
            cache[1] = torch.cat([cache[1], v.view(H, 1, hs)], dim=1)
            att = ((cache[0] @ q.view(H, hs, 1)).squeeze(2) / math.sqrt(hs)).softmax(-1)
            y = (att.unsqueeze(1) @ cache[1]).reshape(C)
            x = x + torch.addmv(b["attn.c_proj.bias"], b["attn.c_proj.weight"], y)
            m = self.ln(x, b["ln_2.weight"], b["ln_2.bias"])
            m = self.act(torch.addmv(b["mlp.c_fc.bias"], b["mlp.c_fc.weight"], m))
            x = x + torch.addmv(b["mlp.c_proj.bias"], b["mlp.c_proj.weight"], m)
        return torch.mv(self.lm_head, self.ln(x, self.lnf_w, self.lnf_b))


def torch_model(path):
    """sample_torch's GPT (with MvGPT's step) on the file's weights
    (nn.Linear's (out, in))."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    header.pop("__metadata__", None)
    buf = bytearray(b[8 + n:])
    del b

    def t(name):
        x = header[name]
        lo, hi = x["data_offsets"]
        w = torch.frombuffer(buf, dtype=torch.float32, offset=lo, count=(hi - lo) // 4).reshape(x["shape"])
        return w.T.contiguous() if name.endswith(CONV1D) else w.clone()

    params = {n: t(n) for n in header if not n.endswith((".attn.bias", ".attn.masked_bias"))}
    params = {{"wte.weight": "wte", "wpe.weight": "wpe"}.get(n, n): w for n, w in params.items()}
    params["lm_head.weight"] = params["wte"]  # tied
    cfg = dict(n_layer=L, n_head=H, n_embd=C, block_size=T, vocab_size=V, attention="vanilla", time_shift=0,
               pos_emb=1, gelu="tanh")
    return MvGPT(state=(cfg, params))


if not os.path.exists(SRC):
    t0 = time.perf_counter()
    write_model(SRC)
    print("made %s in %.1f s" % (SRC, time.perf_counter() - t0))

print("GPT-2 124M's shape (random, tied; %s, %.1f MB): gpt-convert, then gpt-sample at batch 1, greedy, %d new "
      "tokens from token 0; %d runs interleaved; PyTorch %s on %d thread%s, gpt-sample -j %d" % (
          SRC, os.path.getsize(SRC) / 1e6, NEW, RUNS, torch.__version__, THREADS, "s" if THREADS > 1 else "",
          THREADS))
print("load average at start: %s" % load())

# gpt-convert: the file is in the page cache after the first run
KINDS = [("f32", []), ("q8", ["--dtype", "q8"]), ("q8, head q8", ["--dtype", "q8", "--other-dtype", "q8"])]
files = {k: "%s/gpt2-124m-%s.ckpt" % (D, k.replace(", head q8", "-all")) for k, _ in KINDS}
conv = {k: [] for k, _ in KINDS}
subprocess.run(["cat", SRC], stdout=subprocess.DEVNULL, check=True)
for r in range(RUNS):
    for k, opts in KINDS:
        t0 = time.perf_counter()
        run(["bin/gpt-convert", "-q", "--from", "safetensors", "--gpt2", "tests/data/gpt2"] + opts +
            ["-o", files[k], SRC])
        conv[k].append(time.perf_counter() - t0)

model = torch_model(SRC)


def c_run(k):
    """gpt-sample's tokens/s (its -v timing: generation, not loading), the
    whole process's seconds, and its tokens."""
    out = files[k] + ".tok"
    t0 = time.perf_counter()
    r = run(["bin/gpt-sample", "-v", "--greedy", "--tokens", "--start-token", "0", "--max-new-tokens", str(NEW),
             "-j", str(THREADS), "-o", out, files[k]])
    wall = time.perf_counter() - t0
    rate = float(re.search(r" s: ([0-9.]+) tokens/s", r.stderr).group(1))
    ids = run(["/usr/bin/python3", "tests/formats/mgread.py", "--ids", out]).stdout.split()[1:]
    return rate, wall, [int(x) for x in ids]


def t_run():
    t0 = time.perf_counter()
    ids = st.generate_kv(model, [0], NEW, 1)
    return NEW / (time.perf_counter() - t0), None, ids


ROWS = [("PyTorch, KV cache", t_run)] + [("gpt-sample, " + k, lambda k=k: c_run(k)) for k, _ in KINDS]
st.generate_kv(model, [0], 4, 1)  # warm-up: PyTorch's first calls
rates, walls, tokens = [[] for _ in ROWS], [[] for _ in ROWS], [None] * len(ROWS)
for r in range(RUNS):
    for i, (_, fn) in enumerate(ROWS):
        rate, wall, ids = fn()
        rates[i].append(rate)
        walls[i].append(wall)
        tokens[i] = tokens[i] or ids
print("load average at end: %s" % load())

# bytes a token reads: every parameter but wpe (one row), the tied matrix
# once (the head reads all of it, the embedding one row)
lin = L * (3 * C * C + C * C + 8 * C * C)
small = L * (4 * C + 3 * C + C + 4 * C + C) + 2 * C
q8 = lambda n: n // 32 * 36  # noqa: E731 (32 int8 and a float scale)
wbytes = {"PyTorch, KV cache": 4 * (lin + V * C + small),
          "gpt-sample, f32": 4 * (lin + V * C + small),
          "gpt-sample, q8": q8(lin) + 4 * (V * C + small), "gpt-sample, q8, head q8": q8(lin + V * C) + 4 * small}
rate = {n: max(float(run(["build/tests/bench/mem_read", str(n), str(j), "20"]).stdout.split()[2])
               for j in sorted({1, THREADS})) for n in sorted(set(wbytes.values()))}
bw = {label: rate[n] for label, n in wbytes.items()}

print()
print("%-36s %8s %11s" % ("gpt-convert --from safetensors", "seconds", "min-max"))
for k, opts in KINDS:
    c = conv[k]
    print("%-36s %8.2f %5.2f-%-5.2f -> %s, %.1f MB" % (" ".join(["--gpt2"] + opts) if opts else "--gpt2 (f32)",
                                                     statistics.median(c), min(c), max(c), files[k],
                                                     os.path.getsize(files[k]) / 1e6))
print()
print("%-28s %10s %9s %15s %12s %14s %9s" % ("%d new tokens, batch 1" % NEW, "tokens/s", "x PyTorch", "min-max",
                                               "process (s)", "weights (MB)", "limit"))
base = statistics.median(rates[0])
for i, (label, _) in enumerate(ROWS):
    med = statistics.median(rates[i])
    proc = "%.2f" % statistics.median(walls[i]) if walls[i][0] is not None else "-"
    print("%-28s %10.1f %8.2fx %7.1f-%-7.1f %12s %14.1f %9.1f" % (
        label, med, med / base, min(rates[i]), max(rates[i]), proc, wbytes[label] / 1e6,
        bw[label] * 1e9 / wbytes[label]))
print()
print("limit: the weight bytes a token reads at the best read rate of that many bytes (mem_read.c, %s): %s" % (
    "1 or %d threads" % THREADS if THREADS > 1 else "1 thread",
    ", ".join("%.1f GB/s for %.1f MB" % (rate[n], n / 1e6) for n in sorted(rate))))
eq = lambda i, j: sum(a == b for a, b in zip(tokens[i], tokens[j]))  # noqa: E731
print("greedy tokens equal (a random model's logits are nearly flat, so near ties can differ): "
      "gpt-sample f32 to PyTorch %d/%d; gpt-sample q8 to f32 %d/%d, q8 with the head q8 to f32 %d/%d" % (
          eq(0, 1), NEW, eq(1, 2), NEW, eq(1, 3), NEW))
PY
