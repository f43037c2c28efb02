#!/usr/bin/python3
"""pipelines/report.py - every experiment of tiny in one HTML page.

    pipelines/report.py [--out results/report] [--table4.1 build/table4.1] [ROOT...]

`make report` runs it.  It looks in each result ROOT (default: results)
for the runs of the experiments' make files (figures/, rbm/, classify/,
conv/, demo/, table4.1/, and quick/figures, quick/rbm, quick/classify from
`make quick`), copies their pictures under OUT/files/, and writes
OUT/index.html: for each figure and table of the report that tiny
reproduces, tiny's pictures and numbers beside the report's (its caption
and numbers, from its text), a verdict taken from the README's findings,
and how each picture was made (the stages' history that tiny-render keeps
in every PNG, the file's date, the parts' times that pipelines/timed kept
in TARGET.seconds, the "Made by" line of fig3.1.md and conv.md); then the
learning curves, the convolutional table, the demo's accuracies, and every
experiment still missing with the make command that makes it.

The page is plain HTML with one <style> block and no script; every link is
relative, to a file under OUT.  Python's standard library only.  Prints
what it found and what is missing, one line each.
"""

import argparse
import datetime
import html
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

# --- reading tiny's files ---------------------------------------------------------

DTYPES = {"u8": "B", "i32": "i", "u32": "I", "i64": "q", "f32": "f", "f64": "d"}


def stream_header(path):
    """A stream's header (formats/stream.md), as `tiny-info --json` prints it:
    {"fields": [(name, dtype, shape)], "attrs": [(key, value)], "count": N,
    "header_bytes": L}; the count of a `count unknown` stream from its trailer.
    None when PATH is not a stream."""
    try:
        with open(path, "rb") as f:
            first = f.readline(64).split()
            if len(first) != 3 or first[0] != b"TINY":
                return None
            length = int(first[2])
            text = (first[0] + b" " + first[1] + b" " + first[2] + b"\n" + f.read(length)).decode("utf-8", "replace")
            h = {"fields": [], "attrs": [], "count": None, "header_bytes": length}
            for line in text[:length].split("\n")[1:]:
                if line == "end":
                    break
                word = line.split(" ", 2)
                if word[0] == "count" and word[1] != "unknown":
                    h["count"] = int(word[1])
                elif word[0] == "field":
                    dtype, shape = word[2].split(" ")
                    dims = [int(d) for d in shape.strip("[]").split(",") if d]
                    h["fields"].append((word[1], dtype, dims))
                elif word[0] == "attr":
                    h["attrs"].append((word[1], word[2] if len(word) > 2 else ""))
            if h["count"] is None:
                f.seek(-16, os.SEEK_END)
                trailer = f.read(16)
                if trailer[:8] == b"TINYEND\n":
                    h["count"] = struct.unpack("<Q", trailer[8:])[0]
            return h
    except (OSError, ValueError, IndexError):
        return None


def attrs(h, key):
    return [v for k, v in h["attrs"] if k == key] if h else []


def values(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def read_field(path, name, record=0):
    """The values of field NAME of one record, as a flat list."""
    h = stream_header(path)
    if not h:
        return None
    offset, size, found = 0, 0, None
    for fname, dtype, dims in h["fields"]:
        n = values(dims) * struct.calcsize(DTYPES[dtype])
        if fname == name:
            found = (offset, dtype, values(dims))
        offset += n
        size += n
    if not found or h["count"] is None or record >= h["count"]:
        return None
    with open(path, "rb") as f:
        f.seek(h["header_bytes"] + record * size + found[0])
        n = found[2]
        code = DTYPES[found[1]]
        return list(struct.unpack("<%d%s" % (n, code), f.read(n * struct.calcsize(code))))


def png_info(path):
    """(width, height, history lines) of a PNG: tiny-render keeps the stages
    that made the picture in a compressed Comment."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    width, height = struct.unpack(">II", data[16:24])
    history, i = [], 8
    while i + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        body = data[i + 8:i + 8 + n]
        if kind in (b"tEXt", b"zTXt") and body.split(b"\0", 1)[0] == b"Comment":
            text = body.split(b"\0", 1)[1]
            text = zlib.decompress(text[1:]) if kind == b"zTXt" else text
            history = text.decode("utf-8", "replace").strip().split("\n")
        i += 12 + n
    return width, height, history


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def when(path):
    t = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M UTC")


# --- the runs found ---------------------------------------------------------------------

# kind: (the make target, its make file, the sub-directory of a result root)
KINDS = {
    "figures": ("make figures", "pipelines/figures.mk", "the report's Figures 1.1-1.5, 2.2-2.4"),
    "rbm": ("make rbm-figures", "pipelines/rbm.mk", "the RBM experiments, Figures 2.5-2.15"),
    "classify": ("make fig3.1 fig3.2", "pipelines/classify.mk", "the classification table, Figures 3.1 and 3.2"),
    "table4.1": ("make table4.1", "pipelines/table4.1.mk", "the bytes of distributed training, Table 4.1"),
    "conv": ("make conv", "pipelines/conv.mk", "convolutional features (not in the report)"),
    "demo": ("make demo", "pipelines/demo.mk", "the main job on synthetic data"),
}

# the make command that makes a figure of each kind
MAKE = {"figures": "make figures", "rbm": "make rbm-figures", "classify": "make fig3.1"}


class Run:
    """One run of one make file: a directory of results."""

    def __init__(self, kind, path, quick):
        self.kind, self.path, self.quick = kind, path, quick
        # the make command that made it; the sub-make's own where a table names it
        self.command = "make quick" if quick else KINDS[kind][0]
        self.made_command = None
        n = self.images()
        self.label = "%s (%s%s)" % ("make quick" if quick else KINDS[kind][0], path,
                                    ", %d training images" % n if n else "")
        self.commit = None         # of the "Made by" line of fig3.1.md or conv.md
        for md in ("fig3.1.md", "conv.md"):
            text = read_text(os.path.join(path, md))
            m = re.search(r"Made by `([^`]*)`,? (?:at )?commit (\w+)", text or "")
            if m:
                self.commit = m.group(2)
                self.made_command = m.group(1).replace("\\ ", " ")

    def file(self, name):
        p = os.path.join(self.path, name)
        return p if os.path.exists(p) else None

    def images(self):
        """How many training images the run's data held."""
        for name in ("train.tiny", "rbm/train.tiny"):
            h = stream_header(os.path.join(self.path, name))
            if h and h["count"] is not None:
                return h["count"]
        return None

    def seconds(self):
        """TARGET: seconds of every part pipelines/timed kept."""
        if hasattr(self, "_seconds"):
            return self._seconds
        out = self._seconds = {}
        for d, _, files in os.walk(self.path):
            for f in files:
                if f.endswith(".seconds"):
                    t = read_text(os.path.join(d, f)).strip()
                    out[os.path.relpath(os.path.join(d, f[:-8]), self.path)] = t
        return out


def find_runs(roots, table41):
    runs = []
    for root in roots:
        for quick in (False, True):
            for kind in KINDS:
                if quick and kind not in ("figures", "rbm", "classify"):
                    continue
                path = os.path.join(root, "quick", kind) if quick else os.path.join(root, kind)
                if os.path.isdir(path) and os.listdir(path):
                    runs.append(Run(kind, os.path.normpath(path), quick or "quick" in path.split(os.sep)))
    if table41 and os.path.isfile(os.path.join(table41, "table.txt")):
        if not any(os.path.samefile(r.path, table41) for r in runs if r.kind == "table4.1"):
            runs.append(Run("table4.1", os.path.normpath(table41), False))
    # full-size runs first
    runs.sort(key=lambda r: r.quick)
    return runs


# --- what the report shows, and what the README found ---------------------------------------

# Each figure: its number, title, the make file's kind, tiny's pictures
# (file, what it shows), the report's caption (its text), and the verdict
# of the README's findings on the full-size run: (reproduced|partly|not yet, why).
FIGURES = [
    ("1.1", "The covariance of the images", "figures",
     [("fig1.1-covariance.png", "covariance of the training images")],
     "The covariance matrix of the tiny images: white high, black low, all values positive; nine squares "
     "for the three colour channels, strong near the diagonal, with faint anti-diagonals from the "
     "images' symmetry.",
     ("reproduced", "strong near the diagonal and weak far from it, in nine squares for the three channels, "
      "with the 32-pixel row period as bands parallel to the diagonal.")),
    ("1.2", "The covariance of the red channel", "figures",
     [("fig1.2-covariance-red.png", "the red channel's block")],
     "The top-left square of Figure 1.1 magnified: pixels are much more correlated with faraway pixels "
     "in the same row or column than in another.",
     ("reproduced", "the red block shows the same diagonal and the row bands.")),
    ("1.3", "Whitening filters", "figures",
     [("fig1.3a-whitening-2-0.png", "(a) pixel (2,0): red, green, blue"),
      ("fig1.3b-whitening-15-15.png", "(b) pixel (15,15)")],
     "Whitening filters of the red, green and blue components of pixel (2, 0) and of pixel (15, 15): "
     "highly local, since nearby pixels are strongly correlated.",
     ("reproduced", "a bright point at the pixel in its own channel, ringed by negative weights: local "
      "centre-surround filters.")),
    ("1.4", "Dewhitening filters", "figures",
     [("fig1.4a-dewhitening-2-0.png", "(a) pixel (2,0)"), ("fig1.4b-dewhitening-15-15.png", "(b) pixel (15,15)")],
     "The dewhitening filters (rows of W^-1) of the pixels of Figure 1.3.",
     ("reproduced", "smooth blobs a few pixels wide around the pixel.")),
    ("1.5", "Whitened images", "figures",
     [("fig1.5-whitened.png", "two images of each class, whitened")],
     "The result of whitening: a sample of whitened images.",
     ("reproduced", "edges kept, regions of even colour flattened to grey; the JPEG copy's 8x8 blocking also "
      "shows, which the report's images did not have.")),
    ("2.2", "The log eigenspectrum", "figures",
     [("fig2.2-eigenspectrum.png", "variance of each principal component")],
     "The log-eigenspectrum of the tiny images: the variance in the directions of the 1000 least "
     "significant principal components is several orders of magnitude smaller than in the 1000 most "
     "significant.",
     ("partly", "the variance falls by about five orders of magnitude over the first 1000 components, then "
      "flattens near 1 from about component 1500: the JPEG quantisation of the copy used removed the "
      "high-frequency variance. The report's spectrum fell more evenly.")),
    ("2.3", "Whitening with 1000 directions dropped", "figures",
     [("fig2.3-original.png", "the image"), ("fig2.3a-whitened.png", "(a) whitened"),
      ("fig2.3a-dewhitened.png", "(a) then dewhitened"), ("fig2.3b-whitened-drop1000.png", "(b) whitened, 1000 dropped"),
      ("fig2.3b-dewhitened-drop1000.png", "(b) then dewhitened")],
     "(a) an image whitened and dewhitened; (b) the same with the 1000 least significant directions "
     "deleted: the whitened image is smoother in (b), the dewhitened ones identical.",
     ("reproduced", "the dewhitened image is the same with and without dropping 1000 directions, and the "
      "whitened one with dropping is a little smoother.")),
    ("2.4", "The 25 patches and the 26th", "figures",
     [("fig2.4-image.png", "the image"), ("fig2.4-patches.png", "25 overlapping 8x8 patches and the subsampled 26th")],
     "A 32 x 32 image cut into 25 8x8 patches (stride 6), plus a 26th: the whole image subsampled to 8x8.",
     ("reproduced", "the 25 overlapping 8x8 patches and the 8x8 subsampled 26th.")),
    ("2.5", "Filters of the RBM of patch 1", "rbm",
     [("fig2.5-patch1-filters.png", "as the RBM applies them (whitened)"),
      ("fig2.5-patch1-dewhitened.png", "through the dewhitening matrix, in pixels")],
     "Filters learned by an RBM on 8x8 patch #1 of the whitened images; the RBMs of the other patches "
     "learned similar ones.",
     ("reproduced", "local strokes, gratings and colour dots, but only in many small steps (minibatches of 20, "
      "momentum 0.9 from the start); in minibatches of 100 the filters stay noise.")),
    ("2.6", "Filters of the RBM of the subsampled patch", "rbm",
     [("fig2.6-patch26-filters.png", "as the RBM applies them"),
      ("fig2.6-patch26-dewhitened.png", "in pixels, placed over the whole image by the merge")],
     "Filters learned by an RBM on 8 x 8 subsampled versions of the 32 x 32 whitened images.",
     ("reproduced", "local strokes and colour dots, as for patch 1 (sigma the data's standard deviation).")),
    ("2.7", "A subsampled patch's units on the whole image", "rbm",
     [("fig2.6-patch26-dewhitened.png", "the 26th RBM's filters in the untrained merge, in pixels")],
     "A diagram: each weight of the subsampled patch's RBM is copied to the 16 pixels it stands for and "
     "divided by 16; the big RBM's weights are then untied.",
     ("reproduced", "tiny-rbm-merge builds the big RBM of section 2.5.1 this way from the 26 patch RBMs, "
      "the geometry from their attributes; the picture is the untrained merge.")),
    ("2.8", "Merged RBM, units from patch 1", "rbm",
     [("fig2.8-merged-patch1-filters.png", "after training the merge"),
      ("fig2.8-merged-patch1-dewhitened.png", "the same, in pixels")],
     "Filters of the RBM merged from the 26 patch RBMs, units initialised from patch #1: the non-zero "
     "weights stay in the top-left corner.",
     ("partly", "the merge trains on and its error falls below the patch RBMs' best (Figure 2.10), but the "
      "README records no comparison of the merged filters with the report's.")),
    ("2.9", "Merged RBM, units from the subsampled patch", "rbm",
     [("fig2.9-merged-patch26-filters.png", "after training the merge"),
      ("fig2.9-merged-patch26-dewhitened.png", "the same, in pixels")],
     "Filters of the merged RBM initialised from the subsampled patch: the globally noisy filters of "
     "Figure 2.6 develop into new local filters, the local ones stay.",
     ("partly", "trained one epoch (MERGED_EPOCHS) by default; the README records no comparison of these "
      "filters with the report's.")),
    ("2.10", "Reconstruction error, patches then merged", "rbm",
     [("fig2.10-recon.png", "per value: the 26 patch RBMs' mean, then the merged RBM")],
     "Epochs 0-20: the mean reconstruction error of the 26 patch RBMs; 20 on: the merged RBM's, with a "
     "spike at the merger, after which it quickly descends below its previous minimum.",
     ("reproduced", "the patch RBMs' error falls from 0.56 to 0.41 a value over 10 epochs, and one epoch of the "
      "merged RBM takes it to 0.37, below the patch RBMs' best.")),
    ("2.11", "An RBM on whole whitened images", "rbm",
     [("fig2.11-whole-filters.png", "as the RBM applies them"), ("fig2.11-whole-dewhitened.png", "in pixels")],
     "Filters of an RBM of 10000 hidden units trained on 2 million 32 x 32 whitened images: very "
     "similar to the patch RBMs' filters.",
     ("not yet", "noise as the RBM sees them and low-frequency colour templates in pixels, not the report's "
      "local filters (50000 images, 1000 units, 5 epochs).")),
    ("2.12", "Point filters", "rbm",
     [("fig2.12-raw-epoch1-filters.png", "unwhitened images, after 1 epoch"),
      ("fig2.12-raw-points.png", "the 64 most local filters after RAW_EPOCHS")],
     "A random sample of filters from an RBM on unwhitened images that only learned point filters: "
     "every filter goes through a point stage before it turns into an edge filter.",
     ("partly", "point filters (a single dark or light dot, many at the border) appear after about 30 "
      "epochs: 30 of 1000 after 40 epochs, 171 after 200; the rest stay global templates and noise.")),
    ("2.13", "An RBM on unwhitened images", "rbm",
     [("fig2.13-raw-filters.png", "after RAW_EPOCHS epochs")],
     "Filters of an RBM of 10000 hidden units on 2 million unwhitened images: edge filters, larger than "
     "the whitened RBM's.",
     ("not yet", "global colour templates for tens of epochs, then points; no edge filters even after 260 "
      "epochs of 50000 images (the report trained on 2 million).")),
    ("2.14", "Learning the visibles' standard deviations", "rbm",
     [("fig2.14-sigma-filters.png", "filters, sigmas learned"), ("fig2.14-sigmas.png", "the learned sigma of each visible unit")],
     "Filters of an RBM of 8192 units on unwhitened images while learning the visible standard "
     "deviations: higher-frequency edges. The sigmas came down from 69 to about 30, their standard "
     "deviation 0.42; the reconstruction error improved tremendously.",
     ("partly", "the sigmas fall from 63.0 to a mean of 39.9 in 10 epochs (sd 4.8), the error falls a lot and "
      "the filters get noisier, as in the report; but only at a sigma rate 300 times above the weights' "
      "(the report's was 100-1000 times below), and no edge filters.")),
    ("2.15", "The second layer", "rbm",
     [("fig2.15-second-filters.png", "each second-layer unit's 4 strongest and 4 weakest first-layer filters"),
      ("fig2.15-second-recon.png", "its reconstruction error")],
     "A binary RBM of 10000 units on the unwhitened RBM's features: each row a second-layer unit, the "
     "four first-layer filters it weighs most on the left, the four it weighs least on the right.",
     ("partly", "learned on the unwhitened RBM's features and drawn the report's way, but over first-layer "
      "filters that are templates and points, not the report's edges.")),
]

# Figure 3.1's numbers in the report's text (the README's table)
REPORT_31 = {"a": "37.32%", "b": "41.13%", "e": "64.84%", "f": "51.53%"}
VERDICT_31 = ("partly", "(a) 37.57% against 37.32%, (b) 40.71% against 41.13% and (f) 50.78% against 51.53% are "
              "close; (e) 53.72% against 64.84% is not: the RBMs learn on 50000 images instead of 2 million, "
              "with 4000 hidden units instead of 10000, and their filters are not yet edges.")
VERDICT_32 = ("reproduced", "cats taken for dogs (18%) and dogs for cats (21%), animals rarely taken for "
              "vehicles.")
REPORT_41 = {("2", "binary"): "48", ("4", "binary"): "144", ("8", "binary"): "336",
             ("2", "gaussian"): "296", ("4", "gaussian"): "888", ("8", "gaussian"): "2072",
             ("2", "gaussian64"): "552", ("4", "gaussian64"): "1656", ("8", "gaussian64"): "3864"}
VERDICT_41 = ("reproduced", "every count equals the table's, as section 4.4.1's formula gives them "
              "(--comm-only: the exchanges at their real sizes, without the arithmetic).")
VERDICT_CONV = ("partly", "k-means at K = 1600 scored 72.42%, 1.1 points below the Python anchor's 73.49% "
                "(target missed); the RBM banks are below k-means (66.36% at K = 1600).")
DEMO_PICTURES = [("images.png", "training images"), ("whitened.png", "whitened"),
                 ("filters.png", "whitening filters"), ("eigenspectrum.png", "eigenspectrum"),
                 ("rbm-filters.png", "filters of the RBM of 8x8 patches"),
                 ("rbm-recon.png", "its reconstruction error"), ("kmeans-filters.png", "k-means filters"),
                 ("confusion.png", "confusion matrix, RBM features")]


# --- the page ---------------------------------------------------------------------------------

STYLE = """
body { font: 15px/1.45 sans-serif; max-width: 1180px; margin: 0 auto; padding: 0 16px 40px; color: #222; }
h1 { margin-bottom: 0.2em; }
h2 { border-top: 2px solid #ccd; padding-top: 0.6em; margin-top: 1.6em; }
code, pre { font: 13px/1.35 monospace; background: #f4f4f8; }
pre { padding: 6px; overflow-x: auto; white-space: pre-wrap; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #eef; }
.pair { display: flex; flex-wrap: wrap; gap: 18px; }
.report { flex: 0 0 300px; background: #f7f3e8; padding: 4px 12px; border-left: 4px solid #c9b27c; }
.tiny { flex: 1 1 600px; }
figure { display: inline-table; margin: 0 14px 12px 0; vertical-align: top; }
figcaption { display: table-caption; caption-side: bottom; font-size: 13px; color: #444; min-width: 240px; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
.verdict { font-weight: bold; padding: 1px 6px; border-radius: 3px; white-space: nowrap; }
.reproduced { background: #cfe8cf; } .partly { background: #f3e2b3; }
.not-yet { background: #f2c4c4; } .not-run { background: #ddd; }
.made { font-size: 13px; color: #555; }
.missing { color: #844; }
"""


class Page:
    def __init__(self, out):
        self.out, self.parts, self.copied, self.missing = out, [], {}, []

    def add(self, *chunks):
        self.parts.extend(chunks)

    def copy(self, path):
        """A copy of PATH under OUT/files/, and its link from the page."""
        path = os.path.abspath(path)
        if path not in self.copied:
            # named by its last three path parts: quick--rbm--fig2.10-recon.png
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", "--".join(path.split(os.sep)[-3:]))
            taken = set(self.copied.values())
            stem, ext = os.path.splitext(name)
            k = 1
            while "files/" + name in taken:
                k += 1
                name = "%s-%d%s" % (stem, k, ext)
            shutil.copy2(path, os.path.join(self.out, "files", name))
            self.copied[path] = "files/" + name
        return self.copied[path]

    def picture(self, run, name, caption, limit=560, tallest=640):
        """A <figure> of one PNG of RUN (or the SVG beside it), with how it was made; None when absent."""
        path = run.file(name)
        info = path and png_info(path)
        if not info:
            return None
        width, height, history = info
        scale = min(1.0, limit / width, tallest / height)
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        times = part_seconds(run, history)
        made = "%s, made %s by <code>%s</code>" % (esc(name), when(path), esc(run.command))
        if times:
            made += "; parts: " + esc(times)
        details = ""
        if history:
            details = ("<details><summary>the %d stages that made it</summary><pre>%s</pre></details>"
                       % (len(history), esc("\n".join(history))))
        # an SVG beside the PNG (a plot drawn again with tiny-render --svg)
        # is shown instead: sharp at any size, and the one to put in a paper
        svg = os.path.splitext(path)[0] + ".svg"
        shown = self.copy(svg) if os.path.isfile(svg) else self.copy(path)
        if shown.endswith(".svg"):
            made += '; also as <a href="%s">PNG</a>' % self.copy(path)
        return ('<figure><a href="%s"><img src="%s" alt="%s" width="%d" height="%d"></a>'
                '<figcaption>%s<br><span class="made">%s</span>%s</figcaption></figure>'
                % (shown, shown, esc(caption + " (" + name + ")"), w, h,
                   esc(caption), made, details))

    def write(self):
        tmp = os.path.join(self.out, "index.html.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(self.parts) + "\n")
        os.replace(tmp, os.path.join(self.out, "index.html"))


def esc(s):
    return html.escape(str(s), quote=True)


def inline_md(text, base, page):
    """Markdown's inline code, bold and links, as HTML; a link to a file
    that exists becomes a link to its copy, any other stays text."""
    out = []
    for piece in re.split(r"(`[^`]*`|\*\*[^*]+\*\*|\[[^\]]*\]\([^)]*\))", text):
        if piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            out.append("<code>%s</code>" % esc(piece[1:-1]))
        elif piece.startswith("**"):
            out.append("<b>%s</b>" % esc(piece[2:-2]))
        elif piece.startswith("[") and "](" in piece:
            label, target = piece[1:-1].split("](", 1)
            path = os.path.join(base, target)
            if not re.match(r"\w+:", target) and os.path.isfile(path):
                out.append('<a href="%s">%s</a>' % (page.copy(path), esc(label)))
            else:
                out.append(esc(label))
        else:
            out.append(esc(piece))
    return "".join(out)


def md_to_html(text, base, page):
    """A Markdown file of the pipelines (tables and paragraphs) as HTML."""
    out, rows, para = [], [], []

    def flush():
        if rows:
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows
                     if not re.match(r"^\|[-|: ]+\|$", r.strip())]
            out.append("<table>")
            for i, r in enumerate(cells):
                tag = "th" if i == 0 else "td"
                out.append("<tr>%s</tr>" % "".join("<%s>%s</%s>" % (tag, inline_md(c, base, page), tag) for c in r))
            out.append("</table>")
            rows.clear()
        if para:
            out.append("<p>%s</p>" % inline_md(" ".join(para), base, page))
            para.clear()

    for line in text.split("\n"):
        if line.startswith("|"):
            if para:
                flush()
            rows.append(line)
        elif line.strip():
            if rows:
                flush()
            para.append(line.strip().lstrip("#").strip())
        else:
            flush()
    flush()
    return "\n".join(out)


def part_seconds(run, history):
    """The times pipelines/timed kept for the files the stages named."""
    seen, parts = set(), []
    timed = run.seconds()
    for line in history:
        for token in line.split():
            for rel, t in timed.items():
                if rel not in seen and (token.endswith("/" + rel) or token == rel):
                    seen.add(rel)
                    parts.append("%s %s s" % (rel, t))
    return ", ".join(parts)


def verdict(v):
    state, why = v
    return '<span class="verdict %s">%s</span> %s' % (state.replace(" ", "-"), esc(state), esc(why))


def verdict_line(v, what="the README's findings on the full-size run"):
    return "<p>Verdict (%s): %s</p>" % (esc(what), verdict(v))


def report_box(caption, numbers="", figure=True):
    note = ('<p class="made">(We have the report\'s text, not its pictures: its figure is described here.)</p>'
            if figure else "")
    return '<div class="report"><h3>The report</h3><p>%s</p>%s%s</div>' % (esc(caption), numbers, note)


def missing_note(page, what, command, why="not run"):
    page.missing.append((what, command))
    return '<p class="missing">%s: <code>%s</code> makes it.</p>' % (esc(why[0].upper() + why[1:]), esc(command))


def quick_made_note(run, runs):
    """The commit of a run that records none: its make quick's table's."""
    if run.commit:
        return "commit %s (its Made-by line)" % run.commit
    for other in runs:
        if other.quick and run.quick and other.commit and os.path.dirname(other.path) == os.path.dirname(run.path):
            return "commit not recorded by this run's files; the same make quick's %s names commit %s" % (
                os.path.join(other.path, "fig3.1.md"), other.commit)
    return "commit not recorded: the streams record their commands, not the commit"


# --- the numbers beside some figures ---------------------------------------------------------

def numbers_2_2(run):
    eig = read_field(os.path.join(run.path, "zca.tiny"), "eigval")
    if not eig or len(eig) < 2000:
        return ""
    eig = sorted(eig, reverse=True)
    top = sum(eig[:1000]) / 1000
    bottom = sum(max(e, 0.0) for e in eig[-1000:]) / 1000
    ratio = "%.1f" % math.log10(top / bottom) if bottom > 0 else "inf"
    return ("<p>tiny (zca.tiny's eigval): the largest variance %.3g, the 1000th %.3g, the 2072nd %.3g, the "
            "smallest %.3g; the 1000 most significant directions hold on average 10<sup>%s</sup> times the "
            "variance of the 1000 least.</p>" % (eig[0], eig[999], eig[2071], eig[-1], ratio))


def numbers_2_10(run):
    path = os.path.join(run.path, "recon.tiny")
    h = stream_header(path)
    if not h or not h["count"]:
        return ""
    rows = [(read_field(path, "epoch", i)[0], read_field(path, "recon", i)[0]) for i in range(h["count"])]
    return ("<p>tiny (recon.tiny), squared error per value by epoch, the last the merged RBM's: %s.</p>"
            % esc(", ".join("%d: %.3f" % (e, r) for e, r in rows)))


def numbers_2_12(run):
    text = read_text(os.path.join(run.path, "points.txt"))
    return "<p>tiny: <code>%s</code></p>" % esc(text.strip()) if text else ""


def numbers_2_14(run):
    s = read_field(os.path.join(run.path, "sigma.rbm"), "sigma")
    if not s:
        return ""
    mean = sum(s) / len(s)
    sd = (sum((x - mean) ** 2 for x in s) / len(s)) ** 0.5
    h = stream_header(os.path.join(run.path, "sigma.rbm"))
    epochs = (attrs(h, "train_epoch") or ["?"])[-1]
    return ("<p>tiny (sigma.rbm after %s epochs): the sigmas' mean %.1f, min %.1f, max %.1f, standard "
            "deviation %.2f (the report: from 69 to about 30, sd 0.42).</p>" % (esc(epochs), mean, min(s), max(s), sd))


NUMBERS = {"2.2": numbers_2_2, "2.10": numbers_2_10, "2.12": numbers_2_12, "2.14": numbers_2_14}


# --- the sections ---------------------------------------------------------------------------------

def section_figure(page, runs, fig):
    number, title, kind, pictures, caption, v = fig
    anchor = "fig" + number.replace(".", "-")
    page.add('<section id="%s"><h2>Figure %s: %s</h2>' % (anchor, number, esc(title)), verdict_line(v),
             '<div class="pair">', report_box(caption), '<div class="tiny"><h3>tiny</h3>')
    mine = [r for r in runs if r.kind == kind]
    shown = 0
    for run in mine:
        figures = [page.picture(run, name, what) for name, what in pictures]
        found = [f for f in figures if f]
        page.add("<p><b>%s</b></p>" % esc(run.label))
        if found:
            shown += 1
            page.add(*found)
            numbers = NUMBERS.get(number)
            if numbers:
                page.add(numbers(run))
            absent = [name for (name, _), f in zip(pictures, figures) if not f]
            if absent:
                page.add(missing_note(page, "Figure %s in %s (%s)" % (number, run.path, ", ".join(absent)),
                                      run.command, "%s not made in this run" % ", ".join(absent)))
        else:
            page.add(missing_note(page, "Figure %s in %s" % (number, run.path), run.command,
                                  "not made in this run"))
    if not mine:
        page.add(missing_note(page, "Figure %s" % number, MAKE[kind] + " [SOURCE=cifar-10-binary.tar.gz] (or make quick)",
                              "not run yet"))
    page.add("</div></div>", "</section>")
    return shown


def section_fig31(page, runs):
    page.add('<section id="fig3-1"><h2>Figure 3.1: classification on the test images</h2>', verdict_line(VERDICT_31),
             '<div class="pair">',
             report_box("Test accuracy of methods (a)-(j): logistic regression on whitened and unwhitened pixels "
                        "(a, b), on the features of RBMs of 10000 units on whitened and unwhitened images (c, d), "
                        "backprop nets initialised from them (e) or at random with 1000 and 10000 units (f, g), a "
                        "second RBM layer (h) and nets built on it (i, j). The RBM-initialised net (e) did best; "
                        "the two-hidden-layer net (j) did not improve on one.",
                        "<table><tr><th>method</th><th>report</th></tr>%s</table>" % "".join(
                            "<tr><td>(%s)</td><td>%s</td></tr>" % (m, s) for m, s in sorted(REPORT_31.items()))),
             '<div class="tiny"><h3>tiny</h3>')
    mine = [r for r in runs if r.kind == "classify" and r.file("fig3.1.md")]
    for run in mine:
        page.add("<p><b>%s</b>, table made %s:</p>" % (esc(run.label), when(run.file("fig3.1.md"))),
                 md_to_html(read_text(run.file("fig3.1.md")), run.path, page))
    if not mine:
        page.add(missing_note(page, "Figure 3.1", "make fig3.1 [SOURCE=cifar-10-binary.tar.gz] (or make quick)",
                              "not run yet"))
    page.add("</div></div>", "<p>Learning curves of every method: <a href=\"#curves\">below</a>.</p></section>")
    return len(mine)


def section_fig32(page, runs):
    page.add('<section id="fig3-2"><h2>Figure 3.2: the confusion matrix of (d)</h2>', verdict_line(VERDICT_32),
             '<div class="pair">',
             report_box("The confusion matrix of logistic regression on the features of the RBM on unwhitened "
                        "images, each row summing to 1: cats are often taken for dogs, and animals seldom for "
                        "non-animals (save birds for planes)."),
             '<div class="tiny"><h3>tiny</h3>')
    shown = 0
    for run in [r for r in runs if r.kind == "classify"]:
        fig = page.picture(run, "fig3.2-confusion.png", "confusion matrix of (d)")
        page.add("<p><b>%s</b></p>" % esc(run.label))
        if fig:
            shown += 1
            page.add(fig)
            text = read_text(os.path.join(run.path, "fig3.2-confusion.txt"))
            if text:
                page.add("<pre>%s</pre>" % esc(text.rstrip()))
        else:
            page.add(missing_note(page, "Figure 3.2 in %s" % run.path, "make fig3.2", "not made in this run"))
    if not any(r.kind == "classify" for r in runs):
        page.add(missing_note(page, "Figure 3.2", "make fig3.2 [SOURCE=cifar-10-binary.tar.gz]", "not run yet"))
    page.add("</div></div>", "</section>")
    return shown


def section_table41(page, runs):
    page.add('<section id="table4-1"><h2>Table 4.1: data sent by distributed RBM training</h2>',
             verdict_line(VERDICT_41, "the README's findings"), '<div class="pair">',
             report_box("MB sent by all K machines per batch of 8000 examples, 8000 visible and 20000 hidden "
                        "units: binary visibles 48, 144, 336; Gaussian single precision 296, 888, 2072; double "
                        "precision 552, 1656, 3864 (K = 2, 4, 8); weight synchronisation not included.", figure=False),
             '<div class="tiny"><h3>tiny</h3>')
    mine = [r for r in runs if r.kind == "table4.1" and r.file("table.txt")]
    for run in mine:
        path = run.file("table.txt")
        rows = []
        for line in read_text(path).split("\n"):
            w = line.split()
            if len(w) >= 6 and w[0].isdigit():
                rows.append("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s MB</td></tr>" % (
                    w[0], esc(w[1]), w[2], w[3], REPORT_41.get((w[0], w[1]), "-"), w[5]))
        page.add("<p><b>%s</b>, made %s by <code>make table4.1</code> (%s)</p>" % (
                     esc(run.label), when(path), esc(quick_made_note(run, runs))),
                 "<table><tr><th>K</th><th>visibles</th><th>tiny, MB</th><th>section 4.4.1's formula</th>"
                 "<th>report</th><th>weight sync (apart)</th></tr>%s</table>" % "".join(rows))
    if not mine:
        page.add(missing_note(page, "Table 4.1", "make table4.1", "not run yet"))
    page.add("</div></div>", "</section>")
    return len(mine)


def section_curves(page, runs):
    page.add('<section id="curves"><h2>Learning curves</h2>',
             "<p>The curves the pipelines draw: each classifier's losses and accuracies per epoch (iteration for "
             "L-BFGS), from its --log; the RBMs' reconstruction errors.</p>")
    count = 0
    for run in runs:
        if run.kind == "classify":
            figs = [page.picture(run, "%s-curves.png" % m, "(%s)" % m, limit=360) for m in "abcdefghij"]
        elif run.kind == "rbm":
            figs = [page.picture(run, "fig2.10-recon.png", "patch RBMs, then merged", limit=360),
                    page.picture(run, "fig2.15-second-recon.png", "second-layer RBM", limit=360)]
        elif run.kind == "demo":
            figs = [page.picture(run, "rbm-recon.png", "the demo's patch RBM", limit=360)]
        else:
            continue
        figs = [f for f in figs if f]
        if figs:
            count += len(figs)
            page.add("<h3>%s</h3>" % esc(run.label), *figs)
    if not count:
        page.add(missing_note(page, "learning curves", "make fig3.1 (or make quick, make demo)",
                              "no curves yet"))
    page.add("</section>")


def section_conv(page, runs):
    page.add('<section id="conv"><h2>Convolutional features (<code>make conv</code>, not in the report)</h2>',
             verdict_line(VERDICT_CONV, "the README's findings"),
             "<p>Filter banks learned on whitened 6x6 patches by k-means or a Gaussian RBM, applied at every "
             "position and sum-pooled over the quadrants, then logistic regression (Coates, Lee and Ng 2011). "
             "The same elsewhere: Python, Coates' pipeline with an L2-SVM, 70.00% (k-means, K 400) and 73.49% "
             "(K 1600); Coates et al. on the official files 77.9% (k-means, K 1600) and 72.4% (sparse RBM).</p>")
    mine = [r for r in runs if r.kind == "conv" and r.file("conv.md")]
    for run in mine:
        page.add("<p><b>%s</b>, made %s:</p>" % (esc(run.label), when(run.file("conv.md"))),
                 md_to_html(read_text(run.file("conv.md")), run.path, page))
        banks = sorted(f for f in os.listdir(run.path) if re.match(r"(kmeans|rbm)-\d+\.png$", f))
        page.add(*[f for f in (page.picture(run, b, "filters of the bank " + b[:-4], limit=560) for b in banks) if f])
    if not mine:
        page.add(missing_note(page, "the convolutional table", "make conv [SOURCE=cifar-10-binary.tar.gz]",
                              "not run yet"))
    page.add("</section>")
    return len(mine)


def section_demo(page, runs):
    page.add('<section id="demo"><h2>The demo (<code>make demo</code>, synthetic data)</h2>',
             "<p>5000 synthetic training and 1000 test images of 10 shapes at random places in random colours; "
             "logistic regression on the pixels, on a whole-image RBM's features and on convolutional features. "
             "The README measured 21.30%, 8.90% and 89.20% (chance is 10%).</p>")
    mine = [r for r in runs if r.kind == "demo"]
    for run in mine:
        n = run.images()
        page.add("<h3>%s%s</h3>" % (esc(run.label), ", %d training images" % n if n else ""))
        table = run.file("table.md")
        if table:
            page.add("<p>Accuracies, made %s:</p>" % when(table), md_to_html(read_text(table), run.path, page))
        else:
            page.add(missing_note(page, "the demo's accuracies in %s" % run.path, "make demo",
                                  "no accuracies in this run"))
        figs = [page.picture(run, name, what, limit=420) for name, what in DEMO_PICTURES]
        page.add(*[f for f in figs if f])
        absent = [name for (name, _), f in zip(DEMO_PICTURES, figs) if not f]
        if absent:
            page.add(missing_note(page, "the demo's %s in %s" % (", ".join(absent), run.path), "make demo",
                                  "%s not made in this run" % ", ".join(absent)))
    if not mine:
        page.add(missing_note(page, "the demo", "make demo", "not run yet"))
    page.add("</section>")
    return len(mine)


def section_runs(page, runs, roots):
    page.add('<section id="runs"><h2>The experiments found</h2>',
             "<p>Looked for in %s.</p>" % esc(", ".join(roots)))
    if not runs:
        page.add("<p class=\"missing\">No experiment has been run yet: see <a href=\"#missing\">what is "
                 "missing</a>.</p></section>")
        return
    page.add("<table><tr><th>run</th><th>make file</th><th>made by</th><th>training images</th>"
             "<th>files dated</th><th>timed parts</th></tr>")
    for run in runs:
        files = [os.path.join(d, f) for d, _, fs in os.walk(run.path) for f in fs]
        dates = sorted(os.path.getmtime(f) for f in files) or [0]
        fmt = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
        secs = run.seconds()
        total = sum(float(t) for t in secs.values() if re.match(r"^[0-9.]+$", t))
        timed = ("%d parts, %.1f s in all; the longest: %s" % (
            len(secs), total, ", ".join("%s %s s" % kv for kv in sorted(secs.items(), key=lambda kv: -float(kv[1]))[:3]))
            if secs else "none kept")
        made = "<code>%s</code>" % esc(run.command)
        if run.made_command and run.made_command != run.command:
            made += " (its table names <code>%s</code>)" % esc(run.made_command)
        made += "; " + esc(quick_made_note(run, runs))
        h = stream_header(os.path.join(run.path, "train.tiny")) or stream_header(os.path.join(run.path, "rbm/train.tiny"))
        fetch = attrs(h, "history")[:1]
        if fetch:
            made += "<br>data: <code>%s</code>" % esc(fetch[0])
        n = run.images()
        page.add("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s to %s UTC</td><td>%s</td></tr>" % (
            esc(run.path), esc(": ".join(KINDS[run.kind][1:])), made, n if n is not None else "-",
            fmt(dates[0]), fmt(dates[-1]), esc(timed)))
    page.add("</table></section>")


def summary_rows(runs):
    """(anchor, name, verdict, where found) for the summary table."""
    rows = []
    for number, title, kind, pictures, _, v in FIGURES:
        found = [r.path for r in runs if r.kind == kind and any(r.file(p) for p, _ in pictures)]
        rows.append(("fig" + number.replace(".", "-"), "Figure %s: %s" % (number, title), v, found, MAKE[kind]))
    rows.append(("fig3-1", "Figure 3.1: classification", VERDICT_31,
                 [r.path for r in runs if r.kind == "classify" and r.file("fig3.1.md")], "make fig3.1"))
    rows.append(("fig3-2", "Figure 3.2: confusion matrix", VERDICT_32,
                 [r.path for r in runs if r.kind == "classify" and r.file("fig3.2-confusion.png")], "make fig3.2"))
    rows.append(("table4-1", "Table 4.1: bytes sent", VERDICT_41,
                 [r.path for r in runs if r.kind == "table4.1" and r.file("table.txt")], "make table4.1"))
    rows.append(("conv", "Convolutional features", VERDICT_CONV,
                 [r.path for r in runs if r.kind == "conv" and r.file("conv.md")], "make conv"))
    return rows


def build(out, roots, table41):
    runs = find_runs(roots, table41)
    os.makedirs(out, exist_ok=True)
    shutil.rmtree(os.path.join(out, "files"), ignore_errors=True)
    os.makedirs(os.path.join(out, "files"))
    try:
        # the checkout this script is in
        here = os.path.dirname(os.path.abspath(__file__))
        commit = subprocess.run(["git", "-C", here, "describe", "--always", "--dirty"], capture_output=True,
                                text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    # the sections first, then the head and summary before them, the missing after
    body = Page(out)
    section_runs(body, runs, roots)
    for fig in FIGURES:
        section_figure(body, runs, fig)
    section_fig31(body, runs)
    section_fig32(body, runs)
    section_table41(body, runs)
    section_curves(body, runs)
    section_conv(body, runs)
    section_demo(body, runs)

    page = Page(out)
    page.add("<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             "<title>tiny: the report's figures and tables, reproduced</title>",
             "<style>%s</style>" % STYLE, "</head>", "<body>",
             "<h1>tiny: <i>Learning Multiple Layers of Features from Tiny Images</i>, reproduced</h1>",
             '<p class="made">Built %s by <code>pipelines/report.py</code> (<code>make report</code>) at commit '
             "%s, from the result roots %s. Each figure of the report (Krizhevsky 2009) that tiny reproduces: "
             "the report's, described from its text, beside tiny's pictures and numbers, with a verdict from "
             "the README's findings and how each picture was made.</p>" % (now, esc(commit), esc(", ".join(roots))))
    page.add('<section id="summary"><h2>Summary</h2>',
             "<table><tr><th>figure or table</th><th>verdict (README, full-size run)</th><th>tiny's results "
             "here</th></tr>")
    for anchor, name, v, found, command in summary_rows(runs):
        here = ", ".join(esc(f) for f in found) if found else \
            '<span class="verdict not-run">not run</span> <code>%s</code>' % esc(command)
        page.add('<tr><td><a href="#%s">%s</a></td><td><span class="verdict %s">%s</span></td><td>%s</td></tr>'
                 % (anchor, esc(name), v[0].replace(" ", "-"), esc(v[0]), here))
    page.add('</table><p>Also: <a href="#runs">the experiments found</a>, <a href="#curves">learning curves</a>, '
             '<a href="#demo">the demo</a>, <a href="#missing">what is missing</a>.</p></section>')
    page.add(*body.parts)
    # what is missing, one row a make command
    missing = {}
    for what, command in body.missing:
        missing.setdefault(command, []).append(what)
    page.add('<section id="missing"><h2>Missing experiments</h2>')
    if missing:
        page.add("<p>Not found under %s; each make command makes it (<code>SOURCE=cifar-10-binary.tar.gz</code> "
                 "reads a local copy of CIFAR-10, else it is downloaded once; then <code>make report</code> "
                 "again).</p><table><tr><th>make command</th><th>what it makes that is missing</th></tr>"
                 % esc(", ".join(roots)))
        page.add(*["<tr><td><code>%s</code></td><td>%s</td></tr>" % (esc(c), esc("; ".join(w)))
                   for c, w in missing.items()])
        page.add("</table>")
    else:
        page.add("<p>Nothing: every experiment has results here.</p>")
    page.add("</section>", "</body>", "</html>")
    page.write()
    return runs, missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="results/report", help="the page's directory (default results/report)")
    ap.add_argument("--table4.1", dest="table41", default="build/table4.1",
                    help="make table4.1's OUT (default build/table4.1)")
    ap.add_argument("roots", nargs="*", default=["results"], help="result roots (default results)")
    a = ap.parse_args()
    roots = [os.path.normpath(r) for r in a.roots] or ["results"]
    runs, missing = build(a.out, roots, a.table41)
    for run in runs:
        print("report: found %s" % run.label)
    for command, what in missing.items():
        print("report: missing %s: %s" % ("; ".join(what), command))
    print("report: %s: %d runs found, %d make commands to run for what is missing" % (
        os.path.join(a.out, "index.html"), len(runs), len(missing)))


if __name__ == "__main__":
    sys.exit(main())
