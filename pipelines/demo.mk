# pipelines/demo.mk - `make demo`: the main job on the built-in synthetic
# data, offline.  For now the chain is what the suite has: fetch both
# splits, filter the four orientation classes, and describe the results.
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:

OUT ?= results/demo
COUNT ?= 5000
SEED ?= 1
KEEP ?= hbar,vbar,slash,backslash
PATH := $(CURDIR)/bin:$(PATH)
$(info demo: OUT=$(OUT) COUNT=$(COUNT) SEED=$(SEED) KEEP=$(KEEP))

.PHONY: demo
demo: $(OUT)/train.tiny $(OUT)/test.tiny $(OUT)/orient-train.tiny
	tiny-info $(OUT)/train.tiny
	tiny-info $(OUT)/orient-train.tiny

$(OUT)/train.tiny:
	@mkdir -p $(OUT)
	tiny-fetch synthetic --split train --count $(COUNT) --seed $(SEED) > $@

$(OUT)/test.tiny:
	@mkdir -p $(OUT)
	tiny-fetch synthetic --split test --count $$(( $(COUNT) / 5 )) --seed $(SEED) > $@

$(OUT)/orient-%.tiny: $(OUT)/%.tiny
	tiny-label-filter --keep $(KEEP) $< > $@
