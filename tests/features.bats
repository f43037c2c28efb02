#!/usr/bin/env bats
# tiny-features: x becomes p(h = 1 | x) under an RBM; everything else passes through.

load helpers/common

# rbm FILE V H gaussian|binary NUMBERS...: a model built by hand (W row-major
# [V,H], then vbias [V], hbias [H], sigma [V])
rbm() {
	local f=$1 V=$2 H=$3 vis=$4
	shift 4
	echo "$*" | mkstream --attr rbm_visible="$vis" "W f32 [$V,$H]" "vbias f32 [$V]" "hbias f32 [$H]" \
		"sigma f32 [$V]" >"$f"
}

# check_probs MODEL IN OUT: OUT's x is logistic(hbias + (x / sigma) W) of
# IN's x, record by record, to 1e-6, computed again here in awk
check_probs() {
	paste -d' ' <(tiny-dump --fields x "$2") <(tiny-dump --fields x "$3") |
		awk -v m="$(tiny-dump --fields W,hbias,sigma "$1")" '
		BEGIN {
			n = split(m, kv, " ")
			for (k = 1; k <= n; k++) { split(kv[k], q, "="); par[q[1]] = q[2] }
			H = split(par["hbias"], hb, ","); V = split(par["sigma"], sg, ","); split(par["W"], w, ",")
		}
		{
			if (split(substr($1, 3), x, ",") != V || split(substr($2, 3), y, ",") != H) {
				print "record " NR ": wrong sizes"; bad = 1; next
			}
			for (j = 1; j <= H; j++) {
				a = hb[j]
				for (i = 1; i <= V; i++) a += x[i] / sg[i] * w[(i - 1) * H + j]
				p = 1 / (1 + exp(-a))
				if (p - y[j] > 1e-6 || y[j] - p > 1e-6) { print "record " NR " unit " j ": " y[j] " != " p; bad = 1 }
			}
		}
		END { exit bad }'
}

setup() {
	M="$BATS_TEST_TMPDIR/m.rbm"
	# V = 2, H = 2: W = [[1,-2],[0.5,3]], vbias 0, hbias (0.5,-1), sigma (2,0.5)
	rbm "$M" 2 2 gaussian 1 -2 0.5 3  0 0  0.5 -1  2 0.5
}

@test "no model, too many files, a bad option, or model and data both on stdin: usage errors" {
	run -2 tiny-features
	assert_output --partial "usage: tiny-features [-q] MODEL [FILE]"
	run -2 tiny-features "$M" a b
	run -2 tiny-features --frobnicate "$M"
	run -2 tiny-features - -
	assert_output --partial "cannot both come from stdin"
}

@test "data with another V than the model is one error naming both numbers, and nothing is written" {
	mkstream 'x f32 [3]' <<<'1 2 3' >"$BATS_TEST_TMPDIR/d3.tiny"
	run -1 --separate-stderr tiny-features "$M" "$BATS_TEST_TMPDIR/d3.tiny"
	[ "$stderr" = "tiny-features: $M is an RBM of V = 2 visible units; $BATS_TEST_TMPDIR/d3.tiny's x has 3 values" ]
	assert_output ""
}

@test "a ZCA model or a plain data stream is not an RBM, and is rejected" {
	mkstream 'x f64 [2]' <<<'1 2  3 6  5 4' | tiny-cov | tiny-zca -q --fit >"$BATS_TEST_TMPDIR/k.zca"
	small >"$BATS_TEST_TMPDIR/d.tiny"
	run -1 --separate-stderr tiny-features "$BATS_TEST_TMPDIR/k.zca" "$BATS_TEST_TMPDIR/d.tiny"
	[[ "$stderr" == "tiny-features: $BATS_TEST_TMPDIR/k.zca: not an RBM model (expected fields W, vbias, hbias, sigma"* ]]
	assert_output ""
	run -1 --separate-stderr tiny-features "$BATS_TEST_TMPDIR/d.tiny" "$BATS_TEST_TMPDIR/d.tiny"
	[[ "$stderr" == *"d.tiny: not an RBM model"* ]]
	assert_output ""
}

@test "a model with a negative sigma, or no data field x, is rejected with nothing written" {
	rbm "$BATS_TEST_TMPDIR/neg.rbm" 2 1 gaussian 1 1  0 0  0  1 -1
	small >"$BATS_TEST_TMPDIR/d.tiny"
	run -1 --separate-stderr tiny-features "$BATS_TEST_TMPDIR/neg.rbm" "$BATS_TEST_TMPDIR/d.tiny"
	[[ "$stderr" == *"neg.rbm: sigma[1] is -1; a standard deviation must be above 0" ]]
	assert_output ""
	mkstream 'y f32 [2]' <<<'1 2' >"$BATS_TEST_TMPDIR/y.tiny"
	run -1 --separate-stderr tiny-features "$M" "$BATS_TEST_TMPDIR/y.tiny"
	[[ "$stderr" == *"no field 'x'"* ]]
	assert_output ""
}

@test "NaN in the data is rejected with its record number, and nothing is written" {
	run -1 --separate-stderr bash -c "mkstream 'x f32 [2]' <<<'1 2  3 nan' | tiny-features '$M'"
	[[ "$stderr" == *"stdin: record 1 has NaN in field 'x'"* ]]
	assert_output ""
}

@test "p(h|x) of a 2x2 model, by hand" {
	# x = (1,2):  x/sigma = (0.5,4),  hbias + (x/sigma) W = (3, 10)
	# x = (-2,0): x/sigma = (-1,0),   hbias + (x/sigma) W = (-0.5, 1)
	mkstream 'x f32 [2]' <<<'1 2  -2 0' >"$BATS_TEST_TMPDIR/d.tiny"
	run bash -c "tiny-features '$M' '$BATS_TEST_TMPDIR/d.tiny' | tiny-dump | tr '=,' '  '"
	assert_success
	awk 'function s(a) { return 1 / (1 + exp(-a)) }
	     function off(v, e) { return v - e > 1e-6 || e - v > 1e-6 }
	     NR == 1 && (off($2, s(3)) || off($3, s(10))) { exit 1 }
	     NR == 2 && (off($2, s(-0.5)) || off($3, s(1))) { exit 1 }
	     END { if (NR != 2) exit 1 }' <<<"$output"
	check_probs "$M" "$BATS_TEST_TMPDIR/d.tiny" <(tiny-features "$M" "$BATS_TEST_TMPDIR/d.tiny")
}

@test "x becomes f32 [H] in its place; the other fields and the attributes pass through" {
	rbm "$BATS_TEST_TMPDIR/m3.rbm" 2 3 binary 1 2 3 4 5 6  0 0  -1 0 1  1 1
	printf '%s\n' '4 0 1 10' '9 1 1 -20' | mkstream --attr classes=a_b 'label u8 []' 'x u8 [2]' 'idx i32 []' |
		via_pipe /dev/stdin tiny-features "$BATS_TEST_TMPDIR/m3.rbm" >"$BATS_TEST_TMPDIR/f.tiny"
	run tiny-info --json "$BATS_TEST_TMPDIR/f.tiny"
	assert_output --partial "$(printf '%s\n' '  {"name": "label", "dtype": "u8", "shape": []},' \
		'  {"name": "x", "dtype": "f32", "shape": [3]},' '  {"name": "idx", "dtype": "i32", "shape": []}],')"
	assert_output --partial '"classes": ["a_b"]'
	assert_output --partial "tiny-features $BATS_TEST_TMPDIR/m3.rbm"
	run tiny-dump --fields label,idx "$BATS_TEST_TMPDIR/f.tiny"
	assert_output "$(printf '%s\n' 'label=4 idx=10' 'label=9 idx=-20')"
}

@test "a second-layer model with binary visibles applies to the first layer's features" {
	rbm "$BATS_TEST_TMPDIR/l1.rbm" 2 3 gaussian 0.5 -1 2 1.5 0.25 -3  0 0  0.1 0.2 -0.3  1 2
	rbm "$BATS_TEST_TMPDIR/l2.rbm" 3 2 binary 1 -1 2 0.5 -3 4  0 0 0  -0.5 0.25  1 1 1
	mkstream 'label u8 []' 'x f32 [2]' <<<'0 1 2  1 -1 0.5  2 3 -4' >"$BATS_TEST_TMPDIR/d.tiny"
	tiny-features "$BATS_TEST_TMPDIR/l1.rbm" "$BATS_TEST_TMPDIR/d.tiny" >"$BATS_TEST_TMPDIR/h1.tiny"
	tiny-features "$BATS_TEST_TMPDIR/l2.rbm" "$BATS_TEST_TMPDIR/h1.tiny" >"$BATS_TEST_TMPDIR/h2.tiny"
	check_probs "$BATS_TEST_TMPDIR/l1.rbm" "$BATS_TEST_TMPDIR/d.tiny" "$BATS_TEST_TMPDIR/h1.tiny"
	check_probs "$BATS_TEST_TMPDIR/l2.rbm" "$BATS_TEST_TMPDIR/h1.tiny" "$BATS_TEST_TMPDIR/h2.tiny"
	run tiny-dump --fields label "$BATS_TEST_TMPDIR/h2.tiny"
	assert_output "$(printf 'label=%s\n' 0 1 2)"
	run tiny-info --json "$BATS_TEST_TMPDIR/h2.tiny"
	assert_output --partial '{"name": "x", "dtype": "f32", "shape": [2]}'
}

@test "features of a random model agree with NumPy over several blocks" {
	npy_ok
	$PY -c "
import numpy as np
r = np.random.default_rng(5); V, H, N = 20, 7, 600
w = r.normal(size=(V, H)); vb = r.normal(size=V); hb = r.normal(size=H); s = r.uniform(0.5, 2, size=V)
print(' '.join('%.9g' % v for v in np.concatenate([w.ravel(), vb, hb, s])))
x = r.normal(size=(N, V)) * 3
with open('$BATS_TEST_TMPDIR/x.txt', 'w') as f:
    for i in range(N): print(i % 10, ' '.join('%.9g' % v for v in x[i]), file=f)
" | mkstream --attr rbm_visible=gaussian 'W f32 [20,7]' 'vbias f32 [20]' 'hbias f32 [7]' 'sigma f32 [20]' \
		>"$BATS_TEST_TMPDIR/r.rbm"
	mkstream 'label u8 []' 'x f32 [20]' <"$BATS_TEST_TMPDIR/x.txt" >"$BATS_TEST_TMPDIR/x.tiny"
	tiny-features "$BATS_TEST_TMPDIR/r.rbm" "$BATS_TEST_TMPDIR/x.tiny" | tiny-npy x >"$BATS_TEST_TMPDIR/p.npy"
	for f in W hbias sigma; do tiny-npy $f "$BATS_TEST_TMPDIR/r.rbm" >"$BATS_TEST_TMPDIR/$f.npy"; done
	tiny-npy x "$BATS_TEST_TMPDIR/x.tiny" >"$BATS_TEST_TMPDIR/x.npy"
	run $PY -c "
import numpy as np
l = lambda f: np.load('$BATS_TEST_TMPDIR/%s.npy' % f).astype(float)
w, hb, s = l('W'), l('hbias'), l('sigma')
x = np.load('$BATS_TEST_TMPDIR/x.npy').astype(float); p = np.load('$BATS_TEST_TMPDIR/p.npy')
ref = 1 / (1 + np.exp(-(hb + (x / s) @ w)))
e = abs(p - ref).max(); print(p.shape, e); assert p.shape == (600, 7) and e < 1e-6
"
	assert_success
}

@test "an RBM trained on raw data refuses whitened data and the other way round, in one line; features say whose they are" {
	npy_ok
	local T=$BATS_TEST_TMPDIR
	$PY -c "
import numpy as np
r = np.random.default_rng(5); x = r.normal(size=(300, 6)) @ r.normal(size=(6, 6)) + 3
for i in range(300): print(i % 3, ' '.join('%.9g' % v for v in x[i]))
" | mkstream 'label u8 []' 'x f32 [6]' >"$T/raw.tiny"
	tiny-cov -q "$T/raw.tiny" | tiny-zca -q --fit >"$T/zca.tiny"
	tiny-zca -q "$T/zca.tiny" "$T/raw.tiny" >"$T/white.tiny"
	tiny-rbm-train -q --hidden 4 --epochs 1 --sigma data "$T/raw.tiny" >"$T/raw.rbm"
	tiny-rbm-train -q --hidden 4 --epochs 1 "$T/white.tiny" >"$T/white.rbm"
	local fp
	fp=$(tiny-info "$T/white.tiny" | awk '$2 == "zca_fingerprint" { print $3 }')
	run -0 tiny-info "$T/white.rbm"
	assert_line "attr data_origin zca_fingerprint=$fp"
	run -1 --separate-stderr tiny-features "$T/raw.rbm" "$T/white.tiny"
	[ "$stderr" = "tiny-features: $T/white.tiny: whitened (zca_fingerprint $fp), but $T/raw.rbm was trained on data that is not" ]
	[ -z "$output" ]
	run -1 --separate-stderr tiny-features "$T/white.rbm" "$T/raw.tiny"
	[ "$stderr" = "tiny-features: $T/raw.tiny: not whitened, but $T/white.rbm was trained on data that is (zca_fingerprint $fp): whiten it with the same tiny-zca model first" ]
	# the features are the model's, not whitened; a model of them holds data to that
	tiny-features "$T/white.rbm" "$T/white.tiny" >"$T/h.tiny"
	run -0 tiny-info "$T/h.tiny"
	refute_line --partial "zca_fingerprint"
	assert_line --regexp '^attr features_of [0-9a-f]{16}$'
	tiny-logreg -q --train "$T/h.tiny" >"$T/h.logreg"
	run -1 --separate-stderr tiny-logreg "$T/h.logreg" "$T/white.tiny"
	[[ "$stderr" == "tiny-logreg: $T/white.tiny: not features of a model, but $T/h.logreg was trained on data that is (features_of "*"): make its features with the same model first" ]]
	tiny-logreg "$T/h.logreg" "$T/h.tiny" >/dev/null
}
