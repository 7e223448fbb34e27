"""Fixtures of the crawler's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(host, port) of each connection the crawler opens, in order."""
    from tracker.crawl import netstream

    opened: list[tuple[str, int]] = []
    connect = netstream.AsyncioBackend.connect_tcp

    async def counting(self, host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append((host, port))
        return await connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(netstream.AsyncioBackend, "connect_tcp", counting)
    return opened
