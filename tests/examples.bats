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

# width and height of a PNG, from its IHDR chunk
png_size() {
	local h
	h=$(od -An -tx1 -j16 -N8 "$1" | tr -d ' \n')
	echo "$((16#${h:0:8}))x$((16#${h:8:8}))"
}

# the value of KEY in mygpt-info -k FILE
info_key() {
	mygpt-info -k "$1" | awk -F'\t' -v k="$2" '$1 == k { print $2 }'
}

@test "examples: image (tiny) fits a palette, trains, samples and completes held-out images" {
	run_example image loss.png samples.png completions.png
	run cat out/results.md
	assert_line --index 0 "| images (train, test) | colours | model | parameters | steps x batch | test loss (nats per token) | training time |"
	assert_line --index 2 --regexp '^\| 64, 16 \| 16 \| layers 1, heads 2, width 32, block 1023, circulant \| 50,620 \| 8 x 4 \| [0-9]+\.[0-9]{6} \| [0-9]+ s \|$'
	[ "${#lines[@]}" -eq 3 ]
	run cat out/test-loss.txt
	assert_output --regexp '^val loss [0-9]+\.[0-9]{6} over 16368 targets$'
	assert_equal "$(info_key out/palette.tkz colors)" 16
	# 4 x 8 samples and 8 rows of the held-out image and 3 completions,
	# each image 64 pixels square (scale 2) with 2-pixel borders
	assert_equal "$(png_size out/samples.png)" 530x266
	assert_equal "$(png_size out/completions.png)" 266x530
	assert_equal "$(info_key out/samples.tok records)" 32
	assert_equal "$(info_key out/samples.tok record_len)" 1024
	assert_equal "$(info_key out/prompts.tok records)" 8
	assert_equal "$(info_key out/prompts.tok record_len)" 512
	for c in 1 2 3; do
		assert_equal "$(info_key out/completions-$c.tok records)" 8
		assert_equal "$(info_key out/completions-$c.tok record_len)" 1024
		# the 512 bottom-half pixels of every prompt are generated
		assert_equal "$(info_key out/completions-$c.tok targets)" 4096
		# and the top halves are those of the first 8 test images, not generated
		run cmp <($MGREAD --ids out/completions-$c.tok | cut -d' ' -f1-512) \
			<($MGREAD --ids out/test.tok | head -n 8 | cut -d' ' -f1-512 | sed 's/[0-9][0-9]*/(&)/g')
		[ "$status" -eq 0 ]
	done
	run ! cmp -s out/completions-1.tok out/completions-2.tok
}
