# pipelines/table4.1.mk - the report's Table 4.1: the data the algorithm of
# section 4.2 sends for an RBM of 8000 visible and 20000 hidden units, per
# batch of 8000 examples of random binary data, with K = 2, 4, 8 processes
# (all on this machine; the counts do not depend on where the processes
# run), for binary visibles and for Gaussian ones in single and double
# precision (--f64):
#
#   make table4.1 [KS="2 4 8"] [BATCHES=2] [COMM_ONLY=]
#
# Each run trains BATCHES epochs of 8000 examples in minibatches of
# MINIBATCH under --scheme 4.2 and prints what its ranks sent; table.txt
# sets the minibatches' bytes per 8000 examples beside the report's and
# beside the count of section 4.4.1: two exchanges of hidden states as
# bits, 2 (K-1) 8000 20000 / 8 bytes, and one of visible states, (K-1)
# 8000 8000 / 8 as bits, (K-1) 8000 8000 4 as f32 or (K-1) 8000 8000 8 as
# f64 (48 (K-1), 296 (K-1) and 552 (K-1) MB).  The weight synchronisation
# (every SYNC_EVERY examples) is counted apart, as the report leaves it
# out.  The make fails when a count disagrees with the formula, or at the
# report's sizes with the table.
#
# COMM_ONLY=--comm-only (the default) does each minibatch's exchanges at
# their real sizes but skips the arithmetic, about 18 TFLOP a batch, which
# would take this 2-core machine several minutes a batch and K ranks; set
# COMM_ONLY= to train for real (same counts).
# the directory of this make file (pipelines/, or where make install put it)
P := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:

V ?= 8000
H ?= 20000
EXAMPLES ?= 8000
MINIBATCH ?= 1000
BATCHES ?= 2
SYNC_EVERY ?= 8000
KS ?= 2 4 8
COMM_ONLY ?= --comm-only
OUT ?= build/table4.1
MPIRUN ?= mpirun $(if $(filter 0,$(shell id -u)),--allow-run-as-root) --oversubscribe
PATH := $(CURDIR)/bin:$(PATH)

.PHONY: table4.1
table4.1: $(OUT)/table.txt
	@cat $<

$(OUT)/data.tiny:
	@echo "table4.1: V=$(V) H=$(H) EXAMPLES=$(EXAMPLES) MINIBATCH=$(MINIBATCH) BATCHES=$(BATCHES) KS='$(KS)' COMM_ONLY=$(COMM_ONLY)"
	@mkdir -p $(OUT)
	/usr/bin/python3 $(P)/random-binary.py $(EXAMPLES) $(V) 1 >$@

# one run: visibles-kK.txt, the stderr of K processes with binary,
# gaussian (f32) or gaussian64 (f64) visibles, with the bytes line
KINDS := binary gaussian gaussian64
FLAGS_binary := --visible binary
FLAGS_gaussian := --visible gaussian
FLAGS_gaussian64 := --visible gaussian --f64
RUNS := $(foreach k,$(KS),$(foreach v,$(KINDS),$(OUT)/$(v)-k$(k).txt))
$(RUNS): $(OUT)/%.txt: $(OUT)/data.tiny
	$(MPIRUN) -np $(lastword $(subst -k, ,$*)) tiny-rbm-train --scheme 4.2 $(FLAGS_$(firstword $(subst -k, ,$*))) \
		--hidden $(H) --batch $(MINIBATCH) --epochs $(BATCHES) --sync-every $(SYNC_EVERY) $(COMM_ONLY) \
		--data $< 2>$@.tmp >/dev/null
	mv $@.tmp $@

$(OUT)/table.txt: $(RUNS)
	@for k in $(KS); do for vis in $(KINDS); do \
		line=$$(grep 'bytes sent by all' $(OUT)/$$vis-k$$k.txt) || { echo "table4.1: no byte counts in $(OUT)/$$vis-k$$k.txt"; exit 1; }; \
		echo "$$k $$vis $$line"; \
	done; done | awk -v B=$(BATCHES) -v V=$(V) -v H=$(H) -v E=$(EXAMPLES) ' \
		BEGIN { print "Table 4.1: MB (10^6 bytes) sent by all K processes per batch of " E " examples, V " V ", H " H; \
			printf "%3s %-10s %14s %12s %8s %16s\n", "K", "visibles", "measured", "formula", "report", "weight sync"; \
			t["2 binary"] = 48; t["4 binary"] = 144; t["8 binary"] = 336; \
			t["2 gaussian"] = 296; t["4 gaussian"] = 888; t["8 gaussian"] = 2072; \
			t["2 gaussian64"] = 552; t["4 gaussian64"] = 1656; t["8 gaussian64"] = 3864; \
			size["binary"] = 1 / 8; size["gaussian"] = 4; size["gaussian64"] = 8; bad = 0 } \
		{ k = $$1; key = k " " $$2; for (i = 1; i <= NF; i++) { if ($$i == "minibatches") mb = $$(i + 1); if ($$i == "sync") ws = $$(i + 1) } \
		  m = mb / B / 1e6; f = (k - 1) * (2 * E * H / 8 + E * V * size[$$2]) / 1e6; \
		  printf "%3d %-10s %14.6f %12.6f %8s %13.3f MB\n", k, $$2, m, f, (key in t) ? t[key] : "-", ws / B / 1e6; \
		  if (m != f || ((key in t) && V == 8000 && H == 20000 && E == 8000 && m != t[key])) bad = 1 } \
		END { if (bad) { print "table4.1: a count disagrees with the formula or the table"; exit 1 } }' >$@.tmp
	mv $@.tmp $@
