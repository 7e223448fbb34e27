"""Random Markdown-ish text: parse_outline never raises, keeps its invariants, and its fast paths
agree with markdown-it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.outline import parse as outline
from tracker.outline.text import GENERIC_WORDS

KINDS = {"paper", "question", "article", "listing", "repo", "book", "course", "page"}

_URLS = st.sampled_from([
    "http://example.com/a_b", "https://www.zhihu.com/question/123?rf=9", "https://www.zhihu.com/question/123",
    "https://arxiv.org/abs/1512.03385v2", "https://arxiv.org/pdf/1512.03385.pdf", "www.example.org/x",
    "https://github.com/o/r", "http://a.com/(x)", "mailto:a@b.c", "javascript:alert(1)", "rel/path.md",
    "https://zh.wikipedia.org/wiki/深度学习", "http://x.com/p?a=1&b=2", "<http://angle.com/x>", "",
])
_WORDS = st.sampled_from([
    "deep", "学习", "神经网络", "the paper", "pdf", "知乎", "code", "《深度学习》", "《书》", "1512.03385",
    "arXiv:1512.03385v2", "[1]", "**[12]**", "**", "*", "_", "__", "`", "``", "[", "]", "(", ")", "[x]", "[ ]",
    "![img](http://i.com/a.png)", '<a href="http://a.com/x">A</a>', "<a href='http://b.com'><img src=x></a>",
    "<!-- [c](http://c.com) -->", "<br>", "&amp;", "&", "\\", "\\*", "http://example.com/a_b",
    "www.example.org", "http://t.co/x）。", "https://www.zhihu.com/question/9?rf=1", "：", "，", "。", "）", "“", "”",
    '"', "|", "#", ">", ":", "~", "\t", " ", "-", "!", "&#42;", "7*7", "a**b**c", "**bold**", "*em*", "_x_",
    "foo_bar", "<http://auto.link/x>", "[ref]", "[ref][]", "[x][ref]", "?", "？",
])
_LINK = st.builds(lambda text, url: f"[{text}]({url})", st.sampled_from(["", "A", "pdf", "知乎", "Deep Nets", "[pdf]",
                                                                         "**B**", "x_y", "`c`", "1"]), _URLS)
_INLINE = st.lists(st.one_of(_WORDS, _LINK, st.text(max_size=6)), max_size=7).flatmap(
    lambda parts: st.sampled_from([" ", "", "\n"]).map(lambda sep: sep.join(parts)))
_LINE = st.one_of(
    _INLINE,
    st.builds(lambda level, text: "#" * level + " " + text, st.integers(1, 7), _INLINE),
    st.builds(lambda indent, marker, gap, text: " " * indent + marker + gap + text,
              st.integers(0, 7), st.sampled_from(["-", "*", "+", "1.", "2)", "10.", "0."]),
              st.sampled_from([" ", "  ", "     ", "\t", ""]), _INLINE),
    st.sampled_from(["", "", "  ", "```", "~~~", "    code [a](http://code.com)", "---", "===", "***",
                     "| a | [b](http://t.com/b) |", "|---|---|", "| c | d |", "> quote [q](http://q.com)", "<div>",
                     "</div>", "<!--", "-->", "[ref]: http://ref.example/x", "[x]: <http://x.y>", "Title", "-",
                     "- [ ]", "* * *", "1.", "Setext", "<p>[p](http://p.com)</p>", "\t- tab", "<pre>", "</pre>",
                     "  ```", "<script>", "</script>", "<!-- c -->"]),
)
_DOC = st.lists(_LINE, max_size=24).map("\n".join)
_CHECKS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_invariants(parsed: outline.Outline) -> None:
    keys = [entry.key for entry in parsed.entries]
    assert len(keys) == len(set(keys))
    assert [entry.position for entry in parsed.entries] == list(range(len(keys)))
    assert [line.position for line in parsed.lines] == list(range(len(parsed.lines)))
    assert [heading.position for heading in parsed.headings] == list(range(len(parsed.headings)))
    for entry in parsed.entries:
        assert entry.title and entry.title.casefold() not in GENERIC_WORDS
        assert entry.kind in KINDS
        assert entry.url is None or entry.url.startswith(("http://", "https://"))
        assert entry.key == (f"arxiv:{entry.arxiv_id}" if entry.arxiv_id else entry.url or entry.key)
        assert entry.url not in entry.links
    for line in parsed.lines:
        assert line.text and line.group >= 0


@_CHECKS
@given(_DOC)
def test_never_raises_and_keeps_invariants(text: str) -> None:
    _check_invariants(outline.parse_outline(text))


@_CHECKS
@given(_DOC)
def test_fast_paths_agree_with_markdown_it(text: str) -> None:
    assert outline._parse(text, fast=True) == outline._parse(text, fast=False)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    _check_invariants(outline.parse_outline(text))
    assert outline._parse(text, fast=True) == outline._parse(text, fast=False)
