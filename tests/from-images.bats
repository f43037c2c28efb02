#!/usr/bin/env bats
# tiny-from-images: a folder of PNG and JPEG images in class sub-folders as a
# labelled stream.

load helpers/common

# pil_ok: PIL makes the test images and decodes them for comparison
pil_ok() {
	$PY -c 'import PIL, numpy' 2>/dev/null || skip "python3-pil or python3-numpy is absent"
}

# A folder DIR: classes b_cls and a_cls; 4x4 PNGs (RGB, grey, RGBA, 16-bit)
# and a JPEG, a text file and a hidden file.
make_folder() {
	mkdir -p "$1/b_cls" "$1/a_cls"
	$PY - "$1" <<'PY'
import sys, numpy as np
from PIL import Image
d = sys.argv[1]
r = np.random.default_rng(1)
rgb = r.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
Image.fromarray(rgb).save(d + "/a_cls/2.png")
Image.fromarray(rgb[:, :, 0]).save(d + "/a_cls/1.png")               # grey
rgba = np.dstack([rgb, np.full((4, 4), 255, np.uint8)])
Image.fromarray(rgba).save(d + "/b_cls/z.png")                        # opaque alpha
Image.fromarray(rgb).save(d + "/b_cls/y.jpg", quality=90)
np.save(d + "/rgb.npy", rgb)
open(d + "/b_cls/notes.txt", "w").write("not an image")
open(d + "/b_cls/.hidden.png", "w").write("ignored")
PY
}

@test "classes by folder name, images by file name, pixels as planes; grey, alpha and JPEG decoded" {
	pil_ok
	local T=$BATS_TEST_TMPDIR
	make_folder "$T/imgs"
	run -0 --separate-stderr tiny-from-images --size 4 "$T/imgs"
	[ "$stderr" = "tiny-from-images: 1 files that are not .png, .jpg or .jpeg left out" ]
	tiny-from-images -q --size 4 "$T/imgs" >"$T/s.tiny"
	run -0 tiny-info "$T/s.tiny"
	assert_line "count 4"
	assert_line "field x u8 [3,4,4]"
	assert_line "attr classes a_cls b_cls"
	$PY - "$T" <<'PY'
import sys, numpy as np
sys.path.insert(0, "formats")
from PIL import Image
import tiny_stream
T = sys.argv[1]
d = tiny_stream.load(T + "/s.tiny")
rgb = np.load(T + "/imgs/rgb.npy")
planes = lambda a: a.transpose(2, 0, 1)
assert d["label"].tolist() == [0, 0, 1, 1], d["label"]
assert (d["x"][0] == planes(np.dstack([rgb[:, :, 0]] * 3))).all()      # a_cls/1.png, grey
assert (d["x"][1] == planes(rgb)).all()                                 # a_cls/2.png
jpeg = np.asarray(Image.open(T + "/imgs/b_cls/y.jpg").convert("RGB"))
assert (d["x"][2] == planes(jpeg)).all()                                # b_cls/y.jpg, as PIL decodes it
assert (d["x"][3] == planes(rgb)).all()                                 # b_cls/z.png, alpha dropped
PY
}

@test "--classes picks folders and their order; a wrong size is an error naming the file unless --resize" {
	pil_ok
	local T=$BATS_TEST_TMPDIR
	make_folder "$T/imgs"
	run -0 bash -c "tiny-from-images -q --size 4 --classes b_cls '$T/imgs' | tiny-dump --fields label"
	assert_output $'label=0\nlabel=0'
	run -1 --separate-stderr tiny-from-images -q "$T/imgs"
	[ "$stderr" = "tiny-from-images: $T/imgs/a_cls/1.png: 4x4 pixels, not 32x32 (--resize scales it)" ]
	[ -z "$output" ]
	run -1 --separate-stderr tiny-from-images -q --classes a_cls,nope "$T/imgs"
	[[ "$stderr" == "tiny-from-images: $T/imgs/nope: "* ]]
	mkdir "$T/imgs/with space"
	run -1 --separate-stderr tiny-from-images -q "$T/imgs"
	[[ "$stderr" == *"with space: a class name with a space"* ]]
	[ -z "$output" ]
}

@test "--resize scales as PIL's bilinear resize does, within one level" {
	pil_ok
	local T=$BATS_TEST_TMPDIR
	mkdir -p "$T/r/c"
	$PY - "$T" <<'PY'
import sys, numpy as np
from PIL import Image
T = sys.argv[1]
r = np.random.default_rng(2)
for name, (h, w) in {"a": (50, 70), "b": (20, 10), "c": (32, 32)}.items():
    a = r.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    Image.fromarray(a).save(f"{T}/r/c/{name}.png")
    np.save(f"{T}/{name}.npy", np.asarray(Image.fromarray(a).resize((16, 16), Image.BILINEAR)).transpose(2, 0, 1))
PY
	tiny-from-images -q --size 16 --resize "$T/r" >"$T/s.tiny"
	$PY - "$T" <<'PY'
import sys, numpy as np
sys.path.insert(0, "formats")
import tiny_stream
T = sys.argv[1]
d = tiny_stream.load(T + "/s.tiny")
for k, name in enumerate("abc"):
    want = np.load(f"{T}/{name}.npy").astype(int)
    diff = np.abs(d["x"][k].astype(int) - want).max()
    assert diff <= 1, (name, diff)
PY
}

@test "the shared JPEG folders of CIFAR-10 give the tarball's 60000 images and labels" {
	cifar10_tarball
	local jpeg="$TINY_ROOT/build/data/cifar10-jpeg" T=$BATS_TEST_TMPDIR
	if [ ! -d "$jpeg/train" ]; then
		mkdir -p "$jpeg.part" && tar -C "$jpeg.part" -xzf "$SHARED/data/cifar10-jpeg.tar.gz" && mv "$jpeg.part" "$jpeg"
	fi
	local s
	for s in train test; do
		tiny-from-images -q "$jpeg/$s" >"$T/$s.tiny"
		tiny-fetch -q cifar-10 --split $s --source "$CIFAR10_TARBALL" 2>/dev/null >"$T/ref-$s.tiny"
	done
	# the tarball shuffles them: the same records as multisets
	$PY - "$T" <<'PY'
import sys
sys.path.insert(0, "formats")
import tiny_stream
T = sys.argv[1]
for s, n in (("train", 50000), ("test", 10000)):
    a, b = tiny_stream.load(f"{T}/{s}.tiny"), tiny_stream.load(f"{T}/ref-{s}.tiny")
    key = lambda d: sorted(bytes([l]) + x.tobytes() for l, x in zip(d["label"], d["x"]))
    assert len(a) == n and key(a) == key(b), s
PY
}

@test "a folder of your own images goes through make conv (whitening, patch RBM and k-means banks, features, logistic regression) and make report with IMAGES=DIR" {
	pil_ok
	local T=$BATS_TEST_TMPDIR
	# the synthetic shapes as image files: train/ and test/, a folder per
	# class, PNG and JPEG, some 40x40 (scaled to 32x32 by --resize)
	tiny-fetch -q synthetic --split train --count 400 >"$T/train.tiny"
	tiny-fetch -q synthetic --split test --count 200 >"$T/test.tiny"
	$PY - "$T" <<'PY'
import os, sys
sys.path.insert(0, "formats")
from PIL import Image
import tiny_stream
T = sys.argv[1]
for split in ("train", "test"):
    s = tiny_stream.read("%s/%s.tiny" % (T, split))
    names = s.attr("classes").split()
    for i, (x, y) in enumerate(zip(s.records["x"], s.records["label"])):
        folder = "%s/mine/%s/%s" % (T, split, names[y])
        os.makedirs(folder, exist_ok=True)
        im = Image.fromarray(x.transpose(1, 2, 0))
        if i % 3 == 0:
            im.resize((40, 40), Image.BILINEAR).save("%s/%04d.jpg" % (folder, i), quality=95)
        else:
            im.save("%s/%04d.png" % (folder, i))
PY
	cd "$TINY_ROOT"
	run -0 make -f pipelines/conv.mk IMAGES="$T/mine" OUT="$T/results/conv" PER_IMAGE=10 KM_ITER=10 \
		METHODS="kmeans-64-triangle rbm-64-soft" "$T/results/conv/conv.md"
	assert_line --partial "tiny-from-images -q --resize $T/mine/train"
	run -0 tiny-info "$T/results/conv/test.tiny"
	assert_line "count 200"
	assert_line "field x u8 [3,32,32]"
	# the table: both methods well above chance (10 classes: 10%; measured 66% and 58%)
	run -0 cat "$T/results/conv/conv.md"
	local m acc
	for m in kmeans rbm; do
		acc=$(awk -F'|' -v m=$m '$2 ~ "^ " m " $" { gsub(/[ %]/, "", $6); print $6 }' "$T/results/conv/conv.md")
		echo "# $m: $acc%" >&3
		awk -v a="$acc" 'BEGIN { exit !(a >= 40) }'
	done
	run -0 make -s --no-print-directory report RESULTS="$T/results" OUT="$T/page"
	assert_line "report: found make conv ($T/results/conv, 400 training images)"
	grep -q 'conv' "$T/page/index.html"
}
