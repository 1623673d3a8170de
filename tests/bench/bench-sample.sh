#!/bin/sh
# gpt-sample's speed on MyGPT's configuration (3 layers, 8 heads, 512 wide, block
# 128, vocab 65; random init) generating greedily from one start token,
# beside PyTorch (sample_torch.py, same threads, same run, interleaved
# repetition by repetition): minGPT's generate (a whole forward pass per
# token, context cropped to the block) and a PyTorch KV cache. 500 new
# tokens with the exact minGPT window (slide 1, so 373 of them recompute a
# 128-token window) and with --slide 64; then 127 tokens (the window never
# moves: pure cached decoding). The limit of one sequence is the weights
# read once per token (mem_read.c). Checks that both sides chose the same
# tokens. Environment: BENCH_THREADS (default: PyTorch on all CPUs and
# gpt-sample's own -j 0, all CPUs or one while that is faster; a number
# gives both exactly that many), BENCH_RUNS (default 3).
set -eu
cd "$(dirname "$0")/../.."
make -s bin/gpt-init bin/gpt-sample build/tests/bench/mem_read
mkdir -p build/bench/sample
bin/gpt-init -q --vocab 65 -s 1 -o build/bench/sample/mygpt.ckpt

nice -n 5 /usr/bin/python3 - <<'PY'
import os, re, statistics, subprocess, sys, time

sys.path.insert(0, "tests/bench")
import sample_torch as st  # noqa: E402
import torch  # noqa: E402

FIXED = os.environ.get("BENCH_THREADS")
THREADS = int(FIXED) if FIXED else len(os.sched_getaffinity(0))
JOPT = str(THREADS) if FIXED else "0"
RUNS = int(os.environ.get("BENCH_RUNS") or 3)
CKPT = "build/bench/sample/mygpt.ckpt"
OUT = "build/bench/sample/out.tok"
WEIGHT_BYTES = 9590272 * 4

torch.set_num_threads(THREADS)
model = st.GPT(CKPT)


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def c_run(n, slide):
    """gpt-sample's tokens/s (its -v timing: generation, not loading) and tokens."""
    r = subprocess.run(["bin/gpt-sample", "-v", "--greedy", "--tokens", "--start-token", "0", "--max-new-tokens",
                        str(n), "--slide", str(slide), "-j", JOPT, "-o", OUT, CKPT],
                       check=True, capture_output=True, text=True)
    rate = float(re.search(r" s: ([0-9.]+) tokens/s", r.stderr).group(1))
    ids = subprocess.run(["/usr/bin/python3", "tests/formats/mgread.py", "--ids", OUT], check=True,
                         capture_output=True, text=True).stdout.split()[1:]
    return rate, [int(x) for x in ids]


def t_run(mode, n, slide):
    t = time.perf_counter()
    ids = st.generate_mingpt(model, [0], n) if mode == "mingpt" else st.generate_kv(model, [0], n, slide)
    return n / (time.perf_counter() - t), ids


ROWS = [  # (section, label, runner)
    ("500", "PyTorch, minGPT generate (recompute, crop)", lambda: t_run("mingpt", 500, 1)),
    ("500", "PyTorch, KV cache, exact window (slide 1)", lambda: t_run("kv", 500, 1)),
    ("500", "gpt-sample, exact window (slide 1)", lambda: c_run(500, 1)),
    ("500", "PyTorch, KV cache, slide 64", lambda: t_run("kv", 500, 64)),
    ("500", "gpt-sample --slide 64", lambda: c_run(500, 64)),
    ("127", "PyTorch, minGPT generate", lambda: t_run("mingpt", 127, 1)),
    ("127", "PyTorch, KV cache", lambda: t_run("kv", 127, 1)),
    ("127", "gpt-sample", lambda: c_run(127, 1)),
]

print("gpt-sample: MyGPT's configuration (9,590,272 parameters, 38.4 MB of fp32 weights), greedy from token 0, "
      "%d runs interleaved; PyTorch on %d thread%s, gpt-sample -j %s" % (RUNS, THREADS, "s" if THREADS > 1 else "",
                                                                       JOPT))
print("load average at start: %s" % load())
t_run("kv", 8, 1)  # warm-up: PyTorch's first calls
rates = [[] for _ in ROWS]
tokens = [None] * len(ROWS)
for r in range(RUNS):
    for i, (_, _, run) in enumerate(ROWS):
        rate, ids = run()
        rates[i].append(rate)
        if tokens[i] is None:
            tokens[i] = ids
        elif tokens[i] != ids:
            sys.exit("bench-sample: %s chose other tokens on run %d" % (ROWS[i][1], r + 1))
# the best read rate with one thread or with all (on a busy machine, threads
# waiting for each other can make all slower than one)
bw = max(float(subprocess.run(["build/tests/bench/mem_read", str(WEIGHT_BYTES), str(n), "30"], check=True,
                              capture_output=True, text=True).stdout.split()[2]) for n in sorted({1, THREADS}))
print("load average at end: %s" % load())

base = {}
for sec, title in (("500", "500 new tokens (373 past the block)"), ("127", "127 new tokens (inside the block)")):
    print()
    print("%-46s %12s %8s %16s" % (title, "tokens/s", "x minGPT", "min-max"))
    for i, (s, label, _) in enumerate(ROWS):
        if s != sec:
            continue
        med = statistics.median(rates[i])
        base.setdefault(sec, med)
        print("%-46s %12.1f %7.1fx %7.1f-%-8.1f" % (label, med, med / base[sec], min(rates[i]), max(rates[i])))
print()
print("limit of one sequence: the weights read once per token at %.1f GB/s (best read of 38.4 MB): %.0f tokens/s" %
      (bw, bw * 1e9 / WEIGHT_BYTES))
same = tokens[0] == tokens[1] == tokens[2] and tokens[3] == tokens[4] and tokens[5] == tokens[6] == tokens[7]
print("the same tokens on both sides (minGPT = KV cache = gpt-sample; slide 64 alike): %s" % ("yes" if same else "NO"))
if not same:
    sys.exit(1)
PY
