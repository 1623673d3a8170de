#!/bin/sh
# One training step (forward, backward, clip 1.0, AdamW) of MyGPT's configuration
# (3 layers, 8 heads, 512 wide, block 128, vocab 65, dropout 0.1) at batch 16
# and 64, T = 128: the library (train_step.c) beside the same model and step
# in PyTorch (train_torch.py) on the same threads, run interleaved step by
# step in one run; with the machine's limits measured in the same run:
# OpenBLAS's own sgemm on the step's matrix shapes (sgemm_rate.c) and the
# fp32 FMA peak (fma_peak.c). Prints medians and ratios. The machine is
# shared: for every timed step it measures from /proc the share of the CPUs
# that other processes used meanwhile, and when both sides have at least 3
# steps where that share is under 5%, the medians are of those steps only.
# Environment: BENCH_THREADS (default: the CPUs available), BENCH_BATCHES
# ("16 64"), BENCH_ROUNDS (steps timed per side, default 7).
set -eu
cd "$(dirname "$0")/../.."
make -s build/tests/bench/train_step build/tests/bench/sgemm_rate build/tests/bench/fma_peak

nice -n 5 /usr/bin/python3 - <<'PY'
import os, statistics, subprocess, sys, time

sys.path.insert(0, "tests/bench")
from stepper import finish, race, start  # noqa: E402

NCPU = len(os.sched_getaffinity(0))
THREADS = int(os.environ.get("BENCH_THREADS") or NCPU)
BATCHES = [int(b) for b in os.environ.get("BENCH_BATCHES", "16 64").split()]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
CLEAN = 0.05  # a step is quiet when other processes used under 5% of the CPUs meanwhile
BIN = "build/tests/bench"
L, H, C, T, V = 3, 8, 512, 128, 65
MM_PARAMS = L * 12 * C * C + V * C        # weights of every Linear layer
FLOP_TOKEN = 6 * MM_PARAMS + 12 * L * T * C  # + attention: 2 products forward, 4 backward


def load():
    return open("/proc/loadavg").read().split()[:3]


def out(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print("train step: MyGPT's configuration (3 layers, 8 heads, 512 wide, block 128, vocab 65, dropout 0.1), T %d, "
      "%d thread%s, %s" % (T, THREADS, "s" if THREADS > 1 else "", cpu))
print("FLOPs per token: 6 x %d Linear weights + 12 x %d layers x T %d x C %d (attention: 2 products forward, "
      "4 backward) = %d" % (MM_PARAMS, L, T, C, FLOP_TOKEN))
print("load average at start: %s" % " ".join(load()))


def fma():
    f = out([BIN + "/fma_peak", str(THREADS), "5"]).split()
    return float(f[1]), float(f[3])


def sgemm_run(N):
    """OpenBLAS's configuration and {(name, kind): (M, N, K, GFLOP/s)}."""
    lines = out([BIN + "/sgemm_rate", str(N), str(THREADS), "5"]).splitlines()
    rates = {}
    for l in lines[1:-1]:
        f = l.split()
        rates[(f[0], f[1])] = (int(f[2]), int(f[3]), int(f[4]), float(f[5]))
    return lines[0], rates


def sgemm_limit(runs):
    """Per product the best of the runs' medians (the machine's speed drifts
    with the host's load), and the rate of all the step's products at those
    speeds: their FLOPs over the sum of their times (n_layer times each
    block product, once the head's)."""
    best = {k: max(r[k] for r in runs) for k in runs[0]}
    flop = sec = 0.0
    for (name, kind), (m, n, k, g) in best.items():
        times = 1 if name == "lm_head" else L
        flop += times * 2.0 * m * n * k
        sec += times * 2.0 * m * n * k / (g * 1e9)
    return best, flop / sec / 1e9


fmas = [fma()]
print("fp32 FMA peak (fma_peak.c, AVX2): %.1f GFLOP/s on one core alone, %.1f on %d threads at once; the limit "
      "used is the best one-core figure of the run x threads" % (fmas[0][0], fmas[0][1], THREADS))

rows = []
for B in BATCHES:
    N = B * T
    la = load()
    blas, first = sgemm_run(N)
    runs = [first]
    ours = start([BIN + "/train_step", "--batch", str(B), "--threads", str(THREADS)], "bench-train")
    torch = start(["/usr/bin/python3", "tests/bench/train_torch.py", "--batch", str(B), "--threads", str(THREADS)],
                  "bench-train")
    # the limit again, halfway
    t_ours, t_torch = race(ours, torch, ROUNDS, lambda: runs.append(sgemm_run(N)[1]))
    loss_o, rss_o = finish(ours)
    loss_t, rss_t = finish(torch)
    runs.append(sgemm_run(N)[1])
    fmas.append(fma())
    best, sgemm = sgemm_limit(runs)
    peak = max(f[0] for f in fmas) * THREADS
    lb = load()
    res = []
    clean = min(sum(o < CLEAN for t, o in ts) for ts in (t_ours, t_torch)) >= 3
    for name, ts, rss in (("mygpt", t_ours, rss_o), ("pytorch", t_torch, rss_t)):
        use = [t for t, o in ts if o < CLEAN] if clean else [t for t, o in ts]
        med = statistics.median(use)
        tps = N / med
        gf = tps * FLOP_TOKEN / 1e9
        res.append((name, med, min(use), max(use), tps, gf, rss, len(use), statistics.median(o for t, o in ts)))
    rows.append((B, res, sgemm, peak, la, lb))
    print()
    print("batch %d (N = %d rows): load average %s before, %s after; %d timed steps each after 2 warm-up" %
          (B, N, " ".join(la), " ".join(lb), ROUNDS))
    print("  other processes used a median %.0f%% (mygpt's steps) and %.0f%% (pytorch's) of the CPUs; medians of %s" %
          (100 * res[0][8], 100 * res[1][8],
           "the steps where others used under %.0f%%" % (100 * CLEAN) if clean else "all steps (too few quiet ones)"))
    print("  %s: sgemm on whole matrices on %d threads, the step's Linear products, best of %d runs "
          "(GFLOP/s):" % (blas, THREADS, len(runs)))
    for (name, kind), (m, n, k, g) in best.items():
        print("    %-12s %-8s M %5d N %5d K %5d  %6.1f" % (name, kind, m, n, k, g))
    print("    all of them, weighted by their FLOPs: %.1f GFLOP/s; FMA peak (per core x threads, best so far): "
          "%.1f" % (sgemm, peak))
    print("  %-8s %9s %15s %10s %8s %7s %7s %9s" % ("", "step s", "min-max s", "tokens/s", "GFLOP/s", "%sgemm",
                                                  "%peak", "maxRSS MiB"))
    for name, med, lo, hi, tps, gf, rss, n, _ in res:
        print("  %-8s %9.3f %7.3f-%-7.3f %10.0f %8.1f %6.0f%% %6.0f%% %9.0f  (%d steps)" %
              (name, med, lo, hi, tps, gf, 100 * gf / sgemm, 100 * gf / peak, rss / 1024, n))
    print("  mygpt / pytorch tokens/s: %.2fx; losses after the last step %.4f and %.4f (different inits)" %
          (res[1][1] / res[0][1], loss_o, loss_t))
    print("  mygpt's model buffers (parameters, gradients, moments, activations, scratch): %.0f MiB; PyTorch %s" %
          (int(ours.info["model_bytes"]) / 1048576, torch.info["torch"]))

print()
print("FMA peak runs (one core, %d threads at once): %s" % (THREADS, ", ".join("%.1f %.1f" % f for f in fmas)))
print("summary (medians): batch, mygpt tokens/s, pytorch tokens/s, ratio, mygpt %sgemm, %peak")
for B, res, sgemm, peak, la, lb in rows:
    print("  %3d %8.0f %8.0f %6.2fx %5.0f%% %5.0f%%" % (B, res[0][4], res[1][4], res[1][1] / res[0][1],
                                                    100 * res[0][5] / sgemm, 100 * res[0][5] / peak))
PY
