"""Which addresses a crawl may be led to.

A page on the public internet must not be able to send the crawler, by a redirect or a link,
to the learner's own machine or network (a router's admin page, a cloud metadata endpoint).
A URL the learner curated on a private address is theirs to fetch, so the rule is relative:
a hop may go to a public address, or to an address of the same class the crawl started from.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable

PUBLIC = "public"


def address_class(ip: str) -> str:
    """`public`, `loopback`, `private`, `link-local` or `reserved` for an IP address string."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_private:
        return "private"
    if addr.is_multicast or addr.is_reserved or addr.is_unspecified or not addr.is_global:
        return "reserved"
    return PUBLIC


def allowed_hop(origin_class: str, target_class: str) -> bool:
    """May a crawl that started at an address of `origin_class` go on to one of `target_class`?"""
    return target_class in (PUBLIC, origin_class)


def literal_class(host: str) -> str | None:
    """The class of a host given as an IP literal, else None."""
    try:
        return address_class(host.strip("[]"))
    except ValueError:
        return None


Resolver = Callable[[str], Awaitable[list[str]]]
"""Looks up a host name's addresses; raises `socket.gaierror` (or another OSError) when it cannot."""

# getaddrinfo's answers for a name that does not exist, as opposed to a lookup that could not be made.
_UNKNOWN_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}


class LookupFailed(Exception):
    """A host name could not be resolved: `unknown` when the answer was that the name does not exist,
    `invalid` when it is no host name at all (one that IDNA cannot encode, say)."""

    def __init__(self, host: str, unknown: bool, invalid: bool = False) -> None:
        super().__init__(host)
        self.host, self.unknown, self.invalid = host, unknown, invalid


async def system_resolver(host: str) -> list[str]:
    """The host's addresses, from the system's resolver."""
    import asyncio

    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def host_class(host: str, resolve: Resolver = system_resolver) -> str:
    """The class of a host name's addresses (the least public one wins); raises LookupFailed."""
    literal = literal_class(host)
    if literal is not None:
        return literal
    try:
        addresses = await resolve(host)
    except socket.gaierror as exc:
        raise LookupFailed(host, unknown=exc.errno in _UNKNOWN_NAME) from None
    except UnicodeError:
        raise LookupFailed(host, unknown=False, invalid=True) from None
    except OSError:
        raise LookupFailed(host, unknown=False) from None
    classes = {address_class(address) for address in addresses}
    if not classes:
        raise LookupFailed(host, unknown=True)
    # A name that resolves to both public and private addresses is judged by the private one.
    for name in ("loopback", "link-local", "private", "reserved"):
        if name in classes:
            return name
    return PUBLIC
