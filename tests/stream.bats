#!/usr/bin/env bats
# The stream format (formats/stream.md) as the stages read and write it:
# first every validation rule on its bad fixture (tests/fixtures/bad, made by
# tests/fixtures/make-bad.sh), then exact small cases.

load helpers/common

BAD="$FIXTURES/bad"

# rejected INPUT WORD: after `run --separate-stderr tiny-info ...`: exit 1
# (checked by run -1), nothing on stdout, and exactly one line on stderr,
# "tiny-info: INPUT: ...", holding WORD.
rejected() {
	assert_output ""
	[[ "$stderr" != *$'\n'* ]] || { echo "more than one line on stderr: $stderr"; return 1; }
	[[ "$stderr" == "tiny-info: $1: "* ]] || { echo "stderr does not name $1: $stderr"; return 1; }
	[[ "$stderr" == *"$2"* ]] || { echo "stderr does not say '$2': $stderr"; return 1; }
}

# bad NAME WORD: tiny-info rejects $BAD/NAME.tiny as a file, on stdin
# redirected from the file (checked at open), and through a pipe (checked
# while reading), each time with a message holding WORD.
bad() {
	local f="$BAD/$1.tiny"
	[ -f "$f" ] || { echo "no fixture $f"; return 1; }
	run -1 --separate-stderr tiny-info "$f"
	rejected "$f" "$2"
	run -1 --separate-stderr tiny-info <"$f"
	rejected stdin "$2"
	run -1 --separate-stderr via_pipe "$f" tiny-info
	rejected stdin "$2"
}

# --- bad input: one fixture per rule ------------------------------------------

@test "bad: the magic is not TINY" { bad magic "magic 'TINY'"; }
@test "bad: version 2" { bad version "unsupported version 2"; }
@test "bad: a first line without a length" { bad first-line "first line is not 'TINY VERSION LENGTH'"; }
@test "bad: header length not a multiple of 64" { bad hdrlen-not-64 "header length 100 is not a multiple of 64"; }
@test "bad: header length not a number" { bad hdrlen-not-number "header length 'sixtyfour' is not a number"; }
@test "bad: header length over 1 MiB" { bad hdrlen-too-big "header length '1048640' is not a number from 64 to 1048576"; }
@test "bad: the input ends inside the header" { bad truncated-header "truncated header: 100 of 128 bytes"; }
@test "bad: no end line" { bad no-end "no 'end' line within the 64 header bytes"; }
@test "bad: padding after end that is not newlines" { bad padding "padding after 'end' must be newlines only"; }
@test "bad: a control character in a header line" { bad control-char "line 4: control character 0x09"; }
@test "bad: no count line" { bad no-count "no 'count' line"; }
@test "bad: two count lines" { bad count-twice "line 3: a second 'count' line"; }
@test "bad: count after a field" { bad count-after-field "line 2: no 'count' line before the fields"; }
@test "bad: a field after an attribute" { bad field-after-attr "line 4: a field after the attributes"; }
@test "bad: count not a number" { bad count-not-number "count 'one' is not a number"; }
@test "bad: count not below 2^62" { bad count-too-big "count '4611686018427387904' is not a number below 2^62"; }
@test "bad: count x record size over 2^62" { bad count-overflow "x record size overflows the limit of 2^62"; }
@test "bad: no fields" { bad no-fields "no fields"; }
@test "bad: an unknown dtype" { bad dtype "unknown dtype 'f16'"; }
@test "bad: rank 5" { bad rank "rank exceeds the limit of 4"; }
@test "bad: a dimension 0" { bad dim-zero "dimension '0' is not a number from 1 to 2147483647"; }
@test "bad: a dimension 2^31" { bad dim-too-big "dimension '2147483648'"; }
@test "bad: a dimension with a leading zero" { bad dim-leading-zero "dimension '02'"; }
@test "bad: a malformed shape" { bad shape-syntax "shape must be [] or [D0,D1,...]"; }
@test "bad: a record over 2^34 bytes" { bad record-too-big "record size exceeds the limit of 17179869184 bytes"; }
@test "bad: a field name starting with a digit" { bad field-name "field name '2x'"; }
@test "bad: a field name of 33 characters" { bad field-name-long "field name 'abcdefghijklmnopqrstuvwxyzABCDEFG'"; }
@test "bad: a field declared twice" { bad field-twice "field 'x' is declared twice"; }
@test "bad: 65 fields" { bad too-many-fields "more than 64 fields"; }
@test "bad: an attribute name starting with a digit" { bad attr-name "attribute name '9lives'"; }
@test "bad: a line that is none of count, field, attr, end" { bad unknown-line "unknown line 'note hello'"; }
@test "bad: count unknown and a partial last record" { bad truncated-record "truncated last record: 2 of 4 bytes"; }
@test "bad: count unknown without the trailer" { bad no-trailer "ends without its trailer, after 3 records and 0 bytes"; }
@test "bad: count unknown, a trailer with another count" { bad trailer-count "the trailer counts 2 records, the stream holds 3"; }
@test "bad: fewer records than the count" { bad fewer-records "the header promises 3 records"; }
@test "bad: data after the last counted record" { bad trailing-data "data after the last of 1 records"; }

@test "every bad fixture has its test above, and make-bad.sh makes exactly them" {
	local f name
	for f in "$BAD"/*; do
		name=${f##*/}
		[[ $name == *.tiny ]] || { echo "not a .tiny fixture: $name"; return 1; }
		grep -qE "^@test .*\{ bad ${name%.tiny} " "$BATS_TEST_FILENAME" || {
			echo "no test for $name"
			return 1
		}
	done
	"$FIXTURES/make-bad.sh" "$BATS_TEST_TMPDIR/bad"
	diff -r "$BATS_TEST_TMPDIR/bad" "$BAD"
}

@test "bad: empty input, on stdin and as a file" {
	run -1 --separate-stderr tiny-info </dev/null
	rejected stdin "empty input"
	: >"$BATS_TEST_TMPDIR/empty.tiny"
	run -1 --separate-stderr tiny-info "$BATS_TEST_TMPDIR/empty.tiny"
	rejected "$BATS_TEST_TMPDIR/empty.tiny" "empty input"
	run -1 --separate-stderr via_pipe "$BATS_TEST_TMPDIR/empty.tiny" tiny-info
	rejected stdin "empty input"
}

@test "bad: a missing file is named, with its error" {
	run -1 --separate-stderr tiny-info "$BATS_TEST_TMPDIR/absent.tiny"
	rejected "$BATS_TEST_TMPDIR/absent.tiny" "No such file"
}

@test "bad: tiny-dump, tiny-npy and tiny-info --json write nothing on stdout for any bad fixture" {
	local f
	for f in "$BAD"/*.tiny; do
		run -1 --separate-stderr tiny-dump "$f"
		assert_output ""
		[[ "$stderr" == "tiny-dump: $f: "* ]]
		run -1 --separate-stderr via_pipe "$f" tiny-dump
		assert_output ""
		[[ "$stderr" == "tiny-dump: stdin: "* ]]
		run -1 --separate-stderr via_pipe "$f" tiny-npy x
		assert_output ""
		[[ "$stderr" == "tiny-npy: stdin: "* ]]
	done
	# --json reads no record, so through a pipe only header rules apply
	for f in "$BAD"/*.tiny; do
		case ${f##*/} in truncated-record.* | fewer-records.* | trailing-data.* | no-trailer.* | trailer-count.*) continue ;; esac
		run -1 --separate-stderr via_pipe "$f" tiny-info --json
		assert_output ""
	done
}

@test "usage errors exit 2 with a usage line" {
	run -2 --separate-stderr tiny-dump --head -3
	assert_output ""
	[[ "$stderr" == *"--head -3: expected an integer from 0"* ]]
	[[ "$stderr" == *"usage: tiny-dump "* ]]
	run -2 --separate-stderr tiny-dump --head abc
	[[ "$stderr" == *"--head abc"* && "$stderr" == *"usage: tiny-dump "* ]]
	run -2 --separate-stderr tiny-info --bogus
	assert_output ""
	[[ "$stderr" == *"'--bogus'"* && "$stderr" == *"usage: tiny-info "* ]]
	run -2 --separate-stderr tiny-info a b
	[[ "$stderr" == *"at most one input file"* && "$stderr" == *"usage: tiny-info "* ]]
	run -2 --separate-stderr tiny-npy
	[[ "$stderr" == "usage: tiny-npy "* ]]
}

# --- exact small cases ---------------------------------------------------------

@test "the header is text padded with newlines to a multiple of 64" {
	small >"$BATS_TEST_TMPDIR/s.tiny"
	local text=$'TINY 1 128\ncount 2\nfield label u8 []\nfield x f32 [2]\nattr kind labelled-data\nend\n'
	[ "$(head -c ${#text} "$BATS_TEST_TMPDIR/s.tiny")" == "${text%$'\n'}" ]
	[ "$(head -c 128 "$BATS_TEST_TMPDIR/s.tiny" | tail -c $((128 - ${#text})) | tr -d '\n' | wc -c)" -eq 0 ]
	[ "$(head -c 129 "$BATS_TEST_TMPDIR/s.tiny" | tail -c 1 | od -An -tu1 | tr -d ' ')" -eq 0 ]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/s.tiny")" -eq $((128 + 2 * 9)) ]
	# a longer header takes the next multiple, and its first line says so
	small --attr "note=$(printf 'n%.0s' {1..60})" >"$BATS_TEST_TMPDIR/l.tiny"
	[ "$(head -n 1 "$BATS_TEST_TMPDIR/l.tiny")" == "TINY 1 192" ]
	[ "$(wc -c <"$BATS_TEST_TMPDIR/l.tiny")" -eq $((192 + 2 * 9)) ]
	[ "$(head -c 192 "$BATS_TEST_TMPDIR/l.tiny" | tail -c 1 | od -An -c | tr -d ' ')" == '\n' ]
	run -0 tiny-dump "$BATS_TEST_TMPDIR/l.tiny"
	assert_output $'label=0 x=1.5,2\nlabel=1 x=3,4'
}

@test "count unknown: read whole from a file, stdin and a pipe" {
	small --unknown >"$BATS_TEST_TMPDIR/u.tiny"
	[ "$(sed -n 2p "$BATS_TEST_TMPDIR/u.tiny")" == "count unknown" ]
	local want=$'label=0 x=1.5,2\nlabel=1 x=3,4'
	run -0 tiny-dump "$BATS_TEST_TMPDIR/u.tiny"
	assert_output "$want"
	run -0 via_pipe "$BATS_TEST_TMPDIR/u.tiny" tiny-dump
	assert_output "$want"
	run -0 bash -c 'mkstream --unknown "label u8 []" "x f32 [2]" <<<"0 1.5 2  1 3 4" | tiny-dump'
	assert_output "$want"
	run -0 via_pipe "$BATS_TEST_TMPDIR/u.tiny" tiny-info
	assert_line --index 1 "count unknown"
	assert_line "records 2"
	# zero records of unknown count are a valid, empty stream
	mkstream --unknown 'x u8 []' </dev/null >"$BATS_TEST_TMPDIR/e.tiny"
	run -0 via_pipe "$BATS_TEST_TMPDIR/e.tiny" tiny-dump
	assert_output ""
}

@test "the NumPy recipe of formats/stream.md reads what tiny-dump prints" {
	npy_ok
	mkstream 'label u8 []' 'x f32 [2]' 'idx i64 []' >"$BATS_TEST_TMPDIR/s.tiny" <<<'
		0 1.5 2 10  1 3 4 11  7 -0.25 1e30 -12'
	run -0 tiny-dump "$BATS_TEST_TMPDIR/s.tiny"
	local want=$output
	run -0 $PY -c '
import sys, numpy as np
path = sys.argv[1]
with open(path, "rb") as f:
    magic, version, hdrlen = f.readline().split()
    f.seek(0)
    lines = f.read(int(hdrlen)).decode().split("\n")
assert magic == b"TINY" and version == b"1"
np_type = {"u8": "u1", "i32": "<i4", "u32": "<u4", "i64": "<i8", "f32": "<f4", "f64": "<f8"}
fields = []
for line in lines:
    if line.startswith("field "):
        _, name, dtype, shape = line.split(" ")
        dims = tuple(int(d) for d in shape[1:-1].split(",") if d)
        fields.append((name, np_type[dtype], dims))
dt = np.dtype(fields)
assert dt == np.dtype([("label", "u1"), ("x", "<f4", (2,)), ("idx", "<i8")]), dt
data = np.fromfile(path, dtype=dt, offset=int(hdrlen))
for r in data:
    print("label=%d x=%s idx=%d" % (r["label"], ",".join("%.9g" % v for v in r["x"]), r["idx"]))
' "$BATS_TEST_TMPDIR/s.tiny"
	assert_output "$want"
	[ "${#lines[@]}" -eq 3 ]
}

@test "a reader that closes early ends the stage quietly" {
	seq 0 199999 | mkstream 'x i32 []' >"$BATS_TEST_TMPDIR/big.tiny"
	run -0 --separate-stderr bash -c 'tiny-dump "$1" | head -c 12' _ "$BATS_TEST_TMPDIR/big.tiny"
	assert_output $'x=0\nx=1\nx=2'
	[ -z "$stderr" ]
	run -0 --separate-stderr bash -c 'cat "$1" | tiny-dump | head -c 12' _ "$BATS_TEST_TMPDIR/big.tiny"
	assert_output $'x=0\nx=1\nx=2'
	[ -z "$stderr" ]
	run -0 --separate-stderr bash -c 'tiny-npy x "$1" | head -c 6 | od -An -c' _ "$BATS_TEST_TMPDIR/big.tiny"
	[[ "$output" == *"N   U   M   P   Y"* ]]
	[ -z "$stderr" ]
}

@test "a closed stdin is named, and a file opened then is not read as stdin" {
	tiny-fetch -q synthetic --count 20 --seed 1 >"$BATS_TEST_TMPDIR/s.tiny"
	run -1 --separate-stderr bash -c "tiny-info <&-"
	assert_equal "$stderr" "tiny-info: stdin: closed; expected a stream on stdin or a FILE argument"
	# tiny-zca's model is opened first and would take fd 0
	tiny-cov -q "$BATS_TEST_TMPDIR/s.tiny" | tiny-zca -q --fit --epsilon 1 >"$BATS_TEST_TMPDIR/z.tiny"
	run -1 --separate-stderr bash -c "tiny-zca '$BATS_TEST_TMPDIR/z.tiny' <&-"
	assert_output ""
	assert_equal "$stderr" "tiny-zca: stdin: closed; expected a stream on stdin or a FILE argument"
	# and a closed stdout makes writing fail, not vanish
	run -1 --separate-stderr bash -c "tiny-info '$BATS_TEST_TMPDIR/s.tiny' >&-"
	assert_equal "$stderr" "tiny-info: stdout: write error: Bad file descriptor"
}

@test "out of memory for a record names the input whose header asked for it" {
	# a header promising one record of 1.6 GB, read under a 1 GB address-space limit
	printf 'TINY 1 128\ncount 1\nfield W f32 [20000,20000]\nend\n' >"$BATS_TEST_TMPDIR/h"
	head -c 128 < <(cat "$BATS_TEST_TMPDIR/h" - </dev/zero | tr '\0' '\n') >"$BATS_TEST_TMPDIR/huge.hdr"
	run -1 --separate-stderr bash -c "ulimit -v 1000000; cat '$BATS_TEST_TMPDIR/huge.hdr' | tiny-dump"
	assert_equal "$stderr" "tiny-dump: out of memory allocating 1600000000 bytes (the last input opened, stdin, has records of 1600000000 bytes)"
}

@test "a cut anywhere in a stream, through any chain of stages, fails the last reader" {
	local f="$BATS_TEST_TMPDIR/s.tiny" cut chain
	tiny-fetch -q synthetic --count 400 >"$f"
	local size hl=320 R=3073
	size=$(stat -c %s "$f")
	[ "$(head -n 1 "$f")" == "TINY 1 $hl" ]
	# every chain succeeds on the whole stream
	local chains=("tiny-label-filter --keep hbar,vbar,plus"
		"tiny-label-filter --drop ring | tiny-patchify --size 8 --stride 8"
		"tiny-take --first 300 | tiny-label-filter --keep ring | tiny-take --first 20"
		"tiny-patchify --size 6 --random 2 --normalize 10")
	local whole=()
	for chain in "${chains[@]}"; do
		run -0 --separate-stderr bash -c "cat '$f' | $chain | tiny-dump --fields label | md5sum"
		whole+=("$output")
	done
	# cuts: inside the header, on record boundaries (where a filter's output
	# can end on a boundary of its own), inside records, one byte short.
	# The last reader must fail (no pipefail: it alone), except where the
	# chain never needed the part cut off (tiny-take --first 300 of 333
	# records) and its output is exactly the whole stream's.
	local i failed=0 passed=0
	for cut in 0 100 $hl $((hl + R)) $((hl + 37 * R)) $((hl + 100 * R + 1)) $((hl + 211 * R)) \
		$((hl + 256 * R)) $((hl + 333 * R + 1000)) $((hl + 399 * R)) $((size - 1)); do
		for i in "${!chains[@]}"; do
			chain=${chains[$i]}
			run bash -c "head -c $cut '$f' | $chain 2>/dev/null | tiny-info"
			if [ "$status" -eq 0 ]; then
				run -0 --separate-stderr bash -c "head -c $cut '$f' | $chain | tiny-dump --fields label | md5sum"
				[ "$output" == "${whole[$i]}" ] || { echo "cut $cut through '$chain' passed as a stream"; return 1; }
				[[ $chain == "tiny-take --first 300"* ]] && ((cut > hl + 300 * R)) ||
					{ echo "cut $cut through '$chain' was not detected"; return 1; }
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
			fi
		done
	done
	[ "$passed" -eq 3 ] && [ "$failed" -eq 41 ]
}

@test "count unknown: the trailer is written once, at the end, and checked on a file and a pipe" {
	mkstream --unknown 'x u8 [4]' <<<'1 2 3 4  5 6 7 8' >"$BATS_TEST_TMPDIR/u.tiny"
	# 64 header bytes, 2 records of 4, the trailer: TINYEND\n and 2 as u64
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/u.tiny")" -eq $((64 + 8 + 16)) ]
	[ "$(tail -c 16 "$BATS_TEST_TMPDIR/u.tiny" | od -An -tx1 | tr -d ' \n')" == 54494e59454e440a0200000000000000 ]
	# a second stream's records after the trailer are caught: the trailer is not last
	cat "$BATS_TEST_TMPDIR/u.tiny" <(tail -c 24 "$BATS_TEST_TMPDIR/u.tiny") >"$BATS_TEST_TMPDIR/two.tiny"
	run -1 tiny-info "$BATS_TEST_TMPDIR/two.tiny"
	assert_output --partial "the trailer counts 2 records, the stream holds 8"
	run -1 via_pipe "$BATS_TEST_TMPDIR/two.tiny" tiny-info
	assert_output --partial "the trailer counts 2 records, the stream holds 8"
	# NumPy's loader leaves the trailer out and rejects a stream without it
	npy_ok
	run -0 $PY -c 'import sys; sys.path.insert(0, "formats"); from tiny_stream import load
print(load(sys.argv[1])["x"].tolist())' "$BATS_TEST_TMPDIR/u.tiny"
	assert_output "[[1, 2, 3, 4], [5, 6, 7, 8]]"
	head -c 72 "$BATS_TEST_TMPDIR/u.tiny" >"$BATS_TEST_TMPDIR/cut.tiny"
	run -1 $PY -c 'import sys; sys.path.insert(0, "formats"); from tiny_stream import load; load(sys.argv[1])' \
		"$BATS_TEST_TMPDIR/cut.tiny"
	assert_output --partial "without its trailer"
}
