#!/bin/sh
# Start-up at the speed of memory: the whole-process time of gpt-sample on
# MyGPT's configuration (3 layers, 8 heads, 512 wide, block 128, the 65
# characters of tiny Shakespeare; random init, 38.4 MB of f32 weights)
# making 1 and 127 new tokens (greedy, from token 0), beside PyTorch on the
# same weights (load_torch.py: torch.load of a state dict, then a KV cache);
# the same model with every tensor compressed, as checkpoints were written
# before 2026-12-07; gpt-train --eval-only on one sequence and mygpt-info,
# which read the whole file too. The limit: reading the file's bytes from
# the page cache into memory and their CRC-32 (file_read.c). Checks that
# both sides chose the same tokens. With hyperfine when it is installed,
# else a timing loop of its own. Environment: BENCH_RUNS (default 20).
set -eu
cd "$(dirname "$0")/../.."
make -s bin/gpt-init bin/gpt-sample bin/gpt-train bin/mygpt-info bin/bpe-train bin/bpe-encode \
	build/tests/bench/file_read
d=build/bench/load
mkdir -p "$d"
text=examples/data/tinyshakespeare.txt
bin/bpe-train -q --chars -o "$d/chars.tkz" "$text"
n=$(wc -c < "$text")
tail -c +$((n * 9 / 10 + 1)) "$text" > "$d/val.txt"
bin/bpe-encode -q -m "$d/chars.tkz" -o "$d/val.tok" "$d/val.txt"
bin/gpt-init -q --tokenizer "$d/chars.tkz" -s 1 -o "$d/mygpt.ckpt"
/usr/bin/python3 tests/formats/chunks.py deflate "$d/mygpt.ckpt" "$d/mygpt-zlib.ckpt"
/usr/bin/python3 tests/bench/load_torch.py --save "$d/mygpt.ckpt" "$d/mygpt.pt"

nice -n 5 /usr/bin/python3 - "$d" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time

D = sys.argv[1]
RUNS = int(os.environ.get("BENCH_RUNS") or 20)
CK, ZCK, PT = D + "/mygpt.ckpt", D + "/mygpt-zlib.ckpt", D + "/mygpt.pt"
SAMPLE = "bin/gpt-sample --greedy --tokens --start-token 0 -o %s/out.tok --max-new-tokens %%d %%s" % D
TORCH = "/usr/bin/python3 tests/bench/load_torch.py %s %%d" % PT
ROWS = [  # (key, label, command)
    ("c1", "gpt-sample, 1 new token", SAMPLE % (1, CK)),
    ("c127", "gpt-sample, 127 new tokens", SAMPLE % (127, CK)),
    ("z1", "gpt-sample, 1 new token, tensors compressed", SAMPLE % (1, ZCK)),
    ("eval", "gpt-train --eval-only, 1 sequence of 128", "bin/gpt-train --eval-only -q --val %s/val.tok "
     "--eval-batches 1 --micro-batch 1 %s" % (D, CK)),
    ("info", "mygpt-info (every CRC)", "bin/mygpt-info %s" % CK),
    ("ver", "gpt-sample --version (a process)", "bin/gpt-sample --version"),
    ("t1", "PyTorch, torch.load + 1 new token", TORCH % 1),
    ("t127", "PyTorch, torch.load + 127 new tokens", TORCH % 127),
    ("timport", "PyTorch, python3 -c 'import torch'", "/usr/bin/python3 -c 'import torch'"),
]
HYPERFINE = shutil.which("hyperfine")


def median_hyperfine(cmd):
    js = os.path.join(D, "hyperfine.json")
    r = subprocess.run([HYPERFINE, "-N", "--style", "none", "--warmup", "2", "--runs", str(RUNS), "--export-json", js,
                        cmd], capture_output=True, text=True)
    if r.returncode:
        sys.exit("bench-load: hyperfine failed on %s:\n%s" % (cmd, r.stderr))
    res = json.load(open(js))["results"][0]
    return res["median"], min(res["times"]), max(res["times"])


def median_loop(cmd):
    import shlex
    argv, times = shlex.split(cmd), []
    for i in range(RUNS + 2):
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= 2:
            times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


# the same tokens on both sides
subprocess.run((SAMPLE % (127, CK)).split(), check=True)
ours = subprocess.run(["/usr/bin/python3", "tests/formats/mgread.py", "--ids", D + "/out.tok"], check=True,
                      capture_output=True, text=True).stdout.split()[1:]
r = subprocess.run((TORCH % 127).split(), check=True, capture_output=True, text=True)
theirs = r.stdout.split()
torch_load = statistics.median(
    float(subprocess.run((TORCH % 1).split(), check=True, capture_output=True, text=True).stderr.split()[-1])
    for _ in range(5))

median = median_hyperfine if HYPERFINE else median_loop
print("load: MyGPT's configuration, %d bytes of checkpoint (%d with every tensor compressed), %d bytes of "
      "state dict; median wall time of whole processes, %d runs (%s)" %
      (os.path.getsize(CK), os.path.getsize(ZCK), os.path.getsize(PT), RUNS,
       "hyperfine -N" if HYPERFINE else "a timing loop"))
print("load average at start: %s" % load())
res = {}
print("%-46s %10s %19s" % ("", "median", "min-max"))
for key, label, cmd in ROWS:
    res[key] = median(cmd)
    m, lo, hi = res[key]
    print("%-46s %7.1f ms %8.1f-%-8.1f ms" % (label, 1e3 * m, 1e3 * lo, 1e3 * hi))
print("load average at end: %s" % load())
lim = subprocess.run(["build/tests/bench/file_read", CK, "20"], check=True, capture_output=True,
                     text=True).stdout.split()
rd, crc = float(lim[1]), float(lim[3])
print()
print("PyTorch / gpt-sample, whole process: %.1fx for 1 token, %.1fx for 127" %
      (res["t1"][0] / res["c1"][0], res["t127"][0] / res["c127"][0]))
print("tensors compressed / plain, gpt-sample 1 token: %.1fx" % (res["z1"][0] / res["c1"][0]))
print("torch.load alone, in its process: %.1f ms (median of 5)" % (1e3 * torch_load))
print("limit: the file read from the page cache %.1f ms (%.1f GB/s), its CRC-32 %.1f ms (%.1f GB/s); "
      "gpt-sample 1 token is %.1fx read + CRC + an empty process" %
      (1e3 * rd, os.path.getsize(CK) / rd / 1e9, 1e3 * crc, os.path.getsize(CK) / crc / 1e9,
       res["c1"][0] / (rd + crc + res["ver"][0])))
same = ours == theirs and len(ours) == 127
print("the same 127 tokens on both sides: %s" % ("yes" if same else "NO"))
if not same:
    sys.exit(1)
PY
