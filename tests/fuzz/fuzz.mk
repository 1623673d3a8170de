# make fuzz: libFuzzer targets for every file reader (tests/fuzz/fuzz_*.c),
# over the library built by clang with AddressSanitizer and UBSan in
# build/fuzz/ (CPU backend, OpenMP on). Each target runs FUZZ_TIME seconds,
# one at a time, from the seeds of tests/fuzz/seeds.py; a crash, leak,
# timeout or RSS over FUZZ_RSS_MB fails the run and leaves the input in
# build/fuzz/crash-TARGET-*. FUZZ_TARGETS=ckpt runs one target, FUZZ_ARGS
# adds libFuzzer flags (FUZZ_ARGS=-runs=1000000). Included by the Makefile.

FUZZ_CC ?= clang-14
FUZZ_TIME ?= 300
FUZZ_RSS_MB ?= 2048
FUZZ_ARGS ?=
# every UBSan finding stops the run; nothing is suppressed
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_ENV = ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fopenmp $(FUZZ_SAN) -std=gnu11 -Ilib -Icmd/common -MMD -MP
FUZZ_TARGETS = tokstream tokenizer ckpt info idtext gpt2
FUZZ_BINS = $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=build/fuzz/%.o)

build/fuzz/flags: FORCE | deps-fuzz
	@mkdir -p build/fuzz
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' > $@

build/fuzz/lib/%.o: lib/%.c build/fuzz/flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libmygpt.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/libmygpt.a build/fuzz/flags
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(WARN) -Itests/fuzz -fsanitize=fuzzer -o $@ $< build/fuzz/libmygpt.a -lopenblas -lz -lm

# seeds: the vectors, their plain-stored forms, a tiny model from gpt-init
build/fuzz/seeds/.done: tests/fuzz/seeds.py bin/gpt-init $(wildcard formats/vectors/*/*)
	rm -rf build/fuzz/seeds && mkdir -p build/fuzz
	bin/gpt-init -f --layers 1 --heads 2 --embd 8 --block 4 --vocab 5 -o build/fuzz/tiny.ckpt
	python3 tests/fuzz/seeds.py . build/fuzz/seeds build/fuzz/tiny.ckpt
	touch $@

deps-fuzz:
	@sh .ci/deps fuzz

fuzz: $(FUZZ_BINS) build/fuzz/seeds/.done
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t; echo "fuzz $$t: $(FUZZ_TIME) s"; \
	  $(FUZZ_ENV) build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -rss_limit_mb=$(FUZZ_RSS_MB) \
	    -timeout=10 -print_final_stats=1 -dict=tests/fuzz/mygpt.dict \
	    -artifact_prefix=build/fuzz/crash-$$t- $(FUZZ_ARGS) \
	    build/fuzz/corpus/$$t build/fuzz/seeds/$$t 2> build/fuzz/$$t.log || \
	    { tail -40 build/fuzz/$$t.log; exit 1; }; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' build/fuzz/$$t.log; \
	done

.PHONY: fuzz deps-fuzz
