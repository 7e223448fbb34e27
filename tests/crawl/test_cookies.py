"""The learner's own login (a Netscape cookies.txt): sent only where it belongs, never kept, and bad files refused."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.conftest import LocalServer, reply
from tests.crawl.test_crawl_cmd import FAST
from tests.crawl.test_offline import fetch_rows, import_links
from tracker.store import db as dbmod

SECRET = "2|1:0|10:1700000000|4:z_c0|92:c2VjcmV0LWxvZ2luLXZhbHVl"
QUESTION, COLUMN = "http://www.zhihu.com/question/29366574", "http://zhuanlan.zhihu.com/p/31727402"
QUESTION_PAGE = """<html><head><title>如何理解池化？ - 知乎</title></head><body>
<script id="js-initialData" type="text/json">{"initialState": {"entities": {"questions": {"29366574": {
"title": "如何理解卷积神经网络中的池化？", "answerCount": 88, "followerCount": 1533, "visitCount": 400000,
"topics": [{"name": "深度学习"}, {"name": "卷积神经网络"}], "detail": "池化层有什么用"}}}}}</script></body></html>"""
COLUMN_PAGE = """<html><head><title>GAN 入门 - 知乎</title></head><body><h1 class="Post-Title">GAN 入门</h1>
<script id="js-initialData" type="text/json">{"initialState": {"entities": {"articles": {"31727402": {
"title": "生成对抗网络入门", "author": {"name": "张三"}, "created": 1514764800, "voteupCount": 2048}}}}}</script>
<p>生成器与判别器的博弈。</p></body></html>"""
WALL = json.dumps({"error": {"code": 40362, "message": "您当前请求存在异常，暂时限制本次访问"}})


def cookies_file(tmp_path: Path, value: str = SECRET, domain: str = ".zhihu.com") -> Path:
    path = tmp_path / "cookies.txt"
    path.write_text("# Netscape HTTP Cookie File\n# exported by a browser extension\n\n"
                    f"{domain}\tTRUE\t/\tFALSE\t4102444800\tz_c0\t{value}\n"
                    f"{domain}\tTRUE\t/\tFALSE\t0\td_c0\tsession-only\n", encoding="utf-8")
    return path


def zhihu(server: LocalServer, valid: str = SECRET) -> list[str | None]:
    """The local server plays Zhihu through the proxy variables: its wall without the login, the page with it.
    Returns the Cookie header of every request it gets."""
    seen: list[str | None] = []

    def route(page: str):  # type: ignore[no-untyped-def]
        def handle(req: BaseHTTPRequestHandler) -> None:
            seen.append(req.headers.get("Cookie"))
            if f"z_c0={valid}" in (req.headers.get("Cookie") or ""):
                reply(200, page)(req)
            else:
                reply(403, WALL, {"Content-Type": "application/json"})(req)
        return handle

    server.routes[QUESTION] = route(QUESTION_PAGE)
    server.routes[COLUMN] = route(COLUMN_PAGE)
    return seen


@pytest.fixture
def proxied(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    monkeypatch.setenv("HTTP_PROXY", server.base)
    return server


def _database_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_with_the_learners_cookies_zhihu_pages_are_read(cli, proxied: LocalServer, tmp_path: Path,
                                                        database: dbmod.Database, db_path: Path) -> None:
    seen = zhihu(proxied)
    import_links(cli, tmp_path, [QUESTION, COLUMN])
    without = cli.json("crawl", *FAST)
    assert without["blocked"] == 2 and seen == [None, None]
    result = cli("crawl", "--force", "--cookies", str(cookies_file(tmp_path)), *FAST, "--json")
    assert json.loads(result.stdout)["ok"] == 2
    assert all(f"z_c0={SECRET}" in (cookie or "") for cookie in seen[2:]) and len(seen) == 4
    question, column = cli.json("show", QUESTION), cli.json("show", COLUMN)
    assert question["fetch"]["title"] == "如何理解卷积神经网络中的池化？"
    assert (question["meta"]["answer_count"], question["meta"]["topics"]) == (88, ["深度学习", "卷积神经网络"])
    assert column["fetch"]["title"] == "生成对抗网络入门" and column["meta"]["authors"] == ["张三"]
    assert SECRET not in result.stdout + result.stderr
    assert SECRET.encode() not in _database_bytes(db_path)  # nor "session-only": no cookie is ever stored
    assert b"session-only" not in _database_bytes(db_path)


def test_the_cookies_file_can_come_from_the_environment(cli, proxied: LocalServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    zhihu(proxied)
    import_links(cli, tmp_path, [QUESTION])
    monkeypatch.setenv("TRACKER_COOKIES", str(cookies_file(tmp_path)))
    assert cli.json("crawl", *FAST)["ok"] == 1


def test_a_wall_although_the_login_was_sent_is_a_login_expired(cli, proxied: LocalServer, tmp_path: Path,
                                                               database: dbmod.Database) -> None:
    seen = zhihu(proxied, valid="a-newer-login")  # the site no longer takes the exported one
    import_links(cli, tmp_path, [QUESTION, COLUMN])
    summary = cli.json("crawl", "--cookies", str(cookies_file(tmp_path)), *FAST)
    assert summary["blocked"] == 2 and all(SECRET in (cookie or "") for cookie in seen)
    rows = fetch_rows(database)
    assert {rows[QUESTION]["error"], rows[COLUMN]["error"]} == {"login expired"}


def test_a_cookie_never_follows_a_redirect_to_another_site(cli, proxied: LocalServer, tmp_path: Path) -> None:
    elsewhere: dict[str, str | None] = {}

    def landing(req: BaseHTTPRequestHandler) -> None:
        elsewhere["cookie"] = req.headers.get("Cookie")
        reply(200, "<title>another site</title>")(req)

    moved = "http://www.zhihu.com/question/2"
    proxied.routes[moved] = reply(302, b"", {"Location": "http://links.example.org/landing"})
    proxied.routes["http://links.example.org/landing"] = landing
    import_links(cli, tmp_path, [moved])
    result = cli("crawl", "--cookies", str(cookies_file(tmp_path)), *FAST, "--json")
    assert json.loads(result.stdout)["checked"] == 1
    assert elsewhere == {"cookie": None}
    zhihu_request = next(headers for _, path, headers in proxied.requests if path == moved)
    assert SECRET in zhihu_request.get("Cookie", "")  # it did go to the site it names


def test_a_cookie_for_one_domain_goes_to_no_other(cli, proxied: LocalServer, tmp_path: Path) -> None:
    seen = zhihu(proxied)
    other = "http://notes.example.org/post"
    got: list[str | None] = []
    proxied.routes[other] = lambda req: (got.append(req.headers.get("Cookie")), reply(200, "<title>n</title>")(req))
    import_links(cli, tmp_path, [QUESTION, other])
    assert cli.json("crawl", "--cookies", str(cookies_file(tmp_path)), *FAST)["ok"] == 2
    assert got == [None] and SECRET in (seen[0] or "")


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    not_netscape = tmp_path / "cookies.json"
    not_netscape.write_text(json.dumps([{"domain": ".zhihu.com", "name": "z_c0", "value": SECRET}]), encoding="utf-8")
    broken_line = tmp_path / "broken.txt"
    broken_line.write_text(f"# Netscape HTTP Cookie File\n.zhihu.com TRUE / z_c0 {SECRET}\n", encoding="utf-8")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81 not text at all")
    return {"json": not_netscape, "broken line": broken_line, "binary": binary, "missing": tmp_path / "nope.txt",
            "a folder": tmp_path}


@pytest.mark.parametrize("kind", ["json", "broken line", "binary", "missing", "a folder"])
def test_a_bad_cookies_file_is_one_error_line_and_nothing_is_crawled(cli, proxied: LocalServer, tmp_path: Path,
                                                                     database: dbmod.Database, kind: str) -> None:
    seen = zhihu(proxied)
    import_links(cli, tmp_path, [QUESTION])
    result = cli("crawl", "--cookies", str(_bad_files(tmp_path)[kind]), *FAST, code=2)
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1 and result.stdout == ""
    assert SECRET not in result.stderr and "Traceback" not in result.stderr
    assert seen == [] and fetch_rows(database) == {}
