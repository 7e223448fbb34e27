"""The fetching engine against real loopback servers, hostile ones included."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import struct
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import LocalServer, reply
from tests.crawl.rawserver import RawServer
from tracker.crawl.fetcher import Request, Response, Settings, fetch_all

FAST = Settings(concurrency=8, per_host=4, delay=0, timeout=3, robots=False)


def fetch(urls: list[str] | list[Request], settings: Settings = FAST) -> list[Response]:
    reqs = [u if isinstance(u, Request) else Request(key=i, url=u) for i, u in enumerate(urls)]

    async def go() -> list[Response]:
        return [r async for r in fetch_all(reqs, settings)]

    return sorted(asyncio.run(go()), key=lambda r: r.key)


def one(url: str | Request, settings: Settings = FAST) -> Response:
    return fetch([url], settings)[0]  # type: ignore[list-item]


def redirect(to: str, status: int = 302):  # type: ignore[no-untyped-def]
    return reply(status, b"", {"Location": to})


def test_ok_page_with_charset_and_conditional_refetch(server: LocalServer) -> None:
    def page(req: BaseHTTPRequestHandler) -> None:
        if req.headers.get("If-None-Match") == '"v1"':
            return reply(304, b"", {"ETag": '"v1"'})(req)
        return reply(200, "<title>你好</title>".encode(),
                     {"Content-Type": "text/html; charset=UTF-8", "ETag": '"v1"'})(req)

    server.routes["/a"] = page
    first = one(server.url("/a"))
    assert (first.state, first.http_status, first.charset, first.error) == ("ok", 200, "utf-8", None)
    assert first.body.decode(first.charset) == "<title>你好</title>" and first.headers["etag"] == '"v1"'
    again = one(Request(key=1, url=server.url("/a"), etag='"v1"'))
    assert (again.state, again.http_status, again.body) == ("unchanged", 304, b"")


def test_gbk_page_is_read_as_gb18030_from_its_meta(server: LocalServer) -> None:
    html = '<html><head><meta charset="gb2312"><title>卷积神经网络入门</title></head></html>'.encode("gbk")
    server.routes["/gbk"] = reply(200, html, {"Content-Type": "text/html"})
    response = one(server.url("/gbk"))
    assert response.charset == "gb18030" and "卷积神经网络入门" in response.body.decode(response.charset)


@pytest.mark.parametrize(("status", "state"), [(404, "gone"), (410, "gone"), (401, "blocked"), (403, "blocked"),
                                               (451, "blocked"), (500, "error"), (502, "error"), (418, "error")])
def test_statuses_map_to_states(server: LocalServer, status: int, state: str) -> None:
    server.routes["/s"] = reply(status, '{"error": {"code": 40362}}')
    response = one(server.url("/s"))
    assert (response.state, response.http_status) == (state, status)
    assert response.error == f"HTTP {status}"
    assert b"40362" in response.body  # kept for the site extractors to read


def test_429_with_retry_after_is_waited_for_once(server: LocalServer) -> None:
    answers = [reply(429, "slow down", {"Retry-After": "1"}), reply(200, "<title>ok</title>")]
    server.routes["/busy"] = lambda req: answers.pop(0)(req)
    start = time.monotonic()
    response = one(server.url("/busy"))
    assert response.state == "ok" and time.monotonic() - start >= 0.9
    assert [p for _, p, _ in server.requests] == ["/busy", "/busy"]


def test_429_with_a_long_retry_after_is_blocked_at_once(server: LocalServer) -> None:
    server.routes["/busy"] = reply(429, "later", {"Retry-After": "3600"})
    start = time.monotonic()
    response = one(server.url("/busy"))
    assert response.state == "blocked" and time.monotonic() - start < 1.5


def test_gzip_bomb_is_stopped_without_expanding_in_memory(server: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # 200 MB that travel as about 200 KB
    server.routes["/bomb"] = reply(200, bomb, {"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        response = one(server.url("/bomb"), Settings(delay=0, timeout=10, robots=False, max_bytes=1_000_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.state == "error" and response.error == "body over 1000000 bytes"
    assert peak < 15_000_000


def test_endless_body_is_cut_at_the_cap() -> None:
    def endless(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    raw = RawServer(endless)
    try:
        response = one(raw.url + "/", Settings(delay=0, timeout=10, robots=False, max_bytes=2_000_000))
    finally:
        raw.stop()
    assert response.state == "error" and "body over 2000000 bytes" in (response.error or "")


def test_trickling_body_ends_at_the_total_deadline() -> None:
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(200):
            conn.sendall(b"x")
            time.sleep(0.5)

    raw = RawServer(trickle)
    start = time.monotonic()
    try:
        response = one(raw.url + "/", Settings(delay=0, timeout=2, robots=False))
    finally:
        raw.stop()
    assert response.state == "error" and response.error == "timeout after 2 s"
    assert time.monotonic() - start < 3


def test_connection_reset_mid_body_is_an_error() -> None:
    def reset(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n" + b"y" * 1000)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN

    raw = RawServer(reset)
    try:
        response = one(raw.url + "/")
    finally:
        raw.stop()
    assert response.state == "error" and response.error and "connection" in response.error


def test_redirect_chain_of_five_is_followed_and_six_is_not(server: LocalServer) -> None:
    for i in range(6):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server.routes["/r6"] = reply(200, "<title>end</title>")
    five = one(server.url("/r1"))
    assert five.state == "ok" and five.final_url == server.url("/r6") and len(five.redirects) == 5
    six = one(server.url("/r0"))
    assert six.state == "error" and "too many redirects" in (six.error or "")


def test_redirect_loop_is_an_error(server: LocalServer) -> None:
    server.routes["/a"] = redirect("/b", 301)
    server.routes["/b"] = redirect("/a", 301)
    response = one(server.url("/a"))
    assert response.state == "error" and response.error == "redirect loop"


@pytest.mark.parametrize("target", ["file:///etc/passwd", "http://10.255.255.1/admin",
                                    "http://169.254.169.254/latest/meta-data/", "ftp://127.0.0.1/x"])
def test_redirects_off_http_or_into_a_private_network_are_refused(server: LocalServer, target: str) -> None:
    server.routes["/go"] = redirect(target)
    start = time.monotonic()
    response = one(server.url("/go"))
    assert response.state == "error" and "redirect to" in (response.error or "")
    assert time.monotonic() - start < 1  # refused before any connection attempt


def _resolver(known: dict[str, str], unknown: set[str] = frozenset(),  # type: ignore[assignment]
              offline: bool = False):  # type: ignore[no-untyped-def]
    """A resolver for the tests: `known` names resolve, `unknown` ones do not exist, the rest time out;
    `offline`, every lookup fails as it does with no network."""
    async def resolve(host: str) -> list[str]:
        if offline:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host in known:
            return [known[host]]
        if host in unknown:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    return resolve


def _fetch_with(urls: list[str], resolve) -> list[Response]:  # type: ignore[no-untyped-def]
    async def go() -> list[Response]:
        reqs = [Request(key=i, url=u) for i, u in enumerate(urls)]
        return [r async for r in fetch_all(reqs, FAST, resolve=resolve)]

    return sorted(asyncio.run(go()), key=lambda r: r.key)


def test_with_no_name_resolving_every_lookup_failure_is_offline() -> None:
    got = _fetch_with(["http://a.example/1", "http://b.example/2", "http://a.example/3"], _resolver({}, offline=True))
    assert [(r.state, r.error, r.cause) for r in got] == [("error", "offline", "offline")] * 3


def test_a_name_that_does_not_exist_while_others_resolve_is_nxdomain(server: LocalServer) -> None:
    server.routes["/ok"] = reply(200, "<title>fine</title>")
    port = server.url("").rsplit(":", 1)[1]
    resolve = _resolver({"localhost": "127.0.0.1"}, unknown={"gone.example"})
    ok, missing, flaky = _fetch_with([f"http://localhost:{port}/ok", "http://gone.example/page",
                                      "http://flaky.example/page"], resolve)
    assert (ok.state, ok.cause) == ("ok", None)
    assert (missing.state, missing.cause) == ("error", "nxdomain") and "gone.example" in (missing.error or "")
    assert (flaky.state, flaky.cause) == ("error", None) and "DNS lookup failed" in (flaky.error or "")


def test_malformed_and_non_http_urls_are_errors() -> None:
    bad = fetch(["mailto:someone@example.org", "http://", "not a url"])
    assert [r.state for r in bad] == ["error"] * 3


def test_robots_disallow_is_blocked_without_a_request(server: LocalServer) -> None:
    server.routes["/robots.txt"] = reply(200, "User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"})
    server.routes["/private/page"] = reply(200, "<title>secret</title>")
    server.routes["/public"] = reply(200, "<title>hello</title>")
    private, public = fetch([server.url("/private/page"), server.url("/public")],
                            Settings(delay=0, per_host=2, robots=True))
    assert (private.state, private.error) == ("blocked", "robots.txt disallows")
    assert public.state == "ok"
    paths = [p for _, p, _ in server.requests]
    assert "/private/page" not in paths and paths.count("/robots.txt") == 1


def test_crawl_delay_and_per_host_spacing(server: LocalServer) -> None:
    starts: list[float] = []

    def stamp(req: BaseHTTPRequestHandler) -> None:
        starts.append(time.monotonic())
        reply(200, "<title>x</title>")(req)

    server.routes["/robots.txt"] = reply(200, "User-agent: tracker\nCrawl-delay: 0.4\n")
    server.routes["/p"] = stamp
    fetch([server.url("/p")] * 4, Settings(delay=0.1, per_host=4, robots=True))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 4 and min(gaps) >= 0.35


def test_concurrency_cap_holds_across_hosts() -> None:
    live, peak = [0], [0]

    def slow(conn: socket.socket) -> None:
        live[0] += 1
        peak[0] = max(peak[0], live[0])
        time.sleep(0.2)
        live[0] -= 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    servers = [RawServer(slow) for _ in range(4)]
    try:
        responses = fetch([s.url + f"/{i}" for s in servers for i in range(5)],
                          Settings(concurrency=3, per_host=5, delay=0, robots=False))
    finally:
        for s in servers:
            s.stop()
    assert all(r.state == "ok" for r in responses) and len(responses) == 20
    assert peak[0] <= 3


def test_thousands_of_requests_stream_through_a_bounded_window(server: LocalServer) -> None:
    server.routes["*"] = reply(200, "<title>x</title>")
    made = [0]

    def requests():  # type: ignore[no-untyped-def]
        for i in range(500):
            made[0] += 1
            yield Request(key=i, url=server.url(f"/p{i}"))

    async def go() -> int:
        seen = 0
        async for _ in fetch_all(requests(), Settings(concurrency=10, per_host=10, delay=0, robots=False)):
            seen += 1
            assert made[0] - seen <= 10 * 4 + 1  # never more than the window ahead of what is done
        return seen

    assert asyncio.run(go()) == 500


def test_credentials_are_not_carried_to_another_host(server: LocalServer) -> None:
    other = LocalServer().start()
    try:
        other.routes["/landing"] = reply(200, "<title>elsewhere</title>")
        server.routes["/repo"] = redirect(other.url("/landing"))
        response = one(Request(key=1, url=server.url("/repo"), headers=(("Authorization", "Bearer s3cret"),)))
        assert response.state == "ok"
        assert server.requests[-1][2].get("Authorization") == "Bearer s3cret"
        assert "Authorization" not in other.requests[-1][2]
    finally:
        other.stop()


def test_multi_member_gzip_is_read_whole(server: LocalServer) -> None:
    body = gzip.compress(b"<title>first half</title>") + gzip.compress(b"<p>second half</p>")
    server.routes["/two"] = reply(200, body, {"Content-Encoding": "gzip"})
    assert one(server.url("/two")).body == b"<title>first half</title><p>second half</p>"


def test_an_oversized_error_page_keeps_its_state(server: LocalServer) -> None:
    server.routes["/big404"] = reply(404, b"x" * 50_000)
    response = one(server.url("/big404"), Settings(delay=0, robots=False, max_bytes=10_000))
    assert (response.state, response.http_status) == ("gone", 404)


def test_a_connection_is_reused_until_a_response_on_it_is_cut_short(server: LocalServer,
                                                                     connections: list[tuple[str, int]]) -> None:
    """A body left unread (over the cap) would be read as the next response: that connection is closed."""
    server.routes["/big"] = reply(200, "b" * 300_000)
    server.routes["*"] = lambda req: reply(200, f"<title>{req.path}</title>")(req)  # type: ignore[misc]
    settings = Settings(concurrency=1, per_host=1, delay=0, timeout=3, robots=False, max_bytes=100_000)
    got = fetch([server.url(p) for p in ("/p1", "/big", "/p2", "/p3")], settings)
    assert [r.state for r in got] == ["ok", "error", "ok", "ok"]
    assert [r.body for r in (got[0], got[2], got[3])] == [b"<title>/p1</title>", b"<title>/p2</title>",
                                                         b"<title>/p3</title>"]
    assert len(connections) == 2  # /p1 and /big on the first; /p2 and /p3 on a fresh one


def test_requests_in_flight_to_a_host_get_a_connection_each_and_keep_them(server: LocalServer,
                                                                          connections: list[tuple[str, int]]) -> None:
    def slow(req) -> None:  # type: ignore[no-untyped-def]
        time.sleep(0.1)
        reply(200, f"<title>{req.path}</title>")(req)

    server.routes["*"] = slow
    settings = Settings(concurrency=3, per_host=3, delay=0, timeout=3, robots=False)
    got = fetch([server.url(f"/p{i}") for i in range(12)], settings)
    assert [r.body for r in got] == [f"<title>/p{i}</title>".encode() for i in range(12)]
    assert len(connections) == 3


def test_a_request_cut_off_at_its_deadline_leaves_the_next_one_a_clean_connection(
        server: LocalServer, connections: list[tuple[str, int]]) -> None:
    def stalls(req) -> None:  # type: ignore[no-untyped-def]
        req.send_response(200)
        req.send_header("Content-Length", "1000")
        req.end_headers()
        req.wfile.write(b"s" * 10)
        req.wfile.flush()
        time.sleep(2)

    server.routes["/stalls"] = stalls
    server.routes["*"] = reply(200, "<title>fine</title>")
    settings = Settings(concurrency=1, per_host=1, delay=0, timeout=1, robots=False)
    got = fetch([server.url("/first"), server.url("/stalls"), server.url("/after")], settings)
    assert [(r.state, r.body) for r in got] == [("ok", b"<title>fine</title>"), ("error", b""),
                                                ("ok", b"<title>fine</title>")]
    assert got[1].error == "timeout after 1 s"
    assert len(connections) == 2


def test_a_cookie_a_site_sets_goes_back_to_it_and_to_no_other_host(server: LocalServer) -> None:
    """A challenge page that sets a cookie and redirects expects it on the next request."""
    other = LocalServer().start()
    seen: dict[str, str | None] = {}

    def record(name: str):  # type: ignore[no-untyped-def]
        def handler(req) -> None:  # type: ignore[no-untyped-def]
            seen[name] = req.headers.get("Cookie")
            reply(200, f"<title>{name}</title>")(req)
        return handler

    try:
        server.routes["/check"] = reply(302, b"", {"Location": "/article", "Set-Cookie": "pass=abc123; Path=/"})
        server.routes["/article"] = record("article")
        other.routes["/elsewhere"] = record("elsewhere")
        settings = Settings(concurrency=1, per_host=1, delay=0, timeout=3, robots=False)
        first = one(server.url("/check"), settings)
        assert first.state == "ok" and first.final_url == server.url("/article")
        assert seen["article"] == "pass=abc123"

        async def both() -> list[Response]:
            reqs = [Request(0, server.url("/check")),
                    Request(1, other.url("/elsewhere").replace("127.0.0.1", "localhost"))]
            return [r async for r in fetch_all(reqs, settings)]

        assert {r.state for r in asyncio.run(both())} == {"ok"}
        assert seen["elsewhere"] is None  # cookies belong to a host name (any port of it), and this is another
    finally:
        other.stop()


def test_a_hosts_requests_in_flight_never_pass_per_host() -> None:
    """With a global cap well above it, one host still gets at most `per_host` requests at a time."""
    live, peak, lock = [0], [0], __import__("threading").Lock()

    def slow(conn: socket.socket) -> None:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.15)
        with lock:
            live[0] -= 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    raw = RawServer(slow)
    try:
        responses = fetch([raw.url + f"/{i}" for i in range(8)], Settings(concurrency=10, per_host=2, delay=0,
                                                                           robots=False))
    finally:
        raw.stop()
    assert [r.state for r in responses] == ["ok"] * 8
    assert peak[0] == 2  # two at a time: the cap, and used


def test_the_delay_alone_spaces_a_hosts_requests(server: LocalServer) -> None:
    starts: list[float] = []

    def stamp(req: BaseHTTPRequestHandler) -> None:
        starts.append(time.monotonic())
        reply(200, "<title>x</title>")(req)

    server.routes["/p"] = stamp  # no robots.txt here: the spacing is --delay's own
    fetch([server.url("/p")] * 3, Settings(delay=0.3, per_host=3, robots=True))
    assert len(starts) == 3 and min(b - a for a, b in itertools.pairwise(starts)) >= 0.28


def test_every_request_names_the_tool_in_its_user_agent(server: LocalServer) -> None:
    from tracker import config

    server.routes["/p"] = reply(200, "<title>x</title>")
    fetch([server.url("/p")], Settings(delay=0, robots=True))
    agents = {path: headers.get("User-Agent") for _, path, headers in server.requests}
    assert set(agents) == {"/robots.txt", "/p"}
    assert set(agents.values()) == {config.USER_AGENT}
    assert config.USER_AGENT.startswith("tracker/") and "+http" in config.USER_AGENT  # a name and where to read


def test_the_polite_defaults_are_one_request_per_host_a_second_apart() -> None:
    for settings in (Settings(), Settings.given(concurrency=None, per_host=None, delay=None)):
        assert (settings.per_host, settings.delay, settings.max_bytes, settings.max_redirects) == (1, 1.0, 5_000_000, 5)


def test_a_page_on_a_public_address_may_not_redirect_to_this_machine(server: LocalServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests' server is on 127.0.0.1; here the crawl takes that address for a public one, as a
    site on the internet would be, and `localhost` stays what it is."""
    from tracker.crawl import netguard

    real = netguard.host_class

    async def as_public(host: str, resolve: netguard.Resolver = netguard.system_resolver) -> str:
        return netguard.PUBLIC if host == "127.0.0.1" else await real(host, resolve)

    monkeypatch.setattr(netguard, "host_class", as_public)
    port = server.url("").rsplit(":", 1)[1]
    server.routes["/to-local"] = redirect(f"http://localhost:{port}/inside")
    server.routes["/to-public"] = redirect(server.url("/inside"))
    server.routes["/inside"] = reply(200, "<title>inside</title>")
    refused, allowed = fetch([server.url("/to-local"), server.url("/to-public")])
    assert refused.state == "error" and "redirect to a loopback address refused" in (refused.error or "")
    assert allowed.state == "ok"
    assert [p for _, p, _ in server.requests].count("/inside") == 1
    assert netguard.allowed_hop("loopback", "loopback") and netguard.allowed_hop("private", "public")
    assert not netguard.allowed_hop("public", "private") and not netguard.allowed_hop("public", "link-local")


@pytest.mark.parametrize(("encoding", "error"), [("gzip", "corrupt gzip body"),
                                                 ("compress", "unsupported content encoding compress")])
def test_a_body_that_cannot_be_decoded_is_an_error(server: LocalServer, encoding: str, error: str) -> None:
    server.routes["/z"] = reply(200, b"this is not compressed at all", {"Content-Encoding": encoding})
    response = one(server.url("/z"))
    assert (response.state, response.error) == ("error", error)


def test_last_modified_is_sent_back_and_a_304_is_unchanged(server: LocalServer) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"

    def page(req: BaseHTTPRequestHandler) -> None:
        if req.headers.get("If-Modified-Since") == stamp:
            return reply(304, b"")(req)
        return reply(200, "<title>x</title>", {"Last-Modified": stamp})(req)

    server.routes["/m"] = page
    first = one(server.url("/m"))
    assert first.state == "ok" and first.headers["last-modified"] == stamp
    again = one(Request(key=1, url=server.url("/m"), last_modified=stamp))
    assert (again.state, again.http_status) == ("unchanged", 304)


def test_a_spent_rate_limit_holds_the_hosts_next_request_until_it_resets(server: LocalServer) -> None:
    """GitHub's headers: none left until the reset time (epoch seconds)."""
    starts: list[float] = []

    def limited(req: BaseHTTPRequestHandler) -> None:
        starts.append(time.time())
        reset = str(int(time.time()) + 2)
        reply(200, "{}", {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})(req)

    server.routes["/api"] = limited
    fetch([server.url("/api")] * 2, Settings(delay=0, per_host=1, robots=False))
    assert len(starts) == 2 and starts[1] >= int(starts[0]) + 2 - 0.05


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """Keep-alive promised, then the server hangs up while the connection is idle: the next request opens a
    fresh connection instead of failing on the dead one."""
    def once(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")

    raw = RawServer(once)
    try:
        got = fetch([raw.url + f"/{i}" for i in range(3)], Settings(concurrency=1, per_host=1, delay=0.2, timeout=3,
                                                                     robots=False))
    finally:
        raw.stop()
    assert [(r.state, r.body) for r in got] == [("ok", b"ok")] * 3
    assert raw.connections == 3


class _TLSServer:
    """A loopback HTTPS server with a certificate from a throwaway authority (trustme)."""

    def __init__(self, context: object) -> None:
        import ssl
        import threading
        from http.server import ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                reply(200, f"<title>secure {self.path}</title>")(self)

            def log_message(self, *args: object) -> None:
                pass

        assert isinstance(context, ssl.SSLContext)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_https_is_verified_against_the_trusted_authorities(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """An authority the machine does not trust is refused (an error, not an exception escaping); one it is told
    to trust (SSL_CERT_FILE, as httpx reads it) is accepted, and its connection kept alive."""
    import ssl

    import trustme

    authority = trustme.CA()
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1").configure_cert(server_side)
    server = _TLSServer(server_side)
    try:
        refused = one(server.url + "/a")
        assert refused.state == "error" and "certificate" in (refused.error or "").lower()
        bundle = tmp_path / "ca.pem"
        authority.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
        got = fetch([server.url + "/a", server.url + "/b"], Settings(concurrency=1, per_host=1, delay=0, robots=False))
        assert [(r.state, r.body) for r in got] == [("ok", b"<title>secure /a</title>"),
                                                    ("ok", b"<title>secure /b</title>")]
    finally:
        server.stop()


def test_a_host_name_that_cannot_be_a_host_name_is_an_error_not_offline() -> None:
    response = one("http://" + "a" * 64 + ".example/page")  # a label over 63 characters: IDNA refuses it
    assert response.state == "error" and response.cause is None and "invalid host name" in (response.error or "")
