#!/usr/bin/env bash
# bench/conv.sh - the convolutional-feature stages against the machine's
# sgemm rate and the Python tools, on the same data in the same run:
#
#   tiny-kmeans: one Lloyd iteration on 400000 whitened 6x6 patches x 1600
#     centroids (2 N K D flops, the distance block), as GFLOP/s and % of
#     sgemm (target 60%), beside scikit-learn's KMeans (lloyd) iteration
#     on the same points and start;
#   tiny-conv: K 1600 (triangle) on 5000 images, 27x27 positions: useful
#     flops 2 P D (D + K) an image (whitening and the bank's product), as
#     GFLOP/s and % of sgemm (target 60%), beside a NumPy im2col + matmul
#     of the same maths; and its peak memory on 1000 and on 5000 images
#     (it streams: the same).
#
# The real images where ../shared is, else synthetic ones.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tmp=build/bench/conv
mkdir -p "$tmp"
tarball=build/data/cifar-10-binary.tar.gz
if [ ! -f "$tarball" ] && [ -f ../shared/data/cifar10-jpeg.tar.gz ]; then
	$PY ../shared/tools/cifar10-binary "$tarball"
fi
if [ -f "$tarball" ]; then
	tiny-fetch -q cifar-10 --split train --source "$tarball" >"$tmp/train.tiny"
	what="CIFAR-10"
else
	tiny-fetch -q synthetic --count 50000 >"$tmp/train.tiny"
	what="synthetic images"
fi
sgemm=$(build/bench/blasrate | awk '{ for (i = 1; i < NF; i++) if ($i == "sgemm") print $(i + 2) }')
echo "== sgemm: $sgemm GFLOP/s"

tiny-patchify --size 6 --random 8 --normalize 10 "$tmp/train.tiny" >"$tmp/p.tiny"
tiny-cov -q "$tmp/p.tiny" | tiny-zca -q --fit --epsilon 0.1 >"$tmp/zca.tiny"
tiny-zca -q "$tmp/zca.tiny" "$tmp/p.tiny" >"$tmp/w.tiny"
# validate first: a small k-means is a fixed point of its own step (tests/kmeans.bats does more)
tiny-take --first 2000 "$tmp/w.tiny" | tiny-kmeans -q -k 8 --iterations 1000 | tiny-info | grep -q 'kmeans_changed 0'

echo "== k-means, 400000 patches of $what, 6x6x3, K 1600"
tiny-kmeans -k 1600 --iterations 4 "$tmp/w.tiny" 2>"$tmp/km.log" >"$tmp/km.tiny"
# the mean of iterations 2-4 (the first also pays for the start)
it=$(grep -o 'changed, [0-9]* re-seeded, [0-9.]* s' "$tmp/km.log" | awk 'NR > 1 { s += $4; n++ } END { printf "%.3f", s / n }')
awk -v t="$it" -v g="$sgemm" 'BEGIN { r = 2 * 400000 * 1600 * 108 / t / 1e9
	printf "tiny-kmeans: %.3f s an iteration, %.1f GFLOP/s, %.0f%% of sgemm (target 60%%)\n", t, r, 100 * r / g }'
if py -c 'import sklearn' 2>/dev/null; then
	sk=$(py - "$tmp/w.tiny" "$tmp/km.tiny" <<'PY'
import sys, time
import numpy as np
from sklearn.cluster import KMeans
sys.path.insert(0, "formats")
from tiny_stream import load
X = load(sys.argv[1])["x"].reshape(400000, -1).astype(np.float32)
C = load(sys.argv[2])["W"][0].T.copy()
start = time.perf_counter()
km = KMeans(1600, init=C, n_init=1, max_iter=3, tol=0, algorithm="lloyd").fit(X)
print("%.3f" % ((time.perf_counter() - start) / km.n_iter_))
PY
)
	awk -v a="$it" -v b="$sk" 'BEGIN { printf "scikit-learn KMeans (lloyd): %.3f s an iteration; tiny-kmeans is %.1fx it\n", b, b / a }'
else
	echo "scikit-learn is absent (python3-sklearn): skipped"
fi

echo "== tiny-conv, K 1600 triangle, 5000 images of $what"
tiny-take --first 5000 "$tmp/train.tiny" >"$tmp/5k.tiny"
tiny-take --first 1000 "$tmp/train.tiny" >"$tmp/1k.tiny"
# validate first: the features of a few images have the right shape
tiny-take --first 3 "$tmp/1k.tiny" | tiny-conv -q --zca "$tmp/zca.tiny" "$tmp/km.tiny" | tiny-info | grep -q 'x f32 \[1600,2,2\]'
start=$(date +%s.%N)
/usr/bin/time -f %M -o "$tmp/rss5k.txt" tiny-conv -q --zca "$tmp/zca.tiny" "$tmp/km.tiny" "$tmp/5k.tiny" >"$tmp/f5k.tiny"
end=$(date +%s.%N)
/usr/bin/time -f %M -o "$tmp/rss1k.txt" tiny-conv -q --zca "$tmp/zca.tiny" "$tmp/km.tiny" "$tmp/1k.tiny" >/dev/null
awk -v a="$start" -v b="$end" -v g="$sgemm" -v m1="$(tail -1 "$tmp/rss1k.txt")" -v m5="$(tail -1 "$tmp/rss5k.txt")" 'BEGIN {
	t = b - a; r = 5000 * 729 * 2 * 108 * (108 + 1600) / t / 1e9
	printf "tiny-conv: %.2f s, %.0f images/s, %.1f GFLOP/s useful, %.0f%% of sgemm (target 60%%)\n", t, 5000 / t, r, 100 * r / g
	printf "tiny-conv peak memory: %.0f MiB on 1000 images, %.0f MiB on 5000\n", m1 / 1024, m5 / 1024 }'
np_s=$(py - "$tmp/5k.tiny" "$tmp/zca.tiny" "$tmp/km.tiny" "$tmp/f5k.tiny" <<'PY'
import sys, time
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
sys.path.insert(0, "formats")
from tiny_stream import load
img, z, km, ours = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3]), load(sys.argv[4])
m, Wz, C = z["mean"][0], z["W"][0], km["W"][0]
cc = (C ** 2).sum(0)
start = time.perf_counter()
out = []
for first in range(0, 5000, 100):
    x = img["x"][first:first + 100].astype(np.float32)
    P = sliding_window_view(x, (6, 6), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5).reshape(-1, 108)
    P = (P - P.mean(1, keepdims=True)) / np.sqrt(P.var(1, ddof=1, keepdims=True) + 10)
    P = (P - m) @ Wz
    d = np.sqrt(np.maximum(0, (P ** 2).sum(1)[:, None] - 2 * P @ C + cc))
    f = np.maximum(0, d.mean(1, keepdims=True) - d).reshape(-1, 27, 27, 1600)
    q = np.stack([f[:, :14, :14].sum((1, 2)), f[:, :14, 14:].sum((1, 2)), f[:, 14:, :14].sum((1, 2)), f[:, 14:, 14:].sum((1, 2))], 2)
    out.append(q)
secs = time.perf_counter() - start
out = np.concatenate(out)
err = np.abs(out - ours["x"].reshape(5000, 1600, 4)).max() / np.abs(out).max()
assert err < 1e-3, err
print("%.2f" % secs)
PY
)
awk -v a="$start" -v b="$end" -v n="$np_s" 'BEGIN { printf "NumPy im2col + matmul, the same features: %.2f s; tiny-conv is %.1fx it\n", n, n / (b - a) }'
