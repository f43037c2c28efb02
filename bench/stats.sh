#!/usr/bin/env bash
# bench/stats.sh - second-order statistics against NumPy on the same machine.
#
#   the BLAS: which libraries the programs load, and sgemm/dgemm rates with
#     the kernels tiny chose and with BLIS's own detection
#   tiny-cov of the 50000 x 3072 training images against NumPy's X.T @ X
#     (targets: at least NumPy's speed, at least 60% of the dgemm rate)
#   tiny-zca --fit against numpy.linalg.eigh on the same covariance
#     (target: within 1.2x)
#   tiny-dedupe of all 60000 images against each other (target: < 60 s)
#
# NumPy runs as bench/common.sh's py runs it.
set -euo pipefail
. "$(dirname "$0")/common.sh"
tmp=build/bench/stats
mkdir -p "$tmp"
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "== BLAS"
ldd bin/tiny-cov | grep -E 'blis|blas|lapack' | sed 's/ (0x.*//'
build/bench/blasrate | sed 's/^/tiny:  /'
TINY_BLIS_ARCH=blis build/bench/blasrate | sed 's/^/blis:  /'
dgemm=$(build/bench/blasrate | awk '/dgemm/ { print $(NF-1) }')

# the data: the real training images where ../shared is, else synthetic
tarball=build/data/cifar-10-binary.tar.gz
if [ ! -f "$tarball" ] && [ -f ../shared/data/cifar10-jpeg.tar.gz ]; then
	$PY ../shared/tools/cifar10-binary "$tarball"
fi
if [ -f "$tarball" ]; then
	tiny-fetch -q cifar-10 --split train --source "$tarball" 2>/dev/null >"$tmp/train.tiny"
	tiny-fetch -q cifar-10 --split all --source "$tarball" 2>/dev/null >"$tmp/all.tiny"
else
	tiny-fetch -q synthetic --count 50000 >"$tmp/train.tiny"
	tiny-fetch -q synthetic --split all --count 30000 >"$tmp/all.tiny"
fi

echo "== tiny-cov, 50000 x 3072"
# validate first: a part of the data against numpy.cov
tiny-cov -q --part 0/25 "$tmp/train.tiny" | tiny-npy cov >"$tmp/c.npy"
tiny-label-filter -q --per-class 200 "$tmp/train.tiny" | tiny-npy x >/dev/null
py -c "
import numpy as np
hdr = int(open('$tmp/train.tiny', 'rb').readline().split()[2])
d = np.fromfile('$tmp/train.tiny', dtype=[('label', 'u1'), ('x', 'u1', (3072,))], offset=hdr, count=2000)
e = abs(np.load('$tmp/c.npy') - np.cov(d['x'].astype(float), rowvar=False)).max()
assert e < 1e-8, e
"
t0=$(date +%s.%N)
tiny-cov -q "$tmp/train.tiny" >"$tmp/train.cov"
t1=$(date +%s.%N)
tcov=$(secs "$t0" "$t1")
tnp=$(py -c "
import numpy as np, time
hdr = int(open('$tmp/train.tiny', 'rb').readline().split()[2])
x = np.fromfile('$tmp/train.tiny', dtype=[('label', 'u1'), ('x', 'u1', (3072,))], offset=hdr)['x'].astype(np.float64)
t = time.time(); c = x.T @ x; print('%.2f' % (time.time() - t))
")
awk -v t="$tcov" -v n="$tnp" -v g="$dgemm" 'BEGIN {
	rate = 50000 * 3072 * 3072 / t / 1e9
	printf "tiny-cov (read, convert, syrk):   %6.2f s  %6.1f GFLOP/s (N D^2 / t), %.0f%% of dgemm %.1f\n", t, rate, 100 * rate / g, g
	printf "numpy X.T @ X (product only):   %6.2f s  tiny-cov / numpy speed: %.2f (target >= 1)\n", n, n / t
}'

echo "== tiny-zca --fit, 3072 x 3072 (best of 3 each)"
tzca=999
for i in 1 2 3; do
	t0=$(date +%s.%N)
	tiny-zca -q --fit --drop 1000 "$tmp/train.cov" >"$tmp/train.zca"
	t1=$(date +%s.%N)
	tzca=$(awk -v a="$t0" -v b="$t1" -v m="$tzca" 'BEGIN { t = b - a; printf "%.2f", t < m ? t : m }')
done
tiny-npy cov "$tmp/train.cov" >"$tmp/c.npy"
teig=$(py -c "
import numpy as np, time
c = np.load('$tmp/c.npy')
best = 1e9
for i in range(3):
    t = time.time(); w, v = np.linalg.eigh(c); best = min(best, time.time() - t)
print('%.2f' % best)
")
awk -v t="$tzca" -v e="$teig" 'BEGIN {
	printf "tiny-zca --fit (eigh, W, Winv, write): %6.2f s\n", t
	printf "numpy.linalg.eigh:                      %6.2f s  ratio %.2f (target <= 1.2)\n", e, t / e
}'

echo "== tiny-dedupe, all 60000 images against each other"
# validate first: the screened default finds what the full comparison finds, on a part
tiny-label-filter -q --per-class 500 "$tmp/all.tiny" >"$tmp/part.tiny"
tiny-dedupe -q --threshold 1500 --pairs "$tmp/p64.tiny" "$tmp/part.tiny" >/dev/null
tiny-dedupe -q --threshold 1500 --pairs "$tmp/pall.tiny" --dims 3072 "$tmp/part.tiny" >/dev/null
cmp <(tiny-dump "$tmp/p64.tiny") <(tiny-dump "$tmp/pall.tiny")
t0=$(date +%s.%N)
tiny-dedupe "$tmp/all.tiny" >/dev/null
t1=$(date +%s.%N)
echo "tiny-dedupe (screen in 64 directions of the data): $(secs "$t0" "$t1") s (target < 60)"
t0=$(date +%s.%N)
tiny-dedupe -q --dims 3072 "$tmp/all.tiny" >/dev/null
t1=$(date +%s.%N)
echo "tiny-dedupe --dims 3072 (all values):              $(secs "$t0" "$t1") s"
