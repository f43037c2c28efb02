#!/usr/bin/env bats
# make fuzz-stages, a short pass: every stage, built with AddressSanitizer
# and UBSan (build/asan, made by make test), on mutated data and model
# streams (tests/tools/fuzz-stages.py).  FUZZ_STAGE_RUNS sets its length.

load helpers/common

setup() {
	[ -x "$TINY_ROOT/build/asan/bin/tiny-info" ] || skip "no sanitizer build (make build/asan/.built)"
	cd "$TINY_ROOT"
}

@test "fuzz-stages: a seeded pass over every stage finds no crash, sanitizer report, hang or accepted partial output" {
	run -0 tests/tools/fuzz-stages.py --bin build/asan/bin --runs "${FUZZ_STAGE_RUNS:-300}" --seed 7 \
		--keep "$BATS_TEST_TMPDIR/fail"
	assert_line --regexp '^fuzz-stages: [0-9]+ runs, 0 crashes, 0 sanitizer reports, 0 hangs, 0 partial outputs accepted$'
	# the pass ran stages that succeeded and stages that rejected their input
	assert_line --regexp '^fuzz-stages: exit statuses: 0: [0-9]+, 1: [0-9]+'
}

@test "fuzz-stages: a stage that crashes, hangs or passes a cut stream is caught, with its input kept" {
	local d="$BATS_TEST_TMPDIR/bin" b
	mkdir "$d"
	for b in "$TINY_ROOT"/bin/tiny-*; do ln -s "$b" "$d/"; done
	# tiny-dump dies of a signal, tiny-npy never ends, tiny-take writes a
	# valid empty stream and exits 1
	rm "$d/tiny-dump" "$d/tiny-take" "$d/tiny-npy"
	printf '#!/bin/sh\nkill -SEGV $$\n' >"$d/tiny-dump"
	printf '#!/bin/sh\nexec sleep 20\n' >"$d/tiny-npy"
	cat >"$d/tiny-take" <<-'SH'
		#!/bin/sh
		cat >/dev/null
		printf 'TINY 1 64\ncount 0\nfield x u8 []\nend\n'
		printf '\n%.0s' $(seq 28)
		exit 1
	SH
	chmod +x "$d/tiny-dump" "$d/tiny-take" "$d/tiny-npy"
	run -1 tests/tools/fuzz-stages.py --bin "$d" --runs 200 --seed 7 --timeout 2 --keep "$BATS_TEST_TMPDIR/fail"
	assert_line --regexp '^fuzz-stages: 200 runs, [1-9][0-9]* crashes, 0 sanitizer reports, [1-9][0-9]* hangs, [1-9][0-9]* partial outputs accepted$'
	ls "$BATS_TEST_TMPDIR"/fail/crash-*/in.tiny "$BATS_TEST_TMPDIR"/fail/crash-*/command >/dev/null
	ls "$BATS_TEST_TMPDIR"/fail/seeds/images.tiny >/dev/null
}
