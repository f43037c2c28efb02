"""Brute-force reference for tests/dedupe.bats (NumPy, float64, all pairs).

  dedupe_ref.py plant OUT N C H W LEVELS SEED   random u8 images x [C,H,W] with
      values 0..LEVELS-1, an i64 index field idx, and planted near-duplicates
  dedupe_ref.py expect IN THRESHOLD [REF]        what tiny-dedupe should do:
      the kept idx values (one line), then every pair within the threshold
      as "i j dist" sorted by i then j
  dedupe_ref.py model OUT IN KIND                a model for --dims from IN:
      KIND eigvec (a tiny-zca-like eigvec f32 [D,D], rows by descending
      eigenvalue) or cov (tiny-cov-like mean f64 [D], cov f64 [D,D])
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "formats"))
from tiny_stream import load as load_tiny  # noqa: E402
TINY_NAME = {("u", 1): "u8", ("i", 4): "i32", ("u", 4): "u32", ("i", 8): "i64", ("f", 4): "f32",
             ("f", 8): "f64"}


def save_tiny(path, rec):
    lines = ["count %d" % len(rec)]
    for name in rec.dtype.names:
        base, shape = rec.dtype[name].base, rec.dtype[name].shape
        dtype = TINY_NAME[(base.kind, base.itemsize)]
        lines.append("field %s %s [%s]" % (name, dtype, ",".join(str(d) for d in shape)))
    lines.append("end")
    body = "\n".join(lines) + "\n"
    n = (len(body) + len("TINY 1 0000000\n") + 63) // 64 * 64
    hdr = "TINY 1 %d\n" % n + body
    hdr += "\n" * (n - len(hdr))
    with open(path, "wb") as f:
        f.write(hdr.encode())
        f.write(rec.tobytes())


def plant(out, n, c, h, w, levels, seed):
    rng = np.random.default_rng(seed)
    d = c * h * w
    x = rng.integers(0, levels, size=(n, d)).astype(np.int64)
    # near-duplicates: copies of earlier records with a little noise, some
    # of them copies of copies (chains), scattered over the whole stream
    for k in range(n // 10):
        dst = rng.integers(1, n)
        src = rng.integers(0, dst)
        noise = rng.integers(-2, 3, size=d) * (rng.random(d) < rng.random())
        x[dst] = np.clip(x[src] + noise, 0, levels - 1)
    rec = np.zeros(n, dtype=[("idx", "<i8"), ("x", "u1", (c, h, w))])
    rec["idx"] = np.arange(n)
    rec["x"] = x.reshape(n, c, h, w)
    save_tiny(out, rec)


def dist2(a, b):
    """(len(a), len(b)) squared distances, exact for small integers."""
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        big = max(int(np.abs(a).max(initial=0)), int(np.abs(b).max(initial=0)))
        if 4 * big * big * a.shape[1] < 2**52:
            # every partial sum is an integer below 2^53: float64 is exact
            a, b = a.astype(np.float64), b.astype(np.float64)
            na, nb = (a * a).sum(1), (b * b).sum(1)
            return na[:, None] + nb[None, :] - 2 * a @ b.T
    a, b = a.astype(np.float64), b.astype(np.float64)
    return np.array([((b - row) ** 2).sum(1) for row in a]).reshape(len(a), len(b))


def expect(path, threshold, ref=None):
    data = load_tiny(path)
    x = data["x"].reshape(len(data), -1)
    y = x if ref is None else load_tiny(ref)["x"]
    d2 = dist2(x, y.reshape(len(y), -1))
    near = d2 <= float(threshold) ** 2
    if ref is None:
        kept = np.zeros(len(x), dtype=bool)
        for j in range(len(x)):
            kept[j] = not (near[:j, j] & kept[:j]).any()
        ii, jj = np.nonzero(np.triu(near, 1))
    else:
        kept = ~near.any(1)
        ii, jj = np.nonzero(near)
    idx = data["idx"] if "idx" in data.dtype.names else np.arange(len(data))
    print(" ".join(str(int(k)) for k in idx[kept]))
    for i, j in zip(ii, jj):
        print(i, j, "%.9g" % np.float32(np.sqrt(d2[i, j])))


def model(out, path, kind):
    data = load_tiny(path)
    x = data["x"].reshape(len(data), -1).astype(np.float64)
    cov = np.cov(x, rowvar=False)
    d = x.shape[1]
    if kind == "eigvec":
        w, v = np.linalg.eigh(cov)
        rec = np.zeros(1, dtype=[("mean", "<f4", (d,)), ("eigvec", "<f4", (d, d))])
        rec["mean"] = x.mean(0)
        rec["eigvec"] = v[:, ::-1].T
    else:
        rec = np.zeros(1, dtype=[("n", "<i8"), ("mean", "<f8", (d,)), ("cov", "<f8", (d, d))])
        rec["n"] = len(x)
        rec["mean"] = x.mean(0)
        rec["cov"] = cov
    save_tiny(out, rec)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "plant":
        plant(sys.argv[2], *(int(a) for a in sys.argv[3:9]))
    elif cmd == "expect":
        expect(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "model":
        model(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
