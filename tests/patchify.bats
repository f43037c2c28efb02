#!/usr/bin/env bats
# tiny-patchify: cut images into a grid of square patches, plus a subsampled one.

load helpers/common

setup() {
	# one numbered image: label 7, x i32 [1,4,4] holding 0..15 row by row
	IN="$BATS_TEST_TMPDIR/in.tiny"
	(echo 7; seq 0 15) | mkstream 'label u8 []' 'x i32 [1,4,4]' >"$IN"
}

@test "--size and --stride are required, and bad numbers are usage errors" {
	run -2 tiny-patchify --size 2 "$IN"
	assert_output --partial "--size and either --stride or --random are required"
	run -2 tiny-patchify --size 0 --stride 1 "$IN"
	assert_output --partial "--size 0"
	run -2 tiny-patchify --size 2 --stride abc "$IN"
	assert_output --partial "--stride abc"
}

@test "--subsample must equal --size and divide the image, else a usage error with nothing written" {
	run -2 --separate-stderr tiny-patchify --size 2 --stride 2 --subsample 4 "$IN"
	[[ "$stderr" == *"--subsample 4 differs from --size 2"* ]]
	assert_output ""
	run -2 --separate-stderr tiny-patchify --size 3 --stride 1 --subsample 3 "$IN"
	[[ "$stderr" == *"--subsample 3 does not divide the 4x4 image of $IN"* ]]
	assert_output ""
}

@test "--patch outside the patches of the image is a usage error naming the range" {
	run -2 --separate-stderr tiny-patchify --size 2 --stride 2 --patch 4 "$IN"
	[[ "$stderr" == *"--patch 4 is outside 0..3 (the 4 patches of the 4x4 image)"* ]]
	assert_output ""
	run -0 tiny-patchify --size 2 --stride 2 --subsample 2 --patch 4 "$IN"
}

@test "a patch larger than the image is an error naming both, and nothing is written" {
	run -1 --separate-stderr tiny-patchify --size 5 --stride 1 "$IN"
	[ "$stderr" = "tiny-patchify: $IN: --size 5 is larger than the 4x4 image" ]
	assert_output ""
}

@test "x of rank other than 3, or no x at all, is an error with nothing written" {
	mkstream 'x u8 [4,4]' <<<"$(seq 0 15)" >"$BATS_TEST_TMPDIR/r2.tiny"
	run -1 --separate-stderr tiny-patchify --size 2 --stride 2 "$BATS_TEST_TMPDIR/r2.tiny"
	[[ "$stderr" == *"field 'x' has rank 2, expected an image [C,H,W]"* ]]
	assert_output ""
	mkstream 'y u8 [1,2,2]' <<<'1 2 3 4' >"$BATS_TEST_TMPDIR/nox.tiny"
	run -1 --separate-stderr tiny-patchify --size 2 --stride 2 "$BATS_TEST_TMPDIR/nox.tiny"
	[[ "$stderr" == *"no field 'x' in the stream"* ]]
	assert_output ""
}

@test "a numbered 4x4 image cut 2x2 with stride 2 gives four patches in row-major order" {
	run bash -c "tiny-patchify --size 2 --stride 2 '$IN' | tiny-dump"
	assert_output "$(printf '%s\n' 'label=7 x=0,1,4,5 patch=0' 'label=7 x=2,3,6,7 patch=1' \
		'label=7 x=8,9,12,13 patch=2' 'label=7 x=10,11,14,15 patch=3')"
}

@test "two channels are cut at the same place" {
	seq 0 31 | mkstream 'x u8 [2,4,4]' >"$BATS_TEST_TMPDIR/c2.tiny"
	run bash -c "tiny-patchify --size 2 --stride 2 '$BATS_TEST_TMPDIR/c2.tiny' | tiny-dump"
	assert_output "$(printf '%s\n' 'x=0,1,4,5,16,17,20,21 patch=0' 'x=2,3,6,7,18,19,22,23 patch=1' \
		'x=8,9,12,13,24,25,28,29 patch=2' 'x=10,11,14,15,26,27,30,31 patch=3')"
}

@test "stride 1 gives overlapping patches, and a stride that does not fit leaves the edge out" {
	run bash -c "tiny-patchify --size 3 --stride 1 '$IN' | tiny-dump --fields x,patch"
	assert_output "$(printf '%s\n' 'x=0,1,2,4,5,6,8,9,10 patch=0' 'x=1,2,3,5,6,7,9,10,11 patch=1' \
		'x=4,5,6,8,9,10,12,13,14 patch=2' 'x=5,6,7,9,10,11,13,14,15 patch=3')"
	seq 0 24 | mkstream 'x u8 [1,5,5]' >"$BATS_TEST_TMPDIR/five.tiny"
	run bash -c "tiny-patchify --size 2 --stride 2 '$BATS_TEST_TMPDIR/five.tiny' | tiny-dump --fields x"
	assert_output "$(printf '%s\n' 'x=0,1,5,6' 'x=2,3,7,8' 'x=10,11,15,16' 'x=12,13,17,18')"
	run bash -c "tiny-patchify --size 2 --stride 2 '$BATS_TEST_TMPDIR/five.tiny' | tiny-info --json | $PY -c 'import json,sys; a=json.load(sys.stdin)[\"attributes\"]; print(a[\"patch_grid\"][0], a[\"patch_positions\"][0])'"
	assert_output "2,2 0:0 0:2 2:0 2:2"
}

@test "--subsample adds a last patch of block means, and integer images come out f32" {
	# 2x2 blocks of 0..15: (0+1+4+5)/4 = 2.5, 4.5, 10.5, 12.5
	run bash -c "tiny-patchify --size 2 --stride 2 --subsample 2 '$IN' | tiny-dump"
	assert_line --index 4 'label=7 x=2.5,4.5,10.5,12.5 patch=4'
	assert_line --index 0 'label=7 x=0,1,4,5 patch=0'
	run bash -c "tiny-patchify --size 2 --stride 2 --subsample 2 '$IN' | tiny-info --json | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j[\"fields\"][1][\"dtype\"], j[\"count\"], j[\"attributes\"][\"patch_subsample\"][0])'"
	assert_output "f32 5 2"
}

@test "--subsample of an f64 image keeps f64 and averages whole-image blocks" {
	mkstream 'x f64 [1,2,4]' <<<'1 2 3 4 5 6 7 9' >"$BATS_TEST_TMPDIR/f.tiny"
	# one 1x1 patch: the mean of all 8 values, 37/8
	run bash -c "tiny-patchify --size 1 --stride 5 --subsample 1 '$BATS_TEST_TMPDIR/f.tiny' | tiny-dump"
	assert_output "$(printf '%s\n' 'x=1 patch=0' 'x=4.625 patch=1')"
	run bash -c "tiny-patchify --size 1 --stride 5 --subsample 1 '$BATS_TEST_TMPDIR/f.tiny' | tiny-info --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"fields\"][0][\"dtype\"])'"
	assert_output "f64"
}

@test "without --subsample an integer image keeps its dtype" {
	run bash -c "tiny-patchify --size 2 --stride 2 '$IN' | tiny-info --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"fields\"][1][\"dtype\"])'"
	assert_output "i32"
}

@test "--patch K keeps only patch K of every image" {
	(echo 1; seq 0 15; echo 2; seq 100 115) | mkstream 'label u8 []' 'x i32 [1,4,4]' >"$BATS_TEST_TMPDIR/two.tiny"
	run bash -c "tiny-patchify --size 2 --stride 2 --patch 2 '$BATS_TEST_TMPDIR/two.tiny' | tiny-dump"
	assert_output "$(printf '%s\n' 'label=1 x=8,9,12,13 patch=2' 'label=2 x=108,109,112,113 patch=2')"
}

@test "other fields pass through in their places, with patch appended last" {
	(echo 3; seq 0 15; echo 9) | mkstream 'label u8 []' 'x u8 [1,4,4]' 'idx i64 []' >"$BATS_TEST_TMPDIR/f3.tiny"
	run bash -c "tiny-patchify --size 4 --stride 1 '$BATS_TEST_TMPDIR/f3.tiny' | tiny-dump"
	assert_output "label=3 x=$(seq -s, 0 15) idx=9 patch=0"
}

@test "the report's layout on a 32x32 image gives 25 patches at 0,6,12,18,24 and a subsampled 26th" {
	seq 0 1023 | mkstream 'x i32 [1,32,32]' >"$BATS_TEST_TMPDIR/big.tiny"
	run bash -c "tiny-patchify --size 8 --stride 6 --subsample 8 '$BATS_TEST_TMPDIR/big.tiny' | tiny-info --json | $PY -c 'import json,sys; j=json.load(sys.stdin); a=j[\"attributes\"]; print(j[\"count\"], a[\"patch_grid\"][0], a[\"image_shape\"][0], a[\"patch_positions\"][0])'"
	assert_output "26 5,5 1,32,32 0:0 0:6 0:12 0:18 0:24 6:0 6:6 6:12 6:18 6:24 12:0 12:6 12:12 12:18 12:24 18:0 18:6 18:12 18:18 18:24 24:0 24:6 24:12 24:18 24:24"
	# first and last value of each grid patch: r*32+c and (r+7)*32+c+7
	run bash -c "tiny-patchify --size 8 --stride 6 --subsample 8 '$BATS_TEST_TMPDIR/big.tiny' | tiny-dump | head -25 | sed 's/x=\([0-9]*\),.*,\([0-9]*\) patch=\(.*\)/\3 \1 \2/' | tr '\n' ' '"
	want=$(for r in 0 6 12 18 24; do for c in 0 6 12 18 24; do echo -n "$((r / 6 * 5 + c / 6)) $((r * 32 + c)) $(((r + 7) * 32 + c + 7)) "; done; done)
	assert_output "$want"
	# the 26th: 4x4 block means of v = 32 r + c are 128 i + 4 j + 49.5
	run bash -c "tiny-patchify --size 8 --stride 6 --subsample 8 --patch 25 '$BATS_TEST_TMPDIR/big.tiny' | tiny-dump"
	want=$(awk 'BEGIN { for (i = 0; i < 8; i++) for (j = 0; j < 8; j++) printf "%s%s", (i || j) ? "," : "", 128 * i + 4 * j + 49.5 }')
	assert_output "x=$want patch=25"
}

@test "the count is N x P when known, N with --patch, and unknown from an unknown-count pipe" {
	(seq 0 15; seq 0 15; seq 0 15) | mkstream 'x u8 [1,4,4]' >"$BATS_TEST_TMPDIR/n3.tiny"
	(seq 0 15; seq 0 15; seq 0 15) | mkstream --unknown 'x u8 [1,4,4]' >"$BATS_TEST_TMPDIR/u3.tiny"
	count() { tiny-info --json "$1" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])'; }
	tiny-patchify --size 2 --stride 1 "$BATS_TEST_TMPDIR/n3.tiny" >"$BATS_TEST_TMPDIR/o1.tiny"
	tiny-patchify --size 2 --stride 1 --patch 8 "$BATS_TEST_TMPDIR/n3.tiny" >"$BATS_TEST_TMPDIR/o2.tiny"
	via_pipe "$BATS_TEST_TMPDIR/u3.tiny" tiny-patchify --size 2 --stride 1 >"$BATS_TEST_TMPDIR/o3.tiny"
	run count "$BATS_TEST_TMPDIR/o1.tiny"
	assert_output "27"
	run count "$BATS_TEST_TMPDIR/o2.tiny"
	assert_output "3"
	run count "$BATS_TEST_TMPDIR/o3.tiny"
	assert_output "None"
	run bash -c "cat '$BATS_TEST_TMPDIR/u3.tiny' | tiny-patchify --size 2 --stride 1 | tiny-dump | wc -l"
	assert_output "27"
}

@test "attributes are copied and the history grows by the command line" {
	mkstream --attr 'classes=a b' 'x u8 [1,2,2]' <<<'1 2 3 4' >"$BATS_TEST_TMPDIR/at.tiny"
	run bash -c "tiny-patchify --size 1 --stride 1 '$BATS_TEST_TMPDIR/at.tiny' | tiny-info --json | $PY -c 'import json,sys; a=json.load(sys.stdin)[\"attributes\"]; print(a[\"classes\"][0], a[\"patch_size\"][0], a[\"patch_stride\"][0], a[\"patch_subsample\"][0], a[\"history\"][-1])'"
	assert_output "a b 1 1 0 tiny-patchify --size 1 --stride 1 $BATS_TEST_TMPDIR/at.tiny"
}

@test "--random excludes --stride, and --seed needs --random" {
	run -2 tiny-patchify --size 4 --random 3 --stride 2 /dev/null
	assert_output --partial "--random excludes --stride"
	run -2 tiny-patchify --size 4 --stride 2 --seed 3 /dev/null
	assert_output --partial "--seed applies to --random"
}

@test "--random N cuts N windows of each image, the same for the same seed" {
	npy_ok
	tiny-fetch -q synthetic --count 5 >"$BATS_TEST_TMPDIR/i.tiny"
	tiny-patchify --size 6 --random 7 --seed 3 "$BATS_TEST_TMPDIR/i.tiny" >"$BATS_TEST_TMPDIR/p.tiny"
	tiny-patchify --size 6 --random 7 --seed 3 "$BATS_TEST_TMPDIR/i.tiny" | cmp - "$BATS_TEST_TMPDIR/p.tiny"
	! tiny-patchify --size 6 --random 7 --seed 4 "$BATS_TEST_TMPDIR/i.tiny" | cmp -s - "$BATS_TEST_TMPDIR/p.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/p.tiny"
	assert_output --partial "count 35"
	assert_output --partial "attr patch_random 7"
	$PY -c "$LOAD
im, p = load('$BATS_TEST_TMPDIR/i.tiny'), load('$BATS_TEST_TMPDIR/p.tiny')
assert 'patch' not in p.dtype.names
for n in range(35):
    img = im['x'][n // 7]
    wins = [img[:, r:r + 6, c:c + 6] for r in range(27) for c in range(27)]
    assert any((w == p['x'][n]).all() for w in wins), n
    assert p['label'][n] == im['label'][n // 7]
"
}

@test "--normalize EPS gives every patch mean 0 and variance var / (var + EPS)" {
	npy_ok
	tiny-fetch -q synthetic --count 3 >"$BATS_TEST_TMPDIR/i.tiny"
	tiny-patchify --size 8 --stride 8 --normalize 10 "$BATS_TEST_TMPDIR/i.tiny" >"$BATS_TEST_TMPDIR/n.tiny"
	tiny-patchify --size 8 --stride 8 "$BATS_TEST_TMPDIR/i.tiny" >"$BATS_TEST_TMPDIR/r.tiny"
	run tiny-info "$BATS_TEST_TMPDIR/n.tiny"
	assert_output --partial "x f32 [3,8,8]"
	assert_output --partial "attr patch_normalize 10"
	$PY -c "$LOAD
n = load('$BATS_TEST_TMPDIR/n.tiny')['x'].reshape(48, -1).astype(np.float64)
r = load('$BATS_TEST_TMPDIR/r.tiny')['x'].reshape(48, -1).astype(np.float64)
v = r.var(1, ddof=1)
assert np.abs(n.mean(1)).max() < 1e-5
assert np.abs(n.var(1, ddof=1) - v / (v + 10)).max() < 1e-4
"
}
