#!/usr/bin/env bats
# tiny-npy: one field as a .npy file.

load helpers/common

@test "tiny-npy writes a .npy NumPy loads, for known and unknown count" {
	npy_ok
	small >"$BATS_TEST_TMPDIR/s.tiny"
	small --unknown >"$BATS_TEST_TMPDIR/u.tiny"
	tiny-npy x "$BATS_TEST_TMPDIR/s.tiny" >"$BATS_TEST_TMPDIR/s.npy"
	tiny-npy x <"$BATS_TEST_TMPDIR/u.tiny" >"$BATS_TEST_TMPDIR/u.npy"
	cat "$BATS_TEST_TMPDIR/u.tiny" | tiny-npy x >"$BATS_TEST_TMPDIR/p.npy"
	tiny-npy label "$BATS_TEST_TMPDIR/s.tiny" >"$BATS_TEST_TMPDIR/label.npy"
	$PY -c '
import sys, numpy as np
for path in sys.argv[1:4]:
    a = np.load(path)
    assert a.dtype == np.dtype("<f4") and a.shape == (2, 2), (path, a.dtype, a.shape)
    assert (a == np.array([[1.5, 2], [3, 4]], dtype="<f4")).all(), (path, a)
b = np.load(sys.argv[4])
assert b.dtype == np.uint8 and b.shape == (2,) and b.tolist() == [0, 1], b
' "$BATS_TEST_TMPDIR"/{s,u,p,label}.npy
	# the .npy data starts 64-byte aligned
	[ $(($(wc -c <"$BATS_TEST_TMPDIR/s.npy") - 16)) -eq 128 ]
}

@test "a field the stream does not hold is named with the ones it does" {
	small >"$BATS_TEST_TMPDIR/s.tiny"
	run -1 --separate-stderr tiny-npy X "$BATS_TEST_TMPDIR/s.tiny"
	[ "$stderr" = "tiny-npy: $BATS_TEST_TMPDIR/s.tiny: no field 'X' in the stream (its fields: label, x)" ]
	[ -z "$output" ]
}
