"""`tracker next` follows the curriculum."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli
from tests.test_import import write

CURRICULUM = """\
# Course

## Basics

- [Basics one](https://example.org/b1)
- [Basics two](https://example.org/b2)

## Optimization

- [Opt one](https://example.org/o1)

## Generative models

- [GAN one](https://example.org/g1)
- [GAN two](https://example.org/g2)
"""
TOPICS = """\
[[topic]]
slug = "basics"
title = "Basics"
group = 1

[[topic]]
slug = "opt"
title = "Optimization"
group = 1

[[topic]]
slug = "gen"
title = "Generative models"
group = 2
"""


def setup(cli: Cli, tmp_path: Path) -> dict[str, int]:
    outline = write(tmp_path / "course.md", CURRICULUM)
    write(tmp_path / "course.topics.toml", TOPICS)
    cli.json("import", str(outline))
    return {i["title"]: i["id"] for i in cli.json("list")}


def titles(cli: Cli, *args: str) -> list[str]:
    ids = {i["id"]: i["title"] for i in cli.json("list")}
    return [ids[s["id"]] for s in cli.json("next", *args)]


def test_fresh_import_suggests_foundations_first(cli: Cli, tmp_path: Path) -> None:
    setup(cli, tmp_path)
    rows = cli.json("next", "--limit", "3")
    assert [r["topics"] for r in rows] == [["basics"], ["basics"], ["opt"]]
    assert rows[0]["reason"].startswith("next in Basics (group 1, 0.0% digested")
    assert set(rows[0]) >= {"id", "title", "topics", "reason"}


def test_moves_on_as_topics_are_digested(cli: Cli, tmp_path: Path) -> None:
    ids = setup(cli, tmp_path)
    cli("mark", str(ids["Basics one"]), "digested")
    # Basics is now 50% done, Optimization 0%: the least advanced topic of the group comes first.
    assert titles(cli, "--limit", "2") == ["Opt one", "Basics two"]
    cli("mark", str(ids["Basics two"]), str(ids["Opt one"]), "digested")
    assert titles(cli, "--limit", "5") == ["GAN one", "GAN two"]


def test_reading_comes_first_and_topic_filter(cli: Cli, tmp_path: Path) -> None:
    ids = setup(cli, tmp_path)
    cli("mark", str(ids["GAN two"]), "reading", "--at", "2026-11-01")
    rows = cli.json("next", "--limit", "2")
    assert rows[0]["id"] == ids["GAN two"] and rows[0]["reason"].startswith("reading since 2026-11-01")
    assert titles(cli, "--topic", "gen") == ["GAN two", "GAN one"]
    assert cli.json("next", "--topic", "gen", "--limit", "1")[0]["id"] == ids["GAN two"]


def test_nothing_left(cli: Cli, tmp_path: Path) -> None:
    ids = setup(cli, tmp_path)
    cli("mark", *[str(i) for i in ids.values()], "digested")
    assert cli.json("next") == []
    assert "nothing left" in cli("next").stdout
