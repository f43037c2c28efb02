#!/usr/bin/env bats
# tiny-from-npy: NumPy .npy and .npz arrays as a stream.

load helpers/common

@test "what tiny-npy writes comes back the same: data by records, a model whole" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	tiny-fetch -q synthetic --count 50 >"$T/d.tiny"
	tiny-npy x,label "$T/d.tiny" | tiny-from-npy --attr "classes=$(tiny-info "$T/d.tiny" | awk '$2 == "classes" { $1 = $2 = ""; print substr($0, 3) }')" >"$T/back.tiny"
	diff <(tiny-dump --fields label,x "$T/d.tiny") <(tiny-dump --fields label,x "$T/back.tiny")
	run -0 tiny-info "$T/back.tiny"
	assert_line "attr classes hbar vbar slash backslash plus cross ring square triangle vee"
	tiny-npy x "$T/d.tiny" >"$T/x.npy"
	run -0 bash -c "tiny-from-npy --field img '$T/x.npy' | tiny-info -q"
	assert_line "field img u8 [3,32,32]"
	echo "1 2 3 4 5 6  0.5 -1 2  9 8  1 1 1" | mkstream 'W f32 [3,2]' 'vbias f32 [3]' 'hbias f32 [2]' 'sigma f32 [3]' >"$T/m.rbm"
	tiny-npy W,vbias,hbias,sigma "$T/m.rbm" | tiny-from-npy --model --attr rbm_visible=gaussian >"$T/m2.rbm"
	diff <(tiny-dump "$T/m.rbm") <(tiny-dump "$T/m2.rbm")
	# and it is an RBM to the programs that use one
	echo "0.5 1 1.5" | mkstream 'x f32 [3]' | tiny-features "$T/m2.rbm" >/dev/null
}

@test "numpy.savez and savez_compressed files, from a file or a pipe" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	$PY -c "
import numpy as np
np.savez('$T/t.npz', a=np.arange(6, dtype='<f4').reshape(3, 2), b=np.array([7, 8, 9], dtype='<i8'))
np.savez_compressed('$T/c.npz', a=np.arange(6, dtype='<f8').reshape(3, 2))
"
	run -0 bash -c "tiny-from-npy '$T/t.npz' | tiny-dump"
	assert_output $'a=0,1 b=7\na=2,3 b=8\na=4,5 b=9'
	run -0 bash -c "cat '$T/c.npz' | tiny-from-npy | tiny-dump"
	assert_output $'a=0,1\na=2,3\na=4,5'
}

@test "arrays it cannot take are refused naming the array and why" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	$PY -c "
import numpy as np
np.save('$T/bool.npy', np.array([True, False]))
np.save('$T/big.npy', np.arange(3, dtype='>f4'))
np.save('$T/f.npy', np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
np.savez('$T/n.npz', a=np.zeros(3, dtype='<f4'), b=np.zeros(4, dtype='<f4'))
np.save('$T/s.npy', np.float32(3))
open('$T/x.npy', 'wb').write(b'not numpy')
"
	run -1 --separate-stderr tiny-from-npy "$T/bool.npy"
	[ "$stderr" = "tiny-from-npy: $T/bool.npy: dtype '|b1'; expected one of |u1, <i4, <u4, <i8, <f4, <f8" ]
	run -1 --separate-stderr tiny-from-npy "$T/big.npy"
	[ "$stderr" = "tiny-from-npy: $T/big.npy: dtype '>f4'; expected one of |u1, <i4, <u4, <i8, <f4, <f8" ]
	run -1 --separate-stderr tiny-from-npy "$T/f.npy"
	[ "$stderr" = "tiny-from-npy: $T/f.npy: Fortran order; save it in C order (numpy.ascontiguousarray)" ]
	run -1 --separate-stderr tiny-from-npy "$T/n.npz"
	[ "$stderr" = "tiny-from-npy: $T/n.npz: array b has 4 records along its first axis, a has 3" ]
	run -1 --separate-stderr tiny-from-npy "$T/s.npy"
	[[ "$stderr" == "tiny-from-npy: $T/s.npy: array x is a scalar"* ]]
	run -0 bash -c "tiny-from-npy --model '$T/s.npy' | tiny-dump"
	assert_output "x=3"
	run -1 --separate-stderr tiny-from-npy "$T/x.npy"
	[[ "$stderr" == "tiny-from-npy: $T/x.npy: not a .npy array"* ]]
	[ -z "$output" ]
}
