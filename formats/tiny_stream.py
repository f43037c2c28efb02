"""Python's view of a tiny stream (formats/stream.md), both ways, so that a
Python stage can sit in a pipeline between two tiny programs.

Reading, from a path, "-" (stdin) or a binary file object (a pipe works):

    sys.path.insert(0, "formats"); import tiny_stream
    d = tiny_stream.load("train.tiny")        # records: d["x"], d["label"]
    d = tiny_stream.load("train.tiny", 2000)  # the first 2000 records
    s = tiny_stream.read("-")                 # a Stream: s.records, s.fields,
    s.attrs                                   #   [(key, value), ...] in order
    s.attr("classes")                         # the last value of a key, or None
    s.model()                                 # {field: array} of a one-record
                                              #   stream, no leading axis

Writing, to a path (whole or not at all: a temporary name, then a rename),
"-" (stdout) or a binary file object:

    with tiny_stream.Writer("-", [("label", "u8", ()), ("x", "f32", (3, 32, 32))],
                            attrs=s.attrs, history="stage.py") as w:
        w.write(records)                      # a structured array, or dict of arrays

A writer without count writes `count unknown` and ends the stream with the
16-byte trailer; with count it checks that exactly that many were written.
A stream that ends early or carries bytes past its records raises
ValueError, as the tiny programs refuse it.
"""
import os
import sys
import tempfile

import numpy as np

NP_TYPE = {"u8": "u1", "i32": "<i4", "u32": "<u4", "i64": "<i8", "f32": "<f4", "f64": "<f8"}
TINY_TYPE = {np.dtype(v).str: k for k, v in NP_TYPE.items()}
TRAILER = b"TINYEND\n"


class Stream:
    """A stream read whole: fields [(name, dtype, shape)], attrs [(key,
    value)] in header order, records (a structured array), count."""

    def __init__(self, fields, attrs, records):
        self.fields, self.attrs, self.records = fields, attrs, records
        self.count = len(records)

    def attr(self, key):
        vals = [v for k, v in self.attrs if k == key]
        return vals[-1] if vals else None

    def model(self):
        """The fields of a one-record stream (a model) as arrays of their own
        shape, without the record axis."""
        if self.count != 1:
            raise ValueError("a model is one record; this stream holds %d" % self.count)
        return {name: self.records[name][0] for name, _, _ in self.fields}


def _open_in(src):
    if hasattr(src, "read"):
        return src, False, getattr(src, "name", "stream")
    if src in (None, "-"):
        return sys.stdin.buffer, False, "stdin"
    return open(src, "rb"), True, src


def _read_header(f, name):
    first = f.readline(64)
    parts = first.split()
    if len(parts) != 3 or parts[0] != b"TINY" or parts[1] != b"1" or not first.endswith(b"\n"):
        raise ValueError("%s: not a tiny stream (expected 'TINY 1 L' first)" % name)
    hdrlen = int(parts[2])
    rest = f.read(hdrlen - len(first))
    if len(rest) != hdrlen - len(first):
        raise ValueError("%s: the header ends early" % name)
    count, fields, attrs = None, [], []
    for line in rest.decode().split("\n"):
        if line.startswith("count "):
            count = None if line == "count unknown" else int(line[6:])
        elif line.startswith("field "):
            _, fname, dtype, shape = line.split(" ")
            fields.append((fname, dtype, tuple(int(d) for d in shape[1:-1].split(",") if d)))
        elif line.startswith("attr "):
            key, _, value = line[5:].partition(" ")
            attrs.append((key, value))
        elif line == "end":
            break
    return hdrlen, count, fields, attrs


def _np_dtype(fields):
    return np.dtype([(n, NP_TYPE[t], s) for n, t, s in fields])


def read(src="-", count=-1):
    """The stream at src (a path, "-" or a binary file object), its records
    checked whole: the first count of them when count >= 0."""
    f, close, name = _open_in(src)
    try:
        hdrlen, n, fields, attrs = _read_header(f, name)
        dt = _np_dtype(fields)
        if n is not None and close and count >= 0:
            want = min(n, count)
            body = f.read(want * dt.itemsize)
            if len(body) != want * dt.itemsize:
                raise ValueError("%s: truncated: %d of %d records" % (name, len(body) // dt.itemsize, n))
        else:
            body = f.read()
            if n is None:
                if len(body) < 16 or body[-16:-8] != TRAILER or (len(body) - 16) % dt.itemsize or \
                        int.from_bytes(body[-8:], "little") != (len(body) - 16) // dt.itemsize:
                    raise ValueError("%s: the count-unknown stream ends without its trailer (truncated)" % name)
                body = body[:-16]
            elif len(body) != n * dt.itemsize:
                raise ValueError("%s: %d bytes of records where the header promises %d records of %d" %
                                 (name, len(body), n, dt.itemsize))
            if count >= 0:
                body = body[:count * dt.itemsize]
        return Stream(fields, attrs, np.frombuffer(body, dtype=dt))
    finally:
        if close:
            f.close()


def load(src, count=-1):
    """The records of the stream at src as one structured array."""
    return read(src, count).records


def header_text(fields, attrs, count):
    lines = ["count %s" % ("unknown" if count is None else count)]
    lines += ["field %s %s [%s]" % (n, t, ",".join(str(d) for d in s)) for n, t, s in fields]
    lines += ["attr %s %s" % (k, v) if v != "" else "attr %s" % k for k, v in attrs]
    lines.append("end")
    body = "".join(line + "\n" for line in lines).encode()
    # "TINY 1 L\n" then the lines, padded with newlines to L, a multiple of 64
    for digits in range(2, 8):
        total = len(b"TINY 1 \n") + digits + len(body)
        L = (total + 63) // 64 * 64
        if len(str(L)) == digits:
            return b"TINY 1 %d\n" % L + body + b"\n" * (L - total)
    raise ValueError("header too long")


class Writer:
    """A stream written record block by record block.  fields: [(name,
    dtype, shape)] with dtype a tiny one (u8, i32, u32, i64, f32, f64);
    attrs: [(key, value)], to which history (a command) is appended."""

    def __init__(self, dst, fields, attrs=(), count=None, history=None):
        self.fields = [(n, t, tuple(s)) for n, t, s in fields]
        for n, t, s in self.fields:
            if t not in NP_TYPE:
                raise ValueError("field %s: dtype %s is not one of %s" % (n, t, ", ".join(NP_TYPE)))
        attrs = list(attrs)
        if history is not None:
            attrs.append(("history", history))
        self.dtype = _np_dtype(self.fields)
        self.count, self.written, self.tmp, self.path = count, 0, None, None
        if hasattr(dst, "write"):
            self.f = dst
        elif dst in (None, "-"):
            self.f = sys.stdout.buffer
        else:
            d = os.path.dirname(os.path.abspath(dst))
            fd, self.tmp = tempfile.mkstemp(prefix=os.path.basename(dst) + ".tmp.", dir=d)
            self.f, self.path = os.fdopen(fd, "wb"), dst
        self.f.write(header_text(self.fields, attrs, count))

    def write(self, records):
        if isinstance(records, dict):
            n = len(next(iter(records.values())))
            rec = np.zeros(n, dtype=self.dtype)
            for name in self.dtype.names:
                rec[name] = records[name]
            records = rec
        records = np.asarray(records).astype(self.dtype, copy=False)
        if self.count is not None and self.written + len(records) > self.count:
            raise ValueError("writing more than the %d records the header promised" % self.count)
        self.f.write(records.tobytes())
        self.written += len(records)

    def close(self):
        if self.count is None:
            self.f.write(TRAILER + self.written.to_bytes(8, "little"))
        elif self.written != self.count:
            self.abort()
            raise ValueError("wrote %d of the %d records the header promised" % (self.written, self.count))
        self.f.flush()
        if self.path:
            self.f.close()
            os.chmod(self.tmp, 0o666 & ~_umask())
            os.replace(self.tmp, self.path)

    def abort(self):
        if self.path and self.tmp:
            self.f.close()
            os.unlink(self.tmp)
            self.path = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m
