# Shared setup for the bats tests: tools from ./bin (or $MYGPT_BIN), bats-assert, a scratch
# folder per test. Load with: load helpers
bats_load_library bats-support 2>/dev/null || load '/usr/lib/bats/bats-support/load'
bats_load_library bats-assert 2>/dev/null || load '/usr/lib/bats/bats-assert/load'

bats_require_minimum_version 1.5.0

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
# the tools and test programs of this build (make check-asan names others)
BIN="${MYGPT_BIN:-$ROOT/bin}"
BUILD="${MYGPT_BUILD:-$ROOT/build}"
export PATH="$BIN:$PATH"
export LC_ALL=C.UTF-8
MGREAD="/usr/bin/python3 $ROOT/tests/formats/mgread.py"

setup() {
	cd "$BATS_TEST_TMPDIR" || exit 1
}

# The SYNOPSIS of a man page, whitespace collapsed, as "usage: ..." lines
# would read: for comparing with --help.
man_synopsis() {
	mandoc -Tutf8 "$ROOT/man/$1" | col -b | awk '/^SYNOPSIS/{s=1;next} /^[A-Z]/{s=0} s' | tr '\t\n' '  ' | tr -s ' ' | sed 's/^ //; s/ $//'
}
help_synopsis() {
	"$@" --help | awk 'NR==1 || s {print} /^$/ {exit} {s=1}' | sed 's/^usage: //; s/^       //' | tr '\t\n' '  ' | tr -s ' ' | sed 's/^ //; s/ $//'
}

# Values of a checkpoint's training state: trai FILE KEY... prints them on
# one line ("-" for a missing key, "none" without a TRAI chunk).
trai() {
	/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
ck = mgread.read_checkpoint(sys.argv[2])
if ck.train is None:
    print("none"); sys.exit(0)
print(" ".join(str(ck.train.get(k, "-")) for k in sys.argv[3:]))
' "$ROOT/tests/formats" "$@"
}

# Runs a command with a pseudo-terminal as its stdin (stdout and stderr
# unchanged) and exits with its status: for the tools' refusal to read
# binary data from a terminal.
tty_stdin() {
	/usr/bin/python3 -c '
import os, pty, subprocess, sys
m, s = pty.openpty()
sys.exit(subprocess.run(sys.argv[1:], stdin=s).returncode)' "$@"
}
