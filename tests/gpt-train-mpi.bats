#!/usr/bin/env bats
# gpt-train under mpirun (man/gpt-train.1, "RUNNING ON SEVERAL PROCESSES"):
# ranks against one process bit for bit, run-to-run determinism, resuming
# across rank counts, a killed rank, SIGTERM, and inputs that differ
# between ranks. Run by make check when the build has MPI (MPI=1).
# bats file_tags=mpi
load helpers

setup_file() {
	cd "$BATS_FILE_TMPDIR" || exit 1
	export PATH="$BIN:$PATH"
	bpe-train -q --chars -o chars.tkz "$ROOT/examples/data/tinyshakespeare.txt"
	head -c 20000 "$ROOT/examples/data/tinyshakespeare.txt" > small.txt
	head -c 19000 "$ROOT/examples/data/tinyshakespeare.txt" > other.txt
	bpe-encode -q -m chars.tkz -o text.tok small.txt
	bpe-encode -q -m chars.tkz -o other.tok other.txt
	gpt-init -q --layers 2 --heads 4 --embd 32 --block 32 --dropout 0.1 --data text.tok -o small.ckpt
	adder-gen -q --digits 1 -o add1.tok
	gpt-init -q --layers 2 --heads 4 --embd 32 --block 3 --dropout 0.1 --data add1.tok -o add1.ckpt
}

F() { echo "$BATS_FILE_TMPDIR/$1"; }

# One thread a rank: the box has 2 cores, and results depend on the thread
# count (lib/model/gpt.h), which every run here keeps at 1.
export OMP_NUM_THREADS=1
# mpirun -np N ...: as root (CI), more ranks than cores
mpi() { mpirun --oversubscribe --allow-run-as-root -np "$@"; }

# The largest difference of two checkpoints' tensors (parameters and
# moments), relative to the largest magnitude of each tensor.
maxdiff() {
	/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
a, b = (mgread.read_checkpoint(p) for p in sys.argv[2:4])
assert sorted(a.tensors) == sorted(b.tensors)
worst = 0.0
for k in a.tensors:
    x, y = a.tensors[k].floats(), b.tensors[k].floats()
    m = max(abs(v) for v in x) or 1.0
    worst = max(worst, max(abs(p - q) for p, q in zip(x, y)) / m)
print("%.1e" % worst)
' "$ROOT/tests/formats" "$@"
}

# mpirun -np N ... in the background: its own pid in $! (no subshell between)
MPIRUN=(mpirun --oversubscribe --allow-run-as-root)

# The pid of rank R among the descendants of pid P (Open MPI names each
# process's rank in its environment).
rank_pid() {
	local c
	for c in $(pgrep -P "$1"); do
		if tr '\0' '\n' < "/proc/$c/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then
			echo "$c"
			return
		fi
		rank_pid "$c" "$2"
	done
}

# Waits until file F exists, while the job of pid P runs (fails if it ends first).
wait_for() {
	while [ ! -e "$1" ]; do
		kill -0 "$2" 2> /dev/null || return 1
		sleep 0.1
	done
}

TRAIN=(-j 1 --data "$BATS_FILE_TMPDIR/text.tok" --val-split 0.1 --eval-every 3 --iters 6)

@test "gpt-train-mpi: gpt-train links MPI, and no other tool does" {
	for c in "$ROOT"/cmd/*.c; do
		b="$BIN/$(basename "$c" .c)"
		run -0 ldd "$b"
		if [ "$(basename "$c" .c)" = gpt-train ]; then
			assert_output --partial libmpi
		else
			refute_output --partial libmpi
		fi
	done
}

@test "gpt-train-mpi: 2 ranks equal one process of 2 micro-batches byte for byte" {
	# dropout, a validation split evaluated twice, the text stream
	gpt-train -q "${TRAIN[@]}" --batch 8 --micro-batch 4 -o one.ckpt "$(F small.ckpt)"
	run -0 --separate-stderr mpi 2 gpt-train -q "${TRAIN[@]}" --batch 8 -o two.ckpt "$(F small.ckpt)"
	assert_equal "$output$stderr" ""
	cmp one.ckpt two.ckpt
	assert_equal "$(trai two.ckpt micro_batch)" 4
	# the examples layout, an epoch boundary, a last batch of 1 micro-batch
	gpt-train -q -j 1 --data "$(F add1.tok)" --epochs 2 --batch 16 --micro-batch 8 -o a1.ckpt "$(F add1.ckpt)"
	mpi 2 gpt-train -q -j 1 --data "$(F add1.tok)" --epochs 2 --batch 16 -o a2.ckpt "$(F add1.ckpt)"
	cmp a1.ckpt a2.ckpt
}

@test "gpt-train-mpi: 3 ranks of one micro-batch each equal one process of 3 micro-batches" {
	gpt-train -q "${TRAIN[@]}" --batch 6 --micro-batch 2 -o one.ckpt "$(F small.ckpt)"
	mpi 3 gpt-train -q "${TRAIN[@]}" --batch 6 -o three.ckpt "$(F small.ckpt)"
	cmp one.ckpt three.ckpt
}

@test "gpt-train-mpi: with several micro-batches a rank, within rounding of one process" {
	# one process adds 4 micro-batch gradients in order, 2 ranks (x0+x1)+(x2+x3);
	# AdamW amplifies the rounding where a moment is near 0: 6e-5 measured
	# here, bounded by 1e-3 for other CPUs' kernels
	gpt-train -q "${TRAIN[@]}" --batch 8 --micro-batch 2 -o one.ckpt "$(F small.ckpt)"
	mpi 2 gpt-train -q "${TRAIN[@]}" --batch 8 --micro-batch 2 -o two.ckpt "$(F small.ckpt)"
	run -1 cmp -s one.ckpt two.ckpt
	d=$(maxdiff one.ckpt two.ckpt)
	echo "relative difference $d" >&3
	/usr/bin/python3 -c "import sys; sys.exit(not (0 < $d < 1e-3))"
}

@test "gpt-train-mpi: the same ranks give the same bytes run after run" {
	for n in 2 3; do
		mpi $n gpt-train -q "${TRAIN[@]}" --batch 6 --micro-batch 1 -o a$n.ckpt "$(F small.ckpt)"
		mpi $n gpt-train -q "${TRAIN[@]}" --batch 6 --micro-batch 1 -o b$n.ckpt "$(F small.ckpt)"
		cmp a$n.ckpt b$n.ckpt
	done
}

@test "gpt-train-mpi: a checkpoint of N ranks resumes on M ranks as the M-rank run goes on" {
	common=(-q -j 1 --data "$(F text.tok)" --batch 12 --final-tokens 4608)
	# 2 ranks to step 3, then 1 process (the stored micro-batch, 6): the 2-rank run
	mpi 2 gpt-train "${common[@]}" --iters 3 -o r2.ckpt "$(F small.ckpt)"
	gpt-train "${common[@]}" --iters 6 -o r21.ckpt r2.ckpt
	mpi 2 gpt-train "${common[@]}" --iters 6 -o full2.ckpt "$(F small.ckpt)"
	cmp r21.ckpt full2.ckpt
	# 2 ranks to step 3, then 3 ranks (micro-batch 4 from there): one
	# process with micro-batch 6 then 4
	mpi 3 gpt-train "${common[@]}" --iters 6 -o r23.ckpt r2.ckpt
	assert_equal "$(trai r23.ckpt micro_batch)" 4
	gpt-train "${common[@]}" --iters 3 --micro-batch 6 -o p.ckpt "$(F small.ckpt)"
	gpt-train "${common[@]}" --iters 6 --micro-batch 4 -o p6.ckpt p.ckpt
	cmp r23.ckpt p6.ckpt
	# one process's checkpoint (micro-batch 12) on 4 ranks
	gpt-train "${common[@]}" --iters 3 -o o.ckpt "$(F small.ckpt)"
	mpi 4 gpt-train "${common[@]}" --iters 6 -o o4.ckpt o.ckpt
	gpt-train "${common[@]}" --iters 6 --micro-batch 3 -o o1.ckpt o.ckpt
	cmp o4.ckpt o1.ckpt
}

@test "gpt-train-mpi: a killed rank ends the job, and the last checkpoint resumes exactly" {
	args=(-q -j 1 --data "$(F text.tok)" --batch 8 --final-tokens 1000000)
	"${MPIRUN[@]}" -np 2 gpt-train "${args[@]}" --iters 100000 --save-every 1 -o k.ckpt "$(F small.ckpt)" > out 2> err &
	job=$!
	wait_for k.ckpt $job
	kill -KILL "$(rank_pid $job 1)"
	st=0
	wait $job || st=$?
	assert_equal "$st" 137
	grep -q "rank 1 with PID [0-9]* on node .* exited on signal 9 (Killed)" err
	assert_equal "$(cat out)" ""
	n=$(trai k.ckpt step)
	[ "$n" -ge 1 ]
	mygpt-info k.ckpt > /dev/null # checksums
	mpi 2 gpt-train "${args[@]}" --iters $((n + 3)) -o resumed.ckpt k.ckpt
	mpi 2 gpt-train "${args[@]}" --iters $((n + 3)) -o straight.ckpt "$(F small.ckpt)"
	cmp resumed.ckpt straight.ckpt
}

# Starts a 2-rank run that saves every step in ./run, waits for its first
# checkpoint, sends SIGTERM to the ranks named (0, 1 or both), and checks
# that it ended with one checkpoint, said once, that resumes exactly.
sigterm_ranks() {
	args=(-j 1 --data "$(F text.tok)" --batch 8 --final-tokens 1000000)
	mkdir run && cd run
	"${MPIRUN[@]}" -np 2 gpt-train "${args[@]}" --iters 100000 --save-every 1 -o t.ckpt "$(F small.ckpt)" \
		> ../out 2> ../err &
	job=$!
	wait_for t.ckpt $job
	pids=()
	for r in "$@"; do
		pids+=("$(rank_pid $job $r)")
	done
	kill -TERM "${pids[@]}"
	st=0
	wait $job || st=$?
	assert_equal "$st" 143
	n=$(trai t.ckpt step)
	# rank 0 says it once, and rank 0 alone wrote: t.ckpt, nothing else
	assert_equal "$(grep -c "^gpt-train: SIGTERM: stopping after step $n; writing the checkpoint to t.ckpt$" ../err)" 1
	assert_equal "$(grep -c '^gpt-train: step ' ../err)" 1
	assert_equal "$(ls -A)" t.ckpt
	assert_equal "$(cat ../out)" ""
	mpi 2 gpt-train -q "${args[@]}" --iters $((n + 3)) -o resumed.ckpt t.ckpt
	mpi 2 gpt-train -q "${args[@]}" --iters $((n + 3)) -o straight.ckpt "$(F small.ckpt)"
	cmp resumed.ckpt straight.ckpt
}

@test "gpt-train-mpi: SIGTERM to one rank stops every rank after the same step, one checkpoint" {
	sigterm_ranks 1
}

@test "gpt-train-mpi: SIGTERM to every rank (as scancel sends it) stops the job with one checkpoint" {
	sigterm_ranks 0 1
}

@test "gpt-train-mpi: ranks that read different data, run different options or name another checkpoint are refused before training" {
	a=(gpt-train -q -j 1 --iters 2 --batch 4 -o x.ckpt "$(F small.ckpt)")
	run -1 --separate-stderr mpirun --oversubscribe --allow-run-as-root -np 1 "${a[@]}" --data "$(F text.tok)" : \
		-np 1 "${a[@]}" --data "$(F other.tok)"
	assert_equal "$(grep -c '^gpt-train' <<< "$stderr")" 1
	assert_equal "${stderr_lines[0]}" "gpt-train: $(F text.tok): rank 1 reads different data (its training or validation data differs from rank 0's): every rank must read the same files"
	[ ! -e x.ckpt ]
	run -1 --separate-stderr mpirun --oversubscribe --allow-run-as-root -np 1 "${a[@]}" --data "$(F text.tok)" : \
		-np 1 "${a[@]}" --data "$(F text.tok)" -s 7
	assert_equal "${stderr_lines[0]}" "gpt-train: rank 1 was given different options (batch, micro-batch, seed, order, length, rate or clipping) than rank 0: every rank must run the same command"
	[ ! -e x.ckpt ]
	# rank 0 alone reads the checkpoint: another one named elsewhere is refused
	cp "$(F small.ckpt)" copy.ckpt
	run -1 --separate-stderr mpirun --oversubscribe --allow-run-as-root -np 1 "${a[@]}" --data "$(F text.tok)" : \
		-np 1 gpt-train -q -j 1 --iters 2 --batch 4 -o x.ckpt --data "$(F text.tok)" copy.ckpt
	assert_equal "${stderr_lines[0]}" "gpt-train: $(F small.ckpt): rank 1 was given another checkpoint (rank 0 reads this one for every rank): every rank must run the same command"
	assert_equal "$(grep -c '^gpt-train' <<< "$stderr")" 1
	[ ! -e x.ckpt ]
}

@test "gpt-train-mpi: a batch that the ranks cannot share is a usage error" {
	run -2 --separate-stderr mpi 2 gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 --batch 5 -o x.ckpt "$(F small.ckpt)"
	assert_equal "${stderr_lines[0]}" "gpt-train: --batch 5 is not divisible by the 2 ranks (each takes an equal share of every batch)"
	assert_equal "$(grep -c '^gpt-train' <<< "$stderr")" 1
	run -2 --separate-stderr mpi 2 gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 --batch 8 --micro-batch 5 \
		-o x.ckpt "$(F small.ckpt)"
	assert_equal "${stderr_lines[0]}" "gpt-train: --micro-batch 5 is larger than a rank's share of the batch (4 of 8 over 2 ranks)"
	run -2 --separate-stderr mpi 2 gpt-train -q -j 1 --data - --iters 1 -o x.ckpt "$(F small.ckpt)" < "$(F text.tok)"
	assert_equal "${stderr_lines[0]}" "gpt-train: with several ranks --data and --val must be files: every rank reads them"
	[ ! -e x.ckpt ]
}

@test "gpt-train-mpi: rank 0 reads the checkpoint, also from standard input; --eval-only over the ranks" {
	gpt-train -q "${TRAIN[@]}" --batch 8 --micro-batch 4 -o one.ckpt "$(F small.ckpt)"
	mpi 2 gpt-train -q "${TRAIN[@]}" --batch 8 -o two.ckpt < "$(F small.ckpt)"
	cmp one.ckpt two.ckpt
	run -0 --separate-stderr gpt-train --eval-only -q -j 1 --micro-batch 5 --val "$(F text.tok)" one.ckpt
	one=$output
	run -0 --separate-stderr mpi 3 gpt-train --eval-only -q -j 1 --micro-batch 5 --val "$(F text.tok)" one.ckpt
	assert_equal "$output" "$one"
	assert_equal "$stderr" ""
}

@test "gpt-train-mpi: a corrupt checkpoint is said once" {
	head -c 1000 "$(F small.ckpt)" > cut.ckpt
	run -1 --separate-stderr mpi 2 gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 -o x.ckpt cut.ckpt
	assert_equal "$(grep -c '^gpt-train' <<< "$stderr")" 1
	run -1 --separate-stderr gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 -o x.ckpt cut.ckpt
	one=$stderr
	run -1 --separate-stderr mpi 2 gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 -o x.ckpt cut.ckpt
	assert_equal "${stderr_lines[0]}" "$one"
}

@test "gpt-train-mpi: a quantized checkpoint is refused once, before training; --eval-only evaluates it over the ranks" {
	gpt-convert -q --dtype q8 -o q8.ckpt "$(F small.ckpt)"
	run -1 --separate-stderr gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 -o x.ckpt q8.ckpt
	one=$stderr
	assert_equal "$one" "gpt-train: q8.ckpt: the model is quantized ('h.0.attn.c_attn.weight' is q8): it runs inference only; gpt-convert --dtype f32 expands it for training"
	run -1 --separate-stderr mpi 2 gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 -o x.ckpt q8.ckpt
	assert_equal "$(grep -c '^gpt-train' <<< "$stderr")" 1
	assert_equal "${stderr_lines[0]}" "$one"
	assert [ ! -e x.ckpt ]
	run -0 gpt-train --eval-only -q -j 1 --val "$(F text.tok)" --eval-batches 2 q8.ckpt
	local single=$output
	run -0 --separate-stderr mpi 2 gpt-train --eval-only -q -j 1 --val "$(F text.tok)" --eval-batches 2 q8.ckpt
	assert_equal "$output" "$single"
}
