#!/usr/bin/env bats
# formats/tiny_stream.py both ways: a Python stage between two tiny stages.

load helpers/common

@test "a Python stage reads a pipe, keeps the attributes and writes a count-unknown stream the next stage reads" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	cat >"$T/stage.py" <<PY
import sys
sys.path.insert(0, "$TINY_ROOT/formats")
import numpy as np
import tiny_stream
s = tiny_stream.read("-")
assert s.attr("classes").split()[0] == "hbar", s.attrs
keep = s.records[s.records["label"] < 3]
fields = [("label", "u8", ()), ("x", "f32", (3, 32, 32))]
with tiny_stream.Writer("-", fields, attrs=s.attrs, history="stage.py") as w:
    w.write({"label": keep["label"], "x": keep["x"] / 255.0})
PY
	run -0 --separate-stderr bash -c "tiny-fetch -q synthetic --count 100 | $PY '$T/stage.py' | tiny-info"
	assert_line "count unknown"
	assert_line --regexp '^records 3[0-9]$'
	assert_line --partial "attr history stage.py"
	assert_line --partial "attr classes hbar vbar"
	# and into a stage that computes: the covariance of what Python wrote
	run -0 bash -c "tiny-fetch -q synthetic --count 100 | $PY '$T/stage.py' | tiny-cov -q | tiny-info -q"
	assert_line "field cov f64 [3072,3072]"
}

@test "the writer writes a file whole or not at all, and a known count is held to" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	cd "$T"
	run -0 $PY -c "
import sys; sys.path.insert(0, '$TINY_ROOT/formats')
import numpy as np, tiny_stream
with tiny_stream.Writer('m.tiny', [('W', 'f32', (2, 3))], count=1, history='py') as w:
    w.write({'W': np.arange(6, dtype='f4').reshape(1, 2, 3)})
s = tiny_stream.read('m.tiny')
assert s.model()['W'].shape == (2, 3)
try:
    with tiny_stream.Writer('bad.tiny', [('W', 'f32', (2,))], count=2) as w:
        w.write({'W': np.zeros((1, 2), dtype='f4')})
except ValueError as e:
    print(e)
"
	assert_output "wrote 1 of the 2 records the header promised"
	[ ! -e bad.tiny ] && [ -z "$(ls | grep tmp)" ]
	run -0 tiny-dump m.tiny
	assert_output "W=0,1,2,3,4,5"
	# a truncated pipe is refused, as the tiny programs refuse it
	run -1 bash -c "tiny-fetch -q synthetic --count 10 | tiny-label-filter -q --keep 0,1 | head -c 5000 |
		$PY -c 'import sys; sys.path.insert(0, \"$TINY_ROOT/formats\"); import tiny_stream; tiny_stream.read(\"-\")'"
	assert_output --partial "ends without its trailer (truncated)"
}
