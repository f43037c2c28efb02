#!/usr/bin/env bats
# tiny-fetch: synthetic data, local CIFAR tarballs, and what it refuses.
# The download path (HTTP, cache, resume) is in fetch-download.bats.

load helpers/common

CLASSES10="airplane automobile bird cat deer dog frog horse ship truck"

# A small CIFAR-10 tarball in the official layout: 3 records per training
# batch, 2 test records, labels (batch + record) % 10, random pixels.
# Extra arguments: members to leave out.
make_cifar10() {
	local d="$BATS_TEST_TMPDIR/c10/cifar-10-batches-bin" skip=" $* "
	mkdir -p "$d"
	local b r
	for b in 1 2 3 4 5; do
		for r in 0 1 2; do
			printf "\\x$(printf %02x $(((b + r) % 10)))"
			head -c 3072 /dev/urandom
		done >"$d/data_batch_$b.bin"
	done
	for r in 7 8; do printf "\\x0$r"; head -c 3072 /dev/urandom; done >"$d/test_batch.bin"
	printf '%s\n' $CLASSES10 '' >"$d/batches.meta.txt"
	local m
	for m in $skip; do rm -f "$d/$m"; done
	tar -C "$BATS_TEST_TMPDIR/c10" -czf "$BATS_TEST_TMPDIR/c10.tar.gz" cifar-10-batches-bin
	C10="$BATS_TEST_TMPDIR/c10.tar.gz"
}

# A small CIFAR-100 tarball: records <coarse><fine><3072 pixels>.
make_cifar100() {
	local d="$BATS_TEST_TMPDIR/c100/cifar-100-binary" i
	mkdir -p "$d"
	for i in 0 1 2 3; do printf "\\x$(printf %02x $((i * 5)))\\x$(printf %02x $((i * 25 + 3)))"; head -c 3072 /dev/urandom; done >"$d/train.bin"
	for i in 0 1; do printf "\\x13\\x63"; head -c 3072 /dev/urandom; done >"$d/test.bin"
	for i in $(seq 0 99); do echo "fine $i"; done >"$d/fine_label_names.txt"
	for i in $(seq 0 19); do echo "coarse$i"; done >"$d/coarse_label_names.txt"
	tar -C "$BATS_TEST_TMPDIR/c100" -czf "$BATS_TEST_TMPDIR/c100.tar.gz" cifar-100-binary
	C100="$BATS_TEST_TMPDIR/c100.tar.gz"
}

# body FILE: the records of a stream, without its header
body() {
	local len
	len=$(head -1 "$1" | cut -d' ' -f3)
	tail -c +$((len + 1)) "$1"
}

@test "no data set, an unknown one, or a bad option value is a usage error" {
	run -2 tiny-fetch
	assert_output --partial "usage: tiny-fetch"
	run -2 tiny-fetch imagenet
	assert_output --partial "expected one of cifar-10, cifar-100, synthetic"
	run -2 tiny-fetch synthetic --split validation
	assert_output --partial "--split validation: expected one of train, test, all"
	run -2 tiny-fetch synthetic --count -3
	assert_output --partial "--count -3: expected an integer"
	run -2 tiny-fetch synthetic --count abc
	run -2 tiny-fetch cifar-10 --md5 xyz
	run -2 tiny-fetch cifar-10 --count 10
	run -2 tiny-fetch synthetic --bogus
}

@test "a missing local tarball is an error naming it, with nothing written" {
	run -1 --separate-stderr tiny-fetch cifar-10 --source "$BATS_TEST_TMPDIR/nope.tar.gz"
	[[ "$stderr" == "tiny-fetch: $BATS_TEST_TMPDIR/nope.tar.gz: No such file or directory" ]]
	assert_output ""
}

@test "a truncated tarball is an error and nothing is written" {
	make_cifar10
	head -c $(($(stat -c %s "$C10") / 2)) "$C10" >"$BATS_TEST_TMPDIR/cut.tar.gz"
	run -1 --separate-stderr tiny-fetch -q cifar-10 --split all --source "$BATS_TEST_TMPDIR/cut.tar.gz"
	[ "$(wc -l <<<"$stderr")" -ge 1 ]
	[[ "$stderr" == *"cut.tar.gz"*runcated* ]]
	assert_output ""
}

@test "a tarball without an expected member is an error naming the member" {
	make_cifar10 test_batch.bin
	run -1 --separate-stderr tiny-fetch -q cifar-10 --split test --source "$C10"
	[[ "$stderr" == *"no member cifar-10-batches-bin/test_batch.bin"* ]]
	assert_output ""
}

@test "a file that is not a tarball at all is an error" {
	head -c 5000 /dev/urandom >"$BATS_TEST_TMPDIR/junk.tar.gz"
	run -1 --separate-stderr tiny-fetch -q cifar-10 --source "$BATS_TEST_TMPDIR/junk.tar.gz"
	[[ "$stderr" == "tiny-fetch: $BATS_TEST_TMPDIR/junk.tar.gz: "* ]]
	assert_output ""
}

@test "a batch that is not whole records, a label out of range, or a short class list is an error" {
	make_cifar10
	local d="$BATS_TEST_TMPDIR/c10/cifar-10-batches-bin"
	head -c 100 /dev/urandom >>"$d/data_batch_3.bin"
	tar -C "$BATS_TEST_TMPDIR/c10" -czf "$C10" cifar-10-batches-bin
	run -1 --separate-stderr tiny-fetch -q cifar-10 --source "$C10"
	[[ "$stderr" == *"data_batch_3.bin is 9319 bytes, not a whole number of 3073-byte records"* ]]
	assert_output ""

	make_cifar10
	{ printf '\x0a'; head -c 3072 /dev/zero; } >"$d/test_batch.bin"
	tar -C "$BATS_TEST_TMPDIR/c10" -czf "$C10" cifar-10-batches-bin
	run -1 --separate-stderr tiny-fetch -q cifar-10 --split test --source "$C10"
	[[ "$stderr" == *"test_batch.bin record 0 has label 10, outside the 10 classes"* ]]

	make_cifar10
	printf 'cat\ndog\n' >"$d/batches.meta.txt"
	tar -C "$BATS_TEST_TMPDIR/c10" -czf "$C10" cifar-10-batches-bin
	run -1 --separate-stderr tiny-fetch -q cifar-10 --source "$C10"
	[[ "$stderr" == *"batches.meta.txt lists 2 class names, expected 10"* ]]
}

@test "a local CIFAR-10 tarball gives the official record layout after the header" {
	make_cifar10
	run --separate-stderr tiny-fetch -q cifar-10 --split all --source "$C10"
	[[ "$stderr" == *"warning: $C10: MD5 "*" is not the official c32a1d4ab5d03f1284b67883e8d87530; reading it anyway" ]]
	tiny-fetch -q cifar-10 --split all --source "$C10" --md5 "$(md5sum <"$C10" | cut -c1-32)" \
		>"$BATS_TEST_TMPDIR/all.tiny"
	local d="$BATS_TEST_TMPDIR/c10/cifar-10-batches-bin"
	cat "$d"/data_batch_{1,2,3,4,5}.bin "$d/test_batch.bin" >"$BATS_TEST_TMPDIR/expect"
	body "$BATS_TEST_TMPDIR/all.tiny" | cmp - "$BATS_TEST_TMPDIR/expect"
	run tiny-info --json "$BATS_TEST_TMPDIR/all.tiny"
	assert_output --partial '"count": 17'
	assert_output --partial "\"classes\": [\"$CLASSES10\"]"
}

@test "with a matching --md5 a local tarball reads without a warning" {
	make_cifar10
	run --separate-stderr tiny-fetch -q cifar-10 --split test --source "$C10" --md5 "$(md5sum <"$C10" | cut -c1-32)"
	assert_success
	[ -z "$stderr" ]
	run bash -c "tiny-fetch -q cifar-10 --split test --source '$C10' --md5 $(md5sum <"$C10" | cut -c1-32) | tiny-dump --fields label"
	assert_output "$(printf 'label=7\nlabel=8')"
}

@test "a CIFAR-100 tarball gives coarse and fine labels and both name lists" {
	make_cifar100
	tiny-fetch -q cifar-100 --split train --source "$C100" 2>/dev/null >"$BATS_TEST_TMPDIR/tr.tiny"
	run tiny-dump --fields coarse,label "$BATS_TEST_TMPDIR/tr.tiny"
	assert_output "$(printf 'coarse=0 label=3\ncoarse=5 label=28\ncoarse=10 label=53\ncoarse=15 label=78')"
	body "$BATS_TEST_TMPDIR/tr.tiny" | cmp - "$BATS_TEST_TMPDIR/c100/cifar-100-binary/train.bin"
	run bash -c "tiny-info --json '$BATS_TEST_TMPDIR/tr.tiny' | $PY -c 'import json,sys; a=json.load(sys.stdin)[\"attributes\"]; c=a[\"classes\"][0].split(); print(len(c), c[0], c[99], len(a[\"coarse_classes\"][0].split()))'"
	assert_output "100 fine_0 fine_99 20"
}

@test "synthetic data is the same for the same seed and differs for another" {
	tiny-fetch synthetic --count 30 --seed 7 >"$BATS_TEST_TMPDIR/a"
	tiny-fetch synthetic --count 30 --seed 7 >"$BATS_TEST_TMPDIR/b"
	tiny-fetch synthetic --count 30 --seed 8 >"$BATS_TEST_TMPDIR/c"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	body "$BATS_TEST_TMPDIR/a" >"$BATS_TEST_TMPDIR/a.body"
	body "$BATS_TEST_TMPDIR/c" >"$BATS_TEST_TMPDIR/c.body"
	run ! cmp -s "$BATS_TEST_TMPDIR/a.body" "$BATS_TEST_TMPDIR/c.body"
}

@test "synthetic image i does not depend on --count, and test differs from train" {
	tiny-fetch synthetic --count 20 >"$BATS_TEST_TMPDIR/20"
	tiny-fetch synthetic --count 50 >"$BATS_TEST_TMPDIR/50"
	cmp <(body "$BATS_TEST_TMPDIR/20") <(body "$BATS_TEST_TMPDIR/50" | head -c $((20 * 3073)))
	tiny-fetch synthetic --count 20 --split test >"$BATS_TEST_TMPDIR/t"
	tiny-fetch synthetic --count 20 --split all >"$BATS_TEST_TMPDIR/all"
	body "$BATS_TEST_TMPDIR/20" >"$BATS_TEST_TMPDIR/20.body"
	body "$BATS_TEST_TMPDIR/t" >"$BATS_TEST_TMPDIR/t.body"
	run ! cmp -s "$BATS_TEST_TMPDIR/20.body" "$BATS_TEST_TMPDIR/t.body"
	cat <(body "$BATS_TEST_TMPDIR/20") <(body "$BATS_TEST_TMPDIR/t") | cmp - <(body "$BATS_TEST_TMPDIR/all")
}

@test "synthetic classes are balanced and named, 10 per run of 10" {
	run bash -c "tiny-fetch synthetic --count 100 | tiny-dump --fields label | sort | uniq -c | awk '{print \$1}' | sort -u"
	assert_output "10"
	run bash -c "tiny-fetch synthetic --count 10 | tiny-dump --fields label | sort | tr '\n' ' '"
	assert_output "label=0 label=1 label=2 label=3 label=4 label=5 label=6 label=7 label=8 label=9 "
	run bash -c "tiny-fetch synthetic --count 1 | tiny-info --json"
	assert_output --partial '"classes": ["hbar vbar slash backslash plus cross ring square triangle vee"]'
}

@test "synthetic classes differ by shape, not by mean colour" {
	$PY -c 'import numpy' 2>/dev/null || skip "python3-numpy is absent"
	tiny-fetch synthetic --count 2000 | tiny-npy x >"$BATS_TEST_TMPDIR/x.npy"
	tiny-fetch synthetic --count 2000 | tiny-npy label >"$BATS_TEST_TMPDIR/y.npy"
	run $PY -c "
import numpy as np
x = np.load('$BATS_TEST_TMPDIR/x.npy').astype(float); y = np.load('$BATS_TEST_TMPDIR/y.npy')
overall = x.mean(axis=(0, 2, 3))
worst = max(abs(x[y == k].mean(axis=(0, 2, 3)) - overall).max() for k in range(10))
print('worst class mean colour offset %.1f' % worst)
assert worst < 10, worst
"
	assert_success
}

@test "a closed pipe downstream ends the stage quietly" {
	run --separate-stderr bash -c "tiny-fetch synthetic --count 2000 | head -c 100 | wc -c"
	assert_output "100"
	[ -z "$stderr" ]
}

@test "the real CIFAR-10: 50000 training and 10000 test images, 5000 and 1000 per class" {
	cifar10_tarball
	tiny-fetch -q cifar-10 --split train --source "$CIFAR10_TARBALL" 2>/dev/null >"$BATS_TEST_TMPDIR/train.tiny"
	run bash -c "tiny-dump --fields label '$BATS_TEST_TMPDIR/train.tiny' | sort | uniq -c | awk '{print \$1}' | sort -u"
	assert_output "5000"
	run bash -c "tiny-fetch -q cifar-10 --split test --source '$CIFAR10_TARBALL' 2>/dev/null | tiny-dump --fields label | sort | uniq -c | awk '{print \$1}' | sort -u"
	assert_output "1000"
	run tiny-info --json "$BATS_TEST_TMPDIR/train.tiny"
	assert_output --partial '"count": 50000'
	assert_output --partial "\"classes\": [\"$CLASSES10\"]"
	tar -xzOf "$CIFAR10_TARBALL" cifar-10-batches-bin/data_batch_{1,2,3,4,5}.bin | cmp - <(body "$BATS_TEST_TMPDIR/train.tiny")
}

@test "a tarball with a flipped byte in its gzip trailer is an error and nothing is written" {
	make_cifar10
	# the CRC-32 of the whole tar: after the last member, where reading stops
	$PY -c "
d = bytearray(open('$C10', 'rb').read()); d[-6] ^= 0xff
open('$BATS_TEST_TMPDIR/crc.tar.gz', 'wb').write(d)"
	run -1 --separate-stderr tiny-fetch -q cifar-10 --split train --source "$BATS_TEST_TMPDIR/crc.tar.gz"
	[ -z "$output" ]
	[[ "$stderr" == *"crc.tar.gz: corrupt gzip data (incorrect data check)" ]]
}
