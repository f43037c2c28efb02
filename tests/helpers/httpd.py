#!/usr/bin/python3
"""A small HTTP server for the tiny-fetch download tests (standard library only).

usage: httpd.py DIR PORTFILE LOGFILE

Binds 127.0.0.1 on a free port, writes the port to PORTFILE (atomically, so
a reader never sees it half written) and serves the files in DIR:

  /ok/NAME           the file; "Range: bytes=N-" (or N-M) gives 206 with
                     Content-Range, N >= size gives 416
  /cut/NAME          the first request for NAME gets the full Content-Length
                     but only the first half of the body, then the connection
                     closes; later requests behave like /ok
  /cut-norange/NAME  the first request is cut the same way; later requests
                     ignore Range and always get 200 with the whole file
  anything else      404

Each request is appended to LOGFILE as one line, "METHOD PATH range=VALUE"
(VALUE is "-" without a Range header), flushed before the response is sent.
"""
import http.server
import os
import re
import sys
import threading

ROOT, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
_lock = threading.Lock()
_cut_done = set()  # (mode, name) whose first request was cut


def log_request_line(line):
    with _lock:
        with open(LOGFILE, "a") as f:
            f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection
    server_version = "tiny-test-httpd"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    def send_plain(self, code, body=b"", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        rng = self.headers.get("Range")
        log_request_line("%s %s range=%s" % (self.command, self.path, rng if rng is not None else "-"))

        m = re.fullmatch(r"/(ok|cut|cut-norange)/([^/]+)", self.path)
        path = os.path.join(ROOT, m.group(2)) if m else None
        if not m or m.group(2).startswith(".") or not os.path.isfile(path):
            self.send_plain(404, b"not found\n")
            return
        mode, name = m.group(1), m.group(2)
        with open(path, "rb") as f:
            data = f.read()
        size = len(data)

        if mode != "ok":
            with _lock:
                first = (mode, name) not in _cut_done
                _cut_done.add((mode, name))
            if first:
                # promise the whole file, send half of it, hang up
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data[: size // 2])
                    self.wfile.flush()
                self.close_connection = True
                return
            if mode == "cut-norange":
                rng = None  # no Range support: always the whole file

        if rng is not None:
            r = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", rng)
            if not r:
                self.send_plain(416, b"", [("Content-Range", "bytes */%d" % size)])
                return
            start = int(r.group(1))
            end = int(r.group(2)) if r.group(2) else size - 1
            end = min(end, size - 1)
            if start >= size or start > end:
                self.send_plain(416, b"", [("Content-Range", "bytes */%d" % size)])
                return
            body = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return

        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        if mode != "cut-norange":
            self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_HEAD = do_GET


def main():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, PORTFILE)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
