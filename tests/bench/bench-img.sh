#!/bin/sh
# img-quantize end to end: fitting minGPT's palette (k 512, 5 pixels of each
# image, 8 iterations) and encoding every image of the 4,000 bundled CIFAR-10
# training images of examples/data/cifar10/ to token records, on 1 thread and
# on all; medians of several runs, images per second. (The k-means itself,
# beside scikit-learn, is bench-kmeans.sh.) Environment: BENCH_RUNS
# (default 5). Everything goes to build/bench/img.
set -eu
cd "$(dirname "$0")/../.."
make -s bin/img-quantize
mkdir -p build/bench/img

nice -n 5 /usr/bin/python3 - <<'PY'
import os, statistics, subprocess, time

D = "build/bench/img"
DATA = "examples/data/cifar10/cifar10_train4k_lossless.bin"
N = os.path.getsize(DATA) // 3073
RUNS = int(os.environ.get("BENCH_RUNS") or 5)
NCPU = len(os.sched_getaffinity(0))


def timed(argv):
    t = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - t


print("img-quantize: %d CIFAR-10 images of 32x32 (%s); load average at start: %s"
      % (N, DATA, " ".join(open("/proc/loadavg").read().split()[:3])))
for j in sorted({1, NCPU}):
    fit = statistics.median(timed(["bin/img-quantize", "-q", "-j", str(j), "--fit", "-o", D + "/pal.tkz", DATA])
                            for _ in range(RUNS))
    enc = statistics.median(timed(["bin/img-quantize", "-q", "-j", str(j), "-m", D + "/pal.tkz", "-o", D + "/all.tok",
                                   DATA]) for _ in range(RUNS))
    print("  %d thread%s: fit %.3f s; encode %.3f s = %.0f images/s (%.2f M pixels/s)"
          % (j, "s" if j > 1 else "", fit, enc, N / enc, N * 1024 / enc / 1e6))
PY
