"""GET from arXiv under the limiter, a wall-clock deadline, and arXiv's retry signals.

The `arxiv` package's own client has no timeout and retries 429 and 503 without reading
`Retry-After`; requests here go through httpx so that both are handled, and the caller
gets an error line instead of an exception for any network fault.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker.config import USER_AGENT
from tracker.papers.limiter import Limiter
from tracker.timeutil import retry_after_seconds

RETRY_STATUSES = (429, 500, 502, 503, 504)
# A server asking for a longer wait than this is treated as down for this run.
MAX_WAIT = 120.0
MAX_BODY = 50_000_000  # a 2,000-entry Atom page is about 5 MB


class FetchFailed(Exception):
    """A request that failed after its retries; the message is one line for the summary."""


@dataclass(frozen=True)
class Body:
    """A successful response."""

    content: bytes
    url: str


def backoff(limiter: Limiter, attempt: int) -> float:
    """The wait before retry `attempt` (1, 2, ...) when the server gave none: doubling from the pause."""
    return max(limiter.interval, 0.05) * 2 ** attempt


def get(client: Any, url: str, params: dict[str, str] | None, limiter: Limiter, deadline: float,
        retries: int, sleep: Callable[[float], None] = time.sleep) -> Body:
    """GET `url`, retrying 429/5xx and network faults up to `retries` times; FetchFailed at the end."""
    import httpx

    last = "no attempt"
    for attempt in range(retries + 1):
        wait = None
        try:
            with limiter.slot():
                return _get_once(client, url, params, deadline)
        except _Status as exc:
            last = f"HTTP {exc.status}"
            if exc.status not in RETRY_STATUSES:
                break
            wait = retry_after_seconds(exc.retry_after)
        except httpx.ConnectError as exc:
            # Refused or unresolvable: no use asking again a moment later (the next run will).
            last = _describe(exc, deadline)
            break
        except (httpx.TransportError, TimeoutError) as exc:
            last = _describe(exc, deadline)
        if attempt == retries:
            break
        wait = backoff(limiter, attempt + 1) if wait is None else wait
        if wait > MAX_WAIT:
            last += f" (server asks to wait {int(wait)} s)"
            break
        sleep(wait)
    raise FetchFailed(f"{last} after {attempt + 1} attempt(s)")


class _Status(Exception):
    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


def _describe(exc: Exception, deadline: float) -> str:
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return f"timed out after {deadline:g} s"
    return f"network error: {type(exc).__name__} {exc}".strip()


def _get_once(client: Any, url: str, params: dict[str, str] | None, deadline: float) -> Body:
    import httpx

    # httpx's timeouts bound each read; a server trickling bytes could still hold us for ever,
    # so the whole exchange is also checked against one wall-clock deadline.
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


def client() -> Any:
    """An httpx client for arXiv: honest User-Agent, proxies from the environment, redirects followed."""
    import httpx

    return httpx.Client(headers={"User-Agent": USER_AGENT}, follow_redirects=True, trust_env=True)
