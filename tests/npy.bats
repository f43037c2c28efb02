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

@test "several fields come out as a .npz NumPy opens; a model's fields without the record axis" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	small >"$T/s.tiny"
	small --unknown | tiny-npy x,label >"$T/s.npz"
	echo "1 2 3 4 5 6  0.5 -1 2  9 8" | mkstream 'W f32 [3,2]' 'vbias f32 [3]' 'hbias f64 [2]' >"$T/m.tiny"
	tiny-npy W,hbias "$T/m.tiny" >"$T/m.npz"
	tiny-npy W "$T/m.tiny" >"$T/w.npy"
	tiny-npy x "$T/s.tiny" | head -c 0   # a data set keeps its axis (below)
	$PY -c '
import sys, numpy as np
z = np.load(sys.argv[1])
assert sorted(z.files) == ["label", "x"], z.files
assert z["x"].shape == (2, 2) and z["x"].tolist() == [[1.5, 2], [3, 4]], z["x"]
assert z["label"].dtype == np.uint8 and z["label"].tolist() == [0, 1]
m = np.load(sys.argv[2])
assert m["W"].shape == (3, 2) and m["W"].tolist() == [[1, 2], [3, 4], [5, 6]], m["W"]
assert m["hbias"].dtype == np.float64 and m["hbias"].tolist() == [9, 8]
assert np.load(sys.argv[3]).shape == (3, 2)
' "$T/s.npz" "$T/m.npz" "$T/w.npy"
	run -2 --separate-stderr tiny-npy x,x "$T/s.tiny"
	[ "${stderr_lines[0]}" = "tiny-npy: x,x: field 'x' named twice" ]
}
