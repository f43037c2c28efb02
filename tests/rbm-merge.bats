#!/usr/bin/env bats
# tiny-rbm-merge: RBMs trained on patches become one RBM of the whole image.

load helpers/common

# part K C IH IW S T S2 HP [--attr KEY=VALUE]...: on stdout, the model of
# patch K in the layout of tiny-patchify --size S --stride T --subsample S2
# (0: none) on C x IH x IW images, HP hidden units, every number distinct:
#   W[v,j] = 100 K + 10 v + j    vbias[v] = K + v/8
#   hbias[j] = -K - j/4          sigma[v] = 1 + K/4 + v/32
# Attributes given first win over the layout's; keys listed in $OMIT are left
# out, and $VIS replaces rbm_visible=gaussian.  With SMOOTH=1 the numbers
# are small instead, W = sin(100 K + 10 v + j) / 4, hbias = cos(K + j) / 2,
# and sigma = 1, so that the hidden units are not saturated.
part() {
	local k=$1 C=$2 IH=$3 IW=$4 S=$5 T=$6 S2=$7 HP=$8
	shift 8
	local rows=$(((IH - S) / T + 1)) cols=$(((IW - S) / T + 1)) pos="" i j a
	for ((i = 0; i < rows; i++)); do
		for ((j = 0; j < cols; j++)); do pos+="${pos:+ }$((i * T)):$((j * T))"; done
	done
	local V=$((C * S * S)) attrs=("$@")
	for a in "rbm_visible=${VIS:-gaussian}" "patch_size=$S" "patch_stride=$T" "patch_subsample=$S2" \
		"patch_grid=$rows,$cols" "image_shape=$C,$IH,$IW" "patch_positions=$pos" "patch_kept=$k" \
		"shape=$C,$S,$S" "history=tiny-patchify --size $S --stride $T --patch $k" "history=tiny-rbm-train"; do
		[[ " ${OMIT:-} " == *" ${a%%=*} "* ]] || attrs+=(--attr "$a")
	done
	awk -v k="$k" -v V="$V" -v H="$HP" -v smooth="${SMOOTH:-0}" 'BEGIN {
		for (v = 0; v < V; v++) for (j = 0; j < H; j++)
			print smooth ? sin(100 * k + 10 * v + j) / 4 : 100 * k + 10 * v + j
		for (v = 0; v < V; v++) print k + v / 8
		for (j = 0; j < H; j++) print smooth ? cos(k + j) / 2 : -k - j / 4
		for (v = 0; v < V; v++) print smooth ? 1 : 1 + k / 4 + v / 32 }' |
		mkstream "${attrs[@]}" "W f32 [$V,$HP]" "vbias f32 [$V]" "hbias f32 [$HP]" "sigma f32 [$V]"
}

# parts C IH IW S T S2 HP: every patch model of the layout in $D/p<K>.rbm;
# sets NP to their number
parts() {
	local rows=$((($2 - $4) / $5 + 1)) cols=$((($3 - $4) / $5 + 1)) k
	NP=$((rows * cols + ($6 > 0)))
	for ((k = 0; k < NP; k++)); do part $k "$@" >"$D/p$k.rbm"; done
}

# check_merged C IH IW S T S2 HP < DUMP: the dump of the merged model is
# the section 2.5.1 merge of the part() models, every value, computed anew
check_merged() {
	$PY -c '
import sys
C, IH, IW, S, T, S2, HP = map(int, sys.argv[1:8])
pos = [(i * T, j * T) for i in range((IH - S) // T + 1) for j in range((IW - S) // T + 1)]
P = len(pos) + (S2 > 0); V = C * IH * IW; H = P * HP
W = [[0.0] * H for _ in range(V)]; vb = [[] for _ in range(V)]; sg = [[] for _ in range(V)]
def put(k, v, pixels, div):   # unit v of patch k covers these pixels
    for p in pixels:
        for j in range(HP): W[p][k * HP + j] = (100 * k + 10 * v + j) / div
        vb[p].append(k + v / 8); sg[p].append(1 + k / 4 + v / 32)
for k, (r0, c0) in enumerate(pos):
    for c in range(C):
        for y in range(S):
            for x in range(S):
                put(k, (c * S + y) * S + x, [(c * IH + r0 + y) * IW + c0 + x], 1)
if S2:
    fh, fw = IH // S2, IW // S2
    for c in range(C):
        for y in range(S2):
            for x in range(S2):
                put(len(pos), (c * S2 + y) * S2 + x, [(c * IH + y * fh + a) * IW + x * fw + b
                    for a in range(fh) for b in range(fw)], fh * fw)
# a pixel in no patch: vbias 0, sigma the mean of every sigma of every part
alls = [1 + k / 4 + v / 32 for k in range(P) for v in range(C * (S2 if k == len(pos) else S) ** 2)]
mean = lambda l, empty: sum(l) / len(l) if l else empty
want = {"W": [w for row in W for w in row], "hbias": [-k - j / 4 for k in range(P) for j in range(HP)],
        "vbias": [mean(l, 0) for l in vb], "sigma": [mean(l, mean(alls, 0)) for l in sg]}
got = dict(kv.split("=") for kv in sys.stdin.read().split())
bad = 0
for f, w in want.items():
    g = [float(s) for s in got[f].split(",")]
    if len(g) != len(w):
        print(f, "has", len(g), "values, expected", len(w)); bad = 1; continue
    for i, (a, b) in enumerate(zip(g, w)):
        if abs(a - b) > 1e-6 * max(1, abs(b)):
            print("%s[%d] = %r, expected %r" % (f, i, a, b)); bad = 1
print("checked", sum(len(w) for w in want.values()), "values")
sys.exit(bad)
' "$@"
}

setup() {
	D="$BATS_TEST_TMPDIR"
}

@test "no models, or an option, is a usage error" {
	run -2 tiny-rbm-merge
	assert_output --partial "usage: tiny-rbm-merge PATCHMODEL..."
	run -2 tiny-rbm-merge --frobnicate a.rbm
	assert_output --partial "unknown option '--frobnicate'"
	run -2 tiny-rbm-merge -
}

@test "a model without patch_kept or without its layout is rejected by name, and nothing is written" {
	parts 1 4 4 2 2 2 2
	OMIT=patch_kept part 3 1 4 4 2 2 2 2 >"$D/p3.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,3,4}.rbm
	[ "$stderr" = "tiny-rbm-merge: $D/p3.rbm: no attribute 'patch_kept' (a patch model is trained on tiny-patchify --patch K output, whose layout it copies)" ]
	assert_output ""
	OMIT=patch_positions part 0 1 4 4 2 2 2 2 >"$D/p0.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,4}.rbm
	[[ "$stderr" == *"$D/p0.rbm: no attribute 'patch_positions'"* ]]
	assert_output ""
}

@test "a malformed layout attribute is rejected naming it" {
	part 0 1 4 4 2 2 2 2 --attr patch_grid=2 >"$D/g.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D/g.rbm"
	[ "$stderr" = "tiny-rbm-merge: $D/g.rbm: patch_grid '2' is not 2 numbers from 1 to 2147483647 separated by commas" ]
	assert_output ""
	part 0 1 4 4 2 2 2 2 --attr 'patch_positions=0:0 0:2 2:0' >"$D/p.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D/p.rbm"
	[[ "$stderr" == *"$D/p.rbm: patch_positions: item 3 of the 4 that patch_grid 2,2 promises is not 'r:c' with a 2x2 patch inside the 4x4 image" ]]
	part 0 1 4 4 2 2 2 2 --attr 'patch_positions=0:0 0:2 2:0 2:3' >"$D/p.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D/p.rbm"
	[[ "$stderr" == *"item 4 of the 4"* ]]
	part 0 1 4 4 2 2 2 2 --attr patch_size=x >"$D/s.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D/s.rbm"
	[[ "$stderr" == *"patch_size 'x' is not 1 number from 1 to 2147483647"* ]]
}

@test "a stream that is not an RBM is rejected" {
	parts 1 4 4 2 2 2 2
	small >"$D/d.tiny"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,3,4}.rbm "$D/d.tiny"
	[[ "$stderr" == *"$D/d.tiny: not an RBM model"* ]]
	assert_output ""
}

@test "models that disagree on the layout, the visible units or H are rejected naming both" {
	parts 1 4 4 2 2 2 2
	part 2 1 4 4 2 2 2 2 --attr patch_stride=1 >"$D/x2.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1}.rbm "$D/x2.rbm" "$D"/p{3,4}.rbm
	[ "$stderr" = "tiny-rbm-merge: $D/x2.rbm: patch_stride '1' disagrees with $D/p0.rbm's '2'" ]
	assert_output ""
	part 1 2 4 4 2 2 2 2 >"$D/x1.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p0.rbm "$D/x1.rbm"
	[[ "$stderr" == *"$D/x1.rbm: image_shape '2,4,4' disagrees with $D/p0.rbm's '1,4,4'" ]]
	VIS=binary part 4 1 4 4 2 2 2 2 >"$D/x4.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,3}.rbm "$D/x4.rbm"
	[ "$stderr" = "tiny-rbm-merge: $D/x4.rbm has binary visible units, $D/p0.rbm gaussian" ]
	part 3 1 4 4 2 2 2 3 >"$D/x3.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{4,0,1,2}.rbm "$D/x3.rbm"
	[ "$stderr" = "tiny-rbm-merge: $D/x3.rbm has H = 3 hidden units, $D/p4.rbm has 2 (all parts need the same H)" ]
	assert_output ""
}

@test "a missing, repeated or out-of-range patch is an error, and nothing is written" {
	parts 1 4 4 2 2 2 2
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,4}.rbm
	[ "$stderr" = "tiny-rbm-merge: no model for patch 3 (the layout of $D/p0.rbm has 5: 0..4)" ]
	assert_output ""
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,4}.rbm
	[[ "$stderr" == *"no model for patches 1 2 3 "* ]]
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,3,4}.rbm "$D/p2.rbm"
	[ "$stderr" = "tiny-rbm-merge: $D/p2.rbm and $D/p2.rbm both hold patch 2" ]
	part 5 1 4 4 2 2 2 2 >"$D/p5.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D"/p{0,1,2,3,4,5}.rbm
	[[ "$stderr" == *"$D/p5.rbm: patch_kept '5' is not a patch number from 0 to 4 (the 5 patches of the layout)" ]]
	assert_output ""
}

@test "a subsample that does not divide the image, or a model of the wrong V, is rejected" {
	part 0 1 5 5 2 2 2 2 >"$D/f0.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D/f0.rbm"
	[ "$stderr" = "tiny-rbm-merge: $D/f0.rbm: patch_subsample 2 does not divide the 5x5 image" ]
	assert_output ""
	parts 1 4 4 2 2 2 2
	part 1 1 4 4 2 2 2 2 --attr image_shape=2,4,4 >"$D/v1.rbm"
	run -1 --separate-stderr tiny-rbm-merge "$D/v1.rbm"
	[ "$stderr" = "tiny-rbm-merge: $D/v1.rbm: V = 4 visible units, but patch 1 is 2x2 pixels of 2 channels, V = 8" ]
	assert_output ""
}

@test "4 grid patches and the subsampled one of a 1x4x4 image, by hand" {
	parts 1 4 4 2 2 2 2
	tiny-rbm-merge "$D"/p{3,1,4,0,2}.rbm >"$D/big.rbm"
	# pixel 0 is unit 0 of patch 0 (W 0, 1) and of the subsampled patch 4
	# (W 400, 401, divided by 4); pixel 15 is unit 3 of patch 3 (330, 331)
	# and unit 3 of patch 4 ((430, 431) / 4)
	run bash -c "tiny-dump --fields W '$D/big.rbm' | cut -d= -f2 | tr , '\n' | sed -n '1,10p;151,160p' | xargs"
	assert_output "0 1 0 0 0 0 0 0 100 100.25 0 0 0 0 0 0 330 331 107.5 107.75"
	# vbias of pixel 0: the mean of patch 0's 0 and patch 4's 4; hbias in patch order
	run tiny-dump --fields vbias,hbias "$D/big.rbm"
	assert_output --regexp '^vbias=2,.* hbias=0,-0.25,-1,-1.25,-2,-2.25,-3,-3.25,-4,-4.25$'
}

@test "every weight, bias and sigma of a 2x4x4 merge with a subsampled patch" {
	parts 2 4 4 2 2 2 2
	tiny-rbm-merge "$D"/p{4,3,2,1,0}.rbm >"$D/big.rbm"
	run check_merged 2 4 4 2 2 2 2 < <(tiny-dump "$D/big.rbm")
	assert_success
	assert_output "checked 394 values"
}

@test "every value of an overlapping stride-1 merge, where up to five models cover a pixel" {
	parts 1 4 4 2 1 2 3
	[ "$NP" = 10 ]
	tiny-rbm-merge "$D"/p{0..9}.rbm >"$D/big.rbm"
	run check_merged 1 4 4 2 1 2 3 < <(tiny-dump "$D/big.rbm")
	assert_success
	assert_output "checked 542 values"
	# the centre pixel (1,1) = 5 is in patches 0, 1, 3, 4 (units 3, 2, 1, 0)
	# and the subsampled patch 9's unit 0: vbias = (0 + 3/8 + 1 + 2/8 + 3 + 1/8 + 4 + 9) / 5,
	# 3.55 in f32
	run bash -c "tiny-dump --fields vbias '$D/big.rbm' | cut -d= -f2 | cut -d, -f6"
	assert_output "3.54999995"
}

@test "a layout without subsampling, and a grid that leaves the edge out" {
	# stride 2 on a 1x5x5 image: row and column 4 lie in no patch
	parts 1 5 5 2 2 0 2
	[ "$NP" = 4 ]
	run -0 --separate-stderr bash -c "tiny-rbm-merge $D/p{0..3}.rbm >'$D/big.rbm'"
	[[ "$stderr" == *"9 of the 25 visible units lie in no patch: vbias 0, sigma "* ]]
	run check_merged 1 5 5 2 2 0 2 < <(tiny-dump "$D/big.rbm")
	assert_success
	assert_output "checked 258 values"
	# pixel (0,4) is in no patch; (4,4) neither
	run bash -c "tiny-dump --fields vbias '$D/big.rbm' | cut -d= -f2 | cut -d, -f5,25"
	assert_output "0,0"
}

@test "the merged model is an RBM of the image: shape, merged_from, patch 0's history and its own, no training state" {
	parts 1 4 4 2 2 2 2
	part 0 1 4 4 2 2 2 2 --attr train_epoch=20 --attr train_seed=7 >"$D/p0.rbm"
	tiny-rbm-merge "$D"/p{4,3,2,1,0}.rbm >"$D/big.rbm"
	run tiny-info --json "$D/big.rbm"
	assert_output --partial '{"name": "W", "dtype": "f32", "shape": [16, 10]}'
	assert_output --partial '"shape": ["1,4,4"]'
	assert_output --partial '"merged_from": ["P=5 H_p=2"]'
	assert_output --partial '"rbm_visible": ["gaussian"]'
	assert_output --partial "\"history\": [\"tiny-patchify --size 2 --stride 2 --patch 0\", \"tiny-rbm-train\", \"tiny-rbm-merge $D/p4.rbm"
	refute_output --partial "patch_kept"
	refute_output --partial "train_"
	# and it applies to whole images
	seq 16 | mkstream 'x u8 [1,4,4]' | tiny-features -q "$D/big.rbm" >"$D/f.tiny"
	run tiny-info --json "$D/f.tiny"
	assert_output --partial '{"name": "x", "dtype": "f32", "shape": [10]}'
}

@test "with sigma 1 the merged RBM's features of an image are the parts' features of its patches" {
	SMOOTH=1 parts 2 4 4 2 1 2 3
	tiny-rbm-merge "$D"/p{0..9}.rbm >"$D/big.rbm"
	awk 'BEGIN { for (n = 0; n < 3; n++) for (i = 0; i < 32; i++) print (n * 7 + i * 5) % 11 / 4 }' |
		mkstream 'x f32 [2,4,4]' >"$D/img.tiny"
	for k in {0..9}; do
		tiny-patchify --size 2 --stride 1 --subsample 2 --patch $k "$D/img.tiny" |
			tiny-features -q "$D/p$k.rbm" | tiny-dump --fields x | cut -d= -f2 >"$D/f$k.txt"
	done
	paste -d, "$D"/f{0..9}.txt >"$D/parts.txt"
	tiny-features -q "$D/big.rbm" "$D/img.tiny" | tiny-dump --fields x | cut -d= -f2 >"$D/big.txt"
	run awk -F, 'NR == FNR { for (i = 1; i <= NF; i++) want[FNR, i] = $i; n[FNR] = NF; next }
		NF != 30 || NF != n[FNR] { print "record " FNR ": " NF " units"; bad = 1 }
		{ for (i = 1; i <= NF; i++) if ($i - want[FNR, i] > 1e-6 || want[FNR, i] - $i > 1e-6) {
			print "record " FNR " unit " i ": " $i " != " want[FNR, i]; bad = 1 } }
		END { if (FNR != 3) bad = 1; exit bad }' "$D/parts.txt" "$D/big.txt"
	assert_success
}
