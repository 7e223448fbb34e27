"""Where the crawler's requests go: the proxy the environment names, and one httpx transport per host.

Each host gets its own `httpx.AsyncHTTPTransport`, so its own small connection pool: httpcore's pool
looks at every connection it holds each time a request is queued or a response closes, and the
crawler already limits each host to a few requests at a time. Transports of hosts with nothing in
flight are closed, least recently used first, once more than `keep` exist, so a crawl over
thousands of hosts does not keep a socket open to each of them.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx


def proxy_for(url: str) -> str | None:
    """The proxy the standard environment variables name for `url`, or None to connect directly."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


async def load_connection_layer() -> None:
    """Load what httpx loads when its first transport is made (its connection pool, and what that pool
    imports), so that a crawl's first requests do not wait for it inside the event loop."""
    import httpx

    await httpx.AsyncHTTPTransport(verify=False, trust_env=False).aclose()


@dataclass
class _Pool:
    transport: httpx.AsyncHTTPTransport
    busy: int = 0  # requests using it now


class HostTransports:
    """A transport per origin (`scheme://host:port`), made on first use with the proxy the environment names."""

    def __init__(self, per_host: int, keep: int) -> None:
        import httpx

        self.limits = httpx.Limits(max_connections=per_host + 1, max_keepalive_connections=per_host)
        self.keep = max(keep, 1)
        self.pools: OrderedDict[str, _Pool] = OrderedDict()
        self._tls: ssl.SSLContext | None = None

    def tls(self) -> ssl.SSLContext:
        """One TLS context for every transport, made on first use (loading the CA bundle takes a while)."""
        if self._tls is None:
            import httpx

            self._tls = httpx.create_ssl_context()
        return self._tls

    async def acquire(self, origin: str) -> httpx.AsyncHTTPTransport:
        """The transport for `origin`, counted busy until `release`."""
        pool = self.pools.get(origin)
        if pool is None:
            import httpx

            await self._evict()
            proxy = proxy_for(origin + "/")
            # Plain HTTP needs no TLS context, and loading one costs; httpx still wants a value.
            verify: ssl.SSLContext | bool = self.tls() if origin.startswith("https:") or proxy else False
            pool = self.pools[origin] = _Pool(httpx.AsyncHTTPTransport(
                verify=verify, limits=self.limits, proxy=proxy, trust_env=False))
        self.pools.move_to_end(origin)
        pool.busy += 1
        return pool.transport

    def release(self, origin: str) -> None:
        """A request that `acquire` served is done with its transport."""
        pool = self.pools.get(origin)
        if pool is not None:
            pool.busy -= 1

    async def _evict(self) -> None:
        idle = [origin for origin, pool in self.pools.items() if pool.busy == 0]
        for origin in idle[: max(0, len(self.pools) + 1 - self.keep)]:
            await self.pools.pop(origin).transport.aclose()

    async def aclose(self) -> None:
        """Close every transport and its connections."""
        pools, self.pools = list(self.pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()
