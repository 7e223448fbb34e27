"""Ranking an inbox of 10,000 papers against 1,000 digested items (target: under 2 s)."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from tracker.papers.rank import Candidate, ProfileDoc, rank

NOW = datetime(2026, 11, 25)


def main() -> None:
    """Build abstract-sized random texts over a 20,000-word vocabulary and time `rank`."""
    rng = random.Random(1)
    words = [f"term{i}" for i in range(20_000)]
    topics = [f"t{i}" for i in range(22)]
    cands = [Candidate(id=i, arxiv_id=f"2411.{i:05d}", title=" ".join(rng.choices(words, k=10)),
                       text=" ".join(rng.choices(words, k=180)), topics={rng.choice(topics): 0.8},
                       published=NOW - timedelta(days=rng.random() * 14)) for i in range(10_000)]
    profile = [ProfileDoc(id=100_000 + i, title="x", text=" ".join(rng.choices(words, k=180)),
                          topics=frozenset({rng.choice(topics)})) for i in range(1000)]
    for _ in range(3):
        start = time.perf_counter()
        rank(cands, profile, NOW, frozenset(topics[:10]))
        print(f"rank 10,000 x 1,000: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
