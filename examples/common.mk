# What the examples share, included by each examples/NAME/Makefile after it
# sets OUTPUTS (its results) and TOKENIZER (when it encodes text): where the
# tools and the data are, the knobs every example takes, nanoGPT's split of
# the text (the first 90% of the characters train, the rest validate) and
# its encoding, and the summary that ends every run.
.DEFAULT_GOAL := all
BIN ?= $(abspath ../../bin)
DATA ?= ../data/tinyshakespeare.txt
OUT ?= out
SIZE ?= tiny
THREADS ?= 0
SEED ?= 1337

$(OUT)/train.txt: $(DATA)
	@mkdir -p $(@D)
	n=$$(wc -c < $(DATA)); head -c $$((n * 9 / 10)) $(DATA) > $@

$(OUT)/val.txt: $(DATA)
	@mkdir -p $(@D)
	n=$$(wc -c < $(DATA)); tail -c +$$((n * 9 / 10 + 1)) $(DATA) > $@

# the character model of the whole text
$(OUT)/chars.tkz: $(DATA)
	@mkdir -p $(@D)
	$(BIN)/bpe-train -q --chars -o $@ $(DATA)

$(OUT)/%.tok: $(OUT)/%.txt $(TOKENIZER)
	$(BIN)/bpe-encode -q -m $(TOKENIZER) -o $@ $<

all: summary

# Printed at the end of every run, also when nothing needed rebuilding:
# where the outputs are and the results table.
summary: $(OUTPUTS)
	@echo; echo "$(notdir $(CURDIR)) ($(SIZE)): the outputs are"; \
	for f in $(abspath $(OUTPUTS)); do echo "  $$f"; done; \
	echo "($(if $(filter full,$(SIZE)),,SIZE=full is the full-size run; )make -C $(CURDIR) clean removes them)"; \
	echo; cat $(OUT)/results.md
	$(if $(filter %/sample.txt,$(OUTPUTS)),@echo; echo "the start of $(OUT)/sample.txt:"; head -n 12 $(OUT)/sample.txt)

clean:
	rm -rf $(OUT)

.PHONY: all clean summary
.PRECIOUS: $(OUT)/%.tok $(OUT)/%.txt
