"""The crawl's reading mark: a file per running crawl, taken over by the next crawl once its process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tracker.crawl.marks import ReadingMark, left_behind, marks_prefix

ROOT = Path(__file__).resolve().parents[2]

_HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from tracker.crawl.marks import ReadingMark
with ReadingMark(Path(sys.argv[1])) as mark:
    mark.reading(int(sys.argv[2]))
    print("reading", flush=True)
    time.sleep(60)
"""


def test_a_live_crawls_mark_is_left_alone_and_a_dead_ones_is_taken(tmp_path: Path) -> None:
    prefix = tmp_path / "t.db.reading"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD.format(root=str(ROOT)), str(prefix), "4711"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "reading"
        assert left_behind(prefix) == []  # its crawl still runs
        assert (tmp_path / f"t.db.reading.{proc.pid}").exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert left_behind(prefix) == [4711]
    assert not list(tmp_path.glob("t.db.reading.*"))
    assert left_behind(prefix) == []


def test_a_page_read_to_the_end_leaves_nothing_for_the_next_crawl(tmp_path: Path) -> None:
    prefix = tmp_path / "t.db.reading"
    with ReadingMark(prefix) as mark:
        mark.reading(123456789012)
        mark.done()
        mark.reading(7)  # a shorter id after a longer one replaces all of it
        own = tmp_path / f"t.db.reading.{os.getpid()}"
        assert own.read_text().strip() == "7"
        assert left_behind(prefix) == []  # this process's own mark is never taken
        mark.done()
        assert own.read_text().strip() == ""
    assert not own.exists()
    # A dead crawl that had finished reading its last page leaves no id to record.
    (tmp_path / "t.db.reading.1").write_text(" " * 20)
    assert left_behind(prefix) == []
    # Files that are not a crawl's are never taken, and names with glob characters are taken as they are.
    (tmp_path / "t.db.reading.notes").write_text("42")
    assert left_behind(prefix) == [] and (tmp_path / "t.db.reading.notes").exists()
    odd = tmp_path / "my[1].db.reading"
    (tmp_path / "my[1].db.reading.2").write_text("9")
    assert left_behind(odd) == [9]


def test_marks_live_beside_a_sqlite_file_and_elsewhere_without_naming_the_url(tmp_path: Path) -> None:
    assert marks_prefix("sqlite:////data/my.db", tmp_path) == Path("/data/my.db.reading")
    other = marks_prefix("postgresql://me:secret@host/db", tmp_path)
    assert other.parent == tmp_path and "secret" not in str(other)
    assert other != marks_prefix("postgresql://me:secret@host/other", tmp_path)


def test_a_folder_that_cannot_hold_the_mark_does_not_stop_the_crawl(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    with ReadingMark(blocked / "x.reading") as mark:  # its folder is a file
        mark.reading(1)
        mark.done()
