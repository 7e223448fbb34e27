"""Titles, headings, page titles and feed fields are printed as text (issue 21, findings 2 and 3).

No Rich markup in them is interpreted (`[/INST]` crashed list, show, progress, topics and sync;
`[link=...]` became a clickable link), and no control character reaches the terminal (an OSC
title change, a screen clear). Checked through every printing command, in-process and, where
Rich behaves differently, on a pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, update
from typer.testing import CliRunner

from tests.conftest import ROOT, LocalServer, reply
from tracker import ingest
from tracker.cli import app
from tracker.store import db as dbmod
from tracker.store.models import Event, Fetch, Paper, Topic

item_t, tag_t = dbmod.item_t, dbmod.tag_t
event_t = Event.__table__  # type: ignore[attr-defined]
fetch_t = Fetch.__table__  # type: ignore[attr-defined]
paper_t = Paper.__table__  # type: ignore[attr-defined]
topic_t = Topic.__table__  # type: ignore[attr-defined]

OUTLINE = """# Course

## Basics

- [entry a](http://127.0.0.1:9/a)
- [entry b](http://127.0.0.1:9/b)
- [paper c](https://arxiv.org/abs/2401.00001)
"""

# Characters a terminal acts on; none may be printed raw (line feeds between lines are ours, and a
# tab in a text of several lines, an abstract or notes, is only blank space).
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_ONE_LINE_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

HOSTILE = ("Llama 2 chat format [INST] and [/INST] [link=https://evil.example]phish[/link] :warning: "
           "\x1b]0;pwned\x07 \x1b[2J \x9b31m \u202eevil \r=HYPERLINK(\"x\") [bold]")


def _visible(text: str) -> str:
    """How the rule shows a one-line string: every control character as a \\x or \\u escape."""
    return _ONE_LINE_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                            else f"\\u{ord(m.group()):04x}", text)


def _setup(database: dbmod.Database, folder: Path) -> None:
    path = folder / "course.md"
    path.write_text(OUTLINE, encoding="utf-8")
    ingest.import_files(database, [path])
    with database.write() as conn:
        conn.execute(insert(item_t).values(
            key="arxiv:2401.00002", url="https://arxiv.org/abs/2401.00002", arxiv_id="2401.00002", title="x",
            kind="paper", status="inbox", source="arxiv", section="", position=0, retired=False, notes="",
            added_at=dbmod.utcnow()))
        slug = conn.execute(topic_t.select()).first().slug
        conn.execute(insert(tag_t).values(item_id=4, slug=slug, origin="auto", score=0.9))


def _poison(database: dbmod.Database, title: str) -> None:
    """Every outside string the commands print becomes `title` (numbered where it names an item)."""
    now = dbmod.utcnow()
    with database.write() as conn:
        for item_id in (1, 2, 3, 4):
            conn.execute(update(item_t).where(item_t.c.id == item_id).values(
                title=f"{title} #{item_id}", section=f"Course / {title}", notes=f"{title}\nline two {title}",
                status={1: "digested", 2: "reading", 3: "unread", 4: "inbox"}[item_id], status_at=now))
        conn.execute(update(topic_t).values(title=title))
        conn.execute(delete(event_t))
        conn.execute(insert(event_t), [dict(item_id=1, status="digested", at=now - timedelta(minutes=5), note=title),
                                       dict(item_id=2, status="reading", at=now - timedelta(minutes=5), note=None)])
        conn.execute(delete(fetch_t))
        for item_id in (1, 2):
            conn.execute(insert(fetch_t).values(item_id=item_id, state="ok", http_status=200, title=f"page {title}",
                                                checked_at=now, final_url=f"http://127.0.0.1:9/{item_id}"))
        conn.execute(delete(paper_t))
        for item_id, arxiv_id in ((3, "2401.00001"), (4, "2401.00002")):
            conn.execute(insert(paper_t).values(
                item_id=item_id, arxiv_id=arxiv_id, version=1, authors=json.dumps([title, "B. Author"]),
                abstract=f"{title}\nthe abstract {title}", categories='["cs.LG"]', primary_category="cs.LG",
                published=now - timedelta(days=1), updated=now, doi=title, journal_ref=title, comment=title,
                abs_url=f"https://arxiv.org/abs/{arxiv_id}", title=f"arXiv {title}"))


# (command, whether the title must show in its output as the rule prints it)
COMMANDS: list[tuple[list[str], bool]] = [
    (["list"], True), (["list", "--status", "inbox"], True), (["show", "1"], True), (["show", "3"], True),
    (["progress"], True), (["topics"], True), (["next"], True), (["papers", "show", "3"], True),
    (["papers", "inbox"], True), (["report", "weekly"], False), (["classify", "entry a"], False),
]


def _check(output: str, title: str, must_show: bool, command: list[str]) -> None:
    assert "Traceback" not in output, command
    assert _RAW_CONTROL.search(output) is None, (command, output)
    if must_show:
        shown = _visible(title)
        assert shown in output or shown.strip() in output, (command, shown, output)


@pytest.fixture
def hostile(database: dbmod.Database, tmp_path: Path) -> Iterator[dbmod.Database]:
    _setup(database, tmp_path)
    yield database


def _invoke(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env={"COLUMNS": "4000"}, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def test_the_probe_titles_print_as_text_in_every_command(hostile: dbmod.Database) -> None:
    _poison(hostile, HOSTILE)
    for command, must_show in COMMANDS:
        code, output = _invoke(command)
        assert code == 0, (command, output)
        _check(output, HOSTILE, must_show, command)
        if must_show:
            assert "[/INST]" in output and "[link=https://evil.example]phish[/link]" in output, command


_FRAGMENTS = st.sampled_from([
    "[/INST]", "[INST]", "[link=https://evil.example]", "[/link]", "[bold red]", "[/]", ":warning:", ":smile:",
    "\x1b]0;t\x07", "\x1b[2J", "\x1b[31m", "\x9b", "\x85", "\u202e", "\u2066", "\u2028", "\r", "\x00", "\x08",
    "\x7f", "=", "+", "-", "@", "\t", "\\", "\\[", "[", "]", "字", "《书》", "%s", "{x}", "word", " ",
])
_HOSTILE_TITLES = st.lists(_FRAGMENTS, min_size=1, max_size=8).map("".join).filter(lambda t: bool(t.strip()))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(title=_HOSTILE_TITLES)
def test_any_title_prints_as_text_in_every_command(hostile: dbmod.Database, title: str) -> None:
    _poison(hostile, title)
    for command, must_show in COMMANDS:
        code, output = _invoke(command)
        assert code == 0, (command, output)
        _check(output, title, must_show, command)


def test_sync_and_search_print_outside_strings_as_text(hostile: dbmod.Database) -> None:
    _poison(hostile, HOSTILE)
    for command in (["sync"], ["search", "entry"], ["read", "1"]):
        code, output = _invoke(command)
        assert code in (0, 1), (command, output)  # a sync without network finishes, its failures counted
        _check(output, HOSTILE, command != ["search", "entry"], command)


def test_json_output_escapes_every_control_character(hostile: dbmod.Database) -> None:
    _poison(hostile, HOSTILE)
    for command in (["list", "--json"], ["show", "1", "--json"], ["report", "weekly", "--format", "json"]):
        code, output = _invoke(command)
        assert code == 0 and _RAW_CONTROL.search(output.rstrip("\n")) is None, command
        json.loads(output)


def test_an_error_line_with_a_newline_stays_one_line(db_path: Path, tmp_path: Path) -> None:
    from tests.conftest import run_tracker

    odd = tmp_path / "a\nb\x1b[2J.md"
    result = run_tracker("import", str(odd))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


# --- on a terminal ------------------------------------------------------------------------------

# What Rich itself writes on a terminal: colours and styles, hiding and showing the cursor, erasing and
# moving up a line (the progress bar). Anything else beginning with ESC came from the data.
_RICH_SEQUENCES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\?25[lh]|\x1b\[2K|\x1b\[\d*[AG]|\r")


def _on_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run `tracker ARGS` with stdout and stderr on a pseudo-terminal; its exit status and everything written."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tracker", *args], stdin=subprocess.DEVNULL, stdout=follower,
                            stderr=follower, env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color",
                                                  "COLUMNS": "400", **env})
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=10)
    return code, b"".join(chunks).decode("utf-8", "replace")


def _terminal_safe(output: str) -> str:
    rest = _RICH_SEQUENCES.sub("", output).replace("\n", "")
    assert "\x1b]" not in output and "\x07" not in output and "\x1b[2J" not in output
    assert _RAW_CONTROL.search(rest) is None, repr(rest[:500])
    return rest


def test_commands_on_a_terminal_write_no_escape_sequence_of_the_data(hostile: dbmod.Database,
                                                                     db_path: Path) -> None:
    _poison(hostile, HOSTILE)
    hostile.close()
    for command in (["list"], ["show", "1"], ["progress"], ["topics"], ["next"], ["papers", "show", "3"],
                    ["papers", "inbox"], ["report", "weekly"], ["export", "--format", "csv"],
                    ["export", "--format", "markdown"]):
        code, output = _on_terminal(command, {"TRACKER_DB": str(db_path)})
        assert code == 0, (command, output)
        rest = _terminal_safe(output)
        assert "[/INST]" in rest or "\\[/INST\\]" in rest, command


def test_a_crawl_on_a_terminal_shows_hostile_page_titles_as_text(server: LocalServer, tmp_path: Path,
                                                                 db_path: Path) -> None:
    page = "<html><head><title>[/INST] \x1b]0;pwned\x07 \x1b[2J [link=https://evil.example]x[/link]</title></head></html>"
    for n in range(30):
        server.routes[f"/p{n}"] = reply(200, page)
    outline = tmp_path / "pages.md"
    outline.write_text("# Pages\n\n" + "".join(f"- [page {n}]({server.url(f'/p{n}')})\n" for n in range(30)),
                       encoding="utf-8")
    env = {"TRACKER_DB": str(db_path)}
    assert _on_terminal(["import", str(outline)], env)[0] == 0
    code, output = _on_terminal(["crawl", "--delay", "0", "--per-host", "4", "--timeout", "5"], env)
    assert code == 0, output
    _terminal_safe(output)
    code, output = _on_terminal(["show", "1"], env)
    assert code == 0
    assert "[/INST] \\x1b]0;pwned\\x07 \\x1b[2J [link=https://evil.example]x[/link]" in _terminal_safe(output)
