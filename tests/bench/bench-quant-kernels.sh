#!/bin/sh
# The CPU backend's Linear layer of inference (infer_matmul,
# lib/backend/cpu/cpu_infer.c and cpu_quant*.c) on f32, f16, bf16 and q8
# weights, through build/tests/bench/quant_rate: one row (decoding a token)
# and 128 rows (the exact window's recompute) on MyGPT's four shapes and
# GPT-2's c_fc, on every kernel path this CPU runs; beside them the
# machine's limits: memcpy's rate on as many bytes as the weights (one row
# reads each weight once) and OpenBLAS's sgemm on the same 128-row product.
# On all CPUs, then on one. Environment: BENCH_THREADS (default: all CPUs),
# BENCH_REPS (calls per median, default 200).
set -eu
cd "$(dirname "$0")/../.."
make -s build/tests/bench/quant_rate
threads=${BENCH_THREADS:-$(nproc)}
reps=${BENCH_REPS:-200}
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "columns: time of one product in us; weight GB/s = bytes of packed weights / time;"
echo "memcpy = memcpy's GB/s on that many bytes; cold = the weights from memory, not the caches;"
echo "GFLOP/s = 2 rows IC OC / time (q8: integer operations); sgemm = OpenBLAS's f32 GFLOP/s on the same product"
nice -n 5 build/tests/bench/quant_rate "$threads" "$reps"
if [ "$threads" -gt 1 ]; then
	nice -n 5 build/tests/bench/quant_rate 1 "$reps"
fi
