"""Import speed: a generated outline of 100,000 entries, first import and re-imports, against the floor.

Run: python bench/bench_import.py [ENTRIES] [--runs N] [--tree DIR ...]
Targets (issues 2 and 18): first import, search index kept, under 10 s; unchanged re-import under 5 s.
Every figure is a whole `tracker import` process, start-up included, timed in turns with the floor
(`python -c "import sqlmodel, typer"`) so that the machine's swings in speed fall on both alike; CPU
is the child's user + system time. `--tree DIR` times another source tree's first import in the same
turns (a checkout of an older commit, say), for comparing two versions side by side.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process; fails loudly if it fails."""
    cpu, start = _child_cpu(), time.perf_counter()
    subprocess.run(args, env=env, check=True, capture_output=True)
    return time.perf_counter() - start, _child_cpu() - cpu


def _fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _median(values: list[tuple[float, float]]) -> str:
    wall = statistics.median(w for w, _ in values)
    cpu = statistics.median(c for _, c in values)
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU"


def main() -> None:
    """Generate, import in turns with the floor, print the medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("entries", nargs="?", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", action="append", default=[], type=Path)
    opts = parser.parse_args()
    trees = {"first import": ROOT, **{f"first import ({tree})": tree.resolve() for tree in opts.tree}}
    with tempfile.TemporaryDirectory() as tmp:
        outline = Path(tmp) / "big.md"
        outline.write_text(generate(opts.entries), encoding="utf-8")
        db = Path(tmp) / "bench.db"
        env = {**os.environ, "TRACKER_DB": str(db), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "tracker", "import", str(outline), "--json"]
        subprocess.run(FLOOR, env=env, check=True, capture_output=True)  # warm the file cache
        times: dict[str, list[tuple[float, float]]] = {"floor": [], **{name: [] for name in trees}}
        names = list(trees)
        for run in range(opts.runs):
            times["floor"].append(timed(FLOOR, env))
            for name in names[run % len(names):] + names[:run % len(names)]:  # each tree goes first in turn
                _fresh(db)
                times[name].append(timed(command, {**env, "PYTHONPATH": str(trees[name])}))
        unchanged = timed(command, env)
        # An edited outline takes the full comparison path, not the unchanged-file shortcut.
        outline.write_text(outline.read_text(encoding="utf-8") + "- [one more](https://example.org/x)\n",
                           encoding="utf-8")
        edited = timed(command, env)
        size = outline.stat().st_size / 1e6
    print(f"entries={opts.entries} outline={size:.1f} MB, medians of {opts.runs} runs in turns:")
    for name, values in times.items():
        print(f"  {name}: {_median(values)}")
    print(f"  unchanged re-import: {_median([unchanged])}")
    print(f"  re-import after a one-line edit: {_median([edited])}")


if __name__ == "__main__":
    main()
