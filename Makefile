# mygpt: one non-recursive build for the library, the tools, the tests and
# the documentation. make | make check | make bench | make install | make clean
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
OPT ?= -O2 -march=native
CFLAGS ?= $(OPT) -g
# OpenMP runs the CPU backend's loops (lib/backend/cpu/); kept when CFLAGS is set
override CFLAGS += -fopenmp
WARN = -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -Ilib -Icmd/common -MMD -MP
LDLIBS += -lopenblas -lz -lm

# CUDA: the GPU backend in cuda/ is built when nvcc is found (on PATH or in
# $(CUDA_HOME)/bin); CUDA=0 skips it, CUDA=1 makes a missing nvcc an error.
CUDA_HOME ?= /usr/local/cuda
NVCC ?= $(shell command -v nvcc 2>/dev/null || { test -x $(CUDA_HOME)/bin/nvcc && echo $(CUDA_HOME)/bin/nvcc; })
# Ampere (sm_80) and Hopper (sm_90, H100/H200) code, and PTX of compute_90
# that the driver compiles for newer GPUs
NVCC_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
	-gencode arch=compute_90,code=compute_90
NVCCFLAGS ?= -O2 -std=c++17 $(NVCC_ARCH) -Xcompiler -Wall
CUDA_SRC = $(wildcard cuda/*.cu)
ifeq ($(origin CUDA),undefined)
CUDA = $(if $(NVCC),1,0)
ifeq ($(NVCC),)
$(info cuda: nvcc not found: building the CPU backend only (CUDA=1 to require it))
endif
endif
ifeq ($(CUDA),1)
ifeq ($(NVCC),)
$(error CUDA=1 but nvcc was not found (set NVCC or CUDA_HOME))
endif
ifneq ($(CUDA_SRC),)
CUDA_OBJ = $(CUDA_SRC:%.cu=build/%.o)
CPPFLAGS += -DMG_HAVE_CUDA
# --as-needed: only programs that reach the CUDA backend (gpt-train, the
# GPU test) depend on libcublas, libcudart and libstdc++ (the runtime of
# nvcc's host code)
LDLIBS += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -Wl,--as-needed -lcublas -lcudart -lstdc++ -Wl,--no-as-needed
endif
endif

TOOLS = adder-gen gpt-init bpe-encode bpe-train gpt-train gpt-sample mygpt-info
BINS = $(TOOLS:%=bin/%)
LIB_SRC = $(sort $(shell find lib -name '*.c'))
LIB_OBJ = $(LIB_SRC:%.c=build/%.o)
CLI_OBJ = build/cmd/common/cli.o
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS = $(UNIT_SRC:tests/unit/%.c=build/tests/%)
# programs the bats tests drive (not run on their own)
DRIVER_SRC = $(wildcard tests/model/*.c)
DRIVERS = $(DRIVER_SRC:tests/model/%.c=build/tests/model/%)
TEST_TOOLS = $(patsubst tests/tools/%.c,build/tests/tools/%,$(wildcard tests/tools/*.c))
MAN = $(wildcard man/*.[157])

all: deps-build $(BINS)

# The compiler and flags are part of every object's inputs: a change of
# either rebuilds everything (build/flags is rewritten only when it differs).
build/flags: FORCE
	@mkdir -p build
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS) $(NVCC) $(NVCCFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS) $(NVCC) $(NVCCFLAGS)' > $@

build/%.o: %.c build/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

build/cuda/%.o: cuda/%.cu build/flags | deps-build
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -Ilib -MMD -MP -c -o $@ $<

build/libmygpt.a: $(LIB_OBJ) $(CUDA_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ) $(CUDA_OBJ)

bin/%: build/cmd/%.o $(CLI_OBJ) build/libmygpt.a
	@mkdir -p bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) build/libmygpt.a $(LDLIBS)

build/tests/%: build/tests/unit/%.o build/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)

build/tests/model/%: build/tests/model/%.o build/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)

build/tests/tools/%: build/tests/tools/%.o build/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)

# --- benchmarks: the C helpers of tests/bench/*.sh, built by those scripts
# (make build/tests/bench/NAME) when `make bench` runs them
build/tests/bench/%: tests/bench/%.c build/libmygpt.a build/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)
# --- end of benchmarks

# Debian packages the build and the tests need; installed when missing (as
# root), or the exact apt-get command is printed.
deps-build:
	@sh .ci/deps build
deps-check:
	@sh .ci/deps check
deps:
	@sh .ci/deps all

check: all deps-check $(UNITS) $(DRIVERS) $(TEST_TOOLS)
	@set -e; for t in $(UNITS); do echo "unit $$t"; ./$$t; done
	bats --filter-tags '!slow' tests

# The main job on bundled data (see README.md): nanoGPT's character-level
# Shakespeare on the CPU, with its validation loss and a sample.
demo: all
	$(MAKE) -C examples/shakespeare-char SIZE=full BIN=$(CURDIR)/bin

check-slow: all deps-check $(UNITS) $(DRIVERS) $(TEST_TOOLS)
	bats tests

bench: all
	@sh tests/bench/run

# The CUDA backend against the CPU one, op by op and over a few training
# steps (tests/cuda/): needs a GPU, and fails without one (not in check).
CUDA_TESTS = $(patsubst tests/cuda/%.c,build/tests/cuda/%,$(wildcard tests/cuda/*.c))
build/tests/cuda/%: build/tests/cuda/%.o build/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)
ifeq ($(CUDA_OBJ),)
check-cuda:
	@echo 'check-cuda: this build has no CUDA backend (nvcc not found, or CUDA=0)' >&2; exit 1
else
check-cuda: all $(CUDA_TESTS)
	@set -e; for t in $(CUDA_TESTS); do echo "cuda $$t"; ./$$t; done
endif

# The same test with the kernels of cuda/ compiled for the host over
# stand-ins of the CUDA runtime and cuBLAS (tests/cuda/emu/): their logic
# without a GPU, in minutes; not part of check.
check-cuda-emu: all
	sh tests/cuda/emu/run.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	for m in $(MAN); do s=$${m##*.}; cp $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf build bin

FORCE:
.PHONY: all demo check check-slow check-cuda check-cuda-emu bench install clean deps deps-build deps-check FORCE
.PRECIOUS: build/%.o build/tests/unit/%.o build/tests/model/%.o build/tests/tools/%.o build/tests/cuda/%.o

-include $(shell find build -name '*.d' 2>/dev/null)
