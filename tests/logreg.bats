#!/usr/bin/env bats
# tiny-logreg: softmax regression, trained by minibatch gradient descent; predicts label, pred, prob.

load helpers/common

# blobs FILE N: N records of 3 classes, Gaussian blobs (sd 0.5) around
# (0,0), (6,0), (0,6) in 2-D: linearly separable by a wide margin
blobs() {
	$PY -c "
import numpy as np
r = np.random.default_rng(7)
c = np.array([[0, 0], [6, 0], [0, 6]])
for i in range($2):
    x = c[i % 3] + 0.5 * r.standard_normal(2)
    print(i % 3, x[0], x[1])
" | mkstream --attr 'classes=a b c' 'label u8 []' 'x f32 [2]' >"$1"
}

setup() {
	D3="$BATS_TEST_TMPDIR/d3.tiny"
	mkstream --attr 'classes=a b c' 'label u8 []' 'x f32 [2]' <<<'0 1 2  1 3 4  2 -1 -1  0 1.2 2.1' >"$D3"
}

@test "no arguments, a bad option, bad numbers, or training options without --train: usage errors" {
	run -2 tiny-logreg
	assert_output --partial "usage: tiny-logreg --train [-q]"
	run -2 tiny-logreg --frobnicate "$D3"
	run -2 tiny-logreg --train --epochs abc "$D3"
	assert_output --partial "--epochs"
	run -2 tiny-logreg --train --epochs 0 "$D3"
	run -2 tiny-logreg --train --lr -1 "$D3"
	run -2 tiny-logreg --train --valid 1 "$D3"
	assert_output --partial "--valid 1: expected a fraction above 0 and below 1"
	run -2 tiny-logreg --train "$D3" "$D3"
	run -2 tiny-logreg --lr 0.1 "$D3" "$D3"
	assert_output --partial "apply to --train"
	run -2 tiny-logreg --train --loss hinge "$D3"
	assert_output --partial "--loss hinge: expected one of softmax, svm"
	run -2 tiny-logreg --loss svm "$D3" "$D3"
	assert_output --partial "apply to --train"
	run -2 tiny-logreg - -
	assert_output --partial "cannot both come from stdin"
}

@test "training data without a label, or with a float label, is rejected and nothing is written" {
	mkstream 'x f32 [2]' <<<'1 2  3 4' >"$BATS_TEST_TMPDIR/nolabel.tiny"
	run -1 --separate-stderr tiny-logreg --train "$BATS_TEST_TMPDIR/nolabel.tiny"
	[ "$stderr" = "tiny-logreg: $BATS_TEST_TMPDIR/nolabel.tiny: no field 'label' (--train needs labelled data)" ]
	assert_output ""
	mkstream 'label f32 []' 'x f32 [2]' <<<'0 1 2  1 3 4' >"$BATS_TEST_TMPDIR/flabel.tiny"
	run -1 --separate-stderr tiny-logreg --train "$BATS_TEST_TMPDIR/flabel.tiny"
	[[ "$stderr" == *"label is f32 with 1 values; --train needs an integer label"* ]]
	assert_output ""
}

@test "a label outside the classes, a NaN, one record, or a single class is an error naming it, nothing written" {
	mkstream --attr 'classes=a b' 'label u8 []' 'x f32 [2]' <<<'0 1 2  2 3 4' >"$BATS_TEST_TMPDIR/range.tiny"
	run -1 --separate-stderr tiny-logreg --train "$BATS_TEST_TMPDIR/range.tiny"
	[ "$stderr" = "tiny-logreg: $BATS_TEST_TMPDIR/range.tiny: record 1: label 2 is outside 0..1 (2 classes)" ]
	assert_output ""
	mkstream 'label u8 []' 'x f32 [2]' <<<'0 1 2  1 3 4  1 nan 0' >"$BATS_TEST_TMPDIR/nan.tiny"
	run -1 --separate-stderr tiny-logreg --train "$BATS_TEST_TMPDIR/nan.tiny"
	[[ "$stderr" == *"nan.tiny"*"record 2"* ]]
	assert_output ""
	mkstream 'label u8 []' 'x f32 [2]' <<<'1 1 2' >"$BATS_TEST_TMPDIR/one.tiny"
	run -1 --separate-stderr tiny-logreg --train "$BATS_TEST_TMPDIR/one.tiny"
	[[ "$stderr" == *"one.tiny: 1 record; training needs at least 2" ]]
	mkstream 'label u8 []' 'x f32 [2]' <<<'0 1 2  0 3 4' >"$BATS_TEST_TMPDIR/zero.tiny"
	run -1 --separate-stderr tiny-logreg --train "$BATS_TEST_TMPDIR/zero.tiny"
	[[ "$stderr" == *"every label is 0 and there is no classes attribute"* ]]
	assert_output ""
}

@test "data with another D than the model is one error naming both numbers, and nothing is written" {
	tiny-logreg --train -q "$D3" >"$BATS_TEST_TMPDIR/m.tiny"
	mkstream 'x f32 [3]' <<<'1 2 3' >"$BATS_TEST_TMPDIR/x3.tiny"
	run -1 --separate-stderr tiny-logreg "$BATS_TEST_TMPDIR/m.tiny" "$BATS_TEST_TMPDIR/x3.tiny"
	[ "$stderr" = "tiny-logreg: $BATS_TEST_TMPDIR/m.tiny is a model of D = 2 inputs; $BATS_TEST_TMPDIR/x3.tiny's x has 3 values" ]
	assert_output ""
	run -1 --separate-stderr tiny-logreg "$D3" "$D3"
	[[ "$stderr" == *"d3.tiny: no field 'W'"* || "$stderr" == *"not a tiny-logreg model"* ]]
	assert_output ""
}

@test "the model is W [D,K], b [K], mu and sd [D] with the classes, the settings and the history" {
	run -0 --separate-stderr tiny-logreg --train --solver sgd --epochs 3 --seed 5 "$D3"
	[ "${#stderr_lines[@]}" -eq 5 ]   # the opening line, one per epoch, the cap
	[[ "${stderr_lines[3]}" == "tiny-logreg: epoch 3/3: loss "*", training accuracy "* ]]
	[ "${stderr_lines[4]}" = "tiny-logreg: reached the --epochs cap 3 before the stopping test held" ]
	tiny-logreg --train -q --solver sgd --epochs 3 --seed 5 --l2 0.001 "$D3" >"$BATS_TEST_TMPDIR/m.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/m.tiny"
	assert_line "field W f32 [2,3]"
	assert_line "field b f32 [3]"
	assert_line "field mu f32 [2]"
	assert_line "field sd f32 [2]"
	assert_line "attr classes a b c"
	assert_line --partial "attr logreg_settings solver sgd lr 0.001 momentum 0.9 batch 100 epochs 3 schedule plateau"
	assert_line --partial " l2 0.001 standardize yes"
	assert_line "attr logreg_l2 0.001"
	assert_line "attr history tiny-logreg --train -q --solver sgd --epochs 3 --seed 5 --l2 0.001 $D3"
	run -0 tiny-logreg --train -q --no-standardize "$D3"
	refute_output --partial "field mu"
}

@test "the first step is -lr times the gradient at W = 0, which agrees with finite differences of the loss" {
	npy_ok
	# N = 6, D = 3, K = 3; one minibatch of all records, so epoch 1 is one step from W = b = 0
	mkstream 'label i32 []' 'x f32 [3]' <<<'0 1 2 -1  1 0.5 -3 2  2 -1 0.5 0.25  1 2 2 2  0 -0.5 1 3  1 1.5 -2 0' \
		>"$BATS_TEST_TMPDIR/g.tiny"
	tiny-logreg --train -q --solver sgd --no-standardize --epochs 1 --batch 6 --lr 0.001 --l2 0.5 "$BATS_TEST_TMPDIR/g.tiny" \
		>"$BATS_TEST_TMPDIR/g.model"
	run $PY -c "$LOAD
d, m = load('$BATS_TEST_TMPDIR/g.tiny'), load('$BATS_TEST_TMPDIR/g.model')[0]
X, y, lr, L = d['x'].astype(np.float64), d['label'], 0.001, 0.5
N, D, K = len(y), 3, 3
Y = np.eye(K)[y]
def loss(W, b):
    S = X @ W + b
    S = S - S.max(1, keepdims=True)
    return -np.mean(np.sum(Y * (S - np.log(np.exp(S).sum(1, keepdims=True))), 1)) + L / 2 * np.sum(W * W)
def grad(W, b):
    S = X @ W + b
    P = np.exp(S - S.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
    return X.T @ (P - Y) / N + L * W, (P - Y).mean(0)
# the stage's first step against the formula at W = 0, b = 0
gW, gb = grad(np.zeros((D, K)), np.zeros(K))
eW, eb = np.abs(m['W'] + lr * gW).max(), np.abs(m['b'] + lr * gb).max()
assert eW < 1e-7 and eb < 1e-7, (m['W'], -lr * gW, m['b'], -lr * gb)
# the formula against central differences of the loss, at a random point
r = np.random.default_rng(3)
W, b, h = r.standard_normal((D, K)), r.standard_normal(K), 1e-6
gW, gb = grad(W, b)
for i in range(D):
    for k in range(K):
        E = np.zeros((D, K)); E[i, k] = h
        fd = (loss(W + E, b) - loss(W - E, b)) / (2 * h)
        assert abs(fd - gW[i, k]) < 1e-6, (i, k, fd, gW[i, k])
for k in range(K):
    e = np.zeros(K); e[k] = h
    fd = (loss(W, b + e) - loss(W, b - e)) / (2 * h)
    assert abs(fd - gb[k]) < 1e-6, (k, fd, gb[k])
print('ok')
"
	assert_success
	assert_output "ok"
}

@test "three well-separated blobs in 2-D reach 100% training accuracy" {
	blobs "$BATS_TEST_TMPDIR/b.tiny" 150
	tiny-logreg --train -q --epochs 20 --batch 10 "$BATS_TEST_TMPDIR/b.tiny" >"$BATS_TEST_TMPDIR/b.model"
	run -0 --separate-stderr tiny-logreg "$BATS_TEST_TMPDIR/b.model" "$BATS_TEST_TMPDIR/b.tiny"
	[ "$stderr" = "tiny-logreg: accuracy 1.0000 (150 of 150)" ]
}

@test "predictions are label (as it came), pred i32 and prob f32 [K] rows summing to 1, with the classes" {
	npy_ok
	blobs "$BATS_TEST_TMPDIR/b.tiny" 30
	tiny-logreg --train -q --epochs 5 --batch 10 "$BATS_TEST_TMPDIR/b.tiny" >"$BATS_TEST_TMPDIR/b.model"
	tiny-logreg -q "$BATS_TEST_TMPDIR/b.model" "$BATS_TEST_TMPDIR/b.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/p.tiny"
	assert_line "count 30"
	assert_line "field label u8 []"
	assert_line "field pred i32 []"
	assert_line "field prob f32 [3]"
	assert_line "attr classes a b c"
	refute_line --partial "field x"
	run $PY -c "$LOAD
p = load('$BATS_TEST_TMPDIR/p.tiny')
assert np.abs(p['prob'].sum(1) - 1).max() < 1e-6
assert (p['pred'] == p['prob'].argmax(1)).all() and (p['prob'] > 0).all()
print('ok')
"
	assert_output "ok"
	# without a label: pred and prob only, and no accuracy line
	mkstream 'x f32 [2]' <<<'0 0  6 0' >"$BATS_TEST_TMPDIR/u.tiny"
	run -0 --separate-stderr tiny-logreg "$BATS_TEST_TMPDIR/b.model" "$BATS_TEST_TMPDIR/u.tiny"
	[ "$stderr" = "" ]
	run tiny-dump --fields pred <(tiny-logreg "$BATS_TEST_TMPDIR/b.model" "$BATS_TEST_TMPDIR/u.tiny")
	assert_output $'pred=0\npred=1'
}

@test "standardising: mu and sd are the training data's, and predictions are softmax((x - mu) / sd W + b)" {
	npy_ok
	# the third input is constant: its sd is taken as 1
	mkstream 'label u8 []' 'x u8 [3]' <<<'0 10 200 7  1 30 100 7  2 20 50 7  1 40 0 7  0 0 255 7' \
		>"$BATS_TEST_TMPDIR/s.tiny"
	tiny-logreg --train -q --epochs 10 --batch 2 "$BATS_TEST_TMPDIR/s.tiny" >"$BATS_TEST_TMPDIR/s.model"
	tiny-logreg -q "$BATS_TEST_TMPDIR/s.model" "$BATS_TEST_TMPDIR/s.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	run $PY -c "$LOAD
d, m, p = load('$BATS_TEST_TMPDIR/s.tiny'), load('$BATS_TEST_TMPDIR/s.model')[0], load('$BATS_TEST_TMPDIR/p.tiny')
X = d['x'].astype(np.float64)
assert np.allclose(m['mu'], X.mean(0), rtol=1e-6), m['mu']
assert np.allclose(m['sd'], [X[:, 0].std(), X[:, 1].std(), 1], rtol=1e-6), m['sd']
S = (X - m['mu']) / m['sd'] @ m['W'] + m['b']
P = np.exp(S - S.max(1, keepdims=True)); P /= P.sum(1, keepdims=True)
assert np.abs(P - p['prob']).max() < 1e-5, (P, p['prob'])
assert (p['label'] == d['label']).all()
print('ok')
"
	assert_output "ok"
}

@test "--valid holds out a part; SGD keeps the epoch of the lowest validation loss and stops; the same seed gives the same model" {
	npy_ok
	overlap "$BATS_TEST_TMPDIR/o.tiny" 200 4
	run -0 --separate-stderr tiny-logreg --train --solver sgd --valid 0.25 --epochs 500 --batch 5 --lr 0.3 \
		--log "$BATS_TEST_TMPDIR/log.tiny" "$BATS_TEST_TMPDIR/o.tiny"
	[[ "${stderr_lines[0]}" == *"200 records (150 training, 50 validation)"* ]]
	[[ "${stderr_lines[1]}" == *"epoch 0 (the initial parameters): validation loss 1.3863, accuracy "* ]]
	[[ "${stderr_lines[2]}" == *"epoch 1/500: loss "*", validation loss "* ]]
	[[ "$stderr" =~ (no\ lower\ validation\ loss\ in\ 5\ epochs|stalled\ at\ the\ rate\'s\ last\ cut).*:\ stopping,\ keeping\ epoch ]]
	[[ "$stderr" != *"epoch 500/500"* ]]
	tiny-logreg --train -q --solver sgd --valid 0.25 --epochs 500 --batch 5 --lr 0.3 "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/m0"
	run kept_best "$BATS_TEST_TMPDIR/log.tiny" "$BATS_TEST_TMPDIR/m0" logreg
	assert_output ok
	tiny-logreg --train -q --valid 0.25 --seed 9 "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/m1"
	tiny-logreg --train -q --valid 0.25 --seed 9 "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/m2"
	cmp "$BATS_TEST_TMPDIR/m1" "$BATS_TEST_TMPDIR/m2"
	run tiny-info "$BATS_TEST_TMPDIR/m1"
	assert_line --regexp "attr logreg_valid_accuracy 0[.][5-9]"
	run -1 --separate-stderr tiny-logreg --train --valid 0.1 "$D3"
	[[ "$stderr" == *"--valid 0.1 of "*"4 records leaves 0 for validation and 4 for training"* ]]
	run -1 --separate-stderr tiny-logreg --train --valid 0.5 "$D3"
	[[ "$stderr" == *"--valid 0.5 of "*"4 records leaves 2 for validation and 2 for training; each needs at least one per class (3)" ]]
}

@test "L-BFGS's threads: the same run twice gives the same bytes, and one thread or two the same optimum" {
	overlap "$BATS_TEST_TMPDIR/o.tiny" 3000 4   # blocks of 128 rows: several for each thread
	BLIS_NUM_THREADS=2 tiny-logreg --train -q --l2 0.01 "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/a.tiny"
	BLIS_NUM_THREADS=2 tiny-logreg --train -q --l2 0.01 "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/b.tiny"
	cmp "$BATS_TEST_TMPDIR/a.tiny" "$BATS_TEST_TMPDIR/b.tiny"
	BLIS_NUM_THREADS=1 tiny-logreg --train --l2 0.01 "$BATS_TEST_TMPDIR/o.tiny" 2>"$BATS_TEST_TMPDIR/one" >/dev/null
	BLIS_NUM_THREADS=2 tiny-logreg --train --l2 0.01 "$BATS_TEST_TMPDIR/o.tiny" 2>"$BATS_TEST_TMPDIR/two" >/dev/null
	one=$(grep -o 'objective [0-9.]*' "$BATS_TEST_TMPDIR/one" | tail -1 | cut -d' ' -f2)
	two=$(grep -o 'objective [0-9.]*' "$BATS_TEST_TMPDIR/two" | tail -1 | cut -d' ' -f2)
	awk -v a="$one" -v b="$two" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }'
}

@test "L-BFGS on u8 data (read as bytes, standardised inside the objective) follows the same path as f32, and as the sgemms of TINY_SIMD=0" {
	# 301 records (an odd block), D 27 (not a multiple of 8), K 7 (tiles of 5 and 2 classes)
	$PY -c "
import numpy as np
r = np.random.default_rng(3)
c = r.integers(60, 190, (7, 27))
for i in range(301):
    x = np.clip(c[i % 7] + r.normal(0, 60, 27), 0, 255).astype(int)
    print(i % 7, *x)
" >"$BATS_TEST_TMPDIR/v.txt"
	mkstream 'label u8 []' 'x u8 [27]' <"$BATS_TEST_TMPDIR/v.txt" >"$BATS_TEST_TMPDIR/b.tiny"
	mkstream 'label u8 []' 'x f32 [27]' <"$BATS_TEST_TMPDIR/v.txt" >"$BATS_TEST_TMPDIR/f.tiny"
	for std in --standardize --no-standardize; do
		# b: bytes, f: floats, s: bytes on the portable path (floats and sgemms)
		for t in b f s; do
			[ $t = s ] && simd=0 || simd=
			TINY_SIMD=$simd tiny-logreg --train $std --l2 0.01 --epochs 30 "$BATS_TEST_TMPDIR/${t/s/b}.tiny" \
				2>"$BATS_TEST_TMPDIR/$t.err" |
				tiny-dump --fields W | sed 's/^W=//' | tr , '\n' >"$BATS_TEST_TMPDIR/$t.W"
			grep -o 'objective [0-9.]*' "$BATS_TEST_TMPDIR/$t.err" | cut -d' ' -f2 >"$BATS_TEST_TMPDIR/$t.obj"
		done
		# as many iterations, each one's objective within 1e-5 of the others'
		[ "$(wc -l <"$BATS_TEST_TMPDIR/b.obj")" -ge 10 ]
		for t in f s; do
			paste "$BATS_TEST_TMPDIR/b.obj" "$BATS_TEST_TMPDIR/$t.obj" |
				awk '{ d = $1 - $2; if (NF != 2 || d > 1e-5 || d < -1e-5) { print "iteration " NR ": " $0; exit 1 } }'
		done
		# and the 27 x 7 weights within 1e-4
		[ "$(wc -l <"$BATS_TEST_TMPDIR/b.W")" -eq 189 ]
		for t in f s; do
			paste "$BATS_TEST_TMPDIR/b.W" "$BATS_TEST_TMPDIR/$t.W" |
				awk '{ d = $1 - $2; if (NF != 2 || d > 1e-4 || d < -1e-4) { print "weight " NR ": " $0; exit 1 } }'
		done
	done
}

@test "L-BFGS stops on its convergence test, not the cap; a cap it reaches is said on stderr" {
	overlap "$BATS_TEST_TMPDIR/o.tiny" 300 5
	run -0 --separate-stderr tiny-logreg --train --l2 0.01 "$BATS_TEST_TMPDIR/o.tiny"
	[[ "${stderr_lines[-1]}" =~ ^tiny-logreg:\ converged\ after\ ([0-9]+)\ iterations ]]
	[ "${BASH_REMATCH[1]}" -lt 1000 ]
	run -0 --separate-stderr tiny-logreg --train --l2 0.01 --epochs 3 "$BATS_TEST_TMPDIR/o.tiny"
	[[ "${stderr_lines[-1]}" == "tiny-logreg: reached the --epochs cap 3 before converging (objective "* ]]
	run tiny-info <(tiny-logreg --train -q --l2 0.01 --epochs 3 "$BATS_TEST_TMPDIR/o.tiny")
	assert_line "attr logreg_epochs 3"
}

@test "--log writes one record per iteration with the losses, accuracies and seconds; a bad --log path fails first" {
	npy_ok
	overlap "$BATS_TEST_TMPDIR/o.tiny" 300 6
	tiny-logreg --train -q --valid 0.2 --log "$BATS_TEST_TMPDIR/log.tiny" "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/m.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/log.tiny"
	assert_line "field epoch i32 []"
	assert_line "field valid_accuracy f32 []"
	assert_line "attr solver lbfgs"
	run $PY -c "$LOAD
l = load('$BATS_TEST_TMPDIR/log.tiny')
assert l['epoch'][0] == 0 and np.isnan(l['train_loss'][0]) and abs(l['valid_loss'][0] - np.log(4)) < 1e-5
assert (np.diff(l['seconds']) >= 0).all() and (l['valid_accuracy'][1:] > 0.5).all()
assert l['train_loss'][-1] < l['train_loss'][1] < np.log(4), l['train_loss']
print(len(l))
"
	assert_success
	[ "$output" = "$(tiny-info "$BATS_TEST_TMPDIR/m.tiny" | grep -o 'logreg_epochs [0-9]*' | awk '{ print $2 + 1 }')" ]
	run -1 --separate-stderr tiny-logreg --train --log /nonexistent/dir/log "$BATS_TEST_TMPDIR/o.tiny"
	[[ "$stderr" == *"/nonexistent/dir/log"* ]]
	assert_output ""
	run -2 tiny-logreg --train --log - "$BATS_TEST_TMPDIR/o.tiny"
	assert_output --partial "--log -: the log goes to a file"
}

@test "on the synthetic images, logistic regression on raw pixels is well above chance (10%)" {
	tiny-fetch synthetic -q --count 2000 >"$BATS_TEST_TMPDIR/train.tiny"
	tiny-fetch synthetic -q --split test --count 500 >"$BATS_TEST_TMPDIR/test.tiny"
	# 2000 images of 3072 inputs: a strong L2 (measured 0.130 at the default 1e-4, 0.150 at 0.01, 0.190 at 0.1)
	tiny-logreg --train -q --l2 0.1 "$BATS_TEST_TMPDIR/train.tiny" >"$BATS_TEST_TMPDIR/m.tiny"
	run -0 --separate-stderr tiny-logreg "$BATS_TEST_TMPDIR/m.tiny" "$BATS_TEST_TMPDIR/test.tiny"
	# chance is 0.10 +- 0.013
	[[ "$stderr" =~ accuracy\ 0\.([0-9]+) ]]
	echo "test accuracy 0.${BASH_REMATCH[1]}"
	[ "${BASH_REMATCH[1]:0:2}" -ge 15 ]
}

# overlap FILE N SEED: N records of 4 overlapping Gaussian classes in 10-D
overlap() {
	$PY -c "
import numpy as np
r = np.random.default_rng($3)
c = np.random.default_rng(5).standard_normal((4, 10)) * 1.2
for i in range($2):
    x = c[i % 4] + r.standard_normal(10)
    print(i % 4, *x)
" | mkstream --attr 'classes=a b c d' 'label u8 []' 'x f32 [10]' >"$1"
}

@test "--target-loss stops at the first epoch whose objective (mean loss + L2/2 |W|^2) is at most L" {
	npy_ok
	overlap "$BATS_TEST_TMPDIR/o.tiny" 400 1
	tiny-logreg --train --epochs 200 --batch 20 --l2 0.001 --target-loss 0.6 "$BATS_TEST_TMPDIR/o.tiny" \
		>"$BATS_TEST_TMPDIR/m.tiny" 2>"$BATS_TEST_TMPDIR/err"
	grep -q "the objective reached --target-loss 0.6: stopping" "$BATS_TEST_TMPDIR/err"
	# every epoch but the last ends above 0.6, the last at or below it
	grep -o 'objective [0-9][0-9.]*' "$BATS_TEST_TMPDIR/err" | awk '{ o[NR] = $2 } END {
		for (i = 1; i < NR; i++) if (o[i] <= 0.6) exit 1; exit !(NR > 1 && o[NR] <= 0.6) }'
	last=$(grep -o 'objective [0-9][0-9.]*' "$BATS_TEST_TMPDIR/err" | tail -1 | cut -d' ' -f2)
	# the written model's objective, recomputed in NumPy, is the one printed last
	run $PY -c "$LOAD
d, m = load('$BATS_TEST_TMPDIR/o.tiny'), load('$BATS_TEST_TMPDIR/m.tiny')[0]
Z = (d['x'].astype(np.float64) - m['mu']) / m['sd']
S = Z @ m['W'] + m['b']
S = S - S.max(1, keepdims=True)
logp = S - np.log(np.exp(S).sum(1, keepdims=True))
obj = -logp[np.arange(len(Z)), d['label']].mean() + 0.001 / 2 * np.sum(m['W'].astype(np.float64) ** 2)
assert abs(obj - $last) < 1e-4, (obj, $last)
print('ok')
"
	assert_success
	assert_output "ok"
}

@test "on overlapping classes, test accuracy agrees with scikit-learn's LogisticRegression within 1 point" {
	$PY -c 'import sklearn' 2>/dev/null || skip "python3-sklearn is absent"
	overlap "$BATS_TEST_TMPDIR/train.tiny" 600 1
	overlap "$BATS_TEST_TMPDIR/test.tiny" 400 2
	tiny-logreg --train -q --epochs 60 --batch 20 --lr 0.01 --l2 0.001 "$BATS_TEST_TMPDIR/train.tiny" \
		>"$BATS_TEST_TMPDIR/m.tiny"
	tiny-logreg -q "$BATS_TEST_TMPDIR/m.tiny" "$BATS_TEST_TMPDIR/test.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	# the same objective in scikit-learn's terms: C = 1 / (N L2), on standardised inputs
	run $PY -c "$LOAD
from sklearn.linear_model import LogisticRegression
tr, te, p = load('$BATS_TEST_TMPDIR/train.tiny'), load('$BATS_TEST_TMPDIR/test.tiny'), load('$BATS_TEST_TMPDIR/p.tiny')
mu, sd = tr['x'].mean(0), tr['x'].std(0)
lr = LogisticRegression(C=1 / (600 * 0.001), max_iter=1000).fit((tr['x'] - mu) / sd, tr['label'])
ref = (lr.predict((te['x'] - mu) / sd) == te['label']).mean()
ours = (p['pred'] == te['label']).mean()
print('tiny %.4f sklearn %.4f' % (ours, ref))
assert abs(ours - ref) <= 0.01, (ours, ref)
assert ref > 0.5
"
	assert_success
}

@test "--solver lbfgs lowers the objective every iteration and reaches scikit-learn's optimum" {
	$PY -c 'import sklearn' 2>/dev/null || skip "python3-sklearn is absent"
	overlap "$BATS_TEST_TMPDIR/o.tiny" 600 3
	tiny-logreg --train --solver lbfgs --epochs 200 --l2 0.01 "$BATS_TEST_TMPDIR/o.tiny" \
		>"$BATS_TEST_TMPDIR/m.tiny" 2>"$BATS_TEST_TMPDIR/err"
	grep -q 'iteration 1/200: ' "$BATS_TEST_TMPDIR/err"
	run tiny-info "$BATS_TEST_TMPDIR/m.tiny"
	assert_line --partial "attr logreg_settings solver lbfgs "
	# the objectives printed never rise
	grep -o 'objective [0-9][0-9.]*' "$BATS_TEST_TMPDIR/err" | awk 'NR > 1 && $2 > last + 1e-6 { exit 1 } { last = $2 }'
	last=$(grep -o 'objective [0-9][0-9.]*' "$BATS_TEST_TMPDIR/err" | tail -1 | cut -d' ' -f2)
	# scikit-learn's converged optimum of the same objective (C = 1 / (N L2), standardised inputs)
	run $PY -c "$LOAD
from sklearn.linear_model import LogisticRegression
d = load('$BATS_TEST_TMPDIR/o.tiny')
X = (d['x'] - d['x'].mean(0)) / d['x'].std(0)
lr = LogisticRegression(C=1 / (600 * 0.01), tol=1e-10, max_iter=10000).fit(X, d['label'])
S = X.astype(np.float64) @ lr.coef_.T + lr.intercept_
S = S - S.max(1, keepdims=True)
logp = S - np.log(np.exp(S).sum(1, keepdims=True))
opt = -logp[np.arange(600), d['label']].mean() + 0.01 / 2 * np.sum(lr.coef_ ** 2)
print(opt, $last)
assert $last - opt < 1e-4 and opt - $last < 1e-4, (opt, $last)
"
	assert_success
}

@test "on a small real data set (scikit-learn's digits), the defaults agree with scikit-learn's LogisticRegression within 1 point" {
	digits "$BATS_TEST_TMPDIR"
	tiny-logreg --train -q "$BATS_TEST_TMPDIR/train.tiny" >"$BATS_TEST_TMPDIR/m.tiny"
	tiny-logreg -q "$BATS_TEST_TMPDIR/m.tiny" "$BATS_TEST_TMPDIR/test.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	# the same objective: C = 1 / (N L2) with the default L2 0.1, on the same standardised inputs
	run $PY -c "$(digits_load "$BATS_TEST_TMPDIR")
from sklearn.linear_model import LogisticRegression
lr = LogisticRegression(C=1 / (len(X) * 0.1), max_iter=10000).fit(X, tr['label'])
agree((lr.predict(T) == te['label']).mean(), 'sklearn', 0.01, 0.01)
"
	echo "# $output" >&3
	assert_success
}

@test "--l2 with several values fits each (strongest first) and keeps the best validation accuracy, its log as FILE" {
	overlap "$BATS_TEST_TMPDIR/o.tiny" 300 7
	tiny-logreg --train --valid 0.2 --l2 0.01,10,1 --log "$BATS_TEST_TMPDIR/log" "$BATS_TEST_TMPDIR/o.tiny" \
		>"$BATS_TEST_TMPDIR/m.tiny" 2>"$BATS_TEST_TMPDIR/err"
	stderr=$(cat "$BATS_TEST_TMPDIR/err")
	# each fit's validation loss and accuracy, in the order fitted
	fits=$(grep -o 'l2 [0-9.]*: validation loss [0-9.]*, accuracy [0-9.]*' <<<"$stderr" | awk '{ print $2, $5, $7 }' | tr -d :,)
	[ "$(cut -d' ' -f1 <<<"$fits" | tr '\n' ' ')" = "10 1 0.01 " ]
	# the highest accuracy, then the lowest loss; the first fitted on a full tie
	best=$(awk '{ print NR, $0 }' <<<"$fits" | sort -k4,4gr -k3,3g -k1,1n | head -1 | cut -d' ' -f2)
	[[ "$stderr" == *"chose l2 $best by the validation accuracy"* ]]
	run tiny-info "$BATS_TEST_TMPDIR/m.tiny"
	assert_line "attr logreg_l2 $best"
	assert_line --partial " l2 10,1,0.01 standardize yes"
	# the chosen fit's log is FILE, the others FILE.l2-VALUE
	[ -f "$BATS_TEST_TMPDIR/log" ]
	[ "$(ls "$BATS_TEST_TMPDIR" | grep -c '^log\.l2-')" -eq 2 ]
	[ ! -f "$BATS_TEST_TMPDIR/log.l2-$best" ]
	run -2 tiny-logreg --train --l2 1,2 "$BATS_TEST_TMPDIR/o.tiny"
	assert_output --partial "--l2 1,2: several values are chosen among on validation data; add --valid"
	run -2 tiny-logreg --train --l2 1,,2 "$BATS_TEST_TMPDIR/o.tiny"
}

@test "--loss svm reaches SciPy's optimum of the squared-hinge objective, predicts scores, and agrees with LinearSVC on digits" {
	digits "$BATS_TEST_TMPDIR"
	$PY -c 'import scipy' 2>/dev/null || skip "python3-scipy is absent"
	tiny-logreg --train --loss svm --l2 0.01 "$BATS_TEST_TMPDIR/train.tiny" >"$BATS_TEST_TMPDIR/m.tiny" 2>"$BATS_TEST_TMPDIR/err"
	grep -q 'converged after' "$BATS_TEST_TMPDIR/err"
	last=$(grep -o 'objective [0-9][0-9.]*' "$BATS_TEST_TMPDIR/err" | tail -1 | cut -d' ' -f2)
	run tiny-info "$BATS_TEST_TMPDIR/m.tiny"
	assert_line "attr logreg_loss svm"
	assert_line --partial " loss svm"
	tiny-logreg -q "$BATS_TEST_TMPDIR/m.tiny" "$BATS_TEST_TMPDIR/test.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/p.tiny"
	assert_line "field score f32 [10]"
	refute_line --partial "field prob"
	# 1/n sum_r sum_k max(0, 1 - t s)^2 + L/2 |W|^2 (b not decayed), minimised in float64 by SciPy;
	# liblinear's one-vs-rest (LinearSVC, C = 1 / (n L)) decays b too, so it is compared by accuracy
	run $PY -c "$(digits_load "$BATS_TEST_TMPDIR")
from scipy.optimize import minimize
from sklearn.svm import LinearSVC
m = load('$BATS_TEST_TMPDIR/m.tiny')
y = tr['label'].astype(int); n, D = X.shape; K = 10; L = 0.01
Y = -np.ones((n, K)); Y[np.arange(n), y] = 1
def f(th):
    W, b = th[:D * K].reshape(D, K), th[D * K:]
    M = np.maximum(0, 1 - Y * (X @ W + b))
    E = -2 * Y * M / n
    return (M ** 2).sum() / n + L / 2 * (W ** 2).sum(), np.concatenate([(X.T @ E + L * W).ravel(), E.sum(0)])
opt = minimize(f, np.zeros(D * K + K), jac=True, method='L-BFGS-B', options={'maxiter': 10000, 'gtol': 1e-10, 'ftol': 1e-15}).fun
W, b = m['W'][0].astype(np.float64), m['b'][0].astype(np.float64)
ours = f(np.concatenate([W.ravel(), b]))[0]
print('objective: scipy %.6f, tiny %.6f (printed $last)' % (opt, ours))
assert abs(ours - opt) < 1e-4 and abs($last - opt) < 1e-4, (opt, ours, $last)
S = T @ W + b
assert np.abs(p['score'] - S).max() < 1e-3 and (p['pred'] == S.argmax(1)).all()
agree((LinearSVC(C=1 / (n * L), max_iter=100000, tol=1e-8).fit(X, y).predict(T) == te['label']).mean(), 'LinearSVC',
      0.01, 0.01)
"
	echo "# $output" >&3
	assert_success
}

@test "--loss svm with SGD and a validation part: the validation loss is the squared hinge, the model scores" {
	overlap "$BATS_TEST_TMPDIR/o.tiny" 300 5
	tiny-logreg --train --solver sgd --loss svm --valid 0.2 --epochs 5 --log "$BATS_TEST_TMPDIR/log" \
		"$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/m.tiny" 2>/dev/null
	tiny-logreg -q "$BATS_TEST_TMPDIR/m.tiny" "$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	# epoch 0's validation loss, at W = 0 and b = 0: every score 0, so each row's K hinges are 1: K
	run tiny-dump --fields valid_loss "$BATS_TEST_TMPDIR/log"
	assert_line --index 0 "valid_loss=$(tiny-info "$BATS_TEST_TMPDIR/o.tiny" | awk '/^attr classes/ { print NF - 2 }')"
	run tiny-info "$BATS_TEST_TMPDIR/p.tiny"
	assert_line --partial "field score f32 ["
}

@test "--refit: the L2 chosen on validation, then L-BFGS on every record to the optimum a run without --valid reaches" {
	overlap "$BATS_TEST_TMPDIR/o.tiny" 600 6
	tiny-logreg --train --no-standardize --valid 0.2 --l2 0.001,0.1 --refit --log "$BATS_TEST_TMPDIR/lg" \
		"$BATS_TEST_TMPDIR/o.tiny" >"$BATS_TEST_TMPDIR/a.tiny" 2>"$BATS_TEST_TMPDIR/err"
	grep -q "refitting on all 600 records, from the solution above" "$BATS_TEST_TMPDIR/err"
	[ -f "$BATS_TEST_TMPDIR/lg.refit" ]
	L=$(tiny-info "$BATS_TEST_TMPDIR/a.tiny" | awk '$2 == "logreg_l2" { print $3 }')
	run tiny-info "$BATS_TEST_TMPDIR/a.tiny"
	assert_line --regexp "^attr logreg_refit_epochs [0-9]+$"
	refit=$(grep -o 'objective [0-9.]*' "$BATS_TEST_TMPDIR/err" | tail -1 | cut -d' ' -f2)
	tiny-logreg --train --no-standardize --l2 "$L" "$BATS_TEST_TMPDIR/o.tiny" 2>"$BATS_TEST_TMPDIR/err2" >/dev/null
	fresh=$(grep -o 'objective [0-9.]*' "$BATS_TEST_TMPDIR/err2" | tail -1 | cut -d' ' -f2)
	awk -v a="$refit" -v b="$fresh" 'BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }'
	run -2 tiny-logreg --train --refit "$BATS_TEST_TMPDIR/o.tiny"
	assert_output --partial "add --valid"
}
