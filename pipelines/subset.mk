# pipelines/subset.mk - TRAIN_N and TEST_N, which every CIFAR pipeline
# honours: the training (test) images cut to N, N/10 of each class
# (tiny-label-filter --per-class), for a quick look that is not the
# report's sizes (make quick).  Empty: every image.
TRAIN_N ?=
TEST_N ?=
# $(call subset,train|test|all): the pipe that cuts the split's images
subset = $(if $(filter train,$(1)),$(call cut_to,$(TRAIN_N)),$(if $(filter test,$(1)),$(call cut_to,$(TEST_N))))
cut_to = $(if $(1),| tiny-label-filter -q --per-class $$(( $(1) / 10 )))
