#!/usr/bin/env bash
# bench/mpi.sh - distributed RBM training (chapter 4) on this machine: one
# process with 2 threads against 2 processes (mpirun) with 1 thread each,
# scheme 4.5, Gaussian visibles, CD-1, V = 3072, H = 8000, minibatches of
# 100 and of 1000, N examples of random 0/1 data for one epoch.  Prints
# examples per second of each and the share of the run that the slowest
# rank spent in the exchanges.
#
# What the report predicts (Figures 4.3, 4.5, 4.7 and section 4.4): with
# Gaussian visibles, splitting across processes is never better than
# splitting across cores of one machine, and the gap is larger with
# minibatches of 100 (more, smaller exchanges).  Here the two processes
# share one machine's memory, and section 4.5's exchange of a CD-1 minibatch
# is (K-1)/K B V 4 bytes twice per rank (12 KB an example at V = 3072)
# against 10 V H = 0.25 GFLOP of arithmetic an example, so the exchanges
# should take well under 1% and 2 x 1 should come within a few per cent of
# 1 x 2 at both minibatch sizes (the 2 x 1 run also loses the BLAS's
# sharing of one packed panel between the threads).
#
#   bench/mpi.sh                   the sizes above (N = 2000)
#   V=64 H=128 N=400 bench/mpi.sh  a quick check that it runs
set -euo pipefail
. "$(dirname "$0")/common.sh"
V=${V:-3072} H=${H:-8000} N=${N:-2000}
tmp=build/bench/mpi
mkdir -p "$tmp"
mpirun=(mpirun -np 2)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
echo "== scheme 4.5, V $V H $H, $N examples, Gaussian visibles, CD-1"
$PY pipelines/random-binary.py "$N" "$V" 1 >"$tmp/data.tiny"
# validate first: on 2 processes a small model must come out as on one,
# within 1e-5 (the visible inputs are summed in another order)
tiny-rbm-train -q --hidden 16 --batch 50 --epochs 1 "$tmp/data.tiny" | tiny-dump --fields W,vbias,hbias >"$tmp/one.txt"
"${mpirun[@]}" tiny-rbm-train -q --hidden 16 --batch 50 --epochs 1 "$tmp/data.tiny" |
	tiny-dump --fields W,vbias,hbias >"$tmp/two.txt"
$PY -c '
import re, sys
num = lambda p: [float(x) for x in re.findall(r"=?([-+0-9.e]+)", open(p).read().replace(",", " "))]
a, b = num(sys.argv[1]), num(sys.argv[2])
d = max(abs(x - y) for x, y in zip(a, b)) if len(a) == len(b) and a else float("inf")
sys.exit("bench/mpi.sh: 2 processes differ from one by %g" % d if d > 1e-5 else 0)' "$tmp/one.txt" "$tmp/two.txt"
rate() { tiny-dump --fields rate "$1" | tail -1 | cut -d= -f2; }
printf "%9s  %18s  %18s  %14s  %s\n" minibatch "1x2 examples/s" "2x1 examples/s" "2x1 / 1x2" "2x1 time communicating"
for B in 100 1000; do
	tiny-rbm-train -q --threads 2 --hidden "$H" --batch $B --epochs 1 --log "$tmp/one-$B.tiny" "$tmp/data.tiny" >/dev/null
	"${mpirun[@]}" tiny-rbm-train --threads 1 --hidden "$H" --batch $B --epochs 1 --log "$tmp/two-$B.tiny" \
		"$tmp/data.tiny" 2>"$tmp/two-$B.err" >/dev/null
	share=$(grep -o 'communicating [0-9.]*%' "$tmp/two-$B.err" | cut -d' ' -f2)
	awk -v B=$B -v a="$(rate "$tmp/one-$B.tiny")" -v b="$(rate "$tmp/two-$B.tiny")" -v s="$share" \
		'BEGIN { printf "%9d  %18.1f  %18.1f  %14.2f  %s\n", B, a, b, b / a, s }'
done
