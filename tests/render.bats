#!/usr/bin/env bats
# tiny-render: images, filters, heat maps and plots as PNG pictures.

load helpers/common

setup() {
	T="$BATS_TEST_TMPDIR"
	# two 2x2 colour images: channel planes R, G, B of each
	mkstream 'x u8 [3,2,2]' >"$T/two.tiny" <<<'
		10 20 30 40   50 60 70 80   90 100 110 120
		200 201 202 203   0 1 2 3   255 254 253 252'
}

# pixels PNG [X,Y]...: the picture's size, then the RGB of each pixel asked for
pixels() {
	$PY - "$@" <<'PYEOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1])
assert im.mode == "RGB", im.mode
at = [tuple(int(v) for v in a.split(",")) for a in sys.argv[2:]]
print("%dx%d" % im.size, *("%d,%d,%d" % im.getpixel(p) for p in at))
PYEOF
}

# colours PNG R,G,B...: the picture's size, its number of distinct colours,
# then how many pixels have each colour asked for
colours() {
	$PY - "$@" <<'PYEOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
count = {}
for p in im.getdata():
    count[p] = count.get(p, 0) + 1
want = [tuple(int(v) for v in a.split(",")) for a in sys.argv[2:]]
print("%dx%d" % im.size, len(count), *(count.get(w, 0) for w in want))
PYEOF
}

@test "no mode or an unknown one is a usage error" {
	run -2 tiny-render
	assert_output --partial "usage: tiny-render images|filters|heatmap|plot"
	run -2 tiny-render pictures "$T/two.tiny"
	assert_output --partial "unknown mode 'pictures'"
}

@test "bad option values and options of another mode are usage errors" {
	run -2 tiny-render images --cols 0 "$T/two.tiny"
	assert_output --partial "--cols 0: expected an integer from 1 to 1000"
	run -2 tiny-render images --scale abc "$T/two.tiny"
	assert_output --partial "--scale abc"
	run -2 tiny-render images --range wide "$T/two.tiny"
	assert_output --partial "--range wide: expected one of auto, global, none"
	run -2 tiny-render images --shape 3,2,2 "$T/two.tiny"
	assert_output --partial "--shape is not an option of 'images'"
}

@test "filters takes --shape from the model's attribute shape, and needs one or the other" {
	echo "1 2 3 4 5 6 7 8" | mkstream --attr shape=2,2 'W f32 [4,2]' >"$T/m.tiny"
	run -0 tiny-render filters "$T/m.tiny"
	tiny-render filters --field W --shape 2,2 "$T/m.tiny" >"$T/given.png"
	tiny-render filters "$T/m.tiny" >"$T/attr.png"
	npy_ok
	$PY -c "import sys; from PIL import Image; a, b = (Image.open(f).tobytes() for f in sys.argv[1:]); sys.exit(a != b)" \
		"$T/given.png" "$T/attr.png"
	echo "1 2 3 4 5 6 7 8" | mkstream 'W f32 [4,2]' >"$T/noshape.tiny"
	run -1 --separate-stderr tiny-render filters "$T/noshape.tiny"
	[ "$stderr" = "tiny-render: $T/noshape.tiny: no attribute shape (the data's C,H,W) to draw its filters in: give --shape C,H,W" ]
}

@test "filters needs a --shape that parses, with 1 or 3 channels" {
	run -2 tiny-render filters --field W --shape 3,x,2 "$T/two.tiny"
	assert_output --partial "--shape 3,x,2: expected C,H,W or H,W"
	run -2 tiny-render filters --field W --shape 2,2,2 "$T/two.tiny"
	assert_output --partial "2 channels"
}

@test "heatmap needs --field and a --block that parses; plot needs --y" {
	run -2 tiny-render heatmap "$T/two.tiny"
	assert_output --partial "heatmap needs --field"
	run -2 tiny-render heatmap --field x --block 2:1,0:1 "$T/two.tiny"
	assert_output --partial "--block 2:1,0:1: expected R0:R1,C0:C1"
	run -2 tiny-render plot --y a,,b "$T/two.tiny"
	assert_output --partial "--y a,,b"
}

@test "a missing field is an error and nothing is written" {
	run -1 --separate-stderr tiny-render images --field y "$T/two.tiny"
	[[ "$stderr" == "tiny-render: $T/two.tiny: no field 'y' in the stream (its fields: x)" ]]
	assert_output ""
}

@test "a field of the wrong rank for the mode is an error and nothing is written" {
	mkstream 'v f32 [3]' <<<'1 2 3' >"$T/vec.tiny"
	run -1 --separate-stderr tiny-render images --field v "$T/vec.tiny"
	[[ "$stderr" == *"field 'v' is [3]; images draws [3,H,W] (colour), [1,H,W] or [H,W] (grey)" ]]
	assert_output ""
	run -1 --separate-stderr tiny-render heatmap --field v "$T/vec.tiny"
	[[ "$stderr" == *"heatmap draws a matrix [R,C]" ]]
	assert_output ""
	run -1 --separate-stderr tiny-render plot --y x "$T/two.tiny"
	[[ "$stderr" == *"field 'x' is [3,2,2]; plot draws one number per record"* ]]
	assert_output ""
}

@test "NaN and infinite values are errors naming the field and record" {
	mkstream 'x f32 [2,2]' >"$T/nan.tiny" <<<'1 2 3 4  1 nan 3 4'
	run -1 --separate-stderr tiny-render images "$T/nan.tiny"
	[[ "$stderr" == *"field 'x' of record 1 holds NaN at [0,1]" ]]
	assert_output ""
	mkstream 'epoch i32 []' 'err f64 []' >"$T/inf.tiny" <<<'0 1  1 inf'
	run -1 --separate-stderr tiny-render plot --y err "$T/inf.tiny"
	[[ "$stderr" == *"field 'err' of record 1 holds Inf" ]]
	assert_output ""
}

@test "an empty stream is an error for images and plot" {
	mkstream 'x u8 [3,2,2]' 'err f32 []' </dev/null >"$T/empty.tiny"
	run -1 --separate-stderr tiny-render images "$T/empty.tiny"
	[[ "$stderr" == *"empty.tiny: no records to draw" ]]
	assert_output ""
	run -1 --separate-stderr tiny-render plot --y err "$T/empty.tiny"
	[[ "$stderr" == *"empty.tiny: no records to plot" ]]
	assert_output ""
}

@test "a --shape that does not match the filters is an error naming both numbers" {
	mkstream 'W f32 [12,2]' <<<"$(seq 24)" >"$T/w.tiny"
	run -1 --separate-stderr tiny-render filters --field W --shape 3,2,3 "$T/w.tiny"
	[[ "$stderr" == *"--shape 3,2,3 holds 18 values, but each column of 'W' [12,2] holds 12" ]]
	assert_output ""
	run -1 --separate-stderr tiny-render filters --field W --shape 3,2,2 --rows "$T/w.tiny"
	[[ "$stderr" == *"each row of 'W' [12,2] holds 2" ]]
}

@test "--log with a value that is not above 0 is an error naming the field and record" {
	mkstream 'epoch i32 []' 'err f64 []' >"$T/log.tiny" <<<'0 1  1 0.5  2 0  3 -1'
	run -1 --separate-stderr tiny-render plot --y err --log "$T/log.tiny"
	[[ "$stderr" == *"field 'err' of record 2 holds 0; --log needs values above 0" ]]
	assert_output ""
}

@test "two 2x2 colour images at --scale 1 make a 5x2 grid with a dark column between" {
	tiny-render images --scale 1 "$T/two.tiny" >"$T/g.png"
	run pixels "$T/g.png" 0,0 1,1 2,0 2,1 3,0 4,1
	assert_output "5x2 10,50,90 40,80,120 40,40,40 40,40,40 200,0,255 203,3,252"
}

@test "--scale 2 doubles every pixel and the separator; --cols 1 stacks the images" {
	tiny-render images "$T/two.tiny" >"$T/g.png"
	run pixels "$T/g.png" 1,1 3,2 4,0 5,3 6,3
	assert_output "10x4 10,50,90 40,80,120 40,40,40 40,40,40 202,2,253"
	tiny-render images --scale 1 --cols 1 --count 2 "$T/two.tiny" >"$T/g.png"
	run pixels "$T/g.png" 0,0 1,2 0,3
	assert_output "2x5 10,50,90 40,40,40 200,0,255"
}

@test "float images are scaled each on its own: 0 is grey 128, -m and m are 0 and 255" {
	mkstream 'x f32 [2,2]' >"$T/f.tiny" <<<'0 1 -0.5 0.25   0 -4 2 0'
	tiny-render images --scale 1 "$T/f.tiny" >"$T/g.png"
	run pixels "$T/g.png" 0,0 1,0 0,1 1,1 3,0 4,0 3,1
	assert_output "5x2 128,128,128 255,255,255 64,64,64 159,159,159 128,128,128 0,0,0 191,191,191"
	tiny-render images --scale 1 --range global "$T/f.tiny" >"$T/g.png"
	run pixels "$T/g.png" 1,0 0,1 4,0
	assert_output "5x2 159,159,159 112,112,112 0,0,0"
}

@test "filters are columns scaled each on its own, channels as red, green and blue" {
	# column 0: red +1 at (0,0), green -1 at (0,1), blue +0.5 at (1,0); column 1 is 10 times it
	mkstream 'W f32 [12,2]' >"$T/w.tiny" <<<'1 10  0 0  0 0  0 0  0 0  -1 -10  0 0  0 0  0 0  0 0  0.5 5  0 0'
	tiny-render filters --field W --shape 3,2,2 --scale 1 "$T/w.tiny" >"$T/f.png"
	run pixels "$T/f.png" 0,0 1,0 0,1 1,1 3,0 4,0 3,1
	assert_output "5x2 255,128,128 128,0,128 128,128,191 128,128,128 255,128,128 128,0,128 128,128,191"
	tiny-render filters --field W --shape 3,2,2 --scale 1 --first 1 --count 1 "$T/w.tiny" >"$T/one.png"
	run pixels "$T/one.png" 1,0
	assert_output "2x2 128,0,128"
}

@test "--pick draws the filters named, in the order given" {
	mkstream 'W f32 [12,3]' >"$T/w.tiny" <<<'1 0 -1  0 0 0  0 0 0  0 0 0  0 2 0  0 0 0  0 0 0  0 0 0  0 0 0  0 0 0  0 0 0  0 0 0'
	tiny-render filters --field W --shape 3,2,2 --scale 1 --pick 2,0 "$T/w.tiny" >"$T/p.png"
	run pixels "$T/p.png" 0,0 3,0
	assert_output "5x2 0,128,128 255,128,128"
	run -1 tiny-render filters --field W --shape 3,2,2 --pick 3 "$T/w.tiny"
	assert_output --partial "--pick 3: 'W' [12,3] holds 3 filters (0 to 2)"
	run -2 tiny-render filters --field W --shape 3,2,2 --pick x "$T/w.tiny"
}

@test "--dewhiten shows each filter through the model's dewhitening matrix" {
	mkstream 'W f32 [2,1]' <<<'1 1' >"$T/f.tiny"
	mkstream 'mean f32 [2]' 'W f32 [2,2]' 'Winv f32 [2,2]' <<<'0 0  1 0 0 1  2 0 0 1' >"$T/z.tiny"
	tiny-render filters --field W --shape 1,1,2 --scale 1 "$T/f.tiny" >"$T/plain.png"
	tiny-render filters --field W --shape 1,1,2 --scale 1 --dewhiten "$T/z.tiny" "$T/f.tiny" >"$T/dw.png"
	run pixels "$T/plain.png" 0,0 1,0
	assert_output "2x1 255,255,255 255,255,255"
	run pixels "$T/dw.png" 0,0 1,0
	assert_output "2x1 255,255,255 191,191,191"
	mkstream 'mean f32 [3]' 'W f32 [3,3]' 'Winv f32 [3,3]' <<<'0 0 0  1 0 0 0 1 0 0 0 1  1 0 0 0 1 0 0 0 1' >"$T/z3.tiny"
	run -1 tiny-render filters --field W --shape 1,1,2 --dewhiten "$T/z3.tiny" "$T/f.tiny"
	assert_output --partial "is for 3 values, the filters of"
}

@test "--through --strongest draws each upper filter as the lower filters of its K largest and most negative weights" {
	# lower W [2,4]: grey 1x2 filters (1,0) (0,1) (1,-1) (-1,0)
	mkstream 'W f32 [2,4]' <<<'1 0 1 -1  0 1 -1 0' >"$T/low.tiny"
	# upper W [4,2]: filter 0 weighs the lower ones 0.5 2 -1 -3, filter 1 -2 0 3 1
	mkstream 'W f32 [4,2]' <<<'0.5 -2  2 0  -1 3  -3 1' >"$T/up.tiny"
	tiny-render filters --field W --shape 1,1,2 --scale 1 --through "$T/low.tiny" --strongest 2 "$T/up.tiny" >"$T/s.png"
	# row 0: lower 1, 0 (largest first), then 3, 2 (most negative first); row 1: 2, 3, then 0, 1
	run pixels "$T/s.png" 0,0 1,0 3,0 4,0 6,0 7,0 9,0 10,0 0,2 1,2 3,2 4,2 6,2 7,2 9,2 10,2
	assert_output "11x3 128,128,128 255,255,255 255,255,255 128,128,128 0,0,0 128,128,128 255,255,255 0,0,0 255,255,255 0,0,0 0,0,0 128,128,128 255,255,255 128,128,128 128,128,128 255,255,255"
	run -2 tiny-render filters --field W --shape 1,1,2 --through "$T/low.tiny" "$T/up.tiny"
	assert_output --partial "--through and --strongest go together"
	run -1 tiny-render filters --field W --shape 1,1,2 --through "$T/up.tiny" --strongest 1 "$T/low.tiny"
	assert_output --partial "$T/up.tiny: --shape 1,1,2 holds 2 values, but each column of 'W' [4,2] holds 4"
	run -1 tiny-render filters --field W --shape 1,1,2 --through "$T/low.tiny" --strongest 1 "$T/low.tiny"
	assert_output --partial "--through $T/low.tiny has 4 hidden units, but the filters of $T/low.tiny have 2 values"
}

@test "--rows takes the filters from the rows of the transposed matrix" {
	mkstream 'W f32 [12,2]' >"$T/w.tiny" <<<'1 10  0 0  0 0  0 0  0 0  -1 -10  0 0  0 0  0 0  0 0  0.5 5  0 0'
	mkstream 'W f32 [2,12]' >"$T/wt.tiny" <<<'1 0 0 0 0 -1 0 0 0 0 0.5 0   10 0 0 0 0 -10 0 0 0 0 5 0'
	tiny-render filters --field W --shape 3,2,2 "$T/w.tiny" >"$T/c.png"
	tiny-render filters --field W --shape 3,2,2 --rows "$T/wt.tiny" >"$T/r.png"
	run $PY -c 'import sys; from PIL import Image; a, b = (Image.open(p) for p in sys.argv[1:]); print(a.size, list(a.getdata()) == list(b.getdata()))' "$T/c.png" "$T/r.png"
	assert_output "(10, 4) True"
}

@test "a heat map shows the largest cell white and the smallest black where they belong" {
	# largest 11 at row 0, column 3; smallest 0 at row 2, column 0
	mkstream 'm f64 [3,4]' >"$T/m.tiny" <<<'3 1 4 11  5 9 2 6  0 8 7 10'
	tiny-render heatmap --field m "$T/m.tiny" >"$T/h.png"
	# find cells [1,1] (9: grey 209) and [1,2] (2: grey 46), step from them
	run $PY - "$T/h.png" <<'PYEOF'
import sys
import numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
def centre(g):
    ys, xs = np.nonzero((abs(a - g) <= 1).all(axis=2))
    return np.median(xs), np.median(ys)
(x1, y1), (x2, y2) = centre(209), centre(46)
d = x2 - x1
print(a.shape[1] > 500, a.shape[0] > 350, abs(y2 - y1) < 2, d > 50,
      a[int(y1 - d), int(x1 + 2 * d)].tolist(), a[int(y1 + d), int(x1 - d)].tolist())
PYEOF
	assert_output "True True True True [255, 255, 255] [0, 0, 0]"
}

@test "a heat map of a --block spans only that block's values, and a block outside is an error" {
	mkstream 'm f64 [3,4]' >"$T/m.tiny" <<<'3 1 4 11  5 9 2 6  0 8 7 10'
	tiny-render heatmap --field m --block 0:2,0:2 --title 'top left' "$T/m.tiny" >"$T/h.png"
	# 3 and 5 between 1 and 9: greys 64 and 128, each a 256x256 cell
	run colours "$T/h.png" 64,64,64 128,128,128
	[[ "${lines[0]}" =~ \ ([0-9]+)\ ([0-9]+)$ ]]
	((BASH_REMATCH[1] >= 65536 && BASH_REMATCH[2] >= 65536))
	run -1 --separate-stderr tiny-render heatmap --field m --block 0:4,0:2 "$T/m.tiny"
	[[ "$stderr" == *"--block 0:4,0:2 reaches outside 'm' [3,4]" ]]
	assert_output ""
}

@test "a matrix of more than 1024 rows is averaged down to fit" {
	mkstream 'm f32 [1500,4]' <<<"$(seq 6000)" >"$T/big.tiny"
	tiny-render heatmap --field m "$T/big.tiny" >"$T/h.png"
	run pixels "$T/h.png"
	[[ "$output" =~ ^([0-9]+)x([0-9]+)$ ]]
	((BASH_REMATCH[2] > 750 && BASH_REMATCH[2] < 1024))
}

@test "plot draws a vector of one record against its index, on a log scale with --log" {
	$PY -c 'print(*[10 ** (-i / 10) for i in range(50)])' | mkstream 'eigval f64 [50]' >"$T/eig.tiny"
	tiny-render plot --y eigval --log "$T/eig.tiny" >"$T/p.png"
	run colours "$T/p.png" 31,119,180
	[[ "$output" =~ ^960x600\ ([0-9]+)\ ([0-9]+)$ ]]
	((BASH_REMATCH[1] > 3 && BASH_REMATCH[2] > 500))
}

@test "plot draws one point per record, a line for each --y field" {
	mkstream 'epoch i32 []' 'err f32 []' 'val f32 []' >"$T/log.tiny" <<<'1 9 10  2 5 7  3 4 6  4 3.5 5.8'
	tiny-render plot --y err,val --x epoch --title 'training' "$T/log.tiny" >"$T/p.png"
	run colours "$T/p.png" 31,119,180 255,127,14
	[[ "$output" =~ ^960x600\ ([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]
	((BASH_REMATCH[1] > 3 && BASH_REMATCH[2] > 300 && BASH_REMATCH[3] > 300))
}

@test "plot takes a NaN y as a missing point (a log's epoch 0 has no training loss); all NaN is an error" {
	mkstream 'epoch i32 []' 'train f32 []' 'valid f32 []' >"$T/log.tiny" <<<'0 nan 10  1 9 8  2 5 7  3 4 6'
	tiny-render plot --y train,valid --x epoch "$T/log.tiny" >"$T/p.png"
	run colours "$T/p.png" 31,119,180 255,127,14
	[[ "$output" =~ ^960x600\ ([0-9]+)\ ([0-9]+)\ ([0-9]+)$ ]]
	((BASH_REMATCH[1] > 3 && BASH_REMATCH[2] > 300 && BASH_REMATCH[3] > 300))
	mkstream 'epoch i32 []' 'train f32 []' >"$T/nan.tiny" <<<'0 nan  1 nan'
	run -1 --separate-stderr tiny-render plot --y train --x epoch "$T/nan.tiny"
	[[ "$stderr" == *"nan.tiny: every value of the --y fields is NaN: nothing to plot" ]]
	assert_output ""
	# the --x field must still be finite
	mkstream 'epoch f32 []' 'train f32 []' >"$T/xnan.tiny" <<<'nan 1  1 2'
	run -1 --separate-stderr tiny-render plot --y train --x epoch "$T/xnan.tiny"
	[[ "$stderr" == *"field 'epoch' of record 0 holds NaN" ]]
}

# legend PNG: the legend's box (its frame's corners x0 y0 x1 y1, from the
# frame's long runs of grey), then how many pixels in it have the first and
# the second line colour (the two swatches: 28 x 3 pixels each)
legend() {
	$PY - "$@" <<'PYEOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = im.load()
rows = []
for y in range(h):
    run = best = 0
    for x in range(w):
        run = run + 1 if px[x, y] == (90, 90, 90) else 0
        if run > best:
            best, end = run, x
    if best >= 60:
        rows.append((y, end - best + 1, end))
(y0, x0, x1), y1 = rows[0], rows[-1][0]
n = [sum(px[x, y] == c for x in range(x0, x1 + 1) for y in range(y0, y1 + 1))
     for c in ((31, 119, 180), (255, 127, 14))]
print(x0, y0, x1, y1, *n)
PYEOF
}

@test "plot puts the legend where no line passes, else beside the plot" {
	# a line rising to the top right corner and one falling from the top left
	$PY -c 'print(*[f"{i} {i} {10 - i}" for i in range(11)])' | mkstream 'x i32 []' 'up f32 []' 'down f32 []' >"$T/x.tiny"
	tiny-render plot --y up,down --x x "$T/x.tiny" >"$T/p.png"
	run legend "$T/p.png"
	read -r x0 y0 x1 y1 n1 n2 <<<"$output"
	assert_equal "$n1 $n2" "84 84"         # the swatches alone: no line or point inside
	((x1 < 930 && y0 > 100))               # inside the plot, down the right side from the crossed corner
	# zigzags across the whole plot: no room inside, so the legend stands beside it
	$PY -c 'print(*[f"{i} {(i % 2) * 10} {10 - (i % 2) * 10}" for i in range(40)])' |
		mkstream 'x i32 []' 'up f32 []' 'down f32 []' >"$T/z.tiny"
	tiny-render plot --y up,down --x x "$T/z.tiny" >"$T/z.png"
	run legend "$T/z.png"
	read -r x0 y0 x1 y1 n1 n2 <<<"$output"
	assert_equal "$n1 $n2" "84 84"
	((x1 >= 930 && x1 < 960))
	run pixels "$T/z.png"
	assert_output "960x600"
}

@test "a stream through a pipe renders, and the picture records how it was made" {
	tiny-fetch synthetic -q --count 16 | tiny-render images >"$T/s.png"
	run pixels "$T/s.png"
	assert_output "658x130"
	run $PY -c 'import sys; from PIL import Image; print(Image.open(sys.argv[1]).info["Comment"])' "$T/s.png"
	assert_output "$(printf 'tiny-fetch synthetic -q --count 16\ntiny-render images')"
}

@test "pipelines/most-local.py orders filters by the share of their energy in their TOP strongest pixels" {
	npy_ok
	# W [8,3]: filter 0 spread over all 8 pixels, 1 on pixel 3 alone, 2 on pixels 0 and 5
	mkstream 'W f32 [8,3]' <<<'1 0 1  1 0 0  1 0 0  1 5 0  1 0 0  1 0 -1  1 0 0  1 0 0' >"$T/w.tiny"
	run -0 --separate-stderr "$TINY_ROOT/pipelines/most-local.py" "$T/w.tiny" 3 1
	assert_output "1,2,0"
	[[ "$stderr" == *"2 of 3 filters hold more than 30% of their energy in 1 of 8 pixel positions (the 3 drawn: 1.00 to 0.12)"* ]]
	run -0 --separate-stderr "$TINY_ROOT/pipelines/most-local.py" "$T/w.tiny" 2 2
	assert_output "1,2"
}

@test "--title puts a title above an image or filter grid and a line below naming what the cells are" {
	mkstream 'x f32 [2,2]' >"$T/f.tiny" <<<'0 1 -0.5 0.25   0 -4 2 0'
	tiny-render images --scale 1 "$T/f.tiny" >"$T/plain.png"
	tiny-render images --scale 1 --title "Two images" "$T/f.tiny" >"$T/t.png"
	run pixels "$T/plain.png"
	assert_output "5x2"
	run pixels "$T/t.png"
	# 8 + 16 + 8 pixels of band above and below the grid, the text's width across
	[[ "$output" =~ ^[0-9]+x66$ ]]
	run colours "$T/t.png" 0,0,0
	[[ "$output" =~ ^[0-9]+x66\ [0-9]+\ [1-9][0-9]*$ ]]   # black text drawn
	mkstream 'W f32 [12,2]' >"$T/w.tiny" <<<'1 10  0 0  0 0  0 0  0 0  -1 -10  0 0  0 0  0 0  0 0  0.5 5  0 0'
	tiny-render filters --shape 3,2,2 --scale 1 --title "Filters" "$T/w.tiny" >"$T/ft.png"
	run pixels "$T/ft.png"
	[[ "$output" =~ ^[0-9]+x66$ ]]
}

@test "--svg and --pdf draw the same picture with text and lines as vectors over the pixel layer, the history inside" {
	mkstream 'epoch i32 []' 'err f32 []' 'val f32 []' >"$T/log.tiny" <<<'1 9 10  2 5 7  3 4 6  4 3.5 5.8'
	plot=(plot --y err,val --x epoch --title 'a & <b>')
	tiny-render "${plot[@]}" "$T/log.tiny" >"$T/p.png"
	tiny-render "${plot[@]}" --svg "$T/log.tiny" >"$T/p.svg"
	tiny-render "${plot[@]}" --pdf "$T/log.tiny" >"$T/p.pdf"
	run pixels "$T/p.png"
	assert_output "960x600"
	# the SVG: the PNG's size in pixels, one image (the pixels), text as
	# glyph outlines placed by <use>, the two lines as stroked paths of
	# their colours, and the command in <desc>
	run $PY - "$T/p.svg" <<'PYEOF'
import re, sys
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
paths = [p.get("style", "") for p in root.iter("{http://www.w3.org/2000/svg}path")]
lines = lambda rgb: sum(1 for s in paths if "stroke-width:2" in s and "stroke:rgb(%s)" % rgb in s)
print(root.get("width"), root.get("height"), len(root.findall(".//s:image", ns)),
      len(root.findall(".//s:use", ns)) >= len("a & <b>epoch"),
      lines("12.156863%,46.666667%,70.588235%") >= 3, lines("100%,49.803922%,5.490196%") >= 3)
print(root.find("s:desc", ns).text)
PYEOF
	assert_line -n 0 "960 600 1 True True True"
	assert_line -n 1 "tiny-render plot --y err,val --x epoch --title 'a & <b>' --svg $T/log.tiny"
	# the PDF: one page of 960 x 600 points, a font embedded, the command
	# as its Subject, no creation date
	run $PY - "$T/p.pdf" <<'PYEOF'
import sys
pdf = open(sys.argv[1], "rb").read()
print(pdf[:7].decode(), b"/MediaBox [ 0 0 960 600 ]" in pdf, b"/FontFile" in pdf,
      b"/Subject (tiny-render plot" in pdf, b"/CreationDate" in pdf)
PYEOF
	assert_output "%PDF-1. True True True False"
	# the same input makes the same bytes, a second later too
	sleep 1
	tiny-render "${plot[@]}" --pdf "$T/log.tiny" | cmp - "$T/p.pdf"
	tiny-render "${plot[@]}" --svg "$T/log.tiny" | cmp - "$T/p.svg"
}

@test "--svg and --pdf go with every mode, not with each other" {
	tiny-render images --svg "$T/two.tiny" >"$T/i.svg"
	run $PY -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.get("width"), r.get("height"))' "$T/i.svg"
	assert_output "10 4"
	mkstream 'm f64 [2,2]' >"$T/m.tiny" <<<'1 2 3 4'
	tiny-render heatmap --field m --pdf "$T/m.tiny" | head -c 5 | grep -q '%PDF-'
	run -2 --separate-stderr tiny-render images --svg --pdf "$T/two.tiny"
	[[ "$stderr" == *"--svg and --pdf exclude each other"* ]]
	assert_output ""
}
