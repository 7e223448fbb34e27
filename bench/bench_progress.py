"""`tracker progress --json` start-to-finish on a large list, against the import floor.

Run: python bench/bench_progress.py
Target (issue 2): with 100,000 items of which 50,000 digested, at most 1.3 times
`python -c "import sqlmodel, typer"`, both as whole processes (median of several runs).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.gen_outline import generate  # noqa: E402

FLOOR = [sys.executable, "-c", "import sqlmodel, typer"]


def medians(commands: dict[str, list[str]], env: dict[str, str], runs: int = 9) -> dict[str, float]:
    """Median wall time of each command, after one warm-up run of each.

    The runs take turns (floor, command, floor, ...) so that the VM's minute-to-minute swings in
    speed fall on the floor and the command alike, not on whichever ran during a slow minute.
    """
    for cmd in commands.values():
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def build(db: Path, outline: Path) -> None:
    """Import 100,000 entries, then digest half of them with one event each."""
    import sqlite3

    outline.write_text(generate(100_000), encoding="utf-8")
    env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "tracker", "import", str(outline)], env=env, check=True,
                   capture_output=True)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM event")
        conn.execute("UPDATE item SET status = CASE WHEN id % 2 = 0 THEN 'digested' ELSE 'unread' END")
        conn.execute("INSERT INTO event (item_id, status, at) SELECT id, 'digested', '2026-11-20 10:00:00' "
                     "FROM item WHERE status = 'digested'")
        digested = conn.execute("SELECT count(*) FROM item WHERE status = 'digested'").fetchone()[0]
    assert digested == 50_000, digested


def main() -> None:
    """Build the database and print both medians and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        build(db, Path(tmp) / "big.md")
        env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
        found = medians({"floor": FLOOR, "progress": [sys.executable, "-m", "tracker", "progress", "--json"]}, env)
        floor, progress = found["floor"], found["progress"]
    print(f"floor={floor:.3f}s progress={progress:.3f}s ratio={progress / floor:.2f} (target <= 1.30)")


if __name__ == "__main__":
    main()
