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
    # arXiv's title is the paper's; the reading list's own name for it is a note.
    assert entries["he2015deep"].fields["year"] == "2015"
    assert entries["he2015deep"].fields["title"] == "{Deep Residual Learning}"
    assert entries["he2015deep"].fields["note"] == "ResNet"
    # No authors known yet: keyed by the year in the id and the title.
    assert entries["arxiv2017attention"].fields["title"] == "{Attention, metadata unknown}"
    assert "author" not in entries["arxiv2017attention"].persons


def test_curated_words_go_to_note_and_every_export_uses_the_arxiv_title(cli, database: dbmod.Database,
                                                                         tmp_path) -> None:
    import csv
    import io
    import json

    outline = tmp_path / "list.md"
    outline.write_text("# 论文\n\n- [x] [捷径连接的实证研究 shortcut study](https://arxiv.org/pdf/1512.03385v1.pdf&embed)\n"
                       "- [Attention Is All You Need](https://arxiv.org/abs/1706.03762)\n", encoding="utf-8")
    cli("import", str(outline))
    with database.write() as conn:
        store_papers(conn, [record("1512.03385", version=2, title="Deep Residual Learning for Image Recognition",
                                   authors=("Kaiming He",), published=datetime(2015, 12, 10)),
                            record("1706.03762", title="Attention Is All You Need", authors=("Ashish Vaswani",),
                                   published=datetime(2017, 6, 12))], datetime(2026, 11, 25))
    entries = parse_string(cli("export", "--format", "bibtex").stdout, "bibtex").entries
    resnet = entries["he2015deep"]
    assert resnet.fields["title"] == "{Deep Residual Learning for Image Recognition}"
    assert resnet.fields["note"] == "捷径连接的实证研究 shortcut study"
    assert "note" not in entries["vaswani2017attention"].fields  # the same words: nothing to note

    rows = list(csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout)))
    assert [r["title"] for r in rows] == ["Deep Residual Learning for Image Recognition", "Attention Is All You Need"]
    exported = json.loads(cli("export", "--format", "json").stdout)
    assert exported[0]["title"] == "Deep Residual Learning for Image Recognition"
    assert exported[0]["curated_title"] == "捷径连接的实证研究 shortcut study"
    # The outline again keeps the learner's words, so it imports back unchanged.
    assert "捷径连接的实证研究 shortcut study" in cli("export", "--format", "markdown").stdout

    shown = cli.json("show", "1512.03385")
    assert shown["title"] == "捷径连接的实证研究 shortcut study"
    assert (shown["paper"]["title"], shown["paper"]["version"]) == ("Deep Residual Learning for Image Recognition", 2)
    text = " ".join(cli("show", "1512.03385").stdout.split())  # rich wraps at the terminal's width
    assert text.startswith("捷径连接的实证研究 shortcut study — arXiv: "
                           "Deep Residual Learning for Image Recognition (v2) (#")
    assert "— arXiv:" not in cli("show", "1706.03762").stdout  # the titles agree: said once
