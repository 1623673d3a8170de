#!/usr/bin/python3
"""The peer of gpt-sample in PyTorch: a minGPT model with the time-weighting
variants, time-shift and no positional embedding, built from a checkpoint
(read with tests/formats/mgread.py, from formats/checkpoint.md alone), and
two ways to generate greedily:

  mingpt  minGPT's generate: crop the context to the last block_size tokens
          and run the whole forward pass again for every new token;
  kv      a KV cache with the window rule of gpt-sample --slide: when a token
          arrives at a full window, drop the oldest `slide` tokens and
          recompute the cache for the rest in one forward pass.

    sample_torch.py [--mode mingpt|kv] [--slide n] [--threads n]
                    [--start id | --prompt "ids"] [--max-new-tokens n]
                    [--repeat n] checkpoint...

prints, per checkpoint, the generated ids on one line (prompt excluded), and
with --repeat the seconds of each repetition on stderr as "time S".

    sample_torch.py --perturb scale [--seed n] in.ckpt out.ckpt [in out ...]

writes copies of checkpoints' parameters with N(0, scale^2) noise added
(time weights away from 1, LayerNorm away from identity), written from the
spec by this script, for tests that need a model that is not at its init.
"""
import argparse
import math
import os
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "formats"))
import mgread  # noqa: E402


def read_state(path):
    """A checkpoint's configuration and parameters (float32 tensors by name),
    read with mgread.py: what GPT(state=...) takes and torch.save keeps."""
    ck = mgread.read_checkpoint(path)
    return ck.config, {name: torch.tensor(np.array(x.floats(), dtype=np.float32).reshape(x.dims))
                       for (name, role), x in ck.tensors.items() if role == "param"}


class GPT:
    def __init__(self, path=None, state=None):
        """The model of a checkpoint file, or of state, a pair as read_state
        returns."""
        c, params = state if state is not None else read_state(path)
        self.L, self.H, self.C = c["n_layer"], c["n_head"], c["n_embd"]
        self.T, self.V = c["block_size"], c["vocab_size"]
        self.attention, self.shift, self.pos = c["attention"], c["time_shift"], c["pos_emb"]
        self.gelu = c["gelu"]

        def t(name):
            return params[name]

        self.wte = t("wte")
        self.wpe = t("wpe") if self.pos else None
        self.blocks = []
        T = self.T
        for i in range(self.L):
            p = f"h.{i}."
            b = {k: t(p + k) for k in ("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                                       "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                                       "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")}
            if self.attention == "time-weighting":
                b["W"] = t(p + "attn.time_weight")  # (H,T,T)
            elif self.attention == "circulant":
                w, bb = t(p + "attn.time_w"), t(p + "attn.time_b")  # (H,T) each
                i_ = torch.arange(T).view(T, 1)
                j_ = torch.arange(T).view(1, T)
                d = (T - 1 - (i_ - j_)).clamp(0, T - 1)  # used only where j <= i
                b["W"] = w[:, d] * bb[:, None, :]
            else:
                b["W"] = None
            self.blocks.append(b)
        self.lnf_w, self.lnf_b, self.lm_head = t("ln_f.weight"), t("ln_f.bias"), t("lm_head.weight")
        self.mask = torch.tril(torch.ones(T, T, dtype=torch.bool))

    def act(self, x):
        return torch.nn.functional.gelu(x, approximate="tanh" if self.gelu == "tanh" else "none")

    def ln(self, x, w, b):
        return torch.nn.functional.layer_norm(x, (self.C,), w, b, 1e-5)

    def forward(self, ids, keep=False):
        """The whole forward pass over ids (the window, positions 0..t-1), as
        minGPT; returns the last position's logits and, with keep, each
        block's keys, values and last ln_1 half (unshifted)."""
        t = len(ids)
        C, H, hs = self.C, self.H, self.C // self.H
        x = self.wte[ids]
        if self.pos:
            x = x + self.wpe[:t]
        caches = []
        for b in self.blocks:
            h = self.ln(x, b["ln_1.weight"], b["ln_1.bias"])
            half = h[-1, :C // 2].clone()
            if self.shift:
                h = torch.cat([torch.cat([torch.zeros(1, C // 2), h[:-1, :C // 2]]), h[:, C // 2:]], dim=1)
            qkv = h @ b["attn.c_attn.weight"].T + b["attn.c_attn.bias"]
            q, k, v = qkv.split(C, dim=1)
            k = k.view(t, H, hs).transpose(0, 1)
            v = v.view(t, H, hs).transpose(0, 1)
            if keep:
                caches.append([k, v, half])
            q = q.view(t, H, hs).transpose(0, 1)
            att = (q @ k.transpose(1, 2)) / math.sqrt(hs)
            att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(-1)
            if b["W"] is not None:
                att = att * b["W"][:, :t, :t]
            y = (att @ v).transpose(0, 1).reshape(t, C)
            x = x + y @ b["attn.c_proj.weight"].T + b["attn.c_proj.bias"]
            m = self.ln(x, b["ln_2.weight"], b["ln_2.bias"])
            m = self.act(m @ b["mlp.c_fc.weight"].T + b["mlp.c_fc.bias"])
            x = x + m @ b["mlp.c_proj.weight"].T + b["mlp.c_proj.bias"]
        x = self.ln(x, self.lnf_w, self.lnf_b)
        return (x @ self.lm_head.T)[-1], caches  # all positions, as minGPT

    def step(self, tok, pos, caches):
        """One token at window position pos against the caches; returns its
        logits and updates the caches."""
        C, H, hs = self.C, self.H, self.C // self.H
        x = self.wte[tok].clone()
        if self.pos:
            x = x + self.wpe[pos]
        for b, cache in zip(self.blocks, caches):
            h = self.ln(x, b["ln_1.weight"], b["ln_1.bias"])
            if self.shift:
                prev = cache[2] if pos > 0 else torch.zeros(C // 2)
                cache[2] = h[:C // 2].clone()
                h = torch.cat([prev, h[C // 2:]])
            qkv = h @ b["attn.c_attn.weight"].T + b["attn.c_attn.bias"]
            q, k, v = qkv.split(C)
            cache[0] = torch.cat([cache[0], k.view(H, 1, hs)], dim=1)
            cache[1] = torch.cat([cache[1], v.view(H, 1, hs)], dim=1)
            att = ((cache[0] @ q.view(H, hs, 1)).squeeze(2) / math.sqrt(hs)).softmax(-1)  # (H, pos+1)
            if b["W"] is not None:
                att = att * b["W"][:, pos, :pos + 1]
            y = (att.unsqueeze(1) @ cache[1]).reshape(C)
            x = x + y @ b["attn.c_proj.weight"].T + b["attn.c_proj.bias"]
            m = self.ln(x, b["ln_2.weight"], b["ln_2.bias"])
            m = self.act(m @ b["mlp.c_fc.weight"].T + b["mlp.c_fc.bias"])
            x = x + m @ b["mlp.c_proj.weight"].T + b["mlp.c_proj.bias"]
        x = self.ln(x, self.lnf_w, self.lnf_b)
        return x @ self.lm_head.T


def write_checkpoint(path, config, tensors):
    """A checkpoint member (formats/checkpoint.md) with HEAD, f32 parameter
    TENS chunks in the given order, and TAIL; no tokenizer."""
    kv = [struct.pack("<I", len(config))]
    for k, v in config.items():
        kv.append(struct.pack("<B", len(k)) + k.encode())
        if isinstance(v, int):
            kv.append(struct.pack("<Bq", 1, v))
        elif isinstance(v, float):
            kv.append(struct.pack("<Bd", 2, v))
        else:
            b = v.encode()
            kv.append(struct.pack("<BI", 3, len(b)) + b)
    out = [mgread._preamble(b"\x89MGC\r\n\x1a\n"), mgread._chunk("HEAD", b"".join(kv), 1)]
    pieces = total = 0
    for name, (dims, values) in tensors.items():
        n = len(values)
        head = struct.pack("<BBBBB", 0, 0, len(dims), 0, len(name)) + name.encode()
        head += struct.pack(f"<{len(dims)}I", *dims)
        for off in range(0, n, 1 << 22):
            cnt = min(1 << 22, n - off)
            data = np.asarray(values[off:off + cnt], dtype="<f4").tobytes()
            out.append(mgread._chunk("TENS", head + struct.pack("<QQ", off, cnt) + data, 1))
            pieces += 1
        total += n
    out.append(mgread._chunk("TAIL", struct.pack("<IIQQ", len(tensors), 0, total, pieces)))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def perturb(src, dst, scale, seed):
    ck = mgread.read_checkpoint(src)
    rng = np.random.default_rng(seed)
    tensors = {}
    for (name, role), t in ck.tensors.items():
        if role != "param":
            continue
        x = np.array(t.floats(), dtype=np.float64)
        tensors[name] = (t.dims, (x + scale * rng.standard_normal(x.shape)).astype(np.float32))
    write_checkpoint(dst, ck.config, tensors)


@torch.no_grad()
def generate_mingpt(m, prompt, n):
    ids = list(prompt)
    for _ in range(n):
        logits, _ = m.forward(torch.tensor(ids[-m.T:]))
        ids.append(int(torch.argmax(logits)))
    return ids[len(prompt):]


@torch.no_grad()
def generate_kv(m, prompt, n, slide):
    ids, start = list(prompt), 0
    while len(ids) - start > m.T:  # the window rule, token by token
        start += slide
    logits, caches = m.forward(torch.tensor(ids[start:]), keep=True)
    out = []
    for i in range(n):
        tok = int(torch.argmax(logits))
        out.append(tok)
        ids.append(tok)
        if i + 1 == n:
            break
        if len(ids) - start > m.T:
            start += slide
            logits, caches = m.forward(torch.tensor(ids[start:]), keep=True)
        else:
            logits = m.step(tok, len(ids) - 1 - start, caches)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["mingpt", "kv"], default="mingpt")
    ap.add_argument("--slide", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--prompt", default=None)
    ap.add_argument("--max-new-tokens", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=0)
    ap.add_argument("--perturb", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("checkpoints", nargs="+")
    a = ap.parse_args()
    if a.perturb is not None:
        if len(a.checkpoints) % 2:
            sys.exit("sample_torch: --perturb takes pairs of input and output checkpoints")
        for i in range(0, len(a.checkpoints), 2):
            perturb(a.checkpoints[i], a.checkpoints[i + 1], a.perturb, a.seed)
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    prompt = [int(x) for x in a.prompt.split()] if a.prompt else [a.start]
    for path in a.checkpoints:
        m = GPT(path)
        if not 1 <= a.slide <= m.T:
            sys.exit(f"sample_torch: --slide {a.slide} is not in 1..{m.T}")

        def run():
            if a.mode == "mingpt":
                return generate_mingpt(m, prompt, a.max_new_tokens)
            return generate_kv(m, prompt, a.max_new_tokens, a.slide)

        out = run()
        for _ in range(a.repeat):
            t = time.perf_counter()
            again = run()
            print(f"time {time.perf_counter() - t:.6f}", file=sys.stderr)
            assert again == out
        print(" ".join(map(str, out)))


if __name__ == "__main__":
    main()
