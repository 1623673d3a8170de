#!/bin/sh
# How fast the tools start: the median wall time of gpt-train --version, of
# a 1-step run of gpt-train on a tiny model (1 layer, 16 wide, 1-digit
# addition, -j 1), and of gpt-init beside them (its --version, and making
# that tiny model). In a CUDA build, also --device cuda, which loads the
# CUDA module and the CUDA libraries (and fails without a GPU: the time to
# say so). With hyperfine when it is installed, else a timing loop of its
# own. Environment: BENCH_RUNS (runs per row, default 30).
set -eu
cd "$(dirname "$0")/../.."
make -s bin/gpt-train bin/gpt-init bin/adder-gen
d=build/bench/startup
mkdir -p "$d"
bin/adder-gen -q --digits 1 -o "$d/add.tok"
init="bin/gpt-init -q --layers 1 --heads 2 --embd 16 --block 3 --dropout 0 --data $d/add.tok -o $d/tiny.ckpt"
$init
cuda=
if grep -q -- -DMG_HAVE_CUDA build/flags && [ -e build/lib/mygpt-cuda.so ]; then
	cuda="bin/gpt-train -q --device cuda -j 1 --data $d/add.tok --iters 1 --batch 4 -o $d/cuda.ckpt $d/tiny.ckpt"
fi

nice -n 5 /usr/bin/python3 - "$d" "$init" "$cuda" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time

D, INIT, CUDA = sys.argv[1:4]
RUNS = int(os.environ.get("BENCH_RUNS") or 30)
ROWS = [
    ("gpt-train --version", "bin/gpt-train --version", False),
    ("gpt-train, 1 step of a tiny model", "bin/gpt-train -q -j 1 --data %s/add.tok --iters 1 --batch 4 -o %s/out.ckpt "
     "%s/tiny.ckpt" % (D, D, D), False),
    ("gpt-init --version", "bin/gpt-init --version", False),
    ("gpt-init, the tiny model", INIT, False),
]
if CUDA:
    ROWS.append(("gpt-train --device cuda, 1 step (fails without a GPU)", CUDA, True))
HYPERFINE = shutil.which("hyperfine")


def median_hyperfine(cmd, may_fail):
    js = os.path.join(D, "hyperfine.json")
    r = subprocess.run([HYPERFINE, "-N", "--style", "none", "--warmup", "3", "--runs", str(RUNS), "--export-json", js]
                       + (["--ignore-failure"] if may_fail else []) + [cmd], capture_output=True, text=True)
    if r.returncode:
        sys.exit("bench-startup: hyperfine failed on %s:\n%s" % (cmd, r.stderr))
    return json.load(open(js))["results"][0]["median"]


def median_loop(cmd, may_fail):
    argv = cmd.split()
    times = []
    for i in range(RUNS + 3):
        t = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= 3:
            times.append(time.perf_counter() - t)
        if r.returncode and not may_fail:
            sys.exit("bench-startup: %s failed" % cmd)
    return statistics.median(times)


median = median_hyperfine if HYPERFINE else median_loop
print("startup: median wall time of %d runs (%s); load average at start: %s" %
      (RUNS, "hyperfine" if HYPERFINE else "a timing loop", " ".join(open("/proc/loadavg").read().split()[:3])))
for label, cmd, may_fail in ROWS:
    print("  %-55s %8.1f ms" % (label, 1000 * median(cmd, may_fail)))
PY
