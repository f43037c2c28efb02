#!/usr/bin/env bats
# tiny-cov: mean and covariance in blocks; parts and their exact merge.

load helpers/common

# three 2-D points (1,2) (3,6) (5,4): mean (3,4), covariance [[4,2],[2,4]]
three() {
	mkstream 'label u8 []' 'x f64 [2]' <<<'0 1 2  1 3 6  0 5 4'
}

# gauss N D SEED: N correlated Gaussian records of D values, as a stream
gauss() {
	$PY -c 'import numpy' 2>/dev/null || skip "python3-numpy is absent"
	$PY -c "
import numpy as np, sys
r = np.random.default_rng($3); n, d = $1, $2
a = r.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
x = r.normal(size=(n, d)) @ a + 100 * r.normal(size=d)
np.savetxt(sys.stdout, x, fmt='%.17g')
" | mkstream "x f64 [$2]"
}

@test "bad --part values and a missing file list for --merge are usage errors" {
	three >"$BATS_TEST_TMPDIR/t.tiny"
	run -2 tiny-cov --part 3/2 "$BATS_TEST_TMPDIR/t.tiny"
	assert_output --partial "--part I 3: expected an integer from 0 to 1"
	run -2 tiny-cov --part half "$BATS_TEST_TMPDIR/t.tiny"
	run -2 tiny-cov --merge
	run -2 tiny-cov "$BATS_TEST_TMPDIR/t.tiny" "$BATS_TEST_TMPDIR/t.tiny"
	assert_output --partial "did you mean --merge"
}

@test "one record is too few, and nothing is written" {
	mkstream 'x f32 [2]' <<<'1 2' >"$BATS_TEST_TMPDIR/one.tiny"
	run -1 --separate-stderr tiny-cov "$BATS_TEST_TMPDIR/one.tiny"
	[[ "$stderr" == "tiny-cov: $BATS_TEST_TMPDIR/one.tiny: 1 record: a covariance needs at least 2" ]]
	assert_output ""
}

@test "NaN or Inf in the input is rejected with its record number" {
	mkstream 'x f32 [2]' <<<'1 2  3 4  5 nan  7 8' >"$BATS_TEST_TMPDIR/nan.tiny"
	run -1 --separate-stderr tiny-cov "$BATS_TEST_TMPDIR/nan.tiny"
	[[ "$stderr" == *"record 2 has NaN in field 'x' (element 1)"* ]]
	assert_output ""
	mkstream 'x f64 [2]' <<<'1 2  inf 4' | { run -1 --separate-stderr tiny-cov; [[ "$stderr" == *"stdin: record 1 has Inf"* ]]; }
}

@test "a missing field is named" {
	three >"$BATS_TEST_TMPDIR/t.tiny"
	run -1 tiny-cov --field y "$BATS_TEST_TMPDIR/t.tiny"
	assert_output "tiny-cov: $BATS_TEST_TMPDIR/t.tiny: no field 'y' in the stream (its fields: label, x)"
}

@test "merging models of different D is an error naming both" {
	three | tiny-cov >"$BATS_TEST_TMPDIR/a.cov"
	mkstream 'x f64 [3]' <<<'1 2 3  4 5 7  1 1 1' | tiny-cov >"$BATS_TEST_TMPDIR/b.cov"
	run -1 --separate-stderr tiny-cov --merge "$BATS_TEST_TMPDIR/a.cov" "$BATS_TEST_TMPDIR/b.cov"
	[[ "$stderr" == *"b.cov: D = 3 does not match $BATS_TEST_TMPDIR/a.cov's D = 2" ]]
	assert_output ""
	run -1 tiny-cov --merge "$BATS_TEST_TMPDIR/a.cov" <(three)
	assert_output --partial "no field 'n'"
}

@test "--part on a pipe is an error" {
	run -1 bash -c "mkstream 'x f64 [2]' <<<'1 2 3 4 5 6' | tiny-cov --part 0/2"
	assert_output --partial "--part needs a regular file"
}

@test "a part's history holds --part as typed" {
	three >"$BATS_TEST_TMPDIR/t.tiny"
	tiny-cov -q --part 1/2 "$BATS_TEST_TMPDIR/t.tiny" >"$BATS_TEST_TMPDIR/p.cov"
	run tiny-info --json "$BATS_TEST_TMPDIR/p.cov"
	assert_output --partial '"tiny-cov -q --part 1/2 '
}

@test "the 2x2 covariance of three points, by hand" {
	run bash -c "mkstream 'label u8 []' 'x f64 [2]' <<<'0 1 2  1 3 6  0 5 4' | tiny-cov | tiny-dump"
	assert_output "n=3 mean=3,4 cov=4,2,2,4"
}

@test "the model records the data's shape, and the header carries history" {
	tiny-fetch synthetic --count 20 | tiny-cov -q >"$BATS_TEST_TMPDIR/s.cov"
	run tiny-info --json "$BATS_TEST_TMPDIR/s.cov"
	assert_output --partial '"shape": ["3,32,32"]'
	assert_output --partial '{"name": "cov", "dtype": "f64", "shape": [3072, 3072]}'
	assert_output --partial '"tiny-cov -q"'
}

@test "agrees with numpy.cov on correlated data far from zero" {
	gauss 3000 40 1 >"$BATS_TEST_TMPDIR/g.tiny"
	tiny-cov "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/g.cov"
	tiny-npy x "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/x.npy"
	tiny-npy cov "$BATS_TEST_TMPDIR/g.cov" >"$BATS_TEST_TMPDIR/c.npy"
	tiny-npy mean "$BATS_TEST_TMPDIR/g.cov" >"$BATS_TEST_TMPDIR/m.npy"
	run $PY -c "
import numpy as np
x = np.load('$BATS_TEST_TMPDIR/x.npy'); c = np.load('$BATS_TEST_TMPDIR/c.npy'); m = np.load('$BATS_TEST_TMPDIR/m.npy')
ref = np.cov(x, rowvar=False)
e = abs(c - ref).max() / abs(ref).max(); f = abs(m - x.mean(0)).max() / abs(x.mean(0)).max()
print(e, f); assert e < 1e-12 and f < 1e-12 and (c == c.T).all()
"
	assert_success
}

@test "parts merged give the covariance of the whole" {
	gauss 1001 12 2 >"$BATS_TEST_TMPDIR/g.tiny"
	tiny-cov "$BATS_TEST_TMPDIR/g.tiny" | tiny-npy cov >"$BATS_TEST_TMPDIR/whole.npy"
	for i in 0 1 2; do tiny-cov --part $i/3 "$BATS_TEST_TMPDIR/g.tiny" >"$BATS_TEST_TMPDIR/p$i.cov"; done
	run tiny-dump --fields n "$BATS_TEST_TMPDIR/p0.cov"
	assert_output "n=333"
	tiny-cov --merge "$BATS_TEST_TMPDIR"/p{0,1,2}.cov >"$BATS_TEST_TMPDIR/m.cov"
	run tiny-dump --fields n "$BATS_TEST_TMPDIR/m.cov"
	assert_output "n=1001"
	tiny-npy cov "$BATS_TEST_TMPDIR/m.cov" >"$BATS_TEST_TMPDIR/merged.npy"
	run $PY -c "
import numpy as np
a = np.load('$BATS_TEST_TMPDIR/whole.npy'); b = np.load('$BATS_TEST_TMPDIR/merged.npy')
e = abs(a - b).max() / abs(a).max(); print(e); assert e < 1e-12
"
	assert_success
}
