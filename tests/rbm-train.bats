#!/usr/bin/env bats
# tiny-rbm-train: CD-K and PCD against a NumPy reference, exact resume, and
# the errors.

load helpers/common

REF="$TINY_ROOT/tests/helpers/rbm_ref.py"

setup() {
	T="$BATS_TEST_TMPDIR"
}

# model FILE V H gaussian|binary SIGMA SEED [WSCALE]: a random model to start
# from (W WSCALE N(0,1), default 0.3, biases 0.1 N(0,1), every sigma SIGMA;
# SIGMA "vary": 0.5 to 1.2)
model() {
	npy_ok
	$PY -c "
import numpy as np
r = np.random.default_rng($6); V, H = $2, $3
w = ${7:-0.3} * r.normal(size=(V, H)); vb = 0.1 * r.normal(size=V); hb = 0.1 * r.normal(size=H)
s = np.linspace(0.5, 1.2, V) if '$5' == 'vary' else np.full(V, float('$5'))
print(' '.join('%.9g' % v for v in np.concatenate([w.ravel(), vb, hb, s])))
" | mkstream --attr rbm_visible="$4" "W f32 [$2,$3]" "vbias f32 [$2]" "hbias f32 [$3]" "sigma f32 [$2]" >"$1"
}

# data FILE N V gaussian|binary SEED: N records of x f32 [V], Gaussian
# (N(0.3, 0.8^2)) or 0/1 (p = 0.4)
data() {
	npy_ok
	$PY -c "
import numpy as np
r = np.random.default_rng($5); n, v = $2, $3
x = (r.uniform(size=(n, v)) < 0.4).astype(float) if '$4' == 'binary' else 0.3 + 0.8 * r.normal(size=(n, v))
np.savetxt(__import__('sys').stdout, x, fmt='%.9g')
" | mkstream "x f32 [$3]" >"$1"
}

# agree INIT DATA OPTIONS...: train INIT on DATA with OPTIONS and have
# rbm_ref.py check every parameter's change and the logged recon (within
# $TOL, default 1e-6 relative)
agree() {
	local init=$1 data=$2 f
	shift 2
	tiny-rbm-train -q --init "$init" --log "$T/log.tiny" "$@" "$data" >"$T/out.rbm"
	for f in W vbias hbias sigma; do
		tiny-npy $f "$init" >"$T/init_$f.npy"
		tiny-npy $f "$T/out.rbm" >"$T/out_$f.npy"
	done
	tiny-npy x "$data" >"$T/x.npy"
	tiny-npy recon "$T/log.tiny" >"$T/log.npy"
	$PY "$REF" agree "$T" ${TOL:+--tol "$TOL"} "$@"
}

# params MODEL: the trained parameters as text, exactly
params() {
	tiny-dump --fields W,vbias,hbias,sigma "$1"
}

# --- usage and bad input --------------------------------------------------------

@test "--hidden 0, an unknown --visible or --sigma with binary visibles is a usage error" {
	data "$T/d.tiny" 4 3 binary 1
	run -2 tiny-rbm-train --hidden 0 "$T/d.tiny"
	assert_output --partial "--hidden 0: expected"
	run -2 tiny-rbm-train --visible ternary "$T/d.tiny"
	assert_output --partial "--visible ternary: expected one of binary, gaussian"
	run -2 --separate-stderr tiny-rbm-train --visible binary --sigma 0.5 "$T/d.tiny"
	[[ "$stderr" == *"--sigma and --learn-sigma apply to Gaussian visibles"* ]]
	assert_output ""
}

@test "data whose V differs from the --init model is one error naming both, and nothing is written" {
	model "$T/m.rbm" 4 3 gaussian 1 1
	data "$T/d.tiny" 6 5 gaussian 1
	run -1 --separate-stderr tiny-rbm-train --init "$T/m.rbm" "$T/d.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/m.rbm is an RBM of V = 4 visible units; $T/d.tiny's x has 5 values" ]
	assert_output ""
}

@test "an --init stream that is not an RBM, or has a sigma of 0 or below, is rejected" {
	data "$T/d.tiny" 6 2 gaussian 1
	run -1 --separate-stderr tiny-rbm-train --init "$T/d.tiny" "$T/d.tiny"
	[[ "$stderr" == "tiny-rbm-train: $T/d.tiny: not an RBM model"* ]]
	assert_output ""
	echo '1 1  0 0  0  0.5 0' | mkstream --attr rbm_visible=gaussian 'W f32 [2,1]' 'vbias f32 [2]' \
		'hbias f32 [1]' 'sigma f32 [2]' >"$T/z.rbm"
	run -1 --separate-stderr tiny-rbm-train --init "$T/z.rbm" "$T/d.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/z.rbm: sigma[1] is 0; a standard deviation must be above 0" ]
	assert_output ""
	echo '1 1  0 0  0  -2 1' | mkstream --attr rbm_visible=gaussian 'W f32 [2,1]' 'vbias f32 [2]' \
		'hbias f32 [1]' 'sigma f32 [2]' >"$T/n.rbm"
	run -1 tiny-rbm-train --init "$T/n.rbm" "$T/d.tiny"
	assert_output --partial "sigma[0] is -2"
}

@test "NaN in the data names its record, fresh model or --init, and nothing is written" {
	mkstream 'x f32 [2]' <<<'1 2  3 4  5 6  7 nan  9 10  11 12' >"$T/nan.tiny"
	run -1 --separate-stderr tiny-rbm-train -q --hidden 2 --batch 2 "$T/nan.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/nan.tiny: record 3 has NaN in field 'x' (element 1)" ]
	assert_output ""
	# from a model the data are first seen shuffled: the record is still 3
	model "$T/m.rbm" 2 2 gaussian 1 1
	run -1 --separate-stderr tiny-rbm-train -q --init "$T/m.rbm" --batch 2 "$T/nan.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/nan.tiny: record 3 has NaN in field 'x' (element 1)" ]
	assert_output ""
}

@test "a learning rate that overflows stops naming epoch and minibatch, and keeps the last checkpoint" {
	# 30 minibatches an epoch: the overflow comes within the first epoch
	data "$T/d.tiny" 300 4 gaussian 2
	tiny-rbm-train -q --hidden 3 --batch 10 --epochs 2 --max-batches 1 --checkpoint "$T/ck" "$T/d.tiny" >/dev/null
	cp "$T/ck" "$T/ck.before"
	run -1 --separate-stderr tiny-rbm-train -q --init "$T/ck" --batch 10 --epochs 2 --lr-w 1e6 \
		--checkpoint "$T/ck" "$T/d.tiny"
	[[ "$stderr" =~ ^"tiny-rbm-train: epoch 0 minibatch "[0-9]+": NaN or infinity in the parameters ".*"the last checkpoint is kept"$ ]]
	assert_output ""
	cmp "$T/ck" "$T/ck.before"
}

@test "weights that overflow in an epoch's last minibatch never reach the checkpoint" {
	# one minibatch an epoch, biases fixed: only W grows, by about 1e6 H a step
	data "$T/d.tiny" 8 4 gaussian 3
	run -1 --separate-stderr tiny-rbm-train -q --hidden 3 --batch 8 --epochs 40 --momentum 0 --lr-w 1e6 \
		--lr-vbias 0 --lr-hbias 0 --checkpoint "$T/ck" "$T/d.tiny"
	[[ "$stderr" =~ ^"tiny-rbm-train: epoch "[0-9]+" minibatch 0: NaN or infinity in the parameters" ]]
	assert_output ""
	# the checkpoint left behind is a model training can go on from
	run -0 tiny-rbm-train -q --init "$T/ck" --epochs 0 "$T/d.tiny"
}

# --- the per-epoch line, the log, -q ----------------------------------------------

@test "one stderr line an epoch, the same figures in --log, and -q silences them" {
	data "$T/d.tiny" 30 4 gaussian 1
	run -0 --separate-stderr tiny-rbm-train --hidden 3 --batch 10 --epochs 3 --learn-sigma --sigma 0.7 \
		--log "$T/log.tiny" "$T/d.tiny"
	[ "${#stderr_lines[@]}" = 4 ]
	[[ "${stderr_lines[0]}" == "tiny-rbm-train: V 4 H 3 Gaussian visibles, N 30, 3 minibatches of 10, "* ]]
	[[ "${stderr_lines[1]}" =~ ^"tiny-rbm-train: epoch 1/3 recon "[0-9.e+-]+"  "[0-9]+" examples/s  "[0-9]+"s left  sigma "[0-9.]+/[0-9.]+/[0-9.]+$ ]]
	[[ "${stderr_lines[3]}" =~ ^"tiny-rbm-train: epoch 3/3 recon "[0-9.e+-]+"  "[0-9]+" examples/s  sigma "[0-9.]+/[0-9.]+/[0-9.]+$ ]]
	run tiny-info --json "$T/log.tiny"
	assert_output --partial '"count": 3'
	assert_output --partial "$(printf '%s\n' '  {"name": "epoch", "dtype": "i32", "shape": []},' \
		'  {"name": "recon", "dtype": "f32", "shape": []},' '  {"name": "rate", "dtype": "f32", "shape": []},' \
		'  {"name": "sigma_min", "dtype": "f32", "shape": []},' '  {"name": "sigma_mean", "dtype": "f32", "shape": []},' \
		'  {"name": "sigma_max", "dtype": "f32", "shape": []}],')"
	# epochs 0, 1, 2; the stderr figures are the logged ones, rounded
	paste -d' ' <(tiny-dump --fields epoch,recon,sigma_min,sigma_mean,sigma_max "$T/log.tiny" | tr '=' ' ') \
		<(printf '%s\n' "${stderr_lines[@]:1}" | sed 's/.*recon \([^ ]*\) .*sigma \(.*\)/\1 \2/; s,/, ,g') |
		awk 'function off(a, b, r) { return (a - b) ^ 2 > (r * a) ^ 2 }
		     { if ($2 != NR - 1 || $6 > $8 || $8 > $10 || off($4, $11, 1e-5) || off($6, $12, 1e-3) ||
		          off($8, $13, 1e-3) || off($10, $14, 1e-3)) { print; bad = 1 } }
		     END { exit bad || NR != 3 }'
	run -0 --separate-stderr tiny-rbm-train -q --hidden 3 --batch 10 --epochs 3 "$T/d.tiny"
	[ "$stderr" = "" ]
}

@test "--epochs 0 writes the fresh model: W = 0.01 N(0,1) from stream 2^61 (f32 and f64), vbias the data's mean" {
	data "$T/d.tiny" 7 3 gaussian 1
	tiny-rbm-train -q --seed 5 --hidden 4 --epochs 0 "$T/d.tiny" >"$T/m.rbm"
	tiny-npy W "$T/m.rbm" >"$T/W.npy"
	tiny-npy vbias "$T/m.rbm" >"$T/vbias.npy"
	tiny-npy x "$T/d.tiny" >"$T/x.npy"
	run $PY -c "
import sys, numpy as np; sys.path.insert(0, '$TINY_ROOT/tests/helpers'); import rbm_ref
w = np.load('$T/W.npy'); vb = np.load('$T/vbias.npy'); x = np.load('$T/x.npy').astype(float)
assert (w == rbm_ref.fresh_weights(5, 3, 4)).all(), w
assert abs(vb - x.mean(0)).max() < 1e-6, vb
"
	assert_success
	tiny-rbm-train -q --seed 5 --hidden 4 --epochs 0 --f64 "$T/d.tiny" | tiny-npy W >"$T/W64.npy"
	run -0 $PY -c "
import sys, numpy as np; sys.path.insert(0, '$TINY_ROOT/tests/helpers'); import rbm_ref
w = np.load('$T/W64.npy')
assert w.dtype == np.float64 and (w == rbm_ref.fresh_weights(5, 3, 4, f64=True)).all(), w
"
}

# --- agreement with the reference --------------------------------------------------

@test "the reference's data terms are minus the free energy's derivatives (sigma 1.4.3.2, vbias, W)" {
	npy_ok
	run -0 $PY "$REF" gradcheck
}

@test "one CD-1 minibatch with Gaussian visibles of fixed sigma agrees with the reference" {
	model "$T/m.rbm" 5 4 gaussian 0.5 11
	data "$T/d.tiny" 8 5 gaussian 12
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible gaussian --seed 9 --epochs 1 --batch 8 --lr-w 0.3 --lr-hbias 1
}

@test "one CD-1 minibatch with learned sigma agrees with the reference" {
	model "$T/m.rbm" 5 4 gaussian vary 21
	data "$T/d.tiny" 8 5 gaussian 22
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible gaussian --seed 3 --epochs 1 --batch 8 --lr-w 0.3 --lr-hbias 1 \
		--learn-sigma --lr-sigma 0.05
}

@test "one CD-1 minibatch with binary visibles agrees with the reference" {
	model "$T/m.rbm" 6 4 binary 1 31 1
	data "$T/d.tiny" 8 6 binary 32
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible binary --seed 4 --epochs 1 --batch 8 --lr-w 1 --lr-hbias 1
}

@test "one CD-2 minibatch with learned sigma, and one with weight decay, agree with the reference" {
	model "$T/m.rbm" 5 4 gaussian vary 41
	data "$T/d.tiny" 8 5 gaussian 42
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible gaussian --seed 6 --epochs 1 --batch 8 --lr-w 0.3 --lr-hbias 1 --cd 2 \
		--learn-sigma --lr-sigma 0.05
	model "$T/b.rbm" 6 4 binary 1 43 1
	data "$T/b.tiny" 8 6 binary 44
	run -0 agree "$T/b.rbm" "$T/b.tiny" --visible binary --seed 7 --epochs 1 --batch 8 --lr-w 1 --lr-hbias 1 --decay 0.5
}

@test "CD-2 with mean visible reconstructions (--mean-visible) agrees with the reference" {
	model "$T/m.rbm" 5 4 gaussian vary 61
	data "$T/d.tiny" 8 5 gaussian 62
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible gaussian --seed 9 --epochs 1 --batch 8 --lr-w 0.3 --lr-hbias 1 --cd 2 \
		--mean-visible --learn-sigma --lr-sigma 0.05
}

@test "two epochs of three minibatches (the last one ends at N) with a momentum switch agree with the reference" {
	model "$T/m.rbm" 4 3 gaussian vary 51
	data "$T/d.tiny" 11 4 gaussian 52
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible gaussian --seed 8 --epochs 2 --batch 4 --lr-w 0.05 --lr-hbias 0.3 \
		--learn-sigma --lr-sigma 0.02 --momentum 0.5,0.9@1 --decay 0.1
}

@test "PCD with CD-2 over two epochs of two minibatches agrees with the reference" {
	model "$T/m.rbm" 5 3 binary 1 61 1
	data "$T/d.tiny" 8 5 binary 62
	run -0 agree "$T/m.rbm" "$T/d.tiny" --visible binary --seed 2 --epochs 2 --batch 4 --lr-w 0.5 --lr-hbias 0.5 --pcd --cd 2
}

@test "--f64 agrees with the float64 reference within 1e-11, where f32 does not" {
	model "$T/m.rbm" 4 3 gaussian vary 51
	data "$T/d.tiny" 11 4 gaussian 52
	set -- --visible gaussian --seed 8 --epochs 2 --batch 4 --lr-w 0.05 --lr-hbias 0.3 --learn-sigma --lr-sigma 0.02 \
		--momentum 0.5,0.9@1 --decay 0.1
	TOL=1e-11 run -0 agree "$T/m.rbm" "$T/d.tiny" "$@" --f64
	TOL=1e-11 run -1 agree "$T/m.rbm" "$T/d.tiny" "$@"
	model "$T/b.rbm" 5 3 binary 1 61 1
	data "$T/b.tiny" 8 5 binary 62
	TOL=1e-11 run -0 agree "$T/b.rbm" "$T/b.tiny" --visible binary --seed 2 --epochs 2 --batch 4 --lr-w 0.5 --lr-hbias 0.5 \
		--pcd --cd 2 --f64
}

@test "--f64 writes f64 models and checkpoints, resumes from them exactly, and tiny-features reads them" {
	npy_ok
	data "$T/d.tiny" 23 6 gaussian 5
	tiny-rbm-train -q $RESUME --f64 "$T/d.tiny" >"$T/full.rbm"
	run tiny-info --json "$T/full.rbm"
	assert_output --partial '{"name": "W", "dtype": "f64", "shape": [6, 5]}'
	tiny-rbm-train -q $RESUME --f64 --max-batches 7 --checkpoint "$T/ck" "$T/d.tiny" >/dev/null
	run tiny-info --json "$T/ck"
	assert_output --partial '{"name": "uW", "dtype": "f64", "shape": [6, 5]}'
	tiny-rbm-train -q $RESUME --f64 --init "$T/ck" "$T/d.tiny" >"$T/resumed.rbm"
	cmp <(tiny-npy W "$T/full.rbm") <(tiny-npy W "$T/resumed.rbm")
	diff <(params "$T/full.rbm") <(params "$T/resumed.rbm")
	# f32 and f64 start alike and part by rounding only
	tiny-rbm-train -q $RESUME "$T/d.tiny" >"$T/f32.rbm"
	tiny-features "$T/full.rbm" "$T/d.tiny" >"$T/f.tiny"
	$PY -c "$LOAD
m, d, f = load('$T/full.rbm')[0], load('$T/d.tiny'), load('$T/f.tiny')
m32 = load('$T/f32.rbm')[0]
dw = abs(m['W'] - m32['W']).max()
assert 0 < dw < 1e-4 * abs(m['W']).max(), dw
p = 1 / (1 + np.exp(-(d['x'].reshape(23, -1) / m['sigma'] @ m['W'] + m['hbias'])))
assert abs(f['x'] - p).max() < 1e-6, abs(f['x'] - p).max()
"
}

@test "the model's history keeps the command line as typed (--momentum M0,M1@E included)" {
	data "$T/d.tiny" 8 3 gaussian 1
	tiny-rbm-train -q --hidden 2 --epochs 1 --batch 4 --momentum 0.5,0.8@3 "$T/d.tiny" >"$T/m.rbm"
	run -0 tiny-info "$T/m.rbm"
	assert_output --partial "tiny-rbm-train -q --hidden 2 --epochs 1 --batch 4 --momentum 0.5,0.8@3 "
	assert_output --partial "momentum 0.5,0.8@3"
}

@test "training binary visibles raises the exact log-likelihood of the data (V 4, H 3, by enumeration)" {
	npy_ok
	# 200 samples of a distribution that favours 0011, 1100 and 1111
	$PY -c "
import numpy as np
r = np.random.default_rng(3); p = np.ones(16); p[[3, 12, 15]] = 15; p /= p.sum()
for k in r.choice(16, size=200, p=p): print(' '.join(str((k >> i) & 1) for i in range(4)))
" | mkstream 'x f32 [4]' >"$T/d.tiny"
	tiny-rbm-train -q --visible binary --hidden 3 --seed 1 --epochs 0 "$T/d.tiny" >"$T/m0.rbm"
	tiny-rbm-train -q --init "$T/m0.rbm" --epochs 30 --batch 10 --lr-w 0.1 "$T/d.tiny" >"$T/m1.rbm"
	tiny-npy x "$T/d.tiny" >"$T/x.npy"
	for f in W vbias hbias; do
		tiny-npy $f "$T/m0.rbm" >"$T/m0$f.npy"
		tiny-npy $f "$T/m1.rbm" >"$T/m1$f.npy"
	done
	run -0 $PY "$REF" loglik "$T" m0 m1
	# from 4 log 1/2 = -2.77 nats (the near-zero start) to clearly better
	awk 'NR == 1 { a = $1 } NR == 2 { b = $1 } END { exit !(a < -2.7 && b > a + 0.3) }' <<<"$output"
}

# --- resume and threads ---------------------------------------------------------

RESUME="--hidden 5 --seed 3 --batch 5 --epochs 3 --lr-w 0.05 --sigma 0.8 --learn-sigma --lr-sigma 0.01
	--momentum 0.5,0.9@1"

@test "stopped mid-epoch with --max-batches and resumed from the checkpoint: the same model" {
	data "$T/d.tiny" 23 6 gaussian 5
	tiny-rbm-train -q $RESUME "$T/d.tiny" >"$T/full.rbm"
	tiny-rbm-train -q $RESUME --max-batches 7 --checkpoint "$T/ck" "$T/d.tiny" >/dev/null
	run tiny-info "$T/ck"
	assert_output --partial "attr train_epoch 1"
	assert_output --partial "attr train_batch 2"
	tiny-rbm-train -q $RESUME --init "$T/ck" --checkpoint "$T/ck" "$T/d.tiny" >"$T/resumed.rbm"
	[ -n "$(params "$T/full.rbm")" ]
	diff <(params "$T/full.rbm") <(params "$T/resumed.rbm")
}

@test "with --pcd the chains are in the checkpoint and the resumed run is the same" {
	data "$T/d.tiny" 23 6 gaussian 6
	tiny-rbm-train -q $RESUME --pcd --cd 2 "$T/d.tiny" >"$T/full.rbm"
	tiny-rbm-train -q $RESUME --pcd --cd 2 --max-batches 8 --checkpoint "$T/ck" "$T/d.tiny" >/dev/null
	run tiny-info --json "$T/ck"
	assert_output --partial '{"name": "chains", "dtype": "f32", "shape": [5, 6]}'
	tiny-rbm-train -q $RESUME --pcd --cd 2 --init "$T/ck" "$T/d.tiny" >"$T/resumed.rbm"
	diff <(params "$T/full.rbm") <(params "$T/resumed.rbm")
}

@test "killed with -9 after a checkpoint and resumed: the same model as an uninterrupted run" {
	data "$T/d.tiny" 500 8 gaussian 7
	# 20000 minibatches: some seconds with a checkpoint after each
	local opts="--hidden 6 --seed 4 --batch 5 --epochs 200 --lr-w 0.01 --learn-sigma"
	tiny-rbm-train -q $opts "$T/d.tiny" >"$T/full.rbm"
	tiny-rbm-train -q $opts --checkpoint "$T/ck" --checkpoint-every 1b "$T/d.tiny" >/dev/null &
	local pid=$! k rc=0
	for k in $(seq 1000); do [ -e "$T/ck" ] && break; sleep 0.01; done
	kill -9 $pid
	wait $pid || rc=$?
	[ $rc = 137 ]   # killed, not ended
	run tiny-info "$T/ck"
	refute_output --partial "attr train_epoch 200"
	tiny-rbm-train -q $opts --init "$T/ck" "$T/d.tiny" >"$T/resumed.rbm"
	diff <(params "$T/full.rbm") <(params "$T/resumed.rbm")
}

@test "SIGINT and SIGTERM write a checkpoint and say how to resume; the same command resumes it to the same model and a log of every epoch" {
	data "$T/d.tiny" 500 8 gaussian 7
	local opts="--hidden 6 --seed 4 --batch 5 --epochs 100 --lr-w 0.01 --learn-sigma --checkpoint-every 1b"
	tiny-rbm-train -q $opts --log "$T/full.log" "$T/d.tiny" >"$T/full.rbm"
	local sig k pid rc
	for sig in INT TERM; do
		# wait for a checkpoint of this run, not the last one's: its handlers are in place then
		touch "$T/mark"
		tiny-rbm-train -q $opts --checkpoint "$T/ck" --log "$T/log" "$T/d.tiny" >"$T/out.rbm" 2>"$T/err" &
		pid=$! rc=0
		for k in $(seq 1000); do [ "$T/ck" -nt "$T/mark" ] && break; sleep 0.01; done
		sleep 0.$((RANDOM % 5))
		kill -$sig $pid
		wait $pid || rc=$?
		[ $rc = $((128 + $(kill -l $sig))) ] || fail "SIG$sig: exit $rc"
		run cat "$T/err"
		assert_output --regexp "^tiny-rbm-train: stopped by SIG$sig, at epoch [0-9]+ minibatch [0-9]+; run the same command again to resume from the checkpoint\$"
		[ ! -s "$T/out.rbm" ]
	done
	run -0 --separate-stderr tiny-rbm-train $opts --checkpoint "$T/ck" --log "$T/log" "$T/d.tiny"
	[[ "${stderr_lines[*]}" == *"tiny-rbm-train: resuming $T/ck at epoch "* ]]
	tiny-rbm-train -q $opts --checkpoint "$T/ck" --log "$T/log" "$T/d.tiny" >"$T/resumed.rbm"
	diff <(params "$T/full.rbm") <(params "$T/resumed.rbm")
	# the log holds every epoch from the first, with the uninterrupted run's errors
	diff <(tiny-dump --fields epoch,recon,sigma_mean "$T/full.log") <(tiny-dump --fields epoch,recon,sigma_mean "$T/log")
	[ "$(tiny-dump --fields epoch "$T/log" | wc -l)" = 100 ]
}

@test "a --checkpoint file of another run is refused in one line naming the difference" {
	data "$T/d.tiny" 40 8 gaussian 7
	data "$T/e.tiny" 40 8 gaussian 8
	tiny-rbm-train -q --hidden 6 --epochs 2 --checkpoint "$T/ck" "$T/d.tiny" >/dev/null
	run -1 --separate-stderr tiny-rbm-train -q --hidden 7 --epochs 2 --checkpoint "$T/ck" "$T/d.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/ck: a checkpoint of another run (6 hidden units, this run's 7); remove it to start afresh" ]
	run -1 --separate-stderr tiny-rbm-train -q --hidden 6 --epochs 2 --lr-w 0.1 --checkpoint "$T/ck" "$T/d.tiny"
	[[ "$stderr" == "tiny-rbm-train: $T/ck: a checkpoint of another run (its train_settings 'cd 1 batch 40 lr_w 0.001 "*"this run's 'cd 1 batch 40 lr_w 0.1 "*"); remove it to start afresh" ]]
	run -1 --separate-stderr tiny-rbm-train -q --hidden 6 --epochs 2 --checkpoint "$T/ck" "$T/e.tiny"
	[[ "$stderr" == "tiny-rbm-train: $T/ck: a checkpoint of another run (its train_data '40 records of 32 bytes, hash "*"); remove it to start afresh" ]]
	run -1 --separate-stderr tiny-rbm-train -q --hidden 6 --epochs 1 --checkpoint "$T/ck" "$T/d.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/ck: a checkpoint at epoch 2, past this run's --epochs 1; remove it to start afresh, or ask for more epochs" ]
	run -1 --separate-stderr tiny-rbm-train -q --hidden 6 --epochs 2 --checkpoint "$T/d.tiny" "$T/d.tiny"
	[[ "$stderr" == "tiny-rbm-train: $T/d.tiny: not an RBM model "* ]]
	tiny-rbm-train -q --hidden 6 --epochs 2 "$T/d.tiny" >"$T/model.rbm"
	run -1 --separate-stderr tiny-rbm-train -q --hidden 6 --epochs 2 --checkpoint "$T/model.rbm" "$T/d.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/model.rbm: --checkpoint names a file that is not a checkpoint; remove it or name another" ]
	# the same run, asked for more epochs, goes on from where it ended
	run -0 --separate-stderr tiny-rbm-train --hidden 6 --epochs 3 --checkpoint "$T/ck" "$T/d.tiny"
	[[ "${stderr_lines[*]}" == *"resuming $T/ck at epoch 2, minibatch 0"* ]]
}

@test "--threads 1 and --threads 2 train the same model" {
	data "$T/d.tiny" 300 40 gaussian 8
	local opts="-q --hidden 24 --seed 2 --batch 60 --epochs 2 --lr-w 0.01 --learn-sigma --cd 2"
	tiny-rbm-train $opts --threads 1 "$T/d.tiny" >"$T/t1.rbm"
	tiny-rbm-train $opts --threads 2 "$T/d.tiny" >"$T/t2.rbm"
	diff <(params "$T/t1.rbm") <(params "$T/t2.rbm")
}

@test "binary visibles read u8 data as x/255, and reject float data outside [0,1] before training" {
	npy_ok
	# the same 0..255 pixels as u8 and as f32 x/255: the same model
	$PY -c "
import numpy as np
x = np.random.default_rng(3).integers(0, 256, size=(40, 6))
np.savetxt(__import__('sys').stdout, x, fmt='%d')
" >"$T/px.txt"
	mkstream 'x u8 [6]' <"$T/px.txt" >"$T/u8.tiny"
	awk '{ for (i = 1; i <= NF; i++) printf "%.9g%s", $i / 255, i < NF ? " " : "\n" }' "$T/px.txt" | mkstream 'x f32 [6]' >"$T/f.tiny"
	tiny-rbm-train -q --visible binary --hidden 5 --batch 10 --epochs 3 --lr-w 0.1 "$T/u8.tiny" >"$T/u8.rbm"
	tiny-rbm-train -q --visible binary --hidden 5 --batch 10 --epochs 3 --lr-w 0.1 "$T/f.tiny" >"$T/f.rbm"
	run $PY -c "$LOAD
a, b = load('$T/u8.rbm')[0], load('$T/f.rbm')[0]
for k in ('W', 'vbias', 'hbias'):
    assert np.abs(a[k] - b[k]).max() < 1e-5, (k, np.abs(a[k] - b[k]).max())
assert np.abs(a['W']).max() > 0.01   # it learned something
print('ok')
"
	assert_output ok
	# and tiny-features reads the u8 data the same way
	tiny-features -q "$T/u8.rbm" "$T/u8.tiny" >"$T/fu.tiny"
	tiny-features -q "$T/u8.rbm" "$T/f.tiny" >"$T/ff.tiny"
	run $PY -c "$LOAD
a, b = load('$T/fu.tiny'), load('$T/ff.tiny')
assert np.abs(a['x'] - b['x']).max() < 1e-6, np.abs(a['x'] - b['x']).max()
print('ok')
"
	assert_output ok
	# float data outside [0,1]: one line naming the record, nothing written
	printf '0 1 0.5\n0.2 1.5 0\n' | mkstream 'x f32 [3]' >"$T/bad.tiny"
	run -1 --separate-stderr tiny-rbm-train --visible binary --hidden 2 "$T/bad.tiny"
	[ "$stderr" = "tiny-rbm-train: $T/bad.tiny: record 1: x[1] = 1.5 is outside [0,1]; binary visibles take probabilities (u8 data is read as x/255)" ]
	assert_output ""
	tiny-rbm-train -q --visible binary --hidden 2 --epochs 0 <(printf '0 1 0\n' | mkstream 'x f32 [3]') >"$T/b3.rbm"
	run -1 --separate-stderr tiny-rbm-train --init "$T/b3.rbm" --epochs 1 "$T/bad.tiny"
	[[ "$stderr" == *"record 1: x[1] = 1.5 is outside [0,1]"* ]]
	run -1 --separate-stderr tiny-features "$T/b3.rbm" "$T/bad.tiny"
	[[ "$stderr" == *"bad.tiny: record 1: x[1] = 1.5 is outside [0,1]"* ]]
	assert_output ""
}

# ck_edit CK OUT FROM TO EXTRA: CK with FROM replaced by TO (same length) in
# its header, and EXTRA zero bytes appended to its one record
ck_edit() {
	$PY - "$1" "$2" "$3" "$4" "$5" <<'PY'
import sys
src, out, a, b, extra = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode(), int(sys.argv[5])
data = open(src, 'rb').read()
end = data.index(b'\nend\n')
assert len(a) == len(b) and data[:end].count(a) == 1
open(out, 'wb').write(data[:end].replace(a, b) + data[end:] + b'\0' * extra)
PY
}

@test "a checkpoint whose momenta do not fit the model is rejected in one line, before training" {
	T=$BATS_TEST_TMPDIR
	tiny-fetch -q synthetic --count 20 | tiny-patchify --size 8 --stride 8 >"$T/p.tiny"
	tiny-rbm-train -q --hidden 16 --epochs 1 --checkpoint "$T/ck" "$T/p.tiny" >/dev/null
	# issue 12: usigma [384] with its bytes made a heap overflow
	ck_edit "$T/ck" "$T/bad" "usigma f32 [192]" "usigma f32 [384]" 768
	run -1 --separate-stderr tiny-rbm-train --epochs 2 --init "$T/bad" "$T/p.tiny"
	[ -z "$output" ]
	[ "$stderr" = "tiny-rbm-train: $T/bad: field 'usigma' of a checkpoint of this RBM must be f32 or f64 [192], not f32 [384]" ]
	# a missing momentum (renamed) made an uninitialised read
	ck_edit "$T/ck" "$T/bad2" "uvbias" "uvbiaz" 0
	run -1 --separate-stderr tiny-rbm-train --epochs 2 --init "$T/bad2" "$T/p.tiny"
	[ -z "$output" ]
	[ "$stderr" = "tiny-rbm-train: $T/bad2: a checkpoint of this RBM has a field uvbias f32 or f64 [192]; this stream has none" ]
	ck_edit "$T/ck" "$T/bad3" "train_batch 0" "train_batch x" 0
	run -1 --separate-stderr tiny-rbm-train --epochs 2 --init "$T/bad3" "$T/p.tiny"
	[[ "$stderr" == *"attribute train_batch 'x' is not a position"* ]]
}

@test "checkpoints and logs get the mode the umask gives, not 0600" {
	T=$BATS_TEST_TMPDIR
	tiny-fetch -q synthetic --count 10 >"$T/d.tiny"
	(umask 022 && tiny-rbm-train -q --hidden 2 --epochs 1 --checkpoint "$T/ck" --log "$T/log" "$T/d.tiny" >/dev/null)
	[ "$(stat -c %a "$T/ck")" = 644 ]
	[ "$(stat -c %a "$T/log")" = 644 ]
	(umask 077 && tiny-rbm-train -q --hidden 2 --epochs 1 --checkpoint "$T/ck2" "$T/d.tiny" >/dev/null)
	[ "$(stat -c %a "$T/ck2")" = 600 ]
}

@test "a temporary file left by a killed writer is removed by the next one; a live writer's is kept" {
	T=$BATS_TEST_TMPDIR
	tiny-fetch -q synthetic --count 10 >"$T/d.tiny"
	# a process id that is surely not running: one that has just ended
	sh -c 'exit 0' & dead=$!
	wait $dead
	touch "$T/ck.tmp.$dead.AbCdEf" "$T/ck.tmp.$$.AbCdEf"
	tiny-rbm-train -q --hidden 2 --epochs 1 --checkpoint "$T/ck" "$T/d.tiny" >/dev/null
	[ ! -e "$T/ck.tmp.$dead.AbCdEf" ]
	[ -e "$T/ck.tmp.$$.AbCdEf" ]
}

@test "a model big enough for every thread reports its BLIS set-up and trains (BLIS 0.9 aborted on the report)" {
	# V H B = 64 * 1000 * 100 is above SMALL_WORK: no la_set_threads(1)
	# before the first BLIS call, which was then bli_arch_query_id
	data "$T/d.tiny" 200 64 gaussian 1
	run --separate-stderr tiny-rbm-train --hidden 1000 --epochs 1 --seed 1 "$T/d.tiny"
	assert_success
	[[ "$stderr" == *"V 64 H 1000 Gaussian visibles"*"kernels"* ]]
}

@test "Gaussian visibles at the default sigma on data far from unit variance get a warning naming the fix" {
	data "$T/d.tiny" 50 4 gaussian 1
	awk 'BEGIN { srand(3); for (i = 0; i < 50; i++) print 60 * rand(), 60 * rand(), 60 * rand(), 60 * rand() }' |
		mkstream 'x f32 [4]' >"$T/raw.tiny"
	run -0 --separate-stderr tiny-rbm-train -q --hidden 2 --epochs 1 "$T/raw.tiny"
	[[ "$stderr" == "tiny-rbm-train: $T/raw.tiny: the data's average standard deviation is 1"[0-9.]*", far from the default --sigma 1 (meant for whitened data): the hidden units will saturate or stay linear; give --sigma data, or whiten the data first (tiny-zca)" ]]
	run -0 --separate-stderr tiny-rbm-train -q --hidden 2 --epochs 1 --sigma data "$T/raw.tiny"
	[ -z "$stderr" ]
	run -0 --separate-stderr tiny-rbm-train -q --hidden 2 --epochs 1 "$T/d.tiny"
	[ -z "$stderr" ]
}

@test "--sparsity P brings the hidden units' mean activation toward P" {
	data "$T/d.tiny" 400 16 gaussian 3
	local opts="-q --hidden 8 --epochs 5 --batch 20 --lr-w 0.01 --seed 2"
	tiny-rbm-train $opts "$T/d.tiny" >"$T/plain.rbm"
	tiny-rbm-train $opts --sparsity 0.05 --sparsity-rate 0.05 "$T/d.tiny" >"$T/sparse.rbm"
	mean() { tiny-features "$1" "$T/d.tiny" | tiny-info | awk '$1 == "x" { print $6 }'; }
	local p s
	p=$(mean "$T/plain.rbm")
	s=$(mean "$T/sparse.rbm")
	echo "# mean hidden probability: $p plain, $s with --sparsity 0.05" >&3
	awk -v p="$p" -v s="$s" 'BEGIN { exit !(s < 0.2 && p > 0.3) }'
	run -0 tiny-info "$T/sparse.rbm"
	assert_line --partial " sparsity 0.05 rate 0.05"
	run -2 tiny-rbm-train --sparsity-rate 0.1 "$T/d.tiny"
	assert_output --partial "--sparsity-rate goes with --sparsity P"
	run -2 tiny-rbm-train --sparsity 1 "$T/d.tiny"
}
