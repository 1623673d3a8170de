#!/usr/bin/env bats
# gpt-train: the pipeline, learning, exact resumption (after a finished run,
# Ctrl-C and kill -9), the data order and schedule, the guards and every
# error path (man/gpt-train.1).
load helpers

# Shared inputs, made once: a character tokenizer of tiny Shakespeare, its
# first 20,000 characters as a stream, tiny models, 1-digit addition.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || exit 1
	export PATH="$BIN:$PATH"
	bpe-train -q --chars -o chars.tkz "$ROOT/examples/data/tinyshakespeare.txt"
	head -c 20000 "$ROOT/examples/data/tinyshakespeare.txt" > small.txt
	bpe-encode -q -m chars.tkz -o text.tok small.txt
	bpe-encode -q -m chars.tkz -o all.tok "$ROOT/examples/data/tinyshakespeare.txt"
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 16 --dropout 0 --data text.tok -o tiny.ckpt
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 16 --dropout 0.1 --data text.tok -o drop.ckpt
	gpt-init -q --layers 2 --heads 4 --embd 32 --block 32 --dropout 0 --data text.tok -o small.ckpt
	adder-gen -q --digits 1 -o add1.tok
	adder-gen -q --digits 1 --split test -o add1t.tok
	gpt-init -q --layers 2 --heads 4 --embd 32 --block 3 --dropout 0.1 --data add1.tok -o add1.ckpt
}

F() { echo "$BATS_FILE_TMPDIR/$1"; }

# A HEAD key of a checkpoint.
head_key() {
	/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
print(mgread.read_checkpoint(sys.argv[2]).config[sys.argv[3]])
' "$ROOT/tests/formats" "$@"
}

# poke IN OUT TENSOR VALUE: a copy of a checkpoint whose parameter TENSOR
# holds VALUE * ((k mod 7) - 3) at element k (re-chunked from the spec with
# the independent reader's writer helpers).
poke() {
	/usr/bin/python3 -c '
import struct, sys
sys.path.insert(0, sys.argv[1])
import mgread
src, dst, name, value = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
b = open(src, "rb").read()
r = mgread.Reader(b)
r.preamble("checkpoint")
out = [b[:16]]
while True:
    c = r.chunk()
    data = c.data
    if c.type == "TENS":
        cur = mgread.Cursor(data, "TENS")
        role, dt, rank, _ = cur.u8(), cur.u8(), cur.u8(), cur.u8()
        nm = cur.take(cur.u8()).decode()
        dims = [cur.u32() for _ in range(rank)]
        off, cnt = cur.u64(), cur.u64()
        if nm == name and role == 0 and dt == 0:
            data = data[:cur.p] + struct.pack(f"<{cnt}f", *[value * ((k % 7) - 3) for k in range(cnt)])
    out.append(mgread._chunk(c.type, bytes(data), c.flags))
    if c.type == "TAIL":
        break
open(dst, "wb").write(b"".join(out))
' "$ROOT/tests/formats" "$@"
}

# trai_set IN OUT KEY VALUE: a copy whose TRAI chunk has KEY set to the
# integer VALUE (or removed when VALUE is "-").
trai_set() {
	/usr/bin/python3 -c '
import struct, sys
sys.path.insert(0, sys.argv[1])
import mgread
src, dst, key, value = sys.argv[2:6]
b = open(src, "rb").read()
r = mgread.Reader(b)
r.preamble("checkpoint")
out = [b[:16]]
while True:
    c = r.chunk()
    data = c.data
    if c.type == "TRAI":
        kv = mgread._kv(data, "TRAI")
        if value == "-":
            del kv[key]
        else:
            kv[key] = int(value)
        p = struct.pack("<I", len(kv))
        for k, v in kv.items():
            p += bytes([len(k)]) + k.encode()
            if isinstance(v, int):
                p += b"\x01" + struct.pack("<q", v)
            elif isinstance(v, float):
                p += b"\x02" + struct.pack("<d", v)
            else:
                p += b"\x03" + struct.pack("<I", len(v)) + v.encode()
        data = p
    out.append(mgread._chunk(c.type, bytes(data), c.flags))
    if c.type == "TAIL":
        break
open(dst, "wb").write(b"".join(out))
' "$ROOT/tests/formats" "$@"
}

# Column COL (1-based) of the log's rows, one per line.
logcol() { awk -F'\t' -v c="$2" 'NR > 1 { print $c }' "$1"; }

@test "gpt-train: --help prints the man page synopsis, --version the version" {
	run gpt-train --help
	assert_success
	assert_equal "$(help_synopsis gpt-train)" "$(man_synopsis gpt-train.1)"
	assert_output --partial "  --batch n            sequences per optimizer step (default 256)"
	assert_output --partial "  --lr x               peak learning rate (default 6e-4)"
	run gpt-train --version
	assert_output "gpt-train (mygpt) 0.1.0"
}

@test "gpt-train: gpt-init | gpt-train | gpt-sample works, and the output resumes" {
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 16 --data "$(F text.tok)" |
		gpt-train -q --data "$(F text.tok)" --iters 5 --batch 4 > out.ckpt
	run --separate-stderr gpt-sample --max-new-tokens 20 out.ckpt
	assert_success
	assert_equal "${#output}" 20
	run $MGREAD --dump out.ckpt
	# the parameters, both AdamW moments and 22 keys of training state
	assert_output --regexp "^checkpoint keys=13 train=26 tokenizer=chars tensors=51 elements=16944 "
	run trai out.ckpt step tokens epoch epoch_pos batch micro_batch iters epochs order lr_schedule
	assert_output "5 320 0 20 4 4 5 0 random cosine"
	# defaults: MyGPT's hyperparameters, final_tokens the run's tokens
	run trai out.ckpt seed lr warmup_tokens final_tokens beta1 beta2 eps weight_decay grad_clip val_split data_tokens
	assert_output "1337 0.0006 10240 320 0.9 0.95 1e-08 0.1 1.0 0.0 20000"
	gpt-train -q --data "$(F text.tok)" --iters 7 < out.ckpt > out2.ckpt
	run trai out2.ckpt step tokens epoch_pos batch
	assert_output "7 448 28 4"
}

@test "gpt-train: the loss falls on a tiny character corpus, and the log has every column" {
	run --separate-stderr gpt-train --data "$(F text.tok)" --val-split 0.1 --iters 150 --batch 16 --lr 3e-3 \
		--warmup-tokens 0 --eval-every 50 --log-every 25 --log log.tsv -o out.ckpt "$(F small.ckpt)"
	assert_success
	assert_equal "$(head -1 log.tsv)" \
		"$(printf 'step\ttokens\ttrain_loss\tval_loss\tlr\tgrad_norm\ttokens_per_s\tval_targets\tms_per_step\tgflop_per_s')"
	assert_equal "$(logcol log.tsv 1 | tr '\n' ' ')" "25 50 75 100 125 150 "
	# 546 windows an epoch: 34 steps of 16 and one of 2 (64 targets)
	assert_equal "$(logcol log.tsv 2 | tr '\n' ' ')" "12800 25152 37504 50304 62656 75008 "
	assert_equal "$(logcol log.tsv 4 | tr '\n' ' ' | sed 's/[0-9.]*[0-9]/V/g')" "nan V nan V nan V "
	awk -F'\t' 'NR > 1 && NF != 10 { exit 1 }' log.tsv
	# the validation split: 2,000 tokens hold 124 windows of 16 targets, all evaluated
	assert_equal "$(logcol log.tsv 8 | tr '\n' ' ')" "0 1984 0 1984 0 1984 "
	awk -F'\t' 'NR > 1 && !($9 > 0 && $10 > 0) { exit 1 }' log.tsv
	# from about ln(65) = 4.17 to well under 3 nats
	first=$(logcol log.tsv 3 | head -1)
	last=$(logcol log.tsv 3 | tail -1)
	val=$(logcol log.tsv 4 | tail -1)
	awk -v f="$first" -v l="$last" -v v="$val" 'BEGIN { exit !(f > 3.3 && l < 2.7 && v < 2.8 && v > 1.5) }'
	assert_equal "$(trai out.ckpt best_step)" 150
	awk -v a="$(trai out.ckpt best_val_loss)" -v b="$val" 'BEGIN { exit !(a - b < 1e-6 && b - a < 1e-6) }'
	[[ "$stderr" == *"gpt-train: step 150 (4.29 epochs): val loss "*" (all 1,984 targets), the best so far"* ]]
	[[ "$stderr" == *"gpt-train: training part: $(F text.tok): 18,000 tokens (stream); 546 windows per epoch in random order: 35 steps of 16"* ]]
	[[ "$stderr" == *"gpt-train: validation split (last 0.1): $(F text.tok): 2,000 tokens (stream); 62 windows"* ]]
}

@test "gpt-train: an epoch is MyGPT's: tiny Shakespeare at block 128 and batch 256 is 34 steps, the last partial" {
	gpt-init -q --layers 1 --heads 1 --embd 8 --block 128 --data "$(F all.tok)" -o b128.ckpt
	run --separate-stderr gpt-train --data "$(F all.tok)" --iters 1 --micro-batch 32 -o out.ckpt b128.ckpt
	assert_success
	[[ "$stderr" == *"$(F all.tok): 1,115,394 tokens (stream); 8,647 windows per epoch in random order: 34 steps of 256"* ]]
	# 25 windows at batch 8: steps of 8, 8, 8 and 1 sequences, then epoch 2
	head -c 415 "$(F small.txt)" > w.txt
	bpe-encode -q -m "$(F chars.tkz)" -o w.tok w.txt
	gpt-train -q --data w.tok --epochs 1 --batch 8 -o e1.ckpt "$(F tiny.ckpt)"
	assert_equal "$(trai e1.ckpt step epoch epoch_pos tokens)" "4 1 0 400"
	gpt-train -q --data w.tok --iters 6 --batch 8 -o e2.ckpt "$(F tiny.ckpt)"
	assert_equal "$(trai e2.ckpt step epoch epoch_pos tokens)" "6 1 16 656"
	# sequential: floor((415 - 1) / 16) = 25 windows, every target once
	gpt-train -q --data w.tok --epochs 2 --batch 10 --order sequential -o s.ckpt "$(F tiny.ckpt)"
	assert_equal "$(trai s.ckpt step epoch epoch_pos tokens order)" "6 2 0 800 sequential"
	# examples: one record per sequence, the loss on the answers only
	gpt-train -q --data "$(F add1.tok)" --epochs 2 --batch 32 -o a.ckpt "$(F add1.ckpt)"
	assert_equal "$(trai a.ckpt step epoch epoch_pos tokens)" "6 2 0 320"
}

@test "gpt-train: the learning rate follows warmup and cosine to 10% in tokens, or stays constant" {
	gpt-train -q --data "$(F text.tok)" --iters 24 --batch 2 --warmup-tokens 128 --final-tokens 768 \
		--log-every 1 --log log.tsv -o out.ckpt "$(F tiny.ckpt)"
	# 32 targets a step: warmup over 4 steps, cosine from 128 to 768 tokens,
	# 10% from p = 0.795 on (step 20.2) and after final_tokens
	run logcol log.tsv 5
	assert_line --index 0 "1.500000e-04"
	assert_line --index 3 "6.000000e-04"
	assert_line --index 13 "3.000000e-04"
	assert_line --index 20 "6.000000e-05"
	assert_line --index 23 "6.000000e-05"
	assert_equal "$(logcol log.tsv 5 | tr '\n' ' ')" "$(/usr/bin/python3 -c '
import math
for s in range(1, 25):
    t = 32 * s
    m = t / 128 if t < 128 else max(0.1, 0.5 * (1 + math.cos(math.pi * min(1, (t - 128) / 640))))
    print("%.6e" % (6e-4 * m), end=" ")')"
	gpt-train -q --data "$(F text.tok)" --iters 5 --batch 2 --lr 1e-3 --lr-schedule constant --log-every 1 \
		--log c.tsv -o c.ckpt "$(F tiny.ckpt)"
	assert_equal "$(logcol c.tsv 5 | sort -u)" "1.000000e-03"
	assert_equal "$(trai c.ckpt lr_schedule lr)" "constant 0.001"
	# nanoGPT's: 10% + 90% of the cosine, 10% exactly at final_tokens
	gpt-train -q --data "$(F text.tok)" --iters 24 --batch 2 --warmup-tokens 128 --final-tokens 768 \
		--lr-schedule cosine-min --log-every 1 --log m.tsv -o m.ckpt "$(F tiny.ckpt)"
	assert_equal "$(logcol m.tsv 5 | tr '\n' ' ')" "$(/usr/bin/python3 -c '
import math
for s in range(1, 25):
    t = 32 * s
    m = t / 128 if t < 128 else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1, (t - 128) / 640)))
    print("%.6e" % (6e-4 * m), end=" ")')"
	assert_equal "$(trai m.ckpt lr_schedule)" "cosine-min"
}

@test "gpt-train: resuming is exact: 10 steps, then 10 more, is byte-identical to 20 steps" {
	gpt-train -q --data "$(F text.tok)" --iters 20 --batch 4 --final-tokens 1280 -o full.ckpt "$(F tiny.ckpt)"
	gpt-train -q --data "$(F text.tok)" --iters 10 --batch 4 --final-tokens 1280 -o half.ckpt "$(F tiny.ckpt)"
	gpt-train -q --data "$(F text.tok)" --iters 20 -o resumed.ckpt half.ckpt
	cmp full.ckpt resumed.ckpt
	# also with dropout, micro-batches, the examples layout and an epoch boundary
	gpt-train -q --data "$(F add1.tok)" --epochs 3 --batch 16 --micro-batch 5 --final-tokens 480 -o f.ckpt \
		"$(F add1.ckpt)"
	gpt-train -q --data "$(F add1.tok)" --iters 7 --batch 16 --micro-batch 5 --final-tokens 480 -o h.ckpt \
		"$(F add1.ckpt)"
	gpt-train -q --data "$(F add1.tok)" --epochs 3 -o r.ckpt h.ckpt
	cmp f.ckpt r.ckpt
	# and with a 2-thread run resumed in 2 threads
	gpt-train -q -j 2 --data "$(F text.tok)" --iters 12 --batch 8 --final-tokens 1536 -o t2.ckpt "$(F drop.ckpt)"
	gpt-train -q -j 2 --data "$(F text.tok)" --iters 5 --batch 8 --final-tokens 1536 -o t1.ckpt "$(F drop.ckpt)"
	gpt-train -q -j 2 --data "$(F text.tok)" --iters 12 -o t12.ckpt t1.ckpt
	cmp t2.ckpt t12.ckpt
}

@test "gpt-train: the same inputs give the same bytes; nothing run-dependent is stored" {
	gpt-train -q --data "$(F text.tok)" --iters 6 --batch 4 -o a.ckpt "$(F drop.ckpt)"
	mkdir sub
	gpt-train -q --data "$(F text.tok)" --iters 6 --batch 4 --log l.tsv --log-every 2 -o sub/b.ckpt < "$(F drop.ckpt)"
	cmp a.ckpt sub/b.ckpt
	gpt-train -q --data "$(F text.tok)" --iters 6 --batch 4 -s 7 -o c.ckpt "$(F drop.ckpt)"
	run cmp -s a.ckpt c.ckpt
	assert_failure
	# a finished run resumed writes the same checkpoint
	run --separate-stderr gpt-train --data "$(F text.tok)" -o again.ckpt a.ckpt
	assert_success
	[[ "$stderr" == *"gpt-train: the run is complete at step 6: nothing to train"* ]]
	cmp a.ckpt again.ckpt
}

@test "gpt-train: --device cpu is the default, byte for byte" {
	gpt-train -q --data "$(F text.tok)" --iters 3 --batch 4 -o a.ckpt "$(F drop.ckpt)"
	gpt-train -q --device cpu --data "$(F text.tok)" --iters 3 --batch 4 -o b.ckpt "$(F drop.ckpt)"
	cmp a.ckpt b.ckpt
}

# Without a usable GPU (or in a build without CUDA) --device cuda fails
# before touching any file; with one, make check-cuda tests the backend.
@test "gpt-train: --device cuda without a GPU fails cleanly with one line" {
	if nvidia-smi -L > /dev/null 2>&1; then
		skip "a GPU is present: make check-cuda tests the CUDA backend"
	fi
	run --separate-stderr gpt-train --device cuda --data "$(F text.tok)" --iters 1 -o out.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_output ""
	[[ "$stderr" =~ ^gpt-train:\ cuda:\ (no\ CUDA\ device\ available|built\ without\ CUDA\ support) ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	! ls -A | grep -q out.ckpt # no output, no temporary file
	run --separate-stderr gpt-train --eval-only --device cuda --val "$(F text.tok)" "$(F tiny.ckpt)"
	assert_failure 1
	assert_output ""
	[[ "$stderr" =~ ^gpt-train:\ cuda:\  ]]
}

# A CUDA build (build/flags holds the flags of the build) makes the module
# build/lib/mygpt-cuda.so, the only object linked against the CUDA
# libraries; gpt-train loads it for --device cuda and for nothing else.
cuda_build() { grep -q -- -DMG_HAVE_CUDA "$BUILD/flags"; }

# bats test_tags=no-asan
@test "gpt-train: no tool links the CUDA libraries, and a run on the CPU loads none" {
	# no-asan: UndefinedBehaviorSanitizer's runtime links libstdc++
	for c in "$ROOT"/cmd/*.c; do # the programs (bin/ also holds scripts)
		b="$BIN/$(basename "$c" .c)"
		run -0 ldd "$b"
		refute_output --partial libcu # libcudart, libcublas, libcublasLt
		refute_output --partial libstdc++
		refute_output --partial libgomp # linked statically (cmd/common/cli.h)
	done
	run -0 --separate-stderr env LD_DEBUG=files gpt-train -q -j 1 --data "$(F text.tok)" --iters 1 -o out.ckpt \
		"$(F tiny.ckpt)"
	[[ "$stderr" == *"initialize program: "* ]]
	[[ "$stderr" != *mygpt-cuda* && "$stderr" != *libcu* ]]
}

@test "gpt-train: the CUDA module links the CUDA libraries and exports one entry" {
	cuda_build || skip "a build without CUDA (CUDA=0) has no module"
	run -0 ldd "$BUILD/lib/mygpt-cuda.so"
	assert_output --partial libcublas.so
	assert_output --partial libcudart.so
	refute_output --partial "not found"
	run -0 nm -D --defined-only "$BUILD/lib/mygpt-cuda.so"
	assert_equal "$(awk '{ print $3 }' <<< "$output")" mg_backend_cuda_module
}

@test "gpt-train: --device cuda names the module it cannot load" {
	cuda_build || skip "a build without CUDA (CUDA=0) says so (tested above)"
	here=$(pwd -P) # as /proc/self/exe names it
	mkdir -p inst/bin
	cp "$BIN/gpt-train" inst/bin/
	# an installed tool (PREFIX/bin/) looks in PREFIX/lib/mygpt/
	run --separate-stderr inst/bin/gpt-train --device cuda --data "$(F text.tok)" --iters 1 -o out.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "gpt-train: cuda: cannot load $here/inst/lib/mygpt/mygpt-cuda.so: cannot open shared object file: No such file or directory"
	# MYGPT_CUDA_MODULE names it, and only it is tried
	MYGPT_CUDA_MODULE=$PWD/none.so run --separate-stderr gpt-train --device cuda --data "$(F text.tok)" --iters 1 \
		-o out.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: cuda: cannot load $PWD/none.so: cannot open shared object file: No such file or directory"
	# a module whose libraries are missing, as libcublas without the toolkit
	printf 'int gone(void) { return 1; }\n' > gone.c
	printf 'int gone(void);\nint here(void) { return gone(); }\n' > mod.c
	cc -shared -fPIC -o libgone.so gone.c
	cc -shared -fPIC -o mod.so mod.c -L. -lgone
	rm libgone.so
	MYGPT_CUDA_MODULE=$PWD/mod.so run --separate-stderr gpt-train --device cuda --data "$(F text.tok)" --iters 1 \
		-o out.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: cuda: cannot load $PWD/mod.so: libgone.so: cannot open shared object file: No such file or directory"
	# a shared object that is not the module
	cc -shared -fPIC -o gone.so gone.c
	MYGPT_CUDA_MODULE=$PWD/gone.so run --separate-stderr gpt-train --eval-only --device cuda --val "$(F text.tok)" \
		"$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: cuda: cannot load $PWD/gone.so: no mg_backend_cuda_module in it"
	[ ! -e out.ckpt ]
}

@test "gpt-train: an installed tool finds the CUDA module in PREFIX/lib/mygpt/" {
	cuda_build || skip "a build without CUDA (CUDA=0) has no module"
	if nvidia-smi -L > /dev/null 2>&1; then
		skip "a GPU is present: make check-cuda tests the CUDA backend"
	fi
	here=$(pwd -P) # as /proc/self/exe names it
	mkdir -p inst/bin inst/lib/mygpt
	cp "$BIN/gpt-train" inst/bin/
	cp "$BUILD/lib/mygpt-cuda.so" inst/lib/mygpt/
	# loaded (CUDA then finds no GPU), where the build tree's is not found
	run --separate-stderr env LD_DEBUG=files inst/bin/gpt-train --device cuda --data "$(F text.tok)" --iters 1 \
		-o out.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	[[ "$stderr" == *"file=$here/inst/lib/mygpt/mygpt-cuda.so [0];  dynamically loaded by"* ]]
	assert_equal "$(printf '%s\n' "$stderr" | grep '^gpt-train: ')" "gpt-train: cuda: no CUDA device available"
}

@test "gpt-train: --device bogus is a usage error" {
	run --separate-stderr gpt-train --device bogus --data "$(F text.tok)" "$(F tiny.ckpt)"
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "gpt-train: invalid value 'bogus' for --device: expected one of cpu, cuda"* ]]
}

@test "gpt-train: micro-batches accumulate the batch's gradient exactly (up to rounding)" {
	gpt-train -q --data "$(F add1.tok)" --iters 3 --batch 32 --dropout 0 --log-every 1 --log whole.tsv \
		-o w.ckpt "$(F add1.ckpt)"
	gpt-train -q --data "$(F add1.tok)" --iters 3 --batch 32 --dropout 0 --micro-batch 7 --log-every 1 \
		--log parts.tsv -o p.ckpt "$(F add1.ckpt)"
	# step 1: the same loss and gradient norm; later steps differ by rounding only
	paste whole.tsv parts.tsv | awk -F'\t' 'NR > 1 {
		for (c = 3; c <= 6; c++) if (c != 4) {
			d = $c - $(c + 10); if (d < 0) d = -d
			if (d > 2e-5 * ($c < 0 ? -$c : $c) + 1e-6) { print "step " $1 " column " c ": " $c " vs " $(c + 10); exit 1 }
		}
	}'
	assert_equal "$(trai p.ckpt micro_batch)" 7
}

@test "gpt-train: step by step as PyTorch (minGPT's trainer): losses, gradient norms, rates, micro-batches" {
	# records of different lengths, masks, micro-batches, clipping and the
	# schedule, in sequential order so that PyTorch can rebuild the batches
	printf '1 2 (3) 4 5\n(6) 7 8\n1 (1) 2 2 3 3 4\n9 8 7 6\n5 (4) (3) 2 1 0 1\n2 3\n4 4 4 4 4 4 4 4\n0 9 0 9 0\n' |
		$MGREAD --write-ids 10 examples > rec.tok
	gpt-init -q --layers 2 --heads 2 --embd 16 --block 8 --vocab 10 --dropout 0 -s 5 -o r.ckpt
	gpt-train -q -j 1 --data rec.tok --order sequential --epochs 3 --batch 3 --micro-batch 2 --lr 1e-2 \
		--warmup-tokens 20 --grad-clip 0.5 --log-every 1 --log log.tsv -o out.ckpt r.ckpt
	run /usr/bin/python3 - "$ROOT" rec.tok r.ckpt log.tsv out.ckpt <<'EOF'
import math, sys
root = sys.argv[1]
sys.path.insert(0, root + "/tests/formats"); sys.path.insert(0, root + "/tests/model")
import mgread, torch, torch_ref
torch.set_num_threads(1)
rec = mgread.read_tokens(sys.argv[2])
records = [(list(i), list(m) if m else [1] * len(i)) for i, m in rec.records()]
ck = mgread.read_checkpoint(sys.argv[3])
cfg = ck.config
P = {n: torch_ref.as_tensor(t).requires_grad_(True) for (n, role), t in ck.tensors.items() if role == "param"}
names = list(P)
opt = torch.optim.AdamW(
    [{"params": [P[n] for n in names if torch_ref.decays(n)], "weight_decay": 0.1},
     {"params": [P[n] for n in names if not torch_ref.decays(n)], "weight_decay": 0.0}],
    lr=1e-2, betas=(0.9, 0.95), eps=1e-8)
rows = [l.split("\t") for l in open(sys.argv[4]).read().split("\n")[1:] if l]
tokens, bad, k = 0, 0, 0
final = sum(sum(m[1:]) for _, m in records) * 3
for epoch in range(3):
    for a in range(0, len(records), 3):
        batch = records[a:a + 3]
        count = sum(sum(m[1:]) for _, m in batch)
        opt.zero_grad()
        total = 0.0
        for b in range(0, len(batch), 2):
            part = batch[b:b + 2]
            T = max(len(i) for i, _ in part) - 1
            ids = torch.zeros(len(part), T, dtype=torch.long); tg = torch.zeros_like(ids); mk = torch.zeros_like(ids)
            for r, (i, m) in enumerate(part):
                n = len(i) - 1
                ids[r, :n] = torch.tensor(i[:-1]); tg[r, :n] = torch.tensor(i[1:]); mk[r, :n] = torch.tensor(m[1:])
            _, loss = torch_ref.forward(cfg, P, ids, tg, mk, None)
            c = int(mk.sum())
            (loss * c / count).backward()
            total += loss.item() * c
        norm = torch.nn.utils.clip_grad_norm_([P[n] for n in names], 0.5).item()
        tokens += count
        if tokens < 20:
            lr = 1e-2 * tokens / 20
        else:
            p = (tokens - 20) / max(1, final - 20)
            lr = 1e-2 * (0.1 if p >= 1 else max(0.1, 0.5 * (1 + math.cos(math.pi * p))))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.step()
        row = rows[k]; k += 1
        got = (float(row[2]), float(row[4]), float(row[5]))
        want = (total / count, lr, norm)
        for name, x, y, tol in zip(("loss", "lr", "grad norm"), got, want, (1e-4, 1e-6, 1e-4)):
            if abs(x - y) > tol * max(1.0, abs(y)):
                print(f"step {k}: {name} {x} vs PyTorch {y}"); bad += 1
        if int(row[1]) != tokens:
            print(f"step {k}: tokens {row[1]} vs {tokens}"); bad += 1
assert k == len(rows) == 9, (k, len(rows))
out = mgread.read_checkpoint(sys.argv[5])
worst = max((torch_ref.as_tensor(out.tensors[(n, "param")]) - P[n].detach()).abs().max().item() for n in names)
print(f"9 steps: worst parameter difference {worst:.2e}")
sys.exit(1 if bad or worst > 1e-4 else 0)
EOF
	assert_success
	assert_output --regexp "^9 steps: worst parameter difference "
}

@test "gpt-train: Ctrl-C finishes the step, writes the checkpoint, exits 130, and resumes exactly" {
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 1000000 --batch 2 --final-tokens 100000 --log-every 1 \
		--log int.tsv -o int.ckpt "$(F tiny.ckpt)" 2> err.txt &
	pid=$!
	for i in $(seq 6000); do [ -e int.tsv ] && [ "$(wc -l < int.tsv)" -gt 20 ] && break; sleep 0.05; done
	kill -INT $pid
	st=0
	wait $pid || st=$?
	assert_equal "$st" 130
	run $MGREAD --dump int.ckpt
	assert_success
	k=$(trai int.ckpt step)
	[ "$k" -gt 20 ] && [ "$k" -lt 1000000 ]
	assert_equal "$(cat err.txt)" ""
	# the log ends at the interrupted step
	assert_equal "$(logcol int.tsv 1 | tail -1)" "$k"
	# resumed to k + 10 equals an uninterrupted run to k + 10
	gpt-train -q -j 1 --data "$(F text.tok)" --iters $((k + 10)) --log-every 1 --log int.tsv -o res.ckpt int.ckpt
	gpt-train -q -j 1 --data "$(F text.tok)" --iters $((k + 10)) --batch 2 --final-tokens 100000 -o ref.ckpt \
		"$(F tiny.ckpt)"
	cmp res.ckpt ref.ckpt
	assert_equal "$(logcol int.tsv 1 | tail -2 | tr '\n' ' ')" "$((k + 9)) $((k + 10)) "
	# SIGTERM: 143, the message without -q; an interrupted --no-optimizer run
	# still writes what resuming needs
	gpt-train -j 1 --data "$(F text.tok)" --iters 1000000 --batch 2 --log-every 1 --log t.tsv --no-optimizer \
		--val-split 0.1 --eval-every 1 --eval-batches 1 -o t.ckpt "$(F tiny.ckpt)" 2> err.txt &
	pid=$!
	for i in $(seq 6000); do [ -e t.tsv ] && [ "$(wc -l < t.tsv)" -gt 5 ] && break; sleep 0.05; done
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	assert_equal "$st" 143
	k=$(trai t.ckpt step)
	grep -q "^gpt-train: SIGTERM: stopping after step $k; writing the checkpoint to t.ckpt$" err.txt
	# the summary says when the val loss was measured: the step a signal
	# stops after is evaluated only when the signal came after its evaluation
	run grep "^gpt-train: train loss" err.txt
	[[ "$output" =~ ^"gpt-train: train loss "[0-9.]+" (step $k); val loss "[0-9.]+" (1 batch, 32 targets, step "([0-9]+)(", 1 step before the end")?"), best val loss" ]]
	if [ -n "${BASH_REMATCH[2]}" ]; then assert_equal "${BASH_REMATCH[1]}" $((k - 1)); else assert_equal "${BASH_REMATCH[1]}" $k; fi
	run $MGREAD --dump t.ckpt
	assert_output --regexp "^checkpoint keys=13 train=28 tokenizer=chars tensors=51 "
}

@test "gpt-train: Ctrl-C in a pipeline on a terminal: the checkpoint goes to a rescue file that resumes" {
	# every process of the pipeline gets SIGINT; the reader dies before it
	# reads (as gpt-sample waiting for its checkpoint), so standard output
	# is a pipe without a reader: EPIPE, the rescue file, status 1
	cat > ptyint.py <<'EOF'
# Ctrl-C in a pipeline: gpt-train between a reader that never reads (as
# gpt-sample waiting for its checkpoint) and a terminal on stderr, all in
# one process group, which gets SIGINT once the terminal shows a step.
import os, pty, re, signal, subprocess, sys, threading
master, slave = pty.openpty()
reader = subprocess.Popen(["sleep", "100000"], stdin=subprocess.PIPE, preexec_fn=lambda: os.setpgid(0, 0))
pgid = reader.pid
train = subprocess.Popen(sys.argv[1:], stdout=reader.stdin, stderr=slave, preexec_fn=lambda: os.setpgid(0, pgid))
reader.stdin.close()
os.close(slave)
out, seen = bytearray(), threading.Event()
def drain():
    while True:
        try:
            d = os.read(master, 4096)
        except OSError:
            break
        if not d:
            break
        out.extend(d)
        if re.search(rb"step [0-9]+/", out):
            seen.set()
t = threading.Thread(target=drain)
t.start()
if not seen.wait(300):
    os.killpg(pgid, signal.SIGKILL)
    sys.exit("no progress line on the terminal")
os.killpg(pgid, signal.SIGINT)
st = train.wait()
reader.wait()
t.join()
sys.stdout.write(out.decode(errors="replace").replace("\r", "\n"))
print("status", st, reader.returncode)
EOF
	run --separate-stderr /usr/bin/python3 ptyint.py gpt-train -j 1 --data "$(F text.tok)" --iters 1000000 --batch 2 \
		--final-tokens 100000 --log-every 1 --log int.tsv "$(F small.ckpt)"
	assert_success
	assert_line --index 0 --regexp "^gpt-train: model: "
	assert_line --regexp "^gpt-train: SIGINT: stopping after step [0-9]+; writing the checkpoint to standard output$"
	assert_line --regexp "^gpt-train: <stdout>: write error: Broken pipe; saved step [0-9]+ to gpt-train-[0-9]+\.ckpt instead, which resumes the run$"
	assert_line --regexp "^status 1 -2$"
	[[ "$output" =~ "saved step "([0-9]+)" to "(gpt-train-[0-9]+\.ckpt) ]]
	k=${BASH_REMATCH[1]} rescued=${BASH_REMATCH[2]}
	assert_equal "$(trai "$rescued" step)" "$k"
	assert_equal "$(logcol int.tsv 1 | tail -1)" "$k"
	# resumed to k + 5 it equals an uninterrupted run to k + 5
	gpt-train -q -j 1 --data "$(F text.tok)" --iters $((k + 5)) -o res.ckpt "$rescued"
	gpt-train -q -j 1 --data "$(F text.tok)" --iters $((k + 5)) --batch 2 --final-tokens 100000 -o ref.ckpt \
		"$(F small.ckpt)"
	cmp res.ckpt ref.ckpt
}

@test "gpt-train: kill -9 at any moment leaves the last saved checkpoint intact and resumable" {
	for round in 1 2 3 4 5 6; do
		gpt-train -q -j 1 --data "$(F text.tok)" --iters 1000000 --batch 2 --save-every 1 -o run.ckpt \
			"$(F small.ckpt)" &
		pid=$!
		for i in $(seq 15000); do [ -e run.ckpt ] && break; sleep 0.02; done
		sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
		kill -9 $pid
		wait $pid || true
		"$BUILD/tests/tools/mgcheck" run.ckpt
		run $MGREAD --dump run.ckpt
		assert_success
		assert_output --regexp "^checkpoint keys=13 train=26 "
		rm run.ckpt
	done
	# a killed file resumes
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 1000000 --batch 2 --save-every 3 -o run.ckpt "$(F small.ckpt)" &
	pid=$!
	for i in $(seq 15000); do [ -e run.ckpt ] && break; sleep 0.02; done
	sleep 0.2
	kill -9 $pid
	wait $pid || true
	k=$(trai run.ckpt step)
	[ $((k % 3)) -eq 0 ]
	gpt-train -q --data "$(F text.tok)" --iters $((k + 2)) -o more.ckpt run.ckpt
	assert_equal "$(trai more.ckpt step)" $((k + 2))
}

@test "gpt-train: -o and --best are replaced only by whole files" {
	echo old > out.ckpt
	gpt-train -q --data "$(F text.tok)" --iters 1000000 --batch 2 -o out.ckpt "$(F tiny.ckpt)" &
	pid=$!
	sleep 0.5
	kill -9 $pid
	wait $pid || true
	assert_equal "$(cat out.ckpt)" old
	# --best keeps the checkpoint of the lowest validation loss
	gpt-train -q --data "$(F text.tok)" --val-split 0.2 --iters 40 --batch 8 --lr 1e-2 --eval-every 5 \
		--eval-batches 2 --log-every 5 --log log.tsv --best best.ckpt -o out.ckpt "$(F tiny.ckpt)"
	min=$(logcol log.tsv 4 | sort -g | head -1)
	at=$(awk -F'\t' -v m="$min" 'NR > 1 && $4 == m { print $1; exit }' log.tsv)
	assert_equal "$(trai best.ckpt step best_step)" "$at $at"
	assert_equal "$(trai out.ckpt best_step)" "$at"
	/usr/bin/python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 1e-6)" \
		"$(trai best.ckpt best_val_loss)" "$min"
	run ls -A
	assert_output "$(printf 'best.ckpt\nlog.tsv\nout.ckpt')"
}

@test "gpt-train: a resumed log keeps the rows up to the checkpoint and appends" {
	gpt-train -q --data "$(F text.tok)" --iters 6 --batch 2 --final-tokens 384 --log-every 2 --log log.tsv -o a.ckpt \
		"$(F tiny.ckpt)"
	gpt-train -q --data "$(F text.tok)" --iters 4 --batch 2 --final-tokens 384 -o b.ckpt "$(F tiny.ckpt)"
	# rows 2, 4, 6 exist; resuming from step 4 drops row 6 and goes on
	gpt-train -q --data "$(F text.tok)" --iters 8 --log-every 2 --log log.tsv -o c.ckpt b.ckpt
	assert_equal "$(logcol log.tsv 1 | tr '\n' ' ')" "2 4 6 8 "
	assert_equal "$(grep -c '^step' log.tsv)" 1
	printf 'not a log\n' > other.tsv
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 9 --log other.tsv -o d.ckpt c.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: other.tsv: not a gpt-train log (the first line is not its header): not changing it"
	assert_equal "$(cat other.tsv)" "not a log"
}

@test "gpt-train: a loss or gradient that is not finite stops with the last good state" {
	# from a checkpoint at step 3 whose output weights are made huge
	gpt-train -q --data "$(F text.tok)" --iters 3 --batch 4 -o s3.ckpt "$(F tiny.ckpt)"
	poke s3.ckpt nan.ckpt lm_head.weight 1e38
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 10 -o out.ckpt nan.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: step 4: the loss is nan: stopped; out.ckpt holds the last good state (step 3)"
	assert_equal "$(trai out.ckpt step tokens)" "3 192"
	assert_equal "$($MGREAD --dump out.ckpt)" "$($MGREAD --dump nan.ckpt)"
	poke s3.ckpt inf.ckpt lm_head.weight 1e37
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 10 -o out2.ckpt inf.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: step 4: the gradient norm is infinite: stopped; out2.ckpt holds the last good state (step 3)"
	# without -o nothing goes to standard output: the last good state goes
	# to the rescue file
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 10 nan.ckpt
	assert_failure 1
	assert_output ""
	[[ "$stderr" =~ ^"gpt-train: step 4: the loss is nan: stopped; nothing written to standard output; the last good state (step 3) is in gpt-train-"([0-9]+)".ckpt"$ ]]
	assert_equal "$($MGREAD --dump "gpt-train-${BASH_REMATCH[1]}.ckpt")" "$($MGREAD --dump nan.ckpt)"
}

@test "gpt-train: data that does not fit the model is refused before training" {
	printf '1 2 70 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n' | $MGREAD --write-ids 100 stream > big.tok
	run --separate-stderr gpt-train --data big.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: big.tok: token 70 at position 2 is not below the model's vocab_size 65"
	printf '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n' | $MGREAD --write-ids 65 stream > short.tok
	run --separate-stderr gpt-train --data short.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: short.tok: 16 tokens, fewer than the block_size + 1 = 17 of one window"
	printf '' | $MGREAD --write-ids 65 stream > empty.tok
	run --separate-stderr gpt-train --data empty.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: empty.tok: no tokens"
	printf '1 2 3\n4 5 6 7 8\n1 2\n' | $MGREAD --write-ids 10 examples > long.tok
	run --separate-stderr gpt-train --data long.tok -o x.ckpt "$(F add1.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: long.tok: record 1 has 5 tokens, more than block_size + 1 = 4"
	printf '1 2 3\n4\n' | $MGREAD --write-ids 10 examples > single.tok
	run --separate-stderr gpt-train --data single.tok -o x.ckpt "$(F add1.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: single.tok: record 1 has a single token: nothing to predict"
	printf '1 (2) (3)\n(4) (5)\n' | $MGREAD --write-ids 10 examples > nomask.tok
	run --separate-stderr gpt-train --data nomask.tok -o x.ckpt "$(F add1.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: nomask.tok: no token is a target (every loss-mask bit is 0): nothing to train on"
	run --separate-stderr gpt-train --data "$(F text.tok)" --val-split 0.00001 -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: $(F text.tok): a validation split of 1e-05 of 20000 tokens holds out nothing"
	run --separate-stderr gpt-train --data "$(F text.tok)" --val-split 0.0005 -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: $(F text.tok): validation split (last 0.0005): 10 tokens, fewer than the block_size + 1 = 17 of one window"
	run ls -A
	refute_output --partial x.ckpt
}

@test "gpt-train: validation data must match the training data" {
	printf '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n' | $MGREAD --write-ids 66 stream > v66.tok
	run --separate-stderr gpt-train --data "$(F text.tok)" --val v66.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: v66.tok: vocabulary of 66, not the training data's 65"
	printf '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n' | $MGREAD --write-ids 65 documents > vdoc.tok
	run --separate-stderr gpt-train --data "$(F text.tok)" --val vdoc.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: vdoc.tok: layout documents, not the training data's stream"
	# 65 characters, '#' for '$': same size, another tokenizer
	{ cat "$(F small.txt)"; printf '\n !#&,-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'"'"; } | tr '$' '#' > hash.txt
	bpe-train -q --chars -o hash.tkz hash.txt
	bpe-encode -q -m hash.tkz -o hash.tok hash.txt
	run --separate-stderr gpt-train --data "$(F text.tok)" --val hash.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: hash.tok: its tokenizer is not the training data's"
	printf 'abcdefghijklmnopqrstuvwxyz' > abc.txt
	bpe-train -q --chars -o abc.tkz abc.txt
	bpe-encode -q -m abc.tkz -o abc.tok abc.txt
	gpt-init -q --layers 1 --heads 1 --embd 8 --block 8 --vocab 65 -o v.ckpt
	run --separate-stderr gpt-train --data "$(F text.tok)" --val abc.tok -o x.ckpt v.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: abc.tok: vocabulary of 26, not the training data's 65"
	gpt-init -q --layers 1 --heads 1 --embd 8 --block 8 --data abc.tok -o abc.ckpt
	run --separate-stderr gpt-train --data "$(F text.tok)" -o x.ckpt abc.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: $(F text.tok): its tokenizer is not the checkpoint's"
}

@test "gpt-train: resuming on other data is refused; --restart starts a new run" {
	gpt-train -q --data "$(F text.tok)" --iters 3 --batch 4 -o a.ckpt "$(F tiny.ckpt)"
	head -c 5000 "$(F small.txt)" > other.txt
	bpe-encode -q -m "$(F chars.tkz)" -o other.tok other.txt
	run --separate-stderr gpt-train --data other.tok -o b.ckpt a.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: other.tok: not the data this checkpoint was trained on (20,000 tokens then, 5,000 now, different contents; --restart starts a new run on it)"
	run --separate-stderr gpt-train --data "$(F text.tok)" --val-split 0.5 -o b.ckpt a.ckpt
	assert_failure 1
	run --separate-stderr gpt-train --restart --data other.tok --iters 2 --batch 4 --lr 1e-4 -o b.ckpt a.ckpt
	assert_success
	assert_equal "$(trai b.ckpt step lr batch data_tokens)" "2 0.0001 4 5000"
	# a training state from elsewhere, or without moments, is refused by name
	trai_set a.ckpt odd.ckpt momentum 3
	run --separate-stderr gpt-train --data "$(F text.tok)" -o b.ckpt odd.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: odd.ckpt: training state: unknown key 'momentum' (--restart starts a new run from its parameters)"
	trai_set a.ckpt miss.ckpt epoch_pos -
	run --separate-stderr gpt-train --data "$(F text.tok)" -o b.ckpt miss.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: miss.ckpt: training state: missing key 'epoch_pos' (--restart starts a new run from its parameters)"
	trai_set a.ckpt neg.ckpt micro_batch 9
	run --separate-stderr gpt-train --data "$(F text.tok)" -o b.ckpt neg.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: neg.ckpt: training state: micro_batch 9 is not in 1..batch 4 (--restart starts a new run from its parameters)"
	# --no-optimizer: a model without moments or state, which trains as a new run
	gpt-train -q --data "$(F text.tok)" --iters 3 --batch 4 --no-optimizer -o p.ckpt "$(F tiny.ckpt)"
	run $MGREAD --dump p.ckpt
	assert_output --regexp "^checkpoint keys=13 train=- tokenizer=chars tensors=17 "
	gpt-train -q --data "$(F text.tok)" --iters 1 --batch 4 -o q.ckpt p.ckpt
	assert_equal "$(trai q.ckpt step)" 1
}

@test "gpt-train: --dropout overrides the model's rates and is recorded" {
	gpt-train -q --data "$(F text.tok)" --iters 2 --batch 4 --dropout 0.25 -o d.ckpt "$(F tiny.ckpt)"
	assert_equal "$(head_key d.ckpt dropout_embd) $(head_key d.ckpt dropout_attn) $(head_key d.ckpt dropout_resid)" \
		"0.25 0.25 0.25"
	gpt-train -q --data "$(F text.tok)" --iters 2 --batch 4 -o n.ckpt "$(F tiny.ckpt)"
	run cmp -s d.ckpt n.ckpt
	assert_failure
}

@test "gpt-train: corrupt and missing inputs are errors naming the file" {
	run --separate-stderr gpt-train --data missing.tok -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: missing.tok: No such file or directory"
	run --separate-stderr gpt-train --data "$(F text.tok)" -o x.ckpt missing.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-train: missing.ckpt: No such file or directory"
	run --separate-stderr gpt-train --data "$(F tiny.ckpt)" -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: $(F tiny.ckpt): bad magic at byte 0: a checkpoint, not a token stream"
	run --separate-stderr gpt-train --data "$(F text.tok)" -o x.ckpt "$(F text.tok)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: $(F text.tok): bad magic at byte 0: a token stream, not a checkpoint"
	head -c 3000 "$(F tiny.ckpt)" > cut.ckpt
	run --separate-stderr gpt-train --data "$(F text.tok)" -o x.ckpt cut.ckpt
	assert_failure 1
	[[ "$stderr" == "gpt-train: cut.ckpt: truncated "* ]]
	run --separate-stderr gpt-train --data "$(F text.tok)" -o x.ckpt < /dev/null
	assert_failure 1
	[[ "$stderr" == "gpt-train: <stdin>: "* ]]
	run ls -A
	refute_output --partial x.ckpt
}

@test "gpt-train: bad usage exits 2 with a message" {
	run --separate-stderr gpt-train "$(F tiny.ckpt)"
	assert_failure 2
	assert_equal "$stderr" "gpt-train: no training data: give --data FILE
Try 'gpt-train --help' for more information."
	local bad=(
		"--iters 5 --epochs 2|--iters and --epochs exclude each other"
		"--val a --val-split 0.1|--val and --val-split exclude each other"
		"--save-every 5|--save-every needs -o FILE"
		"--batch 4 --micro-batch 8|--micro-batch 8 is larger than --batch 4"
		"--micro-batch 300|micro_batch 300 is not in 1..batch 256"
		"--lr 0|invalid value '0' for --lr: expected a number in 0..10 above 0"
		"--lr 20|invalid value '20' for --lr: expected a number in 0..10"
		"--beta2 1|invalid value '1' for --beta2: expected a number in 0..1 below 1"
		"--val-split 1|invalid value '1' for --val-split: expected a fraction below 1"
		"--lr 0.5 --weight-decay 2|lr 0.5 times weight_decay 2 is not below 1: the decay would grow the weights"
		"--order shuffled|invalid value 'shuffled' for --order: expected one of random, sequential"
		"--lr-schedule linear|invalid value 'linear' for --lr-schedule: expected one of cosine, constant, cosine-min"
		"--batch 0|invalid value '0' for --batch: expected an integer in 1..2147483647"
		"--iters x|invalid value 'x' for --iters: expected an integer in 1..9223372036854775807"
		"--dropout 1|invalid value '1' for --dropout: expected a number in 0..0.99"
		"--bogus|unknown option '--bogus'"
		"-Z|unknown option '-Z'"
		"--best a.ckpt -o a.ckpt|--best and -o name the same file"
		"--best b.ckpt|--best needs validation data (--val or --val-split)"
		"--val - --data -|only one of the checkpoint, --data and --val can be standard input"
		"a.ckpt|unexpected operand '$(F tiny.ckpt)'"
	)
	for b in "${bad[@]}"; do
		# shellcheck disable=SC2086
		run --separate-stderr gpt-train --data "$(F text.tok)" ${b%%|*} "$(F tiny.ckpt)"
		assert_failure 2
		assert_equal "${stderr%%$'\n'*}" "gpt-train: ${b#*|}"
	done
	run --separate-stderr gpt-train --data
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: option '--data' needs a value"
	run script -qec "gpt-train -q --data $(F text.tok) --iters 1 --batch 2 $(F tiny.ckpt)" /dev/null
	assert_failure 2
	assert_output --partial "refusing to write binary data to a terminal"
}

@test "gpt-train: write errors are reported; a checkpoint that cannot be written goes to a rescue file" {
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 2 -o /nonexistent/dir/x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: /nonexistent/dir/x.ckpt: cannot create a temporary file beside it: No such file or directory"
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 2 --batch 2 --log /nonexistent/l.tsv -o x.ckpt \
		"$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: /nonexistent/l.tsv: cannot create a temporary file beside it: No such file or directory"
	# standard output full: the checkpoint goes to gpt-train-PID.ckpt here,
	# the same bytes as -o would have had
	gpt-train -q --data "$(F text.tok)" --iters 2 --batch 2 -o ref2.ckpt "$(F tiny.ckpt)"
	run --separate-stderr bash -c "gpt-train -q --data '$(F text.tok)' --iters 2 --batch 2 '$(F tiny.ckpt)' > /dev/full"
	assert_failure 1
	[[ "$stderr" =~ ^"gpt-train: <stdout>: write error: No space left on device; saved step 2 to "(gpt-train-[0-9]+\.ckpt)" instead, which resumes the run"$ ]]
	cmp "${BASH_REMATCH[1]}" ref2.ckpt
	# a pipe whose reader has exited (the checkpoint, over 64 KiB, does not
	# fit the pipe): EPIPE, not SIGPIPE; the rescued file resumes
	gpt-train -q --data "$(F text.tok)" --iters 1 --batch 2 -o ref1.ckpt "$(F small.ckpt)"
	[ "$(stat -c %s ref1.ckpt)" -gt 65536 ]
	run --separate-stderr bash -c "gpt-train -q --data '$(F text.tok)' --iters 1 --batch 2 '$(F small.ckpt)' | head -c 10 > /dev/null; echo \"\${PIPESTATUS[0]}\""
	assert_output "1"
	[[ "$stderr" =~ ^"gpt-train: <stdout>: write error: Broken pipe; saved step 1 to "(gpt-train-[0-9]+\.ckpt)" instead, which resumes the run"$ ]]
	rescued=${BASH_REMATCH[1]}
	cmp "$rescued" ref1.ckpt
	gpt-train -q --data "$(F text.tok)" --iters 3 -o res3.ckpt "$rescued"
	gpt-train -q --data "$(F text.tok)" --iters 3 -o ref3.ckpt ref1.ckpt
	cmp res3.ckpt ref3.ckpt
	assert_equal "$(trai res3.ckpt step)" 3
	# the current folder unwritable (here: removed): $TMPDIR
	mkdir tmp
	run --separate-stderr bash -c "mkdir gone && cd gone && rmdir ../gone && TMPDIR='$PWD/tmp' gpt-train -q --data '$(F text.tok)' --iters 2 --batch 2 '$(F tiny.ckpt)' > /dev/full"
	assert_failure 1
	[[ "$stderr" =~ ^"gpt-train: <stdout>: write error: No space left on device; saved step 2 to $PWD/tmp/"(gpt-train-[0-9]+\.ckpt)" instead, which resumes the run"$ ]]
	cmp "tmp/${BASH_REMATCH[1]}" ref2.ckpt
	# nowhere at all: the message says what is lost
	run --separate-stderr bash -c "mkdir gone && cd gone && rmdir ../gone && TMPDIR=/nonexistent gpt-train -q --data '$(F text.tok)' --iters 2 --batch 2 '$(F tiny.ckpt)' > /dev/full"
	assert_failure 1
	[[ "$stderr" =~ ^"gpt-train: <stdout>: write error: No space left on device; the rescue files gpt-train-"[0-9]+".ckpt and /nonexistent/gpt-train-"[0-9]+".ckpt could not be written either (cannot create a temporary file beside it: No such file or directory): step 2 is lost"$ ]]
}

@test "gpt-train: a batch over the memory available is refused before it is allocated" {
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --batch 100000000 --iters 1 -o x.ckpt "$(F small.ckpt)"
	assert_failure 1
	assert_regex "$stderr" "^gpt-train: --batch 100000000 needs 24361\.6 GB \(18614\.4 GB for activations\), [0-9]+\.[0-9] GB available$"
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --batch 100000000 --micro-batch 10000000 --iters 1 \
		-o x.ckpt "$(F small.ckpt)"
	assert_failure 1
	assert_regex "$stderr" "^gpt-train: --micro-batch 10000000 needs 2436\.2 GB \(1861\.4 GB for activations\), [0-9]+\.[0-9] GB available$"
	[ ! -e x.ckpt ]
}

@test "gpt-train: -o, --log and --best write devices in place and fail on a write error" {
	[ -c /dev/full ] || skip "no /dev/full"
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 2 --batch 2 -o /dev/full "$(F tiny.ckpt)"
	assert_failure 1
	[[ "$stderr" =~ ^"gpt-train: /dev/full: write error: No space left on device; saved step 2 to "(gpt-train-[0-9]+)".ckpt instead, which resumes the run"$ ]]
	rm "${BASH_REMATCH[1]}.ckpt"
	[ -c /dev/full ]
	# periodic saves go to the rescue file and training goes on; the final one fails
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 3 --batch 2 --save-every 1 -o /dev/full \
		"$(F tiny.ckpt)"
	assert_failure 1
	[[ "$stderr" =~ ^"gpt-train: /dev/full: write error: No space left on device; saved step 1 to "(gpt-train-[0-9]+)".ckpt instead, which resumes the run (training goes on)" ]]
	r=${BASH_REMATCH[1]}
	assert_equal "$stderr" "gpt-train: /dev/full: write error: No space left on device; saved step 1 to $r.ckpt instead, which resumes the run (training goes on)
gpt-train: /dev/full: write error: No space left on device; saved step 2 to $r.ckpt instead, which resumes the run (training goes on)
gpt-train: /dev/full: write error: No space left on device; saved step 3 to $r.ckpt instead, which resumes the run"
	assert_equal "$(trai $r.ckpt step)" 3
	rm $r.ckpt
	[ -c /dev/full ]
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 2 --batch 2 --log /dev/full -o x.ckpt \
		"$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: /dev/full: write error: No space left on device"
	[ -c /dev/full ]
	[ ! -e x.ckpt ]
	# a log that fails during the run (a FIFO whose reader leaves after the
	# header and a row) stops the run with its checkpoint, and fails
	mkfifo log.fifo
	head -c 100 log.fifo > /dev/null &
	run --separate-stderr gpt-train -q -j 1 --data "$(F text.tok)" --iters 1000000 --batch 2 --log-every 2 \
		--log log.fifo -o x.ckpt "$(F tiny.ckpt)"
	wait $!
	assert_failure 1
	assert_equal "$stderr" "gpt-train: log.fifo: write error: Broken pipe"
	k=$(trai x.ckpt step)
	[ "$k" -ge 4 ] && [ $((k % 2)) -eq 0 ] && [ "$k" -lt 1000000 ]
	rm x.ckpt log.fifo
	# a best checkpoint that could not be saved fails the run, after -o
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --val-split 0.2 --iters 4 --batch 2 --eval-every 2 \
		--eval-batches 1 --best /dev/full -o out.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	run echo "$stderr"
	assert_line --index 0 "gpt-train: /dev/full: cannot save the best checkpoint: write error: No space left on device"
	assert_line --regexp "^gpt-train: /dev/full: does not hold the best checkpoint \(step [24]\): its save failed$"
	[ -c /dev/full ]
	assert_equal "$(trai out.ckpt step)" 4
	# the samples' file too
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 2 --batch 2 --sample-every 1 --sample-length 5 \
		--sample-file /dev/full -o x.ckpt "$(F tiny.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-train: /dev/full: write error: No space left on device (no more samples; training goes on)"
	[ -c /dev/full ]
	assert_equal "$(trai x.ckpt step)" 2
	# /dev/null takes everything, and stays a device
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 2 --batch 2 --save-every 1 -o /dev/null \
		"$(F tiny.ckpt)"
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --val-split 0.2 --iters 2 --batch 2 --eval-every 1 \
		--log /dev/null --best /dev/null -o y.ckpt "$(F tiny.ckpt)"
	assert_success
	assert_equal "$stderr" ""
	[ -c /dev/null ]
	# no temporary file beside a device, or here
	run ls -A /dev
	refute_output --regexp '(^|'$'\n'')\.(full|null)\.'
	run ls -A
	refute_output --regexp '(^|'$'\n'')\.'
}

@test "gpt-train: -o writes a FIFO in place" {
	mkfifo pipe
	timeout 60 cat pipe > got.ckpt &
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 2 --batch 2 -o pipe "$(F tiny.ckpt)"
	wait $!
	[ -p pipe ]
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 2 --batch 2 -o file.ckpt "$(F tiny.ckpt)"
	cmp got.ckpt file.ckpt
	run ls -A
	assert_output "$(printf 'file.ckpt\ngot.ckpt\npipe')"
}

@test "gpt-train: stderr reports the model, the data, the plan, progress lines and a summary; -q nothing" {
	run --separate-stderr gpt-train -j 1 --data "$(F add1.tok)" --val "$(F add1t.tok)" --epochs 2 --batch 40 \
		--log-every 1 --log log.tsv -o x.ckpt "$(F add1.ckpt)"
	assert_success
	run echo "$stderr"
	assert_line --index 0 --regexp "^gpt-train: model: 26,208 parameters \(2 layers, 4 heads, embd 32, block 3, vocab 10, vanilla, dropout 0.1/0.1/0.1\); memory [0-9.]+ MiB \(parameters 0.1, gradients 0.1, AdamW 0.2, activations [0-9.]+, scratch [0-9.]+\)$"
	assert_line --index 1 "gpt-train: data: $(F add1.tok): 80 records (160 targets); 80 records per epoch in random order: 2 steps of 40"
	assert_line --index 2 "gpt-train: validation: $(F add1t.tok): 20 records (40 targets); 20 records"
	# 6N + 12LCT a position: N = 26,208 less the embeddings (10 x 32 + 3 x 32),
	# 6 x 25,792 + 12 x 2 x 32 x 3 = 157,056; 4 steps of 40 x 3 positions
	assert_line --index 3 "gpt-train: plan: 4 steps from step 0 to step 4, 40 x 3 positions a step; 320 tokens (targets, 80 a step), 75.4 MFLOP at 157 kFLOP a position (6N + 12LCT)"
	assert_line --index 4 "gpt-train: schedule: lr 0.0006 cosine, warmup 10,240 tokens (about 128 steps), 10% at 320 tokens (about step 4); batch 40, 1 thread"
	assert_line --index 5 "gpt-train: warning: the warmup (10,240 tokens) does not end before final_tokens (320): the rate never reaches --lr"
	assert_line --index 6 --regexp "^step 1/4 \(0\.50 epochs\): train loss [0-9.]+ \(step 1\), lr 4\.69e-06, [0-9.]+ ms/step, [0-9.]+ GFLOP/s, [0-9:]+<[0-9:]+$"
	assert_line --index 8 --regexp "^gpt-train: step 2 \(1\.00 epochs\): val loss [0-9.]+ \(all 40 targets\), the best so far$"
	assert_line --index 12 --regexp "^gpt-train: step 4 \(2\.00 epochs, 320 tokens\): 4 steps in [0-9:]+, [0-9.]+ ms/step, [0-9,]+ tokens/s, [0-9.]+ GFLOP/s$"
	assert_line --index 13 --regexp "^gpt-train: train loss [0-9.]+ \(step 4\); val loss [0-9.]+ \(all 40 targets, step 4\), best val loss [0-9.]+ at step [24]$"
	assert_equal "${#lines[@]}" 14
	# the progress lines, the log and the summary give the same numbers
	assert_equal "$(echo "$stderr" | sed -n 's/^step \([0-9]*\)\/4 .*train loss \([0-9.]*\) .*/\1 \2/p' | tr '\n' ' ')" \
		"$(awk -F'\t' 'NR > 1 { printf "%d %.5f ", $1, $3 }' log.tsv)"
	assert_equal "$(echo "$stderr" | sed -n 's/^gpt-train: train loss \([0-9.]*\) .*val loss \([0-9.]*\) .*/\1 \2/p')" \
		"$(awk -F'\t' 'END { printf "%.5f %.5f", $3, $4 }' log.tsv)"
	# a partial evaluation says so; a mean over several steps names them
	run --separate-stderr gpt-train -j 1 --data "$(F add1.tok)" --val "$(F add1t.tok)" --epochs 4 --batch 40 \
		--micro-batch 8 --eval-batches 1 --eval-every 4 --log-every 4 -o x.ckpt "$(F add1.ckpt)"
	run echo "$stderr"
	assert_line --regexp "^gpt-train: step 4 \(2\.00 epochs\): val loss [0-9.]+ \(1 batch, 16 targets\), the best so far$"
	assert_line --regexp "^step 8/8 \(4\.00 epochs\): train loss [0-9.]+ \(steps 5-8\), "
	assert_line --regexp "^gpt-train: train loss [0-9.]+ \(mean of steps 5-8\); val loss [0-9.]+ \(1 batch, 16 targets, step 8\), best val loss "
	# after the first 5 steps: an estimate of the time to the end
	assert_line --regexp "^gpt-train: the first 5 steps took [0-9.]+ ms a step \([0-9.]+ GFLOP/s\): about [0-9:]+ for the 3 steps to step 8$"
	run --separate-stderr gpt-train -q --data "$(F add1.tok)" --epochs 1 -o x.ckpt "$(F add1.ckpt)"
	assert_equal "$stderr" ""
}

@test "gpt-train: 1-digit addition end to end: adder-gen | gpt-train | gpt-sample --complete | adder-gen --score" {
	# all 100 problems for training and scoring: the pipeline learns them all
	adder-gen -q --digits 1 --test 0 -o all.tok
	adder-gen -q --digits 1 --test 100 --prompts -o prompts.tok
	gpt-init -q --layers 2 --heads 4 --embd 64 --block 3 --dropout 0 --data all.tok |
		gpt-train -q -j 1 --data all.tok --epochs 120 --batch 20 --lr 3e-3 --warmup-tokens 0 -o adder.ckpt
	gpt-sample -q --complete prompts.tok --greedy adder.ckpt > done.tok
	run --separate-stderr adder-gen --digits 1 --test 100 --score done.tok
	assert_success
	assert_output "exact match: 100/100 = 100.00%"
}

@test "gpt-train: --eval-only prints the loss the run reported, on all the validation data" {
	head -c 4000 "$ROOT/examples/data/tinyshakespeare.txt" | tail -c 2000 | bpe-encode -q -m "$(F chars.tkz)" -o val.tok
	run --separate-stderr gpt-train -j 1 --data "$(F text.tok)" --val val.tok --iters 6 --batch 8 --log log.tsv \
		-o run.ckpt "$(F tiny.ckpt)"
	assert_success
	logged=$(awk -F'\t' 'END { print $4 }' log.tsv)
	run --separate-stderr gpt-train --eval-only -j 1 --val val.tok run.ckpt
	assert_success
	# windows of 16 in order: 2000 tokens hold 124 windows of 16 targets
	assert_output "val loss $logged over 1984 targets"
	[[ "$stderr" == "gpt-train: evaluated step 6 on val.tok in "*" s" ]]
	# the forward batch changes the speed, not the result
	run --separate-stderr gpt-train --eval-only -q -j 1 --micro-batch 50 --val val.tok run.ckpt
	assert_output "val loss $logged over 1984 targets"
	assert_equal "$stderr" ""
	run gpt-train --eval-only -q -j 1 --eval-batches 1 --val val.tok run.ckpt
	assert_output --regexp "^val loss [0-9.]+ over 128 targets$"
	# a fresh model, without training state, evaluates too
	run gpt-train --eval-only -q -j 1 --val val.tok "$(F tiny.ckpt)"
	assert_success
	assert_output --regexp "^val loss [0-9.]+ over 1984 targets$"
}

@test "gpt-train: --eval-only usage errors" {
	run --separate-stderr gpt-train --eval-only "$(F tiny.ckpt)"
	assert_failure 2
	[[ "$stderr" == "gpt-train: --eval-only needs --val FILE"* ]]
	for extra in "--data x.tok" "-o out.ckpt" "--iters 3" "--log l.tsv" "--restart"; do
		run --separate-stderr gpt-train --eval-only --val "$(F text.tok)" $extra "$(F tiny.ckpt)"
		assert_failure 2
		[[ "$stderr" == "gpt-train: --eval-only takes only --val, --eval-batches, --micro-batch, --device, -j, -q and a checkpoint"* ]]
	done
}

@test "gpt-train: a resumed run keeps its evaluation options; --iters behind the checkpoint is an error" {
	gpt-train -q --data "$(F text.tok)" --val-split 0.2 --iters 4 --batch 2 --eval-every 2 --eval-batches 1 \
		--early-stop 5 -o a.ckpt "$(F tiny.ckpt)"
	assert_equal "$(trai a.ckpt eval_every eval_batches early_stop evals_since_best)" "2 1 5 0"
	run --separate-stderr gpt-train -j 1 --data "$(F text.tok)" --iters 8 --log-every 100 -o b.ckpt a.ckpt
	assert_success
	run echo "$stderr"
	# every 2 steps, on 1 batch of 2 windows of 16 targets, as before
	assert_line --regexp "^gpt-train: step 6 \([0-9.]+ epochs\): val loss [0-9.]+ \(1 batch, 32 targets\), "
	assert_line --regexp "^gpt-train: step 8 \([0-9.]+ epochs\): val loss [0-9.]+ \(1 batch, 32 targets\), "
	assert_line "gpt-train: warning: resuming without --log: this run's metrics are not logged (a log is not part of the checkpoint)"
	assert_equal "$(trai b.ckpt eval_every eval_batches early_stop)" "2 1 5"
	# given again, they change
	gpt-train -q --data "$(F text.tok)" --iters 10 --eval-every 0 --eval-batches 0 --early-stop 0 -o c.ckpt b.ckpt
	assert_equal "$(trai c.ckpt eval_every eval_batches early_stop)" "0 0 0"
	# --iters counts from step 0: a target behind the checkpoint trains nothing, and says so
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --iters 3 -o d.ckpt b.ckpt
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: --iters 3: b.ckpt is at step 8 already (--iters counts steps from the start of the run: --iters 11 trains 3 more)"
	[ ! -e d.ckpt ]
	run --separate-stderr gpt-train -q --data "$(F add1.tok)" --epochs 3 --batch 40 -o e3.ckpt "$(F add1.ckpt)"
	run --separate-stderr gpt-train -q --data "$(F add1.tok)" --epochs 2 -o e2.ckpt e3.ckpt
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: --epochs 2: e3.ckpt has completed more epochs already (--epochs counts from the start of the run)"
	# the same target: complete, written again
	run --separate-stderr gpt-train --data "$(F text.tok)" --iters 8 -o again.ckpt b.ckpt
	assert_success
	[[ "$stderr" == *"gpt-train: plan: 0 steps from step 8 (resumed) to step 8, "* ]]
	[[ "$stderr" == *"gpt-train: the run is complete at step 8: nothing to train"* ]]
	cmp b.ckpt again.ckpt
	# a checkpoint of version 1.0, without the evaluation keys, resumes
	for k in eval_every eval_batches early_stop evals_since_best; do trai_set a.ckpt a.ckpt $k -; done
	assert_equal "$(trai a.ckpt eval_every early_stop)" "- -"
	gpt-train -q --data "$(F text.tok)" --iters 6 -o old.ckpt a.ckpt
	assert_equal "$(trai old.ckpt step eval_every eval_batches early_stop)" "6 0 0 0"
	# a kept log of version 1.0 (7 columns) gets the new columns as nan
	printf 'step\ttokens\ttrain_loss\tval_loss\tlr\tgrad_norm\ttokens_per_s\n4\t128\t4.1\tnan\t1e-4\t1.0\t100.0\n' > old.tsv
	gpt-train -q --data "$(F text.tok)" --iters 6 --log-every 1 --log old.tsv -o old2.ckpt a.ckpt
	assert_equal "$(sed -n 2p old.tsv)" "$(printf '4\t128\t4.1\tnan\t1e-4\t1.0\t100.0\tnan\tnan\tnan')"
	assert_equal "$(logcol old.tsv 1 | tr '\n' ' ')" "4 5 6 "
	awk -F'\t' 'NF != 10 { exit 1 }' old.tsv
}

@test "gpt-train: --warmup-iters and --lr-decay-iters: the schedule in steps, stated in both units" {
	run --separate-stderr gpt-train -j 1 --data "$(F text.tok)" --iters 24 --batch 2 --warmup-iters 4 \
		--lr-decay-iters 20 --log-every 1 --log log.tsv -o out.ckpt "$(F tiny.ckpt)"
	assert_success
	# 32 targets a step
	[[ "$stderr" == *"gpt-train: schedule: lr 0.0006 cosine, warmup 4 steps (about 128 tokens), 10% at step 20 (about 640 tokens); batch 2, 1 thread"* ]]
	assert_equal "$(logcol log.tsv 5 | tr '\n' ' ')" "$(/usr/bin/python3 -c '
import math
for s in range(1, 25):
    m = s / 4 if s < 4 else max(0.1, 0.5 * (1 + math.cos(math.pi * min(1, (s - 4) / 16))))
    print("%.6e" % (6e-4 * m), end=" ")')"
	assert_equal "$(trai out.ckpt warmup_iters lr_decay_iters)" "4 20"
	# resumed, it keeps counting steps; 10 then 24 equals 24
	gpt-train -q --data "$(F text.tok)" --iters 10 --batch 2 --warmup-iters 4 --lr-decay-iters 20 -o h.ckpt \
		"$(F tiny.ckpt)"
	gpt-train -q --data "$(F text.tok)" --iters 24 -o r.ckpt h.ckpt
	cmp r.ckpt out.ckpt
	# --lr-decay-iters 0 (the default with --warmup-iters): the end of the run
	gpt-train -q --data "$(F text.tok)" --iters 6 --batch 2 --warmup-iters 1 --lr-schedule cosine-min --log-every 1 \
		--log m.tsv -o m.ckpt "$(F tiny.ckpt)"
	assert_equal "$(trai m.ckpt warmup_iters lr_decay_iters)" "1 6"
	assert_equal "$(logcol m.tsv 5 | tail -1)" "6.000000e-05"
	# tokens again when given in tokens
	gpt-train -q --data "$(F text.tok)" --iters 26 --warmup-tokens 0 -o t.ckpt out.ckpt
	assert_equal "$(trai t.ckpt warmup_iters warmup_tokens)" "- 0"
	run --separate-stderr gpt-train --data "$(F text.tok)" --warmup-iters 4 --final-tokens 100 "$(F tiny.ckpt)"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: --warmup-iters and --lr-decay-iters (a schedule in steps) exclude --warmup-tokens and --final-tokens"
}

@test "gpt-train: --sample-every prints samples and changes nothing in training" {
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 6 --batch 4 -o plain.ckpt "$(F drop.ckpt)"
	run --separate-stderr gpt-train -q -j 1 --data "$(F text.tok)" --iters 6 --batch 4 --sample-every 3 \
		--sample-prompt 'ROMEO:' --sample-length 20 -o sampled.ckpt "$(F drop.ckpt)"
	assert_success
	cmp plain.ckpt sampled.ckpt
	[[ "$stderr" == "gpt-train: sample at step 3:"$'\n'"ROMEO:"*$'\n'"gpt-train: sample at step 6:"$'\n'"ROMEO:"* ]]
	# the same to a file, and the same again (seeded by the run's seed and the step)
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 6 --batch 4 --sample-every 3 --sample-prompt 'ROMEO:' \
		--sample-length 20 --sample-file s.txt -o f.ckpt "$(F drop.ckpt)"
	cmp plain.ckpt f.ckpt
	assert_equal "$(cat s.txt)" "$(echo "$stderr" | sed 's/^gpt-train: sample at step/sample at step/')"
	assert_equal "$(head -1 s.txt)" "sample at step 3:"
	# 6 + 20 characters after each header (the text may hold newlines)
	/usr/bin/python3 -c '
import re, sys
parts = re.split(r"sample at step \d+:\n", open("s.txt").read())[1:]
sys.exit(not (len(parts) == 2 and all(len(p) == 27 and p.endswith("\n") for p in parts)))'
	# without a prompt: the first token of the data; without a tokenizer, ids
	for i in $(seq 30); do echo 0 1 2 3 4 5 6 7 8 9; done |
		bpe-encode -q --from-ids --vocab 10 --layout stream -o ids.tok
	gpt-init -q --layers 1 --heads 1 --embd 8 --block 4 --data ids.tok -o ids.ckpt
	run --separate-stderr gpt-train -q -j 1 --data ids.tok --iters 2 --batch 4 --sample-every 2 --sample-length 3 \
		-o i.ckpt ids.ckpt
	assert_success
	[[ "$stderr" =~ ^"gpt-train: sample at step 2:"$'\n'"0"( [0-9]){3}$ ]]
	run --separate-stderr gpt-train -q --data ids.tok --sample-every 2 --sample-prompt 12 -o i.ckpt ids.ckpt
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: --sample-prompt needs a tokenizer, in the checkpoint or the data"
	run --separate-stderr gpt-train -q --data "$(F text.tok)" --sample-length 5 -o a.ckpt "$(F tiny.ckpt)"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: --sample-prompt, --sample-length, --sample-temperature, --sample-top-k and --sample-file need --sample-every N"
	# temperature 0: the sample is gpt-sample's greedy one from the checkpoint of that step
	run --separate-stderr gpt-train -q -j 1 --data "$(F text.tok)" --iters 3 --batch 4 --sample-every 3 \
		--sample-prompt 'ROMEO:' --sample-length 12 --sample-temperature 0 --sample-file g.txt -o g.ckpt "$(F drop.ckpt)"
	assert_success
	assert_equal "$(tail -n +2 g.txt)" "$(gpt-sample -q --prompt 'ROMEO:' --max-new-tokens 12 --greedy g.ckpt)"
	# top-k 1 is greedy too, whatever the temperature
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 3 --batch 4 --sample-every 3 --sample-prompt 'ROMEO:' \
		--sample-length 12 --sample-temperature 3 --sample-top-k 1 --sample-file k.txt -o k.ckpt "$(F drop.ckpt)"
	cmp g.txt k.txt
}

@test "gpt-train: --max-time stops with a resumable checkpoint" {
	# 0: after the first step, whatever the machine's speed
	run --separate-stderr gpt-train -j 1 --data "$(F text.tok)" --iters 1000 --batch 2 --max-time 0 -o t.ckpt \
		"$(F tiny.ckpt)"
	assert_success
	[[ "$stderr" == *"gpt-train: --max-time 0 reached: stopping after step 1; writing the checkpoint to t.ckpt"* ]]
	assert_equal "$(trai t.ckpt step iters)" "1 1000"
	# an interrupted --no-optimizer run still writes what resuming needs
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 1000 --batch 2 --max-time 0s --no-optimizer -o n.ckpt \
		"$(F tiny.ckpt)"
	assert_equal "$(trai n.ckpt step)" 1
	# a limit not reached changes nothing
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 3 --batch 2 --max-time 2h -o a.ckpt "$(F tiny.ckpt)"
	gpt-train -q -j 1 --data "$(F text.tok)" --iters 3 --batch 2 -o b.ckpt "$(F tiny.ckpt)"
	cmp a.ckpt b.ckpt
	for d in 90s 10m 1.5h 1d 0; do
		run gpt-train --max-time $d --help
		assert_success
	done
	for d in -1 10x 1e99h '' h 5mm ' 5'; do
		run --separate-stderr gpt-train --data "$(F text.tok)" --max-time "$d" "$(F tiny.ckpt)"
		assert_failure 2
		assert_equal "${stderr%%$'\n'*}" "gpt-train: invalid value '$d' for --max-time: expected a duration such as 90s, 10m or 2h"
	done
}

@test "gpt-train: --early-stop ends after n evaluations without a better val loss" {
	run --separate-stderr gpt-train -j 1 --data "$(F text.tok)" --val-split 0.2 --iters 200 --batch 4 --lr 0.05 \
		--lr-schedule constant --grad-clip 0 --eval-every 1 --eval-batches 1 --early-stop 3 --log-every 1 --log log.tsv \
		-o es.ckpt "$(F tiny.ckpt)"
	assert_success
	# the first step after which 3 evaluations in a row were not below the best before them
	want=$(awk -F'\t' 'NR > 1 { if (!seen || $4 < best) { best = $4; seen = 1; n = 0 } else if (++n == 3) { print $1; exit } }' log.tsv)
	[ -n "$want" ] && [ "$want" -lt 200 ]
	assert_equal "$(trai es.ckpt step)" "$want"
	assert_equal "$(logcol log.tsv 1 | tail -1)" "$want"
	assert_equal "$(trai es.ckpt evals_since_best early_stop)" "3 3"
	[[ "$stderr" == *"gpt-train: --early-stop 3: no better val loss since step $((want - 3)): stopping after step $want; writing the checkpoint to es.ckpt"* ]]
	run --separate-stderr gpt-train --data "$(F text.tok)" --early-stop 2 "$(F tiny.ckpt)"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "gpt-train: --early-stop needs validation data (--val or --val-split)"
}

# What libgomp uses, as it reports it at start-up (OMP_DISPLAY_ENV): a
# passive wait is a spin count of 0; libgomp's own default spins 300000
# times, as gpt-init (which keeps it) shows.
omp_policy() {
	env OMP_DISPLAY_ENV=verbose "$@" --version 2>&1 >/dev/null |
		grep -oE "(OMP_WAIT_POLICY|GOMP_SPINCOUNT) = '[^']*'" | tr '\n' ' '
}

@test "gpt-train: OpenMP threads wait passively unless the environment chooses" {
	for tool in gpt-train gpt-sample; do
		assert_equal "$(omp_policy $tool)" "OMP_WAIT_POLICY = 'PASSIVE' GOMP_SPINCOUNT = '0' "
		assert_equal "$(omp_policy OMP_WAIT_POLICY=active $tool)" \
			"OMP_WAIT_POLICY = 'ACTIVE' GOMP_SPINCOUNT = '30000000000' "
		assert_equal "$(omp_policy GOMP_SPINCOUNT=1000 $tool)" "OMP_WAIT_POLICY = 'PASSIVE' GOMP_SPINCOUNT = '1000' "
	done
	assert_equal "$(omp_policy gpt-init)" "OMP_WAIT_POLICY = 'PASSIVE' GOMP_SPINCOUNT = '300000' "
	# the policy is set in the process, not by running it again
	run -0 --separate-stderr env LD_DEBUG=files gpt-train --version
	[ "$(printf '%s\n' "$stderr" | grep -c 'initialize program: ')" -eq 1 ]
}

# bats test_tags=nompi
@test "gpt-train: built without MPI, it refuses to run as one of several ranks" {
	run -1 --separate-stderr env OMPI_COMM_WORLD_SIZE=2 gpt-train -q --data "$(F text.tok)" --iters 1 \
		-o "$BATS_TEST_TMPDIR/x.ckpt" "$(F tiny.ckpt)"
	assert_equal "$stderr" "gpt-train: started as one of 2 ranks, but this gpt-train was built without MPI (see gpt-train(1))"
	run -1 --separate-stderr env PMI_SIZE=3 gpt-train -q --data "$(F text.tok)" --iters 1 \
		-o "$BATS_TEST_TMPDIR/x.ckpt" "$(F tiny.ckpt)"
	assert_equal "$stderr" "gpt-train: started as one of 3 ranks, but this gpt-train was built without MPI (see gpt-train(1))"
	[ ! -e "$BATS_TEST_TMPDIR/x.ckpt" ]
	# a job of one rank is one process
	run -0 env OMPI_COMM_WORLD_SIZE=1 gpt-train -q --data "$(F text.tok)" --iters 1 -o "$BATS_TEST_TMPDIR/x.ckpt" \
		"$(F tiny.ckpt)"
	[ -e "$BATS_TEST_TMPDIR/x.ckpt" ]
}
