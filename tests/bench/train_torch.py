#!/usr/bin/python3
"""The PyTorch peer of train_step.c for the bench scripts: minGPT's model with
the library's attention variants (formats/checkpoint.md; the same math as
tests/model/torch_ref.py: the time weights multiply the causal softmax,
without renormalising) and its training step in float32 on the CPU:
zero_grad, forward, cross-entropy, backward, clip_grad_norm_(1.0), AdamW
(lr 3e-4, betas 0.9 and 0.95, eps 1e-8, weight decay 0.1 on the Linear
weight matrices only). The default model is MyGPT's configuration (3 layers,
8 heads, 512 wide, block 128, vocab 65, vanilla attention, dropout 0.1, GELU
tanh); T = block.

    train_torch.py [--batch B] [--threads N] [--dropout 0|1] [--layers L]
                   [--heads H] [--embd C] [--block T] [--vocab V]
                   [--attention vanilla|time-weighting|circulant] [--check FILE]

Reads lines from stdin: each "n" runs n steps and prints their seconds on
one line; at end of input prints the loss and the peak RSS (KiB). With
--check FILE (a checkpoint written by train_step --check) it loads those
parameters, runs two steps without dropout on train_step's formula batch and
prints "check LOSS1 NORM1 LOSS2" as train_step does."""
import argparse
import math
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

LINEAR_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


class Attention(nn.Module):
    def __init__(self, C, H, T, attention, p):
        super().__init__()
        self.H, self.attention = H, attention
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.attn_drop = nn.Dropout(p)
        self.register_buffer("causal", torch.tril(torch.ones(T, T, dtype=torch.bool)), persistent=False)
        if attention == "time-weighting":
            self.time_weight = nn.Parameter(torch.ones(H, T, T))
        elif attention == "circulant":
            self.time_w = nn.Parameter(torch.ones(H, T))
            self.time_b = nn.Parameter(torch.ones(H, T))
            i = torch.arange(T)[:, None]
            j = torch.arange(T)[None, :]
            self.register_buffer("dist", T - 1 - (i - j).clamp(min=0), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        H = self.H
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
        att = F.softmax(att.masked_fill(~self.causal[:T, :T], float("-inf")), dim=-1)
        if self.attention == "time-weighting":
            att = att * self.time_weight[:, :T, :T]
        elif self.attention == "circulant":
            # time_w[h, block-1-(i-j)] time_b[h, j] for j <= i (T = block)
            W = self.time_w[:, self.dist] * self.time_b[:, None, :]
            att = att * (W * self.causal)
        att = self.attn_drop(att)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, C):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, C, H, T, attention, p):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = Attention(C, H, T, attention, p)
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = MLP(C)
        self.resid_drop = nn.Dropout(p)
        self.mlp_drop = nn.Dropout(p)

    def forward(self, x):
        x = x + self.resid_drop(self.attn(self.ln_1(x)))
        return x + self.mlp_drop(self.mlp(self.ln_2(x)))


class GPT(nn.Module):
    """Parameter names as the checkpoint's (formats/checkpoint.md)."""

    def __init__(self, L=3, H=8, C=512, T=128, V=65, attention="vanilla", p=0.1):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.drop = nn.Dropout(p)
        self.h = nn.ModuleList(Block(C, H, T, attention, p) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)
        for n, w in self.named_parameters():
            if n.endswith("bias"):
                nn.init.zeros_(w)
            elif ".time_" in n or "ln" in n:
                nn.init.ones_(w)
            else:
                nn.init.normal_(w, 0.0, 0.02 / math.sqrt(2 * L) if n.endswith("c_proj.weight") else 0.02)

    def forward(self, ids, targets):
        T = ids.shape[1]
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(T)))
        for b in self.h:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def decays(name):
    """AdamW weight decay: the weight matrices of Linear layers only."""
    return name == "lm_head.weight" or name.endswith(LINEAR_WEIGHTS)


def check_batch(B, T, V):
    """train_step.c's check batch."""
    n = torch.arange(B * T, dtype=torch.int64)
    return (n * n * 31 + n * 7 + 3).remainder(V).view(B, T), (n * 13 + n // 5).remainder(V).view(B, T)


def load(m, path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "formats"))
    import mgread
    import numpy as np

    ck = mgread.read_checkpoint(path)
    got = {n: t for (n, role), t in ck.tensors.items() if role == "param"}
    want = {n[:3] if n in ("wte.weight", "wpe.weight") else n: w for n, w in m.named_parameters()}
    if set(got) != set(want):
        sys.exit("train_torch: %s: tensors differ: %s" % (path, sorted(set(got) ^ set(want))))
    with torch.no_grad():
        for n, w in want.items():
            t = got[n]
            if list(w.shape) != list(t.dims):
                sys.exit("train_torch: %s: %s is %s, not %s" % (path, n, t.dims, list(w.shape)))
            w.copy_(torch.from_numpy(np.frombuffer(bytes(t.data), dtype="<f4").reshape(t.dims).copy()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dropout", type=int, default=1)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--embd", type=int, default=512)
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=65)
    ap.add_argument("--attention", choices=("vanilla", "time-weighting", "circulant"), default="vanilla")
    ap.add_argument("--check")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1337)
    B, T, V = a.batch, a.block, a.vocab
    m = GPT(a.layers, a.heads, a.embd, T, V, a.attention, 0.1 if a.dropout and not a.check else 0.0)
    named = list(m.named_parameters())
    opt = torch.optim.AdamW([{"params": [w for n, w in named if decays(n)], "weight_decay": 0.1},
                             {"params": [w for n, w in named if not decays(n)], "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    m.train()
    if a.check:
        load(m, a.check)
        ids, tg = check_batch(B, T, V)
        losses, norm = [], None
        for s in range(2):
            opt.zero_grad(set_to_none=False)
            loss = m(ids, tg)
            loss.backward()
            if s == 0:
                norm = torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0).item()
            opt.step()
            losses.append(loss.item())
        print("check %.7g %.7g %.7g" % (losses[0], norm, losses[1]), flush=True)
        return
    ids = torch.randint(0, V, (B, T))
    tg = torch.randint(0, V, (B, T))
    print("ready params %d threads %d torch %s" % (sum(w.numel() for w in m.parameters()), torch.get_num_threads(),
                                                   torch.__version__), flush=True)
    loss = None
    for line in sys.stdin:
        ts = []
        for _ in range(int(line)):
            t = time.perf_counter()
            opt.zero_grad(set_to_none=False)
            loss = m(ids, tg)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            ts.append(time.perf_counter() - t)
        print(" ".join("%.6f" % t for t in ts), flush=True)
    print("loss %.6f maxrss_kib %d" % (loss.item() if loss is not None else 0.0,
                                       resource.getrusage(resource.RUSAGE_SELF).ru_maxrss), flush=True)


if __name__ == "__main__":
    main()
