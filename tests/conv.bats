#!/usr/bin/env bats
# tiny-conv: a filter bank applied at every position of whole images, pooled.

load helpers/common

# bank DIR [PATCHIFY OPTIONS]: DIR/img.tiny (12 synthetic images), DIR/p.tiny
# (their 5x5 random patches, normalised), DIR/zca.tiny (the patches'
# whitening), DIR/pw.tiny (them whitened), DIR/km.tiny (k-means, K 6, on
# the whitened patches) and DIR/raw.tiny (k-means on raw patches)
bank() {
	tiny-fetch -q synthetic --count 12 >"$1/img.tiny"
	tiny-patchify --size 5 --random 30 --normalize 10 "$1/img.tiny" >"$1/p.tiny"
	tiny-cov -q "$1/p.tiny" | tiny-zca -q --fit --epsilon 0.1 >"$1/zca.tiny"
	tiny-zca -q "$1/zca.tiny" "$1/p.tiny" >"$1/pw.tiny"
	tiny-kmeans -q -k 6 "$1/pw.tiny" >"$1/km.tiny"
	tiny-patchify --size 5 --random 30 "$1/img.tiny" | tiny-kmeans -q -k 6 >"$1/raw.tiny"
}

setup() {
	T="$BATS_TEST_TMPDIR"
}

@test "a bank and images are required" {
	run -2 tiny-conv
	assert_output --partial "usage:"
}

@test "--alpha without --activation soft is a usage error" {
	run -2 tiny-conv --alpha 0.5 m.tiny x.tiny
	assert_output --partial "--alpha applies to --activation soft"
}

@test "a bank learned on whitened patches needs their --zca, and nothing is written" {
	bank "$T"
	run -1 --separate-stderr tiny-conv "$T/km.tiny" "$T/img.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"was learned on whitened patches"*"--zca"* ]]
}

@test "--zca for a bank learned on raw patches is an error" {
	bank "$T"
	run -1 --separate-stderr tiny-conv --zca "$T/zca.tiny" "$T/raw.tiny" "$T/img.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"was learned on patches that were not whitened"* ]]
}

@test "another whitening than the bank's is an error" {
	bank "$T"
	tiny-patchify --size 5 --random 10 --normalize 10 --seed 9 "$T/img.tiny" | tiny-cov -q |
		tiny-zca -q --fit --epsilon 0.1 >"$T/other.tiny"
	run -1 --separate-stderr tiny-conv --zca "$T/other.tiny" "$T/km.tiny" "$T/img.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"is not the whitening"*"was learned with"* ]]
}

@test "a bank whose channels do not fit the images is an error" {
	bank "$T"
	mkstream 'x f32 [1,8,8]' <<<"$(seq 64)" >"$T/grey.tiny"
	run -1 --separate-stderr tiny-conv "$T/raw.tiny" "$T/grey.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"patches have 3 channels"*"images have 1"* ]]
}

@test "a pool grid finer than the positions is an error" {
	bank "$T"
	run -1 --separate-stderr tiny-conv --stride 14 --pool 3 "$T/raw.tiny" "$T/img.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"--pool 3 leaves a cell without a position: --stride 14 gives 2x2 positions"* ]]
}

@test "--activation rbm needs an RBM" {
	bank "$T"
	run -1 tiny-conv --activation rbm "$T/raw.tiny" "$T/img.tiny"
	assert_output --partial "is not an RBM"
}

@test "a NaN in an image is rejected naming its record" {
	bank "$T"
	mkstream 'x f32 [3,6,6]' <<<"$(seq 108) $(seq 107) nan" >"$T/nan.tiny"
	run -1 --separate-stderr tiny-conv --pool 1 "$T/raw.tiny" "$T/nan.tiny"
	[ -z "$output" ]
	[[ "$stderr" == *"record 1"* ]]
}

@test "labels and attributes pass through; x becomes [K,G,G]" {
	bank "$T"
	tiny-conv -q --zca "$T/zca.tiny" "$T/km.tiny" "$T/img.tiny" >"$T/f.tiny"
	run tiny-info "$T/f.tiny"
	assert_output --partial "field x f32 [6,2,2]"
	assert_output --partial "attr classes hbar"
	assert_output --partial "attr conv_activation triangle"
	run tiny-conv -q --zca "$T/zca.tiny" --activation soft --pool 3 "$T/km.tiny" "$T/img.tiny"
	tiny-conv -q --zca "$T/zca.tiny" --activation soft --pool 3 "$T/km.tiny" "$T/img.tiny" | tiny-info | grep -q 'x f32 \[12,3,3\]'
	diff <(tiny-dump --fields label "$T/img.tiny") <(tiny-dump --fields label "$T/f.tiny")
}

# reference MODE BANK ZCA OUT [stride pool op alpha]: NumPy's features
reference() {
	$PY -c "$LOAD
mode, stride, G, op, alpha = '$1', $5, $6, '$7', $8
img = load('$T/img.tiny')['x'].astype(np.float64)
bank = load('$2')
W = bank['W'][0].astype(np.float64)
N, C, H, Wd = img.shape
S = 5
rows, cols = (H - S) // stride + 1, (Wd - S) // stride + 1
z = load('$3') if '$3' else None
out = []
for im in img:
    P = np.array([im[:, r * stride:r * stride + S, c * stride:c * stride + S].ravel() for r in range(rows) for c in range(cols)])
    if mode != 'rbm':
        P = (P - P.mean(1, keepdims=True)) / np.sqrt(P.var(1, ddof=1, keepdims=True) + 10)
    if z is not None:
        P = (P - z['mean'][0]) @ z['W'][0]
    if mode == 'triangle':
        d = np.sqrt(np.maximum(0, (P ** 2).sum(1)[:, None] - 2 * P @ W + (W ** 2).sum(0)))
        f = np.maximum(0, d.mean(1, keepdims=True) - d)
    elif mode == 'soft':
        Dn = W / np.linalg.norm(W, axis=0)
        f = np.hstack([np.maximum(0, P @ Dn - alpha), np.maximum(0, -P @ Dn - alpha)])
    else:
        f = 1 / (1 + np.exp(-(bank['hbias'][0] + (P / bank['sigma'][0]) @ W)))
    pooled = np.full((f.shape[1], G, G), -np.inf if op == 'max' else 0.0)
    for p in range(len(P)):
        r, c = divmod(p, cols)
        i, j = r * G // rows, c * G // cols
        pooled[:, i, j] = np.maximum(pooled[:, i, j], f[p]) if op == 'max' else pooled[:, i, j] + f[p]
    out.append(pooled)
np.save('$4', np.array(out))
"
}

# agree OURS REF: within 1e-4 relative to the largest feature
agree() {
	$PY -c "$LOAD
a, b = load('$1')['x'].astype(np.float64), np.load('$2')
assert a.shape == b.shape, (a.shape, b.shape)
err = np.abs(a - b).max() / np.abs(b).max()
assert err < 1e-4, err
"
}

@test "triangle features, normalised and whitened, sum-pooled in quadrants, agree with NumPy" {
	npy_ok
	bank "$T"
	tiny-conv -q --zca "$T/zca.tiny" "$T/km.tiny" "$T/img.tiny" >"$T/f.tiny"
	reference triangle "$T/km.tiny" "$T/zca.tiny" "$T/r.npy" 1 2 sum 0
	agree "$T/f.tiny" "$T/r.npy"
}

@test "soft-threshold features with a stride, max-pooled in 3x3, agree with NumPy" {
	npy_ok
	bank "$T"
	tiny-conv -q --zca "$T/zca.tiny" --activation soft --alpha 0.5 --stride 2 --pool 3 --pool-op max \
		"$T/km.tiny" "$T/img.tiny" >"$T/f.tiny"
	reference soft "$T/km.tiny" "$T/zca.tiny" "$T/r.npy" 2 3 max 0.5
	agree "$T/f.tiny" "$T/r.npy"
}

@test "a Gaussian patch RBM's hidden probabilities, pooled, agree with NumPy" {
	npy_ok
	bank "$T"
	tiny-patchify --size 5 --random 10 "$T/img.tiny" |
		tiny-rbm-train -q --hidden 4 --epochs 1 --sigma data --seed 1 >"$T/rbm.tiny"
	tiny-conv -q "$T/rbm.tiny" "$T/img.tiny" >"$T/f.tiny"
	reference rbm "$T/rbm.tiny" "" "$T/r.npy" 1 2 sum 0
	agree "$T/f.tiny" "$T/r.npy"
}
