"""The web app's pages and actions through Starlette's test client: same core functions, same messages as the CLI."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import Cli
from tests.web.conftest import Site, build_site
from tracker.store import db as dbmod
from tracker.web.app import create_app
from tracker.web.security import Guard

PAGES = ["/", "/topic/basics", "/inbox", "/week", "/next", "/search"]


def post(client: TestClient, guard: Guard, path: str, **fields: str | list[str]) -> object:
    """A form POST carrying the server's token, as the app's own pages send it."""
    return client.post(path, data={"csrf": guard.token, **fields})


def cli_error(cli: Cli, *args: str) -> str:
    """The message of the CLI's one `error:` line for a command, without the prefix."""
    stderr = cli(*args, code=2).stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    return stderr[len("error: "):].strip()


def test_every_page_has_the_bar_with_a_search_box(client: TestClient, site: Site) -> None:
    for path in [*PAGES, f"/item/{site.basics[0]}"]:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert page.headers["content-type"].startswith("text/html")
        bar = page.text[page.text.index('<nav class="bar">'):page.text.index("</nav>")]
        for link in ('href="/"', 'href="/inbox"', 'href="/week"', 'href="/next"'):
            assert link in bar
        assert 'action="/search"' in bar and 'name="q"' in bar


def test_outline_shows_groups_topics_and_progress(client: TestClient, cli: Cli, site: Site) -> None:
    cli("mark", str(site.basics[0]), "digested")
    page = client.get("/").text
    assert page.index("Group 1") < page.index("Basics") < page.index("Group 2") < page.index("Generative models")
    assert '<progress value="1" max="3">' in page and "1/3" in page
    topic = client.get("/topic/basics").text
    assert "Basics one" in topic and "Generative adversarial" not in topic
    assert f'action="/item/{site.basics[0]}/mark"' in topic and topic.count('name="status" value="digested"') == 3


def test_a_mark_from_the_web_is_the_clis_mark(client: TestClient, guard: Guard, cli: Cli, site: Site) -> None:
    item = site.basics[0]
    answer = post(client, guard, f"/item/{item}/mark", status="digested", back="/topic/basics")
    assert answer.status_code == 303 and answer.headers["location"] == "/topic/basics"
    shown = cli.json("show", str(item))
    assert shown["status"] == "digested" and [h["status"] for h in shown["history"]] == ["digested"]
    # Back-dated, with a note, answered in JSON for the page's script.
    answer = client.post(f"/item/{item}/mark", data={"csrf": guard.token, "status": "reading", "at": "2026-11-18",
                                                    "note": "again"}, headers={"accept": "application/json"})
    assert answer.json() == {"ok": True, "id": item, "status": "digested", "changed": 1}
    history = cli.json("show", str(item))["history"]
    assert [h["status"] for h in history] == ["reading", "digested"] and history[0]["at"].startswith("2026-11-18")
    assert history[0]["note"] == "again"
    # The other way round: the CLI's change is on the next page at once.
    cli("mark", str(site.basics[1]), "skipped")
    row = re.search(rf'<tr data-item="{site.basics[1]}">.*?</tr>', client.get("/topic/basics").text, re.S)
    assert row is not None and 'class="status status-skipped">skipped<' in row.group(0)


def test_notes_and_tags_go_through_the_core(client: TestClient, guard: Guard, cli: Cli, site: Site) -> None:
    item = site.basics[0]
    assert post(client, guard, f"/item/{item}/note", text="BN smooths the loss").status_code == 303
    assert post(client, guard, f"/item/{item}/tag", slug="gen").status_code == 303
    shown = cli.json("show", str(item))
    assert shown["notes"] == "BN smooths the loss" and set(shown["topics"]) == {"basics", "gen"}
    assert post(client, guard, f"/item/{item}/untag", slug="basics").status_code == 303
    assert cli.json("show", str(item))["topics"] == ["gen"]
    page = client.get(f"/item/{item}").text
    assert "BN smooths the loss" in page and f'action="/item/{item}/untag"' in page
    assert '<option value="basics">Basics (basics)</option>' in page and '<option value="gen"' not in page


def test_bad_input_gets_the_clis_message_never_a_500(client: TestClient, guard: Guard, cli: Cli, site: Site) -> None:
    item = str(site.basics[0])
    cases = [
        (client.get("/item/424242"), 404, cli_error(cli, "show", "424242")),
        (post(client, guard, f"/item/{item}/mark", status="finished"), 400, cli_error(cli, "mark", item, "finished")),
        (post(client, guard, f"/item/{item}/mark", status="digested", at="2026-13-45"), 400,
         cli_error(cli, "mark", item, "digested", "--at", "2026-13-45")),
        (post(client, guard, "/item/424242/mark", status="digested"), 404,
         cli_error(cli, "mark", "424242", "digested")),
        (post(client, guard, f"/item/{item}/tag", slug="nope"), 404, cli_error(cli, "tag", item, "nope")),
        (client.get("/week?week=2026-W99"), 400, cli_error(cli, "report", "weekly", "--week", "2026-W99")),
        (client.get("/inbox?topic=nope"), 404, cli_error(cli, "papers", "inbox", "--topic", "nope")),
        (post(client, guard, "/inbox", action="accept", id=item), 400, cli_error(cli, "papers", "accept", item)),
        (post(client, guard, f"/item/{item}/note", text="x" * 100_001), 400,
         cli_error(cli, "note", item, "x" * 100_001)),
    ]
    for answer, status, message in cases:
        assert answer.status_code == status, (message, answer.text)
        assert f"error: {message}".replace("'", "&#39;") in answer.text
        assert "Traceback" not in answer.text
    for path in ("/nope", "/inbox?page=0", "/topic/basics?page=x", "/topic/nope", "/topic/basics?page=" + "9" * 5000,
                 "/topic/basics?page=1000001", "/week?page=%D9%A1"):
        answer = client.get(path)
        assert 400 <= answer.status_code < 500 and "error: " in answer.text, path
    assert client.get("/inbox", params={"page": "abc"}).status_code == 400
    assert client.put("/inbox").status_code == 405
    assert cli.json("show", item)["history"] == [] and cli.json("show", item)["notes"] == ""


def test_a_body_past_the_limit_is_refused_unread(client: TestClient, guard: Guard, site: Site) -> None:
    answer = post(client, guard, f"/item/{site.basics[0]}/note", text="x" * 1_200_000)
    assert answer.status_code == 413 and "too large" in answer.text


def test_inbox_ranks_as_papers_inbox_and_moves_papers(client: TestClient, guard: Guard, cli: Cli, site: Site) -> None:
    cli("mark", str(site.gen[0]), "digested")
    ranked = [row["id"] for row in cli.json("papers", "inbox")]
    page = client.get("/inbox").text
    shown = [int(i) for i in re.findall(r'<article class="paper" data-item="(\d+)">', page)]
    assert shown == ranked and "Generative adversarial networks explained" in page  # the reason names it
    assert "Generative adversarial networks with a new discriminator" in page  # the abstract
    accepted, other = site.papers["2411.00001"], site.papers["2411.00002"]
    answer = post(client, guard, "/inbox", action="accept", id=str(accepted), back="/inbox")
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"
    assert cli.json("show", str(accepted))["status"] == "unread"
    assert f'data-item="{accepted}"' not in client.get("/inbox").text
    assert post(client, guard, "/inbox", action="dismiss", id=[str(other), str(accepted)]).status_code == 303
    assert [cli.json("show", str(i))["status"] for i in (other, accepted)] == ["dismissed", "dismissed"]
    assert "The inbox is empty" in client.get("/inbox").text
    assert post(client, guard, "/inbox", action="keep", id=str(other)).status_code == 400
    assert post(client, guard, "/inbox", action="accept").status_code == 400


def test_inbox_pages_and_topic_filter(client: TestClient, cli: Cli, database: dbmod.Database, tmp_path: Path) -> None:
    build_site(cli, database, tmp_path, extra_papers=60)
    first, second = client.get("/inbox").text, client.get("/inbox?page=2").text
    ids = re.compile(r'<article class="paper" data-item="(\d+)">')
    assert len(ids.findall(first)) == 50 and len(ids.findall(second)) == 12
    assert [int(i) for i in ids.findall(first) + ids.findall(second)] == [r["id"] for r in cli.json("papers", "inbox")]
    assert "page 1 of 2" in first and 'href="?page=2"' in first
    assert "62 papers" in first
    assert "The inbox is empty for this topic" in client.get("/inbox?topic=basics").text
    filtered = client.get("/inbox?topic=gen").text
    assert len(ids.findall(filtered)) == 50 and '<option value="gen" selected>' in filtered


def test_week_is_the_clis_html_with_links_and_neighbours(client: TestClient, cli: Cli, site: Site,
                                                         tmp_path: Path) -> None:
    cli("mark", str(site.basics[0]), "digested", "--at", "2026-11-18T10:00")
    out = tmp_path / "week.html"
    cli("report", "weekly", "--week", "2026-W47", "--format", "html", "--out", str(out))
    written = out.read_text(encoding="utf-8")
    page = client.get("/week?week=2026-W47").text
    summary = re.search(r'<p class="summary">.*?</p>', written)
    assert summary is not None and summary.group(0) in page
    assert f'<a href="/item/{site.basics[0]}">Basics one</a>' in page
    assert 'href="/week?week=2026-W46"' in page and 'href="/week?week=2026-W48"' in page
    assert '<link rel="stylesheet" href="/report.css">' in page and "<style>" not in page
    assert client.get("/report.css").headers["content-type"].startswith("text/css")
    assert page.count("<svg") == 2


def test_week_pages_a_long_list_and_follows_writes(client: TestClient, cli: Cli, database: dbmod.Database,
                                                   site: Site) -> None:
    at = datetime(2026, 11, 17, 8, 0)
    with database.write() as conn:
        dbmod.bulk_insert(conn, dbmod.item_t, [dict(
            key=f"https://example.org/many/{i}", url=f"https://example.org/many/{i}", title=f"Many {i}", kind="page",
            status="digested", source="outline", section="", position=100 + i, retired=False, notes="",
            added_at=at - timedelta(days=30), status_at=at, digested_at=at) for i in range(450)])
        ids = [r.id for r in conn.execute(dbmod.item_t.select().where(dbmod.item_t.c.title.like("Many %")))]
        dbmod.bulk_insert(conn, dbmod.event_t, [dict(item_id=i, status="digested", at=at + timedelta(seconds=n))
                                                for n, i in enumerate(ids)])
    pages = [client.get(f"/week?week=2026-W47&page={n}").text for n in (1, 2, 3)]
    entries = [len(re.findall(r'<li><a href="/item/\d+">Many \d+</a>', page)) for page in pages]
    assert entries == [200, 200, 50]
    assert "1–200 of 450" in pages[0] and "page 1 of 3" in pages[0] and "Digested 450," in pages[2]
    cli("mark", str(site.basics[0]), "digested", "--at", "2026-11-20T10:00")  # the kept report must not be shown
    assert "Digested 451," in client.get("/week?week=2026-W47").text


def test_next_says_what_tracker_next_says(client: TestClient, cli: Cli, site: Site) -> None:
    cli("mark", str(site.gen[1]), "reading")
    expected = cli.json("next", "--limit", "20")
    page = client.get("/next").text
    assert [int(i) for i in re.findall(r'<li data-item="(\d+)">', page)] == [s["id"] for s in expected]
    assert expected[0]["reason"] in page


def test_titles_notes_and_abstracts_are_text(client: TestClient, guard: Guard, site: Site, cli: Cli) -> None:
    post(client, guard, f"/item/{site.basics[0]}/note", text="<img src=x onerror=alert(1)>")
    cli("mark", str(site.basics[1]), "reading")
    pages = {path: client.get(path).text for path in [
        *PAGES, "/week?week=" + datetime.now().strftime("%G-W%V"), f"/item/{site.basics[0]}",
        f"/item/{site.basics[1]}", f"/item/{site.basics[2]}", f"/item/{site.papers['2411.00001']}"]}
    for path, page in pages.items():
        assert "<script>document" not in page and "<img src" not in page.lower(), path
        assert '" onmouseover' not in page, path
        assert len(re.findall(r"<script\b", page)) == 1, path  # only the app's own /static/app.js
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in pages["/topic/basics"]
    assert "&#34; onmouseover=&#34;document.title=&#39;pwned&#39;&#34; x=&#34;" in pages["/topic/basics"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[f"/item/{site.basics[0]}"]
    assert "&lt;img src=x onerror=" in pages[f"/item/{site.papers['2411.00001']}"]
    assert "&lt;script&gt;" in pages["/inbox"] and "&lt;img src=x" in pages["/inbox"]


@pytest.mark.parametrize("path", ["/", "/inbox", "/nope", "/static/app.js", "/report.css"])
def test_every_answer_carries_the_content_security_policy(client: TestClient, site: Site, path: str) -> None:
    answer = client.get(path)
    csp = answer.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_kept_inbox_follows_the_clis_writes(client: TestClient, cli: Cli, site: Site) -> None:
    first = client.get("/inbox").text
    assert "nothing digested yet" in first
    cli("mark", str(site.gen[0]), "digested")  # another process's commit: the kept ranking is stale now
    page = client.get("/inbox").text
    assert "nothing digested yet" not in page and "Generative adversarial networks explained" in page
    cli("papers", "dismiss", "2411.00002")
    assert f'data-item="{site.papers["2411.00002"]}"' not in client.get("/inbox").text
    assert client.app.app.state.views.inbox.rankings == 2  # type: ignore[attr-defined]  # the dismissal ranked nothing


def test_a_kept_search_follows_the_clis_writes(client: TestClient, cli: Cli, site: Site) -> None:
    """Hits are kept between requests only until something is committed, by the CLI as by the server."""
    def hit_ids(query: str) -> list[str]:
        return re.findall(r'<li data-item="(\d+)">', client.get("/search", params={"q": query}).text)

    assert hit_ids("kingfisher") == []
    assert hit_ids("kingfisher") == []  # the kept answer
    cli("note", str(site.basics[0]), "a kingfisher by the river")
    assert hit_ids("kingfisher") == [str(site.basics[0])]
    cli("mark", str(site.basics[0]), "digested")
    page = client.get("/search", params={"q": "kingfisher"}).text
    assert re.search(r'class="status status-digested">digested<', page)
    assert hit_ids("kingfisher") == hit_ids("kingfisher")
    assert client.get("/search", params={"q": "kingfisher", "status": "unread"}).text.count("<li data-item") == 0


def test_a_slow_inbox_holds_up_no_other_page(database: dbmod.Database, guard: Guard, site: Site,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Ranking the inbox again can take seconds on a long list: the inbox pages waiting for it queue on their own
    thread, and every other page is served meanwhile."""
    app = create_app(database, guard=guard)
    views = app.app.state.views  # type: ignore[attr-defined]
    release = threading.Event()
    ranked_page = views.inbox.page

    def slow_page(*args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        return ranked_page(*args, **kwargs)

    monkeypatch.setattr(views.inbox, "page", slow_page)

    async def visit() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{guard.host}:{guard.port}") as browser:
            inbox = [asyncio.create_task(browser.get("/inbox", params={"page": n})) for n in (1, 1, 1)]
            await asyncio.sleep(0.3)
            others = ["/topic/basics", f"/item/{site.basics[0]}", "/search?q=basics", "/", "/week"] * 2
            answers = await asyncio.wait_for(asyncio.gather(*(browser.get(path) for path in others)), 20)
            assert [a.status_code for a in answers] == [200] * len(others)
            assert not any(task.done() for task in inbox)  # still waiting for the ranking
            release.set()
            assert [(await task).status_code for task in inbox] == [200] * 3

    asyncio.run(visit())


def test_a_slow_report_holds_up_no_other_page(database: dbmod.Database, guard: Guard, site: Site,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages read on the event loop's own thread, so a read that can take long (a week's report over a long
    history) must go to a thread: the pages that do not need it are served meanwhile."""
    from tracker.report import weekly

    app = create_app(database, guard=guard)
    release = threading.Event()
    report = weekly.weekly_report

    def slow_report(*args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        return report(*args, **kwargs)

    monkeypatch.setattr(weekly, "weekly_report", slow_report)

    async def visit() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{guard.host}:{guard.port}") as browser:
            week = asyncio.create_task(browser.get("/week"))
            try:
                await asyncio.sleep(0.3)
                others = ["/topic/basics", f"/item/{site.basics[0]}", "/search?q=basics", "/inbox"] * 2
                answers = await asyncio.wait_for(asyncio.gather(*(browser.get(path) for path in others)), 20)
                assert [a.status_code for a in answers] == [200] * len(others)
                assert not week.done()
            finally:
                release.set()
            assert (await week).status_code == 200

    asyncio.run(visit())


def test_a_topic_is_shown_a_page_at_a_time(client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.web import app as web

    monkeypatch.setattr(web, "TOPIC_PAGE", 2)
    shown = [[int(i) for i in re.findall(r'<tr data-item="(\d+)">', client.get(f"/topic/basics?page={n}").text)]
             for n in (1, 2, 3)]
    assert shown == [site.basics[:2], site.basics[2:], []]
    assert 'rel="next"' in client.get("/topic/basics?page=1").text
    assert 'rel="next"' not in client.get("/topic/basics?page=2").text
    assert client.get("/topic/basics?page=1000000").status_code == 200


def test_reads_run_on_the_loop_only_where_they_never_wait(database: dbmod.Database, guard: Guard, site: Site) -> None:
    """In WAL mode a read never waits for a writer, so pages read on the event loop's thread; in a rollback
    journal (SQLite's fallback where WAL cannot work) a read may wait for a writer, so pages read on a thread."""
    from sqlalchemy import event

    wal = create_app(database, guard=guard).app.state.views  # type: ignore[attr-defined]
    assert wal.inline_reads
    wal.version.close()  # its kept connection would keep the journal mode from changing

    def rollback_journal(dbapi_conn: Any, record: Any) -> None:
        dbapi_conn.execute("PRAGMA journal_mode = DELETE")

    database.engine.dispose()
    event.listen(database.engine, "connect", rollback_journal)
    app = create_app(database, guard=guard)
    views = app.app.state.views  # type: ignore[attr-defined]
    assert not views.inline_reads
    with TestClient(app, base_url=f"http://{guard.host}:{guard.port}") as client:
        for path in (*PAGES, "/topic/basics?page=1", f"/item/{site.basics[0]}", "/search?q=basics"):
            assert client.get(path).status_code == 200, path
