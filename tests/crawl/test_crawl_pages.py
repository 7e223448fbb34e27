"""`tracker crawl` over HTTP: site pages in their own shapes, walls, the hostile set, and what each item keeps."""

from __future__ import annotations

import gzip
import socket
import struct
import time
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import LocalServer, reply
from tests.crawl.rawserver import RawServer
from tests.crawl.test_crawl_cmd import FAST
from tracker.crawl.run import fetch_t
from tracker.store import db as dbmod


def _import(cli, tmp_path: Path, lines: list[str], name: str = "l.md") -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli("import", str(path))


def _fetches(database: dbmod.Database) -> dict[str, dict[str, object]]:
    """Each crawled item's fetch row, by the item's URL."""
    item_t = dbmod.item_t
    with database.read() as conn:
        rows = conn.execute(select(item_t.c.url, item_t.c.parent_id, fetch_t)
                            .select_from(item_t.outerjoin(fetch_t, fetch_t.c.item_id == item_t.c.id))).all()
    return {row.url: dict(row._mapping) for row in rows}


def test_site_walls_served_over_http_are_blocked(cli, server: LocalServer, tmp_path: Path,
                                                 database: dbmod.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server plays Zhihu, CSDN and an ordinary site through the proxy variables."""
    monkeypatch.setenv("HTTP_PROXY", server.base)
    zhihu_q, zhihu_p = "http://www.zhihu.com/question/19", "http://zhuanlan.zhihu.com/p/42"
    csdn = "http://blog.csdn.net/zhangsan/article/details/7"
    plain = "http://notes.example.org/post"
    server.routes[zhihu_q] = reply(403, '{"error": {"code": 40362, "message": "您当前请求存在异常，暂时限制本次访问"}}',
                                   {"Content-Type": "application/json"})
    server.routes[zhihu_p] = reply(302, b"", {"Location": "http://www.zhihu.com/account/unhuman?type=unhuman"})
    server.routes["http://www.zhihu.com/account/unhuman?type=unhuman"] = reply(200, "<title>知乎</title>")
    server.routes[csdn] = reply(200, "<html><head><title>安全验证</title></head><body>"
                                     "<div id='captcha'>请完成下方验证后继续操作</div></body></html>")
    server.routes[plain] = reply(302, b"", {"Location": "http://notes.example.org/login?next=/post"})
    server.routes["http://notes.example.org/login?next=/post"] = reply(200, "<title>Sign in</title>")
    _import(cli, tmp_path, [f"- [q]({zhihu_q})", f"- [p]({zhihu_p})", f"- [c]({csdn})", f"- [n]({plain})"])
    summary = cli.json("crawl", *FAST)
    assert summary["checked"] == 4 and summary["blocked"] == 4
    rows = _fetches(database)
    assert rows[zhihu_q]["http_status"] == 403 and "zhihu" in str(rows[zhihu_q]["error"])
    assert rows[plain]["final_url"] == "http://notes.example.org/login?next=/post"
    assert rows[plain]["error"] == "redirected to a sign-in page"


def test_final_address_children_tied_to_their_parent_and_a_gone_item_keeps_its_own_state(
        cli, server: LocalServer, tmp_path: Path, database: dbmod.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.base)
    moved, listing = "http://old.example.org/a", "http://www.cnblogs.com/someone/tag/GAN"
    dead = "http://old.example.org/gone"
    server.routes[moved] = reply(301, b"", {"Location": "http://new.example.org/a"})
    server.routes["http://new.example.org/a"] = reply(200, "<title>Moved here</title>")
    posts = "".join(f'<a href="/someone/p/{n}.html">第{n}篇</a>' for n in range(3))
    server.routes[listing] = reply(200, f"<html><head><title>GAN - 标签 - 博客园</title></head><body>{posts}</body>")
    server.routes[dead] = reply(404, "gone")
    _import(cli, tmp_path, ["## 生成对抗网络", "", f"- [m]({moved})", f"- [t]({listing})", f"- [d]({dead})"])
    cli("mark", dead, "reading")
    cli("note", dead, "chapter 3 was the useful part")
    cli.json("crawl", *FAST)
    rows = _fetches(database)
    assert rows[moved]["final_url"] == "http://new.example.org/a" and rows[moved]["title"] == "Moved here"
    parent_id = rows[listing]["item_id"]
    children = {url: row for url, row in rows.items() if row["parent_id"] is not None}
    assert len(children) == 3 and {row["parent_id"] for row in children.values()} == {parent_id}
    shown = cli.json("show", dead)
    assert shown["fetch"]["state"] == "gone"
    assert shown["status"] == "reading" and "chapter 3 was the useful part" in shown["notes"]


def test_a_listing_read_as_a_child_brings_no_children_of_its_own() -> None:
    """One level deep: the rule holds in reading itself, whatever a child page looks like."""
    from tracker.crawl.fetcher import Response
    from tracker.crawl.reading import interpret

    url = "https://blog.csdn.net/zhangsan/category_1.html"
    links = "".join(f'<a href="/zhangsan/article/details/{i}">第{i}篇</a>' for i in range(5))
    body = f"<title>专栏 - CSDN</title><body>{links}</body>".encode()
    response = Response(key=1, url=url, state="ok", http_status=200, final_url=url,
                        headers={"content-type": "text/html; charset=utf-8"}, body=body, charset="utf-8",
                        error=None, elapsed=0.1)
    assert len(interpret(url, False, response).children) == 5
    assert interpret(url, True, response).children == ()


def test_the_text_of_a_page_no_topic_claims_is_classified(cli, server: LocalServer, tmp_path: Path) -> None:
    """Neither the curated title nor the page's head names a topic; its text does."""
    body = "<html><head><title>Weekend notes</title></head><body>" + \
        "<p>今天复习卷积神经网络：卷积层、池化层和感受野。卷积神经网络在图像上表现很好。</p>" * 20 + "</body></html>"
    server.routes["/notes"] = reply(200, body)
    _import(cli, tmp_path, ["# 深度学习", "", "## 卷积神经网络", "", "- [已分类](https://example.org/x)",
                            "", "## 强化学习", ""], name="outline.md")
    _import(cli, tmp_path, [f"- [Weekend notes]({server.url('/notes')})"], name="plain.md")
    before = next(i for i in cli.json("list") if i["url"] == server.url("/notes"))
    assert before["topics"] == []
    cli.json("crawl", *FAST)
    after = next(i for i in cli.json("list") if i["url"] == server.url("/notes"))
    cnn = next(i for i in cli.json("list") if i["url"] == "https://example.org/x")["topics"]
    assert len(cnn) == 1 and after["topics"] == cnn


def _hostile_servers() -> list[RawServer]:
    def endless(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"<p>" + b"x" * 65530 + b"</p>"
        while True:
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100):
            conn.sendall(b"x")
            time.sleep(0.5)

    def reset(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return [RawServer(endless), RawServer(trickle), RawServer(reset)]


def test_the_hostile_set_ends_in_time_with_bounded_memory_and_a_state_for_every_item(
        cli, server: LocalServer, tmp_path: Path, database: dbmod.Database) -> None:
    bomb = gzip.compress(b"\0" * 100_000_000, compresslevel=9)
    server.routes["/bomb"] = reply(200, bomb, {"Content-Encoding": "gzip"})
    server.routes["/loop"] = reply(302, b"", {"Location": "/loop2"})
    server.routes["/loop2"] = reply(302, b"", {"Location": "/loop"})
    for hop in range(7):
        server.routes[f"/chain{hop}"] = reply(302, b"", {"Location": f"/chain{hop + 1}"})
    server.routes["/to-file"] = reply(302, b"", {"Location": "file:///etc/passwd"})
    server.routes["/to-private"] = reply(302, b"", {"Location": "http://10.255.255.1/admin"})
    busy = LocalServer().start()  # a host of its own: a long Retry-After holds back its whole host
    busy.routes["/busy"] = reply(429, "later", {"Retry-After": "86400"})
    server.routes["/wrong-charset"] = reply(200, "<title>卷积神经网络</title>".encode("gbk"),
                                            {"Content-Type": "text/html; charset=utf-8"})
    server.routes["/links"] = reply(200, "<title>many</title>" + "".join(f'<a href="/p{i}">p{i}</a>'
                                                                         for i in range(50_000)))
    server.routes["/nested"] = reply(200, "<title>deep</title>" + "<div>" * 200_000 + "x" + "</div>" * 200_000)
    raws = _hostile_servers()
    raw_urls = [r.url + "/page" for r in raws]
    urls = [server.url(p) for p in ("/bomb", "/loop", "/chain0", "/to-file", "/to-private", "/wrong-charset",
                                    "/links", "/nested")] + [busy.url("/busy")] + raw_urls
    _import(cli, tmp_path, [f"- [hostile {n}]({url})" for n, url in enumerate(urls)])
    start = time.monotonic()
    tracemalloc.start()
    try:
        summary = cli.json("crawl", "--delay", "0", "--per-host", "2", "--timeout", "2", "--max-bytes", "2000000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        busy.stop()
        for raw in raws:
            raw.stop()
    took = time.monotonic() - start
    assert summary["checked"] == len(urls)
    rows = _fetches(database)
    assert all(rows[url]["state"] in ("ok", "blocked", "gone", "error") for url in urls)
    for path in ("/bomb", "/loop", "/chain0", "/to-file", "/to-private"):
        assert rows[server.url(path)]["state"] == "error", path
    assert rows[busy.url("/busy")]["state"] == "blocked"
    assert rows[server.url("/wrong-charset")]["state"] == "ok" and rows[server.url("/links")]["state"] == "ok"
    assert [rows[url]["state"] for url in raw_urls] == ["error", "error", "error"]
    # The trickling server holds its robots.txt and then its page, 2 s each at most; all the rest is quick.
    assert took < 12, took
    assert peak < 150_000_000, peak


def test_a_github_repository_is_read_from_the_api_the_environment_names(
        cli, server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.setenv("TRACKER_GITHUB_API_URL", server.url("/gh"))
    monkeypatch.setenv("GITHUB_TOKEN", "t0k-local")
    repo = {"full_name": "pyg-team/pytorch_geometric", "description": "Graph Neural Network Library for PyTorch",
            "stargazers_count": 21000, "forks_count": 3600, "topics": ["graph-neural-networks"],
            "language": "Python", "archived": False, "pushed_at": "2026-11-20T08:00:00Z"}
    server.routes["/gh/repos/pyg-team/pytorch_geometric"] = reply(200, json.dumps(repo),
                                                                  {"Content-Type": "application/json"})
    url = "https://github.com/pyg-team/pytorch_geometric"
    _import(cli, tmp_path, [f"- [PyG]({url})"])
    assert cli.json("crawl", *FAST)["ok"] == 1
    shown = cli.json("show", url)
    assert shown["title"] == "PyG" and shown["fetch"]["title"].startswith("pyg-team/pytorch_geometric")
    assert (shown["meta"]["stars"], shown["meta"]["language"], shown["meta"]["archived"]) == (21000, "Python", False)
    sent = next(headers for _, path, headers in server.requests if path.startswith("/gh/repos/"))
    assert sent["Authorization"] == "Bearer t0k-local" and sent["Accept"] == "application/vnd.github+json"


@pytest.mark.parametrize("json_flag", [False, True])
def test_a_terminal_gets_a_progress_bar_and_json_gets_nothing_else(
        server: LocalServer, tmp_path: Path, json_flag: bool) -> None:
    """On a terminal (a pseudo-terminal here) the crawl draws its bar; with --json only the summary is printed."""
    import json
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import ROOT, run_tracker

    server.routes["*"] = reply(200, "<title>t</title>")
    db = tmp_path / "p.db"
    env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT), "COLUMNS": "100", "TERM": "xterm"}
    path = tmp_path / "l.md"
    path.write_text("".join(f"- [p{i}]({server.url(f'/p{i}')})\n" for i in range(3)), encoding="utf-8")
    assert run_tracker("import", str(path), env=env).returncode == 0
    leader, follower = pty.openpty()
    args = ["crawl", "--delay", "0", *(["--json"] if json_flag else [])]
    proc = subprocess.Popen([sys.executable, "-m", "tracker", *args], env=env, stdin=follower, stdout=follower,
                            stderr=follower, close_fds=True)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's other end closed: the crawl has exited
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    text = out.decode("utf-8", "replace")
    if json_flag:
        assert json.loads(text)["checked"] == 3 and "\x1b[" not in text
    else:
        assert "crawling" in text and "\x1b[" in text and "3 checked" in text.replace("\r", "")


def test_an_ok_pages_text_is_kept_replaced_when_it_changes_and_survives_the_page(
        cli, server: LocalServer, tmp_path: Path) -> None:
    versions = ["<html><head><title>BN</title></head><body><article><p>Batch normalization smooths the loss "
                "surface. 批归一化让损失曲面更平滑。</p></article></body></html>",
                "<html><head><title>BN</title></head><body><article><p>A second edition: layer normalization "
                "instead.</p></article></body></html>"]
    state = {"status": 200, "body": versions[0]}
    server.routes["/bn"] = lambda req: reply(state["status"], state["body"])(req)  # type: ignore[arg-type]
    _import(cli, tmp_path, [f"- [BN]({server.url('/bn')})"])
    assert cli.json("crawl", *FAST)["ok"] == 1
    first = cli.json("read", server.url("/bn"))
    assert "smooths the loss surface" in first["text"] and "批归一化" in first["text"]
    state["body"] = versions[1]
    assert cli.json("crawl", "--force", *FAST)["ok"] == 1
    assert "layer normalization" in cli.json("read", server.url("/bn"))["text"]
    state["status"] = 404
    assert cli.json("crawl", "--force", *FAST)["gone"] == 1
    assert "layer normalization" in cli.json("read", server.url("/bn"))["text"]  # a dead link's text survives


def test_a_long_pages_whole_text_is_kept_and_searched_and_its_fetch_keeps_the_opening(
        cli, server: LocalServer, tmp_path: Path, database: dbmod.Database) -> None:
    """The page text kept for reading offline is all of it (up to 1 MB), not the opening the fetch record
    and the classifier take; and search finds words from its end."""
    paragraphs = "".join(f"<p>第{i}段：卷积层提取局部特征，池化层缩小特征图。</p>" for i in range(800))
    body = (f"<html><head><title>长文</title></head><body><article>{paragraphs}"
            "<p>The last paragraph names zygomorphic kernels and 残差收缩.</p></article></body></html>")
    server.routes["/long"] = reply(200, body)
    _import(cli, tmp_path, [f"- [长文]({server.url('/long')})"])
    assert cli.json("crawl", *FAST)["ok"] == 1
    text = cli.json("read", server.url("/long"))["text"]
    assert len(text) > 20_000 and "第799段" in text and text.rstrip().endswith("残差收缩.")
    opening = str(_fetches(database)[server.url("/long")]["text"])
    assert 2_000 < len(opening) <= 3_000 and text.startswith(opening)
    for query in ("zygomorphic", "残差收缩", "第799段"):
        assert [hit["title"] for hit in cli.json("search", query)] == ["长文"], query
