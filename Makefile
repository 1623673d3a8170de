# mygpt: one non-recursive build for the library, the tools, the tests and
# the documentation. make | make check | make bench | make fuzz | make install | make clean
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# the CUDA module: a tool looks for it in lib/mygpt/ beside its own bin/
MODULEDIR ?= $(PREFIX)/lib/mygpt
DESTDIR ?=

CC ?= cc
OPT ?= -O2 -march=native
CFLAGS ?= $(OPT) -g
# OpenMP runs the CPU backend's loops (lib/backend/cpu/); kept when CFLAGS is set
override CFLAGS += -fopenmp
WARN = -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -Ilib -Icmd/common -MMD -MP
LDLIBS += -lopenblas -lz -lm
# libgomp is linked statically, so that a tool's constructor runs before
# libgomp's own, which reads OMP_WAIT_POLICY (CLI_THREADS_PASSIVE in
# cmd/common/cli.h); --as-needed drops the shared libgomp that -fopenmp
# adds after it. -ldl: dlopen of the CUDA module (in libc since glibc 2.34).
GOMP_A := $(shell $(CC) -print-file-name=libgomp.a)
ifeq ($(wildcard $(GOMP_A)),)
$(error $(CC) has no libgomp.a (the tools link OpenMP statically: GCC's libgomp is needed))
endif
LDLIBS += $(GOMP_A) -ldl -Wl,--as-needed

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
# The backend is a module of its own, build/lib/mygpt-cuda.so (installed in
# $(MODULEDIR)), that mg_backend_cuda (lib/backend/cuda_module.c) loads
# only when a program asks for the GPU: no program links libcublas,
# libcudart or libstdc++ (the runtime of nvcc's host code), which cost a
# start of hundreds of ms. Its objects are position-independent (build/pic/)
# with hidden symbols but the entry; it carries its own copy of the one
# library function it calls (mg_err_set), so it needs nothing from the
# program that loads it.
CUDA_OBJ = $(CUDA_SRC:%.cu=build/pic/%.o)
CUDA_MODULE = build/lib/mygpt-cuda.so
CPPFLAGS += -DMG_HAVE_CUDA
CUDA_LDLIBS = -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++ -lm
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

all: deps-build $(BINS) $(CUDA_MODULE)

# The compiler and flags are part of every object's inputs: a change of
# either rebuilds everything (build/flags is rewritten only when it differs).
build/flags: FORCE
	@mkdir -p build
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS) $(NVCC) $(NVCCFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS) $(NVCC) $(NVCCFLAGS)' > $@

build/%.o: %.c build/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

build/pic/cuda/%.o: cuda/%.cu build/flags | deps-build
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -Xcompiler -fPIC,-fvisibility=hidden -Ilib -MMD -MP -c -o $@ $<

build/pic/%.o: %.c build/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -c -o $@ $<

$(CUDA_MODULE): $(CUDA_OBJ) build/pic/lib/core/err.o
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -Wl,--no-undefined -o $@ $^ $(CUDA_LDLIBS)

build/libmygpt.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

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
	$(MAKE) fuzz FUZZ_TIME=20

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
	@set -e; for t in $(CUDA_TESTS); do echo "cuda $$t"; MYGPT_CUDA_MODULE=$(CURDIR)/$(CUDA_MODULE) ./$$t; done
endif

# The same test with the kernels of cuda/ compiled for the host over
# stand-ins of the CUDA runtime and cuBLAS (tests/cuda/emu/): their logic
# without a GPU, in minutes; not part of check.
check-cuda-emu: all
	sh tests/cuda/emu/run.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	cp $(BINS) $(DESTDIR)$(BINDIR)/
ifneq ($(CUDA_MODULE),)
	mkdir -p $(DESTDIR)$(MODULEDIR)
	cp $(CUDA_MODULE) $(DESTDIR)$(MODULEDIR)/
endif
	for m in $(MAN); do s=$${m##*.}; cp $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf build bin

FORCE:
.PHONY: all demo check check-slow check-cuda check-cuda-emu bench install clean deps deps-build deps-check FORCE
.PRECIOUS: build/%.o build/tests/unit/%.o build/tests/model/%.o build/tests/tools/%.o build/tests/cuda/%.o

include tests/fuzz/fuzz.mk

-include $(shell find build -name '*.d' 2>/dev/null)
