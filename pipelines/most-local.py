#!/usr/bin/python3
"""most-local.py MODEL K [TOP]: the K filters (columns of an RBM's W) whose
weight energy is most concentrated in space, most concentrated first, as
tiny-render filters --pick wants them (I,J,...).  A filter's locality is
the share of its energy (w^2 summed over the colour channels of the
model's shape attribute C,H,W) in its TOP (default 16) strongest pixel
positions: 16/1024 for a filter spread evenly over a 32x32 image, 1 for
one confined to 16 pixels, as the report's point filters are.  On stderr:
how many filters hold more than 30% of their energy there (the point
filters of Figure 2.12)."""
import sys

sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/formats")
import numpy as np
from tiny_stream import load

if len(sys.argv) not in (3, 4):
    sys.exit("usage: most-local.py MODEL K [TOP]")
path, K = sys.argv[1], int(sys.argv[2])
top = int(sys.argv[3]) if len(sys.argv) == 4 else 16
m = load(path)[0]
with open(path, "rb") as f:
    n = int(f.readline().split()[2])
    f.seek(0)
    head = f.read(n).decode()
shape = [line.split()[2] for line in head.split("\n") if line.startswith("attr shape ")]
W = np.asarray(m["W"], dtype=np.float64)
C = int(shape[0].split(",")[0]) if shape and shape[0].count(",") == 2 else 1
e = (W.reshape(C, -1, W.shape[1]) ** 2).sum(0)  # (pixels, H)
share = np.sort(e, 0)[::-1][:top].sum(0) / np.maximum(e.sum(0), 1e-300)
order = np.argsort(-share, kind="stable")[:K]
print(",".join(str(j) for j in order))
print("most-local: %d of %d filters hold more than 30%% of their energy in %d of %d pixel positions "
      "(the %d drawn: %.2f to %.2f)" % ((share > 0.3).sum(), share.size, top, e.shape[0], len(order),
                                       share[order[0]], share[order[-1]]), file=sys.stderr)
