#!/usr/bin/env bats
# tiny-info: the header, the records found, per-field min/max/mean; --json.

load helpers/common

@test "tiny-info --json is JSON with the header's count, fields and attributes" {
	small --attr 'classes=a b' --attr 'note=x "q" \' --attr note=two >"$BATS_TEST_TMPDIR/s.tiny"
	run -0 --separate-stderr tiny-info --json "$BATS_TEST_TMPDIR/s.tiny"
	[ -z "$stderr" ]
	$PY -c '
import json, sys
j = json.loads(sys.argv[1])
assert j["version"] == 1 and j["header_bytes"] == 192 and j["record_bytes"] == 9, j
assert j["count"] == 2, j
assert j["fields"] == [{"name": "label", "dtype": "u8", "shape": []},
                       {"name": "x", "dtype": "f32", "shape": [2]}], j["fields"]
assert j["attributes"] == {"classes": ["a b"], "note": ["x \"q\" \\", "two"], "kind": ["labelled-data"]}, j["attributes"]
' "$output"
	# count unknown is null, on a file and through a pipe
	small --unknown >"$BATS_TEST_TMPDIR/u.tiny"
	run -0 tiny-info --json "$BATS_TEST_TMPDIR/u.tiny"
	$PY -c 'import json, sys; j = json.loads(sys.argv[1]); assert j["count"] is None and len(j["fields"]) == 2, j' "$output"
	run -0 via_pipe "$BATS_TEST_TMPDIR/u.tiny" tiny-info --json
	$PY -c 'import json, sys; j = json.loads(sys.argv[1]); assert j["count"] is None, j' "$output"
}

@test "tiny-info counts and summarises the records" {
	small >"$BATS_TEST_TMPDIR/s.tiny"
	run -0 --separate-stderr tiny-info "$BATS_TEST_TMPDIR/s.tiny"
	[ -z "$stderr" ]
	assert_line --index 1 "count 2"
	assert_line "records 2"
	assert_line --regexp '^label +u8 +\[\] +0 +1 +0\.5$'
	assert_line --regexp '^x +f32 +\[2\] +1\.5 +4 +2\.625$'
}
