#!/bin/sh
# nanoGPT's shakespeare-char CPU run (examples/shakespeare-char at
# SIZE=full: 2000 steps of batch 12, block 64) with mygpt and with the same
# model, data and schedule in PyTorch (shakespeare_torch.py), one after the
# other in this run: training time and the loss on all the validation data.
# The target: validation loss at most 1.88 within 100 s of training.
# Environment: BENCH_THREADS (default: the CPUs available), BENCH_ITERS (2000).
set -eu
cd "$(dirname "$0")/../.."
threads=${BENCH_THREADS:-$(nproc)}
iters=${BENCH_ITERS:-2000}
out=build/bench/shakespeare-char
rm -rf "$out"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
make -s -C examples/shakespeare-char SIZE=full ITERS="$iters" THREADS="$threads" OUT="$PWD/$out" BIN="$PWD/bin" \
	> "$out.log" 2>&1 || { cat "$out.log"; exit 1; }
ours_s=$(cat "$out/seconds")
ours_v=$(awk '{ print $3 }' "$out/val-loss.txt")
theirs=$(nice -n 0 /usr/bin/python3 tests/bench/shakespeare_torch.py examples/data/tinyshakespeare.txt \
	--iters "$iters" --threads "$threads")
echo "$theirs"
torch_s=$(echo "$theirs" | sed -n 's/.* steps in \([0-9.]*\) s.*/\1/p')
torch_v=$(echo "$theirs" | sed -n 's/.*val loss \([0-9.]*\) .*/\1/p')
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| shakespeare-char, $iters steps, $threads threads | training s | val loss (all) | speed-up |"
echo "|---|---|---|---|"
awk -v a="$ours_s" -v b="$torch_s" -v va="$ours_v" -v vb="$torch_v" 'BEGIN {
	printf "| mygpt (gpt-train, includes reading data and the 20-batch evaluations) | %.1f | %s | %.2fx |\n", a, va, b / a
	printf "| PyTorch (same model and schedule, no evaluation) | %.1f | %s | 1.00x |\n", b, vb
}'
awk -v a="$ours_s" -v va="$ours_v" 'BEGIN {
	printf "target (val loss <= 1.88 in <= 100 s): %s\n", (va <= 1.88 && a <= 100) ? "met" : "not met" }'
