"""BibTeX export: valid for a real BibTeX parser, eprint fields, unique keys, escaped text."""

from __future__ import annotations

from datetime import datetime

import pytest
from pybtex.database import parse_string

from tests.papers.records_factory import record
from tracker.bibtex import PaperRef, cite_key, render
from tracker.papers.store import store_papers
from tracker.store import db as dbmod


def test_entries_parse_with_pybtex_and_keep_their_fields() -> None:
    refs = [PaperRef("1512.03385", "Deep Residual Learning for Image Recognition", ("Kaiming He", "Xiangyu Zhang"),
                     2015, "cs.CV", doi="10.1109/CVPR.2016.90"),
            PaperRef("1512.09999", "Deep {tricks} & 100% of $x_1$ ~ ^ #hash \\ back", ("Jürgen Schmidhuber",), 2015),
            PaperRef("hep-th/9901001", "Strings", ("Edward Witten",), 1999, "hep-th")]
    data = parse_string(render(refs), "bibtex")
    assert list(data.entries) == ["he2015deep", "schmidhuber2015deep", "witten1999strings"]
    he = data.entries["he2015deep"]
    assert he.type == "misc"
    assert he.fields["eprint"] == "1512.03385" and he.fields["archivePrefix"] == "arXiv"
    assert he.fields["primaryClass"] == "cs.CV" and he.fields["doi"] == "10.1109/CVPR.2016.90"
    assert [str(p) for p in he.persons["author"]] == ["He, Kaiming", "Zhang, Xiangyu"]
    tricky = data.entries["schmidhuber2015deep"].fields["title"]
    assert r"\{tricks\}" in tricky and r"\&" in tricky and r"\%" in tricky and r"\$x\_1\$" in tricky
    assert data.entries["witten1999strings"].fields["eprint"] == "hep-th/9901001"


def test_colliding_keys_get_letters() -> None:
    refs = [PaperRef(f"2401.0000{i}", "Attention is all", ("A Smith",), 2024) for i in range(3)]
    keys = list(parse_string(render(refs), "bibtex").entries)
    assert keys == ["smith2024attention", "smith2024attentiona", "smith2024attentionb"]


@pytest.mark.parametrize(("authors", "title", "expected"), [
    ((), "深度学习", "arxiv240100001"),
    (("Ángel Núñez",), "The art of GANs", "nunez2024art"),
])
def test_keys_are_ascii(authors: tuple[str, ...], title: str, expected: str) -> None:
    assert cite_key(PaperRef("2401.00001", title, authors, 2024)) == expected


def test_export_bibtex_covers_reading_list_papers_only(cli, database: dbmod.Database, tmp_path) -> None:
    outline = tmp_path / "list.md"
    outline.write_text("- [ResNet](https://arxiv.org/abs/1512.03385)\n- [Attention, metadata unknown](https://arxiv.org/pdf/1706.03762v5)\n"
                       "- [A blog](https://example.org/post)\n", encoding="utf-8")
    cli("import", str(outline))
    with database.write() as conn:
        store_papers(conn, [record("1512.03385", title="Deep Residual Learning", authors=("Kaiming He",),
                                   published=datetime(2015, 12, 10))], datetime(2026, 11, 25))
        store_papers(conn, [record("2411.00001")], datetime(2026, 11, 25))  # still in the inbox
    text = cli("export", "--format", "bibtex").stdout
    entries = parse_string(text, "bibtex").entries
    assert sorted(e.fields["eprint"] for e in entries.values()) == ["1512.03385", "1706.03762"]
    assert entries["he2015resnet"].fields["year"] == "2015"
    # No authors known yet: keyed by the year in the id and the title.
    assert entries["arxiv2017attention"].fields["title"] == "{Attention, metadata unknown}"
    assert "author" not in entries["arxiv2017attention"].persons
