"""Weekly report and `next` on a long history, as whole processes, against the import floor.

Run: python bench/bench_reports.py [DATABASE]   (a database it built before is reused as it is)
Target (issue 5): 100,000 items with 1,000,000 status events over two years; `tracker report weekly` in
every format and `tracker next` each at most 1.5 times `python -c "import sqlmodel, typer"`.
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
from bench.bench_progress import FLOOR, medians  # noqa: E402
from bench.gen_outline import generate  # noqa: E402

STATUSES = ("reading", "digested", "skipped", "unread")


def build(db: Path, outline: Path, events: int = 1_000_000) -> None:
    """Import 100,000 entries, then write a two-year history of status events straight into SQLite."""
    outline.write_text(generate(100_000), encoding="utf-8")
    env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "tracker", "import", str(outline)], env=env, check=True,
                   capture_output=True)
    rng = random.Random(3)
    # The history ends now, so that the current week's report always has a week of it.
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    start = now - timedelta(days=730)
    span = int((now - start).total_seconds())
    rows = sorted(((rng.randrange(1, 100_001), rng.choice(STATUSES), start + timedelta(seconds=rng.randrange(span)))
                   for _ in range(events)), key=lambda r: r[2])
    # Each item was added some days before its first event (or at any time, if it has none), and its
    # status fields say what its events say, as `tracker mark` would leave them.
    first: dict[int, datetime] = {}
    started: dict[int, datetime] = {}
    digested: dict[int, datetime] = {}
    last: dict[int, tuple[str, datetime]] = {}
    for item_id, status, at in rows:
        first.setdefault(item_id, at)
        if status == "reading":
            started.setdefault(item_id, at)
        elif status == "digested":
            digested[item_id] = at
        last[item_id] = (status, at)

    def text(at: datetime | None) -> str | None:
        return at.strftime("%Y-%m-%d %H:%M:%S.%f") if at else None

    added = {item_id: (first[item_id] - timedelta(seconds=rng.randrange(30 * 86_400))) if item_id in first
             else start + timedelta(seconds=rng.randrange(span)) for item_id in range(1, 100_001)}
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM event")
        conn.executemany("INSERT INTO event (item_id, status, at) VALUES (?, ?, ?)",
                         [(i, s, text(at)) for i, s, at in rows])
        conn.executemany("UPDATE item SET added_at = ? WHERE id = ?", [(text(at), i) for i, at in added.items()])
        conn.executemany("UPDATE item SET status = ?, status_at = ?, started_at = ?, digested_at = ? WHERE id = ?",
                         [(s, text(at), text(started.get(i)), text(digested.get(i)), i)
                          for i, (s, at) in last.items()])


COMMANDS = {
    "report json": ["report", "weekly", "--format", "json"],
    "report md": ["report", "weekly", "--format", "md"],
    "report html": ["report", "weekly", "--format", "html"],
    "report json, a past week": ["report", "weekly", "--week", "2025-W20", "--json"],
    "next": ["next", "--json"],
}


def close_weeks(db: Path) -> tuple[int, float]:
    """What `tracker sync` does after its fetches: store a checkpoint at each week start."""
    import time

    from tracker.report.moments import close_weeks as close
    from tracker.store import db as dbmod

    database = dbmod.open_db(f"sqlite:///{db}")
    start = time.perf_counter()
    with database.write() as conn:
        closed = close(conn)
    database.close()
    return closed, time.perf_counter() - start


def clear_checkpoints(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM checkpoint")
        conn.execute("DELETE FROM weekclose")


def main() -> None:
    """Build once (or reuse the database named on the command line), then time each command against the floor."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tmp) / "bench.db"
        if not db.exists():
            build(db, Path(tmp) / "big.md")
        env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
        tracker = [sys.executable, "-m", "tracker"]
        closed, seconds = close_weeks(db)
        print(f"closing weeks as sync does: {closed} checkpoints in {seconds:.2f}s")
        for label, args in COMMANDS.items():
            found = medians({"floor": FLOOR, label: tracker + args}, env, runs=5)
            floor, seconds = found["floor"], found[label]
            print(f"{label:26} {seconds:.3f}s  floor {floor:.3f}s  ratio {seconds / floor:.2f} (target <= 1.50)")
        # The same reports on a database whose checkpoints were all just dropped (a new tag does that).
        clear_checkpoints(db)
        for label in ("report json", "report json, a past week"):
            found = medians({"floor": FLOOR, label: tracker + COMMANDS[label]}, env, runs=3)
            floor, seconds = found["floor"], found[label]
            print(f"{label + ', no checkpoints':37} {seconds:.3f}s  ratio {seconds / floor:.2f}")
        close_weeks(db)


if __name__ == "__main__":
    main()
