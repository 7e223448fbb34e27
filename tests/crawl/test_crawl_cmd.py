"""`tracker crawl` end to end: states stored per item, titles kept, children, back-off, resumption."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.conftest import LocalServer, reply, run_tracker
from tracker.crawl.run import fetch_t
from tracker.store import db as dbmod

FAST = ["--delay", "0", "--per-host", "4", "--timeout", "3"]


def _outline(tmp_path: Path, server: LocalServer, extra: str = "") -> Path:
    path = tmp_path / "list.md"
    path.write_text(f"""# 深度学习

## 卷积神经网络

- [池化入门（策展标题）]({server.url('/ok')})
- [A dead page]({server.url('/dead')})
- [A forbidden page]({server.url('/forbidden')})
- [A broken server]({server.url('/broken')})
- [GBK 页面]({server.url('/gbk')})
- [ResNet](https://arxiv.org/abs/1512.03385)
{extra}""", encoding="utf-8")
    return path


def _serve_basics(server: LocalServer) -> None:
    server.routes["/ok"] = reply(200, "<html><head><title>Pooling, the page's own title</title></head>"
                                      "<body><p>Max pooling keeps the strongest activation.</p></body></html>",
                                 {"ETag": '"e1"'})
    server.routes["/dead"] = reply(404, "not here")
    server.routes["/forbidden"] = reply(403, "no")
    server.routes["/broken"] = reply(500, "oops")
    server.routes["/gbk"] = reply(200, '<meta charset="gbk"><title>生成对抗网络</title>'.encode("gbk"),
                                  {"Content-Type": "text/html"})


def test_crawl_records_every_state_and_keeps_curated_titles(cli, server: LocalServer, tmp_path: Path) -> None:
    _serve_basics(server)
    cli("import", str(_outline(tmp_path, server)))
    summary = cli.json("crawl", *FAST)
    assert summary == {"checked": 5, "ok": 2, "unchanged": 0, "blocked": 1, "gone": 1, "error": 1,
                       "skipped": 1, "discovered": 0, "offline": 0}
    items = {i["url"]: i for i in cli.json("list")}
    ok = items[server.url("/ok")]
    assert ok["title"] == "池化入门（策展标题）" and ok["fetch"]["title"] == "Pooling, the page's own title"
    assert ok["fetch"]["state"] == "ok" and ok["fetch"]["http_status"] == 200 and ok["fetch"]["checked_at"]
    assert items[server.url("/gbk")]["fetch"]["title"] == "生成对抗网络"
    assert items[server.url("/dead")]["fetch"]["state"] == "gone"
    assert items[server.url("/forbidden")]["fetch"]["state"] == "blocked"
    assert items[server.url("/broken")]["fetch"]["state"] == "error"
    assert items["https://arxiv.org/abs/1512.03385"]["fetch"] is None  # left to the paper fetcher
    dead = cli.json("show", server.url("/dead"))
    assert dead["wayback"] == "https://web.archive.org/web/" + server.url("/dead")


def test_second_crawl_skips_fresh_items_backs_off_failures_and_force_revalidates(
        cli, server: LocalServer, tmp_path: Path, database: dbmod.Database) -> None:
    _serve_basics(server)
    cli("import", str(_outline(tmp_path, server)))
    cli.json("crawl", *FAST)
    with database.read() as conn:
        first = conn.execute(fetch_t.select().where(fetch_t.c.state == "gone")).one()
    assert first.attempts == 1 and first.next_due - first.checked_at == timedelta(days=1)
    again = cli.json("crawl", *FAST)
    assert again["checked"] == 0 and again["skipped"] == 6
    # A day later the failures are due again, the good pages are not.
    with database.write() as conn:
        conn.execute(update(fetch_t).where(fetch_t.c.state != "ok")
                     .values(next_due=dbmod.utcnow() - timedelta(minutes=1)))
    later = cli.json("crawl", *FAST)
    assert later["checked"] == 3 and later["skipped"] == 3
    shown = cli.json("show", server.url("/dead"))
    assert shown["fetch"]["state"] == "gone"
    with database.read() as conn:
        row = conn.execute(fetch_t.select().where(fetch_t.c.state == "gone")).one()
        ok = conn.execute(fetch_t.select().where(fetch_t.c.state == "ok")).first()
    assert row.attempts == 2 and row.next_due - row.checked_at == timedelta(days=7)  # a day, then a week
    assert ok is not None and ok.attempts == 0 and ok.next_due - ok.checked_at == timedelta(days=30)
    forced = cli.json("crawl", "--force", *FAST)
    assert forced["checked"] == 5, forced
    assert forced["ok"] == 2, (forced, [(i["url"], i["fetch"]) for i in cli.json("list")])
    with database.read() as conn:
        etag = conn.execute(fetch_t.select().with_only_columns(fetch_t.c.etag)
                            .where(fetch_t.c.item_id == dbmod.item_t.c.id, dbmod.item_t.c.url == server.url("/ok"))
                            ).scalar_one()
    assert etag == '"e1"'


def test_conditional_request_gives_unchanged(cli, server: LocalServer, tmp_path: Path,
                                             database: dbmod.Database) -> None:
    def page(req) -> None:  # type: ignore[no-untyped-def]
        if req.headers.get("If-None-Match") == '"e1"':
            return reply(304, b"")(req)
        return reply(200, "<title>Stable</title>", {"ETag": '"e1"'})(req)

    server.routes["/ok"] = page
    path = tmp_path / "l.md"
    path.write_text(f"- [Stable]({server.url('/ok')})\n", encoding="utf-8")
    cli("import", str(path))
    cli.json("crawl", *FAST)
    with database.write() as conn:
        conn.execute(update(fetch_t).values(next_due=dbmod.utcnow() - timedelta(seconds=1)))
    assert cli.json("crawl", *FAST)["unchanged"] == 1
    item = cli.json("list")[0]
    assert item["fetch"]["state"] == "unchanged" and item["fetch"]["title"] == "Stable"  # the last good title stays


def test_listing_children_through_a_proxy_inherit_topics_and_are_idempotent(
        cli, server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The proxy variables are honoured: the local server plays CSDN, reached as a proxy.
    monkeypatch.setenv("HTTP_PROXY", server.base)
    base = "http://blog.csdn.net/zhangsan"
    links = "".join(f'<a href="/zhangsan/article/details/{i}">第{i}篇</a>' for i in range(60))
    server.routes[f"{base}/category_1.html"] = reply(200, f"<title>专栏 - CSDN</title><body>{links}</body>")
    server.routes["*"] = reply(200, "<h1 id='articleContentId'>一篇文章</h1>")
    path = tmp_path / "l.md"
    path.write_text(f"# 笔记\n\n## 卷积神经网络\n\n- [专栏]({base}/category_1.html)\n", encoding="utf-8")
    cli("import", str(path))
    first = cli.json("crawl", *FAST)
    assert first["checked"] == 1 and first["discovered"] == 50
    listed = cli.json("list")
    parent = next(i for i in listed if i["url"] == f"{base}/category_1.html")
    children = [i for i in listed if i is not parent]
    assert parent["topics"] and len(children) == 50 and all(c["topics"] == parent["topics"] for c in children)
    assert children[0]["title"] == "第0篇" and children[0]["kind"] == "article"
    second = cli.json("crawl", "--force", *FAST)
    assert second["discovered"] == 0 and second["checked"] == 51
    assert len(cli.json("list")) == 51  # children's own links are not followed: one level deep


def test_bad_options_are_one_line_errors(cli) -> None:
    for args in (["--concurrency", "0"], ["--timeout", "0"], ["--delay", "-1"], ["--max-bytes", "0"]):
        result = cli("crawl", *args, code=2)
        assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1


def test_a_killed_crawl_keeps_what_it_stored(server: LocalServer, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    slow_done = []

    def slow(req) -> None:  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        slow_done.append(req.path)
        reply(200, "<title>t</title>")(req)

    server.routes["*"] = slow
    path = tmp_path / "l.md"
    path.write_text("".join(f"- [p{i}]({server.url(f'/p{i}')})\n" for i in range(40)), encoding="utf-8")
    db = tmp_path / "k.db"
    env = {"TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
    assert run_tracker("import", str(path), env=env).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "crawl", "--json", "--delay", "0", "--concurrency", "1"],
                            env={**__import__("os").environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    while len(slow_done) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = __import__("json").loads(run_tracker("list", "--json", env=env).stdout)
    fetched = [i for i in stored if i["fetch"]]
    assert 1 <= len(fetched) < 40  # what was stored before the kill survives it
    rest = __import__("json").loads(run_tracker("crawl", "--json", "--delay", "0", "--concurrency", "8",
                                                env=env).stdout)
    assert rest["checked"] == 40 - len(fetched)


def test_the_progress_bar_draws_without_a_thread_of_its_own() -> None:
    """rich redraws a bar from a thread of its own by default; the crawl's bar is drawn as results arrive."""
    import io
    import threading

    from rich.console import Console

    from tracker.cli.crawl import crawl_progress

    screen = io.StringIO()
    threads = threading.active_count()
    with crawl_progress(Console(file=screen, force_terminal=True, width=80), every=0) as report:
        assert threading.active_count() == threads
        for done in range(1, 4):
            report(done, 3)
    drawn = screen.getvalue()
    assert "crawling" in drawn and "100%" in drawn
