"""Inbox ranking: similar to what the learner digested first, reasons given, fast enough."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from tests.papers.records_factory import record
from tracker.papers.inbox import InboxRanking, fetch_t, load_profile
from tracker.papers.rank import Candidate, ProfileDoc, analyzer, profile_of, rank, topic_profile
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


def _filler(i: int, rng: random.Random) -> ProfileDoc:
    words = ["bandit", "regret", "policy", "reward", "exploration", "arm", "horizon", "bound", "stochastic"]
    return ProfileDoc(id=1000 + i, title=f"bandits {i}", text=" ".join(rng.choices(words, k=30)),
                      topics=frozenset({"rl"}))


def test_an_interest_older_than_the_recent_window_still_counts() -> None:
    # Newest first: hundreds of bandit items, then, before them all, one graph item.
    rng = random.Random(3)
    old = ProfileDoc(id=1, title="Graph attention networks", text="graph attention message passing node classification",
                     topics=frozenset({"gnn"}))
    profile = [_filler(i, rng) for i in range(2500)] + [old]  # beyond any window of recent items
    graph = _cand(1, "Message passing with attention for node classification on graphs", {"gnn": 0.7})
    other = _cand(2, "Protein folding with language models", {"bio": 0.7})
    ranked = rank([other, graph], profile, NOW, frozenset({"gnn", "rl"}))
    assert ranked[0].id == 1
    assert ranked[0].reason.startswith("like"), ranked[0].reason  # its likeness to the old item counts
    assert ranked[1].reason.startswith("topic bio")


def test_the_profile_stays_within_its_bounds() -> None:
    rng = random.Random(5)

    def texts(n: int) -> Iterator[str]:  # streamed: never a list of them
        for _ in range(n):
            yield " ".join(f"w{rng.randrange(20_000)}" for _ in range(40))

    counting = topic_profile("t0", texts(3000), analyzer(), topic_terms=200)
    assert counting.docs == 3000 and len(counting.terms) == 200
    assert min(counting.terms.values()) >= 2  # the heaviest words kept, not the first seen
    docs = [ProfileDoc(id=i, title=str(i), text=f"w{i} w{i + 1}", topics=frozenset({f"t{i % 3}"}))
            for i in range(3000)]
    profile = profile_of(docs, recent_docs=50, topic_terms=200)
    assert [d.id for d in profile.recent] == list(range(50)) and profile.docs == 3000
    assert len(profile.topics) == 3 and all(len(t.terms) == 200 and t.docs == 1000 for t in profile.topics)
    assert profile.active == {"t0", "t1", "t2"}


def _digested_items(database: dbmod.Database, n: int, start: int) -> None:
    """`n` digested items with a topic and 1,500 characters of page text each, ids from `start`."""
    rng = random.Random(start)
    words = [f"word{i}" for i in range(5000)]
    at = datetime(2026, 1, 1)
    with database.write() as conn:
        dbmod.bulk_insert(conn, dbmod.item_t, [dict(
            id=start + i, key=f"https://example.org/{start + i}", url=f"https://example.org/{start + i}",
            title=f"item {start + i}", kind="article", status="digested", source="outline", section="", position=i,
            retired=False, notes="", added_at=at, status_at=at + timedelta(minutes=i)) for i in range(n)])
        dbmod.bulk_insert(conn, fetch_t, [dict(
            item_id=start + i, state="ok", checked_at=at, attempts=0, meta="{}",
            text=" ".join(rng.choices(words, k=300))[:1500]) for i in range(n)])
        dbmod.bulk_insert(conn, dbmod.tag_t, [dict(item_id=start + i, slug=f"t{i % 4}", origin="manual", score=1.0)
                                              for i in range(n)])


def test_loading_the_profile_holds_the_same_memory_for_many_more_digested_items(database: dbmod.Database) -> None:
    import tracemalloc

    peaks = []
    for n, start in ((600, 1), (3000, 10_000)):
        _digested_items(database, n, start)
        with database.read() as conn:
            tracemalloc.start()
            profile = load_profile(conn)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        assert len(profile.recent) == 500
    assert profile.docs == 3600
    assert peaks[1] < 1.3 * peaks[0], peaks


def test_the_kept_ranking_follows_digests_and_arrivals(cli, database: dbmod.Database, tmp_path) -> None:
    outline = tmp_path / "list.md"
    outline.write_text("# Study\n\n## Graphs\n\n- [Graph attention networks](https://example.org/gat)\n\n"
                       "## Proteins\n\n- [Protein language models](https://example.org/plm)\n", encoding="utf-8")
    cli("import", str(outline))
    gat, plm = (row["id"] for row in cli.json("list"))
    with database.write() as conn:
        store_papers(conn, [record("2411.00001", title="Protein structure from language models",
                                   abstract="Protein language models predict structure.")], NOW, query_slug="proteins")
        store_papers(conn, [record("2411.00002", title="Graph attention for node classification",
                                   abstract="Graph attention networks classify nodes.")], NOW, query_slug="graphs")
    kept = InboxRanking()
    with database.read() as conn:
        first = kept.page(conn, now=NOW)
        assert kept.page(conn, now=NOW) == first and kept.rankings == 1
    assert first.total == 2
    cli("mark", str(gat), "digested")
    with database.read() as conn:
        page = kept.page(conn, now=NOW)
    assert kept.rankings == 2 and page.rows[0].arxiv_id == "2411.00002" and page.rows[0].similar_to == gat
    cli("mark", str(plm), "reading")
    cli("papers", "accept", "2411.00001")
    with database.read() as conn:
        page = kept.page(conn, now=NOW)
        assert [r.arxiv_id for r in page.rows] == ["2411.00002"] and page.total == 1
        assert kept.page(conn, topic="proteins", now=NOW).total == 0
    with database.write() as conn:
        store_papers(conn, [record("2411.00003", title="Protein design", abstract="Design proteins.")], NOW,
                     query_slug="proteins")
    with database.read() as conn:
        assert [r.arxiv_id for r in kept.page(conn, topic="proteins", now=NOW).rows] == ["2411.00003"]
        assert kept.page(conn, offset=1, limit=1, now=NOW).total == 2


def test_a_page_of_the_kept_ranking_is_served_only_as_it_stands(database: dbmod.Database) -> None:
    with database.write() as conn:
        store_papers(conn, [record("2411.00001", title="Graph attention", abstract="Nodes attend.")], NOW)
    kept = InboxRanking()
    with database.read() as conn:
        assert kept.page_if_ranked(conn, None, 0, 10, version=1) is None  # nothing ranked yet
        ranked = kept.page(conn, now=NOW, version=1)
        assert kept.page_if_ranked(conn, None, 0, 10, version=1) == ranked
        assert kept.page_if_ranked(conn, None, 0, 10, version=2) is None  # the database changed since
        assert kept.page_if_ranked(conn, "graphs", 0, 10, version=1) is None  # that topic's list not made yet
        # A ranking under way (the lock held by another thread): no waiting for it.
        with kept._lock:
            started = time.perf_counter()
            assert kept.page_if_ranked(conn, None, 0, 10, version=1) is None
            assert time.perf_counter() - started < 0.5
