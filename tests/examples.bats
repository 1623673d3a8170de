#!/usr/bin/env bats
# The examples at their tiny size, so that they never rot: each runs its
# whole pipeline and writes its results table and pictures.
load helpers

run_example() {
	run make -C "$ROOT/examples/$1" OUT="$BATS_TEST_TMPDIR/out" BIN="$BIN" THREADS=2
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	# a PNG picture
	for p in "${@:2}"; do
		[ "$(head -c 8 "$BATS_TEST_TMPDIR/out/$p" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
			{ echo "$p is not a PNG"; return 1; }
	done
}

@test "examples: adder (tiny) trains, completes the prompts and scores them" {
	run_example adder loss.png
	run cat out/results.md
	assert_line --index 0 "| digits | model | training | exact match | training time |"
	assert_line --index 2 --regexp '^\| 2 \| 2L 4H 128 \| --iters 150 --batch 128 --lr 2e-3 \| [0-9]+/500 = [0-9.]+% \| [0-9]+ s \|$'
	run cat out/2/score.txt
	assert_line --regexp '^exact match: [0-9]+/500 = '
}

@test "examples: shakespeare-char (tiny) trains, evaluates and samples" {
	run_example shakespeare-char loss.png
	run cat out/results.md
	assert_line --index 2 --regexp '^\| 4 layers, 4 heads, 128 wide, block 64 \| 60 \| 12 \| [0-9.]+ \(16384 targets\) \| [0-9.]+ s \|$'
	assert_equal "$(head -c 6 out/sample.txt)" "ROMEO:"
	assert_equal "$(wc -c < out/sample.txt)" "$(( $(bpe-encode -q -m out/chars.tkz --ids out/sample.txt | wc -w) ))"
}

@test "examples: time-weighting (tiny) compares the four variants" {
	run_example time-weighting val.png
	run cat out/results.md
	assert_line --index 2 --regexp '^\| vanilla \| 17,952 \| [0-9.]+ \| [0-9.]+ \| [0-9]+ s \|$'
	assert_line --index 3 --regexp '^\| time-weighting \| 20,000 \| '
	assert_line --index 4 --regexp '^\| circulant \| 18,080 \| '
	assert_line --index 5 --regexp '^\| time-shift \| 17,952 \| '
}

@test "examples: shakespeare-bpe (tiny) learns merges, trains and reports loss per character" {
	run_example shakespeare-bpe loss.png
	run cat out/results.md
	assert_line --index 2 --regexp '^\| 512 \| [0-9]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ s \|$'
	run bpe-encode -q -d out/val.tok
	assert_equal "$output" "$(cat out/val.txt)"
}
