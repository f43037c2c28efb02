#!/usr/bin/python3
"""bankstats.py BANK...: how many of a filter bank's K filters are filters of
their own.  For each bank (a tiny-kmeans bank or a tiny-rbm-train model,
field W [D,K]) it prints the filters' lengths (min, quartiles, max; for an
RBM, units of v/sigma), how many are shorter than 0.5 (an RBM unit that
stayed near its 0.01 N(0,1) start has about 0.1), how many have a
near-copy (another filter at |cos| > 0.9), and the share of the unit
filters' energy in their top four singular directions (a few shared
directions take it when units collapse onto them; about 4 / D when they
are spread)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "formats"))
import tiny_stream  # noqa: E402

if len(sys.argv) < 2:
    sys.exit("usage: bankstats.py BANK...")
for path in sys.argv[1:]:
    W = np.asarray(tiny_stream.read(path).model()["W"], dtype=np.float64)
    if W.ndim != 2:
        sys.exit("bankstats.py: %s: W has shape %s; expected [D,K]" % (path, W.shape))
    n = np.linalg.norm(W, axis=0)
    U = W / np.maximum(n, 1e-30)
    C = np.abs(U.T @ U)
    np.fill_diagonal(C, 0)
    s2 = np.linalg.svd(U, compute_uv=False) ** 2
    q = np.quantile(n, [0, 0.25, 0.5, 0.75, 1])
    print("%s: K %d, |w| %s, |w| < 0.5: %d, near-copies (|cos| > 0.9): %d, top-4 share %.3f"
          % (path, W.shape[1], " ".join("%.3g" % v for v in q), (n < 0.5).sum(),
             (C.max(axis=1) > 0.9).sum(), s2[:4].sum() / s2.sum()))
