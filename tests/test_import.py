"""`tracker import`: faithful, idempotent, never resetting what the learner did."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, Cli, run_tracker

OUTLINE = """\
# Reading list

## Basics

- [x] [What is a neural network?](https://www.zhihu.com/question/111?utm_source=x&rf=2)
- [ ] [Backprop explained](https://zhuanlan.zhihu.com/p/222/)
- 《深度学习》

## Papers

- [Deep Residual Learning](https://arxiv.org/abs/1512.03385v2)
- [ResNet again](https://arxiv.org/pdf/1512.03385.pdf)
- [A repo](https://github.com/owner/repo)
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_first_import_counts_and_statuses(cli: Cli, tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", OUTLINE)
    summary = cli.json("import", str(outline))
    assert summary == {"files": 1, "topics": 2,
                       "items": {"added": 5, "updated": 0, "unchanged": 0, "retired": 0}}
    items = cli.json("list")
    by_title = {i["title"]: i for i in items}
    assert by_title["What is a neural network?"]["status"] == "digested"
    assert by_title["What is a neural network?"]["url"] == "https://www.zhihu.com/question/111"
    assert by_title["Backprop explained"]["status"] == "unread"
    assert by_title["《深度学习》"]["kind"] == "book"
    assert by_title["Deep Residual Learning"]["arxiv_id"] == "1512.03385"
    assert by_title["Deep Residual Learning"]["section"] == "Reading list / Papers"
    assert by_title["A repo"]["kind"] == "repo"
    assert all(i["fetch"] is None for i in items)
    # Without a topics file every heading holding items is a topic, and items under it carry it.
    topics = cli.json("topics")
    assert [t["title"] for t in topics] == ["Basics", "Papers"]
    assert by_title["A repo"]["topics"] == [topics[1]["slug"]]


def test_reimport_unchanged_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", OUTLINE)
    cli.json("import", str(outline))
    before = cli.json("list")
    again = cli.json("import", str(outline))
    assert again["items"] == {"added": 0, "updated": 0, "unchanged": 5, "retired": 0}
    assert cli.json("list") == before


def test_edit_updates_and_removal_retires_keeping_history(cli: Cli, tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", OUTLINE)
    cli.json("import", str(outline))
    repo = next(i for i in cli.json("list") if i["kind"] == "repo")
    cli("mark", str(repo["id"]), "reading", "--note", "started")
    edited = OUTLINE.replace("[Backprop explained]", "[Backprop, explained well]")
    edited = edited.replace("- [A repo](https://github.com/owner/repo)\n", "")
    write(outline, edited)
    summary = cli.json("import", str(outline))
    assert summary["items"] == {"added": 0, "updated": 1, "unchanged": 3, "retired": 1}
    titles = [i["title"] for i in cli.json("list")]
    assert "Backprop, explained well" in titles and "A repo" not in titles
    shown = cli.json("show", str(repo["id"]))
    assert shown["retired"] is True and shown["status"] == "reading"
    assert [h["status"] for h in shown["history"]] == ["reading"]
    assert shown["notes"] == "started"
    # Putting it back un-retires the same item, history intact.
    write(outline, OUTLINE.replace("[Backprop explained]", "[Backprop, explained well]"))
    assert cli.json("import", str(outline))["items"]["updated"] == 1
    assert cli.json("show", "https://github.com/owner/repo/")["id"] == repo["id"]


def test_import_never_resets_status(cli: Cli, tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", OUTLINE)
    cli.json("import", str(outline))
    cli("mark", "https://www.zhihu.com/question/111", "unread")
    write(outline, OUTLINE + "\n- [New one](https://example.org/new)\n")
    cli.json("import", str(outline))
    assert cli.json("show", "https://www.zhihu.com/question/111")["status"] == "unread"


def test_default_imports_every_seed_outline_with_its_topics_file(cli: Cli, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = tmp_path / "ws"
    shutil.copytree(ROOT / "seeds", workspace / "seeds")
    monkeypatch.chdir(workspace)
    summary = cli.json("import")
    assert summary["files"] == 1 and summary["topics"] == 22
    assert summary["items"]["added"] > 80
    topics = cli.json("topics")
    outline_lines = (ROOT / "seeds" / "deep-learning.md").read_text(encoding="utf-8")
    for topic in topics:
        assert f"- {topic['title']}\n" in outline_lines
    assert sorted({t["group"] for t in topics}) == [1, 2, 3, 4, 5]
    again = cli.json("import")
    assert again["items"]["added"] == 0 and again["items"]["updated"] == 0


def test_manual_tags_survive_reimport(cli: Cli, tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", OUTLINE)
    cli.json("import", str(outline))
    slugs = [t["slug"] for t in cli.json("topics")]
    repo_url = "https://github.com/owner/repo"
    cli("tag", repo_url, slugs[0])
    cli("untag", repo_url, slugs[1])
    assert cli.json("show", repo_url)["topics"] == [slugs[0]]
    # A changed outline re-tags its items; the learner's choices stay.
    write(outline, OUTLINE.replace("## Papers", "## Papers to read"))
    cli.json("import", str(outline))
    assert cli.json("show", repo_url)["topics"] == [slugs[0]]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.md", "no such file"),
    (lambda p: p, "is a directory"),
    (lambda p: write(p / "bad.md", "").with_suffix(".md"), None),
])
def test_bad_files_are_one_line_errors(tmp_path: Path, db_path: Path, make, message) -> None:  # type: ignore[no-untyped-def]
    target = make(tmp_path)
    if message is None:
        target.write_bytes(b"# title\n- [x](http://a.example)\n\xff\xfe\xfa")
        message = "not UTF-8"
    result = run_tracker("import", str(target), "--json")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_malformed_topics_file_writes_nothing(tmp_path: Path, db_path: Path) -> None:
    good = write(tmp_path / "a.md", OUTLINE)
    bad = write(tmp_path / "b.md", OUTLINE.replace("owner/repo", "other/repo"))
    write(tmp_path / "b.topics.toml", "[[topic]\nslug = ")
    result = run_tracker("import", str(good), str(bad), "--json")
    assert result.returncode == 2 and result.stderr.startswith("error: ")
    listed = run_tracker("list", "--json")
    assert listed.returncode == 0 and listed.stdout.strip() == "[]"


def test_two_tracker_processes_writing_at_once_both_succeed(tmp_path: Path, db_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    outline = write(tmp_path / "list.md", OUTLINE)
    assert run_tracker("import", str(outline)).returncode == 0
    env = {"PYTHONPATH": str(ROOT), "TRACKER_DB": str(db_path), "PATH": "/usr/bin:/bin"}
    procs = [subprocess.Popen([sys.executable, "-m", "tracker", "mark", ref, status], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for ref, status in (("https://github.com/owner/repo", "reading"), ("arXiv:1512.03385", "digested"),
                                 ("https://zhuanlan.zhihu.com/p/222", "skipped"))]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    statuses = {i["url"]: i["status"] for i in json.loads(run_tracker("list", "--json").stdout)}
    assert statuses["https://github.com/owner/repo"] == "reading"
    assert statuses["https://arxiv.org/abs/1512.03385"] == "digested"
    assert statuses["https://zhuanlan.zhihu.com/p/222"] == "skipped"


def test_database_given_as_a_sqlalchemy_url(tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", OUTLINE)
    url = "sqlite:///" + str(tmp_path / "elsewhere" / "t.db")
    result = run_tracker("--db", url, "import", str(outline), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["items"]["added"] == 5
    assert (tmp_path / "elsewhere" / "t.db").exists()
    info = json.loads(run_tracker("--db", url, "info", "--json").stdout)
    assert info["database"] == url


def test_a_large_edit_keeps_the_tags_of_untouched_items(cli: Cli, tmp_path: Path) -> None:
    """More than a few thousand retitled items take the bulk path; the other items keep their tags."""
    lines = ["# Big", "", "## Convolutional networks", ""]
    lines += [f"- [Paper {i}](https://example.org/p/{i})" for i in range(2600)]
    outline = write(tmp_path / "big.md", "\n".join(lines) + "\n")
    cli.json("import", str(outline))
    retitled = [f"- [Paper {i} revised](https://example.org/p/{i})" if i < 2100 else line
                for i, line in enumerate(lines[4:])]
    write(outline, "\n".join(lines[:4] + retitled) + "\n")
    assert cli.json("import", str(outline))["items"]["updated"] == 2100
    slug = cli.json("topics")[0]["slug"]
    assert len(cli.json("list", "--topic", slug)) == 2600


def test_an_entry_dropped_by_its_outline_moves_to_another_that_lists_it(cli: Cli, tmp_path: Path) -> None:
    first = write(tmp_path / "a.md", "# A\n\n- [Shared](https://example.org/shared)\n- [Only A](https://example.org/a)\n")
    second = write(tmp_path / "b.md", "# B\n\n- [Shared](https://example.org/shared)\n")
    cli.json("import", str(first), str(second))
    cli("mark", "https://example.org/shared", "reading")
    write(first, "# A\n\n- [Only A](https://example.org/a)\n")
    assert cli.json("import", str(first))["items"]["retired"] == 0
    # The other outline, unchanged and not even imported again, takes the entry over, status intact.
    shared = cli.json("show", "https://example.org/shared")
    assert shared["retired"] is False and shared["status"] == "reading"
    assert shared["section"] == "B"
    assert cli.json("import", str(second))["items"]["unchanged"] == 1
    # Once no outline lists it, it is retired, its history kept.
    write(second, "# B\n\n- [New in B](https://example.org/b)\n")
    assert cli.json("import", str(second))["items"]["retired"] == 1
    assert cli.json("show", "https://example.org/shared")["retired"] is True


def test_a_dropped_entry_is_retired_when_the_other_outline_file_is_gone(cli: Cli, tmp_path: Path) -> None:
    first = write(tmp_path / "a.md", "# A\n\n- [Shared](https://example.org/shared)\n")
    second = write(tmp_path / "b.md", "# B\n\n- [Shared](https://example.org/shared)\n")
    cli.json("import", str(first), str(second))
    second.unlink()  # nothing left to read it from: the entry cannot be handed over
    write(first, "# A\n\n- [Other](https://example.org/other)\n")
    assert cli.json("import", str(first))["items"]["retired"] == 1
    assert cli.json("show", "https://example.org/shared")["retired"] is True


# --- nothing an outline holds is lost, nothing is retired by mistake (issue 21) ---------------


def _deep_outline(depth: int, after: int = 50) -> str:
    lines = ["# Deep", ""] + ["  " * level + f"- [level {level}](https://deep.example/{level})"
                              for level in range(depth)]
    lines += ["", "# Later", ""] + [f"- [later {n}](https://later.example/{n})" for n in range(after)]
    return "\n".join(lines) + "\n"


def test_an_outline_that_gains_a_tenth_level_keeps_every_item(cli: Cli, tmp_path: Path) -> None:
    outline = write(tmp_path / "list.md", _deep_outline(9))
    assert cli.json("import", str(outline))["items"]["added"] == 59
    cli("mark", "https://later.example/49", "digested")
    write(outline, _deep_outline(12))
    summary = cli.json("import", str(outline))
    assert summary["items"] == {"added": 3, "updated": 0, "unchanged": 59, "retired": 0}
    listed = {item["url"]: item for item in cli.json("list")}
    assert len(listed) == 62
    assert listed["https://later.example/49"]["status"] == "digested"
    assert listed["https://later.example/49"]["section"] == "Later"


def _items_file(path: Path, count: int, start: int = 0) -> Path:
    return write(path, f"# {path.stem}\n\n" + "".join(f"- [entry {n}](https://e.example/{n})\n"
                                             for n in range(start, start + count)))


def test_retiring_more_than_a_quarter_is_refused_with_nothing_written(tmp_path: Path, db_path: Path) -> None:
    first = _items_file(tmp_path / "a.md", 40)
    other = _items_file(tmp_path / "b.md", 4, start=100)
    assert run_tracker("import", str(first), str(other)).returncode == 0
    before = run_tracker("list", "--json").stdout
    _items_file(first, 29)  # 11 of 40 gone: more than a quarter, more than five
    _items_file(other, 5, start=100)  # an addition, in a file listed before the refused one
    result = run_tracker("import", str(other), str(first), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "would retire 11 of its 40 items" in result.stderr and "--retire" in result.stderr
    assert run_tracker("list", "--json").stdout == before
    done = run_tracker("import", "--retire", str(other), str(first), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"] == {"added": 1, "updated": 0, "unchanged": 33, "retired": 11}


@pytest.mark.parametrize(("count", "kept", "refused"), [
    (40, 30, False),   # exactly a quarter
    (40, 29, True),    # more than a quarter
    (8, 3, False),     # five: few enough whatever the share
    (8, 2, True),      # six of eight
    (200, 149, True),
])
def test_the_retirement_threshold(cli: Cli, tmp_path: Path, count: int, kept: int, refused: bool) -> None:
    outline = _items_file(tmp_path / "list.md", count)
    cli.json("import", str(outline))
    _items_file(outline, kept)
    result = cli("import", str(outline), "--json", code=2 if refused else 0)
    if refused:
        assert "more than a quarter" in result.stderr
        assert len(cli.json("list")) == count
    else:
        assert json.loads(result.stdout)["items"]["retired"] == count - kept


def test_an_entry_handed_to_another_outline_is_not_counted_as_retired(cli: Cli, tmp_path: Path) -> None:
    first = _items_file(tmp_path / "a.md", 10)
    second = _items_file(tmp_path / "b.md", 10)  # the same ten pages: a.md owns them
    cli.json("import", str(first), str(second))
    write(first, "# A\n")
    assert cli.json("import", str(first))["items"]["retired"] == 0


def test_sync_reports_a_refused_import_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    seeds = tmp_path / "seeds"
    _items_file(seeds / "list.md", 20)
    env = {"TRACKER_DB": str(tmp_path / "db" / "t.db")}
    assert run_tracker("import", env=env, cwd=tmp_path).returncode == 0
    _items_file(seeds / "list.md", 2)
    result = run_tracker("sync", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert "would retire 18 of its 20 items" in report["failed"]["import"]
    assert report["progress"]["total"] == 20


def test_a_part_the_parser_cannot_read_is_an_error_and_changes_nothing(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.outline import blocks

    outline = write(tmp_path / "list.md", _deep_outline(9))
    cli.json("import", str(outline))
    before = cli.json("list")
    write(outline, _deep_outline(40))
    monkeypatch.setattr(blocks, "flatten_containers", lambda text: text)  # as if flattening fell short
    result = cli("import", str(outline), code=2)
    assert result.stderr.startswith("error: cannot read all of") and "nothing imported" in result.stderr
    assert cli.json("list") == before


# --- input size ---------------------------------------------------------------------------------


def test_import_of_dev_zero_ends_fast_with_one_error(db_path: Path) -> None:
    import time

    started = time.monotonic()
    result = run_tracker("import", "/dev/zero", timeout=30)
    assert time.monotonic() - started < 15
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "larger than 20,000,000 bytes" in result.stderr


def test_a_50_mb_single_line_outline_is_refused_quickly(tmp_path: Path, db_path: Path) -> None:
    import time

    big = tmp_path / "big.md"
    with big.open("wb") as handle:
        for _ in range(50):
            handle.write(b"[x](https://e.example/) " * 43_690 + b"a" * 16)
    started = time.monotonic()
    result = run_tracker("import", str(big), timeout=60)
    assert time.monotonic() - started < 15
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "TRACKER_MAX_OUTLINE_BYTES" in result.stderr


def test_a_line_over_the_limit_is_refused_and_the_limits_are_configurable(tmp_path: Path, db_path: Path) -> None:
    outline = write(tmp_path / "long.md", "# T\n\n- [a](https://e.example/a)\n- " + "b" * 3000 + "\n")
    small = {"TRACKER_MAX_LINE_BYTES": "2000"}
    result = run_tracker("import", str(outline), env=small)
    assert result.returncode == 2 and "line 4 is longer than 2,000 bytes" in result.stderr
    assert run_tracker("import", str(outline)).returncode == 0
    result = run_tracker("import", str(outline), env={"TRACKER_MAX_OUTLINE_BYTES": "100"})
    assert result.returncode == 2 and "larger than 100 bytes" in result.stderr
    result = run_tracker("import", str(outline), env={"TRACKER_MAX_OUTLINE_BYTES": "20MB"})
    assert result.returncode == 2 and "TRACKER_MAX_OUTLINE_BYTES" in result.stderr and "'20MB'" in result.stderr


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_line_lengths_count_every_kind_of_line_end(tmp_path: Path, ending: bytes) -> None:
    from tracker import ingest
    from tracker.errors import InputError

    path = tmp_path / "x.md"
    path.write_bytes(ending.join([b"a" * 90] * 30))
    assert ingest.read_text(path, ingest.InputLimits(file_bytes=10_000, line_bytes=100)).startswith("a")
    path.write_bytes(ending.join([b"a" * 90] * 3 + [b"a" * 101]))
    with pytest.raises(InputError, match="line 4 is longer"):
        ingest.read_text(path, ingest.InputLimits(file_bytes=10_000, line_bytes=100))
