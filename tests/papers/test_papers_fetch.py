"""`tracker papers fetch` end to end: topics' queries, feeds, outline links, windows, failures."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import LocalServer, reply
from tests.papers.arxiv_fixtures import FakeArxiv, Paper, rss
from tracker.store import db as dbmod

GNN_Q = 'cat:cs.LG AND abs:"graph neural network"'
GAN_Q = 'cat:cs.LG AND abs:"generative adversarial"'
TOPICS = f"""
[[topic]]
slug = "gnn"
title = "图神经网络"
aliases = ["graph neural network", "GCN", "图神经网络"]
query = '{GNN_Q}'
categories = ["cs.LG"]

[[topic]]
slug = "gan"
title = "生成对抗网络"
aliases = ["generative adversarial network", "GAN", "生成对抗网络"]
query = '{GAN_Q}'
categories = ["cs.LG", "stat.ML"]
"""
OUTLINE = """# 深度学习

## 主要内容

图神经网络

生成对抗网络

## 资料

- [ResNet](https://arxiv.org/abs/1512.03385v1)
"""


@pytest.fixture
def workspace(tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> FakeArxiv:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "dl.md").write_text(OUTLINE, encoding="utf-8")
    (seeds / "dl.topics.toml").write_text(TOPICS, encoding="utf-8")
    fake = FakeArxiv()
    server.routes["/api/query"] = fake
    server.routes["/rss/cs.LG+stat.ML"] = reply(200, rss([]))
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", server.url("/api/query"))
    monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", server.url("/rss"))
    return fake


def test_fetch_stores_tags_and_dedupes_then_adds_nothing_the_second_time(cli, workspace: FakeArxiv,
                                                                          server: LocalServer) -> None:
    both = Paper("2411.00003", title="A graph neural network that is also a GAN")
    workspace.by_query = {
        GNN_Q: [Paper("2411.00001", title="Message passing graph neural network"), both],
        GAN_Q: [Paper("2411.00002", title="Stable generative adversarial network training"), both],
    }
    workspace.papers = {"1512.03385": Paper("1512.03385", title="Deep Residual Learning for Image Recognition",
                                            authors=("Kaiming He",))}
    server.routes["/rss/cs.LG+stat.ML"] = reply(200, rss([
        (Paper("2411.10001", title="Spectral graph neural network pooling"), "new"),
        (Paper("2411.10002", title="A GAN for tabular data"), "cross"),
        (Paper("2301.00001", title="Graph neural network, revised"), "replace"),
        (Paper("2411.10003", title="Protein folding"), "new"),
    ]))
    cli("import")
    summary = cli.json("papers", "fetch")
    assert summary["queries"] == 2
    assert (summary["new"], summary["resolved"]) == (5, 1)
    assert summary["topics"] == {"gnn": 3, "gan": 3}
    assert summary["errors"] == []
    inbox = cli.json("papers", "inbox")
    assert sorted(r["arxiv_id"] for r in inbox) == ["2411.00001", "2411.00002", "2411.00003", "2411.10001",
                                                    "2411.10002"]
    shared = next(r for r in inbox if r["arxiv_id"] == "2411.00003")
    assert sorted(shared["topics"]) == ["gan", "gnn"]
    resnet = cli.json("show", "1512.03385")
    assert resnet["status"] == "unread" and resnet["title"] == "ResNet"
    assert resnet["paper"]["authors"] == ["Kaiming He"]
    assert cli.json("progress")["total"] == 1  # inbox papers are not on the reading list

    calls = len(workspace.calls)
    again = cli.json("papers", "fetch")
    assert (again["new"], again["updated"], again["resolved"]) == (0, 0, 0)
    assert len(cli.json("papers", "inbox")) == 5
    assert len(workspace.calls) == calls + 2  # the outline link is resolved once, not every run


def test_the_window_starts_two_days_before_the_last_success(cli, workspace: FakeArxiv, database) -> None:
    from sqlalchemy import update

    from tracker.papers.fetch import topic_fetch_t

    now = dbmod.utcnow()
    workspace.by_query = {GNN_Q: [Paper(f"2411.{i:05d}", published=now - timedelta(days=i, hours=1))
                                  for i in range(0, 20)]}
    cli("import")
    first = cli.json("papers", "fetch", "--topic", "gnn")
    assert first["topics"] == {"gnn": 14}  # the first run looks back 14 days
    with database.write() as conn:
        conn.execute(update(topic_fetch_t).values(last_success=now - timedelta(days=5)))
    second = cli.json("papers", "fetch", "--topic", "gnn")
    assert second["topics"] == {"gnn": 7} and second["new"] == 0  # 5 days since, plus 2 of overlap
    assert cli.json("papers", "fetch", "--topic", "gnn", "--days", "17")["topics"] == {"gnn": 17}


def test_a_failing_topic_keeps_what_the_others_brought(cli, workspace: FakeArxiv) -> None:
    workspace.by_query = {GAN_Q: [Paper("2411.00002", title="GAN things")]}
    workspace.failing = {GNN_Q}
    cli("import")
    result = cli("papers", "fetch", "--json")
    summary = __import__("json").loads(result.stdout)
    assert summary["new"] == 1 and summary["topics"]["gan"] == 1
    assert len(summary["errors"]) == 1 and summary["errors"][0].startswith("gnn: HTTP 500")
    assert [r["arxiv_id"] for r in cli.json("papers", "inbox")] == ["2411.00002"]


def test_no_network_records_failures_and_exits_zero(cli, tmp_path: Path, monkeypatch) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "dl.md").write_text(OUTLINE, encoding="utf-8")
    (seeds / "dl.topics.toml").write_text(TOPICS, encoding="utf-8")
    cli("import")
    start = time.monotonic()
    summary = cli.json("papers", "fetch")  # the fixtures point arXiv at a closed port: refused
    assert time.monotonic() - start < 5
    # The first request that cannot reach arXiv at all ends the run: one line, not one per topic.
    assert summary["new"] == 0 and summary["stopped"] == "unreachable"
    assert len(summary["errors"]) == 1 and "connection refused" in summary["errors"][0]
    assert summary["errors"][0].startswith("arXiv unreachable: cannot reach 127.0.0.1:9")
    text = cli("papers", "fetch").stdout
    assert text.count("unreachable") == 1 and text.count("\n") <= 2


def test_bad_options_are_one_line_errors(cli, workspace: FakeArxiv) -> None:
    cli("import")
    for args in (["--topic", "nope"], ["--days", "0"], ["--max", "-1"]):
        result = cli("papers", "fetch", *args, code=2)
        assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert workspace.calls == []


class SilentServer:
    """A TCP server on loopback that accepts every connection and never answers; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.stopping = True
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SilentServer]:
    srv = SilentServer()
    monkeypatch.setenv("TRACKER_ARXIV_API_URL", srv.url + "/api/query")
    monkeypatch.setenv("TRACKER_ARXIV_RSS_URL", srv.url + "/rss")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "dl.md").write_text(OUTLINE, encoding="utf-8")
    (seeds / "dl.topics.toml").write_text(TOPICS, encoding="utf-8")
    yield srv
    srv.close()


def test_a_silent_arxiv_is_bounded_by_the_total_deadline(cli, silent: SilentServer) -> None:
    cli("import")
    start = time.monotonic()
    summary = cli.json("papers", "fetch", "--deadline", "1.5")
    took = time.monotonic() - start
    assert 1.4 < took < 4, took
    assert summary["stopped"] == "deadline" and summary["new"] == 0
    assert len(summary["errors"]) == 1 and "total deadline" in summary["errors"][0]


def test_each_request_has_its_own_deadline_and_one_retry_for_a_timeout(silent: SilentServer, database) -> None:
    from tracker.papers.fetch import fetch_papers
    from tracker.topics import parse_topics

    defs = parse_topics(TOPICS)
    start = time.monotonic()
    summary = fetch_papers(database, defs, topic="gnn", request_deadline=0.4, deadline=30)
    took = time.monotonic() - start
    # The query and the feed: each timed out twice (one retry), and the fetch went on after each.
    assert summary.stopped is None
    assert [e.split(":")[0] for e in summary.errors] == ["gnn", "feed cs.LG"]
    assert all("timed out after 0.4 s after 2 attempt(s)" in e for e in summary.errors)
    assert len(silent.held) == 4
    assert 1.5 < took < 5, took


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf"])
def test_a_malformed_arxiv_delay_is_one_error_naming_the_variable(cli, workspace: FakeArxiv, monkeypatch,
                                                                  value: str) -> None:
    cli("import")
    monkeypatch.setenv("TRACKER_ARXIV_DELAY", value)
    result = cli("papers", "fetch", code=2)
    assert result.stderr.startswith("error: TRACKER_ARXIV_DELAY") and result.stderr.count("\n") == 1
    assert workspace.calls == []


def test_bad_deadlines_are_one_line_errors(cli, workspace: FakeArxiv) -> None:
    cli("import")
    for value in ("0", "-5", "nan"):
        result = cli("papers", "fetch", "--deadline", value, code=2)
        assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert workspace.calls == []


def test_feed_replacements_update_stored_papers_and_add_nothing(cli, workspace: FakeArxiv, server: LocalServer,
                                                                 database) -> None:
    workspace.by_query = {GNN_Q: [Paper("2411.00001", title="Message passing graph neural network",
                                        journal_ref="NeurIPS 2026")]}
    cli("import")
    cli.json("papers", "fetch", "--topic", "gnn")
    cli("papers", "accept", "2411.00001")
    cli("mark", "2411.00001", "reading")
    cli("note", "2411.00001", "section 3 matters")
    cli("tag", "2411.00001", "gan")
    server.routes["/rss/cs.LG"] = reply(200, rss([
        (Paper("2411.00001", version=2, title="Message passing GNNs, revised", abstract="Now with proofs."),
         "replace"),
        (Paper("2301.00009", version=3, title="A paper nobody stored"), "replace-cross"),
        (Paper("2411.00001", version=1, title="An older announcement"), "replace"),
    ], categories="cs.LG"))
    summary = cli.json("papers", "fetch", "--topic", "gnn")
    assert summary["updated"] == 1 and summary["new"] == 0
    shown = cli.json("show", "2411.00001")
    assert shown["title"] == "Message passing GNNs, revised"  # a fetched paper's title follows arXiv's
    paper = shown["paper"]
    assert (paper["version"], paper["title"], paper["abstract"]) == (2, "Message passing GNNs, revised",
                                                                     "Now with proofs.")
    assert paper["journal_ref"] == "NeurIPS 2026"  # a feed says nothing of it, so it stays
    assert shown["status"] == "reading" and "section 3 matters" in shown["notes"]
    assert sorted(shown["topics"]) == ["gan", "gnn"]
    with pytest.raises(AssertionError):
        cli.json("show", "2301.00009")  # not stored: replacements add nothing


def test_stored_papers_are_checked_for_new_versions_once_a_week(cli, workspace: FakeArxiv, database) -> None:
    from sqlalchemy import update

    from tracker.papers.store import paper_t

    old = [Paper(f"2401.{i:05d}", title=f"Paper {i}") for i in range(150)]
    workspace.by_query = {GNN_Q: old}
    workspace.papers = {p.arxiv_id: p for p in old}
    workspace.papers["1512.03385"] = Paper("1512.03385", title="Deep Residual Learning for Image Recognition")
    cli("import")
    cli.json("papers", "fetch")
    cli("papers", "dismiss", "2401.00149")
    calls = len(workspace.calls)
    # Nothing is due a day later: every paper was fetched or checked just now.
    assert cli.json("papers", "fetch")["rechecked"] == 0
    assert not any(c.get("id_list") for c in workspace.calls[calls:])

    with database.write() as conn:
        conn.execute(update(paper_t).values(fetched_at=dbmod.utcnow() - timedelta(days=8)))
    workspace.by_query = {}
    workspace.papers["2401.00007"] = Paper("2401.00007", version=2, title="Paper 7, second version",
                                           journal_ref="ICML 2027")
    workspace.papers["1512.03385"] = Paper("1512.03385", version=2,
                                           title="Deep Residual Learning for Image Recognition",
                                           doi="10.1109/CVPR.2016.90")
    calls = len(workspace.calls)
    summary = cli.json("papers", "fetch")
    lists = [c["id_list"].split(",") for c in workspace.calls[calls:] if c.get("id_list")]
    assert [len(ids) for ids in lists] == [100, 50]  # the dismissed paper is left alone
    assert "2401.00149" not in {i for ids in lists for i in ids}
    assert summary["rechecked"] == 150 and summary["updated"] == 2
    seven = cli.json("show", "2401.00007")
    assert (seven["title"], seven["paper"]["version"], seven["paper"]["journal_ref"]) == (
        "Paper 7, second version", 2, "ICML 2027")
    resnet = cli.json("show", "1512.03385")
    assert resnet["title"] == "ResNet" and resnet["paper"]["doi"] == "10.1109/CVPR.2016.90"
    calls = len(workspace.calls)
    assert cli.json("papers", "fetch")["rechecked"] == 0  # checked now: not again for a week
    assert not any(c.get("id_list") for c in workspace.calls[calls:])
