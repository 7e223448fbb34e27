"""Fixtures of the crawler's tests."""

from __future__ import annotations

import pytest

from tests.conftest import LocalServer


@pytest.fixture
def connections(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(host, port) of each connection the crawler opens to `server`, in order, as the server sees them."""
    opened: list[tuple[str, int]] = []
    handler = server.httpd.RequestHandlerClass
    setup = handler.setup

    def counting(self) -> None:  # type: ignore[no-untyped-def]
        opened.append(self.client_address)
        setup(self)

    monkeypatch.setattr(handler, "setup", counting)
    return opened
