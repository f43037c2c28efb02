#!/usr/bin/python3
"""jpeg-resave.py STREAM [N]: how far re-saving an image as JPEG moves it.

Reads the first N (default 2000) images of a tiny stream (field x u8
[3,32,32]), re-encodes each with PIL at several JPEG qualities, decodes it
again and prints the L2 distance from the original (0..255 pixel values over
all 3072 values): median, 99th percentile and maximum per quality.  This is
the scale tiny-dedupe's threshold has to cover (section 3.1: "re-saved JPEGs
and the like").  Also the distance a one-pixel shift makes, for contrast.
"""
import io
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "formats"))
from tiny_stream import load  # noqa: E402


def main():
    path, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    x = load(path, n)["x"].astype(np.float64)
    print("L2 distance moved, over %d images (0..255 values, D = 3072)" % len(x))
    print("%-22s %8s %8s %8s" % ("change", "median", "99%", "max"))
    for q in (95, 90, 75, 50):
        d = []
        for img in x:
            buf = io.BytesIO()
            Image.fromarray(img.transpose(1, 2, 0).astype(np.uint8)).save(buf, "JPEG", quality=q)
            back = np.asarray(Image.open(buf).convert("RGB"), dtype=np.float64).transpose(2, 0, 1)
            d.append(np.sqrt(((back - img) ** 2).sum()))
        d = np.array(d)
        print("%-22s %8.0f %8.0f %8.0f" % ("JPEG quality %d" % q, np.median(d), np.percentile(d, 99), d.max()))
    s = np.sqrt(((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum(axis=(1, 2, 3)) * 32 / 31)
    print("%-22s %8.0f %8.0f %8.0f" % ("shift by one pixel", np.median(s), np.percentile(s, 99), s.max()))


if __name__ == "__main__":
    main()
