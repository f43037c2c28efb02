#!/usr/bin/env bats
# tiny-label-filter: keep or drop classes, renumber, cap per class, superclasses.

load helpers/common

setup() {
	# labels 0..3 named a b c d, x = the record's index
	mkstream --attr 'classes=a b c d' 'label u8 []' 'x i32 []' >"$BATS_TEST_TMPDIR/in.tiny" <<<'
		0 0  1 1  2 2  3 3  2 4  0 5  1 6  2 7  3 8  2 9'
	IN="$BATS_TEST_TMPDIR/in.tiny"
}

@test "--keep and --drop together is a usage error" {
	run -2 tiny-label-filter --keep a --drop b "$IN"
	assert_output --partial "exclude each other"
}

@test "an unknown class name is an error naming the input, the name and its classes, with nothing written" {
	run -1 --separate-stderr tiny-label-filter --keep a,zebra "$IN"
	[[ "$stderr" == "tiny-label-filter: $IN has no class 'zebra' (--keep): its classes are a, b, c, d, or labels 0..3" ]]
	assert_output ""
}

@test "a label number outside the classes is a data error; a negative cap a usage error" {
	run -1 tiny-label-filter --drop 4 "$IN"
	assert_output --partial "has no class '4' (--drop): its classes are a, b, c, d, or labels 0..3"
	run -2 tiny-label-filter --per-class -1 "$IN"
	assert_output --partial "--per-class -1"
}

@test "a record whose label is outside the classes is an error" {
	mkstream --attr 'classes=a b' 'label u8 []' <<<'0 1 5' >"$BATS_TEST_TMPDIR/bad.tiny"
	run -1 --separate-stderr tiny-label-filter --keep a "$BATS_TEST_TMPDIR/bad.tiny"
	[[ "$stderr" == *"record 2 has label 5, outside the 2 classes"* ]]
}

@test "--keep by name keeps those classes in order, renumbered 0..K-1" {
	run bash -c "tiny-label-filter -q --keep c,a '$IN' | tiny-dump"
	assert_output "$(printf 'label=0 x=0\nlabel=1 x=2\nlabel=1 x=4\nlabel=0 x=5\nlabel=1 x=7\nlabel=1 x=9')"
	run bash -c "tiny-label-filter -q --keep c,a '$IN' | tiny-info --json | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j[\"attributes\"][\"classes\"][0], j[\"count\"])'"
	assert_output "a c None"
}

@test "--drop by number removes that class and renumbers the rest" {
	run bash -c "tiny-label-filter -q --drop 0,2 '$IN' | tiny-dump"
	assert_output "$(printf 'label=0 x=1\nlabel=1 x=3\nlabel=0 x=6\nlabel=1 x=8')"
}

@test "--per-class N keeps the first N records of each class" {
	run bash -c "tiny-label-filter -q --per-class 1 '$IN' | tiny-dump --fields x"
	assert_output "$(printf 'x=0\nx=1\nx=2\nx=3')"
}

@test "without options records, count and classes pass through and history grows" {
	run bash -c "tiny-label-filter -q '$IN' | tiny-info --json | $PY -c 'import json,sys; j=json.load(sys.stdin); a=j[\"attributes\"]; print(j[\"count\"], a[\"classes\"][0], a[\"history\"][-1])'"
	assert_output "10 a b c d tiny-label-filter -q $IN"
}

@test "it reports how many records it kept on stderr, and -q silences it" {
	run --separate-stderr tiny-label-filter --keep b "$IN"
	[[ "$stderr" == "tiny-label-filter: kept 2 of 10 records" ]]
	run --separate-stderr tiny-label-filter -q --keep b "$IN"
	[ -z "$stderr" ]
}

@test "--coarse makes the superclass the label and keeps the fine one" {
	mkstream --attr 'classes=f0 f1 f2 f3' --attr 'coarse_classes=c0 c1' \
		'coarse u8 []' 'label u8 []' 'x u8 []' >"$BATS_TEST_TMPDIR/c100.tiny" <<<'0 0 10  1 2 11  1 3 12  0 1 13'
	run bash -c "tiny-label-filter -q --coarse --keep c1 '$BATS_TEST_TMPDIR/c100.tiny' | tiny-dump"
	assert_output "$(printf 'label=0 fine=2 x=11\nlabel=0 fine=3 x=12')"
	run bash -c "tiny-label-filter -q --coarse '$BATS_TEST_TMPDIR/c100.tiny' | tiny-info --json | $PY -c 'import json,sys; a=json.load(sys.stdin)[\"attributes\"]; print(a[\"classes\"][0], \"/\", a[\"fine_classes\"][0])'"
	assert_output "c0 c1 / f0 f1 f2 f3"
}

@test "--coarse on a stream without a coarse field is an error" {
	run -1 --separate-stderr tiny-label-filter --coarse "$IN"
	[[ "$stderr" == *"needs a 'coarse' field"* ]]
	assert_output ""
}

@test "a stream without a label field is an error naming the input" {
	mkstream 'x u8 []' <<<'1 2' >"$BATS_TEST_TMPDIR/nolabel.tiny"
	run -1 tiny-label-filter --keep 0 "$BATS_TEST_TMPDIR/nolabel.tiny"
	assert_output "tiny-label-filter: $BATS_TEST_TMPDIR/nolabel.tiny: no field 'label' in the stream (its fields: x)"
}

@test "labels of a wider integer dtype are renumbered in place" {
	mkstream --attr 'classes=a b c' 'label i32 []' <<<'2 0 2 1' >"$BATS_TEST_TMPDIR/i32.tiny"
	run bash -c "tiny-label-filter -q --keep 2 '$BATS_TEST_TMPDIR/i32.tiny' | tiny-dump"
	assert_output "$(printf 'label=0\nlabel=0')"
}
