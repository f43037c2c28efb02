#!/usr/bin/env bats
# Every model loader checks each field of its model against the model's own
# shape with lib's one check (model_field, lib/stream.c): one line naming
# the file, the field, the shape expected and the one found; nothing written.

load helpers/common

setup_file() {
	export M="$BATS_FILE_TMPDIR"
	tiny-fetch -q synthetic --count 40 | tiny-patchify --size 4 --stride 8 >"$M/p.tiny"   # 640 x 48
	tiny-cov -q "$M/p.tiny" | tiny-zca -q --fit --epsilon 0.1 >"$M/zca.tiny"
	tiny-zca -q "$M/zca.tiny" "$M/p.tiny" >"$M/w.tiny"
	tiny-rbm-train -q --hidden 5 --epochs 1 --seed 1 "$M/w.tiny" >"$M/rbm.tiny"
	tiny-features -q "$M/rbm.tiny" "$M/w.tiny" >"$M/f.tiny"
	tiny-logreg --train -q --seed 1 "$M/f.tiny" >"$M/lr.tiny"
	tiny-backprop --train -q --hidden 3 --epochs 1 --seed 1 "$M/f.tiny" >"$M/net.tiny"
	tiny-patchify --size 6 --random 2 --normalize 10 <(tiny-fetch -q synthetic --count 40) >"$M/p6.tiny"
	tiny-kmeans -q -k 3 --seed 1 "$M/p6.tiny" >"$M/bank.tiny"
}

# edit SRC OUT A B EXTRA: SRC with header text A replaced by B (same length)
# and EXTRA zero bytes appended, so that the file's size fits the new shape
edit() {
	$PY - "$@" <<'PY'
import sys
src, out, a, b, extra = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode(), int(sys.argv[5])
data = open(src, 'rb').read()
end = data.index(b'\nend\n')
assert len(a) == len(b) and data[:end].count(a) == 1, (a, data[:end])
open(out, 'wb').write(data[:end].replace(a, b) + data[end:] + b'\0' * extra)
PY
}

# rejected CMD... : exit 1, nothing on stdout, one line on stderr equal to $want
rejected() {
	run -1 --separate-stderr "$@"
	[ -z "$output" ]
	[ "${#lines[@]}" -eq 0 ]
	[ "$stderr" = "$want" ] || { echo "got:  $stderr"; echo "want: $want"; return 1; }
}

@test "an RBM whose hbias or sigma does not fit W is named, for tiny-features and tiny-rbm-train --init" {
	edit "$M/rbm.tiny" "$M/bad.tiny" "hbias f32 [5]" "hbias f32 [6]" 4
	want="tiny-features: $M/bad.tiny: field 'hbias' of a tiny-rbm-train model must be f32 or f64 [5], not f32 [6]"
	rejected tiny-features "$M/bad.tiny" "$M/w.tiny"
	want="tiny-rbm-train: $M/bad.tiny: field 'hbias' of a tiny-rbm-train model must be f32 or f64 [5], not f32 [6]"
	rejected tiny-rbm-train -q --epochs 1 --init "$M/bad.tiny" "$M/w.tiny"
	edit "$M/rbm.tiny" "$M/bad2.tiny" "sigma f32 [48]" "sigma i32 [48]" 0
	want="tiny-features: $M/bad2.tiny: field 'sigma' of a tiny-rbm-train model must be f32 or f64 [48], not i32 [48]"
	rejected tiny-features "$M/bad2.tiny" "$M/w.tiny"
}

@test "a logistic regression whose b, mu or sd does not fit W is named" {
	local K D
	K=$(tiny-info "$M/lr.tiny" | awk '$1 == "field" && $2 == "b" { print $4 }')
	[ "$K" = "[10]" ]
	edit "$M/lr.tiny" "$M/bad.tiny" "b f32 [10]" "b f32 [11]" 4
	want="tiny-logreg: $M/bad.tiny: field 'b' of a tiny-logreg model must be f32 [10], not f32 [11]"
	rejected tiny-logreg "$M/bad.tiny" "$M/f.tiny"
	edit "$M/lr.tiny" "$M/bad2.tiny" "sd f32 [5]" "sd f64 [5]" 20
	want="tiny-logreg: $M/bad2.tiny: field 'sd' of a tiny-logreg model must be f32 [5], not f64 [5]"
	rejected tiny-logreg "$M/bad2.tiny" "$M/f.tiny"
}

@test "a ZCA model whose W is not D x D is named, for tiny-zca and tiny-conv; a covariance given as one says so" {
	edit "$M/zca.tiny" "$M/bad.tiny" "W f32 [48,48]" "W f32 [48,47]" 0
	# the record is now 192 bytes shorter than the file: caught as data after it
	run -1 tiny-zca "$M/bad.tiny" "$M/p.tiny"
	edit "$M/zca.tiny" "$M/bad.tiny" "Winv f32 [48,48]" "Winv f32 [49,48]" 192
	want="tiny-zca: $M/bad.tiny: field 'Winv' of a tiny-zca model must be f32 [48,48], not f32 [49,48]"
	rejected tiny-zca --inverse "$M/bad.tiny" "$M/w.tiny"
	tiny-cov -q "$M/p.tiny" >"$M/cov.tiny"
	want="tiny-zca: $M/cov.tiny: not a tiny-zca model (expected mean f32 [D], W, Winv and eigvec f32 [D,D]); this is a covariance: fit a model of it with tiny-zca --fit"
	rejected tiny-zca "$M/cov.tiny" "$M/p.tiny"
}

@test "a backprop net whose layers do not chain is named; a filter bank's W of another dtype is named" {
	edit "$M/net.tiny" "$M/bad.tiny" "bo f32 [10]" "bo f32 [12]" 8
	want="tiny-backprop: $M/bad.tiny: field 'bo' of a tiny-backprop model must be f32 [10], not f32 [12]"
	rejected tiny-backprop "$M/bad.tiny" "$M/f.tiny"
	edit "$M/net.tiny" "$M/bad2.tiny" "Wo f32 [3,10]" "Wo f32 [4,10]" 40
	want="tiny-backprop: $M/bad2.tiny: field 'Wo' of a tiny-backprop model must be f32 [3,N], not f32 [4,10]"
	rejected tiny-backprop "$M/bad2.tiny" "$M/f.tiny"
	edit "$M/bank.tiny" "$M/bad3.tiny" "W f32 [108,3]" "W f64 [108,3]" 1296
	want="tiny-conv: $M/bad3.tiny: field 'W' of a filter bank must be f32 [D,K], not f64 [108,3]"
	rejected tiny-conv "$M/bad3.tiny" <(tiny-fetch -q synthetic --count 2)
}

@test "a stream given where another kind is needed is named by its kind, with what to run instead" {
	local d="$BATS_TEST_TMPDIR/d.tiny"
	tiny-fetch -q synthetic --count 20 >"$d"
	want="tiny-zca: $d is a labelled data set, not a covariance: --fit takes tiny-cov's output (tiny-cov $d | tiny-zca --fit)"
	rejected tiny-zca --fit "$d"
	want="tiny-logreg: $d is a labelled data set, not a tiny-logreg model (one record with W f32 [D,K], b f32 [K], and optionally mu, sd f32 [D]); to train one on it: tiny-logreg --train"
	rejected tiny-logreg "$d" "$d"
	want="tiny-logreg: $M/rbm.tiny is an RBM (tiny-rbm-train), not a data set: --train needs a labelled data set (fields x and label)"
	rejected tiny-logreg --train "$M/rbm.tiny"
	want="tiny-backprop: $M/zca.tiny is a ZCA model (tiny-zca --fit), not a data set: --train needs a labelled data set (fields x and label)"
	rejected tiny-backprop --train --hidden 3 "$M/zca.tiny"
}
