#!/usr/bin/env bats
# tiny-from-text: streams from whitespace-separated numbers.

load helpers/common

@test "no field, or a field that does not parse, is a usage error" {
	run -2 tiny-from-text
	run -2 tiny-from-text 'x u8'
	run -2 tiny-from-text 'x f16 [2]'
}

@test "a value that does not fit its dtype, or input ending inside a record, is an error with nothing written" {
	run -1 --separate-stderr tiny-from-text 'x u8 []' <<<'1 256'
	[[ "$stderr" == "tiny-from-text: '256' is not a u8 value for field x" ]]
	assert_output ""
	run -1 --separate-stderr tiny-from-text 'a i32 []' 'b f32 [2]' <<<'1 2.5 3  4'
	[[ "$stderr" == *"input ends inside a record"* ]]
	run -1 tiny-from-text 'x f64 []' <<<'1 abc'
	assert_output --partial "'abc' is not a number"
}

@test "numbers fill the fields in order, record after record, with count and attributes" {
	run bash -c "tiny-from-text --attr 'classes=a b' 'label u8 []' 'x f32 [2]' <<<'0 1.5 2  1 -3 4e2' | tiny-dump"
	assert_output "$(printf 'label=0 x=1.5,2\nlabel=1 x=-3,400')"
	run bash -c "tiny-from-text --attr 'classes=a b' 'x u8 []' <<<'7' | tiny-info --json"
	assert_output --partial '"count": 1'
	assert_output --partial '"classes": ["a b"]'
	run bash -c "tiny-from-text --unknown 'x u8 []' <<<'7 8' | head -2 | tail -1"
	assert_output "count unknown"
}

@test "a closed stdin is an error, not an empty stream" {
	run -1 --separate-stderr bash -c "tiny-from-text 'x f32 [2]' <&-"
	assert_output ""
	assert_equal "$stderr" "tiny-from-text: stdin: closed; expected a stream on stdin or a FILE argument"
}

@test "a malformed field argument is a usage error naming it, by the header's own field rules" {
	local a
	for a in 'x u8 23' 'x u8 [3' 'x u8 [0]' 'x u8 [03]' 'x q8 [2]' '9x u8 [2]' 'x u8' 'x u8 [1,2,3,4,5]'; do
		run -2 --separate-stderr tiny-from-text "$a" <<<'1 2 3'
		assert_output ""
		[[ "${stderr_lines[0]}" == "tiny-from-text: '$a': "* ]] || { echo "$a: $stderr"; return 1; }
	done
	run -2 --separate-stderr tiny-from-text 'x u8 [3' <<<'1 2 3'
	[ "${stderr_lines[0]}" = "tiny-from-text: 'x u8 [3': field 'x': shape must be [] or [D0,D1,...]" ]
	run -0 tiny-from-text 'x u8 [3]' 'y f32 []' <<<'1 2 3 4.5'
}
