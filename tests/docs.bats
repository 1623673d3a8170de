#!/usr/bin/env bats
# The documentation's commands: the check-docs extractor (make check-docs
# runs every block; here its parsing, its comments and its verdicts), the
# README's first commands, make install, mygpt-plot-loss and the summary
# the examples end with.
load helpers

CHECK_DOCS="/usr/bin/python3 $ROOT/tests/docs/check-docs.py"

@test "docs: every page's EXAMPLES and the README parse into blocks, and every shrinking comment applies" {
	run $CHECK_DOCS -l
	assert_success
	for p in "$ROOT"/man/*.1 "$ROOT"/man/mygpt.7; do
		n=${p#"$ROOT"/}
		echo "$output" | grep -q "^--- $n:" || { echo "$n: no example block"; return 1; }
	done
	# the roff escapes are undone: a line continuation is a backslash
	echo "$output" | grep -q -- '--dropout 0 \\$'
	! echo "$output" | grep -q '\\e'
	# long examples run shrunk
	echo "$output" | grep -q -- '--iters 20 --batch 12'
	! echo "$output" | grep -q -- '--device cuda'
}

@test "docs: check-docs runs each block in order in one folder, applies its comments, and fails on a failing block" {
	mkdir man
	cat > man/x.1 <<'PAGE'
.Sh DESCRIPTION
.Bd -literal
false
.Ed
.Sh EXAMPLES
.Bd -literal -offset indent
printf '%s\en' 'a\eb' > a.txt
test -s shakespeare.txt && test -f gpt2/encoder.json
.Ed
.\" check-docs: sleep 999 => true
.Bd -literal
sleep 999
.Ed
.Dl grep -qxF 'a\eb' a.txt && adder-gen --help | head -1
.\" check-docs: skip the reason
.Bd -literal
false
.Ed
.Bd -literal
false | cat
.Ed
.Sh SEE ALSO
PAGE
	run $CHECK_DOCS man/x.1
	assert_failure 1
	assert_line --index 0 --regexp '^ok   man/x.1:6 '
	assert_line --index 1 --regexp '^ok   man/x.1:11 '
	assert_line --index 2 --regexp '^ok   man/x.1:14 '
	assert_line --index 3 'skip man/x.1:16: the reason'
	assert_line --index 4 --regexp '^FAIL man/x.1:19 \([0-9.]+ s\): exit status 1$'
	assert_line --index 5 '    false | cat'
	assert_line --regexp '^check-docs: 4 blocks run, 1 failed, 1 skipped, '
	# a comment whose text is not in its block is an error, not a silent pass
	printf '.Sh EXAMPLES\n.\\" check-docs: --iters 9 => --iters 1\n.Dl true\n' > man/y.1
	run --separate-stderr $CHECK_DOCS man/y.1
	assert_failure 1
	assert_equal "$stderr" "man/y.1:3: check-docs: '--iters 9' is not in the block"
	# README blocks: ```sh fences and HTML comments
	printf '# t\n\n<!-- check-docs: 3 => 0 -->\n```sh\nexit 3\n```\n\n```\nfalse\n```\n' > R.md
	run $CHECK_DOCS R.md
	assert_success
	assert_line --index 0 --regexp '^ok   R.md:4 '
	assert_line --index 1 --regexp '^check-docs: 1 blocks run, 0 failed, 0 skipped'
}

@test "docs: the README starts with the two commands of a new user, make demo and make check" {
	run sh "$ROOT/tests/docs/readme-first.sh" "$ROOT/README.md"
	assert_success
	assert_equal "$output" "make demo
make check"
	# before the first command that needs the tools on PATH, the README says how
	first_tool=$(grep -n '^bpe-train \|^adder-gen \|^gpt-' "$ROOT/README.md" | head -1 | cut -d: -f1)
	path_line=$(grep -n '^export PATH=\$PWD/bin:\$PATH$' "$ROOT/README.md" | head -1 | cut -d: -f1)
	install_line=$(grep -n '^make install PREFIX=~/.local$' "$ROOT/README.md" | head -1 | cut -d: -f1)
	[ -n "$path_line" ] && [ -n "$install_line" ] && [ "$path_line" -lt "$first_tool" ] && [ "$install_line" -lt "$first_tool" ]
}

@test "docs: make install puts the tools, mygpt-plot-loss and every manual page under DESTDIR" {
	# -o all: install what the build made, whatever flags it was made with
	# (a build without the CUDA module was made with CUDA=0)
	cuda=; [ -e "$ROOT/build/lib/mygpt-cuda.so" ] || cuda=CUDA=0
	run make -C "$ROOT" -o all install DESTDIR="$BATS_TEST_TMPDIR/d" PREFIX=/p $cuda
	assert_success
	for t in adder-gen bpe-encode bpe-train gpt-convert gpt-init gpt-sample gpt-train mygpt-info mygpt-plot-loss; do
		[ -x "d/p/bin/$t" ] || { echo "no d/p/bin/$t"; return 1; }
	done
	for m in "$ROOT"/man/*.[157]; do
		n=$(basename "$m")
		cmp "$m" "d/p/share/man/man${n##*.}/$n"
	done
	run d/p/bin/mygpt-plot-loss --help
	assert_success
	assert_line --index 0 "usage: mygpt-plot-loss out.png title column[,column ...] log=label ..."
}

@test "docs: mygpt-plot-loss draws a gpt-train log; -h matches its page; bad logs and usage fail" {
	adder-gen -q --digits 1 -o t.tok
	gpt-init -q --layers 1 --heads 1 --embd 8 --block 4 --data t.tok |
		gpt-train -q --data t.tok --val-split 0.2 --iters 6 --batch 8 --eval-every 3 --log-every 1 -j 1 --log run.tsv -o m.ckpt
	run --separate-stderr mygpt-plot-loss loss.png 'a run' train_loss,val_loss run.tsv=
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(head -c 8 loss.png | od -An -tx1 | tr -d ' ')" 89504e470d0a1a0a
	# the synopsis of the page is the usage line
	assert_equal "$(mygpt-plot-loss -h | head -1 | sed 's/^usage: //')" "$(man_synopsis mygpt-plot-loss.1)"
	run --separate-stderr mygpt-plot-loss x.png t val_los run.tsv=a
	assert_failure 1
	assert_equal "$stderr" "mygpt-plot-loss: run.tsv: no column val_los"
	run --separate-stderr mygpt-plot-loss x.png t val_loss missing.tsv=a
	assert_failure 1
	assert_equal "$stderr" "mygpt-plot-loss: missing.tsv: no such log"
	run --separate-stderr mygpt-plot-loss x.png t
	assert_failure 2
	run --separate-stderr mygpt-plot-loss -x
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "mygpt-plot-loss: unknown option '-x'"
	[ ! -e x.png ]
}

@test "docs: an example's run ends with where its outputs are and its results, also when nothing was rebuilt" {
	for i in 1 2; do
		run make -C "$ROOT/examples/shakespeare-char" OUT="$BATS_TEST_TMPDIR/out" BIN="$BIN" THREADS=2
		assert_success
		assert_line "shakespeare-char (tiny): the outputs are"
		assert_line "  $BATS_TEST_TMPDIR/out/results.md"
		assert_line "  $BATS_TEST_TMPDIR/out/loss.png"
		assert_line "  $BATS_TEST_TMPDIR/out/sample.txt"
		assert_line --regexp '^\| 4 layers, 4 heads, 128 wide, block 64 \| 60 \| 12 \| '
		assert_line "the start of $BATS_TEST_TMPDIR/out/sample.txt:"
	done
	refute_output --partial "Nothing to be done"
}

@test "docs: the tree names the reference MyGPT and speaks of goals, never of its old names" {
	# the patterns are bracketed so that this file does not match itself
	run grep -rniE -e 'the i[s]sue' -e "i[s]sue's" -e "s[e]ed's DataLoader" -e 'the s[e]ed project' -e "the s[e]ed's" \
		--exclude-dir=.git --exclude-dir=build --exclude-dir=bin --exclude-dir=out \
		--exclude=tinyshakespeare.txt --exclude-dir=data "$ROOT"
	assert_output ""
}
