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
