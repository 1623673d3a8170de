#!/bin/sh
# One training step (forward, backward, clip 1.0, AdamW) of the image-GPT
# small model at long context: 4 layers, 4 heads, 128 wide, vocab 512 (a
# palette), block 1023 (a 32x32 image less one), no dropout, batch 4, T = 1023;
# circulant time weighting, then vanilla attention at the same shape (what
# the time weights cost). The library (train_step.c) beside the same model and
# step in PyTorch (train_torch.py) on the same threads, run interleaved step
# by step. Before timing, each row checks that the two compute the same
# thing: from the same perturbed weights (train_step --check) both run two
# steps on one batch, and the first loss, its gradient norm and the second
# loss must agree to 1e-4 relative. Prints medians and ratios. The machine is
# shared: for every timed step it measures from /proc the share of the CPUs
# that other processes used meanwhile, and when both sides have at least 3
# steps where that share is under 5%, the medians are of those steps only.
# Environment: BENCH_THREADS (default: the CPUs available), BENCH_BATCH (4),
# BENCH_ROUNDS (steps timed per side, default 7), BENCH_MODEL (the model
# options, default "--layers 4 --heads 4 --embd 128 --block 1023 --vocab 512").
set -eu
cd "$(dirname "$0")/../.."
make -s build/tests/bench/train_step build/tests/bench/fma_peak

nice -n 5 /usr/bin/python3 - <<'PY'
import os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, "tests/bench")
from stepper import finish, race, start  # noqa: E402

NCPU = len(os.sched_getaffinity(0))
THREADS = int(os.environ.get("BENCH_THREADS") or NCPU)
B = int(os.environ.get("BENCH_BATCH", "4"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
SMALL = "--layers 4 --heads 4 --embd 128 --block 1023 --vocab 512"
MODEL = os.environ.get("BENCH_MODEL", SMALL).split()
CLEAN = 0.05  # a step is quiet when other processes used under 5% of the CPUs meanwhile
BIN = "build/tests/bench"
m = dict(zip(MODEL[::2], MODEL[1::2]))
L, H, C, T, V = (int(m[k]) for k in ("--layers", "--heads", "--embd", "--block", "--vocab"))
N = B * T
MM_PARAMS = L * 12 * C * C + V * C           # weights of every Linear layer
FLOP_TOKEN = 6 * MM_PARAMS + 12 * L * T * C  # + attention: 2 products forward, 4 backward, the whole T x T square


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def args(attention):
    return MODEL + ["--attention", attention, "--dropout", "0", "--batch", str(B), "--threads", str(THREADS)]


OURS = [BIN + "/train_step"]
TORCH = ["/usr/bin/python3", "tests/bench/train_torch.py"]


def check(attention):
    """Both sides' "check LOSS1 NORM1 LOSS2" from the same weights; exits
    when they differ by more than 1e-4 relative."""
    with tempfile.TemporaryDirectory() as d:
        ck = os.path.join(d, "check.ckpt")
        res = [subprocess.run(cmd + args(attention) + ["--check", ck], check=True, capture_output=True,
                              text=True).stdout.split() for cmd in (OURS, TORCH)]
    o, t = ([float(x) for x in r[1:]] for r in res)
    worst = max(abs(a - b) / abs(b) for a, b in zip(o, t))
    print("  check from the same weights (first loss, its gradient norm, second loss): mygpt %s, pytorch %s; "
          "worst relative difference %.1e" % (" ".join(res[0][1:]), " ".join(res[1][1:]), worst))
    if not worst <= 1e-4:
        sys.exit("bench-train-image: %s: mygpt and pytorch differ by %.1e" % (attention, worst))


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
fma = subprocess.run([BIN + "/fma_peak", str(THREADS), "5"], check=True, capture_output=True, text=True).stdout.split()
print("train step: %s (%d layers, %d heads, %d wide, block %d, vocab %d, no dropout), batch %d, "
      "T %d, %d thread%s, %s" % ("image-GPT small" if MODEL == SMALL.split() else "model", L, H, C, T, V, B, T,
                                   THREADS, "s" if THREADS > 1 else "", cpu))
print("FLOPs per token: 6 x %d Linear weights + 12 x %d layers x T %d x C %d (attention: 2 products forward, "
      "4 backward, the whole square, as PyTorch computes it) = %d; the causal half that mygpt computes: %d; fp32 FMA "
      "peak (fma_peak.c) %.1f GFLOP/s on one core x %d threads"
      % (MM_PARAMS, L, T, C, FLOP_TOKEN, 6 * MM_PARAMS + 6 * L * (T + 1) * C, float(fma[1]), THREADS))
print("load average at start: %s" % load())

rows = []
for attention in ("circulant", "vanilla"):
    print()
    print("%s attention:" % attention)
    check(attention)
    la = load()
    ours = start(OURS + args(attention), "bench-train-image")
    torch = start(TORCH + args(attention), "bench-train-image")
    t_ours, t_torch = race(ours, torch, ROUNDS)
    rss = finish(ours)[1], finish(torch)[1]
    lb = load()
    clean = min(sum(o < CLEAN for t, o in ts) for ts in (t_ours, t_torch)) >= 3
    res = []
    for name, ts, kib in (("mygpt", t_ours, rss[0]), ("pytorch", t_torch, rss[1])):
        use = [t for t, o in ts if o < CLEAN] if clean else [t for t, o in ts]
        med = statistics.median(use)
        res.append((name, med, min(use), max(use), N / med, N / med * FLOP_TOKEN / 1e9, kib, len(use),
                    statistics.median(o for t, o in ts)))
    rows.append((attention, res))
    print("  load average %s before, %s after; %d timed steps each after 2 warm-up" % (la, lb, ROUNDS))
    print("  other processes used a median %.0f%% (mygpt's steps) and %.0f%% (pytorch's) of the CPUs; medians of %s" %
          (100 * res[0][8], 100 * res[1][8],
           "the steps where others used under %.0f%%" % (100 * CLEAN) if clean else "all steps (too few quiet ones)"))
    print("  %-8s %9s %15s %10s %8s %9s" % ("", "step s", "min-max s", "tokens/s", "GFLOP/s", "maxRSS MiB"))
    for name, med, lo, hi, tps, gf, kib, n, _ in res:
        print("  %-8s %9.3f %7.3f-%-7.3f %10.0f %8.1f %9.0f  (%d steps)" % (name, med, lo, hi, tps, gf, kib / 1024, n))
    print("  mygpt / pytorch tokens/s: %.2fx" % (res[1][1] / res[0][1]))

print()
print("summary (medians): attention, mygpt tokens/s, pytorch tokens/s, ratio")
for attention, res in rows:
    print("  %-10s %8.0f %8.0f %6.2fx" % (attention, res[0][4], res[1][4], res[1][1] / res[0][1]))
PY
