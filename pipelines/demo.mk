# pipelines/demo.mk - `make demo`: the main job on the built-in synthetic
# data, offline.  The chain so far: fetch both splits, the covariance and
# the ZCA whitening of the training images, an RBM of HIDDEN units trained
# on 8x8 patches of the images, logistic regression on the pixels and on
# the features of an RBM of the whole images (a table and a confusion
# matrix), pictures of the images, the whitened images, some
# whitening filters, the eigenspectrum, the RBM's filters and its
# reconstruction error, and the four orientation classes as a subset.
# Then convolutional features (pipelines/conv.mk at demo size): a k-means
# bank of CONV_K filters learned on whitened 6x6 patches, applied at every
# position and pooled over the quadrants, with the same logistic
# regression: the row that shows learning paying off, and its filters.
# the directory of this make file (pipelines/, or where make install put it)
P := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:
# every file is worth keeping: a long run resumes where it stopped
.SECONDARY:

OUT ?= results/demo
COUNT ?= 5000
SEED ?= 1
DROP ?= 1000
KEEP ?= hbar,vbar,slash,backslash
PATH := $(CURDIR)/bin:$(PATH)
$(info demo: OUT=$(OUT) COUNT=$(COUNT) SEED=$(SEED) DROP=$(DROP) KEEP=$(KEEP) HIDDEN=$(HIDDEN) EPOCHS=$(EPOCHS) CONV_K=$(CONV_K))

HIDDEN ?= 64
EPOCHS ?= 5
CLASS_HIDDEN ?= 256
CONV_K ?= 64
PICTURES := images whitened filters eigenspectrum rbm-filters rbm-recon confusion kmeans-filters
.PHONY: demo
demo: $(OUT)/train.tiny $(OUT)/test.tiny $(OUT)/orient-train.tiny $(addprefix $(OUT)/,$(addsuffix .png,$(PICTURES))) \
	$(OUT)/table.md
	tiny-info $(OUT)/orient-train.tiny
	tiny-confusion $(OUT)/pred-features.tiny
	cat $(OUT)/table.md
	@echo "demo: pictures in $(OUT): $(addsuffix .png,$(PICTURES))"

$(OUT)/train.tiny:
	@mkdir -p $(OUT)
	tiny-fetch synthetic --split train --count $(COUNT) --seed $(SEED) > $@
$(OUT)/test.tiny:
	@mkdir -p $(OUT)
	tiny-fetch synthetic --split test --count $$(( $(COUNT) / 5 )) --seed $(SEED) > $@
$(OUT)/orient-%.tiny: $(OUT)/%.tiny
	tiny-label-filter --keep $(KEEP) $< > $@
$(OUT)/train.cov: $(OUT)/train.tiny
	tiny-cov $< > $@
$(OUT)/zca.tiny: $(OUT)/train.cov
	tiny-zca --fit --drop $(DROP) $< > $@
$(OUT)/first.tiny: $(OUT)/train.tiny
	tiny-label-filter -q --per-class 3 $< > $@

$(OUT)/images.png: $(OUT)/first.tiny
	tiny-render images --scale 3 --title "Synthetic training images" $< > $@
$(OUT)/whitened.png: $(OUT)/zca.tiny $(OUT)/first.tiny
	tiny-zca $^ | tiny-render images --scale 3 --title "The same images whitened" > $@
$(OUT)/filters.png: $(OUT)/zca.tiny
	tiny-render filters --field W --rows --shape 3,32,32 --pick 64,495,1519,2543 --cols 4 --scale 4 --title "Whitening filters of 4 pixels" $< > $@
$(OUT)/eigenspectrum.png: $(OUT)/zca.tiny
	tiny-render plot --y eigval --log --title "Eigenspectrum of the synthetic images" $< > $@

# 8x8 patches of the images, Gaussian visibles with sigma the data's
# average standard deviation (section 2.6 of the report): in a few epochs
# the hidden units become colour detectors, one per background colour
$(OUT)/patches.tiny: $(OUT)/train.tiny
	tiny-patchify --size 8 --stride 8 $< > $@
$(OUT)/rbm.tiny: $(OUT)/patches.tiny
	tiny-rbm-train --hidden $(HIDDEN) --epochs $(EPOCHS) --sigma data --lr-w 0.01 --momentum 0.9 --seed $(SEED) \
		--log $(OUT)/rbm-log.tiny $< > $@
$(OUT)/rbm-filters.png: $(OUT)/rbm.tiny
	tiny-render filters --field W --shape 3,8,8 --cols 16 --scale 5 --title "RBM filters of 8x8 patches" $< > $@
$(OUT)/rbm-recon.png: $(OUT)/rbm.tiny
	tiny-render plot --x epoch --y recon --title "RBM reconstruction error" --xlabel epoch $(OUT)/rbm-log.tiny > $@

# Classification: logistic regression on the pixels and on the features of
# an RBM of CLASS_HIDDEN units trained on the whole images
$(OUT)/class-rbm.tiny: $(OUT)/train.tiny
	tiny-rbm-train -q --hidden $(CLASS_HIDDEN) --epochs $(EPOCHS) --sigma data --lr-w 0.001 --seed $(SEED) $< > $@
$(OUT)/features-%.tiny: $(OUT)/class-rbm.tiny $(OUT)/%.tiny
	tiny-features -q $^ > $@
$(OUT)/pixels.logreg: $(OUT)/train.tiny
	tiny-logreg -q --train --seed $(SEED) $< > $@
$(OUT)/features.logreg: $(OUT)/features-train.tiny
	tiny-logreg -q --train --seed $(SEED) $< > $@
$(OUT)/pred-pixels.tiny: $(OUT)/pixels.logreg $(OUT)/test.tiny
	tiny-logreg -q $^ > $@
$(OUT)/pred-features.tiny: $(OUT)/features.logreg $(OUT)/features-test.tiny
	tiny-logreg -q $^ > $@
$(OUT)/confusion.png: $(OUT)/pred-features.tiny
	tiny-confusion --png $@ $< > /dev/null
# Convolutional features: 6x6 patches, normalised and whitened, k-means
$(OUT)/conv-patches.tiny: $(OUT)/train.tiny
	tiny-patchify --size 6 --random 8 --seed $(SEED) --normalize 10 $< > $@
$(OUT)/conv-zca.tiny: $(OUT)/conv-patches.tiny
	tiny-cov -q $< | tiny-zca -q --fit --epsilon 0.1 > $@
$(OUT)/kmeans.bank: $(OUT)/conv-zca.tiny $(OUT)/conv-patches.tiny
	tiny-zca -q $^ | tiny-kmeans -q -k $(CONV_K) --seed $(SEED) > $@
$(OUT)/kmeans-filters.png: $(OUT)/kmeans.bank
	tiny-render filters --field W --shape 3,6,6 --cols 16 --scale 6 --title "k-means filters of whitened 6x6 patches" $< > $@
$(OUT)/conv-%.tiny: $(OUT)/conv-zca.tiny $(OUT)/kmeans.bank $(OUT)/%.tiny
	tiny-conv -q --zca $^ > $@
$(OUT)/conv.logreg: $(OUT)/conv-train.tiny
	tiny-logreg -q --train --seed $(SEED) $< > $@
$(OUT)/pred-conv.tiny: $(OUT)/conv.logreg $(OUT)/conv-test.tiny
	tiny-logreg -q $^ > $@

$(OUT)/table.md: $(OUT)/pred-pixels.tiny $(OUT)/pred-features.tiny $(OUT)/pred-conv.tiny
	{ echo "| logistic regression on | test accuracy |"; echo "|---|---|"; \
	  for m in pixels features conv; do \
		printf '| %s | %s%% |\n' "$$m" "$$(tiny-confusion --stream $(OUT)/pred-$$m.tiny | tiny-dump --fields accuracy | \
			awk -F= '{ printf "%.2f", 100 * $$2 }')"; \
	  done; } > $@
