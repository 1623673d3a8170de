#!/usr/bin/python3
"""The PyTorch peer of train_step.c for bench-train.sh: minGPT's model (the
MyGPT's configuration: 3 layers, 8 heads, 512 wide, block 128, vocab 65, dropout 0.1,
GELU tanh) and its training step in float32 on the CPU: zero_grad, forward,
cross-entropy, backward, clip_grad_norm_(1.0), AdamW (lr 3e-4, betas 0.9 and
0.95, eps 1e-8, weight decay 0.1 on the Linear weight matrices only).

    train_torch.py [--batch B] [--threads N] [--dropout 0|1]

Reads lines from stdin: each "n" runs n steps and prints their seconds on
one line; at end of input prints the loss and the peak RSS (KiB)."""
import argparse
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H, T, p):
        super().__init__()
        self.H = H
        self.ln_1 = nn.LayerNorm(C)
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.ln_2 = nn.LayerNorm(C)
        self.c_fc = nn.Linear(C, 4 * C)
        self.m_proj = nn.Linear(4 * C, C)
        self.attn_drop = nn.Dropout(p)
        self.resid_drop = nn.Dropout(p)
        self.mlp_drop = nn.Dropout(p)
        self.register_buffer("causal", torch.tril(torch.ones(T, T, dtype=torch.bool)))

    def forward(self, x):
        B, T, C = x.shape
        H = self.H
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
        att = att.masked_fill(~self.causal[:T, :T], float("-inf"))
        att = self.attn_drop(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.resid_drop(self.c_proj(y))
        x = x + self.mlp_drop(self.m_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")))
        return x


class GPT(nn.Module):
    def __init__(self, L=3, H=8, C=512, T=128, V=65, p=0.1):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.drop = nn.Dropout(p)
        self.h = nn.ModuleList(Block(C, H, T, p) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)
        for n, w in self.named_parameters():
            if n.endswith("bias"):
                nn.init.zeros_(w)
            elif "ln" not in n:
                nn.init.normal_(w, 0.0, 0.02 / math.sqrt(2 * L) if n.endswith("c_proj.weight") or
                                n.endswith("m_proj.weight") else 0.02)

    def forward(self, ids, targets):
        T = ids.shape[1]
        x = self.drop(self.wte(ids) + self.wpe(torch.arange(T)))
        for b in self.h:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dropout", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1337)
    m = GPT(p=0.1 if a.dropout else 0.0)
    decay = [w for n, w in m.named_parameters() if n.endswith("weight") and ("c_" in n or "m_proj" in n
                                                                            or n == "lm_head.weight")]
    other = [w for n, w in m.named_parameters() if not any(w is d for d in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    ids = torch.randint(0, 65, (a.batch, 128))
    tg = torch.randint(0, 65, (a.batch, 128))
    m.train()
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
