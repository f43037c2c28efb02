#!/usr/bin/env bats
# tiny-zca: whitening and dewhitening models fitted to a covariance.

load helpers/common

# gauss N D SEED: N correlated Gaussian records of D values (f64), labelled
gauss() {
	$PY -c 'import numpy' 2>/dev/null || skip "python3-numpy is absent"
	$PY -c "
import numpy as np, sys
r = np.random.default_rng($3); n, d = $1, $2
a = r.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
x = r.normal(size=(n, d)) @ a * np.linspace(1, 30, d) + 50
for i in range(n): print(i % 7, ' '.join('%.17g' % v for v in x[i]))
" | mkstream 'label u8 []' "x f64 [$2]"
}

# cov of the three points (1,2) (3,6) (5,4): [[4,2],[2,4]], eigenvalues 6 and 2
known() {
	mkstream 'x f64 [2]' <<<'1 2  3 6  5 4' | tiny-cov
}

@test "--fit with --inverse, or --drop without --fit, is a usage error" {
	run -2 tiny-zca --fit --inverse
	run -2 tiny-zca --drop 3 model.tiny
	assert_output --partial "--drop and --epsilon apply to --fit"
	run -2 tiny-zca --fit --epsilon -1
	run -2 tiny-zca
}

@test "--drop of at least D is an error" {
	known >"$BATS_TEST_TMPDIR/k.cov"
	run -1 --separate-stderr tiny-zca --fit --drop 2 "$BATS_TEST_TMPDIR/k.cov"
	[[ "$stderr" == *"--drop 2 leaves nothing: $BATS_TEST_TMPDIR/k.cov has D = 2 directions" ]]
	assert_output ""
}

@test "a singular covariance is an error unless --epsilon regularises it" {
	mkstream 'x f64 [3]' <<<'1 2 3  2 4 6  3 6 9  4 8 12' | tiny-cov >"$BATS_TEST_TMPDIR/s.cov"
	run -1 --separate-stderr tiny-zca -q --fit "$BATS_TEST_TMPDIR/s.cov"
	[[ "$stderr" == *"the covariance is singular: eigenvalue 3 of 3"*"use --epsilon E or --drop K" ]]
	assert_output ""
	run -0 --separate-stderr tiny-zca -q --fit --epsilon 0.1 "$BATS_TEST_TMPDIR/s.cov"
	run -0 --separate-stderr tiny-zca -q --fit --drop 2 "$BATS_TEST_TMPDIR/s.cov"
}

@test "a model applied to data of another size is one clear error" {
	known | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/k.zca"
	mkstream 'x f32 [3]' <<<'1 2 3' >"$BATS_TEST_TMPDIR/d3.tiny"
	run -1 --separate-stderr tiny-zca "$BATS_TEST_TMPDIR/k.zca" "$BATS_TEST_TMPDIR/d3.tiny"
	[[ "$stderr" == "tiny-zca: $BATS_TEST_TMPDIR/k.zca is a model of D = 2 values; $BATS_TEST_TMPDIR/d3.tiny's x has 3" ]]
	assert_output ""
	run -1 tiny-zca "$BATS_TEST_TMPDIR/d3.tiny" "$BATS_TEST_TMPDIR/d3.tiny"
	assert_output "tiny-zca: $BATS_TEST_TMPDIR/d3.tiny: not a tiny-zca model (expected mean f32 [D], W, Winv and eigvec f32 [D,D])"
}

@test "NaN in the data to whiten is rejected with its record number" {
	known | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/k.zca"
	run -1 bash -c "mkstream 'x f32 [2]' <<<'1 2  nan 3' | tiny-zca '$BATS_TEST_TMPDIR/k.zca'"
	assert_output --partial "stdin: record 1 has NaN in field 'x'"
}

@test "the ZCA of [[4,2],[2,4]], by hand" {
	# eigenvalues 6 and 2, eigenvectors (1,1)/sqrt2 and (1,-1)/sqrt2:
	# W = P diag(6^-1/2, 2^-1/2) P^T, Winv = P diag(6^1/2, 2^1/2) P^T
	known | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/k.zca"
	run tiny-dump --fields eigval "$BATS_TEST_TMPDIR/k.zca"
	assert_output --regexp '^eigval=(6|5\.99999999999999[0-9]*|6\.0000000000000[0-9]*),(2|1\.9999999999999[0-9]*|2\.0000000000000[0-9]*)$'
	run tiny-dump --fields mean,W,Winv "$BATS_TEST_TMPDIR/k.zca"
	assert_output "mean=3,4 W=0.557677507,-0.149429247,-0.149429247,0.557677507 Winv=1.93185163,0.517638087,0.517638087,1.93185163"
	# whiten (3,4) + the first eigenvector: 6^-1/2 along it
	run bash -c "mkstream 'x f32 [2]' <<<'3.7071067811865475 4.7071067811865475' | tiny-zca '$BATS_TEST_TMPDIR/k.zca' | tiny-dump | tr '=,' '  '"
	assert_success
	# 6^-1/2 / sqrt2 = 0.2886751 on each axis, within f32 rounding
	awk '{ for (i = 2; i <= 3; i++) if ($i - 0.28867513 > 1e-6 || 0.28867513 - $i > 1e-6) exit 1 }' <<<"$output"
}

@test "whitened data has identity covariance; dewhitening gives the data back" {
	gauss 4000 30 1 >"$BATS_TEST_TMPDIR/g.tiny"
	tiny-cov "$BATS_TEST_TMPDIR/g.tiny" | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/g.zca"
	tiny-zca "$BATS_TEST_TMPDIR/g.zca" "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/w.tiny"
	run tiny-info --json "$BATS_TEST_TMPDIR/w.tiny"
	assert_output --partial '{"name": "x", "dtype": "f32", "shape": [30]}'
	# labels pass through unchanged
	cmp <(tiny-dump --fields label "$BATS_TEST_TMPDIR/g.tiny") <(tiny-dump --fields label "$BATS_TEST_TMPDIR/w.tiny")
	tiny-cov "$BATS_TEST_TMPDIR/w.tiny" | tiny-npy cov >"$BATS_TEST_TMPDIR/wc.npy"
	tiny-zca --inverse "$BATS_TEST_TMPDIR/g.zca" "$BATS_TEST_TMPDIR/w.tiny" | tiny-npy x >"$BATS_TEST_TMPDIR/back.npy"
	tiny-npy x "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/x.npy"
	run $PY -c "
import numpy as np
c = np.load('$BATS_TEST_TMPDIR/wc.npy')
b = np.load('$BATS_TEST_TMPDIR/back.npy'); x = np.load('$BATS_TEST_TMPDIR/x.npy')
e = abs(c - np.eye(30)).max(); r = abs(b - x).max() / abs(x).max()
print(e, r); assert e < 1e-3 and r < 1e-5
"
	assert_success
}

@test "with --drop K the kept directions are white and the dropped ones gone" {
	gauss 4000 30 2 >"$BATS_TEST_TMPDIR/g.tiny"
	tiny-cov "$BATS_TEST_TMPDIR/g.tiny" | tiny-zca -q --fit --drop 10 >"$BATS_TEST_TMPDIR/g.zca"
	tiny-zca "$BATS_TEST_TMPDIR/g.zca" "$BATS_TEST_TMPDIR/g.tiny" | tiny-cov | tiny-npy cov >"$BATS_TEST_TMPDIR/wc.npy"
	tiny-npy eigvec "$BATS_TEST_TMPDIR/g.zca" >"$BATS_TEST_TMPDIR/p.npy"
	run $PY -c "
import numpy as np
c = np.load('$BATS_TEST_TMPDIR/wc.npy'); p = np.load('$BATS_TEST_TMPDIR/p.npy').astype(float)
k = p[:20] @ c @ p[:20].T; d = p[20:] @ c @ p[20:].T
e = abs(k - np.eye(20)).max(); z = abs(d).max()
print(e, z); assert e < 1e-3 and z < 1e-6
"
	assert_success
}

@test "--project removes the dropped directions without whitening: Pk^T Pk (x - m), whiten then dewhiten less m" {
	gauss 3000 30 4 >"$BATS_TEST_TMPDIR/g.tiny"
	tiny-cov "$BATS_TEST_TMPDIR/g.tiny" | tiny-zca -q --fit --drop 10 >"$BATS_TEST_TMPDIR/g.zca"
	tiny-zca -q --project "$BATS_TEST_TMPDIR/g.zca" "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	cmp <(tiny-dump --fields label "$BATS_TEST_TMPDIR/g.tiny") <(tiny-dump --fields label "$BATS_TEST_TMPDIR/p.tiny")
	tiny-npy x "$BATS_TEST_TMPDIR/p.tiny" >"$BATS_TEST_TMPDIR/y.npy"
	tiny-zca -q "$BATS_TEST_TMPDIR/g.zca" "$BATS_TEST_TMPDIR/g.tiny" | tiny-zca -q --inverse "$BATS_TEST_TMPDIR/g.zca" |
		tiny-npy x >"$BATS_TEST_TMPDIR/wb.npy"
	tiny-npy x "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/x.npy"
	tiny-npy eigvec "$BATS_TEST_TMPDIR/g.zca" >"$BATS_TEST_TMPDIR/v.npy"
	tiny-npy mean "$BATS_TEST_TMPDIR/g.zca" >"$BATS_TEST_TMPDIR/m.npy"
	run $PY -c "
import numpy as np
y, wb, x = (np.load('$BATS_TEST_TMPDIR/' + f + '.npy').astype(float) for f in ('y', 'wb', 'x'))
p, m = np.load('$BATS_TEST_TMPDIR/v.npy').astype(float)[:20], np.load('$BATS_TEST_TMPDIR/m.npy')
ref = (x - m) @ p.T @ p
s = abs(x - m).max()
e1, e2 = abs(y - ref).max() / s, abs(y - (wb - m)).max() / s
# the kept directions are the data's, the dropped ones are gone
e3 = abs(y @ np.load('$BATS_TEST_TMPDIR/v.npy').astype(float)[20:].T).max() / s
print(e1, e2, e3); assert e1 < 1e-5 and e2 < 1e-4 and e3 < 1e-5 and abs(y.mean(0)).max() < 1e-3 * s
"
	assert_success
	run -2 tiny-zca --project --inverse "$BATS_TEST_TMPDIR/g.zca"
	assert_output --partial "--inverse and --project exclude each other"
	run -2 tiny-zca --fit --project
}

@test "W agrees with numpy.linalg.eigh" {
	gauss 2000 25 3 >"$BATS_TEST_TMPDIR/g.tiny"
	tiny-cov "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/g.cov"
	tiny-zca -q --fit --drop 5 "$BATS_TEST_TMPDIR/g.cov" >"$BATS_TEST_TMPDIR/g.zca"
	tiny-npy cov "$BATS_TEST_TMPDIR/g.cov" >"$BATS_TEST_TMPDIR/c.npy"
	tiny-npy W "$BATS_TEST_TMPDIR/g.zca" >"$BATS_TEST_TMPDIR/w.npy"
	tiny-npy Winv "$BATS_TEST_TMPDIR/g.zca" >"$BATS_TEST_TMPDIR/wi.npy"
	tiny-npy eigval "$BATS_TEST_TMPDIR/g.zca" >"$BATS_TEST_TMPDIR/ev.npy"
	run $PY -c "
import numpy as np
c = np.load('$BATS_TEST_TMPDIR/c.npy')
l, p = np.linalg.eigh(c); l, p = l[::-1], p[:, ::-1]
f = 1 / np.sqrt(l); f[-5:] = 0; g = np.sqrt(l); g[-5:] = 0
w = (p * f) @ p.T; wi = (p * g) @ p.T
ew = abs(np.load('$BATS_TEST_TMPDIR/w.npy') - w).max() / abs(w).max()
ei = abs(np.load('$BATS_TEST_TMPDIR/wi.npy') - wi).max() / abs(wi).max()
el = abs(np.load('$BATS_TEST_TMPDIR/ev.npy') - l).max() / l[0]
print(ew, ei, el); assert ew < 1e-5 and ei < 1e-5 and el < 1e-12
"
	assert_success
}

@test "whitened data carries the model's fingerprint; dewhitened data does not" {
	tiny-fetch -q synthetic --count 50 | tiny-patchify --size 4 --stride 4 >"$BATS_TEST_TMPDIR/p.tiny"
	tiny-cov -q "$BATS_TEST_TMPDIR/p.tiny" | tiny-zca -q --fit --epsilon 0.1 >"$BATS_TEST_TMPDIR/z.tiny"
	tiny-zca -q "$BATS_TEST_TMPDIR/z.tiny" "$BATS_TEST_TMPDIR/p.tiny" >"$BATS_TEST_TMPDIR/w.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/w.tiny"
	assert_output --regexp "attr zca_fingerprint [0-9a-f]{16}"
	run tiny-zca -q --inverse "$BATS_TEST_TMPDIR/z.tiny" "$BATS_TEST_TMPDIR/w.tiny"
	tiny-zca -q --inverse "$BATS_TEST_TMPDIR/z.tiny" "$BATS_TEST_TMPDIR/w.tiny" | tiny-info | { ! grep -q zca_fingerprint; }
}

@test "the covariance's record count is the model's attribute n" {
	known | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/k.zca"
	run bash -c "tiny-info '$BATS_TEST_TMPDIR/k.zca' | grep '^attr n '"
	assert_output "attr n 3"
}

@test "dewhitening finite input out of float32's range is an error naming the record, not Inf" {
	known | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/k.zca"
	run -1 --separate-stderr bash -c "mkstream 'x f32 [2]' <<<'1 1  3e38 3e38' | tiny-zca --inverse '$BATS_TEST_TMPDIR/k.zca'"
	assert_output ""
	assert_equal "$stderr" "tiny-zca: stdin: record 1: its dewhitened x is not finite in float32 (element 0); the input is too large for the model"
}

@test "data already whitened is not whitened again nor projected, and is dewhitened only by its own model" {
	local T=$BATS_TEST_TMPDIR
	gauss 200 4 1 >"$T/d.tiny"
	tiny-cov -q "$T/d.tiny" | tiny-zca -q --fit --drop 1 >"$T/z1.tiny"
	gauss 200 4 2 | tiny-cov -q | tiny-zca -q --fit >"$T/z2.tiny"
	tiny-zca -q "$T/z1.tiny" "$T/d.tiny" >"$T/w.tiny"
	local fp
	fp=$(tiny-info "$T/w.tiny" | awk '$1 == "attr" && $2 == "zca_fingerprint" { print $3 }')
	[ ${#fp} = 16 ]
	run -1 --separate-stderr tiny-zca "$T/z1.tiny" "$T/w.tiny"
	[ "$stderr" = "tiny-zca: $T/w.tiny: already whitened (zca_fingerprint $fp): whitening twice is a mistake; tiny-zca --inverse with its model undoes a whitening" ]
	[ -z "$output" ]
	run -1 --separate-stderr tiny-zca --project "$T/z1.tiny" "$T/w.tiny"
	[ "$stderr" = "tiny-zca: $T/w.tiny: whitened (zca_fingerprint $fp); --project takes the data unwhitened" ]
	run -1 --separate-stderr tiny-zca --inverse "$T/z2.tiny" "$T/w.tiny"
	[[ "$stderr" == "tiny-zca: $T/w.tiny: whitened by another model (zca_fingerprint $fp) than $T/z2.tiny ("*")" ]]
	# its own model undoes it, and the result may be whitened again
	tiny-zca -q --inverse "$T/z1.tiny" "$T/w.tiny" | tiny-zca -q "$T/z2.tiny" >/dev/null
}
