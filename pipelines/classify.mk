# pipelines/classify.mk - the report's classification results (Figure 3.1)
# as far as the suite goes so far: logistic regression on whitened and
# unwhitened pixels (a, b) and on the features of RBMs trained on whitened
# and unwhitened images (c, d); the backprop net initialised from the
# unwhitened RBM and the logistic regression of (d) (e); the confusion
# matrix of (d) (Figure 3.2); a randomly initialised net on the pixels (f).
# Methods (g)-(j) are still to come.
#
#   make fig3.1 [SOURCE=cifar-10-binary.tar.gz]
#
# Classifiers train on the 50000 training images and are scored once on the
# 10000 test images.  The RBMs come from pipelines/rbm.mk (same OUT there).
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:
# every file is worth keeping: a long run resumes where it stopped
.SECONDARY:

OUT ?= results/classify
RBM_OUT ?= results/rbm
SOURCE ?=
LR_EPOCHS ?= 30
LR_VALID ?= 0.1
BP_EPOCHS ?= 10
BP_LR ?= 0.001
BP_LR_INPUT ?= 0.0000002
F_HIDDEN ?= 1000
F_EPOCHS ?= 20
F_LR ?= 0.01
PATH := $(CURDIR)/bin:$(PATH)
$(info classify: OUT=$(OUT) RBM_OUT=$(RBM_OUT) SOURCE=$(or $(SOURCE),download) LR_EPOCHS=$(LR_EPOCHS) LR_VALID=$(LR_VALID) \
	BP_EPOCHS=$(BP_EPOCHS) BP_LR=$(BP_LR) BP_LR_INPUT=$(BP_LR_INPUT))

LOGREG := tiny-logreg --train --epochs $(LR_EPOCHS) --valid $(LR_VALID)
.PHONY: fig3.1 fig3.2
fig3.1: $(OUT)/fig3.1.md
	cat $<
fig3.2: $(OUT)/fig3.2-confusion.png

# --- data, and the models of the RBM pipeline ------------------------------------
$(OUT)/test.tiny:
	@mkdir -p $(OUT)
	tiny-fetch -q cifar-10 --split test $(if $(SOURCE),--source $(SOURCE)) >$@
$(RBM_OUT)/%:
	$(MAKE) -f pipelines/rbm.mk OUT=$(RBM_OUT) SOURCE=$(SOURCE) $@
$(OUT)/test-white.tiny: $(RBM_OUT)/zca.tiny $(OUT)/test.tiny
	tiny-zca $^ >$@

# --- the inputs of each method: training and test ------------------------------------
$(OUT)/a-train.tiny: $(RBM_OUT)/white.tiny
	@mkdir -p $(OUT)
	ln -sf $(abspath $<) $@
$(OUT)/a-test.tiny: $(OUT)/test-white.tiny
	ln -sf $(abspath $<) $@
$(OUT)/b-train.tiny: $(RBM_OUT)/train.tiny
	@mkdir -p $(OUT)
	ln -sf $(abspath $<) $@
$(OUT)/b-test.tiny: $(OUT)/test.tiny
	ln -sf $(abspath $<) $@
$(OUT)/c-train.tiny: $(RBM_OUT)/whole.rbm $(RBM_OUT)/white.tiny
	tiny-features -q $^ >$@
$(OUT)/c-test.tiny: $(RBM_OUT)/whole.rbm $(OUT)/test-white.tiny
	tiny-features -q $^ >$@
$(OUT)/d-train.tiny: $(RBM_OUT)/raw.rbm $(RBM_OUT)/train.tiny
	tiny-features -q $^ >$@
$(OUT)/d-test.tiny: $(RBM_OUT)/raw.rbm $(OUT)/test.tiny
	tiny-features -q $^ >$@

# --- logistic regression, predictions, scores -------------------------------------------
$(OUT)/%.logreg: $(OUT)/%-train.tiny
	$(LOGREG) $< >$@ 2>$(OUT)/$*.logreg.log
$(OUT)/%-pred.tiny: $(OUT)/%.logreg $(OUT)/%-test.tiny
	tiny-logreg -q $^ >$@
$(OUT)/%-score.txt: $(OUT)/%-pred.tiny
	tiny-confusion --stream $< | tiny-dump --fields accuracy | \
		awk -F= '{ printf "%.2f\n", 100 * $$2 }' >$@

# (e): a net whose hidden layer is the unwhitened RBM and whose output layer
# is (d)'s logistic regression, fine-tuned on the pixels
$(OUT)/e.backprop: $(RBM_OUT)/raw.rbm $(OUT)/d.logreg $(RBM_OUT)/train.tiny
	tiny-backprop --train --init-rbm $(RBM_OUT)/raw.rbm --init-logreg $(OUT)/d.logreg --epochs $(BP_EPOCHS) \
		--lr $(BP_LR) --lr-input $(BP_LR_INPUT) --valid $(LR_VALID) $(RBM_OUT)/train.tiny >$@ 2>$(OUT)/e.backprop.log
$(OUT)/e-pred.tiny: $(OUT)/e.backprop $(OUT)/test.tiny
	tiny-backprop -q $^ >$@

# (f): a net of F_HIDDEN random hidden units on the (standardised) pixels
$(OUT)/f.backprop: $(RBM_OUT)/train.tiny
	tiny-backprop --train --hidden $(F_HIDDEN) --standardize --epochs $(F_EPOCHS) --lr $(F_LR) \
		--valid $(LR_VALID) $< >$@ 2>$(OUT)/f.backprop.log
$(OUT)/f-pred.tiny: $(OUT)/f.backprop $(OUT)/test.tiny
	tiny-backprop -q $^ >$@

METHODS := a b c d e f
$(OUT)/fig3.1.md: $(addprefix $(OUT)/,$(addsuffix -score.txt,$(METHODS)))
	{ echo "| method | input to logistic regression | test accuracy | report |"; \
	  echo "|---|---|---|---|"; \
	  echo "| (a) | whitened pixels (1000 least significant directions dropped) | $$(cat $(OUT)/a-score.txt)% | 37.32% |"; \
	  echo "| (b) | unwhitened pixels | $$(cat $(OUT)/b-score.txt)% | 41.13% |"; \
	  echo "| (c) | features of an RBM on whitened images ($$(tiny-info --json $(RBM_OUT)/whole.rbm | grep -o '\"W\", \"dtype\": \"f32\", \"shape\": \[3072, [0-9]*' | grep -o '[0-9]*$$') hidden) | $$(cat $(OUT)/c-score.txt)% | |"; \
	  echo "| (d) | features of an RBM on unwhitened images ($$(tiny-info --json $(RBM_OUT)/raw.rbm | grep -o '\"W\", \"dtype\": \"f32\", \"shape\": \[3072, [0-9]*' | grep -o '[0-9]*$$') hidden) | $$(cat $(OUT)/d-score.txt)% | |"; \
	  echo "| (e) | backprop net initialised from the RBM of (d) and the logistic regression of (d) | $$(cat $(OUT)/e-score.txt)% | 64.84% |"; \
	  echo "| (f) | backprop net, $(F_HIDDEN) random hidden units, on standardised unwhitened pixels | $$(cat $(OUT)/f-score.txt)% | 51.53% |"; \
	  echo; \
	  echo "Made by \`make fig3.1\` at commit $$(git rev-parse --short HEAD 2>/dev/null || echo unknown);"; \
	  echo "logistic regression: $(LOGREG)."; } >$@

$(OUT)/fig3.2-confusion.png: $(OUT)/d-pred.tiny
	tiny-confusion --png $@ $< >$(OUT)/fig3.2-confusion.txt
