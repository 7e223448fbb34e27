"""Name lookups judged against the whole crawl: offline is not gone, and an unknown name is gone only a day later."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.conftest import LocalServer, reply
from tests.crawl.test_crawl_cmd import FAST
from tracker.crawl.run import crawl, fetch_t
from tracker.crawl.settings import Settings
from tracker.store import db as dbmod

SETTINGS = Settings(concurrency=4, per_host=2, delay=0, timeout=3, robots=False)


def _resolver(known: dict[str, str], unknown: set[str] | None = None, calls: list[str] | None = None):  # type: ignore[no-untyped-def]
    """A resolver for the tests: `known` names resolve, `unknown` ones do not exist (NXDOMAIN), every other
    lookup fails as it does with no network (EAI_AGAIN)."""
    async def resolve(host: str) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host in known:
            return [known[host]]
        if host in (unknown or set()):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    return resolve


def import_links(cli, tmp_path: Path, urls: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Import a one-list outline of `urls` (shared by the crawl tests that need real items)."""
    path = tmp_path / "l.md"
    path.write_text("".join(f"- [page {i}]({url})\n" for i, url in enumerate(urls)), encoding="utf-8")
    cli("import", str(path))


def fetch_rows(database: dbmod.Database) -> dict[str, dict[str, object]]:
    """Each crawled item's fetch row, by URL."""
    item_t = dbmod.item_t
    with database.read() as conn:
        rows = conn.execute(select(item_t.c.url, fetch_t).join(fetch_t, fetch_t.c.item_id == item_t.c.id)).all()
    return {row.url: dict(row._mapping) for row in rows}


def test_a_crawl_with_no_network_records_offline_without_backing_off(
        cli, tmp_path: Path, database: dbmod.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.crawl import netguard

    monkeypatch.setattr(netguard, "system_resolver", _resolver({}))  # every lookup fails
    urls = ["http://www.zhihu.com/question/1", "https://blog.csdn.net/a/article/details/2", "http://notes.example/3"]
    import_links(cli, tmp_path, urls)
    with database.write() as conn:  # one of them had failed once before
        conn.execute(fetch_t.insert().values(item_id=3, state="error", checked_at=dbmod.utcnow(), attempts=1,
                                             next_due=dbmod.utcnow() - timedelta(minutes=1), error="HTTP 500",
                                             meta="{}"))
    summary = cli.json("crawl", *FAST)
    assert (summary["checked"], summary["error"], summary["offline"], summary["gone"]) == (3, 3, 3, 0)
    rows = fetch_rows(database)
    assert {row["error"] for row in rows.values()} == {"offline"}
    assert [rows[url]["attempts"] for url in urls] == [0, 0, 1]  # no back-off advanced
    shown = cli.json("show", urls[0])
    assert shown["fetch"]["state"] == "error" and shown["wayback"] is None
    result = cli("crawl", *FAST)  # due again at once, and a person is told in one line
    offline_lines = [line for line in result.stdout.splitlines() if line.startswith("offline")]
    assert len(offline_lines) == 1 and "3 link" in offline_lines[0]
    assert "3 checked" in result.stdout


def test_an_unknown_name_while_others_resolve_is_gone_only_when_still_unknown_a_day_later(
        server: LocalServer, database: dbmod.Database) -> None:
    server.routes["/ok"] = reply(200, "<title>fine</title>")
    port = server.url("").rsplit(":", 1)[1]
    good, missing = f"http://localhost:{port}/ok", "http://gone.example/page"
    with database.write() as conn:
        conn.execute(dbmod.item_t.insert(), [dict(key=u, url=u, title=u, kind="page", status="unread",
                                                  source="outline", section="", position=n, retired=False, notes="",
                                                  added_at=dbmod.utcnow()) for n, u in enumerate([good, missing])])
    resolve = _resolver({"localhost": "127.0.0.1"}, unknown={"gone.example"})
    first = crawl(database, SETTINGS, resolve=resolve)
    assert (first.ok, first.error, first.gone, first.offline) == (1, 1, 0, 0)
    row = fetch_rows(database)[missing]
    assert row["state"] == "error" and "gone.example" in str(row["error"]) and row["dns_missing_since"]
    assert row["attempts"] == 1 and row["next_due"] - row["checked_at"] == timedelta(days=1)

    def due_again(since_ago: timedelta) -> None:
        with database.write() as conn:
            conn.execute(update(fetch_t).values(next_due=dbmod.utcnow() - timedelta(minutes=1),
                                                dns_missing_since=dbmod.utcnow() - since_ago))

    due_again(timedelta(hours=2))  # a second check the same day proves nothing yet
    assert crawl(database, SETTINGS, force=True, resolve=resolve).gone == 0
    due_again(timedelta(days=1, minutes=5))
    later = crawl(database, SETTINGS, force=True, resolve=resolve)
    assert (later.gone, later.ok) == (1, 1)
    assert fetch_rows(database)[missing]["state"] == "gone"
    # The name comes back: the count starts over.
    back = crawl(database, SETTINGS, force=True, resolve=_resolver({"localhost": "127.0.0.1",
                                                                     "gone.example": "127.0.0.1"}))
    assert back.gone == 0 and fetch_rows(database)[missing]["dns_missing_since"] is None


def test_an_unknown_name_with_no_other_name_resolving_is_offline_not_gone(server: LocalServer,
                                                                           database: dbmod.Database) -> None:
    """A learner's laptop may answer NXDOMAIN for everything when offline: one name alone proves nothing."""
    server.routes["/ok"] = reply(200, "<title>fine</title>")
    urls = [server.url("/ok"), "http://gone.example/page"]  # the first by address: no lookup at all
    with database.write() as conn:
        conn.execute(dbmod.item_t.insert(), [dict(key=u, url=u, title=u, kind="page", status="unread",
                                                  source="outline", section="", position=n, retired=False, notes="",
                                                  added_at=dbmod.utcnow()) for n, u in enumerate(urls)])
    summary = crawl(database, SETTINGS, resolve=_resolver({}, unknown={"gone.example"}))
    assert (summary.ok, summary.offline, summary.gone) == (1, 1, 0)
    assert fetch_rows(database)["http://gone.example/page"]["dns_missing_since"] is None


def test_behind_a_proxy_no_name_is_looked_up_here(server: LocalServer, database: dbmod.Database,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The proxy resolves names; a local lookup that cannot succeed (no DNS in a sandbox) must not hold the crawl."""
    monkeypatch.setenv("HTTP_PROXY", server.base)
    urls = ["http://www.zhihu.com/question/19", "http://notes.example.org/post"]
    for url in urls:
        server.routes[url] = reply(200, "<html><head><title>through the proxy</title></head><body>x</body></html>")
    with database.write() as conn:
        conn.execute(dbmod.item_t.insert(), [dict(key=u, url=u, title=u, kind="page", status="unread",
                                                  source="outline", section="", position=n, retired=False, notes="",
                                                  added_at=dbmod.utcnow()) for n, u in enumerate(urls)])
    calls: list[str] = []
    settings = Settings(concurrency=2, per_host=1, delay=0, timeout=3)
    summary = crawl(database, settings, resolve=_resolver({}, calls=calls))
    assert summary.checked == 2 and summary.offline == 0 and calls == []
    assert summary.ok + summary.blocked == 2  # (the Zhihu page has no question data: a wall, but fetched)


def test_a_lookup_that_never_answers_fails_within_the_timeout(server: LocalServer) -> None:
    import asyncio
    import time

    from tracker.crawl.fetcher import Request, fetch_all

    server.routes["/ok"] = reply(200, "<title>fine</title>")
    port = server.url("").rsplit(":", 1)[1]

    async def resolve(host: str) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        await asyncio.sleep(60)  # a resolver that cannot be reached
        return []

    async def go() -> list[tuple[str, str | None]]:
        reqs = [Request(0, f"http://localhost:{port}/ok"), Request(1, "http://slow.example/page")]
        got = [r async for r in fetch_all(reqs, Settings(delay=0, timeout=0.5, robots=False), resolve=resolve)]
        return [(r.state, r.error) for r in sorted(got, key=lambda r: r.key)]

    start = time.monotonic()
    (ok, _), (state, error) = asyncio.run(go())
    assert ok == "ok" and state == "error" and "DNS lookup failed" in (error or "")
    assert time.monotonic() - start < 3
