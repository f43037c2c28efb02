# tiny - learning multiple layers of features from tiny images.
#
#   make            build bin/tiny-* (installs missing Debian packages first)
#   make test       build and run every test (bats files in tests/)
#   make demo       the main job on the built-in synthetic data
#   make figures    the report's Figures 1.1-1.5, 2.2-2.4 (SOURCE=tarball)
#   make dedupe-study  nearest CIFAR-10 pairs, for tiny-dedupe's threshold
#   make rbm-figures   the report's RBM experiments, Figures 2.5-2.15
#   make fig3.1 fig3.2 the classification table (methods a-j), confusion matrix
#   make conv       convolutional features: k-means and RBM filter banks (SOURCE=tarball)
#   make quick      figures, rbm-figures and fig3.1 on 5000 training images, small models (results/quick)
#   make report     every experiment found under results/ in one page: results/report/index.html
#   TRAIN_N=N TEST_N=N  any CIFAR pipeline on the first N/10 images of each class
#   make table4.1   the report's Table 4.1: bytes sent by distributed RBM training
#   make bench      speed figures (benchmarks, not tests)
#   make fuzz       run the header-parser fuzzer for FUZZ_SECONDS
#   make fuzz-stages  every stage, sanitized, on FUZZ_RUNS mutated data and model streams
#   make install [PREFIX=/usr/local] [DESTDIR=]   the programs, the NumPy loader, the pipelines; make uninstall
#   make BLAS=openblas ...   link OpenBLAS instead of BLIS
.DEFAULT_GOAL := all
SHELL := bash
.SHELLFLAGS := -o pipefail -ec
.DELETE_ON_ERROR:

BLAS ?= blis
CC := gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
FUZZ_SECONDS ?= 20

ifeq ($(BLAS),blis)
BLAS_PKG := libblis-dev
else ifeq ($(BLAS),openblas)
BLAS_PKG := libopenblas-dev
else
$(error BLAS=$(BLAS): expected blis or openblas)
endif

# Debian packages: building, running, testing.
PKGS := gcc make pkgconf $(BLAS_PKG) liblapacke-dev libarchive-dev zlib1g-dev libcurl4-openssl-dev \
	nettle-dev libpng-dev libjpeg-dev libcairo2-dev fonts-dejavu-core groff-base man-db chromium bats bats-assert bats-support parallel python3 python3-numpy \
	python3-pil clang libclang-rt-14-dev liblbfgs-dev openmpi-bin libopenmpi-dev openssh-server iproute2
# scikit-learn: the reference logistic regression of tests/logreg.bats and bench
PKGS += python3-sklearn

# build/config-$(BLAS).mk is made by the deps step: it installs what is
# missing, then records where the BLAS headers and libraries are.  make
# re-reads it once made, so a fresh machine needs no second command.  The
# run-time path is an RPATH (not RUNPATH), so it also decides what
# liblapacke's own liblapack.so.3 and libblas.so.3 resolve to: the reference
# LAPACK on the chosen BLAS, whatever Debian's alternatives point at.
ifeq ($(filter clean,$(MAKECMDGOALS)),)
include build/config-$(BLAS).mk
endif

build/config-$(BLAS).mk: Makefile
	@missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done | tr '\n' ' '); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing $$missing"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get install -y -q $$missing >/dev/null || \
			{ apt-get update -q >/dev/null && apt-get install -y -q $$missing >/dev/null; }; \
		else \
			echo "deps: missing packages; run:"; \
			echo "  sudo apt-get install -y $$missing"; \
			exit 1; \
		fi; \
	fi
	@mkdir -p build
	@arch=$$(gcc -print-multiarch); \
	if [ $(BLAS) = blis ]; then \
		for f in openmp pthread serial; do \
			d=/usr/include/$$arch/blis-$$f; \
			[ -d $$d ] && { inc=$$d; lib=/usr/lib/$$arch/blis-$$f; lname=blis; break; }; \
		done; \
	else \
		inc=/usr/include/$$arch/openblas-pthread; lib=/usr/lib/$$arch/openblas-pthread; lname=openblas; \
	fi; \
	[ -n "$$inc" ] && [ -f $$inc/cblas.h ] || { echo "deps: no cblas.h for BLAS=$(BLAS)"; exit 1; }; \
	lapack=/usr/lib/$$arch/lapack; \
	[ -f $$lapack/liblapack.so.3 ] || { echo "deps: no reference LAPACK in $$lapack"; exit 1; }; \
	mpi_cflags=$$(pkg-config --cflags ompi-c) && mpi_libs=$$(pkg-config --libs ompi-c) || \
		{ echo "deps: pkg-config knows no ompi-c (libopenmpi-dev)"; exit 1; }; \
	cairo_cflags=$$(pkg-config --cflags cairo) && cairo_libs=$$(pkg-config --libs cairo) || \
		{ echo "deps: pkg-config knows no cairo (libcairo2-dev)"; exit 1; }; \
	{ echo "BLAS_CFLAGS := -isystem $$inc $$([ $(BLAS) = blis ] && echo -DTINY_BLIS)"; \
	  echo "BLAS_LIBS := -L$$lib -l$$lname -Wl,--disable-new-dtags -Wl,-rpath,$$lib:$$lapack"; \
	  echo "MPI_CFLAGS := $$(echo $$mpi_cflags | sed 's/-I/-isystem /g')"; \
	  echo "MPI_LIBS := $$mpi_libs"; \
	  echo "CAIRO_CFLAGS := $$(echo $$cairo_cflags | sed 's/-I/-isystem /g')"; \
	  echo "CAIRO_LIBS := $$cairo_libs"; } >$@
deps: build/config-$(BLAS).mk

ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) -Ilib $(BLAS_CFLAGS) $(CAIRO_CFLAGS) -pthread -fopenmp
LIBS = -llapacke -llbfgs $(BLAS_LIBS) -larchive -lz -lcurl -lnettle -Wl,--as-needed $(CAIRO_LIBS) -Wl,--no-as-needed -lpng -ljpeg -lm -pthread -fopenmp

STAGES := $(patsubst stages/%.c,%,$(wildcard stages/*.c))
BINS := $(addprefix bin/tiny-,$(STAGES))
# lib/dist.c (Open MPI) and lib/rbm-split.c (the RBM split over its
# processes) go only into tiny-rbm-train, so that the other stages neither
# link nor load libmpi.
LIB_SRC := $(filter-out lib/dist.c lib/rbm-split.c,$(wildcard lib/*.c))
# lib/rbm.c is compiled twice: rbm_t in f32, rbm64_t in f64 (lib/rbm.h)
LIB_OBJ := $(patsubst lib/%.c,build/lib/%.o,$(LIB_SRC)) build/lib/rbm64.o
LIB_A := build/libtiny.a
LIB_H := $(wildcard lib/*.h)
TEST_TOOLS := $(patsubst tests/tools/%.c,build/tests/%,$(wildcard tests/tools/*.c)) build/tests/mkstream

.PHONY: all deps test demo quick report figures rbm-figures fig3.1 fig3.2 conv dedupe-study table4.1 bench fuzz fuzz-stages install uninstall clean
all: deps $(BINS) $(TEST_TOOLS)

# --version: the commit the programs were built from, rewritten only when
# it changes, so that a build of the same commit is not redone
build/version.h: FORCE
	@mkdir -p build
	@v='#define TINY_COMMIT "'"$$(git describe --always --dirty 2>/dev/null || echo unknown)"'"'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" >$@
.PHONY: FORCE
build/lib/err.o: build/version.h
build/lib/err.o: ALL_CFLAGS += -Ibuild

build/lib/%.o: lib/%.c $(LIB_H)
	@mkdir -p build/lib
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/lib/rbm64.o: lib/rbm.c $(LIB_H)
	@mkdir -p build/lib
	$(CC) $(ALL_CFLAGS) -DRBM_F64 -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# The whole library goes in, so la.c's set-up of the BLAS runs before main
# in every program, whichever of its functions the program calls.
LINK_LIB = -Wl,--whole-archive $(LIB_A) -Wl,--no-whole-archive

# tiny-conv's activations: sqrtf as a vector instruction (stages/conv.c)
bin/tiny-conv: CFLAGS += -fno-math-errno

# --help prints the program's manual page: man/tiny-STAGE.1 rendered as
# plain text by groff and compiled in (build/help/STAGE.c); tests/man.bats
# checks each page against the options its program takes.
build/help/%.c: man/tiny-%.1 man/help.awk man/ragged.roff
	@mkdir -p build/help
	cat man/ragged.roff $< | groff -man -Tascii -P-cbou -rLL=78n -rcR=1 -rHY=0 -ww 2>$@.err | \
		awk -f man/help.awk >$@.tmp
	@if [ -s $@.err ]; then cat $@.err; rm -f $@.tmp $@.err; exit 1; fi
	@rm -f $@.err && mv $@.tmp $@
.PRECIOUS: build/help/%.c build/help/%.o
build/help/%.o: build/help/%.c
	$(CC) -c -o $@ $<
help_obj = $(patsubst man/tiny-%.1,build/help/%.o,$(wildcard man/tiny-$(1).1))

.SECONDEXPANSION:
bin/tiny-%: stages/%.c $(LIB_A) $(LIB_H) $$(call help_obj,$$*)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $< $(filter build/help/%,$^) $(LINK_LIB) $(LIBS)

build/lib/dist.o: lib/dist.c $(LIB_H)
	@mkdir -p build/lib
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -c -o $@ $<

# tiny-rbm-train holds its source and the split twice: in f32, and in f64
# for --f64
build/lib/rbm-split.o: lib/rbm-split.c $(LIB_H)
	@mkdir -p build/lib
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -c -o $@ $<

build/lib/rbm-split64.o: lib/rbm-split.c $(LIB_H)
	@mkdir -p build/lib
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -DRBM_F64 -c -o $@ $<

build/stages/rbm-train64.o: stages/rbm-train.c $(LIB_H)
	@mkdir -p build/stages
	$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -DRBM_F64 -c -o $@ $<

RBM_TRAIN_OBJ := build/stages/rbm-train64.o build/lib/rbm-split.o build/lib/rbm-split64.o build/lib/dist.o
bin/tiny-rbm-train: stages/rbm-train.c $(RBM_TRAIN_OBJ) $(LIB_A) $(LIB_H) $(call help_obj,rbm-train)
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -o $@ $< $(RBM_TRAIN_OBJ) $(filter build/help/%,$^) $(LINK_LIB) $(LIBS) $(MPI_LIBS)

build/tests/%: tests/tools/%.c $(LIB_A) $(LIB_H)
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_LIB) $(LIBS)

build/bench/%: bench/%.c $(LIB_A) $(LIB_H)
	@mkdir -p build/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LINK_LIB) $(LIBS)

# the tests' name for tiny-from-text
build/tests/mkstream: bin/tiny-from-text
	@mkdir -p build/tests
	ln -sf ../../bin/tiny-from-text $@

# The header parser under libFuzzer with address and undefined-behaviour checks.
build/fuzz/header_fuzz: fuzz/header_fuzz.c lib/header.c lib/err.c lib/tiny.h build/version.h
	@mkdir -p build/fuzz
	clang -std=gnu11 -g -O1 -Ilib -Ibuild -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ fuzz/header_fuzz.c lib/header.c lib/err.c

fuzz: build/fuzz/header_fuzz
	@mkdir -p build/fuzz/corpus
	build/fuzz/header_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 \
		build/fuzz/corpus fuzz/seeds 2>build/fuzz/log || { tail -40 build/fuzz/log; exit 1; }
	@grep -E '^#[0-9]+.*DONE' build/fuzz/log | tail -1

# Every stage under AddressSanitizer and UBSan, built from a copy of the
# sources in build/asan (bin/ stays the optimised build), run on mutated
# data and model streams (tests/tools/fuzz-stages.py): FUZZ_RUNS runs from
# FUZZ_SEED; tests/fuzz-stages.bats runs a short pass of it.
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_RUNS ?= 100000
FUZZ_SEED ?= 1
build/asan/.built: $(wildcard lib/* stages/* man/*) Makefile build/version.h
	rm -rf build/asan/lib build/asan/stages build/asan/man && mkdir -p build/asan/build
	cp -r Makefile lib stages man build/asan/ && cp build/version.h build/asan/build/
	$(MAKE) -C build/asan --no-print-directory CFLAGS="$(ASAN_CFLAGS)" $(BINS) >build/asan/log 2>&1 || \
		{ tail -20 build/asan/log; exit 1; }
	touch $@
fuzz-stages: all build/asan/.built
	tests/tools/fuzz-stages.py --bin build/asan/bin --runs $(FUZZ_RUNS) --seed $(FUZZ_SEED)

test: all build/fuzz/header_fuzz build/asan/.built
	FUZZ_SECONDS=$(FUZZ_SECONDS) bats --formatter tap tests | tests/tools/tap-summary

demo: all
	$(MAKE) -f pipelines/demo.mk

figures: all
	$(MAKE) -f pipelines/figures.mk SOURCE=$(SOURCE)

fig3.1 fig3.2: all
	$(MAKE) -f pipelines/classify.mk SOURCE=$(SOURCE) $@

conv: all
	$(MAKE) -f pipelines/conv.mk SOURCE=$(SOURCE)

rbm-figures: all
	$(MAKE) -f pipelines/rbm.mk SOURCE=$(SOURCE)

dedupe-study: all
	$(MAKE) -f pipelines/dedupe.mk SOURCE=$(SOURCE)

table4.1: all
	$(MAKE) -f pipelines/table4.1.mk

# A quick look, not the report's sizes: 5000 training and 1000 test images
# (500 and 100 of each class), fewer hidden units and epochs, in
# results/quick; the tables and logs name the sizes they ran with.
QUICK_OUT ?= results/quick
QUICK := SOURCE=$(SOURCE) TRAIN_N=5000 TEST_N=1000
quick: all
	$(MAKE) -f pipelines/figures.mk $(QUICK) OUT=$(QUICK_OUT)/figures
	$(MAKE) -f pipelines/rbm.mk $(QUICK) OUT=$(QUICK_OUT)/rbm PATCH_H=100 PATCH_EPOCHS=5 WHOLE_H=500 \
		RAW_H=500 RAW_EPOCHS=10 SIGMA_EPOCHS=5 SECOND_H=500
	$(MAKE) -f pipelines/classify.mk $(QUICK) OUT=$(QUICK_OUT)/classify HIDDEN=1000 G_HIDDEN=1000 \
		F_HIDDEN=500 F_OPTS='--epochs 30' BP_EPOCHS=10 fig3.1

# One page of every experiment found under RESULTS (result roots, several
# allowed; results/quick too) and make table4.1's OUT: the report's figures
# beside tiny's, verdicts, learning curves, what is missing and its make
# command (pipelines/report.py; Python's standard library only).
report: OUT ?= results/report
report: RESULTS ?= results
report:
	/usr/bin/python3 pipelines/report.py --out $(OUT) --table4.1 build/table4.1 $(RESULTS)

# PyTorch only for bench/rbm.sh's comparison: installed here when root,
# not by the build (bench/rbm.sh skips its line where it is absent)
BENCH_PKGS := python3-torch
bench: all build/bench/blasrate build/bench/rbmbound
	@missing=$$(for p in $(BENCH_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		echo "bench: installing $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || \
			echo "bench: could not install $$missing; its comparison is skipped"; \
	fi
	bench/fetch.sh
	bench/stats.sh
	bench/rbm.sh
	bench/classify.sh
	bench/conv.sh
	bench/mpi.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]: the programs into
# PREFIX/bin, their manual pages into PREFIX/share/man/man1, the NumPy loader and the format's documents into
# PREFIX/share/tiny (formats/), the experiments' make files into
# PREFIX/share/tiny/pipelines; make uninstall removes exactly those.
PREFIX ?= /usr/local
SHARE = $(DESTDIR)$(PREFIX)/share/tiny
PIPELINE_FILES := $(wildcard pipelines/*)
MAN1 = $(DESTDIR)$(PREFIX)/share/man/man1
MANPAGES := $(wildcard man/*.1)
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(MAN1) $(SHARE)/formats $(SHARE)/pipelines
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MANPAGES) $(MAN1)/
	install -m 644 formats/*.md formats/tiny_stream.py $(SHARE)/formats/
	install -m 644 $(PIPELINE_FILES) $(SHARE)/pipelines/
	chmod 755 $(addprefix $(SHARE)/,$(shell find pipelines -type f -perm -u+x))
	@echo "installed $(words $(BINS)) programs in $(DESTDIR)$(PREFIX)/bin"
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(notdir $(BINS))) $(addprefix $(MAN1)/,$(notdir $(MANPAGES)))
	rm -rf $(SHARE)

clean:
	rm -rf bin build
