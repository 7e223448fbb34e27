"""The database the web benchmark serves: a long, busy reading history and a full inbox.

Run: PYTHONPATH=. python bench/web_db.py PATH    (builds PATH unless it exists; about a minute)

100,000 curated items (1,000 topics of 100, titled with words drawn from a Zipf-like distribution over
a 5,000-word vocabulary, so that a search word is about as selective as in real titles), of which 80,000 end
digested, 10,000 reading, 5,000 skipped; 1,000,000 status changes over the two years up to now, each item's last one
its status; the busiest week (BUSY_WEEKS_AGO weeks back) holds the last digest of 10,000 items; then
10,000 arXiv papers with abstracts in the inbox, and every ended week closed as `tracker sync` does.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ITEMS, EVENTS, PAPERS = 100_000, 1_000_000, 10_000
FINAL = {"digested": 80_000, "reading": 10_000, "skipped": 5_000, "unread": 5_000}
BUSY_DIGESTS, BUSY_WEEKS_AGO = 10_000, 3
SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da", "ko", "zu", "fe", "ba", "ni", "ge")
CHINESE = ("卷积", "池化", "梯度", "正则", "学习率", "对抗", "强化", "图网络", "元学习", "编码器", "注意力", "归一化")
ENGLISH = ("graph", "network", "attention", "diffusion", "model", "training", "gradient", "convolution", "policy",
           "reinforcement", "learning", "transformer", "normalization", "batch", "generative", "adversarial",
           "variational", "inference", "optimization", "regularization", "dropout", "residual", "sparse", "kernel",
           "embedding", "contrastive", "representation", "language", "vision", "segmentation", "detection")


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """5,000 words (real ones first, the most frequent) and their Zipf weights.

    The weights are 1 / (rank + 50): the head of a real Zipf curve is function words, which titles
    and searches hardly use, so the most frequent word here is in about 2 % of titles, not half.
    """
    words = [*ENGLISH, *CHINESE]
    seen = set(words)
    while len(words) < 5000:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randrange(2, 5)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words, [1.0 / (rank + 50) for rank in range(1, len(words) + 1)]


def outline(rng: random.Random, words: list[str], weights: list[float]) -> str:
    """An outline of ITEMS entries in sections of 100 under parts of 500, each titled with five words."""
    lines = ["# Web bench outline", ""]
    for i in range(ITEMS):
        if i % 500 == 0:
            lines += ["", f"## Part {i // 500}", ""]
        if i % 100 == 0:
            lines += ["", f"### Section {i // 100}", ""]
        title = " ".join(rng.choices(words, weights=weights, k=5))
        lines.append(f"- [{title} {i}](https://example{i % 200}.org/notes/{10_000_000 + i})")
    return "\n".join(lines) + "\n"


def busy_week(now: datetime) -> tuple[datetime, str]:
    """The Monday (naive UTC, local midnight) and label of the busiest week."""
    local = now.astimezone() - timedelta(weeks=BUSY_WEEKS_AGO)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    year, week = monday.isocalendar()[:2]
    return monday.astimezone(UTC).replace(tzinfo=None), f"{year}-W{week:02d}"


def _stamp(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%d %H:%M:%S.%f") if at else None


def history(rng: random.Random, now: datetime) -> tuple[list[tuple[int, str, datetime]], dict[int, datetime]]:
    """Events (item, status, at), each item's last one its final status, and when each item was added."""
    start = now - timedelta(days=730)
    span = int((now - start).total_seconds())
    monday, _ = busy_week(now)
    finals = [status for status, n in FINAL.items() for _ in range(n)]
    rng.shuffle(finals)
    busy = set(rng.sample([i for i, s in enumerate(finals, 1) if s == "digested"], BUSY_DIGESTS))
    counts = [1] * ITEMS
    for _ in range(EVENTS - ITEMS):  # the other 900,000 changes, spread over random items
        counts[rng.randrange(ITEMS)] += 1
    events, added = [], {}
    for item_id, (final, n) in enumerate(zip(finals, counts, strict=True), 1):
        if item_id in busy:
            last = monday + timedelta(seconds=rng.randrange(7 * 86_400 - 3_600))
        else:
            last = start + timedelta(seconds=rng.randrange(span))
        earlier = sorted(start + timedelta(seconds=rng.randrange(max(1, int((last - start).total_seconds()))))
                         for _ in range(n - 1))
        for at in earlier:
            events.append((item_id, rng.choice(("reading", "digested", "skipped", "unread")), at))
        events.append((item_id, final, last))
        first = earlier[0] if earlier else last
        added[item_id] = first - timedelta(seconds=rng.randrange(30 * 86_400))
    return events, added


def write_history(db: Path, events: list[tuple[int, str, datetime]], added: dict[int, datetime]) -> None:
    """Replace the events and each item's status fields, as `tracker mark` would have left them."""
    last: dict[int, tuple[str, datetime]] = {}
    started: dict[int, datetime] = {}
    digested: dict[int, datetime] = {}
    for item_id, status, at in sorted(events, key=lambda e: e[2]):
        if status == "reading":
            started.setdefault(item_id, at)
        elif status == "digested":
            digested[item_id] = at
        last[item_id] = (status, at)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM event")
        conn.executemany("INSERT INTO event (item_id, status, at) VALUES (?, ?, ?)",
                         [(i, s, _stamp(at)) for i, s, at in sorted(events, key=lambda e: e[2])])
        conn.executemany("UPDATE item SET added_at = ?, status = ?, status_at = ?, started_at = ?, digested_at = ? "
                         "WHERE id = ?", [(_stamp(added[i]), s, _stamp(at), _stamp(started.get(i)),
                                           _stamp(digested.get(i)), i) for i, (s, at) in last.items()])


def store_inbox(db: Path, rng: random.Random, now: datetime) -> None:
    """10,000 papers with abstract-sized text, tagged with a topic each, into the inbox."""
    from tracker.papers.records import PaperRecord
    from tracker.papers.store import store_papers
    from tracker.store import db as dbmod

    words, weights = vocabulary(random.Random(5))
    database = dbmod.open_db(f"sqlite:///{db}")
    with database.read() as conn:
        slugs = [row[0] for row in conn.exec_driver_sql("SELECT slug FROM topic")]
    records = []
    for i in range(PAPERS):
        published = now - timedelta(days=rng.random() * 30)
        records.append(PaperRecord(
            arxiv_id=f"2611.{i:05d}", version=1, title=" ".join(rng.choices(words, weights, k=8)).capitalize(),
            authors=("Ada Lovelace", "Alan Turing"), abstract=" ".join(rng.choices(words, weights, k=150)) + ".",
            categories=("cs.LG",), primary_category="cs.LG", published=published, updated=published, doi=None,
            journal_ref=None, comment=None, abs_url=f"https://arxiv.org/abs/2611.{i:05d}",
            pdf_url=f"https://arxiv.org/pdf/2611.{i:05d}v1", announce_type=None))
    with database.write() as conn:
        for start in range(0, PAPERS, 500):
            store_papers(conn, records[start:start + 500], now - timedelta(days=rng.random() * 14),
                         query_slug=rng.choice(slugs))
    database.close()


def close_weeks(db: Path) -> None:
    """Store each ended week's checkpoint, as `tracker sync` does."""
    from tracker.report.moments import close_weeks as close
    from tracker.store import db as dbmod

    database = dbmod.open_db(f"sqlite:///{db}")
    with database.write() as conn:
        close(conn)
    database.close()


def build(db: Path) -> None:
    """Make the whole database at `db`."""
    rng = random.Random(19)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.md"
        path.write_text(outline(rng, *vocabulary(random.Random(5))), encoding="utf-8")
        env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "tracker", "import", str(path)], env=env, check=True,
                       capture_output=True)
    events, added = history(rng, now)
    write_history(db, events, added)
    del events
    store_inbox(db, rng, now)
    close_weeks(db)


def main() -> None:
    """Build the database named on the command line, unless it is there."""
    db = Path(sys.argv[1])
    if db.exists():
        print(f"{db} exists; remove it to build it again")
        return
    build(db)
    with sqlite3.connect(db) as conn:
        counts = dict(conn.execute("SELECT status, count(*) FROM item GROUP BY status").fetchall())
        n_events = conn.execute("SELECT count(*) FROM event").fetchone()[0]
    print(f"{db}: items by status {counts}, {n_events} events, busiest week {busy_week(datetime.now(UTC))[1]}")


if __name__ == "__main__":
    main()
