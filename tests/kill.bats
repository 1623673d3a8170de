#!/usr/bin/env bats
# kill -9 in the middle of a save (make check-slow): gpt-train --save-every 1
# killed at 20 seeded-random moments, the first save among them, always
# inside the writing of a checkpoint. The file on disk is absent or a whole
# checkpoint of the step before, the run resumes from it byte-identically
# to an uninterrupted one, and the next run removes the temporary file the
# kill left. The moment is chosen with lib/io/outfile.h's test hook
# (MYGPT_TEST_OUTFILE_KILL="N:K": SIGKILL once K bytes of the N-th
# checkpoint are written, or just before its rename), so nothing depends on
# timing.
load helpers

MGCHECK="$BUILD/tests/tools/mgcheck"
ITERS=12

setup_file() {
	cd "$BATS_FILE_TMPDIR" || exit 1
	export PATH="$BIN:$PATH"
	bpe-train -q --chars -o chars.tkz "$ROOT/examples/data/tinyshakespeare.txt"
	head -c 20000 "$ROOT/examples/data/tinyshakespeare.txt" | bpe-encode -q -m chars.tkz -o text.tok
	gpt-init -q --layers 2 --heads 4 --embd 32 --block 32 --dropout 0.1 --data text.tok -o init.ckpt
}

F() { echo "$BATS_FILE_TMPDIR/$1"; }

train() { gpt-train -q -j 1 --data "$(F text.tok)" --iters $ITERS --batch 2 --final-tokens 768 --save-every 1 "$@"; }

# bats test_tags=slow
@test "kill: kill -9 during a save leaves no partial file; the run resumes byte-identically; the next run cleans up" {
	train -o ref.ckpt "$(F init.ckpt)"
	size=$(stat -c %s ref.ckpt)
	RANDOM=337
	for round in $(seq 20); do
		# the save (= the step) and the byte it dies at; the first round
		# dies in the first save, one just before a rename, one as soon
		# as the temporary file exists
		n=$((1 + RANDOM % ITERS))
		k=$(( (RANDOM * 32768 + RANDOM) % (size + 1) ))
		[ "$round" -eq 1 ] && n=1
		[ "$round" -eq 2 ] && k=$((size + 1))
		[ "$round" -eq 3 ] && k=0
		rm -f run.ckpt
		st=0
		MYGPT_TEST_OUTFILE_KILL="$n:$k" train -o run.ckpt "$(F init.ckpt)" || st=$?
		[ "$st" -eq 137 ] || { echo "round $round ($n:$k): status $st"; return 1; }
		# the kill left its temporary file
		run compgen -G '.run.ckpt.mygpt-*'
		[ "${#lines[@]}" -eq 1 ] || { echo "round $round: temporary files: $output"; return 1; }
		if [ "$n" -eq 1 ]; then
			[ ! -e run.ckpt ] || { echo "round $round: run.ckpt exists"; return 1; }
			from="$(F init.ckpt)"
		else
			"$MGCHECK" run.ckpt > /dev/null
			run $MGREAD --dump run.ckpt
			assert_success
			assert_output --regexp "^checkpoint keys=13 train=[0-9]+ tokenizer=chars "
			[ "$(trai run.ckpt step)" -eq $((n - 1)) ] || { echo "round $round: step $(trai run.ckpt step)"; return 1; }
			from=run.ckpt
		fi
		train -o run.ckpt "$from"
		cmp ref.ckpt run.ckpt
		run ls -A
		assert_output "ref.ckpt
run.ckpt"
		echo "round $round: killed in save $n at byte $k of $size; resumed from step $((n - 1))" >&3
	done
}
