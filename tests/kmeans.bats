#!/usr/bin/env bats
# The k-means palette (lib/image/kmeans.c, through the test tool kmeans_run)
# against a NumPy Lloyd (tests/model/kmeans_ref.py, float64, ties to the
# lowest index, centres rounded to float32 as ours) from the same initial
# centres, on a fixed synthetic set of colour blobs. Tolerance 1e-4 on the
# centres (float32's rounding of values under 256 is 1.5e-5).
load helpers

RUN="$BUILD/tests/tools/kmeans_run"
REF="/usr/bin/python3 $ROOT/tests/model/kmeans_ref.py"

@test "kmeans: Lloyd from k-means++ centres agrees with NumPy's" {
	[ -x "$RUN" ] || { echo "no $RUN: run make check"; return 1; }
	run -0 $REF points pts.bin 20000 7 synthetic
	assert_output "a synthetic set"
	run -0 "$RUN" fit -p -k 64 -i 8 -s 3 -j 3 3 pts.bin init.bin final.bin
	assert_output --regexp '^seconds [0-9.]+ mse [0-9.]+ reseeded 0$'
	run -0 $REF compare pts.bin init.bin final.bin 8 1e-4
	printf '%s\n' "$output" | sed 's/^/# /' >&3
	assert_line --partial "k 64, 20000 points, 8 iterations"
	refute_line --partial "OVER"
}

@test "kmeans: Lloyd from random centres agrees with NumPy's" {
	[ -x "$RUN" ] || { echo "no $RUN: run make check"; return 1; }
	run -0 $REF points pts.bin 20000 7 synthetic
	# no cluster empties here (a re-seeded one would not be comparable)
	run -0 "$RUN" fit -k 64 -i 8 -s 3 -j 2 3 pts.bin init.bin final.bin
	assert_output --regexp '^seconds [0-9.]+ mse 140\.23[0-9]* reseeded 0$'
	run -0 $REF compare pts.bin init.bin final.bin 8 1e-4
	printf '%s\n' "$output" | sed 's/^/# /' >&3
	refute_line --partial "OVER"
}

@test "kmeans: the comparison with NumPy fails on centres that are off" {
	[ -x "$RUN" ] || { echo "no $RUN: run make check"; return 1; }
	run -0 $REF points pts.bin 20000 7 synthetic
	# two iterations fewer than the reference runs
	run -0 "$RUN" fit -p -k 64 -i 6 -s 3 -j 1 3 pts.bin init.bin final6.bin
	run -1 $REF compare pts.bin init.bin final6.bin 8 1e-4
	assert_line --partial "OVER"
}
