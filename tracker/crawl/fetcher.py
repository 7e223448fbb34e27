"""Fetching many URLs politely and safely: the crawler's network layer, with no storage in it.

Every request gets exactly one `Response`, whatever the server does: a total deadline covers
connect, redirects and every read (a trickling server cannot hold a slot); bodies are capped
after decompression, which is done here in bounded steps so a gzip bomb never expands in memory;
redirects are followed by hand so that each hop's scheme and address are checked.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from tracker import config
from tracker.crawl import charset as charsets
from tracker.crawl import netguard
from tracker.timeutil import retry_after_seconds

BLOCKED_STATUSES = (401, 403, 429, 451)
GONE_STATUSES = (404, 410)
REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_MAX_BYTES = 500_000
ROBOTS_TIMEOUT = 10.0
MAX_CRAWL_DELAY = 60.0


@dataclass(frozen=True)
class Request:
    """One URL to fetch; `key` is the caller's (an item id) and comes back untouched."""

    key: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Settings:
    """Limits of a crawl; the defaults are the polite ones."""

    concurrency: int = 8
    per_host: int = 1
    delay: float = 1.0
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    user_agent: str = config.USER_AGENT
    robots: bool = True
    max_retry_after: float = 30.0


@dataclass(frozen=True)
class Response:
    """What happened to one request."""

    key: int
    url: str
    state: str  # ok, unchanged, blocked, gone, error
    http_status: int | None
    final_url: str
    headers: Mapping[str, str]
    body: bytes
    charset: str | None
    error: str | None
    elapsed: float
    redirects: tuple[str, ...] = ()


class _Fail(Exception):
    """Ends one request with a state and a one-line reason."""

    def __init__(self, state: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.state, self.message, self.status = state, message, status


@dataclass
class _Host:
    """Per-host politeness: its own slots, spacing of request starts, robots rules, rate limits."""

    slots: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    spacing: asyncio.Lock = field(default_factory=asyncio.Lock)
    robots: Any = None  # a RobotFileParser, or False once known to allow everything
    robots_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    paused_until: float = 0.0  # monotonic time before which nothing is sent (rate limits)

    async def turn(self) -> None:
        """Wait until this host may see the next request start."""
        async with self.spacing:
            now = time.monotonic()
            start = max(now, self.next_start, self.paused_until)
            self.next_start = start + self.delay
        if start > now:
            await asyncio.sleep(start - now)


def host_key(url: str) -> str:
    """`scheme://host:port` of a URL: the unit of politeness (slots, spacing, robots.txt)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _rate_limit_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until a GitHub-style rate limit resets, when the response says none are left."""
    if headers.get("x-ratelimit-remaining", "").strip() != "0":
        return None
    reset = headers.get("x-ratelimit-reset", "").strip()
    return max(0.0, float(reset) - time.time()) if reset.isdigit() else None


class _Decoder:
    """Content-Encoding undone in bounded steps, so the output can be capped as it grows."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self.z = None
        elif encoding in ("gzip", "x-gzip"):
            self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self.z = zlib.decompressobj()  # zlib-wrapped; raw deflate is handled on the first failure
        else:
            raise _Fail("error", f"unsupported content encoding {encoding}")
        self.encoding = encoding
        self.raw_fallback = encoding == "deflate"

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decoded pieces of `data`, stopping once more than `room` bytes came out."""
        if self.z is None:
            yield data
            return
        try:
            while data:
                out = self.z.decompress(data, room + 1)
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data and self.encoding in ("gzip", "x-gzip"):
                    # A gzip body may hold several members one after another; each is its own stream.
                    data = self.z.unused_data + data
                    self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                yield out
                room -= len(out)
                if room < 0 or (not out and not data):
                    return
        except zlib.error:
            if self.raw_fallback:
                self.raw_fallback = False
                self.z = zlib.decompressobj(-zlib.MAX_WBITS)
                yield from self.feed(data, room)
                return
            raise _Fail("error", f"corrupt {self.encoding} body") from None


class Fetcher:
    """A crawl's shared state: the connections, the global cap, and each host's politeness.

    Requests go straight to the transport (one small pool per host, see `pools`), not through an
    httpx client: the crawler follows redirects itself, sends no auth, and a client's per-request
    work (building the request from its settings, the cookie jar's two passes over every request
    and response through urllib's request type) was a sixth of the CPU a page took to fetch. The
    cookie jar is still kept, and consulted only when there is something to do: a response that
    sets a cookie, a request to send once the jar holds one.
    """

    def __init__(self, settings: Settings) -> None:
        import httpx

        from tracker.crawl.pools import HostPools

        self.settings = settings
        # Proxies come from the environment through HostPools; no ~/.netrc credentials are read.
        self.transport = HostPools(per_host=max(settings.per_host, 1), max_pools=max(settings.concurrency, 1) * 2)
        self.headers = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive",
                        "User-Agent": settings.user_agent}
        self.timeout = httpx.Timeout(settings.timeout).as_dict()
        self.cookies = httpx.Cookies()
        self.slots = asyncio.Semaphore(max(settings.concurrency, 1))
        self.hosts: dict[str, _Host] = {}
        self.classes: dict[str, str | None] = {}

    async def close(self) -> None:
        """Close every connection."""
        await self.transport.aclose()

    async def _send(self, url: str, headers: Mapping[str, str]) -> Any:
        """The response to a GET of `url` (its body not read yet), with the crawl's cookies."""
        import httpx

        request = httpx.Request("GET", url, headers={**self.headers, **headers}, extensions={"timeout": self.timeout})
        if len(self.cookies.jar):
            self.cookies.set_cookie_header(request)
        response = await self.transport.handle_async_request(request)
        response.request = request
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return response

    def _host(self, url: str) -> _Host:
        key = host_key(url)
        if key not in self.hosts:
            self.hosts[key] = _Host(slots=asyncio.Semaphore(max(self.settings.per_host, 1)),
                                    delay=self.settings.delay)
        return self.hosts[key]

    async def _class_of(self, host: str) -> str | None:
        if host not in self.classes:
            self.classes[host] = await netguard.host_class(host)
        return self.classes[host]

    async def fetch(self, req: Request) -> Response:
        """Fetch one request under every limit; never raises for the request's own faults."""
        started = time.monotonic()
        try:
            return await self._fetch(req, started)
        except _Fail as exc:
            return _failed(req, exc, started)
        except Exception as exc:  # one URL's surprise must not end the crawl
            return _failed(req, _Fail("error", f"{type(exc).__name__}: {exc}"[:200]), started)

    async def _fetch(self, req: Request, started: float) -> Response:
        parts = urlsplit(req.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Fail("error", f"unsupported URL {req.url[:80]}")
        host = self._host(req.url)
        # A host that does not resolve fails at once, without taking a turn in its host's queue.
        await self._origin_class(req.url)
        async with host.slots:
            if self.settings.robots:
                await self._check_robots(req.url, host)
            for attempt in (1, 2):
                wait = host.paused_until - time.monotonic()
                if wait > self.settings.max_retry_after:
                    until = time.strftime("%H:%M", time.localtime(time.time() + wait))
                    raise _Fail("blocked", f"rate limited until {until}")
                await host.turn()
                async with self.slots:
                    response = await self._deadline(req, started, self.settings)
                wait_for = None
                if response.http_status in (429, 503):
                    wait_for = retry_after_seconds(response.headers.get("retry-after"))
                limit_wait = _rate_limit_wait(response.headers)
                if limit_wait is not None:
                    host.paused_until = max(host.paused_until, time.monotonic() + limit_wait)
                if wait_for is None or attempt == 2:
                    return response
                host.paused_until = max(host.paused_until, time.monotonic() + wait_for)
                if wait_for > self.settings.max_retry_after:
                    return response
        raise AssertionError("unreachable")

    async def _deadline(self, req: Request, started: float, limits: Settings) -> Response:
        try:
            async with asyncio.timeout(limits.timeout):
                return await self._exchange(req, started, limits)
        except TimeoutError:
            raise _Fail("error", f"timeout after {limits.timeout:g} s") from None

    async def _exchange(self, req: Request, started: float, limits: Settings) -> Response:
        import httpx

        url, chain = req.url, []
        origin = await self._origin_class(url)
        headers = dict(req.headers)
        if req.etag:
            headers["If-None-Match"] = req.etag
        if req.last_modified:
            headers["If-Modified-Since"] = req.last_modified
        for _hop in range(limits.max_redirects + 1):
            try:
                response = await self._send(url, headers)
            except httpx.ConnectError as exc:
                raise _Fail("error", f"cannot connect: {exc}"[:200]) from None
            except httpx.TransportError as exc:
                raise _Fail("error", _transport_message(exc)) from None
            try:
                status = response.status_code
                location = response.headers.get("location")
                if status in REDIRECTS and location:
                    target = urljoin(url, location.strip())
                    chain.append(target)
                    await self._check_hop(target, origin)
                    if target in chain[:-1] or target == req.url:
                        raise _Fail("error", "redirect loop", status)
                    if host_key(target) != host_key(url):
                        # Credentials are for the host they were meant for: never hand a token to
                        # whatever host a redirect names.
                        headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
                    url = target
                    continue
                body = b""
                if status != 304:
                    body = await self._read(response, limits.max_bytes)
            finally:
                await response.aclose()
            lower = {k.lower(): v for k, v in response.headers.items()}
            return Response(key=req.key, url=req.url, state=_state(status), http_status=status, final_url=url,
                            headers=lower, body=body, charset=charsets.detect(lower.get("content-type"), body),
                            error=None if _state(status) in ("ok", "unchanged") else f"HTTP {status}",
                            elapsed=time.monotonic() - started, redirects=tuple(chain))
        raise _Fail("error", f"too many redirects (over {limits.max_redirects})")

    async def _origin_class(self, url: str) -> str:
        host = urlsplit(url).hostname or ""
        cls = await self._class_of(host)
        if cls is None:
            if _proxied(url):
                return netguard.PUBLIC  # the proxy resolves names we cannot
            raise _Fail("gone", "DNS lookup failed")
        return cls

    async def _check_hop(self, target: str, origin: str) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https"):
            raise _Fail("error", f"redirect to unsupported scheme {parts.scheme or '?'}")
        cls = await self._class_of(parts.hostname or "")
        if cls is None:
            if _proxied(target):
                return
            raise _Fail("gone", "DNS lookup failed")
        if not netguard.allowed_hop(origin, cls):
            raise _Fail("error", f"redirect to a {cls} address refused ({parts.hostname})")

    async def _read(self, response: Any, cap: int) -> bytes:
        import httpx

        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if declared.isdigit() and int(declared) > cap and not encoding:
            raise _Fail(_over_cap_state(response.status_code), f"body over {cap} bytes", response.status_code)
        decoder = _Decoder(encoding)
        chunks: list[bytes] = []
        size = 0
        try:
            # Chunks as the socket gives them (at most 64 KB): a chunk size would copy each through a buffer.
            async for raw in response.aiter_raw():
                for piece in decoder.feed(raw, cap - size):
                    size += len(piece)
                    if size > cap:
                        raise _Fail(_over_cap_state(response.status_code), f"body over {cap} bytes",
                                    response.status_code)
                    chunks.append(piece)
        except httpx.TransportError as exc:
            raise _Fail("error", _transport_message(exc), response.status_code) from None
        return b"".join(chunks)

    async def _check_robots(self, url: str, host: _Host) -> None:
        async with host.robots_lock:
            if host.robots is None:
                host.robots = await self._load_robots(url)
                if host.robots is not False:
                    delay = host.robots.crawl_delay_seconds
                    if delay:
                        host.delay = max(host.delay, min(float(delay), MAX_CRAWL_DELAY))
        if host.robots is not False and not host.robots.can_fetch(_ua_token(self.settings.user_agent), url):
            raise _Fail("blocked", "robots.txt disallows")

    async def _load_robots(self, url: str) -> Any:
        """The host's robots.txt rules, or False where there are none to follow.

        A missing robots.txt (4xx) allows everything (RFC 9309). An unreachable one (5xx, timeout)
        allows too: the learner picked each of these pages, one request apiece, and a flaky
        robots.txt should not hide them forever.
        """
        from urllib.robotparser import RobotFileParser

        robots_url = host_key(url) + "/robots.txt"
        probe = Settings(timeout=min(self.settings.timeout, ROBOTS_TIMEOUT), max_bytes=ROBOTS_MAX_BYTES,
                         max_redirects=self.settings.max_redirects, user_agent=self.settings.user_agent)
        try:
            async with self.slots:
                response = await self._deadline(Request(key=-1, url=robots_url), time.monotonic(), probe)
        except _Fail:
            return False
        if response.http_status != 200:
            return False
        lines = charsets.decode(response.body, "utf-8").splitlines()
        parser = RobotFileParser()
        parser.parse(lines)
        parser.crawl_delay_seconds = crawl_delay(lines, _ua_token(self.settings.user_agent))  # type: ignore[attr-defined]
        return parser


def crawl_delay(lines: list[str], agent: str) -> float | None:
    """`Crawl-delay` for `agent` (else for `*`), fractions allowed; urllib's parser takes whole seconds only."""
    found: dict[str, float] = {}
    group: list[str] = []
    in_rules = False
    for line in lines:
        name, _, value = line.split("#", 1)[0].partition(":")
        name, value = name.strip().lower(), value.strip()
        if name == "user-agent":
            if in_rules:
                group, in_rules = [], False
            group.append(value.lower())
        elif name:
            in_rules = True
            if name == "crawl-delay":
                try:
                    seconds = float(value)
                except ValueError:
                    continue
                for who in group:
                    found.setdefault(who, seconds)
    agent = agent.lower()
    return next((v for k, v in found.items() if k != "*" and k in agent), found.get("*"))


def _ua_token(user_agent: str) -> str:
    return user_agent.split("/", 1)[0]


def _proxied(url: str) -> bool:
    from tracker.crawl.pools import proxy_for

    return proxy_for(url) is not None


def _transport_message(exc: Exception) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "timeout"
    if name in ("RemoteProtocolError", "ReadError"):
        return f"connection broken: {exc}"[:200] if str(exc) else "connection reset"
    return f"{name}: {exc}"[:200]


def _over_cap_state(status: int) -> str:
    """A huge error page is still the error it says (gone, blocked); a huge page is an error."""
    state = _state(status)
    return "error" if state == "ok" else state


def _state(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 304:
        return "unchanged"
    if status in BLOCKED_STATUSES:
        return "blocked"
    if status in GONE_STATUSES:
        return "gone"
    return "error"


def _failed(req: Request, exc: _Fail, started: float) -> Response:
    return Response(key=req.key, url=req.url, state=exc.state, http_status=exc.status, final_url=req.url,
                    headers={}, body=b"", charset=None, error=exc.message, elapsed=time.monotonic() - started)


async def fetch_all(requests: Iterable[Request], settings: Settings) -> AsyncGenerator[Response, None]:
    """Responses as they complete (any order), reading `requests` lazily with a bounded number in flight."""
    fetcher = Fetcher(settings)
    window = max(settings.concurrency, 1) * 4
    # A task puts itself here when it ends. (asyncio.wait would hook and unhook every pending task,
    # up to `window` of them, for each response.)
    finished: asyncio.Queue[asyncio.Task[Response]] = asyncio.Queue()
    pending: set[asyncio.Task[Response]] = set()
    source = iter(requests)
    try:
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < window:
                req = next(source, None)
                if req is None:
                    exhausted = True
                    break
                task = asyncio.create_task(fetcher.fetch(req))
                task.add_done_callback(finished.put_nowait)
                pending.add(task)
            if not pending:
                break
            task = await finished.get()
            pending.discard(task)
            yield task.result()
    finally:
        for task in pending:
            task.remove_done_callback(finished.put_nowait)
            task.cancel()
        await fetcher.close()
