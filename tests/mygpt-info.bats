#!/usr/bin/env bats
# mygpt-info: what a file holds (man/mygpt-info.1), on the committed vectors
# and on tiny files made by the tools; sizes are checked against stat and an
# independent walk of the container framing.
load helpers

VEC="$ROOT/formats/vectors"

# The container of a file as "bytes raw_bytes members chunks", walked from
# formats/container.md alone: raw_bytes counts every payload at its raw size.
walk() {
	/usr/bin/python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(); i = members = chunks = 0; raw = 0
while i < len(b):
    i += 16; members += 1; raw += 16
    while True:
        t = b[i:i + 4]; s, r = struct.unpack("<II", b[i + 8:i + 16])
        chunks += 1; raw += 20 + r; i += 20 + s
        if t == b"TAIL": break
print(len(b), raw, members, chunks)
' "$1"
}

# The four container keys of mygpt-info -k's output (in $output), in walk's form.
sizes_of_output() {
	printf '%s\n' "$output" | awk -F '\t' '$1 == "file_bytes" || $1 == "raw_bytes" || $1 == "members" || $1 == "chunks" { v = v (v == "" ? "" : " ") $2 } END { print v }'
}

@test "mygpt-info: --help prints the man page synopsis, --version the version" {
	run mygpt-info --help
	assert_success
	assert_equal "$(help_synopsis mygpt-info)" "$(man_synopsis mygpt-info.1)"
	run mygpt-info --version
	assert_success
	assert_output "mygpt-info (mygpt) 0.1.0"
}

@test "mygpt-info: a fresh checkpoint from gpt-init, every key" {
	gpt-init -q --layers 1 --heads 4 --embd 16 --block 8 --vocab 10 --attention time-weighting \
		--time-shift --no-pos-emb --dropout 0 -o tw.ckpt
	run --separate-stderr mygpt-info -k tw.ckpt
	assert_success
	assert_equal "$stderr" ""
	# 3,888 parameters: wte and lm_head 10x16 each, no wpe, ln_f 32, and the
	# block: ln 2x32, c_attn 48x16+48, c_proj 16x16+16, time_weight 4x8x8,
	# c_fc 64x16+64, c_proj 16x64+16
	assert_output "file	tw.ckpt
format	checkpoint
version	1.0
file_bytes	$(stat -c %s tw.ckpt)
raw_bytes	16956
members	1
chunks	19
params	3888
param_bytes	15552
tensors	17
param_tensors	17
adam_m_tensors	0
adam_v_tensors	0
train	0
tokenizer	0
config.model	gpt
config.n_layer	1
config.n_head	4
config.n_embd	16
config.block_size	8
config.vocab_size	10
config.attention	time-weighting
config.time_shift	1
config.pos_emb	0
config.gelu	tanh
config.dropout_embd	0
config.dropout_attn	0
config.dropout_resid	0
tensor	wte	param	f32	10x16	160	640
tensor	h.0.ln_1.weight	param	f32	16	16	64
tensor	h.0.ln_1.bias	param	f32	16	16	64
tensor	h.0.attn.c_attn.weight	param	f32	48x16	768	3072
tensor	h.0.attn.c_attn.bias	param	f32	48	48	192
tensor	h.0.attn.c_proj.weight	param	f32	16x16	256	1024
tensor	h.0.attn.c_proj.bias	param	f32	16	16	64
tensor	h.0.attn.time_weight	param	f32	4x8x8	256	1024
tensor	h.0.ln_2.weight	param	f32	16	16	64
tensor	h.0.ln_2.bias	param	f32	16	16	64
tensor	h.0.mlp.c_fc.weight	param	f32	64x16	1024	4096
tensor	h.0.mlp.c_fc.bias	param	f32	64	64	256
tensor	h.0.mlp.c_proj.weight	param	f32	16x64	1024	4096
tensor	h.0.mlp.c_proj.bias	param	f32	16	16	64
tensor	ln_f.weight	param	f32	16	16	64
tensor	ln_f.bias	param	f32	16	16	64
tensor	lm_head.weight	param	f32	10x16	160	640"
	assert_equal "$(sizes_of_output)" "$(walk tw.ckpt)"
}

@test "mygpt-info: a trained checkpoint: its training state, moments and tokenizer" {
	adder-gen -q --digits 1 -o a.tok
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 3 --data a.tok -o a.ckpt
	gpt-train -q -j 1 --data a.tok --iters 2 --batch 4 -o t.ckpt a.ckpt
	run --separate-stderr mygpt-info -k t.ckpt
	assert_success
	# 2 steps of 4 records of 1-digit addition, 2 answer targets each: 16 tokens
	assert_equal "$(printf '%s\n' "$output" | grep -v -e '^config\.' -e '^tensor	')" "file	t.ckpt
format	checkpoint
version	1.0
file_bytes	$(stat -c %s t.ckpt)
raw_bytes	48289
members	1
chunks	55
params	3680
param_bytes	14720
tensors	51
param_tensors	17
adam_m_tensors	17
adam_v_tensors	17
train	1
tokenizer	1
tokenizer.kind	chars
tokenizer.vocab_size	10
tokenizer.pretokenizer	none
tokenizer.chars	10
tokenizer.specials	0
tokenizer.longest_token	1
train.step	2
train.tokens	16
train.epoch	0
train.epoch_pos	8
train.seed	1337
train.order	random
train.batch	4
train.micro_batch	4
train.iters	2
train.epochs	0
train.lr	0.0006
train.lr_schedule	cosine
train.warmup_tokens	10240
train.final_tokens	16
train.beta1	0.9
train.beta2	0.95
train.eps	1e-08
train.weight_decay	0.1
train.grad_clip	1
train.val_split	0
train.data_fingerprint	12675664681758404893
train.data_tokens	320
train.eval_every	0
train.eval_batches	0
train.early_stop	0
train.evals_since_best	0"
	# every parameter has its two moments, same shape, in the order of the format
	run -0 mygpt-info -k t.ckpt
	assert_equal "$(printf '%s\n' "$output" | awk -F '\t' '$1 == "tensor" && $3 == "adam_m" { print $2, $5 }')" \
		"$(printf '%s\n' "$output" | awk -F '\t' '$1 == "tensor" && $3 == "param" { print $2, $5 }')"
	assert_equal "$(printf '%s\n' "$output" | awk -F '\t' '$1 == "tensor" { print $3 }' | uniq -c | tr -s ' ')" \
		" 17 param
 17 adam_m
 17 adam_v"
	assert_equal "$(sizes_of_output)" "$(walk t.ckpt)"
}

@test "mygpt-info: the tensors are those the independent reader lists" {
	gpt-init -q --layers 2 --heads 2 --embd 32 --block 4 --vocab 7 --attention circulant -o c.ckpt
	run -0 mygpt-info -k c.ckpt
	mine=$(printf '%s\n' "$output" | awk -F '\t' '$1 == "tensor" { print $2, $3, $4, $5 }')
	theirs=$(/usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import mgread
ck = mgread.read_checkpoint(sys.argv[2])
for (name, role), t in ck.tensors.items():
    print(name, role, t.dtype, "x".join(map(str, t.dims)))
' "$ROOT/tests/formats" c.ckpt)
	assert_equal "$mine" "$theirs"
	# wte, wpe, ln_f (2), lm_head, and 14 per block: 12 and circulant's time_w, time_b
	assert_equal "$(printf '%s\n' "$mine" | wc -l)" 33
}

@test "mygpt-info: tensor data is decompressed only with -c; checksums always count" {
	gpt-init -q --layers 1 --heads 2 --embd 16 --block 8 --vocab 10 -o a.ckpt
	# the first compressed TENS chunk, its zlib check value broken and its CRC
	# made right again: only decompressing the whole stream finds it
	at=$(/usr/bin/python3 -c '
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read()); i = 16
while True:
    t = bytes(b[i:i + 4]); fl, s = struct.unpack("<II", b[i + 4:i + 12])
    if t == b"TENS" and fl & 1:
        b[i + 16 + s - 1] ^= 0xFF
        struct.pack_into("<I", b, i + 16 + s, zlib.crc32(b[i:i + 16 + s]))
        open(sys.argv[2], "wb").write(b); print(i); break
    i += 20 + s
' a.ckpt z.ckpt)
	run -0 mygpt-info -k a.ckpt
	orig=$output
	want=${output//a.ckpt/z.ckpt}
	run --separate-stderr mygpt-info -k z.ckpt
	assert_success
	assert_output "$want"
	run --separate-stderr mygpt-info -c z.ckpt
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mygpt-info: z.ckpt: bad zlib data in chunk 'TENS' at byte $at"
	run -0 mygpt-info -c -k a.ckpt
	assert_output "$orig"
	# a flipped byte of tensor data breaks the chunk's CRC, found without -c
	cp a.ckpt f.ckpt
	printf '\001' | dd of=f.ckpt bs=1 seek=$((at + 40)) conv=notrunc status=none
	run --separate-stderr mygpt-info f.ckpt
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: f.ckpt: checksum mismatch in chunk 'TENS' at byte $at"
}

@test "mygpt-info: a checkpoint as text, with -v the moments too" {
	run --separate-stderr mygpt-info "$VEC/good/full.ckpt"
	assert_success
	assert_output "$VEC/good/full.ckpt: checkpoint, format 1.0
  size               21,088 bytes
  uncompressed       16,780,174 bytes
  members            1
  chunks             11
  parameters         256
  parameter data     584 bytes
  tensors            6
  parameter tensors  4
  AdamW m tensors    1
  AdamW v tensors    1
  training state     yes
  tokenizer          yes
    kind             bpe
    vocab size       267
    pre-tokenizer    none
    byte order       identity
    merges           10
    special tokens   1
    special          266 <|endoftext|>
    longest token    13 bytes
  configuration:
    model            gpt
    n_layer          1
    n_head           2
    n_embd           32
    dropout_attn     0.125
  training state:
    note             vectors
    step             -5
  tensors (-v adds the AdamW moments):
    name    role    dtype  shape               elements           bytes
    t.f32   param   f32    2x32                      64             256
    t.f16   param   f16    2x32                      64             128
    t.bf16  param   bf16   2x32                      64             128
    t.q8    param   q8     2x32                      64              72"
	run --separate-stderr mygpt-info -v "$VEC/good/full.ckpt"
	assert_success
	assert_equal "$(printf '%s\n' "$output" | tail -8)" "  tensors:
    name    role    dtype  shape               elements           bytes
    t.f32   param   f32    2x32                      64             256
    t.f16   param   f16    2x32                      64             128
    t.bf16  param   bf16   2x32                      64             128
    t.q8    param   q8     2x32                      64              72
    big     adam_m  f32    4194368            4,194,368      16,777,472
    t.f32   adam_v  f32    2x32                      64             256"
}

@test "mygpt-info: tokenizer models as text and as keys" {
	run --separate-stderr mygpt-info "$VEC/good/bpe.tkz"
	assert_success
	assert_output "$VEC/good/bpe.tkz: tokenizer model, format 1.0
  size               1,390 bytes
  uncompressed       1,717 bytes
  members            1
  chunks             5
  kind               bpe
  vocab size         301
  pre-tokenizer      gpt2
  byte order         permuted
  merges             44
  special tokens     1
  special            300 <|endoftext|>
  longest token      45 bytes"
	run --separate-stderr mygpt-info -k "$VEC/good/palette.tkz"
	assert_success
	assert_output "file	$VEC/good/palette.tkz
format	tokenizer
version	1.0
file_bytes	120
raw_bytes	120
members	1
chunks	3
kind	palette
vocab_size	4
pretokenizer	none
colors	4
width	2
height	2
specials	0
longest_token	3"
	# a character model with a two-byte character and a special token
	# holding a tab, which the key form escapes
	printf 'h\xc3\xa9llo world\n' > s.txt
	bpe-train -q --chars --special "$(printf '<\t|end|>')" -o s.tkz s.txt
	run --separate-stderr mygpt-info -k s.tkz
	assert_success
	assert_output "file	s.tkz
format	tokenizer
version	1.0
file_bytes	$(stat -c %s s.tkz)
raw_bytes	176
members	1
chunks	4
kind	chars
vocab_size	10
pretokenizer	none
chars	9
specials	1
special	9	<\\t|end|>
longest_token	8"
	assert_equal "$(sizes_of_output)" "$(walk s.tkz)"
}

@test "mygpt-info: token streams: records, mask, ids, the tokenizer, concatenated members" {
	run --separate-stderr mygpt-info "$VEC/good/records_mask.tok"
	assert_success
	assert_output "$VEC/good/records_mask.tok: token stream, format 1.0
  size               307 bytes
  uncompressed       340 bytes
  members            1
  chunks             4
  vocab size         10
  id bytes           2
  layout             examples
  loss mask          yes
  record length      7
  tokens             21
  records            3
  shortest record    7
  longest record     7
  targets            14
  smallest id        2
  largest id         9
  distinct ids       6
  tokenizer          yes
    kind             chars
    vocab size       10
    pre-tokenizer    none
    characters       10
    special tokens   0
    longest token    1 byte"
	# 80 training problems of 1-digit addition: 4 tokens each, 2 of them targets
	adder-gen -q --digits 1 -o a.tok
	run --separate-stderr mygpt-info -k a.tok
	assert_success
	assert_output "file	a.tok
format	tokens
version	1.0
file_bytes	$(stat -c %s a.tok)
raw_bytes	1283
members	1
chunks	4
vocab_size	10
id_bytes	2
layout	examples
mask	1
record_len	4
tokens	320
records	80
record_min	4
record_max	4
targets	160
id_min	0
id_max	9
ids_distinct	10
tokenizer	1
tokenizer.kind	chars
tokenizer.vocab_size	10
tokenizer.pretokenizer	none
tokenizer.chars	10
tokenizer.specials	0
tokenizer.longest_token	1"
	assert_equal "$(sizes_of_output)" "$(walk a.tok)"
	# two members: counted together
	cat a.tok a.tok > aa.tok
	run -0 mygpt-info -k aa.tok
	assert_equal "$(printf '%s\n' "$output" | grep -e '^members' -e '^chunks' -e '^tokens' -e '^records' -e '^targets')" \
		"members	2
chunks	8
tokens	640
records	160
targets	320"
	# documents of different lengths, 4-byte ids
	run -0 mygpt-info -k "$VEC/good/documents32.tok"
	assert_equal "$(printf '%s\n' "$output" | grep -e '^id_bytes' -e '^record_' -e '^id_m' -e '^ids')" \
		"id_bytes	4
record_len	0
record_min	1
record_max	65540
id_min	0
id_max	69999
ids_distinct	65546"
}

@test "mygpt-info: every good vector agrees with its MANIFEST line" {
	while IFS="$(printf '\t')" read -r f facts; do
		case $f in '#'*) continue ;; esac
		run -0 mygpt-info -k "$VEC/good/$f"
		k() { printf '%s\n' "$output" | awk -F '\t' -v k="$1" '$1 == k { print $2 }'; }
		case $(k format) in
		tokens)
			tk=$(k tokenizer.kind)
			got="tokens vocab=$(k vocab_size) width=$(k id_bytes) layout=$(k layout) mask=$(k mask) record_len=$(k record_len) n=$(k tokens) records=$(k records)${tk:+ tokenizer=$tk}"
			want=$(printf '%s\n' "$facts" | sed 's/ sum=.*//')
			[ "$(k targets)" = "$(printf '%s\n' "$facts" | sed 's/.*masked=//')" ] || { echo "$f: targets $(k targets)"; return 1; }
			;;
		tokenizer)
			got="tokenizer kind=$(k kind) vocab=$(k vocab_size) split=$([ "$(k pretokenizer)" = gpt2 ] && echo 1 || echo 0) specials=$(k specials)"
			want=$(printf '%s\n' "$facts" | sed 's/ bytes=.*//')
			;;
		checkpoint)
			keys=$(printf '%s\n' "$output" | grep -c '^config\.')
			train=$(printf '%s\n' "$output" | grep -c '^train\.' || true)
			[ "$(k train)" = 1 ] || train=-
			tk=$(k tokenizer.kind)
			elems=$(printf '%s\n' "$output" | awk -F '\t' '$1 == "tensor" { s += $6 } END { print s }')
			got="checkpoint keys=$keys train=$train tokenizer=${tk:--} tensors=$(k tensors) elements=$elems"
			want=$(printf '%s\n' "$facts" | sed 's/ sum=.*//')
			;;
		esac
		[ "$got" = "$want" ] || { echo "$f: got  $got"; echo "$f: want $want"; return 1; }
		[ "$(sizes_of_output)" = "$(walk "$VEC/good/$f")" ] || { echo "$f: sizes $(sizes_of_output)"; return 1; }
	done < "$VEC/good/MANIFEST"
}

@test "mygpt-info: every bad vector is one line naming the file and the reader's error, exit 1" {
	while IFS="$(printf '\t')" read -r f kind msg; do
		case $f in '#'*) continue ;; esac
		run --separate-stderr mygpt-info "$VEC/bad/$f"
		[ "$status" -eq 1 ] || { echo "$f: status $status"; return 1; }
		[ -z "$output" ] || { echo "$f: stdout $output"; return 1; }
		[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || { echo "$f: $stderr"; return 1; }
		case $stderr in
		"mygpt-info: $VEC/bad/$f: "*"$msg"*) ;;
		*) echo "$f: $stderr (want $msg)"; return 1 ;;
		esac
	done < "$VEC/bad/MANIFEST"
	run --separate-stderr mygpt-info "$VEC/bad/flip.ckpt"
	assert_equal "$stderr" "mygpt-info: $VEC/bad/flip.ckpt: checksum mismatch in chunk 'TENS' at byte 1436"
}

@test "mygpt-info: what is not a mygpt file" {
	printf 'hello\n' > t.txt
	run --separate-stderr mygpt-info t.txt
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mygpt-info: t.txt: bad magic at byte 0: not a mygpt file"
	run --separate-stderr mygpt-info - < /dev/null
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: <stdin>: empty input, expected a mygpt file"
	printf '\211MG' > short
	run --separate-stderr mygpt-info short
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: short: truncated preamble at byte 3"
	head -c 12 "$VEC/good/chars.tkz" > short.tkz
	run --separate-stderr mygpt-info short.tkz
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: short.tkz: truncated preamble at byte 12"
	run --separate-stderr mygpt-info no-such-file
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: no-such-file: No such file or directory"
}

@test "mygpt-info: several files, stdin as - or no operand; a bad one is reported and the rest printed" {
	run --separate-stderr mygpt-info -k "$VEC/good/empty.tok" - < "$VEC/good/chars.tkz"
	assert_success
	assert_output "file	$VEC/good/empty.tok
format	tokens
version	1.0
file_bytes	96
raw_bytes	96
members	1
chunks	2
vocab_size	301
id_bytes	2
layout	stream
mask	0
record_len	0
tokens	0
records	0
record_min	0
record_max	0
targets	0
id_min	0
id_max	0
ids_distinct	0
tokenizer	0

file	<stdin>
format	tokenizer
version	1.0
file_bytes	124
raw_bytes	124
members	1
chunks	3
kind	chars
vocab_size	6
pretokenizer	none
chars	6
specials	0
longest_token	4"
	run --separate-stderr mygpt-info -k < "$VEC/good/chars.tkz"
	assert_success
	assert_line -n 0 "file	<stdin>"
	assert_line -n 7 "kind	chars"
	printf 'x' > x.txt
	run --separate-stderr mygpt-info -k "$VEC/good/chars.tkz" x.txt "$VEC/good/palette.tkz"
	assert_failure 1
	assert_equal "$stderr" "mygpt-info: x.txt: bad magic at byte 0: not a mygpt file"
	assert_equal "$(printf '%s\n' "$output" | grep '^file')" "file	$VEC/good/chars.tkz
file_bytes	124
file	$VEC/good/palette.tkz
file_bytes	120"
}

@test "mygpt-info: -q checks without printing, -o writes a file" {
	run --separate-stderr mygpt-info -q "$VEC/good/full.ckpt" "$VEC/good/concat.tok" "$VEC/good/bpe.tkz"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	run --separate-stderr mygpt-info -q "$VEC/good/full.ckpt" "$VEC/bad/stray.ckpt"
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "mygpt-info: $VEC/bad/stray.ckpt: stray data after the checkpoint at byte 21088"
	run --separate-stderr mygpt-info -k -o info.txt "$VEC/good/bpe.tkz"
	assert_success
	assert_output ""
	run -0 mygpt-info -k "$VEC/good/bpe.tkz"
	assert_equal "$(cat info.txt)" "$output"
}

@test "mygpt-info: usage errors exit 2" {
	run --separate-stderr mygpt-info -x
	assert_failure 2
	assert_equal "$(printf '%s\n' "$stderr" | head -1)" "mygpt-info: unknown option '-x'"
	run --separate-stderr mygpt-info --keys=1
	assert_failure 2
	run --separate-stderr mygpt-info -o
	assert_failure 2
	assert_equal "$(printf '%s\n' "$stderr" | head -1)" "mygpt-info: option '-o' needs a value"
}
