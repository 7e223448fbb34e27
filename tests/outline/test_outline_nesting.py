"""Nesting at any depth: every entry of a deep list or quote is read, and what follows it too.

markdown-it stops reading a document where blocks nest deeper than its limit (a list ten
levels deep at its default); the outline parser must never lose the rest of the file there.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.outline import UnreadableOutline, blocks, parse_outline
from tracker.outline import parse as outline


def _deep_list(depth: int, unit: str = "  ", marker: str = "- ") -> str:
    lines = ["# Deep", ""]
    lines += [unit * level + marker + f"[item {level}](https://e.example/{level})" for level in range(depth)]
    lines += ["", "# After", "", "- [after one](https://e.example/after1)", "- [after two](https://e.example/after2)"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("depth", [9, 10, 11, 12, 20, 31, 32, 33, 60, 300])
@pytest.mark.parametrize("fast", [True, False])
def test_a_deep_list_keeps_every_entry_and_what_follows(depth: int, fast: bool) -> None:
    parsed = outline._parse(_deep_list(depth), fast)
    titles = [entry.title for entry in parsed.entries]
    assert titles == [f"item {level}" for level in range(depth)] + ["after one", "after two"]
    assert [entry.section for entry in parsed.entries[-2:]] == [("After",), ("After",)]
    assert [heading.title for heading in parsed.headings] == ["Deep", "After"]


@pytest.mark.parametrize(("unit", "marker"), [("    ", "1. "), ("   ", "* "), ("\t", "- "), ("  ", "+ ")])
def test_deep_lists_of_every_marker(unit: str, marker: str) -> None:
    parsed = parse_outline(_deep_list(45, unit, marker))
    assert len(parsed.entries) == 47
    assert parsed.entries[-1].section == ("After",)


@pytest.mark.parametrize("depth", [15, 25, 70, 500])
def test_deep_quotes_keep_every_entry(depth: int) -> None:
    text = ">" * depth + " [quoted](https://q.example/a)\n\n# After\n\n- [after](https://e.example/after)\n"
    assert [entry.title for entry in parse_outline(text).entries] == ["quoted", "after"]


def test_quotes_and_lists_mixed_deeply() -> None:
    lines = ["> " * level + f"- [mixed {level}](https://m.example/{level})" for level in range(80)]
    text = "\n".join(lines) + "\n\n## Later\n\n- [later](https://e.example/later)\n"
    parsed = parse_outline(text)
    assert {entry.title for entry in parsed.entries} == {f"mixed {n}" for n in range(80)} | {"later"}
    assert parsed.entries[-1].section == ("Later",)


def test_ticked_boxes_survive_flattening() -> None:
    lines = ["  " * level + f"- [{'x' if level % 2 else ' '}] [box {level}](https://b.example/{level})"
             for level in range(40)]
    parsed = parse_outline("\n".join(lines) + "\n")
    assert [entry.done for entry in parsed.entries] == [bool(level % 2) for level in range(40)]


def test_shallow_lists_are_not_flattened() -> None:
    # Nesting markdown-it reads whole keeps its structure: the second paragraph stays with its item.
    text = "\n".join("  " * level + f"- [n{level}](https://n.example/{level})" for level in range(20))
    text += "\n\n" + "  " * 20 + "words of the last item\n"
    parsed = outline._parse(text, fast=False)
    assert len(parsed.entries) == 20 and not parsed.lines


def test_flatten_containers_keeps_lines_in_place() -> None:
    text = "  - a\n    > - b\n\n>> c\n  3. d\n   -\nplain\n  - [ ] e"
    flat = blocks.flatten_containers(text)
    assert flat.split("\n") == ["- a", "- b", "", "c", "- d", "", "plain", "- [ ] e"]


def test_a_part_that_still_cannot_be_read_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Should flattening ever leave a part unread, the parser says so instead of dropping it.
    monkeypatch.setattr(blocks, "flatten_containers", lambda text: text)
    with pytest.raises(UnreadableOutline, match="line 3"):
        parse_outline(_deep_list(40))


_LEVELS = st.lists(st.integers(0, 80), min_size=1, max_size=60)


_PREFIXES = {
    "bullets": lambda depth: "  " * depth + "- ",
    "numbers": lambda depth: "   " * depth + "1. ",
    "quoted list": lambda depth: "> " + "  " * depth + "* ",
    "quotes": lambda depth: ">" * (depth + 1) + " ",
    "quotes in lists": lambda depth: "- > " * depth + "- ",
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LEVELS, st.sampled_from(sorted(_PREFIXES)))
def test_any_nesting_keeps_every_link(levels: list[int], form: str) -> None:
    # Each line goes at most one level deeper than the one before, as a list can.
    lines, depth = [], -1
    for number, wanted in enumerate(levels):
        depth = min(wanted, depth + 1)
        lines.append(_PREFIXES[form](depth) + f"[n{number}](https://n.example/{number})")
    text = "\n".join(lines) + "\n\n# End\n\n- [end](https://e.example/end)\n"
    for fast in (True, False):
        parsed = outline._parse(text, fast)
        found = [entry.url for entry in parsed.entries]
        assert found == [f"https://n.example/{n}" for n in range(len(levels))] + ["https://e.example/end"]
        assert parsed.entries[-1].section == ("End",)
