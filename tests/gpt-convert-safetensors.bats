#!/usr/bin/env bats
# gpt-convert --from safetensors / --to safetensors (man/gpt-convert.1,
# formats/safetensors.md): byte-identical round trips of every variant,
# GPT-2 and nanoGPT files against PyTorch (Debian python3-torch, the
# container read and written with the standard library:
# tests/model/safetensors_ref.py), the pipeline into gpt-sample with GPT-2's
# tokenizer, and every malformed file refused with status 1 and its reason.
load helpers

REF="/usr/bin/python3 $ROOT/tests/model/safetensors_ref.py"
LOGITS="$BUILD/tests/tools/gpt_logits"
GPT2="$ROOT/tests/data/gpt2"

# A trained character model of tiny Shakespeare, tied and untied, and its
# validation tokens: made once.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || exit 1
	export PATH="$BIN:$PATH"
	bpe-train -q --chars -o chars.tkz "$ROOT/examples/data/tinyshakespeare.txt"
	head -c 20000 "$ROOT/examples/data/tinyshakespeare.txt" | bpe-encode -q -m chars.tkz -o text.tok
	head -c 8000 "$ROOT/examples/data/tinyshakespeare.txt" | tail -c 3000 | bpe-encode -q -m chars.tkz -o val.tok
	for tie in untied tied; do
		gpt-init -q --layers 2 --heads 4 --embd 32 --block 32 --dropout 0 \
			$([ $tie = tied ] && echo --tie-embeddings) --data text.tok |
			gpt-train -q -j 1 --data text.tok --iters 20 --batch 8 -o $tie.ckpt
	done
}

F() { echo "$BATS_FILE_TMPDIR/$1"; }

# The JSON header of a safetensors file, on one line.
header() {
	/usr/bin/python3 -c 'import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
print(n % 8, json.dumps(json.loads(b[8:8 + n]), sort_keys=True))' "$1"
}

@test "gpt-convert: mygpt -> safetensors -> mygpt gives the same bytes, every variant, both layouts" {
	for v in "--attention vanilla" "--attention time-weighting" "--attention circulant --time-shift" \
		"--attention circulant --no-pos-emb" "--tie-embeddings --gelu erf" "--attention time-weighting --tie-embeddings"; do
		gpt-init -q --layers 2 --heads 2 --embd 16 --block 8 --vocab 65 --tokenizer "$(F chars.tkz)" $v -o m.ckpt
		gpt-convert -q --params-only --dtype f32 -o ref.ckpt m.ckpt
		for layout in "" --hf; do
			run gpt-convert -q --to safetensors $layout -o m.safetensors m.ckpt
			assert_success
			run gpt-convert -q --from safetensors --tokenizer "$(F chars.tkz)" -o back.ckpt m.safetensors
			assert_success
			cmp ref.ckpt back.ckpt || { echo "$v $layout: differs"; return 1; }
		done
	done
}

@test "gpt-convert: --to safetensors writes nanoGPT's names, the configuration and the counters in __metadata__" {
	run gpt-convert -q --to safetensors -o t.safetensors "$(F tied.ckpt)"
	assert_success
	run header t.safetensors
	# the header is padded to a multiple of 8
	assert_output --regexp '^0 '
	assert_output --partial '"__metadata__": {"attention": "vanilla", "block_size": "32", "dropout_attn": "0", "dropout_embd": "0", "dropout_resid": "0", "format": "pt", "gelu": "tanh", "layout": "nanogpt", "model": "gpt", "n_embd": "32", "n_head": "4", "n_layer": "2", "pos_emb": "1", "tie_embeddings": "1", "time_shift": "0"'
	assert_output --partial '"train.step": "20"'
	assert_output --partial '"transformer.h.1.attn.c_attn.weight": {"data_offsets": ['
	assert_output --partial '], "dtype": "F32", "shape": [96, 32]}'
	# tied: nanoGPT's GPT class holds the matrix under both names
	assert_output --partial '"lm_head.weight": {"data_offsets": [8320, 16640], "dtype": "F32", "shape": [65, 32]}'
	assert_output --partial '"transformer.wte.weight": {"data_offsets": [0, 8320], "dtype": "F32", "shape": [65, 32]}'
}

@test "gpt-convert: --hf writes GPT-2's names, Conv1D weights in x out, no tied head" {
	run gpt-convert -q --to safetensors --hf -o h.safetensors "$(F tied.ckpt)"
	assert_success
	run header h.safetensors
	assert_output --partial '"h.0.attn.c_attn.weight": {"data_offsets": ['
	assert_output --partial '], "dtype": "F32", "shape": [32, 96]}'
	assert_output --partial '"h.0.mlp.c_proj.weight": {"data_offsets": ['
	assert_output --partial '], "dtype": "F32", "shape": [128, 32]}'
	assert_output --partial '"layout": "hf"'
	assert_output --partial '"wte.weight": {"data_offsets": [0, 8320]'
	refute_output --partial 'lm_head'
	refute_output --partial 'transformer.'
}

@test "gpt-convert: the element types stay as stored on the way out; q8 becomes F32" {
	gpt-convert -q --dtype bf16 --other-dtype f16 -o b.ckpt "$(F untied.ckpt)"
	gpt-convert -q --to safetensors -o b.safetensors b.ckpt
	run header b.safetensors
	assert_output --partial '"transformer.h.0.attn.c_attn.weight": {"data_offsets": ['
	assert_output --regexp '"transformer.h.0.attn.c_attn.weight": \{"data_offsets": \[[0-9]+, [0-9]+\], "dtype": "BF16"'
	assert_output --regexp '"transformer.wte.weight": \{"data_offsets": \[0, 4160\], "dtype": "F16"'
	gpt-convert -q --dtype q8 -o q.ckpt "$(F untied.ckpt)"
	gpt-convert -q --to safetensors -o q.safetensors q.ckpt
	run header q.safetensors
	assert_output --regexp '"transformer.h.0.attn.c_attn.weight": \{"data_offsets": \[[0-9]+, [0-9]+\], "dtype": "F32"'
	# and back: the same values as the q8 checkpoint expanded
	gpt-convert -q --dtype f32 -o q32.ckpt q.ckpt
	gpt-convert -q --from safetensors --tokenizer "$(F chars.tkz)" -o back.ckpt q.safetensors
	cmp q32.ckpt back.ckpt
	run --separate-stderr gpt-convert --to safetensors --dtype q8 -o x.safetensors q.ckpt
	assert_failure 2
	[[ "$stderr" == "gpt-convert: --to safetensors: q8 has no safetensors dtype (it has f32, f16, bf16)"$'\n'* ]]
}

@test "gpt-convert: GPT-2 and nanoGPT files built in PyTorch give PyTorch's logits (1e-5), tied and untied" {
	[ -x "$LOGITS" ] || { echo "no $LOGITS: run make check"; return 1; }
	run $REF gpt2 "$BIN" "$LOGITS" "$GPT2"
	printf '%s\n' "$output" | sed 's/^/# /' >&3
	assert_success
	assert_line --partial "5 models, worst"
	refute_line --partial "OVER"
	# the comparison can fail: float32 cannot be exact
	run $REF gpt2 "$BIN" "$LOGITS" "$GPT2" --tol 0
	assert_failure 1
	assert_line --partial "OVER 0"
}

@test "gpt-convert: PyTorch loads the nanoGPT export into nanoGPT's GPT and gets gpt-train --eval-only's loss" {
	for m in untied tied; do
		gpt-convert -q --to safetensors -o $m.safetensors "$(F $m.ckpt)"
		run -0 gpt-train --eval-only -q -j 1 --val "$(F val.tok)" "$(F $m.ckpt)"
		want=$output
		run -0 $REF nanogpt $m.safetensors "$(F val.tok)"
		/usr/bin/python3 -c 'import sys
a, b = (float(s.split()[2]) for s in sys.argv[1:3])
n1, n2 = (s.split()[4] for s in sys.argv[1:3])
print(sys.argv[1], "|", sys.argv[2])
sys.exit(0 if abs(a - b) <= 1e-5 * b and n1 == n2 else 1)' "$output" "$want"
	done
}

@test "gpt-convert: a GPT-2-shaped file with GPT-2's tokenizer samples in a pipe" {
	$REF write-gpt2 gpt2.safetensors 2 64 64
	run --separate-stderr gpt-convert --from safetensors -o g.ckpt gpt2.safetensors --gpt2 "$GPT2"
	assert_success
	assert_equal "$stderr" "gpt-convert: gpt2.safetensors: Hugging Face GPT-2's layout, configuration from the tensors' shapes, 28 tensors, the attention-mask buffers skipped, tied embeddings, tokenizer embedded
gpt-convert: gpt2.safetensors: 1 head of 64 channels, GPT-2's: give --heads if the model has others"
	run mygpt-info g.ckpt
	assert_line "  parameter tensors  28"
	assert_line "    vocab size       50,257"
	assert_line "    pre-tokenizer    gpt2"
	# the goal's command as written (gpt-sample's defaults: 500 new tokens)
	gpt-convert --from safetensors gpt2.safetensors --gpt2 "$GPT2" 2> convert.err |
		gpt-sample --prompt "Hello, I'm a language model," > out.txt
	[[ "$(cat out.txt)" == "Hello, I'm a language model,"* ]]
	[ "$(wc -c < out.txt)" -gt 28 ]
	# 500 tokens after the prompt's 8 (GPT-2's tokens of the prompt)
	gpt-convert -q --from safetensors gpt2.safetensors --gpt2 "$GPT2" |
		gpt-sample -q --tokens --prompt "Hello, I'm a language model," > ids.tok
	run -0 /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mgread
print(len(mgread.read_tokens(sys.argv[2]).ids))' "$ROOT/tests/formats" ids.tok
	assert_output 508
	# the same bytes from a pipe as from the file
	gpt-convert -q --from safetensors --gpt2 "$GPT2" -o p.ckpt < gpt2.safetensors
	cmp g.ckpt p.ckpt
}

@test "gpt-convert: a converted tied model fine-tunes with gpt-train" {
	$REF write-gpt2 small.safetensors 1 64 16
	gpt-convert -q --from safetensors --heads 2 -o s.ckpt small.safetensors
	echo 464 3290 318 257 1332 13 464 3290 318 257 1332 13 464 3290 318 257 1332 13 464 3290 318 257 1332 13 |
		bpe-encode -q --from-ids --layout stream --vocab 50257 -o ft.tok
	run --separate-stderr gpt-train -q -j 1 --data ft.tok --iters 3 --batch 2 -o tuned.ckpt s.ckpt
	assert_success
	run mygpt-info tuned.ckpt
	assert_line "    tie_embeddings   1"
	assert_line "    step             3"
	# wte, wpe, 12 in the block, ln_f: no lm_head; and their AdamW moments
	assert_line "  parameter tensors  16"
	assert_line "  AdamW m tensors    16"
}

@test "gpt-convert: malformed safetensors files are refused with status 1, naming the problem" {
	gpt-convert -q --to safetensors -o good.safetensors "$(F tied.ckpt)"
	mkdir bad
	$REF malformed good.safetensors bad
	check() {
		run --separate-stderr gpt-convert --from safetensors -o x.ckpt "bad/$1"
		[ "$status" -eq 1 ] || { echo "$1: status $status: $stderr"; return 1; }
		[[ "$stderr" == "gpt-convert: bad/$1: "*"$2"* ]] || { echo "$1: '$stderr' lacks '$2'"; return 1; }
	}
	check truncated.safetensors "tensor 'transformer.ln_f.bias': data_offsets [122496, 122624] are past the end of the file (it holds 122524 bytes of data)"
	check header-2gb.safetensors "header length 2147483648 is over safetensors' limit of 100000000 bytes"
	check overlap.safetensors "tensor 'lm_head.weight' (bytes 8316 to 16636) overlaps tensor 'transformer.wte.weight'"
	check out-of-bounds.safetensors "tensor 'transformer.wte.weight': data_offsets [122632, 130952] are past the end of the file"
	check dtype.safetensors "tensor 'transformer.wte.weight': unsupported dtype 'I64' (F32, F16 and BF16 only)"
	check byte-count.safetensors "tensor 'transformer.wte.weight': data_offsets [0, 8316] hold 8316 bytes, shape x F32 needs 8320"
	check duplicate.safetensors "duplicate name 'transformer.wte.weight'"
	check trailing.safetensors "8 bytes after the end of the data"
	check hole.safetensors "a hole in the data: bytes 0 to 8 before tensor 'transformer.wte.weight'"
	# through a pipe, where the size is not known in advance
	from_pipe() { cat "$1" | gpt-convert --from safetensors -o x.ckpt; }
	run --separate-stderr from_pipe bad/truncated.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: <stdin>: truncated at byte 126140, in tensor 'transformer.ln_f.bias'"
	[ ! -e x.ckpt ]
}

@test "gpt-convert: files that are not a GPT model are named" {
	/usr/bin/python3 - <<-'EOF'
	import json, struct
	def put(path, header, data=b""):
	    h = json.dumps(header).encode()
	    open(path, "wb").write(struct.pack("<Q", len(h)) + h + data)
	put("unknown.safetensors", {"encoder.weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, bytes(8))
	put("noblock.safetensors", {"wte.weight": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}}, bytes(32))
	put("notjson.safetensors", {"a": 1}, b"")
	EOF
	printf '\x08\0\0\0\0\0\0\0{"a":1,}' > comma.safetensors
	run --separate-stderr gpt-convert --from safetensors -o x.ckpt unknown.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: unknown.safetensors: unknown tensor 'encoder.weight' (neither nanoGPT's nor GPT-2's names)"
	run --separate-stderr gpt-convert --from safetensors -o x.ckpt noblock.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: noblock.safetensors: no h.0.attn.c_attn.weight: the file has no transformer block 0"
	run --separate-stderr gpt-convert --from safetensors -o x.ckpt notjson.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: notjson.safetensors: tensor 'a': its entry is not an object"
	run --separate-stderr gpt-convert --from safetensors -o x.ckpt comma.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: comma.safetensors: header: byte 7: expected a key string"
	# a checkpoint given where safetensors is expected
	run --separate-stderr gpt-convert --from safetensors -o x.ckpt "$(F tied.ckpt)"
	assert_failure 1
	[[ "$stderr" == "gpt-convert: $(F tied.ckpt): header length "*" is over safetensors' limit of 100000000 bytes" ]]
}

@test "gpt-convert: the heads the caller gives must agree with the file" {
	$REF write-gpt2 small.safetensors 1 64 16
	run --separate-stderr gpt-convert --from safetensors --heads 3 -o x.ckpt small.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: small.safetensors: the configuration the tensors give: n_embd 64 is not divisible by n_head 3"
	gpt-convert -q --to safetensors -o t.safetensors "$(F tied.ckpt)"
	run --separate-stderr gpt-convert --from safetensors --heads 2 -o x.ckpt t.safetensors
	assert_failure 1
	assert_equal "$stderr" "gpt-convert: t.safetensors: n_head 2 was given, but the file's is 4"
}

@test "gpt-convert: the safetensors options are usage errors without their side" {
	run --separate-stderr gpt-convert --hf -o x.ckpt "$(F tied.ckpt)"
	assert_failure 2
	[[ "$stderr" == "gpt-convert: --hf needs --to safetensors"$'\n'* ]]
	run --separate-stderr gpt-convert --gpt2 "$GPT2" -o x.ckpt "$(F tied.ckpt)"
	assert_failure 2
	[[ "$stderr" == "gpt-convert: --gpt2, --tokenizer, --heads, --block and --gelu need --from safetensors"$'\n'* ]]
	run --separate-stderr gpt-convert --from onnx "$(F tied.ckpt)"
	assert_failure 2
	[[ "$stderr" == "gpt-convert: invalid value 'onnx' for --from: expected one of ckpt, safetensors"$'\n'* ]]
}
