"""Topics files: the shipped one ties the outline's topic list; malformed ones are one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tracker.errors import InputError
from tracker.topics import load_topics_file, parse_topics, topics_file_for


def outline_topic_groups() -> list[list[str]]:
    """The lines under `## 主要内容` of the shipped outline, in their blank-line groups."""
    text = (ROOT / "seeds" / "deep-learning.md").read_text(encoding="utf-8")
    block = text.split("## 主要内容", 1)[1].split("\n## ", 1)[0]
    groups = [re.findall(r"^- (.+)$", part, re.M) for part in re.split(r"\n\s*\n", block)]
    return [g for g in groups if g]


def test_shipped_topics_tie_the_outline_list() -> None:
    topics = load_topics_file(ROOT / "seeds" / "deep-learning.topics.toml")
    groups = outline_topic_groups()
    assert [t.title for t in topics] == [line for g in groups for line in g]
    assert len(topics) == 22 and len(groups) == 5
    expected_groups = [i + 1 for i, g in enumerate(groups) for _ in g]
    assert [t.group for t in topics] == expected_groups
    assert all(t.query and t.categories and t.aliases for t in topics)
    assert len({t.slug for t in topics}) == 22


def test_topics_file_beside_its_outline(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    assert topics_file_for(tmp_path / "a.md") is None
    (tmp_path / "a.topics.toml").write_text("", encoding="utf-8")
    assert topics_file_for(tmp_path / "a.md") == tmp_path / "a.topics.toml"


@pytest.mark.parametrize("text, message", [
    ("[[topic]\nslug=", "not valid TOML"),
    ("title = 'x'", "no [[topic]]"),
    ("[[topic]]\ntitle = 'A'", "`slug`"),
    ("[[topic]]\nslug = 'Bad Slug'\ntitle = 'A'", "`slug`"),
    ("[[topic]]\nslug = 'a'", "`title` is missing"),
    ("[[topic]]\nslug = 'a'\ntitle = 'A'\n[[topic]]\nslug = 'a'\ntitle = 'B'", "used twice"),
    ("[[topic]]\nslug = 'a'\ntitle = 'A'\naliases = 'cnn'", "list of strings"),
    ("[[topic]]\nslug = 'a'\ntitle = 'A'\ngroup = 'one'", "whole number"),
    ("[[topic]]\nslug = 'a'\ntitle = 'A'\nparent = 'zz'", "unknown parent"),
])
def test_malformed_topics_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_topics(text, "x.topics.toml")


def test_unreadable_topics_files(tmp_path: Path) -> None:
    bad = tmp_path / "b.topics.toml"
    bad.write_bytes(b"\xff\xfe[[topic]]")
    with pytest.raises(InputError, match="not UTF-8"):
        load_topics_file(bad)
    with pytest.raises(InputError, match="directory"):
        load_topics_file(tmp_path)
