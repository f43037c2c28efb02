#!/usr/bin/env bats
# The README's examples: every ```sh block runs as written, from the
# checkout's root with nothing on PATH but the system's, `make` lines as
# `make -n MAKE=true -o build/asan/.built ...` (the target exists and its
# rules expand; no recursive make or sanitizer build runs: the jobs
# themselves take minutes to hours and have tests of their own).  Blocks that need
# the network, other machines or an hour are fenced ```text.

load helpers/common

# the README's blocks: "LANG<TAB>LINE" for each line inside a fence
blocks() {
	awk '/^```/ { if (lang == "") { lang = substr($0, 4); if (lang == "") lang = "-"; n++ } else lang = ""; next }
		lang != "" { print n "\t" lang "\t" $0 }' "$TINY_ROOT/README.md"
}

@test "every fenced block of the README says whether it runs: sh (run by this test) or text" {
	run -0 bash -c "$(declare -f blocks); TINY_ROOT='$TINY_ROOT' blocks | cut -f2 | sort -u"
	for l in "${lines[@]}"; do
		[[ "$l" == sh || "$l" == text ]] || fail "a README block fenced '$l', not sh or text"
	done
	[[ " ${lines[*]} " == *" sh "* ]]
}

@test "the README's sh blocks run as written" {
	local script="$BATS_TEST_TMPDIR/readme.sh"
	{
		echo 'set -e -o pipefail'
		blocks | awk -F'\t' '$2 == "sh" { l = $3; sub(/^make /, "make -n --no-print-directory MAKE=true -o build/asan/.built -o build/fuzz/header_fuzz ", l); if (l ~ /^make -n/) l = l " >/dev/null"; print l }'
	} >"$script"
	grep -q '^tiny-fetch synthetic' "$script"
	cd "$TINY_ROOT"
	run -0 --separate-stderr env PATH=/usr/bin:/bin bash "$script"
	assert_line "records 200"
	assert_line --partial "NAME"
}
