#!/bin/sh
# Runs tests/cuda/test_cuda_backend.c with the CUDA kernels of cuda/*.cu
# compiled for the host over the stand-ins of this folder: a check of the
# kernels' logic without a GPU (slow: minutes; smaller shapes than on the
# GPU). Not a substitute for make check-cuda. Run from the repository root
# after make (it links the objects of build/lib/, and loads the kernels as
# the tools do: a module, here built over the stand-ins).
set -eu
out=build/tests/cuda/emu
mkdir -p "$out/src"
for f in cuda/*.cu; do
	b=$(basename "$f" .cu)
	# kernel<<<grid, block>>>(args); -> a call of the fiber launcher
	python3 -c '
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"(\w+)<<<(.*?)>>>\((.*?)\);",
           lambda m: "mg_fake_launch(mg_cfg(%s), [=]{ %s(%s); });" % (m.group(2), m.group(1), m.group(3)), s, flags=re.S)
open(sys.argv[2], "w").write(s)' "$f" "$out/src/$b.cpp"
done
cp cuda/*.cuh "$out/src/"
# the module as the Makefile builds it (position-independent, hidden
# symbols but its entry, its own mg_err_set), over the stand-ins
for f in "$out"/src/*.cpp tests/cuda/emu/emu.cpp; do
	g++ -std=c++20 -O1 -g -fPIC -fvisibility=hidden -Itests/cuda/emu -Ilib -I"$out/src" \
		-c -o "$out/$(basename "$f" .cpp).o" "$f"
done
cc -std=gnu11 -O1 -g -fPIC -fvisibility=hidden -Ilib -c -o "$out/err.o" lib/core/err.c
g++ -shared -Wl,--no-undefined -o "$out/mygpt-cuda-emu.so" "$out"/cuda_*.o "$out/emu.o" "$out/err.o"
# the GPU test with shapes the emulation runs in minutes, linked as the
# tools are (without CUDA): mg_backend_cuda loads the module named below
sed -e 's/{ 1, 130, 96, 3, 1000 },//' -e 's/test_vector((size_t)3 << 22);/test_vector(70000);/' \
	tests/cuda/test_cuda_backend.c > "$out/test.c"
cc -std=gnu11 -O1 -g -fopenmp -Ilib -c -o "$out/test.o" "$out/test.c"
cc -fopenmp -o "$out/test" "$out/test.o" $(find build/lib -name "*.o" | sort) -lopenblas -lz -lm -ldl -lpng
MYGPT_CUDA_MODULE="$PWD/$out/mygpt-cuda-emu.so" "$out/test"
