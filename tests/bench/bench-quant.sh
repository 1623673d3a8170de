#!/bin/sh
# Quantized checkpoints (gpt-convert) against f32, side by side: for the
# shakespeare-char model (examples/shakespeare-char, SIZE=full) and a model
# of MyGPT's configuration (3 layers, 8 heads, 512 wide, block 128, vocab 65)
# trained on the same data (BENCH_MYGPT_ITERS steps of batch 16, about 10
# minutes on 2 busy cores), each as f32, f16, bf16 and q8 (Linear weights;
# the rest f32; no optimizer state): file size, validation loss on all the
# validation targets (gpt-train --eval-only), greedy tokens equal to f32's
# over 500 new tokens (slide 1), gpt-sample's tokens/s at batch 1 inside the
# block (block - 1 new tokens: cached decoding) and with the exact window
# (500 new tokens, slide 1: every token past the block recomputes a whole
# window), and the peak resident memory of the 500-token run. Medians of
# BENCH_RUNS (default 3) runs, interleaved dtype by dtype. The models are
# trained once into build/bench/quant/ and reused (delete it to retrain).
# Limits per row: inside the block, a token reads the weights once
# (mem_read.c on a buffer of the row's weight bytes); with the exact window a
# token past the block costs 2 x (Linear parameters) x block FLOPs at the
# fp32 FMA peak (fma_peak.c), the block's cached tokens counted free (int8
# products can beat it, q8's are not bound by it). Environment: BENCH_THREADS (default gpt-sample -j 0),
# BENCH_RUNS, BENCH_MYGPT_ITERS (default 160).
set -eu
cd "$(dirname "$0")/../.."
make -s bin/gpt-init bin/gpt-train bin/gpt-sample bin/gpt-convert bin/bpe-train bin/bpe-encode \
	build/tests/bench/mem_read build/tests/bench/fma_peak
D=$PWD/build/bench/quant
mkdir -p "$D/mygpt"
make -s -C examples/shakespeare-char SIZE=full OUT="$D/shakespeare" "$D/shakespeare/model.ckpt" >/dev/null
if [ ! -e "$D/mygpt/model.ckpt" ]; then
	iters=${BENCH_MYGPT_ITERS:-160}
	start=$(date +%s)
	bin/gpt-init -q --dropout 0 -s 1337 --data "$D/shakespeare/train.tok" |
		nice -n 5 bin/gpt-train -q -s 1337 --data "$D/shakespeare/train.tok" --iters "$iters" --batch 16 \
			--lr 1e-3 --lr-schedule cosine-min --warmup-iters 20 --lr-decay-iters "$iters" \
			--beta2 0.99 --grad-clip 1 -o "$D/mygpt/model.ckpt"
	echo "$iters $(($(date +%s) - start))" > "$D/mygpt/trained"
fi

nice -n 5 /usr/bin/python3 - "$D" <<'PY'
import os, re, statistics, subprocess, sys

sys.path.insert(0, "tests/formats")
import mgread  # noqa: E402

D = sys.argv[1]
FIXED = os.environ.get("BENCH_THREADS")
JOPT = FIXED or "0"
THREADS = int(FIXED) if FIXED else len(os.sched_getaffinity(0))
RUNS = int(os.environ.get("BENCH_RUNS") or 3)
DTYPES = ["f32", "f16", "bf16", "q8"]
VAL = D + "/shakespeare/val.tok"
LINEAR = ("c_attn.weight", "c_proj.weight", "c_fc.weight", "lm_head.weight")


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def sample(ckpt, n, timed=False):
    """gpt-sample's tokens/s (its -v timing: generation, not loading), its
    tokens, and with timed its peak resident memory in MB."""
    out = ckpt + ".tok"
    cmd = ["bin/gpt-sample", "-v", "--greedy", "--tokens", "--start-token", "0", "--max-new-tokens", str(n),
           "--slide", "1", "-j", JOPT, "-o", out, ckpt]
    if timed:
        cmd = ["/usr/bin/time", "-f", "peak %M"] + cmd
    r = run(cmd)
    rate = float(re.search(r" s: ([0-9.]+) tokens/s", r.stderr).group(1))
    peak = int(re.search(r"^peak (\d+)$", r.stderr, re.M).group(1)) / 1024 if timed else None
    ids = run(["/usr/bin/python3", "tests/formats/mgread.py", "--ids", out]).stdout.split()[1:]
    return rate, ids, peak


models = [("shakespeare-char", D + "/shakespeare/model.ckpt"), ("MyGPT", D + "/mygpt/model.ckpt")]
print("quantized checkpoints: gpt-sample -j %s, %d runs interleaved, %d CPUs" % (JOPT, RUNS, THREADS))
print("load average at start: %s" % load())
fma = run(["build/tests/bench/fma_peak", str(THREADS), "5"]).stdout.split()
peak_gflops = float(fma[3])
rows = []
for label, src in models:
    ck = mgread.read_checkpoint(src)
    cfg = ck.config
    block = cfg["block_size"]
    lin_params = sum(len(t.data) // 4 for (n, r), t in ck.tensors.items() if r == "param" and n.endswith(LINEAR))
    files = {}
    for dt in DTYPES:
        files[dt] = "%s/%s-%s.ckpt" % (os.path.dirname(src), os.path.basename(os.path.dirname(src)), dt)
        run(["bin/gpt-convert", "-q", "--params-only", "--dtype", dt, "-o", files[dt], src])
    res = {dt: {"in": [], "ex": []} for dt in DTYPES}
    for dt in DTYPES:
        r = res[dt]
        r["size"] = os.path.getsize(files[dt])
        m = re.match(r"val loss ([0-9.]+) over (\d+) targets",
                     run(["bin/gpt-train", "--eval-only", "-q", "-j", JOPT, "--micro-batch", "64", "--val", VAL,
                          files[dt]]).stdout)
        r["loss"], r["targets"] = float(m.group(1)), int(m.group(2))
        q = mgread.read_checkpoint(files[dt])
        r["wbytes"] = sum(len(t.data) for (n, role), t in q.tensors.items()
                          if role == "param" and (n.endswith(LINEAR) or n not in ("wte", "wpe")))
    for k in range(RUNS):
        for dt in DTYPES:
            rate, _, _ = sample(files[dt], block - 1)
            res[dt]["in"].append(rate)
            rate, ids, peak = sample(files[dt], 500, timed=(k == 0))
            res[dt]["ex"].append(rate)
            if k == 0:
                res[dt]["ids"], res[dt]["peak"] = ids, peak
    for dt in DTYPES:
        r = res[dt]
        bw = max(float(run(["build/tests/bench/mem_read", str(r["wbytes"]), str(n), "20"]).stdout.split()[2])
                 for n in sorted({1, THREADS}))
        r["lim_in"] = bw * 1e9 / r["wbytes"]
        r["bw"] = bw
        # an upper bound on the 500-token run's rate: the tokens past the
        # block at the FMA peak, the block's cached ones free
        r["lim_ex"] = peak_gflops * 1e9 / (2.0 * lin_params * block) * 500 / (500 - block)
        a, b = res["f32"]["ids"], r["ids"]
        same = sum(x == y for x, y in zip(a, b))
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
        r["same"] = "%d/%d" % (same, len(a)) + ("" if first is None else " (first diff at %d)" % first)
    rows.append((label, cfg, lin_params, res))
print("load average at end: %s" % load())
print("fp32 FMA peak (fma_peak.c): %.1f GFLOP/s on %d threads" % (peak_gflops, THREADS))
trained = open(D + "/mygpt/trained").read().split() if os.path.exists(D + "/mygpt/trained") else None
if trained:
    print("MyGPT's model: %s steps of batch 16 x 128 in %s s" % (trained[0], trained[1]))
print()
print("| model | dtype | file (MB) | val loss | vs f32 | greedy = f32 (500) | tok/s in block | x f32 | limit | "
      "tok/s exact window | x f32 | limit (f32 FMA) | peak RSS (MB) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
ok = True
for label, cfg, lin_params, res in rows:
    f = res["f32"]
    fin, fex = statistics.median(f["in"]), statistics.median(f["ex"])
    for dt in DTYPES:
        r = res[dt]
        rin, rex = statistics.median(r["in"]), statistics.median(r["ex"])
        print("| %s | %s | %.2f | %.4f | %+.2f%% | %s | %.0f | %.2fx | %.0f | %.0f | %.2fx | %.0f | %.0f |" % (
            label, dt, r["size"] / 1e6, r["loss"], 100 * (r["loss"] / f["loss"] - 1), r["same"], rin, rin / fin,
            r["lim_in"], rex, rex / fex, r["lim_ex"], r["peak"]))
    q = res["q8"]
    goals = (100 * (q["loss"] / f["loss"] - 1) <= 0.5, statistics.median(q["in"]) / fin >= 2,
             statistics.median(q["ex"]) / fex >= 1.5)
    print("goals for %s q8: val loss within 0.5%% of f32: %s; 2x f32 inside the block: %s; 1.5x with the exact "
          "window: %s" % (label, *["met" if g else "NOT met" for g in goals]))
PY
