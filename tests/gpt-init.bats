#!/usr/bin/env bats
# gpt-init: fresh checkpoints (man/gpt-init.1), read back with the
# independent reader tests/formats/mgread.py.
load helpers

VEC="$ROOT/formats/vectors"

# What a checkpoint holds, one fact per line: the HEAD keys, the tokenizer,
# then every tensor as "name role dtype dims".
ckinfo() {
	/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
ck = mgread.read_checkpoint(sys.argv[2])
for k, v in ck.config.items():
    print(f"{k}={v!r}")
print("train=" + ("-" if ck.train is None else str(ck.train)))
print("tokenizer=" + ("-" if ck.tokenizer is None else f"{ck.tokenizer.kind} {ck.tokenizer.vocab_size}"))
for (name, role), t in ck.tensors.items():
    print(name, role, t.dtype, "x".join(map(str, t.dims)))
' "$ROOT/tests/formats" "$1"
}

# Statistics of the tensors: "name mean std min max", or one tensor's values.
ckstats() {
	/usr/bin/python3 -c '
import sys, statistics
sys.path.insert(0, sys.argv[1])
import mgread
ck = mgread.read_checkpoint(sys.argv[2])
for (name, role), t in ck.tensors.items():
    x = t.floats()
    print(name, f"{statistics.fmean(x):.5f} {statistics.pstdev(x):.5f} {min(x):.5f} {max(x):.5f}")
' "$ROOT/tests/formats" "$1"
}

@test "gpt-init: --help prints the man page synopsis, --version the version" {
	run gpt-init --help
	assert_success
	assert_equal "$(help_synopsis gpt-init)" "$(man_synopsis gpt-init.1)"
	assert_line --partial "--layers n          transformer blocks (default 3)"
	assert_line --partial "(default 1337)"
	run gpt-init --version
	assert_success
	assert_output "gpt-init (mygpt) 0.1.0"
}

@test "gpt-init: MyGPT's configuration has 9,590,272 parameters, 9,983,488 with time-weighting" {
	run --separate-stderr gpt-init --vocab 65 -o mygpt.ckpt
	assert_success
	assert_output ""
	assert_equal "$stderr" "gpt-init: 9,590,272 parameters (3 layers, 8 heads, embd 512, block 128, vocab 65, vanilla, gelu tanh)"
	run --separate-stderr gpt-init --vocab 65 --attention time-weighting -o tw.ckpt
	assert_success
	assert_equal "$stderr" "gpt-init: 9,983,488 parameters (3 layers, 8 heads, embd 512, block 128, vocab 65, time-weighting, gelu tanh)"
	run /usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
for f in sys.argv[2:]:
    ck = mgread.read_checkpoint(f)
    print(sum(len(t.data) // 4 for t in ck.tensors.values()), len(ck.tensors))
' "$ROOT/tests/formats" mygpt.ckpt tw.ckpt
	assert_output $'9590272 41\n9983488 44'
}

@test "gpt-init: HEAD keys and tensors as formats/checkpoint.md lists them" {
	run gpt-init -q --layers 2 --heads 2 --embd 8 --block 4 --vocab 5 -o a.ckpt
	assert_success
	run ckinfo a.ckpt
	assert_output "model='gpt'
n_layer=2
n_head=2
n_embd=8
block_size=4
vocab_size=5
attention='vanilla'
time_shift=0
pos_emb=1
gelu='tanh'
dropout_embd=0.1
dropout_attn=0.1
dropout_resid=0.1
train=-
tokenizer=-
wte param f32 5x8
wpe param f32 4x8
h.0.ln_1.weight param f32 8
h.0.ln_1.bias param f32 8
h.0.attn.c_attn.weight param f32 24x8
h.0.attn.c_attn.bias param f32 24
h.0.attn.c_proj.weight param f32 8x8
h.0.attn.c_proj.bias param f32 8
h.0.ln_2.weight param f32 8
h.0.ln_2.bias param f32 8
h.0.mlp.c_fc.weight param f32 32x8
h.0.mlp.c_fc.bias param f32 32
h.0.mlp.c_proj.weight param f32 8x32
h.0.mlp.c_proj.bias param f32 8
h.1.ln_1.weight param f32 8
h.1.ln_1.bias param f32 8
h.1.attn.c_attn.weight param f32 24x8
h.1.attn.c_attn.bias param f32 24
h.1.attn.c_proj.weight param f32 8x8
h.1.attn.c_proj.bias param f32 8
h.1.ln_2.weight param f32 8
h.1.ln_2.bias param f32 8
h.1.mlp.c_fc.weight param f32 32x8
h.1.mlp.c_fc.bias param f32 32
h.1.mlp.c_proj.weight param f32 8x32
h.1.mlp.c_proj.bias param f32 8
ln_f.weight param f32 8
ln_f.bias param f32 8
lm_head.weight param f32 5x8"
}

@test "gpt-init: the variants' keys and time-weight tensors" {
	run gpt-init -q --layers 1 --heads 2 --embd 4 --block 3 --vocab 5 --attention time-weighting \
		--time-shift --gelu erf --dropout 0.2 --dropout-attn 0.05 -o tw.ckpt
	assert_success
	run ckinfo tw.ckpt
	assert_line "attention='time-weighting'"
	assert_line "time_shift=1"
	assert_line "pos_emb=1"
	assert_line "gelu='erf'"
	assert_line "dropout_embd=0.2"
	assert_line "dropout_attn=0.05"
	assert_line "dropout_resid=0.2"
	assert_line "h.0.attn.time_weight param f32 2x3x3"
	refute_line --partial "time_w "
	run gpt-init -q --layers 1 --heads 2 --embd 4 --block 3 --vocab 5 --attention circulant --no-pos-emb \
		--dropout 0 -o c.ckpt
	assert_success
	run ckinfo c.ckpt
	assert_line "attention='circulant'"
	assert_line "pos_emb=0"
	assert_line "dropout_attn=0.0"
	refute_line --partial "wpe"
	refute_line --partial "time_weight"
	# time_w and time_b come right after attn.c_proj, in that order
	assert_line --index 21 "h.0.attn.c_proj.bias param f32 4"
	assert_line --index 22 "h.0.attn.time_w param f32 2x3"
	assert_line --index 23 "h.0.attn.time_b param f32 2x3"
	assert_line --index 24 "h.0.ln_2.weight param f32 4"
}

@test "gpt-init: --tie-embeddings stores one matrix for the embedding and the head" {
	run --separate-stderr gpt-init --layers 1 --heads 2 --embd 8 --block 4 --vocab 5 --tie-embeddings -o t.ckpt
	assert_success
	# 8x5 + 4x8 + block 1x(16+216+72+16+288+264) + 16, no lm_head
	[ "$stderr" = "gpt-init: 960 parameters (1 layer, 2 heads, embd 8, block 4, vocab 5, vanilla, tied embeddings, gelu tanh)" ]
	run ckinfo t.ckpt
	assert_line "tie_embeddings=1"
	assert_line --index 0 "model='gpt'"
	assert_line "wte param f32 5x8"
	refute_line --partial "lm_head"
	# untied: the key is not written, and the head is there
	run gpt-init -q --layers 1 --heads 2 --embd 8 --block 4 --vocab 5 -o u.ckpt
	run ckinfo u.ckpt
	refute_line --partial "tie_embeddings"
	assert_line "lm_head.weight param f32 5x8"
}

@test "gpt-init: minGPT's initialisation" {
	run gpt-init -q --layers 4 --heads 4 --embd 64 --block 32 --vocab 300 --attention time-weighting -o m.ckpt
	assert_success
	run ckstats m.ckpt
	# 0.02 for weights and embeddings, 0.02/sqrt(2*4) = 0.00707 for the
	# residual projections: sample deviations within 3%
	/usr/bin/python3 - "$output" <<-'EOF'
	import sys
	for line in sys.argv[1].splitlines():
	    name, mean, sd, lo, hi = line.split()
	    mean, sd, lo, hi = map(float, (mean, sd, lo, hi))
	    if name.endswith("c_proj.weight"):
	        assert abs(sd - 0.02 / 8 ** 0.5) < 0.03 * 0.00707 and abs(mean) < 0.0005, line
	    elif name in ("wte", "wpe", "lm_head.weight") or name.endswith(("c_attn.weight", "c_fc.weight")):
	        assert abs(sd - 0.02) < 0.03 * 0.02 and abs(mean) < 0.001, line
	    elif name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight", "time_weight")):
	        assert (mean, sd, lo, hi) == (1, 0, 1, 1), line
	    elif name.endswith(".bias"):
	        assert (mean, sd, lo, hi) == (0, 0, 0, 0), line
	    else:
	        raise AssertionError("unexpected tensor " + line)
	EOF
}

@test "gpt-init: the same options give the same bytes; the random seed changes the weights only" {
	gpt-init -q --layers 1 --embd 16 --heads 2 --block 8 --vocab 11 -o a.ckpt
	gpt-init -q --layers 1 --embd 16 --heads 2 --block 8 --vocab 11 -s 1337 -o b.ckpt
	gpt-init -q --layers 1 --embd 16 --heads 2 --block 8 --vocab 11 -s 1338 -o c.ckpt
	run cmp a.ckpt b.ckpt
	assert_success
	run cmp -s a.ckpt c.ckpt
	assert_failure
	run bash -c 'gpt-init -q --layers 1 --embd 16 --heads 2 --block 8 --vocab 11 | cmp - a.ckpt'
	assert_success
	# a tensor's values depend on the random seed and its name only
	gpt-init -q --layers 1 --embd 16 --heads 2 --block 8 --vocab 11 --attention circulant --no-pos-emb -o d.ckpt
	run /usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
a, c, d = (mgread.read_checkpoint(f).tensors for f in sys.argv[2:])
print(a[("wte", "param")].data == d[("wte", "param")].data, a[("h.0.mlp.c_fc.weight", "param")].data == d[("h.0.mlp.c_fc.weight", "param")].data, a[("wte", "param")].data == c[("wte", "param")].data)
' "$ROOT/tests/formats" a.ckpt c.ckpt d.ckpt
	assert_output "True True False"
}

@test "gpt-init: the vocabulary and tokenizer from a token stream or a tokenizer model" {
	run gpt-init -q --layers 1 --embd 8 --heads 2 --block 4 --data "$VEC/good/stream16.tok" -o s.ckpt
	assert_success
	run ckinfo s.ckpt
	assert_line "vocab_size=301"
	assert_line "tokenizer=bpe 301"
	assert_line "wte param f32 301x8"
	# a stream without a tokenizer: the vocabulary only
	run gpt-init -q --layers 1 --embd 8 --heads 2 --block 4 --data "$VEC/good/documents32.tok" -o d.ckpt
	assert_success
	run ckinfo d.ckpt
	assert_line "vocab_size=70000"
	assert_line "tokenizer=-"
	run gpt-init -q --layers 1 --embd 8 --heads 2 --block 4 --tokenizer "$VEC/good/chars.tkz" -o c.ckpt
	assert_success
	run ckinfo c.ckpt
	assert_line "vocab_size=6"
	assert_line "tokenizer=chars 6"
	# --vocab may be larger; --tokenizer wins over the stream's tokenizer
	run gpt-init -q --layers 1 --embd 8 --heads 2 --block 4 --vocab 512 --tokenizer "$VEC/good/bpe.tkz" \
		--data "$VEC/good/records_mask.tok" -o b.ckpt
	assert_success
	run ckinfo b.ckpt
	assert_line "vocab_size=512"
	assert_line "tokenizer=bpe 301"
	# the tokenizer must cover the stream's ids
	run --separate-stderr gpt-init -q --layers 1 --embd 8 --heads 2 --block 4 --tokenizer "$VEC/good/chars.tkz" \
		--data "$VEC/good/records_mask.tok" -o m.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: $VEC/good/records_mask.tok: the token stream has a vocabulary of 10, more than the tokenizer's 6"
	[ ! -e m.ckpt ]
}

@test "gpt-init: a vocabulary larger than --vocab is an error naming the file" {
	run --separate-stderr gpt-init --vocab 300 --tokenizer "$VEC/good/bpe.tkz" -o x.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: $VEC/good/bpe.tkz: the tokenizer has 301 tokens, more than --vocab 300"
	run --separate-stderr gpt-init --vocab 9 --data "$VEC/good/records_mask.tok" -o x.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: $VEC/good/records_mask.tok: the token stream has a vocabulary of 10, more than --vocab 9"
	[ ! -e x.ckpt ]
}

@test "gpt-init: unreadable, missing and corrupt inputs" {
	run --separate-stderr gpt-init --tokenizer nope.tkz -o x.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: nope.tkz: No such file or directory"
	run --separate-stderr gpt-init --tokenizer "$VEC/bad/truncated.tkz" -o x.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: $VEC/bad/truncated.tkz: .+"
	run --separate-stderr gpt-init --tokenizer "$VEC/good/stream16.tok" -o x.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: $VEC/good/stream16.tok: .*magic"
	run --separate-stderr gpt-init --data "$VEC/bad/magic.tok" -o x.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: $VEC/bad/magic.tok: .*magic"
	# a tokenizer file holds one member and nothing else
	cat "$VEC/good/chars.tkz" "$VEC/good/chars.tkz" > two.tkz
	run --separate-stderr gpt-init --tokenizer two.tkz -o x.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: two.tkz: stray bytes after the tokenizer at byte [0-9]+ \\(a model file holds one\\)$"
	[ ! -e x.ckpt ]
}

@test "gpt-init: bad usage exits 2" {
	run --separate-stderr gpt-init -o x.ckpt
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: no vocabulary size: give --vocab, --tokenizer or --data"
	run --separate-stderr gpt-init --vocab 65 --heads 3
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: n_embd 512 is not divisible by n_head 3"
	run --separate-stderr gpt-init --vocab 65 --attention linear
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: invalid value 'linear' for --attention: expected one of vanilla, time-weighting, circulant"
	run --separate-stderr gpt-init --vocab 65 --gelu relu
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: invalid value 'relu' for --gelu: expected one of tanh, erf"
	run --separate-stderr gpt-init --vocab 65 --dropout 1
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: invalid value '1' for --dropout: expected a number in 0..0.99"
	run --separate-stderr gpt-init --vocab 0
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: invalid value '0' for --vocab: expected an integer in 1..16777216"
	run --separate-stderr gpt-init --vocab 65 --layers 1025
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: invalid value '1025' for --layers: expected an integer in 1..1024"
	run --separate-stderr gpt-init --vocab 65 --block 0
	assert_failure 2
	run --separate-stderr gpt-init --vocab 16777216 --embd 65536 --heads 1
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: wte of 16777216 x 65536 is over the format's 2^36 elements"
	run --separate-stderr gpt-init --vocab 65 extra
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: unexpected operand 'extra'"
	run --separate-stderr gpt-init --vocab 65 --frobnicate
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: unknown option '--frobnicate'"
	assert_equal "${stderr_lines[1]}" "Try 'gpt-init --help' for more information."
	run --separate-stderr gpt-init --vocab
	assert_failure 2
	assert_equal "${stderr_lines[0]}" "gpt-init: option '--vocab' needs a value"
	# checked before any file is read
	run --separate-stderr gpt-init --heads 3 --tokenizer nope.tkz
	assert_failure 2
}

@test "gpt-init: refuses to write binary data to a terminal unless forced" {
	run script -qec "$BIN/gpt-init --vocab 5 --layers 1 --embd 4 --heads 1 --block 2" /dev/null
	assert_failure 2
	assert_output --partial "gpt-init: refusing to write binary data to a terminal (use -o FILE, a pipe, or -f)"
	run script -qec "$BIN/gpt-init -fq --vocab 5 --layers 1 --embd 4 --heads 1 --block 2 | wc -c" /dev/null
	assert_success
}

@test "gpt-init: write errors exit 1 and leave no file" {
	run --separate-stderr bash -c 'gpt-init -q --vocab 5 --layers 1 --embd 4 --heads 1 --block 2 > /dev/full'
	assert_failure 1
	assert_equal "$stderr" "gpt-init: <stdout>: write error: No space left on device"
	run --separate-stderr gpt-init -q --vocab 5 -o nodir/x.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: nodir/x.ckpt: cannot create a temporary file beside it: "
}

@test "gpt-init: killed while writing, it leaves neither the file nor its temporary" {
	gpt-init -q --vocab 65 --layers 12 -o big.ckpt &
	pid=$!
	for _ in $(seq 6000); do
		compgen -G '.big.ckpt.*' > /dev/null && break
		sleep 0.05
	done
	run compgen -G '.big.ckpt.*'
	assert_success # the temporary file exists: writing has started
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	assert_equal "$st" 143
	run ls -A
	assert_output ""
}

@test "gpt-init: -q is quiet; the summary names the variant" {
	run --separate-stderr gpt-init -q --vocab 5 --layers 1 --embd 4 --heads 1 --block 2 -o a.ckpt
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr gpt-init --vocab 5 --layers 1 --embd 4 --heads 1 --block 2 --attention circulant \
		--time-shift --no-pos-emb --gelu erf -o a.ckpt
	assert_success
	assert_equal "$stderr" "gpt-init: 296 parameters (1 layer, 1 head, embd 4, block 2, vocab 5, circulant, time-shift, no pos-emb, gelu erf)"
}

@test "gpt-init: a model over the memory available is refused before it is allocated" {
	# 552 GB of parameters: over any machine this runs on
	run --separate-stderr gpt-init -q --embd 4096 --heads 8 --vocab 16777216 -o big.ckpt
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: the model \(138,043,625,472 parameters\) needs 552\.2 GB for parameters, [0-9]+\.[0-9] GB available$"
	[ ! -e big.ckpt ]
	! compgen -G '.big.ckpt*'
}

# bats test_tags=no-asan
@test "gpt-init: the memory available is what the process limit leaves" {
	# no-asan: AddressSanitizer's shadow memory does not fit under ulimit -v
	run --separate-stderr bash -c 'ulimit -v 4000000; gpt-init -q --embd 512 --vocab 16777216 -o big.ckpt'
	assert_failure 1
	assert_regex "$stderr" "^gpt-init: the model \(17,189,392,896 parameters\) needs 68\.8 GB for parameters, [0-4]\.[0-9] GB available$"
}

@test "gpt-init: -v adds the dropout rates, the random seed and the tokenizer; -q -v is a usage error" {
	adder-gen -q --digits 1 -o a.tok
	run --separate-stderr gpt-init -v --layers 1 --embd 4 --heads 1 --block 2 --dropout 0.2 --dropout-attn 0 -s 5 --data a.tok -o a.ckpt
	assert_success
	assert_equal "$stderr" "gpt-init: 340 parameters (1 layer, 1 head, embd 4, block 2, vocab 10, vanilla, gelu tanh)
gpt-init: dropout: embedding 0.2, attention 0, residual 0.2; seed 5
gpt-init: tokenizer: chars, 10 tokens, from a.tok"
	run --separate-stderr gpt-init -v --vocab 5 --layers 1 --embd 4 --heads 1 --block 2 -o b.ckpt
	assert_success
	assert_equal "${stderr_lines[2]}" "gpt-init: tokenizer: none (ids only)"
	run --separate-stderr gpt-init -q -v --vocab 5 -o c.ckpt
	assert_failure 2
	assert_equal "$stderr" "gpt-init: -q and -v are exclusive
Try 'gpt-init --help' for more information."
	[ ! -e c.ckpt ]
}

@test "gpt-init: a file of another kind is named in the error: a token stream or text where a tokenizer is expected" {
	adder-gen -q --digits 1 -o a.tok
	run --separate-stderr gpt-init --tokenizer a.tok -o x.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: a.tok: bad magic at byte 0: a token stream, not a tokenizer"
	printf 'hello\n' > h.txt
	run --separate-stderr gpt-init --data h.txt -o x.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: h.txt: bad magic at byte 0: text, not a token stream"
	printf '\037\213\010\000\000\000\000\000' > z.gz
	run --separate-stderr gpt-init --tokenizer z.gz -o x.ckpt
	assert_failure 1
	assert_equal "$stderr" "gpt-init: z.gz: bad magic at byte 0: not a tokenizer"
	[ ! -e x.ckpt ]
}
