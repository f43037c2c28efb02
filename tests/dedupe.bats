#!/usr/bin/env bats
# tiny-dedupe: drop near-duplicate records by L2 distance, exactly, with or
# without a principal-direction screen.

load helpers/common

REF_PY="$BATS_TEST_DIRNAME/helpers/dedupe_ref.py"

setup() {
	# d(0,1) = 5, record 2 = record 0, and a chain 3 ~ 4 ~ 5 with d(3,5) = 10
	IN="$BATS_TEST_TMPDIR/in.tiny"
	mkstream --attr 'classes=a b' 'idx u8 []' 'x f32 [2]' 'label u8 []' >"$IN" <<<'
		0 0 0 1  1 3 4 0  2 0 0 1  3 10 0 0  4 13 4 1  5 16 8 0'
}

# kept idx values on one line, then the pairs as "i j dist"
kept_and_pairs() {
	local p="$BATS_TEST_TMPDIR/pairs.tiny"
	tiny-dedupe -q --pairs "$p" "$@" | tiny-dump --fields idx | sed 's/idx=//' | paste -sd' '
	tiny-dump "$p" | sed 's/[ij]=//g; s/dist=//'
}

kept() {
	tiny-dedupe -q "$@" | tiny-dump --fields idx | sed 's/idx=//' | paste -sd' '
}

@test "bad option values are usage errors with nothing written" {
	run -2 --separate-stderr tiny-dedupe --threshold -1 "$IN"
	[[ "$stderr" == *"--threshold -1"* ]]
	assert_output ""
	run -2 tiny-dedupe --threshold abc "$IN"
	run -2 tiny-dedupe --dims 0 --model "$IN" "$IN"
	run -2 tiny-dedupe --pairs - "$IN"
	assert_output --partial "--pairs needs a file name"
}

@test "--model without --dims is a usage error" {
	run -2 tiny-dedupe --model "$IN" "$IN"
	assert_output --partial "--model needs --dims K"
}

@test "--dims larger than the values of x is a data error (exit 1) naming both" {
	mkstream 'eigvec f32 [2,2]' <<<'1 0 0 1' >"$BATS_TEST_TMPDIR/m.tiny"
	run -1 --separate-stderr tiny-dedupe --dims 3 --model "$BATS_TEST_TMPDIR/m.tiny" "$IN"
	[[ "$stderr" == *"--dims 3 is larger than the 2 values of x in $IN"* ]]
	assert_output ""
}

@test "a stream without x is an error naming the input" {
	mkstream 'y u8 []' <<<'1 2' >"$BATS_TEST_TMPDIR/nox.tiny"
	run -1 --separate-stderr tiny-dedupe "$BATS_TEST_TMPDIR/nox.tiny"
	[ "$stderr" = "tiny-dedupe: $BATS_TEST_TMPDIR/nox.tiny: no field 'x' in the stream (its fields: y)" ]
	assert_output ""
}

@test "NaN or infinite values are rejected naming the record, with nothing written" {
	mkstream 'x f32 [2]' <<<'0 0  1 1  2 nan' >"$BATS_TEST_TMPDIR/nan.tiny"
	run -1 --separate-stderr tiny-dedupe "$BATS_TEST_TMPDIR/nan.tiny"
	[ "$stderr" = "tiny-dedupe: $BATS_TEST_TMPDIR/nan.tiny: record 2 has NaN in field 'x' (element 1)" ]
	assert_output ""
	mkstream 'x f64 [1]' <<<'0 inf' >"$BATS_TEST_TMPDIR/inf.tiny"
	run -1 --separate-stderr tiny-dedupe --against "$IN" "$BATS_TEST_TMPDIR/inf.tiny"
	[[ "$stderr" == *"inf.tiny: record 1 has Inf in field 'x' (element 0)" ]]
	assert_output ""
}

@test "a REF or MODEL of another size is one error naming both sizes" {
	mkstream 'x u8 [3]' <<<'1 2 3' >"$BATS_TEST_TMPDIR/ref3.tiny"
	run -1 --separate-stderr tiny-dedupe --against "$BATS_TEST_TMPDIR/ref3.tiny" "$IN"
	[ "$stderr" = "tiny-dedupe: $BATS_TEST_TMPDIR/ref3.tiny: field 'x' has 3 values, but x of $IN has 2" ]
	assert_output ""
	mkstream 'eigvec f32 [3,3]' <<<'1 0 0 0 1 0 0 0 1' >"$BATS_TEST_TMPDIR/m3.tiny"
	run -1 --separate-stderr tiny-dedupe --dims 1 --model "$BATS_TEST_TMPDIR/m3.tiny" "$IN"
	[ "$stderr" = "tiny-dedupe: $BATS_TEST_TMPDIR/m3.tiny: field 'eigvec' is for 3 values, but x of $IN has 2" ]
	mkstream 'mean f64 [3]' 'cov f64 [2,2]' <<<'0 0 0 1 0 0 1' >"$BATS_TEST_TMPDIR/mm.tiny"
	run -1 --separate-stderr tiny-dedupe --dims 1 --model "$BATS_TEST_TMPDIR/mm.tiny" "$IN"
	[[ "$stderr" == *"field 'mean' has 3 values, but x of $IN has 2" ]]
	assert_output ""
}

@test "a MODEL without directions, with two records, or with rows that are not orthonormal is an error" {
	mkstream 'mean f32 [2]' <<<'0 0' >"$BATS_TEST_TMPDIR/m.tiny"
	run -1 tiny-dedupe --dims 1 --model "$BATS_TEST_TMPDIR/m.tiny" "$IN"
	assert_output --partial "no field 'eigvec' or 'cov'"
	mkstream 'eigvec f32 [2,2]' <<<'1 0 0 1  1 0 0 1' >"$BATS_TEST_TMPDIR/m2.tiny"
	run -1 tiny-dedupe --dims 1 --model "$BATS_TEST_TMPDIR/m2.tiny" "$IN"
	assert_output --partial "a model has one record, this has 2"
	mkstream 'eigvec f32 [2,2]' <<<'2 0 0 2' >"$BATS_TEST_TMPDIR/m3.tiny"
	run -1 --separate-stderr tiny-dedupe --dims 2 --model "$BATS_TEST_TMPDIR/m3.tiny" "$IN"
	[[ "$stderr" == *"the 2 leading directions of 'eigvec' are not orthonormal"* ]]
	assert_output ""
}

@test "exact duplicates and a record exactly at the threshold are dropped, the first kept" {
	run kept --threshold 5 "$IN"
	assert_output "0 3 5"
}

@test "a record just outside the threshold is kept" {
	run kept --threshold 4.999 "$IN"
	assert_output "0 1 3 4 5"
	run kept --threshold 0 "$IN"
	assert_output "0 1 3 4 5"
}

@test "a chain keeps its ends: a record near only a dropped record stays" {
	# 4 is within 5 of the kept 3 and dropped; 5 is within 5 of 4 only
	run kept --threshold 5 "$IN"
	assert_output "0 3 5"
	# at 10, 3 joins 0, so 4 starts a group of its own and 5 joins it
	run kept --threshold 10 "$IN"
	assert_output "0 4"
}

@test "--pairs lists every pair within the threshold, sorted, with its distance" {
	run kept_and_pairs --threshold 5 "$IN"
	assert_output "$(printf '%s\n' '0 3 5' '0 1 5' '0 2 0' '1 2 5' '3 4 5' '4 5 5')"
	run tiny-info --json "$BATS_TEST_TMPDIR/pairs.tiny"
	assert_output --partial '"count": 5'
	assert_output --partial '{"name": "i", "dtype": "i64", "shape": []}'
	assert_output --partial '{"name": "dist", "dtype": "f32", "shape": []}'
}

@test "--against drops the records near any of REF and nothing else" {
	mkstream 'x f32 [2]' <<<'0 0  13 4.5' >"$BATS_TEST_TMPDIR/ref.tiny"
	# 0, 1, 2 are within 5 of (0,0); 4 (0.5) and 5 (4.61) of (13,4.5); 3 is 5.41 away
	run kept_and_pairs --threshold 5 --against "$BATS_TEST_TMPDIR/ref.tiny" "$IN"
	assert_output "$(printf '%s\n' '3' '0 0 0' '1 0 5' '2 0 0' '4 1 0.5' '5 1 4.60977221')"
	run kept --threshold 1 --against "$BATS_TEST_TMPDIR/ref.tiny" "$IN"
	assert_output "1 3 5"
}

@test "records come out whole in their order, with count, attributes and history" {
	run bash -c "tiny-dedupe -q --threshold 5 '$IN' | tiny-dump"
	assert_output "$(printf '%s\n' 'idx=0 x=0,0 label=1' 'idx=3 x=10,0 label=0' 'idx=5 x=16,8 label=0')"
	run bash -c "tiny-dedupe -q --threshold 5 '$IN' | tiny-info --json | $PY -c 'import json,sys; j=json.load(sys.stdin); a=j[\"attributes\"]; print(j[\"count\"], a[\"classes\"][0], a[\"history\"][-1])'"
	assert_output "3 a b tiny-dedupe -q --threshold 5 $IN"
}

@test "it reports what it dropped on stderr, and -q silences it" {
	run --separate-stderr tiny-dedupe --threshold 5 "$IN"
	[ "$stderr" = "tiny-dedupe: dropped 3 of 6 records (threshold 5)" ]
	run --separate-stderr tiny-dedupe -q --threshold 5 "$IN"
	[ -z "$stderr" ]
}

@test "an unknown-count pipe and an empty stream work" {
	mkstream --unknown 'x u8 [2]' <<<'0 0  0 1  9 9' >"$BATS_TEST_TMPDIR/u.tiny"
	run bash -c "cat '$BATS_TEST_TMPDIR/u.tiny' | tiny-dedupe -q --threshold 1 | tiny-dump"
	assert_output "$(printf '%s\n' 'x=0,0' 'x=9,9')"
	mkstream 'x u8 [2]' </dev/null >"$BATS_TEST_TMPDIR/empty.tiny"
	run --separate-stderr tiny-dedupe "$BATS_TEST_TMPDIR/empty.tiny"
	[ "$stderr" = "tiny-dedupe: dropped 0 of 0 records (threshold 500)" ]
}

@test "--dims with a rotation or a covariance model gives the same records and pairs" {
	want=$(kept_and_pairs --threshold 5 "$IN")
	mkstream 'eigvec f32 [2,2]' <<<'0.6 0.8 -0.8 0.6' >"$BATS_TEST_TMPDIR/rot.tiny"
	run kept_and_pairs --threshold 5 --dims 1 --model "$BATS_TEST_TMPDIR/rot.tiny" "$IN"
	assert_output "$want"
	mkstream 'mean f64 [2]' 'cov f64 [2,2]' <<<'0 0  4 1 1 2' >"$BATS_TEST_TMPDIR/cov.tiny"
	run kept_and_pairs --threshold 5 --dims 1 --model "$BATS_TEST_TMPDIR/cov.tiny" "$IN"
	assert_output "$want"
}

@test "500 images of 3x32x32 with planted near-duplicates agree with a NumPy brute force" {
	npy_ok
	$PY "$REF_PY" plant "$BATS_TEST_TMPDIR/big.tiny" 500 3 32 32 256 2
	$PY "$REF_PY" model "$BATS_TEST_TMPDIR/ev.tiny" "$BATS_TEST_TMPDIR/big.tiny" eigvec
	for t in 40 60; do
		want=$($PY "$REF_PY" expect "$BATS_TEST_TMPDIR/big.tiny" $t)
		[ "$(echo "$want" | wc -l)" -gt 10 ]
		# by default 64 directions found in the data screen the pairs
		run kept_and_pairs --threshold $t "$BATS_TEST_TMPDIR/big.tiny"
		assert_output "$want"
		run kept_and_pairs --threshold $t --dims 3072 "$BATS_TEST_TMPDIR/big.tiny"
		assert_output "$want"
		run kept_and_pairs --threshold $t --dims 16 --model "$BATS_TEST_TMPDIR/ev.tiny" "$BATS_TEST_TMPDIR/big.tiny"
		assert_output "$want"
	done
}

@test "2500 crowded records across two blocks agree with NumPy, with and without --dims" {
	npy_ok
	# values 0..4 in 48 dimensions: thousands of pairs within 11, long chains
	$PY "$REF_PY" plant "$BATS_TEST_TMPDIR/s.tiny" 2500 3 4 4 5 1
	$PY "$REF_PY" model "$BATS_TEST_TMPDIR/ev.tiny" "$BATS_TEST_TMPDIR/s.tiny" eigvec
	$PY "$REF_PY" model "$BATS_TEST_TMPDIR/cov.tiny" "$BATS_TEST_TMPDIR/s.tiny" cov
	want=$($PY "$REF_PY" expect "$BATS_TEST_TMPDIR/s.tiny" 11)
	[ "$(echo "$want" | wc -l)" -gt 10000 ]
	run kept_and_pairs --threshold 11 "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
	run kept_and_pairs --threshold 11 --dims 8 --model "$BATS_TEST_TMPDIR/ev.tiny" "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
	run kept_and_pairs --threshold 11 --dims 8 "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
	run kept_and_pairs --threshold 11 --dims 4 --model "$BATS_TEST_TMPDIR/cov.tiny" "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
}

@test "--against on 2500 records against 2100 others agrees with NumPy" {
	npy_ok
	$PY "$REF_PY" plant "$BATS_TEST_TMPDIR/a.tiny" 2500 3 4 4 5 1
	$PY "$REF_PY" plant "$BATS_TEST_TMPDIR/b.tiny" 2100 3 4 4 5 2
	want=$($PY "$REF_PY" expect "$BATS_TEST_TMPDIR/a.tiny" 10 "$BATS_TEST_TMPDIR/b.tiny")
	[ "$(echo "$want" | wc -l)" -gt 1000 ]
	run kept_and_pairs --threshold 10 --against "$BATS_TEST_TMPDIR/b.tiny" "$BATS_TEST_TMPDIR/a.tiny"
	assert_output "$want"
}
