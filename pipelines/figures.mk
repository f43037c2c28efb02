# pipelines/figures.mk - the report's Figures 1.1-1.5 and 2.2-2.4 on the
# CIFAR-10 training images: covariance, whitening and dewhitening filters,
# whitened images, the eigenspectrum, whitening with 1000 directions
# dropped, and the 26 patches of one image.
#
#   make figures                        # downloads CIFAR-10 once (cached)
#   make figures SOURCE=cifar-10-binary.tar.gz
#
# Every intermediate is a file under $(OUT); a picture is one PNG each.
# the directory of this make file (pipelines/, or where make install put it)
P := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
include $(P)/subset.mk
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:

OUT ?= results/figures
SOURCE ?=
DROP ?= 1000
IMAGE_CLASS ?= horse
PATH := $(CURDIR)/bin:$(PATH)
FETCH := tiny-fetch -q cifar-10 $(if $(SOURCE),--source $(SOURCE))
$(info figures: OUT=$(OUT) SOURCE=$(or $(SOURCE),download) DROP=$(DROP) IMAGE_CLASS=$(IMAGE_CLASS) TRAIN_N=$(or $(TRAIN_N),all))

# pixel (r,c) of channel ch is index ch*1024 + r*32 + c
PIX_2_0 := 64,1088,2112
PIX_15_15 := 495,1519,2543

FIGS := fig1.1-covariance fig1.2-covariance-red fig1.3a-whitening-2-0 fig1.3b-whitening-15-15 \
	fig1.4a-dewhitening-2-0 fig1.4b-dewhitening-15-15 fig1.5-whitened fig2.2-eigenspectrum \
	fig2.3-original fig2.3a-whitened fig2.3a-dewhitened fig2.3b-whitened-drop$(DROP) \
	fig2.3b-dewhitened-drop$(DROP) fig2.4-image fig2.4-patches
.PHONY: figures
figures: $(addprefix $(OUT)/,$(addsuffix .png,$(FIGS)))

# --- data and models -----------------------------------------------------------
$(OUT)/train.tiny:
	@mkdir -p $(OUT)
	$(FETCH) --split train $(call subset,train) >$@
$(OUT)/train.cov: $(OUT)/train.tiny
	tiny-cov $< >$@
$(OUT)/zca.tiny: $(OUT)/train.cov
	tiny-zca --fit $< >$@
$(OUT)/zca-drop$(DROP).tiny: $(OUT)/train.cov
	tiny-zca --fit --drop $(DROP) $< >$@
$(OUT)/some.tiny: $(OUT)/train.tiny
	tiny-label-filter -q --per-class 2 $< >$@
$(OUT)/one.tiny: $(OUT)/train.tiny
	tiny-label-filter -q --keep $(IMAGE_CLASS) --per-class 1 $< >$@

# --- Figures 1.1, 1.2: the covariance -----------------------------------------------
$(OUT)/fig1.1-covariance.png: $(OUT)/train.cov
	tiny-render heatmap --field cov --title "Covariance of the CIFAR-10 training images (Fig. 1.1)" $< >$@
$(OUT)/fig1.2-covariance-red.png: $(OUT)/train.cov
	tiny-render heatmap --field cov --block 0:1024,0:1024 --title "Red channel (Fig. 1.2)" $< >$@

# --- Figures 1.3, 1.4: whitening and dewhitening filters of two pixels -----------------
$(OUT)/fig1.3a-whitening-2-0.png: $(OUT)/zca.tiny
	tiny-render filters --field W --rows --shape 3,32,32 --pick $(PIX_2_0) --cols 3 --scale 6 \
		--title "Whitening filters of pixel (2,0): red, green, blue" $< >$@
$(OUT)/fig1.3b-whitening-15-15.png: $(OUT)/zca.tiny
	tiny-render filters --field W --rows --shape 3,32,32 --pick $(PIX_15_15) --cols 3 --scale 6 \
		--title "Whitening filters of pixel (15,15): red, green, blue" $< >$@
$(OUT)/fig1.4a-dewhitening-2-0.png: $(OUT)/zca.tiny
	tiny-render filters --field Winv --rows --shape 3,32,32 --pick $(PIX_2_0) --cols 3 --scale 6 \
		--title "Dewhitening filters of pixel (2,0): red, green, blue" $< >$@
$(OUT)/fig1.4b-dewhitening-15-15.png: $(OUT)/zca.tiny
	tiny-render filters --field Winv --rows --shape 3,32,32 --pick $(PIX_15_15) --cols 3 --scale 6 \
		--title "Dewhitening filters of pixel (15,15): red, green, blue" $< >$@

# --- Figure 1.5: whitened images --------------------------------------------------------
$(OUT)/fig1.5-whitened.png: $(OUT)/zca.tiny $(OUT)/some.tiny
	tiny-zca $^ | tiny-render images --cols 10 --scale 3 --title "Whitened training images" >$@

# --- Figure 2.2: the log eigenspectrum ---------------------------------------------------
$(OUT)/fig2.2-eigenspectrum.png: $(OUT)/zca.tiny
	tiny-render plot --y eigval --log --title "Eigenspectrum of the CIFAR-10 training images (Fig. 2.2)" \
		--xlabel "principal component" --ylabel "variance" $< >$@

# --- Figure 2.3: whitened, then dewhitened, without and with dropping -------------------
$(OUT)/fig2.3-original.png: $(OUT)/one.tiny
	tiny-render images --scale 8 $< >$@
$(OUT)/fig2.3a-whitened.png: $(OUT)/zca.tiny $(OUT)/one.tiny
	tiny-zca $^ | tiny-render images --scale 8 >$@
$(OUT)/fig2.3a-dewhitened.png: $(OUT)/zca.tiny $(OUT)/one.tiny
	tiny-zca $^ | tiny-zca --inverse $< | tiny-render images --range none --scale 8 >$@
$(OUT)/fig2.3b-whitened-drop$(DROP).png: $(OUT)/zca-drop$(DROP).tiny $(OUT)/one.tiny
	tiny-zca $^ | tiny-render images --scale 8 >$@
$(OUT)/fig2.3b-dewhitened-drop$(DROP).png: $(OUT)/zca-drop$(DROP).tiny $(OUT)/one.tiny
	tiny-zca $^ | tiny-zca --inverse $< | tiny-render images --range none --scale 8 >$@

# --- Figure 2.4: the 25 patches and the subsampled 26th ----------------------------------
$(OUT)/fig2.4-image.png: $(OUT)/one.tiny
	tiny-render images --scale 8 $< >$@
$(OUT)/fig2.4-patches.png: $(OUT)/one.tiny
	tiny-patchify --size 8 --stride 6 --subsample 8 $< | tiny-render images --range none --cols 5 --scale 8 >$@
