#!/usr/bin/env bats
# make report (pipelines/report.py): one HTML page of every experiment
# found.  Built from results the suite makes here, small: a few stages of
# each make file on 1000 synthetic images (no ZCA of the whole images,
# the slow part); checked as HTML by Python and opened in headless
# Chromium (skipped where it is absent or cannot start): no broken image,
# link or anchor, no console error, no empty section.

load helpers/common

# results of each make file, partly made, under $R: the parts that need
# no whitening of whole images
make_results() {
	local R=$1 log=$1/make.log
	mkdir -p "$R/figures" "$R/rbm" "$R/classify/rbm" "$R/demo"
	tiny-fetch -q synthetic --split train --count 1000 >"$R/demo/train.tiny"
	tiny-fetch -q synthetic --split test --count 200 >"$R/demo/test.tiny"
	# every make file's data: the synthetic images in place of CIFAR-10's
	local d
	for d in figures rbm classify/rbm; do cp -p "$R/demo/train.tiny" "$R/$d/train.tiny"; done
	cp -p "$R/demo/test.tiny" "$R/classify/test.tiny"
	cd "$TINY_ROOT"
	{
		make -f pipelines/figures.mk OUT="$R/figures" IMAGE_CLASS=ring \
			"$R"/figures/{fig1.1-covariance,fig1.2-covariance-red,fig2.3-original,fig2.4-image,fig2.4-patches}.png &&
		make -f pipelines/rbm.mk OUT="$R/rbm" RAW_H=16 RAW_EPOCHS=2 SIGMA_EPOCHS=2 SECOND_H=8 SECOND_EPOCHS=2 \
			"$R"/rbm/{fig2.12-raw-epoch1-filters,fig2.13-raw-filters,fig2.14-sigma-filters,fig2.14-sigmas}.png \
			"$R"/rbm/{fig2.15-second-filters,fig2.15-second-recon}.png &&
		make -f pipelines/classify.mk OUT="$R/classify" METHODS=b LR_L2=0.1 fig3.1 &&
		make -f pipelines/demo.mk OUT="$R/demo" HIDDEN=16 EPOCHS=2 CLASS_HIDDEN=32 CONV_K=16 \
			"$R"/demo/{images,rbm-filters,rbm-recon,kmeans-filters,confusion}.png "$R/demo/table.md"
	} >"$log" 2>&1 || { tail -20 "$log"; return 1; }
}

setup_file() {
	export R="$BATS_FILE_TMPDIR/results" PAGE="$BATS_FILE_TMPDIR/report"
	local t0=$SECONDS
	make_results "$R"
	echo "# results made in $((SECONDS - t0)) s" >&3
	make -C "$TINY_ROOT" -s --no-print-directory report RESULTS="$R" OUT="$PAGE" >"$BATS_FILE_TMPDIR/report.out"
}

# check_html FILE: Python's parser on the page: every element closed in
# order, one <style>, no <script>, unique ids, every <img> with alt, width
# and height, every section with a heading and something under it, every
# local link and picture a file under the page's directory
check_html() {
	$PY - "$1" <<'PY'
import html.parser, os, sys, urllib.parse
path = sys.argv[1]
root = os.path.realpath(os.path.dirname(path))
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "wbr", "source"}
problems, stack, ids, styles, sections = [], [], set(), 0, []

class P(html.parser.HTMLParser):
    def handle_starttag(self, tag, attrs):
        global styles
        a = dict(attrs)
        if tag == "script":
            problems.append("a <script>")
        if tag == "style":
            styles += 1
        if "id" in a:
            if a["id"] in ids:
                problems.append("id %s twice" % a["id"])
            ids.add(a["id"])
        if tag == "img":
            for k in ("alt", "width", "height", "src"):
                if not a.get(k):
                    problems.append("<img src=%s> without %s" % (a.get("src"), k))
        for k in ("href", "src"):
            v = a.get(k)
            if v and not v.startswith("#"):
                if urllib.parse.urlparse(v).scheme:
                    problems.append("a link out of the page: %s" % v)
                    continue
                f = os.path.realpath(os.path.join(root, urllib.parse.unquote(v.split("#")[0])))
                if not f.startswith(root + os.sep) or not os.path.isfile(f):
                    problems.append("%s=%s: no such file under the page" % (k, v))
        if tag == "section":
            sections.append([a.get("id"), 0, 0])
        elif sections and tag not in ("h2",) and tag in ("p", "table", "figure", "img", "pre", "div"):
            sections[-1][2] += 1
        if tag == "h2" and sections:
            sections[-1][1] += 1
        if tag not in VOID:
            stack.append((tag, self.getpos()))

    def handle_endtag(self, tag):
        if not stack or stack[-1][0] != tag:
            problems.append("</%s> at line %d closes %s" % (tag, self.getpos()[0], stack[-1] if stack else "nothing"))
        else:
            stack.pop()

p = P()
text = open(path, encoding="utf-8").read()
if not text.startswith("<!DOCTYPE html>"):
    problems.append("no doctype")
p.feed(text)
p.close()
problems += ["<%s> at line %d never closed" % (t, pos[0]) for t, pos in stack]
if styles != 1:
    problems.append("%d <style> blocks" % styles)
for sid, heads, content in sections:
    if heads != 1 or content == 0:
        problems.append("section %s: %d headings, %d elements under it" % (sid, heads, content))
for line in problems:
    print("PROBLEM", line)
print("sections", len(sections))
sys.exit(1 if problems else 0)
PY
}

# chromium_or_skip: skip the test where Chromium is absent or cannot start
CHROME_ARGS=(--headless --no-sandbox --disable-gpu --no-first-run --enable-logging=stderr --v=0)
chromium_or_skip() {
	command -v chromium >/dev/null || skip "chromium is absent"
	CHROME=(timeout 60 chromium "${CHROME_ARGS[@]}" --user-data-dir="$BATS_TEST_TMPDIR/chrome")
	"${CHROME[@]}" --dump-dom about:blank 2>"$BATS_TEST_TMPDIR/probe.err" | grep -q '<body' ||
		skip "chromium cannot start here: $(grep -v dbus "$BATS_TEST_TMPDIR/probe.err" | tail -1)"
}

@test "make report on no results lists every experiment as missing, with the make command that makes it" {
	local T=$BATS_TEST_TMPDIR
	mkdir "$T/none"
	run -0 make -C "$TINY_ROOT" -s --no-print-directory report RESULTS="$T/none" OUT="$T/page"
	assert_line --partial "0 runs found"
	local c
	for c in "make figures" "make rbm-figures" "make fig3.1" "make fig3.2" "make table4.1" "make conv" "make demo"; do
		assert_line --regexp "^report: missing .*: $c( |\$)"
		grep -q "<code>$c" "$T/page/index.html" || fail "the page does not give $c"
	done
	assert_line --regexp "^report: missing Figure 1.1; Figure 1.2; .*Figure 2.4: make figures"
	assert_line --regexp "^report: missing Figure 2.5; .*Figure 2.15: make rbm-figures"
	# every section says it is missing and how to make it
	run -0 check_html "$T/page/index.html"
	[ "$(grep -c 'class="missing"' "$T/page/index.html")" -ge 20 ]
	grep -q '<section id="missing"><h2>Missing experiments</h2>' "$T/page/index.html"
}

@test "make report on partial runs: what each run made, what it did not and its make command, valid HTML" {
	run -0 cat "$BATS_FILE_TMPDIR/report.out"
	assert_line "report: found make figures ($R/figures, 1000 training images)"
	assert_line "report: found make rbm-figures ($R/rbm, 1000 training images)"
	assert_line "report: found make fig3.1 fig3.2 ($R/classify, 1000 training images)"
	assert_line "report: found make demo ($R/demo, 1000 training images)"
	assert_line --regexp "^report: missing Figure 1.3 in $R/figures; .*: make figures\$"
	assert_line --regexp "^report: missing Figure 2.5 in $R/rbm; .*Figure 2.12 in $R/rbm \(fig2.12-raw-points.png\): make rbm-figures\$"
	assert_line "report: missing Figure 3.2 in $R/classify: make fig3.2"
	assert_line --regexp "^report: missing the demo's whitened.png, filters.png, eigenspectrum.png in $R/demo: make demo\$"
	run -0 check_html "$PAGE/index.html"
	local page
	page=$(cat "$PAGE/index.html")
	# every picture made is on the page, as the page's own copy, with the stages that made it
	[ "$(ls "$PAGE"/files/*.png | wc -l)" -eq "$(find "$R" -name '*.png' | wc -l)" ]
	cmp "$R/rbm/fig2.13-raw-filters.png" "$PAGE/files/results--rbm--fig2.13-raw-filters.png"
	[[ "$page" == *"tiny-rbm-train --seed 1 --init $R/rbm/raw-1.ck --epochs 2"* ]]
	# the times pipelines/timed kept, the Made-by line, the demo's and (b)'s accuracies
	[[ "$page" == *"raw.rbm $(cat "$R/rbm/raw.rbm.seconds") s"* ]]
	[[ "$page" == *"$(grep -o 'commit [0-9a-f]*' "$R/classify/fig3.1.md") (its Made-by line)"* ]]
	[[ "$page" == *"<td>conv</td><td>$(awk -F'|' '$2 ~ /conv/ { gsub(/ /, "", $3); print $3 }' "$R/demo/table.md")</td>"* ]]
	[[ "$page" == *"<td>$(cat "$R/classify/b-score.txt")%</td><td>41.13%</td>"* ]]
	# a method not run shows no time; the nets' command names each net's own checkpoint
	grep -q '^| (f) | .* | not run | 51.53% |  |$' "$R/classify/fig3.1.md"
	grep -q -- '--checkpoint X.backprop.ck` with the settings' "$R/classify/fig3.1.md"
	# the numbers read from the streams: the learned sigmas
	[[ "$page" == *"tiny (sigma.rbm after 2 epochs): the sigmas' mean"* ]]
	# a plot with an SVG beside its PNG is shown as the SVG, the PNG linked
	cmp "$R/classify/b-curves.svg" "$PAGE/files/results--classify--b-curves.svg"
	[[ "$page" == *'<img src="files/results--classify--b-curves.svg"'* ]]
	[[ "$page" == *'also as <a href="files/results--classify--b-curves.png">PNG</a>'* ]]
}

@test "the page in Chromium: every picture loads, every link and anchor leads somewhere, no console error, no empty section" {
	chromium_or_skip
	# the page with a checker after it (the page itself holds no script):
	# it writes what it finds into the page, which --dump-dom prints
	local check="$PAGE/check.html"
	cat >"$BATS_TEST_TMPDIR/check.js" <<'JS'
window.addEventListener("load", function () {
  var out = [], i, imgs = document.images, links = document.querySelectorAll("a[href]");
  var secs = document.querySelectorAll("section");
  for (i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) out.push("BROKEN-IMG " + imgs[i].getAttribute("src"));
  for (i = 0; i < links.length; i++) {
    var h = links[i].getAttribute("href");
    if (h.charAt(0) === "#") { if (!document.getElementById(h.slice(1))) out.push("BROKEN-ANCHOR " + h); }
    else out.push("LINK " + links[i].href);
  }
  for (i = 0; i < secs.length; i++) {
    var t = secs[i].innerText.replace(secs[i].querySelector("h2").innerText, "").trim();
    if (t.length < 20 && !secs[i].querySelector("img")) out.push("EMPTY-SECTION " + secs[i].id);
  }
  out.push("COUNTS images " + imgs.length + " links " + links.length + " sections " + secs.length);
  var p = document.createElement("pre");
  p.id = "check-result";
  p.textContent = out.join("\n");
  document.body.appendChild(p);
});
JS
	$PY -c "
import sys
page = open(sys.argv[1], encoding='utf-8').read()
js = open(sys.argv[2], encoding='utf-8').read()
open(sys.argv[3], 'w', encoding='utf-8').write(page.replace('</body>', '<script>' + js + '</script></body>'))
" "$PAGE/index.html" "$BATS_TEST_TMPDIR/check.js" "$check"
	local t0=$SECONDS
	"${CHROME[@]}" --virtual-time-budget=10000 --dump-dom "file://$check" >"$BATS_TEST_TMPDIR/dom.html" \
		2>"$BATS_TEST_TMPDIR/check.err" || true
	# the page as it is, drawn
	"${CHROME[@]}" --virtual-time-budget=10000 --window-size=1200,3000 --screenshot="$BATS_TEST_TMPDIR/page.png" \
		"file://$PAGE/index.html" 2>"$BATS_TEST_TMPDIR/page.err" || true
	echo "# Chromium: $((SECONDS - t0)) s" >&3
	rm -f "$check"
	run -0 $PY - "$BATS_TEST_TMPDIR/dom.html" <<'PY'
import html, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<pre id="check-result">(.*?)</pre>', dom, re.S)
print(html.unescape(m.group(1)) if m else "NO-RESULT")
PY
	local result=$output
	echo "$result" | grep COUNTS >&3
	[[ "$result" == *COUNTS* ]] || fail "the checker did not run: $(tail -3 "$BATS_TEST_TMPDIR/check.err")"
	run grep -E 'BROKEN|EMPTY' <<<"$result"
	[ "$status" -eq 1 ] || fail "$output"
	# every picture made is shown (some twice); every link is to a file
	[[ "$result" =~ images\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge "$(find "$R" -name '*.png' | wc -l)" ]
	local url f
	while read -r url; do
		f=$($PY -c 'import sys, urllib.parse; print(urllib.parse.unquote(urllib.parse.urlparse(sys.argv[1]).path))' "$url")
		[ -f "$f" ] || fail "a link to $url: no such file"
	done < <(sed -n 's/^LINK //p' <<<"$result")
	# no console message (the page has no script; a message is an error)
	run grep -h 'CONSOLE' "$BATS_TEST_TMPDIR/check.err" "$BATS_TEST_TMPDIR/page.err"
	[ "$status" -eq 1 ] || fail "console: $output"
	run grep -h 'net::ERR' "$BATS_TEST_TMPDIR/check.err" "$BATS_TEST_TMPDIR/page.err"
	[ "$status" -eq 1 ] || fail "$output"
	# the screenshot: a PNG of the window's size, not a blank page
	run -0 $PY -c "
import struct, sys, zlib
d = open('$BATS_TEST_TMPDIR/page.png', 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n'
print('size', *struct.unpack('>II', d[16:24]))
print('bytes', len(d))"
	assert_line "size 1200 3000"
	[[ "${lines[1]}" =~ bytes\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 100000 ]
}
