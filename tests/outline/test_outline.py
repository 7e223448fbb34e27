"""parse_outline: small Markdown inputs in, exact entries out; the real seed; list styles people keep."""

from __future__ import annotations

from tests.conftest import ROOT
from tracker.outline import Entry, Outline, parse_outline


def rows(parsed: Outline) -> list[tuple[object, ...]]:
    """(key, title, kind, done, links) of each entry, for compact expectations."""
    return [(e.key, e.title, e.kind, e.done, e.links) for e in parsed.entries]


def by_url(parsed: Outline, url: str) -> Entry:
    return next(e for e in parsed.entries if e.url == url)


def test_headings_sections_and_title() -> None:
    parsed = parse_outline(
        "Text before any heading\n\nSetext *Title*\n=============\n\n## Sub `code` [link](http://h.com)\n\n"
        "### Deep\n\n- [A](https://a.example.com)\n\n## Next\n\n- [B](https://b.example.com)\n"
    )
    assert parsed.title == "Setext Title"
    assert [(h.title, h.level, h.path, h.position) for h in parsed.headings] == [
        ("Setext Title", 1, ("Setext Title",), 0),
        ("Sub code link", 2, ("Setext Title", "Sub code link"), 1),
        ("Deep", 3, ("Setext Title", "Sub code link", "Deep"), 2),
        ("Next", 2, ("Setext Title", "Next"), 3),
    ]
    assert [e.section for e in parsed.entries] == [("Setext Title", "Sub code link", "Deep"), ("Setext Title", "Next")]


def test_title_falls_back_to_first_heading_then_empty() -> None:
    assert parse_outline("### Only H3\n\n# Later H1\n").title == "Later H1"
    assert parse_outline("### Only H3\n").title == "Only H3"
    assert parse_outline("- [a](http://a.com)\n").title == ""


def test_lists_tasks_and_nesting() -> None:
    parsed = parse_outline(
        "- [x] [Done thing](https://example.com/done)\n"
        "- [ ] [Todo thing](https://example.com/todo)\n"
        "1. [Numbered](https://example.com/n1)\n"
        "2. [Numbered two](https://example.com/n2)\n"
        "   - [Nested child](https://example.com/child)\n"
        "     continued here\n"
        "+ [X] 《Task Book》\n"
    )
    assert rows(parsed) == [
        ("https://example.com/done", "Done thing", "page", True, ()),
        ("https://example.com/todo", "Todo thing", "page", False, ()),
        ("https://example.com/n1", "Numbered", "page", None, ()),
        ("https://example.com/n2", "Numbered two", "page", None, ()),
        ("https://example.com/child", "Nested child", "page", None, ()),
        ("title:《task book》", "《Task Book》", "book", True, ()),
    ]
    assert parsed.entries[4].text == "Nested child continued here"
    assert [e.position for e in parsed.entries] == list(range(6))


def test_parent_item_and_children_are_separate_blocks() -> None:
    parsed = parse_outline("- [Parent](https://p.example.com) notes\n  - [Child](https://c.example.com)\n")
    assert [(e.title, e.text, e.links) for e in parsed.entries] == [
        ("Parent", "Parent notes", ()), ("Child", "Child", ())]


def test_several_titled_links_in_one_block_are_several_entries() -> None:
    parsed = parse_outline("Read [A page](https://a.example.com), [B page](https://b.example.com) "
                           "and [C page](https://c.example.com).\n")
    assert [(e.title, e.text) for e in parsed.entries] == [
        ("A page", "Read A page,"), ("B page", "B page and"), ("C page", "C page.")]


def test_titled_link_with_generic_and_bare_links_is_one_entry() -> None:
    parsed = parse_outline(
        "- [ResNet](https://github.com/o/resnet) [pdf](https://arxiv.org/pdf/1512.03385v2.pdf) "
        "[code](https://github.com/o/code) see https://mirror.example.com/resnet。\n"
    )
    assert rows(parsed) == [("https://github.com/o/resnet", "ResNet", "repo", None, (
        "https://arxiv.org/abs/1512.03385", "https://github.com/o/code", "https://mirror.example.com/resnet"))]


def test_bold_or_quoted_title_keeps_one_entry() -> None:
    parsed = parse_outline("**ResNet** [Paper page](https://a.example.com/p) [Torch code](https://github.com/o/r)\n")
    assert rows(parsed) == [("https://a.example.com/p", "Paper page", "page", None, ("https://github.com/o/r",))]


def test_awesome_list_lead_link_with_description() -> None:
    parsed = parse_outline(
        "* [CS231n](http://cs231n.stanford.edu/) - Convolutional Neural Networks, with "
        "[notes](http://cs231n.github.io/) by [Karpathy](https://karpathy.ai/).\n"
    )
    assert rows(parsed) == [("http://cs231n.stanford.edu/", "CS231n", "course", None,
                             ("http://cs231n.github.io/", "https://karpathy.ai/"))]


def test_generic_link_titles_come_from_the_entry_text() -> None:
    parsed = parse_outline(
        "# Reading\n\n"
        "- **Deep Learning Book** by Goodfellow [pdf](https://z.example.com/dlb.pdf) [code](https://github.com/o/d)\n"
        '- Author. "Some Quoted Title". NIPS. [link](https://q.example.com/1)\n'
        "- 「日本語のタイトル」 [原文](https://jp.example.com/1)\n"
        "- 《花书》 第二版 [PDF](https://y.example.com/dl.pdf)\n"
        "- **[12]** Some description of a thing, followed by [链接](https://l.example.com/1)。\n"
        "- [知乎](https://www.zhihu.com/question/1)\n"
        "- [https://raw.example.com/x](https://raw.example.com/x)\n"
        "- <https://auto.example.com/y>\n"
    )
    assert [(e.title, e.kind) for e in parsed.entries] == [
        ("Deep Learning Book", "paper"),
        ("Some Quoted Title", "page"),
        ("日本語のタイトル", "page"),
        ("《花书》", "paper"),
        ("Some description of a thing, followed by", "page"),
        ("Reading", "question"),
        ("Reading", "page"),
        ("Reading", "page"),
    ]


def test_generic_link_alone_takes_the_paragraph_before_else_heading_else_host_path() -> None:
    parsed = parse_outline(
        "## Notes\n\n需要说明的是：l1 相比于 l2 会更容易获得稀疏解\n\n"
        "[知乎](https://www.zhihu.com/question/37096933/answer/7)\n"
    )
    assert rows(parsed) == [("https://www.zhihu.com/question/37096933/answer/7",
                             "需要说明的是：l1 相比于 l2 会更容易获得稀疏解", "question", None, ())]
    heading = parse_outline("## Regularization\n\n[pdf](https://a.example.com/x.pdf)\n")
    assert heading.entries[0].title == "Regularization"
    # A heading that is itself a generic word is no title either.
    assert parse_outline("## Notes\n\n[pdf](https://a.example.com/x.pdf)\n").entries[0].title == "a.example.com/x.pdf"
    assert parse_outline("[pdf](https://a.example.com/x/y.pdf)\n").entries[0].title == "a.example.com/x/y.pdf"


def test_books_and_bracketed_titles_without_links() -> None:
    parsed = parse_outline(
        "- 《深度学习》 and 《机器学习》 两本书\n- 《神经网络设计(原书第 2 版) 》\n"
        "- [哪里有受限玻尔兹曼机的讲解课程？]\n- [A bracketed page title]\n- [1]\n"
        "- 《动手学深度学习》[Dive-into-DL-PyTorch](https://github.com/ShusenTang/Dive-into-DL-PyTorch) PyTorch\n"
    )
    assert rows(parsed) == [
        ("title:《深度学习》", "《深度学习》", "book", None, ()),
        ("title:《机器学习》", "《机器学习》", "book", None, ()),
        ("title:《神经网络设计(原书第 2 版)》", "《神经网络设计(原书第 2 版)》", "book", None, ()),
        ("title:哪里有受限玻尔兹曼机的讲解课程？", "哪里有受限玻尔兹曼机的讲解课程？", "question", None, ()),
        ("title:a bracketed page title", "A bracketed page title", "page", None, ()),
        ("https://github.com/ShusenTang/Dive-into-DL-PyTorch", "Dive-into-DL-PyTorch", "repo", None, ()),
    ]
    assert [line.text for line in parsed.lines] == ["[1]"]


def test_topic_lines_and_their_blank_line_groups() -> None:
    parsed = parse_outline(
        "## Topics\n\n- intro\n- basics\n\n- cnn\n\n\n- rnn\n- gan\n\nA paragraph.\n\n- meta\n"
        "1. numbered\n\n## Other\n\n- [a link](https://x.example.com)\n- plain again\n"
    )
    assert [(line.text, line.group, line.section) for line in parsed.lines] == [
        ("intro", 0, ("Topics",)), ("basics", 0, ("Topics",)), ("cnn", 1, ("Topics",)),
        ("rnn", 2, ("Topics",)), ("gan", 2, ("Topics",)), ("meta", 3, ("Topics",)),
        ("numbered", 3, ("Topics",)), ("plain again", 0, ("Other",)),
    ]
    assert [line.position for line in parsed.lines] == list(range(8))


def test_link_forms_and_what_is_ignored() -> None:
    parsed = parse_outline(
        "[Ref link][r1] and [another][] here.\n\n[r1]: https://ref.example.com/one\n"
        "[another]: https://ref.example.com/two\n\n"
        '<a href="https://html.example.com/">HTML anchor</a> and ![img](https://img.example.com/i.png)\n\n'
        '<div>\n<a href="https://block.example.com/">Block anchor</a>\n<img src="https://img.example.com/x.png">\n'
        '<!-- <a href="https://comment.example.com/">hidden</a> -->\n</div>\n\n'
        "```\n[in code](https://code.example.com/)\n```\n\n    [indented](https://code2.example.com/)\n\n"
        "- [mail](mailto:a@b.c) [js](javascript:alert(1)) [rel](docs/x.md)\n"
        "- `torch.nn` basics and https://bare.example.com `http://in-code.example.com`\n"
        "- [![badge](https://img.shields.io/b.svg)](https://ci.example.com/)\n"
    )
    assert [(e.title, e.url) for e in parsed.entries] == [
        ("Ref link", "https://ref.example.com/one"),
        ("another", "https://ref.example.com/two"),
        ("HTML anchor", "https://html.example.com/"),
        ("Block anchor", "https://block.example.com/"),
        ("torch.nn basics and", "https://bare.example.com/"),
    ]
    assert parsed.lines == ()


def test_bare_urls_lose_trailing_punctuation() -> None:
    parsed = parse_outline(
        "- 见 https://a.example.com/path（中文）。\n- (see http://b.example.com/a_(b)).\n- www.c.example.org，好\n"
        "- https://d.example.com/x?y=1&utm_source=z\n"
    )
    assert [e.url for e in parsed.entries] == [
        "https://a.example.com/path", "http://b.example.com/a_(b)", "http://www.c.example.org/",
        "https://d.example.com/x?y=1"]
    assert parsed.entries[0].title == "见 （中文）"


def test_table_rows_are_blocks() -> None:
    parsed = parse_outline(
        "| Name | Link |\n|------|------|\n| Row one | [pdf](https://t.example.com/1.pdf) |\n"
        "| [Row two](https://t.example.com/2) | note |\n"
    )
    assert [(e.title, e.url, e.text) for e in parsed.entries] == [
        ("Row one", "https://t.example.com/1.pdf", "Row one | pdf"),
        ("Row two", "https://t.example.com/2", "Row two | note"),
    ]


def test_duplicates_keep_the_first_and_arxiv_links_are_one_paper() -> None:
    parsed = parse_outline(
        "- [First](https://www.zhihu.com/question/9)\n- [Again](https://www.zhihu.com/question/9?rf=3)\n"
        "- [ResNet](https://arxiv.org/abs/1512.03385v2)\n- [ResNet pdf](http://arxiv.org/pdf/1512.03385.pdf)\n"
        "- 《书》\n- 《书》 again\n"
    )
    assert rows(parsed) == [
        ("https://www.zhihu.com/question/9", "First", "question", None, ()),
        ("arxiv:1512.03385", "ResNet", "paper", None, ()),
        ("title:《书》", "《书》", "book", None, ()),
    ]
    assert parsed.entries[1].url == "https://arxiv.org/abs/1512.03385"
    assert parsed.entries[1].arxiv_id == "1512.03385"


def test_paper_page_with_arxiv_link_is_keyed_by_arxiv() -> None:
    parsed = parse_outline('"**Rethinking Inception**." CVPR. [[pdf]](http://openaccess.thecvf.com/x.pdf) '
                           "[[arXiv]](https://arxiv.org/abs/1512.00567v3)\n")
    assert rows(parsed) == [("arxiv:1512.00567", "Rethinking Inception", "paper", None,
                             ("https://arxiv.org/abs/1512.00567",))]
    assert parsed.entries[0].url == "http://openaccess.thecvf.com/x.pdf"


def test_paper_roadmap_style() -> None:
    parsed = parse_outline(
        "# Deep Learning Papers Reading Roadmap\n\n## 1 Deep Learning History and Basics\n\n### 1.1 Survey\n\n"
        '**[1]** LeCun, Yann, Yoshua Bengio, and Geoffrey Hinton. "**Deep learning**." Nature 521.7553 (2015): '
        "436-444. [[pdf]](http://www.cs.toronto.edu/~hinton/absps/NatureDeepReview.pdf) **(Three Giants' Survey)** "
        ":star::star::star::star::star:\n\n### 1.2 Deep Belief Network(DBN)\n\n"
        '**[1]** Hinton, G. E., and R. R. Salakhutdinov. "**Reducing the dimensionality of data with neural '
        'networks**." Science 313.5786 (2006): 504-507. [[pdf]](http://www.cs.toronto.edu/~hinton/science.pdf) '
        "**(Milestone)**\n\n"
        '**[4]** He, Kaiming, et al. "**Deep residual learning for image recognition**." arXiv preprint '
        "arXiv:1512.03385 (2015). [[pdf]](https://arxiv.org/pdf/1512.03385.pdf) **(ResNet, CVPR best paper)**\n"
    )
    assert rows(parsed) == [
        ("http://www.cs.toronto.edu/~hinton/absps/NatureDeepReview.pdf", "Deep learning", "paper", None, ()),
        ("http://www.cs.toronto.edu/~hinton/science.pdf", "Reducing the dimensionality of data with neural networks",
         "paper", None, ()),
        ("arxiv:1512.03385", "Deep residual learning for image recognition", "paper", None, ()),
    ]
    hinton = parsed.entries[1]
    assert hinton.section == ("Deep Learning Papers Reading Roadmap", "1 Deep Learning History and Basics",
                              "1.2 Deep Belief Network(DBN)")
    assert hinton.text.startswith("[1] Hinton, G. E.") and hinton.text.endswith("[pdf] (Milestone)")


def test_awesome_list_style() -> None:
    parsed = parse_outline(
        "# Awesome Deep Learning [![Awesome](https://awesome.re/badge.svg)](https://awesome.re)\n\n"
        "## Contents\n\n- [Books](#books)\n- [Courses](#courses)\n\n## Books\n\n"
        "1. [Deep Learning](http://www.deeplearningbook.org/) by Yoshua Bengio, Ian Goodfellow and Aaron Courville\n"
        "2. [Neural Networks and Deep Learning](http://neuralnetworksanddeeplearning.com/) by Michael Nielsen\n\n"
        "## Courses\n\n"
        "* [Machine Learning - Stanford](https://class.coursera.org/ml-005) by Andrew Ng in Coursera (2010-2014)\n"
        "* [Caffe](http://caffe.berkeleyvision.org/) - Deep learning framework by [BVLC](http://bvlc.eecs.berkeley.edu/)\n\n"
        "## Frameworks\n\n* [TensorFlow](https://github.com/tensorflow/tensorflow), "
        "[PyTorch](https://github.com/pytorch/pytorch)\n"
    )
    assert parsed.title == "Awesome Deep Learning"
    assert [(e.title, e.kind, e.section[-1], e.links) for e in parsed.entries] == [
        ("Deep Learning", "book", "Books", ()),
        ("Neural Networks and Deep Learning", "page", "Books", ()),
        ("Machine Learning - Stanford", "course", "Courses", ()),
        ("Caffe", "page", "Courses", ("http://bvlc.eecs.berkeley.edu/",)),
        ("TensorFlow", "repo", "Frameworks", ()),
        ("PyTorch", "repo", "Frameworks", ()),
    ]
    assert parsed.lines == ()


def test_odd_input_does_not_raise() -> None:
    for text in ("", "\n\n", "#", "- ", "[", "](", "[a](", "<a href=", "<!--", "```", "\x00\r\n\r", "\ufeff# T",
                 "- [x]", "*" * 50, "[" * 100 + "]" * 100 + "(http://a.com)", "> " * 30 + "[a](http://q.com)"):
        parse_outline(text)
    assert parse_outline("\ufeff# Title\r\n\r\n- [a](http://a.com)\r\n").title == "Title"


# --- the learner's own outline --------------------------------------------------------

SEED = (ROOT / "seeds" / "deep-learning.md").read_text(encoding="utf-8")


def test_seed_outline_facts() -> None:
    parsed = parse_outline(SEED)
    assert parsed.title == "大纲"
    assert [h.title for h in parsed.headings] == ["大纲", "主要内容", "需要消化的", "补充"]
    # 90 distinct links (92 written, two written twice), five books and one bracketed question.
    assert len(parsed.entries) == 96
    assert len({e.key for e in parsed.entries}) == 96


def test_seed_topic_lines() -> None:
    parsed = parse_outline(SEED)
    assert len(parsed.lines) == 22
    assert {line.section for line in parsed.lines} == {("大纲", "主要内容")}
    groups = [line.group for line in parsed.lines]
    assert [groups.count(g) for g in range(5)] == [5, 3, 8, 5, 1]
    assert parsed.lines[0].text == "介绍" and parsed.lines[-1].text == "automl"
    assert not [e for e in parsed.entries if e.section == ("大纲", "主要内容")]


def test_seed_entries() -> None:
    parsed = parse_outline(SEED)
    zhihu = by_url(parsed, "https://www.zhihu.com/question/37096933/answer/70507353")
    assert zhihu.title == "需要说明的是：l1 相比于 l2 会更容易获得稀疏解"
    assert zhihu.section == ("大纲", "补充")
    twins = [e for e in parsed.entries if e.url == "https://www.zhihu.com/question/38098038"]
    assert len(twins) == 1
    assert twins[0].title == "卷积神经网络的卷积核大小、卷积层数、每层 map 个数都是如何确定下来的呢？"
    assert by_url(parsed, "https://www.zhihu.com/question/27239198").title == "如何直观地解释 backpropagation 算法？"
    books = {e.title for e in parsed.entries if e.kind == "book" and e.url is None}
    assert books == {"《机器学习实践应用》", "《神经网络设计(原书第 2 版)》", "《python神经网络编程》",
                     "《解析卷积神经网络》", "《精通数据科学：从线性回归到深度学习》"}
    question = next(e for e in parsed.entries if e.key.startswith("title:哪里有"))
    assert question.title == "哪里有受限玻尔兹曼机、卷积神经网络 的讲解课程？"
    assert (question.kind, question.url) == ("question", None)
    assert not [e for e in parsed.entries if "images.iterate.site" in (e.url or "") + "".join(e.links)]
    d2l = [e for e in parsed.entries if "d2l" in (e.url or "")]
    assert [(e.url, e.kind, e.title, e.links) for e in d2l] == [
        ("https://github.com/d2l-ai/d2l-zh", "repo", "d2l-zh", ("http://zh.d2l.ai/",))]
    assert by_url(parsed, "http://lamda.nju.edu.cn/weixs/book/CNN_book.html").kind == "book"
    assert by_url(parsed, "http://speech.ee.ntu.edu.tw/~tlkagk/courses_MLDS18.html").kind == "course"
    assert by_url(parsed, "https://www.cnblogs.com/darkknightzh/tag/DeepLearning").kind == "listing"
    assert by_url(parsed, "https://www.zhihu.com/question/51603070").title == (
        "为什么 CNN 中的卷积核一般都是奇数*奇数，没有偶数*偶数的？")
    assert all(e.done is None for e in parsed.entries)
