#!/usr/bin/python3
"""safetensors files against PyTorch (Debian python3-torch; the container is
read and written here with the standard library, struct and json, as
formats/safetensors.md describes it).

  safetensors_ref.py gpt2 BINDIR LOGITS GPT2DIR
      random small GPT-2-shaped models built here in Hugging Face's layout
      (Conv1D weights in x out, the attn.bias buffers, with and without the
      transformer. prefix, tied and untied, F32 and BF16) and in nanoGPT's,
      written as safetensors, converted by BINDIR/gpt-convert --from
      safetensors, and the logits of the C model (the program LOGITS,
      tests/tools/gpt_logits.c) compared with this file's GPT-2 forward in float64:
      max |c - ref| / max |ref| at most 1e-5 (--tol X after the operands).
      Exit 1 over it.
  safetensors_ref.py write-gpt2 FILE LAYERS WIDTH BLOCK
      writes a random GPT-2 with GPT-2's vocabulary in Hugging Face's layout
      (tied, the buffers as the released file has them).
  safetensors_ref.py nanogpt FILE VAL
      loads FILE (a nanoGPT-layout export) into a nanoGPT-style model with
      load_state_dict and prints its loss on the token stream VAL as
      gpt-train --eval-only does: "val loss X over N targets".
  safetensors_ref.py malformed GOOD DIR
      writes broken variants of the file GOOD into DIR, one per check of the
      reader."""

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "formats"))
import mgread  # noqa: E402

torch.set_num_threads(1)
TOL = 1e-5
DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


# ------------------------------------------------------------- container

def st_write(path, tensors, metadata=None):
    """tensors: [(name, torch tensor)] in data order."""
    header, blobs, at = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in tensors:
        dt = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}[t.dtype]
        raw = t.contiguous().view(torch.uint8).numpy().tobytes() if t.dim() else \
            t.reshape(1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def st_read(path):
    """(metadata, {name: float tensor}) of a safetensors file."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    meta = header.pop("__metadata__", {})
    out = {}
    for name, x in header.items():
        dt, size = DTYPES[x["dtype"]]
        lo, hi = x["data_offsets"]
        raw = bytearray(b[8 + n + lo:8 + n + hi])
        t = torch.frombuffer(raw, dtype=torch.uint8).view(dt) if raw else torch.empty(0, dtype=dt)
        out[name] = t.reshape(x["shape"]).float()
    return meta, out


# ------------------------------------------------------------- GPT-2

def gpt2_params(L, C, T, V, seed, tied):
    """A random GPT-2: HF names without prefix, Conv1D weights (in, out).
    LayerNorm and biases random too, so that no mistake hides at 1 or 0."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape, s=0.2):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * s

    P = {"wte.weight": r(V, C), "wpe.weight": r(T, C, s=0.05)}
    for l in range(L):
        h = f"h.{l}."
        P[h + "ln_1.weight"], P[h + "ln_1.bias"] = 1 + r(C), r(C)
        P[h + "attn.c_attn.weight"], P[h + "attn.c_attn.bias"] = r(C, 3 * C), r(3 * C)
        P[h + "attn.c_proj.weight"], P[h + "attn.c_proj.bias"] = r(C, C), r(C)
        P[h + "ln_2.weight"], P[h + "ln_2.bias"] = 1 + r(C), r(C)
        P[h + "mlp.c_fc.weight"], P[h + "mlp.c_fc.bias"] = r(C, 4 * C), r(4 * C)
        P[h + "mlp.c_proj.weight"], P[h + "mlp.c_proj.bias"] = r(4 * C, C), r(C)
    P["ln_f.weight"], P["ln_f.bias"] = 1 + r(C), r(C)
    if not tied:
        P["lm_head.weight"] = r(V, C)
    return P


def gpt2_forward(P, ids, L, H, gelu):
    """GPT-2's forward in float64 on Conv1D weights: x @ W + b."""
    T = len(ids)
    C = P["wte.weight"].shape[1]
    hs = C // H
    x = P["wte.weight"][ids] + P["wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = f"h.{l}."
        a = F.layer_norm(x, (C,), P[h + "ln_1.weight"], P[h + "ln_1.bias"], eps=1e-5)
        q, k, v = (a @ P[h + "attn.c_attn.weight"] + P[h + "attn.c_attn.bias"]).split(C, dim=1)
        q, k, v = (t.reshape(T, H, hs).transpose(0, 1) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = F.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ P[h + "attn.c_proj.weight"] + P[h + "attn.c_proj.bias"]
        m = F.layer_norm(x, (C,), P[h + "ln_2.weight"], P[h + "ln_2.bias"], eps=1e-5)
        m = F.gelu(m @ P[h + "mlp.c_fc.weight"] + P[h + "mlp.c_fc.bias"], approximate=gelu)
        x = x + m @ P[h + "mlp.c_proj.weight"] + P[h + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), P["ln_f.weight"], P["ln_f.bias"], eps=1e-5)
    return x @ P.get("lm_head.weight", P["wte.weight"]).T


CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")

# (tag, layers, width, block, vocab, heads given (0: guessed C/64), tied,
#  layout, prefix, dtype, buffers)
CASES = [
    ("hf tied, GPT-2's vocabulary and tokenizer, heads guessed", 2, 128, 32, 50257, 0, True, "hf", "", "F32", True),
    ("hf untied, transformer. prefix, 4 heads given", 2, 48, 16, 97, 4, False, "hf", "transformer.", "F32", True),
    ("hf tied, bf16", 1, 64, 24, 300, 0, True, "hf", "transformer.", "BF16", False),
    ("nanogpt untied, gelu erf, 3 heads given", 3, 36, 12, 71, 3, False, "nanogpt", "transformer.", "F32", False),
    ("nanogpt tied, the head's name only", 2, 64, 8, 50, 0, True, "nanogpt", "transformer.", "F16", False),
]


def case_file(path, P, L, T, layout, prefix, dtype, buffers, tied):
    """Writes P as a file of the case, with the weights rounded to dtype;
    returns the rounded float64 parameters (the reference's)."""
    tdt = DTYPES[dtype][0]
    R = {n: t.to(tdt).double() for n, t in P.items()}
    out = []
    for n, t in P.items():
        stored = t
        if layout == "nanogpt" and n.endswith(CONV1D):
            stored = t.T  # nn.Linear: out x in
        name = n if n == "lm_head.weight" else prefix + n
        if layout == "nanogpt" and tied and n == "wte.weight":
            name = "lm_head.weight"  # a tied state dict saved under the head's name
        out.append((name, stored.to(tdt)))
    if buffers:  # GPT-2's causal-mask buffers, as the released file has them
        for l in range(L):
            out.append((f"{prefix}h.{l}.attn.bias", torch.tril(torch.ones(1, 1, T, T))))
            out.append((f"{prefix}h.{l}.attn.masked_bias", torch.tensor(-1e4)))
    st_write(path, out, {"format": "pt"})
    return R


def gpt2_main(bindir, tool, gpt2dir, tol=TOL):
    worst, bad = 0.0, False
    with tempfile.TemporaryDirectory() as tmp:
        for k, (tag, L, C, T, V, H, tied, layout, prefix, dtype, buffers) in enumerate(CASES):
            P = gpt2_params(L, C, T, V, 100 + k, tied)
            st, ck, lg = (os.path.join(tmp, f"{k}.{x}") for x in ("safetensors", "ckpt", "f32"))
            R = case_file(st, P, L, T, layout, prefix, dtype, buffers, tied)
            cmd = [os.path.join(bindir, "gpt-convert"), "-q", "--from", "safetensors", "-o", ck]
            cmd += ["--heads", str(H)] if H else []
            cmd += ["--gpt2", gpt2dir] if V == 50257 else []
            r = subprocess.run(cmd + [st], capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"safetensors_ref: {tag}: {' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
            ckf = mgread.read_checkpoint(ck)
            heads = H or C // 64
            if ckf.config["n_head"] != heads or ckf.config.get("tie_embeddings", 0) != int(tied):
                sys.exit(f"safetensors_ref: {tag}: config {ckf.config}")
            if (V == 50257) != (ckf.tokenizer is not None):
                sys.exit(f"safetensors_ref: {tag}: tokenizer {ckf.tokenizer}")
            ids = [int(x) for x in torch.randint(0, V, (T,), generator=torch.Generator().manual_seed(k))]
            r = subprocess.run([tool, ck, lg] + [str(i) for i in ids], capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"safetensors_ref: {tag}: logits: {r.stderr.strip()}")
            c = torch.tensor(np.fromfile(lg, dtype="<f4").reshape(T, V).astype(np.float64))
            ref = gpt2_forward(R, ids, L, heads, "tanh" if layout == "hf" else "none")
            e = ((c - ref).abs().max() / ref.abs().max()).item()
            over = not e <= tol
            bad |= over
            worst = max(worst, e)
            print(f"{tag}: L{L} H{heads} C{C} T{T} V{V}: logits max |c - ref| / max |ref| {e:.2e}"
                  f"{'  OVER ' + str(tol) if over else ''}")
    print(f"{len(CASES)} models, worst {worst:.2e}")
    sys.exit(1 if bad else 0)


# ------------------------------------------------------------- nanoGPT

class CausalSelfAttention(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.c_attn, self.c_proj, self.H = nn.Linear(C, 3 * C), nn.Linear(C, C), H

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in self.c_attn(x).split(C, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True) if hasattr(F, "scaled_dot_product_attention") \
            else F.softmax((q @ k.transpose(-2, -1) / math.sqrt(C // self.H)).masked_fill(
                ~torch.tril(torch.ones(T, T, dtype=torch.bool)), float("-inf")), dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, C, gelu):
        super().__init__()
        self.c_fc, self.c_proj, self.gelu = nn.Linear(C, 4 * C), nn.Linear(4 * C, C), nn.GELU(approximate=gelu)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, C, H, gelu):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = nn.LayerNorm(C), CausalSelfAttention(C, H), nn.LayerNorm(C), \
            MLP(C, gelu)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """nanoGPT's GPT class, its names and shapes."""

    def __init__(self, L, H, C, T, V, gelu):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C), wpe=nn.Embedding(T, C),
            h=nn.ModuleList([Block(C, H, gelu) for _ in range(L)]), ln_f=nn.LayerNorm(C)))
        self.lm_head = nn.Linear(C, V, bias=False)

    def forward(self, idx):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for b in self.transformer.h:
            x = b(x)
        return self.lm_head(self.transformer.ln_f(x))


def nanogpt_main(path, val):
    meta, sd = st_read(path)
    c = {k: int(meta[k]) for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size")}
    model = GPT(c["n_layer"], c["n_head"], c["n_embd"], c["block_size"], c["vocab_size"],
                "tanh" if meta["gelu"] == "tanh" else "none")
    model.load_state_dict(sd, strict=True)
    model.eval()
    ids = mgread.read_tokens(val).ids
    T, total, n = c["block_size"], 0.0, 0
    with torch.no_grad():  # gpt-train's evaluation: windows of T in order
        for s in range(0, (len(ids) - 1) // T * T, T):
            x = torch.tensor([ids[s:s + T]])
            y = torch.tensor(ids[s + 1:s + T + 1])
            total += F.cross_entropy(model(x)[0], y, reduction="sum").item()
            n += T
    print(f"val loss {total / n:.6f} over {n} targets")


# ------------------------------------------------------------- malformed

def malformed_main(good, out):
    b = open(good, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    names = [k for k in header if k != "__metadata__"]
    first, second = names[0], names[1]

    def put(name, hdr, body=data, raw=None):
        h = raw if raw is not None else json.dumps(hdr, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        open(os.path.join(out, name), "wb").write(struct.pack("<Q", len(h)) + h + body)

    def edit(fn):
        h = json.loads(b[8:8 + n])
        fn(h)
        return h

    open(os.path.join(out, "truncated.safetensors"), "wb").write(b[:len(b) - 100])
    open(os.path.join(out, "header-2gb.safetensors"), "wb").write(struct.pack("<Q", 2 << 30) + b[8:])
    put("overlap.safetensors", edit(lambda h: h[second].update(
        data_offsets=[h[second]["data_offsets"][0] - 4, h[second]["data_offsets"][1] - 4])))
    put("out-of-bounds.safetensors", edit(lambda h: h[first].update(
        data_offsets=[len(data) + 8, len(data) + 8 + h[first]["data_offsets"][1] - h[first]["data_offsets"][0]])))
    put("dtype.safetensors", edit(lambda h: h[first].update(dtype="I64")))
    put("byte-count.safetensors", edit(lambda h: h[first].update(
        data_offsets=[h[first]["data_offsets"][0], h[first]["data_offsets"][1] - 4])))
    # two entries of one name: json.dumps cannot write it, so by hand
    text = json.dumps(header, separators=(",", ":"))
    entry = f'"{first}":' + json.dumps(header[first], separators=(",", ":"))
    put("duplicate.safetensors", None, raw=text.replace(entry, entry + "," + entry).encode())
    put("trailing.safetensors", header, body=data + b"\0" * 8)
    put("hole.safetensors", edit(lambda h: [h[k].update(data_offsets=[x + 8 for x in h[k]["data_offsets"]])
                                             for k in names]), body=b"\0" * 8 + data)


def main():
    if len(sys.argv) in (5, 7) and sys.argv[1] == "gpt2" and (len(sys.argv) == 5 or sys.argv[5] == "--tol"):
        gpt2_main(*sys.argv[2:5], *([float(sys.argv[6])] if len(sys.argv) == 7 else []))
    elif len(sys.argv) == 6 and sys.argv[1] == "write-gpt2":
        L, C, T = (int(x) for x in sys.argv[3:6])
        case_file(sys.argv[2], gpt2_params(L, C, T, 50257, 7, True), L, T, "hf", "", "F32", True, True)
    elif len(sys.argv) == 4 and sys.argv[1] == "nanogpt":
        nanogpt_main(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "malformed":
        malformed_main(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
