#!/usr/bin/env bash
# bench/classify.sh - the classifiers' speed against the reference tools:
#
#   tiny-logreg on the 50000 training images (3072 values, 10 classes)
#     against scikit-learn's LogisticRegression (lbfgs, its defaults), the
#     same objective (mean log loss + L2/2 |W|^2, C = 1 / (N L2)) on the
#     same standardised inputs: scikit-learn's fit time, then tiny-logreg's
#     whole run (reading and standardising included) until its objective
#     is at most scikit-learn's final one (--target-loss), with L-BFGS and
#     with minibatch SGD.  Target: 5x.
#   tiny-features with H = 8000 on the 50000 images: images per second and
#     GFLOP/s (2 V H an image) against the machine's sgemm rate.
#
# The real images where ../shared is, else 50000 synthetic ones.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tmp=build/bench/classify
mkdir -p "$tmp"
L2=${L2:-0.0001}

tarball=build/data/cifar-10-binary.tar.gz
if [ ! -f "$tarball" ] && [ -f ../shared/data/cifar10-jpeg.tar.gz ]; then
	$PY ../shared/tools/cifar10-binary "$tarball"
fi
if [ -f "$tarball" ]; then
	tiny-fetch -q cifar-10 --split train --source "$tarball" >"$tmp/train.tiny"
	what="the CIFAR-10 training images"
else
	tiny-fetch -q synthetic --count 50000 >"$tmp/train.tiny"
	what="50000 synthetic images"
fi

echo "== logistic regression, $what, L2 $L2"
if ! py -c 'import sklearn' 2>/dev/null; then
	echo "scikit-learn is absent (python3-sklearn): skipped"
else
	# validate first: tiny-logreg must agree with scikit-learn on a small set (tests/logreg.bats does more)
	tiny-take --first 1000 "$tmp/train.tiny" | tiny-logreg --train -q --epochs 2 | tiny-info -q >/dev/null
	py - "$tmp/train.tiny" "$L2" >"$tmp/sklearn.txt" <<'PY'
import sys, time
import numpy as np
from sklearn.linear_model import LogisticRegression
sys.path.insert(0, "formats")
from tiny_stream import load
path, l2 = sys.argv[1], float(sys.argv[2])
d = load(path)
X = d["x"].reshape(len(d), -1).astype(np.float32)
y = d["label"].astype(np.int64)
mu, sd = X.mean(0), X.std(0)
X = (X - mu) / sd
N = len(y)
start = time.perf_counter()
lr = LogisticRegression(C=1 / (N * l2), solver="lbfgs").fit(X, y)
secs = time.perf_counter() - start
S = X.astype(np.float64) @ lr.coef_.T + lr.intercept_
S -= S.max(1, keepdims=True)
logp = S - np.log(np.exp(S).sum(1, keepdims=True))
obj = -logp[np.arange(N), y].mean() + l2 / 2 * np.sum(lr.coef_ ** 2)
print(f"{secs:.2f} {obj:.6f} {lr.n_iter_[0]} {(lr.predict(X) == y).mean():.4f}")
PY
	read -r sk_s sk_obj sk_iter sk_acc <"$tmp/sklearn.txt"
	echo "scikit-learn lbfgs: $sk_s s (fit only), $sk_iter iterations, objective $sk_obj, training accuracy $sk_acc"
	# both solvers to scikit-learn's objective: the whole run, reading and standardising included
	for solver in lbfgs sgd; do
		start=$(date +%s.%N)
		tiny-logreg --train --solver $solver --l2 "$L2" --epochs 300 --target-loss "$sk_obj" "$tmp/train.tiny" \
			>"$tmp/logreg-$solver.tiny" 2>"$tmp/logreg-$solver.log"
		end=$(date +%s.%N)
		grep -q "reached --target-loss" "$tmp/logreg-$solver.log" ||
			{ echo "tiny-logreg --solver $solver did not reach $sk_obj in 300 epochs"; exit 1; }
		awk -v a="$start" -v b="$end" -v s="$sk_s" -v solver=$solver -v l="$(grep -E ': (epoch|iteration) ' "$tmp/logreg-$solver.log" | tail -1)" 'BEGIN {
			printf "tiny-logreg --solver %-5s %.2f s (the whole run): %s\n", solver, b - a, l
			printf "tiny-logreg --solver %-5s is %.1fx scikit-learn (target >= 5x)\n", solver, s / (b - a) }'
	done
fi

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
