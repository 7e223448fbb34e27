"""The crawler's asyncio network backend against loopback servers: reads, limits, and idle connections."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from pathlib import Path

import httpcore
import pytest

from tests.conftest import LocalServer, reply
from tests.crawl.rawserver import RawServer
from tracker.crawl import netstream
from tracker.crawl.fetcher import Request, Settings, fetch_all


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def test_crawls_connect_through_the_asyncio_backend(server: LocalServer, connections: list[tuple[str, int]]) -> None:
    server.routes["/a"] = server.routes["/b"] = reply(200, "<title>x</title>" + "y" * 200_000)

    async def go() -> list[int]:
        settings = Settings(concurrency=1, per_host=1, delay=0, robots=False)
        return [len(r.body) async for r in fetch_all([Request(0, server.url("/a")), Request(1, server.url("/b"))],
                                                      settings)]

    assert asyncio.run(go()) == [200_016, 200_016]
    assert connections == [_host_port(server.url(""))]  # one connection, kept alive for the second page


_FETCH_TWO = """
import asyncio, sys
sys.path.insert(0, {root!r})
from tracker.crawl.fetcher import Request, Settings, fetch_all

async def go():
    settings = Settings(concurrency=2, per_host=2, delay=0)
    return [r.state async for r in fetch_all([Request(i, {url!r} + str(i)) for i in range(4)], settings)]

print(" ".join(asyncio.run(go())), int("anyio._backends._asyncio" in sys.modules))
"""


def test_a_crawl_that_goes_well_never_loads_anyios_event_loop_backend(server: LocalServer, tmp_path: Path) -> None:
    """The crawler's connections take no anyio lock (see pools._Connections), so a worker, or the crawl's
    process before it forks them, need not load anyio's backend (20-30 ms) ahead of its first request."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    server.routes["*"] = reply(200, "<title>x</title>")
    script = tmp_path / "two.py"
    script.write_text(_FETCH_TWO.format(root=str(ROOT), url=server.url("/p")), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ok", "ok", "ok", "ok", "0"]


def test_a_flooding_server_fills_the_buffer_only_to_its_mark_and_is_read_whole_after() -> None:
    total = 8 * 1024 * 1024

    def flood(conn: socket.socket) -> None:
        conn.sendall(b"z" * total)

    raw = RawServer(flood)

    async def go() -> tuple[int, bool, int]:
        stream = await netstream.AsyncioBackend().connect_tcp(*_host_port(raw.url), timeout=5)
        await stream.write(b"GET / HTTP/1.1\r\n\r\n")
        await asyncio.sleep(0.5)  # nobody reads: the socket must stop being drained into memory
        assert isinstance(stream, netstream.AsyncioStream)
        buffered, paused = stream.protocol.size, stream.protocol.reading_paused
        received = 0
        while chunk := await stream.read(65536, timeout=5):
            received += len(chunk)
        await stream.aclose()
        return buffered, paused, received

    try:
        buffered, paused, received = asyncio.run(go())
    finally:
        raw.stop()
    assert paused and netstream.HIGH_WATER < buffered <= netstream.HIGH_WATER + 256 * 1024
    assert received == total


def test_a_silent_server_times_a_read_out() -> None:
    def silent(conn: socket.socket) -> None:
        time.sleep(2)

    raw = RawServer(silent)

    async def go() -> None:
        stream = await netstream.AsyncioBackend().connect_tcp(*_host_port(raw.url), timeout=5)
        await stream.write(b"GET / HTTP/1.1\r\n\r\n")
        try:
            with pytest.raises(httpcore.ReadTimeout):
                await stream.read(65536, timeout=0.2)
        finally:
            await stream.aclose()

    try:
        asyncio.run(go())
    finally:
        raw.stop()


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """Keep-alive promised, then the server hangs up: the next request must open a fresh connection."""
    def once(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")

    raw = RawServer(once)

    try:
        import httpx

        from tracker.crawl.pools import HostPools

        async def same_client() -> list[int]:
            async with httpx.AsyncClient(transport=HostPools(per_host=1, max_pools=4), trust_env=False) as client:
                out = []
                for i in range(3):
                    out.append((await client.get(raw.url + f"/{i}")).status_code)
                    await asyncio.sleep(0.2)  # the server's close arrives while the connection is idle
                return out

        assert asyncio.run(same_client()) == [200, 200, 200]
        assert raw.connections == 3
    finally:
        raw.stop()


class _TLSServer:
    """A loopback HTTPS server with a certificate from a throwaway authority (trustme)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = b"secure " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_https_runs_tls_over_the_asyncio_backend_and_refuses_an_unknown_authority(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    import trustme

    from tracker.crawl.pools import HostPools

    authority = trustme.CA()
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(server_side)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    opened: list[int] = []
    connect = netstream.AsyncioBackend.connect_tcp

    async def counting(self, host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(port)
        return await connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(netstream.AsyncioBackend, "connect_tcp", counting)
    server = _TLSServer(server_side)

    async def get(context: ssl.SSLContext | None) -> list[str]:
        async with httpx.AsyncClient(transport=HostPools(per_host=1, max_pools=2, ssl_context=context),
                                     trust_env=False) as client:
            return [(await client.get(f"{server.url}/{i}")).text for i in range(2)]

    try:
        assert asyncio.run(get(trusting)) == ["secure /0", "secure /1"]
        assert len(opened) == 1  # one TLS connection, kept alive
        # The system's authorities do not know this one: a connection error, not an ssl exception escaping.
        with pytest.raises(httpx.ConnectError):
            asyncio.run(get(None))
    finally:
        server.stop()


def _socket_after_closing_with_unsent_data(raw: RawServer, stalls: tuple[type[Exception], ...]) -> int:
    """Write to a server that does not read until sending stalls (raising one of `stalls`), close, and
    return the socket's fileno."""
    async def go() -> int:
        stream = await netstream.AsyncioBackend().connect_tcp(*_host_port(raw.url), timeout=5)
        assert isinstance(stream, netstream.AsyncioStream)
        with pytest.raises(stalls):
            for _ in range(200):  # until the kernel's buffers are full and the transport holds the rest
                await stream.write(b"x" * 1_000_000, timeout=0.3)
        sock = stream.transport.get_extra_info("socket")
        await stream.aclose()
        await asyncio.sleep(0.1)
        return int(sock.fileno())

    try:
        return asyncio.run(go())
    finally:
        raw.stop()


def test_closing_frees_the_socket_even_with_unsent_data_to_a_server_that_stopped_reading() -> None:
    def deaf(conn: socket.socket) -> None:
        time.sleep(3)  # never reads past the first recv

    assert _socket_after_closing_with_unsent_data(RawServer(deaf), (httpcore.WriteTimeout,)) == -1  # not when drained


def test_tls_over_a_connection_that_already_ended_fails_at_once() -> None:
    raw = RawServer(lambda conn: None)  # reads the first line, then hangs up

    async def go() -> None:
        stream = await netstream.AsyncioBackend().connect_tcp(*_host_port(raw.url), timeout=5)
        await stream.write(b"hello\r\n")
        await asyncio.sleep(0.3)  # the server's close arrives
        with pytest.raises(httpcore.ConnectError):
            await stream.start_tls(ssl.create_default_context(), "127.0.0.1", timeout=5)

    start = time.monotonic()
    try:
        asyncio.run(go())
    finally:
        raw.stop()
    assert time.monotonic() - start < 2


def test_a_host_name_idna_cannot_encode_is_a_connect_error() -> None:
    async def go() -> None:
        with pytest.raises(httpcore.ConnectError):
            await netstream.AsyncioBackend().connect_tcp("a" * 64 + ".example", 80, timeout=5)

    asyncio.run(go())


def test_closing_frees_the_socket_when_the_server_half_closed_and_stopped_reading() -> None:
    """The server's FIN has arrived, but our unsent data still waits: closing must not wait with it."""
    def half_close(conn: socket.socket) -> None:
        conn.shutdown(socket.SHUT_WR)
        time.sleep(3)

    stalls = (httpcore.WriteTimeout, httpcore.WriteError)
    assert _socket_after_closing_with_unsent_data(RawServer(half_close), stalls) == -1


def test_tls_is_refused_over_plain_bytes_that_came_first() -> None:
    """Bytes that arrived before the handshake must never be read as if TLS had carried them."""
    def early(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nforged")
        time.sleep(5)  # and never answers the handshake

    raw = RawServer(early)
    start = time.monotonic()

    async def go() -> None:
        stream = await netstream.AsyncioBackend().connect_tcp(*_host_port(raw.url), timeout=5)
        await stream.write(b"hello\r\n")
        await asyncio.sleep(0.3)
        with pytest.raises(httpcore.ConnectError):
            await stream.start_tls(ssl.create_default_context(), "127.0.0.1", timeout=10)

    try:
        asyncio.run(go())
    finally:
        raw.stop()
    assert time.monotonic() - start < 2  # refused at once, not after a handshake that cannot finish
