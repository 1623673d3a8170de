#!/usr/bin/env bats
# gpt-convert: element types of a checkpoint's weights (man/gpt-convert.1),
# the values read back with the independent reader tests/formats/mgread.py;
# quantized checkpoints in gpt-train and gpt-sample; corrupt q8 blocks.
load helpers

# A small model trained a few steps (weights away from the init, AdamW
# moments and training state in the file), its data, and a model whose
# width (48) q8 cannot hold.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || exit 1
	export PATH="$BIN:$PATH"
	head -c 20000 "$ROOT/examples/data/tinyshakespeare.txt" > small.txt
	bpe-train -q --chars -o chars.tkz small.txt
	head -c 16000 small.txt | bpe-encode -q -m chars.tkz -o train.tok
	tail -c 4000 small.txt | bpe-encode -q -m chars.tkz -o val.tok
	gpt-init -q --layers 2 --heads 4 --embd 64 --block 32 --dropout 0 --data train.tok -o init.ckpt
	gpt-train -q -j 1 --data train.tok --iters 30 --batch 8 --lr 3e-3 -o trained.ckpt init.ckpt
	gpt-init -q --layers 1 --heads 4 --embd 48 --block 8 --vocab 20 -o w48.ckpt
}

F() { echo "$BATS_FILE_TMPDIR/$1"; }

# Runs python with mgread importable: py 'code' args...
py() {
	local code=$1
	shift
	/usr/bin/python3 -c "import sys, struct, math
sys.path.insert(0, '$ROOT/tests/formats')
import mgread
$code" "$@"
}

# "name role dtype" per tensor, then "train yes|no".
tensors() {
	py '
ck = mgread.read_checkpoint(sys.argv[1])
for (name, role), t in ck.tensors.items():
    print(name, role, t.dtype)
print("train", "no" if ck.train is None else "yes")' "$1"
}

# Rewrites checkpoint $1 into $2 with the stored bytes of tensor $3 (param)
# changed by python code $4 acting on "d" (a bytearray of the whole piece
# payload's elements) and "hdr" (its header fields as a dict: dtype, dims).
patch_tensor() {
	py '
import zlib
src, dst, name, code = sys.argv[1:5]
buf = open(src, "rb").read()
out, pos = [buf[:16]], 16
while pos < len(buf):
    h = buf[pos:pos + 16]
    ctype = h[:4].decode()
    flags, stored, raw = struct.unpack_from("<III", h, 4)
    payload = buf[pos + 16:pos + 16 + stored]
    pos += 16 + stored + 4
    if ctype == "TENS":
        data = zlib.decompress(payload) if flags & 1 else payload
        role, dt, rank, _, nl = data[0], data[1], data[2], data[3], data[4]
        if role == 0 and data[5:5 + nl].decode() == name:
            at = 5 + nl
            dims = list(struct.unpack_from(f"<{rank}I", data, at))
            at += 4 * rank + 16
            hdr = {"dtype": dt, "dims": dims}
            d = bytearray(data[at:])
            exec(code)
            data = bytearray(data[:at])
            data[1] = hdr["dtype"]
            struct.pack_into(f"<{rank}I", data, 5 + nl, *hdr["dims"])
            data = bytes(data) + bytes(d)
            out.append(mgread._chunk("TENS", data, 1))
            continue
    out.append(h + payload + buf[pos - 4:pos])
open(dst, "wb").write(b"".join(out))' "$@"
}

@test "gpt-convert: --help prints the man page synopsis, --version the version" {
	run gpt-convert --help
	assert_success
	assert_equal "$(help_synopsis gpt-convert)" "$(man_synopsis gpt-convert.1)"
	assert_line --partial "(default q8; with a safetensors side, the stored types)"
	assert_line --partial "multiple of 32, f32 elsewhere (default f32)"
	run gpt-convert --version
	assert_success
	assert_output "gpt-convert (mygpt) 0.1.0"
}

@test "gpt-convert: usage errors exit 2" {
	for args in "--dtype q4" "--other-dtype int8" "-q -v" "--bogus" "a.ckpt b.ckpt" "--dtype"; do
		run --separate-stderr gpt-convert $args
		assert_failure 2
	done
	run --separate-stderr gpt-convert --dtype q4 "$(F init.ckpt)"
	assert_failure 2
	[[ "$stderr" == "gpt-convert: invalid value 'q4' for --dtype"* ]]
}

@test "gpt-convert: the summary counts tensors and bytes, and lists the converted tensors" {
	run --separate-stderr gpt-convert -o q.ckpt "$(F init.ckpt)"
	assert_success
	assert_output ""
	# 109,568 parameters (vocab 58), 102,016 of them in the 9 Linear weights,
	# which take 36 bytes per 32 in q8: 438,272 - 408,064 + 114,768 bytes
	assert_equal "$(sed -n 1p <<< "$stderr")" \
		"gpt-convert: 29 tensors, 9 converted, 438,272 bytes -> 144,976 bytes (33.1%)"
	assert_equal "$(sed -n 2p <<< "$stderr" | tr -s ' ')" " tensor role from to bytes in bytes out worst mean"
	assert_equal "$(wc -l <<< "$stderr")" 11
	[[ "$(sed -n 3p <<< "$stderr" | tr -s ' ')" == " h.0.attn.c_attn.weight param f32 q8 49,152 13,824 "* ]]
	run --separate-stderr gpt-convert -v -o q.ckpt "$(F init.ckpt)"
	assert_equal "$(wc -l <<< "$stderr")" 31
	run --separate-stderr gpt-convert -q -o q.ckpt "$(F init.ckpt)"
	assert_success
	assert_equal "$stderr" ""
}

@test "gpt-convert: every dtype round trip is within its bound, other tensors keep their bytes" {
	for dt in f32 f16 bf16 q8; do
		gpt-convert -q --dtype $dt -o $dt.ckpt "$(F trained.ckpt)"
		gpt-convert -q --dtype f32 -o back-$dt.ckpt $dt.ckpt
	done
	run py '
a = mgread.read_checkpoint(sys.argv[1])
linear = lambda n: n == "lm_head.weight" or n.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight"))
f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
for dt in ("f32", "f16", "bf16", "q8"):
    b = mgread.read_checkpoint(dt + ".ckpt")
    back = mgread.read_checkpoint("back-" + dt + ".ckpt")
    worst = 0.0
    for (name, role), t in a.tensors.items():
        if role != "param":
            continue
        u = b.tensors[(name, role)]
        if not linear(name):
            assert u.dtype == "f32" and u.data == t.data, name
            continue
        assert u.dtype == dt, (name, u.dtype)
        x, y = t.floats(), u.floats()
        if dt == "q8":  # every value within s/2 of the original, s its block scale
            y = [f32(v) for v in y]
            for i in range(len(x)):
                s = struct.unpack_from("<f", u.data, 36 * (i // 32))[0]
                assert abs(y[i] - x[i]) <= s / 2, (name, i, x[i], y[i], s)
                worst = max(worst, abs(y[i] - x[i]) / s)
        else:
            bound = {"f32": 0.0, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}[dt]
            for i in range(len(x)):
                assert abs(y[i] - x[i]) <= max(bound * abs(x[i]), 2.0 ** -25 if dt == "f16" else 0), (name, i)
                worst = max(worst, abs(y[i] - x[i]) / abs(x[i]) if x[i] else 0)
        # expanded back to f32: the stored values exactly
        assert back.tensors[(name, role)].dtype == "f32" and back.tensors[(name, role)].floats() == y, name
    print(dt, "ok", worst > 0 or dt == "f32")
' "$(F trained.ckpt)"
	assert_success
	assert_output "f32 ok True
f16 ok True
bf16 ok True
q8 ok True"
}

@test "gpt-convert: a tensor already in its target type keeps its bytes (q8 -> q8, f16 -> f16 give the same file)" {
	gpt-convert -q --dtype q8 -o q.ckpt "$(F trained.ckpt)"
	gpt-convert -q --dtype q8 -o q2.ckpt q.ckpt
	cmp q.ckpt q2.ckpt
	gpt-convert -q --dtype f16 -o h.ckpt "$(F trained.ckpt)"
	gpt-convert -q --dtype f16 < h.ckpt > h2.ckpt
	cmp h.ckpt h2.ckpt
	gpt-convert -q --dtype f32 --params-only -o f.ckpt "$(F trained.ckpt)"
	gpt-convert -q --dtype f32 -o f2.ckpt f.ckpt
	cmp f.ckpt f2.ckpt
	# q8 blocks no writer of ours makes (largest |q| 100, not 127) are copied
	# as they are, never quantized again
	patch_tensor q.ckpt odd.ckpt h.1.mlp.c_fc.weight '
for b in range(len(d) // 36):
    s = struct.unpack_from("<f", d, 36 * b)[0]
    struct.pack_into("<f", d, 36 * b, s * 1.27)
    for i in range(32):
        q = struct.unpack_from("<b", d, 36 * b + 4 + i)[0]
        struct.pack_into("<b", d, 36 * b + 4 + i, int(q * 100 / 127))'
	gpt-convert -q --dtype q8 -o odd2.ckpt odd.ckpt
	run py '
a, b = mgread.read_checkpoint(sys.argv[1]), mgread.read_checkpoint(sys.argv[2])
print(all(a.tensors[k].data == b.tensors[k].data for k in a.tensors))
print(max(abs(v) for v in struct.unpack("<32b", a.tensors[("h.1.mlp.c_fc.weight", "param")].data[4:36])))' odd.ckpt odd2.ckpt
	assert_output "True
100"
}

@test "gpt-convert: --params-only drops the moments and the training state; a quantized output drops them anyway" {
	run tensors "$(F trained.ckpt)"
	assert_line "wte adam_m f32"
	assert_line "train yes"
	gpt-convert -q --dtype f32 -o keep.ckpt "$(F trained.ckpt)"
	cmp <(tensors keep.ckpt) <(tensors "$(F trained.ckpt)")
	run --separate-stderr gpt-convert --dtype f32 --params-only -o p.ckpt "$(F trained.ckpt)"
	assert_success
	assert_equal "$(sed -n 1p <<< "$stderr")" \
		"gpt-convert: 87 tensors, 0 converted, 1,314,816 bytes -> 438,272 bytes (33.3%), AdamW moments dropped, training state dropped"
	run tensors p.ckpt
	refute_line --partial "adam"
	assert_line "train no"
	assert_equal "${#lines[@]}" 30
	run tensors <(gpt-convert -q --dtype bf16 "$(F trained.ckpt)")
	refute_line --partial "adam"
	assert_line "train no"
	assert_line "lm_head.weight param bf16"
	# the f32 copy without moments starts a new run
	run gpt-train -q -j 1 --data "$(F train.tok)" --iters 1 --batch 2 -o t.ckpt p.ckpt
	assert_success
}

@test "gpt-convert: --other-dtype converts the other parameters, q8 only where the last dimension allows" {
	gpt-init -q --layers 1 --heads 2 --embd 32 --block 40 --vocab 30 --attention circulant -o c.ckpt
	run --separate-stderr gpt-convert --dtype f16 --other-dtype q8 -o c8.ckpt c.ckpt
	assert_success
	run tensors c8.ckpt
	assert_line "wte param q8"
	assert_line "wpe param q8"
	assert_line "h.0.ln_1.weight param q8"
	assert_line "h.0.attn.time_w param f32"
	assert_line "h.0.attn.c_attn.weight param f16"
	gpt-convert -q --dtype f32 --other-dtype bf16 -o cb.ckpt c.ckpt
	run tensors cb.ckpt
	assert_line "h.0.attn.time_w param bf16"
	assert_line "h.0.attn.c_attn.weight param f32"
}

@test "gpt-convert: q8 needs Linear weights whose last dimension is a multiple of 32" {
	run --separate-stderr gpt-convert --dtype q8 -o x.ckpt "$(F w48.ckpt)"
	assert_failure 1
	assert_equal "$stderr" \
		"gpt-convert: $(F w48.ckpt): tensor 'h.0.attn.c_attn.weight' cannot be q8: its last dimension 48 is not a multiple of 32"
	[ ! -e x.ckpt ]
	run gpt-convert -q --dtype f16 -o x.ckpt "$(F w48.ckpt)"
	assert_success
}

@test "gpt-convert: corrupt q8 blocks are refused with status 1 by every tool, naming the tensor" {
	gpt-convert -q -o q.ckpt "$(F init.ckpt)"
	patch_tensor q.ckpt neg.ckpt h.1.attn.c_proj.weight 'struct.pack_into("<f", d, 36 * 3, -0.5)'
	patch_tensor q.ckpt nan.ckpt lm_head.weight 'struct.pack_into("<f", d, 36 * 2, float("nan"))'
	patch_tensor q.ckpt inf.ckpt lm_head.weight 'struct.pack_into("<f", d, 0, float("inf"))'
	patch_tensor q.ckpt q128.ckpt h.0.mlp.c_fc.weight 'd[36 * 5 + 4 + 7] = 0x80'
	for f in neg nan inf q128; do
		py 'mgread.read_checkpoint(sys.argv[1])' $f.ckpt # the container is intact
	done
	run --separate-stderr gpt-convert --dtype f32 -o x.ckpt neg.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: neg.ckpt: tensor 'h.1.attn.c_proj.weight' (param): q8 block 3 has scale -0.5"
	run --separate-stderr gpt-convert --dtype f32 -o x.ckpt nan.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: nan.ckpt: tensor 'lm_head.weight' (param): q8 block 2 has scale nan"
	run --separate-stderr gpt-convert -o x.ckpt inf.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: inf.ckpt: tensor 'lm_head.weight' (param): q8 block 0 has scale inf"
	run --separate-stderr gpt-convert -o x.ckpt q128.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: q128.ckpt: tensor 'h.0.mlp.c_fc.weight' (param): q8 block 5 holds q -128"
	[ ! -e x.ckpt ]
	for f in neg nan inf q128; do
		run --separate-stderr gpt-sample --tokens -f --max-new-tokens 3 $f.ckpt
		assert_failure 1
		[[ "$stderr" == "gpt-sample: $f.ckpt: tensor '"*"' (param): q8 block "* ]]
		run --separate-stderr gpt-train --eval-only --val "$(F val.tok)" $f.ckpt
		assert_failure 1
		[[ "$stderr" == "gpt-train: $f.ckpt: tensor '"*"' (param): q8 block "* ]]
	done
}

@test "gpt-convert: a q8 tensor whose last dimension is not a multiple of 32 is refused" {
	# h.0.attn.c_attn.weight (144 x 48) relabelled q8 with 144 x 48 / 32 blocks
	patch_tensor "$(F w48.ckpt)" bad.ckpt h.0.attn.c_attn.weight 'hdr["dtype"] = 3; d = bytearray(36 * (len(d) // 4 // 32))'
	for tool in "gpt-convert --dtype f16 -o x.ckpt" "gpt-sample --tokens -f" "gpt-train --eval-only --val $(F val.tok)"; do
		run --separate-stderr $tool bad.ckpt
		assert_failure 1
		[[ "$stderr" == *"bad.ckpt: chunk 'TENS' at byte "*": q8 tensor 'h.0.attn.c_attn.weight' is not in whole blocks" ]]
	done
}

@test "gpt-train: refuses to train a quantized checkpoint, with the way out" {
	for dt in q8 f16 bf16; do
		gpt-convert -q --dtype $dt -o $dt.ckpt "$(F trained.ckpt)"
		run --separate-stderr gpt-train -j 1 --data "$(F train.tok)" --iters 1 -o t.ckpt $dt.ckpt
		assert_failure 1
		assert_equal "$stderr" "gpt-train: $dt.ckpt: the model is quantized ('h.0.attn.c_attn.weight' is $dt): it runs inference only; gpt-convert --dtype f32 expands it for training"
		[ ! -e t.ckpt ]
	done
	# expanded back, it trains
	gpt-convert -q --dtype f32 q8.ckpt | gpt-train -q -j 1 --data "$(F train.tok)" --iters 1 --batch 2 -o t.ckpt
	[ -s t.ckpt ]
}

@test "gpt-train --eval-only: a quantized model's loss is close to f32's (q8 within 0.5%), f16 and bf16 closer" {
	declare -A loss
	for dt in f32 f16 bf16 q8; do
		gpt-convert -q --dtype $dt -o $dt.ckpt "$(F trained.ckpt)"
		run --separate-stderr gpt-train --eval-only -q -j 1 --val "$(F val.tok)" $dt.ckpt
		assert_success
		assert_output --regexp "^val loss [0-9.]+ over 3968 targets$"
		loss[$dt]=$(awk '{ print $3 }' <<< "$output")
	done
	# the f32 copy is the original, value for value
	run gpt-train --eval-only -q -j 1 --val "$(F val.tok)" "$(F trained.ckpt)"
	assert_output "val loss ${loss[f32]} over 3968 targets"
	run awk -v a="${loss[f32]}" -v h="${loss[f16]}" -v b="${loss[bf16]}" -v q="${loss[q8]}" 'BEGIN {
		dh = (h - a) / a; db = (b - a) / a; dq = (q - a) / a
		if (dh < 0) dh = -dh; if (db < 0) db = -db; if (dq < 0) dq = -dq
		print (dh < 1e-4), (db < 2e-3), (dq < 5e-3), (q != a) }'
	assert_output "1 1 1 1"
	# the thread count changes nothing
	run gpt-train --eval-only -q -j 2 --val "$(F val.tok)" q8.ckpt
	assert_output "val loss ${loss[q8]} over 3968 targets"
}

@test "gpt-sample: samples a quantized model; greedy q8 tokens are the same with any thread count and batch" {
	gpt-convert -q -o q8.ckpt "$(F trained.ckpt)"
	run --separate-stderr gpt-sample -j 1 --greedy --prompt "ROMEO:" --max-new-tokens 80 q8.ckpt
	assert_success
	[[ "$output" == "ROMEO:"* ]]
	assert_equal "${#output}" 86
	a=$output
	run --separate-stderr gpt-sample -j 2 --greedy --prompt "ROMEO:" --max-new-tokens 80 q8.ckpt
	assert_equal "$output" "$a"
	# past the block (32): the exact window recomputes through the q8 products
	gpt-sample -j 1 --greedy --tokens --num-samples 3 --batch 1 --max-new-tokens 100 -o one.tok q8.ckpt
	gpt-sample -j 2 --greedy --tokens --num-samples 3 --batch 3 --max-new-tokens 100 -o three.tok q8.ckpt
	cmp one.tok three.tok
	for dt in f16 bf16; do
		gpt-convert -q --dtype $dt -o $dt.ckpt "$(F trained.ckpt)"
		run gpt-sample -s 7 --max-new-tokens 40 $dt.ckpt
		assert_success
	done
}

@test "gpt-convert: pipes: gpt-init | gpt-convert | gpt-sample, and back to f32 into gpt-train" {
	run --separate-stderr bash -c "gpt-init -q --layers 1 --heads 2 --embd 32 --block 16 --vocab 30 |
		gpt-convert --dtype q8 | gpt-sample --tokens -f --max-new-tokens 20 > out.tok"
	assert_success
	[[ "$stderr" == "gpt-convert: 17 tensors, 5 converted, "* ]]
	run $MGREAD --ids out.tok
	assert_equal "$(wc -w <<< "$output")" 21
	gpt-convert -q "$(F trained.ckpt)" | gpt-convert -q --dtype f32 |
		gpt-train -q -j 1 --data "$(F train.tok)" --iters 1 --batch 2 -o t.ckpt
	[ -s t.ckpt ]
}

@test "gpt-convert: refuses a terminal for its output and its input; write errors exit 1" {
	run script -qec "$BIN/gpt-convert -q '$(F init.ckpt)'" /dev/null
	assert_failure 2
	assert_output --partial "gpt-convert: refusing to write binary data to a terminal (use -o FILE, a pipe, or -f)"
	run script -qec "$BIN/gpt-convert -fq '$(F init.ckpt)' | wc -c" /dev/null
	assert_success
	run --separate-stderr tty_stdin gpt-convert -o x.ckpt
	assert_failure 2
	run --separate-stderr bash -c "gpt-convert -q '$(F init.ckpt)' > /dev/full"
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: <stdout>: write error: No space left on device"
	# not a checkpoint
	run --separate-stderr gpt-convert -o x.ckpt "$(F train.tok)"
	assert_failure 1
	[[ "$stderr" == "gpt-convert: $(F train.tok): "* ]]
	[ ! -e x.ckpt ]
}
