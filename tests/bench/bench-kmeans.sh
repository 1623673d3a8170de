#!/bin/sh
# The k-means palette of image-GPT (lib/image/kmeans.c, through
# build/tests/tools/kmeans_run) beside scikit-learn's KMeans(algorithm="lloyd",
# n_init=1, max_iter=8, tol=0) from the same initial centres, on the same
# threads: k = 512 on 250,000 random pixels of the 4,000 CIFAR-10 images of
# examples/data/cifar10/ (a synthetic set of blobs when absent); then the
# nearest palette colour of every pixel of the 4,000 images (4,096,000) with
# mg_kmeans_assign. Medians of several runs. Environment: BENCH_THREADS
# (default: all CPUs), BENCH_RUNS (default 3). Everything goes to build/bench/kmeans.
set -eu
cd "$(dirname "$0")/../.."
make -s build/tests/tools/kmeans_run
mkdir -p build/bench/kmeans

nice -n 5 /usr/bin/python3 - <<'PY'
import os, statistics, subprocess, sys

import numpy as np

B = "build/bench/kmeans"
RUN = "build/tests/tools/kmeans_run"
THREADS = int(os.environ.get("BENCH_THREADS") or len(os.sched_getaffinity(0)))
RUNS = int(os.environ.get("BENCH_RUNS") or 3)


def seconds(out):
    return [float(l.split()[1]) for l in out.splitlines() if l.startswith("seconds ")]


src = subprocess.run([sys.executable, "tests/model/kmeans_ref.py", "points", B + "/pts.bin", "250000", "1"],
                     check=True, capture_output=True, text=True).stdout.strip()
subprocess.run([sys.executable, "tests/model/kmeans_ref.py", "points", B + "/all.bin", "0", "1"], check=True,
               capture_output=True)
print("k-means: k 512, 8 Lloyd iterations, 250,000 pixels of %s; %d thread%s, medians of %d runs"
      % (src, THREADS, "s" if THREADS > 1 else "", RUNS))
print("load average at start: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
ours = subprocess.run([RUN, "fit", "-k", "512", "-i", "8", "-s", "1337", "-j", str(THREADS), "-r", str(RUNS), "3",
                       B + "/pts.bin", B + "/init.bin", B + "/final.bin"], check=True, capture_output=True,
                      text=True).stdout
sk = subprocess.run([sys.executable, "tests/model/kmeans_ref.py", "time", B + "/pts.bin", B + "/init.bin", "8",
                     str(THREADS), str(RUNS)], check=True, capture_output=True, text=True).stdout
t_ours, t_sk = statistics.median(seconds(ours)), statistics.median(seconds(sk))
mse = ours.splitlines()[-1].split()[3]
print("  %-58s %8.3f s" % ("scikit-learn KMeans (float32, same initial centres)", t_sk))
print("  %-58s %8.3f s  %5.1fx  (mse %s)" % ("mg_kmeans_fit", t_ours, t_sk / t_ours, mse))

c = np.fromfile(B + "/final.bin", dtype=np.float32)
np.clip(np.rint(c), 0, 255).astype(np.uint8).tofile(B + "/palette.bin")
n = os.path.getsize(B + "/all.bin") // 3
out = subprocess.run([RUN, "assign", "-j", str(THREADS), "-r", str(RUNS), "3", B + "/palette.bin", B + "/all.bin",
                      B + "/ids.bin"], check=True, capture_output=True, text=True).stdout
t = statistics.median(seconds(out))
print("  %-58s %8.3f s  %.3g pixels/s" % ("mg_kmeans_assign, %d pixels, palette of 512" % n, t, n / t))
PY
