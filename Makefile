# mygpt: one non-recursive build for the library, the tools, the tests and
# the documentation. make | make check | make bench | make fuzz | make install | make clean
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# the CUDA module: a tool looks for it in lib/mygpt/ beside its own bin/
MODULEDIR ?= $(PREFIX)/lib/mygpt
DESTDIR ?=
# objects and test programs, and the tools (check-asan builds in others)
BUILD ?= build
BIN ?= bin

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
# libpng: the PNG reader and writer of lib/image/ (only programs that use them need it)
LDLIBS += -lpng

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
CUDA_OBJ = $(CUDA_SRC:%.cu=$(BUILD)/pic/%.o)
CUDA_MODULE = $(BUILD)/lib/mygpt-cuda.so
CPPFLAGS += -DMG_HAVE_CUDA
CUDA_LDLIBS = -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcudart -lstdc++ -lm
endif
endif

# MPI: gpt-train's data-parallel runs (lib/dist/comm_mpi.c, the one file
# that includes mpi.h) are built when mpicc is found; MPI=0 skips them,
# MPI=1 makes a missing mpicc an error. mpicc compiles that file and links
# gpt-train alone: no other program links libmpi (tests/house.bats).
MPICC ?= $(shell command -v mpicc 2>/dev/null)
ifeq ($(origin MPI),undefined)
MPI = $(if $(MPICC),1,0)
ifeq ($(MPICC),)
$(info mpi: mpicc not found: gpt-train runs in one process only (MPI=1 to require MPI))
endif
endif
ifeq ($(MPI),1)
ifeq ($(MPICC),)
$(error MPI=1 but mpicc was not found (install libopenmpi-dev, or set MPICC))
endif
# the wrapper around our compiler (Open MPI's and MPICH's variables)
MPI_CC = OMPI_CC='$(CC)' MPICH_CC='$(CC)' $(MPICC)
MPI_OBJ = $(BUILD)/mpi/lib/dist/comm_mpi.o
# the tests of a gpt-train without MPI (tagged nompi) do not apply
MPI_TAGS = ,!nompi
else
# the mpi tests (tests/gpt-train-mpi.bats) need a gpt-train with MPI
MPI_TAGS = ,!mpi
endif

TOOLS = adder-gen gpt-init bpe-encode bpe-train gpt-train gpt-sample gpt-convert mygpt-info img-quantize
BINS = $(TOOLS:%=$(BIN)/%)
# scripts installed beside the tools (each has a page in man/)
SCRIPTS = $(BIN)/mygpt-plot-loss
LIB_SRC = $(sort $(filter-out lib/dist/comm_mpi.c,$(shell find lib -name '*.c')))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ = $(BUILD)/cmd/common/cli.o
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# programs the bats tests drive (not run on their own)
DRIVER_SRC = $(wildcard tests/model/*.c)
DRIVERS = $(DRIVER_SRC:tests/model/%.c=$(BUILD)/tests/model/%)
TEST_TOOLS = $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
MAN = $(wildcard man/*.[157])

all: deps-build $(BINS) $(SCRIPTS) $(CUDA_MODULE)

$(BIN)/mygpt-plot-loss: examples/plot-loss.sh
	@mkdir -p $(BIN)
	cp $< $@ && chmod 755 $@

# The compiler and flags are part of every object's inputs: a change of
# either rebuilds everything (build/flags is rewritten only when it differs).
$(BUILD)/flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS) $(NVCC) $(NVCCFLAGS) mpi=$(MPI) $(MPICC)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS) $(NVCC) $(NVCCFLAGS) mpi=$(MPI) $(MPICC)' > $@

$(BUILD)/%.o: %.c $(BUILD)/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/pic/cuda/%.o: cuda/%.cu $(BUILD)/flags | deps-build
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) -Xcompiler -fPIC,-fvisibility=hidden -Ilib -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(BUILD)/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -c -o $@ $<

$(CUDA_MODULE): $(CUDA_OBJ) $(BUILD)/pic/lib/core/err.o
	@mkdir -p $(@D)
	$(CC) -shared $(LDFLAGS) -Wl,--no-undefined -o $@ $^ $(CUDA_LDLIBS)

$(BUILD)/libmygpt.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BIN)/%: $(BUILD)/cmd/%.o $(CLI_OBJ) $(BUILD)/libmygpt.a
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) $(BUILD)/libmygpt.a $(LDLIBS)

ifeq ($(MPI),1)
$(MPI_OBJ): lib/dist/comm_mpi.c $(BUILD)/flags | deps-build
	@mkdir -p $(@D)
	$(MPI_CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/cmd/gpt-train.o: cmd/gpt-train.c $(BUILD)/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DMG_HAVE_MPI $(CFLAGS) $(WARN) -c -o $@ $<

$(BIN)/gpt-train: $(BUILD)/cmd/gpt-train.o $(CLI_OBJ) $(MPI_OBJ) $(BUILD)/libmygpt.a
	@mkdir -p $(BIN)
	$(MPI_CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) $(MPI_OBJ) $(BUILD)/libmygpt.a $(LDLIBS)
endif

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmygpt.a $(LDLIBS)

$(BUILD)/tests/model/%: $(BUILD)/tests/model/%.o $(BUILD)/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmygpt.a $(LDLIBS)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmygpt.a $(LDLIBS)

# --- benchmarks: the C helpers of tests/bench/*.sh, built by those scripts
# (make build/tests/bench/NAME) when `make bench` runs them
$(BUILD)/tests/bench/%: tests/bench/%.c $(BUILD)/libmygpt.a $(BUILD)/flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(BUILD)/libmygpt.a $(LDLIBS)
ifeq ($(MPI),1)
# the sum across ranks alone (bench-mpi.sh): linked with MPI as gpt-train is
$(BUILD)/tests/bench/allreduce: tests/bench/allreduce.c $(MPI_OBJ) $(BUILD)/libmygpt.a $(BUILD)/flags
	@mkdir -p $(@D)
	$(MPI_CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(MPI_OBJ) $(BUILD)/libmygpt.a $(LDLIBS)
endif
# --- end of benchmarks

# Debian packages the build and the tests need; installed when missing (as
# root), or the exact apt-get command is printed.
deps-build:
	@sh .ci/deps build
deps-demo:
	@sh .ci/deps demo
deps-check:
	@sh .ci/deps check
deps:
	@sh .ci/deps all

check: all deps-check $(UNITS) $(DRIVERS) $(TEST_TOOLS)
	@set -e; for t in $(UNITS); do echo "unit $$t"; ./$$t; done
	MYGPT_BIN=$(abspath $(BIN)) MYGPT_BUILD=$(abspath $(BUILD)) bats --filter-tags '!slow$(BATS_TAGS)$(MPI_TAGS)' tests

# The main job on bundled data (see README.md): nanoGPT's character-level
# Shakespeare on the CPU, with its validation loss and a sample.
demo: all deps-demo
	$(MAKE) -C examples/shakespeare-char SIZE=full BIN=$(CURDIR)/bin

check-slow: all deps-check $(UNITS) $(DRIVERS) $(TEST_TOOLS)
	MYGPT_BIN=$(abspath $(BIN)) MYGPT_BUILD=$(abspath $(BUILD)) bats $(if $(MPI_TAGS),--filter-tags '$(MPI_TAGS:,%=%)') tests
	$(MAKE) fuzz FUZZ_TIME=20

# check on a build with AddressSanitizer, UndefinedBehaviorSanitizer and
# LeakSanitizer (build-asan/, bin-asan/; the CPU backend only): any report
# fails the test that ran it. Tests tagged no-asan are skipped (the reason
# is beside each tag). No leak is suppressed (libgomp reports none).
ASAN_FLAGS = -O1 -march=native -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
check-asan:
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=99:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99 \
	LSAN_OPTIONS=exitcode=99 \
	$(MAKE) BUILD=build-asan BIN=bin-asan CUDA=0 MPI=0 OPT='$(ASAN_FLAGS)' BATS_TAGS=',!no-asan' check

bench: all
	@sh tests/bench/run

# The CUDA backend against the CPU one, op by op and over a few training
# steps (tests/cuda/): needs a GPU, and fails without one (not in check).
CUDA_TESTS = $(patsubst tests/cuda/%.c,$(BUILD)/tests/cuda/%,$(wildcard tests/cuda/*.c))
$(BUILD)/tests/cuda/%: $(BUILD)/tests/cuda/%.o $(BUILD)/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmygpt.a $(LDLIBS)
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

# Every command of README.md and of the manual's EXAMPLES, run in scratch
# folders at the sizes they state (long ones shrunk by a comment in their
# source; tests/docs/check-docs.py): a few minutes, so not part of check
# (.ci/run runs it after check).
check-docs: all deps-check
	/usr/bin/python3 tests/docs/check-docs.py

# The README's first two commands (make demo, make check) in a fresh Debian
# 12 chroot (debootstrap minbase, build-essential and git) from the
# committed tree: needs root and the Debian mirror; about half an hour.
check-fresh:
	@sh .ci/deps fresh
	sh tests/docs/fresh.sh

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	cp $(BINS) $(SCRIPTS) $(DESTDIR)$(BINDIR)/
ifneq ($(CUDA_MODULE),)
	mkdir -p $(DESTDIR)$(MODULEDIR)
	cp $(CUDA_MODULE) $(DESTDIR)$(MODULEDIR)/
endif
	for m in $(MAN); do s=$${m##*.}; cp $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf $(BUILD) $(BIN) build-asan bin-asan

FORCE:
.PHONY: all demo check check-asan check-slow check-cuda check-cuda-emu bench install clean deps deps-build deps-demo deps-check FORCE
.PHONY: check-docs check-fresh
.PRECIOUS: $(BUILD)/%.o $(BUILD)/tests/unit/%.o $(BUILD)/tests/model/%.o $(BUILD)/tests/tools/%.o $(BUILD)/tests/cuda/%.o

include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
