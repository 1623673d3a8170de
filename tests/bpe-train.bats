#!/usr/bin/env bats
# bpe-train: BPE merges identical to minbpe's, the character model, GPT-2
# import (man/bpe-train.1).
load helpers
bats_require_minimum_version 1.5.0

TS="$ROOT/examples/data/tinyshakespeare.txt"
REF="/usr/bin/python3 $ROOT/tests/bpe/ref_train.py"

@test "bpe-train: --help prints the man page synopsis, --version the version" {
	run bpe-train --help
	assert_success
	assert_equal "$(help_synopsis bpe-train)" "$(man_synopsis bpe-train.1)"
	run bpe-train --version
	assert_output "bpe-train (mygpt) 0.1.0"
}

@test "bpe-train: merges identical to the minbpe reference, split and --no-split, on texts with ties" {
	head -c 12000 "$TS" > ts.txt
	/usr/bin/python3 - <<'PY'
import random
random.seed(5)
open('ab.txt', 'wb').write(bytes(random.choice(b'ab ') for _ in range(3000)))
open('bytes.bin', 'wb').write(bytes(random.randrange(256) for _ in range(3000)))
open('overlap.txt', 'wb').write(('aaaaaaa bbbb aaaa abab ababab xyzxyz ' * 30).encode())
w = ['caf\u00e9', 'na\u00efve', '\u4f60\u597d', '\u041f\u0440\u0438\u0432\u0435\u0442', "it's", "we've", '  ',
     '\n\n', '123', '\u00bd', '\U0001F917', 'x\u0301', "'ll", '\t', '\u00a0', '\u3000x', '\u180e', "'S"]
open('unicode.txt', 'wb').write(''.join(random.choice(w) + random.choice(['', ' ', '.']) for _ in range(1500)).encode())
open('ties.txt', 'wb').write(b'ab cd ef gh ij kl mn op ab cd ef gh')
PY
	for f in ts.txt ab.txt bytes.bin overlap.txt unicode.txt ties.txt; do
		for s in "" --no-split; do
			bpe-train -q $s --vocab-size 420 -o m.tkz $f
			run $REF $s --vocab-size 420 $f m.tkz
			assert_success
			[[ "$output" == *"merges identical" ]]
		done
	done
	# the reference also stops when no pair is left
	bpe-train -q --vocab-size 420 -o m.tkz ties.txt
	run $REF --vocab-size 420 ties.txt m.tkz
	assert_output "16 merges identical"
}

@test "bpe-train: the same input gives the same model, from a file or a pipe" {
	bpe-train -q --vocab-size 1000 -o a.tkz "$TS"
	cat "$TS" | bpe-train -q --vocab-size 1000 > b.tkz
	cmp a.tkz b.tkz
	run sha256sum < a.tkz
	[ "$(wc -c < a.tkz)" -gt 1000 ]
	bpe-encode -q -m a.tkz -o ts.tok "$TS"
	bpe-encode -q -d ts.tok | cmp - "$TS"
}

@test "bpe-train: --chars makes the 65-token model of tiny Shakespeare, sorted code points" {
	run --separate-stderr bpe-train --chars -o c.tkz "$TS"
	assert_success
	assert_equal "$stderr" "$(echo "$stderr" | grep '^bpe-train: wrote a chars model of 65 tokens')"
	run --separate-stderr bpe-encode -q -m c.tkz --ids < <(printf '\n !$&ABZaz')
	assert_output "0 1 2 3 4 13 14 38 39 64"
	printf 'b\xc3\xa9a\xff\xe2\x82' > u.txt
	bpe-train -q --chars -o u.tkz u.txt
	run --separate-stderr bpe-encode -q -m u.tkz --ids u.txt
	# a, b, U+00E9, then the raw bytes 0x82, 0xe2, 0xff
	assert_output "1 2 0 5 4 3"
	bpe-encode -q -m u.tkz u.txt | bpe-encode -q -d | cmp - u.txt
}

@test "bpe-train: --import-gpt2 writes GPT-2 as a model file that encodes like the JSON files" {
	bpe-train -q --import-gpt2 "$ROOT/tests/data/gpt2" -o g.tkz
	head -c 200000 "$TS" > t.txt
	bpe-encode -q -m g.tkz --ids t.txt > a.ids
	bpe-encode -q --gpt2 "$ROOT/tests/data/gpt2" --ids t.txt > b.ids
	cmp a.ids b.ids
	run --separate-stderr bpe-encode -q -m g.tkz --ids --allow-special < <(printf '<|endoftext|>')
	assert_output "50256"
}

@test "bpe-train: special tokens get the last ids and are not learned from" {
	printf 'aaaa<|x|>aaaa<|x|>bb<|x|>' > s.txt
	run --separate-stderr bpe-train --vocab-size 259 --special '<|x|>' --special '<|y|>' -o s.tkz s.txt
	assert_success
	run --separate-stderr bpe-encode -q -m s.tkz --ids --allow-special s.txt
	# merge 256 is "aa" (4 times), not a pair from "<|x|>"
	assert_output "256 256 257 256 256 257 98 98 257"
	run --separate-stderr bpe-encode -q -m s.tkz --ids s.txt
	assert_line --index 0 "$(printf '256 256 60 124 120 124 62 256 256 60 124 120 124 62 98 98 60 124 120 124 62')"
}

@test "bpe-train: a text with too few pairs gives a smaller model and says so" {
	printf 'ab' > t.txt
	run --separate-stderr bpe-train --vocab-size 300 -o t.tkz t.txt
	assert_success
	assert_equal "${stderr_lines[0]}" "bpe-train: warning: only 1 merge was possible: the model has 257 tokens, not 300"
	run --separate-stderr bpe-train -v --vocab-size 300 -o t.tkz t.txt
	assert_equal "${stderr_lines[1]}" 'bpe-train: merge 1/44: 97 98 -> 256 "ab" count 1'
}

@test "bpe-train: usage errors exit 2" {
	run --separate-stderr bpe-train --vocab-size 255
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "bpe-train: invalid value '255' for --vocab-size: expected an integer in 256..16777216"
	run -2 bpe-train --vocab-size 256 --special x
	run -2 bpe-train --vocab-size x
	run -2 bpe-train --chars --vocab-size 300
	run -2 bpe-train --chars --import-gpt2 d
	run -2 bpe-train --import-gpt2 d file
	run -2 bpe-train --special ''
	run -2 bpe-train --special a --special a
	run -2 bpe-train -q -v
	run -2 bpe-train --nope
}

@test "bpe-train: runtime errors exit 1 and leave no output" {
	run --separate-stderr bpe-train -o m.tkz missing.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-train: missing.txt: No such file or directory"
	run --separate-stderr bpe-train --import-gpt2 nowhere -o m.tkz
	assert_failure 1
	assert_equal "$stderr" "bpe-train: nowhere/encoder.json: No such file or directory"
	run --separate-stderr bpe-train --chars -o m.tkz /dev/null
	assert_failure 1
	assert_equal "$stderr" "bpe-train: the text is empty: no characters to make a model of"
	[ ! -e m.tkz ]
	run --separate-stderr bash -c "bpe-train -q --vocab-size 300 '$TS' > /dev/full"
	assert_failure 1
	assert_equal "$stderr" "bpe-train: <stdout>: write error: No space left on device"
	run --separate-stderr bpe-train -q --vocab-size 300 < "$ROOT"
	assert_failure 1
	[[ "$stderr" == "bpe-train: <stdin>: read error"* ]]
}
