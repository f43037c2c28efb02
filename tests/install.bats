#!/usr/bin/env bats
# make install and make uninstall, into a DESTDIR: the programs run from
# where they are installed, the NumPy loader and the pipelines come along,
# and uninstall removes exactly what install put there.

load helpers/common

@test "make install PREFIX DESTDIR puts the programs, the loader and the pipelines in place; uninstall removes them" {
	local d="$BATS_TEST_TMPDIR/root" p=/opt/tiny
	run -0 make -C "$TINY_ROOT" --no-print-directory install PREFIX=$p DESTDIR="$d"
	assert_line "installed 22 programs in $d$p/bin"
	local n
	n=$(find "$d$p/bin" -name 'tiny-*' -perm -u+x | wc -l)
	[ "$n" -eq "$(find "$TINY_ROOT/bin" -name 'tiny-*' | wc -l)" ]
	# an installed program runs from there, with nothing of the checkout on PATH
	run -0 env PATH="$d$p/bin:/usr/bin:/bin" bash -c 'tiny-fetch -q synthetic --count 3 | tiny-info -q'
	assert_line "records 3"
	run -0 env PATH="$d$p/bin:/usr/bin:/bin" tiny-conv --version
	assert_output --regexp '^tiny-conv \(tiny, stream format 1\) '
	[ -f "$d$p/share/tiny/formats/tiny_stream.py" ] && [ -f "$d$p/share/tiny/formats/stream.md" ]
	# every program's manual page, where man finds it
	[ "$(find "$d$p/share/man/man1" -name 'tiny-*.1' | wc -l)" = "$n" ]
	if command -v man >/dev/null; then
		run -0 env MANPATH="$d$p/share/man" man -P cat tiny-take
		assert_output --partial "tiny-take - pick records"
	fi
	[ -x "$d$p/share/tiny/pipelines/timed" ] && [ -f "$d$p/share/tiny/pipelines/demo.mk" ]
	# an installed pipeline runs its helpers from beside it (what make would
	# run for the first parts of make conv, in a directory of its own)
	mkdir "$BATS_TEST_TMPDIR/work"
	cd "$BATS_TEST_TMPDIR/work"
	run -0 env PATH="$d$p/bin:/usr/bin:/bin" make -f "$d$p/share/tiny/pipelines/conv.mk" OUT=out SOURCE= \
		out/patches.cov --dry-run
	assert_output --partial "$d$p/share/tiny/pipelines/timed out/patches.tiny tiny-patchify"
	run -0 make -C "$TINY_ROOT" --no-print-directory uninstall PREFIX=$p DESTDIR="$d"
	[ -z "$(find "$d" -type f)" ]
}
