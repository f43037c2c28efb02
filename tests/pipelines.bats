#!/usr/bin/env bats
# The experiments' make files under interruption: a make stopped by Ctrl-C
# and run again resumes, and ends where a run never stopped ends.  On the
# real CIFAR-10 images at a small size (TRAIN_N); skipped where ../shared
# is absent.

load helpers/common

# every RBM's parameters, as text (the headers differ: their history names OUT)
params_of() {
	local f
	for f in "$1"/*.rbm "$1"/patches/*.rbm; do
		echo "${f#$1/}"
		tiny-dump --fields W,vbias,hbias,sigma "$f"
	done
}
logs_of() {
	local f
	for f in "$1"/*.log "$1"/patches/*.log; do
		echo "${f#$1/}"
		tiny-dump --fields epoch,recon,sigma_min,sigma_mean,sigma_max "$f"
	done
}

# training DIR: an RBM trained by make itself (not the patch RBMs, which GNU
# parallel runs in process groups of their own) has its checkpoint in DIR
# but not yet its model (make has created the model's file, empty, by redirection)
training() {
	local ck
	for ck in "$1"/*.ck; do
		[ -e "$ck" ] || continue
		[ -s "${ck%.ck}.rbm" ] || [ -s "${ck%.ck}-trained.rbm" ] || return 0
	done
	return 1
}

@test "pipelines/timed adds the seconds of attempts stopped to be resumed (exit 75, a signal) to the run that finishes, not of one that failed" {
	local T=$BATS_TEST_TMPDIR timed=$BATS_TEST_DIRNAME/../pipelines/timed
	run -75 "$timed" "$T/p" sh -c 'sleep 1; exit 75'
	[ ! -e "$T/p.seconds" ]
	awk '{ exit !($1 >= 1 && $1 < 30) }' "$T/p.seconds.part"
	run -1 "$timed" "$T/p" sh -c 'sleep 1; exit 1'   # an error: its time is not the part's
	awk '{ exit !($1 >= 1 && $1 < 2) }' "$T/p.seconds.part"
	run -143 "$timed" "$T/p" sh -c 'sleep 1; kill -TERM $$'
	awk '{ exit !($1 >= 2 && $1 < 30) }' "$T/p.seconds.part"
	run -0 "$timed" "$T/p" sleep 1
	awk '{ exit !($1 >= 3 && $1 < 30) }' "$T/p.seconds"
	[ ! -e "$T/p.seconds.part" ]
	run -0 "$timed" "$T/p" true   # a fresh run: its own seconds only
	awk '{ exit !($1 < 1) }' "$T/p.seconds"
	[ ! -e "$T/p.seconds.live" ]
}

@test "pipelines/timed counts the seconds of an attempt killed outright (SIGKILL) to within a beat" {
	local T=$BATS_TEST_TMPDIR timed=$BATS_TEST_DIRNAME/../pipelines/timed
	TIMED_BEAT=1 "$timed" "$T/p" sh -c "echo \$\$ >'$T/cmd.pid'; exec sleep 30" >/dev/null 2>&1 3>&- &
	local pid=$!
	sleep 4
	[ -f "$T/p.seconds.live" ]
	kill -KILL $pid "$(cat "$T/cmd.pid")"
	sleep 2   # the killed attempt's time stops at its last beat, not now
	run -0 "$timed" "$T/p" sleep 1
	awk '{ exit !($1 >= 3 && $1 < 5.5) }' "$T/p.seconds" || { cat "$T/p.seconds"; false; }
	[ ! -e "$T/p.seconds.part" ] && [ ! -e "$T/p.seconds.live" ]
}

@test "make rbm-figures stopped twice by Ctrl-C at random moments ends with the models, logs and pictures of a run never stopped" {
	cifar10_tarball
	npy_ok
	local T=$BATS_TEST_TMPDIR
	local vars=(SOURCE="$CIFAR10_TARBALL" TRAIN_N=500 DROP=2900 PATCH_H=8 PATCH_EPOCHS=4 WHOLE_H=16 WHOLE_EPOCHS=60
		RAW_H=16 RAW_EPOCHS=150 SIGMA_EPOCHS=100 SECOND_H=8 SECOND_EPOCHS=10 JOBS=2)
	cd "$TINY_ROOT"
	make -f pipelines/rbm.mk "${vars[@]}" OUT="$T/a" "$T/a/white.tiny" >"$T/a.log" 2>&1 || { tail -5 "$T/a.log"; false; }
	# the whitening is shared, copied with its times so that make keeps it
	mkdir "$T/b"
	cp -p "$T/a/train.tiny" "$T/a/train.cov" "$T/a/zca.tiny" "$T/a/white.tiny" "$T/b/"
	local t0=$SECONDS
	make -f pipelines/rbm.mk "${vars[@]}" OUT="$T/a" >>"$T/a.log" 2>&1 || { tail -5 "$T/a.log"; false; }
	local run=$((SECONDS - t0))
	echo "# the RBMs and pictures, never stopped: $run s" >&3
	# stopped twice while an RBM trains (its checkpoint there, its model not
	# yet), at a random moment after that.  Ctrl-C reaches a foreground job
	# whose SIGINT is not ignored; a background job of a script has it
	# ignored, so make starts from Python with SIGINT reset to the default.
	local k pid stops=0 caught=0 t
	for k in 1 2; do
		setsid $PY -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp("make", sys.argv[1:])' \
			make -f pipelines/rbm.mk "${vars[@]}" OUT="$T/b" >"$T/b.log" 2>&1 &
		pid=$!
		for t in $(seq 600); do training "$T/b" && break; sleep 0.1; done
		sleep "0.$((RANDOM % 5))"
		kill -INT -- -$pid 2>/dev/null && stops=$((stops + 1))
		wait $pid || true
		while pgrep -g $pid >/dev/null; do sleep 0.1; done
		training "$T/b" && caught=$((caught + 1))
	done
	echo "# stopped $stops times, $caught of them in an RBM's training" >&3
	make -f pipelines/rbm.mk "${vars[@]}" OUT="$T/b" >"$T/b.log" 2>&1 || { tail -5 "$T/b.log"; false; }
	[ $stops = 2 ] && [ $caught -ge 1 ] || fail "stopped $stops times, $caught in training"
	diff <(params_of "$T/a") <(params_of "$T/b")
	diff <(logs_of "$T/a") <(logs_of "$T/b")
	local png
	for png in "$T"/a/*.png; do
		$PY -c "import sys; from PIL import Image; a, b = (Image.open(f).tobytes() for f in sys.argv[1:]); sys.exit(a != b)" \
			"$png" "$T/b/${png##*/}" || fail "${png##*/} differs"
	done
	[ "$(ls "$T"/a/*.png | wc -l)" -ge 15 ]
}

@test "make conv runs end to end at a small size and writes its table" {
	cifar10_tarball
	local T=$BATS_TEST_TMPDIR
	cd "$TINY_ROOT"
	run -0 make -f pipelines/conv.mk SOURCE="$CIFAR10_TARBALL" OUT="$T/c" TRAIN_N=500 TEST_N=200 PER_IMAGE=4 \
		RBM_EPOCHS=2 KM_ITER=5 METHODS="kmeans-16-triangle rbm-16-rbm" "$T/c/conv.md"
	run -0 cat "$T/c/conv.md"
	assert_line --regexp '^\| kmeans \| 16 \| triangle \| 64 \| [0-9.]+% \| '
	assert_line --regexp '^\| rbm \| 16 \| rbm \| 64 \| [0-9.]+% \| '
	# one L2: the classifier trains once, on all the images; several: a tenth held out to choose, then all
	grep -q ': 500 records (500 training, 0 validation)' "$T/c/kmeans-16-triangle.logreg.txt"
	run -0 make -f pipelines/conv.mk SOURCE="$CIFAR10_TARBALL" OUT="$T/c" TRAIN_N=500 TEST_N=200 PER_IMAGE=4 \
		KM_ITER=5 LR_L2=0.1,0.01 "$T/c/kmeans-16-soft-score.txt"
	grep -q ': 500 records (450 training, 50 validation)' "$T/c/kmeans-16-soft.logreg.txt"
	grep -q 'refitting on all 500 records' "$T/c/kmeans-16-soft.logreg.txt"
	[ "$(tiny-info "$T/c/kmeans-16-soft-train.tiny" | grep -c 'field x f32 \[32,2,2\]')" = 1 ]
}

@test "make conv's RBM sparsity target is RBM_SPARSITY, lowered to RBM_ACTIVE / K above it" {
	local T=$BATS_TEST_TMPDIR K want
	cd "$TINY_ROOT"
	for K in 16:0.0125 400:0.0125 1600:0.0125 4000:0.005; do
		want=${K#*:} K=${K%%:*}
		run -0 make -n -f pipelines/conv.mk SOURCE=x.tar.gz OUT="$T/c" "$T/c/rbm-$K.bank"
		assert_output --regexp "tiny-rbm-train --hidden $K .* --sparsity $want "
	done
	run -0 make -n -f pipelines/conv.mk SOURCE=x.tar.gz OUT="$T/c" RBM_ACTIVE= "$T/c/rbm-4000.bank"
	assert_output --regexp "tiny-rbm-train --hidden 4000 .* --sparsity 0.0125 "
	run -0 make -n -f pipelines/conv.mk SOURCE=x.tar.gz OUT="$T/c" RBM_SPARSITY= "$T/c/rbm-1600.bank"
	assert_output --partial "tiny-rbm-train --hidden 1600 "
	refute_output --partial "--sparsity"
}

@test "make fig3.1 runs all ten methods end to end at a small size and writes its table" {
	cifar10_tarball
	local T=$BATS_TEST_TMPDIR
	cd "$TINY_ROOT"
	run -0 make -f pipelines/classify.mk SOURCE="$CIFAR10_TARBALL" OUT="$T/c" TRAIN_N=500 TEST_N=200 DROP=2900 \
		HIDDEN=32 G_HIDDEN=32 F_HIDDEN=16 F_OPTS="--epochs 3" BP_EPOCHS=2 RBM_EPOCHS=1 H_EPOCHS=1 LR_L2=0.01 fig3.1
	local m
	for m in a b c d e f g h i j; do
		assert_line --regexp "^\\| \\($m\\) \\| .* \\| [0-9.]+% \\|"
	done
	# the nets that start from a logistic regression start from one fit without --refit, whose
	# held-out tenth is tiny-backprop's: no warning that it was refit on it
	ls "$T/c/d-fit.logreg" "$T/c/h-fit.logreg" >/dev/null
	run -1 grep warning "$T/c/e.backprop.txt" "$T/c/i.backprop.txt" "$T/c/j.backprop.txt"
	# every net trained with a checkpoint (make resumes it), removed once the net was written
	for m in e f g i j; do
		tiny-info "$T/c/$m.backprop" | grep -q "^attr history tiny-backprop --train .* --checkpoint $T/c/$m.backprop.ck "
	done
	run -0 find "$T/c" -name '*.backprop.ck'
	assert_output ""
}

@test "make fig3.1's nets keep every attempt's lines in X.backprop.txt when they resume, and begin it anew when they start afresh" {
	cifar10_tarball
	local T=$BATS_TEST_TMPDIR tries=1
	cd "$TINY_ROOT"
	local mk=(make -f pipelines/classify.mk SOURCE="$CIFAR10_TARBALL" OUT="$T/c" TRAIN_N=500 TEST_N=200 F_HIDDEN=16)
	# each attempt trains one epoch (--stop-after 1, exit 75) and make is run again, as after a session's end
	until "${mk[@]}" F_OPTS="--epochs 3 --lr 0.1 --stop-after 1" "$T/c/f.backprop" >>"$T/make.out" 2>&1; do
		((++tries <= 10)) || fail "f.backprop not made in 10 attempts: $(tail -3 "$T/make.out")"
	done
	((tries >= 4))   # up to 3 epochs of the fit, then the refit
	run -0 grep -c 'stopped after 1 epochs (--stop-after)' "$T/c/f.backprop.txt"
	assert_output "$((tries - 1))"
	run -0 grep -c 'resuming the fit from' "$T/c/f.backprop.txt"
	((output >= 2))
	grep -q 'resuming the refit from' "$T/c/f.backprop.txt"
	run -0 grep -c '^tiny-backprop: 500 records (450 training, 50 validation)' "$T/c/f.backprop.txt"
	assert_output "$tries"   # the first attempt's lines are there too
	# made again from scratch (no checkpoint): the transcript holds that run alone
	rm "$T/c/f.backprop"
	"${mk[@]}" F_OPTS="--epochs 2 --lr 0.1" "$T/c/f.backprop" >>"$T/make.out" 2>&1
	run -1 grep -E 'resuming|stopped after' "$T/c/f.backprop.txt"
	run -0 grep -c 'epoch 1/2' "$T/c/f.backprop.txt"
	assert_output 2   # the fit's and the refit's
}
