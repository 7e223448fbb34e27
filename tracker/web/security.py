"""What keeps the pages a learner's browser opens elsewhere from using this local app.

- Host: only the address it serves (a DNS-rebinding page reaches 127.0.0.1 under its own name).
- Every request that changes something is a POST carrying the server's CSRF token, and its
  Origin (or, without one, Sec-Fetch-Site) must not be another site.
- Every response forbids scripts, styles and frames from anywhere but the app itself.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# Referrer-Policy same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with
# the app's own form posts, which could then not be told from a sandboxed page's.
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin")]
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")


def bracketed(host: str) -> str:
    """An IPv6 literal as it appears in a URL or Host header."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


@dataclass(frozen=True)
class Guard:
    """The addresses this server answers to and its CSRF token (new for every server)."""

    host: str
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def host_allowed(self, header: str) -> bool:
        """Whether a Host header names this server: its own address, loopback names when it serves
        loopback, and any IP literal (which no rebinding page can send) when it serves every address."""
        parts = split_host(header)
        if parts is None or parts[1] != self.port:
            return False
        name = parts[0]
        if name == bracketed(self.host.lower()):
            return True
        if name in LOOPBACK_NAMES and (self.host in WILDCARDS or is_loopback(self.host)):
            return True
        return self.host in WILDCARDS and _is_ip(name)

    def origin_allowed(self, origin: str) -> bool:
        """Whether an Origin header is this server's own."""
        scheme, _, rest = origin.partition("://")
        return scheme == "http" and self.host_allowed(rest)

    def token_ok(self, given: str | None) -> bool:
        """Whether a form or header carried this server's CSRF token."""
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


def split_host(header: str) -> tuple[str, int] | None:
    """(name, port) of a Host header, lower case, IPv6 literals in brackets; None if malformed."""
    header = header.strip().lower()
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return None
        name, rest = header[: end + 1], header[end + 1:]
    else:
        name, sep, port = header.partition(":")
        rest = sep + port
    if not name:
        return None
    if not rest:
        return name, 80
    if rest.startswith(":") and rest[1:].isdigit():
        return name, int(rest[1:])
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or IP literal) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class GuardMiddleware:
    """Refuses requests for other hosts and cross-site POSTs; adds the security headers to every answer."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request's headers, then pass it on with the headers added to its answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope["method"], headers)
        if refusal is not None:
            await _plain(send, 403 if refusal != "host" else 400, _MESSAGES[refusal])
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, method: str, headers: dict[str, str]) -> str | None:
        if not self.guard.host_allowed(headers.get("host", "")):
            return "host"
        if method in ("GET", "HEAD"):
            return None
        origin = headers.get("origin")
        if origin is not None and not self.guard.origin_allowed(origin):
            return "origin"
        if origin is None and headers.get("sec-fetch-site") == "cross-site":
            return "origin"
        return None


_MESSAGES = {
    "host": "this server answers only to the address it was started on",
    "origin": "a request from another site was refused",
}


async def _plain(send: Send, status: int, text: str) -> None:
    body = f"error: {text}\n".encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": body})
