#!/bin/sh
# A fixed pipeline through every tool, printing the SHA-256 of each output:
# run it before and after a change that must not change behaviour and
# compare (e.g. sh tests/house/pipeline.sh > before.txt). Uses ./bin and
# the bundled data; one thread, so the hashes are those of -j 1.
# usage: tests/house/pipeline.sh [bindir]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/bin}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
export LC_ALL=C OMP_NUM_THREADS=1
head -c 200000 "$ROOT/examples/data/tinyshakespeare.txt" > text.txt
"$BIN/bpe-train" -q --vocab-size 400 -o bpe.tkz text.txt
"$BIN/bpe-train" -q --chars -o chars.tkz text.txt
"$BIN/bpe-encode" -q -m bpe.tkz -o bpe.tok text.txt
"$BIN/bpe-encode" -q -m chars.tkz -o chars.tok text.txt
"$BIN/bpe-encode" -q -m bpe.tkz --ids text.txt > bpe.ids
"$BIN/bpe-encode" -q --to-ids bpe.tok > bpe.toids
"$BIN/bpe-encode" -q -d -m bpe.tkz bpe.tok > roundtrip.txt
cmp text.txt roundtrip.txt
for att in vanilla time-weighting circulant; do
	"$BIN/gpt-init" -q --layers 2 --heads 2 --embd 32 --block 32 --data chars.tok \
		--attention $att --time-shift -s 7 -o init-$att.ckpt
	"$BIN/gpt-train" -q -j 1 --data chars.tok --val-split 0.1 --iters 20 --batch 8 \
		--eval-every 10 --eval-batches 2 --log train-$att.tsv -s 3 \
		-o trained-$att.ckpt init-$att.ckpt
	"$BIN/gpt-train" -q -j 1 --eval-only --val chars.tok --eval-batches 2 \
		trained-$att.ckpt > eval-$att.txt
	"$BIN/gpt-sample" -q -j 1 --greedy --prompt 'ROMEO:' --max-new-tokens 40 \
		trained-$att.ckpt > greedy-$att.txt
	"$BIN/gpt-sample" -q -j 1 -s 5 --top-k 10 --num-samples 3 --max-new-tokens 30 \
		--start-data chars.tok trained-$att.ckpt > seeded-$att.txt
	"$BIN/gpt-sample" -q -j 1 -s 5 --tokens --num-samples 2 --max-new-tokens 20 \
		trained-$att.ckpt > seeded-$att.tok
done
"$BIN/gpt-init" -q --layers 1 --heads 2 --embd 16 --block 16 --no-pos-emb --gelu erf \
	--data bpe.tok -s 9 -o nopos.ckpt
"$BIN/gpt-train" -q -j 1 --data bpe.tok --iters 5 --batch 4 --micro-batch 2 \
	--lr-schedule cosine-min -o nopos-trained.ckpt nopos.ckpt
"$BIN/adder-gen" -q --digits 2 -s 4 -o adder-train.tok
"$BIN/adder-gen" -q --digits 2 -s 4 --split test -o adder-test.tok
"$BIN/adder-gen" -q --digits 2 -s 4 --split test --prompts -o adder-prompts.tok
"$BIN/gpt-init" -q --layers 1 --heads 2 --embd 32 --data adder-train.tok -s 1 -o adder.ckpt
"$BIN/gpt-train" -q -j 1 --data adder-train.tok --iters 20 --batch 32 -o adder-trained.ckpt adder.ckpt
"$BIN/gpt-sample" -q -j 1 --complete adder-prompts.tok --greedy --tokens adder-trained.ckpt > adder-done.tok
"$BIN/adder-gen" --digits 2 -s 4 --score adder-done.tok > adder-score.txt 2>&1 || true
# the logs without their last column (tokens_per_s, a timing)
for f in train-*.tsv; do cut -f 1-6 "$f" > "$f.nt" && mv "$f.nt" "$f"; done
sha256sum *.tkz *.tok *.ids *.toids *.ckpt *.tsv *.txt | sort -k 2
