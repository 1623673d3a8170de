#!/usr/bin/env bats
# The manual: every page lints clean, every tool has a page whose SYNOPSIS
# is what --help prints.
load helpers

@test "man: every page is clean under mandoc -Tlint -Wwarning" {
	run mandoc -Tlint -Wwarning "$ROOT"/man/*.[157]
	assert_success
	assert_output ""
}

@test "man: every tool has a section-1 page and --help equals its SYNOPSIS" {
	for c in "$ROOT"/cmd/*.c; do
		t=$(basename "$c" .c)
		[ -f "$ROOT/man/$t.1" ] || { echo "no man/$t.1"; return 1; }
		[ -x "$BIN/$t" ] || { echo "no bin/$t"; return 1; }
		[ "$(help_synopsis "$t")" = "$(man_synopsis "$t.1")" ] || {
			echo "$t: --help: $(help_synopsis "$t")"
			echo "$t: man:    $(man_synopsis "$t.1")"
			return 1
		}
	done
}

@test "man: every tool states its exit statuses and has examples" {
	for p in "$ROOT"/man/*.1; do
		grep -q '^\.Sh EXIT STATUS' "$p" || { echo "$p: no EXIT STATUS"; return 1; }
		grep -q '^\.Sh EXAMPLES' "$p" || { echo "$p: no EXAMPLES"; return 1; }
	done
}

# Reads rendered text on stdin; prints each defect with its line: a stray
# "\ " (an escape mandoc printed as text), an empty "" pair, curly quotes
# nested or unbalanced (".Dq a , Dq b" renders as a quote inside a quote).
rendered_defects() {
	/usr/bin/python3 -c '
import sys
name = sys.argv[1]
t = sys.stdin.read()
for i, l in enumerate(t.splitlines(), 1):
    if "\\ " in l: print(f"{name}:{i}: stray backslash-space: {l.strip()}")
    if "\"\"" in l: print(f"{name}:{i}: empty quotes: {l.strip()}")
for o, c in (("\u201c", "\u201d"), ("\u2018", "\u2019")):
    depth, line = 0, 1
    for ch in t:
        if ch == "\n": line += 1
        elif ch == o:
            if depth: print(f"{name}:{line}: nested {o}")
            depth += 1
        elif ch == c:
            if not depth: print(f"{name}:{line}: {c} without {o}")
            depth = max(depth - 1, 0)
    if depth: print(f"{name}: {o} never closed")
' "$1"
}

@test "man: the rendered pages (mandoc and man -l) have no stray escapes, empty or nested quotes" {
	for p in "$ROOT"/man/*.[157]; do
		n=$(basename "$p")
		mandoc -Tutf8 "$p" | col -b | rendered_defects "mandoc $n"
		MANWIDTH=80 man -l "$p" 2>&1 | col -b | rendered_defects "man -l $n"
	done > defects.txt
	run cat defects.txt
	assert_output ""
}

@test "man: the defect check finds what it is for" {
	printf '.Dd May 1, 2026\n.Dt X 1\n.Os\n.Sh NAME\n.Nm x\n.Nd y\n.Sh DESCRIPTION\n.Pq Dq a , Dq b No or Dq c ,\n.Sq \\e x89MG\n.Pp\n""\n' > x.1
	run bash -c "mandoc -Tutf8 x.1 | col -b"
	run rendered_defects x.1 <<< "$output"
	assert_line --partial "stray backslash-space"
	assert_line --partial "empty quotes"
	assert_line --partial "nested"
}

@test "man: the schedules and the magics are spelt out in the rendered pages" {
	run bash -c "mandoc -Tutf8 '$ROOT/man/mygpt-checkpoint.5' | col -b | tr -s ' \n' '  '"
	assert_output --partial "lr_schedule (“cosine”, “cosine-min” or “constant”)"
	assert_output --partial "attention (“vanilla”, “time-weighting” or “circulant”)"
	assert_output --partial "magic ‘\\x89MGC\\r\\n\\x1a\\n’"
	run bash -c "mandoc -Tutf8 '$ROOT/man/gpt-train.1' | col -b | tr -s ' \n' '  '"
	assert_output --partial "--lr-schedule cosine-min --beta2 0.99"
}

@test "man: every tool takes the common options -o -f -q -v -h -V, and its page documents -q and -v" {
	for c in "$ROOT"/cmd/*.c; do
		t=$(basename "$c" .c)
		for o in "-o, --output" "-f, --force" "-q, --quiet" "-v, --verbose" "-h, --help" "-V, --version"; do
			"$t" --help | grep -q -- "^  $o " || { echo "$t --help: no $o"; return 1; }
		done
		for o in q v; do
			grep -q "^\.It Fl $o , Fl Fl" "$ROOT/man/$t.1" || { echo "man/$t.1: no -$o"; return 1; }
		done
	done
}
