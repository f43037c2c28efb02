#!/usr/bin/env bats
# The manual: one page per program (man/tiny-STAGE.1), checked against the
# program by tests/tools/man-check (groff -ww clean, the sections, exactly
# the options the program takes, --help printing the page, the EXAMPLES run).

load helpers/common

@test "every program has a manual page and every page a program" {
	local s
	for s in "$TINY_ROOT"/stages/*.c; do
		s=${s##*/}
		[ -f "$TINY_ROOT/man/tiny-${s%.c}.1" ] || fail "no man/tiny-${s%.c}.1"
	done
	for s in "$TINY_ROOT"/man/tiny-*.1; do
		s=${s##*/tiny-}
		[ -f "$TINY_ROOT/stages/${s%.1}.c" ] || fail "man/tiny-$s: no such program"
	done
}

@test "every program has its man-check test below" {
	local s
	for s in "$TINY_ROOT"/stages/*.c; do
		s=${s##*/}
		grep -q "man-check\" ${s%.c}\$" "$BATS_TEST_FILENAME" || fail "no man-check test of ${s%.c}"
	done
}

@test "man-check finds an option left out, one that does not exist, a groff warning and a failing example" {
	local d="$BATS_TEST_TMPDIR/man"
	mkdir "$d"
	# --fields no longer described, --last described, an unknown request, a bad example
	sed -e '/^\.BI \\-\\-fields/,/^\.TP/{/^\.BI/s/fields/last/}' -e '1a\
.XYZZY' -e 's/^tiny-take \\-\\-first 5/tiny-take --first x/' \
		"$TINY_ROOT/man/tiny-take.1" >"$d/tiny-take.1"
	MAN_DIR="$d" run -1 "$TINY_ROOT/tests/tools/man-check" take
	assert_line "take: option --fields is not described in OPTIONS"
	assert_line "take: OPTIONS describes --last, which the program does not take"
	assert_line --partial "take: groff: "
	assert_line --regexp '^take: EXAMPLES failed \(exit [0-9]+\): .*tiny-take: --first x: expected an integer' 
}

@test "-h, --help and --version in every program, whatever else is on the line" {
	run -0 tiny-logreg --train --bogus --help
	assert_line --regexp '^ +tiny-logreg - '
	run -0 tiny-render filters -h
	assert_line "OPTIONS"
	run -0 tiny-rbm-merge --version
	assert_output --regexp '^tiny-rbm-merge \(tiny, stream format 1\) [0-9a-f]+'
}

@test "man -l renders a page with no warning" {
	command -v man >/dev/null || skip "man is not installed"
	run -0 --separate-stderr env MANWIDTH=80 man -l "$TINY_ROOT/man/tiny-rbm-train.1"
	assert_line --partial "tiny-rbm-train"
	[ -z "$stderr" ]
}

@test "man/tiny-backprop.1 matches tiny-backprop" {
	run -0 "$TINY_ROOT/tests/tools/man-check" backprop
}

@test "man/tiny-confusion.1 matches tiny-confusion" {
	run -0 "$TINY_ROOT/tests/tools/man-check" confusion
}

@test "man/tiny-conv.1 matches tiny-conv" {
	run -0 "$TINY_ROOT/tests/tools/man-check" conv
}

@test "man/tiny-cov.1 matches tiny-cov" {
	run -0 "$TINY_ROOT/tests/tools/man-check" cov
}

@test "man/tiny-dedupe.1 matches tiny-dedupe" {
	run -0 "$TINY_ROOT/tests/tools/man-check" dedupe
}

@test "man/tiny-dump.1 matches tiny-dump" {
	run -0 "$TINY_ROOT/tests/tools/man-check" dump
}

@test "man/tiny-features.1 matches tiny-features" {
	run -0 "$TINY_ROOT/tests/tools/man-check" features
}

@test "man/tiny-fetch.1 matches tiny-fetch" {
	run -0 "$TINY_ROOT/tests/tools/man-check" fetch
}

@test "man/tiny-from-text.1 matches tiny-from-text" {
	run -0 "$TINY_ROOT/tests/tools/man-check" from-text
}

@test "man/tiny-info.1 matches tiny-info" {
	run -0 "$TINY_ROOT/tests/tools/man-check" info
}

@test "man/tiny-kmeans.1 matches tiny-kmeans" {
	run -0 "$TINY_ROOT/tests/tools/man-check" kmeans
}

@test "man/tiny-label-filter.1 matches tiny-label-filter" {
	run -0 "$TINY_ROOT/tests/tools/man-check" label-filter
}

@test "man/tiny-logreg.1 matches tiny-logreg" {
	run -0 "$TINY_ROOT/tests/tools/man-check" logreg
}

@test "man/tiny-npy.1 matches tiny-npy" {
	run -0 "$TINY_ROOT/tests/tools/man-check" npy
}

@test "man/tiny-patchify.1 matches tiny-patchify" {
	run -0 "$TINY_ROOT/tests/tools/man-check" patchify
}

@test "man/tiny-rbm-merge.1 matches tiny-rbm-merge" {
	run -0 "$TINY_ROOT/tests/tools/man-check" rbm-merge
}

@test "man/tiny-rbm-train.1 matches tiny-rbm-train" {
	run -0 "$TINY_ROOT/tests/tools/man-check" rbm-train
}

@test "man/tiny-render.1 matches tiny-render" {
	run -0 "$TINY_ROOT/tests/tools/man-check" render
}

@test "man/tiny-take.1 matches tiny-take" {
	run -0 "$TINY_ROOT/tests/tools/man-check" take
}

@test "man/tiny-zca.1 matches tiny-zca" {
	run -0 "$TINY_ROOT/tests/tools/man-check" zca
}

@test "man/tiny-from-images.1 matches tiny-from-images" {
	run -0 "$TINY_ROOT/tests/tools/man-check" from-images
}

@test "man/tiny-from-npy.1 matches tiny-from-npy" {
	run -0 "$TINY_ROOT/tests/tools/man-check" from-npy
}
