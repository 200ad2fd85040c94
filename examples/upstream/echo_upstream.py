#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Demo upstream service: replies to every request with JSON that describes it.

The reply holds the service name, method, path, query, request headers (the
value of Authorization replaced by "<present>", so a test can check whether
the proxy stripped it) and the body's length and SHA-256. Streaming:
`GET /stream?chunks=N&delay_ms=D` sends N chunks of JSON lines, D ms apart,
with chunked transfer coding. `GET /slow?delay_ms=D` waits before answering. `GET /bytes?n=N` sends N
bytes of a fixed pattern with Content-Length and their SHA-256 in the
X-Body-Sha256 response header.

Usage: echo_upstream.py --listen 127.0.0.1:PORT --name NAME [--port-file F]
Port 0 picks a free port; the bound address is printed as
"echo-upstream: listening on HOST:PORT" and written to --port-file.
Only loopback addresses are accepted.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MAX_CHUNKS = 10000
MAX_DELAY_MS = 60000
MAX_BYTES = 256 * 1024 * 1024
PATTERN = bytes(range(256)) * 256


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "echo-upstream/1"

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        if self.server.verbose:
            super().log_message(format, *args)

    def _read_body(self):
        """Reads a Content-Length or chunked body; returns (length, sha256 hex)."""
        digest = hashlib.sha256()
        total = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                remaining = size
                while remaining > 0:
                    data = self.rfile.read(min(remaining, 65536))
                    if not data:
                        raise ConnectionError("body ended early")
                    digest.update(data)
                    total += len(data)
                    remaining -= len(data)
                self.rfile.readline(8)
        else:
            remaining = int(self.headers.get("Content-Length", "0") or "0")
            while remaining > 0:
                data = self.rfile.read(min(remaining, 65536))
                if not data:
                    raise ConnectionError("body ended early")
                digest.update(data)
                total += len(data)
                remaining -= len(data)
        return total, digest.hexdigest()

    def _describe(self, body_length, body_sha256):
        parts = urlsplit(self.path)
        headers = []
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                value = "<present>"
            headers.append([name, value])
        return {
            "service": self.server.service_name,
            "method": self.command,
            "path": parts.path,
            "query": parts.query,
            "target": self.path,
            "headers": headers,
            "body_length": body_length,
            "body_sha256": body_sha256,
        }

    def _send_json(self, status, obj):
        data = (json.dumps(obj, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _stream(self, description, query):
        chunks = min(int(query.get("chunks", ["3"])[0]), MAX_CHUNKS)
        delay = min(int(query.get("delay_ms", ["20"])[0]), MAX_DELAY_MS) / 1000.0
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(chunks):
            line = json.dumps({"chunk": i, "service": description["service"]}) + "\n"
            data = line.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            if delay:
                time.sleep(delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _bytes(self, query):
        n = min(int(query.get("n", ["0"])[0]), MAX_BYTES)
        digest = hashlib.sha256()
        left = n
        while left > 0:
            piece = PATTERN[: min(left, len(PATTERN))]
            digest.update(piece)
            left -= len(piece)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.send_header("X-Body-Sha256", digest.hexdigest())
        self.end_headers()
        if self.command == "HEAD":
            return
        left = n
        while left > 0:
            piece = PATTERN[: min(left, len(PATTERN))]
            self.wfile.write(piece)
            left -= len(piece)

    def _handle(self):
        try:
            length, sha = self._read_body()
        except (ValueError, ConnectionError) as e:
            self.close_connection = True
            self._send_json(400, {"error": "invalid request body: %s" % e})
            return
        description = self._describe(length, sha)
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if parts.path == "/bytes":
            self._bytes(query)
            return
        if parts.path == "/stream":
            self._stream(description, query)
            return
        if parts.path == "/slow":
            delay = min(int(query.get("delay_ms", ["1000"])[0]), MAX_DELAY_MS) / 1000.0
            time.sleep(delay)
        self._send_json(200, description)

    do_GET = _handle
    do_HEAD = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle
    do_OPTIONS = _handle


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, family, service_name, verbose):
        self.address_family = family
        self.service_name = service_name
        self.verbose = verbose
        super().__init__(address, EchoHandler)


def parse_listen(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    address = ipaddress.ip_address(host)
    if not address.is_loopback:
        raise ValueError("%s is not a loopback address; the demo upstream binds loopback only" % host)
    return host, int(port), address.version


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0", help="loopback ADDR:PORT, [::1]:PORT for IPv6")
    parser.add_argument("--name", default="echo", help="service name echoed in every reply")
    parser.add_argument("--port-file", help="write the bound HOST:PORT here once listening")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args()
    try:
        host, port, version = parse_listen(args.listen)
    except ValueError as e:
        parser.error("invalid --listen: %s" % e)
    import socket

    family = socket.AF_INET6 if version == 6 else socket.AF_INET
    server = EchoServer((host, port), family, args.name, args.verbose)
    bound = server.server_address[1]
    bound_text = "[%s]:%d" % (host, bound) if version == 6 else "%s:%d" % (host, bound)
    print("echo-upstream: listening on %s" % bound_text, flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(bound_text + "\n")
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
