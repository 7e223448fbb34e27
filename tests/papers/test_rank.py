"""Inbox ranking: similar to what the learner digested first, reasons given, fast enough."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from tests.papers.records_factory import record
from tracker.papers.rank import Candidate, ProfileDoc, rank
from tracker.papers.store import store_papers
from tracker.store import db as dbmod

NOW = datetime(2026, 11, 25, 8, 0)


def _cand(i: int, text: str, topics: dict[str, float], days: float = 1) -> Candidate:
    return Candidate(id=i, arxiv_id=f"2411.{i:05d}", title=text, text=text, topics=topics,
                     published=NOW - timedelta(days=days))


def test_the_paper_like_a_digested_one_ranks_first_and_says_why() -> None:
    profile = [ProfileDoc(id=100, title="Graph attention networks explained",
                          text="graph attention networks message passing node classification",
                          topics=frozenset({"gnn"}))]
    cands = [_cand(1, "Image segmentation with transformers", {"cnn": 0.9}),
             _cand(2, "Message passing for node classification with graph attention", {"gnn": 0.9}),
             _cand(3, "Bandits for recommendation", {})]
    ranked = rank(cands, profile, NOW, frozenset({"gnn"}))
    assert ranked[0].id == 2
    assert "Graph attention networks explained" in ranked[0].reason and "topic gnn" in ranked[0].reason
    assert ranked[0].similar_to == 100
    assert ranked[-1].id == 3
    assert all(0.0 <= r.score <= 1.0 for r in ranked)


def test_same_topic_neighbour_beats_an_equally_similar_one_elsewhere() -> None:
    profile = [ProfileDoc(id=100, title="p", text="diffusion sampling schedule", topics=frozenset({"gan"}))]
    same = _cand(1, "diffusion sampling schedule study", {"gan": 0.5})
    other = _cand(2, "diffusion sampling schedule study", {"rl": 0.5})
    ranked = rank([other, same], profile, NOW, frozenset({"gan"}))
    assert ranked[0].id == 1 and ranked[0].score > ranked[1].score


def test_without_history_newer_and_better_fitting_papers_come_first() -> None:
    cands = [_cand(1, "old", {"gnn": 0.9}, days=40), _cand(2, "new", {"gnn": 0.9}, days=1),
             _cand(3, "new, off topic", {}, days=1)]
    ranked = rank(cands, [], NOW)
    assert [r.id for r in ranked] == [2, 1, 3]
    assert "nothing digested yet" in ranked[0].reason and "1 day old" in ranked[0].reason


def test_inbox_command_ranks_against_digested_items(cli, database: dbmod.Database, tmp_path) -> None:
    outline = tmp_path / "list.md"
    outline.write_text("# Study\n\n## Graphs\n\n- [x] [Semi-supervised classification with graph convolutional "
                       "networks](https://example.org/gcn)\n", encoding="utf-8")
    cli("import", str(outline))
    with database.write() as conn:
        store_papers(conn, [
            record("2411.00001", title="Protein folding with language models", abstract="Proteins and tokens."),
            record("2411.00002", title="Deeper graph convolutional networks",
                   abstract="We study semi-supervised node classification with graph convolutional networks."),
        ], NOW, query_slug="graphs")
    rows = cli.json("papers", "inbox")
    assert [r["arxiv_id"] for r in rows] == ["2411.00002", "2411.00001"]
    assert set(rows[0]) >= {"id", "arxiv_id", "title", "topics", "score", "published"}
    assert rows[0]["topics"] == ["graphs"] and "Semi-supervised" in rows[0]["reason"]
    assert cli.json("papers", "inbox", "--limit", "1") == rows[:1]
    assert cli("papers", "inbox", "--topic", "nope", code=2).stderr.startswith("error:")


def test_ranking_ten_thousand_against_a_thousand_is_quick() -> None:
    # Not the benchmark (bench/bench_rank.py is): a guard that ranking stays far from quadratic Python.
    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]
    cands = [_cand(i, " ".join(rng.choices(words, k=150)), {f"t{i % 20}": 0.7}) for i in range(10_000)]
    profile = [ProfileDoc(id=i, title="x", text=" ".join(rng.choices(words, k=150)),
                          topics=frozenset({f"t{i % 20}"})) for i in range(1000)]
    start = time.perf_counter()
    ranked = rank(cands, profile, NOW, frozenset({"t1"}))
    assert len(ranked) == 10_000
    assert time.perf_counter() - start < 20
