"""`tracker sync` as cron runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_tracker
from tracker import lock
from tracker.errors import Busy


def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "seeds", ws / "seeds")
    return ws


def test_sync_imports_seeds_and_prints_progress(tmp_path: Path, db_path: Path) -> None:
    ws = workspace(tmp_path)
    result = run_tracker("sync", "--json", cwd=ws)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["import"]["files"] == 1 and data["import"]["topics"] == 22
    assert data["progress"]["total"] == data["import"]["items"]["added"] > 80
    assert data["failed"] == {}  # no network: every link and query fails, yet every step completes
    assert data["crawl"]["checked"] > 50 and data["crawl"]["ok"] == 0
    assert data["crawl"]["checked"] == data["crawl"]["gone"] + data["crawl"]["error"] + data["crawl"]["blocked"]
    # arXiv cannot be reached either: the fetch stops at its first request, with one line.
    assert data["papers"]["stopped"] == "unreachable" and data["papers"]["new"] == 0
    assert len(data["papers"]["errors"]) == 1
    again = json.loads(run_tracker("sync", "--json", cwd=ws).stdout)
    assert again["import"]["items"]["added"] == 0


def test_a_second_sync_exits_at_once(tmp_path: Path, db_path: Path) -> None:
    ws = workspace(tmp_path)
    path = lock.lock_path_for("sqlite:///" + str(db_path), tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from pathlib import Path; from tracker import lock\n"
        "with lock.exclusive(Path(sys.argv[2])):\n    print('held', flush=True); time.sleep(30)"),
        str(ROOT), str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        result = run_tracker("sync", cwd=ws)
        assert time.monotonic() - start < 10
        assert result.returncode == 1
        assert result.stderr.startswith("error: another tracker sync is running")
    finally:
        holder.kill()
        holder.wait()
    assert run_tracker("sync", "--json", cwd=ws).returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="fork")
def test_a_killed_syncs_lock_is_free_though_a_process_it_forked_lives_on(tmp_path: Path) -> None:
    """The crawl forks its workers; the lock must belong to the sync's own process, not to them too."""
    path = tmp_path / "db.sync.lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import os, sys, time; sys.path.insert(0, sys.argv[1]); from pathlib import Path; from tracker import lock\n"
        "with lock.exclusive(Path(sys.argv[2])):\n"
        "    child = os.fork()\n"
        "    if child == 0:\n        time.sleep(30); os._exit(0)\n"
        "    print(child, flush=True); time.sleep(30)"),
        str(ROOT), str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    child = int(holder.stdout.readline())
    try:
        with pytest.raises(Busy), lock.exclusive(path):
            pass
        holder.kill()
        holder.wait()
        os.kill(child, 0)  # the forked process still runs (this raises if it does not)
        with lock.exclusive(path):
            pass
    finally:
        os.kill(child, 9)


def test_a_person_reads_one_line_per_step(tmp_path: Path, db_path: Path) -> None:
    """No JSON for people: each step in words, the crawl's failures grouped by cause, then progress."""
    ws = workspace(tmp_path)
    result = run_tracker("sync", cwd=ws)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    steps = [line.split(":", 1)[0] for line in lines[:4]]
    assert steps == ["import", "crawl", "papers", "weeks"]
    assert not any(line.lstrip().startswith("{") for line in lines)
    assert lines[0].startswith("import: 1 file(s), 22 topics: ")
    crawl = lines[1]
    assert " checked — " in crawl and "(" in crawl  # failed links come with their cause
    assert lines[2].startswith("papers: ") and "arXiv unreachable" in lines[2] and lines[2].count("failed") == 1
    assert any(line.startswith("Progress:") for line in lines[4:])
