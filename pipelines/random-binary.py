#!/usr/bin/env python3
"""random-binary.py N V SEED: N records of x u8 [V], each value 0 or 255
(binary visibles read u8 as x/255: 0 or 1) with probability 1/2 (section
4.4's "random binary data"), as a tiny stream on stdout (formats/stream.md)."""
import sys

import numpy as np

n, v, seed = (int(a) for a in sys.argv[1:4])
body = "count %d\nfield x u8 [%d]\nattr source random-binary N=%d V=%d seed=%d\nend\n" % (n, v, n, v, seed)
first = "TINY 1 %d\n"
length = len(first % 0) + len(body)
length = (length + 63) // 64 * 64
head = (first % length) + body
length = (len(head) + 63) // 64 * 64   # the number may have grown a digit
head = (first % length) + body
out = sys.stdout.buffer
out.write(head.encode() + b"\n" * (length - len(head)))
rng = np.random.default_rng(seed)
for start in range(0, n, 1000):
    out.write((255 * rng.integers(0, 2, size=(min(1000, n - start), v), dtype=np.uint8)).tobytes())
