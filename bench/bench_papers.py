"""Ingesting 30,000 arXiv papers: parsing, the store's database work, and plain executemany.

Prints: lxml vs feedparser on one 2,000-entry Atom page; `store_papers` (upsert, dedup, tagging)
against `sqlite3.executemany` of the same item, paper and tag rows; the same papers stored again
unchanged (compared, marked as checked); and a whole `papers fetch` against a local server
answering pages of 2,000 with no delay.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.papers.arxiv_fixtures import FakeArxiv, Paper, entry, feed  # noqa: E402
from tracker.papers.atom import parse_page  # noqa: E402
from tracker.papers.store import store_papers  # noqa: E402
from tracker.store import db as dbmod  # noqa: E402
from tracker.topics import Classifier, seed_topic_defs  # noqa: E402

N, PAGE = 30_000, 2000
NOW = datetime(2026, 11, 25)


def papers() -> list[Paper]:
    """Abstract-sized papers, newest first."""
    text = "We propose a graph neural network for molecular property prediction with attention. " * 12
    return [Paper(f"2411.{i:05d}", title=f"Graph neural network study {i}", abstract=text,
                  published=NOW - timedelta(minutes=i)) for i in range(N)]


def main() -> None:
    """Run the three measurements and print them."""
    ps = papers()
    page = feed([entry(p) for p in ps[:PAGE]], N, 0, PAGE)
    start = time.perf_counter()
    parse_page(page)
    lxml_s = time.perf_counter() - start
    try:
        import feedparser
    except ImportError:  # not a dependency: only the comparison needs it
        print(f"one {PAGE}-entry page ({len(page) / 1e6:.1f} MB): lxml {lxml_s:.2f} s (feedparser not installed)")
    else:
        start = time.perf_counter()
        feedparser.parse(page)
        print(f"one {PAGE}-entry page ({len(page) / 1e6:.1f} MB): lxml {lxml_s:.2f} s, "
              f"feedparser {time.perf_counter() - start:.2f} s")

    all_records = []
    for i in range(0, N, PAGE):
        all_records += parse_page(feed([entry(p) for p in ps[i:i + PAGE]], N, i, PAGE)).records
    classifier = Classifier(seed_topic_defs(ROOT / "seeds"))
    with tempfile.TemporaryDirectory() as tmp:
        database = dbmod.open_db(f"sqlite:///{tmp}/s.db")
        tags = {r.arxiv_id: classifier.tags(f"{r.title}. {r.abstract}") for r in all_records}
        start = time.perf_counter()
        with database.write() as conn:
            for i in range(0, N, PAGE):
                store_papers(conn, all_records[i:i + PAGE], NOW, query_slug="gnn", classifier=classifier)
        store_s = time.perf_counter() - start
        # The same papers seen again (a topic's window overlaps the last one; the weekly version check):
        # each compared with what is stored and marked as checked, nothing else written.
        start = time.perf_counter()
        with database.write() as conn:
            for i in range(0, N, PAGE):
                store_papers(conn, all_records[i:i + PAGE], NOW + timedelta(days=1), query_slug="gnn")
        again_s = time.perf_counter() - start
        database.close()
        start = time.perf_counter()
        for r in all_records:
            classifier.tags(f"{r.title}. {r.abstract}")
        classify_s = time.perf_counter() - start
        base = dbmod.open_db(f"sqlite:///{tmp}/b.db")
        base.close()
        conn3 = sqlite3.connect(f"{tmp}/b.db")
        start = time.perf_counter()
        with conn3:
            conn3.executemany("INSERT INTO item (key, url, arxiv_id, title, kind, status, source, section, position,"
                              " retired, notes, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                              [(f"arxiv:{r.arxiv_id}", r.abs_url, r.arxiv_id, r.title, "paper", "inbox", "arxiv", "",
                                0, 0, "", str(NOW)) for r in all_records])
            conn3.executemany("INSERT INTO paper (item_id, arxiv_id, version, title, authors, abstract, categories,"
                              " primary_category, published, updated, abs_url, pdf_url, fetched_at)"
                              " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                              [(i + 1, r.arxiv_id, r.version, r.title, json.dumps(r.authors), r.abstract,
                                json.dumps(r.categories), r.primary_category, str(r.published), str(r.updated),
                                r.abs_url, r.pdf_url, str(NOW)) for i, r in enumerate(all_records)])
            conn3.executemany("INSERT INTO itemtopic (item_id, slug, origin, score) VALUES (?,?,?,?)",
                              [(i + 1, s, o, v) for i, r in enumerate(all_records)
                               for s, o, v in [("gnn", "query", 1.0)] + [(t, "auto", sc) for t, sc in
                                                                          tags[r.arxiv_id] if t != "gnn"]])
        plain_s = time.perf_counter() - start
        print(f"store {N}: {store_s:.2f} s including classification ({classify_s:.2f} s of it); "
              f"database work {store_s - classify_s:.2f} s; plain executemany {plain_s:.2f} s; "
              f"ratio {(store_s - classify_s) / plain_s:.2f}")
        print(f"the same {N} seen again, unchanged: {again_s:.2f} s")

        fake = FakeArxiv(by_query={'abs:"graph neural network"': ps})
        from tests.conftest import LocalServer

        server = LocalServer().start()
        server.routes["/api/query"] = fake
        os.environ.update(TRACKER_ARXIV_API_URL=server.url("/api/query"), TRACKER_ARXIV_DELAY="0",
                          TRACKER_ARXIV_RSS_URL=server.url("/rss"), NO_PROXY="127.0.0.1")
        from tracker.papers.fetch import fetch_papers
        from tracker.topics import TopicDef

        run_db = dbmod.open_db(f"sqlite:///{tmp}/r.db")
        topic = TopicDef(slug="gnn", title="图神经网络", parent=None, group=1, position=0,
                         aliases=("graph neural network",), query='abs:"graph neural network"', categories=())
        start = time.perf_counter()
        summary = fetch_papers(run_db, [topic], days=30, page_size=PAGE, now=NOW + timedelta(minutes=1))
        print(f"whole fetch of {summary.fetched} papers from a local server: {time.perf_counter() - start:.2f} s "
              f"({summary.new} new)")
        server.stop()


if __name__ == "__main__":
    main()
