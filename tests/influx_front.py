"""A test-only HTTP front for InfluxDB 1.6: the v2 write endpoint on top of /write.

InfluxDB 1.8 answers `POST /api/v2/write?bucket=db/rp` natively; Debian's 1.6 does
not. The front maps that call onto `/write?db=…&rp=…` (org and the Token header are
ignored, as 1.8 does) and passes every other request through untouched. Tests can
tell it to answer with an error status or to refuse connections altogether.
"""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"}


def v1_path(path: str) -> str:
    """`/api/v2/write?bucket=db/rp&precision=ms` → `/write?db=db&rp=rp&precision=ms`."""
    parts = urlsplit(path)
    if parts.path != "/api/v2/write":
        return path
    query = parse_qs(parts.query)
    db, _, rp = query.get("bucket", [""])[0].partition("/")
    mapped = {"db": db, "precision": query.get("precision", ["ns"])[0]}
    if rp:
        mapped["rp"] = rp
    return "/write?" + urlencode(mapped)


class InfluxFront:
    """Listens on `port` and forwards to influxd at `upstream_port`; start() to begin."""

    def __init__(self, upstream_port: int, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port, self.upstream_port = host, port, upstream_port
        self.fail_status: int | None = None
        self.writes = 0
        self.failed_writes = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> InfluxFront:
        """Listen (again) on the same port."""
        with self._lock:
            if self._server is not None:
                return self
            server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
            server.daemon_threads = True
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def refuse(self) -> None:
        """Stop listening and drop open connections: clients see 'connection refused'."""
        with self._lock:
            server, self._server = self._server, None
            thread, self._thread = self._thread, None
            open_socks, self._open = self._open, set()
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        for sock in open_socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def fail(self, status: int | None) -> None:
        """Answer every request with `status` (e.g. 429, 503); None passes through again."""
        self.fail_status = status

    def heal(self) -> None:
        """Pass everything through again and listen if refused."""
        self.fail_status = None
        self.start()

    def stop(self) -> None:
        self.refuse()

    def _track(self, sock: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._open.add(sock)
            else:
                self._open.discard(sock)

    def __enter__(self) -> InfluxFront:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(front: InfluxFront) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream: http.client.HTTPConnection | None = None

        def setup(self) -> None:
            super().setup()
            front._track(self.connection, True)

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                front._track(self.connection, False)
                if self.upstream is not None:
                    self.upstream.close()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._relay()

        def do_POST(self) -> None:
            self._relay()

        def do_HEAD(self) -> None:
            self._relay()

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    chunk = self.rfile.read(size)
                    self.rfile.readline()
                    if size == 0:
                        return b"".join(chunks)
                    chunks.append(chunk)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _relay(self) -> None:
            body = self._body()
            is_write = urlsplit(self.path).path == "/api/v2/write"
            if is_write:
                front.writes += 1
            status = front.fail_status
            if status is not None:
                if is_write:
                    front.failed_writes += 1
                message = b'{"code":"unavailable","message":"injected by the test front"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(message)))
                self.end_headers()
                self.wfile.write(message)
                return
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "authorization"
            }
            headers["Content-Length"] = str(len(body))
            try:
                answer = self._forward(v1_path(self.path), body, headers)
            except OSError:
                self.send_error(502, "influxd unreachable")
                return
            data = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _forward(
            self, path: str, body: bytes, headers: dict[str, str]
        ) -> http.client.HTTPResponse:
            for attempt in (1, 2):
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection(
                        "127.0.0.1", front.upstream_port, timeout=30
                    )
                try:
                    self.upstream.request(self.command, path, body=body, headers=headers)
                    return self.upstream.getresponse()
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # influxd closed an idle keep-alive connection; one fresh try.
                    self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    return Handler
