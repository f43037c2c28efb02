#!/usr/bin/env bash
# bench/fetch.sh - tiny-fetch against zcat on the same CIFAR-10 tarball.
#
# tiny-fetch cifar-10 --split all --source FILE reads the records out of the
# gzip'd tar; its floor is gzip decompression.  Target: at least 0.8 of
# zcat's rate.  The tarball is the real images (../shared, converted once
# into build/data) or, where ../shared is absent, one built from synthetic
# images in the same layout.  Best of RUNS runs each; MB/s is the
# uncompressed tar size over the time.
#
# Then the chain tiny-fetch | tiny-label-filter | tiny-info on the 60000
# images, the stream's checks on every byte of a filter's count-unknown
# output (its trailer, formats/stream.md) included; BASE=DIR also times
# DIR's programs (another commit's bin/) on the same chain, in the same
# run (target: within 3%).
set -euo pipefail
. "$(dirname "$0")/common.sh"
RUNS=${RUNS:-3}
tarball=build/data/cifar-10-binary.tar.gz
if [ ! -f "$tarball" ]; then
	mkdir -p build/data
	if [ -f ../shared/data/cifar10-jpeg.tar.gz ]; then
		$PY ../shared/tools/cifar10-binary "$tarball"
	elif tarball=build/data/synthetic-cifar-10-binary.tar.gz && [ ! -f "$tarball" ]; then
		d=$(mktemp -d)
		mkdir "$d/cifar-10-batches-bin"
		for b in 1 2 3 4 5; do  # records 10000(b-1).. of the training split
			tiny-fetch -q synthetic --count $((10000 * b)) | tail -c 30730000 >"$d/cifar-10-batches-bin/data_batch_$b.bin"
		done
		tiny-fetch -q synthetic --split test --count 10000 | tail -c 30730000 >"$d/cifar-10-batches-bin/test_batch.bin"
		printf '%s\n' hbar vbar slash backslash plus cross ring square triangle vee >"$d/cifar-10-batches-bin/batches.meta.txt"
		tar -C "$d" -czf "$tarball" cifar-10-batches-bin
		rm -rf "$d"
	fi
fi
md5=$(md5sum <"$tarball" | cut -c1-32)

# validate before timing: the whole set comes out
count=$(tiny-fetch -q cifar-10 --split all --source "$tarball" --md5 "$md5" | tiny-info -q | awk '$1 == "records" { print $2 }')
[ "$count" = 60000 ] || { echo "bench: expected 60000 records, got $count" >&2; exit 1; }
raw=$(zcat "$tarball" | wc -c)

best() {  # best wall time of RUNS runs of "$@" > /dev/null
	local b=999999 i t0 t1
	for ((i = 0; i < RUNS; i++)); do
		t0=$(date +%s.%N)
		"$@" >/dev/null
		t1=$(date +%s.%N)
		b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { t = z - a; print (t < b ? t : b) }')
	done
	echo "$b"
}
tz=$(best zcat "$tarball")
tf=$(best tiny-fetch -q cifar-10 --split all --source "$tarball" --md5 "$md5")
echo "tarball: $tarball ($(stat -L -c %s "$tarball") bytes, $raw bytes uncompressed)"
awk -v raw="$raw" -v tz="$tz" -v tf="$tf" 'BEGIN {
	printf "zcat        %6.3f s  %7.1f MB/s\n", tz, raw / tz / 1e6
	printf "tiny-fetch  %6.3f s  %7.1f MB/s\n", tf, raw / tf / 1e6
	printf "tiny-fetch / zcat rate: %.2f (target >= 0.80)\n", tz / tf
	exit !(tz / tf >= 0.8)
}'

chain() {  # chain DIR: the 60000 images through DIR's fetch, label-filter and info
	"$1/tiny-fetch" -q cifar-10 --split all --source "$tarball" --md5 "$md5" |
		"$1/tiny-label-filter" -q --drop 9 | "$1/tiny-info" -q
}
kept=$(chain bin | awk '$1 == "records" { print $2 }')
[ "$kept" = 54000 ] || { echo "bench: the chain kept $kept records, not 54000" >&2; exit 1; }
tc=$(best chain bin)
awk -v t="$tc" -v raw="$raw" 'BEGIN { printf "fetch | label-filter --drop 9 | info  %6.3f s  %7.1f MB/s\n", t, raw / t / 1e6 }'
if [ -n "${BASE:-}" ]; then
	tb=$(best chain "$BASE")
	awk -v t="$tc" -v b="$tb" -v d="$BASE" 'BEGIN {
		printf "the same with %s: %6.3f s; this build / that: %.3f (target within 3%%)\n", d, b, t / b }'
fi
