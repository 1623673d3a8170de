#!/usr/bin/env bats
# The GPT model of the C library against PyTorch (Debian python3-torch, CPU,
# float64): tests/model/torch_ref.py, a model written from
# formats/checkpoint.md, on random tiny configurations of every variant.
load helpers

DUMP="$BUILD/tests/model/gpt-dump"

@test "model: logits, loss, gradients and AdamW steps agree with PyTorch" {
	[ -x "$DUMP" ] || { echo "no $DUMP: run make check"; return 1; }
	run /usr/bin/python3 "$ROOT/tests/model/torch_ref.py" "$BIN" "$DUMP" --configs 36
	# the worst errors, in the TAP output
	printf '%s\n' "$output" | sed 's/^/# /' >&3
	assert_success
	assert_line --partial "36 configurations"
	refute_line --partial "OVER"
}

@test "model: the comparison fails when an error is over the tolerance" {
	[ -x "$DUMP" ] || { echo "no $DUMP: run make check"; return 1; }
	# gpt-dump perturbs the parameters; --tol 0 demands bit-exact float64
	# agreement, which a float32 model cannot reach: the check can fail
	run /usr/bin/python3 "$ROOT/tests/model/torch_ref.py" "$BIN" "$DUMP" --configs 2 --tol 0
	assert_failure 1
	assert_line --partial "OVER 0"
}
