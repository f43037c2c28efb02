#!/usr/bin/env bats
# tiny-backprop: a feed-forward net (1 or 2 logistic hidden layers, softmax output) initialised from RBMs
# and a logistic regression, trained by backpropagation; predicts label, pred, prob.

load helpers/common

# rbm FILE V H gaussian|binary SEED: an RBM with random parameters (sigma in 0.5..2 when gaussian)
rbm() {
	$PY -c "
import numpy as np
r = np.random.default_rng($5)
V, H = $2, $3
s = r.uniform(0.5, 2, V) if '$4' == 'gaussian' else np.ones(V)
print(*r.standard_normal(V * H), *r.standard_normal(V), *r.standard_normal(H), *s)
" | mkstream --attr rbm_visible="$4" "W f32 [$2,$3]" "vbias f32 [$2]" "hbias f32 [$3]" "sigma f32 [$2]" >"$1"
}

# logreg FILE D K SEED: a tiny-logreg model with random W, b, mu, sd (sd in 0.5..2), classes a b c ...
logreg() {
	$PY -c "
import numpy as np
r = np.random.default_rng($4)
D, K = $2, $3
print(*r.standard_normal(D * K), *r.standard_normal(K), *(0.5 * r.standard_normal(D)), *r.uniform(0.5, 2, D))
" | mkstream --attr "classes=$(echo a b c d e f g | cut -d' ' -f1-$3)" "W f32 [$2,$3]" "b f32 [$3]" \
		"mu f32 [$2]" "sd f32 [$2]" >"$1"
}

# xor FILE N: 2-D points around (1,1), (-1,-1) (class 0) and (1,-1), (-1,1) (class 1), sd 0.3
xor() {
	$PY -c "
import numpy as np
r = np.random.default_rng(1)
c = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]])
for i in range($2):
    x = c[i % 4] + 0.3 * r.standard_normal(2)
    print(int(i % 4 >= 2), x[0], x[1])
" | mkstream --attr 'classes=same differ' 'label u8 []' 'x f32 [2]' >"$1"
}

setup() {
	T="$BATS_TEST_TMPDIR"
	# N = 6 records, D = 3, K = 3
	mkstream --attr 'classes=a b c' 'label i32 []' 'x f32 [3]' \
		<<<'0 1 2 -1  1 0.5 -3 2  2 -1 0.5 0.25  1 2 2 2  0 -0.5 1 3  1 1.5 -2 0' >"$T/d.tiny"
}

@test "no arguments, a bad option, bad numbers or lists, no hidden layers, or training options without --train: usage errors" {
	run -2 tiny-backprop
	assert_output --partial "usage: tiny-backprop --train [-q] [--hidden H1[,H2]]"
	run -2 tiny-backprop --frobnicate "$T/d.tiny"
	run -2 tiny-backprop --train "$T/d.tiny"
	assert_output --partial "--train needs --hidden or --init-rbm"
	run -2 tiny-backprop --train --hidden 0 "$T/d.tiny"
	run -2 tiny-backprop --train --hidden 4,3,2 "$T/d.tiny"
	assert_output --partial "--hidden 4,3,2: at most 2 hidden layers"
	run -2 tiny-backprop --train --hidden 4, "$T/d.tiny"
	run -2 tiny-backprop --train --hidden 4 --epochs -3 "$T/d.tiny"
	run -2 tiny-backprop --train --hidden 4 --momentum 1 "$T/d.tiny"
	run -2 tiny-backprop --train --hidden 4 --valid 0 "$T/d.tiny"
	run -2 tiny-backprop --train --hidden 4 "$T/d.tiny" "$T/d.tiny"
	run -2 tiny-backprop --lr 0.1 "$T/d.tiny" "$T/d.tiny"
	assert_output --partial "apply to --train"
	run -2 tiny-backprop - -
	run -2 tiny-backprop --train --init-rbm - <"$T/d.tiny"
	assert_output --partial "only one of the data and the models can come from stdin"
}

@test "data with another D than RBM1, or RBM2 whose V is not RBM1's H, is one error naming both, nothing written" {
	rbm "$T/r1.tiny" 2 4 gaussian 1
	run -1 --separate-stderr tiny-backprop --train --init-rbm "$T/r1.tiny" "$T/d.tiny"
	[ "$stderr" = "tiny-backprop: $T/r1.tiny is an RBM of V = 2 visible units; $T/d.tiny's x has 3" ]
	assert_output ""
	rbm "$T/r1.tiny" 3 4 gaussian 1
	rbm "$T/r2.tiny" 5 2 binary 2
	run -1 --separate-stderr tiny-backprop --train --init-rbm "$T/r1.tiny,$T/r2.tiny" "$T/d.tiny"
	[ "$stderr" = "tiny-backprop: $T/r2.tiny is an RBM of V = 5 visible units; hidden layer 1 ($T/r1.tiny) has 4" ]
	assert_output ""
	run -1 --separate-stderr tiny-backprop --train --hidden 5 --init-rbm "$T/r1.tiny" "$T/d.tiny"
	[ "$stderr" = "tiny-backprop: $T/r1.tiny has H = 4 hidden units; --hidden gives 5 for layer 1" ]
	assert_output ""
}

@test "a logreg model whose D is not the last hidden layer's H, or whose K is not the data's, is an error, nothing written" {
	rbm "$T/r1.tiny" 3 4 gaussian 1
	logreg "$T/lr.tiny" 5 3 1
	run -1 --separate-stderr tiny-backprop --train --init-rbm "$T/r1.tiny" --init-logreg "$T/lr.tiny" "$T/d.tiny"
	[ "$stderr" = "tiny-backprop: $T/lr.tiny is a logistic regression on D = 5 inputs; the last hidden layer has H = 4" ]
	assert_output ""
	logreg "$T/lr.tiny" 6 2 1
	run -1 --separate-stderr tiny-backprop --train --hidden 4,6 --init-logreg "$T/lr.tiny" "$T/d.tiny"
	[ "$stderr" = "tiny-backprop: $T/lr.tiny is a classifier of K = 2 classes; $T/d.tiny's classes attribute names 3" ]
	assert_output ""
	# an L2-SVM's scores are not a softmax layer's
	tiny-logreg --train -q --loss svm "$T/d.tiny" >"$T/svm.tiny"
	run -1 --separate-stderr tiny-backprop --train --hidden 4 --init-logreg "$T/svm.tiny" "$T/d.tiny"
	[ "$stderr" = "tiny-backprop: $T/svm.tiny is an L2-SVM (logreg_loss svm); the net's output layer is a softmax: give a model of tiny-logreg --loss softmax" ]
	assert_output ""
}

@test "a label outside the classes, a NaN in x, or no label is an error naming the record, nothing written" {
	mkstream --attr 'classes=a b' 'label u8 []' 'x f32 [2]' <<<'0 1 2  2 3 4' >"$T/range.tiny"
	run -1 --separate-stderr tiny-backprop --train --hidden 3 "$T/range.tiny"
	[ "$stderr" = "tiny-backprop: $T/range.tiny: record 1: label 2 is outside 0..1 (2 classes)" ]
	assert_output ""
	mkstream 'label u8 []' 'x f32 [2]' <<<'0 1 2  1 3 4  1 nan 0' >"$T/nan.tiny"
	run -1 --separate-stderr tiny-backprop --train --hidden 3 "$T/nan.tiny"
	[[ "$stderr" == *"nan.tiny"*"record 2"* ]]
	assert_output ""
	mkstream 'x f32 [2]' <<<'1 2  3 4' >"$T/nolabel.tiny"
	run -1 --separate-stderr tiny-backprop --train --hidden 3 "$T/nolabel.tiny"
	[ "$stderr" = "tiny-backprop: $T/nolabel.tiny: no field 'label' (--train needs labelled data)" ]
}

@test "predicting data with another D than the net, or with a model that is not a net, is an error, nothing written" {
	tiny-backprop --train -q --hidden 4 --epochs 1 "$T/d.tiny" >"$T/m.tiny"
	mkstream 'x f32 [2]' <<<'1 2' >"$T/x2.tiny"
	run -1 --separate-stderr tiny-backprop "$T/m.tiny" "$T/x2.tiny"
	[ "$stderr" = "tiny-backprop: $T/m.tiny is a model of D = 3 inputs; $T/x2.tiny's x has 2 values" ]
	assert_output ""
	run -1 --separate-stderr tiny-backprop "$T/d.tiny" "$T/d.tiny"
	[[ "$stderr" == "tiny-backprop: $T/d.tiny: not a tiny-backprop model (expected one record with W1 f32 [D,H1], "* ]]
	assert_output ""
}

@test "the model is W1, b1, W2, b2, Wo, bo with the classes, the settings and the history; predictions as tiny-logreg's" {
	run -0 --separate-stderr tiny-backprop --train --hidden 4,2 --epochs 3 "$T/d.tiny"
	[ "${#stderr_lines[@]}" -eq 5 ]   # the opening line, one per epoch, the cap
	[[ "${stderr_lines[3]}" == "tiny-backprop: epoch 3/3: loss "*", training accuracy "*", rate 0.01, "* ]]
	[ "${stderr_lines[4]}" = "tiny-backprop: reached the --epochs cap 3 before the stopping test held" ]
	tiny-backprop --train -q --hidden 4,2 --epochs 3 "$T/d.tiny" >"$T/m.tiny"
	run tiny-info "$T/m.tiny"
	assert_line "field W1 f32 [3,4]"
	assert_line "field b1 f32 [4]"
	assert_line "field W2 f32 [4,2]"
	assert_line "field b2 f32 [2]"
	assert_line "field Wo f32 [2,3]"
	assert_line "field bo f32 [3]"
	assert_line "attr classes a b c"
	assert_line --partial "attr backprop_settings solver sgd lr 0.01 momentum 0.9 batch 100 epochs 3 schedule plateau"
	assert_line "attr history tiny-backprop --train -q --hidden 4,2 --epochs 3 $T/d.tiny"
	run -0 --separate-stderr tiny-backprop "$T/m.tiny" "$T/d.tiny"
	[[ "$stderr" == "tiny-backprop: accuracy "*" of 6)" ]]
	run tiny-info <(tiny-backprop -q "$T/m.tiny" "$T/d.tiny")
	assert_line "field label i32 []"
	assert_line "field pred i32 []"
	assert_line "field prob f32 [3]"
}

# one_step [OPTIONS]: two RBM layers and a logreg output trained for one
# epoch of one minibatch (rate 0.1, L2 0.05, or OPTIONS' --l2-input for the
# first layer) into $T/m.tiny; $ONE_STEP is the Python that loads it with
# the initial parameters p0 and NumPy's forward, loss and gradient g of
# that net
one_step() {
	local a prev= l1=0.05
	for a in "$@"; do
		[ "$prev" = --l2-input ] && l1=$a
		prev=$a
	done
	rbm "$T/r1.tiny" 3 4 gaussian 1
	rbm "$T/r2.tiny" 4 3 binary 2
	logreg "$T/lr.tiny" 3 3 3
	tiny-backprop --train -q --init-rbm "$T/r1.tiny,$T/r2.tiny" --init-logreg "$T/lr.tiny" \
		--epochs 1 --batch 6 --lr 0.1 --l2 0.05 "$@" "$T/d.tiny" >"$T/m.tiny"
	ONE_STEP="$LOAD
d, m = load('$T/d.tiny'), load('$T/m.tiny')[0]
r1, r2, lr = load('$T/r1.tiny')[0], load('$T/r2.tiny')[0], load('$T/lr.tiny')[0]
X, y, R, L = d['x'].astype(np.float64), d['label'], 0.1, 0.05
Ls = [$l1, L, L]   # each weight layer's penalty
Y = np.eye(3)[y]
f64 = lambda a: a.astype(np.float64)
# the initial net: sigma and the logreg standardisation folded in
p0 = [f64(r1['W']) / f64(r1['sigma'])[:, None], f64(r1['hbias']), f64(r2['W']), f64(r2['hbias']),
      f64(lr['W']) / f64(lr['sd'])[:, None], f64(lr['b']) - (f64(lr['mu']) / f64(lr['sd'])) @ f64(lr['W'])]
def forward(p):
    A = [X]
    for l in range(2):
        A.append(1 / (1 + np.exp(-(A[-1] @ p[2 * l] + p[2 * l + 1]))))
    S = A[-1] @ p[4] + p[5]
    S = S - S.max(1, keepdims=True)
    return A, S - np.log(np.exp(S).sum(1, keepdims=True))
def loss(p):
    return -np.mean(np.sum(Y * forward(p)[1], 1)) + sum(Ls[i // 2] / 2 * np.sum(p[i] ** 2) for i in (0, 2, 4))
def grad(p):
    A, logP = forward(p)
    delta, g = (np.exp(logP) - Y) / len(y), [None] * 6
    for l in (2, 1, 0):
        g[2 * l], g[2 * l + 1] = A[l].T @ delta + Ls[l] * p[2 * l], delta.sum(0)
        delta = (delta @ p[2 * l].T) * A[l] * (1 - A[l])
    return g
g = grad(p0)
"
}

@test "one step of two hidden layers is -lr times the gradient, which agrees with finite differences of the loss" {
	npy_ok
	one_step
	run $PY -c "$ONE_STEP
for name, p, gi in zip(['W1', 'b1', 'W2', 'b2', 'Wo', 'bo'], p0, g):
    e = np.abs(m[name] - (p - R * gi)).max()
    assert e < 1e-5, (name, e, m[name] - p, -R * gi)
# the formula against central differences of the loss, parameter by parameter
h = 1e-6
for i, p in enumerate(p0):
    for j in np.ndindex(p.shape):
        q = [a.copy() for a in p0]; q[i][j] += h
        s = [a.copy() for a in p0]; s[i][j] -= h
        fd = (loss(q) - loss(s)) / (2 * h)
        assert abs(fd - g[i][j]) < 1e-6, (i, j, fd, g[i][j])
print('ok')
"
	assert_success
	assert_output "ok"
}

@test "--l2-input gives the first layer its own penalty: one step is -lr times the gradient of that objective" {
	npy_ok
	one_step --l2-input 0.4
	run $PY -c "$ONE_STEP
assert Ls == [0.4, 0.05, 0.05]
for name, p, gi in zip(['W1', 'b1', 'W2', 'b2', 'Wo', 'bo'], p0, g):
    e = np.abs(m[name] - (p - R * gi)).max()
    assert e < 1e-5, (name, e, m[name] - p, -R * gi)
# and the step L = 0.05 would give is far from it
assert np.abs(R * (0.4 - 0.05) * p0[0]).max() > 1e-3
print('ok')
"
	assert_success
	assert_output "ok"
	run tiny-info "$T/m.tiny"
	assert_line --partial " l2 0.05 l2-input 0.4 lr-input 0.1 "
	run -2 tiny-backprop --train --hidden 2 --l2-input -1 "$T/d.tiny"
	run -2 tiny-backprop "$T/m.tiny" --l2-input 0.1 "$T/d.tiny"
}

@test "--centre yes: one step is -lr times the gradient in the centred parameters (inputs A - 0.5 above the first layer), saved as the same function of A" {
	npy_ok
	one_step --centre yes
	run $PY -c "$ONE_STEP
# above the first layer the parameters are W and b_c = b + 0.5 1^T W: the
# gradient in W is (A - 0.5)^T delta + L W = g_W - 0.5 1 g_b^T; the net is
# saved with b = b_c - 0.5 1^T W
want = [p - R * gi for p, gi in zip(p0, g)]
for l in (1, 2):
    W, b, gW, gb = p0[2 * l], p0[2 * l + 1], g[2 * l], g[2 * l + 1]
    gWc = gW - 0.5 * np.outer(np.ones(W.shape[0]), gb)
    Wn = W - R * gWc
    want[2 * l], want[2 * l + 1] = Wn, (b + 0.5 * W.sum(0) - R * gb) - 0.5 * Wn.sum(0)
for name, w, p in zip(['W1', 'b1', 'W2', 'b2', 'Wo', 'bo'], want, p0):
    e = np.abs(m[name] - w).max()
    assert e < 1e-5, (name, e, m[name] - p, w - p)
# and not the uncentred step: the test tells the two apart
assert max(np.abs(m[n] - (p - R * gi)).max() for n, p, gi in zip(['W2', 'Wo'], p0[2::2], g[2::2])) > 1e-3
print('ok')
"
	assert_success
	assert_output "ok"
}

# same_probs A B TOL [PRED]: the predictions A and B give every class
# probabilities within TOL of each other (and, with PRED, the same pred)
same_probs() {
	$PY -c "$LOAD
a, b = load('$1'), load('$2')
e = np.abs(a['prob'] - b['prob']).max()
assert e < $3 and ('$4' != 'pred' or (a['pred'] == b['pred']).all()), (e, a['prob'], b['prob'])
print('ok')
"
}

# untrained_agrees RBM DATA: a net from RBM and a logreg model on its
# features, untrained, predicts DATA as tiny-features | tiny-logreg does
untrained_agrees() {
	tiny-features "$1" "$2" | tiny-logreg --train -q --l2 0.1 >"$T/lr.tiny"
	tiny-info "$T/lr.tiny" | grep -q "field sd f32"
	tiny-backprop --train -q --init-rbm "$1" --init-logreg "$T/lr.tiny" --epochs 0 "$2" >"$T/m.tiny"
	tiny-backprop -q "$T/m.tiny" "$2" >"$T/p1.tiny"
	tiny-features "$1" "$2" | tiny-logreg -q "$T/lr.tiny" >"$T/p2.tiny"
	same_probs "$T/p1.tiny" "$T/p2.tiny" 1e-5 pred
}

@test "untrained, a net from an RBM and a logreg model predicts what tiny-features | tiny-logreg predicts" {
	npy_ok
	rbm "$T/r1.tiny" 3 5 gaussian 4
	run untrained_agrees "$T/r1.tiny" "$T/d.tiny"
	assert_output "ok"
}

@test "a binary RBM's first layer on u8 data sees x/255, as tiny-features does: untrained, the same predictions" {
	npy_ok
	rbm "$T/rb.tiny" 3 5 binary 11
	mkstream --attr 'classes=a b c' 'label u8 []' 'x u8 [3]' <<<'0 10 200 7  1 30 100 70  2 20 50 255  1 40 0 7  0 0 255 128  2 99 1 3' \
		>"$T/u.tiny"
	run untrained_agrees "$T/rb.tiny" "$T/u.tiny"
	assert_output "ok"
}

@test "XOR-like data, beyond logistic regression, is learned by one hidden layer" {
	xor "$T/x.tiny" 200
	tiny-logreg --train -q --epochs 20 --batch 10 "$T/x.tiny" >"$T/lr.tiny"
	run -0 --separate-stderr tiny-logreg "$T/lr.tiny" "$T/x.tiny"
	[[ "$stderr" =~ accuracy\ 0\.([0-9]+) ]] && [ "${BASH_REMATCH[1]:0:2}" -lt 75 ]
	tiny-backprop --train -q --hidden 8 --epochs 40 --batch 10 --lr 0.5 --schedule constant "$T/x.tiny" >"$T/m.tiny"
	run -0 --separate-stderr tiny-backprop "$T/m.tiny" "$T/x.tiny"
	[[ "$stderr" =~ accuracy\ (1\.0000|0\.9[5-9]) ]]
}

@test "two random hidden layers run and beat logistic regression on XOR-like data" {
	xor "$T/x.tiny" 200
	tiny-backprop --train -q --hidden 16,16 --epochs 50 --batch 10 --lr 0.2 --schedule constant --l2 1e-4 "$T/x.tiny" >"$T/m.tiny"
	run tiny-info "$T/m.tiny"
	assert_line "field W2 f32 [16,16]"
	# measured: 1.0000 with weights at PyTorch's scale and L2 1e-4 (0.77 with 0.01 N(0,1); 0.74 with L2 1e-3:
	# both leave the deep logistic net near-linear for longer)
	run -0 --separate-stderr tiny-backprop "$T/m.tiny" "$T/x.tiny"
	[[ "$stderr" =~ accuracy\ (1\.0000|0\.9[0-9]) ]]
}

@test "--valid measures the initial net as epoch 0, keeps the epoch of the lowest validation loss, cuts the rate and stops" {
	npy_ok
	xor "$T/x.tiny" 200
	tiny-backprop --train --hidden 8 --epochs 200 --batch 10 --lr 2 --valid 0.25 --log "$T/log.tiny" "$T/x.tiny" \
		>"$T/m.tiny" 2>"$T/err"
	run cat "$T/err"
	assert_line --index 0 --partial "200 records (150 training, 50 validation), D = 2, K = 2; layers 2-8-2, l2 0.001; SGD, lr 2 (plateau schedule)"
	assert_line --index 1 --partial "tiny-backprop: epoch 0 (the initial parameters): validation loss 0.69"
	assert_line --partial ", rate 0.2, "
	assert_line --regexp "(no lower validation loss in 10 epochs|the validation loss stalled at the rate's last cut \(0.02\)): stopping, keeping epoch "
	refute_line --partial "epoch 200/200"
	run tiny-info "$T/m.tiny"
	assert_line --regexp "attr backprop_valid_accuracy (1.0000|0.9[5-9])"
	run kept_best "$T/log.tiny" "$T/m.tiny" backprop
	assert_output ok
	# the log's last record is the last epoch run, and its rate the one printed
	[ "$(tiny-dump --fields epoch "$T/log.tiny" | tail -1)" = "epoch=$(tiny-info "$T/m.tiny" | grep -o 'backprop_epochs [0-9]*' | cut -d' ' -f2)" ]
}

@test "--init-logreg with --valid: a logistic regression refit on every record draws a warning, one fit on the training part does not" {
	npy_ok
	xor "$T/x.tiny" 200
	rbm "$T/r.tiny" 2 4 gaussian 1
	tiny-features -q "$T/r.tiny" "$T/x.tiny" >"$T/f.tiny"
	tiny-logreg --train -q --valid 0.25 --refit "$T/f.tiny" >"$T/refit.tiny"
	tiny-logreg --train -q --valid 0.25 "$T/f.tiny" >"$T/fit.tiny"
	run -0 --separate-stderr tiny-backprop --train --init-rbm "$T/r.tiny" --init-logreg "$T/refit.tiny" --valid 0.25 \
		--epochs 1 "$T/x.tiny"
	[ "${stderr_lines[0]}" = "tiny-backprop: warning: $T/refit.tiny was refit on every record it was given (tiny-logreg --refit); if those hold this run's validation part, the initial net's validation loss is not held out and no fine-tuned epoch may beat it: give the logistic regression of the fit without --refit" ]
	run -0 --separate-stderr tiny-backprop --train --init-rbm "$T/r.tiny" --init-logreg "$T/fit.tiny" --valid 0.25 \
		--epochs 1 "$T/x.tiny"
	[[ "$stderr" != *warning* ]]
	run -0 --separate-stderr tiny-backprop --train --init-rbm "$T/r.tiny" --init-logreg "$T/refit.tiny" --epochs 1 "$T/x.tiny"
	[[ "$stderr" != *warning* ]]
}

@test "bad schedule options, a --valid leaving a class without a record, and a --log that cannot be written: errors before training" {
	run -2 tiny-backprop --train --hidden 2 --schedule linear "$T/d.tiny"
	assert_output --partial "--schedule linear: expected one of plateau, step, cosine, constant"
	run -2 tiny-backprop --train --hidden 2 --lr-factor 1 "$T/d.tiny"
	assert_output --partial "--lr-factor 1: expected a factor above 0 and below 1"
	run -2 tiny-backprop --train --hidden 2 --lr-patience 0 "$T/d.tiny"
	run -2 tiny-backprop --train --hidden 2 --solver lbfgs "$T/d.tiny"
	assert_output --partial "tiny-backprop trains by SGD only"
	# 6 records of 3 classes: --valid 0.4 holds out 2
	run -1 --separate-stderr tiny-backprop --train --hidden 2 --valid 0.4 "$T/d.tiny"
	[[ "$stderr" == *"--valid 0.4 of $T/d.tiny's 6 records leaves 2 for validation and 4 for training; each needs at least one per class (3)" ]]
	assert_output ""
	run -1 --separate-stderr tiny-backprop --train --hidden 2 --log "$T/no/such/dir/log" "$T/d.tiny"
	[[ "$stderr" == *"$T/no/such/dir/log"* ]]
	[[ "$stderr" != *"epoch 1"* ]]
	assert_output ""
}

@test "the step and cosine schedules set the rate per epoch as documented" {
	npy_ok
	xor "$T/x.tiny" 40
	tiny-backprop --train -q --hidden 4 --epochs 7 --lr 0.1 --schedule step --lr-step 3 --lr-factor 0.5 \
		--log "$T/step.tiny" "$T/x.tiny" >/dev/null
	tiny-backprop --train -q --hidden 4 --epochs 4 --lr 0.1 --schedule cosine --log "$T/cos.tiny" "$T/x.tiny" >/dev/null
	run $PY -c "$LOAD
import math
s, c = load('$T/step.tiny'), load('$T/cos.tiny')
assert np.allclose(s['rate'], [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rtol=1e-6), s['rate']
assert np.allclose(c['rate'], [0.1 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)], rtol=1e-6), c['rate']
print('ok')
"
	assert_output ok
}

@test "--lr-input gives the first layer its own rate: 0 leaves it as the RBM made it" {
	rbm "$T/r1.tiny" 3 4 gaussian 7
	logreg "$T/lr.tiny" 4 3 8
	tiny-backprop --train -q --init-rbm "$T/r1.tiny" --init-logreg "$T/lr.tiny" --epochs 0 "$T/d.tiny" >"$T/m0.tiny"
	tiny-backprop --train -q --init-rbm "$T/r1.tiny" --init-logreg "$T/lr.tiny" --epochs 2 --batch 3 --lr 0.1 \
		--lr-input 0 "$T/d.tiny" >"$T/m1.tiny"
	[ "$(tiny-dump --fields W1 "$T/m0.tiny")" = "$(tiny-dump --fields W1 "$T/m1.tiny")" ]
	[ "$(tiny-dump --fields Wo "$T/m0.tiny")" != "$(tiny-dump --fields Wo "$T/m1.tiny")" ]
	run -2 tiny-backprop --train --lr-input -1 "$T/d.tiny"
}

@test "--standardize trains on standardised inputs and saves a net for raw ones: untrained, it predicts the same" {
	rbm "$T/r1.tiny" 3 4 gaussian 9
	logreg "$T/lr.tiny" 4 3 10
	tiny-backprop --train -q --init-rbm "$T/r1.tiny" --init-logreg "$T/lr.tiny" --epochs 0 "$T/d.tiny" >"$T/a.tiny"
	tiny-backprop --train -q --init-rbm "$T/r1.tiny" --init-logreg "$T/lr.tiny" --epochs 0 --standardize "$T/d.tiny" >"$T/b.tiny"
	tiny-backprop -q "$T/a.tiny" "$T/d.tiny" >"$T/pa.tiny"
	tiny-backprop -q "$T/b.tiny" "$T/d.tiny" >"$T/pb.tiny"
	run same_probs "$T/pa.tiny" "$T/pb.tiny" 1e-5
	assert_output "ok"
	# and it learns XOR-like data with inputs far from 0
	$PY -c "
import numpy as np
r = np.random.default_rng(2)
c = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]])
for i in range(400):
    x = 100 + 50 * (c[i % 4] + 0.3 * r.standard_normal(2))
    print(int(i % 4 >= 2), x[0], x[1])
" | mkstream --attr 'classes=same differ' 'label u8 []' 'x f32 [2]' >"$T/far.tiny"
	tiny-backprop --train -q --standardize --hidden 8 --epochs 200 --batch 10 --lr 0.5 "$T/far.tiny" >"$T/n.tiny"
	run --separate-stderr tiny-backprop "$T/n.tiny" "$T/far.tiny"
	[[ "$stderr" =~ accuracy\ (0\.9[5-9]|1\.0) ]]
}

@test "on a small real data set (scikit-learn's digits), the defaults agree with scikit-learn's MLPClassifier of the same shape within 2 points" {
	digits "$T"
	tiny-backprop --train -q --hidden 64 --standardize --valid 0.1 "$T/train.tiny" >"$T/m.tiny"
	tiny-backprop -q "$T/m.tiny" "$T/test.tiny" >"$T/p.tiny"
	# 64-64-10 logistic units, its defaults otherwise (adam), on the same standardised inputs
	run $PY -c "$(digits_load "$T")
from sklearn.neural_network import MLPClassifier
net = MLPClassifier(hidden_layer_sizes=(64,), activation='logistic', max_iter=1000, random_state=1)
agree((net.fit(X, tr['label']).predict(T) == te['label']).mean(), 'sklearn', 0.02, 1)
"
	echo "# $output" >&3
	assert_success
}

@test "--standardize draws random first-layer weights for the standardised inputs: the same net as on inputs standardised by hand" {
	npy_ok
	$PY -c "
import numpy as np
r = np.random.default_rng(4)
x = 1000 + 100 * r.standard_normal((50, 5))
y = r.integers(0, 3, 50)
z = (x - x.mean(0)) / x.std(0)
with open('$T/raw.txt', 'w') as f:
    for k in range(50): f.write('%d %s\n' % (y[k], ' '.join('%.9g' % v for v in x[k])))
with open('$T/z.txt', 'w') as f:
    for k in range(50): f.write('%d %s\n' % (y[k], ' '.join('%.9g' % v for v in z[k])))
"
	mkstream --attr 'classes=a b c' 'label u8 []' 'x f64 [5]' <"$T/raw.txt" >"$T/raw.tiny"
	mkstream --attr 'classes=a b c' 'label u8 []' 'x f64 [5]' <"$T/z.txt" >"$T/z.tiny"
	tiny-backprop --train -q --hidden 6 --standardize --epochs 3 --batch 10 --lr 0.5 "$T/raw.tiny" >"$T/a.tiny"
	tiny-backprop --train -q --hidden 6 --epochs 3 --batch 10 --lr 0.5 "$T/z.tiny" >"$T/b.tiny"
	tiny-backprop -q "$T/a.tiny" "$T/raw.tiny" >"$T/pa.tiny"
	tiny-backprop -q "$T/b.tiny" "$T/z.tiny" >"$T/pb.tiny"
	run same_probs "$T/pa.tiny" "$T/pb.tiny" 1e-4
	assert_output ok
}

@test "--refit trains again on every record for the kept epochs at the first fit's rates: the model of a run without --valid" {
	xor "$T/x.tiny" 400
	tiny-backprop --train --hidden 8 --batch 10 --lr 0.3 --valid 0.25 --refit --schedule step --lr-step 5 --epochs 15 \
		--seed 3 --log "$T/lg" "$T/x.tiny" >"$T/a.net" 2>"$T/err"
	grep -q "refitting on all 400 records" "$T/err"
	E=$(tiny-info "$T/a.net" | awk '$2 == "backprop_best_epoch" { print $3 }')
	[ "$E" -gt 1 ]
	run tiny-info "$T/a.net"
	assert_line "attr backprop_refit_epochs $E"
	[ "$(tail -1 "$T/err")" = "tiny-backprop: refit: ran the $E epochs the fit kept" ]
	[ "$(sed -n '/refitting on all/,$p' "$T/err" | grep -c -- '--epochs cap')" -eq 0 ]
	assert_line --partial " refit yes "
	assert_line --partial "attr backprop_valid_accuracy "
	# the same seed, the step schedule, E epochs on all records: the same weights, bit for bit
	tiny-backprop --train -q --hidden 8 --batch 10 --lr 0.3 --schedule step --lr-step 5 --epochs "$E" --seed 3 \
		"$T/x.tiny" >"$T/b.net"
	cmp <(tiny-dump "$T/a.net") <(tiny-dump "$T/b.net")
	[ -f "$T/lg.refit" ]
	# the plateau schedule: the refit's epochs have the rates the first fit's epochs had
	tiny-backprop --train -q --hidden 8 --batch 10 --lr 0.3 --valid 0.25 --refit --lr-patience 1 --patience 4 \
		--epochs 30 --seed 3 --log "$T/lg" "$T/x.tiny" >"$T/c.net"
	E=$(tiny-info "$T/c.net" | awk '$2 == "backprop_best_epoch" { print $3 }')
	first=$(tiny-dump --fields rate "$T/lg" | sed -n "2,$((E + 1))p")
	[ "$(tiny-dump --fields rate "$T/lg.refit")" = "$first" ]
	[ "$(sort -u <<<"$first" | wc -l)" -gt 1 ]   # a cut among them
	run -2 tiny-backprop --train --hidden 8 --refit "$T/x.tiny"
	assert_output --partial "--refit trains again on every record after a fit with --valid; add --valid"
}

@test "--refit keeps the fit's net when its kept epoch ran at the first rate and the fit cut the rate later" {
	xor "$T/x.tiny" 400
	A=(--train --hidden 8 --batch 10 --lr 0.3 --valid 0.25 --lr-patience 2 --patience 3 --epochs 30 --seed 1)
	tiny-backprop "${A[@]}" --refit --log "$T/lg" "$T/x.tiny" >"$T/a.net" 2>"$T/err"
	# kept epoch 7 (rate 0.3), cut after epoch 9, stopped at 10: replayed, the refit would end at 0.3
	[ "$(tiny-dump --fields epoch,rate "$T/lg" | sed -n '8p;10,11p' | tr '\n' ' ')" = \
		"epoch=7 rate=0.300000012 epoch=9 rate=0.300000012 epoch=10 rate=0.0299999993 " ]
	[ "$(tail -1 "$T/err")" = "tiny-backprop: no refit: the fit kept epoch 7, run at the first rate, which it cut after epoch 9; a refit would end at that rate, on a draw from its noise that no validation chose: keeping the fit's net" ]
	run tiny-info "$T/a.net"
	assert_line "attr backprop_refit_skipped the fit kept epoch 7, run at the first rate, which it cut after epoch 9"
	refute_line --partial "backprop_refit_epochs"
	[ ! -e "$T/lg.refit" ]
	# the net is the fit's, bit for bit
	tiny-backprop "${A[@]}" -q "$T/x.tiny" >"$T/b.net"
	cmp <(tiny-dump "$T/a.net") <(tiny-dump "$T/b.net")
	# with a checkpoint, stopped after every 4 epochs: the same
	until tiny-backprop "${A[@]}" -q --refit --checkpoint "$T/ck" --stop-after 4 "$T/x.tiny" >"$T/c.net"; do
		[ $? -eq 75 ]
	done
	cmp <(tiny-dump "$T/a.net") <(tiny-dump "$T/c.net")
	[ ! -e "$T/ck" ]
}

@test "--checkpoint: a run stopped every 2 epochs by --stop-after and resumed ends with the model and --log of a run never stopped" {
	xor "$T/x.tiny" 400
	A=(--train --hidden 8 --batch 10 --lr 0.3 --valid 0.25 --refit --lr-patience 1 --patience 4 --epochs 30 --seed 3)
	tiny-backprop "${A[@]}" -q --log "$T/lg0" "$T/x.tiny" >"$T/a.net"
	# the fit and the refit run 9 epochs together here: five slices
	n=0
	while :; do
		n=$((n + 1))
		rc=0
		tiny-backprop "${A[@]}" --log "$T/lg1" --checkpoint "$T/ck" --stop-after 2 "$T/x.tiny" >"$T/b.net" \
			2>"$T/e1" || rc=$?
		cat "$T/e1" >>"$T/err"
		[ "$rc" -eq 75 ] || break
		grep -q "stopped after 2 epochs (--stop-after), at epoch .*; run the same command again to resume from $T/ck" "$T/e1"
		[ ! -s "$T/b.net" ]
		[ "$(tiny-info "$T/ck" | awk '$2 == "kind" { print $3 }')" = training-checkpoint ]
		[ "$n" -lt 20 ]
	done
	[ "$rc" -eq 0 ]
	[ "$n" -gt 3 ]
	grep -q "resuming the fit from $T/ck after epoch 2" "$T/err"
	grep -q "resuming the refit from $T/ck after epoch " "$T/err"
	grep -q "the fit was done (" "$T/err"
	[ ! -e "$T/ck" ]   # removed once the model is written
	cmp <(tiny-dump "$T/a.net") <(tiny-dump "$T/b.net")
	# in slices of 3, the same again
	while ! tiny-backprop "${A[@]}" -q --log "$T/lg1" --checkpoint "$T/ck" --stop-after 3 "$T/x.tiny" >"$T/b.net"; do
		[ -f "$T/ck" ]
	done
	cmp <(tiny-dump "$T/a.net") <(tiny-dump "$T/b.net")
	[ "$(tiny-info "$T/a.net" | grep -c 'backprop_')" -gt 5 ]
	diff <(tiny-info "$T/a.net" | grep backprop_) <(tiny-info "$T/b.net" | grep backprop_)
	# the logs too, but for the seconds
	f=epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,rate
	cmp <(tiny-dump --fields $f "$T/lg0") <(tiny-dump --fields $f "$T/lg1")
	cmp <(tiny-dump --fields $f "$T/lg0.refit") <(tiny-dump --fields $f "$T/lg1.refit")
	# without --valid, under the step schedule: the same too
	B=(--train -q --hidden 8 --batch 10 --lr 0.3 --epochs 9 --seed 3 --schedule step --lr-step 4)
	tiny-backprop "${B[@]}" "$T/x.tiny" >"$T/c.net"
	until tiny-backprop "${B[@]}" --checkpoint "$T/ck2" --stop-after 4 "$T/x.tiny" >"$T/d.net"; do
		[ $? -eq 75 ]
	done
	cmp <(tiny-dump "$T/c.net") <(tiny-dump "$T/d.net")
}

@test "--checkpoint of another run (seed, settings, data, initial net) or not a checkpoint: one line naming it, nothing written" {
	xor "$T/x.tiny" 400
	xor "$T/y.tiny" 200
	A=(--train -q --hidden 8 --batch 10 --lr 0.3 --valid 0.25 --epochs 30 --seed 3 --checkpoint "$T/ck")
	run -75 tiny-backprop "${A[@]}" --stop-after 1 "$T/x.tiny"
	cp "$T/ck" "$T/ck.kept"
	run -1 --separate-stderr tiny-backprop "${A[@]}" --seed 4 "$T/x.tiny"
	[[ "$stderr" == *"$T/ck: a checkpoint of another run (its train_settings '"*" seed 3 "*"', this run's '"*" seed 4 "*"'); remove it to start afresh" ]]
	assert_output ""
	run -1 --separate-stderr tiny-backprop "${A[@]}" --l2 0.01 "$T/x.tiny"
	[[ "$stderr" == *"its train_settings"*" l2 0.001 "*" l2 0.01 "* ]]
	run -1 --separate-stderr tiny-backprop "${A[@]}" "$T/y.tiny"
	[[ "$stderr" == *"its train_data '400 records of 8 bytes, hash "*"', this run's '200 records of 8 bytes, hash "* ]]
	assert_output ""
	# another first layer of the same settings: a RBM of other weights
	rbm "$T/r1.rbm" 2 8 gaussian 1
	rbm "$T/r2.rbm" 2 8 gaussian 2
	run -75 tiny-backprop "${A[@]/$T\/ck/$T/ck3}" --init-rbm "$T/r1.rbm" --stop-after 1 "$T/x.tiny"
	cp "$T/r2.rbm" "$T/r1.rbm"
	run -1 --separate-stderr tiny-backprop "${A[@]/$T\/ck/$T/ck3}" --init-rbm "$T/r1.rbm" "$T/x.tiny"
	[[ "$stderr" == *"$T/ck3: a checkpoint of another run (its train_start 'parameters hash "* ]]
	cmp "$T/ck" "$T/ck.kept"   # left as it was
	run -1 --separate-stderr tiny-backprop "${A[@]/$T\/ck/$T/x.tiny}" "$T/x.tiny"
	[[ "$stderr" == *"$T/x.tiny: --checkpoint names a file that is not a training checkpoint; remove it or name another" ]]
	run -1 --separate-stderr tiny-backprop "${A[@]/$T\/ck/$T/no/such/dir/ck}" "$T/x.tiny"
	[[ "$stderr" == *"$T/no/such/dir/ck"* ]]
	[[ "$stderr" != *"epoch 1"* ]]
	assert_output ""
	run -2 tiny-backprop --train --hidden 8 --stop-after 2 "$T/x.tiny"
	assert_output --partial "--stop-after stops a run to be resumed from its --checkpoint; add --checkpoint"
	run -2 tiny-backprop --train --hidden 8 --checkpoint - "$T/x.tiny"
	run -2 tiny-backprop --train --hidden 8 --checkpoint "$T/ck" --stop-after 0 "$T/x.tiny"
}
