#!/usr/bin/env bats
# tiny-dump: records as text, exactly.

load helpers/common

@test "values round-trip through tiny-dump exactly, from a file, stdin and a pipe" {
	small >"$BATS_TEST_TMPDIR/s.tiny"
	local want=$'label=0 x=1.5,2\nlabel=1 x=3,4'
	run -0 tiny-dump "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
	run -0 tiny-dump <"$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
	run -0 via_pipe "$BATS_TEST_TMPDIR/s.tiny" tiny-dump
	assert_output "$want"
	run -0 tiny-dump --head 1 --fields x "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "x=1.5,2"
}

@test "every dtype round-trips at its limits" {
	mkstream 'a u8 []' 'b i32 [2]' 'c u32 []' 'd i64 [2]' 'e f32 []' 'f f64 []' >"$BATS_TEST_TMPDIR/d.tiny" <<<'
		255 -2147483648 2147483647 4294967295 -9223372036854775808 9223372036854775807 0.1 0.1'
	run -0 tiny-dump "$BATS_TEST_TMPDIR/d.tiny"
	assert_output "a=255 b=-2147483648,2147483647 c=4294967295 d=-9223372036854775808,9223372036854775807 e=0.100000001 f=0.10000000000000001"
	# 1 + 8 + 4 + 16 + 4 + 8 bytes, packed without padding
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/d.tiny")" == "TINY 1 192" ]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/d.tiny")" -eq $((192 + 41)) ]
}

@test "a field the stream lacks is a data error (exit 1) listing the fields it has, not a usage error" {
	small >"$BATS_TEST_TMPDIR/s.tiny"
	run -1 --separate-stderr tiny-dump --fields x,y "$BATS_TEST_TMPDIR/s.tiny"
	[ "$stderr" = "tiny-dump: --fields x,y: $BATS_TEST_TMPDIR/s.tiny has no field 'y' (its fields: label, x)" ]
	[ -z "$output" ]
}
