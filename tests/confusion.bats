#!/usr/bin/env bats
# tiny-confusion: the confusion matrix of predictions, as a table, a stream
# and a picture (report Figure 3.2).

load helpers/common

setup() {
	T="$BATS_TEST_TMPDIR"
	# 8 predictions of 3 classes; bird is never predicted:
	#   true cat:  cat cat dog      true dog:  dog dog cat
	#   true bird: cat dog
	mkstream --attr 'classes=cat dog bird' 'label u8 []' 'pred i32 []' >"$T/p.tiny" <<<'
		0 0  0 1  1 1  1 1  2 0  2 1  0 0  1 0'
}

# dark PNG K X0 Y0 S: dark pixels (R+G+B < 200) in each cell of a K x K grid
# of pitch S whose top-left corner is (X0, Y0), row by row, then the size
dark() {
	$PY - "$@" <<'PYEOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
K, x0, y0, S = (int(a) for a in sys.argv[2:])
px = im.load()
cells = []
for i in range(K):
    for j in range(K):
        cells.append(sum(1 for y in range(y0 + i * S + 1, y0 + (i + 1) * S)
                         for x in range(x0 + j * S + 1, x0 + (j + 1) * S) if sum(px[x, y]) < 200))
print("%dx%d" % im.size, *cells)
PYEOF
}

# grid PNG: K, x0, y0 and pitch of the grid, found from its light grey lines
grid() {
	$PY - "$@" <<'PYEOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = im.load()
grey = (200, 200, 200)
# the grid's lines are the columns and rows with a long run of grey
cols = [x for x in range(w) if sum(1 for y in range(h) if px[x, y] == grey) > 20]
rows = [y for y in range(h) if sum(1 for x in range(w) if px[x, y] == grey) > 20]
print(len(cols) - 1, cols[0], rows[0], cols[1] - cols[0])
PYEOF
}

@test "bad usage exits 2 with the synopsis" {
	run -2 tiny-confusion --bogus "$T/p.tiny"
	assert_output --partial "usage: tiny-confusion [--stream] [--png FILE | --svg FILE | --pdf FILE] [FILE]"
	run -2 tiny-confusion "$T/p.tiny" "$T/p.tiny"
	assert_output --partial "expected at most one input file"
	run -2 tiny-confusion --png - "$T/p.tiny"
	assert_output --partial "--png '-': expected a file name"
	run -2 tiny-confusion --png
}

@test "predictions without labels, or without preds, are an error with nothing written" {
	mkstream 'pred u8 []' >"$T/nolabel.tiny" <<<'0 1'
	run -1 --separate-stderr tiny-confusion --png "$T/c.png" "$T/nolabel.tiny"
	[[ "$stderr" == "tiny-confusion: $T/nolabel.tiny: no 'label' field"* ]]
	assert_output ""
	[ ! -e "$T/c.png" ]
	run -1 --separate-stderr tiny-confusion <(mkstream 'label u8 []' <<<'0 1')
	[[ "$stderr" == *"no 'pred' field (the predicted classes)" ]]
	assert_output ""
	run -1 tiny-confusion <(mkstream 'label f32 []' 'pred u8 []' <<<'0 1')
	assert_output --partial "field 'label' is f32 with 1 values, expected one integer"
}

@test "a label or pred outside the classes names the record; an empty stream is an error" {
	run -1 --separate-stderr tiny-confusion --stream \
		<(mkstream --attr 'classes=a b' 'label u8 []' 'pred i32 []' <<<'0 0  1 2')
	[[ "$stderr" == *": record 1 has pred 2, outside 0..1 (the 2 names of 'classes')" ]]
	assert_output ""
	run -1 tiny-confusion <(mkstream 'label i32 []' 'pred i32 []' <<<'0 0  1 1  -1 0')
	assert_output --partial "record 2 has label -1, outside 0..1023"
	run -1 --separate-stderr tiny-confusion --png "$T/c.png" <(mkstream 'label u8 []' 'pred u8 []' </dev/null)
	[[ "$stderr" == *"no records (an empty stream has no confusion matrix)" ]]
	assert_output ""
	[ ! -e "$T/c.png" ]
	[ -z "$(ls "$T" | grep tmp)" ]
}

@test "the table shows counts and rates by hand, the accuracy, and n/a for a class never predicted" {
	run tiny-confusion "$T/p.tiny"
	assert_success
	assert_output --partial "$(printf '%s\n' \
		'true\pred  cat  dog  bird' \
		'cat          2    1     0' \
		'dog          1    2     0' \
		'bird         1    1     0')"
	assert_output --partial "$(printf '%s\n' \
		'true\pred    cat    dog   bird' \
		'cat        0.667  0.333  0.000' \
		'dog        0.333  0.667  0.000' \
		'bird       0.500  0.500  0.000')"
	assert_output --partial "accuracy 50.00% (4 of 8 correct)"
	# precision of cat: 2 of the 4 predicted cat; bird: never predicted
	assert_output --partial "$(printf '%s\n' \
		'class  precision  recall  predicted  true' \
		'cat        0.500   0.667          4     3' \
		'dog        0.500   0.667          4     3' \
		'bird         n/a   0.000          0     2')"
}

@test "--stream writes one record of counts, rates, accuracy, precision and recall" {
	run bash -c "tiny-confusion --stream '$T/p.tiny' | tiny-dump"
	assert_output "counts=2,1,0,1,2,0,1,1,0 rates=0.666666687,0.333333343,0,0.333333343,0.666666687,0,0.5,0.5,0 accuracy=0.5 precision=0.5,0.5,0 recall=0.666666687,0.666666687,0"
	run bash -c "tiny-confusion --stream '$T/p.tiny' | head -c 512"
	assert_output --partial "field counts i64 [3,3]"
	assert_output --partial "field accuracy f64 []"
	assert_output --partial "attr classes cat dog bird"
	assert_output --partial "attr history tiny-confusion --stream $T/p.tiny"
}

@test "without classes, K is one more than the largest label or pred, and the names are numbers" {
	run bash -c "mkstream 'label u8 []' 'pred i32 []' 'prob f32 []' <<<'0 3 0.9  1 1 0.5' | tiny-confusion --stream | tiny-dump --fields counts,accuracy"
	assert_output "counts=0,0,0,1,0,1,0,0,0,0,0,0,0,0,0,0 accuracy=0.5"
	run bash -c "mkstream 'label u8 []' 'pred i32 []' <<<'0 3  1 1' | tiny-confusion | sed -n 5p"
	assert_output 'true\pred  0  1  2  3'
	# classes 2 and 3 have no records: their rates and recall are n/a in the table
	run bash -c "mkstream 'label u8 []' 'pred i32 []' <<<'0 3  1 1' | tiny-confusion"
	assert_output --partial '2            n/a    n/a    n/a    n/a'
}

@test "--png draws a square in each cell whose area follows the row's rate" {
	run tiny-confusion --png "$T/c.png" "$T/p.tiny"
	assert_success
	assert_output --partial "accuracy 50.00%"
	run grid "$T/c.png"
	assert_success
	read -r K x0 y0 S <<<"$output"
	[ "$K" = 3 ] && [ "$S" -ge 8 ]
	run dark "$T/c.png" $K $x0 $y0 $S
	read -r size a b c d e f g h i <<<"$output"
	w=${size%x*} ht=${size#*x}
	[ "$w" -ge $((3 * S)) ] && [ "$w" -le 2000 ] && [ "$ht" -ge $((3 * S)) ] && [ "$ht" -le 2000 ]
	# rates 2/3 1/3 0 / 1/3 2/3 0 / 1/2 1/2 0: the largest squares on the diagonal
	[ "$a" -gt "$h" ] && [ "$h" -gt "$b" ] && [ "$e" = "$a" ] && [ "$b" = "$d" ] && [ "$g" = "$h" ]
	[ "$c" = 0 ] && [ "$f" = 0 ] && [ "$i" = 0 ]
	# area, not side: (2/3) / (1/3) = 2 within rounding of the sides
	[ $((a * 10 / b)) -ge 16 ] && [ $((a * 10 / b)) -le 25 ]
}

@test "--png goes with --stream, names the history, and leaves no temporary file" {
	run bash -c "tiny-confusion --stream --png '$T/c.png' '$T/p.tiny' | tiny-dump --fields accuracy"
	assert_output "accuracy=0.5"
	run $PY -c 'import sys; from PIL import Image; print(Image.open(sys.argv[1]).info["Comment"])' "$T/c.png"
	assert_output "tiny-confusion --stream --png $T/c.png $T/p.tiny"
	run ls "$T"
	refute_output --partial "tmp"
}

@test "--svg and --pdf draw the same matrix as vectors, one picture at a time" {
	tiny-confusion --png "$T/c.png" "$T/p.tiny" >/dev/null
	tiny-confusion --svg "$T/c.svg" "$T/p.tiny" >"$T/table.txt"
	tiny-confusion "$T/p.tiny" | cmp - "$T/table.txt"
	run $PY - "$T/c.png" "$T/c.svg" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
from PIL import Image
root = ET.parse(sys.argv[2]).getroot()
ns = {"s": "http://www.w3.org/2000/svg"}
print(Image.open(sys.argv[1]).size == (int(root.get("width")), int(root.get("height"))),
      len(root.findall(".//s:use", ns)) > 10, root.find("s:desc", ns).text)
PYEOF
	assert_output "True True tiny-confusion --svg $T/c.svg $T/p.tiny"
	tiny-confusion --stream --pdf "$T/c.pdf" "$T/p.tiny" >/dev/null
	head -c 5 "$T/c.pdf" | grep -q '%PDF-'
	run -2 --separate-stderr tiny-confusion --png "$T/d.png" --svg "$T/d.svg" "$T/p.tiny"
	[[ "$stderr" == *"--png, --svg and --pdf exclude each other"* ]]
	run -2 --separate-stderr tiny-confusion --svg - "$T/p.tiny"
	[[ "$stderr" == *"--svg '-': expected a file name"* ]]
	[ ! -e "$T/d.png" ] && [ ! -e "$T/d.svg" ]
}
