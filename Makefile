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
WARN = -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS += -Ilib -Icmd/common -MMD -MP
LDLIBS += -lz -lm

TOOLS = adder-gen
BINS = $(TOOLS:%=bin/%)
LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=build/%.o)
CLI_OBJ = build/cmd/common/cli.o
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS = $(UNIT_SRC:tests/unit/%.c=build/tests/%)
TEST_TOOLS = $(patsubst tests/tools/%.c,build/tests/tools/%,$(wildcard tests/tools/*.c))
MAN = $(wildcard man/*.[157])

all: deps-build $(BINS)

# The compiler and flags are part of every object's inputs: a change of
# either rebuilds everything (build/flags is rewritten only when it differs).
build/flags: FORCE
	@mkdir -p build
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS)' | cmp -s - $@ || \
	  echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) $(LDLIBS)' > $@

build/%.o: %.c build/flags | deps-build
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

build/libmygpt.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

bin/%: build/cmd/%.o $(CLI_OBJ) build/libmygpt.a
	@mkdir -p bin
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_OBJ) build/libmygpt.a $(LDLIBS)

build/tests/%: build/tests/unit/%.o build/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)

build/tests/tools/%: build/tests/tools/%.o build/libmygpt.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libmygpt.a $(LDLIBS)

# Debian packages the build and the tests need; installed when missing (as
# root), or the exact apt-get command is printed.
deps-build:
	@sh .ci/deps build
deps-check:
	@sh .ci/deps check
deps:
	@sh .ci/deps all

check: all deps-check $(UNITS) $(TEST_TOOLS)
	@set -e; for t in $(UNITS); do echo "unit $$t"; ./$$t; done
	bats --filter-tags '!slow' tests

# The main job on bundled data (see README.md).
demo: all
	@mkdir -p build/demo
	bin/adder-gen --digits 2 -o build/demo/train.tok
	bin/adder-gen --digits 2 --split test -o build/demo/test.tok
	bin/adder-gen --digits 2 --prompts -o build/demo/prompts.tok
	bin/adder-gen --digits 2 --score build/demo/test.tok

check-slow: all deps-check $(UNITS) $(TEST_TOOLS)
	bats tests

bench: all
	@sh tests/bench/run

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	cp $(BINS) $(DESTDIR)$(BINDIR)/
	for m in $(MAN); do s=$${m##*.}; cp $$m $(DESTDIR)$(MANDIR)/man$$s/; done

clean:
	rm -rf build bin

FORCE:
.PHONY: all demo check check-slow bench install clean deps deps-build deps-check FORCE
.PRECIOUS: build/%.o build/tests/unit/%.o build/tests/tools/%.o

-include $(shell find build -name '*.d' 2>/dev/null)
