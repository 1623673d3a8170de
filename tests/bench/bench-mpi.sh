#!/bin/sh
# gpt-train under MPI (man/gpt-train.1, RUNNING ON SEVERAL PROCESSES) on
# MyGPT's configuration (3 layers, 8 heads, 512 wide, block 128, vocab 65 of
# tiny Shakespeare's characters): 2 ranks x 1 thread against 1 process x 2
# threads, the same global batch and steps, runs interleaved, medians of
# the tokens/s that gpt-train reports, and their ratio (goal: at least 0.9).
# Then the sum of the gradients across 2 ranks timed alone (allreduce.c),
# and the scaling model of the man page with these inputs: a step's compute
# on one node against a ring all-reduce of the gradients over 10, 25 and
# 100 Gb/s for 2 to 64 nodes. Needs a build with MPI (make MPI=1).
# Environment: BENCH_ROUNDS (runs per side, default 3), BENCH_BATCH (the
# global batch of the timed runs, default 16), BENCH_ITERS (steps a run, 4).
set -eu
cd "$(dirname "$0")/../.."
if ! grep -q 'mpi=1' build/flags 2> /dev/null || ! command -v mpirun > /dev/null; then
	echo "bench-mpi: skipped: gpt-train is built without MPI or mpirun is missing (sh .ci/deps mpi; make MPI=1)"
	exit 0
fi
make -s bin/gpt-train bin/gpt-init bin/bpe-train bin/bpe-encode build/tests/bench/allreduce
d=build/bench/mpi
mkdir -p "$d"
bin/bpe-train -q --chars -o "$d/chars.tkz" examples/data/tinyshakespeare.txt
bin/bpe-encode -q -m "$d/chars.tkz" -o "$d/all.tok" examples/data/tinyshakespeare.txt
bin/gpt-init -q --layers 3 --heads 8 --embd 512 --block 128 --dropout 0.1 --data "$d/all.tok" -o "$d/init.ckpt"

nice -n 5 /usr/bin/python3 - "$d" <<'PY'
import os, re, statistics, subprocess, sys

D = sys.argv[1]
ROUNDS = int(os.environ.get("BENCH_ROUNDS") or 3)
B = int(os.environ.get("BENCH_BATCH") or 16)
ITERS = int(os.environ.get("BENCH_ITERS") or 4)
T = 128
MPIRUN = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "none"]
TRAIN = ["bin/gpt-train", "--data", D + "/all.tok", "--batch", str(B), "--iters", str(ITERS), "-o", D + "/out.ckpt",
         D + "/init.ckpt"]


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def tokens_per_s(cmd, env):
    r = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, **env))
    m = re.search(r"([0-9,]+) tokens/s", r.stderr)
    if not m:
        sys.exit("bench-mpi: no tokens/s in the output of %s:\n%s" % (" ".join(cmd), r.stderr))
    return float(m.group(1).replace(",", ""))


def params():
    out = subprocess.run(["bin/mygpt-info", D + "/init.ckpt"], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"parameters\s+([0-9,]+)", out).group(1).replace(",", ""))


P = params()
print("gpt-train under MPI: MyGPT's configuration (3 layers, 8 heads, 512 wide, block 128, vocab 65, dropout 0.1), "
      "%d parameters, %d gradient bytes" % (P, 4 * P))
print("global batch %d x T %d, %d steps a run, %d runs a side, interleaved; load average at start: %s" %
      (B, T, ITERS, ROUNDS, load()))
two, one = [], []
for r in range(ROUNDS):
    two.append(tokens_per_s(MPIRUN + ["-np", "2"] + TRAIN[:1] + ["-j", "1"] + TRAIN[1:], {"OMP_NUM_THREADS": "1"}))
    one.append(tokens_per_s(TRAIN[:1] + ["-j", "2"] + TRAIN[1:], {}))
    print("  run %d: 2 ranks x 1 thread %.0f tokens/s, 1 process x 2 threads %.0f tokens/s" % (r + 1, two[-1], one[-1]))
m2, m1 = statistics.median(two), statistics.median(one)
print("medians: 2 ranks x 1 thread %.0f tokens/s, 1 process x 2 threads %.0f tokens/s: ratio %.2f (goal >= 0.9)" %
      (m2, m1, m2 / m1))
print("load average at end: %s" % load())

out = subprocess.run(MPIRUN + ["-np", "2", "build/tests/bench/allreduce", str(P), "9"], check=True,
                     capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1")).stdout
f = out.split()
ar = float(f[f.index("median_s") + 1])
print("the sum of the %d gradient bytes across 2 ranks on this machine (allreduce.c, shared memory): median %.1f ms, "
      "fastest %.1f ms of 9" % (4 * P, 1e3 * ar, 1e3 * float(f[f.index("min_s") + 1])))
step1 = B * T / m1  # one node (this machine, both cores): seconds a step of B sequences
print("a step's compute on this machine: %.2f s for %d sequences (1 process x 2 threads), %.1f ms a sequence; "
      "the sum across 2 ranks is %.1f%% of it" % (step1, B, 1e3 * step1 / B, 100 * ar / step1))

# The scaling model: MyGPT's global batch (256) split over N such nodes,
# each computing 256 / N sequences, then a ring all-reduce of the gradients.
G = 256
seq = step1 / B
bytes_ = 4 * P
print()
print("scaling model: global batch %d over N nodes like this one (%.1f ms a sequence), ring all-reduce of %.1f MB: "
      "time 2 (N-1)/N x bytes / bandwidth" % (G, 1e3 * seq, bytes_ / 1e6))
print("%5s %10s %26s %26s %26s" % ("N", "compute s", "10 Gb/s: ar s, speedup", "25 Gb/s: ar s, speedup",
                                    "100 Gb/s: ar s, speedup"))
for N in (2, 4, 8, 16, 32, 64):
    comp = G / N * seq
    cells = []
    for gbps in (10, 25, 100):
        t = 2 * (N - 1) / N * bytes_ * 8 / (gbps * 1e9)
        cells.append("%10.3f %13.1f" % (t, G * seq / (comp + t)))
    print("%5d %10.3f %s" % (N, comp, " ".join("%26s" % c for c in cells)))
for gbps in (10, 25, 100):
    # compute = all-reduce: half the time is communication
    n_half = G * seq / (2 * bytes_ * 8 / (gbps * 1e9))
    print("  %3d Gb/s: the all-reduce equals the compute (efficiency 50%%) near N = %.0f nodes of this speed, "
          "N = %.1f of nodes 100 times faster (a GPU)" % (gbps, n_half, n_half / 100))
print("(the speedup is over one node; the batch of 256 caps N at 256, one sequence a node)")
PY
