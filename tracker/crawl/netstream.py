"""An httpcore network backend on asyncio's own transports, for the crawler's direct connections.

httpcore runs on asyncio through anyio. Each socket read then enters a cancel scope with its own
timer, and every check of an idle pooled connection builds anyio's table of socket attributes
to ask the socket whether it is readable. In the crawl benchmark that was a third of the CPU
spent fetching a 100 KB page. httpcore takes any `AsyncNetworkBackend`; this one reads through a
protocol that buffers what arrives, so a read that finds data returns it at once, and "has the
server closed this idle connection?" is answered from the buffer instead of by a `poll()`.

The buffer is bounded: past `HIGH_WATER` bytes the transport stops reading from the socket until
the crawler has taken some. So a server that floods a connection costs at most that much memory
before the body cap (in `fetcher`) ends the request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
HAPPY_EYEBALLS_DELAY = 0.25  # seconds before trying the next address of a host (RFC 8305's value)


class _Buffered(asyncio.Protocol):
    """Keeps what the socket delivered until the stream reads it; wakes one waiting reader."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.closed = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.size > HIGH_WATER and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        """Up to `max_bytes` of what is buffered (a chunk as it came, when it fits)."""
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            chunk, rest = chunk[:max_bytes], chunk[max_bytes:]
            self.chunks.appendleft(rest)
        self.size -= len(chunk)
        if self.reading_paused and self.size < LOW_WATER and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()
        return chunk


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection, plain or TLS, as httpcore's connections use it."""

    def __init__(self, transport: Any, protocol: _Buffered) -> None:
        self.transport, self.protocol = transport, protocol
        protocol.transport = transport  # after start_tls, pausing applies to the TLS transport

    async def _until(self, wake: str, timeout: float | None, timed_out: type[Exception], what: str) -> None:
        """Wait for the protocol to set the future it keeps as `wake` (data came, or sending may go on)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        setattr(self.protocol, wake, future)
        try:
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            raise timed_out(f"{what} within {timeout:g} s") from None
        finally:
            setattr(self.protocol, wake, None)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self.protocol
        if not protocol.chunks and not protocol.closed:
            await self._until("waiter", timeout, httpcore.ReadTimeout, "no data")
        if protocol.chunks:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""  # the server closed the connection; h11 decides whether that was early

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self.transport.write(buffer)
        protocol = self.protocol
        if protocol.writing_paused:
            await self._until("drained", timeout, httpcore.WriteTimeout, "could not send")
            if protocol.error is not None:
                raise httpcore.WriteError(str(protocol.error) or type(protocol.error).__name__)

    async def aclose(self) -> None:
        # close() alone waits for unsent data to drain (forever, if the server stopped reading) and, on
        # TLS, for the server's answer to our close_notify (30 s): the socket would stay open all that
        # time. close() sends what it can at once (a TLS close_notify included); abort() then drops the
        # rest and frees the socket. Nothing here awaits, so a cancelled task cannot leave it half done,
        # and abort() does nothing to a transport that has already gone.
        self.transport.close()
        self.transport.abort()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        if self.protocol.closed or self.protocol.chunks or self.transport.is_closing():
            # A connection that already ended cannot shake hands, and plain bytes that came before the
            # handshake must never be read as if they had come through TLS.
            self.transport.abort()
            raise httpcore.ConnectError("the connection ended or sent data before the TLS handshake")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(self.transport, self.protocol, ssl_context,
                                                 server_hostname=server_hostname)
        except TimeoutError:
            self.transport.abort()
            raise httpcore.ConnectTimeout(f"TLS handshake not done within {timeout:g} s") from None
        except (OSError, ssl.SSLError) as exc:
            self.transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from None
        if transport is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return AsyncioStream(transport, self.protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # on an idle connection: the server closed it, or sent what nobody asked for
            return bool(self.protocol.chunks) or self.protocol.closed
        names = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername", "socket": "socket"}
        return self.transport.get_extra_info(names[info]) if info in names else None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections with `loop.create_connection`."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    _Buffered, host, port, local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection within {timeout:g} s") from None
        except (OSError, UnicodeError, ValueError) as exc:  # UnicodeError: a host name IDNA cannot encode
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from None
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the crawler does not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
