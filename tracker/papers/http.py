"""GET from arXiv under the limiter, a wall-clock deadline, and arXiv's retry signals.

The `arxiv` package's own client has no timeout and retries 429 and 503 without reading
`Retry-After`; requests here go through httpx so that both are handled, and the caller
gets an error line instead of an exception for any network fault. Two faults end the whole
run instead (`Stop`): arXiv cannot be reached at all, and the run's total deadline has passed.

    FetchFailed        one request failed after its retries (the caller records it and goes on)
    └── Stop           nothing more can be asked of arXiv in this run
        ├── Unreachable    refused, no such name, no route, no connection in time
        └── OutOfTime      the run's total deadline passed
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tracker.config import USER_AGENT
from tracker.papers.limiter import Limiter
from tracker.timeutil import retry_after_seconds

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = (429, 500, 502, 503, 504)
# A server asking for a longer wait than this is treated as down for this run.
MAX_WAIT = 120.0
MAX_BODY = 50_000_000  # a 2,000-entry Atom page is about 5 MB
# A request that timed out is tried once more; a third wait of a whole deadline rarely helps.
TIMEOUT_RETRIES = 1


class FetchFailed(Exception):
    """A request that failed after its retries; the message is one line for the summary."""


class Stop(FetchFailed):
    """A fault that ends the whole run: asking arXiv anything more now would fail the same way."""


class Unreachable(Stop):
    """arXiv cannot be reached at all: connection refused, name not resolved, no route."""


class OutOfTime(Stop):
    """The run's total deadline passed."""


@dataclass(frozen=True)
class Body:
    """A successful response."""

    content: bytes
    url: str


def backoff(limiter: Limiter, attempt: int) -> float:
    """The wait before retry `attempt` (1, 2, ...) when the server gave none: doubling from the pause."""
    return max(limiter.interval, 0.05) * 2 ** attempt


def get(client: httpx.Client, url: str, params: dict[str, str] | None, limiter: Limiter, deadline: float,
        retries: int, sleep: Callable[[float], None] = time.sleep) -> Body:
    """GET `url`, retrying 429/5xx (up to `retries` times) and a timeout (once); FetchFailed at the end.

    Each attempt is bounded by `deadline` seconds of wall-clock time, and by what is left of the
    run's total deadline, which also bounds every wait; Unreachable and OutOfTime end the run.
    """
    import httpx

    last = "no attempt"
    timeouts = 0
    for attempt in range(retries + 1):
        wait = None
        with limiter.slot():
            cap = limiter.cap(deadline)
            if cap <= 0:
                raise OutOfTime(_out_of_time(last))
            try:
                return _get_once(client, url, params, cap)
            except _Status as exc:
                last = f"HTTP {exc.status}"
                if exc.status not in RETRY_STATUSES:
                    break
                wait = retry_after_seconds(exc.retry_after)
            except httpx.ConnectError as exc:
                raise Unreachable(_unreachable(url, exc)) from None
            except (httpx.TransportError, TimeoutError) as exc:
                timed_out = isinstance(exc, (httpx.TimeoutException, TimeoutError))
                if timed_out and cap < deadline:
                    raise OutOfTime(_out_of_time(f"timed out after {cap:.1f} s")) from None
                last = _describe(exc, deadline)
                if timed_out:
                    timeouts += 1
                    if timeouts > TIMEOUT_RETRIES:
                        if isinstance(exc, httpx.ConnectTimeout):
                            raise Unreachable(f"cannot reach {_host(url)}: no connection within "
                                              f"{deadline:g} s") from None
                        break
        if attempt == retries:
            break
        wait = backoff(limiter, attempt + 1) if wait is None else wait
        if wait > MAX_WAIT:
            last += f" (server asks to wait {int(wait)} s)"
            break
        if wait >= limiter.remaining():
            raise OutOfTime(_out_of_time(last))
        sleep(wait)
    raise FetchFailed(f"{last} after {attempt + 1} attempt(s)")


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def _unreachable(url: str, exc: Exception) -> str:
    """One line for a connection that could not be made, naming the host and the cause in words."""
    text = str(exc).lower()
    for marker, words in (("refused", "connection refused"), ("name or service", "name not resolved"),
                          ("nodename nor servname", "name not resolved"), ("name resolution", "name not resolved"),
                          ("getaddrinfo", "name not resolved"), ("no address", "name not resolved"),
                          ("no route", "no route to host"), ("network is unreachable", "network unreachable")):
        if marker in text:
            return f"arXiv unreachable: cannot reach {_host(url)} ({words})"
    return f"arXiv unreachable: cannot reach {_host(url)} ({type(exc).__name__}: {exc})".strip()


def _out_of_time(last: str) -> str:
    return "the fetch's total deadline passed" + (f" (last: {last})" if last != "no attempt" else "")


class _Status(Exception):
    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


def _describe(exc: Exception, deadline: float) -> str:
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return f"timed out after {deadline:g} s"
    return f"network error: {type(exc).__name__} {exc}".strip()


def _get_once(client: httpx.Client, url: str, params: dict[str, str] | None, deadline: float) -> Body:
    """One exchange, over within `deadline` seconds of wall-clock time whatever the server does.

    httpx's timeouts bound each phase (connect, each read) on its own, so a server that answers
    just before one runs out and then falls silent could hold a request for several deadlines.
    The exchange runs in a thread the caller stops waiting for at the deadline; left alone, the
    thread ends at its own next timeout.
    """
    outcome: list[Body | BaseException] = []

    def exchange() -> None:
        try:
            outcome.append(_exchange(client, url, params, deadline))
        except BaseException as exc:  # handed to the caller's thread
            outcome.append(exc)

    worker = threading.Thread(target=exchange, name="arxiv-request", daemon=True)
    worker.start()
    worker.join(deadline)
    if not outcome:
        raise TimeoutError
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _exchange(client: httpx.Client, url: str, params: dict[str, str] | None, deadline: float) -> Body:
    import httpx

    # A server trickling bytes is stopped here, between chunks, not only by the caller's wait.
    end = time.monotonic() + deadline
    timeout = httpx.Timeout(deadline)
    with client.stream("GET", url, params=params, timeout=timeout) as response:
        if response.status_code != 200:
            raise _Status(response.status_code, response.headers.get("retry-after"))
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:
                raise httpx.ReadError(f"response over {MAX_BODY} bytes")
            if time.monotonic() > end:
                raise TimeoutError
        return Body(content=b"".join(chunks), url=str(response.url))


def client() -> httpx.Client:
    """An httpx client for arXiv: honest User-Agent, proxies from the environment, redirects followed."""
    import httpx

    return httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=True, trust_env=True)
