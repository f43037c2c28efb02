"""NumPy's view of a tiny stream (formats/stream.md): the records as one
structured array whose fields are the stream's, for the tests, bench and
pipelines written in Python.

    sys.path.insert(0, "formats"); from tiny_stream import load
    d = load("train.tiny")          # d["x"], d["label"], ...
    d = load("train.tiny", 2000)    # the first 2000 records

A stream of `count unknown` ends with a 16-byte trailer (formats/stream.md),
which load checks and leaves out.
"""
import os

import numpy as np

NP_TYPE = {"u8": "u1", "i32": "<i4", "u32": "<u4", "i64": "<i8", "f32": "<f4", "f64": "<f8"}


def load(path, count=-1):
    with open(path, "rb") as f:
        magic, version, hdrlen = f.readline().split()
        f.seek(0)
        lines = f.read(int(hdrlen)).decode().split("\n")
    assert magic == b"TINY" and version == b"1", path
    fields = []
    for line in lines:
        if line.startswith("field "):
            _, name, dtype, shape = line.split(" ")
            fields.append((name, NP_TYPE[dtype], tuple(int(d) for d in shape[1:-1].split(",") if d)))
    dt = np.dtype(fields)
    if "count unknown" in lines:
        body = os.path.getsize(path) - int(hdrlen) - 16
        with open(path, "rb") as f:
            f.seek(int(hdrlen) + max(body, 0))
            trailer = f.read(16)
        if body < 0 or body % dt.itemsize or trailer[:8] != b"TINYEND\n" or \
                int.from_bytes(trailer[8:], "little") != body // dt.itemsize:
            raise ValueError("%s: the count-unknown stream ends without its trailer (truncated)" % path)
        if count < 0 or count > body // dt.itemsize:
            count = body // dt.itemsize
    return np.fromfile(path, dtype=dt, offset=int(hdrlen), count=count)
