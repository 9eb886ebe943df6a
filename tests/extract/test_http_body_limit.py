"""Response bodies are read as a stream with a cap: an oversized page is refused unread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest.http import Credential, HttpClient, HttpError, RetryPolicy

CHUNK = 64 * 1024
# the documented cap on a response body (README, "Size limits")
CAP = 32 * 1024 * 1024
# what the server offers: twice the cap, so reading it whole would mean reading past the cap
OFFERED = 2 * CAP


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.sent = 0
        self.finished = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        try:
            if self.path.startswith("/declared"):
                # a header that announces a body far past the cap; the body never comes
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(10 * 1024**3))
                self.end_headers()
                self.wfile.write(b'{"items": [')
                self.wfile.flush()
                self.server.sent += 11
                # the client refuses on the header and closes: the next read sees the end
                self.rfile.read(1)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            piece = b" " * CHUNK
            while self.server.sent < OFFERED:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.server.sent += len(piece)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self.server.finished.set()


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(httpd: _Server) -> HttpClient:
    host, port = httpd.server_address[:2]
    credential = Credential("youtube", "k" * 39, "youtube_default", "INGEST_YOUTUBE_API_KEY")
    # a short read timeout only bounds how long a client that waits for the body would hang
    policy = RetryPolicy(max_attempts=2, read_timeout=10)
    return HttpClient(
        credential, f"http://{host!s}:{port}", policy=policy, sleep=lambda _: None, seed=1
    )


def test_an_endless_body_is_refused_at_the_cap_without_reading_it_whole(server: _Server):
    client = _client(server)
    with pytest.raises(HttpError, match=f"longer than the limit of {CAP} bytes") as caught:
        client.request("GET", "/endless")
    client.close()
    assert server.finished.wait(60), "the server never saw the client stop reading"
    # refused once, not retried: the cap is not a transient failure
    assert client.requests_sent == 1
    # the client stopped reading at the cap: the server could not send the rest
    assert server.sent < OFFERED
    assert "kkkkkk" not in str(caught.value)


def test_a_declared_length_past_the_cap_is_refused_before_the_body(server: _Server):
    client = _client(server)
    with pytest.raises(HttpError, match=r"declares 10737418240 bytes, more than the limit"):
        client.request("GET", "/declared")
    client.close()
    assert client.requests_sent == 1
