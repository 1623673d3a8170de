#!/usr/bin/env bats
# gpt-sample: generation with a KV cache against PyTorch's minGPT, sampling
# options, completion for adder-gen --score, output formats, errors
# (man/gpt-sample.1).
load helpers

TORCH="/usr/bin/python3 $ROOT/tests/bench/sample_torch.py"

# Checkpoints shared by the tests, made once: the adder task with its digit
# tokenizer, a model without a tokenizer, and small models of every variant
# with their parameters perturbed away from the init (time weights not 1).
setup_file() {
	cd "$BATS_FILE_TMPDIR" || exit 1
	export PATH="$BIN:$PATH"
	adder-gen -q --digits 2 -o train.tok
	adder-gen -q --digits 2 --prompts -o prompts.tok
	gpt-init -q --layers 2 --heads 4 --embd 32 --block 6 --data train.tok -o adder.ckpt
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 8 --vocab 20 -o notk.ckpt
	local v=(
		""
		"--attention time-weighting"
		"--attention circulant"
		"--time-shift"
		"--attention time-weighting --time-shift --no-pos-emb --gelu erf"
		"--attention circulant --time-shift --no-pos-emb"
	)
	local pairs=()
	for i in "${!v[@]}"; do
		gpt-init -q --layers 2 --heads 4 --embd 32 --block 16 --vocab 40 ${v[$i]} -s $((i + 1)) -o init$i.ckpt
		pairs+=(init$i.ckpt v$i.ckpt)
	done
	$TORCH --perturb 0.3 --seed 10 "${pairs[@]}"
	printf 'To be, or not to be, that is the question:\nWhether tis nobler in the mind to suffer\n' > text.txt
	bpe-train -q --vocab-size 300 -o bpe.tkz text.txt
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 16 --tokenizer bpe.tkz -o bpe.ckpt
}

F() { echo "$BATS_FILE_TMPDIR/$1"; }

# The ids of a token stream, one record per line, "(i)" for mask 0.
ids() { $MGREAD --ids "$1"; }

@test "gpt-sample: --help prints the man page synopsis, --version the version" {
	run gpt-sample --help
	assert_success
	assert_equal "$(help_synopsis gpt-sample)" "$(man_synopsis gpt-sample.1)"
	run gpt-sample --version
	assert_output "gpt-sample (mygpt) 0.1.0"
}

@test "gpt-sample: greedy generation equals PyTorch minGPT (full recompute, crop) for every variant past the block" {
	local models=()
	for i in 0 1 2 3 4 5; do
		gpt-sample --greedy --tokens --start-token 1 --max-new-tokens 50 -o c$i.tok "$(F v$i.ckpt)"
		ids c$i.tok | sed 's/^(1) //' >> c.txt
		models+=("$(F v$i.ckpt)")
	done
	$TORCH --mode mingpt --start 1 --max-new-tokens 50 "${models[@]}" > torch.txt
	assert_equal "$(wc -l < torch.txt)" 6
	run diff c.txt torch.txt
	assert_success
	# the sequences are not trivial: each has several distinct tokens
	while read -r line; do
		[ "$(tr ' ' '\n' <<< "$line" | sort -u | wc -l)" -ge 4 ]
	done < c.txt
	# the variants really differ from each other
	assert_equal "$(sort -u c.txt | wc -l)" 6
}

@test "gpt-sample: --slide n equals a PyTorch KV cache with the same window rule" {
	local models=()
	for i in 1 2 4; do
		gpt-sample --greedy --tokens --prompt-tokens "$(F prompts.tok)" --slide 5 --max-new-tokens 40 -o s$i.tok "$(F v$i.ckpt)" 2> /dev/null
		ids s$i.tok | tr -d '()' | cut -d' ' -f2001- >> s.txt
		models+=("$(F v$i.ckpt)")
	done
	$TORCH --mode kv --slide 5 --prompt "$(ids "$(F prompts.tok)" | tr -d '()' | tr '\n' ' ')" --max-new-tokens 40 "${models[@]}" > torch.txt
	run diff s.txt torch.txt
	assert_success
	# and slide 5 is not slide 1
	gpt-sample --greedy --tokens --prompt-tokens "$(F prompts.tok)" --max-new-tokens 40 -q -o x.tok "$(F v1.ckpt)"
	run cmp -s s1.tok x.tok
	assert_failure
}

@test "gpt-sample: completions are prompt (mask 0) then answer (mask 1), scored by adder-gen" {
	gpt-sample --complete "$(F prompts.tok)" --greedy -o c.tok "$(F adder.ckpt)"
	run $MGREAD --dump c.tok
	assert_output --regexp "^tokens vocab=10 width=2 layout=examples mask=1 record_len=7 n=3500 records=500 tokenizer=chars "
	run ids c.tok
	assert_line --index 0 --regexp '^\(2\) \(2\) \(5\) \(8\) [0-9] [0-9] [0-9]$'
	assert_equal "${#lines[@]}" 500
	run --separate-stderr adder-gen --digits 2 --score c.tok
	assert_success
	assert_output --regexp 'exact match: [0-9]+/500 = [0-9.]+%$'
	# the prompts from standard input
	gpt-sample --complete - --greedy -o cs.tok "$(F adder.ckpt)" < "$(F prompts.tok)"
	cmp c.tok cs.tok
	# the default fills the block: 6 - 4 + 1 tokens; --max-new-tokens overrides it
	gpt-sample --complete "$(F prompts.tok)" --greedy --max-new-tokens 5 -o c5.tok "$(F adder.ckpt)"
	run $MGREAD --dump c5.tok
	assert_output --partial "record_len=9 n=4500 records=500 "
	run ids c5.tok
	assert_line --index 0 --regexp '^\(2\) \(2\) \(5\) \(8\) [0-9] [0-9] [0-9] [0-9] [0-9]$'
}

@test "gpt-sample: a greedy completion is the model's own answer, whatever the batch and threads" {
	# the adder model, perturbed so that its answers vary
	$TORCH --perturb 0.3 "$(F adder.ckpt)" p.ckpt
	gpt-sample --complete "$(F prompts.tok)" --greedy --max-new-tokens 9 -o c.tok p.ckpt
	for b in 1 7 500; do
		for j in 1 2; do
			gpt-sample --complete "$(F prompts.tok)" --greedy --max-new-tokens 9 --batch $b -j $j -o cb.tok p.ckpt
			cmp c.tok cb.tok
		done
	done
	# record r is the greedy continuation of prompt r on its own
	ids c.tok > all.txt
	for r in 0 1 2 499; do
		sed -n "$((r + 1))p" all.txt | awk '{print $1, $2, $3, $4}' | tr -d '()' | $MGREAD --write-ids 10 stream > p$r.tok
		gpt-sample --greedy --tokens --prompt-tokens p$r.tok --max-new-tokens 9 -o one.tok p.ckpt
		assert_equal "$(ids one.tok)" "$(sed -n "$((r + 1))p" all.txt)"
	done
	# sampled completions are reproducible per prompt, whatever the batch
	gpt-sample --complete "$(F prompts.tok)" --top-k 3 -s 5 -o s1.tok p.ckpt
	gpt-sample --complete "$(F prompts.tok)" --top-k 3 -s 5 --batch 13 -j 1 -o s2.tok p.ckpt
	cmp s1.tok s2.tok
	run cmp -s s1.tok c.tok
	assert_failure
}

@test "gpt-sample: seeds reproduce; a sample does not depend on --num-samples, --batch or -j" {
	m="$(F v2.ckpt)"
	gpt-sample --tokens --max-new-tokens 40 --num-samples 6 -o a.tok "$m"
	gpt-sample --tokens --max-new-tokens 40 --num-samples 6 -s 1337 --batch 4 -j 1 -o b.tok "$m"
	cmp a.tok b.tok
	gpt-sample --tokens --max-new-tokens 40 --num-samples 6 -s 1338 -o c.tok "$m"
	run cmp -s a.tok c.tok
	assert_failure
	gpt-sample --tokens --max-new-tokens 40 --num-samples 2 --batch 1 -j 2 -o d.tok "$m"
	assert_equal "$(ids d.tok)" "$(ids a.tok | head -2)"
	# six different samples
	assert_equal "$(ids a.tok | sort -u | wc -l)" 6
	run $MGREAD --dump a.tok
	assert_output --regexp "^tokens vocab=40 width=2 layout=examples mask=1 record_len=41 n=246 records=6 sum=[0-9]+ masked=240$"
}

@test "gpt-sample: top-k 1, temperature near 0 and a tiny top-p are greedy; top-p 1 and a large top-k change nothing" {
	m="$(F v1.ckpt)"
	gpt-sample --greedy --tokens --max-new-tokens 60 --num-samples 3 -o g.tok "$m"
	for opt in "--top-k 1" "--temperature 0.0001" "--temperature 0" "--top-p 0.000001" "--greedy --temperature 5 --top-k 7"; do
		gpt-sample $opt --tokens --max-new-tokens 60 --num-samples 3 -o x.tok "$m"
		cmp g.tok x.tok
	done
	gpt-sample --tokens --max-new-tokens 60 --num-samples 3 -o s.tok "$m"
	run cmp -s s.tok g.tok
	assert_failure
	for opt in "--top-p 1" "--top-k 40" "--top-k 1000" "--temperature 1"; do
		gpt-sample $opt --tokens --max-new-tokens 60 --num-samples 3 -o x.tok "$m"
		cmp s.tok x.tok
	done
	# top-k 2 and top-p 0.5 sample, and differ from plain sampling
	gpt-sample --top-k 2 --tokens --max-new-tokens 60 --num-samples 3 -o k.tok "$m"
	run cmp -s k.tok s.tok
	assert_failure
	run cmp -s k.tok g.tok
	assert_failure
}

@test "gpt-sample: text is the prompt and the sample, samples separated by a line" {
	m="$(F adder.ckpt)"
	run --separate-stderr gpt-sample --prompt 12 --max-new-tokens 5 --num-samples 3 "$m"
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_line --index 0 --regexp '^12[0-9]{5}$'
	assert_line --index 1 -- "---------------"
	assert_line --index 2 --regexp '^12[0-9]{5}$'
	assert_line --index 4 --regexp '^12[0-9]{5}$'
	# the same tokens as --tokens writes
	gpt-sample --prompt 12 --max-new-tokens 5 --num-samples 3 -o t.txt "$m"
	gpt-sample --prompt 12 --max-new-tokens 5 --num-samples 3 --tokens -o t.tok "$m"
	assert_equal "$(grep -v -- --- t.txt)" "$(ids t.tok | tr -d '() ')"
	# without a prompt, the start token is not printed; --start-token is
	gpt-sample --max-new-tokens 5 -o a.txt "$m"
	assert_equal "$(wc -c < a.txt)" 6
	gpt-sample --start-token 3 --max-new-tokens 5 -o b.txt "$m"
	run cat b.txt
	assert_output --regexp '^3[0-9]{5}$'
	gpt-sample --max-new-tokens 0 --prompt 77 -o z.txt "$m"
	assert_equal "$(cat z.txt)" "77"
}

@test "gpt-sample: BPE text decodes to exactly the bytes of the tokens" {
	m="$(F bpe.ckpt)"
	gpt-sample --prompt 'To be' --max-new-tokens 30 -s 3 -o t.txt "$m"
	gpt-sample --prompt 'To be' --max-new-tokens 30 -s 3 --tokens -o t.tok "$m"
	bpe-encode -q -d t.tok > d.txt
	printf '\n' >> d.txt
	cmp t.txt d.txt
	[[ "$(head -c 5 t.txt)" == "To be" ]]
	# the prompt from a file, from stdin, or as ids: the same output
	printf 'To be' > p.txt
	gpt-sample --prompt-file p.txt --max-new-tokens 30 -s 3 -o f.txt "$m"
	cmp t.txt f.txt
	gpt-sample --prompt-file - --max-new-tokens 30 -s 3 -o s.txt "$m" < p.txt
	cmp t.txt s.txt
	bpe-encode -q -m "$(F bpe.tkz)" p.txt > p.tok
	gpt-sample --prompt-tokens p.tok --max-new-tokens 30 -s 3 -o i.txt "$m"
	cmp t.txt i.txt
}

@test "gpt-sample: --start-data draws the first token from the records' first tokens" {
	m="$(F adder.ckpt)"
	for i in $(seq 300); do echo "7 1 2"; done | $MGREAD --write-ids 10 examples > d.tok
	gpt-sample --start-data d.tok --tokens --max-new-tokens 4 --num-samples 20 -o s.tok "$m"
	run $MGREAD --dump s.tok
	assert_output --partial "mask=1 record_len=4 n=80 records=20 tokenizer=chars"
	# add-one smoothing: 301/310 for 7; these 20 draws all give 7
	assert_equal "$(ids s.tok | cut -d' ' -f1 | sort | uniq -c | tr -s ' ')" " 20 7"
	# a first token drawn is a generated one (mask 1); text shows it
	gpt-sample --start-data d.tok --max-new-tokens 4 -o s.txt "$m"
	run cat s.txt
	assert_output --regexp '^7[0-9]{3}$'
	# a stream without records counts its first token (2/11 for 4 here)
	printf '4 1 1 1\n' | $MGREAD --write-ids 10 stream > one.tok
	gpt-sample --start-data one.tok --tokens --max-new-tokens 2 --num-samples 3 -o o.tok "$m"
	run $MGREAD --dump o.tok
	assert_output --partial "mask=1 record_len=2 n=6 records=3 tokenizer=chars"
	printf '' | $MGREAD --write-ids 10 examples > empty.tok
	run --separate-stderr gpt-sample --start-data empty.tok "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: empty.tok: no records to take first tokens from"
	run --separate-stderr gpt-sample --start-data d.tok --max-new-tokens 0 "$m"
	assert_failure 2
}

@test "gpt-sample: --start-data records must start with ids the model has" {
	printf '1 2\n25 3\n' | $MGREAD --write-ids 30 examples > far.tok
	run --separate-stderr gpt-sample --start-data far.tok --tokens -o s.tok "$(F notk.ckpt)"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "gpt-sample: far.tok: record 1 starts with token 25, not below the model's vocab_size 20"
	[ ! -e s.tok ]
	# only first tokens count: a later id over the vocabulary is not looked at
	printf '1 2\n3 25\n' | $MGREAD --write-ids 30 examples > late.tok
	run --separate-stderr gpt-sample --start-data late.tok --tokens --max-new-tokens 2 -o s.tok "$(F notk.ckpt)"
	assert_success
}

@test "gpt-sample: a prompt longer than the block is cropped, with a warning unless -q" {
	m="$(F adder.ckpt)"
	run --separate-stderr gpt-sample --prompt 1234567890 --max-new-tokens 3 "$m"
	assert_success
	assert_equal "$stderr" "gpt-sample: --prompt: warning: the prompt has 10 tokens; the model sees the last 6 (block_size)"
	assert_output --regexp '^1234567890[0-9]{3}$'
	# the same tokens as from the last 6 alone
	assert_equal "${output:10}" "$(gpt-sample --prompt 567890 --max-new-tokens 3 "$m" | cut -c7-)"
	run --separate-stderr gpt-sample -q --prompt 1234567890 --max-new-tokens 3 "$m"
	assert_equal "$stderr" ""
	run --separate-stderr gpt-sample --complete "$(F train.tok)" --max-new-tokens 1 -o c.tok "$m"
	assert_success
	assert_equal "$stderr" "gpt-sample: $(F train.tok): warning: 9500 prompts have more than 6 tokens (block_size); the model sees their last 6"
}

@test "gpt-sample: the checkpoint from a pipe, -v statistics on stderr" {
	run --separate-stderr bash -c "gpt-init -q --layers 1 --heads 2 --embd 16 --block 16 --data '$(F train.tok)' | gpt-sample -v --max-new-tokens 10 --num-samples 2"
	assert_success
	assert_equal "${#lines[@]}" 3
	[[ "${stderr_lines[0]}" =~ ^"gpt-sample: <stdin>: 1 layer, 2 heads, embd 16, block 16, vocab 10, vanilla; 2 sequences, "[0-9.]+" MiB, "[0-9]+" thread"s?(" (or 1, by timing)")?$ ]]
	[[ "${stderr_lines[1]}" =~ ^"gpt-sample: 20 tokens in "[0-9.]+" s: "[0-9.]+" tokens/s; 20 positions evaluated, 0 windows recomputed; "[0-9]+" thread"s?" at the end"$ ]]
	# an explicit -j is kept
	run --separate-stderr bash -c "gpt-sample -v -j 1 --max-new-tokens 3 '$(F adder.ckpt)'"
	[[ "${stderr_lines[0]}" == *", 1 thread" ]]
	[[ "${stderr_lines[1]}" == *"; 1 thread at the end" ]]
}

@test "gpt-sample: the whole chain, text to samples through bpe-encode, gpt-init and gpt-train" {
	bpe-train -q --chars -o chars.tkz "$(F text.txt)"
	bpe-encode -q -m chars.tkz "$(F text.txt)" > all.tok
	run --separate-stderr bash -c "gpt-init -q --layers 1 --heads 2 --embd 16 --block 8 --data all.tok |
		gpt-train -q --data all.tok --iters 5 --batch 4 -j 1 | gpt-sample --prompt 'To be' --max-new-tokens 20 -j 1 -o out.txt"
	assert_success
	assert_equal "$stderr" ""
	# the prompt, 20 characters of the text's alphabet (one byte each), a newline
	assert_equal "$(head -c 5 out.txt)" "To be"
	assert_equal "$(wc -c < out.txt)" 26
	assert_equal "$(tail -c 1 out.txt | od -An -c | tr -d ' ')" '\n'
	assert_equal "$(head -c 25 out.txt | tr -d "$(cat "$(F text.txt)")" | wc -c)" 0
}

@test "gpt-sample: prompts it cannot use are errors (exit 1)" {
	m="$(F adder.ckpt)"
	run --separate-stderr gpt-sample --prompt '1+2' "$m"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "gpt-sample: --prompt: byte 1: character U+002B is not in the model"
	printf '12\303\251' > p.txt
	run --separate-stderr gpt-sample --prompt-file p.txt "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: p.txt: byte 2: character U+00E9 is not in the model"
	# a stream of no tokens (no ids array to copy: make check-asan's UBSan)
	run --separate-stderr gpt-sample --prompt-tokens "$ROOT/formats/vectors/good/empty.tok" "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: $ROOT/formats/vectors/good/empty.tok: the prompt is empty"
	: > empty.txt
	run --separate-stderr gpt-sample --prompt-file empty.txt "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: empty.txt: the prompt is empty"
	truncate -s 67108865 big.txt
	run --separate-stderr gpt-sample --prompt-file big.txt "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: big.txt: the prompt is over the limit of 67108864 bytes"
	printf '1 2 12\n' | $MGREAD --write-ids 20 stream > big.tok
	run --separate-stderr gpt-sample --prompt-tokens big.tok "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: big.tok: token 12 at index 2 is not below the tokenizer's vocabulary size 10"
	run --separate-stderr gpt-sample --complete big.tok "$(F notk.ckpt)"
	assert_success
	printf '1 2 25\n' | $MGREAD --write-ids 30 examples > over.tok
	run --separate-stderr gpt-sample --complete over.tok -o x.tok "$(F notk.ckpt)"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: over.tok: token 25 at index 2 is not below the model's vocab_size 20"
	[ ! -e x.tok ]
	# a stream made with another tokenizer
	bpe-encode -q -m "$(F bpe.tkz)" "$(F text.txt)" > other.tok
	run --separate-stderr gpt-sample --prompt-tokens other.tok "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: other.tok: its tokenizer differs from the one in the checkpoint $(F adder.ckpt)"
}

@test "gpt-sample: a checkpoint without a tokenizer writes tokens, not text" {
	m="$(F notk.ckpt)"
	run --separate-stderr gpt-sample "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: $m: the checkpoint has no tokenizer to turn tokens into text (use --tokens)"
	run --separate-stderr gpt-sample --prompt hi --tokens "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: $m: the checkpoint has no tokenizer to encode the prompt (give ids with --prompt-tokens)"
	gpt-sample --tokens --max-new-tokens 3 -o t.tok "$m"
	run $MGREAD --dump t.tok
	assert_output --regexp "^tokens vocab=20 width=2 layout=examples mask=1 record_len=4 n=4 records=1 sum"
	# a prompt stream's tokenizer is used when the checkpoint has none
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 8 --vocab 10 -o ten.ckpt
	printf '4 5\n' | $MGREAD --write-ids 10 stream > plain.tok
	run --separate-stderr gpt-sample --prompt-tokens plain.tok ten.ckpt
	assert_failure 1
	adder-gen -q --digits 1 --prompts --test 1 -o one.tok
	run --separate-stderr gpt-sample --prompt-tokens one.tok --max-new-tokens 4 ten.ckpt
	assert_success
	assert_output --regexp '^[0-9]{6}$'
	# a palette is not text
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 8 --tokenizer "$ROOT/formats/vectors/good/palette.tkz" -o pal.ckpt
	run --separate-stderr gpt-sample pal.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: pal.ckpt: the tokenizer is a palette: images are not text (use --tokens)"
	gpt-sample --tokens --max-new-tokens 3 -o img.tok pal.ckpt
	run $MGREAD --dump img.tok
	assert_output --partial "tokenizer=palette"
}

@test "gpt-sample: unreadable and corrupt checkpoints are errors" {
	run --separate-stderr gpt-sample missing.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: missing.ckpt: No such file or directory"
	head -c 2000 "$(F adder.ckpt)" > cut.ckpt
	run --separate-stderr gpt-sample cut.ckpt
	assert_failure 1
	[[ "$stderr" == "gpt-sample: cut.ckpt: truncated"* ]]
	run --separate-stderr gpt-sample "$(F train.tok)"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: $(F train.tok): bad magic at byte 0: a token stream, not a checkpoint"
	run --separate-stderr gpt-sample < /dev/null
	assert_failure 1
	[[ "$stderr" == "gpt-sample: <stdin>: "* ]]
}

@test "gpt-sample: bad usage exits 2 with a message" {
	m="$(F adder.ckpt)"
	run --separate-stderr gpt-sample --bogus "$m"
	assert_failure 2
	assert_equal "$stderr" "gpt-sample: unknown option '--bogus'
Try 'gpt-sample --help' for more information."
	run --separate-stderr gpt-sample --top-p 0 "$m"
	assert_failure 2
	[[ "$stderr" == "gpt-sample: invalid value '0' for --top-p: expected a number in (0, 1]"* ]]
	run --separate-stderr gpt-sample --top-p 1.5 "$m"
	assert_failure 2
	run --separate-stderr gpt-sample --temperature -1 "$m"
	assert_failure 2
	run --separate-stderr gpt-sample --max-new-tokens x "$m"
	assert_failure 2
	run --separate-stderr gpt-sample --num-samples 0 "$m"
	assert_failure 2
	run --separate-stderr gpt-sample --prompt '' "$m"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: invalid value '' for --prompt: the prompt is empty"
	run --separate-stderr gpt-sample --prompt 1 --start-token 2 "$m"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: give at most one of --prompt, --prompt-file, --prompt-tokens, --start-token, --start-data"
	run --separate-stderr gpt-sample --complete p.tok --prompt 1 "$m"
	assert_failure 2
	run --separate-stderr gpt-sample --complete p.tok --num-samples 2 "$m"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: --complete writes one completion per prompt: no --num-samples"
	run --separate-stderr gpt-sample --start-token 10 "$m"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: invalid value '10' for --start-token: the tokenizer has 10 tokens"
	run --separate-stderr gpt-sample --slide 7 "$m"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: invalid value '7' for --slide: the model's block_size is 6"
	run --separate-stderr gpt-sample --slide 0 "$m"
	assert_failure 2
	run --separate-stderr gpt-sample --complete - < "$m"
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: the checkpoint and the prompts cannot both come from standard input"
	run --separate-stderr gpt-sample "$m" extra
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-sample: unexpected operand 'extra'"
}

@test "gpt-sample: tokens are not written to a terminal unless -f; text is, as it comes" {
	m="$(F adder.ckpt)"
	run script -qec "gpt-sample --tokens $m" /dev/null
	assert_failure 2
	assert_output --partial "refusing to write binary data to a terminal"
	run script -qec "gpt-sample -f --tokens $m > /dev/null" /dev/null
	assert_success
	run script -qec "gpt-sample --prompt 12 --max-new-tokens 4 $m" /dev/null
	assert_success
	assert_output --regexp '^12[0-9]{4}'
}

# bats test_tags=no-asan
@test "gpt-sample: nothing is allocated for --max-new-tokens up front" {
	# no-asan: AddressSanitizer's shadow memory does not fit under ulimit -v.
	# 10^9 tokens of the second sample would be 4 GB: the samples grow as
	# they come, and the first one streams until head closes the pipe.
	run --separate-stderr bash -c "ulimit -v 2000000; gpt-sample -j 1 --max-new-tokens 1000000000 --num-samples 2 --batch 2 '$(F adder.ckpt)' | head -c 100 > /dev/null; echo \"\${PIPESTATUS[0]}\""
	assert_output "141"
	assert_equal "$stderr" ""
}

@test "gpt-sample: a batch over the memory available is refused before it is allocated" {
	# keys and values of 65,536 sequences of 65,536 positions: over any machine
	gpt-init -q --layers 1 --embd 64 --heads 1 --block 65536 --vocab 10 -o long.ckpt
	run --separate-stderr gpt-sample --tokens --num-samples 65536 --batch 65536 --max-new-tokens 1 -o s.tok long.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-sample: long\.ckpt: 65536 sequences at a time \(--batch\) needs 2216\.4 GB \(2216\.2 GB for activations\), [0-9]+\.[0-9] GB available$"
	[ ! -e s.tok ]
}

@test "gpt-sample: write errors, closed pipes, and -o only when complete" {
	m="$(F adder.ckpt)"
	run --separate-stderr bash -c "gpt-sample --max-new-tokens 100 '$m' > /dev/full"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: <stdout>: write error: No space left on device"
	run --separate-stderr bash -c "gpt-sample --max-new-tokens 100000 '$m' | head -c 10 > /dev/null; echo \"\${PIPESTATUS[0]}\""
	assert_output "141"
	assert_equal "$stderr" ""
	run --separate-stderr gpt-sample -o /nonexistent/dir/x.txt "$m"
	assert_failure 1
	assert_equal "$stderr" "gpt-sample: /nonexistent/dir/x.txt: cannot create a temporary file beside it: No such file or directory"
	echo old > out.txt
	gpt-sample --max-new-tokens 3 -o out.txt "$m"
	run cat out.txt
	assert_output --regexp '^[0-9]{3}$'
	gpt-sample --max-new-tokens 100000000 -o big.txt "$m" &
	pid=$!
	sleep 1
	kill -TERM $pid
	st=0
	wait $pid || st=$?
	assert_equal "$st" 143
	run ls -A
	refute_output --partial "big.txt"
	assert_line "out.txt"
}

@test "gpt-sample: refuses a terminal on stdin where the checkpoint would come from" {
	run --separate-stderr tty_stdin gpt-sample --max-new-tokens 1
	assert_failure 2
	assert_equal "$stderr" "gpt-sample: will not read a checkpoint from a terminal: give a file, or pipe one in
Try 'gpt-sample --help' for more information."
	run --separate-stderr tty_stdin gpt-sample --max-new-tokens 1 -
	assert_failure 2
	assert_output ""
}

# bats test_tags=no-asan
@test "gpt-sample: a checkpoint whose configuration claims more than its tensors is refused before the model is allocated" {
	# no-asan: AddressSanitizer's shadow memory does not fit under ulimit -v
	# a make fuzz finding: 1,024 layers of width 256 claimed by a 1-layer
	# file (the HEAD chunk edited, its CRC recomputed) made gpt-sample
	# allocate and clear gigabytes before it found the tensors missing
	gpt-init -q --layers 1 --heads 2 --embd 256 --block 8 --vocab 10 -o w.ckpt
	/usr/bin/python3 - "$ROOT/tests/formats" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from sweep import parse, chunk_bytes, payload
b = open("w.ckpt", "rb").read()
p, typ, flags, s, r = c = parse(b)[0][1][0]
assert typ == "HEAD"
raw = bytearray(payload(b, c))
i = raw.index(b"\x07n_layer\x01") + 9
raw[i:i + 8] = (1024).to_bytes(8, "little")
open("big.ckpt", "wb").write(b[:p] + chunk_bytes(typ, flags, bytes(raw)) + b[p + 20 + s:])
PY
	run --separate-stderr bash -c 'ulimit -v 1000000; gpt-sample -q --max-new-tokens 3 big.ckpt'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "gpt-sample: big.ckpt: missing tensor 'h.1.ln_1.weight' (param)"
}
