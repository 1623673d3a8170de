#!/usr/bin/env bats
# The corruption sweep (tests/formats/sweep.py): thousands of seeded mutants
# of each format fed to the tools that read them and to mygpt-info, judged
# against mgread.py.
load helpers

SWEEP="/usr/bin/python3 $ROOT/tests/formats/sweep.py"

# bats test_tags=slow
@test "sweep: every mutant is read as mgread reads it, within the memory bound" {
	run --separate-stderr $SWEEP "$ROOT/bin" work
	echo "$output"
	assert_success
	assert_line "sweep: ok: 0 problem(s)"
	for kind in tokens tokenizer checkpoint; do
		n=$(sed -n "s/^sweep: $kind: \([0-9]*\) mutants.*/\1/p" <<<"$output")
		[ "${n:-0}" -ge 1500 ] || { echo "$kind: ${n:-no} mutants"; return 1; }
	done
}

# bats test_tags=slow
@test "sweep: a tool that accepts a corrupt stream fails the sweep" {
	mkdir bin
	for t in adder-gen bpe-train gpt-init gpt-train gpt-sample mygpt-info; do ln -s "$ROOT/bin/$t" bin/$t; done
	# bpe-encode that takes every stream for a good one
	printf '#!/bin/sh\n[ "$1" = --to-ids ] && exit 0\nexec %s "$@"\n' "$ROOT/bin/bpe-encode" > bin/bpe-encode
	chmod +x bin/bpe-encode
	run --separate-stderr $SWEEP --only tokens --scale 0.1 bin work
	assert_failure 1
	assert_line --regexp '^sweep: FAIL text\.tok:cut-[0-9]+: the tool accepts what mgread rejects'
	assert_line --regexp '^sweep: FAIL: [0-9]+ problem\(s\)$'
}
