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
