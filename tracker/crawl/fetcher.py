"""Fetching many URLs politely and safely: the crawler's network layer, with no storage in it.

Every request gets exactly one `Response`, whatever the server does: a total deadline covers
connect, redirects and every read (a trickling server cannot hold a slot); bodies are capped
after decompression, which is done here in bounded steps so a gzip bomb never expands in memory;
redirects are followed by hand so that each hop's scheme and address are checked.

A host name that cannot be looked up is judged against the rest of the crawl: while no name at all
resolves the network is down (`cause="offline"`); once others resolve, a name the resolver says does
not exist is `cause="nxdomain"` (the crawl's storage decides when that makes a page gone).
"""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import AsyncGenerator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.cookiejar import CookieJar
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from tracker.crawl import charset as charsets
from tracker.crawl import netguard, robots
from tracker.crawl.decoding import DecodeError, Decoder
from tracker.crawl.pools import proxy_for
from tracker.crawl.robots import Robots
from tracker.crawl.settings import Settings
from tracker.timeutil import retry_after_seconds

__all__ = ["Fetcher", "Request", "Response", "ResponseStream", "Settings", "fetch_all", "host_key"]

BLOCKED_STATUSES = (401, 403, 429, 451)
GONE_STATUSES = (404, 410)
REDIRECTS = (301, 302, 303, 307, 308)
ROBOTS_MAX_BYTES = 500_000
ROBOTS_TIMEOUT = 10.0
MAX_CRAWL_DELAY = 60.0
# A name lookup that takes longer has failed (a resolver that cannot be reached answers slowly, if at all).
LOOKUP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Request:
    """One URL to fetch; `key` is the caller's (an item id) and comes back untouched."""

    key: int
    url: str
    etag: str | None = None
    last_modified: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


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
    cause: str | None = None  # "offline" (no network at all) or "nxdomain" (the name does not exist)
    login: bool = False  # the learner's own cookies went with the request that was answered


OFFLINE = "offline"
NXDOMAIN = "nxdomain"


class _Fail(Exception):
    """Ends one request with a state and a one-line reason."""

    def __init__(self, state: str, message: str, status: int | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.state, self.message, self.status, self.cause = state, message, status, cause


@dataclass
class _Host:
    """Per-host politeness: its own slots, spacing of request starts, robots rules, rate limits."""

    slots: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    spacing: asyncio.Lock = field(default_factory=asyncio.Lock)
    robots: Robots | Literal[False] | None = None  # False: known to allow everything
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


class _Network:
    """What the crawl has learnt of the network: has any host name resolved, any response come back?

    A lookup that fails is judged only once the crawl knows more: when another name resolves (the
    network works, so the failure is the name's own) or when no lookup is left in progress (none
    resolved: offline).
    """

    def __init__(self) -> None:
        self.resolved = False
        self.answered = False  # some server answered, so packets do get through
        self.pending = 0
        self.changed = asyncio.Condition()

    async def lookup(self, host: str, resolve: netguard.Resolver, timeout: float) -> str | netguard.LookupFailed:
        """The host's address class, or the failure (returned, so a cached task never raises)."""
        self.pending += 1
        try:
            async with asyncio.timeout(timeout):
                cls = await netguard.host_class(host, resolve)
        except netguard.LookupFailed as exc:
            return exc
        except TimeoutError:
            return netguard.LookupFailed(host, unknown=False)
        else:
            self.resolved = True
            return cls
        finally:
            self.pending -= 1
            async with self.changed:
                self.changed.notify_all()

    async def judge(self, failure: netguard.LookupFailed) -> _Fail:
        """What a failed lookup means, once another name resolved or none is left to try."""
        if failure.invalid:
            return _Fail("error", f"invalid host name {failure.host[:80]}")
        async with self.changed:
            await self.changed.wait_for(lambda: self.resolved or self.pending == 0)
        if not self.resolved:
            return _Fail("error", OFFLINE, cause=OFFLINE)
        if failure.unknown:
            return _Fail("error", f"no such host name ({failure.host})", cause=NXDOMAIN)
        return _Fail("error", f"DNS lookup failed ({failure.host})")


class Fetcher:
    """A crawl's shared state: the transports, the global cap, each host's politeness, the network's state.

    Requests go to each host's own httpx transport (see `pools`) rather than through a client: the
    crawler follows redirects itself to check each hop, sends no auth of its own, and keeps cookies
    in one jar, which is consulted only when it holds something or a response sets a cookie.
    `cookies` is the learner's own login (a loaded cookies.txt); each cookie goes only where its
    domain says, as any cookie in the jar does.
    """

    def __init__(self, settings: Settings, cookies: CookieJar | None = None,
                 resolve: netguard.Resolver = netguard.system_resolver) -> None:
        import httpx

        from tracker.crawl.pools import HostTransports

        self.settings = settings
        self.transports = HostTransports(per_host=settings.per_host, keep=settings.concurrency * 2)
        self.headers = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": settings.user_agent}
        self.timeout = httpx.Timeout(settings.timeout).as_dict()
        self.cookies = httpx.Cookies()
        self.login = httpx.Cookies(cookies) if cookies is not None and len(cookies) else None
        for cookie in cookies or ():
            self.cookies.jar.set_cookie(cookie)
        self.resolve = resolve
        self.network = _Network()
        self.slots = asyncio.Semaphore(settings.concurrency)
        self.hosts: dict[str, _Host] = {}
        self.lookups: dict[str, asyncio.Task[str | netguard.LookupFailed]] = {}
        self.proxied: dict[str, bool] = {}

    async def close(self) -> None:
        """Close every connection."""
        await self.transports.aclose()

    async def _send(self, url: str, headers: Mapping[str, str]) -> Any:
        """The response to a GET of `url` (its body not read yet), with the cookies the jar holds for it.

        The response holds its host's transport busy until it is given to `_done`.
        """
        import httpx

        request = httpx.Request("GET", url, headers={**self.headers, **headers}, extensions={"timeout": self.timeout})
        if len(self.cookies.jar):
            self.cookies.set_cookie_header(request)
        origin = host_key(url)
        transport = await self.transports.acquire(origin)
        try:
            response = await transport.handle_async_request(request)
        except BaseException:
            self.transports.release(origin)
            raise
        response.request = request
        self.network.answered = True
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return response

    async def _done(self, response: Any, url: str) -> None:
        """Close a response `_send` gave for `url` (its connection goes back to its pool); free its transport."""
        try:
            await response.aclose()
        finally:
            self.transports.release(host_key(url))

    def _login_sent(self, url: str) -> bool:
        """Would the learner's own cookies go with a request to `url`?"""
        if self.login is None:
            return False
        import httpx

        probe = httpx.Request("GET", url)
        self.login.set_cookie_header(probe)
        return "cookie" in probe.headers

    def _proxied(self, url: str) -> bool:
        """Does a request to `url` go through a proxy? (Reading the environment each time would cost.)"""
        origin = host_key(url)
        if origin not in self.proxied:
            self.proxied[origin] = proxy_for(url) is not None
        return self.proxied[origin]

    def _host(self, url: str) -> _Host:
        key = host_key(url)
        if key not in self.hosts:
            self.hosts[key] = _Host(slots=asyncio.Semaphore(self.settings.per_host), delay=self.settings.delay)
        return self.hosts[key]

    async def _class_of(self, url: str) -> str:
        """The address class of `url`'s host; with a proxy (which resolves names itself) only IP literals are
        told apart, so the crawl never waits on a local lookup that may not be able to succeed."""
        host = urlsplit(url).hostname or ""
        if netguard.literal_class(host) is not None:  # an address, not a name: nothing to look up
            return await netguard.host_class(host, self.resolve)
        if self._proxied(url):
            return netguard.PUBLIC
        if host not in self.lookups:
            timeout = min(self.settings.timeout, LOOKUP_TIMEOUT)
            self.lookups[host] = asyncio.ensure_future(self.network.lookup(host, self.resolve, timeout))
        found = await asyncio.shield(self.lookups[host])
        if isinstance(found, netguard.LookupFailed):
            raise await self.network.judge(found)
        return found

    async def fetch(self, req: Request) -> Response:
        """Fetch one request under every limit; never raises for the request's own faults."""
        started = time.monotonic()
        try:
            response = await self._fetch(req, started)
        except _Fail as exc:
            response = _failed(req, exc, started)
        except Exception as exc:  # one URL's surprise must not end the crawl
            response = _failed(req, _Fail("error", f"{type(exc).__name__}: {exc}"[:200]), started)
        # Where the answer came from is where a wall would be: did the learner's login go there?
        return replace(response, login=True) if self._login_sent(response.final_url) else response

    async def _fetch(self, req: Request, started: float) -> Response:
        parts = urlsplit(req.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Fail("error", f"unsupported URL {req.url[:80]}")
        host = self._host(req.url)
        # A host that does not resolve fails at once, without taking a turn in its host's queue.
        await self._class_of(req.url)
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
        origin = await self._class_of(url)
        headers = dict(req.headers)
        if req.etag:
            headers["If-None-Match"] = req.etag
        if req.last_modified:
            headers["If-Modified-Since"] = req.last_modified
        for _hop in range(limits.max_redirects + 1):
            sent_to = url
            try:
                response = await self._send(url, headers)
            except httpx.ConnectError as exc:
                raise self._connect_failure(exc) from None
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
                        # whatever host a redirect names. (The jar's cookies follow their own domains.)
                        headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
                    url = target
                    continue
                body = b""
                if status != 304:
                    body = await self._read(response, limits.max_bytes)
            finally:
                await self._done(response, sent_to)
            lower = {k.lower(): v for k, v in response.headers.items()}
            return Response(key=req.key, url=req.url, state=_state(status), http_status=status, final_url=url,
                            headers=lower, body=body, charset=charsets.detect(lower.get("content-type"), body),
                            error=None if _state(status) in ("ok", "unchanged") else f"HTTP {status}",
                            elapsed=time.monotonic() - started, redirects=tuple(chain))
        raise _Fail("error", f"too many redirects (over {limits.max_redirects})")

    def _connect_failure(self, exc: Exception) -> _Fail:
        """A connection that could not be made; with no route to any network before anything answered, offline."""
        if not self.network.answered and _errno_in(exc) in (errno.ENETUNREACH, errno.ENETDOWN):
            return _Fail("error", OFFLINE, cause=OFFLINE)
        return _Fail("error", f"cannot connect: {exc}"[:200])

    async def _check_hop(self, target: str, origin: str) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https"):
            raise _Fail("error", f"redirect to unsupported scheme {parts.scheme or '?'}")
        cls = await self._class_of(target)
        if not netguard.allowed_hop(origin, cls):
            raise _Fail("error", f"redirect to a {cls} address refused ({parts.hostname})")

    async def _read(self, response: Any, cap: int) -> bytes:
        import httpx

        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if declared.isdigit() and int(declared) > cap and not encoding:
            raise _Fail(_over_cap_state(response.status_code), f"body over {cap} bytes", response.status_code)
        try:
            decoder = Decoder(encoding)
        except DecodeError as exc:
            raise _Fail("error", str(exc), response.status_code) from None
        chunks: list[bytes] = []
        size = 0
        try:
            # Chunks as the socket gives them: a chunk size would copy each through a buffer.
            async for raw in response.aiter_raw():
                for piece in decoder.feed(raw, cap - size):
                    size += len(piece)
                    if size > cap:
                        raise _Fail(_over_cap_state(response.status_code), f"body over {cap} bytes",
                                    response.status_code)
                    chunks.append(piece)
        except httpx.TransportError as exc:
            raise _Fail("error", _transport_message(exc), response.status_code) from None
        except DecodeError as exc:
            raise _Fail("error", str(exc), response.status_code) from None
        return b"".join(chunks)

    async def _check_robots(self, url: str, host: _Host) -> None:
        agent = robots.agent_token(self.settings.user_agent)
        async with host.robots_lock:
            if host.robots is None:
                host.robots = await self._load_robots(url, agent)
                if host.robots is not False and host.robots.delay:
                    host.delay = max(host.delay, min(host.robots.delay, MAX_CRAWL_DELAY))
        if host.robots is not False and not host.robots.allows(agent, url):
            raise _Fail("blocked", "robots.txt disallows")

    async def _load_robots(self, url: str, agent: str) -> Robots | Literal[False]:
        """The host's robots.txt rules, or False where there are none to follow.

        A missing robots.txt (4xx) allows everything (RFC 9309). An unreachable one (5xx, timeout)
        allows too: the learner picked each of these pages, one request apiece, and a flaky
        robots.txt should not hide them forever.
        """
        robots_url = host_key(url) + "/robots.txt"
        probe = replace(self.settings, timeout=min(self.settings.timeout, ROBOTS_TIMEOUT),
                        max_bytes=ROBOTS_MAX_BYTES)
        try:
            async with self.slots:
                response = await self._deadline(Request(key=-1, url=robots_url), time.monotonic(), probe)
        except _Fail:
            return False
        if response.http_status != 200:
            return False
        return robots.parse(charsets.decode(response.body, "utf-8"), agent)


def _errno_in(exc: BaseException) -> int | None:
    """The errno of the OSError behind an exception, if one is in its chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    return None


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
                    headers={}, body=b"", charset=None, error=exc.message, elapsed=time.monotonic() - started,
                    cause=exc.cause)


class ResponseStream:
    """Responses to `requests` as they complete (any order), reading the requests lazily with a bounded
    number in flight. `cookies` is the learner's login (see `Fetcher`); `resolve` looks up host names."""

    def __init__(self, requests: Iterable[Request], settings: Settings, cookies: CookieJar | None = None,
                 resolve: netguard.Resolver = netguard.system_resolver) -> None:
        self.requests, self.settings, self.cookies, self.resolve = requests, settings, cookies, resolve
        # A task puts itself here when it ends. (asyncio.wait would hook and unhook every pending task,
        # up to a window of them, for each response.)
        self.finished: asyncio.Queue[asyncio.Task[Response]] = asyncio.Queue()

    def ready(self) -> int:
        """Responses that have arrived and not been taken yet."""
        return self.finished.qsize()

    async def responses(self) -> AsyncGenerator[Response, None]:
        """Each response once it is complete."""
        fetcher = Fetcher(self.settings, self.cookies, self.resolve)
        # Enough requests ahead to fill every slot and start one host's next turn; a finished response
        # waits here, body and all, until it is read, so the window also bounds the crawl's memory:
        # when reading is slower than fetching, the window fills with bodies waiting to be read.
        window = self.settings.concurrency + self.settings.per_host
        pending: set[asyncio.Task[Response]] = set()
        source = iter(self.requests)
        try:
            exhausted = False
            while pending or not exhausted:
                while not exhausted and len(pending) < window:
                    req = next(source, None)
                    if req is None:
                        exhausted = True
                        break
                    task = asyncio.create_task(fetcher.fetch(req))
                    task.add_done_callback(self.finished.put_nowait)
                    pending.add(task)
                if not pending:
                    break
                task = await self.finished.get()
                pending.discard(task)
                yield task.result()
        finally:
            for task in pending:
                task.remove_done_callback(self.finished.put_nowait)
                task.cancel()
            await fetcher.close()


def fetch_all(requests: Iterable[Request], settings: Settings, cookies: CookieJar | None = None,
              resolve: netguard.Resolver = netguard.system_resolver) -> AsyncGenerator[Response, None]:
    """Responses to `requests` as they complete (see `ResponseStream`)."""
    return ResponseStream(requests, settings, cookies, resolve).responses()
