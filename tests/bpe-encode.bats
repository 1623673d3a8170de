#!/usr/bin/env bats
# bpe-encode: GPT-2-exact encoding and lossless decoding (man/bpe-encode.1).
# The 77 reference vectors run as the unit test test_gpt2_vectors.
load helpers
bats_require_minimum_version 1.5.0

G="$ROOT/tests/data/gpt2"
TS="$ROOT/examples/data/tinyshakespeare.txt"

# GPT-2 as a model file, made once per test file.
setup_file() {
	export GPT2TKZ="$BATS_FILE_TMPDIR/gpt2.tkz"
	"$BIN/bpe-train" -q --import-gpt2 "$ROOT/tests/data/gpt2" -o "$GPT2TKZ"
}

@test "bpe-encode: --help prints the man page synopsis, --version the version" {
	run bpe-encode --help
	assert_success
	assert_equal "$(help_synopsis bpe-encode)" "$(man_synopsis bpe-encode.1)"
	run bpe-encode --version
	assert_output "bpe-encode (mygpt) 0.1.0"
}

@test "bpe-encode: the unicode tables are what the generator makes from the committed ranges" {
	run /usr/bin/python3 "$ROOT/lib/bpe/unicode16/mkunicode.py"
	assert_success
	assert_equal "$output" "$(cat "$ROOT/lib/bpe/unicode.c")"
}

@test "bpe-encode: minGPT's example sentence gives GPT-2's ids, from the JSON files and from the model file" {
	printf "Hello!! I'm Andrej Karpathy. It's 2022. w00t :D \360\237\244\227" > in.txt
	want="15496 3228 314 1101 10948 73 509 5117 10036 13 632 338 33160 13 266 405 83 1058 35 12520 97 245"
	run --separate-stderr bpe-encode -q --gpt2 "$G" --ids in.txt
	assert_success
	assert_output "$want"
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids in.txt
	assert_output "$want"
	run --separate-stderr bpe-encode -q -d -m "$GPT2TKZ" --ids <<<"$want"
	assert_output "$(cat in.txt)"
}

@test "bpe-encode: tiny Shakespeare is 338,025 GPT-2 tokens, 301,966 + 36,059 split at 90% of the characters" {
	run --separate-stderr bpe-encode -v -m "$GPT2TKZ" -o ts.tok "$TS"
	assert_success
	assert_equal "$stderr" "$(echo "$stderr" | grep '^bpe-encode: encoded 1115394 bytes into 338025 tokens')"
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids "$TS"
	assert_equal "$(echo "$output" | wc -w)" 338025
	assert_equal "${#lines[@]}" 1
	n=$(wc -c < "$TS")
	head -c $((n * 9 / 10)) "$TS" > train.txt
	tail -c +$((n * 9 / 10 + 1)) "$TS" > val.txt
	assert_equal "$(bpe-encode -q -m "$GPT2TKZ" --ids train.txt | wc -w)" 301966
	assert_equal "$(bpe-encode -q -m "$GPT2TKZ" --ids val.txt | wc -w)" 36059
	# the first 100,000 bytes: the reference ids
	head -c 100000 "$TS" | bpe-encode -q -m "$GPT2TKZ" --ids > ids.txt
	run diff ids.txt "$G/tinyshakespeare_100k.ids"
	assert_success
	# the stream decodes with the model it carries
	bpe-encode -q -d -o back.txt ts.tok
	cmp back.txt "$TS"
	run $MGREAD --dump ts.tok
	assert_success
}

@test "bpe-encode: any bytes round-trip, invalid UTF-8 included, through streams and decimal ids" {
	head -c 300000 /dev/urandom > rnd.bin
	printf 'caf\xc3\xa9 \xff\xfe abc\xe2\x82 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \x80\x80' > bad.txt
	bpe-train -q --vocab-size 600 -o own.tkz "$TS"
	for f in rnd.bin bad.txt; do
		for m in "$GPT2TKZ" own.tkz; do
			bpe-encode -q -m "$m" -o x.tok "$f"
			bpe-encode -q -d x.tok | cmp - "$f"
			bpe-encode -q -m "$m" --ids "$f" > x.ids
			bpe-encode -q -d -m "$m" --ids x.ids | cmp - "$f"
		done
	done
	# GPT-2's 344 tokens that are not UTF-8 alone: one invalid byte is one token
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids < <(printf 'abc\xffdef \xfe!')
	assert_output "39305 187 4299 220 186 0"
}

@test "bpe-encode: special tokens are text unless --allow-special" {
	printf 'Hello<|endoftext|>World <|endoftext|> x' > s.txt
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids s.txt
	assert_output "15496 27 91 437 1659 5239 91 29 10603 1279 91 437 1659 5239 91 29 2124"
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids --allow-special s.txt
	assert_output "15496 50256 10603 220 50256 2124"
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids --allow-special < <(printf '<|endoftext|')
	assert_output "27 91 437 1659 5239 91"
	bpe-encode -q -m "$GPT2TKZ" --allow-special -o s.tok s.txt
	bpe-encode -q -d s.tok | cmp - s.txt
}

@test "bpe-encode: several threads write exactly the bytes of one" {
	{ cat "$TS"; head -c 700000 /dev/zero | tr '\0' x; printf ' \n\n'; cat "$TS"; } > big.txt
	bpe-encode -q -m "$GPT2TKZ" -o one.tok big.txt
	bpe-encode -q -m "$GPT2TKZ" -j 2 -o two.tok big.txt
	bpe-encode -q -m "$GPT2TKZ" -j 7 -o seven.tok big.txt
	cmp one.tok two.tok
	cmp one.tok seven.tok
	# the same ids as encoding the text in one piece, from a pipe
	cat big.txt | bpe-encode -q -m "$GPT2TKZ" --ids -j 3 > pipe.ids
	bpe-encode -q -m "$GPT2TKZ" --ids big.txt | cmp - pipe.ids
	bpe-encode -q -d two.tok | cmp - big.txt
}

@test "bpe-encode: several files or --separator make documents, one line of ids each" {
	printf 'one two' > a.txt
	printf 'three\n' > b.txt
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids a.txt b.txt
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 "505 734"
	assert_line --index 1 "15542 198"
	bpe-encode -q -m "$GPT2TKZ" -o d.tok a.txt b.txt
	run $MGREAD --ids d.tok
	assert_line --index 0 "505 734"
	assert_line --index 1 "15542 198"
	bpe-encode -q -d d.tok | cmp - <(cat a.txt b.txt)
	printf 'a<|endoftext|>b<|endoftext|><|endoftext|>c' > sep.txt
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids --allow-special --separator '<|endoftext|>' sep.txt
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 "64 50256"
	assert_line --index 2 "50256"
	assert_line --index 3 "66"
	run --separate-stderr bpe-encode -q -m "$GPT2TKZ" --ids --separator '\n' < <(printf 'x\ny\n\nz')
	assert_equal "${#lines[@]}" 4
	bpe-encode -q -m "$GPT2TKZ" --separator '\x3c|' -o sep.tok sep.txt
	bpe-encode -q -d sep.tok | cmp - sep.txt
}

@test "bpe-encode: a character model encodes each character, and names one it lacks" {
	bpe-train -q --chars -o c.tkz "$TS"
	bpe-encode -q -m c.tkz -o c.tok "$TS"
	bpe-encode -q -d c.tok | cmp - "$TS"
	run --separate-stderr bpe-encode -q -m c.tkz --ids < <(printf 'hi!\n')
	assert_output "46 47 2 0"
	printf 'Hello\ncaf\xc3\xa9' > u.txt
	run --separate-stderr bpe-encode -q -m c.tkz -o u.tok u.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: u.txt: byte 9: character U+00E9 is not in the model"
	[ ! -e u.tok ]
}

@test "bpe-encode: pathological inputs take linear time: a million spaces, a million ^, a 1 MB word" {
	head -c 1000000 /dev/zero | tr '\0' ' ' > sp.txt
	head -c 1000000 /dev/zero | tr '\0' '^' > caret.txt
	head -c 3000000 /dev/urandom | tr -dc 'a-z' | head -c 1000000 > word.txt
	for f in sp.txt caret.txt word.txt; do
		timeout 20 bpe-encode -q -m "$GPT2TKZ" -o x.tok $f
		bpe-encode -q -d x.tok | cmp - $f
	done
	assert_equal "$(bpe-encode -q -m "$GPT2TKZ" --ids caret.txt | wc -w)" 250000
}

# bats test_tags=slow
@test "bpe-encode: a 10 MB word and 10 million spaces" {
	head -c 30000000 /dev/urandom | tr -dc 'a-z' | head -c 10000000 > word.txt
	head -c 10000000 /dev/zero | tr '\0' ' ' > sp.txt
	for f in word.txt sp.txt; do
		timeout 120 bpe-encode -q -m "$GPT2TKZ" -o x.tok $f
		bpe-encode -q -d x.tok | cmp - $f
	done
}

@test "bpe-encode: usage errors exit 2" {
	run --separate-stderr bpe-encode --bogus
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "bpe-encode: unknown option '--bogus'"
	run --separate-stderr bpe-encode < /dev/null
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "bpe-encode: a model is needed: -m file or --gpt2 dir"
	run -2 bpe-encode -m a --gpt2 b
	run -2 bpe-encode -m "$GPT2TKZ" --level 0
	run -2 bpe-encode -m "$GPT2TKZ" -j 257
	run -2 bpe-encode -m "$GPT2TKZ" --separator ''
	run -2 bpe-encode -m "$GPT2TKZ" --separator 'a\q'
	run -2 bpe-encode -m "$GPT2TKZ" --separator '\x4'
	run -2 bpe-encode -d -j 2
	run -2 bpe-encode -d --ids < /dev/null
	run -2 bpe-encode -m
}

@test "bpe-encode: a corrupt, truncated or missing model is named, exit 1, no output" {
	run --separate-stderr bpe-encode -m nothere.tkz -o out.tok /dev/null
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: nothere.tkz: No such file or directory"
	head -c 1000 "$TS" > m.tkz
	run --separate-stderr bpe-encode -m m.tkz -o out.tok /dev/null
	assert_failure 1
	assert_output ""
	[[ "$stderr" == "bpe-encode: m.tkz: "*"magic"* ]]
	size=$(wc -c < "$GPT2TKZ")
	for n in 0 8 16 31 100 1000 100000 $((size - 1)); do
		head -c $n "$GPT2TKZ" > t.tkz
		run --separate-stderr bpe-encode -q -m t.tkz -o out.tok /dev/null
		assert_failure 1
		[[ "$stderr" == "bpe-encode: t.tkz: "* ]]
	done
	for off in 5 20 40 2000 200000; do
		cp "$GPT2TKZ" f.tkz
		printf '\x55' | dd of=f.tkz bs=1 seek=$off conv=notrunc status=none
		run --separate-stderr bpe-encode -q -m f.tkz -o out.tok /dev/null
		assert_failure 1
	done
	{ cat "$GPT2TKZ"; printf x; } > extra.tkz
	run --separate-stderr bpe-encode -q -m extra.tkz /dev/null
	assert_failure 1
	[[ "$stderr" == *"stray bytes after the tokenizer"* ]]
	[ ! -e out.tok ]
	ls -a | { ! grep -q '^\.out\.tok\.'; }
}

@test "bpe-encode: corrupt GPT-2 files are named with what is wrong" {
	mkdir g
	run --separate-stderr bpe-encode --gpt2 g /dev/null
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: g/encoder.json: No such file or directory"
	cp "$G/encoder.json" g/
	sed 's/^Ġ t$/Ġ zqzq/' "$G/vocab.bpe" > g/vocab.bpe
	run --separate-stderr bpe-encode --gpt2 g /dev/null
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: g/vocab.bpe: line 2: 'zqzq' is not in encoder.json"
	sed 's/^Ġ t$/Ġ tx/' "$G/vocab.bpe" > g/vocab.bpe
	run --separate-stderr bpe-encode --gpt2 g /dev/null
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: g/vocab.bpe: line 2: merges a token not made by an earlier line"
	cp "$G/vocab.bpe" g/
	printf '{"!": 0, "a" 1}' > g/encoder.json
	run --separate-stderr bpe-encode --gpt2 g /dev/null
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: g/encoder.json: byte 13: expected ':'"
	head -c 5000 "$G/encoder.json" > g/encoder.json
	run --separate-stderr bpe-encode --gpt2 g /dev/null
	assert_failure 1
	[[ "$stderr" == "bpe-encode: g/encoder.json: "* ]]
}

@test "bpe-encode: decoding errors: unknown ids, not ids, no model, not a stream, truncated" {
	run --separate-stderr bpe-encode -q -d -m "$GPT2TKZ" --ids <<<"15496 50257"
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: <stdin>: line 1: token 50257 is outside the vocabulary of 50257"
	run --separate-stderr bpe-encode -q -d -m "$GPT2TKZ" --ids <<<$'1 2\n3 x'
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: <stdin>: line 2, column 3: 'x' is not part of a token id"
	printf 'hello' | bpe-encode -q -m "$GPT2TKZ" --no-embed -o bare.tok
	run --separate-stderr bpe-encode -q -d bare.tok
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: bare.tok: the stream carries no tokenizer: give one with -m or --gpt2"
	run --separate-stderr bpe-encode -q -d -m "$GPT2TKZ" bare.tok
	assert_success
	assert_output "hello"
	bpe-train -q --chars -o c.tkz "$TS"
	run --separate-stderr bpe-encode -q -d -m c.tkz bare.tok
	assert_failure 1
	[[ "$stderr" == "bpe-encode: bare.tok: token "*" is outside the vocabulary of 65" ]]
	run --separate-stderr bpe-encode -q -d <<<"15496 995"
	assert_failure 1
	[[ "$stderr" == "bpe-encode: <stdin>: "*"(decimal ids need --ids)" ]]
	bpe-encode -q -m "$GPT2TKZ" -o ts.tok "$TS"
	head -c 400000 ts.tok > cut.tok
	run --separate-stderr bpe-encode -q -d -o out.txt cut.tok
	assert_failure 1
	[[ "$stderr" == "bpe-encode: cut.tok: "* ]]
	[ ! -e out.txt ]
}

@test "bpe-encode: a full disk and a closed pipe" {
	run --separate-stderr bash -c "bpe-encode -q -m '$GPT2TKZ' --ids '$TS' > /dev/full"
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: <stdout>: write error: No space left on device"
	run bash -c "set -o pipefail; bpe-encode -q -m '$GPT2TKZ' --ids '$TS' | head -c 10 > /dev/null"
	assert_failure 141
	bpe-encode -q -m "$GPT2TKZ" --ids "$TS" > ts.ids
	run bash -c "set -o pipefail; bpe-encode -q -d -m '$GPT2TKZ' --ids ts.ids | head -c 10 > /dev/null"
	assert_failure 141
}

# bats test_tags=no-asan
@test "bpe-encode: too little memory for a piece that cannot be cut is an error, not a crash" {
	# no-asan: AddressSanitizer's shadow memory does not fit under ulimit -v
	head -c 60000000 /dev/zero | tr '\0' a > huge.txt
	run --separate-stderr bash -c "ulimit -v 600000; bpe-encode -q -m '$GPT2TKZ' -o out.tok huge.txt"
	assert_failure 1
	[[ "$stderr" == "bpe-encode: huge.txt: out of memory"* ]]
	[ ! -e out.tok ]
}

@test "bpe-encode: --to-ids shows any stream's records and masks, --from-ids writes them back" {
	adder-gen -q --digits 1 --split test -o t.tok
	run --separate-stderr bpe-encode -v --to-ids t.tok
	assert_success
	assert_equal "${#lines[@]}" 20
	assert_line --index 0 "(9) (2) 1 1"
	assert_equal "$stderr" "bpe-encode: wrote 80 token ids in 20 records"
	# the same as the independent reader prints
	assert_equal "$output" "$($MGREAD --ids t.tok)"
	bpe-encode -q --to-ids t.tok | bpe-encode -q --from-ids --vocab 10 -o back.tok
	run $MGREAD --dump back.tok
	assert_output "tokens vocab=10 width=2 layout=examples mask=1 record_len=0 n=80 records=20 sum=$(sed -n 's/.*sum=\([0-9]*\).*/\1/p' <<<"$($MGREAD --dump t.tok)") masked=40"
	assert_equal "$(bpe-encode -q --to-ids back.tok)" "$(bpe-encode -q --to-ids t.tok)"
	# a stream layout is one line; documents one line each
	printf 'hello world' > h.txt
	bpe-encode -q --gpt2 "$ROOT/tests/data/gpt2" -o h.tok h.txt
	run bpe-encode -q --to-ids h.tok
	assert_output "31373 995"
	printf '1 2\n3\n' | bpe-encode -q --from-ids --vocab 5 --layout documents -o d.tok
	run $MGREAD --dump d.tok
	assert_output "tokens vocab=5 width=2 layout=documents mask=0 record_len=0 n=3 records=2 sum=6 masked=3"
	# with a model, it is embedded and -d can decode the result
	echo '31373 995' | bpe-encode -q --from-ids --gpt2 "$ROOT/tests/data/gpt2" | bpe-encode -q -d > back.txt
	assert_equal "$(cat back.txt)" "hello world"
}

@test "bpe-encode: --to-ids and --from-ids errors" {
	run --separate-stderr bpe-encode --from-ids < /dev/null
	assert_failure 2
	[[ "$stderr" == "bpe-encode: --from-ids needs the vocabulary: --vocab n, -m file or --gpt2 dir"* ]]
	printf '1 (2\n' > open.txt
	run --separate-stderr bpe-encode -q --from-ids --vocab 10 -o x.tok open.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: open.txt: line 1, column 5: '(' must hold one id and a ')'"
	[ ! -e x.tok ]
	printf '1 (2)\n(12)\n' > big.txt
	run --separate-stderr bpe-encode -q --from-ids --vocab 10 -o x.tok big.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: big.txt: line 2: token 12 is outside the vocabulary of 10"
	# an id over 2^32-1 as written, not clamped; a longer one by its digits
	printf '1 4294967296\n' > huge-id.txt
	run --separate-stderr bpe-encode -q --from-ids --vocab 10 -o x.tok huge-id.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: huge-id.txt: line 1: token 4294967296 is outside the vocabulary of 10"
	printf '2\n18446744073709551616123 3\n' > huge-id.txt
	run --separate-stderr bpe-encode -q --from-ids --vocab 10 -o x.tok huge-id.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: huge-id.txt: line 2: token 18446744073709551616... (23 digits) is outside the vocabulary of 10"
	[ ! -e x.tok ]
	run --separate-stderr bpe-encode --to-ids -m model.tkz
	assert_failure 2
	[[ "$stderr" == "bpe-encode: --to-ids takes no model, --no-embed or --level"* ]]
	printf 'text' > h.txt
	run --separate-stderr bpe-encode -q --to-ids h.txt
	assert_failure 1
	assert_equal "$stderr" "bpe-encode: h.txt: bad magic at byte 0: text, not a token stream"
	run --separate-stderr bpe-encode --to-ids --from-ids
	assert_failure 2
	run --separate-stderr bpe-encode --vocab 3 -m x
	assert_failure 2
	[[ "$stderr" == "bpe-encode: --vocab and --layout go with --from-ids"* ]]
	run --separate-stderr bpe-encode --from-ids --vocab 3 --layout pages
	assert_failure 2
}

@test "bpe-encode: the summary only with -v (a short run in a pipe is silent), none with -q; -q -v is a usage error" {
	printf 'hello world\n' > h.txt
	bpe-train -q --chars -o c.tkz h.txt
	run --separate-stderr bpe-encode -m c.tkz -o h.tok h.txt
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr bpe-encode -q -m c.tkz -o h.tok h.txt
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr bpe-encode -v -m c.tkz -o h.tok h.txt
	assert_success
	[[ "$stderr" == "bpe-encode: encoded 12 bytes into 12 tokens (1.00 bytes per token) in "*" s, "*" MB/s" ]]
	run --separate-stderr bpe-encode -v -d -o back.txt h.tok
	assert_success
	assert_equal "$stderr" "bpe-encode: decoded 12 tokens into 12 bytes"
	cmp back.txt h.txt
	adder-gen -q --digits 1 --test 1 --split test -o one.tok
	run --separate-stderr bpe-encode -v --to-ids -o ids.txt one.tok
	assert_success
	assert_equal "$stderr" "bpe-encode: wrote 4 token ids in 1 record"
	run --separate-stderr bpe-encode -q -v -m c.tkz h.txt
	assert_failure 2
	assert_equal "$stderr" "bpe-encode: -q and -v are exclusive
Try 'bpe-encode --help' for more information."
}

@test "bpe-encode: -d and --to-ids refuse a terminal on stdin; encoding reads text from it" {
	run --separate-stderr tty_stdin bpe-encode -d
	assert_failure 2
	assert_equal "$stderr" "bpe-encode: will not read a token stream from a terminal: give a file, or pipe one in
Try 'bpe-encode --help' for more information."
	adder-gen -q --digits 1 -o t.tok
	run --separate-stderr tty_stdin bpe-encode --to-ids t.tok -
	assert_failure 2
	assert_output ""
	[[ "$stderr" == "bpe-encode: will not read a token stream from a terminal"* ]]
}
