#!/usr/bin/env bash
# bench/classify.sh - the classifiers' speed and accuracy against the
# reference tools, on the same data in the same run:
#
#   tiny-logreg on the 50000 training images (3072 values, 10 classes)
#     against scikit-learn's LogisticRegression (lbfgs), the same objective
#     (mean log loss + L2/2 |W|^2, C = 1 / (N L2)) on the same standardised
#     inputs: scikit-learn's fit time (its defaults: 100 iterations), then
#     tiny-logreg's whole run (reading and standardising included) until its
#     objective is at most scikit-learn's final one (--target-loss), with
#     L-BFGS and with minibatch SGD.  Target: 3x.  Then both converged
#     (tiny-logreg's defaults; scikit-learn with max_iter 1000) and scored
#     on the 10000 test images.
#   tiny-backprop, one epoch of 3072-1000-10 (logistic hidden units, SGD
#     with momentum, minibatches of 100) on 45000 images, against the same
#     net in PyTorch (bench/mlp_torch.py) on the same cores.  Target: 1x.
#   With FULL=1, (f) trained to the end by both (bench/mlp_torch_f.py: the
#     step recipe a PyTorch user would write) and scored on the test images.
#   tiny-features with H = 8000 on the 50000 images: images per second and
#     GFLOP/s (2 V H an image) against the machine's sgemm rate.
#
# The real images where ../shared is, else 50000 synthetic ones.
# PARTS="logreg backprop features" picks parts (default: all three).
set -euo pipefail
. "$(dirname "$0")/common.sh"
tmp=build/bench/classify
mkdir -p "$tmp"
L2=${L2:-0.1}   # tiny-logreg's default (stages/logreg.c says why)
part() { [ -z "${PARTS:-}" ] || [[ " $PARTS " == *" $1 "* ]]; }

tarball=build/data/cifar-10-binary.tar.gz
if [ ! -f "$tarball" ] && [ -f ../shared/data/cifar10-jpeg.tar.gz ]; then
	$PY ../shared/tools/cifar10-binary "$tarball"
fi
if [ -f "$tarball" ]; then
	tiny-fetch -q cifar-10 --split train --source "$tarball" >"$tmp/train.tiny"
	tiny-fetch -q cifar-10 --split test --source "$tarball" >"$tmp/test.tiny"
	what="the CIFAR-10 training images"
else
	tiny-fetch -q synthetic --count 50000 >"$tmp/train.tiny"
	tiny-fetch -q synthetic --split test --count 10000 >"$tmp/test.tiny"
	what="50000 synthetic images"
fi

if ! part logreg; then
	:
elif echo "== logistic regression, $what, L2 $L2"; ! py -c 'import sklearn' 2>/dev/null; then
	echo "scikit-learn is absent (python3-sklearn): skipped"
else
	# validate first: tiny-logreg must agree with scikit-learn on a small set (tests/logreg.bats does more)
	tiny-take --first 1000 "$tmp/train.tiny" | tiny-logreg --train -q --epochs 2 | tiny-info -q >/dev/null
	py - "$tmp/train.tiny" "$tmp/test.tiny" "$L2" >"$tmp/sklearn.txt" <<'PY'
import sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
sys.path.insert(0, "formats")
from tiny_stream import load
path, test, l2 = sys.argv[1], sys.argv[2], float(sys.argv[3])
d, t = load(path), load(test)
X = d["x"].reshape(len(d), -1).astype(np.float32)
y = d["label"].astype(np.int64)
T = t["x"].reshape(len(t), -1).astype(np.float32)
mu, sd = X.mean(0), X.std(0)
X, T = (X - mu) / sd, (T - mu) / sd
N = len(y)
for max_iter in (100, 1000):
    start = time.perf_counter()
    lr = LogisticRegression(C=1 / (N * l2), solver="lbfgs", max_iter=max_iter).fit(X, y)
    secs = time.perf_counter() - start
    S = X.astype(np.float64) @ lr.coef_.T + lr.intercept_
    S -= S.max(1, keepdims=True)
    logp = S - np.log(np.exp(S).sum(1, keepdims=True))
    obj = -logp[np.arange(N), y].mean() + l2 / 2 * np.sum(lr.coef_ ** 2)
    print(f"{secs:.2f} {obj:.6f} {lr.n_iter_[0]} {(lr.predict(T) == t['label']).mean():.4f}")
PY
	{ read -r sk_s sk_obj sk_iter sk_acc; read -r skc_s skc_obj skc_iter skc_acc; } <"$tmp/sklearn.txt"
	echo "scikit-learn lbfgs (its defaults, max_iter 100): $sk_s s (fit only), $sk_iter iterations, objective $sk_obj, test accuracy $sk_acc"
	echo "scikit-learn lbfgs (max_iter 1000): $skc_s s (fit only), $skc_iter iterations, objective $skc_obj, test accuracy $skc_acc"
	# both solvers to scikit-learn's objective: the whole run, reading and standardising included
	for solver in lbfgs sgd; do
		start=$(date +%s.%N)
		tiny-logreg --train --solver $solver $([ $solver = sgd ] && echo --schedule constant) --l2 "$L2" --epochs $([ $solver = sgd ] && echo 60 || echo 300) \
			--target-loss "$sk_obj" "$tmp/train.tiny" \
			>"$tmp/logreg-$solver.tiny" 2>"$tmp/logreg-$solver.log"
		end=$(date +%s.%N)
		if ! grep -q "reached --target-loss" "$tmp/logreg-$solver.log"; then
			# minibatch SGD at a constant rate stalls at a noise floor above the optimum
			[ $solver = sgd ] || { echo "tiny-logreg --solver $solver did not reach $sk_obj"; exit 1; }
			awk -v a="$start" -v b="$end" -v t="$sk_obj" -v l="$(grep -E ': epoch [0-9]+/' "$tmp/logreg-sgd.log" | tail -1)" 'BEGIN {
				printf "tiny-logreg --solver sgd   did not reach %s in 60 epochs (%.2f s): %s\n", t, b - a, l }'
			continue
		fi
		awk -v a="$start" -v b="$end" -v s="$sk_s" -v solver=$solver -v l="$(grep -E ': (epoch|iteration) [0-9]+/' "$tmp/logreg-$solver.log" | tail -1)" 'BEGIN {
			printf "tiny-logreg --solver %-5s %.2f s (the whole run): %s\n", solver, b - a, l
			printf "tiny-logreg --solver %-5s is %.1fx scikit-learn (target >= 3x)\n", solver, s / (b - a) }'
	done
	# converged: tiny-logreg's defaults, on the test images
	start=$(date +%s.%N)
	tiny-logreg --train --l2 "$L2" "$tmp/train.tiny" >"$tmp/logreg.tiny" 2>"$tmp/logreg.log"
	end=$(date +%s.%N)
	acc=$(tiny-logreg "$tmp/logreg.tiny" "$tmp/test.tiny" 2>&1 >/dev/null | grep -o 'accuracy [0-9.]*' | cut -d' ' -f2)
	awk -v a="$start" -v b="$end" -v acc="$acc" -v ref="$skc_acc" -v l="$(tail -1 "$tmp/logreg.log")" 'BEGIN {
		printf "tiny-logreg (defaults, L2 as above) %.2f s: test accuracy %s, scikit-learn %s (%+.2f points; target within 0.3)\n%s\n",
			b - a, acc, ref, 100 * (acc - ref), l }'
fi

if part backprop; then
	echo "== one backprop epoch, 3072-1000-10 logistic units, 45000 of $what"
	tiny-take --first 45000 "$tmp/train.tiny" >"$tmp/train45.tiny"
	tiny-backprop --train -q --hidden 1000 --standardize --epochs 3 --schedule constant --log "$tmp/bp.log.tiny" \
		"$tmp/train45.tiny" >/dev/null
	# the mean of epochs 2 and 3 (the first pays for the set-up)
	bp_s=$(tiny-dump --fields seconds "$tmp/bp.log.tiny" | cut -d= -f2 | awk '{ s[NR] = $1 } END { printf "%.2f", (s[3] - s[1]) / 2 }')
	echo "tiny-backprop: $bp_s s an epoch"
	if py -c 'import torch' 2>/dev/null; then
		read -r pt_s pt_loss < <(py bench/mlp_torch.py "$tmp/train45.tiny" 3)
		awk -v a="$bp_s" -v b="$pt_s" 'BEGIN { printf "PyTorch (bench/mlp_torch.py): %.2f s an epoch; tiny-backprop is %.2fx PyTorch (target >= 1x)\n", b, b / a }'
	else
		echo "PyTorch is absent (python3-torch): skipped"
	fi
	if [ "${FULL:-}" = 1 ] && py -c 'import torch' 2>/dev/null; then
		# (f) to the end, both: 50000 training images, a tenth held out, the test images scored once
		echo "== (f) trained to the end, 3072-1000-10 on standardised pixels, $what (FULL=1)"
		start=$(date +%s.%N)
		tiny-backprop --train -q --hidden 1000 --standardize --valid 0.1 --seed 1 "$tmp/train.tiny" >"$tmp/f.net"
		end=$(date +%s.%N)
		acc=$(tiny-backprop "$tmp/f.net" "$tmp/test.tiny" 2>&1 >/dev/null | grep -o 'accuracy [0-9.]*' | cut -d' ' -f2)
		read -r pt_acc pt_epoch pt_s < <(py bench/mlp_torch_f.py "$tmp/train.tiny" "$tmp/test.tiny" 2>/dev/null)
		awk -v a="$start" -v b="$end" -v acc="$acc" -v pa="$pt_acc" -v pe="$pt_epoch" -v ps="$pt_s" 'BEGIN {
			printf "tiny-backprop (defaults): test accuracy %s in %.0f s; PyTorch (bench/mlp_torch_f.py, the step recipe): %s (epoch %d kept) in %d s\n",
				acc, b - a, pa, pe, ps }'
	fi
fi

if part features; then
	echo "== tiny-features, V 3072 H 8000, $what"
	tiny-rbm-train -q --hidden 8000 --epochs 0 --seed 1 "$tmp/train.tiny" >"$tmp/h8000.rbm"
	# validate first: features of a few images are probabilities of the right shape
	tiny-take --first 10 "$tmp/train.tiny" | tiny-features -q "$tmp/h8000.rbm" | tiny-info | grep -q 'x f32 \[8000\]'
	sgemm=$(build/bench/blasrate | awk '{ for (i = 1; i < NF; i++) if ($i == "sgemm") print $(i + 2) }')
	start=$(date +%s.%N)
	tiny-features -q "$tmp/h8000.rbm" "$tmp/train.tiny" >/dev/null
	end=$(date +%s.%N)
	n=$(tiny-info --json "$tmp/train.tiny" | grep -o '"count": [0-9]*' | grep -o '[0-9]*$')
	awk -v a="$start" -v b="$end" -v n="$n" -v g="$sgemm" 'BEGIN {
		t = b - a; r = 2 * 3072 * 8000 * n / t / 1e9
		printf "tiny-features: %d images in %.2f s, %.0f images/s, %.1f GFLOP/s (2 V H an image), %.0f%% of sgemm (%.1f GFLOP/s)\n",
			n, t, n / t, r, 100 * r / g, g }'
fi
