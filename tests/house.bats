#!/usr/bin/env bats
# The house rules of lib/ (lib/README.md): the include check passes on the
# tree and names each kind of violation; the fixed pipeline through every
# tool repeats byte for byte.
load helpers

# a copy of the sources the check reads, to break on purpose
copy_tree() {
	mkdir -p tree
	cp -r "$ROOT/lib" "$ROOT/cmd" "$ROOT/cuda" tree/
}

@test "house: the tree follows the include rules" {
	run -0 /usr/bin/python3 "$ROOT/tests/house/includes.py"
	assert_output ""
}

@test "house: a forbidden include between folders is named with its line" {
	copy_tree
	echo '#include "train/trainer.h"' >> tree/lib/infer/sample.c
	n=$(wc -l < tree/lib/infer/sample.c)
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	assert_output "lib/infer/sample.c:$n: lib/infer/ may not include \"train/trainer.h\""
}

@test "house: the model may see the checkpoint API but not the container" {
	copy_tree
	echo '#include "io/chunk.h"' >> tree/lib/model/gpt.c
	n=$(wc -l < tree/lib/model/gpt.c)
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	assert_output "lib/model/gpt.c:$n: lib/model/ may not include \"io/chunk.h\""
}

@test "house: interop sees the model's public header, not its insides or training" {
	copy_tree
	printf '#include "model/gpt_internal.h"\n#include "train/trainer.h"\n' >> tree/lib/interop/st_convert.c
	n=$(wc -l < tree/lib/interop/st_convert.c)
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	assert_line "lib/interop/st_convert.c:$((n - 1)): lib/interop/ may not include \"model/gpt_internal.h\""
	assert_line "lib/interop/st_convert.c:$n: lib/interop/ may not include \"train/trainer.h\""
}

@test "house: a folder of lib/ without a rule is named" {
	copy_tree
	mkdir tree/lib/newfolder
	printf '#include "core/err.h"\n' > tree/lib/newfolder/thing.c
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	assert_output "lib/newfolder/thing.c:1: lib/newfolder/ (a folder without a rule in includes.py) may not include \"core/err.h\""
}

@test "house: OpenMP, BLAS, intrinsics and CUDA stay in their backends" {
	copy_tree
	printf '#pragma omp parallel for\n' >> tree/lib/model/gpt.c
	printf '#include <cblas.h>\n' >> tree/lib/train/trainer.c
	printf '#include <immintrin.h>\n' >> tree/lib/bpe/bpe_encode.c
	printf '#include <cuda_runtime.h>\n' >> tree/lib/backend/cpu/cpu.c
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	assert_line "lib/model/gpt.c:$(wc -l < tree/lib/model/gpt.c): OpenMP outside lib/backend/cpu/"
	assert_line "lib/train/trainer.c:$(wc -l < tree/lib/train/trainer.c): BLAS outside lib/backend/cpu/"
	assert_line "lib/bpe/bpe_encode.c:$(wc -l < tree/lib/bpe/bpe_encode.c): intrinsics outside lib/backend/cpu/"
	assert_line "lib/backend/cpu/cpu.c:$(wc -l < tree/lib/backend/cpu/cpu.c): CUDA outside cuda/"
	[ "${#lines[@]}" -eq 4 ]
}

@test "house: tools include only public headers" {
	copy_tree
	echo '#include "model/gpt_internal.h"' >> tree/cmd/gpt-init.c
	echo '#include "backend/cpu/cpu.h"' >> tree/cmd/gpt-train.c
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	assert_line "cmd/gpt-init.c:$(wc -l < tree/cmd/gpt-init.c): cmd/ may not include \"model/gpt_internal.h\""
	assert_line "cmd/gpt-train.c:$(wc -l < tree/cmd/gpt-train.c): cmd/ may not include \"backend/cpu/cpu.h\""
	[ "${#lines[@]}" -eq 2 ]
}

@test "house: includes name their folder, and file names are unique" {
	copy_tree
	echo '#include "err.h"' >> tree/lib/core/rng.c
	cp tree/lib/core/rng.c tree/lib/io/rng.c
	run -1 /usr/bin/python3 "$ROOT/tests/house/includes.py" tree
	n=$(wc -l < tree/lib/core/rng.c)
	assert_line "lib/core/rng.c:$n: \"err.h\" without its folder (write \"core/err.h\")"
	assert_line "lib/io/rng.c:$n: \"err.h\" is not a header of lib/ (write the folder: \"core/err.h\")"
	assert_line "lib/core/rng.c: file name used twice (lib/core/rng.c, lib/io/rng.c)"
	[ "${#lines[@]}" -eq 3 ]
}

@test "house: the fixed pipeline through every tool repeats byte for byte" {
	run -0 sh "$ROOT/tests/house/pipeline.sh"
	first=$output
	[ "${#lines[@]}" -eq 38 ]
	run -0 sh "$ROOT/tests/house/pipeline.sh"
	assert_equal "$output" "$first"
}

@test "house: every file a tool writes goes through lib/io/outfile" {
	# no other code opens a file for writing, creates or renames one: each
	# output gets the temporary file, the lock, the fsync and the rename
	cd "$ROOT"
	run grep -rnE 'fopen\([^)]*"[wa]|\brename\(|mkstemp|mkostemp|\bcreat\(|open\([^)]*O_(WRONLY|RDWR|CREAT)|fdopen\(|freopen\(' \
		lib cmd cuda --include='*.c' --include='*.cu' --include='*.h'
	run grep -v '^lib/io/outfile\.[ch]:' <<<"$output"
	assert_output ""
	# the check finds one
	run grep -cE 'fopen\([^)]*"[wa]' "$ROOT/tests/unit/test_outfile.c"
	[ "$output" -gt 0 ]
}
