"""`tracker search` and `tracker read` as a person and a script use them, and `export --with-text`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import Cli, run_tracker
from tracker.store import db as dbmod
from tracker.store.pagetext import keep_text

OUTLINE = """# Deep learning

## 优化

- [深度学习中 Batch Normalization为什么效果好？](https://www.zhihu.com/question/38102762)
- [卷积神经网络的卷积核大小如何确定](https://www.zhihu.com/question/1)
- [[bold]Markup[/bold] is only text](https://example.org/markup)
"""


@pytest.fixture
def listed(cli: Cli, tmp_path: Path, db_path: Path) -> dict[str, int]:
    outline = tmp_path / "seeds" / "dl.md"
    outline.parent.mkdir()
    outline.write_text(OUTLINE, encoding="utf-8")
    cli("import", str(outline))
    ids = {row["title"]: row["id"] for row in cli.json("list")}
    bn = ids["深度学习中 Batch Normalization为什么效果好？"]
    cli("mark", str(bn), "digested", "--note", "BN smooths the loss surface")
    database = dbmod.open_db("sqlite:///" + str(db_path))
    with database.write() as conn:
        keep_text(conn, bn, "批归一化让损失曲面更平滑。It normalizes each layer's inputs.", datetime(2026, 11, 20, 8))
    database.close()
    return {"bn": bn, "conv": ids["卷积神经网络的卷积核大小如何确定"],
            "markup": ids["[bold]Markup[/bold] is only text"]}


def test_json_rows_have_the_contract_keys_and_offsets(cli: Cli, listed: dict[str, int]) -> None:
    [row] = cli.json("search", "BN 为什么有效")
    assert {"id", "title", "status", "topics", "kind", "snippet", "score", "matches"} <= set(row)
    assert (row["id"], row["status"], row["kind"]) == (listed["bn"], "digested", "question")
    assert [row["snippet"][a:b] for a, b in row["matches"]] == ["BN"]
    assert [r["id"] for r in cli.json("search", "卷积")] == [listed["conv"]]
    [row] = cli.json("search", "normalization", "--in", "text")
    assert "normalizes" in row["snippet"]
    assert cli.json("search", "卷积", "--status", "digested") == []
    # Words after the first, a leading minus among them, are the query's too.
    assert [r["id"] for r in cli.json("search", "BN", "为什么")] == [listed["bn"]]
    assert cli.json("search", "normalization", "-BN") == []
    assert cli.json("search", "卷积", "--kind", "question", "--limit", "1")[0]["id"] == listed["conv"]


def test_rows_for_a_person_print_titles_as_text(cli: Cli, listed: dict[str, int]) -> None:
    out = cli("search", "markup").stdout
    assert f"#{listed['markup']}" in out and "[bold]Markup[/bold]" in out
    out = cli("search", "平滑").stdout
    assert f"#{listed['bn']}  digested" in out and "批归一化让损失曲面更平滑" in out
    assert cli("search", "nothing-like-this").stdout.strip() == "no items found"


@pytest.mark.parametrize("args", [("",), ("   ",), ('"',), ("-BN",), ("* : -",), ("x", "--status", "done"),
                                  ("x", "--in", "url"), ("x", "--limit", "0"), ("x", "--topic", "nope"), ()])
def test_bad_input_is_one_error_line(cli: Cli, listed: dict[str, int], args: tuple[str, ...]) -> None:
    result = cli("search", *args, code=2)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


@pytest.mark.parametrize("query", ['"unclosed 卷积', "NEAR(卷积 BN", "title:BN", "BN*", '"" BN', "c++ OR AND NOT",
                                   "卷积 -", "^BN", "{title}: x", "BN'"])
def test_fts_syntax_typed_by_a_person_is_only_text(cli: Cli, listed: dict[str, int], query: str) -> None:
    result = cli("search", query, "--json")
    assert isinstance(json.loads(result.stdout), list)


def test_rebuild(cli: Cli, listed: dict[str, int]) -> None:
    assert cli.json("search", "--rebuild") == {"rebuilt": 3}
    assert [r["id"] for r in cli.json("search", "平滑", "--rebuild")] == [listed["bn"]]


def test_read_prints_the_heading_notes_and_text_plainly_when_piped(cli: Cli, listed: dict[str, int]) -> None:
    out = cli("read", str(listed["bn"])).stdout
    head, _, body = out.partition("\n\n")
    lines = head.splitlines()
    assert lines[:2] == ["深度学习中 Batch Normalization为什么效果好？", "https://www.zhihu.com/question/38102762"]
    assert lines[2].startswith("fetched: 2026-11-2")
    assert "BN smooths the loss surface" in head
    assert body.strip() == "批归一化让损失曲面更平滑。It normalizes each layer's inputs."
    data = cli.json("read", "https://www.zhihu.com/question/38102762")
    assert data["id"] == listed["bn"] and data["text"].startswith("批归一化")
    assert data["fetched_at"] is not None
    none = cli.json("read", str(listed["conv"]))
    assert (none["text"], none["fetched_at"]) == (None, None)
    assert "(no page text kept)" in cli("read", str(listed["conv"])).stdout
    assert cli("read", "999", code=2).stderr.startswith("error: ")


def test_export_json_with_text(cli: Cli, listed: dict[str, int]) -> None:
    rows = {r["id"]: r for r in json.loads(cli("export", "--format", "json", "--with-text").stdout)}
    assert rows[listed["bn"]]["text"].startswith("批归一化")
    assert rows[listed["conv"]]["text"] is None
    assert "text" not in json.loads(cli("export", "--format", "json").stdout)[0]
    result = cli("export", "--format", "csv", "--with-text", code=2)
    assert result.stderr.startswith("error: ")


def test_search_as_a_process_reads_no_network_or_parsing_libraries(listed: dict[str, int], db_path: Path) -> None:
    code = ("import sys\nfrom tracker.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
            "    pass\nheavy = [m for m in ('httpx', 'bs4', 'lxml', 'sklearn', 'arxiv', 'markdown_it', 'sqlmodel') "
            "if m in sys.modules]\nprint(heavy)\n")
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-c", code, "search", "卷积", "--json"], capture_output=True, text=True,
                          timeout=60, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr
    assert run_tracker("search", "卷积", "--json").returncode == 0
