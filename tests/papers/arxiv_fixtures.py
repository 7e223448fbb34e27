"""Atom pages and RSS feeds in arXiv's formats, written by the tests, and a fake API to serve them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

# A fetch's first window reaches back 14 days from the real clock, so papers made without a date are
# published a few days before the tests run (a fixed date would fall out of the window as time passes).
RECENT = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0) - timedelta(days=3)


@dataclass(frozen=True)
class Paper:
    """A paper as the fake arXiv knows it."""

    arxiv_id: str
    version: int = 1
    title: str = "A title"
    abstract: str = "An abstract."
    published: datetime = RECENT
    updated: datetime | None = None
    authors: tuple[str, ...] = ("Ada Lovelace", "Alan Turing")
    categories: tuple[str, ...] = ("cs.LG", "stat.ML")
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(p: Paper) -> str:
    """One Atom <entry> as the API writes it."""
    vid = f"{p.arxiv_id}v{p.version}"
    extra = ""
    if p.doi:
        extra += f'<arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">{p.doi}</arxiv:doi>\n'
        extra += f'<link title="doi" href="https://dx.doi.org/{p.doi}" rel="related"/>\n'
    if p.journal_ref:
        extra += f'<arxiv:journal_ref xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(p.journal_ref)}</arxiv:journal_ref>\n'
    if p.comment:
        extra += f'<arxiv:comment xmlns:arxiv="http://arxiv.org/schemas/atom">{escape(p.comment)}</arxiv:comment>\n'
    authors = "".join(f"<author>\n  <name>{escape(a)}</name>\n</author>\n" for a in p.authors)
    cats = "".join(f'<category term="{c}" scheme="http://arxiv.org/schemas/atom"/>\n' for c in p.categories)
    return (f"<entry>\n<id>http://arxiv.org/abs/{vid}</id>\n"
            f"<updated>{_time(p.updated or p.published)}</updated>\n<published>{_time(p.published)}</published>\n"
            f"<title>{escape(p.title)}</title>\n<summary>  {escape(p.abstract)}\n</summary>\n{authors}{extra}"
            f'<link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>\n'
            f'<link title="pdf" href="http://arxiv.org/pdf/{vid}" rel="related" type="application/pdf"/>\n'
            f'<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{p.categories[0]}" '
            f'scheme="http://arxiv.org/schemas/atom"/>\n{cats}</entry>\n')


def feed(entries: list[str], total: int, start: int, per_page: int, query: str = "") -> bytes:
    """An API response page."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f'<link href="http://arxiv.org/api/query?search_query={escape(query)}" rel="self" '
            f'type="application/atom+xml"/>\n<title type="html">ArXiv Query: {escape(query)}</title>\n'
            f"<id>http://arxiv.org/api/abc</id>\n<updated>2026-11-25T00:00:00-05:00</updated>\n"
            f'<opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{total}'
            f"</opensearch:totalResults>\n"
            f'<opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{start}'
            f"</opensearch:startIndex>\n"
            f'<opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{per_page}'
            f"</opensearch:itemsPerPage>\n" + "".join(entries) + "</feed>\n").encode()


def error_feed(message: str) -> bytes:
    """The API's answer to a malformed query: a feed holding one error entry."""
    return feed([f"<entry>\n<id>http://arxiv.org/api/errors#{message.replace(' ', '_')}</id>\n"
                 f"<title>Error</title>\n<summary>{escape(message)}</summary>\n"
                 f"<updated>2026-11-25T00:00:00-05:00</updated>\n<link href=\"http://arxiv.org/api/errors#x\" "
                 f'rel="alternate" type="text/html"/>\n<author>\n<name>arXiv api core</name>\n</author>\n'
                 f"</entry>\n"], 1, 0, 1)


def rss(items: list[tuple[Paper, str]], categories: str = "cs.LG+stat.ML") -> bytes:
    """A rss.arxiv.org listing feed; each item is (paper, announce type)."""
    body = []
    for p, kind in items:
        body.append(
            f"<item>\n<title>{escape(p.title)}</title>\n<link>https://arxiv.org/abs/{p.arxiv_id}</link>\n"
            f"<description>arXiv:{p.arxiv_id}v{p.version} Announce Type: {kind} \nAbstract: "
            f"{escape(p.abstract)}</description>\n"
            f'<guid isPermaLink="false">oai:arXiv.org:{p.arxiv_id}v{p.version}</guid>\n'
            + "".join(f"<category>{c}</category>\n" for c in p.categories)
            + f"<pubDate>Tue, 25 Nov 2026 00:00:00 -0500</pubDate>\n<arxiv:announce_type>{kind}"
            f"</arxiv:announce_type>\n<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>\n"
            f"<dc:creator>{escape(', '.join(p.authors))}</dc:creator>\n</item>\n")
    return ('<?xml version=\'1.0\' encoding=\'UTF-8\'?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n<channel>\n'
            f"<title>{categories} updates on arXiv.org</title>\n<link>http://rss.arxiv.org/rss/{categories}</link>\n"
            f"<description>{categories} updates on the arXiv.org e-print archive.</description>\n"
            "<language>en-us</language>\n<lastBuildDate>Tue, 25 Nov 2026 00:30:00 +0000</lastBuildDate>\n"
            + "".join(body) + "</channel>\n</rss>\n").encode()


@dataclass
class FakeArxiv:
    """Answers /api/query like arXiv: a search query over its papers, newest first, or an id list."""

    by_query: dict[str, list[Paper]] = field(default_factory=dict)
    papers: dict[str, Paper] = field(default_factory=dict)
    script: list[tuple[int, bytes, dict[str, str]]] = field(default_factory=list)  # forced answers, in order
    empty_once_at: set[int] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)  # queries answered with 500, always
    calls: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, req: BaseHTTPRequestHandler) -> None:
        params = {k: v[0] for k, v in parse_qs(urlsplit(req.path).query, keep_blank_values=True).items()}
        self.calls.append(params)
        if self.script:
            status, body, headers = self.script.pop(0)
            return _send(req, status, body, headers)
        if params.get("search_query") in self.failing:
            return _send(req, 500, b"internal error")
        start, size = int(params.get("start", "0")), int(params.get("max_results", "10"))
        if params.get("id_list"):
            found = [self.papers[i] for i in params["id_list"].split(",") if i in self.papers]
            return _send(req, 200, feed([entry(p) for p in found], len(found), 0, len(found)))
        matches = sorted(self.by_query.get(params.get("search_query", ""), []),
                         key=lambda p: p.published, reverse=True)
        if start in self.empty_once_at:
            self.empty_once_at.discard(start)
            return _send(req, 200, feed([], len(matches), start, 0))
        page = matches[start:start + size]
        return _send(req, 200, feed([entry(p) for p in page], len(matches), start, size, params["search_query"]))


def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    req.send_response(status)
    for name, value in {"Content-Type": "application/atom+xml; charset=utf-8", **(headers or {})}.items():
        req.send_header(name, value)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def days_ago(n: float, now: datetime = datetime(2026, 11, 25, 8, 0)) -> datetime:
    """A time `n` days before the tests' fixed now."""
    return now - timedelta(days=n)
