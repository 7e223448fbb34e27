"""`tracker papers fetch` end to end: topics' queries, feeds, outline links, windows, failures."""

from __future__ import annotations

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
    summary = cli.json("papers", "fetch")
    assert summary["new"] == 0 and len(summary["errors"]) == 4  # lookup, two queries, the feed


def test_bad_options_are_one_line_errors(cli, workspace: FakeArxiv) -> None:
    cli("import")
    for args in (["--topic", "nope"], ["--days", "0"], ["--max", "-1"]):
        result = cli("papers", "fetch", *args, code=2)
        assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert workspace.calls == []
