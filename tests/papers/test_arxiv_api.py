"""The arXiv API and feed clients against a real local server speaking arXiv's formats."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from tests.conftest import LocalServer, reply
from tests.papers.arxiv_fixtures import FakeArxiv, Paper, days_ago, entry, error_feed, feed, rss
from tracker.papers import arxiv_api, feeds
from tracker.papers.limiter import Limiter

Q = 'cat:cs.LG AND abs:"graph neural network"'


def _api(server: LocalServer, fake: FakeArxiv) -> str:
    server.routes["/api/query"] = fake
    return server.url("/api/query")


def _papers(n: int, gap_days: float = 1.0) -> list[Paper]:
    return [Paper(f"2411.{i:05d}", title=f"Paper {i}", published=days_ago(i * gap_days)) for i in range(1, n + 1)]


def test_pages_newest_first_until_the_end(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(5)})
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0),
                                      page_size=2)
    assert error is None
    assert [r.arxiv_id for r in records] == [f"2411.{i:05d}" for i in range(1, 6)]
    assert [(c["start"], c["max_results"]) for c in fake.calls] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert all(c["sortBy"] == "submittedDate" and c["sortOrder"] == "descending" and c["search_query"] == Q
               for c in fake.calls)
    first = records[0]
    assert first.authors == ("Ada Lovelace", "Alan Turing") and first.categories == ("cs.LG", "stat.ML")
    assert first.primary_category == "cs.LG" and first.abs_url == "https://arxiv.org/abs/2411.00001"
    assert first.pdf_url == "http://arxiv.org/pdf/2411.00001v1" and first.published == days_ago(1)


def test_stops_at_the_first_paper_older_than_the_window(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(12)})
    records, error = arxiv_api.search(Q, days_ago(3.5), endpoint=_api(server, fake), limiter=Limiter(0),
                                      page_size=2)
    assert error is None and [r.arxiv_id for r in records] == ["2411.00001", "2411.00002", "2411.00003"]
    assert [c["start"] for c in fake.calls] == ["0", "2"]  # page 2 crossed the window: no page 3


def test_max_results_caps_a_query(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(12)})
    records, _ = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0),
                                  page_size=5, max_results=7)
    assert len(records) == 7 and [c["max_results"] for c in fake.calls] == ["5", "2"]


def test_an_empty_page_mid_result_is_asked_again(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(4)}, empty_once_at={2})
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0),
                                      page_size=2)
    assert error is None and len(records) == 4
    assert [c["start"] for c in fake.calls] == ["0", "2", "2"]


def test_an_always_empty_page_is_reported_after_bounded_retries(server: LocalServer) -> None:
    fake = FakeArxiv(script=[(200, feed([entry(p) for p in _papers(2)], 10, 0, 2), {})]
                     + [(200, feed([], 10, 2, 0), {})] * 10)
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0),
                                      page_size=2, retries=2)
    assert len(records) == 2  # what came before the failure is kept
    assert error is not None and "empty page at 2 of 10" in error
    assert len(fake.calls) == 1 + 3


def test_429_with_retry_after_then_success(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(1)}, script=[(429, b"slow down", {"Retry-After": "1"})])
    start = time.monotonic()
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0))
    assert error is None and len(records) == 1
    assert time.monotonic() - start >= 0.95  # the server's wait was honoured
    assert len(fake.calls) == 2


def test_503_twice_then_success_and_503_for_ever_fails(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(1)}, script=[(503, b"", {})] * 2)
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0))
    assert error is None and len(records) == 1 and len(fake.calls) == 3
    fake = FakeArxiv(script=[(503, b"", {})] * 10)
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0),
                                      retries=2)
    assert records == [] and error is not None and "HTTP 503" in error and len(fake.calls) == 3


def test_error_entry_is_reported_with_its_text(server: LocalServer) -> None:
    fake = FakeArxiv(script=[(200, error_feed("malformed query: unbalanced quotes"), {})] * 5)
    records, error = arxiv_api.search('abs:"oops', days_ago(30), endpoint=_api(server, fake),
                                      limiter=Limiter(0), retries=1)
    assert records == [] and error == "arXiv error: malformed query: unbalanced quotes"
    assert len(fake.calls) == 2


def test_malformed_xml_is_an_error_not_an_exception(server: LocalServer) -> None:
    fake = FakeArxiv(script=[(200, b"<feed><entry>", {})] * 5)
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0), retries=0)
    assert records == [] and error is not None and "malformed Atom" in error


def test_versions_and_metadata_are_parsed(server: LocalServer) -> None:
    paper = Paper("2411.00042", version=3, title="A   title\n  across lines", doi="10.1000/xyz",
                  journal_ref="NeurIPS 2026", comment="12 pages", updated=days_ago(0.5))
    fake = FakeArxiv(papers={"2411.00042": paper, "hep-th/9901001": Paper("hep-th/9901001", version=2,
                                                                          categories=("hep-th",))})
    records, errors = arxiv_api.lookup(["2411.00042", "hep-th/9901001"], endpoint=_api(server, fake),
                                       limiter=Limiter(0))
    assert errors == []
    new, old = records
    assert (new.arxiv_id, new.version, new.title) == ("2411.00042", 3, "A title across lines")
    assert (new.doi, new.journal_ref, new.comment, new.updated) == ("10.1000/xyz", "NeurIPS 2026", "12 pages",
                                                                    days_ago(0.5))
    assert (old.arxiv_id, old.version, old.primary_category) == ("hep-th/9901001", 2, "hep-th")


def test_id_lookup_goes_a_hundred_at_a_time(server: LocalServer) -> None:
    ids = [f"2411.{i:05d}" for i in range(250)]
    fake = FakeArxiv(papers={i: Paper(i) for i in ids})
    records, errors = arxiv_api.lookup(ids, endpoint=_api(server, fake), limiter=Limiter(0))
    assert errors == [] and sorted(r.arxiv_id for r in records) == ids
    assert [len(c["id_list"].split(",")) for c in fake.calls] == [100, 100, 50]


def test_deadline_bounds_a_server_that_never_answers(server: LocalServer) -> None:
    def slow(req):  # type: ignore[no-untyped-def]
        time.sleep(3)
        reply(200, b"")(req)

    server.routes["/api/query"] = slow
    start = time.monotonic()
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=server.url("/api/query"), limiter=Limiter(0),
                                      deadline=0.5, retries=0)
    assert records == [] and error is not None and "timed out" in error
    assert time.monotonic() - start < 2.5


def test_feed_parses_new_cross_and_replace(server: LocalServer) -> None:
    items = [(Paper("2411.10001", title="New one", abstract="About graphs."), "new"),
             (Paper("2411.10002", version=1, categories=("stat.ML", "cs.LG")), "cross"),
             (Paper("2301.00001", version=4), "replace")]
    server.routes["/rss/cs.LG+stat.ML"] = reply(200, rss(items), {"Content-Type": "application/rss+xml"})
    records, error = feeds.fetch_feed(["cs.LG", "stat.ML"], endpoint=server.url("/rss"), limiter=Limiter(0))
    assert error is None
    assert [(r.arxiv_id, r.version, r.announce_type) for r in records] == [
        ("2411.10001", 1, "new"), ("2411.10002", 1, "cross"), ("2301.00001", 4, "replace")]
    assert records[0].abstract == "About graphs." and records[0].title == "New one"
    assert records[0].authors == ("Ada Lovelace", "Alan Turing")
    assert records[1].primary_category == "stat.ML"
    assert records[0].published == datetime(2026, 11, 25, 5, 0)


def test_feed_failure_is_an_error_line(server: LocalServer) -> None:
    server.routes["/rss/cs.LG"] = reply(404, "no such feed")
    records, error = feeds.fetch_feed(["cs.LG"], endpoint=server.url("/rss"), limiter=Limiter(0), retries=0)
    assert records == [] and error is not None and "HTTP 404" in error


def test_limiter_spaces_requests_from_end_to_start() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = Limiter(3.0, clock=lambda: now[0], sleep=sleep)
    with limiter.slot():
        now[0] += 1.0  # the request takes a second
    now[0] += 0.5
    with limiter.slot():
        pass
    assert slept == [pytest.approx(2.5)]


def test_one_limiter_spaces_api_and_feed_calls(server: LocalServer) -> None:
    fake = FakeArxiv(by_query={Q: _papers(1)})
    server.routes["/rss/cs.LG"] = reply(200, rss([]))
    limiter = Limiter(0.3)
    start = time.monotonic()
    arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=limiter)
    feeds.fetch_feed(["cs.LG"], endpoint=server.url("/rss"), limiter=limiter)
    arxiv_api.lookup(["2411.00001"], endpoint=server.url("/api/query"), limiter=limiter)
    assert time.monotonic() - start >= 0.6


def test_doi_and_journal_reference_in_either_spelling() -> None:
    from tracker.papers.atom import parse_page

    body = entry(Paper("2411.00050", doi="10.1/a", journal_ref="JMLR 1")).replace("arxiv:doi", "arxiv:DOI").replace(
        "arxiv:journal_ref", "arxiv:journal_reference")
    (record,) = parse_page(feed([body], 1, 0, 1)).records
    assert (record.doi, record.journal_ref) == ("10.1/a", "JMLR 1")


def test_a_refused_connection_ends_the_run_at_once(server: LocalServer) -> None:
    import socket

    from tracker.papers import http

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/query"
    start = time.monotonic()
    refused = r"arXiv unreachable: cannot reach 127\.0\.0\.1:\d+ \(connection refused\)"
    with pytest.raises(http.Unreachable, match=refused):
        arxiv_api.search(Q, days_ago(30), endpoint=closed, limiter=Limiter(0))
    with pytest.raises(http.Unreachable):
        arxiv_api.lookup(["2411.00001"], endpoint=closed, limiter=Limiter(0))
    with pytest.raises(http.Unreachable):
        feeds.fetch_feed(["cs.LG"], endpoint=closed.replace("/api/query", "/rss"), limiter=Limiter(0))
    assert time.monotonic() - start < 2  # no retries, no back-off


def test_a_timeout_is_tried_once_more_and_a_5xx_up_to_the_retries(server: LocalServer) -> None:
    calls: list[float] = []

    def slow(req):  # type: ignore[no-untyped-def]
        calls.append(time.monotonic())
        time.sleep(1.5)
        reply(200, b"")(req)

    server.routes["/api/query"] = slow
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=server.url("/api/query"), limiter=Limiter(0),
                                      deadline=0.4, retries=3)
    assert records == [] and error == "timed out after 0.4 s after 2 attempt(s)"
    assert len(calls) == 2


def test_a_server_that_answers_slowly_then_stalls_is_cut_at_the_request_deadline(server: LocalServer) -> None:
    """Each read within httpx's timeout, the whole exchange not: the wall clock decides."""
    def stalling(req):  # type: ignore[no-untyped-def]
        time.sleep(0.7)
        req.send_response(200)
        req.send_header("Content-Length", "100000")
        req.end_headers()
        req.wfile.write(b"<?xml version='1.0'?><feed>")
        req.wfile.flush()
        time.sleep(3)

    server.routes["/api/query"] = stalling
    start = time.monotonic()
    records, error = arxiv_api.search(Q, days_ago(30), endpoint=server.url("/api/query"), limiter=Limiter(0),
                                      deadline=1.0, retries=0)
    took = time.monotonic() - start
    assert records == [] and error is not None and "timed out" in error
    assert took < 1.5, took  # not 0.7 s to the headers plus a whole read timeout after them


def test_the_run_deadline_cuts_a_request_and_every_wait(server: LocalServer) -> None:
    from tracker.papers import http

    def slow(req):  # type: ignore[no-untyped-def]
        time.sleep(3)
        reply(200, b"")(req)

    server.routes["/api/query"] = slow
    start = time.monotonic()
    with pytest.raises(http.OutOfTime, match="total deadline"):
        arxiv_api.search(Q, days_ago(30), endpoint=server.url("/api/query"), limiter=Limiter(0, deadline=0.6))
    assert time.monotonic() - start < 1.5
    # A server asking to wait longer than the run has left: the run stops instead of sleeping.
    fake = FakeArxiv(script=[(503, b"", {"Retry-After": "30"})])
    start = time.monotonic()
    with pytest.raises(http.OutOfTime):
        arxiv_api.search(Q, days_ago(30), endpoint=_api(server, fake), limiter=Limiter(0, deadline=5))
    assert time.monotonic() - start < 1 and len(fake.calls) == 1


@pytest.mark.parametrize(("message", "words"), [
    ("[Errno 111] Connection refused", "connection refused"),
    ("[Errno -2] Name or service not known", "name not resolved"),
    ("[Errno -3] Temporary failure in name resolution", "name not resolved"),
    ("[Errno 113] No route to host", "no route to host"),
    ("[Errno 101] Network is unreachable", "network unreachable"),
])
def test_why_arxiv_cannot_be_reached_is_said_in_words(message: str, words: str) -> None:
    import httpx

    from tracker.papers.http import _unreachable

    line = _unreachable("https://export.arxiv.org/api/query?x=1", httpx.ConnectError(message))
    assert line == f"arXiv unreachable: cannot reach export.arxiv.org ({words})"
