"""`valueprint serve`: forwarded headers only from configured proxies, and bounded request headers."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from valueprint.cli.core import server_options
from valueprint.settings import Settings


async def hello(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    body = scope["client"][0].encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def serve():
    """Runs `hello` under uvicorn with the options `valueprint serve` uses; yields a raw-request function."""
    servers = []

    def start(settings: Settings):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        config = uvicorn.Config(hello, host="127.0.0.1", port=port, **server_options(settings), lifespan="off")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        while not server.started:
            time.sleep(0.02)

        def request(headers: str) -> bytes:
            """The raw answer; empty when the server hung up before reading everything (a refusal too)."""
            answer = b""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                    connection.sendall(f"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode())
                    while chunk := connection.recv(65536):
                        answer += chunk
            except ConnectionResetError:
                pass
            return answer

        return request

    yield start
    for server in servers:
        server.should_exit = True


def test_no_proxy_is_trusted_by_default(serve) -> None:
    options = server_options(Settings())
    assert options["proxy_headers"] is False and options["forwarded_allow_ips"] == ""
    request = serve(Settings())
    assert request("X-Forwarded-For: 203.0.113.7\r\n").endswith(b"127.0.0.1"), "uvicorn trusted loopback before"


def test_a_configured_proxy_is_believed(serve) -> None:
    request = serve(Settings(trusted_proxies="127.0.0.1"))
    assert request("X-Forwarded-For: 203.0.113.7\r\n").endswith(b"203.0.113.7")


def test_headers_longer_than_the_limit_are_refused(serve) -> None:
    request = serve(Settings(max_header_bytes=8192))
    assert request("X-Small: " + "a" * 1000 + "\r\n").startswith(b"HTTP/1.1 200")
    refused = request("X-Huge: " + "a" * 300_000 + "\r\n")  # h11 checks once a read leaves the headers incomplete
    assert not refused.startswith(b"HTTP/1.1 200")
