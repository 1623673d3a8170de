#!/usr/bin/env bats
# adder-gen: the addition dataset and its scoring (man/adder-gen.1).
load helpers

# Every record of a stream as "a b answer" numbers, checked for arithmetic:
# prints the problems and fails on a wrong sum or mask.
check_records() {
	$MGREAD --ids "$1" | /usr/bin/python3 -c '
import sys
n = int(sys.argv[1]); mode = sys.argv[2]
for line in sys.stdin:
    w = line.split()
    if mode == "prompts":
        assert len(w) == 2 * n and not any("(" in x for x in w), line
        print(int("".join(w[:n])), int("".join(w[n:])))
        continue
    assert len(w) == 3 * n + 1, line
    assert all(x.startswith("(") for x in w[:2 * n]) and not any("(" in x for x in w[2 * n:]), line
    d = [int(x.strip("()")) for x in w]
    a = int("".join(map(str, d[:n]))); b = int("".join(map(str, d[n:2 * n])))
    s = int("".join(map(str, reversed(d[2 * n:]))))
    assert a + b == s, line
    print(a, b)
' "$2" "$3"
}

@test "adder-gen: --help prints the man page synopsis, --version the version" {
	run adder-gen --help
	assert_success
	assert_equal "$(help_synopsis adder-gen)" "$(man_synopsis adder-gen.1)"
	run adder-gen --version
	assert_success
	assert_output "adder-gen (mygpt) 0.1.0"
}

@test "adder-gen: the output for a seed is exactly the same every time" {
	run bash -c 'adder-gen -q --digits 2 | sha256sum'
	assert_output "9ef59afef8e598f219cf62b8dc26b1a0d2363987c36cf16d1ec84ca28a0156cd  -"
	run bash -c 'adder-gen -q --digits 1 | sha256sum'
	assert_output "957745ffeb2dddf9d2b87597fbe1cf187e00dd9a97881253ea4ab23669728792  -"
	adder-gen -q --digits 2 --split test -o t.tok
	run $MGREAD --ids t.tok
	assert_line --index 0 "(2) (2) (5) (8) 0 8 0"
	assert_line --index 1 "(7) (1) (3) (8) 9 0 1"
	assert_line --index 2 "(6) (7) (5) (7) 4 2 1"
	adder-gen -q --digits 2 -s 7 --split test -o t7.tok
	run cmp -s t.tok t7.tok
	assert_failure
}

@test "adder-gen: records are a, b and the reversed sum, loss on the answer only" {
	adder-gen -q --digits 1 -o d.tok
	run check_records d.tok 1 records
	assert_success
	assert_equal "${#lines[@]}" 80
	for n in 2 3; do
		adder-gen -q --digits $n --problems 3000 --test 100 -o d.tok
		run check_records d.tok $n records
		assert_success
		assert_equal "${#lines[@]}" 2900
	done
	run $MGREAD --dump d.tok
	assert_output --regexp "^tokens vocab=10 width=2 layout=examples mask=1 record_len=10 n=29000 records=2900 tokenizer=chars "
}

@test "adder-gen: splits have the documented sizes and are disjoint" {
	adder-gen -q --digits 1 -o tr.tok
	adder-gen -q --digits 1 --split test -o te.tok
	run $MGREAD --dump tr.tok
	assert_output --partial "n=320 records=80 "
	run $MGREAD --dump te.tok
	assert_output --partial "n=80 records=20 "
	adder-gen -q --digits 2 -o tr.tok
	adder-gen -q --digits 2 --split test -o te.tok
	check_records tr.tok 2 records > tr.txt
	check_records te.tok 2 records > te.txt
	assert_equal "$(wc -l < tr.txt)" 9500
	assert_equal "$(wc -l < te.txt)" 500
	# together: all 10,000 problems, each once
	assert_equal "$(cat tr.txt te.txt | sort -u | wc -l)" 10000
	adder-gen -q --digits 3 --split test -o te3.tok
	run $MGREAD --dump te3.tok
	assert_output --partial "n=5000 records=500 "
	adder-gen -q --digits 4 --problems 5000 --test 37 --split test -o te4.tok
	run $MGREAD --dump te4.tok
	assert_output --partial "n=481 records=37 "
}

@test "adder-gen: more digits sample distinct problems" {
	adder-gen -q --digits 5 --problems 20000 -o d5.tok
	check_records d5.tok 5 records > p.txt
	assert_equal "$(wc -l < p.txt)" 19500
	assert_equal "$(sort -u p.txt | wc -l)" 19500
	adder-gen -q --digits 9 --problems 50 --test 0 -o d9.tok
	run check_records d9.tok 9 records
	assert_success
	assert_equal "${#lines[@]}" 50
}

@test "adder-gen: prompts are the test questions without a mask" {
	adder-gen -q --digits 2 --prompts -o p.tok
	adder-gen -q --digits 2 --split test -o t.tok
	run $MGREAD --dump p.tok
	assert_output --regexp "layout=examples mask=0 record_len=4 n=2000 records=500 "
	assert_equal "$(check_records p.tok 2 prompts)" "$(check_records t.tok 2 records)"
	adder-gen -q --digits 2 --prompts --split train -o ptr.tok
	run $MGREAD --dump ptr.tok
	assert_output --partial "n=38000 records=9500 "
}

@test "adder-gen: scoring a perfect completion file gives 100%" {
	adder-gen -q --digits 2 --split test -o t.tok
	run --separate-stderr adder-gen --digits 2 --score t.tok
	assert_success
	assert_output "exact match: 500/500 = 100.00%"
	run adder-gen --digits 2 --score < t.tok
	assert_output "exact match: 500/500 = 100.00%"
}

@test "adder-gen: scoring shows mistakes and the accuracy" {
	adder-gen -q --digits 2 --split test -o t.tok
	# change the answer of the first two records, cut the third one short
	$MGREAD --ids t.tok | awk 'NR==1{$5=9} NR==2{$7=5} NR==3{NF=5} {print}' | $MGREAD --write-ids 10 examples > c.tok
	run --separate-stderr adder-gen --digits 2 --score c.tok
	assert_success
	assert_line --index 0 "wrong: 22 + 58 = 80, got 89"
	assert_line --index 1 "wrong: 71 + 38 = 109, got 509"
	assert_line --index 2 "wrong: 67 + 57 = 124, got no 3-digit answer"
	assert_line --index 3 "exact match: 497/500 = 99.40%"
	run adder-gen --digits 2 --score --show 1 c.tok
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 "exact match: 497/500 = 99.40%"
}

@test "adder-gen: completions for other problems are an error" {
	adder-gen -q --digits 2 --split test -s 5 -o other.tok
	run --separate-stderr adder-gen --digits 2 --score other.tok
	assert_failure 1
	assert_equal "$stderr" "adder-gen: other.tok: completion 0 does not start with the prompt of test problem 0 (generated with other options?)"
	adder-gen -q --digits 2 --split test --test 10 -o ten.tok
	run --separate-stderr adder-gen --digits 2 --score ten.tok
	assert_failure 1
	assert_equal "$stderr" "adder-gen: ten.tok: 10 completions for 500 test problems"
	printf '1 2 3\n' | $MGREAD --write-ids 10 stream > s.tok
	run --separate-stderr adder-gen --digits 2 --score s.tok
	assert_failure 1
	assert_equal "$stderr" "adder-gen: s.tok: completions must be records (layout examples), not stream"
}

@test "adder-gen: mistakes before a completion for another problem are printed, then the error" {
	adder-gen -q --digits 2 --split test -o t.tok
	# a wrong answer in record 1, another prompt in record 2
	$MGREAD --ids t.tok | awk 'NR==2{$7=5} NR==3{$1=9} {print}' | $MGREAD --write-ids 10 examples > c.tok
	run --separate-stderr adder-gen --digits 2 --score c.tok
	assert_failure 1
	assert_output "wrong: 71 + 38 = 109, got 509"
	assert_equal "$stderr" "adder-gen: c.tok: completion 2 does not start with the prompt of test problem 2 (generated with other options?)"
}

@test "adder-gen: unreadable and corrupt completion files are errors" {
	run --separate-stderr adder-gen --score missing.tok
	assert_failure 1
	assert_equal "$stderr" "adder-gen: missing.tok: No such file or directory"
	mkdir dir.tok
	run --separate-stderr adder-gen --score dir.tok
	assert_failure 1
	assert_equal "$stderr" "adder-gen: dir.tok: read error at byte 0: Is a directory"
	adder-gen -q --digits 2 --split test -o t.tok
	head -c 300 t.tok > cut.tok
	run --separate-stderr adder-gen --digits 2 --score cut.tok
	assert_failure 1
	assert_output ""
	[[ "$stderr" == "adder-gen: cut.tok: truncated chunk 'DATA' (starts at byte "* ]]
	run --separate-stderr adder-gen --digits 2 --score "$ROOT/formats/vectors/good/bpe.tkz"
	assert_failure 1
	assert_equal "$stderr" "adder-gen: $ROOT/formats/vectors/good/bpe.tkz: bad magic at byte 0: a tokenizer, not a token stream"
}

@test "adder-gen: bad usage exits 2 with a message" {
	run --separate-stderr adder-gen --digits 0
	assert_failure 2
	assert_equal "$stderr" "adder-gen: invalid value '0' for --digits: expected an integer in 1..9
Try 'adder-gen --help' for more information."
	run --separate-stderr adder-gen --digits 2x
	assert_failure 2
	run --separate-stderr adder-gen --bogus
	assert_failure 2
	[[ "$stderr" == "adder-gen: unknown option '--bogus'"* ]]
	run --separate-stderr adder-gen -Z
	assert_failure 2
	[[ "$stderr" == "adder-gen: unknown option '-Z'"* ]]
	run --separate-stderr adder-gen --seed
	assert_failure 2
	[[ "$stderr" == "adder-gen: option '--seed' needs a value"* ]]
	run --separate-stderr adder-gen --split middle
	assert_failure 2
	[[ "$stderr" == "adder-gen: invalid value 'middle' for --split: expected one of train, test"* ]]
	run --separate-stderr adder-gen --digits 1 --problems 101
	assert_failure 2
	[[ "$stderr" == "adder-gen: 101 problems requested but only 100 exist with 1 digits"* ]]
	run --separate-stderr adder-gen --digits 1 --test 200
	assert_failure 2
	run --separate-stderr adder-gen extra
	assert_failure 2
	[[ "$stderr" == "adder-gen: unexpected operand 'extra'"* ]]
	run --separate-stderr adder-gen --score -o x.tok
	assert_failure 2
}

@test "adder-gen: refuses to write binary data to a terminal unless -f" {
	run script -qec "adder-gen -q --digits 1" /dev/null
	assert_failure 2
	assert_output --partial "refusing to write binary data to a terminal"
	run script -qec "adder-gen -q -f --digits 1 > /dev/null" /dev/null
	assert_success
}

@test "adder-gen: write errors are reported, closed pipes end quietly" {
	run --separate-stderr adder-gen -q --digits 2 -o /nonexistent/dir/x.tok
	assert_failure 1
	[[ "$stderr" == "adder-gen: /nonexistent/dir/x.tok: cannot create a temporary file beside it: No such file or directory" ]]
	run --separate-stderr bash -c 'adder-gen -q --digits 2 > /dev/full'
	assert_failure 1
	[[ "$stderr" == "adder-gen: <stdout>: write error: No space left on device" ]]
	run --separate-stderr bash -c 'adder-gen -q --digits 3 | head -c 10 > /dev/null; echo "${PIPESTATUS[0]}"'
	assert_output "141"
	assert_equal "$stderr" ""
}

@test "adder-gen: an interrupted run leaves no output file behind" {
	adder-gen -q --digits 4 --problems 30000000 -o big.tok &
	pid=$!
	sleep 1
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	assert_equal "$st" 143
	run ls -A
	assert_output ""
}

@test "adder-gen: -o replaces the file only when done" {
	echo old > out.tok
	adder-gen -q --digits 1 -o out.tok
	run $MGREAD --dump out.tok
	assert_output --partial "n=320 records=80 "
	run ls -A
	assert_output "out.tok"
}

@test "adder-gen: the summary on stderr, nothing with -q" {
	run --separate-stderr adder-gen --digits 2 -o x.tok
	assert_success
	assert_equal "$stderr" "adder-gen: wrote 9500 train problems of 2-digit addition (10000 problems: 500 test, 9500 train)"
	run --separate-stderr adder-gen -q --digits 2 -o x.tok
	assert_equal "$stderr" ""
}

@test "adder-gen: -o to a device or a FIFO writes to it and leaves it in place" {
	run --separate-stderr adder-gen -q -o /dev/full
	assert_failure 1
	assert_equal "$stderr" "adder-gen: /dev/full: write error: No space left on device"
	[ -c /dev/full ]
	adder-gen -q -o /dev/null
	[ -c /dev/null ]
	mkfifo fifo
	cat fifo > got &
	adder-gen -q --digits 1 -o fifo
	wait
	[ -p fifo ]
	adder-gen -q --digits 1 > want
	cmp got want
}

@test "adder-gen: -v prints the split and the layout of a record; -q -v is a usage error; --score refuses a terminal" {
	run --separate-stderr adder-gen -v --digits 1 -o x.tok
	assert_success
	assert_equal "$stderr" "adder-gen: train split: problems 20 to 100 of the order of seed 1337
adder-gen: a record is 4 tokens: a (1 digit), b (1 digit), a+b (2 digits, least significant first, the only ones with loss)
adder-gen: wrote 80 train problems of 1-digit addition (100 problems: 20 test, 80 train)"
	run --separate-stderr adder-gen -v --digits 3 --prompts -s 7 -o p.tok
	assert_success
	assert_equal "${stderr_lines[0]}" "adder-gen: test split: problems 0 to 500 of the order of seed 7"
	assert_equal "${stderr_lines[1]}" "adder-gen: a prompt is 6 tokens: a (3 digits), b (3 digits)"
	run --separate-stderr adder-gen --digits 1 --test 1 --split test -o one.tok
	assert_equal "$stderr" "adder-gen: wrote 1 test problem of 1-digit addition (100 problems: 1 test, 99 train)"
	run --separate-stderr adder-gen -q -v -o x.tok
	assert_failure 2
	assert_equal "$stderr" "adder-gen: -q and -v are exclusive
Try 'adder-gen --help' for more information."
	run --separate-stderr tty_stdin adder-gen --score
	assert_failure 2
	assert_equal "$stderr" "adder-gen: will not read a token stream from a terminal: give a file, or pipe one in
Try 'adder-gen --help' for more information."
}
