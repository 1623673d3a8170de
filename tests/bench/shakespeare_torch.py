#!/usr/bin/python3
"""The PyTorch peer of examples/shakespeare-char for bench-shakespeare.sh:
nanoGPT's CPU run of shakespeare-char (4 layers, 4 heads, 128 wide, block
64, batch 12, 2000 steps, lr 1e-3 with 100 steps of warmup and cosine decay
to 1e-4, betas 0.9 and 0.99, weight decay 0.1, clip 1.0, dropout 0) on the
same model as mygpt's (minGPT's, from train_torch.py), the same characters
and the same 90/10 split. Times the training steps, then evaluates the loss
on all the validation data in windows of 64 (as gpt-train --eval-only).

    shakespeare_torch.py TEXT [--iters N] [--threads N]"""
import argparse
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torch import GPT  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("text")
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1337)
    text = open(a.text, "rb").read()
    chars = sorted(set(text))
    idx = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([idx[c] for c in text], dtype=torch.long)
    n = len(text) * 9 // 10
    train, val = data[:n], data[n:]
    B, T, lr, min_lr, warmup = 12, 64, 1e-3, 1e-4, 100
    m = GPT(L=4, H=4, C=128, T=T, V=len(chars), p=0.0)
    decay = [w for nm, w in m.named_parameters() if nm.endswith("weight") and ("c_" in nm or "m_proj" in nm
                                                                               or nm == "lm_head.weight")]
    other = [w for nm, w in m.named_parameters() if not any(w is d for d in decay)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.99), eps=1e-8)

    def get_lr(it):  # nanoGPT's
        if it < warmup:
            return lr * (it + 1) / (warmup + 1)
        ratio = (it - warmup) / (a.iters - warmup)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)

    m.train()
    t0 = time.perf_counter()
    for it in range(a.iters):
        for g in opt.param_groups:
            g["lr"] = get_lr(it)
        ix = torch.randint(len(train) - T - 1, (B,))
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        opt.zero_grad(set_to_none=True)
        loss = m(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - t0
    m.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        w = (len(val) - 1) // T
        for s in range(0, w, 64):
            rows = range(s, min(w, s + 64))
            x = torch.stack([val[r * T:r * T + T] for r in rows])
            y = torch.stack([val[r * T + 1:r * T + T + 1] for r in rows])
            total += m(x, y).item() * y.numel()
            count += y.numel()
    print("pytorch %s: %d steps in %.1f s, val loss %.6f over %d targets, %d threads"
          % (torch.__version__, a.iters, seconds, total / count, count, torch.get_num_threads()), flush=True)


if __name__ == "__main__":
    main()
