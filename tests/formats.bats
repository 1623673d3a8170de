#!/usr/bin/env bats
# The file formats: committed vectors, the independent reader, pipes,
# concatenation and every kind of corruption (formats/*.md).
load helpers

MGCHECK="$BUILD/tests/tools/mgcheck"
VEC="$ROOT/formats/vectors"

@test "formats: every good vector is read by the C readers" {
	for f in "$VEC"/good/*.tok "$VEC"/good/*.tkz "$VEC"/good/*.ckpt; do
		run "$MGCHECK" "$f"
		assert_success
	done
	run "$MGCHECK" "$VEC/good/concat.tok"
	assert_output "tokens vocab=301 layout=stream mask=0 n=2000 records=0 sum=299400"
}

@test "formats: every bad vector is rejected with status 1 and its message" {
	while IFS=$'\t' read -r name kind msg; do
		case "$name" in '#'*|'') continue ;; esac
		run --separate-stderr "$MGCHECK" "$VEC/bad/$name"
		[ "$status" -eq 1 ] || { echo "$name: status $status"; return 1; }
		[[ "$stderr" == "mgcheck: $VEC/bad/$name: "*"$msg"* ]] || { echo "$name: '$stderr' lacks '$msg'"; return 1; }
	done < "$VEC/bad/MANIFEST"
}

@test "formats: the independent reader accepts the good and rejects the bad vectors" {
	run /usr/bin/python3 "$ROOT/tests/formats/mgread.py" --check "$VEC"
	assert_success
	assert_output --partial "mgread: ok"
}

@test "formats: the C readers accept a stream written by the independent writer" {
	printf '1 2 3\n(4) 5\n9\n' | $MGREAD --write-ids 10 examples > py.tok
	run "$MGCHECK" py.tok
	assert_success
	assert_output "tokens vocab=10 layout=examples mask=1 n=6 records=3 sum=24"
}

@test "formats: a stream through a pipe equals the same stream through a file" {
	adder-gen -q --digits 2 -o file.tok
	adder-gen -q --digits 2 | cat > pipe.tok
	cmp file.tok pipe.tok
	run "$MGCHECK" - < pipe.tok
	assert_success
	assert_output "tokens vocab=10 layout=examples mask=1 n=66500 records=9500 sum=$(sed -n 's/.*sum=//p' <<<"$("$MGCHECK" file.tok)")"
}

@test "formats: cat a.tok b.tok is one stream with both members' records" {
	adder-gen -q --digits 1 -o a.tok
	adder-gen -q --digits 1 --split test -o b.tok
	cat a.tok b.tok > ab.tok
	run "$MGCHECK" ab.tok
	assert_success
	assert_output --regexp "n=400 records=100 "
	run $MGREAD --ids ab.tok
	assert_equal "$(echo "$output" | wc -l)" 100
}

@test "formats: concatenating streams with different headers is an error" {
	adder-gen -q --digits 1 -o a.tok
	adder-gen -q --digits 2 -o b.tok
	cat a.tok b.tok > ab.tok
	run --separate-stderr "$MGCHECK" ab.tok
	assert_failure 1
	# the second member's HEAD chunk follows its 16-byte preamble
	assert_equal "$stderr" "mgcheck: ab.tok: member at byte $(($(stat -c %s a.tok) + 16)) has a different header from the first member"
}

# Truncation at many offsets and every one-byte flip must be rejected with
# status 1 (never accepted, never a crash).
corrupt_all() {
	local file="$1" step="$2" size i
	size=$(stat -c %s "$file")
	for ((i = 0; i < size; i += step)); do
		head -c "$i" "$file" > cut
		"$MGCHECK" cut 2>/dev/null >&2 && { echo "truncated at $i accepted"; return 1; }
		[ $? -eq 1 ] || { echo "truncated at $i: status $?"; return 1; }
		/usr/bin/python3 - "$file" "$i" > flip <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[int(sys.argv[2])] ^= 0x5a
sys.stdout.buffer.write(b)
PY
		"$MGCHECK" flip 2>/dev/null >&2 && { echo "flip at $i accepted"; return 1; }
		[ $? -eq 1 ] || { echo "flip at $i: status $?"; return 1; }
	done
	return 0
}

@test "formats: truncations and one-byte flips of a token stream are rejected" {
	adder-gen -q --digits 1 --split test -o t.tok
	run corrupt_all t.tok 3
	assert_success
}

@test "formats: truncations and one-byte flips of a tokenizer are rejected" {
	run corrupt_all "$VEC/good/chars.tkz" 1
	assert_success
}

@test "formats: truncations and one-byte flips of a checkpoint are rejected" {
	run corrupt_all "$VEC/good/bare.ckpt" 7
	assert_success
}

@test "formats: empty input is a clear error" {
	run --separate-stderr "$MGCHECK" - < /dev/null
	assert_failure 1
	assert_equal "$stderr" "mgcheck: -: empty input, expected a token stream"
}

CHUNKS="/usr/bin/python3 $ROOT/tests/formats/chunks.py"

# A model with the character tokenizer of a line of text, 64 wide: matrices
# of 4,096 to 16,384 random floats, vectors of zeros and of ones.
small_model() {
	printf 'To be, or not to be, that is the question:\n' > text.txt
	bpe-train -q --chars -o chars.tkz text.txt
	gpt-init -q --layers 1 --heads 2 --embd 64 --block 16 --tokenizer chars.tkz -o m.ckpt
}

@test "formats: a checkpoint's random weights are stored plain, its constant vectors and its tokenizer compressed" {
	small_model
	run -0 $CHUNKS list m.ckpt
	# zlib saves less than a quarter of random floats: each matrix is plain;
	# each bias (zeros) and LayerNorm vector (ones, zeros) is compressed
	assert_equal "$(grep -c ' TENS 0 ' <<<"$output")" 7
	assert_equal "$(grep -c ' TENS 1 ' <<<"$output")" 10
	for m in wte wpe h.0.attn.c_attn.weight h.0.attn.c_proj.weight h.0.mlp.c_fc.weight h.0.mlp.c_proj.weight \
		lm_head.weight; do
		assert_line --regexp "^[0-9]+ TENS 0 ([0-9]+) \\1 $m param\$"
	done
	assert_line --regexp '^[0-9]+ TENS 1 [0-9]+ 294 h.0.ln_1.bias param$'
	# the embedded tokenizer is the tokenizer file, its characters compressed
	$CHUNKS payload m.ckpt VOCB > vocb.tkz
	cmp vocb.tkz chars.tkz
	run -0 $CHUNKS list chars.tkz
	assert_line --regexp '^[0-9]+ CHRS 1 '
}

@test "formats: a checkpoint from a file, from stdin and through a pipe is the same model, compressed or not" {
	small_model
	bpe-encode -q -m chars.tkz -o text.tok text.txt
	# every TENS payload compressed, as writers stored them before 2026-12-07
	$CHUNKS deflate m.ckpt old.ckpt
	run -0 $CHUNKS list old.ckpt
	assert_equal "$(grep -c ' TENS 1 ' <<<"$output")" 17
	train="gpt-train -q -j 1 --data text.tok --iters 1 --batch 2"
	sample="gpt-sample --greedy --start-token 1 --max-new-tokens 30"
	for c in m old; do
		$train -o $c.file.ckpt $c.ckpt
		$train -o $c.stdin.ckpt < $c.ckpt
		cat $c.ckpt | $train -o $c.pipe.ckpt
		cmp $c.file.ckpt $c.stdin.ckpt
		cmp $c.file.ckpt $c.pipe.ckpt
		$sample $c.ckpt > $c.file.txt
		$sample < $c.ckpt > $c.stdin.txt
		cat $c.ckpt | $sample > $c.pipe.txt
		cmp $c.file.txt $c.stdin.txt
		cmp $c.file.txt $c.pipe.txt
	done
	cmp m.file.ckpt old.file.ckpt
	cmp m.file.txt old.file.txt
	[ "$(wc -c < m.file.txt)" -gt 30 ]
}

@test "formats: a plain tensor payload that is corrupt or cut is named, from a file and through a pipe" {
	small_model
	# wte: the first TENS chunk, plain; its header is 5 bytes, the name, 8 of
	# dims and 16 of offset and count
	at=$($CHUNKS list m.ckpt | awk '$2 == "TENS" { print $1; exit }')
	run -0 $CHUNKS list m.ckpt
	assert_line "$at TENS 0 4384 4384 wte param"
	flip() { # FILE OFFSET: the byte at OFFSET xor 0x40
		cp m.ckpt "$1"
		printf "\\$(printf %o $(( $(od -An -tu1 -j "$2" -N1 m.ckpt) ^ 64 )))" |
			dd of="$1" bs=1 seek="$2" conv=notrunc status=none
	}
	flip data.ckpt $((at + 16 + 32 + 1000))  # an element
	flip dims.ckpt $((at + 16 + 8 + 1))      # its first dimension: a shape the rest does not fit
	flip crc.ckpt $((at + 16 + 4384))        # the chunk's CRC
	for f in data dims crc; do
		run --separate-stderr gpt-sample $f.ckpt
		assert_failure 1
		assert_equal "$stderr" "gpt-sample: $f.ckpt: checksum mismatch in chunk 'TENS' at byte $at"
		run --separate-stderr gpt-sample < <(cat $f.ckpt)
		assert_failure 1
		assert_equal "$stderr" "gpt-sample: <stdin>: checksum mismatch in chunk 'TENS' at byte $at"
		run --separate-stderr "$MGCHECK" $f.ckpt
		assert_failure 1
		assert_equal "$stderr" "mgcheck: $f.ckpt: checksum mismatch in chunk 'TENS' at byte $at"
	done
	head -c $((at + 16 + 32 + 1000)) m.ckpt > cut.ckpt
	want="truncated chunk 'TENS' (starts at byte $at, input ends at byte $((at + 16 + 32 + 1000)))"
	run --separate-stderr gpt-sample cut.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: cut.ckpt: $want"
	run --separate-stderr gpt-sample < <(cat cut.ckpt)
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: <stdin>: $want"
	run --separate-stderr mygpt-info cut.ckpt
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: cut.ckpt: $want"
}
