# pipelines/dedupe.mk - how near are the nearest CIFAR-10 images, and where
# should tiny-dedupe's threshold sit?  Every pair of the 60000 images within
# LOOSE, a histogram of their distances, pictures of the nearest pairs, and
# how far re-saving as JPEG moves an image.
#
#   make dedupe-study [SOURCE=cifar-10-binary.tar.gz]
# the directory of this make file (pipelines/, or where make install put it)
P := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:

OUT ?= results/dedupe
SOURCE ?=
LOOSE ?= 2000
NEAR ?= 800
WITHIN ?= 900
SHOW ?= 32
PATH := $(CURDIR)/bin:$(PATH)
$(info dedupe-study: OUT=$(OUT) SOURCE=$(or $(SOURCE),download) LOOSE=$(LOOSE) NEAR=$(NEAR) WITHIN=$(WITHIN) SHOW=$(SHOW))

.PHONY: study
study: $(OUT)/histogram.txt $(OUT)/pairs-within-$(NEAR).png $(OUT)/pairs-within-$(WITHIN).png $(OUT)/jpeg-resave.txt
	cat $(OUT)/histogram.txt $(OUT)/jpeg-resave.txt

$(OUT)/all.tiny:
	@mkdir -p $(OUT)
	tiny-fetch -q cifar-10 --split all $(if $(SOURCE),--source $(SOURCE)) >$@
$(OUT)/pairs-%.tiny: $(OUT)/all.tiny
	tiny-dedupe -q --threshold $* --pairs $@ $< >/dev/null
# pairs by distance, in buckets of 100
$(OUT)/histogram.txt: $(OUT)/pairs-$(LOOSE).tiny
	tiny-dump --fields dist $< | awk -F= '{ n[int($$2 / 100)]++ } \
		END { printf "pairs of the 60000 images by L2 distance (0..255 values, D = 3072)\n"; \
		      for (b = 0; b < $(LOOSE) / 100; b++) printf "%5d-%-5d %6d\n", 100 * b, 100 * b + 99, n[b] }' >$@
# the pairs within a distance side by side, four pairs a row (at most SHOW),
# and their distances
$(OUT)/pairs-within-%.png: $(OUT)/pairs-%.tiny $(OUT)/all.tiny
	tiny-take --first $(SHOW) $< >$(OUT)/shown-$*.tiny
	tiny-dump $(OUT)/shown-$*.tiny >$(OUT)/pairs-within-$*.txt
	tiny-take --from $(OUT)/shown-$*.tiny --fields i,j $(OUT)/all.tiny | tiny-render images --cols 8 --scale 3 >$@
$(OUT)/jpeg-resave.txt: $(OUT)/all.tiny
	/usr/bin/python3 $(P)/jpeg-resave.py $< 2000 >$@
