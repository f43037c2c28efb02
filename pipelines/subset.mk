# pipelines/subset.mk - what every CIFAR pipeline takes its images from.
#
# SOURCE: the CIFAR-10 binary tarball (default: tiny-fetch downloads it).
# IMAGES=DIR: your own images instead, DIR/train and DIR/test each holding
#   one sub-folder per class of PNG or JPEG files (tiny-from-images; an
#   image not 32x32 is scaled to it with --resize); both must have the same
#   class folders.
# TRAIN_N, TEST_N: the training (test) images cut to N, N/10 of each class
#   (tiny-label-filter --per-class), for a quick look that is not the
#   report's sizes (make quick).  Empty: every image.
SOURCE ?=
IMAGES ?=
TRAIN_N ?=
TEST_N ?=
# $(call fetch,train|test): the command that writes the split's images
fetch = $(if $(IMAGES),tiny-from-images -q --resize $(IMAGES)/$(1),tiny-fetch -q cifar-10 --split $(1) \
	$(if $(SOURCE),--source $(SOURCE))) $(call subset,$(1))
# $(call subset,train|test|all): the pipe that cuts the split's images
subset = $(if $(filter train,$(1)),$(call cut_to,$(TRAIN_N)),$(if $(filter test,$(1)),$(call cut_to,$(TEST_N))))
cut_to = $(if $(1),| tiny-label-filter -q --per-class $$(( $(1) / 10 )))
