#!/usr/bin/env bash
# bench/rbm.sh - CD-1 at the report's scale: V = 3072, H = 8000, minibatch
# 100, f32.  Prints tiny-rbm-train's examples per second and implied
# GFLOP/s (10 V H flops an example: three products of 2 V H and the weight
# gradient's two), the bound the five products set at their measured BLAS
# rates (target: at least 85% of it), the Python tools measured in the
# same run on the same cores (a straightforward NumPy CD-1, scikit-learn's
# BernoulliRBM, an in-place PyTorch CD-1; each skipped where its package
# is absent), and tiny-rbm-train --f64 (the report found single precision
# nearly 3x faster than double), and the peak memory of a run.
set -euo pipefail
. "$(dirname "$0")/common.sh"
V=3072 H=${H:-8000} B=100
tmp=build/bench/rbm
mkdir -p "$tmp"
echo "== CD-1, V $V H $H minibatch $B"
build/bench/rbmbound $V $H $B | tee "$tmp/bound.txt"
bound=$(awk '/^bound:/ { print $2 }' "$tmp/bound.txt")
tiny-fetch -q synthetic --count 2000 >"$tmp/data.tiny"
# validate first: a short run must make a finite model of the right shape
tiny-rbm-train -q --hidden 16 --epochs 1 "$tmp/data.tiny" | tiny-info -q >/dev/null
tiny-rbm-train -q --hidden $H --epochs 2 --batch $B --log "$tmp/log.tiny" "$tmp/data.tiny" >/dev/null
rate=$(tiny-dump --fields rate "$tmp/log.tiny" | tail -1 | cut -d= -f2)
# have MODULE NAME: the module imports, or say why NAME's line is missing
have() { $PY -c "import $1" 2>/dev/null || { echo "$2: skipped, python3 module $1 is absent" >&2; false; }; }
np=$(py bench/rbm_numpy.py $V $H $B 10)
sk=0 pt=0
have sklearn "scikit-learn BernoulliRBM" && sk=$(py bench/rbm_sklearn.py $V $H $B 10)
have torch "PyTorch CD-1" && pt=$(py bench/rbm_torch.py $V $H $B 10)
tiny-rbm-train -q --f64 --hidden $H --epochs 2 --batch $B --log "$tmp/log64.tiny" "$tmp/data.tiny" >/dev/null
rate64=$(tiny-dump --fields rate "$tmp/log64.tiny" | tail -1 | cut -d= -f2)
# memory: peak resident size against the model with its momenta, plus the
# data as u8 (20000 records; a float copy would be 4 times that)
tiny-fetch -q synthetic --count 20000 >"$tmp/data20k.tiny"
/usr/bin/time -f %M -o "$tmp/rss.txt" tiny-rbm-train -q --hidden $H --epochs 1 --max-batches 20 --batch $B \
	"$tmp/data20k.tiny" >/dev/null
rss=$(tail -1 "$tmp/rss.txt") datab=$(stat -c %s "$tmp/data20k.tiny")
awk -v k="$rss" -v d="$datab" -v V=$V -v H=$H -v B=$B 'BEGIN {
	m = 2 * V * H * 4; mb = 1048576
	printf "memory:         peak %.0f MiB = model and momenta %.0f MiB + data (u8) %.0f MiB + %.0f MiB else (a float copy of the data: %.0f MiB)\n", k * 1024 / mb, m / mb, d / mb, (k * 1024 - m - d) / mb, 4 * d / mb
}'
awk -v r="$rate" -v b="$bound" -v n="$np" -v sk="$sk" -v pt="$pt" -v d="$rate64" -v V=$V -v H=$H 'BEGIN {
	printf "tiny-rbm-train: %.0f examples/s, %.1f GFLOP/s; %.0f%% of the bound (target >= 85%%)\n", r, r * 10 * V * H / 1e9, 100 * r / b
	printf "NumPy CD-1:     %.0f examples/s; tiny-rbm-train is %.2fx NumPy\n", n, r / n
	if (sk > 0) printf "scikit-learn:   %.0f examples/s (BernoulliRBM.partial_fit); tiny-rbm-train is %.2fx\n", sk, r / sk
	if (pt > 0) printf "PyTorch CD-1:   %.0f examples/s (in place); tiny-rbm-train is %.2fx\n", pt, r / pt
	printf "--f64:          %.0f examples/s, %.1f GFLOP/s; f32 is %.2fx f64\n", d, d * 10 * V * H / 1e9, r / d
}'
