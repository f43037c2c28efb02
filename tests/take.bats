#!/usr/bin/env bats
# tiny-take: records by number, in the order asked.

load helpers/common

setup() {
	seq 0 9 | mkstream 'x i32 []' >"$BATS_TEST_TMPDIR/ten.tiny"
	T="$BATS_TEST_TMPDIR/ten.tiny"
}

@test "none or two of --first, --index and --from is a usage error" {
	run -2 tiny-take "$T"
	run -2 tiny-take --first 1 --index 2 "$T"
	run -2 tiny-take --from "$T" "$T"
	assert_output --partial "--from and --fields go together"
	run -2 tiny-take --index 1,x "$T"
	run -2 tiny-take --first -1 "$T"
}

@test "an index past the end is an error, with nothing written, from a file and a pipe" {
	run -1 --separate-stderr tiny-take --index 2,10 "$T"
	[[ "$stderr" == "tiny-take: $T: record 10 asked for, but the stream has 10" ]]
	assert_output ""
	run -1 --separate-stderr bash -c "cat '$T' | tiny-take --index 12"
	[[ "$stderr" == *"record 12 asked for"* ]]
}

@test "--index takes records in the order given, repeats included, from a file and a pipe" {
	run bash -c "tiny-take --index 7,2,7 '$T' | tiny-dump"
	assert_output "$(printf 'x=7\nx=2\nx=7')"
	run bash -c "cat '$T' | tiny-take --index 7,2,7 | tiny-dump"
	assert_output "$(printf 'x=7\nx=2\nx=7')"
}

@test "--first N is a head, and a shorter stream gives what it has" {
	run bash -c "tiny-take --first 3 '$T' | tiny-dump | tr '\n' ' '"
	assert_output "x=0 x=1 x=2 "
	run bash -c "tiny-take --first 30 '$T' | tiny-info --json | grep -o '\"count\": [0-9]*'"
	assert_output '"count": 10'
}

@test "--from takes the records named by fields of another stream, pair by pair" {
	mkstream 'i i64 []' 'j i64 []' 'dist f32 []' <<<'1 4 0.5  3 9 2' >"$BATS_TEST_TMPDIR/pairs.tiny"
	run bash -c "tiny-take --from '$BATS_TEST_TMPDIR/pairs.tiny' --fields i,j '$T' | tiny-dump | tr '\n' ' '"
	assert_output "x=1 x=4 x=3 x=9 "
	run -1 tiny-take --from "$BATS_TEST_TMPDIR/pairs.tiny" --fields dist "$T"
	assert_output --partial "field 'dist' is not one integer"
}
