#!/usr/bin/env bats
# tiny-kmeans: Lloyd's k-means on a stream of vectors; a filter bank W [D,K].

load helpers/common

# four points in two clear clusters: (0,0) (0,1) and (10,10) (10,11)
four() {
	mkstream 'x f32 [2]' <<<'0 0  0 1  10 10  10 11'
}

@test "-k is required" {
	run -2 tiny-kmeans /dev/null
	assert_output --partial "-k K is required"
}

@test "fewer records than K is an error and nothing is written" {
	four >"$BATS_TEST_TMPDIR/f.tiny"
	run -1 --separate-stderr tiny-kmeans -k 5 "$BATS_TEST_TMPDIR/f.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"holds 4 records; -k 5 needs at least as many"* ]]
}

@test "fewer records than K through a pipe is an error too" {
	run -1 --separate-stderr bash -c 'mkstream "x f32 [2]" <<<"0 0  0 1  10 10  10 11" | cat | tiny-kmeans -k 5'
	[ -z "$output" ]
	[[ "$stderr" == *"-k 5 needs at least as many"* ]]
}

@test "a NaN is rejected naming its record" {
	run -1 --separate-stderr bash -c 'mkstream "x f32 [2]" <<<"0 0  0 1  nan 10  10 11" | tiny-kmeans -k 2'
	[ -z "$output" ]
	[[ "$stderr" == *"record 2"* ]]
}

@test "two clear clusters: the centroids are their means" {
	four | tiny-kmeans -q -k 2 >"$BATS_TEST_TMPDIR/m.tiny"
	run tiny-dump --fields W "$BATS_TEST_TMPDIR/m.tiny"
	# W [2,2]: column k is centroid k, in either order
	[[ "$output" == "W=0,10,0.5,10.5" || "$output" == "W=10,0,10.5,0.5" ]]
	run tiny-info "$BATS_TEST_TMPDIR/m.tiny"
	assert_output --partial "attr kmeans_distance 0.25"
	assert_output --partial "attr kmeans_changed 0"
	assert_output --partial "attr shape 2"
}

@test "the same seed gives the same centroids, another seed others" {
	tiny-fetch -q synthetic --count 200 | tiny-patchify --size 4 --random 4 >"$BATS_TEST_TMPDIR/p.tiny"
	tiny-kmeans -q -k 20 --seed 3 "$BATS_TEST_TMPDIR/p.tiny" | tiny-dump --fields W >"$BATS_TEST_TMPDIR/a"
	tiny-kmeans -q -k 20 --seed 3 "$BATS_TEST_TMPDIR/p.tiny" | tiny-dump --fields W >"$BATS_TEST_TMPDIR/b"
	tiny-kmeans -q -k 20 --seed 4 "$BATS_TEST_TMPDIR/p.tiny" | tiny-dump --fields W >"$BATS_TEST_TMPDIR/c"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	! cmp -s "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
}

@test "one thread or two: the same centroids" {
	tiny-fetch -q synthetic --count 300 | tiny-patchify --size 4 --random 8 >"$BATS_TEST_TMPDIR/p.tiny"
	# (the distance attribute is a sum over threads; the centroids are not)
	OMP_NUM_THREADS=1 BLIS_NUM_THREADS=1 tiny-kmeans -q -k 100 --iterations 20 "$BATS_TEST_TMPDIR/p.tiny" |
		tiny-dump --fields W >"$BATS_TEST_TMPDIR/a"
	OMP_NUM_THREADS=2 BLIS_NUM_THREADS=2 tiny-kmeans -q -k 100 --iterations 20 "$BATS_TEST_TMPDIR/p.tiny" |
		tiny-dump --fields W >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "clusters left empty are re-seeded: K centroids, all finite" {
	# nine copies of one point and two others: at least one start centroid repeats
	mkstream 'x f32 [2]' <<<'1 1  1 1  1 1  1 1  1 1  1 1  1 1  1 1  1 1  5 5  9 9' >"$BATS_TEST_TMPDIR/d.tiny"
	run tiny-kmeans -k 3 --seed 2 "$BATS_TEST_TMPDIR/d.tiny"
	assert_success
	tiny-kmeans -q -k 3 --seed 2 "$BATS_TEST_TMPDIR/d.tiny" | tiny-dump --fields W | grep -qv nan
}

@test "the iteration cap is reported when assignments still change" {
	tiny-fetch -q synthetic --count 300 | tiny-patchify --size 4 --random 4 >"$BATS_TEST_TMPDIR/p.tiny"
	run --separate-stderr tiny-kmeans -k 30 --iterations 1 "$BATS_TEST_TMPDIR/p.tiny"
	assert_success
	[[ "$stderr" == *"stopped at --iterations 1 with"* ]]
}

@test "the result is a fixed point of Lloyd's step and its distance is the mean squared one (NumPy)" {
	npy_ok
	tiny-fetch -q synthetic --count 300 | tiny-patchify --size 4 --random 4 --normalize 10 >"$BATS_TEST_TMPDIR/p.tiny"
	# K 150: the nearest centroid is found 64 at a time, the last part short
	for run in "random 12" "kmeans++ 12" "random 150"; do
		set -- $run
		tiny-kmeans -q -k $2 --init $1 --iterations 500 "$BATS_TEST_TMPDIR/p.tiny" >"$BATS_TEST_TMPDIR/m.tiny"
		$PY -c "$LOAD
X = load('$BATS_TEST_TMPDIR/p.tiny')['x'].reshape(1200, -1).astype(np.float64)
m = load('$BATS_TEST_TMPDIR/m.tiny')
C = m['W'][0].T.astype(np.float64)
d = ((X[:, None, :] - C[None]) ** 2).sum(2)
a = d.argmin(1)
for k in range(len(C)):
    assert (a == k).any(), k
    assert np.abs(X[a == k].mean(0) - C[k]).max() < 1e-4, k
attrs = dict(l.split(' ', 2)[1:] for l in open('$BATS_TEST_TMPDIR/m.tiny', 'rb').read(65536).split(b'\nend\n')[0].decode().split('\n') if l.startswith('attr '))
assert abs(float(attrs['kmeans_distance']) - d.min(1).mean()) < 1e-4 * d.min(1).mean(), attrs['kmeans_distance']
"
	done
}

@test "its mean squared distance over five seeds is within 2% of scikit-learn's KMeans" {
	$PY -c 'import sklearn' 2>/dev/null || skip "python3-sklearn is absent"
	tiny-fetch -q synthetic --count 500 | tiny-patchify --size 4 --random 4 --normalize 10 >"$BATS_TEST_TMPDIR/p.tiny"
	for s in 1 2 3 4 5; do
		tiny-kmeans -q -k 16 --seed $s --iterations 300 "$BATS_TEST_TMPDIR/p.tiny" | tiny-info | grep kmeans_distance
	done >"$BATS_TEST_TMPDIR/d"
	$PY -c "$LOAD
from sklearn.cluster import KMeans
X = load('$BATS_TEST_TMPDIR/p.tiny')['x'].reshape(2000, -1).astype(np.float64)
ref = np.mean([KMeans(16, n_init=1, random_state=s).fit(X).inertia_ / len(X) for s in range(5)])
ours = np.mean([float(l.split()[2]) for l in open('$BATS_TEST_TMPDIR/d')])
print(ours, ref)
assert ours < 1.02 * ref, (ours, ref)
"
}

@test "tiny-render draws the centroids as filters" {
	tiny-fetch -q synthetic --count 100 | tiny-patchify --size 6 --random 2 >"$BATS_TEST_TMPDIR/p.tiny"
	tiny-kmeans -q -k 8 "$BATS_TEST_TMPDIR/p.tiny" | tiny-render filters --field W --shape 3,6,6 >"$BATS_TEST_TMPDIR/f.png"
	run file "$BATS_TEST_TMPDIR/f.png"
	assert_output --partial "PNG image"
}
