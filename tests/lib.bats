#!/usr/bin/env bats
# lib/: the unit tests (tests/tools/unit.c) and the header parser under
# libFuzzer (fuzz/header_fuzz.c) for FUZZ_SECONDS, seeded with fuzz/seeds
# and the bad fixtures of tests/fixtures/bad.

load helpers/common

@test "unit tests of lib/ pass" {
	run -0 "$TINY_ROOT/build/tests/unit"
	assert_output --partial " 0 failed"
	refute_line --partial "FAIL"
}

@test "the header parser survives ${FUZZ_SECONDS:-20} s of fuzzing" {
	local fuzzer="$TINY_ROOT/build/fuzz/header_fuzz"
	[ -x "$fuzzer" ] || skip "no $fuzzer (make build/fuzz/header_fuzz)"
	local corpus="$BATS_TEST_TMPDIR/corpus"
	mkdir -p "$corpus"
	cp "$TINY_ROOT"/fuzz/seeds/* "$corpus/"
	# the fixtures' headers (at most -max_len bytes of each) as extra seeds
	local f
	for f in "$FIXTURES"/bad/*.tiny; do
		head -c 4096 "$f" >"$corpus/bad-${f##*/}"
	done
	# crashes, if any, are written to the test's directory, not the tree
	run "$fuzzer" -max_total_time="${FUZZ_SECONDS:-20}" -max_len=4096 -print_final_stats=0 \
		-artifact_prefix="$BATS_TEST_TMPDIR/" "$corpus"
	if [ "$status" -ne 0 ]; then
		echo "$output" | tail -40
		ls "$BATS_TEST_TMPDIR"/crash-* "$BATS_TEST_TMPDIR"/leak-* 2>/dev/null | while read -r c; do
			echo "crashing input $c:"
			od -c "$c" | head -20
		done
		return 1
	fi
	assert_output --partial "Done "
}

@test "every program answers --version, and -h and --help with its manual page, on stdout with exit 0" {
	commit=$(git -C "$TINY_ROOT" describe --always --dirty 2>/dev/null || echo unknown)
	n=0
	for p in "$TINY_ROOT"/bin/tiny-*; do
		name=${p##*/}
		run -0 --separate-stderr "$p" --version
		assert_output "$name (tiny, stream format 1) $commit"
		run -0 --separate-stderr "$p" -h
		[[ "${lines[0]}" == NAME && "${lines[1]}" == *" $name - "* ]] || fail "$name -h: ${lines[0]} ${lines[1]}"
		run -0 --separate-stderr "$p" --help
		[[ "${lines[0]}" == NAME && "${lines[1]}" == *" $name - "* ]] || fail "$name --help: ${lines[0]} ${lines[1]}"
		n=$((n + 1))
	done
	[ "$n" -ge 20 ]
}

@test "every stream a program writes says its kind in the attribute kind, whatever its input said" {
	local T=$BATS_TEST_TMPDIR
	kind() { tiny-info "$1" | awk '$1 == "attr" && $2 == "kind" { print $3 }'; }
	tiny-fetch -q synthetic --count 60 | tiny-take --first 60 >"$T/d.tiny"
	tiny-patchify --size 4 --stride 8 "$T/d.tiny" >"$T/p.tiny"
	tiny-cov -q "$T/p.tiny" >"$T/c.tiny"
	tiny-zca -q --fit --epsilon 0.1 "$T/c.tiny" >"$T/z.tiny"
	tiny-rbm-train -q --hidden 4 --epochs 1 --sigma data --checkpoint "$T/ck.tiny" --log "$T/log.tiny" \
		"$T/p.tiny" >"$T/r.tiny"
	tiny-logreg -q --train "$T/p.tiny" >"$T/lr.tiny"
	tiny-logreg -q "$T/lr.tiny" "$T/p.tiny" >"$T/pred.tiny"
	tiny-backprop -q --train --hidden 3 --epochs 2 "$T/p.tiny" >"$T/net.tiny"
	tiny-kmeans -q -k 3 "$T/p.tiny" >"$T/k.tiny"
	tiny-dump --fields x "$T/p.tiny" | head -1 >/dev/null
	[ "$(kind "$T/d.tiny")" = labelled-data ]
	[ "$(kind "$T/p.tiny")" = labelled-data ]
	[ "$(kind "$T/c.tiny")" = covariance ]
	[ "$(kind "$T/z.tiny")" = zca ]
	[ "$(kind "$T/r.tiny")" = rbm ]
	[ "$(kind "$T/ck.tiny")" = checkpoint ]
	[ "$(kind "$T/log.tiny")" = log ]
	[ "$(kind "$T/lr.tiny")" = logreg ]
	[ "$(kind "$T/pred.tiny")" = predictions ]
	[ "$(kind "$T/net.tiny")" = net ]
	[ "$(kind "$T/k.tiny")" = filter-bank ]
	# one kind attribute, not one per stage that copied it
	[ "$(tiny-info "$T/pred.tiny" | grep -c '^attr kind ')" = 1 ]
}
