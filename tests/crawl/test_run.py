"""The crawl in one process: a page that kills the reader, the order of requests and reading."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, LocalServer, reply, run_tracker
from tracker.crawl.settings import Settings
from tracker.store import db as dbmod

PAGE = "<html><head><title>A page</title></head><body>text</body></html>"
ONE_AT_A_TIME = Settings(concurrency=1, per_host=1, delay=0, robots=False)

_CRAWL_WITH_A_CRASHING_READER = """
import sys
sys.path.insert(0, {root!r})
from tests.crawl.crashing_reader import read_or_die
from tracker.crawl.run import crawl
from tracker.crawl.settings import Settings
from tracker.store import db

database = db.open_db(sys.argv[1])
crawl(database, Settings(concurrency=2, per_host=2, delay=0, robots=False), reader=read_or_die)
"""


def _import(tmp_path: Path, urls: list[str], env: dict[str, str]) -> None:
    outline = tmp_path / "l.md"
    outline.write_text("".join(f"- [page {i}]({url})\n" for i, url in enumerate(urls)), encoding="utf-8")
    assert run_tracker("import", str(outline), env=env).returncode == 0


def test_a_page_that_kills_the_reader_is_an_error_the_next_run_skips(server: LocalServer, tmp_path: Path) -> None:
    """The crawl's process really dies (as a segfault in lxml would end it); nothing committed before is
    lost, the next crawl records the page that killed it as such (without fetching it again), reads the
    rest, and leaves no reading mark behind."""
    server.routes["*"] = reply(200, PAGE)
    urls = [server.url(f"/crash/{i}" if i == 6 else f"/p/{i}") for i in range(12)]
    db = tmp_path / "c.db"
    env = {"TRACKER_DB": str(db)}
    _import(tmp_path, urls, env)
    script = tmp_path / "crawl_and_crash.py"
    script.write_text(_CRAWL_WITH_A_CRASHING_READER.format(root=str(ROOT)), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), f"sqlite:///{db}"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 139, done.stderr[-2000:]
    marks = list(tmp_path.glob("c.db.reading.*"))
    assert len(marks) == 1 and marks[0].read_text().strip().isdigit()  # the page it died on
    listed = {i["url"]: i for i in json.loads(run_tracker("list", "--json", env=env).stdout)}
    stored_ok = [url for url, i in listed.items() if i["fetch"] and i["fetch"]["state"] == "ok"]
    assert urls[6] not in stored_ok
    asked = len(server.requests)
    rest = json.loads(run_tracker("crawl", "--json", "--delay", "0", "--per-host", "2", env=env).stdout)
    assert rest["checked"] == len(urls) - len(stored_ok) - 1 and rest["ok"] == rest["checked"]
    assert "/crash/6" not in [path for _method, path, _headers in server.requests[asked:]]
    again = {i["url"]: i["fetch"] for i in json.loads(run_tracker("list", "--json", env=env).stdout)}
    assert all(again[url]["state"] == "ok" for url in urls if url != urls[6])
    assert again[urls[6]]["state"] == "error"
    with dbmod.open_db(f"sqlite:///{db}").engine.connect() as conn:
        reason = conn.exec_driver_sql("SELECT f.error FROM fetch f JOIN item i ON i.id = f.item_id "
                                      "WHERE i.url = ?", (urls[6],)).scalar_one()
    assert reason == "crashed the reader"
    assert not list(tmp_path.glob("c.db.reading.*"))
    assert json.loads(run_tracker("crawl", "--json", env=env).stdout)["checked"] == 0  # backed off


def _items(database: dbmod.Database, server: LocalServer, paths: list[str]) -> None:
    from tracker.store.db import item_t, utcnow

    with database.write() as conn:
        conn.execute(item_t.insert(), [dict(key=server.url(p), url=server.url(p), title=p, kind="page",
                                            status="unread", source="outline", section="", position=n,
                                            retired=False, notes="", added_at=utcnow())
                                       for n, p in enumerate(paths)])


def test_the_next_request_goes_out_before_a_fetched_page_is_read(server: LocalServer,
                                                                   database: dbmod.Database) -> None:
    """Reading is CPU work that holds the loop; the host's next request must not wait behind it."""
    from tracker.crawl.reading import read_safely
    from tracker.crawl.run import crawl

    arrived: dict[str, float] = {}
    page = reply(200, PAGE)

    def route(handler):  # type: ignore[no-untyped-def]
        arrived[handler.path] = time.monotonic()
        page(handler)

    server.routes["*"] = route
    read_until: dict[str, float] = {}

    def slow_reader(url, is_child, response, classify):  # type: ignore[no-untyped-def]
        time.sleep(0.2)  # stands for parsing a big page, holding the loop
        read_until[url.rsplit("/", 1)[1]] = time.monotonic()
        return read_safely(url, is_child, response, classify)

    _items(database, server, [f"/p/{i}" for i in range(4)])
    summary = crawl(database, ONE_AT_A_TIME, reader=slow_reader)
    assert summary.ok == 4
    for i in range(3):
        assert arrived[f"/p/{i + 1}"] < read_until[str(i)], i


def test_reading_is_prepared_while_the_first_requests_are_out_and_always_before_a_page_is_read(
        server: LocalServer, database: dbmod.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.crawl import run
    from tracker.crawl.reading import read_safely

    events: list[str] = []

    def slow(req) -> None:  # type: ignore[no-untyped-def]
        events.append("asked")
        time.sleep(0.3)
        reply(200, PAGE)(req)

    def reader(url, is_child, response, classify):  # type: ignore[no-untyped-def]
        events.append("read")
        return read_safely(url, is_child, response, classify)

    def prepare(defs):  # type: ignore[no-untyped-def]
        time.sleep(0.1)  # (loading takes a while: the requests must not wait for it)
        prepare_reading(defs)
        events.append("prepared")

    server.routes["*"] = slow
    prepare_reading = run._prepare_reading
    monkeypatch.setattr(run, "_prepare_reading", prepare)
    _items(database, server, ["/p/0", "/p/1"])
    settings = Settings(concurrency=2, per_host=2, delay=0, robots=False)
    run.crawl(database, settings, reader=reader)
    assert events.count("prepared") == 1 and events.index("asked") < events.index("prepared") < events.index("read")
    monkeypatch.setattr(run, "PREPARE_AFTER", 30.0)  # answers come long before the planned moment
    events.clear()
    run.crawl(database, settings, force=True, reader=reader)
    assert events.count("prepared") == 1 and events.index("prepared") < events.index("read")
