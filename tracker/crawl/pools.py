"""The crawler's transport: each host's kept-alive connections, apart from every other host's.

httpcore's pool looks at every connection it holds each time a request is queued or a response
closes; with one shared pool of 50 connections that scan was the crawler's largest cost (a third of
its CPU in the crawl benchmark). The crawler already limits each host to a few requests at a time,
so each host gets its own transport; a direct one keeps its connections in a plain list
(`_Connections`), a proxied one uses httpx's own pool.

Transports of hosts with nothing in flight are closed, oldest first, once more than `max_pools`
exist, so a crawl over thousands of hosts does not keep a socket open to each of them.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx


def proxy_for(url: str) -> str | None:
    """The proxy the standard environment variables name for `url`, or None to connect directly."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


@dataclass
class _Pool:
    transport: httpx.AsyncHTTPTransport
    busy: int = 0  # responses handed out and not yet closed


class _Counted(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed, so idle pools can be told apart."""

    def __init__(self, stream: Any, pool: _Pool) -> None:
        self.stream, self.pool, self.open = stream, pool, True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        if self.open:
            self.open = False
            self.pool.busy -= 1
        await self.stream.aclose()


class _FreeLock:
    """An asyncio lock, in place of the anyio lock httpcore gives an HTTP/1.1 connection.

    anyio's lock takes a turn of the event loop even when it is free, and a connection takes its lock
    before it writes a request and again before a response gives the connection back (httpcore's
    outer connection object, not used here, takes one more). In a busy worker each such turn lets a
    page be read first: in the crawl benchmark a request was written 1.6-3.5 ms (mean) after the
    crawler sent it, and a round trip to a host answering in 100 ms took 105-111 ms. A free asyncio
    lock is taken at once; no two requests here share a connection at a time anyway.
    """

    def __init__(self) -> None:
        self.lock = asyncio.Lock()

    async def __aenter__(self) -> _FreeLock:
        await self.lock.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.lock.release()


class _Connections:
    """The kept-alive connections to one origin, in place of httpcore's connection pool.

    httpcore's pool keeps a queue of requests and, each time one is queued or a response closes,
    walks its connections several times over to match them (about a hundred checks per page with
    five connections). The crawler already caps the requests in flight to a host, so no request
    ever waits for a connection here: it takes an idle one that is still open, or opens a new one.
    A response returns its connection when it is closed, if the connection can serve another.

    Connections are httpcore's HTTP/1.1 ones over `netstream`'s asyncio backend, opened here (a TCP
    connection, and TLS for https) rather than through httpcore's outer connection object, which
    would bring its own lock and load anyio's event-loop backend (20-30 ms) for it.
    """

    def __init__(self, tls: ssl.SSLContext, keepalive_expiry: float | None, keep: int) -> None:
        from tracker.crawl.netstream import AsyncioBackend

        self.tls, self.expiry, self.keep = tls, keepalive_expiry, keep
        self.tls.set_alpn_protocols(["http/1.1"])  # as httpcore offers it: the crawler speaks HTTP/1.1 only
        self.backend = AsyncioBackend()
        self.idle: list[Any] = []
        self.active: set[Any] = set()

    async def open(self, request: Any) -> Any:
        """A new connection to `request`'s origin, within the request's connect timeout."""
        import httpcore

        origin = request.url.origin
        host = origin.host.decode("ascii")
        timeout = request.extensions.get("timeout", {}).get("connect")
        stream = await self.backend.connect_tcp(host, origin.port, timeout=timeout)
        if origin.scheme == b"https":
            name = request.extensions.get("sni_hostname") or host
            try:
                stream = await stream.start_tls(self.tls, server_hostname=name, timeout=timeout)
            except BaseException:
                await stream.aclose()
                raise
        connection = httpcore.AsyncHTTP11Connection(origin=origin, stream=stream, keepalive_expiry=self.expiry)
        # httpcore's name for it (1.0.x); a test checks requests go out without a turn of the loop.
        connection._state_lock = _FreeLock()  # type: ignore[assignment]
        return connection

    async def handle_async_request(self, request: Any) -> Any:
        import httpcore

        while True:
            reused = await self._idle_connection()
            connection = reused or await self.open(request)
            self.active.add(connection)
            try:
                response = await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # The server closed a kept-alive connection as it was taken: try the next one.
                await self._close(connection)
                if reused is None:
                    raise
                continue
            except BaseException:
                await self._close(connection)
                raise
            return httpcore.Response(status=response.status, headers=response.headers,
                                     content=_Returning(response.stream, self, connection),
                                     extensions=response.extensions)

    async def _idle_connection(self) -> Any:
        while self.idle:
            connection = self.idle.pop()
            if connection.is_available() and not connection.has_expired():
                return connection
            await connection.aclose()  # the server closed it, or it was idle too long
        return None

    async def _close(self, connection: Any) -> None:
        self.active.discard(connection)
        await connection.aclose()

    async def returned(self, connection: Any) -> None:
        """A response on `connection` was closed: keep the connection for the next request, or close it."""
        self.active.discard(connection)
        if connection.is_idle() and len(self.idle) < self.keep:
            self.idle.append(connection)
        else:
            await connection.aclose()

    async def aclose(self) -> None:
        connections, self.idle, self.active = [*self.idle, *self.active], [], set()
        for connection in connections:
            await connection.aclose()


class _Returning:
    """A response body that hands its connection back when it is closed."""

    def __init__(self, stream: Any, connections: _Connections, connection: Any) -> None:
        self.stream, self.connections, self.connection, self.done = stream, connections, connection, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        if not self.done:
            self.done = True
            try:
                await self.stream.aclose()
            finally:
                await self.connections.returned(self.connection)


def _on_asyncio(transport: httpx.AsyncHTTPTransport, tls: ssl.SSLContext, limits: httpx.Limits) -> None:
    """Give a direct transport `_Connections` on `netstream`'s asyncio backend instead of httpcore's
    pool on anyio's.

    httpx does not pass a network backend through to httpcore, so the pool it made is replaced. A
    test checks that crawls run on this backend.
    """
    transport._pool = _Connections(tls, limits.keepalive_expiry,  # type: ignore[assignment]
                                   keep=limits.max_keepalive_connections or 1)


class HostPools(httpx.AsyncBaseTransport):
    """Routes each request to its host's own pool, made on first use with the proxy the environment names."""

    def __init__(self, per_host: int, max_pools: int, ssl_context: Any = None) -> None:
        self.limits = httpx.Limits(max_connections=per_host + 1, max_keepalive_connections=per_host)
        self.max_pools = max(max_pools, 1)
        self._ssl_context = ssl_context
        self._plain_context: ssl.SSLContext | None = None
        self.pools: OrderedDict[tuple[str, str, int | None], _Pool] = OrderedDict()

    def ssl_context(self) -> Any:
        """One TLS context for every pool, made on first use (loading the CA bundle takes ~40 ms)."""
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.scheme, url.host, url.port)
        pool = self.pools.get(key)
        if pool is None:
            await self._evict()
            proxy = proxy_for(str(url))
            # A plain-HTTP pool never speaks TLS, so it need not wait for the CA bundle to load; the
            # httpx transport still wants a context, and one serves every such pool.
            if url.scheme == "https" or proxy:
                tls = self.ssl_context()
            else:
                tls = self._plain_context = self._plain_context or ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            pool = self.pools[key] = _Pool(httpx.AsyncHTTPTransport(
                verify=tls, limits=self.limits, proxy=proxy, trust_env=False))
            if proxy is None:
                _on_asyncio(pool.transport, tls, self.limits)
        self.pools.move_to_end(key)
        pool.busy += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.busy -= 1
            raise
        response.stream = _Counted(response.stream, pool)
        return response

    async def _evict(self) -> None:
        for key in [k for k, p in self.pools.items() if p.busy == 0][: max(0, len(self.pools) + 1 - self.max_pools)]:
            await self.pools.pop(key).transport.aclose()

    async def aclose(self) -> None:
        for pool in self.pools.values():
            await pool.transport.aclose()
        self.pools.clear()
