"""Which bounded profile ranks the inbox best: measured on the ranking tests and on a synthetic learner.

Run: PYTHONPATH=. python bench/bench_inbox.py [SEEDS]
Each variant bounds the profile differently (tracker.papers.rank's RECENT_DOCS and TOPIC_TERMS):
the whole history as neighbours (the unbounded ranking the tests were written for), a window of
the most recent items, one word profile per topic, and topic profiles plus a window.

The synthetic learner digested 20,000 items over two years in 60 topics of 5 sub-topics each,
changing sub-topics every 81 days; the inbox is 3,000 papers from every sub-topic, 80 % tagged
with their own topic. R-precision counts the top-R papers whose sub-topic the learner digested
(R = how many such papers there are): ever, and in the last 90 days.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.papers import test_rank  # noqa: E402
from tracker.papers import rank as rankmod  # noqa: E402
from tracker.papers.rank import Candidate, ProfileDoc, rank  # noqa: E402

NOW = datetime(2026, 11, 25)
VARIANTS = {  # name -> (RECENT_DOCS, TOPIC_TERMS)
    "whole history (unbounded)": (10**9, 0),
    "recent 500": (500, 0),
    "recent 2000": (2000, 0),
    "per topic": (0, 3000),
    "per topic + recent 500": (500, 3000),
}
TESTS = [test_rank.test_the_paper_like_a_digested_one_ranks_first_and_says_why,
         test_rank.test_same_topic_neighbour_beats_an_equally_similar_one_elsewhere,
         test_rank.test_without_history_newer_and_better_fitting_papers_come_first,
         test_rank.test_an_interest_older_than_the_recent_window_still_counts]


def learner(seed: int) -> tuple[list[ProfileDoc], list[Candidate], dict[int, tuple[int, int]], set[Any], set[Any]]:
    """A synthetic history (newest first), an inbox, each paper's true sub-topic, and the sub-topics digested."""
    rng = random.Random(seed)
    n_topics, n_subs = 60, 5
    general = [f"g{i}" for i in range(3000)]
    topic_words = {t: [f"t{t}w{i}" for i in range(100)] for t in range(n_topics)}
    sub_words = {(t, s): [f"t{t}s{s}w{i}" for i in range(40)] for t in range(n_topics) for s in range(n_subs)}

    def text(t: int, s: int, n: int) -> str:
        words = rng.choices(sub_words[(t, s)], k=8) + rng.choices(topic_words[t], k=8)
        return " ".join(words + [general[min(int(rng.paretovariate(1.0)) - 1, 2999)] for _ in range(n - 16)])

    studied = rng.sample(range(n_topics), 20)
    history = []
    for period in range(9):
        subs = rng.sample([(t, s) for t in studied for s in range(n_subs)], 6)
        for _ in range(20_000 // 9):
            t, s = rng.choice(subs)
            history.append(((8 - period) * 81 + rng.random() * 81, t, s))
    history.sort()
    profile = [ProfileDoc(id=i, title=f"item {i}", text=text(t, s, 40), topics=frozenset({f"T{t}"}))
               for i, (_, t, s) in enumerate(history)]
    truth, cands = {}, []
    for i in range(3000):
        t, s = rng.randrange(n_topics), rng.randrange(n_subs)
        tag = t if rng.random() < 0.8 else rng.randrange(n_topics)
        truth[100_000 + i] = (t, s)
        cands.append(Candidate(id=100_000 + i, arxiv_id=None, title="paper", text=text(t, s, 120),
                               topics={f"T{tag}": 0.7}, published=NOW - timedelta(days=rng.random() * 14)))
    ever = {(t, s) for _, t, s in history}
    recent = {(t, s) for age, t, s in history if age < 90}
    return profile, cands, truth, ever, recent


def r_precision(ranked: list[Any], truth: dict[int, tuple[int, int]], relevant: set[Any]) -> float:
    """Share of the top R papers that are relevant, R being how many are."""
    r = sum(truth[row.id] in relevant for row in ranked)
    return sum(truth[row.id] in relevant for row in ranked[:r]) / r if r else 0.0


def main() -> None:
    """Run every variant on the tests and on each seed's learner."""
    seeds = [int(s) for s in sys.argv[1:]] or [1, 2]
    data = [learner(seed) for seed in seeds]
    for name, (recent_docs, topic_terms) in VARIANTS.items():
        rankmod.RECENT_DOCS, rankmod.TOPIC_TERMS = recent_docs, topic_terms
        passed = []
        for test in TESTS:
            try:
                test()
                passed.append(True)
            except AssertionError:
                passed.append(False)
        figures = []
        for profile, cands, truth, ever, recent in data:
            start = time.perf_counter()
            ranked = rank(cands, profile, NOW, frozenset(s for d in profile for s in d.topics))
            figures.append(f"ever {r_precision(ranked, truth, ever):.2f}, 90 days "
                           f"{r_precision(ranked, truth, recent):.2f} ({time.perf_counter() - start:.1f} s)")
        print(f"{name:27} tests passed {sum(passed)}/{len(passed)}  " + "  |  ".join(figures))


if __name__ == "__main__":
    main()
