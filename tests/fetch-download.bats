#!/usr/bin/env bats
# tiny-fetch cifar-10 --source URL: the download path, against a local test
# server (tests/helpers/httpd.py) that can cut transfers short and refuse
# Range requests.  The tarball is a small one in the official CIFAR-10 binary
# layout, made afresh in each test.

load helpers/common

NAME=cifar-10-binary.tar.gz
NTRAIN=14   # records per data_batch_N.bin
NTEST=6     # records in test_batch.bin

setup() {
	export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
	CACHE="$XDG_CACHE_HOME/tiny"
	SRV="$BATS_TEST_TMPDIR/srv"
	OUT="$BATS_TEST_TMPDIR/out.tiny"
	make_tarball
	start_httpd
}

teardown() {
	stop_httpd
}

# --- the test server ---------------------------------------------------------

start_httpd() {
	HTTPD_LOG="$BATS_TEST_TMPDIR/httpd.log"
	local portfile="$BATS_TEST_TMPDIR/httpd.port"
	: >"$HTTPD_LOG"
	# fd 3 closed: bats waits for whatever holds it
	"$PY" "$TINY_ROOT/tests/helpers/httpd.py" "$SRV" "$portfile" "$HTTPD_LOG" \
		>"$BATS_TEST_TMPDIR/httpd.out" 2>&1 3>&- &
	HTTPD_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$portfile" ] && break
		kill -0 "$HTTPD_PID" 2>/dev/null || { cat "$BATS_TEST_TMPDIR/httpd.out" >&2; false; }
		sleep 0.05
	done
	[ -s "$portfile" ] || { echo "httpd.py did not start" >&2; false; }
	PORT=$(<"$portfile")
	BASE="http://127.0.0.1:$PORT"
}

stop_httpd() {
	if [ -n "${HTTPD_PID:-}" ]; then
		kill "$HTTPD_PID" 2>/dev/null || true
		wait "$HTTPD_PID" 2>/dev/null || true
		HTTPD_PID=
	fi
}

# Requests the server has seen, and those among them with a Range header.
requests() { wc -l <"$HTTPD_LOG"; }
ranged() { grep -c 'range=bytes=' "$HTTPD_LOG" || true; }

# --- the tarball ---------------------------------------------------------------

# One record: a label byte, then 3072 random pixel bytes.
record() {
	printf "\\$(printf %03o "$1")"
	head -c 3072 /dev/urandom
}

# $SRV/$NAME: data_batch_{1..5}.bin of $NTRAIN records, test_batch.bin of
# $NTEST, batches.meta.txt; random pixels, so it stays ~250 KB gzip'd.
# Expected labels in $TRAIN_LABELS / $TEST_LABELS, one per line.
make_tarball() {
	local tree="$BATS_TEST_TMPDIR/tree" d b i label
	d="$tree/cifar-10-batches-bin"
	mkdir -p "$d" "$SRV"
	TRAIN_LABELS="$BATS_TEST_TMPDIR/train.labels"
	TEST_LABELS="$BATS_TEST_TMPDIR/test.labels"
	: >"$TRAIN_LABELS"
	: >"$TEST_LABELS"
	for b in 1 2 3 4 5; do
		for ((i = 0; i < NTRAIN; i++)); do
			label=$(((b * 3 + i * 7) % 10))
			record "$label"
			echo "label=$label" >>"$TRAIN_LABELS"
		done >"$d/data_batch_$b.bin"
	done
	for ((i = 0; i < NTEST; i++)); do
		label=$((9 - i))
		record "$label"
		echo "label=$label" >>"$TEST_LABELS"
	done >"$d/test_batch.bin"
	printf '%s\n' airplane automobile bird cat deer dog frog horse ship truck >"$d/batches.meta.txt"
	tar -C "$tree" -cf - cifar-10-batches-bin | gzip -n >"$SRV/$NAME"
	SIZE=$(stat -c %s "$SRV/$NAME")
	MD5=$(md5sum "$SRV/$NAME" | cut -d' ' -f1)
	# not the official MD5: the cache keeps this file under its own
	CACHED="$CACHE/$NAME.md5-$MD5"
	[ "$SIZE" -ge 200000 ]
}

# tiny-fetch cifar-10 with stdout into $OUT (binary: not for $output).
fetch() {
	tiny-fetch cifar-10 "$@" >"$OUT"
}

# $OUT is the stream of the given split ("train" or "test") of the tarball:
# the right count and class names, the labels, and every record byte for byte.
assert_stream() {
	local split=$1 labels n batches=() b
	if [ "$split" = train ]; then
		labels=$TRAIN_LABELS n=$((5 * NTRAIN))
		for b in 1 2 3 4 5; do batches+=("$BATS_TEST_TMPDIR/tree/cifar-10-batches-bin/data_batch_$b.bin"); done
	else
		labels=$TEST_LABELS n=$NTEST
		batches=("$BATS_TEST_TMPDIR/tree/cifar-10-batches-bin/test_batch.bin")
	fi
	run -0 tiny-info "$OUT"
	assert_line "count $n"
	assert_line "records $n"
	assert_line "field label u8 []"
	assert_line "field x u8 [3,32,32]"
	assert_line "attr classes airplane automobile bird cat deer dog frog horse ship truck"
	assert_line "attr split $split"
	run -0 tiny-dump --fields label "$OUT"
	assert_output "$(<"$labels")"
	# the body after the header is the official records, unchanged
	local hdr
	hdr=$(tiny-info --json "$OUT" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["header_bytes"])')
	tail -c +$((hdr + 1)) "$OUT" | cmp - <(cat "${batches[@]}")
}

# The download is in the cache, whole, and no .part is left.
assert_cached() {
	cmp "$SRV/$NAME" "$CACHED"
	[ ! -e "$CACHED.part" ]
}

# Nothing in the cache: no entry and no .part, under any name.
assert_not_cached() {
	[ -z "$(ls -A "$CACHE" 2>/dev/null)" ]
}

# --- the tests -------------------------------------------------------------------

@test "a complete transfer enters the cache and the stream has the expected records" {
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_equal "$stderr" ""
	assert_cached
	assert_stream train
	assert_equal "$(requests)" 1
	assert_equal "$(ranged)" 0
}

@test "a second run reads the cache without contacting the server" {
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_cached
	assert_equal "$(requests)" 1
	run -0 --separate-stderr fetch -q --split test --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_equal "$stderr" ""
	assert_equal "$(requests)" 1
	assert_stream test
	# and with the server gone, just the same
	stop_httpd
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_equal "$stderr" ""
	assert_stream train
}

@test "a transfer cut off midway is resumed with a Range request and the result is correct" {
	run -0 --separate-stderr fetch --source "$BASE/cut/$NAME" --md5 "$MD5"
	[[ "$stderr" == *"downloading $BASE/cut/$NAME"* ]]
	[[ "$stderr" == *"resuming (attempt 2 of 5)"* ]]
	assert_equal "$(requests)" 2
	# the second request asks for the rest, from where the cut left off
	run -0 sed -n 2p "$HTTPD_LOG"
	assert_output "GET /cut/$NAME range=bytes=$((SIZE / 2))-"
	assert_cached
	assert_stream train
}

@test "a cut-off transfer from a server without Range support restarts and the result is correct" {
	run -0 --separate-stderr fetch -q --source "$BASE/cut-norange/$NAME" --md5 "$MD5"
	assert_equal "$stderr" ""
	# asked to resume, got the whole file (200), started the .part over
	run -0 sed -n 2p "$HTTPD_LOG"
	assert_output "GET /cut-norange/$NAME range=bytes=$((SIZE / 2))-"
	assert_equal "$(requests)" 2   # the 200 answer itself was used
	assert_cached
	assert_stream train
}

@test "a .part left by an interrupted earlier run is resumed" {
	local keep=$((SIZE / 3))
	mkdir -p "$CACHE"
	head -c "$keep" "$SRV/$NAME" >"$CACHED.part"
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_equal "$stderr" ""
	run -0 cat "$HTTPD_LOG"
	assert_output "GET /ok/$NAME range=bytes=$keep-"
	assert_cached
	assert_stream train
}

@test "a .part that is not a prefix and longer than the file (416) is restarted and the result is correct" {
	local junk=$((SIZE + 1000))
	mkdir -p "$CACHE"
	head -c "$junk" /dev/urandom >"$CACHED.part"
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_equal "$stderr" ""
	# a Range past the end (416), then the whole file from the start
	run -0 cat "$HTTPD_LOG"
	assert_line -n 0 "GET /ok/$NAME range=bytes=$junk-"
	assert_line -n 1 "GET /ok/$NAME range=-"
	assert_equal "${#lines[@]}" 2
	assert_cached
	assert_stream train
}

@test "a 404 exits 1 with one line naming the URL and the status, and leaves nothing behind" {
	run -1 --separate-stderr fetch -q --source "$BASE/ok/missing.tar.gz" --md5 "$MD5"
	assert_equal "$stderr" "tiny-fetch: $BASE/ok/missing.tar.gz: HTTP status 404"
	[ ! -s "$OUT" ]
	assert_not_cached
	assert_equal "$(requests)" 1
}

@test "a download whose MD5 is not the official one exits 1 and leaves nothing behind" {
	run -1 --separate-stderr fetch -q --source "$BASE/ok/$NAME"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "tiny-fetch: $BASE/ok/$NAME: MD5 $MD5 does not match the expected c32a1d4ab5d03f1284b67883e8d87530"* ]]
	[ ! -s "$OUT" ]
	assert_not_cached
	assert_equal "$(requests)" 1
}

@test "a download whose MD5 is not the --md5 given exits 1 and leaves nothing behind" {
	local want=0123456789abcdef0123456789abcdef
	run -1 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$want"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "tiny-fetch: $BASE/ok/$NAME: MD5 $MD5 does not match the expected $want"* ]]
	[ ! -s "$OUT" ]
	assert_not_cached
	# and a run with the right sum then succeeds from scratch
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_cached
	assert_stream train
}

@test "a server that is not there exits 1 with a message and nothing on stdout" {
	stop_httpd   # its port is now closed
	run -1 --separate-stderr fetch --source "$BASE/ok/$NAME" --md5 "$MD5"
	# "downloading URL", four retries (attempts 2 to 5), then the error
	[ "${#stderr_lines[@]}" -eq 6 ]
	assert_equal "${stderr_lines[0]}" "tiny-fetch: downloading $BASE/ok/$NAME"
	[[ "${stderr_lines[4]}" == *"resuming (attempt 5 of 5)" ]]
	[[ "${stderr_lines[5]}" == "tiny-fetch: $BASE/ok/$NAME: download failed: "* ]]
	[ ! -s "$OUT" ]
	assert_not_cached
	# with -q, the error alone
	run -1 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "tiny-fetch: $BASE/ok/$NAME: download failed: "* ]]
	[ ! -s "$OUT" ]
	assert_not_cached
}

@test "the cache is keyed by MD5: a mirror's file and the official one do not remove each other" {
	mkdir -p "$CACHE"
	# a stand-in for a cached official download, which a mirror's fetch must
	# leave alone: the same records, compressed again (another MD5)
	gzip -dc "$SRV/$NAME" | gzip -1 >"$CACHE/cifar-10-binary.tar.gz"
	local stand_in
	stand_in=$(md5sum <"$CACHE/cifar-10-binary.tar.gz")
	run -0 --separate-stderr fetch -q --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_cached
	assert_equal "$(md5sum <"$CACHE/cifar-10-binary.tar.gz")" "$stand_in"
	# a plain fetch finds the stand-in's MD5 wrong and removes it, not the mirror's file
	run -1 --separate-stderr fetch -q
	[[ "$stderr" == *"cifar-10-binary.tar.gz: the cached file's MD5"* ]]
	[ ! -e "$CACHE/cifar-10-binary.tar.gz" ]
	assert_cached
	run -0 --separate-stderr fetch -q --split test --source "$BASE/ok/$NAME" --md5 "$MD5"
	assert_stream test
	assert_equal "$(requests)" 1
}
