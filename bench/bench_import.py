"""Import speed: a generated outline of 100,000 entries, first import and unchanged re-import.

Run: python bench/bench_import.py [ENTRIES]
Targets (issue 2): first import under 10 s, unchanged re-import under 5 s, on the 2-core machine.
Both are timed as whole `tracker import` processes, start-up included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.gen_outline import generate


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one tracker process; fails loudly if it fails."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tracker", *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    """Generate, import twice, print the figures."""
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        outline = Path(tmp) / "big.md"
        outline.write_text(generate(entries), encoding="utf-8")
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "TRACKER_DB": str(Path(tmp) / "bench.db"), "PYTHONPATH": root}
        first = timed(["import", str(outline), "--json"], env)
        again = timed(["import", str(outline), "--json"], env)
        # An edited outline takes the full comparison path, not the unchanged-file shortcut.
        outline.write_text(outline.read_text(encoding="utf-8") + "- [one more](https://example.org/x)\n",
                           encoding="utf-8")
        edited = timed(["import", str(outline), "--json"], env)
        size = outline.stat().st_size / 1e6
    print(f"entries={entries} outline={size:.1f}MB first={first:.2f}s unchanged={again:.2f}s "
          f"edited-one-line={edited:.2f}s")


if __name__ == "__main__":
    main()
