"""Status with history, notes, show/list filters, export round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, run_tracker
from tests.test_import import OUTLINE, write
from tracker import items
from tracker.errors import UsageError
from tracker.store import db as dbmod


def imported(cli: Cli, tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    cli.json("import", str(write(tmp_path / "list.md", OUTLINE)))
    return cli.json("list")  # type: ignore[no-any-return]


def test_mark_records_history_and_backdating(cli: Cli, tmp_path: Path) -> None:
    items = imported(cli, tmp_path)
    first, second = items[1]["id"], items[2]["id"]
    assert cli.json("mark", str(first), str(second), "reading", "--at", "2026-11-18") == {"changed": 2, "unchanged": 0}
    assert cli.json("mark", str(first), "reading") == {"changed": 0, "unchanged": 1}
    assert cli.json("mark", str(first), "digested", "--at", "2026-11-20T21:30", "--note", "great") == \
        {"changed": 1, "unchanged": 0}
    shown = cli.json("show", str(first))
    assert shown["status"] == "digested"
    assert [h["status"] for h in shown["history"]] == ["reading", "digested"]
    assert shown["history"][1]["at"].startswith("2026-11-20T21:30")
    assert shown["notes"] == "great"
    # A change back-dated before the latest one is history, not the current status.
    cli.json("mark", str(first), "skipped", "--at", "2026-11-19")
    shown = cli.json("show", str(first))
    assert shown["status"] == "digested"
    assert [h["status"] for h in shown["history"]] == ["reading", "skipped", "digested"]


def test_items_by_url_and_arxiv_id(cli: Cli, tmp_path: Path) -> None:
    imported(cli, tmp_path)
    paper = cli.json("show", "arXiv:1512.03385v2")
    assert paper["kind"] == "paper" and paper["title"] == "Deep Residual Learning"
    assert cli.json("show", "https://arxiv.org/pdf/1512.03385v1")["id"] == paper["id"]
    assert cli.json("show", "https://www.zhihu.com/question/111?utm_medium=y")["status"] == "digested"


def test_list_filters(cli: Cli, tmp_path: Path) -> None:
    items = imported(cli, tmp_path)
    cli("mark", str(items[0]["id"]), "unread")
    cli("mark", str(items[-1]["id"]), "skipped")
    assert [i["id"] for i in cli.json("list", "--status", "skipped")] == [items[-1]["id"]]
    assert {i["kind"] for i in cli.json("list", "--kind", "paper")} == {"paper"}
    assert len(cli.json("list", "--limit", "2")) == 2
    slug = cli.json("topics")[1]["slug"]
    assert all(slug in i["topics"] for i in cli.json("list", "--topic", slug))


def test_user_errors_exit_2_and_write_nothing(cli: Cli, tmp_path: Path, db_path: Path) -> None:
    items = imported(cli, tmp_path)
    first = str(items[0]["id"])
    for args in (["mark", first, "done"], ["mark", first, "9999", "digested"],
                 ["mark", first, "reading", "--at", "20/11"], ["show", "nope"], ["list", "--status", "later"],
                 ["list", "--topic", "no-such-topic"],
                 ["tag", first, "no-such-topic"], ["note", "424242", "x"], ["list", "--kind", "video"]):
        result = run_tracker(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, (args, result.stderr)
    history = cli.json("show", first)["history"]
    assert [(h["status"], h["note"]) for h in history] == [("digested", "ticked in the outline")]


def test_note_command_appends(cli: Cli, tmp_path: Path) -> None:
    items = imported(cli, tmp_path)
    cli("note", str(items[0]["id"]), "first thought")
    cli("note", str(items[0]["id"]), "second thought")
    assert cli.json("show", str(items[0]["id"]))["notes"] == "first thought\nsecond thought"


def test_markdown_export_imports_back_with_statuses(cli: Cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    items = imported(cli, tmp_path)
    cli("mark", str(items[3]["id"]), "digested")
    out = tmp_path / "export.md"
    cli("export", "--format", "markdown", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert "- [x] [Deep Residual Learning](https://arxiv.org/abs/1512.03385)" in text
    assert "%" in text
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "other.db"))
    cli.json("import", str(out))
    again = {i["url"] or i["title"]: i["status"] for i in cli.json("list")}
    original = {i["url"] or i["title"]: ("digested" if i["id"] in (items[0]["id"], items[3]["id"]) else "unread")
                for i in items}
    assert again == original


def test_csv_and_json_export(cli: Cli, tmp_path: Path) -> None:
    import csv
    import io
    import json

    items = imported(cli, tmp_path)
    rows = list(csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout)))
    assert [int(r["id"]) for r in rows] == [i["id"] for i in items]
    data = json.loads(cli("export", "--format", "json").stdout)
    assert data[0]["history"][0]["status"] == "digested"


def test_a_listing_from_an_offset_is_that_part_of_the_whole(cli: Cli, tmp_path: Path,
                                                            database: dbmod.Database) -> None:
    imported(cli, tmp_path)
    with database.read() as conn:
        whole = items.list_items(conn)
        assert len(whole) > 4
        for offset in (1, 3, len(whole) - 1, len(whole), len(whole) + 5):
            assert items.list_items(conn, offset=offset) == whole[offset:]
            assert items.list_items(conn, offset=offset, limit=2) == whole[offset:offset + 2]
        digested = items.list_items(conn, status="digested")
        assert items.list_items(conn, status="digested", offset=1) == digested[1:]
        with pytest.raises(UsageError):
            items.list_items(conn, offset=-1)
